// Timestamped log lines, as container runtimes write them: "RFC3339Nano line" per line.
// Shared by the supervisor (main.log) and the pod helper (one log per other container).
// Header-only, libc and libstdc++ only: both live in tether-supervise.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <string>
#include <utility>

namespace tether::exec {

inline long long now_us() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

// Go's RFC3339Nano: fraction without trailing zeros, as kubectl logs --timestamps shows.
inline std::string rfc3339_nano(const struct timespec& ts) {
  struct tm tm;
  time_t secs = ts.tv_sec;
  ::gmtime_r(&secs, &tm);
  char buf[64];
  // snprintf, not strftime: strftime loads the time zone database, and this is UTC anyway.
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (ts.tv_nsec != 0) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ".%09ld", ts.tv_nsec);
    while (buf[n - 1] == '0') --n;
  }
  buf[n++] = 'Z';
  return std::string(buf, static_cast<size_t>(n));
}

// A log file that is either open already or created at its first write: most steps of a
// large graph write nothing, and every file created is a good part of what a step start
// costs (see layout.h).
class LogFile {
 public:
  LogFile() = default;
  static LogFile open_fd(int fd) {
    LogFile f;
    f.fd_ = fd;
    return f;
  }
  static LogFile create_on_write(std::string path) {
    LogFile f;
    f.path_ = std::move(path);
    return f;
  }

  void write(const char* p, size_t n) {
    if (n == 0) return;
    if (fd_ < 0 && !path_.empty()) {
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
      if (fd_ < 0) error_ = errno;
      path_.clear();
    }
    while (n > 0 && fd_ >= 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        error_ = w < 0 ? errno : EIO;
        return;
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
  }
  // The errno of the first failed open or write, 0 if none.
  int error() const { return error_; }

 private:
  int fd_ = -1;
  std::string path_;
  int error_ = 0;
};

// Both streams go to main.log, a timestamp per line; stdout also goes raw to `stdout`.
class LogPump {
 public:
  LogPump(LogFile log, LogFile out) : log_(std::move(log)), stdout_(std::move(out)) {}

  void feed(int stream, const char* data, size_t n) {
    if (stream == 1) stdout_.write(data, n);
    std::string& part = partial_[stream - 1];
    struct timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    std::string out;
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
      if (data[i] != '\n') continue;
      append_line(&out, ts, part, data + start, i - start);
      part.clear();
      start = i + 1;
    }
    part.append(data + start, n - start);
    if (part.size() >= kMaxLine) {  // a runaway line is split, as container runtimes do
      append_line(&out, ts, part, nullptr, 0);
      part.clear();
    }
    log_.write(out.data(), out.size());
  }

  // The errno of the first failure to write either file, 0 if none.
  int error() const { return log_.error() ? log_.error() : stdout_.error(); }

  void finish(int stream) {
    std::string& part = partial_[stream - 1];
    if (part.empty()) return;
    struct timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    std::string out;
    append_line(&out, ts, part, nullptr, 0);
    part.clear();
    log_.write(out.data(), out.size());
  }

 private:
  static constexpr size_t kMaxLine = 64 * 1024;

  static void append_line(std::string* out, const struct timespec& ts, const std::string& head, const char* tail,
                          size_t n) {
    *out += rfc3339_nano(ts);
    *out += ' ';
    *out += head;
    out->append(tail ? tail : "", n);
    *out += '\n';
  }

  LogFile log_, stdout_;
  std::string partial_[2];
};

}  // namespace tether::exec
