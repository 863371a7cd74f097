// SPDX-License-Identifier: Apache-2.0
#include "report/atomic_file.h"

#include <algorithm>
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

void write_folder_atomically(const std::string& dir, std::span<const FileText> files) {
  const fs::path root(dir);
  std::vector<fs::path> folders{root};
  std::vector<FileText> placed;
  for (const FileText& f : files) {
    placed.push_back({(root / f.path).string(), f.text});
    folders.push_back((root / f.path).parent_path());
  }
  // The folders that do not exist yet, deepest first: created here, removed again on failure.
  std::vector<fs::path> created;
  std::error_code ec;
  for (const fs::path& folder : folders) {
    for (fs::path p = folder; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
      if (std::find(created.begin(), created.end(), p) == created.end()) {
        created.push_back(p);
      }
      if (p == p.parent_path()) {
        break;
      }
    }
  }
  std::sort(created.begin(), created.end(), [](const fs::path& a, const fs::path& b) {
    return a.string().size() > b.string().size();
  });
  const auto remove_created = [&created] {
    std::error_code ignored;
    for (const fs::path& p : created) {
      fs::remove(p, ignored);  // only removes an empty folder
    }
  };
  for (const fs::path& folder : folders) {
    fs::create_directories(folder, ec);
    if (ec) {
      remove_created();
      throw config::RuntimeFailure(folder.string() + ": cannot create the folder (" + ec.message() +
                                   ")");
    }
  }
  try {
    write_files_atomically(placed);
  } catch (const config::RuntimeFailure&) {
    remove_created();
    throw;
  }
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const FileText file{path, text};
  write_files_atomically(std::span<const FileText>(&file, 1));
}

}  // namespace attnsim::report
