// SPDX-License-Identifier: Apache-2.0
// `attnsim collective`: one collective over a range of sizes (factor 2), nccl-tests columns.
#include <cstdio>
#include <numeric>

#include <nlohmann/json.hpp>

#include "calibrate/profile.h"
#include "cli/commands.h"
#include "cli/machine_args.h"
#include "cli/sizes.h"
#include "models/collectives/collective.h"
#include "models/collectives/run.h"
#include "models/machine.h"

namespace attnsim::cli {

namespace {

std::uint64_t size_option(const std::string& flag, const std::string& text) {
  const std::optional<std::uint64_t> v = parse_size(text);
  if (!v) {
    throw UsageError(flag + ": expected a size such as 8, 64K, 32M or 16G, got \"" + text + "\"");
  }
  return *v;
}

// CLI11 has checked the names against algo_choices() and proto_choices().
models::Forced forced(const CollectiveOptions& o) {
  return {models::algo_from_name(o.algo), models::proto_from_name(o.proto)};
}

}  // namespace

std::vector<std::string> collective_choices() {
  return models::collective_names();
}

std::vector<std::string> algo_choices() {
  return {"ring", "tree", "nvls", "nvlstree", "pairwise"};
}

std::vector<std::string> proto_choices() {
  return {"ll", "ll128", "simple"};
}

namespace {

// What set a row's time (models/collectives/correction.h): "table" interpolates the profile's
// measurements of this collective and GPU count, "offset" is the model plus the offset measured
// at the table's largest size, "fit" the alpha-beta fit of its smallest sizes, "model" the
// model without them.
const char* priced(const models::CollectiveTiming& t) {
  if (t.calibrated) {
    return "table";
  }
  switch (t.extension) {
    case models::Corrections::Extension::kOffset:
      return "offset";
    case models::Corrections::Extension::kFit:
      return "fit";
    case models::Corrections::Extension::kNone:
      break;
  }
  return "model";
}

}  // namespace

int run_collective(const CollectiveOptions& o, std::ostream& out) {
  const std::uint64_t min_bytes = size_option("--min-bytes", o.min_bytes);
  const std::uint64_t max_bytes = size_option("--max-bytes", o.max_bytes);
  if (min_bytes > max_bytes) {
    throw UsageError("--min-bytes (" + o.min_bytes + ") is larger than --max-bytes (" +
                     o.max_bytes + ")");
  }
  if (o.gpus < 2) {
    throw UsageError("--gpus: expected at least 2, got " + std::to_string(o.gpus));
  }
  const MachineArgs args = resolve_machine(o.topology, o.hardware, o.gpus);
  const models::Machine machine = models::build_machine(args.topology, args.profile);
  const auto gpus = static_cast<std::uint32_t>(o.gpus);
  if (gpus > machine.layout.gpus) {
    throw UsageError("--gpus: the topology has " + std::to_string(machine.layout.gpus) +
                     " GPUs, fewer than the " + std::to_string(gpus) + " asked for");
  }
  std::vector<std::uint32_t> ranks(gpus);
  std::iota(ranks.begin(), ranks.end(), 0u);
  const models::Collective c = models::collective_from_name(o.op);
  const models::Forced restriction = forced(o);
  const sim::NetworkModel model =
      o.network_model == "analytical" ? sim::NetworkModel::kAnalytical : sim::NetworkModel::kFlow;
  const double factor = models::spec(c).busbw_factor(static_cast<int>(gpus));

  nlohmann::json rows = nlohmann::json::array();
  for (std::uint64_t size = min_bytes; size <= max_bytes; size *= 2) {
    const models::CollectiveTiming t = models::time_collective(
        machine.network, machine.layout, c, ranks, static_cast<double>(size), restriction, model);
    if (!t.plan.available) {
      throw UsageError("no " + o.op + " algorithm matches --algo " +
                       (o.algo.empty() ? "(any)" : o.algo) + " --proto " +
                       (o.proto.empty() ? "(any)" : o.proto) + " on " + std::to_string(gpus) +
                       " GPUs of this topology");
    }
    const double time_us = t.time.us();
    const double algbw = static_cast<double>(size) / time_us * 1e-3;  // bytes/us -> GB/s
    rows.push_back({{"size_bytes", size},
                    {"time_us", time_us},
                    {"algbw_GBps", algbw},
                    {"busbw_GBps", algbw * factor},
                    {"algo", std::string(models::algo_name(t.plan.algo))},
                    {"proto", std::string(models::proto_name(t.plan.proto))},
                    {"nccl_predicted_us", t.plan.time_us},
                    {"priced", priced(t)},
                    {"sim_events", t.events}});
    if (size > max_bytes / 2) {
      break;
    }
  }
  if (o.json) {
    nlohmann::json doc = {{"attnsim_version", kVersion},
                          {"collective", o.op},
                          {"gpus", gpus},
                          {"topology", o.topology},
                          {"hardware", args.hardware_name},
                          {"network_model", o.network_model},
                          {"rows", rows}};
    out << doc.dump(2) << "\n";
    return 0;
  }
  out << "# attnsim collective: " << o.op << " on " << gpus << " GPUs of " << o.topology
      << ", hardware " << args.hardware_name << ", network model " << o.network_model << "\n";
  // priced: see priced() above.
  out << "#  size_bytes      time_us  algbw_GBps  busbw_GBps  algo      proto   nccl_model_us  "
         "priced\n";
  for (const auto& r : rows) {
    char line[160];
    std::snprintf(line, sizeof line, "%13llu %12.2f %11.2f %11.2f  %-9s %-7s %13.2f  %s\n",
                  static_cast<unsigned long long>(r["size_bytes"].get<std::uint64_t>()),
                  r["time_us"].get<double>(), r["algbw_GBps"].get<double>(),
                  r["busbw_GBps"].get<double>(), r["algo"].get<std::string>().c_str(),
                  r["proto"].get<std::string>().c_str(), r["nccl_predicted_us"].get<double>(),
                  r["priced"].get<std::string>().c_str());
    out << line;
  }
  return 0;
}

}  // namespace attnsim::cli
