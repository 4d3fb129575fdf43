#include "daemon/demo_sim.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>
#include <soci/soci.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <random>

#include "core/time_util.h"
#include "crm/db.h"
#include "crm/review.h"
#include "jobs/digest.h"

namespace crmh::demo {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::sys_seconds;

// Records each rep fixes per week (index = users.id - 1): mnguyen cleans up her book.
constexpr std::array<int, 8> kFixesPerWeek = {6, 25, 4, 2, 5, 3, 1, 0};
constexpr int kArrivals = 12;
constexpr int kDuplicates = 5;
constexpr int kCalls = 30;
constexpr int kReps = 8;

constexpr std::array<const char*, 12> kFirst = {"Anna", "Jonas", "Marie", "Lukas", "Sofia", "Elias",
                                                "Hannah", "Noah", "Lea", "Felix", "Mia", "Paul"};
constexpr std::array<const char*, 12> kLast = {"Berg", "Krüger", "Hoffmann", "Wagner", "Becker", "Vogel",
                                               "Lehmann", "Franke", "Roth", "Brandt", "Lorenz", "Peters"};
constexpr std::array<const char*, 5> kDomains = {"nordlicht.eu", "kontor-nord.de", "bluewave.io",
                                                 "acme-gmbh.de", "gmial.com"};  // the last one a typo
constexpr std::array<const char*, 4> kCountries = {"Germany", "DE", "Deutschland", "germany "};
constexpr std::array<const char*, 4> kCompanies = {"Nordlicht GmbH", "Kontor Nord AG", "Bluewave Ltd",
                                                   "ACME GmbH"};

std::string Ascii(std::string s) {
  std::string out;
  for (char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) out += static_cast<char>(c | 0x20);
  }
  return out;
}

std::string Digits(std::mt19937_64& rng, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += static_cast<char>('0' + (i == 0 ? 2 + rng() % 8 : rng() % 10));
  return s;
}

// A Berlin number in one of the spellings reps use.
std::string Phone(std::mt19937_64& rng, int style) {
  std::string sub = Digits(rng, 7);
  switch (style % 4) {
    case 0: return "+49 30 " + sub;
    case 1: return "030 " + sub;
    case 2: return "+4930" + sub;
    default: return "(030) " + sub.substr(0, 3) + "-" + sub.substr(3);
  }
}

struct Row {
  long long id = 0;
  std::string phone, country, email, flagged;  // flagged: comma-separated open-flag fields
};

}  // namespace

std::vector<sys_seconds> SimulationTimes(sys_seconds now, const date::time_zone* tz, int weeks) {
  using jobs::digest::Shift;
  using jobs::digest::WeekOf;
  sys_seconds t = now - minutes(10);
  jobs::digest::Week w = WeekOf(t, tz);
  // Keep two hours from both ends of the week, so a DST hour or the jobs' minutes never push a
  // week's runs into its neighbour; near the start, the last simulated week is the one before.
  if (t < w.start + hours(2)) {
    w = Shift(w, -1, tz);
    t = w.end - hours(2);
  }
  if (t > w.end - hours(2)) t = w.end - hours(2);
  const auto offset = t - w.start;
  std::vector<sys_seconds> out;
  for (int i = weeks - 1; i >= 0; --i) out.push_back(Shift(w, -i, tz).start + offset);
  return out;
}

Result<WeekChanges> SimulateWeek(soci::session& sql, int week, sys_seconds now, uint64_t seed) {
  WeekChanges ch;
  std::mt19937_64 rng(seed ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(week + 1)));
  const std::string ts = FormatSqlTime(now);
  try {
    soci::transaction tr(sql);
    // 1. Reps fix their own records: a missing mandatory field filled, a flagged value corrected,
    //    a junk entry (a placeholder or an address in the name) deleted.
    for (int rep = 1; rep <= kReps; ++rep) {
      int k = kFixesPerWeek[rep - 1];
      if (k == 0) continue;
      std::vector<Row> rows;
      soci::rowset<soci::row> rs = (sql.prepare << "SELECT c.id, COALESCE(c.phone, ''), COALESCE(c.country, ''), "
                                    "COALESCE(c.email, ''), COALESCE((SELECT GROUP_CONCAT(f.field) FROM crmh_flags f "
                                    "WHERE f.contact_id = CAST(c.id AS TEXT) AND f.cleared_at IS NULL), '') "
                                    "FROM contacts c WHERE c.deleted = 0 AND c.owner_id = :r AND ("
                                    "TRIM(COALESCE(c.phone, '')) = '' OR TRIM(COALESCE(c.country, '')) = '' OR "
                                    "TRIM(COALESCE(c.email, '')) = '' OR EXISTS (SELECT 1 FROM crmh_flags f WHERE "
                                    "f.contact_id = CAST(c.id AS TEXT) AND f.cleared_at IS NULL)) "
                                    "ORDER BY c.updated_at, c.id LIMIT :k",
                                    soci::use(rep), soci::use(k));
      for (const auto& r : rs) {
        rows.push_back({crm::CellInt(r, 0), crm::CellText(r, 1), crm::CellText(r, 2),
                        crm::CellText(r, 3), crm::CellText(r, 4)});
      }
      for (const auto& r : rows) {
        auto flagged = [&](const char* f) {
          return ("," + r.flagged + ",").find(std::string(",") + f + ",") != std::string::npos;
        };
        if (flagged("name") || flagged("first_name") || flagged("last_name")) {
          sql << "UPDATE contacts SET deleted = 1, updated_at = :t, modified_by = :r WHERE id = :id",
              soci::use(ts), soci::use(rep), soci::use(r.id);
          ++ch.junk_removed;
          continue;
        }
        std::string phone = r.phone, country = r.country, email = r.email;
        if (phone.find_first_not_of(" ") == std::string::npos || flagged("phone")) phone = Phone(rng, 0);
        if (country.find_first_not_of(" ") == std::string::npos || flagged("country")) country = "Germany";
        if (email.find_first_not_of(" ") == std::string::npos || flagged("email")) {
          email = fmt::format("c{}@{}", r.id, kDomains[rng() % 4]);
        }
        const int mobile_flag = flagged("mobile") ? 1 : 0, email2_flag = flagged("email2") ? 1 : 0;
        sql << "UPDATE contacts SET phone = :p, country = :c, email = :e, mobile = CASE WHEN :mf = 1 "
               "THEN NULL ELSE mobile END, email2 = CASE WHEN :ef = 1 THEN NULL ELSE email2 END, "
               "updated_at = :t, modified_by = :r WHERE id = :id",
            soci::use(phone), soci::use(country), soci::use(email), soci::use(mobile_flag),
            soci::use(email2_flag), soci::use(ts), soci::use(rep), soci::use(r.id);
        ++ch.fixed;
      }
    }
    // 2. New leads, some of them dirty.
    for (int i = 0; i < kArrivals; ++i) {
      int owner = 1 + static_cast<int>(rng() % kReps);
      std::string first = kFirst[rng() % kFirst.size()], last = kLast[rng() % kLast.size()];
      std::string email = fmt::format("{}.{}{}@{}", Ascii(first), Ascii(last), week * 100 + i,
                                      kDomains[rng() % kDomains.size()]);
      if (rng() % 5 == 0) email = " " + first + "." + last + "@Nordlicht.EU ";  // capitals and spaces
      std::string phone = rng() % 4 == 0 ? "" : Phone(rng, static_cast<int>(rng() % 4));
      std::string country = rng() % 6 == 0 ? "" : kCountries[rng() % kCountries.size()];
      std::string company = kCompanies[rng() % kCompanies.size()];
      sql << "INSERT INTO contacts (first_name, last_name, email, phone, company, city, country, status, "
             "owner_id, created_by, modified_by, created_at, updated_at, last_contacted_at) VALUES (:f, :l, "
             ":e, :p, :co, 'Berlin', :cn, 'lead', :o, :o2, :o3, :t, :t2, :t3)",
          soci::use(first), soci::use(last), soci::use(email), soci::use(phone), soci::use(company),
          soci::use(country), soci::use(owner), soci::use(owner), soci::use(owner), soci::use(ts),
          soci::use(ts), soci::use(ts);
      ++ch.arrived;
    }
    // 3. Contacts entered again by a rep who did not search first.
    long long live = 0;
    sql << "SELECT COUNT(*) FROM contacts WHERE deleted = 0 AND email LIKE '%_@_%'", soci::into(live);
    for (int i = 0; i < kDuplicates && live > 0; ++i) {
      long long offset = static_cast<long long>(rng() % static_cast<uint64_t>(live));
      soci::row r;
      sql << "SELECT id, COALESCE(first_name, ''), COALESCE(last_name, ''), email, COALESCE(phone, ''), "
             "COALESCE(company, ''), COALESCE(city, ''), COALESCE(country, ''), owner_id FROM contacts "
             "WHERE deleted = 0 AND email LIKE '%_@_%' ORDER BY id LIMIT 1 OFFSET :o",
          soci::use(offset), soci::into(r);
      if (!sql.got_data()) break;
      std::string first = crm::CellText(r, 1), last = crm::CellText(r, 2), email = crm::CellText(r, 3),
                  phone = crm::CellText(r, 4), company = crm::CellText(r, 5), city = crm::CellText(r, 6),
                  country = crm::CellText(r, 7);
      int creator = 1 + static_cast<int>(rng() % kReps);
      switch (rng() % 3) {
        case 0:
          for (auto& c : email) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          break;
        case 1: {
          std::string digits;
          for (char c : phone) {
            if (c >= '0' && c <= '9') digits += c;
          }
          phone = digits;
          break;
        }
        default:
          for (auto& c : first) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      long long owner = crm::CellInt(r, 8);
      if (owner == 0) owner = creator;
      sql << "INSERT INTO contacts (first_name, last_name, email, phone, company, city, country, status, "
             "owner_id, created_by, modified_by, created_at, updated_at) VALUES (:f, :l, :e, :p, :co, :ci, "
             ":cn, 'lead', :o, :c, :c2, :t, :t2)",
          soci::use(first), soci::use(last), soci::use(email), soci::use(phone), soci::use(company),
          soci::use(city), soci::use(country),
          soci::use(owner), soci::use(creator), soci::use(creator), soci::use(ts), soci::use(ts);
      ++ch.duplicates;
    }
    // 4. Calls: a third on contacts announced for pruning (their notices close as `activity`).
    std::vector<std::pair<long long, long long>> targets;  // contact, owner
    const int noticed_calls = kCalls / 3;
    {
      soci::rowset<soci::row> rs = (sql.prepare << "SELECT c.id, COALESCE(c.owner_id, 1) FROM contacts c JOIN "
                                    "crmh_notices n ON n.contact_id = CAST(c.id AS TEXT) AND n.status = 'open' "
                                    "WHERE c.deleted = 0 ORDER BY n.prune_after, c.id LIMIT :k",
                                    soci::use(noticed_calls));
      for (const auto& r : rs) targets.emplace_back(crm::CellInt(r, 0), crm::CellInt(r, 1));
    }
    sql << "SELECT COUNT(*) FROM contacts WHERE deleted = 0", soci::into(live);
    while (static_cast<int>(targets.size()) < kCalls && live > 0) {
      long long offset = static_cast<long long>(rng() % static_cast<uint64_t>(live));
      long long id = 0, owner = 1;
      soci::indicator ind = soci::i_ok;
      sql << "SELECT id, owner_id FROM contacts WHERE deleted = 0 ORDER BY id LIMIT 1 OFFSET :o",
          soci::use(offset), soci::into(id), soci::into(owner, ind);
      targets.emplace_back(id, ind == soci::i_ok ? owner : 1);
    }
    for (const auto& [id, owner] : targets) {
      std::string at = FormatSqlTime(now - hours(1 + static_cast<int>(rng() % 72)));
      sql << "INSERT INTO activities (parent_type, parent_id, kind, subject, occurred_at, created_by) "
             "VALUES ('Contacts', :id, 'call', 'Follow-up call', :t, :o)",
          soci::use(id), soci::use(at), soci::use(owner);
      ++ch.calls;
    }
    tr.commit();
  } catch (const std::exception& e) {
    return Error::Failed(fmt::format("demo week {}: {}", week, e.what()));
  }
  return ch;
}

Result<ReviewWork> WorkReviewQueue(crm::Db& db, sys_seconds now) {
  ReviewWork w;
  auto open = crm::ListReview(db, "open", 100000);
  if (!open) return open.error();
  std::sort(open->begin(), open->end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  for (const auto& item : *open) {
    if (w.approved < 10 && item.members.size() <= 3 && item.score >= 0.90) {
      if (Status st = crm::ApproveReview(db, item.id, "demo-reviewer", now); !st) return st.error();
      ++w.approved;
    } else if (w.rejected < 15 && (item.members.size() > 5 || item.score < 0.50)) {
      if (Status st = crm::RejectReview(db, item.id, "demo-reviewer", now); !st) return st.error();
      ++w.rejected;
    }
  }
  return w;
}

}  // namespace crmh::demo
