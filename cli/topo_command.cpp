// SPDX-License-Identifier: Apache-2.0
// `attnsim topo`: a topology's counts, injection and bisection bandwidth, and diameter.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "config/error.h"
#include "topology/fabric.h"
#include "topology/load.h"
#include "topology/metrics.h"

namespace attnsim::cli {

namespace {

// Writes `text` to `path` through a temporary name, so a failed run leaves nothing behind.
void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    if (!out) {
      throw config::RuntimeFailure("cannot write " + tmp);
    }
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace

int run_topo(const TopoOptions& o, std::ostream& out) {
  const topology::TopologySpec spec = topology::load_topology_arg(
      o.topology, o.gpus ? std::optional<std::int64_t>(*o.gpus) : std::nullopt);
  const topology::Fabric fabric = topology::build_fabric(spec);
  const topology::Summary summary = topology::summarize(fabric);
  if (!o.dot_file.empty()) {
    write_atomically(o.dot_file, topology::to_dot(fabric));
  }
  if (o.json) {
    out << topology::summary_json(summary).dump(2) << "\n";
  } else {
    out << topology::format_summary(summary);
  }
  return 0;
}

}  // namespace attnsim::cli
