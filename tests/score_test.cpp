// score and audit trends (issue 6): on SQLite and MariaDB, reps change their own contacts between
// weekly runs under a fake clock; every expected component is computed here with the test's own
// SQL (not the product's queries): the rep who fixes records rises, crm-hygiene's own standardize
// and merge fixes credit nobody, re-running a week changes nothing, and every score is the sum of
// its shown components.
#include <doctest/doctest.h>

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "crm/scores.h"
#include "demo_fixture.h"
#include "jobs/score.h"

namespace crmh {
namespace {

using test::DemoCrm;

// --- the test's own view of the CRM ---

const std::vector<std::string> kMandatory = {"first_name", "email", "phone", "country"};
const std::map<std::string, double> kWeights = {{"email", 2.0}};

struct Rec {
  std::string owner;
  std::string created_by;
  double completeness = 0;  // weighted share of kMandatory filled
  bool complete = false;
  bool flagged = false;
  std::string last;  // latest of last_contacted_at, live Contacts activities, created_at
};

std::set<std::string> OpenFlagIds(DemoCrm& f) {
  std::set<std::string> ids;
  auto s = f.t.Session();
  soci::rowset<std::string> rs = s->prepare << "SELECT contact_id FROM crmh_flags WHERE cleared_at IS NULL";
  for (const auto& id : rs) ids.insert(id);
  return ids;
}

// Live contacts with an owner, keyed by id.
std::map<std::string, Rec> Records(DemoCrm& f) {
  const auto flags = OpenFlagIds(f);
  std::map<std::string, Rec> out;
  auto s = f.t.Session();
  auto blank = [](const char* c) {
    return fmt::format("CASE WHEN {0} IS NULL OR TRIM({0}) = '' THEN 0 ELSE 1 END", c);
  };
  soci::rowset<soci::row> rs = s->prepare << fmt::format(
      "SELECT CAST(id AS CHAR), CAST(owner_id AS CHAR), CAST(created_by AS CHAR), {}, {}, {}, {}, "
      "CAST(last_contacted_at AS CHAR), CAST(created_at AS CHAR), (SELECT CAST(MAX(occurred_at) "
      "AS CHAR) FROM activities a WHERE a.parent_type = 'Contacts' AND a.parent_id = contacts.id "
      "AND a.deleted = 0) FROM contacts WHERE deleted = 0 AND owner_id IS NOT NULL",
      blank("first_name"), blank("email"), blank("phone"), blank("country"));
  for (const auto& r : rs) {
    Rec rec;
    rec.owner = crm::CellText(r, 1);
    rec.created_by = crm::CellText(r, 2);
    double num = 0, den = 0;
    rec.complete = true;
    for (size_t i = 0; i < kMandatory.size(); ++i) {
      double w = kWeights.count(kMandatory[i]) ? kWeights.at(kMandatory[i]) : 1.0;
      den += w;
      bool filled = crm::CellInt(r, 3 + i) != 0;
      if (filled) num += w;
      rec.complete = rec.complete && filled;
    }
    rec.completeness = num / den;
    std::string id = crm::CellText(r, 0);
    rec.flagged = flags.count(id) > 0;
    for (size_t i = 7; i <= 9; ++i) rec.last = std::max(rec.last, crm::CellText(r, i).substr(0, 19));
    out[id] = rec;
  }
  return out;
}

bool Better(const Rec& now, const Rec& base) {
  long long p = std::llround(now.completeness * 1e6), b = std::llround(base.completeness * 1e6);
  return (p > b && (base.flagged || !now.flagged)) || (base.flagged && !now.flagged && p >= b);
}
bool NeededFixing(const Rec& base) { return !base.complete || base.flagged; }

struct Expected {
  long long records = 0, complete = 0, valid = 0, stale = 0, needed = 0, improved = 0, ours = 0,
            dups = 0;
  double weighted = 0;
};

std::map<std::string, Expected> Expect(const std::map<std::string, Rec>& now,
                                       const std::map<std::string, Rec>* base,
                                       const std::set<std::string>& ours, SysSeconds clock_now,
                                       int stale_days) {
  const std::string cutoff = FormatSqlTime(clock_now - std::chrono::days(stale_days));
  std::map<std::string, Expected> e;
  for (const auto& [id, r] : now) {
    Expected& x = e[r.owner];
    ++x.records;
    x.weighted += r.completeness;
    if (r.complete) ++x.complete;
    if (!r.flagged) ++x.valid;
    if (r.last.empty() || r.last < cutoff) ++x.stale;
    if (base) {
      auto b = base->find(id);
      if (b != base->end() && NeededFixing(b->second)) {
        ++x.needed;
        // A cleared flag is the owner's work even on a record crm-hygiene enriched.
        const bool cleared = b->second.flagged && !r.flagged;
        if (Better(r, b->second)) ++(ours.count(id) && !cleared ? x.ours : x.improved);
      }
    }
  }
  return e;
}

nlohmann::json UserOf(const jobs::RunReport& rep, const std::string& owner) {
  for (const auto& u : rep.details["users"]) {
    if (u["owner"] == owner) return u;
  }
  FAIL("no score for owner " << owner);
  return {};
}

void CheckSums(const jobs::RunReport& rep) {
  int last_rank = 0;
  double last_score = 101;
  for (const auto& u : rep.details["users"]) {
    double sum = 0;
    for (const auto& [name, c] : u["components"].items()) {
      sum += c["points"].get<double>();
      CHECK(c["points"].get<double>() <= c["max"].get<double>() + 1e-9);
      if (c.contains("share")) {
        CHECK(std::abs(c["points"].get<double>() - c["max"].get<double>() * c["share"].get<double>()) <=
              0.005 + 1e-9);
      }
    }
    CHECK(std::abs(sum - u["score"].get<double>()) < 1e-6);
    CHECK(u["score"].get<double>() >= 0);
    CHECK(u["score"].get<double>() <= 100.0 + 1e-9);
    // Ranked: scores never rise down the list; ties share a rank.
    CHECK(u["score"].get<double>() <= last_score);
    CHECK(u["rank"].get<int>() >= last_rank);
    last_rank = u["rank"].get<int>();
    last_score = u["score"].get<double>();
  }
  double maxsum = 0;
  for (const auto& [name, v] : rep.details["component_max"].items()) maxsum += v.get<double>();
  CHECK(std::abs(maxsum - 100.0) < 1e-6);
}

void CheckAgainst(const jobs::RunReport& rep, const std::map<std::string, Expected>& want,
                  bool improvement) {
  REQUIRE(rep.details["users"].size() == want.size());
  for (const auto& [owner, x] : want) {
    CAPTURE(owner);
    auto u = UserOf(rep, owner);
    auto c = u["components"];
    CHECK(u["records"].get<long long>() == x.records);
    CHECK(c["completeness"]["complete_records"].get<long long>() == x.complete);
    CHECK(std::abs(c["completeness"]["share"].get<double>() - x.weighted / x.records) < 1e-9);
    CHECK(c["validity"]["records_without_open_flags"].get<long long>() == x.valid);
    CHECK(std::abs(c["validity"]["share"].get<double>() - double(x.valid) / x.records) < 1e-9);
    CHECK(c["staleness"]["stale"].get<long long>() == x.stale);
    CHECK(c["duplicates"]["duplicates_created"].get<long long>() == x.dups);
    CHECK(std::abs(c["duplicates"]["share"].get<double>() -
                   std::max(0.0, 1.0 - 10.0 * x.dups / x.records)) < 1e-9);
    if (improvement) {
      CHECK(c["improvement"]["needed_fixing"].get<long long>() == x.needed);
      CHECK(c["improvement"]["improved"].get<long long>() == x.improved);
      CHECK(c["improvement"]["fixed_by_crm_hygiene"].get<long long>() == x.ours);
    } else {
      CHECK(c["improvement"]["available"] == false);
      CHECK(c["improvement"]["points"].get<double>() == 0.0);
    }
  }
}

std::set<std::string> RoseAcross(const std::map<std::string, Rec>& before,
                                 const std::map<std::string, Rec>& after) {
  std::set<std::string> ids;
  for (const auto& [id, r] : after) {
    auto b = before.find(id);
    if (b != before.end() && std::llround(r.completeness * 1e6) > std::llround(b->second.completeness * 1e6)) {
      ids.insert(id);
    }
  }
  return ids;
}

// (owner, score_centi, rank, streak, components, badges) of every stored row of a week.
std::vector<std::string> StoredWeek(DemoCrm& f, const std::string& week) {
  std::vector<std::string> out;
  auto s = f.t.Session();
  soci::rowset<soci::row> rs =
      (s->prepare << "SELECT owner, score_centi, rank_no, streak, components, badges FROM "
                     "crmh_scores WHERE job = 'weekly-score' AND week = :w ORDER BY owner",
       soci::use(week));
  for (const auto& r : rs) {
    out.push_back(crm::CellText(r, 0) + "|" + std::to_string(crm::CellInt(r, 1)) + "|" +
                  std::to_string(crm::CellInt(r, 2)) + "|" + std::to_string(crm::CellInt(r, 3)) +
                  "|" + crm::CellText(r, 4) + "|" + crm::CellText(r, 5));
  }
  return out;
}

JobConfig& AddScore(DemoCrm& f) {
  JobConfig& j = f.AddJob("weekly-score", "score");
  j.mandatory = kMandatory;
  j.weights = kWeights;
  j.time_zone = "Europe/Berlin";
  return j;
}

TEST_CASE("score: the rep who fixes records rises, crm-hygiene's own fixes credit nobody, a week re-run changes nothing") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b);
    JobConfig& validate = f.AddJob("std-validate", "standardize");
    validate.rules = {"trim_whitespace"};
    JobConfig& all = f.AddJob("std-all", "standardize");
    all.rules = {"trim_whitespace", "lowercase_email", "phone_e164", "country_canonical",
                 "name_case", "company_suffix"};
    f.AddJob("dedup", "dedup");
    AddScore(f);
    const int stale_days = f.cfg.FindJob("weekly-score")->score.stale_days;

    // --- week 48 (Monday 2026-11-23 07:00 Berlin) ---
    auto v1 = f.Run("std-validate");
    REQUIRE_MESSAGE(v1.status == "ok", v1.message);
    auto s1 = f.Run("weekly-score");
    REQUIRE_MESSAGE(s1.status == "ok", s1.message);
    CHECK(s1.details["week"] == "2026-W48");
    CHECK(s1.details["baseline_week"].is_null());
    const auto base = Records(f);
    CheckSums(s1);
    CheckAgainst(s1, Expect(base, nullptr, {}, f.clock.Now(), stale_days), false);
    CHECK(StoredWeek(f, "2026-W48").size() == s1.details["users"].size());

    // The rep with the most records needing a fix (A) fixes them; everybody else does nothing.
    std::map<std::string, long long> needing;
    for (const auto& [id, r] : base) needing[r.owner] += NeededFixing(r) ? 1 : 0;
    std::string rep_a;
    for (const auto& [o, n] : needing) {
      if (rep_a.empty() || n > needing[rep_a]) rep_a = o;
    }
    REQUIRE(needing[rep_a] > 0);
    std::vector<std::string> fixed_ids;
    for (const auto& [id, r] : base) {
      if (r.owner == rep_a && NeededFixing(r)) fixed_ids.push_back(id);
    }

    // --- week 49 ---
    f.clock.Advance(std::chrono::hours(24 * 7));
    {
      auto s = f.t.Session();
      for (const auto& id : fixed_ids) {
        // What a rep does in the CRM's form: fill the empty fields, correct the flagged ones.
        *s << "UPDATE contacts SET first_name = CASE WHEN first_name IS NULL OR TRIM(first_name) = "
              "'' THEN 'Robin' ELSE first_name END, email = 'rep.fix." + id + "@posteo.de', "
              "email2 = NULL, phone = '+1 650 253 " + fmt::format("{:04}", std::stoi(id)) + "', "
              "mobile = NULL, country = 'United States', modified_by = " + rep_a +
              ", updated_at = '2026-11-29 10:00:00' WHERE id = " + id;
      }
    }
    // crm-hygiene's own work this week: formats rewritten (flags re-validated), then merges.
    const auto before_std = Records(f);
    auto v2 = f.Run("std-all");
    REQUIRE_MESSAGE(v2.status == "ok", v2.message);
    const auto after_std = Records(f);
    CHECK(RoseAcross(before_std, after_std).empty());  // standardize never fills a field
    auto d = f.Run("dedup");
    REQUIRE_MESSAGE(d.status == "ok", d.message);
    const auto after_dedup = Records(f);
    const std::set<std::string> ours = RoseAcross(after_std, after_dedup);

    // Which owners' records did standardize rewrite? (its ledger rows, read here)
    std::map<std::string, long long> rewritten;
    std::set<std::string> merged_away;
    {
      auto s = f.t.Session();
      soci::rowset<soci::row> rs =
          (s->prepare << "SELECT l.row_id, r.kind, l.op FROM crmh_ledger l JOIN crmh_runs r ON "
                         "r.run_id = l.run_id WHERE l.table_name = 'contacts' AND r.run_id IN "
                         "(:a, :b)",
           soci::use(v2.run_id), soci::use(d.run_id));
      for (const auto& r : rs) {
        const std::string id = crm::CellText(r, 0);
        if (crm::CellText(r, 1) == "standardize" && after_std.count(id)) {
          ++rewritten[after_std.at(id).owner];
        }
        if (crm::CellText(r, 1) == "dedup" && crm::CellText(r, 2) == "soft_delete") merged_away.insert(id);
      }
    }
    // Duplicates charged to their creators: the merged-away rows' created_by, read from the CRM.
    std::map<std::string, long long> dups;
    {
      auto s = f.t.Session();
      for (const auto& id : merged_away) {
        std::string creator;
        soci::indicator ind = soci::i_null;
        *s << "SELECT CAST(created_by AS CHAR) FROM contacts WHERE id = " + id, soci::into(creator, ind);
        if (ind == soci::i_ok) ++dups[creator];
      }
    }

    auto s2 = f.Run("weekly-score");
    REQUIRE_MESSAGE(s2.status == "ok", s2.message);
    CHECK(s2.details["week"] == "2026-W49");
    CHECK(s2.details["baseline_week"] == "2026-W48");
    CheckSums(s2);
    auto want = Expect(after_dedup, &base, ours, f.clock.Now(), stale_days);
    for (auto& [owner, x] : want) x.dups = dups.count(owner) ? dups[owner] : 0;
    CheckAgainst(s2, want, true);

    // A rose, has the most-improved badge, and was credited; nobody else was credited.
    auto a1 = UserOf(s1, rep_a), a2 = UserOf(s2, rep_a);
    CHECK(a2["score"].get<double>() > a1["score"].get<double>());
    CHECK(a2["components"]["improvement"]["improved"].get<long long>() > 0);
    CHECK(std::find(s2.details["most_improved"].begin(), s2.details["most_improved"].end(),
                    rep_a) != s2.details["most_improved"].end());
    long long rewritten_not_a = 0;
    for (const auto& u : s2.details["users"]) {
      if (u["owner"] == rep_a) continue;
      CHECK(u["components"]["improvement"]["improved"].get<long long>() == 0);
      rewritten_not_a += rewritten[u["owner"].get<std::string>()];
      if (!u["delta"].is_null()) CHECK(u["delta"].get<double>() < a2["delta"].get<double>());
    }
    CHECK(rewritten_not_a > 0);  // standardize did change other reps' records: no credit for it
    CHECK(!merged_away.empty());  // the demo's planted duplicates were merged and charged

    // Re-running the week replaces it: the same rows, W48 untouched, nothing doubled.
    const auto w48 = StoredWeek(f, "2026-W48");
    const auto w49 = StoredWeek(f, "2026-W49");
    f.clock.Advance(std::chrono::hours(2));
    auto s3 = f.Run("weekly-score");
    REQUIRE_MESSAGE(s3.status == "ok", s3.message);
    CHECK(StoredWeek(f, "2026-W49") == w49);
    CHECK(StoredWeek(f, "2026-W48") == w48);
    CHECK(s3.details["users"] == s2.details["users"]);
    {
      auto s = f.t.Session();
      long long weeks = 0, records = 0;
      *s << "SELECT COUNT(*) FROM crmh_score_weeks WHERE job = 'weekly-score'", soci::into(weeks);
      CHECK(weeks == 2);
      *s << "SELECT COUNT(*) FROM crmh_score_records WHERE job = 'weekly-score' AND week = "
            "'2026-W49'",
          soci::into(records);
      CHECK(records == static_cast<long long>(after_dedup.size()));
    }
    // History: each user shows W48 then W49.
    auto h = UserOf(s3, rep_a)["history"];
    REQUIRE(h.size() == 2);
    CHECK(h[0]["week"] == "2026-W48");
    CHECK(h[1]["week"] == "2026-W49");

    // A dry run computes the same and stores nothing.
    auto dry = f.Run("weekly-score", std::nullopt, true);
    REQUIRE_MESSAGE(dry.status == "ok", dry.message);
    CHECK(dry.details["users"] == s2.details["users"]);
  }
}

TEST_CASE("score: a merge that fills a flagged record does not take the rep's flag fix, a merged-away record credits nobody") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 30);
    {
      auto s = f.t.Session();
      *s << "INSERT INTO users (id, user_name, full_name) VALUES (9001, 'zed', 'Zed Rep')";
      const std::string cols =
          "INSERT INTO contacts (id, first_name, last_name, email, phone, country, company, address1, "
          "city, postcode, owner_id, created_by, created_at, updated_at, last_contacted_at) VALUES ";
      // P: flagged (unknown country) and without a phone; Q: its duplicate, with the phone.
      *s << cols + "(90001, 'Zebulon', 'Quixotewright', 'zebulon.quixotewright@gmail.com', NULL, "
                   "'Atlantis', 'Zed Works', '1 Quay St', 'Berlin', '10117', 9001, 9001, "
                   "'2026-01-01 00:00:00', '2026-01-01 00:00:00', '2026-11-01 00:00:00')";
      *s << cols + "(90002, 'Zebulon', 'Quixotewright', 'zebulon.quixotewright@gmail.com', "
                   "'+49 30 1234567', NULL, NULL, NULL, NULL, NULL, 9001, 9001, "
                   "'2026-02-01 00:00:00', '2026-02-01 00:00:00', NULL)";
    }
    f.AddJob("std", "standardize");
    f.AddJob("dd", "dedup");
    AddScore(f);
    REQUIRE(f.Run("std").status == "ok");
    auto w48 = f.Run("weekly-score");
    REQUIRE_MESSAGE(w48.status == "ok", w48.message);

    f.clock.Advance(std::chrono::hours(24 * 7));
    auto dd = f.Run("dd");
    REQUIRE_MESSAGE(dd.status == "ok", dd.message);
    {
      // The rep fixes P's country; the next standardize clears its flag.
      auto s = f.t.Session();
      *s << "UPDATE contacts SET country = 'Germany' WHERE id = 90001";
    }
    REQUIRE(f.Run("std").status == "ok");
    auto w49 = f.Run("weekly-score");
    REQUIRE_MESSAGE(w49.status == "ok", w49.message);
    CheckSums(w49);

    // The scenario, in our own SQL: the merge kept P, deleted Q and filled P's phone; P's flag
    // was open at the baseline and is cleared now; Q needed fixing at the baseline.
    auto s = f.t.Session();
    int q_deleted = 0;
    std::string p_phone;
    *s << "SELECT deleted FROM contacts WHERE id = 90002", soci::into(q_deleted);
    *s << "SELECT phone FROM contacts WHERE id = 90001", soci::into(p_phone);
    REQUIRE(q_deleted == 1);
    REQUIRE(p_phone == "+49 30 1234567");
    long long filled_by_merge = 0, open_flags = 0, base_p_flagged = 0, merged_needing = 0;
    *s << "SELECT COUNT(*) FROM crmh_ledger l JOIN crmh_runs r ON r.run_id = l.run_id WHERE "
          "r.kind = 'dedup' AND l.row_id = '90001' AND l.op = 'update'",
        soci::into(filled_by_merge);
    *s << "SELECT COUNT(*) FROM crmh_flags WHERE contact_id = '90001' AND cleared_at IS NULL",
        soci::into(open_flags);
    *s << "SELECT flagged FROM crmh_score_records WHERE week = '2026-W48' AND contact_id = '90001'",
        soci::into(base_p_flagged);
    *s << "SELECT COUNT(*) FROM crmh_score_records sr JOIN contacts c ON CAST(c.id AS CHAR) = "
          "sr.contact_id WHERE sr.week = '2026-W48' AND sr.owner = '9001' AND c.deleted = 1 AND "
          "(sr.completeness_ppm < 1000000 OR sr.flagged = 1)",
        soci::into(merged_needing);
    REQUIRE(filled_by_merge == 1);
    REQUIRE(open_flags == 0);
    REQUIRE(base_p_flagged == 1);
    REQUIRE(merged_needing == 1);

    auto zed = UserOf(w49, "9001");
    auto imp = zed["components"]["improvement"];
    CHECK(zed["records"].get<long long>() == 1);
    CHECK(imp["needed_fixing"].get<long long>() == 1);
    CHECK(imp["improved"].get<long long>() == 1);               // the rep's flag fix is the rep's
    CHECK(imp["fixed_by_crm_hygiene"].get<long long>() == 0);
    CHECK(imp["merged_away"].get<long long>() == merged_needing);  // shown, credited to nobody
    CHECK(imp["share"].get<double>() == 1.0);
    CHECK(zed["components"]["duplicates"]["duplicates_created"].get<long long>() == 1);
    CHECK(w49.counts["merged_away_needing_fixing"].get<long long>() >= merged_needing);
  }
}

TEST_CASE("score: streaks and badges follow the stored weeks") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 60);
    JobConfig& j = AddScore(f);
    j.score.streak_min_score = 0;  // every week counts
    j.score.components = {{"completeness", 1}, {"validity", 0}, {"duplicates", 0},
                          {"improvement", 0}, {"staleness", 0}};
    for (int w = 0; w < 3; ++w) {
      auto r = f.Run("weekly-score");
      REQUIRE_MESSAGE(r.status == "ok", r.message);
      CheckSums(r);
      for (const auto& u : r.details["users"]) {
        CHECK(u["streak"].get<int>() == w + 1);
        // Only completeness weighs: the score is the completeness share in points.
        CHECK(std::abs(u["score"].get<double>() -
                       std::round(10000 * u["components"]["completeness"]["share"].get<double>()) / 100) < 1e-9);
        const bool on_a_roll = std::find(u["badges"].begin(), u["badges"].end(), "on_a_roll") != u["badges"].end();
        CHECK(on_a_roll == (w >= 2));
        const bool complete = std::find(u["badges"].begin(), u["badges"].end(), "complete_book") != u["badges"].end();
        CHECK(complete == (u["components"]["completeness"]["complete_records"] == u["records"]));
      }
      CHECK(r.details["users"][0]["badges"][0] == "top_score");
      f.clock.Advance(std::chrono::hours(24 * 7));
    }
  }
}

TEST_CASE("audit: one completeness snapshot per ISO week, trends over the weeks") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 80);
    JobConfig& j = f.AddJob("weekly-audit", "audit");
    j.time_zone = "Europe/Berlin";
    auto filled_email = [&](const std::string& owner) {
      auto s = f.t.Session();
      long long n = 0;
      *s << "SELECT COUNT(*) FROM contacts WHERE deleted = 0 AND owner_id = " + owner +
                " AND email IS NOT NULL AND TRIM(email) <> ''",
          soci::into(n);
      return n;
    };
    auto stored = [&](const std::string& week, const std::string& owner, const std::string& field) {
      auto s = f.t.Session();
      long long n = -1, rows = 0;
      *s << "SELECT COUNT(*) FROM crmh_audit_weeks WHERE job = 'weekly-audit' AND week = '" + week +
                "' AND owner = '" + owner + "' AND field = '" + field + "'",
          soci::into(rows);
      CHECK(rows == 1);
      *s << "SELECT filled FROM crmh_audit_weeks WHERE job = 'weekly-audit' AND week = '" + week +
                "' AND owner = '" + owner + "' AND field = '" + field + "'",
          soci::into(n);
      return n;
    };
    auto r1 = f.Run("weekly-audit");
    REQUIRE_MESSAGE(r1.status == "ok", r1.message);
    CHECK(stored("2026-W48", "1", "email") == filled_email("1"));
    // The rep of owner 1 clears an email; a second run in the same week replaces the week.
    {
      auto s = f.t.Session();
      *s << "UPDATE contacts SET email = NULL WHERE id = (SELECT MIN(id) FROM (SELECT id FROM "
            "contacts WHERE owner_id = 1 AND deleted = 0 AND email IS NOT NULL AND TRIM(email) "
            "<> '') x)";
    }
    f.clock.Advance(std::chrono::hours(30));
    auto r2 = f.Run("weekly-audit");
    REQUIRE_MESSAGE(r2.status == "ok", r2.message);
    CHECK(stored("2026-W48", "1", "email") == filled_email("1"));
    CHECK(r2.details["trend"].size() == 1);
    // Next week: a second snapshot; the trend shows both, oldest first.
    f.clock.Advance(std::chrono::hours(24 * 7));
    auto r3 = f.Run("weekly-audit");
    REQUIRE_MESSAGE(r3.status == "ok", r3.message);
    auto weeks = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(weeks.ok());
    auto cells = crm::AuditWeeks(**weeks, "weekly-audit", 8);
    REQUIRE(cells.ok());
    std::set<std::string> seen;
    for (const auto& c : *cells) seen.insert(c.week);
    CHECK(seen == std::set<std::string>{"2026-W48", "2026-W49"});
    REQUIRE(r3.details["trend"].size() == 2);
    CHECK(r3.details["trend"][0]["week"] == "2026-W48");
    CHECK(r3.details["trend"][1]["week"] == "2026-W49");
    CHECK(r3.details["trend"][1]["completeness_pct"] == r3.counts["completeness_pct"]);
    // The per-run history (audit_snapshots) keeps all three runs.
    auto s = f.t.Session();
    long long runs = 0;
    *s << "SELECT COUNT(DISTINCT run_id) FROM crmh_audit_snapshots", soci::into(runs);
    CHECK(runs == 3);
  }
}

TEST_CASE("score helpers: points split to exactly 100, ISO weeks start on the local Monday") {
  for (const auto& w : std::vector<std::vector<double>>{{40, 30, 10, 10, 10}, {1, 1, 1}, {40, 30, 10, 0, 10},
                                                        {0.3, 0.3, 0.3}, {7, 0, 0, 0, 0}}) {
    auto p = jobs::SplitPoints(w);
    long long sum = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      sum += p[i];
      if (w[i] == 0) CHECK(p[i] == 0);
    }
    CHECK(sum == 10000);
  }
  const date::time_zone* berlin = LookupZone("Europe/Berlin");
  // Sunday 23:30 UTC is already Monday in Berlin.
  CHECK(FormatRfc3339(jobs::IsoWeekStart(*ParseRfc3339("2026-11-29T23:30:00Z"), berlin)) ==
        "2026-11-29T23:00:00Z");
  CHECK(FormatRfc3339(jobs::IsoWeekStart(*ParseRfc3339("2026-11-29T22:30:00Z"), berlin)) ==
        "2026-11-22T23:00:00Z");
  CHECK(FormatRfc3339(jobs::IsoWeekStart(*ParseRfc3339("2026-03-31T12:00:00Z"), berlin)) ==
        "2026-03-29T22:00:00Z");
}

TEST_CASE("score config: components, staleness and typos") {
  auto parse = [](const std::string& options) {
    return ParseConfig("database: {backend: sqlite, path: /tmp/x.db}\njobs:\n  s:\n    kind: score\n"
                       "    options:\n" + options,
                       "t.yaml");
  };
  auto ok = parse("      mandatory: [email, phone]\n      weights: {email: 2}\n"
                  "      components: {completeness: 50, staleness: 0}\n      stale_days: 90\n"
                  "      duplicate_penalty: 5\n      streak_min_score: 70\n      trend_weeks: 4\n");
  REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
  const JobConfig& j = ok->jobs[0];
  CHECK(j.kind == "score");
  CHECK(j.mandatory == std::vector<std::string>{"email", "phone"});
  CHECK(j.weights.at("email") == 2);
  CHECK(j.score.components.at("completeness") == 50);
  CHECK(j.score.components.at("staleness") == 0);
  CHECK(j.score.components.at("validity") == 30);  // default kept
  CHECK(j.score.stale_days == 90);
  CHECK(j.score.duplicate_penalty == 5);
  CHECK(j.score.streak_min_score == 70);
  CHECK(j.trend_weeks == 4);

  auto typo = parse("      components: {completness: 50}\n");
  REQUIRE_FALSE(typo.ok());
  CHECK(typo.error().message.find("t.yaml:6:") != std::string::npos);
  CHECK(typo.error().message.find("did you mean 'completeness'") != std::string::npos);
  auto bad = parse("      stale_days: 0\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("stale_days") != std::string::npos);
  auto none = parse("      components: {completeness: 0, validity: 0, duplicates: 0, improvement: 0, staleness: 0}\n");
  REQUIRE_FALSE(none.ok());
  auto defaults = ParseConfig("database: {backend: sqlite, path: /tmp/x.db}\njobs:\n  s: {kind: score}\n", "t.yaml");
  REQUIRE(defaults.ok());
  CHECK(defaults->jobs[0].mandatory.size() == 5);
}

}  // namespace
}  // namespace crmh
