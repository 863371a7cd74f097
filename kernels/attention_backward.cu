// SPDX-License-Identifier: Apache-2.0
// The attention backward kernel (FlashAttention-2 Algorithm 2): one CTA per 64 keys of a
// sub-problem; for each query tile the mask keeps, P is recomputed from Q, K and the LSE,
// dV += P^T dO, dP = dO V^T, dS = P∘(dP - D), dK += dS^T Q, and dQ += dS K goes to an fp32
// accumulator by atomics. wmma tensor-core products, elementwise work on shared fp32 tiles.
#include <cmath>
#include <mma.h>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels/attention_kernels.cuh"
#include "kernels/device.cuh"

namespace attnsim::kernels::detail {
namespace {

namespace wmma = nvcuda::wmma;

/// Shared-memory layout of a backward CTA (padding and alignment as in the forward kernel).
template <typename T, int D>
struct BackwardTile {
  static constexpr int kRows = 64;
  static constexpr int kThreads = 128;
  static constexpr int kLdT = D + 8;
  static constexpr int kLdS = kRows + 4;
  static constexpr int kLdP = kRows + 8;
  static constexpr size_t kTBytes = kRows * kLdT * sizeof(T);
  static constexpr size_t kSBytes = kRows * kLdS * sizeof(float);
  static constexpr size_t kPBytes = kRows * kLdP * sizeof(T);
  static constexpr size_t kK = 0;
  static constexpr size_t kV = kTBytes;
  static constexpr size_t kQ = 2 * kTBytes;
  static constexpr size_t kDo = 3 * kTBytes;
  static constexpr size_t kS = 4 * kTBytes;  // S, then P, in fp32
  static constexpr size_t kDp = kS + kSBytes;
  static constexpr size_t kP = kDp + kSBytes;  // P in T
  static constexpr size_t kDs = kP + kPBytes;  // dS in T
  static constexpr size_t kLse = kDs + kPBytes;
  static constexpr size_t kDelta = kLse + kRows * sizeof(float);
  static constexpr size_t kScratch = kDelta + kRows * sizeof(float);  // 16x16 fp32 per warp
  static constexpr size_t kBytes = kScratch + 4 * 256 * sizeof(float);
  static_assert(kTBytes % 128 == 0 && kSBytes % 128 == 0 && kPBytes % 128 == 0 &&
                    kScratch % 128 == 0,
                "buffers must keep 128-byte alignment");
  static_assert(D % 16 == 0 && kLdT % 8 == 0 && kLdP % 8 == 0 && kLdS % 4 == 0,
                "wmma needs 16-byte multiples as leading dimensions");
};

using Acc = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

/// rows x 64 = A (rows x D, pitch kLdT) times B^T (64 x D, pitch kLdT) for the warp's 16 rows,
/// stored to `out` (pitch kLdS). Computes S = Q K^T and dP = dO V^T.
template <typename T, int D, int kLdT, int kLdS>
__device__ void warp_rows_times_transpose(const T* a_rows, const T* b, float* out) {
  for (int c = 0; c < 4; ++c) {
    Acc acc;
    wmma::fill_fragment(acc, 0.f);
    for (int kk = 0; kk < D / 16; ++kk) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> bt;
      wmma::load_matrix_sync(a, a_rows + 16 * kk, kLdT);
      wmma::load_matrix_sync(bt, b + 16 * c * kLdT + 16 * kk, kLdT);
      wmma::mma_sync(acc, a, bt, acc);
    }
    wmma::store_matrix_sync(out + 16 * c, acc, kLdS, wmma::mem_row_major);
  }
}

/// acc[c] += X^T Y over 64 rows, for the warp's 16 columns of X (x_cols, pitch kLdP) and the
/// D columns of Y (pitch kLdT): dV += P^T dO and dK += dS^T Q.
template <typename T, int D, int kLdT, int kLdP>
__device__ void add_transpose_times(Acc* acc, const T* x_cols, const T* y) {
  for (int c = 0; c < D / 16; ++c) {
    for (int kk = 0; kk < 4; ++kk) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::col_major> xt;
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> yf;
      wmma::load_matrix_sync(xt, x_cols + 16 * kk * kLdP, kLdP);
      wmma::load_matrix_sync(yf, y + 16 * kk * kLdT + 16 * c, kLdT);
      wmma::mma_sync(acc[c], xt, yf, acc[c]);
    }
  }
}

/// Writes one 16x16 fragment of dK or dV: rows j0 + 16·warp + [0, 16) of the sub-problem's
/// keys, columns 16·c + [0, 16); atomically into an fp32 accumulator or directly as T.
template <typename T, int D>
__device__ void write_kv_fragment(const Acc& frag, float* scratch, int lane, int c,
                                  const BackwardParams& p, const index::SubProblem& sub, Index k0,
                                  int b, int kv_head, const OutTensor& out, float* accum) {
  wmma::store_matrix_sync(scratch, frag, 16, wmma::mem_row_major);
  __syncwarp();
  const int r = lane / 2;
  const int col = (lane % 2) * 8;
  const Index kj = k0 + r;
  if (kj < sub.k_rows.count) {
    const Index mem_row = index::at(sub.k_rows, kj);
    const float* vals = scratch + r * 16 + col;
    if (accum != nullptr) {
      float* dst = accum + ((b * p.seq_k + mem_row) * p.kv_heads + kv_head) * D + 16 * c + col;
      for (int e = 0; e < 8; ++e) {
        atomicAdd(dst + e, vals[e]);
      }
    } else {
      T* dst = static_cast<T*>(out.data) + b * out.batch_stride + mem_row * out.token_stride +
               kv_head * out.head_stride + 16 * c + col;
      *reinterpret_cast<uint4*>(dst) = pack8<T>(vals);
    }
  }
  __syncwarp();
}

template <typename T, int D>
__global__ void __launch_bounds__(128) backward_kernel(const BackwardParams p) {
  using Tile = BackwardTile<T, D>;
  constexpr int kRows = Tile::kRows;
  constexpr int kLdT = Tile::kLdT;
  constexpr int kLdS = Tile::kLdS;
  constexpr int kLdP = Tile::kLdP;
  extern __shared__ __align__(128) unsigned char smem[];
  T* sk = reinterpret_cast<T*>(smem + Tile::kK);
  T* sv = reinterpret_cast<T*>(smem + Tile::kV);
  T* sq = reinterpret_cast<T*>(smem + Tile::kQ);
  T* sdo = reinterpret_cast<T*>(smem + Tile::kDo);
  float* ss = reinterpret_cast<float*>(smem + Tile::kS);
  float* sdp = reinterpret_cast<float*>(smem + Tile::kDp);
  T* sp = reinterpret_cast<T*>(smem + Tile::kP);
  T* sds = reinterpret_cast<T*>(smem + Tile::kDs);
  float* slse = reinterpret_cast<float*>(smem + Tile::kLse);
  float* sdelta = reinterpret_cast<float*>(smem + Tile::kDelta);

  const index::LaunchGeometry& g = p.geometry;
  const Index problem = blockIdx.x / p.k_tiles;
  const Index j0 = (blockIdx.x % p.k_tiles) * kRows;
  const int b = static_cast<int>(blockIdx.z) / g.head_count;
  const int head = g.head_begin + static_cast<int>(blockIdx.z) % g.head_count;
  const int kv_head = head / p.kv_group;
  const index::SubProblem sub = index::sub_problem(g, head, problem);
  if (j0 >= sub.k_rows.count) {
    return;
  }
  const Index j1 = index::min_of(j0 + kRows, sub.k_rows.count);
  const T* q = static_cast<const T*>(p.q.data) + b * p.q.batch_stride + head * p.q.head_stride;
  const T* d_o =
      static_cast<const T*>(p.d_o.data) + b * p.d_o.batch_stride + head * p.d_o.head_stride;
  const T* k = static_cast<const T*>(p.k.data) + b * p.k.batch_stride + kv_head * p.k.head_stride;
  const T* v = static_cast<const T*>(p.v.data) + b * p.v.batch_stride + kv_head * p.v.head_stride;
  const float* lse = p.lse + (static_cast<Index>(b) * p.heads + head) * p.seq_q;
  const float* delta = p.delta + (static_cast<Index>(b) * p.heads + head) * p.seq_q;
  const int tid = static_cast<int>(threadIdx.x);
  const int warp = tid / 32;
  const int lane = tid % 32;
  float* scratch = reinterpret_cast<float*>(smem + Tile::kScratch) + warp * 256;

  load_tile<T, D, kLdT, kRows>(sk, k, p.k.token_stride, sub.k_rows, j0, tid, Tile::kThreads);
  load_tile<T, D, kLdT, kRows>(sv, v, p.v.token_stride, sub.k_rows, j0, tid, Tile::kThreads);
  Acc dk[D / 16];
  Acc dv[D / 16];
  for (int c = 0; c < D / 16; ++c) {
    wmma::fill_fragment(dk[c], 0.f);
    wmma::fill_fragment(dv[c], 0.f);
  }

  // Elementwise work: lane owns half of query row 16·warp + lane/2, key columns (lane%2)·32 +
  // [0, 32).
  const int row = 16 * warp + lane / 2;
  const int half = lane % 2;
  const index::Range tiles =
      index::tiles_of(index::kept_queries(sub.mask, sub.q_pos, sub.k_pos, j0, j1), kRows);
  for (Index it = tiles.begin; it < tiles.end; ++it) {
    const Index i0 = it * kRows;
    __syncthreads();  // the previous tile's P, dS, Q and dO are no longer read
    load_tile<T, D, kLdT, kRows>(sq, q, p.q.token_stride, sub.q_rows, i0, tid, Tile::kThreads);
    load_tile<T, D, kLdT, kRows>(sdo, d_o, p.d_o.token_stride, sub.q_rows, i0, tid, Tile::kThreads);
    for (int r = tid; r < kRows; r += Tile::kThreads) {
      const bool valid = i0 + r < sub.q_rows.count;
      const Index mem_row = valid ? index::at(sub.q_rows, i0 + r) : 0;
      slse[r] = valid ? lse[mem_row] * kLog2e : -INFINITY;  // -inf: P = 0 for the row
      sdelta[r] = valid ? delta[mem_row] : 0.f;
    }
    __syncthreads();

    // S = Q K^T and dP = dO V^T for the warp's 16 query rows.
    warp_rows_times_transpose<T, D, kLdT, kLdS>(sq + 16 * warp * kLdT, sk, ss + 16 * warp * kLdS);
    warp_rows_times_transpose<T, D, kLdT, kLdS>(sdo + 16 * warp * kLdT, sv, sdp + 16 * warp * kLdS);
    __syncwarp();

    // P = exp(scale·S - LSE) where kept, dS = P∘(dP - D).
    const Index qi = i0 + row;
    const bool row_valid = qi < sub.q_rows.count;
    const Index q_pos = index::at(sub.q_pos, qi);
    const float row_lse = slse[row];
    const float row_delta = sdelta[row];
    float* srow = ss + row * kLdS + half * 32;
    const float* dprow = sdp + row * kLdS + half * 32;
    T* prow = sp + row * kLdP + half * 32;
    T* dsrow = sds + row * kLdP + half * 32;
    for (int c = 0; c < 32; ++c) {
      const Index j = j0 + half * 32 + c;
      const bool kept = row_valid && row_lse != -INFINITY && j < sub.k_rows.count &&
                        index::keep(sub.mask, q_pos, index::at(sub.k_pos, j));
      const float pv = kept ? exp2f(srow[c] * p.scale_log2 - row_lse) : 0.f;
      prow[c] = Element<T>::from_float(pv);
      dsrow[c] = Element<T>::from_float(pv * (dprow[c] - row_delta));
    }
    __syncthreads();  // dV and dK read every row of P and dS

    // dV += P^T dO and dK += dS^T Q for the warp's 16 keys.
    add_transpose_times<T, D, kLdT, kLdP>(dv, sp + 16 * warp, sdo);
    add_transpose_times<T, D, kLdT, kLdP>(dk, sds + 16 * warp, sq);

    // dQ += scale · dS K for the warp's 16 query rows, one 16x16 fragment at a time.
    for (int c = 0; c < D / 16; ++c) {
      Acc acc;
      wmma::fill_fragment(acc, 0.f);
      for (int kk = 0; kk < kRows / 16; ++kk) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> bk;
        wmma::load_matrix_sync(a, sds + 16 * warp * kLdP + 16 * kk, kLdP);
        wmma::load_matrix_sync(bk, sk + 16 * kk * kLdT + 16 * c, kLdT);
        wmma::mma_sync(acc, a, bk, acc);
      }
      wmma::store_matrix_sync(scratch, acc, 16, wmma::mem_row_major);
      __syncwarp();
      const int r = lane / 2;
      const int col = (lane % 2) * 8;
      const Index i = i0 + 16 * warp + r;
      if (i < sub.q_rows.count) {
        float* dst = p.d_q_accum + ((b * p.seq_q + index::at(sub.q_rows, i)) * p.heads + head) * D +
                     16 * c + col;
        for (int e = 0; e < 8; ++e) {
          atomicAdd(dst + e, p.scale * scratch[r * 16 + col + e]);
        }
      }
      __syncwarp();
    }
  }

  // dK carries the softmax scale (S = scale·Q K^T); dV does not.
  const Index k0 = j0 + 16 * warp;
  for (int c = 0; c < D / 16; ++c) {
    for (int e = 0; e < dk[c].num_elements; ++e) {
      dk[c].x[e] *= p.scale;
    }
    write_kv_fragment<T, D>(dk[c], scratch, lane, c, p, sub, k0, b, kv_head, p.d_k, p.d_k_accum);
    write_kv_fragment<T, D>(dv[c], scratch, lane, c, p, sub, k0, b, kv_head, p.d_v, p.d_v_accum);
  }
}

}  // namespace

template <typename T, int D>
void launch_backward(const BackwardParams& params, cudaStream_t stream) {
  using Tile = BackwardTile<T, D>;
  ATTNSIM_CUDA_CHECK(cudaFuncSetAttribute(backward_kernel<T, D>,
                                          cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(Tile::kBytes)));
  const index::LaunchGeometry& g = params.geometry;
  const dim3 grid(static_cast<unsigned>(params.k_tiles * g.problems), 1u,
                  static_cast<unsigned>(params.batch * g.head_count));
  backward_kernel<T, D><<<grid, Tile::kThreads, Tile::kBytes, stream>>>(params);
  ATTNSIM_CUDA_CHECK(cudaGetLastError());
}

template void launch_backward<__half, 64>(const BackwardParams&, cudaStream_t);
template void launch_backward<__half, 128>(const BackwardParams&, cudaStream_t);
template void launch_backward<__nv_bfloat16, 64>(const BackwardParams&, cudaStream_t);
template void launch_backward<__nv_bfloat16, 128>(const BackwardParams&, cudaStream_t);

}  // namespace attnsim::kernels::detail
