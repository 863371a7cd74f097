// SPDX-License-Identifier: Apache-2.0
#include "topology/gen/nvlink_mesh.h"

#include <string>

namespace attnsim::topology {

std::shared_ptr<const ScaleUpGenerator> NvlinkMesh::parse(const Section& section,
                                                          const ScaleUpContext& context) {
  if (context.gpus_per_node < 2) {
    section.child("kind").fail("a kind that fits 1 GPU per node (a mesh needs at least 2)",
                               "\"nvlink_mesh\"");
  }
  return std::make_shared<const NvlinkMesh>(context);
}

void NvlinkMesh::build(NodeTemplate& node) const {
  const double per_pair = context_.bandwidth.bytes_per_s() / (node.gpus() - 1);  // B/(G-1)
  const Cable cable{sim::Bandwidth::from_bytes_per_s(per_pair), context_.latency,
                    LinkClass::kNvlink};
  for (std::uint32_t a = 0; a < node.gpus(); ++a) {
    for (std::uint32_t b = a + 1; b < node.gpus(); ++b) {
      node.add_cable(node.gpu(a), node.gpu(b), cable);
    }
  }
  attach_nics_to_gpus(node, context_.nic_bandwidth);
}

}  // namespace attnsim::topology
