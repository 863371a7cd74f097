// SPDX-License-Identifier: Apache-2.0
// make_cuda_backend() for a binary built without the CUDA toolkit: there is no CUDA backend,
// and `attnsim calibrate --backend cuda` says so (exit 3). calibrate/cuda/ replaces this file
// in CUDA builds (calibrate/CMakeLists.txt picks one).
#include "calibrate/backend.h"

namespace attnsim::calibrate {

std::unique_ptr<Backend> make_cuda_backend() {
  return nullptr;
}

}  // namespace attnsim::calibrate
