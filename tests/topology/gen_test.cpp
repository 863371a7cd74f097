// SPDX-License-Identifier: Apache-2.0
// Generator counts (GPUs, switches per tier, cables) against the closed forms in each
// generator's header, and the fat tree against NVIDIA's DGX SuperPOD component table.
#include <map>
#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include "tests/topology/topo_test_util.h"
#include "topology/gen/fat_tree.h"

using attnsim::topology::Fabric;
using attnsim::topology::VertexKind;
using attnsim::topology::testing::fabric_from;

namespace {

// What a fabric is made of: vertices by kind (switches by tier name), and cables by the pair
// of what they join, e.g. {"leaf", "spine"}.
struct Counts {
  std::map<std::string, std::uint64_t> vertices;
  std::map<std::pair<std::string, std::string>, std::uint64_t> cables;
};

std::string what(const Fabric& f, attnsim::topology::Vertex v) {
  const attnsim::topology::VertexInfo& info = f.graph()[v];
  if (info.kind == VertexKind::kSwitch) {
    return f.tier_names().at(info.tier - 1u);
  }
  return std::string(attnsim::topology::vertex_kind_name(info.kind));
}

Counts count(const Fabric& f) {
  Counts c;
  for (const auto v : boost::make_iterator_range(boost::vertices(f.graph()))) {
    ++c.vertices[what(f, static_cast<attnsim::topology::Vertex>(v))];
  }
  for (std::uint32_t i = 0; i < f.cable_count(); ++i) {
    auto [a, b] = f.cable_ends(i);
    std::string x = what(f, a);
    std::string y = what(f, b);
    if (y < x) {
      std::swap(x, y);
    }
    ++c.cables[{x, y}];
  }
  return c;
}

}  // namespace

TEST_CASE("nvswitch node: G GPUs on one switch vertex, NICs on their GPUs", "[analytic]") {
  // nvswitch.h: per node G GPUs, 1 NVSwitch vertex, G nvlink cables; NIC i attaches to GPU i
  // (K = G = 8): 8 pcie cables. Scale-out: 8 NICs fit one 64-port switch, so 1 tier, 1 leaf,
  // 8 NIC cables (fat_tree.h).
  const Fabric f = fabric_from(R"({"preset": "dgx-h100"})");
  const Counts c = count(f);
  CHECK(c.vertices.at("gpu") == 8);
  CHECK(c.vertices.at("nvswitch") == 1);
  CHECK(c.vertices.at("nic") == 8);
  CHECK(c.vertices.at("leaf") == 1);
  CHECK(c.cables.at({"gpu", "nvswitch"}) == 8);
  CHECK(c.cables.at({"gpu", "nic"}) == 8);
  CHECK(c.cables.at({"leaf", "nic"}) == 8);
  CHECK(f.cable_count() == 24);
}

TEST_CASE("nvlink mesh: G(G-1)/2 cables of B/(G-1)", "[analytic]") {
  // G = 4, B = 300: 6 cables, 100 GB/s each, so each GPU's three cables add up to 300.
  const Fabric f = fabric_from(R"({"nodes": 1, "gpus_per_node": 4, "scale_out": {"kind": "none"},
      "scale_up": {"kind": "nvlink_mesh", "bandwidth_GBps": 300, "latency_us": 0.6}})");
  REQUIRE(f.cable_count() == 6);
  for (std::uint32_t i = 0; i < 6; ++i) {
    CHECK(f.cable(i).bandwidth.GBps() == Approx(100));
    CHECK(f.cable(i).latency.us() == Approx(0.6));
  }
}

TEST_CASE("pcie node: host bridge, G/S switches, G + G/S cables", "[analytic]") {
  // pcie.h: G = 8, S = 2: 1 host bridge, 4 PCIe switches, 8 GPU cables + 4 uplinks = 12.
  const Fabric f = fabric_from(R"({"nodes": 1, "gpus_per_node": 8, "scale_out": {"kind": "none"},
      "scale_up": {"kind": "pcie", "bandwidth_GBps": 31.5, "latency_us": 1.0,
                   "gpus_per_switch": 2, "host_bandwidth_GBps": 31.5}})");
  const Counts c = count(f);
  CHECK(c.vertices.at("host_bridge") == 1);
  CHECK(c.vertices.at("pcie_switch") == 4);
  CHECK(c.cables.at({"gpu", "pcie_switch"}) == 8);
  CHECK(c.cables.at({"host_bridge", "pcie_switch"}) == 4);
  CHECK(f.cable_count() == 12);
}

TEST_CASE("h100-superpod matches the DGX SuperPOD component table", "[analytic]") {
  // hardware.md 1.6, "Larger SuperPOD component counts" (SU = 32 nodes, 8 NDR NICs per node,
  // 64-port switches):
  //   GPUs   leaf spine core  node-leaf leaf-spine spine-core
  //    512     16     8    -        512        512          -
  //   1024     32    16    -       1024       1024          -
  //   2048     64    32    -       2048       2048          -
  //   4096    128   128   64       4096       4096       4096
  //   8192    256   256  128       8192       8192       8192
  //  16384    512   512  256      16384      16384      16384
  struct Row {
    std::int64_t gpus, leaf, spine, core;
  };

  const Row rows[] = {{512, 16, 8, 0},      {1024, 32, 16, 0},     {2048, 64, 32, 0},
                      {4096, 128, 128, 64}, {8192, 256, 256, 128}, {16384, 512, 512, 256}};
  for (const Row& r : rows) {
    INFO("GPUs " << r.gpus);
    const Fabric f = fabric_from(R"({"preset": "h100-superpod"})", r.gpus);
    const Counts c = count(f);
    CHECK(c.vertices.at("gpu") == static_cast<std::uint64_t>(r.gpus));
    CHECK(c.vertices.at("leaf") == static_cast<std::uint64_t>(r.leaf));
    CHECK(c.vertices.at("spine") == static_cast<std::uint64_t>(r.spine));
    CHECK(c.vertices.count("core") == (r.core > 0 ? 1u : 0u));
    if (r.core > 0) {
      CHECK(c.vertices.at("core") == static_cast<std::uint64_t>(r.core));
      CHECK(c.cables.at({"core", "spine"}) == static_cast<std::uint64_t>(r.gpus));
    }
    CHECK(c.cables.at({"leaf", "nic"}) == static_cast<std::uint64_t>(r.gpus));
    CHECK(c.cables.at({"leaf", "spine"}) == static_cast<std::uint64_t>(r.gpus));
    // Every switch uses at most its 64 ports.
    for (const auto v : boost::make_iterator_range(boost::vertices(f.graph()))) {
      if (f.graph()[v].kind == VertexKind::kSwitch) {
        REQUIRE(boost::out_degree(v, f.graph()) <= 64);
      }
    }
  }
}

TEST_CASE("fat tree shape: closed forms for a non-rail 3-tier tree", "[analytic]") {
  // fat_tree.h with N = 10 nodes, K = 4, k = 8 (h = 4): 40 NICs; L = ceil(40/4) = 10 > 8, so
  // 3 tiers: P = ceil(10/4) = 3 pods, spines 3 x 4 = 12, c = smallest divisor of 4 that is
  // >= ceil(3/2) = 2, cores 4 x 2 = 8; cables: 40 NIC, 10 x 4 = 40 leaf-spine, 12 x 4 = 48
  // spine-core.
  const auto shape = attnsim::topology::fat_tree_shape(10, 4, 8, 3, false);
  REQUIRE(shape);
  CHECK(shape->leaves == 10);
  CHECK(shape->pods == 3);
  CHECK(shape->spines == 12);
  CHECK(shape->cores == 8);
  CHECK_FALSE(attnsim::topology::fat_tree_shape(10, 4, 8, 2, false));
  const Fabric f = fabric_from(R"({"nodes": 10, "gpus_per_node": 4, "scale_up": {"kind": "nvswitch",
      "bandwidth_GBps": 450, "latency_us": 0.6}, "scale_out": {"kind": "fat_tree",
      "nics_per_node": 4, "nic_bandwidth_GBps": 50, "latency_us": 0.3, "switch_radix": 8}})");
  const Counts c = count(f);
  CHECK(c.vertices.at("leaf") == 10);
  CHECK(c.vertices.at("spine") == 12);
  CHECK(c.vertices.at("core") == 8);
  CHECK(c.cables.at({"leaf", "nic"}) == 40);
  CHECK(c.cables.at({"leaf", "spine"}) == 40);
  CHECK(c.cables.at({"core", "spine"}) == 48);
  // One tier when every NIC fits one switch: 2 nodes x 4 NICs on radix 8.
  CHECK(attnsim::topology::fat_tree_shape(2, 4, 8, 1, true)->leaves == 1);
}

TEST_CASE("oversubscription thins the uplinks and keeps the switch counts", "[analytic]") {
  // fat_tree.h: a number r divides the leaf uplink capacity: 50 / 2 = 25 GB/s per leaf-spine
  // cable; an array [1, 4] leaves leaf-spine at 50 and makes spine-core 50 / (1 x 4) = 12.5.
  const Fabric two = fabric_from(
      R"({"preset": "h100-superpod", "nodes": 64, "scale_out": {"oversubscription": 2}})");
  const Fabric three = fabric_from(
      R"({"preset": "h100-superpod", "nodes": 512, "scale_out": {"oversubscription": [1, 4]}})");
  CHECK(count(two).vertices.at("spine") == 8);
  for (const Fabric* f : {&two, &three}) {
    for (std::uint32_t i = 0; i < f->cable_count(); ++i) {
      const auto [a, b] = f->cable_ends(i);
      const std::string x = what(*f, a);
      const std::string y = what(*f, b);
      if (x == "leaf" && y == "spine") {
        CHECK(f->cable(i).bandwidth.GBps() == Approx(f == &two ? 25.0 : 50.0));
      } else if (x == "spine" && y == "core") {
        CHECK(f->cable(i).bandwidth.GBps() == Approx(12.5));
      }
    }
  }
}

TEST_CASE("dragonfly: routers, local and global cables", "[analytic]") {
  // dragonfly.h with a = 4, p = 2, h = 2 and 36 NICs (36 nodes x 1 GPU x 1 NIC):
  // g = ceil(36 / 8) = 5 <= a h + 1 = 9; m = floor(8 / 4) = 2 cables per pair of groups.
  // Routers 5 x 4 = 20; local 5 x 4 x 3 / 2 = 30; global 5 x 4 / 2 x 2 = 20; every router has
  // exactly h = 2 global ports in use (a h = m (g-1) = 8 ports per group, all used).
  const Fabric f = fabric_from(R"({"nodes": 36, "gpus_per_node": 1,
      "scale_up": {"kind": "nvswitch", "bandwidth_GBps": 450, "latency_us": 0.6},
      "scale_out": {"kind": "dragonfly", "nics_per_node": 1, "nic_bandwidth_GBps": 50,
                    "latency_us": 0.3, "routers_per_group": 4, "nics_per_router": 2,
                    "global_links_per_router": 2}})");
  const Counts c = count(f);
  CHECK(c.vertices.at("router") == 20);
  CHECK(c.cables.at({"nic", "router"}) == 36);
  CHECK(c.cables.at({"router", "router"}) == 30 + 20);
  for (const auto v : boost::make_iterator_range(boost::vertices(f.graph()))) {
    if (f.graph()[v].kind != VertexKind::kSwitch) {
      continue;
    }
    std::uint32_t global = 0;  // cables to routers of another group (4 routers per group)
    for (const auto w : boost::make_iterator_range(boost::adjacent_vertices(v, f.graph()))) {
      if (f.graph()[w].kind == VertexKind::kSwitch &&
          f.graph()[w].index / 4 != f.graph()[v].index / 4) {
        ++global;
      }
    }
    CHECK(global == 2);
  }
}

TEST_CASE("torus: one ring per dimension line, a single cable for size 2", "[analytic]") {
  // torus.h with dims [4, 3, 2] and 48 NICs (24 nodes x 2): R = 24 routers, 2 NICs each;
  // cables: 24 (d = 4) + 24 (d = 3) + 12 (d = 2) = 60; router degree in the torus 2 + 2 + 1.
  const Fabric f = fabric_from(R"({"nodes": 24, "gpus_per_node": 2,
      "scale_up": {"kind": "nvswitch", "bandwidth_GBps": 450, "latency_us": 0.6},
      "scale_out": {"kind": "torus", "nics_per_node": 2, "nic_bandwidth_GBps": 50,
                    "latency_us": 0.3, "dims": [4, 3, 2]}})");
  const Counts c = count(f);
  CHECK(c.vertices.at("router") == 24);
  CHECK(c.cables.at({"router", "router"}) == 60);
  CHECK(c.cables.at({"nic", "router"}) == 48);
  for (const auto v : boost::make_iterator_range(boost::vertices(f.graph()))) {
    if (f.graph()[v].kind == VertexKind::kSwitch) {
      CHECK(boost::out_degree(v, f.graph()) == 5 + 2);  // 5 torus cables + 2 NICs
    }
  }
}

TEST_CASE("two datacenters: a fabric each, gateways on the top tier, one link", "[analytic]") {
  // 64 nodes over 2 datacenters: 32 nodes each = 1 SU = 8 leaves + 4 spines (h = 32,
  // S = smallest divisor of 32 >= 4); each gateway joins its 4 spines; 1 datacenter link.
  const Fabric f = fabric_from(R"({"preset": "h100-superpod", "nodes": 64,
      "datacenters": {"count": 2, "bandwidth_GBps": 100, "latency_us": 1000}})");
  const Counts c = count(f);
  CHECK(c.vertices.at("leaf") == 16);
  CHECK(c.vertices.at("spine") == 8);
  CHECK(c.vertices.at("gateway") == 2);
  CHECK(c.cables.at({"gateway", "spine"}) == 8);
  CHECK(c.cables.at({"gateway", "gateway"}) == 1);
}

TEST_CASE("65,536 GPUs build (h100-superpod, 8192 nodes)", "[analytic]") {
  // fat_tree.h: N = 8192, K = 8, h = 32: L = 8 x 256 = 2048 leaves, P = 64 pods (= k, the
  // largest 3-tier tree), 2048 spines, c = 32, 1024 cores. Cables: 65536 each of nvlink,
  // pcie (GPU-NIC), NIC, leaf-spine and spine-core: 327,680.
  const Fabric f = fabric_from(R"({"preset": "h100-superpod"})", 65536);
  const Counts c = count(f);
  CHECK(f.gpus() == 65536);
  CHECK(c.vertices.at("leaf") == 2048);
  CHECK(c.vertices.at("spine") == 2048);
  CHECK(c.vertices.at("core") == 1024);
  CHECK(f.cable_count() == 5u * 65536u);
}
