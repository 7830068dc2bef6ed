// The `sluice` program: `sluice <command> [args]`. Each command is a
// function taking its own argv (argv[0] is the command name) and returning
// the exit status; `--help` works at both levels. Later commands (train,
// gen, convert) add a row to kCommands.

#include <cstring>
#include <iostream>
#include <string_view>

#include "cli/inspect.h"

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

int Inspect(int argc, char** argv) { return sluice::cli::RunInspect(argc, argv, std::cout, std::cerr); }

constexpr Command kCommands[] = {
    {"inspect", "records, CRC status, compression, payload kind and features of TFRecord files",
     Inspect},
};

void PrintHelp(std::ostream& out) {
  out << "usage: sluice <command> [args]\n\ncommands:\n";
  for (const Command& c : kCommands) out << "  " << c.name << "    " << c.summary << "\n";
  out << "\n'sluice <command> --help' describes a command.\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintHelp(std::cerr);
    return 2;
  }
  std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    PrintHelp(std::cout);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (cmd == c.name) return c.run(argc - 1, argv + 1);
  }
  std::cerr << "sluice: unknown command '" << cmd << "'\n\n";
  PrintHelp(std::cerr);
  return 2;
}
