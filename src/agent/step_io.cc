#include "agent/step_io.h"

#include <unistd.h>

#include <cerrno>

#include <fmt/core.h>

#include "base/strings.h"

namespace tether::agent {

Result<Json> read_spec(const std::string& path) {
  auto text = read_file(path);
  if (!text.ok()) return text.take_error();
  return parse_json(*text, path);
}

bool write_stdout(std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(1, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

int fail_step(const Json& spec, const std::string& message) {
  fmt::print(stderr, "{}\n", message);
  std::string path = json_str(spec, "messageFile");
  if (!path.empty()) {
    auto st = write_file_atomic(path, message);
    if (!st.ok()) fmt::print(stderr, "writing {}: {}\n", path, st.error().message);
  }
  return 1;
}

}  // namespace tether::agent
