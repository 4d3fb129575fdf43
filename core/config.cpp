#include "core/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace crmh {

const JobConfig* Config::FindJob(std::string_view name) const {
  for (const auto& j : jobs) {
    if (j.name == name) return &j;
  }
  return nullptr;
}

namespace {

FieldMap Col(std::string c) { return FieldMap{std::move(c), std::nullopt}; }

// The demo schema (daemon/demo_data.cpp creates it).
Mapping GenericProfile() {
  Mapping m;
  m.profile = "generic";
  m.contacts_table = "contacts";
  m.id_column = "id";
  m.soft_delete = "deleted";
  for (const char* f : {"first_name", "last_name", "email", "email2", "phone", "mobile", "company",
                        "address1", "address2", "city", "postcode", "region", "country",
                        "birthdate", "created_by", "modified_by", "created_at", "updated_at",
                        "do_not_call"}) {
    m.fields[f] = Col(f);
  }
  m.fields["owner"] = Col("owner_id");
  m.fields["opt_out"] = Col("email_opt_out");
  m.children = {
      {"activities", "activities", "parent_id", "parent_type", "Contacts", "id", "deleted", {}},
      {"deals", "deals", "contact_id", "", "", "id", "deleted", {}},
      {"tags", "contact_tags", "contact_id", "", "", "id", "deleted", {"tag"}, "dedupe"},
  };
  // A deal's activities (parent_type 'Deals') go where the deal goes.
  ChildRef deal_activities{"deal_activities", "activities", "parent_id", "parent_type", "Deals",
                           "id", "deleted", {}};
  deal_activities.parent = "deals";
  m.grandchildren = {deal_activities};
  m.activity = {{"last_contacted_at", ""}, {"occurred_at", "activities"}};
  m.users_table = "users";
  m.users_id = "id";
  m.users_name = "user_name";
  m.users_email = "email";
  return m;
}

// SuiteCRM 7. Emails and the email opt-out live on the shared email_addresses row, reached
// through email_addr_bean_rel; the company through accounts_contacts.
Mapping SuiteCrmProfile() {
  Mapping m;
  m.profile = "suitecrm";
  m.contacts_table = "contacts";
  m.id_column = "id";
  m.soft_delete = "deleted";
  m.extension_table = "contacts_cstm";
  m.extension_id = "id_c";
  m.fields["first_name"] = Col("first_name");
  m.fields["last_name"] = Col("last_name");
  m.fields["phone"] = Col("phone_work");
  m.fields["mobile"] = Col("phone_mobile");
  m.fields["address1"] = Col("primary_address_street");
  m.fields["city"] = Col("primary_address_city");
  m.fields["postcode"] = Col("primary_address_postalcode");
  m.fields["region"] = Col("primary_address_state");
  m.fields["country"] = Col("primary_address_country");
  m.fields["birthdate"] = Col("birthdate");
  m.fields["owner"] = Col("assigned_user_id");
  m.fields["created_by"] = Col("created_by");
  m.fields["modified_by"] = Col("modified_user_id");
  m.fields["created_at"] = Col("date_entered");
  m.fields["updated_at"] = Col("date_modified");
  m.fields["do_not_call"] = Col("do_not_call");
  RelatedField email{"email_addresses", "email_address", "id", "email_addr_bean_rel",
                     "bean_id", "email_address_id",
                     {{"bean_module", "Contacts"}, {"primary_address", "1"}, {"deleted", "0"}}};
  m.fields["email"] = FieldMap{"", email};
  RelatedField opt_out = email;
  opt_out.column = "opt_out";
  m.fields["opt_out"] = FieldMap{"", opt_out};
  m.fields["company"] = FieldMap{
      "", RelatedField{"accounts", "name", "id", "accounts_contacts", "contact_id", "account_id",
                       {{"deleted", "0"}}}};
  m.children = {
      {"accounts", "accounts_contacts", "contact_id", "", "", "id", "deleted", {"account_id"}, "dedupe"},
      {"calls_rel", "calls_contacts", "contact_id", "", "", "id", "deleted", {"call_id"}, "dedupe"},
      {"meetings_rel", "meetings_contacts", "contact_id", "", "", "id", "deleted", {"meeting_id"}, "dedupe"},
      {"opportunities", "opportunities_contacts", "contact_id", "", "", "id", "deleted",
       {"opportunity_id"}, "dedupe"},
      {"emails_rel", "email_addr_bean_rel", "bean_id", "bean_module", "Contacts", "id", "deleted",
       {"email_address_id"}, "dedupe", "primary_address"},
      {"calls", "calls", "parent_id", "parent_type", "Contacts", "id", "deleted", {}},
      {"meetings", "meetings", "parent_id", "parent_type", "Contacts", "id", "deleted", {}},
      {"notes", "notes", "parent_id", "parent_type", "Contacts", "id", "deleted", {}},
  };
  // The other SuiteCRM 7 tables that point at a contact, each where the CRM has it: a merge
  // re-points them, a prune follows them like every child (docs/prune.md), so no document,
  // case, bug, project, task, security group or target-list membership is left on a removed
  // contact. Custom relationships built in Studio (`*_1_c` tables) have install-specific names:
  // map them yourself.
  auto if_present = [](std::string name, std::string table, std::string column,
                     std::string type_col, std::string type_val, std::vector<std::string> unique) {
    ChildRef r{std::move(name), std::move(table), std::move(column), std::move(type_col),
               std::move(type_val), "id", "deleted", std::move(unique)};
    if (!r.unique_key.empty()) r.on_conflict = "dedupe";
    r.optional = true;
    return r;
  };
  for (auto r : {
           if_present("notes_contact", "notes", "contact_id", "", "", {}),
           if_present("documents", "documents_contacts", "contact_id", "", "", {"document_id"}),
           if_present("cases", "contacts_cases", "contact_id", "", "", {"case_id"}),
           if_present("bugs", "contacts_bugs", "contact_id", "", "", {"bug_id"}),
           if_present("users_rel", "contacts_users", "contact_id", "", "", {"user_id"}),
           if_present("projects", "projects_contacts", "contact_id", "", "", {"project_id"}),
           if_present("tasks", "tasks", "parent_id", "parent_type", "Contacts", {}),
           if_present("tasks_contact", "tasks", "contact_id", "", "", {}),
           if_present("security_groups", "securitygroups_records", "record_id", "module", "Contacts",
                    {"securitygroup_id"}),
           if_present("target_lists", "prospect_lists_prospects", "related_id", "related_type",
                    "Contacts", {"prospect_list_id"}),
           if_present("email_links", "emails_beans", "bean_id", "bean_module", "Contacts",
                    {"email_id"}),
       }) {
    m.children.push_back(std::move(r));
  }
  // What points at a call, meeting or note that leaves with the contact: the other invitees'
  // relation rows, notes attached to it, and the custom-field rows (*_cstm, only when the CRM
  // has custom fields for the module).
  auto grand = [](std::string name, std::string table, std::string column, std::string type_col,
                  std::string type_val, std::string id, std::string deleted, std::string parent,
                  bool optional) {
    ChildRef r{std::move(name), std::move(table), std::move(column), std::move(type_col),
               std::move(type_val), std::move(id), std::move(deleted), {}};
    r.parent = std::move(parent);
    r.optional = optional;
    return r;
  };
  m.grandchildren = {
      grand("call_invitees", "calls_contacts", "call_id", "", "", "id", "deleted", "calls", false),
      grand("call_users", "calls_users", "call_id", "", "", "id", "deleted", "calls", true),
      grand("call_leads", "calls_leads", "call_id", "", "", "id", "deleted", "calls", true),
      grand("call_notes", "notes", "parent_id", "parent_type", "Calls", "id", "deleted", "calls",
            false),
      grand("calls_cstm", "calls_cstm", "id_c", "", "", "id_c", "", "calls", true),
      grand("meeting_invitees", "meetings_contacts", "meeting_id", "", "", "id", "deleted",
            "meetings", false),
      grand("meeting_users", "meetings_users", "meeting_id", "", "", "id", "deleted", "meetings",
            true),
      grand("meeting_leads", "meetings_leads", "meeting_id", "", "", "id", "deleted", "meetings",
            true),
      grand("meeting_notes", "notes", "parent_id", "parent_type", "Meetings", "id", "deleted",
            "meetings", false),
      grand("meetings_cstm", "meetings_cstm", "id_c", "", "", "id_c", "", "meetings", true),
      grand("notes_cstm", "notes_cstm", "id_c", "", "", "id_c", "", "notes", true),
      grand("call_notes_cstm", "notes_cstm", "id_c", "", "", "id_c", "", "call_notes", true),
      grand("meeting_notes_cstm", "notes_cstm", "id_c", "", "", "id_c", "", "meeting_notes", true),
  };
  m.activity = {{"date_start", "calls"}, {"date_start", "meetings"}, {"date_entered", "notes"}};
  m.users_table = "users";
  m.users_id = "id";
  m.users_name = "user_name";
  return m;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

Result<Mapping> BuiltinProfile(std::string_view name) {
  if (name == "generic") return GenericProfile();
  if (name == "suitecrm") return SuiteCrmProfile();
  return Error::Config(fmt::format("unknown mapping profile '{}' (generic, suitecrm)", name));
}

std::string Suggest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  if (text.empty()) return Error::Config("empty duration (use e.g. 90s, 5m, 2h30m, 14d)");
  long long total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i - start > 9) break;  // no digits, or absurdly many (no stoll overflow)
    long long n = std::stoll(std::string(text.substr(start, i - start)));
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(ustart, i - ustart);
    long long mul = 0;
    if (unit == "s" || unit == "sec" || unit.empty()) mul = 1;
    else if (unit == "m" || unit == "min") mul = 60;
    else if (unit == "h") mul = 3600;
    else if (unit == "d") mul = 86400;
    else if (unit == "w") mul = 7 * 86400;
    if (mul == 0 || n > 1'000'000'000) break;
    total += n * mul;
    if (i == text.size()) return std::chrono::seconds{total};
  }
  return Error::Config(
      fmt::format("'{}' is not a duration (use e.g. 90s, 5m, 2h30m, 14d)", text));
}

Result<std::string> ReadPassword(const DatabaseConfig& db) {
  std::string path;
  if (!db.password_credential.empty()) {
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    if (!dir) {
      return Error::Config(fmt::format(
          "database.password_credential '{}' is set but $CREDENTIALS_DIRECTORY is not (run under "
          "systemd with LoadCredential=, or use password_file)",
          db.password_credential));
    }
    path = std::string(dir) + "/" + db.password_credential;
  } else if (!db.password_file.empty()) {
    path = db.password_file;
  } else {
    return std::string{};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::Config(fmt::format("cannot read the database password file {}", path));
  std::stringstream buf;
  buf << in.rdbuf();
  std::string pw = buf.str();
  while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
  return pw;
}

}  // namespace crmh
