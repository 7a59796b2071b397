"""`report`, `check --journal` and `diff` with journals, on what real clients did against
`autodisco serve` on the three founding scenarios: curl walking the Autodiscover URLs in the
mso-xdscli order (its names resolved through the lab's DNS, then --resolve and --cacert),
python3-exchangelib's own autodiscover (tests/integration/exchangelab.py), and openssl
s_client. The journal must become the client's steps in order, the refused certificate a
prompt, and the founding expectations of mso-xdscli — whose rules both follow — must hold."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import dns.resolver
from exchangelib import Credentials
from exchangelib.autodiscover.discovery.pox import PoxAutodiscovery

from exchangelab import LabNetwork
from labharness import AD_BIN, Lab, run, scenario, main

EXPIRED = "scenarios/founding/expired-root-cert.yaml"
REMOVED = "scenarios/founding/fix-remove-root-record.yaml"
RENEWED = "scenarios/founding/fix-renew-root-cert.yaml"
EWS = "https://mail.contoso.com/EWS/Exchange.asmx"
POX = ('<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com'
       '/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>'
       'alice@contoso.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/'
       'exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>'
       '</Autodiscover>')


def curl_walk(lab, domain="contoso.com"):
    """The mso-xdscli order a script can take with curl: root, autodiscover., then the HTTP
    redirect probe (SCP needs a domain, SRV a resolver curl lacks); each name resolved through
    the lab's DNS; the first Autodiscover answer ends the walk. Returns curl's exit codes."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [lab.dns_host]
    resolver.port = lab.dns_port
    ports = {h["address"]: h for h in lab.info["hosts"]}
    codes = []
    for scheme, name in (("https", domain), ("https", "autodiscover." + domain),
                         ("http", "autodiscover." + domain)):
        try:
            address = resolver.resolve(name + ".", "A", lifetime=5)[0].address
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            codes.append("dns")
            continue
        port = ports[address][scheme]
        if port is None:
            codes.append("refused")
            continue
        url = f"{scheme}://{name}:{port}/autodiscover/autodiscover.xml"
        cmd = ["curl", "-sS", "--max-time", "20", "--resolve", f"{name}:{port}:{address}",
               "--cacert", lab.ca_pem, "-w", "\n%{http_code}", url]
        if scheme == "https":
            cmd[1:1] = ["-X", "POST", "-H", "Content-Type: text/xml", "--data-binary", POX]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        codes.append(r.returncode)
        if r.returncode == 0 and r.stdout.endswith("\n200") and "<Autodiscover" in r.stdout:
            break
    return codes


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="autodisco-report-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def serve(self, rel):
        lab = Lab(scenario(rel))
        self.addCleanup(lab.close)
        return lab

    def stopped(self, lab):
        self.assertEqual(lab.stop(), 0)
        return lab.journal

    def report(self, journal, *extra):
        r = run([AD_BIN, "report", journal, "--format", "json", *extra])
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def walk(self, journal, *extra):
        doc = self.report(journal, *extra)
        self.assertEqual(len(doc["clients"]), 1, doc)
        self.assertTrue(doc["clients"][0]["inferred"])
        return doc["clients"][0]["transcript"]

    def check(self, rel, journal, client="mso-xdscli"):
        return run([AD_BIN, "check", scenario(rel), "--journal", journal, "--client", client])

    @staticmethod
    def steps(t):
        return [(s["step"], s["result"]) for s in t["steps"]]

    @staticmethod
    def prompts(t):
        return [(p["kind"], p["host"], p["reason"], p["accepted"]) for p in t["prompts"]]

    # --- lab.start ---

    def test_serve_journal_starts_with_the_lab(self):
        lab = self.serve(EXPIRED)
        journal = self.stopped(lab)
        with open(journal) as f:
            start = json.loads(f.readline())
        self.assertEqual(start["ev"], "lab.start")
        self.assertEqual(start["scenario"]["name"], "expired-root-cert")
        self.assertEqual(start["domain"], "contoso.com")
        self.assertEqual(start["dns"], lab.info["dns"])
        www = next(h for h in start["hosts"] if h["id"] == "www")
        self.assertEqual(www["address"], lab.host("www")["address"])
        self.assertEqual(www["https"]["port"], lab.host("www")["https"])
        cert = www["https"]["certificate"]
        self.assertEqual(cert["profile"], "expired")
        self.assertEqual(cert["names"], ["contoso.com", "www.contoso.com"])
        self.assertTrue(cert["trusted"])
        self.assertLess(cert["not_after"], start["t"])  # it has expired
        exchange = next(h for h in start["hosts"] if h["id"] == "exchange")
        self.assertIsNone(exchange["http"])  # port 80 refused
        route = exchange["https"]["routes"][0]
        self.assertEqual((route["answer"], route["ews_url"]), ("settings", EWS))

    # --- curl ---

    def test_curl_on_the_expired_root(self):
        lab = self.serve(EXPIRED)
        self.assertEqual(curl_walk(lab), [60, 0])  # 60: curl refused the certificate
        journal = self.stopped(lab)
        t = self.walk(journal)
        self.assertEqual(self.steps(t), [("https-root", "tls-failed"),
                                         ("https-autodiscover", "settings")])
        self.assertEqual(self.prompts(t), [("certificate", "contoso.com", "expired", False)])
        self.assertIn("certificate expired", t["steps"][0]["tls_error"])
        self.assertEqual(t["ews_url"], EWS)
        self.assertTrue(t["total_ms"] > 0)
        text = run([AD_BIN, "report", journal])
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertIn("! PROMPT certificate: contoso.com — expired (Security Alert) → No",
                      text.stdout)
        self.assertIn("(wall clock, from the journal's timestamps)", text.stdout)
        self.assertLess(text.stdout.index("https-root"), text.stdout.index("https-autodiscover"))
        c = self.check(EXPIRED, journal)
        self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
        self.assertIn("expectations: hold", c.stdout)
        # the same walk does not hold against a fix: the prompt is still there
        c = self.check(RENEWED, journal)
        self.assertEqual(c.returncode, 1, c.stdout + c.stderr)
        self.assertIn("fix-renew-root-cert.yaml:", c.stdout)
        self.assertIn("an unexpected certificate contoso.com (expired)", c.stdout)

    def test_curl_on_the_fixes(self):
        for rel, first in ((REMOVED, ("https-root", "dns-failed")),
                           (RENEWED, ("https-root", "not-autodiscover"))):
            with self.subTest(rel):
                lab = self.serve(rel)
                curl_walk(lab)
                journal = self.stopped(lab)
                t = self.walk(journal)
                self.assertEqual(self.steps(t), [first, ("https-autodiscover", "settings")])
                self.assertEqual(t["prompts"], [])
                c = self.check(rel, journal)
                self.assertEqual(c.returncode, 0, c.stdout + c.stderr)

    # --- openssl s_client ---

    def test_openssl_refusal_is_a_prompt(self):
        lab = self.serve(EXPIRED)
        www = lab.host("www")
        r = subprocess.run(["openssl", "s_client", "-connect", f"{www['address']}:{www['https']}",
                            "-servername", "contoso.com", "-CAfile", lab.ca_pem,
                            "-verify_return_error"], input="", capture_output=True, text=True,
                           timeout=60)
        self.assertNotEqual(r.returncode, 0)
        lab.wait_event("tls.alert", lambda e: e.get("host") == "contoso.com")
        t = self.walk(self.stopped(lab), "--client-label", "openssl")
        self.assertEqual(t["client"], "openssl")
        self.assertEqual(self.steps(t), [("https-root", "tls-failed")])
        self.assertEqual(self.prompts(t), [("certificate", "contoso.com", "expired", False)])
        self.assertFalse(t["success"])

    # --- python3-exchangelib ---

    def exchangelib(self, rel):
        lab = self.serve(rel)
        with LabNetwork(lab, PoxAutodiscovery):
            creds = Credentials("alice@contoso.com", "Lab-Passw0rd")
            _, protocol = PoxAutodiscovery(email="alice@contoso.com",
                                           credentials=creds).discover()
        self.assertEqual(protocol.service_endpoint, EWS)
        return self.stopped(lab)

    def test_exchangelib_holds_to_mso_xdscli(self):
        journals = {}
        for rel, prompts in ((EXPIRED, [("certificate", "contoso.com", "expired", False)]),
                             (REMOVED, []), (RENEWED, [])):
            with self.subTest(rel):
                journal = journals[rel] = self.exchangelib(rel)
                t = self.walk(journal, "--client", "mso-xdscli")
                self.assertEqual(t["client"], "mso-xdscli")
                names = [s["step"] for s in t["steps"]]
                self.assertEqual(names, ["https-root", "https-autodiscover"])
                self.assertEqual(self.prompts(t), prompts)
                self.assertEqual((t["success"], t["ews_url"]), (True, EWS))
                self.assertEqual(t["settings_email"], "alice@contoso.com")
                c = self.check(rel, journal)
                self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
        # build N vs build N+1: two journals
        d = run([AD_BIN, "diff", journals[EXPIRED], journals[RENEWED]])
        self.assertEqual(d.returncode, 0, d.stderr)
        self.assertIn("the certificate prompt for contoso.com (expired) goes away", d.stdout)
        # model vs real client: the model walks the scenario, the journal is what exchangelib did
        d = run([AD_BIN, "--ca-dir", os.path.join(self.tmp, "ca"), "diff", scenario(EXPIRED),
                 journals[EXPIRED], "--client", "mso-xdscli", "--format", "json"])
        self.assertEqual(d.returncode, 0, d.stderr)
        doc = json.loads(d.stdout)
        self.assertEqual(len(doc["clients"]), 1)
        same = doc["clients"][0]
        self.assertEqual(same["prompts_gone"], [])  # the model's prompt is exchangelib's too
        self.assertEqual(same["prompts_new"], [])
        self.assertFalse(same["outcome"]["changed"])

    def test_bad_journal_is_bad_input(self):
        path = os.path.join(self.tmp, "bad.jsonl")
        with open(path, "w") as f:
            f.write('{"t":"2026-11-27T12:00:00Z","ev":"dns.query"}\nnot json\n{"t":1}\n')
        for cmd in (["report", path], ["check", scenario(EXPIRED), "--journal", path, "--client",
                                       "mso-xdscli"], ["diff", path, path]):
            r = run([AD_BIN, *cmd])
            self.assertEqual(r.returncode, 2, (cmd, r.stdout, r.stderr))
            self.assertIn(f"{path}:2:1: not JSON", r.stderr)
        r = run([AD_BIN, "check", scenario(EXPIRED), "--journal", path])
        self.assertEqual(r.returncode, 2)
        self.assertIn("one --client", r.stderr)

    def test_killed_serve_journal_still_reads(self):
        lab = self.serve(EXPIRED)
        curl_walk(lab)
        lab.wait_event("http.response", lambda e: e.get("status") == 200)
        lab.proc.kill()  # no clean shutdown
        lab.proc.wait()
        lab.proc.stdout.close()
        lab.proc.stderr.close()
        with open(lab.journal, "a") as f:
            f.write('{"t":"2026-11-27T12:00:00.1Z","ev":"dns.qu')  # a line cut short
        r = run([AD_BIN, "report", lab.journal])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("the last line is cut short", r.stdout)
        self.assertIn("https-autodiscover", r.stdout)

    # --- the page ---

    def test_report_html_is_one_offline_page(self):
        lab = self.serve(EXPIRED)
        curl_walk(lab)
        journal = self.stopped(lab)
        out = os.path.join(self.tmp, "page.html")
        r = run([AD_BIN, "report", journal, "--format", "html", "--out", out])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            page = f.read()
        self.assertTrue(page.startswith("<!DOCTYPE html>"))
        for absent in ("<script", "src=", "href=", "@import", "url(h"):
            self.assertNotIn(absent, page)
        self.assertLess(page.index('data-step="https-root"'),
                        page.index('data-step="https-autodiscover"'))
        self.assertIn('<g class="prompt" data-kind="certificate" data-host="contoso.com" '
                      'data-reason="expired" data-accepted="false">', page)


if __name__ == "__main__":
    main()
