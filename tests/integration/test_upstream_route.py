"""curl through a lab that intercepts a real server: lab A plays the real world
(tests/data/integration/overlay-real-world.yaml, with a large binary page added), lab B's host
answers contoso.com with a lab certificate and forwards every request to A's web server — found
through A's DNS (upstream_dns) or at a given address (upstream_address), trusted through A's CA
(upstream_trust: both labs share a CA directory). The body curl gets through B is byte for byte
the one A serves (also a large chunked one from a plain HTTP server), both sides are journaled,
credentials are forwarded but never journaled in clear, and an upstream whose certificate expired,
or that is not there, gives 502 naming the reason."""
import hashlib
import http.server
import os
import random
import shutil
import socket
import ssl
import tempfile
import threading
import unittest

from labharness import Lab, run, scenario, main

REAL = scenario("tests/data/integration/overlay-real-world.yaml")
CHUNK = 64 * 1024


def binary_body(n):
    """n bytes of 0x00..0x7f (YAML's \\x escapes above 0x7f are characters, not bytes)."""
    rnd = random.Random(1234)
    return bytes(rnd.randrange(0, 128) for _ in range(n))


def yaml_escaped(data):
    return "".join("\\x%02x" % b for b in data)


class Streamer(http.server.BaseHTTPRequestHandler):
    """A plain HTTP server that answers any GET with a large chunked body."""
    protocol_version = "HTTP/1.1"
    body = os.urandom(3 * 1024 * 1024 + 17)

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Path", self.path)
        self.end_headers()
        for i in range(0, len(self.body), CHUNK):
            piece = self.body[i:i + CHUNK]
            self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args):
        pass


class UpstreamRouteTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.streamer = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Streamer)
        threading.Thread(target=cls.streamer.serve_forever, daemon=True).start()
        cls.bin = binary_body(150 * 1024)
        cls.tmp = tempfile.mkdtemp(prefix="autodisco-upstream-")
        real_scn = os.path.join(cls.tmp, "real.yaml")
        with open(real_scn, "w") as f:
            f.write(f"""name: real-with-binary
description: the real world, with a large binary page
extends: {os.path.abspath(REAL)}
hosts:
  www:
    https:
      routes:
        - {{ path: /, status: 200, html: "<h1>Contoso</h1>" }}
        - {{ path: /echo, status: 200, body: "echo" }}
        - {{ path: /bin, status: 200, raw: "{yaml_escaped(cls.bin)}",
            content_type: application/octet-stream }}
""")
        cls.ca_dir = os.path.join(cls.tmp, "ca")
        cls.real = Lab(real_scn, ca_dir=cls.ca_dir)
        www, old = cls.real.host("www"), cls.real.host("old")
        ca = cls.real.ca_pem
        dns = cls.real.info["dns"]
        stream = "http://127.0.0.1:%d/stream" % cls.streamer.server_address[1]
        icpt_scn = os.path.join(cls.tmp, "intercept.yaml")
        with open(icpt_scn, "w") as f:
            f.write(f"""name: intercept
description: a lab host in front of the real servers
domain: contoso.com
hosts:
  proxy:
    names: [contoso.com, old.contoso.com]
    https:
      routes:
        - {{ path: /, upstream: "https://contoso.com:{www['https']}/", upstream_dns: "{dns}",
            upstream_trust: "{ca}" }}
        - {{ path: /bin, upstream: "https://contoso.com/", upstream_trust: "{ca}",
            upstream_address: "{www['address']}:{www['https']}" }}
        - {{ path: /expired, upstream: "https://old.contoso.com/", upstream_trust: "{ca}",
            upstream_address: "{old['address']}:{old['https']}" }}
        - {{ path: /nxdomain, upstream: "https://nosuch.contoso.com/", upstream_dns: "{dns}",
            upstream_trust: "{ca}" }}
        - {{ path: /refused, upstream: "https://contoso.com/", upstream_trust: "{ca}",
            upstream_address: "127.0.0.1:9" }}
        - {{ path: /stream, upstream: "{stream}" }}
        - {{ path: /local, status: 200, body: "local" }}
""")
        cls.lab = Lab(icpt_scn, ca_dir=cls.ca_dir, extra=["--address-base", "127.78.0.1"])
        cls.proxy = cls.lab.host("proxy")

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()
        cls.real.close()
        cls.streamer.shutdown()
        cls.streamer.server_close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def curl(self, lab, host_id, name, path, *extra):
        h = lab.host(host_id)
        out = os.path.join(self.tmp, "body-%d" % random.randrange(1 << 30))
        r = run(["curl", "-sS", "--max-time", "20", "--cacert", lab.ca_pem,
                 "--connect-to", f"{name}:443:{h['address']}:{h['https']}",
                 "-o", out, "-D", "-", "-w", "%{http_code}", *extra, f"https://{name}{path}"])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, "rb") as f:
            body = f.read()
        os.remove(out)
        return int(r.stdout[-3:]), r.stdout[:-3], body

    def test_the_body_is_the_real_servers_byte_for_byte(self):
        status, _, direct = self.curl(self.real, "www", "contoso.com", "/bin")
        self.assertEqual(status, 200)
        self.assertEqual(direct, self.bin)
        status, headers, body = self.curl(self.lab, "proxy", "contoso.com", "/bin")
        self.assertEqual(status, 200)
        self.assertEqual(hashlib.sha256(body).hexdigest(), hashlib.sha256(self.bin).hexdigest())
        self.assertIn("content-type: application/octet-stream", headers.lower())
        # both sides journaled: the request B forwarded, and A's answer as B relayed it
        req = self.lab.wait_event("upstream.request", lambda e: e["url"].endswith("/bin"))
        self.assertEqual(req["url"], "https://contoso.com/bin")
        self.assertEqual(req["host"], "contoso.com")
        resp = self.lab.wait_event("upstream.response", lambda e: e["url"].endswith("/bin"))
        self.assertEqual(resp["status"], 200)
        self.assertEqual(resp["length"], len(self.bin))
        self.assertEqual(resp["address"],
                         "%s:%d" % (self.real.host("www")["address"],
                                    self.real.host("www")["https"]))
        self.real.wait_event("http.response", lambda e: e.get("length") == len(self.bin))

    def test_the_server_is_found_through_the_real_dns(self):
        status, _, body = self.curl(self.lab, "proxy", "contoso.com", "/")
        self.assertEqual(status, 200)
        _, _, direct = self.curl(self.real, "www", "contoso.com", "/")
        self.assertEqual(body, direct)
        resp = self.lab.wait_event("upstream.response", lambda e: e["url"].endswith(":%d/" % (
            self.real.host("www")["https"])))
        self.assertTrue(resp["address"].startswith(self.real.host("www")["address"] + ":"))

    def test_a_large_chunked_body_streams_through(self):
        status, headers, body = self.curl(self.lab, "proxy", "contoso.com", "/stream?a=1")
        self.assertEqual(status, 200)
        self.assertIn("transfer-encoding: chunked", headers.lower())
        self.assertIn("x-path: /stream/stream?a=1", headers.lower())  # path after the URL's
        self.assertEqual(len(body), len(Streamer.body))
        self.assertEqual(body, Streamer.body)

    def test_pipelined_requests_are_answered_in_order(self):
        ctx = ssl.create_default_context(cafile=self.lab.ca_pem)
        with socket.create_connection((self.proxy["address"], self.proxy["https"])) as raw:
            with ctx.wrap_socket(raw, server_hostname="contoso.com") as s:
                s.sendall(b"GET /echo HTTP/1.1\r\nHost: contoso.com\r\n\r\n"
                          b"GET /local HTTP/1.1\r\nHost: contoso.com\r\n\r\n"
                          b"GET /echo HTTP/1.1\r\nHost: contoso.com\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    data += d
        # the forwarded one, the lab's own, the forwarded one again; then the connection ends
        bodies = [part.split(b"\r\n\r\n", 1)[1][:5] for part in data.split(b"HTTP/1.1 200 OK")[1:]]
        self.assertEqual(bodies, [b"echo", b"local", b"echo"], data)

    def test_credentials_are_forwarded_but_never_journaled(self):
        status, _, body = self.curl(self.lab, "proxy", "contoso.com", "/echo",
                                    "-u", "alice:Upstream-Passw0rd")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"echo")
        seen_by_b = self.lab.wait_event("upstream.request", lambda e: e["url"].endswith("/echo"))
        seen_by_a = self.real.wait_event("http.request", lambda e: e.get("path") == "/echo")
        self.assertEqual(seen_by_b["authorization"], seen_by_a["authorization"])
        for lab in (self.lab, self.real):
            with open(lab.journal) as f:
                self.assertNotIn("Upstream-Passw0rd", f.read())

    def test_an_expired_upstream_certificate_is_a_502_naming_it(self):
        status, _, body = self.curl(self.lab, "proxy", "old.contoso.com", "/expired")
        self.assertEqual(status, 502)
        self.assertIn(b"certificate has expired", body)
        e = self.lab.wait_event("upstream.error", lambda e: e["url"].endswith("/expired"))
        self.assertEqual(e["stage"], "tls")
        self.assertEqual(e["error"], "TLS: certificate verification failed: certificate has expired")
        # the client's side: a valid lab certificate, and the 502 journaled with the reason
        r = self.lab.wait_event("http.response", lambda e: e.get("status") == 502
                                and "expired" in e.get("error", ""))
        self.assertEqual(r["route"], "/expired")
        # the real server saw the lab refuse its certificate
        self.real.wait_event("tls.alert", lambda e: e.get("host") == "old.contoso.com")

    def test_an_unreachable_upstream_is_a_502_naming_why(self):
        for path, reason in (("/refused", "connection refused"),
                             ("/nxdomain", "nosuch.contoso.com: no such name (NXDOMAIN)")):
            with self.subTest(path=path):
                status, _, body = self.curl(self.lab, "proxy", "contoso.com", path)
                self.assertEqual(status, 502)
                self.assertIn(reason, body.decode())
                e = self.lab.wait_event("upstream.error", lambda e: e["url"].endswith(path))
                self.assertIn(reason, e["error"])


if __name__ == "__main__":
    main()
