// `tether secret` and `tether configmap`: the Secrets and ConfigMaps steps read through
// env/envFrom/volumes, kubectl-style. Writes go through the engine (the store's writer);
// reads open the store read-only. A secret's values are never printed: get shows its keys.
#include <fmt/core.h>

#include "cli/command.h"
#include "cli/home.h"
#include "cli/runs.h"
#include "cli/stored_objects.h"

namespace tether::cli {
namespace {

struct ObjectArgs {
  std::string name;
  std::string namespace_ = "default";
  std::vector<std::string> literals;
  std::vector<std::string> env_files;
  std::string output;
};

int fail(const Error& e) { return fmt::print(stderr, "Error: {}\n", e.message), 1; }

Result<std::map<std::string, std::string>> collect_data(const ObjectArgs& a) {
  std::map<std::string, std::string> data;
  for (const auto& f : a.env_files) {
    auto kv = TRY(read_env_file(f));
    for (auto& [k, v] : kv) data[k] = v;
  }
  for (const auto& l : a.literals) {
    auto kv = TRY(parse_literal(l));
    data[kv.first] = kv.second;
  }
  return data;
}

// What differs between the two kinds: how one is written, read and named.
struct Kind {
  const char* verb;     // secret | configmap
  const char* display;  // Secret | ConfigMap
  bool secret;
};

int create(const Kind& k, const ObjectArgs& a) {
  auto home = open_home();
  if (!home.ok()) return fail(home.error());
  auto data = collect_data(a);
  if (!data.ok()) return fail(data.error());
  Json req = k.secret ? Json{{"op", "put_secret"}, {"namespace", a.namespace_}, {"name", a.name}, {"data", *data}}
                      : Json{{"op", "put_object"}, {"kind", "ConfigMap"}, {"namespace", a.namespace_}, {"name", a.name},
                             {"object", config_map_object(a.namespace_, a.name, *data)}};
  auto r = engine_call(*home, req);
  if (!r.ok()) return fail(r.error());
  fmt::print("{}/{} created\n", k.verb, a.name);
  return 0;
}

int remove(const Kind& k, const ObjectArgs& a) {
  auto home = open_home();
  if (!home.ok()) return fail(home.error());
  Json req = k.secret ? Json{{"op", "delete_secret"}, {"namespace", a.namespace_}, {"name", a.name}}
                      : Json{{"op", "delete_object"}, {"kind", "ConfigMap"}, {"namespace", a.namespace_}, {"name", a.name}};
  auto r = engine_call(*home, req);
  if (!r.ok()) return fail(r.error());
  fmt::print("{} \"{}\" deleted\n", k.verb, a.name);
  return 0;
}

// The keys (and for a ConfigMap the values) of one object, or nullopt if it does not exist.
Result<std::optional<std::map<std::string, std::string>>> read_data(engine::Store& store, const Kind& k,
                                                                    const std::string& ns, const std::string& name) {
  if (k.secret) {
    auto s = TRY(store.get_secret(ns, name));
    if (!s) return std::optional<std::map<std::string, std::string>>();
    std::map<std::string, std::string> keys;
    for (const auto& [key, value] : *s) keys[key] = "";  // the value stays in the store
    return std::optional<std::map<std::string, std::string>>(keys);
  }
  auto o = TRY(store.get_object("ConfigMap", ns, name));
  if (!o) return std::optional<std::map<std::string, std::string>>();
  std::map<std::string, std::string> data;
  const Json& d = o->object.contains("data") ? o->object["data"] : Json::object();
  for (auto it = d.begin(); it != d.end(); ++it) data[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
  return std::optional<std::map<std::string, std::string>>(data);
}

int get(const Kind& k, const ObjectArgs& a) {
  auto home = open_home();
  if (!home.ok()) return fail(home.error());
  auto store = open_reader(*home);
  if (!store.ok()) return fail(store.error());
  auto data = read_data(**store, k, a.namespace_, a.name);
  if (!data.ok()) return fail(data.error());
  if (!*data) return fmt::print(stderr, "Error: {} \"{}\" not found\n", k.verb, a.name), 1;
  Json meta = {{"name", a.name}, {"namespace", a.namespace_}};
  if (a.output == "json") {
    Json out = {{"apiVersion", "v1"}, {"kind", k.display}, {"metadata", meta}};
    if (k.secret) {
      Json keys = Json::array();
      for (const auto& [key, v] : **data) keys.push_back(key);
      out["keys"] = keys;
    } else {
      out["data"] = **data;
    }
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  fmt::print("Name:       {}\nNamespace:  {}\n\nData\n====\n", a.name, a.namespace_);
  for (const auto& [key, v] : **data) {
    if (k.secret) fmt::print("{}\n", key);
    else fmt::print("{}:\n----\n{}\n\n", key, v);
  }
  return 0;
}

int list(const Kind& k, const ObjectArgs& a) {
  auto home = open_home();
  if (!home.ok()) return fail(home.error());
  auto store = open_reader(*home);
  if (!store.ok()) return fail(store.error());
  std::vector<std::string> names;
  if (k.secret) {
    auto r = (*store)->list_secrets(a.namespace_);
    if (!r.ok()) return fail(r.error());
    names = *r;
  } else {
    auto r = (*store)->list_objects("ConfigMap", a.namespace_);
    if (!r.ok()) return fail(r.error());
    for (const auto& o : *r) names.push_back(o.name);
  }
  fmt::print("{:<40} {}\n", "NAME", "DATA");
  for (const auto& n : names) {
    auto data = read_data(**store, k, a.namespace_, n);
    size_t count = data.ok() && *data ? (*data)->size() : 0;
    fmt::print("{:<40} {}\n", n, count);
  }
  return 0;
}

void setup(CLI::App& root, const Kind& k, const char* about) {
  auto* cmd = root.add_subcommand(k.verb, about);
  cmd->require_subcommand(1);
  using Action = int (*)(const Kind&, const ObjectArgs&);
  struct Sub {
    const char* name;
    const char* about;
    Action action;
    bool named;
  };
  const Sub subs[] = {{"create", "create or replace one", create, true},
                      {"get", "show one", get, true},
                      {"list", "list them", list, false},
                      {"delete", "delete one", remove, true}};
  for (const auto& s : subs) {
    auto a = std::make_shared<ObjectArgs>();
    auto* sub = cmd->add_subcommand(s.name, s.about);
    if (s.named) sub->add_option("name", a->name, "name")->required();
    sub->add_option("-n,--namespace", a->namespace_, "namespace");
    if (std::string(s.name) == "create") {
      sub->add_option("--from-literal", a->literals, "key=value (repeatable)");
      sub->add_option("--from-env-file", a->env_files, "a file of KEY=VALUE lines");
    }
    if (std::string(s.name) == "get") sub->add_option("-o,--output", a->output, "json");
    Action act = s.action;
    sub->callback([act, k, a] { set_exit_code(act(k, *a)); });
  }
  if (std::string(k.verb) == "configmap") cmd->alias("cm");
}

CommandRegistrar secret_reg("secret", [](CLI::App& root) {
  setup(root, Kind{"secret", "Secret", true}, "manage Secrets (values are never shown)");
});
CommandRegistrar configmap_reg("configmap", [](CLI::App& root) {
  setup(root, Kind{"configmap", "ConfigMap", false}, "manage ConfigMaps");
});

}  // namespace
}  // namespace tether::cli
