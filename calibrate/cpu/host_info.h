// SPDX-License-Identifier: Apache-2.0
// What the CPU backend records about the machine besides its measurements: the CPU model
// (/proc/cpuinfo), the memory size (/proc/meminfo), the thread count and the date. The
// parsers take the files' text, so tests feed them samples.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace attnsim::calibrate::cpu {

/// The first "model name" of /proc/cpuinfo text (x86), else its "Hardware" or "CPU part"
/// line (Arm), else nullopt.
std::optional<std::string> parse_cpu_model(std::string_view cpuinfo);

/// MemTotal of /proc/meminfo text in bytes (the file counts kibibytes), else nullopt.
std::optional<double> parse_mem_total_bytes(std::string_view meminfo);

/// The whole text of a file, or nullopt when it cannot be read.
std::optional<std::string> read_text_file(const std::string& path);

/// Hardware threads this process may use (std::thread::hardware_concurrency, at least 1).
int hardware_threads();

/// Today's date in UTC, ISO 8601 ("2026-08-14").
std::string iso_date_utc();

}  // namespace attnsim::calibrate::cpu
