// SPDX-License-Identifier: Apache-2.0
#include "models/memory.h"

#include <algorithm>

#include "models/strategies/common.h"

namespace attnsim::models {

MemoryEstimate estimate_memory(const Workload& work, const Degrees& degrees,
                               const Strategy& strategy, const StepOptions& options) {
  const ModelShape& s = work.model;
  const Sharding sh = strategy.sharding(work, degrees);
  const double t = sh.weight_split;
  const double d = s.hidden;
  const double bytes = s.dtype_bytes;
  const double layers = static_cast<double>(s.layers) / degrees.pp;
  const double layer_params = layer_weights(work, t) + 2.0 * d;
  const double params = layer_params * layers + 2.0 * static_cast<double>(s.vocab) * d / t;
  const double group =
      static_cast<double>(degrees.dp) * (sh.weights_replicated_over_cp ? degrees.cp : 1);
  const bool training = work.has_backward();
  const int zero = training ? options.zero_stage : 0;

  MemoryEstimate m;
  m.bytes["weights"] = params * bytes / (zero >= 3 ? group : 1.0);
  if (training) {
    m.bytes["gradients"] = params * bytes / (zero >= 2 ? group : 1.0);
    m.bytes["optimizer"] = 12.0 * params / (zero >= 1 ? group : 1.0);
  }
  const double b = static_cast<double>(work.sequences_per_step) /
                   (static_cast<double>(degrees.dp) * static_cast<double>(options.microbatches));
  const double tokens = static_cast<double>(sh.tokens_per_gpu) * b;
  const double scale = bytes / 2.0;
  const bool sp = options.sequence_parallel && t > 1;
  // Korthikanti et al. (arXiv 2205.05198) per layer, flash attention (no score matrix):
  // 34·T·d·B/2 = attention block 11 (QKV input 2, Q and K 4, V 2, output projection input
  // 2, dropout mask 1) + MLP 19 + two norms 4; of it 10 (norms 4, dropout masks 2, QKV and
  // MLP inputs 4) is not split without sequence parallelism. kSpatialTemporal's second
  // self-attention adds an attention block and its residual input (13: 5 unsplit) and the
  // cross-attention its query input, Q and output projection input and dropout mask (7:
  // 3 unsplit; the text's K and V are negligible).
  const auto axes = static_cast<double>(attention_axes(work.attention).size());
  const double extra_self = axes - 1.0;
  const double cross = work.attention.cross_attention_tokens > 0 ? 1.0 : 0.0;
  const double whole = 34.0 + 13.0 * extra_self + 7.0 * cross;
  const double unsplit = 10.0 + 5.0 * extra_self + 3.0 * cross;
  const double full_layer = (sp ? whole / t : unsplit + (whole - unsplit) / t) * tokens * d * scale;
  const AttentionMemory am = strategy.memory(work, degrees);
  double activations = 0;
  if (work.scope == Scope::kAttention) {
    // Q, K, V, O and the fp32 softmax statistics of the attention core.
    const double h_r = static_cast<double>(s.heads) / t;
    activations =
        ((2.0 * h_r + 2.0 * kv_heads_per_rank(work, t)) * s.head_dim * bytes + 4.0 * h_r) * tokens *
        (training ? layers : 1.0) * axes;
  } else if (!training) {
    activations = full_layer;
  } else {
    const double in_flight =
        std::min(static_cast<double>(degrees.pp), static_cast<double>(options.microbatches));
    const double per_mb = work.recompute == Recompute::kFull
                              ? 2.0 * tokens * d * scale * layers + full_layer
                              : full_layer * layers;
    activations = per_mb * in_flight;
  }
  m.bytes["activations"] = activations + am.activations_per_layer * b * (training ? layers : 1.0);
  if (work.scope == Scope::kModel && s.vocab > 0) {
    m.bytes["logits"] = 4.0 * tokens * static_cast<double>(s.vocab) / t;
  }
  m.bytes["attention_workspace"] = am.workspace * b;
  if (sp && work.scope == Scope::kModel && work.phase != Phase::kDecode) {
    // Sequence parallelism keeps each layer input sharded and all-gathers it into one
    // full-sequence buffer before the column-parallel GEMMs, forward and backward
    // (attention.md 2.12 "N·d gathered"; Megatron-LM's global memory buffer).
    m.bytes["sequence_parallel_gather"] = tokens * d * bytes;
  }
  if (work.phase == Phase::kDecode) {
    // The KV cache: context x 2·h_kv·d_h·B per sequence and layer, split over cp by sequence
    // (or by heads for head parallelism, where t already counts cp).
    const double by_sequence = sh.weights_replicated_over_cp ? degrees.cp : 1.0;
    m.bytes["attention_workspace"] = 0;
    m.bytes["activations"] = 0;
    m.bytes["kv_cache"] = layers * static_cast<double>(work.batch) / degrees.dp *
                          static_cast<double>(work.context_length) / by_sequence * 2.0 *
                          kv_heads_per_rank(work, t) * s.head_dim * bytes;
  }
  for (const auto& [name, value] : m.bytes) {
    m.total += value;
  }
  return m;
}

}  // namespace attnsim::models
