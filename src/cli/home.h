// $TETHER_HOME: where one engine keeps its store, socket, lock, logs, runs and artifacts.
#pragma once

#include <string>

#include "base/fd.h"
#include "base/json.h"
#include "base/result.h"

namespace tether::cli {

struct Home {
  std::string root;  // $TETHER_HOME, default ~/.tether
  std::string db() const { return root + "/tether.db"; }
  std::string socket() const { return root + "/engine.sock"; }
  std::string lock() const { return root + "/engine.lock"; }
  std::string engine_log() const { return root + "/engine.log"; }
  std::string artifacts() const { return root + "/artifacts"; }
  std::string runs() const { return root + "/runs"; }
  std::string secret_key() const { return root + "/secret.key"; }
};

// Resolves and creates $TETHER_HOME (mode 0700: it holds the secrets key).
Result<Home> open_home();

// Takes the one-engine-per-home lock, or says which pid holds it.
Result<UniqueFd> acquire_engine_lock(const Home& home);

// Makes sure an engine serves this home: if none answers on the socket, starts one in the
// background (`tether server --idle-exit`), detached from the terminal, and waits for it.
Status ensure_engine(const Home& home);

// Sends one request to the engine (starting it if needed). A reply {"ok":false,"error":...}
// becomes an Error with that message.
Result<Json> engine_call(const Home& home, const Json& request);

}  // namespace tether::cli
