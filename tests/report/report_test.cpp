// SPDX-License-Identifier: Apache-2.0
// `attnsim report` (issue 7): the projection's layout, best cells, crossovers and memory limits
// on hand-made results whose answers are known; and the whole report made from a small sweep
// (tests/report/small_sweep.json): every section, figure and table present, its numbers equal
// to results.json's, no external reference in the HTML, and nothing written when it fails.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/run_command.h"
#include "cli/scenario.h"
#include "config/error.h"
#include "config/node.h"
#include "report/claims.h"
#include "report/document.h"
#include "report/projection.h"
#include "tests/support/temp_dir.h"

using namespace attnsim;  // NOLINT(google-build-using-namespace): test brevity
using attnsim::report::FileText;
using attnsim::testing::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kSweep = std::string(ATTNSIM_SOURCE_DIR) + "/tests/report/small_sweep.json";

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A point whose step is compute + exposed attention communication.
report::Point point(const std::string& strategy, std::int64_t gpus, std::int64_t seq,
                    double compute_s, double exposed_attention_s, double memory_gb) {
  report::Point p;
  p.gpus = gpus;
  p.sequence_length = seq;
  p.strategy = strategy;
  p.requested_strategy = strategy;
  p.parameters = {{"gpus", gpus}, {"parallelism.strategy", strategy}};
  p.compute_time_s = compute_s;
  p.attention_time_s = compute_s / 2;
  p.exposed_comm_s = exposed_attention_s;
  p.exposed_comm_by_phase_s = {{"attention", exposed_attention_s}};
  p.step_time_s = compute_s + exposed_attention_s;
  p.tokens_per_s = static_cast<double>(seq) / p.step_time_s;
  p.comm_bytes_per_gpu = 1e6 * static_cast<double>(seq) / static_cast<double>(gpus);
  p.memory_per_gpu_bytes = memory_gb * 1e9;
  p.fits_memory = memory_gb <= 80;
  p.hardware = "h100-sxm";
  return p;
}

// Ulysses is faster on 8 GPUs; from 16 on its exposed all-to-all grows and ring wins. At 16
// GPUs and the longer sequence ring does not fit, so Ulysses is best there.
report::Results crossing() {
  report::Results r;
  r.attnsim_version = "0.1.0";
  r.scenario = {{"name", "crossing"}};
  r.hardware["h100-sxm"] = {{"hbm_bytes", 80e9}, {"peak_flops_per_s", 989e12}};
  r.points = {point("ulysses", 8, 1024, 1.0, 0.1, 40),  point("ring", 8, 1024, 1.0, 0.3, 40),
              point("ulysses", 16, 1024, 0.5, 0.4, 30), point("ring", 16, 1024, 0.5, 0.2, 30),
              point("ulysses", 16, 4096, 2.0, 0.4, 70), point("ring", 16, 4096, 2.0, 0.2, 90)};
  return r;
}

double sum_of(const std::vector<report::Segment>& segments) {
  double s = 0;
  for (const report::Segment& seg : segments) {
    s += seg.seconds;
  }
  return s;
}

}  // namespace

TEST_CASE("the projection lays points out by series, GPU count and sequence length", "[unit]") {
  const report::Results r = crossing();
  const report::Projection p = report::project(r);
  CHECK(p.series == std::vector<std::string>{"ulysses", "ring"});
  CHECK(p.gpus == std::vector<std::int64_t>{8, 16});
  CHECK(p.sequence_lengths == std::vector<std::int64_t>{1024, 4096});
  CHECK(p.at(1, 1, 0) == 3);
  CHECK(p.at(0, 0, 1) == report::kNone);  // no ulysses point at 8 GPUs, 4096 tokens
  // Best: the fastest that fits.
  CHECK(p.best_at(0, 0).series == 0);
  CHECK(p.best_at(1, 0).series == 1);
  CHECK(p.best_at(1, 1).series == 0);  // ring is faster there but needs 90 GB
  CHECK(p.best_at(1, 1).fits);
  CHECK(p.best_at(0, 1).point == report::kNone);
}

TEST_CASE("a crossover is explained by the part of the step that changed", "[unit]") {
  const report::Projection p = report::project(crossing());
  // 1024 tokens: ulysses at 8 GPUs, ring at 16: ulysses' exposed attention communication
  // grows from 100 ms to 400 ms while ring's falls from 300 ms to 200 ms; that difference,
  // 200 ms, is all of the 200 ms gap (0.9 s against 0.7 s).
  REQUIRE(p.crossovers.size() == 2);
  CHECK(p.crossovers[0] ==
        "At 1K tokens, ring overtakes ulysses from 16 GPUs on (700 ms per step against 900 ms) "
        "because ulysses's exposed attention communication grows from 100 ms to 400 ms from 8 "
        "GPUs to 16 GPUs while ring's falls from 300 ms to 200 ms (1e+02 % of the gap).");
  // On 16 GPUs, from 1K to 4K tokens, ring stops fitting: ulysses takes over.
  CHECK(p.crossovers[1] ==
        "On 16 GPUs, ulysses overtakes ring from 4K tokens on (2.4 s per step against 2.2 s) "
        "because ring no longer fits in memory: it needs 90.0 GB per GPU, and the GPU has 80.0 "
        "GB.");
  CHECK(std::find(p.memory_limits.begin(), p.memory_limits.end(),
                  "ring on 16 GPUs fits up to 1K tokens (30.0 GB per GPU); at 4K it needs 90.0 "
                  "GB, and the GPU has 80.0 GB.") != p.memory_limits.end());
  CHECK(p.memory_limits.front() == "Fits in memory at every point of the sweep: ulysses.");
}

TEST_CASE("skipped sweep points are listed with their reasons", "[unit]") {
  report::Results r = crossing();
  r.skipped = {{{{"gpus", 64}}, "s.json: sweep point 7 of 8: /parallelism/strategy: expected ..."}};
  const std::vector<FileText> files = report::render_report(r, report::project(r), {});
  REQUIRE(files[0].path == "report.md");
  CHECK_THAT(
      files[0].text,
      Catch::Contains("\n## Not simulated\n") &&
          Catch::Contains("- s.json: sweep point 7 of 8: /parallelism/strategy: expected ..."));
  r.skipped.clear();
  CHECK_THAT(report::render_report(r, report::project(r), {})[0].text,
             !Catch::Contains("Not simulated"));
}

TEST_CASE("claims are judged against the projection with a verdict and a reason", "[unit]") {
  report::Results r = crossing();
  r.scenario["claims"] = nlohmann::json::parse(R"([
    {"text": "ring, 16 GPUs, 1K: 1,400 tokens/s", "gpus": 16, "sequence_length": 1024,
     "strategy": "ring", "metric": "tokens_per_s", "value": 1400},
    {"text": "ring, 16 GPUs, 1K: 1,600 tokens/s", "gpus": 16, "sequence_length": 1024,
     "strategy": "ring", "metric": "tokens_per_s", "value": 1600},
    {"text": "best at 16 GPUs, 1K: 3,000 tokens/s", "gpus": 16, "sequence_length": 1024,
     "metric": "tokens_per_s", "value": 3000},
    {"text": "best at 16 GPUs, 1K: 0.35 s a step", "gpus": 16, "sequence_length": 1024,
     "metric": "step_time_s", "value": 0.35},
    {"text": "ring fits 4K on 16 GPUs", "gpus": 16, "sequence_length": 4096,
     "strategy": "ring", "metric": "fits_memory", "value": true},
    {"text": "ring on 16 GPUs at 4K: 2,000 tokens/s", "gpus": 16, "sequence_length": 4096,
     "strategy": "ring", "metric": "tokens_per_s", "value": 2000},
    {"text": "8 GPUs at 4K", "gpus": 8, "sequence_length": 4096, "metric": "mfu", "value": 0.5},
    {"text": "1 MB per token", "gpus": 16, "sequence_length": 1024, "strategy": "ulysses",
     "metric": "comm_bytes_per_token", "value": 1e6}
  ])");
  const std::vector<report::ClaimVerdict> v = report::judge_claims(r, report::project(r));
  REQUIRE(v.size() == 8);
  // ring at 16 GPUs and 1K tokens: 1024 tokens / 0.7 s = 1463 tokens/s.
  CHECK(v[0].projected == Approx(1024 / 0.7));
  CHECK(v[0].verdict == "holds");
  CHECK(v[1].verdict == "holds");  // 1600 / 1463 = 1.09: within 10 %
  CHECK(v[2].verdict == "off by 2.1x");
  CHECK(v[2].reason ==
        "ring on 16 GPUs at 1K tokens projects 1.46 K tokens/s against 3 K tokens/s claimed; of "
        "the 700 ms step, other compute takes 35.7 % and attention takes 35.7 %");
  CHECK(v[3].verdict == "off by 2x");  // 0.7 s against 0.35 s
  CHECK(v[4].verdict == "does not fit in memory");
  CHECK(v[4].reason ==
        "ring on 16 GPUs at 4K tokens: it needs 90.0 GB per GPU against 80.0 GB "
        "of HBM");
  CHECK(v[5].verdict == "does not fit in memory");
  CHECK(v[6].verdict == "not in the sweep");
  // Every GPU sends 1e6 x 1024 / 16 bytes: 1e6 bytes per token over all 16.
  CHECK(v[7].projected == Approx(1e6));
  CHECK(v[7].verdict == "holds");

  // Speedups: ring over ulysses at 16 GPUs, 1K tokens: 0.9 s / 0.7 s = 1.29x.
  r.scenario["claims"] = nlohmann::json::parse(R"([
    {"text": "ring 1.2x faster than ulysses", "gpus": 16, "sequence_length": 1024,
     "strategy": "ring", "baseline": "ulysses", "metric": "speedup", "value": 1.2},
    {"text": "ring 3x faster than ulysses", "gpus": 16, "sequence_length": 1024,
     "strategy": "ring", "baseline": "ulysses", "metric": "speedup", "value": 3},
    {"text": "head_parallel on 64 GPUs", "gpus": 64, "sequence_length": 1024,
     "strategy": "head_parallel", "metric": "fits_memory", "value": true}
  ])");
  r.skipped = {{{{"gpus", 64}, {"parallelism.strategy", "head_parallel"}},
                "s.json: sweep point 9 of 9: /parallelism/strategy: expected ..."}};
  const std::vector<report::ClaimVerdict> s = report::judge_claims(r, report::project(r));
  REQUIRE(s.size() == 3);
  CHECK(s[0].projected == Approx(0.9 / 0.7));
  CHECK(s[0].verdict == "holds");
  CHECK(s[1].verdict == "off by 2.3x");
  CHECK_THAT(s[1].reason, Catch::StartsWith("ring on 16 GPUs at 1K tokens projects 1.3x against "
                                            "3x claimed; ulysses: of the 900 ms step"));
  CHECK(s[2].verdict == "does not apply");
  CHECK(s[2].reason == r.skipped[0].reason);

  r.scenario["claims"][0].erase("baseline");
  CHECK_THROWS_WITH(report::judge_claims(r, report::project(r)),
                    "results: /claims/0/baseline: expected a string, got nothing (missing key)");
  r.scenario["claims"][0]["metric"] = "tokens_per_second";
  CHECK_THROWS_WITH(report::judge_claims(r, report::project(r)),
                    Catch::StartsWith("results: /claims/0/metric: expected one of"));
}

TEST_CASE("measurements are judged both ways: above, below or matching", "[unit]") {
  report::Results r = crossing();
  // ring at 16 GPUs and 1K tokens: 0.7 s a step, 1463 tokens/s; it needs 90 GB at 4K.
  r.scenario["claims"] = nlohmann::json::parse(R"([
    {"text": "measured 0.75 s", "kind": "measurement", "gpus": 16, "sequence_length": 1024,
     "strategy": "ring", "metric": "step_time_s", "value": 0.75},
    {"text": "measured 1.75 s", "kind": "measurement", "gpus": 16, "sequence_length": 1024,
     "strategy": "ring", "metric": "step_time_s", "value": 1.75},
    {"text": "measured 500 tokens/s", "kind": "measurement", "gpus": 16,
     "sequence_length": 1024, "strategy": "ring", "metric": "tokens_per_s", "value": 500},
    {"text": "measured OOM", "kind": "measurement", "gpus": 16, "sequence_length": 4096,
     "strategy": "ring", "metric": "fits_memory", "value": false},
    {"text": "claimed 1.75 s", "kind": "claim", "gpus": 16, "sequence_length": 1024,
     "strategy": "ring", "metric": "step_time_s", "value": 1.75}
  ])");
  const std::vector<report::ClaimVerdict> v = report::judge_claims(r, report::project(r));
  REQUIRE(v.size() == 5);
  CHECK(v[0].verdict == "matches");  // 0.7 / 0.75: 7 % below
  CHECK(v[1].verdict == "2.5x below measured");
  CHECK(v[1].reason ==
        "ring on 16 GPUs at 1K tokens projects 700 ms against 1.75 s measured; of "
        "the 700 ms step, other compute takes 35.7 % and attention takes 35.7 %");
  CHECK(v[2].verdict == "2.9x above measured");  // 1463 / 500
  CHECK(v[3].verdict == "matches");              // needs 90 GB of 80
  CHECK(v[4].verdict == "holds");                // a claim is one-sided: a shorter step still holds

  r.scenario["claims"][0]["kind"] = "measured";
  CHECK_THROWS_WITH(report::judge_claims(r, report::project(r)),
                    Catch::StartsWith("results: /claims/0/kind: expected one of"));
}

TEST_CASE("several sweeps make one document with all claims first", "[unit]") {
  report::Results a = crossing();
  a.scenario["claims"] = nlohmann::json::parse(R"([{"text": "ring fits 4K on 16 GPUs",
      "gpus": 16, "sequence_length": 4096, "strategy": "ring", "metric": "fits_memory",
      "value": true}])");
  const report::Results b = crossing();  // the same name: made unique as "crossing-2"
  const std::vector<report::Results> all = {a, b};
  const std::vector<report::Projection> projections = {report::project(a), report::project(b)};
  const std::vector<FileText> files = report::render_reports(all, projections, {{}, {}}, "Roadmap");
  std::vector<std::string> paths;
  for (const FileText& f : files) {
    paths.push_back(f.path);
  }
  CHECK(paths == std::vector<std::string>{"report.md", "report.html", "results/crossing.json",
                                          "results/crossing.csv", "results/crossing-2.json",
                                          "results/crossing-2.csv"});
  const std::string& md = files[0].text;
  CHECK(md.starts_with("# Roadmap\n"));
  const std::size_t claims = md.find("\n## Claims checked\n");
  const std::size_t first = md.find("\n## crossing: scaling projection\n");
  const std::size_t findings = md.find("\n### Findings\n");
  CHECK(claims < first);
  CHECK(first < findings);
  CHECK(md.find("| crossing | ring fits 4K on 16 GPUs | does not fit | does not fit in memory |") !=
        std::string::npos);
  CHECK(md.find("\n## Claims checked\n", claims + 1) == std::string::npos);  // only once
  CHECK(files[1].text.find("id=\"crossing-2-findings\"") != std::string::npos);
}

TEST_CASE("two points in one cell of one series are an input error", "[errors]") {
  report::Results r = crossing();
  r.points.push_back(r.points[0]);
  CHECK_THROWS_WITH(report::project(r),
                    "results: /points/6: expected one point per series, GPU count and sequence "
                    "length, got a second for ulysses on 8 GPUs at 1024 tokens");
  r.points.clear();
  CHECK_THROWS_AS(report::project(r), config::InputError);
}

TEST_CASE("series are named by the swept values other than the grid's axes", "[unit]") {
  report::Point p = point("ring", 8, 1024, 1, 0, 1);
  p.parameters["attention.kind"] = "dilated";
  p.parameters["workload.sequence_length"] = 1024;
  CHECK(report::series_label(p) == "ring (attention.kind=dilated)");
  p.requested_strategy = "auto";
  CHECK(report::series_label(p) == "auto (attention.kind=dilated)");
  p.requested_strategy = "ring";
  p.parameters.erase("attention.kind");
  p.parameters["parallelism"] = {{"strategy", "ring"}, {"ring_scope", "segment"}};
  CHECK(report::series_label(p) == "ring (ring_scope=segment)");
}

TEST_CASE("a simulated step's breakdown adds up to its step time", "[property]") {
  const cli::Scenario scenario = cli::load_scenario(kSweep);
  const report::Results r = cli::simulate(scenario, 2);
  for (const report::Point& p : r.points) {
    CAPTURE(p.strategy, p.gpus, p.sequence_length);
    CHECK(sum_of(report::time_breakdown(p)) == Approx(p.step_time_s).epsilon(1e-9));
    for (const report::Segment& s : report::time_breakdown(p)) {
      CHECK(s.seconds >= -1e-12 * p.step_time_s);
    }
  }
}

TEST_CASE("the report of a small sweep has every section, figure and table", "[golden]") {
  const TempDir tmp;
  const fs::path out = tmp.path() / "report";
  std::ostringstream said;
  cli::ReportOptions options;
  options.inputs = {kSweep};
  options.out_dir = out.string();
  options.jobs = 2;
  REQUIRE(cli::run_report(options, said) == 0);
  const std::string md = read(out / "report.md");
  const std::string html = read(out / "report.html");
  const report::Results results =
      report::parse_results(config::Node::parse_file((out / "results.json").string()));
  REQUIRE(results.points.size() == 18);

  for (const char* section :
       {"# report-test-small-sweep: scaling projection", "## Findings",
        "## Best strategy at each point", "## Scaling with GPU count",
        "## Scaling with sequence length", "## Where memory runs out",
        "## Time breakdown of the best strategy", "## Crossovers", "## What was extrapolated",
        "## Hardware profile", "## All points", "## Reproduce"}) {
    CAPTURE(section);
    CHECK(("\n" + md).find(std::string("\n") + section + "\n") != std::string::npos);
    const std::string title = std::string(section).substr(std::string(section).find(' ') + 1);
    CHECK(html.find(">" + title + "</h") != std::string::npos);
  }
  // Every figure: a file, referenced from the markdown, inline in the HTML.
  const std::vector<std::string> figures = {
      "best_strategy.svg",        "best_breakdown.svg",        "step_time_vs_gpus.svg",
      "tokens_per_s_vs_gpus.svg", "mfu_vs_gpus.svg",           "memory_vs_gpus.svg",
      "exposed_comm_vs_gpus.svg", "step_time_vs_sequence.svg", "tokens_per_s_vs_sequence.svg",
      "mfu_vs_sequence.svg",      "memory_vs_sequence.svg",    "exposed_comm_vs_sequence.svg"};
  for (const std::string& f : figures) {
    CAPTURE(f);
    const std::string svg = read(out / "plots" / f);
    CHECK(svg.find("<svg") != std::string::npos);
    CHECK(svg.find("<path") != std::string::npos);
    CHECK(md.find("(plots/" + f + ")") != std::string::npos);
  }
  std::size_t inline_images = 0;
  for (std::size_t at = 0;
       (at = html.find("src=\"data:image/svg+xml;base64,", at)) != std::string::npos; ++at) {
    ++inline_images;
  }
  CHECK(inline_images == figures.size());
  CHECK(std::distance(fs::directory_iterator(out / "plots"), fs::directory_iterator()) ==
        static_cast<std::ptrdiff_t>(figures.size()));
  // Every series draws in its colour in the figures against GPU count.
  const std::string step_plot = read(out / "plots" / "step_time_vs_gpus.svg");
  for (std::size_t k = 0; k < 3; ++k) {
    const std::string hex = report::series_colour(k);  // "#rrggbb"; gnuplot writes rgb(r, g, b)
    char rgb[32];
    std::snprintf(rgb, sizeof rgb, "rgb(%3d, %3d, %3d)", std::stoi(hex.substr(1, 2), nullptr, 16),
                  std::stoi(hex.substr(3, 2), nullptr, 16),
                  std::stoi(hex.substr(5, 2), nullptr, 16));
    CAPTURE(rgb);
    CHECK(step_plot.find(rgb) != std::string::npos);
  }
  // A memory limit is marked: ulysses on 8 GPUs does not fit 512K tokens.
  CHECK(md.find("ulysses on 8 GPUs fits up to 128K tokens") != std::string::npos);

  SECTION("the HTML references nothing outside itself") {
    CHECK(html.find("http://") == std::string::npos);
    CHECK(html.find("https://") == std::string::npos);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("url(") == std::string::npos);
    CHECK(html.find("@import") == std::string::npos);
    for (const std::string attribute : {"src=\"", "href=\""}) {
      for (std::size_t at = html.find(attribute); at != std::string::npos;
           at = html.find(attribute, at + 1)) {
        CHECK(html.compare(at + attribute.size(), 5, "data:") == 0);
      }
    }
  }

  SECTION("the all-points table holds results.json's numbers") {
    // | series | GPUs | tokens | strategy | step_time_s | tokens_per_s | mfu | exposed_comm_s |
    // memory_per_gpu_GB | fits_memory | bottleneck |, in results.json's order.
    const std::size_t begin = md.find("## All points");
    const std::size_t end = md.find("## Reproduce");
    std::istringstream table(md.substr(begin, end - begin));
    std::vector<std::vector<std::string>> rows;
    for (std::string line; std::getline(table, line);) {
      if (line.rfind("| ", 0) != 0 || line.find("| series |") == 0) {
        continue;
      }
      std::vector<std::string> cells;
      std::istringstream fields(line.substr(1));
      for (std::string cell; std::getline(fields, cell, '|');) {
        cells.push_back(cell.substr(1, cell.size() - 2));
      }
      rows.push_back(cells);
    }
    REQUIRE(rows.size() == results.points.size());
    const auto same = [](const std::string& text, double value) {
      // Four significant digits: within half a unit of the fourth.
      return std::abs(std::stod(text) - value) <= 5e-4 * std::abs(value) + 1e-300;
    };
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const report::Point& p = results.points[i];
      CAPTURE(i);
      REQUIRE(rows[i].size() == 11);
      CHECK(rows[i][1] == std::to_string(p.gpus));
      CHECK(rows[i][2] == std::to_string(p.sequence_length));
      CHECK(rows[i][3] == p.strategy);
      CHECK(same(rows[i][4], p.step_time_s));
      CHECK(same(rows[i][5], p.tokens_per_s));
      CHECK(same(rows[i][6], p.mfu));
      CHECK(same(rows[i][7], p.exposed_comm_s));
      CHECK(same(rows[i][8], p.memory_per_gpu_bytes / 1e9));
      CHECK(rows[i][9] == (p.fits_memory ? "yes" : "no"));
    }
  }

  SECTION("the best-strategy table names the fastest point that fits in each cell") {
    // Recomputed here from results.json, independently of report::project().
    std::map<std::pair<std::int64_t, std::int64_t>, const report::Point*> best;
    for (const report::Point& p : results.points) {
      const report::Point*& b = best[{p.gpus, p.sequence_length}];
      if (b == nullptr || (p.fits_memory && !b->fits_memory) ||
          (p.fits_memory == b->fits_memory && p.step_time_s < b->step_time_s)) {
        b = &p;
      }
    }
    for (const auto& [cell, p] : best) {
      CAPTURE(cell.first, cell.second);
      const std::string text = (p->fits_memory ? "" : "none fits (") + p->strategy + " " +
                               report::format_seconds(p->step_time_s);
      CHECK(md.find("| " + text) != std::string::npos);
    }
  }

  SECTION("a report from the results folder is the same report") {
    const fs::path again = tmp.path() / "again";
    cli::ReportOptions from_dir;
    from_dir.inputs = {out.string()};
    from_dir.out_dir = again.string();
    REQUIRE(cli::run_report(from_dir, said) == 0);
    // Only the simulation's wall time differs between two runs; this report re-reads it.
    CHECK(read(again / "report.md") == md);
    CHECK(read(again / "results.json") == read(out / "results.json"));
  }
}

TEST_CASE("a failed report writes nothing to --out", "[errors]") {
  const TempDir tmp;
  const fs::path out = tmp.path() / "nested" / "report";
  cli::ReportOptions options;
  options.out_dir = out.string();

  // Bad input: a scenario with a misspelt strategy.
  options.inputs = {std::string(ATTNSIM_SOURCE_DIR) +
                    "/tests/bad_input/scenario_misspelt_strategy.json"};
  std::ostringstream said;
  CHECK_THROWS_AS(cli::run_report(options, said), config::InputError);
  CHECK_FALSE(fs::exists(tmp.path() / "nested"));

  // A runtime failure: no gnuplot on the PATH.
  const TempDir results_dir;
  const cli::Scenario scenario = cli::load_scenario(kSweep);
  report::write_results(cli::simulate(scenario, 2), results_dir.path().string());
  options.inputs = {results_dir.path().string()};
  const std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  setenv("PATH", "/nonexistent", 1);
  CHECK_THROWS_WITH(cli::run_report(options, said),
                    Catch::Contains("gnuplot") && Catch::Contains("gnuplot-nox"));
  setenv("PATH", path.c_str(), 1);
  CHECK_FALSE(fs::exists(tmp.path() / "nested"));

  // An existing --out keeps what it had.
  fs::create_directories(out);
  std::ofstream(out / "report.md") << "before";
  setenv("PATH", "/nonexistent", 1);
  CHECK_THROWS_AS(cli::run_report(options, said), config::RuntimeFailure);
  setenv("PATH", path.c_str(), 1);
  CHECK(read(out / "report.md") == "before");
  CHECK_FALSE(fs::exists(out / "report.html"));
}
