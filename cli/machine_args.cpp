// SPDX-License-Identifier: Apache-2.0
#include "cli/machine_args.h"

#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "config/node.h"
#include "topology/load.h"

namespace attnsim::cli {

namespace {

// The hardware each preset is built from (hardware.md section 1.5).
const std::map<std::string, std::string>& preset_hardware() {
  static const std::map<std::string, std::string> table = {
      {"dgx-h100", "h100-sxm"}, {"h100-superpod", "h100-sxm"}, {"dgx-a100", "a100-sxm"},
      {"gb200-nvl72", "gb200"}, {"pcie-gtx1080x2", "gtx1080"},
  };
  return table;
}

}  // namespace

MachineArgs resolve_machine(const std::string& topology_arg, const std::string& hardware,
                            long long gpus) {
  MachineArgs out{topology::load_topology_arg(topology_arg, std::nullopt), {}, hardware};
  if (out.topology.gpus() < gpus) {
    out.topology = topology::load_topology_arg(topology_arg, gpus);
  }
  if (!hardware.empty()) {
    out.profile = calibrate::load_profile(hardware);
    return out;
  }
  if (std::filesystem::is_regular_file(topology_arg)) {
    const config::Node file = config::Node::parse_file(topology_arg);
    if (file.is_object() && file.json().contains("hardware")) {
      const std::string dir = std::filesystem::path(topology_arg).parent_path().string();
      out.profile = calibrate::load_profile(file.child("hardware"), dir);
      out.hardware_name = file.json()["hardware"].is_string()
                              ? file.json()["hardware"].get<std::string>()
                              : topology_arg + "#/hardware";
      return out;
    }
    throw UsageError("--hardware is required: " + topology_arg + " names no hardware");
  }
  const auto it = preset_hardware().find(topology_arg);
  if (it == preset_hardware().end()) {
    throw UsageError("--hardware is required for topology " + topology_arg);
  }
  out.hardware_name = it->second;
  out.profile = calibrate::builtin_profile(it->second);
  return out;
}

}  // namespace attnsim::cli
