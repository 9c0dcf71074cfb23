#include "artifacts/local_repo.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "base/strings.h"
#include "testlib/temp_dir.h"

namespace tether::artifacts {
namespace {

namespace fs = std::filesystem;
using engine::ArchiveMode;
using engine::LoadRequest;
using engine::SaveRequest;

void write(const std::string& path, const std::string& data, int mode = 0644) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  ::chmod(path.c_str(), static_cast<mode_t>(mode));
}

std::string read(const std::string& path) {
  auto r = read_file(path);
  return r.ok() ? *r : std::string("(unreadable)");
}

int mode_of(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 07777) : -1;
}

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen() & 0xff);
  return s;
}

// Everything about a tree that an escape could change: names, types, modes, contents,
// link targets.
std::string fingerprint(const std::string& root) {
  std::string out;
  if (!fs::exists(fs::symlink_status(root))) return "(absent)";
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    const std::string p = it->path().string();
    out += p.substr(root.size()) + " " + std::to_string(mode_of(p));
    if (it->is_symlink()) out += " -> " + fs::read_symlink(p).string();
    else if (it->is_regular_file()) out += " = " + read(p);
    out += "\n";
  }
  return out;
}

std::vector<std::string> entries_of_tgz(const std::string& path) {
  std::vector<std::string> names;
  archive* a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, path.c_str(), 1 << 16) == ARCHIVE_OK) {
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) names.push_back(archive_entry_pathname(e));
  }
  archive_read_free(a);
  return names;
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class LocalRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    tmp_ = dir_.path();
    root_ = tmp_ + "/repo";
    repo_ = std::make_unique<LocalRepo>(root_, options());
  }
  virtual RepoOptions options() { return {}; }

  void save(const std::string& src, const std::string& key, ArchiveMode mode = ArchiveMode::kTarGz) {
    auto st = repo_->save({src, key, mode, -1});
    ASSERT_TRUE(st.ok()) << st.error().str();
  }
  void load(const std::string& key, const std::string& dest, const std::string& sub = "", int mode = -1) {
    auto st = repo_->load({key, dest, sub, mode});
    ASSERT_TRUE(st.ok()) << st.error().str();
  }

  // out/ a.txt (0640), sub/b.bin (binary), sub/empty/, link -> a.txt, dirlink -> sub
  std::string make_tree() {
    std::string d = tmp_ + "/step/out";
    write(d + "/a.txt", "alpha\n", 0640);
    write(d + "/sub/b.bin", random_bytes(300000, 7));
    fs::create_directories(d + "/sub/empty");
    fs::create_symlink("a.txt", d + "/link");
    fs::create_symlink("sub", d + "/dirlink");
    return d;
  }
  void expect_tree(const std::string& d) {
    EXPECT_EQ(read(d + "/a.txt"), "alpha\n");
    EXPECT_EQ(mode_of(d + "/a.txt"), 0640);
    EXPECT_EQ(read(d + "/sub/b.bin"), random_bytes(300000, 7));
    EXPECT_TRUE(fs::is_directory(d + "/sub/empty"));
    EXPECT_TRUE(fs::is_empty(d + "/sub/empty"));
    EXPECT_EQ(fs::read_symlink(d + "/link"), "a.txt");
    EXPECT_EQ(fs::read_symlink(d + "/dirlink"), "sub");
    EXPECT_EQ(read(d + "/dirlink/b.bin").size(), 300000u);
  }

  testlib::TempDir dir_{"tether-artifacts"};
  std::string tmp_, root_;
  std::unique_ptr<LocalRepo> repo_;
};

TEST_F(LocalRepoTest, FileTarGzRoundTripAsArgoLaysItOut) {
  write(tmp_ + "/step/hello.txt", "hello world\n", 0640);
  save(tmp_ + "/step/hello.txt", "wf/pod-1/hello.tgz");
  EXPECT_TRUE(*repo_->exists("wf/pod-1/hello.tgz"));
  EXPECT_FALSE(*repo_->exists("wf/pod-1/other.tgz"));
  // Argo's tarFile: one entry named after the file.
  EXPECT_EQ(entries_of_tgz(repo_->path_of("wf/pod-1/hello.tgz")), std::vector<std::string>{"hello.txt"});
  load("wf/pod-1/hello.tgz", tmp_ + "/next/inputs/message");
  EXPECT_EQ(read(tmp_ + "/next/inputs/message"), "hello world\n");
  EXPECT_EQ(mode_of(tmp_ + "/next/inputs/message"), 0640);
  EXPECT_EQ(names_in(tmp_ + "/next/inputs"), std::vector<std::string>{"message"});  // no temporaries left
}

TEST_F(LocalRepoTest, DirectoryTreeWithSymlinksRoundTrip) {
  std::string src = make_tree();
  save(src, "wf/pod/out.tgz");
  // Argo's tarDir: the tree under the directory's base name, parents before children
  // (libarchive marks directories with a trailing slash, which every tar reader accepts).
  auto names = entries_of_tgz(repo_->path_of("wf/pod/out.tgz"));
  EXPECT_EQ(names, (std::vector<std::string>{"out/", "out/a.txt", "out/dirlink", "out/link", "out/sub/",
                                             "out/sub/b.bin", "out/sub/empty/"}));
  load("wf/pod/out.tgz", tmp_ + "/next/in");
  expect_tree(tmp_ + "/next/in");
}

TEST_F(LocalRepoTest, EmptyDirectoryRoundTrip) {
  fs::create_directories(tmp_ + "/step/empty");
  save(tmp_ + "/step/empty", "k/empty.tgz");
  load("k/empty.tgz", tmp_ + "/dest");
  EXPECT_TRUE(fs::is_directory(tmp_ + "/dest"));
  EXPECT_TRUE(fs::is_empty(tmp_ + "/dest"));
}

TEST_F(LocalRepoTest, BinaryDataAndCompressionLevels) {
  std::string data = random_bytes(2 << 20, 3) + std::string(1 << 20, '\0');
  write(tmp_ + "/step/blob", data);
  for (int level : {-1, 0, 1, 9}) {
    std::string key = "k/blob" + std::to_string(level + 1) + ".tgz";
    auto st = repo_->save({tmp_ + "/step/blob", key, ArchiveMode::kTarGz, level});
    ASSERT_TRUE(st.ok()) << st.error().str();
    load(key, tmp_ + "/out" + std::to_string(level + 1));
    EXPECT_EQ(read(tmp_ + "/out" + std::to_string(level + 1)), data) << "level " << level;
  }
  // Level 0 stores; level 9 must squeeze the megabyte of zeros.
  EXPECT_GT(fs::file_size(repo_->path_of("k/blob1.tgz")), data.size());
  EXPECT_LT(fs::file_size(repo_->path_of("k/blob10.tgz")), data.size() - (1 << 19));
  EXPECT_FALSE(repo_->save({tmp_ + "/step/blob", "k/bad.tgz", ArchiveMode::kTarGz, 12}).ok());
}

TEST_F(LocalRepoTest, ModeIsApplied) {
  write(tmp_ + "/step/run.sh", "#!/bin/sh\n");
  save(tmp_ + "/step/run.sh", "k/run.tgz");
  load("k/run.tgz", tmp_ + "/bin/run.sh", "", 0755);
  EXPECT_EQ(mode_of(tmp_ + "/bin/run.sh"), 0755);
  save(make_tree(), "k/tree.tgz");
  load("k/tree.tgz", tmp_ + "/tree", "", 0700);
  EXPECT_EQ(mode_of(tmp_ + "/tree"), 0700);
}

TEST_F(LocalRepoTest, SubPathSelectsOneEntry) {
  save(make_tree(), "k/out.tgz");
  load("k/out.tgz", tmp_ + "/b.bin", "sub/b.bin");
  EXPECT_EQ(read(tmp_ + "/b.bin"), random_bytes(300000, 7));
  load("k/out.tgz", tmp_ + "/subdir", "sub");
  EXPECT_EQ(names_in(tmp_ + "/subdir"), (std::vector<std::string>{"b.bin", "empty"}));
  load("k/out.tgz", tmp_ + "/via-link", "dirlink/b.bin");  // a symlink inside the artifact
  EXPECT_EQ(read(tmp_ + "/via-link").size(), 300000u);

  auto missing = repo_->load({"k/out.tgz", tmp_ + "/x", "nope.txt", -1});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("nope.txt"), std::string::npos);
  EXPECT_FALSE(repo_->load({"k/out.tgz", tmp_ + "/x", "../out/a.txt", -1}).ok());
  EXPECT_FALSE(repo_->load({"k/out.tgz", tmp_ + "/x", "/etc/passwd", -1}).ok());
  EXPECT_FALSE(fs::exists(fs::symlink_status(tmp_ + "/x")));
}

TEST_F(LocalRepoTest, UnarchivedFileIsLinkedAndLoadedAsACopy) {
  write(tmp_ + "/step/data.csv", "a,b\n1,2\n");
  save(tmp_ + "/step/data.csv", "k/data.csv", ArchiveMode::kNone);
  struct stat src, stored;
  ASSERT_EQ(::stat((tmp_ + "/step/data.csv").c_str(), &src), 0);
  ASSERT_EQ(::stat(repo_->path_of("k/data.csv").c_str(), &stored), 0);
  EXPECT_EQ(src.st_ino, stored.st_ino);  // same filesystem: a hard link, no copy
  load("k/data.csv", tmp_ + "/in/data.csv");
  EXPECT_EQ(read(tmp_ + "/in/data.csv"), "a,b\n1,2\n");
  write(tmp_ + "/in/data.csv", "changed by the consumer");
  EXPECT_EQ(read(repo_->path_of("k/data.csv")), "a,b\n1,2\n");  // the stored artifact is untouched
}

TEST_F(LocalRepoTest, SymlinkSourceIsStoredAsTheFileItNames) {
  write(tmp_ + "/step/real.txt", "real");
  fs::create_symlink("real.txt", tmp_ + "/step/alias.txt");
  for (ArchiveMode mode : {ArchiveMode::kNone, ArchiveMode::kTarGz}) {
    std::string key = mode == ArchiveMode::kNone ? "k/alias.txt" : "k/alias.tgz";
    save(tmp_ + "/step/alias.txt", key, mode);
    load(key, tmp_ + "/in/" + key);
    EXPECT_FALSE(fs::is_symlink(tmp_ + "/in/" + key));
    EXPECT_EQ(read(tmp_ + "/in/" + key), "real");
  }
}

TEST_F(LocalRepoTest, UnarchivedDirectoryRoundTrip) {
  save(make_tree(), "k/out", ArchiveMode::kNone);
  EXPECT_TRUE(fs::is_directory(repo_->path_of("k/out")));
  load("k/out", tmp_ + "/in");
  expect_tree(tmp_ + "/in");
  load("k/out", tmp_ + "/one", "sub/b.bin");
  EXPECT_EQ(read(tmp_ + "/one").size(), 300000u);
}

TEST_F(LocalRepoTest, GzippedFileStoredUnarchivedComesBackAsItIs) {
  std::string gz("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
  write(tmp_ + "/step/empty.csv.gz", gz);
  save(tmp_ + "/step/empty.csv.gz", "k/empty.csv.gz", ArchiveMode::kNone);
  load("k/empty.csv.gz", tmp_ + "/in.csv.gz");
  EXPECT_EQ(read(tmp_ + "/in.csv.gz"), gz);
}

TEST_F(LocalRepoTest, SavingAgainReplacesTheArtifact) {
  std::string d = make_tree();
  save(d, "k/out", ArchiveMode::kNone);
  fs::remove_all(d + "/sub");
  write(d + "/a.txt", "second\n");
  save(d, "k/out", ArchiveMode::kNone);
  EXPECT_FALSE(fs::exists(repo_->path_of("k/out/sub")));
  EXPECT_EQ(read(repo_->path_of("k/out/a.txt")), "second\n");
  write(tmp_ + "/f", "one");
  save(tmp_ + "/f", "k/f.tgz");
  write(tmp_ + "/f", "two");
  save(tmp_ + "/f", "k/f.tgz");
  load("k/f.tgz", tmp_ + "/g");
  EXPECT_EQ(read(tmp_ + "/g"), "two");
  EXPECT_EQ(names_in(root_ + "/k"), (std::vector<std::string>{"f.tgz", "out"}));
}

TEST_F(LocalRepoTest, DestinationRules) {
  write(tmp_ + "/f", "x");
  save(tmp_ + "/f", "k/f.tgz");
  fs::create_directories(tmp_ + "/empty-dest");
  load("k/f.tgz", tmp_ + "/empty-dest");  // an empty mount point is replaced
  EXPECT_EQ(read(tmp_ + "/empty-dest"), "x");
  write(tmp_ + "/full/keep", "keep");
  auto st = repo_->load({"k/f.tgz", tmp_ + "/full", "", -1});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kConflict);
  EXPECT_EQ(read(tmp_ + "/full/keep"), "keep");
  auto missing = repo_->load({"k/none.tgz", tmp_ + "/y", "", -1});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(LocalRepoTest, BadKeysAreRejected) {
  write(tmp_ + "/f", "x");
  for (const std::string& key : std::vector<std::string>{"", "/abs/key", "../up", "a/../b", "a//b", "a/./b", "trailing/",
                                                          std::string("nul\0key", 7)}) {
    auto st = repo_->save({tmp_ + "/f", key, ArchiveMode::kTarGz, -1});
    EXPECT_FALSE(st.ok()) << "key '" << key << "'";
    EXPECT_FALSE(repo_->exists(key).ok());
    EXPECT_FALSE(repo_->load({key, tmp_ + "/d", "", -1}).ok());
  }
  EXPECT_EQ(names_in(tmp_), (std::vector<std::string>{"f"}));
}

TEST_F(LocalRepoTest, RemovePrefix) {
  write(tmp_ + "/f", "x");
  for (const char* key : {"wf/p1/a.tgz", "wf/p12/b.tgz", "wf/q/c.tgz", "wf2/d.tgz"}) save(tmp_ + "/f", key);
  ASSERT_TRUE(repo_->remove_prefix("wf/p1").ok());
  EXPECT_EQ(names_in(root_ + "/wf"), std::vector<std::string>{"q"});
  ASSERT_TRUE(repo_->remove_prefix("wf2/").ok());
  EXPECT_FALSE(fs::exists(root_ + "/wf2"));
  EXPECT_TRUE(repo_->remove_prefix("never/there").ok());
  EXPECT_FALSE(repo_->remove_prefix("../x").ok());
  EXPECT_TRUE(*repo_->exists("wf/q/c.tgz"));
}

// A save that fails midway leaves no key and no temporary behind.
class InterruptedSaveTest : public LocalRepoTest {
  RepoOptions options() override {
    RepoOptions o;
    o.on_save_progress = [](uint64_t done) -> Status {
      if (done >= (1u << 20)) return Error(ErrorCode::kIo, "disk pulled out");
      return {};
    };
    return o;
  }
};

TEST_F(InterruptedSaveTest, LeavesNoKey) {
  write(tmp_ + "/big/a.bin", random_bytes(3 << 20, 1));
  write(tmp_ + "/big/b.bin", random_bytes(1 << 20, 2));
  for (ArchiveMode mode : {ArchiveMode::kTarGz, ArchiveMode::kNone}) {
    for (std::string src : {tmp_ + "/big/a.bin", tmp_ + "/big"}) {
      auto st = repo_->save({src, "k/art", mode, -1});
      ASSERT_FALSE(st.ok());
      EXPECT_NE(st.error().message.find("disk pulled out"), std::string::npos);
      EXPECT_FALSE(*repo_->exists("k/art"));
      EXPECT_EQ(names_in(root_ + "/k"), std::vector<std::string>{}) << src;
    }
  }
}

// Hostile archives written by testdata/make_evil.py: each must be refused with an error
// naming the entry, leave nothing at dest, and change nothing outside it.
class EvilArchiveTest : public LocalRepoTest {
 protected:
  RepoOptions options() override {
    RepoOptions o;
    o.limits.max_entries = 500;
    o.limits.max_total_bytes = 40 << 20;
    o.limits.ratio_grace_bytes = 1 << 20;
    o.limits.max_ratio = 100;
    return o;
  }
};

TEST_F(EvilArchiveTest, AreRefusedAndTouchNothing) {
  std::string script = TETHER_MAKE_EVIL;
  if (::access("/usr/bin/python3", X_OK) != 0 || !fs::exists(script)) GTEST_SKIP() << "python3 or " << script << " missing";
  std::string sentinel = tmp_ + "/sentinel";
  write(sentinel + "/file.txt", "precious");
  fs::create_directories(sentinel + "/dir");
  fs::create_symlink("file.txt", sentinel + "/link");
  std::string out = tmp_ + "/evil";
  std::string cmd = "python3 '" + script + "' '" + out + "' '" + sentinel + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::string before = fingerprint(sentinel);
  struct stat etc_before;
  ASSERT_EQ(::stat("/etc", &etc_before), 0);

  std::ifstream manifest(out + "/manifest.tsv");
  std::string line;
  int refused = 0, good = 0;
  while (std::getline(manifest, line)) {
    std::string name = line.substr(0, line.find('\t')), expected = line.substr(line.find('\t') + 1);
    SCOPED_TRACE(name);
    fs::create_directories(root_ + "/evil");
    fs::copy_file(out + "/" + name + ".tgz", root_ + "/evil/" + name + ".tgz");
    std::string work = tmp_ + "/work-" + name;
    fs::create_directories(work);
    auto st = repo_->load({"evil/" + name + ".tgz", work + "/dest", "", -1});
    if (expected == "OK") {
      EXPECT_TRUE(st.ok()) << st.error().str();
      EXPECT_EQ(names_in(work), std::vector<std::string>{"dest"});
      ++good;
    } else {
      ASSERT_FALSE(st.ok()) << "accepted";
      EXPECT_NE(st.error().message.find(expected), std::string::npos)
          << "error does not name '" << expected << "': " << st.error().message;
      EXPECT_EQ(names_in(work), std::vector<std::string>{}) << "left behind in " << work;
      ++refused;
    }
    EXPECT_EQ(fingerprint(sentinel), before);
  }
  EXPECT_GE(refused, 20);
  EXPECT_EQ(good, 3);
  EXPECT_FALSE(fs::exists("/etc/tether-evil"));
  // The well-formed ones unpacked as Argo would.
  EXPECT_EQ(names_in(tmp_ + "/work-good_multi_top/dest"), (std::vector<std::string>{"a.txt", "b.txt"}));
  EXPECT_EQ(read(tmp_ + "/work-good_links_inside/dest/s/up"), "f");
  EXPECT_EQ(read(tmp_ + "/work-good_links_inside/dest/l"), "f");
  EXPECT_EQ(read(tmp_ + "/work-good_links_inside/dest/h"), "f");
  EXPECT_EQ(read(tmp_ + "/work-good_dot_slash/dest/y"), "y");
}

TEST(ResolveInside, FollowsLinksAndRefusesEscapes) {
  testlib::TempDir dir("tether-resolve");
  const std::string& t = dir.path();
  fs::create_directories(t + "/a/b");
  fs::create_symlink("a/b", t + "/ab");
  fs::create_symlink("..", t + "/a/b/up");
  fs::create_symlink("/etc", t + "/abs");
  fs::create_symlink("loop2", t + "/loop1");
  fs::create_symlink("loop1", t + "/loop2");
  EXPECT_EQ(*resolve_inside(t, "ab/x"), "a/b/x");
  EXPECT_EQ(*resolve_inside(t, "ab/up"), "a");
  EXPECT_EQ(*resolve_inside(t, "ab/up/../a"), "a");
  EXPECT_FALSE(resolve_inside(t, "ab/up/../..").ok());
  EXPECT_FALSE(resolve_inside(t, "abs/passwd").ok());
  EXPECT_FALSE(resolve_inside(t, "loop1").ok());
  EXPECT_FALSE(resolve_inside(t, "..").ok());
}

}  // namespace
}  // namespace tether::artifacts
