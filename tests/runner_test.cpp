// ExecuteRun, the one path every run takes: lock → claim → plan → apply → record → journal.
#include <doctest/doctest.h>

#include <future>
#include <system_error>

#include "crm/lock.h"
#include "jobs/report_dump.h"
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

// A dedup report of n clusters: values that need escaping, a nested empty array and object,
// numbers of each kind, keys before and after "clusters".
jobs::RunReport LargeReport(size_t n) {
  jobs::RunReport rep;
  rep.run_id = "r-1";
  rep.job = "dedup";
  rep.kind = "dedup";
  rep.status = "ok";
  rep.dry_run = true;
  rep.counts["clusters"] = static_cast<long long>(n);
  rep.counts["reduction_ratio"] = 0.99987654321;
  rep.details["plan"] = {{"sample", nlohmann::json::array()}, {"tables", nlohmann::json::object()}};
  rep.message = "line one\nline \"two\"";
  rep.clusters = nlohmann::json::array();
  for (size_t i = 0; i < n; ++i) {
    nlohmann::json c(nlohmann::json::value_t::object);
    c["survivor"] = std::to_string(i);
    c["members"] = {std::to_string(i), "Nguyễn \"Bob\"\n\t\\ 美国 \x01"};
    c["decision"] = i % 3 ? "auto" : "review";
    c["score"] = 1.0 / static_cast<double>(i + 3);
    c["matched"] = i % 7 ? nlohmann::json::array({"email", "phone"}) : nlohmann::json::array();
    if (i % 5 == 0) c["why"] = "a member's \"given\" names\r\ndiffer";
    if (i % 11 == 0) c["extra"] = {{"n", -static_cast<long long>(i)}, {"o", nlohmann::json::object()}};
    rep.clusters.push_back(std::move(c));
  }
  return rep;
}

TEST_CASE("a run report's text is ToJson().dump(2) byte for byte, large dedup reports too") {
  // A large report's clusters are written on two threads and spliced into the rest: every
  // size around the threshold and the halves' boundary, values that need escaping, a nested
  // empty array and object, numbers of each kind, keys before and after "clusters".
  for (size_t n : {0UL, 1UL, 2047UL, 2048UL, 2049UL, 5001UL}) {
    CAPTURE(n);
    jobs::RunReport rep = LargeReport(n);
    const std::string expect = rep.ToJson().dump(2);  // a copy: rep is unchanged
    const std::string got = std::move(rep).DumpJson();
    CHECK(got.size() == expect.size());
    CHECK(got == expect);
  }
  // A report without clusters (another kind) as well.
  jobs::RunReport plain;
  plain.status = "ok";
  plain.counts["rows"] = 3;
  const std::string expect = plain.ToJson().dump(2);
  CHECK(std::move(plain).DumpJson() == expect);
}

TEST_CASE("a large run report is written whole when its second thread cannot start") {
  // std::async throws std::system_error when no thread is available; the clusters were already
  // taken out of the report then, and the printed report lost them (review, session 13).
  for (size_t n : {2048UL, 5001UL}) {
    CAPTURE(n);
    jobs::RunReport rep = LargeReport(n);
    const std::string expect = rep.ToJson().dump(2);
    int starts = 0;
    const std::string got = jobs::DumpReportJson(std::move(rep), [&starts](jobs::DumpTask) {
      ++starts;
      throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again),
                              "thread");
      return std::future<std::string>();
    });
    CHECK(starts == 1);
    CHECK(got == expect);
  }
}

}  // namespace
}  // namespace crmh
