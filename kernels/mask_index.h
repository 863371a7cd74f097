// SPDX-License-Identifier: Apache-2.0
// The index logic of the attention kernels, as small functions that compile both as CUDA
// (__host__ __device__) and as plain C++, so that tests/kernels checks them exhaustively on a
// CPU: the mask predicate, the tile ranges the loops visit, and the dilated sub-problems.
//
// A launch runs a set of sub-problems per head. A sub-problem is a dense attention problem
// whose query i reads memory row q_rows[i] and sits at position q_pos[i] (likewise keys), and
// whose pairs are filtered by a PairMask on positions. Dense, causal and sliding-window masks
// are one sub-problem per head; a dilated branch (w, r) at offset o is one sub-problem per
// segment: rows = positions = s·w' + o + r·i, w' = min(w, N) (mask.h: a segment longer than the
// sequence cuts it like one of exactly its length).
#pragma once

#include <cstdint>

#include "kernels/attention.h"

#if defined(__CUDACC__)
#define ATTNSIM_HD __host__ __device__
#else
#define ATTNSIM_HD
#endif

namespace attnsim::kernels::index {

using Index = std::int64_t;

ATTNSIM_HD constexpr Index min_of(Index a, Index b) {
  return a < b ? a : b;
}

ATTNSIM_HD constexpr Index max_of(Index a, Index b) {
  return a < b ? b : a;
}

/// floor(a / b) for b > 0.
ATTNSIM_HD constexpr Index floor_div(Index a, Index b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/// ceil(a / b) for b > 0.
ATTNSIM_HD constexpr Index ceil_div(Index a, Index b) {
  return -floor_div(-a, b);
}

/// a mod b in [0, b) for b > 0.
ATTNSIM_HD constexpr Index mod(Index a, Index b) {
  return a - b * floor_div(a, b);
}

/// first + step·i for i in [0, count); step >= 1.
struct Span {
  Index first = 0;
  Index step = 1;
  Index count = 0;
};

ATTNSIM_HD constexpr Index at(Span s, Index i) {
  return s.first + s.step * i;
}

/// Indices i of s with position at(s, i) < p, i.e. the first index at or after p.
ATTNSIM_HD constexpr Index count_before(Span s, Index p) {
  return min_of(max_of(ceil_div(p - s.first, s.step), 0), s.count);
}

/// [begin, end) of indices; empty when begin >= end.
struct Range {
  Index begin = 0;
  Index end = 0;
};

/// The pairs one sub-problem keeps, by position: k <= q when causal, q - window < k when
/// window > 0 (sliding_window sets both).
struct PairMask {
  bool causal = false;
  Index window = 0;
};

ATTNSIM_HD constexpr bool keep(PairMask m, Index q, Index k) {
  return (!m.causal || k <= q) && (m.window <= 0 || k > q - m.window);
}

/// Keys j of `k` that some query in rows [i0, i1) of `q` keeps (a superset for strided
/// positions, exact at the ends): what a forward CTA owning those queries visits.
/// Preconditions: 0 <= i0 < i1 <= q.count.
ATTNSIM_HD constexpr Range kept_keys(PairMask m, Span q, Span k, Index i0, Index i1) {
  Range r{0, k.count};
  const Index q_last = at(q, i1 - 1);
  if (m.causal) {
    r.end = count_before(k, q_last + 1);
  }
  if (m.window > 0) {
    r.begin = count_before(k, at(q, i0) - m.window + 1);
  }
  return r;
}

/// Queries i of `q` that keep some key in rows [j0, j1) of `k`: what a backward CTA owning
/// those keys visits. Preconditions: 0 <= j0 < j1 <= k.count.
ATTNSIM_HD constexpr Range kept_queries(PairMask m, Span q, Span k, Index j0, Index j1) {
  Range r{0, q.count};
  if (m.causal) {
    r.begin = count_before(q, at(k, j0));
  }
  if (m.window > 0) {
    r.end = count_before(q, at(k, j1 - 1) + m.window);
  }
  return r;
}

/// Tiles of `tile` rows that cover the rows of r: [floor(begin/tile), ceil(end/tile)).
ATTNSIM_HD constexpr Range tiles_of(Range r, Index tile) {
  if (r.begin >= r.end) {
    return Range{0, 0};
  }
  return Range{r.begin / tile, ceil_div(r.end, tile)};
}

// ---- dilated (LongNet) geometry -----------------------------------------------------------

/// Segment length in effect: a segment longer than the sequence cuts it like one of n tokens.
ATTNSIM_HD constexpr Index effective_segment(Index w, Index n) {
  return min_of(w, n);
}

/// Segments of branch w over n tokens (the last may be short).
ATTNSIM_HD constexpr Index segment_count(Index w, Index n) {
  return ceil_div(n, effective_segment(w, n));
}

/// Positions of segment `s` of branch (w, r) with residue `offset` (0 <= offset < r).
ATTNSIM_HD constexpr Span dilated_span(Index n, Index w, Index r, Index offset, Index s) {
  const Index we = effective_segment(w, n);
  const Index start = s * we;
  const Index len = min_of(we, n - start);
  return Span{start + offset, r, offset < len ? ceil_div(len - offset, r) : 0};
}

/// Most rows a sub-problem of branch (w, r) has: ceil(min(w, n) / r).
ATTNSIM_HD constexpr Index dilated_rows(Index w, Index r, Index n) {
  return ceil_div(effective_segment(w, n), r);
}

/// First head of group g when `heads` heads are split into `groups` contiguous groups, the
/// first heads mod groups of them one head larger (fkodom; mask.h).
ATTNSIM_HD constexpr int head_group_begin(int heads, int groups, int g) {
  return g * (heads / groups) + (g < heads % groups ? g : heads % groups);
}

/// The group head `head` belongs to.
ATTNSIM_HD constexpr int head_group_of(int heads, int groups, int head) {
  int g = 0;
  while (g + 1 < groups && head_group_begin(heads, groups, g + 1) <= head) {
    ++g;
  }
  return g;
}

/// Whether head `head` runs branch `branch`, and with which residue.
ATTNSIM_HD constexpr bool runs_branch(const DilatedMask& d, int heads, int head, int branch) {
  return d.heads == DilatedHeads::kAllHeads || head_group_of(heads, d.branches, head) == branch;
}

ATTNSIM_HD constexpr Index branch_offset(const DilatedMask& d, int head, int branch) {
  const Index r = d.dilation_rates[branch];
  return d.heads == DilatedHeads::kAllHeads ? head % r : branch % r;
}

/// Whether row (position) `pos` of head `head` is a query or key of some branch the head runs.
/// Rows that are not get O = 0, LSE = -inf and zero gradients.
ATTNSIM_HD constexpr bool dilated_row_covered(const DilatedMask& d, int heads, int head,
                                              Index pos) {
  for (int b = 0; b < d.branches; ++b) {
    if (runs_branch(d, heads, head, b) && pos % d.dilation_rates[b] == branch_offset(d, head, b)) {
      return true;
    }
  }
  return false;
}

// ---- one launch ---------------------------------------------------------------------------

/// What one kernel launch computes: heads [head_begin, head_begin + head_count) of every batch
/// entry, `problems` sub-problems per head (one, or one per segment of the dilated branch).
struct LaunchGeometry {
  int head_begin = 0;
  int head_count = 0;
  Index problems = 1;
  Index max_q_rows = 0;  // most query rows of a sub-problem (grid sizing)
  Index max_k_rows = 0;
  // Dense, causal, sliding window: positions of row 0 and their strides.
  Span q_pos;
  Span k_pos;
  PairMask mask;
  // Dilated branch (branch >= 0): w, r, the offsets' rule, the sequence length.
  int branch = -1;
  Index segment = 0;
  Index rate = 1;
  Index tokens = 0;
  DilatedMask dilated;
};

/// A sub-problem: memory rows and positions of its queries and keys, and its pair mask.
struct SubProblem {
  Span q_rows;
  Span k_rows;
  Span q_pos;
  Span k_pos;
  PairMask mask;
};

/// Sub-problem p of head `head` in launch g.
ATTNSIM_HD constexpr SubProblem sub_problem(const LaunchGeometry& g, int head, Index p) {
  if (g.branch < 0) {
    return SubProblem{Span{0, 1, g.q_pos.count}, Span{0, 1, g.k_pos.count}, g.q_pos, g.k_pos,
                      g.mask};
  }
  const Index o = branch_offset(g.dilated, head, g.branch);
  const Span s = dilated_span(g.tokens, g.segment, g.rate, o, p);
  return SubProblem{s, s, s, s, g.mask};
}

}  // namespace attnsim::kernels::index
