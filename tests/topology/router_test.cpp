// SPDX-License-Identifier: Apache-2.0
// Routes over exported fabrics: adjacency, shortest length, ECMP, PXN, datacenters, NVSwitch
// endpoints, and the export itself.
#include <deque>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/topology/topo_test_util.h"
#include "topology/network_export.h"

using attnsim::sim::LinkId;
using attnsim::sim::Network;
using attnsim::topology::Fabric;
using attnsim::topology::Vertex;
using attnsim::topology::VertexKind;
using attnsim::topology::testing::fabric_from;
using attnsim::topology::testing::step_of;
using attnsim::topology::testing::walk;

namespace {

// Hop counts from `from` over the whole fabric graph.
std::vector<std::uint32_t> bfs(const Fabric& f, Vertex from) {
  std::vector<std::uint32_t> dist(boost::num_vertices(f.graph()),
                                  std::numeric_limits<std::uint32_t>::max());
  std::deque<Vertex> queue{from};
  dist[from] = 0;
  while (!queue.empty()) {
    const Vertex u = queue.front();
    queue.pop_front();
    for (const auto v : boost::make_iterator_range(boost::adjacent_vertices(u, f.graph()))) {
      if (dist[v] == std::numeric_limits<std::uint32_t>::max()) {
        dist[v] = dist[u] + 1;
        queue.push_back(static_cast<Vertex>(v));
      }
    }
  }
  return dist;
}

std::vector<LinkId> route(const Network& net, std::uint32_t src, std::uint32_t dst,
                          std::uint64_t salt) {
  std::vector<LinkId> path;
  net.route(src, dst, salt, path);
  return path;
}

}  // namespace

TEST_CASE("routes join up hop by hop and are shortest without PXN", "[unit]") {
  // Oracle: a BFS over the whole graph. Without rail optimisation (so without PXN) every route
  // must be a shortest path: same node through the NVSwitch (2 hops), otherwise GPU-NIC-leaf
  // .. leaf-NIC-GPU with a shortest switch path between (up to 8 hops in 3 tiers).
  for (const bool rail : {false, true}) {
    INFO("rail_optimized " << rail);
    const Fabric f = fabric_from(R"({"preset": "h100-superpod", "scale_out": {"rail_optimized": )" +
                                     std::string(rail ? "true" : "false") + "}}",
                                 4096);
    const Network net = attnsim::topology::to_network(f);
    std::mt19937_64 rng(7);
    for (int i = 0; i < 200; ++i) {
      const auto src = static_cast<std::uint32_t>(rng() % f.gpus());
      auto dst = static_cast<std::uint32_t>(rng() % f.gpus());
      if (src == dst) {
        dst = (dst + 1) % f.gpus();
      }
      const std::vector<LinkId> path = route(net, src, dst, rng());
      const std::vector<Vertex> visited = walk(f, src, path);
      REQUIRE(!visited.empty());
      REQUIRE(visited.back() == dst);
      if (!rail || f.place(src).rail == f.place(dst).rail) {
        REQUIRE(path.size() == bfs(f, src)[dst]);
      }
    }
  }
}

TEST_CASE("every route of every small fabric joins up and ends at its destination", "[unit]") {
  // Exhaustive over GPU pairs of small fabrics of every generator (topo_test_util.h). Oracle:
  // consecutive links share a vertex, the walk starts at src and ends at dst, and without PXN
  // (not rail-optimised, or the same rail) its length is the BFS distance.
  for (const std::string& json : attnsim::topology::testing::small_fabrics()) {
    INFO(json);
    const Fabric f = fabric_from(json);
    const Network net = attnsim::topology::to_network(f);
    for (std::uint32_t src = 0; src < f.gpus(); ++src) {
      const std::vector<std::uint32_t> dist = bfs(f, src);
      for (std::uint32_t dst = 0; dst < f.gpus(); ++dst) {
        if (src == dst) {
          continue;
        }
        const std::vector<LinkId> path = route(net, src, dst, src * 31 + dst);
        const std::vector<Vertex> visited = walk(f, src, path);
        REQUIRE(!visited.empty());
        REQUIRE(visited.back() == dst);
        if (!f.rail_optimized() || f.place(src).rail == f.place(dst).rail) {
          REQUIRE(path.size() == dist[dst]);
        }
      }
    }
  }
}

TEST_CASE("ECMP spreads salts over the spines; a salt always gives the same path", "[unit]") {
  // 512 GPUs: 2 SUs, 16 leaves, 8 spines (h100-superpod, 2 tiers). GPU 0 (node 0, rail 0) to
  // GPU 256 (node 32, rail 0): leaf(SU0, rail 0) -> any of the 8 spines -> leaf(SU1, rail 0),
  // each spine reached by 4 parallel cables. 64 salts hashed uniformly over 8 spines leave one
  // unused with probability about 8 (7/8)^64 = 0.2 %; we require at least half of them used.
  const Fabric f = fabric_from(R"({"preset": "h100-superpod"})", 512);
  const Network net = attnsim::topology::to_network(f);
  std::set<Vertex> spines;
  std::set<LinkId> uplinks;
  for (std::uint64_t salt = 0; salt < 64; ++salt) {
    const std::vector<LinkId> path = route(net, 0, 256, salt);
    REQUIRE(path.size() == 6);  // GPU-NIC-leaf-spine-leaf-NIC-GPU
    spines.insert(step_of(f, path[2]).to);
    uplinks.insert(path[2]);
    REQUIRE(route(net, 0, 256, salt) == path);
  }
  CHECK(spines.size() >= 4);
  CHECK(uplinks.size() > spines.size());  // parallel cables are spread too
}

TEST_CASE("PXN keeps cross-rail traffic on the destination's rail", "[unit]") {
  // Rail-optimised SuperPOD, 512 GPUs. GPU 1 (node 0, rail 1) to GPU 5 + 8 x 40 (node 40, rail
  // 5, SU 1): NVLink to GPU 5 of node 0, then its NIC 5 -> leaf of rail 5 -> spine -> leaf of
  // rail 5 -> NIC 5 of node 40 -> GPU 5. Leaf number = SU x 8 + rail (fat_tree.h).
  const Fabric f = fabric_from(R"({"preset": "h100-superpod"})", 512);
  REQUIRE(f.rail_optimized());
  const Network net = attnsim::topology::to_network(f);
  const std::uint32_t dst = 40 * 8 + 5;
  const std::vector<Vertex> visited = walk(f, 1, route(net, 1, dst, 3));
  REQUIRE(visited.size() == 9);  // GPU-NVS-GPU-NIC-leaf-spine-leaf-NIC-GPU
  CHECK(f.graph()[visited[1]].kind == VertexKind::kNvSwitch);
  CHECK(visited[2] == 5);  // the proxy: GPU 5 of node 0
  for (const Vertex v : visited) {
    const attnsim::topology::VertexInfo& info = f.graph()[v];
    if (info.kind == VertexKind::kNic) {
      CHECK(info.index == 5);
    }
    if (info.kind == VertexKind::kSwitch && info.tier == 1) {
      CHECK(info.index % 8 == 5);
    }
  }
  // Same SU, different rails: the proxy's NIC and the destination share one leaf, so the path
  // crosses one switch and no spine: GPU-NVS-GPU-NIC-leaf-NIC-GPU.
  const std::vector<Vertex> near = walk(f, 1, route(net, 1, 3 * 8 + 6, 0));
  REQUIRE(near.size() == 7);
  CHECK(f.graph()[near[4]].tier == 1);
}

TEST_CASE("paths between datacenters cross exactly one datacenter link", "[unit]") {
  // Three datacenters of 32 nodes, fully meshed: any pair is one "dc" link apart; pairs inside
  // a datacenter never leave it.
  const Fabric f = fabric_from(R"({"preset": "h100-superpod", "nodes": 96,
      "datacenters": {"count": 3, "bandwidth_GBps": 100, "latency_us": 1000}})");
  const Network net = attnsim::topology::to_network(f);
  const std::uint16_t dc_class = 4;  // link_class_names(): nvlink pcie nic net dc
  REQUIRE(net.class_names()[dc_class] == "dc");
  std::mt19937_64 rng(11);
  for (int i = 0; i < 100; ++i) {
    const auto src = static_cast<std::uint32_t>(rng() % f.gpus());
    const auto dst = static_cast<std::uint32_t>((src + 1 + rng() % (f.gpus() - 1)) % f.gpus());
    const std::vector<LinkId> path = route(net, src, dst, static_cast<std::uint64_t>(i));
    REQUIRE(walk(f, src, path).back() == dst);
    int dc_links = 0;
    for (const LinkId l : path) {
      dc_links += net.link(l).link_class == dc_class ? 1 : 0;
    }
    CHECK(dc_links == (f.place(src).datacenter == f.place(dst).datacenter ? 0 : 1));
  }
}

TEST_CASE("NVSwitch endpoints follow the GPUs; a GPU reaches its switch in one hop", "[unit]") {
  // Endpoints: 16 GPUs then the 2 NVSwitches (gpus + node).
  const Fabric f = fabric_from(R"({"preset": "dgx-h100", "nodes": 2})");
  const Network net = attnsim::topology::to_network(f);
  CHECK(net.endpoint_count() == 18);
  CHECK(attnsim::topology::nvswitch_endpoint(f, 1) == 17);
  const std::vector<LinkId> up = route(net, 3, 16, 0);
  REQUIRE(up.size() == 1);
  CHECK(step_of(f, up[0]).to == *f.nvswitch_vertex(0));
  CHECK(net.link(up[0]).link_class == 0);                    // nvlink
  const std::vector<LinkId> across = route(net, 16, 12, 0);  // switch 0 -> GPU 4 of node 1
  const std::vector<Vertex> visited = walk(f, *f.nvswitch_vertex(0), across);
  REQUIRE(!visited.empty());
  CHECK(visited.back() == 12);
  const std::vector<LinkId> both = route(net, 16, 17, 0);
  CHECK(walk(f, *f.nvswitch_vertex(0), both).back() == *f.nvswitch_vertex(1));
}

TEST_CASE("export: two links per cable, capacity scaled by class efficiency", "[unit]") {
  // Cable c -> links 2c (a->b) and 2c+1; nvlink efficiency 0.8 -> 450 x 0.8 = 360 GB/s.
  const Fabric f = fabric_from(R"({"preset": "dgx-h100"})");
  const Network net = attnsim::topology::to_network(f, {{"nvlink", 0.8}});
  REQUIRE(net.links().size() == 2 * std::size_t{f.cable_count()});
  CHECK(net.class_names() == std::vector<std::string>{"nvlink", "pcie", "nic", "net", "dc"});
  CHECK(net.link(0).capacity.GBps() == Approx(360));
  CHECK(net.link(1).capacity.GBps() == Approx(360));
  CHECK(net.link(0).latency.us() == Approx(0.3));  // half the 0.6 us GPU-to-GPU latency
  const std::uint32_t last = f.cable_count() - 1;  // a NIC cable: not scaled
  CHECK(net.link(2 * last).capacity.GBps() == Approx(50));
  CHECK_THROWS_AS(attnsim::topology::to_network(f, {{"nvlnk", 0.8}}), std::invalid_argument);
}
