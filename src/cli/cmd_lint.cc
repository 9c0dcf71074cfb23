// `tether lint [PATH...|-]`: load and validate Argo documents without running anything,
// printing what argo lint prints (pretty and simple formatters), or JSON.
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <sstream>

#include "base/json.h"
#include "base/strings.h"
#include "cli/command.h"
#include "cli/workflow_input.h"
#include "spec/load.h"
#include "spec/validate.h"

namespace tether::cli {
namespace {

namespace fs = std::filesystem;

struct LintOptions {
  std::vector<std::string> paths;
  std::string output = "pretty";
  bool strict = true;
  bool no_color = false;
};

struct FileResult {
  std::string file;
  std::vector<std::string> errors;   // "file:line:col: message"
  std::vector<std::string> skipped;  // "Kind \"name\""
  bool linted = false;
};

struct Input {
  std::string name;
  std::string text;
  std::optional<std::string> read_error;
  std::vector<spec::Node> nodes;
  std::optional<Error> parse_error;
  std::vector<std::optional<spec::Document>> docs;  // one per node; empty if it failed
  std::vector<std::optional<Error>> decode_errors;
};

bool lintable(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

// Files in argument order; directories expanded recursively in name order.
std::vector<Input> collect(const std::vector<std::string>& paths) {
  std::vector<Input> inputs;
  for (const auto& path : paths) {
    if (path == "-") {
      std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
      Input in;
      in.name = "stdin";
      in.text = std::move(text);
      inputs.push_back(std::move(in));
      continue;
    }
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> files;
      for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec))
        if (it->is_regular_file(ec) && lintable(it->path())) files.push_back(it->path().string());
      std::sort(files.begin(), files.end());
      for (auto& f : files) {
        Input in;
        in.name = std::move(f);
        inputs.push_back(std::move(in));
      }
      continue;
    }
    Input in;
    in.name = path;
    inputs.push_back(std::move(in));
  }
  for (auto& in : inputs) {
    if (in.name == "stdin") continue;
    auto text = read_file(in.name);
    if (text.ok()) in.text = std::move(text).value();
    else in.read_error = text.error().message;
  }
  return inputs;
}

void load(Input& in, bool strict) {
  if (in.read_error) return;
  spec::ParseOptions parse;
  parse.allow_duplicate_keys = !strict;
  auto nodes = spec::parse_yaml(in.text, in.name, parse);
  if (!nodes.ok()) {
    in.parse_error = nodes.error();
    return;
  }
  in.nodes = std::move(nodes).value();
  for (const auto& n : in.nodes) {
    auto doc = spec::decode_document(n, spec::DecodeOptions{strict});
    if (doc.ok()) {
      in.docs.emplace_back(std::move(doc).value());
      in.decode_errors.emplace_back();
    } else {
      in.docs.emplace_back();
      in.decode_errors.emplace_back(doc.error());
    }
  }
}

std::string with_pos(const SourcePos& pos, const std::string& message) {
  return pos.known() ? pos.str() + ": " + message : message;
}

// The kinds whose documents argo lint checks (the others it reads, or skips).
bool is_linted_kind(const std::string& kind) {
  return kind == "Workflow" || kind == "WorkflowTemplate" || kind == "ClusterWorkflowTemplate" ||
         kind == "CronWorkflow";
}

FileResult lint_input(const Input& in, const spec::ValidateContext& ctx) {
  FileResult r;
  r.file = in.name;
  if (in.read_error) {
    r.errors.push_back(*in.read_error);
    r.linted = true;
    return r;
  }
  if (in.parse_error) {
    r.errors.push_back(in.parse_error->str());
    r.linted = true;
    return r;
  }
  for (size_t i = 0; i < in.docs.size(); ++i) {
    if (in.decode_errors[i]) {
      r.errors.push_back(in.decode_errors[i]->str());
      r.linted = true;
      continue;
    }
    const spec::Document& doc = *in.docs[i];
    if (doc.skipped()) {
      std::string what = doc.kind.empty() ? "document without apiVersion and kind" : doc.kind;
      std::string name = doc.name();
      r.skipped.push_back(name.empty() ? what : fmt::format("{} \"{}\"", what, name));
      continue;
    }
    r.linted = r.linted || is_linted_kind(doc.kind);
    for (const auto& d : spec::validate(doc, ctx)) r.errors.push_back(with_pos(d.pos, d.message));
  }
  return r;
}

struct Style {
  bool color = false;
  std::string wrap(const char* code, const std::string& s) const {
    return color ? fmt::format("\x1b[{}m{}\x1b[0m", code, s) : s;
  }
};

void print_pretty(const std::vector<FileResult>& results, const Style& st, bool success, bool anything) {
  for (const auto& r : results) {
    for (const auto& s : r.skipped) fmt::print("{}: skipped {}: not a kind tether runs\n", r.file, s);
    if (r.errors.empty()) continue;
    fmt::print("{}:\n", st.wrap("4", r.file));
    for (const auto& e : r.errors) fmt::print("   {} {}\n", st.wrap("31", "✖"), e);
    fmt::print("\n");
  }
  if (success) {
    fmt::print("{} no linting errors found!\n", st.wrap("32", "✔"));
  } else if (!anything) {
    fmt::print("{}\n", st.wrap("31", "✖ found nothing to lint in the specified paths, failing..."));
  } else {
    size_t total = 0;
    for (const auto& r : results) total += r.errors.size();
    fmt::print("{}\n", st.wrap("31", fmt::format("✖ {} linting errors found!", total)));
  }
}

void print_simple(const std::vector<FileResult>& results, bool success, bool anything) {
  for (const auto& r : results) {
    for (const auto& s : r.skipped) fmt::print("{}: skipped {}\n", r.file, s);
    for (const auto& e : r.errors) fmt::print("{}\n", e);
  }
  if (success) fmt::print("no linting errors found!\n");
  else if (!anything) fmt::print("found nothing to lint in the specified paths, failing...\n");
}

void print_json(const std::vector<FileResult>& results, bool success) {
  Json out = {{"success", success}, {"results", Json::array()}};
  for (const auto& r : results)
    out["results"].push_back({{"file", r.file}, {"linted", r.linted}, {"errors", r.errors}, {"skipped", r.skipped}});
  fmt::print("{}\n", out.dump(2));
}

int run_lint(const LintOptions& o) {
  if (o.output != "pretty" && o.output != "simple" && o.output != "json") {
    fmt::print(stderr, "unknown formatter: {}\n", o.output);
    return 1;
  }
  auto inputs = collect(o.paths.empty() ? std::vector<std::string>{"-"} : o.paths);
  // Templates already applied count too, but lint stays offline: it reads an existing
  // store and never creates one.
  spec::ValidateContext ctx;
  if (auto home = open_home(); home.ok() && std::filesystem::exists(home->db()))
    ctx = spec::ValidateContext(stored_template_lookup(*home));
  // Load everything first so a templateRef may name a WorkflowTemplate from another file.
  for (auto& in : inputs) {
    load(in, o.strict);
    for (const auto& d : in.docs)
      if (d) ctx.add(*d);
  }
  std::vector<FileResult> results;
  bool success = true, anything = false;
  for (const auto& in : inputs) {
    results.push_back(lint_input(in, ctx));
    success = success && results.back().errors.empty();
    anything = anything || results.back().linted;
  }
  success = success && anything;
  Style st{!o.no_color && isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR")};
  if (o.output == "json") print_json(results, success);
  else if (o.output == "simple") print_simple(results, success, anything);
  else print_pretty(results, st, success, anything);
  return success ? 0 : 1;
}

CommandRegistrar reg("lint", [](CLI::App& root) {
  auto opts = std::make_shared<LintOptions>();
  auto* cmd = root.add_subcommand("lint", "validate files or directories of manifests ('-' reads stdin)");
  cmd->add_option("paths", opts->paths, "files or directories (.yaml, .yml, .json), or - for stdin");
  cmd->add_option("-o,--output", opts->output, "linting results output format. One of: pretty|simple|json")
      ->capture_default_str();
  cmd->add_flag("--strict", opts->strict, "perform strict workflow validation (--strict=false allows unknown fields)")
      ->capture_default_str();
  cmd->add_flag("--no-color", opts->no_color, "disable colorized output");
  cmd->callback([opts] { set_exit_code(run_lint(*opts)); });
});

}  // namespace
}  // namespace tether::cli
