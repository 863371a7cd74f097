// SPDX-License-Identifier: Apache-2.0
#include "cli/sizes.h"

#include <catch2/catch.hpp>

using attnsim::cli::format_size;
using attnsim::cli::parse_size;

TEST_CASE("sizes parse the way nccl-tests writes them", "[unit]") {
  REQUIRE(parse_size("8") == 8u);
  REQUIRE(parse_size("64K") == 65536u);
  REQUIRE(parse_size("32M") == 33554432u);
  REQUIRE(parse_size("16G") == 17179869184u);
  REQUIRE_FALSE(parse_size(""));
  REQUIRE_FALSE(parse_size("0"));
  REQUIRE_FALSE(parse_size("1.5G"));
  REQUIRE_FALSE(parse_size("-8"));
  REQUIRE_FALSE(parse_size("12X"));
  REQUIRE(format_size(65536) == "64K");
  REQUIRE(format_size(3000) == "3000");
}
