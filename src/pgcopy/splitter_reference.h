// A byte-at-a-time transcription of PostgreSQL's record boundary rules, used by the tests
// and the fuzz target as the oracle for RecordScanner's faster scanning.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "pgcopy/splitter.h"

namespace tether::pgcopy::reference {

struct Split {
  std::vector<size_t> ends;  // offsets just past each record's newline
  bool end_marker = false;   // stopped at a "\." record (CSV) or "\." anywhere (text)
  bool unterminated = false; // EOF inside a quoted field
  bool trailing = false;     // a last record without newline
  size_t lines = 0;          // '\n' bytes before the stop
};

inline Split split(std::string_view in, CopyFormat format, char quote, char escape) {
  Split out;
  if (escape == quote) escape = '\0';
  bool in_quote = false, last_esc = false;
  size_t start = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (format == CopyFormat::kText) {
      if (c == '\\') {
        if (i + 1 < in.size() && in[i + 1] == '.') return out.end_marker = true, out;
        if (i + 1 < in.size() && in[i + 1] == '\n') ++out.lines;
        ++i;
        continue;
      }
    } else {
      bool first = i == start;
      if (first && c == '\\' && i + 1 < in.size() && in[i + 1] == '.' &&
          (i + 2 == in.size() || in[i + 2] == '\n' || in[i + 2] == '\r'))
        return out.end_marker = true, out;
      if (in_quote && c == escape) last_esc = !last_esc;
      if (c == quote && !last_esc) in_quote = !in_quote;
      if (c != escape) last_esc = false;
    }
    if (c == '\n') ++out.lines;
    if (c == '\n' && !in_quote) {
      out.ends.push_back(i + 1);
      start = i + 1;
    }
  }
  out.unterminated = in_quote;
  out.trailing = !in_quote && start < in.size();
  return out;
}

}  // namespace tether::pgcopy::reference
