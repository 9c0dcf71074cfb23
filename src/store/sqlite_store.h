// engine::Store on SQLite (docs/store.md has the schema and the transaction rules).
// One writer connection (the engine thread) and any number of reader connections (CLI
// commands, HTTP threads), each with its own SqliteStore. WAL mode lets readers run while
// the writer commits; readers never take the write lock. A SqliteStore serialises its own
// calls, so sharing one between threads is safe but pointless: open one per thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "engine/store.h"
#include "store/secret_box.h"
#include "store/sqlite_db.h"

namespace tether::store {

struct StoreOptions {
  // Where the secret key lives; empty: secret.key next to the database.
  std::string secret_key_path;
  // How long a call waits for a lock held by another connection before failing.
  int busy_timeout_ms = 30000;
  // For the engine's writer: a commit is in the WAL when it returns, so it survives a crash
  // of this process at once, and a thread of its own syncs the WAL to disk right after;
  // flush() waits for that. Without it (the default), COMMIT itself waits for the disk.
  // docs/store.md says why the engine does not.
  bool sync_in_background = false;
};

class SqliteStore final : public engine::Store {
 public:
  enum class Mode { kWriter, kReader };

  // Creates the database (and its schema) when missing, migrates an older schema, and
  // refuses a schema newer than this binary knows.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path, Mode mode, StoreOptions opts = {});

  // The schema version this binary writes (PRAGMA user_version).
  static int schema_version();
  // PRAGMA integrity_check and foreign_key_check; the error lists what they found.
  Status integrity_check();

  Status commit(const engine::Batch& batch) override;
  Status flush() override;
  Result<std::optional<engine::RunRecord>> find_run(const std::string& namespace_,
                                                    const std::string& name_or_uid) override;
  Result<std::optional<std::string>> run_phase(const std::string& namespace_, const std::string& name_or_uid) override;
  Result<std::vector<engine::RunRecord>> list_runs(const engine::RunFilter& filter) override;
  Result<std::vector<engine::NodeRecord>> nodes(const std::string& run_uid) override;
  Result<std::vector<engine::EventRecord>> events(const std::string& run_uid) override;
  Result<std::vector<engine::RunRecord>> unfinished_runs() override;

  Status put_object(const engine::ObjectRecord& obj) override;
  Result<std::optional<engine::ObjectRecord>> get_object(const std::string& kind, const std::string& namespace_,
                                                         const std::string& name) override;
  Result<std::vector<engine::ObjectRecord>> list_objects(const std::string& kind,
                                                         const std::string& namespace_) override;
  Result<bool> delete_object(const std::string& kind, const std::string& namespace_,
                             const std::string& name) override;

  Status put_secret(const std::string& namespace_, const std::string& name,
                    const std::map<std::string, std::string>& data) override;
  Result<std::optional<std::map<std::string, std::string>>> get_secret(const std::string& namespace_,
                                                                       const std::string& name) override;
  Result<std::vector<std::string>> list_secrets(const std::string& namespace_) override;
  Result<bool> delete_secret(const std::string& namespace_, const std::string& name) override;

 private:
  class Syncer;
  static int on_wal_commit(void* syncer, sqlite3* db, const char* name, int pages);
  SqliteStore(std::unique_ptr<Db> db, std::string key_path);
  Status upsert_run(const engine::RunRecord& r);
  Status upsert_node(const engine::NodeRecord& n);
  Status insert_event(const engine::EventRecord& e);
  Status delete_run(const std::string& uid);
  Result<std::vector<engine::RunRecord>> query_runs(const std::string& where, const std::vector<std::string>& args,
                                                    const std::string& order, int limit);

  std::mutex mu_;
  std::unique_ptr<Db> db_;
  SecretBox box_;
  // Declared after db_: it is stopped, after a last sync, before the connection closes.
  std::unique_ptr<Syncer> syncer_;

 public:
  ~SqliteStore() override;
};

}  // namespace tether::store
