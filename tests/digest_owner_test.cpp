// Per-owner digests (issue 7): real standardize (validation flags), prune (notices) and score runs
// on the demo CRM, on SQLite and MariaDB, then a digest with per_owner: every owner's archived
// digest is checked against the test's own SQL — which flags and notices are theirs, the score and
// its rank, the rescue command and date — and nobody's records appear in another owner's digest.
#include <doctest/doctest.h>

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "demo_fixture.h"
#include "jobs/digest.h"
#include "jobs/digest_owner.h"

namespace crmh {
namespace {

using test::DemoCrm;
namespace dg = jobs::digest;
namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

// The ids listed in one section of an owner's text digest ("  contact 123 ...").
std::set<std::string> SectionIds(const std::string& text, const std::string& heading) {
  std::set<std::string> ids;
  auto at = text.find(heading);
  if (at == std::string::npos) return ids;
  std::istringstream in(text.substr(at));
  std::string line;
  std::getline(in, line);  // the heading
  static const std::regex kLine(R"(^  contact (\S+) )");
  while (std::getline(in, line) && !line.empty()) {
    std::smatch mm;
    if (std::regex_search(line, mm, kLine)) ids.insert(mm[1]);
  }
  return ids;
}

TEST_CASE("per-owner digests: each owner's flags, notices and score, against the test's own SQL") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 500);
    JobConfig& st = f.AddJob("standardize", "standardize");
    st.rules = {"trim_whitespace", "lowercase_email"};
    JobConfig& pr = f.AddJob("prune", "prune");
    pr.prune.notice_only = true;
    pr.prune.inactive_months = 12;
    pr.prune.never_contacted_months = 12;
    pr.prune.opted_out = true;
    JobConfig& sc = f.AddJob("score", "score");
    sc.mandatory = {"first_name", "last_name", "email", "phone", "country"};
    JobConfig& dj = f.AddJob("digest", "digest");
    dj.time_zone = "Europe/Berlin";
    dj.digest.week = "current";
    dj.digest.per_owner = true;
    dj.digest.owner_limit = 100000;
    dj.digest.owners = {{"mnguyen", "mai@team.example"}, {"3", "lena@team.example"}};

    f.clock.Set(*ParseRfc3339("2026-11-23T06:00:00Z"));
    REQUIRE(f.Run("standardize").status == "ok");
    f.clock.Set(*ParseRfc3339("2026-11-23T06:10:00Z"));
    auto p = f.Run("prune");
    REQUIRE_MESSAGE(p.status == "ok", p.message);
    f.clock.Set(*ParseRfc3339("2026-11-23T06:20:00Z"));
    REQUIRE(f.Run("score").status == "ok");
    f.clock.Set(*ParseRfc3339("2026-11-23T07:00:00Z"));
    auto rep = f.Run("digest");
    REQUIRE_MESSAGE(rep.status == "ok", rep.message);
    const fs::path dir = f.state_dir / "digests" / "owners" / "2026-W48";
    CHECK(rep.details["owner_archive"] == dir.string());

    // The test's own answer: per owner, the open flags of their live contacts, their open notices
    // (by the contact's owner), their score row.
    std::map<std::string, std::set<std::string>> flags_of, notices_of;
    std::map<std::string, long long> flag_rows;
    std::map<std::string, std::string> notice_day;  // contact → local date of prune_after
    std::map<std::string, std::pair<long long, int>> score_of;  // owner → (centi, rank)
    std::map<std::string, std::string> user_email;
    {
      auto s = f.t.Session();
      const std::string id_text = b == Backend::kMysql ? "CAST(c.id AS CHAR)" : "CAST(c.id AS TEXT)";
      soci::rowset<soci::row> fr = s->prepare << "SELECT CAST(c.owner_id AS CHAR), f.contact_id FROM crmh_flags f "
                                                 "JOIN contacts c ON " + id_text + " = f.contact_id "
                                                 "WHERE f.cleared_at IS NULL AND c.deleted = 0 AND c.owner_id IS NOT NULL";
      for (const auto& r : fr) {
        flags_of[crm::CellText(r, 0)].insert(crm::CellText(r, 1));
        ++flag_rows[crm::CellText(r, 0)];
      }
      soci::rowset<soci::row> nr = s->prepare << "SELECT CAST(c.owner_id AS CHAR), n.contact_id, "
                                                 "CAST(n.prune_after AS CHAR) FROM crmh_notices n JOIN contacts c ON " +
                                                     id_text + " = n.contact_id WHERE n.status = 'open'";
      for (const auto& r : nr) {
        notices_of[crm::CellText(r, 0)].insert(crm::CellText(r, 1));
        auto t = ParseSqlTime(crm::CellText(r, 2));
        REQUIRE(t);
        notice_day[crm::CellText(r, 1)] =
            date::format("%Y-%m-%d", date::make_zoned(LookupZone("Europe/Berlin"), *t));
      }
      soci::rowset<soci::row> sr = s->prepare << "SELECT owner, score_centi, rank_no FROM crmh_scores WHERE week = '2026-W48'";
      for (const auto& r : sr) score_of[crm::CellText(r, 0)] = {crm::CellInt(r, 1), static_cast<int>(crm::CellInt(r, 2))};
      soci::rowset<soci::row> ur = s->prepare << "SELECT CAST(id AS CHAR), email, user_name FROM users";
      for (const auto& r : ur) user_email[crm::CellText(r, 0)] = crm::CellText(r, 1);
    }
    std::set<std::string> owners;
    for (const auto& [o, _] : flags_of) owners.insert(o);
    for (const auto& [o, _] : notices_of) owners.insert(o);
    for (const auto& [o, _] : score_of) owners.insert(o);
    REQUIRE(owners.size() >= 8);
    long long total_flags = 0, total_notices = 0;
    for (const auto& [o, ids] : flags_of) total_flags += static_cast<long long>(ids.size());
    for (const auto& [o, ids] : notices_of) total_notices += static_cast<long long>(ids.size());
    CHECK(total_flags > 0);
    CHECK(total_notices > 0);

    // One archived digest per such owner, and no other.
    std::set<std::string> files;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".html") files.insert(e.path().stem().string());
    }
    std::set<std::string> want_files;
    for (const auto& o : owners) want_files.insert(dg::OwnerFileName(o));
    CHECK(files == want_files);
    CHECK(rep.counts["owner_digests"] == static_cast<long long>(owners.size()));

    for (const auto& o : owners) {
      CAPTURE(o);
      const std::string text = Slurp(dir / (dg::OwnerFileName(o) + ".txt"));
      const std::string html = Slurp(dir / (dg::OwnerFileName(o) + ".html"));
      // Flags: exactly this owner's flagged contacts, and their count (flag rows).
      CHECK(SectionIds(text, "VALIDATION FLAGS TO FIX") == flags_of[o]);
      CHECK(text.find(fmt::format("VALIDATION FLAGS TO FIX ({})", flag_rows[o])) != std::string::npos);
      // Notices: this owner's contacts, each with its date and rescue command.
      CHECK(SectionIds(text, "CONTACTS ANNOUNCED FOR PRUNING") == notices_of[o]);
      for (const auto& id : notices_of[o]) {
        CHECK(text.find("pruned from " + notice_day[id] + "; keep it: crm-hygiene rescue " + id + "\n") !=
              std::string::npos);
        CHECK(html.find("<code>crm-hygiene rescue " + id + "</code>") != std::string::npos);
      }
      // Score: the stored one, with its rank of all scored owners.
      if (auto s = score_of.find(o); s != score_of.end()) {
        CHECK(text.find(fmt::format("{:.2f} out of 100, rank {} of {}", s->second.first / 100.0, s->second.second,
                                    score_of.size())) != std::string::npos);
        CHECK(text.find("YOUR SCORE") != std::string::npos);
      } else {
        CHECK(text.find("Not scored yet") != std::string::npos);
      }
      // No other owner's flagged contact appears in this owner's flag section.
      for (const auto& [other, ids] : flags_of) {
        if (other == o) continue;
        for (const auto& id : ids) {
          if (flags_of[o].count(id)) continue;
          CHECK(html.find("<td>#" + id + " ") == std::string::npos);
        }
      }
    }

    // Addresses: the owners map by user name and by id, else the users table.
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto m = dg::BuildModel(**db, f.cfg, *f.cfg.FindJob("digest"), f.clock.Now());
    REQUIRE(m.ok());
    auto ds = dg::BuildOwnerDigests(**db, f.cfg, *f.cfg.FindJob("digest"), *m);
    REQUIRE(ds.ok());
    for (const auto& d : *ds) {
      CAPTURE(d.owner);
      if (d.name == "mnguyen") {
        CHECK(d.email == "mai@team.example");
      } else if (d.owner == "3") {
        CHECK(d.email == "lena@team.example");
      } else {
        CHECK(d.email == user_email[d.owner]);
      }
      CHECK(d.flags_total == flag_rows[d.owner]);
      CHECK(d.notices_total == static_cast<long long>(notices_of[d.owner].size()));
      // Advice: the biggest loss first.
      for (size_t i = 1; i < d.advice.size(); ++i) {
        CHECK(d.advice[i - 1].max - d.advice[i - 1].points >= d.advice[i].max - d.advice[i].points - 1e-9);
      }
    }
  }
}

TEST_CASE("per-owner digest config: per_owner, owners, owner_limit, mapping.users.email") {
  auto parse = [](const std::string& options, const std::string& mapping = "") {
    return ParseConfig("database: {backend: sqlite, path: /tmp/x.db}\n" + mapping +
                           "jobs:\n  d:\n    kind: digest\n    options:\n" + options,
                       "t.yaml");
  };
  auto ok = parse("      per_owner: true\n      owner_limit: 7\n      owners: {mnguyen: mai@x.example, \"7\": o@x.example}\n",
                  "mapping:\n  profile: generic\n  users: {email: mail_address}\n");
  REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
  const DigestOptions& d = ok->jobs[0].digest;
  CHECK(d.per_owner);
  CHECK(d.owner_limit == 7);
  CHECK(d.owners.at("mnguyen") == "mai@x.example");
  CHECK(d.owners.at("7") == "o@x.example");
  CHECK(ok->mapping.users_email == "mail_address");
  auto defaults = parse("      week: current\n");
  REQUIRE(defaults.ok());
  CHECK(!defaults->jobs[0].digest.per_owner);
  CHECK(defaults->jobs[0].digest.owner_limit == 50);
  CHECK(BuiltinProfile("generic")->users_email == "email");
  CHECK(BuiltinProfile("suitecrm")->users_email.empty());
  struct Bad {
    const char* options;
    const char* message;
  };
  const Bad bad[] = {
      {"      owners: {a: not-an-address}\n", "is not an email address"},
      {"      owners: [a@b.example]\n", "owners must map"},
      {"      per_owner: maybe\n", "must be true or false"},
      {"      owner_limit: -1\n", "between 0 and 10000"},
      {"      per_owner: true\n      smtp_url: smtp://127.0.0.1:25\n", "per_owner mail needs 'from'"},
      {"      per_ownr: true\n", "did you mean 'per_owner'"},
  };
  for (const auto& b : bad) {
    CAPTURE(b.options);
    auto r = parse(b.options);
    REQUIRE(!r.ok());
    CHECK(r.error().message.find(b.message) != std::string::npos);
    CHECK(r.error().message.find("t.yaml:") == 0);
  }
}

TEST_CASE("per-owner digest file names are safe and distinct") {
  CHECK(dg::OwnerFileName("42") == "42");
  CHECK(dg::OwnerFileName("a1b2-c3") == "a1b2-c3");
  CHECK(dg::OwnerFileName("../x") == "_2E_2E_2Fx");
  CHECK(dg::OwnerFileName("a_b") != dg::OwnerFileName("a.b"));
  CHECK(dg::OwnerFileName("") == "_");
  CHECK(dg::FlagAdvice("email_typo_domain").find("mistyped") != std::string::npos);
  CHECK(dg::FlagAdvice("no_such_code") == "check the value");
}

}  // namespace
}  // namespace crmh
