// SPDX-License-Identifier: Apache-2.0
// The cuDNN SDPA shape (calibrate/cuda/sdpa_graph.h) of an attention problem the CPU references
// take (kernels/attention.h, tests/support/attention_reference.h), for the tests that run the
// SDPA graphs on the host or on a device against those references.
#pragma once

#include <cstdint>

#include "calibrate/cuda/sdpa_graph.h"
#include "kernels/attention.h"

namespace attnsim::test {

/// A self-attention problem of batch 2 x 3 heads (MHA) of `seq` tokens, with `mask` (and
/// `window` for a sliding window): the shape the SDPA graph checks use.
inline kernels::AttentionProblem sdpa_test_problem(kernels::DType dtype, std::int64_t seq,
                                                   int head_dim, kernels::MaskKind mask,
                                                   std::int64_t window) {
  kernels::AttentionProblem p;
  p.dtype = dtype;
  p.batch = 2;
  p.heads = 3;
  p.kv_heads = 3;
  p.seq_q = seq;
  p.seq_k = seq;
  p.head_dim = head_dim;
  p.mask.kind = mask;
  p.mask.window = window;
  return p;
}

/// Precondition: self-attention (seq_q = seq_k), heads = kv_heads, and a dense, causal or
/// sliding-window mask at positions 0, 1, ... (the graphs have no other).
inline calibrate::cuda::SdpaShape sdpa_shape(const kernels::AttentionProblem& p) {
  calibrate::cuda::SdpaShape s;
  s.batch = p.batch;
  s.heads = p.heads;
  s.seq = p.seq_q;
  s.head_dim = p.head_dim;
  s.causal = p.mask.kind != kernels::MaskKind::kDense;
  s.window = p.mask.kind == kernels::MaskKind::kSlidingWindow ? p.mask.window : 0;
  s.dtype = p.dtype == kernels::DType::kFloat16 ? "fp16" : "bf16";
  return s;
}

}  // namespace attnsim::test
