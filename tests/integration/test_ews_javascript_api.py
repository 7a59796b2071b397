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
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from labharness import AD_BIN, SKIP, SOURCE, Lab, scenario, main

EWS = "https://mail.contoso.com/EWS/Exchange.asmx"
CLIENT_SRC = os.path.join(SOURCE, "tests", "integration", "ews-js")
CLIENT_FILES = ("package.json", "package-lock.json", "get-user-settings.js")
SCRIPT = "get-user-settings.js"
NPM_TIMEOUT = 240  # seconds for `npm ci`; ctest gives the whole file 300
NODE_TIMEOUT = 60
# npm's words for "the registry could not be reached": only these make a developer run skip.
OFFLINE = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH",
           "EHOSTUNREACH", "network request", "request to https://registry")


def in_ci():
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


class Unavailable(Exception):
    """node, npm or the registry is missing: a skip for a developer, a failure in CI."""


def tool(name):
    for path in (f"/usr/bin/{name}", shutil.which(name)):
        if path and os.access(path, os.X_OK):
            return path
    raise Unavailable(f"no {name} on this machine (Debian: apt-get install nodejs npm)")


def cache_dir():
    """Where node_modules lives between runs: next to the autodisco binary (the build dir)."""
    if os.path.isabs(AD_BIN) and os.path.isfile(AD_BIN):
        return os.path.join(os.path.dirname(os.path.realpath(AD_BIN)), "ews-js-client"), False
    return tempfile.mkdtemp(prefix="autodisco-ews-js-"), True


def stamp(node):
    version = subprocess.run([node, "--version"], capture_output=True, text=True,
                             timeout=NODE_TIMEOUT).stdout.strip()
    h = hashlib.sha256(version.encode())
    for name in ("package.json", "package-lock.json"):
        with open(os.path.join(CLIENT_SRC, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def install(node, npm, where):
    """`npm ci` of the pinned client into `where` unless an identical install is there."""
    want = stamp(node)
    stamp_file = os.path.join(where, ".autodisco-stamp")
    if os.path.isdir(os.path.join(where, "node_modules")) and os.path.exists(stamp_file):
        with open(stamp_file) as f:
            if f.read().strip() == want:
                shutil.copyfile(os.path.join(CLIENT_SRC, SCRIPT), os.path.join(where, SCRIPT))
                return 0.0
    staging = f"{where}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    for name in CLIENT_FILES:
        shutil.copyfile(os.path.join(CLIENT_SRC, name), os.path.join(staging, name))
    cmd = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--fetch-retries=1",
           "--fetch-timeout=60000", "--loglevel=error"]
    started = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=staging, capture_output=True, text=True, timeout=NPM_TIMEOUT)
    except subprocess.TimeoutExpired:
        shutil.rmtree(staging, ignore_errors=True)
        raise Unavailable(f"`npm ci` took more than {NPM_TIMEOUT}s (registry unreachable?)")
    took = time.monotonic() - started
    if p.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        out = (p.stdout + p.stderr)[-3000:]
        if any(word in out for word in OFFLINE):
            raise Unavailable(f"`npm ci` could not reach the registry:\n{out}")
        raise AssertionError(f"`npm ci` failed (exit {p.returncode}):\n{out}")
    with open(os.path.join(staging, ".autodisco-stamp"), "w") as f:
        f.write(want + "\n")
    shutil.rmtree(where, ignore_errors=True)
    os.rename(staging, where)
    return took


class EwsJavascriptApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client_dir, cls.client_is_temp = cache_dir()
        try:
            cls.node = tool("node")
            npm = tool("npm")
            took = install(cls.node, npm, cls.client_dir)
        except Unavailable as e:
            if cls.client_is_temp:
                shutil.rmtree(cls.client_dir, ignore_errors=True)
            if in_ci():
                raise AssertionError(f"ews-javascript-api is required in CI: {e}")
            print(f"SKIPPED: ews-javascript-api not available: {e}", file=sys.stderr)
            sys.exit(SKIP)
        if took:
            print(f"npm ci of ews-javascript-api: {took:.1f}s", file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        if cls.client_is_temp:
            shutil.rmtree(cls.client_dir, ignore_errors=True)

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
        p = subprocess.run([self.node, os.path.join(self.client_dir, SCRIPT), json.dumps(args)],
                           capture_output=True, text=True, timeout=NODE_TIMEOUT, env=env)
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
