// SPDX-License-Identifier: Apache-2.0
// The commands, callable without a subprocess (tests call them directly). Each writes its
// output to `out` and returns the exit status; bad input throws config::InputError, bad
// usage UsageError.
#pragma once

#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace attnsim::calibrate {
struct Profile;
}  // namespace attnsim::calibrate

namespace attnsim::cli {

inline constexpr const char* kVersion = "0.1.0";

/// Bad command-line usage that CLI11 cannot see (e.g. a size that does not parse). Exit 2.
class UsageError : public std::runtime_error {
 public:
  explicit UsageError(const std::string& what) : std::runtime_error(what) {}
};

struct TopoOptions {
  std::string topology;
  std::optional<long long> gpus;
  std::string dot_file;
  bool json = false;
};

int run_topo(const TopoOptions& options, std::ostream& out);

struct CollectiveOptions {
  std::string topology;
  std::string op;
  long long gpus = 0;
  std::string algo;
  std::string proto;
  std::string min_bytes = "8";
  std::string max_bytes = "1G";
  std::string hardware;
  std::string network_model = "flow";
  bool json = false;
};

int run_collective(const CollectiveOptions& options, std::ostream& out);

/// `attnsim profiles`: with no names, the built-in profiles one line each; otherwise, for each
/// built-in name or profile file, its provenance, peaks, compute tables, communication tables
/// (which collectives, GPU counts and sizes are measured) and links. Errors: an unknown name
/// or a bad file throws config::InputError.
int run_profiles(const std::vector<std::string>& profiles, std::ostream& out);

struct ValidateOptions {
  std::string scenario;
  std::vector<std::string> sets;  // --set PATH=VALUE, in order
};

/// `attnsim validate`: parses every point of the scenario without simulating and prints
/// "<file>: ok (<n> points, strategies <names>)". Bad input throws as load_scenario() does.
int run_validate(const ValidateOptions& options, std::ostream& out);

struct ReportOptions {
  std::vector<std::string> inputs;  // results folders, results.json files or scenarios
  std::string out_dir;
  std::string title;              // several inputs: the document's title
  std::vector<std::string> sets;  // --set PATH=VALUE for a scenario
  int jobs = 1;
};

/// `attnsim report`: reads results (a folder holding results.json, or the file) or simulates
/// a scenario, then writes report.md, report.html, plots/*.svg, results.json and results.csv
/// into --out; nothing is written unless all of it is made (report/document.h). Several
/// inputs (or a --title) make one document with a section per input (write_reports()).
int run_report(const ReportOptions& options, std::ostream& out);

struct CalibrateOptions {
  std::string backend = "auto";  // auto, cpu or cuda
  std::string out;               // "" prints the profile JSON on `out`
  bool quick = false;
  std::string inherit;        // a built-in profile name (calibrate::MeasureOptions::builtin)
  bool progress_bar = false;  // redraw a bar in place (the error stream is a terminal)
};

/// `attnsim calibrate`: measures this machine with the chosen backend ("auto": CUDA when a GPU
/// is usable, else the CPU, saying so on `err`), shows progress on `err`, and writes the
/// profile atomically to options.out with a summary on `out`, or prints the profile JSON on
/// `out` and the summary on `err`. Errors: config::RuntimeFailure (exit 3) when the backend
/// cannot run here ("--backend cuda", or `--inherit` with "auto", without a GPU or without the
/// CUDA backend built in), the --out folder does not exist, or the measurement fails;
/// UsageError (exit 2) for --out naming a folder, `--inherit` naming no built-in profile, or
/// `--inherit` with `--backend cpu`; nothing is measured or written then.
int run_calibrate(const CalibrateOptions& options, std::ostream& out, std::ostream& err);

/// run_calibrate()'s closing lines on `os`: the device and run time, `where` the profile
/// went, the best GEMM, the largest dense attention forward row, the copy bandwidth and the
/// scale-up link (fitted, or the built-in's when one GPU took it whole).
void summarise_calibration(const calibrate::Profile& p, double seconds, const std::string& where,
                           std::ostream& os);

std::vector<std::string> collective_choices();
std::vector<std::string> algo_choices();
std::vector<std::string> proto_choices();

}  // namespace attnsim::cli
