"""Credentials a real client sends never reach the journal or the HAR in clear, and a Basic
credential that went where it should not is a credential-leak finding: curl sends Basic over
plain HTTP (a leak), over HTTPS to the scenario's Autodiscover route (none), and over HTTPS to a
host that has no Autodiscover route for the path (a leak); NTLM, Negotiate and Bearer values are
redacted too. `--record-credentials` keeps them in clear and says so on stderr."""
import base64
import os
import shutil
import tempfile
import unittest

from labharness import Lab, run, scenario, main

SCN = scenario("scenarios/founding/expired-root-cert.yaml")
USER, PASSWORD = "alice@contoso.com", "Lab-Secr3t!pw"
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
OTHER = {"NTLM": "TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==",
         "Negotiate": "YIIGhgYGKwYBBQUCoIIGejCCBnagMDAuBgkqhkiC9xIBAgIGCSqGSIb3EgECAgYKKw==",
         "Bearer": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sifQ.c2ln"}
POX = ('<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/'
       'exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>user@contoso.com'
       '</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/'
       'autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>'
       '</Autodiscover>')


class CredentialsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="autodisco-cred-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.har = os.path.join(self.tmp, "lab.har")

    def start(self, *extra):
        lab = Lab(SCN, extra=("--har", self.har, *extra))
        self.addCleanup(lab.close)
        return lab

    def send_credentials(self, lab):
        ex, www = lab.host("exchange"), lab.host("www")
        autodiscover = f"https://autodiscover.contoso.com:{ex['https']}/autodiscover/autodiscover.xml"
        resolve = ["--resolve", f"autodiscover.contoso.com:{ex['https']}:{ex['address']}"]
        # 1. plain HTTP at the web site: a leak whatever the path
        r = run(["curl", "-sS", "-o", "/dev/null", "-u", f"{USER}:{PASSWORD}",
                 f"http://{www['address']}:{www['http']}/autodiscover/autodiscover.xml"])
        self.assertEqual(r.returncode, 0, r.stderr)
        # 2. HTTPS at the scenario's Autodiscover route: where the credential belongs
        r = run(["curl", "-sS", "-o", "/dev/null", "--cacert", lab.ca_pem, *resolve,
                 "-u", f"{USER}:{PASSWORD}", "-H", "Content-Type: text/xml",
                 "--data-binary", POX, autodiscover])
        self.assertEqual(r.returncode, 0, r.stderr)
        # 3. HTTPS at the web site's /autodiscover/autodiscover.xml, a 404 route: a leak (-k: the
        #    user clicked through the expired certificate)
        r = run(["curl", "-sS", "-k", "-o", "/dev/null", "-u", f"{USER}:{PASSWORD}",
                 "--resolve", f"contoso.com:{www['https']}:{www['address']}",
                 f"https://contoso.com:{www['https']}/autodiscover/autodiscover.xml"])
        self.assertEqual(r.returncode, 0, r.stderr)
        # 4. the other schemes, at the Autodiscover route
        for scheme, token in OTHER.items():
            r = run(["curl", "-sS", "-o", "/dev/null", "--cacert", lab.ca_pem, *resolve,
                     "-H", f"Authorization: {scheme} {token}", "-H", "Content-Type: text/xml",
                     "--data-binary", POX, autodiscover])
            self.assertEqual(r.returncode, 0, r.stderr)
        lab.wait_event("http.response", lambda e: len(lab.events("http.response")) == 6)

    def read(self, lab):
        with open(lab.journal) as f:
            journal = f.read()
        with open(self.har) as f:
            har = f.read()
        return journal, har

    def test_journal_and_har_hold_no_credential_and_leaks_are_findings(self):
        lab = self.start()
        self.send_credentials(lab)
        self.assertEqual(lab.stop(), 0)
        journal, har = self.read(lab)
        for text in (journal, har):
            self.assertNotIn(BASIC, text)
            self.assertNotIn(PASSWORD, text)
            for token in OTHER.values():
                self.assertNotIn(token, text)
        requests = lab.events("http.request")
        self.assertEqual(len(requests), 6)
        self.assertEqual([r["authorization"]["scheme"] for r in requests],
                         ["Basic", "Basic", "Basic", "NTLM", "Negotiate", "Bearer"])
        # the same credential, the same fingerprint
        self.assertEqual(len({r["authorization"]["sha256"] for r in requests[:3]}), 1)
        findings = lab.events("finding")
        self.assertEqual([(f["kind"], f["why"], f["host_id"], f["tls"]) for f in findings],
                         [("credential-leak", "Basic over plain HTTP", "www", False),
                          ("credential-leak",
                           "Basic at a host with no Autodiscover route for this path", "www",
                           True)])
        self.assertEqual(findings[0]["path"], "/autodiscover/autodiscover.xml")
        self.assertEqual(findings[1]["host"], f"contoso.com:{lab.host('www')['https']}")
        self.assertEqual(findings[0]["peer"], requests[0]["peer"])
        self.assertIn("Basic [redacted sha256:", har)
        self.assertIn("NTLM [redacted sha256:", har)

    def test_record_credentials_keeps_them_in_clear(self):
        lab = self.start("--record-credentials")
        self.send_credentials(lab)
        self.assertEqual(lab.stop(), 0)
        journal, har = self.read(lab)
        self.assertIn(f"Basic {BASIC}", journal)
        self.assertIn(f"Basic {BASIC}", har)
        self.assertIn(OTHER["NTLM"], journal)
        self.assertEqual(len(lab.events("finding")), 2)

    def test_warning_on_stderr(self):
        lab = self.start("--record-credentials")
        lab.proc.terminate()
        err = lab.proc.communicate(timeout=20)[1].decode()
        self.assertIn("--record-credentials", err)
        self.assertIn("in clear", err)


if __name__ == "__main__":
    main()
