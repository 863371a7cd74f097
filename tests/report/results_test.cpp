// SPDX-License-Identifier: Apache-2.0
// results.json, results.csv, the table and the atomic write (SPEC sections 2 and 4).
#include "report/results.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "config/error.h"

using attnsim::config::InputError;
using attnsim::config::Node;
using attnsim::config::RuntimeFailure;
using attnsim::report::csv_columns;
using attnsim::report::format_table;
using attnsim::report::parse_results;
using attnsim::report::Point;
using attnsim::report::Results;
using attnsim::report::to_csv;
using attnsim::report::to_json;
using attnsim::report::to_json_text;
using attnsim::report::write_results;

namespace fs = std::filesystem;

namespace {

// Two points with every field set, values chosen to stress the formats: doubles with no short
// decimal form (0.1 + 0.2, 1/3), a strategy name with a comma and a quote (CSV quoting), and
// auto with a reason, notes and extrapolations (table footnotes).
Results sample() {
  Results r;
  r.attnsim_version = "0.1.0";
  r.scenario = {{"name", "llama3-70b-128k"}, {"sweep", {{"gpus", {8, 64}}}}};
  Point a;
  a.gpus = 8;
  a.strategy = "ring";
  a.sequence_length = 131072;
  a.parameters = {{"gpus", 8}, {"workload.sequence_length", 131072}};
  a.step_time_s = 0.1 + 0.2;
  a.tokens_per_s = 131072 / (0.1 + 0.2);
  a.mfu = 1.0 / 3;
  a.attention_time_s = 0.2;
  a.compute_time_s = 0.25;
  a.comm_time_s = 0.05;
  a.exposed_comm_s = 0.0123;
  a.comm_bytes_per_gpu = 1e9;
  a.memory_per_gpu_bytes = 61.2e9;
  a.fits_memory = true;
  a.sim_events = 123456789;
  a.sim_wall_s = 0.5;
  a.requested_strategy = "ring";
  a.degrees = {{"cp", 8}, {"tp", 1}, {"dp", 1}, {"pp", 1}};
  a.exposed_comm_by_phase_s = {{"attention", 0.01}, {"dp", 0.0023}};
  a.memory_breakdown_bytes = {{"weights", 17.5e9}, {"activations", 30e9}};
  a.pipeline_bubble_s = 0;
  a.bottleneck = {"nvlink", 0.87, 4.5e9};
  Point b = a;
  b.gpus = 64;
  b.strategy = "zig,zag \"ring\"";
  b.requested_strategy = "auto";
  b.reason = "fastest that fits in memory";
  b.sequence_length = 1048576;
  b.parameters = {{"gpus", 64}, {"workload.sequence_length", 1048576}};
  b.step_time_s = 2.5;
  b.fits_memory = false;
  b.extrapolated = {"attention_fwd", "all_to_all"};
  b.notes = {"approximate attention (hierarchical)"};
  r.points = {a, b};
  r.skipped = {{{{"gpus", 64}, {"parallelism.strategy", "ulysses"}},
                "s.json: sweep point 4 of 4: /parallelism/strategy: expected a Ulysses degree (64) "
                "that divides the query heads per tensor-parallel rank (32), got \"ulysses\""}};
  r.hardware["h100-sxm"] = {{"hbm_bytes", 8e10}, {"provenance", {{"source", "published"}}}};
  return r;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A fresh empty folder under the system temp folder.
fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("attnsim_report_test_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("results read back equal to what was written", "[unit]") {
  // Oracle: parse_results is the inverse of to_json, field by field (the structs compare with
  // a defaulted ==, so doubles must round-trip exactly), in memory and through the file text.
  const Results r = sample();
  SECTION("from the value") {
    REQUIRE(parse_results(Node::from_json("results.json", to_json(r))) == r);
  }
  SECTION("from the text, whose keys keep SPEC order") {
    const std::string text = to_json_text(r);
    REQUIRE(parse_results(Node::parse_text("results.json", text)) == r);
    REQUIRE(text.find("\"gpus\"") < text.find("\"step_time_s\""));
    REQUIRE(text.find("\"sim_wall_s\"") < text.find("\"degrees\""));
  }
  SECTION("every SPEC section 4 field is there under its own name") {
    const nlohmann::json point = to_json(r)["points"][0];
    for (const char* key : {"gpus", "strategy", "sequence_length", "parameters", "step_time_s",
                            "tokens_per_s", "mfu", "attention_time_s", "compute_time_s",
                            "comm_time_s", "exposed_comm_s", "comm_bytes_per_gpu",
                            "memory_per_gpu_bytes", "fits_memory", "sim_events", "sim_wall_s"}) {
      REQUIRE(point.contains(key));
    }
    REQUIRE(point["bottleneck"]["link_class"] == "nvlink");
  }
}

TEST_CASE("a results file with only the SPEC fields reads with empty extensions", "[unit]") {
  // The extensions are optional (a hand-written file); the SPEC fields are not.
  nlohmann::json doc = to_json(sample());
  for (auto& point : doc["points"]) {
    for (const char* key :
         {"degrees", "exposed_comm_by_phase_s", "memory_breakdown_bytes", "pipeline_bubble_s",
          "bottleneck", "requested_strategy", "reason", "extrapolated", "notes"}) {
      point.erase(key);
    }
  }
  const Results r = parse_results(Node::from_json("results.json", doc));
  REQUIRE(r.points.size() == 2);
  REQUIRE(r.points[1].notes.empty());
  REQUIRE(r.points[1].step_time_s == 2.5);
  doc["points"][0].erase("mfu");
  REQUIRE_THROWS_WITH(parse_results(Node::from_json("results.json", doc)),
                      "results.json: /points/0/mfu: expected a number >= 0, got nothing "
                      "(missing key)");
}

TEST_CASE("an unknown key in a results file is a located error", "[unit]") {
  // STYLE C7: unknown keys are errors naming the file, the pointer and a close known key.
  nlohmann::json doc = to_json(sample());
  SECTION("in a point") {
    doc["points"][1]["step_time"] = 1;
    REQUIRE_THROWS_AS(parse_results(Node::from_json("out/results.json", doc)), InputError);
    REQUIRE_THROWS_WITH(parse_results(Node::from_json("out/results.json", doc)),
                        "out/results.json: /points/1: unknown key \"step_time\" (did you mean "
                        "\"step_time_s\"?)");
  }
  SECTION("in the bottleneck") {
    doc["points"][0]["bottleneck"]["utilisation"] = 0.5;
    REQUIRE_THROWS_WITH(parse_results(Node::from_json("out/results.json", doc)),
                        "out/results.json: /points/0/bottleneck: unknown key \"utilisation\" "
                        "(did you mean \"utilization\"?)");
  }
  SECTION("at the top") {
    doc["point"] = nlohmann::json::array();
    REQUIRE_THROWS_WITH(parse_results(Node::from_json("out/results.json", doc)),
                        "out/results.json: /: unknown key \"point\" (did you mean \"points\"?)");
  }
}

TEST_CASE("results.csv has the header and one row per point, quoted where needed", "[unit]") {
  // RFC 4180: fields with a comma or a quote are quoted and their quotes doubled; the swept
  // values are one compact JSON field. Doubles use the shortest text that reads back equal.
  const Results r = sample();
  const std::vector<std::string> rows = lines(to_csv(r));
  REQUIRE(rows.size() == 1 + r.points.size());
  REQUIRE(rows[0] ==
          "gpus,strategy,sequence_length,parameters,step_time_s,tokens_per_s,mfu,"
          "attention_time_s,compute_time_s,comm_time_s,exposed_comm_s,comm_bytes_per_gpu,"
          "memory_per_gpu_bytes,fits_memory,sim_events,sim_wall_s,bottleneck_link,"
          "bottleneck_utilization");
  REQUIRE(csv_columns().size() == 18);
  REQUIRE(rows[1] ==
          "8,ring,131072,\"{\"\"gpus\"\":8,\"\"workload.sequence_length\"\":131072}\","
          "0.30000000000000004,436906.6666666666,0.3333333333333333,0.2,0.25,0.05,0.0123,"
          "1000000000,61200000000,true,123456789,0.5,nvlink,0.87");
  REQUIRE(rows[2].starts_with("64,\"zig,zag \"\"ring\"\"\",1048576,"));
  // The doubles read back exactly.
  REQUIRE(std::stod("0.30000000000000004") == 0.1 + 0.2);
  REQUIRE(std::stod("436906.6666666666") == 131072 / (0.1 + 0.2));
}

TEST_CASE("the table shows one aligned row per point and footnotes", "[unit]") {
  // Human units: 131072 tokens is 128K (binary), 0.3 s stays seconds, 0.0123 s is 12.3 ms,
  // 61.2e9 bytes is 61.2 GB (10^9); auto shows what it chose; notes become footnotes, the
  // same text one number.
  const std::string table = format_table(sample());
  const std::vector<std::string> rows = lines(table);
  // header, rule, 2 points, blank, 3 footnotes, blank, the skipped point's heading and line
  REQUIRE(rows.size() == 2 + 2 + 1 + 3 + 3);
  REQUIRE(rows[0].starts_with("gpus  strategy"));
  REQUIRE(rows[2].find("128K") != std::string::npos);
  REQUIRE(rows[2].find("0.300 s") == std::string::npos);
  REQUIRE(rows[2].find("0.30 s") == std::string::npos);
  REQUIRE(rows[2].find("300 ms") != std::string::npos);
  REQUIRE(rows[2].find("12.3 ms") != std::string::npos);
  REQUIRE(rows[2].find("61.2 GB") != std::string::npos);
  REQUIRE(rows[2].find("nvlink 87%") != std::string::npos);
  REQUIRE(rows[2].find("33.3%") != std::string::npos);
  REQUIRE(rows[3].find("auto\u2192zig,zag \"ring\"") != std::string::npos);
  REQUIRE(rows[3].find("1M") != std::string::npos);
  REQUIRE(rows[3].find("2.50 s") != std::string::npos);
  REQUIRE(rows[3].find("NO") != std::string::npos);
  REQUIRE(rows[3].ends_with("[1,2,3]"));
  REQUIRE(rows[5] == "[1] approximate attention (hierarchical)");
  REQUIRE(rows[6] == "[2] extrapolated beyond measured data: attention_fwd, all_to_all");
  REQUIRE(rows[7] == "[3] auto: fastest that fits in memory");
  REQUIRE(rows[9] == "not simulated (the strategy does not apply):");
  REQUIRE(rows[10].starts_with("  s.json: sweep point 4 of 4: /parallelism/strategy:"));
  REQUIRE(format_table(sample()) == table);
  INFO(table);
}

TEST_CASE("write_results creates the folder and both files", "[unit]") {
  // Oracle: the files hold exactly to_json_text and to_csv, and no temporary is left.
  const fs::path dir = fresh_dir("ok") / "a" / "b";
  const Results r = sample();
  write_results(r, dir.string());
  REQUIRE(read(dir / "results.json") == to_json_text(r));
  REQUIRE(read(dir / "results.csv") == to_csv(r));
  REQUIRE(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 2);
  SECTION("and replaces earlier ones") {
    Results shorter = r;
    shorter.points.pop_back();
    write_results(shorter, dir.string());
    REQUIRE(read(dir / "results.csv") == to_csv(shorter));
  }
}

TEST_CASE("a failed write_results throws and leaves nothing new behind", "[unit]") {
  // SPEC section 2: nothing is written to --out unless the run succeeds. Tests run as root, so
  // permissions cannot make a path unwritable; a file where a folder should be, and a folder
  // where results.csv should go, can.
  const fs::path base = fresh_dir("fail");
  SECTION("a folder that cannot be created") {
    std::ofstream(base / "file") << "x";
    const fs::path dir = base / "file" / "out";
    REQUIRE_THROWS_AS(write_results(sample(), dir.string()), RuntimeFailure);
    REQUIRE_THROWS_WITH(write_results(sample(), dir.string()), Catch::Contains(dir.string()));
    REQUIRE(std::distance(fs::directory_iterator(base), fs::directory_iterator()) == 1);
  }
  SECTION("results.csv cannot replace a folder: results.json is not left either") {
    const fs::path dir = base / "new" / "out";
    fs::create_directories(dir / "results.csv" / "occupied");
    REQUIRE_THROWS_WITH(write_results(sample(), dir.string()),
                        Catch::StartsWith((dir / "results.csv").string() + ": cannot write"));
    REQUIRE(!fs::exists(dir / "results.json"));
    REQUIRE(!fs::exists(dir / "results.json.tmp"));
    REQUIRE(!fs::exists(dir / "results.csv.tmp"));
  }
}
