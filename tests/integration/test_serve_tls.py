"""openssl s_client against the lab's HTTPS hosts: each certificate profile fails (or passes)
verification for the reason it claims, and the journal records the ClientHello and the alert."""
import unittest

from labharness import Lab, run, scenario, main

SCN = scenario("tests/data/integration/lab-dns.yaml")


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(SCN)

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()

    def s_client(self, host_id, sni):
        h = self.lab.host(host_id)
        r = run(["openssl", "s_client", "-connect", f"{h['address']}:{h['https']}",
                 "-servername", sni, "-CAfile", self.lab.ca_pem, "-verify_return_error",
                 "-verify_hostname", sni, "-brief"], input="")
        return r.returncode, r.stdout + r.stderr

    def test_valid_certificate_verifies_with_the_lab_ca(self):
        rc, out = self.s_client("exchange", "autodiscover.contoso.com")
        self.assertEqual(rc, 0, out)
        self.assertIn("Verification: OK", out)

    def test_expired_certificate_fails_as_expired(self):
        rc, out = self.s_client("www", "contoso.com")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("certificate has expired", out)

    def test_untrusted_root_fails_to_find_its_issuer(self):
        rc, out = self.s_client("hoster", "mail.hoster.net")
        self.assertNotEqual(rc, 0, out)
        self.assertRegex(out, r"unable to get local issuer certificate|self.signed certificate in")

    def test_wrong_name_fails_hostname_check(self):
        rc, out = self.s_client("exchange", "contoso.com")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("hostname mismatch", out)

    def test_not_yet_valid_certificate_fails_as_not_yet_valid(self):
        rc, out = self.s_client("future", "future.contoso.com")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("certificate is not yet valid", out)

    def test_self_signed_certificate_fails_as_self_signed(self):
        rc, out = self.s_client("selfsigned", "selfsigned.contoso.com")
        self.assertNotEqual(rc, 0, out)
        self.assertRegex(out, r"self.signed certificate")

    def test_wrong_name_profile_fails_for_the_hosts_own_name(self):
        rc, out = self.s_client("wrongname", "wrongname.contoso.com")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("hostname mismatch", out)
        # ...while the certificate itself is the lab CA's and otherwise sound.
        h = self.lab.host("wrongname")
        r = run(["openssl", "s_client", "-connect", f"{h['address']}:{h['https']}",
                 "-servername", "wrongname.contoso.com", "-CAfile", self.lab.ca_pem,
                 "-verify_return_error", "-brief"], input="")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_journal_records_hello_and_the_clients_alert(self):
        self.s_client("www", "www.contoso.com")
        hello = self.lab.wait_event("tls.hello", lambda e: e.get("host") == "www.contoso.com")
        self.assertTrue(hello["versions"], hello)
        alert = self.lab.wait_event("tls.alert", lambda e: e.get("host") == "www.contoso.com")
        self.assertIn("expired", alert["alert"])

    def test_ready_line_reports_no_port_where_nothing_listens(self):
        self.assertIsNone(self.lab.host("exchange")["http"])
        self.assertIsInstance(self.lab.host("www")["http"], int)


if __name__ == "__main__":
    main()
