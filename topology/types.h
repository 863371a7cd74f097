// SPDX-License-Identifier: Apache-2.0
// Vocabulary shared by the fabric graph, its generators and its users: vertex kinds, the fixed
// set of link classes, and the properties of one cable.
#pragma once

#include <cstdint>
#include <string_view>

#include "sim/time.h"

namespace attnsim::topology {

/// A vertex number in the fabric graph (Boost.Graph vecS: 0..num_vertices-1).
using Vertex = std::uint32_t;

/// What a vertex of the fabric is.
enum class VertexKind : std::uint8_t {
  kGpu,
  kNic,
  kNvSwitch,    // one logical vertex per NVLink domain (all switch chips of a node lumped)
  kPcieSwitch,  // a PCIe switch between GPUs and the host bridge
  kHostBridge,  // the CPU root complex of a node
  kSwitch,      // a network switch or router; its tier says where it sits
  kGateway,     // a datacenter's border vertex
};

/// Stable lower-case name, e.g. "nvswitch", "host_bridge".
std::string_view vertex_kind_name(VertexKind kind);

/// The class of a cable. The set is fixed and documented here because link efficiencies in
/// hardware profiles are keyed by these names:
///   nvlink  GPU to NVSwitch, or GPU to GPU in an NVLink mesh
///   pcie    GPU, PCIe switch and host bridge links, and the GPU (or PCIe switch) to NIC link
///   nic     NIC to its first network switch
///   net     switch to switch inside a datacenter, and switch to datacenter gateway
///   dc      gateway to gateway, between datacenters
enum class LinkClass : std::uint8_t { kNvlink, kPcie, kNic, kNet, kDc };
inline constexpr int kLinkClassCount = 5;

/// "nvlink", "pcie", "nic", "net" or "dc".
std::string_view link_class_name(LinkClass link_class);

/// One cable: full duplex, `bandwidth` in each direction, `latency` one way.
struct Cable {
  sim::Bandwidth bandwidth;
  sim::Time latency;
  LinkClass link_class = LinkClass::kNet;
};

}  // namespace attnsim::topology
