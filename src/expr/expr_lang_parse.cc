// Lexer and parser for expr-lang. The structure mirrors expr-lang's own recursive
// descent parser (precedence climbing over one operator table) so that precedence,
// associativity and error messages match; the evaluator is in expr_lang_eval.cc.
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>

#include "expr/expr_lang.h"
#include "expr/expr_lang_internal.h"

namespace tether::expr {
namespace {

// Past these the parser stops with an error, so hostile input cannot exhaust the stack
// (the evaluator recurses over the same tree) or memory.
constexpr int kMaxDepth = 200;
constexpr size_t kMaxNodes = 10000;  // expr-lang's default MaxNodes

enum class Tok { kIdentifier, kNumber, kString, kOperator, kBracket, kEof };

const char* tok_name(Tok k) {
  switch (k) {
    case Tok::kIdentifier: return "Identifier";
    case Tok::kNumber: return "Number";
    case Tok::kString: return "String";
    case Tok::kOperator: return "Operator";
    case Tok::kBracket: return "Bracket";
    case Tok::kEof: return "EOF";
  }
  return "?";
}

struct Token {
  Tok kind = Tok::kEof;
  std::string value;
  size_t pos = 0;

  bool is(Tok k) const { return kind == k; }
  bool is(Tok k, std::string_view v) const { return kind == k && value == v; }
  // Go's %v of expr-lang's Token: Kind("value"), or just Kind when the value is empty.
  std::string str() const {
    if (value.empty()) return tok_name(kind);
    return fmt::format("{}({})", tok_name(kind), go_quote(value));
  }
};

bool is_alnum(unsigned char c) {
  return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}
bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

struct Lexed {
  std::vector<Token> tokens;
  std::optional<Error> error;
};

class Lexer {
 public:
  explicit Lexer(std::string_view src) : s_(src) {}

  Result<std::vector<Token>> run() {
    while (true) {
      skip_space_and_comments();
      if (err_) return *err_;
      if (i_ >= s_.size()) {
        out_.push_back({Tok::kEof, "", s_.size()});
        return std::move(out_);
      }
      lex_one();
      if (err_) return *err_;
    }
  }

 private:
  void fail(size_t pos, std::string msg) {
    if (!err_) err_ = syntax_error(s_, pos, std::move(msg));
  }
  char peek(size_t k = 0) const { return i_ + k < s_.size() ? s_[i_ + k] : '\0'; }
  void emit(Tok k, size_t start) { out_.push_back({k, std::string(s_.substr(start, i_ - start)), start}); }

  void skip_space_and_comments() {
    while (i_ < s_.size()) {
      if (is_space(s_[i_])) {
        ++i_;
      } else if (s_.substr(i_, 2) == "//") {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else if (s_.substr(i_, 2) == "/*") {
        size_t end = s_.find("*/", i_ + 2);
        if (end == std::string_view::npos) {
          fail(s_.size(), "unclosed comment");
          return;
        }
        i_ = end + 2;
      } else {
        return;
      }
    }
  }

  void lex_one() {
    size_t start = i_;
    char c = s_[i_];
    if (c == '\'' || c == '"') return lex_string(c);
    if (c == '`') return lex_raw_string();
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && std::isdigit(static_cast<unsigned char>(peek(1))))) {
      return lex_number();
    }
    if (is_alnum(static_cast<unsigned char>(c))) return lex_word();
    ++i_;
    switch (c) {
      case '?':
        if (peek() == '.' || peek() == '?') ++i_;
        return emit(Tok::kOperator, start);
      case '#':
        emit(Tok::kOperator, start);
        start = i_;
        while (i_ < s_.size() && is_alnum(static_cast<unsigned char>(s_[i_]))) ++i_;
        if (i_ > start) emit(Tok::kIdentifier, start);
        return;
      case '|':
        if (peek() == '|') ++i_;
        return emit(Tok::kOperator, start);
      case ':':
        if (peek() == ':') ++i_;
        return emit(Tok::kOperator, start);
      case '.':
        if (peek() == '.') ++i_;
        return emit(Tok::kOperator, start);
      case '(': case '[': case '{': case ')': case ']': case '}':
        return emit(Tok::kBracket, start);
      case ',': case ';': case '%': case '+': case '-': case '^': case '/':
        return emit(Tok::kOperator, start);
      case '&': case '!': case '=': case '*': case '<': case '>':
        if (peek() == '&' || peek() == '=' || peek() == '*') ++i_;
        return emit(Tok::kOperator, start);
      default:
        fail(start, fmt::format("unrecognized character: {}", go_rune_name(s_, start)));
    }
  }

  void lex_string(char quote) {
    size_t start = i_++;
    std::string value;
    while (true) {
      if (i_ >= s_.size() || s_[i_] == '\n') return fail(i_, "literal not terminated");
      char c = s_[i_];
      if (c == quote) break;
      if (c != '\\') {
        value += c;
        ++i_;
        continue;
      }
      if (!unescape_one(value)) return;
    }
    ++i_;
    out_.push_back({Tok::kString, std::move(value), start});
  }

  // Go string escapes: \n \t ... \xNN \uNNNN \UNNNNNNNN \NNN, and the quotes.
  bool unescape_one(std::string& out) {
    size_t at = i_;
    ++i_;  // the backslash
    if (i_ >= s_.size()) {
      fail(i_, "literal not terminated");
      return false;
    }
    char c = s_[i_++];
    static const std::map<char, char> simple = {{'a', '\a'}, {'b', '\b'}, {'f', '\f'}, {'n', '\n'},
                                                {'r', '\r'}, {'t', '\t'}, {'v', '\v'}, {'\\', '\\'},
                                                {'\'', '\''}, {'"', '"'}};
    if (auto it = simple.find(c); it != simple.end()) {
      out += it->second;
      return true;
    }
    auto hex = [&](int n, int base) -> std::optional<uint32_t> {
      if (i_ + n > s_.size()) return std::nullopt;
      uint32_t v = 0;
      for (int k = 0; k < n; ++k) {
        char d = s_[i_ + k];
        int digit = std::isdigit(static_cast<unsigned char>(d)) ? d - '0'
                    : (base == 16 && std::isxdigit(static_cast<unsigned char>(d))) ? (std::tolower(d) - 'a' + 10)
                                                                                   : -1;
        if (digit < 0 || digit >= base) return std::nullopt;
        v = v * base + digit;
      }
      i_ += n;
      return v;
    };
    std::optional<uint32_t> v;
    bool byte = false;
    if (c == 'x') {
      v = hex(2, 16);
      byte = true;
    } else if (c == 'u') {
      v = hex(4, 16);
    } else if (c == 'U') {
      v = hex(8, 16);
    } else if (c >= '0' && c <= '7') {
      --i_;
      v = hex(3, 8);
      byte = true;
      if (v && *v > 255) v.reset();
    }
    if (!v || (!byte && (*v > 0x10FFFF || (*v >= 0xD800 && *v < 0xE000)))) {
      fail(at, "invalid char escape");
      return false;
    }
    if (byte) {
      out += static_cast<char>(*v);
    } else {
      append_utf8(out, *v);
    }
    return true;
  }

  void lex_raw_string() {
    size_t start = i_++;
    size_t end = s_.find('`', i_);
    if (end == std::string_view::npos) return fail(s_.size(), "literal not terminated");
    out_.push_back({Tok::kString, std::string(s_.substr(i_, end - i_)), start});
    i_ = end + 1;
  }

  void lex_number() {
    size_t start = i_;
    std::string_view digits = "0123456789_";
    auto accept = [&](std::string_view set) {
      if (i_ < s_.size() && set.find(s_[i_]) != std::string_view::npos) {
        ++i_;
        return true;
      }
      return false;
    };
    auto accept_run = [&](std::string_view set) { while (accept(set)) {} };
    if (accept("0")) {
      if (accept("xX")) digits = "0123456789abcdefABCDEF_";
      else if (accept("oO")) digits = "01234567_";
      else if (accept("bB")) digits = "01_";
    }
    accept_run(digits);
    if (peek() == '.' && peek(1) != '.') {
      ++i_;
      accept_run(digits);
    }
    if (accept("eE")) {
      accept("+-");
      accept_run(digits);
    }
    if (i_ < s_.size() && is_alnum(static_cast<unsigned char>(s_[i_]))) {
      ++i_;
      return fail(start, fmt::format("bad number syntax: {}", go_quote(s_.substr(start, i_ - start))));
    }
    emit(Tok::kNumber, start);
  }

  void lex_word() {
    size_t start = i_;
    while (i_ < s_.size() && is_alnum(static_cast<unsigned char>(s_[i_]))) ++i_;
    std::string_view w = s_.substr(start, i_ - start);
    static const char* const kWordOps[] = {"not", "in", "or", "and", "matches", "contains",
                                           "startsWith", "endsWith", "let", "if", "else"};
    for (const char* op : kWordOps) {
      if (w == op) return emit(Tok::kOperator, start);
    }
    emit(Tok::kIdentifier, start);
  }

  std::string_view s_;
  size_t i_ = 0;
  std::vector<Token> out_;
  std::optional<Error> err_;
};

struct BinaryOp {
  int precedence;
  bool right_assoc;
};

const std::map<std::string, BinaryOp, std::less<>>& binary_ops() {
  static const std::map<std::string, BinaryOp, std::less<>> ops = {
      {"|", {0, false}},         {"or", {10, false}},       {"||", {10, false}},
      {"and", {15, false}},      {"&&", {15, false}},       {"==", {20, false}},
      {"!=", {20, false}},       {"<", {20, false}},        {">", {20, false}},
      {">=", {20, false}},       {"<=", {20, false}},       {"in", {20, false}},
      {"matches", {20, false}},  {"contains", {20, false}}, {"startsWith", {20, false}},
      {"endsWith", {20, false}}, {"..", {25, false}},       {"+", {30, false}},
      {"-", {30, false}},        {"*", {60, false}},        {"/", {60, false}},
      {"%", {60, false}},        {"**", {100, true}},       {"^", {100, true}},
      {"??", {500, false}},
  };
  return ops;
}

const std::map<std::string, int, std::less<>>& unary_ops() {
  static const std::map<std::string, int, std::less<>> ops = {{"not", 50}, {"!", 50}, {"-", 90}, {"+", 90}};
  return ops;
}

bool is_comparison(std::string_view op) { return op == "<" || op == ">" || op == "<=" || op == ">="; }
bool negatable(std::string_view op) {
  return op == "contains" || op == "matches" || op == "startsWith" || op == "endsWith" || op == "in";
}

// Argument shapes of the builtins that take a closure (expr-lang's `predicates` table).
enum Arg : unsigned { kExprArg = 1, kPredicateArg = 2, kOptional = 128 };
const std::map<std::string, std::vector<unsigned>, std::less<>>& predicate_builtins() {
  static const std::map<std::string, std::vector<unsigned>, std::less<>> table = {
      {"all", {kExprArg, kPredicateArg}},
      {"none", {kExprArg, kPredicateArg}},
      {"any", {kExprArg, kPredicateArg}},
      {"one", {kExprArg, kPredicateArg}},
      {"filter", {kExprArg, kPredicateArg}},
      {"map", {kExprArg, kPredicateArg}},
      {"count", {kExprArg, kPredicateArg | kOptional}},
      {"sum", {kExprArg, kPredicateArg | kOptional}},
      {"find", {kExprArg, kPredicateArg}},
      {"findIndex", {kExprArg, kPredicateArg}},
      {"findLast", {kExprArg, kPredicateArg}},
      {"findLastIndex", {kExprArg, kPredicateArg}},
      {"groupBy", {kExprArg, kPredicateArg}},
      {"sortBy", {kExprArg, kPredicateArg, kExprArg | kOptional}},
      {"reduce", {kExprArg, kPredicateArg, kExprArg | kOptional}},
  };
  return table;
}

using NodePtr = std::unique_ptr<ExprNode>;
using K = ExprNode::Kind;

class Parser {
 public:
  Parser(std::string_view src, std::vector<Token> tokens) : src_(src), toks_(std::move(tokens)) {}

  Result<NodePtr> run() {
    NodePtr node = sequence();
    if (!err_ && !cur().is(Tok::kEof)) fail("unexpected token " + cur().str());
    if (err_) return *err_;
    return node;
  }

 private:
  const Token& cur() const { return toks_[std::min(i_, toks_.size() - 1)]; }
  void next() {
    if (i_ + 1 < toks_.size()) {
      ++i_;
    } else if (!err_) {
      i_ = toks_.size();
      fail_at(src_.size(), "unexpected end of expression");
    }
  }
  void fail(std::string msg) { fail_at(cur().pos, std::move(msg)); }
  void fail_at(size_t pos, std::string msg) {
    if (!err_) err_ = syntax_error(src_, pos, std::move(msg));
  }
  void expect(Tok k, std::string_view v) {
    if (cur().is(k, v)) {
      next();
      return;
    }
    fail("unexpected token " + cur().str());
  }
  void expect(Tok k) {
    if (cur().is(k)) {
      next();
      return;
    }
    fail("unexpected token " + cur().str());
  }

  // Every node goes through here: it counts nodes and tracks the height of the tree.
  NodePtr make(K kind, size_t pos, std::vector<NodePtr> kids = {}) {
    auto n = std::make_unique<ExprNode>();
    n->kind = kind;
    n->pos = pos;
    for (const auto& k : kids) {
      if (k) n->depth = std::max(n->depth, k->depth + 1);
    }
    n->kids = std::move(kids);
    if (++nodes_ > kMaxNodes) fail_at(pos, "compilation failed: expression exceeds maximum allowed nodes");
    if (n->depth > kMaxDepth) fail_at(pos, fmt::format("expression is nested too deeply (more than {} levels)", kMaxDepth));
    return n;
  }
  NodePtr make_str(K kind, size_t pos, std::string s, std::vector<NodePtr> kids = {}) {
    NodePtr n = make(kind, pos, std::move(kids));
    n->str = std::move(s);
    return n;
  }

  // Recursion guard for the descent itself (parentheses, unary chains, brackets).
  struct Guard {
    Parser& p;
    explicit Guard(Parser& parser) : p(parser) {
      if (++p.nesting_ > kMaxDepth) p.fail(fmt::format("expression is nested too deeply (more than {} levels)", kMaxDepth));
    }
    ~Guard() { --p.nesting_; }
  };

  NodePtr sequence() {
    std::vector<NodePtr> nodes;
    nodes.push_back(expression(0));
    while (!err_ && cur().is(Tok::kOperator, ";")) {
      next();
      if (cur().is(Tok::kEof)) break;
      nodes.push_back(expression(0));
    }
    if (nodes.size() == 1) return std::move(nodes[0]);
    size_t pos = nodes[0] ? nodes[0]->pos : 0;
    return make(K::kSequence, pos, std::move(nodes));
  }

  NodePtr expression(int precedence) {
    Guard guard(*this);
    if (err_) return nullptr;
    if (precedence == 0 && cur().is(Tok::kOperator, "let")) return let_declaration();
    if (precedence == 0 && cur().is(Tok::kOperator, "if")) return conditional_if();

    NodePtr left = primary();
    std::string prev_op;
    while (!err_ && cur().is(Tok::kOperator)) {
      Token op_tok = cur();
      bool negate = op_tok.value == "not";
      if (negate) {
        size_t save = i_;
        next();
        if (!negatable(cur().value)) {
          fail("unexpected token " + cur().str());
          break;
        }
        if (binary_ops().at(cur().value).precedence < precedence) {
          i_ = save;
          break;
        }
        op_tok = cur();
      }
      auto it = binary_ops().find(op_tok.value);
      if (it == binary_ops().end() || it->second.precedence < precedence) break;
      next();
      if (op_tok.value == "|") {
        Token ident = cur();
        expect(Tok::kIdentifier);
        std::vector<NodePtr> args;
        args.push_back(std::move(left));
        left = call(ident, std::move(args));
      } else if (prev_op == "??" && op_tok.value != "??") {
        fail_at(op_tok.pos, fmt::format("Operator ({}) and coalesce expressions (?\?) cannot be mixed. Wrap either by parentheses.", op_tok.value));
        break;
      } else if (is_comparison(op_tok.value)) {
        left = comparison(std::move(left), op_tok, it->second.precedence);
      } else {
        int next_prec = it->second.right_assoc ? it->second.precedence : it->second.precedence + 1;
        NodePtr right = expression(next_prec);
        std::vector<NodePtr> kids;
        kids.push_back(std::move(left));
        kids.push_back(std::move(right));
        left = make_str(K::kBinary, op_tok.pos, op_tok.value, std::move(kids));
        if (negate) {
          std::vector<NodePtr> k1;
          k1.push_back(std::move(left));
          left = make_str(K::kUnary, op_tok.pos, "not", std::move(k1));
        }
      }
      prev_op = op_tok.value;
    }
    if (precedence == 0) left = ternary(std::move(left));
    return left;
  }

  NodePtr comparison(NodePtr left, Token op, int precedence) {
    // `a < b < c` means `a < b && b < c`, as in expr-lang; b is evaluated twice there too.
    NodePtr root;
    NodePtr lhs = std::move(left);
    while (true) {
      NodePtr rhs = expression(precedence + 1);
      NodePtr rhs_copy = rhs ? clone(*rhs) : nullptr;
      std::vector<NodePtr> kids;
      kids.push_back(std::move(lhs));
      kids.push_back(std::move(rhs));
      NodePtr cmp = make_str(K::kBinary, op.pos, op.value, std::move(kids));
      if (!root) {
        root = std::move(cmp);
      } else {
        std::vector<NodePtr> both;
        both.push_back(std::move(root));
        both.push_back(std::move(cmp));
        root = make_str(K::kBinary, op.pos, "&&", std::move(both));
      }
      lhs = std::move(rhs_copy);
      if (err_ || !cur().is(Tok::kOperator) || !is_comparison(cur().value)) break;
      op = cur();
      next();
    }
    return root;
  }

  NodePtr clone(const ExprNode& n) {
    auto c = std::make_unique<ExprNode>();
    c->kind = n.kind;
    c->pos = n.pos;
    c->str = n.str;
    c->int_value = n.int_value;
    c->float_value = n.float_value;
    c->bool_value = n.bool_value;
    c->optional = n.optional;
    c->depth = n.depth;
    for (const auto& k : n.kids) c->kids.push_back(k ? clone(*k) : nullptr);
    if (++nodes_ > kMaxNodes) fail_at(n.pos, "compilation failed: expression exceeds maximum allowed nodes");
    return c;
  }

  NodePtr ternary(NodePtr node) {
    while (!err_ && cur().is(Tok::kOperator, "?")) {
      size_t pos = cur().pos;
      next();
      NodePtr then_node, else_node;
      if (!cur().is(Tok::kOperator, ":")) {
        then_node = expression(0);
        expect(Tok::kOperator, ":");
        else_node = expression(0);
      } else {
        // `a ?: b` is `a ? a : b`.
        next();
        then_node = node ? clone(*node) : nullptr;
        else_node = expression(0);
      }
      std::vector<NodePtr> kids;
      kids.push_back(std::move(node));
      kids.push_back(std::move(then_node));
      kids.push_back(std::move(else_node));
      node = make(K::kTernary, pos, std::move(kids));
    }
    return node;
  }

  NodePtr let_declaration() {
    expect(Tok::kOperator, "let");
    Token name = cur();
    expect(Tok::kIdentifier);
    expect(Tok::kOperator, "=");
    NodePtr value = expression(0);
    expect(Tok::kOperator, ";");
    NodePtr body = sequence();
    std::vector<NodePtr> kids;
    kids.push_back(std::move(value));
    kids.push_back(std::move(body));
    return make_str(K::kLet, name.pos, name.value, std::move(kids));
  }

  NodePtr conditional_if() {
    size_t pos = cur().pos;
    next();
    NodePtr cond = expression(0);
    expect(Tok::kBracket, "{");
    NodePtr then_node = sequence();
    expect(Tok::kBracket, "}");
    expect(Tok::kOperator, "else");
    NodePtr else_node;
    if (cur().is(Tok::kOperator, "if")) {
      Guard guard(*this);
      else_node = conditional_if();
    } else {
      expect(Tok::kBracket, "{");
      else_node = sequence();
      expect(Tok::kBracket, "}");
    }
    std::vector<NodePtr> kids;
    kids.push_back(std::move(cond));
    kids.push_back(std::move(then_node));
    kids.push_back(std::move(else_node));
    return make(K::kTernary, pos, std::move(kids));
  }

  NodePtr primary() {
    Guard guard(*this);
    if (err_) return nullptr;
    Token tok = cur();
    if (tok.is(Tok::kOperator)) {
      if (auto it = unary_ops().find(tok.value); it != unary_ops().end()) {
        next();
        std::vector<NodePtr> kids;
        kids.push_back(expression(it->second));
        return postfix(make_str(K::kUnary, tok.pos, tok.value, std::move(kids)));
      }
    }
    if (tok.is(Tok::kBracket, "(")) {
      next();
      NodePtr inner = sequence();
      expect(Tok::kBracket, ")");
      return postfix(std::move(inner));
    }
    if (predicate_depth_ > 0 && (tok.is(Tok::kOperator, "#") || tok.is(Tok::kOperator, "."))) {
      std::string name;
      if (tok.is(Tok::kOperator, "#")) {
        next();
        if (cur().is(Tok::kIdentifier)) {
          name = cur().value;
          next();
        }
      }
      return postfix(make_str(K::kPointer, tok.pos, name));
    }
    if (tok.is(Tok::kOperator, "::")) {
      next();
      Token name = cur();
      expect(Tok::kIdentifier);
      return postfix(call(name, {}));
    }
    return secondary();
  }

  NodePtr secondary() {
    Token tok = cur();
    NodePtr node;
    switch (tok.kind) {
      case Tok::kIdentifier:
        next();
        if (tok.value == "true" || tok.value == "false") {
          node = make(K::kBool, tok.pos);
          node->bool_value = tok.value == "true";
          return node;
        }
        if (tok.value == "nil") return make(K::kNil, tok.pos);
        if (cur().is(Tok::kBracket, "(")) {
          node = call(tok, {});
        } else {
          node = make_str(K::kIdent, tok.pos, tok.value);
        }
        break;
      case Tok::kNumber:
        next();
        return number(tok);
      case Tok::kString:
        next();
        node = make_str(K::kString, tok.pos, tok.value);
        break;
      default:
        if (tok.is(Tok::kBracket, "[")) {
          node = array();
        } else if (tok.is(Tok::kBracket, "{")) {
          node = map_literal();
        } else {
          fail("unexpected token " + tok.str());
        }
    }
    return postfix(std::move(node));
  }

  NodePtr number(const Token& tok) {
    std::string v;
    for (char c : tok.value) {
      if (c != '_') v += c;
    }
    std::string lower = v;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto int_node = [&](int base, size_t skip, const char* what) {
      NodePtr n = make(K::kInt, tok.pos);
      errno = 0;
      char* end = nullptr;
      std::string digits = v.substr(skip);
      unsigned long long x = std::strtoull(digits.c_str(), &end, base);
      if (digits.empty() || errno != 0 || *end != '\0' || x > static_cast<unsigned long long>(INT64_MAX)) {
        fail(fmt::format("invalid {} literal: strconv.ParseInt: parsing {}: {}", what, go_quote(v),
                                     (errno == ERANGE || x > static_cast<unsigned long long>(INT64_MAX))
                                         ? "value out of range" : "invalid syntax"));
      }
      n->int_value = static_cast<int64_t>(x);
      return n;
    };
    if (starts_with_ci(lower, "0x")) return int_node(16, 2, "hex");
    if (lower.find_first_of(".e") != std::string::npos) {
      NodePtr n = make(K::kFloat, tok.pos);
      char* end = nullptr;
      n->float_value = std::strtod(v.c_str(), &end);
      if (*end != '\0') fail(fmt::format("invalid float literal: strconv.ParseFloat: parsing {}: invalid syntax", go_quote(v)));
      if (std::isinf(n->float_value)) fail("float literal is too large");
      return n;
    }
    if (starts_with_ci(lower, "0b")) return int_node(2, 2, "binary");
    if (starts_with_ci(lower, "0o")) return int_node(8, 2, "octal");
    return int_node(10, 0, "integer");
  }
  static bool starts_with_ci(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

  NodePtr call(const Token& name, std::vector<NodePtr> args) {
    auto pred = predicate_builtins().find(name.value);
    if (pred == predicate_builtins().end()) {
      arguments(args);
      std::vector<NodePtr> kids;
      kids.push_back(make_str(K::kIdent, name.pos, name.value));
      for (auto& a : args) kids.push_back(std::move(a));
      return make(K::kCall, name.pos, std::move(kids));
    }
    expect(Tok::kBracket, "(");
    const auto& shape = pred->second;
    size_t first = args.size();
    for (size_t k = first; k < shape.size() && !err_; ++k) {
      unsigned a = shape[k];
      if (cur().is(Tok::kBracket, ")")) {
        if (a & kOptional) break;
        fail(fmt::format("expected at least {} arguments", shape.size() - first));
      }
      if (k > first) expect(Tok::kOperator, ",");
      args.push_back((a & kPredicateArg) ? predicate() : expression(0));
    }
    if (cur().is(Tok::kOperator, ",")) next();
    expect(Tok::kBracket, ")");
    std::vector<NodePtr> kids;
    kids.push_back(make_str(K::kIdent, name.pos, name.value));
    for (auto& a : args) kids.push_back(std::move(a));
    return make(K::kCall, name.pos, std::move(kids));
  }

  void arguments(std::vector<NodePtr>& args) {
    size_t offset = args.size();
    expect(Tok::kBracket, "(");
    while (!err_ && !cur().is(Tok::kBracket, ")")) {
      if (args.size() > offset) expect(Tok::kOperator, ",");
      if (cur().is(Tok::kBracket, ")")) break;
      args.push_back(expression(0));
    }
    expect(Tok::kBracket, ")");
  }

  NodePtr predicate() {
    size_t pos = cur().pos;
    bool braces = cur().is(Tok::kBracket, "{");
    if (braces) next();
    ++predicate_depth_;
    NodePtr body;
    if (braces) {
      body = sequence();
    } else {
      body = expression(0);
      if (cur().is(Tok::kOperator, ";")) fail("wrap predicate with brackets { and }");
    }
    --predicate_depth_;
    if (braces) expect(Tok::kBracket, "}");
    std::vector<NodePtr> kids;
    kids.push_back(std::move(body));
    return make(K::kPredicate, pos, std::move(kids));
  }

  NodePtr array() {
    size_t pos = cur().pos;
    expect(Tok::kBracket, "[");
    std::vector<NodePtr> items;
    while (!err_ && !cur().is(Tok::kBracket, "]")) {
      if (!items.empty()) {
        expect(Tok::kOperator, ",");
        if (cur().is(Tok::kBracket, "]")) break;
      }
      items.push_back(expression(0));
    }
    expect(Tok::kBracket, "]");
    return make(K::kArray, pos, std::move(items));
  }

  NodePtr map_literal() {
    size_t pos = cur().pos;
    expect(Tok::kBracket, "{");
    std::vector<NodePtr> kids;
    while (!err_ && !cur().is(Tok::kBracket, "}")) {
      if (!kids.empty()) {
        expect(Tok::kOperator, ",");
        if (cur().is(Tok::kBracket, "}")) break;
        if (cur().is(Tok::kOperator, ",")) fail("unexpected token " + cur().str());
      }
      NodePtr key;
      if (cur().is(Tok::kNumber) || cur().is(Tok::kString) || cur().is(Tok::kIdentifier)) {
        key = make_str(K::kString, cur().pos, cur().value);
        next();
      } else if (cur().is(Tok::kBracket, "(")) {
        key = expression(0);
      } else {
        fail("a map key must be a quoted string, a number, a identifier, or an expression enclosed in parentheses (unexpected token " +
             cur().str() + ")");
      }
      expect(Tok::kOperator, ":");
      kids.push_back(std::move(key));
      kids.push_back(expression(0));
    }
    expect(Tok::kBracket, "}");
    return make(K::kMap, pos, std::move(kids));
  }

  NodePtr postfix(NodePtr node) {
    // After `?.` the rest of the chain is nil-safe too: `a?.b.c` is nil when a is.
    bool in_chain = false;
    while (!err_ && (cur().is(Tok::kOperator) || cur().is(Tok::kBracket))) {
      Token tok = cur();
      in_chain = in_chain || tok.value == "?.";
      bool optional = in_chain;
      if (tok.value == "." || tok.value == "?.") {
        next();
        if (tok.value == "?." && cur().is(Tok::kBracket, "[")) {
          node = index(std::move(node), true);
          continue;
        }
        Token prop = cur();
        next();
        if (!prop.is(Tok::kIdentifier) && !(prop.is(Tok::kOperator) && is_word(prop.value))) fail("expected name");
        std::vector<NodePtr> kids;
        kids.push_back(std::move(node));
        kids.push_back(make_str(K::kString, prop.pos, prop.value));
        NodePtr member = make(K::kMember, prop.pos, std::move(kids));
        member->optional = optional;
        if (cur().is(Tok::kBracket, "(")) {
          std::vector<NodePtr> args;
          arguments(args);
          std::vector<NodePtr> call_kids;
          call_kids.push_back(std::move(member));
          for (auto& a : args) call_kids.push_back(std::move(a));
          node = make(K::kCall, prop.pos, std::move(call_kids));
        } else {
          node = std::move(member);
        }
      } else if (tok.value == "[") {
        node = index(std::move(node), optional);
      } else {
        break;
      }
    }
    return node;
  }

  static bool is_word(const std::string& s) {
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    for (char c : s) {
      if (!is_alnum(static_cast<unsigned char>(c))) return false;
    }
    return true;
  }

  NodePtr index(NodePtr node, bool optional) {
    Guard guard(*this);
    size_t pos = cur().pos;
    next();  // [
    NodePtr from, to;
    bool slice = false;
    if (cur().is(Tok::kOperator, ":")) {
      slice = true;
      next();
      if (!cur().is(Tok::kBracket, "]")) to = expression(0);
    } else {
      from = expression(0);
      if (cur().is(Tok::kOperator, ":")) {
        slice = true;
        next();
        if (!cur().is(Tok::kBracket, "]")) to = expression(0);
      }
    }
    expect(Tok::kBracket, "]");
    std::vector<NodePtr> kids;
    kids.push_back(std::move(node));
    kids.push_back(std::move(from));
    if (slice) {
      kids.push_back(std::move(to));
      return make(K::kSlice, pos, std::move(kids));
    }
    NodePtr member = make(K::kMember, pos, std::move(kids));
    member->optional = optional;
    return member;
  }

  std::string_view src_;
  std::vector<Token> toks_;
  size_t i_ = 0;
  std::optional<Error> err_;
  size_t nodes_ = 0;
  int nesting_ = 0;
  int predicate_depth_ = 0;
};

// Walks member chains made only of constant names: `a.b['c']` is "a.b.c".
std::optional<std::string> member_path(const ExprNode& n) {
  if (n.kind == K::kIdent) return n.str;
  if (n.kind != K::kMember || n.optional || !n.kids[1] || n.kids[1]->kind != K::kString) return std::nullopt;
  auto base = member_path(*n.kids[0]);
  if (!base) return std::nullopt;
  return *base + "." + n.kids[1]->str;
}

void collect_identifiers(const ExprNode& n, bool guarded, std::vector<std::string>& out) {
  if (n.kind == K::kIdent || n.kind == K::kMember) {
    if (auto path = member_path(n)) {
      bool is_member = n.kind == K::kMember;
      // A guarded path (`a.b.c ?? x`, `a?.b`) may be absent, but its root must exist.
      std::string name = guarded && is_member ? path->substr(0, path->find('.')) : *path;
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
      if (is_member) return;  // the prefixes of a path are not separate variables
    }
  }
  if (n.kind == K::kCall) {
    // The callee is a function name, not a variable; a method call's receiver is.
    const ExprNode& callee = *n.kids[0];
    bool sprig = callee.kind == K::kMember && callee.kids[0]->kind == K::kIdent && callee.kids[0]->str == "sprig";
    if (callee.kind == K::kMember && !sprig) collect_identifiers(*callee.kids[0], guarded, out);
    for (size_t k = 1; k < n.kids.size(); ++k) {
      if (n.kids[k]) collect_identifiers(*n.kids[k], guarded, out);
    }
    return;
  }
  bool coalesce = n.kind == K::kBinary && n.str == "??";
  for (size_t k = 0; k < n.kids.size(); ++k) {
    if (!n.kids[k]) continue;
    bool g = guarded || (coalesce && k == 0) || (n.kind == K::kMember && n.optional && k == 0);
    collect_identifiers(*n.kids[k], g, out);
  }
}

}  // namespace

Error syntax_error(std::string_view src, size_t pos, std::string message) {
  // expr-lang reports a 1-based line and a 1-based column counted in runes, then the
  // line with a caret under the column.
  int line = 1;
  size_t col = 0, line_start = 0;
  for (size_t k = 0; k < pos && k < src.size(); ++k) {
    if (src[k] == '\n') {
      ++line;
      col = 0;
      line_start = k + 1;
    } else if ((static_cast<unsigned char>(src[k]) & 0xC0) != 0x80) {
      ++col;
    }
  }
  size_t line_end = src.find('\n', line_start);
  if (line_end == std::string_view::npos) line_end = src.size();
  std::string text = fmt::format("{} ({}:{})", message, line, col + 1);
  if (line_end > line_start) {
    std::string l(src.substr(line_start, line_end - line_start));
    for (char& c : l) {
      if (c == '\t') c = ' ';
    }
    text += "\n | " + l + "\n | " + std::string(col, '.') + "^";
  }
  return invalid(std::move(text));
}

Result<ExprAst> parse_expr(std::string_view src) {
  auto tokens = TRY(Lexer(src).run());
  auto root = TRY(Parser(src, std::move(tokens)).run());
  if (!root) return invalid("empty expression");
  ExprAst ast;
  ast.root = std::shared_ptr<const ExprNode>(std::move(root));
  ast.source = std::string(src);
  return ast;
}

std::vector<std::string> ExprAst::identifiers() const {
  std::vector<std::string> out;
  if (root) collect_identifiers(*root, false, out);
  return out;
}

}  // namespace tether::expr
