// SPDX-License-Identifier: Apache-2.0
// attnsim_bench_collectives: wall time and peak memory of simulating one 64 MiB collective on
// the h100-superpod preset with the flow model (issue 3's benchmark).
//
//   attnsim_bench_collectives all_reduce 4096
//
// Prints one line: collective, GPUs, plan, simulated time, events, build seconds (fabric and
// network), simulate seconds, peak RSS (MB, from /proc/self/status VmHWM). Run each point in
// its own process so peak RSS is the point's own.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <numeric>
#include <string>

#include "calibrate/profile.h"
#include "config/error.h"
#include "models/collectives/run.h"
#include "models/machine.h"
#include "topology/load.h"

namespace {

double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return std::stod(line.substr(6)) / 1024.0;  // kB -> MB (2^20 bytes)
    }
  }
  return 0;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: attnsim_bench_collectives all_reduce|all_to_all GPUS\n";
    return 2;
  }
  namespace models = attnsim::models;
  try {
    const std::string op = argv[1];
    const long long gpus = std::stoll(argv[2]);
    const auto t0 = std::chrono::steady_clock::now();
    const auto spec = attnsim::topology::load_topology_arg("h100-superpod", gpus);
    const models::Machine machine =
        models::build_machine(spec, attnsim::calibrate::builtin_profile("h100-sxm"));
    const double build_s = seconds_since(t0);
    std::vector<std::uint32_t> ranks(static_cast<std::size_t>(gpus));
    std::iota(ranks.begin(), ranks.end(), 0u);
    const auto t1 = std::chrono::steady_clock::now();
    const auto t =
        models::time_collective(machine.network, machine.layout, models::collective_from_name(op),
                                ranks, 64.0 * (1 << 20), {}, attnsim::sim::NetworkModel::kFlow);
    const double sim_s = seconds_since(t1);
    std::printf(
        "%s %lld GPUs: %s/%s, simulated %.1f us, %llu events, build %.2f s, simulate %.2f "
        "s, peak RSS %.0f MB\n",
        op.c_str(), gpus, std::string(models::algo_name(t.plan.algo)).c_str(),
        std::string(models::proto_name(t.plan.proto)).c_str(), t.time.us(),
        static_cast<unsigned long long>(t.events), build_s, sim_s, peak_rss_mb());
    return 0;
  } catch (const attnsim::config::InputError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
