"""The founding story end to end, with the overlay: lab A plays the real world of the founding
story (scenarios/founding/expired-root-cert.yaml: contoso.com's web site has an expired
certificate); lab B is the catalogue's overlay example (scenarios/overlay/remove-root-record.yaml)
with A's DNS as its upstream — "remove contoso.com's A record" on top of the real DNS.
python3-exchangelib, a real Autodiscover client, looks its names up at A and meets the expired
certificate (the popup); looking them up at B, its root-domain step fails at DNS, it never shakes
hands with contoso.com, and it still gets the settings from the real autodiscover host.
(test_overlay_models.py walks the client models through the same overlay.)"""
import os
import unittest

from exchangelib import Credentials
from exchangelib.autodiscover.discovery.pox import PoxAutodiscovery

from exchangelab import LabNetwork
from labharness import Lab, scenario, main

FOUNDING = scenario("scenarios/founding/expired-root-cert.yaml")
OVERLAY = scenario("scenarios/overlay/remove-root-record.yaml")
EWS = "https://mail.contoso.com/EWS/Exchange.asmx"


def overlay_on(real, path):
    """The catalogue's overlay example with `real`'s DNS as its upstream."""
    with open(path, "w") as f:
        f.write(f"""name: overlay-on-the-real-world
description: the overlay example on another lab's DNS
extends: {os.path.abspath(OVERLAY)}
dns:
  overlay: {{ upstream: "{real.info['dns']}" }}
""")
    return path


def discover(dns_lab, ports_lab):
    """exchangelib's Autodiscover with its DNS at dns_lab and its connections to ports_lab."""
    net = LabNetwork(dns_lab, PoxAutodiscovery)
    net.ports = LabNetwork(ports_lab, PoxAutodiscovery).ports
    with net:
        creds = Credentials("alice@contoso.com", "Lab-Passw0rd")
        return PoxAutodiscovery(email="alice@contoso.com", credentials=creds).discover()


class FoundingOverlayTest(unittest.TestCase):
    def test_the_popup_goes_with_the_overlay(self):
        real = Lab(FOUNDING)
        self.addCleanup(real.close)
        # before: the real DNS sends exchangelib to the web site and its expired certificate
        discover(real, real)
        alert = real.wait_event("tls.alert", lambda e: e.get("host") == "contoso.com")
        self.assertIn("expired", alert["alert"])
        hellos_before = len(real.events("tls.hello"))

        # after: the same real world, seen through the overlay
        lab = Lab(overlay_on(real, os.path.join(real.tmp, "overlay.yaml")), ca_dir=real.ca_dir,
                  extra=["--address-base", "127.78.0.1"])
        self.addCleanup(lab.close)
        ad, protocol = discover(lab, real)
        self.assertEqual(protocol.service_endpoint, EWS)
        self.assertEqual(ad.autodiscover_smtp_address, "alice@contoso.com")
        later = real.events("tls.hello")[hellos_before:]
        self.assertTrue(later, "exchangelib reached the real autodiscover host")
        self.assertTrue(all(h.get("host") != "contoso.com" for h in later), later)
        self.assertEqual(len(real.events("tls.alert")), 1)  # the one from before, no new one
        q = lab.wait_event("dns.query", lambda e: e.get("qname") == "contoso.com"
                           and e.get("qtype") == "A")
        self.assertEqual(q["overlay"], "remove")
        self.assertEqual((q["rcode"], q["answers"]), ("NOERROR", 0))
        up = lab.wait_event("upstream.dns", lambda e: e["qname"] == "autodiscover.contoso.com")
        self.assertEqual(up["upstream"], real.info["dns"])
        self.assertEqual(up["rcode"], "NOERROR")
        for j in (lab.journal, real.journal):
            with open(j) as f:
                self.assertNotIn("Lab-Passw0rd", f.read())


if __name__ == "__main__":
    main()
