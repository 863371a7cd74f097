// SPDX-License-Identifier: Apache-2.0
// cuDNN SDPA through our backend-API lowering (calibrate/cuda/cudnn_sdpa.h) on a device, against
// the CPU attention reference (calibrate/cpu/attention.h): forward O and Stats, backward dQ, dK,
// dV, for a small bf16 shape, dense and causal. Needs a GPU (label gpu).
#include "calibrate/cuda/cudnn_sdpa.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <cudnn.h>
#include <map>
#include <random>
#include <vector>

#include <catch2/catch.hpp>
#include <cuda_runtime.h>

#include "calibrate/cpu/attention.h"
#include "calibrate/cuda/sdpa_graph.h"
#include "tests/gpu/device_buffer.h"

namespace cuda = attnsim::calibrate::cuda;
namespace cpu = attnsim::calibrate::cpu;
using attnsim::test::DeviceBuffer;

namespace {

// bf16 bits of `x`, rounded to nearest even; and back.
std::uint16_t to_bf16(float x) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &x, sizeof bits);
  bits += 0x7FFFU + ((bits >> 16) & 1U);
  return static_cast<std::uint16_t>(bits >> 16);
}

float from_bf16(std::uint16_t h) {
  const std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
  float x = 0;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

// A BSHD bf16 tensor with uniform [-1, 1) values, and the same values as floats.
struct HostTensor {
  std::vector<std::uint16_t> bits;
  std::vector<float> values;
};

HostTensor random_tensor(std::size_t n, std::mt19937_64& rng) {
  HostTensor t;
  for (std::size_t i = 0; i < n; ++i) {
    // Our own uniform draw (STYLE C8: standard distributions differ between libraries).
    const double u = static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
    const std::uint16_t h = to_bf16(static_cast<float>(2 * u - 1));
    t.bits.push_back(h);
    t.values.push_back(from_bf16(h));
  }
  return t;
}

// Head `head` of a BSHD tensor with one batch as an s x d matrix.
cpu::HeadMatrix head_of(const std::vector<float>& bshd, int s, int h, int d, int head) {
  cpu::HeadMatrix m(s, d);
  for (int t = 0; t < s; ++t) {
    for (int j = 0; j < d; ++j) {
      m(t, j) = bshd[(static_cast<std::size_t>(t) * h + head) * d + j];
    }
  }
  return m;
}

double max_abs_diff_bshd(const std::vector<std::uint16_t>& got, const cpu::HeadMatrix& want, int h,
                         int d, int head) {
  double worst = 0;
  for (int t = 0; t < want.rows(); ++t) {
    for (int j = 0; j < d; ++j) {
      const float g = from_bf16(got[(static_cast<std::size_t>(t) * h + head) * d + j]);
      worst = std::max(worst, std::abs(static_cast<double>(g) - want(t, j)));
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("cuDNN SDPA through the backend API matches the CPU reference", "[gpu]") {
  constexpr int kS = 256;
  constexpr int kH = 2;
  constexpr int kD = 64;
  const int version = static_cast<int>(cudnnGetVersion());
  cudnnHandle_t handle = nullptr;
  REQUIRE(cudnnCreate(&handle) == CUDNN_STATUS_SUCCESS);
  for (const bool causal : {false, true}) {
    INFO((causal ? "causal" : "dense"));
    cuda::SdpaShape shape;
    shape.batch = 1;
    shape.heads = kH;
    shape.seq = kS;
    shape.head_dim = kD;
    shape.causal = causal;
    shape.dtype = "bf16";
    cuda::SdpaPlan fwd(handle, cuda::sdpa_forward_graph(shape, version), version);
    cuda::SdpaPlan bwd(handle, cuda::sdpa_backward_graph(shape, version), version);

    std::mt19937_64 rng(7);
    const std::size_t n = static_cast<std::size_t>(kS) * kH * kD;
    const HostTensor q = random_tensor(n, rng);
    const HostTensor k = random_tensor(n, rng);
    const HostTensor v = random_tensor(n, rng);
    const HostTensor d_o = random_tensor(n, rng);
    std::map<std::int64_t, DeviceBuffer> memory;
    for (const cuda::SdpaPlan* plan : {&fwd, &bwd}) {
      for (const std::int64_t uid : plan->device_uids()) {
        memory.try_emplace(uid, static_cast<std::size_t>(plan->tensor_bytes(uid)));
      }
    }
    memory.at(cuda::sdpa_uid::kQ).upload(q.bits);
    memory.at(cuda::sdpa_uid::kK).upload(k.bits);
    memory.at(cuda::sdpa_uid::kV).upload(v.bits);
    memory.at(cuda::sdpa_uid::kDO).upload(d_o.bits);
    DeviceBuffer workspace(static_cast<std::size_t>(
        std::max<std::int64_t>(256, std::max(fwd.workspace_bytes(), bwd.workspace_bytes()))));
    std::map<std::int64_t, void*> pointers;
    for (const auto& [uid, buffer] : memory) {
      pointers[uid] = buffer.get();
    }
    fwd.bind(pointers, workspace.get());
    bwd.bind(pointers, workspace.get());
    fwd.execute(handle);
    bwd.execute(handle);
    REQUIRE(cudaDeviceSynchronize() == cudaSuccess);

    const auto o = memory.at(cuda::sdpa_uid::kO).download<std::uint16_t>();
    const auto stats = memory.at(cuda::sdpa_uid::kStats).download<float>();
    const auto dq = memory.at(cuda::sdpa_uid::kDQ).download<std::uint16_t>();
    const auto dk = memory.at(cuda::sdpa_uid::kDK).download<std::uint16_t>();
    const auto dv = memory.at(cuda::sdpa_uid::kDV).download<std::uint16_t>();
    for (int head = 0; head < kH; ++head) {
      INFO("head " << head);
      const cpu::HeadMatrix hq = head_of(q.values, kS, kH, kD, head);
      const cpu::HeadMatrix hk = head_of(k.values, kS, kH, kD, head);
      const cpu::HeadMatrix hv = head_of(v.values, kS, kH, kD, head);
      const cpu::HeadMatrix hdo = head_of(d_o.values, kS, kH, kD, head);
      cpu::HeadMatrix ro;
      Eigen::VectorXf lse;
      cpu::attention_forward(hq, hk, hv, causal, ro, lse);
      cpu::HeadMatrix rdq;
      cpu::HeadMatrix rdk;
      cpu::HeadMatrix rdv;
      cpu::attention_backward(hq, hk, hv, ro, lse, hdo, causal, rdq, rdk, rdv);
      // Tolerances: O is a convex combination of bf16 values in [-1, 1], stored as bf16 (half
      // an ulp is 2^-9 near 1) after cuDNN rounds P to bf16 for P·V (relative 2^-9 per term):
      // 2e-2 is several times both. Stats is fp32 throughout: 1e-3. Gradients are sums of s
      // bf16-rounded products (P, dS in bf16), so they get 5 % of their largest magnitude.
      REQUIRE(max_abs_diff_bshd(o, ro, kH, kD, head) < 2e-2);
      for (int t = 0; t < kS; ++t) {
        REQUIRE(std::abs(stats[static_cast<std::size_t>(head) * kS + t] - lse(t)) < 1e-3);
      }
      const auto bound = [](const cpu::HeadMatrix& m) {
        return 0.05 * std::max(1.0, static_cast<double>(m.cwiseAbs().maxCoeff()));
      };
      REQUIRE(max_abs_diff_bshd(dq, rdq, kH, kD, head) < bound(rdq));
      REQUIRE(max_abs_diff_bshd(dk, rdk, kH, kD, head) < bound(rdk));
      REQUIRE(max_abs_diff_bshd(dv, rdv, kH, kD, head) < bound(rdv));
    }
  }
  cudnnDestroy(handle);
}
