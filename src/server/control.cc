#include "server/control.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/log.h"

namespace tether::server {
namespace {

Result<sockaddr_un> make_addr(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path))
    return invalid("socket path too long (" + std::to_string(path.size()) + " bytes): " + path +
                   "; use a shorter TETHER_HOME");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

bool write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads up to the first newline. Requests can be large (a workflow), so no fixed limit
// below 64 MiB.
Result<std::string> read_line(int fd, int timeout_ms) {
  std::string buf;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char chunk[65536];
  while (true) {
    auto nl = buf.find('\n');
    if (nl != std::string::npos) return buf.substr(0, nl);
    if (buf.size() > (64u << 20)) return invalid("control message over 64 MiB");
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    if (timeout_ms >= 0 && left <= 0) return Error(ErrorCode::kUnavailable, "timed out waiting for the engine");
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms < 0 ? -1 : left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("control socket read");
    }
    if (n == 0) return Error(ErrorCode::kUnavailable, "the engine closed the connection");
    buf.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace

Result<std::unique_ptr<ControlServer>> ControlServer::listen(const std::string& socket_path, Handler handler) {
  sockaddr_un addr = TRY(make_addr(socket_path));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return io_error("socket");
  // The caller holds the engine lock, so a socket file left here is stale.
  ::unlink(socket_path.c_str());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return io_error("bind " + socket_path);
  ::chmod(socket_path.c_str(), 0600);
  if (::listen(fd.get(), 128) != 0) return io_error("listen " + socket_path);
  return std::unique_ptr<ControlServer>(new ControlServer(socket_path, std::move(fd), std::move(handler)));
}

ControlServer::ControlServer(std::string path, UniqueFd fd, Handler handler)
    : path_(std::move(path)), fd_(std::move(fd)), wake_(::eventfd(0, EFD_CLOEXEC)), handler_(std::move(handler)) {
  thread_ = std::thread([this] { accept_loop(); });
}

ControlServer::~ControlServer() { stop(); }

void ControlServer::stop() {
  if (stopping_.exchange(true)) return;
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  ::unlink(path_.c_str());
  // Connection threads are detached; wait for them so none touches a dead handler.
  while (active_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

void ControlServer::accept_loop() {
  while (!stopping_.load()) {
    pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    int r = ::poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      log::error("control socket poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    int c = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    ++active_;
    std::thread([this, c] {
      serve(c);
      ::close(c);
      --active_;
    }).detach();
  }
}

void ControlServer::serve(int fd) {
  auto line = read_line(fd, 30000);
  if (!line.ok()) return;
  Json reply;
  auto req = parse_json(*line, "control request");
  if (!req.ok()) {
    reply = {{"ok", false}, {"error", req.error().message}};
  } else {
    reply = handler_(*req);
  }
  write_all(fd, reply.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
}

Result<Json> call(const std::string& socket_path, const Json& request, int timeout_ms) {
  sockaddr_un addr = TRY(make_addr(socket_path));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return io_error("socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return Error(ErrorCode::kUnavailable, "no engine is listening on " + socket_path);
  if (!write_all(fd.get(), request.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n"))
    return Error(ErrorCode::kUnavailable, "the engine closed the connection");
  std::string line = TRY(read_line(fd.get(), timeout_ms));
  return parse_json(line, "control reply");
}

}  // namespace tether::server
