// Client-side conversion of CSV batches to COPY BINARY, for tables whose columns all have
// simple types. Parsing uuid, integers and ISO timestamps is most of what the server
// spends on a CSV row, so doing it here lets N workers load more than N times as fast.
//
// Strict by design: a value is converted only when its text has one canonical meaning
// independent of server settings (an ISO timestamptz must carry its offset, integers are
// plain digits, ...). Any other value, and any batch the server rejects, goes as the
// original CSV text instead, so results and error messages are exactly those of text COPY.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgcopy/copy_sql.h"
#include "pgcopy/options.h"

namespace tether::pgcopy {

class PgConn;
struct Batch;

enum class ColumnKind { kInt2, kInt4, kInt8, kUuid, kTimestamptz, kTimestamp, kText };

class BinaryEncoder {
 public:
  // The encoder for the target columns, or nullopt with the reason the fast path is off.
  static std::optional<BinaryEncoder> create(PgConn& conn, const Options& o, const CopySettings& cs, std::string* why);
  // For tests: an encoder for given column kinds.
  BinaryEncoder(std::vector<ColumnKind> kinds, char delim, char quote, char escape, std::string null_string);

  // Appends the batch in COPY BINARY form to `out`; false when some value or record is not
  // in a strict form (then `out` is unspecified and the batch goes as text).
  bool encode(std::string_view csv, std::string* out) const;
  bool encode(const Batch& b, std::string* out) const;

 private:
  bool encode_record(const char*& p, const char* end, std::string* out, std::string* scratch) const;

  std::vector<ColumnKind> kinds_;
  char delim_;
  char quote_;
  char escape_;
  std::string null_;
  std::array<bool, 256> stops_{};  // bytes that end an unquoted run: delimiter, quote, CR, LF, NUL
};

// Exposed for tests: microseconds since 2000-01-01 00:00:00 UTC for a strict ISO timestamp.
// With `with_offset`, the text must end in Z, +hh, +hh:mm or +hhmm; without it, it must not.
std::optional<int64_t> parse_iso_timestamp(std::string_view s, bool with_offset);

}  // namespace tether::pgcopy
