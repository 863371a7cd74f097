// SPDX-License-Identifier: Apache-2.0
// results.json and results.csv: writing, reading back, and the atomic write of both.
#include "report/results.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

#include "config/error.h"
#include "report/atomic_file.h"

namespace attnsim::report {

namespace {

// Built for both nlohmann::json (to_json) and nlohmann::ordered_json (to_json_text, which
// keeps the SPEC order for people reading the file).
template <class Json>
Json point_json(const Point& p) {
  Json j = Json::object();
  j["gpus"] = p.gpus;
  j["strategy"] = p.strategy;
  j["sequence_length"] = p.sequence_length;
  j["parameters"] = Json(p.parameters);
  j["step_time_s"] = p.step_time_s;
  j["tokens_per_s"] = p.tokens_per_s;
  j["mfu"] = p.mfu;
  j["attention_time_s"] = p.attention_time_s;
  j["compute_time_s"] = p.compute_time_s;
  j["comm_time_s"] = p.comm_time_s;
  j["exposed_comm_s"] = p.exposed_comm_s;
  j["comm_bytes_per_gpu"] = p.comm_bytes_per_gpu;
  j["memory_per_gpu_bytes"] = p.memory_per_gpu_bytes;
  j["fits_memory"] = p.fits_memory;
  j["sim_events"] = p.sim_events;
  j["sim_wall_s"] = p.sim_wall_s;
  j["degrees"] = p.degrees;
  j["exposed_comm_by_phase_s"] = p.exposed_comm_by_phase_s;
  j["memory_breakdown_bytes"] = p.memory_breakdown_bytes;
  j["pipeline_bubble_s"] = p.pipeline_bubble_s;
  Json bottleneck = Json::object();
  bottleneck["link_class"] = p.bottleneck.link_class;
  bottleneck["utilization"] = p.bottleneck.utilization;
  bottleneck["bytes"] = p.bottleneck.bytes;
  j["bottleneck"] = std::move(bottleneck);
  j["requested_strategy"] = p.requested_strategy;
  j["reason"] = p.reason;
  j["extrapolated"] = p.extrapolated;
  j["notes"] = p.notes;
  j["hardware"] = p.hardware;
  return j;
}

template <class Json>
Json results_json(const Results& r) {
  Json j = Json::object();
  j["attnsim_version"] = r.attnsim_version;
  j["scenario"] = Json(r.scenario);
  j["hardware"] = Json(r.hardware);
  Json points = Json::array();
  for (const Point& p : r.points) {
    points.push_back(point_json<Json>(p));
  }
  j["points"] = std::move(points);
  Json skipped = Json::array();
  for (const Skipped& k : r.skipped) {
    Json one = Json::object();
    one["parameters"] = Json(k.parameters);
    one["reason"] = k.reason;
    skipped.push_back(std::move(one));
  }
  j["skipped"] = std::move(skipped);
  return j;
}

// Text that reads back as the same double: whole numbers below 2^53 (byte counts) in plain
// digits, "61200000000" rather than "6.12e+10"; anything else in the shortest form
// (std::to_chars' guarantee), "0.30000000000000004".
std::string number_text(double v) {
  constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
  if (v == std::floor(v) && std::fabs(v) < kExactIntegers) {
    return std::to_string(static_cast<std::int64_t>(v));
  }
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("nan");
}

// RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) {
    return text;
  }
  std::string out = "\"";
  for (const char c : text) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  return out + "\"";
}

std::vector<std::string> csv_row(const Point& p) {
  return {std::to_string(p.gpus),
          csv_field(p.strategy),
          std::to_string(p.sequence_length),
          csv_field(p.parameters.dump()),
          number_text(p.step_time_s),
          number_text(p.tokens_per_s),
          number_text(p.mfu),
          number_text(p.attention_time_s),
          number_text(p.compute_time_s),
          number_text(p.comm_time_s),
          number_text(p.exposed_comm_s),
          number_text(p.comm_bytes_per_gpu),
          number_text(p.memory_per_gpu_bytes),
          p.fits_memory ? "true" : "false",
          std::to_string(p.sim_events),
          number_text(p.sim_wall_s),
          csv_field(p.bottleneck.link_class),
          number_text(p.bottleneck.utilization)};
}

void append_row(std::string& out, const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    out += (i == 0 ? "" : ",") + fields[i];
  }
  out += '\n';
}

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();

std::vector<std::string> string_list(const config::Node& n) {
  std::vector<std::string> out;
  for (const config::Node& e : n.elements("an array of strings")) {
    out.push_back(e.as_string());
  }
  return out;
}

// An object of numbers >= 0 by name; keys starting with '_' are comments (STYLE C7).
std::map<std::string, double> number_map(const config::Node& n) {
  std::map<std::string, double> out;
  for (const auto& [key, value] : n.members("an object of numbers")) {
    if (!key.starts_with("_")) {
      out[key] = value.as_non_negative();
    }
  }
  return out;
}

Bottleneck parse_bottleneck(const config::Node& n) {
  Bottleneck b;
  b.link_class = n.string_or("link_class", "");
  b.utilization = n.non_negative_or("utilization", 0);
  b.bytes = n.non_negative_or("bytes", 0);
  n.reject_unknown_keys();
  return b;
}

Point parse_point(const config::Node& n) {
  Point p;
  p.gpus = n.count("gpus");
  p.strategy = n.string("strategy");
  p.sequence_length = n.count("sequence_length");
  const config::Node parameters = n.child("parameters", "an object");
  if (!parameters.is_object()) {
    parameters.fail("an object");
  }
  p.parameters = parameters.json();
  p.step_time_s = n.non_negative("step_time_s");
  p.tokens_per_s = n.non_negative("tokens_per_s");
  p.mfu = n.non_negative("mfu");
  p.attention_time_s = n.non_negative("attention_time_s");
  p.compute_time_s = n.non_negative("compute_time_s");
  p.comm_time_s = n.non_negative("comm_time_s");
  p.exposed_comm_s = n.non_negative("exposed_comm_s");
  p.comm_bytes_per_gpu = n.non_negative("comm_bytes_per_gpu");
  p.memory_per_gpu_bytes = n.non_negative("memory_per_gpu_bytes");
  p.fits_memory = n.boolean("fits_memory");
  p.sim_events = static_cast<std::uint64_t>(n.integer("sim_events", 0, kMaxInt));
  p.sim_wall_s = n.non_negative("sim_wall_s");
  // Extensions: optional, so that a hand-written file with the SPEC fields alone reads.
  if (const auto degrees = n.find("degrees")) {
    for (const auto& [key, value] : degrees->members("an object of integers")) {
      if (!key.starts_with("_")) {
        p.degrees[key] = value.as_integer(1, kMaxInt);
      }
    }
  }
  if (const auto phases = n.find("exposed_comm_by_phase_s")) {
    p.exposed_comm_by_phase_s = number_map(*phases);
  }
  if (const auto memory = n.find("memory_breakdown_bytes")) {
    p.memory_breakdown_bytes = number_map(*memory);
  }
  p.pipeline_bubble_s = n.non_negative_or("pipeline_bubble_s", 0);
  if (const auto bottleneck = n.find("bottleneck")) {
    p.bottleneck = parse_bottleneck(*bottleneck);
  }
  p.requested_strategy = n.string_or("requested_strategy", "");
  p.reason = n.string_or("reason", "");
  if (const auto extrapolated = n.find("extrapolated")) {
    p.extrapolated = string_list(*extrapolated);
  }
  if (const auto notes = n.find("notes")) {
    p.notes = string_list(*notes);
  }
  p.hardware = n.string_or("hardware", "");
  n.reject_unknown_keys();
  return p;
}

}  // namespace

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> columns = {"gpus",
                                                   "strategy",
                                                   "sequence_length",
                                                   "parameters",
                                                   "step_time_s",
                                                   "tokens_per_s",
                                                   "mfu",
                                                   "attention_time_s",
                                                   "compute_time_s",
                                                   "comm_time_s",
                                                   "exposed_comm_s",
                                                   "comm_bytes_per_gpu",
                                                   "memory_per_gpu_bytes",
                                                   "fits_memory",
                                                   "sim_events",
                                                   "sim_wall_s",
                                                   "bottleneck_link",
                                                   "bottleneck_utilization"};
  return columns;
}

nlohmann::json to_json(const Results& results) {
  return results_json<nlohmann::json>(results);
}

std::string to_json_text(const Results& results) {
  return results_json<nlohmann::ordered_json>(results).dump(2) + "\n";
}

std::string to_csv(const Results& results) {
  std::string out;
  append_row(out, csv_columns());
  for (const Point& p : results.points) {
    append_row(out, csv_row(p));
  }
  return out;
}

void write_results(const Results& results, const std::string& dir) {
  const FileText files[] = {{"results.json", to_json_text(results)},
                            {"results.csv", to_csv(results)}};
  write_folder_atomically(dir, files);
}

Results parse_results(const config::Node& root) {
  Results r;
  r.attnsim_version = root.string("attnsim_version");
  r.scenario = root.child("scenario", "an object").json();
  if (const auto hardware = root.find("hardware")) {
    for (const auto& [name, profile] : hardware->members("an object of profiles by name")) {
      if (!profile.is_object()) {
        profile.fail("an object");
      }
      profile.non_negative_or("hbm_bytes", 0);  // checked here, read by the report
      profile.non_negative_or("peak_flops_per_s", 0);
      if (const auto provenance = profile.find("provenance");
          provenance && !provenance->is_object()) {
        provenance->fail("an object");
      }
      r.hardware[name] = profile.json();
    }
  }
  for (const config::Node& point : root.child("points", "an array").elements()) {
    r.points.push_back(parse_point(point));
  }
  if (const auto skipped = root.find("skipped")) {
    for (const config::Node& k : skipped->elements("an array")) {
      Skipped one;
      const config::Node parameters = k.child("parameters", "an object");
      if (!parameters.is_object()) {
        parameters.fail("an object");
      }
      one.parameters = parameters.json();
      one.reason = k.string("reason");
      k.reject_unknown_keys();
      r.skipped.push_back(std::move(one));
    }
  }
  root.reject_unknown_keys();
  return r;
}

}  // namespace attnsim::report
