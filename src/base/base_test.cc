#include <gtest/gtest.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/result.h"
#include "base/strings.h"

namespace tether {
namespace {

Result<int> half(int x) {
  if (x % 2) return invalid("odd", SourcePos{"f.yaml", 3, 7});
  return x / 2;
}

Result<int> quarter(int x) {
  int h = TRY(half(x));
  return TRY(half(h));
}

TEST(Result, TryPropagatesErrorsWithPosition) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().str(), "f.yaml:3:7: odd");
}

TEST(Json, GoStyleEscaping) {
  Json j = {{"a", "<b>&"}, {"c", 1}};
  EXPECT_EQ(to_go_json(j), R"({"a":"\u003cb\u003e\u0026","c":1})");
}

TEST(Json, CompactDumpIsDumpByteForByte) {
  Json j = Json::parse(R"({"id":"wf-123","children":["a","b"],"empty":{},"none":[],"n":-3,"f":0.5,"big":1e300,
    "t":true,"z":null,"esc":"q\"uote\\back\nline\ttab\u0001","uni":"h\u00e9llo \u2603","del":"\u007f",
    "nested":{"k":[{"x":"y"},[1,[2]]]}})");
  EXPECT_EQ(dump_compact(j), j.dump());
  for (const Json& v : {Json(nullptr), Json("plain"), Json(42), Json::array(), Json::object()})
    EXPECT_EQ(dump_compact(v), v.dump());
}

TEST(Clock, Rfc3339RoundTrip) {
  WallTime t;
  ASSERT_TRUE(parse_rfc3339("2026-11-28T00:18:24Z", &t));
  EXPECT_EQ(format_rfc3339(t), "2026-11-28T00:18:24Z");
  ASSERT_TRUE(parse_rfc3339("2026-11-28T01:18:24.5+01:00", &t));
  EXPECT_EQ(format_rfc3339(t), "2026-11-28T00:18:24Z");
  EXPECT_FALSE(parse_rfc3339("yesterday", &t));
}

TEST(Strings, SplitTrimJoin) {
  EXPECT_EQ(split("a,b,,c", ',').size(), 4u);
  EXPECT_EQ(trim("  x \n"), "x");
  EXPECT_EQ(join({"a", "b"}, "-"), "a-b");
  EXPECT_EQ(replace_all("aXbX", "X", "yy"), "ayybyy");
}

}  // namespace
}  // namespace tether
