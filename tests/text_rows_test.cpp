// crm::ForEachTextRow (crm/text_rows.h) against SQLite and a real MariaDB: the same text as
// SOCI's rowset with CellText for every type, NULL told apart from "", bound parameters, and a
// lost connection as an error value.
#include <doctest/doctest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "crm/db.h"
#include "crm/schema.h"
#include "crm/text_rows.h"
#include "test_db.h"

namespace crmh {
namespace {

struct Cells {
  std::vector<std::string> text;
  std::vector<bool> null;
  bool operator==(const Cells&) const = default;
};

std::vector<Cells> ViaSoci(crm::Db& db, const std::string& sql, const crm::TextParams& params = {}) {
  std::vector<Cells> out;
  soci::details::prepare_temp_type prep = (db.sql().prepare << sql);
  for (const auto& [name, value] : params) prep, soci::use(value, name);
  soci::rowset<soci::row> rs(prep);
  for (const auto& r : rs) {
    Cells c;
    for (size_t i = 0; i < r.size(); ++i) {
      c.text.push_back(crm::CellText(r, i));
      c.null.push_back(r.get_indicator(i) == soci::i_null);
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Cells> ViaStream(crm::Db& db, const std::string& sql, const crm::TextParams& params = {}) {
  std::vector<Cells> out;
  Status st = crm::ForEachTextRow(db, "test", sql, params, [&](const crm::TextRow& r) {
    Cells c;
    for (size_t i = 0; i < r.size(); ++i) {
      c.text.emplace_back(r[i]);
      c.null.push_back(r.null(i));
    }
    out.push_back(std::move(c));
  });
  REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
  return out;
}

std::unique_ptr<crm::Db> OpenDb(const test::TempDb& t) {
  auto db = crm::Open(t.database(), StateConfig{});
  REQUIRE(db.ok());
  return std::move(*db);
}

TEST_CASE("text rows: the same text as CellText for every column type, NULL apart from empty") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    test::TempDb t(b);
    auto db = OpenDb(t);
    const bool my = b == Backend::kMysql;
    db->sql() << (my ? "CREATE TABLE v (id INT PRIMARY KEY, s VARCHAR(50), bin BLOB, d DOUBLE, "
                       "f FLOAT, dec2 DECIMAL(10,2), dt DATETIME, da DATE, tm TIME, ts TIMESTAMP NULL, "
                       "ub BIGINT UNSIGNED, sb BIGINT, ti TINYINT, zf INT(6) ZEROFILL, "
                       "tx TEXT, dt6 DATETIME(6))"
                     : "CREATE TABLE v (id INTEGER PRIMARY KEY, s TEXT, bin TEXT, d DOUBLE, "
                       "f FLOAT, dec2 DECIMAL(10,2), dt DATETIME, da DATE, tm TEXT, ts TIMESTAMP, "
                       "ub BIGINT, sb BIGINT, ti TINYINT, zf INT, tx TEXT, dt6 TEXT)");
    // Binary bytes on MariaDB (a NUL, an invalid UTF-8 byte); SQLite's SOCI reads text.
    const std::string bin = my ? "X'00FF41C3A9'" : "X'41C3A9'";
    db->sql() << "INSERT INTO v VALUES (1, 'Nguyễn Thị Minh Khai', " + bin + ", 1.5, 0.1, 12.50, "
                 "'2026-03-29 01:30:00', '2026-12-06', '12:34:56', '2026-01-02 03:04:05', "
                 "18446744073709551615, -9223372036854775808, -128, 42, '美国 ایالات متحده', "
                 "'2026-12-06 10:11:12.345678')";
    const std::string empty_bin = my ? "X''" : "''";
    db->sql() << "INSERT INTO v VALUES (2, '', " + empty_bin + ", 0, -2.25, -0.01, "
                 "'1970-01-01 00:00:00', '2000-02-29', '00:00:00', NULL, 0, 0, 0, 0, '', "
                 "'2026-01-01 00:00:00')";
    db->sql() << "INSERT INTO v (id) VALUES (3)";
    db->sql() << "INSERT INTO v VALUES (4, 'a''b\\\\c\tnew\nline', X'0A0D5C27', 1e300, 3.4e38, "
                 "99999999.99, '9999-12-31 23:59:59', '1000-01-01', '23:59:59', "
                 "'2038-01-19 03:14:07', 1, 1, 127, 999999, 'x', '2026-06-01 00:00:00.5')";

    // Every column, also cast to text the way the dedup sweep reads them.
    for (const char* sql :
         {"SELECT * FROM v ORDER BY id",
          my ? "SELECT CAST(id AS CHAR), CAST(s AS CHAR), CAST(d AS CHAR), CAST(dt AS CHAR), "
               "CAST(da AS CHAR), CAST(ub AS CHAR), CAST(dec2 AS CHAR) FROM v ORDER BY id"
             : "SELECT CAST(id AS TEXT), CAST(s AS TEXT), CAST(d AS TEXT), CAST(dt AS TEXT) "
               "FROM v ORDER BY id"}) {
      CAPTURE(sql);
      const auto want = ViaSoci(*db, sql);
      const auto got = ViaStream(*db, sql);
      REQUIRE(want.size() == 4);
      REQUIRE(got.size() == want.size());
      for (size_t r = 0; r < want.size(); ++r) {
        CAPTURE(r);
        REQUIRE(got[r].text.size() == want[r].text.size());
        for (size_t c = 0; c < want[r].text.size(); ++c) {
          CAPTURE(c);
          CHECK(got[r].text[c] == want[r].text[c]);
          CHECK(got[r].null[c] == want[r].null[c]);
        }
      }
    }
    // What the sweep relies on, spelled out.
    const auto rows = ViaStream(*db, "SELECT s, bin, tx FROM v ORDER BY id");
    CHECK(rows[0].text[0] == "Nguyễn Thị Minh Khai");
    CHECK(rows[0].text[1] == (my ? std::string("\x00\xff\x41\xc3\xa9", 5) : std::string("A\xc3\xa9")));
    CHECK(rows[0].text[2] == "美国 ایالات متحده");
    CHECK(rows[1].text[0].empty());
    CHECK_FALSE(rows[1].null[0]);
    CHECK(rows[2].text[0].empty());
    CHECK(rows[2].null[0]);
    CHECK(rows[3].text[0] == (my ? "a'b\\c\tnew\nline" : "a'b\\\\c\tnew\nline"));
  }
}

TEST_CASE("text rows: a column read as crm::TextColumns says gives CAST AS CHAR's bytes") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    test::TempDb t(b);
    auto db = OpenDb(t);
    const bool my = b == Backend::kMysql;
    db->sql() << (my ? "CREATE TABLE w (id INT PRIMARY KEY, s VARCHAR(50), "
                       "lat VARCHAR(20) CHARACTER SET latin1, ch CHAR(5), tx TEXT, "
                       "sbin VARCHAR(20) COLLATE utf8mb4_bin, vb VARBINARY(20), bl BLOB, "
                       "da DATE, dt DATETIME, e ENUM('x', 'y'), n INT, ti TINYINT(1), "
                       "si SMALLINT UNSIGNED, mi MEDIUMINT, bi BIGINT UNSIGNED, de DECIMAL(12,3), "
                       "dt6 DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME(2), y YEAR, "
                       "z INT(5) ZEROFILL, f FLOAT, d DOUBLE, b BIT(3))"
                     : "CREATE TABLE w (id INTEGER PRIMARY KEY, s TEXT)");
    if (my) {
      db->sql() << "INSERT INTO w VALUES (1, 'Nguyễn Thị', 'Müller', 'ab', '美国 ایالات متحده', "
                   "'Ünïcödé', X'00FF41', X'C3A9', '1980-03-07', '2026-01-02 03:04:05', 'y', "
                   "-2147483648, -128, 65535, -8388608, 18446744073709551615, -123456789.125, "
                   "'2026-01-02 03:04:05.123456', '2026-01-02 03:04:05.120', '-838:59:59', "
                   "2024, 42, 1.1, 0.1, 5)";
      db->sql() << "INSERT INTO w VALUES (2, '', '', '', '', '', '', '', NULL, NULL, NULL, 0, 1, "
                   "0, 0, 0, 0, '1970-01-01 00:00:00', '1970-01-02 00:00:00', '12:34:56.78', "
                   "1901, 0, 0, 0, 0)";
      db->sql() << "INSERT INTO w (id) VALUES (3)";
    }
    auto text = crm::TextColumns(*db, "w");
    REQUIRE(text.ok());
    if (!my) {
      CHECK(text->empty());  // SQLite's values keep their CAST
      continue;
    }
    // Strings in a character set as they are; numbers, dates and times as binary strings; not
    // binary strings, ENUM or BIT.
    std::set<std::string> plain_cols, binary_cols;
    for (const auto& [col, how] : *text) {
      (how == crm::TextRead::kPlain ? plain_cols : binary_cols).insert(col);
    }
    CHECK(plain_cols == std::set<std::string>{"ch", "lat", "s", "sbin", "tx"});
    CHECK(binary_cols == std::set<std::string>{"bi", "d", "da", "de", "dt", "dt6", "f", "id", "mi",
                                               "n", "si", "ti", "tm", "ts", "y", "z"});
    for (const auto& [col, how] : *text) {
      CAPTURE(col);
      const auto read =
          ViaStream(*db, "SELECT " + crm::AsText(*text, col, col) + " FROM w ORDER BY id");
      const auto cast = ViaStream(*db, "SELECT CAST(" + col + " AS CHAR) FROM w ORDER BY id");
      CHECK(read == cast);
    }
    CHECK(crm::AsText(*text, "vb", "w.vb") == "CAST(w.vb AS CHAR)");
    CHECK(crm::AsText(*text, "s", "w.s") == "w.s");
    CHECK(crm::AsText(*text, "da", "w.da") == "CAST(w.da AS BINARY)");
    // Not a missing table's columns, nor another table's.
    auto none = crm::TextColumns(*db, "no_such_table");
    REQUIRE(none.ok());
    CHECK(none->empty());
  }
}

TEST_CASE("text rows: a query sent on one thread is read on another, as ForEachTextRow reads it") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    test::TempDb t(b);
    auto db = OpenDb(t);
    db->sql() << "CREATE TABLE q (id INT PRIMARY KEY, s VARCHAR(20))";
    db->sql() << "INSERT INTO q VALUES (1, 'ä'), (2, NULL), (3, '')";
    const std::string sql = "SELECT id, s, (SELECT COUNT(*) FROM q) FROM q ORDER BY id";
    Status sent = Status::Ok();
    if (!crm::SendTextQuery(*db, "test", sql, &sent)) {
      CHECK(b == Backend::kSqlite);  // only MySQL/MariaDB can: SQLite uses ForEachTextRow
      continue;
    }
    REQUIRE(sent.ok());
    std::vector<Cells> got;
    Status read = Status::Ok();
    std::thread([&] {
      read = crm::ReadTextRows(*db, "test", [&](const crm::TextRow& r) {
        Cells c;
        for (size_t i = 0; i < r.size(); ++i) {
          c.text.emplace_back(r[i]);
          c.null.push_back(r.null(i));
        }
        got.push_back(std::move(c));
      });
    }).join();
    REQUIRE(read.ok());
    CHECK(got == ViaStream(*db, sql));  // and the session is usable again
    // A failed statement is an error value from the read.
    REQUIRE(crm::SendTextQuery(*db, "test", "SELECT nope FROM q", &sent));
    if (sent.ok()) CHECK_FALSE(crm::ReadTextRows(*db, "test", [](const crm::TextRow&) {}).ok());
  }
}

TEST_CASE("text rows: named parameters are bound as SOCI binds strings") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    test::TempDb t(b);
    auto db = OpenDb(t);
    db->sql() << "CREATE TABLE p (k VARCHAR(20) PRIMARY KEY, n INT)";
    for (const char* k : {"a", "a'b", "a\\b", "b", "c:d", "ü"}) {
      db->sql() << "INSERT INTO p VALUES (:k, 1)", soci::use(std::string(k));
    }
    const std::string sql = "SELECT k, ':not' FROM p WHERE k > :last AND k <> :skip ORDER BY k";
    for (const std::string last : {"", "a", "a'", "a\\", "b", "ü"}) {
      CAPTURE(last);
      const crm::TextParams params{{"last", last}, {"skip", "c:d"}};
      const auto got = ViaStream(*db, sql, params);
      CHECK(got == ViaSoci(*db, sql, params));
    }
    CHECK(ViaStream(*db, sql, {{"last", ""}, {"skip", ""}}).size() == 6);
    // A placeholder without a value is an error, not a query with ":skip" in it (or, on
    // SQLite, a NULL).
    Status st = crm::ForEachTextRow(*db, "reading p", sql, {{"last", ""}}, [](const crm::TextRow&) {});
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find("reading p") != std::string::npos);
  }
}

TEST_CASE("text rows: placeholders are found outside quotes only") {
  struct Case {
    const char* sql;
    const char* want;
  } cases[] = {
      {"SELECT 1 WHERE a > :x", "SELECT 1 WHERE a > <1>"},
      {"SELECT ':x', \":x\", `:x` FROM t WHERE a = :x", "SELECT ':x', \":x\", `:x` FROM t WHERE a = <1>"},
      {"SELECT 'it''s :x' WHERE b=:y_2", "SELECT 'it''s :x' WHERE b=<2>"},
      {"SELECT 'a\\':x' , :x", "SELECT 'a\\':x' , <1>"},
      {"SET @v := 1, @w:=:x", "SET @v := 1, @w:=<1>"},
      {"SELECT a::x", "SELECT a:<1>"},
      {"SELECT :x,:y", "SELECT <1>,<2>"},
  };
  const crm::TextParams params{{"x", "1"}, {"y_2", "2"}, {"y", "2"}};
  for (const auto& c : cases) {
    CAPTURE(c.sql);
    CHECK(crm::BindNamedText(c.sql, params, [](const std::string& v) { return "<" + v + ">"; }) ==
          c.want);
  }
  CHECK_THROWS_AS(crm::BindNamedText("SELECT :z", params, [](const std::string& v) { return v; }),
                  std::runtime_error);
}

TEST_CASE("text rows: a lost connection is a database error, before and during the stream") {
  if (test::MysqlSocket().empty()) {
    (void)test::Backends();  // fails when MariaDB is required
    return;
  }
  test::TempDb t(Backend::kMysql);
  auto admin = t.Session();
  {
    auto db = OpenDb(t);
    long long id = 0;
    db->sql() << "SELECT CONNECTION_ID()", soci::into(id);
    *admin << "KILL " + std::to_string(id);
    Status st = crm::ForEachTextRow(*db, "reading contacts", "SELECT 1", {}, [](const crm::TextRow&) {});
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().exit == Exit::kDbUnreachable);
    CHECK(st.error().message.find("reading contacts") != std::string::npos);
  }
  {
    auto db = OpenDb(t);
    long long id = 0;
    db->sql() << "SELECT CONNECTION_ID()", soci::into(id);
    // Far more than the socket buffers hold, so the server is still sending when it is killed.
    const std::string sql =
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 300000) "
        "SELECT n, REPEAT('x', 500) FROM r";
    long long rows = 0;
    Status st = crm::ForEachTextRow(*db, "reading contacts", sql, {}, [&](const crm::TextRow& r) {
      if (rows++ == 0) *admin << "KILL " + std::to_string(id);
      if (r.size() != 2) throw std::runtime_error("two cells expected");
    });
    REQUIRE_FALSE(st.ok());
    CHECK(rows < 300000);
    CHECK(st.error().exit == Exit::kDbUnreachable);
    CHECK(st.error().message.find("reading contacts") != std::string::npos);
  }
}

TEST_CASE("text rows: an exception in the callback ends the stream and the session still works") {
  for (Backend b : test::Backends()) {
    CAPTURE(test::Name(b));
    test::TempDb t(b);
    auto db = OpenDb(t);
    db->sql() << "CREATE TABLE q (n INT)";
    for (int i = 0; i < 100; ++i) db->sql() << "INSERT INTO q VALUES (:n)", soci::use(i);
    int seen = 0;
    Status st = crm::ForEachTextRow(*db, "reading q", "SELECT n FROM q ORDER BY n", {},
                                    [&](const crm::TextRow&) {
                                      if (++seen == 3) throw std::runtime_error("enough");
                                    });
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().exit == Exit::kJobFailed);
    CHECK(st.error().message.find("enough") != std::string::npos);
    CHECK(seen == 3);
    int count = 0;
    db->sql() << "SELECT COUNT(*) FROM q", soci::into(count);
    CHECK(count == 100);
  }
}

}  // namespace
}  // namespace crmh
