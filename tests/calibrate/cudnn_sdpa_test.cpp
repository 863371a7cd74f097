// SPDX-License-Identifier: Apache-2.0
// The cuDNN lowering of the SDPA graphs (calibrate/cuda/cudnn_sdpa.h) without a GPU: every
// tensor descriptor and operation node of the forward and backward graphs, for several shapes,
// both io types, both head dimensions, dense, causal and sliding window, is made and finalized by
// the cuDNN library itself (cuDNN checks each node's attributes at finalize; only the operation
// graph and what follows need a handle, hence a device). Built where cuDNN is found; runs in CI.
#include "calibrate/cuda/cudnn_sdpa.h"

#include <algorithm>
#include <cudnn.h>
#include <string>

#include <catch2/catch.hpp>

#include "calibrate/cuda/sdpa_graph.h"

using attnsim::calibrate::cuda::BackendDescriptor;
using attnsim::calibrate::cuda::CudnnError;
using attnsim::calibrate::cuda::lower_operations;
using attnsim::calibrate::cuda::LoweredOperations;
using attnsim::calibrate::cuda::sdpa_backward_graph;
using attnsim::calibrate::cuda::sdpa_forward_graph;
using attnsim::calibrate::cuda::sdpa_unsupported;
using attnsim::calibrate::cuda::SdpaGraph;
using attnsim::calibrate::cuda::SdpaShape;

TEST_CASE("every node of the cuDNN SDPA graphs finalizes without a GPU", "[cudnn]") {
  const int version = static_cast<int>(cudnnGetVersion());
  INFO("cuDNN " << version);

  struct Size {
    std::int64_t batch, heads, seq;
  };

  // The plan's shape (16K tokens per call, width 2048) at s 1024 and 16384, and a small one.
  const Size sizes[] = {{1, 2, 128}, {16, 32, 1024}, {1, 16, 16384}};
  int graphs = 0;
  for (const Size& size : sizes) {
    for (const std::string dtype : {"bf16", "fp16"}) {
      for (const std::int64_t d : {64, 128}) {
        // Dense, causal, and the plan's sliding window (a quarter of the sequence).
        for (const std::int64_t window : {std::int64_t{-1}, std::int64_t{0}, size.seq / 4}) {
          SdpaShape s;
          s.batch = size.batch;
          s.heads = size.heads;
          s.seq = size.seq;
          s.head_dim = d;
          s.causal = window >= 0;
          s.window = std::max<std::int64_t>(window, 0);
          s.dtype = dtype;
          REQUIRE(sdpa_unsupported(s).empty());
          for (const bool backward : {false, true}) {
            INFO(dtype << " d" << d << " s" << size.seq << " causal " << s.causal << " window "
                       << s.window << (backward ? " bwd" : " fwd"));
            const SdpaGraph g =
                backward ? sdpa_backward_graph(s, version) : sdpa_forward_graph(s, version);
            LoweredOperations lowered;
            try {
              lowered = lower_operations(g, version);
            } catch (const CudnnError& e) {
              FAIL(e.what());
            }
            REQUIRE(lowered.tensors.size() == g.tensors.size());
            REQUIRE(lowered.operations.size() == g.ops.size());
            for (const auto& [uid, desc] : lowered.tensors) {
              REQUIRE(desc.get() != nullptr);
            }
            ++graphs;
          }
        }
      }
    }
  }
  REQUIRE(graphs == 72);
}

TEST_CASE("a failed cuDNN call names the call and cuDNN's status", "[cudnn]") {
  // A tensor descriptor with no attributes set cannot be finalized.
  BackendDescriptor empty(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
  REQUIRE_THROWS_WITH(
      empty.finalize("tensor nothing"),
      Catch::StartsWith("cudnnBackendFinalize(tensor nothing) failed: CUDNN_STATUS_"));
}
