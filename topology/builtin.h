// SPDX-License-Identifier: Apache-2.0
// The registries of scale-up and scale-out kinds (STYLE C3), keyed by "kind".
#pragma once

#include "config/registry.h"
#include "topology/generator.h"

namespace attnsim::topology {

/// Kinds of topology.scale_up.kind: nvlink_mesh, nvswitch, pcie.
const config::Registry<ScaleUpKind>& scale_up_kinds();
/// Kinds of topology.scale_out.kind: dragonfly, fat_tree, none, torus.
const config::Registry<ScaleOutKind>& scale_out_kinds();

}  // namespace attnsim::topology
