// SPDX-License-Identifier: Apache-2.0
// The CUDA backend's own kernels (device_ops.h).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "calibrate/cuda/device_ops.h"

namespace attnsim::calibrate::cuda {
namespace {

constexpr int kThreads = 256;
constexpr std::int64_t kMaxBlocks = 65536;

// SplitMix64's finaliser: a well-mixed 64-bit hash of the index and the seed.
__device__ std::uint64_t mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

template <class T>
__device__ T from_float(float v);

template <>
__device__ float from_float<float>(float v) {
  return v;
}

template <>
__device__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
  return __float2bfloat16(v);
}

template <>
__device__ __half from_float<__half>(float v) {
  return __float2half(v);
}

template <class T>
__global__ void fill_kernel(T* data, std::int64_t count, std::uint64_t seed) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride) {
    const std::uint64_t bits = mix(seed * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(i));
    // 24 random bits -> [0, 1) -> [-1, 1).
    const float u = static_cast<float>(bits >> 40) * 0x1p-24f;
    data[i] = from_float<T>(2.0f * u - 1.0f);
  }
}

__global__ void empty_kernel() {}

__global__ void scale_kernel(const float4* x, float4* y, std::int64_t count4, float a) {
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
       i < count4; i += stride) {
    const float4 v = x[i];
    y[i] = make_float4(a * v.x, a * v.y, a * v.z, a * v.w);
  }
}

unsigned blocks_for(std::int64_t count) {
  const std::int64_t blocks = (count + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > kMaxBlocks ? kMaxBlocks : blocks));
}

}  // namespace

cudaError_t fill_uniform(void* data, std::int64_t count, FillType type, std::uint64_t seed,
                         cudaStream_t stream) {
  const unsigned blocks = blocks_for(count);
  switch (type) {
    case FillType::kFloat32:
      fill_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<float*>(data), count, seed);
      break;
    case FillType::kBFloat16:
      fill_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<__nv_bfloat16*>(data), count, seed);
      break;
    case FillType::kFloat16:
      fill_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<__half*>(data), count, seed);
      break;
  }
  return cudaGetLastError();
}

cudaError_t launch_empty(cudaStream_t stream) {
  empty_kernel<<<1, 1, 0, stream>>>();
  return cudaGetLastError();
}

cudaError_t launch_scale(const float* x, float* y, std::int64_t count, float a,
                         cudaStream_t stream) {
  const std::int64_t count4 = count / 4;
  scale_kernel<<<blocks_for(count4), kThreads, 0, stream>>>(
      reinterpret_cast<const float4*>(x), reinterpret_cast<float4*>(y), count4, a);
  return cudaGetLastError();
}

}  // namespace attnsim::calibrate::cuda
