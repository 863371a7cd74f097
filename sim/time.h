// SPDX-License-Identifier: Apache-2.0
// Simulated time and bandwidth with their units in the type (STYLE D2, E: no unit only in a
// comment). Time is an integer count of picoseconds: 2^63 ps is 106 days, far beyond any step.
#pragma once

#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>

namespace attnsim::sim {

/// Simulated time as a count of picoseconds.
class Time {
 public:
  constexpr Time() = default;

  static constexpr Time from_ps(std::int64_t ps) { return Time(ps); }

  /// Rounds to the nearest picosecond.
  static Time from_us(double us) { return Time(std::llround(us * 1e6)); }

  static Time from_s(double s) { return Time(std::llround(s * 1e12)); }

  static constexpr Time max() { return Time(std::numeric_limits<std::int64_t>::max()); }

  constexpr std::int64_t ps() const { return ps_; }

  double us() const { return static_cast<double>(ps_) * 1e-6; }

  double seconds() const { return static_cast<double>(ps_) * 1e-12; }

  constexpr Time operator+(Time o) const { return Time(ps_ + o.ps_); }

  constexpr Time operator-(Time o) const { return Time(ps_ - o.ps_); }

  constexpr Time& operator+=(Time o) {
    ps_ += o.ps_;
    return *this;
  }

  friend constexpr auto operator<=>(const Time&, const Time&) = default;

 private:
  constexpr explicit Time(std::int64_t ps) : ps_(ps) {}

  std::int64_t ps_ = 0;
};

/// A data rate in bytes per second. GBps means 10^9 bytes/s, never 2^30.
class Bandwidth {
 public:
  constexpr Bandwidth() = default;

  static constexpr Bandwidth from_bytes_per_s(double bps) { return Bandwidth(bps); }

  static constexpr Bandwidth from_GBps(double gbps) { return Bandwidth(gbps * 1e9); }

  constexpr double bytes_per_s() const { return bytes_per_s_; }

  constexpr double GBps() const { return bytes_per_s_ * 1e-9; }

  friend constexpr auto operator<=>(const Bandwidth&, const Bandwidth&) = default;

 private:
  constexpr explicit Bandwidth(double bps) : bytes_per_s_(bps) {}

  double bytes_per_s_ = 0;
};

/// Time to move `bytes` at `rate`, rounded to the nearest picosecond.
inline Time transfer_time(double bytes, Bandwidth rate) {
  return Time::from_s(bytes / rate.bytes_per_s());
}

}  // namespace attnsim::sim
