"""ews-javascript-api, the npm EWS client (issue 3), asks `autodisco serve` on routes.yaml for
alice's settings over SOAP Autodiscover (MS-OXWSADISC GetUserSettings) at
https://autodiscover.contoso.com:PORT/autodiscover/autodiscover.svc, and must accept the lab's
answer: the EWS URL and display name the scenario configures, no setting errors.

The client is installed from the npm registry with `npm ci` from tests/integration/ews-js
(exact versions, package-lock.json) into the build directory, and reused while package.json,
the lock and node's version stay the same. The node script resolves autodiscover.contoso.com
with the lab's DNS server and trusts the lab CA only; TLS verification stays on.

Without node, npm or the registry the test skips (exit 77) on a developer's machine, and fails
when CI is set in the environment."""
import json
import os
import re
import unittest

from labharness import SOURCE, Lab, scenario, main
from npmclient import NpmClient

EWS = "https://mail.contoso.com/EWS/Exchange.asmx"
SCRIPT = "get-user-settings.js"
CLIENT = NpmClient(os.path.join(SOURCE, "tests", "integration", "ews-js"), "ews-js-client",
                   (SCRIPT,))


class EwsJavascriptApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        CLIENT.install_or_skip()

    @classmethod
    def tearDownClass(cls):
        CLIENT.cleanup()

    def start_lab(self):
        lab = Lab(scenario("tests/data/integration/routes.yaml"))
        self.addCleanup(lab.close)
        # Runs first: SIGTERM, and serve must exit 0 (no sanitizer report, journal complete).
        self.addCleanup(lambda: self.assertEqual(lab.stop(), 0, "serve did not exit 0"))
        return lab

    def get_user_settings(self, lab, email, ca, settings):
        port = lab.host("exchange")["https"]
        args = {"url": f"https://autodiscover.contoso.com:{port}/autodiscover/autodiscover.svc",
                "email": email, "password": "Lab-Passw0rd", "dns": lab.info["dns"], "ca": ca,
                "settings": settings}
        env = {k: v for k, v in os.environ.items()
               if k not in ("NODE_EXTRA_CA_CERTS", "NODE_TLS_REJECT_UNAUTHORIZED", "NODE_OPTIONS",
                            "NODE_PATH", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")}
        p = CLIENT.run(SCRIPT, json.dumps(args), env=env)
        lines = p.stdout.strip().splitlines()
        self.assertTrue(lines, f"no output from node (exit {p.returncode}): {p.stderr}")
        log = re.sub(r"\x1b\[[0-9;]*m", "", p.stderr)  # the library colours its debug log
        return p.returncode, json.loads(lines[-1]), log

    def test_get_user_settings_gives_the_ews_url(self):
        lab = self.start_lab()
        rc, out, err = self.get_user_settings(
            lab, "alice@contoso.com", lab.ca_pem,
            ["ExternalEwsUrl", "InternalEwsUrl", "UserDisplayName", "AutoDiscoverSMTPAddress",
             "EwsSupportedSchemas", "CasVersion"])
        self.assertEqual(rc, 0, f"ews-javascript-api rejected the lab's answer: {out}\n{err}")
        self.assertEqual(out["errorCode"], "NoError")
        self.assertEqual(out["smtpAddress"], "alice@contoso.com")
        self.assertEqual(out["userSettingErrors"], [])
        settings = out["settings"]
        self.assertEqual(settings.get("ExternalEwsUrl"), EWS)
        self.assertEqual(settings.get("InternalEwsUrl"), EWS)
        self.assertEqual(settings.get("UserDisplayName"), "alice")
        self.assertEqual(settings.get("AutoDiscoverSMTPAddress"), "alice@contoso.com")
        self.assertIn("Exchange2013", settings.get("EwsSupportedSchemas", ""))
        # ServerVersionInfo in the SOAP header: ews-javascript-api keeps it as the server's version.
        self.assertEqual(out["serverInfo"]["majorVersion"], 15)
        # The name went through the lab's DNS, the envelope to the SOAP responder.
        lab.wait_event("dns.query", lambda e: e.get("qname") == "autodiscover.contoso.com")
        req = lab.wait_event("http.request", lambda e: e.get("soap") == "GetUserSettings"
                             and e.get("email") == "alice@contoso.com")
        self.assertEqual(req["path"].lower(), "/autodiscover/autodiscover.svc")
        self.assertEqual(req["method"], "POST")
        self.assertEqual(req["authorization"]["scheme"], "Basic")  # WebCredentials
        lab.wait_event("http.response", lambda e: e.get("route") == "/autodiscover/autodiscover.svc"
                       and e.get("status") == 200)
        with open(lab.journal) as f:
            self.assertNotIn("Lab-Passw0rd", f.read())

    def test_without_the_lab_ca_the_client_refuses_the_host(self):
        # Node's built-in roots only: the same client must stop at the certificate, which shows
        # the passing test above really verified the lab's certificate chain and name.
        lab = self.start_lab()
        rc, out, err = self.get_user_settings(lab, "alice@contoso.com", None, ["ExternalEwsUrl"])
        self.assertNotEqual(rc, 0, f"the client accepted the lab without its CA: {out}")
        self.assertIn("error", out)
        self.assertTrue(any("VERIFY" in c or "CERT" in c for c in out.get("socketErrors", [])),
                        f"not a certificate error: {out}\n{err}")
        lab.wait_event("tls.done", lambda e: e.get("ok") is False
                       and e.get("host") == "autodiscover.contoso.com")
        self.assertEqual(lab.events("http.request"), [])


if __name__ == "__main__":
    main()
