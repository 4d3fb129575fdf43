// crm-hygiene: keeps a CRM database clean on a calendar. All logic lives in the libraries.
#include <iostream>

#include "core/memory.h"
#include "daemon/cli.h"

int main(int argc, char** argv) {
  crmh::RestartWithHugePageHeap(argv);  // may exec this program again, once
  return crmh::CliMain(argc, argv, std::cout, std::cerr);
}
