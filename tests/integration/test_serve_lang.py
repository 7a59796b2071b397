"""curl and kdig against `autodisco serve` on the language of issue 11 (lang.yaml): a route's
answers chosen per request — the first POST gets redirectAddr, bob's gets an error, the rest
the settings — with http.response saying which; listeners on 8443 (TLS, with the host's lab
certificate) and 8080 (plain) in the ready line, lab.start and the port map; a path
percent-decoded before it is matched; bodies in UTF-16 and invalid UTF-8 served byte for byte;
DNS answers given as bytes that kdig, a parser nobody here wrote, refuses or reads as they were
written."""
import json
import os
import subprocess
import unittest

from labharness import Lab, run, scenario, main

SCN = scenario("tests/data/integration/lang.yaml")


def pox(email):
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>{email}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>
"""


class LangTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(SCN)
        cls.host = cls.lab.host("exchange")
        cls.ports = {l["port"]: l for l in cls.host["listeners"]}

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()

    def curl(self, url, nominal, real, *extra):
        """curl `url` with its host and nominal port sent to the lab's address and real port;
        returns (status, body bytes)."""
        name = url.split("/")[2].split(":")[0]
        r = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", self.lab.ca_pem,
                            "--path-as-is", "--connect-to",
                            f"{name}:{nominal}:{self.host['address']}:{real}",
                            "-o", "-", "-w", "\n%{http_code}", *extra, url],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        body, _, status = r.stdout.rpartition(b"\n")
        return int(status), body

    def post(self, email, path="/autodiscover/autodiscover.xml"):
        return self.curl(f"https://autodiscover.contoso.com{path}", 443, self.host["https"],
                         "-H", "Content-Type: text/xml", "--data-binary", pox(email))

    def responses(self):
        return [e for e in self.lab.events("http.response")
                if e.get("route") == "/autodiscover/autodiscover.xml"]

    def kdig(self, *args):
        return run(["kdig", f"@{self.lab.dns_host}", "-p", str(self.lab.dns_port), "+norec",
                    "+timeout=5", "+retry=0", *args])

    def test_1_answers_by_count_then_by_address(self):
        # (numbered: the first POST of the lab's life must be this test's)
        status, body = self.post("alice@contoso.com")
        self.assertEqual(status, 200)
        self.assertIn(b"<Action>redirectAddr</Action>", body)
        self.assertIn(b"<RedirectAddr>alice.smith@contoso.com</RedirectAddr>", body)
        status, body = self.post("alice.smith@contoso.com")
        self.assertIn(b"<Action>settings</Action>", body)
        status, body = self.post("BOB@contoso.com")
        self.assertIn(b"<ErrorCode>500</ErrorCode>", body)
        self.lab.wait_event("http.response", lambda e: e.get("answer") == 2)
        self.assertEqual([e["answer"] for e in self.responses()[:3]], [1, 3, 2])
        # a GET is not the route's method: no answer is chosen, nothing is counted
        status, _ = self.curl("https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                              443, self.host["https"])
        self.assertEqual(status, 404)

    def test_path_percent_decoded_before_matching(self):
        status, body = self.post("carol@contoso.com", "/Autodiscover%2fAutodiscover%2Exml")
        self.assertEqual(status, 200)
        self.assertIn(b"<Action>", body)
        req = self.lab.wait_event("http.request",
                                  lambda e: e.get("path") == "/Autodiscover%2fAutodiscover%2Exml")
        self.assertEqual(req["path_decoded"], "/Autodiscover/Autodiscover.xml")
        status, _ = self.curl("https://autodiscover.contoso.com/autodiscover%zz", 443,
                              self.host["https"])
        self.assertEqual(status, 400)

    def test_listeners_on_other_ports(self):
        self.assertEqual(self.ports[8443]["tls"], True)
        self.assertEqual(self.ports[8080]["tls"], False)
        self.assertNotIn(self.ports[8443]["bound"], (None, 0, 8443))  # --https-port 0: free
        # TLS on 8443 with the host's own lab certificate: curl verifies it for mail.contoso.com
        status, body = self.curl("https://mail.contoso.com:8443/autodiscover/autodiscover.xml",
                                 8443, self.ports[8443]["bound"], "-H",
                                 "Content-Type: text/xml", "--data-binary",
                                 pox("alice@contoso.com"))
        self.assertEqual(status, 200)
        self.assertIn(b"<EwsUrl>https://mail.contoso.com:8443/EWS/Exchange.asmx</EwsUrl>", body)
        hello = self.lab.wait_event("tls.hello", lambda e: e.get("local", "").endswith(
            f":{self.ports[8443]['bound']}"))
        self.assertEqual(hello["host"], "mail.contoso.com")
        req = self.lab.wait_event("http.request", lambda e: e.get("host", "").endswith(":8443"))
        self.assertEqual(req["host_id"], "exchange")
        status, body = self.curl("http://mail.contoso.com:8080/", 8080, self.ports[8080]["bound"])
        self.assertEqual((status, body), (200, b"plain on 8080"))
        # lab.start describes them for the reports
        start = self.lab.wait_event("lab.start")
        listeners = start["hosts"][0]["listeners"]
        self.assertEqual([(l["nominal"], l["tls"], l["port"]) for l in listeners],
                         [(8443, True, self.ports[8443]["bound"]),
                          (8080, False, self.ports[8080]["bound"])])
        self.assertEqual(listeners[0]["certificate"]["profile"], "valid")
        self.assertIn("mail.contoso.com", listeners[0]["certificate"]["names"])
        self.assertNotIn("certificate", listeners[1])
        # the SRV record names the port; kdig reads it back
        out = self.kdig("+short", "_autodiscover._tcp.contoso.com", "SRV")
        self.assertEqual(out.stdout.strip(), "0 0 8443 mail.contoso.com.")

    def test_bodies_in_any_bytes(self):
        status, body = self.curl("https://autodiscover.contoso.com/utf16", 443, self.host["https"])
        self.assertEqual(body, b"\xff\xfe<\x00a\x00/\x00>\x00")
        self.assertEqual(body.decode("utf-16"), "<a/>")
        status, body = self.curl("https://autodiscover.contoso.com/bad-utf8", 443,
                                 self.host["https"])
        self.assertEqual(body, b"\xc3\x28")  # not UTF-8 at all, as written
        with self.assertRaises(UnicodeDecodeError):
            body.decode("utf-8")

    def test_dns_answers_given_as_bytes(self):
        # an A question answered with a TXT record: kdig shows what was written
        out = self.kdig("wrongtype.contoso.com", "A")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('wrongtype.contoso.com.\t60\tIN\tTXT\t"broken"', out.stdout)
        q = self.lab.wait_event("dns.query", lambda e: e.get("qname") == "wrongtype.contoso.com")
        self.assertEqual((q["rule"], q["raw"], q["answers"]), ("raw", True, 1))
        # an A record three bytes long, and one claiming 200 bytes: kdig refuses both replies
        for name, transport in (("short.contoso.com", "+notcp"), ("liar.contoso.com", "+tcp")):
            out = self.kdig(transport, name, "A")
            self.assertNotEqual(out.returncode, 0, out.stdout)
            self.assertIn("malformed reply packet", out.stdout + out.stderr)
        q = self.lab.wait_event("dns.query", lambda e: e.get("qname") == "liar.contoso.com")
        self.assertEqual((q["transport"], q["raw"], q["rule"]), ("tcp", True, None))
        # the names' other types are the lab's own answers: AAAA is NODATA
        out = self.kdig("short.contoso.com", "AAAA")
        self.assertIn("status: NOERROR", out.stdout)
        self.assertIn("ANSWER: 0", out.stdout)


if __name__ == "__main__":
    main()
