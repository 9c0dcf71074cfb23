// Time as a dependency, so planners and schedulers can be tested with a fake clock.
#pragma once

#include <chrono>
#include <string>

namespace tether {

using WallTime = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime now() const = 0;
};

class SystemClock final : public Clock {
 public:
  WallTime now() const override {
    return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  }
  static const SystemClock& instance();
};

// RFC 3339 in UTC with second precision, as Kubernetes metav1.Time marshals: 2026-11-28T00:18:24Z
std::string format_rfc3339(WallTime t);
// Parses RFC 3339 (with optional fraction and Z or ±hh:mm offset).
bool parse_rfc3339(const std::string& s, WallTime* out);

}  // namespace tether
