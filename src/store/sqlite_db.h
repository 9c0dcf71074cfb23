// A thin RAII layer over the SQLite C API: one connection, prepared statements that are
// cached per SQL text, and every SQLite failure turned into an Error that says what was
// being done. Not thread-safe: one Db per thread (SqliteStore adds a mutex on top).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace tether::store {

// Maps an SQLite result code to an Error: constraint violations are conflicts, a busy or
// locked database is "unavailable", everything else is I/O.
Error sqlite_error(sqlite3* db, int rc, const std::string& what);

class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { reset(); }

  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind_blob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }

  // true: a row is ready; false: done.
  Result<bool> step(const std::string& what);
  // Runs to completion; for statements without rows.
  Status run(const std::string& what);

  std::string text(int col) const;
  std::string blob(int col) const;
  int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

 private:
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  sqlite3* db_;
  sqlite3_stmt* s_;
};

class Db {
 public:
  static Result<std::unique_ptr<Db>> open(const std::string& path, int flags);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* raw() const { return db_; }
  // Runs one or more statements without parameters.
  Status exec(const std::string& sql);
  // A cached prepared statement, reset and unbound when the returned Stmt goes away.
  Result<std::unique_ptr<Stmt>> prepare(const std::string& sql);
  // The first column of the first row as an integer (PRAGMA user_version and the like).
  Result<int64_t> query_int(const std::string& sql);

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*> cache_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() succeeded.
class Transaction {
 public:
  static Result<std::unique_ptr<Transaction>> begin(Db& db);
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Db& db) : db_(db) {}
  Db& db_;
  bool done_ = false;
};

}  // namespace tether::store
