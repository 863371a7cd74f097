// SPDX-License-Identifier: Apache-2.0
#include "topology/types.h"

namespace attnsim::topology {

std::string_view vertex_kind_name(VertexKind kind) {
  switch (kind) {
    case VertexKind::kGpu:
      return "gpu";
    case VertexKind::kNic:
      return "nic";
    case VertexKind::kNvSwitch:
      return "nvswitch";
    case VertexKind::kPcieSwitch:
      return "pcie_switch";
    case VertexKind::kHostBridge:
      return "host_bridge";
    case VertexKind::kSwitch:
      return "switch";
    case VertexKind::kGateway:
      return "gateway";
  }
  return "?";
}

std::string_view link_class_name(LinkClass link_class) {
  switch (link_class) {
    case LinkClass::kNvlink:
      return "nvlink";
    case LinkClass::kPcie:
      return "pcie";
    case LinkClass::kNic:
      return "nic";
    case LinkClass::kNet:
      return "net";
    case LinkClass::kDc:
      return "dc";
  }
  return "?";
}

}  // namespace attnsim::topology
