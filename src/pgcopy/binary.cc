#include "pgcopy/binary.h"

#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <fmt/core.h>
#include <map>

#include "pgcopy/pg.h"
#include "pgcopy/reader.h"

namespace tether::pgcopy {
namespace {

// Type OIDs from pg_type.dat; stable across PostgreSQL versions.
const std::map<int, ColumnKind>& supported_types() {
  static const std::map<int, ColumnKind> m = {
      {21, ColumnKind::kInt2},   {23, ColumnKind::kInt4},          {20, ColumnKind::kInt8},
      {2950, ColumnKind::kUuid}, {1184, ColumnKind::kTimestamptz}, {1114, ColumnKind::kTimestamp},
      {25, ColumnKind::kText},   {1043, ColumnKind::kText},
  };
  return m;
}

void put_be(std::string* out, uint64_t v, int bytes) {
  char buf[8];
  for (int i = bytes - 1; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(buf, static_cast<size_t>(bytes));
}

bool digits(std::string_view s, size_t from, size_t n, int* out) {
  if (from + n > s.size()) return false;
  int v = 0;
  for (size_t i = from; i < from + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

std::optional<int64_t> parse_int(std::string_view s, int64_t lo, int64_t hi) {
  size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  if (s.size() == i || s.size() - i > 18) return std::nullopt;
  int64_t v = 0;
  for (size_t k = i; k < s.size(); ++k) {
    if (s[k] < '0' || s[k] > '9') return std::nullopt;
    v = v * 10 + (s[k] - '0');
  }
  if (i) v = -v;
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

// Hex digit values, -1 for anything else.
const std::array<int8_t, 256>& hex_table() {
  static const std::array<int8_t, 256> t = [] {
    std::array<int8_t, 256> a{};
    a.fill(-1);
    for (int i = 0; i < 10; ++i) a['0' + i] = static_cast<int8_t>(i);
    for (int i = 0; i < 6; ++i) a['a' + i] = a['A' + i] = static_cast<int8_t>(10 + i);
    return a;
  }();
  return t;
}

bool put_uuid(std::string_view s, std::string* out) {
  // Where each byte's two hex digits start in 8-4-4-4-12 form.
  static constexpr uint8_t kAt[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
  if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
  const auto& hex = hex_table();
  char bytes[16];
  int bad = 0;
  for (int i = 0; i < 16; ++i) {
    int hi = hex[static_cast<uint8_t>(s[kAt[i]])], lo = hex[static_cast<uint8_t>(s[kAt[i] + 1])];
    bad |= hi | lo;
    bytes[i] = static_cast<char>(hi << 4 | lo);
  }
  if (bad < 0) return false;
  out->append(bytes, 16);
  return true;
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar.
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int days_in_month(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

// "+hh", "+hh:mm", "+hhmm" or "Z" at s[i..]: the offset east of UTC in seconds.
std::optional<int> parse_offset(std::string_view s, size_t i) {
  if (i + 1 == s.size() && s[i] == 'Z') return 0;
  if (i >= s.size() || (s[i] != '+' && s[i] != '-')) return std::nullopt;
  int sign = s[i] == '-' ? -1 : 1, h = 0, m = 0;
  if (!digits(s, i + 1, 2, &h) || h > 15) return std::nullopt;
  size_t rest = s.size() - (i + 3);
  bool ok = rest == 0 || (rest == 3 && s[i + 3] == ':' && digits(s, i + 4, 2, &m)) ||
            (rest == 2 && digits(s, i + 3, 2, &m));
  if (!ok || m > 59) return std::nullopt;
  return sign * (h * 3600 + m * 60);
}

constexpr int64_t kDaysTo2000 = 10957;  // 1970-01-01 .. 2000-01-01, PostgreSQL's epoch
constexpr char kSignature[] = "PGCOPY\n\377\r\n";

}  // namespace

std::optional<int64_t> parse_iso_timestamp(std::string_view s, bool with_offset) {
  int y, mo, d, h, mi, se;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  if (!digits(s, 0, 4, &y) || !digits(s, 5, 2, &mo) || !digits(s, 8, 2, &d) || !digits(s, 11, 2, &h) ||
      !digits(s, 14, 2, &mi) || !digits(s, 17, 2, &se))
    return std::nullopt;
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59)
    return std::nullopt;
  size_t i = 19;
  int64_t micros = 0;
  if (i < s.size() && s[i] == '.') {
    size_t n = 0;
    for (++i; i < s.size() && n < 7 && s[i] >= '0' && s[i] <= '9'; ++i, ++n) micros = micros * 10 + (s[i] - '0');
    if (n == 0 || n > 6) return std::nullopt;  // more digits would need PostgreSQL's rounding
    for (; n < 6; ++n) micros *= 10;
  }
  int offset = 0;
  if (with_offset) {
    auto off = parse_offset(s, i);
    if (!off) return std::nullopt;
    offset = *off;
  } else if (i != s.size()) {
    return std::nullopt;
  }
  int64_t secs = (days_from_civil(y, mo, d) - kDaysTo2000) * 86400 + h * 3600 + mi * 60 + se - offset;
  return secs * 1000000 + micros;
}

BinaryEncoder::BinaryEncoder(std::vector<ColumnKind> kinds, char delim, char quote, char escape, std::string null_string)
    : kinds_(std::move(kinds)), delim_(delim), quote_(quote), escape_(escape), null_(std::move(null_string)) {
  // NUL stops too: PostgreSQL's line reader treats it as an escape inside quotes, so record
  // boundaries could differ from ours; such data is left to the server (which rejects it).
  for (unsigned char c : {static_cast<unsigned char>(delim), static_cast<unsigned char>(quote),
                          static_cast<unsigned char>('\n'), static_cast<unsigned char>('\r'),
                          static_cast<unsigned char>('\0')})
    stops_[c] = true;
}

bool BinaryEncoder::encode(const Batch& b, std::string* out) const {
  if (b.pieces.size() == 1) return encode(b.pieces[0].view(), out);
  std::string joined;
  joined.reserve(static_cast<size_t>(b.bytes));
  for (const auto& p : b.pieces) joined += p.view();
  return encode(joined, out);
}

bool BinaryEncoder::encode(std::string_view csv, std::string* out) const {
  out->clear();
  out->reserve(csv.size() + csv.size() / 4 + 64);
  out->append(kSignature, sizeof kSignature);  // includes the signature's final NUL
  put_be(out, 0, 4);                           // flags
  put_be(out, 0, 4);                           // header extension length
  std::string scratch;
  const char* p = csv.data();
  const char* end = p + csv.size();
  while (p < end)
    if (!encode_record(p, end, out, &scratch)) return false;
  put_be(out, 0xffff, 2);  // trailer: field count -1
  return true;
}

// One CSV record (PostgreSQL's CopyReadAttributesCSV rules) to one binary tuple.
bool BinaryEncoder::encode_record(const char*& p, const char* end, std::string* out, std::string* scratch) const {
  const auto& stops = stops_;
  // "\." alone on a line ends PostgreSQL's CSV data: the server would stop there, so such a
  // batch goes the text way, where the server decides as it does for psql.
  if (end - p >= 3 && p[0] == '\\' && p[1] == '.' && (p[2] == '\n' || p[2] == '\r')) return false;
  put_be(out, kinds_.size(), 2);
  for (size_t col = 0; col < kinds_.size(); ++col) {
    scratch->clear();
    bool saw_quote = false;
    const char* seg = p;
    while (true) {
      while (p < end && !stops[static_cast<unsigned char>(*p)]) ++p;
      if (p == end || *p != quote_) break;
      saw_quote = true;
      scratch->append(seg, p);
      for (++p;; ++p) {
        if (p == end || *p == '\0') return false;
        if (*p == escape_ && p + 1 < end && (p[1] == escape_ || p[1] == quote_)) {
          *scratch += *++p;
          continue;
        }
        if (*p == quote_) break;
        *scratch += *p;
      }
      seg = ++p;
    }
    std::string_view v(seg, static_cast<size_t>(p - seg));
    if (saw_quote) {
      scratch->append(seg, p);
      v = *scratch;
    }
    // Each field ends at the delimiter, or the last at the newline / end of data.
    bool last = col + 1 == kinds_.size();
    if (p < end && *p != (last ? '\n' : delim_)) return false;
    if (p == end && !last) return false;
    if (p < end) ++p;
    if (!saw_quote && v == null_) {
      put_be(out, 0xffffffff, 4);
      continue;
    }
    switch (kinds_[col]) {
      case ColumnKind::kText:
        put_be(out, v.size(), 4);
        out->append(v);
        break;
      case ColumnKind::kUuid:
        put_be(out, 16, 4);
        if (!put_uuid(v, out)) return false;
        break;
      case ColumnKind::kTimestamptz:
      case ColumnKind::kTimestamp: {
        auto t = parse_iso_timestamp(v, kinds_[col] == ColumnKind::kTimestamptz);
        if (!t) return false;
        put_be(out, 8, 4);
        put_be(out, static_cast<uint64_t>(*t), 8);
        break;
      }
      case ColumnKind::kInt2:
      case ColumnKind::kInt4:
      case ColumnKind::kInt8: {
        int bytes = kinds_[col] == ColumnKind::kInt2 ? 2 : kinds_[col] == ColumnKind::kInt4 ? 4 : 8;
        int64_t hi = bytes == 2 ? INT16_MAX : bytes == 4 ? INT32_MAX : INT64_MAX;
        auto n = parse_int(v, -hi - 1, hi);
        if (!n) return false;
        put_be(out, static_cast<uint64_t>(bytes), 4);
        put_be(out, static_cast<uint64_t>(*n), bytes);
        break;
      }
    }
  }
  return true;
}

namespace {

// Splits --columns into identifiers as PostgreSQL reads them: unquoted names fold to lower
// case, "quoted" ones keep their spelling.
std::optional<std::vector<std::string>> parse_column_list(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::string name;
    if (i < s.size() && s[i] == '"') {
      for (++i;; ++i) {
        if (i >= s.size()) return std::nullopt;
        if (s[i] == '"' && i + 1 < s.size() && s[i + 1] == '"') {
          name += '"';
          ++i;
        } else if (s[i] == '"') {
          ++i;
          break;
        } else {
          name += s[i];
        }
      }
    } else {
      while (i < s.size() && s[i] != ',' && !std::isspace(static_cast<unsigned char>(s[i])))
        name += static_cast<char>(std::tolower(static_cast<unsigned char>(s[i++])));
    }
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (name.empty()) return std::nullopt;
    out.push_back(name);
    if (i == s.size()) return out;
    if (s[i++] != ',') return std::nullopt;
  }
}

// The NULL string of the options when it is the only option besides CSV/QUOTE/ESCAPE;
// anything else (FORCE_NULL, ENCODING, ...) keeps the text path.
std::optional<std::string> simple_null_string(std::string_view options) {
  std::string null;
  std::string upper;
  for (char c : options) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view rest = upper;
  std::string_view orig = options;
  while (true) {
    size_t skip = 0;
    while (skip < rest.size() && std::isspace(static_cast<unsigned char>(rest[skip]))) ++skip;
    rest.remove_prefix(skip);
    orig.remove_prefix(skip);
    if (rest.empty()) return null;
    auto word_is = [&](std::string_view w) {
      return rest.substr(0, w.size()) == w &&
             (rest.size() == w.size() || std::isspace(static_cast<unsigned char>(rest[w.size()])));
    };
    if (word_is("CSV")) {
      rest.remove_prefix(3);
      orig.remove_prefix(3);
      continue;
    }
    if (!word_is("NULL")) return std::nullopt;
    rest.remove_prefix(4);
    orig.remove_prefix(4);
    size_t sp = 0;
    while (sp < rest.size() && std::isspace(static_cast<unsigned char>(rest[sp]))) ++sp;
    rest.remove_prefix(sp);
    orig.remove_prefix(sp);
    if (orig.empty() || orig[0] != '\'') return std::nullopt;
    null.clear();
    size_t k = 1;
    for (;; ++k) {
      if (k >= orig.size()) return std::nullopt;
      if (orig[k] == '\'' && k + 1 < orig.size() && orig[k + 1] == '\'') {
        null += '\'';
        ++k;
      } else if (orig[k] == '\'') {
        break;
      } else {
        null += orig[k];
      }
    }
    rest.remove_prefix(k + 1);
    orig.remove_prefix(k + 1);
  }
}

}  // namespace

std::optional<BinaryEncoder> BinaryEncoder::create(PgConn& conn, const Options& o, const CopySettings& cs,
                                                   std::string* why) {
  auto off = [&](std::string reason) {
    *why = std::move(reason);
    return std::nullopt;
  };
  if (cs.format != CopyFormat::kCsv) return off("text format input");
  char delim = o.split == "\\t" ? '\t' : o.split[0];
  auto null = simple_null_string(o.copy_options);
  if (!null) return off("-copy-options other than CSV and NULL");
  if (conn.parameter("integer_datetimes") != "on") return off("server without integer datetimes");
  auto rows = conn.query(
      "SELECT attname, atttypid::int FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
      "AND NOT attisdropped ORDER BY attnum",
      {full_table_name(o)});
  if (!rows.ok()) return off(rows.error().message);
  std::map<std::string, int> type_of;
  std::vector<std::string> all;
  for (const auto& r : *rows) {
    type_of[r[0]] = std::stoi(r[1]);
    all.push_back(r[0]);
  }
  std::vector<std::string> names = all;
  if (!o.columns.empty()) {
    auto parsed = parse_column_list(o.columns);
    if (!parsed) return off("unreadable -columns");
    names = *parsed;
  }
  std::vector<ColumnKind> kinds;
  for (const auto& n : names) {
    auto t = type_of.find(n);
    if (t == type_of.end()) return off("column " + n + " not found");
    auto k = supported_types().find(t->second);
    if (k == supported_types().end()) return off(fmt::format("column {} has a type converted by the server only", n));
    kinds.push_back(k->second);
  }
  if (kinds.empty()) return off("no columns");
  return BinaryEncoder(kinds, delim, cs.quote, cs.escape, *null);
}

}  // namespace tether::pgcopy
