"""`autodisco ca`: created per user with a private key only the user can read, described,
exported as PEM and DER that openssl reads, name-constrained, re-created by init --permit."""
import os
import shutil
import stat
import tempfile
import unittest

from labharness import AD_BIN, run, main


class CaCliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="autodisco-ca-")
        self.ca = os.path.join(self.tmp, "ca")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def ad(self, *args, **kw):
        return run([AD_BIN, "--ca-dir", self.ca, *args], **kw)

    def test_show_creates_a_private_ca(self):
        r = self.ad("ca", "show")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("contoso.com", r.stdout)
        self.assertRegex(r.stdout, r"([0-9A-F]{2}:){31}[0-9A-F]{2}")
        self.assertEqual(stat.S_IMODE(os.stat(self.ca).st_mode), 0o700)
        keys = [f for f in os.listdir(self.ca) if f.endswith(".key") or "key" in f]
        self.assertTrue(keys, os.listdir(self.ca))
        for k in keys:
            path = os.path.join(self.ca, k)
            if os.path.isfile(path):
                self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600, path)

    def test_export_pem_and_der(self):
        pem = os.path.join(self.tmp, "ca.pem")
        der = os.path.join(self.tmp, "ca.der")
        self.assertEqual(self.ad("ca", "export", "--pem", pem).returncode, 0)
        self.assertEqual(self.ad("ca", "export", "--der", der).returncode, 0)
        r1 = run(["openssl", "x509", "-in", pem, "-noout", "-fingerprint", "-sha256", "-text"])
        r2 = run(["openssl", "x509", "-inform", "DER", "-in", der, "-noout", "-fingerprint",
                  "-sha256"])
        self.assertEqual(r1.returncode, 0, r1.stderr)
        self.assertEqual(r2.returncode, 0, r2.stderr)
        self.assertEqual(r1.stdout.splitlines()[0], r2.stdout.splitlines()[0])
        self.assertIn("CA:TRUE", r1.stdout)
        self.assertIn("Name Constraints", r1.stdout)
        self.assertIn("DNS:contoso.com", r1.stdout)
        self.assertIn("DNS:test", r1.stdout)

    def test_init_permit_recreates_with_the_new_domain(self):
        pem1 = os.path.join(self.tmp, "1.pem")
        pem2 = os.path.join(self.tmp, "2.pem")
        self.ad("ca", "export", "--pem", pem1)
        r = self.ad("ca", "init", "--permit", "corp.example.org")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.ad("ca", "export", "--pem", pem2)
        t2 = run(["openssl", "x509", "-in", pem2, "-noout", "-text"]).stdout
        self.assertIn("DNS:corp.example.org", t2)
        with open(pem1) as a, open(pem2) as b:
            self.assertNotEqual(a.read(), b.read())

    def test_profiles_are_listed_with_badssl_counterparts(self):
        r = run([AD_BIN, "ca", "profiles"])
        self.assertEqual(r.returncode, 0)
        for p in ("valid", "expired", "not-yet-valid", "wrong-name", "self-signed",
                  "untrusted-root"):
            self.assertRegex(r.stdout, rf"(?m)^{p}\s")
        self.assertRegex(r.stdout, r"(?m)^expired\s+.*expired\.badssl\.com$")
        self.assertEqual(len(r.stdout.splitlines()), 12)  # one line a profile

    def test_scenario_name_outside_constraints_stops_run(self):
        scn = os.path.join(self.tmp, "outside.yaml")
        with open(scn, "w") as f:
            f.write("name: outside\ndescription: a domain the CA may not sign\n"
                    "domain: notpermitted.org\n"
                    "dns:\n  records:\n    - { name: notpermitted.org, type: A, host: www }\n"
                    "hosts:\n  www:\n    https:\n      certificate: { profile: valid }\n"
                    "      routes: [ { path: /, status: 200, body: hi } ]\n"
                    "clients: [outlook-2016-msi]\n")
        r = self.ad("run", scn)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("notpermitted.org", r.stderr)
        self.assertIn("ca init --permit", r.stderr)


if __name__ == "__main__":
    main()
