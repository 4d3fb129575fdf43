// `crm-hygiene demo [--dir DIR]`: a realistic dirty CRM in SQLite (generic profile), a commented
// config next to it, every enabled job run once, and a report of what happened and where to look.
// The CRM is made as it was 11 weeks ago and lives 12 weeks under a fake clock first
// (daemon/demo_sim.h: users change the data, every job runs once a week), so the digest has history.
#include <fmt/format.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "crm/db.h"
#include "daemon/commands.h"
#include "daemon/demo_data.h"
#include "daemon/demo_sim.h"
#include "core/clock.h"
#include "core/time_util.h"
#include "jobs/job.h"

namespace crmh {
namespace {

namespace fs = std::filesystem;

std::string DemoConfig(const fs::path& dir, const std::string& system_user) {
  return fmt::format(R"(# crm-hygiene configuration for the demo CRM (written by `crm-hygiene demo`).
# Every key is described in docs/config.md. Unknown keys are errors, on purpose.

# Who we are in the run journal (default: the host name).
instance_id: demo

# The CRM user id recorded as modified_by on every row crm-hygiene changes.
system_user: "{system_user}"

database:
  backend: sqlite            # mysql for production (host/port or socket, user, name,
  path: {db}                 # password_file or password_credential — never a password here)

state:
  table_prefix: crmh_        # state tables (run journal, snapshots, ...) live in the CRM file
  directory: {state}

mapping:
  profile: generic           # the demo schema; `suitecrm` for SuiteCRM 7, `custom` to map by hand

jobs:
  weekly-audit:
    kind: audit
    schedule: "Mon *-*-* 07:00"   # systemd OnCalendar syntax, or a 5-field cron line
    time_zone: Europe/Berlin
    persistent: true              # a Monday missed while the daemon was down runs once at start
    options:
      mandatory: [first_name, last_name, email, phone, country]
      weights: {{email: 2, phone: 1.5}}   # critical fields count more in completeness

  nightly-standardize:
    kind: standardize             # rewrites go through the safe-change engine: every row is
    schedule: "*-*-* 02:30"       # backed up in the same transaction; `restore RUN_ID` undoes it
    time_zone: Europe/Berlin
    dst_gap: run_at_transition    # 02:30 on the spring-forward night runs once at 03:00
    max_rows: 2000                # refuse (exit 4) a plan touching more rows than this ...
    max_fraction: 0.5             # ... or more than this share of a table
    batch_size: 100               # rows per change set (one transaction each)
    options:
      rules: [trim_whitespace, lowercase_email]

  nightly-dedup:
    kind: dedup                   # finds duplicates; sure ones are merged (one change set per
    schedule: "*-*-* 03:00"       # cluster, restorable), uncertain ones wait in `review list`
    time_zone: Europe/Berlin
    max_rows: 2000
    max_fraction: 0.5
    options:
      auto_threshold: 0.95        # match probability for merging without asking
      review_threshold: 0.80      # between the two: a human decides
      survivor: most_complete     # most_complete | oldest | most_recent_activity
      default_region: US

  monthly-prune:
    kind: prune                   # announces stale contacts first (`notices`); a later run
    schedule: "*-*-01 04:00"      # removes those whose notice is 14+ days old and still qualify
    time_zone: Europe/Berlin
    max_rows: 2000
    max_fraction: 0.5
    options:
      notice_only: true           # the demo only announces; `rescue ID` takes one off the list
      notice_days: 14
      criteria: {{inactive_months: 12, never_contacted_months: 12, opted_out: true,
                  bounced: {{column: email_bounced}}}}
      protect:
        created_within_days: 30
        customer: {{column: status, in: [customer]}}
        legal_hold: {{column: legal_hold}}
        open_deals: {{child: deals, column: stage, in: [open]}}
        keep_if: [{{child: tags, column: tag, in: [keep]}}]
  weekly-score:
    kind: score                   # 0-100 per owner, the sum of its components (docs/score.md):
    schedule: "Mon *-*-* 07:30"   # completeness, validity, duplicates they created, records they
    time_zone: Europe/Berlin      # fixed since last week, stale records; never changes the CRM
    options:
      mandatory: [first_name, last_name, email, phone, country]
      weights: {{email: 2, phone: 1.5}}
      components: {{completeness: 40, validity: 30, duplicates: 10, improvement: 10, staleness: 10}}
      stale_days: 365
  weekly-digest:
    kind: digest                  # the team's weekly report: archived as HTML under
    schedule: "Mon *-*-* 08:00"   # state/digests/, mailed when recipients are set
    time_zone: Europe/Berlin
    options:
      week: current               # the demo reports the week it just ran in (default: previous)
      per_owner: true             # and one digest per rep: their flags, notices, score
      mask_emails: true           # j***@example.com
      mask_phones: true           # ***67
      # recipients: [team@example.com]
      # from: crm-hygiene@example.com
      # smtp_url: smtp://mail.example.com:587
      # smtp_user: crm-hygiene
      # smtp_password_file: /etc/crm-hygiene/smtp-password
)",
                     fmt::arg("system_user", system_user), fmt::arg("db", (dir / "crm.db").string()),
                     fmt::arg("state", (dir / "state").string()));
}

std::string WeekLabel(std::chrono::sys_seconds t) { return IsoWeek(t, LookupZone("Europe/Berlin")); }

// The 11 weeks before this one: each week's user changes (not in the first), then every enabled
// job once, a minute apart, on the fake clock; one line per week.
int SimulateDemoWeeks(const Config& cfg, const std::string& db_path,
                      const std::vector<std::chrono::sys_seconds>& times, uint64_t seed, FakeClock& clock,
                      std::ostream& out, std::ostream& err) {
  out << fmt::format("\n12 weeks under a fake clock, from {} (every job once a week, Monday):\n",
                     WeekLabel(times.front()));
  for (size_t w = 0; w < times.size(); ++w) {
    demo::WeekChanges ch;
    demo::ReviewWork reviewed;
    if (w > 0) {
      try {
        soci::session sql(soci::sqlite3, "db=" + db_path);
        auto c = demo::SimulateWeek(sql, static_cast<int>(w), times[w] - std::chrono::hours(1), seed);
        if (!c) return err << "crm-hygiene demo: " << c.error().message << "\n", 1;
        ch = *c;
      } catch (const std::exception& e) {
        return err << "crm-hygiene demo: " << e.what() << "\n", 1;
      }
      auto db = crm::Open(cfg.database, cfg.state);
      if (!db) return err << "crm-hygiene demo: " << db.error().message << "\n", 3;
      auto rw = demo::WorkReviewQueue(**db, times[w] - std::chrono::minutes(30));
      if (!rw) return err << "crm-hygiene demo: " << rw.error().message << "\n", 1;
      reviewed = *rw;
    }
    if (w + 1 == times.size()) {
      out << fmt::format("  {}: {} new, {} entered twice, {} fixed by reps, {} junk removed, {} calls, review "
                         "{} approved / {} rejected\n",
                         WeekLabel(times[w]), ch.arrived, ch.duplicates, ch.fixed, ch.junk_removed, ch.calls,
                         reviewed.approved, reviewed.rejected);
      return 0;  // this week's runs are the caller's, with their full reports
    }
    clock.Set(times[w]);
    nlohmann::json digest;
    for (const auto& job : cfg.jobs) {
      if (!job.enabled) continue;
      jobs::RunRequest req{&cfg, &job, std::nullopt, false, &clock, nullptr};
      jobs::RunReport rep = jobs::ExecuteRun(req, crm::MakeFactory(cfg));
      if (rep.exit != Exit::kOk) {
        err << fmt::format("crm-hygiene demo: week {}: job '{}' {}: {}\n", WeekLabel(times[w]), rep.job,
                           rep.status, rep.message);
        return static_cast<int>(rep.exit);
      }
      if (rep.kind == "digest") digest = rep.counts;
      clock.Advance(std::chrono::minutes(1));
    }
    out << fmt::format("  {}: {} new, {} entered twice, {} fixed by reps, review {} approved / {} rejected; "
                       "merged {}, review {}, flags open {}, completeness {}%\n",
                       WeekLabel(times[w]), ch.arrived, ch.duplicates, ch.fixed, reviewed.approved, reviewed.rejected,
                       digest.value("contacts_merged", 0LL), digest.value("review_open", 0LL),
                       digest.value("flags_open", 0LL), digest.value("completeness_pct", 0.0));
  }
  return 0;
}

}  // namespace

int CmdDemo(const Args& a, std::ostream& out, std::ostream& err) {
  fs::path dir = a.options.count("dir") ? fs::path(a.options.at("dir")) : fs::path("crm-hygiene-demo");
  std::error_code ec;
  fs::create_directories(dir / "state", ec);
  if (ec) {
    err << "crm-hygiene demo: cannot create " << dir << ": " << ec.message() << "\n";
    return 2;
  }
  dir = fs::canonical(dir);
  fs::path db_path = dir / "crm.db";
  // The demo is disposable: start from a fresh file every time.
  for (const char* suffix : {"", "-wal", "-shm", ".crm-hygiene.weekly-audit.lock",
                             ".crm-hygiene.nightly-standardize.lock",
                             ".crm-hygiene.nightly-dedup.lock",
                             ".crm-hygiene.monthly-prune.lock",
                             ".crm-hygiene.weekly-score.lock",
                             ".crm-hygiene.weekly-digest.lock"}) {
    fs::remove(db_path.string() + suffix, ec);
  }
  demo::DemoDataOptions opt;
  if (a.options.count("contacts")) {
    const std::string& v = a.options.at("contacts");
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < 1 || n > 2'000'000) {
      err << "crm-hygiene demo: --contacts must be a number from 1 to 2000000, not '" << v << "'\n";
      return 2;
    }
    opt.contacts = static_cast<int>(n);
  }
  opt.now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  // 12 weeks under a fake clock (daemon/demo_sim.h): the CRM is made as it was 11 weeks ago.
  const auto sim_times = demo::SimulationTimes(opt.now, LookupZone("Europe/Berlin"), 12);
  opt.now = sim_times.front() - std::chrono::hours(1);
  std::string system_user;
  try {
    soci::session sql(soci::sqlite3, "db=" + db_path.string());
    auto summary = demo::CreateDemoCrm(sql, "sqlite", opt);
    if (!summary) {
      err << "crm-hygiene demo: " << summary.error().message << "\n";
      return 1;
    }
    sql << "SELECT CAST(id AS TEXT) FROM users WHERE is_system = 1", soci::into(system_user);
    out << fmt::format(
        "demo CRM: {} contacts, {} users, {} activities, {} deals; {} duplicate groups planted, "
        "{} non-Latin or diacritic names, {} stale, {} opted out\n",
        summary->contacts, summary->users, summary->activities, summary->deals,
        summary->duplicate_groups, summary->non_latin_or_diacritic, summary->stale,
        summary->opted_out);
  } catch (const std::exception& e) {
    err << "crm-hygiene demo: " << e.what() << "\n";
    return 1;
  }
  fs::path cfg_path = dir / "crm-hygiene.yaml";
  {
    std::ofstream f(cfg_path);
    f << DemoConfig(dir, system_user);
  }
  auto cfg = LoadConfigFile(cfg_path.string());
  if (!cfg) {
    err << "crm-hygiene demo: " << cfg.error().message << "\n";
    return 2;
  }
  FakeClock clock(sim_times.front());
  {
    int code = SimulateDemoWeeks(*cfg, db_path.string(), sim_times, opt.seed, clock, out, err);
    if (code != 0) return code;
  }
  clock.Set(sim_times.back());
  out << fmt::format("\nweek {} (this week), job by job:\n", WeekLabel(sim_times.back()));
  int exit_code = 0;
  std::string digest_path;
  for (const auto& job : cfg->jobs) {
    if (!job.enabled) continue;
    jobs::RunRequest req{&*cfg, &job, std::nullopt, false, &clock, nullptr};
    jobs::RunReport rep = jobs::ExecuteRun(req, crm::MakeFactory(*cfg));
    out << fmt::format("\njob '{}' ({}): {} — {}\n", rep.job, rep.kind, rep.status, rep.message);
    if (rep.kind == "audit" && rep.details.contains("fields")) {
      out << "  completeness by field:\n";
      for (const auto& [f, v] : rep.details["fields"].items()) {
        out << fmt::format("    {:<12} {:>5.1f}%  ({} of {})\n", f, v["pct"].get<double>(),
                           v["filled"].get<long long>(), v["total"].get<long long>());
      }
      out << "  completeness by owner (weighted):\n";
      for (const auto& o : rep.details["owners"]) {
        out << fmt::format("    {:<14} {:>5} contacts  {:>5.1f}%\n", o["name"].get<std::string>(),
                           o["contacts"].get<long long>(), o["completeness_pct"].get<double>());
      }
    }
    if (rep.kind == "standardize" && rep.status == "ok") {
      if (rep.details.contains("samples")) {
        out << "  for example:\n";
        int shown = 0;
        for (const auto& smp : rep.details["samples"]) {
          if (++shown > 5) break;
          out << fmt::format("    contact {:<6} {:<10} '{}' → '{}'\n", smp["id"].get<std::string>(),
                             smp["field"].get<std::string>(), smp["before"].get<std::string>(),
                             smp["after"].get<std::string>());
        }
      }
      out << fmt::format("  undo it exactly: {} --config {} restore {}\n",
                         fs::read_symlink("/proc/self/exe", ec).string(), cfg_path.string(),
                         rep.run_id);
    }
    if (rep.kind == "dedup" && rep.status == "ok") {
      int shown = 0;
      for (const auto& c : rep.clusters ? rep.clusters->Json() : nlohmann::json::array()) {
        if (++shown > 5) break;
        std::string members;
        for (const auto& m : c["members"]) members += (members.empty() ? "" : ", ") + m.get<std::string>();
        out << fmt::format("    {:<6} {{{}}} score {:.3f}\n", c["decision"].get<std::string>(),
                           members, c["score"].get<double>());
      }
      std::string bin = fs::read_symlink("/proc/self/exe", ec).string();
      out << fmt::format("  decide the uncertain: {} --config {} review list\n", bin,
                         cfg_path.string());
      out << fmt::format("  undo the merges exactly: {} --config {} restore {}\n", bin,
                         cfg_path.string(), rep.run_id);
    }
    if (rep.kind == "prune" && rep.status == "ok") {
      std::string bin = fs::read_symlink("/proc/self/exe", ec).string();
      out << fmt::format("  who is announced: {} --config {} notices\n", bin, cfg_path.string());
    }
    if (rep.kind == "score" && rep.status == "ok" && rep.details.contains("users")) {
      out << fmt::format("  week {} (score = sum of its components):\n",
                         rep.details["week"].get<std::string>());
      for (const auto& u : rep.details["users"]) {
        std::string parts;
        for (const auto& [c, v] : u["components"].items()) {
          if (v.value("available", true)) parts += fmt::format(" {} {:.2f}", c, v["points"].get<double>());
        }
        std::string badges;
        for (const auto& b : u["badges"]) badges += " [" + b.get<std::string>() + "]";
        out << fmt::format("    #{:<2} {:<14} {:>6.2f} ={}{}\n", u["rank"].get<int>(),
                           u["name"].get<std::string>(), u["score"].get<double>(), parts, badges);
      }
    }
    if (rep.kind == "digest" && rep.details.contains("archive")) {
      digest_path = rep.details["archive"].get<std::string>();
      out << fmt::format("  the digest: {}\n", digest_path);
    }
    if (rep.exit != Exit::kOk) exit_code = static_cast<int>(rep.exit);
    clock.Advance(std::chrono::minutes(1));
  }
  // Name the binary as it can be run from here (it is usually not on PATH after a build).
  std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec || self.empty()) self = "crm-hygiene";
  out << fmt::format(R"(
where to look:
  CRM database   {db}   (sqlite3 {db} 'SELECT * FROM contacts LIMIT 5')
  configuration  {cfg}
  run journal    {bin} --config {cfg} runs
  schedule       {bin} --config {cfg} schedule
  run a job      {bin} --config {cfg} run weekly-audit --json
  owner scores   {bin} --config {cfg} run weekly-score --json
  the daemon     {bin} --config {cfg} daemon
)",
                     fmt::arg("db", db_path.string()), fmt::arg("cfg", cfg_path.string()),
                     fmt::arg("bin", self));
  if (!digest_path.empty()) {
    out << fmt::format("  weekly digest  {}   (again: {} --config {} digest)\n", digest_path, self,
                       cfg_path.string());
  }
  return exit_code;
}

}  // namespace crmh
