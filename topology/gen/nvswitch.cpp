// SPDX-License-Identifier: Apache-2.0
#include "topology/gen/nvswitch.h"

namespace attnsim::topology {

std::shared_ptr<const ScaleUpGenerator> NvSwitch::parse(const Section& section,
                                                        const ScaleUpContext& context) {
  return std::make_shared<const NvSwitch>(context, section.boolean_or("nvls", false));
}

void NvSwitch::build(NodeTemplate& node) const {
  const std::uint32_t nvswitch = node.add_vertex(VertexKind::kNvSwitch);
  const sim::Time half = sim::Time::from_ps(context_.latency.ps() / 2);
  for (std::uint32_t l = 0; l < node.gpus(); ++l) {
    node.add_cable(node.gpu(l), nvswitch, Cable{context_.bandwidth, half, LinkClass::kNvlink});
  }
  attach_nics_to_gpus(node, context_.nic_bandwidth);
}

}  // namespace attnsim::topology
