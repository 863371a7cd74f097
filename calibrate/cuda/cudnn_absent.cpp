// SPDX-License-Identifier: Apache-2.0
// The CUDA backend without cuDNN (cmake/cuda.cmake found no cudnn_graph.h or libcudnn): no
// cuDNN rows, and version 0, which the profile notes report as "not built in" (bench.h).
#include "calibrate/cuda/bench.h"

namespace attnsim::calibrate::cuda {

int cudnn_version() {
  return 0;
}

// No rows and no progress steps: planned_points() counts cuDNN's only where it is built in.
void measure_cudnn_attention(Session& /*s*/, Measurements& /*m*/,
                             const std::vector<AttentionCase>& /*settings*/) {}

}  // namespace attnsim::calibrate::cuda
