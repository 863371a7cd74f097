// SPDX-License-Identifier: Apache-2.0
// The fabric's numbering and placement, which the collective model relies on.
#include <string>

#include <catch2/catch.hpp>

#include "tests/topology/topo_test_util.h"
#include "topology/metrics.h"

using attnsim::topology::Fabric;
using attnsim::topology::Vertex;
using attnsim::topology::VertexKind;
using attnsim::topology::testing::fabric_from;

TEST_CASE("GPU g is node g / G, local g % G, rail local % K", "[unit]") {
  // h100-superpod, 64 nodes of 8 GPUs and 8 NICs over 2 datacenters (32 nodes each, nodes
  // datacenter-major): GPU 301 = node 37 (datacenter 1), local 5, rail 5.
  const Fabric f = fabric_from(R"({"preset": "h100-superpod", "nodes": 64,
      "datacenters": {"count": 2, "bandwidth_GBps": 100, "latency_us": 1000}})");
  const attnsim::topology::GpuPlace p = f.place(301);
  CHECK(p.node == 37);
  CHECK(p.local == 5);
  CHECK(p.rail == 5);
  CHECK(p.datacenter == 1);
  CHECK(f.graph()[301].kind == VertexKind::kGpu);
  CHECK(f.graph()[301].node == 37);
  CHECK(f.graph()[301].datacenter == 1);
  CHECK(f.nodes() == 64);
  CHECK(f.gpus_per_node() == 8);
  CHECK(f.nics_per_node() == 8);
  CHECK(f.datacenters() == 2);
  CHECK(f.scale_up_kind() == "nvswitch");
}

TEST_CASE("fewer NICs than GPUs: rails repeat, GPUs share a NIC", "[unit]") {
  // 8 GPUs, 4 NICs: GPU l uses NIC l % 4, each by its own PCIe cable.
  const Fabric f = fabric_from(R"({"preset": "dgx-h100", "nodes": 2,
      "scale_out": {"nics_per_node": 4}})");
  CHECK(f.place(6).rail == 2);
  const Vertex nic = f.nic_vertex(0, 2);
  CHECK(f.graph()[nic].kind == VertexKind::kNic);
  CHECK(boost::out_degree(nic, f.graph()) == 3);  // GPUs 2 and 6, and its switch
}

TEST_CASE("nodes are stamped from one template at fixed offsets", "[unit]") {
  // Node n's cables are n x C .. n x C + C-1 in template order (fabric.h), so cable C + t of
  // node 1 joins the node-1 copies of template cable t's ends.
  const Fabric f = fabric_from(R"({"preset": "dgx-a100", "nodes": 3})");
  const std::uint32_t c = f.cables_per_node();
  REQUIRE(c == 16);  // 8 nvlink + 8 pcie (GPU-NIC)
  for (std::uint32_t t = 0; t < c; ++t) {
    const auto& tc = f.node_template().cables()[t];
    CHECK(f.cable_ends(c + t).first == f.node_vertex(1, tc.a));
    CHECK(f.cable_ends(c + t).second == f.node_vertex(1, tc.b));
  }
  CHECK(f.graph()[*f.nvswitch_vertex(2)].kind == VertexKind::kNvSwitch);
  CHECK(f.graph()[*f.nvswitch_vertex(2)].node == 2);
}

TEST_CASE("Graphviz output has every vertex and cable", "[unit]") {
  const Fabric f = fabric_from(R"({"preset": "pcie-gtx1080x2"})");
  const std::string dot = attnsim::topology::to_dot(f);
  CHECK_THAT(dot, Catch::Matchers::StartsWith("graph fabric {"));
  CHECK_THAT(dot, Catch::Matchers::Contains("v2 [label=\"host_bridge 0.0\"]"));
  CHECK_THAT(dot, Catch::Matchers::Contains("v0 -- v2 [label=\"pcie 15.8\"]"));
}
