#include "expr/catalog.h"

#include <gtest/gtest.h>

namespace tether::expr {
namespace {

TEST(Catalog, LookupPicksTheMostSpecificPattern) {
  struct Case {
    const char* name;
    const char* pattern;  // null: no such variable
  };
  const Case cases[] = {
      {"workflow.name", "workflow.name"},
      {"workflow.parameters", "workflow.parameters"},
      {"workflow.parameters.json", "workflow.parameters.json"},
      {"workflow.parameters.message", "workflow.parameters.*"},
      {"workflow.labels.json", "workflow.labels.json"},
      {"workflow.labels.app.kubernetes.io/name", "workflow.labels.**"},
      {"workflow.creationTimestamp", "workflow.creationTimestamp"},
      {"workflow.creationTimestamp.Y", "workflow.creationTimestamp.Y"},
      {"workflow.creationTimestamp.RFC3339", "workflow.creationTimestamp.RFC3339"},
      {"workflow.status", "workflow.status"},
      {"steps.flip-coin.outputs.result", "steps.*.outputs.result"},
      {"steps.flip-coin.outputs.parameters", "steps.*.outputs.parameters"},
      {"steps.gen.outputs.parameters.out", "steps.*.outputs.parameters.*"},
      {"tasks.A.status", "tasks.*.status"},
      {"tasks.A.exitCode", "tasks.*.exitCode"},
      {"tasks.name", "tasks.name"},
      {"inputs.parameters.x", "inputs.parameters.*"},
      {"inputs.parameters", "inputs.parameters"},
      {"inputs.artifacts.data.path", "inputs.artifacts.*.path"},
      {"outputs.parameters.out.path", "outputs.parameters.*.path"},
      {"item", "item"},
      {"item.evenness", "item.**"},
      {"lastRetry.exitCode", "lastRetry.exitCode"},
      {"cronworkflow.lastScheduledTime", "cronworkflow.lastScheduledTime"},
      {"pod.name", "pod.name"},
      {"retries", "retries"},
      {"steps.flip-coin", nullptr},
      {"workflow.nope", nullptr},
      {"inputs.parameters.", nullptr},
      {"workflow.creationTimestamp.Q", nullptr},
      {"", nullptr},
  };
  for (const auto& c : cases) {
    const VariableInfo* v = lookup_variable(c.name);
    if (!c.pattern) {
      EXPECT_EQ(v, nullptr) << c.name << " matched " << v->pattern;
      continue;
    }
    ASSERT_NE(v, nullptr) << c.name;
    EXPECT_EQ(v->pattern, c.pattern) << c.name;
  }
}

TEST(Catalog, EveryEntryHasDocAndScope) {
  EXPECT_GT(all_variables().size(), 80u);
  for (const auto& v : all_variables()) {
    EXPECT_FALSE(v.doc.empty()) << v.pattern;
    EXPECT_NE(v.scope, 0u) << v.pattern;
  }
  EXPECT_EQ(lookup_variable("workflow.status")->scope, static_cast<unsigned>(kScopeWorkflow | kScopeExitHandler));
  EXPECT_EQ(lookup_variable("workflow.failures")->scope, static_cast<unsigned>(kScopeExitHandler));
  EXPECT_EQ(lookup_variable("steps.a.outputs.result")->kind, VarKind::kString);
  EXPECT_EQ(lookup_variable("tasks.a.outputs.artifacts.b")->kind, VarKind::kArtifact);
}

}  // namespace
}  // namespace tether::expr
