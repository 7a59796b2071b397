"""`autodisco serve` against malformed DNS and TLS from raw sockets: each gets the exact answer
(FORMERR with the header alone, an alert) or a journal line saying why there is none, and a
good client (kdig, curl, openssl s_client) is served right after. HTTP and XML are in
test_serve_bad_http.py; limits and slow clients in test_serve_limits.py."""
import os
import select
import socket
import ssl
import subprocess
import time
import unittest

from hostile import (GoodClients, SCN, connect, dns_header, dns_name, dns_query, header_of,
                     read_all, tcp_ask, udp_ask)
from labharness import Lab, main


class BadDnsTest(GoodClients, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(SCN)

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()

    def query_event(self, transport, port):
        client = f"127.0.0.1:{port}"
        return self.lab.wait_event("dns.query", lambda e: e["client"] == client and
                                   e["transport"] == transport)

    def assert_formerr(self, msg, qid, why, question=False):
        """Over UDP and TCP: FORMERR with the query's ID, the header alone (or its question),
        journaled with `why`; then kdig is served over both."""
        for transport, ask in (("udp", udp_ask), ("tcp", tcp_ask)):
            answer, port = ask(self.dns_addr(), msg)
            self.assertIsNotNone(answer, f"{transport}: no answer to a readable header")
            h = header_of(answer)
            self.assertEqual((h["id"], h["qr"], h["rcode"], h["an"]), (qid, True, 1, 0), transport)
            if not question:
                self.assertEqual((h["qd"], len(answer)), (0, 12), transport)
            e = self.query_event(transport, port)
            self.assertEqual((e["rcode"], e["why"]), ("FORMERR", why), e)
            self.assertNotIn("dropped", e)
        self.assert_kdig_served()
        self.assert_kdig_served(tcp=True)

    def test_truncated_question(self):
        self.assert_formerr(dns_query(0x1001)[:12 + 5], 0x1001, "malformed question")

    def test_compression_pointer_loop(self):
        loop = dns_header(0x1002) + b"\xc0\x0c" + b"\x00\x01\x00\x01"  # points at itself
        self.assert_formerr(loop, 0x1002, "malformed question")
        into_header = dns_header(0x1003) + b"\xc0\x00" + b"\x00\x01\x00\x01"
        self.assert_formerr(into_header, 0x1003, "malformed question")

    def test_oversize_label(self):
        self.assert_formerr(dns_query(0x1004, name=bytes([70]) + b"a" * 70 + b"\0"), 0x1004,
                            "malformed question")
        # a name over 255 bytes in labels that are each fine
        long_name = dns_name(*([b"a" * 63] * 5))
        self.assert_formerr(dns_query(0x1005, name=long_name), 0x1005, "malformed question")

    def test_counts_that_lie(self):
        # an answer record announced and absent: the question can be read and is echoed
        msg = dns_query(0x1006, ancount=1)
        self.assert_formerr(msg, 0x1006, "malformed message", question=True)
        e = self.lab.wait_event("dns.query", lambda e: e.get("why") == "malformed message")
        self.assertEqual(e["qname"], "autodiscover.contoso.com")
        # two questions announced, one sent; none announced
        self.assert_formerr(dns_query(0x1007, qdcount=2), 0x1007, "malformed question")
        self.assert_formerr(dns_header(0x1008, qdcount=0), 0x1008, "no question")

    def test_no_header_no_answer_but_a_journal_line(self):
        for data, why in ((b"", "shorter than a DNS header"),
                          (dns_query(0x1009)[:5], "shorter than a DNS header")):
            answer, port = udp_ask(self.dns_addr(), data, timeout=0.5)
            self.assertIsNone(answer)
            e = self.query_event("udp", port)
            self.assertEqual((e["dropped"], e["why"], e["rcode"]), (True, why, None))
            answer, port = tcp_ask(self.dns_addr(), data, timeout=0.5)
            self.assertIsNone(answer)
            e = self.query_event("tcp", port)
            self.assertEqual((e["dropped"], e["why"]), (True, why))
        # a response is never answered (no loops between servers)
        answer, port = udp_ask(self.dns_addr(), dns_query(0x100a, flags=0x8100), timeout=0.5)
        self.assertIsNone(answer)
        self.assertEqual(self.query_event("udp", port)["why"], "a response, not a query")
        self.assert_kdig_served()
        self.assert_kdig_served(tcp=True)

    def test_tcp_length_that_lies_then_hangs_up(self):
        # the frame says 300 bytes and 12 come: nothing is answered, the connection closes
        with socket.create_connection(self.dns_addr(), timeout=5) as s:
            s.sendall(b"\x01\x2c" + dns_header(0x100b))
        self.assert_kdig_served(tcp=True)


# A TLS 1.2 ClientHello record header claiming 512 bytes of handshake, and its first bytes.
HELLO_START = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])
# An SSLv2-format ClientHello (draft-hickman-netscape-ssl-00): record length 0x2e, type 1,
# version 2.0, 3-byte cipher specs, a 16-byte challenge.
SSL2_HELLO = (bytes([0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10]) +
              bytes([0x07, 0x00, 0xc0, 0x05, 0x00, 0x80, 0x03, 0x00, 0x80, 0x01, 0x00, 0x80,
                     0x08, 0x00, 0x80, 0x06, 0x00, 0x40, 0x04, 0x00, 0x80]) + bytes(16))
ALERT_PROTOCOL_VERSION = b"\x15\x03\x01\x00\x02\x02\x46"  # fatal, protocol_version (RFC 8446 6)


class BadTlsTest(GoodClients, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(SCN)

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()

    def done_event(self, port):
        peer = f"127.0.0.1:{port}"
        return self.lab.wait_event("tls.done", lambda e: e["peer"] == peer)

    def send_raw(self, data, half_close=False):
        with connect(self.http_addr("https")) as s:
            port = s.getsockname()[1]
            s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
            return read_all(s), port

    def test_garbage_and_plain_http(self):
        answer, port = self.send_raw(b"GET / HTTP/1.1\r\nHost: autodiscover.contoso.com\r\n\r\n")
        self.assertEqual(answer, b"")  # closed without a word
        e = self.done_event(port)
        self.assertFalse(e["ok"])
        self.assertIn("HTTP_REQUEST", e["error"])
        self.assertEqual(e["state"], "read_hello")
        answer, port = self.send_raw(os.urandom(16) + b"\x00" * 64)
        self.assertFalse(self.done_event(port)["ok"])
        self.assert_curl_served("https")

    def test_sslv2_hello_gets_a_protocol_version_alert(self):
        answer, port = self.send_raw(SSL2_HELLO)
        self.assertEqual(answer, ALERT_PROTOCOL_VERSION)
        e = self.done_event(port)
        self.assertFalse(e["ok"])
        self.assertIn("WRONG_VERSION_NUMBER", e["error"])
        self.assert_curl_served("https")

    def test_truncated_hello(self):
        answer, port = self.send_raw(HELLO_START, half_close=True)
        self.assertEqual(answer, b"")
        e = self.done_event(port)
        self.assertEqual((e["ok"], e["abandoned"], e["state"], e["certificate_sent"]),
                         (False, True, "read_hello", False))
        self.assertEqual(e["error"], "peer closed the connection during the handshake")
        self.assert_curl_served("https")

    def test_bad_record_after_the_handshake(self):
        # a finished TLS 1.3 handshake (Python's ssl), then an application-data record of random
        # bytes written under it on the same socket: it cannot decrypt, the connection ends, and
        # tls.error says so
        ctx = ssl.create_default_context(cafile=self.lab.ca_pem)
        with ctx.wrap_socket(connect(self.http_addr("https")),
                             server_hostname="autodiscover.contoso.com") as s:
            port = s.getsockname()[1]
            self.assertEqual(s.version(), "TLSv1.3")
            os.write(s.fileno(), b"\x17\x03\x03\x00\x40" + os.urandom(64))
            peer = "127.0.0.1:%d" % port
            e = self.lab.wait_event("tls.error", lambda e: e["peer"] == peer)
        self.assertEqual(e["host"], "autodiscover.contoso.com")
        self.assertIn("DECRYPT", e["error"])
        self.assert_curl_served("https")

    def test_renegotiation_is_refused(self):
        # TLS 1.2 (1.3 has no renegotiation): openssl s_client's R command sends a new hello
        h = self.lab.host("exchange")
        with subprocess.Popen(["openssl", "s_client", "-connect",
                               f"{h['address']}:{h['https']}", "-servername",
                               "autodiscover.contoso.com", "-tls1_2", "-CAfile", self.lab.ca_pem],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT) as p:
            out = self.read_until(p, b"SSL-Session:")
            self.assertIn(b"Verify return code: 0 (ok)", out)
            p.stdin.write(b"R\n")
            p.stdin.flush()
            out = self.read_until(p, None)  # until s_client exits
            self.assertIn(b"RENEGOTIATING", out)
            self.assertIn(b"alert no renegotiation", out)
            self.assertEqual(p.wait(10), 1)
        done = self.lab.wait_event("tls.done", lambda e: e["ok"] and e["version"] == "TLSv1.2")
        self.assertEqual(done["host"], "autodiscover.contoso.com")
        e = self.lab.wait_event("tls.error", lambda e: e["peer"] == done["peer"])
        self.assertEqual(e["host"], "autodiscover.contoso.com")
        self.assertTrue(e["error"].endswith(":NO_RENEGOTIATION"), e["error"])
        self.assert_curl_served("https")

    def read_until(self, p, marker, timeout=10):
        """s_client's output until `marker` (None: its end)."""
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([p.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            b = os.read(p.stdout.fileno(), 4096)
            if not b:
                return out
            out += b
            if marker is not None and marker in out:
                return out
        p.kill()
        self.fail(f"s_client: no {marker!r} within {timeout}s: {out!r}")


if __name__ == "__main__":
    main()
