// SPDX-License-Identifier: Apache-2.0
// The machine as a Boost.Graph: GPUs, NICs, NVSwitches, PCIe switches, host bridges, network
// switches and datacenter gateways as vertices; cables (full duplex) as edges. Built from a
// TopologySpec by stamping one node template per node and running the scale-out generator once
// per datacenter.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/graph/adjacency_list.hpp>

#include "topology/node_template.h"
#include "topology/spec.h"
#include "topology/types.h"

namespace attnsim::topology {

inline constexpr std::uint32_t kNoNode = std::numeric_limits<std::uint32_t>::max();

struct VertexInfo {
  VertexKind kind = VertexKind::kGpu;
  std::uint8_t tier = 0;  // network switches: 1 where NICs attach, then 2, 3; else 0
  std::uint32_t datacenter = 0;
  std::uint32_t node = kNoNode;  // GPUs, NICs and node-internal vertices
  std::uint32_t index = 0;       // GPU: local index; NIC: index in its node; else a serial
};

struct EdgeInfo {
  Cable cable;
  std::uint32_t id = 0;  // cable number: edges are numbered in the order they were added
};

/// Undirected, vecS everywhere: vertex descriptors are 0..n-1 (see Vertex) and edges iterate
/// in cable-number order.
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, VertexInfo,
                                    EdgeInfo, boost::no_property, boost::vecS>;

/// Where a GPU sits, for the collective model.
struct GpuPlace {
  std::uint32_t node = 0;
  std::uint32_t local = 0;
  std::uint32_t datacenter = 0;
  std::uint32_t rail = 0;  // the NIC index the GPU uses: local % nics_per_node (0 without NICs)
};

/// Layout (fixed, so routes can be computed arithmetically):
///   vertices: GPUs 0..gpus-1 (GPU g = node x G + local, nodes numbered datacenter-major);
///             NICs gpus + node x K + index; node-internal vertices (NVSwitch, PCIe switches,
///             host bridge) next, node-major in template order; then each datacenter's network
///             switches; then the gateways (only with more than one datacenter).
///   cables:   node n's cables are n x C .. n x C + C-1 in template order (C per node), then the
///             scale-out cables of each datacenter, then gateway and datacenter cables.
class Fabric {
 public:
  /// Builds the graph. `spec` comes from parse_topology(), so building cannot fail on input;
  /// a generator that leaves a NIC without exactly one network cable, or the graph
  /// disconnected, is a bug (std::logic_error).
  explicit Fabric(TopologySpec spec);
  /// Moves are cheap (the graph is held by pointer: Boost's adjacency_list has no move and
  /// copies itself); copies are deep.
  Fabric(Fabric&&) noexcept = default;
  Fabric& operator=(Fabric&&) noexcept = default;
  Fabric(const Fabric& other);
  Fabric& operator=(const Fabric& other);
  ~Fabric() = default;

  const TopologySpec& spec() const { return spec_; }

  const Graph& graph() const { return *graph_; }

  std::uint32_t gpus() const { return spec_.gpus(); }

  std::uint32_t nodes() const { return spec_.nodes; }

  std::uint32_t gpus_per_node() const { return spec_.gpus_per_node; }

  std::uint32_t nics_per_node() const { return spec_.scale_out.nics_per_node; }

  std::uint32_t datacenters() const { return spec_.datacenters.count; }

  std::uint32_t nodes_per_datacenter() const { return nodes() / datacenters(); }

  GpuPlace place(std::uint32_t gpu) const;

  const std::string& scale_up_kind() const { return spec_.scale_up.kind; }

  /// NVLink SHARP in-switch reduction available (nvswitch with "nvls": true).
  bool nvls() const { return nvls_; }

  /// NICs sit on per-rail leaves, so cross-rail traffic is routed through PXN (router.h).
  bool rail_optimized() const { return rail_optimized_; }

  /// Names of the network switch tiers, tier 1 first ({"leaf", "spine"}, {"router"}, ...).
  const std::vector<std::string>& tier_names() const { return tier_names_; }

  const NodeTemplate& node_template() const { return template_; }

  std::uint32_t cables_per_node() const {
    return static_cast<std::uint32_t>(template_.cables().size());
  }

  /// The global vertex of template vertex `local` in node `node`.
  Vertex node_vertex(std::uint32_t node, std::uint32_t local) const;
  Vertex nic_vertex(std::uint32_t node, std::uint32_t index) const;
  /// The node's NVSwitch vertex (scale-up kind nvswitch).
  std::optional<Vertex> nvswitch_vertex(std::uint32_t node) const;

  /// Network switches and gateways are the vertices first_switch_vertex().. num_vertices-1.
  Vertex first_switch_vertex() const { return first_switch_; }

  const std::vector<Vertex>& gateways() const { return gateways_; }

  std::uint32_t cable_count() const { return static_cast<std::uint32_t>(cables_.size()); }

  /// The cable's ends in the order it was added (a, b): its sim links are a->b, then b->a.
  std::pair<Vertex, Vertex> cable_ends(std::uint32_t id) const {
    return {cables_[id].a, cables_[id].b};
  }

  const Cable& cable(std::uint32_t id) const { return cables_[id].cable; }

  /// The network cable of NIC `nic` (global NIC number node x K + index), and its switch.
  std::uint32_t nic_cable(std::uint32_t nic) const { return nic_cable_[nic]; }

  Vertex nic_switch(std::uint32_t nic) const;

 private:
  class DcBuilderImpl;
  Vertex add_vertex(const VertexInfo& info);
  std::uint32_t add_cable(Vertex a, Vertex b, const Cable& cable);
  void stamp_nodes();
  void build_datacenters();
  void find_nic_cables();
  void check_connected() const;

  TopologySpec spec_;
  NodeTemplate template_;
  std::unique_ptr<Graph> graph_;

  // By cable number, beside the graph: Boost's edge descriptors hold pointers into its edge
  // vector, which move as the graph grows, so they cannot be kept.
  struct CableRecord {
    Vertex a = 0;
    Vertex b = 0;
    Cable cable;
  };

  std::vector<CableRecord> cables_;
  std::vector<std::uint32_t> nic_cable_;
  std::vector<Vertex> gateways_;
  std::vector<std::string> tier_names_;
  Vertex first_switch_ = 0;
  bool nvls_ = false;
  bool rail_optimized_ = false;
};

/// Builds the fabric of `spec` (the same as Fabric(spec)).
Fabric build_fabric(TopologySpec spec);

}  // namespace attnsim::topology
