#include <CLI/CLI.hpp>

#include "cli/command.h"

int main(int argc, char** argv) {
  CLI::App app{"tether: run Argo Workflows without a cluster"};
  app.require_subcommand(1);
  tether::cli::register_all(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // argo's CLI exits 1 on any usage error; CLI11's own codes are not part of our contract.
    return app.exit(e) == 0 ? 0 : 1;
  }
  return tether::cli::exit_code();
}
