#include "cli/render.h"

#include <fmt/core.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <map>
#include <memory>

#include "base/strings.h"
#include "engine/state.h"

namespace tether::cli {
namespace {

size_t rune_width(const std::string& s) {
  size_t n = 0;
  bool in_escape = false;
  for (unsigned char c : s) {
    // ANSI colour sequences take no room on a terminal.
    if (c == 0x1b) { in_escape = true; continue; }
    if (in_escape) { if (c == 'm') in_escape = false; continue; }
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

struct Table {
  std::vector<std::vector<std::string>> lines;  // cells; the last one is not tab-terminated
  std::vector<size_t> widths;
  int padding;
  std::string out;

  void write_lines(size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      const auto& cells = lines[i];
      for (size_t j = 0; j < cells.size(); ++j) {
        out += cells[j];
        if (j < widths.size() && j + 1 < cells.size()) out.append(widths[j] - rune_width(cells[j]), ' ');
      }
      out += '\n';
    }
  }

  // Go's tabwriter.format: recursive over columns, one width per block of lines.
  void format(size_t line0, size_t line1) {
    size_t column = widths.size();
    for (size_t cur = line0; cur < line1; ++cur) {
      if (column + 1 >= lines[cur].size()) continue;
      write_lines(line0, cur);
      line0 = cur;
      size_t width = 0;
      for (; cur < line1; ++cur) {
        if (column + 1 >= lines[cur].size()) break;
        width = std::max(width, rune_width(lines[cur][column]) + padding);
      }
      widths.push_back(width);
      format(line0, cur);
      widths.pop_back();
      line0 = cur;
      if (cur >= line1) return;
      --cur;  // the loop's ++ revisits the line that ended the block
    }
    write_lines(line0, line1);
  }
};

// go-humanize CustomRelTime with argo's magnitude tables, for non-negative durations.
std::string rel_time(long long secs, bool shrt) {
  const long long kMinute = 60, kHour = 3600, kDay = 86400, kWeek = 7 * kDay, kMonth = 30 * kDay,
                  kYear = 12 * kMonth;
  struct Mag { long long limit; const char* fmt; long long div; };
  static const Mag short_mags[] = {
      {1, "0s", 1}, {2, "1s", 0}, {kMinute, "{}s", 1}, {2 * kMinute, "1m", 0}, {kHour, "{}m", kMinute},
      {2 * kHour, "1h", 0}, {kDay, "{}h", kHour}, {2 * kDay, "1d", 0}, {kWeek, "{}d", kDay}};
  static const Mag long_mags[] = {
      {1, "0 seconds", 1}, {2, "1 second", 0}, {kMinute, "{} seconds", 1}, {2 * kMinute, "1 minute", 0},
      {kHour, "{} minutes", kMinute}, {2 * kHour, "1 hour", 0}, {kDay, "{} hours", kHour},
      {2 * kDay, "1 day", 0}, {kWeek, "{} days", kDay}, {2 * kWeek, "1 week", 0},
      {kMonth, "{} weeks", kWeek}, {2 * kMonth, "1 month", 0}, {kYear, "{} months", kMonth},
      {18 * kMonth, "1 year", 0}, {2 * kYear, "2 years", 0}, {1LL << 62, "{} years", kYear}};
  const Mag* begin = shrt ? short_mags : long_mags;
  const Mag* end = shrt ? short_mags + std::size(short_mags) : long_mags + std::size(long_mags);
  for (const Mag* m = begin; m != end; ++m) {
    if (secs < m->limit) {
      if (m->div == 0) return m->fmt;
      return fmt::format(fmt::runtime(m->fmt), secs / m->div);
    }
  }
  // Past the short table go-humanize falls back to the last entry's format.
  const Mag* last = end - 1;
  return fmt::format(fmt::runtime(last->fmt), secs / last->div);
}

long long seconds_between(std::optional<WallTime> start, std::optional<WallTime> finish, WallTime now) {
  if (!start) return 0;
  WallTime f = finish ? *finish : now;
  auto d = std::chrono::duration_cast<std::chrono::seconds>(f - *start).count();
  return d < 0 ? -d : d;
}

std::optional<WallTime> json_time(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  WallTime t;
  if (!parse_rfc3339(it->get<std::string>(), &t)) return std::nullopt;
  return t;
}

std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string ansi(const std::string& s, int code, bool color) {
  if (!color) return s;
  return fmt::format("\x1b[{}m{}\x1b[0m", code, s);
}

std::string phase_icon(const std::string& phase, bool utf8, bool color) {
  struct Icon { const char* phase; const char* utf8; const char* ascii; int color; };
  static const Icon icons[] = {
      {"Pending", "◷", "Pending", 33}, {"Running", "●", "Running", 36}, {"Succeeded", "✔", "Succeeded", 32},
      {"Skipped", "○", "Skipped", 39}, {"Failed", "✖", "Failed", 31},   {"Error", "⚠", "Error", 31},
  };
  for (const auto& i : icons)
    if (phase == i.phase) return ansi(utf8 ? i.utf8 : i.ascii, i.color, color);
  return "";
}

// ---- the node tree of `argo get` ----

enum class RenderKind { kBoundary, kNonBoundaryParent, kExecution };

struct RenderNode {
  std::string id;
  RenderKind kind;
  std::vector<RenderNode*> children;
};

struct Tree {
  const Json& nodes;
  std::map<std::string, std::unique_ptr<RenderNode>> owned;

  const Json& status(const std::string& id) const { return nodes.at(id); }

  // Argo orders siblings by start time, then by loop index, then by name.
  static int index_from_name(const std::string& name) {
    auto open = name.rfind('(');
    auto close = name.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) return -1;
    std::string inner = name.substr(open + 1, close - open - 1);
    auto colon = inner.find(':');
    if (colon != std::string::npos) inner = inner.substr(0, colon);
    if (inner.empty() || !std::all_of(inner.begin(), inner.end(), ::isdigit)) return -1;
    return std::stoi(inner);
  }

  void insert_sorted(std::vector<RenderNode*>& v, RenderNode* item) {
    auto t_item = json_time(status(item->id), "startedAt");
    size_t i = 0;
    for (; i < v.size(); ++i) {
      auto t = json_time(status(v[i]->id), "startedAt");
      WallTime a = t_item.value_or(WallTime{}), b = t.value_or(WallTime{});
      if (a < b) break;
      if (a == b) {
        std::string in = str(status(item->id), "displayName"), en = str(status(v[i]->id), "displayName");
        int ii = index_from_name(in), ei = index_from_name(en);
        if (ii >= 0 && ei >= 0) {
          if (ii < ei) break;
        } else if (in < en) {
          break;
        }
      }
    }
    v.insert(v.begin() + static_cast<long>(i), item);
  }
};

RenderKind kind_of(const std::string& type, bool* known) {
  *known = true;
  if (type == "DAG" || type == "Steps") return RenderKind::kBoundary;
  if (type == "StepGroup" || type == "Retry") return RenderKind::kNonBoundaryParent;
  if (type == "Pod" || type == "Skipped" || type == "Suspend" || type == "HTTP" || type == "Plugin" ||
      type == "Container")
    return RenderKind::kExecution;
  *known = false;
  return RenderKind::kExecution;
}

bool selector_matches(const std::string& selector, const Json& node) {
  if (selector.empty()) return true;
  for (const auto& term : split(selector, ',')) {
    bool negate = term.find("!=") != std::string::npos;
    auto pos = term.find(negate ? "!=" : "=");
    if (pos == std::string::npos) continue;
    std::string key(trim(term.substr(0, pos)));
    std::string want(trim(term.substr(pos + (negate ? 2 : 1))));
    if (!want.empty() && want[0] == '=') want = want.substr(1);
    std::string have;
    if (key == "displayName" || key == "name" || key == "phase" || key == "type" || key == "templateName" ||
        key == "id" || key == "boundaryID")
      have = str(node, key.c_str());
    else if (key == "templateRef.name" && node.contains("templateRef"))
      have = str(node["templateRef"], "name");
    else if (key == "templateRef.template" && node.contains("templateRef"))
      have = str(node["templateRef"], "template");
    else if (starts_with(key, "inputs.parameters.") && node.contains("inputs")) {
      std::string pname = key.substr(18);
      if (auto pos2 = pname.find(".value"); pos2 != std::string::npos) pname = pname.substr(0, pos2);
      for (const auto& p : node["inputs"].value("parameters", Json::array()))
        if (str(p, "name") == pname) have = str(p, "value");
    }
    if ((have == want) == negate) return false;
  }
  return true;
}

struct Renderer {
  const Json& wf;
  const GetOptions& opts;
  WallTime now;
  Tree& tree;
  std::string wf_name;
  std::string out;

  // (filtered, children need special indent)
  std::pair<bool, bool> filter(const Json& n) const {
    std::string type = str(n, "type");
    if (type == "Retry" && n.value("children", Json::array()).size() == 1) return {true, false};
    if (type == "StepGroup") return {true, true};
    if (type == "Skipped" && str(n, "phase") == "Omitted") return {true, false};
    if (!selector_matches(opts.node_field_selector, n)) return {true, false};
    return {false, false};
  }

  void print_node(const Json& n, const std::string& prefix) {
    std::string icon = phase_icon(str(n, "phase"), opts.utf8, opts.color);
    bool active_suspend = str(n, "type") == "Suspend" && str(n, "phase") == "Running";
    if (active_suspend) icon = ansi(opts.utf8 ? "ǁ" : "Suspend", 36, opts.color);
    std::string name = icon + " " + str(n, "displayName");
    std::string tmpl;
    if (n.contains("templateRef") && n["templateRef"].is_object())
      tmpl = str(n["templateRef"], "name") + "/" + str(n["templateRef"], "template");
    else
      tmpl = str(n, "templateName");
    std::string podname, duration;
    if (str(n, "type") == "Pod") {
      podname = pod_name_for(n);
      duration = duration_short(json_time(n, "startedAt"), json_time(n, "finishedAt"), now);
    }
    std::string message = str(n, "message");
    if (opts.output == "wide") {
      std::string arts;
      if (n.contains("outputs") && n["outputs"].contains("artifacts"))
        for (const auto& a : n["outputs"]["artifacts"]) arts += (arts.empty() ? "" : ",") + str(a, "name");
      std::string host = str(n, "type") == "Pod" ? str(n, "hostNodeName") : "";
      out += fmt::format("{}{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n", prefix, name, tmpl, podname, duration, arts, message, "",
                         host);
    } else if (opts.output == "short") {
      std::string host = str(n, "type") == "Pod" ? str(n, "hostNodeName") : "";
      out += fmt::format("{}{}\t{}\t{}\t{}\t{}\t{}\n", prefix, name, tmpl, podname, duration, message, host);
    } else {
      out += fmt::format("{}{}\t{}\t{}\t{}\t{}\t{}\n", prefix, name, tmpl, podname, duration, message, "");
    }
  }

  std::string pod_name_for(const Json& n) const;

  void render(RenderNode* node, int depth, const std::string& node_prefix, const std::string& child_prefix) {
    const Json& n = tree.status(node->id);
    auto [filtered, child_indent] = filter(n);
    if (!filtered) print_node(n, node_prefix);
    int max_index = static_cast<int>(node->children.size()) - 1;
    for (int i = 0; i <= max_index; ++i)
      render_child(node->children[static_cast<size_t>(i)], depth, node_prefix, child_prefix, filtered, i, max_index,
                   child_indent);
  }

  void render_child(RenderNode* child, int depth, const std::string& node_prefix, const std::string& child_prefix,
                    bool parent_filtered, int index, int max_index, bool child_indent) {
    const bool u = opts.utf8;
    std::string part, subp;
    if (parent_filtered && child_indent) {
      if (max_index == 0) { part = u ? "──" : "--"; subp = "  "; }
      else if (index == 0) { part = u ? "┬─" : "+-"; subp = u ? "│ " : "| "; }
      else if (index == max_index) { part = u ? "└─" : "`-"; subp = "  "; }
      else { part = u ? "├─" : "|-"; subp = u ? "│ " : "| "; }
    } else if (!parent_filtered) {
      if (index == max_index) { part = u ? "└─" : "`-"; subp = "  "; }
      else { part = u ? "├─" : "|-"; subp = u ? "│ " : "| "; }
    }
    std::string child_node_prefix, child_child_prefix;
    if (!parent_filtered) {
      ++depth;
      child_node_prefix = child_prefix + part;
      child_child_prefix = child_prefix + subp;
    } else {
      child_node_prefix = (index == 0 ? node_prefix : child_prefix) + part;
      child_child_prefix = child_prefix + subp;
    }
    render(child, depth, child_node_prefix, child_child_prefix);
  }
};

std::string template_of_node(const Json& n) {
  if (n.contains("templateRef") && n["templateRef"].is_object()) return str(n["templateRef"], "template");
  return str(n, "templateName");
}

std::string Renderer::pod_name_for(const Json& n) const {
  return engine::pod_name(wf_name, str(n, "name"), template_of_node(n));
}

}  // namespace

std::string tabwrite(const std::string& text, int padding) {
  Table t;
  t.padding = padding;
  for (const auto& line : split(text, '\n')) t.lines.push_back(split(line, '\t'));
  if (!t.lines.empty() && t.lines.back().size() == 1 && t.lines.back()[0].empty()) t.lines.pop_back();
  t.format(0, t.lines.size());
  return t.out;
}

std::string duration_short(std::optional<WallTime> start, std::optional<WallTime> finish, WallTime now) {
  if (!start) return "0s";
  return rel_time(seconds_between(start, finish, now), true);
}

std::string duration_long(std::optional<WallTime> start, std::optional<WallTime> finish, WallTime now) {
  long long s = seconds_between(start, finish, now);
  std::string first = rel_time(s, false);
  if (s < 60) return first;
  if (s < 3600) return fmt::format("{} {} seconds", first, s % 60);
  if (s < 86400) return fmt::format("{} {} minutes", first, (s / 60) % 60);
  return fmt::format("{} {} hours", first, (s / 3600) % 24);
}

std::string timestamp_long(WallTime t, WallTime now) {
  std::time_t tt = std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S %z", &tm);
  long long secs = std::chrono::duration_cast<std::chrono::seconds>(now - t).count();
  std::string rel;
  if (secs < 0) {
    rel = rel_time(-secs, false) + " from now";
  } else if (secs == 0) {
    rel = "now";
  } else {
    // go-humanize's Time(): "N units ago", "now" under a second.
    rel = rel_time(secs, false) + " ago";
  }
  return fmt::format("{} ({})", buf, rel);
}

std::string workflow_status(const Json& wf) {
  const Json& st = wf.contains("status") ? wf["status"] : Json::object();
  std::string phase = str(st, "phase");
  if (phase.empty()) phase = "Pending";
  if (wf.contains("spec") && wf["spec"].contains("shutdown") && phase == "Running")
    return phase + " (Terminating)";
  if (phase == "Running" && wf.contains("spec") && wf["spec"].value("suspend", false)) return "Running (Suspended)";
  if (phase == "Running" && st.contains("nodes")) {
    for (const auto& [id, n] : st["nodes"].items())
      if (str(n, "type") == "Suspend" && str(n, "phase") == "Running") return "Running (Suspended)";
  }
  return phase;
}

std::string render_get(const Json& wf, const GetOptions& opts, WallTime now) {
  const Json& meta = wf.value("metadata", Json::object());
  const Json& spec = wf.value("spec", Json::object());
  const Json& st = wf.value("status", Json::object());
  std::string name = str(meta, "name");
  auto line = [](const std::string& k, const std::string& v) { return fmt::format("{:<20} {}\n", k, v); };
  std::string out;
  out += line("Name:", name);
  out += line("Namespace:", str(meta, "namespace"));
  std::string sa = str(spec, "serviceAccountName");
  if (sa.empty())
    sa = spec.contains("workflowTemplateRef") ? "unset" : "unset (will run with the default ServiceAccount)";
  out += line("ServiceAccount:", sa);
  out += line("Status:", workflow_status(wf));
  if (!str(st, "message").empty()) out += line("Message:", str(st, "message"));
  if (auto t = json_time(meta, "creationTimestamp")) out += line("Created:", timestamp_long(*t, now));
  auto started = json_time(st, "startedAt");
  auto finished = json_time(st, "finishedAt");
  if (started) out += line("Started:", timestamp_long(*started, now));
  if (finished) out += line("Finished:", timestamp_long(*finished, now));
  if (started) out += line("Duration:", duration_long(started, finished, now));
  out += line("Progress:", str(st, "progress"));
  const Json& args = spec.value("arguments", Json::object());
  if (args.contains("parameters") && !args["parameters"].empty()) {
    out += line("Parameters:", "");
    for (const auto& p : args["parameters"])
      if (p.contains("value")) out += line("  " + str(p, "name") + ":", p["value"].is_string() ? p["value"].get<std::string>() : p["value"].dump());
  }
  if (st.contains("outputs")) {
    const Json& o = st["outputs"];
    if (o.contains("parameters") && !o["parameters"].empty()) {
      out += line("Output Parameters:", "");
      for (const auto& p : o["parameters"])
        if (p.contains("value")) out += line("  " + str(p, "name") + ":", str(p, "value"));
    }
    if (o.contains("artifacts") && !o["artifacts"].empty()) {
      out += line("Output Artifacts:", "");
      for (const auto& a : o["artifacts"]) {
        std::string where = a.contains("key") ? str(a, "key") : str(a, "path");
        out += line("  " + str(a, "name") + ":", where);
      }
    }
  }
  if (!st.contains("nodes") || !st["nodes"].contains(name)) return out;

  Tree tree{st["nodes"], {}};
  std::map<std::string, RenderNode*> boundary_map, non_boundary_map, child_to_parent;
  std::map<std::string, std::vector<RenderNode*>> waiting_for_boundary;
  std::map<std::string, RenderNode*> roots;
  // Two passes, as argo: first learn every StepGroup/Retry's children, then attach.
  for (const auto& [id, n] : st["nodes"].items()) {
    bool known;
    if (kind_of(str(n, "type"), &known) == RenderKind::kNonBoundaryParent && known) {
      auto node = std::make_unique<RenderNode>(RenderNode{id, RenderKind::kNonBoundaryParent, {}});
      non_boundary_map[id] = node.get();
      for (const auto& c : n.value("children", Json::array())) child_to_parent[c.get<std::string>()] = node.get();
      tree.owned[id] = std::move(node);
    }
  }
  auto attach = [&](RenderNode* rn, const std::string& boundary) {
    if (auto it = child_to_parent.find(rn->id); it != child_to_parent.end()) {
      tree.insert_sorted(it->second->children, rn);
      return false;
    }
    if (boundary.empty()) return true;
    if (auto it = boundary_map.find(boundary); it != boundary_map.end())
      tree.insert_sorted(it->second->children, rn);
    else
      waiting_for_boundary[boundary].push_back(rn);
    return false;
  };
  for (const auto& [id, n] : st["nodes"].items()) {
    bool known;
    RenderKind k = kind_of(str(n, "type"), &known);
    if (!known) continue;
    RenderNode* rn;
    if (k == RenderKind::kNonBoundaryParent) {
      rn = non_boundary_map[id];
    } else {
      auto node = std::make_unique<RenderNode>(RenderNode{id, k, {}});
      rn = node.get();
      tree.owned[id] = std::move(node);
    }
    if (k == RenderKind::kBoundary) boundary_map[id] = rn;
    if (attach(rn, str(n, "boundaryID"))) roots[id] = rn;
    if (k == RenderKind::kBoundary)
      for (RenderNode* w : waiting_for_boundary[id]) tree.insert_sorted(rn->children, w);
  }

  std::string table;
  if (opts.output == "wide")
    table += "STEP\tTEMPLATE\tPODNAME\tDURATION\tARTIFACTS\tMESSAGE\tRESOURCESDURATION\tNODENAME\n";
  else if (opts.output == "short")
    table += "STEP\tTEMPLATE\tPODNAME\tDURATION\tMESSAGE\tNODENAME\n";
  else
    table += "STEP\tTEMPLATE\tPODNAME\tDURATION\tMESSAGE\n";
  Renderer r{wf, opts, now, tree, name, {}};
  if (auto it = roots.find(name); it != roots.end()) r.render(it->second, 0, " ", " ");
  std::string exit_id = engine::node_id(name, name + ".onExit");
  if (auto it = roots.find(exit_id); it != roots.end()) {
    r.out += "\t\t\t\t\t\n";
    r.render(it->second, 0, " ", " ");
  }
  table += r.out;
  std::string rendered = tabwrite(table, 2);
  if (opts.output == "short") return rendered;
  return out + "\n" + rendered;
}

std::string render_list(const std::vector<Json>& workflows, const ListOptions& opts, WallTime now) {
  if (workflows.empty()) return "No workflows found\n";
  std::string t;
  if (!opts.no_headers) {
    if (opts.all_namespaces) t += "NAMESPACE\t";
    t += "NAME\tSTATUS\tAGE\tDURATION\tPRIORITY\tMESSAGE";
    if (opts.output == "wide") t += "\tP/R/C\tPARAMETERS";
    t += "\n";
  }
  for (const auto& wf : workflows) {
    const Json& meta = wf.value("metadata", Json::object());
    const Json& st = wf.value("status", Json::object());
    const Json& spec = wf.value("spec", Json::object());
    auto created = json_time(meta, "creationTimestamp");
    std::string age = duration_short(created, now, now);
    std::string dur = duration_short(json_time(st, "startedAt"), json_time(st, "finishedAt"), now);
    if (opts.all_namespaces) t += str(meta, "namespace") + "\t";
    int priority = spec.contains("priority") && spec["priority"].is_number() ? spec["priority"].get<int>() : 0;
    t += fmt::format("{}\t{}\t{}\t{}\t{}\t{}", str(meta, "name"), workflow_status(wf), age, dur, priority,
                     str(st, "message"));
    if (opts.output == "wide") {
      int pending = 0, running = 0, completed = 0;
      for (const auto& [id, n] : st.value("nodes", Json::object()).items()) {
        if (str(n, "type") != "Pod") continue;
        std::string p = str(n, "phase");
        if (p == "Succeeded" || p == "Failed" || p == "Error" || p == "Skipped" || p == "Omitted") ++completed;
        else if (p == "Running") ++running;
        else ++pending;
      }
      std::string params;
      for (const auto& p : spec.value("arguments", Json::object()).value("parameters", Json::array())) {
        if (!p.contains("value")) continue;
        std::string v = p["value"].is_string() ? p["value"].get<std::string>() : p["value"].dump();
        if (v.size() > 50) v = v.substr(0, 47) + "...";
        params += (params.empty() ? "" : ",") + str(p, "name") + "=" + v;
      }
      t += fmt::format("\t{}/{}/{}\t{}", pending, running, completed, params);
    }
    t += "\n";
  }
  return tabwrite(t, 3);
}

}  // namespace tether::cli
