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
#include "cli/runs.h"
#include "cli/stored_objects.h"
#include "cli/workflow_input.h"
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

// Every document of the files, each an appliable kind with a name. only_kind: a verb for
// one kind (`template create`) takes no other.
Result<std::vector<spec::Document>> load_objects(const std::vector<std::string>& files, const std::string& only_kind,
                                                 const std::string& verb) {
  std::string workflow_hint = verb == "apply" ? " (use tether submit)" : " (use tether delete NAME)";
  std::vector<spec::Document> docs;
  for (const auto& f : files) {
    auto text = TRY(read_file(f));
    auto loaded = TRY(spec::load_documents(text, f));
    for (auto& d : loaded) {
      if (!only_kind.empty() && d.kind != only_kind)
        return invalid(d.pos.str() + ": expected a " + only_kind + ", not " +
                       (d.kind.empty() ? std::string("this document") : d.kind));
      if (!appliable_kinds().count(d.kind))
        return invalid(d.pos.str() + ": tether " + verb + " handles " +
                       "ConfigMap, Secret, WorkflowTemplate, ClusterWorkflowTemplate and CronWorkflow, not " +
                       (d.kind.empty() ? std::string("this document") : d.kind) +
                       (d.kind == "Workflow" ? workflow_hint : ""));
      if (object_name(d).empty())
        return invalid(d.pos.str() + ": " + d.kind + ": metadata.name is required");
      docs.push_back(std::move(d));
    }
  }
  return docs;
}

// Templates the documents refer to may be among them or already stored, as the API
// server finds them when it validates.
Result<std::vector<spec::Document>> load_all(const Home& home, const std::vector<std::string>& files,
                                             const std::string& only_kind) {
  auto docs = TRY(load_objects(files, only_kind, "apply"));
  spec::ValidateContext ctx(stored_template_lookup(home));
  for (const auto& d : docs) ctx.add(d);
  for (const auto& d : docs)
    for (const auto& diag : spec::validate(d, ctx)) return invalid(diag.pos.str() + ": " + diag.message);
  return docs;
}

std::string object_namespace(const spec::Document& d, const std::string& default_ns) {
  return d.kind == "ClusterWorkflowTemplate" ? std::string() : d.raw["metadata"].value("namespace", default_ns);
}

// The request that stores one document; cluster-scoped kinds have no namespace.
Json store_request(const spec::Document& d, const std::string& default_ns) {
  std::string name = object_name(d);
  std::string ns = object_namespace(d, default_ns);
  if (const auto* secret = std::get_if<spec::Secret>(&d.object))
    return {{"op", "put_secret"}, {"namespace", ns}, {"name", name}, {"data", secret->data}};
  Json object = d.raw;
  if (!ns.empty()) object["metadata"]["namespace"] = ns;
  return {{"op", "put_object"}, {"kind", d.kind}, {"namespace", ns}, {"name", name}, {"object", object}};
}

}  // namespace

int store_files(const std::vector<std::string>& paths, const std::string& namespace_, const std::string& only_kind,
                const std::function<void(const spec::Document&, const std::string& name)>& done, bool create) {
  auto home = open_home();
  if (!home.ok()) return fmt::print(stderr, "Error: {}\n", home.error().message), 1;
  auto docs = load_all(*home, expand(paths), only_kind);
  if (!docs.ok()) return fmt::print(stderr, "Error: {}\n", docs.error().str()), 1;
  for (const auto& d : *docs) {
    Json req = store_request(d, namespace_);
    if (create) req["create"] = true;
    auto r = engine_call(*home, req);
    if (!r.ok()) return fmt::print(stderr, "Error: {}\n", r.error().message), 1;
    done(d, req["name"].get<std::string>());
  }
  return 0;
}

int delete_files(const std::vector<std::string>& paths, const std::string& namespace_) {
  auto home = open_home();
  if (!home.ok()) return fmt::print(stderr, "Error: {}\n", home.error().message), 1;
  auto docs = load_objects(expand(paths), "", "delete -f");
  if (!docs.ok()) return fmt::print(stderr, "Error: {}\n", docs.error().str()), 1;
  int rc = 0;
  for (const auto& d : *docs) {
    std::string name = object_name(d), ns = object_namespace(d, namespace_);
    // kubectl's resource names: core kinds bare, Argo's with their API group.
    std::string kind = d.kind;
    std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) { return std::tolower(c); });
    bool core = d.kind == "ConfigMap" || d.kind == "Secret";
    std::string resource = core ? kind : kind + ".argoproj.io";
    Json req = d.kind == "Secret" ? Json{{"op", "delete_secret"}, {"namespace", ns}, {"name", name}}
                                  : Json{{"op", "delete_object"}, {"kind", d.kind}, {"namespace", ns}, {"name", name}};
    auto r = engine_call(*home, req);
    if (r.ok()) {
      fmt::print("{} \"{}\" deleted\n", resource, name);
      continue;
    }
    // The others are still deleted, as kubectl does; the exit code tells.
    rc = 1;
    if (r.error().message.find("not found") != std::string::npos)
      fmt::print(stderr, "Error from server (NotFound): error when deleting \"{}\": {}s{} \"{}\" not found\n",
                 d.pos.file.str(), kind, core ? "" : ".argoproj.io", name);
    else
      fmt::print(stderr, "Error: error when deleting \"{}\": {}\n", d.pos.file.str(), r.error().message);
  }
  return rc;
}

namespace {

int run_apply(const ApplyArgs& a) {
  return store_files(a.paths, a.namespace_, "", [](const spec::Document& d, const std::string& name) {
    std::string kind = d.kind;
    std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) { return std::tolower(c); });
    fmt::print("{}/{} configured\n", kind, name);
  });
}

// `tether template` and `tether cluster-template`: argo's verbs for stored
// (Cluster)WorkflowTemplates.
struct TemplateKind {
  const char* verb;
  const char* kind;
  bool cluster;
};

struct TemplateArgs {
  std::vector<std::string> files;
  std::string name;
  std::string namespace_ = "default";
  std::string output;
};

int template_create(const TemplateKind& k, const TemplateArgs& a) {
  return store_files(a.files, a.namespace_, k.kind, [&](const spec::Document&, const std::string& name) {
    fmt::print("Name:                {}\n", name);
    if (!k.cluster) fmt::print("Namespace:           {}\n", a.namespace_);
  });
}

int template_read(const TemplateKind& k, const TemplateArgs& a, bool one) {
  auto home = open_home();
  if (!home.ok()) return fmt::print(stderr, "Error: {}\n", home.error().message), 1;
  auto store = open_reader(*home);
  if (!store.ok()) return fmt::print(stderr, "Error: {}\n", store.error().message), 1;
  std::string ns = k.cluster ? std::string() : a.namespace_;
  if (!one) {
    auto all = (*store)->list_objects(k.kind, ns);
    if (!all.ok()) return fmt::print(stderr, "Error: {}\n", all.error().message), 1;
    fmt::print("NAME\n");
    for (const auto& o : *all) fmt::print("{}\n", o.name);
    return 0;
  }
  auto obj = (*store)->get_object(k.kind, ns, a.name);
  if (!obj.ok()) return fmt::print(stderr, "Error: {}\n", obj.error().message), 1;
  if (!*obj) return fmt::print(stderr, "Error: {}.argoproj.io \"{}\" not found\n", k.verb, a.name), 1;
  if (a.output == "json") fmt::print("{}\n", (*obj)->object.dump(2));
  else if (a.output == "yaml") fmt::print("{}\n", to_yaml((*obj)->object));
  else {
    fmt::print("Name:                {}\n", a.name);
    if (!k.cluster) fmt::print("Namespace:           {}\n", ns);
    fmt::print("Created:             {}\n", (*obj)->updated_at);
  }
  return 0;
}

int template_delete(const TemplateKind& k, const TemplateArgs& a) {
  auto home = open_home();
  if (!home.ok()) return fmt::print(stderr, "Error: {}\n", home.error().message), 1;
  Json req = {{"op", "delete_object"}, {"kind", k.kind}, {"namespace", k.cluster ? std::string() : a.namespace_},
              {"name", a.name}};
  auto r = engine_call(*home, req);
  if (!r.ok()) return fmt::print(stderr, "Error: {}\n", r.error().message), 1;
  fmt::print("{} '{}' deleted\n", k.kind, a.name);
  return 0;
}

void template_verbs(CLI::App& root, const TemplateKind& k) {
  auto* cmd = root.add_subcommand(k.verb, std::string("manage ") + k.kind + "s");
  cmd->require_subcommand(1);
  using Action = std::function<int(const TemplateKind&, const TemplateArgs&)>;
  auto verb = [&](const std::string& name, const char* about, Action action) {
    auto a = std::make_shared<TemplateArgs>();
    auto* sub = cmd->add_subcommand(name, about);
    if (name == "create") sub->add_option("files", a->files, "files or directories")->required();
    else if (name != "list") sub->add_option("name", a->name, "name")->required();
    if (!k.cluster) sub->add_option("-n,--namespace", a->namespace_, "namespace");
    if (name == "get") sub->add_option("-o,--output", a->output, "json|yaml");
    sub->callback([k, a, action] { set_exit_code(action(k, *a)); });
  };
  verb("create", "store templates from files", template_create);
  verb("list", "list them", [](const TemplateKind& k, const TemplateArgs& a) { return template_read(k, a, false); });
  verb("get", "show one", [](const TemplateKind& k, const TemplateArgs& a) { return template_read(k, a, true); });
  verb("delete", "delete one", template_delete);
}

CommandRegistrar reg_template("template", [](CLI::App& root) {
  template_verbs(root, {"template", "WorkflowTemplate", false});
  template_verbs(root, {"cluster-template", "ClusterWorkflowTemplate", true});
});

CommandRegistrar reg("apply", [](CLI::App& root) {
  auto a = std::make_shared<ApplyArgs>();
  auto* cmd = root.add_subcommand("apply", "store ConfigMaps, Secrets, (Cluster)WorkflowTemplates and CronWorkflows");
  cmd->add_option("-f,--filename", a->paths, "files or directories (their .yaml, .yml, .json files)")->required();
  cmd->add_option("-n,--namespace", a->namespace_, "namespace of documents that name none");
  cmd->callback([a] { set_exit_code(run_apply(*a)); });
});

}  // namespace
}  // namespace tether::cli
