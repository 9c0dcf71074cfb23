// Loading Argo documents: YAML or JSON text -> Nodes (node.h) -> the typed model (model.h).
//
// Decoding is strict as Argo's is: an unknown key is an error
//   wf.yaml:9:7: json: unknown field "spec.templates[0].containr"
// and a value of the wrong type is reported as Go's encoding/json reports it
//   wf.yaml:12:18: json: cannot unmarshal string into Go struct field WorkflowSpec.spec.parallelism of type int64
// Strings accept numbers and booleans (`image: 1.0` is "1"), as Kubernetes' YAML to JSON
// conversion does for string fields.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "spec/model.h"
#include "spec/node.h"

namespace tether::spec {

struct DecodeOptions {
  bool strict = true;  // false: unknown keys are ignored (`tether lint --strict=false`)
};

// Every document of a file, decoded. The first problem stops the load; use parse_yaml and
// decode_document to go on past a bad document.
Result<std::vector<Document>> load_documents(std::string_view text, const std::string& path,
                                             const DecodeOptions& options = {});

// One parsed document. Kinds tether does not run decode to a skipped Document; a document
// without apiVersion or kind is an error.
Result<Document> decode_document(const Node& node, const DecodeOptions& options = {});

// Any part of the model from a Node (e.g. a template substituted as JSON, then from_json).
// Instantiated for Template, WorkflowSpec, Workflow, WorkflowTemplate, CronWorkflow,
// Arguments, Inputs, Outputs, Parameter, Artifact, WorkflowStep, DagTask, RetryStrategy,
// Container, ObjectMeta, ConfigMap and Secret.
template <typename T>
Result<T> decode(const Node& node, const DecodeOptions& options = {});

inline Result<Template> decode_template(const Node& node, const DecodeOptions& options = {}) {
  return decode<Template>(node, options);
}
inline Result<Template> decode_template(const Json& json, const DecodeOptions& options = {}) {
  return decode<Template>(from_json(json), options);
}

// The JSON kinds of Go's encoding/json errors ("string", "number", "bool", "array", "object").
const char* json_kind_name(const Node& node);

// Standard base64 (with padding), as Go decodes []byte fields.
Result<std::string> base64_decode(std::string_view text);

}  // namespace tether::spec
