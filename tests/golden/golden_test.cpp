// SPDX-License-Identifier: Apache-2.0
// Golden results (STYLE C8): every bundled scenario in scenarios/ is simulated in-process and
// compared with tests/golden/<name>.results.json field by field, numbers to a relative 1e-9,
// except sim_wall_s (the machine's wall clock). A difference is either a bug or a model change;
// ATTNSIM_UPDATE_GOLDEN=1 rewrites the files, and the diff is reviewed like code.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli/run_command.h"
#include "cli/scenario.h"

using namespace attnsim;  // NOLINT(google-build-using-namespace): test brevity

namespace {

/// Compares `got` with `want`, reporting the JSON pointer of the first few differences.
void compare(const nlohmann::json& got, const nlohmann::json& want, const std::string& where,
             std::vector<std::string>& diffs) {
  if (diffs.size() > 10) {
    return;
  }
  if (got.is_number() && want.is_number()) {
    const double a = got.get<double>();
    const double b = want.get<double>();
    if (std::abs(a - b) > 1e-9 * std::max(std::abs(a), std::abs(b))) {
      diffs.push_back(where + ": " + got.dump() + " != " + want.dump());
    }
    return;
  }
  if (got.type() != want.type()) {
    diffs.push_back(where + ": " + got.dump() + " != " + want.dump());
    return;
  }
  if (got.is_object()) {
    for (const auto& [key, value] : want.items()) {
      if (key == "sim_wall_s") {
        continue;
      }
      if (!got.contains(key)) {
        diffs.push_back(where + "/" + key + ": missing");
        continue;
      }
      compare(got.at(key), value, where + "/" + key, diffs);
    }
    for (const auto& [key, value] : got.items()) {
      if (!want.contains(key)) {
        diffs.push_back(where + "/" + key + ": not in the golden file");
      }
    }
    return;
  }
  if (got.is_array()) {
    if (got.size() != want.size()) {
      diffs.push_back(where + ": " + std::to_string(got.size()) + " elements, golden has " +
                      std::to_string(want.size()));
      return;
    }
    for (std::size_t i = 0; i < got.size(); ++i) {
      compare(got[i], want[i], where + "/" + std::to_string(i), diffs);
    }
    return;
  }
  if (got != want) {
    diffs.push_back(where + ": " + got.dump() + " != " + want.dump());
  }
}

}  // namespace

TEST_CASE("every bundled scenario reproduces its golden results", "[golden]") {
  namespace fs = std::filesystem;
  const fs::path root = ATTNSIM_SOURCE_DIR;
  const bool update = std::getenv("ATTNSIM_UPDATE_GOLDEN") != nullptr;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(root / "scenarios")) {
    if (entry.path().extension() == ".json" && entry.path().filename() != "schema.json") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  REQUIRE(!files.empty());
  for (const fs::path& file : files) {
    const std::string name = file.stem().string();
    SECTION(name) {
      const cli::Scenario scenario = cli::load_scenario(file.string());
      nlohmann::json got = nlohmann::json::parse(report::to_json_text(cli::simulate(scenario, 2)));
      const fs::path golden = root / "tests" / "golden" / (name + ".results.json");
      if (update) {
        std::ofstream(golden) << got.dump(1) << "\n";
      }
      std::ifstream in(golden);
      INFO("golden file " << golden.string() << " (ATTNSIM_UPDATE_GOLDEN=1 writes it)");
      REQUIRE(in.good());
      const nlohmann::json want = nlohmann::json::parse(in);
      std::vector<std::string> diffs;
      compare(got, want, "", diffs);
      std::ostringstream text;
      for (const std::string& d : diffs) {
        text << "\n  " << d;
      }
      INFO(name << ": differences" << text.str());
      CHECK(diffs.empty());
    }
  }
}
