// SPDX-License-Identifier: Apache-2.0
#include "report/document.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <variant>

#include "report/claims.h"

namespace attnsim::report {
namespace {

// ---- The document as blocks, rendered twice ------------------------------------------------

struct Heading {
  int level = 2;
  std::string text;
  std::string id;
};

struct Paragraph {
  std::string text;
};

struct Bullets {
  std::vector<std::string> items;
};

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  // Optional background colour per cell (same shape as rows; "" for none).
  std::vector<std::vector<std::string>> colours;
};

struct FigureRef {
  std::size_t index = 0;  // into the figures
};

struct Code {
  std::string text;
};

using Block = std::variant<Heading, Paragraph, Bullets, Table, FigureRef, Code>;

std::string md_cell(const std::string& text) {
  std::string out;
  for (const char c : text) {
    out += c == '|' ? std::string("\\|") : std::string(1, c);
  }
  return out;
}

std::string render_markdown(const std::vector<Block>& blocks, const std::vector<Figure>& figures) {
  std::ostringstream o;
  for (const Block& block : blocks) {
    if (const auto* h = std::get_if<Heading>(&block)) {
      o << std::string(static_cast<std::size_t>(h->level), '#') << " " << h->text << "\n\n";
    } else if (const auto* p = std::get_if<Paragraph>(&block)) {
      o << p->text << "\n\n";
    } else if (const auto* b = std::get_if<Bullets>(&block)) {
      for (const std::string& item : b->items) {
        o << "- " << item << "\n";
      }
      o << "\n";
    } else if (const auto* t = std::get_if<Table>(&block)) {
      o << "|";
      for (const std::string& column : t->header) {
        o << " " << md_cell(column) << " |";
      }
      o << "\n|";
      for (std::size_t i = 0; i < t->header.size(); ++i) {
        o << (i == 0 ? "---|" : "---:|");
      }
      o << "\n";
      for (const auto& row : t->rows) {
        o << "|";
        for (const std::string& cell : row) {
          o << " " << md_cell(cell) << " |";
        }
        o << "\n";
      }
      o << "\n";
    } else if (const auto* f = std::get_if<FigureRef>(&block)) {
      const Figure& fig = figures[f->index];
      o << "![" << fig.title << "](plots/" << fig.file << ")\n\n*" << fig.caption << "*\n\n";
    } else if (const auto* c = std::get_if<Code>(&block)) {
      o << "```\n" << c->text << (c->text.ends_with('\n') ? "" : "\n") << "```\n\n";
    }
  }
  return o.str();
}

std::string html_escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string base64(const std::string& data) {
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const auto v = static_cast<unsigned>(static_cast<unsigned char>(data[i])) << 16U |
                   static_cast<unsigned>(static_cast<unsigned char>(data[i + 1])) << 8U |
                   static_cast<unsigned>(static_cast<unsigned char>(data[i + 2]));
    out += kDigits[(v >> 18U) & 63U];
    out += kDigits[(v >> 12U) & 63U];
    out += kDigits[(v >> 6U) & 63U];
    out += kDigits[v & 63U];
  }
  if (i < data.size()) {
    auto v = static_cast<unsigned>(static_cast<unsigned char>(data[i])) << 16U;
    if (i + 1 < data.size()) {
      v |= static_cast<unsigned>(static_cast<unsigned char>(data[i + 1])) << 8U;
    }
    out += kDigits[(v >> 18U) & 63U];
    out += kDigits[(v >> 12U) & 63U];
    out += i + 1 < data.size() ? kDigits[(v >> 6U) & 63U] : '=';
    out += '=';
  }
  return out;
}

constexpr const char* kStyle = R"(
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
       max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; border-bottom: 2px solid #4e79a7; padding-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 13px; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1.5em 0; } figure img { width: 100%; height: auto; }
figcaption { font-size: 13px; color: #555; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: 12px; }
@media print { body { max-width: none; margin: 0; } figure, table, pre { break-inside: avoid; }
               h2 { break-after: avoid; } }
)";

std::string render_html(const std::vector<Block>& blocks, const std::vector<Figure>& figures,
                        const std::string& title) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<title>" << html_escape(title) << "</title>\n<style>" << kStyle << "</style>\n"
    << "</head>\n<body>\n";
  for (const Block& block : blocks) {
    if (const auto* h = std::get_if<Heading>(&block)) {
      o << "<h" << h->level << (h->id.empty() ? "" : " id=\"" + h->id + "\"") << ">"
        << html_escape(h->text) << "</h" << h->level << ">\n";
    } else if (const auto* p = std::get_if<Paragraph>(&block)) {
      o << "<p>" << html_escape(p->text) << "</p>\n";
    } else if (const auto* b = std::get_if<Bullets>(&block)) {
      o << "<ul>\n";
      for (const std::string& item : b->items) {
        o << "<li>" << html_escape(item) << "</li>\n";
      }
      o << "</ul>\n";
    } else if (const auto* t = std::get_if<Table>(&block)) {
      o << "<table>\n<tr>";
      for (const std::string& column : t->header) {
        o << "<th>" << html_escape(column) << "</th>";
      }
      o << "</tr>\n";
      for (std::size_t r = 0; r < t->rows.size(); ++r) {
        o << "<tr>";
        for (std::size_t c = 0; c < t->rows[r].size(); ++c) {
          const std::string colour =
              r < t->colours.size() && c < t->colours[r].size() ? t->colours[r][c] : "";
          o << "<td" << (colour.empty() ? "" : " style=\"background:" + colour + "40\"") << ">"
            << html_escape(t->rows[r][c]) << "</td>";
        }
        o << "</tr>\n";
      }
      o << "</table>\n";
    } else if (const auto* f = std::get_if<FigureRef>(&block)) {
      const Figure& fig = figures[f->index];
      o << "<figure><img alt=\"" << html_escape(fig.title) << "\" src=\"data:image/svg+xml;base64,"
        << base64(fig.svg) << "\">\n<figcaption>" << html_escape(fig.title) << ". "
        << html_escape(fig.caption) << "</figcaption></figure>\n";
    } else if (const auto* c = std::get_if<Code>(&block)) {
      o << "<pre>" << html_escape(c->text) << "</pre>\n";
    }
  }
  o << "</body>\n</html>\n";
  return o.str();
}

// ---- The content ---------------------------------------------------------------------------

std::string scenario_name(const Results& r) {
  return r.scenario.is_object() && r.scenario.contains("name") && r.scenario["name"].is_string()
             ? r.scenario["name"].get<std::string>()
             : "attnsim results";
}

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += (i == 0 ? "" : sep) + items[i];
  }
  return out;
}

std::string string_field(const nlohmann::json& object, const char* key) {
  if (object.is_object() && object.contains(key) && object[key].is_string()) {
    return object[key].get<std::string>();
  }
  return "";
}

constexpr const char* kClaimsIntro =
    "Each claim against the projection: it holds when the projection meets it or misses by at "
    "most 10 %; otherwise the factor by which it is too optimistic, and why. A measurement "
    "matches when the projection is within 10 % of it either way; otherwise the factor by "
    "which the projection lies above or below it.";

std::string projected_text(const ClaimVerdict& v) {
  if (v.point == kNone) {
    return "-";
  }
  const std::string& m = v.claim.metric;
  if (m == "fits_memory") {
    return v.projected != 0 ? "fits" : "does not fit";
  }
  if (m == "mfu") {
    return format_percent(v.projected);
  }
  if (m == "step_time_s") {
    return format_seconds(v.projected);
  }
  if (m == "memory_per_gpu_bytes") {
    return format_gigabytes(v.projected);
  }
  if (m == "comm_bytes_per_token") {
    return format_count(v.projected) + "B/token";
  }
  if (m == "speedup") {
    return format_significant(v.projected, 2) + "x";
  }
  return format_count(v.projected) + " tokens/s";
}

// The claims as a table; `scenario` non-empty adds a first column naming it.
Table claims_table(const std::vector<ClaimVerdict>& verdicts, const std::string& scenario) {
  Table t;
  if (!scenario.empty()) {
    t.header.emplace_back("scenario");
  }
  for (const char* h : {"claim", "projected", "verdict", "reason"}) {
    t.header.emplace_back(h);
  }
  for (const ClaimVerdict& v : verdicts) {
    std::vector<std::string> row;
    std::vector<std::string> colours;
    if (!scenario.empty()) {
      row.push_back(scenario);
      colours.emplace_back("");
    }
    row.insert(row.end(), {v.claim.text, projected_text(v), v.verdict, v.reason});
    colours.insert(colours.end(), {"", "", v.agrees() ? "#59a14f" : "#e15759", ""});
    t.rows.push_back(std::move(row));
    t.colours.push_back(std::move(colours));
  }
  return t;
}

class Writer {
 public:
  Writer(const Results& results, const Projection& projection, const std::vector<Figure>& figures,
         bool claims_section = true)
      : r_(results), p_(projection), figures_(figures), claims_section_(claims_section) {}

  std::vector<Block> blocks() {
    verdicts_ = judge_claims(r_, p_);
    intro();
    findings();
    claims();
    best_table();
    scaling(true);
    scaling(false);
    memory();
    breakdown();
    crossovers();
    extrapolated();
    skipped();
    hardware();
    all_points();
    reproduce();
    return std::move(out_);
  }

 private:
  void add(Block b) { out_.push_back(std::move(b)); }

  void figure(const std::string& file) {
    for (std::size_t i = 0; i < figures_.size(); ++i) {
      if (figures_[i].file == file) {
        add(FigureRef{i});
      }
    }
  }

  std::string point_name(const Point& point) const {
    return point.strategy + " on " + std::to_string(point.gpus) + " GPUs at " +
           format_tokens(point.sequence_length) + " tokens";
  }

  void intro() {
    add(Heading{1, scenario_name(r_) + ": scaling projection", "top"});
    const std::string about = string_field(r_.scenario, "_about");
    if (!about.empty()) {
      add(Paragraph{about});
    }
    std::vector<std::string> hardware;
    for (const auto& [name, profile] : r_.hardware.items()) {
      hardware.push_back(name);
    }
    std::ostringstream o;
    o << "Simulated by attnsim " << r_.attnsim_version << ": " << r_.points.size() << " points, "
      << p_.series.size() << " series (" << join(p_.series) << ") on " << p_.gpus.size()
      << " GPU count" << (p_.gpus.size() == 1 ? "" : "s") << " (" << p_.gpus.front()
      << (p_.gpus.size() > 1 ? " to " + std::to_string(p_.gpus.back()) : "") << ") and "
      << p_.sequence_lengths.size() << " sequence length"
      << (p_.sequence_lengths.size() == 1 ? "" : "s") << " ("
      << format_tokens(p_.sequence_lengths.front())
      << (p_.sequence_lengths.size() > 1 ? " to " + format_tokens(p_.sequence_lengths.back()) : "")
      << " tokens)";
    if (!hardware.empty()) {
      o << ", hardware profile " << join(hardware);
    }
    const std::string model = string_field(r_.scenario, "network_model");
    o << ", " << (model.empty() ? "flow" : model) << " network model.";
    add(Paragraph{o.str()});
  }

  void findings() {
    add(Heading{2, "Findings", "findings"});
    std::vector<std::string> items;
    // The best at the largest scale, and how often each series wins.
    const Best& top = p_.best_at(p_.gpus.size() - 1, p_.sequence_lengths.size() - 1);
    if (top.point != kNone) {
      const Point& b = r_.points[top.point];
      items.push_back(
          "At the largest scale of the sweep (" + std::to_string(b.gpus) + " GPUs, " +
          format_tokens(b.sequence_length) + " tokens) the best is " + p_.series[top.series] +
          (b.strategy != p_.series[top.series] ? " (" + b.strategy + ")" : "") + ": " +
          format_seconds(b.step_time_s) + " per step, " + format_count(b.tokens_per_s) +
          " tokens/s, MFU " + format_percent(b.mfu) +
          (top.fits ? "" : "; it does not fit in memory, nor does any other series") + ".");
    }
    std::map<std::size_t, int> wins;
    int cells = 0;
    for (const Best& b : p_.best) {
      if (b.point != kNone && b.fits) {
        ++wins[b.series];
      }
      cells += b.point != kNone ? 1 : 0;
    }
    std::vector<std::pair<int, std::size_t>> order;
    order.reserve(wins.size());
    for (const auto& [series, n] : wins) {
      order.emplace_back(-n, series);
    }
    std::sort(order.begin(), order.end());
    std::vector<std::string> parts;
    parts.reserve(order.size());
    for (const auto& [n, series] : order) {
      parts.push_back(p_.series[series] + " in " + std::to_string(-n));
    }
    if (!parts.empty()) {
      items.push_back("Best (fastest that fits in memory) of " + std::to_string(cells) +
                      " cells of GPU count x sequence length: " + join(parts) + ".");
    }
    const std::size_t shown = std::min<std::size_t>(p_.crossovers.size(), 6);
    for (std::size_t i = 0; i < shown; ++i) {
      items.push_back(p_.crossovers[i]);
    }
    if (p_.crossovers.size() > shown) {
      items.push_back(std::to_string(p_.crossovers.size() - shown) +
                      " more crossovers are listed under Crossovers.");
    }
    if (p_.crossovers.empty() && !order.empty()) {
      items.push_back("No crossover: " + p_.series[order.front().second] +
                      " is the best wherever a series fits.");
    }
    if (!p_.memory_limits.empty()) {
      items.push_back(p_.memory_limits.front());
    }
    if (!verdicts_.empty()) {
      std::size_t holding = 0;
      bool measurements = false;
      for (const ClaimVerdict& v : verdicts_) {
        holding += v.agrees() ? 1 : 0;
        measurements = measurements || v.claim.measurement;
      }
      items.push_back(std::to_string(holding) + " of the scenario's " +
                      std::to_string(verdicts_.size()) +
                      (measurements ? " claims and measurements hold or match" : " claims hold") +
                      " (within 10 %); every one is under Claims checked.");
    }
    if (!r_.skipped.empty()) {
      items.push_back(std::to_string(r_.skipped.size()) +
                      " sweep points were not simulated: their strategy does not apply there "
                      "(listed under Not simulated).");
    }
    add(Bullets{items});
  }

  void claims() {
    if (verdicts_.empty() || !claims_section_) {
      return;
    }
    add(Heading{2, "Claims checked", "claims"});
    add(Paragraph{kClaimsIntro});
    add(claims_table(verdicts_, ""));
  }

  void best_table() {
    add(Heading{2, "Best strategy at each point", "best"});
    add(
        Paragraph{"The fastest series that fits in memory in each cell, with its step time; "
                  "\"none fits\" names the fastest when no series fits."});
    Table t;
    t.header.emplace_back("tokens \\ GPUs");
    for (const std::int64_t g : p_.gpus) {
      t.header.push_back(std::to_string(g));
    }
    for (std::size_t s = 0; s < p_.sequence_lengths.size(); ++s) {
      std::vector<std::string> row{format_tokens(p_.sequence_lengths[s])};
      std::vector<std::string> colours{""};
      for (std::size_t g = 0; g < p_.gpus.size(); ++g) {
        const Best& b = p_.best_at(g, s);
        if (b.point == kNone) {
          row.emplace_back("");
          colours.emplace_back("");
          continue;
        }
        const Point& point = r_.points[b.point];
        row.push_back((b.fits ? "" : "none fits (") + p_.series[b.series] + " " +
                      format_seconds(point.step_time_s) + (b.fits ? "" : ")"));
        colours.push_back(b.fits ? series_colour(b.series) : "#cccccc");
      }
      t.rows.push_back(std::move(row));
      t.colours.push_back(std::move(colours));
    }
    add(std::move(t));
    figure("best_strategy.svg");
  }

  void scaling(bool against_gpus) {
    add(Heading{2, against_gpus ? "Scaling with GPU count" : "Scaling with sequence length",
                against_gpus ? "gpus" : "sequence"});
    const std::size_t n = against_gpus ? p_.gpus.size() : p_.sequence_lengths.size();
    if (n < 2) {
      add(Paragraph{std::string("The sweep has a single ") +
                    (against_gpus ? "GPU count (" + std::to_string(p_.gpus.front()) + ")"
                                  : "sequence length (" +
                                        format_tokens(p_.sequence_lengths.front()) + " tokens)") +
                    ", so there is nothing to plot against it."});
      return;
    }
    const std::string suffix = against_gpus ? "_vs_gpus.svg" : "_vs_sequence.svg";
    for (const char* metric : {"step_time", "tokens_per_s", "mfu", "memory", "exposed_comm"}) {
      figure(metric + suffix);
    }
  }

  void memory() {
    add(Heading{2, "Where memory runs out", "memory"});
    add(Bullets{p_.memory_limits});
    Table t;
    t.header = {"series"};
    for (const std::int64_t g : p_.gpus) {
      t.header.push_back(std::to_string(g) + " GPUs");
    }
    for (std::size_t k = 0; k < p_.series.size(); ++k) {
      std::vector<std::string> row{p_.series[k]};
      for (std::size_t g = 0; g < p_.gpus.size(); ++g) {
        std::string cell = "-";
        bool any = false;
        for (std::size_t s = 0; s < p_.sequence_lengths.size(); ++s) {
          const std::size_t i = p_.at(k, g, s);
          any = any || i != kNone;
          if (i != kNone && r_.points[i].fits_memory) {
            cell = "up to " + format_tokens(p_.sequence_lengths[s]);
          }
        }
        row.push_back(any ? (cell == "-" ? "none" : cell) : "");
      }
      t.rows.push_back(std::move(row));
    }
    add(Paragraph{"Longest sequence that fits in memory, by series and GPU count:"});
    add(std::move(t));
  }

  void breakdown() {
    add(Heading{2, "Time breakdown of the best strategy", "breakdown"});
    figure("best_breakdown.svg");
    Table t;
    t.header = {"GPUs",      "tokens",         "best",           "step",         "other compute",
                "attention", "exp. attn comm", "exp. TP comm",   "exp. DP comm", "exp. PP comm",
                "bubble",    "other",          "bottleneck link"};
    for (std::size_t s = 0; s < p_.sequence_lengths.size(); ++s) {
      for (std::size_t g = 0; g < p_.gpus.size(); ++g) {
        const Best& b = p_.best_at(g, s);
        if (b.point == kNone) {
          continue;
        }
        const Point& point = r_.points[b.point];
        std::vector<std::string> row{std::to_string(point.gpus),
                                     format_tokens(point.sequence_length), point.strategy,
                                     format_seconds(point.step_time_s)};
        const std::vector<Segment> segments = time_breakdown(point);
        for (const char* name :
             {"other compute", "attention", "exposed attention comm", "exposed tp comm",
              "exposed dp comm", "exposed pp comm", "pipeline bubble", "other"}) {
          double v = 0;
          for (const Segment& seg : segments) {
            v = seg.name == name ? seg.seconds : v;
          }
          row.push_back(format_seconds(v));
        }
        row.push_back(point.bottleneck.link_class.empty()
                          ? "none"
                          : point.bottleneck.link_class + " " +
                                format_percent(point.bottleneck.utilization));
        t.rows.push_back(std::move(row));
      }
    }
    add(Paragraph{
        "Per step, on the critical path. The bottleneck link is the link class whose busiest "
        "link carried the most bytes for its capacity, with that link's utilisation over the "
        "simulated window."});
    add(std::move(t));
  }

  void crossovers() {
    add(Heading{2, "Crossovers", "crossovers"});
    if (p_.crossovers.empty()) {
      add(Paragraph{"The best series does not change between neighbouring points of the sweep."});
      return;
    }
    add(
        Paragraph{"Where the best series changes between neighbouring points, and the part of "
                  "the step that makes the difference:"});
    add(Bullets{p_.crossovers});
  }

  void extrapolated() {
    add(Heading{2, "What was extrapolated", "extrapolated"});
    std::map<std::string, int> costs;
    std::map<std::string, int> notes;
    for (const Point& point : r_.points) {
      for (const std::string& e : point.extrapolated) {
        ++costs[e];
      }
      for (const std::string& n : point.notes) {
        ++notes[n];
      }
    }
    if (costs.empty()) {
      add(Paragraph{"Every cost came from measured or published data within its range."});
    } else {
      add(
          Paragraph{"Costs taken from the profile's fitted model beyond its measured or "
                    "published data (roofline for compute, alpha-beta for communication), with "
                    "how many of the " +
                    std::to_string(r_.points.size()) + " points used each:"});
      std::vector<std::string> items;
      items.reserve(costs.size());
      for (const auto& [name, n] : costs) {
        items.push_back(name + ": " + std::to_string(n));
      }
      add(Bullets{items});
    }
    if (!notes.empty()) {
      add(Paragraph{"Notes on how points were simulated:"});
      std::vector<std::string> items;
      items.reserve(notes.size());
      for (const auto& [text, n] : notes) {
        items.push_back(text + " (" + std::to_string(n) + " point" + (n == 1 ? "" : "s") + ")");
      }
      add(Bullets{items});
    }
  }

  void skipped() {
    if (r_.skipped.empty()) {
      return;
    }
    add(Heading{2, "Not simulated", "skipped"});
    add(Paragraph{std::to_string(r_.skipped.size()) +
                  " sweep points were not simulated because their strategy does not apply to "
                  "their degrees:"});
    std::vector<std::string> items;
    items.reserve(r_.skipped.size());
    for (const Skipped& k : r_.skipped) {
      items.push_back(k.reason);
    }
    add(Bullets{items});
  }

  void hardware() {
    add(Heading{2, "Hardware profile", "hardware"});
    if (r_.hardware.empty()) {
      add(Paragraph{"The results do not say which hardware profile they used."});
      return;
    }
    for (const auto& [name, profile] : r_.hardware.items()) {
      const nlohmann::json prov = profile.is_object() && profile.contains("provenance")
                                      ? profile["provenance"]
                                      : nlohmann::json::object();
      std::vector<std::string> items;
      const auto field = [&](const char* label, const char* key) {
        const std::string v = string_field(prov, key);
        if (!v.empty()) {
          items.push_back(std::string(label) + ": " + v);
        }
      };
      field("source", "source");
      field("device", "device");
      field("measured on", "date");
      field("tool", "tool");
      field("driver", "driver");
      field("CUDA", "cuda");
      field("NCCL", "nccl");
      if (prov.is_object() && prov.value("gpus", 0) > 0) {
        items.push_back("GPUs measured together: " + std::to_string(prov.value("gpus", 0)));
      }
      if (profile.is_object()) {
        items.push_back("HBM per GPU: " + format_gigabytes(profile.value("hbm_bytes", 0.0)) +
                        "; peak " +
                        format_significant(profile.value("peak_flops_per_s", 0.0) / 1e12, 4) +
                        " TFLOP/s in the model's dtype");
      }
      field("notes", "notes");
      add(Paragraph{name + ":"});
      add(Bullets{items});
      if (prov.is_object() && prov.contains("citations") && prov["citations"].is_array()) {
        std::vector<std::string> cites;
        for (const auto& c : prov["citations"]) {
          if (c.is_string()) {
            cites.push_back(c.get<std::string>());
          }
        }
        if (!cites.empty()) {
          add(Paragraph{"Sources of " + name + "'s figures:"});
          add(Bullets{cites});
        }
      }
    }
  }

  void all_points() {
    add(Heading{2, "All points", "points"});
    Table t;
    t.header = {"series",       "GPUs", "tokens",         "strategy",          "step_time_s",
                "tokens_per_s", "mfu",  "exposed_comm_s", "memory_per_gpu_GB", "fits_memory",
                "bottleneck"};
    for (const Point& point : r_.points) {
      t.rows.push_back(
          {series_label(point), std::to_string(point.gpus), std::to_string(point.sequence_length),
           point.strategy, format_significant(point.step_time_s, 4),
           format_significant(point.tokens_per_s, 4), format_significant(point.mfu, 4),
           format_significant(point.exposed_comm_s, 4),
           format_significant(point.memory_per_gpu_bytes / 1e9, 4),
           point.fits_memory ? "yes" : "no",
           point.bottleneck.link_class.empty()
               ? "none"
               : point.bottleneck.link_class + " " + format_percent(point.bottleneck.utilization)});
    }
    add(
        Paragraph{"Every point as in results.json (four significant digits; the same values in "
                  "full precision are in results.json and results.csv beside this report)."});
    add(std::move(t));
  }

  void reproduce() {
    add(Heading{2, "Reproduce", "reproduce"});
    const std::string name = scenario_name(r_);
    add(Paragraph{"Made by attnsim " + r_.attnsim_version +
                  " from the scenario below. Save it "
                  "as " +
                  name + ".json and run: attnsim report " + name +
                  ".json --out report (or attnsim run " + name +
                  ".json --out results for the numbers alone)."});
    add(Code{r_.scenario.dump(2)});
  }

  const Results& r_;
  const Projection& p_;
  const std::vector<Figure>& figures_;
  bool claims_section_ = true;
  std::vector<ClaimVerdict> verdicts_;
  std::vector<Block> out_;
};

// Scenario names for section ids and file names: the scenario's name with anything but
// letters, digits, '-', '_' and '.' replaced by '_', made unique by a suffix.
std::vector<std::string> unique_names(const std::vector<Results>& all) {
  std::vector<std::string> out;
  for (const Results& r : all) {
    std::string name = scenario_name(r);
    for (char& c : name) {
      const bool keep =
          std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
      c = keep ? c : '_';
    }
    std::string candidate = name;
    for (int n = 2; std::find(out.begin(), out.end(), candidate) != out.end(); ++n) {
      candidate = name + "-" + std::to_string(n);
    }
    out.push_back(candidate);
  }
  return out;
}

}  // namespace

std::vector<FileText> render_report(const Results& results, const Projection& projection,
                                    const std::vector<Figure>& figures) {
  const std::vector<Block> blocks = Writer(results, projection, figures).blocks();
  std::vector<FileText> files = {
      {"report.md", render_markdown(blocks, figures)},
      {"report.html",
       render_html(blocks, figures, scenario_name(results) + ": scaling projection")},
      {"results.json", to_json_text(results)},
      {"results.csv", to_csv(results)}};
  for (const Figure& f : figures) {
    files.push_back({"plots/" + f.file, f.svg});
  }
  return files;
}

std::vector<FileText> render_reports(const std::vector<Results>& all,
                                     const std::vector<Projection>& projections,
                                     const std::vector<std::vector<Figure>>& figures,
                                     const std::string& title) {
  const std::vector<std::string> names = unique_names(all);
  std::vector<Block> blocks;
  std::vector<Figure> combined;
  blocks.emplace_back(Heading{1, title, "top"});
  std::vector<std::string> listed;
  listed.reserve(names.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    listed.push_back(names[i] + " (" + std::to_string(all[i].points.size()) + " points)");
  }
  blocks.emplace_back(Paragraph{"A projection of " + std::to_string(all.size()) +
                                " scenarios, one section each: " + join(listed) + "."});
  Table claims;
  for (std::size_t i = 0; i < all.size(); ++i) {
    Table t = claims_table(judge_claims(all[i], projections[i]), names[i]);
    if (claims.header.empty()) {
      claims.header = t.header;
    }
    claims.rows.insert(claims.rows.end(), t.rows.begin(), t.rows.end());
    claims.colours.insert(claims.colours.end(), t.colours.begin(), t.colours.end());
  }
  if (!claims.rows.empty()) {
    blocks.emplace_back(Heading{2, "Claims checked", "claims"});
    blocks.emplace_back(Paragraph{kClaimsIntro});
    blocks.emplace_back(std::move(claims));
  }
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::size_t offset = combined.size();
    for (Figure f : figures[i]) {
      f.file = names[i] + "/" + f.file;
      combined.push_back(std::move(f));
    }
    for (Block& b : Writer(all[i], projections[i], figures[i], false).blocks()) {
      if (auto* h = std::get_if<Heading>(&b)) {
        h->level += 1;
        h->id = names[i] + "-" + h->id;
      } else if (auto* f = std::get_if<FigureRef>(&b)) {
        f->index += offset;
      }
      blocks.push_back(std::move(b));
    }
  }
  std::vector<FileText> files = {{"report.md", render_markdown(blocks, combined)},
                                 {"report.html", render_html(blocks, combined, title)}};
  for (std::size_t i = 0; i < all.size(); ++i) {
    files.push_back({"results/" + names[i] + ".json", to_json_text(all[i])});
    files.push_back({"results/" + names[i] + ".csv", to_csv(all[i])});
  }
  for (const Figure& f : combined) {
    files.push_back({"plots/" + f.file, f.svg});
  }
  return files;
}

void write_reports(const std::vector<Results>& all, const std::string& dir,
                   const std::string& title) {
  if (all.size() == 1 && title.empty()) {
    write_report(all.front(), dir);
    return;
  }
  std::vector<Projection> projections;
  std::vector<std::vector<Figure>> figures;
  for (const Results& r : all) {
    projections.push_back(project(r));
    figures.push_back(draw_figures(r, projections.back()));
  }
  const std::string heading =
      title.empty() ? "attnsim: " + std::to_string(all.size()) + " scenarios" : title;
  write_folder_atomically(dir, render_reports(all, projections, figures, heading));
}

void write_report(const Results& results, const std::string& dir) {
  const Projection projection = project(results);
  const std::vector<Figure> figures = draw_figures(results, projection);
  const std::vector<FileText> files = render_report(results, projection, figures);
  write_folder_atomically(dir, files);
}

}  // namespace attnsim::report
