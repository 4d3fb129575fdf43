"""The dedup review queue through the real binary: list, reject (never proposed again), approve
(merged by the next run, or at once with --now), and bad input answered with exit 2/4."""
import json
import unittest

from proc_util import Crm, backends, main, run

JOB = """jobs:
  dedup:
    kind: dedup
    max_rows: 0
    max_fraction: 0
    options:
      auto_merge: false
"""


class ReviewTest(unittest.TestCase):
    def test_review_lifecycle(self):
        for backend in backends():
            with self.subTest(backend):
                crm = Crm(backend, contacts=400)
                cfg = crm.config(JOB)
                first = json.loads(run("run", "dedup", "--json", config=cfg, check=0).stdout)
                self.assertEqual(first["status"], "ok")
                review = [c for c in first["clusters"] if c["decision"] == "review"]
                self.assertGreater(len(review), 3)
                for c in first["clusters"]:
                    self.assertTrue(all(isinstance(m, str) for m in c["members"]))
                    self.assertEqual(c["survivor"], c["members"][0])
                items = json.loads(run("review", "list", "--json", config=cfg, check=0).stdout)
                self.assertEqual(len(items), len(review))
                self.assertTrue(all(i["status"] == "open" for i in items))

                # Running again queues nothing twice.
                again = json.loads(run("run", "dedup", "--json", config=cfg, check=0).stdout)
                self.assertEqual(again["counts"]["review_items_new"], 0)
                self.assertEqual(len(json.loads(run("review", "list", "--json", config=cfg, check=0).stdout)),
                                 len(items))

                # Reject one: its members are never proposed together again.
                rejected = items[0]
                p = run("review", "reject", rejected["id"], config=cfg, check=0)
                self.assertIn("rejected", p.stdout)
                third = json.loads(run("run", "dedup", "--json", config=cfg, check=0).stdout)
                pair = set(rejected["members"][:2])
                for c in third["clusters"]:
                    self.assertFalse(pair <= set(c["members"]), f"rejected pair {pair} came back: {c}")
                listed = json.loads(run("review", "list", "--status", "rejected", "--json", config=cfg,
                                        check=0).stdout)
                self.assertEqual([i["id"] for i in listed], [rejected["id"]])

                # Approve one for the next run, approve another and merge it now.
                later, now = items[1], items[2]
                run("review", "approve", later["id"], config=cfg, check=0)
                survivor_rows_before = crm.sql("SELECT COUNT(*) FROM contacts WHERE deleted = 0")[0][0]
                p = run("review", "approve", now["id"], "--now", "--json", config=cfg, check=0)
                rep = json.loads(p.stdout)
                self.assertEqual(rep["status"], "ok", rep)
                self.assertEqual(rep["counts"]["contacts_merged"], len(now["members"]) - 1)
                live = crm.sql("SELECT COUNT(*) FROM contacts WHERE deleted = 0")[0][0]
                self.assertEqual(int(survivor_rows_before) - int(live), len(now["members"]) - 1)
                for m in now["members"][1:]:
                    self.assertEqual(crm.sql(f"SELECT deleted FROM contacts WHERE id = {m}"), [["1"]])
                merged = json.loads(run("review", "list", "--status", "merged", "--json", config=cfg,
                                        check=0).stdout)
                self.assertEqual([i["id"] for i in merged], [now["id"]])
                self.assertEqual(merged[0]["merged_run"], rep["run_id"])
                # A merged item cannot be approved or rejected again.
                self.assertEqual(run("review", "approve", now["id"], config=cfg).returncode, 4)
                self.assertEqual(run("review", "reject", now["id"], config=cfg).returncode, 4)

                # The next scheduled-style run merges the approved one.
                fourth = json.loads(run("run", "dedup", "--json", config=cfg, check=0).stdout)
                self.assertEqual(fourth["counts"]["merges_applied"], 1)
                self.assertIn("approved", [c["decision"] for c in fourth["clusters"]])

                # And restore undoes the --now merge exactly.
                run("restore", rep["run_id"], config=cfg, check=0)
                for m in now["members"][1:]:
                    self.assertEqual(crm.sql(f"SELECT deleted FROM contacts WHERE id = {m}"), [["0"]])

    def test_bad_review_input(self):
        crm = Crm("sqlite", contacts=20)
        cfg = crm.config(JOB)
        cases = [
            (("review",), 2, "wrong number of arguments"),
            (("review", "frob"), 2, "unknown action 'frob'"),
            (("review", "list", "5"), 2, "review list takes no ID"),
            (("review", "approve"), 2, "needs an item ID"),
            (("review", "approve", "abc"), 2, "must be a number"),
            (("review", "approve", "999999"), 2, "no review item 999999"),
            (("review", "reject", "1", "--now"), 2, "--now goes with review approve"),
            (("review", "list", "--limit", "0"), 2, "--limit must be a positive number"),
        ]
        for args, code, expect in cases:
            with self.subTest(args):
                p = run(*args, config=cfg)
                self.assertEqual(p.returncode, code, p.stderr)
                self.assertIn(expect, p.stderr)
        p = run("review", "list", config=cfg, check=0)
        self.assertIn("no review items", p.stdout)


if __name__ == "__main__":
    main()
