#include "crm/review.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace crmh::crm {
namespace {

const char* kColumns =
    "id, job, cluster_key, survivor, members, score, matched, why, status, created_run, "
    "seen_run, merged_run, CAST(created_at AS CHAR), CAST(decided_at AS CHAR), decided_by, note";

std::vector<std::string> JsonList(const std::string& text) {
  std::vector<std::string> out;
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string JsonText(const std::vector<std::string>& v) { return nlohmann::json(v).dump(); }

ReviewItem FromRow(const soci::row& r) {
  ReviewItem it;
  it.id = std::stoll(CellText(r, 0));
  it.job = CellText(r, 1);
  it.cluster_key = CellText(r, 2);
  it.survivor = CellText(r, 3);
  it.members = JsonList(CellText(r, 4));
  std::string score = CellText(r, 5);
  it.score = score.empty() ? 0.0 : std::strtod(score.c_str(), nullptr);
  it.matched = JsonList(CellText(r, 6));
  it.why = CellText(r, 7);
  it.status = CellText(r, 8);
  it.created_run = CellText(r, 9);
  it.seen_run = CellText(r, 10);
  it.merged_run = CellText(r, 11);
  it.created_at = CellText(r, 12);
  it.decided_at = CellText(r, 13);
  it.decided_by = CellText(r, 14);
  it.note = CellText(r, 15);
  return it;
}

std::string OpenKey(const std::string& job, const std::string& key) { return job + "/" + key; }

Result<std::vector<ReviewItem>> Query(Db& db, const std::string& where, const std::string& a,
                                      int limit) {
  std::vector<ReviewItem> out;
  Status st = Guard("reading the review queue", [&] {
    std::string sql = fmt::format("SELECT {} FROM {}{} ORDER BY id LIMIT {}", kColumns,
                                  db.State("review"), where, limit);
    if (a.empty()) {
      soci::rowset<soci::row> rs = db.sql().prepare << sql;
      for (const auto& r : rs) out.push_back(FromRow(r));
    } else {
      soci::rowset<soci::row> rs = (db.sql().prepare << sql, soci::use(a));
      for (const auto& r : rs) out.push_back(FromRow(r));
    }
  });
  if (!st) return st.error();
  return out;
}

}  // namespace

std::string ClusterKey(std::vector<std::string> members) {
  std::sort(members.begin(), members.end());
  // Two independent 64-bit FNV-1a hashes: 32 hex digits, collisions out of reach.
  uint64_t h1 = 1469598103934665603ULL, h2 = 1099511628211ULL ^ 0x9e3779b97f4a7c15ULL;
  for (const auto& m : members) {
    for (unsigned char c : m + '\x1f') {
      h1 = (h1 ^ c) * 1099511628211ULL;
      h2 = (h2 ^ c) * 0x100000001b3ULL + 0x632be59bd9b4e019ULL;
    }
  }
  return fmt::format("{:016x}{:016x}", h1, h2);
}

Result<bool> QueueReview(Db& db, const ReviewItem& item, SysSeconds now) {
  bool inserted = false;
  const std::string open_key = OpenKey(item.job, item.cluster_key);
  const std::string members = JsonText(item.members), matched = JsonText(item.matched);
  const std::string at = FormatSqlTime(now);
  const std::string status = "open";
  Status st = Guard("queueing a review item", [&] {
    soci::statement up = (db.sql().prepare << fmt::format(
                              "UPDATE {} SET score = :s, why = :w, seen_run = :r, survivor = :v, "
                              "members = :m, matched = :x WHERE open_key = :k",
                              db.State("review")),
                          soci::use(item.score), soci::use(item.why), soci::use(item.seen_run),
                          soci::use(item.survivor), soci::use(members), soci::use(matched),
                          soci::use(open_key));
    up.execute(true);
    if (up.get_affected_rows() > 0) return;
    db.sql() << fmt::format(
                    "INSERT INTO {} (job, cluster_key, open_key, survivor, members, score, "
                    "matched, why, status, created_run, seen_run, created_at) VALUES (:j, :c, "
                    ":k, :v, :m, :s, :x, :w, :st, :r1, :r2, :t)",
                    db.State("review")),
        soci::use(item.job), soci::use(item.cluster_key), soci::use(open_key),
        soci::use(item.survivor), soci::use(members), soci::use(item.score), soci::use(matched),
        soci::use(item.why), soci::use(status), soci::use(item.seen_run),
        soci::use(item.seen_run), soci::use(at);
    inserted = true;
  });
  if (!st) return st.error();
  return inserted;
}

Result<long long> StaleUnseen(Db& db, const std::string& job, const std::string& run_id,
                              SysSeconds now) {
  long long n = 0;
  const std::string at = FormatSqlTime(now);
  Status st = Guard("updating the review queue", [&] {
    soci::statement s = (db.sql().prepare << fmt::format(
                             "UPDATE {} SET status = 'stale', open_key = NULL, decided_at = :t, "
                             "note = 'no longer found by a dedup run' WHERE job = :j AND status "
                             "= 'open' AND seen_run <> :r",
                             db.State("review")),
                         soci::use(at), soci::use(job), soci::use(run_id));
    s.execute(true);
    n = s.get_affected_rows();
  });
  if (!st) return st.error();
  return n;
}

Result<std::vector<ReviewItem>> ListReview(Db& db, const std::string& status_filter, int limit) {
  if (status_filter.empty()) return Query(db, "", "", limit);
  return Query(db, " WHERE status = :s", status_filter, limit);
}

Result<std::optional<ReviewItem>> GetReview(Db& db, long long id) {
  auto items = Query(db, fmt::format(" WHERE id = {}", id), "", 1);
  if (!items) return items.error();
  if (items->empty()) return std::optional<ReviewItem>{};
  return std::optional<ReviewItem>{std::move(items->front())};
}

Result<std::vector<ReviewItem>> ApprovedItems(Db& db, const std::string& job) {
  return Query(db, " WHERE status = 'approved' AND job = :j", job, 100000);
}

Status ApproveReview(Db& db, long long id, const std::string& who, SysSeconds now) {
  auto item = GetReview(db, id);
  if (!item) return item.error();
  if (!item->has_value()) return Error::Config(fmt::format("no review item {}", id));
  if ((*item)->status != "open") {
    return Error::Refused(fmt::format("review item {} is {}, not open", id, (*item)->status));
  }
  const std::string at = FormatSqlTime(now);
  return Guard("approving a review item", [&] {
    db.sql() << fmt::format("UPDATE {} SET status = 'approved', decided_at = :t, decided_by = :w "
                            "WHERE id = :id AND status = 'open'",
                            db.State("review")),
        soci::use(at), soci::use(who), soci::use(id);
  });
}

Status RejectReview(Db& db, long long id, const std::string& who, SysSeconds now) {
  auto item = GetReview(db, id);
  if (!item) return item.error();
  if (!item->has_value()) return Error::Config(fmt::format("no review item {}", id));
  const ReviewItem& it = **item;
  if (it.status != "open" && it.status != "approved") {
    return Error::Refused(fmt::format("review item {} is {}; only an open or approved item can be "
                                      "rejected",
                                      id, it.status));
  }
  const std::string at = FormatSqlTime(now);
  return Guard("rejecting a review item", [&] {
    soci::transaction tx(db.sql());
    db.sql() << fmt::format("UPDATE {} SET status = 'rejected', open_key = NULL, decided_at = :t, "
                            "decided_by = :w WHERE id = :id",
                            db.State("review")),
        soci::use(at), soci::use(who), soci::use(id);
    std::vector<std::string> m = it.members;
    std::sort(m.begin(), m.end());
    m.erase(std::unique(m.begin(), m.end()), m.end());
    for (size_t i = 0; i < m.size(); ++i) {
      for (size_t j = i + 1; j < m.size(); ++j) {
        int exists = 0;
        db.sql() << fmt::format("SELECT COUNT(*) FROM {} WHERE id_a = :a AND id_b = :b",
                                db.State("rejected_pairs")),
            soci::use(m[i]), soci::use(m[j]), soci::into(exists);
        if (exists) continue;
        db.sql() << fmt::format("INSERT INTO {} (id_a, id_b, review_id, rejected_at, rejected_by) "
                                "VALUES (:a, :b, :id, :t, :w)",
                                db.State("rejected_pairs")),
            soci::use(m[i]), soci::use(m[j]), soci::use(id), soci::use(at), soci::use(who);
      }
    }
    tx.commit();
  });
}

Status CloseReview(Db& db, long long id, const std::string& status, const std::string& run_id,
                   const std::string& note, SysSeconds now) {
  const std::string at = FormatSqlTime(now);
  return Guard("closing a review item", [&] {
    db.sql() << fmt::format("UPDATE {} SET status = :s, open_key = NULL, merged_run = :r, note = :n, "
                            "decided_at = COALESCE(decided_at, :t) WHERE id = :id",
                            db.State("review")),
        soci::use(status), soci::use(run_id), soci::use(note), soci::use(at), soci::use(id);
  });
}

Result<std::set<std::pair<std::string, std::string>>> RejectedPairs(Db& db) {
  std::set<std::pair<std::string, std::string>> out;
  Status st = Guard("reading rejected pairs", [&] {
    soci::rowset<soci::row> rs =
        db.sql().prepare << fmt::format("SELECT id_a, id_b FROM {}", db.State("rejected_pairs"));
    for (const auto& r : rs) out.emplace(CellText(r, 0), CellText(r, 1));
  });
  if (!st) return st.error();
  return out;
}

}  // namespace crmh::crm
