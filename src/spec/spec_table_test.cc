// Table-driven tests: testdata/invalid.txt holds documents that must be rejected with an
// exact message, testdata/valid.txt documents that must load and validate cleanly.
//
// Format: "=== name" starts a case; the following lines are the file (wf.yaml); lines
// starting with "--> " are the expected diagnostics, one per line, in order.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "base/strings.h"
#include "spec/load.h"
#include "spec/validate.h"

namespace tether::spec {
namespace {

struct Case {
  std::string name;
  std::string text;
  std::vector<std::string> expected;
  int line = 0;  // where the case starts in the table
};

std::vector<Case> read_cases(const std::string& table) {
  std::string path = std::string(TETHER_SPEC_TESTDATA) + "/" + table;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::vector<Case> cases;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (starts_with(line, "=== ")) {
      cases.push_back(Case{line.substr(4), "", {}, n});
    } else if (cases.empty() || (starts_with(line, "#") && cases.back().text.empty())) {
      continue;
    } else if (starts_with(line, "--> ")) {
      cases.back().expected.push_back(line.substr(4));
    } else {
      cases.back().text += line + "\n";
    }
  }
  return cases;
}

// What `tether lint` would print for the file, one line per problem.
std::vector<std::string> lint(const std::string& text) {
  auto docs = load_documents(text, "wf.yaml");
  if (!docs.ok()) return {docs.error().str()};
  ValidateContext ctx;
  for (const auto& d : *docs) ctx.add(d);
  std::vector<std::string> out;
  for (const auto& d : *docs)
    for (const auto& diag : validate(d, ctx)) out.push_back(Error(ErrorCode::kInvalid, diag.message, diag.pos).str());
  return out;
}

TEST(SpecTable, InvalidDocumentsAreRejectedWithArgosMessage) {
  auto cases = read_cases("invalid.txt");
  ASSERT_GE(cases.size(), 80u);
  for (const auto& c : cases) {
    SCOPED_TRACE("invalid.txt:" + std::to_string(c.line) + " " + c.name);
    EXPECT_FALSE(c.expected.empty()) << "case has no expectation";
    EXPECT_EQ(lint(c.text), c.expected);
  }
}

TEST(SpecTable, ValidDocumentsAreAccepted) {
  auto cases = read_cases("valid.txt");
  ASSERT_GE(cases.size(), 40u);
  for (const auto& c : cases) {
    SCOPED_TRACE("valid.txt:" + std::to_string(c.line) + " " + c.name);
    EXPECT_EQ(lint(c.text), std::vector<std::string>{});
  }
}

}  // namespace
}  // namespace tether::spec
