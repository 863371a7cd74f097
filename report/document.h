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

/// Several sweeps as one document titled `title`: the claims of all of them in one table
/// first, then each sweep's report as a section (its headings one level down). Files:
/// report.md, report.html, results/<scenario>.json and .csv, plots/<scenario>/<figure>.svg
/// (<scenario>: the scenario's name, made safe for a file name and unique).
std::vector<FileText> render_reports(const std::vector<Results>& all,
                                     const std::vector<Projection>& projections,
                                     const std::vector<std::vector<Figure>>& figures,
                                     const std::string& title);

/// write_report() for one sweep and no title; render_reports() otherwise (an empty title
/// becomes "attnsim: N scenarios"). Errors as write_report().
void write_reports(const std::vector<Results>& all, const std::string& dir,
                   const std::string& title);

}  // namespace attnsim::report
