// SPDX-License-Identifier: Apache-2.0
#include "topology/network_export.h"

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>

#include "topology/router.h"

namespace attnsim::topology {

std::vector<std::string> link_class_names() {
  std::vector<std::string> names;
  names.reserve(kLinkClassCount);
  for (int c = 0; c < kLinkClassCount; ++c) {
    names.emplace_back(link_class_name(static_cast<LinkClass>(c)));
  }
  return names;
}

sim::Network to_network(const Fabric& fabric,
                        const std::map<std::string, double>& efficiency_by_class) {
  const std::vector<std::string> names = link_class_names();
  std::array<double, kLinkClassCount> efficiency{};
  efficiency.fill(1.0);
  for (const auto& [name, value] : efficiency_by_class) {
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      throw std::invalid_argument("to_network: unknown link class \"" + name + "\"");
    }
    if (!(value > 0 && value <= 1e3)) {
      throw std::invalid_argument("to_network: efficiency of \"" + name + "\" out of range");
    }
    efficiency[static_cast<std::size_t>(it - names.begin())] = value;
  }
  sim::Network net;
  for (const std::string& name : names) {
    net.add_class(name);
  }
  for (std::uint32_t c = 0; c < fabric.cable_count(); ++c) {
    const Cable& cable = fabric.cable(c);
    const auto cls = static_cast<std::uint16_t>(cable.link_class);
    const sim::Bandwidth capacity =
        sim::Bandwidth::from_bytes_per_s(cable.bandwidth.bytes_per_s() * efficiency[cls]);
    net.add_link(capacity, cable.latency, cls);  // 2c: a -> b
    net.add_link(capacity, cable.latency, cls);  // 2c + 1: b -> a
  }
  auto router = std::make_unique<FabricRouter>(fabric);
  net.set_endpoint_count(router->endpoint_count());
  net.set_router(std::move(router));
  return net;
}

sim::EndpointId nvswitch_endpoint(const Fabric& fabric, std::uint32_t node) {
  if (!fabric.node_template().nvswitch() || node >= fabric.nodes()) {
    throw std::logic_error("nvswitch_endpoint: the fabric has no NVSwitch on that node");
  }
  return fabric.gpus() + node;
}

}  // namespace attnsim::topology
