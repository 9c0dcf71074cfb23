#include "artifacts/local_repo.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <vector>

#include "base/fd.h"
#include "base/log.h"
#include "base/strings.h"

namespace tether::artifacts {

namespace fs = std::filesystem;
using engine::ArchiveMode;

namespace {

constexpr size_t kChunk = 1 << 20;

std::string parent_of(const std::string& path) {
  std::string p = fs::path(path).parent_path().string();
  return p.empty() ? "." : p;
}
std::string base_of(const std::string& path) { return fs::path(path).filename().string(); }
// "a/./b/" → "a/b": the base name of a folder given with a trailing slash is its name.
std::string clean_path(const std::string& path) {
  std::string s = fs::path(path).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

Status fsync_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) return io_error("artifacts: cannot sync folder " + dir);
  return {};
}

Status make_dirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error(ErrorCode::kIo, "artifacts: cannot create " + dir + ": " + ec.message());
  return {};
}

// A unique hidden name beside `target`: temporaries live in the target's own folder so the
// final rename is atomic, and their names never collide with a key's.
std::string temp_name(const std::string& target) {
  static std::atomic<uint64_t> counter{0};
  return parent_of(target) + "/." + base_of(target) + ".tether-tmp-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter++);
}

// Removes a temporary unless release() was called.
class TempGuard {
 public:
  explicit TempGuard(std::string path) : path_(std::move(path)) {}
  ~TempGuard() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  void release() { path_.clear(); }

 private:
  std::string path_;
};

// Copies a regular file, by reflink when the filesystem shares extents, else in the kernel.
Status copy_file(const std::string& src, const std::string& dst, mode_t mode) {
  UniqueFd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return io_error("artifacts: cannot open " + src);
  UniqueFd out(::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777));
  if (!out.valid()) return io_error("artifacts: cannot create " + dst);
  if (::ioctl(out.get(), FICLONE, in.get()) != 0) {
    for (;;) {
      ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, kChunk * 64, 0);
      if (n == 0) break;
      if (n > 0) continue;
      if (errno == EINTR) continue;
      if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
        return io_error("artifacts: cannot copy " + src + " to " + dst);
      // No kernel copy between these filesystems: plain read/write from where we are.
      std::vector<char> buf(kChunk);
      for (;;) {
        ssize_t r = ::read(in.get(), buf.data(), buf.size());
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return io_error("artifacts: cannot read " + src);
        if (r == 0) break;
        for (ssize_t off = 0; off < r;) {
          ssize_t w = ::write(out.get(), buf.data() + off, static_cast<size_t>(r - off));
          if (w < 0 && errno == EINTR) continue;
          if (w < 0) return io_error("artifacts: cannot write " + dst);
          off += w;
        }
      }
      break;
    }
  }
  if (::fchmod(out.get(), mode & 07777) != 0 || ::fsync(out.get()) != 0) return io_error("artifacts: cannot sync " + dst);
  return {};
}

// A step's file kept by hard link (see local_repo.h), else copied.
Status link_or_copy(const std::string& src, const std::string& dst, mode_t mode) {
  // AT_SYMLINK_FOLLOW: a step's output that is a symlink is stored as the file it names.
  if (::linkat(AT_FDCWD, src.c_str(), AT_FDCWD, dst.c_str(), AT_SYMLINK_FOLLOW) == 0) {
    UniqueFd fd(::open(dst.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid() || ::fsync(fd.get()) != 0) return io_error("artifacts: cannot sync " + dst);
    return {};
  }
  return copy_file(src, dst, mode);
}

std::vector<std::string> sorted_names(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// ---- tar.gz writing, laid out as Argo's executor does (util/archive TarGzToWriter)

struct WriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

class TarGzWriter {
 public:
  TarGzWriter(const std::function<Status(uint64_t)>& progress) : progress_(progress) {}

  Status open(int fd, int level) {
    a_.reset(archive_write_new());
    if (!a_) return internal("artifacts: cannot allocate an archive writer");
    archive_write_add_filter_gzip(a_.get());
    if (level >= 0 &&
        archive_write_set_filter_option(a_.get(), "gzip", "compression-level", std::to_string(level).c_str()) != ARCHIVE_OK)
      return invalid("artifacts: compression level " + std::to_string(level) + " is not 0-9");
    // Go's archive/tar writes USTAR and PAX records only where needed: pax_restricted
    // does the same, so long names and large files survive and other tars read it.
    archive_write_set_format_pax_restricted(a_.get());
    archive_write_set_bytes_in_last_block(a_.get(), 1);
    if (archive_write_open_fd(a_.get(), fd) != ARCHIVE_OK) return fail("open");
    return {};
  }

  // A file becomes one entry named after it; a directory, its tree under its base name.
  Status add(const std::string& path, const std::string& name, bool top) {
    struct stat st;
    if ((top ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st)) != 0) return io_error("artifacts: " + path);
    std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_copy_stat(e.get(), &st);
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_uname(e.get(), "");
    archive_entry_set_gname(e.get(), "");
    if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
      if (n < 0) return io_error("artifacts: cannot read symlink " + path);
      target.resize(static_cast<size_t>(n));
      archive_entry_set_symlink(e.get(), target.c_str());
    } else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
      log::warn("artifacts: {} is neither a file, a directory nor a symlink; not archived", path);
      return {};
    }
    if (!S_ISREG(st.st_mode)) archive_entry_set_size(e.get(), 0);
    if (archive_write_header(a_.get(), e.get()) < ARCHIVE_WARN) return fail("write " + name);
    if (S_ISREG(st.st_mode)) TRY_STATUS(copy_in(path));
    if (S_ISDIR(st.st_mode))
      for (const auto& child : sorted_names(path)) TRY_STATUS(add(path + "/" + child, name + "/" + child, false));
    return {};
  }

  Status close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) return fail("finish");
    return {};
  }

 private:
  Status copy_in(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return io_error("artifacts: cannot open " + path);
    std::vector<char> buf(kChunk);
    for (;;) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return io_error("artifacts: cannot read " + path);
      if (n == 0) return {};
      if (archive_write_data(a_.get(), buf.data(), static_cast<size_t>(n)) != n) return fail("write " + path);
      written_ += static_cast<uint64_t>(n);
      if (progress_) TRY_STATUS(progress_(written_));
    }
  }

  Error fail(const std::string& what) {
    const char* m = archive_error_string(a_.get());
    return Error(ErrorCode::kIo, "artifacts: cannot " + what + ": " + (m ? m : "libarchive error"));
  }

  const std::function<Status(uint64_t)>& progress_;
  std::unique_ptr<archive, WriteFree> a_;
  uint64_t written_ = 0;
};

// The step's tree, files linked where possible (kNone).
Status copy_tree_linked(const std::string& src, const std::string& dst, const std::function<Status(uint64_t)>& progress,
                        uint64_t& done) {
  struct stat st;
  if (::stat(src.c_str(), &st) != 0) return io_error("artifacts: " + src);
  if (::mkdir(dst.c_str(), (st.st_mode & 07777) | 0700) != 0) return io_error("artifacts: cannot create " + dst);
  for (const auto& name : sorted_names(src)) {
    std::string from = src + "/" + name, to = dst + "/" + name;
    struct stat cst;
    if (::lstat(from.c_str(), &cst) != 0) return io_error("artifacts: " + from);
    if (S_ISDIR(cst.st_mode)) {
      TRY_STATUS(copy_tree_linked(from, to, progress, done));
    } else if (S_ISLNK(cst.st_mode)) {
      std::string target(static_cast<size_t>(cst.st_size) + 1, '\0');
      ssize_t n = ::readlink(from.c_str(), target.data(), target.size());
      if (n < 0) return io_error("artifacts: cannot read symlink " + from);
      target.resize(static_cast<size_t>(n));
      if (::symlink(target.c_str(), to.c_str()) != 0) return io_error("artifacts: cannot create " + to);
    } else if (S_ISREG(cst.st_mode)) {
      TRY_STATUS(link_or_copy(from, to, cst.st_mode));
      done += static_cast<uint64_t>(cst.st_size);
      if (progress) TRY_STATUS(progress(done));
    }
  }
  return fsync_dir(dst);
}

// Puts tmp at target in one step. A directory (or a file replacing one) is swapped in
// with RENAME_EXCHANGE, so readers see the old or the new artifact, never a mix.
Status publish(const std::string& tmp, const std::string& target) {
  struct stat st;
  bool target_is_dir = ::lstat(target.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  if (target_is_dir) {
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0)
      return io_error("artifacts: cannot replace " + target);
    std::error_code ec;
    fs::remove_all(tmp, ec);  // now the old artifact
  } else if (::rename(tmp.c_str(), target.c_str()) != 0) {
    return io_error("artifacts: cannot rename " + tmp + " to " + target);
  }
  return fsync_dir(parent_of(target));
}

bool is_tar_gz(const std::string& path) {
  unsigned char magic[2] = {0, 0};
  {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid() || ::read(fd.get(), magic, 2) != 2 || magic[0] != 0x1f || magic[1] != 0x8b) return false;
  }
  // Gzip alone is not enough: a gzipped CSV stored unarchived must come back as it is.
  struct ReadFree {
    void operator()(archive* a) const { archive_read_free(a); }
  };
  std::unique_ptr<archive, ReadFree> a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  archive_entry* e = nullptr;
  return archive_read_open_filename(a.get(), path.c_str(), 1 << 16) == ARCHIVE_OK &&
         archive_read_next_header(a.get(), &e) >= ARCHIVE_WARN;
}

Result<std::string> check_sub_path(const std::string& sub) {
  auto n = normalize_entry_name(sub, UnpackLimits{});
  if (!n.ok()) return invalid("artifact subPath '" + sub + "' is not a relative path inside the artifact");
  return n;
}

// Moves what a load produced into place: dest may be absent or an empty directory.
Status place(const std::string& from, const std::string& dest) {
  struct stat st;
  if (::lstat(dest.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode) || ::rmdir(dest.c_str()) != 0)
      return Error(ErrorCode::kConflict, "artifacts: " + dest + " already exists");
  }
  if (::rename(from.c_str(), dest.c_str()) != 0) return io_error("artifacts: cannot rename " + from + " to " + dest);
  return fsync_dir(parent_of(dest));
}

}  // namespace

Status check_key(const std::string& key) {
  auto bad = [&](const std::string& why) { return invalid("artifact key '" + key + "': " + why); };
  if (key.empty()) return bad("empty");
  if (key.find('\0') != std::string::npos) return bad("contains NUL");
  if (key[0] == '/') return bad("absolute path");
  for (const auto& c : split(key, '/')) {
    if (c.empty()) return bad("empty path component");
    if (c == "." || c == "..") return bad("'" + c + "' component");
  }
  return {};
}

Status LocalRepo::save(const engine::SaveRequest& req) {
  TRY_STATUS(check_key(req.key));
  struct stat st;
  if (::stat(req.src.c_str(), &st) != 0) {
    if (errno == ENOENT) return not_found("artifact source " + req.src + " does not exist");
    return io_error("artifacts: " + req.src);
  }
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
    return invalid("artifact source " + req.src + " is not a regular file or directory");
  std::string target = path_of(req.key);
  TRY_STATUS(make_dirs(parent_of(target)));
  std::string tmp = temp_name(target);
  TempGuard guard(tmp);

  if (req.archive == ArchiveMode::kTarGz) {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd.valid()) return io_error("artifacts: cannot create " + tmp);
    TarGzWriter w(opts_.on_save_progress);
    TRY_STATUS(w.open(fd.get(), req.compression_level));
    TRY_STATUS(w.add(req.src, base_of(clean_path(req.src)), true));
    TRY_STATUS(w.close());
    if (::fsync(fd.get()) != 0) return io_error("artifacts: cannot sync " + tmp);
  } else if (S_ISDIR(st.st_mode)) {
    uint64_t done = 0;
    TRY_STATUS(copy_tree_linked(req.src, tmp, opts_.on_save_progress, done));
  } else {
    TRY_STATUS(link_or_copy(req.src, tmp, st.st_mode));
    if (opts_.on_save_progress) TRY_STATUS(opts_.on_save_progress(static_cast<uint64_t>(st.st_size)));
  }
  TRY_STATUS(publish(tmp, target));
  guard.release();
  return {};
}

Status LocalRepo::load(const engine::LoadRequest& req) {
  TRY_STATUS(check_key(req.key));
  std::string sub;
  if (!req.sub_path.empty()) sub = TRY(check_sub_path(req.sub_path));
  std::string src = path_of(req.key);
  struct stat st;
  if (::lstat(src.c_str(), &st) != 0) {
    if (errno == ENOENT) return not_found("artifact " + req.key + " not found in " + root_);
    return io_error("artifacts: " + src);
  }
  if (req.dest.empty()) return invalid("artifact " + req.key + ": no destination path");
  std::string dest = clean_path(req.dest);
  TRY_STATUS(make_dirs(parent_of(dest)));

  // Unpack beside dest, then rename: a refused archive never leaves anything at dest.
  std::string tmp = temp_name(dest);
  if (::mkdir(tmp.c_str(), 0755) != 0) return io_error("artifacts: cannot create " + tmp);
  TempGuard guard(tmp);
  std::error_code ec;
  tmp = fs::canonical(tmp, ec).string();  // libarchive's symlink checks want a path without links
  if (ec) return Error(ErrorCode::kIo, "artifacts: " + tmp + ": " + ec.message());

  std::string top = base_of(req.key);
  if (S_ISDIR(st.st_mode)) TRY_STATUS(copy_tree_checked(src, tmp, top, opts_.limits));
  else if (S_ISREG(st.st_mode) && is_tar_gz(src)) TRY_STATUS(unpack_tar_gz(src, tmp, opts_.limits));
  else if (S_ISREG(st.st_mode)) TRY_STATUS(copy_file(src, tmp + "/" + top, st.st_mode));
  else return invalid("artifact " + req.key + " is neither a file nor a directory");

  // As Argo's unpack: an archive of one file or one directory becomes dest itself;
  // several top-level entries become a directory at dest.
  auto entries = sorted_names(tmp);
  std::string root_rel = entries.size() == 1 ? entries[0] : std::string();
  std::string chosen = root_rel;
  if (!sub.empty()) {
    auto r = resolve_inside(tmp, root_rel.empty() ? sub : root_rel + "/" + sub);
    if (!r.ok()) return invalid("artifact " + req.key + ": subPath '" + req.sub_path + "': " + r.error().message);
    chosen = *r;
    struct stat sst;
    if (chosen.empty() || ::lstat((tmp + "/" + chosen).c_str(), &sst) != 0)
      return not_found("artifact " + req.key + ": subPath '" + req.sub_path + "' not found");
  }
  TRY_STATUS(check_symlinks_inside(tmp, chosen));
  std::string from = chosen.empty() ? tmp : tmp + "/" + chosen;
  if (req.mode >= 0 && ::chmod(from.c_str(), static_cast<mode_t>(req.mode)) != 0)
    return io_error("artifacts: cannot chmod " + from);
  TRY_STATUS(place(from, dest));
  if (from == tmp) guard.release();
  return {};
}

Result<bool> LocalRepo::exists(const std::string& key) {
  TRY_STATUS(check_key(key));
  struct stat st;
  if (::lstat(path_of(key).c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return io_error("artifacts: " + path_of(key));
}

Status LocalRepo::remove_prefix(const std::string& prefix) {
  bool whole_folder = !prefix.empty() && prefix.back() == '/';
  std::string key = whole_folder ? prefix.substr(0, prefix.size() - 1) : prefix;
  TRY_STATUS(check_key(key));
  std::string path = path_of(key);
  std::error_code ec;
  if (whole_folder) {
    fs::remove_all(path, ec);
  } else {
    std::string dir = parent_of(path), stem = base_of(path);
    for (const auto& name : sorted_names(dir))
      if (starts_with(name, stem) && !ec) fs::remove_all(dir + "/" + name, ec);
  }
  if (ec) return Error(ErrorCode::kIo, "artifacts: cannot remove " + prefix + ": " + ec.message());
  return {};
}

}  // namespace tether::artifacts
