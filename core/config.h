// The typed configuration: everything an admin writes in crm-hygiene.yaml, parsed in one place
// (core/config_yaml.cpp) and read by every layer. Plain structs, no behaviour, no globals:
// the daemon owns one `std::shared_ptr<const Config>` and swaps it atomically on SIGHUP.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/calendar.h"
#include "core/result.h"

namespace crmh {

enum class Backend { kSqlite, kMysql };

struct TlsConfig {
  std::string mode = "preferred";  // disabled | preferred | required | verify_ca | verify_identity
  std::string ca, cert, key;
};

struct DatabaseConfig {
  Backend backend = Backend::kSqlite;
  std::string path;  // sqlite: the CRM file (state tables live in it too)
  std::string host = "localhost";
  int port = 3306;
  std::string socket;
  std::string user;
  std::string name;  // mysql: the CRM database (schema)
  // The password never sits in the YAML: a file, or a systemd credential name resolved in
  // $CREDENTIALS_DIRECTORY (LoadCredential=).
  std::string password_file;
  std::string password_credential;
  TlsConfig tls;
  std::chrono::seconds connect_timeout{10};
  // Galera does not replicate GET_LOCK, so two daemons on two nodes would both run a slot:
  // refuse (exit 2) unless the admin declares the lock safe (every daemon on one node).
  std::string galera = "refuse";  // refuse | allow
};

struct StateConfig {
  // mysql: a separate schema on the same server (one transaction spans both); empty = the CRM
  // database itself, tables distinguished by the prefix. sqlite: always the CRM file.
  std::string schema;
  std::string table_prefix = "crmh_";
  std::string directory = "/var/lib/crm-hygiene";  // dumps, digest archive, lock files
};

// A logical field taken from a related table, e.g. SuiteCRM's primary email:
// contacts.id = email_addr_bean_rel.bean_id AND email_addr_bean_rel.email_address_id =
// email_addresses.id AND <where...>, value = email_addresses.email_address.
struct RelatedField {
  std::string table;        // where the value lives (email_addresses)
  std::string column;       // the value (email_address)
  std::string key = "id";   // table's key joined from the link (id)
  std::string link_table;   // email_addr_bean_rel
  std::string link_contact; // link column holding the contact id (bean_id)
  std::string link_target;  // link column pointing at table.key (email_address_id)
  std::map<std::string, std::string> where;  // equality filters on the link table
};

struct FieldMap {
  std::string column;                   // a column of the contacts table, or...
  std::optional<RelatedField> related;  // ...a value from a related table
};

struct ChildRef {
  std::string name;    // logical name used in reports ("calls")
  std::string table;
  std::string column;  // holds the contact id
  std::string type_column;  // polymorphic links: calls.parent_type = 'Contacts'
  std::string type_value;
  std::string id_column = "id";
  std::string soft_delete;            // the child's own deleted flag, if any
  std::vector<std::string> unique_key;  // logical unique key (columns besides `column`)
  // A merge re-points the losers' child rows to the survivor. When the survivor already has a
  // child with the same unique_key: dedupe (remove the loser's copy: soft-delete if the child
  // has a flag, else delete — backed up like every change), keep_both (re-point anyway; only
  // where the database enforces no such key), or block (the cluster goes to review instead).
  std::string on_conflict = "block";
  // A "primary" flag among a contact's children (SuiteCRM email_addr_bean_rel.primary_address):
  // a re-pointed child is demoted (set to 0) when the survivor already has a primary one.
  std::string primary_flag;
  // mapping.grandchildren only: the reference (a mapping.children or grandchildren name) whose
  // rows `column` points at — e.g. activities.parent_id with parent_type 'Deals' under `deals`.
  std::string parent;
  bool optional = false;  // left out (crm::ResolveMapping) when the table does not exist
};

// How deep mapping.grandchildren may nest below the contact (children are level 1).
inline constexpr int kMaxReferenceDepth = 4;

struct ActivitySource {
  std::string column;  // a timestamp column on the contacts table, or...
  std::string child;   // ...max(column) over this child reference
};

struct Mapping {
  std::string profile;  // generic | suitecrm | custom
  std::string contacts_table = "contacts";
  std::string id_column = "id";
  std::string soft_delete;  // the CRM's own deleted flag on contacts
  std::string extension_table;  // SuiteCRM contacts_cstm (id_c): rows that follow the contact
  std::string extension_id;
  // Logical field name → where it lives. Logical names: first_name, last_name, email, email2,
  // phone, mobile, company, address1, address2, city, postcode, region, country, birthdate,
  // owner, created_by, modified_by, created_at, updated_at, opt_out, do_not_call.
  std::map<std::string, FieldMap> fields;
  std::vector<std::string> extra;  // further comparable columns
  std::vector<ChildRef> children;
  // Rows that point at a child's row rather than at the contact (an activity of a deal, a
  // SuiteCRM calls_cstm row, a calls_contacts row of a call): only `prune` follows them, when it
  // removes the parent rows, so nothing is orphaned (docs/prune.md). Other jobs ignore them.
  std::vector<ChildRef> grandchildren;
  std::vector<ActivitySource> activity;
  std::string users_table;  // for owner names in reports (optional)
  std::string users_id = "id";
  std::string users_name;
  std::string users_email;  // the users' e-mail column, for per-owner digests (optional)
};

enum class Overlap { kSkip, kQueue };

// dedup: matching thresholds and merge rules (docs/dedup.md).
struct DedupOptions {
  double auto_threshold = 0.95;    // match probability: at or above, merge automatically
  double review_threshold = 0.80;  // at or above (below auto): wait for a human in `review`
  bool auto_merge = true;          // false: every cluster waits for review
  // A member whose given name differs from the survivor's, with no email or birthdate in common,
  // waits for review (a spouse or child at the same address is not a duplicate).
  bool household_guard = true;
  // A member that shares no email, phone, birthdate, street or extra identifier with the
  // survivor waits for review, whatever its score.
  bool require_identifier = true;
  std::string survivor = "most_complete";  // most_complete | oldest | most_recent_activity
  std::string default_region = "US";       // phone numbers written without a country code
  bool email_provider_rules = true;        // gmail: dots and +tags do not make a new address
  int max_block = 200;                     // blocking: larger blocks are capped and reported
  // No cluster grows beyond this (match::MatchOptions::max_cluster): links that would are dropped,
  // weakest first, and counted.
  int max_cluster = 50;
  int threads = 2;
  int page_size = 10000;                   // contacts read per keyset page
  // Planning reads the members and child rows of this many clusters in one query per table
  // (with threads ≥ 2 on MariaDB/MySQL, the next three batches on three more sessions while this
  // one plans). 1000 rather than 500 since session 16: half the queries, 0.25 s less planning
  // in a 1M dry run.
  int plan_batch = 1000;
  // Keep the prepared records in <state.directory>/dedup-<job>.sweep-cache and normalize only
  // changed contacts in the next sweep (jobs/dedup_cache.h). Never changes a result.
  bool sweep_cache = true;
  // Pinned m/u probabilities (field → level → value); everything else is estimated by EM.
  std::map<std::string, std::map<int, double>> m, u;
};

// prune: a test on a contact, structured (never raw SQL). Either a column of the contacts table
// or, with `child`, "a live row of that child reference exists" (whose `column`, if given, is
// tested). No `in`/`not_in`: the column is "set" (not NULL, not '', not 0).
struct PruneCondition {
  std::string child;   // a mapping.children name; empty = the contacts table
  std::string column;  // empty only with child: any live child row
  std::vector<std::string> in;      // the value (as text) is one of these
  std::vector<std::string> not_in;  // the value is none of these (NULL counts as none)
  std::string where;  // "file:line:col" for errors found against the live schema
};

// prune options (docs/prune.md). A contact qualifies when ANY criterion holds and NO protection
// does; it is pruned only after a notice at least notice_days old, if it still qualifies and had
// no activity since the notice.
struct PruneOptions {
  std::string action = "soft_delete";  // soft_delete | delete | archive (move to the state schema)
  int notice_days = 14;
  bool notice_only = false;  // record notices, never prune (a preview for owners)
  int rescue_days = 365;     // a rescued contact gets no new notice for this long
  // Criteria (0 / false / empty = off).
  int inactive_months = 0;         // latest activity (mapping.activity) older than this
  int never_contacted_months = 0;  // no activity at all, created at least this long ago
  bool opted_out = false;          // the mapped opt_out field is set
  std::optional<PruneCondition> bounced;  // e.g. {column: email_bounced}
  bool invalid_email = false;      // an open email_syntax flag (standardize's validation)
  // Protections.
  int created_within_days = 0;  // contacts created more recently are kept
  std::optional<PruneCondition> customer, legal_hold, open_deals;
  std::vector<PruneCondition> keep_if;  // any of them keeps the contact
  // Child reference name → delete (with the contact) | detach (column set NULL) | block (a
  // contact with such a live child is not pruned) | keep (soft_delete only). Default delete.
  std::map<std::string, std::string> children;
  // Pacing, like pt-archiver (docs/prune.md): after each committed change set sleep `sleep`
  // seconds plus sleep_coef × the set's own time; end the run (status ok, `stopped`) once
  // max_runtime has passed (0 = never) — the next run resumes; before each set, wait while
  // MariaDB's Threads_running exceeds max_threads_running or the replica lag
  // (SHOW REPLICA STATUS Seconds_Behind_Master) exceeds max_replica_lag, re-checking every
  // throttle_check. SQLite ignores the two limits.
  double sleep = 0;
  double sleep_coef = 0;
  // Change sets applied at once, each on its own connection (MariaDB/MySQL; SQLite: 1).
  int connections = 1;
  std::chrono::seconds max_runtime{0};
  std::optional<long long> max_threads_running;
  std::optional<std::chrono::seconds> max_replica_lag;
  std::chrono::seconds throttle_check{1};
  // Downstream replicas whose lag max_replica_lag also bounds (pt-archiver --check-slave-lag):
  // each is polled with SHOW REPLICA STATUS. Unset keys are the CRM database's own.
  struct ReplicaDsn {
    std::string host, socket, user, password_file, password_credential;
    int port = 0;  // 0 = the CRM database's
  };
  std::vector<ReplicaDsn> replica_dsns;
};

// score: the weekly owner score (docs/score.md). Component weights are points out of 100 before
// rescaling: a component that cannot be measured (no baseline week yet, no activity mapped) drops
// out and the others share its points.
struct ScoreOptions {
  std::map<std::string, double> components = {{"completeness", 40}, {"validity", 30},
                                              {"duplicates", 10},   {"improvement", 10},
                                              {"staleness", 10}};
  int stale_days = 365;            // no activity for this long: a stale record
  double duplicate_penalty = 10;   // duplicates share = 1 - penalty * duplicates / records
  double streak_min_score = 80;    // a week at or above this extends a user's streak
};

// standardize: an admin's alias table, named so reports and ledger labels can say what it fixed:
// a value of `field` equal to a key (trimmed, ASCII case-insensitive) becomes the key's value.
struct AliasRule {
  std::string name;
  std::string field;
  std::vector<std::pair<std::string, std::string>> map;  // from → to, in YAML order
};

// digest: the weekly hygiene report, archived as HTML and optionally mailed (docs/digest.md).
struct DigestOptions {
  std::vector<std::string> recipients;  // empty: archive only
  std::string from;                     // required with recipients
  std::string smtp_url;                 // smtp://host:587 or smtps://host:465; required with recipients
  std::string starttls = "try";         // off | try | required (smtp://: upgrade with STARTTLS)
  std::string smtp_user;                // SMTP AUTH user; its password from a file or credential:
  std::string smtp_password_file;
  std::string smtp_password_credential;
  bool mask_emails = true;              // j***@example.com in the digest
  bool mask_phones = true;              // ***67
  std::string archive_dir;              // default <state.directory>/digests
  std::string week = "previous";        // previous (the last complete ISO week) | current
  int retries = 3;                      // further SMTP attempts after a failed one
  std::chrono::seconds retry_backoff{30};  // before the first retry; doubles each time
  std::string list_unsubscribe;         // URL or mailto: (default mailto:<from>?subject=unsubscribe)
  std::string title = "CRM hygiene digest";
  int review_limit = 20;                // review items listed by name
  std::string webhook_url;              // optional: a Slack-compatible JSON summary is POSTed here
  bool send = true;                     // not in YAML: `digest` sends only with --send
  // Per-owner digests (jobs/digest_owner.h): each owner's own flags to fix, contacts announced for
  // pruning and score, archived under <archive_dir>/owners/<week>/ and mailed to the owner.
  bool per_owner = false;
  // Owner → address, keyed by the owner id or the owner's user name (mapping.users.name); it
  // wins over mapping.users.email. An owner with neither is archived, not mailed.
  std::map<std::string, std::string> owners;
  int owner_limit = 50;  // flags / notices listed per owner (the rest are counted)
};

struct JobConfig {
  std::string name;
  std::string kind;  // audit | standardize | retention | dedup (prune, score, digest later)
  bool enabled = true;
  std::string schedule;  // OnCalendar or cron expression; empty = only `run JOB`
  std::string time_zone = "UTC";
  calendar::DstGap dst_gap = calendar::DstGap::kRunAtTransition;
  bool persistent = false;
  std::chrono::seconds jitter{0};
  Overlap overlap = Overlap::kSkip;
  std::chrono::seconds starting_deadline{0};  // 0 = no deadline
  // Safety limits for destructive kinds (the safe-change engine refuses a bigger plan).
  long long max_rows = 5000;   // 0 = no limit
  double max_fraction = 0.25;  // of each touched table's rows; 0 = no limit
  int batch_size = 100;        // rows per change set (one transaction each)
  bool dump = false;           // a verified logical dump of the touched tables before changing
  int retention_days = 30;     // retention: ledger entries and dumps older than this are purged
  // Kind-specific options.
  std::vector<std::string> mandatory;  // audit: mandatory logical fields
  std::map<std::string, double> weights;  // audit: "critical" field weights
  // standardize: rules by name (jobs/standardize.h; default trim_whitespace, lowercase_email; they
  // run in a fixed order per field, whatever the order here), the logical fields to touch
  // (default: all text), the region for numbers written without a country code, and whether to
  // validate into the flags table.
  std::vector<std::string> rules;
  std::vector<std::string> fields;
  std::string default_region = "US";
  bool flags = true;
  DedupOptions dedup;
  PruneOptions prune;
  ScoreOptions score;
  std::string phone_format = "e164";  // standardize: e164 | national | international
  std::vector<AliasRule> aliases;     // standardize: admin alias tables
  int trend_weeks = 8;  // audit, score: weeks of history shown in the report
  DigestOptions digest;
  std::string config_line;  // "file:line:col" where the job was defined, for later errors
};

struct DaemonConfig {
  std::chrono::seconds stop_timeout{60};
  std::chrono::seconds clock_recheck{300};  // cap on a timer wait so wall-clock steps are noticed
  std::chrono::seconds db_retry{10};        // start-up: DB down, retry every ...
  std::chrono::seconds db_give_up{120};     // ... then exit 3
};

// The loopback HTTP server (daemon/http.h): off while `listen` is empty.
struct HttpConfig {
  std::string listen;                  // "127.0.0.1:9187" as written
  std::string address;                 // parsed: a loopback IPv4/IPv6 address
  int port = 0;                        // parsed: 0 = an ephemeral port (logged)
  std::chrono::seconds refresh{60};    // /metrics snapshot re-read from the journal at least this often
};

struct Config {
  std::string source;  // file it came from
  std::string hash;    // of the file's bytes, recorded on each run
  std::string instance_id;
  std::string system_user;  // id recorded as modified_by on rows we change
  DatabaseConfig database;
  StateConfig state;
  Mapping mapping;
  DaemonConfig daemon;
  std::vector<JobConfig> jobs;
  HttpConfig http;

  const JobConfig* FindJob(std::string_view name) const;
};

// Parses and validates the YAML text. Every error is "file:line:column: message".
Result<Config> ParseConfig(std::string_view yaml_text, std::string_view file_name);
Result<Config> LoadConfigFile(const std::string& path);

// Built-in mapping profiles.
Result<Mapping> BuiltinProfile(std::string_view name);

// Edit distance suggestion: the closest candidate within a small distance, or "".
std::string Suggest(std::string_view word, const std::vector<std::string>& candidates);

// "90s", "5m", "2h30m", "14d" → seconds.
Result<std::chrono::seconds> ParseDuration(std::string_view text);

// Reads the database password from password_file or the systemd credential; empty if neither.
Result<std::string> ReadPassword(const DatabaseConfig& db);

}  // namespace crmh
