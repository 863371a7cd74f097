// SPDX-License-Identifier: Apache-2.0
// Parsing of the topology section: presets, overrides, the GPU-count override, and error text,
// which is part of the interface (STYLE D7) and is pinned verbatim here.
#include "topology/spec.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "config/error.h"
#include "tests/topology/topo_test_util.h"
#include "topology/load.h"

using attnsim::topology::load_topology_arg;
using attnsim::topology::preset_names;
using attnsim::topology::TopologySpec;
using attnsim::topology::testing::spec_from;

namespace {

// A small valid topology with fields, to which tests add one mistake.
std::string fields(const std::string& scale_up, const std::string& scale_out) {
  return R"({"nodes": 4, "gpus_per_node": 8, "scale_up": )" + scale_up + R"(, "scale_out": )" +
         scale_out + "}";
}

constexpr const char* kFatTree =
    R"({"kind": "fat_tree", "nics_per_node": 8, "nic_bandwidth_GBps": 50, "latency_us": 0.3,
        "switch_radix": 64})";

}  // namespace

TEST_CASE("every built-in preset parses and has the documented size", "[unit]") {
  // SPEC section 3: dgx-h100 is 8 GPUs; h100-superpod defaults to one SU (32 nodes, hardware.md
  // 1.6); gb200-nvl72 is one SU of 8 NVL72 racks (576 GPUs); pcie-gtx1080x2 is 2 GPUs.
  REQUIRE(preset_names() == std::vector<std::string>{"dgx-a100", "dgx-h100", "gb200-nvl72",
                                                     "h100-superpod", "pcie-gtx1080x2"});
  CHECK(spec_from(R"({"preset": "dgx-h100"})").gpus() == 8);
  CHECK(spec_from(R"({"preset": "dgx-a100"})").gpus() == 8);
  CHECK(spec_from(R"({"preset": "h100-superpod"})").gpus() == 256);
  CHECK(spec_from(R"({"preset": "gb200-nvl72"})").gpus() == 576);
  const TopologySpec pc = spec_from(R"({"preset": "pcie-gtx1080x2"})");
  CHECK(pc.gpus() == 2);
  CHECK(pc.scale_up.kind == "pcie");
  CHECK(pc.scale_out.kind == "none");
  CHECK(pc.scale_up.bandwidth.GBps() == Approx(15.8));
}

TEST_CASE("preset figures are those of hardware.md", "[unit]") {
  // 1.1: NVLink4 450 GB/s, NVLink3 300, NVLink5 900 per GPU per direction; 1.4: NDR 50 GB/s,
  // HDR 25 GB/s per NIC; 1.2: NVLS on gen3+ only.
  const TopologySpec h100 = spec_from(R"({"preset": "dgx-h100"})");
  CHECK(h100.scale_up.bandwidth.GBps() == Approx(450));
  CHECK(h100.scale_up.generator->nvls());
  CHECK(h100.scale_out.nic_bandwidth.GBps() == Approx(50));
  CHECK(h100.scale_out.nics_per_node == 8);
  const TopologySpec a100 = spec_from(R"({"preset": "dgx-a100"})");
  CHECK(a100.scale_up.bandwidth.GBps() == Approx(300));
  CHECK_FALSE(a100.scale_up.generator->nvls());
  CHECK(a100.scale_out.nic_bandwidth.GBps() == Approx(25));
  const TopologySpec gb = spec_from(R"({"preset": "gb200-nvl72"})");
  CHECK(gb.gpus_per_node == 72);
  CHECK(gb.scale_up.bandwidth.GBps() == Approx(900));
  CHECK(gb.scale_out.nics_per_node == 72);
}

TEST_CASE("overrides replace preset values key by key", "[unit]") {
  const TopologySpec s = spec_from(
      R"({"preset": "h100-superpod", "nodes": 64, "scale_out": {"nic_bandwidth_GBps": 48}})");
  CHECK(s.nodes == 64);
  CHECK(s.scale_out.nic_bandwidth.GBps() == Approx(48));
  CHECK(s.scale_out.nics_per_node == 8);  // kept from the preset
  CHECK(s.scale_up.bandwidth.GBps() == Approx(450));
  CHECK(s.name == "h100-superpod");
}

TEST_CASE("an override that changes the kind replaces the preset's section", "[unit]") {
  // The preset's fat-tree keys (switch_radix, ...) would be unknown to a torus; they go.
  const TopologySpec s = spec_from(R"({"preset": "h100-superpod", "scale_out":
      {"kind": "torus", "dims": [8, 4], "nics_per_node": 8, "nic_bandwidth_GBps": 50,
       "latency_us": 0.3}})");
  CHECK(s.scale_out.kind == "torus");
}

TEST_CASE("the GPU count override sets the node count", "[unit]") {
  // nodes = gpus / gpus_per_node = 4096 / 8.
  CHECK(spec_from(R"({"preset": "h100-superpod"})", 4096).nodes == 512);
  CHECK(spec_from(R"({"preset": "h100-superpod", "nodes": 3})", 64).nodes == 8);
}

TEST_CASE("a bad preset name lists the presets and suggests one", "[errors]") {
  REQUIRE_THROWS_WITH(
      spec_from(R"({"preset": "dgx-h10"})"),
      "t.json: /topology/preset: expected one of dgx-a100, dgx-h100, gb200-nvl72, "
      "h100-superpod, pcie-gtx1080x2; got \"dgx-h10\" (did you mean \"dgx-h100\"?)");
}

TEST_CASE("a bad kind lists the kinds and suggests one", "[errors]") {
  REQUIRE_THROWS_WITH(
      spec_from(R"({"preset": "h100-superpod", "scale_out": {"kind": "fat_tre"}})"),
      "t.json: /topology/scale_out/kind: expected one of dragonfly, fat_tree, none, torus; got "
      "\"fat_tre\" (did you mean \"fat_tree\"?)");
  REQUIRE_THROWS_WITH(
      spec_from(
          fields(R"({"kind": "nvswich", "bandwidth_GBps": 450, "latency_us": 0.6})", kFatTree)),
      "t.json: /topology/scale_up/kind: expected one of nvlink_mesh, nvswitch, pcie; got "
      "\"nvswich\" (did you mean \"nvswitch\"?)");
}

TEST_CASE("a negative bandwidth names its pointer", "[errors]") {
  REQUIRE_THROWS_WITH(spec_from(R"({"preset": "dgx-h100", "scale_up": {"bandwidth_GBps": -450}})"),
                      "t.json: /topology/scale_up/bandwidth_GBps: expected a number > 0, got -450");
}

TEST_CASE("an odd switch radix is rejected", "[errors]") {
  REQUIRE_THROWS_WITH(
      spec_from(R"({"preset": "h100-superpod", "scale_out": {"switch_radix": 63}})"),
      "t.json: /topology/scale_out/switch_radix: expected an even integer >= 2 (half the ports "
      "down, half up), got 63");
}

TEST_CASE("a GPU count that is not a multiple of gpus_per_node is rejected", "[errors]") {
  REQUIRE_THROWS_WITH(
      spec_from(R"({"preset": "h100-superpod"})", 12),
      "t.json: /topology: expected a GPU count that is a multiple of gpus_per_node (8), got 12");
}

TEST_CASE("unknown keys are rejected with a suggestion, also over a preset", "[errors]") {
  REQUIRE_THROWS_WITH(spec_from(R"({"preset": "h100-superpod", "scale_out": {"nic_bw_GBps": 50}})"),
                      "t.json: /topology/scale_out: unknown key \"nic_bw_GBps\" (did you mean "
                      "\"nic_bandwidth_GBps\"?)");
  REQUIRE_THROWS_WITH(spec_from(R"({"preset": "dgx-h100", "nodez": 2})"),
                      "t.json: /topology: unknown key \"nodez\" (did you mean \"nodes\"?)");
  // A key of another kind: "nvls" belongs to nvswitch, not to pcie.
  REQUIRE_THROWS_WITH(spec_from(R"({"preset": "pcie-gtx1080x2", "scale_up": {"nvls": true}})"),
                      "t.json: /topology/scale_up: unknown key \"nvls\"");
}

TEST_CASE("cross-field rules name the offending field", "[errors]") {
  REQUIRE_THROWS_WITH(
      spec_from(R"({"preset": "h100-superpod", "nodes": 64,
                    "datacenters": {"count": 3, "bandwidth_GBps": 100, "latency_us": 1000}})"),
      "t.json: /topology/datacenters/count: expected a divisor of the node count (64), got 3");
  REQUIRE_THROWS_WITH(
      spec_from(R"({"preset": "h100-superpod", "scale_out": {"nics_per_node": 3}})"),
      "t.json: /topology/scale_out/nics_per_node: expected a divisor of gpus_per_node (8), got 3");
  REQUIRE_THROWS_WITH(
      spec_from(R"({"preset": "pcie-gtx1080x2", "nodes": 2})"),
      "t.json: /topology/nodes: expected 1 node (scale_out kind \"none\" has no network), got 2");
  REQUIRE_THROWS_WITH(spec_from(R"({"preset": "pcie-gtx1080x2"})", 4),
                      "t.json: /topology: expected 1 node (scale_out kind \"none\" has no "
                      "network), got 4 GPUs = 2 nodes");
  // 10 nodes x 4 NICs on radix-8 switches: 10 leaves of 4 NICs, more than the 8 ports of a
  // spine, so two tiers cannot hold them (fat_tree.h).
  REQUIRE_THROWS_WITH(
      spec_from(R"({"nodes": 10, "gpus_per_node": 4, "scale_up": {"kind": "nvswitch",
          "bandwidth_GBps": 450, "latency_us": 0.6}, "scale_out": {"kind": "fat_tree",
          "nics_per_node": 4, "nic_bandwidth_GBps": 50, "latency_us": 0.3, "switch_radix": 8,
          "tiers": 2}})"),
      "t.json: /topology/scale_out/tiers: expected at least 3 tiers for 40 NICs per datacenter "
      "with radix 8, got 2");
  REQUIRE_THROWS_WITH(
      spec_from(R"({"preset": "h100-superpod", "nodes": 512,
                    "scale_out": {"oversubscription": [1, 2, 3]}})"),
      "t.json: /topology/scale_out/oversubscription: expected one ratio per tier boundary (2 for "
      "3 tiers), got [1,2,3]");
  REQUIRE_THROWS_WITH(
      spec_from(R"({"nodes": 1, "gpus_per_node": 1, "scale_out": {"kind": "none"},
          "scale_up": {"kind": "nvlink_mesh", "bandwidth_GBps": 450, "latency_us": 0.6}})"),
      "t.json: /topology/scale_up/kind: expected a kind that fits 1 GPU per node (a mesh needs "
      "at least 2), got \"nvlink_mesh\"");
}

TEST_CASE("TOPO may be a preset name, a topology file or a scenario file", "[unit]") {
  CHECK(load_topology_arg("dgx-h100", std::nullopt).gpus() == 8);
  CHECK(load_topology_arg("h100-superpod", 1024).nodes == 128);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "attnsim_topology_load_test";
  std::filesystem::create_directories(dir);
  const std::string topo_file = (dir / "topo.json").string();
  const std::string scenario_file = (dir / "scenario.json").string();
  std::ofstream(topo_file) << R"({"preset": "dgx-a100", "nodes": 2})";
  std::ofstream(scenario_file) << R"({"name": "x", "model": {"anything": 1},
                                       "topology": {"preset": "dgx-h100", "nodes": 3}})";
  CHECK(load_topology_arg(topo_file, std::nullopt).gpus() == 16);
  CHECK(load_topology_arg(scenario_file, std::nullopt).gpus() == 24);
  REQUIRE_THROWS_WITH(load_topology_arg(scenario_file, 20),
                      scenario_file +
                          ": /topology: expected a GPU count that is a multiple of gpus_per_node "
                          "(8), got 20");
  std::filesystem::remove_all(dir);
}

TEST_CASE("an unknown TOPO lists the presets and suggests one", "[errors]") {
  REQUIRE_THROWS_WITH(
      load_topology_arg("dgx-h10", std::nullopt),
      "dgx-h10: expected a topology file, a scenario file or a preset (one of dgx-a100, "
      "dgx-h100, gb200-nvl72, h100-superpod, pcie-gtx1080x2); got \"dgx-h10\" (did you mean "
      "\"dgx-h100\"?)");
}
