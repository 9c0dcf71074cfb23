#include "testlib/memory_repo.h"

#include "base/strings.h"

namespace tether::testlib {

Status MemoryRepo::save(const engine::SaveRequest& req) {
  auto content = read_file(req.src);
  if (!content.ok()) return content.take_error();
  objects[req.key] = *content;
  return ok_status();
}

Status MemoryRepo::load(const engine::LoadRequest& req) {
  auto it = objects.find(req.key);
  if (it == objects.end()) return not_found("artifact " + req.key + " not found");
  return write_file_atomic(req.dest, it->second, req.mode >= 0 ? req.mode : 0644);
}

Status MemoryRepo::remove_prefix(const std::string& prefix) {
  for (auto it = objects.begin(); it != objects.end();)
    it = starts_with(it->first, prefix) ? objects.erase(it) : std::next(it);
  return ok_status();
}

}  // namespace tether::testlib
