"""`autodisco serve` under attack, with small limits and short deadlines on the command line so
that each case takes seconds: slowloris (a byte every quarter second, in a request head or a TLS
handshake) is cut off at the deadline, a connection flood from one address at its cap, and one
client holding DNS-over-TCP connections at its own cap — while a good client (curl, kdig) is
served meanwhile, and the journal says what was refused once a second, not once a connection.
The attackers are Python sockets from their own loopback addresses (127.0.0.2, ...)."""
import datetime
import select
import socket
import time
import unittest

from hostile import GoodClients, SCN, connect, connect_or_reset, drip, status_of
from labharness import Lab, main

LIMITS = ("--max-conns", "6", "--max-conns-per-client", "3", "--head-timeout", "1000",
          "--body-timeout", "1000",
          "--handshake-timeout", "1000", "--dns-tcp-max-conns", "12",
          "--dns-tcp-max-per-client", "3", "--dns-tcp-timeout", "1000")
HELLO = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]) + bytes(500)


def when(event):
    return datetime.datetime.fromisoformat(event["t"].replace("Z", "+00:00")).timestamp()


def wait_closed(socks, n, timeout):
    """Waits until `n` of `socks` have been ended by the server (EOF or RST), or `timeout` s;
    returns the ended ones."""
    ended = set()
    deadline = time.monotonic() + timeout
    while len(ended) < n and time.monotonic() < deadline:
        live = [s for s in socks if s not in ended]
        r, _, _ = select.select(live, [], [], max(0.0, deadline - time.monotonic()))
        for s in r:
            try:
                if not s.recv(65536):
                    ended.add(s)
            except ConnectionResetError:
                ended.add(s)
    return ended


def dribble_all(socks, byte, until, answered):
    """slowloris on several connections: `byte` every quarter second on each of `socks` that has
    had no answer yet, until every answer is `answered(bytes)` or `until` (monotonic) passes;
    returns the answers by socket."""
    answers = {s: b"" for s in socks}
    while time.monotonic() < until and not all(answered(a) for a in answers.values()):
        r, _, _ = select.select(socks, [], [], 0.25)
        for s in r:
            try:
                answers[s] += s.recv(65536)
            except ConnectionResetError:
                pass
        for s in socks:
            if not answers[s]:
                try:
                    s.send(byte)
                except OSError:
                    pass
    return answers


def let_in(addr, src, timeout=10):
    """A connection from `src` the server keeps (not ended within 0.2 s), retried until
    `timeout`: the server frees a client's place once it has seen one of its connections end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = connect_or_reset(addr, src)
        if s is not None and not wait_closed([s], 1, 0.2):
            return s
        if s is not None:
            s.close()
        select.select([], [], [], 0.02)
    return None


def flood(addr, src, n):
    """`n` connections from `src` at once: those the server reset before connect() returned are
    None."""
    return [connect_or_reset(addr, src) for _ in range(n)]


class LimitsTest(GoodClients, unittest.TestCase):
    def setUp(self):
        self.lab = Lab(SCN, extra=LIMITS)
        self.addCleanup(self.lab.close)
        self.socks = []
        self.addCleanup(lambda: [s.close() for s in self.socks])

    def open(self, addr, src):
        s = connect(addr, src)
        self.socks.append(s)
        return s

    def flood(self, addr, src, n):
        """`n` connections at once; the refused ones already reset, the others."""
        socks = flood(addr, src, n)
        live = [s for s in socks if s is not None]
        self.socks.extend(live)
        return n - len(live), live

    def test_ready_line_says_the_limits(self):
        self.assertEqual(self.lab.info["limits"], {
            "max_conns": 6, "max_conns_per_client": 3, "head_timeout_ms": 1000,
            "body_timeout_ms": 1000, "handshake_timeout_ms": 1000, "dns_tcp_max_conns": 12, "dns_tcp_max_per_client": 3,
            "dns_tcp_timeout_ms": 1000})
        self.assertEqual(self.lab.info["exposed"], [])

    def test_slowloris_head_is_cut_at_the_deadline(self):
        start = b"POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: autodiscover.contoso.com\r\n"
        attackers = [self.open(self.http_addr(), "127.0.0.2") for _ in range(3)]
        for s in attackers:
            s.sendall(start)
        t0 = time.monotonic()
        self.assert_curl_served()  # meanwhile
        # the idle timeout (30 s) would never end it; the deadline (1 s) must
        answers = dribble_all(attackers, b"a", t0 + 8,
                              lambda a: a.endswith(b"\n") and b"408" in a)
        took = time.monotonic() - t0
        for a in answers.values():
            self.assertEqual(status_of(a), 408, a)
        self.assertGreater(took, 0.8)
        self.assertLess(took, 5)
        self.assertEqual(len(wait_closed(attackers, 3, 5)), 3)
        errors = [e for e in self.lab.events("http.error") if e["peer"].startswith("127.0.0.2:")]
        self.assertEqual([e["error"] for e in errors],
                         ["request head not complete within 1000 ms"] * 3)
        self.assert_curl_served()

    def test_slowloris_body_is_cut_at_the_deadline(self):
        head = (b"POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: autodiscover.contoso.com\r\n"
                b"Content-Type: text/xml\r\nContent-Length: 400\r\n\r\n")
        attackers = [self.open(self.http_addr(), "127.0.0.7") for _ in range(2)]
        for s in attackers:
            s.sendall(head)
        t0 = time.monotonic()
        self.assert_curl_served()  # meanwhile
        # the idle timeout (30 s) would never end it; the deadline (1 s) must
        answers = dribble_all(attackers, b"<", t0 + 8, lambda a: b"\r\n\r\n" in a)
        took = time.monotonic() - t0
        for a in answers.values():
            self.assertEqual(status_of(a), 408, a)
        self.assertGreater(took, 0.8)
        self.assertLess(took, 5)
        self.assertEqual(len(wait_closed(attackers, 2, 5)), 2)
        errors = [e for e in self.lab.events("http.error") if e["peer"].startswith("127.0.0.7:")]
        self.assertEqual([e["error"] for e in errors],
                         ["request body not complete within 1000 ms"] * 2)
        self.assert_curl_served()

    def test_slowloris_handshake_is_cut_at_the_deadline(self):
        attackers = [self.open(self.http_addr("https"), "127.0.0.2") for _ in range(2)]
        t0 = time.monotonic()
        self.assert_curl_served("https")
        for s in attackers:
            drip(s, HELLO, 0.25, t0 + 8)
        self.assertEqual(len(wait_closed(attackers, 2, 5)), 2)
        self.assertLess(time.monotonic() - t0, 5)
        done = [e for e in self.lab.events("tls.done") if e["peer"].startswith("127.0.0.2:")]
        self.assertEqual([(e["ok"], e["error"], e["abandoned"]) for e in done],
                         [(False, "handshake not complete within 1000 ms", False)] * 2)
        self.assert_curl_served("https")

    def test_flood_from_one_address_stops_at_its_cap(self):
        t0 = time.monotonic()
        n_reset, live = self.flood(self.http_addr(), "127.0.0.3", 20)
        ended = wait_closed(live, 17 - n_reset, 10)
        self.assertEqual(n_reset + len(ended), 17)  # reset at once, past the 3 it may hold
        self.assert_curl_served()  # another address meanwhile
        held = [s for s in live if s not in ended]
        self.assertEqual(len(held), 3)
        held[0].sendall(b"GET / HTTP/1.1\r\nHost: autodiscover.contoso.com\r\n\r\n")
        self.assertEqual(status_of(held[0].recv(65536)), 200)  # the held ones are served
        # one event at once, the rest within a second: not one per connection
        refused = lambda: sum(e["refused"] for e in self.lab.events("limit.reached"))
        self.lab.wait_event("limit.reached", lambda e: refused() == 17, timeout=5)
        events = self.lab.events("limit.reached")
        self.assertLessEqual(len(events), 2 + int(time.monotonic() - t0))
        self.assertEqual(events[0]["refused"], 1)
        for before, after in zip(events, events[1:]):
            self.assertGreaterEqual(when(after) - when(before), 0.95)
        for e in events:
            self.assertEqual((e["service"], e["local"], e["tls"], e["host"]),
                             ("http", "%s:%d" % self.http_addr(), False, "exchange"))
            self.assertEqual((e["full"], e["per_client"], e["max_per_client"], e["clients"]),
                             (0, e["refused"], 3, ["127.0.0.3"]))
        accepts = [e for e in self.lab.events("tcp.accept") if e["peer"].startswith("127.0.0.3:")]
        self.assertEqual(len(accepts), 3)  # the refused have no event of their own
        # the address may connect again once it has closed one
        held[0].close()
        self.socks.remove(held[0])
        again = let_in(self.http_addr(), "127.0.0.3")
        self.assertIsNotNone(again, "127.0.0.3 was never let in again")
        self.socks.append(again)

    def test_listener_full(self):
        held = [self.open(self.http_addr(), f"127.0.0.{10 + i}") for i in range(6)]
        late = connect_or_reset(self.http_addr(), "127.0.0.20")
        if late is not None:
            self.socks.append(late)
            self.assertEqual(len(wait_closed([late], 1, 5)), 1)
        e = self.lab.wait_event("limit.reached")
        self.assertEqual((e["refused"], e["full"], e["per_client"], e["max_conns"], e["open"]),
                         (1, 1, 0, 6, 6))
        self.assertEqual(e["clients"], ["127.0.0.20"])
        self.assertEqual(len(wait_closed(held, 1, 0.3)), 0)
        held[0].close()  # room for one: a good client is served again
        self.socks.remove(held[0])
        s = let_in(self.http_addr(), "127.0.0.1")
        self.assertIsNotNone(s, "no connection was let in after one closed")
        s.close()  # (its place is free again once the server has seen it go)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.assert_curl_served()
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                select.select([], [], [], 0.02)
    def test_dns_tcp_lockout(self):
        n_reset, hog = self.flood(self.dns_addr(), "127.0.0.4", 30)
        ended = wait_closed(hog, 27 - n_reset, 10)
        self.assertEqual(n_reset + len(ended), 27)
        self.assert_kdig_served(tcp=True)  # while 127.0.0.4 holds its three
        refused = lambda: sum(e["refused"] for e in self.lab.events("limit.reached"))
        self.lab.wait_event("limit.reached", lambda e: refused() == 27, timeout=5)
        for e in self.lab.events("limit.reached"):
            self.assertEqual((e["service"], e["local"], e["per_client"], e["full"]),
                             ("dns", self.lab.info["dns"], e["refused"], 0))
            self.assertEqual((e["max_conns"], e["max_per_client"], e["clients"]),
                             (12, 3, ["127.0.0.4"]))


    def test_slowloris_dns_tcp_message_is_cut_at_the_deadline(self):
        # a query framed for TCP (RFC 1035 4.2.2), sent a byte every quarter second: whole after
        # about 9 s, were it let in; the deadline (1 s from its first byte) ends it before
        query = bytes.fromhex("abcd01000001000000000000") + b"\x07contoso\x03com\x00\x00\x01\x00\x01"
        framed = len(query).to_bytes(2, "big") + query
        attackers = [self.open(self.dns_addr(), "127.0.0.6") for _ in range(2)]
        t0 = time.monotonic()
        self.assert_kdig_served(tcp=True)  # meanwhile
        for s in attackers:
            drip(s, framed, 0.25, t0 + 8)
        self.assertEqual(len(wait_closed(attackers, 2, 5)), 2)
        took = time.monotonic() - t0
        self.assertGreater(took, 0.8)
        self.assertLess(took, 5)
        asked = [e for e in self.lab.events("dns.query") if e["client"].startswith("127.0.0.6:")]
        self.assertEqual(asked, [])  # never answered, never journaled as a query
        self.assert_kdig_served(tcp=True)


class DefaultLimitsTest(GoodClients, unittest.TestCase):
    """The case that locked everyone out before the per-client cap: one client holding 300 idle
    DNS-over-TCP connections (the global cap is 256), with the defaults."""

    def test_one_client_cannot_lock_out_dns_over_tcp(self):
        self.lab = Lab(SCN)
        self.addCleanup(self.lab.close)
        self.assertEqual(self.lab.info["limits"], {
            "max_conns": 512, "max_conns_per_client": 64, "head_timeout_ms": 10000,
            "body_timeout_ms": 10000, "handshake_timeout_ms": 10000, "dns_tcp_max_conns": 256, "dns_tcp_max_per_client": 16,
            "dns_tcp_timeout_ms": 10000})
        hog = [s for s in flood(self.dns_addr(), "127.0.0.5", 300) if s is not None]
        self.addCleanup(lambda: [s.close() for s in hog])
        self.assertEqual(300 - len(hog) + len(wait_closed(hog, 284 - (300 - len(hog)), 20)), 284)
        self.assert_kdig_served(tcp=True)
        e = self.lab.wait_event("limit.reached", lambda e: e["service"] == "dns")
        self.assertEqual(e["clients"], ["127.0.0.5"])


if __name__ == "__main__":
    main()
