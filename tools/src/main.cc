// stafett: the command-line tool for keys, sandboxes, operations and audit (docs/CONTRACT.md).
// Thread-safety: single-threaded entry point; everything is in RunCli (cli.h).
#include "cli.h"

int main(int argc, char** argv) { return stafett::tools::RunCli(argc, argv); }
