// SPDX-License-Identifier: Apache-2.0
// NCCL's latency model against the worked predictions in hardware.md section 3.3 (computed
// there by hand from tuning.cc's constants: NVLink intra, IB inter, Intel host).
#include "models/collectives/nccl_tuning.h"

#include <catch2/catch.hpp>

using namespace attnsim::models;  // NOLINT(google-build-using-namespace): test brevity

namespace {

CommShape hopper(int ranks, int nodes) {
  CommShape s;
  s.ranks = ranks;
  s.nodes = nodes;
  s.intra = HwClass::kNvlink;
  s.nvls = true;
  s.bw_intra_GBps = 370.8;  // 20.6 x 18 (topo.h)
  s.bw_inter_GBps = 8 * 50.0;
  s.channels = 16;
  return s;
}

double latency(int ranks, int nodes, Algo a, Proto p) {
  // 8 bytes: below the 64-bytes-per-channel-rank threshold of the 1.4x plateau factor.
  return predict(nccl_constants(90), hopper(ranks, nodes), Collective::kAllReduce, a, p, 8)
      .latency_us;
}

}  // namespace

TEST_CASE("ring latencies match hardware.md's worked table", "[unit][analytic]") {
  // hardware.md 3.3, rows n (N): ring LL / LL128 / Simple.
  REQUIRE(latency(8, 1, Algo::kRing, Proto::kLL) == Approx(15.0));
  REQUIRE(latency(8, 1, Algo::kRing, Proto::kLL128) == Approx(40.6));
  REQUIRE(latency(8, 1, Algo::kRing, Proto::kSimple) == Approx(56.0));
  REQUIRE(latency(16, 2, Algo::kRing, Proto::kLL) == Approx(40.0));
  REQUIRE(latency(16, 2, Algo::kRing, Proto::kLL128) == Approx(75.2));
  REQUIRE(latency(16, 2, Algo::kRing, Proto::kSimple) == Approx(131.6));
  REQUIRE(latency(512, 64, Algo::kRing, Proto::kLL) == Approx(1242.8));
  REQUIRE(latency(4096, 512, Algo::kRing, Proto::kSimple) == Approx(38688).epsilon(1e-4));
}

TEST_CASE("tree and NVLSTree latencies match hardware.md's worked table", "[unit][analytic]") {
  REQUIRE(latency(16, 2, Algo::kTree, Proto::kLL) == Approx(25.2));
  REQUIRE(latency(64, 8, Algo::kTree, Proto::kLL128) == Approx(82.5));
  REQUIRE(latency(4096, 512, Algo::kTree, Proto::kSimple) == Approx(316.4));
  REQUIRE(latency(16, 2, Algo::kNvlsTree, Proto::kSimple) == Approx(66.8));
  REQUIRE(latency(4096, 512, Algo::kNvlsTree, Proto::kSimple) == Approx(401.2));
  REQUIRE(latency(8, 1, Algo::kNvls, Proto::kSimple) == Approx(25.0));
}

TEST_CASE("NCCL's choice: LL for small messages, NVLS for large on 8 H100", "[unit]") {
  const NcclConstants k = nccl_constants(90);
  const CommShape s = hopper(8, 1);
  const Prediction small = choose(k, s, Collective::kAllReduce, 8);
  REQUIRE(small.algo == Algo::kRing);
  REQUIRE(small.proto == Proto::kLL);
  const Prediction large = choose(k, s, Collective::kAllReduce, 8.0 * (1 << 30));
  REQUIRE(large.algo == Algo::kNvls);
  SECTION("NVLS is not chosen on 4 GPUs (hardware.md T3)") {
    REQUIRE(choose(k, hopper(4, 1), Collective::kAllReduce, 8.0 * (1 << 30)).algo == Algo::kRing);
  }
}
