// SPDX-License-Identifier: Apache-2.0
// attnsim's command line: CLI11 wiring only. The one place that catches errors and turns
// them into exit statuses (SPEC section 2): 1 bad input, 2 bad usage, 3 runtime failure.
#include <iostream>
#include <string>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/run_command.h"
#include "config/error.h"

// The last-resort handler: an exception escaping it (from writing the error itself) is a bug.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  namespace cli = attnsim::cli;
#if defined(__GLIBC__)
  // Sweep points each build and free traces of up to hundreds of MB. By default glibc maps
  // blocks above its (adaptive) threshold and returns heap tops above 128 KiB to the kernel,
  // so every point faulted its memory in afresh: a fifth of a 4,096-GPU point's time in this
  // VM (bench/README.md). Keep freed memory for the next point; blocks above 32 MiB (the
  // largest threshold glibc accepts) are still mapped and returned.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  CLI::App app{"attnsim: how fast will attention run, with which parallelism, on which cluster"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("attnsim ") + cli::kVersion);

  cli::TopoOptions topo;
  CLI::App* topo_cmd = app.add_subcommand("topo",
                                          "Summarise a topology: GPUs, switches, links, "
                                          "injection and bisection bandwidth, diameter");
  topo_cmd
      ->add_option("TOPO", topo.topology,
                   "Topology JSON file, scenario file, or built-in preset name")
      ->required();
  topo_cmd->add_option("--gpus", topo.gpus, "Size of a preset that scales (GPU count)");
  topo_cmd->add_option("--dot", topo.dot_file, "Also write the graph as Graphviz DOT");
  topo_cmd->add_flag("--json", topo.json, "Print JSON instead of text");

  cli::CollectiveOptions coll;
  CLI::App* coll_cmd = app.add_subcommand(
      "collective", "Time one collective over message sizes, printing nccl-tests columns");
  coll_cmd->add_option("--topology", coll.topology, "Topology file, scenario file or preset")
      ->required();
  coll_cmd->add_option("--op", coll.op, "Collective")
      ->required()
      ->check(CLI::IsMember(cli::collective_choices()));
  coll_cmd->add_option("--gpus", coll.gpus, "Number of GPUs taking part")->required();
  coll_cmd->add_option("--algo", coll.algo, "Force an algorithm (like NCCL_ALGO)")
      ->check(CLI::IsMember(cli::algo_choices()));
  coll_cmd->add_option("--proto", coll.proto, "Force a protocol (like NCCL_PROTO)")
      ->check(CLI::IsMember(cli::proto_choices()));
  coll_cmd->add_option("--min-bytes", coll.min_bytes, "Smallest size, e.g. 8, 1K, 64M");
  coll_cmd->add_option("--max-bytes", coll.max_bytes, "Largest size, e.g. 16G");
  coll_cmd->add_option("--hardware", coll.hardware,
                       "Hardware profile: a built-in name or a profile JSON file");
  coll_cmd->add_option("--network-model", coll.network_model, "flow (default) or analytical")
      ->check(CLI::IsMember({"flow", "analytical"}));
  coll_cmd->add_flag("--json", coll.json, "Print JSON instead of the table");

  std::vector<std::string> profile_names;
  CLI::App* profiles_cmd = app.add_subcommand(
      "profiles",
      "List the built-in hardware profiles, or describe the named ones (built-in names or "
      "profile files): provenance, peaks, tables, links");
  profiles_cmd->add_option("PROFILE", profile_names, "Built-in profile names or profile files");

  cli::RunOptions run;
  CLI::App* run_cmd = app.add_subcommand(
      "run",
      "Simulate a scenario (every sweep point): step time, tokens/s, MFU, memory, "
      "exposed communication and the bottleneck link, per strategy");
  run_cmd->add_option("SCENARIO", run.scenario, "Scenario JSON file")->required();
  run_cmd->add_option("--out", run.out_dir, "Write DIR/results.json and DIR/results.csv");
  run_cmd
      ->add_option("--set", run.sets,
                   "Override a field, PATH=VALUE with a dotted PATH (VALUE is JSON, else a "
                   "string; a profile path, hardware=PROFILE.json, is taken relative "
                   "to the scenario's folder, as in the file); repeatable")
      ->allow_extra_args(false);
  run_cmd->add_option("--trace", run.trace_file,
                      "Write a Chrome/Perfetto trace-event JSON of the first point");
  run_cmd->add_flag("--json", run.json, "Print the results JSON on stdout and nothing else");
  run_cmd->add_option("--jobs", run.jobs, "Simulate this many sweep points in parallel")
      ->check(CLI::PositiveNumber);

  cli::ValidateOptions validate;
  CLI::App* validate_cmd =
      app.add_subcommand("validate", "Check a scenario, every sweep point, without simulating");
  validate_cmd->add_option("SCENARIO", validate.scenario, "Scenario JSON file")->required();
  validate_cmd
      ->add_option("--set", validate.sets,
                   "Override a field, PATH=VALUE with a dotted PATH (VALUE is JSON, else a "
                   "string; a profile path, hardware=PROFILE.json, is taken relative "
                   "to the scenario's folder, as in the file); repeatable")
      ->allow_extra_args(false);

  cli::ReportOptions report;
  CLI::App* report_cmd = app.add_subcommand(
      "report",
      "Write a scaling projection report (report.md, self-contained report.html, plots) from "
      "a results folder or a scenario");
  report_cmd
      ->add_option("RESULTS_DIR_OR_SCENARIO", report.inputs,
                   "Folders written by run --out (or their results.json), or scenarios to run; "
                   "several make one document with a section each")
      ->required();
  report_cmd->add_option("--title", report.title, "Title of a document of several inputs");
  report_cmd->add_option("--out", report.out_dir, "Folder to write the report into")->required();
  report_cmd
      ->add_option("--set", report.sets,
                   "Override a scenario field, PATH=VALUE with a dotted PATH (as for run); "
                   "repeatable")
      ->allow_extra_args(false);
  report_cmd->add_option("--jobs", report.jobs, "Simulate this many sweep points in parallel")
      ->check(CLI::PositiveNumber);

  cli::CalibrateOptions calibrate;
  CLI::App* calibrate_cmd = app.add_subcommand(
      "calibrate",
      "Measure this machine and write a hardware profile (GEMM, attention, memory and "
      "communication tables, fitted link parameters)");
  calibrate_cmd
      ->add_option("--backend", calibrate.backend,
                   "auto (CUDA when a GPU is usable, else cpu), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  calibrate_cmd->add_option("--out", calibrate.out,
                            "Write the profile JSON here (default: print it on stdout)");
  calibrate_cmd->add_flag("--quick", calibrate.quick,
                          "Small shapes and short time budgets (under a minute)");
  calibrate_cmd->add_option(
      "--inherit", calibrate.inherit,
      "GPU backends: the built-in profile (attnsim profiles) whose datasheet peaks and "
      "multi-node fabric the profile takes, and with one GPU its communication tables; "
      "default: the one matching the device's name, if any");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    return status == 0 ? 0 : 2;
  }
  try {
    if (topo_cmd->parsed()) {
      return cli::run_topo(topo, std::cout);
    }
    if (coll_cmd->parsed()) {
      return cli::run_collective(coll, std::cout);
    }
    if (run_cmd->parsed()) {
      return cli::run_run(run, std::cout);
    }
    if (report_cmd->parsed()) {
      return cli::run_report(report, std::cout);
    }
    if (validate_cmd->parsed()) {
      return cli::run_validate(validate, std::cout);
    }
    if (calibrate_cmd->parsed()) {
      calibrate.progress_bar = isatty(STDERR_FILENO) != 0;
      return cli::run_calibrate(calibrate, std::cout, std::cerr);
    }
    return cli::run_profiles(profile_names, std::cout);
  } catch (const cli::UsageError& e) {
    std::cerr << "attnsim: " << e.what() << "\n";
    return 2;
  } catch (const attnsim::config::InputError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  } catch (const attnsim::config::RuntimeFailure& e) {
    std::cerr << "attnsim: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "attnsim: internal error: " << e.what() << "\n";
    return 3;
  }
}
