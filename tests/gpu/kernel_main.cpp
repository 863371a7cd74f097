// SPDX-License-Identifier: Apache-2.0
// Entry point of attnsim_kernel_tests: runs the Catch2 session when a CUDA device is present,
// otherwise says so and exits with the code CTest's SKIP_RETURN_CODE names (tests/CMakeLists).
#define CATCH_CONFIG_RUNNER
#include <cstdio>

#include <catch2/catch.hpp>
#include <cuda_runtime.h>

namespace {
constexpr int kSkipped = 77;
}  // namespace

int main(int argc, char* argv[]) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("SKIPPED: no CUDA device (kernel tests need a GPU)\n");
    return kSkipped;
  }
  return Catch::Session().run(argc, argv);
}
