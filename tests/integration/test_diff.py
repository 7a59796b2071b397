"""`autodisco diff`: each fix of the founding story makes the certificate prompt go away and
changes nothing else; the JSON says the same; a scenario against itself changes nothing; bad
input exits 2."""
import json
import os
import re

from labharness import CliTestCase, scenario, main

EXPIRED = scenario("scenarios/founding/expired-root-cert.yaml")
FIXES = [scenario("scenarios/founding/fix-remove-root-record.yaml"),
         scenario("scenarios/founding/fix-renew-root-cert.yaml")]
FINAL_URL = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"
CLIENTS = ["outlook-2016-msi", "mso-xdscli"]


class DiffTest(CliTestCase):
    tmp_prefix = "autodisco-diff-"

    def test_each_fix_removes_the_prompt_and_nothing_else(self):
        for fix in FIXES:
            r = self.ad("diff", EXPIRED, fix)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            lines = r.stdout.splitlines()
            self.assertEqual(len(lines), len(CLIENTS), r.stdout)
            for client, line in zip(CLIENTS, lines):
                self.assertEqual(line, f"{client}: the certificate prompt for contoso.com "
                                       f"(expired) goes away; nothing else changes (same "
                                       f"settings from {FINAL_URL}).")

    def test_the_other_way_the_prompt_appears(self):
        r = self.ad("diff", FIXES[1], EXPIRED, "--client", "outlook-2016-msi")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "outlook-2016-msi: a new certificate prompt for contoso.com "
                                   f"(expired) appears; nothing else changes (same settings from "
                                   f"{FINAL_URL}).\n")

    def test_json_has_the_same_facts(self):
        r = self.ad("diff", EXPIRED, FIXES[0], "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["before"], EXPIRED)
        self.assertEqual(doc["after"], FIXES[0])
        self.assertEqual([c["client"] for c in doc["clients"]], CLIENTS)
        for c in doc["clients"]:
            self.assertTrue(c["changed"])
            self.assertEqual(c["prompts_gone"],
                             [{"kind": "certificate", "host": "contoso.com", "reason": "expired"}])
            self.assertEqual(c["prompts_new"], [])
            self.assertEqual(c["steps"]["gone"], [])
            self.assertEqual(c["steps"]["new"], [])
            self.assertEqual(c["steps"]["before"], c["steps"]["after"])
            for key in ("outcome", "final_url", "ews_url", "settings_email"):
                self.assertFalse(c[key]["changed"], key)
            self.assertEqual(c["final_url"]["after"], FINAL_URL)
            self.assertFalse(c["wait_ms"]["changed"])
            self.assertIn("goes away", c["text"])

    def test_same_scenario_changes_nothing(self):
        r = self.ad("diff", EXPIRED, EXPIRED, "--client", "mso-xdscli")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, f"mso-xdscli: nothing changes (same settings from "
                                   f"{FINAL_URL}).\n")

    def test_outcome_change_is_reported(self):
        with open(FIXES[1]) as f:
            text = f.read()
        # The Autodiscover host goes away: no settings at all after the change.
        text = text.replace("    - { name: autodiscover.contoso.com, type: A, host: exchange }\n",
                            "")
        path = os.path.join(self.tmp, "no-autodiscover.yaml")
        with open(path, "w") as f:
            f.write(text)
        r = self.ad("diff", FIXES[1], path, "--client", "outlook-2016-msi", "--timeout", "2000")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"^outlook-2016-msi: .*it no longer gets settings \(before: "
                         r"from " + re.escape(FINAL_URL) + r"\)")

    def test_bad_input_exits_2(self):
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("name: bad\ndescription: x\ndomain: contoso.com\nclientz: []\n")
        r = self.ad("diff", EXPIRED, bad)
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr, re.escape(bad) + r":4:1: ")
        self.assertEqual(self.ad("diff", EXPIRED).returncode, 2)
        self.assertEqual(self.ad("diff", EXPIRED, FIXES[0], "--format", "html").returncode, 2)
        self.assertEqual(self.ad("diff", EXPIRED, FIXES[0], "--client", "nope").returncode, 2)


if __name__ == "__main__":
    main()
