"""Galera does not replicate GET_LOCK: on a (single-node, real) Galera cluster the daemon refuses to
start with exit 2 and a message naming the problem, `check` says the same, and with
`database.galera: allow` it starts. On plain MariaDB the start-up check passes (every other
daemon test runs there)."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from proc_util import BIN, Crm, NotifySocket, main, run

PROVIDER = "/usr/lib/galera/libgalera_smm.so"  # Debian galera-4 (mariadb-server depends on it)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Galera:
    """A one-node Galera cluster: mariadbd with wsrep on, bootstrapped (gcomm://), socket only."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="crmh_galera_")
        self.sock = os.path.join(self.dir, "mysqld.sock")
        data = os.path.join(self.dir, "data")
        subprocess.run(["mariadb-install-db", "--no-defaults", "--user=root", f"--datadir={data}",
                        "--skip-test-db", "--auth-root-authentication-method=socket"],
                       capture_output=True, check=True)
        gcomm = free_port()
        self.proc = subprocess.Popen(
            ["mariadbd", "--no-defaults", "--user=root", f"--datadir={data}", f"--socket={self.sock}",
             "--skip-networking", f"--log-error={self.dir}/error.log", "--skip-log-bin",
             "--binlog-format=ROW", "--innodb-autoinc-lock-mode=2", "--character-set-server=utf8mb4",
             "--collation-server=utf8mb4_unicode_ci", "--wsrep-on=ON", f"--wsrep-provider={PROVIDER}",
             "--wsrep-cluster-address=gcomm://", "--wsrep-node-address=127.0.0.1",
             f"--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:{gcomm}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if subprocess.run(["mariadb-admin", "--no-defaults", f"--socket={self.sock}", "-uroot", "ping"],
                              capture_output=True).returncode == 0:
                return
            time.sleep(0.25)
        raise AssertionError("galera node did not start: " + open(f"{self.dir}/error.log").read()[-2000:])

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class GaleraTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.galera = Galera()

    @classmethod
    def tearDownClass(cls):
        cls.galera.stop()

    def test_refused_unless_allowed(self):
        crm = Crm("mysql", contacts=10, socket=self.galera.sock)
        self.assertEqual(crm.sql("SHOW GLOBAL VARIABLES LIKE 'wsrep_on'"), [["wsrep_on", "ON"]])
        jobs = "jobs:\n  census:\n    kind: audit\n    schedule: daily\n"
        path = crm.config(jobs)
        before = crm.sql("SHOW TABLES")
        p = subprocess.run([BIN, "--config", path, "daemon"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("Galera cluster node (wsrep_on=ON, wsrep_cluster_size=1)", p.stderr)
        self.assertIn("database.galera: allow", p.stderr)
        self.assertEqual(before, crm.sql("SHOW TABLES"), "a refused start changed nothing")
        p = run("check", config=path)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("Galera cluster node", p.stderr)

        allowed = crm.config(jobs, name="allowed.yaml")
        with open(allowed) as f:
            text = f.read().replace("  name: ", "  galera: allow\n  name: ", 1)
        with open(allowed, "w") as f:
            f.write(text)
        self.assertEqual(run("check", config=allowed).returncode, 0)
        notify = NotifySocket(crm.dir)
        env = dict(os.environ, NOTIFY_SOCKET=notify.path)
        proc = subprocess.Popen([BIN, "--config", allowed, "daemon"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        try:
            notify.wait_for("READY", "1", timeout=30)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
            self.assertEqual(proc.returncode, 0, err)
            self.assertIn("database.galera is 'allow'", err)
        finally:
            if proc.poll() is None:
                proc.kill()
            notify.close()


if __name__ == "__main__":
    main()
