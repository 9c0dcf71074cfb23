// `tether logs NAME [POD]`: each step's output prefixed by its pod name, as argo prints it.
// Steps write node_dir/main.log, one "RFC3339Nano line" per line (engine/runner.h); the
// other containers of a pod (init containers, sidecars, a containerSet's) write
// node_dir/pod/NAME.log (exec/pod.h), shown with -c NAME.
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "cli/command.h"
#include "cli/runs.h"
#include "engine/runner.h"
#include "engine/state.h"
#include "exec/pod.h"

namespace tether::cli {
namespace {

struct LogsArgs {
  std::string name;
  std::string pod;
  std::string namespace_ = "default";
  bool follow = false;
  std::string grep;
  std::string since;
  long tail = -1;
  bool timestamps = false;
  bool no_color = false;
  std::string container = "main";
};

struct Source {
  std::string pod;
  std::string path;
  std::streamoff offset = 0;
  std::string partial;
};

struct Line {
  std::string time;
  std::string pod;
  std::string text;
};

// Go duration ("10s", "5m", "1h30m") in seconds; -1 when it does not parse.
long long parse_since(const std::string& s) {
  static const std::regex part("([0-9]+)(h|m|s)");
  long long total = 0;
  size_t consumed = 0;
  for (auto it = std::sregex_iterator(s.begin(), s.end(), part); it != std::sregex_iterator(); ++it) {
    if (static_cast<size_t>(it->position()) != consumed) return -1;
    long long v = std::stoll((*it)[1]);
    char u = (*it)[2].str()[0];
    total += u == 'h' ? v * 3600 : u == 'm' ? v * 60 : v;
    consumed += static_cast<size_t>(it->length());
  }
  return consumed == s.size() && !s.empty() ? total : -1;
}

std::string node_dir_of(const Home& home, const std::string& uid, const Json& node) {
  if (node.contains("tether") && node["tether"].contains("nodeDir") && node["tether"]["nodeDir"].is_string())
    return node["tether"]["nodeDir"].get<std::string>();
  return home.runs() + "/" + uid + "/nodes/" + node.value("id", std::string());
}

std::vector<Line> read_new(Source& s) {
  std::vector<Line> out;
  std::ifstream in(s.path, std::ios::binary);
  if (!in) return out;
  in.seekg(s.offset);
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  s.offset += static_cast<std::streamoff>(chunk.size());
  s.partial += chunk;
  size_t start = 0;
  while (true) {
    size_t nl = s.partial.find('\n', start);
    if (nl == std::string::npos) break;
    std::string raw = s.partial.substr(start, nl - start);
    start = nl + 1;
    auto sp = raw.find(' ');
    Line l{sp == std::string::npos ? "" : raw.substr(0, sp), s.pod, sp == std::string::npos ? raw : raw.substr(sp + 1)};
    out.push_back(std::move(l));
  }
  s.partial.erase(0, start);
  return out;
}

int color_for(const std::string& pod) {
  int sum = 0;
  for (unsigned char c : pod) sum += c;
  static const int colors[] = {32, 33, 34, 35, 36, 37};
  return colors[sum % 6];
}

int run_logs(const LogsArgs& a) {
  auto home = open_home();
  if (!home.ok()) return fmt::print(stderr, "{}\n", home.error().str()), 1;
  auto store = open_reader(*home);
  if (!store.ok()) return fmt::print(stderr, "{}\n", store.error().str()), 1;
  auto run = (*store)->find_run(a.namespace_, a.name);
  if (!run.ok()) return fmt::print(stderr, "{}\n", run.error().str()), 1;
  if (!*run) return fmt::print(stderr, "workflows.argoproj.io \"{}\" not found\n", a.name), 1;
  const std::string uid = (*run)->uid;
  const std::string wf_name = (*run)->name;
  std::optional<std::regex> grep;
  if (!a.grep.empty()) {
    try {
      grep.emplace(a.grep, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return fmt::print(stderr, "invalid --grep pattern: {}\n", e.what()), 1;
    }
  }
  if (a.container.empty() || a.container.find('/') != std::string::npos || a.container[0] == '.')
    return fmt::print(stderr, "invalid container name \"{}\"\n", a.container), 1;
  long long since = -1;
  if (!a.since.empty() && (since = parse_since(a.since)) < 0)
    return fmt::print(stderr, "invalid --since duration \"{}\"\n", a.since), 1;
  std::string since_cutoff;
  if (since >= 0)
    since_cutoff = format_rfc3339(SystemClock::instance().now() - std::chrono::seconds(since));
  bool color = ::isatty(1) && !a.no_color;

  std::map<std::string, Source> sources;  // by node id
  auto discover = [&]() -> bool {
    auto nodes = (*store)->nodes(uid);
    if (!nodes.ok()) return false;
    for (const auto& n : *nodes) {
      if (n.status.value("type", std::string()) != "Pod") continue;
      std::string tmpl = n.status.contains("templateRef") && n.status["templateRef"].is_object()
                             ? n.status["templateRef"].value("template", std::string())
                             : n.status.value("templateName", std::string());
      std::string pod = engine::pod_name(wf_name, n.status.value("name", std::string()), tmpl);
      if (!a.pod.empty() && a.pod != pod && a.pod != n.id && a.pod != n.status.value("name", std::string()) &&
          a.pod != n.status.value("displayName", std::string()))
        continue;
      if (!sources.count(n.id))
        sources[n.id] = Source{pod,
                               node_dir_of(*home, uid, n.status) + "/" +
                                   (a.container == "main" ? std::string(engine::kStepLogFile)
                                                          : std::string(exec::kPodDir) + "/" + a.container + ".log"),
                               0,
                               {}};
    }
    return true;
  };
  auto emit = [&](std::vector<Line>& lines, long tail) {
    std::stable_sort(lines.begin(), lines.end(), [](const Line& x, const Line& y) { return x.time < y.time; });
    if (tail >= 0 && lines.size() > static_cast<size_t>(tail)) lines.erase(lines.begin(), lines.end() - tail);
    for (const auto& l : lines) {
      if (!since_cutoff.empty() && l.time.substr(0, 20) < since_cutoff) continue;
      if (grep && !std::regex_search(l.text, *grep)) continue;
      std::string text = a.timestamps ? l.time + " " + l.text : l.text;
      std::string out = l.pod + ": " + text;
      if (color) out = fmt::format("\x1b[{}m{}\x1b[0m", color_for(l.pod), out);
      fmt::print("{}\n", out);
    }
    std::fflush(stdout);
  };

  discover();
  std::vector<Line> all;
  for (auto& [id, s] : sources)
    for (auto& l : read_new(s)) all.push_back(std::move(l));
  emit(all, a.tail);
  if (!a.follow) return 0;
  while (true) {
    auto wf = load_workflow(**store, a.namespace_, uid);
    bool done = wf.ok() && workflow_completed(*wf);
    discover();
    std::vector<Line> fresh;
    for (auto& [id, s] : sources)
      for (auto& l : read_new(s)) fresh.push_back(std::move(l));
    if (!fresh.empty()) emit(fresh, -1);
    if (done) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

CommandRegistrar reg("logs", [](CLI::App& root) {
  auto a = std::make_shared<LogsArgs>();
  auto* cmd = root.add_subcommand("logs", "view logs of a pod or workflow");
  cmd->add_option("workflow", a->name, "workflow name, uid or @latest")->required();
  cmd->add_option("pod", a->pod, "pod name, node name or node ID");
  cmd->add_option("-n,--namespace", a->namespace_, "namespace");
  cmd->add_flag("-f,--follow", a->follow, "specify if the logs should be streamed");
  cmd->add_option("--grep", a->grep, "grep for lines");
  cmd->add_option("--since", a->since, "only return logs newer than a relative duration like 5s, 2m, or 3h");
  cmd->add_option("--tail", a->tail, "lines from the end of the logs to show");
  cmd->add_flag("--timestamps", a->timestamps, "include timestamps on each line");
  cmd->add_flag("--no-color", a->no_color, "disable colorized output");
  cmd->add_option("-c,--container", a->container, "print the logs of this container (default main)");
  cmd->callback([a] { set_exit_code(run_logs(*a)); });
});

}  // namespace
}  // namespace tether::cli
