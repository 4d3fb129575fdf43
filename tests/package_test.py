"""The .deb: `cpack` on this build, then — as root on a machine where crm-hygiene is not installed
(CI) — `dpkg -i`, `systemd-analyze verify` of the installed unit, the installed binary's `check`
on a config in /etc/crm-hygiene, `dpkg -r` (the conffile stays) and `dpkg -P` (it goes).
Elsewhere the package is unpacked into a throwaway root with `dpkg-deb -x` and the same
checks run there."""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from proc_util import BIN, FIXTURE, main

BUILD = os.path.dirname(BIN)
EXPECTED = ["./usr/bin/crm-hygiene", "./usr/lib/systemd/system/crm-hygiene.service",
            "./etc/crm-hygiene/crm-hygiene.example.yaml", "./usr/share/doc/crm-hygiene/alerts.yml",
            "./usr/share/doc/crm-hygiene/README.md", "./usr/share/doc/crm-hygiene/docs/operations.md",
            "./usr/share/doc/crm-hygiene/docs/config.md"]
CONFFILE = "/etc/crm-hygiene/crm-hygiene.example.yaml"


def sh(*cmd, check=True, **kw):
    p = subprocess.run(list(cmd), capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def dpkg(*args):
    """dpkg, waiting (up to 2 min) for another dpkg run to release its lock."""
    deadline = time.monotonic() + 120
    while True:
        p = sh("dpkg", *args, check=False)
        if p.returncode == 0 or "lock" not in p.stderr or time.monotonic() > deadline:
            return p
        time.sleep(2)


def installed():
    p = sh("dpkg-query", "-W", "-f=${Status}", "crm-hygiene", check=False)
    return p.returncode == 0 and "installed" in p.stdout and "not-installed" not in p.stdout


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="crmh_pkg_")
        sh("cpack", "-G", "DEB", "--config", os.path.join(BUILD, "CPackConfig.cmake"), "-B", cls.dir)
        debs = [f for f in os.listdir(cls.dir) if f.endswith(".deb")]
        assert len(debs) == 1, debs
        cls.deb = os.path.join(cls.dir, debs[0])

    def test_contents_and_metadata(self):
        listing = sh("dpkg-deb", "-c", self.deb).stdout
        paths = [line.split()[-1] for line in listing.splitlines()]
        for want in EXPECTED:
            self.assertIn(want, paths)
        self.assertFalse([p for p in paths if p.startswith("./usr/etc")], paths)
        self.assertEqual(sh("dpkg-deb", "-f", self.deb, "Package").stdout.strip(), "crm-hygiene")
        depends = sh("dpkg-deb", "-f", self.deb, "Depends").stdout
        for lib in ("libsoci-core", "libmariadb3", "libyaml-cpp", "libsystemd0"):
            self.assertIn(lib, depends)
        control = os.path.join(self.dir, "control")
        sh("dpkg-deb", "-e", self.deb, control)
        with open(os.path.join(control, "conffiles")) as f:
            self.assertEqual(f.read().split(), [CONFFILE])
        # No maintainer scripts: installing never starts an unconfigured daemon.
        self.assertFalse({"postinst", "preinst", "prerm", "postrm"} & set(os.listdir(control)))

    def verify_tree(self, root):
        """The unit as installed under `root` passes systemd-analyze verify; the binary runs."""
        unit = os.path.join(root, "usr/lib/systemd/system/crm-hygiene.service")
        binary = os.path.join(root, "usr/bin/crm-hygiene")
        self.assertTrue(os.access(binary, os.X_OK))
        if root != "/":
            # verify resolves ExecStart= on the live system: point it into the throwaway root.
            text = open(unit).read().replace("/usr/bin/crm-hygiene", binary)
            unit = os.path.join(self.dir, "crm-hygiene.service")
            with open(unit, "w") as f:
                f.write(text)
        p = sh("systemd-analyze", "verify", unit, check=False, cwd=self.dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("crm-hygiene.service:", p.stderr)
        # The installed binary validates the installed example once it points at a database.
        db = os.path.join(self.dir, "crm.db")
        sh(FIXTURE, "sqlite", db, "5")
        with open(os.path.join(root, CONFFILE.lstrip("/"))) as f:
            example = f.read()
        self.assertIn("password_credential: db-password", example)
        cfg = os.path.join(self.dir, "crm-hygiene.yaml")
        with open(cfg, "w") as f:
            f.write(f"database:\n  backend: sqlite\n  path: {db}\nstate:\n  directory: {self.dir}/state\n")
        p = sh(binary, "--config", cfg, "check", check=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_install_verify_remove(self):
        if os.geteuid() == 0 and not installed():
            p = dpkg("-i", self.deb)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            try:
                self.assertTrue(installed())
                self.verify_tree("/")
                self.assertIn(CONFFILE, sh("dpkg-query", "-L", "crm-hygiene").stdout)
            finally:
                removed = dpkg("-r", "crm-hygiene")
            self.assertEqual(removed.returncode, 0, removed.stderr)
            self.assertFalse(os.path.exists("/usr/bin/crm-hygiene"))
            self.assertFalse(os.path.exists("/usr/lib/systemd/system/crm-hygiene.service"))
            self.assertTrue(os.path.exists(CONFFILE), "dpkg -r keeps conffiles")
            purged = dpkg("-P", "crm-hygiene")
            self.assertEqual(purged.returncode, 0, purged.stderr)
            self.assertFalse(os.path.exists(CONFFILE), "dpkg -P removes conffiles")
            print("installed with dpkg -i, removed and purged")
        else:
            root = os.path.join(self.dir, "root")
            sh("dpkg-deb", "-x", self.deb, root)
            self.verify_tree(root)
            print("not root or already installed: checked an unpacked tree (dpkg-deb -x)")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
