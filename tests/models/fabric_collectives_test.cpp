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
#include "models/collectives/run.h"
#include "models/machine.h"
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
