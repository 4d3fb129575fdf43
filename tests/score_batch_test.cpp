// score_records are written in multi-row INSERTs (crm/scores.cpp): more rows than one statement
// holds, with ids and owners that need quoting, come back exactly (own SQL), on both backends;
// re-saving the week replaces them.
#include <doctest/doctest.h>

#include <map>

#include "crm/db.h"
#include "crm/scores.h"
#include "crm/state.h"
#include "test_db.h"

namespace crmh {

TEST_CASE("score: record qualities saved in multi-row batches come back exactly") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    test::TempDb tdb(b);
    StateConfig state;
    auto db = crm::Open(tdb.database(), state);
    REQUIRE_MESSAGE(db, db.error().message);
    REQUIRE(crm::Migrate(**db));

    std::vector<crm::RecordQuality> recs;
    const char* odd[] = {"o'brien", "back\\slash", "colon:name", "Nguyễn Văn Ân", "semi;--", "\"dq\""};
    for (int i = 0; i < 1234; ++i) {  // 2 full statements of 500 and a partial one
      std::string id = i % 97 == 0 ? std::string(odd[(i / 97) % 6]) + std::to_string(i) : std::to_string(i);
      recs.push_back({id, odd[i % 6], (i % 1001) / 1000.0, i % 3 == 0});
    }
    crm::ScoreWeek w{"score", "2026-W49", "run-1", SysSeconds{std::chrono::seconds{1796000000}}};
    REQUIRE(crm::SaveScoreWeek(**db, w, {}, recs));
    REQUIRE(crm::SaveScoreWeek(**db, w, {}, recs));  // re-saving the week replaces it

    auto s = tdb.Session();
    long long n = 0;
    *s << "SELECT COUNT(*) FROM crmh_score_records WHERE job = 'score' AND week = '2026-W49'",
        soci::into(n);
    CHECK(n == 1234);
    std::map<std::string, std::tuple<std::string, long long, int>> got;
    soci::rowset<soci::row> rs = s->prepare << "SELECT contact_id, owner, completeness_ppm, flagged "
                                               "FROM crmh_score_records";
    for (const auto& r : rs) {
      got[r.get<std::string>(0)] = {r.get<std::string>(1), crm::CellInt(r, 2), static_cast<int>(crm::CellInt(r, 3))};
    }
    REQUIRE(got.size() == recs.size());
    for (const auto& q : recs) {
      auto it = got.find(q.contact_id);
      REQUIRE_MESSAGE(it != got.end(), q.contact_id);
      CHECK(std::get<0>(it->second) == q.owner);
      CHECK(std::get<1>(it->second) == std::llround(q.completeness * 1e6));
      CHECK(std::get<2>(it->second) == (q.flagged ? 1 : 0));
    }
    auto back = crm::LoadRecordQualities(**db, "score", "2026-W49");
    REQUIRE(back);
    CHECK(back->size() == recs.size());
  }
}

}  // namespace crmh
