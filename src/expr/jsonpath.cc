// JSONPath as Argo's `jsonpath(json, path)` evaluates it (evilmonkeyinc/jsonpath): a
// path of only names and single indexes yields one value; wildcards, slices, unions,
// filters and recursive descent yield an array of every match.
#include <fmt/format.h>

#include <cmath>
#include <optional>

#include "expr/expr_lang_internal.h"
#include "expr/expr_lang_value.h"

namespace tether::expr {
namespace {

constexpr int kMaxDepth = 100;

struct Segment {
  enum class Kind { kNames, kIndexes, kSlice, kWildcard, kRecursive, kFilter } kind = Kind::kNames;
  std::vector<std::string> names;
  std::vector<int64_t> indexes;
  std::optional<int64_t> start, end;
  int64_t step = 1;
  std::string filter;

  static Segment of(Kind k) {
    Segment s;
    s.kind = k;
    return s;
  }
};

Error path_error(std::string_view path, std::string msg) { return invalid(fmt::format("jsonpath {}: {}", go_quote(path), msg)); }

class PathParser {
 public:
  explicit PathParser(std::string_view p) : p_(p) {}

  Result<std::vector<Segment>> run() {
    if (p_.empty() || p_[0] != '$') return path_error(p_, "a path starts with '$'");
    i_ = 1;
    std::vector<Segment> out;
    while (i_ < p_.size()) {
      if (p_.substr(i_, 2) == "..") {
        i_ += 2;
        out.push_back(Segment::of(Segment::Kind::kRecursive));
        if (i_ < p_.size() && p_[i_] == '[') continue;
        out.push_back(TRY(dotted()));
      } else if (p_[i_] == '.') {
        ++i_;
        out.push_back(TRY(dotted()));
      } else if (p_[i_] == '[') {
        out.push_back(TRY(bracket()));
      } else {
        return path_error(p_, fmt::format("unexpected '{}' at {}", p_[i_], i_));
      }
    }
    return out;
  }

 private:
  Result<Segment> dotted() {
    if (i_ < p_.size() && p_[i_] == '*') {
      ++i_;
      return Segment::of(Segment::Kind::kWildcard);
    }
    size_t start = i_;
    while (i_ < p_.size() && p_[i_] != '.' && p_[i_] != '[') ++i_;
    if (i_ == start) return path_error(p_, fmt::format("expected a name at {}", start));
    Segment s;
    s.names.emplace_back(p_.substr(start, i_ - start));
    return s;
  }

  void skip_space() {
    while (i_ < p_.size() && p_[i_] == ' ') ++i_;
  }

  Result<std::string> quoted() {
    char q = p_[i_++];
    std::string out;
    while (i_ < p_.size() && p_[i_] != q) {
      if (p_[i_] == '\\' && i_ + 1 < p_.size()) ++i_;
      out += p_[i_++];
    }
    if (i_ >= p_.size()) return path_error(p_, "unterminated string");
    ++i_;
    return out;
  }

  Result<std::optional<int64_t>> integer() {
    skip_space();
    size_t start = i_;
    if (i_ < p_.size() && p_[i_] == '-') ++i_;
    while (i_ < p_.size() && std::isdigit(static_cast<unsigned char>(p_[i_]))) ++i_;
    if (i_ == start) return std::optional<int64_t>();
    std::string digits(p_.substr(start, i_ - start));
    if (digits == "-" || digits.size() > 18) return path_error(p_, "invalid index " + digits);
    skip_space();
    return std::optional<int64_t>(std::stoll(digits));
  }

  Result<Segment> bracket() {
    ++i_;  // [
    skip_space();
    if (i_ >= p_.size()) return path_error(p_, "unterminated '['");
    Segment s;
    if (p_[i_] == '*') {
      ++i_;
      s.kind = Segment::Kind::kWildcard;
    } else if (p_[i_] == '?') {
      // [?( ... )]: find the ')' that closes the filter, skipping strings.
      ++i_;
      if (i_ >= p_.size() || p_[i_] != '(') return path_error(p_, "expected '(' after '?'");
      size_t start = ++i_;
      int depth = 1;
      while (i_ < p_.size() && depth > 0) {
        char c = p_[i_];
        if (c == '\'' || c == '"') {
          TRY(quoted());
          continue;
        }
        depth += c == '(' ? 1 : c == ')' ? -1 : 0;
        ++i_;
      }
      if (depth != 0) return path_error(p_, "unterminated filter");
      s.kind = Segment::Kind::kFilter;
      s.filter = std::string(p_.substr(start, i_ - 1 - start));
    } else if (p_[i_] == '\'' || p_[i_] == '"') {
      while (true) {
        skip_space();
        if (i_ >= p_.size() || (p_[i_] != '\'' && p_[i_] != '"')) return path_error(p_, "expected a quoted name");
        s.names.push_back(TRY(quoted()));
        skip_space();
        if (i_ < p_.size() && p_[i_] == ',') {
          ++i_;
          continue;
        }
        break;
      }
    } else {
      auto first = TRY(integer());
      if (i_ < p_.size() && p_[i_] == ':') {
        s.kind = Segment::Kind::kSlice;
        s.start = first;
        ++i_;
        s.end = TRY(integer());
        if (i_ < p_.size() && p_[i_] == ':') {
          ++i_;
          auto step = TRY(integer());
          s.step = step.value_or(1);
          if (s.step == 0) return path_error(p_, "slice step cannot be 0");
        }
      } else {
        if (!first) return path_error(p_, fmt::format("unexpected '{}' at {}", p_[i_], i_));
        s.kind = Segment::Kind::kIndexes;
        s.indexes.push_back(*first);
        while (i_ < p_.size() && p_[i_] == ',') {
          ++i_;
          auto next = TRY(integer());
          if (!next) return path_error(p_, "expected an index");
          s.indexes.push_back(*next);
        }
      }
    }
    skip_space();
    if (i_ >= p_.size() || p_[i_] != ']') return path_error(p_, "expected ']'");
    ++i_;
    return s;
  }

  std::string_view p_;
  size_t i_ = 0;
};

// ---- filter expressions: @.a == 'x' && (@.b > 1 || !@.c) ----

struct Operand {
  bool defined = false;
  Json value;
};

class FilterEval {
 public:
  FilterEval(std::string_view src, const Json& item, const Json& root, std::string_view path, int depth)
      : s_(src), item_(item), root_(root), path_(path), depth_(depth) {}

  Result<bool> run() {
    Operand v = TRY(or_expr());
    skip_space();
    if (i_ != s_.size()) return path_error(path_, fmt::format("unexpected '{}' in filter", s_[i_]));
    return truthy(v);
  }

 private:
  static bool truthy(const Operand& o) {
    if (!o.defined) return false;
    if (o.value.is_boolean()) return o.value.get<bool>();
    return !o.value.is_null();
  }
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool eat(std::string_view op) {
    skip_space();
    if (s_.substr(i_, op.size()) == op) {
      i_ += op.size();
      return true;
    }
    return false;
  }
  Operand boolean(bool b) { return {true, Json(b)}; }

  Result<Operand> or_expr() {
    Operand l = TRY(and_expr());
    while (eat("||")) {
      Operand r = TRY(and_expr());
      l = boolean(truthy(l) || truthy(r));
    }
    return l;
  }
  Result<Operand> and_expr() {
    Operand l = TRY(comparison());
    while (eat("&&")) {
      Operand r = TRY(comparison());
      l = boolean(truthy(l) && truthy(r));
    }
    return l;
  }
  Result<Operand> comparison() {
    Operand l = TRY(unary());
    static const char* const ops[] = {"==", "!=", "<=", ">=", "<", ">"};
    for (const char* op : ops) {
      if (eat(op)) {
        Operand r = TRY(unary());
        return boolean(compare(op, l, r));
      }
    }
    return l;
  }
  static bool compare(std::string_view op, const Operand& l, const Operand& r) {
    if (!l.defined || !r.defined) return op == "!=" && l.defined != r.defined;
    int c;
    if (l.value.is_number() && r.value.is_number()) {
      double a = l.value.get<double>(), b = r.value.get<double>();
      c = a < b ? -1 : a > b ? 1 : 0;
    } else if (l.value.is_string() && r.value.is_string()) {
      c = l.value.get<std::string>().compare(r.value.get<std::string>());
    } else {
      bool eq = l.value == r.value;
      if (op == "==") return eq;
      if (op == "!=") return !eq;
      return false;
    }
    if (op == "==") return c == 0;
    if (op == "!=") return c != 0;
    if (op == "<") return c < 0;
    if (op == "<=") return c <= 0;
    if (op == ">") return c > 0;
    return c >= 0;
  }
  Result<Operand> unary() {
    if (++nesting_ > kMaxDepth) return path_error(path_, "filter nested too deeply");
    Result<Operand> r = primary();
    --nesting_;
    return r;
  }
  Result<Operand> primary() {
    skip_space();
    if (i_ >= s_.size()) return path_error(path_, "incomplete filter");
    char c = s_[i_];
    if (c == '!') {
      ++i_;
      Operand v = TRY(unary());
      return boolean(!truthy(v));
    }
    if (c == '(') {
      ++i_;
      Operand v = TRY(or_expr());
      if (!eat(")")) return path_error(path_, "expected ')' in filter");
      return v;
    }
    if (c == '\'' || c == '"') {
      ++i_;
      std::string out;
      while (i_ < s_.size() && s_[i_] != c) {
        if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
        out += s_[i_++];
      }
      if (i_ >= s_.size()) return path_error(path_, "unterminated string in filter");
      ++i_;
      return Operand{true, Json(out)};
    }
    if (c == '@' || c == '$') return path_operand();
    size_t start = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' || s_[i_] == '-' || s_[i_] == '+')) ++i_;
    std::string word(s_.substr(start, i_ - start));
    if (word == "true" || word == "false") return Operand{true, Json(word == "true")};
    if (word == "null") return Operand{true, Json(nullptr)};
    char* end = nullptr;
    double d = std::strtod(word.c_str(), &end);
    if (word.empty() || *end != '\0') return path_error(path_, fmt::format("unexpected '{}' in filter", word.empty() ? std::string(1, c) : word));
    return Operand{true, Json(d)};
  }
  Result<Operand> path_operand() {
    size_t start = i_;
    ++i_;
    // The sub-path runs until an operator or the end of the operand.
    int brackets = 0;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '[') ++brackets;
      if (c == ']') --brackets;
      if (brackets == 0 && (std::isspace(static_cast<unsigned char>(c)) || c == '=' || c == '!' || c == '<' || c == '>' ||
                            c == '&' || c == '|' || c == ')')) {
        break;
      }
      if (c == '\'' || c == '"') {
        char q = c;
        ++i_;
        while (i_ < s_.size() && s_[i_] != q) ++i_;
      }
      ++i_;
    }
    std::string sub = "$" + std::string(s_.substr(start + 1, i_ - start - 1));
    const Json& base = s_[start] == '@' ? item_ : root_;
    if (depth_ + 1 > kMaxDepth) return path_error(path_, "filter nested too deeply");
    auto segs = PathParser(sub).run();
    if (!segs.ok()) return segs.take_error();
    std::vector<const Json*> found;
    Status st = apply_all(*segs, base, root_, found, depth_ + 1, sub);
    if (!st.ok() || found.empty()) return Operand{};
    return Operand{true, *found[0]};
  }

 public:
  static Status apply_all(const std::vector<Segment>& segs, const Json& doc, const Json& root,
                          std::vector<const Json*>& out, int depth, std::string_view path);

 private:
  std::string_view s_;
  const Json& item_;
  const Json& root_;
  std::string_view path_;
  int depth_;
  size_t i_ = 0;
  int nesting_ = 0;
};

void descend(const Json& j, std::vector<const Json*>& out, int depth) {
  out.push_back(&j);
  if (depth > kMaxDepth) return;
  if (j.is_object() || j.is_array()) {
    for (const auto& x : j) descend(x, out, depth + 1);
  }
}

Status apply(const Segment& s, const std::vector<const Json*>& in, std::vector<const Json*>& out, const Json& root,
             int depth, std::string_view path, bool strict) {
  for (const Json* j : in) {
    switch (s.kind) {
      case Segment::Kind::kNames:
        for (const auto& name : s.names) {
          if (j->is_object() && j->contains(name)) {
            out.push_back(&(*j)[name]);
          } else if (strict) {
            return path_error(path, fmt::format("key {} not found", go_quote(name)));
          }
        }
        break;
      case Segment::Kind::kIndexes:
        for (int64_t idx : s.indexes) {
          int64_t n = j->is_array() ? static_cast<int64_t>(j->size()) : 0;
          int64_t k = idx < 0 ? idx + n : idx;
          if (j->is_array() && k >= 0 && k < n) {
            out.push_back(&(*j)[static_cast<size_t>(k)]);
          } else if (strict) {
            return path_error(path, fmt::format("index [{}] out of range", idx));
          }
        }
        break;
      case Segment::Kind::kSlice: {
        if (!j->is_array()) break;
        int64_t n = static_cast<int64_t>(j->size());
        auto norm = [n](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + n : v, 0, n); };
        if (s.step > 0) {
          for (int64_t k = norm(s.start.value_or(0)); k < norm(s.end.value_or(n)); k += s.step) out.push_back(&(*j)[static_cast<size_t>(k)]);
        } else {
          int64_t from = s.start ? std::min(norm(*s.start), n - 1) : n - 1;
          int64_t to = s.end ? norm(*s.end) : -1;
          for (int64_t k = from; k > to && k >= 0; k += s.step) out.push_back(&(*j)[static_cast<size_t>(k)]);
        }
        break;
      }
      case Segment::Kind::kWildcard:
        if (j->is_object() || j->is_array()) {
          for (const auto& x : *j) out.push_back(&x);
        }
        break;
      case Segment::Kind::kRecursive:
        descend(*j, out, depth);
        break;
      case Segment::Kind::kFilter:
        if (j->is_object() || j->is_array()) {
          for (const auto& x : *j) {
            if (TRY(FilterEval(s.filter, x, root, path, depth).run())) out.push_back(&x);
          }
        }
        break;
    }
  }
  return ok_status();
}

Status FilterEval::apply_all(const std::vector<Segment>& segs, const Json& doc, const Json& root,
                             std::vector<const Json*>& out, int depth, std::string_view path) {
  std::vector<const Json*> cur{&doc};
  for (const auto& s : segs) {
    std::vector<const Json*> next;
    TRY_STATUS(apply(s, cur, next, root, depth, path, false));
    cur = std::move(next);
  }
  out = std::move(cur);
  return ok_status();
}

bool definite(const std::vector<Segment>& segs) {
  return std::all_of(segs.begin(), segs.end(), [](const Segment& s) {
    return (s.kind == Segment::Kind::kNames && s.names.size() == 1) ||
           (s.kind == Segment::Kind::kIndexes && s.indexes.size() == 1);
  });
}

}  // namespace

Result<Json> jsonpath_query(const Json& doc, std::string_view path) {
  std::vector<Segment> segs = TRY(PathParser(path).run());
  bool single = definite(segs);
  std::vector<const Json*> cur{&doc};
  for (const auto& s : segs) {
    std::vector<const Json*> next;
    TRY_STATUS(apply(s, cur, next, doc, 0, path, single));
    cur = std::move(next);
  }
  if (single) return cur.empty() ? Json() : *cur[0];
  Json out = Json::array();
  for (const Json* j : cur) out.push_back(*j);
  return out;
}

}  // namespace tether::expr
