// SPDX-License-Identifier: Apache-2.0
// A JSON value plus where it came from, so that every complaint about it can name the file,
// the JSON pointer, what was expected and what was found (STYLE C7):
//
//   scenarios/x.json: /topology/scale_up/bandwidth_GBps: expected a number > 0, got -450
//
// Nodes remember which keys of an object were asked for (present or not); after a section is
// parsed, reject_unknown_keys() reports any other key, with a "did you mean" suggestion. Keys
// starting with '_' are comments and are never reported.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace attnsim::config {

class Node {
 public:
  /// Parses `text`; `file` names it in messages. Syntax errors throw InputError with line and
  /// column.
  static Node parse_text(const std::string& file, std::string_view text);
  /// Reads and parses a file; an unreadable file throws InputError naming it.
  static Node parse_file(const std::string& path);
  /// Wraps an existing value (copied), e.g. a built-in preset; `file` names it in messages.
  static Node from_json(const std::string& file, const nlohmann::json& value);

  /// The member `key`; throws "expected <what>, got nothing (missing key)" when absent.
  Node child(std::string_view key, std::string_view what = "a value") const;
  /// The member `key` if present. Marks the key as known either way.
  std::optional<Node> find(std::string_view key) const;
  bool has(std::string_view key) const;

  /// Element access for arrays; elements() fails unless this is an array.
  std::vector<Node> elements(std::string_view what = "an array") const;
  /// Members of an object in key order (for maps such as per-collective tables).
  std::vector<std::pair<std::string, Node>> members(std::string_view what = "an object") const;

  bool is_object() const;
  bool is_array() const;
  bool is_string() const;
  bool is_number() const;

  // Typed readers of this node's own value.
  double as_number(std::string_view what = "a number") const;
  double as_positive() const;  // finite and > 0
  double as_non_negative() const;
  std::int64_t as_integer(std::int64_t min, std::int64_t max) const;
  std::string as_string(std::string_view what = "a string") const;
  bool as_bool() const;

  // Typed readers of a required member.
  double number(std::string_view key) const;
  double positive(std::string_view key) const;
  double non_negative(std::string_view key) const;
  std::int64_t count(std::string_view key) const;  // integer >= 1
  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max) const;
  std::string string(std::string_view key) const;
  bool boolean(std::string_view key) const;
  /// The member's string value, which must be one of `names` (listed, sorted, in the error).
  std::string one_of(std::string_view key, std::span<const std::string> names) const;

  // Optional members with a default.
  double positive_or(std::string_view key, double fallback) const;
  double non_negative_or(std::string_view key, double fallback) const;
  std::int64_t integer_or(std::string_view key, std::int64_t min, std::int64_t max,
                          std::int64_t fallback) const;
  bool boolean_or(std::string_view key, bool fallback) const;
  std::string string_or(std::string_view key, std::string fallback) const;

  /// Throws InputError "<file>: <pointer>: expected <expected>, got <got>".
  [[noreturn]] void fail(std::string_view expected, std::string_view got) const;
  /// As fail(), with this node's value (as JSON) as what was found.
  [[noreturn]] void fail(std::string_view expected) const;
  /// Throws for any member that was never asked for, with a suggestion when one is close.
  void reject_unknown_keys() const;

  /// JSON pointer of this node, "/" for the document root.
  std::string pointer() const;
  const std::string& file() const;
  /// This node's value as compact JSON.
  std::string dump() const;

  /// The underlying value; callers that include <nlohmann/json.hpp> may read it directly.
  const nlohmann::json& json() const { return *value_; }

  /// A copy whose messages carry `context` after the file name, e.g. "sweep point 3 of 8".
  Node with_context(std::string context) const;

 private:
  struct Document;
  Node(std::shared_ptr<Document> doc, const nlohmann::json* value, std::string pointer);
  Node member(std::string_view key) const;
  void mark_known(std::string_view key) const;

  std::shared_ptr<Document> doc_;
  const nlohmann::json* value_;
  std::string pointer_;  // "" for the root
  std::string context_;
};

/// Quotes a string as JSON does ("a\"b" -> "\"a\\\"b\""), for messages.
std::string json_quoted(std::string_view text);

}  // namespace attnsim::config
