// SPDX-License-Identifier: Apache-2.0
// cuDNN's fused flash attention (SDPA) forward and backward as plain C++ graphs (no cuDNN type,
// built and tested in every build): the tensors and operations that calibrate/cuda/cudnn_sdpa.h
// lowers to cuDNN backend descriptors.
//
// The graphs are the ones the cuDNN frontend builds for cuDNN 9 before 9.21 with no dropout,
// bias, alibi, padding or paged cache, a by-value fp32 scale, and causal as a top-left right
// bound of 0 (NVIDIA/cudnn-frontend: include/cudnn_frontend/node/
// scaled_dot_product_flash_attention.h, CompositeSDPANode::expand_node and
// CompositeSDPABackwardNode::expand_node; softmax.h CompositeSoftmaxNode; diagonal_band_mask.h
// CompositeDiagonalBandMaskNode; utils/attn_score_modifiers.h causal_mask). cuDNN's SDPA
// engines recognise these patterns. Shapes are [b, h, s, d] with BSHD memory (strides
// [s·h·d, d, h·d, 1]); K (and V in the backward) enter transposed through their strides.
//
// Forward (S, P are [b,h,s,s]; m, l, Stats are [b,h,s,1], fp32):
//   S = Q·Kᵀ · scale; causal: S = row >= col ? S : -inf
//   sliding window w (causal with a top-left left bound, utils/attn_score_modifiers.h
//   sliding_window_mask): then S = col + w > row ? S : -inf, so row - w < col <= row
//   m = max(S); E = exp(S - m); l = sum(E); Stats = m + log l; P = E / l (io type); O = P·V
// Backward (the frontend's non-deterministic path for cuDNN >= 9, no dP workspace):
//   softmax_sum = sum(dO ∘ O) · 1   (fp32 [b,h,s,1], non-virtual, in workspace)
//   E = exp(Q·Kᵀ·scale [masked] - Stats); dV = Eᵀ·dO
//   dS = (dO·Vᵀ - softmax_sum) ∘ E · scale; dK = dSᵀ·Q
//   dQ_accum = dS·K (fp32 [b,h,s,d], non-virtual, in workspace); dQ = identity(dQ_accum)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnsim::calibrate::cuda {

/// Element types the graphs use (cuDNN's CUDNN_DATA_*).
enum class SdpaType { kBFloat16, kFloat16, kFloat32, kInt32, kBoolean };

/// One attention call: batch x heads sequences of `seq` tokens, head dimension `head_dim`,
/// Q, K, V, O, dO, dQ, dK, dV in `dtype` ("bf16" or "fp16"), self-attention (s_q = s_kv).
/// `window` > 0 (with `causal`) is a sliding window: query i keeps keys i - window < j <= i, as
/// kernels/attention.h defines it and the frontend's set_sliding_window_length(window) with
/// set_diagonal_band_right_bound(0) builds it.
struct SdpaShape {
  std::int64_t batch = 1;
  std::int64_t heads = 1;
  std::int64_t seq = 0;
  std::int64_t head_dim = 0;
  bool causal = false;
  std::int64_t window = 0;
  std::string dtype = "bf16";
};

/// Why cuDNN's SDPA (as these graphs express it) cannot run `shape`, or "" when it can:
/// dtype bf16 or fp16; batch, heads >= 1; head_dim a multiple of 8 up to 128 (the frontend's
/// limit for the backward on every GPU generation); seq >= 2 and a multiple of 128 (for
/// cuDNN <= 9.15 the frontend adds a padding mask to the backward otherwise, which these graphs
/// do not have); window >= 0, and a window only with causal (before cuDNN 9.10.2 the frontend
/// allows a left bound only with causal-like masking, sdpa_support_surface.h).
std::string sdpa_unsupported(const SdpaShape& shape);

/// A tensor of a graph. Virtual tensors live only inside the fused kernel; non-virtual ones
/// are device buffers named in the variant pack, except by-value ones, which are host scalars
/// (`value`, fp32) passed by pointer.
struct SdpaTensor {
  std::int64_t uid = 0;
  std::string name;
  std::vector<std::int64_t> dims, strides;
  SdpaType type = SdpaType::kFloat32;
  bool is_virtual = false;
  bool by_value = false;
  float value = 0;
};

enum class SdpaOpKind { kMatmul, kPointwise, kReduction, kReshape };

/// cuDNN pointwise modes used (CUDNN_POINTWISE_*).
enum class PointwiseMode {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kExp,
  kLog,
  kIdentity,
  kGenIndex,
  kCmpGe,
  kCmpGt,
  kBinarySelect
};

/// cuDNN reduction operators used (CUDNN_REDUCE_TENSOR_*).
enum class ReductionMode { kAdd, kMax };

/// One operation. Inputs in cuDNN's port order: matmul A, B; pointwise X, B, T (one, two or
/// three of them); reduction and reshape X. `compute` is the math precision (matmul, pointwise,
/// reduction); `axis` the GEN_INDEX axis.
struct SdpaOp {
  SdpaOpKind kind = SdpaOpKind::kPointwise;
  std::string name;
  PointwiseMode pointwise = PointwiseMode::kIdentity;
  ReductionMode reduction = ReductionMode::kAdd;
  std::int64_t axis = -1;
  SdpaType compute = SdpaType::kFloat32;
  std::vector<std::int64_t> inputs;
  std::int64_t output = 0;
};

/// A whole graph; ops in the frontend's order (producers before consumers).
struct SdpaGraph {
  std::vector<SdpaTensor> tensors;
  std::vector<SdpaOp> ops;

  /// The tensor with `uid`. Precondition: there is one.
  const SdpaTensor& tensor(std::int64_t uid) const {
    for (const SdpaTensor& t : tensors) {
      if (t.uid == uid) {
        return t;
      }
    }
    return tensors.front();  // unreachable for a valid uid; graphs are built by this file
  }
};

/// Fixed uids of the tensors the caller binds to memory (the variant pack).
namespace sdpa_uid {
constexpr std::int64_t kQ = 1;
constexpr std::int64_t kK = 2;
constexpr std::int64_t kV = 3;
constexpr std::int64_t kO = 4;
constexpr std::int64_t kStats = 5;  // fp32 [b,h,s,1], the log-sum-exp of each row
constexpr std::int64_t kDO = 6;
constexpr std::int64_t kDQ = 7;
constexpr std::int64_t kDK = 8;
constexpr std::int64_t kDV = 9;
constexpr std::int64_t kDQAccum = 10;     // backward workspace: fp32 [b,h,s,d]
constexpr std::int64_t kSoftmaxSum = 11;  // backward workspace: fp32 [b,h,s,1]
}  // namespace sdpa_uid

/// The value masked scores get: -inf from cuDNN 9.10 on, the lowest finite float before (the
/// frontend's get_negative_inf_value). `cudnn_version` as cudnnGetVersion() returns it.
float sdpa_mask_value(int cudnn_version);

/// The forward graph: inputs Q, K, V and the by-value scale 1/sqrt(d); outputs O and Stats.
SdpaGraph sdpa_forward_graph(const SdpaShape& shape, int cudnn_version);

/// The backward graph: inputs Q, K, V, O, dO, Stats, scale; outputs dQ, dK, dV; workspace
/// tensors dQ_accum and softmax_sum; the by-value constant 1.
SdpaGraph sdpa_backward_graph(const SdpaShape& shape, int cudnn_version);

}  // namespace attnsim::calibrate::cuda
