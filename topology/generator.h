// SPDX-License-Identifier: Apache-2.0
// The two plug-in families of topology/ (STYLE C3): scale-up generators build the inside of a
// node, scale-out generators build one datacenter's network over the nodes' NICs. Each kind
// lives in topology/gen/<kind>.{h,cpp} and is listed once in topology/builtin.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/time.h"
#include "topology/node_template.h"
#include "topology/section.h"
#include "topology/types.h"

namespace attnsim::topology {

/// What a scale-up kind needs to know besides its own keys (already validated).
struct ScaleUpContext {
  std::uint32_t gpus_per_node = 0;
  std::uint32_t nics_per_node = 0;  // 0 when scale_out is "none"
  sim::Bandwidth nic_bandwidth;
  sim::Bandwidth bandwidth;  // scale_up.bandwidth_GBps: per GPU, per direction
  sim::Time latency;         // scale_up.latency_us: GPU to GPU, one way
};

/// Builds the inside of one node.
///
/// Inputs:  a NodeTemplate holding G GPUs and K NICs and no cables.
/// Output:  adds the scale-up vertices and cables, and attaches every NIC (each NIC reachable
///          from every GPU inside the node).
/// Errors:  parameters are checked when the kind is parsed; build() may assume they are valid.
class ScaleUpGenerator {
 public:
  virtual ~ScaleUpGenerator() = default;
  virtual void build(NodeTemplate& node) const = 0;

  /// In-switch reduction (NVLink SHARP, NVSwitch gen3+).
  virtual bool nvls() const { return false; }
};

/// Fields every scale-out kind with NICs shares ("nics_per_node", "nic_bandwidth_GBps",
/// "latency_us"); kind "none" leaves them zero.
struct ScaleOutCommon {
  std::uint32_t nics_per_node = 0;
  sim::Bandwidth nic_bandwidth;  // per NIC, per direction
  sim::Time latency;             // per network cable (NIC-switch and switch-switch), one way
};

/// What a scale-out kind needs to know besides its own keys.
struct ScaleOutContext {
  std::uint32_t nodes = 0;         // whole fabric
  std::uint32_t nodes_per_dc = 0;  // each datacenter gets its own copy of the scale-out fabric
  std::uint32_t gpus_per_node = 0;
  std::uint32_t datacenters = 1;
  /// What set the size: the "nodes" value, or the topology section when a GPU count overrode it.
  std::optional<config::Node> size_source;
  std::optional<std::int64_t> gpus_override;

  /// Fails on whatever set the node count, e.g. "<file>: /topology/nodes: expected 1 node
  /// (...), got 2"; with a GPU-count override "<file>: /topology: expected ..., got 16 GPUs =
  /// 2 nodes". `expected` is phrased in nodes.
  [[noreturn]] void fail_size(const std::string& expected) const;
};

/// Reads and checks the shared scale-out keys; nics_per_node must divide gpus_per_node.
ScaleOutCommon read_scale_out_common(const Section& section, const ScaleOutContext& context);

/// One datacenter's part of the fabric under construction, as a scale-out generator sees it.
class DcBuilder {
 public:
  virtual ~DcBuilder() = default;
  virtual std::uint32_t nodes() const = 0;  // nodes in this datacenter
  virtual std::uint32_t nics_per_node() const = 0;
  /// The NIC `index` of node `node_in_dc` (0-based within this datacenter).
  virtual Vertex nic(std::uint32_t node_in_dc, std::uint32_t index) const = 0;
  /// A network switch; tier 1 is where NICs attach.
  virtual Vertex add_switch(std::uint8_t tier) = 0;
  virtual void add_cable(Vertex a, Vertex b, const Cable& cable) = 0;
  /// The switches a datacenter gateway joins (used only with more than one datacenter).
  virtual void set_border(std::vector<Vertex> switches) = 0;
};

/// Builds one datacenter's network.
///
/// Inputs:  a DcBuilder whose nodes already exist (GPUs, NICs, scale-up).
/// Output:  switches and cables; every NIC gets exactly one cable of class kNic to a tier-1
///          switch; switch-to-switch cables are kNet; set_border() names the top tier.
/// Errors:  parameters are checked when the kind is parsed; build() may assume they are valid.
class ScaleOutGenerator {
 public:
  explicit ScaleOutGenerator(ScaleOutCommon common) : common_(common) {}

  virtual ~ScaleOutGenerator() = default;
  virtual void build(DcBuilder& dc) const = 0;
  /// Names of the switch tiers, tier 1 first, e.g. {"leaf", "spine", "core"}.
  virtual std::vector<std::string> tier_names() const = 0;

  /// True when NIC i of every node sits on a leaf of rail i only (so NCCL's PXN applies).
  virtual bool rail_optimized() const { return false; }

  const ScaleOutCommon& common() const { return common_; }

 private:
  ScaleOutCommon common_;
};

/// Registry products: one kind's parser (config::Registry<ScaleUpKind> etc., builtin.h).
struct ScaleUpKind {
  std::function<std::shared_ptr<const ScaleUpGenerator>(const Section&, const ScaleUpContext&)>
      parse;
};

struct ScaleOutKind {
  std::function<std::shared_ptr<const ScaleOutGenerator>(const Section&, const ScaleOutContext&)>
      parse;
};

/// Attaches NIC i to every GPU l with l % K == i by its own PCIe cable as fast as the NIC, so
/// the attachment never limits one GPU (the shared NIC cable does). Latency 0: the NIC's
/// latency is that of its network cable.
void attach_nics_to_gpus(NodeTemplate& node, sim::Bandwidth nic_bandwidth);

/// The smallest divisor of `n` that is at least `at_least` (n itself when none is smaller).
std::int64_t smallest_divisor_at_least(std::int64_t n, std::int64_t at_least);

}  // namespace attnsim::topology
