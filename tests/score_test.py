"""The score job through the real binary: on the demo data `run weekly-score --json` ranks the
owners and every score equals the sum of its shown components; re-running the week replaces it."""
import json
import os
import tempfile
import unittest

from proc_util import Crm, backends, main, run

SCORE_JOB = """jobs:
  s:
    kind: score
    time_zone: Europe/Berlin
    options:
      mandatory: [first_name, last_name, email, phone, country]
      weights: {email: 2}
"""


def check_report(test, rep):
    test.assertEqual(rep["kind"], "score")
    test.assertEqual(rep["status"], "ok")
    users = rep["details"]["users"]
    test.assertGreaterEqual(len(users), 2)
    last_score, last_rank = 101.0, 0
    for u in users:
        points = [c["points"] for c in u["components"].values()]
        test.assertAlmostEqual(sum(points), u["score"], places=6, msg=u)
        test.assertEqual(set(u["components"]), {"completeness", "validity", "duplicates",
                                                "improvement", "staleness"})
        test.assertLessEqual(u["score"], last_score)
        test.assertGreaterEqual(u["rank"], last_rank)
        test.assertIsInstance(u["owner"], str)  # ids are strings
        last_score, last_rank = u["score"], u["rank"]
    test.assertEqual(users[0]["rank"], 1)
    test.assertIn("top_score", users[0]["badges"])
    test.assertAlmostEqual(sum(rep["details"]["component_max"].values()), 100.0, places=6)
    return users


def week_of(rfc3339):
    """The ISO week ("2026-W49") of a UTC time in Europe/Berlin, as the demo's jobs count weeks."""
    from datetime import datetime
    from zoneinfo import ZoneInfo
    t = datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/Berlin"))
    year, week, _ = t.isocalendar()
    return f"{year}-W{week:02d}"


class ScoreProcessTest(unittest.TestCase):
    def test_demo_ranks_the_owners(self):
        d = tempfile.mkdtemp(prefix="crmh_score_demo_")
        p = run("demo", "--dir", d, "--contacts", "1500", timeout=600)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("job 'weekly-score' (score): ok", p.stdout)
        cfg = os.path.join(d, "crm-hygiene.yaml")
        # The demo's last simulated week is this one, except within two hours of a week's start
        # in Europe/Berlin (daemon/demo_sim.h), when it is the week before: then this week has no
        # dedup run yet. The demo's own score run always shares its week with the demo's dedup.
        journal = json.loads(run("runs", "--json", config=cfg, check=0).stdout)
        demo_score = next(r for r in journal if r["job"] == "weekly-score")
        rep = json.loads(run("run", "weekly-score", "--json", config=cfg, check=0).stdout)
        users = check_report(self, rep)
        self.assertEqual(len(users), 8)  # the demo's eight reps
        self.assertEqual(len({u["owner"] for u in users}), 8)
        # The demo ran dedup in its week: its merges are charged to their creators.
        dups = lambda counts: counts["duplicates_attributed"] + counts["duplicates_unattributed"]
        self.assertGreater(dups(demo_score["counts"]), 0)
        demo_dedup = next(r for r in journal if r["kind"] == "dedup")
        if rep["details"]["week"] == week_of(demo_dedup["started_at"]):
            self.assertEqual(dups(rep["counts"]), dups(demo_score["counts"]))
        # Same week again: replaced, not doubled (the demo's run and ours are one week).
        import sqlite3
        db = sqlite3.connect(os.path.join(d, "crm.db"))
        # (the demo scored 12 simulated weeks; this week's rows are the ones our run replaced)
        week = rep["details"]["week"]
        n = db.execute("SELECT COUNT(*) FROM crmh_scores WHERE job = 'weekly-score' AND week = ?", (week,)).fetchone()[0]
        self.assertEqual(n, 8)
        stored = dict(db.execute("SELECT owner, score_centi FROM crmh_scores WHERE week = ?", (week,)).fetchall())
        for u in users:
            self.assertEqual(stored[u["owner"]], round(u["score"] * 100))

    def test_score_on_each_backend(self):
        for backend in backends():
            with self.subTest(backend=backend):
                crm = Crm(backend, contacts=200)
                cfg = crm.config(SCORE_JOB)
                dry = json.loads(run("run", "s", "--dry-run", "--json", config=cfg, check=0).stdout)
                check_report(self, dry)
                self.assertEqual(crm.sql("SELECT COUNT(*) FROM crmh_scores")[0][0], "0")
                first = json.loads(run("run", "s", "--json", config=cfg, check=0).stdout)
                users = check_report(self, first)
                self.assertEqual(dry["details"]["users"], first["details"]["users"])
                again = json.loads(run("run", "s", "--json", config=cfg, check=0).stdout)
                self.assertEqual(again["details"]["users"], users)
                self.assertEqual(crm.sql("SELECT COUNT(*) FROM crmh_scores")[0][0], str(len(users)))
                self.assertEqual(crm.sql("SELECT COUNT(*) FROM crmh_score_weeks")[0][0], "1")

    def test_score_needs_an_owner_column(self):
        crm = Crm("sqlite", contacts=20)
        cfg = crm.config("mapping:\n  profile: generic\n  fields:\n    owner: no_such_column\n" + SCORE_JOB)
        p = run("run", "s", config=cfg)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("no_such_column", p.stderr + p.stdout)


if __name__ == "__main__":
    main()
