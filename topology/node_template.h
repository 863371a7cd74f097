// SPDX-License-Identifier: Apache-2.0
// The inside of one node (GPUs, NICs, scale-up switches and their cables). Every node of a
// fabric is a stamped copy of one template, so routes inside a node are computed once.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "topology/types.h"

namespace attnsim::topology {

/// Local vertex numbers: GPUs 0..G-1, NICs G..G+K-1, then the vertices add_vertex() creates,
/// in order. Cables keep the order in which they were added.
class NodeTemplate {
 public:
  struct TemplateCable {
    std::uint32_t a = 0;
    std::uint32_t b = 0;
    Cable cable;
  };

  /// One step of a path inside the node: template cable `cable`, crossed from b to a when
  /// `reverse`.
  struct Hop {
    std::uint32_t cable = 0;
    bool reverse = false;
  };

  NodeTemplate(std::uint32_t gpus, std::uint32_t nics) : gpus_(gpus), nics_(nics) {}

  std::uint32_t gpus() const { return gpus_; }

  std::uint32_t nics() const { return nics_; }

  std::uint32_t gpu(std::uint32_t local) const { return local; }

  std::uint32_t nic(std::uint32_t index) const { return gpus_ + index; }

  /// Adds a node-internal vertex (NVSwitch, PCIe switch, host bridge); returns its number.
  std::uint32_t add_vertex(VertexKind kind);
  void add_cable(std::uint32_t a, std::uint32_t b, const Cable& cable);

  std::uint32_t vertex_count() const;
  VertexKind kind(std::uint32_t local) const;

  /// The vertices add_vertex() created, in order.
  const std::vector<VertexKind>& extra() const { return extra_; }

  const std::vector<TemplateCable>& cables() const { return cables_; }

  /// The node's NVSwitch vertex when it has exactly one.
  std::optional<std::uint32_t> nvswitch() const;

  /// Hop counts from `from` to every local vertex (unreachable: UINT32_MAX).
  std::vector<std::uint32_t> distances(std::uint32_t from) const;
  /// A shortest path from `from` to `to` (empty when equal). Ties go to the cable added first,
  /// so the result is deterministic. Throws std::logic_error when `to` is unreachable.
  std::vector<Hop> shortest_path(std::uint32_t from, std::uint32_t to) const;

 private:
  std::uint32_t gpus_;
  std::uint32_t nics_;
  std::vector<VertexKind> extra_;
  std::vector<TemplateCable> cables_;
};

}  // namespace attnsim::topology
