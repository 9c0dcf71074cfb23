#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "agent/data_step.h"
#include "agent/http_step.h"

namespace tether::agent {
namespace {

auto no_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };

HttpRequest request(const Json& http) {
  auto r = request_from_spec(http, no_env);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : HttpRequest{};
}

TEST(HttpRequestFromSpec, HeadersAreCanonicalAndSecretsComeFromTheEnvironment) {
  Json http = {{"url", "http://h/x"},
               {"method", "POST"},
               {"body", "hi"},
               {"timeoutSeconds", 5},
               {"headers", {{{"name", "x-header-name"}, {"value", "v"}}, {{"name", "authorization"}, {"valueFromEnv", "H1"}}}}};
  auto r = request_from_spec(http, [](const std::string& name) -> std::optional<std::string> {
    if (name == "H1") return std::string("Bearer s3cret");
    return std::nullopt;
  });
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->body, "hi");
  EXPECT_EQ(r->timeout_seconds, 5);
  ASSERT_EQ(r->headers.size(), 2u);
  EXPECT_EQ(r->headers[0], (std::pair<std::string, std::string>{"X-Header-Name", "v"}));
  EXPECT_EQ(r->headers[1], (std::pair<std::string, std::string>{"Authorization", "Bearer s3cret"}));
}

TEST(HttpRequestFromSpec, MissingSecretBodyFromBytesAndBadMethod) {
  Json missing = {{"url", "http://h"}, {"headers", {{{"name", "a"}, {"valueFromEnv", "NOPE"}}}}};
  auto r = request_from_spec(missing, no_env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("header a"), std::string::npos);

  HttpRequest b = request({{"url", "http://h"}, {"bodyFrom", {{"bytes", "AAH/"}}}});
  EXPECT_EQ(b.body, std::string("\0\1\xff", 3));

  auto bad = request_from_spec({{"url", "http://h"}, {"method", "GE T"}}, no_env);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "net/http: invalid method \"GE T\"");
}

TEST(HttpCanonicalHeaderName, AsGo) {
  EXPECT_EQ(canonical_header_name("content-type"), "Content-Type");
  EXPECT_EQ(canonical_header_name("X-AMZ-date"), "X-Amz-Date");
  EXPECT_EQ(canonical_header_name("bad header"), "bad header");
}

TEST(HttpPerform, SchemesOtherThanHttpAreGosError) {
  auto r = perform(request({{"url", "ftp://h/x"}, {"method", "POST"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "Post \"ftp://h/x\": unsupported protocol scheme \"ftp\"");
  auto none = perform(request({{"url", "nowhere"}}));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message, "Get \"nowhere\": unsupported protocol scheme \"\"");
  auto zero = perform(request({{"url", "http://127.0.0.1:9/"}, {"timeoutSeconds", 0}}));
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().message, "Get \"http://127.0.0.1:9/\": context deadline exceeded");
}

TEST(HttpJudge, DefaultIsTwoHundreds) {
  HttpRequest req = request({{"url", "http://h"}});
  HttpResponse ok{204, "", {}};
  EXPECT_TRUE(judge(req, ok)->success);
  HttpResponse nf{404, "no", {}};
  auto v = judge(req, nf);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->success);
  EXPECT_EQ(v->message, "received non-2xx response code: 404");
  HttpResponse redirect{302, "", {}};
  EXPECT_FALSE(judge(req, redirect)->success);
}

TEST(HttpJudge, SuccessConditionSeesRequestAndResponse) {
  HttpResponse resp{201, "hello google", {{"Server", "cloudflare"}, {"Server", "second"}}};
  struct Case {
    std::string condition;
    bool success;
  };
  for (const Case& c : std::vector<Case>{
           {"response.statusCode == 201", true},
           {"response.statusCode == 200", false},
           {"response.body contains \"google\"", true},
           {"response.headers[\"Server\"][0] == \"cloudflare\"", true},
           {"response.headers[\"Server\"][1] == \"second\"", true},
           {"request.method == \"PUT\" && request.body == \"b\"", true},
           {"request.headers[\"X-A\"][0] == \"1\"", true},
       }) {
    HttpRequest req = request({{"url", "http://h"},
                               {"method", "PUT"},
                               {"body", "b"},
                               {"headers", {{{"name", "x-a"}, {"value", "1"}}}},
                               {"successCondition", c.condition}});
    auto v = judge(req, resp);
    ASSERT_TRUE(v.ok()) << c.condition << ": " << v.error().message;
    EXPECT_EQ(v->success, c.success) << c.condition;
    if (!c.success) EXPECT_EQ(v->message, "successCondition '" + c.condition + "' evaluated false");
  }
}

TEST(HttpJudge, ConditionErrors) {
  HttpResponse resp{200, "x", {}};
  auto not_bool = judge(request({{"url", "http://h"}, {"successCondition", "response.statusCode"}}), resp);
  ASSERT_FALSE(not_bool.ok());
  EXPECT_EQ(not_bool.error().message, "unable to cast expression result '%!s(int=200)' to bool");
  auto bad = judge(request({{"url", "http://h"}, {"successCondition", "response.statusCode =="}}), resp);
  EXPECT_FALSE(bad.ok());
  auto unknown = judge(request({{"url", "http://h"}, {"successCondition", "nope == 1"}}), resp);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("nope"), std::string::npos);
}

TEST(DataTransform, FilterThenMapInOrder) {
  Json files = {"a/main.log", "b/main.log", "b/other.txt"};
  Json steps = {{{"expression", "filter(data, {# endsWith \"main.log\"})"}},
                {{"expression", ""}},
                {{"expression", "map(data, {# + \".ready\"})"}}};
  auto out = transform(files, steps);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, Json({"a/main.log.ready", "b/main.log.ready"}));
  EXPECT_EQ(*transform(files, Json()), files);
}

TEST(DataTransform, ErrorNamesTheStep) {
  auto out = transform(Json::array(), {{{"expression", "len(data)"}}, {{"expression", "data +"}}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().message.rfind("error processing data step 1: ", 0), 0u) << out.error().message;
}

TEST(DataListFiles, RecursiveSortedFilesOnly) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("agent_test_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "b" / "c");
  fs::create_directories(root / "empty");
  for (const char* f : {"z.txt", "b/one.log", "b/c/two.log"}) std::ofstream(root / f) << "x";
  fs::create_symlink("z.txt", root / "link");
  auto files = list_files(root.string());
  ASSERT_TRUE(files.ok()) << files.error().message;
  EXPECT_EQ(*files, (std::vector<std::string>{"b/c/two.log", "b/one.log", "link", "z.txt"}));
  EXPECT_TRUE(list_files((root / "z.txt").string())->empty());
  EXPECT_TRUE(list_files((root / "absent").string())->empty());
  fs::remove_all(root);
}

}  // namespace
}  // namespace tether::agent
