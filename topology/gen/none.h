// SPDX-License-Identifier: Apache-2.0
// Scale-out kind "none": a single node and no network (e.g. two GPUs in one workstation).
//
//   [node: GPUs + scale-up]      no NICs, no switches, no cables outside the node
//
// Needs exactly one node. No keys besides "kind".
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "topology/generator.h"

namespace attnsim::topology {

class NoScaleOut final : public ScaleOutGenerator {
 public:
  NoScaleOut() : ScaleOutGenerator(ScaleOutCommon{}) {}

  static std::shared_ptr<const ScaleOutGenerator> parse(const Section& section,
                                                        const ScaleOutContext& context);
  void build(DcBuilder& dc) const override;

  std::vector<std::string> tier_names() const override { return {}; }
};

}  // namespace attnsim::topology
