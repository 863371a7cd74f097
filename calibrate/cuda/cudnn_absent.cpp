// SPDX-License-Identifier: Apache-2.0
// The CUDA backend without cuDNN (cmake/cuda.cmake found no cudnn_graph.h or libcudnn): no
// cuDNN rows, and version 0, which the profile notes report as "not built in" (bench.h).
#include "calibrate/cuda/bench.h"

namespace attnsim::calibrate::cuda {

int cudnn_version() {
  return 0;
}

void measure_cudnn_attention(Session& /*s*/, Measurements& /*m*/) {}

}  // namespace attnsim::calibrate::cuda
