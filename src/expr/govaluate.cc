// govaluate as Argo uses it in shouldExecute: tokenize, check token order, turn
// variables into strings, check again, plan by precedence, evaluate with no parameters.
// Token rules, type checks and messages follow govaluate's lexer, lexerState table,
// stage planner and evaluation stages.
#include "expr/govaluate.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "expr/expr_lang_internal.h"

namespace tether::expr {
namespace {

enum class Kind {
  kUnknown, kPrefix, kNumeric, kBoolean, kString, kPattern, kTime, kVariable, kFunction,
  kSeparator, kAccessor, kComparator, kLogicalOp, kModifier, kClause, kClauseClose, kTernary,
};

const char* kind_name(Kind k) {
  static const char* const names[] = {"UNKNOWN", "PREFIX", "NUMERIC", "BOOLEAN", "STRING", "PATTERN",
                                      "TIME", "VARIABLE", "FUNCTION", "SEPARATOR", "ACCESSOR",
                                      "COMPARATOR", "LOGICALOP", "MODIFIER", "CLAUSE", "CLAUSE_CLOSE",
                                      "TERNARY"};
  return names[static_cast<int>(k)];
}

struct Token {
  Kind kind = Kind::kUnknown;
  std::string text;  // operator symbol, string value, variable name
  double number = 0;
  bool boolean = false;

  // Go's %v of the token's value, as govaluate's messages print it.
  std::string value_str() const {
    switch (kind) {
      case Kind::kUnknown: return "<nil>";
      case Kind::kNumeric: return go_format_float(number);
      case Kind::kTime:
        return go_time_format("2006-01-02 15:04:05.999999999 -0700 MST", static_cast<int64_t>(number) * 1000000000);
      case Kind::kBoolean: return boolean ? "true" : "false";
      case Kind::kClause: return "40";        // the rune '('
      case Kind::kClauseClose: return "41";   // the rune ')'
      case Kind::kAccessor: return "[" + replace_dots(text) + "]";
      default: return text;
    }
  }
  static std::string replace_dots(std::string s) {
    for (char& c : s) {
      if (c == '.') c = ' ';
    }
    return s;
  }
};

// Which token kinds may follow which (govaluate's validLexerStates).
struct State {
  Kind kind;
  bool is_eof;
  std::vector<Kind> next;
};

const std::vector<State>& states() {
  using K = Kind;
  static const std::vector<State> table = {
      {K::kUnknown, false, {K::kPrefix, K::kNumeric, K::kBoolean, K::kVariable, K::kPattern, K::kFunction, K::kAccessor, K::kString, K::kTime, K::kClause}},
      {K::kClause, false, {K::kPrefix, K::kNumeric, K::kBoolean, K::kVariable, K::kPattern, K::kFunction, K::kAccessor, K::kString, K::kTime, K::kClause, K::kClauseClose}},
      {K::kClauseClose, true, {K::kComparator, K::kModifier, K::kNumeric, K::kBoolean, K::kVariable, K::kString, K::kPattern, K::kTime, K::kClause, K::kClauseClose, K::kLogicalOp, K::kTernary, K::kSeparator}},
      {K::kNumeric, true, {K::kModifier, K::kComparator, K::kLogicalOp, K::kClauseClose, K::kTernary, K::kSeparator}},
      {K::kBoolean, true, {K::kModifier, K::kComparator, K::kLogicalOp, K::kClauseClose, K::kTernary, K::kSeparator}},
      {K::kString, true, {K::kModifier, K::kComparator, K::kLogicalOp, K::kClauseClose, K::kTernary, K::kSeparator}},
      {K::kTime, true, {K::kModifier, K::kComparator, K::kLogicalOp, K::kClauseClose, K::kSeparator}},
      {K::kPattern, true, {K::kModifier, K::kComparator, K::kLogicalOp, K::kClauseClose, K::kSeparator}},
      {K::kVariable, true, {K::kModifier, K::kComparator, K::kLogicalOp, K::kClauseClose, K::kTernary, K::kSeparator}},
      {K::kModifier, false, {K::kPrefix, K::kNumeric, K::kVariable, K::kFunction, K::kAccessor, K::kString, K::kBoolean, K::kClause, K::kClauseClose}},
      {K::kComparator, false, {K::kPrefix, K::kNumeric, K::kBoolean, K::kVariable, K::kFunction, K::kAccessor, K::kString, K::kTime, K::kClause, K::kClauseClose, K::kPattern}},
      {K::kLogicalOp, false, {K::kPrefix, K::kNumeric, K::kBoolean, K::kVariable, K::kFunction, K::kAccessor, K::kString, K::kTime, K::kClause, K::kClauseClose}},
      {K::kPrefix, false, {K::kNumeric, K::kBoolean, K::kVariable, K::kFunction, K::kAccessor, K::kClause, K::kClauseClose}},
      {K::kTernary, false, {K::kPrefix, K::kNumeric, K::kBoolean, K::kString, K::kTime, K::kVariable, K::kFunction, K::kAccessor, K::kClause, K::kSeparator}},
      {K::kFunction, false, {K::kClause}},
      {K::kAccessor, true, {K::kClause, K::kModifier, K::kComparator, K::kLogicalOp, K::kClauseClose, K::kTernary, K::kSeparator}},
      {K::kSeparator, false, {K::kPrefix, K::kNumeric, K::kBoolean, K::kString, K::kTime, K::kVariable, K::kFunction, K::kAccessor, K::kClause}},
  };
  return table;
}

const State& state_for(Kind k) {
  for (const auto& s : states()) {
    if (s.kind == k) return s;
  }
  return states()[0];
}
bool can_follow(const State& s, Kind k) { return std::find(s.next.begin(), s.next.end(), k) != s.next.end(); }

const std::vector<std::string>& symbols(Kind k) {
  static const std::vector<std::string> prefix = {"-", "!", "~"};
  static const std::vector<std::string> modifier = {"+", "-", "*", "/", "%", "**", "&", "|", "^", ">>", "<<"};
  static const std::vector<std::string> logical = {"&&", "||"};
  static const std::vector<std::string> comparator = {"==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"};
  static const std::vector<std::string> ternary = {"?", ":", "??"};
  static const std::vector<std::string> none;
  switch (k) {
    case Kind::kPrefix: return prefix;
    case Kind::kModifier: return modifier;
    case Kind::kLogicalOp: return logical;
    case Kind::kComparator: return comparator;
    case Kind::kTernary: return ternary;
    default: return none;
  }
}
bool is_symbol(Kind k, const std::string& s) {
  const auto& v = symbols(k);
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool is_letter(unsigned char c) { return std::isalpha(c) || c >= 0x80; }
bool is_digit(unsigned char c) { return std::isdigit(c); }
bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_quote(unsigned char c) { return c == '\'' || c == '"'; }
bool is_numeric(unsigned char c) { return is_digit(c) || c == '.'; }
bool is_variable_char(unsigned char c) { return is_letter(c) || is_digit(c) || c == '_' || c == '.'; }
bool is_symbol_char(unsigned char c) {
  return !(is_digit(c) || is_letter(c) || c == '(' || c == ')' || c == '[' || c == ']' || is_quote(c));
}

// govaluate reads a quoted string that parses as a date as a time, which evaluates to its
// Unix seconds. The layouts here are its RFC 3339 and ISO 8601 ones, in UTC (Argo's
// controller runs in UTC); the named-weekday layouts (ANSIC, UnixDate, RubyDate, Kitchen)
// are not recognised.
std::optional<int64_t> parse_date(const std::string& s) {
  auto digits = [&](size_t at, size_t n) {
    if (at + n > s.size()) return false;
    for (size_t k = at; k < at + n; ++k) {
      if (!std::isdigit(static_cast<unsigned char>(s[k]))) return false;
    }
    return true;
  };
  if (s.size() < 10 || !digits(0, 4) || s[4] != '-' || !digits(5, 2) || s[7] != '-' || !digits(8, 2)) return std::nullopt;
  std::string date = s.substr(0, 10);
  std::string rest = s.substr(10);
  std::string rfc;
  if (rest.empty()) {
    rfc = date + "T00:00:00Z";
  } else if (rest.size() == 6 && rest[0] == ' ' && digits(11, 2) && rest[3] == ':' && digits(14, 2)) {
    rfc = date + "T" + rest.substr(1) + ":00Z";
  } else if (rest.size() == 9 && rest[0] == ' ') {
    rfc = date + "T" + rest.substr(1) + "Z";
  } else if (rest.size() == 15 && rest[0] == ' ') {
    rfc = date + "T" + rest.substr(1);
  } else if (rest[0] == 'T') {
    rfc = s;
    // ISO 8601 offsets without a colon (Z0700 layouts): +0100 -> +01:00.
    size_t sign = rfc.find_last_of("+-");
    if (sign != std::string::npos && sign > 10 && rfc.size() - sign == 5) rfc.insert(sign + 3, ":");
    if (rfc.size() == 13 + (rfc.back() == 'Z' ? 1 : 6) && rfc[13] != ':') rfc.insert(13, ":00:00");
    else if (rfc.size() >= 16 && rfc[16] != ':') rfc.insert(16, ":00");
  } else {
    return std::nullopt;
  }
  auto ns = parse_rfc3339(rfc);
  if (!ns) return std::nullopt;
  int64_t secs = *ns >= 0 ? *ns / 1000000000 : -((-*ns + 999999999) / 1000000000);
  return secs;
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Result<std::vector<Token>> run() {
    std::vector<Token> out;
    Kind state = Kind::kUnknown;
    while (i_ < s_.size()) {
      auto tok = TRY(read(state));
      if (!tok) break;
      state = tok->kind;
      out.push_back(std::move(*tok));
    }
    int parens = 0;
    for (const auto& t : out) {
      if (t.kind == Kind::kClause) ++parens;
      if (t.kind == Kind::kClauseClose) --parens;
    }
    if (parens != 0) return invalid("Unbalanced parenthesis");
    return out;
  }

 private:
  // govaluate's readUntilFalse: a backslash escapes the next character; whitespace ends
  // the token when break_ws (and is kept when keep_ws). Returns whether a terminator
  // (a character failing cond, or whitespace) was seen before the end of the input.
  template <typename Cond>
  bool read_until(std::string& buf, bool keep_ws, bool break_ws, Cond cond) {
    while (i_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[i_++]);
      if (c == '\\') {
        if (i_ < s_.size()) buf += s_[i_++];
        continue;
      }
      if (is_space(c)) {
        if (break_ws && !buf.empty()) return true;
        if (!keep_ws) continue;
      }
      if (cond(c)) {
        buf += static_cast<char>(c);
      } else {
        --i_;
        return true;
      }
    }
    return false;
  }

  Result<std::optional<Token>> read(Kind state) {
    while (i_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (is_space(c)) {
        ++i_;
        continue;
      }
      Token t;
      if (is_numeric(c)) return read_number();
      ++i_;
      if (c == ',') {
        t.kind = Kind::kSeparator;
        t.text = ",";
        return std::optional<Token>(t);
      }
      if (c == '[') {
        t.kind = Kind::kVariable;
        if (!read_until(t.text, true, false, [](unsigned char x) { return x != ']'; })) {
          return invalid("Unclosed parameter bracket");
        }
        ++i_;
        return std::optional<Token>(t);
      }
      if (is_letter(c)) return read_word();
      if (is_quote(c)) {
        t.kind = Kind::kString;
        if (!read_until(t.text, true, false, [](unsigned char x) { return !is_quote(x); })) {
          return invalid("Unclosed string literal");
        }
        ++i_;
        if (auto secs = parse_date(t.text)) {
          t.kind = Kind::kTime;
          t.number = static_cast<double>(*secs);
        }
        return std::optional<Token>(t);
      }
      if (c == '(' || c == ')') {
        t.kind = c == '(' ? Kind::kClause : Kind::kClauseClose;
        t.text = std::string(1, static_cast<char>(c));
        return std::optional<Token>(t);
      }
      --i_;
      read_until(t.text, false, true, is_symbol_char);
      if (t.text.empty()) ++i_;  // a lone ']' reads as nothing; step over it
      static const Kind kOrder[] = {Kind::kModifier, Kind::kLogicalOp, Kind::kComparator, Kind::kTernary};
      if (can_follow(state_for(state), Kind::kPrefix) && is_symbol(Kind::kPrefix, t.text)) {
        t.kind = Kind::kPrefix;
        return std::optional<Token>(t);
      }
      for (Kind k : kOrder) {
        if (is_symbol(k, t.text)) {
          t.kind = k;
          return std::optional<Token>(t);
        }
      }
      return invalid(fmt::format("Invalid token: '{}'", t.text));
    }
    return std::optional<Token>();
  }

  Result<std::optional<Token>> read_number() {
    Token t;
    t.kind = Kind::kNumeric;
    // "0x" starts a hex number only when something follows the x, as in govaluate.
    if (i_ + 2 < s_.size() && s_[i_] == '0' && s_[i_ + 1] == 'x') {
      i_ += 2;
      std::string hex;
      read_until(hex, false, true, [](unsigned char x) { return std::isxdigit(x) != 0; });
      errno = 0;
      char* end = nullptr;
      unsigned long long v = std::strtoull(hex.c_str(), &end, 16);
      if (hex.empty() || errno != 0 || *end != '\0') {
        return invalid(fmt::format("Unable to parse hex value '{}' to uint64\n", hex));
      }
      t.number = static_cast<double>(v);
      return std::optional<Token>(t);
    }
    std::string digits;
    read_until(digits, false, true, is_numeric);
    char* end = nullptr;
    t.number = std::strtod(digits.c_str(), &end);
    bool only_dots = digits.find_first_not_of('.') == std::string::npos;
    if (only_dots || *end != '\0' || digits.find_first_of("eEpPxXnN") != std::string::npos) {
      return invalid(fmt::format("Unable to parse numeric value '{}' to float64\n", digits));
    }
    return std::optional<Token>(t);
  }

  Result<std::optional<Token>> read_word() {
    Token t;
    --i_;
    read_until(t.text, false, true, is_variable_char);
    t.kind = Kind::kVariable;
    if (t.text == "true" || t.text == "false") {
      t.kind = Kind::kBoolean;
      t.boolean = t.text == "true";
    }
    if (t.text == "in" || t.text == "IN") {
      t.kind = Kind::kComparator;
      t.text = "in";
    }
    size_t dot = t.text.find('.');
    if (dot != std::string::npos && dot > 0) {
      if (t.text.back() == '.') return invalid(fmt::format("Hanging accessor on token '{}'", t.text));
      t.kind = Kind::kAccessor;
      size_t start = dot + 1;
      while (start <= t.text.size()) {
        size_t next = t.text.find('.', start);
        if (next == std::string::npos) next = t.text.size();
        std::string part = t.text.substr(start, next - start);
        unsigned char first = part.empty() ? 0 : static_cast<unsigned char>(part[0]);
        if (first != 0 && std::islower(first)) {
          return invalid(fmt::format("Unable to access unexported field '{}' in token '{}'", part, t.text));
        }
        start = next + 1;
      }
    }
    return std::optional<Token>(t);
  }

  std::string_view s_;
  size_t i_ = 0;
};

Status check_syntax(const std::vector<Token>& tokens) {
  const State* state = &state_for(Kind::kUnknown);
  const Token* last = nullptr;
  static const Token kNone;
  for (const auto& t : tokens) {
    if (!can_follow(*state, t.kind)) {
      if (last && last->kind == Kind::kVariable && t.kind == Kind::kClause) {
        return invalid("Undefined function " + last->text);
      }
      const Token& prev = last ? *last : kNone;
      return invalid(fmt::format("Cannot transition token types from {} [{}] to {} [{}]", kind_name(state->kind),
                                 prev.value_str(), kind_name(t.kind), t.value_str()));
    }
    state = &state_for(t.kind);
    last = &t;
  }
  if (!state->is_eof) return invalid("Unexpected end of expression");
  return ok_status();
}

// The regular expressions that govaluate compiles at parse time: a string right after
// =~ or !~ becomes a pattern.
Status compile_patterns(std::vector<Token>& tokens) {
  for (size_t k = 0; k + 1 < tokens.size(); ++k) {
    if (tokens[k].kind != Kind::kComparator || (tokens[k].text != "=~" && tokens[k].text != "!~")) continue;
    Token& rhs = tokens[k + 1];
    if (rhs.kind != Kind::kString) continue;
    TRY_STATUS(check_regex(rhs.text));
    rhs.kind = Kind::kPattern;
  }
  return ok_status();
}

// ---- values and evaluation ----

struct Value;
using Array = std::vector<Value>;
struct Value {
  std::variant<std::monostate, bool, double, std::string, Array> v;
  bool pattern = false;  // a string compiled as a regular expression

  bool is_nil() const { return v.index() == 0; }
  bool is_bool() const { return v.index() == 1; }
  bool is_num() const { return v.index() == 2; }
  bool is_str() const { return v.index() == 3 && !pattern; }
  bool is_array() const { return v.index() == 4; }
  // Go's %v.
  std::string str() const {
    switch (v.index()) {
      case 0: return "<nil>";
      case 1: return std::get<bool>(v) ? "true" : "false";
      case 2: return go_format_float(std::get<double>(v));
      case 3: return std::get<std::string>(v);
      default: {
        std::string out = "[";
        const auto& a = std::get<Array>(v);
        for (size_t k = 0; k < a.size(); ++k) out += (k ? " " : "") + a[k].str();
        return out + "]";
      }
    }
  }
  bool operator==(const Value& o) const { return pattern == o.pattern && v == o.v; }
};

struct Node {
  std::string op;  // empty for a literal
  Value literal;
  std::unique_ptr<Node> left, right;
  int height = 1;
};
using NodePtr = std::unique_ptr<Node>;

constexpr int kMaxDepth = 200;
// Operator chains (`a && b && ...`) grow the tree without nesting; evaluation recurses
// over its height, so that is bounded too.
constexpr int kMaxHeight = 1000;

// Precedence levels from lowest to highest, as govaluate's planner chains them.
enum Level { kSeparate, kTernaryLevel, kOr, kAnd, kCompare, kBitwise, kShift, kAdditive, kMultiplicative, kExponent, kLevels };

struct LevelInfo {
  Kind kind;
  std::vector<std::string> ops;
};
const LevelInfo& level_info(int level) {
  static const LevelInfo infos[] = {
      {Kind::kSeparator, {","}},
      {Kind::kTernary, {"?", ":", "??"}},
      {Kind::kLogicalOp, {"||"}},
      {Kind::kLogicalOp, {"&&"}},
      {Kind::kComparator, {"==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"}},
      {Kind::kModifier, {"&", "|", "^"}},
      {Kind::kModifier, {">>", "<<"}},
      {Kind::kModifier, {"+", "-"}},
      {Kind::kModifier, {"*", "/", "%"}},
      {Kind::kModifier, {"**"}},
  };
  return infos[level];
}

class Planner {
 public:
  explicit Planner(const std::vector<Token>& t) : t_(t) {}

  Result<NodePtr> run() {
    if (t_.empty()) return NodePtr();
    NodePtr n = level(kSeparate);
    if (err_) return *err_;
    return n;
  }

 private:
  bool at_op(int lvl) const {
    if (i_ >= t_.size()) return false;
    const LevelInfo& info = level_info(lvl);
    if (t_[i_].kind != info.kind) return false;
    return std::find(info.ops.begin(), info.ops.end(), t_[i_].text) != info.ops.end();
  }

  NodePtr level(int lvl) {
    if (++depth_ > kMaxDepth) fail("expression is nested too deeply");
    NodePtr left = lvl + 1 < kLevels ? level(lvl + 1) : prefix();
    while (!err_ && at_op(lvl)) {
      std::string op = t_[i_++].text;
      NodePtr right = lvl + 1 < kLevels ? level(lvl + 1) : prefix();
      auto n = std::make_unique<Node>();
      n->op = op;
      n->height = 1 + std::max(left ? left->height : 0, right ? right->height : 0);
      n->left = std::move(left);
      n->right = std::move(right);
      left = std::move(n);
      if (left->height > kMaxHeight) fail("expression is too long");
    }
    --depth_;
    return left;
  }

  NodePtr prefix() {
    if (i_ < t_.size() && t_[i_].kind == Kind::kPrefix) {
      if (++depth_ > kMaxDepth) fail("expression is nested too deeply");
      auto n = std::make_unique<Node>();
      n->op = "prefix" + t_[i_++].text;
      n->right = prefix();
      n->height = 1 + (n->right ? n->right->height : 0);
      --depth_;
      return n;
    }
    return value();
  }

  NodePtr value() {
    if (err_ || i_ >= t_.size()) return nullptr;
    const Token& t = t_[i_++];
    auto n = std::make_unique<Node>();
    switch (t.kind) {
      case Kind::kClause: {
        if (++depth_ > kMaxDepth) fail("expression is nested too deeply");
        NodePtr inner = level(kSeparate);
        --depth_;
        ++i_;  // the closing parenthesis; balance was checked when lexing
        n->op = "()";
        n->height = 1 + (inner ? inner->height : 0);
        n->right = std::move(inner);
        return n;
      }
      case Kind::kClauseClose:
        --i_;  // an empty clause: `()` evaluates to nothing
        return nullptr;
      case Kind::kNumeric: n->literal.v = t.number; return n;
      case Kind::kBoolean: n->literal.v = t.boolean; return n;
      case Kind::kString: n->literal.v = t.text; return n;
      case Kind::kTime: n->literal.v = t.number; return n;
      case Kind::kPattern: n->literal.v = t.text; n->literal.pattern = true; return n;
      case Kind::kAccessor:
      case Kind::kVariable: {
        // Argo evaluates with no parameters, so any variable left is unknown.
        std::string name = t.text.substr(0, t.text.find('.'));
        n->op = "param";
        n->literal.v = name;
        return n;
      }
      default:
        fail(fmt::format("Unable to plan token kind: '{}', value: '{}'", kind_name(t.kind), t.value_str()));
        return nullptr;
    }
  }

  void fail(std::string m) {
    if (!err_) err_ = invalid(std::move(m));
  }

  const std::vector<Token>& t_;
  size_t i_ = 0;
  int depth_ = 0;
  std::optional<Error> err_;
};

std::string display_op(const std::string& op) { return op == "==" ? "=" : op; }

Error type_error(const char* format_kind, const Value& v, const std::string& op) {
  static const std::map<std::string, std::string> formats = {
      {"logical", "Value '{}' cannot be used with the logical operator '{}', it is not a bool"},
      {"modifier", "Value '{}' cannot be used with the modifier '{}', it is not a number"},
      {"comparator", "Value '{}' cannot be used with the comparator '{}', it is not a number"},
      {"ternary", "Value '{}' cannot be used with the ternary operator '{}', it is not a bool"},
      {"prefix", "Value '{}' cannot be used with the prefix '{}'"},
  };
  return invalid(fmt::format(fmt::runtime(formats.at(format_kind)), v.str(), display_op(op)));
}

const char* format_kind_of(const std::string& op) {
  if (op == "&&" || op == "||") return "logical";
  if (op == "?" || op == ":" || op == "??") return "ternary";
  if (is_symbol(Kind::kComparator, op)) return "comparator";
  return "modifier";
}

Result<Value> eval(const Node* n);

Result<Value> eval_binary(const Node& n) {
  const std::string& op = n.op;
  Value left = TRY(eval(n.left.get()));
  // Short circuits come before type checks, as in govaluate.
  if (op == "&&" && left.is_bool() && !std::get<bool>(left.v)) return Value{false};
  if (op == "||" && left.is_bool() && std::get<bool>(left.v)) return Value{true};
  if ((op == ":" || op == "??") && !left.is_nil()) return left;
  if (op == "?" && left.is_bool() && !std::get<bool>(left.v)) {
    return Value{};
  }
  Value right = TRY(eval(n.right.get()));
  const char* fk = format_kind_of(op);
  auto need = [&](bool ok_left, bool ok_right) -> Status {
    if (!ok_left) return type_error(fk, left, op);
    if (!ok_right) return type_error(fk, right, op);
    return ok_status();
  };
  if (op == ",") {
    Array a = left.is_array() ? std::get<Array>(left.v) : Array{left};
    a.push_back(right);
    return Value{a};
  }
  if (op == "==" || op == "!=") return Value{(left == right) == (op == "==")};
  if (op == "&&" || op == "||") {
    TRY_STATUS(need(left.is_bool(), right.is_bool()));
    return Value{op == "&&" ? (std::get<bool>(left.v) && std::get<bool>(right.v))
                            : (std::get<bool>(left.v) || std::get<bool>(right.v))};
  }
  if (op == "?") {
    TRY_STATUS(need(left.is_bool(), true));
    return right;
  }
  if (op == ":" || op == "??") return right;
  if (op == "<" || op == ">" || op == "<=" || op == ">=") {
    bool nums = left.is_num() && right.is_num();
    if (!nums && !(left.is_str() && right.is_str())) return type_error(fk, left, op);
    int c = nums ? (std::get<double>(left.v) < std::get<double>(right.v) ? -1 : std::get<double>(left.v) > std::get<double>(right.v) ? 1 : 0)
                 : std::get<std::string>(left.v).compare(std::get<std::string>(right.v));
    bool nan = nums && (std::isnan(std::get<double>(left.v)) || std::isnan(std::get<double>(right.v)));
    if (nan) return Value{false};
    bool r = op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0;
    return Value{r};
  }
  if (op == "=~" || op == "!~") {
    TRY_STATUS(need(left.is_str(), right.v.index() == 3));
    const std::string& pat = std::get<std::string>(right.v);
    if (!right.pattern) {
      if (auto st = check_regex(pat); !st.ok()) {
        return invalid(fmt::format("Unable to compile regexp pattern '{}': {}", pat, st.error().message));
      }
    }
    bool m = TRY(regex_search(pat, std::get<std::string>(left.v)));
    return Value{m == (op == "=~")};
  }
  if (op == "in") {
    TRY_STATUS(need(true, right.is_array()));
    for (const auto& x : std::get<Array>(right.v)) {
      if (!x.is_array() && x == left) return Value{true};
    }
    return Value{false};
  }
  if (op == "+") {
    if (left.is_str() || right.is_str()) return Value{left.str() + right.str()};
    if (!(left.is_num() && right.is_num())) return type_error(fk, left, op);
    return Value{std::get<double>(left.v) + std::get<double>(right.v)};
  }
  TRY_STATUS(need(left.is_num(), right.is_num()));
  double a = std::get<double>(left.v), b = std::get<double>(right.v);
  auto to_int = [](double d) -> int64_t {
    if (std::isnan(d) || d >= 9.2e18 || d <= -9.2e18) return INT64_MIN;
    return static_cast<int64_t>(d);
  };
  if (op == "-") return Value{a - b};
  if (op == "*") return Value{a * b};
  if (op == "/") return Value{a / b};
  if (op == "%") return Value{std::fmod(a, b)};
  if (op == "**") return Value{std::pow(a, b)};
  int64_t x = to_int(a), y = to_int(b);
  if (op == "&") return Value{static_cast<double>(x & y)};
  if (op == "|") return Value{static_cast<double>(x | y)};
  if (op == "^") return Value{static_cast<double>(x ^ y)};
  uint64_t shift = static_cast<uint64_t>(y);
  if (op == "<<") return Value{static_cast<double>(shift >= 64 ? 0 : static_cast<int64_t>(static_cast<uint64_t>(x) << shift))};
  if (op == ">>") return Value{static_cast<double>(shift >= 64 ? (x < 0 ? -1 : 0) : (x >> shift))};
  return internal("unknown operator " + op);
}

Result<Value> eval(const Node* n) {
  if (!n) return Value{};
  if (n->op.empty()) return n->literal;
  if (n->op == "()") return eval(n->right.get());
  if (n->op == "param") return invalid(fmt::format("No parameter '{}' found.", std::get<std::string>(n->literal.v)));
  if (n->op.rfind("prefix", 0) == 0) {
    std::string op = n->op.substr(6);
    Value v = TRY(eval(n->right.get()));
    if (op == "!") {
      if (!v.is_bool()) return type_error("prefix", v, op);
      return Value{!std::get<bool>(v.v)};
    }
    if (!v.is_num()) return type_error("prefix", v, op);
    double d = std::get<double>(v.v);
    if (op == "-") return Value{-d};
    int64_t i = (std::isnan(d) || std::fabs(d) >= 9.2e18) ? INT64_MIN : static_cast<int64_t>(d);
    return Value{static_cast<double>(~i)};
  }
  return eval_binary(*n);
}

struct Parsed {
  std::vector<Token> tokens;
};

std::string hinted(std::string_view text, const std::string& msg) {
  std::string out = fmt::format("Invalid 'when' expression '{}': {}", text, msg);
  if (msg.find("Invalid token") != std::string::npos) {
    out += " (hint: try wrapping the affected expression in quotes (\"))";
  }
  return out;
}

// NewEvaluableExpression, then Argo's variable-to-string rewrite and
// NewEvaluableExpressionFromTokens.
Result<std::vector<Token>> prepare(std::string_view text) {
  auto lexed = Lexer(text).run();
  if (!lexed.ok()) return invalid(hinted(text, lexed.error().message));
  std::vector<Token> tokens = std::move(lexed).value();
  if (auto st = check_syntax(tokens); !st.ok()) return invalid(hinted(text, st.error().message));
  if (auto st = compile_patterns(tokens); !st.ok()) return invalid(hinted(text, st.error().message));
  for (auto& t : tokens) {
    if (t.kind == Kind::kVariable) t.kind = Kind::kString;
  }
  auto again = [&](const Status& st) -> Status {
    if (st.ok()) return st;
    return invalid(fmt::format("Failed to parse 'when' expression '{}': {}", text, st.error().message));
  };
  TRY_STATUS(again(check_syntax(tokens)));
  TRY_STATUS(again(compile_patterns(tokens)));
  return tokens;
}

}  // namespace

Status check_when(std::string_view text) {
  if (text.empty()) return ok_status();
  auto tokens = TRY(prepare(text));
  auto plan = Planner(tokens).run();
  if (!plan.ok()) return invalid(fmt::format("Invalid 'when' expression '{}': {}", text, plan.error().message));
  return ok_status();
}

Result<bool> eval_when(std::string_view text) {
  if (text.empty()) return true;
  auto tokens = TRY(prepare(text));
  auto plan = Planner(tokens).run();
  if (!plan.ok()) return invalid(fmt::format("Invalid 'when' expression '{}': {}", text, plan.error().message));
  auto result = eval(plan->get());
  if (!result.ok()) {
    return invalid(fmt::format("Failed to evaluate 'when' expresion '{}': {}", text, result.error().message));
  }
  if (!result->is_bool()) {
    return invalid(fmt::format("Expected boolean evaluation for '{}'. Got {}", text, result->str()));
  }
  return std::get<bool>(result->v);
}

}  // namespace tether::expr
