// SPDX-License-Identifier: Apache-2.0
#include "report/number_text.h"

#include <charconv>
#include <system_error>

namespace attnsim::report {

std::string fixed(double v, int decimals) {
  char buf[64];
  const auto [end, ec] =
      std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

}  // namespace attnsim::report
