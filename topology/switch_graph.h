// SPDX-License-Identifier: Apache-2.0
// The network switches and gateways of a fabric as a compact adjacency structure (CSR), for
// ECMP routing and for the BFS behind the diameter. Parallel cables between two switches form
// one neighbour entry with several directed links.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "sim/network.h"
#include "topology/fabric.h"

namespace attnsim::topology {

class SwitchGraph {
 public:
  static constexpr std::uint16_t kUnreached = std::numeric_limits<std::uint16_t>::max();

  struct Neighbor {
    std::uint32_t to = 0;     // switch index
    std::uint32_t first = 0;  // into links()
    std::uint32_t count = 0;  // parallel cables
  };

  explicit SwitchGraph(const Fabric& fabric);

  /// Switch index s is fabric vertex first_vertex() + s.
  std::uint32_t size() const { return static_cast<std::uint32_t>(offsets_.size() - 1); }

  Vertex first_vertex() const { return first_; }

  std::span<const Neighbor> neighbors(std::uint32_t s) const {
    return {neighbors_.data() + offsets_[s], offsets_[s + 1] - offsets_[s]};
  }

  /// Directed sim link ids (2 x cable + direction) of a neighbour entry.
  std::span<const sim::LinkId> links(const Neighbor& n) const {
    return {links_.data() + n.first, n.count};
  }

  /// Hop counts from every switch to `target` (kUnreached when disconnected), into `out`.
  void distances_to(std::uint32_t target, std::vector<std::uint16_t>& out) const;

 private:
  Vertex first_;
  std::vector<std::uint32_t> offsets_;
  std::vector<Neighbor> neighbors_;
  std::vector<sim::LinkId> links_;
};

}  // namespace attnsim::topology
