// libFuzzer target: arbitrary bytes through the loader and the validator. Every input must
// end in documents or an error message; no crash, no hang, no sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "spec/load.h"
#include "spec/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tether::spec;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool strict : {true, false}) {
    // load_documents with a smaller value budget: the same code, but an alias bomb is cut
    // off before copying dominates an unoptimised, instrumented build.
    ParseOptions parse;
    parse.max_nodes = 20'000;
    parse.allow_duplicate_keys = !strict;
    auto nodes = parse_yaml(text, "fuzz.yaml", parse);
    if (!nodes.ok()) {
      if (nodes.error().message.empty()) __builtin_trap();  // every rejection says why
      continue;
    }
    std::vector<Document> docs;
    for (const auto& n : *nodes) {
      auto doc = decode_document(n, DecodeOptions{strict});
      if (!doc.ok()) {
        if (doc.error().message.empty()) __builtin_trap();
        continue;
      }
      docs.push_back(std::move(doc).value());
    }
    ValidateContext ctx;
    for (const auto& d : docs) ctx.add(d);
    for (const auto& d : docs)
      for (const auto& diag : validate(d, ctx))
        if (diag.message.empty()) __builtin_trap();
  }
  return 0;
}
