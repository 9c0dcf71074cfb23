// `tether server`: the engine of one $TETHER_HOME in the foreground. The CLI starts the
// same thing in the background (`--idle-exit`) when a command needs an engine and none
// runs. This file is the composition root of the engine process: it picks the store, the
// executor and the artifact repository and hands them to the engine.
#include <fmt/core.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <filesystem>
#include <future>
#include <thread>

#include "base/crash_point.h"
#include "base/log.h"
#include "cli/command.h"
#include "cli/home.h"
#include "cli/object_ops.h"
#include "engine/cron_controller.h"
#include "engine/engine.h"
#include "server/control.h"
#include "store/sqlite_store.h"
#include "exec/host_runner.h"
#include "artifacts/local_repo.h"

namespace tether::cli {
namespace {

struct ServerArgs {
  bool stop = false;
  int idle_exit = 0;
  bool no_http = false;
  std::string executor = "host";
};

Json error_reply(const Error& e) { return {{"ok", false}, {"error", e.message}}; }

// Runs a command on the engine thread and waits for its reply. Control connections have
// their own threads, so blocking here blocks only that client.
template <typename Cmd>
Json run_on_engine(engine::Engine& eng, Cmd cmd) {
  auto promise = std::make_shared<std::promise<Json>>();
  auto future = promise->get_future();
  cmd.reply = [promise](Status st) {
    promise->set_value(st.ok() ? Json{{"ok", true}} : error_reply(st.error()));
  };
  eng.post(std::move(cmd));
  return future.get();
}

engine::RunRef run_ref(const Json& req) {
  engine::RunRef ref;
  ref.namespace_ = req.value("namespace", std::string("default"));
  ref.name = req.value("name", std::string());
  return ref;
}

// A request's list of "NAME=VALUE" strings.
Result<std::vector<std::pair<std::string, std::string>>> name_values(const Json& req, const char* key) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : req.value(key, Json::array())) {
    std::string kv = p.is_string() ? p.get<std::string>() : std::string();
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return invalid("expected parameter of the form: NAME=VALUE. Received: " + kv);
    out.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return out;
}

Json handle(engine::Engine& eng, Json& req) {
  std::string op = req.value("op", std::string());
  if (op == "ping") return {{"ok", true}, {"pid", ::getpid()}};
  if (op == "shutdown") {
    eng.request_shutdown();
    return {{"ok", true}};
  }
  if (op == "submit") {
    auto promise = std::make_shared<std::promise<Json>>();
    auto future = promise->get_future();
    engine::Submit cmd;
    if (auto wf = req.find("workflow"); wf != req.end()) cmd.workflow = std::move(*wf);
    else cmd.workflow = Json::object();
    cmd.entrypoint_override = req.value("entrypoint", std::string());
    if (auto from = req.find("memoizedFrom"); from != req.end() && from->is_object()) cmd.memoized_from = run_ref(*from);
    cmd.reply = [promise](Result<engine::RunRecord> r) {
      promise->set_value(r.ok() ? Json{{"ok", true}, {"name", r->name}, {"uid", r->uid}, {"namespace", r->namespace_}}
                                : error_reply(r.error()));
    };
    eng.post(std::move(cmd));
    return future.get();
  }
  if (op == "stop") return run_on_engine(eng, engine::Stop{run_ref(req), req.value("message", std::string()), {}});
  if (op == "terminate") return run_on_engine(eng, engine::Terminate{run_ref(req), {}});
  if (op == "delete") return run_on_engine(eng, engine::Delete{run_ref(req), {}});
  if (op == "suspend") return run_on_engine(eng, engine::Suspend{run_ref(req), {}});
  if (op == "resume") return run_on_engine(eng, engine::Resume{run_ref(req), {}});
  if (op == "node-set") {
    engine::NodeSet cmd;
    cmd.run = run_ref(req);
    cmd.node_field_selector = req.value("nodeFieldSelector", std::string());
    cmd.phase = req.value("phase", std::string());
    cmd.message = req.value("message", std::string());
    auto params = name_values(req, "outputParameters");
    if (!params.ok()) return error_reply(params.error());
    cmd.output_parameters = std::move(*params);
    return run_on_engine(eng, std::move(cmd));
  }
  if (op == "retry") {
    engine::Retry cmd;
    cmd.run = run_ref(req);
    cmd.restart_successful = req.value("restartSuccessful", false);
    cmd.node_field_selector = req.value("nodeFieldSelector", std::string());
    auto params = name_values(req, "parameters");
    if (!params.ok()) return error_reply(params.error());
    cmd.parameters = std::move(*params);
    return run_on_engine(eng, std::move(cmd));
  }
  return {{"ok", false}, {"error", "unknown request \"" + op + "\""}};
}

// TETHER_TEST_CLOCK_START=<unix seconds>: the cron scheduler's clock starts there and runs
// at the real pace, so tests reach a minute boundary, or a missed one, at once.
std::unique_ptr<Clock> test_clock_from_env() {
  class ShiftedClock final : public Clock {
   public:
    explicit ShiftedClock(std::chrono::microseconds shift) : shift_(shift) {}
    WallTime now() const override { return SystemClock::instance().now() + shift_; }

   private:
    std::chrono::microseconds shift_;
  };
  const char* start = std::getenv("TETHER_TEST_CLOCK_START");
  if (!start || !*start) return nullptr;
  WallTime at(std::chrono::seconds(std::strtoll(start, nullptr, 10)));
  return std::make_unique<ShiftedClock>(at - SystemClock::instance().now());
}

int stop_server(const Home& home) {
  auto reply = server::call(home.socket(), {{"op", "shutdown"}}, 5000);
  if (!reply.ok()) return 0;  // nothing to stop
  // Wait until the engine has let go of its lock, so a caller can start a new one at once.
  for (int i = 0; i < 400; ++i) {
    auto lock = acquire_engine_lock(home);
    if (lock.ok()) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  fmt::print(stderr, "the engine did not stop within 10 seconds\n");
  return 1;
}

int run_server(const ServerArgs& a) {
  auto home = open_home();
  if (!home.ok()) return fmt::print(stderr, "{}\n", home.error().str()), 1;
  if (a.stop) return stop_server(*home);
  auto lock = acquire_engine_lock(*home);
  if (!lock.ok()) return fmt::print(stderr, "{}\n", lock.error().str()), 1;

  store::StoreOptions sopts;
  sopts.secret_key_path = home->secret_key();
  store::StoreOptions engine_sopts = sopts;
  engine_sopts.sync_in_background = true;
  auto store = store::SqliteStore::open(home->db(), store::SqliteStore::Mode::kWriter, engine_sopts);
  if (!store.ok()) return fmt::print(stderr, "{}\n", store.error().str()), 1;
  exec::HostRunner runner;
  artifacts::RepoOptions ropts;
  ropts.on_save_progress = [](uint64_t) {
    crash_point("artifact-save");
    return ok_status();
  };
  artifacts::LocalRepo repo(home->artifacts(), std::move(ropts));
  engine::EngineOptions eopts;
  eopts.home = home->root;
  // http and data steps run this binary; /proc/self/exe names it however it was started.
  std::error_code exe_error;
  eopts.self_exe = std::filesystem::read_symlink("/proc/self/exe", exe_error).string();
  if (a.idle_exit > 0) eopts.idle_exit = std::chrono::milliseconds(a.idle_exit * 1000);

  // Stored objects (secrets, configmaps, templates) are written on a second writer
  // connection owned here, not on the engine thread: SQLite serialises it with the
  // engine's commits (the busy timeout waits for the write lock), and the engine reads
  // them fresh at each step start. One mutex-guarded connection serves all clients.
  auto objects = store::SqliteStore::open(home->db(), store::SqliteStore::Mode::kWriter, sopts);
  if (!objects.ok()) return fmt::print(stderr, "{}\n", objects.error().str()), 1;

  // CronWorkflows run while a foreground server runs, as they need an engine that stays;
  // the background engine the CLI starts exits when idle and leaves them alone.
  std::unique_ptr<engine::CronController> crons;
  std::unique_ptr<Clock> cron_clock = test_clock_from_env();
  engine::Engine* eng_ptr = nullptr;
  if (a.idle_exit == 0) {
    crons = std::make_unique<engine::CronController>(
        **objects, cron_clock ? *cron_clock : static_cast<const Clock&>(SystemClock::instance()),
        [&eng_ptr](engine::Command c) { eng_ptr->post(std::move(c)); });
    eopts.on_run_finished = [&crons](const engine::RunRecord& r) { crons->run_finished(r); };
  }
  engine::Engine eng(**store, runner, repo, SystemClock::instance(), eopts);
  eng_ptr = &eng;
  if (auto st = eng.recover(); !st.ok()) return fmt::print(stderr, "recovering runs: {}\n", st.error().str()), 1;

  auto control = server::ControlServer::listen(home->socket(), [&eng, &objects, &crons](Json& req) {
    if (auto reply = handle_object_op(**objects, req)) {
      if (auto cron = cron_written(req); cron && crons) crons->changed(cron->first, cron->second);
      return *reply;
    }
    return handle(eng, req);
  });
  if (!control.ok()) return fmt::print(stderr, "{}\n", control.error().str()), 1;

  // SIGINT/SIGTERM end the engine cleanly; running steps are left to their supervisors
  // and re-adopted by the next engine.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  std::thread signals([&eng, mask] {
    int sig = 0;
    sigwait(&mask, &sig);
    eng.request_shutdown();
  });
  signals.detach();

  log::info("engine {} serving {}", ::getpid(), home->root);
  std::thread cron_thread;
  if (crons) cron_thread = std::thread([&crons] { crons->run(); });
  auto st = eng.run();
  (*control)->stop();
  if (crons) {
    crons->stop();
    cron_thread.join();
  }
  if (!st.ok()) return fmt::print(stderr, "engine: {}\n", st.error().str()), 1;
  return 0;
}

CommandRegistrar reg("server", [](CLI::App& root) {
  auto a = std::make_shared<ServerArgs>();
  auto* cmd = root.add_subcommand("server", "run the engine (and its API) in the foreground");
  cmd->add_flag("--stop", a->stop, "stop the engine serving this TETHER_HOME, if one runs");
  cmd->add_option("--idle-exit", a->idle_exit, "exit after this many seconds with no active workflow (0: never)");
  cmd->add_flag("--no-http", a->no_http, "serve only the local control socket");
  cmd->add_option("--executor", a->executor, "how steps run: host")->check(CLI::IsMember({"host"}));
  cmd->callback([a] { set_exit_code(run_server(*a)); });
});

}  // namespace
}  // namespace tether::cli
