"""kdig against a lab whose DNS overlays one change on another lab's: lab A plays the real world
(tests/data/integration/overlay-real-world.yaml), lab B has `dns.overlay` with A's DNS as its
upstream and removes contoso.com's A record. B answers NODATA for that record and, for every
other query, exactly what A answers (over UDP and TCP); a CNAME of A's that leads to the removed
record is cut there. An upstream that never answers gives SERVFAIL within the overlay's timeout,
one that is not there at once; every exchange is an upstream.dns event."""
import os
import re
import socket
import time
import unittest

from labharness import Lab, run, scenario, main

REAL = scenario("tests/data/integration/overlay-real-world.yaml")


def overlay_scenario(path, upstream, timeout="1s", extra=""):
    with open(path, "w") as f:
        f.write(f"""name: overlay-test
description: one change on top of another lab's DNS
domain: contoso.com
dns:
  overlay: {{ upstream: "{upstream}", timeout: {timeout} }}
  records:
    - {{ name: contoso.com, type: A, remove: true }}
{extra}""")
    return path


def kdig(lab, *args):
    r = run(["kdig", f"@{lab.dns_host}", "-p", str(lab.dns_port), "+timeout=5", "+retry=0",
             *args])
    return r


def answers(out):
    """The answer section's records, without TTLs (caches age them), sorted."""
    m = re.search(r";; ANSWER SECTION:\n(.*?)(?:\n\n|\Z)", out, re.S)
    if m is None:
        return []
    rows = []
    for line in m.group(1).splitlines():
        parts = line.split()
        if len(parts) >= 4:
            rows.append(" ".join([parts[0]] + parts[2:]))
    return sorted(rows)


def status(out):
    m = re.search(r"status: (\w+)", out)
    return m.group(1) if m else None


class OverlayDnsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.real = Lab(REAL)
        cls.tmp_scn = os.path.join(cls.real.tmp, "overlay.yaml")
        overlay_scenario(cls.tmp_scn, cls.real.info["dns"])
        cls.lab = Lab(cls.tmp_scn, ca_dir=cls.real.ca_dir,
                      extra=["--address-base", "127.78.0.1"])

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()
        cls.real.close()

    def test_the_removed_record_is_nodata(self):
        for transport in ([], ["+tcp"]):
            with self.subTest(transport=transport):
                out = kdig(self.lab, *transport, "contoso.com", "A").stdout
                self.assertEqual(status(out), "NOERROR", out)
                self.assertEqual(answers(out), [], out)
                self.assertRegex(out, r"AUTHORITY SECTION:\s*\ncontoso\.com\.\s+\d+\s+IN\s+SOA")
        # the real one answers it: the overlay took it away
        self.assertNotEqual(answers(kdig(self.real, "contoso.com", "A").stdout), [])
        e = self.lab.wait_event("dns.query", lambda e: e.get("qname") == "contoso.com"
                                and e.get("qtype") == "A")
        self.assertEqual(e["overlay"], "remove")
        self.assertEqual(e["answers"], 0)

    def test_everything_else_is_what_the_real_dns_answers(self):
        for name, rtype in (("autodiscover.contoso.com", "A"), ("contoso.com", "MX"),
                            ("_autodiscover._tcp.contoso.com", "SRV"), ("contoso.com", "TXT"),
                            ("mail.contoso.com", "A"), ("nosuch.contoso.com", "A"),
                            ("contoso.com", "SOA"), ("contoso.com", "NS")):
            for transport in ([], ["+tcp"]):
                with self.subTest(name=name, type=rtype, transport=transport):
                    real = kdig(self.real, *transport, name, rtype)
                    seen = kdig(self.lab, *transport, name, rtype)
                    self.assertEqual(seen.returncode, 0, seen.stderr)
                    self.assertEqual(status(seen.stdout), status(real.stdout), seen.stdout)
                    self.assertEqual(answers(seen.stdout), answers(real.stdout), seen.stdout)
        self.assertIn("TCP", kdig(self.lab, "+tcp", "mail.contoso.com", "A").stdout)
        e = self.lab.wait_event("upstream.dns", lambda e: e["qname"] == "contoso.com"
                                and e["qtype"] == "MX" and e["transport"] == "tcp")
        self.assertEqual(e["upstream"], self.real.info["dns"])
        self.assertEqual(e["rcode"], "NOERROR")
        self.assertEqual(e["answers"], 1)
        self.assertIsNone(e["error"])
        self.assertIsInstance(e["ms"], int)
        q = self.lab.wait_event("dns.query", lambda e: e.get("qname") == "contoso.com"
                                and e.get("qtype") == "MX")
        self.assertEqual(q["overlay"], "forward")

    def test_a_real_cname_to_the_removed_record_stops_there(self):
        out = kdig(self.lab, "www.contoso.com", "A").stdout
        self.assertEqual(status(out), "NOERROR", out)
        self.assertEqual(answers(out), ["www.contoso.com. IN CNAME contoso.com."], out)


class DeadUpstreamTest(unittest.TestCase):
    def setUp(self):
        self.silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.silent.bind(("127.0.0.1", 0))  # bound, never read: queries vanish
        self.addCleanup(self.silent.close)

    def overlay(self, upstream, timeout):
        tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"overlay-dead-{os.getpid()}.yaml")
        overlay_scenario(tmp, upstream, timeout)
        self.addCleanup(os.remove, tmp)
        lab = Lab(tmp)
        self.addCleanup(lab.close)
        return lab

    def test_a_silent_upstream_gives_servfail_within_the_timeout(self):
        lab = self.overlay("127.0.0.1:%d" % self.silent.getsockname()[1], "500ms")
        started = time.monotonic()
        out = kdig(lab, "autodiscover.contoso.com", "A").stdout
        took = time.monotonic() - started
        self.assertEqual(status(out), "SERVFAIL", out)
        self.assertGreater(took, 0.4)
        self.assertLess(took, 3.0)  # the overlay's timeout, not kdig's 5 s
        e = lab.wait_event("upstream.dns", lambda e: e["qname"] == "autodiscover.contoso.com")
        self.assertEqual(e["error"], "no answer within 500 ms")
        self.assertIsNone(e["rcode"])
        q = lab.wait_event("dns.query", lambda e: e.get("qname") == "autodiscover.contoso.com")
        self.assertEqual(q["rcode"], "SERVFAIL")
        self.assertEqual(q["why"], "no answer within 500 ms")

    def test_an_absent_upstream_gives_servfail_at_once(self):
        port = self.silent.getsockname()[1]
        self.silent.close()  # nothing there: ICMP port unreachable, RST over TCP
        lab = self.overlay(f"127.0.0.1:{port}", "10s")
        for transport in ([], ["+tcp"]):
            with self.subTest(transport=transport):
                started = time.monotonic()
                out = kdig(lab, *transport, "autodiscover.contoso.com", "A").stdout
                self.assertEqual(status(out), "SERVFAIL", out)
                self.assertLess(time.monotonic() - started, 3.0)
        e = lab.wait_event("upstream.dns", lambda e: e["transport"] == "tcp")
        self.assertEqual(e["error"], "connection refused")


if __name__ == "__main__":
    main()
