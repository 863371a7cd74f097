// SPDX-License-Identifier: Apache-2.0
// The readable table `attnsim run` prints: human units, aligned columns, numbered footnotes.
#include <algorithm>
#include <array>
#include <map>
#include <string_view>
#include <utility>

#include "report/number_text.h"
#include "report/results.h"

namespace attnsim::report {

namespace {

// Three significant digits without an exponent: 1.23, 12.3, 123, 1234.
std::string three_digits(double v) {
  if (v < 9.995) {
    return fixed(v, 2);
  }
  return v < 99.95 ? fixed(v, 1) : fixed(v, 0);
}

// 0.0123 -> "12.3 ms"; the largest unit in which the value reads at least 1.
std::string duration_text(double seconds) {
  if (seconds <= 0) {
    return "0";
  }
  constexpr std::array<std::pair<double, std::string_view>, 4> kUnits = {
      {{1, "s"}, {1e-3, "ms"}, {1e-6, "us"}, {1e-9, "ns"}}};
  for (const auto& [unit, name] : kUnits) {
    // 0.9996 s reads "1.00 s", not "1000 ms".
    if (seconds >= unit * 0.9995 || unit == kUnits.back().first) {
      return three_digits(seconds / unit) + " " + std::string(name);
    }
  }
  return "0";
}

// Decimal SI prefixes: 106000 -> "106k", 2.5e6 -> "2.50M".
std::string rate_text(double v) {
  constexpr std::array<std::pair<double, std::string_view>, 4> kPrefixes = {
      {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}}};
  for (const auto& [unit, name] : kPrefixes) {
    if (v >= unit * 0.9995) {
      return three_digits(v / unit) + std::string(name);
    }
  }
  return three_digits(v);
}

// Binary multiples, exact only: 131072 -> "128K", 1048576 -> "1M", 100000 -> "100000".
std::string length_text(std::int64_t tokens) {
  constexpr std::int64_t kKi = 1024;
  if (tokens > 0 && tokens % (kKi * kKi) == 0) {
    return std::to_string(tokens / (kKi * kKi)) + "M";
  }
  if (tokens > 0 && tokens % kKi == 0) {
    return std::to_string(tokens / kKi) + "K";
  }
  return std::to_string(tokens);
}

std::string strategy_text(const Point& p) {
  if (p.requested_strategy == "auto" && p.strategy != "auto") {
    return "auto\u2192" + p.strategy;  // "auto→ring"
  }
  return p.strategy;
}

std::string bottleneck_text(const Bottleneck& b) {
  if (b.link_class.empty()) {
    return "-";
  }
  return b.link_class + " " + fixed(b.utilization * 100, 0) + "%";
}

// Columns are measured in code points, so "→" counts as one.
std::size_t display_width(std::string_view text) {
  std::size_t n = 0;
  for (const char c : text) {
    n += (static_cast<unsigned char>(c) & 0xC0U) != 0x80U ? 1 : 0;
  }
  return n;
}

struct Column {
  std::string_view header;
  bool right = false;  // numbers right-aligned, text left-aligned
};

// The footnotes of one point: its notes, its extrapolations, and auto's reason.
std::vector<std::string> footnote_texts(const Point& p) {
  std::vector<std::string> out = p.notes;
  if (!p.extrapolated.empty()) {
    std::string line = "extrapolated beyond measured data:";
    for (std::size_t i = 0; i < p.extrapolated.size(); ++i) {
      line += (i == 0 ? " " : ", ") + p.extrapolated[i];
    }
    out.push_back(std::move(line));
  }
  if (!p.reason.empty()) {
    out.push_back("auto: " + p.reason);
  }
  return out;
}

}  // namespace

std::string format_table(const Results& results) {
  const std::vector<Column> columns = {{"gpus", true},        {"strategy", false}, {"seq", true},
                                       {"step time", true},   {"tokens/s", true},  {"MFU", true},
                                       {"exp. comm", true},   {"mem/GPU", true},   {"fits", false},
                                       {"bottleneck", false}, {"notes", false}};
  // Footnotes are numbered in order of first appearance; a repeated text keeps its number.
  std::vector<std::string> footnotes;
  std::map<std::string, std::size_t, std::less<>> footnote_number;
  std::vector<std::vector<std::string>> rows;
  for (const Point& p : results.points) {
    std::vector<std::size_t> numbers;
    for (const std::string& text : footnote_texts(p)) {
      auto [it, added] = footnote_number.emplace(text, footnotes.size() + 1);
      if (added) {
        footnotes.push_back(text);
      }
      numbers.push_back(it->second);
    }
    std::sort(numbers.begin(), numbers.end());
    numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
    std::string refs;
    for (const std::size_t n : numbers) {
      refs += refs.empty() ? '[' : ',';
      refs += std::to_string(n);
    }
    rows.push_back({std::to_string(p.gpus), strategy_text(p), length_text(p.sequence_length),
                    duration_text(p.step_time_s), rate_text(p.tokens_per_s),
                    fixed(p.mfu * 100, 1) + "%", duration_text(p.exposed_comm_s),
                    fixed(p.memory_per_gpu_bytes * 1e-9, 1) + " GB",  // GB = 10^9 bytes
                    p.fits_memory ? "yes" : "NO", bottleneck_text(p.bottleneck),
                    refs.empty() ? "" : refs + "]"});
  }
  // The notes column appears only when some point has a footnote.
  const std::size_t shown = footnotes.empty() ? columns.size() - 1 : columns.size();
  std::vector<std::size_t> width(shown);
  for (std::size_t c = 0; c < shown; ++c) {
    width[c] = display_width(columns[c].header);
    for (const auto& row : rows) {
      width[c] = std::max(width[c], display_width(row[c]));
    }
  }
  std::string out;
  const auto append_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t c = 0; c < shown; ++c) {
      const std::string pad(width[c] - display_width(cells[c]), ' ');
      line += c == 0 ? "" : "  ";
      line += columns[c].right ? pad + cells[c] : cells[c] + pad;
    }
    line.erase(line.find_last_not_of(' ') + 1);  // no trailing blanks
    out += line + "\n";
  };
  std::vector<std::string> header;
  std::vector<std::string> rule;
  for (std::size_t c = 0; c < shown; ++c) {
    header.emplace_back(columns[c].header);
    rule.emplace_back(width[c], '-');
  }
  append_line(header);
  append_line(rule);
  for (const auto& row : rows) {
    append_line(row);
  }
  if (!footnotes.empty()) {
    out += "\n";
    for (std::size_t i = 0; i < footnotes.size(); ++i) {
      out += '[';
      out += std::to_string(i + 1);
      out += "] " + footnotes[i] + "\n";
    }
  }
  if (!results.skipped.empty()) {
    out += "\nnot simulated (the strategy does not apply):\n";
    for (const Skipped& k : results.skipped) {
      out += "  " + k.reason + "\n";
    }
  }
  return out;
}

}  // namespace attnsim::report
