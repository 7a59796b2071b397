"""`serve --listen` on a lab network, across a network-namespace boundary (netlab.py: "lab" and
"vm" joined by a veth pair, the stand-in for a Windows VM's host-only network): the hosts on
the addresses given, the lab's DNS answering with them (PTR too), hosts sharing one address told
apart by SNI and the Host header with warnings for what sharing loses, --map, and root given up
(to nobody) before a client's byte is read — the process's ids read from /proc — while it
serves. Clients nobody here wrote: kdig, curl, openssl s_client, from the vm namespace, whose
only resolver is the lab. Flag errors need no root and are checked first, on loopback."""
import os
import pwd
import re
import shutil
import tempfile
import unittest

from labharness import AD_BIN, run, scenario, main
from netlab import LAB_ADDRS, VM_ADDR, NetLab, NetPair, require_root

EXPIRED = scenario("scenarios/founding/expired-root-cert.yaml")
BLACKHOLE = scenario("scenarios/errors/root-blackhole.yaml")
POX = ('<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/'
       'exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>'
       'alice@contoso.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/'
       'exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>'
       '</Autodiscover>')


class FlagsTest(unittest.TestCase):
    """Bad --listen, --map, --user: exit 2 with a sentence, before anything is bound."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="autodisco-flags-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def serve(self, *args):
        return run([AD_BIN, "--ca-dir", "/nonexistent/never-made", "serve", EXPIRED,
                    "--https-port", "0", "--http-port", "0", *args])

    def test_bad_flags_are_bad_input(self):
        cases = [
            (("--listen", "::1"), "--listen ::1: IPv6 lab addresses are not supported"),
            (("--listen", "0.0.0.0"), "--listen 0.0.0.0: the wildcard address cannot be"),
            (("--listen", "10.77.0"), "--listen 10.77.0: not an IPv4 address"),
            (("--map", "mail=10.77.0.1"),
             "--map mail=10.77.0.1: the scenario has no host 'mail' (its hosts: www, exchange)"),
            (("--map", "www"), "--map www: expected HOST=IP"),
            (("--listen", "10.77.0.1", "--address-base", "127.77.9.1"),
             "--address-base places hosts on loopback; --listen and --map place them"),
            # the wildcard would answer on every network the machine is on, unannounced
            (("--dns", "0.0.0.0:5353"), "--dns 0.0.0.0:5353: the wildcard address answers on "
                                        "every interface"),
            (("--dns", "[::]:5353"), "--dns [::]:5353: the wildcard address answers on every"),
            (("--listen", "10.77.0.1", "--dns", "0.0.0.0:53"), "--dns 0.0.0.0:53: the wildcard"),
            (("--dns", "localhost:53"), "--dns localhost:53: expected ADDR:PORT"),
        ]
        for args, want in cases:
            r = self.serve(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(want, r.stderr, args)
            self.assertEqual(r.stdout, "")

    def test_an_address_this_machine_lacks_says_what_to_do(self):
        r = run([AD_BIN, "--ca-dir", os.path.join(self.tmp, "ca"), "serve", EXPIRED,
                 "--listen", "192.0.2.1", "--https-port", "0", "--http-port", "0",
                 "--dns", "127.0.0.1:0"])  # TEST-NET-1 (RFC 5737): on no interface
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("serving on 192.0.2.1 (not loopback)", r.stderr)
        self.assertIn("bind 192.0.2.1:0: address not available", r.stderr)
        self.assertIn("--listen and --map take addresses this machine has", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_an_unknown_user_is_bad_input(self):
        if os.geteuid() != 0:
            self.skipTest("--user is looked up only when there is root to give up")
        r = self.serve("--listen", "127.0.0.1", "--user", "no-such-user-autodisco")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--user no-such-user-autodisco: no such user", r.stderr)
        r = self.serve("--listen", "127.0.0.1", "--user", "root")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--user root: that is root", r.stderr)


class NetworkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_root("serve on a lab network")
        cls.pair = NetPair()

    @classmethod
    def tearDownClass(cls):
        cls.pair.close()

    def serve(self, scn=EXPIRED, **kw):
        lab = NetLab(self.pair, scn, **kw)
        self.addCleanup(lab.close)
        return lab

    def kdig(self, name, qtype="A"):
        r = self.pair.vm_run("kdig", "+short", "+time=2", "+retry=0", name, qtype)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.split()

    def curl(self, lab, url, *extra):
        """curl in the vm: names resolved by the system resolver, i.e. the lab's DNS."""
        return self.pair.vm_run("curl", "-sS", "--max-time", "10", "--cacert", lab.ca_pem,
                                "-w", "\n%{http_code}", *extra, url)

    def presented(self, lab, name):
        """The certificate's subject the lab presents for SNI `name` (and openssl's output)."""
        r = self.pair.vm_run("openssl", "s_client", "-connect", f"{name}:443",
                             "-servername", name, "-CAfile", lab.ca_pem, input="")
        m = re.search(r"subject=(.*)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        return m.group(1).strip(), r.stdout

    def test_hosts_on_their_own_addresses_and_root_given_up(self):
        lab = self.serve()
        # root is gone before the loop reads a client's byte: the ready line comes after it
        status = lab.status()
        nobody = pwd.getpwnam("nobody")
        self.assertEqual(status["Uid"].split(), [str(nobody.pw_uid)] * 4)
        self.assertEqual(status["Gid"].split(), [str(nobody.pw_gid)] * 4)
        self.assertEqual(status["Groups"].strip(), "")
        self.assertEqual(status["CapEff"], "0000000000000000")
        self.assertEqual(lab.info["dns"], f"{LAB_ADDRS[0]}:53")  # --dns follows --listen
        self.assertEqual(lab.host("www")["address"], LAB_ADDRS[0])
        self.assertEqual(lab.host("exchange")["address"], LAB_ADDRS[1])
        self.assertEqual((lab.host("www")["https"], lab.host("exchange")["http"]), (443, None))
        self.assertEqual(lab.info["warnings"], [])
        self.assertEqual([a["shared"] for a in lab.info["addresses"]], [False, False])
        # what is not loopback is said in the ready line too: the DNS's address first
        self.assertEqual(lab.info["exposed"], [LAB_ADDRS[0], LAB_ADDRS[1]])
        # the vm's only DNS server is the lab: A and PTR name the hosts' addresses
        self.assertEqual(self.kdig("autodiscover.contoso.com"), [LAB_ADDRS[1]])
        self.assertEqual(self.kdig("www.contoso.com"), ["contoso.com.", LAB_ADDRS[0]])
        self.assertEqual(self.kdig("3.0.77.10.in-addr.arpa", "PTR"), ["autodiscover.contoso.com."])
        # it still serves, as nobody: settings over HTTPS, the expired site, a refused port
        r = self.curl(lab, "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                      "-H", "Content-Type: text/xml", "--data-binary", POX)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.endswith("\n200"), r.stdout)
        self.assertIn("<EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl>", r.stdout)
        r = self.curl(lab, "https://contoso.com/")
        self.assertEqual(r.returncode, 60, r.stderr)  # certificate has expired
        r = self.curl(lab, "http://autodiscover.contoso.com/")
        self.assertEqual(r.returncode, 7, r.stderr)  # refused: exchange has no port 80
        req = lab.wait_event("http.request", lambda e: e.get("email") == "alice@contoso.com")
        self.assertEqual(req["peer"].split(":")[0], VM_ADDR)
        self.assertEqual(req["local"], f"{LAB_ADDRS[1]}:443")
        self.assertEqual(req["host_id"], "exchange")
        q = lab.wait_event("dns.query", lambda e: e["qname"] == "autodiscover.contoso.com")
        self.assertEqual(q["client"].split(":")[0], VM_ADDR)
        self.assertEqual(lab.stop(), 0)
        self.assertIn(f"serving on {LAB_ADDRS[0]}, {LAB_ADDRS[1]} (not loopback)",
                      lab.stderr_text)
        self.assertIn(f"DNS on {LAB_ADDRS[0]}:53 (not loopback)", lab.stderr_text)
        self.assertIn("running as nobody", lab.stderr_text)
        start = lab.events("lab.start")[0]
        self.assertEqual({h["id"]: h["address"] for h in start["hosts"]},
                         {"www": LAB_ADDRS[0], "exchange": LAB_ADDRS[1]})

    def test_one_address_shared_by_sni_and_host(self):
        lab = self.serve(listen=LAB_ADDRS[:1])
        self.assertEqual(lab.host("www")["address"], LAB_ADDRS[0])
        self.assertEqual(lab.host("exchange")["address"], LAB_ADDRS[0])
        self.assertEqual(lab.info["addresses"][0]["hosts"], ["www", "exchange"])
        self.assertEqual(lab.info["addresses"][0]["default"], "www")
        self.assertTrue(lab.info["addresses"][0]["shared"])
        self.assertTrue(lab.info["addresses"][0]["lost"])
        warning = ("host exchange: port 80 refuses connections in the scenario, but exchange "
                   f"shares {LAB_ADDRS[0]} with host www, which answers {LAB_ADDRS[0]}:80")
        self.assertEqual(lab.info["warnings"], [warning])
        self.assertEqual(self.kdig("autodiscover.contoso.com"), [LAB_ADDRS[0]])
        self.assertEqual(self.kdig("contoso.com"), [LAB_ADDRS[0]])
        ptr = self.kdig("1.0.77.10.in-addr.arpa", "PTR")
        self.assertEqual(sorted(ptr), ["autodiscover.contoso.com.", "contoso.com."])
        # SNI picks the certificate: one address, two hosts
        subject, _ = self.presented(lab, "autodiscover.contoso.com")
        self.assertIn("autodiscover.contoso.com", subject)
        subject, out = self.presented(lab, "contoso.com")
        self.assertRegex(subject, r"CN ?= ?contoso\.com")
        self.assertIn("certificate has expired", out)
        # no SNI (a client by address): the default host's certificate
        r = self.pair.vm_run("openssl", "s_client", "-connect", f"{LAB_ADDRS[0]}:443",
                             "-noservername", input="")
        self.assertRegex(r.stdout, r"subject=.*CN ?= ?contoso\.com")
        # the Host header picks the routes; exchange's refused port 80 is www's redirect now
        r = self.curl(lab, "http://autodiscover.contoso.com/")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.endswith("\n301"), r.stdout)
        r = self.curl(lab, "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                      "-H", "Content-Type: text/xml", "--data-binary", POX)
        self.assertIn("<EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl>", r.stdout)
        # a Host naming the other host does not move a TLS connection off its SNI host
        r = self.curl(lab, "https://autodiscover.contoso.com/", "-H", "Host: contoso.com")
        self.assertTrue(r.stdout.endswith("\n404"), r.stdout)  # exchange's routes: no "/"
        hello = lab.wait_event("tls.hello", lambda e: e.get("host") == "contoso.com")
        self.assertEqual(hello["host_id"], "www")
        accept = lab.events("tcp.accept")[0]
        self.assertIsNone(accept["host"])  # no name seen yet on a shared address
        self.assertEqual(lab.stop(), 0)
        self.assertIn(f"warning: {warning}", lab.stderr_text)
        start = lab.events("lab.start")[0]
        self.assertEqual(start["warnings"], [warning])

    def test_map_pins_a_host(self):
        lab = self.serve(listen=LAB_ADDRS[1:], extra=("--map", f"exchange={LAB_ADDRS[0]}"),
                         dns=f"{LAB_ADDRS[1]}:53")
        self.assertEqual(lab.host("exchange")["address"], LAB_ADDRS[0])
        self.assertEqual(lab.host("www")["address"], LAB_ADDRS[1])
        r = self.pair.vm_run("kdig", "+short", f"@{LAB_ADDRS[1]}", "autodiscover.contoso.com")
        self.assertEqual(r.stdout.split(), [LAB_ADDRS[0]], r.stderr)
        self.assertEqual(lab.info["exposed"], [LAB_ADDRS[1], LAB_ADDRS[0]])
        self.assertEqual(lab.stop(), 0)

    def test_dns_alone_off_loopback_is_said(self):
        # the hosts stay on loopback, the DNS answers the lab network: stderr and ready line say so
        lab = self.serve(listen=(), dns=f"{LAB_ADDRS[0]}:53",
                         extra=("--https-port", "0", "--http-port", "0"))
        self.assertEqual(lab.info["dns"], f"{LAB_ADDRS[0]}:53")
        self.assertEqual(lab.info["exposed"], [LAB_ADDRS[0]])
        self.assertTrue(lab.host("www")["address"].startswith("127.77."))
        r = self.pair.vm_run("kdig", "+short", f"@{LAB_ADDRS[0]}", "autodiscover.contoso.com")
        self.assertEqual(r.stdout.split(), [lab.host("exchange")["address"]], r.stderr)
        self.assertEqual(lab.stop(), 0)
        self.assertIn(f"DNS on {LAB_ADDRS[0]}:53 (not loopback)", lab.stderr_text)
        self.assertNotIn("serving on", lab.stderr_text)

    def test_a_black_hole_across_the_network(self):
        lab = self.serve(BLACKHOLE)
        self.assertEqual(lab.info["warnings"], [])
        # the SYNs to the black-holed site go unanswered: curl's connect times out
        r = self.pair.vm_run("curl", "-sS", "--connect-timeout", "2", "--cacert", lab.ca_pem,
                             "https://contoso.com/")
        self.assertEqual(r.returncode, 28, r.stderr)
        r = self.curl(lab, "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
                      "-H", "Content-Type: text/xml", "--data-binary", POX)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(lab.stop(), 0)
        # on one address the black hole would swallow autodiscover.contoso.com too: said so
        lab = self.serve(BLACKHOLE, listen=LAB_ADDRS[:1])
        self.assertIn("host exchange: shares 10.77.0.1:443 with host www, whose blackhole fault "
                      "applies to every host there", lab.info["warnings"])
        self.assertEqual(lab.stop(), 0)

    def test_user_names_who_serve_runs_as(self):
        lab = self.serve(listen=LAB_ADDRS[:1], extra=("--user", "daemon"))
        daemon = pwd.getpwnam("daemon")
        self.assertEqual(lab.status()["Uid"].split(), [str(daemon.pw_uid)] * 4)
        self.assertEqual(self.kdig("autodiscover.contoso.com"), [LAB_ADDRS[0]])
        self.assertEqual(lab.stop(), 0)


if __name__ == "__main__":
    main()
