// SPDX-License-Identifier: Apache-2.0
// Scale-out kind "dragonfly" (Kim, Dally, Scott, Abts, ISCA 2008): groups of routers, full
// mesh inside a group, and global links so that every pair of groups is directly joined.
//
//   group 0                group 1                 a = routers_per_group
//   [r0]--[r1]             [r0]--[r1]              p = nics_per_router
//     \  /  \___ global ___/  \  /                 h = global_links_per_router
//     [r2]                   [r2]                  g = groups
//     | |  p NICs per router
//
// Routers: g x a (tier 1, named "router"). NIC i of the datacenter (i = node x K + nic) sits
// on router floor(i / p). Local cables: g x a(a-1)/2. Global: each group has a x h global
// ports; the pair of groups (x, y) is joined by m = floor(a h / (g-1)) parallel cables, port
// q = j (g-1) + ((y - x - 1) mod g) of group x (router q / h) for j < m: g(g-1)/2 x m cables.
// Needs g <= a h + 1 (every pair of groups joined) and g a p >= NICs.
// Diameter (router hops, minimal routing): local-global-local = 3; GPU to GPU 3 + 4 = 7.
// Bisection with g even and full groups (first half of the GPUs = first g/2 groups):
// min((g/2)^2 m x global_bandwidth, NICs/2 x nic_bandwidth).
// Keys: "routers_per_group", "nics_per_router", "global_links_per_router" (integers),
// "groups" (optional, default ceil(NICs / (a p))), "local_bandwidth_GBps" and
// "global_bandwidth_GBps" (optional, default nic_bandwidth_GBps).
// A datacenter gateway joins router 0 of every group.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "topology/generator.h"

namespace attnsim::topology {

struct DragonflyParams {
  std::int64_t routers_per_group = 0;        // a
  std::int64_t nics_per_router = 0;          // p
  std::int64_t global_links_per_router = 0;  // h
  std::int64_t groups = 0;                   // g
  std::int64_t links_per_group_pair = 0;     // m
  sim::Bandwidth local_bandwidth;
  sim::Bandwidth global_bandwidth;
};

class Dragonfly final : public ScaleOutGenerator {
 public:
  Dragonfly(const ScaleOutCommon& common, std::int64_t nodes, const DragonflyParams& params);
  static std::shared_ptr<const ScaleOutGenerator> parse(const Section& section,
                                                        const ScaleOutContext& context);
  void build(DcBuilder& dc) const override;

  std::vector<std::string> tier_names() const override { return {"router"}; }

  const DragonflyParams& params() const { return params_; }

 private:
  std::int64_t nodes_;
  DragonflyParams params_;
};

}  // namespace attnsim::topology
