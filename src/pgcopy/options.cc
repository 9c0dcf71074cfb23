#include "pgcopy/options.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fmt/core.h>
#include <optional>
#include <set>
#include <variant>

#include "base/strings.h"

namespace tether::pgcopy {
namespace {

using Nanos = std::chrono::nanoseconds;

// A flag writes into one field of Options; the variant says how its value is parsed.
using Target = std::variant<std::string Options::*, bool Options::*, int64_t Options::*, Nanos Options::*>;

struct Flag {
  const char* name;
  Target target;
  const char* type_name;  // shown in usage ("string", "int", "duration"; empty for bool)
  const char* help;
};

// Names, defaults and help follow timescaledb-parallel-copy, whose scripts we must accept.
const std::vector<Flag>& flags() {
  static const std::vector<Flag> table = {
      {"batch-byte-size", &Options::batch_byte_size, "int", "Max number of bytes to send in a batch"},
      {"binary", &Options::binary, "",
       "Convert values of simple column types (integers, uuid, ISO timestamps with offset, text) to COPY BINARY on "
       "the client; a batch with any other value is sent as CSV text"},
      {"batch-size", &Options::batch_size, "int", "Number of rows per insert. It will be limited by batch-byte-size"},
      {"buffer-byte-size", &Options::buffer_byte_size, "int", "Number of bytes to read from the input at a time"},
      {"columns", &Options::columns, "string", "Comma-separated columns present in CSV"},
      {"connection", &Options::connection, "string", "PostgreSQL connection url"},
      {"copy-options", &Options::copy_options, "string", "Additional options to pass to COPY (e.g., NULL 'NULL')"},
      {"db-name", &Options::db_name, "string", "Database where the destination table exists (overrides the connection's dbname)"},
      {"escape", &Options::escape, "character", "The ESCAPE `character` to use during COPY (default '\"')"},
      {"file", &Options::file, "string", "File to read from rather than stdin"},
      {"header-line-count", &Options::header_line_count, "int", "Number of header lines skipped by -skip-header"},
      {"import-id", &Options::import_id, "string", "ImportID to guarantee idempotency"},
      {"limit", &Options::limit, "int", "Number of rows to insert overall; 0 means to insert all"},
      {"log-batches", &Options::log_batches, "", "Whether to time individual batches."},
      {"quote", &Options::quote, "character", "The QUOTE `character` to use during COPY (default '\"')"},
      {"reporting-period", &Options::reporting_period, "duration",
       "Period to report insert stats; if 0s, intermediate results will not be reported"},
      {"schema", &Options::schema, "string", "Destination table's schema"},
      {"skip-header", &Options::skip_header, "", "Skip the first line of the input"},
      {"skip-lines", &Options::skip_lines, "int", "Skip the first n lines of the input. it is applied before skip-header"},
      {"split", &Options::split, "string", "Character to split by"},
      {"table", &Options::table, "string", "Destination table for insertions"},
      {"truncate", &Options::truncate, "", "Truncate the destination table before insert"},
      {"verbose", &Options::verbose, "", "Print more information about copying statistics"},
      {"version", &Options::version, "", "Show the version of this tool"},
      {"workers", &Options::workers, "int", "Number of parallel requests to make"},
  };
  return table;
}

const Flag* find_flag(std::string_view name) {
  for (const auto& f : flags())
    if (name == f.name) return &f;
  return nullptr;
}

bool is_bool(const Flag& f) { return std::holds_alternative<bool Options::*>(f.target); }

// Go's strconv.ParseBool.
std::optional<bool> parse_go_bool(std::string_view s) {
  static const std::set<std::string_view> yes = {"1", "t", "T", "true", "TRUE", "True"};
  static const std::set<std::string_view> no = {"0", "f", "F", "false", "FALSE", "False"};
  if (yes.count(s)) return true;
  if (no.count(s)) return false;
  return std::nullopt;
}

// Go's strconv.ParseInt(s, 0, 64): optional sign, 0x/0o/0b/0 prefixes, '_' only after a prefix.
std::optional<int64_t> parse_go_int(std::string_view s) {
  std::string t(s);
  bool prefixed = t.size() > 1 && (t[0] == '0' || ((t[0] == '-' || t[0] == '+') && t.size() > 2 && t[1] == '0'));
  if (!prefixed && t.find('_') != std::string::npos) return std::nullopt;
  t.erase(std::remove(t.begin(), t.end(), '_'), t.end());
  if (t.empty()) return std::nullopt;
  size_t i = (t[0] == '-' || t[0] == '+') ? 1 : 0;
  int base = 10;
  std::string digits = t.substr(i);
  if (digits.size() > 1 && digits[0] == '0') {
    char p = static_cast<char>(std::tolower(static_cast<unsigned char>(digits[1])));
    if (p == 'x') base = 16, digits = digits.substr(2);
    else if (p == 'o') base = 8, digits = digits.substr(2);
    else if (p == 'b') base = 2, digits = digits.substr(2);
    else base = 8, digits = digits.substr(1);
  }
  if (digits.empty() || digits[0] == '-' || digits[0] == '+') return std::nullopt;
  errno = 0;
  char* end = nullptr;
  std::string text = t.substr(0, i) + digits;
  long long v = std::strtoll(text.c_str(), &end, base);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(v);
}

// Sets one flag from its textual value; the error is Go's wording.
std::optional<std::string> set_flag(Options& o, const Flag& f, const std::string& value) {
  auto bad = [&] { return fmt::format("invalid value \"{}\" for flag -{}: parse error", value, f.name); };
  struct Setter {
    Options& o;
    const std::string& value;
    bool operator()(std::string Options::*m) const { return (o.*m = value, true); }
    bool operator()(bool Options::*m) const {
      auto b = parse_go_bool(value);
      return b ? (o.*m = *b, true) : false;
    }
    bool operator()(int64_t Options::*m) const {
      auto n = parse_go_int(value);
      return n ? (o.*m = *n, true) : false;
    }
    bool operator()(Nanos Options::*m) const {
      auto d = parse_go_duration(value);
      return d.ok() ? (o.*m = *d, true) : false;
    }
  };
  if (std::visit(Setter{o, value}, f.target)) return std::nullopt;
  if (is_bool(f)) return fmt::format("invalid boolean value \"{}\" for -{}: parse error", value, f.name);
  return bad();
}

bool is_url(std::string_view s) { return starts_with(s, "postgres://") || starts_with(s, "postgresql://"); }

}  // namespace

bool is_conninfo_pair(std::string_view word) {
  size_t eq = word.find('=');
  if (eq == std::string_view::npos || eq == 0) return false;
  std::string key(trim(word.substr(0, eq)));
  static const std::set<std::string> keywords = [] {
    std::set<std::string> k;
    PQconninfoOption* opts = PQconndefaults();
    for (PQconninfoOption* o = opts; o && o->keyword; ++o) k.insert(o->keyword);
    PQconninfoFree(opts);
    return k;
  }();
  return keywords.count(key) > 0;
}

ParsedArgs parse_args(const std::vector<std::string>& args) {
  ParsedArgs out;
  auto fail = [&](std::string msg) {
    out.action = ParsedArgs::Action::kUsageError;
    out.error = std::move(msg);
    return out;
  };
  bool last_was_connection = false;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 2 || a[0] != '-') {
      // The shell split an unquoted conninfo into words: glue them back on.
      bool keyword_conninfo = !is_url(out.options.connection);
      if (last_was_connection && keyword_conninfo && is_conninfo_pair(a)) {
        out.options.connection += " " + a;
        continue;
      }
      break;
    }
    last_was_connection = false;
    size_t dashes = (a[1] == '-') ? 2 : 1;
    if (dashes == 2 && a.size() == 2) {
      ++i;  // "--" ends the flags
      break;
    }
    std::string name = a.substr(dashes);
    if (name.empty() || name[0] == '-' || name[0] == '=') return fail("bad flag syntax: " + a);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const Flag* f = find_flag(name);
    if (!f) {
      if (name == "help" || name == "h") {
        out.action = ParsedArgs::Action::kHelp;
        return out;
      }
      return fail("flag provided but not defined: -" + name);
    }
    if (!value && !is_bool(*f)) {
      if (i + 1 >= args.size()) return fail("flag needs an argument: -" + name);
      value = args[++i];
    }
    if (auto err = set_flag(out.options, *f, value.value_or("true"))) return fail(*err);
    last_was_connection = (std::string_view(f->name) == "connection");
  }
  if (i < args.size()) {
    return fail(fmt::format("unexpected argument \"{}\": flags must come before any other argument, and a "
                            "connection string with spaces must be quoted",
                            args[i]));
  }
  return out;
}

std::string usage(std::string_view prog) {
  Options defaults;
  std::string out = fmt::format("Usage of {}:\n", prog);
  for (const auto& f : flags()) {
    out += fmt::format("  -{}", f.name);
    if (*f.type_name) out += fmt::format(" {}", f.type_name);
    out += fmt::format("\n    \t{}", f.help);
    struct Default {
      const Options& o;
      std::string operator()(std::string Options::*m) const { return (o.*m).empty() ? "" : fmt::format("\"{}\"", o.*m); }
      std::string operator()(bool Options::*m) const { return o.*m ? "true" : ""; }
      std::string operator()(int64_t Options::*m) const { return o.*m == 0 ? "" : std::to_string(o.*m); }
      std::string operator()(Nanos Options::*m) const { return o.*m == Nanos{0} ? "" : format_go_duration(o.*m); }
    };
    std::string def = std::visit(Default{defaults}, f.target);
    if (!def.empty()) out += fmt::format(" (default {})", def);
    out += "\n";
  }
  return out;
}

Result<Nanos> parse_go_duration(std::string_view s) {
  auto bad = [&] { return invalid(fmt::format("time: invalid duration \"{}\"", s)); };
  std::string_view rest = s;
  bool neg = false;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    neg = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest == "0") return Nanos{0};
  if (rest.empty()) return bad();
  static const std::vector<std::pair<std::string_view, double>> units = {
      {"ns", 1}, {"us", 1e3}, {"\xC2\xB5s", 1e3}, {"\xCE\xBCs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  long double total = 0;
  while (!rest.empty()) {
    size_t n = 0;
    while (n < rest.size() && (std::isdigit(static_cast<unsigned char>(rest[n])) || rest[n] == '.')) ++n;
    std::string num(rest.substr(0, n));
    if (num.empty() || num == "." || std::count(num.begin(), num.end(), '.') > 1) return bad();
    rest.remove_prefix(n);
    size_t u = 0;
    while (u < rest.size() && !std::isdigit(static_cast<unsigned char>(rest[u])) && rest[u] != '.') ++u;
    std::string_view unit = rest.substr(0, u);
    rest.remove_prefix(u);
    auto it = std::find_if(units.begin(), units.end(), [&](const auto& p) { return p.first == unit; });
    if (it == units.end()) return bad();
    total += std::strtold(num.c_str(), nullptr) * it->second;
  }
  if (total > 9.2e18L) return bad();
  auto ns = static_cast<int64_t>(total);
  return Nanos{neg ? -ns : ns};
}

std::string format_go_duration(Nanos d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  // A fixed-point number with `prec` fractional digits, trailing zeros trimmed.
  auto frac = [](uint64_t v, int prec) {
    uint64_t p = 1;
    for (int k = 0; k < prec; ++k) p *= 10;
    std::string s = std::to_string(v / p);
    std::string f = fmt::format("{:0{}}", v % p, prec);
    while (!f.empty() && f.back() == '0') f.pop_back();
    return f.empty() ? s : s + "." + f;
  };
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + frac(u, 3) + "\xC2\xB5s";
  if (u < 1000000000) return sign + frac(u, 6) + "ms";
  uint64_t secs = u / 1000000000, h = secs / 3600, m = (secs / 60) % 60;
  std::string s = frac(u % 60000000000ULL, 9) + "s";
  if (h > 0) return sign + std::to_string(h) + "h" + std::to_string(m) + "m" + s;
  if (m > 0) return sign + std::to_string(m) + "m" + s;
  return sign + s;
}

}  // namespace tether::pgcopy
