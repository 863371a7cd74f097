// SPDX-License-Identifier: Apache-2.0
// The layout kernels of kernels/layout.h: one row-copy kernel, 16 bytes a thread, driven by the
// row maps of kernels/layout_index.h (checked on a CPU by tests/kernels).
#include <cstdint>

#include <cuda_runtime.h>

#include "kernels/device.cuh"
#include "kernels/layout.h"
#include "kernels/layout_index.h"
#include "kernels/plan.h"

namespace attnsim::kernels {
namespace {

using index::Index;

/// Copies every row the map names: row_bytes/16 words a row, src < 0 writes zeros.
template <class Map>
__global__ void copy_rows_kernel(Map map, int words, int element_bytes, const unsigned char* src,
                                 unsigned char* dst) {
  const Index n = map.rows() * words;
  for (Index idx = blockIdx.x * static_cast<Index>(blockDim.x) + threadIdx.x; idx < n;
       idx += static_cast<Index>(gridDim.x) * blockDim.x) {
    const index::RowCopy c = map(idx / words);
    const Index w = idx % words;
    if (c.dst < 0) {
      continue;
    }
    uint4 word = make_uint4(0u, 0u, 0u, 0u);
    if (c.src >= 0) {
      word = *reinterpret_cast<const uint4*>(src + c.src * element_bytes + 16 * w);
    }
    *reinterpret_cast<uint4*>(dst + c.dst * element_bytes + 16 * w) = word;
  }
}

template <class Map>
void copy_rows(const Map& map, const RowShape& shape, const void* src, void* dst, void* stream) {
  constexpr int kThreads = 256;
  const int words = shape.head_dim * shape.element_bytes / 16;
  const Index n = map.rows() * words;
  if (n == 0) {
    return;
  }
  const auto blocks =
      static_cast<unsigned>(index::min_of(index::ceil_div(n, kThreads), Index{1} << 20));
  copy_rows_kernel<Map><<<blocks, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      map, words, shape.element_bytes, static_cast<const unsigned char*>(src),
      static_cast<unsigned char*>(dst));
  ATTNSIM_CUDA_CHECK(cudaGetLastError());
}

index::View view_of(const ConstTensor& t) {
  return {t.batch_stride, t.token_stride, t.head_stride};
}

index::View view_of(const Tensor& t) {
  return {t.batch_stride, t.token_stride, t.head_stride};
}

void check_in(const ConstTensor& t, const RowShape& s, const char* name) {
  plan::check_view(t.data, t.batch_stride, t.token_stride, t.head_stride, s.element_bytes, name);
}

void check_out(const Tensor& t, const RowShape& s, const char* name) {
  plan::check_view(t.data, t.batch_stride, t.token_stride, t.head_stride, s.element_bytes, name);
}

void check_buffer(const void* buffer) {
  plan::check_view(buffer, 0, 0, 0, 2, "buffer");
}

index::UlyssesMap ulysses_map(const RowShape& s, int ranks, index::View view, bool sequence_side,
                              bool to_buffer) {
  index::UlyssesMap m;
  m.chunks = ranks;
  m.batch = s.batch;
  m.local_tokens = s.tokens / ranks;
  m.local_heads = s.heads / ranks;
  m.head_dim = s.head_dim;
  m.view = view;
  m.sequence_side = sequence_side;
  m.to_buffer = to_buffer;
  return m;
}

index::RingMap ring_map(const RowShape& s, RingLayout layout, int ranks, const ConstTensor& in,
                        const Tensor& out, bool restore) {
  return index::RingMap{layout,  s.tokens,    ranks,        s.batch,
                        s.heads, view_of(in), view_of(out), restore};
}

index::GatherMap gather_map(const RowShape& s, const DilatedSelection& sel, index::View dense,
                            index::View gathered, bool scatter) {
  index::GatherMap m;
  m.tokens = s.tokens;
  m.batch = s.batch;
  m.head_begin = sel.head_begin;
  m.head_count = sel.head_count;
  m.branch = sel.branch;
  m.dilated = sel.dilated;
  m.dense = dense;
  m.gathered = gathered;
  m.scatter = scatter;
  return m;
}

}  // namespace

void ulysses_pack_sequence_sharded(const RowShape& shape, int ranks, ConstTensor x, void* buffer,
                                   void* stream) {
  plan::check_ulysses(shape, ranks);
  check_in(x, shape, "x");
  check_buffer(buffer);
  copy_rows(ulysses_map(shape, ranks, view_of(x), true, true), shape, x.data, buffer, stream);
}

void ulysses_unpack_head_sharded(const RowShape& shape, int ranks, const void* buffer, Tensor y,
                                 void* stream) {
  plan::check_ulysses(shape, ranks);
  check_buffer(buffer);
  check_out(y, shape, "y");
  copy_rows(ulysses_map(shape, ranks, view_of(y), false, false), shape, buffer, y.data, stream);
}

void ulysses_pack_head_sharded(const RowShape& shape, int ranks, ConstTensor y, void* buffer,
                               void* stream) {
  plan::check_ulysses(shape, ranks);
  check_in(y, shape, "y");
  check_buffer(buffer);
  copy_rows(ulysses_map(shape, ranks, view_of(y), false, true), shape, y.data, buffer, stream);
}

void ulysses_unpack_sequence_sharded(const RowShape& shape, int ranks, const void* buffer, Tensor x,
                                     void* stream) {
  plan::check_ulysses(shape, ranks);
  check_buffer(buffer);
  check_out(x, shape, "x");
  copy_rows(ulysses_map(shape, ranks, view_of(x), true, false), shape, buffer, x.data, stream);
}

void ring_reorder(const RowShape& shape, RingLayout layout, int ranks, ConstTensor in, Tensor out,
                  void* stream) {
  plan::check_ring(shape, layout, ranks, in.data, out.data);
  check_in(in, shape, "in");
  check_out(out, shape, "out");
  copy_rows(ring_map(shape, layout, ranks, in, out, false), shape, in.data, out.data, stream);
}

void ring_restore(const RowShape& shape, RingLayout layout, int ranks, ConstTensor in, Tensor out,
                  void* stream) {
  plan::check_ring(shape, layout, ranks, in.data, out.data);
  check_in(in, shape, "in");
  check_out(out, shape, "out");
  copy_rows(ring_map(shape, layout, ranks, in, out, true), shape, in.data, out.data, stream);
}

std::int64_t dilated_gathered_tokens(const RowShape& shape, const DilatedSelection& selection) {
  plan::check_selection(shape, selection);
  return index::gathered_tokens(shape.tokens, selection.dilated.segment_lengths[selection.branch],
                                selection.dilated.dilation_rates[selection.branch]);
}

void dilated_gather(const RowShape& shape, const DilatedSelection& selection, ConstTensor dense,
                    Tensor gathered, void* stream) {
  plan::check_selection(shape, selection);
  check_in(dense, shape, "dense");
  check_out(gathered, shape, "gathered");
  copy_rows(gather_map(shape, selection, view_of(dense), view_of(gathered), false), shape,
            dense.data, gathered.data, stream);
}

void dilated_scatter(const RowShape& shape, const DilatedSelection& selection, ConstTensor gathered,
                     Tensor dense, void* stream) {
  plan::check_selection(shape, selection);
  check_in(gathered, shape, "gathered");
  check_out(dense, shape, "dense");
  copy_rows(gather_map(shape, selection, view_of(dense), view_of(gathered), true), shape,
            gathered.data, dense.data, stream);
}

}  // namespace attnsim::kernels
