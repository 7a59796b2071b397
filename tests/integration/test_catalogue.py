"""The whole catalogue through `autodisco check`: every scenario's expectations hold against
the running lab (the lab serves, the client models walk; nothing is asserted from a model's
own answer), every file validates, and the forty L-scenarios of the protocol notes are there."""
import glob
import os
import re
import shutil
import tempfile
import unittest
import xml.etree.ElementTree as ET

from labharness import AD_BIN, SOURCE, run, main


class CatalogueTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="autodisco-catalogue-")
        cls.ca = os.path.join(cls.tmp, "ca")
        cls.scenarios = os.path.join(SOURCE, "scenarios")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_every_expectation_holds(self):
        junit = os.path.join(self.tmp, "catalogue.xml")
        r = run([AD_BIN, "--ca-dir", self.ca, "check", self.scenarios, "--jobs", "2",
                 "--junit", junit])
        self.assertEqual(r.returncode, 0, r.stdout[-4000:] + r.stderr[-2000:])
        m = re.search(r"(\d+) passed, (\d+) failed", r.stdout)
        self.assertIsNotNone(m, r.stdout[-2000:])
        self.assertGreaterEqual(int(m.group(1)), 80)
        self.assertEqual(int(m.group(2)), 0)
        root = ET.parse(junit).getroot()
        cases = root.findall(".//testcase")
        self.assertEqual(len(cases), int(m.group(1)))
        self.assertEqual(root.findall(".//failure"), [])

    def test_forty_lab_scenarios_are_there(self):
        found = set()
        for path in glob.glob(os.path.join(self.scenarios, "**", "*.yaml"), recursive=True):
            with open(path) as f:
                found.update(int(n) for n in re.findall(r"\bL-(\d\d)\b", f.read()))
        self.assertEqual(set(range(1, 41)) - found, set())

    def test_every_file_validates(self):
        files = [p for p in glob.glob(os.path.join(self.scenarios, "**", "*.yaml"),
                                      recursive=True)]
        r = run([AD_BIN, "validate", *files])
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])


if __name__ == "__main__":
    main()
