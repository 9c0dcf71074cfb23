#include "store/schema.h"

#include <iterator>

namespace tether::store {

namespace {

// docs/store.md describes every table; keep the two in step.
const char* const kMigrations[] = {
    // 1: the first schema.
    R"sql(
CREATE TABLE runs (
  uid         TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  namespace   TEXT NOT NULL,
  phase       TEXT NOT NULL DEFAULT '',
  message     TEXT NOT NULL DEFAULT '',
  created_at  TEXT NOT NULL DEFAULT '',
  started_at  TEXT NOT NULL DEFAULT '',
  finished_at TEXT NOT NULL DEFAULT '',
  workflow    TEXT,
  status      TEXT,
  UNIQUE (namespace, name)
);
CREATE INDEX runs_by_created ON runs (created_at DESC);
CREATE INDEX runs_by_namespace ON runs (namespace, created_at DESC);
CREATE INDEX runs_by_phase ON runs (phase);

CREATE TABLE run_labels (
  run_uid TEXT NOT NULL REFERENCES runs (uid) ON DELETE CASCADE,
  key     TEXT NOT NULL,
  value   TEXT NOT NULL,
  PRIMARY KEY (run_uid, key)
);
CREATE INDEX run_labels_by_pair ON run_labels (key, value);

CREATE TABLE nodes (
  run_uid TEXT NOT NULL REFERENCES runs (uid) ON DELETE CASCADE,
  id      TEXT NOT NULL,
  phase   TEXT NOT NULL,
  name    TEXT NOT NULL,
  status  TEXT NOT NULL,
  PRIMARY KEY (run_uid, id)
);

CREATE TABLE events (
  seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  run_uid TEXT NOT NULL REFERENCES runs (uid) ON DELETE CASCADE,
  node_id TEXT NOT NULL DEFAULT '',
  time    TEXT NOT NULL,
  type    TEXT NOT NULL,
  reason  TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX events_by_run ON events (run_uid, seq);

CREATE TABLE objects (
  kind       TEXT NOT NULL,
  namespace  TEXT NOT NULL,
  name       TEXT NOT NULL,
  object     TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (kind, namespace, name)
);

CREATE TABLE secrets (
  namespace  TEXT NOT NULL,
  name       TEXT NOT NULL,
  sealed     BLOB NOT NULL,
  PRIMARY KEY (namespace, name)
);
)sql",
};

}  // namespace

int latest_schema_version() { return static_cast<int>(std::size(kMigrations)); }

Status migrate(Db& db, const std::string& path) {
  int64_t have = TRY(db.query_int("PRAGMA user_version"));
  if (have == latest_schema_version()) return {};
  if (have > latest_schema_version())
    return Error(ErrorCode::kConflict, "store: " + path + " has schema version " + std::to_string(have) +
                                           ", newer than this tether knows (" +
                                           std::to_string(latest_schema_version()) + "); upgrade tether");
  // WAL is a property of the file: set once, here, and every later connection uses it.
  TRY_STATUS(db.exec("PRAGMA journal_mode=WAL"));
  auto tx = TRY(Transaction::begin(db));
  // Read again inside the write lock: another process may have migrated meanwhile.
  have = TRY(db.query_int("PRAGMA user_version"));
  for (int64_t v = have; v < latest_schema_version(); ++v) {
    TRY_STATUS(db.exec(kMigrations[v]));
    TRY_STATUS(db.exec("PRAGMA user_version=" + std::to_string(v + 1)));
  }
  return tx->commit();
}

}  // namespace tether::store
