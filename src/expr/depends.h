// A DAG task's `depends`: task names combined with && || ! and parentheses, each name
// bare or with a result (.Succeeded .Failed .Errored .Skipped .Omitted .Daemoned
// .AnySucceeded .AllFailed). A bare name means (X.Succeeded || X.Skipped || X.Daemoned),
// plus .Errored / .Failed when that task has continueOn error / failed, as Argo expands it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace tether::expr {

// What a dependency looks like when the depending task is considered. phase is Argo's
// ("Succeeded", "Failed", "Error", "Skipped", "Omitted", "Running", ...). A loop parent
// (a task with withItems/withParam/withSequence) gives its children's phases for
// .AnySucceeded / .AllFailed.
struct TaskState {
  std::string phase;
  bool is_loop_parent = false;
  std::vector<std::string> child_phases;
  bool daemoned = false;  // a daemoned node that is not Pending
  // The dependency's own continueOn, which widens what a bare name accepts.
  bool continue_on_error = false;
  bool continue_on_failed = false;
};

struct DependsNode;

class DependsExpr {
 public:
  DependsExpr();
  ~DependsExpr();
  DependsExpr(const DependsExpr&);
  DependsExpr& operator=(const DependsExpr&);
  DependsExpr(DependsExpr&&) noexcept;
  DependsExpr& operator=(DependsExpr&&) noexcept;

  // Every task referenced, in order of first appearance, without duplicates.
  const std::vector<std::string>& task_names() const;
  // Tasks referenced with .AnySucceeded or .AllFailed (Argo waits for all their children).
  std::vector<std::string> item_dependencies() const;
  // Evaluates with the states lookup returns; call it only when every dependency has
  // finished (Argo does not evaluate before that).
  bool eval(const std::function<TaskState(const std::string&)>& lookup) const;
  // The same, with each task given by its index in task_names().
  bool eval_at(const std::function<TaskState(size_t)>& lookup) const;
  const std::string& text() const { return text_; }

 private:
  friend Result<DependsExpr> parse_depends(std::string_view text);
  friend Result<DependsExpr> dependencies_expr(std::vector<std::string> dependencies);
  std::shared_ptr<const DependsNode> root_;
  std::vector<std::string> names_;
  std::vector<std::string> item_names_;
  std::string text_;
};

// Errors name the column (1-based) and what was expected; an unknown result reads as
// Argo's "task result 'Foo' for task 'A' is invalid".
Result<DependsExpr> parse_depends(std::string_view text);

// The `depends` equivalent of a `dependencies` list: "A && B".
std::string dependencies_to_depends(const std::vector<std::string>& dependencies);

// parse_depends(dependencies_to_depends(dependencies)), built without the text's parse:
// a task after a layer of hundreds has hundreds of them.
Result<DependsExpr> dependencies_expr(std::vector<std::string> dependencies);

}  // namespace tether::expr
