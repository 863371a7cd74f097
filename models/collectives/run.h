// SPDX-License-Identifier: Apache-2.0
// One collective, planned the way NCCL would and timed on a network: what
// `attnsim collective` prints and what strategies call.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "models/collectives/collective.h"
#include "models/collectives/layout.h"
#include "models/collectives/nccl_tuning.h"
#include "sim/network.h"
#include "sim/replay.h"

namespace attnsim::models {

/// Restricts NCCL's choice, like NCCL_ALGO and NCCL_PROTO.
struct Forced {
  std::optional<Algo> algo;
  std::optional<Proto> proto;
};

/// NCCL's choice for `c` of `bytes` over `ranks` among the allowed (algorithm, protocol)
/// pairs; `available` is false when the restriction leaves none.
Prediction plan_collective(const Layout& layout, Collective c, std::span<const std::uint32_t> ranks,
                           double bytes, const Forced& forced = {});

struct CollectiveTiming {
  Prediction plan;          // what ran, with NCCL's own predicted time
  sim::Time time;           // simulated
  bool calibrated = false;  // a measured table corrected this size (correction.h)
  Corrections::Extension extension = Corrections::Extension::kNone;  // outside the table
  std::uint64_t events = 0;
};

/// Plans and simulates `c` alone on `network`.
CollectiveTiming time_collective(const sim::Network& network, const Layout& layout, Collective c,
                                 std::span<const std::uint32_t> ranks, double bytes,
                                 const Forced& forced, sim::NetworkModel model);

}  // namespace attnsim::models
