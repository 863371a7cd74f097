// SPDX-License-Identifier: Apache-2.0
// Error text is part of the interface (STYLE D7): these tests pin it verbatim.
#include "config/node.h"

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "config/edit_distance.h"
#include "config/error.h"
#include "config/registry.h"

using attnsim::config::InputError;
using attnsim::config::Node;

TEST_CASE("a negative number names its JSON pointer, expectation and value", "[unit][errors]") {
  const Node root =
      Node::parse_text("inline.json", R"({"topology": {"scale_up": {"bandwidth_GBps": -450}}})");
  REQUIRE_THROWS_WITH(root.child("topology").child("scale_up").positive("bandwidth_GBps"),
                      "inline.json: /topology/scale_up/bandwidth_GBps: expected a number > 0, "
                      "got -450");
}

TEST_CASE("a missing key says so", "[unit][errors]") {
  const Node root = Node::parse_text("inline.json", R"({"a": {}})");
  REQUIRE_THROWS_WITH(root.child("a").count("nodes"),
                      "inline.json: /a/nodes: expected an integer >= 1, got nothing (missing key)");
}

TEST_CASE("an unknown name lists the choices and suggests the closest", "[unit][errors]") {
  const Node root = Node::parse_text("s.json", R"({"strategy": "rign"})");
  const std::vector<std::string> names = {"ulysses", "ring", "zigzag_ring"};
  REQUIRE_THROWS_WITH(root.one_of("strategy", names),
                      "s.json: /strategy: expected one of ring, ulysses, zigzag_ring; got \"rign\" "
                      "(did you mean \"ring\"?)");
}

TEST_CASE("unknown keys are rejected with a suggestion; comment keys are not", "[unit][errors]") {
  const Node root = Node::parse_text(
      "s.json", R"({"scale_out": {"nic_bw_GBps": 50, "_note": "comment", "kind": "none"}})");
  const Node out = root.child("scale_out");
  (void)out.string("kind");
  (void)out.find("nic_bandwidth_GBps");
  REQUIRE_THROWS_WITH(out.reject_unknown_keys(),
                      "s.json: /scale_out: unknown key \"nic_bw_GBps\" (did you mean "
                      "\"nic_bandwidth_GBps\"?)");
}

TEST_CASE("a syntax error gives line and column", "[unit][errors]") {
  REQUIRE_THROWS_WITH(
      Node::parse_text("broken.json", "{\n  \"a\": 1,\n}"),
      Catch::Matchers::StartsWith("broken.json: line 3, column 1: JSON syntax error: "));
}

TEST_CASE("a folder or a missing file where a JSON file belongs says which", "[unit][errors]") {
  const std::string folder = std::filesystem::temp_directory_path().string();
  REQUIRE_THROWS_WITH(Node::parse_file(folder), folder + ": expected a JSON file, got a folder");
  const std::string missing = folder + "/attnsim-no-such-file.json";
  REQUIRE_THROWS_WITH(Node::parse_file(missing), missing + ": cannot open the file for reading");
}

// Found by the input fuzzer (tests/fuzz): nlohmann throws out_of_range, not parse_error,
// for a number beyond a double, and it escaped as an internal error.
TEST_CASE("a number beyond a double is bad input, not a crash", "[unit][errors]") {
  REQUIRE_THROWS_WITH(Node::parse_text("big.json", R"({"tflops": 1.125e1525})"),
                      "big.json: expected numbers a double can hold, got 1.125e1525");
}

TEST_CASE("integers reject fractions and out-of-range values", "[unit][errors]") {
  const Node root = Node::parse_text("i.json", R"({"n": 2.5, "m": 0, "k": 7})");
  REQUIRE_THROWS_WITH(root.count("n"), "i.json: /n: expected an integer >= 1, got 2.5");
  REQUIRE_THROWS_WITH(root.count("m"), "i.json: /m: expected an integer >= 1, got 0");
  REQUIRE(root.integer("k", 1, 8) == 7);
  REQUIRE_THROWS_WITH(root.integer("k", 1, 4), "i.json: /k: expected an integer in [1, 4], got 7");
}

TEST_CASE("context names the sweep point after the file", "[unit][errors]") {
  const Node root =
      Node::parse_text("s.json", R"({"tp": 3})").with_context("sweep point 3 of 8 (gpus=4096)");
  REQUIRE_THROWS_WITH(root.child("tp").fail("a divisor of gpus (4096)"),
                      "s.json: sweep point 3 of 8 (gpus=4096): /tp: expected a divisor of gpus "
                      "(4096), got 3");
}

TEST_CASE("edit distance counts single-character edits", "[unit]") {
  REQUIRE(attnsim::config::edit_distance("ring", "rign") == 1);
  REQUIRE(attnsim::config::edit_distance("kitten", "sitting") == 3);
  REQUIRE(attnsim::config::edit_distance("", "abc") == 3);
}

TEST_CASE("a registry builds by name and refuses duplicates", "[unit]") {
  attnsim::config::Registry<int> r("number");
  r.add("one", "the first", [](const Node&) { return std::make_unique<int>(1); });
  REQUIRE_THROWS_AS(r.add("one", "again", [](const Node&) { return std::make_unique<int>(1); }),
                    std::logic_error);
  const Node root = Node::parse_text("r.json", R"({"n": "one", "m": "two"})");
  REQUIRE(*r.make(root, "n") == 1);
  REQUIRE_THROWS_AS(r.make(root, "m"), InputError);
}
