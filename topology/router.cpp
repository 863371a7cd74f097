// SPDX-License-Identifier: Apache-2.0
#include "topology/router.h"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace attnsim::topology {

namespace {

// Fat trees here have at most three tiers (hardware.md 1.6); d-mod-k mirrors up to this many
// up hops.
constexpr std::uint32_t kMaxUpHops = 8;

// splitmix64 finaliser (Steele, Lea, Flood 2014): a cheap, well-mixed deterministic hash.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

bool has_nvlink(const NodeTemplate& t) {
  return std::any_of(t.cables().begin(), t.cables().end(),
                     [](const auto& c) { return c.cable.link_class == LinkClass::kNvlink; });
}

}  // namespace

FabricRouter::FabricRouter(const Fabric& fabric)
    : gpus_(fabric.gpus()),
      gpus_per_node_(fabric.gpus_per_node()),
      nics_per_node_(fabric.nics_per_node()),
      cables_per_node_(fabric.cables_per_node()),
      switches_(fabric) {
  const NodeTemplate& t = fabric.node_template();
  const std::uint32_t g = gpus_per_node_;
  const std::uint32_t k = nics_per_node_;
  nvswitch_ = t.nvswitch().has_value();
  pxn_ = fabric.rail_optimized() && k > 1 && has_nvlink(t);
  dest_mod_k_ = fabric.spec().scale_out.kind == "fat_tree";
  endpoints_ = gpus_ + (nvswitch_ ? fabric.nodes() : 0);
  for (std::uint32_t a = 0; a < g; ++a) {
    for (std::uint32_t b = 0; b < g; ++b) {
      gpu_gpu_.push_back(add_template_path(t.shortest_path(t.gpu(a), t.gpu(b))));
    }
    for (std::uint32_t i = 0; i < k; ++i) {
      gpu_nic_.push_back(add_template_path(t.shortest_path(t.gpu(a), t.nic(i))));
      nic_gpu_.push_back(add_template_path(t.shortest_path(t.nic(i), t.gpu(a))));
    }
    if (nvswitch_) {
      gpu_nvswitch_.push_back(add_template_path(t.shortest_path(t.gpu(a), *t.nvswitch())));
      nvswitch_gpu_.push_back(add_template_path(t.shortest_path(*t.nvswitch(), t.gpu(a))));
    }
  }
  const std::uint32_t nics = fabric.nodes() * k;
  for (std::uint32_t nic = 0; nic < nics; ++nic) {
    const std::uint32_t c = fabric.nic_cable(nic);
    const bool nic_first = fabric.cable_ends(c).first == fabric.gpus() + nic;
    nic_up_.push_back(2 * c + (nic_first ? 0 : 1));
    nic_down_.push_back(2 * c + (nic_first ? 1 : 0));
    nic_switch_.push_back(fabric.nic_switch(nic) - switches_.first_vertex());
  }
  rows_ = std::make_unique<std::atomic<const std::uint16_t*>[]>(switches_.size());
  for (std::uint32_t s = 0; s < switches_.size(); ++s) {
    rows_[s].store(nullptr, std::memory_order_relaxed);
  }
}

FabricRouter::Range FabricRouter::add_template_path(const std::vector<NodeTemplate::Hop>& hops) {
  Range r;
  r.begin = static_cast<std::uint32_t>(template_links_.size());
  for (const NodeTemplate::Hop& h : hops) {
    template_links_.push_back(2 * h.cable + (h.reverse ? 1 : 0));
  }
  r.end = static_cast<std::uint32_t>(template_links_.size());
  return r;
}

void FabricRouter::append(Range range, std::uint32_t node, std::vector<sim::LinkId>& path) const {
  const std::uint32_t base = 2 * node * cables_per_node_;
  for (std::uint32_t i = range.begin; i < range.end; ++i) {
    path.push_back(base + template_links_[i]);
  }
}

void FabricRouter::route(sim::EndpointId src, sim::EndpointId dst, std::uint64_t salt,
                         std::vector<sim::LinkId>& path) const {
  path.clear();
  const std::uint64_t key = mix(mix(mix(src) ^ dst) ^ salt);
  const std::uint32_t g = gpus_per_node_;
  if (src < gpus_ && dst < gpus_) {
    route_gpus(src, dst, key, salt, path);
    return;
  }
  if (src >= gpus_) {  // from an NVSwitch: into the node's GPU with the destination's index
    const std::uint32_t node = src - gpus_;
    const std::uint32_t local = dst < gpus_ ? dst % g : 0;
    append(nvswitch_gpu_[local], node, path);
    const std::uint32_t first = node * g + local;
    if (dst < gpus_) {
      route_gpus(first, dst, key, salt, path);
    } else {
      const std::uint32_t last = (dst - gpus_) * g + local;
      route_gpus(first, last, key, salt, path);
      append(gpu_nvswitch_[local], dst - gpus_, path);
    }
    return;
  }
  const std::uint32_t node = dst - gpus_;  // GPU to an NVSwitch
  const std::uint32_t local = src % g;
  route_gpus(src, node * g + local, key, salt, path);
  append(gpu_nvswitch_[local], node, path);
}

void FabricRouter::route_gpus(std::uint32_t a, std::uint32_t b, std::uint64_t key,
                              std::uint64_t salt, std::vector<sim::LinkId>& path) const {
  if (a == b) {
    return;
  }
  const std::uint32_t g = gpus_per_node_;
  const std::uint32_t k = nics_per_node_;
  const std::uint32_t node_a = a / g;
  const std::uint32_t node_b = b / g;
  const std::uint32_t la = a % g;
  const std::uint32_t lb = b % g;
  if (node_a == node_b) {
    append(gpu_gpu_[la * g + lb], node_a, path);
    return;
  }
  const std::uint32_t rail_b = lb % k;
  const std::uint32_t exit = pxn_ ? rail_b : la % k;  // PXN: leave on the destination's rail
  const std::uint32_t nic_a = node_a * k + exit;
  const std::uint32_t nic_b = node_b * k + rail_b;
  append(gpu_nic_[la * k + exit], node_a, path);
  path.push_back(nic_up_[nic_a]);
  // d-mod-k names the destination by its index among the NICs of its rail (its node) on a
  // rail-optimised fabric, else by its NIC number; the salt separates channels.
  const std::uint64_t dest = dest_mod_k_ ? (pxn_ ? node_b : nic_b) + salt : key;
  walk(nic_switch_[nic_a], nic_switch_[nic_b], dest, path);
  path.push_back(nic_down_[nic_b]);
  append(nic_gpu_[lb * k + rail_b], node_b, path);
}

void FabricRouter::walk(std::uint32_t from, std::uint32_t to, std::uint64_t key,
                        std::vector<sim::LinkId>& path) const {
  if (from == to) {
    return;
  }
  const std::uint16_t* dist = row(to);
  std::uint32_t at = from;
  // Fat trees: d-mod-k, the static destination-based routing of InfiniBand's fat-tree
  // routing engines (OpenSM ftree). Reading d as digits, up hop i picks its switch with the
  // digit (d / D_i) mod c_i and its cable among parallel ones with the next digit, where D_i
  // is the product of the choice and cable counts of the hops before. A path of 2h hops goes
  // h up and h down; down hop j reuses the cable digit of the up hop it mirrors, so the
  // destinations behind one switch spread over its parallel cables in both directions.
  // Other fabrics hash (src, dst, salt, hop) instead (ECMP).
  const std::uint32_t hops = dist[at];
  const bool mirrored = dest_mod_k_ && hops % 2 == 0 && hops <= 2 * kMaxUpHops;
  std::array<std::uint64_t, kMaxUpHops> cable_divisor{};
  std::uint64_t divisor = 1;
  for (std::uint32_t hop = 0; at != to; ++hop) {
    const auto want = static_cast<std::uint16_t>(dist[at] - 1);
    std::uint32_t choices = 0;
    for (const SwitchGraph::Neighbor& n : switches_.neighbors(at)) {
      choices += dist[n.to] == want ? 1 : 0;
    }
    if (choices == 0 || dist[at] == SwitchGraph::kUnreached) {
      throw std::logic_error("FabricRouter: switch unreachable (generator bug)");
    }
    const bool down = mirrored && hop >= hops / 2;
    const std::uint64_t h = dest_mod_k_ ? key / divisor : mix(key ^ (hop * 0x9e3779b97f4a7c15ULL));
    std::uint64_t pick = h % choices;
    for (const SwitchGraph::Neighbor& n : switches_.neighbors(at)) {
      if (dist[n.to] != want) {
        continue;
      }
      if (pick-- == 0) {
        std::uint64_t cable = mix(h) % n.count;
        if (down) {
          cable = (key / cable_divisor[hops - 1 - hop]) % n.count;
        } else if (dest_mod_k_) {
          cable = (h / choices) % n.count;
          if (mirrored) {
            cable_divisor[hop] = divisor * choices;
          }
          divisor *= static_cast<std::uint64_t>(choices) * n.count;
        }
        path.push_back(switches_.links(n)[cable]);
        at = n.to;
        break;
      }
    }
  }
}

const std::uint16_t* FabricRouter::row(std::uint32_t target) const {
  const std::uint16_t* r = rows_[target].load(std::memory_order_acquire);
  if (r != nullptr) {
    return r;
  }
  const std::lock_guard<std::mutex> lock(mutex_);
  r = rows_[target].load(std::memory_order_relaxed);
  if (r == nullptr) {
    std::vector<std::uint16_t> dist;
    switches_.distances_to(target, dist);
    auto owned = std::make_unique<std::uint16_t[]>(dist.size());
    std::copy(dist.begin(), dist.end(), owned.get());
    r = owned.get();
    owned_rows_.push_back(std::move(owned));
    rows_[target].store(r, std::memory_order_release);
  }
  return r;
}

}  // namespace attnsim::topology
