// SPDX-License-Identifier: Apache-2.0
// Closest-name suggestions for "did you mean" in error messages (ninja's edit_distance idea).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace attnsim::config {

/// Edit distance: insert, delete, substitute or swap two adjacent characters, each cost 1.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` when it is close enough to be a likely typo or abbreviation:
/// distance at most half the longer name, and at least 2. Ties go to the earliest candidate.
std::optional<std::string> suggest(std::string_view word, std::span<const std::string> candidates);

}  // namespace attnsim::config
