// SPDX-License-Identifier: Apache-2.0
#include "models/collectives/run.h"

#include "models/collectives/decompose.h"
#include "sim/trace.h"

namespace attnsim::models {

Prediction plan_collective(const Layout& layout, Collective c, std::span<const std::uint32_t> ranks,
                           double bytes, const Forced& forced) {
  const CommShape shape = comm_shape(layout, ranks);
  if (!forced.algo && !forced.proto) {
    return choose(layout.nccl, shape, c, bytes);
  }
  if (c == Collective::kAllToAll || c == Collective::kSendRecv) {
    Prediction p = choose(layout.nccl, shape, c, bytes);
    const bool ok =
        (!forced.algo || *forced.algo == p.algo) && (!forced.proto || *forced.proto == p.proto);
    p.available = p.available && ok;
    return p;
  }
  Prediction best;
  for (Algo a : {Algo::kRing, Algo::kTree, Algo::kNvls, Algo::kNvlsTree}) {
    for (Proto p : {Proto::kLL, Proto::kLL128, Proto::kSimple}) {
      if ((forced.algo && *forced.algo != a) || (forced.proto && *forced.proto != p)) {
        continue;
      }
      const Prediction candidate = predict(layout.nccl, shape, c, a, p, bytes);
      if (candidate.available && (!best.available || candidate.time_us < best.time_us)) {
        best = candidate;
      }
    }
  }
  return best;
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
  out.calibrated = correction_for(effective, c, ranks, bytes).calibrated;
  out.events = r.events;
  return out;
}

}  // namespace attnsim::models
