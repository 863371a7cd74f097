// SPDX-License-Identifier: Apache-2.0
// The attention kernels' index logic (kernels/mask_index.h, kernels/plan.h) on a CPU: the
// tile loops of the forward and backward kernels, walked exactly as the kernels walk them,
// visit every pair mask.h keeps, once per branch that keeps it, and nothing else; the pair
// counts equal models::mask_block's.
#include "kernels/mask_index.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/attention.h"
#include "kernels/plan.h"
#include "models/attention/mask.h"
#include "models/workload.h"
#include "tests/support/attention_reference.h"

namespace kernels = attnsim::kernels;
namespace ix = attnsim::kernels::index;
namespace models = attnsim::models;
using ix::Index;

namespace {

// Our own uniform integer in [lo, hi] (STYLE C8: std distributions are not portable).
Index uniform(std::mt19937_64& rng, Index lo, Index hi) {
  return lo + static_cast<Index>(rng() % static_cast<std::uint64_t>(hi - lo + 1));
}

// (head, query position, key position) -> how many times the kernel computes the pair.
using Pairs = std::map<std::tuple<int, Index, Index>, int>;

// The forward kernel's loops: per launch, head, sub-problem and query tile, the key tiles of
// kept_keys, and inside a tile the rows and columns within the counts that keep() keeps.
// Also checks that no (head, query row) is owned by two CTAs of one launch.
Pairs walk_forward(const kernels::AttentionProblem& p, Index tile) {
  Pairs pairs;
  for (const ix::LaunchGeometry& g : kernels::plan::launches(p)) {
    std::set<std::pair<int, Index>> owned;
    for (int head = g.head_begin; head < g.head_begin + g.head_count; ++head) {
      for (Index s = 0; s < g.problems; ++s) {
        const ix::SubProblem sp = ix::sub_problem(g, head, s);
        REQUIRE(sp.q_rows.count <= g.max_q_rows);
        for (Index i0 = 0; i0 < ix::ceil_div(g.max_q_rows, tile) * tile; i0 += tile) {
          if (i0 >= sp.q_rows.count) {
            continue;  // the CTA returns at once
          }
          const Index i1 = std::min(i0 + tile, sp.q_rows.count);
          for (Index i = i0; i < i1; ++i) {
            REQUIRE(owned.insert({head, ix::at(sp.q_rows, i)}).second);
          }
          const ix::Range tiles =
              ix::tiles_of(ix::kept_keys(sp.mask, sp.q_pos, sp.k_pos, i0, i1), tile);
          for (Index jt = tiles.begin; jt < tiles.end; ++jt) {
            for (Index i = i0; i < i1; ++i) {
              for (Index j = jt * tile; j < std::min(jt * tile + tile, sp.k_rows.count); ++j) {
                const Index qp = ix::at(sp.q_pos, i);
                const Index kp = ix::at(sp.k_pos, j);
                if (ix::keep(sp.mask, qp, kp)) {
                  ++pairs[{head, qp, kp}];
                }
              }
            }
          }
        }
      }
    }
  }
  return pairs;
}

// The backward kernel's loops: per key tile, the query tiles of kept_queries.
Pairs walk_backward(const kernels::AttentionProblem& p, Index tile) {
  Pairs pairs;
  for (const ix::LaunchGeometry& g : kernels::plan::launches(p)) {
    for (int head = g.head_begin; head < g.head_begin + g.head_count; ++head) {
      for (Index s = 0; s < g.problems; ++s) {
        const ix::SubProblem sp = ix::sub_problem(g, head, s);
        REQUIRE(sp.k_rows.count <= g.max_k_rows);
        for (Index j0 = 0; j0 < sp.k_rows.count; j0 += tile) {
          const Index j1 = std::min(j0 + tile, sp.k_rows.count);
          const ix::Range tiles =
              ix::tiles_of(ix::kept_queries(sp.mask, sp.q_pos, sp.k_pos, j0, j1), tile);
          for (Index it = tiles.begin; it < tiles.end; ++it) {
            for (Index i = it * tile; i < std::min(it * tile + tile, sp.q_rows.count); ++i) {
              for (Index j = j0; j < j1; ++j) {
                const Index qp = ix::at(sp.q_pos, i);
                const Index kp = ix::at(sp.k_pos, j);
                if (ix::keep(sp.mask, qp, kp)) {
                  ++pairs[{head, qp, kp}];
                }
              }
            }
          }
        }
      }
    }
  }
  return pairs;
}

models::AttentionSpec to_spec(const kernels::AttentionProblem& p) {
  models::AttentionSpec spec;
  const kernels::AttentionMask& m = p.mask;
  switch (m.kind) {
    case kernels::MaskKind::kDense:
      spec.kind = models::AttentionKind::kDense;
      break;
    case kernels::MaskKind::kCausal:
      spec.kind = models::AttentionKind::kCausal;
      break;
    case kernels::MaskKind::kSlidingWindow:
      spec.kind = models::AttentionKind::kSlidingWindow;
      spec.window = m.window;
      break;
    case kernels::MaskKind::kDilated:
      spec.kind = models::AttentionKind::kDilated;
      for (int b = 0; b < m.dilated.branches; ++b) {
        spec.segment_lengths.push_back(m.dilated.segment_lengths[b]);
        spec.dilation_rates.push_back(m.dilated.dilation_rates[b]);
      }
      spec.dilated_heads = m.dilated.heads == kernels::DilatedHeads::kAllHeads
                               ? models::DilatedHeads::kAllHeads
                               : models::DilatedHeads::kHeadGroups;
      spec.causal = m.dilated.causal;
      break;
  }
  return spec;
}

// A random problem on a sequence of n tokens; dense kinds get random query and key sets
// (strided positions inside [0, n), as a ring step or a striped shard has).
kernels::AttentionProblem random_problem(std::mt19937_64& rng, Index n) {
  kernels::AttentionProblem p;
  p.heads = static_cast<int>(uniform(rng, 1, 7));
  p.kv_heads = 1;
  p.head_dim = 64;
  kernels::AttentionMask& m = p.mask;
  m.kind = static_cast<kernels::MaskKind>(uniform(rng, 0, 3));
  if (m.kind == kernels::MaskKind::kDilated) {
    p.seq_q = p.seq_k = n;
    kernels::DilatedMask& d = m.dilated;
    d.branches = static_cast<int>(uniform(rng, 1, 4));
    d.heads = uniform(rng, 0, 1) == 0 ? kernels::DilatedHeads::kHeadGroups
                                      : kernels::DilatedHeads::kAllHeads;
    d.causal = uniform(rng, 0, 1) == 1;
    for (int b = 0; b < d.branches; ++b) {
      const Index r = uniform(rng, 1, 5);
      d.dilation_rates[b] = r;
      d.segment_lengths[b] = r * uniform(rng, 1, 12);  // some longer than n
    }
    return p;
  }
  const auto pick = [&](Index& start, Index& stride, Index& count) {
    stride = uniform(rng, 0, 2) == 0 ? uniform(rng, 1, n) : uniform(rng, 1, 4);
    start = uniform(rng, 0, n - 1);
    count = uniform(rng, 1, (n - 1 - start) / stride + 1);
  };
  pick(m.q_position, m.q_position_stride, p.seq_q);
  pick(m.k_position, m.k_position_stride, p.seq_k);
  m.window = uniform(rng, 1, n + 2);
  return p;
}

}  // namespace

TEST_CASE("the kernels' tile loops keep exactly mask.h's pairs, as many as mask_block counts",
          "[property]") {
  std::mt19937_64 rng(20240905);
  for (int trial = 0; trial < 600; ++trial) {
    const Index n = uniform(rng, 1, 70);
    const kernels::AttentionProblem p = random_problem(rng, n);
    REQUIRE_NOTHROW(kernels::plan::check_problem(p));
    const Index tile = std::vector<Index>{1, 3, 4, 8, 64}[static_cast<std::size_t>(trial % 5)];
    INFO("trial " << trial << ", n " << n << ", kind " << static_cast<int>(p.mask.kind) << ", tile "
                  << tile);
    const Pairs forward = walk_forward(p, tile);
    const Pairs backward = walk_backward(p, tile);
    CHECK(backward == forward);
    Pairs expected;
    double total = 0;
    const kernels::AttentionMask& m = p.mask;
    const bool dilated = m.kind == kernels::MaskKind::kDilated;
    for (int head = 0; head < p.heads; ++head) {
      for (Index i = 0; i < p.seq_q; ++i) {
        for (Index j = 0; j < p.seq_k; ++j) {
          const Index q = dilated ? i : m.q_position + m.q_position_stride * i;
          const Index k = dilated ? j : m.k_position + m.k_position_stride * j;
          if (const int c = attnsim::test::pair_multiplicity(p, head, i, j); c > 0) {
            expected[{head, q, k}] = c;
            total += c;
          }
        }
      }
    }
    CHECK(forward == expected);
    const models::TokenSet qs{m.q_position, m.q_position_stride, p.seq_q};
    const models::TokenSet ks{m.k_position, m.k_position_stride, p.seq_k};
    const models::MaskBlock block = models::mask_block(to_spec(p), n, p.heads, 0, p.heads, qs, ks);
    CHECK(block.pairs == total);
  }
}

TEST_CASE("dilated rows outside every sub-problem are exactly the uncovered rows", "[property]") {
  std::mt19937_64 rng(77);
  for (int trial = 0; trial < 300; ++trial) {
    kernels::AttentionProblem p;
    do {
      p = random_problem(rng, uniform(rng, 1, 60));
    } while (p.mask.kind != kernels::MaskKind::kDilated);
    std::set<std::pair<int, Index>> in_some;
    for (const ix::LaunchGeometry& g : kernels::plan::launches(p)) {
      for (int head = g.head_begin; head < g.head_begin + g.head_count; ++head) {
        for (Index s = 0; s < g.problems; ++s) {
          const ix::SubProblem sp = ix::sub_problem(g, head, s);
          for (Index i = 0; i < sp.q_rows.count; ++i) {
            REQUIRE(ix::at(sp.q_rows, i) < p.seq_q);
            in_some.insert({head, ix::at(sp.q_rows, i)});
          }
        }
      }
    }
    for (int head = 0; head < p.heads; ++head) {
      for (Index pos = 0; pos < p.seq_q; ++pos) {
        INFO("trial " << trial << " head " << head << " row " << pos);
        CHECK(ix::dilated_row_covered(p.mask.dilated, p.heads, head, pos) ==
              (in_some.count({head, pos}) == 1));
      }
    }
  }
}

TEST_CASE("head groups split heads as mask.h does, the first h mod k groups one larger", "[unit]") {
  // 7 heads in 3 groups: sizes 3, 2, 2 -> groups start at 0, 3, 5 and end at 7.
  CHECK(ix::head_group_begin(7, 3, 0) == 0);
  CHECK(ix::head_group_begin(7, 3, 1) == 3);
  CHECK(ix::head_group_begin(7, 3, 2) == 5);
  CHECK(ix::head_group_begin(7, 3, 3) == 7);
  CHECK(ix::head_group_of(7, 3, 4) == 1);
  // 2 heads in 3 groups: the last group is empty (no launch).
  CHECK(ix::head_group_begin(2, 3, 2) == 2);
  CHECK(ix::head_group_begin(2, 3, 3) == 2);
}

TEST_CASE("floor and ceiling division round towards minus and plus infinity", "[unit]") {
  CHECK(ix::floor_div(-7, 2) == -4);
  CHECK(ix::floor_div(7, 2) == 3);
  CHECK(ix::ceil_div(-7, 2) == -3);
  CHECK(ix::ceil_div(7, 2) == 4);
  CHECK(ix::mod(-7, 3) == 2);
}
