// Parses arbitrary text as a DAG `depends` and evaluates it with varied task states.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "expr/depends.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view src(reinterpret_cast<const char*>(data), size);
  auto d = tether::expr::parse_depends(src);
  if (!d.ok()) return 0;
  (void)d->task_names();
  (void)d->eval([](const std::string& name) {
    tether::expr::TaskState st;
    static const char* const phases[] = {"Succeeded", "Failed", "Error", "Skipped", "Omitted", "Running"};
    st.phase = phases[name.size() % 6];
    st.is_loop_parent = name.size() % 2 == 0;
    st.child_phases = {"Succeeded", "Failed"};
    return st;
  });
  return 0;
}
