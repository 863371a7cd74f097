// SPDX-License-Identifier: Apache-2.0
#include "topology/generator.h"

#include <limits>
#include <stdexcept>
#include <string>

namespace attnsim::topology {

ScaleOutCommon read_scale_out_common(const Section& section, const ScaleOutContext& context) {
  ScaleOutCommon common;
  const config::Node nics = section.child("nics_per_node", "an integer >= 1");
  const std::int64_t k = nics.as_integer(1, std::numeric_limits<std::int64_t>::max());
  if (context.gpus_per_node % k != 0) {
    nics.fail("a divisor of gpus_per_node (" + std::to_string(context.gpus_per_node) + ")");
  }
  common.nics_per_node = static_cast<std::uint32_t>(k);
  common.nic_bandwidth = section.bandwidth("nic_bandwidth_GBps");
  common.latency = section.latency("latency_us");
  return common;
}

void ScaleOutContext::fail_size(const std::string& expected) const {
  if (!size_source) {
    throw std::logic_error("ScaleOutContext::fail_size without a size source");
  }
  if (gpus_override) {
    size_source->fail(
        expected, std::to_string(*gpus_override) + " GPUs = " + std::to_string(nodes) + " nodes");
  }
  size_source->fail(expected);
}

void attach_nics_to_gpus(NodeTemplate& node, sim::Bandwidth nic_bandwidth) {
  for (std::uint32_t l = 0; node.nics() > 0 && l < node.gpus(); ++l) {
    node.add_cable(node.gpu(l), node.nic(l % node.nics()),
                   Cable{nic_bandwidth, sim::Time(), LinkClass::kPcie});
  }
}

std::int64_t smallest_divisor_at_least(std::int64_t n, std::int64_t at_least) {
  for (std::int64_t d = 1; d < n; ++d) {
    if (n % d == 0 && d >= at_least) {
      return d;
    }
  }
  return n;
}

}  // namespace attnsim::topology
