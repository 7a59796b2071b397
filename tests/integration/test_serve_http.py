"""curl against the lab's web servers: a real POX request gets the settings XML with the
address echoed; the web site answers 404 for Autodiscover; the journal has the exchange."""
import os
import re
import unittest

from labharness import Lab, run, scenario, main

SCN = scenario("tests/data/integration/lab-dns.yaml")
REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>alice@contoso.com</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>
"""


class HttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(SCN)
        cls.body = os.path.join(cls.lab.tmp, "request.xml")
        with open(cls.body, "w") as f:
            f.write(REQUEST)

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()

    def curl(self, host_id, name, path, *extra, scheme="https"):
        h = self.lab.host(host_id)
        port = h[scheme]
        nominal = 443 if scheme == "https" else 80
        r = run(["curl", "-sS", "--max-time", "10", "--cacert", self.lab.ca_pem,
                 "--connect-to", f"{name}:{nominal}:{h['address']}:{port}",
                 "-o", "-", "-w", "\n%{http_code} %{content_type}", *extra,
                 f"{scheme}://{name}{path}"])
        return r

    def test_pox_request_gets_settings_with_the_address_echoed(self):
        r = self.curl("exchange", "autodiscover.contoso.com", "/autodiscover/autodiscover.xml",
                      "-H", "Content-Type: text/xml", "--data-binary", "@" + self.body)
        self.assertEqual(r.returncode, 0, r.stderr)
        body, _, status = r.stdout.rpartition("\n")
        self.assertTrue(status.startswith("200 text/xml"), status)
        self.assertIn("<Action>settings</Action>", body)
        self.assertIn("<AutoDiscoverSMTPAddress>alice@contoso.com</AutoDiscoverSMTPAddress>", body)
        self.assertIn("<EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl>", body)
        self.assertIn('xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/'
                      'responseschema/2006a"', body)

    def test_path_matches_case_insensitively(self):
        r = self.curl("exchange", "autodiscover.contoso.com", "/Autodiscover/Autodiscover.xml",
                      "-H", "Content-Type: text/xml", "--data-binary", "@" + self.body)
        self.assertTrue(r.stdout.rstrip().endswith("text/xml; charset=utf-8") or
                        " text/xml" in r.stdout, r.stdout)
        self.assertIn("<Action>settings</Action>", r.stdout)

    def test_web_site_answers_404_for_autodiscover(self):
        r = self.curl("www", "contoso.com", "/autodiscover/autodiscover.xml", "-k",
                      "--data-binary", "@" + self.body)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.rstrip().split("\n")[-1].startswith("404"), r.stdout)

    def test_plain_http_redirect(self):
        r = self.curl("www", "www.contoso.com", "/", scheme="http")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.rstrip().split("\n")[-1].startswith("301"), r.stdout)
        r2 = self.curl("www", "www.contoso.com", "/", "-I", scheme="http")
        self.assertRegex(r2.stdout, re.compile(r"^location: https://www\.contoso\.com/", re.I | re.M))

    def test_journal_has_request_and_response(self):
        self.curl("exchange", "autodiscover.contoso.com", "/autodiscover/autodiscover.xml",
                  "-H", "Content-Type: text/xml", "--data-binary", "@" + self.body)
        req = self.lab.wait_event("http.request", lambda e: e.get("email") == "alice@contoso.com")
        self.assertEqual(req["method"], "POST")
        self.assertEqual(req["path"].lower(), "/autodiscover/autodiscover.xml")
        self.lab.wait_event("http.response", lambda e: e.get("status") == 200)

    def test_credentials_never_reach_the_journal_in_clear(self):
        self.curl("exchange", "autodiscover.contoso.com", "/autodiscover/autodiscover.xml",
                  "-u", "alice:S3cretPassw0rd", "--basic", "-H", "Content-Type: text/xml",
                  "--data-binary", "@" + self.body)
        req = self.lab.wait_event("http.request", lambda e: "authorization" in e)
        self.assertEqual(req["authorization"]["scheme"], "Basic")
        with open(self.lab.journal) as f:
            text = f.read()
        self.assertNotIn("S3cretPassw0rd", text)
        self.assertNotIn("YWxpY2U6UzNjcmV0UGFzc3cwcmQ", text)  # base64 of alice:S3cretPassw0rd


if __name__ == "__main__":
    main()
