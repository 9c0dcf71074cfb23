// The parallel load: one reader cuts the input into batches, N workers each stream batches
// over their own connection with COPY, one transaction per batch.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "base/result.h"
#include "pgcopy/options.h"

namespace tether::pgcopy {

struct LoadResult {
  int64_t inserted = 0;  // rows committed by this run
  int64_t skipped = 0;   // rows an earlier run with the same --import-id had committed
  int64_t read = 0;      // data rows read from the input
  std::chrono::nanoseconds took{0};
  std::optional<Error> error;
  std::string committed_lines;  // "1-5000, 10001-15000": what is in the table after a failure
};

// Receives progress and diagnostic lines (without a trailing newline).
using LogFn = std::function<void(const std::string&)>;

// Loads input from `fd` as `o` says. Never throws; failures are in LoadResult::error, and
// the counts always say what was committed.
LoadResult load(const Options& o, int fd, const LogFn& log);

}  // namespace tether::pgcopy
