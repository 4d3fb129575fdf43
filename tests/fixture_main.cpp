// Test-only tool for the process tests (tests/*.py): fills a database with a CRM.
//   crmh_fixture sqlite PATH [CONTACTS]
//   crmh_fixture mysql SOCKET DATABASE [CONTACTS]     (creates DATABASE; root over the socket)
//       the demo CRM (generic profile)
//   crmh_fixture suitecrm sqlite PATH FIXTURE_SQL [CONTACTS]
//   crmh_fixture suitecrm mysql SOCKET DATABASE FIXTURE_SQL [CONTACTS]
//       the SuiteCRM 7 schema subset of FIXTURE_SQL (tests/fixtures/suitecrm7.sql) with its five
//       contacts, plus CONTACTS generated ones (UUID ids, custom-field rows, shared email
//       addresses, relations, calls and notes); about every third has whitespace for
//       standardize to fix, a few of those are soft-deleted (standardize leaves them alone).
// Prints the system user's id.
#include <fmt/format.h>
#include <soci/mysql/soci-mysql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/demo_data.h"

namespace {

constexpr const char* kSuiteSystemUser = "c0ffee00-0000-4000-8000-00000000c1ea";

std::unique_ptr<soci::session> Connect(const std::string& backend, const std::string& where,
                                       const std::string& database) {
  if (backend == "sqlite") return std::make_unique<soci::session>(soci::sqlite3, "db=" + where);
  std::string base = "unix_socket=" + where + " user=root charset=utf8mb4";
  {
    soci::session admin(soci::mysql, base);
    admin << "CREATE DATABASE `" + database + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci";
  }
  return std::make_unique<soci::session>(soci::mysql, base + " db=" + database);
}

// The statements of the fixture file as tests/suitecrm_test.cpp runs them: split at ";\n",
// comment lines dropped, InnoDB/utf8mb4 on MySQL.
void LoadSuiteSql(soci::session& sql, bool mysql, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(";\n", pos);
    if (end == std::string::npos) end = text.size();
    std::string stmt = text.substr(pos, end - pos), body;
    pos = end + 2;
    std::istringstream lines(stmt);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("--", 0) != 0) body += line + "\n";
    }
    if (body.find_first_not_of(" \n") == std::string::npos) continue;
    if (mysql && body.rfind("CREATE TABLE", 0) == 0) {
      body.pop_back();
      body += " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";
    }
    sql << body;
  }
}

// A SQL literal: NULL or a quoted string (quotes doubled; the values below hold no backslash).
std::string Lit(const std::optional<std::string>& v) {
  if (!v) return "NULL";
  std::string out = "'";
  for (char c : *v) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

std::string Uuid(const char* prefix, int i) {
  return fmt::format("{}-0000-4000-8000-{:012d}", prefix, i);
}

void AddSuiteContacts(soci::session& sql, int n) {
  static const char* const kFirst[] = {"Anna", "Jürgen", "Nguyễn", "Siobhán", "Björk",  "José",
                                       "Zoë",  "Ahmed",  "Mei",    "O'Brien", "Łukasz", "Chloé"};
  static const char* const kLast[] = {"Schmidt",  "Van Der Berg",   "Trần Thị",       "Müller",
                                      "Da Silva", "Ó Súilleabháin", "Kowalski",       "رضایی",
                                      "Lee",      "Dupont",         "García Márquez", "Smith"};
  static const char* const kCity[] = {"Berlin", "Hà Nội",    "San Francisco", "Dublin",
                                      "Kraków", "São Paulo", "Tehran",        "Paris"};
  static const char* const kUsers[] = {"1", "seed_sally_id"};
  std::vector<std::string> contacts, cstm, emails, rels, accounts, calls, calls_rel, notes;
  for (int i = 1; i <= n; ++i) {
    std::string id = Uuid("c0000000", i);
    std::optional<std::string> first = kFirst[i % 12], last = kLast[(i * 5) % 12],
                               city = kCity[i % 8],
                               phone = fmt::format("+49 30 {:07d}", i * 7919 % 10000000), mobile,
                               street = fmt::format("{} Hauptstraße", i % 97 + 1), description,
                               state, postcode = fmt::format("{:05d}", 10000 + i * 37 % 89999);
    // Whitespace for standardize (trim_whitespace): about every third contact.
    if (i % 3 == 0) first = "  " + *first + "  ";
    if (i % 9 == 1) last = *last + " \t";
    if (i % 6 == 3) city = *city + " ";
    if (i % 12 == 6) phone = "+49  30 " + std::to_string(i);
    if (i % 15 == 10) street = "\xC2\xA0" + *street;  // a no-break space, pasted
    // NULL and '' are different values the checksums must keep apart.
    if (i % 4 == 0) mobile = "";
    if (i % 4 == 1) mobile = fmt::format("0170 {:07d}", i);
    if (i % 5 == 0) description = "";
    if (i % 5 == 1) description = fmt::format("line one\nline\ttwo of {}", i);
    if (i % 8 == 2) state = "";
    bool deleted = i % 13 == 0;
    std::vector<std::string> v = {
        Lit(id),
        fmt::format("'2024-0{}-{:02d} 0{}:{:02d}:{:02d}'", 1 + i % 9, 1 + i % 28, i % 10, i % 60,
                    (i * 7) % 60),
        fmt::format("'2025-{:02d}-{:02d} 1{}:00:00'", 1 + i % 12, 1 + i % 28, i % 10),
        Lit(kUsers[i % 2]),
        Lit(kUsers[(i + 1) % 2]),
        Lit(description),
        deleted ? "1" : "0",
        Lit(kUsers[i % 2]),
        Lit(i % 3 == 1 ? std::optional<std::string>("Dr.") : std::nullopt),
        Lit(first),
        Lit(last),
        i % 7 == 0 ? "1" : "0",
        Lit(phone),
        Lit(mobile),
        Lit(street),
        Lit(city),
        Lit(state),
        Lit(postcode),
        Lit(i % 10 == 4 ? std::optional<std::string>() : std::optional<std::string>("Germany")),
        Lit(i % 6 == 0 ? std::optional<std::string>()
                       : std::optional<std::string>(fmt::format("19{}-{:02d}-{:02d}", 50 + i % 50,
                                                                1 + i % 12, 1 + i % 28)))};
    std::string row;
    for (const auto& x : v) row += (row.empty() ? "(" : ", ") + x;
    contacts.push_back(row + ")");
    if (i % 2 == 0) {
      cstm.push_back(
          fmt::format("({}, {}.{:08d}, {}.{:08d}, {})", Lit(id), i % 180, i * 7919 % 100000000,
                      i % 90, i * 104729 % 100000000,
                      Lit(i % 4 == 0 ? std::optional<std::string>("OK") : std::nullopt)));
    }
    if (i % 3 != 2) {
      std::string eid = Uuid("e1000000", i), rid = Uuid("r1000000", i);
      std::string addr = fmt::format("{}.{}@example.com", i, i % 2 ? "Contact" : "contact");
      std::string caps = addr;
      for (char& c : caps) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      emails.push_back(fmt::format("({}, {}, {}, {}, '2024-05-01 10:00:00', 0)", Lit(eid),
                                   Lit(addr), Lit(caps), i % 5 == 0 ? 1 : 0));
      rels.push_back(fmt::format("({}, {}, {}, 'Contacts', 1, 0)", Lit(rid), Lit(eid), Lit(id)));
    }
    if (i % 4 == 1) {
      std::string aid = Uuid("a1000000", i);
      accounts.push_back(
          fmt::format("({}, {}, 0)", Lit(aid), Lit(fmt::format("Firma {} GmbH", i))));
      accounts.push_back(
          fmt::format("({}, {}, {}, 0)", Lit(Uuid("ac100000", i)), Lit(id), Lit(aid)));
    }
    if (i % 5 == 2) {
      std::string cid = Uuid("ca100000", i);
      calls.push_back(
          fmt::format("({}, 'Follow-up {}', '2025-10-{:02d} 09:30:00', 'Contacts', {}, 0)",
                      Lit(cid), i, 1 + i % 28, Lit(id)));
      calls_rel.push_back(
          fmt::format("({}, {}, {}, 0)", Lit(Uuid("cc100000", i)), Lit(cid), Lit(id)));
    }
    if (i % 6 == 4) {
      notes.push_back(
          fmt::format("({}, 'Note {}', '2025-09-12 14:00:00', 'Contacts', {}, {}, 0, {})",
                      Lit(Uuid("n1000000", i)), i, Lit(id), Lit(id),
                      Lit(i % 12 == 4 ? std::optional<std::string>("") : std::nullopt)));
    }
  }
  auto insert = [&](const std::string& head, const std::vector<std::string>& rows) {
    for (size_t k = 0; k < rows.size(); k += 200) {
      std::string values;
      for (size_t j = k; j < std::min(rows.size(), k + 200); ++j) {
        values += (values.empty() ? "" : ", ") + rows[j];
      }
      sql << head + " VALUES " + values;
    }
  };
  insert(
      "INSERT INTO contacts (id, date_entered, date_modified, modified_user_id, created_by, "
      "description, deleted, assigned_user_id, salutation, first_name, last_name, do_not_call, "
      "phone_work, phone_mobile, primary_address_street, primary_address_city, "
      "primary_address_state, primary_address_postalcode, primary_address_country, birthdate)",
      contacts);
  insert(
      "INSERT INTO contacts_cstm (id_c, jjwg_maps_lng_c, jjwg_maps_lat_c, "
      "jjwg_maps_geocode_status_c)",
      cstm);
  insert(
      "INSERT INTO email_addresses (id, email_address, email_address_caps, opt_out, "
      "date_created, deleted)",
      emails);
  insert(
      "INSERT INTO email_addr_bean_rel (id, email_address_id, bean_id, bean_module, "
      "primary_address, deleted)",
      rels);
  std::vector<std::string> acc, acc_rel;
  for (size_t k = 0; k < accounts.size(); k += 2) {
    acc.push_back(accounts[k]);
    acc_rel.push_back(accounts[k + 1]);
  }
  insert("INSERT INTO accounts (id, name, deleted)", acc);
  insert("INSERT INTO accounts_contacts (id, contact_id, account_id, deleted)", acc_rel);
  insert("INSERT INTO calls (id, name, date_start, parent_type, parent_id, deleted)", calls);
  insert("INSERT INTO calls_contacts (id, call_id, contact_id, deleted)", calls_rel);
  insert(
      "INSERT INTO notes (id, name, date_entered, parent_type, parent_id, contact_id, deleted, "
      "description)",
      notes);
}

int Usage() {
  std::cerr
      << "usage: crmh_fixture sqlite PATH [N] | mysql SOCKET DB [N] |\n"
         "       suitecrm sqlite PATH FIXTURE_SQL [N] | suitecrm mysql SOCKET DB FIXTURE_SQL [N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Usage();
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args[0] == "suitecrm") {
      if (args.size() < 4) return Usage();
      bool mysql = args[1] == "mysql";
      if (mysql && args.size() < 5) return Usage();
      size_t at = mysql ? 4 : 3;  // FIXTURE_SQL
      int contacts = args.size() > at + 1 ? std::stoi(args[at + 1]) : 0;
      auto sql = Connect(args[1], args[2], mysql ? args[3] : "");
      soci::transaction tx(*sql);
      LoadSuiteSql(*sql, mysql, args[at]);
      AddSuiteContacts(*sql, contacts);
      tx.commit();
      std::cout << kSuiteSystemUser << "\n";
      return 0;
    }
    std::string backend = args[0];
    crmh::demo::DemoDataOptions opt;
    if (backend == "sqlite") {
      if (args.size() > 2) opt.contacts = std::stoi(args[2]);
    } else {
      if (args.size() < 3) return Usage();
      if (args.size() > 3) opt.contacts = std::stoi(args[3]);
    }
    auto sql = Connect(backend, args[1], backend == "sqlite" ? "" : args[2]);
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
