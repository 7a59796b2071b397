"""What `serve` sees of a real client's TLS: the ClientHello's offer and its JA4 fingerprint
(stable for one client build, different for another offer), the alert a client sends when it
refuses the founding scenario's expired certificate (curl, openssl s_client), and a handshake a
client abandons without an alert after it got the certificate (Python's ssl, i.e. OpenSSL,
hanging up before its Finished) — how a certificate refusal is seen from the server side."""
import re
import socket
import ssl
import struct
import unittest

from labharness import Lab, run, scenario, main

SCN = scenario("scenarios/founding/expired-root-cert.yaml")
JA4 = re.compile(r"^t1[0-3][di]\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$")


class ObserveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(SCN)

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()

    def curl(self, host_id, name, *extra):
        h = self.lab.host(host_id)
        return run(["curl", "-sS", "-o", "/dev/null", "--cacert", self.lab.ca_pem,
                    "--resolve", f"{name}:{h['https']}:{h['address']}", *extra,
                    f"https://{name}:{h['https']}/autodiscover/autodiscover.xml"])

    def hello_of(self, peer_port):
        return self.lab.wait_event("tls.hello",
                                   lambda e: e["peer"].endswith(f":{peer_port}"))

    def curl_hello(self, *extra):
        """The tls.hello of one curl run against the healthy Autodiscover host."""
        r = self.curl("exchange", "autodiscover.contoso.com", "-w", "%{local_port}", *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        return self.hello_of(int(r.stdout))

    def test_hello_carries_the_offer_and_ja4(self):
        hello = self.curl_hello()
        self.assertEqual(hello["host"], "autodiscover.contoso.com")
        self.assertIn("TLS1.3", hello["versions"])
        self.assertIn("TLS_AES_128_GCM_SHA256", hello["ciphers"])
        self.assertIn("X25519", hello["groups"])
        self.assertIn("ecdsa_secp256r1_sha256", hello["sigalgs"])
        self.assertIn("server_name", hello["extensions"])
        self.assertIn("supported_versions", hello["extensions"])
        self.assertRegex(hello["ja4"], JA4)
        # its first part says what the lists say
        a = hello["ja4"].split("_")[0]
        self.assertEqual(a[:4], "t13d")
        self.assertEqual(int(a[4:6]), len(hello["ciphers"]))
        self.assertEqual(int(a[6:8]), len(hello["extensions"]))
        self.assertEqual(a[8:], hello["alpn"][0][0] + hello["alpn"][0][-1])

    def test_ja4_is_stable_for_one_build_and_changes_with_the_offer(self):
        first, again = self.curl_hello(), self.curl_hello()
        self.assertEqual(first["ja4"], again["ja4"])
        # another offer: TLS 1.2 at most, HTTP/1.1 only, fewer suites
        older = self.curl_hello("--tls-max", "1.2", "--http1.1",
                                "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256")
        self.assertNotEqual(older["ja4"], first["ja4"])
        self.assertTrue(older["ja4"].startswith("t12d0"), older["ja4"])
        self.assertEqual(older["alpn"], ["http/1.1"])
        self.assertEqual(older["ja4"][8:10], "h1")
        # openssl s_client is another build altogether
        h = self.lab.host("exchange")
        r = run(["openssl", "s_client", "-connect", f"{h['address']}:{h['https']}",
                 "-servername", "autodiscover.contoso.com", "-CAfile", self.lab.ca_pem,
                 "-groups", "X25519", "-brief"], input="")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        hellos = [e for e in self.lab.events("tls.hello") if e["groups"] == ["X25519"]]
        self.assertTrue(hellos)
        self.assertNotEqual(hellos[-1]["ja4"], first["ja4"])
        self.assertEqual(hellos[-1]["alpn"], [])
        self.assertEqual(hellos[-1]["ja4"][8:10], "00")

    def test_curl_refusing_the_expired_certificate_sends_its_alert(self):
        r = self.curl("www", "contoso.com", "-w", "%{local_port}")
        self.assertEqual(r.returncode, 60, r.stderr)  # SSL certificate problem
        self.assertIn("certificate has expired", r.stderr)
        port = int(r.stdout)
        mine = lambda e: e["peer"].endswith(f":{port}")
        alert = self.lab.wait_event("tls.alert", mine)
        self.assertEqual(alert["host"], "contoso.com")
        self.assertEqual(alert["alert"], "certificate expired")
        self.assertEqual(alert["level"], "fatal")
        done = self.lab.wait_event("tls.done", mine)
        self.assertFalse(done["ok"])
        self.assertFalse(done["abandoned"])
        self.assertTrue(done["certificate_sent"])
        self.assertEqual(done["error"], "peer sent alert: certificate expired")

    def test_openssl_s_client_refusing_the_expired_certificate_sends_its_alert(self):
        h = self.lab.host("www")
        for version in ("-tls1_3", "-tls1_2"):
            before = len(self.lab.events("tls.alert"))
            r = run(["openssl", "s_client", "-connect", f"{h['address']}:{h['https']}",
                     "-servername", "contoso.com", "-CAfile", self.lab.ca_pem,
                     "-verify_return_error", version, "-brief"], input="")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("certificate has expired", r.stdout + r.stderr)
            self.lab.wait_event("tls.alert", lambda e: len(self.lab.events("tls.alert")) > before)
            alert = self.lab.events("tls.alert")[-1]
            self.assertEqual((alert["host"], alert["alert"]), ("contoso.com", "certificate expired"))

    def abandon(self, max_version, reset):
        """Python's ssl (OpenSSL) takes the server's first flight — certificate included — and
        hangs up without its Finished and without an alert; returns its local port."""
        h = self.lab.host("www")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # it decides nothing: it just leaves
        ctx.maximum_version = max_version
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = ctx.wrap_bio(incoming, outgoing, server_hostname="contoso.com")
        sock = socket.create_connection((h["address"], h["https"]), timeout=10)
        port = sock.getsockname()[1]
        try:
            try:
                tls.do_handshake()
            except ssl.SSLWantReadError:
                sock.sendall(outgoing.read())  # the ClientHello
            while True:
                data = sock.recv(65536)
                self.assertTrue(data, "the lab closed first")
                incoming.write(data)
                try:
                    tls.do_handshake()
                    break  # TLS 1.3: done; its Finished stays in `outgoing`
                except ssl.SSLWantReadError:
                    if outgoing.pending:
                        break  # TLS 1.2: its key exchange and Finished stay unsent
            if reset:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            sock.close()
        return port

    def test_a_client_that_hangs_up_after_the_certificate_abandoned_the_handshake(self):
        cases = [(ssl.TLSVersion.TLSv1_3, True, "TLS 1.3 server read_client_finished", "reset"),
                 (ssl.TLSVersion.TLSv1_3, False, "TLS 1.3 server read_client_finished", "closed"),
                 (ssl.TLSVersion.TLSv1_2, False, "TLS server read_client_key_exchange", "closed")]
        for version, reset, stage, how in cases:
            with self.subTest(version=version, reset=reset):
                port = self.abandon(version, reset)
                mine = lambda e: e["peer"].endswith(f":{port}")
                done = self.lab.wait_event("tls.done", mine)
                self.assertFalse(done["ok"])
                self.assertTrue(done["abandoned"], done)
                self.assertTrue(done["certificate_sent"], done)
                self.assertEqual(done["state"], "handshake")
                self.assertEqual(done["host"], "contoso.com")
                self.assertEqual(done["error"], f"peer {how} the connection during the handshake")
                self.assertEqual(done["stage"], stage)
                self.assertEqual([e for e in self.lab.events("tls.alert") if mine(e)], [])

    def test_a_port_probe_is_abandoned_before_any_certificate(self):
        h = self.lab.host("www")
        sock = socket.create_connection((h["address"], h["https"]), timeout=10)
        port = sock.getsockname()[1]
        sock.close()
        done = self.lab.wait_event("tls.done", lambda e: e["peer"].endswith(f":{port}"))
        self.assertTrue(done["abandoned"])
        self.assertFalse(done["certificate_sent"])
        self.assertEqual(done["state"], "read_hello")


if __name__ == "__main__":
    main()
