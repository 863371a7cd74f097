// SPDX-License-Identifier: Apache-2.0
// The CUDA backend's profile assembly (calibrate/cuda/assemble.h) from fake measurements,
// without a GPU: the built-in match by device name, version strings, one GPU (communication
// inherited from the built-in), eight GPUs of an unknown device (the scale-up link fitted to
// send_recv rows made from a known alpha and beta), and the round trip through the JSON.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "calibrate/cuda/assemble.h"
#include "calibrate/cuda/plan.h"
#include "config/error.h"
#include "config/node.h"
#include "models/cost.h"
#include "models/machine.h"
#include "tests/topology/topo_test_util.h"

using attnsim::calibrate::AttentionPoint;
using attnsim::calibrate::builtin_profile;
using attnsim::calibrate::CommMeasurement;
using attnsim::calibrate::GemmPoint;
using attnsim::calibrate::MeasureOptions;
using attnsim::calibrate::MemoryPoint;
using attnsim::calibrate::parse_profile;
using attnsim::calibrate::Profile;
using attnsim::calibrate::to_json;
using attnsim::calibrate::cuda::assemble_profile;
using attnsim::calibrate::cuda::attention_plan;
using attnsim::calibrate::cuda::attention_row;
using attnsim::calibrate::cuda::AttentionCase;
using attnsim::calibrate::cuda::builtin_for_device;
using attnsim::calibrate::cuda::cuda_version_text;
using attnsim::calibrate::cuda::cudnn_version_text;
using attnsim::calibrate::cuda::driver_text;
using attnsim::calibrate::cuda::Measurements;
using attnsim::calibrate::cuda::nccl_version_text;
using attnsim::calibrate::cuda::nvidia_driver_release;

namespace {

Measurements fake(const std::string& device, int gpus) {
  Measurements m;
  m.device.name = device;
  m.device.gpus = gpus;
  m.device.sm_count = 132;
  m.device.compute_capability = 90;
  m.device.hbm_bytes = 85'031'714'816.0;
  m.device.driver_version = 13000;
  m.device.runtime_version = 13000;
  m.device.cublas_version = "13.0.2";
  m.device.nccl_version = 22703;
  m.device.all_peer_access = gpus > 1;
  GemmPoint g;
  g.m = 8192;
  g.n = 4096;
  g.k = 4096;
  g.dtype = "bf16";
  g.tflops = 600;
  g.source = "fake";
  m.gemm.push_back(g);
  g.n = 5120;
  g.tflops = 650;
  m.gemm.push_back(g);
  MemoryPoint copy;
  copy.op = "copy";
  copy.bytes = 2.0 * (1 << 30);
  copy.bandwidth_GBps = 2900;
  copy.source = "fake";
  m.memory.push_back(copy);
  m.launch_us = 2.5;
  m.launch_sync_us = 9;
  return m;
}

// parse_profile(to_json(p)) must give back to_json(p) (what `attnsim calibrate` checks).
void require_round_trip(const Profile& p) {
  const nlohmann::json first = to_json(p);
  const Profile again = parse_profile(attnsim::config::Node::from_json("assembled.json", first));
  REQUIRE(to_json(again) == first);
}

// An 8-rank NCCL send_recv row of `size` bytes taking latency_s + size / bytes_per_s, its
// busbw the payload rate (send_recv's bus factor is 1).
CommMeasurement send_recv_row(double size, double latency_s, double bytes_per_s) {
  CommMeasurement c;
  c.collective = "send_recv";
  c.ranks = 8;
  c.nodes = 1;
  c.algo = "default";
  c.proto = "default";
  c.size_bytes = size;
  const double seconds = latency_s + size / bytes_per_s;
  c.time_us = seconds * 1e6;
  c.busbw_GBps = size / seconds * 1e-9;
  c.source = "fake";
  return c;
}

MeasureOptions options() {
  MeasureOptions o;
  o.tool = "attnsim 0.1.0";
  o.name = "test-cuda";
  o.quick = true;
  return o;
}

}  // namespace

TEST_CASE("device names map to SXM built-ins by whole words, never PCIe or NVL parts", "[unit]") {
  REQUIRE(builtin_for_device("NVIDIA H100 80GB HBM3") == "h100-sxm");
  REQUIRE(builtin_for_device("NVIDIA H200") == "h200-sxm");
  REQUIRE(builtin_for_device("NVIDIA A100-SXM4-80GB") == "a100-sxm");
  REQUIRE(builtin_for_device("NVIDIA B200") == "b200");
  REQUIRE(builtin_for_device("NVIDIA GB200") == "gb200");
  REQUIRE_FALSE(builtin_for_device("NVIDIA H100 PCIe"));
  REQUIRE_FALSE(builtin_for_device("NVIDIA H100 NVL"));
  REQUIRE_FALSE(builtin_for_device("NVIDIA A100 80GB PCIe"));
  REQUIRE_FALSE(builtin_for_device("NVIDIA GH200 480GB"));  // not the word H200
  REQUIRE_FALSE(builtin_for_device("NVIDIA GeForce RTX 4090"));
}

TEST_CASE("CUDA and NCCL version codes print as dotted versions", "[unit]") {
  REQUIRE(cuda_version_text(13000) == "13.0");
  REQUIRE(cuda_version_text(12040) == "12.4");
  REQUIRE(cuda_version_text(0).empty());
  REQUIRE(nccl_version_text(22703) == "2.27.3");
  REQUIRE(nccl_version_text(21803) == "2.18.3");
  // cuDNN 9 encodes 10000 x major + 100 x minor + patch, cuDNN 8 1000 x major + 100 x minor +
  // patch (cudnn_version.h).
  REQUIRE(cudnn_version_text(91900) == "9.19.0");
  REQUIRE(cudnn_version_text(90102) == "9.1.2");
  REQUIRE(cudnn_version_text(8907) == "8.9.7");
  REQUIRE(cudnn_version_text(0).empty());
}

TEST_CASE("--inherit names the built-in a device's name does not match, or overrides the match",
          "[unit]") {
  MeasureOptions options;
  options.quick = true;
  // One H100 PCIe: no built-in by name, so no peaks from a datasheet and no communication.
  const Measurements pcie = fake("NVIDIA H100 PCIe", 1);
  const Profile alone = assemble_profile(options, pcie, "2026-11-24");
  CHECK(alone.inherited_from.empty());
  CHECK(alone.comm.measurements.empty());
  CHECK(alone.peaks.flops_per_s.at("bf16") == Approx(650e12));  // the best GEMM measured
  // Named: its peaks, and with one GPU its communication tables and links whole.
  options.builtin = "h100-sxm";
  const Profile named = assemble_profile(options, pcie, "2026-11-24");
  const Profile h100 = builtin_profile("h100-sxm");
  CHECK(named.inherited_from == "h100-sxm");
  CHECK(named.peaks.flops_per_s == h100.peaks.flops_per_s);
  CHECK(named.comm.measurements.size() == h100.comm.measurements.size());
  CHECK(named.comm.links.nic.bandwidth_GBps == h100.comm.links.nic.bandwidth_GBps);
  CHECK_THAT(named.provenance.notes, Catch::Contains("h100-sxm, named by --inherit."));
  CHECK(to_json(parse_profile(attnsim::config::Node::from_json("p", to_json(named)))) ==
        to_json(named));
  // A name wins over the device's own match: an H100 SXM calibrated against h200-sxm.
  options.builtin = "h200-sxm";
  const Profile over = assemble_profile(options, fake("NVIDIA H100 80GB HBM3", 1), "2026-11-24");
  CHECK(over.inherited_from == "h200-sxm");
  CHECK(over.peaks.hbm_bandwidth_GBps == builtin_profile("h200-sxm").peaks.hbm_bandwidth_GBps);
  options.builtin.clear();
  const Profile matched = assemble_profile(options, fake("NVIDIA H100 80GB HBM3", 1), "2026-11-24");
  CHECK_THAT(matched.provenance.notes, Catch::Contains("h100-sxm, matched by the device's name."));
  CHECK_THAT(matched.provenance.notes, !Catch::Contains("Warning"));
  // A built-in of another generation is taken as named, with a warning in the notes; a dtype
  // it has no peak for (the GTX 1080 has fp32 only) gets the best GEMM measured.
  options.builtin = "gtx1080";
  const Profile pascal = assemble_profile(options, pcie, "2026-11-24");
  CHECK_THAT(pascal.provenance.notes,
             Catch::Contains("Warning: gtx1080 is an sm_61 profile and this device is sm_90"));
  CHECK(pascal.peaks.flops_per_s.at("bf16") == Approx(650e12));
  CHECK(pascal.peaks.flops_per_s.at("fp32") ==
        builtin_profile("gtx1080").peaks.flops_per_s.at("fp32"));
  CHECK_THAT(pascal.peaks.source,
             Catch::Contains("bf16 (no peak in gtx1080) is the best cuBLAS GEMM rate measured"));
}

TEST_CASE("the driver release is read from the kernel module's version line", "[unit]") {
  // /proc/driver/nvidia/version of the proprietary and of the open kernel module.
  REQUIRE(nvidia_driver_release(
              "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.129.03  Thu Oct 19 18:56:32 "
              "UTC 2023\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n") == "535.129.03");
  REQUIRE(nvidia_driver_release("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  "
                                "550.54.15  Release Build  (dvs-builder@U16-I3-B03-4-3)  Tue "
                                "Mar  5 22:15:33 UTC 2024\n") == "550.54.15");
  REQUIRE(nvidia_driver_release("GCC version:  gcc version 12.2.0\n").empty());
  REQUIRE(nvidia_driver_release("").empty());
  // The provenance names the release and the CUDA level; without a release, the level alone.
  Measurements m = fake("NVIDIA H100 80GB HBM3", 1);
  m.device.driver_version = 12040;
  REQUIRE(driver_text(m.device) == "supports CUDA 12.4");
  m.device.driver_release = "550.54.15";
  REQUIRE(driver_text(m.device) == "550.54.15 (supports CUDA 12.4)");
  MeasureOptions options;
  options.quick = true;
  REQUIRE(assemble_profile(options, m, "2026-11-24").provenance.driver ==
          "550.54.15 (supports CUDA 12.4)");
}

TEST_CASE("a profile with cuDNN rows names cuDNN's version; without, the notes say why not",
          "[unit]") {
  Measurements m = fake("NVIDIA H100 80GB HBM3", 1);
  SECTION("cuDNN not built in") {
    const Profile p = assemble_profile(options(), m, "2026-08-14");
    REQUIRE(p.provenance.cudnn.empty());
    REQUIRE(p.provenance.notes.find("cuDNN's fused attention is not measured (cuDNN was not "
                                    "built into this binary)") != std::string::npos);
  }
  SECTION("cuDNN built in, every setting failed") {
    m.device.cudnn_version = 91900;
    const Profile p = assemble_profile(options(), m, "2026-08-14");
    REQUIRE(p.provenance.cudnn.empty());  // no cudnn row, so no library version to cite
    REQUIRE(p.provenance.notes.find("cuDNN 9.19.0 is built in but measured no attention row") !=
            std::string::npos);
  }
  SECTION("cuDNN rows measured") {
    m.device.cudnn_version = 91900;
    AttentionPoint row;
    row.impl = "cudnn";
    row.pass = "fwd";
    row.dtype = "bf16";
    row.head_dim = 128;
    row.seq_q = 4096;
    row.seq_k = 4096;
    row.batch_heads = 64;
    row.tflops = 500;
    row.source = "fake";
    m.attention.push_back(row);
    const Profile p = assemble_profile(options(), m, "2026-08-14");
    REQUIRE(p.provenance.cudnn == "9.19.0");
    REQUIRE(p.provenance.notes.find("our kernels (kernels/, impl \"ours\") and cuDNN 9.19.0's "
                                    "fused flash attention (impl \"cudnn\"") != std::string::npos);
    REQUIRE(p.compute.attention.size() == 1);
    // The version survives the JSON round trip.
    const nlohmann::json written = to_json(p);
    REQUIRE(written["provenance"]["cudnn"] == "9.19.0");
    REQUIRE(parse_profile(attnsim::config::Node::from_json("measured.json", written))
                .provenance.cudnn == "9.19.0");
  }
}

TEST_CASE("one H100: measured compute, the built-in's peaks and communication", "[unit]") {
  const Profile builtin = builtin_profile("h100-sxm");
  const Profile p = assemble_profile(options(), fake("NVIDIA H100 80GB HBM3", 1), "2026-08-14");
  REQUIRE(p.name == "test-cuda");
  REQUIRE(p.provenance.source == "measured");
  REQUIRE(p.provenance.device == "NVIDIA H100 80GB HBM3");
  REQUIRE(p.provenance.cuda == "13.0");
  REQUIRE(p.provenance.nccl == "2.27.3");
  REQUIRE(p.provenance.cublas == "13.0.2");
  REQUIRE(p.provenance.cudnn.empty());  // no cuDNN point measured
  // The library versions survive the JSON round trip.
  const nlohmann::json written = to_json(p);
  REQUIRE(written["provenance"]["cublas"] == "13.0.2");
  REQUIRE_FALSE(written["provenance"].contains("cudnn"));
  REQUIRE(
      parse_profile(attnsim::config::Node::from_json("measured.json", written)).provenance.cublas ==
      "13.0.2");
  REQUIRE(p.provenance.gpus == 1);
  REQUIRE(p.provenance.date == "2026-08-14");
  REQUIRE(p.inherited_from == "h100-sxm");
  REQUIRE(p.provenance.citations.front().find("calibrate/profiles/h100-sxm.json") !=
          std::string::npos);
  REQUIRE(p.provenance.notes.find("One GPU: no collective can be measured") != std::string::npos);
  REQUIRE(p.provenance.notes.find("bf16 650 TFLOP/s at 8192x5120x4096") != std::string::npos);
  // Datasheet peaks from the built-in; the device's own memory size, SMs, capability.
  REQUIRE(p.peaks.flops_per_s == builtin.peaks.flops_per_s);
  REQUIRE(p.peaks.hbm_bandwidth_GBps == builtin.peaks.hbm_bandwidth_GBps);
  REQUIRE(p.peaks.hbm_bytes == 85'031'714'816.0);
  REQUIRE(p.peaks.source.find("cannot be measured") != std::string::npos);
  REQUIRE(p.compute.gemm.size() == 2);
  REQUIRE(p.compute.launch_overhead_us == 2.5);
  REQUIRE(p.comm.measurements.size() == builtin.comm.measurements.size());
  REQUIRE(p.comm.links.scale_up.bandwidth_GBps == builtin.comm.links.scale_up.bandwidth_GBps);
  require_round_trip(p);
}

TEST_CASE("eight GPUs of an unknown device: the link is fitted to send_recv, peaks measured",
          "[unit]") {
  Measurements m = fake("NVIDIA RTX PRO 6000", 8);
  // send_recv rows made from alpha = 5 us, beta = 300 GB/s exactly: the fit must return them.
  for (double size = 8; size <= 1 << 30; size *= 16) {
    m.comm.push_back(send_recv_row(size, 5e-6, 300e9));
  }
  const Profile p = assemble_profile(options(), m, "2026-08-14");
  REQUIRE(p.inherited_from.empty());
  REQUIRE(p.comm.measurements.size() == m.comm.size());
  REQUIRE(p.comm.links.scale_up.kind == "nvswitch");  // every pair has peer access
  REQUIRE(p.comm.links.scale_up.latency_us == Approx(5).epsilon(1e-6));
  REQUIRE(p.comm.links.scale_up.bandwidth_GBps == Approx(300).epsilon(1e-6));
  REQUIRE(p.comm.links.scale_up.efficiency == 1);
  REQUIRE(p.comm.links.nic.kind.empty());
  // No built-in: the best measured rates stand in for peaks, and say so.
  REQUIRE(p.peaks.flops_per_s.at("bf16") == Approx(650e12));
  REQUIRE(p.peaks.hbm_bandwidth_GBps == 2900);
  REQUIRE(p.peaks.source.find("not a datasheet peak") != std::string::npos);
  require_round_trip(p);

  m.device.all_peer_access = false;
  REQUIRE(assemble_profile(options(), m, "2026-08-14").comm.links.scale_up.kind == "pcie");
}

TEST_CASE("eight H100s keep the built-in's NIC and PCIe figures beside the fitted link", "[unit]") {
  Measurements m = fake("NVIDIA H100 80GB HBM3", 8);
  for (const double size : {1e3, 1e6, 1e9}) {
    m.comm.push_back(send_recv_row(size, 8e-6, 360e9));
  }
  const Profile builtin = builtin_profile("h100-sxm");
  const Profile p = assemble_profile(options(), m, "2026-08-14");
  // The measured 360 GB/s is a point-to-point efficiency of the built-in's raw 450 GB/s; the
  // collectives keep the built-in's link, and NVLS its efficiency of the same raw rate.
  const attnsim::calibrate::LinkParams& up = p.comm.links.scale_up;
  REQUIRE(up.kind == "nvswitch");
  REQUIRE(up.bandwidth_GBps == 450);
  REQUIRE(up.p2p_efficiency == Approx(360.0 / 450).epsilon(1e-6));
  REQUIRE(up.efficiency == builtin.comm.links.scale_up.efficiency);
  REQUIRE(up.latency_us == builtin.comm.links.scale_up.latency_us);
  REQUIRE(p.comm.links.nic.bandwidth_GBps == builtin.comm.links.nic.bandwidth_GBps);
  REQUIRE(p.comm.links.nic.source.rfind("from attnsim built-in profile h100-sxm", 0) == 0);
  REQUIRE(p.comm.links.nvls_efficiency == builtin.comm.links.nvls_efficiency);
  require_round_trip(p);

  // On the usual topology preset, one message between two GPUs then moves at the measured
  // 360 GB/s, not at the preset's raw 450 GB/s (models/machine.h: raw x efficiency).
  const attnsim::models::Machine machine = attnsim::models::build_machine(
      attnsim::topology::testing::spec_from(R"({"preset": "dgx-h100"})"), p);
  REQUIRE(machine.layout.p2p_GBps == Approx(360).epsilon(1e-6));
}

TEST_CASE("two or more GPUs with one send_recv size cannot be fitted", "[errors]") {
  Measurements m = fake("NVIDIA H100 80GB HBM3", 2);
  CommMeasurement c;
  c.collective = "send_recv";
  c.ranks = 2;
  c.size_bytes = 1024;
  c.time_us = 10;
  m.comm.push_back(c);
  REQUIRE_THROWS_WITH(assemble_profile(options(), m, "2026-08-14"),
                      "calibrate --backend cuda: cannot fit latency and bandwidth of the NCCL "
                      "send_recv rows (1 sizes; the fit needs two, with times rising with "
                      "size)");
}

TEST_CASE("every attention row a full CUDA run writes is read back, and its kind rows priced",
          "[unit]") {
  // Oracle: the strict reader accepts the rows plan.h's attention_row makes for every setting
  // of the full plan (ours) and of cuDNN's (cudnn), and the cost model reproduces each
  // sliding-window and dilated row exactly (models/cost.h: kind rows correct the tile price
  // to their own measurement). Rates are made up, distinct per row.
  Measurements m = fake("NVIDIA H100 80GB HBM3", 1);
  m.device.cudnn_version = 91900;
  double rate = 100;
  const auto add = [&](const std::vector<AttentionCase>& plan, const std::string& impl) {
    for (const AttentionCase& a : plan) {
      for (const bool backward : {false, true}) {
        AttentionPoint row = attention_row(a, backward);
        row.impl = impl;
        row.tflops = rate;
        rate += 7;
        row.source = "test";
        m.attention.push_back(row);
      }
    }
  };
  add(attention_plan(false), "ours");
  add(attention_plan(false), "cudnn");
  const Profile p = assemble_profile(options(), m, "2026-11-23");
  require_round_trip(p);
  int kind_rows = 0;
  for (const AttentionPoint& row : p.compute.attention) {
    if (row.kind.empty()) {
      continue;
    }
    INFO(row.impl << " " << row.pass << " " << row.kind << " d" << row.head_dim);
    const attnsim::models::CostModel cost(p, row.dtype, row.impl);
    CHECK(attnsim::models::predicted_tflops(cost, row) == Approx(row.tflops).epsilon(1e-7));
    ++kind_rows;
  }
  // Full plan: one sliding-window and one dilated setting, each run by ours and cuDNN.
  REQUIRE(kind_rows == 2 * 4);
}
