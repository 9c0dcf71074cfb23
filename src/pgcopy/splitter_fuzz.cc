// Feeds arbitrary input, cut at arbitrary points, to RecordScanner and checks every
// boundary against the byte-at-a-time reference.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "pgcopy/splitter.h"
#include "pgcopy/splitter_reference.h"

using tether::pgcopy::CopyFormat;
using tether::pgcopy::RecordScanner;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  // First bytes choose the dialect and the piece size; the rest is the input.
  CopyFormat format = (data[0] & 1) ? CopyFormat::kText : CopyFormat::kCsv;
  const char quotes[] = {'"', '\'', '|', '\\'};
  char quote = quotes[(data[0] >> 1) & 3];
  char escape = (data[0] & 8) ? quotes[(data[0] >> 4) & 3] : quote;
  size_t piece = 1 + data[1] % 17;
  std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);

  auto want = tether::pgcopy::reference::split(in, format, quote, escape);
  RecordScanner s(format, quote, escape);
  std::vector<size_t> got;
  bool marker = false;
  for (size_t off = 0; off < in.size() && !marker;) {
    size_t n = std::min(piece, in.size() - off);
    const char* p = in.data() + off;
    const char* end = p + n;
    while (p < end) {
      auto step = s.next(p, end);
      p = step.pos;
      if (step.kind == RecordScanner::Kind::kRecordEnd) got.push_back(static_cast<size_t>(p - in.data()));
      if (step.kind == RecordScanner::Kind::kEndMarker) {
        marker = true;
        break;
      }
    }
    off += n;
  }
  if (!marker && s.pending_end_marker()) marker = true;
  if (marker != want.end_marker) std::abort();
  // Both stop at a marker; before it the boundaries must agree.
  if (got != want.ends) std::abort();
  if (!marker && (s.in_quote() != want.unterminated || (!s.in_quote() && s.pending_record() != want.trailing)))
    std::abort();
  if (!marker && s.lines() != static_cast<int64_t>(want.lines)) std::abort();
  return 0;
}
