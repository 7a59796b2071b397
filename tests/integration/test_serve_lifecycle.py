"""serve's contract: one ready line on stdout, clean exit on SIGTERM and SIGINT with every
journal line a complete JSON object, and bad input refused with exit 2."""
import json
import os
import re
import signal
import subprocess
import tempfile
import unittest

from labharness import AD_BIN, Lab, run, scenario, main, read_line

SCN = scenario("tests/data/integration/lab-dns.yaml")


class LifecycleTest(unittest.TestCase):
    def test_sigterm_exits_0_with_a_complete_journal(self):
        lab = Lab(SCN)
        try:
            r = run(["kdig", f"@{lab.dns_host}", "-p", str(lab.dns_port), "+short",
                     "contoso.com"])
            self.assertEqual(r.returncode, 0)
            self.assertEqual(lab.stop(), 0)
            with open(lab.journal) as f:
                lines = f.read().splitlines()
            self.assertTrue(lines)
            for line in lines:
                obj = json.loads(line)
                self.assertRegex(obj["t"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
                self.assertIn("ev", obj)
        finally:
            lab.close()

    def test_sigint_exits_0(self):
        lab = Lab(SCN)
        try:
            lab.proc.send_signal(signal.SIGINT)
            self.assertEqual(lab.proc.wait(timeout=20), 0)
        finally:
            lab.close()

    def test_ready_line_is_the_only_stdout(self):
        lab = Lab(SCN)
        try:
            self.assertEqual(lab.stop(), 0)
        finally:
            lab.close()
        # Lab.stop closed stdout after the ready line; a second serve shows nothing else comes.
        with tempfile.TemporaryDirectory() as tmp:
            p = subprocess.Popen([AD_BIN, "--ca-dir", os.path.join(tmp, "ca"), "serve", SCN,
                                  "--dns", "127.0.0.1:0", "--https-port", "0", "--http-port", "0"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            line = read_line(p.stdout, 60)
            self.assertTrue(line.startswith("ready {"))
            p.send_signal(signal.SIGTERM)
            rest = p.stdout.read()
            self.assertEqual(p.wait(timeout=20), 0)
            self.assertEqual(rest, b"")

    def test_bad_scenario_exits_2_with_its_location(self):
        with tempfile.TemporaryDirectory() as tmp:
            bad = os.path.join(tmp, "bad.yaml")
            with open(bad, "w") as f:
                f.write("name: bad\ndescription: x\ndomain: contoso.com\nhosts:\n  www:\n"
                        "    https:\n      certificate: { profile: expird }\n")
            r = run([AD_BIN, "--ca-dir", os.path.join(tmp, "ca"), "serve", bad,
                     "--dns", "127.0.0.1:0", "--https-port", "0", "--http-port", "0"])
            self.assertEqual(r.returncode, 2)
            self.assertRegex(r.stderr, re.escape(bad) + r":7:\d+: .*expird")
            self.assertEqual(r.stdout, "")


if __name__ == "__main__":
    main()
