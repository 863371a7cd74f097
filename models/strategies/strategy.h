// SPDX-License-Identifier: Apache-2.0
// The parallelism strategy interface (STYLE C3): a strategy decides how one layer's attention
// is split over the sequence/head group of `cp` GPUs and emits that part of the step as a
// DAG of compute and communication; models/step.h emits everything around it (projections,
// MLP, tensor-parallel collectives, data-parallel gradient reduction, pipeline stages).
//
// Rank placement (Megatron's order, tensor-parallel ranks innermost): the GPU of
// (tp_i, cp_i, dp_i, pp_i) is ((pp_i·dp + dp_i)·cp + cp_i)·tp + tp_i, so with tp·cp <= GPUs per
// node the tensor- and sequence-parallel groups stay inside the NVLink domain.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/node.h"
#include "models/collectives/layout.h"
#include "models/cost.h"
#include "models/workload.h"
#include "sim/trace.h"

namespace attnsim::models {

/// Parallel degrees; their product is the GPU count.
struct Degrees {
  int tp = 1;  // tensor parallel (Megatron), heads and ffn split
  int cp = 1;  // the strategy's own sequence/head degree
  int dp = 1;  // data parallel
  int pp = 1;  // pipeline stages

  std::int64_t gpus() const { return std::int64_t{tp} * cp * dp * pp; }

  /// GPU of (tp_i, cp_i, dp_i, pp_i) in the placement above.
  std::uint32_t gpu(int tp_i, int cp_i, int dp_i, int pp_i) const {
    return static_cast<std::uint32_t>(((std::int64_t{pp_i} * dp + dp_i) * cp + cp_i) * tp + tp_i);
  }
};

/// How the layer outside attention is split under a strategy.
struct Sharding {
  /// Tokens of one sequence a GPU holds in the projections and MLP (N / cp for context
  /// parallel strategies, N for head-parallel ones).
  std::int64_t tokens_per_gpu = 0;
  /// Ways the projection and MLP weights are split (tp, or tp·cp for head-parallel).
  int weight_split = 1;
  /// Whether the cp ranks hold identical weights, so their gradients are reduced together
  /// with the data-parallel ranks (context parallelism: Megatron reduces over dp x cp).
  bool weights_replicated_over_cp = true;
};

/// Attention-specific memory of one GPU, in bytes (activations of one layer unless stated).
struct AttentionMemory {
  double activations_per_layer = 0;  // kept for backward: Q, K, V, O, softmax statistics
  double workspace = 0;              // transient: received blocks, all-to-all staging, gathers
};

/// A communicator of the strategy's own traffic, for NCCL's buffers (memory.h): cp ranks
/// c, c + stride, ..., c + (size - 1)·stride, and what the strategy runs on it.
struct CommGroup {
  int size = 0;
  int stride = 1;            // in cp ranks
  bool collectives = false;  // ring collectives (all-gather, reduce-scatter)
  int peers = 0;             // distinct send/recv peers of a rank (all-to-all: size - 1)
};

/// Tags the trace uses to group ops in results (phases of exposed communication).
struct Tags {
  sim::TagId compute = 0;         // projections, MLP, norms
  sim::TagId attention = 0;       // attention kernels
  sim::TagId attention_comm = 0;  // the strategy's communication
  sim::TagId tp_comm = 0;
  sim::TagId dp_comm = 0;
  sim::TagId pp_comm = 0;
  sim::TagId marker = 0;  // zero-length joins
};

/// What was priced beyond measured data, for results' `extrapolated` list.
struct CostNotes {
  std::set<std::string, std::less<>> extrapolated;

  /// Records `what` when `cost` came from a fit beyond the profile's measurements. Called for
  /// every op a step emits: looks up before it copies.
  void note(const Cost& cost, std::string_view what) {
    if (cost.extrapolated && extrapolated.find(what) == extrapolated.end()) {
      extrapolated.emplace(what);
    }
  }
};

/// Everything emit_attention() needs for one pass of one layer over one sequence/head group.
struct AttentionCall {
  const Workload& work;
  const CostModel& cost;
  const Layout& layout;
  const Tags& tags;
  Pass pass;
  std::span<const std::uint32_t> group;  // GPU of each cp rank, by cp rank
  int head_begin = 0;                    // heads [head_begin, head_end) of this tp rank
  int head_end = 0;
  std::span<const sim::OpId> ready;  // per cp rank: its inputs (Q, K, V; or dO) are ready
  CostNotes& notes;
  /// Attention FLOPs each GPU's kernels run, indexed by GPU (add_attention() adds to it).
  std::vector<double>& attention_flops;
  double sequences = 1;  // sequences in the micro-batch: work and bytes scale with it
  /// Which of the layer's self-attentions this is. For kSpatial and kTemporal, `work` holds
  /// that axis's attention (workload.h axis_attention()): the strategy prices it as any
  /// block-diagonal attention and adds what the axis needs (dsp.h: the reshard).
  AttentionAxis axis = AttentionAxis::kSequence;
};

/// A parallelism strategy for attention.
///
/// Inputs:  the workload, degrees, the machine layout (placement and NCCL's view) and the
///          cost model; parameters were read by the factory from the `parallelism` section.
/// Output:  emit_attention() appends ops to `trace` and returns, per cp rank, the op after
///          which that rank's attention output (forward) or input gradients (backward) exist.
///          Compute goes on stream kComputeStream of each GPU.
/// Errors:  check() throws config::InputError, located at the `parallelism` section's keys,
///          for anything the degrees or the model make impossible; emit_attention() and
///          memory() may assume check() passed.
class Strategy {
 public:
  static constexpr std::uint32_t kComputeStream = 0;

  virtual ~Strategy() = default;

  virtual void check(const Workload& work, const Degrees& degrees) const = 0;

  /// Context parallelism by default: N/cp tokens per GPU, weights split tp ways and
  /// replicated over the cp ranks.
  virtual Sharding sharding(const Workload& work, const Degrees& degrees) const {
    Sharding s;
    s.tokens_per_gpu = work.sequence_length / degrees.cp;
    s.weight_split = degrees.tp;
    s.weights_replicated_over_cp = true;
    return s;
  }

  virtual std::vector<sim::OpId> emit_attention(const AttentionCall& call,
                                                sim::Trace& trace) const = 0;
  virtual AttentionMemory memory(const Workload& work, const Degrees& degrees) const = 0;

  /// The communicators the strategy's own traffic runs on inside a cp group (none when it
  /// sends nothing). memory.h sizes NCCL's buffers from them.
  virtual std::vector<CommGroup> comm_groups(const Workload& work,
                                             const Degrees& degrees) const = 0;

  /// The strategy's own degrees for results (e.g. ulysses_degree, ring_degree).
  virtual std::map<std::string, std::int64_t> own_degrees(const Workload& work,
                                                          const Degrees& degrees) const {
    (void)work;
    (void)degrees;
    return {};
  }

  /// Caveats for results, e.g. "approximate attention: compressed remote context".
  virtual std::vector<std::string> notes() const { return {}; }
};

/// Strategy names a scenario may use, sorted; includes "auto".
std::vector<std::string> strategy_names();

/// Builds the strategy named by parallelism["strategy"] from its section (it reads its own
/// keys; the caller rejects unknown keys afterwards). "auto" is not built here: it returns
/// null, and the runner tries every candidate (auto_candidates()).
std::shared_ptr<const Strategy> make_strategy(const config::Node& parallelism);

/// A strategy `auto` tries: its registered name, a label for reasons (the name, or the name
/// with the parameters that differ from the defaults) and the strategy itself.
struct AutoCandidate {
  std::string name;
  std::string label;
  std::shared_ptr<const Strategy> strategy;
};

/// The strategies `auto` tries for `work`: every exact one with its default parameters, and
/// for dilated attention also the segment-scoped ring ("ring_scope": "segment", ring.h).
std::vector<AutoCandidate> auto_candidates(const Workload& work);

/// Builds a named strategy with default parameters (for auto).
std::shared_ptr<const Strategy> make_default_strategy(const std::string& name);

}  // namespace attnsim::models
