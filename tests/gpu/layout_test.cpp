// SPDX-License-Identifier: Apache-2.0
// Layout kernels on the device against the same row maps run on the CPU
// (kernels/layout_index.h; their meaning is checked in tests/kernels/layout_index_test.cpp),
// through padded strided views.
#include "kernels/layout.h"

#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>
#include <cuda_runtime.h>

#include "kernels/layout_index.h"
#include "tests/gpu/device_buffer.h"

namespace kernels = attnsim::kernels;
namespace ix = attnsim::kernels::index;
using attnsim::test::DeviceBuffer;
using ix::Index;

namespace {

// The copy kernel's loop on the CPU, over 16-bit elements.
template <class Map>
std::vector<std::uint16_t> copy_on_cpu(const Map& map, Index width,
                                       const std::vector<std::uint16_t>& src,
                                       std::vector<std::uint16_t> dst) {
  for (Index row = 0; row < map.rows(); ++row) {
    const ix::RowCopy c = map(row);
    for (Index e = 0; c.dst >= 0 && e < width; ++e) {
      dst[static_cast<std::size_t>(c.dst + e)] =
          c.src < 0 ? 0 : src[static_cast<std::size_t>(c.src + e)];
    }
  }
  return dst;
}

std::vector<std::uint16_t> pattern(std::size_t n, std::uint16_t salt) {
  std::vector<std::uint16_t> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = static_cast<std::uint16_t>(i * 7 + salt);
  }
  return v;
}

void wait_for_device() {
  attnsim::test::cuda_ok(cudaDeviceSynchronize(), "kernel execution");
}

// A view with 8 spare elements after each token row and 16 after each batch entry.
kernels::Tensor padded(void* data, Index tokens, int heads, int dim) {
  const Index token = Index{heads} * dim + 8;
  return {data, tokens * token + 16, token, dim};
}

ix::View view(const kernels::Tensor& t) {
  return {t.batch_stride, t.token_stride, t.head_stride};
}

kernels::ConstTensor as_input(const kernels::Tensor& t) {
  return {t.data, t.batch_stride, t.token_stride, t.head_stride};
}

}  // namespace

TEST_CASE("ring reorder and restore on the device follow the row maps", "[gpu]") {
  const kernels::RowShape shape{2, 2, 64, 3, 64};
  constexpr std::size_t kRow = 3 * 64 + 8;        // padded token row
  constexpr std::size_t kBatch = 64 * kRow + 16;  // padded batch entry
  constexpr std::size_t kElems = 2 * kBatch;
  DeviceBuffer in(kElems * 2);
  DeviceBuffer out(kElems * 2);
  const std::vector<std::uint16_t> host = pattern(kElems, 1);
  in.upload(host);
  for (const auto layout : {kernels::RingLayout::kZigzag, kernels::RingLayout::kStriped}) {
    out.upload(std::vector<std::uint16_t>(kElems, 0xabcd));
    const kernels::Tensor in_view = padded(in.get(), 64, 3, 64);
    const kernels::Tensor out_view = padded(out.get(), 64, 3, 64);
    kernels::ring_reorder(shape, layout, 4, as_input(in_view), out_view, nullptr);
    wait_for_device();
    const ix::RingMap map{layout, 64, 4, 2, 3, view(in_view), view(out_view), false};
    CHECK(out.download<std::uint16_t>() ==
          copy_on_cpu(map, 64, host, std::vector<std::uint16_t>(kElems, 0xabcd)));
    DeviceBuffer back(kElems * 2);
    back.upload(std::vector<std::uint16_t>(kElems, 0xabcd));
    kernels::ring_restore(shape, layout, 4, as_input(out_view), padded(back.get(), 64, 3, 64),
                          nullptr);
    wait_for_device();
    const std::vector<std::uint16_t> restored = back.download<std::uint16_t>();
    for (std::size_t i = 0; i < kElems; ++i) {
      const bool pad = i % kBatch >= 64 * kRow || i % kBatch % kRow >= std::size_t{3} * 64;
      REQUIRE(restored[i] == (pad ? 0xabcd : host[i]));
    }
  }
}

TEST_CASE("Ulysses pack and unpack on the device follow the row maps", "[gpu]") {
  // 4 ranks, batch 2, 32 tokens, 8 heads of 64: x is [2, 8, 8, 64], y [2, 32, 2, 64].
  const kernels::RowShape shape{2, 2, 32, 8, 64};
  const int ranks = 4;
  const std::size_t x_elems = std::size_t{2} * (8 * (8 * 64 + 8) + 16);
  const std::size_t y_elems = std::size_t{2} * (32 * (2 * 64 + 8) + 16);
  const std::size_t buf_elems = std::size_t{2} * 32 * 8 * 64 / ranks;
  DeviceBuffer x(x_elems * 2);
  DeviceBuffer y(y_elems * 2);
  DeviceBuffer buf(buf_elems * 2);
  const std::vector<std::uint16_t> hx = pattern(x_elems, 3);
  const std::vector<std::uint16_t> hy = pattern(y_elems, 5);
  x.upload(hx);
  y.upload(hy);
  const kernels::Tensor xv = padded(x.get(), 8, 8, 64);
  const kernels::Tensor yv = padded(y.get(), 32, 2, 64);
  const auto map = [&](ix::View v, bool sequence_side, bool to_buffer) {
    return ix::UlyssesMap{ranks, 2, 8, 2, 64, v, sequence_side, to_buffer};
  };
  const std::vector<std::uint16_t> zeros(buf_elems, 0);
  kernels::ulysses_pack_sequence_sharded(shape, ranks, as_input(xv), buf.get(), nullptr);
  wait_for_device();
  CHECK(buf.download<std::uint16_t>() == copy_on_cpu(map(view(xv), true, true), 64, hx, zeros));
  kernels::ulysses_pack_head_sharded(shape, ranks, as_input(yv), buf.get(), nullptr);
  wait_for_device();
  const std::vector<std::uint16_t> packed = buf.download<std::uint16_t>();
  CHECK(packed == copy_on_cpu(map(view(yv), false, true), 64, hy, zeros));
  kernels::ulysses_unpack_sequence_sharded(shape, ranks, buf.get(), xv, nullptr);
  wait_for_device();
  CHECK(x.download<std::uint16_t>() == copy_on_cpu(map(view(xv), true, false), 64, packed, hx));
  kernels::ulysses_unpack_head_sharded(shape, ranks, buf.get(), yv, nullptr);
  wait_for_device();
  CHECK(y.download<std::uint16_t>() == copy_on_cpu(map(view(yv), false, false), 64, packed, hy));
}

TEST_CASE("dilated gather and scatter on the device follow the row maps", "[gpu]") {
  // 100 tokens (a short last segment), 4 heads, branch (w 32, r 4) over heads 1..3.
  kernels::DilatedSelection sel;
  sel.dilated.branches = 2;
  sel.dilated.segment_lengths[0] = 16;
  sel.dilated.dilation_rates[0] = 1;
  sel.dilated.segment_lengths[1] = 32;
  sel.dilated.dilation_rates[1] = 4;
  sel.dilated.heads = kernels::DilatedHeads::kAllHeads;
  sel.branch = 1;
  sel.head_begin = 1;
  sel.head_count = 3;
  const kernels::RowShape shape{2, 1, 100, 4, 64};
  const Index slots = kernels::dilated_gathered_tokens(shape, sel);
  REQUIRE(slots == Index{4} * 8);  // 4 segments x 32/4 slots
  const std::size_t dense_elems = std::size_t{100} * (4 * 64 + 8) + 16;
  const std::size_t g_elems = static_cast<std::size_t>(slots) * (3 * 64 + 8) + 16;
  DeviceBuffer dense(dense_elems * 2);
  DeviceBuffer gathered(g_elems * 2);
  const std::vector<std::uint16_t> hd = pattern(dense_elems, 9);
  const std::vector<std::uint16_t> hg(g_elems, 0xabcd);
  dense.upload(hd);
  gathered.upload(hg);
  const kernels::Tensor dv = padded(dense.get(), 100, 4, 64);
  const kernels::Tensor gv = padded(gathered.get(), slots, 3, 64);
  ix::GatherMap map{100, 1, 1, 3, 1, sel.dilated, view(dv), view(gv), false};
  kernels::dilated_gather(shape, sel, as_input(dv), gv, nullptr);
  wait_for_device();
  const std::vector<std::uint16_t> got = gathered.download<std::uint16_t>();
  CHECK(got == copy_on_cpu(map, 64, hd, hg));
  const std::vector<std::uint16_t> blank(dense_elems, 0x1234);
  dense.upload(blank);
  kernels::dilated_scatter(shape, sel, as_input(gv), dv, nullptr);
  wait_for_device();
  map.scatter = true;
  CHECK(dense.download<std::uint16_t>() == copy_on_cpu(map, 64, got, blank));
}
