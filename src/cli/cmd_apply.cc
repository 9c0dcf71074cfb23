// `tether apply -f FILE|DIR`: stores the ConfigMaps, Secrets, WorkflowTemplates,
// ClusterWorkflowTemplates and CronWorkflows of YAML/JSON files, as `kubectl apply` does.
// Every document of every file is loaded and validated first; nothing is stored unless all
// are valid, and an error names file:line:col.
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "base/strings.h"
#include "cli/command.h"
#include "cli/home.h"
#include "spec/load.h"
#include "spec/validate.h"

namespace tether::cli {
namespace {

namespace fs = std::filesystem;

struct ApplyArgs {
  std::vector<std::string> paths;
  std::string namespace_ = "default";
};

// kubectl reads a directory's own .yaml/.yml/.json files, not its subdirectories.
std::vector<std::string> expand(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      out.push_back(p);
      continue;
    }
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(p, ec)) {
      std::string ext = e.path().extension().string();
      if (e.is_regular_file(ec) && (ext == ".yaml" || ext == ".yml" || ext == ".json")) files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    out.insert(out.end(), files.begin(), files.end());
  }
  return out;
}

const std::set<std::string>& appliable_kinds() {
  static const std::set<std::string> kinds = {"ConfigMap", "Secret", "WorkflowTemplate", "ClusterWorkflowTemplate",
                                              "CronWorkflow"};
  return kinds;
}

std::string object_name(const spec::Document& d) {
  auto meta = d.raw.find("metadata");
  if (meta == d.raw.end() || !meta->is_object()) return {};
  auto name = meta->find("name");
  return name != meta->end() && name->is_string() ? name->get<std::string>() : std::string();
}

Result<std::vector<spec::Document>> load_all(const std::vector<std::string>& files) {
  std::vector<spec::Document> docs;
  for (const auto& f : files) {
    auto text = TRY(read_file(f));
    auto loaded = TRY(spec::load_documents(text, f));
    for (auto& d : loaded) {
      if (!appliable_kinds().count(d.kind))
        return invalid(d.pos.str() + ": tether apply stores " +
                       "ConfigMap, Secret, WorkflowTemplate, ClusterWorkflowTemplate and CronWorkflow, not " +
                       (d.kind.empty() ? std::string("this document") : d.kind) +
                       (d.kind == "Workflow" ? " (use tether submit)" : ""));
      if (object_name(d).empty())
        return invalid(d.pos.str() + ": " + d.kind + ": metadata.name is required");
      docs.push_back(std::move(d));
    }
  }
  spec::ValidateContext ctx;
  for (const auto& d : docs) ctx.add(d);
  for (const auto& d : docs)
    for (const auto& diag : spec::validate(d, ctx)) return invalid(diag.pos.str() + ": " + diag.message);
  return docs;
}

// The request that stores one document; cluster-scoped kinds have no namespace.
Json store_request(const spec::Document& d, const std::string& default_ns) {
  std::string name = object_name(d);
  std::string ns = d.kind == "ClusterWorkflowTemplate"
                       ? std::string()
                       : d.raw["metadata"].value("namespace", default_ns);
  if (const auto* secret = std::get_if<spec::Secret>(&d.object))
    return {{"op", "put_secret"}, {"namespace", ns}, {"name", name}, {"data", secret->data}};
  Json object = d.raw;
  if (!ns.empty()) object["metadata"]["namespace"] = ns;
  return {{"op", "put_object"}, {"kind", d.kind}, {"namespace", ns}, {"name", name}, {"object", object}};
}

int run_apply(const ApplyArgs& a) {
  auto home = open_home();
  if (!home.ok()) return fmt::print(stderr, "Error: {}\n", home.error().message), 1;
  auto docs = load_all(expand(a.paths));
  if (!docs.ok()) return fmt::print(stderr, "Error: {}\n", docs.error().str()), 1;
  for (const auto& d : *docs) {
    Json req = store_request(d, a.namespace_);
    auto r = engine_call(*home, req);
    if (!r.ok()) return fmt::print(stderr, "Error: {}\n", r.error().message), 1;
    std::string kind = d.kind;
    std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) { return std::tolower(c); });
    fmt::print("{}/{} configured\n", kind, req["name"].get<std::string>());
  }
  return 0;
}

CommandRegistrar reg("apply", [](CLI::App& root) {
  auto a = std::make_shared<ApplyArgs>();
  auto* cmd = root.add_subcommand("apply", "store ConfigMaps, Secrets, (Cluster)WorkflowTemplates and CronWorkflows");
  cmd->add_option("-f,--filename", a->paths, "files or directories (their .yaml, .yml, .json files)")->required();
  cmd->add_option("-n,--namespace", a->namespace_, "namespace of documents that name none");
  cmd->callback([a] { set_exit_code(run_apply(*a)); });
});

}  // namespace
}  // namespace tether::cli
