// SPDX-License-Identifier: Apache-2.0
#include "topology/gen/torus.h"

#include <limits>

namespace attnsim::topology {

Torus::Torus(const ScaleOutCommon& common, std::int64_t nodes, std::vector<std::int64_t> dims,
             sim::Bandwidth link_bandwidth)
    : ScaleOutGenerator(common),
      nodes_(nodes),
      dims_(std::move(dims)),
      link_bandwidth_(link_bandwidth) {}

std::shared_ptr<const ScaleOutGenerator> Torus::parse(const Section& section,
                                                      const ScaleOutContext& context) {
  const ScaleOutCommon common = read_scale_out_common(section, context);
  const config::Node dims_node = section.child("dims", "an array of integers >= 1");
  const std::vector<config::Node> items = dims_node.elements("an array of integers >= 1");
  if (items.empty()) {
    dims_node.fail("an array of integers >= 1");
  }
  const std::int64_t nics = std::int64_t{context.nodes_per_dc} * common.nics_per_node;
  std::vector<std::int64_t> dims;
  std::int64_t routers = 1;
  for (const config::Node& item : items) {
    dims.push_back(item.as_integer(1, std::numeric_limits<std::int32_t>::max()));
    routers *= dims.back();
    if (routers > nics) {
      break;
    }
  }
  if (routers > nics || nics % routers != 0) {
    dims_node.fail("dims whose product divides the " + std::to_string(nics) +
                   " NICs per datacenter");
  }
  const std::optional<double> bw = section.find_positive("link_bandwidth_GBps");
  return std::make_shared<const Torus>(common, context.nodes_per_dc, std::move(dims),
                                       bw ? sim::Bandwidth::from_GBps(*bw) : common.nic_bandwidth);
}

void Torus::build(DcBuilder& dc) const {
  std::int64_t count = 1;
  for (const std::int64_t d : dims_) {
    count *= d;
  }
  std::vector<Vertex> routers;
  for (std::int64_t i = 0; i < count; ++i) {
    routers.push_back(dc.add_switch(1));
  }
  const std::int64_t k_nics = dc.nics_per_node();
  const std::int64_t per_router = nodes_ * k_nics / count;
  for (std::int64_t n = 0; n < nodes_; ++n) {
    for (std::int64_t i = 0; i < k_nics; ++i) {
      dc.add_cable(dc.nic(static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(i)),
                   routers[static_cast<std::size_t>((n * k_nics + i) / per_router)],
                   Cable{common().nic_bandwidth, common().latency, LinkClass::kNic});
    }
  }
  const Cable link{link_bandwidth_, common().latency, LinkClass::kNet};
  std::int64_t stride = count;  // routers between neighbours along dimension i
  for (const std::int64_t d : dims_) {
    stride /= d;
    for (std::int64_t r = 0; r < count; ++r) {
      const std::int64_t c = (r / stride) % d;  // coordinate along this dimension
      if (d < 2 || (d == 2 && c == 1)) {
        continue;
      }
      const std::int64_t next = r + (((c + 1) % d) - c) * stride;
      dc.add_cable(routers[static_cast<std::size_t>(r)], routers[static_cast<std::size_t>(next)],
                   link);
    }
  }
  dc.set_border({routers.front()});
}

}  // namespace attnsim::topology
