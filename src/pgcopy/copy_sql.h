// The COPY statement tspc builds from its flags, and what the splitter must know about
// the format it selects (CSV or text, QUOTE, ESCAPE).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "pgcopy/options.h"
#include "pgcopy/splitter.h"

namespace tether::pgcopy {

struct CopySettings {
  CopyFormat format = CopyFormat::kCsv;
  char quote = '"';
  char escape = '"';
};

// Reads --copy-options (legacy COPY option syntax) together with --quote/--escape/--split.
// Refuses what a parallel loader cannot honour: HEADER (use --skip-header) and BINARY.
Result<CopySettings> copy_settings(const Options& o);

// COPY "schema"."table"(columns) FROM STDIN WITH DELIMITER ',' [QUOTE 'q'] [ESCAPE 'e'] <copy-options>
std::string copy_statement(const Options& o);

// "schema"."table", each part quoted as an identifier.
std::string full_table_name(const Options& o);

}  // namespace tether::pgcopy
