"""The digest through the real binary, on SQLite and MariaDB: real audit, standardize and dedup runs,
then `digest --send` into a real SMTP sink on loopback (aiosmtpd). The test parses the MIME with
Python's email module (text part, HTML part, every cid: resolved by an inline PNG, Date, Message-ID,
List-Unsubscribe), checks the headline numbers against its own SQL over the state tables, and
sends to a closed port: retried with backoff, failed in the journal, archived all the same."""
import email
import email.policy
import email.utils
import http.server
import json
import os
import re
import socket
import sys
import threading
import time
import unittest

try:
    from aiosmtpd.controller import Controller
except ImportError:  # pyenv shims hide Debian's python3-aiosmtpd: use the system interpreter.
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath(
            "/usr/bin/python3") and not os.environ.get("CRMH_DIGEST_REEXEC"):
        os.environ["CRMH_DIGEST_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise  # no silent skip: the SMTP test needs python3-aiosmtpd (scripts/deps.sh)

from proc_util import Crm, backends, clear_of, main, next_utc_week_start, run

# A subtest of the digest's week takes seconds; one that began just before Monday 00:00 UTC
# counted its runs in one week and its digest in the next (the test failed then).
WEEK_MARGIN = 180

JOBS = """jobs:
  audit:
    kind: audit
    options:
      mandatory: [first_name, last_name, email, phone, country]
  standardize:
    kind: standardize
    max_rows: 0
    max_fraction: 0
    options:
      rules: [trim_whitespace, lowercase_email, phone_e164]
  dedup:
    kind: dedup
    max_rows: 0
    max_fraction: 0
  digest:
    kind: digest
    schedule: "Mon *-*-* 08:00"
    options:
      week: current
      recipients: [team@example.com, lead@example.com]
      from: crm-hygiene@example.com
      smtp_url: smtp://127.0.0.1:{port}
      starttls: "off"
      retries: {retries}
      retry_backoff: 1s
      list_unsubscribe: "mailto:crm-hygiene@example.com?subject=unsubscribe"
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Saver:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


def counts_sum(crm, kind, key, status_ok=False):
    where = f"kind = '{kind}' AND dry_run = 0" + (" AND status = 'ok'" if status_ok else "")
    total = 0
    for (counts,) in crm.sql(f"SELECT counts FROM crmh_runs WHERE {where}"):
        v = json.loads(counts).get(key, 0)
        total += sum(v.values()) if isinstance(v, dict) else v
    return total


class DigestTest(unittest.TestCase):
    def setUp(self):
        self.saver = Saver()
        self.smtp = Controller(self.saver, hostname="127.0.0.1", port=free_port())
        self.smtp.start()

    def tearDown(self):
        self.smtp.stop()

    def test_digest_mailed_parsed_and_checked(self):
        for backend in backends():
            with self.subTest(backend):
                self.saver.messages.clear()
                # `week: current` (UTC): the runs and the digests below must fall in one week.
                clear_of(next_utc_week_start, WEEK_MARGIN)
                crm = Crm(backend, contacts=600)  # enough for review items
                cfg = crm.config(JOBS.format(port=self.smtp.port, retries=1))
                for job in ("audit", "standardize", "dedup"):
                    rep = json.loads(run("run", job, "--json", config=cfg, check=0).stdout)
                    self.assertEqual(rep["status"], "ok", rep)

                p = run("digest", "--send", "--json", config=cfg, check=0)
                rep = json.loads(p.stdout)
                self.assertEqual(rep["status"], "ok", rep)
                self.assertEqual(rep["counts"]["delivered"], 1)
                self.assertEqual(rep["counts"]["delivery_attempts"], 1)
                week = rep["details"]["week"]
                self.assertRegex(week, r"^\d{4}-W\d{2}$")

                # The headline, against our own SQL over the state tables.
                c = rep["counts"]
                self.assertEqual(c["runs"], int(crm.sql(
                    "SELECT COUNT(*) FROM crmh_runs WHERE dry_run = 0 AND kind <> 'digest' AND "
                    "status NOT IN ('skipped', 'running')")[0][0]))
                self.assertEqual(c["runs"], 3)
                merged = counts_sum(crm, "dedup", "contacts_merged")
                self.assertGreater(merged, 0)
                self.assertEqual(c["contacts_merged"], merged)
                # ... and the ledger agrees: that many contacts soft-deleted by merges.
                self.assertEqual(merged, int(crm.sql(
                    "SELECT COUNT(*) FROM crmh_ledger WHERE table_name = 'contacts' AND op = 'soft_delete' "
                    "AND restored_at IS NULL")[0][0]))
                review_open = int(crm.sql("SELECT COUNT(*) FROM crmh_review WHERE status = 'open'")[0][0])
                self.assertEqual(c["review_open"], review_open)
                self.assertEqual(c["duplicates_found"], counts_sum(crm, "dedup", "clusters_auto", True) +
                                 int(crm.sql("SELECT COUNT(*) FROM crmh_review")[0][0]))
                fields = counts_sum(crm, "standardize", "fields_changed", True)
                self.assertGreater(fields, 0)
                self.assertEqual(c["fields_standardized"], fields)
                self.assertEqual(c["flags_open"], int(crm.sql(
                    "SELECT COUNT(*) FROM crmh_flags WHERE cleared_at IS NULL")[0][0]))
                filled, total = (int(x) for x in crm.sql(
                    "SELECT SUM(filled), SUM(total) FROM crmh_audit_snapshots WHERE field <> ''")[0])
                self.assertAlmostEqual(c["completeness_pct"], round(100.0 * filled / total, 1), places=6)

                # The mail: envelope, headers, structure.
                self.assertEqual(len(self.saver.messages), 1)
                mail_from, rcpts, raw = self.saver.messages[0]
                self.assertEqual(mail_from, "crm-hygiene@example.com")
                self.assertEqual(sorted(rcpts), ["lead@example.com", "team@example.com"])
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                self.assertIn(week, msg["Subject"])
                self.assertEqual(msg["Message-ID"], rep["details"]["message_id"])
                self.assertRegex(msg["Message-ID"], r"^<[^<>@\s]+@example\.com>$")
                sent = email.utils.parsedate_to_datetime(msg["Date"])
                self.assertLess(abs(time.time() - sent.timestamp()), 300)
                self.assertEqual(msg["List-Unsubscribe"], "<mailto:crm-hygiene@example.com?subject=unsubscribe>")
                self.assertEqual(msg.get_content_type(), "multipart/related")
                parts = list(msg.iter_parts())
                self.assertEqual(parts[0].get_content_type(), "multipart/alternative")
                alt = list(parts[0].iter_parts())
                self.assertEqual([p.get_content_type() for p in alt], ["text/plain", "text/html"])
                text, html = alt[0].get_content(), alt[1].get_content()
                self.assertIn(f"contacts merged", text)
                self.assertRegex(text, rf"contacts merged\s+{merged}\s")
                self.assertRegex(text, rf"duplicates waiting for review\s+{review_open}\s")
                images = {p["Content-ID"].strip("<>"): p for p in parts[1:]}
                self.assertGreaterEqual(len(images), 3)
                cids = re.findall(r'src="cid:([^"]+)"', html)
                self.assertEqual(len(cids), 3)
                for cid in cids:
                    self.assertIn(cid, images, f"cid:{cid} has no inline part")
                    part = images[cid]
                    self.assertEqual(part.get_content_type(), "image/png")
                    self.assertEqual(part.get_content_disposition(), "inline")
                    self.assertEqual(part.get_content()[:8], b"\x89PNG\r\n\x1a\n")
                self.assertNotIn("data:image", html)
                # PII: no full email address of a contact in the mail.
                for (addr,) in crm.sql("SELECT email FROM contacts WHERE email IS NOT NULL AND email <> ''"):
                    if "@" not in addr or addr == "crm-hygiene@example.com":
                        continue  # placeholders such as "n/a" are not addresses
                    self.assertNotIn(addr, text)

                # The archive: the same week, charts as data: URIs, no cid:.
                archive = os.path.join(crm.dir, "state", "digests", week + ".html")
                self.assertEqual(rep["details"]["archive"], archive)
                with open(archive, encoding="utf-8") as f:
                    page = f.read()
                self.assertEqual(page.count("data:image/png;base64,"), 3)
                self.assertNotIn("cid:", page)

                # Without --send: archived, not mailed.
                os.remove(archive)
                p = run("digest", config=cfg, check=0)
                self.assertIn(archive, p.stdout)
                self.assertTrue(os.path.exists(archive))
                self.assertEqual(len(self.saver.messages), 1)

    def test_one_mail_per_owner(self):
        """per_owner: besides the team's digest, one mail per owner with something to act on, each to
        that owner only; which owners and their flag counts come from the test's own SQL."""
        for backend in backends():
            with self.subTest(backend):
                self.saver.messages.clear()
                clear_of(next_utc_week_start, WEEK_MARGIN)  # the score's week is the digest's
                crm = Crm(backend, contacts=300)
                cfg = crm.config(JOBS.format(port=self.smtp.port, retries=1) +
                                 "      per_owner: true\n      owners: {lschulz: lena@sales.example}\n"
                                 "  score:\n    kind: score\n    options:\n"
                                 "      mandatory: [first_name, last_name, email, phone]\n")
                for job in ("audit", "standardize", "score"):
                    rep = json.loads(run("run", job, "--json", config=cfg, check=0).stdout)
                    self.assertEqual(rep["status"], "ok", rep)
                rep = json.loads(run("digest", "--send", "--json", config=cfg, check=0).stdout)
                self.assertEqual(rep["status"], "ok", rep)
                week = rep["details"]["week"]
                cast = "CAST(c.id AS CHAR)" if backend == "mysql" else "CAST(c.id AS TEXT)"
                flags = {o: int(n) for o, n in crm.sql(
                    f"SELECT c.owner_id, COUNT(*) FROM crmh_flags f JOIN contacts c ON {cast} = f.contact_id "
                    "WHERE f.cleared_at IS NULL AND c.deleted = 0 AND c.owner_id IS NOT NULL GROUP BY c.owner_id")}
                scored = {o for (o,) in crm.sql(f"SELECT owner FROM crmh_scores WHERE week = '{week}'")}
                owners = set(flags) | scored
                self.assertGreaterEqual(len(owners), 8)
                users = {i: (name, email) for i, name, email in crm.sql("SELECT id, user_name, email FROM users")}
                address = {o: ("lena@sales.example" if users[o][0] == "lschulz" else users[o][1]) for o in owners}
                self.assertEqual(rep["counts"]["owner_digests"], len(owners))
                self.assertEqual(rep["counts"]["owner_mails_delivered"], len(owners))
                self.assertEqual(rep["counts"]["owner_mails_failed"], 0)
                self.assertEqual(rep["counts"]["owners_without_address"], 0)

                team = [m for m in self.saver.messages if "team@example.com" in m[1]]
                self.assertEqual(len(team), 1)
                personal = [m for m in self.saver.messages if "team@example.com" not in m[1]]
                self.assertEqual(len(personal), len(owners))
                got = {}
                for mail_from, rcpts, raw in personal:
                    self.assertEqual(mail_from, "crm-hygiene@example.com")
                    self.assertEqual(len(rcpts), 1)  # to that owner only
                    msg = email.message_from_bytes(raw, policy=email.policy.default)
                    self.assertEqual(msg["To"], rcpts[0])
                    alt = list(list(msg.iter_parts())[0].iter_parts())
                    self.assertEqual([p.get_content_type() for p in alt], ["text/plain", "text/html"])
                    got[rcpts[0]] = (msg["Subject"], alt[0].get_content(), alt[1].get_content())
                self.assertEqual(set(got), set(address.values()))
                for o in owners:
                    subject, text, html = got[address[o]]
                    self.assertIn(f"{week} for {users[o][0]}", subject)
                    self.assertIn(f"{flags.get(o, 0)} flag(s) to fix", subject)
                    self.assertIn(f"VALIDATION FLAGS TO FIX ({flags.get(o, 0)})", text)
                    self.assertIn("Your score", html)
                    self.assertNotIn("cid:", html)
                # Archived too, one file per owner.
                archived = os.listdir(os.path.join(crm.dir, "state", "digests", "owners", week))
                self.assertEqual(len([f for f in archived if f.endswith(".html")]), len(owners))

    def test_failed_delivery_is_retried_journaled_and_archived(self):
        for backend in backends():
            with self.subTest(backend):
                crm = Crm(backend, contacts=60)
                closed = free_port()  # nothing listens there
                cfg = crm.config(JOBS.format(port=closed, retries=2))
                run("run", "audit", config=cfg, check=0)
                started = time.monotonic()
                p = run("digest", "--send", "--json", config=cfg, check=1)
                took = time.monotonic() - started
                rep = json.loads(p.stdout)
                self.assertEqual(rep["status"], "failed")
                self.assertEqual(rep["counts"]["delivery_attempts"], 3)
                self.assertEqual(rep["counts"]["delivery_failed"], 1)
                self.assertEqual(rep["counts"]["delivered"], 0)
                self.assertGreaterEqual(took, 3.0)  # backoff 1s, then 2s
                self.assertIn("archived at", rep["message"])
                # The journal has it, with its counts.
                journal = [r for r in crm.runs(cfg) if r["run_id"] == rep["run_id"]]
                self.assertEqual(len(journal), 1)
                self.assertEqual(journal[0]["status"], "failed")
                self.assertEqual(journal[0]["counts"]["delivery_attempts"], 3)
                self.assertEqual(journal[0]["counts"]["delivery_failed"], 1)
                row = crm.sql(f"SELECT status, counts FROM crmh_runs WHERE run_id = '{rep['run_id']}'")
                self.assertEqual(row[0][0], "failed")
                self.assertEqual(json.loads(row[0][1])["delivery_failed"], 1)
                archive = rep["details"]["archive"]
                self.assertTrue(os.path.exists(archive), archive)

                # --send without mail settings is a usage error, and changes nothing.
                bare = crm.config("jobs:\n  audit:\n    kind: audit\n", name="bare.yaml")
                before = crm.sql("SELECT COUNT(*) FROM crmh_runs")
                p = run("digest", "--send", config=bare)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("recipients", p.stderr)
                self.assertEqual(crm.sql("SELECT COUNT(*) FROM crmh_runs"), before)

    def test_webhook_posts_a_slack_summary_and_failures_are_journaled(self):
        received, answer = [], [200]

        class Hook(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, self.headers["Content-Type"], body))
                self.send_response(answer[0])
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            for backend in backends():
                with self.subTest(backend):
                    received.clear()
                    answer[0] = 200
                    crm = Crm(backend, contacts=60)
                    hook = f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/s3cr3t"
                    cfg = crm.config("jobs:\n  audit:\n    kind: audit\n  digest:\n    kind: digest\n"
                                     "    options:\n      week: current\n      retries: 1\n"
                                     f"      retry_backoff: 1s\n      webhook_url: {hook}\n")
                    run("run", "audit", config=cfg, check=0)
                    rep = json.loads(run("digest", "--send", "--json", config=cfg, check=0).stdout)
                    self.assertEqual(rep["counts"]["webhook_delivered"], 1)
                    self.assertEqual(len(received), 1)
                    path, ctype, body = received[0]
                    self.assertEqual(path, "/services/T0/B0/s3cr3t")
                    self.assertEqual(ctype, "application/json")
                    text = json.loads(body)["text"]
                    self.assertIn(rep["details"]["week"], text)
                    self.assertIn(f"{rep['counts']['runs']} run(s)", text)
                    self.assertIn(rep["details"]["archive"], text)

                    answer[0] = 500  # the hook is down: retried, failed, journaled, no secret leaked
                    p = run("digest", "--send", "--json", config=cfg, check=1)
                    rep = json.loads(p.stdout)
                    self.assertEqual(rep["counts"]["webhook_attempts"], 2)
                    self.assertEqual(rep["counts"]["webhook_failed"], 1)
                    self.assertIn("HTTP 500", rep["message"])
                    self.assertNotIn("s3cr3t", rep["message"] + p.stderr)
                    row = crm.sql(f"SELECT status FROM crmh_runs WHERE run_id = '{rep['run_id']}'")
                    self.assertEqual(row, [["failed"]])
                    self.assertTrue(os.path.exists(rep["details"]["archive"]))
        finally:
            server.shutdown()
            server.server_close()

    def test_demo_ends_with_the_digest(self):
        d = os.path.join(Crm("sqlite", contacts=5).dir, "demo")
        p = run("demo", "--dir", d, "--contacts", "300", check=0, timeout=300)
        last = p.stdout.strip().splitlines()[-1]
        self.assertIn("weekly digest", last)
        path = last.split()[2]
        self.assertTrue(path.endswith(".html") and os.path.exists(path), p.stdout)
        with open(path, encoding="utf-8") as f:
            self.assertIn("Headline", f.read())


if __name__ == "__main__":
    main()
