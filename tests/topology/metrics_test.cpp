// SPDX-License-Identifier: Apache-2.0
// Bisection (max flow) and diameter of each generator against closed forms, and the summary.
#include "topology/metrics.h"

#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/topology/topo_test_util.h"

using attnsim::topology::bisection;
using attnsim::topology::diameter_hops;
using attnsim::topology::Fabric;
using attnsim::topology::testing::fabric_from;

namespace {

std::string single_node(const std::string& scale_up, int gpus) {
  return R"({"nodes": 1, "gpus_per_node": )" + std::to_string(gpus) +
         R"(, "scale_out": {"kind": "none"}, "scale_up": )" + scale_up + "}";
}

}  // namespace

TEST_CASE("nvswitch node: bisection G/2 x B, diameter 2", "[analytic]") {
  //   GPU0..GPU3 --[450 each]-- NVS --[450 each]-- GPU4..GPU7
  // The cut {GPU0..3} | rest is the four first-half cables: 4 x 450 = 1800 GB/s (NVIDIA's
  // "3.6 TB/s bisection" for DGX H100 counts both directions, hardware.md 1.2).
  const Fabric f = fabric_from(
      single_node(R"({"kind": "nvswitch", "bandwidth_GBps": 450, "latency_us": 0.6})", 8));
  CHECK(bisection(f).GBps() == Approx(1800));
  CHECK(diameter_hops(f) == 2);
  // dgx-h100 also has its 8 NICs on one switch: the network adds 4 x 50 GB/s.
  CHECK(bisection(fabric_from(R"({"preset": "dgx-h100"})")).GBps() == Approx(1800 + 200));
}

TEST_CASE("nvlink mesh: bisection (G/2)^2 x B/(G-1), diameter 1", "[analytic]") {
  // G = 4, B = 300: 2 x 2 cables of 100 GB/s cross the cut: 400 GB/s.
  const Fabric f = fabric_from(
      single_node(R"({"kind": "nvlink_mesh", "bandwidth_GBps": 300, "latency_us": 0.6})", 4));
  CHECK(bisection(f).GBps() == Approx(400));
  CHECK(diameter_hops(f) == 1);
}

TEST_CASE("2x GTX 1080: bisection is one PCIe 3.0 x16 link", "[analytic]") {
  //   GPU0 --[15.8]-- root complex --[15.8]-- GPU1: the flow crosses one x16 link each way,
  // 15.8 GB/s (hardware.md 1.3), two hops.
  const Fabric f = fabric_from(R"({"preset": "pcie-gtx1080x2"})");
  CHECK(bisection(f).GBps() == Approx(15.8));
  CHECK(diameter_hops(f) == 2);
}

TEST_CASE("pcie switches: the host uplink is the cut", "[analytic]") {
  //        host
  //    [8]/    \[8]
  //     sw0     sw1        GPU links 16 GB/s
  //    /  \    /  \        first half (GPU0, GPU1) under sw0: cut = sw0's uplink = 8 GB/s
  //  G0   G1  G2   G3      diameter G0-sw0-host-sw1-G2 = 4
  const Fabric f = fabric_from(single_node(
      R"({"kind": "pcie", "bandwidth_GBps": 16, "latency_us": 1, "gpus_per_switch": 2,
          "host_bandwidth_GBps": 8})",
      4));
  CHECK(bisection(f).GBps() == Approx(8));
  CHECK(diameter_hops(f) == 4);
}

TEST_CASE("non-blocking fat trees: bisection G/2 x NIC bandwidth", "[analytic]") {
  // Rail-optimised SuperPOD, one NIC of 50 GB/s per GPU. Non-blocking, so the first half of
  // the GPUs can send all their NIC bandwidth to the second half: G/2 x 50.
  // Diameter: 2 tiers GPU-NIC-leaf-spine-leaf-NIC-GPU = 6; 3 tiers 8 (fat_tree.h: 2 + 2t).
  const Fabric two = fabric_from(R"({"preset": "h100-superpod"})", 512);
  CHECK(bisection(two).GBps() == Approx(256 * 50));
  CHECK(diameter_hops(two) == 6);
  const Fabric three = fabric_from(R"({"preset": "h100-superpod"})", 4096);
  CHECK(bisection(three).GBps() == Approx(2048 * 50));
  CHECK(diameter_hops(three) == 8);
  // One tier (16 NICs on a 40-port HDR switch): node 0 to node 1 through 8 NICs of 25 GB/s;
  // diameter GPU-NIC-leaf-NIC-GPU = 4.
  const Fabric one = fabric_from(R"({"preset": "dgx-a100", "nodes": 2})");
  CHECK(bisection(one).GBps() == Approx(8 * 25));
  CHECK(diameter_hops(one) == 4);
}

TEST_CASE("oversubscribed fat trees: bisection divided by the ratio", "[analytic]") {
  // 2 tiers, 512 GPUs = 2 SUs; the first half is SU 0, whose 8 leaves reach SU 1 only through
  // their 32 uplinks each, now 50/2 GB/s: 8 x 32 x 25 = 6400 = 12800 / 2.
  const Fabric two =
      fabric_from(R"({"preset": "h100-superpod", "scale_out": {"oversubscription": 2}})", 512);
  CHECK(bisection(two).GBps() == Approx(12800.0 / 2));
  // 3 tiers, 4096 GPUs, ratio 4 at spine-core only: the first half is pods 0 and 1
  // (leaf = SU x 8 + rail, pod = leaf / 32), which reach pods 2 and 3 only through the cores:
  // 2 pods x 32 spines x 32 uplinks x 50/4 = 25600 = 102400 / 4.
  const Fabric three = fabric_from(
      R"({"preset": "h100-superpod", "scale_out": {"oversubscription": [1, 4]}})", 4096);
  CHECK(bisection(three).GBps() == Approx(102400.0 / 4));
}

TEST_CASE("torus: bisection 2 R/d0 links, diameter sum floor(d/2) + 4", "[analytic]") {
  // dims [4, 4], 16 nodes x 1 GPU x 1 NIC (50 GB/s), torus links 10 GB/s. The first half of the
  // GPUs is rows 0-1; the cut crosses 4 columns x 2 links (direct and wrap-around) = 8 x 10 =
  // 80 GB/s, below the NIC limit of 8 x 50. Diameter: 2 + 2 router hops, plus GPU-NIC-router
  // at each end: 8.
  const std::string torus = R"({"nodes": 16, "gpus_per_node": 1,
      "scale_up": {"kind": "nvswitch", "bandwidth_GBps": 450, "latency_us": 0.6},
      "scale_out": {"kind": "torus", "nics_per_node": 1, "nic_bandwidth_GBps": 50,
                    "latency_us": 0.3, "link_bandwidth_GBps": 10, "dims": [4, 4]}})";
  const Fabric f = fabric_from(torus);
  CHECK(bisection(f).GBps() == Approx(80));
  CHECK(diameter_hops(f) == 8);
  // dims [2, 2] with 4 nodes: d0 = 2 has one cable per pair: 2 x 10 = 20; diameter 2 + 4.
  const Fabric small = fabric_from(R"({"nodes": 4, "gpus_per_node": 1,
      "scale_up": {"kind": "nvswitch", "bandwidth_GBps": 450, "latency_us": 0.6},
      "scale_out": {"kind": "torus", "nics_per_node": 1, "nic_bandwidth_GBps": 50,
                    "latency_us": 0.3, "link_bandwidth_GBps": 10, "dims": [2, 2]}})");
  CHECK(bisection(small).GBps() == Approx(20));
  CHECK(diameter_hops(small) == 6);
}

TEST_CASE("dragonfly: bisection (g/2)^2 m global links, diameter 3 + 4", "[analytic]") {
  // a = 2, p = 2, h = 2, g = 4 (16 NICs = 16 nodes x 1 GPU): m = floor(4/3) = 1. The first
  // half is groups 0-1; 2 x 2 global cables of 10 GB/s cross: 40, below 8 x 50 of NICs.
  // Diameter: group 0's link to group 3 leaves from its router 1 (port (3-0-1) mod 4 = 2,
  // router 2/2 = 1) and lands on group 3's router 0 (port (0-3-1) mod 4 = 0), so router 0 of
  // group 0 to router 1 of group 3 is local-global-local = 3 router hops; plus 4: 7.
  const Fabric f = fabric_from(R"({"nodes": 16, "gpus_per_node": 1,
      "scale_up": {"kind": "nvswitch", "bandwidth_GBps": 450, "latency_us": 0.6},
      "scale_out": {"kind": "dragonfly", "nics_per_node": 1, "nic_bandwidth_GBps": 50,
                    "latency_us": 0.3, "routers_per_group": 2, "nics_per_router": 2,
                    "global_links_per_router": 2, "global_bandwidth_GBps": 10,
                    "local_bandwidth_GBps": 100}})");
  CHECK(bisection(f).GBps() == Approx(40));
  CHECK(diameter_hops(f) == 7);
}

TEST_CASE("two datacenters: bisection is the datacenter link", "[analytic]") {
  // 64 nodes, 2 datacenters of one SU each, 100 GB/s between them: the first half of the GPUs
  // is datacenter 0, so the cut is the one 100 GB/s link. Diameter: GPU-NIC-leaf-spine-
  // gateway-gateway-spine-leaf-NIC-GPU = 9.
  const Fabric f = fabric_from(R"({"preset": "h100-superpod", "nodes": 64,
      "datacenters": {"count": 2, "bandwidth_GBps": 100, "latency_us": 1000}})");
  CHECK(bisection(f).GBps() == Approx(100));
  CHECK(diameter_hops(f) == 9);
}

TEST_CASE("the diameter equals the largest all-pairs BFS distance between GPUs", "[analytic]") {
  // Brute force oracle: a BFS from every GPU over the whole graph, on small fabrics of every
  // generator (topo_test_util.h).
  for (const std::string& json : attnsim::topology::testing::small_fabrics()) {
    INFO(json);
    const Fabric f = fabric_from(json);
    std::uint32_t worst = 0;
    for (std::uint32_t src = 0; src < f.gpus(); ++src) {
      std::vector<std::uint32_t> dist(boost::num_vertices(f.graph()), 0);
      std::vector<char> seen(dist.size(), 0);
      std::vector<attnsim::topology::Vertex> queue{src};
      seen[src] = 1;
      for (std::size_t head = 0; head < queue.size(); ++head) {
        const auto u = queue[head];
        for (const auto v : boost::make_iterator_range(boost::adjacent_vertices(u, f.graph()))) {
          if (seen[v] == 0) {
            seen[v] = 1;
            dist[v] = dist[u] + 1;
            queue.push_back(static_cast<attnsim::topology::Vertex>(v));
          }
        }
      }
      for (std::uint32_t dst = 0; dst < f.gpus(); ++dst) {
        worst = std::max(worst, dist[dst]);
      }
    }
    CHECK(diameter_hops(f) == worst);
  }
}

TEST_CASE("the summary collects counts, injection, bisection and diameter", "[unit]") {
  // 512 GPUs of h100-superpod: 64 nodes, 64 NVSwitch vertices, 16 leaves, 8 spines;
  // cables 512 nvlink + 512 pcie + 512 nic + 512 net; injection 450 and 8 x 50 / 8 = 50.
  const attnsim::topology::Summary s =
      attnsim::topology::summarize(fabric_from(R"({"preset": "h100-superpod"})", 512));
  CHECK(s.gpus == 512);
  CHECK(s.nics == 512);
  using Pairs = std::vector<std::pair<std::string, std::uint64_t>>;
  CHECK(s.switches == Pairs{{"nvswitch", 64}, {"leaf", 16}, {"spine", 8}});
  CHECK(s.cables == 2048);
  CHECK(s.cables_by_class == Pairs{{"nvlink", 512}, {"pcie", 512}, {"nic", 512}, {"net", 512}});
  CHECK(s.scale_up_per_gpu.GBps() == Approx(450));
  CHECK(s.scale_out_per_gpu.GBps() == Approx(50));
  CHECK(s.bisection.GBps() == Approx(12800));
  CHECK(s.diameter_hops == 6);
  CHECK(s.rail_optimized);
  CHECK(s.nvls);
  const nlohmann::json j = attnsim::topology::summary_json(s);
  CHECK(j.at("switches").at("leaf") == 16);
  CHECK(j.at("bisection_GBps").get<double>() == Approx(12800));
  const std::string text = attnsim::topology::format_summary(s);
  CHECK_THAT(text, Catch::Matchers::Contains("switches     nvswitch 64, leaf 16, spine 8"));
  CHECK_THAT(text, Catch::Matchers::Contains("diameter     6 hops"));
}
