// SPDX-License-Identifier: Apache-2.0
// The attention forward kernel: one CTA per 64 queries of a sub-problem, online softmax over
// the key tiles the mask keeps (FlashAttention-2 Algorithm 1), wmma tensor-core products.
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

/// Shared-memory layout of a forward CTA. Rows are padded by 16 bytes against bank conflicts;
/// every buffer and every 16-row fragment start stays 32-byte aligned, as wmma requires.
template <typename T, int D>
struct ForwardTile {
  static constexpr int kRows = 64;
  static constexpr int kThreads = 128;  // 4 warps x 16 rows
  static constexpr int kLdT = D + 8;    // Q, K, V tiles (T)
  static constexpr int kLdS = kRows + 4;
  static constexpr int kLdP = kRows + 8;
  static constexpr int kLdO = D + 4;
  static constexpr size_t kTBytes = kRows * kLdT * sizeof(T);
  static constexpr size_t kSBytes = kRows * kLdS * sizeof(float);
  static constexpr size_t kPBytes = kRows * kLdP * sizeof(T);
  static constexpr size_t kOBytes = kRows * kLdO * sizeof(float);
  static constexpr size_t kQ = 0;
  static constexpr size_t kK = kTBytes;
  static constexpr size_t kV = 2 * kTBytes;
  static constexpr size_t kS = 3 * kTBytes;
  static constexpr size_t kP = kS + kSBytes;
  static constexpr size_t kO = kP + kPBytes;
  static constexpr size_t kBytes = kO + kOBytes;
  static_assert(kTBytes % 128 == 0 && kSBytes % 128 == 0 && kPBytes % 128 == 0,
                "buffers must keep 128-byte alignment");
  static_assert(D % 16 == 0 && kLdT % 8 == 0 && kLdP % 8 == 0 && kLdS % 4 == 0 && kLdO % 4 == 0,
                "wmma needs 16-byte multiples as leading dimensions");
};

template <typename T, int D>
__global__ void __launch_bounds__(128) forward_kernel(const ForwardParams p) {
  using Tile = ForwardTile<T, D>;
  constexpr int kRows = Tile::kRows;
  extern __shared__ __align__(128) unsigned char smem[];
  T* sq = reinterpret_cast<T*>(smem + Tile::kQ);
  T* sk = reinterpret_cast<T*>(smem + Tile::kK);
  T* sv = reinterpret_cast<T*>(smem + Tile::kV);
  float* ss = reinterpret_cast<float*>(smem + Tile::kS);
  T* sp = reinterpret_cast<T*>(smem + Tile::kP);
  float* so = reinterpret_cast<float*>(smem + Tile::kO);

  const index::LaunchGeometry& g = p.geometry;
  const Index problem = blockIdx.x / p.q_tiles;
  const Index i0 = (blockIdx.x % p.q_tiles) * kRows;
  const int b = static_cast<int>(blockIdx.z) / g.head_count;
  const int head = g.head_begin + static_cast<int>(blockIdx.z) % g.head_count;
  const int kv_head = head / p.kv_group;
  const index::SubProblem sub = index::sub_problem(g, head, problem);
  if (i0 >= sub.q_rows.count) {
    return;  // the sub-problem is shorter than the longest one (uniform over the CTA)
  }
  const Index i1 = index::min_of(i0 + kRows, sub.q_rows.count);
  const T* q = static_cast<const T*>(p.q.data) + b * p.q.batch_stride + head * p.q.head_stride;
  const T* k = static_cast<const T*>(p.k.data) + b * p.k.batch_stride + kv_head * p.k.head_stride;
  const T* v = static_cast<const T*>(p.v.data) + b * p.v.batch_stride + kv_head * p.v.head_stride;
  const int tid = static_cast<int>(threadIdx.x);
  const int warp = tid / 32;
  const int lane = tid % 32;

  load_tile<T, D, Tile::kLdT, kRows>(sq, q, p.q.token_stride, sub.q_rows, i0, tid, Tile::kThreads);
  for (int idx = tid; idx < kRows * Tile::kLdO; idx += Tile::kThreads) {
    so[idx] = 0.f;
  }
  __syncthreads();

  // Each lane owns half of one query row: row 16·warp + lane/2, key columns (lane%2)·32 + [0, 32)
  // of S and P, head-dim columns (lane%2)·D/2 + [0, D/2) of O. m and l are the running max (in
  // log2 units of the scaled score) and sum of the row; both lanes of a row hold them.
  const int row = 16 * warp + lane / 2;
  const int half = lane % 2;
  const Index qi = i0 + row;
  const bool row_valid = qi < sub.q_rows.count;
  const Index q_pos = index::at(sub.q_pos, qi);
  float m = -INFINITY;
  float l = 0.f;

  const index::Range tiles =
      index::tiles_of(index::kept_keys(sub.mask, sub.q_pos, sub.k_pos, i0, i1), kRows);
  for (Index jt = tiles.begin; jt < tiles.end; ++jt) {
    const Index j0 = jt * kRows;
    __syncthreads();  // every warp is done with the previous K and V tiles
    load_tile<T, D, Tile::kLdT, kRows>(sk, k, p.k.token_stride, sub.k_rows, j0, tid,
                                       Tile::kThreads);
    load_tile<T, D, Tile::kLdT, kRows>(sv, v, p.v.token_stride, sub.k_rows, j0, tid,
                                       Tile::kThreads);
    __syncthreads();

    // S = Q K^T for the warp's 16 rows: 4 fragments of 16 keys, D/16 steps each.
    for (int c = 0; c < kRows / 16; ++c) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::fill_fragment(acc, 0.f);
      for (int kk = 0; kk < D / 16; ++kk) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> bt;  // K^T
        wmma::load_matrix_sync(a, sq + 16 * warp * Tile::kLdT + 16 * kk, Tile::kLdT);
        wmma::load_matrix_sync(bt, sk + 16 * c * Tile::kLdT + 16 * kk, Tile::kLdT);
        wmma::mma_sync(acc, a, bt, acc);
      }
      wmma::store_matrix_sync(ss + 16 * warp * Tile::kLdS + 16 * c, acc, Tile::kLdS,
                              wmma::mem_row_major);
    }
    __syncwarp();

    // Online softmax of the lane's half row. Masked entries (and rows or keys past the
    // sub-problem) are -inf; a row with nothing kept yet keeps m = -inf and p = 0.
    float* srow = ss + row * Tile::kLdS + half * 32;
    float tile_max = -INFINITY;
    for (int c = 0; c < 32; ++c) {
      const Index j = j0 + half * 32 + c;
      const bool kept = row_valid && j < sub.k_rows.count &&
                        index::keep(sub.mask, q_pos, index::at(sub.k_pos, j));
      const float x = kept ? srow[c] * p.scale_log2 : -INFINITY;
      srow[c] = x;
      tile_max = fmaxf(tile_max, x);
    }
    tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
    const float m_new = fmaxf(m, tile_max);
    const float base = m_new == -INFINITY ? 0.f : m_new;
    const float alpha = exp2f(m - base);  // 0 while m = -inf
    float sum = 0.f;
    T* prow = sp + row * Tile::kLdP + half * 32;
    for (int c = 0; c < 32; ++c) {
      const float pv = exp2f(srow[c] - base);
      sum += pv;
      prow[c] = Element<T>::from_float(pv);
    }
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    l = l * alpha + sum;
    m = m_new;
    float* orow = so + row * Tile::kLdO + half * (D / 2);
    for (int c = 0; c < D / 2; ++c) {
      orow[c] *= alpha;
    }
    __syncwarp();

    // O += P V for the warp's 16 rows: D/16 fragments, 4 steps of 16 keys each.
    for (int c = 0; c < D / 16; ++c) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      float* o_frag = so + 16 * warp * Tile::kLdO + 16 * c;
      wmma::load_matrix_sync(acc, o_frag, Tile::kLdO, wmma::mem_row_major);
      for (int kk = 0; kk < kRows / 16; ++kk) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> bv;
        wmma::load_matrix_sync(a, sp + 16 * warp * Tile::kLdP + 16 * kk, Tile::kLdP);
        wmma::load_matrix_sync(bv, sv + 16 * kk * Tile::kLdT + 16 * c, Tile::kLdT);
        wmma::mma_sync(acc, a, bv, acc);
      }
      wmma::store_matrix_sync(o_frag, acc, Tile::kLdO, wmma::mem_row_major);
    }
    __syncwarp();
  }

  // Epilogue: O / l and LSE = ln(sum of exp) = (m + log2 l)·ln 2; empty rows get 0 and -inf.
  const float lse = l > 0.f ? (m + log2f(l)) * kLn2 : -INFINITY;
  const float inv = l > 0.f ? 1.f / l : 0.f;
  const Index mem_row = row_valid ? index::at(sub.q_rows, qi) : 0;
  float* lse_at = p.lse + (static_cast<Index>(b) * p.heads + head) * p.seq_q + mem_row;
  const float* orow = so + row * Tile::kLdO + half * (D / 2);
  float old_lse = -INFINITY;
  if (p.o_accum != nullptr && row_valid) {
    old_lse = *lse_at;  // both lanes read it before lane 0 of the row overwrites it
  }
  __syncwarp();
  if (!row_valid) {
    return;
  }
  if (p.o_accum == nullptr) {
    T* out = static_cast<T*>(p.o.data) + b * p.o.batch_stride + mem_row * p.o.token_stride +
             head * p.o.head_stride + half * (D / 2);
    for (int c = 0; c < D / 2; c += 8) {
      float vals[8];
      for (int e = 0; e < 8; ++e) {
        vals[e] = orow[c + e] * inv;
      }
      *reinterpret_cast<uint4*>(out + c) = pack8<T>(vals);
    }
    if (half == 0) {
      *lse_at = lse;
    }
    return;
  }
  // Merge with the branches before (kAllHeads dilated): softmax over the union of the key
  // sets, weights exp(lse_branch - lse_merged).
  if (lse == -INFINITY) {
    return;  // this branch kept nothing for the row
  }
  const float hi = fmaxf(old_lse, lse);
  const float merged = hi + log1pf(expf(-fabsf(old_lse - lse)));
  const float w_old = old_lse == -INFINITY ? 0.f : expf(old_lse - merged);
  const float w_new = expf(lse - merged) * inv;
  float* acc = p.o_accum + ((b * p.seq_q + mem_row) * p.heads + head) * D + half * (D / 2);
  for (int c = 0; c < D / 2; ++c) {
    acc[c] = acc[c] * w_old + orow[c] * w_new;
  }
  if (half == 0) {
    *lse_at = merged;
  }
}

}  // namespace

template <typename T, int D>
void launch_forward(const ForwardParams& params, cudaStream_t stream) {
  using Tile = ForwardTile<T, D>;
  const auto bytes = static_cast<int>(Tile::kBytes);
  ATTNSIM_CUDA_CHECK(cudaFuncSetAttribute(forward_kernel<T, D>,
                                          cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
  const index::LaunchGeometry& g = params.geometry;
  const dim3 grid(static_cast<unsigned>(params.q_tiles * g.problems), 1u,
                  static_cast<unsigned>(params.batch * g.head_count));
  forward_kernel<T, D><<<grid, Tile::kThreads, Tile::kBytes, stream>>>(params);
  ATTNSIM_CUDA_CHECK(cudaGetLastError());
}

template void launch_forward<__half, 64>(const ForwardParams&, cudaStream_t);
template void launch_forward<__half, 128>(const ForwardParams&, cudaStream_t);
template void launch_forward<__nv_bfloat16, 64>(const ForwardParams&, cudaStream_t);
template void launch_forward<__nv_bfloat16, 128>(const ForwardParams&, cudaStream_t);

}  // namespace attnsim::kernels::detail
