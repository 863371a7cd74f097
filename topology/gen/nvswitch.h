// SPDX-License-Identifier: Apache-2.0
// Scale-up kind "nvswitch": every GPU of the node has its NVLinks into one switched domain
// (DGX A100/H100: 6 or 4 NVSwitch chips; GB200 NVL72: 18 chips for 72 GPUs).
//
//   GPU0  GPU1  ...  GPU(G-1)        each GPU: one cable of bandwidth_GBps per direction,
//     \     |         /              latency_us / 2, to one logical NVSwitch vertex
//      +--[NVSwitch]--+
//
// One logical vertex stands for all switch chips of the domain: every GPU's links spread over
// all chips and each chip is a non-blocking crossbar, so the chips add no bottleneck a flow
// model could see beyond each GPU's own bandwidth. GPU-to-GPU: 2 hops, latency_us.
// Counts per node: G GPUs, 1 NVSwitch vertex, G nvlink cables. Bisection of one node (first
// half of the GPUs to the second): floor(G/2) x bandwidth_GBps.
// Keys: "nvls" (optional, default false): NVLink SHARP in-switch reduction, NVSwitch gen3+
// (hardware.md 1.2).
#pragma once

#include <memory>

#include "topology/generator.h"

namespace attnsim::topology {

class NvSwitch final : public ScaleUpGenerator {
 public:
  NvSwitch(const ScaleUpContext& context, bool nvls) : context_(context), nvls_(nvls) {}

  static std::shared_ptr<const ScaleUpGenerator> parse(const Section& section,
                                                       const ScaleUpContext& context);
  void build(NodeTemplate& node) const override;

  bool nvls() const override { return nvls_; }

 private:
  ScaleUpContext context_;
  bool nvls_;
};

}  // namespace attnsim::topology
