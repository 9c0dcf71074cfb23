#include "cli/command.h"

#include <map>

namespace tether::cli {
namespace {
std::map<std::string, CommandSetup>& registry() {
  static std::map<std::string, CommandSetup> r;
  return r;
}
int g_exit_code = 0;
}  // namespace

CommandRegistrar::CommandRegistrar(std::string name, CommandSetup setup) { registry()[std::move(name)] = std::move(setup); }
void set_exit_code(int code) { g_exit_code = code; }
int exit_code() { return g_exit_code; }
void register_all(CLI::App& root) {
  for (auto& [name, setup] : registry()) setup(root);
}

}  // namespace tether::cli
