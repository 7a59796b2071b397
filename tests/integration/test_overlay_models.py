"""The client models through the overlay: `autodisco run` of the catalogue's overlay example on
top of a lab playing the founding story's real world. The models look names up at the overlay,
which forwards them to the real world's DNS but takes contoso.com's A record away; they connect
where its answers point, on the real ports 443 and 80 — so the real world listens there, which
needs root (this test says so and is skipped otherwise). Outlook 2016's walk meets no
certificate and still gets the settings from the real autodiscover host."""
import json
import os
import sys
import unittest

from labharness import AD_BIN, SKIP, Lab, run, scenario, main
from test_overlay_founding import EWS, FOUNDING, overlay_on


class OverlayModelsTest(unittest.TestCase):
    def test_the_client_models_see_no_prompt(self):
        real = Lab(FOUNDING, extra=["--https-port", "443", "--http-port", "80",
                                    "--address-base", "127.79.0.1"])
        self.addCleanup(real.close)
        path = overlay_on(real, os.path.join(real.tmp, "overlay.yaml"))
        r = run([AD_BIN, "--ca-dir", real.ca_dir, "run", path, "--format", "json",
                 "--client", "outlook-2016-msi"])
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr)  # prompts: [] holds
        text = json.dumps(json.loads(r.stdout))
        self.assertIn(EWS, text)  # the settings, from the real autodiscover host
        self.assertNotIn('"kind": "certificate"', text)
        self.assertFalse(any(h.get("host") == "contoso.com" for h in real.events("tls.hello")))
        real.wait_event("http.request", lambda e: e.get("email") == "user@contoso.com")


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("SKIPPED: the real world must listen on ports 443 and 80 of its addresses, which "
              "needs root; run the suite as root to include this test")
        sys.exit(SKIP)
    main()
