// SPDX-License-Identifier: Apache-2.0
#include "topology/load.h"

#include <algorithm>
#include <filesystem>

#include "config/edit_distance.h"
#include "config/error.h"
#include "config/node.h"

namespace attnsim::topology {

TopologySpec load_topology_arg(const std::string& arg, std::optional<std::int64_t> gpus) {
  std::error_code ignored;
  if (std::filesystem::is_regular_file(arg, ignored)) {
    const config::Node root = config::Node::parse_file(arg);
    if (root.is_object() && root.has("topology")) {
      return parse_topology(root.child("topology"), gpus);
    }
    return parse_topology(root, gpus);
  }
  const std::vector<std::string> names = preset_names();
  if (std::find(names.begin(), names.end(), arg) != names.end()) {
    const config::Node root = config::Node::parse_text(
        arg, "{\"topology\": {\"preset\": " + config::json_quoted(arg) + "}}");
    return parse_topology(root.child("topology"), gpus);
  }
  std::string listed;
  for (const std::string& name : names) {
    listed += (listed.empty() ? "" : ", ") + name;
  }
  std::string line = arg + ": expected a topology file, a scenario file or a preset (one of " +
                     listed + "); got " + config::json_quoted(arg);
  if (const std::optional<std::string> close = config::suggest(arg, names)) {
    line += " (did you mean " + config::json_quoted(*close) + "?)";
  }
  throw config::InputError(line);
}

}  // namespace attnsim::topology
