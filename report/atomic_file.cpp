// SPDX-License-Identifier: Apache-2.0
#include "report/atomic_file.h"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

#include "config/error.h"

namespace attnsim::report {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
  throw config::RuntimeFailure(path + ": cannot write the file (" + reason + ")");
}

void write_one(const std::string& tmp, const std::string& path, const std::string& text) {
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) {
    fail(path, "cannot create " + tmp + ": " + std::generic_category().message(errno));
  }
  out << text;
  out.close();
  if (out.fail()) {
    fail(path, "cannot write " + tmp + ": " + std::generic_category().message(errno));
  }
}

}  // namespace

void write_files_atomically(std::span<const FileText> files) {
  std::vector<std::string> temps;      // written, not yet renamed
  std::vector<std::string> new_files;  // renamed into place where nothing was before
  try {
    for (const FileText& f : files) {
      temps.push_back(f.path + ".tmp");  // listed first, so a half-written one is removed too
      write_one(temps.back(), f.path, f.text);
    }
    for (std::size_t i = 0; i < files.size(); ++i) {
      std::error_code ec;
      const bool existed = fs::exists(files[i].path, ec);
      fs::rename(temps[i], files[i].path, ec);
      if (ec) {
        fail(files[i].path, ec.message());
      }
      temps[i].clear();
      if (!existed) {
        new_files.push_back(files[i].path);
      }
    }
  } catch (...) {
    std::error_code ignored;
    for (const std::string& tmp : temps) {
      if (!tmp.empty()) {
        fs::remove(tmp, ignored);
      }
    }
    for (const std::string& path : new_files) {
      fs::remove(path, ignored);
    }
    throw;
  }
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const FileText file{path, text};
  write_files_atomically(std::span<const FileText>(&file, 1));
}

}  // namespace attnsim::report
