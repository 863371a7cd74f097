// SPDX-License-Identifier: Apache-2.0
// Scenario composition (SPEC section 3): reads a scenario file, applies --set overrides,
// expands the sweep into points and parses each point completely (parse, then build: STYLE
// C7), so that `attnsim validate` and `attnsim run` reject bad input before simulating.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "calibrate/profile.h"
#include "config/error.h"
#include "models/strategies/strategy.h"
#include "models/workload.h"
#include "sim/replay.h"
#include "topology/spec.h"

namespace attnsim::cli {

/// The parallelism section of one point.
struct Parallelism {
  std::string strategy;  // a registered name or "auto"
  models::Degrees degrees;
  int zero_stage = 1;             // 0: all-reduce gradients; 1-3: ZeRO / distributed optimizer
  bool sequence_parallel = true;  // Megatron sequence parallelism with tp > 1
  std::int64_t microbatches = 1;  // per data-parallel replica per step (pipeline schedule);
                                  // each holds (sequences per step / dp) / microbatches
                                  // sequences (decode: batch instead of sequences)
  std::shared_ptr<const models::Strategy> impl;  // null for "auto"
};

/// One fully parsed sweep point.
struct ScenarioPoint {
  std::string label;                                     // "" or "sweep point 3 of 8 (gpus=4096)"
  nlohmann::json parameters = nlohmann::json::object();  // swept values by dotted path
  nlohmann::json document;                               // the point's scenario after overrides
  std::string name;
  calibrate::Profile profile;
  topology::TopologySpec topology;
  models::Workload workload;
  Parallelism parallelism;
  sim::NetworkModel network_model = sim::NetworkModel::kFlow;
  /// Layers of one pipeline stage simulated event by event; the rest are extrapolated from
  /// the steady-state layer period ("simulation": {"layers": N}; 0 = all; default 4 with
  /// the flow model, 2 with the analytical one).
  int simulated_layers = 4;
};

/// A sweep point whose strategy does not apply to its degrees (e.g. Ulysses over more GPUs
/// than the model has heads): parse_parallelism() throws it, load_scenario() records the point
/// as skipped instead of failing the sweep.
class NotApplicable : public config::InputError {
 public:
  explicit NotApplicable(const std::string& line) : config::InputError(line) {}
};

/// A sweep point that was not simulated because its strategy does not apply there.
struct SkippedPoint {
  nlohmann::json parameters = nlohmann::json::object();
  std::string reason;  // the located message, as the error would have been
};

/// A scenario with its sweep expanded.
// Its implicit constructor builds a json null, which allocates nothing; nothing escapes.
struct Scenario {  // NOLINT(bugprone-exception-escape)
  std::string file;
  nlohmann::json document;  // as read, after --set, before the sweep
  std::vector<ScenarioPoint> points;
  std::vector<SkippedPoint> skipped;  // sweep points whose strategy does not apply
};

/// Reads `path`, applies `sets` ("dotted.path=VALUE", VALUE parsed as JSON, else taken as a
/// string), expands the sweep and parses every point.
///
/// Inputs:  `path` as the user gave it (messages name the file so); a relative "hardware"
///          path is taken relative to the scenario's folder. A --set path "gpus" sets the GPU
///          count as a sweep's "gpus" does. A --set on a path the sweep varies fixes it: that
///          sweep key is dropped.
/// Output:  one point per element of the cross product of the sweep's values, keys in sorted
///          order (JSON objects are unordered), the first key varying slowest; one point with
///          an empty label and no parameters without a sweep. Each point's `document` is the
///          scenario with the point's values set and no "sweep"; a swept or --set "gpus" is
///          written there as topology.nodes, so the document reloads to the same point.
/// Errors:  config::InputError with the file, the point's label, the JSON pointer, what was
///          expected and what was found; a malformed --set is UsageError (exit 2) and a --set
///          whose value is wrong for its field is an InputError that names the --set instead
///          of the file:
///            --set workload.sequence_length=abc: /workload/sequence_length: expected an
///            integer in [1, 1099511627776], got "abc"
///          A sweep point whose strategy does not apply to its degrees (NotApplicable) is
///          listed in `skipped` instead; only when every point is skipped is the first one's
///          message thrown.
Scenario load_scenario(const std::string& path, const std::vector<std::string>& sets = {});

// The names the reader accepts, sorted (scenarios/schema.json lists the same; a test checks).

/// Built-in model presets (cli/model_presets.json), e.g. llama3-8b.
std::vector<std::string> model_preset_names();
/// The built-in preset's fields as JSON (with its "source"). Precondition: a preset name.
nlohmann::json model_preset(const std::string& name);
/// attention.kind: causal, dense, dilated, linear, sliding_window.
std::vector<std::string> attention_kind_names();
/// attention.implementation: cudnn, fa2, fa3, ours, triton.
std::vector<std::string> attention_implementation_names();
/// model.dtype: bf16, fp16, fp32, fp8, tf32.
std::vector<std::string> dtype_names();
/// workload.phase: decode, forward, prefill, training.
std::vector<std::string> phase_names();
/// network_model: analytical, flow.
std::vector<std::string> network_model_names();

}  // namespace attnsim::cli
