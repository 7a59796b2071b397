"""`serve --har FILE`: curl's exchanges with the founding scenario's hosts come out as an HTTP
Archive that har-validator (npm; the HAR 1.2 JSON schema of har-schema, checked by ajv) accepts,
with the requests, answers, bodies and addresses the journal saw. A killed serve writes none.
Run as root, serve gives root up to nobody: the archive is created at the stop when nobody can
write its folder, else opened before and rewritten in place.

har-validator is installed with `npm ci` from tests/integration/har-js (package-lock.json);
without node, npm or the registry the test skips on a developer's machine and fails in CI."""
import json
import os
import pwd
import shutil
import signal
import stat
import tempfile
import unittest

from labharness import AD_BIN, SOURCE, Lab, run, scenario, main
from npmclient import NpmClient

SCN = scenario("scenarios/founding/expired-root-cert.yaml")
CLIENT = NpmClient(os.path.join(SOURCE, "tests", "integration", "har-js"), "har-js-client",
                   ("validate.js",))
POX = ('<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/'
       'exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>user@contoso.com'
       '</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/'
       'autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>'
       '</Autodiscover>')


class HarTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        CLIENT.install_or_skip()

    @classmethod
    def tearDownClass(cls):
        CLIENT.cleanup()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="autodisco-har-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.har = os.path.join(self.tmp, "lab.har")
        if os.geteuid() == 0:
            # serve runs as nobody once its ports are bound: the user that writes the archive
            nobody = pwd.getpwnam("nobody")
            os.chown(self.tmp, nobody.pw_uid, nobody.pw_gid)

    def start(self):
        lab = Lab(SCN, extra=("--har", self.har))
        self.addCleanup(lab.close)
        return lab

    def validate(self, path):
        p = CLIENT.run("validate.js", path)
        lines = p.stdout.strip().splitlines()
        self.assertTrue(lines, f"no verdict from har-validator (exit {p.returncode}): {p.stderr}")
        return p.returncode, json.loads(lines[-1])

    def curl_exchanges(self, lab):
        ex, www = lab.host("exchange"), lab.host("www")
        r = run(["curl", "-sS", "--cacert", lab.ca_pem, "--resolve",
                 f"autodiscover.contoso.com:{ex['https']}:{ex['address']}",
                 "-H", "Content-Type: text/xml", "--data-binary", POX,
                 f"https://autodiscover.contoso.com:{ex['https']}/autodiscover/autodiscover.xml"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("https://mail.contoso.com/EWS/Exchange.asmx", r.stdout)
        r = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                 f"http://{www['address']}:{www['http']}/start?from=outlook"])
        self.assertEqual(r.stdout, "301", r.stderr)
        r = run(["curl", "-sS", "-I", f"http://{www['address']}:{www['http']}/"])
        self.assertEqual(r.returncode, 0, r.stderr)
        lab.wait_event("http.response", lambda e: e.get("status") == 301
                       and len(lab.events("http.response")) == 3)

    def test_har_of_three_exchanges_is_valid_and_matches_the_journal(self):
        lab = self.start()
        self.curl_exchanges(lab)
        self.assertFalse(os.path.exists(self.har))  # written at shutdown, not before
        self.assertEqual(lab.stop(), 0)
        self.assertEqual(stat.S_IMODE(os.stat(self.har).st_mode), 0o600)
        rc, verdict = self.validate(self.har)
        self.assertEqual(rc, 0, verdict)
        self.assertEqual(verdict, {"valid": True, "entries": 3})

        with open(self.har) as f:
            log = json.load(f)["log"]
        self.assertEqual(log["version"], "1.2")
        self.assertEqual(log["creator"]["name"], "autodisco")
        pox, redirect, head = log["entries"]
        ex, www = lab.host("exchange"), lab.host("www")
        self.assertEqual(pox["request"]["method"], "POST")
        self.assertEqual(pox["request"]["url"], f"https://autodiscover.contoso.com:{ex['https']}"
                         "/autodiscover/autodiscover.xml")
        self.assertEqual(pox["request"]["postData"], {"mimeType": "text/xml", "text": POX})
        self.assertEqual(pox["response"]["status"], 200)
        self.assertIn("<EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl>",
                      pox["response"]["content"]["text"])
        self.assertEqual(pox["serverIPAddress"], ex["address"])
        self.assertTrue(pox["_tls"])
        self.assertEqual(redirect["request"]["queryString"], [{"name": "from", "value": "outlook"}])
        self.assertEqual(redirect["response"]["redirectURL"], "https://www.contoso.com/")
        self.assertEqual(redirect["serverIPAddress"], www["address"])
        self.assertEqual(head["request"]["method"], "HEAD")
        self.assertEqual(head["response"]["content"]["size"], 0)
        names = {h["name"].lower(): h["value"] for h in head["response"]["headers"]}
        self.assertEqual(names["server"], "Microsoft-IIS/10.0")
        for e in log["entries"]:
            self.assertGreaterEqual(e["time"], 0)
            self.assertGreaterEqual(e["timings"]["send"], 0)
        # connection = the journal's peer of the same request
        peers = [e["peer"] for e in lab.events("http.request")]
        self.assertEqual([e["connection"] for e in log["entries"]], peers)

    def test_the_validator_refuses_a_broken_archive(self):
        # the consumer really checks: an entry without its response is refused
        lab = self.start()
        self.curl_exchanges(lab)
        self.assertEqual(lab.stop(), 0)
        with open(self.har) as f:
            doc = json.load(f)
        del doc["log"]["entries"][0]["response"]
        broken = os.path.join(self.tmp, "broken.har")
        with open(broken, "w") as f:
            json.dump(doc, f)
        rc, verdict = self.validate(broken)
        self.assertNotEqual(rc, 0)
        self.assertFalse(verdict["valid"])

    def test_a_killed_serve_writes_no_har_but_the_journal_has_it(self):
        lab = self.start()
        www = lab.host("www")
        run(["curl", "-sS", f"http://{www['address']}:{www['http']}/"])
        lab.wait_event("http.response")
        lab.proc.send_signal(signal.SIGKILL)
        lab.proc.wait(timeout=20)
        lab.proc.stdout.close()
        lab.proc.stderr.close()
        self.assertFalse(os.path.exists(self.har))
        self.assertEqual(len(lab.events("http.request")), 1)

    def test_as_root_a_folder_nobody_cannot_write_gets_the_archive_in_place(self):
        if os.geteuid() != 0:
            self.skipTest("needs root: serve gives root up only when it has it")
        private = tempfile.mkdtemp(prefix="autodisco-har-root-")  # 0700, root's
        self.addCleanup(shutil.rmtree, private, True)
        har = os.path.join(private, "lab.har")
        lab = Lab(SCN, extra=("--har", har))
        self.addCleanup(lab.close)
        self.assertTrue(os.path.exists(har))  # opened before root went, still empty
        self.assertEqual(os.path.getsize(har), 0)
        www = lab.host("www")
        r = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                 f"http://{www['address']}:{www['http']}/"])
        self.assertEqual(r.stdout, "301", r.stderr)
        lab.wait_event("http.response")
        self.assertEqual(lab.stop(), 0)
        self.assertEqual(stat.S_IMODE(os.stat(har).st_mode), 0o600)
        with open(har) as f:
            log = json.load(f)["log"]
        self.assertEqual([e["response"]["status"] for e in log["entries"]], [301])
        rc, verdict = self.validate(har)
        self.assertEqual(rc, 0, verdict)

    def test_a_har_that_cannot_be_written_is_bad_input(self):
        r = run([AD_BIN, "--ca-dir", os.path.join(self.tmp, "ca"), "serve", SCN, "--dns",
                 "127.0.0.1:0", "--https-port", "0", "--http-port", "0", "--har",
                 os.path.join(self.tmp, "no", "such", "dir", "lab.har")])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--har", r.stderr)
        self.assertIn("No such file or directory", r.stderr)


if __name__ == "__main__":
    main()
