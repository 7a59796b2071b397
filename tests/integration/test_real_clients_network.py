"""Real clients in the vm namespace against `serve --listen` in the lab namespace (netlab.py: the
stand-in for a Windows VM on a host-only network) on the three founding scenarios — each host on
its own lab address, the lab's DNS the vm's only resolver, serve running as nobody — and then
`report`, `check --journal` and `diff` on the journals they leave:

- python3-exchangelib's own POX autodiscover, unpatched: names through the system resolver
  (/etc/resolv.conf → the lab), connections to the real ports, the lab CA as its only trust;
- curl walking the Autodiscover URLs in the mso-xdscli order, also through the system resolver;
- openssl s_client at contoso.com, refusing the expired certificate;
- ews-javascript-api (npm), finding the endpoint from the address's domain.

Which client follows which model's rules: exchangelib and the curl walk try
https://<domain>/autodiscover/autodiscover.xml, then https://autodiscover.<domain>/..., and stop at
the first settings — mso-xdscli's order and rules (MS-OXDSCLI), so `check --journal --client
mso-xdscli` holds for them on all three scenarios. openssl s_client is one connection, not a
walk: its journal shows the refused certificate and nothing else. ews-javascript-api speaks SOAP
Autodiscover only (autodiscover.svc; its POX path is "Not implemented"), so on these POX-only
scenarios it walks root, autodiscover., the HTTP redirect probe and SRV and finds no settings:
no model's expectations hold for it, and the test says so rather than checking it."""
import json
import os
import shutil
import tempfile
import unittest

from labharness import AD_BIN, SOURCE, run, scenario, main
from netlab import LAB_ADDRS, VM_ADDR, NetLab, NetPair, require_root
from npmclient import NpmClient

EXPIRED = "scenarios/founding/expired-root-cert.yaml"
REMOVED = "scenarios/founding/fix-remove-root-record.yaml"
RENEWED = "scenarios/founding/fix-renew-root-cert.yaml"
EWS = "https://mail.contoso.com/EWS/Exchange.asmx"
POX = ('<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com'
       '/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>'
       'alice@contoso.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/'
       'exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>'
       '</Autodiscover>')
EXCHANGELIB = """
import json
from exchangelib import Credentials
from exchangelib.autodiscover import clear_cache
from exchangelib.autodiscover.discovery.pox import PoxAutodiscovery
clear_cache()
ad, protocol = PoxAutodiscovery(email="alice@contoso.com",
                                credentials=Credentials("alice@contoso.com", "Lab-Passw0rd")).discover()
print(json.dumps({"ews": protocol.service_endpoint, "smtp": ad.autodiscover_smtp_address}))
"""
EWS_JS = NpmClient(os.path.join(SOURCE, "tests", "integration", "ews-js"), "ews-js-net-client",
                   ("get-user-settings.js",))


class RealClientsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_root("real clients across a network-namespace boundary")
        EWS_JS.install_or_skip()
        cls.tmp = tempfile.mkdtemp(prefix="autodisco-realnet-")
        cls.pair = NetPair()  # last: nothing after it can fail and leave it behind

    @classmethod
    def tearDownClass(cls):
        cls.pair.close()
        EWS_JS.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def serve(self, rel):
        lab = NetLab(self.pair, scenario(rel))
        self.addCleanup(lab.close)
        return lab

    def stopped(self, lab):
        self.assertEqual(lab.stop(), 0, lab.stderr_text)
        self.assertIn("running as nobody", lab.stderr_text)
        kept = os.path.join(self.tmp, f"{self.id().rsplit('.', 1)[-1]}-{len(os.listdir(self.tmp))}"
                            ".jsonl")
        shutil.copyfile(lab.journal, kept)  # outlives the lab's folder
        return kept

    def walk(self, journal, *extra):
        r = run([AD_BIN, "report", journal, "--format", "json", *extra])
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
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

    def peers_are_the_vm(self, journal):
        with open(journal) as f:
            events = [json.loads(line) for line in f]
        peers = {e["peer"].split(":")[0] for e in events if "peer" in e}
        clients = {e["client"].split(":")[0] for e in events if e["ev"] == "dns.query"}
        self.assertEqual(peers | clients, {VM_ADDR})  # every byte came across the boundary
        return events

    # --- python3-exchangelib ---

    def exchangelib(self, rel, lab):
        env = dict(os.environ, REQUESTS_CA_BUNDLE=lab.ca_pem, TMPDIR=self.tmp)
        r = self.pair.vm_run("/usr/bin/python3", "-c", EXCHANGELIB, env=env)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        out = json.loads(r.stdout.strip().splitlines()[-1])
        self.assertEqual(out, {"ews": EWS, "smtp": "alice@contoso.com"})

    def test_exchangelib_holds_to_mso_xdscli(self):
        journals = {}
        for rel, prompts in ((EXPIRED, [("certificate", "contoso.com", "expired", False)]),
                             (REMOVED, []), (RENEWED, [])):
            with self.subTest(rel):
                lab = self.serve(rel)
                self.exchangelib(rel, lab)
                journal = journals[rel] = self.stopped(lab)
                events = self.peers_are_the_vm(journal)
                with open(journal) as f:
                    self.assertNotIn("Lab-Passw0rd", f.read())
                t = self.walk(journal, "--client", "mso-xdscli")
                self.assertEqual([s["step"] for s in t["steps"]],
                                 ["https-root", "https-autodiscover"])
                self.assertEqual(self.prompts(t), prompts)
                self.assertEqual((t["success"], t["ews_url"]), (True, EWS))
                c = self.check(rel, journal)
                self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
                self.assertIn("expectations: hold", c.stdout)
                if rel == EXPIRED:
                    # the alert the client sent at contoso.com, on the www host's own address
                    alert = next(e for e in events if e["ev"] == "tls.alert")
                    self.assertEqual(alert["host"], "contoso.com")
                    self.assertIn("expired", alert["alert"])
                    self.assertEqual(alert["local"], f"{LAB_ADDRS[0]}:443")
        d = run([AD_BIN, "diff", journals[EXPIRED], journals[RENEWED]])
        self.assertEqual(d.returncode, 0, d.stderr)
        self.assertIn("the certificate prompt for contoso.com (expired) goes away", d.stdout)

    # --- curl ---

    def curl_walk(self, lab, domain="contoso.com"):
        """The mso-xdscli order a script can take with curl, every name through the vm's
        resolver (the lab's DNS): root, autodiscover., the HTTP redirect probe; the first
        Autodiscover answer ends the walk. Returns curl's exit codes."""
        codes = []
        for scheme, name in (("https", domain), ("https", "autodiscover." + domain),
                             ("http", "autodiscover." + domain)):
            cmd = ["curl", "-sS", "--max-time", "20", "--cacert", lab.ca_pem, "-w",
                   "\n%{http_code}", f"{scheme}://{name}/autodiscover/autodiscover.xml"]
            if scheme == "https":
                cmd[1:1] = ["-X", "POST", "-H", "Content-Type: text/xml", "--data-binary", POX]
            r = self.pair.vm_run(*cmd)
            codes.append(r.returncode)
            if r.returncode == 0 and r.stdout.endswith("\n200") and "<Autodiscover" in r.stdout:
                break
        return codes

    def test_curl_walks_in_order(self):
        for rel, codes, first, prompts in (
                (EXPIRED, [60, 0], ("https-root", "tls-failed"),
                 [("certificate", "contoso.com", "expired", False)]),
                (REMOVED, [6, 0], ("https-root", "dns-failed"), []),
                (RENEWED, [0, 0], ("https-root", "not-autodiscover"), [])):
            with self.subTest(rel):
                lab = self.serve(rel)
                self.assertEqual(self.curl_walk(lab), codes)
                journal = self.stopped(lab)
                self.peers_are_the_vm(journal)
                t = self.walk(journal)
                self.assertEqual(self.steps(t), [first, ("https-autodiscover", "settings")])
                self.assertEqual(self.prompts(t), prompts)
                self.assertEqual(t["ews_url"], EWS)
                text = run([AD_BIN, "report", journal])
                self.assertEqual(text.returncode, 0, text.stderr)
                self.assertLess(text.stdout.index("https-root"),
                                text.stdout.index("https-autodiscover"))
                c = self.check(rel, journal)
                self.assertEqual(c.returncode, 0, c.stdout + c.stderr)

    # --- openssl s_client ---

    def test_openssl_refusal_is_the_prompt(self):
        lab = self.serve(EXPIRED)
        r = self.pair.vm_run("openssl", "s_client", "-connect", "contoso.com:443",
                             "-servername", "contoso.com", "-CAfile", lab.ca_pem,
                             "-verify_return_error", input="")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("certificate has expired", r.stdout + r.stderr)
        journal = self.stopped(lab)
        events = self.peers_are_the_vm(journal)
        alert = next(e for e in events if e["ev"] == "tls.alert")
        self.assertEqual((alert["host"], alert["alert"]), ("contoso.com", "certificate expired"))
        t = self.walk(journal, "--client-label", "openssl")
        self.assertEqual(self.steps(t), [("https-root", "tls-failed")])
        self.assertEqual(self.prompts(t), [("certificate", "contoso.com", "expired", False)])
        self.assertFalse(t["success"])
        text = run([AD_BIN, "report", journal])
        self.assertIn("! PROMPT certificate: contoso.com — expired (Security Alert) → No",
                      text.stdout)

    # --- ews-javascript-api ---

    def ews_js(self, lab):
        args = {"url": None, "email": "alice@contoso.com", "password": "Lab-Passw0rd",
                "dns": LAB_ADDRS[0], "ca": lab.ca_pem, "settings": ["ExternalEwsUrl"]}
        env = {k: v for k, v in os.environ.items()
               if k not in ("NODE_EXTRA_CA_CERTS", "NODE_TLS_REJECT_UNAUTHORIZED", "NODE_OPTIONS",
                            "NODE_PATH", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")}
        r = self.pair.vm_run(EWS_JS.node, os.path.join(EWS_JS.dir, "get-user-settings.js"),
                             json.dumps(args), env=env)
        lines = r.stdout.strip().splitlines()
        self.assertTrue(lines, f"no output from node (exit {r.returncode}): {r.stderr[-3000:]}")
        return r.returncode, json.loads(lines[-1])

    def test_ews_javascript_api_walks_and_finds_no_soap(self):
        for rel, root in ((EXPIRED, ("https-root", "tls-failed")),
                          (RENEWED, ("https-root", "not-autodiscover"))):
            with self.subTest(rel):
                lab = self.serve(rel)
                rc, out = self.ews_js(lab)
                # SOAP only: the POX-only founding hosts offer it no SOAP endpoint
                self.assertNotEqual(rc, 0, out)
                self.assertIn("couldn't be located", out["error"]["message"])
                journal = self.stopped(lab)
                events = self.peers_are_the_vm(journal)
                # its endpoint probe: a GET of the POX URL, whose headers would announce SOAP
                reqs = [(e["method"], e["path"].lower()) for e in events
                        if e["ev"] == "http.request"]
                self.assertIn(("GET", "/autodiscover/autodiscover.xml"), reqs)
                with open(journal) as f:
                    self.assertNotIn("Lab-Passw0rd", f.read())
                t = self.walk(journal)
                # its order (the EWS Managed API's): autodiscover. first, then the domain, the
                # HTTP redirect probe (refused: exchange has no port 80) and SRV
                self.assertEqual(self.steps(t), [("https-autodiscover", "xml-error"), root,
                                                 ("http-redirect", "connect-failed"),
                                                 ("srv", "no-candidate")])
                self.assertFalse(t["success"])
                if rel == EXPIRED:
                    # node hangs up on the expired certificate without an alert: the
                    # abandoned handshake, after our Certificate went out
                    done = next(e for e in events if e["ev"] == "tls.done"
                                and e["host"] == "contoso.com")
                    self.assertEqual((done["ok"], done["abandoned"], done["certificate_sent"]),
                                     (False, True, True))
                    self.assertEqual(self.prompts(t),
                                     [("certificate", "contoso.com", "expired", False)])
                else:
                    self.assertEqual(self.prompts(t), [])
                c = self.check(rel, journal)
                self.assertEqual(c.returncode, 1, c.stdout)  # it found no settings

if __name__ == "__main__":
    main()
