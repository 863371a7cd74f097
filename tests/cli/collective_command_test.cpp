// SPDX-License-Identifier: Apache-2.0
// `attnsim collective` output against the nccl-tests definitions it promises (SPEC 2).
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"

using attnsim::cli::CollectiveOptions;
using attnsim::cli::run_collective;

namespace {

nlohmann::json run_json(const std::string& op, long long gpus) {
  CollectiveOptions o;
  o.topology = "dgx-h100";
  o.op = op;
  o.gpus = gpus;
  o.min_bytes = "1K";
  o.max_bytes = "64M";
  o.json = true;
  std::ostringstream out;
  REQUIRE(run_collective(o, out) == 0);
  return nlohmann::json::parse(out.str());
}

}  // namespace

TEST_CASE("busbw is algbw times nccl-tests' factor and algbw is size over time", "[analytic]") {
  // nccl-tests: algbw = S / t; busbw = algbw x 2(n-1)/n (all_reduce), (n-1)/n (all_gather,
  // reduce_scatter, all_to_all), 1 (broadcast, reduce, send_recv). GB/s = 10^9 B/s.
  const std::map<std::string, double> factor = {
      {"all_reduce", 2.0 * 7 / 8}, {"all_gather", 7.0 / 8}, {"reduce_scatter", 7.0 / 8},
      {"all_to_all", 7.0 / 8},     {"broadcast", 1.0},      {"reduce", 1.0},
      {"send_recv", 1.0}};
  for (const auto& [op, f] : factor) {
    const nlohmann::json doc = run_json(op, 8);
    REQUIRE(doc["rows"].size() == 17);  // 1K .. 64M in factors of 2
    double previous = 0;
    for (const auto& row : doc["rows"]) {
      const double size = row["size_bytes"].get<double>();
      const double t = row["time_us"].get<double>();
      REQUIRE(row["algbw_GBps"].get<double>() == Approx(size / t * 1e-3));
      REQUIRE(row["busbw_GBps"].get<double>() == Approx(size / t * 1e-3 * f));
      REQUIRE(t >= previous);  // a larger message never finishes sooner
      previous = t;
    }
  }
}

TEST_CASE("each row says whether a measured table, its extension or the model priced it",
          "[unit]") {
  // h100-sxm (the default hardware of dgx-h100) measures all_reduce on 8 GPUs from 8 B to
  // 16 GiB (hardware.md T1) and no all_gather: correction.h's three cases.
  CollectiveOptions o;
  o.topology = "dgx-h100";
  o.op = "all_reduce";
  o.gpus = 8;
  o.min_bytes = "8G";
  o.max_bytes = "32G";
  o.json = true;
  std::ostringstream out;
  REQUIRE(run_collective(o, out) == 0);
  const nlohmann::json rows = nlohmann::json::parse(out.str())["rows"];
  REQUIRE(rows.size() == 3);
  CHECK(rows[0]["priced"] == "table");
  CHECK(rows[1]["priced"] == "table");
  CHECK(rows[2]["priced"] == "offset");
  o.op = "all_gather";
  std::ostringstream gather;
  REQUIRE(run_collective(o, gather) == 0);
  CHECK(nlohmann::json::parse(gather.str())["rows"][0]["priced"] == "model");
}

TEST_CASE("a size that does not parse is a usage error", "[errors]") {
  CollectiveOptions o;
  o.topology = "dgx-h100";
  o.op = "all_reduce";
  o.gpus = 8;
  o.max_bytes = "lots";
  std::ostringstream out;
  REQUIRE_THROWS_WITH(run_collective(o, out),
                      "--max-bytes: expected a size such as 8, 64K, 32M or 16G, got \"lots\"");
}
