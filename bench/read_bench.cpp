// The dedup sweep's read alone, old way against new, on a real MariaDB (docs/benchmarks.md,
// "session 10"): keyset pages of `SELECT CAST(c.<col> AS CHAR), ...` as jobs/dedup.cpp reads them,
// through SOCI's rowset + CellText (a std::string per cell, as the sweep did until session 10) and
// through crm::ForEachTextRow (each page's cells back to back in one buffer, as it does now).
// Prints wall and CPU seconds per pass, and checks that both give every row's cells identically
// (a 64-bit hash per row, compared row by row, NULL and "" alike as the sweep sees them).
//
// usage: read_bench --socket PATH --db NAME [--user root] [--table contacts] [--id id]
//                   [--soft-delete deleted] [--columns a,b,...] [--page 10000] [--rounds 3]
#include <fmt/format.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "crm/db.h"
#include "crm/text_rows.h"

namespace {

using namespace crmh;

double CpuNow() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// FNV-1a 64 of the cells, each length-prefixed.
struct RowHash {
  uint64_t h = 0xcbf29ce484222325ULL;
  void Add(std::string_view v) {
    uint64_t n = v.size();
    for (int k = 0; k < 8; ++k) Byte(static_cast<unsigned char>(n >> (8 * k)));
    for (unsigned char c : v) Byte(c);
  }
  void Byte(unsigned char c) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
};

struct Pass {
  double wall = 0, cpu = 0;
  std::vector<uint64_t> rows;  // a hash per row, in read order
};

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t from = 0;
  while (from <= s.size()) {
    size_t to = s.find(',', from);
    if (to == std::string::npos) to = s.size();
    out.push_back(s.substr(from, to - from));
    from = to + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket, name, user = "root", table = "contacts", id = "id", soft = "deleted";
  std::string columns =
      "first_name,last_name,email,email2,phone,mobile,company,address1,address2,city,postcode,"
      "region,country,birthdate,created_at,updated_at,email_opt_out,do_not_call,last_contacted_at";
  int page = 10000, rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--socket") socket = v;
    else if (k == "--db") name = v;
    else if (k == "--user") user = v;
    else if (k == "--table") table = v;
    else if (k == "--id") id = v;
    else if (k == "--soft-delete") soft = v;
    else if (k == "--columns") columns = v;
    else if (k == "--page") page = std::atoi(v.c_str());
    else if (k == "--rounds") rounds = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (socket.empty() || name.empty()) {
    std::fprintf(stderr, "usage: read_bench --socket PATH --db NAME [options]\n");
    return 2;
  }
  DatabaseConfig dc;
  dc.backend = Backend::kMysql;
  dc.socket = socket;
  dc.user = user;
  dc.name = name;
  auto opened = crm::Open(dc, StateConfig{});
  if (!opened) {
    std::fprintf(stderr, "%s\n", opened.error().message.c_str());
    return 3;
  }
  crm::Db& db = **opened;
  std::string list = fmt::format("CAST(c.{} AS CHAR)", db.Q(id));
  for (const auto& c : Split(columns)) list += fmt::format(", CAST(c.{} AS CHAR)", db.Q(c));
  auto sql = [&](bool after) {
    return fmt::format("SELECT {} FROM {} c WHERE COALESCE(c.{}, 0) = 0{} ORDER BY c.{} LIMIT {}",
                       list, db.Q(table), db.Q(soft),
                       after ? fmt::format(" AND c.{} > :last", db.Q(id)) : "", db.Q(id), page);
  };
  const std::string first_sql = sql(false), next_sql = sql(true);

  // The old way: a rowset of soci::row per page, CellText into a std::string per cell.
  auto via_soci = [&]() {
    Pass p;
    std::string last;
    bool first = true;
    for (;;) {
      size_t n = 0;
      Status st = crm::Guard("reading", [&] {
        auto consume = [&](soci::rowset<soci::row>& rs) {
          std::vector<std::string> values;
          for (const auto& r : rs) {
            values.resize(r.size());
            for (size_t i = 0; i < r.size(); ++i) values[i] = crm::CellText(r, i);
            RowHash h;
            for (const auto& v : values) h.Add(v);
            p.rows.push_back(h.h);
            last = values[0];
            ++n;
          }
        };
        if (first) {
          soci::rowset<soci::row> rs = db.sql().prepare << first_sql;
          consume(rs);
        } else {
          soci::rowset<soci::row> rs = (db.sql().prepare << next_sql, soci::use(last));
          consume(rs);
        }
      });
      if (!st) {
        std::fprintf(stderr, "%s\n", st.error().message.c_str());
        std::exit(1);
      }
      first = false;
      if (static_cast<int>(n) < page) break;
    }
    return p;
  };
  // The new way: crm::ForEachTextRow, the cells of a page appended to one buffer.
  auto via_text = [&]() {
    Pass p;
    std::string last, text;
    std::vector<size_t> ends;
    bool first = true;
    for (;;) {
      size_t n = 0;
      text.clear();
      ends.clear();
      Status st = crm::ForEachTextRow(
          db, "reading", first ? first_sql : next_sql,
          first ? crm::TextParams{} : crm::TextParams{{"last", last}}, [&](const crm::TextRow& r) {
            RowHash h;
            for (size_t i = 0; i < r.size(); ++i) {
              text.append(r[i]);
              ends.push_back(text.size());
              h.Add(r[i]);
            }
            p.rows.push_back(h.h);
            ++n;
            if (n == static_cast<size_t>(page)) last = std::string(r[0]);
          });
      if (!st) {
        std::fprintf(stderr, "%s\n", st.error().message.c_str());
        std::exit(1);
      }
      first = false;
      if (static_cast<int>(n) < page) break;
    }
    return p;
  };
  auto timed = [](auto&& fn) {
    const auto w0 = std::chrono::steady_clock::now();
    const double c0 = CpuNow();
    Pass p = fn();
    p.cpu = CpuNow() - c0;
    p.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    return p;
  };
  bool identical = true;
  for (int r = 0; r < rounds; ++r) {
    // Interleaved, and each way first in alternate rounds (a shared machine's load moves).
    Pass a, b;
    if (r % 2 == 0) {
      a = timed(via_soci);
      b = timed(via_text);
    } else {
      b = timed(via_text);
      a = timed(via_soci);
    }
    size_t same = 0;
    for (size_t i = 0; i < std::min(a.rows.size(), b.rows.size()); ++i) same += a.rows[i] == b.rows[i];
    const bool ok = a.rows.size() == b.rows.size() && same == a.rows.size();
    identical &= ok;
    std::printf(
        "round %d: soci+CellText %zu rows wall %.2f s cpu %.2f s | ForEachTextRow %zu rows wall "
        "%.2f s cpu %.2f s | rows identical %zu/%zu%s\n",
        r + 1, a.rows.size(), a.wall, a.cpu, b.rows.size(), b.wall, b.cpu, same, a.rows.size(),
        ok ? "" : "  MISMATCH");
    std::fflush(stdout);
  }
  return identical ? 0 : 1;
}
