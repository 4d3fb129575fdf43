"""`check` probes what a prune job needs from the server (issue 5), as a MariaDB user that lacks
it: with max_replica_lag, SHOW REPLICA STATUS (REPLICATION CLIENT / SLAVE MONITOR) — exit 2
without it; CREATE TEMPORARY TABLES on the CRM database — a warning without it (the engine falls
back to CASE lists), none once granted."""
import json
import os
import random
import unittest

from proc_util import MYSQL_SOCKET, Crm, backends, main, run


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


if __name__ == "__main__":
    main()
