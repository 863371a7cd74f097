// SPDX-License-Identifier: Apache-2.0
// Host API of the layout kernels the parallelism strategies need: the Ulysses all-to-all
// pack/unpack transposes, the zigzag and striped ring reorders and their inverses, and the
// dilated (LongNet) gather and scatter. Each copies whole rows of head_dim elements (index
// maps in kernels/layout_index.h). Plain C++: no CUDA type is needed to include it.
#pragma once

#include <cstdint>

#include "kernels/attention.h"

namespace attnsim::kernels {

/// Token layouts of ring attention (models/strategies/ring.h RingLayout).
enum class RingLayout { kContiguous, kZigzag, kStriped };

/// The rows being moved: [batch, tokens, heads, head_dim] of element_bytes-wide elements
/// (2 or 4). Rows must be a multiple of 16 bytes; tensors 16-byte aligned, strides multiples of
/// 16 bytes (counted in elements, as in attention.h).
struct RowShape {
  int element_bytes = 2;
  int batch = 1;
  std::int64_t tokens = 0;  // s: the whole sequence
  int heads = 1;            // h: every head
  int head_dim = 128;
};

/// Ulysses all-to-all on `ranks` ranks (P divides s and h). A rank's buffer is P contiguous
/// chunks, chunk p for peer p, each [batch, s/P, h/P, head_dim]; pass it to an all-to-all with
/// equal chunks (NCCL grouped send/recv).
///   sequence -> head: pack_sequence_sharded, all-to-all, unpack_head_sharded
///   head -> sequence: pack_head_sharded, all-to-all, unpack_sequence_sharded
/// x is this rank's sequence shard [batch, s/P, h, head_dim]; y its head shard [batch, s, h/P,
/// head_dim]. `stream` is a cudaStream_t (nullptr: the default stream).
void ulysses_pack_sequence_sharded(const RowShape& shape, int ranks, ConstTensor x, void* buffer,
                                   void* stream);

/// See ulysses_pack_sequence_sharded.
void ulysses_unpack_head_sharded(const RowShape& shape, int ranks, const void* buffer, Tensor y,
                                 void* stream);

/// See ulysses_pack_sequence_sharded.
void ulysses_pack_head_sharded(const RowShape& shape, int ranks, ConstTensor y, void* buffer,
                               void* stream);

/// See ulysses_pack_sequence_sharded.
void ulysses_unpack_sequence_sharded(const RowShape& shape, int ranks, const void* buffer, Tensor x,
                                     void* stream);

/// Reorders a whole sequence into ring order: out[:, i] = in[:, source(i)], where the
/// reordered sequence is rank 0's shard, then rank 1's, ... (contiguous: identity; zigzag:
/// chunks r and 2P-1-r of N/2P tokens; striped: tokens r, r+P, ...). N divisible by P (zigzag:
/// by 2P). in and out must not overlap.
void ring_reorder(const RowShape& shape, RingLayout layout, int ranks, ConstTensor in, Tensor out,
                  void* stream);

/// The inverse of ring_reorder: out[:, t] = in[:, destination(t)].
void ring_restore(const RowShape& shape, RingLayout layout, int ranks, ConstTensor in, Tensor out,
                  void* stream);

/// One dilated branch of `dilated` (index `branch`) over heads [head_begin, head_begin +
/// head_count): the residue-o rows of every segment, o = branch mod r (kHeadGroups) or
/// head mod r (kAllHeads), as in attention.h.
struct DilatedSelection {
  DilatedMask dilated;
  int branch = 0;
  int head_begin = 0;
  int head_count = 1;
};

/// Rows of the gathered tensor: segments x ceil(min(w, s)/r) (padding slots where a short last
/// segment has fewer rows).
std::int64_t dilated_gathered_tokens(const RowShape& shape, const DilatedSelection& selection);

/// gathered[b, seg·slots + j, hh] = dense[b, seg·w' + o + r·j, head_begin + hh] (zeros in
/// padding slots). gathered is [batch, dilated_gathered_tokens, head_count, head_dim], i.e. a
/// batch of batch·segments dense problems of `slots` tokens.
void dilated_gather(const RowShape& shape, const DilatedSelection& selection, ConstTensor dense,
                    Tensor gathered, void* stream);

/// The inverse: writes the selected rows of dense from gathered; other rows are untouched.
void dilated_scatter(const RowShape& shape, const DilatedSelection& selection, ConstTensor gathered,
                     Tensor dense, void* stream);

}  // namespace attnsim::kernels
