#include "jobs/dedup.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <cmath>
#include <deque>

#include "core/memory.h"
#include "core/text.h"
#include "crm/ledger.h"
#include "crm/schema.h"
#include "crm/text_rows.h"
#include "jobs/audit.h"
#include "jobs/dedup_cache.h"
#include "match/matcher.h"

namespace crmh::jobs {
namespace {
// Peak resident memory of the process so far, MiB (Linux reports ru_maxrss in KiB): recorded
// after each stage so the scale benchmark shows which stage sets the peak.
long long PeakRssMib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<long long>(ru.ru_maxrss) / 1024;
}

// Logical fields the matcher compares (match::RawRecord), in a fixed order.
const std::vector<std::string>& MatchFields() {
  static const std::vector<std::string> k = {
      "first_name", "last_name", "email",    "email2",   "phone",  "mobile",  "company",
      "address1",   "address2",  "city",     "postcode", "region", "country", "birthdate"};
  return k;
}
// Filled from one loser as a whole, or not at all: never a street from one record and a city
// from another.
const std::vector<std::string>& AddressGroup() {
  static const std::vector<std::string> k = {"address1", "address2", "city",
                                             "postcode", "region",   "country"};
  return k;
}
bool InAddressGroup(const std::string& f) {
  const auto& g = AddressGroup();
  return std::find(g.begin(), g.end(), f) != g.end();
}

bool Empty(std::string_view v) {
  return v.find_first_not_of(" \t\r\n") == std::string::npos;
}
bool Truthy(const std::string& v) { return !Empty(v) && v != "0"; }

// A value read for one logical field: the SQL that yields it as text for contact alias c.
struct Slot {
  std::string name;    // logical field, or the extra column's name
  std::string expr;    // SQL (text)
  std::string column;  // the contacts column when the field lives there ("" = related table)
};

std::string RelatedExpr(const crm::Db& db, const Mapping& m, const RelatedField& r) {
  std::string where;
  for (const auto& [col, v] : r.where) {
    where += fmt::format(" AND l.{} = {}", db.Q(col), db.Literal(v));
  }
  return fmt::format("(SELECT CAST(MIN(t.{}) AS CHAR) FROM {} l JOIN {} t ON t.{} = l.{} WHERE "
                     "l.{} = c.{}{})",
                     db.Q(r.column), db.Q(r.link_table), db.Q(r.table), db.Q(r.key),
                     db.Q(r.link_target), db.Q(r.link_contact), db.Q(m.id_column), where);
}

// `text`: how the contacts columns are read as CAST(col AS CHAR)'s text (crm::TextColumns).
Slot MakeSlot(const crm::Db& db, const Mapping& m, const std::string& name, const FieldMap& f,
              const crm::TextReads& text) {
  if (f.related) return {name, RelatedExpr(db, m, *f.related), ""};
  return {name, crm::AsText(text, f.column, "c." + db.Q(f.column)), f.column};
}

// What the matcher sees (fields + extras), then what the merge needs besides.
struct Slots {
  std::string id;           // the contacts id as text (crm::AsText)
  std::vector<Slot> match;  // MatchFields() that are mapped, then mapping.extra
  int created = -1, updated = -1, opt_out = -1, do_not_call = -1;  // indexes into meta
  std::vector<int> activity;                                       // direct activity columns
  std::vector<Slot> meta;

  std::string SelectList() const {
    std::string s;
    for (const auto& v : match) s += ", " + v.expr;
    for (const auto& v : meta) s += ", " + v.expr;
    return s;
  }
  size_t size() const { return match.size() + meta.size(); }
};

// `child_activity`: also read each contact's latest child-table activity (a correlated MAX per
// contact; only the most_recent_activity survivor rule needs it).
Slots MakeSlots(const crm::Db& db, const Mapping& m, bool child_activity,
                const crm::TextReads& text) {
  Slots s;
  s.id = MakeSlot(db, m, m.id_column, FieldMap{m.id_column, {}}, text).expr;
  for (const auto& f : MatchFields()) {
    auto it = m.fields.find(f);
    if (it != m.fields.end()) s.match.push_back(MakeSlot(db, m, f, it->second, text));
  }
  for (const auto& col : m.extra) s.match.push_back(MakeSlot(db, m, col, FieldMap{col, {}}, text));
  auto meta = [&](const char* name, int& index) {
    auto it = m.fields.find(name);
    if (it == m.fields.end()) return;
    index = static_cast<int>(s.meta.size());
    s.meta.push_back(MakeSlot(db, m, name, it->second, text));
  };
  meta("created_at", s.created);
  meta("updated_at", s.updated);
  meta("opt_out", s.opt_out);
  meta("do_not_call", s.do_not_call);
  for (const auto& a : m.activity) {
    if (!a.child.empty() && !child_activity) continue;
    s.activity.push_back(static_cast<int>(s.meta.size()));
    if (a.child.empty()) {
      s.meta.push_back(MakeSlot(db, m, a.column, FieldMap{a.column, {}}, text));
    } else {
      s.meta.push_back({a.child + "." + a.column, ActivityExpr(db, m, a), ""});
    }
  }
  return s;
}

// Sessions that read planning batches ahead of the planner (besides its own). Two let the
// server answer two batches at once on a two-core machine (session 12); three keep it busy while
// a read waits on the disk (a buffer pool smaller than the tables: at 1M, session 16, three
// readers planned 0.35 s sooner than two, the plan the same).
constexpr size_t kPlanReaders = 3;

// What the survivor rule and the planner need of each contact read, kept for every contact: the
// id, created and activity times as one run of text in a shared pool (at 1M contacts three
// std::strings per contact — 19-character times on the heap — were ≈ 170 MiB; this is ≈ 75).
class MetaTable {
 public:
  void Reserve(size_t contacts) {
    ReserveHuge(rows_, contacts);  // core/memory.h
    ReserveHuge(text_, contacts * 32);
  }
  void Add(std::string_view id, uint64_t hash, int filled, std::string_view created,
           std::string_view active) {
    Row r;
    r.hash = hash;
    r.at = text_.size();
    r.filled = static_cast<uint32_t>(filled);
    r.id_len = static_cast<uint32_t>(id.size());
    r.created_len = static_cast<uint32_t>(created.size());
    r.active_len = static_cast<uint32_t>(active.size());
    text_.append(id);
    text_.append(created);
    text_.append(active);
    rows_.push_back(r);
  }
  size_t size() const { return rows_.size(); }
  std::string_view Id(size_t i) const { return Text(i, 0, rows_[i].id_len); }
  std::string_view Created(size_t i) const { return Text(i, rows_[i].id_len, rows_[i].created_len); }
  std::string_view Active(size_t i) const {
    return Text(i, rows_[i].id_len + rows_[i].created_len, rows_[i].active_len);
  }
  uint64_t Hash(size_t i) const { return rows_[i].hash; }
  int Filled(size_t i) const { return rows_[i].filled; }

 private:
  struct Row {
    uint64_t hash = 0;  // of the matched fields' values: a changed contact is not merged blindly
    uint64_t at = 0;    // id, created, active back to back in text_
    uint32_t filled = 0;
    uint32_t id_len = 0, created_len = 0, active_len = 0;
  };
  std::string_view Text(size_t i, size_t from, size_t len) const {
    return std::string_view(text_).substr(rows_[i].at + from, len);
  }
  std::vector<Row> rows_;
  std::string text_;
};

// The values a contact was matched on, as the sweep read them, are known by half of the sweep
// cache's hash (HashRawValues(...).lo, MetaTable::Hash): planning re-reads the members and
// skips a cluster whose values hash differently now (MergePlanner::PlanOrThrow).

std::string WhereActive(const crm::Db& db, const Mapping& m) {
  return m.soft_delete.empty() ? "1 = 1" : fmt::format("COALESCE(c.{}, 0) = 0", db.Q(m.soft_delete));
}

// One keyset page of the sweep: the id as text, then every slot's value; `after`: the ids
// after :last.
std::string ReadPageSql(const crm::Db& db, const Mapping& m, const Slots& slots, int page_size,
                        bool after) {
  return fmt::format(
      "SELECT {id_text}{list} FROM {t} c WHERE {act}{after} ORDER BY c.{id} LIMIT {n}",
      fmt::arg("id_text", slots.id), fmt::arg("id", db.Q(m.id_column)),
      fmt::arg("list", slots.SelectList()),
      fmt::arg("t", db.Q(m.contacts_table)), fmt::arg("act", WhereActive(db, m)),
      fmt::arg("after", after ? fmt::format(" AND c.{} > :last", db.Q(m.id_column)) : ""),
      fmt::arg("n", page_size));
}

// How many contacts (and pages) the sweep's reader may hold in pages not yet appended (at least
// two pages more than there are workers), ~8 MB a page of 10,000 contacts (their text, then
// their prepared records). 16 pages, to read on while the sweep cache loads, raised the 1M
// sweep's peak RSS by ~90 MiB (session 12): the pages are what the old pipeline held. Whatever
// `threads` says, never more than kMaxReadAheadRows contacts in at least two pages (`threads: 16`
// held 18 pages, ~150 MB, beside the memory bound); with more workers than pages, the workers
// without a page wait for one.
constexpr size_t kReadAheadRows = 40000;
constexpr size_t kReadAheadPages = 4;
constexpr size_t kMaxReadAheadRows = 60000;

}  // namespace

// The ring's size (pages) for `threads` workers and pages of `page_size` rows.
size_t SweepReadAheadPages(int threads, int page_size) {
  const size_t rows = static_cast<size_t>(std::max(1, page_size));
  const size_t want = std::max<size_t>(static_cast<size_t>(std::max(1, threads)) + 2,
                                       std::min<size_t>(kReadAheadPages, kReadAheadRows / rows));
  return std::min(want, std::max<size_t>(2, kMaxReadAheadRows / rows));
}

namespace {

// One page of rows as the sweep read it: every cell's text back to back in one buffer (no
// allocation per row; the buffers are reused page after page), a fixed number of cells per row.
// AddRow while reading, then Seal once; Row is for after Seal (from any thread).
class TextPage {
 public:
  void Clear(size_t width) {
    width_ = width;
    text_.clear();
    ends_.clear();
    views_.clear();
  }
  void AddRow(const crm::TextRow& r) {
    for (size_t i = 0; i < width_; ++i) {
      text_.append(r[i]);
      ends_.push_back(text_.size());
    }
  }
  void Seal() {
    views_.resize(ends_.size());
    size_t from = 0;
    for (size_t k = 0; k < ends_.size(); ++k) {
      views_[k] = std::string_view(text_).substr(from, ends_[k] - from);
      from = ends_[k];
    }
  }
  size_t rows() const { return width_ ? ends_.size() / width_ : 0; }
  const std::string_view* Row(size_t i) const { return views_.data() + i * width_; }

 private:
  size_t width_ = 0;
  std::string text_;
  std::vector<size_t> ends_;  // each cell's end in text_
  std::vector<std::string_view> views_;
};

std::string InList(const crm::Db& db, const std::vector<std::string>& ids) {
  std::string s;
  for (const auto& id : ids) s += (s.empty() ? "" : ", ") + db.Literal(id);
  return s;
}

std::string Show(const std::string& v) {
  return "'" + TruncateUtf8(v, 40, "…") + "'";
}

// ---------------------------------------------------------------------------------------------
// Planning one merge: read the members and their child rows again (with their row text, which
// the engine re-checks inside the apply transaction), and build the change set.
//
// A dry run plans without the row text (`row_text` false): it never applies, and nothing it
// reports depends on the text — the ops, their ids and notes, the counts, the checks that can
// keep a cluster out of the merge (a member changed or gone, a child conflict under `block`)
// are the same; only RowOp::expect is empty. Reading and copying the text of every member and
// child row was most of a 1M dry run's planning (docs/benchmarks.md, session 10).
// ---------------------------------------------------------------------------------------------
class MergePlanner {
 public:
  MergePlanner(RunContext& ctx, const Slots& slots, match::Normalizer& norm, bool row_text)
      : ctx_(ctx), db_(ctx.db), m_(ctx.cfg.mapping), slots_(slots), norm_(norm),
        row_text_(row_text) {}

  // Reading the contact rows and child rows of many contacts at once — one query per table for
  // a whole batch of clusters instead of one per cluster and table (at 1M contacts the
  // per-cluster round trips were most of a dry run's planning time). `ids`: every member of the
  // batch's clusters; `losers`: those that are not survivors (the survivors' child rows are read
  // only for references where they matter: a unique key or a primary flag). Plan() uses a
  // batch's rows for clusters whose members were all in it.
  //
  // In three steps, so that the reading can run on another session and thread while this one
  // plans the batch before (DedupJob::Plan): BatchSql (on the planner's thread: it quotes with
  // and reads the schema through the planner's session), ReadBatch (any session, any thread:
  // it uses nothing of the planner that changes), UseBatch.
  // A member's row as read: the row text, then every slot's value (slots_.match then
  // slots_.meta), back to back in one string — two allocations a member, not one per value
  // (≈ 1,100 members a batch; the values' strings were most of the readers' allocations).
  struct Member {
    std::string text;
    std::vector<uint32_t> ends;  // ends[0]: the row text's end; ends[1 + i]: value i's
    std::string_view RowText() const { return std::string_view(text).substr(0, ends[0]); }
    std::string_view Value(size_t i) const {
      return std::string_view(text).substr(ends[i], ends[i + 1] - ends[i]);
    }
  };
  struct Child {
    std::string id, text, owner, key;
    bool deleted = false, primary = false;
    size_t seq = 0;  // position in the query's ORDER BY id
  };
  struct BatchQueries {
    std::vector<std::string> ids;
    std::string members;                // "" when there is nothing to read
    std::vector<std::string> children;  // per child reference; "" = not read
  };
  struct Batch {
    std::unordered_map<std::string, Member> members;
    std::vector<std::unordered_map<std::string, std::vector<Child>>> children;  // per child ref
  };

  BatchQueries BatchSql(std::vector<std::string> ids, const std::vector<std::string>& losers) {
    BatchQueries q;
    if (ids.empty()) return q;
    q.members = MembersSql(ids);
    q.children.resize(m_.children.size());
    for (size_t k = 0; k < m_.children.size(); ++k) {
      const ChildRef& ref = m_.children[k];
      const auto& owners = NeedsSurvivorRows(ref) ? ids : losers;
      if (!owners.empty()) q.children[k] = ChildrenSql(ref, owners);
    }
    q.ids = std::move(ids);
    return q;
  }

  Result<Batch> ReadBatch(crm::Db& db, const BatchQueries& q) const {
    Batch b;
    if (q.ids.empty()) return b;
    Status st = crm::ForEachTextRow(db, "reading merge candidates", q.members, {},
                                    [&](const crm::TextRow& r) {
                                      Member mem = ParseMember(r);
                                      b.members[std::string(r[0])] = std::move(mem);
                                    });
    if (!st) return st.error();
    b.children.resize(m_.children.size());
    for (size_t k = 0; k < m_.children.size(); ++k) {
      if (q.children[k].empty()) continue;
      const ChildRef& ref = m_.children[k];
      auto& by_owner = b.children[k];
      size_t seq = 0;
      st = crm::ForEachTextRow(db, "reading merge candidates' child rows", q.children[k], {},
                               [&](const crm::TextRow& r) {
                                 Child c = ParseChild(ref, r, seq++);
                                 by_owner[c.owner].push_back(std::move(c));
                               });
      if (!st) return st.error();
    }
    return b;
  }

  void UseBatch(Batch&& b) { batch_ = std::move(b); }
  void ClearPrefetched() { batch_ = Batch(); }

  // The planner's own session reads the batch (no second session, or a single batch).
  Status Prefetch(std::vector<std::string> ids, const std::vector<std::string>& losers) {
    BatchQueries q;
    Status st = crm::Guard("reading merge candidates", [&] { q = BatchSql(std::move(ids), losers); });
    if (!st) return st;
    auto b = ReadBatch(db_, q);
    if (!b) return b.error();
    UseBatch(std::move(*b));
    return Status::Ok();
  }

  // `expect_hash`: the members' hashes when they were matched, survivor first then `losers`
  // (nullptr: an approved review item, re-checked for existence only). `from_batch`: the
  // members were in the batch read last (Prefetch, UseBatch), whose rows are used; else they
  // are read now. Returns the plan, or a reason it cannot be merged.
  Result<std::variant<MergePlan, std::string>> Plan(const std::string& survivor,
                                                    const std::vector<std::string>& losers,
                                                    const std::vector<uint64_t>* expect_hash,
                                                    bool from_batch) {
    std::variant<MergePlan, std::string> out = std::string();
    Status st = crm::Guard("planning a merge", [&] {
      out = PlanOrThrow(survivor, losers, expect_hash, from_batch);
    });
    if (!st) return st.error();
    return out;
  }

  // Whether the ops get their notes (what and why, for the ledger and the plan's sample). A dry
  // run reports only the first few ops' (PlanTally's sample) and plans the rest without them:
  // the same ops, ids and counts.
  void set_notes(bool on) { notes_ = on; }

 private:
  // The survivor's own child rows of `ref` change nothing in a merge unless they can conflict
  // with a loser's (a unique key) or hold the primary flag; otherwise only the losers' are read.
  static bool NeedsSurvivorRows(const ChildRef& ref) {
    return !ref.unique_key.empty() || !ref.primary_flag.empty();
  }

  // An op's note, or "" when the plan's notes are not wanted (set_notes).
  template <class... Args>
  std::string Note(fmt::format_string<Args...> f, Args&&... args) const {
    return notes_ ? fmt::format(f, std::forward<Args>(args)...) : std::string();
  }

  // The row text of alias `a`'s row for the before-image, or '' when planning without it.
  std::string TextExpr(const std::vector<std::string>& cols, const std::string& a) const {
    return row_text_ ? crm::RowTextExpr(db_, cols, a) : std::string("''");
  }

  std::string MembersSql(const std::vector<std::string>& ids) {
    return fmt::format(
        "SELECT {id_text}, {text}{list} FROM {t} c WHERE c.{id} IN ({in}) AND {act}",
        fmt::arg("id_text", slots_.id), fmt::arg("id", db_.Q(m_.id_column)),
        fmt::arg("text", TextExpr(Cols(m_.contacts_table), "c")),
        fmt::arg("list", slots_.SelectList()), fmt::arg("t", db_.Q(m_.contacts_table)),
        fmt::arg("in", InList(db_, ids)), fmt::arg("act", WhereActive(db_, m_)));
  }
  // A row of MembersSql: id, row text, the slots' values.
  Member ParseMember(const crm::TextRow& r) const {
    Member mem;
    size_t bytes = 0;
    for (size_t i = 0; i <= slots_.size(); ++i) bytes += r[1 + i].size();
    mem.text.reserve(bytes);
    mem.ends.reserve(slots_.size() + 1);
    for (size_t i = 0; i <= slots_.size(); ++i) {
      mem.text.append(r[1 + i]);
      mem.ends.push_back(static_cast<uint32_t>(mem.text.size()));
    }
    return mem;
  }

  // The child rows of `ref` owned by `ids`, ordered by the child's id (as the database orders it).
  std::string ChildrenSql(const ChildRef& ref, const std::vector<std::string>& ids) {
    const auto& cols = Cols(ref.table);
    std::string extra;
    for (const auto& u : ref.unique_key) extra += fmt::format(", CAST(ch.{} AS CHAR)", db_.Q(u));
    // A child's soft-delete flag matters only next to a unique key (a deleted duplicate is left
    // where it is) or a primary flag (a deleted row holds no primary); otherwise its rows are
    // re-pointed whatever the flag says. Not reading it there lets the server answer from the
    // reference's index alone (its key plus the primary key) when the row text is not read
    // either — a dry run: at 1M contacts, the row lookups for `deleted` were most of the
    // planning queries' server time (docs/benchmarks.md, session 12).
    extra += ref.soft_delete.empty() || !NeedsSurvivorRows(ref)
                 ? ", '0'"
                 : fmt::format(", CAST(ch.{} AS CHAR)", db_.Q(ref.soft_delete));
    extra += ref.primary_flag.empty() ? ", '0'" : fmt::format(", CAST(ch.{} AS CHAR)", db_.Q(ref.primary_flag));
    std::string type_filter = ref.type_column.empty()
                                  ? ""
                                  : fmt::format(" AND ch.{} = {}", db_.Q(ref.type_column),
                                                db_.Literal(ref.type_value));
    return fmt::format(
        "SELECT CAST(ch.{id} AS CHAR), {text}, CAST(ch.{col} AS CHAR){extra} FROM {t} ch "
        "WHERE ch.{col} IN ({in}){type} ORDER BY ch.{id}",
        fmt::arg("id", db_.Q(ref.id_column)), fmt::arg("text", TextExpr(cols, "ch")),
        fmt::arg("col", db_.Q(ref.column)), fmt::arg("extra", extra), fmt::arg("t", db_.Q(ref.table)),
        fmt::arg("in", InList(db_, ids)), fmt::arg("type", type_filter));
  }
  static Child ParseChild(const ChildRef& ref, const crm::TextRow& r, size_t seq) {
    Child c;
    c.id = r[0];
    c.text = r[1];
    c.owner = r[2];
    size_t k = 3;
    for (size_t u = 0; u < ref.unique_key.size(); ++u) {
      c.key += r[k++];
      c.key += '\x1f';
    }
    c.deleted = Truthy(std::string(r[k++]));
    c.primary = Truthy(std::string(r[k++]));
    c.seq = seq;
    return c;
  }

  // Throws on an error (PlanOrThrow runs inside Guard).
  void ForEachRow(const std::string& what, const std::string& sql,
                  const std::function<void(const crm::TextRow&)>& on_row) {
    Status st = crm::ForEachTextRow(db_, what, sql, {}, on_row);
    if (!st) throw std::runtime_error(st.error().message);
  }

  std::vector<Child> ReadChildren(const ChildRef& ref, const std::vector<std::string>& ids) {
    std::vector<Child> rows;
    ForEachRow("reading child rows", ChildrenSql(ref, ids),
               [&](const crm::TextRow& r) { rows.push_back(ParseChild(ref, r, rows.size())); });
    return rows;
  }

  const std::vector<std::string>& Cols(const std::string& table) {
    auto it = cols_.find(table);
    if (it != cols_.end()) return it->second;
    auto cols = crm::OrderedColumns(db_, table);
    if (!cols) throw std::runtime_error(cols.error().message);
    if (cols->empty()) throw std::runtime_error(fmt::format("table {} does not exist", table));
    return cols_[table] = std::move(*cols);
  }

  int MatchIndex(const std::string& name) const {
    for (size_t i = 0; i < slots_.match.size(); ++i) {
      if (slots_.match[i].name == name) return static_cast<int>(i);
    }
    return -1;
  }

  std::string Value(const Member& mem, const std::string& name) const {
    int i = MatchIndex(name);
    return i < 0 ? std::string() : std::string(mem.Value(static_cast<size_t>(i)));
  }

  std::variant<MergePlan, std::string> PlanOrThrow(const std::string& survivor,
                                                   const std::vector<std::string>& losers,
                                                   const std::vector<uint64_t>* expect,
                                                   bool cached) {
    std::vector<std::string> ids = {survivor};
    ids.insert(ids.end(), losers.begin(), losers.end());
    std::unordered_map<std::string, Member> read;  // when not prefetched
    const auto& source = cached ? batch_.members : read;
    if (!cached) {
      ForEachRow("reading merge candidates", MembersSql(ids), [&](const crm::TextRow& r) {
        Member mem = ParseMember(r);
        read[std::string(r[0])] = std::move(mem);
      });
    }
    // members[i]: ids[i]'s row (a cluster is small: found by a scan, not a map of copied ids).
    std::vector<const Member*> members(ids.size(), nullptr);
    std::vector<std::string_view> matched(slots_.match.size());  // a member's matched values
    for (size_t i = 0; i < ids.size(); ++i) {
      auto it = source.find(ids[i]);
      if (it == source.end()) return fmt::format("contact {} no longer exists or was deleted", ids[i]);
      members[i] = &it->second;
      if (expect && i < expect->size()) {
        for (size_t f = 0; f < matched.size(); ++f) matched[f] = it->second.Value(f);
        if (HashRawValues(matched.data(), matched.size()).lo != (*expect)[i]) {
          return fmt::format("contact {} changed since it was read", ids[i]);
        }
      }
    }
    auto member = [&](const std::string& id) -> const Member& {
      for (size_t i = 0; i < ids.size(); ++i) {
        if (ids[i] == id) return *members[i];
      }
      throw std::logic_error("not a member: " + id);
    };

    MergePlan plan;
    plan.survivor = survivor;
    plan.losers = losers;
    // The survivor's op, each loser's, and (typically) a few child rows each: grown one op at a
    // time, the vector's reallocations were a tenth of a 1M dry run's planning CPU.
    plan.set.ops.reserve(4 + 4 * losers.size());
    const std::string& now = Now();
    const Member& s = member(survivor);

    // --- the survivor: fill what is empty, keep extra emails/phones where a slot is free,
    // consent OR-ed. Never replace a non-empty value.
    RowOp sop{OpKind::kUpdate, m_.contacts_table, m_.id_column, survivor, {}, std::string(s.RowText()), ""};
    std::string note;
    auto set_col = [&](const std::string& column, const std::string& value, const std::string& why) {
      sop.set.emplace_back(column, value);
      note += (note.empty() ? "" : ", ") + why;
    };
    std::map<std::string, std::string> now_value;  // logical → value after the merge
    for (const auto& slot : slots_.match) now_value[slot.name] = Value(s, slot.name);

    // Multi-value slots: email/email2, phone/mobile.
    auto multi = [&](std::vector<std::string> fields, auto key_of) {
      fields.erase(std::remove_if(fields.begin(), fields.end(),
                                  [&](const std::string& f) {
                                    int i = MatchIndex(f);
                                    return i < 0 || slots_.match[i].column.empty();
                                  }),
                   fields.end());
      if (fields.empty()) return;
      std::set<std::string> have;
      for (const auto& f : fields) {
        if (!Empty(now_value[f])) have.insert(key_of(now_value[f]));
      }
      for (const auto& l : losers) {
        for (const auto& f : fields) {
          std::string v = Value(member(l), f);
          if (Empty(v)) continue;
          std::string k = key_of(v);
          if (have.count(k)) continue;
          have.insert(k);
          auto free = std::find_if(fields.begin(), fields.end(),
                                   [&](const std::string& g) { return Empty(now_value[g]); });
          if (free == fields.end()) {
            plan.values_not_kept.push_back(
                fmt::format("{} {} of contact {}: no free field on the survivor", f, Show(v), l));
            continue;
          }
          now_value[*free] = v;
          set_col(slots_.match[MatchIndex(*free)].column, v,
                  Note("{} {} from {}", *free, Show(v), l));
        }
      }
    };
    multi({"email", "email2"}, [&](const std::string& v) {
      std::string k = norm_.Email(v);
      return k.empty() ? v : k;
    });
    multi({"phone", "mobile"}, [&](const std::string& v) {
      std::string k = norm_.PhoneKey(v);
      return k.empty() ? v : k;
    });
    // The address as a whole, from the first loser that has one, if the survivor has none.
    bool survivor_has_address = false;
    for (const auto& f : AddressGroup()) survivor_has_address |= !Empty(now_value[f]);
    if (!survivor_has_address) {
      for (const auto& l : losers) {
        bool has = false;
        for (const auto& f : AddressGroup()) has |= !Empty(Value(member(l), f));
        if (!has) continue;
        for (const auto& f : AddressGroup()) {
          int i = MatchIndex(f);
          std::string v = Value(member(l), f);
          if (i < 0 || slots_.match[i].column.empty() || Empty(v)) continue;
          now_value[f] = v;
          set_col(slots_.match[i].column, v, Note("{} {} from {}", f, Show(v), l));
        }
        break;
      }
    }
    // Everything else: the first loser (in survivor-rule order) with a value.
    for (const auto& slot : slots_.match) {
      const std::string& f = slot.name;
      if (slot.column.empty() || InAddressGroup(f) || f == "email" || f == "email2" ||
          f == "phone" || f == "mobile" || !Empty(now_value[f])) {
        continue;
      }
      for (const auto& l : losers) {
        std::string v = Value(member(l), f);
        if (Empty(v)) continue;
        now_value[f] = v;
        set_col(slot.column, v, Note("{} {} from {}", f, Show(v), l));
        break;
      }
    }
    // Consent: the most restrictive value wins.
    std::string related_opt_out;  // the value to write on the survivor's related row
    for (int meta : {slots_.opt_out, slots_.do_not_call}) {
      if (meta < 0) continue;
      const Slot& slot = slots_.meta[meta];
      const std::string mine(s.Value(slots_.match.size() + static_cast<size_t>(meta)));
      if (Truthy(mine)) continue;
      for (const auto& l : losers) {
        const std::string theirs(member(l).Value(slots_.match.size() + static_cast<size_t>(meta)));
        if (!Truthy(theirs)) continue;
        if (!slot.column.empty()) {
          set_col(slot.column, theirs, Note("{} from {} (most restrictive)", slot.name, l));
        } else {
          related_opt_out = theirs;
        }
        break;
      }
    }
    auto modified_by = m_.fields.find("modified_by");
    if (modified_by != m_.fields.end() && !modified_by->second.related &&
        !ctx_.cfg.system_user.empty()) {
      sop.set.emplace_back(modified_by->second.column, ctx_.cfg.system_user);
    }
    auto updated_at = m_.fields.find("updated_at");
    if (updated_at != m_.fields.end() && !updated_at->second.related) {
      sop.set.emplace_back(updated_at->second.column, now);
    }
    std::string loser_list;
    for (const auto& l : losers) loser_list += (loser_list.empty() ? "" : ",") + l;
    sop.note = Note("merge survivor of {}{}{}", loser_list, note.empty() ? "" : ": ", note);
    if (sop.set.empty()) {
      // Nothing to write on the survivor, but it is still checked and backed up: the decision
      // to merge was made on its values.
      sop.set.emplace_back(m_.id_column, survivor);
    }
    plan.set.ops.push_back(std::move(sop));

    // --- child rows: re-point to the survivor, unique conflicts by policy.
    for (const auto& ref : m_.children) {
      std::string blocked = PlanChildren(ref, survivor, losers, plan, cached);
      if (!blocked.empty()) return blocked;
    }

    // --- consent on a related row (SuiteCRM: the survivor's primary email_addresses row).
    if (!related_opt_out.empty()) PlanRelatedOptOut(survivor, related_opt_out, plan);

    // --- the losers, removed the CRM's way; delete also removes their extension rows.
    if (m_.soft_delete.empty() && !m_.extension_table.empty()) {
      const auto& ecols = Cols(m_.extension_table);
      soci::rowset<soci::row> rs = db_.sql().prepare << fmt::format(
          "SELECT CAST(e.{id} AS CHAR), {text} FROM {t} e WHERE e.{id} IN ({in})",
          fmt::arg("id", db_.Q(m_.extension_id)), fmt::arg("text", TextExpr(ecols, "e")),
          fmt::arg("t", db_.Q(m_.extension_table)), fmt::arg("in", InList(db_, losers)));
      for (const auto& r : rs) {
        plan.set.ops.push_back({OpKind::kDelete, m_.extension_table, m_.extension_id,
                                crm::CellText(r, 0), {}, crm::CellText(r, 1),
                                Note("merged into {}", survivor)});
      }
    }
    for (const auto& l : losers) {
      RowOp op{m_.soft_delete.empty() ? OpKind::kDelete : OpKind::kSoftDelete,
               m_.contacts_table, m_.id_column, l, {}, std::string(member(l).RowText()),
               Note("merged into {}", survivor)};
      if (!m_.soft_delete.empty()) {
        op.set.emplace_back(m_.soft_delete, "1");
        if (modified_by != m_.fields.end() && !modified_by->second.related &&
            !ctx_.cfg.system_user.empty()) {
          op.set.emplace_back(modified_by->second.column, ctx_.cfg.system_user);
        }
        if (updated_at != m_.fields.end() && !updated_at->second.related) {
          op.set.emplace_back(updated_at->second.column, now);
        }
      }
      plan.set.ops.push_back(std::move(op));
    }
    plan.set.label = Note("merge {} ← {}", survivor, loser_list);
    return plan;
  }

  // Returns "" or why the merge is blocked.
  std::string PlanChildren(const ChildRef& ref, const std::string& survivor,
                           const std::vector<std::string>& losers, MergePlan& plan, bool cached) {
    std::vector<std::string> ids;
    if (NeedsSurvivorRows(ref)) ids.push_back(survivor);
    ids.insert(ids.end(), losers.begin(), losers.end());
    std::vector<Child> read;  // when not prefetched
    std::vector<const Child*> rows;
    if (cached) {
      const size_t k = static_cast<size_t>(&ref - m_.children.data());
      if (k < batch_.children.size()) {
        for (const auto& id : ids) {
          auto it = batch_.children[k].find(id);
          if (it == batch_.children[k].end()) continue;
          for (const auto& c : it->second) rows.push_back(&c);
        }
      }
      std::sort(rows.begin(), rows.end(), [](const Child* x, const Child* y) { return x->seq < y->seq; });
    } else {
      read = ReadChildren(ref, ids);
      for (const auto& c : read) rows.push_back(&c);
    }
    std::set<std::string> keys;
    bool has_primary = false;
    for (const Child* c : rows) {
      if (c->owner != survivor) continue;
      keys.insert(c->key);
      has_primary |= c->primary && !c->deleted;
    }
    for (const auto& l : losers) {
      for (const Child* cp : rows) {
        const Child& c = *cp;
        if (c.owner != l) continue;
        bool conflict = !ref.unique_key.empty() && keys.count(c.key);
        if (conflict && ref.on_conflict == "block") {
          return fmt::format("{} row {} of contact {} duplicates one the survivor {} already has "
                             "(on_conflict: block)",
                             ref.name, c.id, l, survivor);
        }
        if (conflict && ref.on_conflict == "dedupe") {
          if (c.deleted) continue;  // already gone from the CRM's view; leave it where it is
          RowOp op{ref.soft_delete.empty() ? OpKind::kDelete : OpKind::kSoftDelete, ref.table,
                   ref.id_column, c.id, {}, c.text,
                   Note("{}: duplicate of the survivor {}'s row (merge of {})", ref.name,
                               survivor, l)};
          if (!ref.soft_delete.empty()) op.set.emplace_back(ref.soft_delete, "1");
          plan.set.ops.push_back(std::move(op));
          ++plan.children_deduped;
          continue;
        }
        RowOp op{OpKind::kUpdate, ref.table, ref.id_column, c.id, {{ref.column, survivor}}, c.text,
                 Note("{}: re-pointed {} → {}", ref.name, l, survivor)};
        if (c.primary && !c.deleted) {
          if (has_primary) {
            op.set.emplace_back(ref.primary_flag, "0");
          } else {
            has_primary = true;
          }
        }
        keys.insert(c.key);
        plan.set.ops.push_back(std::move(op));
        ++plan.children_repointed;
      }
    }
    return "";
  }

  void PlanRelatedOptOut(const std::string& survivor, const std::string& value, MergePlan& plan) {
    auto it = m_.fields.find("opt_out");
    if (it == m_.fields.end() || !it->second.related) return;
    const RelatedField& r = *it->second.related;
    const auto& cols = Cols(r.table);
    std::string where;
    for (const auto& [col, v] : r.where) where += fmt::format(" AND l.{} = {}", db_.Q(col), db_.Literal(v));
    soci::rowset<soci::row> rs = db_.sql().prepare << fmt::format(
        "SELECT DISTINCT CAST(t.{key} AS CHAR), {text} FROM {link} l JOIN {t} t ON t.{key} = "
        "l.{target} WHERE l.{contact} = {sid}{where}",
        fmt::arg("key", db_.Q(r.key)), fmt::arg("text", TextExpr(cols, "t")),
        fmt::arg("link", db_.Q(r.link_table)), fmt::arg("t", db_.Q(r.table)),
        fmt::arg("target", db_.Q(r.link_target)), fmt::arg("contact", db_.Q(r.link_contact)),
        fmt::arg("sid", db_.Literal(survivor)), fmt::arg("where", where));
    for (const auto& row : rs) {
      plan.set.ops.push_back({OpKind::kUpdate, r.table, r.key, crm::CellText(row, 0),
                              {{r.column, value}}, crm::CellText(row, 1),
                              Note("{} of merged contact {} (most restrictive; shared by "
                                          "every record with this address)",
                                          r.column, survivor)});
    }
  }

  // The clock's time as SQL text, formatted again only when the second changes (date::format
  // for every merge was 6 % of a 1M dry run's planning CPU).
  const std::string& Now() {
    const auto t = std::chrono::floor<std::chrono::seconds>(ctx_.clock.Now());
    if (now_text_.empty() || t != now_at_) {
      now_at_ = t;
      now_text_ = FormatSqlTime(t);
    }
    return now_text_;
  }

  RunContext& ctx_;
  crm::Db& db_;
  const Mapping& m_;
  const Slots& slots_;
  match::Normalizer& norm_;
  const bool row_text_;
  bool notes_ = true;
  std::map<std::string, std::vector<std::string>> cols_;
  Batch batch_;  // the rows read for the clusters being planned
  std::chrono::sys_seconds now_at_{};
  std::string now_text_;
};

}  // namespace

Status DedupJob::Plan(RunContext& ctx, RunReport& report) {
  // Sweep cache temp files from before this moment are not this run's (RemoveStaleSweepTemps).
  const auto run_start = std::filesystem::file_time_type::clock::now();
  crm::Db& db = ctx.db;
  const Mapping& m = ctx.cfg.mapping;
  const DedupOptions& opt = ctx.job.dedup;
  merges_.clear();
  to_queue_.clear();
  review_stale_.clear();
  report.clusters.emplace();

  auto text_columns = crm::TextColumns(db, m.contacts_table);
  if (!text_columns) return text_columns.error();
  const Slots slots = MakeSlots(db, m, opt.survivor == "most_recent_activity", *text_columns);
  match::NormalizeOptions nopt{opt.default_region, opt.email_provider_rules};
  match::Normalizer planner_norm(nopt, match::Normalizer::Memoize::kNo);
  // A dry run plans every merge as a real run would, without the rows' text (it never
  // applies), and keeps of each plan only what it reports: the tally and the counts.
  const bool keep_plans = !ctx.dry_run;
  MergePlanner planner(ctx, slots, planner_norm, /*row_text=*/keep_plans);
  // Contacts in an approved merge planned this run. The matcher's clusters are a partition
  // (match/matcher.h: connected components, split-off members clustered apart), so only these
  // can overlap one of them.
  std::unordered_set<std::string> taken;
  long long blocked = 0, changed_since_read = 0;
  PlanTally tally;
  long long merges_planned = 0, to_merge = 0, repointed = 0, deduped = 0, not_kept = 0;

  auto add_merge = [&](MergePlan&& p) {
    tally.Add(p.set);
    ++merges_planned;
    to_merge += static_cast<long long>(p.losers.size());
    repointed += p.children_repointed;
    deduped += p.children_deduped;
    not_kept += static_cast<long long>(p.values_not_kept.size());
    if (keep_plans) merges_.push_back(std::move(p));
  };

  // --- approved review items first (or only the one `review approve --now` names).
  auto approved = crm::ApprovedItems(db, ctx.job.name);
  if (!approved) return approved.error();
  for (const auto& item : *approved) {
    if (ctx.review_now && item.id != *ctx.review_now) continue;
    std::vector<std::string> losers(item.members.begin() + 1, item.members.end());
    auto planned = planner.Plan(item.survivor, losers, nullptr, /*from_batch=*/false);
    if (!planned) return planned.error();
    if (auto* why = std::get_if<std::string>(&*planned)) {
      review_stale_.emplace_back(item.id, *why);
      continue;
    }
    MergePlan p = std::get<MergePlan>(std::move(*planned));
    p.review_id = item.id;
    taken.insert(p.survivor);
    for (const auto& l : p.losers) taken.insert(l);
    report.clusters->Add(item.members, "approved", item.score, item.matched, "");
    add_merge(std::move(p));
  }
  if (ctx.review_now) {
    if (merges_planned == 0 && review_stale_.empty()) {
      return Error::Config(fmt::format("review item {} is not approved for job '{}'",
                                       *ctx.review_now, ctx.job.name));
    }
  } else {
    full_scan_ = true;
    // --- read every active contact, page by page (keyset on the primary key).
    const auto started = std::chrono::steady_clock::now();
    // How many contacts there are, to reserve the per-contact vectors (their growth would copy
    // them and double their peak) and for the progress log. On MySQL with a second session it is
    // counted there while this thread reads the first pages and the sweep cache loads, and the
    // first page appended waits for it: counted here first, it was ~0.4 s at the start of a 1M
    // repeated sweep with nothing else going on (session 14). Either way the vectors are reserved
    // before the first contact is appended: reserved after the read-ahead ring's pages, once
    // the ring was full, the 1M sweep's peak RSS (in matching) went up ~45 MiB (session 13).
    const std::string count_sql = fmt::format("SELECT COUNT(*) FROM {} c WHERE {}",
                                              db.Q(m.contacts_table), WhereActive(db, m));
    std::atomic<long long> total{-1};  // -1: not counted yet (read by the progress log)
    std::unique_ptr<crm::Db> count_db;  // declared before side_count, which waits on it
    std::future<long long> side_count;  // -1 if it failed: nothing reserved, the read says why
    if (db.mysql() && opt.threads > 1 && ctx.open_db) {
      auto s = ctx.open_db();
      if (s) count_db = std::move(*s);  // else counted here, as without a second session
    }
    // Sent here, in this thread's order of statements (the SQL trace and the crash tests count
    // statements over all sessions); its result is read on another thread.
    Status sent = Status::Ok();
    if (count_db && crm::SendTextQuery(*count_db, "counting contacts", count_sql, &sent) && sent) {
      auto task = [&ctx, d = count_db.get()] {
        long long n = -1;
        Status st = crm::ReadTextRows(*d, "counting contacts", [&n](const crm::TextRow& r) {
          n = std::stoll(std::string(r[0]));
        });
        if (st && n >= 0) return n;
        spdlog::info("[{}] dedup: the contacts were not counted beside the read ({}); the "
                     "per-contact vectors grow as they are read",
                     ctx.run_id, st ? "no count" : st.error().message);
        return -1LL;
      };
      try {
        side_count = std::async(std::launch::async, task);
      } catch (const std::system_error&) {  // no thread: counted by the first append
        side_count = std::async(std::launch::deferred, task);
      }
    } else {
      long long n = 0;
      if (Status st = crm::Guard("counting contacts",
                                 [&] { db.sql() << count_sql, soci::into(n); });
          !st) {
        return st;
      }
      total = n;
    }
    std::vector<match::Record> records;
    MetaTable meta;
    std::string cache_path, fingerprint;
    std::vector<RawHash> raw_hashes;  // per record read, for the next cache
    std::vector<uint32_t> position_of;  // per record read: its position in the cache file, or kNotCached
    auto reserve = [&](long long n) {
      if (n <= 0) return;
      const auto contacts = static_cast<size_t>(n);
      ReserveHuge(records, contacts);  // core/memory.h: ~300 MB at 1M
      meta.Reserve(contacts);
      if (opt.sweep_cache) {
        raw_hashes.reserve(contacts);
        position_of.reserve(contacts);
      }
    };
    if (!side_count.valid()) reserve(total);
    const int threads = std::max(1, opt.threads);
    // Each worker's Normalizer, made on the worker's first contact that the sweep cache does not
    // have (a repeated sweep that reuses every record never needs one).
    std::vector<std::unique_ptr<match::Normalizer>> norms(static_cast<size_t>(threads));

    // --- the sweep cache (jobs/dedup_cache.h, docs/dedup.md §9): the last sweep's prepared
    // records, reused for contacts whose id and raw values are unchanged. Anything wrong with it
    // means a full sweep, never a failed run.
    uint64_t old_generation = 0;
    std::string load_why_not;  // the sweep cache was not loaded: why
    nlohmann::json cache_report = {{"enabled", opt.sweep_cache}, {"used", false}};
    // The files hold personal data: with the cache off, none are left behind that nothing reads;
    // with it on, the temp files of a writer killed mid-write go (never a live writer's).
    // Neither ever fails a run.
    {
      const std::string path = SweepCachePath(ctx.cfg.state.directory, ctx.job.name);
      long long removed = 0;
      try {
        removed = opt.sweep_cache ? RemoveStaleSweepTemps(path, run_start)
                                  : RemoveSweepCache(path, run_start);
      } catch (const std::exception& e) {
        spdlog::warn("[{}] dedup: cannot clean up the sweep cache files beside {}: {}", ctx.run_id,
                     path, e.what());
      }
      if (removed > 0) {
        cache_report["files_removed"] = removed;
        spdlog::info("[{}] dedup: {} {} removed beside {}", ctx.run_id, removed,
                     opt.sweep_cache ? "stale temporary sweep cache file(s)"
                                     : "sweep cache file(s) (sweep_cache is off)",
                     path);
      }
    }
    // The fingerprint (the probe records: ICU's transliterators are built on first use) and the
    // file (read and checked whole: ~1 s at 1M) are made on a thread of their own while this
    // thread reads the first pages; the workers wait for it before their first page.
    struct CacheLoad {
      std::thread thread;
      std::mutex mu;
      std::condition_variable cv;
      bool ready = false;
      Result<SweepCache> loaded = Error::Failed("not loaded");
      std::string fingerprint;  // empty: it could not be made (then nothing is written)
      double seconds = 0;              // the load's, the fingerprint's beside it included
      double fingerprint_seconds = 0;  // making the fingerprint alone
      void Wait() {
        std::unique_lock l(mu);
        cv.wait(l, [&] { return ready; });
      }
      ~CacheLoad() {
        if (thread.joinable()) thread.join();
      }
    } load;
    if (opt.sweep_cache) {
      cache_path = SweepCachePath(ctx.cfg.state.directory, ctx.job.name);
      std::string inputs;
      for (const auto& slot : slots.match) inputs += slot.name + " = " + slot.expr + "\n";
      load.thread = std::thread([&load, nopt, inputs = std::move(inputs), path = cache_path] {
        const auto t0 = std::chrono::steady_clock::now();
        std::string fp;
        // Never a failed run: an exception (bad_alloc on a huge file, ...) is "no cache" too.
        Result<SweepCache> loaded = Error::Failed("not loaded");
        // The fingerprint (the probes: ICU's transliterators built, Prepare and Compare run) is
        // made on one more thread while the file is read, checked and indexed here: Load asks
        // for it only then (the two took ~1 s one after the other at 1M, session 12).
        double fp_seconds = 0;
        auto make = [&nopt, &inputs, &fp_seconds] {
          const auto f0 = std::chrono::steady_clock::now();
          std::string made_fp = SweepCacheFingerprint(nopt, inputs);
          fp_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - f0).count();
          return made_fp;
        };
        std::future<std::string> made;
        try {
          made = std::async(std::launch::async, make);
        } catch (const std::exception&) {  // no thread: made when Load asks
          made = std::async(std::launch::deferred, make);
        }
        auto get_fp = [&]() -> const std::string& {
          if (made.valid()) fp = made.get();
          return fp;
        };
        try {
          loaded = SweepCache::Load(path, [&] { return get_fp(); });
        } catch (const std::exception& e) {
          loaded = Error::Failed(fmt::format("cannot read {}: {}", path, e.what()));
        }
        try {
          get_fp();  // Load failed before it asked: the new file needs it
        } catch (const std::exception& e) {
          fp.clear();  // no fingerprint: nothing is written
          if (loaded) loaded = Error::Failed(fmt::format("cannot make the fingerprint: {}", e.what()));
        }
        std::lock_guard l(load.mu);
        load.fingerprint = std::move(fp);
        load.loaded = std::move(loaded);
        load.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        load.fingerprint_seconds = fp_seconds;
        load.ready = true;
        load.cv.notify_all();
      });
    }
    std::atomic<long long> reused{0};
    // A pipeline: this thread only reads, page by page (crm::ForEachTextRow streams the rows; a
    // page is its cells' text back to back, no allocation per row), into a ring of pages. The
    // workers (each with its own Normalizer: ICU objects are not shared) take whole pages as they
    // come, hash each contact's values and find it in the sweep cache or prepare it (a RawRecord
    // is built only for a contact the cache does not have); whichever worker finishes the oldest
    // page appends the finished pages in key order (records, meta, hashes). The reader waits only
    // when the ring is full: at most `in_flight` pages are in memory, read ahead while the cache
    // loads.
    const size_t ncells = 1 + slots.size();  // id, then the slots' values
    struct Page {
      TextPage text;
      std::vector<RawHash> hashes;  // per row
      std::vector<int> filled;      // per row: non-empty matched values
      std::vector<match::Record> prepared;
      std::vector<uint32_t> positions;  // in the cache file, or kNotCached
      size_t first_row = 0;             // how many contacts the pages before it held
      bool done = false;                // prepared, not yet appended
    };
    const size_t in_flight = SweepReadAheadPages(threads, opt.page_size);
    std::vector<Page> ring(in_flight);
    struct Pipeline {
      std::mutex mu;
      std::condition_variable cv;  // signalled on every change below
      size_t read = 0;      // pages handed to the workers (page k is ring[k % in_flight])
      size_t claimed = 0;   // pages a worker took
      size_t appended = 0;  // pages appended to records (their ring slots are free again)
      bool appending = false;
      bool reader_done = false;
      bool stop = false;  // an error or a return: the workers quit
      std::string error;
      std::vector<std::thread> workers;
      void Stop() {
        {
          std::lock_guard l(mu);
          stop = true;
        }
        cv.notify_all();
        for (auto& w : workers) {
          if (w.joinable()) w.join();
        }
      }
    } pipe;
    auto append = [&](Page& pg) {
      if (side_count.valid()) {  // the first page: the count made beside the read
        total = side_count.get();
        reserve(total);
      }
      const size_t base = slots.match.size();
      for (size_t i = 0; i < pg.text.rows(); ++i) {
        const std::string_view* cells = pg.text.Row(i);
        const std::string_view* values = cells + 1;
        std::string_view created, active;  // views of the page, copied by meta.Add
        if (slots.created >= 0) created = values[base + slots.created];
        for (int a : slots.activity) active = std::max(active, values[base + a]);
        if (active.empty() && slots.updated >= 0) active = values[base + slots.updated];
        meta.Add(cells[0], pg.hashes[i].lo, pg.filled[i], created, active);
      }
      for (auto& r : pg.prepared) records.push_back(std::move(r));
      if (opt.sweep_cache) {
        raw_hashes.insert(raw_hashes.end(), pg.hashes.begin(), pg.hashes.end());
        position_of.insert(position_of.end(), pg.positions.begin(), pg.positions.end());
      }
      pg.prepared.clear();
    };
    auto work = [&](int t) {
      try {
        const SweepCache* c = nullptr;
        bool waited = false;
        for (;;) {
          size_t seq = 0;
          {
            std::unique_lock l(pipe.mu);
            pipe.cv.wait(l, [&] { return pipe.stop || pipe.claimed < pipe.read || pipe.reader_done; });
            if (pipe.stop || pipe.claimed >= pipe.read) return;
            seq = pipe.claimed++;
          }
          if (!waited) {
            if (opt.sweep_cache) {
              load.Wait();
              if (load.loaded) c = &*load.loaded;
            }
            waited = true;
          }
          Page& pg = ring[seq % in_flight];
          const size_t n = pg.text.rows();
          pg.hashes.assign(n, RawHash{});
          pg.filled.assign(n, 0);
          pg.prepared.clear();  // default-constructed, not n copies of an empty Record
          pg.prepared.resize(n);
          pg.positions.assign(n, kNotCached);
          long long hits = 0;
          const size_t nmatch = slots.match.size();
          // Where the next contact likely is in the cache file: with nothing changed, where it
          // is in the read. A page's first contact found by its hint too, the cache's index of
          // ids is never built (~1 s of sorting at 10M contacts).
          uint32_t expect_at = pg.first_row < kNotCached ? static_cast<uint32_t>(pg.first_row)
                                                         : kNotCached;
          for (size_t i = 0; i < n; ++i) {
            const std::string_view* cells = pg.text.Row(i);
            const std::string_view id = cells[0];
            const std::string_view* values = cells + 1;
            int filled = 0;
            for (size_t f = 0; f < nmatch; ++f) filled += Empty(values[f]) ? 0 : 1;
            pg.filled[i] = filled;
            pg.hashes[i] = HashRawValues(values, nmatch);
            if (c) {
              if (auto r = c->Find(id, pg.hashes[i], &pg.positions[i], expect_at)) {
                pg.prepared[i] = std::move(*r);
                expect_at = pg.positions[i] + 1;
                ++hits;
                continue;
              }
            }
            match::RawRecord rr;
            rr.id = std::string(id);
            for (size_t f = 0; f < nmatch; ++f) {
              if (!Empty(values[f])) rr.fields[slots.match[f].name] = std::string(values[f]);
            }
            if (!norms[t]) norms[t] = std::make_unique<match::Normalizer>(nopt);
            pg.prepared[i] = match::Prepare(*norms[t], rr);
          }
          reused += hits;
          // Append the finished pages in key order; one worker at a time does it, the others go
          // on preparing.
          std::unique_lock l(pipe.mu);
          pg.done = true;
          if (pipe.appending) continue;
          pipe.appending = true;
          while (pipe.appended < pipe.read && ring[pipe.appended % in_flight].done) {
            Page& next = ring[pipe.appended % in_flight];
            l.unlock();
            append(next);
            l.lock();
            next.done = false;
            ++pipe.appended;
            pipe.cv.notify_all();
          }
          pipe.appending = false;
        }
      } catch (const std::exception& e) {
        {
          std::lock_guard l(pipe.mu);
          if (pipe.error.empty()) pipe.error = e.what();
          pipe.stop = true;
        }
        pipe.cv.notify_all();
      }
    };
    // Declared after everything the workers use: on any return they are stopped first.
    struct StopWorkers {
      Pipeline& p;
      ~StopWorkers() { p.Stop(); }
    } stop_workers{pipe};
    for (int t = 0; t < threads; ++t) pipe.workers.emplace_back(work, t);

    const std::string first_sql = ReadPageSql(db, m, slots, opt.page_size, false);
    const std::string next_sql = ReadPageSql(db, m, slots, opt.page_size, true);
    std::string last;
    long long rows_read = 0;
    for (size_t seq = 0;; ++seq) {
      {
        std::unique_lock l(pipe.mu);
        pipe.cv.wait(l, [&] { return pipe.stop || seq - pipe.appended < in_flight; });
        if (pipe.stop) break;  // a worker failed: said below
      }
      TextPage& page = ring[seq % in_flight].text;
      page.Clear(ncells);
      Status st = crm::ForEachTextRow(
          db, "reading contacts", seq == 0 ? first_sql : next_sql,
          seq == 0 ? crm::TextParams{} : crm::TextParams{{"last", last}},
          [&](const crm::TextRow& r) {
            if (r.size() != ncells) {
              throw std::runtime_error(fmt::format("{} columns, expected {}", r.size(), ncells));
            }
            page.AddRow(r);
          });
      page.Seal();
      if (!st) return st;
      if (page.rows() == 0) break;
      last = std::string(page.Row(page.rows() - 1)[0]);
      ring[seq % in_flight].first_row = static_cast<size_t>(rows_read);
      rows_read += static_cast<long long>(page.rows());
      const bool last_page = static_cast<int>(page.rows()) < opt.page_size;
      {
        std::lock_guard l(pipe.mu);
        ++pipe.read;
      }
      pipe.cv.notify_all();
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      double rate = secs > 0 ? static_cast<double>(rows_read) / secs : 0;
      if (const long long all = total; all >= 0) {
        spdlog::info("[{}] dedup: read {} of {} contacts ({:.0f}/s, ETA {:.0f}s for reading)",
                     ctx.run_id, rows_read, all, rate,
                     rate > 0 ? static_cast<double>(std::max<long long>(0, all - rows_read)) / rate : 0.0);
      } else {
        spdlog::info("[{}] dedup: read {} contacts ({:.0f}/s)", ctx.run_id, rows_read, rate);
      }
      if (last_page) break;
      if (ctx.stop_requested && ctx.stop_requested->load()) {
        report.interrupted = true;
        report.message = "stopped while reading contacts; nothing was planned";
        return Status::Ok();
      }
    }
    {
      std::lock_guard l(pipe.mu);
      pipe.reader_done = true;
    }
    pipe.cv.notify_all();
    for (auto& w : pipe.workers) w.join();
    // The count's session is done with (its result read by the first page appended, or here if
    // no page was): closed before planning opens its readers.
    if (side_count.valid()) side_count.wait();
    count_db.reset();
    if (!pipe.error.empty()) return Error::Failed(fmt::format("preparing contacts: {}", pipe.error));
    if (pipe.appended != pipe.read) {  // cannot happen
      return Error::Failed(fmt::format("preparing contacts: {} of {} pages appended", pipe.appended,
                                       pipe.read));
    }
    std::vector<Page>().swap(ring);
    if (opt.sweep_cache) {
      load.Wait();
      fingerprint = load.fingerprint;
      cache_report["load_seconds"] = load.seconds;
      cache_report["fingerprint_seconds"] = load.fingerprint_seconds;
      if (load.loaded) {
        old_generation = load.loaded->generation();
        cache_report["used"] = true;
        cache_report["cached_records"] = static_cast<long long>(load.loaded->size());
      } else {
        position_of.clear();  // nothing was found in a cache: no pairs either
        load_why_not = load.loaded.error().message;
        cache_report["why_not"] = load.loaded.error().message;
        spdlog::info("[{}] dedup: preparing every contact, the sweep cache {} is not used: {}",
                     ctx.run_id, cache_path, load.loaded.error().message);
      }
    }
    // The cache file already holds exactly these records when every record read was found in
    // it, at its own position, and it has no others: the same ids in the same order, each with
    // the same raw-value hash (Find compares it) and so the same prepared record, under the same
    // fingerprint (Load compares it). Rewriting it would change only the generation; keeping
    // the old one keeps its pairs file usable too (the pairs written below carry the same
    // generation and refer to the same positions).
    bool cache_unchanged = false;
    if (opt.sweep_cache && load.loaded && !fingerprint.empty() &&
        position_of.size() == records.size() && records.size() == load.loaded->size() &&
        reused.load() == static_cast<long long>(records.size())) {
      cache_unchanged = true;
      for (size_t i = 0; i < position_of.size() && cache_unchanged; ++i) {
        cache_unchanged = position_of[i] == i;
      }
    }
    // The last sweep's blocking (match::BlockingHistory, docs/adr/0002-incremental-blocking.md):
    // which records are new or changed, the old versions of those changed or deleted, and where
    // each old position is now — taken while the cache's bytes are still here. Not when many
    // changed (blocking would run in full anyway; the old versions would be decoded for nothing).
    match::BlockingHistory history;
    std::string history_why_not;  // why there is none, with a sweep cache
    if (opt.sweep_cache && load.loaded && position_of.size() == records.size()) {
      const size_t cached = load.loaded->size(), n = records.size();
      const auto same = static_cast<size_t>(reused.load());
      const size_t changed = (n - same) + (cached - same);
      if (static_cast<double>(changed) > history.max_changed_share * static_cast<double>(n)) {
        history_why_not = fmt::format("{} contacts changed, new or deleted (over {:.0f} % of {})",
                                      changed, history.max_changed_share * 100, n);
      } else {
        std::vector<uint8_t> used(cached, 0);
        history.changed.assign(n, 0);
        bool in_order = true;  // both reads are in primary-key order
        bool any = false;
        uint32_t previous = 0;
        for (size_t i = 0; i < n && in_order; ++i) {
          const uint32_t p = position_of[i];
          if (p == kNotCached) {
            history.changed[i] = 1;
            continue;
          }
          in_order = p < cached && (!any || p > previous);
          if (!in_order) break;
          used[p] = 1;
          previous = p;
          any = true;
        }
        try {
          if (in_order) history.gone = load.loaded->RecordsNotAt(used);
        } catch (const std::exception& e) {
          history_why_not = e.what();
        }
        if (!in_order) history_why_not = "the contacts are not in the last sweep's order";
      }
      if (!history_why_not.empty()) history = match::BlockingHistory();
    }
    load.loaded = Error::Failed("done");  // its bytes are not needed for matching
    cache_report["records_reused"] = reused.load();
    cache_report["records_prepared"] = static_cast<long long>(records.size()) - reused.load();
    if (opt.sweep_cache) {
      spdlog::info("[{}] dedup: {} contact(s) prepared, {} reused from the sweep cache", ctx.run_id,
                   static_cast<long long>(records.size()) - reused.load(), reused.load());
    }
    // The records are final once read: they are the next sweep's cache (its comparison vectors
    // follow after compare). Written before matching, whose peak memory is the sweep's. A dry
    // run writes it too — it is derived data outside the CRM and the state tables.
    uint64_t new_generation = 0;
    if (opt.sweep_cache) {
      const auto t0 = std::chrono::steady_clock::now();
      uint64_t generation = 0;
      Status written = Status::Ok();
      try {  // never a failed run (random_device, bad_alloc, ...)
        if (cache_unchanged) {
          generation = old_generation;
        } else if (fingerprint.empty()) {
          written = Error::Failed("the sweep cache fingerprint could not be made");
        } else {
          generation = NewSweepGeneration();
          written = WriteSweepCache(cache_path, fingerprint, generation, records, raw_hashes);
        }
      } catch (const std::exception& e) {
        written = Error::Failed(fmt::format("cannot write {}: {}", cache_path, e.what()));
      }
      cache_report["written"] = written.ok();
      if (cache_unchanged) cache_report["unchanged"] = true;
      if (written) {
        new_generation = generation;
      } else {
        cache_report["write_error"] = written.error().message;
        spdlog::warn("[{}] dedup: the sweep cache was not written (the next sweep prepares every "
                     "contact): {}",
                     ctx.run_id, written.error().message);
      }
      cache_report["write_seconds"] =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::vector<RawHash>().swap(raw_hashes);
    }

    report.details["read_prepare_seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    report.details["peak_rss_mib"]["read"] = PeakRssMib();
    // --- match.
    match::MatchOptions mo;
    mo.auto_threshold = opt.auto_threshold;
    mo.review_threshold = opt.review_threshold;
    mo.max_block = static_cast<size_t>(opt.max_block);
    mo.max_cluster = static_cast<size_t>(opt.max_cluster);
    mo.threads = threads;
    mo.overrides.m = opt.m;
    mo.overrides.u = opt.u;
    mo.extra_fields = m.extra;
    mo.review_different_given_names = opt.household_guard;
    mo.require_identifier = opt.require_identifier;
    auto rejected = crm::RejectedPairs(db);
    if (!rejected) return rejected.error();
    mo.rejected = std::move(*rejected);
    const std::string rule = opt.survivor;
    auto better = [&](uint32_t a, uint32_t b) {
      if (rule == "most_complete" && meta.Filled(a) != meta.Filled(b)) {
        return meta.Filled(a) > meta.Filled(b);
      }
      if (rule == "most_recent_activity" && meta.Active(a) != meta.Active(b)) {
        return meta.Active(a) > meta.Active(b);
      }
      // oldest, and the tie-break of every rule: created first, then the smaller id.
      const std::string_view xc = meta.Created(a), yc = meta.Created(b);
      if (xc != yc && !xc.empty() && !yc.empty()) return xc < yc;
      const std::string_view x = meta.Id(a), y = meta.Id(b);
      if (x.size() != y.size()) return x.size() < y.size();  // numeric ids as text
      return x < y;
    };
    // Comparison vectors of candidate pairs between two reused records come from the last
    // sweep's pairs file; every other pair is compared. With few changes, blocking pairs only
    // the blocks they touch and takes the other pairs from the file too (the history).
    match::CompareHooks hooks;
    const std::string pairs_path = PairsPath(cache_path);
    const size_t nf = match::ComparedFields(mo).size();
    const uint64_t blocking_fp = BlockingFingerprint(mo);
    bool pairs_unchanged = false;  // the pairs file holds exactly this sweep's pairs and vectors
    // What the history gave: its pairs (a, b, keys), hashed in order, to tell whether the
    // candidates came out the same (then the file need not be written again).
    KeptPairs kept;
    bool kept_all = false;  // the history's pairs were all read
    uint64_t kept_hash = 0;
    auto mix = [](uint64_t h, uint32_t a, uint32_t b, match::KeyMask k) {
      return (h ^ (static_cast<uint64_t>(a) << 32 | b)) * 0x9e3779b97f4a7c15ULL + k;
    };
    if (!history.changed.empty()) {
      history.for_each_kept = [&](const auto& give) {
        const auto t0 = std::chrono::steady_clock::now();
        kept_hash = 0;
        try {
          kept = ForEachKeptPair(pairs_path, old_generation, nf, blocking_fp, position_of,
                                 [&](const match::BlockingHistory::Kept* p, size_t count) {
                                   for (size_t i = 0; i < count; ++i) {
                                     kept_hash = mix(kept_hash, p[i].a, p[i].b, p[i].keys);
                                   }
                                   give(p, count);
                                 });
        } catch (const std::exception& e) {
          kept.why_not = fmt::format("cannot read {}: {}", pairs_path, e.what());
        }
        cache_report["pairs_read_seconds"] =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        kept_all = kept.why_not.empty() && kept.given == kept.in_file;
        return kept.why_not;
      };
      try {  // nothing changed: the file's counts are this sweep's (no grouping at all)
        history.last_stats = PairsBlockingStats(pairs_path, old_generation, nf, blocking_fp);
      } catch (const std::exception&) {
        history.last_stats.reset();  // blocking groups again and finds them
      }
      hooks.history = &history;
    }
    hooks.known = [&](const match::CompareHooks::Pairs& pairs, std::vector<uint64_t>& packed) {
      if (position_of.empty()) return;
      const auto t0 = std::chrono::steady_clock::now();
      PairsFill fill;
      try {  // a vector set before an exception is a correct one; the rest are compared
        fill = FillFromPairsCache(pairs_path, old_generation, nf, position_of, pairs, packed);
      } catch (const std::exception& e) {
        fill.why_not = fmt::format("cannot read {}: {}", pairs_path, e.what());
      }
      cache_report["pairs_reused"] = fill.reused;
      pairs_unchanged = fill.same_pairs;
      if (!fill.why_not.empty()) {
        cache_report["pairs_why_not"] = fill.why_not;
        spdlog::info("[{}] dedup: comparison vectors from the sweep cache: {}", ctx.run_id, fill.why_not);
      }
      cache_report["pairs_read_seconds"] =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    hooks.compared = [&](const match::CompareHooks::Pairs& pairs, const std::vector<uint64_t>& packed,
                         const std::vector<match::KeyMask>& keys, const match::CandidateStats& stats) {
      if (new_generation == 0) return;
      // The records' file kept as it was (same generation, every record at its own position)
      // and the pairs file holding exactly these pairs (with these keys) and no other: writing
      // it again would write the same bytes (~0.5 s at 1M, session 14).
      if (!pairs_unchanged && kept_all && static_cast<long long>(pairs.size()) == kept.given &&
          keys.size() == pairs.size()) {
        uint64_t h = 0;
        for (size_t i = 0; i < pairs.size(); ++i) h = mix(h, pairs[i].first, pairs[i].second, keys[i]);
        pairs_unchanged = h == kept_hash;
      }
      if (new_generation == old_generation && pairs_unchanged) {
        cache_report["pairs_written"] = true;
        cache_report["pairs_unchanged"] = true;
        return;
      }
      const auto t0 = std::chrono::steady_clock::now();
      Status written = Status::Ok();
      try {
        written = WritePairsCache(pairs_path, new_generation, nf, blocking_fp, pairs, packed, keys, stats);
      } catch (const std::exception& e) {
        written = Error::Failed(fmt::format("cannot write {}: {}", pairs_path, e.what()));
      }
      cache_report["pairs_written"] = written.ok();
      if (!written) {
        cache_report["pairs_write_error"] = written.error().message;
        spdlog::warn("[{}] dedup: the sweep cache's comparison vectors were not written: {}",
                     ctx.run_id, written.error().message);
      }
      cache_report["pairs_write_seconds"] =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    if (!position_of.empty() && position_of.size() != records.size()) {
      // Cannot happen; if it did, positions would not be this sweep's records: compare all.
      spdlog::warn("[{}] dedup: sweep cache positions ({}) do not match the records ({}); "
                   "comparing every pair", ctx.run_id, position_of.size(), records.size());
      position_of.clear();
    }
    match::MatchResult res =
        match::FindDuplicates(records, mo, better, opt.sweep_cache ? &hooks : nullptr);
    std::vector<uint32_t>().swap(position_of);
    history = match::BlockingHistory();
    if (opt.sweep_cache) {
      const bool incremental = hooks.history != nullptr && res.blocking.incremental;
      cache_report["blocking"] = !incremental ? "full" : res.blocking.unchanged ? "unchanged" : "incremental";
      if (incremental) {
        cache_report["pairs_reused"] = res.blocking.pairs_kept;
        cache_report["blocking_dirty_records"] = res.blocking.dirty_records;
      } else {
        cache_report["blocking_full_because"] =
            hooks.history != nullptr     ? res.blocking.full_because
            : !history_why_not.empty()   ? history_why_not
            : load_why_not.empty()       ? std::string("no contacts")
                                         : "the sweep cache is not used: " + load_why_not;
      }
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (cache_report.contains("pairs_reused")) {
      cache_report["pairs_compared"] =
          res.stats.candidate_pairs - cache_report["pairs_reused"].get<long long>();
    }
    report.details["sweep_cache"] = cache_report;
    spdlog::info("[{}] dedup: {} contacts, {} candidate pairs (reduction {:.5f}), {} links, {} "
                 "clusters in {:.1f}s",
                 ctx.run_id, records.size(), res.stats.candidate_pairs, res.stats.reduction_ratio,
                 res.links.size(), res.clusters.size(), secs);
    report.counts["contacts_read"] = static_cast<long long>(records.size());
    report.counts["candidate_pairs"] = res.stats.candidate_pairs;
    report.counts["reduction_ratio"] = res.stats.reduction_ratio;
    report.counts["blocks_capped"] = res.stats.blocks_capped;
    report.counts["blocks_windowed"] = res.stats.blocks_windowed;
    report.counts["blocks_refined"] = res.stats.blocks_refined;
    report.counts["largest_block"] = res.stats.largest_block;
    {
      nlohmann::json by_key = nlohmann::json::object();
      for (const auto& [k, v] : res.stats.pairs_by_key) by_key[k] = v;
      report.details["pairs_by_key"] = by_key;
      const auto& tm = res.timings;
      report.details["match_seconds"] = {{"blocking", tm.blocking}, {"compare", tm.compare},
                                         {"em", tm.em},             {"u_sample", tm.u_sample},
                                         {"score", tm.score},       {"cluster", tm.cluster}};
      report.details["peak_rss_mib"]["match"] = PeakRssMib();
    }
    report.counts["em_iterations"] = res.model.em_iterations;
    {
      nlohmann::json sessions = nlohmann::json::array();
      for (const auto& s : res.model.sessions) {
        sessions.push_back({{"name", s.name}, {"pairs", s.pairs}, {"lambda", s.lambda},
                            {"iterations", s.iterations}, {"converged", s.converged}});
      }
      // Term frequencies (docs/dedup.md §4): per field, how many records hold a value, how many
      // distinct values, and the share of the most common one (Nguyen, a city's postcode).
      nlohmann::json tf = nlohmann::json::object();
      const auto specs = match::ComparedFields(mo);
      for (const auto& f : res.model.tf.fields) {
        uint32_t largest = 0;
        for (const auto& [hash, count] : f.counts) largest = std::max(largest, count);
        tf[specs.at(f.index).name] = {
            {"values", f.values},
            {"distinct", static_cast<long long>(f.counts.size())},
            {"largest_share", f.values > 0 ? static_cast<double>(largest) /
                                                 static_cast<double>(f.values)
                                           : 0.0}};
      }
      report.details["model"] = {{"estimate", res.model.em_choice},
                                 {"converged", res.model.converged},
                                 {"lambda_candidates", res.model.lambda_candidates},
                                 {"sessions", sessions},
                                 {"term_frequencies", tf}};
    }
    report.counts["links"] = static_cast<long long>(res.links.size());
    report.counts["sweep_seconds"] = std::round(secs * 10) / 10;
    // Planning needs only the clusters and `meta`: the prepared records and the links go now
    // (at 1M contacts they are most of the memory still held).
    std::vector<match::Record>().swap(records);
    std::vector<match::Link>().swap(res.links);
    res.model.tf = {};

    report.counts["links_over_max_cluster"] = res.cluster_stats.links_over_max_cluster;
    report.counts["review_links_to_auto_clusters"] = res.cluster_stats.review_links_to_auto;
    report.counts["members_split_off"] = res.cluster_stats.members_split_off;
    if (res.cluster_stats.links_over_max_cluster > 0) {
      spdlog::warn("[{}] dedup: {} link(s) dropped because their clusters would exceed "
                   "max_cluster {} (links chained through shared data)",
                   ctx.run_id, res.cluster_stats.links_over_max_cluster, opt.max_cluster);
    }

    long long n_auto = 0, n_review = 0;
    {  // the review items to come (a blocked merge adds one more): not grown one at a time
      size_t review = 0;
      for (const auto& c : res.clusters) review += c.decision != match::Decision::kAuto || !opt.auto_merge;
      to_queue_.reserve(to_queue_.size() + review);
    }
    const size_t batch_size = static_cast<size_t>(std::max(1, opt.plan_batch));
    // The auto clusters' members from cluster `from` on (a batch) and those of them that are not
    // survivors.
    auto batch_members = [&](size_t from) {
      std::pair<std::vector<std::string>, std::vector<std::string>> b;
      for (size_t k = from; k < std::min(res.clusters.size(), from + batch_size); ++k) {
        if (res.clusters[k].decision != match::Decision::kAuto) continue;
        for (uint32_t i : res.clusters[k].members) b.first.emplace_back(meta.Id(i));
        for (size_t i = 1; i < res.clusters[k].members.size(); ++i) {
          b.second.emplace_back(meta.Id(res.clusters[k].members[i]));
        }
      }
      return b;
    };
    // With more sessions (MariaDB/MySQL, `threads` ≥ 2), the next batches' rows are read on
    // them, each on a thread of its own, while this one plans the batch before: the server's
    // work and the transfer overlap the planning instead of adding to it, and with two readers
    // the server answers two batches at once (one reader kept it busy on one core while the
    // planner waited for it: docs/benchmarks.md, session 12). Batch b (b ≥ 1) is read on reader
    // (b − 1) % readers, handed over in order; batch 0 on this session. The readers only read;
    // every check a merge needs is made here as before (and again inside the apply transaction).
    std::vector<std::unique_ptr<crm::Db>> readers;
    const size_t batches = (res.clusters.size() + batch_size - 1) / batch_size;
    if (opt.auto_merge && db.mysql() && opt.threads > 1 && ctx.open_db && batches > 1) {
      // A session that cannot be opened (max_connections reached, ...) means fewer readers, not
      // a failed run: the planner reads what no reader does on its own session, as before.
      const size_t want = std::min<size_t>(batches - 1, kPlanReaders);
      for (size_t r = 0; r < want; ++r) {
        auto s = ctx.open_db();
        if (!s) {
          spdlog::warn("[{}] dedup: planning reads ahead on {} session(s) instead of {}: cannot "
                       "open another: {}",
                       ctx.run_id, readers.size(), want, s.error().message);
          break;
        }
        readers.push_back(std::move(*s));
      }
    }
    // The batches read or being read, in order (at most one per reader).
    std::deque<std::future<Result<MergePlanner::Batch>>> ahead;
    size_t next_read = 1;  // the first batch not yet handed to a reader
    auto read_ahead = [&]() -> Status {
      while (!readers.empty() && ahead.size() < readers.size() && next_read < batches) {
        const size_t b = next_read++;
        auto [ids, losers] = batch_members(b * batch_size);
        auto q = std::make_shared<MergePlanner::BatchQueries>();
        // The SQL is made here: it quotes with and reads the schema through this session.
        Status st = crm::Guard("reading merge candidates",
                               [&] { *q = planner.BatchSql(std::move(ids), losers); });
        if (!st) return st;
        crm::Db* reader = readers[(b - 1) % readers.size()].get();
        auto read = [&planner, reader, q] { return planner.ReadBatch(*reader, *q); };
        try {
          ahead.push_back(std::async(std::launch::async, read));
        } catch (const std::system_error&) {  // no thread to be had: read here when it is needed
          ahead.push_back(std::async(std::launch::deferred, read));
        }
      }
      return Status::Ok();
    };
    // Never leave a reader running on a return: it uses the planner and its session.
    struct Join {
      std::deque<std::future<Result<MergePlanner::Batch>>>& f;
      ~Join() {
        for (auto& x : f) {  // a deferred read (no thread) is simply not run
          if (x.valid() && x.wait_for(std::chrono::seconds(0)) != std::future_status::deferred) x.wait();
        }
      }
    } join{ahead};
    for (size_t ci = 0; ci < res.clusters.size(); ++ci) {
      if (ci % batch_size == 0 && opt.auto_merge) {
        planner.ClearPrefetched();
        if (ci == 0 || readers.empty()) {
          // The readers start on the next batches before this one is read here.
          if (Status st = read_ahead(); !st) return st;
          auto [ids, losers] = batch_members(ci);
          if (Status st = planner.Prefetch(std::move(ids), losers); !st) return st;
        } else {
          Result<MergePlanner::Batch> b = ahead.front().get();
          ahead.pop_front();
          if (!b) return b.error();
          planner.UseBatch(std::move(*b));
          if (Status st = read_ahead(); !st) return st;
        }
      }
      const match::Cluster& c = res.clusters[ci];
      std::vector<std::string> ids;
      std::vector<uint64_t> hashes;  // ids[i]'s when it was matched
      ids.reserve(c.members.size());
      hashes.reserve(c.members.size());
      for (uint32_t i : c.members) {
        ids.emplace_back(meta.Id(i));
        hashes.push_back(meta.Hash(i));
      }
      bool overlaps = false;
      if (!taken.empty()) {
        for (const auto& id : ids) overlaps |= taken.count(id) > 0;
      }
      if (overlaps) continue;  // part of an approved merge this run; seen again next run
      std::string why = c.why;
      bool is_auto = c.decision == match::Decision::kAuto && opt.auto_merge;
      if (c.decision == match::Decision::kAuto && !opt.auto_merge) why = "auto_merge is off";
      if (is_auto) {
        std::vector<std::string> losers(ids.begin() + 1, ids.end());
        planner.set_notes(keep_plans || tally.Sampling());
        // An auto cluster's members were read with its batch (auto_merge is on).
        auto planned = planner.Plan(ids.front(), losers, &hashes, /*from_batch=*/true);
        if (!planned) return planned.error();
        if (auto* reason = std::get_if<std::string>(&*planned)) {
          if (reason->find("changed since") != std::string::npos ||
              reason->find("no longer exists") != std::string::npos) {
            ++changed_since_read;  // the next run sees the new values
            continue;
          }
          ++blocked;
          is_auto = false;
          why = *reason;
        } else {
          ++n_auto;
          report.clusters->Add(ids, "auto", c.score, c.matched, "");
          add_merge(std::get<MergePlan>(std::move(*planned)));
          continue;
        }
      }
      ++n_review;
      report.clusters->Add(ids, "review", c.score, c.matched, why);
      crm::ReviewItem item;
      item.job = ctx.job.name;
      item.cluster_key = crm::ClusterKey(ids);
      item.survivor = ids.front();
      item.members = ids;
      item.score = c.score;
      item.matched = c.matched;
      item.why = why;
      item.seen_run = ctx.run_id;
      to_queue_.push_back(std::move(item));
    }
    report.counts["clusters"] = static_cast<long long>(res.clusters.size());
    report.counts["clusters_auto"] = n_auto;
    report.counts["clusters_review"] = n_review;
    report.counts["merges_blocked"] = blocked;
    report.counts["changed_since_read"] = changed_since_read;
  }

  planner.ClearPrefetched();
  report.counts["merges_planned"] = merges_planned;
  report.counts["contacts_to_merge"] = to_merge;
  report.counts["children_to_repoint"] = repointed;
  report.counts["children_to_dedupe"] = deduped;
  report.counts["values_without_a_free_field"] = not_kept;
  report.counts["review_items"] = static_cast<long long>(to_queue_.size());
  if (!review_stale_.empty()) report.counts["approved_not_mergeable"] = static_cast<long long>(review_stale_.size());
  report.details["plan"] = tally.Describe();
  report.details["peak_rss_mib"]["plan"] = PeakRssMib();
  report.message = fmt::format("{} merge(s) planned ({} contact(s) into survivors), {} cluster(s) "
                               "for review",
                               merges_planned, to_merge, to_queue_.size());
  return tally.Check(db, {ctx.job.max_rows, ctx.job.max_fraction});
}

Status DedupJob::Apply(RunContext& ctx, RunReport& report) {
  std::vector<ChangeSet> sets;
  sets.reserve(merges_.size());
  for (const auto& p : merges_) sets.push_back(p.set);
  if (Status st = ApplyGuarded(ctx, sets, report); !st) return st;
  // Which merges committed: the ledger knows (set numbers are 1-based plan positions).
  applied_sets_.clear();
  Status st = crm::Guard("reading the ledger", [&] {
    soci::rowset<int> rs = (ctx.db.sql().prepare << fmt::format(
                                "SELECT DISTINCT set_no FROM {} WHERE run_id = :r",
                                ctx.db.State("ledger")),
                            soci::use(ctx.run_id));
    for (int s : rs) applied_sets_.push_back(s);
  });
  if (!st) return st;
  long long merged = 0;
  for (int s : applied_sets_) {
    if (s >= 1 && s <= static_cast<int>(merges_.size())) merged += static_cast<long long>(merges_[s - 1].losers.size());
  }
  report.counts["merges_applied"] = static_cast<long long>(applied_sets_.size());
  report.counts["contacts_merged"] = merged;
  report.message = fmt::format("{} merge(s) applied ({} contact(s) merged into survivors); {} "
                               "skipped because a row changed since the plan; {} cluster(s) for "
                               "review",
                               applied_sets_.size(), merged,
                               report.counts.value("changed_since_plan", 0LL), to_queue_.size());
  return Status::Ok();
}

Status DedupJob::Record(RunContext& ctx, RunReport& report) {
  crm::Db& db = ctx.db;
  const SysSeconds now = std::chrono::floor<std::chrono::seconds>(ctx.clock.Now());
  std::set<int> applied(applied_sets_.begin(), applied_sets_.end());
  for (size_t i = 0; i < merges_.size(); ++i) {
    if (merges_[i].review_id == 0 || !applied.count(static_cast<int>(i) + 1)) continue;
    if (Status st = crm::CloseReview(db, merges_[i].review_id, "merged", ctx.run_id, "", now); !st) {
      return st;
    }
  }
  for (const auto& [id, why] : review_stale_) {
    if (Status st = crm::CloseReview(db, id, "stale", ctx.run_id, why, now); !st) return st;
  }
  long long queued = 0;
  for (const auto& item : to_queue_) {
    auto added = crm::QueueReview(db, item, now);
    if (!added) return added.error();
    queued += *added ? 1 : 0;
  }
  report.counts["review_items_new"] = queued;
  if (full_scan_ && !report.interrupted) {
    auto stale = crm::StaleUnseen(db, ctx.job.name, ctx.run_id, now);
    if (!stale) return stale.error();
    report.counts["review_items_stale"] = *stale;
  }
  return Status::Ok();
}

}  // namespace crmh::jobs
