// SPDX-License-Identifier: Apache-2.0
#include "sim/network.h"

namespace attnsim::sim {

std::uint16_t Network::add_class(std::string name) {
  class_names_.push_back(std::move(name));
  return static_cast<std::uint16_t>(class_names_.size() - 1);
}

LinkId Network::add_link(Bandwidth capacity, Time latency, std::uint16_t link_class) {
  links_.push_back(Link{capacity, latency, link_class});
  return static_cast<LinkId>(links_.size() - 1);
}

}  // namespace attnsim::sim
