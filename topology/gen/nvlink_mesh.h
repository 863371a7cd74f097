// SPDX-License-Identifier: Apache-2.0
// Scale-up kind "nvlink_mesh": GPUs joined directly, every pair by its own share of NVLinks
// (HGX-1/DGX-1 style hybrid cube meshes are approximated by a full mesh).
//
//   GPU0 ---- GPU1        G GPUs, G(G-1)/2 cables; each pair gets bandwidth_GBps / (G-1)
//    | \    /  |          per direction, so one GPU's cables add up to bandwidth_GBps;
//    |  \  /   |          latency_us per cable. GPU-to-GPU: 1 hop.
//    |  /  \   |
//   GPU3 ---- GPU2
//
// Bisection of one node (first half to second half): floor(G/2) x ceil(G/2) x B / (G-1).
// Needs G >= 2. No keys of its own.
#pragma once

#include <memory>

#include "topology/generator.h"

namespace attnsim::topology {

class NvlinkMesh final : public ScaleUpGenerator {
 public:
  explicit NvlinkMesh(const ScaleUpContext& context) : context_(context) {}

  static std::shared_ptr<const ScaleUpGenerator> parse(const Section& section,
                                                       const ScaleUpContext& context);
  void build(NodeTemplate& node) const override;

 private:
  ScaleUpContext context_;
};

}  // namespace attnsim::topology
