#include "cli/object_ops.h"

#include <functional>
#include <map>
#include <string>

#include "base/clock.h"
#include "engine/cron_schedule.h"

namespace tether::cli {
namespace {

using Handler = std::function<Json(engine::Store&, const Json&)>;

std::string field(const Json& req, const char* key) {
  auto it = req.find(key);
  return it != req.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "WorkflowTemplate" -> "workflowtemplates", as the API server names a kind's resource.
std::string lower_plural(const std::string& kind) {
  std::string out;
  for (char c : kind) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out + "s";
}

Json reply(const Status& st) {
  if (st.ok()) return {{"ok", true}};
  return {{"ok", false}, {"error", st.error().message}};
}

Json deleted_reply(const Result<bool>& r, const std::string& what) {
  if (!r.ok()) return reply(r.error());
  if (!*r) return {{"ok", false}, {"error", what + " not found"}};
  return {{"ok", true}};
}

Json put_secret(engine::Store& store, const Json& req) {
  std::map<std::string, std::string> data;
  const Json& d = req.contains("data") ? req["data"] : Json::object();
  if (!d.is_object()) return {{"ok", false}, {"error", "put_secret: data must be an object"}};
  for (auto it = d.begin(); it != d.end(); ++it) {
    if (!it->is_string()) return {{"ok", false}, {"error", "put_secret: value of key " + it.key() + " is not a string"}};
    data[it.key()] = it->get<std::string>();
  }
  return reply(store.put_secret(field(req, "namespace"), field(req, "name"), data));
}

Json delete_secret(engine::Store& store, const Json& req) {
  return deleted_reply(store.delete_secret(field(req, "namespace"), field(req, "name")),
                       "secret \"" + field(req, "name") + "\"");
}

Json put_object(engine::Store& store, const Json& req) {
  engine::ObjectRecord o;
  o.kind = field(req, "kind");
  o.namespace_ = field(req, "namespace");
  o.name = field(req, "name");
  o.object = req.value("object", Json::object());
  o.updated_at = format_rfc3339(SystemClock::instance().now());
  if (o.kind.empty() || o.name.empty()) return {{"ok", false}, {"error", "put_object: kind and name are required"}};
  // `create` verbs refuse to replace, as the API server does; `apply` replaces.
  if (req.value("create", false)) {
    auto existing = store.get_object(o.kind, o.namespace_, o.name);
    if (!existing.ok()) return reply(existing.error());
    if (*existing) return {{"ok", false}, {"error", lower_plural(o.kind) + ".argoproj.io \"" + o.name + "\" already exists"}};
  }
  return reply(store.put_object(o));
}

Json delete_object(engine::Store& store, const Json& req) {
  auto r = store.delete_object(field(req, "kind"), field(req, "namespace"), field(req, "name"));
  // A CronWorkflow's status goes with it, so one created again under the name starts afresh.
  if (r.ok() && *r && field(req, "kind") == "CronWorkflow")
    (void)store.delete_object(engine::kCronStatusKind, field(req, "namespace"), field(req, "name"));
  return deleted_reply(r, field(req, "kind") + " \"" + field(req, "name") + "\"");
}

// argo cron suspend / resume: spec.suspend of the stored CronWorkflow.
Json set_cron_suspend(engine::Store& store, const Json& req) {
  auto obj = store.get_object("CronWorkflow", field(req, "namespace"), field(req, "name"));
  if (!obj.ok()) return reply(obj.error());
  if (!*obj) return {{"ok", false}, {"error", "cronworkflows.argoproj.io \"" + field(req, "name") + "\" not found"}};
  engine::ObjectRecord o = **obj;
  o.object["spec"]["suspend"] = req.value("suspend", false);
  o.updated_at = format_rfc3339(SystemClock::instance().now());
  return reply(store.put_object(o));
}

const std::map<std::string, Handler>& handlers() {
  static const std::map<std::string, Handler> table = {
      {"put_secret", put_secret},
      {"delete_secret", delete_secret},
      {"put_object", put_object},
      {"delete_object", delete_object},
      {"set_cron_suspend", set_cron_suspend},
  };
  return table;
}

}  // namespace

std::optional<Json> handle_object_op(engine::Store& store, const Json& req) {
  auto it = handlers().find(field(req, "op"));
  if (it == handlers().end()) return std::nullopt;
  return it->second(store, req);
}

std::optional<std::pair<std::string, std::string>> cron_written(const Json& req) {
  std::string op = field(req, "op");
  bool cron = op == "set_cron_suspend" || ((op == "put_object" || op == "delete_object") && field(req, "kind") == "CronWorkflow");
  if (!cron) return std::nullopt;
  return std::make_pair(field(req, "namespace"), field(req, "name"));
}

}  // namespace tether::cli
