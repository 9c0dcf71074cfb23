#include "spec/model.h"

#include <fmt/core.h>

#include <charconv>
#include <cmath>
#include <string>

#include "base/strings.h"

namespace tether::spec {

std::string IntOrString::str() const { return is_int ? std::to_string(int_value) : str_value; }

Result<int64_t> IntOrString::to_int() const {
  if (is_int) return int_value;
  int64_t v = 0;
  const char* b = str_value.data();
  const char* e = b + str_value.size();
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || p != e || str_value.empty())
    return invalid(fmt::format("invalid integer \"{}\"", str_value), pos);
  return v;
}

Json IntOrString::to_json() const { return is_int ? Json(int_value) : Json(str_value); }

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Nanoseconds per unit, as Go's time package names them.
struct Unit {
  std::string_view name;
  double ns;
};
constexpr Unit kDurationUnits[] = {
    {"ns", 1}, {"us", 1e3}, {"\xC2\xB5s", 1e3}, {"\xCE\xBCs", 1e3}, {"ms", 1e6},
    {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
};

bool parse_int_text(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<int64_t> parse_duration_ms(std::string_view text, bool bare_number_is_seconds) {
  auto bad = [&] { return invalid(fmt::format("time: invalid duration \"{}\"", text)); };
  if (bare_number_is_seconds) {
    int64_t secs = 0;
    std::string_view t = text;
    if (!t.empty() && t[0] == '+') t.remove_prefix(1);
    if (parse_int_text(t, secs)) return secs * 1000;
  }
  std::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return bad();
  long double total_ns = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && is_digit(s[i])) ++i;
    size_t int_digits = i;
    size_t frac_digits = 0;
    if (i < s.size() && s[i] == '.') {
      ++i;
      size_t f0 = i;
      while (i < s.size() && is_digit(s[i])) ++i;
      frac_digits = i - f0;
    }
    if (int_digits == 0 && frac_digits == 0) return bad();
    long double number = std::strtold(std::string(s.substr(0, i)).c_str(), nullptr);
    s.remove_prefix(i);
    size_t u = 0;
    while (u < s.size() && !is_digit(s[u]) && s[u] != '.') ++u;
    if (u == 0) return invalid(fmt::format("time: missing unit in duration \"{}\"", text));
    std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    const Unit* found = nullptr;
    for (const auto& k : kDurationUnits)
      if (k.name == unit) found = &k;
    if (!found) return invalid(fmt::format("time: unknown unit \"{}\" in duration \"{}\"", unit, text));
    total_ns += number * found->ns;
    if (total_ns > 9.2233720368547758e18L) return invalid(fmt::format("time: invalid duration \"{}\"", text));
  }
  auto ms = static_cast<int64_t>(total_ns / 1e6L);
  return neg ? -ms : ms;
}

Result<double> parse_quantity(std::string_view text) {
  auto bad = [&] { return invalid(fmt::format("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (got \"{}\")", text)); };
  std::string_view s = trim(text);
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  bool dot = false;
  while (i < s.size() && (is_digit(s[i]) || (s[i] == '.' && !dot))) {
    if (s[i] == '.') dot = true; else ++digits;
    ++i;
  }
  if (digits == 0) return bad();
  double number = std::strtod(std::string(s.substr(0, i)).c_str(), nullptr);
  std::string_view suffix = s.substr(i);
  struct Suffix { std::string_view name; double factor; };
  static constexpr Suffix kSuffixes[] = {
      {"", 1},       {"n", 1e-9},   {"u", 1e-6},   {"m", 1e-3},   {"k", 1e3},    {"M", 1e6},
      {"G", 1e9},    {"T", 1e12},   {"P", 1e15},   {"E", 1e18},   {"Ki", 1024.0},
      {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
      {"Pi", 1125899906842624.0}, {"Ei", 1152921504606846976.0},
  };
  for (const auto& k : kSuffixes)
    if (k.name == suffix) return number * k.factor;
  if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    int64_t exp = 0;
    std::string_view e = suffix.substr(1);
    if (!e.empty() && e[0] == '+') e.remove_prefix(1);
    if (parse_int_text(e, exp) && exp > -400 && exp < 400) return number * std::pow(10.0, static_cast<double>(exp));
  }
  return bad();
}

std::string ArtifactLocation::kind() const {
  if (raw) return "raw";
  const std::pair<const char*, const Json*> kinds[] = {
      {"s3", &s3}, {"git", &git}, {"http", &http}, {"artifactory", &artifactory}, {"hdfs", &hdfs},
      {"oss", &oss}, {"gcs", &gcs}, {"azure", &azure}, {"plugin", &plugin},
  };
  for (const auto& [name, j] : kinds)
    if (!j->is_null()) return name;
  return "";
}

namespace {
struct KindName {
  const char* operator()(const std::monostate&) const { return ""; }
  const char* operator()(const ContainerTemplate&) const { return "container"; }
  const char* operator()(const ScriptTemplate&) const { return "script"; }
  const char* operator()(const StepsTemplate&) const { return "steps"; }
  const char* operator()(const DagTemplate&) const { return "dag"; }
  const char* operator()(const SuspendTemplate&) const { return "suspend"; }
  const char* operator()(const ResourceTemplate&) const { return "resource"; }
  const char* operator()(const HttpTemplate&) const { return "http"; }
  const char* operator()(const DataTemplate&) const { return "data"; }
  const char* operator()(const PluginTemplate&) const { return "plugin"; }
  const char* operator()(const ContainerSetTemplate&) const { return "containerSet"; }
};
}  // namespace

const char* Template::kind_name() const { return std::visit(KindName{}, body); }

const Container* Template::container() const {
  if (auto* c = as<ContainerTemplate>()) return c;
  if (auto* s = as<ScriptTemplate>()) return s;
  return nullptr;
}

const Template* WorkflowSpec::find_template(std::string_view name) const {
  for (const auto& t : templates)
    if (t.name == name) return &t;
  return nullptr;
}

namespace {
const ObjectMeta* meta_of(const Document& d) {
  return std::visit(
      [](const auto& o) -> const ObjectMeta* {
        if constexpr (std::is_same_v<std::decay_t<decltype(o)>, std::monostate>) return nullptr;
        else return &o.metadata;
      },
      d.object);
}
}  // namespace

std::string Document::name() const {
  if (const ObjectMeta* m = meta_of(*this)) return m->name.empty() ? m->generate_name : m->name;
  if (raw.is_object() && raw.contains("metadata") && raw["metadata"].is_object()) {
    const Json& m = raw["metadata"];
    if (m.contains("name") && m["name"].is_string()) return m["name"].get<std::string>();
  }
  return "";
}

const WorkflowSpec* Document::workflow_spec() const {
  if (auto* w = std::get_if<Workflow>(&object)) return &w->spec;
  if (auto* t = std::get_if<WorkflowTemplate>(&object)) return &t->spec;
  if (auto* c = std::get_if<ClusterWorkflowTemplate>(&object)) return &c->spec;
  if (auto* c = std::get_if<CronWorkflow>(&object)) return &c->spec.workflow_spec;
  return nullptr;
}

}  // namespace tether::spec
