#include "server/control.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>
#include <vector>

namespace tether::server {
namespace {

std::string temp_socket() {
  char dir[] = "/tmp/tether-ctl-XXXXXX";
  EXPECT_NE(::mkdtemp(dir), nullptr);
  return std::string(dir) + "/engine.sock";
}

TEST(Control, RequestReplyRoundTrip) {
  std::string path = temp_socket();
  auto server = ControlServer::listen(path, [](const Json& req) {
    return Json{{"ok", true}, {"echo", req["value"]}};
  });
  ASSERT_TRUE(server.ok()) << server.error().str();
  auto reply = call(path, {{"op", "ping"}, {"value", std::string(200000, 'x')}});
  ASSERT_TRUE(reply.ok()) << reply.error().str();
  EXPECT_EQ((*reply)["echo"].get<std::string>().size(), 200000u);
}

TEST(Control, ConcurrentClients) {
  std::string path = temp_socket();
  auto server = ControlServer::listen(path, [](const Json& req) { return Json{{"n", req["n"]}}; });
  ASSERT_TRUE(server.ok());
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < 16; ++i)
    threads.emplace_back([&, i] {
      auto r = call(path, {{"n", i}});
      if (r.ok() && (*r)["n"] == i) ++good;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), 16);
}

TEST(Control, NoServerIsUnavailable) {
  auto r = call(temp_socket(), {{"op", "ping"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

TEST(Control, BadJsonGetsAnErrorReply) {
  std::string path = temp_socket();
  auto server = ControlServer::listen(path, [](const Json&) { return Json{{"ok", true}}; });
  ASSERT_TRUE(server.ok());
  (*server)->stop();
  EXPECT_FALSE(call(path, {{"op", "ping"}}).ok());
}

}  // namespace
}  // namespace tether::server
