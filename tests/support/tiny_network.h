// SPDX-License-Identifier: Apache-2.0
// Hand-built networks for engine tests: links added one by one, routes given explicitly.
#pragma once

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "sim/network.h"

namespace attnsim::test {

/// Routes by an explicit table (src, dst) -> links; salt is ignored.
class TableRouter : public sim::Router {
 public:
  explicit TableRouter(
      std::map<std::pair<sim::EndpointId, sim::EndpointId>, std::vector<sim::LinkId>> table)
      : table_(std::move(table)) {}

  void route(sim::EndpointId src, sim::EndpointId dst, std::uint64_t,
             std::vector<sim::LinkId>& path) const override {
    path = table_.at({src, dst});
  }

 private:
  std::map<std::pair<sim::EndpointId, sim::EndpointId>, std::vector<sim::LinkId>> table_;
};

/// Builds a Network from (capacity GB/s, latency us) pairs and a route table.
inline sim::Network tiny_network(
    const std::vector<std::pair<double, double>>& links, std::uint32_t endpoints,
    std::map<std::pair<sim::EndpointId, sim::EndpointId>, std::vector<sim::LinkId>> routes) {
  sim::Network n;
  const auto cls = n.add_class("test");
  for (const auto& [gbps, us] : links) {
    n.add_link(sim::Bandwidth::from_GBps(gbps), sim::Time::from_us(us), cls);
  }
  n.set_endpoint_count(endpoints);
  n.set_router(std::make_unique<TableRouter>(std::move(routes)));
  return n;
}

}  // namespace attnsim::test
