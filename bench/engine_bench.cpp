// engine_bench: what the safe-change engine's ledger costs (issue 3, "Benchmark").
//
// Builds a fresh contacts table of the requested size (the demo CRM generator for a seed of
// contacts, then copies of the seed appended server-side with INSERT … SELECT, ids renumbered),
// dirties first_name with surrounding spaces, and then measures in one process, on one session:
//
//   single   N change sets of one row through jobs::ApplyPlan (ledger on)  vs
//            the same N UPDATEs without the ledger, one transaction per row
//   batched  M change sets of K rows through jobs::ApplyPlan               vs
//            the same M×K UPDATEs without the ledger, K per transaction
//   restore  jobs::RestoreRun of the ledger runs above
//
// The change is what standardize's trim_whitespace does: first_name = trimmed value,
// modified_by = the system user, updated_at = now. The plain UPDATE is built exactly as the
// engine builds its own (jobs::ExecuteRowOp: same statement text, same SOCI binding, same
// BEGIN/COMMIT), so the difference is the ledger: per table and change set, one statement that
// locks the rows, compares them with the plan and copies the before-images; and, after the
// UPDATE, one that verifies the copies against the planned texts and writes the ledger rows with
// each row's after-image text (on MariaDB server-side prepared statements, crm::Statements; the
// UPDATE itself goes through SOCI's text protocol on both sides).
//
// Fairness: the four workloads use interleaved ids (workload w takes ids 1 + w + 4j), so they
// touch the same pages of the table; plans (row text `expect`, new values) come from one batched
// read per workload before anything is timed; the measured time is ApplyPlan vs the plain loop
// only. The work is split into rounds; each round runs a slice of every workload, and the order
// of ledger/plain alternates per round, so background flushing, a growing ledger or a noisy
// neighbour weighs on both sides alike. Each round is its own run (run ids
// bench-…-single-R / -batched-R). Besides wall time it records CPU time (this process, and the
// MariaDB server process when it runs on this host), a cost that load on a shared machine
// disturbs much less; --profile adds a per-statement-kind breakdown.
//
// After applying, every touched row is checked (first_name trimmed); after restore, every
// restored row's text must equal its plan-time text exactly.
//
// Exit: 0 ok, 1 a step failed, 2 usage.
#include <fmt/format.h>
#include <soci/mysql/soci-mysql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <spdlog/spdlog.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/config.h"
#include "core/time_util.h"
#include "crm/db.h"
#include "crm/ledger.h"
#include "crm/state.h"
#include "daemon/demo_data.h"
#include "jobs/change.h"
#include "jobs/standardize.h"

namespace {

using namespace crmh;
using SteadyClock = std::chrono::steady_clock;

constexpr int kWorkloads = 4;  // ledger single, plain single, ledger batched, plain batched
enum Workload { kLedgerSingle = 0, kPlainSingle = 1, kLedgerBatched = 2, kPlainBatched = 3 };
const char* const kTable = "contacts";

void PrintUsage(std::FILE* out) {
  std::fputs(
      "usage: engine_bench (--mysql-socket PATH | --sqlite PATH) [options]\n"
      "\n"
      "  --mysql-socket PATH  MariaDB/MySQL unix socket; connects as root, creates a new database\n"
      "                       crmh_bench_<pid>_<time> (dropped at the end unless --keep)\n"
      "  --sqlite PATH        SQLite file to create (must not exist; removed unless --keep)\n"
      "                       Both may be given: the same sizes run on each in turn.\n"
      "  --contacts N         contacts in the table (default 1000000)\n"
      "  --seed-contacts N    contacts made by the demo generator before multiplying\n"
      "                       server-side (default 20000, at most --contacts)\n"
      "  --single N           single-row change sets (default 100000)\n"
      "  --batched MxK        M change sets of K rows (default 1000x100)\n"
      "  --rounds R           slices; each round runs a slice of every workload, alternating\n"
      "                       which of ledger/plain goes first (default 10)\n"
      "  --keep               keep the database / file afterwards\n"
      "  --profile            also time every SQL statement the session sends (client-observed:\n"
      "                       from its start to the next statement's start) and print where\n"
      "                       each workload's time goes, by statement kind (adds a few us each)\n"
      "  --help               this text\n"
      "\n"
      "Each workload takes every 4th id, so --contacts must be >= 4 x max(N, M x K).\n"
      "Prints a human summary and Markdown table rows for docs/benchmarks.md.\n",
      out);
}

struct Options {
  std::string mysql_socket;
  std::string sqlite_path;
  long long contacts = 1'000'000;
  long long seed_contacts = 20'000;
  long long single = 100'000;
  long long batches = 1'000;
  long long batch_rows = 100;
  long long rounds = 10;
  bool keep = false;
  bool profile = false;
};

std::optional<long long> ParseCount(const std::string& s) {
  if (s.empty() || s.size() > 12) return std::nullopt;
  long long v = 0;
  for (char c : s) {
    if (c == '_' || c == ',') continue;
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// nullopt = usage error (already reported).
std::optional<Options> ParseArgs(int argc, char** argv) {
  Options o;
  auto fail = [](const std::string& msg) -> std::optional<Options> {
    std::fprintf(stderr, "engine_bench: %s\n\n", msg.c_str());
    PrintUsage(stderr);
    return std::nullopt;
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], v;
    if (a == "--help" || a == "-h") {
      PrintUsage(stdout);
      std::exit(0);
    }
    if (a == "--keep") {
      o.keep = true;
      continue;
    }
    if (a == "--profile") {
      o.profile = true;
      continue;
    }
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (a.rfind("--", 0) == 0) {
      static const char* const kValued[] = {"--mysql-socket", "--sqlite", "--contacts",
                                            "--seed-contacts", "--single", "--batched", "--rounds"};
      if (std::find(std::begin(kValued), std::end(kValued), a) == std::end(kValued)) {
        return fail("unknown option " + a);
      }
      if (i + 1 >= argc) return fail(a + " needs a value");
      v = argv[++i];
    } else {
      return fail("unexpected argument '" + a + "'");
    }
    auto count = [&](long long& into, long long min) -> bool {
      auto n = ParseCount(v);
      if (!n || *n < min) return false;
      into = *n;
      return true;
    };
    if (a == "--mysql-socket") {
      if (v.empty()) return fail("--mysql-socket needs a path");
      o.mysql_socket = v;
    } else if (a == "--sqlite") {
      if (v.empty()) return fail("--sqlite needs a path");
      o.sqlite_path = v;
    } else if (a == "--contacts") {
      if (!count(o.contacts, 1) || o.contacts > 100'000'000) return fail("bad --contacts '" + v + "'");
    } else if (a == "--seed-contacts") {
      if (!count(o.seed_contacts, 1) || o.seed_contacts > 2'000'000) {
        return fail("bad --seed-contacts '" + v + "' (1 .. 2000000)");
      }
    } else if (a == "--single") {
      if (!count(o.single, 1)) return fail("bad --single '" + v + "'");
    } else if (a == "--batched") {
      auto x = v.find_first_of("xX");
      auto m = x == std::string::npos ? std::nullopt : ParseCount(v.substr(0, x));
      auto k = x == std::string::npos ? std::nullopt : ParseCount(v.substr(x + 1));
      if (!m || !k || *m < 1 || *k < 1) return fail("bad --batched '" + v + "' (want MxK, e.g. 1000x100)");
      o.batches = *m;
      o.batch_rows = *k;
    } else if (a == "--rounds") {
      if (!count(o.rounds, 1)) return fail("bad --rounds '" + v + "'");
    } else {
      return fail("unknown option " + a);
    }
  }
  if (o.mysql_socket.empty() && o.sqlite_path.empty()) return fail("give --mysql-socket or --sqlite");
  o.seed_contacts = std::min(o.seed_contacts, o.contacts);
  long long need = kWorkloads * std::max(o.single, o.batches * o.batch_rows);
  if (need > o.contacts) {
    return fail(fmt::format("--contacts {} is too small: the workloads need {} (4 x max(single, M x K))",
                            o.contacts, need));
  }
  o.rounds = std::min({o.rounds, o.single, o.batches});
  return o;
}

double Secs(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string Machine() {
  utsname u{};
  ::uname(&u);
  return fmt::format("{}, {} cores", u.machine, std::thread::hardware_concurrency());
}

std::string Today() {
  std::time_t t = std::time(nullptr);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&t));
  return buf;
}

std::string Thousands(long long v) {
  std::string s = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return (v < 0 ? "-" : "") + out;
}

template <class T>
T Must(Result<T> r, const std::string& what) {
  if (!r) throw std::runtime_error(what + ": " + r.error().message);
  return std::move(*r);
}
void Must(const Status& st, const std::string& what) {
  if (!st) throw std::runtime_error(what + ": " + st.error().message);
}

// --- the same transaction statements the engine uses (jobs/change.cpp) ---
void Begin(crm::Db& db) { db.sql() << (db.mysql() ? "START TRANSACTION" : "BEGIN IMMEDIATE"); }
void Commit(crm::Db& db) { db.sql() << "COMMIT"; }

// The baseline: exactly the engine's own UPDATE for a RowOp, without check, backup or ledger.
void PlainUpdate(crm::Db& db, const jobs::RowOp& op) { jobs::ExecuteRowOp(db, op); }

// --- --profile: where the time goes, by statement kind ---------------------------------------

// "SELECT contacts FOR UPDATE [28 cols]", "INSERT crmh_bk_contacts <- contacts", "COMMIT": the
// statement's verb, the tables it names, and how many columns it quotes into row text.
std::string Label(const std::string& q) {
  auto upper = [](std::string w) {
    for (char& c : w) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return w;
  };
  std::vector<std::string> words;
  std::string w;
  for (char c : q) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '`' || c == '"' || c == '.') {
      w += c;
    } else {
      if (!w.empty()) words.push_back(w);
      w.clear();
    }
  }
  if (!w.empty()) words.push_back(w);
  if (words.empty()) return "?";
  std::string verb = upper(words[0]);
  if (verb == "START" || verb == "BEGIN") return "BEGIN";
  std::string out = verb;
  std::string sep = " ";
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    std::string k = upper(words[i]);
    if ((k == "FROM" || k == "INTO" || k == "JOIN" || (k == "UPDATE" && i == 0))) {
      std::string t = words[i + 1];
      t.erase(std::remove_if(t.begin(), t.end(), [](char c) { return c == '`' || c == '"'; }),
              t.end());
      if (upper(t) == "SELECT") continue;
      out += sep + t;
      sep = verb == "INSERT" ? " <- " : " + ";
    }
  }
  const std::string uq = upper(q);
  size_t quotes = 0;
  for (size_t pos = 0; (pos = uq.find("QUOTE(", pos)) != std::string::npos; ++pos) ++quotes;
  if (uq.find("FOR UPDATE") != std::string::npos) out += " FOR UPDATE";
  if (quotes > 0) out += fmt::format(" [row text, {} col{}]", quotes, quotes == 1 ? "" : "s");
  return out;
}

struct Profile {
  struct Cell {
    long long n = 0;
    double secs = 0;
  };
  bool on = false;
  std::string bucket;
  std::string* in_flight = nullptr;  // label of the statement running now
  SteadyClock::time_point since;
  std::map<std::string, std::map<std::string, Cell>> cells;  // bucket → label → cell
  std::map<std::string, double> bucket_secs;
  std::map<std::string, long long> bucket_rows;
  std::unordered_map<std::string, std::string> labels;  // query text → label
  SteadyClock::time_point bucket_start;

  void Query(const std::string& q) {
    if (!on) return;
    auto now = SteadyClock::now();
    Close(now);
    auto it = labels.find(q);
    if (it == labels.end()) it = labels.emplace(q, Label(q)).first;
    in_flight = &it->second;
    cells[bucket][*in_flight].n += 1;
    since = now;
  }
  void Close(SteadyClock::time_point now) {
    if (in_flight) cells[bucket][*in_flight].secs += Secs(now - since);
    in_flight = nullptr;
  }
  void Begin(const std::string& b) {
    bucket = b;
    on = true;
    bucket_start = SteadyClock::now();
  }
  void End(long long rows) {
    auto now = SteadyClock::now();
    Close(now);
    bucket_secs[bucket] += Secs(now - bucket_start);
    bucket_rows[bucket] += rows;
    on = false;
  }
};

class ProfileLogger final : public soci::logger_impl {
 public:
  explicit ProfileLogger(Profile* p) : p_(p) {}
  void start_query(std::string const& query) override { p_->Query(query); }

 private:
  logger_impl* do_clone() const override { return new ProfileLogger(p_); }
  Profile* p_;
};

void PrintProfile(const Profile& p) {
  std::printf("\nprofile (client-observed: each statement from its start to the next one's start):\n");
  for (const auto& [bucket, labels] : p.cells) {
    double total = p.bucket_secs.at(bucket);
    long long rows = p.bucket_rows.at(bucket);
    std::printf("  %s: %.2f s, %lld rows, %.0f us/row\n", bucket.c_str(), total, rows,
                1e6 * total / static_cast<double>(rows));
    std::vector<std::pair<std::string, Profile::Cell>> v(labels.begin(), labels.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second.secs > b.second.secs; });
    double sum = 0;
    for (const auto& [label, c] : v) {
      sum += c.secs;
      std::printf("    %5.1f%%  %9lld x %7.1f us = %7.0f us/row  %s\n", 100 * c.secs / total, c.n,
                  1e6 * c.secs / static_cast<double>(c.n), 1e6 * c.secs / static_cast<double>(rows),
                  label.c_str());
    }
    std::printf("    %5.1f%%  outside statements (client work before the first one)\n",
                100 * (total - sum) / total);
  }
}

// One planned row: what the plan saw and what it writes.
struct Planned {
  long long id = 0;
  std::string expect;
  std::string first_name;
};

std::string WorkloadWhere(int w, long long n) {
  return fmt::format("id BETWEEN 1 AND {} AND (id - 1) % {} = {}", kWorkloads * n, kWorkloads, w);
}

// One batched read: the rows of workload `w` (its first n ids), in id order.
std::vector<Planned> ReadWorkload(crm::Db& db, const std::vector<std::string>& cols, int w,
                                  long long n) {
  std::vector<Planned> out;
  out.reserve(static_cast<size_t>(n));
  Must(crm::Guard("reading the plan", [&] {
         soci::rowset<soci::row> rs = db.sql().prepare << fmt::format(
             "SELECT id, {}, first_name FROM {} WHERE {} ORDER BY id",
             crm::RowTextExpr(db, cols, ""), db.Q(kTable), WorkloadWhere(w, n));
         for (const auto& r : rs) {
           out.push_back({crm::CellInt(r, 0), crm::CellText(r, 1), crm::CellText(r, 2)});
         }
       }),
       "planning");
  if (static_cast<long long>(out.size()) != n) {
    throw std::runtime_error(fmt::format("workload {} expected {} rows, read {}", w, n, out.size()));
  }
  return out;
}

struct Bench {
  Options opt;
  Backend backend;
  std::unique_ptr<crm::Db> db;
  std::string name;  // mysql database / sqlite file
  std::string system_user;
  std::string now;
  std::vector<std::string> cols;
  std::string setup_note;
  Profile* profile = nullptr;  // --profile
  int server_pid = 0;          // MariaDB on this host: for its CPU time

  jobs::RowOp Op(const Planned& p) const {
    jobs::RowOp op;
    op.kind = jobs::OpKind::kUpdate;
    op.table = kTable;
    op.id_column = "id";
    op.id = std::to_string(p.id);
    std::string after = jobs::TrimWhitespace(p.first_name);
    op.set = {{"first_name", after}, {"modified_by", system_user}, {"updated_at", now}};
    op.expect = p.expect;
    op.note = fmt::format("trim_whitespace(first_name) '{}' → '{}'", p.first_name, after);
    return op;
  }
};

// --- setup -------------------------------------------------------------------------------------

void Exec(crm::Db& db, const std::string& sql) {
  Must(crm::Guard(sql.substr(0, 60), [&] { db.sql() << sql; }), "setup");
}

long long Scalar(crm::Db& db, const std::string& sql) {
  long long v = 0;
  Must(crm::Guard(sql.substr(0, 60), [&] { db.sql() << sql, soci::into(v); }), "query");
  return v;
}

void Setup(Bench& b) {
  const Options& o = b.opt;
  DatabaseConfig dc;
  StateConfig sc;  // state tables in the CRM database itself, prefix crmh_
  sc.directory = std::filesystem::temp_directory_path().string();
  dc.backend = b.backend;
  if (b.backend == Backend::kMysql) {
    b.name = fmt::format("crmh_bench_{}_{}", ::getpid(), std::time(nullptr));
    soci::session s(soci::mysql, "unix_socket=" + o.mysql_socket + " user=root charset=utf8mb4");
    s << "CREATE DATABASE `" + b.name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci";
    dc.socket = o.mysql_socket;
    dc.user = "root";
    dc.name = b.name;
  } else {
    b.name = o.sqlite_path;
    if (std::filesystem::exists(b.name)) {
      throw std::runtime_error(b.name + " exists: give a new file (engine_bench creates it)");
    }
    soci::session s(soci::sqlite3, "db=" + b.name);  // creates the file
    dc.path = b.name;
  }
  b.db = Must(crm::Open(dc, sc), "opening the database");
  crm::Db& db = *b.db;

  auto t0 = SteadyClock::now();
  demo::DemoDataOptions dopt;
  dopt.contacts = static_cast<int>(o.seed_contacts);
  auto made = Must(demo::CreateDemoCrm(db.sql(), db.mysql() ? "mysql" : "sqlite", dopt),
                   "generating the demo CRM");
  b.system_user = made.system_user_id;
  auto t1 = SteadyClock::now();
  std::fprintf(stderr, "demo CRM: %s contacts generated in %.1f s\n",
               Thousands(made.contacts).c_str(), Secs(t1 - t0));
  long long have = Scalar(db, "SELECT COUNT(*) FROM contacts");
  if (have != o.seed_contacts || Scalar(db, "SELECT MAX(id) FROM contacts") != have) {
    throw std::runtime_error("the demo contacts are not ids 1..N");
  }

  // Multiply server-side: copy the seed rows (ids 1..S) into ids off+1..off+S, off = S, 2S, …
  // From a copy of the seed, so no statement reads the table it writes (MariaDB would need an
  // implicit temporary table for that).
  b.cols = Must(crm::OrderedColumns(db, kTable), "reading the columns");
  std::string list, select;
  for (const auto& c : b.cols) {
    list += (list.empty() ? "" : ", ") + db.Q(c);
    select += (select.empty() ? "" : ", ") + (c == "id" ? std::string("id + {off}") : db.Q(c));
  }
  const long long chunk = 100'000;
  Exec(db, "CREATE TABLE bench_seed AS SELECT * FROM contacts");
  if (!db.mysql()) Exec(db, "BEGIN");
  long long cur = have;
  while (cur < o.contacts) {
    long long n = std::min(have, o.contacts - cur);
    Exec(db, fmt::format(fmt::runtime("INSERT INTO contacts (" + list + ") SELECT " + select +
                                      " FROM bench_seed WHERE id <= {n}"),
                         fmt::arg("off", cur), fmt::arg("n", n)));
    cur += n;
  }
  if (!db.mysql()) Exec(db, "COMMIT");
  Exec(db, "DROP TABLE bench_seed");
  auto t2 = SteadyClock::now();
  std::fprintf(stderr, "multiplied to %s contacts in %.1f s\n", Thousands(cur).c_str(),
               Secs(t2 - t1));

  // Dirty first_name on every id a workload will touch: what trim_whitespace then fixes.
  long long max_id = kWorkloads * std::max(o.single, o.batches * o.batch_rows);
  std::string dirty = db.mysql() ? "CONCAT('  ', COALESCE(first_name, 'Ann'), ' ')"
                                 : "'  ' || COALESCE(first_name, 'Ann') || ' '";
  if (!db.mysql()) Exec(db, "BEGIN");
  for (long long lo = 1; lo <= max_id; lo += chunk) {
    Exec(db, fmt::format("UPDATE contacts SET first_name = {} WHERE id BETWEEN {} AND {}", dirty,
                         lo, std::min(max_id, lo + chunk - 1)));
  }
  if (!db.mysql()) Exec(db, "COMMIT");
  Must(crm::Migrate(db), "creating the state tables");
  Must(crm::EnsureShadow(db, kTable), "creating the shadow table");
  if (db.mysql()) {
    Exec(db, "ANALYZE TABLE contacts");
  } else {
    Exec(db, "ANALYZE");
    Exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
  }
  auto t3 = SteadyClock::now();
  std::fprintf(stderr, "dirtied %s rows, state tables ready in %.1f s\n",
               Thousands(max_id).c_str(), Secs(t3 - t2));

  if (db.mysql()) {
    std::string version;
    long long pool = 0, flush = 0;
    db.sql() << "SELECT VERSION()", soci::into(version);
    db.sql() << "SELECT @@innodb_buffer_pool_size", soci::into(pool);
    db.sql() << "SELECT @@innodb_flush_log_at_trx_commit", soci::into(flush);
    std::string pid_file;
    db.sql() << "SELECT @@pid_file", soci::into(pid_file);
    if (std::FILE* f = std::fopen(pid_file.c_str(), "r")) {
      if (std::fscanf(f, "%d", &b.server_pid) != 1) b.server_pid = 0;
      std::fclose(f);
    }
    if (b.server_pid > 0 && !std::filesystem::exists(fmt::format("/proc/{}/stat", b.server_pid))) {
      b.server_pid = 0;
    }
    b.setup_note = fmt::format("MariaDB {}, unix socket, innodb_buffer_pool_size={} MiB, "
                               "innodb_flush_log_at_trx_commit={}",
                               version, pool >> 20, flush);
  } else {
    std::string mode, version;
    long long sync = 0;
    db.sql() << "PRAGMA journal_mode", soci::into(mode);
    db.sql() << "PRAGMA synchronous", soci::into(sync);
    db.sql() << "SELECT sqlite_version()", soci::into(version);
    b.setup_note = fmt::format("SQLite {}, journal_mode={}, synchronous={}", version, mode, sync);
  }
  b.now = FormatSqlTime(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
}

// --- measurement -------------------------------------------------------------------------------

// CPU seconds of this process and (MariaDB on this host) of the server process, all threads:
// a second, load-independent view of the cost (wall time on a shared machine is noisy).
struct Cpu {
  double client = 0, server = 0;
};
Cpu SampleCpu(int server_pid) {
  Cpu c;
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  c.client = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  if (server_pid > 0) {
    std::FILE* f = std::fopen(fmt::format("/proc/{}/stat", server_pid).c_str(), "r");
    if (f) {
      char buf[1024] = {};
      size_t n = std::fread(buf, 1, sizeof buf - 1, f);
      std::fclose(f);
      std::string stat(buf, n);
      // Fields after the ")" closing the command name: state is field 3; utime, stime 14, 15.
      auto close = stat.rfind(')');
      if (close != std::string::npos) {
        std::vector<std::string> fields;
        std::string cur;
        for (char ch : stat.substr(close + 2)) {
          if (ch == ' ') {
            fields.push_back(cur);
            cur.clear();
          } else {
            cur += ch;
          }
        }
        if (fields.size() > 12) {
          double tck = static_cast<double>(::sysconf(_SC_CLK_TCK));
          c.server = (std::stod(fields[11]) + std::stod(fields[12])) / tck;
        }
      }
    }
  }
  return c;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

struct Totals {
  double secs[kWorkloads] = {0, 0, 0, 0};
  long long rows[kWorkloads] = {0, 0, 0, 0};
  Cpu cpu[kWorkloads];
  std::vector<double> round_ratio[2];  // per round: ledger ÷ plain time (single, batched)
  double load_before = 0, load_after = 0;
  double restore_secs[2] = {0, 0};  // single, batched
  long long restore_rows[2] = {0, 0};
  double setup_secs = 0;
};

// Ledger: `sets` change sets of the planned rows [from, to), `per` rows each.
double ApplyLedger(Bench& b, const char* bucket, const std::string& run_id,
                   const std::vector<Planned>& rows, size_t from, size_t to, size_t per) {
  std::vector<jobs::ChangeSet> plan;
  for (size_t i = from; i < to; i += per) {
    jobs::ChangeSet cs;
    for (size_t k = i; k < std::min(to, i + per); ++k) cs.ops.push_back(b.Op(rows[k]));
    cs.label = fmt::format("contacts {}..{} ({} rows)", cs.ops.front().id, cs.ops.back().id,
                           cs.ops.size());
    plan.push_back(std::move(cs));
  }
  if (b.profile) b.profile->Begin(bucket);
  auto t0 = SteadyClock::now();
  auto stats = jobs::ApplyPlan(*b.db, run_id, plan, nullptr, nullptr);
  auto t1 = SteadyClock::now();
  if (b.profile) b.profile->End(static_cast<long long>(to - from));
  if (!stats) throw std::runtime_error("ApplyPlan " + run_id + ": " + stats.error().message);
  if (stats->rows_changed != static_cast<long long>(to - from) || stats->changed_since_plan != 0) {
    throw std::runtime_error(fmt::format("ApplyPlan {}: {} rows changed, {} sets changed since "
                                         "plan (expected {} rows, 0)",
                                         run_id, stats->rows_changed, stats->changed_since_plan,
                                         to - from));
  }
  return Secs(t1 - t0);
}

// Plain: the same UPDATEs, `per` rows per transaction, no ledger.
double ApplyPlain(Bench& b, const char* bucket, const std::vector<Planned>& rows, size_t from,
                  size_t to, size_t per) {
  std::vector<jobs::RowOp> ops;
  ops.reserve(to - from);
  for (size_t k = from; k < to; ++k) ops.push_back(b.Op(rows[k]));
  crm::Db& db = *b.db;
  if (b.profile) b.profile->Begin(bucket);
  auto t0 = SteadyClock::now();
  Must(crm::Guard("plain updates", [&] {
         for (size_t i = 0; i < ops.size(); i += per) {
           Begin(db);
           for (size_t k = i; k < std::min(ops.size(), i + per); ++k) PlainUpdate(db, ops[k]);
           Commit(db);
         }
       }),
       "plain updates");
  double secs = Secs(SteadyClock::now() - t0);
  if (b.profile) b.profile->End(static_cast<long long>(to - from));
  return secs;
}

// Every row of workload w: first_name trimmed (after apply) / text equal to the plan (after
// restore).
void CheckApplied(Bench& b, int w, const std::vector<Planned>& rows) {
  auto now = ReadWorkload(*b.db, b.cols, w, static_cast<long long>(rows.size()));
  for (size_t i = 0; i < rows.size(); ++i) {
    if (now[i].first_name != jobs::TrimWhitespace(rows[i].first_name)) {
      throw std::runtime_error(fmt::format("workload {}: contact {} first_name '{}' not applied", w,
                                           rows[i].id, now[i].first_name));
    }
  }
}
void CheckRestored(Bench& b, int w, const std::vector<Planned>& rows) {
  auto now = ReadWorkload(*b.db, b.cols, w, static_cast<long long>(rows.size()));
  for (size_t i = 0; i < rows.size(); ++i) {
    if (now[i].expect != rows[i].expect) {
      throw std::runtime_error(fmt::format("workload {}: contact {} not restored exactly:\n  now  "
                                           "{}\n  want {}",
                                           w, rows[i].id, now[i].expect, rows[i].expect));
    }
  }
}

Totals Measure(Bench& b) {
  const Options& o = b.opt;
  Totals t;
  crm::Db& db = *b.db;
  const long long n[kWorkloads] = {o.single, o.single, o.batches * o.batch_rows,
                                   o.batches * o.batch_rows};
  std::vector<Planned> rows[kWorkloads];
  auto p0 = SteadyClock::now();
  for (int w = 0; w < kWorkloads; ++w) rows[w] = ReadWorkload(db, b.cols, w, n[w]);
  std::fprintf(stderr, "plans read (4 batched reads, %s rows) in %.1f s\n",
               Thousands(n[0] + n[1] + n[2] + n[3]).c_str(), Secs(SteadyClock::now() - p0));

  std::string tag = fmt::format("bench-{}", std::time(nullptr));
  double load[3] = {0, 0, 0};
  if (::getloadavg(load, 3) > 0) t.load_before = load[0];
  std::vector<std::string> runs_single, runs_batched;
  const auto R = static_cast<size_t>(o.rounds);
  const auto S = static_cast<size_t>(o.single), M = static_cast<size_t>(o.batches),
             K = static_cast<size_t>(o.batch_rows);
  for (size_t r = 0; r < R; ++r) {
    // This round's slice: single sets [s0, s1), batched sets [m0, m1).
    size_t s0 = S * r / R, s1 = S * (r + 1) / R, m0 = M * r / R, m1 = M * (r + 1) / R;
    std::string rs = fmt::format("{}-single-{}", tag, r + 1), rb = fmt::format("{}-batched-{}", tag, r + 1);
    runs_single.push_back(rs);
    runs_batched.push_back(rb);
    double d[kWorkloads] = {0, 0, 0, 0};
    auto timed = [&](int w, const auto& fn) {
      Cpu c0 = SampleCpu(b.server_pid);
      d[w] = fn();
      Cpu c1 = SampleCpu(b.server_pid);
      t.cpu[w].client += c1.client - c0.client;
      t.cpu[w].server += c1.server - c0.server;
    };
    bool ledger_first = r % 2 == 0;
    for (int step = 0; step < 2; ++step) {
      if ((step == 0) == ledger_first) {
        timed(kLedgerSingle, [&] {
          return ApplyLedger(b, "ledger single", rs, rows[kLedgerSingle], s0, s1, 1);
        });
        timed(kLedgerBatched, [&] {
          return ApplyLedger(b, "ledger batched", rb, rows[kLedgerBatched], m0 * K, m1 * K, K);
        });
      } else {
        timed(kPlainSingle, [&] {
          return ApplyPlain(b, "plain single", rows[kPlainSingle], s0, s1, 1);
        });
        timed(kPlainBatched, [&] {
          return ApplyPlain(b, "plain batched", rows[kPlainBatched], m0 * K, m1 * K, K);
        });
      }
    }
    t.round_ratio[0].push_back(d[kLedgerSingle] / d[kPlainSingle]);
    t.round_ratio[1].push_back(d[kLedgerBatched] / d[kPlainBatched]);
    long long rs_rows = static_cast<long long>(s1 - s0), rb_rows = static_cast<long long>((m1 - m0) * K);
    t.secs[kLedgerSingle] += d[kLedgerSingle];
    t.secs[kPlainSingle] += d[kPlainSingle];
    t.secs[kLedgerBatched] += d[kLedgerBatched];
    t.secs[kPlainBatched] += d[kPlainBatched];
    t.rows[kLedgerSingle] += rs_rows;
    t.rows[kPlainSingle] += rs_rows;
    t.rows[kLedgerBatched] += rb_rows;
    t.rows[kPlainBatched] += rb_rows;
    std::fprintf(stderr,
                 "round %zu/%zu (%s first): single %lld rows ledger %.2f s / plain %.2f s (%.2fx); "
                 "batched %lld rows ledger %.2f s / plain %.2f s (%.2fx)\n",
                 r + 1, R, ledger_first ? "ledger" : "plain", rs_rows, d[kLedgerSingle],
                 d[kPlainSingle], d[kLedgerSingle] / d[kPlainSingle], rb_rows, d[kLedgerBatched],
                 d[kPlainBatched], d[kLedgerBatched] / d[kPlainBatched]);
  }
  if (::getloadavg(load, 3) > 0) t.load_after = load[0];
  for (int w = 0; w < kWorkloads; ++w) CheckApplied(b, w, rows[w]);
  std::fprintf(stderr, "all %s updated rows checked\n",
               Thousands(t.rows[0] + t.rows[1] + t.rows[2] + t.rows[3]).c_str());

  // Restore, newest run first.
  auto restore = [&](const std::vector<std::string>& runs, int slot, long long want) {
    for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
      if (b.profile) b.profile->Begin(slot == 0 ? "restore single" : "restore batched");
      auto t0 = SteadyClock::now();
      auto res = jobs::RestoreRun(db, *it, {});
      t.restore_secs[slot] += Secs(SteadyClock::now() - t0);
      if (!res) throw std::runtime_error("RestoreRun " + *it + ": " + res.error().message);
      if (b.profile) b.profile->End(res->rows_restored);
      if (!res->conflicts.empty()) throw std::runtime_error("RestoreRun " + *it + ": conflicts");
      t.restore_rows[slot] += res->rows_restored;
    }
    if (t.restore_rows[slot] != want) {
      throw std::runtime_error(fmt::format("restored {} rows, expected {}", t.restore_rows[slot], want));
    }
  };
  restore(runs_batched, 1, t.rows[kLedgerBatched]);
  std::fprintf(stderr, "restored %s batched rows in %.1f s\n",
               Thousands(t.restore_rows[1]).c_str(), t.restore_secs[1]);
  restore(runs_single, 0, t.rows[kLedgerSingle]);
  std::fprintf(stderr, "restored %s single rows in %.1f s\n",
               Thousands(t.restore_rows[0]).c_str(), t.restore_secs[0]);
  CheckRestored(b, kLedgerSingle, rows[kLedgerSingle]);
  CheckRestored(b, kLedgerBatched, rows[kLedgerBatched]);
  std::fprintf(stderr, "all restored rows equal their plan-time text exactly\n");
  return t;
}

void Cleanup(Bench& b) {
  if (b.opt.keep) {
    std::fprintf(stderr, "kept %s %s\n", b.backend == Backend::kMysql ? "database" : "file",
                 b.name.c_str());
    return;
  }
  try {
    if (b.backend == Backend::kMysql) {
      if (!b.name.empty()) {
        b.db.reset();
        soci::session s(soci::mysql, "unix_socket=" + b.opt.mysql_socket + " user=root");
        s << "DROP DATABASE IF EXISTS `" + b.name + "`";
      }
    } else if (!b.name.empty() && b.db) {
      b.db.reset();
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(b.name + suffix);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cleanup failed: %s\n", e.what());
  }
}

std::string Rate(long long rows, double secs) {
  return secs > 0 ? Thousands(static_cast<long long>(rows / secs + 0.5)) : "-";
}

void Report(const Bench& b, const Totals& t) {
  const Options& o = b.opt;
  const bool my = b.backend == Backend::kMysql;
  const bool server_cpu = b.server_pid > 0;
  auto cpu_us = [&](int w) {
    return 1e6 * (t.cpu[w].client + t.cpu[w].server) / static_cast<double>(t.rows[w]);
  };
  double ov[2] = {t.secs[kLedgerSingle] / t.secs[kPlainSingle],
                  t.secs[kLedgerBatched] / t.secs[kPlainBatched]};
  double med[2] = {Median(t.round_ratio[0]), Median(t.round_ratio[1])};
  double cpu_ov[2] = {cpu_us(kLedgerSingle) / cpu_us(kPlainSingle),
                      cpu_us(kLedgerBatched) / cpu_us(kPlainBatched)};
  std::printf("\n== engine_bench: %s, %s contacts (%s) ==\n", my ? "MariaDB" : "SQLite",
              Thousands(o.contacts).c_str(), b.setup_note.c_str());
  std::printf("machine: %s, load average %.2f before / %.2f after the apply phases; %lld rounds, "
              "ledger/plain order alternating\n",
              Machine().c_str(), t.load_before, t.load_after, o.rounds);
  auto line = [&](const std::string& what, int w) {
    std::printf("  %-34s %9s rows in %8.2f s = %9s rows/s; CPU %6.0f us/row (client %.0f + %s %.0f)\n",
                what.c_str(), Thousands(t.rows[w]).c_str(), t.secs[w],
                Rate(t.rows[w], t.secs[w]).c_str(), cpu_us(w),
                1e6 * t.cpu[w].client / static_cast<double>(t.rows[w]),
                server_cpu ? "server" : "server n/a", 1e6 * t.cpu[w].server / static_cast<double>(t.rows[w]));
  };
  auto overhead = [&](int i) {
    std::printf("  ledger overhead: %.2fx the plain time (median of rounds %.2fx, min %.2fx, max "
                "%.2fx; CPU %.2fx) -- target <= 2x: %s\n",
                ov[i], med[i], *std::min_element(t.round_ratio[i].begin(), t.round_ratio[i].end()),
                *std::max_element(t.round_ratio[i].begin(), t.round_ratio[i].end()), cpu_ov[i],
                ov[i] <= 2.0 ? "met" : "NOT met");
  };
  std::printf("%s single-row change sets:\n", Thousands(o.single).c_str());
  line("ApplyPlan (ledger)", kLedgerSingle);
  line("plain UPDATE, 1 per transaction", kPlainSingle);
  overhead(0);
  std::printf("%s change sets of %lld rows:\n", Thousands(o.batches).c_str(), o.batch_rows);
  line("ApplyPlan (ledger)", kLedgerBatched);
  line(fmt::format("plain UPDATE, {} per transaction", o.batch_rows), kPlainBatched);
  overhead(1);
  std::printf("restore (RestoreRun):\n");
  std::printf("  %-34s %9s rows in %8.2f s = %9s rows/s\n", "single-row runs",
              Thousands(t.restore_rows[0]).c_str(), t.restore_secs[0],
              Rate(t.restore_rows[0], t.restore_secs[0]).c_str());
  std::printf("  %-34s %9s rows in %8.2f s = %9s rows/s\n", "batched runs",
              Thousands(t.restore_rows[1]).c_str(), t.restore_secs[1],
              Rate(t.restore_rows[1], t.restore_secs[1]).c_str());
  std::printf("setup (generate, multiply, dirty): %.1f s\n\n", t.setup_secs);

  std::printf("| date | backend | contacts | single sets | ledger rows/s | plain rows/s | overhead "
              "(median round; CPU) | batched sets | ledger rows/s | plain rows/s | overhead "
              "(median round; CPU) | restore rows/s (single / batched) | load |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::printf("| %s | %s | %s | %s | %s | %s | %.2f× (%.2f×; %.2f×) | %s×%lld | %s | %s | %.2f× "
              "(%.2f×; %.2f×) | %s / %s | %.1f–%.1f |\n",
              Today().c_str(), my ? "MariaDB" : "SQLite", Thousands(o.contacts).c_str(),
              Thousands(o.single).c_str(), Rate(t.rows[kLedgerSingle], t.secs[kLedgerSingle]).c_str(),
              Rate(t.rows[kPlainSingle], t.secs[kPlainSingle]).c_str(), ov[0], med[0], cpu_ov[0],
              Thousands(o.batches).c_str(), o.batch_rows,
              Rate(t.rows[kLedgerBatched], t.secs[kLedgerBatched]).c_str(),
              Rate(t.rows[kPlainBatched], t.secs[kPlainBatched]).c_str(), ov[1], med[1], cpu_ov[1],
              Rate(t.restore_rows[0], t.restore_secs[0]).c_str(),
              Rate(t.restore_rows[1], t.restore_secs[1]).c_str(),
              std::min(t.load_before, t.load_after), std::max(t.load_before, t.load_after));
  std::fflush(stdout);
}

int RunOne(const Options& o, Backend backend) {
  Bench b;
  b.opt = o;
  b.backend = backend;
  int rc = 0;
  try {
    auto t0 = SteadyClock::now();
    Setup(b);
    double setup = Secs(SteadyClock::now() - t0);
    Profile profile;
    if (o.profile) {
      b.profile = &profile;
      b.db->sql().set_logger(new ProfileLogger(&profile));
    }
    Totals t = Measure(b);
    t.setup_secs = setup;
    Report(b, t);
    if (o.profile) PrintProfile(profile);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "engine_bench (%s): %s\n", backend == Backend::kMysql ? "MariaDB" : "SQLite",
                 e.what());
    rc = 1;
  }
  Cleanup(b);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  auto opt = ParseArgs(argc, argv);
  if (!opt) return 2;
  spdlog::set_level(spdlog::level::warn);
  int rc = 0;
  if (!opt->mysql_socket.empty()) rc = std::max(rc, RunOne(*opt, Backend::kMysql));
  if (!opt->sqlite_path.empty()) rc = std::max(rc, RunOne(*opt, Backend::kSqlite));
  return rc;
}
