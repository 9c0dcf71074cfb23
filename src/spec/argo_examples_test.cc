// Every document of Argo's own examples must load, decode strictly and validate, or be a
// kind tether skips.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "base/strings.h"
#include "spec/load.h"
#include "spec/validate.h"

namespace tether::spec {
namespace {

namespace fs = std::filesystem;

std::string examples_dir() {
  const char* shared = std::getenv("TETHER_SHARED");
  return shared ? std::string(shared) + "/argo-examples" : "";
}

std::vector<std::string> example_files(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    auto ext = e.path().extension();
    if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ArgoExamples, EveryDocumentIsAcceptedOrSkipped) {
  std::string dir = examples_dir();
  if (dir.empty() || !fs::is_directory(dir)) GTEST_SKIP() << "no Argo examples at $TETHER_SHARED/argo-examples";
  auto files = example_files(dir);
  ASSERT_GT(files.size(), 100u);

  // Load everything first so templateRefs resolve across files, as `tether lint` does.
  std::vector<Document> all;
  std::vector<std::string> duplicate_keys;
  for (const auto& file : files) {
    auto text = read_file(file);
    ASSERT_TRUE(text.ok()) << text.error().str();
    auto docs = load_documents(*text, file);
    if (!docs.ok() && docs.error().message.find("already defined at line") != std::string::npos) {
      // Argo's strict lint rejects a key written twice too; without --strict it loads.
      duplicate_keys.push_back(fs::path(file).filename().string());
      docs = load_documents(*text, file, DecodeOptions{false});
    }
    ASSERT_TRUE(docs.ok()) << docs.error().str();
    for (auto& d : *docs) all.push_back(std::move(d));
  }
  EXPECT_EQ(duplicate_keys, std::vector<std::string>{"k8s-patch-json-workflow.yaml"});
  ValidateContext ctx;
  for (const auto& d : all) ctx.add(d);

  std::map<std::string, int> kinds;
  for (const auto& d : all) {
    ++kinds[d.skipped() ? "skipped" : d.kind];
    for (const auto& diag : validate(d, ctx)) ADD_FAILURE() << diag.pos.str() << ": " << diag.message;
  }
  EXPECT_GT(kinds["Workflow"], 150);
  EXPECT_GT(kinds["WorkflowTemplate"], 5);
  EXPECT_GT(kinds["ClusterWorkflowTemplate"], 2);
  EXPECT_GT(kinds["CronWorkflow"], 2);
  EXPECT_EQ(kinds["skipped"], 3);  // a PersistentVolumeClaim, a ResourceQuota, a dashboard
}

}  // namespace
}  // namespace tether::spec
