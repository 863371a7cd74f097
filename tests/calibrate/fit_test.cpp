// SPDX-License-Identifier: Apache-2.0
// Table look-up and fits (calibrate/fit.h): log-log interpolation is exact at the points and a
// power law between them, flags what lies outside, and the relative least-squares fits give
// back the parameters that generated synthetic data.
#include "calibrate/fit.h"

#include <cmath>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

using attnsim::calibrate::AlphaBeta;
using attnsim::calibrate::fit_affine_relative;
using attnsim::calibrate::fit_alpha_beta;
using attnsim::calibrate::fit_overhead_rate;
using attnsim::calibrate::Interpolated;
using attnsim::calibrate::LogLogTable;
using attnsim::calibrate::OverheadRate;
using attnsim::calibrate::Sample;

namespace {

// Mild deterministic noise: a multiplicative error within +-2 %, the same on every platform.
double noise(int i) {
  return 1.0 + 0.02 * std::sin(1.7 * i + 0.3);
}

}  // namespace

// Oracle: a power law through two points, y0·(x/x0)^(log(y1/y0)/log(x1/x0)), evaluated by
// hand; at the points the table must give their y bit for bit (the cost model relies on it
// to return measured rows exactly).
TEST_CASE("log-log interpolation is exact at the points and a power law between them", "[unit]") {
  const LogLogTable table({{2048, 641}, {256, 6.7}, {1024, 252.8}, {512, 43.6}});
  REQUIRE(table.points().size() == 4);
  CHECK(table.min_x() == 256);
  CHECK(table.max_x() == 2048);

  SECTION("at every point the point's own y, not flagged") {
    for (const Sample& p : table.points()) {
      const Interpolated in = table.at(p.x);
      CHECK(in.value == p.y);
      CHECK_FALSE(in.outside);
      CHECK_FALSE(in.extrapolated);
    }
  }
  SECTION("at the geometric midpoint the geometric mean of the neighbours") {
    const Interpolated in = table.at(1024 * std::sqrt(2.0));
    CHECK(in.value == Approx(std::sqrt(252.8 * 641)).epsilon(1e-12));
    CHECK_FALSE(in.outside);
  }
  SECTION("elsewhere between neighbours the power law through them") {
    const double x = 700;
    const double p = std::log(252.8 / 43.6) / std::log(1024.0 / 512.0);
    CHECK(table.at(x).value == Approx(43.6 * std::pow(x / 512, p)).epsilon(1e-12));
    CHECK(table.at(x).value > 43.6);
    CHECK(table.at(x).value < 252.8);
  }
  SECTION("outside the range the nearest end value, flagged") {
    const Interpolated below = table.at(100);
    CHECK(below.value == 6.7);
    CHECK(below.outside);
    CHECK(below.extrapolated);
    const Interpolated above = table.at(1e6);
    CHECK(above.value == 641);
    CHECK(above.outside);
    CHECK(above.extrapolated);
  }
}

// Oracle: equal x are one measurement repeated; their geometric mean is the value halfway
// in log space. A derived point taints every look-up that uses it, and only those.
TEST_CASE("points with equal x merge and a derived point flags the look-ups that use it",
          "[unit]") {
  const LogLogTable table({{10, 100}, {10, 400}, {100, 50, true}, {1000, 50}});
  REQUIRE(table.points().size() == 3);
  CHECK(table.at(10).value == Approx(200).epsilon(1e-12));
  CHECK_FALSE(table.at(10).extrapolated);
  CHECK(table.at(30).extrapolated);   // between 10 and the derived 100
  CHECK(table.at(100).extrapolated);  // the derived point itself
  CHECK(table.at(300).extrapolated);  // between the derived 100 and 1000
  CHECK_FALSE(table.at(1000).extrapolated);
}

TEST_CASE("a table rejects a non-positive coordinate", "[unit]") {
  CHECK_THROWS_AS(LogLogTable({{1, 1}, {0, 2}}), std::invalid_argument);
  CHECK_THROWS_AS(LogLogTable({{1, -1}}), std::invalid_argument);
}

// Oracle: t = alpha + S/beta with alpha = 5 us, beta = 400 GB/s at 25 sizes from 1 KiB to
// 16 GiB (powers of two, nccl-tests' ladder), each time multiplied by a fixed +-2 % ripple.
// Relative least squares weights the latency-dominated small sizes as much as the
// bandwidth-dominated large ones, so both parameters come back within 1 %.
TEST_CASE("the alpha-beta fit recovers latency and bandwidth within 1 % from noisy times",
          "[unit]") {
  const double alpha = 5e-6;
  const double beta = 400e9;
  std::vector<Sample> samples;
  for (int i = 0; i < 25; ++i) {
    const double bytes = std::ldexp(1.0, 10 + i);
    samples.push_back({bytes, (alpha + bytes / beta) * noise(i)});
  }
  const auto fit = fit_alpha_beta(samples);
  REQUIRE(fit);
  CHECK(fit->alpha_s == Approx(alpha).epsilon(0.01));
  CHECK(fit->beta_bytes_per_s == Approx(beta).epsilon(0.01));
  CHECK(fit->rms_relative_error < 0.02);
  CHECK(fit->min_bytes == 1024);
  CHECK(fit->max_bytes == std::ldexp(1.0, 34));
  CHECK(fit->seconds(1e6) == Approx(fit->alpha_s + 1e6 / fit->beta_bytes_per_s));
}

// Oracle: noise-free t = t0 + W/R with t0 = 5 us and R = 800 TFLOP/s, the shape of the H100
// bf16 GEMM table (hardware.md 5.2); the fit is then exact to rounding, and the achieved
// rate W/t saturates at R.
TEST_CASE("the overhead-rate fit is exact on noise-free compute times", "[unit]") {
  const double t0 = 5e-6;
  const double rate = 800e12;
  std::vector<Sample> samples;
  for (double w = 3.3e7; w < 2e11; w *= 8) {
    samples.push_back({w, t0 + w / rate});
  }
  const auto fit = fit_overhead_rate(samples);
  REQUIRE(fit);
  CHECK(fit->t0_s == Approx(t0).epsilon(1e-9));
  CHECK(fit->rate_per_s == Approx(rate).epsilon(1e-9));
  CHECK(fit->rms_relative_error < 1e-9);
  CHECK(fit->achieved(1e20) == Approx(rate).epsilon(1e-9));
  CHECK(fit->achieved(3.3e7) == Approx(3.3e7 / (t0 + 3.3e7 / rate)));
}

// Oracle: y = 2x - 1 at x = 1..4 is fitted exactly by a = -1, an impossible negative latency,
// so the fit is redone with a = 0, whose least-squares slope is
// b = sum(x_i/y_i) / sum((x_i/y_i)^2).
TEST_CASE("a fit that wants a negative intercept is redone through the origin", "[unit]") {
  std::vector<Sample> samples;
  double num = 0;
  double den = 0;
  for (int i = 1; i <= 4; ++i) {
    const double x = i;
    const double y = 2 * x - 1;
    samples.push_back({x, y});
    num += x / y;
    den += (x / y) * (x / y);
  }
  const auto fit = fit_affine_relative(samples);
  REQUIRE(fit);
  CHECK(fit->intercept == 0);
  CHECK(fit->slope == Approx(num / den).epsilon(1e-12));
}

TEST_CASE("no fit exists from one distinct x or from times falling with size", "[unit]") {
  const std::vector<Sample> one_x = {{8, 1}, {8, 2}};
  CHECK_FALSE(fit_affine_relative(one_x));
  const std::vector<Sample> falling = {{1, 4}, {2, 3}, {4, 2}};
  CHECK_FALSE(fit_alpha_beta(falling));
  const std::vector<Sample> none;
  CHECK_FALSE(fit_overhead_rate(none));
}
