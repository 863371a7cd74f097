// SPDX-License-Identifier: Apache-2.0
// `attnsim report`'s document (SPEC section 2): report.md and a self-contained report.html
// (figures inline as data: URIs, no script, no external reference; prints on A4), written with
// the figures as plots/*.svg and the results they came from. Both documents are rendered from
// one list of blocks, so that they say the same thing with the same numbers.
#pragma once

#include <string>
#include <vector>

#include "report/atomic_file.h"
#include "report/plots.h"
#include "report/projection.h"
#include "report/results.h"

namespace attnsim::report {

/// The report's files, paths relative to the output folder: report.md, report.html,
/// results.json, results.csv and plots/<figure>.svg.
std::vector<FileText> render_report(const Results& results, const Projection& projection,
                                    const std::vector<Figure>& figures);

/// Projects `results`, draws the figures and writes render_report()'s files into `dir`
/// (created if needed). Nothing is written unless everything was made: figures are drawn
/// first, then the files are written atomically (report/atomic_file.h).
/// Errors: config::RuntimeFailure (gnuplot, or a file that cannot be written);
///         config::InputError for results that cannot be laid out (project()).
void write_report(const Results& results, const std::string& dir);

}  // namespace attnsim::report
