// SPDX-License-Identifier: Apache-2.0
// The scenario reader (SPEC section 3): defaults, model presets and overrides, sweep expansion,
// the GPU-count override, --set, hardware paths relative to the scenario, and the bundled
// examples. Exact error lines live in tests/bad_input (bad_input_test.cpp).
#include "cli/scenario.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "config/error.h"
#include "tests/support/temp_dir.h"

using attnsim::cli::load_scenario;
using attnsim::cli::Scenario;
using attnsim::cli::ScenarioPoint;
using attnsim::cli::UsageError;
using attnsim::config::InputError;

namespace {

namespace fs = std::filesystem;

using attnsim::testing::TempDir;

/// Llama 3 8B, causal, ring on one DGX H100: the smallest complete scenario, plus `patch`
/// merged in (RFC 7386: null removes a key).
nlohmann::json base(const std::string& patch = "{}") {
  nlohmann::json doc = {
      {"hardware", "h100-sxm"},
      {"topology", {{"preset", "dgx-h100"}}},
      {"model", {{"preset", "llama3-8b"}}},
      {"attention", {{"kind", "causal"}}},
      {"workload", {{"sequence_length", 131072}}},
      {"parallelism", {{"strategy", "ring"}}},
  };
  doc.merge_patch(nlohmann::json::parse(patch));
  return doc;
}

Scenario load(const TempDir& dir, const nlohmann::json& doc,
              const std::vector<std::string>& sets = {}) {
  return load_scenario(dir.write("s.json", doc.dump(2)), sets);
}

std::string error_of(const TempDir& dir, const nlohmann::json& doc,
                     const std::vector<std::string>& sets = {}) {
  try {
    (void)load(dir, doc, sets);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string source_path(const std::string& relative) {
  return std::string(ATTNSIM_SOURCE_DIR) + "/" + relative;
}

}  // namespace

TEST_CASE("a scenario without a sweep is one point with the documented defaults", "[unit]") {
  const TempDir dir;
  const Scenario s = load(dir, base());
  REQUIRE(s.points.size() == 1);
  const ScenarioPoint& p = s.points[0];
  CHECK(p.label.empty());
  CHECK(p.parameters == nlohmann::json::object());
  CHECK(p.name == "s");  // the file name without .json
  CHECK(p.profile.name == "h100-sxm");
  CHECK(p.topology.gpus() == 8);
  CHECK(p.network_model == attnsim::sim::NetworkModel::kFlow);
  CHECK(p.simulated_layers == 4);
  CHECK(p.workload.phase == attnsim::models::Phase::kTraining);
  CHECK(p.workload.sequences_per_step == 1);
  CHECK(p.workload.recompute == attnsim::models::Recompute::kSelective);
  CHECK(p.workload.scope == attnsim::models::Scope::kModel);
  CHECK(p.workload.attention.kind == attnsim::models::AttentionKind::kCausal);
  CHECK(p.workload.attention.implementation.empty());
  // Degrees: tp = dp = pp = 1, so the strategy's degree cp takes all 8 GPUs.
  CHECK(p.parallelism.strategy == "ring");
  CHECK(p.parallelism.impl != nullptr);
  CHECK(p.parallelism.degrees.tp == 1);
  CHECK(p.parallelism.degrees.cp == 8);
  CHECK(p.parallelism.zero_stage == 1);
  CHECK(p.parallelism.sequence_parallel);
  CHECK(p.parallelism.microbatches == 1);  // sequences_per_step / dp
  CHECK_FALSE(p.document.contains("sweep"));
}

TEST_CASE("model presets give every field and overrides replace single fields", "[unit]") {
  const TempDir dir;
  SECTION("llama3-70b as in the Llama 3 paper, Table 3") {
    const attnsim::models::ModelShape m =
        load(dir, base(R"({"model": {"preset": "llama3-70b"}, "topology": {"nodes": 8}})"))
            .points[0]
            .workload.model;
    CHECK(m.name == "llama3-70b");
    CHECK(m.layers == 80);
    CHECK(m.hidden == 8192);
    CHECK(m.heads == 64);
    CHECK(m.kv_heads == 8);
    CHECK(m.head_dim == 128);
    CHECK(m.ffn_hidden == 28672);
    CHECK(m.vocab == 128256);
    CHECK(m.dtype == "bf16");
    CHECK(m.dtype_bytes == 2);
    CHECK(m.gated_mlp);
  }
  SECTION("an override changes one field and marks the model as modified") {
    const attnsim::models::ModelShape m =
        load(dir, base(R"({"model": {"layers": 2, "dtype": "fp8"}})")).points[0].workload.model;
    CHECK(m.name == "llama3-8b (modified)");
    CHECK(m.layers == 2);
    CHECK(m.hidden == 4096);  // kept from the preset
    CHECK(m.dtype_bytes == 1);
  }
  SECTION("gpt3-175b is multi-head with a GELU MLP of 4d") {
    const attnsim::models::ModelShape m =
        load(dir, base(R"({"model": {"preset": "gpt3-175b"}})")).points[0].workload.model;
    CHECK(m.kv_heads == m.heads);
    CHECK(m.ffn_hidden == 4 * m.hidden);
    CHECK_FALSE(m.gated_mlp);
  }
  SECTION("the LongNet seed baseline runs in fp32 (attention.md 1.3)") {
    const nlohmann::json doc = base(
        R"({"hardware": "gtx1080", "topology": {"preset": "pcie-gtx1080x2"},
            "model": {"preset": "longnet-seed-8x64"}, "workload": {"phase": "forward",
            "scope": "attention"}, "attention": {"kind": "dilated",
            "segment_lengths": [8192, 16384, 32768], "dilation_rates": [1, 2, 4]},
            "parallelism": {"strategy": "head_parallel"}})");
    const ScenarioPoint p = load(dir, doc).points[0];
    CHECK(p.workload.model.dtype_bytes == 4);
    CHECK(p.workload.model.heads * p.workload.model.head_dim == 512);
    CHECK(p.workload.attention.dilation_rates == std::vector<std::int64_t>{1, 2, 4});
    CHECK(p.workload.attention.dilated_heads == attnsim::models::DilatedHeads::kHeadGroups);
  }
  SECTION("a model given field by field needs no preset") {
    const nlohmann::json doc = base(
        R"({"model": {"preset": null, "layers": 2, "hidden": 1024, "heads": 16, "kv_heads": 4,
            "head_dim": 64, "ffn_hidden": 4096, "vocab": 0, "gated_mlp": false}})");
    const attnsim::models::ModelShape m = load(dir, doc).points[0].workload.model;
    CHECK(m.name == "custom");
    CHECK(m.kv_heads == 4);
    CHECK(m.dtype == "bf16");
  }
  SECTION("every preset loads") {
    for (const std::string& name : attnsim::cli::model_preset_names()) {
      INFO(name);
      nlohmann::json doc = base();
      doc["model"] = {{"preset", name}};
      doc["hardware"] = "b200";  // has every dtype the presets use
      doc["topology"] = {{"preset", "dgx-h100"}};
      CHECK_NOTHROW(load(dir, doc));
      CHECK(attnsim::cli::model_preset(name).contains("source"));
    }
  }
}

TEST_CASE("a sweep is the cross product in key order, the first key slowest", "[unit]") {
  // Keys sort as "gpus" < "workload.sequence_length": gpus is the outer loop.
  const TempDir dir;
  const Scenario s = load(dir, base(R"({"topology": {"preset": "h100-superpod"},
      "sweep": {"workload.sequence_length": [131072, 262144, 524288], "gpus": [64, 512]}})"));
  REQUIRE(s.points.size() == 6);
  CHECK(s.points[0].label == "sweep point 1 of 6 (gpus=64, workload.sequence_length=131072)");
  CHECK(s.points[1].label == "sweep point 2 of 6 (gpus=64, workload.sequence_length=262144)");
  CHECK(s.points[3].label == "sweep point 4 of 6 (gpus=512, workload.sequence_length=131072)");
  CHECK(s.points[5].parameters ==
        nlohmann::json{{"gpus", 512}, {"workload.sequence_length", 524288}});
  CHECK(s.points[2].workload.sequence_length == 524288);
  CHECK(s.points[2].document["workload"]["sequence_length"] == 524288);
  CHECK_FALSE(s.points[2].document.contains("sweep"));
  CHECK(s.document.contains("sweep"));  // the scenario keeps it
}

TEST_CASE("a swept GPU count resizes the topology and cp takes up the change", "[unit]") {
  // tp = 8 stays; cp = gpus / (tp·dp·pp) = 64/8 = 8, then 512/8 = 64.
  const TempDir dir;
  const Scenario s = load(dir, base(R"({"topology": {"preset": "h100-superpod"},
      "parallelism": {"tp": 8}, "sweep": {"gpus": [64, 512]}})"));
  REQUIRE(s.points.size() == 2);
  CHECK(s.points[0].topology.gpus() == 64);
  CHECK(s.points[0].parallelism.degrees.cp == 8);
  CHECK(s.points[1].topology.gpus() == 512);
  CHECK(s.points[1].parallelism.degrees.cp == 64);
  CHECK(s.points[1].parallelism.degrees.tp == 8);
  // The point's document records the size, so it reloads to the same point.
  CHECK(s.points[1].document["topology"]["nodes"] == 64);
}

TEST_CASE("sweep values set nested paths, creating objects on the way", "[unit]") {
  const TempDir dir;
  const Scenario s = load(dir, base(R"({"sweep": {"simulation.layers": [0, 2],
      "parallelism.strategy": ["ring", "ulysses"]}})"));
  REQUIRE(s.points.size() == 4);
  CHECK(s.points[0].parallelism.strategy == "ring");
  CHECK(s.points[0].simulated_layers == 0);
  CHECK(s.points[3].parallelism.strategy == "ulysses");
  CHECK(s.points[3].simulated_layers == 2);
}

TEST_CASE("--set overrides a field, and a swept one is fixed", "[unit]") {
  const TempDir dir;
  SECTION("a number") {
    const Scenario s = load(dir, base(), {"workload.sequence_length=262144"});
    CHECK(s.points[0].workload.sequence_length == 262144);
    CHECK(s.document["workload"]["sequence_length"] == 262144);
  }
  SECTION("a value that is not JSON is a string") {
    const Scenario s = load(dir, base(), {"parallelism.strategy=ulysses", "name=run 7"});
    CHECK(s.points[0].parallelism.strategy == "ulysses");
    CHECK(s.points[0].name == "run 7");
  }
  SECTION("a JSON object replaces a section") {
    const Scenario s =
        load(dir, base(), {R"(attention={"kind": "sliding_window", "window": 4096})"});
    CHECK(s.points[0].workload.attention.window == 4096);
  }
  SECTION("gpus sets the GPU count as a sweep does") {
    const Scenario s = load(dir, base(), {"gpus=64"});
    CHECK(s.points[0].topology.gpus() == 64);
    CHECK(s.points[0].parallelism.degrees.cp == 64);
  }
  SECTION("a --set on a swept path drops that sweep key") {
    const Scenario s = load(dir, base(R"({"topology": {"preset": "h100-superpod"},
                           "sweep": {"gpus": [64, 512], "workload.sequence_length": [1, 2]}})"),
                            {"gpus=128", "workload.sequence_length=8192"});
    REQUIRE(s.points.size() == 1);
    CHECK(s.points[0].topology.gpus() == 128);
    CHECK(s.points[0].workload.sequence_length == 8192);
  }
}

TEST_CASE("--set errors name the --set", "[errors]") {
  const TempDir dir;
  SECTION("a malformed --set is bad usage") {
    CHECK_THROWS_AS(load(dir, base(), {"workload.sequence_length"}), UsageError);
    CHECK_THROWS_AS(load(dir, base(), {"=5"}), UsageError);
    CHECK_THROWS_AS(load(dir, base(), {"workload..x=5"}), UsageError);
  }
  SECTION("a wrong value is bad input located at its field") {
    CHECK(error_of(dir, base(), {"parallelism.tp=3"}) ==
          "--set parallelism.tp=3: /parallelism/tp: expected a divisor of gpus (8), got 3");
  }
  SECTION("an unknown key set by --set") {
    CHECK(error_of(dir, base(), {"workload.sequence_lenght=5"}) ==
          "--set workload.sequence_lenght=5: /workload: unknown key \"sequence_lenght\" (did "
          "you mean \"sequence_length\"?)");
  }
  SECTION("inside a sweep point the point is named too") {
    CHECK(
        error_of(dir, base(R"({"sweep": {"simulation.layers": [1, 2]}})"), {"model.kv_heads=5"}) ==
        "--set model.kv_heads=5: sweep point 1 of 2 (simulation.layers=1): /model/kv_heads: "
        "expected a divisor of /model/heads (32), got 5");
  }
  SECTION("a path through a value that is not an object") {
    CHECK(error_of(dir, base(), {"hardware.name=x"}) ==
          "--set hardware.name=x: /hardware: expected an object to set \"name\" in, got "
          "\"h100-sxm\"");
  }
  SECTION("a GPU count that is not an integer") {
    CHECK(error_of(dir, base(), {"gpus=many"}) ==
          "--set gpus=many: expected an integer in [1, 1048576], got \"many\"");
  }
  SECTION("an error elsewhere still names the file") {
    const std::string e = error_of(dir, base(R"({"parallelism": {"tp": 3}})"), {"name=x"});
    CHECK(e.ends_with("s.json: /parallelism/tp: expected a divisor of gpus (8), got 3"));
  }
}

TEST_CASE("the strategy's own check runs on every point", "[unit]") {
  // USP on 8 GPUs with a Ulysses degree of 3: 3 divides neither cp = 8 nor 32 heads.
  const TempDir dir;
  CHECK_THROWS_AS(load(dir, base(R"({"parallelism": {"strategy": "usp", "ulysses_degree": 3}})")),
                  InputError);
  const Scenario s =
      load(dir, base(R"({"parallelism": {"strategy": "usp", "ulysses_degree": 4}})"));
  CHECK(s.points[0].parallelism.strategy == "usp");
}

TEST_CASE("the workload section per phase", "[unit]") {
  const TempDir dir;
  SECTION("decode reads context_length and batch; dp splits the batch") {
    const ScenarioPoint p =
        load(dir, base(R"({"workload": {"phase": "decode", "sequence_length": null,
                           "context_length": 65536, "batch": 8}, "parallelism": {"dp": 2}})"))
            .points[0];
    CHECK(p.workload.phase == attnsim::models::Phase::kDecode);
    CHECK(p.workload.context_length == 65536);
    CHECK(p.workload.batch == 8);
    CHECK(p.parallelism.degrees.cp == 4);
    CHECK(p.parallelism.microbatches == 1);  // decode steps the whole batch at once
  }
  SECTION("training with data and pipeline parallelism") {
    const ScenarioPoint p =
        load(dir, base(R"({"topology": {"nodes": 4}, "workload": {"sequences_per_step": 16,
                           "recompute": "full"}, "parallelism": {"dp": 4, "pp": 2,
                           "microbatches": 2}})"))
            .points[0];
    CHECK(p.workload.recompute == attnsim::models::Recompute::kFull);
    CHECK(p.parallelism.degrees.cp == 4);  // 32 / (1·4·2)
    CHECK(p.parallelism.microbatches == 2);
  }
}

TEST_CASE("a relative hardware path is taken relative to the scenario's folder", "[unit]") {
  const TempDir dir;
  std::ifstream in(source_path("calibrate/profiles/h100-sxm.json"));
  nlohmann::json profile = nlohmann::json::parse(in);
  profile["name"] = "my-h100";
  dir.write("exp/profiles/mine.json", profile.dump());
  nlohmann::json doc = base();
  doc["hardware"] = "profiles/mine.json";
  const Scenario s = load_scenario(dir.write("exp/s.json", doc.dump()));
  CHECK(s.points[0].profile.name == "my-h100");
}

TEST_CASE("every bundled scenario loads", "[unit]") {
  std::size_t count = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(source_path("scenarios"))) {
    const fs::path& p = entry.path();
    if (p.extension() != ".json" || p.filename() == "schema.json") {
      continue;
    }
    INFO(p.string());
    CHECK_NOTHROW(load_scenario(p.string()));
    ++count;
  }
  CHECK(count >= 2);
}

TEST_CASE("attnsim validate prints one line per scenario", "[unit]") {
  const std::string file = source_path("scenarios/llama3-70b-usp-superpod.json");
  std::ostringstream out;
  REQUIRE(attnsim::cli::run_validate({file, {}}, out) == 0);
  CHECK(out.str() == file + ": ok (4 points, strategy usp)\n");

  const TempDir dir;
  const std::string two = dir.write(
      "two.json", base(R"({"sweep": {"parallelism.strategy": ["ulysses", "ring"]}})").dump());
  std::ostringstream both;
  REQUIRE(attnsim::cli::run_validate({two, {}}, both) == 0);
  CHECK(both.str() == two + ": ok (2 points, strategies ring, ulysses)\n");
  std::ostringstream one;
  REQUIRE(attnsim::cli::run_validate({two, {"parallelism.strategy=ring"}}, one) == 0);
  CHECK(one.str() == two + ": ok (1 point, strategy ring)\n");
}

TEST_CASE("sweep points whose strategy does not apply are skipped with the reason", "[unit]") {
  const TempDir dir;
  const std::string superpod = R"({"topology": {"preset": "h100-superpod"}, )";
  const Scenario s = load(dir, base(superpod + R"("sweep": {"gpus": [8, 64],
                                       "parallelism.strategy": ["ulysses", "ring"]}})"));
  REQUIRE(s.points.size() == 3);
  REQUIRE(s.skipped.size() == 1);
  CHECK(s.skipped[0].parameters ==
        nlohmann::json{{"gpus", 64}, {"parallelism.strategy", "ulysses"}});
  CHECK_THAT(s.skipped[0].reason,
             Catch::Contains("sweep point 3 of 4") &&
                 Catch::Contains("/parallelism/strategy: expected a Ulysses degree (64) that "
                                 "divides the query heads per tensor-parallel rank (32)"));
  // When no point applies, the first one's message is the error.
  CHECK_THAT(error_of(dir, base(superpod + R"("sweep": {"gpus": [64, 128],
                                    "parallelism.strategy": ["ulysses"]}})")),
             Catch::Contains("sweep point 1 of 2") && Catch::Contains("Ulysses degree (64)"));
  // Without a sweep it is an error, as any bad input.
  CHECK_THAT(
      error_of(dir, base(superpod + R"("parallelism": {"strategy": "ulysses"}})"), {"gpus=64"}),
      Catch::Contains("expected a Ulysses degree (64)"));
}
