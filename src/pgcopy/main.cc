// tether-pgcopy: the loader under its own name, a drop-in for timescaledb-parallel-copy.
#include <string>
#include <vector>

#include "pgcopy/command.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return tether::pgcopy::run_command(args, "tether-pgcopy");
}
