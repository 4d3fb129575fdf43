"""Bad input gets a clear error and changes nothing; good input gets the contract's shapes."""
import json
import os
import re
import unittest

from proc_util import BIN, SRC, Crm, backends, main, run

JOB = """jobs:
  audit:
    kind: audit
    schedule: "Mon *-*-* 07:00"
    time_zone: Europe/Berlin
"""


class CliTest(unittest.TestCase):
    def test_usage_errors_exit_2(self):
        self.assertEqual(run().returncode, 2)
        p = run("chekc")
        self.assertEqual(p.returncode, 2)
        self.assertIn("did you mean 'check'", p.stderr)
        self.assertEqual(run("run").returncode, 2)  # missing JOB
        self.assertEqual(run("runs", "--bogus").returncode, 2)
        p = run("demo", "--contacts", "lots")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--contacts must be a number", p.stderr)
        p = run("digest", config="/nonexistent/crm.yaml")
        self.assertEqual(p.returncode, 2)
        self.assertIn("cannot read the configuration file", p.stderr)

    def test_config_errors_name_file_line_column(self):
        crm = Crm("sqlite", contacts=20)
        cases = {
            "broken": ("jobs:\n  a: [\n", "end of sequence flow not found"),
            "unknown": ("jbos: {}\n", "unknown key 'jbos' in the top level (did you mean 'jobs'?)"),
            "duplicate": (JOB + "jobs: {}\n", "duplicate key 'jobs'"),
            "calendar": ("jobs:\n  a:\n    kind: audit\n    schedule: 'Mon *-*-* 7:61'\n", "Mon *-*-* 7:61"),
        }
        for name, (body, expect) in cases.items():
            with self.subTest(name):
                path = crm.config(body, name=f"{name}.yaml")
                before = crm.sql("SELECT COUNT(*) FROM sqlite_master")
                p = run("check", config=path)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertRegex(p.stderr, re.escape(path) + r":\d+:\d+: ")
                self.assertIn(expect, p.stderr)
                self.assertEqual(before, crm.sql("SELECT COUNT(*) FROM sqlite_master"))  # nothing created

    def test_mutated_configs_never_crash(self):
        """Seeded mutations of the shipped example: every answer is an exit code, never a signal."""
        import random
        rng = random.Random(20261122)
        base = open(os.path.join(SRC, "config", "crm-hygiene.example.yaml")).read()
        d = Crm("sqlite", contacts=1)
        junk = [":", "-", "[", "]", "{", "}", "'", '"', "&a", "*a", "!!int", "\t", "\n", "  ", "#",
                "99999999999999999999", "~", "%", "@", "é", "null", "yes"]
        for i in range(150):
            text = list(base)
            for _ in range(rng.randint(1, 4)):
                pos = rng.randrange(len(text))
                op = rng.random()
                if op < 0.4:
                    text[pos:pos] = list(rng.choice(junk))
                elif op < 0.7:
                    del text[pos:pos + rng.randint(1, 8)]
                else:
                    text[pos] = rng.choice(junk)
            path = os.path.join(d.dir, f"m{i}.yaml")
            with open(path, "w") as f:
                f.write("".join(text))
            p = run("check", config=path, timeout=30)
            self.assertIn(p.returncode, (0, 2, 3), f"{path}: {p.returncode} {p.stderr[-300:]}")
            if p.returncode == 2:
                self.assertTrue(p.stderr.strip(), path)

    def test_bad_calendar_expression(self):
        p = run("calendar", "Mon *-*-* 25:00")
        self.assertEqual(p.returncode, 2)
        self.assertIn("Mon *-*-* 25:00", p.stderr)

    def test_missing_column_is_named_exit_2(self):
        for backend in backends():
            with self.subTest(backend):
                crm = Crm(backend, contacts=20)
                path = crm.config("mapping:\n  profile: generic\n  fields:\n    phone: work_phone\n" + JOB)
                p = run("check", config=path)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("contacts.work_phone", p.stderr)
                p = run("run", "audit", config=path)
                self.assertEqual(p.returncode, 2, p.stderr)

    def test_unreachable_database_exit_3(self):
        d = Crm("sqlite", contacts=1)
        path = os.path.join(d.dir, "down.yaml")
        with open(path, "w") as f:
            f.write("database:\n  backend: mysql\n  socket: /nonexistent/mysqld.sock\n  user: u\n  name: crm\n" + JOB)
        p = run("check", config=path)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("/nonexistent/mysqld.sock", p.stderr)
        p = run("run", "audit", config=path)
        self.assertEqual(p.returncode, 3, p.stderr)

    def test_check_run_runs_schedule(self):
        for backend in backends():
            with self.subTest(backend):
                crm = Crm(backend, contacts=300)
                path = crm.config(JOB)
                p = run("check", config=path, check=0)
                self.assertIn("ok", p.stdout)
                # A dry run reports but records no snapshot.
                rep = json.loads(run("run", "audit", "--dry-run", "--json", config=path, check=0).stdout)
                self.assertTrue(rep["dry_run"])
                self.assertEqual(crm.sql("SELECT COUNT(*) FROM crmh_audit_snapshots")[0][0], "0")
                rep = json.loads(run("run", "audit", "--json", config=path, check=0).stdout)
                self.assertEqual(rep["status"], "ok")
                self.assertEqual(rep["kind"], "audit")
                self.assertIsInstance(rep["run_id"], str)
                live = int(crm.sql("SELECT COUNT(*) FROM contacts WHERE deleted = 0")[0][0])
                self.assertEqual(rep["counts"]["contacts"], live)
                email = int(crm.sql("SELECT COUNT(*) FROM contacts WHERE deleted = 0 AND email IS NOT NULL "
                                    "AND TRIM(email) <> ''")[0][0])
                self.assertEqual(rep["details"]["fields"]["email"]["filled"], email)
                self.assertGreater(int(crm.sql("SELECT COUNT(*) FROM crmh_audit_snapshots")[0][0]), 0)
                runs = crm.runs(path)
                self.assertEqual([r["status"] for r in runs], ["ok", "ok"])
                self.assertEqual(sorted(r["dry_run"] for r in runs), [False, True])
                sched = json.loads(run("schedule", "--json", config=path, check=0).stdout)
                self.assertEqual(sched[0]["job"], "audit")
                self.assertTrue(sched[0]["next"].endswith("Z"))
                self.assertEqual(sched[0]["last"]["status"], "ok")
                p = run("run", "audti", config=path)
                self.assertEqual(p.returncode, 2)
                self.assertIn("did you mean 'audit'", p.stderr)

    def test_standardize_restore_round_trip_from_the_command_line(self):
        for backend in backends():
            with self.subTest(backend):
                crm = Crm(backend, contacts=200)
                path = crm.config("jobs:\n  std:\n    kind: standardize\n    max_rows: 0\n    max_fraction: 0\n")
                crm.sql("UPDATE contacts SET first_name = '  Padded   Name ' WHERE id = 1")
                snapshot = crm.sql("SELECT * FROM contacts ORDER BY id")
                dry = json.loads(run("run", "std", "--dry-run", "--json", config=path, check=0).stdout)
                self.assertGreater(dry["counts"]["rows_planned"], 0)
                self.assertEqual(snapshot, crm.sql("SELECT * FROM contacts ORDER BY id"))
                rep = json.loads(run("run", "std", "--json", config=path, check=0).stdout)
                self.assertEqual(rep["counts"]["rows_changed"], dry["counts"]["rows_planned"])
                self.assertEqual(crm.sql("SELECT first_name FROM contacts WHERE id = 1"), [["Padded Name"]])
                # A rep edits a standardized row: restore refuses and names it.
                crm.sql("UPDATE contacts SET city = 'Edited' WHERE id = 1")
                p = run("restore", rep["run_id"], config=path)
                self.assertEqual(p.returncode, 4, p.stderr)
                self.assertIn("contacts 1: changed since run", p.stderr)
                p = run("restore", rep["run_id"], "--force", "--json", config=path, check=0)
                out = json.loads(p.stdout)
                self.assertEqual(out["rows_restored"], rep["counts"]["rows_changed"])
                self.assertEqual(snapshot, crm.sql("SELECT * FROM contacts ORDER BY id"))
                again = json.loads(run("restore", rep["run_id"], "--json", config=path, check=0).stdout)
                self.assertTrue(again["already_restored"])
                self.assertEqual(run("restore", "no-such-run", config=path).returncode, 2)
                self.assertIn("restore", [r["kind"] for r in crm.runs(path)])
                # Erasure: the contact's images leave the ledger; the journal does not name it.
                images = int(crm.sql("SELECT COUNT(*) FROM crmh_bk_contacts WHERE id = 1")[0][0])
                self.assertGreater(images, 0)
                gone = json.loads(run("forget", "1", "--json", config=path, check=0).stdout)
                self.assertEqual(gone["images_erased"], images)
                self.assertEqual(crm.sql("SELECT COUNT(*) FROM crmh_bk_contacts WHERE id = 1"), [["0"]])
                forget_row = [r for r in crm.runs(path) if r["kind"] == "forget"][0]
                self.assertNotIn("1", forget_row["message"])

    def test_check_names_a_missing_write_grant_and_reads_the_password_file(self):
        if "mysql" not in backends():
            self.skipTest("needs the harness's MariaDB")
        crm = Crm("mysql", contacts=20)
        root_cfg = crm.config("jobs:\n  std:\n    kind: standardize\n")
        run("check", config=root_cfg, check=0)
        run("runs", config=root_cfg, check=0)  # migrates the state tables as root
        user = f"ro{os.getpid()}"
        crm.sql(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY 's3cret pw'")
        try:
            crm.sql(f"GRANT SELECT ON `{crm.name}`.* TO '{user}'@'localhost'")
            crm.sql(f"GRANT INSERT ON `{crm.name}`.`crmh_runs` TO '{user}'@'localhost'")
            pw = os.path.join(crm.dir, "db-password")
            with open(pw, "w") as f:
                f.write("s3cret pw\n")
            cfg = os.path.join(crm.dir, "ro.yaml")
            with open(cfg, "w") as f:
                f.write(f"database:\n  backend: mysql\n  socket: {os.environ['CRMH_TEST_MYSQL_SOCKET']}\n"
                        f"  user: {user}\n  name: {crm.name}\n  password_file: {pw}\n"
                        "jobs:\n  std:\n    kind: standardize\n")
            p = run("check", config=cfg)
            self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
            self.assertIn("no grant to UPDATE contacts", p.stderr)
            with open(pw, "w") as f:
                f.write("wrong\n")
            p = run("check", config=cfg)
            self.assertEqual(p.returncode, 2, p.stderr)  # the server said no: a config error, not "down"
            self.assertIn("Access denied", p.stderr)
        finally:
            crm.sql(f"DROP USER '{user}'@'localhost'")


if __name__ == "__main__":
    main()
