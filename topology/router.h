// SPDX-License-Identifier: Apache-2.0
// Routing over a fabric, as the sim::Router the engine calls once per transfer.
//
// Endpoints: GPUs 0..gpus-1, then (scale-up kind nvswitch) one per node, its NVSwitch, at
// gpus + node. Link ids: cable c of the fabric is sim links 2c (a->b, as added) and 2c+1.
//
// Route of a transfer from GPU s (node n_s, local l_s, rail r_s) to GPU d:
//   * same node: the shortest path inside the node template (NVLink, or PCIe), the same for
//     every node, computed once.
//   * different nodes: s -> exit NIC -> its switch -> over the switches -> entry switch
//     -> entry NIC r_d -> d. The exit NIC is r_s, except PXN (NCCL's "PCI x NVLink"): on a
//     rail-optimised fabric with NVLink scale-up, when r_s != r_d, s first moves the data over
//     NVLink to the GPU of its own node on rail r_d and leaves through that GPU's NIC, so the
//     traffic stays on the destination's rail (a same-SU pair then crosses one leaf, and no
//     spine). Multi-datacenter paths cross the gateways like any other switch.
//   * next hops: at each switch, one of the neighbours one hop closer to the entry switch
//     (per-destination BFS distance rows, computed on first use and cached; the cache is
//     thread-safe). Fat trees use d-mod-k, the static destination-based routing of
//     InfiniBand's fat-tree engines (OpenSM ftree): with d = the destination's index among
//     its rail's NICs (its node) on rail-optimised trees, else its NIC number, plus the salt,
//     hop i takes choice (d / c_1 ... c_(i-1)) mod c_i, which spreads destinations evenly
//     over the up links, so an all-to-all loads them evenly. Dragonfly and torus hash (src,
//     dst, salt, hop) instead (ECMP). Parallel cables are chosen the same way. The same
//     (src, dst, salt) always gives the same path.
//   * NVSwitch endpoints: switch -> GPU (local index of the other end, or 0) -> as above.
// Cost: O(path length x switch degree) per call, no allocation once the cache is warm.
// Memory: O(template^2 + NICs + switch cables) plus one row of 2 bytes per switch for each
// destination switch used (at most access switches x switches; 4096 GPUs: 128 x 320 rows).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "sim/network.h"
#include "topology/fabric.h"
#include "topology/switch_graph.h"

namespace attnsim::topology {

class FabricRouter final : public sim::Router {
 public:
  /// Copies what it needs: the router does not refer to `fabric` afterwards.
  explicit FabricRouter(const Fabric& fabric);
  FabricRouter(const FabricRouter&) = delete;
  FabricRouter& operator=(const FabricRouter&) = delete;

  void route(sim::EndpointId src, sim::EndpointId dst, std::uint64_t salt,
             std::vector<sim::LinkId>& path) const override;

  std::uint32_t endpoint_count() const { return endpoints_; }

 private:
  struct Range {
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
  };

  Range add_template_path(const std::vector<NodeTemplate::Hop>& hops);
  void append(Range range, std::uint32_t node, std::vector<sim::LinkId>& path) const;
  void route_gpus(std::uint32_t a, std::uint32_t b, std::uint64_t key, std::uint64_t salt,
                  std::vector<sim::LinkId>& path) const;
  void walk(std::uint32_t from, std::uint32_t to, std::uint64_t key,
            std::vector<sim::LinkId>& path) const;
  const std::uint16_t* row(std::uint32_t target) const;

  std::uint32_t gpus_ = 0;
  std::uint32_t gpus_per_node_ = 0;
  std::uint32_t nics_per_node_ = 0;
  std::uint32_t cables_per_node_ = 0;
  std::uint32_t endpoints_ = 0;
  bool nvswitch_ = false;
  bool pxn_ = false;
  bool dest_mod_k_ = false;  // fat trees: d-mod-k instead of hashed ECMP

  std::vector<std::uint32_t> template_links_;  // 2 x template cable + direction
  std::vector<Range> gpu_gpu_;                 // [l1 x G + l2]
  std::vector<Range> gpu_nic_;                 // [l x K + i]: GPU -> NIC i
  std::vector<Range> nic_gpu_;                 // [l x K + i]: NIC i -> GPU
  std::vector<Range> gpu_nvswitch_;            // [l]
  std::vector<Range> nvswitch_gpu_;            // [l]

  std::vector<sim::LinkId> nic_up_;        // [nic]: NIC -> switch
  std::vector<sim::LinkId> nic_down_;      // [nic]: switch -> NIC
  std::vector<std::uint32_t> nic_switch_;  // [nic]: switch index

  SwitchGraph switches_;
  mutable std::mutex mutex_;  // guards filling rows_
  mutable std::vector<std::unique_ptr<std::uint16_t[]>> owned_rows_;
  std::unique_ptr<std::atomic<const std::uint16_t*>[]> rows_;  // [destination switch]
};

}  // namespace attnsim::topology
