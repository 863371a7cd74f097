// SPDX-License-Identifier: Apache-2.0
// Attention kernels against CPU references, FlashAttention's rule (STYLE D10,
// tests/support/attention_check.h): for O, LSE, dQ, dK and dV the kernel's largest error against
// a double-precision reference may be at most twice that of a naive same-precision
// implementation (tests/support/attention_reference.h), plus a floor of 1e-4·(1 + largest
// reference value). Rows that keep no key must give O = 0, LSE = -inf and zero gradients
// exactly; outputs start filled with NaN bytes, so a row the kernels forget fails.
#include "kernels/attention.h"

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <cuda_runtime.h>

#include "tests/gpu/device_buffer.h"
#include "tests/support/attention_check.h"
#include "tests/support/attention_reference.h"

namespace kernels = attnsim::kernels;
using attnsim::test::check_close;
using attnsim::test::DeviceBuffer;
using attnsim::test::download;
using attnsim::test::HostTensor;
using attnsim::test::upload;

namespace {

struct Case {
  std::string name;
  kernels::AttentionProblem problem;
};

kernels::AttentionProblem shape(int batch, int heads, int kv_heads, std::int64_t seq_q,
                                std::int64_t seq_k) {
  kernels::AttentionProblem p;
  p.batch = batch;
  p.heads = heads;
  p.kv_heads = kv_heads;
  p.seq_q = seq_q;
  p.seq_k = seq_k;
  return p;
}

kernels::AttentionProblem dilated(int heads, int kv_heads, std::int64_t n,
                                  std::vector<std::int64_t> w, std::vector<std::int64_t> r,
                                  kernels::DilatedHeads rule, bool causal) {
  kernels::AttentionProblem p = shape(1, heads, kv_heads, n, n);
  p.mask.kind = kernels::MaskKind::kDilated;
  p.mask.dilated.branches = static_cast<int>(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    p.mask.dilated.segment_lengths[i] = w[i];
    p.mask.dilated.dilation_rates[i] = r[i];
  }
  p.mask.dilated.heads = rule;
  p.mask.dilated.causal = causal;
  return p;
}

// Every mask kind, with lengths that are not multiples of the 64-row tiles.
std::vector<Case> cases() {
  std::vector<Case> out;
  out.push_back({"dense, GQA, seq_q != seq_k", shape(2, 4, 2, 100, 130)});
  kernels::AttentionProblem causal = shape(1, 3, 3, 200, 200);
  causal.mask.kind = kernels::MaskKind::kCausal;
  out.push_back({"causal", causal});
  kernels::AttentionProblem ring_step = shape(1, 2, 2, 96, 160);
  ring_step.mask.kind = kernels::MaskKind::kCausal;
  ring_step.mask.q_position = 100;
  out.push_back({"causal block of a later query shard (ring step)", ring_step});
  kernels::AttentionProblem striped = shape(1, 2, 1, 80, 80);
  striped.mask.kind = kernels::MaskKind::kCausal;
  striped.mask.q_position = 1;
  striped.mask.q_position_stride = 4;
  striped.mask.k_position = 3;
  striped.mask.k_position_stride = 4;
  out.push_back({"causal striped shards, MQA", striped});
  kernels::AttentionProblem empty_rows = shape(1, 2, 2, 120, 90);
  empty_rows.mask.kind = kernels::MaskKind::kCausal;
  empty_rows.mask.k_position = 50;
  out.push_back({"causal with query rows that keep no key", empty_rows});
  kernels::AttentionProblem window = shape(1, 2, 2, 230, 230);
  window.mask.kind = kernels::MaskKind::kSlidingWindow;
  window.mask.window = 37;
  out.push_back({"sliding window", window});
  out.push_back(
      {"dilated head groups, a segment longer than the sequence",
       dilated(5, 5, 256, {64, 128, 512}, {1, 2, 4}, kernels::DilatedHeads::kHeadGroups, false)});
  out.push_back({"dilated head groups, causal, GQA",
                 dilated(4, 2, 192, {64, 192}, {1, 3}, kernels::DilatedHeads::kHeadGroups, true)});
  out.push_back({"dilated all heads (pairs kept twice)",
                 dilated(4, 4, 192, {64, 96}, {1, 2}, kernels::DilatedHeads::kAllHeads, false)});
  out.push_back({"dilated all heads, one branch, causal, short last segment",
                 dilated(3, 3, 130, {64}, {2}, kernels::DilatedHeads::kAllHeads, true)});
  return out;
}

void wait_for_device() {
  attnsim::test::cuda_ok(cudaDeviceSynchronize(), "kernel execution");
}

// Forward and backward of one case on the device, checked against the references.
void run_case(const kernels::AttentionProblem& p, std::uint64_t seed) {
  REQUIRE_NOTHROW(kernels::check_problem(p));
  const kernels::DType t = p.dtype;
  const int d = p.head_dim;
  const attnsim::test::RandomCase c = attnsim::test::random_case(p, seed);
  const HostTensor& q = c.q;
  const HostTensor& k = c.k;
  const HostTensor& v = c.v;
  const HostTensor& d_o = c.d_o;
  const attnsim::test::Reference& exact = c.exact;
  const attnsim::test::Reference& naive = c.naive;

  const DeviceBuffer dq_in = upload(q, t);
  const DeviceBuffer dk_in = upload(k, t);
  const DeviceBuffer dv_in = upload(v, t);
  const DeviceBuffer ddo_in = upload(d_o, t);
  DeviceBuffer o(q.data.size() * 2);
  DeviceBuffer lse(static_cast<std::size_t>(std::int64_t{p.batch} * p.heads * p.seq_q) *
                   sizeof(float));
  o.fill(0xff);  // NaN bytes: a row the kernels forget shows up
  lse.fill(0xff);
  DeviceBuffer fwd_ws(kernels::attention_forward_workspace_bytes(p));
  kernels::AttentionForwardArgs fa;
  fa.problem = p;
  fa.k = kernels::contiguous(static_cast<const void*>(dk_in.get()), p.seq_k, p.kv_heads, d);
  fa.v = kernels::contiguous(static_cast<const void*>(dv_in.get()), p.seq_k, p.kv_heads, d);
  fa.o = kernels::contiguous(o.get(), p.seq_q, p.heads, d);
  fa.q = kernels::contiguous(static_cast<const void*>(dq_in.get()), p.seq_q, p.heads, d);
  fa.lse = static_cast<float*>(lse.get());
  fa.workspace = fwd_ws.get();
  fa.workspace_bytes = fwd_ws.bytes();
  kernels::attention_forward(fa, nullptr);
  wait_for_device();
  const std::vector<double> o_ours = download(o, t);
  std::vector<double> lse_ours;
  for (const float x : lse.download<float>()) {
    lse_ours.push_back(x);
  }
  check_close("O", o_ours, naive.o.data, exact.o.data);
  check_close("LSE", lse_ours, naive.lse, exact.lse);

  DeviceBuffer dq(q.data.size() * 2);
  DeviceBuffer dk(k.data.size() * 2);
  DeviceBuffer dv(v.data.size() * 2);
  dq.fill(0xff);
  dk.fill(0xff);
  dv.fill(0xff);
  DeviceBuffer bwd_ws(kernels::attention_backward_workspace_bytes(p));
  kernels::AttentionBackwardArgs ba;
  ba.problem = p;
  ba.q = fa.q;
  ba.k = fa.k;
  ba.v = fa.v;
  ba.o = kernels::contiguous(static_cast<const void*>(o.get()), p.seq_q, p.heads, d);
  ba.d_o = kernels::contiguous(static_cast<const void*>(ddo_in.get()), p.seq_q, p.heads, d);
  ba.lse = static_cast<const float*>(lse.get());
  ba.d_q = kernels::contiguous(dq.get(), p.seq_q, p.heads, d);
  ba.d_k = kernels::contiguous(dk.get(), p.seq_k, p.kv_heads, d);
  ba.d_v = kernels::contiguous(dv.get(), p.seq_k, p.kv_heads, d);
  ba.workspace = bwd_ws.get();
  ba.workspace_bytes = bwd_ws.bytes();
  kernels::attention_backward(ba, nullptr);
  wait_for_device();
  check_close("dQ", download(dq, t), naive.d_q.data, exact.d_q.data);
  check_close("dK", download(dk, t), naive.d_k.data, exact.d_k.data);
  check_close("dV", download(dv, t), naive.d_v.data, exact.d_v.data);
}

}  // namespace

TEST_CASE("attention kernels match the references for every mask, dtype and head dim", "[gpu]") {
  std::uint64_t seed = 1;
  for (const kernels::DType t : {kernels::DType::kBFloat16, kernels::DType::kFloat16}) {
    for (const int d : {64, 128}) {
      for (Case c : cases()) {
        c.problem.dtype = t;
        c.problem.head_dim = d;
        SECTION(c.name + (t == kernels::DType::kBFloat16 ? ", bf16" : ", fp16") + ", d " +
                std::to_string(d)) {
          run_case(c.problem, seed);
        }
        ++seed;
      }
    }
  }
}

TEST_CASE("a small dense bf16 attention runs and matches the references", "[gpu][smoke]") {
  kernels::AttentionProblem p = shape(1, 2, 2, 70, 70);
  p.head_dim = 64;
  run_case(p, 42);
}

TEST_CASE("bad arguments throw before any launch", "[gpu]") {
  kernels::AttentionForwardArgs a;
  a.problem = shape(1, 1, 1, 64, 64);
  a.problem.head_dim = 96;
  REQUIRE_THROWS_WITH(kernels::attention_forward(a, nullptr),
                      "attention: head_dim must be 64 or 128, got 96");
}
