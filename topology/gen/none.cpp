// SPDX-License-Identifier: Apache-2.0
#include "topology/gen/none.h"

namespace attnsim::topology {

std::shared_ptr<const ScaleOutGenerator> NoScaleOut::parse(const Section& /*section*/,
                                                           const ScaleOutContext& context) {
  if (context.nodes != 1) {
    context.fail_size("1 node (scale_out kind \"none\" has no network)");
  }
  return std::make_shared<const NoScaleOut>();
}

void NoScaleOut::build(DcBuilder& dc) const {
  dc.set_border({});
}

}  // namespace attnsim::topology
