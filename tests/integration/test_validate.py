"""`autodisco validate`: good files are ok, lint warnings are printed with their location and
fail only with --strict, a bad file exits 2 with file:line:col, folders are searched for
*.yaml without the _*.yaml bases."""
import os
import re
import shutil
import tempfile
import unittest

from labharness import AD_BIN, run, scenario, main

FOUNDING_DIR = scenario("scenarios/founding")

# A host nothing resolves to: the lab serves it, but no client can ever reach it.
LINT_BAIT = """name: lint-bait
description: a scenario that loads but has a host no DNS record names
domain: contoso.com
dns:
  records:
    - { name: autodiscover.contoso.com, type: A, host: exchange }
hosts:
  exchange:
    https:
      certificate: { profile: valid }
      routes:
        - path: /autodiscover/autodiscover.xml
          autodiscover: { settings: { ews: "https://mail.contoso.com/EWS/Exchange.asmx" } }
  orphan:
    https:
      certificate: { profile: valid, names: [orphan.contoso.com] }
      routes: [ { path: /, status: 200, html: "<h1>nobody comes here</h1>" } ]
"""


class ValidateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="autodisco-validate-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_founding_is_valid(self):
        r = run([AD_BIN, "validate", FOUNDING_DIR])
        self.assertEqual(r.returncode, 0, r.stderr)
        names = sorted(f for f in os.listdir(FOUNDING_DIR)
                       if f.endswith(".yaml") and not f.startswith("_"))
        self.assertEqual([os.path.basename(l.split(":")[0]) for l in r.stdout.splitlines()],
                         names)
        self.assertTrue(all(l.endswith(": ok") for l in r.stdout.splitlines()), r.stdout)

    def test_warnings_have_a_location_and_fail_only_when_strict(self):
        path = self.write("lint/bait.yaml", LINT_BAIT)
        r = run([AD_BIN, "validate", path])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stderr, re.escape(path) + r":\d+:\d+: warning: .*orphan")
        self.assertRegex(r.stdout, re.escape(path) + r": ok, \d+ warnings?")
        r = run([AD_BIN, "validate", "--strict", path])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        r = run([AD_BIN, "--quiet", "validate", path])
        self.assertEqual(r.stdout, "")
        self.assertIn("warning:", r.stderr)

    def test_bad_file_exits_2_with_location(self):
        bad = self.write("bad/bad.yaml", "name: bad\ndescription: x\ndomain: contoso.com\n"
                                         "clientz: []\n")
        good = os.path.join(FOUNDING_DIR, "expired-root-cert.yaml")
        r = run([AD_BIN, "validate", bad, good])
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr, re.escape(bad) + r":4:1: .*clientz")
        self.assertIn(good + ": ok", r.stdout)  # the other files are still checked

    def test_folders_skip_bases(self):
        d = os.path.join(self.tmp, "tree")
        self.write("tree/_base.yaml", "not: [a scenario\n")
        with open(os.path.join(FOUNDING_DIR, "fix-renew-root-cert.yaml")) as f:
            self.write("tree/deeper/one.yaml", f.read())
        self.write("tree/notes.txt", "not yaml at all")
        r = run([AD_BIN, "validate", d])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout, os.path.join(d, "deeper", "one.yaml") + ": ok\n")
        # A base named on its own is validated like any file.
        r = run([AD_BIN, "validate", os.path.join(d, "_base.yaml")])
        self.assertEqual(r.returncode, 2)

    def test_usage(self):
        self.assertEqual(run([AD_BIN, "validate"]).returncode, 2)
        self.assertEqual(run([AD_BIN, "validate", os.path.join(self.tmp, "missing")]).returncode,
                         2)
        r = run([AD_BIN, "validate", "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("--strict", r.stdout)


if __name__ == "__main__":
    main()
