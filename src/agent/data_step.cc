#include "agent/data_step.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <fmt/core.h>

#include "agent/step_io.h"
#include "expr/expr_lang.h"

namespace tether::agent {

namespace fs = std::filesystem;

Result<std::vector<std::string>> list_files(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(root, ec))) return out;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
  if (ec) return Error(ErrorCode::kIo, "listing " + root + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Error(ErrorCode::kIo, "listing " + root + ": " + ec.message());
    auto st = it->symlink_status(ec);
    if (ec) return Error(ErrorCode::kIo, "listing " + it->path().string() + ": " + ec.message());
    if (fs::is_directory(st)) continue;
    out.push_back(it->path().lexically_relative(root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<Json> transform(Json data, const Json& transformation) {
  if (!transformation.is_array()) return data;
  for (size_t i = 0; i < transformation.size(); ++i) {
    std::string expression = json_str(transformation[i], "expression");
    if (expression.empty()) continue;
    auto next = expr::eval_expr(expression, Json{{"data", data}});
    if (!next.ok()) return invalid(fmt::format("error processing data step {}: {}", i, next.error().message));
    data = std::move(*next);
  }
  return data;
}

int run_data_step(const std::string& spec_path) {
  auto spec = read_spec(spec_path);
  if (!spec.ok()) return fail_step(Json(), spec.error().message);
  const std::string prefix = "unable to process data template: ";
  auto files = list_files(json_str(*spec, "sourcePath"));
  if (!files.ok())
    return fail_step(*spec, prefix + "unable to process data source: unable to source artifact paths: " +
                                files.error().message);
  auto out = transform(Json(*files), json_at(json_at(*spec, "data"), "transformation"));
  if (!out.ok()) return fail_step(*spec, prefix + "unable to process data transformation: " + out.error().message);
  if (!write_stdout(expr::go_json(*out))) return fail_step(*spec, "writing the result failed");
  return 0;
}

}  // namespace tether::agent
