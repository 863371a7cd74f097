// SPDX-License-Identifier: Apache-2.0
// The analysis behind `attnsim report`: a sweep's points arranged as series (one per strategy
// and combination of other swept values) over a grid of GPU counts x sequence lengths, the
// best strategy in each cell, where each series stops fitting in memory, the crossovers
// between best strategies with a sentence each explaining them from the numbers, and a step's
// time breakdown. Pure functions of the results; no files, no plotting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "report/results.h"

namespace attnsim::report {

inline constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

/// The best point of one (GPU count, sequence length) cell: the fastest point that fits in
/// memory, else (fits == false) the fastest of all.
struct Best {
  std::size_t series = kNone;  // kNone: the sweep has no point here
  std::size_t point = kNone;   // index into Results::points
  bool fits = false;
};

/// One step of a point's time, as the stacked bars show it.
struct Segment {
  std::string name;
  double seconds = 0;
};

/// A sweep laid out for plotting and explaining.
struct Projection {
  std::vector<std::int64_t> gpus;              // distinct GPU counts, ascending
  std::vector<std::int64_t> sequence_lengths;  // distinct sequence lengths, ascending
  std::vector<std::string> series;             // labels, in the order they first appear
  std::vector<Best> best;                      // [s * gpus.size() + g]
  std::vector<std::string> crossovers;         // one explaining sentence per crossover
  std::vector<std::string> memory_limits;      // where a series starts or stops fitting

  /// The point of `series` at gpus[g], sequence_lengths[s]; kNone when the sweep has none.
  std::size_t at(std::size_t series_index, std::size_t g, std::size_t s) const;
  const Best& best_at(std::size_t g, std::size_t s) const;

  // [series][s][g], kNone where absent.
  std::vector<std::size_t> cells;
};

/// A point's series: the strategy as requested ("auto" stays "auto"), followed by the swept
/// values other than the GPU count, the sequence length and the strategy, as
/// "ring (attention.kind=dilated)"; a swept "parallelism" section adds its options other than
/// the strategy, as "ring (ring_scope=segment)".
std::string series_label(const Point& point);

/// Lays out `results`.
/// Errors: config::InputError "results: /points/<i>: expected one point per series, GPU count
///         and sequence length, got a second for ..." when two points share a cell.
Projection project(const Results& results);

/// `point`'s step split into what the critical path spent: compute other than attention,
/// attention kernels, exposed communication per phase (attention, tensor, data and pipeline
/// parallel), the pipeline bubble, and "other" for the rest (latencies and waits outside
/// those) when it is more than 0.1 % of the step. The seconds add up to step_time_s.
std::vector<Segment> time_breakdown(const Point& point);

/// The HBM bytes of the GPU `point` ran on (results.hardware[point.hardware]); 0 when the
/// results do not say.
double hbm_bytes_of(const Results& results, const Point& point);

/// Formatting shared by the report's text, tables and plots.
std::string format_significant(double value, int digits);  // printf "%.*g": "1.3", "1e+02"
std::string format_seconds(double seconds);                // "1.24 s", "35.1 ms", "812 us"
std::string format_tokens(std::int64_t tokens);            // "128K", "1M", "1G", "3000"
std::string format_count(double value);                    // "1.23 M", "45.6 K", "812"
std::string format_gigabytes(double bytes);                // "61.2 GB"
std::string format_percent(double fraction);               // "38.9 %"

}  // namespace attnsim::report
