// SPDX-License-Identifier: Apache-2.0
// ModelShape's weight count (workload.h).
#include "models/workload.h"

namespace attnsim::models {

std::int64_t ModelShape::parameters() const {
  const std::int64_t d = hidden;
  const std::int64_t attention = 2 * d * (std::int64_t{heads} + kv_heads) * head_dim;  // Q,O + K,V
  const std::int64_t mlp = (gated_mlp ? 3 : 2) * d * ffn_hidden;
  const std::int64_t norms = 2 * d;
  return layers * (attention + mlp + norms) + 2 * vocab * d + d;  // + embedding, head, final norm
}

}  // namespace attnsim::models
