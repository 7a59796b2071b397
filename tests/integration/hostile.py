"""Hostile clients for the bad-input and limit tests, and the good clients (kdig, curl) that must
be served right after them. The hostile side is raw Python sockets: no client library would send
what these send."""
import select
import socket
import struct
import time

from labharness import run, scenario

SCN = scenario("tests/data/integration/lab-hostile.yaml")
NS_REQUEST = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
NS_RESPONSE = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
EWS = "<EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl>"
NAME = "autodiscover.contoso.com"


def pox(email="alice@contoso.com", prolog="", inner=""):
    """The POX request Outlook sends (MS-OXDSCLI 3.1.5.1), as bytes; `prolog` goes before the
    root element, `inner` inside Request."""
    return (f'<?xml version="1.0" encoding="utf-8"?>{prolog}<Autodiscover xmlns="{NS_REQUEST}">'
            f'<Request><EMailAddress>{email}</EMailAddress><AcceptableResponseSchema>'
            f'{NS_RESPONSE}</AcceptableResponseSchema>{inner}</Request></Autodiscover>'
            ).encode("utf-8", "surrogateescape")


# ---- DNS ----

def dns_header(qid, qdcount=1, ancount=0, flags=0x0100):
    return struct.pack(">HHHHHH", qid, flags, qdcount, ancount, 0, 0)


def dns_name(*labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"


def dns_query(qid, name=None, qtype=1, **kw):
    name = name if name is not None else dns_name(b"autodiscover", b"contoso", b"com")
    return dns_header(qid, **kw) + name + struct.pack(">HH", qtype, 1)


def udp_ask(addr, msg, timeout=2.0):
    """One datagram; the answer and our port, or None when none came within `timeout`."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(msg, addr)
        port = s.getsockname()[1]
        try:
            return s.recv(65536), port
        except socket.timeout:
            return None, port


def tcp_ask(addr, msg, timeout=2.0):
    """One framed message on a new connection (RFC 1035 4.2.2); the answer (None: none within
    `timeout`) and our port."""
    with socket.create_connection(addr, timeout=timeout) as s:
        s.sendall(struct.pack(">H", len(msg)) + msg)
        port = s.getsockname()[1]
        data = b""
        try:
            while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
                b = s.recv(65536)
                if not b:
                    return None, port
                data += b
        except socket.timeout:
            return None, port
        return data[2:], port


def header_of(msg):
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    return {"id": qid, "qr": bool(flags & 0x8000), "rcode": flags & 0xF, "qd": qd, "an": an}


# ---- raw TCP ----

def connect(addr, src=None, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src is not None:
        s.bind((src, 0))
    s.connect(addr)
    return s


def connect_or_reset(addr, src=None, timeout=5.0):
    """connect(), or None when the server reset the connection before connect() returned (a
    server that refuses at accept can be that quick: the kernel completed the handshake)."""
    try:
        return connect(addr, src, timeout)
    except ConnectionResetError:
        return None


def exchange(addr, data, src=None, timeout=10.0):
    """Sends `data` and reads until the server closes: what came back, and our port."""
    with connect(addr, src, timeout) as s:
        port = s.getsockname()[1]
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the answer may already be on its way: read it
        return read_all(s), port


def read_all(s):
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except (ConnectionResetError, socket.timeout):
        pass
    return out


def closed_soon(s, timeout):
    """True when the server ends `s` (EOF or RST) within `timeout` s, after at most some bytes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            return False
        try:
            if not s.recv(65536):
                return True
        except ConnectionResetError:
            return True
    return False


def status_of(response):
    """The status code of a raw HTTP response, or None."""
    if not response.startswith(b"HTTP/1.1 "):
        return None
    return int(response[9:12])


# ---- the good clients ----

class GoodClients:
    """Mixin for a TestCase with self.lab: real clients that must be served."""

    def dns_addr(self):
        return (self.lab.dns_host, self.lab.dns_port)

    def http_addr(self, scheme="http"):
        h = self.lab.host("exchange")
        return (h["address"], h[scheme])

    def assert_kdig_served(self, tcp=False):
        r = run(["kdig", f"@{self.lab.dns_host}", "-p", str(self.lab.dns_port), "+norec",
                 "+timeout=3", "+retry=0", *(["+tcp"] if tcp else []), "+short", NAME, "A"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), [self.lab.host("exchange")["address"]], r.stderr)

    def assert_curl_served(self, scheme="http"):
        h = self.lab.host("exchange")
        nominal = 443 if scheme == "https" else 80
        r = run(["curl", "-sS", "--max-time", "10", "--cacert", self.lab.ca_pem,
                 "--connect-to", f"{NAME}:{nominal}:{h['address']}:{h[scheme]}",
                 "-H", "Content-Type: text/xml", "--data-binary", "@-", "-w", "\n%{http_code}",
                 f"{scheme}://{NAME}/autodiscover/autodiscover.xml"], input=pox().decode())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.endswith("\n200"), r.stdout)
        self.assertIn(EWS, r.stdout)


def drip(s, data, every, until):
    """slowloris: one byte of `data` every `every` s until the server answers, closes or `until`
    (monotonic) passes; returns how long it went on."""
    t0 = time.monotonic()
    for b in data:
        r, _, _ = select.select([s], [], [], every)
        if r or time.monotonic() > until:
            break
        try:
            s.send(bytes([b]))
        except OSError:
            break
    return time.monotonic() - t0
