// SPDX-License-Identifier: Apache-2.0
// The entry point for a TOPO argument (SPEC section 2): a topology JSON file, a scenario file
// (its "topology" member), or a built-in preset name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "topology/presets.h"  // preset_names()
#include "topology/spec.h"

namespace attnsim::topology {

/// Reads TOPO. A path to an existing file wins over a preset of the same name; a file whose
/// root has a "topology" member is a scenario (the rest of it is ignored here).
/// `gpus` sets the size (nodes = gpus / gpus_per_node), as a sweep's "gpus" does.
/// Errors: config::InputError; an argument that is neither a file nor a preset lists the
/// presets with a suggestion:
///   dgx-h10: expected a topology file, a scenario file or a preset (one of dgx-a100, ...);
///   got "dgx-h10" (did you mean "dgx-h100"?)
TopologySpec load_topology_arg(const std::string& arg, std::optional<std::int64_t> gpus);

}  // namespace attnsim::topology
