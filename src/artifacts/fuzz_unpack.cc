// Fuzzes unpack_tar_gz with arbitrary bytes. Beyond "no crash", two invariants: nothing
// appears beside the destination, and an archive that unpacks holds no symlink leading out.
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "artifacts/safe_unpack.h"

namespace fs = std::filesystem;
using namespace tether::artifacts;

namespace {
struct BaseDir {
  BaseDir() {
    std::string t = (fs::temp_directory_path() / "tether-fuzz-unpack-XXXXXX").string();
    if (!mkdtemp(t.data())) abort();
    path = fs::canonical(t).string();
  }
  ~BaseDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string path;
};
const std::string& base_dir() {
  static BaseDir dir;
  return dir.path;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& base = base_dir();
  std::string archive = base + "/in.tgz", out = base + "/out";
  std::ofstream(archive, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), size);
  fs::create_directory(out);
  UnpackLimits limits;
  limits.max_entries = 1000;
  limits.max_total_bytes = 16 << 20;
  limits.ratio_grace_bytes = 1 << 20;
  limits.max_ratio = 100;
  auto st = unpack_tar_gz(archive, out, limits);
  if (st.ok() && !check_symlinks_inside(out, "").ok()) abort();
  for (const auto& e : fs::directory_iterator(base)) {
    std::string name = e.path().filename().string();
    if (name != "in.tgz" && name != "out") abort();  // something was written outside
  }
  fs::remove_all(out);
  return 0;
}
