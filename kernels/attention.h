// SPDX-License-Identifier: Apache-2.0
// Host API of our attention kernels (FlashAttention-2 style, tensor cores through nvcuda::wmma):
// forward (O and the logsumexp) and backward (dQ, dK, dV) for dense, causal, sliding-window and
// LongNet dilated masks, bf16/fp16 in, fp32 accumulation, head dims 64 and 128, GQA.
// Plain C++: no CUDA type is needed to include it. calibrate/cuda times these calls.
//
// Masks are those of models/attention/mask.h, by position (see kernels/README.md):
//   dense           every key
//   causal          k <= q
//   sliding_window  q - window < k <= q
//   dilated         per branch i (w_i, r_i) the head runs, with offset o: same segment of
//                   min(w_i, N) tokens and q ≡ k ≡ o (mod r_i) [and k <= q when causal].
//                   kHeadGroups: head group i (h/k heads, the first h mod k groups one more)
//                   runs branch i only, o = i mod r_i; rows outside its residue class get
//                   O = 0 and LSE = -inf. kAllHeads: every head runs every branch, head j with
//                   o = j mod r_i; branch outputs are combined by their logsumexps, so a pair
//                   kept by two branches counts twice (torchscale; mask.h counts it twice).
// A query row that keeps no key gets O = 0 and LSE = -inf, and no gradient.
#pragma once

#include <cstddef>
#include <cstdint>

namespace attnsim::kernels {

enum class DType { kFloat16, kBFloat16 };

enum class MaskKind { kDense, kCausal, kSlidingWindow, kDilated };

/// How dilated branches share heads (attention.md 1.2; models::DilatedHeads).
enum class DilatedHeads { kHeadGroups, kAllHeads };

/// The most dilated branches one call takes (as models/attention/mask.h).
inline constexpr int kMaxBranches = 16;

/// LongNet branches (w_i, r_i): r_i >= 1 divides w_i. Plain arrays so that the struct can be
/// passed to a kernel by value.
struct DilatedMask {
  int branches = 0;
  std::int64_t segment_lengths[kMaxBranches] = {};
  std::int64_t dilation_rates[kMaxBranches] = {};
  DilatedHeads heads = DilatedHeads::kHeadGroups;
  bool causal = false;  // k <= q inside each branch (LongNet's language models)
};

/// Which (query, key) pairs are kept. Dense, causal and sliding-window masks compare positions:
/// query row i sits at q_position + q_position_stride·i, key row j at k_position +
/// k_position_stride·j (a ring step's block, or a striped shard with stride P). Dilated masks
/// need seq_q == seq_k and the default positions (the whole sequence, rows = positions).
struct AttentionMask {
  MaskKind kind = MaskKind::kDense;
  std::int64_t q_position = 0;
  std::int64_t q_position_stride = 1;
  std::int64_t k_position = 0;
  std::int64_t k_position_stride = 1;
  std::int64_t window = 0;  // kSlidingWindow: >= 1
  DilatedMask dilated;      // kDilated
};

/// The problem's shape, without data.
struct AttentionProblem {
  DType dtype = DType::kBFloat16;
  int batch = 1;
  int heads = 1;     // query heads h
  int kv_heads = 1;  // h_kv, divides h (GQA; 1 = MQA)
  std::int64_t seq_q = 0;
  std::int64_t seq_k = 0;
  int head_dim = 128;         // 64 or 128
  float softmax_scale = 0.f;  // 0 means 1/sqrt(head_dim)
  AttentionMask mask;
};

/// A [batch, tokens, heads, head_dim] tensor in device memory. head_dim elements are contiguous;
/// strides count elements and must be multiples of 8 (16-byte rows), the pointer 16-byte aligned.
struct ConstTensor {
  const void* data = nullptr;
  std::int64_t batch_stride = 0;
  std::int64_t token_stride = 0;
  std::int64_t head_stride = 0;
};

/// As ConstTensor, written by the kernel.
struct Tensor {
  void* data = nullptr;
  std::int64_t batch_stride = 0;
  std::int64_t token_stride = 0;
  std::int64_t head_stride = 0;
};

/// Forward inputs and outputs. lse is fp32 [batch, heads, seq_q], contiguous.
struct AttentionForwardArgs {
  AttentionProblem problem;
  ConstTensor q;  // [batch, seq_q, heads, head_dim]
  ConstTensor k;  // [batch, seq_k, kv_heads, head_dim]
  ConstTensor v;  // [batch, seq_k, kv_heads, head_dim]
  Tensor o;       // [batch, seq_q, heads, head_dim]
  float* lse = nullptr;
  void* workspace = nullptr;  // attention_forward_workspace_bytes(problem) bytes, 256-aligned
  std::size_t workspace_bytes = 0;
};

/// Backward inputs (the forward's inputs, its O and LSE, and dO) and outputs.
struct AttentionBackwardArgs {
  AttentionProblem problem;
  ConstTensor q;
  ConstTensor k;
  ConstTensor v;
  ConstTensor o;
  ConstTensor d_o;
  const float* lse = nullptr;
  Tensor d_q;
  Tensor d_k;
  Tensor d_v;
  void* workspace = nullptr;  // attention_backward_workspace_bytes(problem) bytes, 256-aligned
  std::size_t workspace_bytes = 0;
};

/// Strides of a contiguous [batch, tokens, heads, head_dim] tensor.
inline ConstTensor contiguous(const void* data, std::int64_t tokens, int heads, int head_dim) {
  const std::int64_t head = head_dim;
  return {data, tokens * heads * head, heads * head, head};
}

/// As above, writable.
inline Tensor contiguous(void* data, std::int64_t tokens, int heads, int head_dim) {
  const std::int64_t head = head_dim;
  return {data, tokens * heads * head, heads * head, head};
}

/// Throws std::invalid_argument naming the first unsupported or inconsistent field
/// (e.g. "attention: head_dim must be 64 or 128, got 96").
void check_problem(const AttentionProblem& problem);

/// Device scratch the calls need: forward only for kAllHeads dilated masks (the fp32 output
/// accumulator); backward always (fp32 dQ accumulator, rowsum(dO∘O), and fp32 dK/dV
/// accumulators when several heads or branches add into one key row).
std::size_t attention_forward_workspace_bytes(const AttentionProblem& problem);

/// See attention_forward_workspace_bytes.
std::size_t attention_backward_workspace_bytes(const AttentionProblem& problem);

/// Launches the forward pass on `stream` (a cudaStream_t; nullptr is the default stream).
/// Validates everything first and throws std::invalid_argument; a CUDA launch error throws
/// std::runtime_error. Asynchronous: time it with CUDA events.
void attention_forward(const AttentionForwardArgs& args, void* stream);

/// Launches the backward pass (FlashAttention-2: D = rowsum(dO∘O), then P recomputed per tile
/// from Q, K and the LSE). Errors as attention_forward.
void attention_backward(const AttentionBackwardArgs& args, void* stream);

}  // namespace attnsim::kernels
