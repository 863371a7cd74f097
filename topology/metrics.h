// SPDX-License-Identifier: Apache-2.0
// What `attnsim topo` prints about a fabric: counts, injection bandwidth, bisection bandwidth,
// diameter; plus a Graphviz rendering.
//
// Bisection: the maximum flow (Boost push_relabel_max_flow, capacities in kB/s) from the
// first half of the GPUs by index (0 .. floor(n/2)-1) to the rest, every cable carrying its
// bandwidth in each direction: GB/s per direction. Exact for every generator, no closed form
// assumed; the tests check it against the closed forms in each generator's header.
// Diameter: the largest number of cables on a shortest path between two GPUs. Computed
// exactly without all-pairs BFS: a GPU reaches the network through the NICs of its node
// (node-local hop counts, from the template); GPUs with the same (access switch, cost) lists
// form one class; one BFS per access switch over the switch graph gives, per class, the
// distance to every access switch, and the diameter is the largest class-to-class minimum.
// Assumes shortest paths do not relay through a third node's GPUs (a relay costs at least
// NIC-GPU-switch-GPU-NIC, four hops where a switch path exists; true of every generator here).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "topology/fabric.h"

namespace attnsim::topology {

struct Summary {
  std::string name;
  std::uint32_t gpus = 0;
  std::uint32_t nodes = 0;
  std::uint32_t gpus_per_node = 0;
  std::uint32_t datacenters = 0;
  std::uint32_t nics = 0;
  std::string scale_up_kind;
  std::string scale_out_kind;
  bool nvls = false;
  bool rail_optimized = false;
  /// Switch vertices by kind or tier name: nvswitch, pcie_switch, host_bridge, then the tier
  /// names (leaf, spine, core, router), then gateway; only kinds present.
  std::vector<std::pair<std::string, std::uint64_t>> switches;
  std::uint64_t cables = 0;
  std::vector<std::pair<std::string, std::uint64_t>> cables_by_class;  // classes present
  sim::Bandwidth scale_up_per_gpu;                                     // per direction
  sim::Bandwidth scale_out_per_gpu;  // NIC bandwidth x K / G, per direction
  sim::Bandwidth bisection;          // per direction
  std::uint32_t diameter_hops = 0;
};

Summary summarize(const Fabric& fabric);
/// Max flow from the first half of the GPUs to the second, per direction.
sim::Bandwidth bisection(const Fabric& fabric);
/// The largest GPU-to-GPU hop count on shortest paths.
std::uint32_t diameter_hops(const Fabric& fabric);

/// Readable, one fact per line.
std::string format_summary(const Summary& summary);
nlohmann::json summary_json(const Summary& summary);
/// Graphviz text: one vertex per fabric vertex, one edge per cable, labelled by class and GB/s.
std::string to_dot(const Fabric& fabric);

}  // namespace attnsim::topology
