// ExecuteRun, the one path every run takes: lock → claim → plan → apply → record → journal.
#include <doctest/doctest.h>

#include <sstream>

#include "crm/lock.h"
#include "demo_fixture.h"

namespace crmh {
namespace {

struct Fixture : test::DemoCrm {
  explicit Fixture(Backend b) : DemoCrm(b) { AddJob("audit", "audit"); }
  jobs::RunReport Run(std::optional<SysSeconds> slot, bool dry = false) {
    return DemoCrm::Run("audit", slot, dry);
  }
};

TEST_CASE("a slot runs once, a second claim is skipped already_ran, a held lock skips lock_held") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    Fixture f(b);
    SysSeconds slot = *ParseRfc3339("2026-11-23T06:00:00Z");
    auto first = f.Run(slot);
    CHECK_MESSAGE(first.status == "ok", first.message);
    CHECK(first.exit == Exit::kOk);
    CHECK(first.counts["contacts"].get<long long>() > 0);

    auto second = f.Run(slot);
    CHECK(second.status == "skipped");
    CHECK(second.reason == "already_ran");
    CHECK(second.exit == Exit::kOk);

    {
      auto held = crm::AcquireJobLock(f.cfg, "audit");
      REQUIRE(held.ok());
      auto blocked = f.Run(slot + std::chrono::hours(1));
      CHECK(blocked.status == "skipped");
      CHECK(blocked.reason == "lock_held");
      CHECK(blocked.exit == Exit::kRefused);
    }
    // The blocked run claimed nothing: its slot can still run.
    auto later = f.Run(slot + std::chrono::hours(1));
    CHECK(later.status == "ok");

    auto db = crm::Open(f.cfg.database, f.cfg.state);
    auto runs = crm::ListRuns(**db, "audit", 100);
    REQUIRE(runs.ok());
    int ok = 0;
    for (const auto& r : *runs) ok += r.status == "ok";
    CHECK(ok == 2);
    CHECK(runs->size() == 4);
  }
}

TEST_CASE("a dry run is journaled, claims no slot and records nothing") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    Fixture f(b);
    SysSeconds slot = *ParseRfc3339("2026-11-23T06:00:00Z");
    auto dry = f.Run(slot, /*dry=*/true);
    CHECK(dry.status == "ok");
    CHECK(dry.dry_run);
    auto s = f.t.Session();
    long long snapshots = -1;
    *s << "SELECT COUNT(*) FROM crmh_audit_snapshots", soci::into(snapshots);
    CHECK(snapshots == 0);
    auto real = f.Run(slot);
    CHECK(real.status == "ok");  // the dry run did not take the slot
    *s << "SELECT COUNT(*) FROM crmh_audit_snapshots", soci::into(snapshots);
    CHECK(snapshots > 0);
  }
}

TEST_CASE("a job whose mandatory field is not mapped fails as a config error, journaled") {
  Fixture f(Backend::kSqlite);
  f.cfg.jobs[0].mandatory = {"birthdate"};
  f.cfg.mapping.fields.erase("birthdate");
  auto rep = f.Run(std::nullopt);
  CHECK(rep.status == "failed");
  CHECK(rep.exit == Exit::kUsage);
  CHECK(rep.message.find("birthdate") != std::string::npos);
}

// A dedup report of n clusters (ClusterList), and the same clusters built as json values the
// way the report held them before (the oracle): values that need escaping, non-ASCII, empty and
// non-empty lists, scores of each kind, with and without "why".
struct LargeReport {
  jobs::RunReport rep;
  nlohmann::json clusters = nlohmann::json::array();
  explicit LargeReport(size_t n) {
    rep.run_id = "r-1";
    rep.job = "dedup";
    rep.kind = "dedup";
    rep.status = "ok";
    rep.dry_run = true;
    rep.counts["clusters"] = static_cast<long long>(n);
    rep.counts["reduction_ratio"] = 0.99987654321;
    rep.details["plan"] = {{"sample", nlohmann::json::array()},
                           {"tables", nlohmann::json::object()}};
    rep.message = "line one\nline \"two\"";
    rep.clusters.emplace();
    const double scores[] = {0.0, -3.5, 12.0, 1e21, 123456.789, 1e-7};
    for (size_t i = 0; i < n; ++i) {
      const std::vector<std::string> members = {
          std::to_string(i), "Nguyễn \"Bob\"\n\t\\ 美国 \x01 \x7f",
          "0f8fad5b-d9cb-469f-a165-70867728950e", "O\"Neil", "back\\slash"};
      const std::string decision = i % 3 ? "auto" : "review";
      const double score = i < std::size(scores) ? scores[i] : 1.0 / static_cast<double>(i + 3);
      const std::vector<std::string> matched =
          i % 7 ? std::vector<std::string>{"email", "phone"} : std::vector<std::string>{};
      const std::string why = i % 5 == 0 ? "a member's \"given\" names\r\ndiffer" : "";
      rep.clusters->Add(members, decision, score, matched, why);
      nlohmann::json c(nlohmann::json::value_t::object);
      c["survivor"] = members.front();
      c["members"] = members;
      c["decision"] = decision;
      c["score"] = score;
      c["matched"] = matched;
      if (!why.empty()) c["why"] = why;
      clusters.push_back(std::move(c));
    }
  }
};

std::string Written(jobs::RunReport&& rep) {
  std::ostringstream out;
  std::move(rep).WriteJson(out);
  return out.str();
}

TEST_CASE("a run report's text is ToJson().dump(2) byte for byte, dedup reports' clusters too") {
  for (size_t n : {0UL, 1UL, 2UL, 7UL, 5001UL}) {
    CAPTURE(n);
    LargeReport large(n);
    REQUIRE(large.rep.clusters->size() == n);
    CHECK(large.rep.clusters->Json() == large.clusters);  // read back: the same values
    nlohmann::json want = large.rep.ToJson();  // a copy: rep is unchanged
    want["clusters"] = large.clusters;
    const std::string expect = want.dump(2);
    const std::string got = Written(std::move(large.rep));
    CHECK(got.size() == expect.size());
    CHECK(got == expect);
  }
  // A report without clusters (another kind) has no "clusters" key.
  jobs::RunReport plain;
  plain.status = "ok";
  plain.counts["rows"] = 3;
  const nlohmann::json j = plain.ToJson();
  CHECK_FALSE(j.contains("clusters"));
  CHECK(Written(std::move(plain)) == j.dump(2));
}

TEST_CASE("a dedup report's ids that are not valid UTF-8 are written with U+FFFD, not thrown on") {
  jobs::ClusterList list;
  list.Add({"a\xff", "b"}, "auto", 1.5, {}, "");
  const nlohmann::json j = list.Json();
  CHECK(j[0]["survivor"] == "a\xEF\xBF\xBD");
  CHECK(j[0]["members"][1] == "b");
}

}  // namespace
}  // namespace crmh
