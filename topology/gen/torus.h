// SPDX-License-Identifier: Apache-2.0
// Scale-out kind "torus": routers on a k-ary n-cube with wrap-around links, NICs spread evenly
// over the routers.
//
//   dims [4, 3]:   r0 - r1 - r2 - r3 -(wrap to r0)      router index = row-major coordinate,
//                  |    |    |    |                     dimension 0 slowest
//                  r4 - r5 - r6 - r7 -
//                  |    |    |    |   (and wrap from the last row to the first)
//                  r8 - r9 - r10- r11-
//
// Routers R = prod(d_i) (tier 1, "router"); NICs per router p = NICs / R (must divide);
// NIC i of the datacenter sits on router floor(i / p). Cables per dimension i: R for d_i >= 3
// (a ring), R/2 for d_i = 2 (a single cable between the two), none for d_i = 1.
// Diameter (router hops): sum floor(d_i / 2); GPU to GPU add 4 (GPU-NIC-router ... router-NIC-
// GPU). Bisection with d_0 even (the first half of the GPUs = routers with c_0 < d_0/2):
// min((R/d_0) x (2 if d_0 >= 3 else 1) x link_bandwidth, NICs/2 x nic_bandwidth).
// Keys: "dims" (array of integers >= 1), "link_bandwidth_GBps" (optional, default
// nic_bandwidth_GBps). A datacenter gateway joins router 0.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "topology/generator.h"

namespace attnsim::topology {

class Torus final : public ScaleOutGenerator {
 public:
  Torus(const ScaleOutCommon& common, std::int64_t nodes, std::vector<std::int64_t> dims,
        sim::Bandwidth link_bandwidth);
  static std::shared_ptr<const ScaleOutGenerator> parse(const Section& section,
                                                        const ScaleOutContext& context);
  void build(DcBuilder& dc) const override;

  std::vector<std::string> tier_names() const override { return {"router"}; }

 private:
  std::int64_t nodes_;
  std::vector<std::int64_t> dims_;
  sim::Bandwidth link_bandwidth_;
};

}  // namespace attnsim::topology
