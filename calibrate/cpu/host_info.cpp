// SPDX-License-Identifier: Apache-2.0
#include "calibrate/cpu/host_info.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace attnsim::calibrate::cpu {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

// The value of the first "key : value" line whose key is `key`.
std::optional<std::string_view> field(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && trim(line.substr(0, colon)) == key) {
      const std::string_view value = trim(line.substr(colon + 1));
      if (!value.empty()) {
        return value;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> parse_cpu_model(std::string_view cpuinfo) {
  for (const std::string_view key : {"model name", "Hardware", "CPU part"}) {
    if (const auto value = field(cpuinfo, key)) {
      return std::string(*value);
    }
  }
  return std::nullopt;
}

std::optional<double> parse_mem_total_bytes(std::string_view meminfo) {
  const auto value = field(meminfo, "MemTotal");
  if (!value) {
    return std::nullopt;
  }
  std::istringstream in{std::string(*value)};
  double kib = 0;
  std::string unit;
  if (!(in >> kib >> unit) || unit != "kB" || !(kib > 0)) {
    return std::nullopt;
  }
  return kib * 1024;  // /proc/meminfo's "kB" are KiB (proc(5))
}

std::optional<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

std::string iso_date_utc() {
  using std::chrono::days;
  const std::chrono::year_month_day ymd{std::chrono::floor<days>(std::chrono::system_clock::now())};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

}  // namespace attnsim::calibrate::cpu
