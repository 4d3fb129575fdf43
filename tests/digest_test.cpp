// digest (issue 7, first slice): weeks, masking and escaping as tables; on SQLite and MariaDB the
// headline numbers after real audit + standardize + dedup runs, checked against this test's own
// SQL over the state tables (and the CRM rows), and the archive written by a real run.
#include <doctest/doctest.h>

#include <date/tz.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "crm/notices.h"
#include "demo_fixture.h"
#include "jobs/digest.h"
#include "jobs/digest_mail.h"

namespace crmh {
namespace {

using test::DemoCrm;
namespace dg = jobs::digest;

TEST_CASE("digest weeks: ISO 8601 in the job's zone, across year ends and DST") {
  struct Case {
    const char* t;
    const char* zone;
    const char* label;
    const char* start;
    const char* end;
  };
  const Case cases[] = {
      {"2026-11-25T12:00:00Z", "UTC", "2026-W48", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z"},
      {"2026-01-01T00:00:00Z", "UTC", "2026-W01", "2025-12-29T00:00:00Z", "2026-01-05T00:00:00Z"},
      {"2027-01-01T10:00:00Z", "UTC", "2026-W53", "2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z"},
      // Sunday 23:30 UTC is already Monday in Berlin: the next week there.
      {"2026-11-29T23:30:00Z", "Europe/Berlin", "2026-W49", "2026-11-29T23:00:00Z",
       "2026-12-06T23:00:00Z"},
      {"2026-11-29T23:30:00Z", "America/New_York", "2026-W48", "2026-11-23T05:00:00Z",
       "2026-11-30T05:00:00Z"},
      // The week the clocks go forward: 167 hours long.
      {"2026-03-25T12:00:00Z", "Europe/Berlin", "2026-W13", "2026-03-22T23:00:00Z",
       "2026-03-29T22:00:00Z"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.t);
    CAPTURE(c.zone);
    const date::time_zone* tz = LookupZone(c.zone);
    REQUIRE(tz);
    dg::Week w = dg::WeekOf(*ParseRfc3339(c.t), tz);
    CHECK(w.label == c.label);
    CHECK(FormatRfc3339(w.start) == c.start);
    CHECK(FormatRfc3339(w.end) == c.end);
    dg::Week prev = dg::Shift(w, -1, tz);
    CHECK(prev.end == w.start);
    CHECK(dg::Shift(prev, 1, tz).label == w.label);
  }
}

TEST_CASE("digest masking and escaping") {
  CHECK(dg::MaskEmail("jane.doe@example.com") == "j***@example.com");
  CHECK(dg::MaskEmail("élodie@exemple.fr") == "é***@exemple.fr");
  CHECK(dg::MaskEmail("no-at-sign") == "***");
  CHECK(dg::MaskPhone("+1 (555) 123-4567") == "***67");
  CHECK(dg::MaskPhone("12") == "***");
  CHECK(dg::HtmlEscape("<b a=\"x\">'&'</b>") == "&lt;b a=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;");
  CHECK(dg::Base64("") == "");
  CHECK(dg::Base64("f") == "Zg==");
  CHECK(dg::Base64("fo") == "Zm8=");
  CHECK(dg::Base64("foo") == "Zm9v");
  CHECK(dg::Base64("foobar") == "Zm9vYmFy");
}

long long Scalar(test::TempDb& t, const std::string& sql) {
  auto s = t.Session();
  long long v = 0;
  soci::indicator ind = soci::i_ok;
  *s << sql, soci::into(v, ind);
  return ind == soci::i_null ? 0 : v;
}

// Σ of a counts key over journal rows, parsed here from the column's text.
long long SumCounts(test::TempDb& t, const std::string& where, const std::string& key) {
  auto s = t.Session();
  long long sum = 0;
  soci::rowset<std::string> rs = s->prepare << "SELECT counts FROM crmh_runs WHERE " + where;
  for (const auto& c : rs) {
    auto j = nlohmann::json::parse(c);
    if (!j.contains(key)) continue;
    if (j[key].is_object()) {
      for (const auto& [k, v] : j[key].items()) sum += v.get<long long>();
    } else {
      sum += j[key].get<long long>();
    }
  }
  return sum;
}

TEST_CASE("digest headline numbers equal the test's own SQL after real audit, standardize, dedup") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    DemoCrm f(b, 600);  // enough for clusters left to a human
    f.AddJob("audit", "audit");
    JobConfig& st = f.AddJob("standardize", "standardize");
    st.rules = {"trim_whitespace", "lowercase_email", "phone_e164", "country_canonical"};
    f.AddJob("dedup", "dedup");
    JobConfig& dj = f.AddJob("digest", "digest");
    dj.digest.week = "current";
    dj.digest.review_limit = 5;

    // Week 47: an audit. Week 48: standardize, dedup, audit again, then the digest.
    f.clock.Set(*ParseRfc3339("2026-11-18T09:00:00Z"));
    REQUIRE(f.Run("audit").status == "ok");
    const long long deleted_before = Scalar(f.t, "SELECT COUNT(*) FROM contacts WHERE deleted = 1");
    f.clock.Set(*ParseRfc3339("2026-11-24T02:30:00Z"));
    auto s = f.Run("standardize");
    REQUIRE_MESSAGE(s.status == "ok", s.message);
    f.clock.Set(*ParseRfc3339("2026-11-24T03:00:00Z"));
    auto d = f.Run("dedup");
    REQUIRE_MESSAGE(d.status == "ok", d.message);
    f.clock.Set(*ParseRfc3339("2026-11-24T07:00:00Z"));
    REQUIRE(f.Run("audit").status == "ok");
    f.Run("audit", std::nullopt, /*dry=*/true);  // dry runs are not counted

    f.clock.Set(*ParseRfc3339("2026-11-25T08:00:00Z"));
    auto rep = f.Run("digest");
    REQUIRE_MESSAGE(rep.status == "ok", rep.message);
    CHECK(rep.details["week"] == "2026-W48");

    const std::string w48 = "started_at >= '2026-11-23 00:00:00' AND started_at < '2026-11-30 00:00:00'";
    const std::string w47 = "started_at >= '2026-11-16 00:00:00' AND started_at < '2026-11-23 00:00:00'";
    const std::string real = " AND dry_run = 0 AND kind <> 'digest' AND status NOT IN ('skipped', 'running')";
    CHECK(rep.counts["runs"] == Scalar(f.t, "SELECT COUNT(*) FROM crmh_runs WHERE " + w48 + real));
    CHECK(rep.counts["runs"] == 3);
    const long long merged = SumCounts(f.t, w48 + real + " AND kind = 'dedup'", "contacts_merged");
    CHECK(rep.counts["contacts_merged"] == merged);
    CHECK(merged > 0);
    // ... and the CRM agrees: that many contacts were soft-deleted by the merges.
    CHECK(merged == Scalar(f.t, "SELECT COUNT(*) FROM contacts WHERE deleted = 1") - deleted_before);
    const long long review_open = Scalar(f.t, "SELECT COUNT(*) FROM crmh_review WHERE status = 'open'");
    CHECK(rep.counts["review_open"] == review_open);
    CHECK(review_open > 0);
    CHECK(rep.counts["duplicates_found"] ==
          SumCounts(f.t, w48 + real + " AND kind = 'dedup' AND status = 'ok'", "clusters_auto") +
              Scalar(f.t, "SELECT COUNT(*) FROM crmh_review WHERE created_at >= '2026-11-23 00:00:00' "
                          "AND created_at < '2026-11-30 00:00:00'"));
    const long long fields = SumCounts(f.t, w48 + real + " AND kind = 'standardize' AND status = 'ok'",
                                       "fields_changed");
    CHECK(rep.counts["fields_standardized"] == fields);
    CHECK(fields > 0);
    CHECK(rep.counts["flags_open"] == Scalar(f.t, "SELECT COUNT(*) FROM crmh_flags WHERE cleared_at IS NULL"));

    // Completeness and contacts: the week's latest audit snapshot, summed here.
    auto latest_audit = [&](const std::string& week) {
      auto ss = f.t.Session();
      std::string run;
      *ss << "SELECT MAX(run_id) FROM crmh_audit_snapshots WHERE week = '" + week + "'", soci::into(run);
      return run;
    };
    auto snap_contacts = [&](const std::string& week) {
      return Scalar(f.t, "SELECT SUM(total) FROM crmh_audit_snapshots WHERE run_id = '" +
                             latest_audit(week) + "' AND field = ''");
    };
    auto snap_permille = [&](const std::string& week) {
      std::string where = "FROM crmh_audit_snapshots WHERE run_id = '" + latest_audit(week) + "' AND field <> ''";
      double filled = static_cast<double>(Scalar(f.t, "SELECT SUM(filled) " + where));
      double total = static_cast<double>(Scalar(f.t, "SELECT SUM(total) " + where));
      return std::llround(1000.0 * filled / total);
    };
    CHECK(rep.counts["contacts"] == snap_contacts("2026-W48"));
    CHECK(rep.counts["contacts"] ==
          Scalar(f.t, "SELECT COUNT(*) FROM contacts WHERE COALESCE(deleted, 0) = 0"));
    // completeness_pct is rounded to 0.1: compare per mille.
    CHECK(std::llround(rep.counts["completeness_pct"].get<double>() * 10) == snap_permille("2026-W48"));

    // The model's week before: only the W47 audit.
    auto db = crm::Open(f.cfg.database, f.cfg.state);
    REQUIRE(db.ok());
    auto m = dg::BuildModel(**db, f.cfg, *f.cfg.FindJob("digest"), f.clock.Now());
    REQUIRE(m.ok());
    CHECK(m->before.runs == Scalar(f.t, "SELECT COUNT(*) FROM crmh_runs WHERE " + w47 + real));
    CHECK(m->before.runs == 1);
    CHECK(m->before.contacts_merged == 0);
    CHECK(m->before.contacts == snap_contacts("2026-W47"));
    REQUIRE(m->before.completeness_pct);
    CHECK(std::llround(*m->before.completeness_pct * 10) == snap_permille("2026-W47"));
    CHECK(m->trend.size() == 12);
    CHECK(m->trend.back().week == "2026-W48");
    CHECK(m->trend.front().week == "2026-W37");
    CHECK(m->review_total == review_open);
    CHECK(m->review.size() == std::min<size_t>(5, static_cast<size_t>(review_open)));
    CHECK(m->notices.open == 0);  // no prune job ran
    CHECK(m->scores.rows.empty());  // no score job ran
    // Health: every configured job, with this week's outcomes.
    std::map<std::string, dg::JobHealth> health;
    for (const auto& h : m->health) health[h.job] = h;
    CHECK(health["audit"].ok == 1);
    CHECK(health["dedup"].ok == 1);
    CHECK(health["standardize"].last_status == "ok");

    // PII: no full email of a contact waiting for review reaches the text or the HTML.
    std::string text = dg::RenderText(*m);
    auto charts = dg::RenderCharts(*m);
    REQUIRE(charts.ok());
    CHECK(charts->size() == 3);
    for (const auto& c : *charts) CHECK(c.png.substr(1, 3) == "PNG");
    std::string html = dg::RenderHtml(*m, *charts, dg::ImageRefs::kDataUri);
    int emails_checked = 0;
    {
      auto ss = f.t.Session();
      for (const auto& item : m->review) {
        for (size_t k = 0; k < item.members.size(); ++k) {
          std::string email;
          soci::indicator ind = soci::i_null;
          *ss << "SELECT email FROM contacts WHERE id = " + item.members[k], soci::into(email, ind);
          if (ind != soci::i_ok || email.empty()) continue;
          CHECK(text.find(email) == std::string::npos);
          CHECK(html.find(dg::HtmlEscape(email)) == std::string::npos);
          // The survivor is shown, masked.
          if (k == 0) CHECK(text.find(dg::MaskEmail(email)) != std::string::npos);
          ++emails_checked;
        }
      }
    }
    CHECK(emails_checked > 0);
    CHECK(html.find("No contacts are announced for pruning.") != std::string::npos);
    CHECK(html.find("No owner scores yet") != std::string::npos);

    // The archive the run wrote.
    std::filesystem::path archive = f.state_dir / "digests" / "2026-W48.html";
    REQUIRE(std::filesystem::exists(archive));
    CHECK(rep.details["archive"] == archive.string());
    std::ifstream in(archive);
    std::stringstream buf;
    buf << in.rdbuf();
    CHECK(buf.str().find("data:image/png;base64,") != std::string::npos);
    CHECK(buf.str().find("cid:") == std::string::npos);

    // Notices (what a prune job opens) and scores (what a score job stores) light their sections
    // up: counted with the test's own SQL, the leaderboard in rank order with the most improved.
    const SysSeconds now = f.clock.Now();
    REQUIRE(crm::OpenNotices(**db, "prune", "run-p", now, now + std::chrono::days{3},
                             {{"1", "u1", "inactive", ""}, {"2", "u1", "inactive", ""}})
                .ok());
    REQUIRE(crm::OpenNotices(**db, "prune", "run-p", now, now + std::chrono::days{20},
                             {{"3", "u2", "opted_out", ""}})
                .ok());
    crm::ScoreRow ann, bob;
    ann.owner = "u1", ann.name = "Ann", ann.score_centi = 8355, ann.records = 10, ann.rank = 1;
    ann.delta_centi = 120, ann.badges_json = R"(["top_score","clean_sheet"])";
    bob.owner = "u2", bob.name = "Bob", bob.score_centi = 6460, bob.records = 12, bob.rank = 2;
    bob.delta_centi = 455;
    REQUIRE(crm::SaveScoreWeek(**db, {"score", "2026-W48", "run-s", now}, {bob, ann}, {}).ok());
    long long open_sql = 0, soon_sql = 0;
    {
      auto ss = f.t.Session();
      *ss << "SELECT COUNT(*) FROM crmh_notices WHERE status = 'open'", soci::into(open_sql);
      std::string limit = FormatSqlTime(now + std::chrono::days{7});
      *ss << "SELECT COUNT(*) FROM crmh_notices WHERE status = 'open' AND prune_after <= :l",
          soci::use(limit), soci::into(soon_sql);
    }
    auto m2 = dg::BuildModel(**db, f.cfg, *f.cfg.FindJob("digest"), now);
    REQUIRE(m2.ok());
    CHECK(m2->notices.open == open_sql);
    CHECK(m2->notices.due_soon == soon_sql);
    CHECK(open_sql == 3);
    CHECK(soon_sql == 2);
    REQUIRE(m2->scores.rows.size() == 2);
    CHECK(m2->scores.week == "2026-W48");
    CHECK(m2->scores.rows[0].name == "Ann");
    const std::string text2 = dg::RenderText(*m2);
    CHECK(text2.find("3 contact(s) announced for pruning; 2 due within 7 days") != std::string::npos);
    CHECK(text2.find("crm-hygiene rescue CONTACT_ID") != std::string::npos);
    CHECK(text2.find("83.55") != std::string::npos);
    CHECK(text2.find("top_score, clean_sheet") != std::string::npos);
    CHECK(text2.find("most improved: Bob (+4.55)") != std::string::npos);
  }
}

TEST_CASE("digest HTML escapes what comes from the data") {
  dg::Model m;
  m.title = "Team <Sales> & \"Co\"";
  m.time_zone = "UTC";
  m.week = dg::WeekOf(*ParseRfc3339("2026-11-25T12:00:00Z"), LookupZone("UTC"));
  m.review_total = 1;
  m.review.push_back({7, 0.9, "<img src=x onerror=alert(1)>", {"<1>", "2"}, ""});
  m.flags_by_code.emplace_back("<code>", 1);
  m.health.push_back({"<job>", "audit"});
  std::string html = dg::RenderHtml(m, {}, dg::ImageRefs::kCid);
  CHECK(html.find("<img src=x") == std::string::npos);
  CHECK(html.find("&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
  CHECK(html.find("Team &lt;Sales&gt; &amp; &quot;Co&quot;") != std::string::npos);
  CHECK(html.find("<job>") == std::string::npos);
  CHECK(html.find("<td>&lt;code&gt;</td>") != std::string::npos);
  CHECK(html.find("&lt;1&gt;") != std::string::npos);
}

}  // namespace
}  // namespace crmh
