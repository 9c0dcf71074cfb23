// Go's ways of printing values. Argo's output is produced by Go's fmt, strconv and
// encoding/json; tether prints the same bytes so results and messages compare equal.
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <chrono>
#include <cstdlib>

#include "expr/expr_lang.h"
#include "expr/expr_lang_internal.h"

namespace tether::expr {
namespace {

// Shortest decimal digits that round-trip f (f > 0), and the exponent of the first digit.
void shortest_digits(double f, std::string& digits, int& exp10) {
  char buf[64];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*e", prec - 1, f);
    if (std::strtod(buf, nullptr) == f) break;
  }
  std::string s = buf;
  size_t e = s.find('e');
  exp10 = std::atoi(s.c_str() + e + 1);
  digits.clear();
  for (size_t k = 0; k < e; ++k) {
    if (s[k] != '.') digits += s[k];
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
}

std::string exp_form(const std::string& digits, int exp10, bool short_negative_exponent) {
  std::string out(1, digits[0]);
  if (digits.size() > 1) out += "." + digits.substr(1);
  int a = std::abs(exp10);
  out += exp10 < 0 ? "e-" : "e+";
  if (a < 10 && !(short_negative_exponent && exp10 < 0)) out += '0';
  out += std::to_string(a);
  return out;
}

std::string fixed_form(const std::string& digits, int exp10) {
  if (exp10 < 0) return "0." + std::string(-exp10 - 1, '0') + digits;
  size_t int_len = static_cast<size_t>(exp10) + 1;
  if (digits.size() <= int_len) return digits + std::string(int_len - digits.size(), '0');
  return digits.substr(0, int_len) + "." + digits.substr(int_len);
}

std::string format_float(double f, bool json_style) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  if (f == 0) return std::signbit(f) && !json_style ? "-0" : "0";
  std::string sign = f < 0 ? "-" : "";
  double a = std::fabs(f);
  std::string digits;
  int exp10 = 0;
  shortest_digits(a, digits, exp10);
  bool use_exp = json_style ? (a < 1e-6 || a >= 1e21) : (exp10 < -4 || exp10 >= 6);
  return sign + (use_exp ? exp_form(digits, exp10, json_style) : fixed_form(digits, exp10));
}

void write_json_string(const std::string& s, std::string& out) { out += to_go_json(Json(s)); }

}  // namespace

std::string go_format_float(double f) { return format_float(f, false); }

std::string go_json(const Json& value) {
  std::string out;
  write_compact(
      value, out,
      [](const Json& v, std::string& o) {
        if (v.is_number_float()) o += format_float(v.get<double>(), true);
        else o += to_go_json(v);
      },
      write_json_string);
  return out;
}

std::string go_sprint(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "<nil>";
    case Json::value_t::string: return v.get<std::string>();
    case Json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case Json::value_t::number_float: return go_format_float(v.get<double>());
    case Json::value_t::number_integer: return std::to_string(v.get<int64_t>());
    case Json::value_t::number_unsigned: return std::to_string(v.get<uint64_t>());
    case Json::value_t::array: {
      std::string out = "[";
      for (size_t k = 0; k < v.size(); ++k) {
        if (k) out += ' ';
        out += go_sprint(v[k]);
      }
      return out + "]";
    }
    case Json::value_t::object: {
      std::string out = "map[";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ' ';
        first = false;
        out += it.key() + ":" + go_sprint(it.value());
      }
      return out + "]";
    }
    default: return v.dump();
  }
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

namespace {
// Length of a valid UTF-8 sequence at s[i], or 0 if the bytes there are not one.
size_t utf8_len(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}
}  // namespace

std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = utf8_len(s, i);
    if (n > 1) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    }
    ++i;
    switch (c) {
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default:
        if (c < 0x20 || c >= 0x7F) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string go_rune_name(std::string_view s, size_t pos) {
  size_t n = utf8_len(s, pos);
  if (n == 0) return "U+FFFD '\xEF\xBF\xBD'";
  uint32_t cp = static_cast<unsigned char>(s[pos]);
  if (n > 1) {
    cp &= (0x7F >> n);
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[pos + k]) & 0x3F);
  }
  std::string name = fmt::format("U+{:04X}", cp);
  if (cp >= 0x20 && cp != 0x7F) name += " '" + std::string(s.substr(pos, n)) + "'";
  return name;
}

}  // namespace tether::expr

namespace tether::expr {
namespace {

}  // namespace

TimeParts time_parts(int64_t ns) {
  int64_t secs = ns >= 0 ? ns / 1000000000 : -((-(ns + 1)) / 1000000000) - 1;
  int64_t nanos = ns - secs * 1000000000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-(secs + 1)) / 86400) - 1;
  int64_t rem = secs - days * 86400;
  std::chrono::sys_days sd{std::chrono::days{days}};
  std::chrono::year_month_day ymd{sd};
  std::chrono::sys_days jan1{std::chrono::year_month_day{ymd.year(), std::chrono::January, std::chrono::day{1}}};
  return {static_cast<int>(ymd.year()),
          static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day())),
          static_cast<int>(rem / 3600),
          static_cast<int>(rem % 3600 / 60),
          static_cast<int>(rem % 60),
          static_cast<int>(std::chrono::weekday{sd}.c_encoding()),
          static_cast<int>((sd - jan1).count()) + 1,
          nanos};
}

namespace {

const char* const kMonths[] = {"January", "February", "March", "April", "May", "June", "July",
                               "August", "September", "October", "November", "December"};
const char* const kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

}  // namespace

std::string go_time_format(std::string_view layout, int64_t unix_nanos) {
  TimeParts p = time_parts(unix_nanos);
  std::string out;
  auto take = [&](std::string_view tok) {
    if (layout.substr(0, tok.size()) == tok) {
      layout.remove_prefix(tok.size());
      return true;
    }
    return false;
  };
  int hour12 = p.hour % 12 == 0 ? 12 : p.hour % 12;
  while (!layout.empty()) {
    if (take("January")) out += kMonths[p.month - 1];
    else if (take("Jan")) out += std::string(kMonths[p.month - 1]).substr(0, 3);
    else if (take("Monday")) out += kDays[p.weekday];
    else if (take("Mon")) out += std::string(kDays[p.weekday]).substr(0, 3);
    else if (take("MST")) out += "UTC";
    else if (take("2006")) out += fmt::format("{:04d}", p.year);
    else if (take("002")) out += fmt::format("{:03d}", p.yday);
    else if (take("01")) out += fmt::format("{:02d}", p.month);
    else if (take("02")) out += fmt::format("{:02d}", p.day);
    else if (take("_2")) out += fmt::format("{:2d}", p.day);
    else if (take("06")) out += fmt::format("{:02d}", p.year % 100);
    else if (take("15")) out += fmt::format("{:02d}", p.hour);
    else if (take("03")) out += fmt::format("{:02d}", hour12);
    else if (take("04")) out += fmt::format("{:02d}", p.minute);
    else if (take("05")) out += fmt::format("{:02d}", p.second);
    else if (take("PM")) out += p.hour >= 12 ? "PM" : "AM";
    else if (take("pm")) out += p.hour >= 12 ? "pm" : "am";
    else if (take("Z07:00") || take("Z0700") || take("Z07")) out += "Z";
    else if (take("-07:00")) out += "+00:00";
    else if (take("-0700")) out += "+0000";
    else if (take("-07")) out += "+00";
    else if (take("1")) out += std::to_string(p.month);
    else if (take("2")) out += std::to_string(p.day);
    else if (take("3")) out += std::to_string(hour12);
    else if (take("4")) out += std::to_string(p.minute);
    else if (take("5")) out += std::to_string(p.second);
    else if ((layout[0] == '.' || layout[0] == ',') && layout.size() > 1 && (layout[1] == '0' || layout[1] == '9')) {
      char digit = layout[1];
      size_t n = 1;
      while (n < layout.size() && layout[n] == digit) ++n;
      std::string frac = fmt::format("{:09d}", p.nanos).substr(0, n - 1);
      if (digit == '9') {
        while (!frac.empty() && frac.back() == '0') frac.pop_back();
        if (!frac.empty()) out += layout[0] + frac;
      } else {
        out += layout[0] + frac;
      }
      layout.remove_prefix(n);
    } else {
      out += layout[0];
      layout.remove_prefix(1);
    }
  }
  return out;
}

std::optional<int64_t> parse_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  auto num = [&](size_t at, size_t n) -> std::optional<int> {
    if (at + n > s.size()) return std::nullopt;
    int v = 0;
    for (size_t k = at; k < at + n; ++k) {
      if (!std::isdigit(static_cast<unsigned char>(s[k]))) return std::nullopt;
      v = v * 10 + (s[k] - '0');
    }
    return v;
  };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), se = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !se || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 || *se > 60) return std::nullopt;
  size_t i = 19;
  int64_t nanos = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (digits < 9) {
        nanos = nanos * 10 + (s[i] - '0');
        ++digits;
      }
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits) nanos *= 10;
  }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    auto oh = num(i + 1, 2), om = num(i + 4, 2);
    if (!oh || !om || s[i + 3] != ':') return std::nullopt;
    offset = (*oh * 3600 + *om * 60) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{*y}, std::chrono::month{static_cast<unsigned>(*mo)},
                                  std::chrono::day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  int64_t days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  int64_t secs = days * 86400 + *h * 3600 + *mi * 60 + *se - offset;
  // Nanoseconds in an int64 reach only the years 1678 to 2262; a time outside that range
  // is not a time we can compare, so the text stays a string.
  int64_t ns = 0;
  if (__builtin_mul_overflow(secs, int64_t{1000000000}, &ns) || __builtin_add_overflow(ns, nanos, &ns))
    return std::nullopt;
  return ns;
}

std::string go_duration_string(int64_t nanos) {
  if (nanos == 0) return "0s";
  bool neg = nanos < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(nanos) : static_cast<uint64_t>(nanos);
  std::string out;
  auto frac = [](uint64_t v, uint64_t unit) {
    std::string s = std::to_string(v / unit);
    uint64_t rest = v % unit;
    if (rest) {
      std::string f = std::to_string(unit + rest).substr(1);
      while (!f.empty() && f.back() == '0') f.pop_back();
      s += "." + f;
    }
    return s;
  };
  if (u < 1000) {
    out = std::to_string(u) + "ns";
  } else if (u < 1000000) {
    out = frac(u, 1000) + "µs";
  } else if (u < 1000000000) {
    out = frac(u, 1000000) + "ms";
  } else {
    uint64_t secs = u / 1000000000;
    uint64_t h = secs / 3600, m = secs / 60 % 60;
    std::string s = frac(u % 60000000000ULL, 1000000000) + "s";
    if (h) out = std::to_string(h) + "h" + std::to_string(m) + "m" + s;
    else if (m) out = std::to_string(m) + "m" + s;
    else out = s;
  }
  return neg ? "-" + out : out;
}

}  // namespace tether::expr
