// SPDX-License-Identifier: Apache-2.0
// Parameters and launchers of the attention kernels (attention_forward.cu,
// attention_backward.cu, attention.cu), internal to kernels/. One launch covers one
// index::LaunchGeometry: a set of heads and their sub-problems (kernels/mask_index.h).
//
// Tiling (both passes): 64-row tiles, 4 warps per CTA, each warp owning 16 rows; tensor cores
// through nvcuda::wmma 16x16x16 fragments (bf16/fp16 in, fp32 accumulate), softmax and masking
// on fp32 tiles in shared memory. Forward: a CTA owns 64 queries of one sub-problem and
// streams the 64-key tiles kept_keys() names (online softmax, FlashAttention-2 Algorithm 1).
// Backward: a CTA owns 64 keys, streams the query tiles kept_queries() names, keeps dK and dV
// in registers and adds dQ into an fp32 accumulator with atomics (FlashAttention-2 Alg. 2).
#pragma once

#include <cuda_runtime.h>

#include "kernels/mask_index.h"

namespace attnsim::kernels::detail {

using index::Index;

/// A [batch, tokens, heads, head_dim] input in device memory (strides in elements).
struct InTensor {
  const void* data = nullptr;
  Index batch_stride = 0;
  Index token_stride = 0;
  Index head_stride = 0;
};

/// As InTensor, written.
struct OutTensor {
  void* data = nullptr;
  Index batch_stride = 0;
  Index token_stride = 0;
  Index head_stride = 0;
};

struct ForwardParams {
  InTensor q;
  InTensor k;
  InTensor v;
  OutTensor o;
  float* lse = nullptr;      // [batch, heads, seq_q]
  float* o_accum = nullptr;  // fp32 [batch, seq_q, heads, head_dim]: merge branches into it
  int batch = 1;
  int heads = 0;
  int kv_group = 1;  // query heads per kv head
  Index seq_q = 0;
  float scale_log2 = 0.f;  // softmax scale · log2(e)
  Index q_tiles = 0;       // query tiles per sub-problem; grid.x = q_tiles · problems
  index::LaunchGeometry geometry;
};

struct BackwardParams {
  InTensor q;
  InTensor k;
  InTensor v;
  InTensor d_o;
  const float* lse = nullptr;    // [batch, heads, seq_q]
  const float* delta = nullptr;  // rowsum(dO∘O), [batch, heads, seq_q]
  float* d_q_accum = nullptr;    // fp32 [batch, seq_q, heads, head_dim], atomics
  OutTensor d_k;                 // written directly when d_k_accum is null
  OutTensor d_v;
  float* d_k_accum = nullptr;  // fp32 [batch, seq_k, kv_heads, head_dim], atomics
  float* d_v_accum = nullptr;
  int batch = 1;
  int heads = 0;
  int kv_heads = 0;
  int kv_group = 1;
  Index seq_q = 0;
  Index seq_k = 0;
  float scale = 0.f;
  float scale_log2 = 0.f;
  Index k_tiles = 0;  // key tiles per sub-problem; grid.x = k_tiles · problems
  index::LaunchGeometry geometry;
};

/// Launches one forward launch of T in {__half, __nv_bfloat16}, head dim D in {64, 128}.
template <typename T, int D>
void launch_forward(const ForwardParams& params, cudaStream_t stream);

/// Launches one backward launch (after the delta kernel).
template <typename T, int D>
void launch_backward(const BackwardParams& params, cudaStream_t stream);

}  // namespace attnsim::kernels::detail
