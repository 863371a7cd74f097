// SPDX-License-Identifier: Apache-2.0
// `attnsim run` end to end in-process: what --out receives on success and on failure
// (SPEC section 2: nothing is written unless the run succeeds), and that --json and the
// table report the same points.
#include "cli/run_command.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "calibrate/profile.h"
#include "cli/commands.h"
#include "config/error.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;

using attnsim::testing::TempDir;

const std::string kScenario =
    std::string(ATTNSIM_SOURCE_DIR) + "/scenarios/llama3-8b-ring-dgx-h100.json";

}  // namespace

TEST_CASE("a successful run writes results.json and results.csv into --out", "[unit]") {
  const TempDir dir;
  attnsim::cli::RunOptions options;
  options.scenario = kScenario;
  options.out_dir = (dir.path() / "out").string();
  options.json = true;
  std::ostringstream out;
  REQUIRE(attnsim::cli::run_run(options, out) == 0);
  const nlohmann::json printed = nlohmann::json::parse(out.str());
  std::ifstream written(dir.path() / "out" / "results.json");
  REQUIRE(written.good());
  CHECK(nlohmann::json::parse(written) == printed);
  CHECK(fs::exists(dir.path() / "out" / "results.csv"));
  CHECK(printed.at("points").size() == 1);
}

TEST_CASE("a run that fails on bad input leaves --out untouched", "[unit][errors]") {
  const TempDir dir;
  attnsim::cli::RunOptions options;
  options.scenario = kScenario;
  options.sets = {"workload.sequence_length=-5"};
  options.out_dir = (dir.path() / "out").string();
  std::ostringstream out;
  REQUIRE_THROWS_AS(attnsim::cli::run_run(options, out), attnsim::config::InputError);
  CHECK_FALSE(fs::exists(dir.path() / "out"));
  CHECK(out.str().empty());
}

TEST_CASE("a --trace file is a Perfetto trace-event document of the point", "[unit]") {
  const TempDir dir;
  attnsim::cli::RunOptions options;
  options.scenario = kScenario;
  options.trace_file = (dir.path() / "trace.json").string();
  std::ostringstream out;
  REQUIRE(attnsim::cli::run_run(options, out) == 0);
  std::ifstream in(options.trace_file);
  REQUIRE(in.good());
  const nlohmann::json trace = nlohmann::json::parse(in);
  CHECK(trace.at("traceEvents").size() > 100);
}

// Determinism (STYLE C8): the same scenario gives the same results whether its points run on
// one thread or four, except for the wall-clock field.
TEST_CASE("results are identical with --jobs 1 and --jobs 4", "[property]") {
  const attnsim::cli::Scenario scenario = attnsim::cli::load_scenario(
      std::string(ATTNSIM_SOURCE_DIR) + "/scenarios/llama3-8b-strategies-dgx-h100.json");
  const auto strip = [](attnsim::report::Results r) {
    for (auto& p : r.points) {
      p.sim_wall_s = 0;
    }
    return attnsim::report::to_json_text(r);
  };
  CHECK(strip(attnsim::cli::simulate(scenario, 1)) == strip(attnsim::cli::simulate(scenario, 4)));
}

// auto weighs the segment-scoped ring for dilated attention (models/strategies/strategy.h),
// names it by its parameters, and picks nothing slower than it; other kinds do not get it.
TEST_CASE("auto tries the segment ring for dilated attention", "[unit]") {
  const TempDir dir;
  const auto run = [&](const std::string& attention, const std::string& parallelism) {
    const fs::path file = dir.path() / "s.json";
    std::ofstream(file)
        << R"({"name": "t", "hardware": "h100-sxm", "topology": {"preset": "dgx-h100"},
      "model": {"preset": "longnet-seed-8x64"}, "attention": )"
        << attention << R"(,
      "workload": {"phase": "forward", "sequence_length": 1048576, "scope": "attention"},
      "parallelism": )"
        << parallelism << "}";
    return attnsim::cli::simulate(attnsim::cli::load_scenario(file.string()), 1).points.at(0);
  };
  const std::string dilated =
      R"({"kind": "dilated", "segment_lengths": [8192, 16384, 32768], "dilation_rates": [1, 2, 4],
          "heads": "all_heads"})";
  const attnsim::report::Point picked = run(dilated, R"({"strategy": "auto"})");
  const attnsim::report::Point segment =
      run(dilated, R"({"strategy": "ring", "ring_scope": "segment"})");
  CHECK_THAT(picked.reason, Catch::Contains(" ring (ring_scope=segment) "));
  CHECK(picked.step_time_s <= segment.step_time_s);
  const attnsim::report::Point causal = run(R"({"kind": "causal"})", R"({"strategy": "auto"})");
  CHECK_THAT(causal.reason, !Catch::Contains("ring_scope"));
}

TEST_CASE("attnsim profiles lists every built-in in aligned columns", "[unit]") {
  std::ostringstream out;
  REQUIRE(attnsim::cli::run_profiles({}, out) == 0);
  std::istringstream lines(out.str());
  std::string header;
  std::getline(lines, header);
  // Each column after the first starts where its heading does, on every line, long device
  // names (gb200's, gtx1080's) included: they come last.
  std::vector<std::size_t> starts;
  for (const char* heading : {"bf16 TF/s", "HBM GB", "scale-up", "device"}) {
    starts.push_back(header.find(heading));
    REQUIRE(starts.back() != std::string::npos);
  }
  int rows = 0;
  for (std::string line; std::getline(lines, line); ++rows) {
    for (const std::size_t at : starts) {
      REQUIRE(line.size() > at);
      CHECK(line[at - 1] == ' ');
      CHECK(line[at] != ' ');
    }
  }
  CHECK(rows == static_cast<int>(attnsim::calibrate::builtin_profile_names().size()));
}

TEST_CASE("attnsim profiles NAME says which communication tables a profile measures", "[unit]") {
  // h100-sxm's tables (hardware.md T1, T3, T6, T9): NCCL's own choice on 8 GPUs, 8 B - 16 GiB;
  // Ring and NVLS forced on 2 to 8 GPUs at 4 GiB each; two multi-node tables; a forced
  // all_to_all.
  std::ostringstream out;
  REQUIRE(attnsim::cli::run_profiles({"h100-sxm"}, out) == 0);
  const std::string text = out.str();
  CHECK(text.starts_with("h100-sxm  NVIDIA H100 80GB HBM3"));
  CHECK_THAT(text, Catch::Contains("    all_reduce on 8 ranks, NCCL's choice: 38 sizes, 8 B - "
                                   "16GiB\n"));
  CHECK_THAT(text,
             Catch::Contains("    all_reduce on 2-8 ranks, forced ring: 1 size, 4GiB each\n"));
  CHECK_THAT(text, Catch::Contains("    all_reduce on 16 ranks on 2 nodes, NCCL's choice: 31 "
                                   "sizes, 8 B - 8GiB\n"));
  CHECK_THAT(text, Catch::Contains("    all_to_all on 4 ranks, forced ring/simple: 1 size, "
                                   "500MiB\n"));
  CHECK_THAT(text, Catch::Contains("  scale-up    nvswitch 450.0 GB/s raw, collective efficiency "
                                   "0.824, point-to-point 0.7444, latency 0.60 us\n"));
  CHECK_THAT(text, Catch::Contains("  NVLS        efficiency 0.610\n"));
  // A profile file reads the same as the built-in it was written from; an unknown name is an
  // input error naming the built-ins.
  const TempDir dir;
  const fs::path file = dir.path() / "mine.json";
  std::ofstream(file)
      << attnsim::calibrate::to_json(attnsim::calibrate::builtin_profile("h100-sxm")).dump();
  std::ostringstream from_file;
  REQUIRE(attnsim::cli::run_profiles({file.string()}, from_file) == 0);
  CHECK(from_file.str() == text);
  std::ostringstream unknown;
  CHECK_THROWS_AS(attnsim::cli::run_profiles({"h100"}, unknown), attnsim::config::InputError);
}
