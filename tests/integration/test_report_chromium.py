"""The founding page in a real browser: headless Chromium (Debian's chromium) opens the page
`run --format html` writes for each founding client, offline, and the rendered DOM must hold
the sequence diagram — the steps in the order the client took them, the certificate prompt for
contoso.com standing out — and a screenshot of it must come out. `report --format html` uses
the same renderer (test_report.py checks its page's text). `check --html`'s index, rendered,
links every walk with its verdict, and the founding walk it links to has the same diagram."""
import os
import shutil
import subprocess
import tempfile
import unittest
from html.parser import HTMLParser

from labharness import AD_BIN, SKIP, run, scenario, main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Diagram(HTMLParser):
    """The diagram's elements as the browser's DOM has them."""

    def __init__(self):
        super().__init__()
        self.steps, self.prompts, self.lifelines = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "g" and "step" in classes:
            self.steps.append((a["data-step"], a["data-host"], a["data-result"]))
        elif tag == "g" and "prompt" in classes:
            self.prompts.append((a["data-kind"], a["data-host"], a["data-reason"]))
        elif tag == "g" and "lifeline" in classes:
            self.lifelines.append((a["data-lifeline"], a["data-key"]))


def chromium(*args, user_data):
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-background-networking", "--disable-component-update",
                           "--disable-sync", "--no-first-run", f"--user-data-dir={user_data}",
                           *args], capture_output=True, text=True, timeout=120)


class ChromiumTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="autodisco-chromium-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_founding_page_renders_the_diagram(self):
        pages = os.path.join(self.tmp, "pages")
        os.mkdir(pages)
        r = run([AD_BIN, "--ca-dir", os.path.join(self.tmp, "ca"), "run",
                 scenario("scenarios/founding/expired-root-cert.yaml"), "--format", "html",
                 "--out", pages])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(os.listdir(pages)), ["expired-root-cert.mso-xdscli.html",
                                                     "expired-root-cert.outlook-2016-msi.html"])
        page = os.path.join(pages, "expired-root-cert.outlook-2016-msi.html")
        dom = chromium("--dump-dom", "file://" + page, user_data=os.path.join(self.tmp, "u1"))
        self.assertEqual(dom.returncode, 0, dom.stderr[-2000:])
        d = Diagram()
        d.feed(dom.stdout)
        self.assertEqual([s[0] for s in d.steps],
                         ["last-known-good", "scp", "https-root", "https-autodiscover"])
        self.assertEqual(d.steps[2], ("https-root", "contoso.com", "not-autodiscover"))
        self.assertEqual(d.steps[3], ("https-autodiscover", "autodiscover.contoso.com",
                                      "settings"))
        self.assertEqual(d.prompts, [("certificate", "contoso.com", "expired")])
        self.assertEqual(d.lifelines[:2], [("client", "client"), ("dns", "dns")])
        self.assertEqual({key for kind, key in d.lifelines if kind == "host"}, {"www", "exchange"})
        shot = os.path.join(self.tmp, "page.png")
        s = chromium("--window-size=1200,1400", f"--screenshot={shot}", "file://" + page,
                     user_data=os.path.join(self.tmp, "u2"))
        self.assertEqual(s.returncode, 0, s.stderr[-2000:])
        with open(shot, "rb") as f:
            png = f.read()
        self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10000)

    def test_check_html_index_links_the_walks(self):
        out = os.path.join(self.tmp, "check")
        r = run([AD_BIN, "--ca-dir", os.path.join(self.tmp, "ca"), "check",
                 scenario("scenarios/founding"), "--html", out, "--jobs", "2"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        dom = chromium("--dump-dom", "file://" + os.path.join(out, "index.html"),
                       user_data=os.path.join(self.tmp, "u3"))
        self.assertEqual(dom.returncode, 0, dom.stderr[-2000:])
        index = Index()
        index.feed(dom.stdout)
        self.assertEqual(len(index.rows), 6)  # three founding files x two clients
        self.assertTrue(all(v == "PASS" for _, _, v, _ in index.rows), index.rows)
        self.assertEqual(sorted(index.links), sorted(page for *_, page in index.rows))
        expired = [row for row in index.rows
                   if row[0].endswith("expired-root-cert.yaml") and row[1] == "outlook-2016-msi"]
        self.assertEqual(len(expired), 1)
        # the link leads to the founding walk's page: the browser renders its diagram
        page = os.path.join(out, expired[0][3])
        dom = chromium("--dump-dom", "file://" + page, user_data=os.path.join(self.tmp, "u4"))
        d = Diagram()
        d.feed(dom.stdout)
        self.assertEqual([s[0] for s in d.steps],
                         ["last-known-good", "scp", "https-root", "https-autodiscover"])
        self.assertEqual(d.prompts, [("certificate", "contoso.com", "expired")])


class Index(HTMLParser):
    """The rows and links of check --html's index as the browser's DOM has them."""

    def __init__(self):
        super().__init__()
        self.rows, self.links = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "row" in (a.get("class") or "").split():
            self.rows.append((a["data-scenario"], a["data-client"], a["data-verdict"],
                              a["data-page"]))
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])


if __name__ == "__main__":
    if CHROMIUM is None:
        print("SKIP: chromium is not installed (scripts/install-deps --with-tests installs it)")
        raise SystemExit(SKIP)
    main()
