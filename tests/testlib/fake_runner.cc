#include "testlib/fake_runner.h"

#include <fnmatch.h>

#include <filesystem>

#include "base/strings.h"

namespace tether::testlib {

const FakeStep& FakeRunner::lookup(const std::string& node_name) const {
  static const FakeStep kDefault;
  for (const auto& s : table_)
    if (fnmatch(s.pattern.c_str(), node_name.c_str(), 0) == 0) return s;
  return kDefault;
}

Result<std::string> FakeRunner::start(const engine::StepInvocation& step) {
  starts_[step.node_name]++;
  started_order_.push_back(step.node_name);
  invocations[step.node_name] = step;
  const FakeStep& spec = lookup(step.node_name);
  if (spec.start_fails) return Error(ErrorCode::kIo, "fake start failure for " + step.node_name);
  ever_started_.insert(step.node_id);
  WallTime now = clock_.now();
  running_[step.node_id] = Live{step, spec, now, now + spec.duration};
  max_concurrent = std::max(max_concurrent, running_.size());
  return "fake:" + step.node_id;
}

Status FakeRunner::attach(const std::string& node_id, const std::string& node_dir, const std::string& handle,
                          const engine::StepInvocation& step) {
  attached.push_back(node_id);
  if (running_.count(node_id)) return ok_status();  // still running, or ended unseen: poll() reports it
  engine::StepExit lost;
  lost.node_id = node_id;
  if (!ever_started_.count(node_id) && !unknown_steps_died) {
    lost.kind = engine::StepExit::Kind::kNotStarted;
    lost_.push_back(lost);
    return ok_status();
  }
  lost.kind = engine::StepExit::Kind::kLost;
  lost.message = "lost";
  lost.finished_at = clock_.now();
  lost_.push_back(lost);
  return ok_status();
}

void FakeRunner::signal(const std::string& node_id, int sig) {
  signals.emplace_back(node_id, sig);
  auto it = running_.find(node_id);
  if (it == running_.end()) return;
  it->second.forced_code = 128 + sig;
  it->second.ends = clock_.now();
}

engine::StepExit FakeRunner::finish(const Live& live, int code) {
  engine::StepExit e;
  e.node_id = live.step.node_id;
  e.exit_code = code;
  e.started_at = live.started;
  e.finished_at = live.ends;
  std::string dir = live.step.node_dir;
  std::filesystem::create_directories(dir + "/out");
  e.stdout_path = dir + "/stdout";
  (void)write_file_atomic(e.stdout_path, live.spec.stdout_text);
  int i = 0;
  for (const auto& path : live.step.output_paths) {
    std::string host = dir + "/out/" + std::to_string(i++);
    auto f = live.spec.files.find(path);
    if (f != live.spec.files.end()) (void)write_file_atomic(host, f->second);
    e.output_host_paths.emplace_back(path, host);
  }
  return e;
}

std::vector<engine::StepExit> FakeRunner::poll() {
  std::vector<engine::StepExit> out;
  out.swap(lost_);
  WallTime now = clock_.now();
  for (auto& [id, live] : running_)
    if (live.step.daemon && !live.daemoned && live.started + live.spec.ready_after <= now && live.ends > now) {
      live.daemoned = true;
      engine::StepExit e;
      e.node_id = id;
      e.kind = engine::StepExit::Kind::kDaemoned;
      out.push_back(e);
    }
  for (auto it = running_.begin(); it != running_.end();) {
    if (it->second.ends > now) {
      ++it;
      continue;
    }
    int code = it->second.forced_code >= 0 ? it->second.forced_code : it->second.spec.exit_code;
    out.push_back(finish(it->second, code));
    it = running_.erase(it);
  }
  return out;
}

std::optional<WallTime> FakeRunner::next_wakeup() const {
  std::optional<WallTime> t;
  for (const auto& [id, live] : running_) {
    if (!t || live.ends < *t) t = live.ends;
    WallTime ready = live.started + live.spec.ready_after;
    if (live.step.daemon && !live.daemoned && ready < *t) t = ready;
  }
  return t;
}

int FakeRunner::starts(const std::string& node_name) const {
  auto it = starts_.find(node_name);
  return it == starts_.end() ? 0 : it->second;
}

int FakeRunner::max_starts() const {
  int m = 0;
  for (const auto& [n, c] : starts_) m = std::max(m, c);
  return m;
}

}  // namespace tether::testlib
