"""`serve --keylog FILE`: tshark (Wireshark) captures one curl exchange with the lab on `lo` and
decrypts it with the key log: the request path and the response status are readable. The same
capture checks the journal's JA4 against the ClientHello as Wireshark dissected it — an
independent parser of the bytes (tshark 4.0 has no JA4 of its own, so the test applies
FoxIO's formula to Wireshark's fields).

Capturing needs root (CAP_NET_RAW): unprivileged, the test is skipped (exit 77)."""
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

from labharness import SKIP, Lab, read_line, run, scenario, main

SCN = scenario("scenarios/founding/expired-root-cert.yaml")
POX = ('<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/'
       'exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>user@contoso.com'
       '</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/'
       'autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>'
       '</Autodiscover>')


def grease(v):
    return (v & 0x0f0f) == 0x0a0a and (v >> 8) == (v & 0xff)


def ja4_from_fields(f):
    """FoxIO's JA4 (technical_details/JA4.md) from tshark's ClientHello fields."""
    ints = lambda key: [int(x, 0) for x in f[key].split(",") if x]
    ciphers = [c for c in ints("tls.handshake.ciphersuite") if not grease(c)]
    exts = [e for e in ints("tls.handshake.extension.type") if not grease(e)]
    versions = [v for v in ints("tls.handshake.extensions.supported_version") if not grease(v)]
    sigalgs = [s for s in ints("tls.handshake.sig_hash_alg") if not grease(s)]
    version = max(versions) if versions else ints("tls.handshake.version")[0]
    code = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10"}.get(version, "00")
    alpn = f["tls.handshake.extensions_alpn_str"].split(",")[0]
    alpn = alpn[0] + alpn[-1] if alpn else "00"
    h = lambda s: hashlib.sha256(s.encode()).hexdigest()[:12] if s else "000000000000"
    cipher_text = ",".join(f"{c:04x}" for c in sorted(ciphers))
    ext_text = ",".join(f"{e:04x}" for e in sorted(e for e in exts if e not in (0, 16)))
    if ext_text and sigalgs:
        ext_text += "_" + ",".join(f"{s:04x}" for s in sigalgs)
    sni = "d" if 0 in exts else "i"
    return (f"t{code}{sni}{min(len(ciphers), 99):02d}{min(len(exts), 99):02d}{alpn}_"
            f"{h(cipher_text)}_{h(ext_text)}")


class KeylogTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            print("SKIPPED: capturing on lo needs root", file=sys.stderr)
            sys.exit(SKIP)
        if shutil.which("tshark") is None:
            raise AssertionError("tshark is missing (Debian: apt-get install tshark; "
                                 "scripts/install-deps --with-tests)")
        cls.tmp = tempfile.mkdtemp(prefix="autodisco-keylog-")
        cls.keylog = os.path.join(cls.tmp, "lab.keys")
        cls.lab = Lab(SCN, extra=("--keylog", cls.keylog))

    @classmethod
    def tearDownClass(cls):
        cls.lab.stop()
        cls.lab.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def keys(self):
        with open(self.keylog) as f:
            return f.read()

    def capture(self, port, pcap):
        """tshark on lo for `port`, returned once dumpcap has the interface open and says so
        ("Capture started.", then the file name; "Capturing on" comes before that)."""
        p = subprocess.Popen(["tshark", "-i", "lo", "-f", f"tcp port {port}", "-w", pcap],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while True:
            line = read_line(p.stderr, 30)
            if line is None:
                p.kill()
                p.wait()
                raise AssertionError("tshark did not start capturing")
            if "File:" in line and pcap in line:
                return p

    def read(self, pcap, port, *args):
        r = run(["tshark", "-r", pcap, "-d", f"tcp.port=={port},tls", *args])
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_a_captured_exchange_decrypts_with_the_key_log(self):
        self.assertEqual(stat.S_IMODE(os.stat(self.keylog).st_mode), 0o600)
        ex = self.lab.host("exchange")
        port = ex["https"]
        pcap = os.path.join(self.tmp, "lab.pcapng")
        tshark = self.capture(port, pcap)
        try:
            r = run(["curl", "-sS", "--http1.1", "-o", "/dev/null", "-w", "%{http_code}",
                     "--cacert", self.lab.ca_pem,
                     "--resolve", f"autodiscover.contoso.com:{port}:{ex['address']}",
                     "-H", "Content-Type: text/xml", "--data-binary", POX,
                     f"https://autodiscover.contoso.com:{port}/autodiscover/autodiscover.xml"])
            self.assertEqual(r.stdout, "200", r.stderr)
            self.lab.wait_event("http.response", lambda e: e["status"] == 200)
            # wait until the capture holds the whole exchange (the server's last record)
            deadline = time.monotonic() + 20
            while "CLIENT_TRAFFIC_SECRET_0" not in self.keys() or \
                    "200" not in self.read(pcap, port, "-o", f"tls.keylog_file:{self.keylog}",
                                           "-Y", "http.response", "-T", "fields",
                                           "-e", "http.response.code"):
                self.assertLess(time.monotonic(), deadline, "the capture never had the answer")
                time.sleep(0.05)
        finally:
            tshark.send_signal(signal.SIGINT)
            tshark.communicate(timeout=30)

        # without the key log the HTTP inside is unreadable ...
        self.assertEqual(self.read(pcap, port, "-Y", "http", "-T", "fields",
                                   "-e", "http.request.uri").strip(), "")
        # ... with it, the request path and the answer's status are plain
        with_keys = ("-o", f"tls.keylog_file:{self.keylog}")
        uri = self.read(pcap, port, *with_keys, "-Y", "http.request", "-T", "fields",
                        "-e", "http.request.method", "-e", "http.request.uri")
        self.assertEqual(uri.split(), ["POST", "/autodiscover/autodiscover.xml"])
        code = self.read(pcap, port, *with_keys, "-Y", "http.response", "-T", "fields",
                         "-e", "http.response.code")
        self.assertEqual(code.split(), ["200"])

        # the journal's JA4 is FoxIO's formula over the ClientHello as Wireshark read it
        keys = ["tls.handshake.version", "tls.handshake.ciphersuite",
                "tls.handshake.extension.type", "tls.handshake.extensions.supported_version",
                "tls.handshake.sig_hash_alg", "tls.handshake.extensions_alpn_str",
                "tcp.srcport"]
        out = self.read(pcap, port, "-Y", "tls.handshake.type == 1", "-T", "fields",
                        "-E", "separator=|", "-E", "aggregator=,",
                        *[a for k in keys for a in ("-e", k)])
        rows = [dict(zip(keys, line.split("|"))) for line in out.strip().splitlines()]
        self.assertEqual(len(rows), 1, out)
        fields = rows[0]
        self.assertNotIn("50", fields["tls.handshake.extension.type"].split(","))  # sigalgs_cert
        hello = self.lab.wait_event("tls.hello", lambda e: e["peer"].endswith(
            ":" + fields["tcp.srcport"]))
        self.assertEqual(hello["ja4"], ja4_from_fields(fields))


if __name__ == "__main__":
    main()
