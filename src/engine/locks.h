// Argo's synchronization: mutexes and semaphores shared by every run of one engine, taken
// by a whole workflow (spec.synchronization) or by a step (template.synchronization)
// before it starts and given back when it ends. Nothing here is stored: an engine that
// restarts takes again the locks of what was already running (Engine::recover).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace tether::engine {

class Store;

struct LockSpec {
  // Argo's lock name: "ns/Mutex/name", "ns/ConfigMap/name/key", or for a database lock
  // "ns/Database/name" with the row key beside it ("mtx/ns/name", "sem/ns/key"), which is
  // what tells a database mutex from a database semaphore of the same name.
  std::string key;
  int limit = 1;
  std::string db_key;
};

// The locks a synchronization block names (mutex, mutexes, semaphore, semaphores); a
// semaphore's limit is read from its ConfigMap key, or for a database semaphore from the
// sync limit stored under its key (`tether sync create KEY --type database --limit N`):
// with a single engine per store, the store is the database every run shares.
Result<std::vector<LockSpec>> lock_specs(Store& store, const std::string& namespace_, const Json& synchronization);

class Locks {
 public:
  // Takes every lock for holder, or none. Returns "" once held, else Argo's waiting message
  // ("Waiting for default/Mutex/m lock. Lock status: 0/1", which counts what is free; a
  // database lock's counts the holders: "Waiting for default/Database/k lock (sem/default/k).
  // Lock status: 2/2").
  std::string try_acquire(const std::vector<LockSpec>& locks, const std::string& holder);
  // Takes them whatever the limits say: for what already ran before a restart.
  void force(const std::vector<LockSpec>& locks, const std::string& holder);
  void release(const std::string& holder);
  bool holds(const std::string& holder) const { return held_by_.count(holder) > 0; }

 private:
  std::map<std::string, std::set<std::string>> holders_;    // lock key -> holders
  std::map<std::string, std::vector<std::string>> held_by_;  // holder -> lock keys
};

}  // namespace tether::engine
