#include "base/log.h"

#include <unistd.h>

#include <atomic>

#include "base/clock.h"

namespace tether::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};
std::atomic<int> g_fd{2};
}  // namespace

void set_level(Level level) { g_level = level; }
void set_file(int fd) { g_fd = fd; }

void write(Level level, const std::string& line) {
  if (level < g_level.load()) return;
  static const char* names[] = {"debug", "info", "warn", "error"};
  std::string out = format_rfc3339(SystemClock::instance().now()) + " " + names[static_cast<int>(level)] + " " + line + "\n";
  // One write call, so concurrent lines do not interleave.
  (void)!::write(g_fd.load(), out.data(), out.size());
}

}  // namespace tether::log
