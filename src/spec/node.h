// A YAML/JSON document tree that remembers where every value came from.
//
// Built from libyaml's event parser (go-yaml, which Argo uses, is a port of libyaml, so the
// two accept the same text and fail with the same messages), keeping what a generic tree
// would lose: duplicate keys are caught, `<<` merge keys applied, and scalars keep their
// text and whether they were quoted (`1` is not "1"). Their type is
// resolved as Kubernetes resolves it (YAML 1.1 via go-yaml v2: yes/no/on/off are booleans,
// 0x1F and 0777 are integers).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace tether::spec {

struct MapEntry;

struct Node {
  enum class Kind { kNull, kScalar, kSequence, kMap };

  Kind kind = Kind::kNull;
  SourcePos pos;
  // Scalars: the text, and whether it was written plain (unquoted, not a block scalar).
  std::string scalar;
  bool plain = false;
  // The explicit tag, when one was written (e.g. "tag:yaml.org,2002:str" for !!str).
  std::string tag;
  std::vector<Node> items;       // kSequence
  std::vector<MapEntry> entries;  // kMap, in source order, merge keys applied

  bool is_null() const { return kind == Kind::kNull; }
  bool is_scalar() const { return kind == Kind::kScalar; }
  bool is_seq() const { return kind == Kind::kSequence; }
  bool is_map() const { return kind == Kind::kMap; }
  // The value under `key` of a map, or nullptr.
  const Node* get(std::string_view key) const;
  // The JSON value of a scalar or null node, with YAML 1.1 typing.
  Json scalar_value() const;
};

struct MapEntry {
  std::string key;
  SourcePos key_pos;
  Node value;
};

struct ParseOptions {
  // Limits that keep hostile input (alias bombs, deep nesting) from exhausting memory or stack.
  size_t max_nodes = 200'000;  // per document, counting every alias expansion
  int max_depth = 200;
  // Argo's strict mode rejects a key written twice in one map; otherwise the last one wins.
  bool allow_duplicate_keys = false;
};

// Parses every document of a YAML (or JSON) stream. Empty documents are dropped.
Result<std::vector<Node>> parse_yaml(std::string_view text, const std::string& path,
                                     const ParseOptions& options = {});

// The node as JSON (scalars typed as Kubernetes' YAML to JSON conversion types them).
Json to_json(const Node& node);
// A node built from JSON: strings are marked quoted so they stay strings when decoded.
Node from_json(const Json& json, const SourcePos& pos = {});

}  // namespace tether::spec
