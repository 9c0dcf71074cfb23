#include "spec/node.h"

#include <fmt/core.h>
#include <yaml.h>

#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

namespace tether::spec {

const Node* Node::get(std::string_view key) const {
  for (const auto& e : entries)
    if (e.key == key) return &e.value;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// YAML 1.1 scalar typing, as go-yaml v2 (and so Kubernetes) resolves plain scalars.

namespace {

constexpr std::string_view kTrue[] = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"};
constexpr std::string_view kFalse[] = {"n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"};
constexpr std::string_view kNull[] = {"", "~", "null", "Null", "NULL"};

template <size_t N>
bool one_of(std::string_view s, const std::string_view (&set)[N]) {
  for (auto v : set)
    if (v == s) return true;
  return false;
}

bool digits_in_base(std::string_view s, int base) {
  if (s.empty()) return false;
  for (char c : s) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : 99;
    if (d >= base) return false;
  }
  return true;
}

// strconv.ParseInt(s, 0, 64) after go-yaml removed the underscores.
std::optional<Json> resolve_int(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 1 && s[0] == '0') {
    char p = s[1];
    if (p == 'x' || p == 'X') base = 16, s.remove_prefix(2);
    else if (p == 'o' || p == 'O') base = 8, s.remove_prefix(2);
    else if (p == 'b' || p == 'B') base = 2, s.remove_prefix(2);
    else base = 8, s.remove_prefix(1);
  }
  if (!digits_in_base(s, base)) return std::nullopt;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  if (neg) {
    if (v > uint64_t{1} << 63) return std::nullopt;
    return Json(static_cast<int64_t>(0 - v));
  }
  if (v > static_cast<uint64_t>(INT64_MAX)) return Json(v);
  return Json(static_cast<int64_t>(v));
}

// go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool yaml_style_float(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++n;
    return n;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// Whether YAML 1.1 may read a plain scalar as something other than its text. Most are words
// that start with none of the characters a null, a boolean or a number can start with.
bool may_not_be_string(const std::string& text) {
  if (text.empty() || std::string_view("~.+-0123456789").find(text[0]) != std::string_view::npos) return true;
  return one_of(text, kNull) || one_of(text, kTrue) || one_of(text, kFalse);
}

Json resolve_plain(const std::string& text) {
  if (!may_not_be_string(text)) return text;
  if (one_of(text, kNull)) return nullptr;
  if (one_of(text, kTrue)) return true;
  if (one_of(text, kFalse)) return false;
  static const std::map<std::string_view, double> kSpecialFloats = {
      {".inf", INFINITY}, {".Inf", INFINITY}, {".INF", INFINITY}, {"+.inf", INFINITY}, {"+.Inf", INFINITY},
      {"+.INF", INFINITY}, {"-.inf", -INFINITY}, {"-.Inf", -INFINITY}, {"-.INF", -INFINITY},
      {".nan", NAN}, {".NaN", NAN}, {".NAN", NAN},
  };
  if (auto it = kSpecialFloats.find(text); it != kSpecialFloats.end()) return it->second;
  char c = text[0];
  if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.')) return text;
  std::string plain;
  for (char ch : text)
    if (ch != '_') plain += ch;
  if (auto i = resolve_int(plain)) return *i;
  if (yaml_style_float(plain)) return std::strtod(plain.c_str(), nullptr);
  return text;
}

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

}  // namespace

Json Node::scalar_value() const {
  if (kind == Kind::kNull) return nullptr;
  if (kind != Kind::kScalar) return nullptr;
  std::string_view t = tag;
  if (t.substr(0, kTagPrefix.size()) == kTagPrefix) t.remove_prefix(kTagPrefix.size());
  if (t == "str" || t == "binary") return scalar;
  if (t == "null") return nullptr;
  if (t == "bool" || t == "int" || t == "float" || (plain && (t.empty() || t == "?")))
    return resolve_plain(scalar);
  return scalar;
}

// ---------------------------------------------------------------------------------------------
// The tree builder: libyaml events in, Nodes out.

namespace {

// Thrown while building and caught in parse_yaml; it never leaves this file.
struct BuildError {
  Error error;
};

// Builds Nodes from libyaml's events (libyaml is the C parser go-yaml was ported from, so
// what it accepts and its messages are Argo's).
class TreeBuilder {
 public:
  TreeBuilder(const std::string& path, const ParseOptions& limits) : path_(path), limits_(limits) {}

  std::vector<Node> documents;

  void document_start() {
    anchors_.clear();
    node_count_ = 0;
  }

  void alias(const yaml_mark_t& mark, const std::string& anchor) {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) fail(mark, "yaml: unknown anchor '" + anchor + "' referenced");
    count(it->second.size);
    Node copy = it->second.node;
    // An alias used as a merge source must stay recognisable as one; position of use
    // does not matter for values copied from the anchor.
    add(std::move(copy), {});
  }

  void scalar(const yaml_mark_t& mark, const char* tag, const std::string& anchor, std::string value, bool plain) {
    Node n;
    n.pos = pos(mark);
    std::string_view t = tag ? tag : "";
    bool untagged = t.empty() || t == "!";
    // A plain null (`key:`, `~`, `null`) is a null node, as go-yaml's decoder makes it:
    // "absent or null" checks treat both alike.
    if (plain && untagged &&
        (value.empty() || value == "~" || value == "null" || value == "Null" || value == "NULL")) {
      add(std::move(n), anchor);
      return;
    }
    n.kind = Node::Kind::kScalar;
    n.scalar = std::move(value);
    n.plain = plain && untagged;
    if (!untagged) n.tag = std::string(t);
    add(std::move(n), anchor);
  }

  void open(const yaml_mark_t& mark, Node::Kind kind, const char* tag, const std::string& anchor) {
    if (static_cast<int>(stack_.size()) >= limits_.max_depth)
      fail(mark, fmt::format("document nested deeper than {} levels", limits_.max_depth));
    count(1);
    Open o;
    o.node.kind = kind;
    o.node.pos = pos(mark);
    std::string_view t = tag ? tag : "";
    if (!t.empty() && t != "!") o.node.tag = std::string(t);
    o.anchor = anchor;
    o.first_count = node_count_;
    stack_.push_back(std::move(o));
  }

  void close() {
    Open o = std::move(stack_.back());
    stack_.pop_back();
    if (o.node.kind == Node::Kind::kMap) apply_merges(o);
    size_t size = node_count_ - o.first_count + 1;
    add_counted(std::move(o.node), o.anchor, size);
  }

 private:
  struct Open {
    Node node;
    std::string anchor;
    size_t first_count = 0;  // node_count_ when this collection started
    // Maps: the key waiting for its value and the merge sources. Keys already there are
    // found in node.entries; a large map also indexes them (index into entries).
    std::optional<Node> pending_key;
    std::vector<Node> merges;
    std::unordered_map<std::string_view, size_t> seen;
  };
  struct Anchored {
    Node node;
    size_t size = 1;
  };

  SourcePos pos(const yaml_mark_t& m) const {
    return SourcePos{path_, static_cast<int>(m.line) + 1, static_cast<int>(m.column) + 1};
  }

  [[noreturn]] void fail(const yaml_mark_t& m, std::string msg) { throw BuildError{invalid(std::move(msg), pos(m))}; }
  [[noreturn]] void fail(const SourcePos& p, std::string msg) { throw BuildError{invalid(std::move(msg), p)}; }

  void count(size_t n) {
    node_count_ += n;
    if (node_count_ > limits_.max_nodes)
      throw BuildError{invalid(fmt::format("document too large: more than {} values (alias expansion?)", limits_.max_nodes),
                               SourcePos{path_, 0, 0})};
  }

  void add(Node n, const std::string& anchor) {
    if (n.kind == Node::Kind::kScalar || n.kind == Node::Kind::kNull) count(1);
    add_counted(std::move(n), anchor, 1);
  }

  void add_counted(Node n, const std::string& anchor, size_t size) {
    if (!anchor.empty()) anchors_[anchor] = Anchored{n, size};
    if (stack_.empty()) {
      documents.push_back(std::move(n));
      return;
    }
    Open& parent = stack_.back();
    if (parent.node.kind == Node::Kind::kSequence) {
      parent.node.items.push_back(std::move(n));
    } else if (!parent.pending_key) {
      parent.pending_key = std::move(n);
    } else {
      Node key = std::move(*parent.pending_key);
      parent.pending_key.reset();
      add_entry(parent, std::move(key), std::move(n));
    }
  }

  static bool is_merge_key(const Node& key) { return key.kind == Node::Kind::kScalar && key.plain && key.scalar == "<<"; }

  void add_entry(Open& map, Node key, Node value) {
    if (is_merge_key(key)) {
      add_merge_source(map, key.pos, std::move(value));
      return;
    }
    std::string name = key_text(key);
    if (MapEntry* earlier = find_entry(map, name)) {
      if (limits_.allow_duplicate_keys) {
        earlier->value = std::move(value);
        return;
      }
      fail(key.pos, fmt::format("mapping key \"{}\" already defined at line {}, column {}", name, earlier->key_pos.line,
                                earlier->key_pos.col));
    }
    append_entry(map, MapEntry{std::move(name), key.pos, std::move(value)});
  }

  // Most maps have a handful of keys: a look through them beats a set per map.
  static constexpr size_t kIndexFrom = 16;
  static MapEntry* find_entry(Open& map, const std::string& key) {
    auto& entries = map.node.entries;
    if (entries.size() < kIndexFrom) {
      for (auto& e : entries)
        if (e.key == key) return &e;
      return nullptr;
    }
    auto it = map.seen.find(key);
    return it == map.seen.end() ? nullptr : &entries[it->second];
  }
  // The index holds views of the entries' keys: rebuilt when the entries move.
  static void append_entry(Open& map, MapEntry e) {
    auto& entries = map.node.entries;
    bool moved = entries.size() == entries.capacity();
    entries.push_back(std::move(e));
    if (entries.size() < kIndexFrom) return;
    if (moved || entries.size() == kIndexFrom) {
      map.seen.clear();
      for (size_t i = 0; i < entries.size(); ++i) map.seen.emplace(entries[i].key, i);
    } else {
      map.seen.emplace(entries.back().key, entries.size() - 1);
    }
  }

  void add_merge_source(Open& map, const SourcePos& at, Node value) {
    if (value.kind == Node::Kind::kMap) {
      map.merges.push_back(std::move(value));
      return;
    }
    if (value.kind == Node::Kind::kSequence) {
      for (auto& item : value.items) {
        if (item.kind != Node::Kind::kMap) fail(item.pos, "map merge requires map or sequence of maps as the value");
        map.merges.push_back(std::move(item));
      }
      return;
    }
    fail(at, "map merge requires map or sequence of maps as the value");
  }

  // Explicit keys win over merged ones; among merge sources the earlier one wins, as the
  // YAML merge-key spec and go-yaml define it.
  static void apply_merges(Open& map) {
    for (auto& source : map.merges)
      for (auto& e : source.entries)
        if (!find_entry(map, e.key)) append_entry(map, std::move(e));
  }

  // Map keys become JSON object keys: scalars by their resolved text, as sigs.k8s.io/yaml
  // does (`true: x` has the key "true").
  std::string key_text(const Node& key) {
    if (key.kind == Node::Kind::kNull) return "null";
    if (key.kind != Node::Kind::kScalar) fail(key.pos, "mapping keys must be scalars");
    if (key.plain && !may_not_be_string(key.scalar)) return key.scalar;
    Json v = key.scalar_value();
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_integer()) return v.dump();
    return key.scalar;
  }

  const FileName path_;  // shared by every position
  const ParseOptions& limits_;
  std::vector<Open> stack_;
  std::map<std::string, Anchored> anchors_;
  size_t node_count_ = 0;
};

}  // namespace

namespace {

// go-yaml refuses text that is not UTF-8 or holds control characters: checked first, with
// go-yaml's messages.
Status check_text(std::string_view text, const std::string& path) {
  int line = 1, col = 1;
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    SourcePos pos{path, line, col};
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0) return invalid("yaml: invalid leading UTF-8 octet", pos);
    if (i + len > text.size()) return invalid("yaml: incomplete UTF-8 octet sequence", pos);
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return invalid("yaml: invalid trailing UTF-8 octet", pos);
    if (len == 1 && c < 0x20 && c != '\t' && c != '\n' && c != '\r')
      return invalid("yaml: control characters are not allowed", pos);
    if (c == 0x7F) return invalid("yaml: control characters are not allowed", pos);
    if (c == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
    i += len;
  }
  return ok_status();
}

}  // namespace

Result<std::vector<Node>> parse_yaml(std::string_view text, const std::string& path, const ParseOptions& limits) {
  // A UTF-8 byte order mark is allowed at the start, as go-yaml allows it.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  TRY_STATUS(check_text(text, path));
  TreeBuilder builder(path, limits);
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) return Error(ErrorCode::kInternal, "yaml: cannot initialise the parser");
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
  auto text_of = [](const yaml_char_t* p) { return p ? std::string(reinterpret_cast<const char*>(p)) : std::string(); };
  auto tag_of = [](const yaml_char_t* p) { return reinterpret_cast<const char*>(p); };
  std::optional<Error> failed;
  try {
    for (bool done = false; !done;) {
      yaml_event_t event;
      if (!yaml_parser_parse(&parser, &event)) {
        std::string problem = parser.problem ? parser.problem : "cannot parse";
        const yaml_mark_t& m = parser.problem_mark;
        failed = invalid("yaml: " + problem, SourcePos{path, static_cast<int>(m.line) + 1, static_cast<int>(m.column) + 1});
        break;
      }
      // Freed by the guard even when the builder throws.
      struct Guard {
        yaml_event_t* e;
        ~Guard() { yaml_event_delete(e); }
      } guard{&event};
      const yaml_mark_t& mark = event.start_mark;
      switch (event.type) {
        case YAML_STREAM_END_EVENT: done = true; break;
        case YAML_DOCUMENT_START_EVENT: builder.document_start(); break;
        case YAML_ALIAS_EVENT: builder.alias(mark, text_of(event.data.alias.anchor)); break;
        case YAML_SCALAR_EVENT:
          builder.scalar(mark, tag_of(event.data.scalar.tag), text_of(event.data.scalar.anchor),
                         std::string(reinterpret_cast<const char*>(event.data.scalar.value), event.data.scalar.length),
                         event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
          break;
        case YAML_SEQUENCE_START_EVENT:
          builder.open(mark, Node::Kind::kSequence, tag_of(event.data.sequence_start.tag),
                       text_of(event.data.sequence_start.anchor));
          break;
        case YAML_MAPPING_START_EVENT:
          builder.open(mark, Node::Kind::kMap, tag_of(event.data.mapping_start.tag),
                       text_of(event.data.mapping_start.anchor));
          break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: builder.close(); break;
        default: break;
      }
    }
  } catch (const BuildError& e) {
    failed = e.error;
  } catch (const std::exception& e) {
    failed = invalid(fmt::format("yaml: {}", e.what()), SourcePos{path, 0, 0});
  }
  yaml_parser_delete(&parser);
  if (failed) return *failed;
  std::vector<Node> docs;
  for (auto& d : builder.documents)
    if (!d.is_null()) docs.push_back(std::move(d));
  return docs;
}

Json to_json(const Node& node) {
  switch (node.kind) {
    case Node::Kind::kNull:
      return nullptr;
    case Node::Kind::kScalar: {
      Json v = node.scalar_value();
      // JSON has no NaN or infinity; Kubernetes' conversion fails on them, we keep the text.
      if (v.is_number_float() && !std::isfinite(v.get<double>())) return node.scalar;
      return v;
    }
    case Node::Kind::kSequence: {
      Json a = Json::array();
      for (const auto& item : node.items) a.push_back(to_json(item));
      return a;
    }
    case Node::Kind::kMap: {
      Json o = Json::object();
      for (const auto& e : node.entries) o[e.key] = to_json(e.value);
      return o;
    }
  }
  return nullptr;
}

Node from_json(const Json& json, const SourcePos& pos) {
  Node n;
  n.pos = pos;
  switch (json.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      break;
    case Json::value_t::object:
      n.kind = Node::Kind::kMap;
      for (const auto& [k, v] : json.items()) n.entries.push_back(MapEntry{k, pos, from_json(v, pos)});
      break;
    case Json::value_t::array:
      n.kind = Node::Kind::kSequence;
      for (const auto& v : json) n.items.push_back(from_json(v, pos));
      break;
    case Json::value_t::string:
      n.kind = Node::Kind::kScalar;
      n.scalar = json.get<std::string>();
      break;
    default:  // numbers and booleans: plain, so they resolve back to the same type
      n.kind = Node::Kind::kScalar;
      n.plain = true;
      n.scalar = json.dump();
      break;
  }
  return n;
}

}  // namespace tether::spec
