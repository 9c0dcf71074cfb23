// Each CLI verb lives in its own cmd_<verb>.cc and registers itself here, so verbs are
// added without touching main.cc.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace tether::cli {

using CommandSetup = std::function<void(CLI::App& root)>;

struct CommandRegistrar {
  CommandRegistrar(std::string name, CommandSetup setup);
};

// The process exit code a verb's callback chose (argo's codes: 0 ok, 1 any failure).
void set_exit_code(int code);
int exit_code();

// Runs every registered setup in name order; used by main.
void register_all(CLI::App& root);

}  // namespace tether::cli
