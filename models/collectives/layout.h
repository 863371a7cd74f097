// SPDX-License-Identifier: Apache-2.0
// What the collective model needs to know of the machine and its calibration: GPU placement
// (GPU g = node x gpus_per_node + local; NIC rail = local mod nics_per_node), whether an
// NVSwitch with in-switch reduction (NVLS) is present, the usable bandwidths NCCL's model
// reasons with, and NCCL's constants for the GPU generation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "models/collectives/correction.h"
#include "models/collectives/nccl_tuning.h"
#include "sim/network.h"

namespace attnsim::models {

struct Layout {
  std::uint32_t gpus = 0;
  std::uint32_t gpus_per_node = 1;
  std::uint32_t nics_per_node = 0;
  bool nvswitch = false;  // endpoint gpus + node is node's NVSwitch
  bool nvls = false;      // the switch reduces in place (NVSwitch gen3+ and a capable GPU)
  HwClass intra = HwClass::kNvlink;
  double scale_up_GBps = 0;  // usable per GPU per direction (raw x efficiency)
  double nic_GBps = 0;       // usable per NIC per direction
  double nvls_GBps = 0;      // per-GPU rate NVLS reaches (profile's nvls_efficiency x raw)
  // Per-GPU rate of NCCL's point-to-point path over the scale-up (raw x the profile's
  // p2p_efficiency): what one GPU's sends to its peers on the node reach together; 0 = no
  // limit beyond the links'.
  double p2p_GBps = 0;

  /// The cap on one of a GPU's `peers` concurrent point-to-point streams inside its node:
  /// an equal share of p2p_GBps, or infinity where no p2p rate is set.
  double p2p_share_GBps(std::size_t peers) const;
  NcclConstants nccl;
  int channels = 2;
  std::shared_ptr<const Corrections> corrections;  // null: the model runs uncorrected

  std::uint32_t node_of(std::uint32_t gpu) const { return gpu / gpus_per_node; }

  std::uint32_t local_of(std::uint32_t gpu) const { return gpu % gpus_per_node; }

  std::uint32_t rail_of(std::uint32_t gpu) const {
    return nics_per_node == 0 ? 0 : local_of(gpu) % nics_per_node;
  }

  sim::EndpointId switch_of(std::uint32_t node) const { return gpus + node; }
};

/// NCCL's channel count for a communicator whose usable per-GPU bandwidth is `bw_GBps`: the
/// graph search caps a channel at the top of its speed list (40 GB/s before Hopper, 60 on
/// Hopper, 90 on Blackwell; NVIDIA/nccl:src/graph/search.cc, hardware.md 3.2) and then
/// duplicates the channels: 2 x ceil(bw / top speed).
int nccl_channels(double bw_GBps, int generation);

/// The channels an NCCL communicator on one node sets up (its buffers: memory.h): the search
/// keeps channels at the top speed while they fit the bandwidth, floor(bw / top) (6 on H100:
/// 6 x 60 <= 370.8 GB/s), duplicates them (search.cc) and duplicates them again when it
/// connects the rings (connect.cc): 24 on 8 H100, as NCCL's log reports; at most 32.
int nccl_connected_channels(double bw_GBps, int generation);

}  // namespace attnsim::models
