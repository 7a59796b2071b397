"""`autodisco check`: the founding catalogue passes as a table, a failing expectation exits 1,
a bad scenario exits 2 while the rest still run, JUnit validates against the schema, --jobs
does not change the report, and bases for `extends:` (_*.yaml) are not run."""
import json
import os
import pty
import re
import select
import shutil
import subprocess
import tempfile

from labharness import CliTestCase, AD_BIN, SOURCE, scenario, main

FOUNDING_DIR = scenario("scenarios/founding")
FOUNDING = sorted(f for f in os.listdir(FOUNDING_DIR) if f.endswith(".yaml")
                  and not f.startswith("_"))
XSD = os.path.join(SOURCE, "tests", "data", "junit", "junit.xsd")


def table(stdout):
    """The table's rows as lists of cells (split on runs of two or more spaces)."""
    lines = stdout.splitlines()
    assert lines and lines[0].startswith("SCENARIO"), stdout
    rows = []
    for line in lines[1:]:
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


class CheckTest(CliTestCase):
    tmp_prefix = "autodisco-check-"

    def folder(self, files):
        """A fresh folder holding `files` ({name: text}); returns its path."""
        d = tempfile.mkdtemp(dir=self.tmp)
        for name, text in files.items():
            path = os.path.join(d, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        return d

    def founding_text(self, name):
        with open(os.path.join(FOUNDING_DIR, name)) as f:
            return f.read()

    def test_founding_passes(self):
        r = self.ad("check", FOUNDING_DIR, "--jobs", "1")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        rows = table(r.stdout)
        self.assertEqual(len(rows), 2 * len(FOUNDING), r.stdout)
        self.assertGreaterEqual(len(rows), 6)
        for row in rows:
            self.assertEqual(row[2], "PASS", row)
            self.assertRegex(row[4], r"^\d+(\.\d)? m?s$", row)
        expired = [row for row in rows if row[0].endswith("expired-root-cert.yaml")]
        self.assertEqual(len(expired), 2)
        for row in expired:
            self.assertEqual(row[3], "certificate contoso.com (expired)")
        fixes = [row for row in rows if "/fix-" in row[0]]
        self.assertTrue(all(row[3] == "-" for row in fixes), fixes)
        self.assertEqual(r.stderr, "")  # no progress line when stderr is not a terminal
        self.assertRegex(r.stdout, r"\n%d passed, 0 failed" % len(rows))

    def test_jobs_do_not_change_the_report(self):
        one = self.ad("check", FOUNDING_DIR, "--jobs", "1")
        two = self.ad("check", FOUNDING_DIR, "--jobs", "2")
        self.assertEqual(two.returncode, one.returncode, two.stderr)
        # Lab time includes some real time, so compare everything but that column.
        self.assertEqual([row[:4] for row in table(two.stdout)],
                         [row[:4] for row in table(one.stdout)])

    def test_failing_expectation_exits_1_and_prints_the_line(self):
        text = self.founding_text("fix-renew-root-cert.yaml")
        text = re.sub(r"prompts: \[\]", "prompts: [ { kind: certificate, host: contoso.com, "
                      "reason: expired } ]", text, count=1)
        d = self.folder({"wrong.yaml": text,
                         "good.yaml": self.founding_text("expired-root-cert.yaml")})
        for jobs in ("1", "2"):
            r = self.ad("check", d, "--jobs", jobs)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            rows = table(r.stdout)
            verdicts = {(os.path.basename(row[0]), row[1]): row[2] for row in rows}
            self.assertEqual(verdicts[("wrong.yaml", "outlook-2016-msi")], "FAIL")
            self.assertEqual(verdicts[("wrong.yaml", "mso-xdscli")], "PASS")
            self.assertEqual(verdicts[("good.yaml", "outlook-2016-msi")], "PASS")
            self.assertRegex(r.stdout, re.escape(os.path.join(d, "wrong.yaml")) +
                             r":\d+:\d+: prompt: expected certificate contoso.com \(expired\), "
                             r"got no such prompt")

    def test_bad_scenario_exits_2_and_the_rest_still_run(self):
        d = self.folder({"a-good.yaml": self.founding_text("expired-root-cert.yaml"),
                         "b-bad.yaml": "name: bad\ndescription: x\ndomain: contoso.com\n"
                                       "clientz: []\n"})
        r = self.ad("check", d, "--jobs", "2")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        rows = table(r.stdout)
        self.assertEqual([row[2] for row in rows], ["PASS", "PASS", "ERROR"], r.stdout)
        self.assertRegex(r.stdout, re.escape(os.path.join(d, "b-bad.yaml")) + r":4:1: .*clientz")

    def test_unknown_client_is_an_error_row(self):
        r = self.ad("check", os.path.join(FOUNDING_DIR, "expired-root-cert.yaml"),
                    "--client", "outlook-1997")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("outlook-1997", r.stdout)

    def test_client_option_and_no_expectations(self):
        # The scenario expects nothing of a client it does not list.
        text = self.founding_text("expired-root-cert.yaml")
        text = text[:text.index("expect:")]
        d = self.folder({"plain.yaml": text})
        r = self.ad("check", d, "--client", "outlook-2016-msi")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        rows = table(r.stdout)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][1:3], ["outlook-2016-msi", "NO-EXPECT"])

    def test_bases_for_extends_are_not_run(self):
        d = self.folder({"_base.yaml": "this: is: not: a scenario\n",
                         "sub/a.yaml": self.founding_text("fix-renew-root-cert.yaml"),
                         "sub/_other.yaml": "also not a scenario: [\n"})
        r = self.ad("check", d, "--jobs", "1")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual([os.path.basename(row[0]) for row in table(r.stdout)],
                         ["a.yaml", "a.yaml"])

    def test_junit_validates_and_counts_match(self):
        if shutil.which("xmllint") is None:
            self.skipTest("xmllint (libxml2-utils) is not installed")
        text = self.founding_text("fix-renew-root-cert.yaml")
        wrong = re.sub(r"outcome: settings", "outcome: failure", text, count=1)
        plain = text[:text.index("expect:")]
        d = self.folder({"a.yaml": text, "b-wrong.yaml": wrong, "c-plain.yaml": plain,
                         "d-bad.yaml": "name: [\n"})
        out = os.path.join(self.tmp, "junit.xml")
        r = self.ad("check", d, "--junit", out, "--jobs", "2")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        v = subprocess.run(["xmllint", "--noout", "--schema", XSD, out],
                           capture_output=True, text=True)
        self.assertEqual(v.returncode, 0, v.stderr)
        import xml.etree.ElementTree as ET
        root = ET.parse(out).getroot()
        self.assertEqual(root.tag, "testsuites")
        self.assertEqual(root.get("tests"), "7")  # 3 scenarios x 2 clients + 1 that cannot run
        self.assertEqual(root.get("failures"), "1")
        self.assertEqual(root.get("errors"), "1")
        self.assertEqual(root.get("skipped"), "2")
        suites = root.findall("testsuite")
        self.assertEqual([os.path.basename(s.get("name")) for s in suites],
                         ["a.yaml", "b-wrong.yaml", "c-plain.yaml", "d-bad.yaml"])
        for s in suites:
            cases = s.findall("testcase")
            self.assertEqual(int(s.get("tests")), len(cases))
            self.assertEqual(int(s.get("failures")), len(s.findall("testcase/failure")))
            self.assertEqual(int(s.get("errors")), len(s.findall("testcase/error")))
            self.assertEqual(int(s.get("skipped")), len(s.findall("testcase/skipped")))
            for c in cases:
                self.assertEqual(c.get("classname"), s.get("name"))
        failure = suites[1].find("testcase/failure")
        self.assertEqual(suites[1].find("testcase").get("name"), "outlook-2016-msi")
        self.assertIn("outcome: expected failure, got settings", failure.text)
        self.assertIn("outcome: expected failure", failure.get("message"))

    def test_html_writes_a_page_per_walk_and_an_index(self):
        text = self.founding_text("fix-renew-root-cert.yaml")
        wrong = re.sub(r"outcome: settings", "outcome: failure", text, count=1)
        d = self.folder({"ok/a.yaml": text, "b-wrong.yaml": wrong, "d-bad.yaml": "name: [\n"})
        out = os.path.join(self.tmp, "html", "made")  # the last folder is made
        os.makedirs(os.path.dirname(out), exist_ok=True)
        r = self.ad("check", d, "--html", out, "--jobs", "2")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)  # d-bad.yaml is bad input
        self.assertEqual(sorted(os.listdir(out)),
                         ["b-wrong.mso-xdscli.html", "b-wrong.outlook-2016-msi.html",
                          "index.html", "ok_a.mso-xdscli.html", "ok_a.outlook-2016-msi.html"])
        with open(os.path.join(out, "index.html")) as f:
            index = f.read()
        rows = re.findall(r'<tr class="row [A-Z-]+" data-scenario="([^"]*)" data-client="([^"]*)"'
                          r' data-verdict="([^"]*)" data-page="([^"]*)">', index)
        self.assertEqual([(os.path.relpath(p, d), c, v, page) for p, c, v, page in rows],
                         [("b-wrong.yaml", "outlook-2016-msi", "FAIL",
                           "b-wrong.outlook-2016-msi.html"),
                          ("b-wrong.yaml", "mso-xdscli", "PASS", "b-wrong.mso-xdscli.html"),
                          ("d-bad.yaml", "", "ERROR", ""),
                          ("ok/a.yaml", "outlook-2016-msi", "PASS", "ok_a.outlook-2016-msi.html"),
                          ("ok/a.yaml", "mso-xdscli", "PASS", "ok_a.mso-xdscli.html")])
        self.assertIn('<a href="ok_a.mso-xdscli.html">mso-xdscli</a>', index)
        self.assertIn("outcome: expected failure, got settings", index)  # the failure, escaped
        self.assertIn('data-pass="3" data-fail="1" data-no-expect="0" data-error="1"', index)
        self.assertNotIn("<script", index)
        with open(os.path.join(out, "ok_a.outlook-2016-msi.html")) as f:
            page = f.read()
        self.assertIn('<svg class="sequence"', page)
        self.assertIn('data-client="outlook-2016-msi"', page)
        # a folder that cannot be made, and --html with a journal, are bad input
        r = self.ad("check", d, "--html", os.path.join(self.tmp, "no", "such", "dir"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("--html", r.stderr)

    def test_html_under_a_sweep_keeps_a_page_per_value(self):
        d = self.folder({"a.yaml": self.founding_text("expired-root-cert.yaml")})
        out = os.path.join(self.tmp, "sweep-html")
        r = self.ad("check", d, "--sweep", "ExcludeHttpsRootDomain=0,1", "--html", out)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)  # =1: the prompt is gone
        self.assertEqual(sorted(os.listdir(out)),
                         ["a.mso-xdscli.ExcludeHttpsRootDomain_0.html",
                          "a.mso-xdscli.ExcludeHttpsRootDomain_1.html",
                          "a.outlook-2016-msi.ExcludeHttpsRootDomain_0.html",
                          "a.outlook-2016-msi.ExcludeHttpsRootDomain_1.html", "index.html"])
        with open(os.path.join(out, "a.outlook-2016-msi.ExcludeHttpsRootDomain_0.html")) as f:
            self.assertIn('data-step="https-root"', f.read())
        with open(os.path.join(out, "a.outlook-2016-msi.ExcludeHttpsRootDomain_1.html")) as f:
            self.assertNotIn('class="prompt"', f.read())

    def test_json(self):
        r = self.ad("check", FOUNDING_DIR, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["exit"], 0)
        self.assertEqual(doc["totals"]["pass"], 2 * len(FOUNDING))
        self.assertEqual([os.path.basename(s["path"]) for s in doc["scenarios"]], FOUNDING)
        first = doc["scenarios"][FOUNDING.index("expired-root-cert.yaml")]["results"][0]
        self.assertEqual(first["verdict"], "PASS")
        self.assertEqual(first["prompts"], "certificate contoso.com (expired)")
        self.assertEqual(first["failures"], [])

    def test_progress_only_on_a_terminal(self):
        main_fd, term_fd = pty.openpty()
        try:
            for quiet in ([], ["--quiet"]):
                r = subprocess.run([AD_BIN, "--ca-dir", self.ca, *quiet, "check", FOUNDING_DIR],
                                   stdout=subprocess.PIPE, stderr=term_fd, timeout=120)
                self.assertEqual(r.returncode, 0)
                seen = b""
                while select.select([main_fd], [], [], 0.2)[0]:
                    seen += os.read(main_fd, 65536)
                if quiet:
                    self.assertEqual(seen, b"")
                else:
                    self.assertIn(b"[%d/%d] " % (len(FOUNDING), len(FOUNDING)), seen)
                    self.assertTrue(seen.endswith(b"\r\x1b[K"), seen)  # the line is cleared
        finally:
            os.close(main_fd)
            os.close(term_fd)

    def test_missing_path_and_bad_jobs(self):
        self.assertEqual(self.ad("check", os.path.join(self.tmp, "nope")).returncode, 2)
        self.assertEqual(self.ad("check", FOUNDING_DIR, "--jobs", "0").returncode, 2)

    def test_help(self):
        for cmd in (["check", "--help"], ["diff", "--help"], ["validate", "--help"],
                    ["run", "--help"], ["--help"]):
            r = self.ad(*cmd)
            self.assertEqual(r.returncode, 0, cmd)
            self.assertIn("usage: autodisco", r.stdout)
        r = self.ad("--help")
        for word in ("run", "check", "diff", "serve", "sandbox", "ca", "validate"):
            self.assertIn("\n  " + word + " ", r.stdout)
        # the overview names every `ca` subcommand that `ca --help` names, and no other
        ca_usage = self.ad("ca", "--help").stdout
        subs = re.findall(r"autodisco (?:\[--ca-dir DIR\] )?ca (\w+)", ca_usage)
        listed = re.search(r"^  ca (\S+)$", r.stdout, re.M)
        self.assertIsNotNone(listed, r.stdout)
        self.assertEqual(sorted(listed.group(1).split("|")), sorted(subs))
        self.assertIn("profiles", subs)
        self.assertIn("--real-time", self.ad("run", "--help").stdout)
        self.assertIn("--real-time", self.ad("check", "--help").stdout)
        r = self.ad("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^autodisco \d+\.\d+\.\d+\n$")


if __name__ == "__main__":
    main()
