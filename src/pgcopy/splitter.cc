#include "pgcopy/splitter.h"

#include <cstring>

namespace tether::pgcopy {
namespace {

const char* find(const char* p, const char* end, char c) {
  return static_cast<const char*>(std::memchr(p, c, static_cast<size_t>(end - p)));
}

}  // namespace

RecordScanner::RecordScanner(CopyFormat format, char quote, char escape)
    // PostgreSQL ignores the escape character when it equals the quote: quotes just toggle.
    : format_(format), quote_(quote), escape_(quote == escape ? '\0' : escape) {}

RecordScanner::Step RecordScanner::next(const char* p, const char* end) {
  while (p < end) {
    if (!in_record_) begin_record();
    bool record_end = false, marker = false;
    if (format_ == CopyFormat::kText) {
      p = scan_text(p, end, &record_end, &marker);
    } else if (marker_ != Marker::kNone) {
      p = scan_marker(p, end, &marker);
    } else if (in_quote_) {
      p = scan_quoted(p, end);
    } else {
      p = scan_unquoted(p, end, &record_end);
    }
    if (marker) return {Kind::kEndMarker, p};
    if (record_end) return {Kind::kRecordEnd, p};
  }
  return {Kind::kNeedMore, end};
}

void RecordScanner::begin_record() {
  in_record_ = true;
  ++pg_lines_;
  record_start_line_ = lines_ + 1;
  marker_ = format_ == CopyFormat::kCsv ? Marker::kStart : Marker::kNone;
}

void RecordScanner::end_record() {
  ++lines_;
  in_record_ = false;
  record_start_line_ = lines_ + 1;
}

// PostgreSQL's CSV quote/escape state step, byte by byte (CopyReadLineText).
void RecordScanner::csv_step(char c) {
  if (in_quote_ && c == escape_) last_was_escape_ = !last_was_escape_;
  if (c == quote_ && !last_was_escape_) in_quote_ = !in_quote_;
  if (c != escape_) last_was_escape_ = false;
}

// In CSV, "\." alone at the start of a record ends the COPY data (PostgreSQL 15).
const char* RecordScanner::scan_marker(const char* p, const char* end, bool* marker) {
  char c = *p;
  switch (marker_) {
    case Marker::kStart:
    case Marker::kBackslash: {
      char want = marker_ == Marker::kStart ? '\\' : '.';
      if (c != want) {
        marker_ = Marker::kNone;
        return p;  // not consumed: ordinary data
      }
      marker_ = marker_ == Marker::kStart ? Marker::kBackslash : Marker::kBackslashDot;
      csv_step(c);
      return p + 1;
    }
    case Marker::kBackslashDot:
      if (c == '\n' || c == '\r') {
        *marker = true;
        return p;
      }
      marker_ = Marker::kNone;
      return p;
    case Marker::kNone:
      break;
  }
  return p;
}

const char* RecordScanner::scan_unquoted(const char* p, const char* end, bool* record_end) {
  const char* nl = find(p, end, '\n');
  const char* stop = nl ? nl : end;
  if (const char* q = find(p, stop, quote_)) {
    in_quote_ = true;  // outside quotes an escape never precedes this quote
    return q + 1;
  }
  if (!nl) return end;
  end_record();
  *record_end = true;
  return nl + 1;
}

const char* RecordScanner::scan_quoted(const char* p, const char* end) {
  if (escape_ != '\0' || last_was_escape_) {
    // A distinct escape character: rare, so byte by byte.
    for (; p < end && in_quote_; ++p) {
      csv_step(*p);
      if (*p == '\n') count_quoted_newline();
    }
    return p;
  }
  const char* q = find(p, end, quote_);
  const char* stop = q ? q : end;
  if (find(p, stop, '\0')) {
    // NUL acts as PostgreSQL's "no escape" sentinel: take the exact slow path.
    for (; p < stop; ++p) {
      csv_step(*p);
      if (*p == '\n') count_quoted_newline();
    }
    return p;
  }
  for (const char* n = find(p, stop, '\n'); n; n = find(n + 1, stop, '\n')) count_quoted_newline();
  if (!q) return end;
  in_quote_ = false;
  return q + 1;
}

void RecordScanner::count_quoted_newline() {
  ++lines_;
  ++pg_lines_;
}

// Text format: a backslash escapes the next byte (even a newline); "\." anywhere is the
// end-of-data marker or a server error.
const char* RecordScanner::scan_text(const char* p, const char* end, bool* record_end, bool* marker) {
  if (pending_backslash_) {
    pending_backslash_ = false;
    if (*p == '.') {
      *marker = true;
      return p;
    }
    if (*p == '\n') ++lines_;
    return p + 1;
  }
  const char* nl = find(p, end, '\n');
  const char* stop = nl ? nl : end;
  if (const char* b = find(p, stop, '\\')) {
    if (b + 1 == end) {
      pending_backslash_ = true;
      return end;
    }
    if (b[1] == '.') {
      *marker = true;
      return b;
    }
    if (b[1] == '\n') ++lines_;
    return b + 2;
  }
  if (!nl) return end;
  end_record();
  *record_end = true;
  return nl + 1;
}

}  // namespace tether::pgcopy
