// Argo's validation rules (workflow/validate/validate.go) over the typed model.
//
// Like Argo, validation stops at the first problem of a document and reports it in Argo's
// words, e.g. `templates.abc.steps[0].a templates.whalesay inputs.parameters.message was
// not supplied`; the diagnostic's position points at the element concerned (the step, the
// task, the template, ...).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "spec/model.h"

namespace tether::spec {

struct Diagnostic {
  SourcePos pos;
  std::string message;
};

// Where templateRef and workflowTemplateRef names are found: documents of the same lint
// run first, then `lookup` (templates applied earlier, e.g. from the store).
class ValidateContext {
 public:
  using Lookup = std::function<std::optional<Document>(const std::string& kind, const std::string& name)>;

  ValidateContext() = default;
  explicit ValidateContext(Lookup lookup) : lookup_(std::move(lookup)) {}

  // Registers a WorkflowTemplate or ClusterWorkflowTemplate (other kinds are ignored).
  // The document is copied.
  void add(const Document& doc);

  // The (Cluster)WorkflowTemplate called `name`, or nullptr.
  const Document* find(bool cluster_scope, const std::string& name) const;

  // Lint mode (argo lint): workflow arguments may lack values. Off for submission.
  bool lint = true;

 private:
  Lookup lookup_;
  std::map<std::string, std::shared_ptr<const Document>> templates_;          // WorkflowTemplate
  std::map<std::string, std::shared_ptr<const Document>> cluster_templates_;  // ClusterWorkflowTemplate
  mutable std::map<std::string, std::shared_ptr<const Document>> looked_up_;
};

// The problems of one document (empty when it is valid or skipped). Argo stops at the
// first problem, so at most one is reported today.
std::vector<Diagnostic> validate(const Document& doc, const ValidateContext& ctx);

// Argo's name rules, for reuse by submit (`-p` names) and the engine.
//   workflow field names (templates, steps, tasks): [a-zA-Z0-9][-a-zA-Z0-9]*, at most 128
//   parameter and artifact names: [-a-zA-Z0-9_]+
std::optional<std::string> check_field_name(std::string_view name);
std::optional<std::string> check_param_name(std::string_view name);

}  // namespace tether::spec
