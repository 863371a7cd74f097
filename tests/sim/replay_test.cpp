// SPDX-License-Identifier: Apache-2.0
// Replay against closed forms. Fabrics are drawn in each test; capacities in GB/s, latencies
// in microseconds.
#include "sim/replay.h"

#include <cstdlib>
#include <map>
#include <vector>

#include <catch2/catch.hpp>

#include "sim/trace.h"
#include "tests/support/tiny_network.h"
#include "tests/support/unbundle.h"

using attnsim::sim::Bandwidth;
using attnsim::sim::Member;
using attnsim::sim::NetworkModel;
using attnsim::sim::OpId;
using attnsim::sim::replay;
using attnsim::sim::Time;
using attnsim::sim::Trace;
using attnsim::sim::TransferOptions;
using attnsim::test::tiny_network;
using attnsim::test::unbundle;

TEST_CASE("one flow takes latency plus bytes over bandwidth", "[unit][analytic]") {
  // 0 -[link 0: 100 GB/s, 2 us]-> 1. 1e6 bytes: 2 us + 1e6 / 100e9 s = 2 + 10 = 12 us.
  const auto net = tiny_network({{100, 2}}, 2, {{{0, 1}, {0}}});
  Trace t;
  const OpId x = t.transfer(0, 1, 1e6, t.tag("comm"));
  for (NetworkModel model : {NetworkModel::kFlow, NetworkModel::kAnalytical}) {
    const auto r = replay(t, net, model);
    REQUIRE(r.ops[x].start == Time());
    REQUIRE(r.ops[x].end == Time::from_us(12));
    REQUIRE(r.links[0].bytes == 1e6);
  }
}

TEST_CASE("k concurrent flows on one link each take k times as long", "[unit][analytic]") {
  // k transfers of B bytes on one C link share it 1/k each and all end at k B / C + latency.
  // C = 10 GB/s, B = 1e6, latency 1 us: k = 4 -> 4e6 / 1e10 s = 400 us, + 1 = 401 us.
  const auto net = tiny_network({{10, 1}}, 2, {{{0, 1}, {0}}});
  Trace t;
  std::vector<OpId> ops;
  for (int i = 0; i < 4; ++i) {
    ops.push_back(t.transfer(0, 1, 1e6, 0));
  }
  const auto r = replay(t, net, NetworkModel::kFlow);
  for (OpId op : ops) {
    REQUIRE(r.ops[op].end == Time::from_us(401));
  }
  // Busy from 0 until the last byte drains at 400 us (latency is not occupancy).
  REQUIRE(r.links[0].busy == Time::from_us(400));
  SECTION("the analytical model ignores the contention") {
    const auto a = replay(t, net, NetworkModel::kAnalytical);
    REQUIRE(a.ops[ops[0]].end == Time::from_us(101));
  }
}

TEST_CASE("a short flow leaves and the long one speeds up", "[unit][analytic]") {
  // One 10 GB/s link, no latency. A: 1e6 B, B: 3e6 B, together. Shared 5 GB/s each until A
  // finishes at 1e6 / 5e9 = 200 us; B has 2e6 left, alone at 10 GB/s: 200 us more -> 400 us.
  // Total bytes 4e6 at 10 GB/s = 400 us: the link never idles, as it should.
  const auto net = tiny_network({{10, 0}}, 2, {{{0, 1}, {0}}});
  Trace t;
  const OpId a = t.transfer(0, 1, 1e6, 0);
  const OpId b = t.transfer(0, 1, 3e6, 0);
  const auto r = replay(t, net, NetworkModel::kFlow);
  REQUIRE(r.ops[a].end == Time::from_us(200));
  REQUIRE(r.ops[b].end == Time::from_us(400));
}

TEST_CASE("multiplicity and max rate shape a transfer", "[unit][analytic]") {
  // 4 members of 1e6 B on a 100 GB/s link, each capped at 10 GB/s: 4 x 10 = 40 < 100, so the
  // cap binds: 1e6 / 1e10 s = 100 us (plus 3 us extra latency).
  const auto net = tiny_network({{100, 0}}, 2, {{{0, 1}, {0}}});
  Trace t;
  TransferOptions o;
  o.multiplicity = 4;
  o.max_rate = Bandwidth::from_GBps(10);
  o.extra_latency = Time::from_us(3);
  const OpId x = t.transfer(0, 1, 1e6, 0, {}, o);
  for (NetworkModel model : {NetworkModel::kFlow, NetworkModel::kAnalytical}) {
    const auto r = replay(t, net, model);
    REQUIRE(r.ops[x].end == Time::from_us(103));
    REQUIRE(r.links[0].bytes == 4e6);
  }
}

TEST_CASE("compute on one stream serialises, transfers overlap it", "[unit]") {
  // GPU 0 stream 0: c1 (10 us) then c2 (5 us). A transfer that depends on c1 (1e6 B at
  // 100 GB/s = 10 us) runs beside c2; c3 on stream 1 depends on the transfer.
  //   c1 [0,10]  c2 [10,15]  x [10,20]  c3 [20,21]
  const auto net = tiny_network({{100, 0}}, 2, {{{0, 1}, {0}}});
  Trace t;
  const OpId c1 = t.compute(0, 0, Time::from_us(10), 0);
  const OpId c2 = t.compute(0, 0, Time::from_us(5), 0);
  const std::vector<OpId> after_c1{c1};
  const OpId x = t.transfer(0, 1, 1e6, 0, after_c1);
  const std::vector<OpId> after_x{x};
  const OpId c3 = t.compute(1, 1, Time::from_us(1), 0, after_x);
  const auto r = replay(t, net, NetworkModel::kFlow);
  REQUIRE(r.ops[c2].start == Time::from_us(10));
  REQUIRE(r.ops[c2].end == Time::from_us(15));
  REQUIRE(r.ops[x].start == Time::from_us(10));
  REQUIRE(r.ops[c3].end == Time::from_us(21));
  REQUIRE(r.makespan == Time::from_us(21));
  REQUIRE(r.critical_path == std::vector<OpId>{c1, x, c3});
}

TEST_CASE("a stream waits for its earlier op even when a later one is ready", "[unit]") {
  // Stream 0 holds a (after a 50 us delay) then b (no deps). In-order streams: b starts only
  // after a ends at 50 + 10 = 60, and the critical path runs delay -> a -> b.
  const auto net = tiny_network({}, 1, {});
  Trace t;
  const OpId d = t.delay(Time::from_us(50), 0);
  const std::vector<OpId> after_d{d};
  const OpId a = t.compute(0, 0, Time::from_us(10), 0, after_d);
  const OpId b = t.compute(0, 0, Time::from_us(1), 0);
  const auto r = replay(t, net, NetworkModel::kFlow);
  REQUIRE(r.ops[b].start == Time::from_us(60));
  REQUIRE(r.critical_path == std::vector<OpId>{d, a, b});
}

TEST_CASE("bytes are conserved and replay is deterministic", "[property]") {
  // A 2-hop line 0 -> 1 -> 2 (links 0, 1) and 1 -> 2 alone (link 1). Every byte a transfer
  // sends crosses each link of its path once.
  const auto net = tiny_network({{50, 1}, {20, 1}}, 3, {{{0, 2}, {0, 1}}, {{1, 2}, {1}}});
  Trace t;
  double through_link1 = 0;
  double through_link0 = 0;
  for (int i = 0; i < 50; ++i) {
    const double bytes = 1e5 * (1 + i % 7);
    const bool long_path = i % 3 != 0;
    t.transfer(long_path ? 0 : 1, 2, bytes, 0);
    through_link1 += bytes;
    through_link0 += long_path ? bytes : 0;
  }
  const auto r1 = replay(t, net, NetworkModel::kFlow);
  const auto r2 = replay(t, net, NetworkModel::kFlow);
  REQUIRE(r1.links[0].bytes == Approx(through_link0));
  REQUIRE(r1.links[1].bytes == Approx(through_link1));
  // Link 1 is the bottleneck: all bytes through 20 GB/s, +2 us of latency for the last.
  REQUIRE(r1.makespan.seconds() == Approx(through_link1 / 20e9 + 2e-6).epsilon(1e-6));
  for (OpId op = 0; op < t.size(); ++op) {
    REQUIRE(r1.ops[op].end == r2.ops[op].end);
  }
  REQUIRE(r1.events == r2.events);
}

TEST_CASE("a bundle ends when its last member arrives", "[unit][analytic]") {
  // 0 -[l0: 10 GB/s, 1 us]-> 1 and 0 -[l1: 10 GB/s, 3 us]-> 2: members 0->1 and 0->2 of 1e6 B
  // each drain alone at 100 us; they arrive at 101 and 103 us, the bundle at 103 us.
  const auto net = tiny_network({{10, 1}, {10, 3}}, 3, {{{0, 1}, {0}}, {{0, 2}, {1}}});
  Trace t;
  const std::vector<Member> members{{0, 1, 0}, {0, 2, 0}};
  const OpId x = t.transfer_bundle(members, 1e6, 0);
  for (NetworkModel model : {NetworkModel::kFlow, NetworkModel::kAnalytical}) {
    const auto r = replay(t, net, model);
    REQUIRE(r.ops[x].end == Time::from_us(103));
    REQUIRE(r.member_ends == std::vector<Time>{Time::from_us(101), Time::from_us(103)});
    REQUIRE(r.links[0].bytes == 1e6);
    REQUIRE(r.links[1].bytes == 1e6);
  }
}

TEST_CASE("bundles time exactly as their members as separate transfers", "[property]") {
  // A star: endpoint e reaches the hub over link e (up) and leaves it over link 4 + e (down),
  // capacities 10..40 GB/s. Bundles of random members, plain transfers and compute in random
  // dependency chains, with shares that sometimes split a bundle mid-way (members on
  // different bottlenecks) and sometimes do not; the unbundled trace is the oracle.
  std::map<std::pair<attnsim::sim::EndpointId, attnsim::sim::EndpointId>,
           std::vector<attnsim::sim::LinkId>>
      routes;
  for (std::uint32_t a = 0; a < 4; ++a) {
    for (std::uint32_t b = 0; b < 4; ++b) {
      if (a != b) {
        routes[{a, b}] = {a, 4 + b};
      }
    }
  }
  const auto net = tiny_network(
      {{10, 1}, {20, 1}, {20, 2}, {40, 1}, {10, 2}, {20, 1}, {30, 1}, {40, 2}}, 4, routes);
  std::uint64_t state = 7;
  const auto below = [&](std::uint64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % n;
  };
  for (int trial = 0; trial < 100; ++trial) {
    Trace t;
    std::vector<OpId> ops;
    for (int i = 0; i < 12; ++i) {
      std::vector<OpId> deps;
      if (!ops.empty() && below(2) == 0) {
        deps.push_back(ops[below(ops.size())]);
      }
      TransferOptions o;
      o.multiplicity = 1.0 + static_cast<double>(below(2));
      if (below(4) == 0) {
        o.max_rate = Bandwidth::from_GBps(3);
      }
      o.extra_latency = Time::from_us(static_cast<double>(below(3)));
      const double bytes = 1e5 * static_cast<double>(1 + below(5));
      const auto src = static_cast<std::uint32_t>(below(4));
      const auto dst = static_cast<std::uint32_t>((src + 1 + below(3)) % 4);
      switch (below(3)) {
        case 0:
          ops.push_back(t.transfer(src, dst, bytes, 0, deps, o));
          break;
        case 1:
          ops.push_back(t.compute(src, 0, Time::from_us(static_cast<double>(below(20))), 0, deps));
          break;
        default: {
          std::vector<Member> members;
          const std::uint64_t n = 2 + below(4);
          for (std::uint64_t m = 0; m < n; ++m) {
            const auto a = static_cast<std::uint32_t>(below(4));
            members.push_back({a, static_cast<std::uint32_t>((a + 1 + below(3)) % 4), m});
          }
          ops.push_back(t.transfer_bundle(members, bytes, 0, deps, o));
          break;
        }
      }
    }
    std::vector<OpId> ends;
    const Trace separate = unbundle(t, ends);
    for (NetworkModel model : {NetworkModel::kFlow, NetworkModel::kAnalytical}) {
      const auto r = replay(t, net, model);
      const auto u = replay(separate, net, model);
      INFO("trial " << trial << " makespan " << r.makespan.ps() << " ps vs " << u.makespan.ps());
      // To the picosecond grid of event times (drain times round to it after each change).
      REQUIRE(std::abs(r.makespan.ps() - u.makespan.ps()) <= 2);
      for (OpId op = 0; op < t.size(); ++op) {
        REQUIRE(std::abs(r.ops[op].end.ps() - u.ops[ends[op]].end.ps()) <= 2);
      }
      for (std::size_t l = 0; l < r.links.size(); ++l) {
        REQUIRE(r.links[l].bytes == Approx(u.links[l].bytes));
        REQUIRE(std::abs(r.links[l].busy.ps() - u.links[l].busy.ps()) <= 2);
      }
    }
  }
}
