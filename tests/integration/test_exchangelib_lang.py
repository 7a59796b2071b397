"""python3-exchangelib's own Autodiscover against the lab's new language — answers chosen per
request, listeners on port 8443, a UTF-16 body — beside the mso-xdscli model on the same
scenario, where exchangelib documents the same rule (its source's comments follow the EAS
guidance MS-OXDISCO also follows). Where the two part, the test pins exchangelib's behaviour
and docs/clients.md, "exchangelib compared" says why:

- per request: both POST twice and get the redirectAddr, then the settings (answers 1, 2); the
  model starts the candidate list again for the new address, exchangelib goes back to the
  endpoint it cached for the domain;
- UTF-16: the model (libxml2) reads the settings, exchangelib takes a body not starting with
  `<?xml` (after a UTF-8 BOM at most) for "not XML" and fails;
- port 8443: both use the EWS URL's port; a redirect to a URL with a port is followed by the
  model, while exchangelib looks the URL's host:port up as a DNS name and stops; an SRV record
  for port 8443 is skipped by both (exchangelib: "no TLS"); a POX redirectUrl answer is lost on
  exchangelib, which reads the element as RedirectURL.
"""
import json
import logging
import os
import shutil
import tempfile
import unittest

from exchangelib import Credentials
from exchangelib.autodiscover.discovery.pox import PoxAutodiscovery
from exchangelib.errors import AutoDiscoverFailed, ErrorNonExistentMailbox, TransportError

from exchangelab import LabNetwork
from labharness import AD_BIN, Lab, run, scenario, main

EWS = "https://mail.contoso.com/EWS/Exchange.asmx"


def answers(events):
    """Which answer of its route each POX response was (http.response's `answer`)."""
    return [e["answer"] for e in events if e["ev"] == "http.response" and "answer" in e]


class ExchangelibLangTest(unittest.TestCase):
    def lab(self, path):
        lab = Lab(path)
        self.addCleanup(lab.close)
        return lab

    def discover(self, lab, email="alice@contoso.com"):
        """exchangelib's PoxAutodiscovery for `email`: (ad, protocol), or the exception."""
        with LabNetwork(lab, PoxAutodiscovery):
            creds = Credentials(email, "Lab-Passw0rd")
            try:
                return PoxAutodiscovery(email=email, credentials=creds).discover()
            except Exception as e:  # what it raised is the result here
                return e

    def model(self, path, email=None):
        """The mso-xdscli model's walk of the same scenario: (transcript, journal events)."""
        journal = os.path.join(self.tmp_dir(), "model.jsonl")
        extra = ["--email", email] if email else []
        r = run([AD_BIN, "--ca-dir", os.path.join(self.tmp_dir(), "ca"), "run", path,
                 "--client", "mso-xdscli", "--format", "json", "--journal", journal, *extra])
        self.assertIn(r.returncode, (0, 1), r.stderr)
        with open(journal) as f:
            events = [json.loads(line) for line in f]
        return json.loads(r.stdout)["clients"][0]["transcript"], events

    def tmp_dir(self):
        if not hasattr(self, "_tmp"):
            self._tmp = tempfile.mkdtemp(prefix="autodisco-exlang-")
            self.addCleanup(shutil.rmtree, self._tmp, True)
        return self._tmp

    def test_first_post_gets_redirect_addr_the_next_the_settings(self):
        path = scenario("scenarios/language/redirect-addr-first-request.yaml")
        lab = self.lab(path)
        ad, protocol = self.discover(lab)
        self.assertEqual(protocol.service_endpoint, EWS)
        self.assertEqual(ad.autodiscover_smtp_address, "alice.smith@contoso.com")
        events = lab.events()
        self.assertEqual(answers(events), [1, 2])
        posts = [e for e in events if e["ev"] == "http.request"]
        self.assertEqual([p["email"] for p in posts],
                         ["alice@contoso.com", "alice.smith@contoso.com"])
        # exchangelib goes back to the endpoint it cached for contoso.com: one look-up of the
        # root name in all (the failed step 1), none after the redirect
        roots = [e for e in events if e["ev"] == "dns.query" and e["qname"] == "contoso.com"]
        self.assertEqual(len(roots), 1)
        # the model: the same two answers and the same settings, after trying the root again
        t, model_events = self.model(path)
        self.assertTrue(t["success"])
        self.assertEqual((t["ews_url"], t["settings_email"]), (EWS, ad.autodiscover_smtp_address))
        self.assertEqual(answers(model_events), [1, 2])
        tried = [s["step"] for s in t["steps"] if s["result"] != "skipped"]
        self.assertEqual(tried, ["https-root", "https-autodiscover", "https-root",
                                 "https-autodiscover"])

    def test_one_host_answers_each_mailbox_its_own(self):
        path = scenario("scenarios/language/mailbox-renamed.yaml")
        lab = self.lab(path)
        ad, protocol = self.discover(lab)
        self.assertEqual(protocol.service_endpoint, EWS)
        self.assertEqual(ad.autodiscover_smtp_address, "alice.smith@contoso.com")
        self.assertEqual(answers(lab.events()), [1, 2])
        # an address the host does not serve gets error 500, "The e-mail address cannot be
        # found.": exchangelib knows the message
        lab2 = self.lab(path)
        err = self.discover(lab2, "zoe@contoso.com")
        self.assertIsInstance(err, ErrorNonExistentMailbox)
        self.assertEqual(answers(lab2.events()), [3])
        t, model_events = self.model(path)
        self.assertEqual(t["settings_email"], "alice.smith@contoso.com")
        self.assertEqual(answers(model_events), [1, 2])

    def test_utf16_settings_are_not_xml_to_exchangelib(self):
        path = scenario("scenarios/language/utf16-answer.yaml")
        lab = self.lab(path)
        err = self.discover(lab)
        self.assertIsInstance(err, AutoDiscoverFailed)
        # it got the bytes (one POST, 200) and went on to its next steps
        resp = lab.wait_event("http.response", lambda e: e.get("route") is not None)
        self.assertEqual(resp["status"], 200)
        self.assertGreater(resp["length"], 1000)
        srv = [e for e in lab.events("dns.query") if e["qtype"] == "SRV"]
        self.assertEqual([q["qname"] for q in srv], ["_autodiscover._tcp.contoso.com"])
        t, _ = self.model(path)
        self.assertTrue(t["success"])  # libxml2 honours the BOM
        self.assertEqual(t["ews_url"], EWS)

    def test_port_8443(self):
        path = scenario("tests/data/integration/exchangelib-lang.yaml")
        lab = self.lab(path)
        # the settings' EWS URL is on 8443: exchangelib's EWS requests go there, over TLS, to
        # the listener's lab certificate, which it verifies (no alert)
        ad, protocol = self.discover(lab)
        self.assertEqual(protocol.service_endpoint, "https://mail.contoso.com:8443/EWS/Exchange.asmx")
        quiet = logging.getLogger("exchangelib")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)  # its retry warnings on the 500 are expected
        self.addCleanup(quiet.setLevel, level)
        with LabNetwork(lab, PoxAutodiscovery):
            with self.assertRaises(Exception):
                protocol.version  # guessing the version POSTs to EWS; the lab answers 500
        port = lab.host("mail")["listeners"][0]["bound"]
        hello = lab.wait_event("tls.hello", lambda e: e["local"].endswith(f":{port}"))
        self.assertEqual(hello["host"], "mail.contoso.com")
        req = lab.wait_event("http.request", lambda e: e["path"] == "/EWS/Exchange.asmx")
        self.assertEqual(req["host"], "mail.contoso.com:8443")
        self.assertEqual(lab.events("tls.alert"), [])

        # a 302 to https://mail.fabrikam.com:8443/...: exchangelib looks "mail.fabrikam.com:8443"
        # up as a DNS name (the URL's netloc) and gives up; the SRV record for port 8443 it skips
        lab2 = self.lab(path)
        err = self.discover(lab2, "bob@fabrikam.com")
        self.assertIsInstance(err, (AutoDiscoverFailed, TransportError))
        asked = [(q["qname"], q["qtype"]) for q in lab2.events("dns.query")]
        self.assertIn(("mail.fabrikam.com\\:8443", "A"), asked)
        self.assertIn(("_autodiscover._tcp.fabrikam.com", "SRV"), asked)
        self.assertNotIn(("mail.fabrikam.com", "A"), asked)
        self.assertEqual([e for e in lab2.events("tcp.accept") if e["host"] == "fabrikam"], [])
        # the model follows the redirect with its port and gets the settings on 8443
        t, model_events = self.model(path, "bob@fabrikam.com")
        self.assertTrue(t["success"])
        self.assertEqual(t["final_url"], "https://mail.fabrikam.com:8443/autodiscover/autodiscover.xml")
        srv = [s for s in t["steps"] if s["step"] == "srv"][0]
        self.assertEqual(srv["result"], "no-candidate")  # the 8443 record: skipped, as exchangelib

    def test_redirect_url_to_8443_is_not_read(self):
        # MS-OXDSCLI 2.2.4.1.1.2.9 spells the element RedirectUrl (the lab, Exchange); exchangelib
        # reads RedirectURL, so it sees no URL in the answer, takes it for settings without a
        # protocol and fails; the model follows it to the 8443 listener
        path = scenario("scenarios/language/redirect-url-port-8443.yaml")
        lab = self.lab(path)
        err = self.discover(lab)
        self.assertIsInstance(err, Exception)
        self.assertEqual([e for e in lab.events("tcp.accept") if e["host"] == "mail"], [])
        t, _ = self.model(path)
        self.assertEqual(t["final_url"], "https://mail.contoso.com:8443/autodiscover/autodiscover.xml")


if __name__ == "__main__":
    main()
