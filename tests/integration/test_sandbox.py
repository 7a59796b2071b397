"""`autodisco sandbox`: unmodified clients (curl, kdig, python3-exchangelib) run in private
network and mount namespaces whose resolver is the lab's DNS and whose trust store holds the
lab CA — no --resolve, --cacert or port map. The host's own /etc files stay as they were.
Needs root; skipped (visibly) otherwise."""
import json
import os
import re
import shutil
import sys
import tempfile
import unittest

from labharness import AD_BIN, SKIP, run, scenario, main

SCN = scenario("scenarios/founding/expired-root-cert.yaml")
EWS = "https://mail.contoso.com/EWS/Exchange.asmx"
REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>alice@contoso.com</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>
"""
EXCHANGELIB = (
    "from exchangelib.autodiscover.discovery.pox import PoxAutodiscovery; "
    "from exchangelib import Credentials; "
    "ad, p = PoxAutodiscovery('alice@contoso.com', "
    "Credentials('alice@contoso.com', 'Lab-Passw0rd')).discover(); "
    "print(p.service_endpoint)")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def temp_dirs():
    """The sandbox's temporary directories (mkdtemp's /tmp/autodisco-sandbox-XXXXXX)."""
    return {n for n in os.listdir("/tmp") if re.fullmatch(r"autodisco-sandbox-\w{6}", n)}


class SandboxTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="autodisco-sandbox-test-")
        cls.ca = os.path.join(cls.tmp, "ca")
        cls.body = os.path.join(cls.tmp, "req.xml")
        with open(cls.body, "w") as f:
            f.write(REQUEST)
        cls.before = {p: read(p) for p in ("/etc/resolv.conf", "/etc/hosts")}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def sandbox(self, *cmd, journal=None):
        extra = ["--journal", journal] if journal else []
        before = temp_dirs()
        r = run([AD_BIN, "--ca-dir", self.ca, "sandbox", SCN, *extra, "--", *cmd], cwd=self.tmp)
        self.assertEqual(temp_dirs() - before, set(), "the sandbox's temporary files were left")
        return r

    def assert_host_untouched(self):
        for path, data in self.before.items():
            self.assertEqual(read(path), data, path)

    def test_curl_gets_the_settings_through_the_lab_dns_and_ca(self):
        journal = os.path.join(self.tmp, "journal.jsonl")
        r = self.sandbox("curl", "-sS", "-X", "POST", "-H", "Content-Type: text/xml",
                         "--data-binary", "@" + self.body,
                         "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                         journal=journal)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("<Autodiscover", r.stdout)
        self.assertIn(EWS, r.stdout)
        self.assertNotIn("autodisco:", r.stdout)  # notes stay on stderr
        with open(journal) as f:
            events = [json.loads(line) for line in f]
        self.assertTrue(any(e["ev"] == "http.request" for e in events), events)
        self.assert_host_untouched()

    def test_curl_rejects_the_expired_root_and_its_status_is_the_exit_status(self):
        r = self.sandbox("curl", "-sS", "https://contoso.com/")
        self.assertEqual(r.returncode, 60, r.stdout + r.stderr)
        self.assertIn("expired", r.stderr)
        self.assert_host_untouched()

    def test_kdig_uses_the_lab_dns_from_resolv_conf(self):
        r = self.sandbox("kdig", "+short", "contoso.com", "A")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.strip(), r"^127\.\d+\.\d+\.\d+$")
        # The hosts file inside holds localhost only; outside it is the host's.
        r = self.sandbox("cat", "/etc/hosts", "/etc/resolv.conf")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("nameserver 127.0.0.1", r.stdout)
        self.assertNotIn(self.before["/etc/resolv.conf"].decode(), r.stdout)
        self.assert_host_untouched()

    def test_exchangelib_without_a_shim(self):
        journal = os.path.join(self.tmp, "exchangelib.jsonl")
        r = self.sandbox("/usr/bin/python3", "-c", EXCHANGELIB, journal=journal)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), EWS)
        self.assertNotIn("Lab-Passw0rd", read(journal).decode())
        self.assert_host_untouched()

    def test_signals_and_missing_commands(self):
        r = self.sandbox("sh", "-c", "kill -TERM $$")
        self.assertEqual(r.returncode, 128 + 15, r.stderr)
        r = self.sandbox("autodisco-no-such-command")
        self.assertEqual(r.returncode, 127, r.stderr)
        self.assertIn("cannot run autodisco-no-such-command", r.stderr)
        self.assert_host_untouched()

    def test_bad_input(self):
        r = run([AD_BIN, "--ca-dir", self.ca, "sandbox", SCN])
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: autodisco sandbox", r.stderr)
        r = run([AD_BIN, "--ca-dir", self.ca, "sandbox", SCN, "--journal", "-", "--", "true"])
        self.assertEqual(r.returncode, 2)
        r = run([AD_BIN, "--ca-dir", self.ca, "sandbox",
                 os.path.join(self.tmp, "missing.yaml"), "--", "true"])
        self.assertEqual(r.returncode, 2)

    def test_unprivileged_is_refused_clearly(self):
        tmp = tempfile.mkdtemp(prefix="autodisco-nobody-")
        try:
            os.chmod(tmp, 0o777)
            binary = os.path.join(tmp, "autodisco")
            shutil.copy(AD_BIN, binary)
            os.chmod(binary, 0o755)
            scn = os.path.join(tmp, "expired.yaml")
            shutil.copy(SCN, scn)
            os.chmod(scn, 0o644)
            env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "XDG_DATA_HOME": os.path.join(tmp, "d")}
            r = run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                     binary, "sandbox", scn, "--", "true"], env=env, cwd=tmp)
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertIn("sandbox needs root: it creates network and mount namespaces", r.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("SKIPPED: sandbox needs root (network and mount namespaces); run the suite as "
              "root to cover it", file=sys.stderr)
        sys.exit(SKIP)
    main()
