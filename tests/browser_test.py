"""The archived digest in a real browser (Debian `chromium`, headless): real audit, standardize,
dedup, score and digest runs on a demo CRM; the archived HTML is screenshotted (the PNG is kept under
the build directory: <build>/artifacts/digest-screenshot.png) and every <img> is checked as the
browser decoded it — complete, with the natural size of the PNG the test reads itself from the
data: URI. A copy with a deliberately broken image must be caught (the check can fail). The same
page is also loaded through the daemon's /digest/latest."""
import base64
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest
import zlib

from proc_util import BIN, Crm, main, run

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = os.path.join(os.path.dirname(BIN), "artifacts")
MARK = ('<script>addEventListener("load", () => document.body.setAttribute("data-imgs", JSON.stringify('
        '[...document.images].map(i => ({src: i.getAttribute("src").slice(0, 40), complete: i.complete, '
        'w: i.naturalWidth, h: i.naturalHeight})))));</script>')


def chromium(*args, timeout=180):
    profile = tempfile.mkdtemp(prefix="crmh_chromium_")
    try:
        p = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--no-first-run", f"--user-data-dir={profile}", *args],
                           capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return p


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    return struct.unpack(">II", data[16:24])


def png_distinct_bytes(data):
    """Distinct byte values in the decompressed pixel rows: a blank page has very few."""
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    return len(set(zlib.decompress(idat)))


def images_as_loaded(html_path, workdir):
    """[{src, complete, w, h}] for every <img> of the page, as Chromium decoded them."""
    with open(html_path, encoding="utf-8") as f:
        page = f.read()
    probe = os.path.join(workdir, "probe-" + os.path.basename(html_path))
    with open(probe, "w", encoding="utf-8") as f:
        f.write(page.replace("</body>", MARK + "</body>"))
    p = chromium("--virtual-time-budget=10000", "--dump-dom", "file://" + probe)
    m = re.search(r'data-imgs="([^"]*)"', p.stdout)
    assert m, f"no data-imgs in the DOM dump\nstderr: {p.stderr[-2000:]}"
    return json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BrowserTest(unittest.TestCase):
    def test_digest_renders_with_no_broken_image(self):
        self.assertTrue(os.access(CHROMIUM, os.X_OK), "chromium is not installed (scripts/deps.sh)")
        os.makedirs(ARTIFACTS, exist_ok=True)
        crm = Crm("sqlite", contacts=400)
        port = free_port()
        cfg = crm.config(
            f"http:\n  listen: 127.0.0.1:{port}\n"
            "jobs:\n"
            "  audit:\n    kind: audit\n    options:\n      mandatory: [first_name, last_name, email, phone, country]\n"
            "  standardize:\n    kind: standardize\n    max_rows: 0\n    max_fraction: 0\n"
            "  dedup:\n    kind: dedup\n    max_rows: 0\n    max_fraction: 0\n"
            "  score:\n    kind: score\n    options:\n      mandatory: [first_name, last_name, email, phone]\n"
            "  digest:\n    kind: digest\n    options:\n      week: current\n      per_owner: true\n")
        for job in ("audit", "standardize", "dedup", "score"):
            self.assertEqual(json.loads(run("run", job, "--json", config=cfg, check=0).stdout)["status"], "ok")
        rep = json.loads(run("digest", "--json", config=cfg, check=0).stdout)
        self.assertEqual(rep["status"], "ok", rep)
        archive = rep["details"]["archive"]
        with open(archive, encoding="utf-8") as f:
            page = f.read()

        # The PNGs the page embeds, read here from their data: URIs.
        embedded = [base64.b64decode(b) for b in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]
        self.assertEqual(len(embedded), 3)
        self.assertEqual(len(re.findall(r"<img\b", page)), 3)
        sizes = [png_size(p) for p in embedded]

        # 1. Every image as the browser decoded it: complete, with the PNG's own size.
        work = tempfile.mkdtemp(prefix="crmh_browser_")
        loaded = images_as_loaded(archive, work)
        self.assertEqual(len(loaded), 3, loaded)
        for img, (w, h) in zip(loaded, sizes):
            self.assertTrue(img["complete"], img)
            self.assertEqual((img["w"], img["h"]), (w, h), img)
            self.assertGreater(w, 100)

        # 2. The check can fail: a copy with one broken image is caught.
        broken = os.path.join(work, "broken.html")
        with open(broken, "w", encoding="utf-8") as f:
            f.write(page.replace("</h1>", '</h1><img src="data:image/png;base64,iVBORw0KGgoAAAAA" alt="broken">', 1))
        bad = [i for i in images_as_loaded(broken, work) if i["w"] == 0]
        self.assertEqual(len(bad), 1)

        # 3. The screenshot, kept under the build directory.
        shot = os.path.join(ARTIFACTS, "digest-screenshot.png")
        if os.path.exists(shot):
            os.remove(shot)
        p = chromium("--hide-scrollbars", "--window-size=900,2400", f"--screenshot={shot}", "file://" + archive)
        self.assertTrue(os.path.exists(shot), p.stderr[-2000:])
        with open(shot, "rb") as f:
            data = f.read()
        self.assertEqual(png_size(data), (900, 2400))
        self.assertGreater(png_distinct_bytes(data), 50)  # text, tables and charts, not a blank page

        # 4. The same page through the daemon's /digest/latest.
        log = open(os.path.join(crm.dir, "daemon.log"), "w")
        proc = subprocess.Popen([BIN, "--config", cfg, "daemon"], stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            served = os.path.join(ARTIFACTS, "digest-latest-screenshot.png")
            if os.path.exists(served):
                os.remove(served)
            p = chromium("--hide-scrollbars", "--window-size=900,2400", f"--screenshot={served}",
                         f"http://127.0.0.1:{port}/digest/latest")
            self.assertTrue(os.path.exists(served), p.stderr[-2000:])
            with open(served, "rb") as f:
                self.assertEqual(png_size(f.read()), (900, 2400))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
