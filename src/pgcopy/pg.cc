#include "pgcopy/pg.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <fmt/core.h>

#include "base/strings.h"

namespace tether::pgcopy {
namespace {

struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultCloser>;

std::string field(const PGresult* r, int code) {
  const char* v = PQresultErrorField(r, code);
  return v ? v : "";
}

void fill(const PGresult* r, ServerError* err) {
  if (!err) return;
  err->sqlstate = field(r, PG_DIAG_SQLSTATE);
  err->message = field(r, PG_DIAG_MESSAGE_PRIMARY);
  err->detail = field(r, PG_DIAG_MESSAGE_DETAIL);
  err->context = field(r, PG_DIAG_CONTEXT);
  err->column = field(r, PG_DIAG_COLUMN_NAME);
}

Error result_error(const PGresult* r, std::string_view what) {
  std::string msg = std::string(trim(PQresultErrorMessage(r)));
  return Error(ErrorCode::kUnavailable, fmt::format("{}: {}", what, msg));
}

// Larger messages only make libpq grow its buffer; this keeps the socket busy.
constexpr size_t kCopyChunk = 256 * 1024;

}  // namespace

void PgConn::Closer::operator()(pg_conn* c) const { PQfinish(c); }

PgConn::~PgConn() = default;

Result<PgConn> PgConn::connect(const std::string& conninfo, const std::string& dbname) {
  // The first "dbname" is expanded as a full conninfo or URL; a later one overrides its database.
  std::vector<const char*> keys = {"dbname", "fallback_application_name"};
  std::vector<const char*> values = {conninfo.c_str(), "tether-pgcopy"};
  if (!dbname.empty()) {
    keys.push_back("dbname");
    values.push_back(dbname.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PgConn conn(PQconnectdbParams(keys.data(), values.data(), 1));
  if (!conn.conn_) return Error(ErrorCode::kUnavailable, "could not connect: out of memory");
  if (PQstatus(conn.conn_.get()) != CONNECTION_OK) return conn.last_error("could not connect");
  return conn;
}

Error PgConn::last_error(std::string_view what) const {
  return Error(ErrorCode::kUnavailable, fmt::format("{}: {}", what, trim(PQerrorMessage(conn_.get()))));
}

Status PgConn::exec(const std::string& sql, ServerError* err) {
  ResultPtr r(PQexec(conn_.get(), sql.c_str()));
  if (!r) return last_error(sql);
  auto st = PQresultStatus(r.get());
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return ok_status();
  fill(r.get(), err);
  return result_error(r.get(), sql);
}

Result<std::vector<std::vector<std::string>>> PgConn::query(const std::string& sql,
                                                           const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  ResultPtr r(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                           nullptr, 0));
  if (!r) return last_error(sql);
  auto st = PQresultStatus(r.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return result_error(r.get(), "query");
  std::vector<std::vector<std::string>> rows(static_cast<size_t>(PQntuples(r.get())));
  for (int i = 0; i < PQntuples(r.get()); ++i)
    for (int j = 0; j < PQnfields(r.get()); ++j) rows[static_cast<size_t>(i)].emplace_back(PQgetvalue(r.get(), i, j));
  return rows;
}

std::string PgConn::parameter(const char* name) const {
  const char* v = PQparameterStatus(conn_.get(), name);
  return v ? v : "";
}

Result<int64_t> PgConn::copy_in(const std::string& sql, const std::vector<std::string_view>& pieces, ServerError* err) {
  PGconn* c = conn_.get();
  {
    ResultPtr r(PQexec(c, sql.c_str()));
    if (!r) return last_error(sql);
    if (PQresultStatus(r.get()) != PGRES_COPY_IN) {
      fill(r.get(), err);
      return result_error(r.get(), "COPY");
    }
  }
  bool sent = true;
  for (std::string_view piece : pieces) {
    for (size_t off = 0; sent && off < piece.size(); off += kCopyChunk) {
      size_t n = std::min(kCopyChunk, piece.size() - off);
      sent = PQputCopyData(c, piece.data() + off, static_cast<int>(n)) == 1;
    }
  }
  // A failed send means the connection broke; the server's reason, if any, follows below.
  if (PQputCopyEnd(c, sent ? nullptr : "client could not send data") != 1) return last_error("COPY");
  ResultPtr r(PQgetResult(c));
  Result<int64_t> out = Error(ErrorCode::kUnavailable, "COPY: no result");
  if (r && PQresultStatus(r.get()) == PGRES_COMMAND_OK) {
    out = static_cast<int64_t>(std::strtoll(PQcmdTuples(r.get()), nullptr, 10));
  } else if (r) {
    fill(r.get(), err);
    out = result_error(r.get(), "COPY");
  } else {
    out = last_error("COPY");
  }
  while (PGresult* extra = PQgetResult(c)) PQclear(extra);
  return out;
}

}  // namespace tether::pgcopy
