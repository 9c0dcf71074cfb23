// `tether cron`: argo's verbs for CronWorkflows (create, update, list, get, delete,
// suspend, resume). They run while `tether server` runs (engine/cron_controller.h);
// `tether submit --from cronwf/NAME` runs one now.
#include <fmt/core.h>

#include <chrono>

#include "base/strings.h"
#include "cli/command.h"
#include "cli/home.h"
#include "cli/render.h"
#include "cli/runs.h"
#include "cli/stored_objects.h"
#include "cli/workflow_input.h"
#include "engine/cron_schedule.h"

namespace tether::cli {
namespace {

struct CronArgs {
  std::vector<std::string> files;
  std::vector<std::string> names;
  std::string namespace_ = "default";
  std::string output;
  bool all = false;
  bool all_namespaces = false;
};

int fail(const std::string& message) {
  fmt::print(stderr, "Error: {}\n", message);
  return 1;
}

// The CronWorkflow as argo shows it: the stored document with its status.
struct Cron {
  Json object;
  std::string updated_at;
};

Result<std::optional<Cron>> find_cron(engine::Store& store, const std::string& ns, const std::string& name) {
  auto obj = TRY(store.get_object("CronWorkflow", ns, name));
  if (!obj) return std::optional<Cron>();
  Cron c{obj->object, obj->updated_at};
  auto status = TRY(store.get_object(engine::kCronStatusKind, ns, name));
  if (status) {
    Json st = status->object;
    st.erase("lastUsedSchedule");
    c.object["status"] = st;
  }
  return std::optional<Cron>(std::move(c));
}

WallTime parse_time(const std::string& s) {
  WallTime t{};
  parse_rfc3339(s, &t);
  return t;
}

std::optional<WallTime> next_run_time(const Json& object, WallTime now) {
  auto config = engine::cron_config(object);
  if (!config.ok()) return std::nullopt;
  int64_t secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  auto next = engine::next_run(*config, secs);
  if (!next) return std::nullopt;
  return WallTime(std::chrono::seconds(*next));
}

// argo's GetScheduleString.
std::string schedules_of(const Json& object) { return join(engine::cron_schedules(json_at(object, "spec")), ","); }

// argo's getCronWorkflowGet: "%-30s %v" lines.
std::string describe(const Cron& c, WallTime now) {
  const Json& spec = json_at(c.object, "spec");
  const Json& status = json_at(c.object, "status");
  std::string out;
  auto line = [&](const std::string& k, const std::string& v) { out += fmt::format("{:<30} {}\n", k, v); };
  line("Name:", json_str(json_at(c.object, "metadata"), "name"));
  line("Namespace:", json_str(json_at(c.object, "metadata"), "namespace"));
  line("Created:", timestamp_long(parse_time(c.updated_at), now));
  line("Schedules:", schedules_of(c.object));
  line("Suspended:", json_at(spec, "suspend").is_boolean() && json_at(spec, "suspend").get<bool>() ? "true" : "false");
  if (!json_str(spec, "timezone").empty()) line("Timezone:", json_str(spec, "timezone"));
  if (json_at(spec, "startingDeadlineSeconds").is_number())
    line("StartingDeadlineSeconds:", json_at(spec, "startingDeadlineSeconds").dump());
  if (!json_str(spec, "concurrencyPolicy").empty()) line("ConcurrencyPolicy:", json_str(spec, "concurrencyPolicy"));
  if (!json_str(status, "lastScheduledTime").empty())
    line("LastScheduledTime:", timestamp_long(parse_time(json_str(status, "lastScheduledTime")), now));
  if (auto next = next_run_time(c.object, now))
    line("NextScheduledTime:", timestamp_long(*next, now) + " (assumes workflow-controller is in UTC)");
  std::vector<std::string> active;
  for (const auto& a : json_at(status, "active").is_array() ? json_at(status, "active") : Json::array())
    active.push_back(json_str(a, "name"));
  if (!active.empty()) line("Active Workflows:", join(active, ", "));
  const Json& conditions = json_at(status, "conditions");
  if (conditions.is_array() && !conditions.empty()) {
    line("Conditions:", "");
    for (const auto& cond : conditions) line("✖ " + json_str(cond, "type"), json_str(cond, "message"));
  }
  const Json& params = json_at(json_at(json_at(spec, "workflowSpec"), "arguments"), "parameters");
  if (params.is_array() && !params.empty()) {
    line("Workflow Parameters:", "");
    for (const auto& p : params)
      if (json_at(p, "value").is_string()) line("  " + json_str(p, "name") + ":", json_str(p, "value"));
  }
  return out;
}

int print_cron(const Cron& c, const std::string& output) {
  if (output == "name") fmt::print("{}\n", json_str(json_at(c.object, "metadata"), "name"));
  else if (output == "json") fmt::print("{}\n", c.object.dump(4));
  else if (output == "yaml") fmt::print("{}", to_yaml(c.object));
  else if (output.empty() || output == "wide") fmt::print("{}", describe(c, SystemClock::instance().now()));
  else return fail("Unknown output format: " + output);
  return 0;
}

struct Session {
  Home home;
  std::unique_ptr<engine::Store> store;
};

Result<Session> open_session() {
  auto home = TRY(open_home());
  auto store = TRY(open_reader(home));
  return Session{std::move(home), std::move(store)};
}

int create_or_update(const CronArgs& a, bool create) {
  std::vector<std::string> stored;
  int rc = store_files(
      a.files, a.namespace_, "CronWorkflow",
      [&](const spec::Document& d, const std::string& name) {
        stored.push_back(d.raw["metadata"].value("namespace", a.namespace_) + "/" + name);
      },
      create);
  if (rc != 0) return rc;
  auto s = open_session();
  if (!s.ok()) return fail(s.error().message);
  for (const auto& key : stored) {
    auto slash = key.find('/');
    auto c = find_cron(*s->store, key.substr(0, slash), key.substr(slash + 1));
    if (!c.ok()) return fail(c.error().message);
    if (*c) print_cron(**c, a.output);
  }
  return 0;
}

int cron_list(const CronArgs& a) {
  auto s = open_session();
  if (!s.ok()) return fail(s.error().message);
  auto all = s->store->list_objects("CronWorkflow", a.all_namespaces ? std::string() : a.namespace_);
  if (!all.ok()) return fail(all.error().message);
  if (a.output == "name") {
    for (const auto& o : *all) fmt::print("{}\n", o.name);
    return 0;
  }
  if (!a.output.empty() && a.output != "wide") return fail("unknown output mode: " + a.output);
  WallTime now = SystemClock::instance().now();
  std::string table = a.all_namespaces ? "NAMESPACE\t" : "";
  table += "NAME\tAGE\tLAST RUN\tNEXT RUN\tSCHEDULES\tTIMEZONE\tSUSPENDED\n";
  for (const auto& o : *all) {
    auto c = find_cron(*s->store, o.namespace_, o.name);
    if (!c.ok() || !*c) continue;
    const Json& obj = (*c)->object;
    const Json& spec = json_at(obj, "spec");
    std::string last = json_str(json_at(obj, "status"), "lastScheduledTime");
    auto next = next_run_time(obj, now);
    if (a.all_namespaces) table += o.namespace_ + "\t";
    table += fmt::format("{}\t{}\t{}\t{}\t{}\t{}\t{}\n", o.name, duration_short(parse_time(o.updated_at), now, now),
                         last.empty() ? "N/A" : duration_short(parse_time(last), now, now),
                         next ? duration_short(now, *next, now) : "N/A", schedules_of(obj), json_str(spec, "timezone"),
                         json_at(spec, "suspend").is_boolean() && json_at(spec, "suspend").get<bool>() ? "true" : "false");
  }
  fmt::print("{}", tabwrite(table, 3));
  return 0;
}

int cron_get(const CronArgs& a) {
  auto s = open_session();
  if (!s.ok()) return fail(s.error().message);
  for (const auto& name : a.names) {
    auto c = find_cron(*s->store, a.namespace_, name);
    if (!c.ok()) return fail(c.error().message);
    if (!*c) return fail("cronworkflows.argoproj.io \"" + name + "\" not found");
    if (int rc = print_cron(**c, a.output); rc != 0) return rc;
  }
  return 0;
}

// Sends one request per name; `said` prints what argo prints for each.
int for_each_name(const CronArgs& a, const std::function<Json(const std::string&)>& request,
                  const std::function<void(const std::string&)>& said) {
  auto home = open_home();
  if (!home.ok()) return fail(home.error().message);
  std::vector<std::string> names = a.names;
  if (a.all) {
    auto s = open_session();
    if (!s.ok()) return fail(s.error().message);
    auto all = s->store->list_objects("CronWorkflow", a.namespace_);
    if (!all.ok()) return fail(all.error().message);
    for (const auto& o : *all) names.push_back(o.name);
  }
  for (const auto& name : names) {
    auto r = engine_call(*home, request(name));
    if (!r.ok()) return fail(r.error().message);
    said(name);
  }
  return 0;
}

int cron_delete(const CronArgs& a) {
  return for_each_name(
      a,
      [&](const std::string& name) {
        return Json{{"op", "delete_object"}, {"kind", "CronWorkflow"}, {"namespace", a.namespace_}, {"name", name}};
      },
      [](const std::string&) {});
}

int cron_suspend(const CronArgs& a, bool suspend) {
  return for_each_name(
      a,
      [&](const std::string& name) {
        return Json{{"op", "set_cron_suspend"}, {"namespace", a.namespace_}, {"name", name}, {"suspend", suspend}};
      },
      [suspend](const std::string& name) {
        fmt::print("CronWorkflow '{}' {}\n", name, suspend ? "suspended" : "resumed");
      });
}

CommandRegistrar reg("cron", [](CLI::App& root) {
  auto* cmd = root.add_subcommand("cron", "manage cron workflows (they run while `tether server` runs)");
  cmd->require_subcommand(1);
  auto verb = [&](const char* name, const char* about, std::function<int(const CronArgs&)> action) {
    auto a = std::make_shared<CronArgs>();
    auto* sub = cmd->add_subcommand(name, about);
    sub->add_option("-n,--namespace", a->namespace_, "namespace");
    sub->callback([a, action] { set_exit_code(action(*a)); });
    return std::make_pair(sub, a);
  };
  {
    auto [sub, a] = verb("create", "create a cron workflow", [](const CronArgs& a) { return create_or_update(a, true); });
    sub->add_option("files", a->files, "files")->required();
    sub->add_option("-o,--output", a->output, "name|json|yaml|wide");
  }
  {
    auto [sub, a] = verb("update", "update a cron workflow", [](const CronArgs& a) { return create_or_update(a, false); });
    sub->add_option("files", a->files, "files")->required();
    sub->add_option("-o,--output", a->output, "name|json|yaml|wide");
  }
  {
    auto [sub, a] = verb("list", "list cron workflows", cron_list);
    sub->add_option("-o,--output", a->output, "wide|name");
    sub->add_flag("-A,--all-namespaces", a->all_namespaces, "show cron workflows from all namespaces");
  }
  {
    auto [sub, a] = verb("get", "display details about a cron workflow", cron_get);
    sub->add_option("names", a->names, "cron workflows")->required();
    sub->add_option("-o,--output", a->output, "name|json|yaml|wide");
  }
  {
    auto [sub, a] = verb("delete", "delete a cron workflow", cron_delete);
    sub->add_option("names", a->names, "cron workflows");
    sub->add_flag("--all", a->all, "delete all cron workflows");
  }
  {
    auto [sub, a] = verb("suspend", "suspend zero or more cron workflows", [](const CronArgs& a) { return cron_suspend(a, true); });
    sub->add_option("names", a->names, "cron workflows");
  }
  {
    auto [sub, a] = verb("resume", "resume zero or more cron workflows", [](const CronArgs& a) { return cron_suspend(a, false); });
    sub->add_option("names", a->names, "cron workflows");
  }
});

}  // namespace
}  // namespace tether::cli
