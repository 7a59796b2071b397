"""python3-exchangelib's SOAP Autodiscover (MS-OXWSADISC GetUserSettings) against
`autodisco serve` on routes.yaml: contoso.com has no address, so exchangelib's step 2 posts its
envelope to https://autodiscover.contoso.com/autodiscover/autodiscover.svc, and the lab's SOAP
responder must give it an answer it accepts (EWS URL, address, schema version). DNS goes to the
lab's server and connections to the ports the ready line reports, as in test_exchangelib.py."""
import os
import socket
import unittest

import dns.resolver
from exchangelib import Credentials
from exchangelib.autodiscover import clear_cache
from exchangelib.autodiscover.discovery.soap import SoapAutodiscovery

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
        SoapAutodiscovery.DNS_RESOLVER_KWARGS = {"configure": False}
        SoapAutodiscovery.DNS_RESOLVER_ATTRS = {"nameservers": [self.lab.dns_host],
                                                "port": self.lab.dns_port, "timeout": 5}
        socket.getaddrinfo = self.getaddrinfo
        os.environ["REQUESTS_CA_BUNDLE"] = self.lab.ca_pem
        clear_cache()
        return self

    def __exit__(self, *exc):
        socket.getaddrinfo = self.real_getaddrinfo
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
        clear_cache()


class SoapExchangelibTest(unittest.TestCase):
    def test_get_user_settings_gives_the_ews_url(self):
        lab = Lab(scenario("tests/data/integration/routes.yaml"))
        self.addCleanup(lab.close)
        self.addCleanup(lab.stop)  # runs first: SIGTERM, then the pipes are closed
        with LabNetwork(lab):
            creds = Credentials("alice@contoso.com", "Lab-Passw0rd")
            ad, protocol = SoapAutodiscovery(email="alice@contoso.com",
                                             credentials=creds).discover()
        self.assertEqual(protocol.service_endpoint, EWS)
        self.assertEqual(ad.autodiscover_smtp_address, "alice@contoso.com")
        self.assertEqual(ad.user_settings.get("user_display_name"), "alice")
        self.assertEqual(ad.user_settings_errors, {})
        self.assertEqual(ad.version.api_version, "Exchange2016")  # newest EwsSupportedSchemas
        req = lab.wait_event("http.request", lambda e: e.get("soap") == "GetUserSettings"
                             and e.get("email") == "alice@contoso.com")
        self.assertEqual(req["path"].lower(), "/autodiscover/autodiscover.svc")
        lab.wait_event("http.response", lambda e: e.get("route") == "/autodiscover/autodiscover.svc"
                       and e.get("status") == 200)
        with open(lab.journal) as f:
            self.assertNotIn("Lab-Passw0rd", f.read())


if __name__ == "__main__":
    main()
