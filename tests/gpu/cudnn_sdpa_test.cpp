// SPDX-License-Identifier: Apache-2.0
// cuDNN SDPA through our backend-API lowering (calibrate/cuda/cudnn_sdpa.h) on a device, against
// the CPU references by FlashAttention's rule (tests/support/attention_check.h): forward O and
// Stats, backward dQ, dK, dV, for dense, causal and sliding-window masks, bf16 and fp16, head
// dims 64 and 128. Outputs start filled with NaN bytes, so an element cuDNN does not write
// fails. Needs a GPU (label gpu).
#include "calibrate/cuda/cudnn_sdpa.h"

#include <algorithm>
#include <cstdint>
#include <cudnn.h>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <cuda_runtime.h>

#include "calibrate/cuda/sdpa_graph.h"
#include "kernels/attention.h"
#include "tests/gpu/device_buffer.h"
#include "tests/support/attention_check.h"
#include "tests/support/attention_reference.h"
#include "tests/support/sdpa_problem.h"

namespace cuda = attnsim::calibrate::cuda;
namespace kernels = attnsim::kernels;
using attnsim::test::check_close;
using attnsim::test::DeviceBuffer;
using attnsim::test::download;

namespace {

struct HandleDeleter {
  void operator()(cudnnHandle_t h) const { cudnnDestroy(h); }
};

struct Setting {
  std::string name;
  kernels::MaskKind mask = kernels::MaskKind::kDense;
  std::int64_t window = 0;
};

void run_case(cudnnHandle_t handle, const Setting& setting, kernels::DType t, int d,
              std::uint64_t seed) {
  const kernels::AttentionProblem p =
      attnsim::test::sdpa_test_problem(t, 256, d, setting.mask, setting.window);
  const cuda::SdpaShape shape = attnsim::test::sdpa_shape(p);
  REQUIRE(cuda::sdpa_unsupported(shape).empty());

  const int version = static_cast<int>(cudnnGetVersion());
  cuda::SdpaPlan fwd(handle, cuda::sdpa_forward_graph(shape, version), version);
  cuda::SdpaPlan bwd(handle, cuda::sdpa_backward_graph(shape, version), version);
  INFO("forward " << fwd.engine() << "; backward " << bwd.engine());

  const attnsim::test::RandomCase c = attnsim::test::random_case(p, seed);
  const attnsim::test::Reference& exact = c.exact;
  const attnsim::test::Reference& naive = c.naive;

  // Q, K, V, dO are BSHD, HostTensor's layout; every other bound tensor starts as NaN bytes.
  std::map<std::int64_t, DeviceBuffer> memory;
  memory.emplace(cuda::sdpa_uid::kQ, attnsim::test::upload(c.q, t));
  memory.emplace(cuda::sdpa_uid::kK, attnsim::test::upload(c.k, t));
  memory.emplace(cuda::sdpa_uid::kV, attnsim::test::upload(c.v, t));
  memory.emplace(cuda::sdpa_uid::kDO, attnsim::test::upload(c.d_o, t));
  for (const cuda::SdpaPlan* plan : {&fwd, &bwd}) {
    for (const std::int64_t uid : plan->device_uids()) {
      if (memory.count(uid) == 0) {
        memory.emplace(uid, DeviceBuffer(static_cast<std::size_t>(plan->tensor_bytes(uid))))
            .first->second.fill(0xff);
      }
    }
  }
  DeviceBuffer workspace(static_cast<std::size_t>(
      std::max<std::int64_t>(256, std::max(fwd.workspace_bytes(), bwd.workspace_bytes()))));
  std::map<std::int64_t, void*> pointers;
  for (const auto& [uid, buffer] : memory) {
    pointers[uid] = buffer.get();
  }
  fwd.bind(pointers, workspace.get());
  bwd.bind(pointers, workspace.get());
  fwd.execute(handle);
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  check_close("O", download(memory.at(cuda::sdpa_uid::kO), t), naive.o.data, exact.o.data);
  std::vector<double> stats;
  for (const float x : memory.at(cuda::sdpa_uid::kStats).download<float>()) {
    stats.push_back(x);  // [b, h, s], the reference's lse layout
  }
  check_close("Stats", stats, naive.lse, exact.lse);

  bwd.execute(handle);
  REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
  check_close("dQ", download(memory.at(cuda::sdpa_uid::kDQ), t), naive.d_q.data, exact.d_q.data);
  check_close("dK", download(memory.at(cuda::sdpa_uid::kDK), t), naive.d_k.data, exact.d_k.data);
  check_close("dV", download(memory.at(cuda::sdpa_uid::kDV), t), naive.d_v.data, exact.d_v.data);
}

}  // namespace

TEST_CASE("cuDNN SDPA through the backend API matches the CPU references", "[gpu]") {
  cudnnHandle_t raw = nullptr;
  REQUIRE(cudnnCreate(&raw) == CUDNN_STATUS_SUCCESS);
  const std::unique_ptr<cudnnContext, HandleDeleter> handle(raw);
  const std::vector<Setting> settings = {
      {"dense", kernels::MaskKind::kDense, 0},
      {"causal", kernels::MaskKind::kCausal, 0},
      {"sliding window 37", kernels::MaskKind::kSlidingWindow, 37}};
  std::uint64_t seed = 1;
  for (const kernels::DType t : {kernels::DType::kBFloat16, kernels::DType::kFloat16}) {
    for (const int d : {64, 128}) {
      for (const Setting& s : settings) {
        SECTION(s.name + (t == kernels::DType::kBFloat16 ? ", bf16" : ", fp16") + ", d " +
                std::to_string(d)) {
          run_case(handle.get(), s, t, d, seed);
        }
        ++seed;
      }
    }
  }
}
