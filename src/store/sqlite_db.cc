#include "store/sqlite_db.h"

namespace tether::store {

namespace {
Error classify(int rc, std::string msg) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return Error(ErrorCode::kConflict, msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error(ErrorCode::kUnavailable, msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error(ErrorCode::kIo, msg + " (the database file is damaged)");
    default:
      return Error(ErrorCode::kIo, msg);
  }
}
}  // namespace

Error sqlite_error(sqlite3* db, int rc, const std::string& what) {
  return classify(rc, "store: " + what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

Result<bool> Stmt::step(const std::string& what) {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  // Reset at once, so the statement can be bound again for the next row of a loop.
  Error e = rc == SQLITE_DONE ? Error() : sqlite_error(db_, rc, what);
  sqlite3_reset(s_);
  if (rc == SQLITE_DONE) return false;
  return e;
}

Status Stmt::run(const std::string& what) {
  for (;;) {
    bool row = TRY(step(what));
    if (!row) return {};
  }
}

std::string Stmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(s_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s_, col)));
}

std::string Stmt::blob(int col) const {
  const void* p = sqlite3_column_blob(s_, col);
  if (!p) return {};
  return std::string(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s_, col)));
}

Result<std::unique_ptr<Db>> Db::open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e = sqlite_error(raw, rc, "cannot open " + path);
    sqlite3_close_v2(raw);
    return e;
  }
  sqlite3_extended_result_codes(raw, 1);
  return std::unique_ptr<Db>(new Db(raw));
}

Db::~Db() {
  for (auto& [sql, s] : cache_) sqlite3_finalize(s);
  sqlite3_close_v2(db_);
}

Status Db::exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return {};
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return classify(rc, "store: " + sql.substr(0, sql.find('\n')) + ": " + msg);
}

Result<std::unique_ptr<Stmt>> Db::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(db_, rc, "cannot prepare " + sql);
    it = cache_.emplace(sql, s).first;
  }
  return std::make_unique<Stmt>(db_, it->second);
}

Result<int64_t> Db::query_int(const std::string& sql) {
  auto st = TRY(prepare(sql));
  bool row = TRY(st->step(sql));
  return row ? st->integer(0) : int64_t{0};
}

Result<std::unique_ptr<Transaction>> Transaction::begin(Db& db) {
  TRY_STATUS(db.exec("BEGIN IMMEDIATE"));
  return std::unique_ptr<Transaction>(new Transaction(db));
}

Transaction::~Transaction() {
  if (!done_) (void)db_.exec("ROLLBACK");
}

Status Transaction::commit() {
  TRY_STATUS(db_.exec("COMMIT"));
  done_ = true;
  return {};
}

}  // namespace tether::store
