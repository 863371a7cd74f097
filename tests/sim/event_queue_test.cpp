// SPDX-License-Identifier: Apache-2.0
// The event queue and the trace's op storage against plain references: a stable sort of
// everything scheduled, and ops read back as they were pushed across chunk boundaries.
#include "sim/event_queue.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "sim/trace.h"

using attnsim::sim::EventQueue;
using attnsim::sim::OpId;
using attnsim::sim::OpKind;
using attnsim::sim::Time;
using attnsim::sim::Trace;

TEST_CASE("events pop in time order, ties in the order they were scheduled", "[unit]") {
  // Interleaved schedules and pops, as a replay does: every new event is at or after the last
  // popped time. Times come from a small range so that ties are common.
  std::mt19937_64 rng(7);
  EventQueue<std::uint32_t> queue;

  struct Scheduled {
    std::int64_t at;
    std::uint32_t id;
  };

  std::vector<Scheduled> pending;  // the reference: scheduled, not yet popped, in order
  std::int64_t now = 0;
  std::uint32_t next = 0;
  std::size_t popped = 0;
  for (int round = 0; round < 2000; ++round) {
    const int adds = static_cast<int>(rng() % 9);
    for (int i = 0; i < adds; ++i) {
      const std::int64_t at = now + static_cast<std::int64_t>(rng() % 5);
      queue.schedule(Time::from_ps(at), next);
      pending.push_back({at, next++});
    }
    const int pops = static_cast<int>(rng() % 8);
    for (int i = 0; i < pops && !queue.empty(); ++i) {
      // The earliest pending event; among equal times, the first scheduled (stable min).
      const auto expected =
          std::min_element(pending.begin(), pending.end(),
                           [](const Scheduled& a, const Scheduled& b) { return a.at < b.at; });
      REQUIRE(queue.next_time() == Time::from_ps(expected->at));
      const auto event = queue.pop();
      REQUIRE(event.payload == expected->id);
      REQUIRE(event.key.at == Time::from_ps(expected->at));
      now = expected->at;
      pending.erase(expected);
      ++popped;
    }
  }
  while (!queue.empty()) {
    const auto expected =
        std::min_element(pending.begin(), pending.end(),
                         [](const Scheduled& a, const Scheduled& b) { return a.at < b.at; });
    REQUIRE(queue.pop().payload == expected->id);
    pending.erase(expected);
    ++popped;
  }
  REQUIRE(pending.empty());
  REQUIRE(queue.processed() == popped);
  REQUIRE(popped == next);
}

TEST_CASE("trace ops read back as pushed across storage chunks", "[unit]") {
  // 100,000 ops span four 32,768-op chunks; each depends on the op 40,000 before it (another
  // chunk) and on its predecessor.
  Trace t;
  const auto tag = t.tag("x");
  constexpr OpId kOps = 100000;
  for (OpId i = 0; i < kOps; ++i) {
    std::vector<OpId> deps;
    if (i >= 40000) {
      deps.push_back(i - 40000);
    }
    if (i > 0) {
      deps.push_back(i - 1);
    }
    if (i % 3 == 0) {
      t.compute(i % 7, i % 2, Time::from_ps(i), tag, deps);
    } else {
      t.transfer(i % 5, i % 11, static_cast<double>(i), tag, deps);
    }
  }
  REQUIRE(t.size() == kOps);
  for (OpId i = 0; i < kOps; ++i) {
    const Trace::Op& o = t.op(i);
    if (i % 3 == 0) {
      REQUIRE(o.kind == OpKind::kCompute);
      REQUIRE(o.a == i % 7);
      REQUIRE(o.b == i % 2);
      REQUIRE(o.duration == Time::from_ps(i));
    } else {
      REQUIRE(o.kind == OpKind::kTransfer);
      REQUIRE(o.a == i % 5);
      REQUIRE(o.b == i % 11);
      REQUIRE(o.bytes == static_cast<double>(i));
    }
    const auto deps = t.deps(i);
    REQUIRE(deps.size() == (i >= 40000 ? 2u : i > 0 ? 1u : 0u));
    if (i >= 40000) {
      REQUIRE(deps[0] == i - 40000);
    }
    if (i > 0) {
      REQUIRE(deps.back() == i - 1);
    }
  }
}
