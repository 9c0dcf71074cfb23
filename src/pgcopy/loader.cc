#include "pgcopy/loader.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <fmt/core.h>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "pgcopy/binary.h"
#include "pgcopy/copy_sql.h"
#include "pgcopy/pg.h"
#include "pgcopy/reader.h"
#include "pgcopy/report.h"

namespace tether::pgcopy {
namespace {

using Clock = std::chrono::steady_clock;

// Bounded hand-off from the reader to the workers; abort() wakes everyone for good.
class BatchQueue {
 public:
  explicit BatchQueue(size_t cap) : cap_(cap) {}

  bool push(Batch b) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < cap_ || aborted_; });
    if (aborted_) return false;
    q_.push_back(std::move(b));
    not_empty_.notify_one();
    return true;
  }
  std::optional<Batch> pop() {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty() || closed_ || aborted_; });
    if (aborted_ || q_.empty()) return std::nullopt;
    Batch b = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return b;
  }
  void close() { set([this] { closed_ = true; }); }
  void abort() {
    set([this] {
      aborted_ = true;
      q_.clear();
    });
  }

 private:
  template <typename F>
  void set(F f) {
    std::lock_guard<std::mutex> lock(mu_);
    f();
    not_empty_.notify_all();
    not_full_.notify_all();
  }
  size_t cap_;
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<Batch> q_;
  bool closed_ = false;
  bool aborted_ = false;
};

// The control table of timescaledb-parallel-copy, so either tool can resume the other's import.
constexpr const char* kControlDdl = R"(
CREATE SCHEMA IF NOT EXISTS timescaledb_parallel_copy;
CREATE TABLE IF NOT EXISTS timescaledb_parallel_copy.transactions (
  import_id TEXT NOT NULL,
  start_row BIGINT NOT NULL,
  row_count BIGINT NOT NULL,
  byte_offset BIGINT NOT NULL,
  byte_len BIGINT NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT NOW(),
  state TEXT NOT NULL,
  failure_reason TEXT DEFAULT NULL,
  PRIMARY KEY (import_id, start_row)
) WITH (autovacuum_enabled = on);
CREATE INDEX IF NOT EXISTS idx_transactions_created_at ON timescaledb_parallel_copy.transactions (created_at);
DELETE FROM timescaledb_parallel_copy.transactions WHERE created_at < NOW() - interval '28 days';
)";

// Claims a batch inside its transaction; no row back means a completed earlier claim.
constexpr const char* kClaimSql = R"(
INSERT INTO timescaledb_parallel_copy.transactions
  (import_id, start_row, row_count, byte_offset, byte_len, created_at, state, failure_reason)
VALUES ($1, $2, $3, $4, $5, NOW(), 'completed', NULL)
ON CONFLICT (import_id, start_row)
DO UPDATE SET state = 'completed', failure_reason = NULL, created_at = NOW()
WHERE transactions.state = 'failed'
RETURNING true)";

// A completed batch of the same import that overlaps this one without starting where it
// starts: the earlier run cut batches differently, and loading would duplicate rows.
constexpr const char* kOverlapSql = R"(
SELECT start_row FROM timescaledb_parallel_copy.transactions
WHERE import_id = $1 AND state = 'completed' AND start_row <> $2
  AND start_row < $2 + $3 AND start_row + row_count > $2
LIMIT 1)";

constexpr const char* kFailSql = R"(
INSERT INTO timescaledb_parallel_copy.transactions
  (import_id, start_row, row_count, byte_offset, byte_len, created_at, state, failure_reason)
VALUES ($1, $2, $3, $4, $5, NOW(), 'failed', $6)
ON CONFLICT (import_id, start_row)
DO UPDATE SET state = 'failed', failure_reason = $6, created_at = NOW()
WHERE transactions.state = 'failed')";

class Loader {
 public:
  Loader(const Options& o, CopySettings cs, const LogFn& log)
      : o_(o), cs_(cs), log_(log), copy_sql_(copy_statement(o)), queue_(static_cast<size_t>(2 * o.workers)) {}

  LoadResult run(int fd);

 private:
  Status prepare();
  void read_all(int fd);
  void work(size_t i);
  enum class Outcome { kCommitted, kSkipped };
  Status load_batch(PgConn& c, const Batch& b);
  Result<Outcome> attempt(PgConn& c, const Batch& b, const std::string& sql, const std::vector<std::string_view>& data,
                          ServerError* se);
  void account(const Batch& b, Outcome outcome, Clock::time_point start);
  Result<bool> claim(PgConn& c, const Batch& b);
  void mark_failed(PgConn& c, const Batch& b, const std::string& reason);
  Error describe(const Batch& b, const ServerError& se, const Error& fallback) const;
  int64_t locate_record(const Batch& b, int64_t pg_line) const;
  void fail(Error e);
  std::vector<std::string> control_params(const Batch& b) const;
  std::string committed_lines();
  ReportCounts counts() const { return {inserted_.load(), skipped_.load(), total_.load()}; }

  const Options& o_;
  CopySettings cs_;
  const LogFn& log_;
  std::string copy_sql_;
  std::optional<BinaryEncoder> binary_;
  std::string binary_sql_;
  BatchQueue queue_;
  std::vector<PgConn> conns_;
  std::atomic<int64_t> inserted_{0}, skipped_{0}, total_{0};
  std::atomic<bool> failed_{false};
  int64_t rows_read_ = 0;  // written by the reader before the workers are joined
  std::mutex mu_;  // guards error_ and committed_
  std::optional<Error> error_;
  std::vector<std::pair<int64_t, int64_t>> committed_;  // file line ranges of committed batches
};

int64_t header_lines(const Options& o) { return o.skip_lines + (o.skip_header ? o.header_line_count : 0); }

LoadResult Loader::run(int fd) {
  LoadResult out;
  auto start = Clock::now();
  if (auto st = prepare(); !st.ok()) {
    out.error = st.take_error();
    return out;
  }
  {
    Reporter reporter(o_.reporting_period, log_, [this] { return counts(); });
    std::vector<std::thread> workers;
    for (size_t i = 0; i < conns_.size(); ++i) workers.emplace_back([this, i] { work(i); });
    read_all(fd);
    for (auto& t : workers) t.join();
  }
  out.inserted = inserted_.load();
  out.skipped = skipped_.load();
  out.read = rows_read_;
  if (!error_ && out.read != out.inserted + out.skipped) {
    error_ = internal(fmt::format("{} rows read but {} loaded and {} already loaded by import id \"{}\"", out.read,
                                  out.inserted, out.skipped, o_.import_id));
  }
  if (!error_ && out.inserted > 0) {
    // Batches commit with synchronous_commit off; one synchronous commit at the end flushes
    // the WAL past all of them, so success is only reported once every row is durable.
    auto st = conns_[0].exec("SET synchronous_commit TO on; BEGIN; SELECT txid_current(); COMMIT");
    if (!st.ok()) error_ = st.take_error();
  }
  out.took = Clock::now() - start;
  out.error = std::move(error_);
  out.committed_lines = committed_lines();
  return out;
}

Status Loader::prepare() {
  for (int64_t i = 0; i < o_.workers; ++i) {
    conns_.push_back(TRY(PgConn::connect(o_.connection, o_.db_name)));
    TRY_STATUS(conns_.back().exec("SET synchronous_commit TO off"));
  }
  if (o_.verbose) log_(go_log_line("Copy command: " + copy_sql_));
  if (o_.truncate) {
    if (o_.verbose) log_(go_log_line("Truncating table " + full_table_name(o_)));
    TRY_STATUS(conns_[0].exec("TRUNCATE " + full_table_name(o_)));
  }
  if (!o_.import_id.empty()) TRY_STATUS(conns_[0].exec(kControlDdl));
  if (o_.binary) {
    std::string why;
    binary_ = BinaryEncoder::create(conns_[0], o_, cs_, &why);
    std::string cols = o_.columns.empty() ? "" : "(" + o_.columns + ")";
    binary_sql_ = "COPY " + full_table_name(o_) + cols + " FROM STDIN WITH (FORMAT binary)";
    if (o_.verbose) log_(go_log_line(binary_ ? "Values of simple types are sent as COPY BINARY where possible"
                                             : "Sending CSV text only: " + why));
  }
  return ok_status();
}

void Loader::read_all(int fd) {
  ChunkPool pool(static_cast<size_t>(std::max<int64_t>(o_.buffer_byte_size, 64 * 1024)));
  ReaderLimits limits{o_.batch_size, o_.batch_byte_size, o_.limit, header_lines(o_)};
  BatchReader reader(fd, RecordScanner(cs_.format, cs_.quote, cs_.escape), limits, pool);
  while (!failed_.load()) {
    auto next = reader.next();
    if (!next.ok()) {
      fail(next.take_error());
      break;
    }
    if (!*next || !queue_.push(std::move(**next))) break;
  }
  rows_read_ = reader.rows_read();
  queue_.close();
}

void Loader::work(size_t i) {
  while (auto b = queue_.pop()) {
    auto st = load_batch(conns_[i], *b);
    if (!st.ok()) {
      fail(st.take_error());
      return;
    }
  }
}

void Loader::fail(Error e) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!error_) error_ = std::move(e);
  failed_ = true;
  queue_.abort();
}

// One try at a batch: BEGIN, claim (with an import id), COPY, row count check, COMMIT.
// Anything short of the commit rolls back.
Result<Loader::Outcome> Loader::attempt(PgConn& c, const Batch& b, const std::string& sql,
                                        const std::vector<std::string_view>& data, ServerError* se) {
  TRY_STATUS(c.exec("BEGIN"));
  auto fail = [&](Error e) -> Result<Outcome> {
    (void)c.exec("ROLLBACK");
    return e;
  };
  if (!o_.import_id.empty()) {
    auto claimed = claim(c, b);
    if (!claimed.ok()) return fail(claimed.take_error());
    if (*claimed) {
      TRY_STATUS(c.exec("ROLLBACK"));
      return Outcome::kSkipped;
    }
  }
  auto stored = c.copy_in(sql, data, se);
  if (!stored.ok()) return fail(stored.take_error());
  if (*stored != b.rows) {
    return fail(internal(fmt::format("lines {}-{}: the server stored {} rows where tether counted {} records; "
                                     "nothing of this batch was committed",
                                     b.first_line, b.last_line, *stored, b.rows)));
  }
  TRY_STATUS(c.exec("COMMIT"));
  return Outcome::kCommitted;
}

Status Loader::load_batch(PgConn& c, const Batch& b) {
  auto start = Clock::now();
  std::optional<Result<Outcome>> done;
  if (binary_) {
    thread_local std::string encoded;
    if (binary_->encode(b, &encoded)) {
      ServerError se;
      auto r = attempt(c, b, binary_sql_, {encoded}, &se);
      // A value the server refused goes again as text, whose error names line and column.
      if (r.ok() || se.message.empty()) done = std::move(r);
    }
  }
  if (!done) {
    ServerError se;
    auto r = attempt(c, b, copy_sql_, b.views(), &se);
    if (!r.ok()) {
      Error e = describe(b, se, r.error());
      if (!o_.import_id.empty() && !se.message.empty()) mark_failed(c, b, e.message);
      return e;
    }
    done = std::move(r);
  }
  if (!done->ok()) return done->take_error();
  account(b, done->value(), start);
  return ok_status();
}

void Loader::account(const Batch& b, Outcome outcome, Clock::time_point start) {
  total_ += b.rows;
  if (outcome == Outcome::kSkipped) {
    skipped_ += b.rows;
    return;
  }
  inserted_ += b.rows;
  {
    std::lock_guard<std::mutex> lock(mu_);
    committed_.emplace_back(b.first_line, b.last_line);
  }
  if (!o_.log_batches) return;
  auto took = Clock::now() - start;
  double secs = std::chrono::duration<double>(took).count();
  log_(go_log_line(fmt::format("Processing: starting at row {}, took {}, row count {}, byte len {}, row rate {:f}/sec",
                               b.first_row + header_lines(o_), format_go_duration(took), b.rows, b.bytes,
                               secs > 0 ? static_cast<double>(b.rows) / secs : 0.0)));
}

std::vector<std::string> Loader::control_params(const Batch& b) const {
  return {o_.import_id, std::to_string(b.first_row + header_lines(o_)), std::to_string(b.rows),
          std::to_string(b.byte_offset), std::to_string(b.bytes)};
}

// True when an earlier run with the same import id already committed this batch.
Result<bool> Loader::claim(PgConn& c, const Batch& b) {
  auto params = control_params(b);
  if (!TRY(c.query(kOverlapSql, {params[0], params[1], params[2]})).empty()) {
    return invalid(fmt::format(
        "lines {}-{}: import id \"{}\" already holds rows of this range committed in differently cut batches; "
        "rerun with the first run's -batch-size and -batch-byte-size",
        b.first_line, b.last_line, o_.import_id));
  }
  return TRY(c.query(kClaimSql, params)).empty();
}

void Loader::mark_failed(PgConn& c, const Batch& b, const std::string& reason) {
  auto params = control_params(b);
  params.push_back(reason);
  // Best effort: the load fails either way, this only leaves a trace for the next run.
  (void)c.query(kFailSql, params);
}

// Turns the server's "COPY t, line 3, column c: ..." into the file's line and the column.
Error Loader::describe(const Batch& b, const ServerError& se, const Error& fallback) const {
  if (se.message.empty()) return Error(fallback.code, fmt::format("lines {}-{}: {}", b.first_line, b.last_line, fallback.message));
  int64_t pg_line = 0;
  std::string column = se.column;
  if (size_t at = se.context.find(", line "); at != std::string::npos) {
    pg_line = std::strtoll(se.context.c_str() + at + 7, nullptr, 10);
    if (size_t col = se.context.find(", column ", at); col != std::string::npos) {
      size_t from = col + 9;
      column = se.context.substr(from, se.context.find(':', from) - from);
    }
  }
  std::string where = pg_line > 0 ? fmt::format("line {}", locate_record(b, pg_line))
                                  : fmt::format("lines {}-{}", b.first_line, b.last_line);
  if (!column.empty()) where += ", column " + column;
  std::string msg = where + ": " + se.message;
  if (!se.detail.empty()) msg += " (" + se.detail + ")";
  return invalid(msg);
}

// The file line where the record holding the server's line `pg_line` of this batch starts.
int64_t Loader::locate_record(const Batch& b, int64_t pg_line) const {
  RecordScanner s(cs_.format, cs_.quote, cs_.escape);
  int64_t start = 1;
  for (std::string_view v : b.views()) {
    const char* p = v.data();
    const char* end = p + v.size();
    while (p < end) {
      auto step = s.next(p, end);
      p = step.pos;
      if (step.kind != RecordScanner::Kind::kRecordEnd) continue;
      if (s.pg_lines() >= pg_line) return b.first_line - 1 + start;
      start = s.record_start_line();
    }
  }
  return b.first_line - 1 + start;
}

std::string Loader::committed_lines() {
  std::lock_guard<std::mutex> lock(mu_);
  std::sort(committed_.begin(), committed_.end());
  std::vector<std::pair<int64_t, int64_t>> merged;
  for (const auto& r : committed_) {
    if (!merged.empty() && merged.back().second + 1 >= r.first)
      merged.back().second = std::max(merged.back().second, r.second);
    else
      merged.push_back(r);
  }
  std::string out;
  for (size_t i = 0; i < merged.size(); ++i) {
    if (i == 8) return out + fmt::format(" and {} more ranges", merged.size() - i);
    out += fmt::format("{}{}-{}", i ? ", " : "", merged[i].first, merged[i].second);
  }
  return out;
}

Status validate(const Options& o) {
  struct Check {
    bool bad;
    const char* message;
  };
  const Check checks[] = {
      {o.workers < 1, "-workers must be greater than zero"},
      {o.batch_size < 1, "-batch-size must be greater than zero"},
      {o.batch_byte_size < 1, "-batch-byte-size must be greater than zero"},
      {o.header_line_count < 1, "-header-line-count must be greater than zero"},
      {o.skip_lines < 0, "-skip-lines must not be negative"},
      {o.limit < 0, "-limit must not be negative"},
      {o.reporting_period.count() < 0, "-reporting-period must be equal or greater than zero"},
  };
  for (const auto& c : checks)
    if (c.bad) return invalid(c.message);
  return ok_status();
}

}  // namespace

LoadResult load(const Options& o, int fd, const LogFn& log) {
  LoadResult out;
  if (auto st = validate(o); !st.ok()) {
    out.error = st.take_error();
    return out;
  }
  auto cs = copy_settings(o);
  if (!cs.ok()) {
    out.error = cs.take_error();
    return out;
  }
  Loader loader(o, *cs, log);
  return loader.run(fd);
}

}  // namespace tether::pgcopy
