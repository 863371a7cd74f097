// SPDX-License-Identifier: Apache-2.0
// The HTML report as a browser shows it (issue 7): report.html of the small sweep opened in
// headless Chromium (Debian's chromium, installed by tools/test.sh) and screenshotted; the
// page must log no console message, every figure must decode as an image (checked by a page
// of the test's own that frames the report), and the screenshot must show the figures: the
// series' colours drawn in at least as many separate bands of the page as there are figures.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <png.h>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "cli/commands.h"
#include "report/plots.h"
#include "tests/support/temp_dir.h"

using namespace attnsim;  // NOLINT(google-build-using-namespace): test brevity
namespace fs = std::filesystem;

namespace {

constexpr int kWidth = 1000;
constexpr int kHeight = 16000;  // taller than the small sweep's report (about 11,000 px)

struct Image {
  int width = 0, height = 0;
  std::vector<unsigned char> rgb;  // row-major, 3 bytes a pixel
};

Image read_png(const fs::path& path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  REQUIRE(png_image_begin_read_from_file(&image, path.c_str()) != 0);
  image.format = PNG_FORMAT_RGB;
  Image out;
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  out.rgb.resize(PNG_IMAGE_SIZE(image));
  REQUIRE(png_image_finish_read(&image, nullptr, out.rgb.data(), 0, nullptr) != 0);
  return out;
}

std::string chromium() {
  if (const char* set = std::getenv("ATTNSIM_CHROMIUM")) {
    return set;
  }
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (fs::exists(candidate)) {
      return candidate;
    }
  }
  return "";
}

}  // namespace

TEST_CASE("report.html renders in headless Chromium with every figure drawn", "[render]") {
  const std::string browser = chromium();
  if (browser.empty()) {
    FAIL(
        "no Chromium at /usr/bin/chromium (tools/test.sh installs Debian's chromium; "
        "ATTNSIM_CHROMIUM names another)");
  }
  const testing::TempDir tmp;
  cli::ReportOptions options;
  options.inputs = {std::string(ATTNSIM_SOURCE_DIR) + "/tests/report/small_sweep.json"};
  options.out_dir = (tmp.path() / "report").string();
  options.jobs = 2;
  std::ostringstream said;
  REQUIRE(cli::run_report(options, said) == 0);
  std::size_t figures = 0;
  for ([[maybe_unused]] const auto& f : fs::directory_iterator(tmp.path() / "report" / "plots")) {
    ++figures;
  }

  const fs::path shot = tmp.path() / "report.png";
  const fs::path log = tmp.path() / "chromium.log";
  const std::string command =
      "'" + browser + "' --headless --no-sandbox --disable-gpu --hide-scrollbars " +
      "--enable-logging=stderr --v=0 --user-data-dir='" + (tmp.path() / "profile").string() +
      "' --window-size=" + std::to_string(kWidth) + "," + std::to_string(kHeight) +
      " --screenshot='" + shot.string() + "' 'file://" + options.out_dir + "/report.html' > '" +
      log.string() + "' 2>&1";
  const int status = std::system(command.c_str());  // NOLINT(cert-env33-c): the test's browser
  std::ifstream log_in(log);
  std::string line;
  std::vector<std::string> console;
  while (std::getline(log_in, line)) {
    if (line.find(":CONSOLE") != std::string::npos) {
      console.push_back(line);
    }
  }
  REQUIRE(status == 0);
  CAPTURE(console);
  CHECK(console.empty());

  // Every <img> of the report decodes to a picture with a width: a wrapper page frames the
  // report and writes what it found into its DOM, which Chromium prints.
  const fs::path wrapper = tmp.path() / "wrapper.html";
  std::ofstream(wrapper)
      << "<!DOCTYPE html><html><body><iframe id=\"r\" src=\"report/report.html\"></iframe>"
         "<pre id=\"result\">pending</pre><script>"
         "document.getElementById('r').addEventListener('load', () => {"
         "  const images = [...document.getElementById('r').contentDocument.images];"
         "  Promise.all(images.map(i => i.decode().then(() => i.naturalWidth > 0, () => false)))"
         "    .then(ok => { document.getElementById('result').textContent ="
         "      'decoded ' + ok.filter(x => x).length + ' of ' + ok.length; });"
         "});</script></body></html>\n";
  const fs::path dom = tmp.path() / "dom.html";
  const std::string dump = "'" + browser +
                           "' --headless --no-sandbox --disable-gpu --allow-file-access-from-files "
                           "--virtual-time-budget=10000 --user-data-dir='" +
                           (tmp.path() / "profile").string() + "' --dump-dom 'file://" +
                           wrapper.string() + "' > '" + dom.string() + "' 2> /dev/null";
  REQUIRE(std::system(dump.c_str()) == 0);  // NOLINT(cert-env33-c): the test's browser
  std::ifstream dom_in(dom);
  std::ostringstream dom_stream;
  dom_stream << dom_in.rdbuf();
  const std::string dom_text = dom_stream.str();
  CHECK(dom_text.find("<pre id=\"result\">decoded " + std::to_string(figures) + " of " +
                      std::to_string(figures) + "</pre>") != std::string::npos);

  const Image image = read_png(shot);
  REQUIRE(image.width == kWidth);
  REQUIRE(image.height == kHeight);
  // Rows holding a series colour (exactly, as gnuplot drew it, or anti-aliased within 6 of
  // each channel) in at least 3 pixels.
  std::vector<std::array<int, 3>> colours;
  for (std::size_t k = 0; k < 3; ++k) {
    const std::string hex = report::series_colour(k);
    colours.push_back({std::stoi(hex.substr(1, 2), nullptr, 16),
                       std::stoi(hex.substr(3, 2), nullptr, 16),
                       std::stoi(hex.substr(5, 2), nullptr, 16)});
  }
  std::vector<bool> coloured(static_cast<std::size_t>(image.height), false);
  std::vector<std::size_t> per_colour(colours.size(), 0);
  std::size_t non_white = 0;
  for (int y = 0; y < image.height; ++y) {
    int hits = 0;
    for (int x = 0; x < image.width; ++x) {
      const unsigned char* px =
          &image.rgb[(static_cast<std::size_t>(y) * static_cast<std::size_t>(image.width) +
                      static_cast<std::size_t>(x)) *
                     3];
      non_white += (px[0] < 250 || px[1] < 250 || px[2] < 250) ? 1 : 0;
      for (std::size_t k = 0; k < colours.size(); ++k) {
        if (std::abs(px[0] - colours[k][0]) <= 6 && std::abs(px[1] - colours[k][1]) <= 6 &&
            std::abs(px[2] - colours[k][2]) <= 6) {
          ++hits;
          ++per_colour[k];
        }
      }
    }
    coloured[static_cast<std::size_t>(y)] = hits >= 3;
  }
  // Bands: runs of coloured rows separated by at least 40 rows without.
  std::size_t bands = 0;
  int gap = 1000;
  for (const bool c : coloured) {
    if (c) {
      bands += gap >= 40 ? 1 : 0;
      gap = 0;
    } else {
      ++gap;
    }
  }
  CAPTURE(per_colour, bands, figures, non_white);
  for (const std::size_t n : per_colour) {
    CHECK(n >= 500);
  }
  CHECK(bands >= figures);
  CHECK(non_white > static_cast<std::size_t>(kWidth) * kHeight / 20);
}
