// SPDX-License-Identifier: Apache-2.0
#include "report/claims.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "config/error.h"

namespace attnsim::report {
namespace {

constexpr double kTolerance = 0.10;  // a claim missed by at most 10 % holds

bool higher_is_better(const std::string& metric) {
  return metric == "tokens_per_s" || metric == "mfu" || metric == "speedup";
}

// The point of `strategy` (a strategy or series name) in cell (g, s); kNone if none.
std::size_t find_point(const Results& results, const Projection& projection, std::size_t g,
                       std::size_t s, const std::string& strategy) {
  for (std::size_t k = 0; k < projection.series.size(); ++k) {
    const std::size_t i = projection.at(k, g, s);
    if (i != kNone &&
        (results.points[i].strategy == strategy || projection.series[k] == strategy)) {
      return i;
    }
  }
  return kNone;
}

// The skipped sweep point a claim names, if the sweep skipped it: every axis the skip's
// parameters give (GPU count, sequence length, strategy) agrees with the claim's.
const Skipped* skipped_for(const Results& results, const Claim& claim) {
  if (claim.strategy.empty()) {
    return nullptr;
  }
  for (const Skipped& k : results.skipped) {
    const nlohmann::json& p = k.parameters;
    const auto agrees = [&p](const char* key, const nlohmann::json& want) {
      return !p.contains(key) || p[key] == want;
    };
    // The strategy swept alone, or inside a swept "parallelism" section.
    const bool strategy_agrees = agrees("parallelism.strategy", claim.strategy) &&
                                 (!p.contains("parallelism") || !p["parallelism"].is_object() ||
                                  p["parallelism"].value("strategy", "") == claim.strategy);
    if (agrees("gpus", claim.gpus) && agrees("workload.sequence_length", claim.sequence_length) &&
        strategy_agrees) {
      return &k;
    }
  }
  return nullptr;
}

std::string format_metric(const std::string& metric, double v) {
  if (metric == "tokens_per_s") {
    return format_count(v) + " tokens/s";
  }
  if (metric == "mfu") {
    return format_percent(v);
  }
  if (metric == "step_time_s") {
    return format_seconds(v);
  }
  if (metric == "memory_per_gpu_bytes") {
    return format_gigabytes(v) + " per GPU";
  }
  if (metric == "comm_bytes_per_token") {
    return format_count(v) + "B per token";
  }
  if (metric == "speedup") {
    return format_significant(v, 2) + "x";
  }
  return v != 0 ? "fits" : "does not fit";
}

std::string memory_reason(const Results& results, const Point& p) {
  std::string largest;
  double bytes = -1;
  for (const auto& [name, b] : p.memory_breakdown_bytes) {
    if (b > bytes) {
      bytes = b;
      largest = name;
    }
  }
  const double hbm = hbm_bytes_of(results, p);
  std::string out = "it needs " + format_gigabytes(p.memory_per_gpu_bytes) + " per GPU";
  if (hbm > 0) {
    out += " against " + format_gigabytes(hbm) + " of HBM";
  }
  if (!largest.empty()) {
    out += "; the largest term is " + largest + " (" + format_gigabytes(bytes) + ")";
  }
  return out;
}

std::string time_reason(const Point& p) {
  std::vector<Segment> segments = time_breakdown(p);
  std::sort(segments.begin(), segments.end(),
            [](const Segment& a, const Segment& b) { return a.seconds > b.seconds; });
  std::string out = "of the " + format_seconds(p.step_time_s) + " step";
  for (std::size_t i = 0; i < std::min<std::size_t>(2, segments.size()); ++i) {
    if (segments[i].seconds <= 0) {
      break;
    }
    out += (i == 0 ? ", " : " and ") + segments[i].name + " takes " +
           format_percent(segments[i].seconds / p.step_time_s);
  }
  if (!p.bottleneck.link_class.empty()) {
    out += "; the busiest link is " + p.bottleneck.link_class + " at " +
           format_percent(p.bottleneck.utilization);
  }
  return out;
}

}  // namespace

const std::vector<std::string>& claim_metrics() {
  static const std::vector<std::string> names = {
      "tokens_per_s",         "mfu",         "step_time_s", "memory_per_gpu_bytes",
      "comm_bytes_per_token", "fits_memory", "speedup"};
  return names;
}

std::vector<Claim> parse_claims(const config::Node& claims) {
  std::vector<Claim> out;
  for (const config::Node& c : claims.elements("an array of claims")) {
    Claim claim;
    claim.text = c.string("text");
    claim.gpus = c.count("gpus");
    claim.sequence_length = c.count("sequence_length");
    claim.strategy = c.string_or("strategy", "");
    claim.metric = c.one_of("metric", claim_metrics());
    static const std::vector<std::string> kinds = {"claim", "measurement"};
    claim.measurement = c.has("kind") && c.one_of("kind", kinds) == "measurement";
    if (claim.metric == "speedup") {
      claim.baseline = c.string("baseline");
      if (claim.strategy.empty()) {
        c.child("strategy", "the strategy claimed faster than the baseline");
      }
    } else if (c.has("baseline")) {
      c.child("baseline").fail("no baseline (only a speedup claim has one)");
    }
    if (claim.metric == "fits_memory") {
      claim.value = c.boolean("value") ? 1 : 0;
    } else {
      claim.value = c.positive("value");
    }
    c.reject_unknown_keys();
    out.push_back(std::move(claim));
  }
  return out;
}

double claim_metric(const Point& point, const std::string& metric) {
  if (metric == "tokens_per_s") {
    return point.tokens_per_s;
  }
  if (metric == "mfu") {
    return point.mfu;
  }
  if (metric == "step_time_s") {
    return point.step_time_s;
  }
  if (metric == "memory_per_gpu_bytes") {
    return point.memory_per_gpu_bytes;
  }
  if (metric == "comm_bytes_per_token") {
    const double tokens = point.tokens_per_s * point.step_time_s;
    return tokens > 0 ? point.comm_bytes_per_gpu * static_cast<double>(point.gpus) / tokens : 0;
  }
  return point.fits_memory ? 1 : 0;
}

std::vector<ClaimVerdict> judge_claims(const Results& results, const Projection& projection) {
  std::vector<ClaimVerdict> out;
  if (!results.scenario.is_object() || !results.scenario.contains("claims")) {
    return out;
  }
  const config::Node root = config::Node::from_json("results", results.scenario);
  for (const Claim& claim : parse_claims(root.child("claims"))) {
    ClaimVerdict v;
    v.claim = claim;
    const auto g = std::find(projection.gpus.begin(), projection.gpus.end(), claim.gpus);
    const auto s = std::find(projection.sequence_lengths.begin(), projection.sequence_lengths.end(),
                             claim.sequence_length);
    if (g != projection.gpus.end() && s != projection.sequence_lengths.end()) {
      const auto gi = static_cast<std::size_t>(g - projection.gpus.begin());
      const auto si = static_cast<std::size_t>(s - projection.sequence_lengths.begin());
      v.point = claim.strategy.empty() ? projection.best_at(gi, si).point
                                       : find_point(results, projection, gi, si, claim.strategy);
      if (!claim.baseline.empty()) {
        v.baseline = find_point(results, projection, gi, si, claim.baseline);
      }
    }
    if (const Skipped* skip = v.point == kNone ? skipped_for(results, claim) : nullptr) {
      v.verdict = "does not apply";
      v.reason = skip->reason;
      out.push_back(std::move(v));
      continue;
    }
    if (v.point == kNone || (!claim.baseline.empty() && v.baseline == kNone)) {
      v.verdict = "not in the sweep";
      const std::string missing = v.point == kNone ? claim.strategy : claim.baseline;
      v.reason = "the sweep has no " + (missing.empty() ? "" : missing + " ") + "point on " +
                 std::to_string(claim.gpus) + " GPUs at " + format_tokens(claim.sequence_length) +
                 " tokens";
      out.push_back(std::move(v));
      continue;
    }
    const Point& p = results.points[v.point];
    v.projected = claim.metric == "speedup" ? results.points[v.baseline].step_time_s / p.step_time_s
                                            : claim_metric(p, claim.metric);
    const std::string who = p.strategy + " on " + std::to_string(p.gpus) + " GPUs at " +
                            format_tokens(p.sequence_length) + " tokens";
    if (claim.metric == "fits_memory" || !p.fits_memory) {
      // A claim or measurement on fits_memory that says "runs out of memory" has value false.
      const bool says_oom = claim.metric == "fits_memory" && claim.value == 0;
      const char* agrees = claim.measurement ? "matches" : "holds";
      if (p.fits_memory) {
        v.verdict = says_oom ? "fits after all" : agrees;
      } else {
        v.verdict = says_oom ? agrees : "does not fit in memory";
      }
      v.reason = who + ": " + memory_reason(results, p);
      out.push_back(std::move(v));
      continue;
    }
    if (claim.measurement) {
      // Two-sided: the projection against the measurement.
      const double ratio = v.projected / claim.value;
      const double factor = ratio > 0 ? std::max(ratio, 1 / ratio) : 0;
      if (ratio <= 0) {
        v.verdict = "none projected";
      } else if (factor <= 1 + kTolerance) {
        v.verdict = "matches";
      } else {
        v.verdict =
            format_significant(factor, 2) + "x " + (ratio > 1 ? "above" : "below") + " measured";
      }
    } else {
      // How much too optimistic the claim is: > 1 when the projection falls short.
      const double shortfall =
          higher_is_better(claim.metric) ? claim.value / v.projected : v.projected / claim.value;
      v.verdict = shortfall <= 1 + kTolerance ? "holds"
                                              : "off by " + format_significant(shortfall, 2) + "x";
    }
    v.reason = who + " projects " + format_metric(claim.metric, v.projected) + " against " +
               format_metric(claim.metric, claim.value) +
               (claim.measurement ? " measured; " : " claimed; ");
    if (claim.metric == "speedup") {
      const Point& b = results.points[v.baseline];
      v.reason += b.strategy + ": " + time_reason(b) + "; " + p.strategy + ": " + time_reason(p);
    } else {
      v.reason +=
          claim.metric == "memory_per_gpu_bytes" ? memory_reason(results, p) : time_reason(p);
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace attnsim::report
