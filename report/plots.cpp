// SPDX-License-Identifier: Apache-2.0
#include "report/plots.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

#include "config/error.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for posix_spawnp

namespace attnsim::report {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxPanels = 4;
constexpr int kWidth = 860;
constexpr int kPanelHeight = 260;

// Tableau 10 (Tableau's default categorical palette): distinct for the colour-blind in the
// first six, readable on white and in greyscale print by lightness.
constexpr std::array<const char*, 10> kPalette = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                                  "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                                                  "#9c755f", "#bab0ac"};

// Black or white, whichever contrasts more with `fill` ("#rrggbb"), as a gnuplot rgb integer
// (WCAG 2's relative luminance and contrast ratio).
int text_colour(const std::string& fill) {
  const auto channel = [&fill](std::size_t at) {
    const double c = std::stoi(fill.substr(at, 2), nullptr, 16) / 255.0;
    return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
  };
  const double l = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return 1.05 / (l + 0.05) > (l + 0.05) / 0.05 ? 0xffffff : 0x000000;
}

std::string number(double v) {
  if (!std::isfinite(v)) {
    return "NaN";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// A string inside a gnuplot single-quoted string: quotes doubled.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    out += c;
    if (c == '\'') {
      out += '\'';
    }
  }
  return out + "'";
}

// Every figure's terminal: SVG `height` pixels tall, written to figure.svg (run_gnuplot).
std::string terminal(int height) {
  return "set terminal svg size " + std::to_string(kWidth) + "," + std::to_string(height) +
         " dynamic noenhanced font 'DejaVu Sans,11' background rgb 'white'\n"
         "set output 'figure.svg'\n"
         "set encoding utf8\n";
}

std::string header(int panels, const std::string& title) {
  std::ostringstream o;
  o << terminal(kPanelHeight * panels + (panels > 1 ? 30 : 0)) << "set grid lc rgb '#dddddd'\n"
    << "set border lc rgb '#444444'\n"
    << "set key outside right top samplen 2\n";
  if (panels > 1) {
    o << "set multiplot layout " << panels << ",1 title " << quoted(title) << "\n";
  }
  return o.str();
}

/// Up to kMaxPanels indices of [0, n): the first, the last and evenly spaced ones between.
std::vector<std::size_t> panel_indices(std::size_t n) {
  std::vector<std::size_t> out;
  if (n <= kMaxPanels) {
    for (std::size_t i = 0; i < n; ++i) {
      out.push_back(i);
    }
    return out;
  }
  for (std::size_t k = 0; k < kMaxPanels; ++k) {
    out.push_back((k * (n - 1) + (kMaxPanels - 1) / 2) / (kMaxPanels - 1));
  }
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Explicit tick labels at the data's x values ("8", "128K").
std::string xtics(const std::vector<std::int64_t>& xs, bool tokens) {
  std::string out = "set xtics (";
  for (std::size_t i = 0; i < xs.size(); ++i) {
    out += (i == 0 ? "" : ", ") + quoted(tokens ? format_tokens(xs[i]) : std::to_string(xs[i])) +
           " " + std::to_string(xs[i]);
  }
  return out + ")\n";
}

bool spans_decade(double lo, double hi) {
  return lo > 0 && hi / lo >= 10;
}

struct Metric {
  std::string key;    // file name stem
  std::string title;  // "Step time"
  std::string axis;   // y axis label
  double scale = 1;   // value x scale is plotted
  std::function<double(const Point&)> value;
  std::string format;  // gnuplot y format
};

std::vector<Metric> metrics() {
  return {
      {"step_time", "Step time", "step time (s)", 1, [](const Point& p) { return p.step_time_s; },
       "%g"},
      {"tokens_per_s", "Throughput", "tokens/s (whole cluster)", 1,
       [](const Point& p) { return p.tokens_per_s; }, "%.0s%c"},
      {"mfu", "Model FLOPs utilisation", "MFU (%)", 100, [](const Point& p) { return p.mfu; },
       "%g"},
      {"memory", "Memory per GPU", "memory per GPU (GB)", 1e-9,
       [](const Point& p) { return p.memory_per_gpu_bytes; }, "%g"},
      {"exposed_comm", "Exposed communication", "exposed comm (s)", 1,
       [](const Point& p) { return p.exposed_comm_s; }, "%g"},
  };
}

// Distinct HBM sizes of the points' hardware, in GB.
std::vector<double> hbm_sizes_gb(const Results& results) {
  std::vector<double> out;
  for (const auto& [name, profile] : results.hardware.items()) {
    const double hbm = profile.is_object() ? profile.value("hbm_bytes", 0.0) : 0.0;
    if (hbm > 0 && std::find(out.begin(), out.end(), hbm * 1e-9) == out.end()) {
      out.push_back(hbm * 1e-9);
    }
  }
  return out;
}

/// A metric against one axis: panels over the other axis.
Figure metric_figure(const Results& results, const Projection& p, const Metric& m,
                     bool against_gpus) {
  const std::vector<std::int64_t>& xs = against_gpus ? p.gpus : p.sequence_lengths;
  const std::vector<std::int64_t>& panels_axis = against_gpus ? p.sequence_lengths : p.gpus;
  const std::vector<std::size_t> panels = panel_indices(panels_axis.size());
  Figure f;
  f.file = m.key + (against_gpus ? "_vs_gpus.svg" : "_vs_sequence.svg");
  f.title = m.title + (against_gpus ? " against GPU count" : " against sequence length");
  f.caption = std::string("One line per series; filled dots fit in memory, rings do not") +
              (m.key == "memory" ? "; the dashed line is the GPU's HBM" : "") + ".";

  double lo = INFINITY;
  double hi = 0;
  bool has_zero = false;
  for (const Point& point : results.points) {
    const double v = m.value(point) * m.scale;
    has_zero = has_zero || v <= 0;
    if (v > 0) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  std::ostringstream o;
  o << header(static_cast<int>(panels.size()), f.title);
  o << xtics(xs, !against_gpus);
  if (spans_decade(static_cast<double>(xs.front()), static_cast<double>(xs.back()))) {
    o << "set logscale x 2\n";
  } else {
    o << "unset logscale x\nset xrange [" << xs.front() - (xs.back() - xs.front()) / 20 << ":"
      << xs.back() + (xs.back() - xs.front()) / 20 << "]\n";
  }
  if (!has_zero && spans_decade(lo, hi)) {
    // Ticks at 1, 2 and 5 times powers of 10 so that a panel spanning less than a decade of
    // the figure's range still has labels.
    o << "set logscale y 10\nset ytics (";
    bool first = true;
    for (double decade = std::pow(10.0, std::floor(std::log10(lo))); decade <= hi * 10;
         decade *= 10) {
      for (const double step : {1.0, 2.0, 5.0}) {
        const double tick = decade * step;
        if (tick >= lo / 5 && tick <= hi * 5) {
          o << (first ? "" : ", ") << number(tick);
          first = false;
        }
      }
    }
    o << ")\n";
  } else {
    o << "set yrange [0:*]\n";
  }
  o << "set format y '" << m.format << "'\n";
  o << "set xlabel " << quoted(against_gpus ? "GPUs" : "sequence length (tokens)") << "\n";
  o << "set ylabel " << quoted(m.axis) << "\n";
  for (const std::size_t panel : panels) {
    o << "set title "
      << quoted(against_gpus ? format_tokens(panels_axis[panel]) + " tokens"
                             : std::to_string(panels_axis[panel]) + " GPUs")
      << (panels.size() == 1 ? "" : " font ',10'") << "\n";
    std::vector<std::string> plots;
    for (std::size_t k = 0; k < p.series.size(); ++k) {
      std::ostringstream data;
      bool any = false;
      for (std::size_t x = 0; x < xs.size(); ++x) {
        const std::size_t i = against_gpus ? p.at(k, x, panel) : p.at(k, panel, x);
        if (i == kNone) {
          continue;
        }
        const Point& point = results.points[i];
        const double v = m.value(point) * m.scale;
        data << xs[x] << " " << number(v) << " " << number(point.fits_memory ? v : NAN) << " "
             << number(point.fits_memory ? NAN : v) << "\n";
        any = true;
      }
      if (!any) {
        continue;
      }
      const std::string block = "$s" + std::to_string(panel) + "_" + std::to_string(k);
      o << block << " << EOD\n" << data.str() << "EOD\n";
      const std::string colour = " lc rgb " + quoted(series_colour(k));
      plots.push_back(block);
      plots.back() += " using 1:2 with lines lw 2" + colour + " title " + quoted(p.series[k]);
      plots.push_back(block);
      plots.back() += " using 1:3 with points pt 7 ps 0.8" + colour + " notitle";
      plots.push_back(block);
      plots.back() += " using 1:4 with points pt 6 ps 1.4 lw 2" + colour + " notitle";
    }
    plots.emplace_back("NaN with points pt 6 ps 1.4 lw 2 lc rgb '#333333' title 'does not fit'");
    if (m.key == "memory") {
      for (const double gb : hbm_sizes_gb(results)) {
        plots.push_back(number(gb) + " with lines dt 2 lw 1.5 lc rgb '#555555' title " +
                        quoted("HBM " + format_gigabytes(gb * 1e9)));
      }
    }
    o << "plot ";
    for (std::size_t i = 0; i < plots.size(); ++i) {
      o << (i == 0 ? "" : ", \\\n  ") << plots[i];
    }
    o << "\n";
  }
  if (panels.size() > 1) {
    o << "unset multiplot\n";
  }
  f.script = o.str();
  f.svg = run_gnuplot(f.script);
  return f;
}

Figure heat_map(const Results& results, const Projection& p) {
  Figure f;
  f.file = "best_strategy.svg";
  f.title = "Best strategy over GPUs x sequence length";
  f.caption =
      "Each cell: the fastest series that fits in memory there, and its step time; grey where "
      "no series fits (the cell then names the fastest).";
  const std::size_t n = p.series.size();
  const int height = std::max(260, 90 + 36 * static_cast<int>(p.sequence_lengths.size()));
  std::ostringstream o;
  o << terminal(height) << "unset key\nset style fill solid 1 border rgb 'white'\n";
  o << "set xlabel 'GPUs'\nset ylabel 'sequence length (tokens)'\n";
  o << "set xtics (";
  for (std::size_t g = 0; g < p.gpus.size(); ++g) {
    o << (g == 0 ? "" : ", ") << quoted(std::to_string(p.gpus[g])) << " " << g;
  }
  o << ")\nset ytics (";
  for (std::size_t s = 0; s < p.sequence_lengths.size(); ++s) {
    o << (s == 0 ? "" : ", ") << quoted(format_tokens(p.sequence_lengths[s])) << " " << s;
  }
  o << ")\nset xrange [-0.5:" << p.gpus.size()
    << "-0.5]\nset yrange [-0.5:" << p.sequence_lengths.size() << "-0.5]\n";
  o << "set palette maxcolors " << n + 1 << "\nset palette defined (";
  for (std::size_t k = 0; k < n; ++k) {
    o << k << " " << quoted(series_colour(k)) << ", ";
  }
  o << n << " '#cccccc')\nset cbrange [-0.5:" << n << ".5]\nset cbtics (";
  for (std::size_t k = 0; k < n; ++k) {
    o << quoted(p.series[k]) << " " << k << ", ";
  }
  o << "'none fits' " << n << ")\nset cbtics scale 0\nset rmargin 16\n";
  o << "$cells << EOD\n";
  for (std::size_t s = 0; s < p.sequence_lengths.size(); ++s) {
    for (std::size_t g = 0; g < p.gpus.size(); ++g) {
      const Best& b = p.best_at(g, s);
      if (b.point == kNone) {
        continue;
      }
      const Point& point = results.points[b.point];
      const std::string fill = b.fits ? series_colour(b.series) : "#cccccc";
      o << g << " " << s << " " << (b.fits ? b.series : n) << " \"" << p.series[b.series] << "\" \""
        << format_seconds(point.step_time_s) << "\" " << text_colour(fill) << "\n";
    }
  }
  o << "EOD\n";
  o << "plot $cells using 1:2:(0.5):(0.5):3 with boxxyerror fc palette, \\\n"
    << "  $cells using 1:2:(sprintf(\"%s\\n%s\", strcol(4), strcol(5))):6 with labels font ',10' "
       "tc rgb variable\n";
  f.script = o.str();
  f.svg = run_gnuplot(f.script);
  return f;
}

Figure breakdown_figure(const Results& results, const Projection& p) {
  Figure f;
  f.file = "best_breakdown.svg";
  f.title = "Where the best strategy's step goes";
  f.caption =
      "For the best point at each GPU count: compute outside attention, attention kernels, "
      "exposed communication by phase and the pipeline bubble, stacked to the step time.";
  const std::vector<std::size_t> panels = panel_indices(p.sequence_lengths.size());
  // Segment names in a fixed order: the union over the points shown.
  std::vector<std::string> names;
  for (const Best& b : p.best) {
    if (b.point == kNone) {
      continue;
    }
    for (const Segment& s : time_breakdown(results.points[b.point])) {
      if (std::find(names.begin(), names.end(), s.name) == names.end()) {
        names.push_back(s.name);
      }
    }
  }
  std::ostringstream o;
  o << header(static_cast<int>(panels.size()), f.title);
  o << "set style data histograms\nset style histogram rowstacked\n"
    << "set style fill solid 0.9 border rgb '#444444'\nset boxwidth 0.7\n"
    << "set ylabel 'seconds per step'\nset yrange [0:*]\nset xtics font ',9'\n";
  for (const std::size_t s : panels) {
    o << "set title " << quoted(format_tokens(p.sequence_lengths[s]) + " tokens")
      << (panels.size() == 1 ? "" : " font ',10'") << "\n";
    const std::string block = "$b" + std::to_string(s);
    o << block << " << EOD\n";
    for (std::size_t g = 0; g < p.gpus.size(); ++g) {
      const Best& b = p.best_at(g, s);
      if (b.point == kNone) {
        continue;
      }
      const Point& point = results.points[b.point];
      o << "\"" << p.gpus[g] << "\\n" << point.strategy << "\"";
      const std::vector<Segment> segments = time_breakdown(point);
      for (const std::string& name : names) {
        double v = 0;
        for (const Segment& seg : segments) {
          v = seg.name == name ? seg.seconds : v;
        }
        o << " " << number(v);
      }
      o << "\n";
    }
    o << "EOD\nplot ";
    for (std::size_t i = 0; i < names.size(); ++i) {
      o << (i == 0 ? "" : ", \\\n  ") << block << " using " << i + 2 << (i == 0 ? ":xtic(1)" : "")
        << " lc rgb " << quoted(series_colour(i)) << " title " << quoted(names[i]);
    }
    o << "\n";
  }
  if (panels.size() > 1) {
    o << "unset multiplot\n";
  }
  f.script = o.str();
  f.svg = run_gnuplot(f.script);
  return f;
}

// A scratch folder, removed with everything in it when the object goes.
class ScratchFolder {
 public:
  ScratchFolder() {
    std::string pattern = (fs::temp_directory_path() / "attnsim-plot-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw config::RuntimeFailure("cannot create a scratch folder for gnuplot (" +
                                   std::generic_category().message(errno) + ")");
    }
    path_ = pattern;
  }

  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;

  ~ScratchFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }

  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string series_colour(std::size_t index) {
  return kPalette[index % kPalette.size()];
}

std::string run_gnuplot(const std::string& script) {
  const ScratchFolder scratch;
  const fs::path script_path = scratch.path() / "figure.gp";
  const fs::path error_path = scratch.path() / "stderr.txt";
  {
    std::ofstream out(script_path, std::ios::binary);
    out << script;
    if (!out) {
      throw config::RuntimeFailure("cannot write the gnuplot script " + script_path.string());
    }
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, error_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::string dir_arg = "cd " + quoted(scratch.path().string());
  std::string program = "gnuplot";
  std::string e_flag = "-e";
  std::string script_arg = script_path.string();
  std::array<char*, 5> argv = {program.data(), e_flag.data(), dir_arg.data(), script_arg.data(),
                               nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    throw config::RuntimeFailure(
        "cannot run gnuplot (" + std::generic_category().message(spawned) +
        "): attnsim report draws its figures with it; install Debian's gnuplot-nox");
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      throw config::RuntimeFailure("gnuplot: cannot wait for it (" +
                                   std::generic_category().message(errno) + ")");
    }
  }
  const std::string errors = read_text(error_path);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
      throw config::RuntimeFailure(
          "cannot run gnuplot: attnsim report draws its figures with it; install Debian's "
          "gnuplot-nox");
    }
    std::string first;
    std::istringstream lines(errors);
    for (std::string line; std::getline(lines, line);) {
      if (line.find_first_not_of(" \t^") != std::string::npos) {
        first = line;
        if (line.find("line") != std::string::npos || line.find("rror") != std::string::npos) {
          break;
        }
      }
    }
    throw config::RuntimeFailure("gnuplot failed drawing a figure: " + first);
  }
  std::string svg = read_text(scratch.path() / "figure.svg");
  if (svg.find("<svg") == std::string::npos) {
    throw config::RuntimeFailure("gnuplot wrote no SVG figure");
  }
  return svg;
}

std::vector<Figure> draw_figures(const Results& results, const Projection& projection) {
  std::vector<Figure> out;
  if (results.points.empty()) {
    return out;
  }
  out.push_back(heat_map(results, projection));
  for (const bool against_gpus : {true, false}) {
    const std::size_t n =
        against_gpus ? projection.gpus.size() : projection.sequence_lengths.size();
    if (n < 2) {
      continue;
    }
    for (const Metric& m : metrics()) {
      out.push_back(metric_figure(results, projection, m, against_gpus));
    }
  }
  out.push_back(breakdown_figure(results, projection));
  return out;
}

}  // namespace attnsim::report
