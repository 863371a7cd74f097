// SPDX-License-Identifier: Apache-2.0
// Byte sizes on the command line, as nccl-tests writes them: 8, 64K, 32M, 16G (powers of 2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace attnsim::cli {

/// "64M" -> 67108864. Returns nothing for anything that is not a positive size.
std::optional<std::uint64_t> parse_size(std::string_view text);

/// 67108864 -> "64M" when exact, else the plain number.
std::string format_size(std::uint64_t bytes);

}  // namespace attnsim::cli
