"""High availability (issue 7): two real daemons with the same jobs on one real MariaDB.

1. 20 slots of a short-calendar job: every slot in the window ran exactly once (one journal row
   that is not `skipped`, and it is `ok`); the other daemon's row for it, if any, is
   `skipped/lock_held` or `skipped/already_ran`. Checked with our own SQL over the journal.
2. The daemon running a job is killed with SIGKILL in the middle of it (after some change sets
   committed; CRM_HYGIENE_FAULT=slow_stmt_ms stretches a 150-row standardize to many seconds):
   the first slot after the kill runs on the other daemon, which marks the killed run
   `interrupted` (DESIGN.md run statuses) and finishes the work; no row was changed twice, and
   the ledger of the two runs covers every row exactly once."""
import os
import signal
import subprocess
import time
import unittest
from datetime import datetime, timezone

from proc_util import BIN, MYSQL_SOCKET, REQUIRE_MARIADB, Crm, main

SLOTS = 20
PERIOD = 3  # seconds between slots: an audit of 300 contacts takes well under that, even loaded

TICK = f"""jobs:
  tick:
    kind: audit
    schedule: "*:*:0/{PERIOD}"
"""

STD = f"""jobs:
  std:
    kind: standardize
    schedule: "*:*:0/{PERIOD}"
    batch_size: 1
    max_rows: 0
    max_fraction: 0
"""


def start(config, log, **extra_env):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NOTIFY_SOCKET", "CRM_HYGIENE_FAULT", "CRM_HYGIENE_SQL_TRACE")}
    env.update(extra_env)
    return subprocess.Popen([BIN, "--config", config, "daemon"], env=env,
                            stdout=subprocess.DEVNULL, stderr=log)


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    codes = []
    for p in procs:
        try:
            codes.append(p.wait(timeout=60))
        except subprocess.TimeoutExpired:
            p.kill()
            codes.append(p.wait())
    return codes


def utc(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)


class HaTest(unittest.TestCase):
    def setUp(self):
        if not MYSQL_SOCKET:
            if REQUIRE_MARIADB:
                self.fail("CRMH_REQUIRE_MARIADB=1 but no MariaDB socket")
            self.skipTest("no MariaDB (scripts/test.sh starts one)")

    def journal(self, crm, job):
        """(run_id, slot, instance, status, reason) per journal row of `job`, own SQL."""
        rows = crm.sql("SELECT run_id, COALESCE(CAST(slot AS CHAR), ''), instance_id, status, "
                       f"COALESCE(reason, '') FROM crmh_runs WHERE job = '{job}' ORDER BY started_at, run_id")
        return [tuple(r) for r in rows]

    def test_each_of_20_slots_runs_exactly_once(self):
        crm = Crm("mysql", contacts=300)
        a = crm.config(TICK, name="a.yaml", instance="daemon-a")
        b = crm.config(TICK, name="b.yaml", instance="daemon-b")
        subprocess.run([BIN, "--config", a, "runs"], capture_output=True, check=True)  # migrate
        with open(os.path.join(crm.dir, "a.log"), "w") as la, open(os.path.join(crm.dir, "b.log"), "w") as lb:
            procs = [start(a, la), start(b, lb)]
            try:
                deadline = time.monotonic() + SLOTS * PERIOD * 3 + 30
                while time.monotonic() < deadline:
                    n = int(crm.sql("SELECT COUNT(DISTINCT slot) FROM crmh_runs WHERE job = 'tick' "
                                    "AND status = 'ok'")[0][0])
                    if n >= SLOTS + 3:  # the first and last may have only one daemon's row
                        break
                    self.assertTrue(all(p.poll() is None for p in procs), "a daemon exited")
                    time.sleep(0.5)
            finally:
                codes = stop(procs)
        self.assertEqual(codes, [0, 0])
        rows = self.journal(crm, "tick")
        # The window: the slots that came after both daemons were up, i.e. from the first slot
        # both journaled (one ran it, the other skipped it) to the last such slot.
        by_slot = {}
        for run_id, slot, inst, status, reason in rows:
            self.assertNotEqual(slot, "", f"a scheduled run without a slot: {run_id}")
            by_slot.setdefault(slot, []).append((inst, status, reason))
        both = sorted(s for s, rs in by_slot.items() if {i for i, _, _ in rs} == {"daemon-a", "daemon-b"})
        self.assertGreaterEqual(len(both), 2, by_slot)
        window = [s for s in sorted(by_slot) if both[0] <= s <= both[-1]]
        self.assertGreaterEqual(len(window), SLOTS, f"only {len(window)} slots: {by_slot}")
        # Consecutive slots, none missing: every slot of the calendar in the window ran.
        times = [utc(s) for s in window]
        gaps = {(y - x).total_seconds() for x, y in zip(times, times[1:])}
        self.assertEqual(gaps, {float(PERIOD)}, f"a slot is missing from the journal: {window}")
        for s in window:
            ran = [r for r in by_slot[s] if r[1] != "skipped"]
            self.assertEqual(len(ran), 1, (s, by_slot[s]))
            self.assertEqual(ran[0][1], "ok", (s, by_slot[s]))
            skipped = [r for r in by_slot[s] if r[1] == "skipped"]
            self.assertTrue(all(r[2] in ("lock_held", "already_ran") for r in skipped), (s, skipped))
            self.assertLessEqual(len(by_slot[s]), 2, (s, by_slot[s]))
        # The same as one SQL question: no slot has two runs that were not skips.
        twice = crm.sql("SELECT slot, COUNT(*) FROM crmh_runs WHERE job = 'tick' AND status <> 'skipped' "
                        "GROUP BY slot HAVING COUNT(*) > 1")
        self.assertEqual(twice, [])
        winners = [next(r[0] for r in by_slot[s] if r[1] == "ok") for s in window]
        print(f"\nha: {len(window)} slots, each ran once — {winners.count('daemon-a')} on daemon-a, "
              f"{winners.count('daemon-b')} on daemon-b, "
              f"{sum(len(by_slot[s]) - 1 for s in window)} skips", flush=True)

    def test_killed_mid_job_next_slot_runs_on_the_other(self):
        crm = Crm("mysql", contacts=150)
        # Every live contact gets trailing spaces: one one-row change set each, and nothing else
        # for the job to do (whatever else the demo data needs is in those same rows).
        crm.sql("UPDATE contacts SET first_name = CONCAT(COALESCE(first_name, 'x'), '   ') "
                "WHERE deleted = 0")
        dirty = int(crm.sql("SELECT COUNT(*) FROM contacts WHERE deleted = 0 AND first_name LIKE '%   '")[0][0])
        self.assertGreater(dirty, 100)
        cfg = {"daemon-a": crm.config(STD, name="a.yaml", instance="daemon-a"),
               "daemon-b": crm.config(STD, name="b.yaml", instance="daemon-b")}
        subprocess.run([BIN, "--config", cfg["daemon-a"], "runs"], capture_output=True, check=True)
        logs = {i: open(os.path.join(crm.dir, f"{i}.log"), "w") for i in cfg}
        # Every statement 15 ms slower: one change set ≈ 8 statements, the whole run ≈ 20 s.
        procs = {i: start(c, logs[i], CRM_HYGIENE_FAULT="slow_stmt_ms:15") for i, c in cfg.items()}
        try:
            # The run in progress, and who runs it.
            deadline = time.monotonic() + 60
            victim = None
            while time.monotonic() < deadline:
                running = crm.sql("SELECT r.run_id, r.instance_id, CAST(r.slot AS CHAR), "
                                  "(SELECT COUNT(*) FROM crmh_ledger l WHERE l.run_id = r.run_id) "
                                  "FROM crmh_runs r WHERE r.job = 'std' AND r.status = 'running'")
                if running and int(running[0][3]) >= 3:
                    victim = running[0]
                    break
                self.assertTrue(all(p.poll() is None for p in procs.values()), "a daemon exited")
                time.sleep(0.05)
            self.assertIsNotNone(victim, "no run committed 3 change sets within 60 s")
            run_id, killed, killed_slot, _ = victim
            procs[killed].kill()  # SIGKILL: no batch boundary, no journal update
            procs[killed].wait()
            killed_at = crm.sql("SELECT CAST(UTC_TIMESTAMP() AS CHAR)")[0][0]
            survivor = next(i for i in cfg if i != killed)
            status = crm.sql(f"SELECT status FROM crmh_runs WHERE run_id = '{run_id}'")[0][0]
            self.assertEqual(status, "running", "the killed run closed its own journal row")
            committed = int(crm.sql(f"SELECT COUNT(*) FROM crmh_ledger WHERE run_id = '{run_id}'")[0][0])
            self.assertLess(committed, dirty, "the run finished before it was killed")

            # The survivor's next run: it takes the lock (the dead connection's is gone), marks the
            # killed run interrupted and finishes the rows the killed run did not get to.
            deadline = time.monotonic() + 120
            done = None
            while time.monotonic() < deadline:
                rows = crm.sql("SELECT run_id, instance_id, CAST(slot AS CHAR), status FROM crmh_runs "
                               f"WHERE job = 'std' AND status <> 'skipped' AND slot > '{killed_slot}' "
                               "ORDER BY slot")
                if rows and rows[0][3] not in ("running",):
                    done = rows[0]
                    break
                self.assertIsNone(procs[survivor].poll(), "the survivor exited")
                time.sleep(0.2)
            self.assertIsNotNone(done, "the survivor did not finish a run within 120 s")
        finally:
            stop(list(procs.values()))
            for f in logs.values():
                f.close()
        next_id, next_inst, next_slot, next_status = done
        self.assertEqual(next_inst, survivor)
        with open(os.path.join(crm.dir, f"{survivor}.log")) as log:
            self.assertEqual(next_status, "ok", log.read()[-3000:])
        # It is the first slot after the kill: every slot between the killed one and it fell while
        # the killed run still held the lock (skipped), none after the kill was lost.
        between = crm.sql("SELECT instance_id, status, COALESCE(reason, '') FROM crmh_runs WHERE job = 'std' "
                          f"AND slot > '{killed_slot}' AND slot < '{next_slot}'")
        self.assertTrue(all(s == "skipped" and r in ("lock_held", "overlap") for _, s, r in between), between)
        self.assertTrue(all(s <= killed_at for s, in crm.sql(
            "SELECT CAST(slot AS CHAR) FROM crmh_runs WHERE job = 'std' "
            f"AND slot > '{killed_slot}' AND slot < '{next_slot}'")), "a slot after the kill did not run")
        # The killed run is shown interrupted (marked by the survivor's run, which held the lock).
        status, inst = crm.sql(f"SELECT status, instance_id FROM crmh_runs WHERE run_id = '{run_id}'")[0]
        self.assertEqual((status, inst), ("interrupted", killed))
        runs = {r["run_id"]: r for r in crm.runs(cfg[survivor])}
        self.assertEqual(runs[run_id]["status"], "interrupted")
        # Nothing changed twice, nothing left: the two runs' ledgers cover every dirty row once.
        self.assertEqual(crm.sql("SELECT row_id FROM crmh_ledger GROUP BY row_id HAVING COUNT(*) > 1"), [])
        counts = dict(crm.sql("SELECT run_id, COUNT(*) FROM crmh_ledger GROUP BY run_id"))
        self.assertEqual(set(counts), {run_id, next_id})
        self.assertEqual(int(counts[run_id]), committed)
        self.assertEqual(int(counts[run_id]) + int(counts[next_id]), dirty)
        left = int(crm.sql("SELECT COUNT(*) FROM contacts WHERE deleted = 0 AND first_name LIKE '%   '")[0][0])
        self.assertEqual(left, 0)
        print(f"\nha: {killed} killed after {committed} of {dirty} change sets (slot {killed_slot}); "
              f"slot {next_slot} ran on {survivor}, finished the other {dirty - committed}", flush=True)


if __name__ == "__main__":
    main()
