// SPDX-License-Identifier: Apache-2.0
#include "report/projection.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "config/error.h"

namespace attnsim::report {
namespace {

// Swept values that are axes of the grid, not part of a series' name.
bool is_axis(const std::string& key) {
  return key == "gpus" || key == "workload.sequence_length" || key == "workload.context_length" ||
         key == "parallelism.strategy";
}

// Readable names of the time_breakdown() segments, for sentences.
std::string segment_phrase(const std::string& name) {
  static const std::map<std::string, std::string> phrases = {
      {"other compute", "compute outside attention"},
      {"attention", "attention kernel time"},
      {"exposed attention comm", "exposed attention communication"},
      {"exposed tp comm", "exposed tensor-parallel communication"},
      {"exposed dp comm", "exposed data-parallel communication"},
      {"exposed pp comm", "exposed pipeline communication"},
      {"pipeline bubble", "pipeline bubble"},
      {"other", "time outside compute and tagged communication"}};
  const auto it = phrases.find(name);
  return it == phrases.end() ? name : it->second;
}

double segment_of(const std::vector<Segment>& segments, const std::string& name) {
  for (const Segment& s : segments) {
    if (s.name == name) {
      return s.seconds;
    }
  }
  return 0;
}

// "grows from 0.10 s to 0.41 s", "falls from ...", "stays at 0.10 s".
std::string change(double from, double to) {
  const double scale = std::max(std::abs(from), std::abs(to));
  if (scale == 0 || std::abs(to - from) <= 0.01 * scale) {
    return "stays at " + format_seconds(to);
  }
  return std::string(to > from ? "grows" : "falls") + " from " + format_seconds(from) + " to " +
         format_seconds(to);
}

/// One axis of the grid walked at a fixed position on the other: how to name positions.
struct Walk {
  std::string fixed;                      // "At 128K tokens" / "On 64 GPUs"
  std::vector<std::string> names;         // "64 GPUs" / "128K tokens" per position
  std::vector<std::size_t> best_indices;  // index into Projection::best per position
  std::vector<std::size_t> grid;          // (g, s) packed as s * G + g per position
};

class Explainer {
 public:
  Explainer(const Results& results, const Projection& projection)
      : results_(results), projection_(projection) {}

  // Why series b is best at position i and series a at i - 1.
  std::string crossover(const Walk& walk, std::size_t i, std::size_t a, std::size_t b) const {
    const std::size_t pa1 = point_at(a, walk.grid[i - 1]);
    const std::size_t pb1 = point_at(b, walk.grid[i - 1]);
    const std::size_t pa2 = point_at(a, walk.grid[i]);
    const std::size_t pb2 = point_at(b, walk.grid[i]);
    const std::string& an = projection_.series[a];
    const std::string& bn = projection_.series[b];
    const Point& b2 = results_.points[pb2];
    std::string head = walk.fixed + ", " + bn + " overtakes " + an + " from " + walk.names[i] +
                       " on (" + format_seconds(b2.step_time_s) + " per step";
    if (pa2 == kNone) {
      return head + "): the sweep has no " + an + " point at " + walk.names[i] + ".";
    }
    const Point& a2 = results_.points[pa2];
    head += " against " + format_seconds(a2.step_time_s) + ")";
    if (!a2.fits_memory && b2.fits_memory) {
      return head + " because " + an + " no longer fits in memory: it needs " +
             format_gigabytes(a2.memory_per_gpu_bytes) + " per GPU" + hbm_clause(a2) + ".";
    }
    if (pb1 != kNone && !results_.points[pb1].fits_memory && b2.fits_memory) {
      return head + " because " + bn + " fits in memory from there on: it needs " +
             format_gigabytes(b2.memory_per_gpu_bytes) + " per GPU there against " +
             format_gigabytes(results_.points[pb1].memory_per_gpu_bytes) + " at " +
             walk.names[i - 1] + hbm_clause(b2) + ".";
    }
    // The part of the step where a loses most to b at the new position.
    const std::vector<Segment> sa2 = time_breakdown(a2);
    const std::vector<Segment> sb2 = time_breakdown(b2);
    std::string worst;
    double worst_gap = -1;
    for (const Segment& s : sa2) {
      const double gap = s.seconds - segment_of(sb2, s.name);
      if (gap > worst_gap) {
        worst_gap = gap;
        worst = s.name;
      }
    }
    const double total_gap = a2.step_time_s - b2.step_time_s;
    std::string why = " because " + an + "'s " + segment_phrase(worst);
    const double a_now = segment_of(sa2, worst);
    const double b_now = segment_of(sb2, worst);
    if (pa1 != kNone && pb1 != kNone) {
      const double a_before = segment_of(time_breakdown(results_.points[pa1]), worst);
      const double b_before = segment_of(time_breakdown(results_.points[pb1]), worst);
      why += " " + change(a_before, a_now) + " from " + walk.names[i - 1] + " to " + walk.names[i] +
             " while " + bn + "'s " + change(b_before, b_now);
    } else {
      why += " is " + format_seconds(a_now) + " against " + bn + "'s " + format_seconds(b_now);
    }
    if (total_gap > 0 && worst_gap > 0) {
      why += " (" + format_significant(100 * std::min(1.0, worst_gap / total_gap), 2) +
             " % of the gap)";
    }
    return head + why + ".";
  }

  std::string hbm_clause(const Point& p) const {
    const double hbm = hbm_bytes_of(results_, p);
    return hbm > 0 ? ", and the GPU has " + format_gigabytes(hbm) : "";
  }

 private:
  std::size_t point_at(std::size_t series, std::size_t packed) const {
    const std::size_t g_count = projection_.gpus.size();
    return projection_.at(series, packed % g_count, packed / g_count);
  }

  const Results& results_;
  const Projection& projection_;
};

void add_crossovers(const Results& results, Projection& p) {
  const Explainer explain(results, p);
  const std::size_t g_count = p.gpus.size();
  const std::size_t s_count = p.sequence_lengths.size();
  std::vector<Walk> walks;
  for (std::size_t s = 0; s < s_count && g_count > 1; ++s) {
    Walk w;
    w.fixed = "At " + format_tokens(p.sequence_lengths[s]) + " tokens";
    for (std::size_t g = 0; g < g_count; ++g) {
      w.names.push_back(std::to_string(p.gpus[g]) + " GPUs");
      w.grid.push_back(s * g_count + g);
    }
    walks.push_back(std::move(w));
  }
  for (std::size_t g = 0; g < g_count && s_count > 1; ++g) {
    Walk w;
    w.fixed = "On " + std::to_string(p.gpus[g]) + " GPUs";
    for (std::size_t s = 0; s < s_count; ++s) {
      w.names.push_back(format_tokens(p.sequence_lengths[s]) + " tokens");
      w.grid.push_back(s * g_count + g);
    }
    walks.push_back(std::move(w));
  }
  for (const Walk& w : walks) {
    for (std::size_t i = 1; i < w.grid.size(); ++i) {
      const Best& before = p.best[w.grid[i - 1]];
      const Best& after = p.best[w.grid[i]];
      // A change from a cell where nothing fits is a memory limit, told in memory_limits.
      if (before.series == kNone || after.series == kNone || before.series == after.series ||
          !before.fits || !after.fits) {
        continue;
      }
      p.crossovers.push_back(explain.crossover(w, i, before.series, after.series));
    }
  }
}

void add_memory_limits(const Results& results, Projection& p) {
  const std::size_t g_count = p.gpus.size();
  const std::size_t s_count = p.sequence_lengths.size();
  std::vector<std::string> everywhere;
  for (std::size_t k = 0; k < p.series.size(); ++k) {
    const std::string& name = p.series[k];
    bool all_fit = true;
    std::vector<std::string> lines;
    for (std::size_t g = 0; g < g_count; ++g) {
      std::size_t last_fit = kNone;
      std::size_t first_miss = kNone;
      std::size_t first = kNone;
      for (std::size_t s = 0; s < s_count; ++s) {
        const std::size_t i = p.at(k, g, s);
        if (i == kNone) {
          continue;
        }
        first = first == kNone ? i : first;
        if (results.points[i].fits_memory) {
          last_fit = i;
        } else if (first_miss == kNone) {
          first_miss = i;
        }
      }
      if (first_miss == kNone) {
        continue;
      }
      all_fit = false;
      const Point& miss = results.points[first_miss];
      const std::string on = name + " on " + std::to_string(p.gpus[g]) + " GPUs";
      if (last_fit == kNone) {
        const Point& f = results.points[first];
        lines.push_back(on + " fits no sequence length of the sweep: at " +
                        format_tokens(f.sequence_length) + " tokens it needs " +
                        format_gigabytes(f.memory_per_gpu_bytes) + " per GPU" +
                        Explainer(results, p).hbm_clause(f) + ".");
      } else {
        const Point& fit = results.points[last_fit];
        lines.push_back(on + " fits up to " + format_tokens(fit.sequence_length) + " tokens (" +
                        format_gigabytes(fit.memory_per_gpu_bytes) + " per GPU); at " +
                        format_tokens(miss.sequence_length) + " it needs " +
                        format_gigabytes(miss.memory_per_gpu_bytes) +
                        Explainer(results, p).hbm_clause(miss) + ".");
      }
    }
    if (all_fit) {
      everywhere.push_back(name);
    }
    p.memory_limits.insert(p.memory_limits.end(), lines.begin(), lines.end());
  }
  if (!everywhere.empty()) {
    std::string line = "Fits in memory at every point of the sweep:";
    for (std::size_t i = 0; i < everywhere.size(); ++i) {
      line += (i == 0 ? " " : ", ") + everywhere[i];
    }
    p.memory_limits.insert(p.memory_limits.begin(), line + ".");
  }
}

}  // namespace

std::size_t Projection::at(std::size_t series_index, std::size_t g, std::size_t s) const {
  return cells[(series_index * sequence_lengths.size() + s) * gpus.size() + g];
}

const Best& Projection::best_at(std::size_t g, std::size_t s) const {
  return best[s * gpus.size() + g];
}

std::string series_label(const Point& point) {
  std::string label = point.requested_strategy.empty() ? point.strategy : point.requested_strategy;
  std::string extra;
  if (point.parameters.is_object()) {
    for (const auto& [key, value] : point.parameters.items()) {
      if (key == "parallelism" && value.is_object()) {
        // A swept parallelism section: the strategy names the series, its options qualify it.
        for (const auto& [option, v] : value.items()) {
          if (option != "strategy") {
            extra += (extra.empty() ? "" : ", ") + option + "=" +
                     (v.is_string() ? v.get<std::string>() : v.dump());
          }
        }
      } else if (!is_axis(key)) {
        extra += (extra.empty() ? "" : ", ") + key + "=" +
                 (value.is_string() ? value.get<std::string>() : value.dump());
      }
    }
  }
  return extra.empty() ? label : label + " (" + extra + ")";
}

Projection project(const Results& results) {
  if (results.points.empty()) {
    throw config::InputError("results: /points: expected at least one point, got none");
  }
  Projection p;
  std::set<std::int64_t> gpus;
  std::set<std::int64_t> seqs;
  std::map<std::string, std::size_t> series_index;
  std::vector<std::size_t> series_of(results.points.size());
  for (std::size_t i = 0; i < results.points.size(); ++i) {
    const Point& point = results.points[i];
    gpus.insert(point.gpus);
    seqs.insert(point.sequence_length);
    const std::string label = series_label(point);
    const auto [it, added] = series_index.emplace(label, p.series.size());
    if (added) {
      p.series.push_back(label);
    }
    series_of[i] = it->second;
  }
  p.gpus.assign(gpus.begin(), gpus.end());
  p.sequence_lengths.assign(seqs.begin(), seqs.end());
  const std::size_t g_count = p.gpus.size();
  const std::size_t s_count = p.sequence_lengths.size();
  p.cells.assign(p.series.size() * g_count * s_count, kNone);
  p.best.assign(g_count * s_count, Best{});
  for (std::size_t i = 0; i < results.points.size(); ++i) {
    const Point& point = results.points[i];
    const auto g = static_cast<std::size_t>(
        std::lower_bound(p.gpus.begin(), p.gpus.end(), point.gpus) - p.gpus.begin());
    const auto s =
        static_cast<std::size_t>(std::lower_bound(p.sequence_lengths.begin(),
                                                  p.sequence_lengths.end(), point.sequence_length) -
                                 p.sequence_lengths.begin());
    std::size_t& cell = p.cells[(series_of[i] * s_count + s) * g_count + g];
    if (cell != kNone) {
      throw config::InputError("results: /points/" + std::to_string(i) +
                               ": expected one point per series, GPU count and sequence length, "
                               "got a second for " +
                               p.series[series_of[i]] + " on " + std::to_string(point.gpus) +
                               " GPUs at " + std::to_string(point.sequence_length) + " tokens");
    }
    cell = i;
    Best& best = p.best[s * g_count + g];
    const bool better =
        best.point == kNone || (point.fits_memory != best.fits
                                    ? point.fits_memory
                                    : point.step_time_s < results.points[best.point].step_time_s);
    if (better) {
      best = {series_of[i], i, point.fits_memory};
    }
  }
  add_crossovers(results, p);
  add_memory_limits(results, p);
  return p;
}

std::vector<Segment> time_breakdown(const Point& point) {
  const auto phase = [&point](const char* name) {
    const auto it = point.exposed_comm_by_phase_s.find(name);
    return it == point.exposed_comm_by_phase_s.end() ? 0.0 : it->second;
  };
  std::vector<Segment> out = {
      {"other compute", std::max(0.0, point.compute_time_s - point.attention_time_s)},
      {"attention", point.attention_time_s},
      {"exposed attention comm", phase("attention")},
      {"exposed tp comm", phase("tp")},
      {"exposed dp comm", phase("dp")},
      {"exposed pp comm", phase("pp")},
      {"pipeline bubble", point.pipeline_bubble_s}};
  double sum = 0;
  for (const Segment& s : out) {
    sum += s.seconds;
  }
  const double rest = point.step_time_s - sum;
  if (std::abs(rest) > 1e-3 * point.step_time_s) {
    out.push_back({"other", rest});
  }
  return out;
}

double hbm_bytes_of(const Results& results, const Point& point) {
  const auto it = results.hardware.find(point.hardware);
  if (it == results.hardware.end() || !it->is_object()) {
    return 0;
  }
  return it->value("hbm_bytes", 0.0);
}

std::string format_significant(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, value);
  return buf;
}

std::string format_seconds(double seconds) {
  const double a = std::abs(seconds);
  if (a >= 1000) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f s", seconds);
    return buf;
  }
  if (a >= 1 || a == 0) {
    return format_significant(seconds, 3) + " s";
  }
  if (a >= 1e-3) {
    return format_significant(seconds * 1e3, 3) + " ms";
  }
  return format_significant(seconds * 1e6, 3) + " us";
}

std::string format_tokens(std::int64_t tokens) {
  constexpr std::int64_t kKi = 1024;
  if (tokens >= kKi * kKi * kKi && tokens % (kKi * kKi * kKi) == 0) {
    return std::to_string(tokens / (kKi * kKi * kKi)) + "G";
  }
  if (tokens >= kKi * kKi && tokens % (kKi * kKi) == 0) {
    return std::to_string(tokens / (kKi * kKi)) + "M";
  }
  if (tokens >= kKi && tokens % kKi == 0) {
    return std::to_string(tokens / kKi) + "K";
  }
  return std::to_string(tokens);
}

std::string format_count(double value) {
  const double a = std::abs(value);
  if (a >= 1e9) {
    return format_significant(value / 1e9, 3) + " G";
  }
  if (a >= 1e6) {
    return format_significant(value / 1e6, 3) + " M";
  }
  if (a >= 1e3) {
    return format_significant(value / 1e3, 3) + " K";
  }
  return format_significant(value, 3);
}

std::string format_gigabytes(double bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
  return buf;
}

std::string format_percent(double fraction) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %%", fraction * 100);
  return buf;
}

}  // namespace attnsim::report
