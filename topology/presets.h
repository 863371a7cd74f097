// SPDX-License-Identifier: Apache-2.0
// Built-in topology presets: topology/presets/<name>.json, compiled into the binary.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/node.h"

namespace attnsim::topology {

/// Sorted preset names (dgx-a100, dgx-h100, gb200-nvl72, h100-superpod, pcie-gtx1080x2, ...).
std::vector<std::string> preset_names();
/// The preset's JSON, named "topology/presets/<name>.json" in messages. Precondition: `name`
/// is one of preset_names() (std::out_of_range otherwise).
config::Node preset_node(std::string_view name);

}  // namespace attnsim::topology
