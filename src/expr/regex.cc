// Go's regexp on top of std::regex (ECMAScript grammar, which agrees with RE2 on the
// syntax workflows use: classes, groups, alternation, anchors, repetition). RE2's
// leading `(?i)` flag is translated to icase; other differences are not bridged.
#include <regex>

#include "expr/expr_lang_internal.h"

namespace tether::expr {
namespace {

// std::regex's matcher recurses per input character, so long inputs could exhaust the
// stack; workflow patterns and values are far below these limits.
constexpr size_t kMaxPattern = 1000;
constexpr size_t kMaxSubject = 4000;

Result<std::regex> compile(std::string_view pattern) {
  if (pattern.size() > kMaxPattern) return invalid("error parsing regexp: pattern too long");
  auto flags = std::regex::ECMAScript;
  if (pattern.substr(0, 4) == "(?i)") {
    flags |= std::regex::icase;
    pattern.remove_prefix(4);
  }
  try {
    return std::regex(pattern.begin(), pattern.end(), flags);
  } catch (const std::regex_error& e) {
    return invalid(std::string("error parsing regexp: ") + e.what() + ": `" + std::string(pattern) + "`");
  }
}

}  // namespace

Status check_regex(std::string_view pattern) {
  TRY(compile(pattern));
  return ok_status();
}

Result<bool> regex_search(std::string_view pattern, std::string_view subject) {
  std::regex re = TRY(compile(pattern));
  if (subject.size() > kMaxSubject) return invalid("regexp: input too long to match");
  try {
    return std::regex_search(subject.begin(), subject.end(), re);
  } catch (const std::regex_error& e) {
    return invalid(std::string("regexp: ") + e.what());
  }
}

}  // namespace tether::expr
