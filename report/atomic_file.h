// SPDX-License-Identifier: Apache-2.0
// Writing output files so that a failed run leaves nothing behind (SPEC section 2): each file
// goes to a temporary name beside it, and only when all are written are they renamed.
#pragma once

#include <span>
#include <string>

namespace attnsim::report {

/// A file to write: its path and its whole content.
struct FileText {
  std::string path;
  std::string text;
};

/// Writes every file to "<path>.tmp", then renames each onto its path. The folders must exist.
///
/// Errors: config::RuntimeFailure "<path>: cannot write the file (<reason>)". Before throwing
///         it removes every temporary file and every file it had already renamed into place
///         that did not exist before (one that did is already replaced).
void write_files_atomically(std::span<const FileText> files);

/// Writes `files`, their paths relative to `dir` ("report.md", "plots/a.svg"), into `dir`,
/// creating it and the subfolders the paths need. As write_files_atomically(); on failure it
/// also removes the folders it created.
void write_folder_atomically(const std::string& dir, std::span<const FileText> files);

/// Writes one file as above.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace attnsim::report
