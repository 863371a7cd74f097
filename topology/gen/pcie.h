// SPDX-License-Identifier: Apache-2.0
// Scale-up kind "pcie": no NVLink; GPUs talk through PCIe, either straight through the CPU
// root complex or through PCIe switches below it.
//
//   gpus_per_switch = 0                 gpus_per_switch = S
//
//      [host bridge]                        [host bridge]
//       /   |    \                        host_bandwidth_GBps each
//    GPU0  GPU1  GPU2                    [PCIe sw]    [PCIe sw]
//                                        /     |       /     |
//                                      GPU0 .. GPU(S-1)  GPU(S) ..
//
// Every cable has latency_us / 2, so two GPUs under one switch (or under the root complex)
// are latency_us apart and two hops; under different switches 4 hops and 2 x latency_us.
// GPU cables: bandwidth_GBps (the GPU's PCIe link). Counts per node: 1 host bridge,
// G/S switches (0 when S = 0), G + G/S pcie cables, plus K NIC cables: NIC i hangs off the
// switch (or root complex) of GPU i, as fast as the NIC.
// Bisection of one node with S = 0: floor(G/2) x bandwidth_GBps (each GPU's own link).
// Keys: "gpus_per_switch" (optional, default 0; must divide G), "host_bandwidth_GBps" (optional,
// switch uplink, default bandwidth_GBps: one x16 uplink like the GPU's own link).
#pragma once

#include <cstdint>
#include <memory>

#include "topology/generator.h"

namespace attnsim::topology {

class Pcie final : public ScaleUpGenerator {
 public:
  Pcie(const ScaleUpContext& context, std::uint32_t gpus_per_switch, sim::Bandwidth host_bandwidth)
      : context_(context), gpus_per_switch_(gpus_per_switch), host_bandwidth_(host_bandwidth) {}

  static std::shared_ptr<const ScaleUpGenerator> parse(const Section& section,
                                                       const ScaleUpContext& context);
  void build(NodeTemplate& node) const override;

 private:
  ScaleUpContext context_;
  std::uint32_t gpus_per_switch_;
  sim::Bandwidth host_bandwidth_;
};

}  // namespace attnsim::topology
