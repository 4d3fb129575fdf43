// crm-hygiene: keeps a CRM database clean on a calendar. All logic lives in the libraries.
#include <iostream>

#include "daemon/cli.h"

int main(int argc, char** argv) { return crmh::CliMain(argc, argv, std::cout, std::cerr); }
