// SPDX-License-Identifier: Apache-2.0
// The topology section of a scenario as plain, validated structs (SPEC section 3), and the
// parser that checks everything before any fabric is built (STYLE C7: parse, then build).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "config/node.h"
#include "sim/time.h"
#include "topology/generator.h"

namespace attnsim::topology {

struct ScaleUpSpec {
  std::string kind;          // "nvswitch", "nvlink_mesh", "pcie"
  sim::Bandwidth bandwidth;  // per GPU, per direction
  sim::Time latency;         // GPU to GPU, one way
  bool nvls = false;         // in-switch reduction (nvswitch "nvls"), = generator->nvls()
  std::shared_ptr<const ScaleUpGenerator> generator;  // kind-specific keys, builds a node
};

struct ScaleOutSpec {
  std::string kind;                                    // "fat_tree", "dragonfly", "torus", "none"
  std::uint32_t nics_per_node = 0;                     // 0 for "none"
  sim::Bandwidth nic_bandwidth;                        // per NIC, per direction
  sim::Time latency;                                   // per network cable, one way
  std::shared_ptr<const ScaleOutGenerator> generator;  // builds one datacenter's network
};

struct DatacenterSpec {
  std::uint32_t count = 1;
  sim::Bandwidth bandwidth;  // each datacenter pair's link, per direction (count > 1)
  sim::Time latency;         // one way
};

struct TopologySpec {
  std::string name;    // the preset's name, or "custom"
  std::string source;  // the file the section came from
  std::uint32_t nodes = 0;
  std::uint32_t gpus_per_node = 0;
  ScaleUpSpec scale_up;
  ScaleOutSpec scale_out;
  DatacenterSpec datacenters;

  std::uint32_t gpus() const { return nodes * gpus_per_node; }
};

/// The largest fabric attnsim builds, in GPUs.
inline constexpr std::int64_t kMaxGpus = std::int64_t{1} << 20;

/// Reads a topology section: either the fields of SPEC section 3 or {"preset": NAME, ...}
/// whose other keys override the preset's, section by section (a scale_up or scale_out
/// override that changes "kind" replaces the preset's section instead).
///
/// Inputs:  `topology` is the section's node (its file and pointer name every error);
///          `gpus_override` (a sweep's or the command line's GPU count) sets
///          nodes = gpus / gpus_per_node, superseding "nodes".
/// Output:  a spec every generator has checked; building it cannot fail on input.
/// Errors:  config::InputError "<file>: <pointer>: expected <what>, got <what>".
TopologySpec parse_topology(const config::Node& topology,
                            std::optional<std::int64_t> gpus_override = std::nullopt);

}  // namespace attnsim::topology
