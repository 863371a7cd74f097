// SPDX-License-Identifier: Apache-2.0
// The CPU backend's compute benchmarks: GEMM, attention, memory and dispatch (bench.h).
#include <algorithm>
#include <array>
#include <cstring>
#include <random>
#include <sstream>

#include <Eigen/Core>

#include "calibrate/cpu/attention.h"
#include "calibrate/cpu/bench.h"

namespace attnsim::calibrate::cpu {
namespace {

// Uniform in [-1, 1), from our own arithmetic on mt19937_64 so that inputs are the same on
// every standard library (STYLE C8). Values do not matter for speed as long as they are
// normal floats, which these are.
template <class M>
void fill_uniform(M& m, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    m.data()[i] = static_cast<float>(static_cast<double>(gen() >> 11) * 0x1p-53 * 2 - 1);
  }
}

std::string shape_text(std::int64_t a, std::int64_t b, std::int64_t c) {
  std::ostringstream o;
  o << a << "x" << b << "x" << c;
  return o.str();
}

std::string bytes_text(std::int64_t bytes) {
  std::ostringstream o;
  if (bytes >= (1 << 20)) {
    o << (bytes >> 20) << " MiB";
  } else {
    o << (bytes >> 10) << " KiB";
  }
  return o.str();
}

std::string workers_text(const Session& s) {
  const int n = s.compute->size();
  return std::to_string(n) + (n == 1 ? " thread" : " threads");
}

}  // namespace

std::vector<GemmShape> gemm_shapes(bool quick) {
  const std::vector<std::int64_t> widths = quick ? std::vector<std::int64_t>{64, 128, 256}
                                                 : std::vector<std::int64_t>{128, 256, 512, 1024};
  std::vector<GemmShape> shapes;
  for (const std::int64_t h : widths) {
    shapes.push_back({h, h, h});          // square
    shapes.push_back({h, h + h / 4, h});  // QKV: h + 2·h/8
    shapes.push_back({h, 7 * h / 2, h});  // FFN up
    shapes.push_back({h, h, 7 * h / 2});  // FFN down
  }
  std::stable_sort(shapes.begin(), shapes.end(), [](const GemmShape& a, const GemmShape& b) {
    return a.m * a.n * a.k < b.m * b.n * b.k;
  });
  return shapes;
}

std::vector<GemmPoint> measure_gemm(Session& s, const std::vector<GemmShape>& shapes) {
  std::vector<GemmPoint> rows;
  bool skipping = false;
  for (const GemmShape& shape : shapes) {
    const std::string what = shape_text(shape.m, shape.n, shape.k);
    if (skipping) {
      s.step("gemm", what + " skipped");
      continue;
    }
    Eigen::MatrixXf a(shape.m, shape.k);
    Eigen::MatrixXf b(shape.k, shape.n);
    Eigen::MatrixXf c(shape.m, shape.n);
    fill_uniform(a, 1);
    fill_uniform(b, 2);
    const int workers = s.compute->size();
    const std::function<void(int)> part = [&](int w) {
      const Range cols = split(shape.n, w, workers);
      if (cols.end > cols.begin) {
        c.middleCols(cols.begin, cols.end - cols.begin).noalias() =
            a * b.middleCols(cols.begin, cols.end - cols.begin);
      }
    };
    const Timing t = s.time([&] { s.compute->run(part); });
    GemmPoint row;
    row.m = shape.m;
    row.n = shape.n;
    row.k = shape.k;
    row.dtype = "fp32";
    const double flops = 2.0 * static_cast<double>(shape.m * shape.n * shape.k);
    row.tflops = flops / t.median_s * 1e-12;
    row.source = "measured: Eigen fp32 GEMM, C's columns split over " + workers_text(s) + ", " +
                 runs_text(t);
    rows.push_back(std::move(row));
    skipping = s.ends_series(t);
    s.step("gemm", what);
  }
  return rows;
}

std::vector<AttentionSeries> attention_series() {
  return {{64, false, ""},
          {64, true, ""},
          {128, false, ""},
          {128, true, ""},
          {128, true, "sliding_window"},
          {128, false, "dilated"}};
}

std::vector<std::int64_t> attention_lengths(bool quick) {
  return quick ? std::vector<std::int64_t>{128, 256}
               : std::vector<std::int64_t>{256, 512, 1024, 2048};
}

std::vector<AttentionPoint> measure_attention(Session& s) {
  std::vector<AttentionPoint> rows;
  const int heads = s.compute->size();
  for (const AttentionSeries& series : attention_series()) {
    bool skipping = false;
    for (const std::int64_t len : attention_lengths(s.options->quick)) {
      // A quarter of the length: the window, or the dilated segment (at rate 4).
      const std::int64_t quarter = len / 4;
      const std::int64_t window = series.kind == "sliding_window" ? quarter : 0;
      constexpr std::int64_t kRate = 4;
      std::string what = series.kind == "sliding_window" ? "sliding window"
                         : series.kind == "dilated"      ? "dilated"
                         : series.causal                 ? "causal"
                                                         : "dense";
      what += " d" + std::to_string(series.head_dim) + " s" + std::to_string(len);
      if (series.kind == "sliding_window") {
        what += " w" + std::to_string(window);
      }
      if (series.kind == "dilated") {
        what += " w" + std::to_string(quarter) + " r" + std::to_string(kRate);
      }
      if (skipping) {
        s.step("attention", what + " fwd skipped");
        s.step("attention", what + " bwd skipped");
        continue;
      }

      struct Head {
        HeadMatrix q, k, v, o, d_o, dq, dk, dv;
        Eigen::VectorXf lse;
      };

      std::vector<Head> h(static_cast<std::size_t>(heads));
      for (std::size_t i = 0; i < h.size(); ++i) {
        const std::array<HeadMatrix*, 4> inputs = {&h[i].q, &h[i].k, &h[i].v, &h[i].d_o};
        for (std::size_t j = 0; j < inputs.size(); ++j) {
          inputs[j]->resize(len, series.head_dim);
          fill_uniform(*inputs[j], 10 * i + j);
        }
      }
      const bool dilated = series.kind == "dilated";
      const std::function<void(int)> forward = [&](int w) {
        Head& x = h[static_cast<std::size_t>(w)];
        if (dilated) {
          dilated_attention_forward(x.q, x.k, x.v, quarter, kRate, series.causal, x.o, x.lse);
        } else {
          attention_forward(x.q, x.k, x.v, series.causal, x.o, x.lse, window);
        }
      };
      const std::function<void(int)> backward = [&](int w) {
        Head& x = h[static_cast<std::size_t>(w)];
        if (dilated) {
          dilated_attention_backward(x.q, x.k, x.v, x.o, x.lse, x.d_o, quarter, kRate,
                                     series.causal, x.dq, x.dk, x.dv);
        } else {
          attention_backward(x.q, x.k, x.v, x.o, x.lse, x.d_o, series.causal, x.dq, x.dk, x.dv,
                             window);
        }
      };
      for (const bool is_backward : {false, true}) {
        const Timing t = s.time([&] { s.compute->run(is_backward ? backward : forward); });
        AttentionPoint row;
        row.impl = "cpu";
        row.pass = is_backward ? "bwd" : "fwd";
        row.dtype = "fp32";
        row.causal = series.causal;
        row.head_dim = series.head_dim;
        row.seq_q = len;
        row.seq_k = len;
        row.batch_heads = heads;
        row.kind = series.kind;
        if (series.kind == "sliding_window") {
          row.window = window;
        }
        if (dilated) {
          row.segment_length = quarter;
          row.dilation_rate = kRate;
        }
        // FLOPs of the kept pairs by profile.h's convention (forward_flops), the backward 2.5
        // times them.
        row.tflops = (is_backward ? 2.5 : 1.0) * forward_flops(row) / t.median_s * 1e-12;
        row.source = std::string(dilated ? "measured: gather per segment, " : "measured: ") +
                     "tiled online-softmax reference (" + std::to_string(kAttentionTile) + "x" +
                     std::to_string(kAttentionTile) + " tiles, Eigen)" +
                     (dilated ? ", scatter" : "") + ", one head per thread on " + workers_text(s) +
                     ", " + runs_text(t);
        rows.push_back(std::move(row));
        skipping = skipping || s.ends_series(t);
        s.step("attention", what + " " + (is_backward ? "bwd" : "fwd"));
      }
    }
  }
  return rows;
}

std::vector<std::int64_t> memory_sizes(bool quick) {
  // From 16 KiB, below the smallest GEMM's operands (3 x 64² x 4 B = 48 KiB), so that the cost
  // model's memory side of every measured GEMM is interpolated, not extrapolated; through L2
  // and L3 sizes to 64 MiB (quick) or 256 MiB, past the L3 of most CPUs. Factor 16 quick, 4 full.
  std::vector<std::int64_t> sizes;
  for (std::int64_t b = std::int64_t{1} << 14; b <= (std::int64_t{1} << (quick ? 26 : 28));
       b *= quick ? 16 : 4) {
    sizes.push_back(b);
  }
  return sizes;
}

std::vector<MemoryPoint> measure_memory(Session& s) {
  const std::vector<std::int64_t> sizes = memory_sizes(s.options->quick);
  std::vector<char> src(static_cast<std::size_t>(sizes.back()), 1);
  std::vector<char> dst(static_cast<std::size_t>(sizes.back()), 0);
  std::vector<MemoryPoint> rows;
  const int workers = s.compute->size();
  for (const bool is_copy : {true, false}) {
    const std::string op = is_copy ? "copy" : "fill";
    bool skipping = false;
    int value = 0;
    for (const std::int64_t size : sizes) {
      if (skipping) {
        s.step("memory", op + " " + bytes_text(size) + " skipped");
        continue;
      }
      const std::function<void(int)> part = [&](int w) {
        const Range r = split(size, w, workers);
        const auto offset = static_cast<std::size_t>(r.begin);
        const auto len = static_cast<std::size_t>(r.end - r.begin);
        if (is_copy) {
          std::memcpy(dst.data() + offset, src.data() + offset, len);
        } else {
          std::memset(dst.data() + offset, value & 0xff, len);
        }
      };
      const Timing t = s.time([&] {
        ++value;
        s.compute->run(part);
      });
      MemoryPoint row;
      row.op = op;
      row.bytes = static_cast<double>(is_copy ? 2 * size : size);
      row.bandwidth_GBps = row.bytes / t.median_s * 1e-9;
      row.source = std::string("measured: ") + (is_copy ? "memcpy" : "memset") + " of " +
                   bytes_text(size) + " split over " + workers_text(s) +
                   (is_copy ? ", bytes read + written, " : ", bytes written, ") + runs_text(t);
      rows.push_back(std::move(row));
      skipping = s.ends_series(t);
      s.step("memory", op + " " + bytes_text(size));
    }
  }
  return rows;
}

Timing measure_dispatch(Session& s) {
  const std::function<void(int)> nothing = [](int) {};
  const Timing t = s.time([&] { s.compute->run(nothing); });
  s.step("dispatch", "empty task");
  return t;
}

}  // namespace attnsim::calibrate::cpu
