// SPDX-License-Identifier: Apache-2.0
#include "models/collectives/correction.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace attnsim::models {

namespace {

// The time at `x` on the log-log line through points a and b.
double through(const std::pair<double, double>& a, const std::pair<double, double>& b, double x) {
  const double t = (std::log(x) - std::log(a.first)) / (std::log(b.first) - std::log(a.first));
  return std::exp(std::log(a.second) + t * (std::log(b.second) - std::log(a.second)));
}

}  // namespace

double interpolate_loglog(const std::vector<std::pair<double, double>>& table, double bytes) {
  const auto hi = std::lower_bound(table.begin(), table.end(), bytes,
                                   [](const auto& row, double s) { return row.first < s; });
  if (hi == table.end()) {
    throw std::out_of_range("interpolate_loglog: size beyond the table");
  }
  if (hi->first == bytes || hi == table.begin()) {
    return hi->second;
  }
  return through(*(hi - 1), *hi, bytes);
}

std::vector<std::pair<double, double>> without_outliers(
    const std::vector<std::pair<double, double>>& table) {
  // Spikes first (slower than the next larger size), then dips against what is kept, so a
  // spike does not make its honest neighbour look like a dip.
  std::vector<std::pair<double, double>> no_spikes;
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (i + 1 == table.size() || table[i].second <= 1.1 * table[i + 1].second) {
      no_spikes.push_back(table[i]);
    }
  }
  std::vector<std::pair<double, double>> out;
  for (const auto& row : no_spikes) {
    if (out.empty() || row.second * 1.1 >= out.back().second) {
      out.push_back(row);
    }
  }
  return out;
}

void Corrections::add(Collective c, int ranks, std::vector<std::pair<double, double>> measured_us) {
  for (std::size_t i = 1; i < measured_us.size(); ++i) {
    if (!(measured_us[i].first > measured_us[i - 1].first)) {
      throw std::invalid_argument("correction sizes must increase");
    }
  }
  if (!measured_us.empty()) {
    tables_[{c, ranks}] = std::move(measured_us);
  }
}

double Corrections::model_us(Collective c, int ranks, double bytes) const {
  const auto key = std::make_tuple(c, ranks, bytes);
  const auto cached = model_cache_.find(key);
  if (cached != model_cache_.end()) {
    return cached->second;
  }
  return model_cache_.emplace(key, model_(c, ranks, bytes)).first->second;
}

const std::optional<Corrections::Tail>& Corrections::bottom_tail(Collective c, int ranks,
                                                                 const Table& table) const {
  const auto key = std::make_pair(c, ranks);
  if (const auto found = tails_.find(key); found != tails_.end()) {
    return found->second;
  }
  std::optional<Tail>& out = tails_[key];
  const auto& edge = table.front();
  const auto choice = choice_(c, ranks, edge.first);
  // The run of sizes from the first up that NCCL runs the first's way, within 16x of it.
  std::vector<calibrate::Sample> run;
  for (const auto& [bytes, us] : table) {
    if (bytes / edge.first > 16 || choice_(c, ranks, bytes) != choice) {
      break;
    }
    run.push_back(calibrate::Sample{bytes, us * 1e-6});
  }
  if (const auto fit = calibrate::fit_alpha_beta(run)) {
    out = Tail{choice.first, choice.second, *fit, edge.first, edge.second};
  }
  return out;
}

Corrections::Lookup Corrections::at(Collective c, int ranks, int nodes, double bytes) const {
  if (nodes != 1) {
    return {};
  }
  const auto it = tables_.find({c, ranks});
  if (it == tables_.end()) {
    return {};
  }
  const Table& t = it->second;
  const std::lock_guard<std::mutex> lock(mutex_);
  if (bytes >= t.front().first && bytes <= t.back().first) {
    return {interpolate_loglog(t, bytes) / model_us(c, ranks, bytes), true};
  }
  const double model = model_us(c, ranks, bytes);
  if (bytes > t.back().first) {
    const auto& [last_bytes, last_us] = t.back();
    const double edge_model = model_us(c, ranks, last_bytes);
    double us = model + (last_us - edge_model);
    if (!(us > 0)) {  // a model that falls with size past the table: keep the edge's ratio
      us = model * last_us / edge_model;
    }
    return {us / model, false, Extension::kOffset};
  }
  const std::optional<Tail>& end = bottom_tail(c, ranks, t);
  if (!end || choice_(c, ranks, bytes) != std::make_pair(end->algo, end->proto)) {
    return {};
  }
  const double us = end->edge_us * end->fit.seconds(bytes) / end->fit.seconds(end->edge_bytes);
  return {us / model, false, Extension::kFit, end->algo, end->proto};
}

}  // namespace attnsim::models
