#include "pgcopy/reader.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/core.h>

namespace tether::pgcopy {

std::shared_ptr<Chunk> ChunkPool::get() {
  std::unique_ptr<Chunk> c;
  {
    std::lock_guard<std::mutex> lock(free_->mu);
    if (!free_->chunks.empty()) {
      c = std::move(free_->chunks.back());
      free_->chunks.pop_back();
    }
  }
  if (!c) {
    c = std::make_unique<Chunk>();
    c->data.reset(new char[chunk_size_]);
    c->cap = chunk_size_;
  }
  c->len = 0;
  return std::shared_ptr<Chunk>(c.release(), [list = free_](Chunk* done) {
    std::lock_guard<std::mutex> lock(list->mu);
    list->chunks.emplace_back(done);
  });
}

std::vector<std::string_view> Batch::views() const {
  std::vector<std::string_view> out;
  out.reserve(pieces.size());
  for (const auto& p : pieces) out.push_back(p.view());
  return out;
}

Result<std::optional<Batch>> BatchReader::next() {
  if (done_) return std::optional<Batch>();
  if (!cur_) start_chunk();
  int64_t rows = 0;
  while (true) {
    if (scan_pos_ == cur_->len) {
      if (eof_) break;
      if (cur_->len == cur_->cap) {
        if (batch_start_ < cur_->len) carried_.push_back({cur_, batch_start_, cur_->len - batch_start_});
        cur_file_offset_ += static_cast<int64_t>(cur_->len);
        start_chunk();
      }
      eof_ = !TRY(fill());
      continue;
    }
    if (lines_skipped_ < limits_.skip_lines) {
      skip_header_lines();
      continue;
    }
    char* base = cur_->data.get();
    auto step = scanner_.next(base + scan_pos_, base + cur_->len);
    scan_pos_ = static_cast<size_t>(step.pos - base);
    if (step.kind == RecordScanner::Kind::kNeedMore) continue;
    if (step.kind == RecordScanner::Kind::kEndMarker) return end_marker_error();
    ++rows;
    ++rows_read_;
    bool limit_reached = limits_.max_rows > 0 && rows_read_ >= limits_.max_rows;
    if (limit_reached) done_ = true;
    if (limit_reached || rows >= limits_.batch_rows || batch_bytes() >= limits_.batch_bytes)
      return std::optional<Batch>(emit(rows, false));
  }
  done_ = true;
  if (scanner_.in_quote())
    return line_error("unterminated quoted field: a quote opened in the record starting here is still open at the end "
                      "of the input");
  if (scanner_.pending_end_marker()) return end_marker_error();
  bool trailing = scanner_.pending_record();
  if (trailing) {
    ++rows;
    ++rows_read_;
  }
  if (rows == 0) return std::optional<Batch>();
  return std::optional<Batch>(emit(rows, trailing));
}

void BatchReader::start_chunk() {
  cur_ = pool_.get();
  scan_pos_ = 0;
  batch_start_ = 0;
}

Result<bool> BatchReader::fill() {
  while (true) {
    ssize_t n = ::read(fd_, cur_->data.get() + cur_->len, cur_->cap - cur_->len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot read input");
    cur_->len += static_cast<size_t>(n);
    return n > 0;
  }
}

// Header lines are physical lines (as in tspc), dropped before the scanner sees them.
void BatchReader::skip_header_lines() {
  char* base = cur_->data.get();
  auto* nl = static_cast<char*>(std::memchr(base + scan_pos_, '\n', cur_->len - scan_pos_));
  scan_pos_ = nl ? static_cast<size_t>(nl + 1 - base) : cur_->len;
  batch_start_ = scan_pos_;
  if (nl) ++lines_skipped_;
}

int64_t BatchReader::batch_bytes() const {
  int64_t n = static_cast<int64_t>(scan_pos_ - batch_start_);
  for (const auto& p : carried_) n += static_cast<int64_t>(p.len);
  return n;
}

Batch BatchReader::emit(int64_t rows, bool trailing_record) {
  Batch b;
  b.pieces = std::move(carried_);
  carried_.clear();
  if (scan_pos_ > batch_start_) b.pieces.push_back({cur_, batch_start_, scan_pos_ - batch_start_});
  for (const auto& p : b.pieces) b.bytes += static_cast<int64_t>(p.len);
  b.byte_offset = cur_file_offset_ + static_cast<int64_t>(scan_pos_) - b.bytes;
  b.rows = rows;
  b.first_row = rows_read_ - rows;
  b.first_line = lines_skipped_ + batch_start_lines_ + 1;
  b.last_line = lines_skipped_ + scanner_.lines() + (trailing_record ? 1 : 0);
  batch_start_ = scan_pos_;
  batch_start_lines_ = scanner_.lines();
  return b;
}

Error BatchReader::line_error(const std::string& what) const {
  return invalid(fmt::format("line {}: {}", lines_skipped_ + scanner_.record_start_line(), what));
}

Error BatchReader::end_marker_error() const {
  if (scanner_.format() == CopyFormat::kText)
    return line_error("\"\\.\" in text-format data ends PostgreSQL's COPY data early; write a backslash as \"\\\\\"");
  return line_error(
      "a line holding only \"\\.\" would end PostgreSQL's COPY data early and drop the rows after it; "
      "quote the value (\"\\.\" in quotes) to load it as data");
}

}  // namespace tether::pgcopy
