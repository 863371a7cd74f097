// SPDX-License-Identifier: Apache-2.0
// The layout kernels' row maps (kernels/layout_index.h), run on a CPU by the same loop the
// copy kernel runs: the ring reorders against ring.cpp's shards, a Ulysses all-to-all round
// trip over emulated ranks, and the dilated gather against mask.h's residue classes.
#include "kernels/layout_index.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

#include "config/node.h"
#include "kernels/layout.h"
#include "kernels/plan.h"
#include "models/strategies/ring.h"

namespace kernels = attnsim::kernels;
namespace ix = attnsim::kernels::index;
using ix::Index;

namespace {

Index uniform(std::mt19937_64& rng, Index lo, Index hi) {
  return lo + static_cast<Index>(rng() % static_cast<std::uint64_t>(hi - lo + 1));
}

// The copy kernel on a CPU: for every row of the map, `width` elements from src to dst.
template <class Map>
void copy_rows(const Map& map, Index width, const std::vector<Index>& src,
               std::vector<Index>& dst) {
  for (Index row = 0; row < map.rows(); ++row) {
    const ix::RowCopy c = map(row);
    if (c.dst < 0) {
      continue;
    }
    for (Index e = 0; e < width; ++e) {
      dst.at(static_cast<std::size_t>(c.dst + e)) =
          c.src < 0 ? 0 : src.at(static_cast<std::size_t>(c.src + e));
    }
  }
}

// A padded view: token rows hold `heads` heads of `width` elements plus 3 spare elements.
ix::View padded(Index tokens, Index heads, Index width) {
  const Index token = heads * width + 3;
  return ix::View{tokens * token + 5, token, width};
}

// Value of element e of row (b, t, h) in a test tensor: unique and never 0.
Index value(Index b, Index t, Index h, Index e) {
  return 1 + e + 10 * (h + 100 * (t + 1000 * b));
}

}  // namespace

TEST_CASE("ring reorders list each rank's shard as ring.cpp does, and restore inverts them",
          "[unit]") {
  using Layout = attnsim::models::RingLayout;
  for (const auto& [ours, theirs] :
       {std::pair{kernels::RingLayout::kContiguous, Layout::kContiguous},
        std::pair{kernels::RingLayout::kZigzag, Layout::kZigzag},
        std::pair{kernels::RingLayout::kStriped, Layout::kStriped}}) {
    const attnsim::models::RingAttention ring(theirs, attnsim::config::Node::parse_text("t", "{}"));
    for (int p = 1; p <= 8; ++p) {
      for (const Index n : {Index{2} * p * 1, Index{2} * p * 3, Index{2} * p * 8}) {
        INFO("layout " << static_cast<int>(ours) << ", " << p << " ranks, " << n << " tokens");
        std::vector<Index> order;  // ring.cpp's order: rank 0's tokens, rank 1's, ...
        for (int r = 0; r < p; ++r) {
          for (const attnsim::models::TokenSet& s : ring.shard(n, p, r)) {
            for (Index j = 0; j < s.count; ++j) {
              order.push_back(s.start + s.stride * j);
            }
          }
        }
        REQUIRE(static_cast<Index>(order.size()) == n);
        for (Index i = 0; i < n; ++i) {
          CHECK(ix::ring_source(ours, n, p, i) == order[static_cast<std::size_t>(i)]);
          CHECK(ix::ring_destination(ours, n, p, ix::ring_source(ours, n, p, i)) == i);
        }
      }
    }
  }
}

TEST_CASE("a reorder then a restore through strided views gives back the tensor", "[unit]") {
  const Index batch = 2;
  const Index n = 24;
  const Index heads = 3;
  const Index width = 4;
  const ix::View view = padded(n, heads, width);
  std::vector<Index> in(static_cast<std::size_t>(batch * view.batch_stride), 0);
  for (Index b = 0; b < batch; ++b) {
    for (Index t = 0; t < n; ++t) {
      for (Index h = 0; h < heads; ++h) {
        for (Index e = 0; e < width; ++e) {
          in[static_cast<std::size_t>(ix::row_offset(view, b, t, h) + e)] = value(b, t, h, e);
        }
      }
    }
  }
  for (const auto layout : {kernels::RingLayout::kContiguous, kernels::RingLayout::kZigzag,
                            kernels::RingLayout::kStriped}) {
    ix::RingMap map{layout, n, 4, batch, heads, view, view, false};
    std::vector<Index> reordered(in.size(), 0);
    copy_rows(map, width, in, reordered);
    // Row i of the reordered tensor holds original token ring_source(i).
    const Index i = 7;
    CHECK(reordered[static_cast<std::size_t>(ix::row_offset(view, 1, i, 2))] ==
          value(1, ix::ring_source(layout, n, 4, i), 2, 0));
    map.restore = true;
    std::vector<Index> back(in.size(), 0);
    copy_rows(map, width, reordered, back);
    CHECK(back == in);
  }
}

TEST_CASE("Ulysses pack, all-to-all and unpack turn sequence shards into head shards and back",
          "[property]") {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 40; ++trial) {
    const Index p = uniform(rng, 1, 4);
    const Index batch = uniform(rng, 1, 3);
    const Index s = p * uniform(rng, 1, 4);
    const Index h = p * uniform(rng, 1, 3);
    const Index width = uniform(rng, 1, 3);
    const Index sl = s / p;
    const Index hp = h / p;
    const ix::View x_view = padded(sl, h, width);
    const ix::View y_view = padded(s, hp, width);
    const Index chunk = batch * sl * hp * width;
    std::vector<std::vector<Index>> x(static_cast<std::size_t>(p));
    std::vector<std::vector<Index>> send(static_cast<std::size_t>(p));
    for (Index r = 0; r < p; ++r) {
      auto& xr = x[static_cast<std::size_t>(r)];
      xr.assign(static_cast<std::size_t>(batch * x_view.batch_stride), 0);
      for (Index b = 0; b < batch; ++b) {
        for (Index t = 0; t < sl; ++t) {
          for (Index hd = 0; hd < h; ++hd) {
            for (Index e = 0; e < width; ++e) {
              xr[static_cast<std::size_t>(ix::row_offset(x_view, b, t, hd) + e)] =
                  value(b, r * sl + t, hd, e);
            }
          }
        }
      }
      send[static_cast<std::size_t>(r)].assign(static_cast<std::size_t>(p * chunk), 0);
      copy_rows(ix::UlyssesMap{p, batch, sl, hp, width, x_view, true, true}, width, xr,
                send[static_cast<std::size_t>(r)]);
    }
    // The all-to-all: rank r receives chunk r of every rank p' into its chunk p'.
    const auto all_to_all = [&](const std::vector<std::vector<Index>>& out) {
      std::vector<std::vector<Index>> in(out.size(), std::vector<Index>(out[0].size()));
      for (Index r = 0; r < p; ++r) {
        for (Index from = 0; from < p; ++from) {
          std::copy_n(out[static_cast<std::size_t>(from)].begin() + r * chunk, chunk,
                      in[static_cast<std::size_t>(r)].begin() + from * chunk);
        }
      }
      return in;
    };
    const std::vector<std::vector<Index>> recv = all_to_all(send);
    std::vector<std::vector<Index>> back_send(static_cast<std::size_t>(p));
    for (Index r = 0; r < p; ++r) {
      std::vector<Index> y(static_cast<std::size_t>(batch * y_view.batch_stride), 0);
      copy_rows(ix::UlyssesMap{p, batch, sl, hp, width, y_view, false, false}, width,
                recv[static_cast<std::size_t>(r)], y);
      for (Index b = 0; b < batch; ++b) {
        for (Index t = 0; t < s; ++t) {
          for (Index hh = 0; hh < hp; ++hh) {
            INFO("trial " << trial << " rank " << r << " token " << t << " head " << hh);
            REQUIRE(y[static_cast<std::size_t>(ix::row_offset(y_view, b, t, hh))] ==
                    value(b, t, r * hp + hh, 0));
          }
        }
      }
      back_send[static_cast<std::size_t>(r)].assign(static_cast<std::size_t>(p * chunk), 0);
      copy_rows(ix::UlyssesMap{p, batch, sl, hp, width, y_view, false, true}, width, y,
                back_send[static_cast<std::size_t>(r)]);
    }
    const std::vector<std::vector<Index>> back = all_to_all(back_send);
    for (Index r = 0; r < p; ++r) {
      std::vector<Index> xr(x[static_cast<std::size_t>(r)].size(), 0);
      copy_rows(ix::UlyssesMap{p, batch, sl, hp, width, x_view, true, false}, width,
                back[static_cast<std::size_t>(r)], xr);
      CHECK(xr == x[static_cast<std::size_t>(r)]);
    }
  }
}

TEST_CASE("the dilated gather takes each segment's residue rows in order; scatter puts them back",
          "[property]") {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    kernels::DilatedSelection sel;
    kernels::DilatedMask& d = sel.dilated;
    d.branches = static_cast<int>(uniform(rng, 1, 3));
    d.heads = uniform(rng, 0, 1) == 0 ? kernels::DilatedHeads::kHeadGroups
                                      : kernels::DilatedHeads::kAllHeads;
    for (int b = 0; b < d.branches; ++b) {
      d.dilation_rates[b] = uniform(rng, 1, 4);
      d.segment_lengths[b] = d.dilation_rates[b] * uniform(rng, 1, 6);
    }
    const Index n = uniform(rng, 1, 40);
    const int heads = static_cast<int>(uniform(rng, 1, 5));
    sel.branch = static_cast<int>(uniform(rng, 0, d.branches - 1));
    sel.head_begin = static_cast<int>(uniform(rng, 0, heads - 1));
    sel.head_count = static_cast<int>(uniform(rng, 1, heads - sel.head_begin));
    const Index width = 2;
    const kernels::RowShape shape{2, 1, n, heads, 8};
    REQUIRE_NOTHROW(attnsim::kernels::plan::check_selection(shape, sel));
    const Index w = std::min(d.segment_lengths[sel.branch], n);
    const Index r = d.dilation_rates[sel.branch];
    const Index slots = ix::gathered_tokens(n, d.segment_lengths[sel.branch], r);
    const ix::View dense = padded(n, heads, width);
    const ix::View gathered = padded(slots, sel.head_count, width);
    std::vector<Index> x(static_cast<std::size_t>(dense.batch_stride), 0);
    for (Index t = 0; t < n; ++t) {
      for (Index h = 0; h < heads; ++h) {
        for (Index e = 0; e < width; ++e) {
          x[static_cast<std::size_t>(ix::row_offset(dense, 0, t, h) + e)] = value(0, t, h, e);
        }
      }
    }
    ix::GatherMap map{n, 1, sel.head_begin, sel.head_count, sel.branch, d, dense, gathered, false};
    std::vector<Index> g(static_cast<std::size_t>(gathered.batch_stride), -1);
    copy_rows(map, width, x, g);
    for (int hh = 0; hh < sel.head_count; ++hh) {
      const int head = sel.head_begin + hh;
      const Index o = (d.heads == kernels::DilatedHeads::kAllHeads ? head : sel.branch) % r;
      // mask.h: segment s holds positions [s·w, s·w + w) ∩ [0, n); the branch keeps those ≡ o.
      std::vector<Index> expected;
      for (Index s = 0; s * w < n; ++s) {
        std::vector<Index> seg;
        for (Index t = s * w; t < std::min(s * w + w, n); ++t) {
          if (t % r == o) {
            seg.push_back(value(0, t, head, 0));
          }
        }
        seg.resize(static_cast<std::size_t>(ix::ceil_div(w, r)), 0);  // padding slots: zeros
        expected.insert(expected.end(), seg.begin(), seg.end());
      }
      std::vector<Index> got;
      for (Index slot = 0; slot < slots; ++slot) {
        got.push_back(g[static_cast<std::size_t>(ix::row_offset(gathered, 0, slot, hh))]);
      }
      INFO("trial " << trial << " head " << head);
      CHECK(got == expected);
    }
    map.scatter = true;
    std::vector<Index> y(x.size(), -7);
    copy_rows(map, width, g, y);
    for (Index t = 0; t < n; ++t) {
      for (int h = 0; h < heads; ++h) {
        const bool selected = h >= sel.head_begin && h < sel.head_begin + sel.head_count &&
                              t % r == ix::branch_offset(d, h, sel.branch);
        const Index at = ix::row_offset(dense, 0, t, h);
        CHECK(y[static_cast<std::size_t>(at)] ==
              (selected ? x[static_cast<std::size_t>(at)] : Index{-7}));
      }
    }
  }
}
