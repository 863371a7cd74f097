// SPDX-License-Identifier: Apache-2.0
// What the CPU backend reads about the machine (calibrate/cpu/host_info.h), from sample
// /proc files: x86 and Arm CPU names, MemTotal in bytes, and the date's format.
#include "calibrate/cpu/host_info.h"

#include <regex>

#include <catch2/catch.hpp>

using attnsim::calibrate::cpu::hardware_threads;
using attnsim::calibrate::cpu::iso_date_utc;
using attnsim::calibrate::cpu::parse_cpu_model;
using attnsim::calibrate::cpu::parse_mem_total_bytes;

TEST_CASE("the CPU model is the first model name line, or the Arm equivalents", "[unit]") {
  CHECK(parse_cpu_model("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC "
                        "9654 96-Core Processor\nprocessor\t: 1\nmodel name\t: other\n") ==
        "AMD EPYC 9654 96-Core Processor");
  CHECK(parse_cpu_model("processor : 0\nCPU part : 0xd0c\nHardware : BCM2835\n") == "BCM2835");
  CHECK(parse_cpu_model("processor : 0\nCPU part : 0xd0c\n") == "0xd0c");
  CHECK_FALSE(parse_cpu_model("processor : 0\nmodel name :   \n"));
  CHECK_FALSE(parse_cpu_model(""));
}

TEST_CASE("MemTotal is read in KiB and returned in bytes", "[unit]") {
  // 24684084 kB x 1024 = 25276502016 bytes.
  CHECK(parse_mem_total_bytes("MemTotal:       24684084 kB\nMemFree:  1 kB\n") == 25276502016.0);
  CHECK_FALSE(parse_mem_total_bytes("MemFree:  1 kB\n"));
  CHECK_FALSE(parse_mem_total_bytes("MemTotal: lots\n"));
  CHECK_FALSE(parse_mem_total_bytes("MemTotal: 0 kB\n"));
}

TEST_CASE("the date is ISO 8601 and there is at least one thread", "[unit]") {
  CHECK(std::regex_match(iso_date_utc(), std::regex(R"(20[0-9]{2}-[01][0-9]-[0-3][0-9])")));
  CHECK(hardware_threads() >= 1);
}
