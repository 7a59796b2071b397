"""Points python3-exchangelib, a real Autodiscover client, at a running `autodisco serve`.

exchangelib's own DNS look-ups go to the lab's DNS server (dnspython, which exchangelib uses);
its connections go to what the lab's DNS answers, on the ports the ready line reports — the
same port map `run` gives the client models — because serve listens on ephemeral ports in the
tests. The lab CA is the only trust anchor."""
import os
import socket

import dns.resolver
from exchangelib.autodiscover import clear_cache


class LabNetwork:
    """Sends exchangelib's DNS to the lab and its TCP connections to the lab's ports."""

    def __init__(self, lab, discovery):
        self.lab = lab
        self.discovery = discovery  # PoxAutodiscovery or SoapAutodiscovery
        self.resolver = dns.resolver.Resolver(configure=False)
        self.resolver.nameservers = [lab.dns_host]
        self.resolver.port = lab.dns_port
        self.ports = {}
        for h in lab.info["hosts"]:
            for scheme, nominal in (("https", 443), ("http", 80)):
                # No listener: an address:port nobody listens on, so the connection is refused.
                self.ports[(h["address"], nominal)] = h[scheme] or 9
            for other in h.get("listeners", []):  # the host's other ports (8443, ...)
                self.ports[(h["address"], other["port"])] = other["bound"] or 9
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
        self.discovery.DNS_RESOLVER_KWARGS = {"configure": False}
        self.discovery.DNS_RESOLVER_ATTRS = {"nameservers": [self.lab.dns_host],
                                             "port": self.lab.dns_port, "timeout": 5}
        socket.getaddrinfo = self.getaddrinfo
        os.environ["REQUESTS_CA_BUNDLE"] = self.lab.ca_pem
        clear_cache()
        return self

    def __exit__(self, *exc):
        socket.getaddrinfo = self.real_getaddrinfo
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
        clear_cache()
