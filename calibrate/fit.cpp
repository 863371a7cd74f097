// SPDX-License-Identifier: Apache-2.0
// Log-log interpolation and relative least-squares fits of measured tables (fit.h has the
// math).
#include "calibrate/fit.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <Eigen/Dense>

namespace attnsim::calibrate {
namespace {

void check_positive(const Sample& point) {
  if (!(std::isfinite(point.x) && std::isfinite(point.y) && point.x > 0 && point.y > 0)) {
    throw std::invalid_argument("calibrate fit: points need finite x > 0 and y > 0, got (" +
                                std::to_string(point.x) + ", " + std::to_string(point.y) + ")");
  }
}

double rms_relative(std::span<const Sample> points, double a, double b) {
  double sum = 0;
  for (const Sample& p : points) {
    const double r = (a + b * p.x - p.y) / p.y;
    sum += r * r;
  }
  return std::sqrt(sum / static_cast<double>(points.size()));
}

}  // namespace

LogLogTable::LogLogTable(std::vector<Sample> points) {
  for (const Sample& p : points) {
    check_positive(p);
  }
  std::sort(points.begin(), points.end(),
            [](const Sample& l, const Sample& r) { return l.x < r.x; });
  // Merge equal x: geometric mean of their y (the mean in the log space we interpolate in).
  for (std::size_t i = 0; i < points.size();) {
    std::size_t j = i;
    double log_sum = 0;
    bool extrapolated = false;
    while (j < points.size() && points[j].x == points[i].x) {
      log_sum += std::log(points[j].y);
      extrapolated = extrapolated || points[j].extrapolated;
      ++j;
    }
    const double y = j - i == 1 ? points[i].y : std::exp(log_sum / static_cast<double>(j - i));
    points_.push_back(Sample{points[i].x, y, extrapolated});
    i = j;
  }
}

Interpolated LogLogTable::at(double x) const {
  const Sample& first = points_.front();
  const Sample& last = points_.back();
  if (x <= first.x || x >= last.x) {
    const Sample& end = x <= first.x ? first : last;
    const bool outside = x != end.x;
    return {end.y, outside, outside || end.extrapolated};
  }
  // First point with x above the query; its predecessor is at or below it.
  const auto hi = std::upper_bound(points_.begin(), points_.end(), x,
                                   [](double v, const Sample& p) { return v < p.x; });
  const Sample& p1 = *hi;
  const Sample& p0 = *(hi - 1);
  const bool flagged = p0.extrapolated || (x != p0.x && p1.extrapolated);
  if (x == p0.x) {
    return {p0.y, false, flagged};
  }
  const double u = std::log(x / p0.x) / std::log(p1.x / p0.x);  // in (0, 1)
  return {p0.y * std::pow(p1.y / p0.y, u), false, flagged};
}

std::optional<AffineFit> fit_affine_relative(std::span<const Sample> points) {
  for (const Sample& p : points) {
    check_positive(p);
  }
  if (points.empty()) {
    return std::nullopt;
  }
  const auto [lo, hi] = std::minmax_element(
      points.begin(), points.end(), [](const Sample& l, const Sample& r) { return l.x < r.x; });
  if (lo->x == hi->x) {
    return std::nullopt;
  }
  // Rows [1/y_i, x_i/y_i] · [a, b]^T = 1: the relative residual of point i.
  const auto n = static_cast<Eigen::Index>(points.size());
  Eigen::MatrixX2d design(n, 2);
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const Sample& p = points[static_cast<std::size_t>(i)];
    design(i, 0) = 1.0 / p.y;
    design(i, 1) = p.x / p.y;
  }
  const Eigen::Vector2d solution = design.colPivHouseholderQr().solve(ones);
  double a = solution(0);
  double b = solution(1);
  if (a < 0) {
    // Constrained to a = 0: minimise sum (b·c_i - 1)^2 with c_i = x_i / y_i.
    const Eigen::VectorXd c = design.col(1);
    a = 0;
    b = c.sum() / c.squaredNorm();
  }
  if (!(b > 0) || !std::isfinite(a) || !std::isfinite(b)) {
    return std::nullopt;
  }
  return AffineFit{a, b, rms_relative(points, a, b), lo->x, hi->x, points.size()};
}

std::optional<AlphaBeta> fit_alpha_beta(std::span<const Sample> bytes_seconds) {
  const std::optional<AffineFit> fit = fit_affine_relative(bytes_seconds);
  if (!fit) {
    return std::nullopt;
  }
  return AlphaBeta{fit->intercept, 1.0 / fit->slope, fit->rms_relative_error, fit->min_x,
                   fit->max_x};
}

std::optional<OverheadRate> fit_overhead_rate(std::span<const Sample> work_seconds) {
  const std::optional<AffineFit> fit = fit_affine_relative(work_seconds);
  if (!fit) {
    return std::nullopt;
  }
  return OverheadRate{fit->intercept, 1.0 / fit->slope, fit->rms_relative_error, fit->min_x,
                      fit->max_x};
}

}  // namespace attnsim::calibrate
