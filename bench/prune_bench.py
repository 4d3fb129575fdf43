#!/usr/bin/env python3
"""Prune benchmark (issue 5): crm-hygiene's `prune` (action archive, ledger on) against
`pt-archiver --bulk-insert --bulk-delete --limit B --txn-size B --dest …` run once per table,
children first, over the same contact ids, with the same B, on the same MariaDB in the same run.

The data: N contacts in the generic schema (docs/config.md `profile: generic`), S of them stale
(email_opt_out = 1, every (N/S)-th id), each stale contact with A activities, every 10th a lost
deal and every 4th a tag; every other contact one recent activity. Written twice (one database
per tool, identical rows) with LOAD DATA LOCAL INFILE.

crm-hygiene: a notice run (notice_days 0), then the timed prune run (plan: one scan of every live
contact with its criteria; apply: S/B change sets, each lock+compare+before-image, ledger,
archive copy, DELETE, checkpoint and notices in one transaction), then the timed restore.
pt-archiver: activities, deals, contact_tags, contacts, each `--where "<fk> IN (SELECT id FROM
bench_ids)"` (bench_ids = the same stale ids), into an archive database with the same tables.

Usage (percona-toolkit from Debian: apt-get install percona-toolkit):
  bench/prune_bench.py --binary build/ci/crm-hygiene [--contacts 1000000 --stale 200000
      --activities 4 --batch 1000] [--socket SOCK | --dir DIR]
Without --socket it starts a private MariaDB in DIR (default a temp dir): 1 GiB buffer pool,
innodb_flush_log_at_trx_commit=1 (MariaDB's durable default), no binlog.
Prints a JSON summary (and writes it with --out).

A/B on a shared machine: `--binary A --binary B --rounds 2` runs A, B, pt-archiver, then B, A,
pt-archiver (each crm-hygiene run on a freshly loaded database), so both binaries see the same
load. Every timed phase records the 1-minute load average before and after it and the CPU
seconds the server (mariadbd) and the client used in it. `--profile` turns on MariaDB's
performance_schema and records the server time per statement digest of each prune run
(measuring slows the server a little: compare profiles with profiles)."""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

DDL = [
    """CREATE TABLE users (id BIGINT NOT NULL AUTO_INCREMENT, user_name VARCHAR(60) NOT NULL,
  full_name VARCHAR(150) NULL, email VARCHAR(255) NULL, is_system TINYINT(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (id), UNIQUE KEY users_user_name_uq (user_name))""",
    """CREATE TABLE contacts (id BIGINT NOT NULL AUTO_INCREMENT,
  first_name VARCHAR(100) NULL, last_name VARCHAR(100) NULL,
  email VARCHAR(255) NULL, email2 VARCHAR(255) NULL, phone VARCHAR(50) NULL, mobile VARCHAR(50) NULL,
  company VARCHAR(150) NULL, address1 VARCHAR(255) NULL, address2 VARCHAR(255) NULL,
  city VARCHAR(100) NULL, postcode VARCHAR(20) NULL, region VARCHAR(100) NULL,
  country VARCHAR(100) NULL, birthdate DATE NULL, status VARCHAR(20) NOT NULL DEFAULT 'lead',
  owner_id BIGINT NULL, created_by BIGINT NULL, modified_by BIGINT NULL,
  created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, last_contacted_at DATETIME NULL,
  email_opt_out TINYINT(1) NOT NULL DEFAULT 0, do_not_call TINYINT(1) NOT NULL DEFAULT 0,
  email_bounced TINYINT(1) NOT NULL DEFAULT 0, legal_hold TINYINT(1) NOT NULL DEFAULT 0,
  deleted TINYINT(1) NOT NULL DEFAULT 0, notes TEXT NULL,
  PRIMARY KEY (id), KEY contacts_owner_id_idx (owner_id), KEY contacts_created_by_idx (created_by),
  KEY contacts_modified_by_idx (modified_by))""",
    """CREATE TABLE activities (id BIGINT NOT NULL AUTO_INCREMENT, parent_type VARCHAR(20) NOT NULL,
  parent_id BIGINT NOT NULL, kind VARCHAR(20) NOT NULL, subject VARCHAR(255) NULL,
  occurred_at DATETIME NOT NULL, created_by BIGINT NULL, deleted TINYINT(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (id), KEY activities_parent_idx (parent_id, parent_type),
  KEY activities_created_by_idx (created_by))""",
    """CREATE TABLE deals (id BIGINT NOT NULL AUTO_INCREMENT, contact_id BIGINT NOT NULL,
  name VARCHAR(255) NULL, stage VARCHAR(20) NOT NULL, amount DECIMAL(12,2) NULL,
  created_at DATETIME NOT NULL, deleted TINYINT(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (id), KEY deals_contact_id_idx (contact_id))""",
    """CREATE TABLE contact_tags (id BIGINT NOT NULL AUTO_INCREMENT, contact_id BIGINT NOT NULL,
  tag VARCHAR(50) NOT NULL, deleted TINYINT(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (id), UNIQUE KEY contact_tags_contact_tag_uq (contact_id, tag))""",
]
OPTIONS = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
TABLES = ["activities", "deals", "contact_tags", "contacts"]  # children first
FIRST = ["An", "Bích", "Chris", "Dana", "Émile", "Fatemeh", "Giorgos", "Hùng", "Ines", "José"]
LAST = ["Nguyễn", "Smith", "Müller", "García", "Rossi", "Kowalski", "Tanaka", "Silva"]


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


class Server:
    def __init__(self, args):
        self.proc_dir = None
        if args.socket:
            self.sock = args.socket
            return
        self.proc_dir = args.dir or tempfile.mkdtemp(prefix="crmh-prune-bench.")
        data = os.path.join(self.proc_dir, "data")
        self.sock = os.path.join(self.proc_dir, "mysqld.sock")
        if not os.path.isdir(os.path.join(data, "mysql")):
            sh(["mariadb-install-db", "--no-defaults", "--user=root", f"--datadir={data}",
                "--skip-test-db", "--auth-root-authentication-method=socket"])
        subprocess.Popen(
            ["mariadbd", "--no-defaults", "--user=root", f"--datadir={data}",
             f"--socket={self.sock}", "--skip-networking",
             f"--pid-file={self.proc_dir}/mysqld.pid", f"--log-error={self.proc_dir}/error.log",
             "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
             "--innodb-buffer-pool-size=1G", "--innodb-log-file-size=512M",
             "--innodb-flush-log-at-trx-commit=1", "--skip-log-bin", "--local-infile=1",
             "--max-connections=100"] +
            (["--performance-schema=ON", "--performance-schema-consumer-events-statements-current=ON"]
             if args.profile else []),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(240):
            if subprocess.run(["mariadb-admin", "--no-defaults", f"--socket={self.sock}", "-uroot",
                               "ping"], capture_output=True).returncode == 0:
                return
            time.sleep(0.25)
        raise SystemExit("mariadb did not start; see " + self.proc_dir + "/error.log")

    def cpu_seconds(self):
        """mariadbd's user+system CPU seconds so far (None with --socket)."""
        if not self.proc_dir:
            return None
        try:
            with open(os.path.join(self.proc_dir, "mysqld.pid")) as f:
                pid = f.read().strip()
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def sql(self, query, db=None):
        cmd = ["mariadb", "--no-defaults", f"--socket={self.sock}", "-uroot", "-N", "-B",
               "--local-infile=1"]
        if db:
            cmd.append(db)
        p = subprocess.run(cmd, input=query, text=True, capture_output=True)
        if p.returncode != 0:
            raise SystemExit(f"SQL failed: {p.stderr}\n{query[:300]}")
        return [line.split("\t") for line in p.stdout.splitlines()]

    def stop(self):
        if self.proc_dir:
            subprocess.run(["mariadb-admin", "--no-defaults", f"--socket={self.sock}", "-uroot",
                            "shutdown"], capture_output=True)


def write_data(tmp, n, stale_every, acts):
    """TSV files for LOAD DATA; returns their paths and the expected counts."""
    paths = {t: os.path.join(tmp, t + ".tsv") for t in ["users"] + TABLES}
    counts = dict.fromkeys(TABLES, 0)
    with open(paths["users"], "w") as f:
        f.write("1\tcrm-hygiene\tcrm-hygiene\t\\N\t1\n")
    with open(paths["contacts"], "w") as c, open(paths["activities"], "w") as a, \
            open(paths["deals"], "w") as d, open(paths["contact_tags"], "w") as g:
        act_id = deal_id = tag_id = 0
        for i in range(1, n + 1):
            stale = i % stale_every == 0
            first, last = FIRST[i % len(FIRST)], LAST[i % len(LAST)]
            created = f"20{19 + i % 5}-0{1 + i % 9}-1{i % 10} 10:00:00"
            c.write(f"{i}\t{first}\t{last}\tc{i}@example.com\t\\N\t+1555{i:07d}\t\\N\tACME {i % 997}\t"
                    f"{i} Main St\t\\N\tSpringfield\t{10000 + i % 89999}\t\\N\tUS\t\\N\tlead\t1\t1\t1\t"
                    f"{created}\t{created}\t\\N\t{1 if stale else 0}\t0\t0\t0\t0\t\\N\n")
            counts["contacts"] += 1
            for k in range(acts if stale else 1):
                act_id += 1
                when = f"202{2 if stale else 6}-0{1 + k % 9}-0{1 + i % 9} 09:30:00"
                a.write(f"{act_id}\tContacts\t{i}\t{('call', 'meeting', 'note', 'email')[k % 4]}\t"
                        f"follow-up {k} for {i}\t{when}\t1\t0\n")
                counts["activities"] += 1
            if stale and (i // stale_every) % 10 == 0:
                deal_id += 1
                d.write(f"{deal_id}\t{i}\tdeal {i}\tlost\t{i % 1000}.50\t2021-03-04 05:06:07\t0\n")
                counts["deals"] += 1
            if stale and (i // stale_every) % 4 == 0:
                tag_id += 1
                g.write(f"{tag_id}\t{i}\tnewsletter\t0\n")
                counts["contact_tags"] += 1
    return paths, counts


def load(server, db, paths):
    server.sql(f"DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db} CHARACTER SET utf8mb4 "
               f"COLLATE utf8mb4_unicode_ci;")
    server.sql(";\n".join(d + OPTIONS for d in DDL) + ";", db)
    for t, p in paths.items():
        server.sql(f"LOAD DATA LOCAL INFILE '{p}' INTO TABLE {t} CHARACTER SET utf8mb4 "
                   f"FIELDS TERMINATED BY '\\t' LINES TERMINATED BY '\\n';", db)
    server.sql("ANALYZE TABLE " + ", ".join(["users"] + TABLES) + ";", db)


def load1():
    return round(os.getloadavg()[0], 2)


class Phase:
    """Wall time, load before/after, server and client CPU seconds of one timed phase."""

    def __init__(self, server):
        self.server = server

    def __enter__(self):
        self.load0 = load1()
        self.cpu0 = self.server.cpu_seconds()
        self.ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.t0
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu1 = self.server.cpu_seconds()
        self.info = {"load1": [self.load0, load1()],
                     "client_cpu_s": round(ru.ru_utime + ru.ru_stime - self.ru0.ru_utime -
                                           self.ru0.ru_stime, 2)}
        if self.cpu0 is not None and cpu1 is not None:
            self.info["server_cpu_s"] = round(cpu1 - self.cpu0, 2)
        return False


def digests_reset(server):
    server.sql("TRUNCATE TABLE performance_schema.events_statements_summary_by_digest;")


class PreparedPoll:
    """The engine runs its statements as server-side prepared statements, which MariaDB's
    digest summary does not count; performance_schema.prepared_statements_instances does, but
    only while the client holds them. Polled every second during a phase; per statement text,
    the sum over instances of each instance's last seen totals."""

    def __init__(self, server, db):
        self.server, self.db = server, db
        self.seen = {}  # instance → (text, count, seconds)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def poll(self):
        try:
            rows = self.server.sql(
                "SELECT OBJECT_INSTANCE_BEGIN, COUNT_EXECUTE, SUM_TIMER_EXECUTE / 1e12, "
                "LEFT(REPLACE(SQL_TEXT, '\n', ' '), 400) FROM "
                "performance_schema.prepared_statements_instances WHERE OWNER_OBJECT_SCHEMA IS "
                f"NULL OR OWNER_OBJECT_SCHEMA = '{self.db}';")
        except SystemExit:
            return
        for r in rows:
            if len(r) == 4:
                self.seen[r[0]] = (r[3], int(r[1]), float(r[2]))

    def run(self):
        while not self.stop.wait(1.0):
            self.poll()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        return False

    def top(self, n=25):
        by_text = {}
        for text, count, secs in self.seen.values():
            c, t = by_text.get(text, (0, 0.0))
            by_text[text] = (c + count, t + secs)
        rows = sorted(by_text.items(), key=lambda kv: -kv[1][1])
        return {"total_s": round(sum(t for _, (c, t) in rows), 3),
                "top": [{"count": c, "seconds": round(t, 3), "statement": k}
                        for k, (c, t) in rows[:n]]}


def digests_top(server, db, n=25):
    """Server seconds per statement digest since the reset, largest first."""
    rows = server.sql(
        "SELECT COUNT_STAR, ROUND(SUM_TIMER_WAIT / 1e12, 3), LEFT(REPLACE(DIGEST_TEXT, '\n', ' '), "
        f"160) FROM performance_schema.events_statements_summary_by_digest WHERE SCHEMA_NAME = "
        f"'{db}' ORDER BY SUM_TIMER_WAIT DESC LIMIT {n};")
    total = server.sql(
        "SELECT ROUND(SUM(SUM_TIMER_WAIT) / 1e12, 3) FROM "
        f"performance_schema.events_statements_summary_by_digest WHERE SCHEMA_NAME = '{db}';")
    return {"total_s": float(total[0][0] or 0),
            "top": [{"count": int(r[0]), "seconds": float(r[1]), "digest": r[2]} for r in rows]}


def checksums(server, db):
    rows = server.sql("CHECKSUM TABLE " + ", ".join(TABLES) + ";", db)
    return {r[0].split(".")[-1]: r[1] for r in rows}


def run_crmh(server, args, binary, connections, db, tmp):
    cfg = os.path.join(tmp, "bench.yaml")
    with open(cfg, "w") as f:
        f.write(f"""instance_id: bench
system_user: "1"
database: {{backend: mysql, socket: {server.sock}, name: {db}, user: root}}
state: {{directory: {tmp}/state}}
mapping: {{profile: generic}}
jobs:
  prune:
    kind: prune
    batch_size: {args.batch}
    max_rows: 0
    max_fraction: 0
    options:
      action: archive
      notice_days: 0
      criteria: {{opted_out: true}}
""" + (f"      connections: {connections}\n" if connections > 1 else ""))
    env = dict(os.environ, CRM_HYGIENE_CONFIG=cfg)

    phases = {}

    def timed(name, *argv, profile=False):
        poll = PreparedPoll(server, db) if profile else None
        if profile:
            digests_reset(server)
            poll.__enter__()
        with Phase(server) as ph:
            p = subprocess.run([binary, "--config", cfg, *argv], text=True, capture_output=True,
                               env=env)
        if profile:
            poll.__exit__(None, None, None)
        if p.returncode != 0:
            try:
                msg = json.loads(p.stdout).get("message", "")[:3000]
            except ValueError:
                msg = p.stdout[-2000:]
            raise SystemExit(f"crm-hygiene {' '.join(argv)} failed ({p.returncode}): {p.stderr}"
                             f"{msg}")
        phases[name] = ph.info
        if profile:
            phases[name]["digests"] = digests_top(server, db)
            phases[name]["prepared"] = poll.top()
        return ph.seconds, p.stdout

    before = checksums(server, db)
    notice_s, out = timed("notice", "run", "prune", "--json", profile=args.profile)
    noticed = json.loads(out)["counts"]["notices_opened"]
    prune_s, out = timed("prune", "run", "prune", "--json", profile=args.profile)
    rep = json.loads(out)
    if rep["status"] != "ok":
        raise SystemExit(f"prune run: {rep['status']}: {rep.get('message')}")
    archived = {t: int(server.sql(f"SELECT COUNT(*) FROM crmh_ar_{t};", db)[0][0]) for t in TABLES}
    live = int(server.sql("SELECT COUNT(*) FROM contacts;", db)[0][0])
    restore_s, _ = timed("restore", "restore", rep["run_id"])
    after_restore = checksums(server, db)
    return {"notice_run_s": round(notice_s, 2), "notices_opened": noticed,
            "prune_run_s": round(prune_s, 2), "contacts_pruned": rep["counts"]["contacts_pruned"],
            "rows_changed": rep["counts"]["rows_changed"],
            "change_sets": rep["counts"]["change_sets_applied"],
            "apply_s": rep.get("details", {}).get("apply_seconds"),
            "plan_s": rep.get("details", {}).get("plan_seconds"),
            "lock_retries": rep["counts"].get("lock_retries", 0),
            "archived": archived, "live_contacts_after": live,
            "restore_s": round(restore_s, 2), "restore_exact": after_restore == before,
            "binary": binary, "connections": connections, "phases": phases}


def run_pt(server, args, db):
    arch = db + "_arch"
    server.sql(f"DROP DATABASE IF EXISTS {arch}; CREATE DATABASE {arch};" +
               "".join(f"CREATE TABLE {arch}.{t} LIKE {db}.{t};" for t in TABLES))
    server.sql("CREATE TABLE bench_ids (id BIGINT NOT NULL PRIMARY KEY) ENGINE=InnoDB; "
               "INSERT INTO bench_ids SELECT id FROM contacts WHERE email_opt_out = 1 AND "
               "deleted = 0;", db)
    where = {"activities": f"parent_type = 'Contacts' AND parent_id IN (SELECT id FROM {db}.bench_ids)",
             "deals": f"contact_id IN (SELECT id FROM {db}.bench_ids)",
             "contact_tags": f"contact_id IN (SELECT id FROM {db}.bench_ids)",
             "contacts": f"id IN (SELECT id FROM {db}.bench_ids)"}
    per_table = {}
    total = 0.0
    whole = Phase(server).__enter__()
    for t in TABLES:
        cmd = ["pt-archiver", "--source", f"S={server.sock},u=root,D={db},t={t},L=1",
               "--dest", f"S={server.sock},u=root,D={arch},t={t},L=1",
               "--where", where[t], "--limit", str(args.batch), "--txn-size", str(args.batch),
               "--bulk-insert", "--bulk-delete", "--no-safe-auto-increment", "--no-check-charset",
               "--statistics"]
        t0 = time.monotonic()
        p = subprocess.run(cmd, text=True, capture_output=True)
        dt = time.monotonic() - t0
        if p.returncode != 0:
            raise SystemExit(f"pt-archiver {t} failed: {p.stderr}\n{p.stdout}")
        rows = int(server.sql(f"SELECT COUNT(*) FROM {arch}.{t};")[0][0])
        per_table[t] = {"seconds": round(dt, 2), "rows": rows}
        total += dt
    whole.__exit__(None, None, None)
    live = int(server.sql("SELECT COUNT(*) FROM contacts;", db)[0][0])
    return {"total_s": round(total, 2), "per_table": per_table, "live_contacts_after": live,
            "phase": whole.info,
            "command": " ".join(cmd[:1] + ["--source", "S=…,D=…,t=TABLE,L=1", "--dest",
                                             "S=…,D=…_arch,t=TABLE,L=1", "--where", "'<fk> IN "
                                             "(SELECT id FROM bench_ids)'"] + cmd[9:])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", action="append",
                    help="crm-hygiene binary; repeat for an interleaved A/B (default build/ci/crm-hygiene)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="rounds of (every binary, then pt-archiver); the binaries' order alternates")
    ap.add_argument("--profile", action="store_true",
                    help="performance_schema on: server seconds per statement digest of each run")
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--stale", type=int, default=200_000)
    ap.add_argument("--activities", type=int, default=4)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--socket")
    ap.add_argument("--dir")
    ap.add_argument("--out")
    ap.add_argument("--only", choices=["crmh", "pt"])
    ap.add_argument("--connections", type=int, action="append",
                    help="the prune job's options.connections; repeat to run each binary with "
                         "each (default 1, written only when > 1)")
    args = ap.parse_args()
    if args.only != "crmh" and not shutil.which("pt-archiver"):
        raise SystemExit("pt-archiver not found: apt-get install percona-toolkit")
    args.binary = [os.path.abspath(b) for b in (args.binary or ["build/ci/crm-hygiene"])]
    server = Server(args)
    tmp = tempfile.mkdtemp(prefix="crmh-prune-bench-data.")
    try:
        t0 = time.monotonic()
        paths, counts = write_data(tmp, args.contacts, args.contacts // args.stale, args.activities)
        gen_s = time.monotonic() - t0
        result = {"contacts": args.contacts, "stale": args.stale,
                  "activities_per_stale": args.activities, "batch": args.batch,
                  "rows": counts, "generate_s": round(gen_s, 1)}
        rounds = []
        for r in range(args.rounds):
            rnd = {"round": r + 1, "crm_hygiene": []}
            if args.only != "pt":
                variants = [(b, c) for b in args.binary for c in (args.connections or [1])]
                order = variants if r % 2 == 0 else list(reversed(variants))
                for b, conn in order:
                    t0 = time.monotonic()
                    load(server, "bench_crmh", paths)
                    load_s = round(time.monotonic() - t0, 1)
                    run = run_crmh(server, args, b, conn, "bench_crmh", tmp)
                    run["load_s"] = load_s
                    rnd["crm_hygiene"].append(run)
            if args.only != "crmh":
                load(server, "bench_pt", paths)
                rnd["pt_archiver"] = run_pt(server, args, "bench_pt")
                for run in rnd["crm_hygiene"]:
                    run["ratio_prune_run_to_pt"] = round(
                        run["prune_run_s"] / rnd["pt_archiver"]["total_s"], 2)
            rounds.append(rnd)
            print(json.dumps(rnd), file=sys.stderr, flush=True)
        if len(rounds) == 1 and len(rounds[0]["crm_hygiene"]) <= 1 and not args.connections:
            # One binary, one round: the flat layout of the earlier results.
            rnd = rounds[0]
            if rnd["crm_hygiene"]:
                result["crm_hygiene"] = rnd["crm_hygiene"][0]
                result["load_s"] = result["crm_hygiene"].pop("load_s")
            if "pt_archiver" in rnd:
                result["pt_archiver"] = rnd["pt_archiver"]
            if "crm_hygiene" in result and "pt_archiver" in result:
                result["ratio_prune_run_to_pt"] = result["crm_hygiene"].pop(
                    "ratio_prune_run_to_pt")
        else:
            result["rounds"] = rounds
        print(json.dumps(result, indent=2))
        if args.out:
            with open(args.out, "w") as f:
                json.dump(result, f, indent=2)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
