// Argo rewrites `depends` into an expr-lang boolean over per-task result flags
// (workflow/common/ancestry.go, controller/dag.go evaluateDependsLogic). The language
// actually used is this small subset, so it gets its own parser: names, results,
// && || ! and parentheses.
#include "expr/depends.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace tether::expr {

struct DependsNode {
  // kAllNames: every task of the expression's name list, each by its bare name: what a
  // `dependencies` list means, without a node per name (layers of hundreds are common).
  enum class Kind { kTask, kNot, kAnd, kOr, kAllNames } kind = Kind::kTask;
  std::string task;
  size_t name_index = 0;  // of task in the expression's task_names()
  std::string result;  // empty for a bare name
  // Operands; chains of one operator are flat, so only ! and parentheses add depth.
  std::vector<std::unique_ptr<DependsNode>> kids;
};

namespace {

using Node = DependsNode;
using NodePtr = std::unique_ptr<Node>;
constexpr int kMaxDepth = 200;

const std::vector<std::string>& known_results() {
  static const std::vector<std::string> r = {"Succeeded", "Failed", "Errored", "Skipped",
                                             "Omitted", "Daemoned", "AnySucceeded", "AllFailed"};
  return r;
}

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; }

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<NodePtr> run() {
    skip_space();
    if (i_ >= s_.size()) return invalid("depends: empty expression");
    NodePtr n = parse_or();
    skip_space();
    if (!err_ && i_ < s_.size()) fail(fmt::format("unexpected '{}'", s_[i_]));
    if (err_) return *err_;
    return n;
  }

  std::vector<std::string> names;
  std::vector<std::string> item_names;

 private:
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  void fail(std::string msg) {
    if (!err_) err_ = invalid(fmt::format("depends '{}': column {}: {}", s_, i_ + 1, msg));
  }
  bool eat(std::string_view op) {
    skip_space();
    if (s_.substr(i_, op.size()) == op) {
      i_ += op.size();
      return true;
    }
    return false;
  }
  template <typename Next>
  NodePtr chain(Node::Kind k, std::string_view op, Next next) {
    NodePtr first = (this->*next)();
    if (err_ || !eat(op)) return first;
    auto n = std::make_unique<Node>();
    n->kind = k;
    n->kids.push_back(std::move(first));
    do {
      n->kids.push_back((this->*next)());
    } while (!err_ && eat(op));
    return n;
  }
  NodePtr parse_or() { return chain(Node::Kind::kOr, "||", &Parser::parse_and); }
  NodePtr parse_and() { return chain(Node::Kind::kAnd, "&&", &Parser::parse_unary); }
  NodePtr parse_unary() {
    if (err_) return nullptr;
    if (++depth_ > kMaxDepth) {
      fail(fmt::format("nested too deeply (more than {} levels)", kMaxDepth));
      return nullptr;
    }
    NodePtr n;
    if (eat("!")) {
      n = std::make_unique<Node>();
      n->kind = Node::Kind::kNot;
      n->kids.push_back(parse_unary());
    } else if (eat("(")) {
      n = parse_or();
      if (!err_ && !eat(")")) fail("expected ')'");
    } else {
      n = parse_task();
    }
    --depth_;
    return n;
  }
  NodePtr parse_task() {
    skip_space();
    size_t start = i_;
    while (i_ < s_.size() && name_char(s_[i_])) ++i_;
    if (i_ == start) {
      fail(i_ < s_.size() ? fmt::format("expected a task name, found '{}'", s_[i_]) : "expected a task name");
      return nullptr;
    }
    auto n = std::make_unique<Node>();
    n->task = std::string(s_.substr(start, i_ - start));
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      size_t rs = i_;
      while (i_ < s_.size() && std::isalnum(static_cast<unsigned char>(s_[i_]))) ++i_;
      n->result = std::string(s_.substr(rs, i_ - rs));
      const auto& known = known_results();
      if (std::find(known.begin(), known.end(), n->result) == known.end()) {
        if (!err_) err_ = invalid(fmt::format("task result '{}' for task '{}' is invalid", n->result, n->task));
        return nullptr;
      }
      if (n->result == "AnySucceeded" || n->result == "AllFailed") add(item_names, item_seen_, n->task);
    }
    n->name_index = add(names, seen_, n->task);
    return n;
  }
  // A map beside each list: `dependencies` of a task after a layer of hundreds become one
  // long && chain, and a search of the list per name would make its parse quadratic.
  static size_t add(std::vector<std::string>& v, std::unordered_map<std::string, size_t>& seen, const std::string& s) {
    auto [it, added] = seen.emplace(s, v.size());
    if (added) v.push_back(s);
    return it->second;
  }
  std::unordered_map<std::string, size_t> seen_, item_seen_;

  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
  std::optional<Error> err_;
};

bool result_holds(const TaskState& st, const std::string& result) {
  if (result == "Succeeded") return st.phase == "Succeeded";
  if (result == "Failed") return st.phase == "Failed";
  if (result == "Errored") return st.phase == "Error";
  if (result == "Skipped") return st.phase == "Skipped";
  if (result == "Omitted") return st.phase == "Omitted";
  if (result == "Daemoned") return st.daemoned;
  if (!st.is_loop_parent) return false;
  if (result == "AnySucceeded") {
    return std::any_of(st.child_phases.begin(), st.child_phases.end(), [](const std::string& p) { return p == "Succeeded"; });
  }
  if (result == "AllFailed") {
    return !st.child_phases.empty() &&
           std::all_of(st.child_phases.begin(), st.child_phases.end(), [](const std::string& p) { return p == "Failed"; });
  }
  return false;
}

bool bare_name_holds(const TaskState& st) {
  return result_holds(st, "Succeeded") || result_holds(st, "Skipped") || result_holds(st, "Daemoned") ||
         (st.continue_on_error && result_holds(st, "Errored")) || (st.continue_on_failed && result_holds(st, "Failed"));
}

bool eval_node(const Node& n, size_t names, const std::function<TaskState(size_t)>& lookup) {
  switch (n.kind) {
    case Node::Kind::kAllNames:
      for (size_t i = 0; i < names; ++i)
        if (!bare_name_holds(lookup(i))) return false;
      return true;
    case Node::Kind::kNot: return !eval_node(*n.kids[0], names, lookup);
    case Node::Kind::kAnd:
      return std::all_of(n.kids.begin(), n.kids.end(), [&](const NodePtr& k) { return eval_node(*k, names, lookup); });
    case Node::Kind::kOr:
      return std::any_of(n.kids.begin(), n.kids.end(), [&](const NodePtr& k) { return eval_node(*k, names, lookup); });
    case Node::Kind::kTask: break;
  }
  TaskState st = lookup(n.name_index);
  if (!n.result.empty()) return result_holds(st, n.result);
  return bare_name_holds(st);
}

}  // namespace

DependsExpr::DependsExpr() = default;
DependsExpr::~DependsExpr() = default;
DependsExpr::DependsExpr(const DependsExpr&) = default;
DependsExpr& DependsExpr::operator=(const DependsExpr&) = default;
DependsExpr::DependsExpr(DependsExpr&&) noexcept = default;
DependsExpr& DependsExpr::operator=(DependsExpr&&) noexcept = default;

const std::vector<std::string>& DependsExpr::task_names() const { return names_; }
std::vector<std::string> DependsExpr::item_dependencies() const { return item_names_; }

bool DependsExpr::eval(const std::function<TaskState(const std::string&)>& lookup) const {
  return eval_at([&](size_t i) { return lookup(names_[i]); });
}

bool DependsExpr::eval_at(const std::function<TaskState(size_t)>& lookup) const {
  return root_ && eval_node(*root_, names_.size(), lookup);
}

Result<DependsExpr> parse_depends(std::string_view text) {
  Parser p(text);
  NodePtr root = TRY(p.run());
  DependsExpr e;
  e.root_ = std::shared_ptr<const Node>(std::move(root));
  e.names_ = std::move(p.names);
  e.item_names_ = std::move(p.item_names);
  e.text_ = std::string(text);
  return e;
}

Result<DependsExpr> dependencies_expr(std::vector<std::string> dependencies) {
  bool plain = !dependencies.empty();
  for (const auto& d : dependencies)
    plain = plain && !d.empty() && std::all_of(d.begin(), d.end(), name_char);
  // The parser's messages for what is not a name.
  if (!plain) return parse_depends(dependencies_to_depends(dependencies));
  DependsExpr e;
  e.text_ = dependencies_to_depends(dependencies);
  // Each name once, in order of first appearance, compacted in place: the set views only
  // the kept front of the list, which is never written again.
  std::unordered_set<std::string_view> seen;
  size_t kept = 0;
  for (size_t i = 0; i < dependencies.size(); ++i) {
    if (seen.count(dependencies[i])) continue;
    if (kept != i) dependencies[kept] = std::move(dependencies[i]);
    seen.insert(dependencies[kept++]);
  }
  dependencies.resize(kept);
  e.names_ = std::move(dependencies);
  auto root = std::make_unique<Node>();
  root->kind = Node::Kind::kAllNames;
  e.root_ = std::shared_ptr<const Node>(std::move(root));
  return e;
}

std::string dependencies_to_depends(const std::vector<std::string>& dependencies) {
  std::string out;
  for (const auto& d : dependencies) {
    if (!out.empty()) out += " && ";
    out += d;
  }
  return out;
}

}  // namespace tether::expr
