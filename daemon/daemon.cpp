#include "daemon/daemon.h"

#include <utility>  // before asio (GCC 12 + awaitable.hpp)

#include <boost/asio.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "crm/db.h"
#include "crm/schema.h"
#include "crm/state.h"
#include "crm/lock_safety.h"
#include "daemon/digest_pages.h"
#include "daemon/http.h"
#include "daemon/metrics.h"
#include "daemon/notify.h"
#include "daemon/scheduler.h"
#include "jobs/job.h"

namespace crmh {
namespace {

namespace asio = boost::asio;
using std::chrono::seconds;

struct JobState {
  JobConfig cfg;
  std::optional<calendar::Schedule> spec;
  std::unique_ptr<asio::system_timer> timer;
  std::optional<sched::Slot> next;
  bool busy = false;
  bool removed = false;  // dropped by a reload while running
  std::optional<SysSeconds> queued;
};

class Daemon {
 public:
  Daemon(asio::io_context& io, std::string path, std::shared_ptr<const Config> cfg,
         const Clock& clock)
      : io_(io),
        path_(std::move(path)),
        cfg_(std::move(cfg)),
        clock_(clock),
        signals_(io, SIGTERM, SIGINT, SIGHUP),
        watchdog_(io),
        retry_(io),
        stop_deadline_(io),
        workers_(2),
        refresh_timer_(io),
        health_timer_(io) {}

  ~Daemon() {
    workers_.join();
    if (probe_) probe_->join();
  }

  void Start() {
    process_start_ = clock_.Now();
    if (!cfg_->http.listen.empty() && !StartHttp()) return;
    WaitSignal();
    if (auto ping = WatchdogPingInterval()) {
      watchdog_interval_ = *ping;
      spdlog::info("watchdog: pinging every {} ms", watchdog_interval_.count() / 1000);
      PingWatchdog();
    }
    start_began_ = clock_.Now();
    CheckDatabase();
  }

  int exit_code() const { return exit_code_; }

 private:
  // --- start-up: config is parsed; the DB must answer and match the mapping before READY ---
  void CheckDatabase() {
    auto cfg = cfg_;
    asio::post(workers_, [this, cfg] {
      auto result = StartupCheck(*cfg);
      asio::post(io_, [this, result = std::move(result)]() mutable { OnDatabaseChecked(std::move(result)); });
    });
  }

  struct StartInfo {
    std::map<std::string, std::optional<SysSeconds>> last_slots;
    size_t interrupted = 0;
  };

  Result<StartInfo> StartupCheck(const Config& cfg) {
    auto db = crm::Open(cfg.database, cfg.state);
    if (!db) return db.error();
    if (Status safe = crm::CheckLockSafety(**db, cfg.database, cfg.state); !safe) return safe.error();
    auto mapping = crm::VerifyMapping(**db, cfg.mapping);
    if (!mapping) return mapping.error();
    if (Status st = crm::Migrate(**db); !st) return st.error();
    StartInfo info;
    auto interrupted = crm::MarkInterrupted(**db, cfg.instance_id, clock_.Now());
    if (!interrupted) return interrupted.error();
    for (const auto& r : *interrupted) {
      spdlog::warn("[{}] run of job '{}' started {} was interrupted (the daemon died during it)",
                   r.run_id, r.job, FormatRfc3339(r.started_at));
    }
    info.interrupted = interrupted->size();
    for (const auto& j : cfg.jobs) {
      auto last = crm::LastClaimedSlot(**db, j.name);
      if (!last) return last.error();
      info.last_slots[j.name] = *last;
    }
    return info;
  }

  void OnDatabaseChecked(Result<StartInfo> result) {
    if (stopping_) return Finish();
    if (!result) {
      const Error& e = result.error();
      auto waited = clock_.Now() - start_began_;
      if (e.exit == Exit::kDbUnreachable && waited < cfg_->daemon.db_give_up) {
        spdlog::warn("{}; retrying in {}s", e.message, cfg_->daemon.db_retry.count());
        auto extend = std::chrono::duration_cast<std::chrono::microseconds>(
            cfg_->daemon.db_retry + cfg_->database.connect_timeout + seconds{15});
        Notify(fmt::format("EXTEND_TIMEOUT_USEC={}\nSTATUS=waiting for the database: {}",
                           extend.count(), e.message));
        retry_.expires_after(cfg_->daemon.db_retry);
        retry_.async_wait([this](boost::system::error_code ec) {
          if (!ec) CheckDatabase();
        });
        return;
      }
      spdlog::error("{}", e.message);
      exit_code_ = static_cast<int>(e.exit);
      Notify(fmt::format("STATUS=start-up failed: {}", e.message));
      return Finish();
    }
    last_slots_ = std::move(result.value().last_slots);
    spdlog::info("database ok; {} job(s) configured, instance '{}'", cfg_->jobs.size(),
                 cfg_->instance_id);
    ready_ = true;
    InstallJobs(/*startup=*/true);
    Notify("READY=1");
    UpdateStatus();
    if (http_) {
      RefreshMetrics();
      ArmMetricsRefresh();
    }
  }

  // --- timers ---
  void InstallJobs(bool startup) {
    std::map<std::string, std::unique_ptr<JobState>> next;
    for (const auto& j : cfg_->jobs) {
      auto st = std::make_unique<JobState>();
      auto old = jobs_.find(j.name);
      if (old != jobs_.end()) {
        old->second->timer->cancel();
        st->busy = old->second->busy;
        st->timer = std::move(old->second->timer);
        jobs_.erase(old);
      } else {
        st->timer = std::make_unique<asio::system_timer>(io_);
      }
      st->cfg = j;
      if (j.enabled && !j.schedule.empty()) {
        auto spec = calendar::Schedule::Parse(j.schedule);
        if (spec) st->spec = std::move(*spec);
      }
      next[j.name] = std::move(st);
    }
    for (auto& [name, st] : jobs_) {  // jobs the new config dropped
      st->timer->cancel();
      if (st->busy) {
        st->removed = true;
        retired_.push_back(std::move(st));
      }
    }
    jobs_ = std::move(next);
    SysSeconds now = clock_.Now();
    for (auto& [name, st] : jobs_) {
      if (!st->spec) continue;
      if (startup) {
        auto missed = sched::MissedSlot(st->cfg, *st->spec, last_slots_[name], now);
        if (missed) {
          spdlog::info("job '{}': slot {} was missed while the daemon was down; running it once now",
                       name, FormatRfc3339(*missed));
          st->next = sched::Slot{*missed, now};
          Arm(*st);
          continue;
        }
      }
      st->next = sched::NextSlot(st->cfg, *st->spec, cfg_->instance_id, now);
      Arm(*st);
    }
  }

  void Arm(JobState& st) {
    if (!st.next || stopping_) return;
    SysSeconds now = clock_.Now();
    // A capped wait: after a wall-clock step the reactor may wake late, so re-check.
    SysSeconds wake = std::min(st.next->fire_at, now + RecheckInterval());
    st.timer->expires_at(std::chrono::system_clock::time_point(wake));
    std::string name = st.cfg.name;
    st.timer->async_wait([this, name](boost::system::error_code ec) {
      if (ec) return;  // cancelled (reload/stop)
      auto it = jobs_.find(name);
      if (it != jobs_.end()) OnTimer(*it->second);
    });
  }

  void OnTimer(JobState& st) {
    SysSeconds now = clock_.Now();
    if (now < st.next->fire_at) return Arm(st);  // woke for the clock re-check
    sched::Slot fired = *st.next;
    auto d = sched::Decide(st.cfg, fired.slot, now, st.busy);
    switch (d) {
      case sched::FireDecision::kRun:
        Launch(st, fired.slot);
        break;
      case sched::FireDecision::kQueue:
        spdlog::info("job '{}': slot {} queued behind the running one", st.cfg.name,
                     FormatRfc3339(fired.slot));
        st.queued = fired.slot;
        break;
      default:
        RecordSkip(st.cfg, fired.slot, sched::ReasonFor(d));
    }
    // The next slot after the one that fired; if the loop was away for long (suspend), do not
    // replay the backlog — jump to the next slot after now.
    st.next = sched::NextSlot(st.cfg, *st.spec, cfg_->instance_id, fired.slot);
    if (st.next && st.next->fire_at + seconds{60} < now) {
      spdlog::warn("job '{}': the daemon was not running slots since {}; resuming from now",
                   st.cfg.name, FormatRfc3339(fired.slot));
      st.next = sched::NextSlot(st.cfg, *st.spec, cfg_->instance_id, now);
    }
    Arm(st);
    UpdateStatus();
  }

  void Launch(JobState& st, std::optional<SysSeconds> slot) {
    st.busy = true;
    ++running_;
    auto cfg = cfg_;
    JobConfig job = st.cfg;
    std::string run_id = crm::NewRunId(clock_.Now());
    spdlog::info("[{}] job '{}': starting (slot {})", run_id, job.name,
                 slot ? FormatRfc3339(*slot) : "manual");
    asio::post(workers_, [this, cfg, job, slot, run_id] {
      jobs::RunRequest req{cfg.get(), &job, slot, false, &clock_, &stop_requested_, run_id};
      jobs::RunReport rep = jobs::ExecuteRun(req, crm::MakeFactory(*cfg));
      asio::post(io_, [this, rep = std::move(rep)] { OnRunDone(rep); });
    });
  }

  void OnRunDone(const jobs::RunReport& rep) {
    --running_;
    auto level = rep.status == "ok" || rep.status == "skipped" ? spdlog::level::info
                                                                : spdlog::level::err;
    spdlog::log(level, "[{}] job '{}' {}{}: {} {}", rep.run_id, rep.job, rep.status,
                rep.reason.empty() ? "" : " (" + rep.reason + ")", rep.message, rep.counts.dump());
    JobState* st = nullptr;
    if (auto it = jobs_.find(rep.job); it != jobs_.end()) st = it->second.get();
    for (auto it = retired_.begin(); it != retired_.end(); ++it) {
      if ((*it)->cfg.name == rep.job && (*it)->busy) {
        retired_.erase(it);
        st = nullptr;
        break;
      }
    }
    if (st) {
      st->busy = false;
      if (st->queued && !stopping_) {
        auto slot = *st->queued;
        st->queued.reset();
        Launch(*st, slot);
      }
    }
    if (stopping_ && running_ == 0) return Finish();
    UpdateStatus();
    RefreshMetrics();
  }

  void RecordSkip(const JobConfig& job, SysSeconds slot, const std::string& reason) {
    spdlog::warn("job '{}': slot {} skipped ({})", job.name, FormatRfc3339(slot), reason);
    auto cfg = cfg_;
    SysSeconds now = clock_.Now();
    asio::post(workers_, [this, cfg, job, slot, reason, now] {
      auto db = crm::Open(cfg->database, cfg->state);
      if (!db) return spdlog::error("cannot journal the skip: {}", db.error().message);
      crm::RunRow row;
      row.run_id = crm::NewRunId(now);
      row.job = job.name;
      row.kind = job.kind;
      row.slot = slot;
      row.instance_id = cfg->instance_id;
      row.reason = reason;
      row.started_at = now;
      row.config_hash = cfg->hash;
      row.message = reason == "overlap" ? "the previous run was still going"
                                        : "the slot fired later than starting_deadline";
      if (Status s = crm::RecordSkip(**db, row); !s) spdlog::error("{}", s.error().message);
      asio::post(io_, [this] { RefreshMetrics(); });
    });
  }

  void UpdateStatus() {
    if (!ready_ || stopping_) return;
    const JobState* soonest = nullptr;
    for (const auto& [name, st] : jobs_) {
      if (st->next && (!soonest || st->next->fire_at < soonest->next->fire_at)) soonest = st.get();
    }
    std::string status =
        soonest ? fmt::format("next: {} at {}", soonest->cfg.name, FormatRfc3339(soonest->next->fire_at))
                : std::string("no scheduled jobs");
    if (running_ > 0) status += fmt::format("; {} running", running_);
    Notify("STATUS=" + status);
  }

  // --- signals ---
  void WaitSignal() {
    signals_.async_wait([this](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        Reload();
        WaitSignal();
      } else {
        spdlog::info("signal {}: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        Stop();
      }
    });
  }

  void Reload() {
    Notify("RELOADING=1");
    spdlog::info("SIGHUP: reloading {}", path_);
    auto loaded = LoadConfigFile(path_);
    if (!loaded) {
      spdlog::error("reload failed, keeping the running configuration: {}", loaded.error().message);
      Notify("READY=1\nSTATUS=reload failed; running the previous configuration");
      return;
    }
    auto fresh = std::make_shared<const Config>(std::move(*loaded));
    // Validate against the live schema on a worker before swapping.
    asio::post(workers_, [this, fresh] {
      Status ok = Status::Ok();
      auto db = crm::Open(fresh->database, fresh->state);
      if (!db) {
        ok = db.error();
      } else if (auto m = crm::VerifyMapping(**db, fresh->mapping); !m) {
        ok = m.error();
      }
      asio::post(io_, [this, fresh, ok] {
        if (!ok) {
          spdlog::error("reload failed, keeping the running configuration: {}", ok.error().message);
          Notify("READY=1\nSTATUS=reload failed; running the previous configuration");
          return;
        }
        if (stopping_) return;
        cfg_ = fresh;
        if (ready_) InstallJobs(/*startup=*/false);
        spdlog::info("configuration reloaded ({} job(s), hash {})", cfg_->jobs.size(), cfg_->hash);
        if (cfg_->http.listen != (http_ ? listening_ : std::string{})) {
          spdlog::warn("http.listen changed to '{}': it takes effect at the next restart",
                       cfg_->http.listen);
        }
        Notify("READY=1");
        UpdateStatus();
        RefreshMetrics();
      });
    });
  }

  void Stop() {
    if (stopping_) return;
    stopping_ = true;
    stop_requested_ = true;
    Notify("STOPPING=1");
    StopHttp();
    retry_.cancel();
    for (auto& [name, st] : jobs_) st->timer->cancel();
    if (running_ == 0) return Finish();
    spdlog::info("waiting up to {}s for {} running job(s) to reach a batch boundary",
                 cfg_->daemon.stop_timeout.count(), running_);
    stop_deadline_.expires_after(cfg_->daemon.stop_timeout);
    stop_deadline_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      spdlog::error("jobs did not stop within {}s; exiting (their open transactions roll back)",
                    cfg_->daemon.stop_timeout.count());
      spdlog::shutdown();
      std::_Exit(1);
    });
  }

  void Finish() {
    stopping_ = true;
    StopHttp();
    signals_.cancel();
    watchdog_.cancel();
    retry_.cancel();
    stop_deadline_.cancel();
    for (auto& [name, st] : jobs_) st->timer->cancel();
  }

  // --- HTTP (/metrics, /healthz): served from the loop; DB work on the probe thread ---
  //
  // The probe thread is separate from the job workers on purpose: two long jobs occupy both
  // workers, and a scrape or health check must still be answered.
  bool StartHttp() {
    const HttpConfig& h = cfg_->http;
    auto server = http::Server::Listen(io_, h.address, h.port);
    if (!server) {
      spdlog::error("{}", server.error().message);
      Notify(fmt::format("STATUS=start-up failed: {}", server.error().message));
      exit_code_ = static_cast<int>(server.error().exit);
      return false;
    }
    http_ = std::move(*server);
    probe_ = std::make_unique<asio::thread_pool>(1);
    http_->Route("/metrics", [this](http::Reply reply) { ServeMetrics(std::move(reply)); });
    http_->Route("/healthz", [this](http::Reply reply) { ServeHealth(std::move(reply)); });
    // The archived digests (daemon/digest_pages.h): one file read, on the probe thread.
    http_->RoutePrefix("/digest/", [this](const std::string& rest, http::Reply reply) {
      std::string dir = DigestArchiveDir(*cfg_);
      asio::post(*probe_, [this, dir = std::move(dir), rest, reply = std::move(reply)]() mutable {
        auto res = DigestPage(dir, rest);
        asio::post(io_, [reply = std::move(reply), res = std::move(res)]() mutable { reply(std::move(res)); });
      });
    });
    http_->Start();
    listening_ = h.listen;
    spdlog::info("http: serving /metrics, /healthz and /digest/ on {}",
                 h.address.find(':') != std::string::npos
                     ? fmt::format("[{}]:{}", h.address, http_->port())
                     : fmt::format("{}:{}", h.address, http_->port()));
    return true;
  }

  void StopHttp() {
    if (!http_) return;
    http_->Close();
    refresh_timer_.cancel();
    AnswerHealth(std::nullopt);
  }

  // Runs `fn` on the probe thread's own session, opened on first use and after any error.
  template <class T>
  Result<T> OnProbeDb(const std::shared_ptr<const Config>& cfg,
                      const std::function<Result<T>(crm::Db&)>& fn) {
    if (!probe_db_ || probe_cfg_ != cfg) {
      probe_db_.reset();
      auto db = crm::Open(cfg->database, cfg->state);
      if (!db) return db.error();
      probe_db_ = std::move(*db);
      probe_cfg_ = cfg;
    }
    auto r = fn(*probe_db_);
    if (!r) probe_db_.reset();
    return r;
  }

  // Re-reads the journal into the snapshot /metrics serves: after each run and skip, after a
  // reload, and every http.refresh (runs of other daemons and CLI commands show up then).
  void RefreshMetrics() {
    if (!http_ || !ready_ || stopping_) return;
    if (refreshing_) {
      refresh_again_ = true;
      return;
    }
    refreshing_ = true;
    auto cfg = cfg_;
    SysSeconds now = clock_.Now();
    asio::post(*probe_, [this, cfg, now] {
      auto snap = OnProbeDb<metrics::Snapshot>(
          cfg, [&](crm::Db& db) { return metrics::Read(db, *cfg, now); });
      asio::post(io_, [this, snap = std::move(snap)]() mutable { OnSnapshot(std::move(snap)); });
    });
  }

  void OnSnapshot(Result<metrics::Snapshot> snap) {
    refreshing_ = false;
    if (snap) {
      if (!database_up_ && snapshot_time_) spdlog::info("metrics: the state tables answer again");
      snapshot_ = std::move(*snap);
      snapshot_time_ = snapshot_.taken_at;
      database_up_ = true;
    } else {
      if (database_up_) spdlog::warn("metrics: {}", snap.error().message);
      database_up_ = false;
    }
    if (refresh_again_) {
      refresh_again_ = false;
      RefreshMetrics();
    }
  }

  void ArmMetricsRefresh() {
    if (stopping_) return;
    refresh_timer_.expires_after(cfg_->http.refresh);
    refresh_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      RefreshMetrics();
      ArmMetricsRefresh();
    });
  }

  void ServeMetrics(http::Reply reply) {
    std::map<std::string, metrics::Live> live;
    for (const auto& [name, st] : jobs_) {
      metrics::Live l;
      l.running = st->busy;
      if (st->next && st->spec) {
        l.next_run = st->next->fire_at;
        auto after = sched::NextSlot(st->cfg, *st->spec, cfg_->instance_id, st->next->slot);
        if (after) l.period_seconds = (after->slot - st->next->slot).count();
      }
      live[name] = l;
    }
    metrics::Process p{process_start_, database_up_, snapshot_time_};
    reply({200, "text/plain; version=0.0.4; charset=utf-8", metrics::Render(snapshot_, live, p)});
  }

  // 200 when the database answers a query and the scheduler is ready with no timer overdue;
  // 503 otherwise. Concurrent checks share one probe; a probe that hangs answers 503 after 5s.
  void ServeHealth(http::Reply reply) {
    if (stopping_) {
      reply({503, "application/json", R"({"status":"unavailable","scheduler":"stopping"})" "\n"});
      return;
    }
    health_waiters_.push_back(std::move(reply));
    if (health_waiters_.size() > 1) return;
    health_timer_.expires_after(seconds{5});
    health_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) AnswerHealth(std::nullopt);
    });
    auto cfg = cfg_;
    asio::post(*probe_, [this, cfg] {
      auto pinged = OnProbeDb<bool>(cfg, [](crm::Db& db) -> Result<bool> {
        Status st = crm::Guard("checking the database", [&] {
          int one = 0;
          db.sql() << "SELECT 1", soci::into(one);
        });
        if (!st) return st.error();
        return true;
      });
      asio::post(io_, [this, ok = pinged.ok()] { AnswerHealth(ok); });
    });
  }

  // `db`: the probe's answer; nullopt: it timed out (or we are stopping).
  void AnswerHealth(std::optional<bool> db) {
    if (health_waiters_.empty()) return;
    health_timer_.cancel();
    std::string database = !db ? (stopping_ ? "unknown" : "timeout") : (*db ? "ok" : "unreachable");
    std::string scheduler = "ok";
    if (stopping_) {
      scheduler = "stopping";
    } else if (!ready_) {
      scheduler = "starting";
    } else {
      SysSeconds now = clock_.Now();
      for (const auto& [name, st] : jobs_) {
        if (st->next && now > st->next->fire_at + cfg_->daemon.clock_recheck + seconds{60}) {
          scheduler = "stalled";  // a timer that should have fired long ago
        }
      }
    }
    bool healthy = database == "ok" && scheduler == "ok";
    nlohmann::json body = {{"status", healthy ? "ok" : "unavailable"},
                           {"database", database},
                           {"scheduler", scheduler},
                           {"jobs_running", running_}};
    http::Response res{healthy ? 200 : 503, "application/json", body.dump() + "\n"};
    auto waiters = std::move(health_waiters_);
    health_waiters_.clear();
    for (auto& w : waiters) w(res);
  }

  // With the watchdog on, its pings double as the wall-clock check (one wake-up serves both);
  // without it, each job timer caps its own wait.
  seconds RecheckInterval() const {
    if (watchdog_interval_.count() > 0) return seconds{24 * 3600};
    return cfg_->daemon.clock_recheck;
  }

  // A wall-clock step shows as system time moving differently from steady time between pings.
  void CheckClockStep() {
    auto sys_now = std::chrono::system_clock::now();
    auto steady_now = std::chrono::steady_clock::now();
    if (last_ping_steady_.time_since_epoch().count() != 0) {
      auto drift = (sys_now - last_ping_system_) - (steady_now - last_ping_steady_);
      if (std::chrono::abs(drift) > seconds{2} && ready_ && !stopping_) {
        spdlog::warn("the wall clock stepped by {}s; re-arming job timers",
                     std::chrono::duration_cast<seconds>(drift).count());
        for (auto& [name, st] : jobs_) {
          if (st->next) {
            st->timer->cancel();
            Arm(*st);
          }
        }
      }
    }
    last_ping_system_ = sys_now;
    last_ping_steady_ = steady_now;
  }

  void PingWatchdog() {
    Notify("WATCHDOG=1");
    CheckClockStep();
    watchdog_.expires_after(watchdog_interval_);
    watchdog_.async_wait([this](boost::system::error_code ec) {
      if (!ec) PingWatchdog();
    });
  }

  asio::io_context& io_;
  std::string path_;
  std::shared_ptr<const Config> cfg_;
  const Clock& clock_;
  asio::signal_set signals_;
  asio::steady_timer watchdog_;
  asio::steady_timer retry_;
  asio::steady_timer stop_deadline_;
  asio::thread_pool workers_;
  // HTTP: the loop-side state (only touched on the loop) and the probe thread's session.
  std::unique_ptr<http::Server> http_;
  std::string listening_;
  asio::steady_timer refresh_timer_;
  asio::steady_timer health_timer_;
  std::vector<http::Reply> health_waiters_;
  metrics::Snapshot snapshot_;
  std::optional<SysSeconds> snapshot_time_;
  SysSeconds process_start_{};
  bool database_up_ = false;
  bool refreshing_ = false;
  bool refresh_again_ = false;
  std::unique_ptr<crm::Db> probe_db_;            // probe thread only
  std::shared_ptr<const Config> probe_cfg_;      // probe thread only
  std::unique_ptr<asio::thread_pool> probe_;  // with http only; joined in ~Daemon
  std::chrono::microseconds watchdog_interval_{0};
  std::chrono::system_clock::time_point last_ping_system_{};
  std::chrono::steady_clock::time_point last_ping_steady_{};
  std::map<std::string, std::unique_ptr<JobState>> jobs_;
  std::vector<std::unique_ptr<JobState>> retired_;
  std::map<std::string, std::optional<SysSeconds>> last_slots_;
  std::atomic<bool> stop_requested_{false};
  SysSeconds start_began_{};
  int running_ = 0;
  bool ready_ = false;
  bool stopping_ = false;
  int exit_code_ = 0;
};

}  // namespace

int RunDaemon(const std::string& config_path, const Clock& clock) {
  auto cfg = LoadConfigFile(config_path);
  if (!cfg) {
    spdlog::error("{}", cfg.error().message);
    return static_cast<int>(cfg.error().exit);
  }
  asio::io_context io;
  Daemon d(io, config_path, std::make_shared<const Config>(std::move(*cfg)), clock);
  d.Start();
  io.run();
  return d.exit_code();
}

}  // namespace crmh
