// SPDX-License-Identifier: Apache-2.0
// One training (or forward) step as a trace, and its timing: the layer skeleton around a
// strategy's attention, the tensor-, data- and pipeline-parallel communication, and the
// extrapolation from the simulated layers to the whole model.
//
// Per layer and GPU, forward (Megatron-LM's transformer layer; T tokens of the sequence on
// the GPU = Sharding::tokens_per_gpu, t = the tensor group (tp, or tp·cp for head_parallel),
// b sequences per micro-batch; GEMM shapes m x n x k):
//   norm                          memory-bound, 2·T·d·B bytes (T/t with sequence parallelism)
//   [all-gather X over t]         T·d·B (sequence parallelism)
//   QKV projection                bT x (h/t + 2·max(1, h_kv/t))·d_h x d
//   attention                     the strategy (strategy.h)
//   output projection             bT x d x h·d_h/t
//   [reduce-scatter | all-reduce] T·d·B over t
//   norm, [all-gather]            as above
//   MLP up (+gate)                bT x (2 or 1)·ffn/t x d, activation memory-bound
//   MLP down                      bT x d x ffn/t
//   [reduce-scatter | all-reduce]
// Spatial-temporal layers (workload.h kSpatialTemporal, Open-Sora's STDiT block) run the
// block from the norm to the output projection once per axis (spatial, then temporal; the
// temporal one reads the residual sum, a 3·T·d·B memory pass, instead of a norm), then the
// cross-attention to the text tokens (Q, K, V and output GEMMs and its kernel, no
// communication of its own), then the MLP.
// Backward mirrors it (each GEMM becomes its data- and weight-gradient GEMMs, all-gathers
// and reduce-scatters swap); recompute kFull reruns the layer's forward first. After a
// layer's backward its gradients, P_l·B bytes per GPU (P_l its parameters / t), are
// reduced over the data-parallel group (dp, times cp when the strategy replicates weights
// over cp): all-reduce with zero_stage 0, reduce-scatter otherwise; these run on NCCL's
// stream behind the backward (Megatron's overlapped gradient reduction). The output head
// (bT x vocab/t x d) runs once per micro-batch after the last layer. The step ends with the
// optimizer (memory-bound Adam over this GPU's shard: 24 + 2B bytes per parameter: fp32
// master, m, v read and written, gradient read, parameter written) and, with ZeRO-1 and 2,
// the all-gather of updated parameters. ZeRO-3 instead all-gathers each layer's parameters
// before its forward and its backward, prefetched on NCCL's stream at most two layers ahead
// (FSDP's rate limiter: layer n's gather waits for layer n-2's compute).
//
// Decode (serving): one new token for each of `batch` sequences per step (m = batch/dp rows
// in every GEMM), attention reads the KV cache of context_length tokens (memory-bound,
// 2·h_kv·d_h·B per token and layer, split over the cp ranks), and sequence-split caches
// all-gather the partial outputs and softmax statistics ((d_h + 1) fp32 values per head).
//
// Simulated window: all GPUs of pipeline stage 0 (every tp, cp and dp rank), K =
// min(simulated_layers, layers per stage) layers (0 = all). The step time extrapolates:
//   T_mb = F_1 + (L_s - 1)·F_p + H + B_1 + (L_s - 1)·B_p
//   step = (m + pp - 1)·T_mb + tail
// with F_1, B_1 the first forward and backward layer, F_p, B_p the mean period of the others
// (measured between layer-end markers), H the output head, L_s = layers / pp, m micro-batches
// per replica, (pp-1)·T_mb the 1F1B pipeline bubble and tail the data-parallel reduction and
// optimizer after the last backward layer. Every stage is priced as the one with the output
// head; stages do not contend for links with each other.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/collectives/layout.h"
#include "models/cost.h"
#include "models/strategies/strategy.h"
#include "models/workload.h"
#include "sim/network.h"
#include "sim/replay.h"
#include "sim/trace.h"

namespace attnsim::models {

struct StepOptions {
  int zero_stage = 1;
  bool sequence_parallel = true;
  std::int64_t microbatches = 1;  // per data-parallel replica
  int simulated_layers = 4;       // 0 = all layers of a stage
};

/// A built step.
struct StepTrace {
  sim::Trace trace;
  Tags tags;
  Sharding sharding;
  int layers_per_stage = 0;
  int layers_simulated = 0;
  double sequences_per_microbatch = 1;
  std::vector<sim::OpId> forward_end;   // per simulated layer, in order
  sim::OpId head_end = 0;               // after the output head (forward and backward)
  std::vector<sim::OpId> backward_end;  // per simulated layer, in backward order
  sim::OpId layers_end = 0;             // the last forward (forward-only) or backward layer
  CostNotes notes;
  /// FLOPs of the attention kernels each GPU runs (every simulated layer and pass, all
  /// sequences of the micro-batch; BlockWork's convention), by GPU: the work the strategy
  /// hands it, which tests compare with brute-force enumeration of the mask, plus the
  /// spatial-temporal cross-attention's kernels (scope kModel). Indexed by GPU.
  std::vector<double> attention_flops;
};

/// Emits the step of `work` under `strategy` and `degrees` on `layout`, priced by `cost`.
/// Preconditions: strategy.check(work, degrees) passed; degrees.gpus() == layout.gpus.
StepTrace build_step(const Workload& work, const Degrees& degrees, const Strategy& strategy,
                     const StepOptions& options, const Layout& layout, const CostModel& cost);

/// The timing of a replayed step, extrapolated to the whole model (see the header comment).
struct StepTiming {
  double step_s = 0;
  double microbatch_s = 0;  // T_mb
  double bubble_s = 0;
  double tail_s = 0;
  double attention_s = 0;     // attention kernels on the critical path
  double compute_s = 0;       // all compute on the critical path (attention included)
  double comm_s = 0;          // time GPU 0 had communication in flight
  double exposed_comm_s = 0;  // communication on the critical path
  std::map<std::string, double> exposed_by_phase_s;  // attention, tp, dp, pp
  double comm_bytes_per_gpu = 0;                     // bytes GPU 0 sent in the step
  std::string bottleneck_class;
  double bottleneck_utilization = 0;
  double bottleneck_bytes = 0;
};

StepTiming time_step(const StepTrace& step, const sim::ReplayResult& replay,
                     const sim::Network& network, const Workload& work, const Degrees& degrees,
                     const StepOptions& options);

/// Model FLOPs of one step (MFU's numerator): 6·P_dense·tokens for training (2 forward),
/// plus the attention score FLOPs of the mask (forward 4·pairs·d_h, backward 2.5x), with
/// no recomputation counted (PaLM's MFU convention).
double model_flops(const Workload& work);

}  // namespace attnsim::models
