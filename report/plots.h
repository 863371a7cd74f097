// SPDX-License-Identifier: Apache-2.0
// The report's figures, drawn by gnuplot (Debian's gnuplot-nox, SVG terminal): each figure is a
// gnuplot script with its data inline, run in a scratch folder; the SVG text comes back.
//
// Figures: each metric (step time, tokens/s, MFU, memory per GPU, exposed communication)
// against GPU count (one panel per sequence length) and against sequence length (one panel per
// GPU count), one line per series in a colour it keeps in every figure, filled dots where the
// point fits in memory and rings where it does not (the memory figure also draws the HBM
// size); a heat map of the best series over GPUs x sequence length; and the time breakdown of
// the best point at each GPU count as stacked bars (one panel per sequence length). Axes are
// logarithmic where the values span a factor of 10 or more. Panels are capped at 4 per figure
// (the smallest, the largest and evenly spaced ones between).
#pragma once

#include <string>
#include <vector>

#include "report/projection.h"
#include "report/results.h"

namespace attnsim::report {

/// One figure: its file name under plots/, what it shows, and the SVG document.
struct Figure {
  std::string file;     // e.g. "step_time_vs_gpus.svg"
  std::string title;    // e.g. "Step time against GPU count"
  std::string caption;  // one sentence on how to read it
  std::string svg;
  /// The gnuplot script that drew it (with its data), kept for tests and debugging.
  std::string script;
};

/// Every figure the projection supports (a figure against GPU count needs two GPU counts or
/// more, one against sequence length two lengths or more).
/// Errors: config::RuntimeFailure when gnuplot is missing or fails (its first error line).
std::vector<Figure> draw_figures(const Results& results, const Projection& projection);

/// The colour of series `index` in every figure ("#4e79a7"): Tableau 10, then repeated.
std::string series_colour(std::size_t index);

/// Runs gnuplot on `script` (which must `set output` to the file name "figure.svg") in a
/// scratch folder and returns the SVG text. Errors as draw_figures().
std::string run_gnuplot(const std::string& script);

}  // namespace attnsim::report
