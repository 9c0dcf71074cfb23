// engine::Store in memory, for engine unit tests. It keeps the SQLite store's semantics
// (upserts, a null workflow keeps the stored one, newest-first lists, @latest, cascade
// delete, all-or-nothing commits); sqlite_store_test runs one suite against both.
#pragma once

#include <cstdint>
#include <mutex>
#include <tuple>

#include "engine/store.h"

namespace tether::testlib {

class MemoryStore final : public engine::Store {
 public:
  Status commit(const engine::Batch& batch) override;
  Result<std::optional<engine::RunRecord>> find_run(const std::string& namespace_,
                                                    const std::string& name_or_uid) override;
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

  // How many batches were committed: lets engine tests assert one commit per turn.
  int commits() const { return commits_; }

  // flush() counts its calls and answers `flush_result`.
  Status flush() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++flushes_;
    return flush_result;
  }
  int flushes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return flushes_;
  }
  Status flush_result;

 private:
  struct Run {
    engine::RunRecord record;
    int64_t seq = 0;  // creation order, the tie-break of equal created_at
    std::vector<engine::NodeRecord> nodes;
    std::vector<engine::EventRecord> events;
  };
  using Runs = std::map<std::string, Run>;  // by uid
  using Key = std::tuple<std::string, std::string, std::string>;

  static Status apply(Runs& runs, int64_t& seq, const engine::Batch& batch);
  std::vector<const Run*> newest_first() const;

  mutable std::mutex mu_;
  Runs runs_;
  int64_t seq_ = 0;
  int commits_ = 0;
  int flushes_ = 0;
  std::map<Key, engine::ObjectRecord> objects_;                                           // kind, ns, name
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::string>> secrets_;  // ns, name
};

}  // namespace tether::testlib
