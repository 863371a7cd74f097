// SPDX-License-Identifier: Apache-2.0
// Collectives decomposed into transfers, checked against closed forms on a star fabric
// (tests/support/star_network.h): n GPUs, up and down links of C GB/s and l us each.
#include <numeric>
#include <vector>

#include <catch2/catch.hpp>

#include "models/collectives/decompose.h"
#include "models/collectives/run.h"
#include "sim/replay.h"
#include "tests/support/star_network.h"

using namespace attnsim::models;  // NOLINT(google-build-using-namespace): test brevity
using attnsim::sim::NetworkModel;

namespace {

constexpr double kC = 100;  // GB/s per direction
constexpr double kL = 0.5;  // us per link

Layout star_layout(std::uint32_t n, double p2p_GBps = 0) {
  Layout l;
  l.p2p_GBps = p2p_GBps;
  l.gpus = n;
  l.gpus_per_node = n;
  l.nvswitch = true;
  l.nvls = true;
  l.scale_up_GBps = kC;
  l.nvls_GBps = 60;
  l.nccl = nccl_constants(90);
  l.channels = 4;
  return l;
}

std::vector<std::uint32_t> all(std::uint32_t n) {
  std::vector<std::uint32_t> r(n);
  std::iota(r.begin(), r.end(), 0u);
  return r;
}

struct Run {
  CollectiveTiming timing;
  attnsim::sim::ReplayResult replay;
};

Run run(std::uint32_t n, Collective c, double bytes, Forced forced, double p2p_GBps = 0) {
  const auto net = attnsim::test::star_network(n, kC, kL);
  const Layout layout = star_layout(n, p2p_GBps);
  const auto ranks = all(n);
  Run r;
  r.timing = time_collective(net, layout, c, ranks, bytes, forced, NetworkModel::kFlow);
  attnsim::sim::Trace trace;
  emit_collective(trace, layout, c, ranks, bytes, r.timing.plan, 0);
  r.replay = attnsim::sim::replay(trace, net, NetworkModel::kFlow);
  return r;
}

}  // namespace

TEST_CASE("ring all-reduce moves 2(n-1)/n of the buffer per GPU", "[analytic]") {
  // Simple protocol, n = 8, S = 1e9 B. Each GPU's up link carries 2(n-1)/n S = 1.75e9 B at
  // C = 100 GB/s: 17.5 ms, plus NCCL's latency 8.4 + 14 x 3.4 = 56 us and the two link
  // latencies of one hop (1 us).
  const Run r = run(8, Collective::kAllReduce, 1e9, {Algo::kRing, Proto::kSimple});
  for (std::uint32_t i = 0; i < 8; ++i) {
    REQUIRE(r.replay.links[2 * i].bytes == Approx(1.75e9));
    REQUIRE(r.replay.links[2 * i + 1].bytes == Approx(1.75e9));
  }
  REQUIRE(r.timing.time.us() == Approx(17500 + 56 + 1).epsilon(1e-9));
}

TEST_CASE("LL doubles the bytes on the wire and is capped by llMaxBw", "[analytic]") {
  // LL, n = 8, S = 1e6: 1.75e6 payload per GPU, 3.5e6 on the wire. Hopper llMaxBw = 141 GB/s
  // of payload per GPU (282 on the wire) exceeds C = 100, so the link binds: 3.5e6 / 1e11 s
  // = 35 us, plus 15.0 us of NCCL latency and 1 us of links.
  const Run r = run(8, Collective::kAllReduce, 1e6, {Algo::kRing, Proto::kLL});
  REQUIRE(r.replay.links[0].bytes == Approx(3.5e6));
  REQUIRE(r.timing.time.us() == Approx(35 + 15 + 1).epsilon(1e-9));
}

TEST_CASE("ring all-gather and reduce-scatter move (n-1)/n of the buffer", "[analytic]") {
  // S is the total buffer: (n-1)/n S = 0.875e9 per GPU: 8.75 ms, + 8.4 + 7 x 3.4 = 32.2 us
  // of latency, + 1 us of links.
  for (Collective c : {Collective::kAllGather, Collective::kReduceScatter}) {
    const Run r = run(8, c, 1e9, {Algo::kRing, Proto::kSimple});
    REQUIRE(r.replay.links[0].bytes == Approx(0.875e9));
    REQUIRE(r.timing.time.us() == Approx(8750 + 32.2 + 1).epsilon(1e-9));
  }
}

TEST_CASE("NVLS sends the buffer to the switch and back, at the NVLS rate", "[analytic]") {
  // Each GPU: S up and S down, capped at nvls_GBps = 60 < C: 1e9 / 6e10 s = 16.667 ms,
  // + 25 us of NVLS latency + 0.5 us (one link each way, the last transfer's).
  const Run r = run(8, Collective::kAllReduce, 1e9, {Algo::kNvls, {}});
  REQUIRE(r.timing.plan.algo == Algo::kNvls);
  REQUIRE(r.replay.links[0].bytes == Approx(1e9));
  REQUIRE(r.replay.links[1].bytes == Approx(1e9));
  REQUIRE(r.timing.time.us() == Approx(1e9 / 60e3 + 25 + 0.5).epsilon(1e-9));
}

TEST_CASE("all-to-all is bounded by each GPU's link: (n-1)/n S / C", "[analytic]") {
  // Pairwise: every GPU sends S/n to each of the n-1 others over its one up link: (n-1)/n S
  // = 0.875e9 at 100 GB/s = 8.75 ms, + one ring step of latency (8.4 + 3.4 us) + 1 us.
  const Run r = run(8, Collective::kAllToAll, 1e9, {});
  REQUIRE(r.replay.links[0].bytes == Approx(0.875e9));
  REQUIRE(r.timing.time.us() == Approx(8750 + 11.8 + 1).epsilon(1e-9));
}

TEST_CASE("NCCL's point-to-point rate caps what a GPU sends to its peers on the node",
          "[analytic]") {
  // With p2p_GBps = P below the link's C, send_recv (each GPU sends S to the next), all-to-all
  // (each GPU sends (n-1)/n S to n - 1 peers at once) and one ncclSend move their bytes at P
  // instead of C; latencies are unchanged, so the times differ by exactly bytes x (1/P - 1/C).
  // Above the link's rate the cap changes nothing.
  constexpr double kS = 1e9;
  constexpr double kP = 60;  // GB/s
  const auto extra_us = [](double bytes, double p) { return bytes / p * 1e-3 - bytes / kC * 1e-3; };
  for (const auto& [c, moved] :
       {std::pair{Collective::kSendRecv, kS}, std::pair{Collective::kAllToAll, 0.875 * kS}}) {
    const double free = run(8, c, kS, {}).timing.time.us();
    REQUIRE(run(8, c, kS, {}, kP).timing.time.us() == Approx(free + extra_us(moved, kP)));
    REQUIRE(run(8, c, kS, {}, 1.5 * kC).timing.time.us() == Approx(free));
  }

  const auto net = attnsim::test::star_network(8, kC, kL);
  const auto send_us = [&](double p2p) {
    attnsim::sim::Trace trace;
    emit_send(trace, star_layout(8, p2p), 0, 1, kS, 0);
    return attnsim::sim::replay(trace, net, NetworkModel::kFlow).makespan.us();
  };
  REQUIRE(send_us(kP) == Approx(send_us(0) + extra_us(kS, kP)));
}

TEST_CASE("busbw factors are nccl-tests'", "[unit]") {
  REQUIRE(spec(Collective::kAllReduce).busbw_factor(8) == Approx(1.75));
  REQUIRE(spec(Collective::kAllGather).busbw_factor(8) == Approx(0.875));
  REQUIRE(spec(Collective::kReduceScatter).busbw_factor(4) == Approx(0.75));
  REQUIRE(spec(Collective::kAllToAll).busbw_factor(2) == Approx(0.5));
  REQUIRE(spec(Collective::kBroadcast).busbw_factor(8) == 1.0);
  REQUIRE(spec(Collective::kSendRecv).busbw_factor(8) == 1.0);
}

TEST_CASE("broadcast is a chain: every hop carries the whole buffer", "[analytic]") {
  // Root 0 -> 1 -> ... -> 7, pipelined: each of the 7 senders' up links carries S and the
  // last GPU sends nothing. Time: S / C + latency of the chain (8.4 + 7 x 3.4 = 32.2) + 1.
  const Run r = run(8, Collective::kBroadcast, 1e9, {Algo::kRing, Proto::kSimple});
  REQUIRE(r.replay.links[0].bytes == Approx(1e9));
  REQUIRE(r.replay.links[2 * 7].bytes == 0);
  REQUIRE(r.timing.time.us() == Approx(1e4 + 32.2 + 1).epsilon(1e-9));
}

TEST_CASE("analytical and flow models agree exactly where nothing contends", "[analytic]") {
  // A ring on the star puts one transfer on each up and each down link, so no two transfers
  // share a link and the flow model's max-min shares equal the analytical model's alone-on-
  // its-path rates: identical times, to the picosecond. All-to-all does share links, so
  // there the flow model is slower (the analytical one ignores contention by design).
  const auto net = attnsim::test::star_network(8, kC, kL);
  const Layout layout = star_layout(8);
  const auto ranks = all(8);
  for (Collective c : {Collective::kAllReduce, Collective::kAllGather, Collective::kSendRecv}) {
    const Forced ring{Algo::kRing, Proto::kSimple};
    const Forced f = c == Collective::kSendRecv ? Forced{} : ring;
    const auto flow = time_collective(net, layout, c, ranks, 1e8, f, NetworkModel::kFlow);
    const auto closed = time_collective(net, layout, c, ranks, 1e8, f, NetworkModel::kAnalytical);
    REQUIRE(flow.time == closed.time);
  }
  const auto flow =
      time_collective(net, layout, Collective::kAllToAll, ranks, 1e8, {}, NetworkModel::kFlow);
  const auto closed = time_collective(net, layout, Collective::kAllToAll, ranks, 1e8, {},
                                      NetworkModel::kAnalytical);
  REQUIRE(flow.time > closed.time);
}
