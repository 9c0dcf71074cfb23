#include "cli/workflow_input.h"

#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <iterator>

#include "base/strings.h"
#include "cli/render.h"
#include "cli/runs.h"
#include "spec/load.h"
#include "spec/validate.h"

namespace tether::cli {

void add_submit_option_flags(CLI::App* cmd, SubmitOptions& o) {
  // One value per -p, as argo: `-p a=1 b=2` is an error, not two parameters.
  cmd->add_option("-p,--parameter", o.parameters, "input parameter, name=value")->allow_extra_args(false);
  cmd->add_option("-f,--parameter-file", o.parameter_file, "file of input parameters (YAML or JSON map)");
  cmd->add_option("-e,--entrypoint", o.entrypoint, "override the entrypoint");
  cmd->add_option("--name", o.name, "override metadata.name");
  cmd->add_option("--generate-name", o.generate_name, "override metadata.generateName");
  cmd->add_option("-l,--labels", o.labels, "comma separated labels to apply to the workflow")->allow_extra_args(false);
  cmd->add_option("--serviceaccount", o.service_account, "run all pods in the workflow using this service account");
  cmd->add_option("--priority", o.priority, "workflow priority");
}

namespace {

Result<std::string> read_input(const std::string& path) {
  if (path == "-") {
    std::string s((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return s;
  }
  return read_file(path);
}

Status check_param_value(const std::string& name, const std::string& value, const std::string& where) {
  if (value.find('\0') != std::string::npos)
    return invalid(where + ": parameter \"" + name + "\" contains a NUL byte, which no program can receive");
  return {};
}

void set_parameter(Json& spec, const std::string& name, const std::string& value) {
  Json& args = spec["arguments"];
  if (!args.is_object()) args = Json::object();
  Json& params = args["parameters"];
  if (!params.is_array()) params = Json::array();
  for (auto& p : params) {
    if (p.value("name", std::string()) == name) {
      p["value"] = value;
      return;
    }
  }
  params.push_back({{"name", name}, {"value", value}});
}

}  // namespace

spec::ValidateContext::Lookup stored_template_lookup(const Home& home) {
  return [home](const std::string& kind, const std::string& name) -> std::optional<spec::Document> {
    auto store = open_reader(home);
    if (!store.ok()) return std::nullopt;
    auto obj = (*store)->get_object(kind, kind == "ClusterWorkflowTemplate" ? "" : "default", name);
    if (!obj.ok() || !*obj) return std::nullopt;
    auto doc = spec::decode_document(spec::from_json((*obj)->object));
    if (!doc.ok()) return std::nullopt;
    return std::move(*doc);
  };
}

// Argo applies the submit options before it validates, so a -p value fills an argument
// the file leaves without one.
void supply_parameters(spec::Document& d, const std::vector<std::pair<std::string, std::string>>& params) {
  auto* wf = std::get_if<spec::Workflow>(&d.object);
  if (!wf) return;
  for (const auto& kv : params) {
    auto& list = wf->spec.arguments.parameters;
    auto it = std::find_if(list.begin(), list.end(), [&](const spec::Parameter& p) { return p.name == kv.first; });
    if (it != list.end()) {
      it->value = kv.second;
      continue;
    }
    spec::Parameter p;
    p.pos = wf->spec.arguments.pos.known() ? wf->spec.arguments.pos : wf->spec.pos;
    p.name = kv.first;
    p.value = kv.second;
    list.push_back(std::move(p));
  }
}

Result<std::vector<Json>> load_workflow_files(const Home& home, const std::vector<std::string>& files,
                                              const SubmitOptions& opts) {
  auto params = TRY(submit_parameters(opts));
  std::vector<Json> out;
  for (const auto& path : files) {
    std::string text = TRY(read_input(path));
    std::string shown = path == "-" ? "<stdin>" : path;
    auto docs = TRY(spec::load_documents(text, shown));
    for (auto& d : docs) supply_parameters(d, params);
    // Templates this file refers to may be in the file itself or already applied.
    spec::ValidateContext ctx(stored_template_lookup(home));
    ctx.lint = false;
    for (const auto& d : docs) ctx.add(d);
    int count = 0;
    for (const auto& d : docs) {
      if (d.kind != "Workflow") continue;
      auto diags = spec::validate(d, ctx);
      if (!diags.empty()) {
        std::string msg;
        for (const auto& dg : diags) msg += (msg.empty() ? "" : "\n") + Error(ErrorCode::kInvalid, dg.message, dg.pos).str();
        return invalid(msg);
      }
      out.push_back(d.raw);
      ++count;
    }
    if (count == 0) return invalid(shown + ": no Workflow document found (kinds: use `tether apply` for templates)");
  }
  return out;
}

Result<Json> workflow_from_template(const Home& home, const std::string& namespace_, const std::string& from) {
  auto slash = from.find('/');
  if (slash == std::string::npos) return invalid("--from must be KIND/NAME, e.g. workflowtemplate/my-template");
  std::string kind = from.substr(0, slash), name = from.substr(slash + 1);
  Json wf = {{"apiVersion", "argoproj.io/v1alpha1"}, {"kind", "Workflow"}, {"metadata", {{"generateName", name + "-"}}}};
  if (kind == "workflowtemplate" || kind == "wftmpl") {
    wf["spec"] = {{"workflowTemplateRef", {{"name", name}}}};
    wf["metadata"]["labels"] = {{"workflows.argoproj.io/workflow-template", name}};
  } else if (kind == "clusterworkflowtemplate" || kind == "cwftmpl") {
    wf["spec"] = {{"workflowTemplateRef", {{"name", name}, {"clusterScope", true}}}};
    wf["metadata"]["labels"] = {{"workflows.argoproj.io/cluster-workflow-template", name}};
  } else if (kind == "cronwf" || kind == "cronworkflow") {
    auto store = TRY(open_reader(home));
    auto obj = TRY(store->get_object("CronWorkflow", namespace_, name));
    if (!obj) return not_found("cronworkflows.argoproj.io \"" + name + "\" not found");
    wf["spec"] = obj->object["spec"]["workflowSpec"];
    wf["metadata"]["labels"] = {{"workflows.argoproj.io/cron-workflow", name}};
  } else {
    return invalid("unsupported --from kind \"" + kind + "\": use workflowtemplate, clusterworkflowtemplate or cronwf");
  }
  return wf;
}

Result<std::vector<std::pair<std::string, std::string>>> submit_parameters(const SubmitOptions& o) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!o.parameter_file.empty()) {
    std::string text = TRY(read_file(o.parameter_file));
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      return invalid(o.parameter_file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    if (!root.IsMap()) return invalid(o.parameter_file + ": a parameter file is a map of name: value");
    for (const auto& kv : root) {
      std::string name = kv.first.as<std::string>();
      std::string value;
      if (kv.second.IsScalar()) {
        value = kv.second.as<std::string>();
      } else {
        YAML::Emitter e;
        e << YAML::DoubleQuoted << YAML::Flow << kv.second;
        value = e.c_str();
      }
      TRY_STATUS(check_param_value(name, value, o.parameter_file));
      out.emplace_back(name, value);
    }
  }
  for (const auto& p : o.parameters) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      return invalid("Expected parameter of the form: NAME=VALUE. Received: " + p);
    TRY_STATUS(check_param_value(p.substr(0, eq), p.substr(eq + 1), "-p"));
    out.emplace_back(p.substr(0, eq), p.substr(eq + 1));
  }
  return out;
}

Status apply_submit_options(Json& wf, const SubmitOptions& o, const std::string& namespace_) {
  Json& meta = wf["metadata"];
  if (!meta.is_object()) meta = Json::object();
  Json& spec = wf["spec"];
  if (!spec.is_object()) spec = Json::object();
  meta["namespace"] = namespace_;
  for (const auto& [name, value] : TRY(submit_parameters(o))) set_parameter(spec, name, value);
  if (!o.entrypoint.empty()) spec["entrypoint"] = o.entrypoint;
  if (!o.service_account.empty()) spec["serviceAccountName"] = o.service_account;
  if (o.priority) spec["priority"] = *o.priority;
  if (!o.name.empty()) {
    meta["name"] = o.name;
    meta.erase("generateName");
  }
  if (!o.generate_name.empty()) {
    meta["generateName"] = o.generate_name;
    meta.erase("name");
  }
  for (const auto& l : o.labels)
    for (const auto& kv : split(l, ',')) {
      auto eq = kv.find('=');
      if (eq == std::string::npos) return invalid("Expected label of the form: NAME=VALUE. Received: " + kv);
      meta["labels"][kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  return {};
}

void print_submitted(const Json& wf, const std::string& output, bool watch) {
  if (output == "name") {
    fmt::print("{}\n", wf["metadata"].value("name", std::string()));
  } else if (output == "json") {
    fmt::print("{}\n", wf.dump(2));
  } else if (output == "yaml") {
    fmt::print("{}\n", to_yaml(wf));
  } else if (!watch) {
    fmt::print("{}", render_get(wf, GetOptions{output, "", true, static_cast<bool>(::isatty(1))},
                                SystemClock::instance().now()));
  }
  std::fflush(stdout);
}

int wait_for_runs(const Home& home, const std::string& namespace_, const std::vector<std::string>& names, bool quiet) {
  auto store = open_reader(home);
  if (!store.ok()) return fmt::print(stderr, "{}\n", store.error().str()), 1;
  int rc = 0;
  for (const auto& name : names) {
    auto phase = await_completion(**store, namespace_, name);
    auto run = phase.ok() && !quiet ? (*store)->find_run(namespace_, name) : Result<std::optional<engine::RunRecord>>(std::nullopt);
    if (!phase.ok() || !run.ok()) {
      fmt::print(stderr, "{}\n", (phase.ok() ? run.error() : phase.error()).str());
      rc = 1;
      continue;
    }
    if (!quiet && *run) fmt::print("{} {} at {}\n", (*run)->name, (*run)->phase, (*run)->finished_at);
    if (*phase != "Succeeded") rc = 1;
  }
  return rc;
}

int follow_after_submit(const Home& home, const std::string& namespace_, const std::vector<std::string>& names,
                        bool watch, bool wait, bool log, bool quiet) {
  if (log) {
    for (const auto& n : names) {
      // `tether logs -f` in a child of its own, with an argv and no shell: names and
      // namespaces are data.
      std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
      std::vector<std::string> args = {exe, "logs", "-n", namespace_, n, "-f"};
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      std::fflush(stdout);
      pid_t pid = ::fork();
      if (pid < 0) return fmt::print(stderr, "fork: {}\n", std::strerror(errno)), 1;
      if (pid == 0) {
        ::execv(exe.c_str(), argv.data());
        ::_exit(127);
      }
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
    }
  }
  if (wait) return wait_for_runs(home, namespace_, names, quiet);
  if (!watch) return 0;
  auto store = open_reader(home);
  if (!store.ok()) return fmt::print(stderr, "{}\n", store.error().str()), 1;
  bool tty = ::isatty(1);
  int rc = 0;
  for (const auto& name : names) {
    std::string last_line;
    auto wf = follow_workflow(**store, namespace_, name, [&](const Json& w) {
      if (tty) {
        // Redraw in place, as argo watch does.
        fmt::print("\033[H\033[2J\033[0;0H{}", render_get(w, GetOptions{"", "", true, true}, SystemClock::instance().now()));
        std::fflush(stdout);
        return;
      }
      std::string line = fmt::format("{} {} {}", name, workflow_status(w), w["status"].value("progress", std::string()));
      if (line != last_line) {
        fmt::print("{}\n", line);
        std::fflush(stdout);
        last_line = line;
      }
    });
    if (!wf.ok()) {
      fmt::print(stderr, "{}\n", wf.error().str());
      rc = 1;
      continue;
    }
    if (!tty) fmt::print("{}", render_get(*wf, GetOptions{}, SystemClock::instance().now()));
    if (run_phase(*wf) != "Succeeded") rc = 1;
  }
  return rc;
}

namespace {
void emit_yaml(YAML::Emitter& e, const Json& j) {
  switch (j.type()) {
    case Json::value_t::object:
      e << YAML::BeginMap;
      for (auto it = j.begin(); it != j.end(); ++it) {
        e << YAML::Key << it.key() << YAML::Value;
        emit_yaml(e, it.value());
      }
      e << YAML::EndMap;
      break;
    case Json::value_t::array:
      e << YAML::BeginSeq;
      for (const auto& v : j) emit_yaml(e, v);
      e << YAML::EndSeq;
      break;
    case Json::value_t::string: {
      const std::string& s = j.get_ref<const std::string&>();
      // Strings that YAML would read back as something else are quoted.
      static const char* special[] = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n", ""};
      bool quote = false;
      for (auto* sp : special)
        if (s == sp) quote = true;
      if (!quote && !s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '.')) quote = true;
      if (quote) e << YAML::DoubleQuoted;
      if (s.find('\n') != std::string::npos) e << YAML::Literal;
      e << s;
      break;
    }
    case Json::value_t::null: e << YAML::Null; break;
    case Json::value_t::boolean: e << j.get<bool>(); break;
    case Json::value_t::number_integer: e << j.get<long long>(); break;
    case Json::value_t::number_unsigned: e << j.get<unsigned long long>(); break;
    case Json::value_t::number_float: e << j.get<double>(); break;
    default: e << YAML::Null;
  }
}
}  // namespace

std::string to_yaml(const Json& j) {
  YAML::Emitter e;
  emit_yaml(e, j);
  return e.c_str();
}

}  // namespace tether::cli
