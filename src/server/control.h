// The local control channel: CLI commands that change runs talk to the one engine of a
// $TETHER_HOME over a unix socket there, one JSON request and one JSON reply per line.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "base/fd.h"
#include "base/json.h"
#include "base/result.h"

namespace tether::server {

// Serves requests on a unix socket until stop(). Each connection gets its own thread;
// the handler may block (it usually waits for the engine thread's reply).
class ControlServer {
 public:
  // The request is the handler's to take parts of (a submitted workflow is moved, not copied).
  using Handler = std::function<Json(Json& request)>;

  static Result<std::unique_ptr<ControlServer>> listen(const std::string& socket_path, Handler handler);
  ~ControlServer();
  void stop();

 private:
  ControlServer(std::string path, UniqueFd fd, Handler handler);
  void accept_loop();
  void serve(int fd);

  std::string path_;
  UniqueFd fd_;
  UniqueFd wake_;  // eventfd: stop() wakes the accept loop
  Handler handler_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> active_{0};
  std::thread thread_;
};

// Sends one request and waits for its reply. kUnavailable when no engine listens.
Result<Json> call(const std::string& socket_path, const Json& request, int timeout_ms = 30000);

}  // namespace tether::server
