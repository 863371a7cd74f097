// SPDX-License-Identifier: Apache-2.0
// `attnsim validate`: the parse step of `attnsim run`, every sweep point, without simulating.
#include <set>
#include <string>

#include "cli/commands.h"
#include "cli/scenario.h"

namespace attnsim::cli {

int run_validate(const ValidateOptions& options, std::ostream& out) {
  const Scenario scenario = load_scenario(options.scenario, options.sets);
  std::set<std::string> strategies;
  for (const ScenarioPoint& point : scenario.points) {
    strategies.insert(point.parallelism.strategy);
  }
  std::string names;
  for (const std::string& name : strategies) {
    names += (names.empty() ? "" : ", ") + name;
  }
  const std::size_t n = scenario.points.size();
  out << options.scenario << ": ok (" << n << (n == 1 ? " point, " : " points, ")
      << (strategies.size() == 1 ? "strategy " : "strategies ") << names;
  if (!scenario.skipped.empty()) {
    out << "; " << scenario.skipped.size() << " skipped where the strategy does not apply";
  }
  out << ")\n";
  for (const SkippedPoint& k : scenario.skipped) {
    out << "  skipped: " << k.reason << "\n";
  }
  return 0;
}

}  // namespace attnsim::cli
