// SPDX-License-Identifier: Apache-2.0
#include "config/node.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "config/edit_distance.h"
#include "config/error.h"

namespace attnsim::config {

// Constructed once per parsed file; an allocation failure there is not something to handle.
struct Node::Document {  // NOLINT(bugprone-exception-escape)
  nlohmann::json value;
  std::string file;
  // Keys asked for, per object pointer: the "known" keys of reject_unknown_keys().
  std::map<std::string, std::set<std::string>, std::less<>> known;
};

namespace {

std::string escape_pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// nlohmann reports the byte offset of a syntax error; turn it into line and column.
std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t byte) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

// "[json.exception.parse_error.101] parse error at line 3, column 1: syntax error while
// parsing object - unexpected '}'; expected string literal" -> the part after " - ".
std::string syntax_detail(const std::string& what) {
  const std::size_t dash = what.find(" - ");
  if (dash != std::string::npos) {
    return what.substr(dash + 3);
  }
  const std::size_t colon = what.rfind(": ");
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

// The shortest text that reads back as `v` (std::to_chars): 97.55 stays "97.55", where 17
// significant digits would print "97.549999999999997".
std::string format_number(double v) {
  std::array<char, 32> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v);
  return ec == std::errc{} ? std::string(buffer.data(), end) : std::to_string(v);
}

}  // namespace

std::string json_quoted(std::string_view text) {
  return nlohmann::json(std::string(text)).dump();
}

Node::Node(std::shared_ptr<Document> doc, const nlohmann::json* value, std::string pointer)
    : doc_(std::move(doc)), value_(value), pointer_(std::move(pointer)) {}

Node Node::parse_text(const std::string& file, std::string_view text) {
  auto doc = std::make_shared<Document>();
  doc->file = file;
  try {
    doc->value = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    const auto [line, column] = line_column(text, e.byte == 0 ? 0 : e.byte - 1);
    throw InputError(file + ": line " + std::to_string(line) + ", column " +
                     std::to_string(column) + ": JSON syntax error: " + syntax_detail(e.what()));
  } catch (const nlohmann::json::out_of_range& e) {
    // The one out_of_range the parser throws: a number beyond a double ("1e999").
    const std::string what = e.what();
    const std::size_t quote = what.find('\'');
    const std::string number =
        quote == std::string::npos ? what : what.substr(quote + 1, what.rfind('\'') - quote - 1);
    throw InputError(file + ": expected numbers a double can hold, got " + number);
  }
  const nlohmann::json* root = &doc->value;
  return Node(std::move(doc), root, "");
}

Node Node::parse_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw InputError(path + ": expected a JSON file, got a folder");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(path + ": cannot open the file for reading");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_text(path, text.str());
}

Node Node::from_json(const std::string& file, const nlohmann::json& value) {
  auto doc = std::make_shared<Document>();
  doc->file = file;
  doc->value = value;
  const nlohmann::json* root = &doc->value;
  return Node(std::move(doc), root, "");
}

void Node::mark_known(std::string_view key) const {
  doc_->known[pointer_].emplace(key);
}

Node Node::member(std::string_view key) const {
  Node n(doc_, &value_->at(std::string(key)), pointer_ + "/" + escape_pointer_token(key));
  n.context_ = context_;
  return n;
}

std::optional<Node> Node::find(std::string_view key) const {
  if (!value_->is_object()) {
    fail("an object");
  }
  mark_known(key);
  if (!value_->contains(std::string(key))) {
    return std::nullopt;
  }
  return member(key);
}

bool Node::has(std::string_view key) const {
  return find(key).has_value();
}

Node Node::child(std::string_view key, std::string_view what) const {
  std::optional<Node> n = find(key);
  if (!n) {
    Node missing(doc_, value_, pointer_ + "/" + escape_pointer_token(key));
    missing.context_ = context_;
    missing.fail(what, "nothing (missing key)");
  }
  return *n;
}

std::vector<Node> Node::elements(std::string_view what) const {
  if (!value_->is_array()) {
    fail(what);
  }
  std::vector<Node> out;
  out.reserve(value_->size());
  for (std::size_t i = 0; i < value_->size(); ++i) {
    Node n(doc_, &(*value_)[i], pointer_ + "/" + std::to_string(i));
    n.context_ = context_;
    out.push_back(std::move(n));
  }
  return out;
}

std::vector<std::pair<std::string, Node>> Node::members(std::string_view what) const {
  if (!value_->is_object()) {
    fail(what);
  }
  std::vector<std::pair<std::string, Node>> out;
  for (const auto& [key, value] : value_->items()) {
    mark_known(key);
    out.emplace_back(key, member(key));
  }
  return out;
}

bool Node::is_object() const {
  return value_->is_object();
}

bool Node::is_array() const {
  return value_->is_array();
}

bool Node::is_string() const {
  return value_->is_string();
}

bool Node::is_number() const {
  return value_->is_number();
}

double Node::as_number(std::string_view what) const {
  if (!value_->is_number()) {
    fail(what);
  }
  const double v = value_->get<double>();
  if (!std::isfinite(v)) {
    fail(what);
  }
  return v;
}

double Node::as_positive() const {
  const double v = as_number("a number > 0");
  if (!(v > 0)) {
    fail("a number > 0");
  }
  return v;
}

double Node::as_non_negative() const {
  const double v = as_number("a number >= 0");
  if (v < 0) {
    fail("a number >= 0");
  }
  return v;
}

std::int64_t Node::as_integer(std::int64_t min, std::int64_t max) const {
  std::string what = "an integer >= " + std::to_string(min);
  if (max != std::numeric_limits<std::int64_t>::max()) {
    what = "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  }
  if (!value_->is_number()) {
    fail(what);
  }
  if (value_->is_number_float()) {
    const double v = value_->get<double>();
    // 2^63 is exactly representable; anything at or beyond it does not fit.
    if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) >= 9.2233720368547758e18) {
      fail(what);
    }
  }
  if (value_->is_number_unsigned() &&
      value_->get<std::uint64_t>() >
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    fail(what);
  }
  const std::int64_t v = value_->is_number_float()
                             ? static_cast<std::int64_t>(value_->get<double>())
                             : value_->get<std::int64_t>();
  if (v < min || v > max) {
    fail(what);
  }
  return v;
}

std::string Node::as_string(std::string_view what) const {
  if (!value_->is_string()) {
    fail(what);
  }
  return value_->get<std::string>();
}

bool Node::as_bool() const {
  if (!value_->is_boolean()) {
    fail("true or false");
  }
  return value_->get<bool>();
}

double Node::number(std::string_view key) const {
  return child(key, "a number").as_number();
}

double Node::positive(std::string_view key) const {
  return child(key, "a number > 0").as_positive();
}

double Node::non_negative(std::string_view key) const {
  return child(key, "a number >= 0").as_non_negative();
}

std::int64_t Node::count(std::string_view key) const {
  return child(key, "an integer >= 1").as_integer(1, std::numeric_limits<std::int64_t>::max());
}

std::int64_t Node::integer(std::string_view key, std::int64_t min, std::int64_t max) const {
  return child(key, "an integer").as_integer(min, max);
}

std::string Node::string(std::string_view key) const {
  return child(key, "a string").as_string();
}

bool Node::boolean(std::string_view key) const {
  return child(key, "true or false").as_bool();
}

std::string Node::one_of(std::string_view key, std::span<const std::string> names) const {
  std::string listed;
  std::vector<std::string> sorted(names.begin(), names.end());
  std::sort(sorted.begin(), sorted.end());
  for (const std::string& name : sorted) {
    listed += (listed.empty() ? "" : ", ") + name;
  }
  const std::string what = "one of " + listed;
  const Node n = child(key, what);
  if (!n.is_string()) {
    n.fail(what + ";", n.dump());
  }
  std::string value = n.as_string();
  if (std::find(names.begin(), names.end(), value) != names.end()) {
    return value;
  }
  std::string got = json_quoted(value);
  if (std::optional<std::string> close = suggest(value, sorted)) {
    got += " (did you mean " + json_quoted(*close) + "?)";
  }
  n.fail(what + ";", got);
}

double Node::positive_or(std::string_view key, double fallback) const {
  const std::optional<Node> n = find(key);
  return n ? n->as_positive() : fallback;
}

double Node::non_negative_or(std::string_view key, double fallback) const {
  const std::optional<Node> n = find(key);
  return n ? n->as_non_negative() : fallback;
}

std::int64_t Node::integer_or(std::string_view key, std::int64_t min, std::int64_t max,
                              std::int64_t fallback) const {
  const std::optional<Node> n = find(key);
  return n ? n->as_integer(min, max) : fallback;
}

bool Node::boolean_or(std::string_view key, bool fallback) const {
  const std::optional<Node> n = find(key);
  return n ? n->as_bool() : fallback;
}

std::string Node::string_or(std::string_view key, std::string fallback) const {
  const std::optional<Node> n = find(key);
  return n ? n->as_string() : std::move(fallback);
}

void Node::fail(std::string_view expected, std::string_view got) const {
  std::string line = doc_->file + ": ";
  if (!context_.empty()) {
    line += context_ + ": ";
  }
  line += pointer() + ": expected " + std::string(expected);
  // one_of() passes "...;" so that the list and the value read "a, b; got "x"".
  line += expected.ends_with(";") ? " got " : ", got ";
  line += std::string(got);
  throw InputError(line);
}

void Node::fail(std::string_view expected) const {
  fail(expected, dump());
}

void Node::reject_unknown_keys() const {
  if (!value_->is_object()) {
    return;
  }
  const auto known_it = doc_->known.find(pointer_);
  const std::set<std::string> none;
  const std::set<std::string>& known = known_it == doc_->known.end() ? none : known_it->second;
  for (const auto& [key, value] : value_->items()) {
    if (key.starts_with("_") || known.count(key) != 0) {
      continue;
    }
    std::string line = doc_->file + ": ";
    if (!context_.empty()) {
      line += context_ + ": ";
    }
    line += pointer() + ": unknown key " + json_quoted(key);
    const std::vector<std::string> candidates(known.begin(), known.end());
    if (std::optional<std::string> close = suggest(key, candidates)) {
      line += " (did you mean " + json_quoted(*close) + "?)";
    }
    throw InputError(line);
  }
}

std::string Node::pointer() const {
  return pointer_.empty() ? "/" : pointer_;
}

const std::string& Node::file() const {
  return doc_->file;
}

std::string Node::dump() const {
  if (value_->is_number_float()) {
    return format_number(value_->get<double>());
  }
  return value_->dump();
}

Node Node::with_context(std::string context) const {
  Node n = *this;
  n.context_ = std::move(context);
  return n;
}

}  // namespace attnsim::config
