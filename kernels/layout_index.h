// SPDX-License-Identifier: Apache-2.0
// Index maps of the layout kernels (kernels/layout.h), __host__ __device__ so that tests check
// them on a CPU: the Ulysses all-to-all buffer, the ring reorders (models/strategies/ring.h
// RingLayout), and the dilated gather. Every layout kernel copies whole rows of head_dim
// elements; these maps say which row goes where.
#pragma once

#include "kernels/layout.h"
#include "kernels/mask_index.h"

namespace attnsim::kernels::index {

/// Element offset of row (b, t, h) of a [batch, tokens, heads, head_dim] view.
ATTNSIM_HD constexpr Index row_offset(Index batch_stride, Index token_stride, Index head_stride,
                                      Index b, Index t, Index h) {
  return b * batch_stride + t * token_stride + h * head_stride;
}

// ---- Ulysses ------------------------------------------------------------------------------
// One rank's all-to-all buffer is P chunks, chunk p going to (or coming from) rank p, each a
// contiguous [batch, s/P, h/P, head_dim] block: row u = ((p·B + b)·(s/P) + t)·(h/P) + hh.
// Sequence-sharded side: this rank's tokens t in [0, s/P), all heads: head = p·(h/P) + hh.
// Head-sharded side: every token, this rank's heads: token = p·(s/P) + t, head hh.
// (Sending the sequence-sharded chunk p to rank p and unpacking on the head-sharded side is the
// forward transpose; the reverse direction uses the same rows the other way round.)

/// Coordinates of buffer row u.
struct UlyssesRow {
  Index chunk = 0;  // p: the peer rank
  Index b = 0;
  Index t = 0;   // token within the chunk's s/P tokens
  Index hh = 0;  // head within the chunk's h/P heads
};

ATTNSIM_HD constexpr UlyssesRow ulysses_row(Index u, Index batch, Index local_tokens,
                                            Index local_heads) {
  UlyssesRow r;
  r.hh = u % local_heads;
  u /= local_heads;
  r.t = u % local_tokens;
  u /= local_tokens;
  r.b = u % batch;
  r.chunk = u / batch;
  return r;
}

// ---- ring reorders ------------------------------------------------------------------------
// The reordered sequence is the ranks' shards concatenated in rank order, each shard in the
// order ring.cpp's RingAttention::shard lists it: contiguous (identity), zigzag (chunks r and
// 2P-1-r of length N/2P), striped (tokens r, r+P, r+2P, ...). Needs N divisible by P (zigzag:
// by 2P).

/// Original position of the token at index i of the reordered sequence.
ATTNSIM_HD constexpr Index ring_source(RingLayout layout, Index tokens, Index ranks, Index i) {
  if (layout == RingLayout::kZigzag) {
    const Index c = tokens / (2 * ranks);
    const Index rank = i / (2 * c);
    const Index j = i % (2 * c);
    return j < c ? rank * c + j : (2 * ranks - 1 - rank) * c + (j - c);
  }
  if (layout == RingLayout::kStriped) {
    const Index l = tokens / ranks;
    return (i / l) + ranks * (i % l);
  }
  return i;
}

/// Index in the reordered sequence of original position t (the inverse of ring_source).
ATTNSIM_HD constexpr Index ring_destination(RingLayout layout, Index tokens, Index ranks, Index t) {
  if (layout == RingLayout::kZigzag) {
    const Index c = tokens / (2 * ranks);
    const Index chunk = t / c;
    const Index off = t % c;
    return chunk < ranks ? chunk * 2 * c + off : (2 * ranks - 1 - chunk) * 2 * c + c + off;
  }
  if (layout == RingLayout::kStriped) {
    const Index l = tokens / ranks;
    return (t % ranks) * l + t / ranks;
  }
  return t;
}

// ---- dilated gather -----------------------------------------------------------------------
// Branch (w, r) of head h with offset o: the gathered tensor has ceil(w'/r) slots per segment
// (w' = min(w, N)), slot j of segment s holding position s·w' + o + r·j when that lies inside
// the segment and the sequence (else the slot is padding: zero on gather, skipped on scatter).
// Viewed as [batch·segments, slots, heads, d] it is a batch of dense problems, one per segment.

/// Position held by slot `slot` of the gathered sequence, or -1 for padding.
ATTNSIM_HD constexpr Index gathered_position(Index tokens, Index w, Index r, Index offset,
                                             Index slot) {
  const Index slots = dilated_rows(w, r, tokens);
  const Span s = dilated_span(tokens, w, r, offset, slot / slots);
  const Index j = slot % slots;
  return j < s.count ? at(s, j) : -1;
}

/// Slots of the gathered sequence: segments x ceil(w'/r).
ATTNSIM_HD constexpr Index gathered_tokens(Index tokens, Index w, Index r) {
  return segment_count(w, tokens) * dilated_rows(w, r, tokens);
}

// ---- row maps: what the copy kernel moves -------------------------------------------------

/// One row copy in element offsets: src < 0 writes zeros, dst < 0 skips the row.
struct RowCopy {
  Index src = 0;
  Index dst = 0;
};

/// Element strides of a [batch, tokens, heads, head_dim] view.
struct View {
  Index batch_stride = 0;
  Index token_stride = 0;
  Index head_stride = 0;
};

ATTNSIM_HD constexpr Index row_offset(View v, Index b, Index t, Index h) {
  return row_offset(v.batch_stride, v.token_stride, v.head_stride, b, t, h);
}

/// Rows between one rank's Ulysses buffer (contiguous) and one of its two views: the
/// sequence-sharded [B, s/P, h, d] or the head-sharded [B, s, h/P, d] tensor.
struct UlyssesMap {
  Index chunks = 1;  // P
  Index batch = 1;
  Index local_tokens = 0;  // s/P
  Index local_heads = 0;   // h/P
  Index head_dim = 0;
  View view;
  bool sequence_side = true;  // view is the sequence-sharded tensor (else head-sharded)
  bool to_buffer = true;      // pack (view -> buffer), else unpack

  ATTNSIM_HD constexpr Index rows() const { return chunks * batch * local_tokens * local_heads; }

  ATTNSIM_HD constexpr RowCopy operator()(Index u) const {
    const UlyssesRow r = ulysses_row(u, batch, local_tokens, local_heads);
    const Index side = sequence_side ? row_offset(view, r.b, r.t, r.chunk * local_heads + r.hh)
                                     : row_offset(view, r.b, r.chunk * local_tokens + r.t, r.hh);
    const Index buffer = u * head_dim;
    return to_buffer ? RowCopy{side, buffer} : RowCopy{buffer, side};
  }
};

/// Rows of a ring reorder: out[b, i, h] = in[b, ring_source(i), h], or with `restore`
/// out[b, t, h] = in[b, ring_destination(t), h].
struct RingMap {
  RingLayout layout = RingLayout::kContiguous;
  Index tokens = 0;
  Index ranks = 1;
  Index batch = 1;
  Index heads = 1;
  View in;
  View out;
  bool restore = false;

  ATTNSIM_HD constexpr Index rows() const { return batch * tokens * heads; }

  ATTNSIM_HD constexpr RowCopy operator()(Index row) const {
    const Index h = row % heads;
    const Index i = (row / heads) % tokens;
    const Index b = row / (heads * tokens);
    const Index from = restore ? ring_destination(layout, tokens, ranks, i)
                               : ring_source(layout, tokens, ranks, i);
    return RowCopy{row_offset(in, b, from, h), row_offset(out, b, i, h)};
  }
};

/// Rows of a dilated gather (dense -> gathered) or scatter (gathered -> dense) of one branch,
/// heads [head_begin, head_begin + head_count); the gathered tensor numbers heads from 0.
struct GatherMap {
  Index tokens = 0;
  Index batch = 1;
  int head_begin = 0;
  int head_count = 1;
  int branch = 0;
  DilatedMask dilated;  // the branch's w, r and the offset rule
  View dense;
  View gathered;
  bool scatter = false;

  ATTNSIM_HD constexpr Index slots() const {
    return gathered_tokens(tokens, dilated.segment_lengths[branch], dilated.dilation_rates[branch]);
  }

  ATTNSIM_HD constexpr Index rows() const { return batch * slots() * head_count; }

  ATTNSIM_HD constexpr RowCopy operator()(Index row) const {
    const Index hh = row % head_count;
    const Index slot = (row / head_count) % slots();
    const Index b = row / (head_count * slots());
    const int head = head_begin + static_cast<int>(hh);
    const Index pos =
        gathered_position(tokens, dilated.segment_lengths[branch], dilated.dilation_rates[branch],
                          branch_offset(dilated, head, branch), slot);
    const Index g = row_offset(gathered, b, slot, hh);
    if (pos < 0) {
      return scatter ? RowCopy{g, -1} : RowCopy{-1, g};
    }
    const Index d = row_offset(dense, b, pos, head);
    return scatter ? RowCopy{g, d} : RowCopy{d, g};
  }
};

}  // namespace attnsim::kernels::index
