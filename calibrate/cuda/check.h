// SPDX-License-Identifier: Apache-2.0
// Error checks of the CUDA backend: a failed CUDA, cuBLAS or NCCL call throws
// config::RuntimeFailure with one line naming the call and the library's error string (NCCL's
// CUDACHECK idea, with exceptions; STYLE C7), which `attnsim calibrate` prints before exiting 3.
#pragma once

#include <cublas_v2.h>
#include <string>

#include <cuda_runtime.h>
#include <nccl.h>

#include "config/error.h"

namespace attnsim::calibrate::cuda {

/// Throws RuntimeFailure("calibrate --backend cuda: <call> failed: <error>").
[[noreturn]] inline void fail_call(const char* call, const std::string& error) {
  throw config::RuntimeFailure(std::string("calibrate --backend cuda: ") + call +
                               " failed: " + error);
}

inline void check_call(cudaError_t status, const char* call) {
  if (status != cudaSuccess) {
    fail_call(call, cudaGetErrorString(status));
  }
}

inline void check_call(cublasStatus_t status, const char* call) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    fail_call(call, cublasGetStatusString(status));
  }
}

inline void check_call(ncclResult_t status, const char* call) {
  if (status != ncclSuccess) {
    fail_call(call, ncclGetErrorString(status));
  }
}

}  // namespace attnsim::calibrate::cuda

#define ATTNSIM_CUDA_CHECK(expr) ::attnsim::calibrate::cuda::check_call((expr), #expr)
#define ATTNSIM_CUBLAS_CHECK(expr) ::attnsim::calibrate::cuda::check_call((expr), #expr)
#define ATTNSIM_NCCL_CHECK(expr) ::attnsim::calibrate::cuda::check_call((expr), #expr)
