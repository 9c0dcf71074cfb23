// Functions callable from expr-lang: expr-lang's builtins, Argo's additions to the
// environment (asInt, asFloat, jsonpath, toJson) and the sprig functions (sprig.X),
// each with the argument order and conversions of its Go original. One table per
// family; a function is a name and a lambda.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "base/strings.h"
#include "expr/expr_lang.h"
#include "expr/expr_lang_internal.h"
#include "expr/expr_lang_value.h"

namespace tether::expr {
namespace {

using Args = std::vector<Value>;
using Fn = std::function<Result<Value>(Args&)>;

constexpr size_t kMaxBuilt = 1 << 20;  // bound on strings/arrays a function may build

Status arity(const Args& a, size_t lo, size_t hi, const char* name) {
  if (a.size() < lo) return invalid(fmt::format("not enough arguments to call {}", name));
  if (a.size() > hi) return invalid(fmt::format("too many arguments to call {}", name));
  return ok_status();
}

Result<std::string> want_string(const Value& v, const char* name) {
  if (!v.is_string()) return invalid(fmt::format("invalid argument for {} (type {})", name, v.type_name()));
  return v.str();
}

Result<Json> want_array(const Value& v, const char* name) {
  if (!v.is_array()) return invalid(fmt::format("invalid argument for {} (type {})", name, v.type_name()));
  return v.j;
}

// Go's encoding/json decodes every number as float64.
Json numbers_to_float(Json j) {
  if (j.is_number()) return Json(j.get<double>());
  if (j.is_array() || j.is_object()) {
    for (auto& x : j) x = numbers_to_float(std::move(x));
  }
  return j;
}

Result<Json> decode_go_json(const std::string& s) {
  auto j = parse_json(s, "json");
  if (!j.ok()) return j.take_error();
  return numbers_to_float(std::move(j).value());
}

std::string utf8_upper_lower(std::string s, bool upper) {
  for (char& c : s) c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c)) : std::tolower(static_cast<unsigned char>(c)));
  return s;
}

size_t rune_count(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string trim_set(const std::string& s, const std::string& set) {
  size_t b = s.find_first_not_of(set);
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(set);
  return s.substr(b, e - b + 1);
}

Json split_string(const std::string& s, const std::string& sep, int64_t n, bool after) {
  Json out = Json::array();
  if (n == 0) return out;
  if (sep.empty()) {
    for (size_t i = 0; i < s.size();) {
      size_t len = 1;
      while (i + len < s.size() && (static_cast<unsigned char>(s[i + len]) & 0xC0) == 0x80) ++len;
      if (n > 0 && static_cast<int64_t>(out.size()) == n - 1) {
        out.push_back(s.substr(i));
        return out;
      }
      out.push_back(s.substr(i, len));
      i += len;
    }
    return out;
  }
  size_t pos = 0;
  while (true) {
    if (n > 0 && static_cast<int64_t>(out.size()) == n - 1) break;
    size_t at = s.find(sep, pos);
    if (at == std::string::npos) break;
    out.push_back(s.substr(pos, at - pos + (after ? sep.size() : 0)));
    pos = at + sep.size();
  }
  out.push_back(s.substr(pos));
  return out;
}

const std::string kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string b64_encode(const std::string& in) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kB64[(v >> s) & 63];
  }
  size_t rest = in.size() - i;
  if (rest) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += rest == 2 ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> b64_decode(const std::string& in) {
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  size_t pad = 0;
  for (size_t k = 0; k < in.size(); ++k) {
    char c = in[k];
    if (c == '\n' || c == '\r') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    size_t v = kB64.find(c);
    if (v == std::string::npos || pad) return invalid(fmt::format("illegal base64 data at input byte {}", k));
    buf = (buf << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xFF);
    }
  }
  size_t data = in.size() - pad;
  if ((data + pad) % 4 != 0 && pad) return invalid(fmt::format("illegal base64 data at input byte {}", in.size()));
  if (data % 4 == 1) return invalid(fmt::format("illegal base64 data at input byte {}", data));
  return out;
}

// Go's strconv.Atoi / ParseFloat with Go's error text.
Result<int64_t> go_atoi(const std::string& s) {
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  bool ok = !s.empty() && *end == '\0' && !std::isspace(static_cast<unsigned char>(s[0]));
  if (!ok) return invalid(fmt::format("strconv.Atoi: parsing {}: invalid syntax", go_quote(s)));
  if (errno == ERANGE) return invalid(fmt::format("strconv.Atoi: parsing {}: value out of range", go_quote(s)));
  return static_cast<int64_t>(v);
}

Result<double> go_parse_float(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  bool hexish = s.find_first_of("xXpP") != std::string::npos;
  if (s.empty() || *end != '\0' || std::isspace(static_cast<unsigned char>(s[0])) || hexish) {
    return invalid(fmt::format("strconv.ParseFloat: parsing {}: invalid syntax", go_quote(s)));
  }
  return v;
}

// Go's time.ParseDuration.
Result<int64_t> parse_go_duration(const std::string& s) {
  static const std::map<std::string, double> units = {{"ns", 1},     {"us", 1e3},   {"µs", 1e3}, {"μs", 1e3},
                                                      {"ms", 1e6},   {"s", 1e9},    {"m", 60e9}, {"h", 3600e9}};
  std::string_view v = s;
  bool neg = false;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    neg = v[0] == '-';
    v.remove_prefix(1);
  }
  if (v == "0") return 0;
  if (v.empty()) return invalid(fmt::format("time: invalid duration {}", go_quote(s)));
  double total = 0;
  while (!v.empty()) {
    size_t k = 0;
    while (k < v.size() && (std::isdigit(static_cast<unsigned char>(v[k])) || v[k] == '.')) ++k;
    if (k == 0) return invalid(fmt::format("time: invalid duration {}", go_quote(s)));
    double num = std::strtod(std::string(v.substr(0, k)).c_str(), nullptr);
    v.remove_prefix(k);
    size_t u = 0;
    while (u < v.size() && !std::isdigit(static_cast<unsigned char>(v[u])) && v[u] != '.') ++u;
    auto it = units.find(std::string(v.substr(0, u)));
    if (it == units.end()) {
      if (u == 0) return invalid(fmt::format("time: missing unit in duration {}", go_quote(s)));
      return invalid(fmt::format("time: unknown unit {} in duration {}", go_quote(v.substr(0, u)), go_quote(s)));
    }
    total += num * it->second;
    v.remove_prefix(u);
  }
  if (total > 9.2e18) return invalid(fmt::format("time: invalid duration {}", go_quote(s)));
  return static_cast<int64_t>(neg ? -total : total);
}

// A time argument: a time value, or an RFC 3339 string (workflow timestamps are strings
// in tether's environment, time.Time in Argo's).
std::optional<int64_t> as_time(const Value& v) {
  if (v.is_time()) return v.ns;
  if (v.is_string()) return parse_rfc3339(v.str());
  return std::nullopt;
}

// sprig's toInt64 (via spf13/cast), which yields 0 for anything it cannot convert.
int64_t sprig_int(const Value& v) {
  if (v.is_number()) return v.as_int();
  if (v.is_bool()) return v.j.get<bool>() ? 1 : 0;
  if (v.is_string()) {
    std::string s = std::string(trim(v.str()));
    errno = 0;
    char* end = nullptr;
    long long x = std::strtoll(s.c_str(), &end, 0);
    if (!s.empty() && *end == '\0' && errno == 0) return x;
    auto f = go_parse_float(s);
    if (f.ok() && std::isfinite(*f) && std::fabs(*f) < 9.2e18) return static_cast<int64_t>(*f);
    return 0;
  }
  if (v.is_duration()) return v.ns;
  return 0;
}

double sprig_float(const Value& v) {
  if (v.is_number()) return v.as_float();
  if (v.is_bool()) return v.j.get<bool>() ? 1 : 0;
  if (v.is_string()) {
    auto f = go_parse_float(std::string(trim(v.str())));
    return f.ok() ? *f : 0;
  }
  return 0;
}

// sprig's strval: strings as they are, everything else as fmt's %v.
std::string strval(const Value& v) { return v.is_string() ? v.str() : sprint(v); }

// sprig's empty: the zero value of its type.
bool sprig_empty(const Value& v) {
  if (v.is_nil()) return true;
  if (v.is_string()) return v.str().empty();
  if (v.is_array() || v.is_map()) return v.j.empty();
  if (v.is_bool()) return !v.j.get<bool>();
  if (v.is_number()) return v.as_float() == 0;
  return v.ns == 0;
}

Value int_value(int64_t x) { return Value(Json(x)); }
Value float_value(double x) { return Value(Json(x)); }
Value str_value(std::string s) { return Value(Json(std::move(s))); }
Value bool_value(bool b) { return Value(Json(b)); }

Result<Value> numeric_extreme(Args& a, bool want_max, const char* name) {
  Json items = Json::array();
  if (a.size() == 1 && a[0].is_array()) {
    items = a[0].j;
  } else {
    for (auto& v : a) items.push_back(v.to_json());
  }
  if (items.empty()) return invalid(fmt::format("not enough arguments to call {}", name));
  Value best;
  for (const auto& x : items) {
    Value v(x);
    if (!v.is_number()) return invalid(fmt::format("invalid argument for {} (type {})", name, v.type_name()));
    if (best.is_nil() || (want_max ? v.as_float() > best.as_float() : v.as_float() < best.as_float())) best = v;
  }
  return best;
}

Result<Value> to_int(Args& a) {
  TRY_STATUS(arity(a, 1, 1, "int"));
  const Value& v = a[0];
  if (v.is_int()) return v;
  if (v.is_float()) return int_value(v.as_int());
  if (v.is_string()) return int_value(TRY(go_atoi(v.str())));
  if (v.is_duration()) return int_value(v.ns);
  return invalid(fmt::format("invalid operation: int({})", v.type_name()));
}

Result<Value> to_float(Args& a) {
  TRY_STATUS(arity(a, 1, 1, "float"));
  const Value& v = a[0];
  if (v.is_number()) return float_value(v.as_float());
  if (v.is_string()) return float_value(TRY(go_parse_float(v.str())));
  return invalid(fmt::format("invalid operation: float({})", v.type_name()));
}

Result<Value> sum_of(Args& a) {
  TRY_STATUS(arity(a, 1, 1, "sum"));
  Json items = TRY(want_array(a[0], "sum"));
  bool is_float = false;
  int64_t si = 0;
  double sf = 0;
  for (const auto& x : items) {
    Value v(x);
    if (!v.is_number()) return invalid(fmt::format("invalid argument for sum (type {})", v.type_name()));
    if (v.is_float()) is_float = true;
    si = static_cast<int64_t>(static_cast<uint64_t>(si) + static_cast<uint64_t>(v.as_int()));
    sf += v.as_float();
  }
  return is_float ? float_value(sf) : int_value(si);
}

Result<Value> json_string(const Value& v, bool indent) {
  Json j = v.to_json();
  if (!indent) return str_value(go_json(j));
  // expr-lang's toJSON is json.MarshalIndent(v, "", "  "); re-indent Go's compact form.
  std::string compact = go_json(j);
  std::string out;
  int depth = 0;
  bool in_str = false;
  for (size_t k = 0; k < compact.size(); ++k) {
    char c = compact[k];
    if (in_str) {
      out += c;
      if (c == '\\' && k + 1 < compact.size()) out += compact[++k];
      else if (c == '"') in_str = false;
      continue;
    }
    switch (c) {
      case '"': in_str = true; out += c; break;
      case '{': case '[': {
        char close = c == '{' ? '}' : ']';
        if (k + 1 < compact.size() && compact[k + 1] == close) {
          out += c;
          out += close;
          ++k;
          break;
        }
        out += c;
        out += "\n" + std::string(2 * ++depth, ' ');
        break;
      }
      case '}': case ']': out += "\n" + std::string(2 * --depth, ' ') + c; break;
      case ',': out += ",\n" + std::string(2 * depth, ' '); break;
      case ':': out += ": "; break;
      default: out += c;
    }
  }
  return str_value(out);
}

Result<Value> jsonpath_fn(Args& a) {
  TRY_STATUS(arity(a, 2, 2, "jsonpath"));
  std::string doc = TRY(want_string(a[0], "jsonpath"));
  std::string path = TRY(want_string(a[1], "jsonpath"));
  Json parsed = TRY(decode_go_json(doc));
  return Value(TRY(jsonpath_query(parsed, path)));
}

const std::map<std::string, Fn>& expr_functions() {
  static const std::map<std::string, Fn> table = {
      {"len", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "len"));
         if (a[0].is_string()) return int_value(static_cast<int64_t>(rune_count(a[0].str())));
         if (a[0].is_array() || a[0].is_map()) return int_value(static_cast<int64_t>(a[0].j.size()));
         return invalid(fmt::format("invalid argument for len (type {})", a[0].type_name()));
       }},
      {"abs", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "abs"));
         if (a[0].is_int()) return int_value(a[0].as_int() < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(a[0].as_int())) : a[0].as_int());
         if (a[0].is_float()) return float_value(std::fabs(a[0].as_float()));
         return invalid(fmt::format("invalid argument for abs (type {})", a[0].type_name()));
       }},
      {"ceil", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "ceil")); if (!a[0].is_number()) return invalid("invalid argument for ceil (type " + a[0].type_name() + ")"); return float_value(std::ceil(a[0].as_float())); }},
      {"floor", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "floor")); if (!a[0].is_number()) return invalid("invalid argument for floor (type " + a[0].type_name() + ")"); return float_value(std::floor(a[0].as_float())); }},
      {"round", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "round")); if (!a[0].is_number()) return invalid("invalid argument for round (type " + a[0].type_name() + ")"); return float_value(std::round(a[0].as_float())); }},
      {"int", to_int},
      {"float", to_float},
      {"asInt", to_int},
      {"asFloat", to_float},
      {"string", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "string")); return str_value(sprint(a[0])); }},
      {"trim", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 2, "trim"));
         std::string s = TRY(want_string(a[0], "trim"));
         std::string set = a.size() > 1 ? TRY(want_string(a[1], "trim")) : std::string(" \t\n\r\v\f");
         return str_value(trim_set(s, set));
       }},
      {"trimPrefix", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 2, "trimPrefix"));
         std::string s = TRY(want_string(a[0], "trimPrefix"));
         std::string p = a.size() > 1 ? TRY(want_string(a[1], "trimPrefix")) : " ";
         return str_value(starts_with(s, p) ? s.substr(p.size()) : s);
       }},
      {"trimSuffix", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 2, "trimSuffix"));
         std::string s = TRY(want_string(a[0], "trimSuffix"));
         std::string p = a.size() > 1 ? TRY(want_string(a[1], "trimSuffix")) : " ";
         return str_value(ends_with(s, p) ? s.substr(0, s.size() - p.size()) : s);
       }},
      {"upper", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "upper")); return str_value(utf8_upper_lower(TRY(want_string(a[0], "upper")), true)); }},
      {"lower", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "lower")); return str_value(utf8_upper_lower(TRY(want_string(a[0], "lower")), false)); }},
      {"split", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 2, 3, "split"));
         int64_t n = a.size() > 2 && a[2].is_number() ? a[2].as_int() : -1;
         return Value(split_string(TRY(want_string(a[0], "split")), TRY(want_string(a[1], "split")), n, false));
       }},
      {"splitAfter", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 2, 3, "splitAfter"));
         int64_t n = a.size() > 2 && a[2].is_number() ? a[2].as_int() : -1;
         return Value(split_string(TRY(want_string(a[0], "splitAfter")), TRY(want_string(a[1], "splitAfter")), n, true));
       }},
      {"replace", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 3, 3, "replace"));
         std::string s = TRY(want_string(a[0], "replace"));
         std::string from = TRY(want_string(a[1], "replace"));
         std::string to = TRY(want_string(a[2], "replace"));
         if (from.empty()) return str_value(s);
         std::string out = replace_all(s, from, to);
         if (out.size() > kMaxBuilt * 16) return invalid("replace: result too long");
         return str_value(out);
       }},
      {"repeat", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 2, 2, "repeat"));
         std::string s = TRY(want_string(a[0], "repeat"));
         if (!a[1].is_int() || a[1].as_int() < 0) return invalid("strings: negative Repeat count");
         if (s.size() * static_cast<size_t>(std::min<int64_t>(a[1].as_int(), kMaxBuilt)) > kMaxBuilt) return invalid("repeat: result too long");
         std::string out;
         for (int64_t k = 0; k < a[1].as_int(); ++k) out += s;
         return str_value(out);
       }},
      {"indexOf", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 2, 2, "indexOf"));
         size_t at = TRY(want_string(a[0], "indexOf")).find(TRY(want_string(a[1], "indexOf")));
         return int_value(at == std::string::npos ? -1 : static_cast<int64_t>(at));
       }},
      {"lastIndexOf", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 2, 2, "lastIndexOf"));
         size_t at = TRY(want_string(a[0], "lastIndexOf")).rfind(TRY(want_string(a[1], "lastIndexOf")));
         return int_value(at == std::string::npos ? -1 : static_cast<int64_t>(at));
       }},
      {"hasPrefix", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 2, 2, "hasPrefix")); return bool_value(starts_with(TRY(want_string(a[0], "hasPrefix")), TRY(want_string(a[1], "hasPrefix")))); }},
      {"hasSuffix", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 2, 2, "hasSuffix")); return bool_value(ends_with(TRY(want_string(a[0], "hasSuffix")), TRY(want_string(a[1], "hasSuffix")))); }},
      {"join", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 2, "join"));
         Json items = TRY(want_array(a[0], "join"));
         std::string sep = a.size() > 1 ? TRY(want_string(a[1], "join")) : "";
         std::string out;
         for (size_t k = 0; k < items.size(); ++k) {
           if (!items[k].is_string()) return invalid("invalid argument for join (type " + Value(items[k]).type_name() + ")");
           if (k) out += sep;
           out += items[k].get<std::string>();
         }
         return str_value(out);
       }},
      {"keys", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "keys"));
         if (!a[0].is_map()) return invalid("invalid argument for keys (type " + a[0].type_name() + ")");
         Json out = Json::array();
         for (auto it = a[0].j.begin(); it != a[0].j.end(); ++it) out.push_back(it.key());
         return Value(out);
       }},
      {"values", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "values"));
         if (!a[0].is_map()) return invalid("invalid argument for values (type " + a[0].type_name() + ")");
         Json out = Json::array();
         for (const auto& v : a[0].j) out.push_back(v);
         return Value(out);
       }},
      {"toJSON", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "toJSON")); return json_string(a[0], true); }},
      {"toJson", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "toJson")); return json_string(a[0], false); }},
      {"fromJSON", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "fromJSON")); return Value(TRY(decode_go_json(TRY(want_string(a[0], "fromJSON"))))); }},
      {"fromJson", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "fromJson")); return Value(TRY(decode_go_json(TRY(want_string(a[0], "fromJson"))))); }},
      {"toBase64", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "toBase64")); return str_value(b64_encode(TRY(want_string(a[0], "toBase64")))); }},
      {"fromBase64", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "fromBase64")); return str_value(TRY(b64_decode(TRY(want_string(a[0], "fromBase64"))))); }},
      {"max", [](Args& a) { return numeric_extreme(a, true, "max"); }},
      {"min", [](Args& a) { return numeric_extreme(a, false, "min"); }},
      {"sum", sum_of},
      {"mean", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "mean"));
         Json items = TRY(want_array(a[0], "mean"));
         if (items.empty()) return float_value(0);
         Value s = TRY(sum_of(a));
         return float_value(s.as_float() / static_cast<double>(items.size()));
       }},
      {"first", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "first"));
         if (!a[0].is_array() || a[0].j.empty()) return Value();
         return Value(a[0].j.front());
       }},
      {"last", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "last"));
         if (!a[0].is_array() || a[0].j.empty()) return Value();
         return Value(a[0].j.back());
       }},
      {"reverse", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "reverse"));
         Json items = TRY(want_array(a[0], "reverse"));
         std::reverse(items.begin(), items.end());
         return Value(items);
       }},
      {"uniq", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "uniq"));
         Json items = TRY(want_array(a[0], "uniq"));
         Json out = Json::array();
         for (const auto& x : items) {
           bool seen = std::any_of(out.begin(), out.end(), [&](const Json& y) { return values_equal(Value(x), Value(y)); });
           if (!seen) out.push_back(x);
         }
         return Value(out);
       }},
      {"concat", [](Args& a) -> Result<Value> {
         Json out = Json::array();
         for (auto& v : a) {
           Json items = TRY(want_array(v, "concat"));
           for (auto& x : items) out.push_back(x);
         }
         return Value(out);
       }},
      {"flatten", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "flatten"));
         Json items = TRY(want_array(a[0], "flatten"));
         Json out = Json::array();
         std::function<void(const Json&)> walk = [&](const Json& j) {
           if (j.is_array()) {
             for (const auto& x : j) walk(x);
           } else {
             out.push_back(j);
           }
         };
         walk(items);
         return Value(out);
       }},
      {"sort", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 2, "sort"));
         Json items = TRY(want_array(a[0], "sort"));
         bool desc = a.size() > 1 && a[1].is_string() && a[1].str() == "desc";
         std::vector<Json> v(items.begin(), items.end());
         bool nums = std::all_of(v.begin(), v.end(), [](const Json& x) { return x.is_number(); });
         bool strs = std::all_of(v.begin(), v.end(), [](const Json& x) { return x.is_string(); });
         if (!nums && !strs) return invalid("sort: unsupported element types");
         std::stable_sort(v.begin(), v.end(), [&](const Json& x, const Json& y) {
           bool lt = nums ? x.get<double>() < y.get<double>() : x.get<std::string>() < y.get<std::string>();
           bool gt = nums ? x.get<double>() > y.get<double>() : x.get<std::string>() > y.get<std::string>();
           return desc ? gt : lt;
         });
         return Value(Json(v));
       }},
      {"get", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 2, 2, "get"));
         if (a[0].is_map() && a[1].is_string()) {
           auto it = a[0].j.find(a[1].str());
           return it == a[0].j.end() ? Value() : Value(*it);
         }
         if (a[0].is_array() && a[1].is_number()) {
           int64_t i = a[1].as_int(), n = static_cast<int64_t>(a[0].j.size());
           if (i < 0) i += n;
           if (i < 0 || i >= n) return Value();
           return Value(a[0].j[static_cast<size_t>(i)]);
         }
         return Value();
       }},
      {"type", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "type"));
         static const std::map<std::string, std::string> names = {
             {"<nil>", "nil"}, {"bool", "bool"}, {"int", "int"}, {"float64", "float"}, {"string", "string"},
             {"[]interface {}", "array"}, {"map[string]interface {}", "map"}, {"time.Time", "time.Time"},
             {"time.Duration", "time.Duration"}};
         return str_value(names.at(a[0].type_name()));
       }},
      {"toPairs", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "toPairs"));
         if (!a[0].is_map()) return invalid("invalid argument for toPairs (type " + a[0].type_name() + ")");
         Json out = Json::array();
         for (auto it = a[0].j.begin(); it != a[0].j.end(); ++it) out.push_back(Json::array({it.key(), it.value()}));
         return Value(out);
       }},
      {"fromPairs", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "fromPairs"));
         Json items = TRY(want_array(a[0], "fromPairs"));
         Json out = Json::object();
         for (const auto& p : items) {
           if (!p.is_array() || p.size() != 2 || !p[0].is_string()) return invalid("invalid pair in fromPairs");
           out[p[0].get<std::string>()] = p[1];
         }
         return Value(out);
       }},
      {"duration", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "duration"));
         return Value::duration(TRY(parse_go_duration(TRY(want_string(a[0], "duration")))));
       }},
      {"date", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 3, "date"));
         std::string s = TRY(want_string(a[0], "date"));
         if (auto t = parse_rfc3339(s)) return Value::time(*t);
         return invalid(fmt::format("parsing time {}: cannot parse as RFC 3339", go_quote(s)));
       }},
      {"now", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 0, 0, "now"));
         return Value::time(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
       }},
      {"jsonpath", jsonpath_fn},
  };
  return table;
}

Result<Value> sprig_date(Args& a) {
  TRY_STATUS(arity(a, 2, 2, "date"));
  std::string layout = strval(a[0]);
  // sprig formats time.Time and unix seconds; anything else it replaces with now.
  std::optional<int64_t> t = as_time(a[1]);
  if (!t && a[1].is_number()) t = a[1].as_int() * 1000000000LL;
  if (!t) t = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return str_value(go_time_format(layout, *t));
}

Result<Value> sprig_list(Args& a) {
  Json out = Json::array();
  for (auto& v : a) out.push_back(v.to_json());
  return Value(out);
}

Json sprig_list_arg(const Value& v) { return v.is_array() ? v.j : Json::array(); }

const std::map<std::string, Fn>& sprig_functions() {
  static const std::map<std::string, Fn> table = {
      {"trim", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "trim")); return str_value(std::string(trim(strval(a[0])))); }},
      {"upper", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "upper")); return str_value(utf8_upper_lower(strval(a[0]), true)); }},
      {"lower", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "lower")); return str_value(utf8_upper_lower(strval(a[0]), false)); }},
      {"replace", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 3, 3, "replace"));
         std::string from = strval(a[0]);
         if (from.empty()) return str_value(strval(a[2]));
         std::string out = replace_all(strval(a[2]), from, strval(a[1]));
         if (out.size() > kMaxBuilt * 16) return invalid("replace: result too long");
         return str_value(out);
       }},
      {"contains", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 2, 2, "contains")); return bool_value(strval(a[1]).find(strval(a[0])) != std::string::npos); }},
      {"hasPrefix", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 2, 2, "hasPrefix")); return bool_value(starts_with(strval(a[1]), strval(a[0]))); }},
      {"hasSuffix", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 2, 2, "hasSuffix")); return bool_value(ends_with(strval(a[1]), strval(a[0]))); }},
      {"split", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 2, 2, "split"));
         Json parts = split_string(strval(a[1]), strval(a[0]), -1, false);
         Json out = Json::object();
         for (size_t k = 0; k < parts.size(); ++k) out["_" + std::to_string(k)] = parts[k];
         return Value(out);
       }},
      {"splitList", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 2, 2, "splitList")); return Value(split_string(strval(a[1]), strval(a[0]), -1, false)); }},
      {"join", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 2, 2, "join"));
         std::string out;
         Json items = a[1].is_array() ? a[1].j : Json::array({a[1].to_json()});
         for (size_t k = 0; k < items.size(); ++k) {
           if (k) out += strval(a[0]);
           out += strval(Value(items[k]));
         }
         return str_value(out);
       }},
      {"default", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 2, "default"));
         if (a.size() < 2 || sprig_empty(a[1])) return a[0];
         return a[1];
       }},
      {"empty", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "empty")); return bool_value(sprig_empty(a[0])); }},
      {"toString", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "toString")); return str_value(strval(a[0])); }},
      {"atoi", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "atoi"));
         auto v = go_atoi(strval(a[0]));
         return int_value(v.ok() ? *v : 0);
       }},
      {"int", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "int")); return int_value(sprig_int(a[0])); }},
      {"int64", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "int64")); return int_value(sprig_int(a[0])); }},
      {"float64", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "float64")); return float_value(sprig_float(a[0])); }},
      {"add", [](Args& a) -> Result<Value> {
         uint64_t s = 0;
         for (auto& v : a) s += static_cast<uint64_t>(sprig_int(v));
         return int_value(static_cast<int64_t>(s));
       }},
      {"add1", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "add1")); return int_value(static_cast<int64_t>(static_cast<uint64_t>(sprig_int(a[0])) + 1)); }},
      {"sub", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 2, 2, "sub")); return int_value(static_cast<int64_t>(static_cast<uint64_t>(sprig_int(a[0])) - static_cast<uint64_t>(sprig_int(a[1])))); }},
      {"mul", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, SIZE_MAX, "mul"));
         uint64_t p = static_cast<uint64_t>(sprig_int(a[0]));
         for (size_t k = 1; k < a.size(); ++k) p *= static_cast<uint64_t>(sprig_int(a[k]));
         return int_value(static_cast<int64_t>(p));
       }},
      {"div", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 2, 2, "div"));
         int64_t d = sprig_int(a[1]);
         if (d == 0) return invalid("runtime error: integer divide by zero");
         if (d == -1) return int_value(static_cast<int64_t>(0 - static_cast<uint64_t>(sprig_int(a[0]))));
         return int_value(sprig_int(a[0]) / d);
       }},
      {"mod", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 2, 2, "mod"));
         int64_t d = sprig_int(a[1]);
         if (d == 0) return invalid("runtime error: integer divide by zero");
         if (d == -1) return int_value(0);
         return int_value(sprig_int(a[0]) % d);
       }},
      {"max", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, SIZE_MAX, "max"));
         int64_t m = sprig_int(a[0]);
         for (auto& v : a) m = std::max(m, sprig_int(v));
         return int_value(m);
       }},
      {"min", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, SIZE_MAX, "min"));
         int64_t m = sprig_int(a[0]);
         for (auto& v : a) m = std::min(m, sprig_int(v));
         return int_value(m);
       }},
      {"addf", [](Args& a) -> Result<Value> {
         double s = 0;
         for (auto& v : a) s += sprig_float(v);
         return float_value(s);
       }},
      {"subf", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, SIZE_MAX, "subf"));
         double s = sprig_float(a[0]);
         for (size_t k = 1; k < a.size(); ++k) s -= sprig_float(a[k]);
         return float_value(s);
       }},
      {"mulf", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, SIZE_MAX, "mulf"));
         double p = sprig_float(a[0]);
         for (size_t k = 1; k < a.size(); ++k) p *= sprig_float(a[k]);
         return float_value(p);
       }},
      {"divf", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, SIZE_MAX, "divf"));
         double p = sprig_float(a[0]);
         for (size_t k = 1; k < a.size(); ++k) p /= sprig_float(a[k]);
         return float_value(p);
       }},
      {"randAlphaNum", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "randAlphaNum"));
         int64_t n = sprig_int(a[0]);
         if (n < 0 || static_cast<size_t>(n) > kMaxBuilt) return invalid("randAlphaNum: count out of range");
         static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
         std::random_device rd;
         std::mt19937_64 gen(rd());
         std::string out;
         for (int64_t k = 0; k < n; ++k) out += chars[gen() % (sizeof chars - 1)];
         return str_value(out);
       }},
      {"b64enc", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "b64enc")); return str_value(b64_encode(strval(a[0]))); }},
      {"b64dec", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "b64dec"));
         auto r = b64_decode(strval(a[0]));
         // sprig returns the decoding error's text as the result.
         return str_value(r.ok() ? *r : r.error().message);
       }},
      {"quote", [](Args& a) -> Result<Value> {
         std::string out;
         for (auto& v : a) {
           if (v.is_nil()) continue;
           if (!out.empty()) out += ' ';
           out += go_quote(strval(v));
         }
         return str_value(out);
       }},
      {"squote", [](Args& a) -> Result<Value> {
         std::string out;
         for (auto& v : a) {
           if (v.is_nil()) continue;
           if (!out.empty()) out += ' ';
           out += "'" + strval(v) + "'";
         }
         return str_value(out);
       }},
      {"date", sprig_date},
      {"toJson", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "toJson")); return json_string(a[0], false); }},
      {"toPrettyJson", [](Args& a) -> Result<Value> { TRY_STATUS(arity(a, 1, 1, "toPrettyJson")); return json_string(a[0], true); }},
      {"fromJson", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "fromJson"));
         auto j = decode_go_json(strval(a[0]));
         return j.ok() ? Value(*j) : str_value("");
       }},
      {"dict", [](Args& a) -> Result<Value> {
         Json out = Json::object();
         for (size_t k = 0; k < a.size(); k += 2) out[strval(a[k])] = k + 1 < a.size() ? a[k + 1].to_json() : Json("");
         return Value(out);
       }},
      {"list", sprig_list},
      {"first", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "first"));
         Json l = sprig_list_arg(a[0]);
         return l.empty() ? Value() : Value(l.front());
       }},
      {"last", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "last"));
         Json l = sprig_list_arg(a[0]);
         return l.empty() ? Value() : Value(l.back());
       }},
      {"uniq", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "uniq"));
         Json out = Json::array();
         for (const auto& x : sprig_list_arg(a[0])) {
           if (std::find(out.begin(), out.end(), x) == out.end()) out.push_back(x);
         }
         return Value(out);
       }},
      {"sortAlpha", [](Args& a) -> Result<Value> {
         TRY_STATUS(arity(a, 1, 1, "sortAlpha"));
         std::vector<std::string> v;
         for (const auto& x : sprig_list_arg(a[0])) v.push_back(strval(Value(x)));
         std::sort(v.begin(), v.end());
         return Value(Json(v));
       }},
  };
  return table;
}

Result<Value> want_time_arg(const Args& a, size_t k, const char* name) {
  if (k >= a.size()) return invalid(fmt::format("not enough arguments to call {}", name));
  auto t = as_time(a[k]);
  if (!t) return invalid(fmt::format("invalid argument for {} (type {})", name, a[k].type_name()));
  return Value::time(*t);
}

const std::map<std::string, Fn>& method_functions() {
  auto dur = [](double unit) {
    return [unit](Args& a) -> Result<Value> { return float_value(static_cast<double>(a[0].ns) / unit); };
  };
  auto part = [](int TimeParts::*field) {
    return [field](Args& a) -> Result<Value> { return int_value(time_parts(a[0].ns).*field); };
  };
  static const std::map<std::string, Fn> table = {
      {"duration.Seconds", dur(1e9)},
      {"duration.Minutes", dur(60e9)},
      {"duration.Hours", dur(3600e9)},
      {"duration.Milliseconds", [](Args& a) -> Result<Value> { return int_value(a[0].ns / 1000000); }},
      {"duration.Microseconds", [](Args& a) -> Result<Value> { return int_value(a[0].ns / 1000); }},
      {"duration.Nanoseconds", [](Args& a) -> Result<Value> { return int_value(a[0].ns); }},
      {"duration.String", [](Args& a) -> Result<Value> { return str_value(go_duration_string(a[0].ns)); }},
      {"time.Unix", [](Args& a) -> Result<Value> { return int_value(a[0].ns >= 0 ? a[0].ns / 1000000000 : -((-a[0].ns + 999999999) / 1000000000)); }},
      {"time.UnixMilli", [](Args& a) -> Result<Value> { return int_value(a[0].ns / 1000000); }},
      {"time.UnixNano", [](Args& a) -> Result<Value> { return int_value(a[0].ns); }},
      {"time.Year", [](Args& a) -> Result<Value> { return int_value(time_parts(a[0].ns).year); }},
      {"time.Month", part(&TimeParts::month)},
      {"time.Day", part(&TimeParts::day)},
      {"time.Hour", part(&TimeParts::hour)},
      {"time.Minute", part(&TimeParts::minute)},
      {"time.Second", part(&TimeParts::second)},
      {"time.Weekday", part(&TimeParts::weekday)},
      {"time.YearDay", part(&TimeParts::yday)},
      {"time.UTC", [](Args& a) -> Result<Value> { return a[0]; }},
      {"time.Local", [](Args& a) -> Result<Value> { return a[0]; }},
      {"time.Format", [](Args& a) -> Result<Value> {
         if (a.size() != 2 || !a[1].is_string()) return invalid("Format takes one string argument");
         return str_value(go_time_format(a[1].str(), a[0].ns));
       }},
      {"time.Sub", [](Args& a) -> Result<Value> { Value t = TRY(want_time_arg(a, 1, "Sub")); return Value::duration(a[0].ns - t.ns); }},
      {"time.Add", [](Args& a) -> Result<Value> {
         if (a.size() != 2 || !(a[1].is_duration() || a[1].is_int())) return invalid("Add takes one duration argument");
         return Value::time(a[0].ns + (a[1].is_duration() ? a[1].ns : a[1].as_int()));
       }},
      {"time.Before", [](Args& a) -> Result<Value> { Value t = TRY(want_time_arg(a, 1, "Before")); return bool_value(a[0].ns < t.ns); }},
      {"time.After", [](Args& a) -> Result<Value> { Value t = TRY(want_time_arg(a, 1, "After")); return bool_value(a[0].ns > t.ns); }},
      {"time.Equal", [](Args& a) -> Result<Value> { Value t = TRY(want_time_arg(a, 1, "Equal")); return bool_value(a[0].ns == t.ns); }},
  };
  return table;
}

const Fn* find_function(const std::string& name) {
  const std::map<std::string, Fn>* table = &expr_functions();
  std::string key = name;
  if (starts_with(name, "sprig.")) {
    table = &sprig_functions();
    key = name.substr(6);
  } else if (starts_with(name, "time.") || starts_with(name, "duration.")) {
    table = &method_functions();
  }
  auto it = table->find(key);
  return it == table->end() ? nullptr : &it->second;
}

}  // namespace

bool function_exists(const std::string& name) { return find_function(name) != nullptr; }

Result<Value> call_function(const std::string& name, std::vector<Value>& args) {
  const Fn* fn = find_function(name);
  if (!fn) return Error(ErrorCode::kNotFound, "unknown func " + name);
  return (*fn)(args);
}

}  // namespace tether::expr
