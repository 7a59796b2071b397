"""curl against the lab's web servers: a real POX request gets the settings XML with the
address echoed; the web site answers 404 for Autodiscover; the journal has the exchange. The
scenario-v2 answers (routes.yaml): route headers, 401 challenges, AutoDV2 JSON, raw bodies,
delays, old TLS, and hosts that reset, black-hole or ignore their clients."""
import json
import os
import re
import subprocess
import time
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



ROUTES = scenario("tests/data/integration/routes.yaml")


class RoutesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(ROUTES)
        cls.body = os.path.join(cls.lab.tmp, "request.xml")
        with open(cls.body, "w") as f:
            f.write(REQUEST)

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()

    def curl(self, host_id, name, path, *extra, scheme="https", text=True):
        h = self.lab.host(host_id)
        nominal = 443 if scheme == "https" else 80
        cmd = ["curl", "-sS", "--max-time", "10", "--cacert", self.lab.ca_pem,
               "--connect-to", f"{name}:{nominal}:{h['address']}:{h[scheme]}", *extra,
               f"{scheme}://{name}{path}"]
        return subprocess.run(cmd, capture_output=True, text=text, timeout=60)

    def pox(self, path):
        r = self.curl("exchange", "autodiscover.contoso.com", path, "-H", "Content-Type: text/xml",
                      "--data-binary", "@" + self.body, "-w", "\n%{http_code} %{content_type}")
        self.assertEqual(r.returncode, 0, r.stderr)
        body, _, status = r.stdout.rpartition("\n")
        self.assertTrue(status.startswith("200 text/xml"), status)
        return body

    def test_pox_redirect_addr(self):
        body = self.pox("/pox/redirect-addr")
        self.assertIn("<Action>redirectAddr</Action>", body)
        self.assertIn("<RedirectAddr>alice@contoso.mail.onmicrosoft.com</RedirectAddr>", body)

    def test_pox_redirect_url(self):
        body = self.pox("/pox/redirect-url")
        self.assertIn("<Action>redirectUrl</Action>", body)
        self.assertIn("<RedirectUrl>https://autodiscover.contoso.com/pox/next.xml</RedirectUrl>",
                      body)

    def test_pox_error_codes_and_messages(self):
        body = self.pox("/pox/error-500")
        self.assertIn("<ErrorCode>500</ErrorCode>", body)
        self.assertRegex(body, r"<Message>The e-?mail address can.?t be found\.?</Message>")
        body = self.pox("/pox/error-603")
        self.assertIn("<ErrorCode>603</ErrorCode>", body)
        self.assertIn("<Message>The lab is on fire</Message>", body)
        # An Error keeps the outer namespace: no 2006a Response (protocol notes §3.5).
        self.assertNotIn("responseschema/2006a", body)

    def test_any_3xx_with_location(self):
        r = self.curl("exchange", "autodiscover.contoso.com", "/moved", "-i")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^HTTP/1\.1 308")
        self.assertRegex(r.stdout, r"(?im)^location: https://autodiscover\.contoso\.com/"
                         r"autodiscover/autodiscover\.xml\r?$")

    def test_html_page(self):
        r = self.curl("exchange", "autodiscover.contoso.com", "/home", "-i")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?im)^content-type: text/html")
        self.assertIn("<h1>Contoso home</h1>", r.stdout)

    def test_route_headers_on_the_answer(self):
        r = self.curl("exchange", "autodiscover.contoso.com", "/headers", "-i")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, re.compile(r"^X-Frame-Options: DENY\r?$", re.M))
        self.assertRegex(r.stdout, re.compile(r"^X-Lab: yes\r?$", re.M))
        self.assertTrue(r.stdout.rstrip().endswith("with headers"), r.stdout)

    def test_401_challenge_lists_every_scheme_then_settings(self):
        r = self.curl("exchange", "autodiscover.contoso.com", "/autodiscover/autodiscover.xml",
                      "-i", "-H", "Content-Type: text/xml", "--data-binary", "@" + self.body)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("HTTP/1.1 401 Unauthorized"), r.stdout)
        challenges = re.findall(r"^WWW-Authenticate: (.*?)\r?$", r.stdout, re.M)
        self.assertEqual(challenges, ['Basic realm="contoso"', "NTLM", "Negotiate"])
        self.assertRegex(r.stdout, re.compile(r"^X-Lab-Route: pox\r?$", re.M))
        self.lab.wait_event("http.response", lambda e: e.get("status") == 401
                            and e.get("challenged") is True)
        # With credentials (accept: true) the route answers: its explicit Protocol blocks.
        r = self.curl("exchange", "autodiscover.contoso.com", "/autodiscover/autodiscover.xml",
                      "-u", "alice:Lab-Passw0rd", "--basic", "-H", "Content-Type: text/xml",
                      "--data-binary", "@" + self.body)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("<Action>settings</Action>", r.stdout)
        self.assertIn("<AuthPackage>Ntlm</AuthPackage>", r.stdout)
        self.assertIn('<OWAUrl AuthenticationMethod="Fba">https://mail.contoso.com/owa/</OWAUrl>',
                      r.stdout)
        with open(self.lab.journal) as f:
            self.assertNotIn("Lab-Passw0rd", f.read())

    def test_locked_route_refuses_credentials(self):
        r = self.curl("exchange", "autodiscover.contoso.com", "/locked", "-i",
                      "-H", "Authorization: Negotiate YWJj")
        self.assertTrue(r.stdout.startswith("HTTP/1.1 401"), r.stdout)
        self.assertNotIn("never shown", r.stdout)

    def test_autodv2_json(self):
        r = self.curl("exchange", "autodiscover.contoso.com",
                      "/autodiscover/autodiscover.json?Email=alice%40contoso.com"
                      "&Protocol=AutodiscoverV1", "-w", "\n%{http_code} %{content_type}")
        self.assertEqual(r.returncode, 0, r.stderr)
        body, _, status = r.stdout.rpartition("\n")
        self.assertEqual(status, "200 application/json; charset=utf-8")
        self.assertEqual(json.loads(body), {
            "Protocol": "AutodiscoverV1",
            "Url": "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"})
        r = self.curl("exchange", "autodiscover.contoso.com",
                      "/autodiscover/autodiscover.json/v1.0/alice@contoso.com?Protocol=ews",
                      "-w", "\n%{http_code}")
        body, _, status = r.stdout.rpartition("\n")
        self.assertEqual(status, "200")
        self.assertEqual(json.loads(body)["Url"], "https://mail.contoso.com/EWS/Exchange.asmx")
        r = self.curl("exchange", "autodiscover.contoso.com",
                      "/autodiscover/autodiscover.json?Email=alice@contoso.com&Protocol=Rest",
                      "-w", "\n%{http_code}")
        body, _, status = r.stdout.rpartition("\n")
        self.assertEqual(status, "400")
        err = json.loads(body)
        self.assertEqual(err["ErrorCode"], "InvalidProtocol")
        self.assertIn("'Rest'", err["ErrorMessage"])

    def test_raw_body_keeps_its_byte_order_mark(self):
        r = self.curl("exchange", "autodiscover.contoso.com", "/bom", "-o", "-", text=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b'\xef\xbb\xbf<?xml version="1.0"?><Broken')

    def test_reset_gives_curl_56(self):
        r = self.curl("reset", "reset.contoso.com", "/", scheme="http")
        self.assertEqual(r.returncode, 56, r.stderr)
        self.assertIn("reset", r.stderr.lower())
        self.lab.wait_event("tcp.reset", lambda e: e.get("host") == "reset")

    def test_reset_after_hello_journals_the_hello(self):
        r = self.curl("helloreset", "hello.contoso.com", "/")
        self.assertEqual(r.returncode, 35, r.stderr)
        self.lab.wait_event("tls.hello", lambda e: e.get("host") == "hello.contoso.com")
        self.lab.wait_event("tcp.reset", lambda e: e.get("why") == "reset-after-hello")

    def test_blackhole_connect_times_out(self):
        t0 = time.monotonic()
        r = self.curl("blackhole", "blackhole.contoso.com", "/", "--connect-timeout", "2")
        self.assertEqual(r.returncode, 28, r.stderr)
        self.assertGreaterEqual(time.monotonic() - t0, 1.9)

    def test_silent_host_times_out_in_the_handshake(self):
        r = self.curl("silent", "silent.contoso.com", "/", "--max-time", "1")
        self.assertEqual(r.returncode, 28, r.stderr)
        self.lab.wait_event("tls.hello", lambda e: e.get("host") == "silent.contoso.com")

    def test_delay_holds_the_answer(self):
        r = self.curl("slow", "slow.contoso.com", "/", "-w", "\n%{time_starttransfer}")
        self.assertEqual(r.returncode, 0, r.stderr)
        body, _, waited = r.stdout.rpartition("\n")
        self.assertEqual(body, "slow answer")
        self.assertGreaterEqual(float(waited), 0.4)
        self.lab.wait_event("http.response", lambda e: e.get("delay_ms") == 400)

    def test_tls10_only_host(self):
        h = self.lab.host("oldtls")
        base = ["openssl", "s_client", "-connect", f"{h['address']}:{h['https']}",
                "-servername", "old.contoso.com"]
        r = subprocess.run(base + ["-tls1_2"], input="", capture_output=True, text=True,
                           timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.lab.wait_event("tls.alert", lambda e: e.get("host") == "old.contoso.com"
                            and e.get("alert") == "protocol version")
        r = subprocess.run(base + ["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0",
                                   "-CAfile", self.lab.ca_pem], input="", capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Protocol  : TLSv1\n", r.stdout)
        self.assertIn("Verify return code: 0 (ok)", r.stdout)


if __name__ == "__main__":
    main()
