"""`check` probes what a prune job needs from the server (issue 5), as a MariaDB user that lacks
it: with max_replica_lag, SHOW REPLICA STATUS (REPLICATION CLIENT / SLAVE MONITOR) — exit 2
without it; CREATE TEMPORARY TABLES on the CRM database — a warning without it (the engine falls
back to CASE lists), none once granted. And `replica_dsns` (pt-archiver --check-slave-lag): a
second private MariaDB configured as a stopped replica holds the prune back until it replicates
again (here: until its replication is reset)."""
import json
import os
import random
import shutil
import subprocess
import tempfile
import unittest

from proc_util import MYSQL_SOCKET, SRC, Crm, backends, main, run


class PruneCheckTest(unittest.TestCase):
    def test_replica_lag_and_temporary_tables_are_probed(self):
        if "mysql" not in backends():
            self.skipTest("needs MariaDB")  # never in CI: CRMH_REQUIRE_MARIADB=1
        crm = Crm("mysql", contacts=50)
        state = crm.name + "_st"
        user = f"crmhp{random.randrange(10**6)}"
        crm.sql(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY 'pw for the prune check'")
        self.addCleanup(lambda: crm.sql(f"DROP USER '{user}'@'localhost'"))
        crm.sql(f"CREATE DATABASE `{state}`")
        self.addCleanup(lambda: crm.sql(f"DROP DATABASE `{state}`"))
        # Enough for a prune with action delete, and nothing more.
        crm.sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{crm.name}`.* TO '{user}'@'localhost'")
        crm.sql(f"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP ON `{state}`.* "
                f"TO '{user}'@'localhost'")
        pw = os.path.join(crm.dir, "pw")
        with open(pw, "w") as f:
            f.write("pw for the prune check\n")
        os.chmod(pw, 0o600)
        path = os.path.join(crm.dir, "prune.yaml")
        with open(path, "w") as f:
            f.write(f"instance_id: prunecheck\nsystem_user: \"{crm.system_user}\"\n"
                    f"database:\n  backend: mysql\n  socket: {MYSQL_SOCKET}\n  user: {user}\n"
                    f"  name: {crm.name}\n  password_file: {pw}\n"
                    f"state:\n  schema: {state}\n  directory: {crm.dir}/state\n"
                    "jobs:\n  stale:\n    kind: prune\n    options:\n      action: delete\n"
                    "      criteria: {inactive_months: 12}\n      max_replica_lag: 10s\n")

        p = run("check", config=path)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("max_replica_lag needs SHOW REPLICA STATUS", p.stderr)
        self.assertIn("REPLICATION CLIENT", p.stderr)

        crm.sql(f"GRANT SLAVE MONITOR ON *.* TO '{user}'@'localhost'")
        p = run("check", config=path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("warning: job 'stale': no CREATE TEMPORARY TABLES", p.stdout)
        j = json.loads(run("check", "--json", config=path, check=0).stdout)
        self.assertEqual(len(j["warnings"]), 1, j)

        crm.sql(f"GRANT CREATE TEMPORARY TABLES ON `{crm.name}`.* TO '{user}'@'localhost'")
        p = run("check", config=path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("warning", p.stdout)


    def test_replica_dsns_hold_the_prune_while_a_replica_is_stopped(self):
        if "mysql" not in backends():
            self.skipTest("needs MariaDB")  # never in CI: CRMH_REQUIRE_MARIADB=1
        script = os.path.join(SRC, "tests", "mariadb.sh")
        d = tempfile.mkdtemp(prefix="crmh_replica_")
        sock = subprocess.run([script, "start", d], capture_output=True, text=True,
                              check=True).stdout.strip()
        self.addCleanup(lambda: shutil.rmtree(d, ignore_errors=True))
        self.addCleanup(lambda: subprocess.run([script, "stop", d]))

        def replica_sql(q):
            subprocess.run(["mariadb", "--no-defaults", f"--socket={sock}", "-uroot", "-e", q],
                           check=True, capture_output=True, text=True)

        # A replica whose replication is configured but not running: Seconds_Behind_Master NULL.
        replica_sql("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=9, "
                    "MASTER_USER='nobody'")
        crm = Crm("mysql", contacts=60)
        body = ("jobs:\n  stale:\n    kind: prune\n    max_rows: 0\n    max_fraction: 0\n"
                "    options:\n      action: delete\n      notice_days: 0\n"
                "      criteria: {inactive_months: 6, never_contacted_months: 6, opted_out: true}\n"
                "      max_replica_lag: 10s\n      throttle_check: 1s\n      max_runtime: 3s\n"
                f"      replica_dsns:\n        - {{socket: {sock}, user: root}}\n")
        path = crm.config(body)
        p = run("check", config=path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        first = json.loads(run("run", "stale", "--json", config=path, check=0).stdout)
        self.assertEqual(first["status"], "ok", first)
        self.assertGreater(first["counts"]["notices_opened"], 0)

        held = json.loads(run("run", "stale", "--json", config=path, check=0).stdout)
        self.assertEqual(held["status"], "ok", held)
        self.assertGreater(held["counts"]["contacts_due"], 0)
        self.assertEqual(held["counts"]["contacts_pruned"], 0, held["counts"])
        self.assertEqual(held["counts"]["stopped"], "max_runtime")
        pacing = held["counts"]["pacing"]
        self.assertGreaterEqual(pacing["throttled"]["replica_stopped"], 2, pacing)
        self.assertEqual(pacing["replicas"], [sock])

        replica_sql("RESET SLAVE ALL")
        done = json.loads(run("run", "stale", "--json", config=path, check=0).stdout)
        self.assertEqual(done["status"], "ok", done)
        self.assertEqual(done["counts"]["contacts_pruned"], held["counts"]["contacts_due"])
        self.assertEqual(done["counts"]["pacing"]["throttled"], {}, done["counts"]["pacing"])

        # A replica that cannot be reached: `check` says so (exit 3), naming it.
        bad = crm.config(body.replace(sock, os.path.join(d, "nothing.sock")), name="bad.yaml")
        p = run("check", config=bad)
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertIn("replica", p.stderr)


if __name__ == "__main__":
    main()
