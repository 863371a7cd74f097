// SPDX-License-Identifier: Apache-2.0
// The results of `attnsim run` (SPEC section 4): the types, results.json and results.csv
// (written atomically: a temporary name, then rename), the readable table, and the reader
// that `attnsim report` uses on a results folder. Owns the schema; links no simulator code.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/node.h"

namespace attnsim::report {

/// The busiest link class of a point: where the step's bytes queue.
struct Bottleneck {
  std::string link_class;  // "nvlink", "pcie", "nic", "net", "dc"; "" when nothing was sent
  double utilization = 0;  // bytes / (capacity x simulated time) of the busiest link, [0, 1]
  double bytes = 0;        // bytes that crossed that link in the simulated window

  bool operator==(const Bottleneck&) const = default;
};

/// One simulated point (SPEC section 4 fields first, then attnsim's extensions).
struct Point {
  // SPEC section 4.
  std::int64_t gpus = 0;
  std::string strategy;  // what ran ("auto" resolves to the chosen strategy's name)
  std::int64_t sequence_length = 0;
  nlohmann::json parameters = nlohmann::json::object();  // every swept value, by dotted path
  double step_time_s = 0;
  double tokens_per_s = 0;
  double mfu = 0;
  double attention_time_s = 0;
  double compute_time_s = 0;
  double comm_time_s = 0;
  double exposed_comm_s = 0;
  double comm_bytes_per_gpu = 0;
  double memory_per_gpu_bytes = 0;
  bool fits_memory = false;
  std::uint64_t sim_events = 0;
  double sim_wall_s = 0;
  // Extensions.
  std::string requested_strategy;               // as written in the scenario ("auto" or a name)
  std::string reason;                           // auto: why this strategy; otherwise empty
  std::map<std::string, std::int64_t> degrees;  // tp, cp, dp, pp, and strategy's own
  std::map<std::string, double> exposed_comm_by_phase_s;  // attention, tp, dp, pp
  std::map<std::string, double> memory_breakdown_bytes;   // weights, gradients, optimizer, ...
  double pipeline_bubble_s = 0;
  Bottleneck bottleneck;
  std::vector<std::string> extrapolated;  // which costs came from a fit beyond measured data
  std::vector<std::string> notes;         // e.g. "approximate attention (hierarchical)"
  std::string hardware;                   // the profile's name: a key of Results::hardware

  bool operator==(const Point&) const = default;
};

/// A sweep point that was not simulated because its strategy does not apply there.
struct Skipped {
  nlohmann::json parameters = nlohmann::json::object();  // its swept values
  std::string reason;

  bool operator==(const Skipped&) const = default;
};

/// A whole run.
// clang-tidy 14 reports the implicit noexcept moves as throwing (nlohmann::json's move checks
// its invariant); they do not throw.
struct Results {  // NOLINT(bugprone-exception-escape)
  std::string attnsim_version;
  nlohmann::json scenario;  // the scenario as read (before sweep expansion)
  /// The hardware profiles the points used, by name: {"hbm_bytes", "peak_flops_per_s" (of the
  /// model's dtype), "provenance" (the profile's provenance object, SPEC section 5)}.
  nlohmann::json hardware = nlohmann::json::object();
  std::vector<Point> points;
  std::vector<Skipped> skipped;  // sweep points whose strategy does not apply

  bool operator==(const Results&) const = default;
};

/// results.csv's columns in order: SPEC section 4's scalar fields with `parameters` (the swept
/// values as compact JSON) after `sequence_length`, then bottleneck_link and
/// bottleneck_utilization.
const std::vector<std::string>& csv_columns();

/// results.json as a value: {"attnsim_version", "scenario", "points": [...]}, each point with
/// every SPEC section 4 field under its SPEC name, then the extensions (degrees,
/// exposed_comm_by_phase_s, memory_breakdown_bytes, pipeline_bubble_s, bottleneck{link_class,
/// utilization, bytes}, requested_strategy, reason, extrapolated, notes, hardware), and
/// "hardware" (the profiles by name) between "scenario" and "points", and "skipped"
/// ([{"parameters", "reason"}]) after "points". Doubles round-trip.
nlohmann::json to_json(const Results& results);
/// The same document as text with members in the order listed above (nlohmann::json sorts
/// keys), two-space indent and a final newline: what results.json holds and `run --json`
/// prints.
std::string to_json_text(const Results& results);
/// results.csv: a header row (csv_columns()), then one row per point. Fields holding a comma,
/// a quote or a line break are quoted with quotes doubled (RFC 4180); rows end in "\n".
/// Doubles read back to the same value: whole numbers below 2^53 in plain digits, others in
/// the shortest form ("0.30000000000000004").
std::string to_csv(const Results& results);
/// The readable table `attnsim run` prints: one row per point (GPUs, strategy, sequence
/// length, step time, tokens/s, MFU, exposed communication, memory per GPU, fits, bottleneck),
/// then numbered footnotes for the points' notes, extrapolations and auto's reasons, then the
/// skipped sweep points with their reasons.
/// Deterministic: the same results give the same text.
std::string format_table(const Results& results);

/// Writes DIR/results.json and DIR/results.csv; creates DIR if needed. Each file is written
/// to a temporary name in DIR and renamed, so a failure leaves no partial file (and removes
/// the folders it created).
/// Errors: config::RuntimeFailure naming the path that could not be written.
void write_results(const Results& results, const std::string& dir);

/// Reads a results.json (for `attnsim report`); errors are located (STYLE C7). The SPEC fields
/// are required, the extensions optional (a results file written by hand may omit them);
/// unknown keys are rejected. parse_results(to_json(r)) == r.
Results parse_results(const config::Node& root);

}  // namespace attnsim::report
