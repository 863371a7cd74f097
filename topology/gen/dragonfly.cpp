// SPDX-License-Identifier: Apache-2.0
#include "topology/gen/dragonfly.h"

#include <limits>

namespace attnsim::topology {

namespace {

constexpr std::int64_t kMaxCount = std::numeric_limits<std::int32_t>::max();

}  // namespace

Dragonfly::Dragonfly(const ScaleOutCommon& common, std::int64_t nodes,
                     const DragonflyParams& params)
    : ScaleOutGenerator(common), nodes_(nodes), params_(params) {}

std::shared_ptr<const ScaleOutGenerator> Dragonfly::parse(const Section& section,
                                                          const ScaleOutContext& context) {
  const ScaleOutCommon common = read_scale_out_common(section, context);
  DragonflyParams p;
  p.routers_per_group = section.integer("routers_per_group", 1, kMaxCount);
  p.nics_per_router = section.integer("nics_per_router", 1, kMaxCount);
  const config::Node global = section.child("global_links_per_router", "an integer >= 0");
  p.global_links_per_router = global.as_integer(0, kMaxCount);
  const std::int64_t nics = std::int64_t{context.nodes_per_dc} * common.nics_per_node;
  const std::int64_t per_group = p.routers_per_group * p.nics_per_router;
  p.groups = (nics + per_group - 1) / per_group;
  if (const std::optional<config::Node> g = section.find("groups")) {
    p.groups = g->as_integer(1, kMaxCount);
    if (p.groups * per_group < nics) {
      g->fail("enough groups for " + std::to_string(nics) + " NICs per datacenter (at least " +
              std::to_string((nics + per_group - 1) / per_group) + ")");
    }
  }
  const std::int64_t ports = p.routers_per_group * p.global_links_per_router;  // a h
  if (p.groups > ports + 1) {
    global.fail("enough global links to join every pair of " + std::to_string(p.groups) +
                " groups (a x h >= " + std::to_string(p.groups - 1) + ")");
  }
  p.links_per_group_pair = p.groups > 1 ? ports / (p.groups - 1) : 0;
  const std::optional<double> local = section.find_positive("local_bandwidth_GBps");
  const std::optional<double> glob = section.find_positive("global_bandwidth_GBps");
  p.local_bandwidth = local ? sim::Bandwidth::from_GBps(*local) : common.nic_bandwidth;
  p.global_bandwidth = glob ? sim::Bandwidth::from_GBps(*glob) : common.nic_bandwidth;
  return std::make_shared<const Dragonfly>(common, context.nodes_per_dc, p);
}

void Dragonfly::build(DcBuilder& dc) const {
  const std::int64_t a = params_.routers_per_group;
  const std::int64_t g = params_.groups;
  const std::int64_t h = params_.global_links_per_router;
  std::vector<Vertex> routers;
  for (std::int64_t i = 0; i < g * a; ++i) {
    routers.push_back(dc.add_switch(1));
  }
  const auto router = [&](std::int64_t i) { return routers[static_cast<std::size_t>(i)]; };
  const std::int64_t k_nics = dc.nics_per_node();
  for (std::int64_t n = 0; n < nodes_; ++n) {
    for (std::int64_t i = 0; i < k_nics; ++i) {
      dc.add_cable(dc.nic(static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(i)),
                   router((n * k_nics + i) / params_.nics_per_router),
                   Cable{common().nic_bandwidth, common().latency, LinkClass::kNic});
    }
  }
  const Cable local{params_.local_bandwidth, common().latency, LinkClass::kNet};
  for (std::int64_t grp = 0; grp < g; ++grp) {
    for (std::int64_t x = 0; x < a; ++x) {
      for (std::int64_t y = x + 1; y < a; ++y) {
        dc.add_cable(router(grp * a + x), router(grp * a + y), local);
      }
    }
  }
  const Cable global{params_.global_bandwidth, common().latency, LinkClass::kNet};
  for (std::int64_t x = 0; x < g; ++x) {
    for (std::int64_t y = x + 1; y < g; ++y) {
      for (std::int64_t j = 0; j < params_.links_per_group_pair; ++j) {
        const std::int64_t qx = j * (g - 1) + (y - x - 1 + g) % g;
        const std::int64_t qy = j * (g - 1) + (x - y - 1 + g) % g;
        dc.add_cable(router(x * a + qx / h), router(y * a + qy / h), global);
      }
    }
  }
  std::vector<Vertex> border;
  for (std::int64_t grp = 0; grp < g; ++grp) {
    border.push_back(router(grp * a));
  }
  dc.set_border(std::move(border));
}

}  // namespace attnsim::topology
