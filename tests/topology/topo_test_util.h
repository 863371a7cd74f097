// SPDX-License-Identifier: Apache-2.0
// Small helpers shared by the topology tests: build a spec or fabric from inline JSON, and walk
// a routed path over the fabric's cables.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/node.h"
#include "sim/network.h"
#include "topology/fabric.h"
#include "topology/spec.h"

namespace attnsim::topology::testing {

/// Parses `topology_json` as the "topology" member of a scenario named t.json, so errors read
/// "t.json: /topology/...".
inline TopologySpec spec_from(const std::string& topology_json,
                              std::optional<std::int64_t> gpus = std::nullopt) {
  const config::Node root =
      config::Node::parse_text("t.json", "{\"topology\": " + topology_json + "}");
  return parse_topology(root.child("topology"), gpus);
}

inline Fabric fabric_from(const std::string& topology_json,
                          std::optional<std::int64_t> gpus = std::nullopt) {
  return Fabric(spec_from(topology_json, gpus));
}

/// The vertex a directed sim link leaves from and the one it enters.
struct Step {
  Vertex from;
  Vertex to;
};

inline Step step_of(const Fabric& fabric, sim::LinkId link) {
  const auto [a, b] = fabric.cable_ends(link / 2);
  return link % 2 == 0 ? Step{a, b} : Step{b, a};
}

/// Vertices visited by `path`, starting at `from`; empty when two links do not join up.
inline std::vector<Vertex> walk(const Fabric& fabric, Vertex from,
                                const std::vector<sim::LinkId>& path) {
  std::vector<Vertex> visited{from};
  for (const sim::LinkId link : path) {
    const Step s = step_of(fabric, link);
    if (s.from != visited.back()) {
      return {};
    }
    visited.push_back(s.to);
  }
  return visited;
}

}  // namespace attnsim::topology::testing

namespace attnsim::topology::testing {

/// Small fabrics of every generator and option, for exhaustive checks.
inline std::vector<std::string> small_fabrics() {
  return {
      R"({"preset": "dgx-h100"})",
      R"({"preset": "pcie-gtx1080x2"})",
      R"({"preset": "dgx-a100", "nodes": 3})",
      R"({"preset": "h100-superpod", "nodes": 40})",
      R"({"preset": "h100-superpod", "nodes": 12, "scale_out": {"rail_optimized": false,
          "switch_radix": 8}})",
      R"({"preset": "h100-superpod", "nodes": 12, "scale_out": {"switch_radix": 8,
          "tiers": 3, "nics_per_node": 4}})",
      R"({"preset": "h100-superpod", "nodes": 6, "scale_out": {"switch_radix": 4,
          "nics_per_node": 2}})",
      R"({"preset": "h100-superpod", "nodes": 12, "scale_out": {"switch_radix": 8},
          "datacenters": {"count": 3, "bandwidth_GBps": 100, "latency_us": 1000}})",
      R"({"nodes": 6, "gpus_per_node": 4, "scale_up": {"kind": "nvlink_mesh",
          "bandwidth_GBps": 300, "latency_us": 0.6}, "scale_out": {"kind": "fat_tree",
          "nics_per_node": 2, "nic_bandwidth_GBps": 25, "latency_us": 0.3, "switch_radix": 4,
          "rail_optimized": true}})",
      R"({"nodes": 4, "gpus_per_node": 4, "scale_up": {"kind": "pcie", "bandwidth_GBps": 16,
          "latency_us": 1, "gpus_per_switch": 2}, "scale_out": {"kind": "fat_tree",
          "nics_per_node": 2, "nic_bandwidth_GBps": 25, "latency_us": 0.3, "switch_radix": 4,
          "rail_optimized": true}})",
      R"({"nodes": 18, "gpus_per_node": 2, "scale_up": {"kind": "nvswitch",
          "bandwidth_GBps": 450, "latency_us": 0.6}, "scale_out": {"kind": "dragonfly",
          "nics_per_node": 2, "nic_bandwidth_GBps": 50, "latency_us": 0.3,
          "routers_per_group": 3, "nics_per_router": 2, "global_links_per_router": 2}})",
      R"({"nodes": 12, "gpus_per_node": 2, "scale_up": {"kind": "nvswitch",
          "bandwidth_GBps": 450, "latency_us": 0.6}, "scale_out": {"kind": "torus",
          "nics_per_node": 2, "nic_bandwidth_GBps": 50, "latency_us": 0.3, "dims": [3, 2, 2]},
          "datacenters": {"count": 2, "bandwidth_GBps": 10, "latency_us": 100}})",
  };
}

}  // namespace attnsim::topology::testing
