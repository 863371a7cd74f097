// SPDX-License-Identifier: Apache-2.0
// Readers of one scenario point's sections (SPEC section 3), used by cli/scenario.cpp: each
// checks its section's keys, types, ranges and cross-field rules and rejects unknown keys.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "calibrate/profile.h"
#include "cli/scenario.h"
#include "config/node.h"
#include "models/workload.h"

namespace attnsim::cli {

/// The largest sequence length (and decode context) a scenario may ask for: 2^40 tokens keeps
/// token x hidden x bytes products far inside 64-bit integers.
inline constexpr std::int64_t kMaxTokens = std::int64_t{1} << 40;
/// The largest layer, head, width or batch count (2^24): int arithmetic on them stays exact.
inline constexpr std::int64_t kMaxShape = std::int64_t{1} << 24;

/// Marks `keys` as a section's keys and rejects any other, before the section is read, so
/// that a misspelt key is reported as unknown (with a suggestion) rather than as missing.
void allow_keys(const config::Node& section, std::span<const std::string_view> keys);
void allow_keys(const config::Node& section, std::initializer_list<std::string_view> keys);

/// Reads /model: all fields, or {"preset": NAME, ...overrides}.
models::ModelShape read_model(const config::Node& model);

/// Reads /attention for `model` (dilated head groups need a head per branch).
models::AttentionSpec read_attention(const config::Node& attention,
                                     const models::ModelShape& model);

/// Reads /workload into `work` (whose model and attention are already set).
void read_workload(const config::Node& workload, models::Workload& work);

/// Checks that `profile` (named by `hardware`) has a peak for the model's dtype and, when the
/// scenario names one, rows for the attention implementation.
void check_against_profile(const config::Node& root, const calibrate::Profile& profile,
                           const models::Workload& work);

/// Reads /parallelism for `work` on `gpus` GPUs: builds the strategy, derives cp and checks
/// every divisibility rule, then the strategy's own check().
Parallelism read_parallelism(const config::Node& parallelism, const models::Workload& work,
                             std::int64_t gpus);

/// Reads /simulation: {"layers": N}, N >= 0 (default 4, 0 = all layers).
int read_simulation(const config::Node& simulation);

}  // namespace attnsim::cli
