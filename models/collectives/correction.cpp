// SPDX-License-Identifier: Apache-2.0
#include "models/collectives/correction.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace attnsim::models {

void Corrections::add(Collective c, int ranks, std::vector<std::pair<double, double>> table) {
  for (std::size_t i = 1; i < table.size(); ++i) {
    if (!(table[i].first > table[i - 1].first)) {
      throw std::invalid_argument("correction sizes must increase");
    }
  }
  if (!table.empty()) {
    tables_[{c, ranks}] = std::move(table);
  }
}

Corrections::Lookup Corrections::at(Collective c, int ranks, int nodes, double bytes) const {
  if (nodes != 1) {
    return {};
  }
  const auto it = tables_.find({c, ranks});
  if (it == tables_.end()) {
    return {};
  }
  const auto& t = it->second;
  if (bytes < t.front().first || bytes > t.back().first) {
    return {};
  }
  const auto hi = std::lower_bound(t.begin(), t.end(), bytes,
                                   [](const auto& row, double s) { return row.first < s; });
  if (hi->first == bytes || hi == t.begin()) {
    return {hi->second, true};
  }
  const auto lo = hi - 1;
  const double x =
      (std::log2(bytes) - std::log2(lo->first)) / (std::log2(hi->first) - std::log2(lo->first));
  return {lo->second + x * (hi->second - lo->second), true};
}

}  // namespace attnsim::models
