"""python3-exchangelib, a real Autodiscover client, against `autodisco serve` on the founding
story. Its own DNS look-ups go to the lab's DNS server (dnspython, which exchangelib uses);
its connections go to what the lab's DNS answers, on the ports the ready line reports — the
same port map `run` gives the client models — because serve listens on ephemeral ports here."""
import unittest

from exchangelib import Credentials
from exchangelib.autodiscover.discovery.pox import PoxAutodiscovery

from exchangelab import LabNetwork
from labharness import Lab, scenario, main

EWS = "https://mail.contoso.com/EWS/Exchange.asmx"


class ExchangelibTest(unittest.TestCase):
    def discover(self, scenario_rel):
        lab = Lab(scenario(scenario_rel))
        self.addCleanup(lab.close)
        with LabNetwork(lab, PoxAutodiscovery):
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
