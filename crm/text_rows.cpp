#include "crm/text_rows.h"

#include <fmt/format.h>
#include <mysql.h>
#include <soci/mysql/soci-mysql.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <ctime>
#include <stdexcept>

namespace crmh::crm {

class TextRowFiller {
 public:
  static void Resize(TextRow& r, size_t n) {
    r.cells_.assign(n, std::string_view());
    r.nulls_.assign(n, 0);
  }
  static void Set(TextRow& r, size_t i, std::string_view v, bool null) {
    r.cells_[i] = v;
    r.nulls_[i] = null ? 1 : 0;
  }
};

std::string BindNamedText(const std::string& sql, const TextParams& params,
                          const std::function<std::string(const std::string&)>& quote) {
  std::string out;
  out.reserve(sql.size() + 64);
  char in_quote = 0;  // ', " or ` while inside one
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (in_quote) {
      out += c;
      if (c == '\\' && in_quote != '`' && i + 1 < sql.size()) {
        out += sql[++i];  // an escaped character, whatever it is
      } else if (c == in_quote) {
        in_quote = 0;  // a doubled quote closes and reopens: the same text
      }
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') {
      in_quote = c;
      out += c;
      continue;
    }
    auto name_char = [](char x) { return std::isalnum(static_cast<unsigned char>(x)) || x == '_'; };
    if (c == ':' && i + 1 < sql.size() && name_char(sql[i + 1])) {
      size_t j = i + 1;
      while (j < sql.size() && name_char(sql[j])) ++j;
      const std::string name = sql.substr(i + 1, j - i - 1);
      const std::string* value = nullptr;
      for (const auto& [n, v] : params) {
        if (n == name) value = &v;
      }
      if (!value) throw std::runtime_error("Missing use element for bind by name (" + name + ").");
      out += quote(*value);
      i = j - 1;
      continue;
    }
    out += c;
  }
  return out;
}

namespace {

// ----- SQLite (and any backend but MySQL): SOCI's rowset and CellText.
void StreamSoci(Db& db, const std::string& sql, const TextParams& params,
                const std::function<void(const TextRow&)>& on_row) {
  soci::details::prepare_temp_type prep = (db.sql().prepare << sql);
  for (const auto& [name, value] : params) prep, soci::use(value, name);
  soci::rowset<soci::row> rs(prep);
  TextRow row;
  std::vector<std::string> text;
  for (const auto& r : rs) {
    const size_t n = r.size();
    if (text.size() != n) {
      text.resize(n);
      TextRowFiller::Resize(row, n);
    }
    for (size_t i = 0; i < n; ++i) text[i] = CellText(r, i);
    for (size_t i = 0; i < n; ++i) TextRowFiller::Set(row, i, text[i], r.get_indicator(i) == soci::i_null);
    on_row(row);
  }
}

// ----- MySQL/MariaDB: the session's MYSQL*, unbuffered.

// The same words as SOCI's mysql_soci_error, so Guard (and LooksUnreachable) reads it alike.
[[noreturn]] void ThrowMysql(MYSQL* conn, const char* during) {
  throw std::runtime_error(
      fmt::format("{} (MySQL error {}, {})", mysql_error(conn), mysql_errno(conn), during));
}

struct FreeResult {
  void operator()(MYSQL_RES* r) const { mysql_free_result(r); }  // reads any rows left first
};

// How a column's text is turned into CellText's (SOCI's MySQL backend types the column from the
// field type, parses the text into that type, and CellText formats it again).
enum class Kind { kBytes, kSigned, kUnsigned, kDouble, kDate };

Kind KindOf(const MYSQL_FIELD& f) {
  switch (f.type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
      return Kind::kSigned;  // SOCI: int, or long long for INT UNSIGNED; both print alike
    case MYSQL_TYPE_LONGLONG:
      return (f.flags & UNSIGNED_FLAG) ? Kind::kUnsigned : Kind::kSigned;
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL:
      return Kind::kDouble;
    case MYSQL_TYPE_TIMESTAMP:
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_TIME:
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_NEWDATE:
      return Kind::kDate;
    default:
      // Strings, blobs, JSON, ENUM/SET: the bytes. (YEAR: SOCI's date parser reads past the
      // value's end; BIT, GEOMETRY: SOCI refuses the type. Their bytes here.)
      return Kind::kBytes;
  }
}

[[noreturn]] void CannotConvert(std::string_view v) {
  throw std::runtime_error(fmt::format("Cannot convert data: '{}'", v.substr(0, 64)));
}

// SOCI's parse_std_tm: "Y-M-D", "Y-M-D h:m:s" or "h:m:s" (on 1900-01-01), each number read
// with strtol (a fraction of a second ends the last one), normalized through timegm.
std::string FormatDate(std::string_view v) {
  char buf[64];
  if (v.size() >= sizeof buf) CannotConvert(v);
  v.copy(buf, v.size());
  buf[v.size()] = '\0';
  const char* p1 = buf;
  char* p2 = nullptr;
  auto next = [&] {
    long x = std::strtol(p1, &p2, 10);
    if (p2 == p1) CannotConvert(v);
    if (*p2 != '\0') p1 = p2 + 1;
    else p1 = p2;
    return static_cast<int>(x);
  };
  int year = 1900, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  const int a = next();
  const char separator = *p2;
  const int b = next();
  const int c = next();
  if (*p2 == ' ') {
    year = a, month = b, day = c;
    hour = next(), minute = next(), second = next();
  } else if (separator == '-') {
    year = a, month = b, day = c;
  } else {
    hour = a, minute = b, second = c;
  }
  std::tm t{};
  t.tm_isdst = -1;
  t.tm_year = year - 1900;
  t.tm_mon = month - 1;
  t.tm_mday = day;
  t.tm_hour = hour;
  t.tm_min = minute;
  t.tm_sec = second;
  ::timegm(&t);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.tm_year + 1900, t.tm_mon + 1,
                     t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
}

// Appends CellText's text of a non-NULL cell of kind `k` to `out`.
void AppendConverted(Kind k, std::string_view v, std::string& out) {
  char buf[32];
  switch (k) {
    case Kind::kSigned: {
      long long x = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (ec != std::errc() || p != v.data() + v.size()) CannotConvert(v);
      out.append(buf, std::to_chars(buf, buf + sizeof buf, x).ptr);
      return;
    }
    case Kind::kUnsigned: {
      unsigned long long x = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (ec != std::errc() || p != v.data() + v.size()) CannotConvert(v);
      out.append(buf, std::to_chars(buf, buf + sizeof buf, x).ptr);
      return;
    }
    case Kind::kDouble: {
      double x = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
      if (ec != std::errc() || p != v.data() + v.size()) CannotConvert(v);
      out += fmt::format("{}", x);
      return;
    }
    case Kind::kDate:
      out += FormatDate(v);
      return;
    case Kind::kBytes:
      out.append(v);
      return;
  }
}

// Logs and sends the statement (the server starts on it); its result is read by ReadMysql.
void SendMysql(Db& db, MYSQL* conn, const std::string& sql, const TextParams& params) {
  // As SOCI does: the statement is logged as written, then run with the values quoted in.
  db.sql().log_query(sql);
  const std::string query =
      params.empty() ? sql : BindNamedText(sql, params, [conn](const std::string& v) {
        std::string q(2 * v.size() + 3, '\0');
        q[0] = '\'';
        const unsigned long n = mysql_real_escape_string(conn, q.data() + 1, v.data(), v.size());
        q[n + 1] = '\'';
        q.resize(n + 2);
        return q;
      });
  if (mysql_send_query(conn, query.data(), query.size()) != 0) ThrowMysql(conn, "running the query");
}

void ReadMysql(MYSQL* conn, const std::function<void(const TextRow&)>& on_row) {
  if (mysql_read_query_result(conn) != 0) ThrowMysql(conn, "running the query");
  std::unique_ptr<MYSQL_RES, FreeResult> res(mysql_use_result(conn));
  if (!res) {
    if (mysql_field_count(conn) == 0) return;  // not a SELECT: no rows
    ThrowMysql(conn, "starting to read the result");
  }
  const unsigned n = mysql_num_fields(res.get());
  const MYSQL_FIELD* fields = mysql_fetch_fields(res.get());
  std::vector<Kind> kinds(n);
  bool any_converted = false;
  for (unsigned i = 0; i < n; ++i) {
    kinds[i] = KindOf(fields[i]);
    any_converted |= kinds[i] != Kind::kBytes;
  }
  TextRow row;
  TextRowFiller::Resize(row, n);
  std::string converted;               // the converted cells of one row, back to back
  std::vector<size_t> converted_at(n);  // where each converted cell starts in it
  while (MYSQL_ROW r = mysql_fetch_row(res.get())) {
    const unsigned long* len = mysql_fetch_lengths(res.get());
    if (!any_converted) {
      for (unsigned i = 0; i < n; ++i) {
        TextRowFiller::Set(row, i, r[i] ? std::string_view(r[i], len[i]) : std::string_view(),
                           r[i] == nullptr);
      }
    } else {
      converted.clear();
      for (unsigned i = 0; i < n; ++i) {
        converted_at[i] = converted.size();
        if (r[i] && kinds[i] != Kind::kBytes) {
          AppendConverted(kinds[i], std::string_view(r[i], len[i]), converted);
        }
      }
      for (unsigned i = 0; i < n; ++i) {
        std::string_view v;
        if (r[i] && kinds[i] == Kind::kBytes) {
          v = std::string_view(r[i], len[i]);
        } else if (r[i]) {
          const size_t end = i + 1 < n ? converted_at[i + 1] : converted.size();
          v = std::string_view(converted).substr(converted_at[i], end - converted_at[i]);
        }
        TextRowFiller::Set(row, i, v, r[i] == nullptr);
      }
    }
    on_row(row);
  }
  // mysql_fetch_row returns NULL at the end and on an error (a lost connection mid-result).
  if (mysql_errno(conn) != 0) ThrowMysql(conn, "reading the result");
}

// The session's MYSQL*, or nullptr (SQLite, or no connection).
MYSQL* MysqlOf(Db& db) {
  soci::details::session_backend* backend = db.sql().get_backend();
  // (libsoci_mysql exports no typeinfo for a dynamic_cast: the backend's name says it.)
  if (db.mysql() && backend && backend->get_backend_name() == "mysql") {
    return static_cast<soci::mysql_session_backend*>(backend)->conn_;
  }
  return nullptr;
}

}  // namespace

bool SendTextQuery(Db& db, std::string_view what, const std::string& sql, Status* sent) {
  MYSQL* conn = MysqlOf(db);
  if (!conn) return false;
  *sent = Guard(what, [&] { SendMysql(db, conn, sql, {}); });
  return true;
}

Status ReadTextRows(Db& db, std::string_view what,
                    const std::function<void(const TextRow&)>& on_row) {
  return Guard(what, [&] {
    MYSQL* conn = MysqlOf(db);
    if (!conn) throw std::runtime_error("no MySQL connection to read a sent query's rows from");
    ReadMysql(conn, on_row);
  });
}

Status ForEachTextRow(Db& db, std::string_view what, const std::string& sql,
                      const TextParams& params, const std::function<void(const TextRow&)>& on_row) {
  return Guard(what, [&] {
    if (MYSQL* conn = MysqlOf(db)) {
      SendMysql(db, conn, sql, params);
      return ReadMysql(conn, on_row);
    }
    // SOCI's SQLite binds nothing for a missing name (SQLite reads NULL): refuse it as above.
    BindNamedText(sql, params, [](const std::string&) { return std::string("?"); });
    StreamSoci(db, sql, params, on_row);
  });
}

}  // namespace crmh::crm
