// SPDX-License-Identifier: Apache-2.0
// Scale-out kind "fat_tree": a folded Clos of radix-k switches, 1 to 3 tiers, optionally
// rail-optimised, shaped like NVIDIA's DGX SuperPOD compute fabric (hardware.md 1.6).
//
//   3 tiers:            [core] ... [core]            h x c cores, c per group
//                      /  (spine j of every pod -> core group j)   ...
//   pod 0:  [spine 0] ... [spine h-1]        pod 1: ...           h spines per pod
//              |  \  full bipartite  /  |
//            [leaf] ... [leaf]  (h leaves per pod)                 leaves: see below
//            | | |  h NIC ports down, h ports up
//           NICs
//
// Symbols: k = switch_radix (even), h = k/2 ports down and h up (a 1-tier tree uses all k
// ports for NICs), N = nodes per datacenter, K = nics_per_node.
//   1 tier:  one switch; needs N x K <= k.
//   leaves L (2-3 tiers): rail-optimised: K x ceil(N/h) (leaf of rail r in group s takes NIC r
//            of nodes s*h .. s*h+h-1; a group of h nodes is one scalable unit, SU);
//            otherwise ceil(N*K/h), NICs filling leaves in order.
//   2 tiers: S = the smallest divisor of h that is >= ceil(L/2) spines; every leaf is joined to
//            every spine by h/S parallel cables; needs L <= k.
//   3 tiers: pods P = ceil(L/h), each with h spines; every leaf is joined once to each spine of
//            its pod; c = the smallest divisor of h that is >= ceil(P/2) cores per group, h
//            groups (H = h x c cores); spine j of each pod is joined to the c cores of group j
//            by h/c cables each; needs P <= k.
//   cables:  N x K NIC cables; L x h leaf-spine; 3 tiers: P x h x h spine-core.
// Example (SuperPOD, k = 64, K = 8): 512 nodes (4096 GPUs) -> L = 8 x 16 = 128, P = 4,
// spines 128, c = 2, cores 64: the 16-SU row of the SuperPOD table.
// Tiers: "tiers" (1-3), or the smallest that fits. Non-blocking: every switch has as much
// capacity up as down. "oversubscription" r (default 1) divides the capacity of the leaf
// uplinks; an array gives one ratio per tier boundary (leaf-spine, spine-core), compounding
// upwards. Switch counts stay those of the non-blocking tree: uplinks get thinner, not fewer,
// so each switch's down:up capacity ratio is exactly the stated one.
// Rail optimisation is in force only with 2+ tiers and K > 1 (one switch holds every NIC
// otherwise). Diameter (GPU to GPU, NIC-attached GPUs, different leaves): 2 + 2t hops for t
// tiers (e.g. 2 tiers: GPU-NIC-leaf-spine-leaf-NIC-GPU = 6). Bisection of the network,
// non-blocking: (N K / 2) x nic_bandwidth, i.e. G/2 x NIC bandwidth with one NIC per GPU;
// oversubscribed by r: divided by r when the cut crosses the oversubscribed boundary.
// Partial scalable units and pods keep the full-size spine and core groups (some ports idle).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "topology/generator.h"

namespace attnsim::topology {

/// The closed-form shape of one datacenter's fat tree.
struct FatTreeShape {
  std::int64_t tiers = 0;
  std::int64_t radix = 0;
  std::int64_t down = 0;  // NIC (or lower-tier) ports per switch: k, or h = k/2 with 2+ tiers
  bool rail_optimized = false;
  std::int64_t leaves = 0;
  std::int64_t spines = 0;
  std::int64_t cores = 0;
  std::int64_t pods = 0;             // 3 tiers
  std::int64_t cores_per_group = 0;  // 3 tiers: c
  std::int64_t nic_cables = 0;
  std::int64_t leaf_spine_cables = 0;
  std::int64_t spine_core_cables = 0;
};

/// The shape for `nodes` nodes of `nics_per_node` NICs; nullopt when `tiers` cannot hold them.
std::optional<FatTreeShape> fat_tree_shape(std::int64_t nodes, std::int64_t nics_per_node,
                                           std::int64_t radix, std::int64_t tiers,
                                           bool rail_optimized);

class FatTree final : public ScaleOutGenerator {
 public:
  FatTree(const ScaleOutCommon& common, std::int64_t nodes, const FatTreeShape& shape,
          std::vector<double> oversubscription);
  static std::shared_ptr<const ScaleOutGenerator> parse(const Section& section,
                                                        const ScaleOutContext& context);
  void build(DcBuilder& dc) const override;
  std::vector<std::string> tier_names() const override;

  bool rail_optimized() const override { return shape_.rail_optimized; }

  const FatTreeShape& shape() const { return shape_; }

 private:
  std::int64_t nodes_;
  FatTreeShape shape_;
  std::vector<double> oversubscription_;  // one per boundary: tiers - 1 entries
};

}  // namespace attnsim::topology
