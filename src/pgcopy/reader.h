// Cuts the input into batches of whole records without copying it: a batch is a list of
// slices of large read buffers that stay alive while any batch still points into them.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "pgcopy/splitter.h"

namespace tether::pgcopy {

struct Chunk {
  std::unique_ptr<char[]> data;
  size_t cap = 0;
  size_t len = 0;
};

// Recycles read buffers so a long load does not keep faulting in fresh pages. Chunks may
// outlive the pool: the free list is shared with them.
class ChunkPool {
 public:
  explicit ChunkPool(size_t chunk_size) : chunk_size_(chunk_size), free_(std::make_shared<FreeList>()) {}
  std::shared_ptr<Chunk> get();

 private:
  struct FreeList {
    std::mutex mu;
    std::vector<std::unique_ptr<Chunk>> chunks;
  };
  size_t chunk_size_;
  std::shared_ptr<FreeList> free_;
};

struct Piece {
  std::shared_ptr<Chunk> chunk;
  size_t offset = 0;
  size_t len = 0;
  std::string_view view() const { return {chunk->data.get() + offset, len}; }
};

struct Batch {
  std::vector<Piece> pieces;
  int64_t first_row = 0;    // 0-based index of its first record among all data records
  int64_t rows = 0;
  int64_t first_line = 0;   // 1-based file line of its first byte (header lines count)
  int64_t last_line = 0;
  int64_t byte_offset = 0;  // in the file
  int64_t bytes = 0;
  std::vector<std::string_view> views() const;
};

struct ReaderLimits {
  int64_t batch_rows = 5000;
  int64_t batch_bytes = 4 << 20;  // a batch ends at the first record end at or past this
  int64_t max_rows = 0;           // 0: all
  int64_t skip_lines = 0;         // header lines, dropped before the first record
};

class BatchReader {
 public:
  BatchReader(int fd, RecordScanner scanner, ReaderLimits limits, ChunkPool& pool)
      : fd_(fd), scanner_(scanner), limits_(limits), pool_(pool) {}

  // The next batch, nullopt at the end of input (or of --limit), or an error naming the
  // line: an unterminated quoted field, a "\." record, a read failure.
  Result<std::optional<Batch>> next();

  int64_t rows_read() const { return rows_read_; }
  int64_t lines_skipped() const { return lines_skipped_; }

 private:
  Result<bool> fill();  // false at end of input
  void start_chunk();
  void skip_header_lines();
  Batch emit(int64_t rows, bool trailing_record);
  int64_t batch_bytes() const;
  Error line_error(const std::string& what) const;
  Error end_marker_error() const;

  int fd_;
  RecordScanner scanner_;
  ReaderLimits limits_;
  ChunkPool& pool_;
  std::shared_ptr<Chunk> cur_;
  int64_t cur_file_offset_ = 0;  // file offset of cur_->data[0]
  size_t scan_pos_ = 0;
  size_t batch_start_ = 0;
  std::vector<Piece> carried_;  // earlier chunks' share of the batch being built
  bool eof_ = false;
  bool done_ = false;
  int64_t rows_read_ = 0;
  int64_t lines_skipped_ = 0;
  int64_t batch_start_lines_ = 0;  // scanner_.lines() when the batch began
};

}  // namespace tether::pgcopy
