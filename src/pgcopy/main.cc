// tether-pgcopy: the loader under its own name, a drop-in for timescaledb-parallel-copy
// (a symlink of that name to this binary keeps existing scripts unchanged).
#include <string>
#include <vector>

#include "pgcopy/command.h"

int main(int argc, char** argv) {
  std::string prog = argc > 0 ? argv[0] : "tether-pgcopy";
  prog = prog.substr(prog.find_last_of('/') + 1);
  std::vector<std::string> args(argv + 1, argv + argc);
  return tether::pgcopy::run_command(args, prog);
}
