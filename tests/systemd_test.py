"""The unit file, checked by systemd's own tooling: `systemd-analyze verify` on a copy whose
ExecStart points at the built binary, and `systemd-analyze security --offline=yes` ≤ 2.0."""
import os
import re
import subprocess
import tempfile
import unittest

from proc_util import BIN, SRC, main

UNIT = os.path.join(SRC, "systemd", "crm-hygiene.service")


class SystemdUnitTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="crmh_unit_")
        text = open(UNIT).read().replace("/usr/bin/crm-hygiene", BIN)
        self.copy = os.path.join(self.dir, "crm-hygiene.service")
        with open(self.copy, "w") as f:
            f.write(text)

    def test_required_settings(self):
        text = open(UNIT).read()
        for line in ["Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
                     "RestartSec=30", "DynamicUser=yes", "StateDirectory=crm-hygiene",
                     "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes",
                     "NoNewPrivileges=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                     "SystemCallFilter=@system-service"]:
            self.assertIn(line + "\n", text)
        self.assertRegex(text, r"\nWatchdogSec=\d+")
        self.assertRegex(text, r"\nLoadCredential=db-password:")

    def test_verify(self):
        p = subprocess.run(["systemd-analyze", "verify", self.copy], capture_output=True, text=True,
                           cwd=self.dir)
        self.assertEqual(p.returncode, 0, p.stderr)
        # verify prints warnings without failing; a clean unit prints none about itself.
        self.assertNotIn("crm-hygiene.service:", p.stderr)

    def test_security_exposure(self):
        p = subprocess.run(["systemd-analyze", "security", "--offline=yes", self.copy],
                           capture_output=True, text=True, cwd=self.dir)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout)
        self.assertIsNotNone(m, p.stdout + p.stderr)
        print(f"exposure: {m.group(1)}")
        self.assertLessEqual(float(m.group(1)), 2.0)

    def test_cmake_install_puts_binary_unit_and_config_in_place(self):
        prefix = os.path.join(self.dir, "prefix")
        p = subprocess.run(["cmake", "--install", os.path.dirname(BIN), "--prefix", prefix],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        for rel in ["bin/crm-hygiene", "lib/systemd/system/crm-hygiene.service",
                    "etc/crm-hygiene/crm-hygiene.example.yaml"]:
            self.assertTrue(os.path.isfile(os.path.join(prefix, rel)), rel)
        self.assertTrue(os.access(os.path.join(prefix, "bin/crm-hygiene"), os.X_OK))


if __name__ == "__main__":
    main()
