"""docs/operations.md's least-privilege GRANT statements are enough, run verbatim (names adapted)
against the test MariaDB: as that user `check` passes, standardize, dedup, restore and retention
runs succeed, and the daemon starts (lock safety probe included). And they are not more than
needed for the writes: without the contacts write grant `check` refuses (exit 2)."""
import json
import os
import random
import re
import signal
import subprocess
import unittest

from proc_util import BIN, MYSQL_SOCKET, SRC, Crm, NotifySocket, backends, main, run

DOC = os.path.join(SRC, "docs", "operations.md")


def documented_grants():
    with open(DOC) as f:
        text = f.read()
    block = text[text.index("<!-- grants:begin"):text.index("<!-- grants:end")]
    sql = block[block.index("```sql") + len("```sql"):block.rindex("```")]
    statements = [s.strip() for s in re.sub(r"--[^\n]*", "", sql).split(";") if s.strip()]
    assert statements[0].startswith("CREATE USER"), statements
    return statements


class GrantsTest(unittest.TestCase):
    def test_documented_grants_run_every_job(self):
        if "mysql" not in backends():
            self.skipTest("needs MariaDB")  # never in CI: CRMH_REQUIRE_MARIADB=1
        crm = Crm("mysql", contacts=150)
        state = crm.name + "_st"
        user = f"crmh{random.randrange(10**6)}"
        password = "a long random password"
        adapted = []
        for s in documented_grants():
            s = s.replace("'crm_hygiene'@'10.0.0.%'", f"'{user}'@'localhost'")
            s = s.replace("`crm_hygiene`", f"`{state}`").replace("`crm`", f"`{crm.name}`")
            adapted.append(s)
        for s in adapted:
            crm.sql(s)
        self.addCleanup(lambda: crm.sql(f"DROP USER '{user}'@'localhost'"))
        pw = os.path.join(crm.dir, "pw")
        with open(pw, "w") as f:
            f.write(password + "\n")
        os.chmod(pw, 0o600)

        def config(jobs, name):
            path = os.path.join(crm.dir, name)
            with open(path, "w") as f:
                f.write(f"instance_id: grants\nsystem_user: \"{crm.system_user}\"\n"
                        f"database:\n  backend: mysql\n  socket: {MYSQL_SOCKET}\n  user: {user}\n"
                        f"  name: {crm.name}\n  password_file: {pw}\n"
                        f"state:\n  schema: {state}\n  directory: {crm.dir}/state\n" + jobs)
            return path

        jobs = ("jobs:\n"
                "  tidy:\n    kind: standardize\n    max_rows: 0\n    max_fraction: 0\n"
                "    options:\n      rules: [trim_whitespace, lowercase_email, phone_e164, country_canonical, name_case]\n"
                "  dedupe:\n    kind: dedup\n    max_rows: 0\n    max_fraction: 0\n"
                "  census:\n    kind: audit\n    schedule: daily\n"
                "  purge:\n    kind: retention\n")
        path = config(jobs, "least.yaml")
        p = run("check", config=path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        tidy = json.loads(run("run", "tidy", "--json", config=path, check=0).stdout)
        self.assertEqual(tidy["status"], "ok", tidy)
        self.assertGreater(tidy["counts"]["rows_changed"], 0)
        dedupe = json.loads(run("run", "dedupe", "--json", config=path, check=0).stdout)
        self.assertEqual(dedupe["status"], "ok", dedupe)
        self.assertGreater(dedupe["counts"]["contacts_merged"], 0)
        run("restore", dedupe["run_id"], config=path, check=0)
        run("restore", tidy["run_id"], config=path, check=0)
        for job in ("census", "purge"):
            rep = json.loads(run("run", job, "--json", config=path, check=0).stdout)
            self.assertEqual(rep["status"], "ok", rep)
        notify = NotifySocket(crm.dir)
        proc = subprocess.Popen([BIN, "--config", path, "daemon"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, NOTIFY_SOCKET=notify.path))
        try:
            notify.wait_for("READY", "1", timeout=30)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
            self.assertEqual(proc.returncode, 0, err)
        finally:
            if proc.poll() is None:
                proc.kill()
            notify.close()

        # The write grant is what `check` probes for a destructive job: without it, exit 2.
        crm.sql(f"REVOKE INSERT, UPDATE, DELETE ON `{crm.name}`.`contacts` FROM '{user}'@'localhost'")
        p = run("check", config=path)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("no grant to UPDATE contacts", p.stderr)


if __name__ == "__main__":
    main()
