// SPDX-License-Identifier: Apache-2.0
// The few kernels the CUDA backend launches itself (device_ops.cu): input fills, the empty
// kernel of the launch-overhead point and the element-wise kernel of the memory points. Each
// returns cudaGetLastError() after its launch; callers check it with ATTNSIM_CUDA_CHECK.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace attnsim::calibrate::cuda {

enum class FillType { kFloat32, kBFloat16, kFloat16 };

/// data[i] = uniform in [-1, 1) from a hash of (seed, i): normal numbers, so that tensor cores
/// and memory see realistic bit patterns (zeros would draw less power and run faster).
cudaError_t fill_uniform(void* data, std::int64_t count, FillType type, std::uint64_t seed,
                         cudaStream_t stream);

/// One block of one thread that does nothing.
cudaError_t launch_empty(cudaStream_t stream);

/// y[i] = a·x[i] over `count` floats, 16 bytes per thread per step (grid-stride).
/// Preconditions: count is a multiple of 4; x and y are 16-byte aligned.
cudaError_t launch_scale(const float* x, float* y, std::int64_t count, float a,
                         cudaStream_t stream);

}  // namespace attnsim::calibrate::cuda
