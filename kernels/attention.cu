// SPDX-License-Identifier: Apache-2.0
// The host API of kernels/attention.h: validation (kernels/plan.h), dispatch on dtype and head
// dim, the launches of one pass, and the small memory-bound kernels around them: the
// backward's D = rowsum(dO∘O), fp32 accumulator -> T conversion, and the dilated masks' fill of
// rows no branch covers.
#include <cmath>
#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels/attention.h"
#include "kernels/attention_kernels.cuh"
#include "kernels/device.cuh"
#include "kernels/plan.h"

namespace attnsim::kernels {
namespace detail {
namespace {

constexpr int kThreads = 256;

/// Blocks for a grid-stride loop over n items (capped; the loop covers the rest).
unsigned blocks_for(Index n) {
  return static_cast<unsigned>(
      index::min_of(index::max_of(index::ceil_div(n, kThreads), 1), Index{1} << 20));
}

/// delta[b, h, i] = sum over d of dO[b, i, h, d]·O[b, i, h, d] in fp32; one warp per row.
template <typename T>
__global__ void delta_kernel(InTensor o, InTensor d_o, float* delta, int batch, Index seq,
                             int heads, int head_dim) {
  const Index warps = static_cast<Index>(gridDim.x) * (blockDim.x / 32);
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const Index rows = static_cast<Index>(batch) * seq * heads;
  for (Index w = (blockIdx.x * static_cast<Index>(blockDim.x) + threadIdx.x) / 32; w < rows;
       w += warps) {
    const Index h = w % heads;
    const Index i = (w / heads) % seq;
    const Index b = w / (heads * seq);
    const T* orow =
        static_cast<const T*>(o.data) + b * o.batch_stride + i * o.token_stride + h * o.head_stride;
    const T* drow = static_cast<const T*>(d_o.data) + b * d_o.batch_stride + i * d_o.token_stride +
                    h * d_o.head_stride;
    float sum = 0.f;
    for (int c = lane; c < head_dim; c += 32) {
      sum += Element<T>::to_float(orow[c]) * Element<T>::to_float(drow[c]);
    }
    for (int offset = 16; offset > 0; offset /= 2) {
      sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    }
    if (lane == 0) {
      delta[(b * heads + h) * seq + i] = sum;
    }
  }
}

/// out[b, i, h, :] = accum[b, i, h, :] (fp32, contiguous) rounded to T; 8 elements a thread.
template <typename T>
__global__ void convert_kernel(const float* accum, OutTensor out, int batch, Index seq, int heads,
                               int head_dim) {
  const int words = head_dim / 8;
  const Index n = static_cast<Index>(batch) * seq * heads * words;
  for (Index idx = blockIdx.x * static_cast<Index>(blockDim.x) + threadIdx.x; idx < n;
       idx += static_cast<Index>(gridDim.x) * blockDim.x) {
    const Index c = idx % words;
    const Index row = idx / words;  // (b·seq + i)·heads + h
    const Index h = row % heads;
    const Index i = (row / heads) % seq;
    const Index b = row / (heads * seq);
    float vals[8];
    const float* src = accum + row * head_dim + 8 * c;
    for (int e = 0; e < 8; ++e) {
      vals[e] = src[e];
    }
    T* dst = static_cast<T*>(out.data) + b * out.batch_stride + i * out.token_stride +
             h * out.head_stride + 8 * c;
    *reinterpret_cast<uint4*>(dst) = pack8<T>(vals);
  }
}

/// Zeroes the rows of `a` (and of `b` when given) that no dilated branch covers, and sets their
/// LSE to -inf when lse is given. Rows are positions; tensors [batch, seq, heads, head_dim] in
/// 2-byte elements.
__global__ void fill_uncovered_kernel(DilatedMask dilated, int mask_heads, OutTensor a, OutTensor b,
                                      float* lse, int batch, Index seq, int heads, int head_dim) {
  const int words = head_dim / 8;
  const Index n = static_cast<Index>(batch) * seq * heads * words;
  for (Index idx = blockIdx.x * static_cast<Index>(blockDim.x) + threadIdx.x; idx < n;
       idx += static_cast<Index>(gridDim.x) * blockDim.x) {
    const Index c = idx % words;
    const Index row = idx / words;
    const int h = static_cast<int>(row % heads);
    const Index i = (row / heads) % seq;
    const Index bi = row / (heads * seq);
    if (index::dilated_row_covered(dilated, mask_heads, h, i)) {
      continue;
    }
    const uint4 zero = make_uint4(0u, 0u, 0u, 0u);
    *reinterpret_cast<uint4*>(static_cast<unsigned short*>(a.data) + bi * a.batch_stride +
                              i * a.token_stride + h * a.head_stride + 8 * c) = zero;
    if (b.data != nullptr) {
      *reinterpret_cast<uint4*>(static_cast<unsigned short*>(b.data) + bi * b.batch_stride +
                                i * b.token_stride + h * b.head_stride + 8 * c) = zero;
    }
    if (lse != nullptr && c == 0) {
      lse[(bi * heads + h) * seq + i] = -INFINITY;
    }
  }
}

__global__ void fill_kernel(float* data, Index n, float value) {
  for (Index idx = blockIdx.x * static_cast<Index>(blockDim.x) + threadIdx.x; idx < n;
       idx += static_cast<Index>(gridDim.x) * blockDim.x) {
    data[idx] = value;
  }
}

InTensor in(const ConstTensor& t) {
  return {t.data, t.batch_stride, t.token_stride, t.head_stride};
}

OutTensor out(const Tensor& t) {
  return {t.data, t.batch_stride, t.token_stride, t.head_stride};
}

void fill_uncovered(const AttentionProblem& p, const Tensor& a, const Tensor* b, float* lse,
                    Index seq, int heads, cudaStream_t stream) {
  const Index n = static_cast<Index>(p.batch) * seq * heads * (p.head_dim / 8);
  fill_uncovered_kernel<<<blocks_for(n), kThreads, 0, stream>>>(
      p.mask.dilated, p.heads, out(a), b != nullptr ? out(*b) : OutTensor{}, lse, p.batch, seq,
      heads, p.head_dim);
  ATTNSIM_CUDA_CHECK(cudaGetLastError());
}

template <typename T>
void convert(const AttentionProblem& p, const float* accum, const Tensor& dst, Index seq, int heads,
             cudaStream_t stream) {
  const Index n = static_cast<Index>(p.batch) * seq * heads * (p.head_dim / 8);
  convert_kernel<T>
      <<<blocks_for(n), kThreads, 0, stream>>>(accum, out(dst), p.batch, seq, heads, p.head_dim);
  ATTNSIM_CUDA_CHECK(cudaGetLastError());
}

template <typename T, int D>
void forward(const AttentionForwardArgs& a, cudaStream_t stream) {
  const AttentionProblem& p = a.problem;
  const bool merge = plan::merges_branches(p);
  float* o_accum = merge ? static_cast<float*>(a.workspace) : nullptr;
  const Index rows = static_cast<Index>(p.batch) * p.heads * p.seq_q;
  if (merge) {
    ATTNSIM_CUDA_CHECK(cudaMemsetAsync(o_accum, 0, plan::forward_workspace_bytes(p), stream));
    fill_kernel<<<blocks_for(rows), kThreads, 0, stream>>>(a.lse, rows, -INFINITY);
    ATTNSIM_CUDA_CHECK(cudaGetLastError());
  } else if (p.mask.kind == MaskKind::kDilated) {
    fill_uncovered(p, a.o, nullptr, a.lse, p.seq_q, p.heads, stream);
  }
  ForwardParams params;
  params.q = in(a.q);
  params.k = in(a.k);
  params.v = in(a.v);
  params.o = out(a.o);
  params.lse = a.lse;
  params.o_accum = o_accum;
  params.batch = p.batch;
  params.heads = p.heads;
  params.kv_group = p.heads / p.kv_heads;
  params.seq_q = p.seq_q;
  params.scale_log2 = plan::softmax_scale(p) * kLog2e;
  for (const index::LaunchGeometry& g : plan::launches(p)) {
    params.geometry = g;
    params.q_tiles = index::ceil_div(g.max_q_rows, plan::kTileRows);
    launch_forward<T, D>(params, stream);
  }
  if (merge) {
    convert<T>(p, o_accum, a.o, p.seq_q, p.heads, stream);
  }
}

template <typename T, int D>
void backward(const AttentionBackwardArgs& a, cudaStream_t stream) {
  const AttentionProblem& p = a.problem;
  const plan::BackwardWorkspace ws = plan::backward_workspace(p);
  auto* base = static_cast<unsigned char*>(a.workspace);
  float* delta = reinterpret_cast<float*>(base + ws.delta);
  float* d_q_accum = reinterpret_cast<float*>(base + ws.d_q);
  float* d_k_accum = ws.d_kv_bytes > 0 ? reinterpret_cast<float*>(base + ws.d_k) : nullptr;
  float* d_v_accum = ws.d_kv_bytes > 0 ? reinterpret_cast<float*>(base + ws.d_v) : nullptr;
  ATTNSIM_CUDA_CHECK(cudaMemsetAsync(base + ws.d_q, 0, ws.total - ws.d_q, stream));
  const Index rows = static_cast<Index>(p.batch) * p.heads * p.seq_q;
  delta_kernel<T><<<blocks_for(rows * 32), kThreads, 0, stream>>>(
      in(a.o), in(a.d_o), delta, p.batch, p.seq_q, p.heads, p.head_dim);
  ATTNSIM_CUDA_CHECK(cudaGetLastError());

  BackwardParams params;
  params.q = in(a.q);
  params.k = in(a.k);
  params.v = in(a.v);
  params.d_o = in(a.d_o);
  params.lse = a.lse;
  params.delta = delta;
  params.d_q_accum = d_q_accum;
  params.d_k = out(a.d_k);
  params.d_v = out(a.d_v);
  params.d_k_accum = d_k_accum;
  params.d_v_accum = d_v_accum;
  params.batch = p.batch;
  params.heads = p.heads;
  params.kv_heads = p.kv_heads;
  params.kv_group = p.heads / p.kv_heads;
  params.seq_q = p.seq_q;
  params.seq_k = p.seq_k;
  params.scale = plan::softmax_scale(p);
  params.scale_log2 = params.scale * kLog2e;
  for (const index::LaunchGeometry& g : plan::launches(p)) {
    params.geometry = g;
    params.k_tiles = index::ceil_div(g.max_k_rows, plan::kTileRows);
    launch_backward<T, D>(params, stream);
  }
  convert<T>(p, d_q_accum, a.d_q, p.seq_q, p.heads, stream);
  if (d_k_accum != nullptr) {
    convert<T>(p, d_k_accum, a.d_k, p.seq_k, p.kv_heads, stream);
    convert<T>(p, d_v_accum, a.d_v, p.seq_k, p.kv_heads, stream);
  } else if (p.mask.kind == MaskKind::kDilated) {
    // Without kv accumulation kv_heads == heads: a key row is covered when its head's is.
    fill_uncovered(p, a.d_k, &a.d_v, nullptr, p.seq_k, p.kv_heads, stream);
  }
}

/// Calls f.template operator()<T, D>() for the problem's dtype and head dim.
template <class F>
void dispatch(const AttentionProblem& p, F&& f) {
  const bool bf16 = p.dtype == DType::kBFloat16;
  if (p.head_dim == 64 && bf16) {
    f.template operator()<__nv_bfloat16, 64>();
  } else if (p.head_dim == 64) {
    f.template operator()<__half, 64>();
  } else if (bf16) {
    f.template operator()<__nv_bfloat16, 128>();
  } else {
    f.template operator()<__half, 128>();
  }
}

}  // namespace
}  // namespace detail

void check_problem(const AttentionProblem& problem) {
  plan::check_problem(problem);
}

std::size_t attention_forward_workspace_bytes(const AttentionProblem& problem) {
  plan::check_problem(problem);
  return plan::forward_workspace_bytes(problem);
}

std::size_t attention_backward_workspace_bytes(const AttentionProblem& problem) {
  plan::check_problem(problem);
  return plan::backward_workspace(problem).total;
}

namespace {

struct ForwardCall {
  const AttentionForwardArgs& args;
  cudaStream_t stream;

  template <typename T, int D>
  void operator()() const {
    detail::forward<T, D>(args, stream);
  }
};

struct BackwardCall {
  const AttentionBackwardArgs& args;
  cudaStream_t stream;

  template <typename T, int D>
  void operator()() const {
    detail::backward<T, D>(args, stream);
  }
};

}  // namespace

void attention_forward(const AttentionForwardArgs& args, void* stream) {
  plan::check_forward(args);
  detail::dispatch(args.problem, ForwardCall{args, static_cast<cudaStream_t>(stream)});
}

void attention_backward(const AttentionBackwardArgs& args, void* stream) {
  plan::check_backward(args);
  detail::dispatch(args.problem, BackwardCall{args, static_cast<cudaStream_t>(stream)});
}

}  // namespace attnsim::kernels
