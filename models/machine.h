// SPDX-License-Identifier: Apache-2.0
// A machine ready to simulate: the fabric built from a topology, the engine's network with
// the profile's link efficiencies applied, and the collective model's view of both.
//
// Link capacities in the network are raw figures x the profile's efficiency for the link
// class: NVLink from comm.links.scale_up; every InfiniBand or Ethernet link (NIC,
// switch-to-switch, datacenter) and the GPU-to-NIC PCIe path from comm.links.nic; PCIe
// between GPUs (a PCIe machine's scale-up) from comm.links.scale_up. The raw figures come from the
// topology (so a scenario can change them); the efficiencies from measurement.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "calibrate/profile.h"
#include "models/collectives/layout.h"
#include "sim/network.h"
#include "topology/fabric.h"
#include "topology/spec.h"

namespace attnsim::models {

struct Machine {
  topology::Fabric fabric;
  sim::Network network;
  Layout layout;
};

/// Builds the machine of `spec` calibrated by `profile`; with `calibrate_collectives`, the
/// profile's single-node measured tables correct the collective model (correction.h).
Machine build_machine(const topology::TopologySpec& spec, const calibrate::Profile& profile,
                      bool calibrate_collectives = true);

/// A measured table: (size bytes, time us) by increasing size.
using MeasuredTable = std::vector<std::pair<double, double>>;

/// The profile's single-node tables of NCCL's own choice (algo and proto "default", two ranks
/// or more) among the rows `keep` accepts, by (collective, ranks): rows of one size averaged
/// (several sources may give one size), then without_outliers() (correction.h).
std::map<std::pair<Collective, int>, MeasuredTable> measured_tables(
    const calibrate::Profile& profile,
    const std::function<bool(const calibrate::CommMeasurement&)>& keep);

/// The corrections the profile's single-node tables imply (correction.h), fitted on a
/// reference node made of the profile's own link figures, so that a topology which changes
/// those figures is not corrected back to the measurement. `leave_out_bytes` drops the rows
/// of one size (leave-one-out validation).
std::shared_ptr<const Corrections> fit_corrections(const calibrate::Profile& profile,
                                                   std::optional<double> leave_out_bytes);

}  // namespace attnsim::models
