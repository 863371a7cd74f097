// SPDX-License-Identifier: Apache-2.0
#include "topology/section.h"

#include <limits>
#include <stdexcept>

namespace attnsim::topology {

Section::Section(std::vector<config::Node> layers) : layers_(std::move(layers)) {
  if (layers_.empty()) {
    throw std::logic_error("Section needs at least one layer");
  }
  for (const config::Node& layer : layers_) {
    if (!layer.is_object()) {
      layer.fail("an object");
    }
  }
}

std::optional<config::Node> Section::find(std::string_view key) const {
  std::optional<config::Node> found;
  for (const config::Node& layer : layers_) {
    std::optional<config::Node> n = layer.find(key);
    if (n && !found) {
      found = std::move(n);
    }
  }
  return found;
}

config::Node Section::child(std::string_view key, std::string_view what) const {
  if (std::optional<config::Node> n = find(key)) {
    return *n;
  }
  return top().child(key, what);  // throws "missing key" on the first layer
}

std::optional<Section> Section::find_section(std::string_view key) const {
  std::vector<config::Node> found;
  for (const config::Node& layer : layers_) {
    if (std::optional<config::Node> n = layer.find(key)) {
      if (!n->is_object()) {
        n->fail("an object");
      }
      found.push_back(*n);
    }
  }
  if (found.empty()) {
    return std::nullopt;
  }
  return Section(std::move(found));
}

Section Section::section(std::string_view key) const {
  if (std::optional<Section> s = find_section(key)) {
    return *s;
  }
  top().child(key, "an object");  // throws "missing key"
  throw std::logic_error("unreachable");
}

Section Section::same_kind(std::string_view key) const {
  const std::optional<config::Node> winner = find(key);
  if (!winner) {
    return *this;
  }
  std::vector<config::Node> kept;
  for (const config::Node& layer : layers_) {
    const std::optional<config::Node> own = layer.find(key);
    if (!own || own->dump() == winner->dump()) {
      kept.push_back(layer);
    }
  }
  return Section(std::move(kept));
}

const config::Node& Section::layer_with(std::string_view key) const {
  for (const config::Node& layer : layers_) {
    if (layer.has(key)) {
      return layer;
    }
  }
  return top();
}

double Section::positive(std::string_view key) const {
  return child(key, "a number > 0").as_positive();
}

double Section::non_negative(std::string_view key) const {
  return child(key, "a number >= 0").as_non_negative();
}

std::int64_t Section::count(std::string_view key) const {
  return child(key, "an integer >= 1").as_integer(1, std::numeric_limits<std::int64_t>::max());
}

std::int64_t Section::integer(std::string_view key, std::int64_t min, std::int64_t max) const {
  return child(key, "an integer").as_integer(min, max);
}

std::optional<double> Section::find_positive(std::string_view key) const {
  const std::optional<config::Node> n = find(key);
  return n ? std::optional<double>(n->as_positive()) : std::nullopt;
}

std::optional<std::int64_t> Section::find_integer(std::string_view key, std::int64_t min,
                                                  std::int64_t max) const {
  const std::optional<config::Node> n = find(key);
  return n ? std::optional<std::int64_t>(n->as_integer(min, max)) : std::nullopt;
}

bool Section::boolean_or(std::string_view key, bool fallback) const {
  const std::optional<config::Node> n = find(key);
  return n ? n->as_bool() : fallback;
}

sim::Bandwidth Section::bandwidth(std::string_view key) const {
  return sim::Bandwidth::from_GBps(positive(key));
}

sim::Time Section::latency(std::string_view key) const {
  return sim::Time::from_us(non_negative(key));
}

void Section::fail(std::string_view expected, std::string_view got) const {
  top().fail(expected, got);
}

void Section::reject_unknown_keys() const {
  for (const config::Node& layer : layers_) {
    layer.reject_unknown_keys();
  }
}

}  // namespace attnsim::topology
