"""The daemon's loopback HTTP endpoints, on SQLite and MariaDB: /metrics is valid Prometheus text
(`promtool check metrics`) and every value equals what this test computes from the state tables
with its own SQL; /healthz is 200 while the database answers and 503 once a MariaDB is stopped;
read-only (GET/HEAD only, 404 elsewhere); a bad `http:` block is a config error (exit 2)."""
import calendar as pycal
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest
from datetime import datetime, timedelta, timezone

from proc_util import BIN, SRC, Crm, backends, main, run

PROMTOOL = "/usr/bin/promtool"
RESULTS = ["ok", "failed", "refused", "interrupted"]
REASONS = ["overlap", "lock_held", "already_ran", "deadline"]
ROW_COUNTS = {"dedup": ("merged", "contacts_merged"), "standardize": ("standardized", "rows_changed"),
              "prune": ("pruned", "contacts_pruned")}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, path, method="GET", timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode()
    finally:
        c.close()


def wait_http(port, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"daemon exited {proc.returncode}")
        try:
            return request(port, "/healthz", timeout=2)
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def parse_metrics(text):
    """{(name, frozenset(labels)): float} from the text format (our label values hold no commas)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, value = line.rsplit(" ", 1)
        labels = {}
        if "{" in head:
            name, rest = head.split("{", 1)
            for pair in rest.rstrip("}").split(","):
                k, v = pair.split("=", 1)
                labels[k] = v.strip('"')
        else:
            name = head
        out[(name, frozenset(labels.items()))] = float(value)
    return out


def epoch(sql_time):
    return pycal.timegm(datetime.strptime(sql_time, "%Y-%m-%d %H:%M:%S").timetuple())


def expected_metrics(crm, jobs, prefix="crmh_"):
    """The values /metrics must show, from the raw journal rows (definitions: daemon/metrics.h)."""
    rows = crm.sql(f"SELECT run_id, job, kind, status, COALESCE(reason, ''), dry_run, "
                   f"CAST(started_at AS CHAR), COALESCE(CAST(finished_at AS CHAR), ''), COALESCE(counts, '') "
                   f"FROM {prefix}runs")
    want = {}
    for job, kind in jobs.items():
        mine = [r for r in rows if r[1] == job and r[2] == kind and r[5] == "0"]
        lab = {"job_name": job, "kind": kind}
        key = lambda name, **extra: (name, frozenset({**lab, **extra}.items()))
        for res in RESULTS:
            want[key("crm_hygiene_job_runs_total", result=res)] = sum(1 for r in mine if r[3] == res)
        for reason in REASONS:
            want[key("crm_hygiene_job_skipped_total", reason=reason)] = sum(
                1 for r in mine if r[3] == "skipped" and r[4] == reason)
        ok = [epoch(r[7]) for r in mine if r[3] == "ok"]
        if ok:
            want[key("crm_hygiene_job_last_success_timestamp_seconds")] = max(ok)
        done = sorted((r for r in mine if r[3] in ("ok", "failed", "refused") and r[7]),
                      key=lambda r: (r[7], r[0]))
        if done:
            want[key("crm_hygiene_job_last_completion_timestamp_seconds")] = epoch(done[-1][7])
            want[key("crm_hygiene_job_last_duration_seconds")] = epoch(done[-1][7]) - epoch(done[-1][6])
        if kind in ROW_COUNTS:
            label, count = ROW_COUNTS[kind]
            want[key(f"crm_hygiene_rows_{label}_total")] = sum(
                json.loads(r[8]).get(count, 0) for r in mine if r[8])
    review = dict((s, int(n)) for s, n in crm.sql(f"SELECT status, COUNT(*) FROM {prefix}review GROUP BY status"))
    for status in ("open", "approved"):
        want[("crm_hygiene_review_queue_size", frozenset({"status": status}.items()))] = review.get(status, 0)
    flags = int(crm.sql(f"SELECT COUNT(*) FROM {prefix}flags WHERE cleared_at IS NULL")[0][0])
    want[("crm_hygiene_validation_flags_open", frozenset())] = flags
    return want


def next_utc(hour, after):
    t = after.replace(hour=hour, minute=0, second=0, microsecond=0)
    return t if t > after else t + timedelta(days=1)


class HttpTest(unittest.TestCase):
    def start(self, config):
        log = open(os.path.join(os.path.dirname(config), "daemon.log"), "w")
        self.addCleanup(log.close)
        proc = subprocess.Popen([BIN, "--config", config, "daemon"], stdout=subprocess.DEVNULL, stderr=log)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        return proc

    def test_metrics_equal_the_journal_and_healthz(self):
        for backend in backends():
            with self.subTest(backend):
                self.check_backend(backend)

    def check_backend(self, backend):
        crm = Crm(backend, contacts=300)
        port = free_port()
        jobs = {"census": "audit", "tidy": "standardize", "strict": "standardize", "dedupe": "dedup",
                "once": "audit"}
        rules = "    options:\n      rules: [trim_whitespace, lowercase_email, phone_e164, country_canonical, name_case]\n"

        # `tidy`'s daily slot is 12 hours away from now: at a fixed hour (03:00 was) a test that
        # ran across it saw tidy run once more and its next slot move by a day.
        tidy_hour = (datetime.now(timezone.utc).hour + 12) % 24

        def write_config(fire):
            return crm.config(
                f"http:\n  listen: 127.0.0.1:{port}\n  refresh: 1h\n"
                "jobs:\n"
                "  census:\n    kind: audit\n    schedule: \"2099-01-01 00:00:00\"\n"
                f"  tidy:\n    kind: standardize\n    schedule: \"*-*-* {tidy_hour:02d}:00:00\"\n    max_rows: 0\n"
                "    max_fraction: 0\n" + rules +
                "  strict:\n    kind: standardize\n    max_rows: 1\n" + rules +
                "  dedupe:\n    kind: dedup\n    max_rows: 0\n    max_fraction: 0\n"
                f"  once:\n    kind: audit\n    schedule: \"{fire.strftime('%Y-%m-%d %H:%M:%S')}\"\n")

        path = write_config(datetime(2098, 1, 1, tzinfo=timezone.utc))
        # A journal with every kind of row, made by the real commands.
        self.assertEqual(run("run", "strict", config=path).returncode, 4)  # refused: over max_rows
        run("run", "tidy", "--dry-run", config=path, check=0)               # dry runs never count
        tidy = json.loads(run("run", "tidy", "--json", config=path, check=0).stdout)
        self.assertGreater(tidy["counts"]["rows_changed"], 0)
        run("restore", tidy["run_id"], config=path, check=0)  # journaled under `tidy`, kind restore
        run("run", "tidy", config=path, check=0)
        dedupe = json.loads(run("run", "dedupe", "--json", config=path, check=0).stdout)
        self.assertGreater(dedupe["counts"].get("contacts_merged", 0), 0, dedupe["counts"])
        run("run", "census", config=path, check=0)
        # A skip another daemon journaled (the test's own insert, as crm/state.cpp would write it).
        crm.sql("INSERT INTO crmh_runs (run_id, job, kind, instance_id, status, reason, dry_run, started_at, "
                "finished_at, counts) VALUES ('t-skip', 'census', 'audit', 'other', 'skipped', 'lock_held', 0, "
                "'2026-01-02 03:04:05', '2026-01-02 03:04:05', '{}')")
        # `once` fires a few seconds after the daemon starts.
        path = write_config(datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=4))

        proc = self.start(path)
        wait_http(port, proc)
        # `once` fires at its slot; the snapshot refreshes after the run (http.refresh is 1h).
        deadline = time.monotonic() + 40
        once_key = ("crm_hygiene_job_runs_total", frozenset({"job_name": "once", "kind": "audit", "result": "ok"}.items()))
        while True:
            status, headers, text = request(port, "/metrics")
            self.assertEqual(status, 200)
            if parse_metrics(text).get(once_key) == 1:
                break
            self.assertLess(time.monotonic(), deadline, text)
            time.sleep(0.3)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers)

        # promtool accepts it (format and naming lint).
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr + text)

        got = parse_metrics(text)
        want = expected_metrics(crm, jobs)
        for key, value in sorted(want.items(), key=str):
            self.assertIn(key, got, f"missing {key}\n{text}")
            self.assertEqual(got[key], value, key)
        # Every job sample we serve is one we computed (no stale, extra or missing job series).
        job_keys = {k for k in got if dict(k[1]).get("job_name") and k[0] in {w[0] for w in want}}
        self.assertEqual(job_keys, {k for k in want if dict(k[1]).get("job_name")})
        # The restore under `tidy` and the dry run did not count; the refusal did.
        self.assertEqual(got[("crm_hygiene_job_runs_total", frozenset({"job_name": "tidy", "kind": "standardize", "result": "ok"}.items()))], 2)
        self.assertEqual(got[("crm_hygiene_job_runs_total", frozenset({"job_name": "strict", "kind": "standardize", "result": "refused"}.items()))], 1)
        self.assertEqual(got[("crm_hygiene_job_skipped_total", frozenset({"job_name": "census", "kind": "audit", "reason": "lock_held"}.items()))], 1)
        # Scheduler values: next slots as the calendar says; a one-shot has no next slot.
        now = datetime.now(timezone.utc)
        lab = lambda job, kind: frozenset({"job_name": job, "kind": kind}.items())
        self.assertEqual(got[("crm_hygiene_job_next_run_timestamp_seconds", lab("census", "audit"))],
                         pycal.timegm((2099, 1, 1, 0, 0, 0)))
        self.assertEqual(got[("crm_hygiene_job_next_run_timestamp_seconds", lab("tidy", "standardize"))],
                         next_utc(tidy_hour, now).timestamp())
        self.assertEqual(got[("crm_hygiene_job_period_seconds", lab("tidy", "standardize"))], 86400)
        self.assertNotIn(("crm_hygiene_job_next_run_timestamp_seconds", lab("once", "audit")), got)
        self.assertNotIn(("crm_hygiene_job_next_run_timestamp_seconds", lab("dedupe", "dedup")), got)
        self.assertEqual(got[("crm_hygiene_database_up", frozenset())], 1)
        # No PII: no e-mail address or contact name from the CRM appears anywhere.
        for (email,) in crm.sql("SELECT email FROM contacts WHERE email IS NOT NULL AND email <> '' LIMIT 50"):
            self.assertNotIn(email, text)

        # /healthz, HEAD, 404, 405.
        status, _, hbody = request(port, "/healthz")
        self.assertEqual(status, 200, hbody)
        self.assertEqual(json.loads(hbody)["database"], "ok")
        status, headers, body = request(port, "/metrics", method="HEAD")
        self.assertEqual((status, body), (200, ""))
        self.assertGreater(int(headers["Content-Length"]), 1000)
        self.assertEqual(request(port, "/nope")[0], 404)
        self.assertEqual(request(port, "/metrics/")[0], 404)
        status, headers, _ = request(port, "/metrics", method="POST")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET, HEAD")
        # Keep-alive: several requests on one connection.
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(3):
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
        # SIGTERM with a client connection still open: a clean stop, and the port is closed.
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0)
        c.close()
        with self.assertRaises(OSError):
            request(port, "/healthz", timeout=2)

    def test_healthz_503_when_the_database_stops(self):
        if "mysql" not in backends():
            self.skipTest("needs MariaDB")  # never reached in CI (CRMH_REQUIRE_MARIADB=1)
        d = tempfile.mkdtemp(prefix="crmh_http_mdb_")
        sock = subprocess.run([os.path.join(SRC, "tests", "mariadb.sh"), "start", d], capture_output=True,
                              text=True, check=True).stdout.strip()
        self.addCleanup(lambda: subprocess.run([os.path.join(SRC, "tests", "mariadb.sh"), "stop", d]))
        crm = Crm("mysql", contacts=20, socket=sock)
        port = free_port()
        path = crm.config(f"http:\n  listen: 127.0.0.1:{port}\n  refresh: 1s\n"
                          "jobs:\n  census:\n    kind: audit\n    schedule: daily\n")
        proc = self.start(path)
        status, _, body = wait_http(port, proc)
        deadline = time.monotonic() + 20
        while status != 200 and time.monotonic() < deadline:  # 503 "starting" until READY
            time.sleep(0.2)
            status, _, body = request(port, "/healthz")
        self.assertEqual(status, 200, body)
        subprocess.run([os.path.join(SRC, "tests", "mariadb.sh"), "stop", d], check=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status, _, body = request(port, "/healthz")
            if status == 503:
                break
            time.sleep(0.3)
        self.assertEqual(status, 503, body)
        self.assertEqual(json.loads(body)["database"], "unreachable", body)
        self.assertEqual(json.loads(body)["scheduler"], "ok", body)
        # The snapshot refresh (every 1s) fails too: database_up goes to 0; the last values stay.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = parse_metrics(request(port, "/metrics")[2])
            if got[("crm_hygiene_database_up", frozenset())] == 0:
                break
            time.sleep(0.3)
        self.assertEqual(got[("crm_hygiene_database_up", frozenset())], 0)
        self.assertIn(("crm_hygiene_job_runs_total",
                       frozenset({"job_name": "census", "kind": "audit", "result": "ok"}.items())), got)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0)

    def test_digest_pages_serve_the_archive(self):
        """/digest/latest and /digest/WEEK serve the archived HTML, read-only; 404 for a week with no
        archive, 400 for anything that is not a week (no path reaches the file system)."""
        for backend in backends():
            with self.subTest(backend):
                crm = Crm(backend, contacts=40)
                port = free_port()
                archive = os.path.join(crm.dir, "archive")
                path = crm.config(f"http:\n  listen: 127.0.0.1:{port}\n"
                                  "jobs:\n  census:\n    kind: audit\n"
                                  f"  weekly:\n    kind: digest\n    options:\n      week: current\n"
                                  f"      archive_dir: {archive}\n")
                proc = self.start(path)
                wait_http(port, proc)
                status, _, body = request(port, "/digest/latest")
                self.assertEqual(status, 404, body)  # nothing archived yet
                run("run", "census", config=path, check=0)
                rep = json.loads(run("digest", "--json", config=path, check=0).stdout)
                week = rep["details"]["week"]
                with open(rep["details"]["archive"], "rb") as f:
                    page = f.read()
                self.assertEqual(os.path.dirname(rep["details"]["archive"]), archive)
                # An older week, and a newer-looking file that is not a week: latest ignores it.
                year = int(week[:4])
                older = f"{year - 1}-W05"
                with open(os.path.join(archive, older + ".html"), "w") as f:
                    f.write("<html>older</html>")
                with open(os.path.join(archive, "9999-W99.html"), "w") as f:
                    f.write("<html>not a week</html>")
                with open(os.path.join(crm.dir, "secret.html"), "w") as f:
                    f.write("secret")

                def get(p, method="GET"):
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    try:
                        c.request(method, p)
                        r = c.getresponse()
                        return r.status, dict(r.getheaders()), r.read()
                    finally:
                        c.close()

                for target in ("/digest/latest", f"/digest/{week}", f"/digest/latest?x=1"):
                    status, headers, body = get(target)
                    self.assertEqual(status, 200, target)
                    self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
                    self.assertEqual(body, page, target)  # byte for byte the archived file
                status, _, body = get(f"/digest/{older}")
                self.assertEqual((status, body), (200, b"<html>older</html>"))
                status, headers, body = get("/digest/latest", method="HEAD")
                self.assertEqual((status, body), (200, b""))
                self.assertEqual(int(headers["Content-Length"]), len(page))
                self.assertEqual(get(f"/digest/{year - 2}-W10")[0], 404)  # well-formed, not archived
                for bad in ("/digest/", "/digest/2026-W54", "/digest/2026-W00", "/digest/2026-w48",
                            f"/digest/{week}.html", "/digest/../secret", "/digest/..%2fsecret",
                            "/digest/%2e%2e/secret", f"/digest/{week}/", "/digest/latest/../../secret",
                            "/digest//etc/passwd", "/digest/9999-W99x"):
                    status, _, body = get(bad)
                    self.assertEqual(status, 400, bad)
                    self.assertNotIn(b"secret", body)
                self.assertEqual(get("/digest")[0], 404)
                self.assertEqual(get("/digest/latest", method="POST")[0], 405)
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(timeout=30), 0)

    def test_bad_http_config_is_exit_2(self):
        crm = Crm("sqlite", contacts=1)
        cases = {
            "remote": ("http:\n  listen: 0.0.0.0:9187\n", "not a loopback address"),
            "no_port": ("http:\n  listen: 127.0.0.1\n", "must be ADDRESS:PORT"),
            "big_port": ("http:\n  listen: 127.0.0.1:70000\n", "above 65535"),
            "unknown_key": ("http:\n  listen: 127.0.0.1:9187\n  lisen: x\n", "unknown key 'lisen'"),
            "no_listen": ("http:\n  refresh: 5s\n", "'listen' is required"),
        }
        for name, (body, expect) in cases.items():
            with self.subTest(name):
                path = crm.config(body, name=f"{name}.yaml")
                p = run("check", config=path)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(expect, p.stderr)
                self.assertRegex(p.stderr, rf"{name}\.yaml:\d+:\d+:")
        # A port another process holds: the daemon says so and exits 2 before touching the DB.
        with socket.socket() as held:
            held.bind(("127.0.0.1", 0))
            held.listen()
            path = crm.config(f"http:\n  listen: 127.0.0.1:{held.getsockname()[1]}\n", name="busy.yaml")
            p = subprocess.run([BIN, "--config", path, "daemon"], capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("cannot listen", p.stderr)


if __name__ == "__main__":
    main()
