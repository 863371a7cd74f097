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
  if (options.inputs.empty()) {
    throw UsageError("expected a results folder or a scenario");
  }
  namespace fs = std::filesystem;
  std::vector<report::Results> all;
  std::size_t points = 0;
  for (const std::string& input : options.inputs) {
    std::error_code ec;
    std::string results_file;
    if (fs::is_directory(input, ec)) {
      results_file = (fs::path(input) / "results.json").string();
    } else if (fs::path(input).filename() == "results.json") {
      results_file = input;
    }
    if (!results_file.empty()) {
      if (!options.sets.empty()) {
        throw UsageError("--set applies to a scenario, not to results (" + input + ")");
      }
      all.push_back(report::parse_results(config::Node::parse_file(results_file)));
    } else {
      all.push_back(simulate(load_scenario(input, options.sets), options.jobs));
    }
    points += all.back().points.size();
  }
  report::write_reports(all, options.out_dir, options.title);
  out << "wrote " << (fs::path(options.out_dir) / "report.html").string() << " and report.md ("
      << points << " points";
  if (all.size() > 1) {
    out << ", " << all.size() << " scenarios";
  }
  out << ")\n";
  return 0;
}

}  // namespace attnsim::cli
