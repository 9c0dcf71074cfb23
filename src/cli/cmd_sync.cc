// `tether sync create|get|update|delete KEY --type database|configmap`: argo's sync limits,
// the sizes of semaphores. A database limit is a row of the store (the one database every
// run of this engine shares) that `synchronization.semaphores[].database.key` names; a
// configmap limit is a key of a ConfigMap, as `configMapKeyRef` semaphores read it.
#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "cli/command.h"
#include "cli/home.h"
#include "cli/runs.h"
#include "cli/stored_objects.h"

namespace tether::cli {
namespace {

struct SyncArgs {
  std::string key;
  std::string type;
  std::string cm_name;
  int limit = 0;
  std::string namespace_ = "default";
};

struct Limit {
  std::string key, cm_name, namespace_, type;
  int limit = 0;
};

int fail(const std::string& verb, const std::string& why) {
  fmt::print(stderr, "Error: failed to {} sync limit: {}\n", verb, why);
  return 1;
}

void print_limit(const Limit& l) {
  fmt::print("Key: {}\nType: {}\n", l.key, l.type);
  if (l.type == "configmap") fmt::print("ConfigMap Name: {}\n", l.cm_name);
  fmt::print("Namespace: {}\nLimit: {}\n", l.namespace_, l.limit);
}

// Argo's checks of the flags, before anything is read or written.
std::string check_flags(SyncArgs& a, bool needs_limit) {
  std::transform(a.type.begin(), a.type.end(), a.type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (a.type != "database" && a.type != "configmap") return "--type must be either 'database' or 'configmap'";
  if (a.type == "configmap" && a.cm_name.empty()) return "--cm-name is required when type is configmap";
  if (needs_limit && a.limit <= 0) return "limit must be greater than zero";
  return "";
}

std::string not_found_in(const SyncArgs& a) {
  return "Database sync limit not found in namespace \"" + a.namespace_ + "\".";
}

// The stored limit KEY names, or an error saying why there is none.
Result<Limit> read_limit(const SyncArgs& a) {
  auto home = TRY(open_home());
  auto store = TRY(open_reader(home));
  Limit l{a.key, a.cm_name, a.namespace_, a.type, 0};
  if (a.type == "database") {
    auto row = TRY(store->get_object(engine::kSyncLimitKind, a.namespace_, a.key));
    if (!row) return not_found(not_found_in(a));
    const Json& n = json_at(row->object, "limit");
    l.limit = n.is_number_integer() ? n.get<int>() : 0;
    return l;
  }
  auto cm = TRY(store->get_object("ConfigMap", a.namespace_, a.cm_name));
  if (!cm) return not_found("configmaps \"" + a.cm_name + "\" not found");
  const Json& data = json_at(cm->object, "data");
  if (!json_at(data, a.key.c_str()).is_string())
    return not_found("key " + a.key + " not found in configmap " + a.namespace_ + "/" + a.cm_name);
  std::string text = data[a.key].get<std::string>();
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0')
    return invalid("invalid limit format for key " + a.key + " in configmap " + a.namespace_ + "/" + a.cm_name);
  l.limit = static_cast<int>(v);
  return l;
}

// Sets (or, without a limit, removes) KEY in the ConfigMap, which is created if missing.
Status set_config_map_key(const SyncArgs& a, std::optional<int> limit, bool refuse_existing) {
  auto home = TRY(open_home());
  std::map<std::string, std::string> data;
  {
    auto store = TRY(open_reader(home));
    auto cm = TRY(store->get_object("ConfigMap", a.namespace_, a.cm_name));
    const Json& d = cm ? json_at(cm->object, "data") : Json();
    for (auto it = d.begin(); d.is_object() && it != d.end(); ++it)
      data[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
  }
  if (refuse_existing && data.count(a.key))
    return Error(ErrorCode::kConflict, "sync limit cannot be created as it already exists");
  if (limit) data[a.key] = std::to_string(*limit);
  else data.erase(a.key);
  TRY(engine_call(home, {{"op", "put_object"},
                         {"kind", "ConfigMap"},
                         {"namespace", a.namespace_},
                         {"name", a.cm_name},
                         {"object", config_map_object(a.namespace_, a.cm_name, data)}}));
  return ok_status();
}

Status write_database_limit(const SyncArgs& a, bool create) {
  auto home = TRY(open_home());
  Json req = {{"op", "put_object"},
              {"kind", engine::kSyncLimitKind},
              {"namespace", a.namespace_},
              {"name", a.key},
              {"object", {{"key", a.key}, {"limit", a.limit}}}};
  if (create) req["create"] = true;
  auto r = engine_call(home, req);
  if (!r.ok() && create && r.error().message.find("already exists") != std::string::npos)
    return Error(ErrorCode::kConflict, "Database sync limit already exists in namespace \"" + a.namespace_ + "\".");
  if (!r.ok()) return r.error();
  return ok_status();
}

// create and update: the same write, except that create refuses a limit that exists and
// update one that does not.
int put(SyncArgs a, bool create) {
  const char* verb = create ? "create" : "update";
  if (auto why = check_flags(a, true); !why.empty()) return fail(verb, why);
  if (!create)
    if (auto l = read_limit(a); !l.ok()) return fail(verb, l.error().message);
  Status st = a.type == "database" ? write_database_limit(a, create) : set_config_map_key(a, a.limit, create);
  if (!st.ok()) return fail(verb, st.error().message);
  fmt::print("Sync limit {}\n", create ? "created" : "updated");
  print_limit({a.key, a.cm_name, a.namespace_, a.type, a.limit});
  return 0;
}

int create(SyncArgs a) { return put(std::move(a), true); }
int update(SyncArgs a) { return put(std::move(a), false); }

int get(SyncArgs a) {
  if (auto why = check_flags(a, false); !why.empty()) return fail("get", why);
  auto l = read_limit(a);
  if (!l.ok()) return fail("get", l.error().message);
  print_limit(*l);
  return 0;
}

int remove(SyncArgs a) {
  if (auto why = check_flags(a, false); !why.empty()) return fail("delete", why);
  if (auto l = read_limit(a); !l.ok()) return fail("delete", l.error().message);
  Status st;
  if (a.type == "database") {
    auto home = open_home();
    if (!home.ok()) return fail("delete", home.error().message);
    auto r = engine_call(*home, {{"op", "delete_object"},
                                 {"kind", engine::kSyncLimitKind},
                                 {"namespace", a.namespace_},
                                 {"name", a.key}});
    if (!r.ok()) st = r.error();
  } else {
    st = set_config_map_key(a, std::nullopt, false);
  }
  if (!st.ok()) return fail("delete", st.error().message);
  fmt::print("Sync limit deleted\n");
  return 0;
}

CommandRegistrar sync_reg("sync", [](CLI::App& root) {
  auto* cmd = root.add_subcommand("sync", "manage sync limits (the sizes of semaphores)");
  cmd->require_subcommand(1);
  struct Sub {
    const char* name;
    const char* about;
    int (*action)(SyncArgs);
    bool limit;
  };
  const Sub subs[] = {{"create", "create a sync limit", create, true},
                      {"get", "show a sync limit", get, false},
                      {"update", "change a sync limit", update, true},
                      {"delete", "delete a sync limit", remove, false}};
  for (const auto& s : subs) {
    auto a = std::make_shared<SyncArgs>();
    auto* sub = cmd->add_subcommand(s.name, s.about);
    sub->add_option("key", a->key, "the limit's key")->required();
    sub->add_option("--type", a->type, "database or configmap")->required();
    sub->add_option("--cm-name", a->cm_name, "the ConfigMap (with --type configmap)");
    if (s.limit) sub->add_option("--limit", a->limit, "the limit")->required();
    sub->add_option("-n,--namespace", a->namespace_, "namespace");
    auto action = s.action;
    sub->callback([a, action] { set_exit_code(action(*a)); });
  }
});

}  // namespace
}  // namespace tether::cli
