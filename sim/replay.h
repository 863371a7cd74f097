// SPDX-License-Identifier: Apache-2.0
// Replay: times a Trace on a Network.
//
// Two network models behind one interface:
//   kFlow        transfers are flows sharing link bandwidth max-min fairly (FlowNetwork);
//                a transfer ends  path latency + extra latency  after its last byte drains.
//   kAnalytical  closed-form alpha-beta per transfer with no contention between transfers:
//                  end = start + path latency + extra latency + bytes / r,
//                  r = min(min over path links of C_l / multiplicity, max_rate)
//                which is exactly what kFlow gives a transfer that is alone on its path.
//
// A bundle (trace.h) ends when its last member arrives: kFlow runs it as one FlowNetwork bundle
// while max-min fairness gives its members one rate, and as separate flows from the moment it
// does not (flow_network.h); kAnalytical times each member as above.
//
// Compute ops occupy their (gpu, stream) one at a time in trace order; delays occupy nothing.
// The result holds every op's start and end, each link's bytes and busy time, and the
// critical path: from the last op to finish, back through the op whose end released it.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/network.h"
#include "sim/time.h"
#include "sim/trace.h"

namespace attnsim::sim {

enum class NetworkModel { kFlow, kAnalytical };

struct OpTiming {
  Time start;
  Time end;
};

struct LinkUsage {
  double bytes = 0;  // bytes that crossed the link
  /// kFlow: time with at least one flow on the link. kAnalytical: bytes / capacity, the time
  /// the link would be busy at full rate (no contention means no shared intervals to track).
  Time busy;
};

struct ReplayResult {
  std::vector<OpTiming> ops;
  /// When each bundle member arrived: member i of op `id` at [trace.op(id).members_begin() + i].
  std::vector<Time> member_ends;
  std::vector<LinkUsage> links;
  std::vector<OpId> critical_path;  // first op to last
  Time makespan;
  std::uint64_t events = 0;
};

/// Times `trace` on `network`. Every endpoint in the trace must exist in the network.
ReplayResult replay(const Trace& trace, const Network& network, NetworkModel model);

}  // namespace attnsim::sim
