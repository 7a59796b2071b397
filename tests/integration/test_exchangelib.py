"""python3-exchangelib, a real Autodiscover client, against `autodisco serve` on the founding
story. Its own DNS look-ups go to the lab's DNS server (dnspython, which exchangelib uses);
its connections go to what the lab's DNS answers, on the ports the ready line reports — the
same port map `run` gives the client models — because serve listens on ephemeral ports here."""
import os
import socket
import unittest

import dns.resolver
from exchangelib import Credentials
from exchangelib.autodiscover import clear_cache
from exchangelib.autodiscover.discovery.pox import PoxAutodiscovery

from labharness import Lab, scenario, main

EWS = "https://mail.contoso.com/EWS/Exchange.asmx"


class LabNetwork:
    """Sends exchangelib's DNS to the lab and its TCP connections to the lab's ports."""

    def __init__(self, lab):
        self.lab = lab
        self.resolver = dns.resolver.Resolver(configure=False)
        self.resolver.nameservers = [lab.dns_host]
        self.resolver.port = lab.dns_port
        self.ports = {}
        for h in lab.info["hosts"]:
            for scheme, nominal in (("https", 443), ("http", 80)):
                # No listener: an address:port nobody listens on, so the connection is refused.
                self.ports[(h["address"], nominal)] = h[scheme] or 9
        self.real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(self, host, port, *args, **kw):
        try:
            answer = self.resolver.resolve(f"{host}.", "A", lifetime=5)
            address = answer[0].address
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer) as e:
            raise socket.gaierror(socket.EAI_NONAME, str(e))
        real_port = self.ports.get((address, int(port)), port)
        return self.real_getaddrinfo(address, real_port, *args, **kw)

    def __enter__(self):
        PoxAutodiscovery.DNS_RESOLVER_KWARGS = {"configure": False}
        PoxAutodiscovery.DNS_RESOLVER_ATTRS = {"nameservers": [self.lab.dns_host],
                                               "port": self.lab.dns_port, "timeout": 5}
        socket.getaddrinfo = self.getaddrinfo
        os.environ["REQUESTS_CA_BUNDLE"] = self.lab.ca_pem
        clear_cache()
        return self

    def __exit__(self, *exc):
        socket.getaddrinfo = self.real_getaddrinfo
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
        clear_cache()


class ExchangelibTest(unittest.TestCase):
    def discover(self, scenario_rel):
        lab = Lab(scenario(scenario_rel))
        self.addCleanup(lab.close)
        with LabNetwork(lab):
            # The lab asks for no credentials during Autodiscover; exchangelib wants some for
            # the NTLM the settings announce. They must not reach the journal in clear.
            creds = Credentials("alice@contoso.com", "Lab-Passw0rd")
            ad, protocol = PoxAutodiscovery(email="alice@contoso.com", credentials=creds).discover()
        with open(lab.journal) as f:
            self.assertNotIn("Lab-Passw0rd", f.read())
        return lab, ad, protocol

    def test_expired_root_is_rejected_and_the_autodiscover_host_answers(self):
        lab, ad, protocol = self.discover("scenarios/founding/expired-root-cert.yaml")
        self.assertEqual(protocol.service_endpoint, EWS)
        self.assertEqual(ad.autodiscover_smtp_address, "alice@contoso.com")
        # exchangelib refused the expired certificate: the lab saw the client's alert.
        alert = lab.wait_event("tls.alert", lambda e: e.get("host") == "contoso.com")
        self.assertIn("expired", alert["alert"])
        req = lab.wait_event("http.request", lambda e: e.get("email") == "alice@contoso.com")
        self.assertEqual(req["host"].split(":")[0], "autodiscover.contoso.com")

    def test_fix_remove_root_record_never_touches_the_web_site(self):
        lab, ad, protocol = self.discover("scenarios/founding/fix-remove-root-record.yaml")
        self.assertEqual(protocol.service_endpoint, EWS)
        hellos = lab.events("tls.hello")
        self.assertTrue(all(h.get("host") != "contoso.com" for h in hellos), hellos)
        q = lab.wait_event("dns.query", lambda e: e.get("qname") == "contoso.com")
        self.assertIn(q["rcode"], ("NXDOMAIN", "NOERROR"))

    def test_fix_renew_root_cert_gets_404_then_settings(self):
        lab, ad, protocol = self.discover("scenarios/founding/fix-renew-root-cert.yaml")
        self.assertEqual(protocol.service_endpoint, EWS)
        lab.wait_event("http.response", lambda e: e.get("status") == 404)
        self.assertEqual(lab.events("tls.alert"), [])


if __name__ == "__main__":
    main()
