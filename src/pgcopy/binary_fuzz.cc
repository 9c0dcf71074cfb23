// Arbitrary CSV through BinaryEncoder: it must never read out of bounds, and whenever it
// accepts a batch, its tuples must be exactly the records RecordScanner finds in it, each
// with the right field count and field lengths that fit.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pgcopy/binary.h"
#include "pgcopy/splitter.h"

using namespace tether::pgcopy;

namespace {

uint64_t be(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = v << 8 | static_cast<unsigned char>(s[at + static_cast<size_t>(i)]);
  return v;
}

int64_t records(std::string_view in) {
  RecordScanner s(CopyFormat::kCsv, '"', '"');
  int64_t n = 0;
  const char* p = in.data();
  const char* end = p + in.size();
  while (p < end) {
    auto step = s.next(p, end);
    p = step.pos;
    if (step.kind == RecordScanner::Kind::kRecordEnd) ++n;
    if (step.kind == RecordScanner::Kind::kEndMarker) return -1;
  }
  if (s.in_quote()) return -1;
  return n + (s.pending_record() ? 1 : 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const ColumnKind kinds[] = {ColumnKind::kInt2, ColumnKind::kInt4,        ColumnKind::kInt8,
                                     ColumnKind::kUuid, ColumnKind::kTimestamptz, ColumnKind::kTimestamp,
                                     ColumnKind::kText};
  size_t ncols = 1 + data[0] % 3;
  std::vector<ColumnKind> cols;
  for (size_t i = 0; i < ncols; ++i) cols.push_back(kinds[(data[0] >> (2 + i)) % 7]);
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  BinaryEncoder enc(cols, ',', '"', '"', "");
  std::string out;
  if (!enc.encode(in, &out)) return 0;
  int64_t want = records(in);
  if (want < 0) std::abort();  // accepted input the server would not read as whole records
  size_t at = 19;              // signature, flags, extension length
  int64_t tuples = 0;
  while (true) {
    uint64_t n = be(out, at, 2);
    at += 2;
    if (n == 0xffff) break;
    if (n != ncols) std::abort();
    for (size_t f = 0; f < n; ++f) {
      uint64_t len = be(out, at, 4);
      at += 4;
      if (len != 0xffffffff) at += len;
      if (at > out.size()) std::abort();
    }
    ++tuples;
  }
  if (at != out.size() || tuples != want) std::abort();
  return 0;
}
