// Finds tags in and substitutes arbitrary text, strictly and leniently.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "expr/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tether::Json;
  static const tether::expr::Vars vars = {{"inputs.parameters.x", "1"},
                                          {"inputs.parameters.message", "{{inputs.parameters.x}}"},
                                          {"item", R"({"a":1})"},
                                          {"item.a", "1"},
                                          {"steps.flip-coin.outputs.result", "heads"},
                                          {"workflow.parameters.json", R"([{"value":"true"}])"},
                                          {"tasks.skipped.outputs.parameters.msg", nullptr}};
  std::string_view src(reinterpret_cast<const char*>(data), size);
  (void)tether::expr::find_tags(src);
  (void)tether::expr::substitute(src, vars, false);
  (void)tether::expr::substitute(src, vars, true);
  return 0;
}
