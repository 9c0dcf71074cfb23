#include "pgcopy/report.h"

#include <ctime>
#include <fmt/core.h>

#include "pgcopy/options.h"

namespace tether::pgcopy {
namespace {

// tspc's formatDuration: whole seconds, "1h02m03s" style.
std::string coarse_duration(std::chrono::steady_clock::duration d) {
  int64_t s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  int64_t days = s / 86400, h = (s / 3600) % 24, m = (s / 60) % 60, sec = s % 60;
  if (days > 0) return fmt::format("{}d{:02}h{:02}m{:02}s", days, h, m, sec);
  if (h > 0) return fmt::format("{}h{:02}m{:02}s", h, m, sec);
  if (m > 0) return fmt::format("{}m{:02}s", m, sec);
  return fmt::format("{}s", sec);
}

double per_second(int64_t rows, std::chrono::steady_clock::duration d) {
  double secs = std::chrono::duration<double>(d).count();
  return secs > 0 ? static_cast<double>(rows) / secs : 0.0;
}

}  // namespace

std::string go_log_line(const std::string& msg) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y/%m/%d %H:%M:%S", &tm);
  return std::string(buf) + " " + msg;
}

std::string with_thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

Reporter::Reporter(std::chrono::nanoseconds period, std::function<void(const std::string&)> out,
                   std::function<ReportCounts()> counts)
    : period_(period), out_(std::move(out)), counts_(std::move(counts)) {
  start_ = prev_time_ = std::chrono::steady_clock::now();
  if (period_.count() <= 0) return;
  out_(go_log_line("There will be reports every " + format_go_duration(period_)));
  thread_ = std::thread([this] { loop(); });
}

Reporter::~Reporter() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  print(std::chrono::steady_clock::now());
}

void Reporter::loop() {
  auto next = start_ + period_;
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_until(lock, next, [this] { return stop_; })) {
    print(next);
    next += period_;
  }
}

void Reporter::print(std::chrono::steady_clock::time_point now) {
  ReportCounts c = counts_();
  out_(go_log_line(fmt::format(
      "({}), row rate {:.2f}/sec (period), row rate {:.2f}/sec (overall), {} inserted rows, {} skipped rows, {} total rows",
      coarse_duration(now - start_), per_second(c.inserted - prev_inserted_, now - prev_time_),
      per_second(c.inserted, now - start_), with_thousands(c.inserted), with_thousands(c.skipped),
      with_thousands(c.total))));
  prev_inserted_ = c.inserted;
  prev_time_ = now;
}

}  // namespace tether::pgcopy
