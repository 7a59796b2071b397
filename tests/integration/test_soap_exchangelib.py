"""python3-exchangelib's SOAP Autodiscover (MS-OXWSADISC GetUserSettings) against
`autodisco serve` on routes.yaml: contoso.com has no address, so exchangelib's step 2 posts its
envelope to https://autodiscover.contoso.com/autodiscover/autodiscover.svc, and the lab's SOAP
responder must give it an answer it accepts (EWS URL, address, schema version). DNS goes to the
lab's server and connections to the ports the ready line reports, as in test_exchangelib.py."""
import unittest

from exchangelib import Credentials
from exchangelib.autodiscover.discovery.soap import SoapAutodiscovery

from exchangelab import LabNetwork
from labharness import Lab, scenario, main

EWS = "https://mail.contoso.com/EWS/Exchange.asmx"


class SoapExchangelibTest(unittest.TestCase):
    def test_get_user_settings_gives_the_ews_url(self):
        lab = Lab(scenario("tests/data/integration/routes.yaml"))
        self.addCleanup(lab.close)
        self.addCleanup(lab.stop)  # runs first: SIGTERM, then the pipes are closed
        with LabNetwork(lab, SoapAutodiscovery):
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
