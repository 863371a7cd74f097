// SPDX-License-Identifier: Apache-2.0
// The oracle for transfer bundles: the same trace with every bundle written out as separate
// transfers, one per member, joined by a zero delay (what a bundle stands for, sim/trace.h).
#pragma once

#include <vector>

#include "sim/trace.h"

namespace attnsim::test {

/// `trace` with each bundle replaced by its members and a join. `ends[id]` is the op of the
/// result that ends when op `id` of `trace` does (the join for a bundle).
inline sim::Trace unbundle(const sim::Trace& trace, std::vector<sim::OpId>& ends) {
  sim::Trace out;
  for (const std::string& name : trace.tag_names()) {
    out.tag(name);
  }
  ends.assign(trace.size(), 0);
  std::vector<sim::OpId> deps;
  for (sim::OpId id = 0; id < trace.size(); ++id) {
    const sim::Trace::Op& op = trace.op(id);
    deps.clear();
    for (sim::OpId d : trace.deps(id)) {
      deps.push_back(ends[d]);
    }
    switch (op.kind) {
      case sim::OpKind::kCompute:
        ends[id] = out.compute(op.a, op.b, op.duration, op.tag, deps);
        break;
      case sim::OpKind::kDelay:
        ends[id] = out.delay(op.duration, op.tag, deps);
        break;
      case sim::OpKind::kTransfer: {
        sim::TransferOptions o;
        o.multiplicity = op.multiplicity;
        o.max_rate = sim::Bandwidth::from_bytes_per_s(op.max_rate);
        o.extra_latency = op.duration;
        std::vector<sim::OpId> parts;
        trace.for_each_flow(id, [&](std::uint32_t src, std::uint32_t dst, std::uint64_t salt) {
          o.salt = salt;
          parts.push_back(out.transfer(src, dst, op.bytes, op.tag, deps, o));
        });
        ends[id] = op.members_size == 0 ? parts.front() : out.delay(sim::Time(), op.tag, parts);
        break;
      }
    }
  }
  return out;
}

}  // namespace attnsim::test
