"""`autodisco run` on the founding story: the expired root certificate prompts, both fixes do
not, and all three end with the same settings; JSON and JUnit output; bad input exits 2. Each
client is a fresh machine (DNS rules and route answers count again); the models ask AAAA beside
A and reach a host that has an IPv6 address only."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import xml.etree.ElementTree as ET

from labharness import CliTestCase, SOURCE, scenario, main

FOUNDING = {
    "expired": scenario("scenarios/founding/expired-root-cert.yaml"),
    "remove": scenario("scenarios/founding/fix-remove-root-record.yaml"),
    "renew": scenario("scenarios/founding/fix-renew-root-cert.yaml"),
}
FINAL_URL = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"
EWS = "https://mail.contoso.com/EWS/Exchange.asmx"


def step(transcript, name):
    """The first step of that name the walk tried (skipped steps do not count)."""
    tried = [s for s in transcript["steps"] if s["result"] != "skipped"]
    for s in tried:
        if s["step"] == name:
            return s
    raise AssertionError(f"no {name} step in {[s['step'] for s in tried]}")


class RunTest(CliTestCase):
    tmp_prefix = "autodisco-run-"

    def run_json(self, path, *extra):
        r = self.ad("run", path, "--format", "json", *extra)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return r, json.loads(r.stdout)

    def test_expired_root_prompts_then_finds_settings(self):
        r = self.ad("run", FOUNDING["expired"], "--client", "outlook-2016-msi")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"PROMPT certificate: contoso\.com .*expired")
        self.assertIn(FINAL_URL, r.stdout)
        self.assertIn("expectations: hold", r.stdout)

    def test_expired_root_json_transcript(self):
        r, doc = self.run_json(FOUNDING["expired"])
        self.assertEqual(r.returncode, 0)
        self.assertTrue(doc["hold"])
        for c in doc["clients"]:
            t = c["transcript"]
            self.assertTrue(t["success"], t)
            self.assertEqual(t["final_url"], FINAL_URL)
            self.assertEqual(t["ews_url"], EWS)
            prompts = t["prompts"]
            self.assertEqual(len(prompts), 1, prompts)
            self.assertEqual(prompts[0]["kind"], "certificate")
            self.assertEqual(prompts[0]["host"], "contoso.com")
            self.assertEqual(prompts[0]["reason"], "expired")
            root = step(t, "https-root")
            self.assertEqual(root["http_status"], 404)  # the user said Yes; the site had no XML

    def test_fixes_have_no_prompt_and_the_same_settings(self):
        _, before = self.run_json(FOUNDING["expired"])
        for fix in ("remove", "renew"):
            r, doc = self.run_json(FOUNDING[fix])
            self.assertEqual(r.returncode, 0, r.stdout)
            for c, b in zip(doc["clients"], before["clients"]):
                self.assertEqual(c["transcript"]["prompts"], [])
                self.assertEqual(c["transcript"]["final_url"], b["transcript"]["final_url"])
                self.assertEqual(c["transcript"]["ews_url"], b["transcript"]["ews_url"])

    def test_removed_record_fails_quietly_at_dns(self):
        _, doc = self.run_json(FOUNDING["remove"], "--client", "outlook-2016-msi")
        root = step(doc["clients"][0]["transcript"], "https-root")
        self.assertIn(root["dns_error"], ("NXDOMAIN", "NODATA"))

    def test_renewed_certificate_fails_quietly_on_404(self):
        _, doc = self.run_json(FOUNDING["renew"], "--client", "outlook-2016-msi")
        root = step(doc["clients"][0]["transcript"], "https-root")
        self.assertEqual(root["http_status"], 404)
        self.assertEqual(root["cert_failures"], [])

    def test_first_n_dns_rule_counts_again_for_each_client(self):
        path = os.path.join(self.tmp, "first-n.yaml")
        with open(path, "w") as f:
            f.write("""name: first-n
description: the root name fails once for each client, then answers
domain: contoso.com
dns:
  records:
    - { name: contoso.com, type: A, host: www }
  behaviours:
    - { name: contoso.com, type: A, answer: servfail, first: 1 }
hosts:
  www:
    https:
      routes: [ { path: /, status: 404 } ]
clients: [outlook-2016-msi, mso-xdscli]
""")
        _, doc = self.run_json(path)
        for c in doc["clients"]:
            self.assertEqual(step(c["transcript"], "https-root")["dns_error"], "SERVFAIL",
                             c["client"])

    def test_answers_count_again_for_each_client(self):
        # route answers by request count start again for each walked client, as DNS rules do
        path = scenario("scenarios/language/redirect-addr-first-request.yaml")
        journal = os.path.join(self.tmp, "answers.jsonl")
        r, doc = self.run_json(path, "--journal", journal)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(journal) as f:
            events = [json.loads(line) for line in f]
        answers = [e["answer"] for e in events if e["ev"] == "http.response" and "answer" in e]
        self.assertEqual(answers, [1, 2, 1, 2])  # two clients: redirectAddr, then the settings

    def test_models_ask_aaaa_beside_a(self):
        journal = os.path.join(self.tmp, "aaaa.jsonl")
        r, doc = self.run_json(FOUNDING["expired"], "--journal", journal, "--client",
                               "mso-xdscli")
        with open(journal) as f:
            queries = [json.loads(line) for line in f if '"dns.query"' in line]
        asked = [(q["qname"], q["qtype"]) for q in queries]
        for name in ("contoso.com", "autodiscover.contoso.com"):
            self.assertIn((name, "A"), asked)
            self.assertIn((name, "AAAA"), asked)
        # the lab's hosts have IPv4 addresses only: AAAA is NODATA, and the IPv4 one is used
        aaaa = [q for q in queries if q["qtype"] == "AAAA"]
        self.assertTrue(all(q["rcode"] == "NOERROR" and q["answers"] == 0 for q in aaaa), aaaa)
        self.assertRegex(step(doc["clients"][0]["transcript"], "https-root")["dns_answer"],
                         r"^127\.")

    def test_host_with_only_an_ipv6_address(self):
        try:
            with socket.socket(socket.AF_INET6) as s6:
                s6.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback address here")
        path = os.path.join(self.tmp, "v6.yaml")
        with open(path, "w") as f:
            f.write("""name: v6
description: autodiscover.contoso.com has an AAAA record only
domain: contoso.com
dns:
  records:
    - { name: autodiscover.contoso.com, type: AAAA, host: exchange }
hosts:
  exchange:
    address: "::1"
    https:
      routes:
        - path: /autodiscover/autodiscover.xml
          autodiscover: { settings: { ews: "https://mail.contoso.com/EWS/Exchange.asmx" } }
clients: [outlook-2016-msi]
expect:
  outlook-2016-msi: { outcome: settings, prompts: [] }
""")
        r, doc = self.run_json(path)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(step(doc["clients"][0]["transcript"], "https-autodiscover")["dns_answer"],
                         "::1")

    def test_junit_format_validates(self):
        xsd = os.path.join(SOURCE, "tests", "data", "junit", "junit.xsd")
        out = os.path.join(self.tmp, "run-junit.xml")
        r = self.ad("run", FOUNDING["expired"], "--format", "junit", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        if shutil.which("xmllint") is not None:
            v = subprocess.run(["xmllint", "--noout", "--schema", xsd, out],
                               capture_output=True, text=True)
            self.assertEqual(v.returncode, 0, v.stderr)
        root = ET.parse(out).getroot()
        self.assertEqual((root.get("name"), root.get("tests"), root.get("failures")),
                         ("autodisco run", "2", "0"))
        cases = root.findall("testsuite/testcase")
        self.assertEqual([c.get("name") for c in cases], ["outlook-2016-msi", "mso-xdscli"])
        self.assertIn("prompts: certificate contoso.com (expired)",
                      cases[0].find("system-out").text)
        # to stdout, and a failing expectation is a <failure> with exit status 1
        path = os.path.join(self.tmp, "wrong.yaml")
        with open(FOUNDING["renew"]) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(re.sub(r"outcome: settings", "outcome: failure", text, count=1))
        r = self.ad("run", path, "--format", "junit")
        self.assertEqual(r.returncode, 1, r.stderr)
        root = ET.fromstring(r.stdout)
        failure = root.find("testsuite/testcase/failure")
        self.assertIn("outcome: expected failure, got settings", failure.text)

    def test_failed_expectation_exits_1(self):
        tmp = tempfile.mkdtemp(dir=self.tmp)
        with open(FOUNDING["renew"]) as f:
            text = f.read()
        # The renewed certificate prompts nothing: expecting a prompt there must fail.
        text = re.sub(r"prompts: \[\]", "prompts: [ { kind: certificate, host: contoso.com, "
                      "reason: expired } ]", text, count=1)
        path = os.path.join(tmp, "wrong-expectation.yaml")
        with open(path, "w") as f:
            f.write(text)
        r = self.ad("run", path)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stdout, re.escape(path) + r":\d+:\d+: prompt: expected certificate")

    def test_bad_scenario_exits_2_with_location(self):
        tmp = tempfile.mkdtemp(dir=self.tmp)
        path = os.path.join(tmp, "bad.yaml")
        with open(path, "w") as f:
            f.write("name: bad\ndescription: x\ndomain: contoso.com\nclientz: []\n")
        r = self.ad("run", path)
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr, re.escape(path) + r":4:1: .*clientz")

    def test_unknown_client_is_bad_input(self):
        r = self.ad("run", FOUNDING["expired"], "--client", "outlook-1997")
        self.assertEqual(r.returncode, 2)
        self.assertIn("outlook-1997", r.stderr)

    def test_walk_that_cannot_start_says_why(self):
        r = self.ad("run", FOUNDING["expired"], "--client", "outlook-2016-msi",
                    "--email", "nobody")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn('client outlook-2016-msi could not start its walk: "nobody" is not an '
                      'e-mail address (local-part@domain)', r.stderr)

    def test_help_on_every_command(self):
        for cmd in (["--help"], ["run", "--help"], ["serve", "--help"], ["ca", "--help"],
                    ["validate", "--help"]):
            r = self.ad(*cmd)
            self.assertEqual(r.returncode, 0, cmd)
            self.assertIn("usage: autodisco", r.stdout)


if __name__ == "__main__":
    main()
