"""Crash safety of the safe-change engine (issue 3), proved with the real binary on SQLite and
MariaDB:

- kill -9 (CRM_HYGIENE_FAULT=crash_after_stmt:N) at 20+ statement boundaries of a `standardize`
  run with ten or more change sets, spread over its phases (planning, inside a change set's
  transaction, between change sets, after the last commit), for each mapping profile: the
  generic demo CRM and the SuiteCRM 7 schema (tests/fixtures/suitecrm7.sql plus generated
  contacts: UUID ids, contacts_cstm, shared email addresses, relation tables). After each crash:
  no row lost or half-changed in any table of the profile (every contact is at its baseline or
  at the after-image a committed set recorded, and the ledger holds exactly the committed sets),
  the crashed run is `running` and the next run marks it `interrupted` and completes, and
  restoring both runs gives back the baseline checksum (ours over every column, and CHECKSUM
  TABLE on MariaDB).
- the same kill -9 sweep over a `dedup` run on the generic demo CRM (one change set per merged
  cluster: the survivor filled, the losers soft-deleted, their activities, deals and tags
  re-pointed or de-duplicated): every row of every table is at its baseline or at the
  after-image of a committed set, and restore gives back the baseline.
- a MariaDB restart in the middle of a run (a private mariadbd this test stops and starts): the
  run reconnects and records `failed` with a "database went away" message, no change set is
  half-applied, the next run completes and restore gives back the baseline.

The crash points are statement numbers taken from one traced, uncrashed run on an identical fresh
CRM; every crashed process's own trace is compared with that reference, so a divergence (and with
it a crash point in a different place than intended) fails loudly instead of testing the wrong
thing."""
import hashlib
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

from proc_util import (BIN, FIXTURE, MYSQL_SOCKET, REQUIRE_MARIADB, SRC, Crm, backends, main,
                       run)

RESTART_CONTACTS = 1500  # ~1450 single-row change sets: a run of a few seconds on MariaDB

# The standardize sweep runs the rules issue 6 added too: phone_format (E.164, then national) and
# a named alias table, so a crash inside a set that rewrites phones and countries is covered.
JOB = """jobs:
  std:
    kind: standardize
    batch_size: {batch}
    max_rows: 0
    max_fraction: 0
    options:
      rules: [trim_whitespace, lowercase_email, phone_e164]
      phone_format: national
      aliases:
        country_fixes:
          field: country
          map: {{"Untied States": "United States", "Deutchland": "Germany"}}
"""


DEDUP_JOB = """jobs:
  dd:
    kind: dedup
    max_rows: 0
    max_fraction: 0
"""


class Profile:
    """A mapping profile under test: its CRM (made by crmh_fixture), the tables the checksums
    cover ({table: id column}, in checksum order), the crash test's run size, and the job it
    crashes (`job` in `job_yaml`; standardize unless given)."""

    def __init__(self, name, tables, contacts, batch, mapping="", job="std", job_yaml=None,
                 label=None):
        self.name, self.tables, self.contacts, self.batch = name, tables, contacts, batch
        self.mapping, self.job, self.job_yaml = mapping, job, job_yaml
        self.label = label or name

    def fixture_cmd(self, backend, where, contacts):
        """crmh_fixture's arguments for a CRM in `where` ([path] or [socket, database])."""
        if self.name == "generic":
            return [FIXTURE, backend] + where + [str(contacts)]
        sql = os.path.join(SRC, "tests", "fixtures", "suitecrm7.sql")
        return [FIXTURE, "suitecrm", backend] + where + [sql, str(contacts)]

    def config_body(self, batch):
        return self.mapping + (self.job_yaml or JOB.format(batch=batch))

    @property
    def dedup(self):
        return self.job_yaml is DEDUP_JOB


# The demo CRM: 300 contacts, ~250 rows to standardize after dirty() (phone_format national
# rewrites most phones): ten change sets of 25.
GENERIC = Profile("generic", {t: "id" for t in
                              ("users", "contacts", "activities", "deals", "contact_tags")}, 300, 25)
# The SuiteCRM 7 fixture (tests/fixtures/suitecrm7.sql) plus 90 generated contacts: UUID ids, the
# custom-field table keyed by id_c, shared email addresses, relation tables; ~45 rows to
# standardize (the generator leaves whitespace in about every third contact; phone_format national
# reformats most phones), eleven sets of 8.
SUITECRM = Profile("suitecrm", {
    "users": "id", "contacts": "id", "contacts_cstm": "id_c", "email_addresses": "id",
    "email_addr_bean_rel": "id", "accounts": "id", "accounts_contacts": "id", "calls": "id",
    "calls_contacts": "id", "meetings": "id", "meetings_contacts": "id", "notes": "id",
    "opportunities_contacts": "id"}, 90, 8, mapping="mapping:\n  profile: suitecrm\n")
# The demo CRM's planted duplicates: 300 contacts make about a dozen clusters the dedup job merges
# on its own, each one change set touching contacts and their child rows.
DEDUP = Profile("generic", GENERIC.tables, 300, 0, job="dd", job_yaml=DEDUP_JOB,
                label="generic dedup")

SUMMARY = []  # lines printed at the end


def mariadb_required(test):
    """Skips (or, when CI requires MariaDB, fails) a test when the harness started none."""
    if not MYSQL_SOCKET:
        if REQUIRE_MARIADB:
            test.fail("CRMH_REQUIRE_MARIADB=1 but CRMH_TEST_MYSQL_SOCKET is not set")
        test.skipTest("no MariaDB (scripts/test.sh starts one)")


def clean_env(**extra):
    """The environment for a child process: ours minus any inherited fault hooks, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("CRM_HYGIENE_FAULT", "CRM_HYGIENE_SQL_TRACE")}
    env.update(extra)
    return env


class CrashCrm(Crm):
    """A demo CRM like proc_util.Crm, but the MariaDB socket can be a private server's, and
    cleanup() removes it (the crash test makes dozens)."""

    def __init__(self, backend, contacts, socket=None, profile=GENERIC):
        self.backend = backend
        self.profile = profile
        self.socket = socket or MYSQL_SOCKET
        self.dir = tempfile.mkdtemp(prefix="crmh_crash_")
        if backend == "sqlite":
            self.path = os.path.join(self.dir, "crm.db")
            cmd = profile.fixture_cmd("sqlite", [self.path], contacts)
            self.db_yaml = f"database:\n  backend: sqlite\n  path: {self.path}\n"
        else:
            self.name = f"crmh_c{os.getpid()}_{random.randrange(10**9)}"
            cmd = profile.fixture_cmd("mysql", [self.socket, self.name], contacts)
            self.db_yaml = (f"database:\n  backend: mysql\n  socket: {self.socket}\n  user: root\n"
                            f"  name: {self.name}\n")
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        self.system_user = out.stdout.strip()

    @property
    def mysql(self):
        return self.backend == "mysql"

    def sql(self, query):
        """Runs a query; returns rows as lists of strings (NULL as ''), like the command-line
        clients print them. SQLite: in-process (python's sqlite3, autocommit, a connection per
        query so no lock outlives it); MariaDB: the command-line client."""
        if not self.mysql:
            con = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            try:
                rows = con.execute(query).fetchall()
            finally:
                con.close()
            return [["" if v is None else str(v) for v in r] for r in rows]
        p = subprocess.run(["mariadb", "--no-defaults", f"--socket={self.socket}", "-uroot", "-N",
                            "-B", self.name, "-e", query], capture_output=True, text=True)
        if p.returncode != 0:
            raise AssertionError(f"mariadb failed on {query!r}: {p.stderr}")
        return [line.split("\t") for line in p.stdout.splitlines() if line]

    def q(self, ident):
        """Quotes an identifier for this backend."""
        return f"`{ident}`" if self.mysql else f'"{ident}"'

    def table_exists(self, table):
        """Whether the table exists yet (a crash may come before the state tables are made)."""
        if self.mysql:
            rows = self.sql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = "
                            f"DATABASE() AND table_name = '{table}'")
        else:
            rows = self.sql("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
                            f"name = '{table}'")
        return rows[0][0] != "0"

    # (backend, profile, table) -> columns: every CRM of a profile has the same schema.
    _columns = {}

    def columns(self, table):
        """The table's columns in their declared order (read once per backend and profile: the
        fixture's schema does not change during a test)."""
        key = (self.backend, self.profile.name, table)
        if key not in CrashCrm._columns:
            CrashCrm._columns[key] = self._read_columns(table)
        return CrashCrm._columns[key]

    def _read_columns(self, table):
        if self.mysql:
            rows = self.sql("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                            f"DATABASE() AND table_name = '{table}' ORDER BY ordinal_position")
        else:
            rows = self.sql(f"SELECT name FROM pragma_table_info('{table}') ORDER BY cid")
        return [r[0] for r in rows]

    def row_text_hex(self, cols):
        """SQL for the hex of one row's text over `cols`, each column quoted so NULL and '' differ;
        hex so tabs and newlines in values survive the command-line client."""
        if self.mysql:
            return "HEX(CONCAT_WS(',', " + ", ".join(f"QUOTE({self.q(c)})" for c in cols) + "))"
        return "hex(" + " || ',' || ".join(f"quote({self.q(c)})" for c in cols) + ")"

    def wait_idle(self, timeout=15):
        """MariaDB: waits until no other connection uses this database, i.e. the server noticed a
        killed client, rolled back its open transaction and freed its job lock (GET_LOCK)."""
        if not self.mysql:
            return
        deadline = time.monotonic() + timeout
        while True:
            n = self.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE db = DATABASE() "
                         "AND id <> CONNECTION_ID()")[0][0]
            if n == "0":
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{n} connection(s) of a killed process still open after "
                                     f"{timeout}s")
            time.sleep(0.05)

    def cleanup(self):
        """Drops the MariaDB database and removes the directory (SQLite file, config, traces)."""
        if self.mysql:
            subprocess.run(["mariadb", "--no-defaults", f"--socket={self.socket}", "-uroot", "-e",
                            f"DROP DATABASE IF EXISTS `{self.name}`"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def dirty(crm, pad_where, upper_where, alias_where=None):
    """Makes work for standardize: pads first names with spaces, uppercases emails, and misspells
    countries the job's alias table fixes."""
    pad = "CONCAT('  ', first_name, '  ')" if crm.mysql else "'  ' || first_name || '  '"
    crm.sql(f"UPDATE contacts SET first_name = {pad} WHERE first_name IS NOT NULL AND ({pad_where})")
    if upper_where:
        crm.sql(f"UPDATE contacts SET email = UPPER(email) WHERE email IS NOT NULL AND ({upper_where})")
    if alias_where:
        crm.sql(f"UPDATE contacts SET country = CASE WHEN id % 2 = 0 THEN 'Untied States' "
                f"ELSE 'Deutchland' END WHERE {alias_where}")


def crash_crm(backend, profile):
    """A fresh CRM for the kill -9 test, with work for ten change sets of standardize."""
    crm = CrashCrm(backend, profile.contacts, profile=profile)
    if profile is GENERIC:
        dirty(crm, "id % 10 = 7", "id % 10 = 3", "id % 20 = 5")
    return crm, crm.config(profile.config_body(profile.batch))


def snapshot(crm):
    """Every column of every table of the CRM's profile, as {table: {id: row text}}, tables in
    the profile's order, rows in id order; one query for all tables."""
    parts = []
    for i, (table, id_col) in enumerate(crm.profile.tables.items()):
        expr = crm.row_text_hex(crm.columns(table))
        parts.append(f"SELECT {i} AS t, CAST({crm.q(id_col)} AS CHAR) AS id, {expr} AS x "
                     f"FROM {crm.q(table)}")
    out = {table: [] for table in crm.profile.tables}
    names = list(crm.profile.tables)
    for t, row_id, text in crm.sql(" UNION ALL ".join(parts) + " ORDER BY 1, 2"):
        out[names[int(t)]].append((row_id, bytes.fromhex(text).decode()))
    return {table: dict(sorted(rows)) for table, rows in out.items()}


def checksum(snap):
    """One SHA-256 over a snapshot: tables in a fixed order, rows in id order."""
    h = hashlib.sha256()
    for table, rows in snap.items():
        h.update(f"\x00table {table}\x00".encode())
        for row_id, text in rows.items():
            h.update(f"{row_id}\x01{text}\x02".encode())
    return h.hexdigest()


def server_checksums(crm):
    """MariaDB's own CHECKSUM TABLE per table of the profile (None on SQLite), a second
    opinion."""
    if not crm.mysql:
        return None
    rows = crm.sql("CHECKSUM TABLE " + ", ".join(crm.q(t) for t in crm.profile.tables))
    return {r[0]: r[1] for r in rows}


def brief(out, err):
    """A run's outcome in one line: status, message and stderr (not the whole JSON report)."""
    try:
        rep = json.loads(out)
        return (f"status={rep.get('status')!r} message={rep.get('message')!r} "
                f"stderr={err.strip()[-2000:]!r}")
    except ValueError:
        return f"stdout={out[-2000:]!r} stderr={err[-2000:]!r}"


def read_trace(path):
    """The statements of a CRM_HYGIENE_SQL_TRACE file, statement 1 first."""
    out = []
    with open(path) as f:
        for line in f:
            n, _, text = line.rstrip("\n").partition("\t")
            if int(n) != len(out) + 1:
                raise AssertionError(f"{path}: statement {n} out of sequence after {len(out)}")
            out.append(text)
    return out


def transactions(trace):
    """(first, last) statement numbers of every transaction in a trace. Explicit ones open with
    START TRANSACTION or BEGIN IMMEDIATE. While the engine applies a plan on MariaDB autocommit is
    off (`SET autocommit = 0` … `SET autocommit = 1`): a change set's transaction opens with its
    first statement after the previous COMMIT or ROLLBACK — not counting the job-lock re-check
    (on the lock's own connection) or a SHOW of the pacer. Each ends with COMMIT or ROLLBACK."""
    out, begin, implicit = [], None, False
    for n, s in enumerate(trace, start=1):
        if s == "SET autocommit = 0":
            implicit = True
        elif s == "SET autocommit = 1":
            implicit = False
        elif s in ("START TRANSACTION", "BEGIN IMMEDIATE"):
            begin = n
        elif s in ("COMMIT", "ROLLBACK"):
            if begin is not None:
                out.append((begin, n))
            begin = None
        elif (implicit and begin is None and not s.startswith("SHOW ")
              and "IS_USED_LOCK" not in s):
            begin = n
    return out


def journal(crm):
    """{run_id: (kind, status, message)} straight from the journal table (none if not created)."""
    if not crm.table_exists("crmh_runs"):
        return {}
    hexed = "HEX(COALESCE(message, ''))" if crm.mysql else "hex(COALESCE(message, ''))"
    return {r[0]: (r[1], r[2], bytes.fromhex(r[3] if len(r) > 3 else "").decode())
            for r in crm.sql(f"SELECT run_id, kind, status, {hexed} FROM crmh_runs")}


def verify_no_partial_set(test, crm, base):
    """Asserts no row was lost or half-changed after a destructive run that may have died:
    a before-image exists for exactly the ledger's operations, each ledger row carries its row's
    after-image text (none for a deleted row), every before-image equals the baseline, each row
    the ledger touched is at its after-image (or gone, if deleted) and every other row of every
    table of the profile at the baseline. (Row texts here come from this file's own SQL; the
    after-image text is the product's, and must equal this file's text of the live row.)
    Returns the ledger as {run_id: [(set_no, op_no, table, row_id), ...]} (only committed sets
    are visible, since a set's ledger rows commit with it)."""
    ledger, ops = {}, {}
    if crm.table_exists("crmh_ledger"):
        # A kill during the state migrations can leave a ledger from before V9 (then empty).
        if "after_text" in crm._read_columns("crmh_ledger"):
            after_hex = "HEX(after_text)" if crm.mysql else "hex(after_text)"
            has = "CASE WHEN after_text IS NULL THEN 0 ELSE 1 END"
        else:
            after_hex, has = "''", "0"
        for run_id, set_no, op_no, table, row_id, op, after_text, has_after in crm.sql(
                f"SELECT run_id, set_no, op_no, table_name, row_id, op, {after_hex}, "
                f"{has} FROM crmh_ledger "
                "ORDER BY run_id, set_no, op_no"):
            test.assertIn(table, crm.profile.tables, "the ledger names a table outside the profile")
            ledger.setdefault(run_id, []).append((int(set_no), int(op_no), table, row_id))
            ops[(run_id, int(set_no), int(op_no))] = (
                op, bytes.fromhex(after_text).decode() if has_after == "1" else None)
    images = {}
    for table, id_col in crm.profile.tables.items():
        if not crm.table_exists(f"crmh_bk_{table}"):
            continue
        cols = crm.columns(table)
        for run_id, set_no, op_no, image, row_id, text in crm.sql(
                f"SELECT crmh_run_id, crmh_set, crmh_op, crmh_image, {crm.q(id_col)}, "
                f"{crm.row_text_hex(cols)} FROM {crm.q('crmh_bk_' + table)}"):
            key = (run_id, int(set_no), int(op_no), image)
            test.assertNotIn(key, images, f"two images for {key}")
            images[key] = (table, row_id, bytes.fromhex(text).decode())
    # Images exist for exactly the ledger's operations (a rolled-back set leaves neither).
    expected_keys = {(r, s, o, "b") for r, rows in ledger.items() for s, o, _, _ in rows}
    test.assertEqual(set(images), expected_keys, "backup images do not match the ledger")
    after = {}  # (table, row id) -> text now expected, None = deleted
    for run_id, rows in ledger.items():
        for s, o, table, row_id in rows:
            b_table, b_id, b_text = images[(run_id, s, o, "b")]
            test.assertEqual((b_table, b_id), (table, row_id))
            test.assertEqual(b_text, base[table][row_id], f"before-image of {table} {row_id}")
            test.assertNotIn((table, row_id), after, f"{table} {row_id} changed twice")
            op, a_text = ops[(run_id, s, o)]
            if op in ("delete", "archive"):
                test.assertIsNone(a_text, f"an after-image for deleted {table} {row_id}")
            else:
                test.assertIsNotNone(a_text, f"no after-image for {table} {row_id}")
            after[(table, row_id)] = a_text
    now = snapshot(crm)
    for table in crm.profile.tables:
        want = {}
        for row_id, text in base[table].items():
            expected = after.get((table, row_id), text)
            if expected is not None:
                want[row_id] = expected
        test.assertEqual(set(now[table]), set(want), f"{table}: rows lost or added")
        wrong = [row_id for row_id, text in now[table].items() if text != want[row_id]]
        test.assertEqual(wrong, [], f"{table}: rows neither at the baseline nor at a committed "
                                    "after-image")
    return ledger


class Reference:
    """One traced, uncrashed run on a fresh CRM: its statements (1-based numbers), where each
    change set's transaction begins and commits, where the journal row is opened and closed,
    and the ledger it wrote."""

    def __init__(self, test, backend, profile):
        self.profile = profile
        crm, path = crash_crm(backend, profile)
        test.addCleanup(crm.cleanup)
        base = snapshot(crm)
        trace_path = os.path.join(crm.dir, "reference.trace")
        p = run("run", profile.job, "--json", config=path,
                env=clean_env(CRM_HYGIENE_SQL_TRACE=trace_path), check=0)
        self.report = json.loads(p.stdout)
        test.assertEqual(self.report["status"], "ok")
        self.trace = read_trace(trace_path)
        numbered = list(enumerate(self.trace, start=1))
        txs = transactions(self.trace)
        self.begins = [b for b, _ in txs]
        self.commits = [c for _, c in txs]
        self.updates = [n for n, s in numbered
                        if re.match(r'UPDATE [`"](?!crmh_)\w+[`"] SET', s)]
        test.assertFalse([s for s in self.trace if s == "ROLLBACK"], "the reference run rolled back")
        self.open = next(n for n, s in numbered if s.startswith("INSERT INTO") and "crmh_runs" in s)
        self.close = next(n for n, s in numbered
                          if s.startswith("UPDATE") and "crmh_runs" in s and "SET status" in s)
        sets = self.report["counts"]["change_sets_applied"]
        test.assertGreaterEqual(sets, 8, "too little work for a multi-set crash test")
        if not profile.dedup:  # the sweep's sets rewrite phones (phone_format) and aliases too
            changed = self.report["counts"]["fields_changed"]
            test.assertGreater(changed.get("phone_national", 0), 0, changed)
            if profile is GENERIC:
                test.assertGreater(changed.get("country_fixes", 0), 0, changed)
        test.assertEqual((len(self.begins), len(self.commits)), (sets, sets))
        test.assertTrue(all(b < c for b, c in zip(self.begins, self.commits)))
        test.assertTrue(all(c < b for c, b in zip(self.commits, self.begins[1:])))
        test.assertTrue(self.open < self.begins[0] and self.commits[-1] < self.close)
        self.ledger = verify_no_partial_set(test, crm, base)[self.report["run_id"]]
        test.assertEqual(len(self.ledger), self.report["counts"]["rows_changed"])

    def phase(self, n):
        """The phase a crash after statement n falls in."""
        if n < self.begins[0]:
            return "planning"
        if any(b <= n < c for b, c in zip(self.begins, self.commits)):
            return "in_transaction"
        if n >= self.commits[-1]:
            return "after_last_commit"
        return "between_sets"

    def committed_sets(self, n):
        """How many change sets had committed when the process died after statement n."""
        return sum(1 for c in self.commits if c <= n)

    def crash_points(self):
        """≥ 20 statement numbers spread over the phases: the edges and middles of planning
        (including either side of opening the journal row), several places inside first, second,
        middle and last change sets (just begun, half backed up, backed up but nothing applied,
        one row applied, all applied without after-images, all but the COMMIT), right after
        several COMMITs (and after the lock re-check that follows on MariaDB), and every
        statement after the last COMMIT that still has a successor."""
        b0, total = self.begins[0], len(self.trace)
        points = {1, b0 // 2, self.open - 1, self.open, (self.open + b0) // 2, b0 - 1}
        txs = []
        for b, c in zip(self.begins, self.commits):
            ups = [u for u in self.updates if b < u < c]
            txs.append((b, c, ups))
        (b, c, ups) = txs[0]
        points |= {b, ups[0] - 1, ups[0]}
        (b, c, ups) = txs[1]
        points |= {ups[-1], c - 1}
        (b, c, ups) = txs[len(txs) // 2]
        points |= {(b + ups[0]) // 2, ups[len(ups) // 2]}
        (b, c, ups) = txs[-1]
        points |= {b, ups[0], c - 1}
        mid = len(self.commits) // 2
        points |= {self.commits[0], self.commits[1], self.commits[mid], self.commits[-2]}
        if self.commits[0] + 1 < self.begins[1]:
            points.add(self.commits[0] + 1)
        # After the last COMMIT (a crash needs a next statement): the journal close and, for
        # dedup, the review queue — its first and last few statements and its middle.
        tail = list(range(self.commits[-1], total))
        points |= set(tail[:4] + tail[-3:] + tail[len(tail) // 2:len(tail) // 2 + 1])
        return sorted((n, self.phase(n)) for n in points if 1 <= n < total)


class CrashTest(unittest.TestCase):
    @classmethod
    def tearDownClass(cls):
        if SUMMARY:
            print("\ncrash_test summary:\n  " + "\n  ".join(SUMMARY), flush=True)

    def test_checksum_sees_one_byte_and_null_versus_empty(self):
        for backend in backends():
            with self.subTest(backend):
                crm = CrashCrm(backend, 20)
                self.addCleanup(crm.cleanup)
                base = checksum(snapshot(crm))
                row_id, name = crm.sql("SELECT id, last_name FROM contacts WHERE last_name IS NOT NULL "
                                       "AND last_name NOT LIKE '%''%' AND notes IS NULL "
                                       "ORDER BY id LIMIT 1")[0]
                crm.sql(f"UPDATE contacts SET notes = '' WHERE id = {row_id}")
                self.assertNotEqual(checksum(snapshot(crm)), base, "NULL → '' not seen")
                crm.sql(f"UPDATE contacts SET notes = NULL WHERE id = {row_id}")
                self.assertEqual(checksum(snapshot(crm)), base)
                flipped = name[:-1] + ("x" if name[-1] != "x" else "y")
                crm.sql(f"UPDATE contacts SET last_name = '{flipped}' WHERE id = {row_id}")
                self.assertNotEqual(checksum(snapshot(crm)), base, "a one-byte change not seen")
                crm.sql(f"UPDATE contacts SET last_name = '{name}' WHERE id = {row_id}")
                self.assertEqual(checksum(snapshot(crm)), base)

    def test_kill_9_at_every_phase_of_a_run(self):
        self.kill_9_at_every_phase(GENERIC)

    def test_kill_9_at_every_phase_of_a_suitecrm_run(self):
        self.kill_9_at_every_phase(SUITECRM)

    def test_kill_9_at_every_phase_of_a_dedup_merge_run(self):
        self.kill_9_at_every_phase(DEDUP)

    def kill_9_at_every_phase(self, profile):
        for backend in backends():
            with self.subTest(backend):
                started = time.monotonic()
                ref = Reference(self, backend, profile)
                points = ref.crash_points()
                phases = {}
                for n, phase in points:
                    phases[phase] = phases.get(phase, 0) + 1
                self.assertGreaterEqual(len(points), 20, points)
                for phase in ("planning", "in_transaction", "between_sets"):
                    self.assertGreaterEqual(phases.get(phase, 0), 3, (phase, points))
                self.assertGreaterEqual(phases.get("after_last_commit", 0), 1, points)
                for n, phase in points:
                    with self.subTest(profile=profile.label, backend=backend, crash_after_stmt=n,
                                      phase=phase):
                        self.crash_and_recover(backend, ref, n)
                SUMMARY.append(
                    f"kill -9 [{profile.label}, {backend}]: {len(points)} crash points over {len(ref.trace)} statements, "
                    f"{len(ref.commits)} change sets — " +
                    ", ".join(f"{p} {phases.get(p, 0)}" for p in
                              ("planning", "in_transaction", "between_sets", "after_last_commit")) +
                    f" — {time.monotonic() - started:.1f}s")

    def crash_and_recover(self, backend, ref, n):
        """One crash point on a fresh CRM: kill -9 after statement n, check the rows and the
        ledger, run again, restore both runs newest first, compare with the baseline."""
        crm, path = crash_crm(backend, ref.profile)
        self.addCleanup(crm.cleanup)
        base = snapshot(crm)
        base_sum, base_server = checksum(base), server_checksums(crm)
        trace_path = os.path.join(crm.dir, "crash.trace")
        p = run("run", ref.profile.job, config=path, timeout=60,
                env=clean_env(CRM_HYGIENE_FAULT=f"crash_after_stmt:{n}",
                              CRM_HYGIENE_SQL_TRACE=trace_path))
        self.assertEqual(p.returncode, -9, f"not killed after statement {n}: {p.stdout}{p.stderr}")
        # The same statements as the reference up to the one the hook killed it at: the crash
        # point is where we meant it to be.
        got = read_trace(trace_path)
        self.assertEqual(len(got), n + 1)
        diverged = next((i + 1 for i, (a, b) in enumerate(zip(got, ref.trace)) if a != b), None)
        self.assertIsNone(diverged, f"statement {diverged} differs from the reference run")
        crm.wait_idle()

        committed = ref.committed_sets(n)
        runs = journal(crm)
        if n < ref.open:
            self.assertEqual(runs, {}, "a journal row before the run was opened")
            crashed = None
        else:
            self.assertEqual(len(runs), 1, runs)
            crashed = next(iter(runs))
            self.assertEqual(runs[crashed][1], "running" if n < ref.close else "ok")

        ledger = verify_no_partial_set(self, crm, base)
        want = [op for op in ref.ledger if op[0] <= committed]
        self.assertEqual(ledger.get(crashed, []) if crashed else [], want,
                         f"ledger after a crash with {committed} set(s) committed")
        self.assertEqual(set(ledger) - {crashed}, set(), "ledger rows of another run")

        # The next run marks the dead one interrupted and finishes the job.
        rep = json.loads(run("run", ref.profile.job, "--json", config=path, env=clean_env(),
                             check=0).stdout)
        self.assertEqual(rep["status"], "ok", rep)
        if ref.profile.dedup:
            # The next run matches again: the merged contacts are gone, so it merges what is left
            # (the same clusters, unless a survivor's filled fields move a score across a band).
            self.assertEqual(rep["counts"]["merges_planned"],
                             rep["counts"]["merges_applied"], rep)
        else:
            self.assertEqual(rep["counts"]["rows_changed"], len(ref.ledger) - len(want), rep)
        if crashed:
            self.assertEqual(journal(crm)[crashed][1], "interrupted" if n < ref.close else "ok")

        # Restore newest first; a run that changed nothing has nothing to restore.
        if rep["counts"]["rows_changed"]:
            run("restore", rep["run_id"], config=path, env=clean_env(), check=0)
        if want:
            run("restore", crashed, config=path, env=clean_env(), check=0)
        after = snapshot(crm)
        for table in crm.profile.tables:
            self.assertEqual(after[table], base[table], f"{table} differs from the baseline")
        self.assertEqual(checksum(after), base_sum)
        self.assertEqual(server_checksums(crm), base_server)

    def test_database_restart_mid_run(self):
        mariadb_required(self)
        started = time.monotonic()
        server = tempfile.mkdtemp(prefix="crmh_restart_")
        script = os.path.join(SRC, "tests", "mariadb.sh")

        def mariadb(cmd):
            p = subprocess.run(["bash", script, cmd, server], capture_output=True, text=True)
            if p.returncode != 0:
                raise AssertionError(f"mariadb.sh {cmd}: {p.stderr}")
            return p.stdout.strip()

        self.addCleanup(shutil.rmtree, server, ignore_errors=True)
        socket = mariadb("start")
        self.addCleanup(mariadb, "stop")
        crm = CrashCrm("mysql", RESTART_CONTACTS, socket=socket)
        self.addCleanup(crm.cleanup)
        dirty(crm, "1 = 1", None)
        path = crm.config(GENERIC.config_body(1))
        base = snapshot(crm)
        base_sum, base_server = checksum(base), server_checksums(crm)

        proc = subprocess.Popen([BIN, "--config", path, "run", "std", "--json"], env=clean_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # Let some change sets commit, then take the server away under the running job.
            deadline = time.monotonic() + 30
            while True:
                self.assertIsNone(proc.poll(), "the run ended before the server was stopped")
                self.assertLess(time.monotonic(), deadline, "no change set committed within 30s")
                if (crm.table_exists("crmh_ledger") and
                        int(crm.sql("SELECT COUNT(*) FROM crmh_ledger")[0][0]) >= 20):
                    break
                time.sleep(0.02)
            mariadb("stop")
            # While the server is down the run cannot record its outcome: it must keep retrying
            # (ExecuteRun reconnects for up to 30 s), not exit and leave its journal row `running`.
            try:
                proc.wait(timeout=2)
                gave_up = True
            except subprocess.TimeoutExpired:
                gave_up = False
            mariadb("start")
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        rep = json.loads(out)
        runs = journal(crm)
        with self.subTest("the run reconnects and records `failed`: the database went away"):
            # Exiting within the 2 s is fine only if the outcome was already recorded: a server
            # shutting down kills the job-lock connection first, and the run may still reach the
            # journal before the server is gone. What must never happen: exit leaving `running`.
            recorded = runs.get(rep["run_id"], ("", "", ""))[1] == "failed"
            self.assertFalse(gave_up and not recorded,
                             f"the run ended (exit {proc.returncode}) while the server was down "
                             f"instead of reconnecting to record its outcome: {brief(out, err)}; "
                             f"journal after the restart: {runs}")
            self.assertIn(proc.returncode, (1, 3), brief(out, err))
            self.assertEqual(rep["status"], "failed", brief(out, err))
            self.assertIn("database went away", rep["message"])
            kind, status, message = runs[rep["run_id"]]
            self.assertEqual(status, "failed", runs)  # recorded after reconnecting
            self.assertIn("database went away", message)
        # Whatever the journal says, the data must be safe and the next run must finish the job.
        ledger = verify_no_partial_set(self, crm, base)
        self.assertEqual(list(ledger), [rep["run_id"]])
        sets = [s for s, _, _, _ in ledger[rep["run_id"]]]
        self.assertEqual(sets, list(range(1, len(sets) + 1)), "committed sets are not 1..k")
        planned = rep["counts"]["rows_planned"]
        self.assertLess(len(sets), planned, "every set committed: the restart came too late")
        # The failed run reports what the ledger holds, even if its last COMMIT's answer was lost.
        self.assertEqual(rep["counts"].get("change_sets_applied"), len(set(sets)), rep["counts"])
        self.assertEqual(rep["counts"].get("rows_changed"), len(ledger[rep["run_id"]]),
                         rep["counts"])

        again = json.loads(run("run", "std", "--json", config=path, env=clean_env(), check=0).stdout)
        self.assertEqual(again["status"], "ok", again)
        self.assertEqual(again["counts"]["rows_changed"], planned - len(sets))
        run("restore", again["run_id"], config=path, env=clean_env(), check=0)
        run("restore", rep["run_id"], config=path, env=clean_env(), check=0)
        after = snapshot(crm)
        self.assertEqual(checksum(after), base_sum)
        self.assertEqual(server_checksums(crm), base_server)
        SUMMARY.append(f"database restart [mysql]: {len(sets)} of {planned} sets committed before the "
                       f"stop, run exited {proc.returncode} (journal: {runs[rep['run_id']][1]}) — "
                       f"{time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    main()
