// SPDX-License-Identifier: Apache-2.0
// attnsim_validate_kernels: the attention kernel cost model against the published kernel
// figures the built-in profiles carry (FlashAttention-2 and -3 papers, NVIDIA's cuDNN SDPA
// benchmark), each row predicted with that row left out, and against held-out measurements.
//
//   attnsim_validate_kernels docs/validation-kernels.md [HELD_OUT.json ...]
//
// For every attention row of every built-in profile (one implementation, pass, dtype, mask
// class and head dim at one shape, as achieved TFLOP/s), the profile without that row prices
// the same call through models::CostModel::attention() (the row's implementation and dtype)
// and the predicted TFLOP/s is compared with the published one. No row judges itself: what
// is tested is how the model carries measurements to shapes it was not given (interpolation
// in sqrt(seq_q·seq_k), the curves it derives for a pass or mask class a table lacks, the
// memory floor). FLOPs follow the papers (calibrate/profile.h: forward 4·s_q·s_k·d·bh, halved
// when causal; backward 2.5x; fwd_bwd 3.5x).
//
// Each HELD_OUT.json is a profile file that inherits a built-in and lists, as its attention
// rows, published measurements the built-in leaves out (other model shapes, longer sequences).
// Every such row is priced from the built-in as it ships, all of its rows in, and compared.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "bench/percent.h"
#include "calibrate/profile.h"
#include "config/error.h"
#include "models/cost.h"

namespace {

namespace calibrate = attnsim::calibrate;
namespace models = attnsim::models;

constexpr double kTolerance = 0.10;  // per row, as issue 3 asks of collectives from 1 MiB up

using attnsim::bench::percent;

std::string unsigned_percent(double x) {
  return percent(x, false);
}

std::string tflops(double x) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(0) << x;
  return o.str();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Judged {
  const calibrate::AttentionPoint* row;
  double predicted;  // leave-one-out TFLOP/s; NaN when no other row of the kind remains
  double error;      // (predicted - published) / published
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: attnsim_validate_kernels OUT.md [HELD_OUT.json ...]\n";
    return 2;
  }
  try {
    // Grouped by (profile, implementation, pass, dtype, mask, head dim), in profile order.
    using Key = std::tuple<std::string, std::string, std::string, std::string, bool, int>;
    std::vector<Key> order;
    std::map<Key, std::vector<Judged>> groups;
    std::vector<calibrate::Profile> profiles;
    for (const std::string& name : calibrate::builtin_profile_names()) {
      profiles.push_back(calibrate::builtin_profile(name));
    }
    std::size_t judged = 0;
    std::size_t within = 0;
    std::size_t scaled = 0;
    // With the row in: how closely the tables reproduce themselves (fwd_bwd rows apart: a
    // profile with fwd and bwd rows prices a fwd_bwd call from those).
    double in_sample_worst = 0;
    double in_sample_worst_fwd_bwd = 0;
    std::vector<double> all_errors;
    for (const calibrate::Profile& profile : profiles) {
      const auto& rows = profile.compute.attention;
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const calibrate::AttentionPoint& row = rows[i];
        if (row.extrapolated) {
          ++scaled;  // a value scaled from another GPU's measurement, not a measurement
          continue;
        }
        calibrate::Profile without = profile;
        without.compute.attention.erase(without.compute.attention.begin() +
                                        static_cast<std::ptrdiff_t>(i));
        Judged j{&row, std::nan(""), std::nan("")};
        {
          const models::CostModel cost(profile, row.dtype, row.impl);
          double& worst = row.pass == "fwd_bwd" ? in_sample_worst_fwd_bwd : in_sample_worst;
          worst = std::max(worst,
                           std::abs(models::predicted_tflops(cost, row) - row.tflops) / row.tflops);
        }
        try {
          const models::CostModel cost(without, row.dtype, row.impl);
          if (cost.attention_impl() == row.impl) {
            j.predicted = models::predicted_tflops(cost, row);
            j.error = (j.predicted - row.tflops) / row.tflops;
          }
        } catch (const attnsim::config::InputError&) {
          // The left-out row was the implementation's only row in its dtype class.
        }
        const Key key{profile.name, row.impl, row.pass, row.dtype, row.causal, row.head_dim};
        if (groups.find(key) == groups.end()) {
          order.push_back(key);
        }
        groups[key].push_back(j);
        if (!std::isnan(j.error)) {
          ++judged;
          within += std::abs(j.error) <= kTolerance ? 1 : 0;
          all_errors.push_back(std::abs(j.error));
        }
      }
    }

    std::ostringstream md;
    md << "# Validation: attention kernels against published FlashAttention and cuDNN figures\n\n"
       << "(Collectives: [validation.md](validation.md); parallelism strategies: "
          "[validation-strategies.md](validation-strategies.md).)\n\n"
       << "Generated by `build/bench/attnsim_validate_kernels docs/validation-kernels.md "
          "bench/validation/gb200-cudnn-held-out.json`; do "
          "not edit by hand. Every attention row of every built-in profile (`calibrate/"
          "profiles/`: the FlashAttention-2 paper's Figs. 4-7, the FlashAttention-3 paper's "
          "Figs. 5, 6, 9 and Table 2, and NVIDIA's cuDNN SDPA benchmark results on GB200 and "
          "H200 (NVIDIA/cudnn-frontend:benchmark/sdpa_benchmark_training), transcribed with "
          "their sources) is predicted by the "
          "kernel cost model (`models/cost.h`) from the same profile **with that row left "
          "out**, for the row's implementation, pass, dtype, mask and shape; error = "
          "(predicted - published) / published in achieved TFLOP/s. So no row judges itself: "
          "this measures how well the model carries measurements to shapes between and beyond "
          "them (interpolation in sqrt(seq_q x seq_k), derived curves for a missing pass or "
          "mask class, the HBM floor). Rows a profile marks `extrapolated` (values scaled from "
          "another GPU's measurement, "
       << scaled
       << " of them, in the H200, B200 and GB200 profiles) are not measurements and are left "
          "out. Target: every row within "
       << unsigned_percent(kTolerance) << ".\n\n"
       << "Overall: " << within << " of " << judged << " rows within "
       << unsigned_percent(kTolerance) << ", median |error| "
       << unsigned_percent(all_errors.empty() ? 0.0 : median(all_errors))
       << ". With every row in, fwd and bwd rows are reproduced within "
       << unsigned_percent(in_sample_worst) << " and fwd_bwd rows within "
       << unsigned_percent(in_sample_worst_fwd_bwd)
       << ": where a profile also has separate fwd and bwd rows, a fwd_bwd call is priced from "
          "those, and on H100 the FlashAttention-2 paper's fwd_bwd figures and the "
          "FlashAttention-3 paper's fwd and bwd figures for the same kernel differ by that "
          "much.\n\n"
       << "| profile | impl | pass | dtype | mask | d | rows | median abs error | worst | "
          "within "
       << unsigned_percent(kTolerance) << " |\n"
       << "|---|---|---|---|---|---|---|---|---|---|\n";
    std::ostringstream misses;
    std::size_t miss_count = 0;
    std::size_t miss_at_edge = 0;  // at the smallest or largest shape of its table
    for (const Key& key : order) {
      const auto& [profile, impl, pass, dtype, causal, head_dim] = key;
      std::vector<double> errors;
      const Judged* worst = nullptr;
      std::size_t ok = 0;
      for (const Judged& j : groups[key]) {
        if (std::isnan(j.error)) {
          continue;
        }
        errors.push_back(std::abs(j.error));
        ok += std::abs(j.error) <= kTolerance ? 1 : 0;
        if (worst == nullptr || std::abs(j.error) > std::abs(worst->error)) {
          worst = &j;
        }
        if (std::abs(j.error) > kTolerance) {
          const auto x = [](const Judged& r) {
            return static_cast<double>(r.row->seq_q) * static_cast<double>(r.row->seq_k);
          };
          const auto [lo, hi] =
              std::minmax_element(groups[key].begin(), groups[key].end(),
                                  [&](const Judged& a, const Judged& b) { return x(a) < x(b); });
          ++miss_count;
          miss_at_edge += x(j) == x(*lo) || x(j) == x(*hi) ? 1 : 0;
          misses << "| " << profile << " | " << impl << " " << pass << " " << dtype << " "
                 << (causal ? "causal" : "dense") << " d" << head_dim << " | " << j.row->seq_q
                 << " x " << j.row->seq_k << ", " << j.row->batch_heads << " batch x heads | "
                 << tflops(j.row->tflops) << " | " << tflops(j.predicted) << " | "
                 << percent(j.error) << " | " << j.row->source << " |\n";
        }
      }
      md << "| " << profile << " | " << impl << " | " << pass << " | " << dtype << " | "
         << (causal ? "causal" : "dense") << " | " << head_dim << " | " << groups[key].size()
         << " | ";
      if (errors.empty()) {
        md << "- | - | not judged: no other row of the implementation |\n";
        continue;
      }
      md << unsigned_percent(median(errors)) << " | " << percent(worst->error) << " at "
         << worst->row->seq_q << " | " << ok << " of " << errors.size()
         << (ok == errors.size() ? "" : " **miss**") << " |\n";
    }
    md << "\n## Rows outside " << unsigned_percent(kTolerance) << "\n\n";
    if (misses.str().empty()) {
      md << "None.\n";
    } else {
      md << miss_at_edge << " of the " << miss_count
         << " misses are at the smallest or largest shape of their table: left out, they are "
            "extrapolated from the neighbours on one side, where the published curves bend "
            "most (they rise steeply from 512 to 2K tokens). The others sit where a published "
            "curve bends sharply between its two neighbours (measured a factor of 2 apart in "
            "sequence length), which interpolation through those neighbours cannot follow.\n\n";
      md << "| profile | kernel | shape (seq_q x seq_k) | published TFLOP/s | predicted | error "
            "| source |\n"
         << "|---|---|---|---|---|---|---|\n"
         << misses.str();
    }
    for (int a = 2; a < argc; ++a) {
      const calibrate::Profile held_out = calibrate::load_profile(argv[a]);
      if (held_out.inherited_from.empty()) {
        throw attnsim::config::InputError(std::string(argv[a]) +
                                          ": /inherits: expected the built-in profile the "
                                          "measurements are held out of; got none");
      }
      const calibrate::Profile base = calibrate::builtin_profile(held_out.inherited_from);
      std::size_t held_within = 0;
      std::vector<double> held_errors;
      std::ostringstream table;
      for (const calibrate::AttentionPoint& row : held_out.compute.attention) {
        const models::CostModel cost(base, row.dtype, row.impl);
        const double predicted = models::predicted_tflops(cost, row);
        const double error = (predicted - row.tflops) / row.tflops;
        held_errors.push_back(std::abs(error));
        held_within += std::abs(error) <= kTolerance ? 1 : 0;
        table << "| " << row.impl << " " << row.pass << " " << row.dtype << " "
              << (row.causal ? "causal" : "dense") << " d" << row.head_dim << " | " << row.seq_q
              << " x " << row.seq_k << ", " << row.batch_heads << " batch x heads | "
              << tflops(row.tflops) << " | " << tflops(predicted) << " | " << percent(error)
              << (std::abs(error) <= kTolerance ? "" : " **miss**") << " | " << row.source
              << " |\n";
      }
      md << "\n## Held out of " << base.name << ": " << argv[a] << "\n\n"
         << held_out.provenance.notes << "\n\n"
         << "Priced from the " << base.name
         << " profile as it ships (every row in): " << held_within << " of " << held_errors.size()
         << " within " << unsigned_percent(kTolerance) << ", median |error| "
         << unsigned_percent(held_errors.empty() ? 0.0 : median(held_errors)) << ".\n\n"
         << "| kernel | shape (seq_q x seq_k) | published TFLOP/s | predicted | error | source "
            "|\n"
         << "|---|---|---|---|---|---|\n"
         << table.str();
    }
    std::ofstream out(argv[1]);
    out << md.str();
    if (!out) {
      std::cerr << "attnsim_validate_kernels: cannot write " << argv[1] << "\n";
      return 3;
    }
    std::cout << "wrote " << argv[1] << ": " << within << " of " << judged << " rows within "
              << unsigned_percent(kTolerance) << "\n";
    return 0;
  } catch (const attnsim::config::InputError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
