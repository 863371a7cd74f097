// SPDX-License-Identifier: Apache-2.0
// `attnsim calibrate` (SPEC section 2): picks a backend, measures with a progress display on
// the error stream, checks that the profile re-reads, and writes it atomically to --out (or
// prints its JSON on the output stream).
#include <chrono>
#include <filesystem>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "calibrate/backend.h"
#include "calibrate/profile.h"
#include "cli/commands.h"
#include "config/error.h"
#include "config/node.h"
#include "report/atomic_file.h"
#include "report/number_text.h"

namespace attnsim::cli {
namespace {

namespace fs = std::filesystem;

// A one-line bar redrawn in place on a terminal; elsewhere (CI logs) one line per stage.
class ProgressDisplay {
 public:
  ProgressDisplay(std::ostream& err, bool terminal) : err_(err), terminal_(terminal) {}

  void operator()(const calibrate::Progress& p) {
    if (!terminal_) {
      if (p.stage != stage_) {
        err_ << "attnsim calibrate: " << p.stage << "\n";
      }
      stage_ = p.stage;
      return;
    }
    constexpr int kWidth = 30;
    const int filled = p.total > 0 ? kWidth * p.done / p.total : kWidth;
    std::ostringstream line;
    line << "[" << std::string(static_cast<std::size_t>(filled), '#')
         << std::string(static_cast<std::size_t>(kWidth - filled), '.') << "] " << p.done << "/"
         << p.total << " " << p.stage << " " << p.what;
    std::string text = line.str();
    text.resize(std::max<std::size_t>(text.size(), 79), ' ');  // clears the previous line
    err_ << "\r" << text << std::flush;
    drawn_ = true;
  }

  void finish() {
    if (drawn_) {
      err_ << "\n";
    }
  }

 private:
  std::ostream& err_;
  bool terminal_;
  bool drawn_ = false;
  std::string stage_;
};

// `--inherit` applies to a GPU calibration only: with "auto" it asks for the GPU as
// "--backend cuda" does.
std::unique_ptr<calibrate::Backend> choose_backend(const std::string& name, bool need_gpu,
                                                   std::ostream& err) {
  if (name == "cpu") {
    return calibrate::make_cpu_backend();
  }
  std::unique_ptr<calibrate::Backend> cuda = calibrate::make_cuda_backend();
  const std::string why = cuda == nullptr ? "the CUDA backend is not built into this binary"
                                          : cuda->unavailable_reason();
  if (why.empty()) {
    return cuda;
  }
  if (name == "cuda" || need_gpu) {
    throw config::RuntimeFailure(std::string("calibrate ") +
                                 (name == "cuda" ? "--backend cuda" : "--inherit") + ": " + why +
                                 (name == "cuda" ? " (--backend cpu measures the CPU)"
                                                 : " (--inherit applies to a GPU calibration)"));
  }
  err << "attnsim calibrate: " << why << "; measuring the CPU instead (--backend cpu)\n";
  return calibrate::make_cpu_backend();
}

// Fails before measuring when the profile could not be written anyway.
void check_out_folder(const std::string& out) {
  std::error_code ec;
  if (fs::path(out).filename().empty() || fs::is_directory(out, ec)) {
    throw UsageError(out + ": is a folder; --out takes the profile's file name, e.g. " +
                     (fs::path(out) / "profile.json").lexically_normal().string());
  }
  const fs::path folder = fs::absolute(fs::path(out)).parent_path();
  if (!fs::is_directory(folder, ec)) {
    throw config::RuntimeFailure(out + ": cannot write the file (no folder " + folder.string() +
                                 ")");
  }
}

using report::fixed;

}  // namespace

void summarise_calibration(const calibrate::Profile& p, double seconds, const std::string& where,
                           std::ostream& os) {
  os << "attnsim calibrate: measured " << p.provenance.device << " in " << fixed(seconds, 1)
     << " s; " << where << "\n";
  const calibrate::GemmPoint* best = nullptr;
  for (const calibrate::GemmPoint& g : p.compute.gemm) {
    if (best == nullptr || g.tflops > best->tflops) {
      best = &g;
    }
  }
  if (best != nullptr) {
    os << "  gemm " << best->dtype
       << std::string(11 - std::min<std::size_t>(best->dtype.size(), 10), ' ') << "best "
       << fixed(best->tflops * 1e3, 1) << " GFLOP/s at " << best->m << "x" << best->n << "x"
       << best->k << " (" << p.compute.gemm.size() << " shapes)\n";
  }
  const calibrate::AttentionPoint* longest = nullptr;  // dense forward, largest head dim
  for (const calibrate::AttentionPoint& a : p.compute.attention) {
    if (!a.causal && a.kind.empty() && a.pass == "fwd" &&
        (longest == nullptr ||
         std::pair(a.head_dim, a.seq_q) >= std::pair(longest->head_dim, longest->seq_q))) {
      longest = &a;
    }
  }
  if (longest != nullptr) {
    os << "  attention fwd   " << fixed(longest->tflops * 1e3, 1) << " GFLOP/s at d"
       << longest->head_dim << " s" << longest->seq_q << " (" << p.compute.attention.size()
       << " rows)\n";
  }
  os << "  memcpy          " << fixed(p.peaks.hbm_bandwidth_GBps, 1)
     << " GB/s (read + written, largest buffer)\n";
  const calibrate::LinkParams& link = p.comm.links.scale_up;
  if (link.kind.empty()) {
    return;
  }
  if (!p.inherited_from.empty()) {  // one GPU: the links and tables are the built-in's whole
    os << "  scale-up link   " << p.inherited_from << "'s, published (one GPU: no transfer to "
       << "measure)\n";
    return;
  }
  if (link.p2p_efficiency > 0) {  // a built-in's link with a measured point-to-point rate
    os << "  scale-up link   point-to-point " << fixed(link.bandwidth_GBps * link.p2p_efficiency, 2)
       << " GB/s of " << fixed(link.bandwidth_GBps, 2) << " raw (fitted to "
       << p.comm.measurements.size() << " transfers)\n";
    return;
  }
  os << "  scale-up link   latency " << fixed(link.latency_us, 2) << " us, bandwidth "
     << fixed(link.bandwidth_GBps, 2) << " GB/s (fitted to " << p.comm.measurements.size()
     << " transfers)\n";
}

int run_calibrate(const CalibrateOptions& options, std::ostream& out, std::ostream& err) {
  if (!options.out.empty()) {
    check_out_folder(options.out);
  }
  if (!options.inherit.empty()) {
    if (options.backend == "cpu") {
      throw UsageError(
          "--inherit names the built-in profile whose datasheet peaks and fabric a GPU "
          "calibration takes; --backend cpu measures its own peaks and has no fabric to take");
    }
    try {
      (void)calibrate::builtin_profile(options.inherit);
    } catch (const config::InputError& e) {
      throw UsageError(std::string("--inherit: ") + e.what());
    }
  }
  const std::unique_ptr<calibrate::Backend> backend =
      choose_backend(options.backend, !options.inherit.empty(), err);

  ProgressDisplay display(err, options.progress_bar);
  calibrate::MeasureOptions measure;
  measure.quick = options.quick;
  measure.builtin = options.inherit;
  measure.tool = std::string("attnsim ") + kVersion;
  measure.name =
      options.out.empty() ? "measured-" + backend->name() : fs::path(options.out).stem().string();
  measure.progress = [&display](const calibrate::Progress& p) { display(p); };
  const auto start = std::chrono::steady_clock::now();
  calibrate::Profile profile;
  try {
    profile = backend->measure(measure);
  } catch (...) {
    display.finish();
    throw;
  }
  display.finish();
  if (!options.inherit.empty()) {
    const int named = calibrate::builtin_profile(options.inherit).peaks.compute_capability;
    const int own = profile.peaks.compute_capability;
    if (named != 0 && own != 0 && named != own) {
      err << "attnsim calibrate: warning: --inherit " << options.inherit << " is an sm_" << named
          << " profile and " << profile.provenance.device << " is sm_" << own
          << ": its datasheet peaks and fabric may not be this machine's (the profile's notes "
             "say so too)\n";
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // What is written must read back as the same profile; a failure here is a backend bug.
  const nlohmann::json json = calibrate::to_json(profile);
  try {
    calibrate::parse_profile(config::Node::from_json("the measured profile", json));
  } catch (const config::InputError& e) {
    throw config::RuntimeFailure(std::string("calibrate: the measured profile does not "
                                             "validate (a bug): ") +
                                 e.what());
  }
  const std::string text = json.dump(2) + "\n";
  if (options.out.empty()) {
    out << text;
    summarise_calibration(profile, seconds, "profile JSON on standard output", err);
  } else {
    report::write_file_atomically(options.out, text);
    summarise_calibration(profile, seconds, "wrote " + options.out, out);
  }
  return 0;
}

}  // namespace attnsim::cli
