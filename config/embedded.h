// SPDX-License-Identifier: Apache-2.0
// A data file compiled into the binary by cmake/embed.cmake (built-in presets and profiles).
#pragma once

#include <string>

namespace attnsim::config {

/// One embedded file: its name (file name without extension) and its full text.
struct EmbeddedFile {
  std::string name;
  std::string text;
};

}  // namespace attnsim::config
