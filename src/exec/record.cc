#include "exec/record.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace tether::exec {

void Record::add(std::string_view name, std::string_view value) { fields_.emplace_back(name, value); }
void Record::add(std::string_view name, long long value) { fields_.emplace_back(name, std::to_string(value)); }

std::string Record::get(std::string_view name, std::string_view fallback) const {
  for (const auto& [k, v] : fields_)
    if (k == name) return v;
  return std::string(fallback);
}

long long Record::get_int(std::string_view name, long long fallback) const {
  for (const auto& [k, v] : fields_) {
    if (k != name) continue;
    char* end = nullptr;
    long long n = std::strtoll(v.c_str(), &end, 10);
    return (v.empty() || *end) ? fallback : n;
  }
  return fallback;
}

std::vector<std::string> Record::all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : fields_)
    if (k == name) out.push_back(v);
  return out;
}

std::string Record::encode() const {
  std::string out;
  for (const auto& [k, v] : fields_) {
    out += k;
    out += ' ';
    out += std::to_string(v.size());
    out += ':';
    out += v;
    out += '\n';
  }
  return out;
}

size_t Record::decode_prefix(std::string_view text, Record* out, std::string* why) {
  out->fields_.clear();
  size_t i = 0;
  while (i < text.size()) {
    size_t sp = text.find(' ', i);
    size_t colon = sp == std::string_view::npos ? sp : text.find(':', sp);
    if (colon == std::string_view::npos) {
      *why = "malformed field at byte " + std::to_string(i);
      return i;
    }
    size_t len = 0;
    for (size_t j = sp + 1; j < colon; ++j) {
      if (text[j] < '0' || text[j] > '9' || len > (size_t{1} << 40)) {
        *why = "bad length at byte " + std::to_string(j);
        return i;
      }
      len = len * 10 + static_cast<size_t>(text[j] - '0');
    }
    size_t start = colon + 1;
    if (sp == i || colon == sp + 1 || len > text.size() - start || start + len >= text.size() ||
        text[start + len] != '\n') {
      *why = "truncated field at byte " + std::to_string(i);
      return i;
    }
    out->fields_.emplace_back(text.substr(i, sp - i), text.substr(start, len));
    i = start + len + 1;
  }
  return i;
}

bool Record::decode(std::string_view text, Record* out, std::string* why) {
  return decode_prefix(text, out, why) == text.size();
}

bool read_attempt_state(const std::string& path, AttemptState* out) {
  *out = AttemptState{};
  std::string text, why;
  if (!read_whole_file(path, &text)) return false;
  Record all;
  bool whole = Record::decode_prefix(text, &all, &why) == text.size();
  bool in_end = false;
  for (const auto& [name, value] : all.fields()) {
    in_end = in_end || name == "kind";
    (in_end ? out->end : out->start).add(name, value);
  }
  out->ended = in_end && whole && !out->end.get("code").empty();
  return true;
}

bool read_whole_file(const std::string& path, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[16384];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = errno;
      ::close(fd);
      errno = saved;
      return n == 0;
    }
    out->append(buf, static_cast<size_t>(n));
  }
}

namespace {

bool write_all_and_close(int fd, std::string_view content) {
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = errno;
      ::close(fd);
      errno = saved;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return ::close(fd) == 0;
}

}  // namespace

bool write_file_in_place(const std::string& path, std::string_view content, int mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  return fd >= 0 && write_all_and_close(fd, content);
}

bool write_file_replace(const std::string& path, std::string_view content, int mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  if (!write_all_and_close(fd, content) || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    return false;
  }
  return true;
}

long long proc_start_time(int pid) {
  std::string stat;
  if (pid <= 0 || !read_whole_file("/proc/" + std::to_string(pid) + "/stat", &stat)) return 0;
  size_t i = stat.rfind(')');
  if (i == std::string::npos) return 0;
  int field = 2;
  for (; i < stat.size() && field < 22; ++i)
    if (stat[i] == ' ') ++field;
  return std::strtoll(stat.c_str() + i, nullptr, 10);
}

}  // namespace tether::exec
