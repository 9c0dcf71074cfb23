#include "spec/load.h"

#include <fmt/core.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "base/strings.h"

namespace tether::spec {

namespace {

// ---------------------------------------------------------------------------------------------
// The decoding context: where we are (for messages) and the first error.

class Decoder {
 public:
  explicit Decoder(const DecodeOptions& o) : strict(o.strict) {}

  const bool strict;
  std::optional<Error> error;

  bool failed() const { return error.has_value(); }

  void fail(const SourcePos& pos, std::string message) {
    if (!error) error = invalid(std::move(message), pos);
  }

  // Go: json: cannot unmarshal string into Go struct field WorkflowSpec.spec.parallelism of type int64
  void type_error(const Node& n, std::string_view go_type) {
    std::string where = go_path_.empty() ? "Go value" : fmt::format("Go struct field {}.{}", owner(), join(go_path_, "."));
    fail(n.pos, fmt::format("json: cannot unmarshal {} into {} of type {}", json_kind_name(n), where, go_type));
  }

  void unknown_field(const MapEntry& e) {
    std::string full = path_.empty() ? e.key : path_ + "." + e.key;
    fail(e.key_pos, fmt::format("json: unknown field \"{}\"", full));
  }

  // Entering a struct field / a list element / a map value.
  struct Scope {
    Decoder& d;
    size_t path_len;
    bool pushed_go;
    ~Scope() {
      d.path_.resize(path_len);
      if (pushed_go) d.go_path_.pop_back();
    }
  };
  Scope field(std::string_view key) {
    size_t len = path_.size();
    if (!path_.empty()) path_ += '.';
    path_ += key;
    go_path_.emplace_back(key);
    return Scope{*this, len, true};
  }
  Scope index(size_t i) {
    size_t len = path_.size();
    path_ += fmt::format("[{}]", i);
    return Scope{*this, len, false};
  }

  // The Go struct that owns the field being decoded.
  std::vector<const char*> owners;
  const char* owner() const { return owners.empty() ? "" : owners.back(); }

 private:
  std::string path_;
  std::vector<std::string> go_path_;
};

const char* short_name(const char* go_type) {
  const char* dot = std::strrchr(go_type, '.');
  return dot ? dot + 1 : go_type;
}

// ---------------------------------------------------------------------------------------------
// Go type names for messages.

template <typename T> struct GoType;
#define TETHER_GO_TYPE(T, NAME) \
  template <> struct GoType<T> { static constexpr const char* name = NAME; }
TETHER_GO_TYPE(std::string, "string");
TETHER_GO_TYPE(bool, "bool");
TETHER_GO_TYPE(int32_t, "int32");
TETHER_GO_TYPE(int64_t, "int64");
TETHER_GO_TYPE(Json, "interface {}");
TETHER_GO_TYPE(IntOrString, "intstr.IntOrString");
TETHER_GO_TYPE(StringMap, "map[string]string");
TETHER_GO_TYPE(ObjectMeta, "v1.ObjectMeta");
TETHER_GO_TYPE(ConfigMapKeySelector, "v1.ConfigMapKeySelector");
TETHER_GO_TYPE(LocalObjectReference, "v1.LocalObjectReference");
TETHER_GO_TYPE(ObjectFieldSelector, "v1.ObjectFieldSelector");
TETHER_GO_TYPE(EnvVarSource, "v1.EnvVarSource");
TETHER_GO_TYPE(EnvVar, "v1.EnvVar");
TETHER_GO_TYPE(EnvFromRef, "v1.ConfigMapEnvSource");
TETHER_GO_TYPE(EnvFromSource, "v1.EnvFromSource");
TETHER_GO_TYPE(VolumeMount, "v1.VolumeMount");
TETHER_GO_TYPE(ContainerPort, "v1.ContainerPort");
TETHER_GO_TYPE(Container, "v1.Container");
TETHER_GO_TYPE(UserContainer, "v1alpha1.UserContainer");
TETHER_GO_TYPE(KeyToPath, "v1.KeyToPath");
TETHER_GO_TYPE(Volume, "v1.Volume");
TETHER_GO_TYPE(EmptyDirVolumeSource, "v1.EmptyDirVolumeSource");
TETHER_GO_TYPE(PersistentVolumeClaimVolumeSource, "v1.PersistentVolumeClaimVolumeSource");
TETHER_GO_TYPE(ConfigMapVolumeSource, "v1.ConfigMapVolumeSource");
TETHER_GO_TYPE(SecretVolumeSource, "v1.SecretVolumeSource");
TETHER_GO_TYPE(SuppliedValueFrom, "v1alpha1.SuppliedValueFrom");
TETHER_GO_TYPE(ValueFrom, "v1alpha1.ValueFrom");
TETHER_GO_TYPE(Parameter, "v1alpha1.Parameter");
TETHER_GO_TYPE(TarStrategy, "v1alpha1.TarStrategy");
TETHER_GO_TYPE(ArchiveStrategy, "v1alpha1.ArchiveStrategy");
TETHER_GO_TYPE(RawArtifact, "v1alpha1.RawArtifact");
TETHER_GO_TYPE(ArtifactLocation, "v1alpha1.ArtifactLocation");
TETHER_GO_TYPE(ArtifactGC, "v1alpha1.ArtifactGC");
TETHER_GO_TYPE(Artifact, "v1alpha1.Artifact");
TETHER_GO_TYPE(Inputs, "v1alpha1.Inputs");
TETHER_GO_TYPE(Outputs, "v1alpha1.Outputs");
TETHER_GO_TYPE(Arguments, "v1alpha1.Arguments");
TETHER_GO_TYPE(TemplateRef, "v1alpha1.TemplateRef");
TETHER_GO_TYPE(Sequence, "v1alpha1.Sequence");
TETHER_GO_TYPE(ContinueOn, "v1alpha1.ContinueOn");
TETHER_GO_TYPE(LifecycleHook, "v1alpha1.LifecycleHook");
TETHER_GO_TYPE(LifecycleHooks, "v1alpha1.LifecycleHooks");
TETHER_GO_TYPE(Backoff, "v1alpha1.Backoff");
TETHER_GO_TYPE(RetryStrategy, "v1alpha1.RetryStrategy");
TETHER_GO_TYPE(MemoizeCache, "v1alpha1.Cache");
TETHER_GO_TYPE(Memoize, "v1alpha1.Memoize");
TETHER_GO_TYPE(Mutex, "v1alpha1.Mutex");
TETHER_GO_TYPE(SemaphoreRef, "v1alpha1.SemaphoreRef");
TETHER_GO_TYPE(Synchronization, "v1alpha1.Synchronization");
TETHER_GO_TYPE(Metadata, "v1alpha1.Metadata");
TETHER_GO_TYPE(ExecutorConfig, "v1alpha1.ExecutorConfig");
TETHER_GO_TYPE(WorkflowStep, "v1alpha1.WorkflowStep");
TETHER_GO_TYPE(DagTask, "v1alpha1.DAGTask");
TETHER_GO_TYPE(ContainerTemplate, "v1.Container");
TETHER_GO_TYPE(ScriptTemplate, "v1alpha1.ScriptTemplate");
TETHER_GO_TYPE(DagTemplate, "v1alpha1.DAGTemplate");
TETHER_GO_TYPE(SuspendTemplate, "v1alpha1.SuspendTemplate");
TETHER_GO_TYPE(ManifestFrom, "v1alpha1.ManifestFrom");
TETHER_GO_TYPE(ResourceTemplate, "v1alpha1.ResourceTemplate");
TETHER_GO_TYPE(HttpHeader, "v1alpha1.HTTPHeader");
TETHER_GO_TYPE(HttpTemplate, "v1alpha1.HTTP");
TETHER_GO_TYPE(DataTemplate, "v1alpha1.Data");
TETHER_GO_TYPE(TransformationStep, "v1alpha1.TransformationStep");
TETHER_GO_TYPE(PluginTemplate, "v1alpha1.Plugin");
TETHER_GO_TYPE(ContainerNode, "v1alpha1.ContainerNode");
TETHER_GO_TYPE(ContainerSetRetryStrategy, "v1alpha1.ContainerSetRetryStrategy");
TETHER_GO_TYPE(ContainerSetTemplate, "v1alpha1.ContainerSetTemplate");
TETHER_GO_TYPE(Template, "v1alpha1.Template");
TETHER_GO_TYPE(TTLStrategy, "v1alpha1.TTLStrategy");
TETHER_GO_TYPE(PodGC, "v1alpha1.PodGC");
TETHER_GO_TYPE(ArtifactRepositoryRef, "v1alpha1.ArtifactRepositoryRef");
TETHER_GO_TYPE(WorkflowTemplateRef, "v1alpha1.WorkflowTemplateRef");
TETHER_GO_TYPE(WorkflowSpec, "v1alpha1.WorkflowSpec");
TETHER_GO_TYPE(Workflow, "v1alpha1.Workflow");
TETHER_GO_TYPE(WorkflowTemplate, "v1alpha1.WorkflowTemplate");
TETHER_GO_TYPE(ClusterWorkflowTemplate, "v1alpha1.ClusterWorkflowTemplate");
TETHER_GO_TYPE(StopStrategy, "v1alpha1.StopStrategy");
TETHER_GO_TYPE(CronWorkflowSpec, "v1alpha1.CronWorkflowSpec");
TETHER_GO_TYPE(CronWorkflow, "v1alpha1.CronWorkflow");
TETHER_GO_TYPE(WorkflowEventBinding, "v1alpha1.WorkflowEventBinding");
TETHER_GO_TYPE(EventSubmit, "v1alpha1.Submit");
TETHER_GO_TYPE(ConfigMap, "v1.ConfigMap");
TETHER_GO_TYPE(Secret, "v1.Secret");
#undef TETHER_GO_TYPE

template <typename T> struct GoType<std::optional<T>> : GoType<T> {};
template <typename T> struct GoType<Box<T>> : GoType<T> {};
template <typename T> std::string go_type_name() {
  if constexpr (std::is_same_v<T, std::vector<std::vector<WorkflowStep>>>) return "[]v1alpha1.ParallelSteps";
  else return GoType<T>::name;
}
template <typename T> struct GoType<std::vector<T>> {
  static inline const std::string name = "[]" + go_type_name<T>();
};

// ---------------------------------------------------------------------------------------------
// Scalars and containers.

// Argo converts YAML to JSON without looking at the target type, so a plain `1` or `yes`
// in a string field is a number or a boolean, and an error, exactly as with argo lint.
void dec(Decoder& d, const Node& n, std::string& out) {
  if (n.is_null()) return;
  Json v = n.scalar_value();
  if (!n.is_scalar() || !v.is_string()) return d.type_error(n, "string");
  out = v.get<std::string>();
}

// Argo's AnyString (parameter values, defaults, enums): numbers and booleans become their
// text; other JSON leaves it empty, as its UnmarshalJSON does.
struct AnyString {
  std::optional<std::string>& out;
};
std::string go_format_f(double v) {
  if (v == std::floor(v) && std::fabs(v) < 9.2e18) return std::to_string(static_cast<int64_t>(v));
  return fmt::format("{}", v);
}
void dec_any(const Node& n, std::string& out) {
  Json v = n.scalar_value();
  if (!n.is_scalar()) out.clear();
  else if (v.is_string()) out = v.get<std::string>();
  else if (v.is_boolean()) out = v.get<bool>() ? "true" : "false";
  else if (v.is_number_integer() || v.is_number_unsigned()) out = v.dump();
  else if (v.is_number_float()) out = go_format_f(v.get<double>());
}
void dec(Decoder&, const Node& n, AnyString& a) {
  if (n.is_null()) return;
  a.out.emplace();
  dec_any(n, *a.out);
}
struct AnyStringList {
  std::vector<std::string>& out;
};
void dec(Decoder& d, const Node& n, AnyStringList& a) {
  if (n.is_null()) return;
  if (!n.is_seq()) return d.type_error(n, "[]v1alpha1.AnyString");
  for (const auto& item : n.items) dec_any(item, a.out.emplace_back());
}

void dec(Decoder& d, const Node& n, bool& out) {
  if (n.is_null()) return;
  Json v = n.scalar_value();
  if (!n.is_scalar() || !v.is_boolean()) return d.type_error(n, "bool");
  out = v.get<bool>();
}

template <typename Int>
void dec_int(Decoder& d, const Node& n, Int& out) {
  if (n.is_null()) return;
  Json v = n.scalar_value();
  if (!n.is_scalar()) return d.type_error(n, GoType<Int>::name);
  double f = 0;
  if (v.is_number_integer()) f = static_cast<double>(v.get<int64_t>());
  else if (v.is_number_unsigned()) f = static_cast<double>(v.get<uint64_t>());
  else if (v.is_number_float()) f = v.get<double>();
  else return d.type_error(n, GoType<Int>::name);
  if (f != std::floor(f) || f < static_cast<double>(std::numeric_limits<Int>::min()) ||
      f > static_cast<double>(std::numeric_limits<Int>::max()))
    return d.fail(n.pos, fmt::format("json: cannot unmarshal number {} into Go struct field of type {}", n.scalar,
                                     GoType<Int>::name));
  out = v.is_number_integer() ? static_cast<Int>(v.get<int64_t>()) : static_cast<Int>(f);
}
void dec(Decoder& d, const Node& n, int32_t& out) { dec_int(d, n, out); }
void dec(Decoder& d, const Node& n, int64_t& out) { dec_int(d, n, out); }

void dec(Decoder&, const Node& n, Json& out) { out = to_json(n); }

void dec(Decoder& d, const Node& n, IntOrString& out) {
  out.pos = n.pos;
  if (n.is_null()) return;
  Json v = n.scalar_value();
  if (!n.is_scalar() || v.is_boolean()) return d.type_error(n, "intstr.IntOrString");
  if (v.is_string()) {
    out = IntOrString::of(v.get<std::string>());
  } else {
    int64_t i = 0;
    dec_int(d, n, i);
    out = IntOrString::of(i);
  }
  out.pos = n.pos;
}

void dec(Decoder& d, const Node& n, StringMap& out) {
  if (n.is_null()) return;
  if (!n.is_map()) return d.type_error(n, "map[string]string");
  for (const auto& e : n.entries) {
    auto scope = d.field(e.key);
    dec(d, e.value, out[e.key]);
  }
}

template <typename T> void dec(Decoder& d, const Node& n, std::optional<T>& out);
template <typename T> void dec(Decoder& d, const Node& n, std::vector<T>& out);
template <typename T> void dec(Decoder& d, const Node& n, Box<T>& out);
template <typename T> void dec(Decoder& d, const Node& n, std::map<std::string, T>& out);

template <typename T>
void dec(Decoder& d, const Node& n, std::optional<T>& out) {
  if (n.is_null()) return;
  out.emplace();
  dec(d, n, *out);
}

template <typename T>
void dec(Decoder& d, const Node& n, Box<T>& out) {
  if (n.is_null()) return;
  T value;
  dec(d, n, value);
  out = Box<T>(std::move(value));
}

template <typename T>
void dec(Decoder& d, const Node& n, std::vector<T>& out) {
  if (n.is_null()) return;
  if (!n.is_seq()) return d.type_error(n, go_type_name<std::vector<T>>());
  out.resize(n.items.size());
  for (size_t i = 0; i < n.items.size() && !d.failed(); ++i) {
    auto scope = d.index(i);
    dec(d, n.items[i], out[i]);
  }
}

template <typename T>
void dec(Decoder& d, const Node& n, std::map<std::string, T>& out) {
  if (n.is_null()) return;
  if (!n.is_map()) return d.type_error(n, go_type_name<std::map<std::string, T>>());
  for (const auto& e : n.entries) {
    auto scope = d.field(e.key);
    dec(d, e.value, out[e.key]);
  }
}

// ---------------------------------------------------------------------------------------------
// Structs: a Fields reader takes the keys it knows; whatever is left is an unknown field.

class Fields {
 public:
  template <typename T>
  Fields(Decoder& d, const Node& n, T& out) : d_(d), n_(n) {
    out.pos = n.pos;
    if (n.is_null()) return;
    if (!n.is_map()) {
      d.type_error(n, GoType<T>::name);
      return;
    }
    used_.assign(n.entries.size(), false);
    d_.owners.push_back(short_name(GoType<T>::name));
    owner_pushed_ = true;
    ok_ = true;
  }
  ~Fields() {
    if (owner_pushed_) d_.owners.pop_back();
  }
  Fields(const Fields&) = delete;
  Fields& operator=(const Fields&) = delete;

  explicit operator bool() const { return ok_ && !d_.failed(); }

  // Decodes `key` into out, if present.
  template <typename T>
  const Node* operator()(std::string_view key, T& out) {
    const Node* v = take(key);
    if (v) {
      auto scope = d_.field(key);
      dec(d_, *v, out);
    }
    return v;
  }

  template <typename T>
  const Node* operator()(std::string_view key, T&& out) {
    return (*this)(key, out);
  }

  // Marks `key` as known and returns its value without decoding it.
  const Node* take(std::string_view key) {
    if (!ok_ || d_.failed()) return nullptr;
    for (size_t i = 0; i < n_.entries.size(); ++i)
      if (n_.entries[i].key == key) {
        used_[i] = true;
        return &n_.entries[i].value;
      }
    return nullptr;
  }

  // Reports the first key nobody took (strict mode).
  void done() {
    if (!ok_ || d_.failed() || !d_.strict) return;
    for (size_t i = 0; i < n_.entries.size(); ++i)
      if (!used_[i]) return d_.unknown_field(n_.entries[i]);
  }

  Decoder& decoder() { return d_; }

 private:
  Decoder& d_;
  const Node& n_;
  std::vector<bool> used_;
  bool ok_ = false;
  bool owner_pushed_ = false;
};

void dec(Decoder& d, const Node& n, ObjectMeta& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("name", o.name);
  f("generateName", o.generate_name);
  f("namespace", o.namespace_);
  f("uid", o.uid);
  f("resourceVersion", o.resource_version);
  f("labels", o.labels);
  f("annotations", o.annotations);
  static constexpr const char* kOther[] = {"selfLink", "generation", "creationTimestamp", "deletionTimestamp",
                                           "deletionGracePeriodSeconds", "ownerReferences", "finalizers",
                                           "managedFields"};
  for (const char* key : kOther)
    if (const Node* v = f.take(key)) o.other[key] = to_json(*v);
  f.done();
}

void dec(Decoder& d, const Node& n, ConfigMapKeySelector& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("name", o.name);
  f("key", o.key);
  f("optional", o.optional);
  f.done();
}

void dec(Decoder& d, const Node& n, LocalObjectReference& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("name", o.name);
  f.done();
}

void dec(Decoder& d, const Node& n, ObjectFieldSelector& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("apiVersion", o.api_version);
  f("fieldPath", o.field_path);
  f.done();
}

void dec(Decoder& d, const Node& n, EnvVarSource& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("configMapKeyRef", o.config_map_key_ref);
  f("secretKeyRef", o.secret_key_ref);
  f("fieldRef", o.field_ref);
  f("resourceFieldRef", o.resource_field_ref);
  f.done();
}

void dec(Decoder& d, const Node& n, EnvVar& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("name", o.name);
  f("value", o.value);
  f("valueFrom", o.value_from);
  f.done();
}

void dec(Decoder& d, const Node& n, EnvFromRef& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("name", o.name);
  f("optional", o.optional);
  f.done();
}

void dec(Decoder& d, const Node& n, EnvFromSource& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("prefix", o.prefix);
  f("configMapRef", o.config_map_ref);
  f("secretRef", o.secret_ref);
  f.done();
}

void dec(Decoder& d, const Node& n, VolumeMount& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("name", o.name);
  f("mountPath", o.mount_path);
  f("readOnly", o.read_only);
  f("subPath", o.sub_path);
  f("subPathExpr", o.sub_path_expr);
  f("mountPropagation", o.mount_propagation);
  f("recursiveReadOnly", o.recursive_read_only);
  f.done();
}

void dec(Decoder& d, const Node& n, ContainerPort& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("name", o.name);
  f("containerPort", o.container_port);
  f("hostPort", o.host_port);
  f("protocol", o.protocol);
  f("hostIP", o.host_ip);
  f.done();
}

// The fields of apiv1.Container, shared by every struct that inlines it.
void container_fields(Fields& f, Container& o) {
  f("name", o.name);
  f("image", o.image);
  f("command", o.command);
  f("args", o.args);
  f("workingDir", o.working_dir);
  f("env", o.env);
  f("envFrom", o.env_from);
  f("volumeMounts", o.volume_mounts);
  f("ports", o.ports);
  f("imagePullPolicy", o.image_pull_policy);
  f("stdin", o.stdin);
  f("stdinOnce", o.stdin_once);
  f("tty", o.tty);
  f("terminationMessagePath", o.termination_message_path);
  f("terminationMessagePolicy", o.termination_message_policy);
  f("restartPolicy", o.restart_policy);
  f("resources", o.resources);
  f("securityContext", o.security_context);
  f("lifecycle", o.lifecycle);
  f("livenessProbe", o.liveness_probe);
  f("readinessProbe", o.readiness_probe);
  f("startupProbe", o.startup_probe);
  f("volumeDevices", o.volume_devices);
  f("resizePolicy", o.resize_policy);
  f("restartPolicyRules", o.restart_policy_rules);
}

void dec(Decoder& d, const Node& n, Container& o) {
  Fields f(d, n, o);
  if (!f) return;
  container_fields(f, o);
  f.done();
}

void dec(Decoder& d, const Node& n, ContainerTemplate& o) {
  Fields f(d, n, o);
  if (!f) return;
  container_fields(f, o);
  f.done();
}

void dec(Decoder& d, const Node& n, UserContainer& o) {
  Fields f(d, n, o);
  if (!f) return;
  container_fields(f, o);
  f("mirrorVolumeMounts", o.mirror_volume_mounts);
  f.done();
}

void dec(Decoder& d, const Node& n, ScriptTemplate& o) {
  Fields f(d, n, o);
  if (!f) return;
  container_fields(f, o);
  f("source", o.source);
  f.done();
}

void dec(Decoder& d, const Node& n, ContainerNode& o) {
  Fields f(d, n, o);
  if (!f) return;
  container_fields(f, o);
  f("dependencies", o.dependencies);
  f.done();
}

void dec(Decoder& d, const Node& n, KeyToPath& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("key", o.key);
  f("path", o.path);
  f("mode", o.mode);
  f.done();
}

void dec(Decoder& d, const Node& n, EmptyDirVolumeSource& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("medium", o.medium);
  f("sizeLimit", o.size_limit);
  f.done();
}

void dec(Decoder& d, const Node& n, PersistentVolumeClaimVolumeSource& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("claimName", o.claim_name);
  f("readOnly", o.read_only);
  f.done();
}

void dec(Decoder& d, const Node& n, ConfigMapVolumeSource& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("name", o.name);
  f("items", o.items);
  f("defaultMode", o.default_mode);
  f("optional", o.optional);
  f.done();
}

void dec(Decoder& d, const Node& n, SecretVolumeSource& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("secretName", o.secret_name);
  f("items", o.items);
  f("defaultMode", o.default_mode);
  f("optional", o.optional);
  f.done();
}

// Volume sources Kubernetes knows and tether keeps whole.
constexpr const char* kOtherVolumeSources[] = {
    "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi", "glusterfs", "rbd",
    "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc", "azureFile", "vsphereVolume", "quobyte",
    "azureDisk", "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos", "csi",
    "ephemeral", "image",
};

void dec(Decoder& d, const Node& n, Volume& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("name", o.name);
  f("emptyDir", o.empty_dir);
  f("persistentVolumeClaim", o.persistent_volume_claim);
  f("configMap", o.config_map);
  f("secret", o.secret);
  for (const char* key : kOtherVolumeSources)
    if (const Node* v = f.take(key)) {
      o.other_kind = key;
      o.other = to_json(*v);
    }
  f.done();
}

void dec(Decoder& d, const Node& n, SuppliedValueFrom& o) {
  Fields f(d, n, o);
  if (!f) return;
  f.done();
}

void dec(Decoder& d, const Node& n, ValueFrom& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("path", o.path);
  f("jsonPath", o.json_path);
  f("jqFilter", o.jq_filter);
  f("event", o.event);
  f("parameter", o.parameter);
  f("supplied", o.supplied);
  f("configMapKeyRef", o.config_map_key_ref);
  f("expression", o.expression);
  f("default", AnyString{o.default_value});
  f.done();
}

void dec(Decoder& d, const Node& n, Parameter& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("name", o.name);
  f("value", AnyString{o.value});
  f("default", AnyString{o.default_value});
  f("valueFrom", o.value_from);
  f("globalName", o.global_name);
  f("enum", AnyStringList{o.enum_values});
  f("description", AnyString{o.description});
  f.done();
}

// `none: {}` and `zip: {}`: empty structs whose presence is the value.
void empty_struct(Fields& f, std::string_view key, bool& present) {
  const Node* v = f.take(key);
  if (!v || v->is_null()) return;
  present = true;
  if (!v->is_map()) return f.decoder().type_error(*v, key == "none" ? "v1alpha1.NoneStrategy" : "v1alpha1.ZipStrategy");
  if (!v->entries.empty() && f.decoder().strict) {
    auto scope = f.decoder().field(key);
    f.decoder().unknown_field(v->entries.front());
  }
}

void dec(Decoder& d, const Node& n, TarStrategy& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("compressionLevel", o.compression_level);
  f.done();
}

void dec(Decoder& d, const Node& n, ArchiveStrategy& o) {
  Fields f(d, n, o);
  if (!f) return;
  empty_struct(f, "none", o.none);
  f("tar", o.tar);
  empty_struct(f, "zip", o.zip);
  f.done();
}

void dec(Decoder& d, const Node& n, RawArtifact& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("data", o.data);
  f.done();
}

void location_fields(Fields& f, ArtifactLocation& o) {
  f("archiveLogs", o.archive_logs);
  f("raw", o.raw);
  f("s3", o.s3);
  f("git", o.git);
  f("http", o.http);
  f("artifactory", o.artifactory);
  f("hdfs", o.hdfs);
  f("oss", o.oss);
  f("gcs", o.gcs);
  f("azure", o.azure);
  f("plugin", o.plugin);
}

void dec(Decoder& d, const Node& n, ArtifactLocation& o) {
  Fields f(d, n, o);
  if (!f) return;
  location_fields(f, o);
  f.done();
}

void dec(Decoder& d, const Node& n, ArtifactGC& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("strategy", o.strategy);
  f("podMetadata", o.pod_metadata);
  f("serviceAccountName", o.service_account_name);
  f.done();
}

void dec(Decoder& d, const Node& n, Artifact& o) {
  Fields f(d, n, o);
  if (!f) return;
  o.location.pos = n.pos;
  f("name", o.name);
  f("path", o.path);
  f("mode", o.mode);
  f("from", o.from);
  f("fromExpression", o.from_expression);
  location_fields(f, o.location);
  f("globalName", o.global_name);
  f("archive", o.archive);
  f("optional", o.optional);
  f("subPath", o.sub_path);
  f("recurseMode", o.recurse_mode);
  f("artifactGC", o.artifact_gc);
  f("deleted", o.deleted);
  f.done();
}

template <typename T>
void params_and_artifacts(Fields& f, T& o) {
  f("parameters", o.parameters);
  f("artifacts", o.artifacts);
}

void dec(Decoder& d, const Node& n, Inputs& o) {
  Fields f(d, n, o);
  if (!f) return;
  params_and_artifacts(f, o);
  f.done();
}

void dec(Decoder& d, const Node& n, Outputs& o) {
  Fields f(d, n, o);
  if (!f) return;
  params_and_artifacts(f, o);
  f("result", o.result);
  f("exitCode", o.exit_code);
  f.done();
}

void dec(Decoder& d, const Node& n, Arguments& o) {
  Fields f(d, n, o);
  if (!f) return;
  params_and_artifacts(f, o);
  f.done();
}

void dec(Decoder& d, const Node& n, TemplateRef& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("name", o.name);
  f("template", o.template_name);
  f("clusterScope", o.cluster_scope);
  f.done();
}

void dec(Decoder& d, const Node& n, Sequence& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("count", o.count);
  f("start", o.start);
  f("end", o.end);
  f("format", o.format);
  f.done();
}

void dec(Decoder& d, const Node& n, ContinueOn& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("error", o.error);
  f("failed", o.failed);
  f.done();
}

void dec(Decoder& d, const Node& n, LifecycleHook& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("template", o.template_name);
  f("templateRef", o.template_ref);
  f("arguments", o.arguments);
  f("expression", o.expression);
  f.done();
}

void dec(Decoder& d, const Node& n, Backoff& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("duration", o.duration);
  f("factor", o.factor);
  f("maxDuration", o.max_duration);
  f("cap", o.cap);
  f.done();
}

void dec(Decoder& d, const Node& n, RetryStrategy& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("limit", o.limit);
  f("retryPolicy", o.retry_policy);
  f("backoff", o.backoff);
  f("affinity", o.affinity);
  f("expression", o.expression);
  f.done();
}

void dec(Decoder& d, const Node& n, MemoizeCache& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("configMap", o.config_map);
  f.done();
}

void dec(Decoder& d, const Node& n, Memoize& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("key", o.key);
  f("cache", o.cache);
  f("maxAge", o.max_age);
  f.done();
}

void dec(Decoder& d, const Node& n, Mutex& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("name", o.name);
  f("namespace", o.namespace_);
  f("database", o.database);
  f.done();
}

void dec(Decoder& d, const Node& n, SemaphoreRef& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("configMapKeyRef", o.config_map_key_ref);
  f("namespace", o.namespace_);
  if (const Node* db = f.take("database")) {
    auto scope = d.field("database");
    if (db->is_map()) {
      Fields g(d, *db, o);  // SyncDatabaseRef{key}
      std::string key;
      g("key", key);
      g.done();
      o.database_key = key;
    } else if (!db->is_null()) {
      d.type_error(*db, "v1alpha1.SyncDatabaseRef");
    }
    o.pos = n.pos;
  }
  f.done();
}

void dec(Decoder& d, const Node& n, Synchronization& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("mutexes", o.mutexes);
  f("semaphores", o.semaphores);
  f.done();
}

void dec(Decoder& d, const Node& n, Metadata& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("annotations", o.annotations);
  f("labels", o.labels);
  f.done();
}

void dec(Decoder& d, const Node& n, ExecutorConfig& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("serviceAccountName", o.service_account_name);
  f.done();
}

// The parts WorkflowStep and DAGTask share.
template <typename S>
void call_fields(Fields& f, S& o) {
  f("name", o.name);
  f("template", o.template_name);
  f("inline", o.inline_template);
  f("arguments", o.arguments);
  f("templateRef", o.template_ref);
  if (const Node* items = f.take("withItems")) {
    if (items->is_seq()) o.with_items = to_json(*items);
    else if (!items->is_null()) {
      auto scope = f.decoder().field("withItems");
      f.decoder().type_error(*items, "[]v1alpha1.Item");
    }
  }
  f("withParam", o.with_param);
  f("withSequence", o.with_sequence);
  f("when", o.when);
  f("continueOn", o.continue_on);
  f("onExit", o.on_exit);
  f("hooks", o.hooks);
}

void dec(Decoder& d, const Node& n, WorkflowStep& o) {
  Fields f(d, n, o);
  if (!f) return;
  call_fields(f, o);
  f.done();
}

void dec(Decoder& d, const Node& n, DagTask& o) {
  Fields f(d, n, o);
  if (!f) return;
  call_fields(f, o);
  f("dependencies", o.dependencies);
  f("depends", o.depends);
  f.done();
}

void dec(Decoder& d, const Node& n, StepsTemplate& o) {
  o.pos = n.pos;
  if (n.is_null()) return;
  if (!n.is_seq()) return d.type_error(n, "[]v1alpha1.ParallelSteps");
  for (size_t i = 0; i < n.items.size() && !d.failed(); ++i) {
    auto scope = d.index(i);
    const Node& group = n.items[i];
    o.group_pos.push_back(group.pos);
    o.steps.emplace_back();
    if (group.is_null()) continue;
    if (!group.is_seq()) return d.type_error(group, "[]v1alpha1.WorkflowStep");
    dec(d, group, o.steps.back());
  }
}

void dec(Decoder& d, const Node& n, DagTemplate& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("target", o.target);
  f("tasks", o.tasks);
  f("failFast", o.fail_fast);
  f.done();
}

void dec(Decoder& d, const Node& n, SuspendTemplate& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("duration", o.duration);
  f.done();
}

void dec(Decoder& d, const Node& n, ManifestFrom& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("artifact", o.artifact);
  f.done();
}

void dec(Decoder& d, const Node& n, ResourceTemplate& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("action", o.action);
  f("mergeStrategy", o.merge_strategy);
  f("manifest", o.manifest);
  f("manifestFrom", o.manifest_from);
  f("setOwnerReference", o.set_owner_reference);
  f("successCondition", o.success_condition);
  f("failureCondition", o.failure_condition);
  f("flags", o.flags);
  f.done();
}

void dec(Decoder& d, const Node& n, HttpHeader& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("name", o.name);
  f("value", o.value);
  if (const Node* from = f.take("valueFrom")) {
    auto scope = d.field("valueFrom");
    HttpHeader inner;  // HTTPHeaderSource{secretKeyRef}
    Fields g(d, *from, inner);
    if (g) {
      g("secretKeyRef", o.secret_key_ref);
      g.done();
    }
  }
  f.done();
}

void dec(Decoder& d, const Node& n, HttpTemplate& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("method", o.method);
  f("url", o.url);
  f("headers", o.headers);
  f("timeoutSeconds", o.timeout_seconds);
  f("successCondition", o.success_condition);
  f("body", o.body);
  f("insecureSkipVerify", o.insecure_skip_verify);
  if (const Node* from = f.take("bodyFrom")) {
    auto scope = d.field("bodyFrom");
    HttpTemplate inner;  // HTTPBodySource{bytes}
    Fields g(d, *from, inner);
    std::optional<std::string> bytes;
    if (g) {
      g("bytes", bytes);
      g.done();
    }
    if (bytes && !d.failed()) {
      auto decoded = base64_decode(*bytes);
      if (!decoded.ok()) d.fail(from->pos, "json: bodyFrom.bytes: " + decoded.error().message);
      else o.body_from_bytes = std::move(decoded).value();
    }
  }
  f.done();
}

void dec(Decoder& d, const Node& n, DataTemplate& o) {
  Fields f(d, n, o);
  if (!f) return;
  if (const Node* source = f.take("source")) {
    auto scope = d.field("source");
    o.source_pos = source->pos;
    DataTemplate inner;  // DataSource{artifactPaths}
    Fields g(d, *source, inner);
    if (g) {
      g("artifactPaths", o.artifact_paths);
      g.done();
    }
  }
  if (const Node* steps = f.take("transformation")) {
    auto scope = d.field("transformation");
    if (steps->is_seq()) {
      for (size_t i = 0; i < steps->items.size() && !d.failed(); ++i) {
        auto item_scope = d.index(i);
        TransformationStep step;
        Fields g(d, steps->items[i], step);
        if (g) {
          g("expression", step.expression);
          g.done();
        }
        o.transformation.push_back(std::move(step));
      }
    } else if (!steps->is_null()) {
      d.type_error(*steps, "v1alpha1.Transformation");
    }
  }
  f.done();
}

void dec(Decoder& d, const Node& n, PluginTemplate& o) {
  o.pos = n.pos;
  if (n.is_null()) return;
  if (!n.is_map()) return d.type_error(n, "v1alpha1.Plugin");
  o.config = to_json(n);
}

void dec(Decoder& d, const Node& n, ContainerSetRetryStrategy& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("duration", o.duration);
  f("retries", o.retries);
  f.done();
}

void dec(Decoder& d, const Node& n, ContainerSetTemplate& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("containers", o.containers);
  f("volumeMounts", o.volume_mounts);
  f("retryStrategy", o.retry_strategy);
  f.done();
}

// One entry per template kind: its key and how to decode it into the body.
struct KindDecoder {
  const char* key;
  void (*decode)(Decoder&, const Node&, TemplateBody&);
};
template <typename K>
void decode_kind(Decoder& d, const Node& n, TemplateBody& body) {
  body.emplace<K>();
  dec(d, n, std::get<K>(body));
}
// Argo's order, which its "choose one of" message lists.
constexpr KindDecoder kKinds[] = {
    {"container", decode_kind<ContainerTemplate>}, {"containerSet", decode_kind<ContainerSetTemplate>},
    {"steps", decode_kind<StepsTemplate>},         {"script", decode_kind<ScriptTemplate>},
    {"resource", decode_kind<ResourceTemplate>},   {"dag", decode_kind<DagTemplate>},
    {"suspend", decode_kind<SuspendTemplate>},     {"data", decode_kind<DataTemplate>},
    {"http", decode_kind<HttpTemplate>},           {"plugin", decode_kind<PluginTemplate>},
};

void dec(Decoder& d, const Node& n, Template& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("name", o.name);
  const Node* kind_node = nullptr;
  for (const auto& k : kKinds) {
    const Node* v = f.take(k.key);
    if (!v || v->is_null()) continue;
    if (kind_node) {
      d.fail(v->pos, fmt::format("templates.{} multiple template types specified. choose one of: container, "
                                    "containerSet, steps, script, resource, dag, suspend, template, template ref",
                                    o.name));
      return;
    }
    kind_node = v;
    auto scope = d.field(k.key);
    k.decode(d, *v, o.body);
  }
  f("inputs", o.inputs);
  f("outputs", o.outputs);
  f("nodeSelector", o.node_selector);
  f("affinity", o.affinity);
  f("metadata", o.metadata);
  f("daemon", o.daemon);
  f("volumes", o.volumes);
  f("initContainers", o.init_containers);
  f("sidecars", o.sidecars);
  f("archiveLocation", o.archive_location);
  f("activeDeadlineSeconds", o.active_deadline_seconds);
  f("retryStrategy", o.retry_strategy);
  f("parallelism", o.parallelism);
  f("failFast", o.fail_fast);
  f("tolerations", o.tolerations);
  f("schedulerName", o.scheduler_name);
  f("priorityClassName", o.priority_class_name);
  f("serviceAccountName", o.service_account_name);
  f("automountServiceAccountToken", o.automount_service_account_token);
  f("executor", o.executor);
  f("hostAliases", o.host_aliases);
  f("securityContext", o.security_context);
  f("podSpecPatch", o.pod_spec_patch);
  f("metrics", o.metrics);
  f("synchronization", o.synchronization);
  f("memoize", o.memoize);
  f("timeout", o.timeout);
  f("annotations", o.annotations);
  f("pendingTimeout", o.pending_timeout);
  f("podResources", o.pod_resources);
  f("resourceClaims", o.resource_claims);
  f.done();
}

void dec(Decoder& d, const Node& n, TTLStrategy& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("secondsAfterCompletion", o.seconds_after_completion);
  f("secondsAfterSuccess", o.seconds_after_success);
  f("secondsAfterFailure", o.seconds_after_failure);
  f.done();
}

void dec(Decoder& d, const Node& n, PodGC& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("strategy", o.strategy);
  f("labelSelector", o.label_selector);
  f("deleteDelayDuration", o.delete_delay_duration);
  f.done();
}

void dec(Decoder& d, const Node& n, ArtifactRepositoryRef& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("configMap", o.config_map);
  f("key", o.key);
  f.done();
}

void dec(Decoder& d, const Node& n, WorkflowTemplateRef& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("name", o.name);
  f("clusterScope", o.cluster_scope);
  f.done();
}

void dec(Decoder& d, const Node& n, WorkflowSpec& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("templates", o.templates);
  f("entrypoint", o.entrypoint);
  f("arguments", o.arguments);
  f("serviceAccountName", o.service_account_name);
  f("automountServiceAccountToken", o.automount_service_account_token);
  f("executor", o.executor);
  f("volumes", o.volumes);
  f("volumeClaimTemplates", o.volume_claim_templates);
  f("parallelism", o.parallelism);
  f("artifactRepositoryRef", o.artifact_repository_ref);
  f("suspend", o.suspend);
  f("nodeSelector", o.node_selector);
  f("affinity", o.affinity);
  f("tolerations", o.tolerations);
  f("imagePullSecrets", o.image_pull_secrets);
  f("hostNetwork", o.host_network);
  f("dnsPolicy", o.dns_policy);
  f("dnsConfig", o.dns_config);
  f("onExit", o.on_exit);
  f("ttlStrategy", o.ttl_strategy);
  f("activeDeadlineSeconds", o.active_deadline_seconds);
  f("priority", o.priority);
  f("schedulerName", o.scheduler_name);
  f("podGC", o.pod_gc);
  f("podPriorityClassName", o.pod_priority_class_name);
  f("hostAliases", o.host_aliases);
  f("securityContext", o.security_context);
  f("podSpecPatch", o.pod_spec_patch);
  f("podDisruptionBudget", o.pod_disruption_budget);
  f("metrics", o.metrics);
  f("shutdown", o.shutdown);
  f("workflowTemplateRef", o.workflow_template_ref);
  f("synchronization", o.synchronization);
  f("volumeClaimGC", o.volume_claim_gc);
  f("retryStrategy", o.retry_strategy);
  f("podMetadata", o.pod_metadata);
  f("templateDefaults", o.template_defaults);
  f("archiveLogs", o.archive_logs);
  f("hooks", o.hooks);
  f("workflowMetadata", o.workflow_metadata);
  f("artifactGC", o.artifact_gc);
  f("executorPlugins", o.executor_plugins);
  f("podResources", o.pod_resources);
  f("resourceClaims", o.resource_claims);
  f.done();
}

// apiVersion and kind are checked by decode_document; the typed objects take them as known.
void type_meta(Fields& f) {
  f.take("apiVersion");
  f.take("kind");
}

void dec(Decoder& d, const Node& n, Workflow& o) {
  Fields f(d, n, o);
  if (!f) return;
  type_meta(f);
  f("metadata", o.metadata);
  f("spec", o.spec);
  f("status", o.status);
  f.done();
}

void dec(Decoder& d, const Node& n, WorkflowTemplate& o) {
  Fields f(d, n, o);
  if (!f) return;
  type_meta(f);
  f("metadata", o.metadata);
  f("spec", o.spec);
  f.done();
}

void dec(Decoder& d, const Node& n, ClusterWorkflowTemplate& o) {
  Fields f(d, n, o);
  if (!f) return;
  type_meta(f);
  f("metadata", o.metadata);
  f("spec", o.spec);
  f.done();
}

void dec(Decoder& d, const Node& n, StopStrategy& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("expression", o.expression);
  f.done();
}

void dec(Decoder& d, const Node& n, CronWorkflowSpec& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("workflowSpec", o.workflow_spec);
  f("schedule", o.schedule);
  f("schedules", o.schedules);
  f("concurrencyPolicy", o.concurrency_policy);
  f("suspend", o.suspend);
  f("startingDeadlineSeconds", o.starting_deadline_seconds);
  f("successfulJobsHistoryLimit", o.successful_jobs_history_limit);
  f("failedJobsHistoryLimit", o.failed_jobs_history_limit);
  f("timezone", o.timezone);
  f("workflowMetadata", o.workflow_metadata);
  f("stopStrategy", o.stop_strategy);
  f("when", o.when);
  f.done();
}

void dec(Decoder& d, const Node& n, CronWorkflow& o) {
  Fields f(d, n, o);
  if (!f) return;
  type_meta(f);
  f("metadata", o.metadata);
  f("spec", o.spec);
  f("status", o.status);
  f.done();
}

void dec(Decoder& d, const Node& n, EventSubmit& o) {
  Fields f(d, n, o);
  if (!f) return;
  f("workflowTemplateRef", o.workflow_template_ref);
  f("metadata", o.metadata);
  f("arguments", o.arguments);
  f.done();
}

void dec(Decoder& d, const Node& n, WorkflowEventBinding& o) {
  Fields f(d, n, o);
  if (!f) return;
  type_meta(f);
  f("metadata", o.metadata);
  if (const Node* spec = f.take("spec")) {
    auto scope = d.field("spec");
    EventSubmit spec_pos;  // WorkflowEventBindingSpec{event, submit}
    Fields g(d, *spec, spec_pos);
    if (g) {
      if (const Node* event = g.take("event")) {
        auto event_scope = d.field("event");
        EventSubmit event_pos;  // Event{selector}
        Fields h(d, *event, event_pos);
        if (h) {
          h("selector", o.event_selector);
          h.done();
        }
      }
      g("submit", o.submit);
      g.done();
    }
  }
  f.done();
}

// Go decodes []byte values from base64; a map of them is a map of decoded bytes.
void decode_bytes_map(Fields& f, std::string_view key, StringMap& out) {
  Decoder& d = f.decoder();
  StringMap encoded;
  const Node* v = f(key, encoded);
  if (!v || d.failed()) return;
  for (auto& [k, text] : encoded) {
    auto bytes = base64_decode(text);
    if (!bytes.ok()) {
      const Node* at = v->get(k);
      return d.fail(at ? at->pos : v->pos, fmt::format("illegal base64 data in {}.{}: {}", key, k, bytes.error().message));
    }
    out[k] = std::move(bytes).value();
  }
}

void dec(Decoder& d, const Node& n, ConfigMap& o) {
  Fields f(d, n, o);
  if (!f) return;
  type_meta(f);
  f("metadata", o.metadata);
  f("data", o.data);
  decode_bytes_map(f, "binaryData", o.binary_data);
  f("immutable", o.immutable);
  f.done();
}

void dec(Decoder& d, const Node& n, Secret& o) {
  Fields f(d, n, o);
  if (!f) return;
  type_meta(f);
  f("metadata", o.metadata);
  decode_bytes_map(f, "data", o.data);
  StringMap string_data;
  f("stringData", string_data);
  for (auto& [k, v] : string_data) o.data[k] = v;
  f("type", o.type);
  f("immutable", o.immutable);
  f.done();
}

// ---------------------------------------------------------------------------------------------
// Documents.

template <typename T>
Result<T> run_decoder(const Node& node, const DecodeOptions& options) {
  Decoder d(options);
  T out;
  dec(d, node, out);
  if (d.error) return std::move(*d.error);
  return out;
}

template <typename T>
Status decode_into(const Node& node, const DecodeOptions& options, Document& doc) {
  auto r = run_decoder<T>(node, options);
  if (!r.ok()) return r.take_error();
  doc.object = std::move(r).value();
  return ok_status();
}

struct KindEntry {
  const char* kind;
  const char* api_group;  // apiVersion without the version
  Status (*decode)(const Node&, const DecodeOptions&, Document&);
};
constexpr KindEntry kDocumentKinds[] = {
    {"Workflow", "argoproj.io", decode_into<Workflow>},
    {"WorkflowTemplate", "argoproj.io", decode_into<WorkflowTemplate>},
    {"ClusterWorkflowTemplate", "argoproj.io", decode_into<ClusterWorkflowTemplate>},
    {"CronWorkflow", "argoproj.io", decode_into<CronWorkflow>},
    {"WorkflowEventBinding", "argoproj.io", decode_into<WorkflowEventBinding>},
    {"ConfigMap", "", decode_into<ConfigMap>},
    {"Secret", "", decode_into<Secret>},
};

std::string scalar_text(const Node* n) {
  if (!n || !n->is_scalar()) return "";
  Json v = n->scalar_value();
  return v.is_string() ? v.get<std::string>() : n->scalar;
}

}  // namespace

const char* json_kind_name(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kNull: return "null";
    case Node::Kind::kSequence: return "array";
    case Node::Kind::kMap: return "object";
    case Node::Kind::kScalar: break;
  }
  Json v = n.scalar_value();
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  if (v.is_null()) return "null";
  return "number";
}

Result<std::string> base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string clean;
  for (char c : text)
    if (c != '\n' && c != '\r') clean += c;
  if (clean.size() % 4 != 0) return invalid("illegal base64 data: length is not a multiple of 4");
  std::string out;
  for (size_t i = 0; i < clean.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = clean[i + k];
      if (c == '=' && i + 4 == clean.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      v[k] = value(c);
      if (v[k] < 0 || pad > 0) return invalid(fmt::format("illegal base64 data at input byte {}", i + k));
    }
    uint32_t bits = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>((bits >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((bits >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(bits & 0xff);
  }
  return out;
}

Result<Document> decode_document(const Node& node, const DecodeOptions& options) {
  Document doc;
  doc.pos = node.pos;
  if (!node.is_map())
    return invalid(
        fmt::format("json: cannot unmarshal {} into Go value of type map[string]interface {{}}", json_kind_name(node)),
        node.pos);
  doc.raw = to_json(node);
  doc.api_version = scalar_text(node.get("apiVersion"));
  doc.kind = scalar_text(node.get("kind"));
  // JSON or YAML that is not a Kubernetes object at all (a dashboard next to the workflows)
  // is skipped, as argo lint skips it; a half-written object is an error.
  if (doc.kind.empty() && doc.api_version.empty() && !node.get("metadata") && !node.get("spec")) return doc;
  if (doc.kind.empty()) return invalid("Object 'Kind' is missing", node.pos);
  if (doc.api_version.empty()) return invalid(fmt::format("Object 'apiVersion' is missing in {} document", doc.kind), node.pos);
  for (const auto& k : kDocumentKinds) {
    if (doc.kind != k.kind) continue;
    std::string_view group = doc.api_version;
    size_t slash = group.rfind('/');
    group = slash == std::string_view::npos ? std::string_view() : group.substr(0, slash);
    if (group != k.api_group) break;  // same kind name, another API group: not ours
    TRY_STATUS(k.decode(node, options, doc));
    return doc;
  }
  return doc;  // a kind tether does not run: skipped
}

Result<std::vector<Document>> load_documents(std::string_view text, const std::string& path,
                                             const DecodeOptions& options) {
  ParseOptions parse_options;
  parse_options.allow_duplicate_keys = !options.strict;
  auto nodes = TRY(parse_yaml(text, path, parse_options));
  std::vector<Document> docs;
  docs.reserve(nodes.size());
  for (const auto& n : nodes) docs.push_back(TRY(decode_document(n, options)));
  return docs;
}

template <typename T>
Result<T> decode(const Node& node, const DecodeOptions& options) {
  return run_decoder<T>(node, options);
}

template Result<Template> decode<Template>(const Node&, const DecodeOptions&);
template Result<WorkflowSpec> decode<WorkflowSpec>(const Node&, const DecodeOptions&);
template Result<Workflow> decode<Workflow>(const Node&, const DecodeOptions&);
template Result<WorkflowTemplate> decode<WorkflowTemplate>(const Node&, const DecodeOptions&);
template Result<CronWorkflow> decode<CronWorkflow>(const Node&, const DecodeOptions&);
template Result<Arguments> decode<Arguments>(const Node&, const DecodeOptions&);
template Result<Inputs> decode<Inputs>(const Node&, const DecodeOptions&);
template Result<Outputs> decode<Outputs>(const Node&, const DecodeOptions&);
template Result<Parameter> decode<Parameter>(const Node&, const DecodeOptions&);
template Result<Artifact> decode<Artifact>(const Node&, const DecodeOptions&);
template Result<WorkflowStep> decode<WorkflowStep>(const Node&, const DecodeOptions&);
template Result<DagTask> decode<DagTask>(const Node&, const DecodeOptions&);
template Result<RetryStrategy> decode<RetryStrategy>(const Node&, const DecodeOptions&);
template Result<Container> decode<Container>(const Node&, const DecodeOptions&);
template Result<ObjectMeta> decode<ObjectMeta>(const Node&, const DecodeOptions&);
template Result<ConfigMap> decode<ConfigMap>(const Node&, const DecodeOptions&);
template Result<Secret> decode<Secret>(const Node&, const DecodeOptions&);

}  // namespace tether::spec
