// SPDX-License-Identifier: Apache-2.0
// The built-in profiles' raw JSON, for inheritance; internal to calibrate/.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace attnsim::calibrate {

/// The JSON document of built-in profile `name`. Precondition: `name` is one of
/// builtin_profile_names().
nlohmann::json builtin_profile_json(const std::string& name);

/// The "got" part of an unknown-name message: the name quoted, plus "(did you mean ...?)"
/// when a built-in is close. A unique built-in that extends the name ("h100" -> "h100-sxm")
/// wins over edit distance, which would pick "b200".
std::string unknown_profile_got(const std::string& name);

/// "a100-sxm, b200, ..." for messages.
std::string listed_profile_names();

}  // namespace attnsim::calibrate
