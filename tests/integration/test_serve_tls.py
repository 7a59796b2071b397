"""openssl s_client against the lab's HTTPS hosts: each certificate profile fails (or passes)
verification for the reason it claims, and the journal records the ClientHello and the alert."""
import os
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

    def s_client(self, host_id, sni, *extra, verify_host="", ca_file=None):
        """openssl s_client to the host trusting `ca_file` (default: the lab CA); checks
        `verify_host` (default: the SNI; None: no name)."""
        h = self.lab.host(host_id)
        name = sni if verify_host == "" else verify_host
        check = ["-verify_hostname", name] if name is not None else []
        r = run(["openssl", "s_client", "-connect", f"{h['address']}:{h['https']}",
                 "-servername", sni, "-CAfile", ca_file or self.lab.ca_pem, "-verify_return_error",
                 *check, "-brief", *extra], input="")
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

    def test_incomplete_chain_fails_to_find_its_issuer(self):
        rc, out = self.s_client("incomplete", "incomplete.contoso.com")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("unable to get local issuer certificate", out)
        # The server leaves out the lab intermediate; a client that has it (as AIA fetching
        # would give it) accepts the chain.
        both = os.path.join(self.lab.tmp, "ca-and-intermediate.pem")
        with open(both, "w") as f:
            for part in (self.lab.ca_pem, os.path.join(self.lab.ca_dir, "intermediate.pem")):
                with open(part) as src:
                    f.write(src.read())
        rc, out = self.s_client("incomplete", "incomplete.contoso.com", ca_file=both)
        self.assertEqual(rc, 0, out)
        self.assertIn("Verification: OK", out)

    def test_sha1_signature_is_too_weak_for_openssl(self):
        rc, out = self.s_client("sha1", "sha1.contoso.com")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("CA signature digest algorithm too weak", out)

    def test_rsa_1024_key_is_too_weak_for_openssl(self):
        rc, out = self.s_client("rsa1024", "rsa1024.contoso.com")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("EE certificate key too weak", out)
        # Nothing else is wrong: at security level 1 the same chain verifies.
        rc, out = self.s_client("rsa1024", "rsa1024.contoso.com", "-cipher", "DEFAULT@SECLEVEL=1")
        self.assertEqual(rc, 0, out)

    def test_wildcard_matches_one_label_below_its_parent_only(self):
        rc, out = self.s_client("wild", "wild.contoso.com")
        self.assertEqual(rc, 0, out)
        self.assertIn("Verified peername: *.contoso.com", out)
        rc, out = self.s_client("wild", "contoso.com")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("hostname mismatch", out)

    def test_san_missing_host_fails_hostname_check(self):
        rc, out = self.s_client("sanmissing", "sanmissing.contoso.com")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("hostname mismatch", out)
        # The SAN holds a sibling name instead.
        rc, out = self.s_client("sanmissing", "sanmissing.contoso.com",
                                verify_host="other.contoso.com")
        self.assertEqual(rc, 0, out)

    def test_ip_only_verifies_by_address_not_by_name(self):
        rc, out = self.s_client("iponly", "iponly.contoso.com")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("hostname mismatch", out)
        address = self.lab.host("iponly")["address"]
        rc, out = self.s_client("iponly", "iponly.contoso.com", "-verify_ip", address,
                                verify_host=None)
        self.assertEqual(rc, 0, out)
        self.assertIn("Verification: OK", out)
        rc, out = self.s_client("iponly", "iponly.contoso.com", "-verify_ip", "127.77.255.1",
                                verify_host=None)
        self.assertNotEqual(rc, 0, out)
        self.assertIn("IP address mismatch", out)

    def test_key_type_rsa_2048_is_served(self):
        rc, out = self.s_client("rsakey", "rsakey.contoso.com")
        self.assertEqual(rc, 0, out)
        self.assertIn("Signature type: RSA-PSS", out)  # the leaf's key signs the handshake

    def test_validity_override_is_served(self):
        rc, out = self.s_client("dated", "dated.contoso.com")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("certificate has expired", out)

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
