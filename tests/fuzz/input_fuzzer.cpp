// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the two input readers users feed files to: scenarios (cli/scenario.h,
// every sweep point parsed) and hardware profiles (calibrate/profile.h). The first input byte
// picks the reader; the rest is the document. Bad input must end in config::InputError (or
// cli::UsageError for --set), never in a crash, a sanitizer report or another exception.
//
//   cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DATTNSIM_FUZZ=ON
//   cmake --build build-fuzz --target attnsim_input_fuzzer
//   build-fuzz/tests/fuzz/attnsim_input_fuzzer -max_total_time=60 CORPUS_DIR
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

#include "calibrate/profile.h"
#include "cli/commands.h"
#include "cli/scenario.h"
#include "config/error.h"
#include "config/node.h"

namespace {

/// The scenario reader takes a path (relative hardware paths resolve against its folder), so
/// the input goes through one per-process temporary file.
const std::string& scratch_path() {
  static const std::string path = "/tmp/attnsim-fuzz-" + std::to_string(getpid()) + ".json";
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  const bool scenario = (data[0] & 1U) == 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    if (scenario) {
      {
        std::ofstream out(scratch_path(), std::ios::binary | std::ios::trunc);
        out << text;
      }
      (void)attnsim::cli::load_scenario(scratch_path());
    } else {
      (void)attnsim::calibrate::parse_profile(
          attnsim::config::Node::parse_text("fuzz-profile.json", text));
    }
  } catch (const attnsim::config::InputError&) {
    // The expected outcome for bad input.
  } catch (const attnsim::cli::UsageError&) {
  }
  return 0;
}
