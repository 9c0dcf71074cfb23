#include "expr/template.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/strings.h"
#include "expr/expr_lang.h"
#include "expr/expr_lang_internal.h"

namespace tether::expr {
namespace {

// Argo's internal stand-in for values not known yet; an expression over one may fail
// without failing the substitution.
constexpr std::string_view kPlaceholderPrefix = "__argo__internal__placeholder-";

// Variables whose absence means "not known yet" rather than "wrong": an expression that
// reads one of them is left for a later pass when unresolved tags are allowed.
const std::vector<std::string>& late_bound_variables() {
  static const std::vector<std::string> v = {"item", "retries", "lastRetry.exitCode", "lastRetry.status",
                                             "lastRetry.duration", "lastRetry.message", "workflow.status",
                                             "workflow.failures"};
  return v;
}

std::string render_value(const Json& v) { return v.is_string() ? v.get<std::string>() : go_json(v); }

Result<std::string> simple_replace(const Tag& tag, const Vars& vars, bool allow_unresolved) {
  auto it = vars.find(tag.body);
  if (it != vars.end()) {
    if (it->second.is_null()) {
      return invalid(fmt::format(
          "unable to substitute {{{{{}}}}}: output is an absent optional (skipped/omitted node with no default)", tag.raw));
    }
    return render_value(it->second);
  }
  // A tag like `{{a {{b}}` (fasttemplate stops at the first `}}`): Argo resolves the
  // inner name and leaves the rest.
  size_t inner = tag.raw.rfind("{{");
  if (inner != std::string::npos && inner > 0) {
    std::string nested = tag.raw.substr(inner + 2);
    auto nit = vars.find(nested);
    if (nit != vars.end()) {
      if (nit->second.is_null()) {
        return invalid(fmt::format("unable to substitute nested tag {{{{{}}}}}: \"{}\" is an absent optional", tag.raw, nested));
      }
      if (nit->second.is_string()) return "{{" + tag.raw.substr(0, inner) + nit->second.get<std::string>();
    }
  }
  if (!allow_unresolved) return invalid(fmt::format("failed to resolve {{{{{}}}}}", tag.raw));
  return "{{" + tag.raw + "}}";
}

// Argo's hasVarInEnv: the dotted path names a value (null counts) in the environment.
bool has_var(const Json& env, const std::string& path) {
  const Json* cur = &env;
  for (const std::string& part : split(path, '.')) {
    if (!cur->is_object()) return false;
    auto it = cur->find(part);
    if (it == cur->end()) return false;
    cur = &*it;
  }
  return true;
}

bool has_placeholder(const Vars& vars) {
  return std::any_of(vars.begin(), vars.end(), [](const auto& kv) {
    return kv.second.is_string() && starts_with(kv.second.template get_ref<const std::string&>(), kPlaceholderPrefix);
  });
}

Result<std::string> expression_replace(const Tag& tag, const Vars& vars, const Json& env, bool allow_unresolved,
                                       const Clock* clock) {
  std::string_view expression = std::string_view(tag.raw).substr(1);
  std::string unresolved = "{{" + tag.raw + "}}";
  auto ast = parse_expr(expression);
  if (!ast.ok()) {
    // A syntax error fails even when unresolved tags are allowed, as in Argo.
    if (has_placeholder(vars)) return unresolved;
    return invalid("failed to evaluate expression: " + ast.error().message);
  }
  std::vector<std::string> missing;
  for (const auto& id : ast->identifiers()) {
    if (!has_var(env, id)) missing.push_back(id);
  }
  if (!allow_unresolved && !missing.empty()) {
    return invalid(fmt::format("failed to evaluate expression: {} is missing", missing[0]));
  }
  bool lenient = !missing.empty() || allow_unresolved || has_placeholder(vars);
  const auto& late = late_bound_variables();
  bool late_missing = std::any_of(missing.begin(), missing.end(),
                                  [&](const std::string& id) { return std::find(late.begin(), late.end(), id) != late.end(); });
  if (late_missing && lenient) return unresolved;
  auto result = eval_expr(*ast, env, clock);
  if (!result.ok() || result->is_null()) {
    if (lenient) return unresolved;
    if (!result.ok()) return invalid("failed to evaluate expression: " + result.error().message);
    return invalid(fmt::format("failed to evaluate expression {}", go_quote(expression)));
  }
  return render_value(*result);
}

}  // namespace

Result<std::vector<Tag>> find_tags(std::string_view text) {
  std::vector<Tag> tags;
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return invalid(fmt::format("Cannot find end tag=\"}}}}\" in the template={} starting from {}", go_quote(text),
                                 go_quote(text.substr(open + 2))));
    }
    Tag tag;
    tag.raw = std::string(text.substr(open + 2, close - open - 2));
    tag.kind = !tag.raw.empty() && tag.raw[0] == '=' ? Tag::Kind::kExpression : Tag::Kind::kSimple;
    std::string_view body = tag.raw;
    if (tag.kind == Tag::Kind::kExpression) body.remove_prefix(1);
    tag.body = std::string(trim(body));
    tag.begin = open;
    tag.end = close + 2;
    tags.push_back(std::move(tag));
    pos = close + 2;
  }
  return tags;
}

Json expression_env(const Vars& vars) {
  Json env = Json::object();
  for (auto it = vars.begin(); it != vars.end(); ++it) {
    // A key with children ("item" beside "item.name") gives way to them.
    auto child = vars.lower_bound(it->first + ".");
    if (child != vars.end() && starts_with(child->first, it->first + ".")) continue;
    Json* cur = &env;
    std::vector<std::string> parts = split(it->first, '.');
    for (size_t k = 0; k + 1 < parts.size(); ++k) {
      Json& slot = (*cur)[parts[k]];
      if (!slot.is_object()) slot = Json::object();
      cur = &slot;
    }
    (*cur)[parts.back()] = it->second;
  }
  return env;
}

Result<std::string> substitute(std::string_view text, const Vars& vars, bool allow_unresolved, const Clock* clock) {
  auto tags = TRY(find_tags(text));
  if (tags.empty()) return std::string(text);
  bool any_expression = std::any_of(tags.begin(), tags.end(), [](const Tag& t) { return t.kind == Tag::Kind::kExpression; });
  Json env = any_expression ? expression_env(vars) : Json::object();
  std::string out;
  size_t pos = 0;
  for (const Tag& tag : tags) {
    out.append(text.substr(pos, tag.begin - pos));
    std::string piece = tag.kind == Tag::Kind::kExpression ? TRY(expression_replace(tag, vars, env, allow_unresolved, clock))
                                                           : TRY(simple_replace(tag, vars, allow_unresolved));
    out += piece;
    pos = tag.end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace tether::expr
