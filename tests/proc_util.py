"""Shared helpers for the process tests: run the real binary against real databases."""
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BIN, FIXTURE, SRC = (os.path.abspath(a) for a in sys.argv[1:4])
MYSQL_SOCKET = os.environ.get("CRMH_TEST_MYSQL_SOCKET", "")
REQUIRE_MARIADB = os.environ.get("CRMH_REQUIRE_MARIADB") == "1"


def run(*args, config=None, env=None, check=None, timeout=120):
    cmd = [BIN] + (["--config", config] if config else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if check is not None and p.returncode != check:
        raise AssertionError(f"{cmd} exited {p.returncode}, wanted {check}\nstdout:{p.stdout}\nstderr:{p.stderr}")
    return p


def next_utc_midnight(t):
    """The first UTC midnight after the aware datetime t."""
    from datetime import timedelta, timezone
    t = t.astimezone(timezone.utc)
    return t.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def next_utc_week_start(t):
    """The first Monday 00:00 UTC (an ISO week's start) after the aware datetime t."""
    from datetime import timedelta
    midnight = next_utc_midnight(t)
    return midnight + timedelta(days=(7 - midnight.weekday()) % 7)


def clear_of(boundary, margin):
    """Waits, if need be, until the next boundary(now) (a UTC instant: a midnight, a week's start)
    is more than `margin` seconds away, so that a test shorter than that sees one day or week
    throughout. Returns the seconds waited (0 but within `margin` of a boundary)."""
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc)
    left = (boundary(now) - now).total_seconds()
    if left > margin:
        return 0.0
    print(f"waiting {left + 1:.0f}s for the boundary at {boundary(now).isoformat()} to pass", flush=True)
    time.sleep(left + 1)
    return left + 1


def backends():
    """sqlite always; mariadb when the harness started one (and required by CI)."""
    out = ["sqlite"]
    if MYSQL_SOCKET:
        out.append("mysql")
    elif REQUIRE_MARIADB:
        raise AssertionError("CRMH_REQUIRE_MARIADB=1 but CRMH_TEST_MYSQL_SOCKET is not set")
    return out


class Crm:
    """A demo CRM in a fresh SQLite file or MariaDB database, and a config file for it."""

    def __init__(self, backend, contacts=200, socket=None):
        self.backend = backend
        self.socket = socket or MYSQL_SOCKET  # a test may bring its own MariaDB
        self.dir = tempfile.mkdtemp(prefix="crmh_proc_")
        if backend == "sqlite":
            self.path = os.path.join(self.dir, "crm.db")
            out = subprocess.run([FIXTURE, "sqlite", self.path, str(contacts)], capture_output=True,
                                 text=True, check=True)
            self.db_yaml = f"database:\n  backend: sqlite\n  path: {self.path}\n"
        else:
            self.name = f"crmh_p{os.getpid()}_{random.randrange(10**9)}"
            out = subprocess.run([FIXTURE, "mysql", self.socket, self.name, str(contacts)],
                                 capture_output=True, text=True, check=True)
            self.db_yaml = (f"database:\n  backend: mysql\n  socket: {self.socket}\n  user: root\n"
                            f"  name: {self.name}\n")
        self.system_user = out.stdout.strip()

    def config(self, body, name="crm.yaml", instance="test-a"):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(f"instance_id: {instance}\nsystem_user: \"{self.system_user}\"\n")
            f.write(self.db_yaml)
            f.write(f"state:\n  directory: {self.dir}/state\n")
            f.write(body)
        return path

    def sql(self, query):
        """Runs a query with the command-line client; returns rows as tab-separated lists."""
        if self.backend == "sqlite":
            p = subprocess.run(["sqlite3", "-separator", "\t", self.path, query], capture_output=True,
                               text=True, check=True)
        else:
            p = subprocess.run(["mariadb", "--no-defaults", f"--socket={self.socket}", "-uroot", "-N", "-B",
                                self.name, "-e", query], capture_output=True, text=True, check=True)
        return [line.split("\t") for line in p.stdout.splitlines() if line]

    def runs(self, config):
        return json.loads(run("runs", "--json", "--limit", "10000", config=config, check=0).stdout)


class NotifySocket:
    """The NOTIFY_SOCKET a service manager would own: collects sd_notify datagrams with times."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []  # (monotonic time, {key: value})

    def poll(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096).decode()
        except socket.timeout:
            return None
        kv = dict(line.split("=", 1) for line in data.splitlines() if "=" in line)
        self.messages.append((time.monotonic(), kv))
        return kv

    def wait_for(self, key, value=None, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            kv = self.poll(max(0.01, deadline - time.monotonic()))
            if kv and key in kv and (value is None or kv[key] == value):
                return kv
        raise AssertionError(f"no {key}={value} within {timeout}s; got {[m for _, m in self.messages][-10:]}")

    def close(self):
        self.sock.close()


def main():
    unittest.main(argv=[sys.argv[0], "-v"])
