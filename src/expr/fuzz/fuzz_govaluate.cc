// Checks and evaluates arbitrary text as a govaluate `when`.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "expr/govaluate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view src(reinterpret_cast<const char*>(data), size);
  (void)tether::expr::check_when(src);
  (void)tether::expr::eval_when(src);
  return 0;
}
