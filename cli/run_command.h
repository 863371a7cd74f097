// SPDX-License-Identifier: Apache-2.0
// `attnsim run` (SPEC section 2): simulates every point of a scenario, `auto` included, and
// prints the table, the results JSON, or writes results.json and results.csv.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "cli/scenario.h"
#include "report/results.h"

namespace attnsim::cli {

struct RunOptions {
  std::string scenario;
  std::string out_dir;
  std::vector<std::string> sets;
  std::string trace_file;
  bool json = false;
  int jobs = 1;
};

/// Simulates one point. With "auto", every candidate strategy that the point admits is
/// simulated and the fastest that fits in memory is reported, with the reason.
report::Point simulate_point(const ScenarioPoint& point, const std::string& trace_file = "");

/// Simulates every point of `scenario` on `jobs` threads; points keep the scenario's order.
report::Results simulate(const Scenario& scenario, int jobs, const std::string& trace_file = "");

int run_run(const RunOptions& options, std::ostream& out);

}  // namespace attnsim::cli
