// SPDX-License-Identifier: Apache-2.0
#include "models/collectives/run.h"

#include "models/collectives/decompose.h"
#include "sim/trace.h"

namespace attnsim::models {

Prediction plan_collective(const Layout& layout, Collective c, std::span<const std::uint32_t> ranks,
                           double bytes, const Forced& forced) {
  return choose(layout.nccl, comm_shape(layout, ranks), c, bytes, forced.algo, forced.proto);
}

CollectiveTiming time_collective(const sim::Network& network, const Layout& layout, Collective c,
                                 std::span<const std::uint32_t> ranks, double bytes,
                                 const Forced& forced, sim::NetworkModel model) {
  CollectiveTiming out;
  out.plan = plan_collective(layout, c, ranks, bytes, forced);
  if (!out.plan.available) {
    return out;
  }
  // Measured tables describe NCCL's own choice: a forced algorithm or protocol runs the
  // uncorrected model.
  Layout effective = layout;
  if (forced.algo || forced.proto) {
    effective.corrections = nullptr;
  }
  sim::Trace trace;
  emit_collective(trace, effective, c, ranks, bytes, out.plan, trace.tag(spec(c).name));
  const sim::ReplayResult r = sim::replay(trace, network, model);
  out.time = r.makespan;
  const Corrections::Lookup lookup = correction_for(effective, c, ranks, bytes);
  out.calibrated = lookup.calibrated;
  out.extension = lookup.extension;
  out.events = r.events;
  return out;
}

}  // namespace attnsim::models
