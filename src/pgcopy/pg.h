// A thin owner of one libpq connection: just what a COPY worker needs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

struct pg_conn;

namespace tether::pgcopy {

// The fields of a server ErrorResponse that locate a bad row.
struct ServerError {
  std::string sqlstate;
  std::string message;
  std::string detail;
  std::string context;  // "COPY t, line 3, column c: \"abc\""
  std::string column;   // PG_DIAG_COLUMN_NAME (constraint violations)
};

class PgConn {
 public:
  // `conninfo` is a libpq keyword string or URL; a non-empty `dbname` overrides its database.
  static Result<PgConn> connect(const std::string& conninfo, const std::string& dbname);

  PgConn(PgConn&&) noexcept = default;
  PgConn& operator=(PgConn&&) noexcept = default;
  ~PgConn();

  // Runs a statement that returns no rows we need.
  Status exec(const std::string& sql, ServerError* err = nullptr);
  // Runs a parameterised statement; returns its rows (NULLs as empty strings).
  Result<std::vector<std::vector<std::string>>> query(const std::string& sql, const std::vector<std::string>& params);
  // A parameter the server reported at connection time ("integer_datetimes", ...).
  std::string parameter(const char* name) const;
  // Runs COPY ... FROM STDIN and streams `pieces`; returns the rows the server stored.
  // On a server error `err` holds its fields.
  Result<int64_t> copy_in(const std::string& sql, const std::vector<std::string_view>& pieces, ServerError* err);

 private:
  explicit PgConn(pg_conn* c) : conn_(c) {}
  struct Closer {
    void operator()(pg_conn* c) const;
  };
  Error last_error(std::string_view what) const;
  std::unique_ptr<pg_conn, Closer> conn_;
};

}  // namespace tether::pgcopy
