// Every expression, `when` and `depends` in Argo's examples parses.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <functional>

#include "expr/depends.h"
#include "expr/expr_lang.h"
#include "expr/govaluate.h"
#include "expr/template.h"

namespace tether::expr {
namespace {

namespace fs = std::filesystem;

struct Found {
  std::string file;
  std::string key;
  std::string text;
};

std::vector<Found> collect(const fs::path& root) {
  std::vector<Found> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".yaml" && entry.path().extension() != ".yml") continue;
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAllFromFile(entry.path().string());
    } catch (const YAML::Exception&) {
      continue;  // not ours to judge here; spec's tests load the examples
    }
    std::function<void(const YAML::Node&, const std::string&)> walk = [&](const YAML::Node& n, const std::string& key) {
      if (n.IsMap()) {
        for (const auto& kv : n) walk(kv.second, kv.first.as<std::string>());
      } else if (n.IsSequence()) {
        for (const auto& x : n) walk(x, key);
      } else if (n.IsScalar()) {
        out.push_back({entry.path().filename().string(), key, n.as<std::string>()});
      }
    };
    for (const auto& d : docs) walk(d, "");
  }
  return out;
}

// Stands in for every simple tag, as a value would after substitution.
std::string fill_simple_tags(const std::string& text) {
  auto tags = find_tags(text);
  if (!tags.ok()) return text;
  std::string out;
  size_t pos = 0;
  for (const auto& t : *tags) {
    out += text.substr(pos, t.begin - pos);
    out += t.kind == Tag::Kind::kSimple ? "x" : text.substr(t.begin, t.end - t.begin);
    pos = t.end;
  }
  return out + text.substr(pos);
}

class ArgoExamples : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* shared = std::getenv("TETHER_SHARED");
    dir_ = shared ? fs::path(shared) / "argo-examples" : fs::path();
    if (!shared || !fs::is_directory(dir_)) GTEST_SKIP() << "Argo examples not found (set TETHER_SHARED)";
    found_ = collect(dir_);
  }
  fs::path dir_;
  std::vector<Found> found_;
};

TEST_F(ArgoExamples, EveryTagAndExpressionTagParses) {
  int expressions = 0;
  for (const auto& f : found_) {
    auto tags = find_tags(f.text);
    ASSERT_TRUE(tags.ok()) << f.file << ": " << tags.error().message;
    for (const auto& t : *tags) {
      if (t.kind != Tag::Kind::kExpression) continue;
      ++expressions;
      auto ast = parse_expr(t.body);
      EXPECT_TRUE(ast.ok()) << f.file << ": " << t.body << ": " << ast.error().message;
    }
  }
  EXPECT_GE(expressions, 15);
}

TEST_F(ArgoExamples, EveryWhenChecks) {
  int whens = 0;
  for (const auto& f : found_) {
    if (f.key != "when") continue;
    ++whens;
    if (f.text.find("{{=") != std::string::npos) continue;  // an expression tag: parsed above
    std::string filled = fill_simple_tags(f.text);
    auto st = check_when(filled);
    EXPECT_TRUE(st.ok()) << f.file << ": " << f.text << ": " << st.error().message;
  }
  EXPECT_GE(whens, 30);
}

TEST_F(ArgoExamples, EveryExpressionFieldParses) {
  int n = 0;
  for (const auto& f : found_) {
    if (f.key != "expression" && f.key != "fromExpression") continue;
    ++n;
    std::string filled = fill_simple_tags(f.text);
    auto ast = parse_expr(filled);
    EXPECT_TRUE(ast.ok()) << f.file << ": " << f.text << ": " << ast.error().message;
  }
  EXPECT_GE(n, 10);
}

TEST_F(ArgoExamples, EveryDependsParses) {
  int n = 0;
  for (const auto& f : found_) {
    if (f.key != "depends") continue;
    ++n;
    auto d = parse_depends(f.text);
    EXPECT_TRUE(d.ok()) << f.file << ": " << f.text << ": " << d.error().message;
  }
  EXPECT_GE(n, 40);
}

}  // namespace
}  // namespace tether::expr
