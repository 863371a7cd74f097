// SPDX-License-Identifier: Apache-2.0
// Exact mask counts over arithmetic-progression token sets (mask.h): floor sums for dense,
// causal and sliding window; segment sums with periodic compression for dilated attention.
#include "models/attention/mask.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace attnsim::models {

namespace {

using Int = std::int64_t;

// Positions below 2^31 keep every product of two positions or counts below 2^62, and keep
// floor_sum's arguments below 2^32 as its unsigned form needs.
constexpr Int kMaxSequence = Int{1} << 31;
// Needed keys of a kAllHeads head use inclusion-exclusion over its branches: 2^branches terms.
constexpr std::size_t kMaxBranches = 16;
// A period longer than any run of units: no compression.
constexpr Int kNoPeriod = Int{1} << 62;

[[noreturn]] void fail(const std::string& what) {
  throw std::logic_error("mask_block: " + what);
}

// Floor and ceiling of a / b for b > 0, any sign of a.
Int floor_div(Int a, Int b) {
  const Int q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

Int ceil_div(Int a, Int b) {
  return -floor_div(-a, b);
}

Int mod(Int a, Int m) {
  const Int r = a % m;
  return r < 0 ? r + m : r;
}

// lcm(a, b), or kNoPeriod when it would reach 2^62.
Int capped_lcm(Int a, Int b) {
  const Int step = b / std::gcd(a, b);
  Int product = 0;
  if (__builtin_mul_overflow(a, step, &product) || product >= kNoPeriod) {
    return kNoPeriod;
  }
  return product;
}

// Σ_{i<n} floor((a·i + b)/m) for n, a, b >= 0 and m >= 1: AtCoder Library's floor_sum
// (Euclid-like reduction, O(log m) rounds) in its unsigned form, exact for n, m < 2^32 and a
// result below 2^63.
Int floor_sum(Int n, Int m, Int a, Int b) {
  auto un = static_cast<std::uint64_t>(n);
  auto um = static_cast<std::uint64_t>(m);
  auto ua = static_cast<std::uint64_t>(a);
  auto ub = static_cast<std::uint64_t>(b);
  std::uint64_t sum = 0;
  while (true) {
    if (ua >= um) {
      sum += un * (un - 1) / 2 * (ua / um);
      ua %= um;
    }
    if (ub >= um) {
      sum += un * (ub / um);
      ub %= um;
    }
    const std::uint64_t y_max = ua * un + ub;
    if (y_max < um) {
      break;
    }
    un = y_max / um;
    ub = y_max % um;
    std::swap(um, ua);
  }
  return static_cast<Int>(sum);
}

// x with a·x ≡ 1 (mod m), for gcd(a, m) = 1 (extended Euclid); 0 when m = 1.
Int inverse_mod(Int a, Int m) {
  Int r0 = mod(a, m);
  Int r1 = m;
  Int s0 = 1;
  Int s1 = 0;
  while (r1 != 0) {
    const Int q = r0 / r1;
    r0 = std::exchange(r1, r0 - q * r1);
    s0 = std::exchange(s1, s0 - q * s1);
  }
  return mod(s0, m);
}

// The integers j ≡ rem (mod mod), or none.
struct ResidueClass {
  Int rem = 0;
  Int mod = 1;
  bool empty = false;
};

// Indices j with first + stride·j ≡ offset (mod rate): one class modulo rate/gcd(stride, rate).
ResidueClass index_class(Int first, Int stride, Int offset, Int rate) {
  const Int g = std::gcd(stride, rate);
  const Int diff = mod(offset - first, rate);
  if (diff % g != 0) {
    return {0, 1, true};
  }
  const Int m = rate / g;
  return {(diff / g) % m * inverse_mod(stride / g, m) % m, m, false};
}

// Both classes at once (Chinese remainder theorem, moduli not necessarily coprime).
ResidueClass intersect(const ResidueClass& x, const ResidueClass& y) {
  if (x.empty || y.empty) {
    return {0, 1, true};
  }
  const Int g = std::gcd(x.mod, y.mod);
  if (mod(y.rem - x.rem, g) != 0) {
    return {0, 1, true};
  }
  const Int m2 = y.mod / g;
  const Int t = mod((y.rem - x.rem) / g, m2) * inverse_mod(x.mod / g, m2) % m2;
  const Int l = capped_lcm(x.mod, y.mod);
  if (l == kNoPeriod) {
    fail("the lcm of the dilation rates must stay below 2^62");
  }
  return {x.rem + x.mod * t, l, false};
}

// How many j in [j0, j1] lie in class c.
Int count_in_class(const ResidueClass& c, Int j0, Int j1) {
  if (c.empty || j1 < j0) {
    return 0;
  }
  return floor_div(j1 - c.rem, c.mod) - floor_div(j0 - 1 - c.rem, c.mod);
}

// first, first + stride, ..., first + (count - 1)·stride; stride is 1 when count <= 1, so that
// every stride in use is at most the sequence length.
struct Ap {
  Int first = 0;
  Int stride = 1;
  Int count = 0;

  bool empty() const { return count <= 0; }

  Int last() const { return first + stride * (count - 1); }
};

Ap make_ap(Int first, Int stride, Int count) {
  if (count <= 0) {
    return {};
  }
  return {first, count == 1 ? 1 : stride, count};
}

// The points of a in [lo, hi].
Ap clip(const Ap& a, Int lo, Int hi) {
  if (a.empty() || hi < lo) {
    return {};
  }
  const Int i0 = std::max<Int>(0, ceil_div(lo - a.first, a.stride));
  const Int i1 = std::min(a.count - 1, floor_div(hi - a.first, a.stride));
  return i0 > i1 ? Ap{} : make_ap(a.first + a.stride * i0, a.stride, i1 - i0 + 1);
}

// The points of a congruent to offset modulo rate: an AP of stride lcm(stride, rate).
Ap restrict_residue(const Ap& a, Int offset, Int rate) {
  if (a.empty() || rate == 1) {
    return a;
  }
  const ResidueClass c = index_class(a.first, a.stride, offset, rate);
  if (c.empty || c.rem >= a.count) {
    return {};
  }
  return make_ap(a.first + a.stride * c.rem, a.stride * c.mod, (a.count - 1 - c.rem) / c.mod + 1);
}

// #{k in keys : k <= x}.
Int count_le(const Ap& keys, Int x) {
  if (keys.empty() || x < keys.first) {
    return 0;
  }
  return std::min(keys.count, floor_div(x - keys.first, keys.stride) + 1);
}

// Σ_{q in queries} #{k in keys : k <= q + delta}. Queries below keys.first count 0, those at or
// past keys.last() count keys.count, and the ones between count floor((q + delta - k0)/s_k) + 1,
// a floor sum over their index. O(log) time.
Int sum_count_le(const Ap& queries, const Ap& keys, Int delta) {
  if (queries.empty() || keys.empty()) {
    return 0;
  }
  const Int qn = queries.count;
  const Int i_lo =
      std::clamp<Int>(ceil_div(keys.first - delta - queries.first, queries.stride), 0, qn);
  const Int i_hi =
      std::clamp<Int>(ceil_div(keys.last() - delta - queries.first, queries.stride), i_lo, qn);
  const Int n = i_hi - i_lo;
  Int middle = 0;
  if (n > 0) {
    const Int b = queries.first + queries.stride * i_lo + delta - keys.first;  // >= 0
    middle = floor_sum(n, keys.stride, queries.stride, b) + n;
  }
  return middle + (qn - i_hi) * keys.count;
}

// Calls body(u, multiplicity) so that Σ body(u)·multiplicity equals the sum of body over every
// unit u (positions [u·unit, (u+1)·unit)) that meets the spans of both q and k, provided body(u)
// depends only on the points of q and of k inside unit u and is 0 when either has none there.
// Units holding an end point of q or k are evaluated one by one; between them both sets cover
// whole units, and the points a unit holds depend only on (u·unit - first) mod stride, which
// repeats every T = lcm(s_q/gcd(unit, s_q), s_k/gcd(unit, s_k)) units; a run shorter than T
// visits only the units holding a point of the sparser set. Cost: at most
// 4 + 3·min(T, units, points of the sparser set) calls of body.
template <class Body>
void for_units(Int unit, const Ap& q, const Ap& k, Body&& body) {
  if (q.empty() || k.empty()) {
    return;
  }
  const Int lo = std::max(q.first / unit, k.first / unit);
  const Int hi = std::min(q.last() / unit, k.last() / unit);
  if (lo > hi) {
    return;
  }
  std::array<Int, 4> ends = {q.first / unit, q.last() / unit, k.first / unit, k.last() / unit};
  std::sort(ends.begin(), ends.end());
  const Int period =
      capped_lcm(q.stride / std::gcd(unit, q.stride), k.stride / std::gcd(unit, k.stride));
  const auto run = [&](Int a, Int b) {  // the whole units a..b
    const Int n = b - a + 1;
    if (n > period) {
      for (Int t = 0; t < period; ++t) {
        body(a + t, (n - 1 - t) / period + 1);
      }
      return;
    }
    const Ap qa = clip(q, a * unit, b * unit + unit - 1);
    const Ap ka = clip(k, a * unit, b * unit + unit - 1);
    const Ap& sparse = qa.count <= ka.count ? qa : ka;
    if (sparse.count >= n) {
      for (Int u = a; u <= b; ++u) {
        body(u, Int{1});
      }
      return;
    }
    Int done = a - 1;  // the points come in increasing order: visit each of their units once
    for (Int i = 0; i < sparse.count; ++i) {
      const Int u = (sparse.first + sparse.stride * i) / unit;
      if (u != done) {
        body(u, Int{1});
        done = u;
      }
    }
  };
  Int next = lo;  // first unit not yet summed
  for (const Int e : ends) {
    if (e < next || e > hi) {
      continue;
    }
    if (e > next) {
      run(next, e - 1);
    }
    body(e, Int{1});
    next = e + 1;
  }
  if (next <= hi) {
    run(next, hi);
  }
}

// Sums behind a MaskBlock: pair-weighted logs give the geometric-mean tile.
struct Totals {
  double pairs = 0;
  double unmasked_pairs = 0;  // the same sub-problems without the causal mask
  double needed_keys = 0;
  double log_q = 0;
  double log_k = 0;

  void add_tile(double kept, double unmasked, double tile_q, double tile_k) {
    pairs += kept;
    unmasked_pairs += unmasked;
    if (kept > 0) {
      log_q += kept * std::log(tile_q);
      log_k += kept * std::log(tile_k);
    }
  }
};

// One dilated branch a head runs: segment length w_i, dilation rate r_i, offset o.
struct BranchRun {
  std::size_t branch = 0;
  Int offset = 0;
};

// Heads that behave identically: the same branches with the same offsets.
struct HeadClass {
  std::vector<BranchRun> runs;
  Int heads = 0;
};

std::vector<HeadClass> head_classes(const AttentionSpec& spec, int total_heads, int head_begin,
                                    int head_end) {
  const std::vector<Int>& rates = spec.dilation_rates;
  const std::size_t branches = rates.size();
  std::vector<HeadClass> classes;
  if (spec.dilated_heads == DilatedHeads::kHeadGroups) {
    // fkodom's groups: h/k heads each, the first h mod k groups one more, in head order.
    const Int k = static_cast<Int>(branches);
    const Int base = total_heads / k;
    const Int extra = total_heads % k;
    for (std::size_t i = 0; i < branches; ++i) {
      const Int gi = static_cast<Int>(i);
      const Int group_begin = gi * base + std::min(gi, extra);
      const Int group_end = group_begin + base + (gi < extra ? 1 : 0);
      const Int heads = std::min<Int>(group_end, head_end) - std::max<Int>(group_begin, head_begin);
      if (heads > 0) {
        classes.push_back({{{i, gi % rates[i]}}, heads});
      }
    }
    return classes;
  }
  // kAllHeads: head j runs every branch with offset j mod r_i, a function of j mod lcm(r_i).
  const Int span = head_end - head_begin;
  Int period = 1;
  for (const Int r : rates) {
    period = std::min(capped_lcm(period, r), span + 1);
  }
  const auto runs_of = [&](Int j) {
    std::vector<BranchRun> runs;
    for (std::size_t i = 0; i < branches; ++i) {
      runs.push_back({i, j % rates[i]});
    }
    return runs;
  };
  if (period <= span) {
    for (Int c = 0; c < period; ++c) {
      const Int heads = floor_div(head_end - 1 - c, period) - floor_div(head_begin - 1 - c, period);
      classes.push_back({runs_of(c), heads});
    }
  } else {
    for (Int j = head_begin; j < head_end; ++j) {
      classes.push_back({runs_of(j), 1});
    }
  }
  return classes;
}

// Branch i's segment length; a segment longer than the sequence cuts it the same way as one of
// exactly the sequence's length, which keeps every product of positions small.
Int segment_length(const AttentionSpec& spec, Int sequence_length, std::size_t branch) {
  return std::min(spec.segment_lengths[branch], sequence_length);
}

// Pairs of branch (w, r) at one offset, `heads` heads: per segment, the residue-o queries and
// keys in it form a dense (or causal) sub-problem. Cost: for_units over segments, O(log) each.
void add_branch_pairs(const AttentionSpec& spec, Int sequence_length, std::size_t branch,
                      Int offset, Int heads, const Ap& q, const Ap& k, Totals& totals) {
  const Int w = segment_length(spec, sequence_length, branch);
  const Int r = spec.dilation_rates[branch];
  const Ap qr = restrict_residue(q, offset, r);
  const Ap kr = restrict_residue(k, offset, r);
  const auto h = static_cast<double>(heads);
  for_units(w, qr, kr, [&](Int u, Int multiplicity) {
    const Ap qs = clip(qr, u * w, u * w + w - 1);
    const Ap ks = clip(kr, u * w, u * w + w - 1);
    if (qs.empty() || ks.empty()) {
      return;
    }
    const Int unmasked = qs.count * ks.count;
    const Int kept = spec.causal ? sum_count_le(qs, ks, 0) : unmasked;
    const double weight = h * static_cast<double>(multiplicity);
    totals.add_tile(weight * static_cast<double>(kept), weight * static_cast<double>(unmasked),
                    static_cast<double>(qs.count), static_cast<double>(ks.count));
  });
}

// A closed range of key positions that branch `bit` of a head class needs.
struct Interval {
  int bit = 0;
  Int lo = 0;
  Int hi = 0;
};

// Distinct keys of k needed by one head class: a key is needed by run i when it is ≡ o_i
// (mod r_i) and lies in a w_i-segment holding a residue-o_i query (causal: at or before that
// segment's last such query). Units are lcm(w_i) long (every segment lies in one unit); inside
// a unit the needed ranges of all runs are swept, and each elementary range counts the keys in
// the union of its active runs' residue classes by inclusion-exclusion.
// Cost: for_units calls × (occupied segments in the unit + pieces·2^runs).
double class_needed_keys(const AttentionSpec& spec, Int sequence_length, const HeadClass& cls,
                         const Ap& q, const Ap& k) {
  const std::size_t n = cls.runs.size();
  Int unit = 1;
  for (const BranchRun& run : cls.runs) {
    unit =
        std::min(capped_lcm(unit, segment_length(spec, sequence_length, run.branch)), kMaxSequence);
  }
  if (unit > sequence_length) {
    unit = sequence_length;  // one unit holds the whole sequence
  }
  // classes[S]: key indices j whose position is in the residue class of every run in S.
  std::vector<ResidueClass> classes(std::size_t{1} << n);
  for (std::size_t s = 1; s < classes.size(); ++s) {
    const auto low = static_cast<std::size_t>(__builtin_ctzll(s));
    const BranchRun& run = cls.runs[low];
    classes[s] = intersect(classes[s & (s - 1)], index_class(k.first, k.stride, run.offset,
                                                             spec.dilation_rates[run.branch]));
  }
  const auto count_union = [&](std::size_t mask, Int lo, Int hi) {
    const Int j0 = std::max<Int>(0, ceil_div(lo - k.first, k.stride));
    const Int j1 = std::min(k.count - 1, floor_div(hi - k.first, k.stride));
    Int total = 0;
    if (j0 > j1) {
      return total;
    }
    for (std::size_t s = mask; s != 0; s = (s - 1) & mask) {
      const Int c = count_in_class(classes[s], j0, j1);
      total += (__builtin_popcountll(s) % 2 == 1) ? c : -c;
    }
    return total;
  };

  std::vector<Interval> intervals;
  std::vector<std::pair<Int, int>> events;  // (position, +bit+1 opens, -(bit+1) closes)
  double needed = 0;
  for_units(unit, q, k, [&](Int u, Int multiplicity) {
    const Ap qb = clip(q, u * unit, u * unit + unit - 1);
    const Ap kb = clip(k, u * unit, u * unit + unit - 1);
    if (qb.empty() || kb.empty()) {
      return;
    }
    intervals.clear();
    for (std::size_t bit = 0; bit < n; ++bit) {
      const BranchRun& run = cls.runs[bit];
      const Int w = segment_length(spec, sequence_length, run.branch);
      // Residue queries in the segments the keys span; segments holding none are skipped.
      const Ap qr = clip(restrict_residue(qb, run.offset, spec.dilation_rates[run.branch]),
                         floor_div(kb.first, w) * w, floor_div(kb.last(), w) * w + w - 1);
      Int next = qr.first;
      while (!qr.empty()) {
        const Int seg_lo = floor_div(next, w) * w;
        const Int seg_hi = seg_lo + w - 1;
        const Ap qs = clip(qr, seg_lo, seg_hi);  // holds `next`
        const Int lo = std::max(seg_lo, kb.first);
        const Int hi = std::min(spec.causal ? qs.last() : seg_hi, kb.last());
        if (lo <= hi) {
          if (!intervals.empty() && intervals.back().bit == static_cast<int>(bit) &&
              intervals.back().hi + 1 == lo) {
            intervals.back().hi = hi;
          } else {
            intervals.push_back({static_cast<int>(bit), lo, hi});
          }
        }
        if (qs.last() == qr.last()) {
          break;
        }
        next = qs.last() + qr.stride;
      }
    }
    events.clear();
    for (const Interval& iv : intervals) {
      events.emplace_back(iv.lo, iv.bit + 1);
      events.emplace_back(iv.hi + 1, -(iv.bit + 1));
    }
    std::sort(events.begin(), events.end());
    std::array<int, kMaxBranches> open{};
    std::size_t mask = 0;
    Int count = 0;
    for (std::size_t e = 0; e < events.size();) {
      const Int at = events[e].first;
      for (; e < events.size() && events[e].first == at; ++e) {
        const int code = events[e].second;
        const auto bit = static_cast<std::size_t>(code > 0 ? code - 1 : -code - 1);
        open[bit] += code > 0 ? 1 : -1;
        mask = open[bit] > 0 ? (mask | (std::size_t{1} << bit)) : (mask & ~(std::size_t{1} << bit));
      }
      if (mask != 0 && e < events.size()) {
        count += count_union(mask, at, events[e].first - 1);
      }
    }
    needed += static_cast<double>(count) * static_cast<double>(multiplicity);
  });
  return needed * static_cast<double>(cls.heads);
}

Totals dilated_totals(const AttentionSpec& spec, Int sequence_length, int total_heads,
                      int head_begin, int head_end, const Ap& q, const Ap& k) {
  const std::vector<HeadClass> classes = head_classes(spec, total_heads, head_begin, head_end);
  // Pairs add over branches: count each (branch, offset) once for all heads that run it.
  std::map<std::pair<std::size_t, Int>, Int> runs;
  for (const HeadClass& cls : classes) {
    for (const BranchRun& run : cls.runs) {
      runs[{run.branch, run.offset}] += cls.heads;
    }
  }
  Totals totals;
  for (const auto& [key, heads] : runs) {
    add_branch_pairs(spec, sequence_length, key.first, key.second, heads, q, k, totals);
  }
  for (const HeadClass& cls : classes) {
    totals.needed_keys += class_needed_keys(spec, sequence_length, cls, q, k);
  }
  return totals;
}

void check_set(const TokenSet& set, Int sequence_length, const char* name) {
  if (set.count < 0 || set.count > sequence_length) {
    fail(std::string(name) + ".count outside [0, sequence_length]");
  }
  if (set.count == 0) {
    return;
  }
  if (set.count > 1 && (set.stride < 1 || set.stride > sequence_length)) {
    fail(std::string(name) + ".stride outside [1, sequence_length]");
  }
  const Int stride = set.count > 1 ? set.stride : 1;
  if (set.start < 0 || set.start + stride * (set.count - 1) >= sequence_length) {
    fail(std::string(name) + " reaches outside [0, sequence_length)");
  }
}

void check_inputs(const AttentionSpec& spec, Int sequence_length, int total_heads, int head_begin,
                  int head_end, const TokenSet& q, const TokenSet& k) {
  if (spec.kind == AttentionKind::kLinear) {
    fail("linear attention has no score matrix to count");
  }
  if (spec.kind == AttentionKind::kSpatialTemporal) {
    fail("spatial_temporal attention is counted per axis (workload.h axis_attention())");
  }
  if (sequence_length < 1 || sequence_length > kMaxSequence) {
    fail("sequence_length outside [1, 2^31]");
  }
  if (head_begin < 0 || head_begin >= head_end || head_end > total_heads) {
    fail("heads outside 0 <= head_begin < head_end <= total_heads");
  }
  check_set(q, sequence_length, "q");
  check_set(k, sequence_length, "k");
  if (spec.kind == AttentionKind::kSlidingWindow && spec.window < 1) {
    fail("window < 1");
  }
  if (spec.kind == AttentionKind::kDilated) {
    const std::size_t branches = spec.segment_lengths.size();
    if (branches == 0 || branches != spec.dilation_rates.size() || branches > kMaxBranches) {
      fail("dilated branches: need 1 to 16, as many segment lengths as dilation rates");
    }
    for (std::size_t i = 0; i < branches; ++i) {
      const Int w = spec.segment_lengths[i];
      const Int r = spec.dilation_rates[i];
      if (w < 1 || r < 1 || r > kMaxSequence || w % r != 0) {
        fail("dilated branch needs w >= 1, 1 <= r <= 2^31 and r dividing w");
      }
    }
  }
}

}  // namespace

MaskBlock mask_block(const AttentionSpec& spec, std::int64_t sequence_length, int total_heads,
                     int head_begin, int head_end, TokenSet q, TokenSet k) {
  check_inputs(spec, sequence_length, total_heads, head_begin, head_end, q, k);
  const Ap qa = make_ap(q.start, q.stride, q.count);
  const Ap ka = make_ap(k.start, k.stride, k.count);
  MaskBlock out;
  if (qa.empty() || ka.empty()) {
    return out;
  }
  if (spec.kind == AttentionKind::kDilated) {
    const Totals t =
        dilated_totals(spec, sequence_length, total_heads, head_begin, head_end, qa, ka);
    out.pairs = t.pairs;
    out.needed_keys = t.needed_keys;
    if (t.pairs > 0) {
      out.tile_q = std::exp(t.log_q / t.pairs);
      out.tile_k = std::exp(t.log_k / t.pairs);
      out.causal_tiles = t.pairs < t.unmasked_pairs;
    }
    return out;
  }
  // Dense, causal, sliding window: one head in closed form, times the heads.
  const Int qn = qa.count;
  const Int kn = ka.count;
  Int kept = qn * kn;
  Int needed = kn;
  Int tile_q = qn;
  Int tile_k = kn;
  if (spec.kind == AttentionKind::kCausal) {
    kept = sum_count_le(qa, ka, 0);
    needed = count_le(ka, qa.last());
  } else if (spec.kind == AttentionKind::kSlidingWindow) {
    const Int w = spec.window;
    kept = sum_count_le(qa, ka, 0) - sum_count_le(qa, ka, -w);
    // The windows (q - w, q] are disjoint when the query stride is at least w (every kept pair
    // then has its own key); otherwise they overlap into (q_first - w, q_last].
    needed = qa.stride >= w ? kept : count_le(ka, qa.last()) - count_le(ka, qa.first - w);
    tile_q = std::min(qn, ceil_div(w, qa.stride));
    tile_k = std::min(kn, ceil_div(w, ka.stride));
  }
  const auto heads = static_cast<double>(head_end - head_begin);
  out.pairs = heads * static_cast<double>(kept);
  out.needed_keys = heads * static_cast<double>(needed);
  if (kept > 0) {
    out.tile_q = static_cast<double>(tile_q);
    out.tile_k = static_cast<double>(tile_k);
    out.causal_tiles = kept < qn * kn;
  }
  return out;
}

double pairs_per_head(const AttentionSpec& spec, std::int64_t sequence_length, int total_heads) {
  if (spec.kind == AttentionKind::kSpatialTemporal) {
    double pairs = 0;
    for (const AttentionAxis axis : attention_axes(spec)) {
      pairs +=
          pairs_per_head(axis_attention(spec, axis, sequence_length), sequence_length, total_heads);
    }
    return pairs;
  }
  const TokenSet all{0, 1, sequence_length};
  return mask_block(spec, sequence_length, total_heads, 0, total_heads, all, all).pairs /
         total_heads;
}

}  // namespace attnsim::models
