// SPDX-License-Identifier: Apache-2.0
// The CUDA calibration backend end to end on a real device: `--quick` measures, the profile
// re-reads unchanged, and every figure is positive and no faster than the datasheet allows.
// Needs a GPU (tests/gpu/kernel_main.cpp skips the executable without one).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "calibrate/backend.h"
#include "calibrate/cuda/assemble.h"
#include "calibrate/cuda/plan.h"
#include "calibrate/profile.h"
#include "config/node.h"

using attnsim::calibrate::Profile;

TEST_CASE("a quick CUDA calibration gives a valid profile within datasheet bounds",
          "[gpu][calibrate]") {
  const auto backend = attnsim::calibrate::make_cuda_backend();
  REQUIRE(backend != nullptr);
  REQUIRE(backend->unavailable_reason().empty());
  attnsim::calibrate::MeasureOptions options;
  options.quick = true;
  options.tool = "attnsim test";
  options.name = "gpu-test";
  int last_done = 0;
  int total = 0;
  options.progress = [&](const attnsim::calibrate::Progress& p) {
    REQUIRE(p.done == last_done + 1);  // one call per point, in order
    last_done = p.done;
    total = p.total;
  };
  const Profile p = backend->measure(options);
  REQUIRE(last_done == total);  // the planned total was exact

  const nlohmann::json json = attnsim::calibrate::to_json(p);
  const Profile again =
      attnsim::calibrate::parse_profile(attnsim::config::Node::from_json("gpu.json", json));
  REQUIRE(attnsim::calibrate::to_json(again) == json);

  REQUIRE(p.provenance.gpus >= 1);
  REQUIRE(p.peaks.sm_count > 0);
  REQUIRE(p.peaks.compute_capability >= 80);
  REQUIRE(p.peaks.hbm_bytes > 1e9);
  REQUIRE_FALSE(p.compute.gemm.empty());
  // Peaks are a datasheet's only for a device with a built-in profile; otherwise they are the
  // best GEMMs measured (assemble.h), and GEMM <= peak would hold by construction.
  const bool datasheet =
      attnsim::calibrate::cuda::builtin_for_device(p.provenance.device) || !options.builtin.empty();
  if (!datasheet) {
    WARN(p.provenance.device << " has no built-in profile: its peaks are the best GEMMs "
                                "measured, so GEMM rates are not checked against them");
  }
  for (const auto& g : p.compute.gemm) {
    INFO(g.dtype << " " << g.m << "x" << g.n << "x" << g.k << ": " << g.tflops);
    REQUIRE(g.tflops > 0);
    if (datasheet) {
      REQUIRE(g.tflops * 1e12 <= p.peaks.flops_per_s.at(g.dtype));
    }
  }
  // Every setting of the plan, both passes, by our kernels; by cuDNN too where it is built in
  // (a setting cuDNN cannot run leaves a note instead).
  std::size_t ours = 0;
  for (const auto& a : p.compute.attention) {
    INFO(a.impl << " " << a.kind << " " << a.pass << " d" << a.head_dim << " s" << a.seq_q << ": "
                << a.tflops);
    REQUIRE((a.impl == "ours" || (a.impl == "cudnn" && !p.provenance.cudnn.empty())));
    ours += a.impl == "ours" ? 1 : 0;
    REQUIRE(a.tflops > 0);
    REQUIRE(a.tflops * 1e12 <= p.peaks.flops_per_s.at(a.dtype));
  }
  REQUIRE(ours == 2 * attnsim::calibrate::cuda::attention_plan(true).size());
  for (const auto& m : p.compute.memory) {
    INFO(m.op << " " << m.bytes << " B: " << m.bandwidth_GBps);
    REQUIRE(m.bandwidth_GBps > 0);
    // Buffers past the L2 (256 MiB and up) cannot beat the HBM datasheet; smaller ones may
    // run from L2.
    if (m.bytes >= 2.0 * 256 * (1 << 20)) {
      REQUIRE(m.bandwidth_GBps <= p.peaks.hbm_bandwidth_GBps);
    }
  }
  REQUIRE(p.compute.launch_overhead_us > 0);
  REQUIRE(p.compute.launch_overhead_us < 100);
  for (const auto& c : p.comm.measurements) {
    REQUIRE(c.time_us > 0);
  }
  if (p.provenance.gpus >= 2) {
    REQUIRE(p.comm.links.scale_up.bandwidth_GBps > 0);
  }
}
