// The command line (DESIGN.md's table is the contract; docs/cli.md mirrors it).
#pragma once

#include <ostream>

namespace crmh {

// Everything `main` does. Returns the process exit code.
int CliMain(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace crmh
