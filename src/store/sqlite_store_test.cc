#include "store/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/strings.h"
#include "testlib/memory_store.h"
#include "testlib/temp_dir.h"

namespace tether::store {
namespace {

namespace fs = std::filesystem;
using engine::Batch;
using engine::EventRecord;
using engine::NodeRecord;
using engine::ObjectRecord;
using engine::RunFilter;
using engine::RunRecord;

struct SqliteImpl {
  static std::unique_ptr<engine::Store> make(const std::string& dir) {
    auto s = SqliteStore::open(dir + "/tether.db", SqliteStore::Mode::kWriter);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().str());
    return s.ok() ? std::unique_ptr<engine::Store>(std::move(*s)) : nullptr;
  }
};
struct MemoryImpl {
  static std::unique_ptr<engine::Store> make(const std::string&) { return std::make_unique<testlib::MemoryStore>(); }
};

RunRecord run(const std::string& uid, const std::string& name, const std::string& created,
              const std::string& phase = "Running", const std::string& ns = "default") {
  RunRecord r;
  r.uid = uid;
  r.name = name;
  r.namespace_ = ns;
  r.phase = phase;
  r.created_at = created;
  r.workflow = Json{{"metadata", {{"name", name}, {"namespace", ns}}}, {"spec", {{"entrypoint", "main"}}}};
  r.status = Json{{"progress", "0/1"}};
  return r;
}

NodeRecord node(const std::string& run_uid, const std::string& id, const std::string& phase) {
  return NodeRecord{run_uid, id, {{"id", id}, {"name", id + "-name"}, {"phase", phase}, {"type", "Pod"}}};
}

Batch runs_batch(std::vector<RunRecord> runs) {
  Batch b;
  b.runs = std::move(runs);
  return b;
}

template <typename Impl>
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tmp_.ok());
    store_ = Impl::make(tmp_.path());
    ASSERT_TRUE(store_);
  }
  void commit(const Batch& b) {
    auto st = store_->commit(b);
    ASSERT_TRUE(st.ok()) << st.error().str();
  }
  std::vector<std::string> names(const RunFilter& f) {
    auto runs = store_->list_runs(f);
    EXPECT_TRUE(runs.ok()) << (runs.ok() ? "" : runs.error().str());
    std::vector<std::string> out;
    if (runs.ok())
      for (const auto& r : *runs) out.push_back(r.name);
    return out;
  }
  std::optional<RunRecord> find(const std::string& ns, const std::string& key) {
    auto r = store_->find_run(ns, key);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().str());
    return r.ok() ? *r : std::nullopt;
  }

  testlib::TempDir tmp_{"tether-store"};
  std::unique_ptr<engine::Store> store_;
};

struct ImplNames {
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, SqliteImpl> ? "Sqlite" : "Memory";
  }
};
using Impls = ::testing::Types<SqliteImpl, MemoryImpl>;
TYPED_TEST_SUITE(StoreTest, Impls, ImplNames);

TYPED_TEST(StoreTest, RunRoundTripKeepsEveryField) {
  RunRecord r = run("u1", "hello-abc", "2026-11-28T00:00:01Z", "Succeeded");
  r.message = "all done <&>";
  r.started_at = "2026-11-28T00:00:02Z";
  r.finished_at = "2026-11-28T00:00:09Z";
  r.status = Json{{"outputs", {{"parameters", Json::array({{{"name", "x"}, {"value", "ü"}}})}}}};
  this->commit(runs_batch({r}));
  auto got = this->find("default", "hello-abc");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->uid, "u1");
  EXPECT_EQ(got->namespace_, "default");
  EXPECT_EQ(got->phase, "Succeeded");
  EXPECT_EQ(got->message, r.message);
  EXPECT_EQ(got->created_at, r.created_at);
  EXPECT_EQ(got->started_at, r.started_at);
  EXPECT_EQ(got->finished_at, r.finished_at);
  EXPECT_EQ(got->workflow, r.workflow);
  EXPECT_EQ(got->status, r.status);
}

TYPED_TEST(StoreTest, UpsertReplacesFieldsAndKeepsWorkflowWhenNull) {
  this->commit(runs_batch({run("u1", "wf", "2026-11-28T00:00:01Z", "Pending")}));
  RunRecord update = run("u1", "wf", "2026-11-28T00:00:01Z", "Failed");
  update.workflow = nullptr;
  update.status = Json{{"progress", "1/1"}};
  update.message = "boom";
  this->commit(runs_batch({update}));
  auto got = this->find("", "u1");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->phase, "Failed");
  EXPECT_EQ(got->message, "boom");
  EXPECT_EQ(got->status, (Json{{"progress", "1/1"}}));
  EXPECT_EQ(got->workflow["spec"]["entrypoint"], "main");  // kept
  // A non-null workflow replaces the stored one.
  update.workflow = Json{{"metadata", {{"name", "wf"}}}, {"spec", {{"entrypoint", "other"}}}};
  this->commit(runs_batch({update}));
  EXPECT_EQ(this->find("", "u1")->workflow["spec"]["entrypoint"], "other");
  EXPECT_EQ(this->names({}).size(), 1u);
}

TYPED_TEST(StoreTest, DuplicateNameInNamespaceIsAConflictAndTheBatchIsAllOrNothing) {
  this->commit(runs_batch({run("u1", "wf", "2026-11-28T00:00:01Z")}));
  Batch b = runs_batch({run("u2", "other", "2026-11-28T00:00:02Z"), run("u3", "wf", "2026-11-28T00:00:03Z")});
  b.nodes.push_back(node("u2", "n1", "Running"));
  auto st = this->store_->commit(b);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kConflict);
  EXPECT_FALSE(this->find("", "other"));  // nothing of the failed batch remains
  EXPECT_TRUE(this->store_->nodes("u2")->empty());
  // The same name in another namespace is fine.
  this->commit(runs_batch({run("u4", "wf", "2026-11-28T00:00:04Z", "Running", "team-a")}));
  EXPECT_EQ(this->find("team-a", "wf")->uid, "u4");
  EXPECT_EQ(this->find("default", "wf")->uid, "u1");
}

TYPED_TEST(StoreTest, NodeOfAMissingRunIsRejected) {
  Batch b;
  b.nodes.push_back(node("nope", "n1", "Running"));
  EXPECT_FALSE(this->store_->commit(b).ok());
}

TYPED_TEST(StoreTest, NodesUpsertInCreationOrder) {
  Batch b = runs_batch({run("u1", "wf", "2026-11-28T00:00:01Z")});
  b.nodes = {node("u1", "wf", "Running"), node("u1", "wf-1", "Pending"), node("u1", "wf-2", "Pending")};
  this->commit(b);
  Batch b2;
  b2.nodes = {node("u1", "wf-1", "Succeeded")};
  b2.nodes[0].status["outputs"] = Json{{"result", "hi"}};
  this->commit(b2);
  auto nodes = this->store_->nodes("u1");
  ASSERT_TRUE(nodes.ok());
  ASSERT_EQ(nodes->size(), 3u);
  EXPECT_EQ((*nodes)[0].id, "wf");
  EXPECT_EQ((*nodes)[1].id, "wf-1");
  EXPECT_EQ((*nodes)[1].run_uid, "u1");
  EXPECT_EQ((*nodes)[1].status["phase"], "Succeeded");
  EXPECT_EQ((*nodes)[1].status["outputs"]["result"], "hi");
  EXPECT_EQ((*nodes)[2].status["phase"], "Pending");
  EXPECT_TRUE(this->store_->nodes("other")->empty());
}

TYPED_TEST(StoreTest, EventsKeepTheirOrderAndFields) {
  Batch b = runs_batch({run("u1", "wf", "2026-11-28T00:00:01Z")});
  b.events = {{"u1", "", "2026-11-28T00:00:01Z", "Normal", "WorkflowRunning", "Workflow Running"},
              {"u1", "wf-1", "2026-11-28T00:00:02Z", "Warning", "WorkflowNodeFailed", "Failed node wf.a"}};
  this->commit(b);
  Batch b2;
  b2.events = {{"u1", "", "2026-11-28T00:00:03Z", "Normal", "WorkflowSucceeded", "done"}};
  this->commit(b2);
  auto ev = this->store_->events("u1");
  ASSERT_TRUE(ev.ok());
  ASSERT_EQ(ev->size(), 3u);
  EXPECT_EQ((*ev)[0].reason, "WorkflowRunning");
  EXPECT_EQ((*ev)[1].node_id, "wf-1");
  EXPECT_EQ((*ev)[1].type, "Warning");
  EXPECT_EQ((*ev)[1].time, "2026-11-28T00:00:02Z");
  EXPECT_EQ((*ev)[1].message, "Failed node wf.a");
  EXPECT_EQ((*ev)[2].reason, "WorkflowSucceeded");
}

TYPED_TEST(StoreTest, ListFiltersAndOrder) {
  auto labelled = [](RunRecord r, Json labels) {
    r.workflow["metadata"]["labels"] = std::move(labels);
    return r;
  };
  this->commit(runs_batch({
      labelled(run("u1", "a", "2026-11-28T00:00:01Z", "Succeeded"), {{"team", "x"}, {"app.io/tier", "gold"}}),
      labelled(run("u2", "b", "2026-11-28T00:00:02Z", "Failed"), {{"team", "y"}}),
      run("u3", "c", "2026-11-28T00:00:03Z", "Running", "other"),
      labelled(run("u4", "d", "2026-11-28T00:00:03Z", "Pending"), {{"team", "x"}}),  // same second as c
      run("u5", "e", "2026-11-28T00:00:05Z", "Error"),
  }));
  using V = std::vector<std::string>;
  EXPECT_EQ(this->names({}), (V{"e", "d", "c", "b", "a"}));  // newest first; ties: later first
  EXPECT_EQ(this->names({.namespace_ = "other"}), (V{"c"}));
  EXPECT_EQ(this->names({.phases = {"Failed", "Pending"}}), (V{"d", "b"}));
  EXPECT_EQ(this->names({.completed = true}), (V{"e", "b", "a"}));
  EXPECT_EQ(this->names({.completed = false}), (V{"d", "c"}));
  EXPECT_EQ(this->names({.label_selector = "team=x"}), (V{"d", "a"}));
  EXPECT_EQ(this->names({.label_selector = "team==x, app.io/tier=gold"}), (V{"a"}));
  EXPECT_EQ(this->names({.label_selector = "team=z"}), V{});
  EXPECT_EQ(this->names({.limit = 2}), (V{"e", "d"}));
  EXPECT_EQ(this->names({.namespace_ = "default", .completed = true, .limit = 1}), (V{"e"}));
  // Labels follow the workflow: a new one replaces them, a null one keeps them.
  RunRecord relabel = labelled(run("u1", "a", "2026-11-28T00:00:01Z", "Succeeded"), {{"team", "y"}});
  this->commit(runs_batch({relabel}));
  EXPECT_EQ(this->names({.label_selector = "team=y"}), (V{"b", "a"}));
  relabel.workflow = nullptr;
  this->commit(runs_batch({relabel}));
  EXPECT_EQ(this->names({.label_selector = "team=y"}), (V{"b", "a"}));
}

TYPED_TEST(StoreTest, BadLabelSelectorIsInvalid) {
  auto r = this->store_->list_runs({.label_selector = "team!=x"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  EXPECT_NE(r.error().message.find("team!=x"), std::string::npos);
  EXPECT_FALSE(this->store_->list_runs({.label_selector = "justakey"}).ok());
}

TYPED_TEST(StoreTest, FindRunByNameUidAndLatest) {
  EXPECT_FALSE(this->find("", "@latest"));
  this->commit(runs_batch({run("u1", "a", "2026-11-28T00:00:01Z"),
                           run("u2", "b", "2026-11-28T00:00:09Z", "Running", "other"),
                           run("u3", "c", "2026-11-28T00:00:05Z")}));
  EXPECT_EQ(this->find("default", "a")->uid, "u1");
  EXPECT_EQ(this->find("default", "u3")->name, "c");
  EXPECT_EQ(this->find("", "b")->uid, "u2");
  EXPECT_FALSE(this->find("default", "b"));  // wrong namespace
  EXPECT_FALSE(this->find("default", "zzz"));
  EXPECT_EQ(this->find("default", "@latest")->name, "c");
  EXPECT_EQ(this->find("", "@latest")->name, "b");
  EXPECT_EQ(this->find("other", "@latest")->name, "b");
  EXPECT_FALSE(this->find("nobody", "@latest"));
}

TYPED_TEST(StoreTest, DeletingARunDeletesItsNodesAndEvents) {
  Batch b = runs_batch({run("u1", "a", "2026-11-28T00:00:01Z"), run("u2", "b", "2026-11-28T00:00:02Z")});
  b.nodes = {node("u1", "a", "Running"), node("u2", "b", "Running")};
  b.events = {{"u1", "", "t", "Normal", "WorkflowRunning", "m"}, {"u2", "", "t", "Normal", "WorkflowRunning", "m"}};
  this->commit(b);
  Batch del;
  del.deleted_run_uids = {"u1", "never-existed"};
  this->commit(del);
  EXPECT_FALSE(this->find("", "a"));
  EXPECT_TRUE(this->store_->nodes("u1")->empty());
  EXPECT_TRUE(this->store_->events("u1")->empty());
  EXPECT_EQ(this->store_->nodes("u2")->size(), 1u);
  EXPECT_EQ(this->store_->events("u2")->size(), 1u);
  // The name is free again.
  this->commit(runs_batch({run("u9", "a", "2026-11-28T00:00:03Z")}));
  EXPECT_EQ(this->find("", "a")->uid, "u9");
}

TYPED_TEST(StoreTest, UnfinishedRunsOldestFirst) {
  this->commit(runs_batch({run("u1", "a", "2026-11-28T00:00:03Z", "Running"),
                           run("u2", "b", "2026-11-28T00:00:02Z", "Succeeded"),
                           run("u3", "c", "2026-11-28T00:00:01Z", "Pending"),
                           run("u4", "d", "2026-11-28T00:00:04Z", ""),
                           run("u5", "e", "2026-11-28T00:00:05Z", "Failed"),
                           run("u6", "f", "2026-11-28T00:00:06Z", "Error")}));
  auto runs = this->store_->unfinished_runs();
  ASSERT_TRUE(runs.ok());
  std::vector<std::string> got;
  for (const auto& r : *runs) got.push_back(r.name);
  EXPECT_EQ(got, (std::vector<std::string>{"c", "a", "d"}));
}

TYPED_TEST(StoreTest, ObjectsRoundTripUpsertListDelete) {
  auto obj = [](std::string kind, std::string ns, std::string name, int v) {
    return ObjectRecord{kind, ns, name, {{"kind", kind}, {"metadata", {{"name", name}}}, {"v", v}}, "2026-11-28T00:00:0" + std::to_string(v) + "Z"};
  };
  ASSERT_TRUE(this->store_->put_object(obj("WorkflowTemplate", "default", "b", 1)).ok());
  ASSERT_TRUE(this->store_->put_object(obj("WorkflowTemplate", "default", "a", 1)).ok());
  ASSERT_TRUE(this->store_->put_object(obj("WorkflowTemplate", "team", "a", 1)).ok());
  ASSERT_TRUE(this->store_->put_object(obj("ClusterWorkflowTemplate", "", "a", 1)).ok());
  ASSERT_TRUE(this->store_->put_object(obj("WorkflowTemplate", "default", "a", 2)).ok());  // upsert

  auto got = this->store_->get_object("WorkflowTemplate", "default", "a");
  ASSERT_TRUE(got.ok() && *got);
  EXPECT_EQ((*got)->object["v"], 2);
  EXPECT_EQ((*got)->updated_at, "2026-11-28T00:00:02Z");
  EXPECT_EQ((*got)->kind, "WorkflowTemplate");
  EXPECT_FALSE(*this->store_->get_object("WorkflowTemplate", "default", "zzz"));
  EXPECT_FALSE(*this->store_->get_object("ConfigMap", "default", "a"));

  auto in_default = this->store_->list_objects("WorkflowTemplate", "default");
  ASSERT_TRUE(in_default.ok());
  ASSERT_EQ(in_default->size(), 2u);
  EXPECT_EQ((*in_default)[0].name, "a");
  EXPECT_EQ((*in_default)[1].name, "b");
  EXPECT_EQ(this->store_->list_objects("WorkflowTemplate", "")->size(), 3u);
  EXPECT_EQ(this->store_->list_objects("ClusterWorkflowTemplate", "")->size(), 1u);

  EXPECT_TRUE(*this->store_->delete_object("WorkflowTemplate", "default", "a"));
  EXPECT_FALSE(*this->store_->delete_object("WorkflowTemplate", "default", "a"));
  EXPECT_EQ(this->store_->list_objects("WorkflowTemplate", "")->size(), 2u);
}

TYPED_TEST(StoreTest, SecretsRoundTripAndListNamesOnly) {
  std::map<std::string, std::string> data{{"password", "hunter2"}, {"user", "admin"}, {"empty", ""}};
  ASSERT_TRUE(this->store_->put_secret("default", "db", data).ok());
  ASSERT_TRUE(this->store_->put_secret("default", "api", {{"token", "t0k"}}).ok());
  ASSERT_TRUE(this->store_->put_secret("team", "db", {{"password", "other"}}).ok());
  auto got = this->store_->get_secret("default", "db");
  ASSERT_TRUE(got.ok()) << got.error().str();
  ASSERT_TRUE(*got);
  EXPECT_EQ(**got, data);
  EXPECT_EQ((**this->store_->get_secret("team", "db")).at("password"), "other");
  EXPECT_FALSE(*this->store_->get_secret("default", "nope"));

  ASSERT_TRUE(this->store_->put_secret("default", "db", {{"password", "new"}}).ok());  // replaces
  EXPECT_EQ(**this->store_->get_secret("default", "db"), (std::map<std::string, std::string>{{"password", "new"}}));

  EXPECT_EQ(*this->store_->list_secrets("default"), (std::vector<std::string>{"api", "db"}));
  EXPECT_EQ(this->store_->list_secrets("")->size(), 3u);
  EXPECT_TRUE(*this->store_->delete_secret("default", "api"));
  EXPECT_FALSE(*this->store_->delete_secret("default", "api"));
  EXPECT_EQ(*this->store_->list_secrets("default"), (std::vector<std::string>{"db"}));
}

// ---- SQLite only

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tmp_.ok());
    dir_ = tmp_.path();
    path_ = dir_ + "/tether.db";
  }
  std::unique_ptr<SqliteStore> open(SqliteStore::Mode mode = SqliteStore::Mode::kWriter, StoreOptions opts = {}) {
    auto s = SqliteStore::open(path_, mode, opts);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().str());
    return s.ok() ? std::move(*s) : nullptr;
  }
  // Runs SQL on the database file behind the store's back.
  void raw_exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
  std::string file_bytes(const std::string& p) {
    auto r = read_file(p);
    return r.ok() ? *r : std::string();
  }
  testlib::TempDir tmp_{"tether-store"};
  std::string dir_, path_;
};

TEST_F(SqliteStoreTest, DataSurvivesReopenAndSchemaIsVersioned) {
  {
    auto s = open();
    ASSERT_TRUE(s->commit(runs_batch({run("u1", "wf", "2026-11-28T00:00:01Z")})).ok());
  }
  auto s = open(SqliteStore::Mode::kReader);
  ASSERT_TRUE(s);
  EXPECT_EQ((*s->find_run("", "wf"))->uid, "u1");
  EXPECT_GE(SqliteStore::schema_version(), 1);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), SqliteStore::schema_version());
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, CreatesTheFolderOfTheDatabase) {
  auto s = SqliteStore::open(dir_ + "/new/home/tether.db", SqliteStore::Mode::kWriter);
  ASSERT_TRUE(s.ok()) << s.error().str();
  EXPECT_TRUE(fs::exists(dir_ + "/new/home/tether.db"));
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefused) {
  open();
  raw_exec("PRAGMA user_version=999");
  auto s = SqliteStore::open(path_, SqliteStore::Mode::kWriter);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("999"), std::string::npos) << s.error().message;
}

TEST_F(SqliteStoreTest, ReaderCannotWrite) {
  open();
  auto r = open(SqliteStore::Mode::kReader);
  EXPECT_FALSE(r->commit(runs_batch({run("u1", "wf", "2026-11-28T00:00:01Z")})).ok());
  EXPECT_FALSE(r->put_object({"ConfigMap", "default", "c", Json::object(), "t"}).ok());
}

TEST_F(SqliteStoreTest, ReaderReadsWhileWriterCommits) {
  auto writer = open();
  auto reader = open(SqliteStore::Mode::kReader);
  ASSERT_TRUE(writer && reader);
  ASSERT_TRUE(writer->commit(runs_batch({run("u1", "wf", "2026-11-28T00:00:01Z")})).ok());
  constexpr int kCommits = 1000;
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::string reader_error;
  std::thread t([&] {
    while (!done.load()) {
      auto r = reader->find_run("default", "wf");
      auto n = reader->nodes("u1");
      auto l = reader->list_runs({.limit = 5});
      for (const Error* e : {r.ok() ? nullptr : &r.error(), n.ok() ? nullptr : &n.error(),
                             l.ok() ? nullptr : &l.error()})
        if (e && reader_error.empty()) reader_error = e->str();
      reads++;
    }
  });
  std::string writer_error;
  for (int i = 0; i < kCommits && writer_error.empty(); ++i) {
    Batch b;
    RunRecord r = run("u1", "wf", "2026-11-28T00:00:01Z");
    r.workflow = nullptr;
    r.status = Json{{"progress", std::to_string(i) + "/1000"}};
    b.runs = {r};
    b.nodes = {node("u1", "wf-" + std::to_string(i % 50), "Running")};
    b.events = {{"u1", "", "2026-11-28T00:00:01Z", "Normal", "Tick", std::to_string(i)}};
    auto st = writer->commit(b);
    if (!st.ok()) writer_error = st.error().str();
  }
  done = true;
  t.join();
  EXPECT_EQ(writer_error, "");
  EXPECT_EQ(reader_error, "");
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(reader->events("u1")->size(), static_cast<size_t>(kCommits));
  EXPECT_EQ((*reader->find_run("", "wf"))->status["progress"], "999/1000");
}

// The engine's writer: a commit is readable at once, flush() returns once it is synced, and
// the store still checkpoints (its WAL hook replaces SQLite's, which did).
TEST_F(SqliteStoreTest, AWriterThatSyncsInTheBackgroundCommitsFlushesAndCheckpoints) {
  auto writer = open(SqliteStore::Mode::kWriter, {.sync_in_background = true});
  auto reader = open(SqliteStore::Mode::kReader);
  ASSERT_TRUE(writer && reader);
  ASSERT_TRUE(writer->commit(runs_batch({run("u1", "wf", "2026-11-28T00:00:01Z")})).ok());
  EXPECT_EQ((*reader->find_run("", "wf"))->uid, "u1");
  for (int i = 0; i < 2000; ++i) {
    Batch b;
    b.nodes = {node("u1", "n" + std::to_string(i), "Running")};
    b.events = {{"u1", "", "2026-11-28T00:00:01Z", "Normal", "Tick", std::string(2000, 'x')}};
    ASSERT_TRUE(writer->commit(b).ok()) << i;
  }
  EXPECT_TRUE(writer->flush().ok());
  EXPECT_EQ(reader->events("u1")->size(), 2000u);
  // Without checkpoints the WAL would hold every page written: well over 1000 of them.
  EXPECT_LT(fs::file_size(path_ + "-wal"), 1100u * (4096 + 24)) << "the WAL was not checkpointed";
}

// A sync that fails fails the flush and every commit after it, as a failed COMMIT would,
// naming the file; nothing already committed is lost.
TEST_F(SqliteStoreTest, AFailedBackgroundSyncFailsWhatFollows) {
  auto writer = open(SqliteStore::Mode::kWriter, {.sync_in_background = true});
  ASSERT_TRUE(writer);
  // The syncer opens the WAL at its first sync: gone from its directory, it cannot.
  ASSERT_EQ(::unlink((path_ + "-wal").c_str()), 0);
  ASSERT_TRUE(writer->commit(runs_batch({run("u1", "wf", "2026-11-28T00:00:01Z")})).ok());
  Status flushed = writer->flush();
  ASSERT_FALSE(flushed.ok());
  EXPECT_NE(flushed.error().message.find(path_ + "-wal"), std::string::npos) << flushed.error().message;
  EXPECT_FALSE(writer->commit(runs_batch({run("u2", "wf2", "2026-11-28T00:00:02Z")})).ok());
  EXPECT_EQ((*writer->find_run("", "wf"))->uid, "u1");
}

TEST_F(SqliteStoreTest, SecretValuesAreNotInTheDatabaseFiles) {
  const std::string value = "correct-horse-battery-staple-7f3a";
  {
    auto s = open();
    ASSERT_TRUE(s->put_secret("default", "creds", {{"password", value}}).ok());
    EXPECT_EQ((**s->get_secret("default", "creds")).at("password"), value);
    // Look while the WAL still holds the pages, and again after a checkpoint.
    ASSERT_TRUE(fs::exists(path_ + "-wal"));
    for (const char* suffix : {"", "-wal"})
      EXPECT_EQ(file_bytes(path_ + suffix).find(value), std::string::npos) << "found in tether.db" << suffix;
  }
  EXPECT_EQ(file_bytes(path_).find(value), std::string::npos);
  EXPECT_EQ(file_bytes(path_).find("password"), std::string::npos);  // keys are sealed too
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/secret.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  // A new connection decrypts with the same key file.
  EXPECT_EQ((**open(SqliteStore::Mode::kReader)->get_secret("default", "creds")).at("password"), value);
}

TEST_F(SqliteStoreTest, SecretMovedToAnotherRowDoesNotDecrypt) {
  auto s = open();
  ASSERT_TRUE(s->put_secret("default", "a", {{"k", "v"}}).ok());
  ASSERT_TRUE(s->put_secret("default", "b", {{"k", "w"}}).ok());
  raw_exec("UPDATE secrets SET sealed = (SELECT sealed FROM secrets WHERE name = 'a') WHERE name = 'b'");
  auto got = s->get_secret("default", "b");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find("default/b"), std::string::npos) << got.error().message;
}

TEST_F(SqliteStoreTest, WrongKeyFileIsAnError) {
  {
    auto s = open();
    ASSERT_TRUE(s->put_secret("default", "a", {{"k", "v"}}).ok());
  }
  std::ofstream(dir_ + "/secret.key", std::ios::binary | std::ios::trunc) << std::string(32, 'x');
  auto got = open()->get_secret("default", "a");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find("secret.key"), std::string::npos) << got.error().message;
}

TEST_F(SqliteStoreTest, CorruptRowGivesAnErrorNamingTableAndKey) {
  auto s = open();
  Batch b = runs_batch({run("u1", "wf", "2026-11-28T00:00:01Z")});
  b.nodes = {node("u1", "wf-123", "Running")};
  ASSERT_TRUE(s->commit(b).ok());
  ASSERT_TRUE(s->put_object({"ConfigMap", "default", "cm", {{"data", {{"a", "b"}}}}, "t"}).ok());
  raw_exec("UPDATE runs SET status = '{\"progress\": ' WHERE uid = 'u1';"
           "UPDATE nodes SET status = 'not json' WHERE id = 'wf-123';"
           "UPDATE objects SET object = '[1,' WHERE name = 'cm';");
  auto r = s->find_run("", "wf");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("runs[uid=u1].status"), std::string::npos) << r.error().message;
  auto l = s->list_runs({});
  ASSERT_FALSE(l.ok());
  auto n = s->nodes("u1");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message.find("nodes[run_uid=u1, id=wf-123]"), std::string::npos) << n.error().message;
  auto o = s->get_object("ConfigMap", "default", "cm");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.error().message.find("objects[ConfigMap default/cm]"), std::string::npos) << o.error().message;
}

TEST_F(SqliteStoreTest, IntegrityCheck) {
  auto s = open();
  Batch b = runs_batch({run("u1", "wf", "2026-11-28T00:00:01Z")});
  b.nodes = {node("u1", "wf", "Running")};
  ASSERT_TRUE(s->commit(b).ok());
  auto ok = s->integrity_check();
  EXPECT_TRUE(ok.ok()) << ok.error().str();
  // A dangling node (written with foreign keys off) is reported.
  raw_exec("PRAGMA foreign_keys=OFF; INSERT INTO nodes (run_uid, id, phase, name, status) VALUES ('ghost', 'n', '', '', '{}');");
  auto bad = s->integrity_check();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("nodes"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace tether::store
