// SPDX-License-Identifier: Apache-2.0
// The data-driven bad-input suite (STYLE C8): every tests/bad_input/scenario_<case>.json must
// fail to load with exactly the line in scenario_<case>.expected. An optional
// scenario_<case>.set holds --set arguments, one per line. Paths in messages are printed
// relative to the source tree, as a user running from the repository root would see them.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "cli/scenario.h"
#include "config/error.h"

namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const fs::path& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

// "<source dir>/tests/bad_input/x.json: ..." -> "tests/bad_input/x.json: ...".
std::string relative_to_source(std::string message) {
  const std::string root = std::string(ATTNSIM_SOURCE_DIR) + "/";
  for (std::size_t at = message.find(root); at != std::string::npos; at = message.find(root)) {
    message.erase(at, root.size());
  }
  return message;
}

}  // namespace

TEST_CASE("every bad scenario fails with exactly the line in its .expected file", "[errors]") {
  const fs::path dir = fs::path(ATTNSIM_SOURCE_DIR) / "tests" / "bad_input";
  std::vector<fs::path> cases;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    const fs::path& p = entry.path();
    if (p.extension() == ".json" && p.filename().string().starts_with("scenario_")) {
      cases.push_back(p);
    }
  }
  std::sort(cases.begin(), cases.end());
  REQUIRE(cases.size() >= 12);
  for (const fs::path& file : cases) {
    INFO(file.filename().string());
    fs::path expected_file = file;
    expected_file.replace_extension(".expected");
    const std::vector<std::string> expected = lines_of(expected_file);
    REQUIRE(expected.size() == 1);
    fs::path set_file = file;
    set_file.replace_extension(".set");
    const std::vector<std::string> sets =
        fs::exists(set_file) ? lines_of(set_file) : std::vector<std::string>{};
    std::string got = "(no error)";
    try {
      (void)attnsim::cli::load_scenario(file.string(), sets);
    } catch (const attnsim::config::InputError& e) {
      got = relative_to_source(e.what());
    }
    CHECK(got == expected[0]);
  }
}
