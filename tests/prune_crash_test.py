"""kill -9 in the middle of a multi-batch prune (issue 5), with the real binary on SQLite and
MariaDB, generic demo CRM: the crashed run leaves every committed batch with its backup and no
half-applied one; the next run prunes exactly the rest (the contacts our own SQL says qualify);
restoring both runs gives back the checksum of every table before the prune.

Crash points are statement numbers from one traced, uncrashed prune on an identical fresh CRM:
inside the first, a middle and the last batch's transaction, and right after a COMMIT."""
import json
import os
import re

from crash_test import (CrashCrm, GENERIC, checksum, clean_env, read_trace, server_checksums,
                        snapshot, transactions)
from proc_util import backends, main, run
import unittest

# Time-independent criteria (the fixture's dates are fixed, the binary's clock is not).
JOB = """jobs:
  prune:
    kind: prune
    batch_size: 3
    max_rows: 0
    max_fraction: 0
    options:
      action: {action}
      connections: {connections}
      notice_days: 0
      criteria: {{opted_out: true, bounced: {{column: email_bounced}}}}
      protect:
        customer: {{column: status, in: [customer]}}
        legal_hold: {{column: legal_hold}}
        open_deals: {{child: deals, column: stage, in: [open]}}
        keep_if: [{{child: tags, column: tag, in: [keep]}}]
"""

# Our own SQL for who qualifies (must match the job above).
QUALIFYING = """SELECT id FROM contacts c WHERE deleted = 0 AND (email_opt_out = 1 OR email_bounced = 1)
  AND status <> 'customer' AND legal_hold = 0
  AND NOT EXISTS (SELECT 1 FROM deals d WHERE d.contact_id = c.id AND d.deleted = 0 AND d.stage = 'open')
  AND NOT EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id AND t.deleted = 0 AND t.tag = 'keep')"""


def fresh(test, backend, action, connections=1):
    crm = CrashCrm(backend, 300, profile=GENERIC)
    test.addCleanup(crm.cleanup)
    path = crm.config(JOB.format(action=action, connections=connections))
    first = json.loads(run("run", "prune", "--json", config=path, env=clean_env(), check=0).stdout)
    test.assertEqual(first["status"], "ok", first)
    test.assertEqual(first["counts"]["contacts_due"], 0)  # no notice, no prune
    return crm, path


def gone(crm, action, base, pre_deleted):
    """Contacts the prune removed: deleted rows, or newly soft-deleted ones."""
    if action in ("delete", "archive"):
        return set(base["contacts"]) - {r[0] for r in crm.sql("SELECT id FROM contacts")}
    return {r[0] for r in crm.sql("SELECT id FROM contacts WHERE deleted = 1")} - pre_deleted


# Child rows pointing at a removed contact (live child rows at a soft-deleted one).
ORPHANS = {
    "delete": [
        "SELECT COUNT(*) FROM activities a WHERE a.parent_type = 'Contacts' AND NOT EXISTS "
        "(SELECT 1 FROM contacts c WHERE c.id = a.parent_id)",
        "SELECT COUNT(*) FROM deals d WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = "
        "d.contact_id)",
        "SELECT COUNT(*) FROM contact_tags t WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE "
        "c.id = t.contact_id)"],
    "soft_delete": [
        "SELECT COUNT(*) FROM activities a JOIN contacts c ON c.id = a.parent_id WHERE "
        "a.parent_type = 'Contacts' AND a.deleted = 0 AND c.deleted = 1",
        "SELECT COUNT(*) FROM deals d JOIN contacts c ON c.id = d.contact_id WHERE d.deleted = 0 "
        "AND c.deleted = 1",
        "SELECT COUNT(*) FROM contact_tags t JOIN contacts c ON c.id = t.contact_id WHERE "
        "t.deleted = 0 AND c.deleted = 1"],
}
ORPHANS["archive"] = ORPHANS["delete"]


class PruneCrashTest(unittest.TestCase):
    def test_cli_notices_rescue_and_dry_run(self):
        for backend in backends():
            with self.subTest(backend=backend):
                crm = CrashCrm(backend, 120, profile=GENERIC)
                self.addCleanup(crm.cleanup)
                path = crm.config(JOB.format(action="soft_delete", connections=1))
                base = checksum(snapshot(crm))
                p = run("check", config=path, check=0)
                self.assertIn("prune     job prune: options match the schema", p.stdout)
                bad = crm.config(JOB.format(action="delete", connections=1).replace(
                    "{column: legal_hold}", "{column: legal_flag}"), name="bad.yaml")
                p = run("check", config=bad)
                self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
                self.assertIn("column contacts.legal_flag does not exist", p.stderr)
                self.assertIn("bad.yaml:", p.stderr)
                # A dry run writes nothing: no notice, no CRM row.
                dry = json.loads(run("run", "prune", "--dry-run", "--json", config=path,
                                     env=clean_env(), check=0).stdout)
                expected = {r[0] for r in crm.sql(QUALIFYING)}
                self.assertGreater(len(expected), 1)
                self.assertEqual(dry["counts"]["notices_to_open"], len(expected))
                self.assertEqual(json.loads(run("notices", "--json", config=path, check=0).stdout), [])
                self.assertEqual(checksum(snapshot(crm)), base)
                run("run", "prune", config=path, env=clean_env(), check=0)
                notices = json.loads(run("notices", "--json", config=path, check=0).stdout)
                self.assertEqual({n["contact_id"] for n in notices}, expected)
                for n in notices:
                    self.assertIsInstance(n["contact_id"], str)
                    self.assertIsInstance(n["id"], str)
                    self.assertEqual(n["status"], "open")
                    self.assertTrue(n["prune_after"].endswith("Z"))
                text = run("notices", config=path, check=0).stdout
                self.assertIn("rescue CONTACT_ID", text)
                keep = sorted(expected)[0]
                out = json.loads(run("rescue", keep, "--json", config=path, check=0).stdout)
                self.assertEqual(out["notices_rescued"], 1)
                self.assertEqual(out["contact_id"], keep)
                p = run("rescue", keep, config=path)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("no open prune notice", p.stderr)
                self.assertEqual({n["contact_id"] for n in json.loads(
                    run("notices", "--json", config=path, check=0).stdout)}, expected - {keep})
                p = run("notices", "--job", "nope", config=path)
                self.assertEqual(p.returncode, 2)
                # The prune (notice_days 0): everyone but the rescued contact goes.
                rep = json.loads(run("run", "prune", "--json", config=path, env=clean_env(),
                                     check=0).stdout)
                self.assertEqual(rep["status"], "ok", rep)
                self.assertEqual(rep["counts"]["contacts_pruned"], len(expected) - 1)
                self.assertEqual(crm.sql(f"SELECT deleted FROM contacts WHERE id = {keep}"), [["0"]])
                statuses = {n["contact_id"]: n["status"] for n in json.loads(
                    run("notices", "--all", "--json", config=path, check=0).stdout)}
                self.assertEqual(statuses[keep], "rescued")
                self.assertEqual({c for c, st in statuses.items() if st == "pruned"}, expected - {keep})

    def test_kill_9_inside_and_between_prune_batches(self):
        for backend in backends():
            for action in ("soft_delete", "delete", "archive"):
                with self.subTest(backend=backend, action=action):
                    self.sweep(backend, action)

    def test_kill_9_with_two_connections(self):
        """Two sets in flight at once, committing in either order: a kill leaves whole sets, each
        with its backup, notices and checkpoint step; the next run prunes exactly the rest."""
        if "mysql" not in backends():
            self.skipTest("several connections apply at once on MariaDB only")
        for action in ("delete", "archive"):
            with self.subTest(action=action):
                self.sweep("mysql", action, connections=2)

    def sweep(self, backend, action, connections=1):
        # The reference: a traced, uncrashed prune.
        ref, ref_path = fresh(self, backend, action, connections)
        expected = {r[0] for r in ref.sql(QUALIFYING)}
        self.assertGreaterEqual(len(expected), 9, "too little work for a multi-batch crash test")
        trace_path = os.path.join(ref.dir, "prune.trace")
        rep = json.loads(run("run", "prune", "--json", config=ref_path,
                             env=clean_env(CRM_HYGIENE_SQL_TRACE=trace_path), check=0).stdout)
        self.assertEqual(rep["status"], "ok", rep)
        self.assertEqual(rep["counts"]["contacts_pruned"], len(expected))
        # The plan's sets: the due contacts in key order, batch_size (3) at a time.
        ordered = sorted(expected, key=int)
        planned_sets = [set(ordered[i:i + 3]) for i in range(0, len(ordered), 3)]
        if connections == 1:
            trace = read_trace(trace_path)
            numbered = list(enumerate(trace, start=1))
            deletes = [n for n, s in numbered
                       if re.match(r'(UPDATE [`"]contacts[`"] SET|DELETE FROM [`"]contacts[`"])', s)]
            # The engine's change sets are the transactions that touch contacts.
            sets = [(b, c) for b, c in transactions(trace) if any(b <= d < c for d in deletes)]
            self.assertGreaterEqual(len(sets), 3)
            mid = sets[len(sets) // 2]
            points = sorted({sets[0][0] + 1, mid[0] + 2, mid[1] - 1, mid[1], sets[-1][1] - 1,
                             sets[1][1]})
        else:
            # Two sessions' statements interleave (the numbers count both): crash points spread
            # over the apply phase, from the first session's autocommit off to the last one's on.
            with open(trace_path) as f:
                lines = [line.rstrip("\n").partition("\t") for line in f]
            off = [int(n) for n, _, q in lines if q == "SET autocommit = 0"]
            on = [int(n) for n, _, q in lines if q == "SET autocommit = 1"]
            self.assertEqual(len(off), 2, "the run did not use two connections")
            first, last = min(off), max(on)
            points = [first + (last - first) * k // 6 for k in range(1, 6)]
        for n in points:
            with self.subTest(crash_after_stmt=n):
                crm, path = fresh(self, backend, action, connections)
                base = snapshot(crm)
                base_server = server_checksums(crm)
                pre_deleted = {r[0] for r in crm.sql("SELECT id FROM contacts WHERE deleted = 1")}
                # Contacts the CRM soft-deleted itself may keep live children; the prune adds none.
                pre_orphans = [crm.sql(q) for q in ORPHANS[action]]
                p = run("run", "prune", "--json", config=path,
                        env=clean_env(CRM_HYGIENE_FAULT=f"crash_after_stmt:{n}"), check=None)
                self.assertEqual(p.returncode, -9, f"not killed after statement {n}: {p.stderr}")
                crm.wait_idle()
                crashed = [r[0] for r in crm.sql("SELECT run_id FROM crmh_runs WHERE status = "
                                                 "'running'")]
                self.assertEqual(len(crashed), 1)
                # Only whole batches: every contact in the crashed run's ledger is removed, with
                # all its child rows; no other contact is.
                ledger = {r[0] for r in crm.sql(
                    "SELECT row_id FROM crmh_ledger WHERE table_name = 'contacts' AND run_id = '"
                    + crashed[0] + "'")}
                committed = [c for c in planned_sets if c <= ledger]
                self.assertEqual(set().union(*committed), ledger, "a partial batch")
                self.assertEqual(gone(crm, action, base, pre_deleted), ledger)
                # Each committed batch closed its contacts' notices `pruned` and advanced the
                # run's checkpoint in its own transaction: exact after the kill.
                closed = {r[0]: (r[1], r[2]) for r in crm.sql(
                    "SELECT contact_id, status, closed_run FROM crmh_notices WHERE status <> 'open'")}
                self.assertEqual(closed, {c: ("pruned", crashed[0]) for c in ledger})
                cp = crm.sql("SELECT status, sets_done, items_done FROM crmh_checkpoints WHERE "
                             "run_id = '" + crashed[0] + "'")
                self.assertEqual(cp, [["running", str(len(committed)), str(len(ledger))]])
                if action == "archive":
                    self.assertEqual({r[0] for r in crm.sql("SELECT id FROM crmh_ar_contacts")},
                                     ledger)
                again = json.loads(run("run", "prune", "--json", config=path, env=clean_env(),
                                       check=0).stdout)
                self.assertEqual(again["status"], "ok", again)
                self.assertEqual(again["counts"]["contacts_pruned"], len(expected) - len(ledger))
                self.assertEqual([(r["run_id"], r["contacts_done"])
                                  for r in again["details"]["resumed_from"]],
                                 [(crashed[0], len(ledger))])
                again_ledger = {r[0] for r in crm.sql(
                    "SELECT row_id FROM crmh_ledger WHERE table_name = 'contacts' AND run_id = '"
                    + again["run_id"] + "'")}
                self.assertEqual(again_ledger & ledger, set(), "a contact pruned twice")
                self.assertEqual(crm.sql("SELECT COUNT(*) FROM crmh_notices WHERE status = 'gone'"),
                                 [["0"]])
                self.assertEqual(gone(crm, action, base, pre_deleted), expected)
                self.assertEqual([crm.sql(q) for q in ORPHANS[action]], pre_orphans)
                if action == "delete":
                    self.assertEqual(pre_orphans, [[["0"]]] * len(ORPHANS[action]))
                open_notices = crm.sql("SELECT COUNT(*) FROM crmh_notices WHERE status = 'open'")
                self.assertEqual(open_notices, [["0"]])
                run("restore", again["run_id"], config=path, env=clean_env(), check=0)
                if ledger:
                    run("restore", crashed[0], config=path, env=clean_env(), check=0)
                self.assertEqual(checksum(snapshot(crm)), checksum(base))
                self.assertEqual(server_checksums(crm), base_server)
                if action == "archive":
                    self.assertEqual(crm.sql("SELECT COUNT(*) FROM crmh_ar_contacts"), [["0"]])
                    self.assertEqual(crm.sql("SELECT COUNT(*) FROM crmh_ar_activities"), [["0"]])


if __name__ == "__main__":
    main()
