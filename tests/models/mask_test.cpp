// SPDX-License-Identifier: Apache-2.0
// Mask counts (models/attention/mask.h) against brute-force enumeration of every (query, key,
// head) on short sequences, and against the closed forms of attention.md 2.10 on long ones.
#include "models/attention/mask.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "models/workload.h"
#include "tests/support/mask_oracle.h"

using attnsim::models::AttentionKind;
using attnsim::models::AttentionSpec;
using attnsim::models::DilatedHeads;
using attnsim::models::mask_block;
using attnsim::models::MaskBlock;
using attnsim::models::ModelShape;
using attnsim::models::pairs_per_head;
using attnsim::models::TokenSet;
using attnsim::test::Branch;
using attnsim::test::branches_of;

namespace {

// Our own uniform integer in [lo, hi]: std distributions differ between libraries (STYLE C8).
std::int64_t uniform(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {
  return lo + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(hi - lo + 1));
}

// A random arithmetic progression inside [0, n), small strides more likely than large ones.
TokenSet random_set(std::mt19937_64& rng, std::int64_t n) {
  TokenSet s;
  s.stride = uniform(rng, 0, 2) == 0 ? uniform(rng, 1, n) : uniform(rng, 1, 8);
  s.start = uniform(rng, 0, n - 1);
  s.count = uniform(rng, 0, (n - 1 - s.start) / s.stride + 1);
  return s;
}

AttentionSpec random_spec(std::mt19937_64& rng, std::int64_t n) {
  AttentionSpec spec;
  switch (uniform(rng, 0, 5)) {
    case 0:
      spec.kind = AttentionKind::kDense;
      break;
    case 1:
      spec.kind = AttentionKind::kCausal;
      break;
    case 2:
      spec.kind = AttentionKind::kSlidingWindow;
      spec.window = uniform(rng, 1, n + 5);
      break;
    default: {
      spec.kind = AttentionKind::kDilated;
      spec.causal = uniform(rng, 0, 1) == 1;
      spec.dilated_heads =
          uniform(rng, 0, 1) == 1 ? DilatedHeads::kAllHeads : DilatedHeads::kHeadGroups;
      const std::int64_t branches = uniform(rng, 1, 4);
      constexpr std::int64_t kRates[] = {1, 2, 3, 4, 6};
      for (std::int64_t i = 0; i < branches; ++i) {
        const std::int64_t r = kRates[uniform(rng, 0, 4)];
        spec.dilation_rates.push_back(r);
        spec.segment_lengths.push_back(r * uniform(rng, 1, 14));
      }
      break;
    }
  }
  return spec;
}

std::vector<std::int64_t> positions(const TokenSet& s) {
  std::vector<std::int64_t> p;
  for (std::int64_t i = 0; i < s.count; ++i) {
    p.push_back(s.start + i * s.stride);
  }
  return p;
}

// Every (head, query, key) enumerated. Tiles: one dense sub-problem per dense/causal block, per
// (head, branch, segment) for dilated, weighted by the pairs it keeps.
MaskBlock brute_force(const AttentionSpec& spec, std::int64_t n, int total_heads, int head_begin,
                      int head_end, const TokenSet& q, const TokenSet& k) {
  const std::vector<std::int64_t> qp = positions(q);
  const std::vector<std::int64_t> kp = positions(k);
  double pairs = 0;
  double unmasked = 0;
  double needed = 0;
  double log_q = 0;
  double log_k = 0;
  for (int j = head_begin; j < head_end; ++j) {
    std::vector<bool> is_needed(static_cast<std::size_t>(n), false);
    if (spec.kind != AttentionKind::kDilated) {
      for (const std::int64_t qq : qp) {
        for (const std::int64_t kk : kp) {
          const bool keep =
              spec.kind == AttentionKind::kDense ||
              (spec.kind == AttentionKind::kCausal && kk <= qq) ||
              (spec.kind == AttentionKind::kSlidingWindow && qq - spec.window < kk && kk <= qq);
          unmasked += 1;
          if (keep) {
            pairs += 1;
            is_needed[static_cast<std::size_t>(kk)] = true;
          }
        }
      }
    } else {
      for (const Branch& b : branches_of(spec, total_heads, j)) {
        // The residue keys of each segment, then each residue query against its segment's.
        const auto segments = static_cast<std::size_t>((n - 1) / b.w + 1);
        std::vector<std::vector<std::int64_t>> seg_keys(segments);
        std::vector<double> nq(segments, 0);
        std::vector<double> kept(segments, 0);
        for (const std::int64_t kk : kp) {
          if (kk % b.r == b.offset) {
            seg_keys[static_cast<std::size_t>(kk / b.w)].push_back(kk);
          }
        }
        for (const std::int64_t qq : qp) {
          if (qq % b.r != b.offset) {
            continue;
          }
          const auto seg = static_cast<std::size_t>(qq / b.w);
          nq[seg] += 1;
          for (const std::int64_t kk : seg_keys[seg]) {
            if (!spec.causal || kk <= qq) {
              kept[seg] += 1;
              is_needed[static_cast<std::size_t>(kk)] = true;
            }
          }
        }
        for (std::size_t seg = 0; seg < segments; ++seg) {
          const auto nk = static_cast<double>(seg_keys[seg].size());
          pairs += kept[seg];
          unmasked += nq[seg] * nk;
          if (kept[seg] > 0) {
            log_q += kept[seg] * std::log(nq[seg]);
            log_k += kept[seg] * std::log(nk);
          }
        }
      }
    }
    for (const bool b : is_needed) {
      needed += b ? 1 : 0;
    }
  }
  MaskBlock out;
  out.pairs = pairs;
  out.needed_keys = needed;
  if (pairs > 0) {
    out.causal_tiles = pairs < unmasked;
    if (spec.kind == AttentionKind::kDilated) {
      out.tile_q = std::exp(log_q / pairs);
      out.tile_k = std::exp(log_k / pairs);
    }
  }
  return out;
}

// The random cases of one property test; a failure prints the case.
void check_random_cases(std::uint64_t seed, int cases, std::int64_t max_n) {
  std::mt19937_64 rng(seed);
  for (int c = 0; c < cases; ++c) {
    const std::int64_t n = uniform(rng, 1, max_n);
    const AttentionSpec spec = random_spec(rng, n);
    const auto total = static_cast<int>(uniform(rng, 1, 9));
    const auto begin = static_cast<int>(uniform(rng, 0, total - 1));
    const auto end = static_cast<int>(uniform(rng, begin + 1, total));
    const TokenSet q = random_set(rng, n);
    const TokenSet k = random_set(rng, n);
    const MaskBlock got = mask_block(spec, n, total, begin, end, q, k);
    const MaskBlock want = brute_force(spec, n, total, begin, end, q, k);
    INFO("case " << c << ": kind " << static_cast<int>(spec.kind) << " causal " << spec.causal
                 << " all_heads " << (spec.dilated_heads == DilatedHeads::kAllHeads) << " n " << n
                 << " heads " << begin << ".." << end << "/" << total << " q " << q.start << "+"
                 << q.stride << "x" << q.count << " k " << k.start << "+" << k.stride << "x"
                 << k.count << " w0 "
                 << (spec.segment_lengths.empty() ? 0 : spec.segment_lengths[0]));
    REQUIRE(got.pairs == want.pairs);
    REQUIRE(got.needed_keys == want.needed_keys);
    REQUIRE(got.causal_tiles == want.causal_tiles);
    if (spec.kind == AttentionKind::kDilated) {
      REQUIRE(got.tile_q == Approx(want.tile_q).epsilon(1e-9));
      REQUIRE(got.tile_k == Approx(want.tile_k).epsilon(1e-9));
    }
  }
}

AttentionSpec kind_spec(AttentionKind kind) {
  AttentionSpec spec;
  spec.kind = kind;
  return spec;
}

// LongNet's branch set with rates that divide the segments (attention.md 2.10 uses 6 and 12,
// which do not divide 16384 and 32768).
AttentionSpec longnet(DilatedHeads heads, bool causal) {
  AttentionSpec spec;
  spec.kind = AttentionKind::kDilated;
  spec.segment_lengths = {2048, 4096, 8192, 16384, 32768};
  spec.dilation_rates = {1, 2, 4, 8, 16};
  spec.dilated_heads = heads;
  spec.causal = causal;
  return spec;
}

}  // namespace

TEST_CASE("random blocks of every kind match brute-force enumeration", "[property]") {
  // Oracle: enumerate every (head, query, key) of sequences up to 200 tokens with the masks
  // written in mask.h; pairs and needed keys must agree exactly, tiles to rounding.
  check_random_cases(20240601, 20000, 200);
}

TEST_CASE("long strided runs of dilated segments match brute-force enumeration", "[property]") {
  // Oracle as above, on 2,000-token sequences with small segments: hundreds of segments per
  // block, so the periodic shortcut over whole segments (mask.cpp for_units) does the work.
  std::mt19937_64 rng(77);
  for (int c = 0; c < 40; ++c) {
    const std::int64_t n = 2000;
    AttentionSpec spec;
    spec.kind = AttentionKind::kDilated;
    spec.causal = c % 2 == 0;
    spec.dilated_heads = c % 4 < 2 ? DilatedHeads::kAllHeads : DilatedHeads::kHeadGroups;
    spec.segment_lengths = {6, 8, 12};
    spec.dilation_rates = {2, uniform(rng, 1, 2) * 2, 3};
    TokenSet q{uniform(rng, 0, 9), uniform(rng, 1, 9), 0};
    TokenSet k{uniform(rng, 0, 9), uniform(rng, 1, 9), 0};
    q.count = (n - 1 - q.start) / q.stride + 1 - uniform(rng, 0, 20);
    k.count = (n - 1 - k.start) / k.stride + 1 - uniform(rng, 0, 20);
    const MaskBlock got = mask_block(spec, n, 6, 0, 6, q, k);
    const MaskBlock want = brute_force(spec, n, 6, 0, 6, q, k);
    INFO("case " << c);
    REQUIRE(got.pairs == want.pairs);
    REQUIRE(got.needed_keys == want.needed_keys);
    REQUIRE(got.tile_q == Approx(want.tile_q).epsilon(1e-9));
  }
}

TEST_CASE("dense attention keeps N squared pairs per head", "[unit]") {
  // Oracle: every query sees every key.
  for (const std::int64_t n : {std::int64_t{1}, std::int64_t{1000}, std::int64_t{1} << 30}) {
    CHECK(pairs_per_head(kind_spec(AttentionKind::kDense), n, 8) ==
          static_cast<double>(n) * static_cast<double>(n));
  }
}

TEST_CASE("causal attention keeps N(N+1)/2 pairs per head, about half of dense", "[unit]") {
  // Oracle: query t sees keys 0..t, so Σ_t (t + 1) = N(N+1)/2; the ratio to N² is (N+1)/(2N).
  for (const std::int64_t n : {std::int64_t{1}, std::int64_t{12345}, std::int64_t{1} << 30}) {
    const double causal = pairs_per_head(kind_spec(AttentionKind::kCausal), n, 4);
    const std::int64_t triangle = n * (n + 1) / 2;  // exact in int64
    CHECK(causal == static_cast<double>(triangle));
    const double dense = pairs_per_head(kind_spec(AttentionKind::kDense), n, 4);
    CHECK(causal / dense == Approx(0.5).margin(0.5 / static_cast<double>(n) + 1e-12));
  }
}

TEST_CASE("a causal block straddling the diagonal has triangular tiles, one below it not",
          "[unit]") {
  // Oracle: shard 1 of 4 (tokens 256..511) against itself is a triangle of 256·257/2 pairs;
  // against shard 0 it is a full 256 x 256 square.
  const AttentionSpec spec = kind_spec(AttentionKind::kCausal);
  const MaskBlock diagonal = mask_block(spec, 1024, 2, 0, 2, {256, 1, 256}, {256, 1, 256});
  CHECK(diagonal.pairs == 2.0 * 256 * 257 / 2);
  CHECK(diagonal.causal_tiles);
  CHECK(diagonal.tile_q == 256);
  CHECK(diagonal.needed_keys == 2.0 * 256);
  const MaskBlock below = mask_block(spec, 1024, 2, 0, 2, {256, 1, 256}, {0, 1, 256});
  CHECK(below.pairs == 2.0 * 256 * 256);
  CHECK_FALSE(below.causal_tiles);
  const MaskBlock above = mask_block(spec, 1024, 2, 0, 2, {0, 1, 256}, {256, 1, 256});
  CHECK(above.pairs == 0);
  CHECK(above.tile_q == 0);
}

TEST_CASE("a sliding window keeps window pairs per query past the first window", "[unit]") {
  // Oracle: query t sees min(t + 1, W) keys: Σ = W(W+1)/2 + (N - W)·W; tiles are W wide.
  AttentionSpec spec = kind_spec(AttentionKind::kSlidingWindow);
  spec.window = 4096;
  const std::int64_t n = std::int64_t{1} << 20;
  const std::int64_t w = spec.window;
  const MaskBlock all = mask_block(spec, n, 1, 0, 1, {0, 1, n}, {0, 1, n});
  const std::int64_t want = w * (w + 1) / 2 + (n - w) * w;
  CHECK(all.pairs == static_cast<double>(want));
  CHECK(all.tile_q == static_cast<double>(w));
  CHECK(all.tile_k == static_cast<double>(w));
  CHECK(all.causal_tiles);
}

TEST_CASE("LongNet forward FLOPs are 4·N·d·Σ w_i/r_i² with every branch on every head", "[unit]") {
  // Oracle: attention.md 2.10. Branch i has N/w_i segments, each a dense (w_i/r_i)² problem
  // per head, so pairs = h·N·Σ w_i/r_i² and forward FLOPs = 4·pairs·d_h = 4·N·d·Σ w_i/r_i².
  // With heads split into k groups (fkodom) each head runs one branch: divide by k.
  const std::int64_t n = std::int64_t{1} << 20;  // a multiple of every w_i
  constexpr int kHeads = 20;                     // a multiple of k = 5
  constexpr double kHeadDim = 128;
  const double d = kHeads * kHeadDim;
  const AttentionSpec all = longnet(DilatedHeads::kAllHeads, false);
  double sum = 0;  // Σ w_i/r_i²
  for (std::size_t i = 0; i < all.segment_lengths.size(); ++i) {
    sum += static_cast<double>(all.segment_lengths[i]) /
           static_cast<double>(all.dilation_rates[i] * all.dilation_rates[i]);
  }
  const double flops_all = 4 * pairs_per_head(all, n, kHeads) * kHeads * kHeadDim;
  CHECK(flops_all == 4 * static_cast<double>(n) * d * sum);
  const AttentionSpec groups = longnet(DilatedHeads::kHeadGroups, false);
  const double flops_groups = 4 * pairs_per_head(groups, n, kHeads) * kHeads * kHeadDim;
  CHECK(flops_groups == 4 * static_cast<double>(n) * d * sum / 5);
}

TEST_CASE("causal LongNet keeps n(n+1)/2 pairs per segment of n = w_i/r_i tokens", "[unit]") {
  // Oracle: inside a segment a residue class is n contiguous (dilated) tokens under a causal
  // mask; attention.md 2.10's "causal ≈ half". Tiles are the branches' n, pair-weighted.
  const std::int64_t n = std::int64_t{1} << 20;
  const AttentionSpec spec = longnet(DilatedHeads::kAllHeads, true);
  double pairs = 0;
  for (std::size_t i = 0; i < spec.segment_lengths.size(); ++i) {
    const std::int64_t m = spec.segment_lengths[i] / spec.dilation_rates[i];
    const std::int64_t segments = n / spec.segment_lengths[i];
    const std::int64_t per_segment = m * (m + 1) / 2;
    pairs += static_cast<double>(segments * per_segment);
  }
  CHECK(pairs_per_head(spec, n, 16) == pairs);
  const MaskBlock block = mask_block(spec, n, 16, 0, 16, {0, 1, n}, {0, 1, n});
  CHECK(block.causal_tiles);
  CHECK(block.tile_q == Approx(2048).epsilon(1e-12));  // every branch has w_i/r_i = 2048
  CHECK(block.needed_keys == 16.0 * static_cast<double>(n));
}

TEST_CASE("billion-token contiguous and stride-65536 blocks are counted promptly", "[unit]") {
  // Oracle: no timing assert; these calls would take hours if any path looped over tokens.
  // The strided causal count has a closed form: q_i = 3 + P·i sees keys 7 + P·j for j < i,
  // Σ_i i = n(n-1)/2 per head.
  const std::int64_t n = std::int64_t{1} << 30;
  const std::int64_t shard = n / 8;
  const TokenSet q_local{3 * shard, 1, shard};
  const TokenSet k_remote{shard, 1, shard};
  constexpr std::int64_t kStride = 65536;
  const TokenSet q_striped{3, kStride, n / kStride};
  const TokenSet k_striped{7, kStride, n / kStride};
  AttentionSpec window = kind_spec(AttentionKind::kSlidingWindow);
  window.window = 1 << 20;
  for (const AttentionSpec& spec :
       {kind_spec(AttentionKind::kDense), kind_spec(AttentionKind::kCausal), window,
        longnet(DilatedHeads::kAllHeads, true), longnet(DilatedHeads::kAllHeads, false),
        longnet(DilatedHeads::kHeadGroups, true)}) {
    const MaskBlock contiguous = mask_block(spec, n, 64, 0, 64, q_local, k_remote);
    const MaskBlock diagonal = mask_block(spec, n, 64, 0, 64, q_local, q_local);
    const MaskBlock striped = mask_block(spec, n, 64, 0, 64, q_striped, k_striped);
    CHECK(contiguous.pairs >= 0);
    CHECK(diagonal.pairs > 0);
    CHECK(striped.needed_keys >= 0);
  }
  const MaskBlock causal =
      mask_block(kind_spec(AttentionKind::kCausal), n, 64, 0, 64, q_striped, k_striped);
  const std::int64_t m = n / kStride;
  const std::int64_t per_head = m * (m - 1) / 2;
  CHECK(causal.pairs == 64.0 * static_cast<double>(per_head));
}

TEST_CASE("linear attention is a precondition violation", "[unit]") {
  // Oracle: mask.h's contract; linear attention has no score matrix.
  CHECK_THROWS_AS(pairs_per_head(kind_spec(AttentionKind::kLinear), 128, 1), std::logic_error);
}

TEST_CASE("Llama 2 7B has 6,738,415,616 parameters", "[unit]") {
  // Oracle: the count Hugging Face reports for meta-llama/Llama-2-7b-hf (untied embedding and
  // head, SwiGLU, RMSNorm weights only): 32·(2·4096·64·128 + 3·4096·11008 + 2·4096)
  // + 2·32000·4096 + 4096.
  ModelShape m;
  m.layers = 32;
  m.hidden = 4096;
  m.heads = 32;
  m.kv_heads = 32;
  m.head_dim = 128;
  m.ffn_hidden = 11008;
  m.vocab = 32000;
  m.gated_mlp = true;
  CHECK(m.parameters() == 6'738'415'616);
}
