// SPDX-License-Identifier: Apache-2.0
// Shared pieces of the strategy tests: the Llama-3-8B attention workload of ring-flash-
// attention's benchmark (attention.md 3.2 item 6), and the bytes each GPU sends for a
// strategy in a built step.
#pragma once

#include <cstdint>
#include <map>

#include "models/step.h"
#include "models/workload.h"

namespace attnsim::test {

/// Llama-3-8B's attention shape (32 query heads, 8 KV heads, d_h 128, bf16), attention core
/// only (scope "attention").
inline models::Workload llama_attention(models::AttentionKind kind, models::Phase phase,
                                        std::int64_t tokens) {
  models::Workload w;
  w.model.name = "llama3-8b";
  w.model.layers = 32;
  w.model.hidden = 4096;
  w.model.heads = 32;
  w.model.kv_heads = 8;
  w.model.head_dim = 128;
  w.model.ffn_hidden = 14336;
  w.model.vocab = 128256;
  w.model.dtype = "bf16";
  w.model.dtype_bytes = 2;
  w.attention.kind = kind;
  w.phase = phase;
  w.sequence_length = tokens;
  w.scope = models::Scope::kAttention;
  return w;
}

/// Bytes on the wire of the strategy's own transfers (tag attention_comm), by sending GPU.
inline std::map<std::uint32_t, double> strategy_bytes_sent(const models::StepTrace& step) {
  std::map<std::uint32_t, double> sent;
  for (sim::OpId id = 0; id < step.trace.size(); ++id) {
    const sim::Trace::Op& op = step.trace.op(id);
    if (op.kind == sim::OpKind::kTransfer && op.tag == step.tags.attention_comm) {
      step.trace.for_each_flow(id, [&](std::uint32_t src, std::uint32_t, std::uint64_t) {
        sent[src] += op.bytes * op.multiplicity;
      });
    }
  }
  return sent;
}

}  // namespace attnsim::test
