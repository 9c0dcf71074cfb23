// Tree-walking evaluator for expr-lang. Semantics follow expr-lang's VM: int and float
// are distinct (1/2 is 0.5, 7 % 2 is int), comparisons work across int and float, a
// missing map key reads as nil, and errors are values, never exceptions.
#include <fmt/format.h>

#include <cmath>
#include <optional>

#include "expr/expr_lang.h"
#include "expr/expr_lang_internal.h"
#include "expr/expr_lang_value.h"

namespace tether::expr {

int64_t Value::as_int() const {
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (std::isnan(d) || d >= 9.2e18 || d <= -9.2e18) return 0;
    return static_cast<int64_t>(d);
  }
  if (j.is_number_unsigned()) return static_cast<int64_t>(j.get<uint64_t>());
  return j.get<int64_t>();
}

double Value::as_float() const {
  if (j.is_number_float()) return j.get<double>();
  return static_cast<double>(as_int());
}

Json Value::to_json() const {
  if (ext == Ext::kTime) return go_time_format("2006-01-02T15:04:05.999999999Z07:00", ns);
  if (ext == Ext::kDuration) return ns;
  return j;
}

std::string Value::type_name() const {
  switch (ext) {
    case Ext::kTime: return "time.Time";
    case Ext::kDuration: return "time.Duration";
    case Ext::kNone: break;
  }
  switch (j.type()) {
    case Json::value_t::null: return "<nil>";
    case Json::value_t::boolean: return "bool";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "int";
    case Json::value_t::number_float: return "float64";
    case Json::value_t::string: return "string";
    case Json::value_t::array: return "[]interface {}";
    case Json::value_t::object: return "map[string]interface {}";
    default: return "unknown";
  }
}

std::string sprint(const Value& v) {
  if (v.is_time()) return go_time_format("2006-01-02 15:04:05.999999999 -0700 MST", v.ns);
  if (v.is_duration()) return go_duration_string(v.ns);
  return go_sprint(v.j);
}

bool values_equal(const Value& a, const Value& b) {
  if (a.ext != b.ext) return false;
  if (a.ext != Value::Ext::kNone) return a.ns == b.ns;
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
    return a.as_float() == b.as_float();
  }
  if (a.j.type() != b.j.type()) return false;
  if (a.is_array()) {
    if (a.j.size() != b.j.size()) return false;
    for (size_t k = 0; k < a.j.size(); ++k) {
      if (!values_equal(Value(a.j[k]), Value(b.j[k]))) return false;
    }
    return true;
  }
  if (a.is_map()) {
    if (a.j.size() != b.j.size()) return false;
    for (auto it = a.j.begin(); it != a.j.end(); ++it) {
      auto o = b.j.find(it.key());
      if (o == b.j.end() || !values_equal(Value(it.value()), Value(*o))) return false;
    }
    return true;
  }
  return a.j == b.j;
}

namespace {

using K = ExprNode::Kind;
constexpr size_t kMaxRange = 1000000;
constexpr size_t kMaxStringBytes = 16 << 20;
// Work budget of one evaluation, in steps: a node evaluated, an element or 16 bytes
// copied. Closures over ranges nest, so without it `map(0..999999, map(0..999999, #))`
// would run for hours; real workflow expressions use a tiny fraction of it.
constexpr uint64_t kBudget = 1000000;

class Evaluator {
 public:
  Evaluator(const ExprAst& ast, const Json& env, const Clock& clock) : src_(ast.source), env_(env), clock_(clock) {}

  Result<Value> eval(const ExprNode* n) {
    if (!n) return Value();
    TRY_STATUS(charge(*n, 1));
    switch (n->kind) {
      case K::kNil: return Value();
      case K::kBool: return Value(Json(n->bool_value));
      case K::kInt: return Value(Json(n->int_value));
      case K::kFloat: return Value(Json(n->float_value));
      case K::kString: return Value(Json(n->str));
      case K::kIdent: return identifier(*n);
      case K::kPointer: return pointer(*n);
      case K::kUnary: return unary(*n);
      case K::kBinary: return binary(*n);
      case K::kTernary: return ternary(*n);
      case K::kMember: return member(*n);
      case K::kSlice: return slice(*n);
      case K::kCall: return call(*n);
      case K::kPredicate: return eval(n->kids[0].get());
      case K::kArray: return array(*n);
      case K::kMap: return map_literal(*n);
      case K::kSequence: {
        Value last;
        for (const auto& k : n->kids) last = TRY(eval(k.get()));
        return last;
      }
      case K::kLet: {
        Value v = TRY(eval(n->kids[0].get()));
        lets_.emplace_back(n->str, std::move(v));
        auto r = eval(n->kids[1].get());
        lets_.pop_back();
        return r;
      }
    }
    return internal("unknown node");
  }

 private:
  struct Scope {
    Value item;
    int64_t index = 0;
    Value acc;
  };

  Error error_at(const ExprNode& n, std::string msg) { return syntax_error(src_, n.pos, std::move(msg)); }

  Status charge(const ExprNode& n, uint64_t steps) {
    spent_ += steps;
    if (spent_ > kBudget) return error_at(n, "expression is too expensive to evaluate");
    return ok_status();
  }
  // What copying v costs: its elements, or its bytes / 16.
  static uint64_t size_cost(const Value& v) {
    if (v.is_string()) return v.str().size() / 16;
    if (v.is_array() || v.is_map()) return v.j.size();
    return 0;
  }
  Result<Value> charged(const ExprNode& n, Value v) {
    TRY_STATUS(charge(n, size_cost(v)));
    return v;
  }

  Result<Value> identifier(const ExprNode& n) {
    for (auto it = lets_.rbegin(); it != lets_.rend(); ++it) {
      if (it->first == n.str) return charged(n, it->second);
    }
    if (n.str == "$env") return charged(n, Value(env_));
    if (env_.is_object()) {
      auto it = env_.find(n.str);
      if (it != env_.end()) return charged(n, Value(*it));
    }
    return error_at(n, "unknown name " + n.str);
  }

  Result<Value> pointer(const ExprNode& n) {
    if (scopes_.empty()) return error_at(n, "cannot use pointer accessor outside predicate");
    const Scope& s = scopes_.back();
    if (n.str.empty()) return charged(n, s.item);
    if (n.str == "index") return Value(Json(s.index));
    if (n.str == "acc") return charged(n, s.acc);
    return error_at(n, "unknown pointer #" + n.str);
  }

  Result<bool> truth(const ExprNode& n, const Value& v, std::string_view op) {
    if (!v.is_bool()) return error_at(n, fmt::format("invalid operation: {} (mismatched type {})", op, v.type_name()));
    return v.j.get<bool>();
  }

  Result<Value> unary(const ExprNode& n) {
    Value v = TRY(eval(n.kids[0].get()));
    if (n.str == "not" || n.str == "!") return Value(Json(!TRY(truth(n, v, n.str))));
    if (v.is_int()) return Value(Json(n.str == "-" ? -static_cast<int64_t>(static_cast<uint64_t>(v.as_int())) : v.as_int()));
    if (v.is_float()) return Value(Json(n.str == "-" ? -v.as_float() : v.as_float()));
    if (v.is_duration() && n.str == "-") return Value::duration(-v.ns);
    return error_at(n, fmt::format("invalid operation: {} (mismatched type {})", n.str, v.type_name()));
  }

  Error mismatch(const ExprNode& n, const Value& a, const Value& b) {
    return error_at(n, fmt::format("invalid operation: {} (mismatched types {} and {})", n.str, a.type_name(), b.type_name()));
  }

  Result<Value> binary(const ExprNode& n) {
    const std::string& op = n.str;
    if (op == "&&" || op == "and" || op == "||" || op == "or") {
      bool is_and = op == "&&" || op == "and";
      Value l = TRY(eval(n.kids[0].get()));
      bool lb = TRY(truth(n, l, op));
      if (is_and != lb) return Value(Json(lb));
      Value r = TRY(eval(n.kids[1].get()));
      return Value(Json(TRY(truth(n, r, op))));
    }
    if (op == "??") {
      ++nil_safe_;
      auto l = eval(n.kids[0].get());
      --nil_safe_;
      if (!l.ok()) return l.take_error();
      if (!l->is_nil()) return l;
      return eval(n.kids[1].get());
    }
    Value l = TRY(eval(n.kids[0].get()));
    Value r = TRY(eval(n.kids[1].get()));
    TRY_STATUS(charge(n, size_cost(l) + size_cost(r)));
    coerce_time(l, r);
    coerce_time(r, l);
    if (op == "==") return Value(Json(values_equal(l, r)));
    if (op == "!=") return Value(Json(!values_equal(l, r)));
    if (op == "<" || op == ">" || op == "<=" || op == ">=") return compare(n, l, r);
    if (op == "in") return in(n, l, r);
    if (op == "matches" || op == "contains" || op == "startsWith" || op == "endsWith") {
      if (!l.is_string() || !r.is_string()) return mismatch(n, l, r);
      const std::string& a = l.str();
      const std::string& b = r.str();
      if (op == "matches") {
        auto m = regex_search(b, a);
        if (!m.ok()) return error_at(n, m.error().message);
        return Value(Json(*m));
      }
      if (op == "contains") return Value(Json(a.find(b) != std::string::npos));
      if (op == "startsWith") return Value(Json(a.compare(0, b.size(), b) == 0 && a.size() >= b.size()));
      return Value(Json(a.size() >= b.size() && a.compare(a.size() - b.size(), b.size(), b) == 0));
    }
    if (op == "..") {
      if (!l.is_int() || !r.is_int()) return mismatch(n, l, r);
      int64_t a = l.as_int(), b = r.as_int();
      Json out = Json::array();
      if (b >= a) {
        if (static_cast<uint64_t>(b) - static_cast<uint64_t>(a) >= kMaxRange) return error_at(n, "range is too large");
        TRY_STATUS(charge(n, static_cast<uint64_t>(b - a)));
        for (int64_t x = a; x <= b; ++x) out.push_back(x);
      }
      return Value(out);
    }
    return arithmetic(n, l, r);
  }

  // Argo's environment holds timestamps (cronworkflow.lastScheduledTime) as time.Time;
  // tether's holds RFC 3339 strings, which become times when met with a time.
  static void coerce_time(Value& maybe_string, const Value& other) {
    if (!other.is_time() || !maybe_string.is_string()) return;
    if (auto t = parse_rfc3339(maybe_string.str())) maybe_string = Value::time(*t);
  }

  Result<Value> compare(const ExprNode& n, const Value& l, const Value& r) {
    int c;
    if (l.is_int() && r.is_int()) {
      c = l.as_int() < r.as_int() ? -1 : l.as_int() > r.as_int() ? 1 : 0;
    } else if (l.is_number() && r.is_number()) {
      double a = l.as_float(), b = r.as_float();
      if (std::isnan(a) || std::isnan(b)) return Value(Json(false));
      c = a < b ? -1 : a > b ? 1 : 0;
    } else if (l.is_string() && r.is_string()) {
      c = l.str().compare(r.str());
    } else if ((l.is_time() && r.is_time()) || (l.is_duration() && r.is_duration())) {
      c = l.ns < r.ns ? -1 : l.ns > r.ns ? 1 : 0;
    } else {
      return mismatch(n, l, r);
    }
    const std::string& op = n.str;
    bool res = op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0;
    return Value(Json(res));
  }

  Result<Value> in(const ExprNode& n, const Value& l, const Value& r) {
    if (r.is_array()) {
      for (const auto& x : r.j) {
        if (values_equal(l, Value(x))) return Value(Json(true));
      }
      return Value(Json(false));
    }
    if (r.is_map()) {
      if (!l.is_string()) return mismatch(n, l, r);
      return Value(Json(r.j.contains(l.str())));
    }
    if (r.is_nil()) return Value(Json(false));
    return mismatch(n, l, r);
  }

  Result<Value> arithmetic(const ExprNode& n, const Value& l, const Value& r) {
    const std::string& op = n.str;
    if (op == "+") {
      if (l.is_string() && r.is_string()) {
        if (l.str().size() + r.str().size() > kMaxStringBytes) return error_at(n, "string is too long");
        return Value(Json(l.str() + r.str()));
      }
      if (l.is_array() && r.is_array()) {
        Json out = l.j;
        for (const auto& x : r.j) out.push_back(x);
        return Value(out);
      }
      if (l.is_time() && r.is_duration()) return Value::time(l.ns + r.ns);
      if (l.is_duration() && r.is_time()) return Value::time(l.ns + r.ns);
      if (l.is_duration() && r.is_duration()) return Value::duration(l.ns + r.ns);
    }
    if (op == "-") {
      if (l.is_time() && r.is_time()) return Value::duration(l.ns - r.ns);
      if (l.is_time() && r.is_duration()) return Value::time(l.ns - r.ns);
      if (l.is_duration() && r.is_duration()) return Value::duration(l.ns - r.ns);
    }
    if (!l.is_number() || !r.is_number()) return mismatch(n, l, r);
    bool ints = l.is_int() && r.is_int();
    if (op == "/") return Value(Json(l.as_float() / r.as_float()));
    if (op == "**" || op == "^") return Value(Json(std::pow(l.as_float(), r.as_float())));
    if (op == "%") {
      if (!ints) return mismatch(n, l, r);
      if (r.as_int() == 0) return error_at(n, "runtime error: integer divide by zero");
      if (r.as_int() == -1) return Value(Json(int64_t{0}));
      return Value(Json(l.as_int() % r.as_int()));
    }
    if (ints) {
      // Go's int arithmetic wraps; do the same without undefined behaviour.
      uint64_t a = static_cast<uint64_t>(l.as_int()), b = static_cast<uint64_t>(r.as_int());
      uint64_t res = op == "+" ? a + b : op == "-" ? a - b : a * b;
      return Value(Json(static_cast<int64_t>(res)));
    }
    double a = l.as_float(), b = r.as_float();
    return Value(Json(op == "+" ? a + b : op == "-" ? a - b : a * b));
  }

  Result<Value> ternary(const ExprNode& n) {
    Value c = TRY(eval(n.kids[0].get()));
    if (!c.is_bool()) return error_at(n, fmt::format("non-bool expression (type {}) used as condition", c.type_name()));
    bool b = c.j.get<bool>();
    return eval(n.kids[b ? 1 : 2].get());
  }

  Result<Value> member(const ExprNode& n) {
    Value base = TRY(eval(n.kids[0].get()));
    if (base.is_nil() && (n.optional || nil_safe_ > 0)) return Value();
    Value key = TRY(eval(n.kids[1].get()));
    return fetch(n, base, key);
  }

  Result<Value> fetch(const ExprNode& n, const Value& base, const Value& key) {
    if (base.is_map()) {
      if (!key.is_string()) return error_at(n, fmt::format("cannot fetch {} from {}", sprint(key), base.type_name()));
      auto it = base.j.find(key.str());
      if (it == base.j.end()) return Value();
      return charged(n, Value(*it));
    }
    if (base.is_array() || base.is_string()) {
      if (!key.is_number()) return error_at(n, fmt::format("cannot fetch {} from {}", sprint(key), base.type_name()));
      int64_t len = base.is_array() ? static_cast<int64_t>(base.j.size()) : static_cast<int64_t>(base.str().size());
      int64_t i = key.as_int();
      if (i < 0) i += len;
      if (i < 0 || i >= len) {
        return error_at(n, fmt::format("index out of range: {} (array length is {})", key.as_int(), len));
      }
      if (base.is_array()) return charged(n, Value(base.j[static_cast<size_t>(i)]));
      return Value(Json(std::string(1, base.str()[static_cast<size_t>(i)])));
    }
    return error_at(n, fmt::format("cannot fetch {} from {}", sprint(key), base.type_name()));
  }

  Result<Value> slice(const ExprNode& n) {
    Value base = TRY(eval(n.kids[0].get()));
    int64_t len;
    if (base.is_array()) {
      len = static_cast<int64_t>(base.j.size());
    } else if (base.is_string()) {
      len = static_cast<int64_t>(base.str().size());
    } else {
      return error_at(n, "cannot slice " + base.type_name());
    }
    auto bound = [&](const ExprNode* k, int64_t dflt) -> Result<int64_t> {
      if (!k) return dflt;
      Value v = TRY(eval(k));
      if (!v.is_int()) return error_at(n, "non-integer slice index " + v.type_name());
      int64_t i = v.as_int();
      if (i < 0) i += len;
      return std::clamp<int64_t>(i, 0, len);
    };
    int64_t from = TRY(bound(n.kids[1].get(), 0));
    int64_t to = TRY(bound(n.kids[2].get(), len));
    if (to < from) to = from;
    if (base.is_string()) return Value(Json(base.str().substr(static_cast<size_t>(from), static_cast<size_t>(to - from))));
    Json out = Json::array();
    for (int64_t k = from; k < to; ++k) out.push_back(base.j[static_cast<size_t>(k)]);
    return Value(out);
  }

  Result<Value> array(const ExprNode& n) {
    Json out = Json::array();
    for (const auto& k : n.kids) out.push_back(TRY(eval(k.get())).to_json());
    return Value(out);
  }

  Result<Value> map_literal(const ExprNode& n) {
    Json out = Json::object();
    for (size_t k = 0; k + 1 < n.kids.size(); k += 2) {
      Value key = TRY(eval(n.kids[k].get()));
      Value val = TRY(eval(n.kids[k + 1].get()));
      std::string name = key.is_string() ? key.str() : sprint(key);
      out[name] = val.to_json();
    }
    return Value(out);
  }

  bool is_let(const std::string& name) const {
    for (const auto& l : lets_) {
      if (l.first == name) return true;
    }
    return false;
  }

  Result<Value> call(const ExprNode& n) {
    const ExprNode& callee = *n.kids[0];
    if (callee.kind == K::kIdent && is_predicate_builtin(callee.str)) return predicate_call(n, callee.str);
    if (callee.kind == K::kMember) return method_call(n, callee);
    std::vector<Value> args;
    for (size_t k = 1; k < n.kids.size(); ++k) args.push_back(TRY(eval(n.kids[k].get())));
    if (callee.str == "now" && args.empty()) return Value::time(now_ns());
    auto r = call_function(callee.str, args);
    if (!r.ok()) {
      if (r.error().code == ErrorCode::kNotFound) return error_at(callee, "unknown func " + callee.str);
      return error_at(callee, r.error().message);
    }
    return charged(n, std::move(r).value());
  }

  int64_t now_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.now().time_since_epoch()).count();
  }

  Result<Value> method_call(const ExprNode& n, const ExprNode& callee) {
    const ExprNode& recv = *callee.kids[0];
    const std::string& name = callee.kids[1]->str;
    std::vector<Value> args;
    for (size_t k = 1; k < n.kids.size(); ++k) args.push_back(TRY(eval(n.kids[k].get())));
    bool sprig = recv.kind == K::kIdent && recv.str == "sprig" && !is_let("sprig") &&
                 !(env_.is_object() && env_.contains("sprig"));
    if (sprig) {
      auto r = call_function("sprig." + name, args);
      if (!r.ok()) {
        if (r.error().code == ErrorCode::kNotFound) return error_at(callee, "unknown func sprig." + name);
        return error_at(callee, r.error().message);
      }
      return charged(n, std::move(r).value());
    }
    Value self = TRY(eval(&recv));
    if (self.is_duration() || self.is_time()) {
      args.insert(args.begin(), self);
      auto r = call_function((self.is_time() ? "time." : "duration.") + name, args);
      if (!r.ok()) return error_at(callee, r.error().code == ErrorCode::kNotFound
                                               ? fmt::format("type {} has no method {}", self.type_name(), name)
                                               : r.error().message);
      return r;
    }
    return error_at(callee, fmt::format("type {} has no method {}", self.type_name(), name));
  }

  static bool is_predicate_builtin(const std::string& name) {
    static const char* const names[] = {"all", "none", "any", "one", "filter", "map", "count", "sum", "find",
                                        "findIndex", "findLast", "findLastIndex", "groupBy", "sortBy", "reduce"};
    for (const char* x : names) {
      if (name == x) return true;
    }
    return false;
  }

  // Runs body once per element with `#` bound to it.
  template <typename F>
  Status each(const ExprNode& body, const Json& items, F f) {
    scopes_.push_back({});
    for (size_t k = 0; k < items.size(); ++k) {
      scopes_.back().item = Value(items[k]);
      scopes_.back().index = static_cast<int64_t>(k);
      if (auto st = charge(body, 1 + size_cost(scopes_.back().item)); !st.ok()) {
        scopes_.pop_back();
        return st;
      }
      auto r = eval(&body);
      if (!r.ok()) {
        scopes_.pop_back();
        return r.take_error();
      }
      bool go_on = f(k, *r);
      if (!go_on) break;
    }
    scopes_.pop_back();
    return ok_status();
  }

  Result<Value> predicate_call(const ExprNode& n, const std::string& name) {
    Value coll = TRY(eval(n.kids[1].get()));
    if (coll.is_map() && (name == "map" || name == "filter" || name == "all" || name == "any" || name == "none" ||
                          name == "one" || name == "count")) {
      Json vals = Json::array();
      for (const auto& v : coll.j) vals.push_back(v);
      coll = Value(vals);
    }
    if (!coll.is_array()) return error_at(n, fmt::format("cannot iterate over {}", coll.type_name()));
    const Json& items = coll.j;
    if (n.kids.size() < 3 || !n.kids[2]) {
      if (name == "count") {
        int64_t c = 0;
        for (const auto& x : items) c += (x.is_boolean() && x.get<bool>()) ? 1 : 0;
        return Value(Json(c));
      }
      if (name == "sum") {
        std::vector<Value> args{coll};
        return call_function("sum", args);
      }
      return error_at(n, "missing predicate");
    }
    const ExprNode& body = *n.kids[2];
    Error bad;
    bool failed = false;
    auto need_bool = [&](const Value& v) -> std::optional<bool> {
      if (!v.is_bool()) {
        if (!failed) bad = error_at(body, fmt::format("predicate should return boolean (got {})", v.type_name()));
        failed = true;
        return std::nullopt;
      }
      return v.j.get<bool>();
    };
    if (name == "map") {
      Json out = Json::array();
      TRY_STATUS(each(body, items, [&](size_t, const Value& v) { out.push_back(v.to_json()); return true; }));
      return Value(out);
    }
    if (name == "filter") {
      Json out = Json::array();
      TRY_STATUS(each(body, items, [&](size_t k, const Value& v) {
        auto b = need_bool(v);
        if (b && *b) out.push_back(items[k]);
        return !failed;
      }));
      if (failed) return bad;
      return Value(out);
    }
    if (name == "all" || name == "any" || name == "none" || name == "one" || name == "count") {
      int64_t hits = 0;
      bool stop_on_hit = name == "any" || name == "none";
      bool stop_on_miss = name == "all";
      bool early = false;
      TRY_STATUS(each(body, items, [&](size_t, const Value& v) {
        auto b = need_bool(v);
        if (!b) return false;
        if (*b) ++hits;
        if ((*b && stop_on_hit) || (!*b && stop_on_miss)) {
          early = true;
          return false;
        }
        return true;
      }));
      if (failed) return bad;
      if (name == "all") return Value(Json(!early));
      if (name == "any") return Value(Json(hits > 0));
      if (name == "none") return Value(Json(hits == 0));
      if (name == "one") return Value(Json(hits == 1));
      return Value(Json(hits));
    }
    if (name == "find" || name == "findIndex" || name == "findLast" || name == "findLastIndex") {
      bool last = name == "findLast" || name == "findLastIndex";
      bool want_index = name == "findIndex" || name == "findLastIndex";
      std::optional<size_t> found;
      TRY_STATUS(each(body, items, [&](size_t k, const Value& v) {
        auto b = need_bool(v);
        if (!b) return false;
        if (*b) {
          found = k;
          return last;
        }
        return true;
      }));
      if (failed) return bad;
      if (!found) return want_index ? Value(Json(int64_t{-1})) : Value();
      return want_index ? Value(Json(static_cast<int64_t>(*found))) : Value(items[*found]);
    }
    if (name == "sum") {
      std::vector<Value> mapped;
      Json out = Json::array();
      TRY_STATUS(each(body, items, [&](size_t, const Value& v) { out.push_back(v.to_json()); return true; }));
      std::vector<Value> args{Value(out)};
      return call_function("sum", args);
    }
    if (name == "groupBy") {
      Json out = Json::object();
      TRY_STATUS(each(body, items, [&](size_t k, const Value& v) {
        std::string key = v.is_string() ? v.str() : sprint(v);
        out[key].push_back(items[k]);
        return true;
      }));
      return Value(out);
    }
    if (name == "sortBy") {
      std::vector<std::pair<Value, Json>> keyed;
      TRY_STATUS(each(body, items, [&](size_t k, const Value& v) { keyed.emplace_back(v, items[k]); return true; }));
      bool desc = false;
      if (n.kids.size() > 3) {
        Value order = TRY(eval(n.kids[3].get()));
        desc = order.is_string() && order.str() == "desc";
      }
      std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
        bool lt = a.first.is_number() && b.first.is_number() ? a.first.as_float() < b.first.as_float()
                  : a.first.is_string() && b.first.is_string() ? a.first.str() < b.first.str()
                                                               : false;
        bool gt = a.first.is_number() && b.first.is_number() ? a.first.as_float() > b.first.as_float()
                  : a.first.is_string() && b.first.is_string() ? a.first.str() > b.first.str()
                                                               : false;
        return desc ? gt : lt;
      });
      Json out = Json::array();
      for (auto& kv : keyed) out.push_back(kv.second);
      return Value(out);
    }
    if (name == "reduce") {
      if (items.empty() && n.kids.size() <= 3) return error_at(n, "reduce of empty array with no initial value");
      size_t start = 0;
      Value acc;
      if (n.kids.size() > 3) {
        acc = TRY(eval(n.kids[3].get()));
      } else {
        acc = Value(items[0]);
        start = 1;
      }
      scopes_.push_back({});
      for (size_t k = start; k < items.size(); ++k) {
        scopes_.back().item = Value(items[k]);
        scopes_.back().index = static_cast<int64_t>(k);
        scopes_.back().acc = acc;
        if (auto st = charge(body, 1 + size_cost(acc)); !st.ok()) {
          scopes_.pop_back();
          return st.take_error();
        }
        auto r = eval(&body);
        if (!r.ok()) {
          scopes_.pop_back();
          return r.take_error();
        }
        acc = std::move(r).value();
      }
      scopes_.pop_back();
      return acc;
    }
    return error_at(n, "unknown func " + name);
  }

  std::string_view src_;
  const Json& env_;
  std::vector<std::pair<std::string, Value>> lets_;
  std::vector<Scope> scopes_;
  int nil_safe_ = 0;
  uint64_t spent_ = 0;
  const Clock& clock_;
};

}  // namespace

Result<Json> eval_expr(const ExprAst& ast, const Json& env, const Clock* clock) {
  if (!ast.root) return invalid("empty expression");
  Evaluator ev(ast, env, clock ? *clock : SystemClock::instance());
  Value v = TRY(ev.eval(ast.root.get()));
  return v.to_json();
}

Result<Json> eval_expr(std::string_view src, const Json& env, const Clock* clock) {
  auto ast = TRY(parse_expr(src));
  return eval_expr(ast, env, clock);
}

}  // namespace tether::expr
