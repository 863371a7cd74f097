// SPDX-License-Identifier: Apache-2.0
#include "topology/gen/fat_tree.h"

#include <limits>

namespace attnsim::topology {

namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}

std::string plural(std::int64_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

std::optional<FatTreeShape> fat_tree_shape(std::int64_t nodes, std::int64_t nics_per_node,
                                           std::int64_t radix, std::int64_t tiers,
                                           bool rail_optimized) {
  FatTreeShape s;
  s.tiers = tiers;
  s.radix = radix;
  const std::int64_t nics = nodes * nics_per_node;
  s.nic_cables = nics;
  if (tiers == 1) {
    if (nics > radix) {
      return std::nullopt;
    }
    s.down = radix;
    s.leaves = 1;
    return s;
  }
  const std::int64_t h = radix / 2;
  s.down = h;
  s.rail_optimized = rail_optimized && nics_per_node > 1;
  s.leaves = s.rail_optimized ? nics_per_node * ceil_div(nodes, h) : ceil_div(nics, h);
  s.leaf_spine_cables = s.leaves * h;
  if (tiers == 2) {
    if (s.leaves > radix) {
      return std::nullopt;
    }
    s.spines = smallest_divisor_at_least(h, ceil_div(s.leaves, 2));
    return s;
  }
  s.pods = ceil_div(s.leaves, h);
  if (s.pods > radix) {
    return std::nullopt;
  }
  s.spines = s.pods * h;
  s.cores_per_group = smallest_divisor_at_least(h, ceil_div(s.pods, 2));
  s.cores = h * s.cores_per_group;
  s.spine_core_cables = s.spines * h;
  return s;
}

FatTree::FatTree(const ScaleOutCommon& common, std::int64_t nodes, const FatTreeShape& shape,
                 std::vector<double> oversubscription)
    : ScaleOutGenerator(common),
      nodes_(nodes),
      shape_(shape),
      oversubscription_(std::move(oversubscription)) {}

std::shared_ptr<const ScaleOutGenerator> FatTree::parse(const Section& section,
                                                        const ScaleOutContext& context) {
  const ScaleOutCommon common = read_scale_out_common(section, context);
  const config::Node radix_node = section.child("switch_radix", "an even integer >= 2");
  const std::int64_t radix = radix_node.as_integer(2, std::numeric_limits<std::int32_t>::max());
  if (radix % 2 != 0) {
    radix_node.fail("an even integer >= 2 (half the ports down, half up)");
  }
  const bool rail = section.boolean_or("rail_optimized", false);
  const std::int64_t nodes = context.nodes_per_dc;
  const std::int64_t nics = nodes * common.nics_per_node;

  std::int64_t fewest = 0;  // the smallest number of tiers that holds every NIC
  for (std::int64_t t = 3; t >= 1; --t) {
    if (fat_tree_shape(nodes, common.nics_per_node, radix, t, rail)) {
      fewest = t;
    }
  }
  if (fewest == 0) {
    radix_node.fail("a radix whose 3-tier fat tree holds " + plural(nics, "NIC") +
                    " per datacenter");
  }
  std::int64_t tiers = fewest;
  if (const std::optional<config::Node> t = section.find("tiers")) {
    tiers = t->as_integer(1, 3);
    if (tiers < fewest) {
      t->fail("at least " + plural(fewest, "tier") + " for " + plural(nics, "NIC") +
              " per datacenter with radix " + std::to_string(radix));
    }
  }
  const FatTreeShape shape = *fat_tree_shape(nodes, common.nics_per_node, radix, tiers, rail);

  const auto boundaries = static_cast<std::size_t>(tiers - 1);
  std::vector<double> ratios(boundaries, 1.0);
  if (const std::optional<config::Node> o = section.find("oversubscription")) {
    if (o->is_array()) {
      const std::vector<config::Node> items = o->elements();
      if (items.size() != boundaries) {
        o->fail("one ratio per tier boundary (" + std::to_string(boundaries) + " for " +
                plural(tiers, "tier") + ")");
      }
      for (std::size_t i = 0; i < items.size(); ++i) {
        ratios[i] = items[i].as_positive();
      }
    } else {
      const double r = o->as_number("a number > 0 or an array of them");
      if (!(r > 0)) {
        o->fail("a number > 0 or an array of them");
      }
      if (boundaries > 0) {
        ratios[0] = r;
      }
    }
  }
  return std::make_shared<const FatTree>(common, nodes, shape, std::move(ratios));
}

std::vector<std::string> FatTree::tier_names() const {
  const std::vector<std::string> all = {"leaf", "spine", "core"};
  return {all.begin(), all.begin() + shape_.tiers};
}

void FatTree::build(DcBuilder& dc) const {
  const std::int64_t h = shape_.down;
  const std::int64_t k_nics = dc.nics_per_node();
  const double nic_bps = common().nic_bandwidth.bytes_per_s();
  // Capacity per uplink cable at boundary b (1: leaf-spine, 2: spine-core): B / (r1 ... rb).
  std::vector<sim::Bandwidth> uplink;
  double divisor = 1;
  for (const double r : oversubscription_) {
    divisor *= r;
    uplink.push_back(sim::Bandwidth::from_bytes_per_s(nic_bps / divisor));
  }
  const sim::Time latency = common().latency;

  std::vector<Vertex> leaves;
  for (std::int64_t i = 0; i < shape_.leaves; ++i) {
    leaves.push_back(dc.add_switch(1));
  }
  for (std::int64_t n = 0; n < nodes_; ++n) {
    for (std::int64_t a = 0; a < k_nics; ++a) {
      std::int64_t leaf = 0;
      if (shape_.tiers > 1) {
        leaf = shape_.rail_optimized ? (n / h) * k_nics + a : (n * k_nics + a) / h;
      }
      dc.add_cable(dc.nic(static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(a)),
                   leaves[static_cast<std::size_t>(leaf)],
                   Cable{common().nic_bandwidth, latency, LinkClass::kNic});
    }
  }
  if (shape_.tiers == 1) {
    dc.set_border(leaves);
    return;
  }
  std::vector<Vertex> spines;
  for (std::int64_t i = 0; i < shape_.spines; ++i) {
    spines.push_back(dc.add_switch(2));
  }
  const Cable leaf_up{uplink[0], latency, LinkClass::kNet};
  if (shape_.tiers == 2) {
    const std::int64_t parallel = h / shape_.spines;
    for (const Vertex leaf : leaves) {
      for (const Vertex spine : spines) {
        for (std::int64_t c = 0; c < parallel; ++c) {
          dc.add_cable(leaf, spine, leaf_up);
        }
      }
    }
    dc.set_border(spines);
    return;
  }
  for (std::size_t l = 0; l < leaves.size(); ++l) {
    const std::size_t pod = l / static_cast<std::size_t>(h);
    for (std::int64_t j = 0; j < h; ++j) {
      dc.add_cable(leaves[l],
                   spines[pod * static_cast<std::size_t>(h) + static_cast<std::size_t>(j)],
                   leaf_up);
    }
  }
  std::vector<Vertex> cores;
  for (std::int64_t i = 0; i < shape_.cores; ++i) {
    cores.push_back(dc.add_switch(3));
  }
  const std::int64_t c = shape_.cores_per_group;
  const Cable spine_up{uplink[1], latency, LinkClass::kNet};
  for (std::size_t s = 0; s < spines.size(); ++s) {
    const std::int64_t group = static_cast<std::int64_t>(s) % h;  // spine j of its pod
    for (std::int64_t q = 0; q < c; ++q) {
      for (std::int64_t p = 0; p < h / c; ++p) {
        dc.add_cable(spines[s], cores[static_cast<std::size_t>(group * c + q)], spine_up);
      }
    }
  }
  dc.set_border(cores);
}

}  // namespace attnsim::topology
