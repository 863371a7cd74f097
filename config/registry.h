// SPDX-License-Identifier: Apache-2.0
// A name -> factory table for one family of plug-ins (strategies, generators, collectives),
// filled by one explicit list per folder (STYLE C3). Unknown names are input errors that list
// the known names and suggest the closest.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/node.h"

namespace attnsim::config {

template <class Product>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Product>(const Node&)>;

  /// `family` names the family in messages, e.g. "parallelism strategy".
  explicit Registry(std::string family) : family_(std::move(family)) {}

  /// Adds `name`; a duplicate name is a programming error and throws std::logic_error.
  void add(std::string name, std::string summary, Factory make) {
    if (!entries_.emplace(name, Entry{std::move(summary), std::move(make)}).second) {
      throw std::logic_error(family_ + " registered twice: " + name);
    }
  }

  /// Builds the product named by node[key], passing it `node`. Unknown names throw InputError
  /// listing the known names and, when one is close, a "did you mean" suggestion.
  std::unique_ptr<Product> make(const Node& node, std::string_view key) const {
    const std::vector<std::string> known = names();
    const std::string name = node.one_of(key, known);
    return entries_.at(name).make(node);
  }

  bool contains(std::string_view name) const { return entries_.count(std::string(name)) != 0; }

  /// Sorted names, for help text and errors.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, entry] : entries_) {
      out.push_back(name);
    }
    return out;
  }

  const std::string& summary(const std::string& name) const { return entries_.at(name).summary; }

  const std::string& family() const { return family_; }

 private:
  struct Entry {
    std::string summary;
    Factory make;
  };

  std::string family_;
  std::map<std::string, Entry> entries_;  // ordered: stable help and error output
};

}  // namespace attnsim::config
