// SPDX-License-Identifier: Apache-2.0
// Per-op compute costs from a hardware profile's tables and fits (cost.h has the models).
#include "models/cost.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "calibrate/fit.h"
#include "config/edit_distance.h"
#include "config/error.h"
#include "config/node.h"
#include "models/attention/mask.h"

namespace attnsim::models {
namespace {

using calibrate::Interpolated;
using calibrate::LogLogTable;
using calibrate::Sample;

// Median of the BF16 MAMF "% of peak" column, seven GPUs from A100 to GB200 (86.9, 81.1,
// 80.3, 83.8, 77.6, 78.6, 72.9 %; hardware.md 5.2, from stas00/ml-engineering): the GEMM
// efficiency assumed for a dtype without GEMM rows.
constexpr double kAssumedGemmEfficiency = 0.803;

// Attention over GEMM throughput at the plateau: FA3 fwd bf16 d128 at 16k, 648 TFLOP/s, over
// the H100 MAMF 794.5 (0.816); FA2 fwd d128 at 16k, 225, over the A100 MAMF 271.2 (0.830)
// (hardware.md 5.2 and 5.3). Used only without attention rows.
constexpr double kAttentionOverGemm = 0.82;

// Tile size (tokens) at which attention runs at half its plateau rate, r ∝ x/(x + x0): the
// overhead-rate fit (fit.h) of the FA3 fwd bf16 d128 sequence sweep 430.3, 517.1, 565.5,
// 590.2, 614.2, 620.7 TFLOP/s at 512 ... 16k (pytorch/benchmark ff65cb6, hardware.md 5.3)
// gives R = 630 TFLOP/s, x0 = 234 (rms error 0.6 %). Used without rows or a fit.
constexpr double kTileHalfRateTokens = 234;

// Backward over forward throughput of one kernel: FA3 561/648 = 0.866, FA2 on H100 322/370 =
// 0.870, FA2 on A100 196/225 = 0.871 (d128, 16k; hardware.md 5.3). Used for a pass without
// rows.
constexpr double kBackwardOverForward = 0.87;

// FlashAttention FLOP convention (profile.h): F_bwd = 2.5·F_fwd, F_fwd_bwd = 3.5·F_fwd.
constexpr double kBackwardFlops = 2.5;
constexpr double kForwardBackwardFlops = 3.5;

constexpr double kTera = 1e12;

std::string dtype_class(const std::string& dtype) {
  return dtype == "bf16" || dtype == "fp16" ? "16-bit" : dtype;
}

double dtype_bytes(const std::string& dtype) {
  if (dtype == "fp32" || dtype == "tf32") {
    return 4;
  }
  return dtype == "fp8" ? 1 : 2;
}

// A rate anchored to a table's end point and carried beyond it by a model's shape:
// r(x) = y_end · m(x) / m(x_end).
template <typename Model>
double anchored(const Sample& end, double x, const Model& model) {
  return end.y * (model(x) / model(end.x));
}

// One attention series: achieved FLOP/s against tile size for one (pass, causal, head dim).
struct Series {
  bool backward = false;
  bool causal = false;
  int head_dim = 0;
  LogLogTable table;                           // x tokens, y FLOP/s
  std::optional<calibrate::OverheadRate> fit;  // per query row: W = 4·x·d (·1/2) FLOPs
  bool assumed = false;                        // built from an assumption: always flagged

  double row_flops(double x) const { return 4.0 * x * head_dim * (causal ? 0.5 : 1.0); }

  // Achieved FLOP/s at tile size x, and whether it is extrapolated.
  std::pair<double, bool> rate(double x) const {
    const Interpolated in = table.at(x);
    if (!in.outside) {
      return {in.value, in.extrapolated || assumed};
    }
    const bool below = x < table.min_x();
    const Sample& end = below ? table.points().front() : table.points().back();
    double r = end.y;
    if (fit) {
      r = anchored(end, x, [&](double t) { return fit->achieved(row_flops(t)); });
    } else if (below) {
      r = anchored(end, x, [](double t) { return t / (t + kTileHalfRateTokens); });
    }
    return {r, true};
  }
};

Series make_series(bool backward, bool causal, int head_dim, std::vector<Sample> points,
                   bool assumed) {
  Series s;
  s.backward = backward;
  s.causal = causal;
  s.head_dim = head_dim;
  s.assumed = assumed;
  s.table = LogLogTable(std::move(points));
  std::vector<Sample> per_row;  // x = FLOPs of one query row, y = its seconds at the rate
  for (const Sample& p : s.table.points()) {
    const double w = s.row_flops(p.x);
    per_row.push_back(Sample{w, w / p.y, p.extrapolated});
  }
  s.fit = calibrate::fit_overhead_rate(per_row);
  return s;
}

// A priced curve: base(x) · num(x)/den(x) · factor.
struct Curve {
  const Series* base = nullptr;
  const Series* num = nullptr;
  const Series* den = nullptr;
  double factor = 1;
  bool flagged = false;
};

}  // namespace

struct CostModel::Tables {
  std::string profile_name;
  std::string dtype;
  double peak = 0;          // FLOP/s
  double hbm_capacity = 0;  // bytes
  double element_bytes = 2;
  sim::Time launch;

  // GEMM: x = FLOPs, y = FLOP/s.
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>,
           std::pair<double, bool>>
      gemm_exact;
  LogLogTable gemm_table;
  std::optional<calibrate::OverheadRate> gemm_fit;
  double gemm_best = 0;  // FLOP/s of the roofline
  bool gemm_best_measured = false;

  // HBM: x = bytes, y = bytes/s.
  LogLogTable memory_table;
  std::optional<calibrate::AlphaBeta> memory_fit;
  double hbm_peak = 0;  // bytes/s

  // Attention of the chosen implementation, fwd and bwd only (fwd_bwd is resolved away).
  std::string impl;
  std::vector<Series> series;

  // Measured corrections of the tile price for masks with rows of their own (cost.h):
  // x = tile size of the row's call, y = model time / measured time.
  struct Correction {
    AttentionKind kind = AttentionKind::kSlidingWindow;  // or kDilated
    bool backward = false;
    int head_dim = 0;
    LogLogTable factors;
  };

  std::vector<Correction> corrections;

  // The correction for a call, or nullopt: (factor, whether a row used was extrapolated).
  std::optional<std::pair<double, bool>> correction(AttentionKind kind, bool backward, int head_dim,
                                                    double x) const;

  std::pair<double, bool> hbm_rate(double bytes) const;
  double gemm_rate_without_rows() const;
  Curve resolve(bool backward, bool causal, int head_dim) const;
  const Series* nearest(bool backward, bool causal, int head_dim) const;
};

std::pair<double, bool> CostModel::Tables::hbm_rate(double bytes) const {
  if (memory_table.empty()) {
    return {hbm_peak, true};
  }
  const Interpolated in = memory_table.at(bytes);
  if (!in.outside) {
    return {in.value, in.extrapolated};
  }
  if (bytes < memory_table.min_x() && memory_fit) {
    const Sample& end = memory_table.points().front();
    return {anchored(end, bytes, [&](double s) { return s / memory_fit->seconds(s); }), true};
  }
  return {in.value, true};
}

double CostModel::Tables::gemm_rate_without_rows() const {
  return gemm_best_measured ? gemm_best : peak * kAssumedGemmEfficiency;
}

namespace {

// The item of `items` that `matches` accepts with the head dim nearest `head_dim` (log
// distance); ties (a head dim at the geometric mean of two) go to the larger head dim.
template <class T, class Matches>
const T* nearest_head_dim(const std::vector<T>& items, int head_dim, Matches matches) {
  const T* best = nullptr;
  double best_distance = 0;
  for (const T& item : items) {
    if (!matches(item)) {
      continue;
    }
    const double distance = std::abs(std::log(static_cast<double>(item.head_dim) / head_dim));
    if (best == nullptr || distance < best_distance ||
        (distance == best_distance && item.head_dim > best->head_dim)) {
      best = &item;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace

const Series* CostModel::Tables::nearest(bool backward, bool causal, int head_dim) const {
  return nearest_head_dim(series, head_dim, [&](const Series& s) {
    return s.backward == backward && s.causal == causal;
  });
}

std::optional<std::pair<double, bool>> CostModel::Tables::correction(AttentionKind kind,
                                                                     bool backward, int head_dim,
                                                                     double x) const {
  const Correction* best = nearest_head_dim(corrections, head_dim, [&](const Correction& c) {
    return c.kind == kind && c.backward == backward;
  });
  if (best == nullptr) {
    return std::nullopt;
  }
  const Interpolated in = best->factors.at(x);
  // Beyond the rows the end factor holds (not flagged for that: the tile price it corrects is
  // flagged on its own terms); flagged when a row it comes from is extrapolated.
  const std::vector<Sample>& points = best->factors.points();
  const bool flagged = in.outside
                           ? (x < points.front().x ? points.front() : points.back()).extrapolated
                           : in.extrapolated;
  return std::pair{in.value, flagged};
}

Curve CostModel::Tables::resolve(bool backward, bool causal, int head_dim) const {
  if (const Series* s = nearest(backward, causal, head_dim)) {
    return Curve{s, nullptr, nullptr, 1, s->head_dim != head_dim};
  }
  if (const Series* other = nearest(backward, !causal, head_dim)) {
    // The masking ratio of the other pass, at the head dim nearest the request that has
    // both maskings.
    Curve curve{other, nullptr, nullptr, 1, true};
    const Series* with = nearest(!backward, causal, head_dim);
    if (with != nullptr) {
      for (const Series& s : series) {
        if (s.backward == !backward && s.causal == !causal && s.head_dim == with->head_dim) {
          curve.num = with;
          curve.den = &s;
        }
      }
    }
    return curve;
  }
  if (std::any_of(series.begin(), series.end(),
                  [&](const Series& s) { return s.backward == !backward; })) {
    Curve curve = resolve(!backward, causal, head_dim);
    curve.factor *= backward ? kBackwardOverForward : 1.0 / kBackwardOverForward;
    curve.flagged = true;
    return curve;
  }
  return Curve{};
}

namespace {

// The mask of `row`: kSlidingWindow or kDilated for a kind row, else kDense (a dense or causal
// row, which `causal` tells apart).
AttentionKind row_kind(const calibrate::AttentionPoint& row) {
  return row.kind == "sliding_window" ? AttentionKind::kSlidingWindow
         : row.kind == "dilated"      ? AttentionKind::kDilated
                                      : AttentionKind::kDense;
}

// The dense sub-problems mask.h says the call of `row` runs (one head; the mask's tiles):
// dense and causal rows are one seq_q x seq_k tile.
MaskBlock row_tiles(const calibrate::AttentionPoint& row) {
  if (row.kind.empty()) {
    MaskBlock whole;
    whole.tile_q = static_cast<double>(row.seq_q);
    whole.tile_k = static_cast<double>(row.seq_k);
    whole.causal_tiles = row.causal;
    return whole;
  }
  AttentionSpec spec;
  spec.kind = row_kind(row);
  if (spec.kind == AttentionKind::kSlidingWindow) {
    spec.window = row.window;
  } else {
    spec.segment_lengths = {row.segment_length};
    spec.dilation_rates = {row.dilation_rate};
    spec.causal = row.causal;
  }
  const TokenSet all{0, 1, row.seq_q};
  return mask_block(spec, row.seq_q, 1, 0, 1, all, all);
}

// The attention rows of one implementation and dtype class, as fwd and bwd series (cost.h:
// fwd_bwd rows resolved by the FLOP convention).
std::vector<Series> build_series(const calibrate::Profile& profile, const std::string& dtype,
                                 const std::string& impl, double peak) {
  // (pass, causal, head dim) -> x -> (FLOP/s, extrapolated); duplicates of x averaged in log.
  using Key = std::tuple<std::string, bool, int>;
  std::map<Key, std::vector<Sample>> raw;
  for (const calibrate::AttentionPoint& row : profile.compute.attention) {
    if (row.impl != impl || dtype_class(row.dtype) != dtype_class(dtype) || !row.kind.empty()) {
      continue;
    }
    const auto row_peak = profile.peaks.flops_per_s.find(row.dtype);
    const double scale =
        row_peak == profile.peaks.flops_per_s.end() ? 1.0 : peak / row_peak->second;
    const double x = std::sqrt(static_cast<double>(row.seq_q) * static_cast<double>(row.seq_k));
    raw[Key{row.pass, row.causal, row.head_dim}].push_back(
        Sample{x, row.tflops * kTera * scale, row.extrapolated});
  }
  // Merged per x (LogLogTable merges equal x by geometric mean).
  std::map<Key, LogLogTable> merged;
  for (auto& [key, points] : raw) {
    merged.emplace(key, LogLogTable(std::move(points)));
  }
  const auto find = [&](const std::string& pass, bool causal, int d) -> const LogLogTable* {
    const auto it = merged.find(Key{pass, causal, d});
    return it == merged.end() ? nullptr : &it->second;
  };

  std::vector<Series> out;
  std::set<std::pair<bool, int>> settings;
  for (const auto& [key, table] : merged) {
    settings.emplace(std::get<1>(key), std::get<2>(key));
  }
  for (const auto& [causal, d] : settings) {
    const LogLogTable* fwd = find("fwd", causal, d);
    const LogLogTable* bwd = find("bwd", causal, d);
    const LogLogTable* both = find("fwd_bwd", causal, d);
    if (fwd != nullptr) {
      out.push_back(make_series(false, causal, d, fwd->points(), false));
    }
    if (bwd != nullptr) {
      out.push_back(make_series(true, causal, d, bwd->points(), false));
    }
    if (both == nullptr || (fwd != nullptr && bwd != nullptr)) {
      continue;
    }
    if (fwd == nullptr && bwd == nullptr) {
      // fwd_bwd alone: both passes at the combined rate (an assumption).
      out.push_back(make_series(false, causal, d, both->points(), true));
      out.push_back(make_series(true, causal, d, both->points(), true));
      continue;
    }
    // One pass measured: the other from t_fwd_bwd = t_fwd + t_bwd at the seqs both have.
    //   r_bwd = 2.5 / (3.5/r_fb - 1/r_fwd),  r_fwd = 1 / (3.5/r_fb - 2.5/r_bwd)
    const LogLogTable& known = fwd != nullptr ? *fwd : *bwd;
    std::vector<Sample> derived;
    for (const Sample& k : known.points()) {
      for (const Sample& f : both->points()) {
        if (f.x != k.x) {
          continue;
        }
        const double denominator = fwd != nullptr
                                       ? kForwardBackwardFlops / f.y - 1.0 / k.y
                                       : kForwardBackwardFlops / f.y - kBackwardFlops / k.y;
        if (denominator > 0) {
          const double r = (fwd != nullptr ? kBackwardFlops : 1.0) / denominator;
          derived.push_back(Sample{k.x, r, k.extrapolated || f.extrapolated});
        }
      }
    }
    if (!derived.empty()) {
      out.push_back(make_series(fwd != nullptr, causal, d, std::move(derived), false));
    }
  }
  return out;
}

std::string choose_impl(const calibrate::Profile& profile, const std::string& dtype,
                        const std::string& requested) {
  // Per implementation of the class: (has a backward, has a measured row, best FLOP/s).
  std::map<std::string, std::tuple<bool, bool, double>> score;
  for (const calibrate::AttentionPoint& row : profile.compute.attention) {
    if (dtype_class(row.dtype) != dtype_class(dtype) || !row.kind.empty()) {
      continue;
    }
    auto& [has_backward, measured, best] = score[row.impl];
    has_backward = has_backward || row.pass != "fwd";
    measured = measured || !row.extrapolated;
    best = std::max(best, row.tflops);
  }
  if (score.empty()) {
    return "roofline";
  }
  std::vector<std::string> names;
  names.reserve(score.size());
  for (const auto& [name, value] : score) {
    names.push_back(name);
  }
  if (!requested.empty()) {
    if (score.count(requested) == 0) {
      std::string list;
      for (const std::string& name : names) {
        list += (list.empty() ? "" : ", ") + name;
      }
      std::string got = config::json_quoted(requested);
      if (const std::optional<std::string> close = config::suggest(requested, names)) {
        got += " (did you mean " + config::json_quoted(*close) + "?)";
      }
      throw config::InputError(profile.name + ": /compute/attention: expected an implementation " +
                               "with rows for dtype " + config::json_quoted(dtype) + ": one of " +
                               list + "; got " + got);
    }
    return requested;
  }
  // The fastest: one that has a backward first, then one with measured rows (not only rows
  // scaled from another GPU), then the highest row; ties by name.
  std::string best = names.front();
  for (const std::string& name : names) {
    if (score[name] > score[best]) {
      best = name;
    }
  }
  return best;
}

}  // namespace

CostModel::CostModel(const calibrate::Profile& profile, const std::string& dtype,
                     const std::string& attention_impl) {
  auto tables = std::make_shared<Tables>();
  Tables& t = *tables;
  t.profile_name = profile.name;
  t.dtype = dtype;
  const auto peak = profile.peaks.flops_per_s.find(dtype);
  if (peak == profile.peaks.flops_per_s.end()) {
    std::string have;
    for (const auto& [name, value] : profile.peaks.flops_per_s) {
      have += (have.empty() ? "" : ", ") + name;
    }
    throw config::InputError(profile.name + ": /peaks/flops_per_s: expected a peak for dtype " +
                             config::json_quoted(dtype) + " (the profile has " +
                             (have.empty() ? "none" : have) + "), got none");
  }
  t.peak = peak->second;
  t.hbm_capacity = profile.peaks.hbm_bytes;
  t.element_bytes = dtype_bytes(dtype);
  t.launch = sim::Time::from_us(profile.compute.launch_overhead_us);
  t.hbm_peak = profile.peaks.hbm_bandwidth_GBps * 1e9;

  // GEMM rows of the class, rates scaled to this dtype's peak.
  std::vector<Sample> gemm_points;
  for (const calibrate::GemmPoint& row : profile.compute.gemm) {
    if (dtype_class(row.dtype) != dtype_class(dtype)) {
      continue;
    }
    const auto row_peak = profile.peaks.flops_per_s.find(row.dtype);
    const double scale =
        row_peak == profile.peaks.flops_per_s.end() ? 1.0 : t.peak / row_peak->second;
    const double rate = row.tflops * kTera * scale;  // FLOP/s
    const double flops = 2.0 * static_cast<double>(row.b) * static_cast<double>(row.m) *
                         static_cast<double>(row.n) * static_cast<double>(row.k);  // 2·b·m·n·k
    const auto key = std::tuple{row.b, row.m, row.n, row.k};
    // An exact-dtype row wins over a same-class one of the same shape.
    if (t.gemm_exact.count(key) == 0 || row.dtype == dtype) {
      t.gemm_exact[key] = {rate, row.extrapolated};
    }
    gemm_points.push_back(Sample{flops, rate, row.extrapolated});
    if (rate > t.gemm_best) {
      t.gemm_best = rate;
      t.gemm_best_measured = true;
    }
  }
  t.gemm_table = LogLogTable(gemm_points);
  std::vector<Sample> gemm_times;  // x = FLOPs, y = seconds
  for (const Sample& p : t.gemm_table.points()) {
    gemm_times.push_back(Sample{p.x, p.x / p.y, p.extrapolated});
  }
  t.gemm_fit = calibrate::fit_overhead_rate(gemm_times);

  // HBM rows: bandwidth against bytes, every op together.
  std::vector<Sample> memory_points;
  for (const calibrate::MemoryPoint& row : profile.compute.memory) {
    memory_points.push_back(Sample{row.bytes, row.bandwidth_GBps * 1e9, row.extrapolated});
  }
  t.memory_table = LogLogTable(memory_points);
  std::vector<Sample> memory_times;  // x = bytes, y = seconds
  for (const Sample& p : t.memory_table.points()) {
    memory_times.push_back(Sample{p.x, p.x / p.y, p.extrapolated});
  }
  t.memory_fit = calibrate::fit_alpha_beta(memory_times);

  t.impl = choose_impl(profile, dtype, attention_impl);
  if (t.impl != "roofline") {
    t.series = build_series(profile, dtype, t.impl, t.peak);
  }
  tables_ = std::move(tables);

  // Corrections: each mask-kind row of the implementation, priced by the tiles first.
  std::map<std::tuple<AttentionKind, bool, int>, std::vector<Sample>> factors;
  for (const calibrate::AttentionPoint& row : profile.compute.attention) {
    if (row.kind.empty() || row.impl != t.impl || dtype_class(row.dtype) != dtype_class(dtype)) {
      continue;
    }
    const auto row_peak = profile.peaks.flops_per_s.find(row.dtype);
    const double scale =
        row_peak == profile.peaks.flops_per_s.end() ? 1.0 : t.peak / row_peak->second;
    const bool backward = row.pass == "bwd";
    const double flops = calibrate::forward_flops(row) * (backward ? kBackwardFlops : 1.0);
    const double measured_s = flops / (row.tflops * kTera * scale);
    const MaskBlock tiles = row_tiles(row);
    const double model_s =
        attention(backward ? Pass::kBackward : Pass::kForward, tiles.causal_tiles, row.head_dim,
                  tiles.tile_q, tiles.tile_k, flops)
            .time.seconds();
    factors[{row_kind(row), backward, row.head_dim}].push_back(
        Sample{std::sqrt(tiles.tile_q * tiles.tile_k), model_s / measured_s, row.extrapolated});
  }
  for (auto& [key, samples] : factors) {
    t.corrections.push_back(Tables::Correction{std::get<0>(key), std::get<1>(key), std::get<2>(key),
                                               LogLogTable(std::move(samples))});
  }
}

Cost CostModel::gemm(std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t batch) const {
  const Tables& t = *tables_;
  const double b = static_cast<double>(batch);
  const double flops = 2.0 * b * static_cast<double>(m) * static_cast<double>(n) *
                       static_cast<double>(k);  // 2·b·m·n·k
  if (!(flops > 0)) {
    return {};
  }
  const double bytes = b *
                       (static_cast<double>(m) * static_cast<double>(k) +
                        static_cast<double>(k) * static_cast<double>(n) +
                        static_cast<double>(m) * static_cast<double>(n)) *
                       t.element_bytes;  // b·(mk + kn + mn)·B

  double rate = 0;
  bool extrapolated = true;
  const auto exact = t.gemm_exact.find(std::tuple{batch, m, n, k});
  if (exact != t.gemm_exact.end()) {
    rate = exact->second.first;
    extrapolated = exact->second.second;
  } else if (!t.gemm_table.empty() && flops >= t.gemm_table.min_x() &&
             flops <= t.gemm_table.max_x()) {
    const Interpolated in = t.gemm_table.at(flops);
    rate = in.value;
    extrapolated = in.extrapolated;
  } else if (!t.gemm_table.empty() && flops < t.gemm_table.min_x() && t.gemm_fit) {
    rate = anchored(t.gemm_table.points().front(), flops,
                    [&](double f) { return t.gemm_fit->achieved(f); });
  } else {
    rate = std::min(t.gemm_rate_without_rows(), t.peak);
  }
  const auto [hbm, hbm_extrapolated] = t.hbm_rate(bytes);
  const double compute_s = flops / rate;
  const double memory_s = bytes / hbm;
  return {sim::Time::from_s(std::max(compute_s, memory_s)) + t.launch,
          extrapolated || (memory_s > compute_s && hbm_extrapolated)};
}

Cost CostModel::attention(Pass pass, bool causal_tiles, int head_dim, double tile_q, double tile_k,
                          double flops, AttentionKind kind) const {
  const Tables& t = *tables_;
  if (!(flops > 0) || !(tile_q > 0) || !(tile_k > 0) || head_dim <= 0) {
    return {};
  }
  const bool backward = pass == Pass::kBackward;
  const double x = std::sqrt(tile_q * tile_k);  // tokens

  double rate = 0;
  bool extrapolated = true;
  const Curve curve = t.impl == "roofline" ? Curve{} : t.resolve(backward, causal_tiles, head_dim);
  if (curve.base == nullptr) {
    const double efficiency = t.gemm_rate_without_rows() / t.peak;
    rate = t.peak * efficiency * kAttentionOverGemm * x / (x + kTileHalfRateTokens);
  } else {
    const auto [base, base_flag] = curve.base->rate(x);
    rate = base * curve.factor;
    extrapolated = base_flag || curve.flagged;
    if (curve.num != nullptr) {
      rate *= curve.num->rate(x).first / curve.den->rate(x).first;
    }
    if (extrapolated) {
      rate = std::min(rate, t.peak);
    }
  }

  // Memory floor: tiles of F_tile FLOPs each moving (2 or 4)·(tile_q + tile_k)·d elements.
  const double tile_flops = 4.0 * tile_q * tile_k * head_dim * (causal_tiles ? 0.5 : 1.0) *
                            (backward ? kBackwardFlops : 1.0);  // F_tile
  const double tile_bytes = (backward ? 4.0 : 2.0) * (tile_q + tile_k) * head_dim * t.element_bytes;
  const double bytes = flops / tile_flops * tile_bytes;
  const auto [hbm, hbm_extrapolated] = t.hbm_rate(bytes);
  const double compute_s = flops / rate;
  const double memory_s = bytes / hbm;
  Cost cost{sim::Time::from_s(std::max(compute_s, memory_s)) + t.launch,
            extrapolated || (memory_s > compute_s && hbm_extrapolated)};
  if (kind == AttentionKind::kSlidingWindow || kind == AttentionKind::kDilated) {
    if (const auto factor = t.correction(kind, backward, head_dim, x)) {
      cost.time = sim::Time::from_s(cost.time.seconds() / factor->first);
      cost.extrapolated = cost.extrapolated || factor->second;
    }
  }
  return cost;
}

Cost CostModel::memory_bound(double bytes) const {
  const Tables& t = *tables_;
  if (!(bytes > 0)) {
    return {};
  }
  const auto [hbm, extrapolated] = t.hbm_rate(bytes);
  return {sim::Time::from_s(bytes / hbm) + t.launch, extrapolated};
}

double CostModel::peak_flops() const {
  return tables_->peak;
}

double CostModel::hbm_bytes() const {
  return tables_->hbm_capacity;
}

const std::string& CostModel::attention_impl() const {
  return tables_->impl;
}

double predicted_tflops(const CostModel& cost, const calibrate::AttentionPoint& row) {
  const MaskBlock tiles = row_tiles(row);
  const AttentionKind kind = row_kind(row);
  const double forward = calibrate::forward_flops(row);
  const auto seconds = [&](Pass pass, double flops) {
    return cost
        .attention(pass, tiles.causal_tiles, row.head_dim, tiles.tile_q, tiles.tile_k, flops, kind)
        .time.seconds();
  };
  if (row.pass == "fwd") {
    return forward / seconds(Pass::kForward, forward) * 1e-12;
  }
  if (row.pass == "bwd") {
    return kBackwardFlops * forward / seconds(Pass::kBackward, kBackwardFlops * forward) * 1e-12;
  }
  return kForwardBackwardFlops * forward /
         (seconds(Pass::kForward, forward) + seconds(Pass::kBackward, kBackwardFlops * forward)) *
         1e-12;
}

}  // namespace attnsim::models
