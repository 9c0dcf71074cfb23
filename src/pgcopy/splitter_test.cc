#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "pgcopy/reader.h"
#include "pgcopy/splitter.h"
#include "pgcopy/splitter_reference.h"

namespace tether::pgcopy {
namespace {

struct Scan {
  std::vector<size_t> ends;
  bool marker = false;
  bool unterminated = false;
  bool trailing = false;
  int64_t lines = 0;
  int64_t pg_lines = 0;
};

// Feeds `in` in pieces of `piece` bytes, as reads of a pipe would deliver it.
Scan scan(std::string_view in, size_t piece, CopyFormat format = CopyFormat::kCsv, char quote = '"', char escape = '"') {
  RecordScanner s(format, quote, escape);
  Scan out;
  for (size_t off = 0; off < in.size() && !out.marker; off += piece) {
    const char* p = in.data() + off;
    const char* end = p + std::min(piece, in.size() - off);
    while (p < end) {
      auto step = s.next(p, end);
      p = step.pos;
      if (step.kind == RecordScanner::Kind::kRecordEnd) out.ends.push_back(static_cast<size_t>(p - in.data()));
      if (step.kind == RecordScanner::Kind::kEndMarker) {
        out.marker = true;
        break;
      }
    }
  }
  out.marker = out.marker || s.pending_end_marker();
  out.unterminated = s.in_quote();
  out.trailing = s.pending_record() && !s.in_quote();
  out.lines = s.lines();
  out.pg_lines = s.pg_lines();
  return out;
}

TEST(RecordScanner, PlainLines) {
  auto r = scan("a,b\nc,d\n", 1000);
  EXPECT_EQ(r.ends, (std::vector<size_t>{4, 8}));
  EXPECT_FALSE(r.trailing);
  EXPECT_EQ(r.lines, 2);
}

TEST(RecordScanner, QuotedNewlineDelimiterAndDoubledQuote) {
  std::string in = "1,\"a\nb,\"\"c\"\"\"\n2,x\n";
  for (size_t piece : {1, 2, 3, 1000}) {
    auto r = scan(in, piece);
    ASSERT_EQ(r.ends.size(), 2u) << piece;
    EXPECT_EQ(r.ends[0], in.find("\n2,") + 1);
    EXPECT_EQ(r.lines, 3);
    EXPECT_EQ(r.pg_lines, 3) << "PostgreSQL counts the newline inside quotes";
  }
}

TEST(RecordScanner, DistinctEscape) {
  // With ESCAPE '\', \" inside quotes is a literal quote and \\ a literal backslash.
  std::string in = "\"a\\\"\nb\",1\n\"c\\\\\",2\n";
  auto r = scan(in, 1, CopyFormat::kCsv, '"', '\\');
  ASSERT_EQ(r.ends.size(), 2u);
  EXPECT_EQ(r.ends[0], in.find(",1\n") + 3);
}

TEST(RecordScanner, TrailingRecordWithoutNewline) {
  auto r = scan("a\nb", 1000);
  EXPECT_EQ(r.ends, (std::vector<size_t>{2}));
  EXPECT_TRUE(r.trailing);
}

TEST(RecordScanner, UnterminatedQuoteAtEof) {
  auto r = scan("a\n\"b\nc\n", 1000);
  EXPECT_EQ(r.ends, (std::vector<size_t>{2}));
  EXPECT_TRUE(r.unterminated);
}

TEST(RecordScanner, EndMarkerOnlyAloneAtRecordStart) {
  EXPECT_TRUE(scan("a\n\\.\nb\n", 1).marker);
  EXPECT_TRUE(scan("a\n\\.\r\nb\n", 1000).marker);
  EXPECT_TRUE(scan("a\n\\.", 1000).marker) << "at EOF too: refuse rather than guess";
  EXPECT_FALSE(scan("a\n\\.x\nb\n", 1).marker) << "\\.x is data";
  EXPECT_FALSE(scan("a\nx\\.\n", 1).marker);
  EXPECT_FALSE(scan("\"a\n\\.\nb\"\n", 1).marker) << "inside a quoted field it is data";
  EXPECT_FALSE(scan("\"\\.\"\n", 1).marker);
}

TEST(RecordScanner, TextFormatBackslashes) {
  // A backslash escapes the next byte, a newline included; "\." anywhere is the marker.
  auto r = scan("a\\\nb\nc\\\\\n", 1, CopyFormat::kText);
  EXPECT_EQ(r.ends, (std::vector<size_t>{5, 9}));
  EXPECT_EQ(r.lines, 3);
  EXPECT_EQ(r.pg_lines, 2) << "an escaped newline is not a line for PostgreSQL";
  EXPECT_TRUE(scan("a\tb\\.\n", 2, CopyFormat::kText).marker);
  EXPECT_FALSE(scan("\"a\nb\n", 1, CopyFormat::kText).unterminated) << "quotes mean nothing in text";
}

TEST(RecordScanner, NulInsideQuotesFollowsPostgres) {
  // With QUOTE = ESCAPE PostgreSQL uses NUL as its "no escape" sentinel, so a NUL inside
  // quotes escapes the next quote. The server rejects the NUL anyway; the boundaries must
  // still match the ones it computes.
  std::string in("\"a\0\"\n\"\n", 7);
  auto want = reference::split(in, CopyFormat::kCsv, '"', '"');
  EXPECT_EQ(scan(in, 1).ends, want.ends);
  EXPECT_EQ(scan(in, 1000).ends, want.ends);
}

TEST(RecordScanner, AgreesWithReferenceOnRandomInput) {
  std::mt19937 rng(42);
  const char alphabet[] = {'a', ',', '"', '\n', '\\', '.', '\r', '|'};
  for (int iter = 0; iter < 3000; ++iter) {
    std::string in;
    size_t n = rng() % 64;
    for (size_t i = 0; i < n; ++i) in += alphabet[rng() % sizeof alphabet];
    CopyFormat format = iter % 3 == 0 ? CopyFormat::kText : CopyFormat::kCsv;
    char escape = iter % 5 == 0 ? '\\' : (iter % 7 == 0 ? '|' : '"');
    auto want = reference::split(in, format, '"', escape);
    auto got = scan(in, 1 + rng() % 9, format, '"', escape);
    ASSERT_EQ(got.marker, want.end_marker) << in;
    ASSERT_EQ(got.ends, want.ends) << in;
    if (want.end_marker) continue;
    ASSERT_EQ(got.unterminated, want.unterminated) << in;
    ASSERT_EQ(got.trailing, want.trailing) << in;
    ASSERT_EQ(got.lines, static_cast<int64_t>(want.lines)) << in;
  }
}

// BatchReader over an in-memory file.
class ReaderTest : public ::testing::Test {
 protected:
  std::vector<Batch> read_all(const std::string& content, ReaderLimits limits, size_t chunk, std::string* error = nullptr) {
    int fd = memfd_create("input", 0);
    EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ::lseek(fd, 0, SEEK_SET);
    ChunkPool pool(chunk);
    BatchReader reader(fd, RecordScanner(CopyFormat::kCsv, '"', '"'), limits, pool);
    std::vector<Batch> out;
    while (true) {
      auto b = reader.next();
      if (!b.ok()) {
        if (error) *error = b.error().message;
        break;
      }
      if (!*b) break;
      out.push_back(std::move(**b));
    }
    ::close(fd);
    return out;
  }
  static std::string text(const Batch& b) {
    std::string s;
    for (auto v : b.views()) s += v;
    return s;
  }
};

TEST_F(ReaderTest, CutsOnRecordBoundariesAcrossChunks) {
  std::string content;
  for (int i = 1; i <= 100; ++i) content += "\"r" + std::to_string(i) + "\nx\"," + std::to_string(i) + "\n";
  for (size_t chunk : {7, 64, 4096}) {
    auto batches = read_all(content, {10, 1 << 20, 0, 0}, chunk);
    ASSERT_EQ(batches.size(), 10u) << chunk;
    std::string joined;
    for (const auto& b : batches) {
      EXPECT_EQ(b.rows, 10);
      joined += text(b);
    }
    EXPECT_EQ(joined, content);
    EXPECT_EQ(batches[1].first_row, 10);
    EXPECT_EQ(batches[1].first_line, 21) << "two physical lines per record";
    EXPECT_EQ(batches[1].last_line, 40);
    EXPECT_EQ(batches[1].byte_offset, static_cast<int64_t>(text(batches[0]).size()));
  }
}

TEST_F(ReaderTest, ByteLimitHeaderAndRowLimit) {
  std::string content = "h1\nh2\n";
  for (int i = 0; i < 50; ++i) content += "row" + std::to_string(i) + "\n";
  auto batches = read_all(content, {1000, 20, 12, 2}, 16);
  int64_t rows = 0;
  for (const auto& b : batches) rows += b.rows;
  EXPECT_EQ(rows, 12);
  EXPECT_EQ(text(batches[0]).substr(0, 5), "row0\n");
  EXPECT_EQ(batches[0].first_line, 3);
  EXPECT_GE(batches.size(), 3u) << "20-byte batches";
}

TEST_F(ReaderTest, ErrorsNameTheLine) {
  std::string error;
  read_all("a\nb\n\"c\nd\n", {10, 1 << 20, 0, 1}, 64, &error);
  EXPECT_EQ(error.substr(0, 37), "line 3: unterminated quoted field: a ");
  read_all("a\nb\n\\.\nc\n", {10, 1 << 20, 0, 0}, 64, &error);
  EXPECT_EQ(error.substr(0, 8), "line 3: ");
}

TEST_F(ReaderTest, TrailingRecordCounts) {
  auto batches = read_all("a\nb", {10, 1 << 20, 0, 0}, 64);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].rows, 2);
  EXPECT_EQ(batches[0].last_line, 2);
}

}  // namespace
}  // namespace tether::pgcopy
