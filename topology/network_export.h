// SPDX-License-Identifier: Apache-2.0
// Export of a fabric to the engine's plain sim::Network: directed links, endpoints, a router.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/network.h"
#include "topology/fabric.h"

namespace attnsim::topology {

/// The link class names, in class-index order: "nvlink", "pcie", "nic", "net", "dc"
/// (meanings in topology/types.h).
std::vector<std::string> link_class_names();

/// Builds the engine's view of `fabric`.
///
/// Inputs:  `efficiency_by_class` scales each class's capacity (default 1 for classes not
///          named), e.g. {"nvlink": 0.8} from a hardware profile.
/// Output:  every cable c becomes sim links 2c (a->b, as added) and 2c+1 (b->a), capacity
///          bandwidth x efficiency, the cable's latency, class index = LinkClass value.
///          Endpoints: GPUs 0..gpus-1; with scale-up kind nvswitch also one per node, its
///          NVSwitch, at gpus + node (nvswitch_endpoint()). Router: FabricRouter (router.h).
/// Errors:  a class name outside link_class_names(), or an efficiency not in (0, 1e3], is a
///          caller's bug (std::invalid_argument): profiles validate their own keys.
sim::Network to_network(const Fabric& fabric,
                        const std::map<std::string, double>& efficiency_by_class = {});

/// The endpoint of node `node`'s NVSwitch (gpus + node). std::logic_error when the fabric's
/// nodes have no single NVSwitch.
sim::EndpointId nvswitch_endpoint(const Fabric& fabric, std::uint32_t node);

}  // namespace attnsim::topology
