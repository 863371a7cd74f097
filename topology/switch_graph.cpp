// SPDX-License-Identifier: Apache-2.0
#include "topology/switch_graph.h"

#include <algorithm>
#include <utility>

namespace attnsim::topology {

SwitchGraph::SwitchGraph(const Fabric& fabric) : first_(fabric.first_switch_vertex()) {
  const auto count = static_cast<std::uint32_t>(boost::num_vertices(fabric.graph()) - first_);

  // (from, to, link) for both directions of every switch-to-switch cable.
  struct Arc {
    std::uint32_t from;
    std::uint32_t to;
    sim::LinkId link;
  };

  std::vector<Arc> arcs;
  for (std::uint32_t c = 0; c < fabric.cable_count(); ++c) {
    const auto [a, b] = fabric.cable_ends(c);
    if (a >= first_ && b >= first_) {
      arcs.push_back(Arc{a - first_, b - first_, 2 * c});
      arcs.push_back(Arc{b - first_, a - first_, 2 * c + 1});
    }
  }
  std::sort(arcs.begin(), arcs.end(), [](const Arc& x, const Arc& y) {
    return std::tie(x.from, x.to, x.link) < std::tie(y.from, y.to, y.link);
  });
  offsets_.assign(count + 1, 0);
  links_.reserve(arcs.size());
  for (std::size_t i = 0; i < arcs.size(); ++i) {
    if (i == 0 || arcs[i].from != arcs[i - 1].from || arcs[i].to != arcs[i - 1].to) {
      neighbors_.push_back(Neighbor{arcs[i].to, static_cast<std::uint32_t>(links_.size()), 0});
      ++offsets_[arcs[i].from + 1];
    }
    links_.push_back(arcs[i].link);
    ++neighbors_.back().count;
  }
  for (std::uint32_t s = 0; s < count; ++s) {
    offsets_[s + 1] += offsets_[s];
  }
}

void SwitchGraph::distances_to(std::uint32_t target, std::vector<std::uint16_t>& out) const {
  out.assign(size(), kUnreached);
  std::vector<std::uint32_t> queue;
  queue.reserve(size());
  queue.push_back(target);
  out[target] = 0;
  for (std::size_t head = 0; head < queue.size(); ++head) {
    const std::uint32_t u = queue[head];
    for (const Neighbor& n : neighbors(u)) {
      if (out[n.to] == kUnreached) {
        out[n.to] = static_cast<std::uint16_t>(out[u] + 1);
        queue.push_back(n.to);
      }
    }
  }
}

}  // namespace attnsim::topology
