// SPDX-License-Identifier: Apache-2.0
// ModelShape's weight count, KV heads per rank, a layer's GEMM weights and the attention
// axes (workload.h).
#include "models/workload.h"

#include <algorithm>

namespace attnsim::models {

std::int64_t ModelShape::parameters() const {
  const std::int64_t d = hidden;
  const std::int64_t attention = 2 * d * (std::int64_t{heads} + kv_heads) * head_dim;  // Q,O + K,V
  const std::int64_t mlp = (gated_mlp ? 3 : 2) * d * ffn_hidden;
  const std::int64_t norms = 2 * d;
  return layers * (attention + mlp + norms) + 2 * vocab * d + d;  // + embedding, head, final norm
}

std::vector<AttentionAxis> attention_axes(const AttentionSpec& spec) {
  if (spec.kind == AttentionKind::kSpatialTemporal) {
    return {AttentionAxis::kSpatial, AttentionAxis::kTemporal};
  }
  return {AttentionAxis::kSequence};
}

AttentionSpec axis_attention(const AttentionSpec& spec, AttentionAxis axis,
                             std::int64_t sequence_length) {
  if (axis == AttentionAxis::kSequence) {
    return spec;
  }
  AttentionSpec out;
  out.kind = AttentionKind::kDilated;
  out.implementation = spec.implementation;
  out.segment_lengths = {axis == AttentionAxis::kSpatial ? sequence_length / spec.frames
                                                         : spec.frames};
  out.dilation_rates = {1};
  return out;
}

double kv_heads_per_rank(const Workload& work, double split) {
  return std::max(1.0, work.model.kv_heads / split);
}

double layer_weights(const Workload& work, double split) {
  const ModelShape& s = work.model;
  const double d = s.hidden;
  const double heads = static_cast<double>(s.heads) / split;
  const auto self = static_cast<double>(attention_axes(work.attention).size());
  const double attention =
      self * d * (2.0 * heads + 2.0 * kv_heads_per_rank(work, split)) * s.head_dim;
  // Only spatial_temporal reads cross_attention_tokens (the scenario reader rejects it elsewhere).
  const double cross =
      work.attention.cross_attention_tokens > 0 ? 4.0 * d * heads * s.head_dim : 0.0;
  return attention + cross + (s.gated_mlp ? 3.0 : 2.0) * d * s.ffn_hidden / split;
}

}  // namespace attnsim::models
