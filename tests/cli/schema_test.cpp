// SPDX-License-Identifier: Apache-2.0
// scenarios/schema.json against the reader: every enum in the schema must list exactly the
// names the code accepts (STYLE C3 step 5), so editors that validate with the schema and
// `attnsim validate` agree on names. Adding a strategy, preset or kind fails here until the
// schema lists it.
#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli/scenario.h"
#include "models/strategies/strategy.h"
#include "topology/builtin.h"
#include "topology/presets.h"

namespace {

const nlohmann::json& schema() {
  static const nlohmann::json doc = [] {
    std::ifstream in(std::string(ATTNSIM_SOURCE_DIR) + "/scenarios/schema.json");
    return nlohmann::json::parse(in);
  }();
  return doc;
}

// The enum at a JSON pointer of the schema, as sorted strings.
std::vector<std::string> enum_at(const std::string& pointer) {
  auto names =
      schema().at(nlohmann::json::json_pointer(pointer + "/enum")).get<std::vector<std::string>>();
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("the schema is draft 2020-12 and closed where the reader rejects unknown keys",
          "[unit]") {
  CHECK(schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema");
  CHECK(schema()["additionalProperties"] == false);
  CHECK(schema()["required"] == nlohmann::json::array({"hardware", "topology", "model", "attention",
                                                       "workload", "parallelism"}));
  for (const char* section :
       {"topology", "model", "attention", "workload", "parallelism", "simulation"}) {
    INFO(section);
    CHECK(schema()["properties"][section]["additionalProperties"] == false);
    CHECK(schema()["properties"][section]["patternProperties"].contains("^_"));
  }
}

TEST_CASE("schema enums equal the names the code accepts", "[unit]") {
  namespace cli = attnsim::cli;
  namespace topo = attnsim::topology;
  CHECK(enum_at("/properties/parallelism/properties/strategy") ==
        attnsim::models::strategy_names());
  CHECK(enum_at("/properties/attention/properties/kind") == cli::attention_kind_names());
  CHECK(enum_at("/properties/attention/properties/implementation") ==
        cli::attention_implementation_names());
  CHECK(enum_at("/properties/workload/properties/phase") == cli::phase_names());
  CHECK(enum_at("/properties/model/properties/preset") == cli::model_preset_names());
  CHECK(enum_at("/properties/model/properties/dtype") == cli::dtype_names());
  CHECK(enum_at("/properties/network_model") == cli::network_model_names());
  CHECK(enum_at("/properties/topology/properties/preset") == topo::preset_names());
  CHECK(enum_at("/properties/topology/properties/scale_up/properties/kind") ==
        topo::scale_up_kinds().names());
  CHECK(enum_at("/properties/topology/properties/scale_out/properties/kind") ==
        topo::scale_out_kinds().names());
}

TEST_CASE("the schema has a rule for every strategy, attention kind and phase", "[unit]") {
  // Each allOf entry is {"if": {"properties": {<selector>: {"const": NAME}}}, "then": ...}.
  const auto covered = [](const std::string& section, const std::string& selector) {
    std::vector<std::string> names;
    for (const nlohmann::json& rule : schema()["properties"][section]["allOf"]) {
      names.push_back(rule["if"]["properties"][selector]["const"].get<std::string>());
    }
    std::sort(names.begin(), names.end());
    return names;
  };
  CHECK(covered("parallelism", "strategy") == attnsim::models::strategy_names());
  CHECK(covered("attention", "kind") == attnsim::cli::attention_kind_names());
  CHECK(covered("workload", "phase") == attnsim::cli::phase_names());
}
