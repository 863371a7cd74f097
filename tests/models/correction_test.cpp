// SPDX-License-Identifier: Apache-2.0
// Measured-table corrections (models/collectives/correction.h).
#include "models/collectives/correction.h"

#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "calibrate/profile.h"
#include "models/collectives/run.h"
#include "models/machine.h"
#include "models/strategies/common.h"
#include "topology/load.h"

using namespace attnsim;  // NOLINT(google-build-using-namespace): test brevity

TEST_CASE("glitches slower than a larger size are dropped, real steps are kept", "[unit]") {
  // hardware.md T1's first sizes: 32 B took 68.14 us, more than 64 B's 14.92 (a glitch);
  // hardware.md T4's step from 8 MiB (133.5 us) to 16 MiB (276.6 us) is real: kept.
  const std::vector<std::pair<double, double>> t1 = {
      {8, 13.67}, {16, 13.00}, {32, 68.14}, {64, 14.92}, {128, 15.87}};
  const auto kept = models::without_outliers(t1);
  REQUIRE(kept.size() == 4);
  REQUIRE(kept[2].first == 64);
  const std::vector<std::pair<double, double>> t4 = {
      {4194304, 101.5}, {8388608, 133.5}, {16777216, 276.6}, {33554432, 424.0}};
  REQUIRE(models::without_outliers(t4).size() == 4);
}

TEST_CASE("interpolation is linear in log size and log time", "[unit]") {
  // Between (1, 10) and (4, 40): t grows as S^1, so S = 2 gives 20 exactly.
  const std::vector<std::pair<double, double>> t = {{1, 10}, {4, 40}};
  REQUIRE(models::interpolate_loglog(t, 2) == Approx(20));
  REQUIRE(models::interpolate_loglog(t, 4) == 40);
}

TEST_CASE("a calibrated collective alone reproduces the measured table", "[analytic]") {
  // Corrections promise: alone on the profile's node, a corrected collective takes the
  // interpolated measurement. dgx-h100 is that node for h100-sxm. T1 (hardware.md):
  // 64 MiB 324.7 us, 128 MiB 586.4 us (averaged with nccl-tests#290's rows at 128 MiB where
  // the profile holds several). Between them, log-log interpolation; beyond 16 GiB, none.
  const auto profile = calibrate::builtin_profile("h100-sxm");
  const auto machine =
      models::build_machine(topology::load_topology_arg("dgx-h100", std::nullopt), profile);
  std::vector<std::uint32_t> ranks(8);
  std::iota(ranks.begin(), ranks.end(), 0u);
  const auto time = [&](double bytes) {
    return models::time_collective(machine.network, machine.layout, models::Collective::kAllReduce,
                                   ranks, bytes, {}, sim::NetworkModel::kFlow);
  };
  const double s64 = 64.0 * (1 << 20);
  const auto at64 = time(s64);
  REQUIRE(at64.calibrated);
  // The cables' own latency (about 1 us) is not scaled by the correction: within 0.5 %.
  REQUIRE(at64.time.us() == Approx(324.7).epsilon(0.005));
  const auto at96 = time(1.5 * s64);
  const auto at128 = time(2 * s64);
  const double x = std::log(1.5) / std::log(2.0);
  const double expected = std::exp(std::log(at64.time.us()) +
                                   x * (std::log(at128.time.us()) - std::log(at64.time.us())));
  REQUIRE(at96.time.us() == Approx(expected).epsilon(0.005));
  // Beyond 16 GiB the model plus the offset measured there: continuous at the edge, and at
  // twice the last size (bandwidth-bound, T1's busbw 480 GB/s over 8 GiB - 16 GiB) within 1 %
  // of twice its time.
  const double s16g = 16.0 * (1ull << 30);
  REQUIRE_FALSE(time(2 * s16g).calibrated);
  REQUIRE(time(1.001 * s16g).time.us() == Approx(time(s16g).time.us()).epsilon(0.002));
  REQUIRE(time(2 * s16g).time.us() == Approx(2 * time(s16g).time.us()).epsilon(0.01));
}

TEST_CASE("past a table the model carries the measured offset; below it the protocol's fit",
          "[unit]") {
  // A synthetic node: NCCL runs LL up to 64 KiB and Simple above it (Tree past 1 TB), and the
  // measurements are exactly t = 5 us + S / (2 GB/s) with LL and t = 20 us + S / (80 GB/s)
  // with Simple. The model is another alpha-beta (2 us + S / (100 GB/s)), so a factor is
  // needed. correction.h: above the table (1 KiB - 1 GiB) the corrected time (factor x model)
  // is the model plus the offset measured at 1 GiB, whatever NCCL runs there; below it, the
  // LL sizes' fit scaled through 1 KiB, which is the LL line itself (its points lie on it).
  using models::Algo;
  using models::Proto;
  using Extension = models::Corrections::Extension;
  const auto model_us = [](models::Collective, int, double s) { return 2 + s / 100e3; };
  const auto choice = [](models::Collective, int, double s) {
    return std::make_pair(s > 1e12 ? Algo::kTree : Algo::kRing,
                          s <= 65536 ? Proto::kLL : Proto::kSimple);
  };
  const auto measured = [](double s) { return s <= 65536 ? 5 + s / 2e3 : 20 + s / 80e3; };
  std::vector<std::pair<double, double>> table;
  for (double s = 1024; s <= 1 << 30; s *= 2) {
    table.emplace_back(s, measured(s));
  }
  models::Corrections c(model_us, choice);
  c.add(models::Collective::kAllReduce, 8, table);
  const auto corrected = [&](double s) {
    const auto l = c.at(models::Collective::kAllReduce, 8, 1, s);
    return std::make_pair(l, l.factor * model_us(models::Collective::kAllReduce, 8, s));
  };
  const double last = 1 << 30;
  const double offset = measured(last) - model_us(models::Collective::kAllReduce, 8, last);
  for (const double s : {2.0 * (1 << 30), 64.0 * (1 << 30), 2e12}) {
    const auto [lookup, us] = corrected(s);
    REQUIRE_FALSE(lookup.calibrated);
    REQUIRE(lookup.extension == Extension::kOffset);
    REQUIRE(us == Approx(model_us(models::Collective::kAllReduce, 8, s) + offset).epsilon(1e-12));
  }
  // Continuous at the last size.
  REQUIRE(corrected(last * 1.000001).second == Approx(measured(last)).epsilon(1e-5));
  for (const double s : {8.0, 512.0}) {
    const auto [lookup, us] = corrected(s);
    REQUIRE(lookup.extension == Extension::kFit);
    REQUIRE(lookup.proto == Proto::kLL);
    REQUIRE(us == Approx(measured(s)).epsilon(1e-9));
  }
  // Inside: the interpolated measurement, as before.
  REQUIRE(corrected(3 << 20).first.calibrated);
  // Across nodes, or for a GPU count never measured: the model alone.
  REQUIRE(c.at(models::Collective::kAllReduce, 8, 2, 2e9).extension == Extension::kNone);
  REQUIRE(c.at(models::Collective::kAllReduce, 4, 1, 2e9).extension == Extension::kNone);
  REQUIRE(c.at(models::Collective::kAllReduce, 4, 1, 2e9).factor == 1);
}

TEST_CASE("a collective no measured table covers is listed with what priced it", "[unit]") {
  // h100-sxm's one single-node table of NCCL's own choice is all_reduce on 8 GPUs, 8 B -
  // 16 GiB (T1; its other single-node rows force an algorithm). An all_reduce inside it is
  // corrected and not listed; a size beyond it (the model plus the offset measured at
  // 16 GiB, correction.h), a collective without a table and a group across nodes (multi-node
  // rows never correct) are, with what priced them.
  const auto profile = calibrate::builtin_profile("h100-sxm");
  const auto machine =
      models::build_machine(topology::load_topology_arg("h100-superpod", 16), profile);
  std::vector<std::uint32_t> node(8);
  std::iota(node.begin(), node.end(), 0u);
  std::vector<std::uint32_t> two_nodes(16);
  std::iota(two_nodes.begin(), two_nodes.end(), 0u);
  const auto listed = [&](models::Collective c, std::span<const std::uint32_t> ranks,
                          double bytes) {
    sim::Trace trace;
    models::CostNotes notes;
    models::add_collective(machine.layout, trace, c, ranks, bytes, 0, 0, {}, notes);
    return std::vector<std::string>(notes.extrapolated.begin(), notes.extrapolated.end());
  };
  using V = std::vector<std::string>;
  REQUIRE(listed(models::Collective::kAllReduce, node, 1e8).empty());
  REQUIRE(listed(models::Collective::kAllReduce, node, 64e9) ==
          V{"all_reduce over 8 GPUs (collective model + the offset measured at the largest "
            "size)"});
  REQUIRE(listed(models::Collective::kAllGather, node, 1e8) ==
          V{"all_gather over 8 GPUs (collective model)"});
  REQUIRE(listed(models::Collective::kAllReduce, two_nodes, 1e8) ==
          V{"all_reduce over 16 GPUs on 2 nodes (collective model)"});
}
