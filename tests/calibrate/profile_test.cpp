// SPDX-License-Identifier: Apache-2.0
// Hardware profiles: the built-ins parse and round-trip, their transcribed collective figures
// agree with nccl-tests' own arithmetic, inheritance replaces only what a file gives, and the
// error lines are pinned verbatim (STYLE D7).
#include "calibrate/profile.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "config/error.h"
#include "config/node.h"

using attnsim::calibrate::AttentionPoint;
using attnsim::calibrate::builtin_profile;
using attnsim::calibrate::builtin_profile_names;
using attnsim::calibrate::load_profile;
using attnsim::calibrate::parse_profile;
using attnsim::calibrate::Profile;
using attnsim::calibrate::to_json;
using attnsim::config::Node;

namespace {

Profile parse(const std::string& file, const std::string& text) {
  return parse_profile(Node::parse_text(file, text));
}

// A complete measured profile with one figure of each kind; tests splice errors into it.
std::string minimal_profile(const std::string& links = R"({"scale_up": {"kind": "nvswitch",
      "bandwidth_GBps": 450, "efficiency": 0.8, "latency_us": 0.6}})",
                            const std::string& measurement = R"({"collective": "all_reduce",
      "ranks": 8, "nodes": 1, "size_bytes": 8589934592, "time_us": 31307,
      "busbw_GBps": 480.16})",
                            const std::string& peaks_extra = "") {
  return R"({"schema": "attnsim-hardware-profile", "schema_version": 1, "name": "mini",
  "provenance": {"source": "measured", "tool": "test"},
  "peaks": {"flops_per_s": {"bf16": 9.89e14}, "hbm_bytes": 8e10, "hbm_bandwidth_GBps": 3350,
            "compute_capability": 90)" +
         peaks_extra + R"(},
  "compute": {"gemm": [{"m": 4096, "n": 4096, "k": 4096, "dtype": "bf16", "tflops": 780.2}]},
  "comm": {"measurements": [)" +
         measurement + R"(], "links": )" + links + "}}";
}

// nccl-tests' bus-bandwidth factor, written out again here so that the data check below does
// not trust the library's own table (NVIDIA/nccl-tests doc/PERFORMANCE.md, hardware.md 4).
double nccl_tests_factor(const std::string& collective, int n) {
  const double ranks = n;
  if (collective == "all_reduce") {
    return 2.0 * (ranks - 1) / ranks;
  }
  if (collective == "all_gather" || collective == "reduce_scatter" || collective == "all_to_all") {
    return (ranks - 1) / ranks;
  }
  REQUIRE((collective == "broadcast" || collective == "reduce" || collective == "send_recv"));
  return 1.0;
}

}  // namespace

TEST_CASE("the six built-in profiles are compiled in, sorted", "[unit]") {
  const std::vector<std::string> expected = {"a100-sxm", "b200",     "gb200",
                                             "gtx1080",  "h100-sxm", "h200-sxm"};
  REQUIRE(builtin_profile_names() == expected);
}

TEST_CASE("every built-in profile parses and cites its figures", "[unit]") {
  // Oracle: the strict reader accepts each file (no unknown key, every published figure has a
  // source), and each profile names itself and has the peaks SPEC section 5 requires.
  for (const std::string& name : builtin_profile_names()) {
    SECTION(name) {
      const Profile p = builtin_profile(name);
      REQUIRE(p.name == name);
      REQUIRE(p.provenance.source == "published");
      REQUIRE_FALSE(p.provenance.citations.empty());
      REQUIRE(p.peaks.flops_per_s.count("fp32") == 1);
      REQUIRE(p.peaks.hbm_bytes > 0);
      REQUIRE(p.peaks.compute_capability > 0);
      REQUIRE_FALSE(p.comm.links.scale_up.kind.empty());
    }
  }
}

TEST_CASE("a profile round-trips through to_json and parse_profile unchanged", "[unit]") {
  // Oracle: to_json(parse(to_json(p))) == to_json(p) for every built-in, i.e. the writer emits
  // everything the reader keeps and nothing it rejects (derived busbw_only times included).
  for (const std::string& name : builtin_profile_names()) {
    SECTION(name) {
      const nlohmann::json first = to_json(builtin_profile(name));
      const Profile again = parse_profile(Node::from_json("roundtrip.json", first));
      REQUIRE(to_json(again) == first);
    }
  }
}

TEST_CASE("transcribed collective figures agree with nccl-tests' busbw arithmetic", "[unit]") {
  // Data-entry check on the built-in tables: for every row that gives a time, nccl-tests
  // computes algbw = size / time and busbw = algbw x factor(n). The printed busbw has two
  // decimals and the time four significant digits, so the transcription must agree within 2 %
  // or 0.005 GB/s. Example (T1, 8 GiB on 8 H100s): 8589934592 B / 31307 us = 274.38 GB/s,
  // x 2 x 7/8 = 480.16 GB/s.
  int checked = 0;
  for (const std::string& name : builtin_profile_names()) {
    for (const auto& m : builtin_profile(name).comm.measurements) {
      if (m.busbw_only) {
        continue;
      }
      const double algbw = m.size_bytes / (m.time_us * 1e3);
      const double busbw = algbw * nccl_tests_factor(m.collective, m.ranks);
      INFO(name << " " << m.collective << " n=" << m.ranks << " size=" << m.size_bytes);
      REQUIRE(std::fabs(m.busbw_GBps - busbw) <= std::max(0.02 * busbw, 0.005));
      ++checked;
    }
  }
  // T1 (32) + T6 (31) + nccl#2169 (1) in h100-sxm, T4 (20) + sendrecv (4) in a100-sxm.
  REQUIRE(checked == 88);
}

TEST_CASE("a busbw_only row gets its time from busbw by the nccl-tests factor", "[unit]") {
  // T3 on 8 H200s: 16 GiB all_reduce at busbw 480.0 GB/s. Time = size x 2(n-1)/n / busbw
  // = 17179869184 x 1.75 / 480e9 s = 62634.9 us.
  const Profile p = builtin_profile("h200-sxm");
  bool found = false;
  for (const auto& m : p.comm.measurements) {
    if (m.algo == "nvls" && m.size_bytes == 17179869184.0) {
      REQUIRE(m.busbw_only);
      REQUIRE(m.time_us == Approx(17179869184.0 * 1.75 / 480e3).epsilon(1e-12));
      found = true;
    }
  }
  REQUIRE(found);
}

TEST_CASE("published cuDNN attention rows agree with their measured times", "[unit]") {
  // Data-entry check on the rows transcribed from NVIDIA/cudnn-frontend's SDPA benchmark
  // (GB200 and H200, and the GB200 runs held out for docs/validation-kernels.md): each row's source
  // gives the published median time, and tflops x time must equal the FLOPs of the call by
  // profile.h's convention (forward 4·s_q·s_k·d·bh, halved when causal; backward x 2.5), with bh =
  // batch x query heads. The CSV prints tflops to an integer and times to 0.001 ms, and counts
  // S(S+1)/2 causal pairs where attnsim counts S²/2, so the allowed difference is 0.5/tflops +
  // 0.0005/time + 1/S. Example (GB200, Llama 3.1, batch 2 x 64 heads, d128, 32K, forward, no mask):
  // 4 x 32768² x 128 x 128 FLOPs = 7.037e16 in 43.056 ms = 1634 TFLOP/s, the row's value.
  int checked = 0;
  const std::string held_out = ATTNSIM_SOURCE_DIR "/bench/validation/gb200-cudnn-held-out.json";
  for (const std::string& name : {std::string("gb200"), std::string("h200-sxm"), held_out}) {
    for (const auto& a : load_profile(name).compute.attention) {
      if (a.impl != "cudnn" || a.extrapolated) {
        continue;
      }
      const std::string::size_type end = a.source.find(" ms;");
      REQUIRE(end != std::string::npos);
      const std::string::size_type begin = a.source.rfind("; ", end) + 2;
      const double ms = std::stod(a.source.substr(begin, end - begin));
      const double flops = attnsim::calibrate::forward_flops(a) * (a.pass == "bwd" ? 2.5 : 1.0);
      const double tolerance =
          0.5 / a.tflops + 0.0005 / ms + (a.causal ? 1.0 / static_cast<double>(a.seq_q) : 0.0);
      INFO(name << " " << a.pass << " " << a.dtype << " d" << a.head_dim << " " << a.seq_q << " bh "
                << a.batch_heads);
      REQUIRE(std::fabs(a.tflops * 1e12 * ms * 1e-3 / flops - 1.0) <= tolerance);
      ++checked;
    }
  }
  // GB200: Llama 3.1 40, Qwen 3.5 5; H200: Llama 3.1 40; held out of GB200: Wan 2.2 10, LTX-2 10.
  REQUIRE(checked == 105);
}

TEST_CASE("GB200 d64 attention is its d128 cuDNN row x H100 cuDNN's d64/d128 ratio", "[unit]") {
  // No dense d64 cuDNN measurement is published for GB200. Each extrapolated d64 row is the
  // Llama 3.1 d128 row of the same pass, mask and length (batch 2 x 64 heads) times cuDNN's
  // d64/d128 ratio on H100 at that length (FA3 paper, the h100-sxm profile; its longest, 16K,
  // stands for 32K), rounded to 0.1. Example: forward, no mask, 2K: 1433 x 395/617 = 917.4.
  const auto& gb = builtin_profile("gb200").compute.attention;
  const auto& h100 = builtin_profile("h100-sxm").compute.attention;
  const auto find = [](const auto& rows, const attnsim::calibrate::AttentionPoint& like,
                       int head_dim, std::int64_t seq, std::int64_t batch_heads) {
    for (const auto& r : rows) {
      if (r.impl == "cudnn" && r.pass == like.pass && r.causal == like.causal &&
          r.head_dim == head_dim && r.seq_q == seq &&
          (batch_heads == 0 || r.batch_heads == batch_heads) &&
          (r.dtype == "fp16" || r.dtype == "bf16")) {
        return r.tflops;
      }
    }
    FAIL("no row for " << like.pass << " d" << head_dim << " " << seq);
    return 0.0;
  };
  int checked = 0;
  for (const auto& a : gb) {
    if (!a.extrapolated) {
      continue;
    }
    INFO(a.pass << " causal " << a.causal << " " << a.seq_q);
    REQUIRE(a.head_dim == 64);
    const std::int64_t s = std::min<std::int64_t>(a.seq_q, 16384);
    const double expected =
        find(gb, a, 128, a.seq_q, 128) * find(h100, a, 64, s, 0) / find(h100, a, 128, s, 0);
    REQUIRE(a.tflops == Approx(expected).margin(0.05));
    ++checked;
  }
  REQUIRE(checked == 15);  // forward causal and not, backward not causal; 2K to 32K
}

TEST_CASE("B200 attention is the GB200 cuDNN table scaled by the MAMF ratio", "[unit]") {
  // No B200 attention measurement is published; the same kernels on the same Blackwell GPU at
  // B200's lower power scale with its sustained tensor throughput: B200/GB200 MAMF, BF16
  // 1745.0 / 1822.0 and FP8 3432.5 / 3615.6 (hardware.md 5.2), rounded to 0.1. Example:
  // GB200 Llama 3.1 forward d128 32K non-causal 1634 -> 1634 x 1745/1822 = 1564.9.
  const Profile b200 = builtin_profile("b200");
  const Profile gb200 = builtin_profile("gb200");
  REQUIRE(b200.compute.attention.size() == gb200.compute.attention.size());
  for (const auto& b : b200.compute.attention) {
    INFO(b.pass << " " << b.dtype << " d" << b.head_dim << " " << b.seq_q);
    REQUIRE(b.extrapolated);
    const auto same = [&b](const attnsim::calibrate::AttentionPoint& g) {
      return b.impl == g.impl && b.pass == g.pass && b.dtype == g.dtype && b.causal == g.causal &&
             b.head_dim == g.head_dim && b.seq_q == g.seq_q && b.seq_k == g.seq_k &&
             b.batch_heads == g.batch_heads;
    };
    const auto g =
        std::find_if(gb200.compute.attention.begin(), gb200.compute.attention.end(), same);
    REQUIRE(g != gb200.compute.attention.end());
    const double ratio = b.dtype == "fp8" ? 3432.5 / 3615.6 : 1745.0 / 1822.0;
    REQUIRE(b.tflops == Approx(g->tflops * ratio).margin(0.05));
  }
}

TEST_CASE("a file that inherits replaces only the sections it gives", "[unit]") {
  // A single-GPU measured compute table on top of the published H100 fabric: provenance and
  // compute.gemm come from the file; peaks, attention and all of comm stay the built-in's.
  const Profile base = builtin_profile("h100-sxm");
  const Profile p = parse("lab-h100.json", R"({
    "schema": "attnsim-hardware-profile", "schema_version": 1, "inherits": "h100-sxm",
    "provenance": {"source": "measured", "tool": "attnsim calibrate 0.1.0", "gpus": 1},
    "compute": {"gemm": [{"m": 8192, "n": 8192, "k": 8192, "dtype": "bf16", "tflops": 700}]}})");
  REQUIRE(p.name == "lab-h100");  // from the file name, not the base's
  REQUIRE(p.inherited_from == "h100-sxm");
  REQUIRE(p.provenance.source == "measured");
  REQUIRE(p.provenance.gpus == 1);
  REQUIRE(p.compute.gemm.size() == 1);
  REQUIRE(p.compute.gemm[0].tflops == 700);
  REQUIRE(to_json(p)["compute"]["attention"] == to_json(base)["compute"]["attention"]);
  REQUIRE(to_json(p)["peaks"] == to_json(base)["peaks"]);
  REQUIRE(to_json(p)["comm"] == to_json(base)["comm"]);
}

TEST_CASE("load_profile takes a built-in name or a file relative to a folder", "[unit]") {
  REQUIRE(load_profile("gtx1080").name == "gtx1080");
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "attnsim_profile_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "mine.json") << minimal_profile();
  REQUIRE(load_profile("mine.json", dir.string()).name == "mini");
  std::filesystem::remove_all(dir);
}

TEST_CASE("an unknown built-in name lists the names and suggests one", "[errors]") {
  REQUIRE_THROWS_WITH(builtin_profile("h100"),
                      "hardware profile: expected one of a100-sxm, b200, gb200, gtx1080, "
                      "h100-sxm, h200-sxm; got \"h100\" (did you mean \"h100-sxm\"?)");
  REQUIRE_THROWS_WITH(load_profile("h100"),
                      "hardware profile: expected one of a100-sxm, b200, gb200, gtx1080, "
                      "h100-sxm, h200-sxm; got \"h100\" (did you mean \"h100-sxm\"?)");
}

TEST_CASE("an unknown name in a scenario is reported at its JSON pointer", "[errors]") {
  const Node scenario = Node::parse_text("s.json", R"({"hardware": "a100"})");
  REQUIRE_THROWS_WITH(load_profile(scenario.child("hardware"), ""),
                      "s.json: /hardware: expected a built-in profile (a100-sxm, b200, gb200, "
                      "gtx1080, h100-sxm, h200-sxm) or a profile file path; got \"a100\" (did "
                      "you mean \"a100-sxm\"?)");
}

TEST_CASE("an unknown inherited base is located at /inherits", "[errors]") {
  REQUIRE_THROWS_WITH(parse("x.json", R"({"schema": "attnsim-hardware-profile",
      "schema_version": 1, "inherits": "h200"})"),
                      "x.json: /inherits: expected one of a100-sxm, b200, gb200, gtx1080, "
                      "h100-sxm, h200-sxm; got \"h200\" (did you mean \"h200-sxm\"?)");
}

TEST_CASE("a negative bandwidth names its JSON pointer", "[errors]") {
  REQUIRE_THROWS_WITH(parse("neg.json", minimal_profile(R"({"scale_up": {"kind": "nvswitch",
      "bandwidth_GBps": -450, "efficiency": 0.8, "latency_us": 0.6}})")),
                      "neg.json: /comm/links/scale_up/bandwidth_GBps: expected a number > 0, "
                      "got -450");
}

TEST_CASE("an efficiency above 1 is rejected", "[errors]") {
  REQUIRE_THROWS_WITH(parse("eff.json", minimal_profile(R"({"nic": {"kind": "infiniband",
      "bandwidth_GBps": 50, "efficiency": 1.5, "latency_us": 2.7}})")),
                      "eff.json: /comm/links/nic/efficiency: expected a number in (0, 1], got 1.5");
}

TEST_CASE("a point-to-point efficiency belongs to the scale-up link, in (0, 1]", "[errors]") {
  const Profile p = parse("p2p.json", minimal_profile(R"({"scale_up": {"kind": "nvswitch",
      "bandwidth_GBps": 300, "efficiency": 0.783, "p2p_efficiency": 0.65, "latency_us": 0.6}})"));
  REQUIRE(p.comm.links.scale_up.p2p_efficiency == 0.65);
  REQUIRE(to_json(p)["comm"]["links"]["scale_up"]["p2p_efficiency"] == 0.65);
  REQUIRE(parse("none.json", minimal_profile()).comm.links.scale_up.p2p_efficiency == 0);
  REQUIRE_THROWS_WITH(parse("p2p.json", minimal_profile(R"({"scale_up": {"kind": "nvswitch",
      "bandwidth_GBps": 300, "efficiency": 0.8, "p2p_efficiency": 0, "latency_us": 0.6}})")),
                      "p2p.json: /comm/links/scale_up/p2p_efficiency: expected a number in (0, "
                      "1], got 0");
  REQUIRE_THROWS_WITH(parse("nic.json", minimal_profile(R"({"nic": {"kind": "infiniband",
      "bandwidth_GBps": 50, "efficiency": 0.95, "p2p_efficiency": 0.9, "latency_us": 2.7}})")),
                      "nic.json: /comm/links/nic: unknown key \"p2p_efficiency\" (did you mean "
                      "\"efficiency\"?)");
}

TEST_CASE("an unknown collective lists the names and suggests one", "[errors]") {
  REQUIRE_THROWS_WITH(
      parse("coll.json", minimal_profile(R"({})", R"({"collective": "allreduce", "ranks": 8,
      "nodes": 1, "size_bytes": 1024, "time_us": 16.94, "busbw_GBps": 0.11})")),
      "coll.json: /comm/measurements/0/collective: expected one of all_gather, all_reduce, "
      "all_to_all, broadcast, reduce, reduce_scatter, send_recv; got \"allreduce\" (did you "
      "mean \"all_reduce\"?)");
}

TEST_CASE("an unknown key is rejected with a suggestion", "[errors]") {
  REQUIRE_THROWS_WITH(parse("key.json", minimal_profile(R"({})", R"({"collective": "all_reduce",
      "ranks": 8, "nodes": 1, "size_bytes": 1024, "time_us": 16.94, "busbw_GBps": 0.11})",
                                                        R"(, "hbm_bandwith_GBps": 3350)")),
                      "key.json: /peaks: unknown key \"hbm_bandwith_GBps\" (did you mean "
                      "\"hbm_bandwidth_GBps\"?)");
}

TEST_CASE("a busbw that disagrees with size and time is a transcription error", "[errors]") {
  // 8589934592 B in 31307 us on 8 ranks: busbw must be 274.38 x 1.75 = 480.16, not 274.38
  // (the algbw column copied by mistake).
  REQUIRE_THROWS_WITH(
      parse("bw.json", minimal_profile(R"({})", R"({"collective": "all_reduce", "ranks": 8,
      "nodes": 1, "size_bytes": 8589934592, "time_us": 31307, "busbw_GBps": 274.38})")),
      "bw.json: /comm/measurements/0/busbw_GBps: expected 480.161 within 2 % (size_bytes / "
      "time_us x 2(n-1)/n = 1.75 for all_reduce on 8 ranks), got 274.38");
  // send_recv's busbw is its algbw: 1 GiB in 5503.4 us is 195.1 GB/s (hardware.md T4).
  REQUIRE_THROWS_WITH(
      parse("bw.json", minimal_profile(R"({})", R"({"collective": "send_recv", "ranks": 8,
      "nodes": 1, "size_bytes": 1073741824, "time_us": 5503.4, "busbw_GBps": 97.55})")),
      "bw.json: /comm/measurements/0/busbw_GBps: expected 195.105 within 2 % (size_bytes / "
      "time_us (busbw = algbw) for send_recv on 8 ranks), got 97.55");
}

TEST_CASE("message sizes must increase within a series", "[errors]") {
  const std::string two_rows = R"({"collective": "all_reduce", "ranks": 8, "nodes": 1,
      "size_bytes": 4194304, "time_us": 54.19, "busbw_GBps": 135.44},
      {"collective": "all_reduce", "ranks": 8, "nodes": 1,
      "size_bytes": 1048576, "time_us": 27.37, "busbw_GBps": 67.04})";
  REQUIRE_THROWS_WITH(parse("order.json", minimal_profile(R"({})", two_rows)),
                      "order.json: /comm/measurements/1/size_bytes: expected sizes in "
                      "increasing order within a series (same collective, ranks, nodes, algo, "
                      "proto and source), got 1048576 after 4194304");
}

TEST_CASE("a published profile needs a source on every figure", "[errors]") {
  const std::string text = R"({"schema": "attnsim-hardware-profile", "schema_version": 1,
  "provenance": {"source": "published", "citations": ["somewhere"]},
  "peaks": {"flops_per_s": {}, "hbm_bytes": 1, "hbm_bandwidth_GBps": 1,
            "compute_capability": 90, "source": "datasheet"},
  "compute": {"gemm": [{"m": 1, "n": 1, "k": 1, "dtype": "bf16", "tflops": 1}]}})";
  REQUIRE_THROWS_WITH(parse("pub.json", text),
                      "pub.json: /compute/gemm/0/source: expected a source (every figure of a "
                      "published profile names one), got nothing (missing key)");
}

namespace {

// minimal_profile() with `rows` as its compute.attention.
std::string with_attention(const std::string& rows) {
  std::string text = minimal_profile();
  const std::string gemm = R"("compute": {"gemm": [)";
  text.replace(text.find(gemm), gemm.size(),
               R"("compute": {"attention": [)" + rows + "], " + gemm.substr(12));
  return text;
}

const char* const kWindowRow = R"({"impl": "ours", "pass": "fwd", "dtype": "bf16",
    "causal": true, "head_dim": 128, "seq_q": 4096, "seq_k": 4096, "batch_heads": 64,
    "tflops": 300, "source": "measured", "kind": "sliding_window", "window": 1024})";

const char* const kDilatedRow = R"({"impl": "ours", "pass": "bwd", "dtype": "bf16",
    "head_dim": 64, "seq_q": 8192, "seq_k": 8192, "batch_heads": 32, "tflops": 200,
    "source": "measured", "kind": "dilated", "segment_length": 2048, "dilation_rate": 4})";

}  // namespace

TEST_CASE("sliding-window and dilated attention rows count their kept pairs and round-trip",
          "[unit]") {
  const Profile p =
      parse("kinds.json", with_attention(std::string(kWindowRow) + ", " + kDilatedRow));
  REQUIRE(p.compute.attention.size() == 2);
  const AttentionPoint& window = p.compute.attention[0];
  REQUIRE(window.kind == "sliding_window");
  REQUIRE(window.window == 1024);
  // Query i keeps min(i + 1, 1024) keys: 1024·4096 - 1024·1023/2, counted directly below.
  double pairs = 0;
  for (int i = 0; i < 4096; ++i) {
    pairs += std::min(i + 1, 1024);
  }
  REQUIRE(attnsim::calibrate::kept_pairs(window) == pairs);
  REQUIRE(pairs == 3670528);
  REQUIRE(attnsim::calibrate::forward_flops(window) == 4.0 * pairs * 128 * 64);
  const AttentionPoint& dilated = p.compute.attention[1];
  REQUIRE(dilated.kind == "dilated");
  // 4 segments of 2048 tokens, each keeping every 4th: 512 queries x 512 keys per segment.
  REQUIRE(attnsim::calibrate::kept_pairs(dilated) == 4.0 * 512 * 512);
  const nlohmann::json first = to_json(p);
  REQUIRE(first["compute"]["attention"][1]["segment_length"] == 2048);
  REQUIRE(to_json(parse_profile(Node::from_json("again.json", first))) == first);
}

TEST_CASE("attention rows of a mask kind are checked field by field", "[errors]") {
  const auto row = [](std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    return with_attention(text);
  };
  REQUIRE_THROWS_WITH(
      parse("k.json", row(kWindowRow, R"("sliding_window")", R"("sliding-window")")),
      "k.json: /compute/attention/0/kind: expected one of dilated, sliding_window; got "
      "\"sliding-window\" (did you mean \"sliding_window\"?)");
  REQUIRE_THROWS_WITH(
      parse("k.json", row(kWindowRow, R"(, "window": 1024)", "")),
      "k.json: /compute/attention/0/window: expected an integer >= 1, got nothing (missing key)");
  REQUIRE_THROWS_WITH(parse("k.json", row(kWindowRow, R"("causal": true)", R"("causal": false)")),
                      "k.json: /compute/attention/0/causal: expected true for a sliding_window "
                      "row (the window ends at the query), got false");
  REQUIRE_THROWS_WITH(parse("k.json", row(kWindowRow, R"("pass": "fwd")", R"("pass": "fwd_bwd")")),
                      "k.json: /compute/attention/0/pass: expected \"fwd\" or \"bwd\" for a "
                      "sliding_window row, got \"fwd_bwd\"");
  REQUIRE_THROWS_WITH(
      parse("k.json", row(kDilatedRow, R"("dilation_rate": 4)", R"("dilation_rate": 3)")),
      "k.json: /compute/attention/0/dilation_rate: expected a divisor of "
      "segment_length (2048), got 3");
  REQUIRE_THROWS_WITH(parse("k.json", row(kDilatedRow, R"("seq_k": 8192)", R"("seq_k": 4096)")),
                      "k.json: /compute/attention/0/seq_k: expected seq_q (8192) for a dilated "
                      "row (self-attention), got 4096");
  REQUIRE_THROWS_WITH(
      parse("k.json", row(kWindowRow, R"("seq_q": 4096, "seq_k": 4096)",
                          R"("seq_q": 4294967296, "seq_k": 4294967296)")),
      "k.json: /compute/attention/0/seq_q: expected at most 2^31 tokens for a sliding_window "
      "row, got 4294967296");
  // The parameters of one kind are unknown keys on rows of another.
  REQUIRE_THROWS_WITH(parse("k.json", row(kDilatedRow, R"("kind": "dilated")",
                                          R"("kind": "dilated", "window": 8)")),
                      Catch::StartsWith("k.json: /compute/attention/0: unknown key \"window\""));
}
