"""Client settings and users' own models from the command line: `--set NAME=VALUE` on run,
check and diff (names as the registry spells them; an unknown one is bad input that lists the
known ones), `check --sweep NAME=V1,V2` (one row per value), and `--client-file FILE` (a model
of one's own, walked beside the scenario's clients; a bad file is one file:line:col line). The
walks go through the running lab: what a setting changes shows in the lab's journal too."""
import json
import os
import xml.etree.ElementTree as ET

from labharness import CliTestCase, main, scenario

FOUNDING = scenario("scenarios/founding/expired-root-cert.yaml")
RENEW = scenario("scenarios/founding/fix-renew-root-cert.yaml")
MODEL_DIR = scenario("tests/data/client")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


class ClientSettingsTest(CliTestCase):
    tmp_prefix = "autodisco-settings-"

    def run_json(self, *args):
        r = self.ad("run", *args, "--format", "json")
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return r, json.loads(r.stdout)

    def journal_hosts(self, path):
        with open(path) as f:
            return [e["host"] for e in map(json.loads, f) if e["ev"] == "http.request"]

    # --- --set ---

    def test_set_a_registry_value(self):
        journal = os.path.join(self.tmp, "set.jsonl")
        r, doc = self.run_json(FOUNDING, "--client", "outlook-2016-msi", "--set",
                               "ExcludeHttpsRootDomain=1", "--journal", journal)
        self.assertEqual(r.returncode, 1)  # the scenario expects the prompt the value removes
        t = doc["clients"][0]["transcript"]
        self.assertEqual(t["prompts"], [])
        self.assertEqual(t["settings"], ["ExcludeHttpsRootDomain=1"])
        root = [s for s in t["steps"] if s["step"] == "https-root"][0]
        self.assertEqual(root["result"], "skipped")
        self.assertIn("ExcludeHttpsRootDomain", root["detail"])
        self.assertEqual(self.journal_hosts(journal), ["autodiscover.contoso.com"])
        # the older scenario key and any case name the same setting
        _, doc2 = self.run_json(FOUNDING, "--client", "outlook-2016-msi", "--set",
                                "exclude_https_root_domain=true")
        self.assertEqual(doc2["clients"][0]["transcript"]["settings"],
                         ["ExcludeHttpsRootDomain=1"])
        r = self.ad("run", FOUNDING, "--set", "excludehttpsrootdomain=1")
        self.assertIn("settings: ExcludeHttpsRootDomain=1", r.stdout)

    def test_set_over_the_scenarios_settings(self):
        # L-05 gives ExcludeHttpsRootDomain=1; --set puts it back to 0: the prompt returns
        l05 = scenario("scenarios/client-settings/exclude-https-root.yaml")
        r, doc = self.run_json(l05, "--set", "ExcludeHttpsRootDomain=0")
        self.assertEqual(r.returncode, 1)
        for c in doc["clients"]:
            self.assertEqual([p["reason"] for p in c["transcript"]["prompts"]], ["expired"])
        # a machine fact and a policy choice the same way
        r, doc = self.run_json(FOUNDING, "--client", "mso-xdscli", "--set",
                               "certificate_prompts=name,untrusted")
        t = doc["clients"][0]["transcript"]
        self.assertEqual(t["prompts"], [])  # an expired certificate now fails silently
        self.assertEqual(t["steps"][1]["result"], "tls-failed")

    def test_set_refuses_bad_input(self):
        r = self.ad("run", FOUNDING, "--set", "ExcludeTheMoon=1")
        self.assertEqual(r.returncode, 2)
        self.assertIn('unknown setting "ExcludeTheMoon"', r.stderr)
        for name in ("ExcludeHttpsRootDomain", "PreferLocalXML", "RedirectServers",
                     "domain_joined", "restart_cache", "srv_choice", "certificate_prompts"):
            self.assertIn(name, r.stderr)  # the known ones are listed
        self.assertEqual(r.stdout, "")
        for bad, says in (("ExcludeHttpsRootDomain=2", "expected 0 or 1"),
                          ("ExcludeHttpsRootDomain", "expected NAME=VALUE"),
                          ("srv_choice=smallest", "expected one of rfc2782, weighted, largest"),
                          ("RedirectServers=not a host", "is not a valid DNS name")):
            for cmd in (["run", FOUNDING], ["check", FOUNDING], ["diff", FOUNDING, RENEW]):
                with self.subTest(cmd=cmd[0], set=bad):
                    r = self.ad(*cmd, "--set", bad)
                    self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                    self.assertIn(says, r.stderr)

    def test_diff_with_a_setting(self):
        r = self.ad("diff", FOUNDING, RENEW, "--set", "ExcludeHttpsRootDomain=1")
        self.assertEqual(r.returncode, 0, r.stderr)
        # with the root excluded the renewal changes nothing a user sees
        for line in r.stdout.splitlines():
            self.assertNotIn("goes away", line)

    # --- check --sweep ---

    def test_sweep_one_row_per_value(self):
        junit = os.path.join(self.tmp, "sweep.xml")
        r = self.ad("check", FOUNDING, "--sweep", "ExcludeHttpsRootDomain=0,1", "--jobs", "2",
                    "--junit", junit)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)  # =1 breaks the expected prompt
        lines = [line.split() for line in r.stdout.splitlines()]
        head = lines[0]
        rows = [row for row in lines[1:] if row and row[0].endswith("expired-root-cert.yaml")]
        self.assertEqual(head[:3], ["SCENARIO", "SETTING", "CLIENT"])
        got = [(row[1], row[2], row[3]) for row in rows]
        self.assertEqual(got, [("ExcludeHttpsRootDomain=0", "outlook-2016-msi", "PASS"),
                               ("ExcludeHttpsRootDomain=0", "mso-xdscli", "PASS"),
                               ("ExcludeHttpsRootDomain=1", "outlook-2016-msi", "FAIL"),
                               ("ExcludeHttpsRootDomain=1", "mso-xdscli", "FAIL")])
        self.assertIn("(1 scenario x 2 values)", r.stdout)
        names = [tc.get("name") for tc in ET.parse(junit).getroot().iter("testcase")]
        self.assertEqual(names, ["outlook-2016-msi [ExcludeHttpsRootDomain=0]",
                                 "mso-xdscli [ExcludeHttpsRootDomain=0]",
                                 "outlook-2016-msi [ExcludeHttpsRootDomain=1]",
                                 "mso-xdscli [ExcludeHttpsRootDomain=1]"])
        r = self.ad("check", FOUNDING, "--sweep", "ExcludeHttpsRootDomain=0,1", "--json")
        doc = json.loads(r.stdout)
        self.assertEqual([s["setting"] for s in doc["scenarios"]],
                         ["ExcludeHttpsRootDomain=0", "ExcludeHttpsRootDomain=1"])
        self.assertEqual(doc["totals"], {"pass": 2, "fail": 2, "no_expect": 0, "error": 0})

    def test_sweep_with_set_and_lists(self):
        # --set applies under every value; a list value is given whole with '|' between values
        r = self.ad("check", scenario("scenarios/redirects/http-redirect-302.yaml"), "--client",
                    "outlook-m365", "--sweep", "RedirectServers=|autodiscover.hoster.net,x.example",
                    "--set", "ExcludeSrvRecord=1", "--json")
        doc = json.loads(r.stdout)
        self.assertEqual([s["setting"] for s in doc["scenarios"]],
                         ["RedirectServers=", "RedirectServers=autodiscover.hoster.net,x.example"])
        prompts = [s["results"][0]["prompts"] for s in doc["scenarios"]]
        self.assertEqual(prompts, ["redirect autodiscover.hoster.net", ""])

    def test_journal_takes_no_settings(self):
        journal = write(os.path.join(self.tmp, "j.jsonl"), "")
        for extra in (["--set", "ExcludeSrvRecord=1"], ["--sweep", "ExcludeSrvRecord=0,1"]):
            r = self.ad("check", FOUNDING, "--journal", journal, "--client", "mso-xdscli", *extra)
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertIn("--set, --sweep and --client-file change model walks", r.stderr)

    def test_sweep_refuses_bad_input(self):
        for args, says in ((["--sweep", "ExcludeTheMoon=0,1"], 'unknown setting "ExcludeTheMoon"'),
                           (["--sweep", "ExcludeHttpsRootDomain=0,2"], "expected 0 or 1"),
                           (["--sweep", "ExcludeHttpsRootDomain"], "expected NAME=VALUE"),
                           (["--sweep", "ExcludeSrvRecord=0,1", "--sweep", "PreferLocalXML=0,1"],
                            "one --sweep at a time")):
            with self.subTest(args=args):
                r = self.ad("check", FOUNDING, *args)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertIn(says, r.stderr)

    # --- --client-file ---

    def test_client_file_is_walked_beside_the_scenarios_clients(self):
        mine = os.path.join(MODEL_DIR, "model-based.yaml")  # m365 without Direct Connect
        own = write(os.path.join(self.tmp, "no-root.yaml"),
                    "name: no-root\nbase: outlook-2016-msi\nsettings:\n"
                    "  ExcludeHttpsRootDomain: 1\n")
        r, doc = self.run_json(FOUNDING, "--client-file", own)
        self.assertEqual([c["client"] for c in doc["clients"]],
                         ["outlook-2016-msi", "mso-xdscli", "no-root"])
        t = doc["clients"][2]["transcript"]
        self.assertEqual(t["prompts"], [])
        self.assertTrue(t["success"])
        self.assertEqual(doc["clients"][2]["expectations"]["given"], False)
        # --client chooses among built-in and own models alike
        r, doc = self.run_json(FOUNDING, "--client-file", own, "--client", "no-root")
        self.assertEqual([c["client"] for c in doc["clients"]], ["no-root"])
        # check walks it in every scenario: NO-EXPECT where nothing is expected of it
        r = self.ad("check", scenario("scenarios/founding"), "--client-file", own,
                    "--client-file", mine, "--json")
        doc = json.loads(r.stdout)
        for s in doc["scenarios"]:
            clients = [x["client"] for x in s["results"]]
            self.assertEqual(clients[-2:], ["no-root", "m365-no-direct-connect"])
            self.assertEqual({x["verdict"] for x in s["results"][-2:]}, {"NO-EXPECT"})
        # diff compares it too
        r = self.ad("diff", FOUNDING, RENEW, "--client-file", own)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no-root: nothing changes", r.stdout)

    def test_client_file_refuses_bad_input(self):
        bad = os.path.join(scenario("tests/data/bad/clients"), "bad-step.yaml")
        with open(bad.replace(".yaml", ".expect")) as f:
            want = f.readline().strip()
        for cmd in (["run", FOUNDING], ["check", FOUNDING], ["diff", FOUNDING, RENEW],
                    ["probe", "contoso.com", "--dns", "127.0.0.1:9"]):
            with self.subTest(cmd=cmd[0]):
                r = self.ad(*cmd, "--client-file", bad)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                # the file's own path, line and column start the message
                self.assertEqual(r.stderr.strip(), "autodisco: " + bad + want[len(
                    "bad/clients/bad-step.yaml"):])
        twice = write(os.path.join(self.tmp, "twice.yaml"), "name: twice\nbase: outlook-2010\n")
        r = self.ad("run", FOUNDING, "--client-file", twice, "--client-file", twice)
        self.assertEqual(r.returncode, 2)
        self.assertIn("a model named twice was loaded already", r.stderr)
        r = self.ad("run", FOUNDING, "--client-file", os.path.join(self.tmp, "none.yaml"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("none.yaml: No such file or directory", r.stderr)


if __name__ == "__main__":
    main()
