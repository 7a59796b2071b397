"""`autodisco serve` against malformed HTTP and hostile XML from raw sockets: the exact status
(400, 413, 414, 431, 501, or the POX Error 600 for a body that is not a POX request), the
journal's http.error or pox_error, a file named by an external entity never read into an answer
or the journal, and curl served right after each."""
import os
import socket
import ssl
import tempfile
import time
import unittest

from hostile import GoodClients, SCN, connect, exchange, pox, read_all, status_of
from labharness import Lab, main

PATH = b"/autodiscover/autodiscover.xml"


def request(head_lines, body=b"", method=b"POST", target=PATH):
    return (method + b" " + target + b" HTTP/1.1\r\nHost: autodiscover.contoso.com\r\n" +
            b"".join(line + b"\r\n" for line in head_lines) + b"\r\n" + body)


class BadHttpTest(GoodClients, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(SCN)

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()

    def refused(self, data, status, error, scheme="http"):
        """`data` is answered `status` and the connection closed; http.error says `error` (a
        prefix); curl is served right after."""
        answer, port = exchange(self.http_addr(scheme), data)
        self.assertEqual(status_of(answer), status, answer[:200])
        self.assertIn(b"Connection: close\r\n", answer)
        peer = f"127.0.0.1:{port}"
        e = self.lab.wait_event("http.error", lambda e: e["peer"] == peer)
        self.assertTrue(e["error"].startswith(error), e)
        r = self.lab.wait_event("http.response", lambda e: e["peer"] == peer)
        self.assertEqual(r["status"], status)
        self.assert_curl_served()

    def test_oversized_head(self):
        self.refused(request([b"X-Big: " + b"b" * 70000]), 431, "header fields larger than 64 KiB")

    def test_too_many_headers(self):
        self.refused(request([b"X-%d: v" % i for i in range(101)]), 431,
                     "more than 100 header fields")

    def test_long_target(self):
        self.refused(request([], method=b"GET", target=b"/" + b"a" * 9000), 414,
                     "request target longer than 8 KiB")

    def test_content_length_with_transfer_encoding(self):
        # request smuggling's classic: both framings at once (RFC 9112 6.3)
        body = b"0\r\n\r\n"
        self.refused(request([b"Content-Length: 5", b"Transfer-Encoding: chunked"], body), 400,
                     "HPE_UNEXPECTED_CONTENT_LENGTH")
        self.refused(request([b"Transfer-Encoding: chunked", b"Content-Length: 5"], body), 400,
                     "HPE_UNEXPECTED_CONTENT_LENGTH")
        self.refused(request([b"Content-Length: 5", b"Content-Length: 6"], b"12345"), 400,
                     "HPE_UNEXPECTED_CONTENT_LENGTH")

    def test_bad_chunks(self):
        te = [b"Transfer-Encoding: chunked"]
        self.refused(request(te, b"zz\r\nabc\r\n0\r\n\r\n"), 400, "HPE_INVALID_CHUNK_SIZE")
        self.refused(request(te, b"fffffffffffffffffff\r\n"), 400, "HPE_INVALID_CHUNK_SIZE")
        self.refused(request(te, b"-1\r\n"), 400, "HPE_INVALID_CHUNK_SIZE")

    def test_unknown_transfer_coding(self):
        self.refused(request([b"Transfer-Encoding: gzip, chunked"], b"0\r\n\r\n"), 501,
                     "a transfer coding other than chunked")

    def test_huge_bodies(self):
        self.refused(request([b"Content-Length: 2000000"]), 413, "request body larger than 1 MiB")
        # a chunked body that grows past the cap: answered as soon as it does
        with connect(self.http_addr()) as s:
            port = s.getsockname()[1]
            s.sendall(request([b"Transfer-Encoding: chunked"]))
            chunk = b"8000\r\n" + b"c" * 0x8000 + b"\r\n"
            try:
                for _ in range(64):  # 2 MiB at most
                    s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            answer = read_all(s)
        self.assertEqual(status_of(answer), 413, answer[:200])
        e = self.lab.wait_event("http.error", lambda e: e["peer"] == f"127.0.0.1:{port}")
        self.assertEqual(e["error"], "request body larger than 1 MiB")
        self.assert_curl_served()

    def test_bare_lf_and_nul(self):
        self.refused(b"GET / HTTP/1.1\nHost: autodiscover.contoso.com\n\n", 400, "HPE_")
        self.refused(request([b"X-Nul: a\x00b"], method=b"GET", target=b"/"), 400,
                     "HPE_INVALID_HEADER_TOKEN")
        self.refused(b"GET /\x00 HTTP/1.1\r\n\r\n", 400, "HPE_")
        self.refused(b"\x00\x01\x02\x03\r\n\r\n", 400, "HPE_")

    def test_over_tls_too(self):
        # the same limits behind TLS: a 431 inside the encrypted connection
        ctx = ssl.create_default_context(cafile=self.lab.ca_pem)
        with connect(self.http_addr("https")) as raw:
            with ctx.wrap_socket(raw, server_hostname="autodiscover.contoso.com") as s:
                s.sendall(request([b"X-%d: v" % i for i in range(101)]))
                answer = read_all(s)
        self.assertEqual(status_of(answer), 431, answer[:200])
        self.lab.wait_event("http.error", lambda e: e["tls"] and
                            e["error"] == "more than 100 header fields")
        self.assert_curl_served("https")


class HostileXmlTest(GoodClients, unittest.TestCase):
    """XML bodies to the POX route: none is expanded, fetched or nested deep; each is answered
    with the POX Error 600 (MS-OXDSCLI 2.2.4.1.1.3.2, docs/protocol.md §3.5) at once."""

    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(SCN)
        cls.tmp = tempfile.mkdtemp(prefix="autodisco-xxe-")
        cls.secret = f"SECRET-{os.urandom(8).hex()}"
        cls.secret_path = os.path.join(cls.tmp, "secret.txt")
        with open(cls.secret_path, "w") as f:
            f.write(cls.secret + "\n")

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()
        os.unlink(cls.secret_path)
        os.rmdir(cls.tmp)

    def post(self, body):
        """The answer to a POX POST over plain HTTP, the time it took, and the request event."""
        t0 = time.monotonic()
        answer, port = exchange(self.http_addr(), request(
            [b"Content-Type: text/xml", b"Connection: close", b"Content-Length: %d" % len(body)],
            body))
        took = time.monotonic() - t0
        e = self.lab.wait_event("http.request", lambda e: e["peer"] == f"127.0.0.1:{port}")
        return answer, took, e

    def assert_error_600(self, body, pox_error):
        answer, took, e = self.post(body)
        self.assertEqual(status_of(answer), 200, answer[:200])
        self.assertIn(b"<ErrorCode>600</ErrorCode>", answer)
        self.assertLess(took, 5)
        self.assertEqual(e["pox_error"], pox_error)
        self.assert_curl_served()
        return answer

    def test_billion_laughs(self):
        entities = '<!ENTITY lol "lol">' + "".join(
            f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">'
            for i in range(1, 10))
        prolog = "<!DOCTYPE Autodiscover [" + entities + "]>"
        self.assert_error_600(pox("&lol9;", prolog=prolog), "not well-formed XML")
        # a document small enough for libxml2 to accept: its DOCTYPE is refused all the same
        prolog = '<!DOCTYPE Autodiscover [<!ENTITY a "alice@contoso.com">]>'
        self.assert_error_600(pox("&a;", prolog=prolog), "a DOCTYPE is not accepted")

    def test_external_entities_are_never_read(self):
        for prolog, email in (
                (f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{self.secret_path}">]>', "&xxe;"),
                (f'<!DOCTYPE r [<!ENTITY % p SYSTEM "file://{self.secret_path}"> %p;]>',
                 "alice@contoso.com"),
                (f'<!DOCTYPE r SYSTEM "file://{self.secret_path}">', "alice@contoso.com")):
            answer = self.assert_error_600(pox(email, prolog=prolog), "a DOCTYPE is not accepted")
            self.assertNotIn(self.secret.encode(), answer)
        # not in the journal either, anywhere
        with open(self.lab.journal) as f:
            self.assertNotIn(self.secret, f.read())

    def test_deep_nesting(self):
        deep = "<a>" * 5000 + "</a>" * 5000  # within the 64 KiB a POX request may have
        self.assert_error_600(pox(inner=deep), "not well-formed XML")

    def test_invalid_utf8(self):
        body = pox("alice\udcff\udcfe@contoso.com")  # the bytes ff fe, not UTF-8
        self.assertIn(b"alice\xff\xfe@", body)
        self.assert_error_600(body, "not well-formed XML")

    def test_oversized_document(self):
        self.assert_error_600(pox(inner="<!--" + "x" * 70000 + "-->"),
                              "request document larger than 64 KiB")


if __name__ == "__main__":
    main()
