// Command-line options of `tether pgcopy`, parsed the way Go's flag package parses
// timescaledb-parallel-copy's flags, so existing scripts keep working unchanged.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace tether::pgcopy {

struct Options {
  std::string connection = "host=localhost user=postgres sslmode=disable";
  std::string db_name;  // overrides the connection's dbname (as tspc 0.1-0.3 did)
  std::string schema = "public";
  std::string table = "test_table";
  std::string columns;  // passed verbatim into the COPY column list
  std::string copy_options = "CSV";
  std::string split = ",";  // "\t" (two characters) means a tab, as in tspc
  std::string quote;
  std::string escape;
  std::string file;  // empty: stdin
  bool skip_header = false;
  int64_t header_line_count = 1;
  int64_t skip_lines = 0;
  int64_t workers = 1;
  int64_t batch_size = 5000;
  int64_t batch_byte_size = 4 * 1024 * 1024;
  int64_t buffer_byte_size = 2 * 1024 * 1024;
  int64_t limit = 0;
  bool truncate = false;
  std::chrono::nanoseconds reporting_period{0};
  bool verbose = false;
  bool log_batches = false;
  std::string import_id;
  bool version = false;
  bool binary = true;  // convert simple column types to COPY BINARY on the client
};

// What parsing decided: run with the options, print usage (-h), or fail.
struct ParsedArgs {
  enum class Action { kRun, kHelp, kUsageError };
  Action action = Action::kRun;
  Options options;
  std::string error;  // for kUsageError, in Go's wording
};

// Parses argv (without the program name) with Go flag semantics: -name value, --name value,
// -name=value, bool -name; parsing stops at the first non-flag argument or after "--".
// One extension: words that follow --connection and look like libpq `keyword=value` pairs
// are appended to the connection string, so an unquoted `--connection $CONNECTION` (the shell
// split it into words) means what its author intended. Any other leftover argument is an
// error: Go's tool would silently ignore it and every flag after it.
ParsedArgs parse_args(const std::vector<std::string>& args);

// The flag list in Go's -help layout, headed "Usage of <prog>:".
std::string usage(std::string_view prog);

// Go time.ParseDuration / time.Duration.String.
Result<std::chrono::nanoseconds> parse_go_duration(std::string_view s);
std::string format_go_duration(std::chrono::nanoseconds d);

// True when `word` is `keyword=...` for a keyword libpq knows.
bool is_conninfo_pair(std::string_view word);

}  // namespace tether::pgcopy
