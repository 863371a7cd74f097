// SPDX-License-Identifier: Apache-2.0
#include "config/edit_distance.h"

#include <algorithm>
#include <numeric>
#include <vector>

namespace attnsim::config {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus adjacent transposition, the commonest typo.
  const std::size_t w = b.size() + 1;
  std::vector<std::size_t> d((a.size() + 1) * w);
  for (std::size_t i = 0; i <= a.size(); ++i) {
    d[i * w] = i;
  }
  std::iota(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(w), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      std::size_t best =
          std::min({d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1, d[(i - 1) * w + j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        best = std::min(best, d[(i - 2) * w + j - 2] + 1);
      }
      d[i * w + j] = best;
    }
  }
  return d[a.size() * w + b.size()];
}

std::optional<std::string> suggest(std::string_view word, std::span<const std::string> candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const std::string& candidate : candidates) {
    // Close enough to be a typo or an abbreviation: at most half the longer name, and at
    // least 2 so that short names still get a suggestion for one slip.
    const std::size_t limit = std::max<std::size_t>(2, std::max(word.size(), candidate.size()) / 2);
    const std::size_t d = edit_distance(word, candidate);
    if (d <= limit && (!best || d < best_distance)) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

}  // namespace attnsim::config
