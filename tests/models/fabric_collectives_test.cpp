// SPDX-License-Identifier: Apache-2.0
// Collectives on generated fabrics, against the bounds of the fabric itself.
//
//   16 nodes of 1 GPU, one 50 GB/s NIC each, radix-8 switches: 4 leaves of 4 NICs, 2 tiers.
//        spine  spine  spine  spine
//          \  \  |  /  /  /  ...         (leaf uplinks: 4 x 50 GB/s, or half with 2:1)
//        leaf0   leaf1   leaf2   leaf3
//        ||||    ||||    ||||    ||||    (NICs, 50 GB/s)
#include <numeric>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "calibrate/profile.h"
#include "config/node.h"
#include "models/collectives/decompose.h"
#include "models/collectives/run.h"
#include "models/machine.h"
#include "sim/replay.h"
#include "tests/support/unbundle.h"
#include "topology/load.h"
#include "topology/metrics.h"
#include "topology/spec.h"

using namespace attnsim;  // NOLINT(google-build-using-namespace): test brevity

namespace {

models::Machine tree(double oversubscription) {
  const nlohmann::json topo = {
      {"nodes", 16},
      {"gpus_per_node", 1},
      {"scale_up", {{"kind", "nvswitch"}, {"bandwidth_GBps", 450}, {"latency_us", 0.7}}},
      {"scale_out",
       {{"kind", "fat_tree"},
        {"tiers", 2},
        {"switch_radix", 8},
        {"nics_per_node", 1},
        {"nic_bandwidth_GBps", 50},
        {"rail_optimized", false},
        {"oversubscription", oversubscription},
        {"latency_us", 1.0}}}};
  const auto spec = topology::parse_topology(config::Node::from_json("inline", topo));
  return models::build_machine(spec, calibrate::builtin_profile("h100-sxm"), false);
}

double all_to_all_us(const models::Machine& m, double bytes) {
  std::vector<std::uint32_t> ranks(16);
  std::iota(ranks.begin(), ranks.end(), 0u);
  return models::time_collective(m.network, m.layout, models::Collective::kAllToAll, ranks, bytes,
                                 {}, sim::NetworkModel::kFlow)
      .time.us();
}

}  // namespace

TEST_CASE("all-to-all on a non-blocking fat tree runs at the NIC bound", "[analytic]") {
  // Each GPU sends S/n to each of the n-1 others, all through its one NIC of usable rate
  // r = 50 GB/s x the profile's NIC efficiency: T >= (n-1)/n S / r. A non-blocking tree
  // with d-mod-k routing adds no other bottleneck, so T is that bound plus latencies
  // (NCCL's 22.4 us of point-to-point latency and four 1 us cables: < 0.1 % at S = 1 GiB).
  const models::Machine m = tree(1.0);
  const double s = 1 << 30;
  const double r = 50e9 * calibrate::builtin_profile("h100-sxm").comm.links.nic.efficiency;
  const double bound_us = 15.0 / 16.0 * s / r * 1e6;
  const double t = all_to_all_us(m, s);
  REQUIRE(t >= bound_us);
  REQUIRE(t == Approx(bound_us).epsilon(0.01));
}

TEST_CASE("all-to-all on a 2:1 oversubscribed tree runs at the bisection bound", "[analytic]") {
  // With 2:1 oversubscription each leaf has 4 x 50 / 2 = 100 GB/s up. A leaf's 4 GPUs send
  // 4 x 12 x S/16 = 3 S to the other leaves, so T >= 3 S / (100 GB/s x efficiency), which
  // exceeds the NIC bound (15/16 S / 50 GB/s = 1.875 S / 100 GB/s). The max-flow bisection
  // agrees: half the GPUs send (n/2)(n/2) S/n = 4 S across it, T >= 4 S / bisection.
  const models::Machine m = tree(2.0);
  const double s = 1 << 30;
  const double eff = calibrate::builtin_profile("h100-sxm").comm.links.nic.efficiency;
  const double uplink_bound_us = 3 * s / (100e9 * eff) * 1e6;
  const double bisection_GBps = topology::bisection(m.fabric).GBps();
  const double bisection_bound_us = 4 * s / (bisection_GBps * 1e9 * eff) * 1e6;
  const double t = all_to_all_us(m, s);
  REQUIRE(t >= uplink_bound_us);
  REQUIRE(t >= bisection_bound_us * (1 - 1e-9));
  REQUIRE(t == Approx(uplink_bound_us).epsilon(0.02));
}

TEST_CASE("bundled collectives time exactly as their transfers one by one", "[analytic]") {
  // The decomposition bundles symmetric traffic (ring hops inside and between nodes, the PXN
  // all-to-all's legs, a node's all-to-all); written out as one transfer per member
  // (tests/support/unbundle.h) the flow model must give the same times and link bytes. On
  // 4 nodes of the h100-superpod preset (rail-optimised, PXN) and on the 16-node tree above,
  // at sizes where latency and bandwidth each dominate.
  const auto spec = topology::load_topology_arg("h100-superpod", 32);
  const models::Machine pod = models::build_machine(spec, calibrate::builtin_profile("h100-sxm"));
  const models::Machine flat = tree(2.0);

  struct Case {
    const models::Machine* machine;
    std::uint32_t gpus;
    models::Collective c;
    models::Forced forced;
  };

  const std::vector<Case> cases = {
      {&pod, 32, models::Collective::kAllToAll, {}},
      {&pod, 8, models::Collective::kAllToAll, {}},
      {&pod, 32, models::Collective::kAllGather, {models::Algo::kRing, {}}},
      {&pod, 32, models::Collective::kReduceScatter, {models::Algo::kRing, {}}},
      {&pod, 32, models::Collective::kAllReduce, {models::Algo::kRing, {}}},
      {&pod, 16, models::Collective::kBroadcast, {models::Algo::kRing, {}}},
      {&flat, 16, models::Collective::kAllToAll, {}},
      {&flat, 16, models::Collective::kAllGather, {models::Algo::kRing, {}}},
  };
  for (const Case& k : cases) {
    for (const double bytes : {1e5, 1e9}) {
      std::vector<std::uint32_t> ranks(k.gpus);
      std::iota(ranks.begin(), ranks.end(), 0u);
      const models::Prediction plan =
          models::plan_collective(k.machine->layout, k.c, ranks, bytes, k.forced);
      REQUIRE(plan.available);
      sim::Trace trace;
      const sim::OpId end = models::emit_collective(trace, k.machine->layout, k.c, ranks, bytes,
                                                    plan, trace.tag("c"));
      INFO(models::spec(k.c).name << " on " << k.gpus << " GPUs, " << bytes << " B, "
                                  << models::algo_name(plan.algo));
      std::vector<sim::OpId> ends;
      const sim::Trace separate = test::unbundle(trace, ends);
      REQUIRE(separate.size() > trace.size());  // something was bundled
      const auto r = sim::replay(trace, k.machine->network, sim::NetworkModel::kFlow);
      const auto u = sim::replay(separate, k.machine->network, sim::NetworkModel::kFlow);
      REQUIRE(r.ops[end].end.seconds() == Approx(u.ops[ends[end]].end.seconds()).epsilon(1e-12));
      for (std::size_t l = 0; l < r.links.size(); ++l) {
        REQUIRE(r.links[l].bytes == Approx(u.links[l].bytes).epsilon(1e-12));
      }
      REQUIRE(r.events < u.events);
    }
  }
}
