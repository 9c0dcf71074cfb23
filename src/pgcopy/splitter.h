// Finds record boundaries in COPY input exactly as PostgreSQL's COPY FROM does
// (CopyReadLineText), without parsing fields: a batch cut at a boundary found here is
// read by the server as whole records. Streaming: data may arrive in pieces of any size.
#pragma once

#include <cstdint>

namespace tether::pgcopy {

enum class CopyFormat { kCsv, kText };

class RecordScanner {
 public:
  enum class Kind {
    kRecordEnd,   // pos is just past the record's newline
    kNeedMore,    // the data ran out inside a record; pass the following bytes next
    kEndMarker,   // a record reads "\." and would end the COPY data early
  };
  struct Step {
    Kind kind;
    const char* pos;
  };

  RecordScanner(CopyFormat format, char quote, char escape);

  // Scans [p, end) from the current state up to the next record end.
  Step next(const char* p, const char* end);

  // At end of input: true when a last record without a newline is pending (it counts as a
  // record). Check in_quote() first: an open quote at EOF is an unterminated field.
  bool pending_record() const { return in_record_; }
  bool in_quote() const { return in_quote_; }
  // True when the pending last record is "\." without a newline.
  bool pending_end_marker() const { return marker_ == Marker::kBackslashDot; }

  CopyFormat format() const { return format_; }

  // Physical lines ended so far ('\n' bytes, including those inside quoted fields).
  int64_t lines() const { return lines_; }
  // 1-based physical line where the current (or next) record starts.
  int64_t record_start_line() const { return record_start_line_; }
  // PostgreSQL's own line counter (cur_lineno): one per record, plus newlines inside
  // quoted CSV fields. Its error context "line N" counts this way.
  int64_t pg_lines() const { return pg_lines_; }

 private:
  enum class Marker { kStart, kBackslash, kBackslashDot, kNone };

  const char* scan_unquoted(const char* p, const char* end, bool* record_end);
  const char* scan_quoted(const char* p, const char* end);
  const char* scan_text(const char* p, const char* end, bool* record_end, bool* marker);
  const char* scan_marker(const char* p, const char* end, bool* marker);
  void begin_record();
  void end_record();
  void csv_step(char c);
  void count_quoted_newline();

  CopyFormat format_;
  char quote_;
  char escape_;
  bool in_quote_ = false;
  bool last_was_escape_ = false;  // CSV, escape != quote: previous byte was an escape
  bool pending_backslash_ = false;  // text format: a backslash ended the previous piece
  bool in_record_ = false;
  Marker marker_ = Marker::kStart;
  int64_t lines_ = 0;
  int64_t record_start_line_ = 1;
  int64_t pg_lines_ = 0;
};

}  // namespace tether::pgcopy
