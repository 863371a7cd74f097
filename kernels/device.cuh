// SPDX-License-Identifier: Apache-2.0
// Device helpers shared by the kernels: CUDA error checks that throw, bf16/fp16 conversion,
// 16-byte packs of eight elements, and the tile loader used by the attention kernels.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels/mask_index.h"

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
#error "kernels/ needs sm_80 or newer (bf16 tensor cores); set CMAKE_CUDA_ARCHITECTURES"
#endif

namespace attnsim::kernels::detail {

using index::Index;

/// Throws std::runtime_error with the expression, file, line and CUDA's error string.
inline void cuda_check(cudaError_t status, const char* expr, const char* file, int line) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + expr + ": " +
                             cudaGetErrorString(status));
  }
}

#define ATTNSIM_CUDA_CHECK(expr) \
  ::attnsim::kernels::detail::cuda_check((expr), #expr, __FILE__, __LINE__)

/// Conversions between T (__half or __nv_bfloat16), float and raw bits.
template <typename T>
struct Element;

template <>
struct Element<__half> {
  static __device__ float to_float(__half x) { return __half2float(x); }

  static __device__ __half from_float(float x) { return __float2half_rn(x); }

  static __device__ unsigned short bits(float x) { return __half_as_ushort(__float2half_rn(x)); }

  static __device__ float from_bits(unsigned short b) { return __half2float(__ushort_as_half(b)); }
};

template <>
struct Element<__nv_bfloat16> {
  static __device__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

  static __device__ __nv_bfloat16 from_float(float x) { return __float2bfloat16_rn(x); }

  static __device__ unsigned short bits(float x) {
    return __bfloat16_as_ushort(__float2bfloat16_rn(x));
  }

  static __device__ float from_bits(unsigned short b) {
    return __bfloat162float(__ushort_as_bfloat16(b));
  }
};

/// Eight floats rounded to T, packed little-endian into one 16-byte word.
template <typename T>
__device__ uint4 pack8(const float* v) {
  unsigned int w[4];
  for (int i = 0; i < 4; ++i) {
    w[i] = static_cast<unsigned int>(Element<T>::bits(v[2 * i])) |
           (static_cast<unsigned int>(Element<T>::bits(v[2 * i + 1])) << 16);
  }
  return make_uint4(w[0], w[1], w[2], w[3]);
}

/// The eight T values of a 16-byte word as floats.
template <typename T>
__device__ void unpack8(uint4 word, float* v) {
  const unsigned int w[4] = {word.x, word.y, word.z, word.w};
  for (int i = 0; i < 4; ++i) {
    v[2 * i] = Element<T>::from_bits(static_cast<unsigned short>(w[i] & 0xffffu));
    v[2 * i + 1] = Element<T>::from_bits(static_cast<unsigned short>(w[i] >> 16));
  }
}

/// Loads rows r0 .. r0 + kRows - 1 of `rows` (memory rows of one (batch, head) slice starting
/// at `base`, `row_stride` elements apart) into a shared tile with pitch kLd; rows at or past
/// rows.count are zero, so that they add nothing to a product. All `threads` threads call it.
template <typename T, int kD, int kLd, int kRows>
__device__ void load_tile(T* tile, const T* base, Index row_stride, index::Span rows, Index r0,
                          int thread, int threads) {
  constexpr int kWords = kD / 8;  // 16-byte words per row
  for (int idx = thread; idx < kRows * kWords; idx += threads) {
    const int r = idx / kWords;
    const int c = idx % kWords;
    uint4 word = make_uint4(0u, 0u, 0u, 0u);
    if (r0 + r < rows.count) {
      word = *reinterpret_cast<const uint4*>(base + index::at(rows, r0 + r) * row_stride + c * 8);
    }
    *reinterpret_cast<uint4*>(tile + r * kLd + c * 8) = word;
  }
}

/// log2(e) and ln(2), for exp2-based softmax.
inline constexpr float kLog2e = 1.4426950408889634f;
inline constexpr float kLn2 = 0.6931471805599453f;

}  // namespace attnsim::kernels::detail
