// A Clock that only moves when a test moves it.
#pragma once

#include "base/clock.h"

namespace tether::testlib {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(WallTime start = WallTime(std::chrono::seconds(1'790'000'000))) : now_(start) {}
  WallTime now() const override { return now_; }
  void advance(std::chrono::microseconds d) { now_ += d; }
  void set(WallTime t) { now_ = t; }

 private:
  WallTime now_;
};

}  // namespace tether::testlib
