// SPDX-License-Identifier: Apache-2.0
// The two kinds of failure attnsim reports to users (STYLE C7): bad input and runtime failure.
#pragma once

#include <stdexcept>
#include <string>

namespace attnsim::config {

/// Bad input: a scenario, profile, topology file or --set value. The message is the whole
/// one-line report, "<file>: <JSON pointer>: expected <what>, got <what>". Exit status 1.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& line) : std::runtime_error(line) {}
};

/// A failure of the machine rather than the input: no GPU, a CUDA or NCCL error, an I/O
/// error. Exit status 3.
class RuntimeFailure : public std::runtime_error {
 public:
  explicit RuntimeFailure(const std::string& line) : std::runtime_error(line) {}
};

}  // namespace attnsim::config
