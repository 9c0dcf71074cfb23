// Parses and evaluates arbitrary text as expr-lang against a small environment.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "expr/expr_lang.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tether::Json;
  static const Json env = {{"inputs", {{"parameters", {{"x", "3"}, {"json", R"({"a":[1,2,{"b":"c"}]})"}}}}},
                           {"items", Json::array({1, 2.5, "s", nullptr, Json::array({1})})},
                           {"n", 7},
                           {"s", "hello"}};
  std::string_view src(reinterpret_cast<const char*>(data), size);
  auto ast = tether::expr::parse_expr(src);
  if (!ast.ok()) return 0;
  (void)ast->identifiers();
  auto r = tether::expr::eval_expr(*ast, env);
  if (r.ok()) (void)tether::expr::go_json(*r);
  return 0;
}
