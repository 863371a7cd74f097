// SPDX-License-Identifier: Apache-2.0
// `attnsim report` (SPEC section 2): a results folder (or results.json) or a scenario, which is
// simulated first, turned into report.md, report.html and plots/ under --out.
#include <filesystem>

#include "cli/commands.h"
#include "cli/run_command.h"
#include "config/node.h"
#include "report/document.h"

namespace attnsim::cli {

int run_report(const ReportOptions& options, std::ostream& out) {
  if (options.jobs < 1) {
    throw UsageError("--jobs: expected an integer >= 1, got " + std::to_string(options.jobs));
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string results_file;
  if (fs::is_directory(options.input, ec)) {
    results_file = (fs::path(options.input) / "results.json").string();
  } else if (fs::path(options.input).filename() == "results.json") {
    results_file = options.input;
  }
  report::Results results;
  if (!results_file.empty()) {
    if (!options.sets.empty()) {
      throw UsageError("--set applies to a scenario, not to results (" + options.input + ")");
    }
    results = report::parse_results(config::Node::parse_file(results_file));
  } else {
    results = simulate(load_scenario(options.input, options.sets), options.jobs);
  }
  report::write_report(results, options.out_dir);
  out << "wrote " << (fs::path(options.out_dir) / "report.html").string() << " and report.md ("
      << results.points.size() << " points)\n";
  return 0;
}

}  // namespace attnsim::cli
