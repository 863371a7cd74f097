// SPDX-License-Identifier: Apache-2.0
// `attnsim calibrate --backend cpu --quick` end to end in-process: the profile it writes
// re-reads to itself, every figure is finite and positive, the cost model prices a GEMM at
// exactly what the measured rows say, a scenario runs on it, and --out is left alone when
// calibration cannot run (SPEC section 2).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "calibrate/backend.h"
#include "calibrate/profile.h"
#include "cli/commands.h"
#include "cli/run_command.h"
#include "config/error.h"
#include "config/node.h"
#include "models/cost.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using attnsim::calibrate::GemmPoint;
using attnsim::calibrate::Profile;

using attnsim::testing::TempDir;

std::string read(const fs::path& file) {
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every number in the document, with its JSON pointer.
void numbers(const nlohmann::json& j, const std::string& at,
             std::vector<std::pair<std::string, double>>& out) {
  if (j.is_number()) {
    out.emplace_back(at, j.get<double>());
  } else if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      numbers(value, at + "/" + key, out);
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      numbers(j[i], at + "/" + std::to_string(i), out);
    }
  }
}

double flops(const GemmPoint& g) {
  return 2.0 * static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k);
}

// Seconds for an (m, n, k) fp32 GEMM by models/cost.h's rule, with the compute rate r given:
// max(F / r, t_memory(S)) + t_launch, S = (mk + kn + mn)·4 bytes. The memory term comes from
// the model's own memory_bound(); the test checks the compute rate, which is what the GEMM
// rows decide.
double gemm_seconds(const attnsim::models::CostModel& cost, const Profile& p, std::int64_t m,
                    std::int64_t n, std::int64_t k, double rate) {
  const double f = 2.0 * static_cast<double>(m * n * k);
  const double bytes = static_cast<double>(m * k + k * n + m * n) * 4;
  return std::max(f / rate, cost.memory_bound(bytes).time.seconds()) +
         p.compute.launch_overhead_us * 1e-6;
}

// One quick calibration for all the [calibrate] tests (each takes seconds; Catch2 would rerun
// a test case per SECTION).
struct Calibrated {
  TempDir dir;
  fs::path profile_path = dir.path() / "cpu-quick.json";
  std::string out, err, text;
  nlohmann::json written;
  Profile p;

  Calibrated() {
    attnsim::cli::CalibrateOptions options;
    options.backend = "cpu";
    options.quick = true;
    options.out = profile_path.string();
    std::ostringstream out_stream;
    std::ostringstream err_stream;
    REQUIRE(attnsim::cli::run_calibrate(options, out_stream, err_stream) == 0);
    out = out_stream.str();
    err = err_stream.str();
    text = read(profile_path);
    written = nlohmann::json::parse(text);
    p = attnsim::calibrate::parse_profile(attnsim::config::Node::parse_text("p.json", text));
  }
};

const Calibrated& calibrated() {
  static const Calibrated c;
  return c;
}

}  // namespace

TEST_CASE("calibrate --backend cpu --quick writes a profile that re-reads to itself",
          "[calibrate]") {
  const Calibrated& c = calibrated();
  const Profile& p = c.p;
  CHECK_THAT(c.out, Catch::Contains("wrote " + c.profile_path.string()));
  CHECK_THAT(c.err, Catch::Contains("attnsim calibrate: gemm"));  // progress, not a terminal
  // to_json of the parsed profile is the file.
  CHECK(attnsim::calibrate::to_json(p) == c.written);
  CHECK(p.name == "cpu-quick");
  CHECK(p.provenance.source == "measured");
  CHECK(p.provenance.tool == std::string("attnsim ") + attnsim::cli::kVersion);
  CHECK_FALSE(p.provenance.device.empty());
}

TEST_CASE("every figure of the calibrated profile is finite, all but two documented zeros > 0",
          "[calibrate]") {
  const nlohmann::json& written = calibrated().written;
  const Profile& p = calibrated().p;
  {
    // Zeros by design: launch_overhead_us (dispatch is inside every row, bench.h) and
    // nvls_efficiency (no NVLS between threads).
    std::vector<std::pair<std::string, double>> all;
    numbers(written, "", all);
    REQUIRE(all.size() > 100);
    for (const auto& [at, v] : all) {
      INFO(at << " = " << v);
      CHECK(std::isfinite(v));
      if (at != "/compute/launch_overhead_us" && at != "/comm/links/nvls_efficiency") {
        CHECK(v > 0);
      }
    }
    CHECK(p.compute.gemm.size() >= 2);
    CHECK(p.compute.attention.size() >= 12);  // both passes of the smallest length, 6 series
    CHECK(p.compute.memory.size() >= 2);
    CHECK(p.comm.links.scale_up.kind == "nvswitch");
    CHECK(p.comm.links.scale_up.latency_us > 0);
    CHECK(p.peaks.flops_per_s.at("fp32") > 1e8);  // any CPU since ~1995 does 0.1 GFLOP/s
  }
}

TEST_CASE("the cost model prices GEMMs on a calibrated profile at the measured rows' rates",
          "[calibrate]") {
  const Profile& p = calibrated().p;
  {
    const attnsim::models::CostModel cost(p, "fp32", "cpu");
    REQUIRE(cost.attention_impl() == "cpu");
    CHECK(cost.peak_flops() == p.peaks.flops_per_s.at("fp32"));
    // At a measured shape: that row's own rate.
    for (const GemmPoint& g : p.compute.gemm) {
      INFO(g.m << "x" << g.n << "x" << g.k << " at " << g.tflops << " TFLOP/s");
      CHECK(cost.gemm(g.m, g.n, g.k).time.seconds() ==
            Approx(gemm_seconds(cost, p, g.m, g.n, g.k, g.tflops * 1e12)).epsilon(1e-6));
      CHECK_FALSE(cost.gemm(g.m, g.n, g.k).extrapolated);
    }
    // Between the two smallest distinct FLOP counts F0 < F1 (rows of equal F merge by the
    // geometric mean of their rates, fit.h): a shape of F0's row with k + 1 has
    // F = F0·(k+1)/k, inside (F0, F1) since distinct shapes here differ by >= 5/4; its rate
    // is the power law through both, r0·(F/F0)^(log(r1/r0)/log(F1/F0)).
    std::map<double, std::vector<double>> by_flops;
    for (const GemmPoint& g : p.compute.gemm) {
      by_flops[flops(g)].push_back(g.tflops * 1e12);
    }
    REQUIRE(by_flops.size() >= 2);
    const auto geometric_mean = [](const std::vector<double>& v) {
      double log_sum = 0;
      for (const double x : v) {
        log_sum += std::log(x);
      }
      return std::exp(log_sum / static_cast<double>(v.size()));
    };
    const auto first = by_flops.begin();
    const auto second = std::next(first);
    const double f0 = first->first, f1 = second->first;
    const double r0 = geometric_mean(first->second), r1 = geometric_mean(second->second);
    const GemmPoint* base = nullptr;
    for (const GemmPoint& g : p.compute.gemm) {
      if (flops(g) == f0) {
        base = &g;
        break;
      }
    }
    REQUIRE(base != nullptr);
    const double f = f0 * static_cast<double>(base->k + 1) / static_cast<double>(base->k);
    REQUIRE(f < f1);
    const double rate = r0 * std::pow(f / f0, std::log(r1 / r0) / std::log(f1 / f0));
    CHECK(cost.gemm(base->m, base->n, base->k + 1).time.seconds() ==
          Approx(gemm_seconds(cost, p, base->m, base->n, base->k + 1, rate)).epsilon(1e-6));
  }
}

TEST_CASE("a calibrated profile's sliding-window and dilated rows are priced as measured",
          "[calibrate]") {
  // Oracle: models/cost.h corrects the tile price of a sliding-window or dilated call to the
  // kind rows' measurement, so each measured row is predicted as itself.
  const Profile& p = calibrated().p;
  const attnsim::models::CostModel cost(p, "fp32", "cpu");
  std::map<std::string, int> rows;
  for (const attnsim::calibrate::AttentionPoint& row : p.compute.attention) {
    if (row.kind.empty()) {
      continue;
    }
    INFO(row.kind << " " << row.pass << " s" << row.seq_q << " at " << row.tflops);
    if (row.kind == "sliding_window") {
      CHECK(row.window == row.seq_q / 4);
    } else {
      CHECK(row.segment_length == row.seq_q / 4);
      CHECK(row.dilation_rate == 4);
    }
    CHECK(attnsim::models::predicted_tflops(cost, row) == Approx(row.tflops).epsilon(1e-6));
    ++rows[row.kind];
  }
  CHECK(rows["sliding_window"] >= 2);  // both passes of the smallest length at least
  CHECK(rows["dilated"] >= 2);
}

TEST_CASE("a scenario beside a calibrated profile names it by relative path and simulates",
          "[calibrate]") {
  const fs::path& dir = calibrated().dir.path();
  {
    fs::copy_file(std::string(ATTNSIM_SOURCE_DIR) + "/tests/calibrate/cpu_scenario.json",
                  dir / "scenario.json", fs::copy_options::overwrite_existing);
    const attnsim::cli::Scenario scenario =
        attnsim::cli::load_scenario((dir / "scenario.json").string());
    const attnsim::report::Results results = attnsim::cli::simulate(scenario, 1);
    REQUIRE(results.points.size() == 1);
    const auto& point = results.points[0];
    CHECK(point.gpus == 2);
    CHECK(std::isfinite(point.step_time_s));
    CHECK(point.step_time_s > 0);
    CHECK(point.attention_time_s > 0);
    CHECK(point.compute_time_s >= point.attention_time_s);
    CHECK(point.tokens_per_s == Approx(4096 / point.step_time_s));
    CHECK(point.fits_memory);  // a 2-layer, 256-wide model in this machine's MemTotal
  }
}

TEST_CASE("calibrate leaves --out alone when it cannot run", "[unit]") {
  const TempDir dir;
  attnsim::cli::CalibrateOptions options;
  std::ostringstream out;
  std::ostringstream err;

  SECTION("a folder that does not exist fails before measuring") {
    options.backend = "cpu";
    options.out = (dir.path() / "missing" / "p.json").string();
    REQUIRE_THROWS_WITH(attnsim::cli::run_calibrate(options, out, err),
                        options.out + ": cannot write the file (no folder " +
                            (dir.path() / "missing").string() + ")");
    CHECK(err.str().empty());  // no progress: nothing was measured
  }

  SECTION("a folder given as --out fails before measuring") {
    options.backend = "cpu";
    for (const std::string& folder : {dir.path().string(), dir.path().string() + "/"}) {
      options.out = folder;
      REQUIRE_THROWS_WITH(attnsim::cli::run_calibrate(options, out, err),
                          folder + ": is a folder; --out takes the profile's file name, e.g. " +
                              (dir.path() / "profile.json").string());
    }
    CHECK(err.str().empty());
  }

  SECTION("--backend cuda in a binary without a usable CUDA backend") {
    const auto cuda = attnsim::calibrate::make_cuda_backend();
    if (cuda != nullptr && cuda->unavailable_reason().empty()) {
      WARN("this binary can measure a GPU: nothing to check");
      return;
    }
    options.backend = "cuda";
    options.out = (dir.path() / "p.json").string();
    REQUIRE_THROWS_AS(attnsim::cli::run_calibrate(options, out, err),
                      attnsim::config::RuntimeFailure);
    CHECK_FALSE(fs::exists(options.out));
    CHECK(fs::is_empty(dir.path()));
    // --inherit asks for a GPU calibration: "auto" does not fall back to the CPU then.
    options.backend = "auto";
    options.inherit = "h100-sxm";
    REQUIRE_THROWS_AS(attnsim::cli::run_calibrate(options, out, err),
                      attnsim::config::RuntimeFailure);
    CHECK(fs::is_empty(dir.path()));
  }

  SECTION("--inherit naming no built-in profile, or with --backend cpu") {
    options.out = (dir.path() / "p.json").string();
    options.inherit = "h100-sx";
    REQUIRE_THROWS_WITH(attnsim::cli::run_calibrate(options, out, err),
                        "--inherit: hardware profile: expected one of a100-sxm, b200, gb200, "
                        "gtx1080, h100-sxm, h200-sxm; got \"h100-sx\" (did you mean "
                        "\"h100-sxm\"?)");
    options.inherit = "h100-sxm";
    options.backend = "cpu";
    REQUIRE_THROWS_AS(attnsim::cli::run_calibrate(options, out, err), attnsim::cli::UsageError);
    CHECK(err.str().empty());
    CHECK(fs::is_empty(dir.path()));
  }
}

TEST_CASE("the calibration summary says where the scale-up link came from", "[unit]") {
  // A GPU calibration's link: measured point-to-point on a built-in's raw rate, or, with one
  // GPU, the built-in's whole (assemble.h): then nothing was fitted to the published rows.
  Profile p = attnsim::calibrate::builtin_profile("h100-sxm");
  std::ostringstream fitted;
  attnsim::cli::summarise_calibration(p, 12.5, "wrote p.json", fitted);
  CHECK_THAT(fitted.str(), Catch::Contains("scale-up link   point-to-point 334.98 GB/s of 450.00 "
                                           "raw (fitted to"));
  p.inherited_from = "h100-sxm";
  std::ostringstream inherited;
  attnsim::cli::summarise_calibration(p, 12.5, "wrote p.json", inherited);
  CHECK_THAT(inherited.str(),
             Catch::Contains("scale-up link   h100-sxm's, published (one GPU: no transfer to "
                             "measure)"));
  CHECK_THAT(inherited.str(), !Catch::Contains("fitted"));
}

TEST_CASE("on a terminal the progress is one bar redrawn in place, full at the end",
          "[calibrate]") {
  attnsim::cli::CalibrateOptions options;
  options.backend = "cpu";
  options.quick = true;
  options.progress_bar = true;
  std::ostringstream out;
  std::ostringstream err;
  REQUIRE(attnsim::cli::run_calibrate(options, out, err) == 0);
  // The bar's redraws, each "\r" + at least 79 characters (wiping the longer line before it),
  // then the newline finish() adds, then the summary.
  const std::string text = err.str();
  REQUIRE(text.starts_with("\r["));
  const std::size_t end = text.find('\n');
  REQUIRE(end != std::string::npos);
  std::vector<std::string> redraws;
  for (std::size_t at = 0; at < end;) {
    const std::size_t next = std::min(text.find('\r', at + 1), end);
    redraws.push_back(text.substr(at + 1, next - at - 1));
    at = next;
  }
  REQUIRE(redraws.size() > 3);
  for (const std::string& r : redraws) {
    CHECK(r.size() >= 79);
    CHECK(r.starts_with("["));
  }
  // The first point done, then every point: the last redraw is a full bar at total/total.
  CHECK_THAT(redraws.front(), Catch::Contains("] 1/"));
  const std::string& last = redraws.back();
  const std::size_t slash = last.find('/');
  const std::string done = last.substr(last.find("] ") + 2, slash - last.find("] ") - 2);
  const std::string total = last.substr(slash + 1, last.find(' ', slash) - slash - 1);
  CHECK(done == total);
  CHECK(last.starts_with("[" + std::string(30, '#') + "]"));
  CHECK(std::stoi(total) == static_cast<int>(redraws.size()));
  CHECK_THAT(text.substr(end + 1), Catch::StartsWith("attnsim calibrate: measured"));
}
