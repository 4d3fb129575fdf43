"""`check` verifies a digest job's SMTP credential (issue 7): against a real SMTP server on
loopback (aiosmtpd with AUTH), the credential file is read and a real login is made — and no
mail is sent. A wrong password, a missing/empty credential, or smtp_user without a password
source is a configuration error (exit 2) whose message names the file or server, never the
password; a server that does not answer is a warning (exit 0)."""
import json
import os
import socket
import sys
import unittest

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
except ImportError:  # pyenv shims hide Debian's python3-aiosmtpd: use the system interpreter.
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath(
            "/usr/bin/python3") and not os.environ.get("CRMH_SMTP_REEXEC"):
        os.environ["CRMH_SMTP_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise  # no silent skip: the SMTP test needs python3-aiosmtpd (scripts/deps.sh)

from proc_util import Crm, main, run

USER, PASSWORD = "crm-hygiene", "s3cret-Ünïcode pass"

JOB = """jobs:
  digest:
    kind: digest
    options:
      recipients: [team@example.com]
      from: crm-hygiene@example.com
      smtp_url: smtp://127.0.0.1:{port}
      starttls: "off"
{extra}"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sink:
    """Records every AUTH attempt and every message (there must be none)."""

    def __init__(self):
        self.logins = []
        self.messages = []

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        user = auth_data.login.decode() if isinstance(auth_data.login, bytes) else auth_data.login
        pw = auth_data.password.decode() if isinstance(auth_data.password, bytes) else auth_data.password
        self.logins.append((mechanism, user, pw))
        ok = user == USER and pw == PASSWORD
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


class SmtpCheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.crm = Crm("sqlite", contacts=20)

    def setUp(self):
        self.sink = Sink()
        self.port = free_port()
        self.smtp = Controller(self.sink, hostname="127.0.0.1", port=self.port,
                               authenticator=self.sink.authenticate, auth_require_tls=False)
        self.smtp.start()

    def tearDown(self):
        self.smtp.stop()

    def secret(self, name, text, mode=0o600):
        path = os.path.join(self.crm.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def config(self, extra, port=None):
        body = JOB.format(port=port or self.port, extra="".join(f"      {line}\n" for line in extra))
        return self.crm.config(body, name="smtp.yaml")

    def test_good_credential_logs_in_and_sends_nothing(self):
        pw = self.secret("smtp-pw", PASSWORD + "\n")
        path = self.config([f"smtp_user: {USER}", f"smtp_password_file: {pw}"])
        p = run("check", config=path, check=0)
        self.assertIn(f"smtp      job digest: smtp://127.0.0.1:{self.port} password file {pw}; "
                      f"login ok (logged in as {USER})", p.stdout)
        self.assertNotIn("warning", p.stdout)
        self.assertEqual([(u, w) for _, u, w in self.sink.logins], [(USER, PASSWORD)])
        self.assertEqual(self.sink.messages, [])
        rep = json.loads(run("check", "--json", config=path, check=0).stdout)
        self.assertEqual(rep["smtp"], [{"job": "digest", "server": f"smtp://127.0.0.1:{self.port}",
                                        "credential": f"file {pw}", "login": f"ok (logged in as {USER})",
                                        "warnings": []}])
        self.assertNotIn(PASSWORD, p.stdout + p.stderr)

    def test_systemd_credential_is_read_from_the_credentials_directory(self):
        creds = os.path.join(self.crm.dir, "creds")
        os.makedirs(creds, exist_ok=True)
        with open(os.path.join(creds, "smtp-password"), "w") as f:
            f.write(PASSWORD)
        path = self.config([f"smtp_user: {USER}", "smtp_password_credential: smtp-password"])
        env = {k: v for k, v in os.environ.items() if k != "CREDENTIALS_DIRECTORY"}
        p = run("check", config=path, env=env, check=2)
        self.assertIn("CREDENTIALS_DIRECTORY", p.stderr)
        self.assertEqual(self.sink.logins, [])
        p = run("check", config=path, env=dict(env, CREDENTIALS_DIRECTORY=creds), check=0)
        self.assertIn("password credential smtp-password; login ok", p.stdout)
        self.assertEqual([(u, w) for _, u, w in self.sink.logins], [(USER, PASSWORD)])

    def test_wrong_password_is_a_configuration_error(self):
        pw = self.secret("smtp-wrong", "not-the-password")
        path = self.config([f"smtp_user: {USER}", f"smtp_password_file: {pw}"])
        p = run("check", config=path, check=2)
        self.assertIn(f"rejected the login of '{USER}'", p.stderr)
        self.assertIn(pw, p.stderr)
        self.assertNotIn("not-the-password", p.stdout + p.stderr)
        self.assertEqual([(u, w) for _, u, w in self.sink.logins], [(USER, "not-the-password")])
        self.assertEqual(self.sink.messages, [])

    def test_missing_empty_or_absent_credential_fails_before_connecting(self):
        missing = os.path.join(self.crm.dir, "no-such-file")
        cases = [
            ([f"smtp_user: {USER}", f"smtp_password_file: {missing}"], missing),
            ([f"smtp_user: {USER}", f"smtp_password_file: {self.secret('empty', chr(10))}"], "is empty"),
            ([f"smtp_user: {USER}"], "no password source"),
        ]
        for extra, needle in cases:
            with self.subTest(needle):
                p = run("check", config=self.config(extra), check=2)
                self.assertIn(needle, p.stderr)
                self.assertIn("job 'digest'", p.stderr)
        self.assertEqual(self.sink.logins, [])  # never connected to log in

    def test_group_readable_credential_warns(self):
        pw = self.secret("smtp-open", PASSWORD, mode=0o644)
        p = run("check", config=self.config([f"smtp_user: {USER}", f"smtp_password_file: {pw}"]), check=0)
        self.assertIn(f"warning: {pw} is readable by group or others (mode 644): chmod 600 it", p.stdout)

    def test_unreachable_server_is_a_warning(self):
        pw = self.secret("smtp-pw2", PASSWORD)
        closed = free_port()
        path = self.config([f"smtp_user: {USER}", f"smtp_password_file: {pw}"], port=closed)
        p = run("check", config=path, check=0)
        self.assertIn("login unreachable:", p.stdout)
        self.assertIn(f"warning: smtp://127.0.0.1:{closed} did not answer", p.stdout)

    def test_starttls_required_but_not_offered(self):
        pw = self.secret("smtp-pw3", PASSWORD)
        path = self.config([f"smtp_user: {USER}", f"smtp_password_file: {pw}"])
        with open(path) as f:
            text = f.read().replace('starttls: "off"', "starttls: required")
        with open(path, "w") as f:
            f.write(text)
        p = run("check", config=path, check=2)
        self.assertIn("offers no STARTTLS", p.stderr)
        self.assertEqual(self.sink.logins, [])  # no password sent in clear


if __name__ == "__main__":
    main()
