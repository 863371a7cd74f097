// SPDX-License-Identifier: Apache-2.0
// Device memory for the GPU tests: an owning buffer with upload and download, and 16-bit
// attention tensors to and from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <cuda_runtime.h>

#include "tests/support/attention_reference.h"

namespace attnsim::test {

/// Throws with CUDA's message when a runtime call fails.
inline void cuda_ok(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
  }
}

/// cudaMalloc'ed bytes, freed on destruction.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
    cuda_ok(cudaMalloc(&data_, bytes == 0 ? 1 : bytes), "cudaMalloc");
  }

  DeviceBuffer(DeviceBuffer&& other) noexcept : data_(other.data_), bytes_(other.bytes_) {
    other.data_ = nullptr;
    other.bytes_ = 0;
  }

  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(DeviceBuffer&&) = delete;

  ~DeviceBuffer() { cudaFree(data_); }

  void* get() const { return data_; }

  std::size_t bytes() const { return bytes_; }

  template <class T>
  void upload(const std::vector<T>& host) {
    cuda_ok(cudaMemcpy(data_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice),
            "cudaMemcpy to device");
  }

  template <class T>
  std::vector<T> download() const {
    std::vector<T> host(bytes_ / sizeof(T));
    cuda_ok(cudaMemcpy(host.data(), data_, host.size() * sizeof(T), cudaMemcpyDeviceToHost),
            "cudaMemcpy to host");
    return host;
  }

  /// Fills every byte with `value` (e.g. 0xff to catch rows a kernel forgot to write).
  void fill(int value) { cuda_ok(cudaMemset(data_, value, bytes_), "cudaMemset"); }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

/// `x` in device memory as 16-bit elements of type `t` (its values are representable in `t`).
inline DeviceBuffer upload(const HostTensor& x, kernels::DType t) {
  std::vector<std::uint16_t> bits(x.data.size());
  for (std::size_t i = 0; i < bits.size(); ++i) {
    bits[i] = to_bits(static_cast<float>(x.data[i]), t);
  }
  DeviceBuffer buffer(bits.size() * 2);
  buffer.upload(bits);
  return buffer;
}

/// The values of a buffer of 16-bit elements of type `t`.
inline std::vector<double> download(const DeviceBuffer& b, kernels::DType t) {
  std::vector<double> out;
  for (const std::uint16_t bits : b.download<std::uint16_t>()) {
    out.push_back(from_bits(bits, t));
  }
  return out;
}

}  // namespace attnsim::test
