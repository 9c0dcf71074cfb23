// The runner and the supervisor read node files (spec, started, exit) that a crash may have
// left truncated or a user may have edited: decoding must never crash, and what decodes must
// encode back to the same fields.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "exec/layout.h"
#include "exec/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  tether::exec::Record record, again;
  std::string why;
  if (tether::exec::Record::decode(text, &record, &why)) {
    if (!tether::exec::Record::decode(record.encode(), &again, &why) || again.fields() != record.fields()) std::abort();
    record.get_int("code");
  }
  tether::exec::StepSpec spec;
  if (tether::exec::decode_spec(text, &spec, &why)) {
    tether::exec::ViewPlan plan = tether::exec::plan_view("/node", spec.mounts, spec.outputs, spec.script);
    if (plan.outputs.size() != spec.outputs.size()) std::abort();
  }
  return 0;
}
