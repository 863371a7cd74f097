// SPDX-License-Identifier: Apache-2.0
// A star: n GPUs, each with one link up to a switch and one down from it, all of capacity
// C and latency l; the switch is endpoint n. The shape of one NVSwitch node.
//
//      GPU0   GPU1  ...  GPU(n-1)
//        \     |        /
//         [ switch = endpoint n ]
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "tests/support/tiny_network.h"

namespace attnsim::test {

/// Links: up(i) = 2i, down(i) = 2i + 1.
inline sim::Network star_network(std::uint32_t n, double gbps, double latency_us) {
  std::vector<std::pair<double, double>> links;
  std::map<std::pair<sim::EndpointId, sim::EndpointId>, std::vector<sim::LinkId>> routes;
  for (std::uint32_t i = 0; i < n; ++i) {
    links.emplace_back(gbps, latency_us);
    links.emplace_back(gbps, latency_us);
    routes[{i, n}] = {2 * i};
    routes[{n, i}] = {2 * i + 1};
    for (std::uint32_t j = 0; j < n; ++j) {
      if (i != j) {
        routes[{i, j}] = {2 * i, 2 * j + 1};
      }
    }
  }
  return tiny_network(links, n + 1, std::move(routes));
}

}  // namespace attnsim::test
