// SPDX-License-Identifier: Apache-2.0
// The one list of parallelism strategies attnsim knows (STYLE C3).
#include <algorithm>

#include "config/registry.h"
#include "models/strategies/allgather_kv.h"
#include "models/strategies/double_ring.h"
#include "models/strategies/dsp.h"
#include "models/strategies/head_parallel.h"
#include "models/strategies/hierarchical.h"
#include "models/strategies/ring.h"
#include "models/strategies/strategy.h"
#include "models/strategies/ulysses.h"
#include "models/strategies/usp.h"

namespace attnsim::models {
namespace {

const config::Registry<Strategy>& strategies() {
  static const config::Registry<Strategy> registry = [] {
    config::Registry<Strategy> r("parallelism strategy");
    r.add("allgather_kv", "all-gather K/V, local queries against the whole sequence (Llama 3)",
          make_allgather_kv);
    r.add("double_ring", "usp with the ring split into per-node inner rings and an outer ring",
          make_double_ring);
    r.add("dsp",
          "one all-to-all where the independent dimension changes: dilated branches, or the "
          "spatial-to-temporal switch of spatial_temporal layers",
          make_dsp);
    r.add("head_parallel", "Megatron tensor parallelism on heads", make_head_parallel);
    r.add("hierarchical", "approximate: local attention plus compressed remote context",
          make_hierarchical);
    r.add("ring", "K/V blocks circulate around the sequence-parallel group", make_ring);
    r.add("striped_ring", "ring attention on a striped (token mod P) layout", make_striped_ring);
    r.add("ulysses", "all-to-all swaps sequence sharding for head sharding", make_ulysses);
    r.add("usp", "Ulysses all-to-all inside, ring attention across (2D)", make_usp);
    r.add("zigzag_ring", "ring attention on the load-balanced zigzag layout", make_zigzag_ring);
    return r;
  }();
  return registry;
}

}  // namespace

std::vector<std::string> strategy_names() {
  std::vector<std::string> names = strategies().names();
  names.emplace_back("auto");
  std::sort(names.begin(), names.end());
  return names;
}

std::shared_ptr<const Strategy> make_strategy(const config::Node& parallelism) {
  const std::string name = parallelism.one_of("strategy", strategy_names());
  if (name == "auto") {
    return nullptr;
  }
  return strategies().make(parallelism, "strategy");
}

std::vector<AutoCandidate> auto_candidates(const Workload& work) {
  // Exact strategies only: an approximate one (it says so in notes()) changes the model's
  // output, so it is never picked on speed alone.
  std::vector<AutoCandidate> out;
  for (const std::string& name : strategies().names()) {
    std::shared_ptr<const Strategy> s = make_default_strategy(name);
    if (s->notes().empty()) {
      out.push_back({name, name, std::move(s)});
    }
  }
  if (work.attention.kind == AttentionKind::kDilated) {
    // The segment-scoped ring moves only the blocks a segment spans (ring.h): for dilated
    // attention the ring a user would choose, so auto weighs it too.
    const config::Node node =
        config::Node::parse_text("<auto>", R"({"strategy": "ring", "ring_scope": "segment"})");
    out.push_back({"ring", "ring (ring_scope=segment)", make_ring(node)});
  }
  return out;
}

std::shared_ptr<const Strategy> make_default_strategy(const std::string& name) {
  const config::Node node =
      config::Node::parse_text("<auto>", "{\"strategy\": " + config::json_quoted(name) + "}");
  return strategies().make(node, "strategy");
}

}  // namespace attnsim::models
