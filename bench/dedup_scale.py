#!/usr/bin/env python3
"""The scale benchmark of dedup (issue 4) and the 1M ratios of standardize/validation/audit
(issue 6), on a generated generic-schema CRM in a private MariaDB.

usage: bench/dedup_scale.py --bin CRM_HYGIENE --gen GEN_CONTACTS --work DIR --contacts N
                            [--seed S] [--buffer-pool 256M] [--keep-server]
                            [--steps gen,load,read,dedup,repeat,change,changed,full,merge,ratios]

Steps (each prints its numbers and they are collected in DIR/results-N.json):
  gen     bench/gen_contacts writes DIR/data-N/*.tsv (skipped when summary.json exists)
  load    a fresh database crm_N from schema.sql + LOAD DATA LOCAL INFILE
  dedup   `mariadb --quick` read of the columns dedup reads, then
          `crm-hygiene run dedup --dry-run --json` under /usr/bin/time -v (wall, peak RSS), then
          the read again; precision/recall/F1 of the auto clusters' within-cluster pairs against
          truth.tsv; review-band size
          (a first sweep: the job's sweep cache in DIR/state-N is removed before it)
  repeat  the same sweep again (warm server and page cache; the sweep cache from `dedup` is used)
  change  edits ~1.2 % of the contacts (round R = --change-round, 1..99; each round once):
          id % 200 = R a new email, id % 200 = 100 + R the surname re-typed in capitals,
          id % 1000 = 500 + R soft-deleted, id % 1000 = 700 + R copied to a new contact
          (id + R × 10,000,000: a duplicate)
  changed the sweep after `change`, with the sweep cache of the sweep before it
  full    the same sweep with the sweep cache removed first; its clusters are compared with
          `changed`'s (they must be identical: the cache is a pure optimization)
  ratios  standardize --dry-run, validation (standardize with flags only, writes flags), audit,
          each next to a `mariadb --quick` read of the columns it reads
  merge   a real dedup run that merges every auto cluster (there is no per-run cap on merges;
          at 1M the model finds ~12k); merges/s = merges applied / (run wall − the sweep the run
          reports), i.e. planning + applying + queueing review items; run it last (it changes
          the database); restore is not part of it
The private server: mariadbd --no-defaults, unix socket only, innodb_buffer_pool_size as given,
innodb_flush_log_at_trx_commit=2 (as the tests' server). SQL goes on stdin, never argv. The
default 256M pool is what the 1M ratios and the merge rate were always measured with; the
10M / 1M ratio is measured with a pool that holds the contacts table (4G at 10M) on both
servers, by bench/dedup_pairs.py (docs/adr/0003-what-the-scale-targets-measure.md).
"""
import argparse
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# The columns each job reads (what `mariadb --quick` reads for the comparison).
DEDUP_COLS = ("id, first_name, last_name, email, email2, phone, mobile, company, address1, "
              "address2, city, postcode, region, country, CAST(birthdate AS CHAR), created_at, "
              "updated_at, email_opt_out, do_not_call, last_contacted_at")
STANDARDIZE_COLS = ("id, first_name, last_name, email, email2, phone, mobile, company, address1, "
                    "address2, city, postcode, region, country")
AUDIT_COLS = "id, first_name, last_name, email, phone, country, owner_id"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


class Server:
    def __init__(self, d, pool):
        self.dir = d
        self.sock = os.path.join(d, "mysqld.sock")
        self.pool = pool

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        if not os.path.isdir(os.path.join(self.dir, "data", "mysql")):
            sh(["mariadb-install-db", "--no-defaults", "--user=root",
                f"--datadir={self.dir}/data", "--skip-test-db",
                "--auth-root-authentication-method=socket"], capture_output=True)
        if self.ping():
            return
        subprocess.Popen(
            ["mariadbd", "--no-defaults", "--user=root", f"--datadir={self.dir}/data",
             f"--socket={self.sock}", "--skip-networking", f"--pid-file={self.dir}/mysqld.pid",
             f"--log-error={self.dir}/error.log", "--character-set-server=utf8mb4",
             "--collation-server=utf8mb4_unicode_ci", f"--innodb-buffer-pool-size={self.pool}",
             "--innodb-flush-log-at-trx-commit=2", "--skip-log-bin", "--local-infile=1",
             "--innodb-log-file-size=256M", "--max-allowed-packet=256M"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        for _ in range(240):
            if self.ping():
                return
            time.sleep(0.25)
        raise SystemExit("mariadb did not start: see " + self.dir + "/error.log")

    def ping(self):
        return subprocess.run(["mariadb-admin", "--no-defaults", f"--socket={self.sock}", "-uroot",
                               "ping"], capture_output=True).returncode == 0

    def stop(self):
        subprocess.run(["mariadb-admin", "--no-defaults", f"--socket={self.sock}", "-uroot",
                        "shutdown"], capture_output=True)

    def client(self, db=None, extra=()):
        c = ["mariadb", "--no-defaults", f"--socket={self.sock}", "-uroot",
             "--default-character-set=utf8mb4", *extra]
        return c + ([db] if db else [])

    def sql(self, text, db=None, extra=()):
        """Runs SQL given on stdin; returns stdout."""
        r = subprocess.run(self.client(db, extra), input=text.encode(), capture_output=True)
        if r.returncode != 0:
            raise SystemExit(f"mariadb failed: {r.stderr.decode()[:2000]}")
        return r.stdout.decode()


def timed_read(server, db, cols):
    """`mariadb --quick -e 'SELECT …' > /dev/null` (the SELECT on stdin: same thing)."""
    t = time.monotonic()
    with open(os.devnull, "wb") as null:
        subprocess.run(server.client(db, ["--quick", "--batch", "--skip-column-names"]),
                       input=f"SELECT {cols} FROM contacts WHERE COALESCE(deleted, 0) = 0".encode(),
                       stdout=null, check=True)
    return time.monotonic() - t


def timed_run(argv, out_path):
    """Runs argv under /usr/bin/time -v; returns (wall s, peak RSS MiB, exit code, CPU s).

    CPU time (user + system, all threads) is what load from other processes on a shared
    machine disturbs least; compare it alongside wall time."""
    t = time.monotonic()
    with open(out_path, "wb") as out, open(out_path + ".err", "wb") as err:
        rc = subprocess.run(["/usr/bin/time", "-v", *argv], stdout=out, stderr=err).returncode
    wall = time.monotonic() - t
    text = open(out_path + ".err", errors="replace").read()
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", text))
    return wall, (int(m.group(1)) / 1024 if m else float("nan")), rc, cpu


def load_avg():
    return open("/proc/loadavg").read().split()[:3]


def config(path, sock, db, state):
    with open(path, "w") as f:
        f.write(f"""# written by bench/dedup_scale.py
instance_id: scale
system_user: "41"
database: {{backend: mysql, socket: {sock}, user: root, name: {db}}}
state: {{directory: {state}}}
mapping: {{profile: generic}}
jobs:
  dedup:
    kind: dedup
    max_rows: 0
    max_fraction: 0
    options: {{default_region: US}}
  standardize:
    kind: standardize
    max_rows: 0
    max_fraction: 0
    options:
      rules: [trim_whitespace, lowercase_email, phone_e164, country_canonical, name_case, company_suffix]
      flags: true
  validate:
    kind: standardize
    max_rows: 0
    max_fraction: 0
    options: {{rules: [trim_whitespace], flags: true}}
  audit:
    kind: audit
    options: {{mandatory: [first_name, last_name, email, phone, country]}}
""")


def quality(run_json, truth_path):
    person = {}
    with open(truth_path) as f:
        for line in f:
            cid, pid = line.split("\t")
            person[cid] = pid.strip()
    groups = {}
    for cid, pid in person.items():
        groups.setdefault(pid, []).append(cid)
    true_pairs = sum(len(g) * (len(g) - 1) // 2 for g in groups.values())
    tp = fp = 0
    review_clusters = review_contacts = auto_clusters = 0
    sizes = {}
    for c in run_json.get("clusters", []):
        if c["decision"] != "auto":
            review_clusters += 1
            review_contacts += len(c["members"])
            continue
        auto_clusters += 1
        sizes[len(c["members"])] = sizes.get(len(c["members"]), 0) + 1
        for a, b in itertools.combinations(c["members"], 2):
            if person.get(a) == person.get(b):
                tp += 1
            else:
                fp += 1
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / true_pairs if true_pairs else 1.0
    return {"true_pairs": true_pairs, "auto_pairs": tp + fp, "true_positive_pairs": tp,
            "false_positive_pairs": fp, "precision": round(p, 5), "recall": round(r, 5),
            "f1": round(2 * p * r / (p + r), 5) if p + r else 0.0,
            "auto_clusters": auto_clusters, "review_clusters": review_clusters,
            "review_contacts": review_contacts,
            "auto_cluster_sizes": {str(k): v for k, v in sorted(sizes.items())}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--contacts", type=int, required=True)
    ap.add_argument("--seed", type=int, default=20261205)
    ap.add_argument("--buffer-pool", default="256M")
    ap.add_argument("--steps", default="gen,load,dedup,repeat,ratios")
    ap.add_argument("--keep-server", action="store_true")
    ap.add_argument("--change-round", type=int, default=1)
    ap.add_argument("--drop", action="store_true", help="drop the database and data files at the end")
    a = ap.parse_args()
    steps = a.steps.split(",")
    n = a.contacts
    work = os.path.abspath(a.work)
    data = os.path.join(work, f"data-{n}")
    db = f"crm_{n}"
    results_path = os.path.join(work, f"results-{n}.json")
    results = json.load(open(results_path)) if os.path.exists(results_path) else {}
    results.update({"contacts": n, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "machine": f"{os.cpu_count()} cores, "
                               f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') >> 30} GiB",
                    "buffer_pool": a.buffer_pool})

    def save():
        json.dump(results, open(results_path, "w"), indent=1)

    def say(k, v):
        results[k] = v
        print(f"{k}: {json.dumps(v)}", flush=True)
        save()

    if "gen" in steps and not os.path.exists(os.path.join(data, "summary.json")):
        t = time.monotonic()
        sh([a.gen, "--contacts", str(n), "--seed", str(a.seed), "--out", data])
        say("gen_seconds", round(time.monotonic() - t, 1))
    if os.path.exists(os.path.join(data, "summary.json")):
        say("distribution", json.load(open(os.path.join(data, "summary.json"))))

    server = Server(os.path.join(work, "mariadb"), a.buffer_pool)
    server.start()
    cfg = os.path.join(work, f"crm-{n}.yaml")
    state = os.path.join(work, f"state-{n}")
    os.makedirs(state, exist_ok=True)
    config(cfg, server.sock, db, state)
    hyg = [a.bin, "--config", cfg, "--log-level", "warn"]
    try:
        if "load" in steps:
            t = time.monotonic()
            server.sql(f"DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db} CHARACTER SET utf8mb4;")
            server.sql(open(os.path.join(data, "schema.sql")).read(), db)
            loads = "SET unique_checks=0; SET foreign_key_checks=0;\n"
            for t_name in ("users", "contacts", "activities", "deals", "contact_tags"):
                loads += (f"LOAD DATA LOCAL INFILE '{data}/{t_name}.tsv' INTO TABLE {t_name} "
                          f"CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' "
                          f"LINES TERMINATED BY '\\n';\n")
            server.sql(loads, db, ["--local-infile=1"])
            say("load_seconds", round(time.monotonic() - t, 1))
            sizes = server.sql(f"SELECT table_name, table_rows, ROUND((data_length+index_length)/1048576) "
                               f"FROM information_schema.tables WHERE table_schema='{db}'", None,
                               ["--batch", "--skip-column-names"])
            say("tables", {l.split("\t")[0]: {"rows~": int(l.split("\t")[1]), "MiB": int(l.split("\t")[2])}
                           for l in sizes.strip().splitlines()})

        cache_file = os.path.join(state, "dedup-dedup.sweep-cache")

        def sweep(tag, job="dedup", cols=DEDUP_COLS, dry=True, extra=(), drop_cache=False):
            if drop_cache and os.path.exists(cache_file):
                os.remove(cache_file)
            before = timed_read(server, db, cols)
            out = os.path.join(work, f"{job}-{tag}-{n}.json")
            argv = hyg + ["run", job, "--json"] + (["--dry-run"] if dry else []) + list(extra)
            la = load_avg()
            wall, rss, rc, cpu = timed_run(argv, out)
            after = timed_read(server, db, cols)
            read = min(before, after)
            res = {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "peak_rss_mib": round(rss), "exit": rc,
                   "read_before_s": round(before, 2), "read_after_s": round(after, 2),
                   "ratio_to_read": round(wall / read, 2), "load_avg_at_start": la}
            try:
                j = json.load(open(out))
                res["counts"] = j.get("counts", {})
                res["status"] = j.get("status")
                details = j.get("details", {})
                for k in ("sweep_cache", "read_prepare_seconds", "match_seconds"):
                    if k in details:
                        res[k] = details[k]
                if "peak_rss_mib" in details:  # per stage; res["peak_rss_mib"] is the process's
                    res["peak_rss_mib_by_stage"] = details["peak_rss_mib"]
            except (ValueError, OSError):
                res["stderr_tail"] = open(out + ".err", errors="replace").read()[-1500:]
            return res, out

        if "dedup" in steps:
            res, out = sweep("first", drop_cache=True)
            if res.get("status") == "ok":
                res["quality"] = quality(json.load(open(out)), os.path.join(data, "truth.tsv"))
            say("dedup_first", res)
        if "repeat" in steps:
            res, out = sweep("repeat")
            say("dedup_repeat", res)
        if "change" in steps:
            t = time.monotonic()
            cols = ("first_name, last_name, email, email2, phone, mobile, company, address1, address2, "
                    "city, postcode, region, country, birthdate, status, owner_id, created_by, "
                    "modified_by, created_at, updated_at, last_contacted_at, email_opt_out, do_not_call")
            r = a.change_round
            server.sql(f"UPDATE contacts SET email = CONCAT('chg{r}.', email) WHERE id % 200 = {r} "
                       f"AND email IS NOT NULL AND email NOT LIKE 'chg{r}.%';\n"
                       f"UPDATE contacts SET last_name = UPPER(last_name) WHERE id % 200 = {100 + r};\n"
                       f"UPDATE contacts SET deleted = 1 WHERE id % 1000 = {500 + r};\n"
                       f"INSERT IGNORE INTO contacts (id, {cols}) SELECT id + {r * 10000000}, {cols} "
                       f"FROM contacts WHERE id % 1000 = {700 + r} AND id < 10000000;", db)
            say("change_seconds", round(time.monotonic() - t, 1))
            say("change_round", r)
        if "changed" in steps:
            res, out = sweep("changed")
            say("dedup_changed", res)
        if "full" in steps:
            res, out = sweep("full", drop_cache=True)
            changed = os.path.join(work, f"dedup-changed-{n}.json")
            if os.path.exists(changed) and res.get("status") == "ok":
                a_clusters = json.load(open(changed)).get("clusters")
                res["clusters_identical_to_changed"] = a_clusters == json.load(open(out)).get("clusters")
            say("dedup_full_after_change", res)
        if "ratios" in steps:
            res, _ = sweep("dry", job="standardize", cols=STANDARDIZE_COLS)
            say("standardize_dry_run", res)
            res, _ = sweep("run", job="validate", cols=STANDARDIZE_COLS, dry=False)
            say("validation_flags", res)
            res, _ = sweep("run", job="audit", cols=AUDIT_COLS, dry=False)
            say("audit", res)
        if "merge" in steps:
            res, out = sweep("merge", dry=False)
            c = res.get("counts", {})
            merges = c.get("merges_applied", 0)
            apply_s = res["wall_s"] - c.get("sweep_seconds", 0)
            res["merges_per_s"] = round(merges / apply_s, 1) if apply_s > 0 else None
            say("merge_run", res)
    finally:
        if a.drop:
            server.sql(f"DROP DATABASE IF EXISTS {db};")
            shutil.rmtree(data, ignore_errors=True)
        if not a.keep_server:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
