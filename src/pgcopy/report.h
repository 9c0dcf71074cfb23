// Progress lines in timescaledb-parallel-copy's format, printed by a background thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace tether::pgcopy {

struct ReportCounts {
  int64_t inserted = 0;
  int64_t skipped = 0;
  int64_t total = 0;
};

// "2006/01/02 15:04:05 msg": the prefix Go's log package puts on tspc's stderr lines.
std::string go_log_line(const std::string& msg);

// 1234567 -> "1,234,567".
std::string with_thousands(int64_t n);

// Prints a line every `period` (nothing when it is zero) and a last one when destroyed:
// "(2s), row rate 1234.00/sec (period), row rate 1200.00/sec (overall), 2,400 inserted rows, ..."
class Reporter {
 public:
  Reporter(std::chrono::nanoseconds period, std::function<void(const std::string&)> out,
           std::function<ReportCounts()> counts);
  ~Reporter();
  Reporter(const Reporter&) = delete;
  Reporter& operator=(const Reporter&) = delete;

 private:
  void loop();
  void print(std::chrono::steady_clock::time_point now);

  std::chrono::nanoseconds period_;
  std::function<void(const std::string&)> out_;
  std::function<ReportCounts()> counts_;
  std::chrono::steady_clock::time_point start_, prev_time_;
  int64_t prev_inserted_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace tether::pgcopy
