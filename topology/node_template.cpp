// SPDX-License-Identifier: Apache-2.0
#include "topology/node_template.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <stdexcept>

namespace attnsim::topology {

namespace {

constexpr std::uint32_t kUnreached = std::numeric_limits<std::uint32_t>::max();

}  // namespace

std::uint32_t NodeTemplate::add_vertex(VertexKind kind) {
  extra_.push_back(kind);
  return vertex_count() - 1;
}

void NodeTemplate::add_cable(std::uint32_t a, std::uint32_t b, const Cable& cable) {
  if (a >= vertex_count() || b >= vertex_count() || a == b) {
    throw std::logic_error("NodeTemplate::add_cable: bad endpoints");
  }
  cables_.push_back(TemplateCable{a, b, cable});
}

std::uint32_t NodeTemplate::vertex_count() const {
  return gpus_ + nics_ + static_cast<std::uint32_t>(extra_.size());
}

VertexKind NodeTemplate::kind(std::uint32_t local) const {
  if (local < gpus_) {
    return VertexKind::kGpu;
  }
  if (local < gpus_ + nics_) {
    return VertexKind::kNic;
  }
  return extra_.at(local - gpus_ - nics_);
}

std::optional<std::uint32_t> NodeTemplate::nvswitch() const {
  std::optional<std::uint32_t> found;
  for (std::uint32_t i = 0; i < extra_.size(); ++i) {
    if (extra_[i] == VertexKind::kNvSwitch) {
      if (found) {
        return std::nullopt;
      }
      found = gpus_ + nics_ + i;
    }
  }
  return found;
}

std::vector<std::uint32_t> NodeTemplate::distances(std::uint32_t from) const {
  std::vector<std::uint32_t> dist(vertex_count(), kUnreached);
  std::vector<std::vector<std::uint32_t>> adjacent(vertex_count());
  for (const TemplateCable& c : cables_) {
    adjacent[c.a].push_back(c.b);
    adjacent[c.b].push_back(c.a);
  }
  std::deque<std::uint32_t> queue{from};
  dist[from] = 0;
  while (!queue.empty()) {
    const std::uint32_t u = queue.front();
    queue.pop_front();
    for (const std::uint32_t v : adjacent[u]) {
      if (dist[v] == kUnreached) {
        dist[v] = dist[u] + 1;
        queue.push_back(v);
      }
    }
  }
  return dist;
}

std::vector<NodeTemplate::Hop> NodeTemplate::shortest_path(std::uint32_t from,
                                                           std::uint32_t to) const {
  // Walk back from `to` along cables that lower the distance to `from` by one.
  const std::vector<std::uint32_t> dist = distances(from);
  if (dist.at(to) == kUnreached) {
    throw std::logic_error("NodeTemplate: vertex unreachable inside the node");
  }
  std::vector<Hop> reversed;
  std::uint32_t at = to;
  while (at != from) {
    bool stepped = false;
    for (std::uint32_t i = 0; i < cables_.size() && !stepped; ++i) {
      const TemplateCable& c = cables_[i];
      if (c.b == at && dist[c.a] + 1 == dist[at]) {
        reversed.push_back(Hop{i, false});  // crossed a -> b
        at = c.a;
        stepped = true;
      } else if (c.a == at && dist[c.b] + 1 == dist[at]) {
        reversed.push_back(Hop{i, true});  // crossed b -> a
        at = c.b;
        stepped = true;
      }
    }
  }
  std::reverse(reversed.begin(), reversed.end());
  return reversed;
}

}  // namespace attnsim::topology
