// Test-only tool for the process tests (tests/*.py): fills a database with the demo CRM.
//   crmh_fixture sqlite PATH [CONTACTS]
//   crmh_fixture mysql SOCKET DATABASE [CONTACTS]     (creates DATABASE; root over the socket)
// Prints the system user's id.
#include <soci/mysql/soci-mysql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <iostream>
#include <string>

#include "daemon/demo_data.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: crmh_fixture sqlite PATH [N] | mysql SOCKET DB [N]\n";
    return 2;
  }
  std::string backend = argv[1];
  crmh::demo::DemoDataOptions opt;
  try {
    std::unique_ptr<soci::session> sql;
    if (backend == "sqlite") {
      if (argc > 3) opt.contacts = std::stoi(argv[3]);
      sql = std::make_unique<soci::session>(soci::sqlite3, std::string("db=") + argv[2]);
    } else {
      if (argc < 4) return 2;
      if (argc > 4) opt.contacts = std::stoi(argv[4]);
      std::string base = std::string("unix_socket=") + argv[2] + " user=root charset=utf8mb4";
      {
        soci::session admin(soci::mysql, base);
        admin << std::string("CREATE DATABASE `") + argv[3] +
                     "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci";
      }
      sql = std::make_unique<soci::session>(soci::mysql, base + " db=" + argv[3]);
    }
    auto summary = crmh::demo::CreateDemoCrm(*sql, backend, opt);
    if (!summary) {
      std::cerr << summary.error().message << "\n";
      return 1;
    }
    std::cout << summary->system_user_id << "\n";
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
