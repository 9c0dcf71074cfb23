// Writing an untrusted tree (a tar.gz, or a stored directory) into a fresh folder. Every
// entry must be a regular file, a directory, a hard link to a regular file written
// earlier, or a symlink that resolves inside the folder; names must be relative, without
// "..", without control characters and of sane length; no entry may be written through
// a symlink or replace an earlier entry; counts, total size and compression ratio are
// bounded. A violation is an error naming the entry and the rule.
//
// Two layers: libarchive's ARCHIVE_EXTRACT_SECURE_* flags, and our own checks before each
// entry. Symlinks are created last, after every file and directory, so an archive cannot
// plant a symlink and then write through it; then each one is resolved component by
// component (following symlinks inside the folder) and must stay inside.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"

struct archive;

namespace tether::artifacts {

struct UnpackLimits {
  uint64_t max_entries = 100000;
  uint64_t max_total_bytes = uint64_t{64} << 30;  // 64 GiB unpacked
  uint64_t max_ratio = 1000;                       // unpacked : compressed
  uint64_t ratio_grace_bytes = uint64_t{64} << 20;  // the ratio is checked past this much output
  size_t max_name_bytes = 4096;
  size_t max_component_bytes = 255;
};

// Unpacks the tar.gz at archive_path into dir (an existing empty directory).
Status unpack_tar_gz(const std::string& archive_path, const std::string& dir, const UnpackLimits& limits);

// Copies the tree at src (a directory) into dir/<top>, under the same rules: a stored
// directory came from a step and gets no more trust than an archive does.
Status copy_tree_checked(const std::string& src, const std::string& dir, const std::string& top,
                         const UnpackLimits& limits);

// Resolves rel inside root the way the kernel would, following symlinks, without ever
// leaving root. Returns the physical path relative to root, or an error when the path
// escapes (an absolute symlink, ".." above root) or loops.
Result<std::string> resolve_inside(const std::string& root, const std::string& rel);

// Every symlink under dir/sub must resolve inside dir/sub: what a load renames into place
// is only that part, so a link that was inside the whole archive ("d/up" -> "../d/f")
// may point outside it once "d" is renamed to dest. Errors name the entry as dir-relative.
Status check_symlinks_inside(const std::string& dir, const std::string& sub);

// The normalised form of an entry name: "./a//b/" → "a/b". Errors name the rule broken.
Result<std::string> normalize_entry_name(const std::string& name, const UnpackLimits& limits);

}  // namespace tether::artifacts
