// The config parser: typed values, and bad input answered with file:line:column.
#include <doctest/doctest.h>

#include "core/config.h"

namespace crmh {
namespace {

const char* kMinimal = R"(database:
  backend: sqlite
  path: /tmp/crm.db
jobs:
  audit:
    kind: audit
    schedule: "Mon *-*-* 07:00"
    time_zone: Europe/Berlin
)";

TEST_CASE("a minimal config parses into typed values with defaults") {
  auto c = ParseConfig(kMinimal, "crm.yaml");
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  CHECK(c->database.backend == Backend::kSqlite);
  CHECK(c->database.path == "/tmp/crm.db");
  CHECK(c->mapping.profile == "generic");
  CHECK(c->mapping.fields.at("owner").column == "owner_id");
  REQUIRE(c->jobs.size() == 1);
  const JobConfig& j = c->jobs[0];
  CHECK(j.kind == "audit");
  CHECK(j.time_zone == "Europe/Berlin");
  CHECK(j.dst_gap == calendar::DstGap::kRunAtTransition);
  CHECK(j.overlap == Overlap::kSkip);
  CHECK_FALSE(j.persistent);
  CHECK(j.mandatory.size() == 5);
  CHECK_FALSE(c->instance_id.empty());  // defaults to the host name
  CHECK(c->hash.size() == 16);
}

TEST_CASE("the suitecrm profile maps email and opt-out through email_addr_bean_rel") {
  auto c = ParseConfig(std::string(kMinimal) + "mapping:\n  profile: suitecrm\n", "crm.yaml");
  REQUIRE(c.ok());
  const auto& email = c->mapping.fields.at("email");
  REQUIRE(email.related.has_value());
  CHECK(email.related->link_table == "email_addr_bean_rel");
  CHECK(c->mapping.fields.at("opt_out").related->column == "opt_out");
  CHECK(c->mapping.extension_table == "contacts_cstm");
  bool calls = false;
  for (const auto& ch : c->mapping.children) {
    calls = calls || (ch.table == "calls" && ch.type_column == "parent_type" && ch.type_value == "Contacts");
  }
  CHECK(calls);
}

TEST_CASE("mapping overrides: a field re-pointed, a field unmapped, children replaced") {
  auto c = ParseConfig(std::string(kMinimal) + R"(mapping:
  profile: generic
  fields:
    phone: work_phone
    email2: ~
  children:
    - name: calls
      table: calls
      column: parent_id
      type_column: parent_type
      type_value: Contacts
      soft_delete: deleted
      unique_key: [call_id]
  activity:
    - column: last_contacted_at
    - child: calls
      column: date_start
)",
                       "crm.yaml");
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  CHECK(c->mapping.fields.at("phone").column == "work_phone");
  CHECK(c->mapping.fields.count("email2") == 0);
  REQUIRE(c->mapping.children.size() == 1);
  CHECK(c->mapping.children[0].unique_key == std::vector<std::string>{"call_id"});
  CHECK(c->mapping.activity.size() == 2);
}

struct BadCase {
  const char* name;
  std::string yaml;
  const char* expect;  // a substring of the error, which must start with file:line:col
};

TEST_CASE("bad input is answered with file:line:column and changes nothing") {
  const std::vector<BadCase> cases = {
      {"broken yaml", "database:\n  backend: [sqlite\n", "crm.yaml:3:1:"},
      {"duplicate key", std::string(kMinimal) + "database:\n  backend: mysql\n",
       "crm.yaml:9:1: duplicate key 'database'"},
      {"nested duplicate key", "database:\n  backend: sqlite\n  path: /a\n  path: /b\n",
       "crm.yaml:4:3: duplicate key 'path'"},
      {"unknown top-level key", std::string(kMinimal) + "jbos: {}\n",
       "crm.yaml:9:1: unknown key 'jbos' in the top level (did you mean 'jobs'?)"},
      {"unknown nested key", "database:\n  backend: sqlite\n  pathh: /tmp/x\n",
       "crm.yaml:3:3: unknown key 'pathh' in database (did you mean 'path'?)"},
      {"inline password", "database:\n  backend: mysql\n  user: u\n  name: crm\n  password: hunter2\n",
       "crm.yaml:5:13: a password is never written in the YAML"},
      {"bad backend", "database:\n  backend: postgres\n",
       "crm.yaml:2:12: 'backend' must be one of sqlite, mysql, not 'postgres'"},
      {"bad calendar", std::string("database: {backend: sqlite, path: /x}\njobs:\n  a:\n    kind: audit\n"
                                   "    schedule: \"Mon *-*-* 25:00\"\n"),
       "crm.yaml:5:15: job 'a':"},
      {"unknown zone", std::string("database: {backend: sqlite, path: /x}\njobs:\n  a:\n    kind: audit\n"
                                   "    time_zone: Europe/Berln\n"),
       "crm.yaml:5:16: unknown time zone 'Europe/Berln'"},
      {"zone contradiction", std::string("database: {backend: sqlite, path: /x}\njobs:\n  a:\n    kind: audit\n"
                                         "    schedule: \"*-*-* 02:30 Europe/Berlin\"\n    time_zone: UTC\n"),
       "crm.yaml:6:16: job 'a': time_zone 'UTC' contradicts the zone 'Europe/Berlin'"},
      {"unknown kind", "database: {backend: sqlite, path: /x}\njobs:\n  a:\n    kind: audti\n",
       "crm.yaml:4:11: 'kind' must be one of audit, "},
      {"unknown kind (suggestion)", "database: {backend: sqlite, path: /x}\njobs:\n  a:\n    kind: audti\n",
       "not 'audti' (did you mean 'audit'?)"},
      {"bad duration", "database: {backend: sqlite, path: /x}\njobs:\n  a:\n    kind: audit\n    jitter: 5 minutes\n",
       "crm.yaml:5:13: 'jitter': '5 minutes' is not a duration"},
      {"sql injection in a column name",
       "database: {backend: sqlite, path: /x}\nmapping:\n  fields:\n    email: \"email; DROP TABLE contacts\"\n",
       "crm.yaml:4:12: email 'email; DROP TABLE contacts' is not a valid table/column name"},
      {"unknown logical field", "database: {backend: sqlite, path: /x}\nmapping:\n  fields:\n    frist_name: fn\n",
       "crm.yaml:4:5: unknown logical field 'frist_name' (did you mean 'first_name'?)"},
      {"unknown mandatory field",
       "database: {backend: sqlite, path: /x}\njobs:\n  a:\n    kind: audit\n    options:\n      mandatory: [emial]\n",
       "unknown mandatory field 'emial' (did you mean 'email'?)"},
      {"activity names an unknown child",
       "database: {backend: sqlite, path: /x}\nmapping:\n  activity:\n    - child: callz\n      column: d\n",
       "mapping.activity names child 'callz'"},
      {"dedup: thresholds the wrong way round",
       "database: {backend: sqlite, path: /x}\njobs:\n  d:\n    kind: dedup\n    options:\n"
       "      auto_threshold: 0.8\n      review_threshold: 0.9\n",
       "crm.yaml:7:25: job 'd': review_threshold 0.9 is above auto_threshold 0.8"},
      {"dedup: unknown option",
       "database: {backend: sqlite, path: /x}\njobs:\n  d:\n    kind: dedup\n    options:\n"
       "      survivr: oldest\n",
       "unknown key 'survivr' in job 'd' options (did you mean 'survivor'?)"},
      {"dedup: unknown survivor rule",
       "database: {backend: sqlite, path: /x}\njobs:\n  d:\n    kind: dedup\n    options:\n"
       "      survivor: newest\n",
       "'survivor' must be one of most_complete, oldest, most_recent_activity"},
      {"dedup: bad m probability",
       "database: {backend: sqlite, path: /x}\njobs:\n  d:\n    kind: dedup\n    options:\n"
       "      m: {email: {3: 1.5}}\n",
       "options.m.email.3 must be between 0 and 1"},
      {"dedup: bad region",
       "database: {backend: sqlite, path: /x}\njobs:\n  d:\n    kind: dedup\n    options:\n"
       "      default_region: usa\n",
       "default_region 'usa' must be an ISO 3166 code"},
      {"child on_conflict",
       "database: {backend: sqlite, path: /x}\nmapping:\n  children:\n    - {name: t, table: t, "
       "column: c, on_conflict: merge}\n",
       "'on_conflict' must be one of dedupe, keep_both, block"},
      {"sqlite without a path", "database:\n  backend: sqlite\n", "crm.yaml:2:3: database.path is required"},
      {"empty file", "", "crm.yaml:1:1: the configuration file is empty"},
      {"not a mapping", "- a\n- b\n", "crm.yaml:1:1: the top level must be a mapping"},
  };
  for (const auto& tc : cases) {
    CAPTURE(std::string(tc.name));
    auto c = ParseConfig(tc.yaml, "crm.yaml");
    REQUIRE_FALSE(c.ok());
    CAPTURE(c.error().message);
    CHECK(c.error().exit == Exit::kUsage);
    CHECK(c.error().message.find(tc.expect) != std::string::npos);
    CHECK(c.error().message.rfind("crm.yaml:", 0) == 0);
  }
}

TEST_CASE("dedup options parse with their defaults and overrides") {
  auto c = ParseConfig(std::string(kMinimal) +
                           "  dedup:\n    kind: dedup\n    options:\n      auto_threshold: 0.995\n"
                           "      survivor: oldest\n      default_region: DE\n"
                           "      m: {email: {3: 0.9}}\n      u: {last_name: {1: 0.2}}\n",
                       "crm.yaml");
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  const JobConfig* j = c->FindJob("dedup");
  REQUIRE(j != nullptr);
  CHECK(j->dedup.auto_threshold == doctest::Approx(0.995));
  CHECK(j->dedup.review_threshold == doctest::Approx(0.80));
  CHECK(j->dedup.survivor == "oldest");
  CHECK(j->dedup.default_region == "DE");
  CHECK(j->dedup.m.at("email").at(3) == doctest::Approx(0.9));
  CHECK(j->dedup.u.at("last_name").at(1) == doctest::Approx(0.2));
  CHECK(j->dedup.auto_merge);
  // The generic profile's tags dedupe on conflict; SuiteCRM's email links demote "primary".
  bool tags_dedupe = false;
  for (const auto& ch : c->mapping.children) tags_dedupe |= ch.name == "tags" && ch.on_conflict == "dedupe";
  CHECK(tags_dedupe);
}

TEST_CASE("durations") {
  CHECK(ParseDuration("90s")->count() == 90);
  CHECK(ParseDuration("5m")->count() == 300);
  CHECK(ParseDuration("2h30m")->count() == 9000);
  CHECK(ParseDuration("14d")->count() == 14 * 86400);
  CHECK(ParseDuration("45")->count() == 45);
  CHECK_FALSE(ParseDuration("5 minutes").ok());
  CHECK_FALSE(ParseDuration("").ok());
  CHECK_FALSE(ParseDuration("m").ok());
  CHECK_FALSE(ParseDuration("99999999999999999999999s").ok());  // an error, not an exception
}

TEST_CASE("suggestions pick the closest known word, or none") {
  CHECK(Suggest("jbos", {"jobs", "database", "state"}) == "jobs");
  CHECK(Suggest("completely-different", {"jobs", "database"}).empty());
}

TEST_CASE("a missing file is a configuration error naming the path") {
  auto c = LoadConfigFile("/nonexistent/crm-hygiene.yaml");
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().exit == Exit::kUsage);
  CHECK(c.error().message.find("/nonexistent/crm-hygiene.yaml") != std::string::npos);
}

}  // namespace
}  // namespace crmh

namespace crmh {
TEST_CASE("the shipped example config parses") {
  auto c = LoadConfigFile(std::string(CRMH_SOURCE_DIR) + "/config/crm-hygiene.example.yaml");
  REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  CHECK(c->database.backend == Backend::kMysql);
  CHECK(c->mapping.profile == "suitecrm");
  CHECK(c->jobs.at(0).jitter.count() == 300);
  CHECK(c->jobs.at(0).persistent);
}
}  // namespace crmh
