"""The daemon as systemd runs it: sd_notify through a NOTIFY_SOCKET we own, watchdog pings,
jobs firing on their calendar, SIGHUP reloads (bad YAML keeps the old config), SIGTERM stops
cleanly, a database that is down at start. Two daemons sharing one MariaDB: tests/ha_test.py."""
import os
import signal
import subprocess
import time
import unittest
from datetime import datetime, timezone

from proc_util import BIN, Crm, NotifySocket, clear_of, main, next_utc_midnight, run

EVERY_2S = """jobs:
  tick:
    kind: audit
    schedule: "*:*:0/2"
"""


def parse(ts):
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def start(config, notify=None, watchdog_usec=None, log=None):
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    if notify:
        env["NOTIFY_SOCKET"] = notify.path
    if watchdog_usec:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    return subprocess.Popen([BIN, "--config", config, "daemon"], env=env, stdout=subprocess.DEVNULL,
                            stderr=log or subprocess.DEVNULL)


class DaemonTest(unittest.TestCase):
    def test_lifecycle_under_a_service_manager(self):
        crm = Crm("sqlite", contacts=100)
        path = crm.config(EVERY_2S)
        reader = crm.config(EVERY_2S, name="reader.yaml")  # stays valid while `path` is broken
        notify = NotifySocket(crm.dir)
        log_path = os.path.join(crm.dir, "daemon.log")
        with open(log_path, "w") as log:
            proc = start(path, notify, watchdog_usec=2_000_000, log=log)
            try:
                notify.wait_for("READY", "1", timeout=20)
                # Watchdog: WatchdogSec=2s → a ping about every second.
                pings = []
                while len(pings) < 4:
                    kv = notify.poll(5)
                    self.assertIsNotNone(kv, "watchdog pings stopped")
                    if kv.get("WATCHDOG") == "1":
                        pings.append(notify.messages[-1][0])
                # 1 s apart. The times are when this process received them: one read late on a
                # loaded machine makes that gap long and the next short (two pings read back to
                # back), so the mean says "about every second" and each gap only "not stopped".
                gaps = [b - a for a, b in zip(pings, pings[1:])]
                self.assertTrue(0.5 < sum(gaps) / len(gaps) < 2.0, gaps)
                self.assertTrue(all(g < 3.0 for g in gaps), gaps)

                # Jobs fire on their slots; each journal row names its slot and starts on time.
                time.sleep(5)
                runs = [r for r in crm.runs(path) if r["status"] == "ok"]
                self.assertGreaterEqual(len(runs), 2, runs)
                for r in runs:
                    self.assertIsNotNone(r["slot"])
                    self.assertEqual(parse(r["slot"]).second % 2, 0)
                    lag = (parse(r["started_at"]) - parse(r["slot"])).total_seconds()
                    self.assertTrue(0 <= lag <= 2, r)
                self.assertEqual(len({r["slot"] for r in runs}), len(runs))  # one run per slot

                # SIGHUP with broken YAML: RELOADING, then READY again on the old config.
                good = open(path).read()
                with open(path, "w") as f:
                    f.write(good + "  broken: [\n")
                proc.send_signal(signal.SIGHUP)
                notify.wait_for("RELOADING", "1", timeout=10)
                notify.wait_for("READY", "1", timeout=10)
                before = len(crm.runs(reader))
                time.sleep(4.5)
                self.assertGreater(len(crm.runs(reader)), before, "old config stopped running")
                self.assertIsNone(proc.poll())

                # SIGHUP with a good new config: the job is replaced.
                with open(path, "w") as f:
                    f.write(good.replace("tick:", "tock:"))
                proc.send_signal(signal.SIGHUP)
                notify.wait_for("RELOADING", "1", timeout=10)
                notify.wait_for("READY", "1", timeout=10)
                time.sleep(4.5)
                jobs = {r["job"] for r in crm.runs(reader)}
                self.assertIn("tock", jobs)

                proc.send_signal(signal.SIGTERM)
                notify.wait_for("STOPPING", "1", timeout=10)
                self.assertEqual(proc.wait(timeout=30), 0)
            finally:
                if proc.poll() is None:
                    proc.kill()
                notify.close()
        log_text = open(log_path).read()
        self.assertIn("reload failed, keeping the running configuration", log_text)
        self.assertIn(":", log_text)
        # Every run left the journal closed: nothing still `running`.
        self.assertFalse([r for r in crm.runs(reader) if r["status"] == "running"])

    def test_database_down_at_start_retries_then_exits_3(self):
        crm = Crm("sqlite", contacts=1)
        path = os.path.join(crm.dir, "down.yaml")
        with open(path, "w") as f:
            f.write("database:\n  backend: mysql\n  socket: /nonexistent/mysqld.sock\n  user: u\n  name: crm\n"
                    "daemon:\n  db_retry: 1s\n  db_give_up: 3s\n" + EVERY_2S)
        notify = NotifySocket(crm.dir)
        proc = start(path, notify)
        try:
            notify.wait_for("EXTEND_TIMEOUT_USEC", timeout=10)
            self.assertEqual(proc.wait(timeout=30), 3)
            self.assertFalse([m for _, m in notify.messages if m.get("READY") == "1"])
        finally:
            if proc.poll() is None:
                proc.kill()
            notify.close()

    def test_heap_in_huge_pages_same_pid_same_name(self):
        # core/memory.h RestartWithHugePageHeap: with THP in "madvise" mode the program execs
        # itself once with glibc.malloc.hugetlb=1, keeping its PID (systemd's MainPID) and its
        # name; an admin's own setting of the tunable is kept as it is.
        try:
            thp = open("/sys/kernel/mm/transparent_hugepage/enabled").read()
        except OSError:
            thp = ""
        madvise = "[madvise]" in thp
        crm = Crm("sqlite", contacts=20)
        path = crm.config(EVERY_2S)
        for i, (admin, expect) in enumerate(((None, "glibc.malloc.hugetlb=1" if madvise else None),
                                             ("glibc.malloc.hugetlb=0", "glibc.malloc.hugetlb=0"))):
            notify_dir = os.path.join(crm.dir, f"notify{i}")
            os.makedirs(notify_dir)
            notify = NotifySocket(notify_dir)
            if admin:
                os.environ["GLIBC_TUNABLES"] = admin
            try:
                proc = start(path, notify)
            finally:
                os.environ.pop("GLIBC_TUNABLES", None)
            try:
                notify.wait_for("READY", "1", timeout=20)
                environ = open(f"/proc/{proc.pid}/environ", "rb").read().split(b"\0")
                tunables = [e.decode() for e in environ if e.startswith(b"GLIBC_TUNABLES=")]
                if expect:
                    self.assertEqual(tunables, ["GLIBC_TUNABLES=" + expect])
                else:
                    self.assertEqual(tunables, [])
                comm = open(f"/proc/{proc.pid}/comm").read().strip()
                self.assertEqual(comm, os.path.basename(BIN)[:15])
                if expect == "glibc.malloc.hugetlb=1":
                    # The heap is marked for 2 MiB pages ("hg" in its VmFlags).
                    smaps = open(f"/proc/{proc.pid}/smaps").read().split("\n")
                    heap = smaps.index(next(l for l in smaps if l.endswith("[heap]")))
                    flags = next(l for l in smaps[heap:] if l.startswith("VmFlags:"))
                    self.assertIn(" hg", flags)
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(timeout=30), 0)
            finally:
                if proc.poll() is None:
                    proc.kill()
                notify.close()

    def test_bad_config_at_start_exits_2(self):
        crm = Crm("sqlite", contacts=1)
        path = crm.config("jobs:\n  a:\n    kind: audit\n    schedule: 'Fri *-*-* 99:00'\n")
        p = run("daemon", config=path, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn(f"{path}:", p.stderr)

    def test_interrupted_run_is_reported_at_start(self):
        crm = Crm("sqlite", contacts=50)
        path = crm.config(EVERY_2S)
        run("runs", config=path, check=0)  # migrates
        crm.sql("INSERT INTO crmh_runs (run_id, job, kind, instance_id, status, started_at) "
                "VALUES ('crashed-1', 'tick', 'audit', 'test-a', 'running', '2026-11-01 00:00:00')")
        notify = NotifySocket(crm.dir)
        proc = start(path, notify)
        try:
            notify.wait_for("READY", "1", timeout=20)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            notify.close()
        crashed = [r for r in crm.runs(path) if r["run_id"] == "crashed-1"][0]
        self.assertEqual(crashed["status"], "interrupted")

    def test_sigterm_mid_run_stops_at_a_change_set_boundary(self):
        crm = Crm("sqlite", contacts=2000)
        # Every live contact gets trailing spaces: thousands of one-row change sets to apply.
        crm.sql("UPDATE contacts SET first_name = COALESCE(first_name, 'x') || '   ' WHERE deleted = 0")
        path = crm.config("jobs:\n  std:\n    kind: standardize\n    schedule: '*:*:0/5'\n"
                          "    max_rows: 0\n    max_fraction: 0\n    batch_size: 1\n")
        notify = NotifySocket(crm.dir)
        log_path = os.path.join(crm.dir, "daemon.log")
        with open(log_path, "w") as log:
            proc = start(path, notify, log=log)
            try:
                notify.wait_for("READY", "1", timeout=20)
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and "starting (slot" not in open(log_path).read():
                    time.sleep(0.05)
                # Into the change sets: wait until the first set has committed (its ledger row
                # is visible), however long planning took on this machine.
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    try:
                        if int(crm.sql("SELECT COUNT(*) FROM crmh_ledger")[0][0]) > 0:
                            break
                    except subprocess.CalledProcessError:
                        pass  # the state tables or the ledger do not exist yet
                    time.sleep(0.02)
                proc.send_signal(signal.SIGTERM)
                notify.wait_for("STOPPING", "1", timeout=10)
                self.assertEqual(proc.wait(timeout=60), 0)
            finally:
                if proc.poll() is None:
                    proc.kill()
                notify.close()
        # One run; a slot that came while it was still going (planning took over 5 s on a
        # loaded machine: seen under ThreadSanitizer) is journaled skipped/overlap.
        runs = crm.runs(path)
        ran = [r for r in runs if r["status"] != "skipped"]
        self.assertEqual(len(ran), 1, runs)
        self.assertEqual([r["reason"] for r in runs if r["status"] == "skipped"],
                         ["overlap"] * (len(runs) - 1), runs)
        r = ran[0]
        self.assertEqual(r["status"], "interrupted", r)
        planned = r["counts"]["rows_planned"]
        applied = r["counts"]["change_sets_applied"]
        self.assertGreater(applied, 0, r)
        self.assertLess(applied, planned, r)
        # Exactly the applied sets changed: no half-applied set, and the ledger agrees.
        padded = int(crm.sql("SELECT COUNT(*) FROM contacts WHERE deleted = 0 AND first_name LIKE '%   '")[0][0])
        self.assertEqual(padded, planned - applied)
        self.assertEqual(int(crm.sql("SELECT COUNT(*) FROM crmh_ledger")[0][0]), applied)
        # What it committed can be undone exactly.
        p = run("restore", r["run_id"], config=path, check=0)
        padded = int(crm.sql("SELECT COUNT(*) FROM contacts WHERE deleted = 0 AND first_name LIKE '%   '")[0][0])
        self.assertEqual(padded, planned)

    def test_persistent_job_catches_up_once_at_start(self):
        crm = Crm("sqlite", contacts=50)
        path = crm.config("jobs:\n  nightly:\n    kind: audit\n    schedule: '*-*-* 00:00:00'\n"
                          "    persistent: true\n")
        run("runs", config=path, check=0)  # migrates
        # Across a midnight (UTC) the daemon's newest missed slot is the new day's, and the new
        # day's slot may fire as well: the test keeps clear of one (it takes well under 60 s).
        clear_of(next_utc_midnight, 90)
        # The last slot this job claimed was four days ago: three midnights were missed.
        now = datetime.now(timezone.utc)
        last = (now.replace(hour=0, minute=0, second=0, microsecond=0)).timestamp() - 4 * 86400
        last_s = datetime.fromtimestamp(last, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        crm.sql("INSERT INTO crmh_runs (run_id, job, kind, slot, slot_claim, instance_id, status, started_at) "
                f"VALUES ('old-1', 'nightly', 'audit', '{last_s}', '{last_s}', 'test-a', 'ok', '{last_s}')")
        notify = NotifySocket(crm.dir)
        proc = start(path, notify)
        try:
            notify.wait_for("READY", "1", timeout=20)
            deadline = time.monotonic() + 15
            caught = []
            while time.monotonic() < deadline and not caught:
                caught = [r for r in crm.runs(path) if r["run_id"] != "old-1"]
                time.sleep(0.3)
        finally:
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=30), 0)
            notify.close()
        today = now.strftime("%Y-%m-%dT00:00:00Z")
        runs = [r for r in crm.runs(path) if r["run_id"] != "old-1"]
        self.assertEqual(len(runs), 1, runs)  # once, not a burst of three
        self.assertEqual(runs[0]["slot"], today)
        self.assertEqual(runs[0]["status"], "ok")


if __name__ == "__main__":
    main()
