// SPDX-License-Identifier: Apache-2.0
// A topology section read through layers: the user's overrides first, then the preset they
// name. The first layer holding a key wins, so {"preset": "h100-superpod", "nodes": 64} is the
// preset with 64 nodes, and every error still names the file and JSON pointer the value came
// from (a merged copy would lose both, and the sweep-point context).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/node.h"
#include "sim/time.h"

namespace attnsim::topology {

class Section {
 public:
  /// `layers`: objects, most specific first; at least one.
  explicit Section(std::vector<config::Node> layers);

  /// The value of `key` from the first layer that has it. Marks the key known in every layer.
  std::optional<config::Node> find(std::string_view key) const;
  /// As find(), but a key missing from every layer fails on the first layer: "expected `what`,
  /// got nothing (missing key)".
  config::Node child(std::string_view key, std::string_view what = "a value") const;

  /// The object `key` of every layer that has it; nullopt when none has it. A layer whose value
  /// is not an object fails.
  std::optional<Section> find_section(std::string_view key) const;
  /// As find_section(), but required.
  Section section(std::string_view key) const;

  /// This section with the layers whose `key` (e.g. "kind") differs from the winning value
  /// dropped: overriding a preset's kind replaces the preset's section instead of merging
  /// keys of another kind into it.
  Section same_kind(std::string_view key) const;
  /// The layer that provides `key` (for Registry::make, whose errors then name that layer).
  const config::Node& layer_with(std::string_view key) const;

  double positive(std::string_view key) const;
  double non_negative(std::string_view key) const;
  std::int64_t count(std::string_view key) const;
  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max) const;
  std::optional<double> find_positive(std::string_view key) const;
  std::optional<std::int64_t> find_integer(std::string_view key, std::int64_t min,
                                           std::int64_t max) const;
  bool boolean_or(std::string_view key, bool fallback) const;
  /// Reads `key` (a *_GBps key) as a bandwidth > 0.
  sim::Bandwidth bandwidth(std::string_view key) const;
  /// Reads `key` (a *_us key) as a latency >= 0.
  sim::Time latency(std::string_view key) const;

  /// Fails on the first layer ("<file>: <pointer>: expected ..., got ...").
  [[noreturn]] void fail(std::string_view expected, std::string_view got) const;
  /// Reports keys no reader asked for, in every layer.
  void reject_unknown_keys() const;

  const config::Node& top() const { return layers_.front(); }

  std::span<const config::Node> layers() const { return layers_; }

 private:
  std::vector<config::Node> layers_;
};

}  // namespace attnsim::topology
