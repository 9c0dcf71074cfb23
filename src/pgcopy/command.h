// `tether pgcopy` / `tether-pgcopy` as a whole: flags in, tspc-style output, exit code out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tether::pgcopy {

// Runs the command with `args` (without the program name). Prints "COPY <rows>" on stdout,
// diagnostics on stderr. Returns 0 on success, 1 on a failed load, 2 on a usage error
// (Go's flag package exits 2, and so does timescaledb-parallel-copy).
int run_command(const std::vector<std::string>& args, std::string_view prog);

}  // namespace tether::pgcopy
