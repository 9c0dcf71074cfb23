#include "store/sqlite_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <thread>

#include "base/strings.h"
#include "store/label_selector.h"
#include "store/schema.h"

namespace tether::store {

using engine::EventRecord;
using engine::NodeRecord;
using engine::ObjectRecord;
using engine::RunRecord;

namespace {

constexpr const char* kCompletedPhases = "('Succeeded','Failed','Error')";
constexpr const char* kRunColumns =
    "uid, name, namespace, phase, message, created_at, started_at, finished_at, workflow, status";
constexpr const char* kNewestFirst = " ORDER BY created_at DESC, rowid DESC";
constexpr const char* kOldestFirst = " ORDER BY created_at ASC, rowid ASC";

std::string dump(const Json& j) { return dump_compact(j); }

// A stored JSON column back to a value. Bad text names the table, the row and the column,
// so a damaged database is diagnosable rather than fatal.
Result<Json> load_json(const Stmt& st, int col, const std::string& where) {
  if (st.is_null(col)) return Json(nullptr);
  auto j = parse_json(st.text(col), where);
  if (!j.ok()) return Error(ErrorCode::kIo, "store: corrupt row " + where + ": " + j.error().message);
  return j;
}

Result<RunRecord> read_run(const Stmt& st) {
  RunRecord r;
  r.uid = st.text(0);
  r.name = st.text(1);
  r.namespace_ = st.text(2);
  r.phase = st.text(3);
  r.message = st.text(4);
  r.created_at = st.text(5);
  r.started_at = st.text(6);
  r.finished_at = st.text(7);
  r.workflow = TRY(load_json(st, 8, "runs[uid=" + r.uid + "].workflow"));
  r.status = TRY(load_json(st, 9, "runs[uid=" + r.uid + "].status"));
  return r;
}

// workflow.metadata.labels, when it is an object.
const Json* labels_of(const Json& workflow) {
  if (!workflow.is_object()) return nullptr;
  auto m = workflow.find("metadata");
  if (m == workflow.end() || !m->is_object()) return nullptr;
  auto l = m->find("labels");
  return l != m->end() && l->is_object() ? &*l : nullptr;
}

std::string secret_context(const std::string& ns, const std::string& name) {
  return "tether-secret\n" + ns + "\n" + name;
}

}  // namespace

// Syncs the WAL file after commits, off the committing thread. A commit is in the WAL (the
// page cache) when COMMIT returns, which is all a crash of this process needs; the disk
// needs the sync. Commits made while one sync runs share the next.
class SqliteStore::Syncer {
 public:
  explicit Syncer(std::string wal_path) : wal_path_(std::move(wal_path)), thread_([this] { loop(); }) {}

  ~Syncer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();  // after a last sync of what was committed
    if (fd_ >= 0) ::close(fd_);
  }

  void committed() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++committed_;
    }
    cv_.notify_all();
  }

  Status flush() {
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t target = committed_;
    cv_.wait(lock, [&] { return synced_ >= target || error_ != 0; });
    return status_locked();
  }

  // A failed sync fails every commit after it, as a failed COMMIT would.
  Status status() {
    std::lock_guard<std::mutex> lock(mu_);
    return status_locked();
  }

 private:
  Status status_locked() const {
    if (error_ == 0) return {};
    return Error(ErrorCode::kIo, "store: cannot sync " + wal_path_ + ": " + std::strerror(error_));
  }

  void loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || committed_ > synced_; });
      if (committed_ <= synced_ || error_ != 0) return;  // stopping, and nothing left to sync
      const uint64_t target = committed_;
      lock.unlock();
      int err = sync_once();
      lock.lock();
      if (err != 0) error_ = err;
      synced_ = target;
      cv_.notify_all();
    }
  }

  // The WAL keeps its inode while a connection is open, so it is opened once.
  int sync_once() {
    if (fd_ < 0) fd_ = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return errno;
    return ::fdatasync(fd_) == 0 ? 0 : errno;
  }

  const std::string wal_path_;
  int fd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t committed_ = 0, synced_ = 0;
  int error_ = 0;
  bool stop_ = false;
  std::thread thread_;  // last: started once the rest is set up
};

// Runs in the committing thread after each commit to the WAL. Installing it replaces
// SQLite's own hook, which checkpoints past 1000 pages: that is done here too.
int SqliteStore::on_wal_commit(void* syncer, sqlite3* db, const char* name, int pages) {
  if (pages >= 1000) sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  static_cast<Syncer*>(syncer)->committed();
  return SQLITE_OK;
}

SqliteStore::SqliteStore(std::unique_ptr<Db> db, std::string key_path) : db_(std::move(db)), box_(std::move(key_path)) {}

SqliteStore::~SqliteStore() {
  if (syncer_) sqlite3_wal_hook(db_->raw(), nullptr, nullptr);
}

Status SqliteStore::flush() { return syncer_ ? syncer_->flush() : Status(); }

int SqliteStore::schema_version() { return latest_schema_version(); }

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path, Mode mode, StoreOptions opts) {
  std::error_code ec;
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) return Error(ErrorCode::kIo, "store: cannot create " + dir + ": " + ec.message());
  auto db = TRY(Db::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  sqlite3_busy_timeout(db->raw(), opts.busy_timeout_ms);
  TRY_STATUS(db->exec("PRAGMA foreign_keys=ON"));
  TRY_STATUS(migrate(*db, path));
  const bool background = mode == Mode::kWriter && opts.sync_in_background;
  if (mode == Mode::kWriter) {
    // FULL: a commit is on disk when COMMIT returns. NORMAL: in the WAL, synced by the
    // syncer (and before every checkpoint, by SQLite).
    TRY_STATUS(db->exec(background ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL"));
  } else {
    TRY_STATUS(db->exec("PRAGMA query_only=ON"));
  }
  std::string key = opts.secret_key_path;
  if (key.empty()) key = (std::filesystem::path(path).parent_path() / "secret.key").string();
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(db), std::move(key)));
  if (background) {
    store->syncer_ = std::make_unique<Syncer>(path + "-wal");
    sqlite3_wal_hook(store->db_->raw(), on_wal_commit, store->syncer_.get());
  }
  return store;
}

Status SqliteStore::integrity_check() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> problems;
  auto st = TRY(db_->prepare("PRAGMA integrity_check"));
  while (TRY(st->step("integrity_check")))
    if (st->text(0) != "ok") problems.push_back(st->text(0));
  auto fk = TRY(db_->prepare("PRAGMA foreign_key_check"));
  while (TRY(fk->step("foreign_key_check")))
    problems.push_back("row " + std::to_string(fk->integer(1)) + " of " + fk->text(0) + " refers to a missing " +
                       fk->text(2));
  if (problems.empty()) return {};
  return Error(ErrorCode::kIo, "store: integrity check failed: " + join(problems, "; "));
}

// ---- runs, nodes, events

Status SqliteStore::upsert_run(const RunRecord& r) {
  // A null workflow keeps the stored one: it is written once, when the run is created.
  auto st = TRY(db_->prepare(
      "INSERT INTO runs (uid, name, namespace, phase, message, created_at, started_at, finished_at, workflow, status) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
      "ON CONFLICT (uid) DO UPDATE SET name = excluded.name, namespace = excluded.namespace, "
      "phase = excluded.phase, message = excluded.message, created_at = excluded.created_at, "
      "started_at = excluded.started_at, finished_at = excluded.finished_at, "
      "workflow = COALESCE(excluded.workflow, runs.workflow), status = excluded.status"));
  st->bind(1, r.uid).bind(2, r.name).bind(3, r.namespace_).bind(4, r.phase).bind(5, r.message);
  st->bind(6, r.created_at).bind(7, r.started_at).bind(8, r.finished_at);
  const Json& workflow = r.workflow_ref ? *r.workflow_ref : r.workflow;
  if (workflow.is_null()) st->bind_null(9);
  else st->bind(9, dump(workflow));
  if (r.status.is_null()) st->bind_null(10);
  else st->bind(10, dump(r.status));
  TRY_STATUS(st->run("cannot write run " + r.namespace_ + "/" + r.name + " (" + r.uid + ")"));
  if (workflow.is_null()) return {};

  auto del = TRY(db_->prepare("DELETE FROM run_labels WHERE run_uid = ?1"));
  TRY_STATUS(del->bind(1, r.uid).run("cannot clear labels of run " + r.uid));
  const Json* labels = labels_of(workflow);
  if (!labels) return {};
  auto ins = TRY(db_->prepare("INSERT INTO run_labels (run_uid, key, value) VALUES (?1, ?2, ?3)"));
  for (auto it = labels->begin(); it != labels->end(); ++it) {
    if (!it->is_string()) continue;
    TRY_STATUS(ins->bind(1, r.uid).bind(2, it.key()).bind(3, it->get<std::string>()).run("cannot write label of run " + r.uid));
  }
  return {};
}

Status SqliteStore::upsert_node(const NodeRecord& n) {
  auto st = TRY(db_->prepare(
      "INSERT INTO nodes (run_uid, id, phase, name, status) VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT (run_uid, id) DO UPDATE SET phase = excluded.phase, name = excluded.name, status = excluded.status"));
  auto str = [&](const char* key) {
    auto it = n.status.find(key);
    return it != n.status.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  st->bind(1, n.run_uid).bind(2, n.id).bind(3, str("phase")).bind(4, str("name")).bind(5, dump(n.status));
  return st->run("cannot write node " + n.id + " of run " + n.run_uid);
}

Status SqliteStore::insert_event(const EventRecord& e) {
  auto st = TRY(db_->prepare(
      "INSERT INTO events (run_uid, node_id, time, type, reason, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  st->bind(1, e.run_uid).bind(2, e.node_id).bind(3, e.time).bind(4, e.type).bind(5, e.reason).bind(6, e.message);
  return st->run("cannot write event " + e.reason + " of run " + e.run_uid);
}

Status SqliteStore::delete_run(const std::string& uid) {
  auto st = TRY(db_->prepare("DELETE FROM runs WHERE uid = ?1"));
  return st->bind(1, uid).run("cannot delete run " + uid);
}

Status SqliteStore::commit(const engine::Batch& batch) {
  if (batch.empty()) return {};
  std::lock_guard<std::mutex> lock(mu_);
  if (syncer_) TRY_STATUS(syncer_->status());
  auto tx = TRY(Transaction::begin(*db_));
  for (const auto& r : batch.runs) TRY_STATUS(upsert_run(r));
  for (const auto& [uid, id] : batch.deleted_nodes) {
    auto st = TRY(db_->prepare("DELETE FROM nodes WHERE run_uid = ?1 AND id = ?2"));
    TRY_STATUS(st->bind(1, uid).bind(2, id).run("cannot delete node " + id));
  }
  for (const auto& n : batch.nodes) TRY_STATUS(upsert_node(n));
  for (const auto& e : batch.events) TRY_STATUS(insert_event(e));
  for (const auto& uid : batch.deleted_run_uids) TRY_STATUS(delete_run(uid));
  return tx->commit();
}

Result<std::vector<RunRecord>> SqliteStore::query_runs(const std::string& where, const std::vector<std::string>& args,
                                                       const std::string& order, int limit) {
  std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE " + where + order;
  // Bound rather than spliced in, so each query shape is prepared once; -1 is no limit.
  sql += " LIMIT ?" + std::to_string(args.size() + 1);
  auto st = TRY(db_->prepare(sql));
  for (size_t i = 0; i < args.size(); ++i) st->bind(static_cast<int>(i + 1), args[i]);
  st->bind(static_cast<int>(args.size() + 1), int64_t{limit > 0 ? limit : -1});
  std::vector<RunRecord> out;
  while (TRY(st->step("cannot list runs"))) out.push_back(TRY(read_run(*st)));
  return out;
}

namespace {

// The WHERE clause and its arguments that name one run: by name or uid (or @latest), in a
// namespace unless ns is empty.
std::string one_run(const std::string& ns, const std::string& name_or_uid, std::vector<std::string>* args) {
  std::string where = name_or_uid == "@latest" ? "1" : "(name = ?1 OR uid = ?1)";
  if (name_or_uid != "@latest") args->push_back(name_or_uid);
  if (!ns.empty()) {
    args->push_back(ns);
    where += " AND namespace = ?" + std::to_string(args->size());
  }
  return where;
}

}  // namespace

Result<std::optional<RunRecord>> SqliteStore::find_run(const std::string& ns, const std::string& name_or_uid) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> args;
  std::string where = one_run(ns, name_or_uid, &args);
  auto runs = TRY(query_runs(where, args, kNewestFirst, 1));
  if (runs.empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(std::move(runs.front()));
}

Result<std::optional<std::string>> SqliteStore::run_phase(const std::string& ns, const std::string& name_or_uid) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> args;
  std::string where = one_run(ns, name_or_uid, &args);
  auto st = TRY(db_->prepare("SELECT phase FROM runs WHERE " + where + kNewestFirst + " LIMIT 1"));
  for (size_t i = 0; i < args.size(); ++i) st->bind(static_cast<int>(i + 1), args[i]);
  if (!TRY(st->step("cannot read a run's phase"))) return std::optional<std::string>();
  return std::optional<std::string>(st->text(0));
}

Result<std::vector<RunRecord>> SqliteStore::list_runs(const engine::RunFilter& f) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string where = "1";
  std::vector<std::string> args;
  auto param = [&](std::string v) {
    args.push_back(std::move(v));
    return "?" + std::to_string(args.size());
  };
  if (!f.namespace_.empty()) where += " AND namespace = " + param(f.namespace_);
  if (!f.phases.empty()) {
    std::vector<std::string> ps;
    for (const auto& p : f.phases) ps.push_back(param(p));
    where += " AND phase IN (" + join(ps, ", ") + ")";
  }
  if (f.completed) where += std::string(" AND phase ") + (*f.completed ? "IN " : "NOT IN ") + kCompletedPhases;
  for (const auto& [k, v] : TRY(parse_label_selector(f.label_selector))) {
    std::string pk = param(k);
    where += " AND EXISTS (SELECT 1 FROM run_labels l WHERE l.run_uid = runs.uid AND l.key = " + pk +
             " AND l.value = " + param(v) + ")";
  }
  return query_runs(where, args, kNewestFirst, f.limit);
}

Result<std::vector<RunRecord>> SqliteStore::unfinished_runs() {
  std::lock_guard<std::mutex> lock(mu_);
  return query_runs(std::string("phase NOT IN ") + kCompletedPhases, {}, kOldestFirst, 0);
}

Result<std::vector<NodeRecord>> SqliteStore::nodes(const std::string& run_uid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto st = TRY(db_->prepare("SELECT id, status FROM nodes WHERE run_uid = ?1 ORDER BY rowid"));
  st->bind(1, run_uid);
  std::vector<NodeRecord> out;
  while (TRY(st->step("cannot read nodes of run " + run_uid))) {
    NodeRecord n{run_uid, st->text(0), {}};
    n.status = TRY(load_json(*st, 1, "nodes[run_uid=" + run_uid + ", id=" + n.id + "].status"));
    out.push_back(std::move(n));
  }
  return out;
}

Result<std::vector<EventRecord>> SqliteStore::events(const std::string& run_uid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto st = TRY(db_->prepare(
      "SELECT node_id, time, type, reason, message FROM events WHERE run_uid = ?1 ORDER BY seq"));
  st->bind(1, run_uid);
  std::vector<EventRecord> out;
  while (TRY(st->step("cannot read events of run " + run_uid)))
    out.push_back(EventRecord{run_uid, st->text(0), st->text(1), st->text(2), st->text(3), st->text(4)});
  return out;
}

// ---- applied objects

namespace {
Result<ObjectRecord> read_object(const Stmt& st) {
  ObjectRecord o;
  o.kind = st.text(0);
  o.namespace_ = st.text(1);
  o.name = st.text(2);
  o.updated_at = st.text(4);
  o.object = TRY(load_json(st, 3, "objects[" + o.kind + " " + o.namespace_ + "/" + o.name + "].object"));
  return o;
}
}  // namespace

Status SqliteStore::put_object(const ObjectRecord& o) {
  std::lock_guard<std::mutex> lock(mu_);
  auto st = TRY(db_->prepare(
      "INSERT INTO objects (kind, namespace, name, object, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT (kind, namespace, name) DO UPDATE SET object = excluded.object, updated_at = excluded.updated_at"));
  st->bind(1, o.kind).bind(2, o.namespace_).bind(3, o.name).bind(4, dump(o.object)).bind(5, o.updated_at);
  return st->run("cannot write " + o.kind + " " + o.namespace_ + "/" + o.name);
}

Result<std::optional<ObjectRecord>> SqliteStore::get_object(const std::string& kind, const std::string& ns,
                                                            const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto st = TRY(db_->prepare(
      "SELECT kind, namespace, name, object, updated_at FROM objects WHERE kind = ?1 AND namespace = ?2 AND name = ?3"));
  st->bind(1, kind).bind(2, ns).bind(3, name);
  if (!TRY(st->step("cannot read " + kind + " " + ns + "/" + name))) return std::optional<ObjectRecord>();
  return std::optional<ObjectRecord>(TRY(read_object(*st)));
}

Result<std::vector<ObjectRecord>> SqliteStore::list_objects(const std::string& kind, const std::string& ns) {
  std::lock_guard<std::mutex> lock(mu_);
  auto st = TRY(db_->prepare(
      "SELECT kind, namespace, name, object, updated_at FROM objects "
      "WHERE kind = ?1 AND (?2 = '' OR namespace = ?2) ORDER BY namespace, name"));
  st->bind(1, kind).bind(2, ns);
  std::vector<ObjectRecord> out;
  while (TRY(st->step("cannot list " + kind))) out.push_back(TRY(read_object(*st)));
  return out;
}

Result<bool> SqliteStore::delete_object(const std::string& kind, const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto st = TRY(db_->prepare("DELETE FROM objects WHERE kind = ?1 AND namespace = ?2 AND name = ?3"));
  TRY_STATUS(st->bind(1, kind).bind(2, ns).bind(3, name).run("cannot delete " + kind + " " + ns + "/" + name));
  return sqlite3_changes(db_->raw()) > 0;
}

// ---- secrets

Status SqliteStore::put_secret(const std::string& ns, const std::string& name,
                               const std::map<std::string, std::string>& data) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sealed = TRY(box_.seal(Json(data).dump(), secret_context(ns, name)));
  auto st = TRY(db_->prepare(
      "INSERT INTO secrets (namespace, name, sealed) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (namespace, name) DO UPDATE SET sealed = excluded.sealed"));
  st->bind(1, ns).bind(2, name).bind_blob(3, sealed);
  return st->run("cannot write secret " + ns + "/" + name);
}

Result<std::optional<std::map<std::string, std::string>>> SqliteStore::get_secret(const std::string& ns,
                                                                                  const std::string& name) {
  using Data = std::map<std::string, std::string>;
  std::lock_guard<std::mutex> lock(mu_);
  auto st = TRY(db_->prepare("SELECT sealed FROM secrets WHERE namespace = ?1 AND name = ?2"));
  st->bind(1, ns).bind(2, name);
  if (!TRY(st->step("cannot read secret " + ns + "/" + name))) return std::optional<Data>();
  std::string where = "secrets[" + ns + "/" + name + "]";
  auto plain = box_.open(st->blob(0), secret_context(ns, name));
  if (!plain.ok()) return Error(plain.error().code, plain.error().message + " (" + where + ")");
  auto j = parse_json(*plain, where);
  if (!j.ok() || !j->is_object()) return Error(ErrorCode::kIo, "store: corrupt row " + where + ": not a JSON object");
  Data data;
  for (auto it = j->begin(); it != j->end(); ++it) {
    if (!it->is_string()) return Error(ErrorCode::kIo, "store: corrupt row " + where + ": value of " + it.key() + " is not a string");
    data[it.key()] = it->get<std::string>();
  }
  return std::optional<Data>(std::move(data));
}

Result<std::vector<std::string>> SqliteStore::list_secrets(const std::string& ns) {
  std::lock_guard<std::mutex> lock(mu_);
  auto st = TRY(db_->prepare("SELECT name FROM secrets WHERE (?1 = '' OR namespace = ?1) ORDER BY name, namespace"));
  st->bind(1, ns);
  std::vector<std::string> out;
  while (TRY(st->step("cannot list secrets"))) out.push_back(st->text(0));
  return out;
}

Result<bool> SqliteStore::delete_secret(const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto st = TRY(db_->prepare("DELETE FROM secrets WHERE namespace = ?1 AND name = ?2"));
  TRY_STATUS(st->bind(1, ns).bind(2, name).run("cannot delete secret " + ns + "/" + name));
  return sqlite3_changes(db_->raw()) > 0;
}

}  // namespace tether::store
