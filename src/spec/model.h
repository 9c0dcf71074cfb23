// The typed Argo Workflows model (argoproj.io/v1alpha1, as of Argo v4.1).
//
// This header is a contract: the engine and the planner read workflows only through these
// types. Field names are Argo's JSON keys in snake_case (`activeDeadlineSeconds` becomes
// `active_deadline_seconds`); where a key is a C++ keyword or would read badly the member is
// renamed and the JSON key is noted beside it. Every struct records `pos`, where it starts in
// the user's file, so any later error can point there.
//
// Optional scalars are std::optional so that "absent" and "zero" stay different, as Argo's
// pointer fields do. Kubernetes objects tether does not interpret (resources, affinity,
// probes, ...) are kept as Json under their known key; unknown keys are rejected by the
// decoder (decode.h), as Argo's strict decoding does.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace tether::spec {

using StringMap = std::map<std::string, std::string>;

// A heap-allocated value with value semantics, for the recursive parts of the model
// (a step's inline template, spec.templateDefaults). Empty means absent.
template <typename T>
class Box {
 public:
  Box() = default;
  Box(T value) : p_(std::make_unique<T>(std::move(value))) {}
  Box(const Box& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  Box(Box&&) noexcept = default;
  Box& operator=(const Box& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  Box& operator=(Box&&) noexcept = default;

  bool has_value() const { return p_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  T& operator*() { return *p_; }
  const T& operator*() const { return *p_; }
  T* operator->() { return p_.get(); }
  const T* operator->() const { return p_.get(); }
  T* get() { return p_.get(); }
  const T* get() const { return p_.get(); }
  void reset() { p_.reset(); }

 private:
  std::unique_ptr<T> p_;
};

// ---------------------------------------------------------------------------------------------
// Scalars with Kubernetes/Argo parsing rules.

// intstr.IntOrString: a JSON number or a JSON string (which may hold "{{...}}").
struct IntOrString {
  SourcePos pos;
  bool is_int = false;
  int64_t int_value = 0;
  std::string str_value;

  static IntOrString of(int64_t v) { IntOrString x; x.is_int = true; x.int_value = v; return x; }
  static IntOrString of(std::string v) { IntOrString x; x.str_value = std::move(v); return x; }
  // The value as text: "3" for 3, the string itself otherwise.
  std::string str() const;
  // The value as an integer; a string must be a whole decimal number.
  Result<int64_t> to_int() const;
  Json to_json() const;
};

// Go's time.ParseDuration ("1h30m", "300ms", "-1.5h"). With bare_number_is_seconds a plain
// number ("30", "1.5") means seconds, as Argo allows for retry backoff and suspend.
Result<int64_t> parse_duration_ms(std::string_view text, bool bare_number_is_seconds = false);
// Kubernetes resource.Quantity ("500Mi", "1.5", "100m", "2e3", "1Gi") as a plain number.
Result<double> parse_quantity(std::string_view text);

// ---------------------------------------------------------------------------------------------
// Kubernetes pieces tether interprets.

struct ObjectMeta {
  SourcePos pos;
  std::string name;
  std::string generate_name;  // generateName
  std::string namespace_;     // namespace
  std::string uid;
  std::string resource_version;  // resourceVersion
  StringMap labels;
  StringMap annotations;
  // The remaining ObjectMeta keys (creationTimestamp, ownerReferences, finalizers, ...).
  Json other = Json::object();
};

struct ConfigMapKeySelector {
  SourcePos pos;
  std::string name;
  std::string key;
  std::optional<bool> optional;
};
using SecretKeySelector = ConfigMapKeySelector;

struct LocalObjectReference {
  SourcePos pos;
  std::string name;
};

struct ObjectFieldSelector {
  SourcePos pos;
  std::string api_version;  // apiVersion
  std::string field_path;   // fieldPath
};

struct EnvVarSource {
  SourcePos pos;
  std::optional<ConfigMapKeySelector> config_map_key_ref;  // configMapKeyRef
  std::optional<SecretKeySelector> secret_key_ref;         // secretKeyRef
  std::optional<ObjectFieldSelector> field_ref;            // fieldRef
  Json resource_field_ref;                                 // resourceFieldRef (null if absent)
};

struct EnvVar {
  SourcePos pos;
  std::string name;
  std::optional<std::string> value;
  std::optional<EnvVarSource> value_from;  // valueFrom
};

struct EnvFromRef {
  SourcePos pos;
  std::string name;
  std::optional<bool> optional;
};

struct EnvFromSource {
  SourcePos pos;
  std::string prefix;
  std::optional<EnvFromRef> config_map_ref;  // configMapRef
  std::optional<EnvFromRef> secret_ref;      // secretRef
};

struct VolumeMount {
  SourcePos pos;
  std::string name;
  std::string mount_path;  // mountPath
  bool read_only = false;  // readOnly
  std::string sub_path;    // subPath
  std::string sub_path_expr;      // subPathExpr
  std::string mount_propagation;  // mountPropagation
  std::string recursive_read_only;  // recursiveReadOnly
};

struct ContainerPort {
  SourcePos pos;
  std::string name;
  int32_t container_port = 0;  // containerPort
  std::optional<int32_t> host_port;
  std::string protocol;
  std::string host_ip;  // hostIP
};

// apiv1.Container.
struct Container {
  SourcePos pos;
  std::string name;
  std::string image;
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::string working_dir;  // workingDir
  std::vector<EnvVar> env;
  std::vector<EnvFromSource> env_from;     // envFrom
  std::vector<VolumeMount> volume_mounts;  // volumeMounts
  std::vector<ContainerPort> ports;
  std::string image_pull_policy;  // imagePullPolicy
  bool stdin = false;
  bool stdin_once = false;  // stdinOnce
  bool tty = false;
  std::string termination_message_path;    // terminationMessagePath
  std::string termination_message_policy;  // terminationMessagePolicy
  std::string restart_policy;              // restartPolicy
  // Kept whole (null when absent).
  Json resources;
  Json security_context;  // securityContext
  Json lifecycle;
  Json liveness_probe;   // livenessProbe
  Json readiness_probe;  // readinessProbe
  Json startup_probe;    // startupProbe
  Json volume_devices;   // volumeDevices
  Json resize_policy;    // resizePolicy
  Json restart_policy_rules;  // restartPolicyRules
};

// Argo's UserContainer (sidecars, initContainers).
struct UserContainer : Container {
  std::optional<bool> mirror_volume_mounts;  // mirrorVolumeMounts
};

struct KeyToPath {
  SourcePos pos;
  std::string key;
  std::string path;
  std::optional<int32_t> mode;
};

struct EmptyDirVolumeSource {
  SourcePos pos;
  std::string medium;
  std::string size_limit;  // sizeLimit
};

struct PersistentVolumeClaimVolumeSource {
  SourcePos pos;
  std::string claim_name;  // claimName
  bool read_only = false;  // readOnly
};

struct ConfigMapVolumeSource {
  SourcePos pos;
  std::string name;
  std::vector<KeyToPath> items;
  std::optional<int32_t> default_mode;  // defaultMode
  std::optional<bool> optional;
};

struct SecretVolumeSource {
  SourcePos pos;
  std::string secret_name;  // secretName
  std::vector<KeyToPath> items;
  std::optional<int32_t> default_mode;  // defaultMode
  std::optional<bool> optional;
};

// apiv1.Volume: the sources tether mounts itself are typed; any other source is kept as
// `other` with its key in `other_kind` (hostPath, nfs, projected, ...).
struct Volume {
  SourcePos pos;
  std::string name;
  std::optional<EmptyDirVolumeSource> empty_dir;                            // emptyDir
  std::optional<PersistentVolumeClaimVolumeSource> persistent_volume_claim;  // persistentVolumeClaim
  std::optional<ConfigMapVolumeSource> config_map;                          // configMap
  std::optional<SecretVolumeSource> secret;
  std::string other_kind;
  Json other;  // null when absent
};

// ---------------------------------------------------------------------------------------------
// Parameters and artifacts.

// Argo's SuppliedValueFrom: an empty object meaning "supplied later by a user" (suspend).
struct SuppliedValueFrom {
  SourcePos pos;
};

struct ValueFrom {
  SourcePos pos;
  std::string path;
  std::string json_path;  // jsonPath
  std::string jq_filter;  // jqFilter
  std::string event;
  std::string parameter;
  std::optional<SuppliedValueFrom> supplied;
  std::optional<ConfigMapKeySelector> config_map_key_ref;  // configMapKeyRef
  std::string expression;
  std::optional<std::string> default_value;  // default
};

// Parameter values are Argo's AnyString: YAML numbers and booleans become their text.
struct Parameter {
  SourcePos pos;
  std::string name;
  std::optional<std::string> value;
  std::optional<std::string> default_value;  // default
  std::optional<ValueFrom> value_from;       // valueFrom
  std::string global_name;                   // globalName
  std::vector<std::string> enum_values;      // enum
  std::optional<std::string> description;
};

struct TarStrategy {
  SourcePos pos;
  std::optional<int32_t> compression_level;  // compressionLevel
};
struct ArchiveStrategy {
  SourcePos pos;
  bool none = false;  // `none: {}`
  std::optional<TarStrategy> tar;
  bool zip = false;   // `zip: {}`
};

struct RawArtifact {
  SourcePos pos;
  std::string data;
};

// Argo's ArtifactLocation (inline in Artifact; Template.archiveLocation). The remote kinds
// are kept whole; null when absent.
struct ArtifactLocation {
  SourcePos pos;
  std::optional<bool> archive_logs;  // archiveLogs
  std::optional<RawArtifact> raw;
  Json s3, git, http, artifactory, hdfs, oss, gcs, azure, plugin;
  // The key of the location kind set ("s3", "raw", ...), or "" when none is.
  std::string kind() const;
};

struct ArtifactGC {
  SourcePos pos;
  std::string strategy;
  Json pod_metadata;  // podMetadata
  std::string service_account_name;  // serviceAccountName
};

struct Artifact {
  SourcePos pos;
  std::string name;
  std::string path;
  std::optional<int32_t> mode;
  std::string from;
  std::string from_expression;  // fromExpression
  ArtifactLocation location;    // inline: s3, git, http, raw, archiveLogs, ...
  std::string global_name;      // globalName
  std::optional<ArchiveStrategy> archive;
  bool optional = false;
  std::string sub_path;        // subPath
  bool recurse_mode = false;   // recurseMode
  std::optional<ArtifactGC> artifact_gc;  // artifactGC
  bool deleted = false;
};

struct Inputs {
  SourcePos pos;
  std::vector<Parameter> parameters;
  std::vector<Artifact> artifacts;
};

struct Outputs {
  SourcePos pos;
  std::vector<Parameter> parameters;
  std::vector<Artifact> artifacts;
  std::optional<std::string> result;
  std::optional<std::string> exit_code;  // exitCode
};

struct Arguments {
  SourcePos pos;
  std::vector<Parameter> parameters;
  std::vector<Artifact> artifacts;
  bool empty() const { return parameters.empty() && artifacts.empty(); }
};

// ---------------------------------------------------------------------------------------------
// Template parts.

struct TemplateRef {
  SourcePos pos;
  std::string name;
  std::string template_name;  // template
  bool cluster_scope = false;  // clusterScope
};

struct Sequence {
  SourcePos pos;
  std::optional<IntOrString> count;
  std::optional<IntOrString> start;
  std::optional<IntOrString> end;
  std::string format;
};

struct ContinueOn {
  SourcePos pos;
  bool error = false;
  bool failed = false;
};

struct LifecycleHook {
  SourcePos pos;
  std::string template_name;  // template
  std::optional<TemplateRef> template_ref;  // templateRef
  Arguments arguments;
  std::string expression;
};
// Keyed by hook name ("exit", "running", ...).
using LifecycleHooks = std::map<std::string, LifecycleHook>;

struct Backoff {
  SourcePos pos;
  std::string duration;  // a Go duration, or a bare number of seconds
  std::optional<IntOrString> factor;
  std::string max_duration;  // maxDuration
  std::string cap;
};

struct RetryStrategy {
  SourcePos pos;
  std::optional<IntOrString> limit;
  std::string retry_policy;  // retryPolicy: Always, OnFailure, OnError, OnTransientError
  std::optional<Backoff> backoff;
  Json affinity;  // null when absent
  std::string expression;
};

struct MemoizeCache {
  SourcePos pos;
  std::optional<LocalObjectReference> config_map;  // configMap
};

struct Memoize {
  SourcePos pos;
  std::string key;
  std::optional<MemoizeCache> cache;
  std::string max_age;  // maxAge
};

struct Mutex {
  SourcePos pos;
  std::string name;
  std::string namespace_;  // namespace
  bool database = false;
};

struct SemaphoreRef {
  SourcePos pos;
  std::optional<ConfigMapKeySelector> config_map_key_ref;  // configMapKeyRef
  std::string namespace_;
  std::optional<std::string> database_key;  // database: {key: ...}
};

struct Synchronization {
  SourcePos pos;
  std::vector<Mutex> mutexes;
  std::vector<SemaphoreRef> semaphores;
};

struct Metadata {
  SourcePos pos;
  StringMap annotations;
  StringMap labels;
};

struct ExecutorConfig {
  SourcePos pos;
  std::string service_account_name;  // serviceAccountName
};

struct Template;

struct WorkflowStep {
  SourcePos pos;
  std::string name;
  std::string template_name;              // template
  Box<Template> inline_template;          // inline
  Arguments arguments;
  std::optional<TemplateRef> template_ref;  // templateRef
  std::optional<Json> with_items;         // withItems: a JSON array of any values
  std::string with_param;                 // withParam
  std::optional<Sequence> with_sequence;  // withSequence
  std::string when;
  std::optional<ContinueOn> continue_on;  // continueOn
  std::string on_exit;                    // onExit
  LifecycleHooks hooks;
};

struct DagTask {
  SourcePos pos;
  std::string name;
  std::string template_name;  // template
  Box<Template> inline_template;  // inline
  Arguments arguments;
  std::optional<TemplateRef> template_ref;
  std::vector<std::string> dependencies;
  std::optional<Json> with_items;
  std::string with_param;
  std::optional<Sequence> with_sequence;
  std::string when;
  std::optional<ContinueOn> continue_on;
  std::string on_exit;
  std::string depends;
  LifecycleHooks hooks;
};

// ---------------------------------------------------------------------------------------------
// The ten template kinds.

struct ContainerTemplate : Container {};

struct ScriptTemplate : Container {
  std::string source;
};

struct StepsTemplate {
  SourcePos pos;
  // Outer: groups run one after another; inner: steps of one group run in parallel.
  std::vector<std::vector<WorkflowStep>> steps;
  std::vector<SourcePos> group_pos;  // where each group starts
};

struct DagTemplate {
  SourcePos pos;
  std::string target;
  std::vector<DagTask> tasks;
  std::optional<bool> fail_fast;  // failFast
};

struct SuspendTemplate {
  SourcePos pos;
  std::optional<std::string> duration;  // Go duration or bare seconds; absent: until resumed
};

struct ManifestFrom {
  SourcePos pos;
  Artifact artifact;
};

struct ResourceTemplate {
  SourcePos pos;
  std::string action;
  std::string merge_strategy;  // mergeStrategy
  std::string manifest;
  std::optional<ManifestFrom> manifest_from;  // manifestFrom
  bool set_owner_reference = false;           // setOwnerReference
  std::string success_condition;              // successCondition
  std::string failure_condition;              // failureCondition
  std::vector<std::string> flags;
};

struct HttpHeader {
  SourcePos pos;
  std::string name;
  std::string value;
  std::optional<SecretKeySelector> secret_key_ref;  // valueFrom.secretKeyRef
};

struct HttpTemplate {
  SourcePos pos;
  std::string method;
  std::string url;
  std::vector<HttpHeader> headers;
  std::optional<int64_t> timeout_seconds;  // timeoutSeconds
  std::string success_condition;           // successCondition
  std::string body;
  std::optional<std::string> body_from_bytes;  // bodyFrom.bytes, base64-decoded
  bool insecure_skip_verify = false;           // insecureSkipVerify
};

struct TransformationStep {
  SourcePos pos;
  std::string expression;
};

struct DataTemplate {
  SourcePos pos;
  SourcePos source_pos;                     // of `source`, when present
  std::optional<Artifact> artifact_paths;   // source.artifactPaths
  std::vector<TransformationStep> transformation;
};

// `plugin: {<name>: {...}}`: the whole object, interpreted by the plugin.
struct PluginTemplate {
  SourcePos pos;
  Json config = Json::object();
};

struct ContainerNode : Container {
  std::vector<std::string> dependencies;
};

struct ContainerSetRetryStrategy {
  SourcePos pos;
  std::string duration;
  std::optional<IntOrString> retries;
};

struct ContainerSetTemplate {
  SourcePos pos;
  std::vector<ContainerNode> containers;
  std::vector<VolumeMount> volume_mounts;  // volumeMounts
  std::optional<ContainerSetRetryStrategy> retry_strategy;  // retryStrategy
};

// A template's kind. std::monostate means no kind was given: valid only for
// spec.templateDefaults; the validator reports it anywhere else. Several kinds in one
// template are rejected by the decoder.
using TemplateBody = std::variant<std::monostate, ContainerTemplate, ScriptTemplate, StepsTemplate,
                                  DagTemplate, SuspendTemplate, ResourceTemplate, HttpTemplate,
                                  DataTemplate, PluginTemplate, ContainerSetTemplate>;

struct Template {
  SourcePos pos;
  std::string name;
  Inputs inputs;
  Outputs outputs;
  StringMap node_selector;  // nodeSelector
  Json affinity;            // null when absent
  Metadata metadata;
  std::optional<bool> daemon;
  TemplateBody body;
  std::vector<Volume> volumes;
  std::vector<UserContainer> init_containers;  // initContainers
  std::vector<UserContainer> sidecars;
  std::optional<ArtifactLocation> archive_location;         // archiveLocation
  std::optional<IntOrString> active_deadline_seconds;       // activeDeadlineSeconds
  std::optional<RetryStrategy> retry_strategy;              // retryStrategy
  std::optional<int64_t> parallelism;
  std::optional<bool> fail_fast;                            // failFast
  Json tolerations;                                         // null when absent
  std::string scheduler_name;                               // schedulerName
  std::string priority_class_name;                          // priorityClassName
  std::string service_account_name;                         // serviceAccountName
  std::optional<bool> automount_service_account_token;      // automountServiceAccountToken
  std::optional<ExecutorConfig> executor;
  Json host_aliases;      // hostAliases
  Json security_context;  // securityContext
  std::string pod_spec_patch;  // podSpecPatch
  Json metrics;                // null when absent
  std::optional<Synchronization> synchronization;
  std::optional<Memoize> memoize;
  std::string timeout;          // Go duration, may hold {{...}}
  StringMap annotations;
  std::string pending_timeout;  // pendingTimeout
  Json pod_resources;           // podResources
  Json resource_claims;         // resourceClaims

  // "container", "script", "steps", "dag", "suspend", "resource", "http", "data", "plugin",
  // "containerSet", or "" for none.
  const char* kind_name() const;
  template <typename K> const K* as() const { return std::get_if<K>(&body); }
  template <typename K> K* as() { return std::get_if<K>(&body); }
  // The main container of a container or script template; nullptr otherwise.
  const Container* container() const;
};

// ---------------------------------------------------------------------------------------------
// Workflow-level objects.

struct TTLStrategy {
  SourcePos pos;
  std::optional<int32_t> seconds_after_completion;  // secondsAfterCompletion
  std::optional<int32_t> seconds_after_success;     // secondsAfterSuccess
  std::optional<int32_t> seconds_after_failure;     // secondsAfterFailure
};

struct PodGC {
  SourcePos pos;
  std::string strategy;
  Json label_selector;  // labelSelector
  std::string delete_delay_duration;  // deleteDelayDuration
};

struct ArtifactRepositoryRef {
  SourcePos pos;
  std::string config_map;  // configMap
  std::string key;
};

struct WorkflowTemplateRef {
  SourcePos pos;
  std::string name;
  bool cluster_scope = false;  // clusterScope
};

struct WorkflowSpec {
  SourcePos pos;
  std::vector<Template> templates;
  std::string entrypoint;
  Arguments arguments;
  std::string service_account_name;                      // serviceAccountName
  std::optional<bool> automount_service_account_token;   // automountServiceAccountToken
  std::optional<ExecutorConfig> executor;
  std::vector<Volume> volumes;
  Json volume_claim_templates;  // volumeClaimTemplates: a list of PVCs (null when absent)
  std::optional<int64_t> parallelism;
  std::optional<ArtifactRepositoryRef> artifact_repository_ref;  // artifactRepositoryRef
  std::optional<bool> suspend;
  StringMap node_selector;  // nodeSelector
  Json affinity;
  Json tolerations;
  Json image_pull_secrets;  // imagePullSecrets
  std::optional<bool> host_network;  // hostNetwork
  std::string dns_policy;            // dnsPolicy
  Json dns_config;                   // dnsConfig
  std::string on_exit;               // onExit
  std::optional<TTLStrategy> ttl_strategy;  // ttlStrategy
  std::optional<int64_t> active_deadline_seconds;  // activeDeadlineSeconds
  std::optional<int32_t> priority;
  std::string scheduler_name;          // schedulerName
  std::optional<PodGC> pod_gc;         // podGC
  std::string pod_priority_class_name;  // podPriorityClassName
  Json host_aliases;                   // hostAliases
  Json security_context;               // securityContext
  std::string pod_spec_patch;          // podSpecPatch
  Json pod_disruption_budget;          // podDisruptionBudget
  Json metrics;
  std::string shutdown;  // "", Terminate, Stop
  std::optional<WorkflowTemplateRef> workflow_template_ref;  // workflowTemplateRef
  std::optional<Synchronization> synchronization;
  Json volume_claim_gc;  // volumeClaimGC
  std::optional<RetryStrategy> retry_strategy;  // retryStrategy
  std::optional<Metadata> pod_metadata;         // podMetadata
  Box<Template> template_defaults;              // templateDefaults (no name, no kind needed)
  std::optional<bool> archive_logs;             // archiveLogs
  LifecycleHooks hooks;
  Json workflow_metadata;  // workflowMetadata {labels, annotations, labelsFrom}
  Json artifact_gc;        // artifactGC
  Json executor_plugins;   // executorPlugins
  Json pod_resources;      // podResources
  Json resource_claims;    // resourceClaims

  // The template called `name`, or nullptr.
  const Template* find_template(std::string_view name) const;
};

struct Workflow {
  SourcePos pos;
  ObjectMeta metadata;
  WorkflowSpec spec;
  Json status;  // null when absent
};

struct WorkflowTemplate {
  SourcePos pos;
  ObjectMeta metadata;
  WorkflowSpec spec;
};

struct ClusterWorkflowTemplate : WorkflowTemplate {};

struct StopStrategy {
  SourcePos pos;
  std::string expression;
};

struct CronWorkflowSpec {
  SourcePos pos;
  WorkflowSpec workflow_spec;  // workflowSpec
  std::string schedule;        // Argo v3.x's single schedule, still read beside `schedules`
  std::vector<std::string> schedules;
  std::string concurrency_policy;  // concurrencyPolicy: Allow, Forbid, Replace
  bool suspend = false;
  std::optional<int64_t> starting_deadline_seconds;      // startingDeadlineSeconds
  std::optional<int32_t> successful_jobs_history_limit;  // successfulJobsHistoryLimit
  std::optional<int32_t> failed_jobs_history_limit;      // failedJobsHistoryLimit
  std::string timezone;
  std::optional<ObjectMeta> workflow_metadata;  // workflowMetadata
  std::optional<StopStrategy> stop_strategy;    // stopStrategy
  std::string when;
};

struct CronWorkflow {
  SourcePos pos;
  ObjectMeta metadata;
  CronWorkflowSpec spec;
  Json status;
};

struct EventSubmit {
  SourcePos pos;
  WorkflowTemplateRef workflow_template_ref;  // workflowTemplateRef
  ObjectMeta metadata;
  std::optional<Arguments> arguments;
};

struct WorkflowEventBinding {
  SourcePos pos;
  ObjectMeta metadata;
  std::string event_selector;          // spec.event.selector
  std::optional<EventSubmit> submit;  // spec.submit
};

struct ConfigMap {
  SourcePos pos;
  ObjectMeta metadata;
  StringMap data;
  StringMap binary_data;  // binaryData, base64-decoded bytes
  std::optional<bool> immutable;
};

struct Secret {
  SourcePos pos;
  ObjectMeta metadata;
  StringMap data;  // base64-decoded bytes; stringData entries merged in (they win)
  std::string type;
  std::optional<bool> immutable;
};

// One YAML/JSON document. `object` is std::monostate for kinds tether does not run
// (PersistentVolumeClaim, ResourceQuota, ...): they are skipped, not errors.
struct Document {
  std::string api_version;  // apiVersion
  std::string kind;
  SourcePos pos;
  std::variant<std::monostate, Workflow, WorkflowTemplate, ClusterWorkflowTemplate, CronWorkflow,
               WorkflowEventBinding, ConfigMap, Secret>
      object;
  Json raw;  // the document as JSON (YAML 1.1 scalars resolved as Kubernetes does)

  bool skipped() const { return std::holds_alternative<std::monostate>(object); }
  std::string name() const;  // metadata.name (or generateName) of the object, if any
  // The WorkflowSpec of a Workflow, (Cluster)WorkflowTemplate or CronWorkflow; else nullptr.
  const WorkflowSpec* workflow_spec() const;
};

}  // namespace tether::spec
