// SPDX-License-Identifier: Apache-2.0
#include "topology/gen/pcie.h"

#include <string>
#include <vector>

namespace attnsim::topology {

std::shared_ptr<const ScaleUpGenerator> Pcie::parse(const Section& section,
                                                    const ScaleUpContext& context) {
  std::uint32_t per_switch = 0;
  if (const std::optional<config::Node> n = section.find("gpus_per_switch")) {
    const std::int64_t s = n->as_integer(0, context.gpus_per_node);
    if (s > 0 && context.gpus_per_node % s != 0) {
      n->fail("0 or a divisor of gpus_per_node (" + std::to_string(context.gpus_per_node) + ")");
    }
    per_switch = static_cast<std::uint32_t>(s);
  }
  const std::optional<double> host = section.find_positive("host_bandwidth_GBps");
  return std::make_shared<const Pcie>(context, per_switch,
                                      host ? sim::Bandwidth::from_GBps(*host) : context.bandwidth);
}

void Pcie::build(NodeTemplate& node) const {
  const sim::Time half = sim::Time::from_ps(context_.latency.ps() / 2);
  const std::uint32_t host = node.add_vertex(VertexKind::kHostBridge);
  std::vector<std::uint32_t> parent(node.gpus(), host);  // where each GPU plugs in
  if (gpus_per_switch_ > 0) {
    for (std::uint32_t s = 0; s < node.gpus() / gpus_per_switch_; ++s) {
      const std::uint32_t sw = node.add_vertex(VertexKind::kPcieSwitch);
      node.add_cable(sw, host, Cable{host_bandwidth_, half, LinkClass::kPcie});
      for (std::uint32_t l = s * gpus_per_switch_; l < (s + 1) * gpus_per_switch_; ++l) {
        parent[l] = sw;
      }
    }
  }
  for (std::uint32_t l = 0; l < node.gpus(); ++l) {
    node.add_cable(node.gpu(l), parent[l], Cable{context_.bandwidth, half, LinkClass::kPcie});
  }
  for (std::uint32_t i = 0; i < node.nics(); ++i) {
    node.add_cable(parent[i], node.nic(i),
                   Cable{context_.nic_bandwidth, sim::Time(), LinkClass::kPcie});
  }
}

}  // namespace attnsim::topology
