"""kdig (Knot's dig) against `autodisco serve`: A, SRV, NXDOMAIN with SOA, NODATA, TCP."""
import unittest

from labharness import Lab, run, scenario, main

SCN = scenario("tests/data/integration/lab-dns.yaml")


class DnsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(SCN)

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()

    def kdig(self, *args):
        r = run(["kdig", f"@{self.lab.dns_host}", "-p", str(self.lab.dns_port), "+norec",
                 "+timeout=3", "+retry=0", *args])
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_a_record_names_the_hosts_lab_address(self):
        out = self.kdig("+short", "contoso.com", "A")
        self.assertEqual(out.strip(), self.lab.host("www")["address"])

    def test_answer_is_authoritative(self):
        out = self.kdig("contoso.com", "A")
        self.assertIn("status: NOERROR", out)
        self.assertRegex(out, r"(?i)flags: qr aa")

    def test_cname_is_followed_within_the_lab(self):
        out = self.kdig("www.contoso.com", "A")
        self.assertRegex(out, r"www\.contoso\.com\.\s+\d+\s+IN\s+CNAME\s+contoso\.com\.")
        self.assertRegex(out, r"contoso\.com\.\s+\d+\s+IN\s+A\s+" + self.lab.host("www")["address"])

    def test_srv(self):
        out = self.kdig("+short", "_autodiscover._tcp.contoso.com", "SRV")
        self.assertEqual(out.strip(), "0 5 443 mail.hoster.net.")

    def test_nxdomain_carries_the_soa(self):
        out = self.kdig("nosuchname.contoso.com", "A")
        self.assertIn("status: NXDOMAIN", out)
        self.assertRegex(out, r"AUTHORITY SECTION:\s*\ncontoso\.com\.\s+\d+\s+IN\s+SOA")

    def test_nodata_for_a_type_the_name_lacks(self):
        out = self.kdig("contoso.com", "AAAA")
        self.assertIn("status: NOERROR", out)
        self.assertIn("ANSWER: 0", out)
        self.assertRegex(out, r"contoso\.com\.\s+\d+\s+IN\s+SOA")

    def test_tcp(self):
        out = self.kdig("+tcp", "autodiscover.contoso.com", "A")
        self.assertIn("status: NOERROR", out)
        self.assertIn(self.lab.host("exchange")["address"], out)
        self.assertIn("TCP", out)

    def test_servfail_behaviour(self):
        out = self.kdig("broken.contoso.com", "A")
        self.assertIn("status: SERVFAIL", out)

    def test_journal_records_queries(self):
        self.kdig("+short", "autodiscover.contoso.com", "A")
        e = self.lab.wait_event("dns.query", lambda e: e.get("qname") == "autodiscover.contoso.com")
        self.assertEqual(e["qtype"], "A")
        self.assertEqual(e["rcode"], "NOERROR")
        self.assertIn("t", e)


if __name__ == "__main__":
    main()
