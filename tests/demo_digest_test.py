"""`crm-hygiene demo` lives through 12 weeks under a fake clock: the final digest's headline numbers
and its 12-week trend are recomputed here with the test's own SQL over the demo database (the run
journal, review queue, flags and audit snapshots), with ISO weeks computed here in Europe/Berlin —
not with the product's queries. Also: every job ran once in each of the 12 weeks, each week has its
archived digest, and the trend is not flat (the simulated users really changed the data)."""
import json
import os
import re
import sqlite3
import time
import unittest
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from proc_util import Crm, main, run

BERLIN = ZoneInfo("Europe/Berlin")
JOBS = ["weekly-audit", "nightly-standardize", "nightly-dedup", "monthly-prune", "weekly-score",
        "weekly-digest"]


def sql_time(t):
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def iso_week(sql_utc):
    """(label, start, end) of the ISO week in Berlin containing a UTC 'YYYY-MM-DD HH:MM:SS'."""
    t = datetime.strptime(sql_utc, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).astimezone(BERLIN)
    monday = (t - timedelta(days=t.weekday())).date()
    start = datetime(monday.year, monday.month, monday.day, tzinfo=BERLIN)
    nxt = monday + timedelta(days=7)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=BERLIN)
    y, w, _ = monday.isocalendar()
    return f"{y}-W{w:02d}", sql_time(start), sql_time(end)


class DemoDigestTest(unittest.TestCase):
    def test_twelve_weeks_and_the_final_digest_against_own_sql(self):
        d = os.path.join(Crm("sqlite", contacts=5).dir, "demo")
        started = time.monotonic()
        p = run("demo", "--dir", d, "--contacts", "800", check=0, timeout=900)
        took = time.monotonic() - started
        print(f"demo --contacts 800: {took:.1f}s", flush=True)
        last = p.stdout.strip().splitlines()[-1]
        self.assertIn("weekly digest", last)
        final_html = last.split()[2]
        db = sqlite3.connect(os.path.join(d, "crm.db"))
        q = lambda s, *a: db.execute(s, a).fetchall()

        # Every job once per week, in 12 consecutive ISO weeks.
        runs = q("SELECT job, started_at, status FROM crmh_runs WHERE dry_run = 0 ORDER BY started_at")
        weeks = sorted({iso_week(r[1])[0] for r in runs})
        self.assertEqual(len(weeks), 12, weeks)
        for job in JOBS:
            mine = [iso_week(r[1])[0] for r in runs if r[0] == job]
            self.assertEqual(sorted(mine), weeks, job)
        self.assertEqual([r for r in runs if r[2] != "ok"], [])
        for w in weeks:
            self.assertTrue(os.path.exists(os.path.join(d, "state", "digests", w + ".html")), w)
        self.assertEqual(os.path.basename(final_html), weeks[-1] + ".html")

        # The final digest's journal row carries its headline numbers.
        (counts, digest_started), = q("SELECT counts, started_at FROM crmh_runs WHERE kind = 'digest' "
                                      "ORDER BY started_at DESC LIMIT 1")
        c = json.loads(counts)
        label, ws, we = iso_week(digest_started)
        self.assertEqual(label, weeks[-1])

        def headline(ws, we):
            h = {}
            real = [r for r in q("SELECT kind, status, counts FROM crmh_runs WHERE started_at >= ? AND "
                                 "started_at < ? AND dry_run = 0 AND kind <> 'digest'", ws, we)]
            h["runs"] = sum(1 for k, s, _ in real if s not in ("skipped", "running"))
            h["skips"] = sum(1 for k, s, _ in real if s == "skipped")
            dedup = [(s, json.loads(cn)) for k, s, cn in real if k == "dedup" and s != "skipped"]
            h["contacts_merged"] = sum(j.get("contacts_merged", 0) for s, j in dedup)
            h["fields_standardized"] = sum(sum(json.loads(cn).get("fields_changed", {}).values())
                                           for k, s, cn in real if k == "standardize" and s == "ok")
            h["duplicates_found"] = sum(j.get("clusters_auto", 0) for s, j in dedup if s in ("ok", "interrupted")) + \
                q("SELECT COUNT(*) FROM crmh_review WHERE created_at >= ? AND created_at < ?", ws, we)[0][0]
            h["review_open"] = q("SELECT COUNT(*) FROM crmh_review WHERE created_at < ? AND (status = 'open' OR "
                                 "(decided_at IS NOT NULL AND decided_at >= ?))", we, we)[0][0]
            h["flags_open"] = q("SELECT COUNT(*) FROM crmh_flags WHERE opened_at < ? AND (cleared_at IS NULL OR "
                                "cleared_at >= ?)", we, we)[0][0]
            run_id = q("SELECT run_id FROM crmh_runs WHERE kind = 'audit' AND status = 'ok' AND started_at >= ? "
                       "AND started_at < ? ORDER BY started_at DESC LIMIT 1", ws, we)
            if run_id:
                rid = run_id[0][0]
                h["contacts"] = q("SELECT SUM(total) FROM crmh_audit_snapshots WHERE run_id = ? AND field = ''",
                                  rid)[0][0]
                filled, total = q("SELECT SUM(filled), SUM(total) FROM crmh_audit_snapshots WHERE run_id = ? "
                                  "AND field <> ''", rid)[0]
                h["completeness_pct"] = round(1000.0 * filled / total) / 10.0
            return h

        want = headline(ws, we)
        for key, value in want.items():
            self.assertIn(key, c)
            if key == "completeness_pct":
                self.assertAlmostEqual(c[key], value, places=6)
            else:
                self.assertEqual(c[key], value, key)
        self.assertEqual(want["runs"], 5)  # audit, standardize, dedup, prune, score
        self.assertGreater(want["contacts_merged"], 0)
        self.assertGreater(want["fields_standardized"], 0)
        # The 12-week trend in the archived text, point by point.
        with open(final_html[:-5] + ".txt", encoding="utf-8") as f:
            text = f.read()
        table = text.split("12-WEEK TREND\n", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
        self.assertEqual(len(table), 12)
        series = {"merged": [], "flags": [], "complete": []}
        for line, w in zip(table, weeks):
            cells = line.split()
            self.assertEqual(cells[0], w)
            run_row = [r for r in runs if r[0] == "weekly-digest" and iso_week(r[1])[0] == w][0]
            _, a, b = iso_week(run_row[1])
            h = headline(a, b)
            self.assertEqual(int(cells[1]), h["duplicates_found"], w)
            self.assertEqual(int(cells[2]), h["contacts_merged"], w)
            self.assertEqual(int(cells[3]), h["flags_open"], w)
            self.assertEqual(cells[4], f"{h['completeness_pct']:.1f}%", w)
            series["merged"].append(h["contacts_merged"])
            series["flags"].append(h["flags_open"])
            series["complete"].append(h["completeness_pct"])
        # Real trends: merges in most weeks after the first (new duplicates, approved reviews),
        # completeness and flags move.
        self.assertGreaterEqual(sum(1 for m in series["merged"][1:] if m > 0), 8, series)
        self.assertGreater(len(set(series["complete"])), 3, series)
        self.assertGreater(len(set(series["flags"])), 3, series)
        self.assertGreater(series["complete"][-1], series["complete"][0], series)
        # The owner who fixes her book rises: mnguyen's score went up over the 12 weeks.
        first, last = weeks[0], weeks[-1]
        mn = q("SELECT s.week, s.score_centi FROM crmh_scores s JOIN users u ON CAST(u.id AS TEXT) = s.owner "
               "WHERE u.user_name = 'mnguyen' AND s.week IN (?, ?) ORDER BY s.week", first, last)
        self.assertEqual(len(mn), 2, mn)
        self.assertGreater(mn[1][1], mn[0][1], mn)
        # Per-owner digests of the final week were archived.
        owners = os.listdir(os.path.join(d, "state", "digests", "owners", weeks[-1]))
        self.assertGreaterEqual(len([o for o in owners if o.endswith(".html")]), 8)
        self.assertRegex(text, re.escape(weeks[-1]))


if __name__ == "__main__":
    main()
