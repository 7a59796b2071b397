"""A scenario or journal path that is not a regular file — a FIFO nobody writes to, a device —
or a file past the size cap is refused before it is read: exit 2 with `PATH: not a regular
file`, never a command waiting forever (validate, run, serve, check, report, diff,
check --journal)."""
import os
import shutil
import subprocess
import tempfile
import unittest

from labharness import AD_BIN, scenario, main

GOOD = scenario("tests/data/integration/lab-hostile.yaml")


class InputPathsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="autodisco-paths-")
        cls.fifo = os.path.join(cls.tmp, "scenario.yaml")
        os.mkfifo(cls.fifo)
        cls.ca = os.path.join(cls.tmp, "ca")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def ad(self, *args):
        # a hang would be the bug: 30 s is far beyond what a refusal takes
        return subprocess.run([AD_BIN, "--ca-dir", self.ca, *args], capture_output=True,
                              text=True, timeout=30)

    def assert_refused(self, args, path, why="not a regular file"):
        r = self.ad(*args)
        self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
        self.assertIn(f"{path}: {why}", r.stderr, args)

    def test_scenario_fifo(self):
        self.assert_refused(["validate", self.fifo], self.fifo)
        self.assert_refused(["run", self.fifo], self.fifo)
        self.assert_refused(["serve", self.fifo, "--dns", "127.0.0.1:0", "--https-port", "0",
                             "--http-port", "0"], self.fifo)
        r = self.ad("check", self.fifo)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(f"{self.fifo}: not a regular file", r.stdout + r.stderr)
        self.assert_refused(["kit", "windows", os.path.join(self.tmp, "kit"), "--scenario",
                             self.fifo], self.fifo)

    def test_journal_fifo(self):
        self.assert_refused(["report", self.fifo], self.fifo, "cannot read it: not a regular file")
        self.assert_refused(["check", GOOD, "--journal", self.fifo, "--client", "mso-xdscli"],
                            self.fifo, "cannot read it: not a regular file")
        self.assert_refused(["diff", self.fifo, GOOD], self.fifo)

    def test_a_device_and_a_file_past_the_cap(self):
        self.assert_refused(["validate", "/dev/zero"], "/dev/zero")
        big = os.path.join(self.tmp, "big.yaml")
        with open(big, "w") as f:
            f.write("# " + "x" * (1 << 20) + "\n")
        self.assert_refused(["validate", big], big, "larger than 1048576 bytes")
        self.assert_refused(["validate", os.path.join(self.tmp, "none.yaml")],
                            os.path.join(self.tmp, "none.yaml"), "No such file or directory")


if __name__ == "__main__":
    main()
