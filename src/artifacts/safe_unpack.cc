#include "artifacts/safe_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "base/strings.h"

namespace tether::artifacts {

namespace fs = std::filesystem;

namespace {

struct ReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ReadArchive = std::unique_ptr<archive, ReadFree>;
using WriteArchive = std::unique_ptr<archive, WriteFree>;
using Entry = std::unique_ptr<archive_entry, EntryFree>;

constexpr int kMaxSymlinkHops = 40;

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

std::string fmt_hex(unsigned char c) {
  static const char* digits = "0123456789abcdef";
  return std::string("\\x") + digits[c >> 4] + digits[c & 15];
}

// Entry names come from untrusted archives: show control bytes as \xNN in messages.
std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (is_control(c)) out += fmt_hex(c);
    else out += static_cast<char>(c);
  }
  return out;
}

Error refused(std::string_view entry, const std::string& rule) {
  return invalid("artifact entry '" + printable(entry) + "' refused: " + rule);
}

const char* archive_message(archive* a) {
  const char* m = archive_error_string(a);
  return m ? m : "unknown libarchive error";
}

std::string parent_of(const std::string& name) {
  size_t slash = name.rfind('/');
  return slash == std::string::npos ? std::string() : name.substr(0, slash);
}

enum class Kind { kFile, kDir, kSymlink, kHardlink };

}  // namespace

Result<std::string> normalize_entry_name(const std::string& name, const UnpackLimits& limits) {
  if (name.size() > limits.max_name_bytes)
    return refused(name.substr(0, 64) + "...", "name longer than " + std::to_string(limits.max_name_bytes) + " bytes");
  for (unsigned char c : name)
    if (is_control(c)) return refused(name, "name contains the control character " + fmt_hex(c));
  if (!name.empty() && name[0] == '/') return refused(name, "absolute path");
  std::vector<std::string> parts;
  for (const auto& c : split(name, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") return refused(name, "'..' in the path");
    if (c.size() > limits.max_component_bytes)
      return refused(name, "a path component is longer than " + std::to_string(limits.max_component_bytes) + " bytes");
    parts.push_back(c);
  }
  return join(parts, "/");
}

Result<std::string> resolve_inside(const std::string& root, const std::string& rel) {
  std::vector<std::string> done;
  std::deque<std::string> todo;
  for (const auto& c : split(rel, '/')) todo.push_back(c);
  bool on_disk = true;  // past a missing component, the rest is resolved by name only
  int hops = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.front());
    todo.pop_front();
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (done.empty()) return Error(ErrorCode::kInvalid, "'" + printable(rel) + "' leads outside the destination");
      done.pop_back();
      continue;
    }
    done.push_back(c);
    if (!on_disk) continue;
    std::string path = root + "/" + join(done, "/");
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      on_disk = false;
      continue;
    }
    if (!S_ISLNK(st.st_mode)) continue;
    if (++hops > kMaxSymlinkHops) return Error(ErrorCode::kInvalid, "'" + printable(rel) + "': too many levels of symlinks");
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    if (n < 0) return io_error("cannot read symlink " + path);
    target.resize(static_cast<size_t>(n));
    if (target.empty() || target[0] == '/')
      return Error(ErrorCode::kInvalid, "'" + printable(rel) + "' goes through a symlink to '" + printable(target) + "'");
    done.pop_back();
    auto parts = split(target, '/');
    todo.insert(todo.begin(), parts.begin(), parts.end());
  }
  return join(done, "/");
}

namespace {

// Writes entries into dir through libarchive's disk writer, checking each first.
class Extractor {
 public:
  Extractor(const std::string& dir, const UnpackLimits& limits) : dir_(dir), lim_(limits) {}

  Status begin() {
    out_.reset(archive_write_disk_new());
    if (!out_) return internal("artifacts: cannot allocate an archive writer");
    // PERM keeps file modes (set-id bits are stripped below); no OWNER: files belong to us.
    archive_write_disk_set_options(out_.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                                   ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    return {};
  }

  // One entry from `in`, data included. `raw` is its name as the source spelt it.
  Status add(archive* in, archive_entry* e, const std::string& raw, bool check_ratio) {
    if (++entries_ > lim_.max_entries)
      return refused(raw, "more than " + std::to_string(lim_.max_entries) + " entries");
    auto norm = normalize_entry_name(raw, lim_);
    if (!norm.ok()) return norm.take_error();
    std::string name = *norm;
    Kind kind = TRY(kind_of(e, raw));
    if (name.empty()) {
      if (kind == Kind::kDir) return {};  // "./": the destination itself
      return refused(raw, "entry without a name");
    }
    TRY_STATUS(check_place(name, kind, raw));
    if (seen_.count(name)) return {};  // a directory named twice: harmless
    seen_[name] = kind;
    for (std::string p = parent_of(name); !p.empty(); p = parent_of(p)) parents_.insert(p);

    std::string full = dir_ + "/" + name;
    switch (kind) {
      case Kind::kSymlink:
        return defer_symlink(e, name, full, raw);
      case Kind::kHardlink:
        TRY_STATUS(point_hardlink(e, raw));
        break;
      case Kind::kFile:
        if (archive_entry_size(e) > 0 && total_ + static_cast<uint64_t>(archive_entry_size(e)) > lim_.max_total_bytes)
          return too_big(raw);
        archive_entry_set_perm(e, archive_entry_perm(e) & 0777);
        break;
      case Kind::kDir:
        archive_entry_set_perm(e, (archive_entry_perm(e) & 0777) | 0700);
        break;
    }
    archive_entry_set_pathname(e, full.c_str());
    if (archive_write_header(out_.get(), e) < ARCHIVE_WARN)
      return refused(raw, std::string("cannot be written: ") + archive_message(out_.get()));
    if (kind == Kind::kFile || kind == Kind::kHardlink) TRY_STATUS(copy_data(in, raw, check_ratio));
    if (archive_write_finish_entry(out_.get()) < ARCHIVE_WARN)
      return refused(raw, std::string("cannot be written: ") + archive_message(out_.get()));
    return {};
  }

  // Symlinks last, then directory modes; then every symlink must resolve inside.
  Status finish() {
    for (auto& [name, e] : symlinks_)
      if (archive_write_header(out_.get(), e.get()) < ARCHIVE_WARN)
        return refused(name, std::string("cannot be written: ") + archive_message(out_.get()));
    if (archive_write_close(out_.get()) < ARCHIVE_WARN)
      return invalid(std::string("artifact: cannot finish unpacking: ") + archive_message(out_.get()));
    for (auto& [name, e] : symlinks_) {
      auto r = resolve_inside(dir_, name);
      if (!r.ok()) return refused(name, "symlink resolves outside the destination (" + r.error().message + ")");
    }
    return {};
  }

 private:
  Result<Kind> kind_of(archive_entry* e, const std::string& raw) {
    if (archive_entry_hardlink(e)) return Kind::kHardlink;
    switch (archive_entry_filetype(e)) {
      case AE_IFREG: return Kind::kFile;
      case AE_IFDIR: return Kind::kDir;
      case AE_IFLNK: return Kind::kSymlink;
      case AE_IFCHR: return refused(raw, "character device: only files, directories and links are allowed");
      case AE_IFBLK: return refused(raw, "block device: only files, directories and links are allowed");
      case AE_IFIFO: return refused(raw, "fifo: only files, directories and links are allowed");
      case AE_IFSOCK: return refused(raw, "socket: only files, directories and links are allowed");
      default: return refused(raw, "unknown entry type: only files, directories and links are allowed");
    }
  }

  // Nothing may be written through a symlink or a file, or replace an earlier entry.
  Status check_place(const std::string& name, Kind kind, const std::string& raw) {
    for (std::string p = parent_of(name); !p.empty(); p = parent_of(p)) {
      auto it = seen_.find(p);
      if (it == seen_.end() || it->second == Kind::kDir) continue;
      return refused(raw, it->second == Kind::kSymlink ? "goes through the symlink '" + printable(p) + "'"
                                                       : "goes through the file '" + printable(p) + "'");
    }
    auto it = seen_.find(name);
    if (it != seen_.end() && !(it->second == Kind::kDir && kind == Kind::kDir))
      return refused(raw, "appears twice in the archive (it would replace the earlier entry)");
    if (parents_.count(name) && kind != Kind::kDir)
      return refused(raw, "would replace a directory that earlier entries were written into");
    return {};
  }

  Status defer_symlink(archive_entry* e, const std::string& name, const std::string& full, const std::string& raw) {
    const char* t = archive_entry_symlink(e);
    std::string target = t ? t : "";
    if (target.empty()) return refused(raw, "symlink without a target");
    if (target[0] == '/') return refused(raw, "symlink to the absolute path '" + printable(target) + "'");
    std::string parent = parent_of(name);
    auto r = resolve_inside(dir_, parent.empty() ? target : parent + "/" + target);
    if (!r.ok()) return refused(raw, "symlink to '" + printable(target) + "' points outside the destination");
    Entry copy(archive_entry_clone(e));
    archive_entry_set_pathname(copy.get(), full.c_str());
    symlinks_.emplace_back(name, std::move(copy));
    return {};
  }

  Status point_hardlink(archive_entry* e, const std::string& raw) {
    std::string target = archive_entry_hardlink(e);
    auto norm = normalize_entry_name(target, lim_);
    if (!norm.ok()) return refused(raw, "hard link to '" + printable(target) + "' leaves the destination");
    auto it = seen_.find(*norm);
    if (it == seen_.end() || (it->second != Kind::kFile && it->second != Kind::kHardlink))
      return refused(raw, "hard link to '" + printable(target) + "', which is not a regular file earlier in the archive");
    archive_entry_set_hardlink(e, (dir_ + "/" + *norm).c_str());
    return {};
  }

  Error too_big(const std::string& raw) {
    return refused(raw, "the artifact unpacks to more than " + std::to_string(lim_.max_total_bytes) + " bytes");
  }

  Status copy_data(archive* in, const std::string& raw, bool check_ratio) {
    for (;;) {
      const void* buf = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      int r = archive_read_data_block(in, &buf, &size, &offset);
      if (r == ARCHIVE_EOF) return {};
      if (r < ARCHIVE_WARN) return refused(raw, std::string("damaged data: ") + archive_message(in));
      total_ += size;
      if (total_ > lim_.max_total_bytes) return too_big(raw);
      if (check_ratio && total_ > lim_.ratio_grace_bytes) {
        uint64_t packed = static_cast<uint64_t>(std::max<la_int64_t>(archive_filter_bytes(in, -1), 1));
        if (total_ / packed >= lim_.max_ratio)
          return refused(raw, "compression ratio over " + std::to_string(lim_.max_ratio) +
                                  ":1 (" + std::to_string(total_) + " bytes from " + std::to_string(packed) + ")");
      }
      if (archive_write_data_block(out_.get(), buf, size, offset) < ARCHIVE_WARN)
        return refused(raw, std::string("cannot be written: ") + archive_message(out_.get()));
    }
  }

  std::string dir_;
  UnpackLimits lim_;
  WriteArchive out_;
  uint64_t entries_ = 0;
  uint64_t total_ = 0;
  std::map<std::string, Kind> seen_;   // every entry written, by normalised name
  std::set<std::string> parents_;      // directories entries were written into
  std::vector<std::pair<std::string, Entry>> symlinks_;
};

}  // namespace

Status check_symlinks_inside(const std::string& dir, const std::string& sub) {
  std::string root = sub.empty() ? dir : dir + "/" + sub;
  std::error_code ec;
  if (fs::is_symlink(root, ec)) return refused(sub, "the artifact itself is a symlink");
  if (!fs::is_directory(root, ec)) return {};
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_symlink(ec)) continue;
    std::string rel = it->path().string().substr(root.size() + 1);
    auto r = resolve_inside(root, rel);
    if (!r.ok()) return refused(sub.empty() ? rel : sub + "/" + rel, "symlink resolves outside the destination (" +
                                                                        r.error().message + ")");
  }
  if (ec) return Error(ErrorCode::kIo, "artifacts: cannot walk " + root + ": " + ec.message());
  return {};
}

Status unpack_tar_gz(const std::string& archive_path, const std::string& dir, const UnpackLimits& limits) {
  ReadArchive in(archive_read_new());
  if (!in) return internal("artifacts: cannot allocate an archive reader");
  archive_read_support_filter_gzip(in.get());
  archive_read_support_format_tar(in.get());
  if (archive_read_open_filename(in.get(), archive_path.c_str(), 1 << 16) != ARCHIVE_OK)
    return invalid("artifact " + archive_path + " is not a readable tar.gz: " + archive_message(in.get()));
  Extractor ex(dir, limits);
  TRY_STATUS(ex.begin());
  for (;;) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(in.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return invalid("artifact " + archive_path + " is damaged: " + archive_message(in.get()));
    const char* name = archive_entry_pathname(e);
    TRY_STATUS(ex.add(in.get(), e, name ? name : "", true));
  }
  return ex.finish();
}

Status copy_tree_checked(const std::string& src, const std::string& dir, const std::string& top,
                         const UnpackLimits& limits) {
  ReadArchive in(archive_read_disk_new());
  if (!in) return internal("artifacts: cannot allocate a disk reader");
  archive_read_disk_set_symlink_physical(in.get());
  archive_read_disk_set_behavior(in.get(), ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL |
                                               ARCHIVE_READDISK_NO_FFLAGS | ARCHIVE_READDISK_NO_SPARSE);
  if (archive_read_disk_open(in.get(), src.c_str()) != ARCHIVE_OK)
    return io_error("artifact " + src + ": " + archive_message(in.get()));
  Extractor ex(dir, limits);
  TRY_STATUS(ex.begin());
  for (;;) {
    Entry e(archive_entry_new());
    int r = archive_read_next_header2(in.get(), e.get());
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return invalid("artifact " + src + ": " + archive_message(in.get()));
    std::string path = archive_entry_pathname(e.get()) ? archive_entry_pathname(e.get()) : "";
    std::string rel = path.size() > src.size() ? path.substr(src.size() + 1) : std::string();
    if (archive_entry_filetype(e.get()) == AE_IFDIR) archive_read_disk_descend(in.get());
    TRY_STATUS(ex.add(in.get(), e.get(), rel.empty() ? top : top + "/" + rel, false));
  }
  return ex.finish();
}

}  // namespace tether::artifacts
