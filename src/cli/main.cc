// The `sluice` program: `sluice <command> [args]`. Each command is a
// function taking its own argv (argv[0] is the command name) and returning
// the exit status; `--help` works at both levels. Later commands (train,
// gen, convert) add a row to kCommands.

#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "cli/convert.h"
#if SLUICE_CLI_HAVE_GEN
#include "cli/gen.h"
#endif
#include "cli/inspect.h"
#if SLUICE_CLI_HAVE_TRAIN
#include "cli/train.h"
#endif

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

int Inspect(int argc, char** argv) { return sluice::cli::RunInspect(argc, argv, std::cout, std::cerr); }
int Convert(int argc, char** argv) { return sluice::cli::RunConvert(argc, argv, std::cout, std::cerr); }
#if SLUICE_CLI_HAVE_GEN
int Gen(int argc, char** argv) { return sluice::cli::RunGen(argc, argv, std::cout, std::cerr); }
#endif
#if SLUICE_CLI_HAVE_TRAIN
int Train(int argc, char** argv) { return sluice::cli::RunTrain(argc, argv, std::cout, std::cerr); }
#endif

constexpr Command kCommands[] = {
    {"inspect", "records, CRC status, compression, payload kind and features of TFRecord files",
     Inspect},
    {"convert", "IDX images and labels (MNIST, Fashion-MNIST) to sharded TFRecords", Convert},
#if SLUICE_CLI_HAVE_GEN
    {"gen", "synthetic MNIST-like TFRecord shards with a manifest (sizes, compression, damage)",
     Gen},
#endif
#if SLUICE_CLI_HAVE_TRAIN
    {"train", "train softmax / mlp / cnn on Fashion-MNIST TFRecords (CPU or GPU)", Train},
#endif
};

void PrintHelp(std::ostream& out) {
  out << "usage: sluice <command> [args]\n\ncommands:\n";
  for (const Command& c : kCommands) {
    const std::string_view name = c.name;
    out << "  " << name << std::string(name.size() < 11 ? 11 - name.size() : 1, ' ') << c.summary
        << "\n";
  }
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
