// SPDX-License-Identifier: Apache-2.0
// Turning TOPO and --hardware arguments into a topology and a hardware profile.
#pragma once

#include <string>

#include "calibrate/profile.h"
#include "topology/spec.h"

namespace attnsim::cli {

struct MachineArgs {
  topology::TopologySpec topology;
  calibrate::Profile profile;
  std::string hardware_name;  // as given, or as chosen by default
};

/// TOPO is a topology file, a scenario file or a preset. A preset that scales is sized to
/// `gpus` when it is smaller. The profile is `hardware` (a built-in name or a file) if given,
/// else the scenario's "hardware", else the preset's usual hardware (dgx-h100 and
/// h100-superpod: h100-sxm; dgx-a100: a100-sxm; gb200-nvl72: gb200; pcie-gtx1080x2: gtx1080).
MachineArgs resolve_machine(const std::string& topology_arg, const std::string& hardware,
                            long long gpus);

}  // namespace attnsim::cli
