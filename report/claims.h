// SPDX-License-Identifier: Apache-2.0
// Claims a scenario asks attnsim to judge: a plan's numbers ("64 GPUs with DSP: 2M tokens at
// 400K tokens/s") set against what the sweep projects, with a verdict and its reason.
//
// Scenario JSON (optional "claims", kept in results.json's copy of the scenario):
//
//   "claims": [{"text": "64 GPUs with DSP: 400K tokens/s at 2M tokens",
//               "gpus": 64, "sequence_length": 2097152, "strategy": "dsp",
//               "metric": "tokens_per_s", "value": 400000}]
//
// "strategy" is optional: without it the claim is judged on the best point of that cell (the
// fastest that fits). Metrics: tokens_per_s and mfu (higher is better); step_time_s,
// memory_per_gpu_bytes and comm_bytes_per_token (lower is better; bytes every GPU sends in a
// step, summed over GPUs, per token of the step); fits_memory (value true); speedup (higher is
// better): the step time of the series named by "baseline" over the claim's at the same cell,
// as in "head-parallel is 30x faster than ring" ({"strategy": "head_parallel", "baseline":
// "ring", "metric": "speedup", "value": 30}).
//
// "kind" is "claim" (the default: a plan's promise) or "measurement" (a number someone measured,
// e.g. a baseline the plan starts from). A claim is one-sided: a projection that beats it still
// holds. A measurement is two-sided: "matches" when the projection is within 10 % of it either
// way, otherwise "N x above measured" or "N x below measured" (the projection against the
// measurement, so "2.4x below measured" on step_time_s says attnsim projects a 2.4x shorter
// step than was measured); on fits_memory "matches", "fits after all" or "does not fit in
// memory".
//
// Verdicts: "holds" when the projection meets the claim or misses it by at most 10 %;
// "off by N x" otherwise (N the factor by which the claim is too optimistic); "does not fit in
// memory" when the point needs more than the GPU's HBM (a claim on fits_memory is judged by
// that alone); "does not apply" when the sweep skipped that point because its strategy does not
// apply there (the reason is the skip's); "not in the sweep" when no point matches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/node.h"
#include "report/projection.h"
#include "report/results.h"

namespace attnsim::report {

struct Claim {
  std::string text;
  std::int64_t gpus = 0;
  std::int64_t sequence_length = 0;
  std::string strategy;  // "" = the best of the cell
  std::string baseline;  // speedup: the series compared with
  std::string metric;
  double value = 0;
  bool measurement = false;  // "kind": "measurement"
};

struct ClaimVerdict {
  Claim claim;
  std::size_t point = kNone;     // the point judged
  std::size_t baseline = kNone;  // speedup: the baseline's point
  double projected = 0;          // the metric as projected (0 when no point)
  std::string verdict;           // "holds", "off by 3.2x", "does not fit in memory", ...
  std::string reason;            // one sentence from the numbers

  /// Whether the projection bears the claim out: it holds, or the measurement matches.
  bool agrees() const { return verdict == "holds" || verdict == "matches"; }
};

/// The metric names claims may use.
const std::vector<std::string>& claim_metrics();

/// Reads a scenario's "claims" array. Errors: config::InputError located at the bad field.
std::vector<Claim> parse_claims(const config::Node& claims);

/// The claims in `results.scenario` ("claims"), each judged. Claims that cannot be read throw
/// as parse_claims() does, naming "results" as the file.
std::vector<ClaimVerdict> judge_claims(const Results& results, const Projection& projection);

/// The value of `metric` at `point` (comm_bytes_per_token as documented above).
double claim_metric(const Point& point, const std::string& metric);

}  // namespace attnsim::report
