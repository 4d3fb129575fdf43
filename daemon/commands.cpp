#include "daemon/commands.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/config.h"
#include "crm/db.h"
#include "crm/lock.h"
#include "crm/lock_safety.h"
#include "crm/notices.h"
#include "crm/review.h"
#include "jobs/change.h"
#include "jobs/retention.h"
#include "crm/schema.h"
#include "crm/state.h"
#include "daemon/scheduler.h"
#include "jobs/job.h"
#include "jobs/prune.h"
#include "jobs/standardize.h"
#include "daemon/check_smtp.h"

namespace crmh {
namespace {

int Fail(std::ostream& err, const Error& e) {
  err << "crm-hygiene: " << e.message << "\n";
  return static_cast<int>(e.exit);
}

nlohmann::json RunJson(const crm::RunRow& r) {
  nlohmann::json j;
  j["run_id"] = r.run_id;
  j["job"] = r.job;
  j["kind"] = r.kind;
  j["status"] = r.status;
  j["reason"] = r.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.reason);
  j["dry_run"] = r.dry_run;
  j["slot"] = r.slot ? nlohmann::json(FormatRfc3339(*r.slot)) : nlohmann::json(nullptr);
  j["instance_id"] = r.instance_id;
  j["started_at"] = FormatRfc3339(r.started_at);
  j["finished_at"] =
      r.finished_at ? nlohmann::json(FormatRfc3339(*r.finished_at)) : nlohmann::json(nullptr);
  j["counts"] = nlohmann::json::parse(r.counts_json, nullptr, false);
  if (j["counts"].is_discarded()) j["counts"] = nlohmann::json::object();
  j["message"] = r.message;
  j["config_hash"] = r.config_hash;
  return j;
}

// Opens the database with the state tables migrated: what every reading command needs.
Result<std::unique_ptr<crm::Db>> OpenState(const Config& cfg) {
  auto db = crm::Open(cfg.database, cfg.state);
  if (!db) return db.error();
  if (Status st = crm::Migrate(**db); !st) return st.error();
  return db;
}

// Journals a command that acted on the state or the CRM outside a scheduled job (restore,
// forget): one finished row. Returns its run id.
Result<std::string> JournalAction(crm::Db& db, const Config& cfg, const std::string& job,
                                  const std::string& kind, const nlohmann::json& counts,
                                  const std::string& message) {
  SystemClock clock;
  crm::RunRow row;
  row.run_id = crm::NewRunId(clock.Now());
  row.job = job;
  row.kind = kind;
  row.instance_id = cfg.instance_id;
  row.started_at = clock.Now();
  row.finished_at = clock.Now();
  row.status = "ok";
  row.config_hash = cfg.hash;
  row.counts_json = counts.dump();
  row.message = message;
  if (auto c = crm::OpenRun(db, row); !c) return c.error();
  if (Status st = crm::CloseRun(db, row); !st) return st.error();
  return row.run_id;
}

}  // namespace

int CmdCheck(const Args& a, std::ostream& out, std::ostream& err) {
  auto cfg = LoadConfigFile(a.config_path);
  if (!cfg) return Fail(err, cfg.error());
  nlohmann::json report;
  report["config"] = {{"path", a.config_path}, {"hash", cfg->hash}, {"jobs", cfg->jobs.size()}};
  if (!a.json) out << fmt::format("config    {}: ok ({} job(s), hash {})\n", a.config_path, cfg->jobs.size(), cfg->hash);
  auto db = crm::Open(cfg->database, cfg->state);
  if (!db) return Fail(err, db.error());
  std::string where = cfg->database.backend == Backend::kSqlite ? "sqlite " + cfg->database.path
                                                                : "mysql database " + cfg->database.name;
  if (!a.json) out << fmt::format("database  {}: reachable\n", where);
  if (Status locks = crm::CheckLockSafety(**db, cfg->database, cfg->state); !locks) {
    return Fail(err, locks.error());
  }
  auto mapping = crm::VerifyMapping(**db, cfg->mapping);
  if (!mapping) return Fail(err, mapping.error());
  if (!a.json) {
    out << fmt::format("mapping   profile {}: every mapped table and column exists and is readable\n",
                       cfg->mapping.profile);
    for (const auto& c : mapping->checked) out << "          " << c << "\n";
  }
  auto version = crm::StateVersion(**db);
  int have = version ? *version : 0;
  if (!a.json) {
    out << fmt::format("state     schema version {} (this build: {}){}\n", have,
                       crm::kStateSchemaVersion,
                       have < crm::kStateSchemaVersion ? "; the daemon will migrate on start" : "");
  }
  if (Status w = crm::ProbeStateWrite(**db); !w) return Fail(err, w.error());
  bool writes = false;
  for (const auto& j : cfg->jobs) writes = writes || (j.enabled && jobs::IsDestructiveKind(j.kind));
  if (writes) {
    // Destructive jobs rewrite contacts (later kinds also child rows).
    if (Status w = crm::ProbeWriteGrants(**db, cfg->mapping.contacts_table, cfg->mapping.id_column,
                                         false);
        !w) {
      return Fail(err, w.error());
    }
  }
  if (!a.json) {
    out << fmt::format("grants    SELECT on every mapped table; create/write on the state tables{}\n",
                       writes ? "; UPDATE on " + cfg->mapping.contacts_table : "");
  }
  for (const auto& j : cfg->jobs) {
    auto kind = jobs::MakeJob(j);
    if (!kind) return Fail(err, kind.error());
  }
  for (const auto& j : cfg->jobs) {
    if (j.kind != "prune" || !j.enabled) continue;
    if (Status st = jobs::CheckPruneJob(**db, cfg->mapping, j, /*grants=*/true); !st) {
      return Fail(err, st.error());
    }
    if (!a.json) out << fmt::format("prune     job {}: options match the schema; write grants ok\n", j.name);
    auto probes = jobs::ProbePruneServer(**db, *cfg, j);
    if (!probes) return Fail(err, probes.error());
    for (const auto& w : *probes) {
      if (!a.json) out << "          warning: " << w << "\n";
      report["warnings"].push_back(w);
    }
  }
  for (const auto& j : cfg->jobs) {  // rules aimed at related-table fields are refused
    if (j.kind != "standardize" || !j.enabled) continue;
    if (Status st = jobs::CheckStandardizeJob(cfg->mapping, j); !st) return Fail(err, st.error());
  }
  nlohmann::json smtp_checks = nlohmann::json::array();
  for (const auto& j : cfg->jobs) {  // digest delivery: the credential, then a real login
    const DigestOptions& d = j.digest;
    if (j.kind != "digest" || !j.enabled || (d.smtp_url.empty() && d.smtp_user.empty())) continue;
    auto sc = CheckDigestSmtp(j, /*live=*/true, std::chrono::seconds{10});
    if (!sc) return Fail(err, sc.error());
    if (!a.json) {
      out << fmt::format("smtp      job {}: {} password {}; login {}\n", j.name, sc->server,
                         sc->credential, sc->login);
      for (const auto& w : sc->warnings) out << "          warning: " << w << "\n";
    }
    smtp_checks.push_back({{"job", sc->job}, {"server", sc->server}, {"credential", sc->credential},
                           {"login", sc->login}, {"warnings", sc->warnings}});
  }
  if (!smtp_checks.empty()) report["smtp"] = smtp_checks;
  report["database"] = where;
  report["mapping"] = {{"profile", cfg->mapping.profile}, {"checked", mapping->checked}};
  report["state_version"] = have;
  report["ok"] = true;
  if (a.json) out << report.dump(2) << "\n";
  else out << "ok\n";
  return 0;
}

int CmdRun(const Args& a, std::ostream& out, std::ostream& err) {
  auto cfg = LoadConfigFile(a.config_path);
  if (!cfg) return Fail(err, cfg.error());
  const JobConfig* job = cfg->FindJob(a.positional[0]);
  if (!job) {
    std::vector<std::string> names;
    for (const auto& j : cfg->jobs) names.push_back(j.name);
    std::string hint = Suggest(a.positional[0], names);
    return Fail(err, Error::Usage(fmt::format("no job named '{}' in {}{}", a.positional[0], a.config_path,
                                              hint.empty() ? "" : " (did you mean '" + hint + "'?)")));
  }
  SystemClock clock;
  jobs::RunRequest req{&*cfg, job, std::nullopt, a.Flag("dry-run"), &clock, nullptr};
  jobs::RunReport rep = jobs::ExecuteRun(req, crm::MakeFactory(*cfg));
  if (a.json) {
    std::move(rep).WriteJson(out);  // rep.exit, rep.message stay
    out << "\n";
  } else {
    out << fmt::format("run {}: job '{}' ({}) {}{}{}\n", rep.run_id, rep.job, rep.kind, rep.status,
                       rep.reason.empty() ? "" : " (" + rep.reason + ")", rep.dry_run ? " [dry run]" : "");
    if (!rep.message.empty()) out << "  " << rep.message << "\n";
    for (const auto& [k, v] : rep.counts.items()) out << fmt::format("  {:<20} {}\n", k, v.dump());
  }
  if (rep.exit != Exit::kOk && !a.json) err << "crm-hygiene: " << rep.message << "\n";
  return static_cast<int>(rep.exit);
}

int CmdRuns(const Args& a, std::ostream& out, std::ostream& err) {
  auto cfg = LoadConfigFile(a.config_path);
  if (!cfg) return Fail(err, cfg.error());
  auto db = OpenState(*cfg);
  if (!db) return Fail(err, db.error());
  int limit = 100;
  if (a.options.count("limit")) {
    const std::string& v = a.options.at("limit");
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    limit = v.empty() || *end != '\0' || n > 1'000'000 ? -1 : static_cast<int>(n);
    if (limit < 1) return Fail(err, Error::Usage("--limit must be a positive number"));
  }
  auto runs = crm::ListRuns(**db, a.options.count("job") ? a.options.at("job") : "", limit);
  if (!runs) return Fail(err, runs.error());
  if (a.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : *runs) arr.push_back(RunJson(r));
    out << arr.dump(2) << "\n";
    return 0;
  }
  out << fmt::format("{:<24} {:<20} {:<20} {:<20} {:<20} {}\n", "RUN", "JOB", "STATUS", "SLOT",
                     "STARTED", "MESSAGE");
  for (const auto& r : *runs) {
    std::string status = r.status + (r.reason.empty() ? "" : "/" + r.reason);
    if (r.dry_run) status += "*";
    if (r.kind == "restore") status = "restore/" + status;
    out << fmt::format("{:<24} {:<20} {:<20} {:<20} {:<20} {}\n", r.run_id, r.job, status,
                       r.slot ? FormatRfc3339(*r.slot) : "manual", FormatRfc3339(r.started_at),
                       r.message);
  }
  return 0;
}

int CmdRestore(const Args& a, std::ostream& out, std::ostream& err) {
  auto cfg = LoadConfigFile(a.config_path);
  if (!cfg) return Fail(err, cfg.error());
  auto db = OpenState(*cfg);
  if (!db) return Fail(err, db.error());
  const std::string& run_id = a.positional[0];
  // Restore takes the lock of the job that made the run: it must not race that job.
  std::string job;
  Status found = crm::Guard("reading the run journal", [&] {
    soci::indicator ind = soci::i_null;
    (*db)->sql() << fmt::format("SELECT job FROM {} WHERE run_id = :r", (*db)->State("runs")),
        soci::use(run_id), soci::into(job, ind);
    if (ind != soci::i_ok) job.clear();
  });
  if (!found) return Fail(err, found.error());
  if (job.empty()) return Fail(err, Error::Usage(fmt::format("no run {} in the journal", run_id)));
  auto lock = crm::AcquireJobLock(*cfg, job);
  if (!lock) return Fail(err, lock.error());
  jobs::RestoreOptions opt{a.Flag("dry-run"), a.Flag("force")};
  auto res = jobs::RestoreRun(**db, run_id, opt);
  if (!res) return Fail(err, res.error());
  if (!opt.dry_run && !res->already_restored) {
    auto journaled = JournalAction(**db, *cfg, job, "restore",
                                   {{"rows_restored", res->rows_restored},
                                    {"change_sets_restored", res->sets_restored},
                                    {"conflicts_overwritten", res->conflicts.size()}},
                                   fmt::format("restored run {}", run_id));
    if (!journaled) return Fail(err, journaled.error());
  }
  nlohmann::json j{{"run_id", run_id},
                   {"dry_run", opt.dry_run},
                   {"already_restored", res->already_restored},
                   {"rows_restored", res->rows_restored},
                   {"change_sets_restored", res->sets_restored},
                   {"conflicts", res->conflicts}};
  if (a.json) {
    out << j.dump(2) << "\n";
  } else if (res->already_restored) {
    out << fmt::format("run {} was already restored; nothing to do\n", run_id);
  } else {
    out << fmt::format("{} run {}: {} row(s) in {} change set(s){}\n",
                       opt.dry_run ? "would restore" : "restored", run_id, res->rows_restored,
                       res->sets_restored,
                       res->conflicts.empty()
                           ? ""
                           : fmt::format("; {} conflicting row(s) overwritten (--force)",
                                         res->conflicts.size()));
  }
  return 0;
}

int CmdForget(const Args& a, std::ostream& out, std::ostream& err) {
  auto cfg = LoadConfigFile(a.config_path);
  if (!cfg) return Fail(err, cfg.error());
  auto db = OpenState(*cfg);
  if (!db) return Fail(err, db.error());
  auto stats = jobs::ForgetContact(**db, *cfg, a.positional[0]);
  if (!stats) return Fail(err, stats.error());
  nlohmann::json counts{{"ledger_rows_erased", stats->ledger_rows},
                        {"images_erased", stats->images},
                        {"dumps_deleted", stats->dumps},
                        {"sweep_caches_deleted", stats->sweep_caches},
                        {"flags_erased", stats->flags},
                        {"notices_erased", stats->notices},
                        {"archived_rows_erased", stats->archived}};
  // The journal keeps that an erasure happened, not whom it was about.
  auto run_id = JournalAction(**db, *cfg, "forget", "forget", counts,
                              "erased a contact from the ledger and dumps (data-protection request)");
  if (!run_id) return Fail(err, run_id.error());
  if (a.json) {
    counts["run_id"] = *run_id;
    out << counts.dump(2) << "\n";
  } else {
    out << fmt::format("erased: {} ledger row(s), {} row image(s), {} validation flag(s); {} "
                       "dump(s) and {} dedup sweep cache file(s) deleted; journaled as {}\n",
                       stats->ledger_rows, stats->images, stats->flags, stats->dumps,
                       stats->sweep_caches, *run_id);
  }
  return 0;
}

int CmdSchedule(const Args& a, std::ostream& out, std::ostream& err) {
  auto cfg = LoadConfigFile(a.config_path);
  if (!cfg) return Fail(err, cfg.error());
  auto db = OpenState(*cfg);
  if (!db) return Fail(err, db.error());
  SystemClock clock;
  SysSeconds now = clock.Now();
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& j : cfg->jobs) {
    nlohmann::json e;
    e["job"] = j.name;
    e["kind"] = j.kind;
    e["enabled"] = j.enabled;
    e["schedule"] = j.schedule;
    e["time_zone"] = j.time_zone;
    e["next"] = nullptr;
    if (!j.schedule.empty()) {
      auto spec = calendar::Schedule::Parse(j.schedule);
      e["normalized"] = spec ? spec->normalized() : "";
      if (spec && j.enabled) {
        if (auto s = sched::NextSlot(j, *spec, cfg->instance_id, now)) {
          e["next"] = FormatRfc3339(s->fire_at);
          e["next_slot"] = FormatRfc3339(s->slot);
        }
      }
    }
    auto last = crm::LastRun(**db, j.name);
    if (!last) return Fail(err, last.error());
    e["last"] = *last ? RunJson(**last) : nlohmann::json(nullptr);
    arr.push_back(std::move(e));
  }
  if (a.json) {
    out << arr.dump(2) << "\n";
    return 0;
  }
  out << fmt::format("{:<16} {:<10} {:<30} {:<22} {}\n", "JOB", "KIND", "SCHEDULE", "NEXT", "LAST");
  for (const auto& e : arr) {
    std::string last = e["last"].is_null()
                           ? "never ran"
                           : fmt::format("{} at {}", e["last"]["status"].get<std::string>(),
                                         e["last"]["started_at"].get<std::string>());
    std::string sched = e["schedule"].get<std::string>();
    if (sched.empty()) sched = "(manual)";
    if (!e["enabled"].get<bool>()) sched += " [disabled]";
    out << fmt::format("{:<16} {:<10} {:<30} {:<22} {}\n", e["job"].get<std::string>(),
                       e["kind"].get<std::string>(), sched,
                       e["next"].is_null() ? "-" : e["next"].get<std::string>(), last);
  }
  return 0;
}

}  // namespace crmh

namespace crmh {
namespace {

nlohmann::json ReviewJson(const crm::ReviewItem& it) {
  return {{"id", std::to_string(it.id)}, {"job", it.job},         {"status", it.status},
          {"survivor", it.survivor},      {"members", it.members}, {"score", it.score},
          {"matched", it.matched},        {"why", it.why},         {"created_run", it.created_run},
          {"seen_run", it.seen_run},      {"created_at", it.created_at},
          {"decided_at", it.decided_at},  {"decided_by", it.decided_by},
          {"merged_run", it.merged_run},  {"note", it.note}};
}

std::string Operator() {
  for (const char* v : {"SUDO_USER", "USER", "LOGNAME"}) {
    if (const char* s = std::getenv(v); s && *s) return s;
  }
  return "cli";
}

}  // namespace

int CmdReview(const Args& a, std::ostream& out, std::ostream& err) {
  const std::string& sub = a.positional[0];
  const bool list = sub == "list";
  if (!list && sub != "approve" && sub != "reject") {
    return Fail(err, Error::Usage(fmt::format("review: unknown action '{}' (list, approve ID, reject ID)", sub)));
  }
  if (list != (a.positional.size() == 1)) {
    return Fail(err, Error::Usage(list ? "review list takes no ID" : "review " + sub + " needs an item ID"));
  }
  if (a.Flag("now") && sub != "approve") return Fail(err, Error::Usage("--now goes with review approve"));
  if (!list && (a.options.count("status") || a.options.count("limit"))) {
    return Fail(err, Error::Usage("--status and --limit go with review list"));
  }
  auto cfg = LoadConfigFile(a.config_path);
  if (!cfg) return Fail(err, cfg.error());
  auto db = OpenState(*cfg);
  if (!db) return Fail(err, db.error());
  SystemClock clock;
  const SysSeconds now = std::chrono::floor<std::chrono::seconds>(clock.Now());

  if (list) {
    std::string status = a.options.count("status") ? a.options.at("status") : "open";
    if (status == "all") status.clear();
    int limit = 1000;
    if (a.options.count("limit")) {
      const std::string& l = a.options.at("limit");
      if (l.empty() || l.size() > 7 || l.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(l) < 1) {
        return Fail(err, Error::Usage("--limit must be a positive number"));
      }
      limit = std::stoi(l);
    }
    auto items = crm::ListReview(**db, status, limit);
    if (!items) return Fail(err, items.error());
    if (a.json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& it : *items) j.push_back(ReviewJson(it));
      out << j.dump(2) << "\n";
      return 0;
    }
    if (items->empty()) out << "no review items" << (status.empty() ? "" : " with status " + status) << "\n";
    for (const auto& it : *items) {
      std::string members;
      for (const auto& m : it.members) members += (members.empty() ? "" : ", ") + m;
      out << fmt::format("#{} [{}] job {}: survivor {} ← {{{}}} score {:.3f}\n", it.id, it.status,
                         it.job, it.survivor, members, it.score);
      if (!it.why.empty()) out << "    why: " << it.why << "\n";
      if (!it.note.empty()) out << "    note: " << it.note << "\n";
    }
    if (status == "open" && !items->empty()) {
      out << "approve: crm-hygiene review approve ID [--now]    reject: crm-hygiene review reject ID\n";
    }
    return 0;
  }

  const std::string& id_text = a.positional[1];
  if (id_text.empty() || id_text.size() > 18 ||
      id_text.find_first_not_of("0123456789") != std::string::npos) {
    return Fail(err, Error::Usage(fmt::format("review item ID must be a number, not '{}'", id_text)));
  }
  const long long id = std::stoll(id_text);
  auto item = crm::GetReview(**db, id);
  if (!item) return Fail(err, item.error());
  if (!item->has_value()) return Fail(err, Error::Usage(fmt::format("no review item {}", id)));
  if (sub == "reject") {
    if (Status st = crm::RejectReview(**db, id, Operator(), now); !st) return Fail(err, st.error());
    auto j = JournalAction(**db, *cfg, (*item)->job, "review", {{"rejected", id}},
                           fmt::format("review item {} rejected by {}", id, Operator()));
    if (!j) return Fail(err, j.error());
    out << fmt::format("review item {} rejected: its {} contacts will not be proposed together "
                       "again\n",
                       id, (*item)->members.size());
    return 0;
  }
  const JobConfig* job = cfg->FindJob((*item)->job);
  if (!job || job->kind != "dedup") {
    return Fail(err, Error::Config(fmt::format("review item {} belongs to job '{}', which is not a "
                                               "dedup job in {}",
                                               id, (*item)->job, a.config_path)));
  }
  const bool already = (*item)->status == "approved" && a.Flag("now");
  if (!already) {
    if (Status st = crm::ApproveReview(**db, id, Operator(), now); !st) return Fail(err, st.error());
  }
  if (!a.Flag("now")) {
    auto j = JournalAction(**db, *cfg, (*item)->job, "review", {{"approved", id}},
                           fmt::format("review item {} approved by {}", id, Operator()));
    if (!j) return Fail(err, j.error());
    out << fmt::format("review item {} approved: the next run of job '{}' merges it (or use "
                       "--now)\n",
                       id, job->name);
    return 0;
  }
  db->reset();  // the run opens its own sessions (and takes the job lock)
  jobs::RunRequest req{&*cfg, job, std::nullopt, false, &clock, nullptr};
  req.review_now = id;
  jobs::RunReport rep = jobs::ExecuteRun(req, crm::MakeFactory(*cfg));
  if (a.json) {
    std::move(rep).WriteJson(out);  // rep.exit, rep.message stay
    out << "\n";
  } else {
    out << fmt::format("run {}: review item {} {}: {}\n", rep.run_id, id, rep.status, rep.message);
  }
  if (rep.exit != Exit::kOk && !a.json) err << "crm-hygiene: " << rep.message << "\n";
  return static_cast<int>(rep.exit);
}

int CmdNotices(const Args& a, std::ostream& out, std::ostream& err) {
  auto cfg = LoadConfigFile(a.config_path);
  if (!cfg) return Fail(err, cfg.error());
  const std::string job = a.options.count("job") ? a.options.at("job") : "";
  if (!job.empty()) {
    const JobConfig* j = cfg->FindJob(job);
    if (!j || j->kind != "prune") {
      return Fail(err, Error::Usage(fmt::format("'{}' is not a prune job in {}", job, a.config_path)));
    }
  }
  auto db = OpenState(*cfg);
  if (!db) return Fail(err, db.error());
  auto notices = crm::ListNotices(**db, job, /*open_only=*/!a.Flag("all"));
  if (!notices) return Fail(err, notices.error());
  if (a.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& n : *notices) {
      nlohmann::json j;
      j["id"] = std::to_string(n.id);
      j["job"] = n.job;
      j["contact_id"] = n.contact_id;  // ids are strings (SuiteCRM UUIDs, integers elsewhere)
      j["owner"] = n.owner.empty() ? nlohmann::json(nullptr) : nlohmann::json(n.owner);
      j["reasons"] = nlohmann::json::array();
      std::string r = n.reasons;
      for (size_t pos = 0; !r.empty();) {
        size_t comma = r.find(',', pos);
        j["reasons"].push_back(r.substr(pos, comma == std::string::npos ? comma : comma - pos));
        if (comma == std::string::npos) break;
        pos = comma + 1;
      }
      auto t = ParseSqlTime(n.last_activity);
      j["last_activity"] = t ? nlohmann::json(FormatRfc3339(*t)) : nlohmann::json(nullptr);
      j["noticed_at"] = FormatRfc3339(n.noticed_at);
      j["prune_after"] = FormatRfc3339(n.prune_after);
      j["status"] = n.status;
      j["noticed_run"] = n.noticed_run;
      j["closed_at"] = n.closed_at ? nlohmann::json(FormatRfc3339(*n.closed_at)) : nlohmann::json(nullptr);
      arr.push_back(std::move(j));
    }
    out << arr.dump(2) << "\n";
    return 0;
  }
  if (notices->empty()) out << (a.Flag("all") ? "no prune notices\n" : "no open prune notices\n");
  for (const auto& n : *notices) {
    out << fmt::format("contact {} [{}] job {}: {} — noticed {}, goes after {}{}\n", n.contact_id,
                       n.status, n.job, n.reasons, FormatRfc3339(n.noticed_at),
                       FormatRfc3339(n.prune_after), n.owner.empty() ? "" : ", owner " + n.owner);
  }
  if (!a.Flag("all") && !notices->empty()) {
    out << "keep one: crm-hygiene rescue CONTACT_ID\n";
  }
  return 0;
}

int CmdRescue(const Args& a, std::ostream& out, std::ostream& err) {
  auto cfg = LoadConfigFile(a.config_path);
  if (!cfg) return Fail(err, cfg.error());
  auto db = OpenState(*cfg);
  if (!db) return Fail(err, db.error());
  const std::string& contact = a.positional[0];
  SystemClock clock;
  auto n = crm::RescueContact(**db, contact, Operator(), clock.Now());
  if (!n) return Fail(err, n.error());
  if (*n == 0) {
    return Fail(err, Error::Usage(fmt::format("contact {} has no open prune notice (see "
                                              "crm-hygiene notices)",
                                              contact)));
  }
  auto run_id = JournalAction(**db, *cfg, "rescue", "rescue", {{"notices_rescued", *n}},
                              fmt::format("contact {} rescued from pruning by {}", contact, Operator()));
  if (!run_id) return Fail(err, run_id.error());
  if (a.json) {
    out << nlohmann::json{{"contact_id", contact}, {"notices_rescued", *n}, {"run_id", *run_id}}.dump(2)
        << "\n";
  } else {
    out << fmt::format("contact {} taken off the prune list ({} notice(s)); it gets no new notice "
                       "for rescue_days; journaled as {}\n",
                       contact, *n, *run_id);
  }
  return 0;
}

}  // namespace crmh
