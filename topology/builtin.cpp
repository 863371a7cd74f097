// SPDX-License-Identifier: Apache-2.0
// The one list of topology generators attnsim knows, one line per kind, alphabetical.
#include "topology/builtin.h"

#include "topology/gen/dragonfly.h"
#include "topology/gen/fat_tree.h"
#include "topology/gen/none.h"
#include "topology/gen/nvlink_mesh.h"
#include "topology/gen/nvswitch.h"
#include "topology/gen/pcie.h"
#include "topology/gen/torus.h"

namespace attnsim::topology {

namespace {

template <class Kind, class Parse>
typename config::Registry<Kind>::Factory kind(Parse parse) {
  return [parse](const config::Node&) { return std::make_unique<Kind>(Kind{parse}); };
}

}  // namespace

const config::Registry<ScaleUpKind>& scale_up_kinds() {
  static const config::Registry<ScaleUpKind> registry = [] {
    config::Registry<ScaleUpKind> r("scale-up kind");
    r.add("nvlink_mesh", "GPUs joined pairwise by NVLink", kind<ScaleUpKind>(&NvlinkMesh::parse));
    r.add("nvswitch", "GPUs on one NVSwitch domain", kind<ScaleUpKind>(&NvSwitch::parse));
    r.add("pcie", "GPUs on PCIe switches or the CPU root complex", kind<ScaleUpKind>(&Pcie::parse));
    return r;
  }();
  return registry;
}

const config::Registry<ScaleOutKind>& scale_out_kinds() {
  static const config::Registry<ScaleOutKind> registry = [] {
    config::Registry<ScaleOutKind> r("scale-out kind");
    r.add("dragonfly", "groups of routers, all groups directly joined",
          kind<ScaleOutKind>(&Dragonfly::parse));
    r.add("fat_tree", "1-3 tier folded Clos, optionally rail-optimised",
          kind<ScaleOutKind>(&FatTree::parse));
    r.add("none", "a single node, no network", kind<ScaleOutKind>(&NoScaleOut::parse));
    r.add("torus", "routers on a k-ary n-cube", kind<ScaleOutKind>(&Torus::parse));
    return r;
  }();
  return registry;
}

}  // namespace attnsim::topology
