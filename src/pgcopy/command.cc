#include "pgcopy/command.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fmt/core.h>

#include "base/fd.h"
#include "base/result.h"
#include "pgcopy/loader.h"
#include "pgcopy/options.h"
#include "pgcopy/report.h"

namespace tether::pgcopy {
namespace {

void to_stderr(const std::string& line) { fmt::print(stderr, "{}\n", line); }

Result<UniqueFd> open_input(const std::string& path) {
  if (path.empty()) return UniqueFd(::dup(STDIN_FILENO));
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return io_error("failed to open file: open " + path);
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  return fd;
}

std::string summary(const Options& o, const LoadResult& r) {
  std::string s = fmt::format("COPY {}", r.inserted);
  if (!o.verbose) return s;
  double secs = std::chrono::duration<double>(r.took).count();
  return s + fmt::format(", took {} with {} worker(s) (mean rate {:f}/sec)", format_go_duration(r.took), o.workers,
                         secs > 0 ? static_cast<double>(r.inserted) / secs : 0.0);
}

void print_failure(const Options& o, const LoadResult& r) {
  to_stderr(go_log_line("failed to copy CSV: " + r.error->message));
  std::string where = r.committed_lines.empty() ? "" : " (file lines " + r.committed_lines + ")";
  std::string advice = o.import_id.empty() && r.inserted > 0 ? "; without -import-id a rerun loads them again" : "";
  to_stderr(go_log_line(fmt::format("{} rows committed before the failure{}, {} rows of the input read{}", r.inserted,
                                    where, r.read, advice)));
}

}  // namespace

int run_command(const std::vector<std::string>& args, std::string_view prog) {
  ParsedArgs parsed = parse_args(args);
  switch (parsed.action) {
    case ParsedArgs::Action::kHelp:
      fmt::print(stderr, "{}", usage(prog));
      return 0;
    case ParsedArgs::Action::kUsageError:
      fmt::print(stderr, "{}\n{}", parsed.error, usage(prog));
      return 2;
    case ParsedArgs::Action::kRun:
      break;
  }
  const Options& o = parsed.options;
  if (o.version) {
    fmt::print("tether-pgcopy v{} (linux {})\n", TETHER_VERSION, TETHER_ARCH);
    return 0;
  }
  auto fd = open_input(o.file);
  if (!fd.ok()) {
    to_stderr(go_log_line(fd.error().message));
    return 1;
  }
  LoadResult r = load(o, fd->get(), to_stderr);
  if (r.error) {
    print_failure(o, r);
    return 1;
  }
  fmt::print("{}\n", summary(o, r));
  std::fflush(stdout);
  return 0;
}

}  // namespace tether::pgcopy
