"""`autodisco probe` against a `serve` instance playing the real world: its DNS and its hosts
on their real ports 443 and 80, no port map. On the founding scenarios and catalogue scenarios
of different kinds (SRV, redirects, wrong-name and untrusted certificates, a refused port, a
401) probe takes the same steps, with the same results and prompts, as `run` on the same
scenario. Also: the system trust store, credentials sent only when given and never journaled,
the progress line only on a terminal, the exit status.

Needs root: serve binds ports 443 and 80 (on its own loopback addresses) for probe to reach
without a port map. Unprivileged, the whole file is skipped (exit 77)."""
import json
import os
import pty
import select
import subprocess
import sys
import tempfile

from labharness import AD_BIN, SKIP, CliTestCase, Lab, main, run, scenario

if os.geteuid() != 0:
    print("skipped: probe tests need root (serve binds ports 443 and 80 for probe to reach "
          "without a port map)")
    sys.exit(SKIP)

# Loopback addresses of our own, so another test's lab on 127.77.0.x:443 does not collide.
ADDRESS_BASE = f"127.79.{os.getpid() % 200 + 20}.1"

FOUNDING = [
    "scenarios/founding/expired-root-cert.yaml",
    "scenarios/founding/fix-remove-root-record.yaml",
    "scenarios/founding/fix-renew-root-cert.yaml",
]
CATALOGUE = [
    "scenarios/dns/srv-hoster.yaml",  # SRV, and its consent prompt
    "scenarios/redirects/root-302-to-autodiscover.yaml",
    "scenarios/redirects/http-redirect-302.yaml",
    "scenarios/redirects/redirect-url-loop.yaml",
    "scenarios/certificates/root-name-mismatch.yaml",
    "scenarios/certificates/root-self-signed.yaml",  # untrusted
    "scenarios/certificates/autodiscover-expired.yaml",
    "scenarios/errors/root-connection-refused.yaml",
    "scenarios/errors/xml-error-500.yaml",
]
CLIENTS = ["outlook-2016-msi", "mso-xdscli"]


def shape(transcript):
    """What must agree between run and probe: steps (name, host, result, HTTP status,
    certificate failures) and prompts (kind, host, reason, accepted) — not addresses or
    times."""
    steps = [(s["step"], s["host"], s["result"], s["http_status"], s["cert_failures"],
              s["redirect_to"]) for s in transcript["steps"]]
    prompts = [(p["kind"], p["host"], p["reason"], p["accepted"], p["step"])
               for p in transcript["prompts"]]
    return {"steps": steps, "prompts": prompts, "success": transcript["success"],
            "final_url": transcript["final_url"], "ews_url": transcript["ews_url"]}


class RealWorld(Lab):
    """serve on the real ports, its DNS on a free port of 127.0.0.1."""

    def __init__(self, path, ca_dir):
        super().__init__(scenario(path), ca_dir=ca_dir,
                         extra=("--https-port", "443", "--http-port", "80",
                                "--address-base", ADDRESS_BASE))
        self.dns = self.info["dns"]


class ProbeTest(CliTestCase):
    tmp_prefix = "autodisco-probe-"

    def probe(self, lab, target, *extra, env=None):
        return self.ad("probe", target, "--dns", lab.dns, *extra, env=env)

    def probe_json(self, lab, target, *extra, env=None):
        r = self.probe(lab, target, "--format", "json", *extra, env=env)
        self.assertIn(r.returncode, (0, 1), r.stdout + r.stderr)
        return r, json.loads(r.stdout)

    def run_json(self, path, *extra):
        r = self.ad("run", scenario(path), "--format", "json", *extra)
        self.assertIn(r.returncode, (0, 1), r.stdout + r.stderr)
        return json.loads(r.stdout)

    def agrees_with_run(self, path, *extra_probe):
        """probe against serve(path) gives every client's steps and prompts as run does."""
        ran = self.run_json(path)
        email = ran["clients"][0]["transcript"]["email"]
        lab = RealWorld(path, self.ca)
        try:
            r, probed = self.probe_json(lab, email, "--trust", lab.ca_pem,
                                        *[a for c in CLIENTS for a in ("--client", c)],
                                        *extra_probe)
        finally:
            self.assertEqual(lab.stop(), 0)
            lab.close()
        self.assertEqual([c["client"] for c in probed["clients"]], CLIENTS)
        for c in probed["clients"]:
            want = [x for x in ran["clients"] if x["client"] == c["client"]][0]["transcript"]
            with self.subTest(scenario=path, client=c["client"]):
                self.assertEqual(shape(c["transcript"]), shape(want))
                self.assertEqual(c["clean"], want["success"] and not want["prompts"])
        clean = all(c["clean"] for c in probed["clients"])
        self.assertEqual(r.returncode, 0 if clean else 1)
        self.assertEqual(probed["clean"], clean)
        return probed

    def test_founding_scenarios_agree_with_run(self):
        for path in FOUNDING:
            self.agrees_with_run(path)

    def test_catalogue_scenarios_agree_with_run(self):
        for path in CATALOGUE:
            self.agrees_with_run(path)

    def test_settings_and_own_models(self):
        """--set gives every walk a setting and --client-file walks a model of one's own,
        against the real network as against the lab."""
        own = os.path.join(self.tmp, "no-root.yaml")
        with open(own, "w") as f:
            f.write("name: no-root\nbase: outlook-2016-msi\nsettings:\n"
                    "  ExcludeHttpsRootDomain: 1\n")
        lab = RealWorld("scenarios/founding/expired-root-cert.yaml", self.ca)
        try:
            r, doc = self.probe_json(lab, "user@contoso.com", "--trust", lab.ca_pem,
                                     "--set", "ExcludeHttpsRootDomain=1")
            self.assertEqual(r.returncode, 0, r.stderr)  # no prompt: the root is not tried
            for c in doc["clients"]:
                self.assertEqual(c["transcript"]["settings"], ["ExcludeHttpsRootDomain=1"])
                self.assertTrue(c["clean"])
            # the own model alone, when no --client is named
            r, doc = self.probe_json(lab, "user@contoso.com", "--trust", lab.ca_pem,
                                     "--client-file", own)
            self.assertEqual([c["client"] for c in doc["clients"]], ["no-root"])
            self.assertEqual(r.returncode, 0, r.stderr)
            # beside a built-in one
            r, doc = self.probe_json(lab, "user@contoso.com", "--trust", lab.ca_pem,
                                     "--client-file", own, "--client", "outlook-2016-msi",
                                     "--client", "no-root")
            self.assertEqual(r.returncode, 1)  # outlook-2016-msi shows the prompt
            self.assertEqual([c["clean"] for c in doc["clients"]], [False, True])
        finally:
            lab.stop()
            lab.close()

    def test_exit_status_and_text(self):
        lab = RealWorld("scenarios/founding/fix-renew-root-cert.yaml", self.ca)
        try:
            r = self.probe(lab, "contoso.com", "--trust", lab.ca_pem)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("probe autodisco-probe@contoso.com (a placeholder address)", r.stdout)
            self.assertIn("verdict: every client finds settings without a prompt", r.stdout)
            self.assertIn("(real time)", r.stdout)
            self.assertIn("probe sends no credentials", r.stderr)
            r = self.probe(lab, "contoso.com", "--trust", lab.ca_pem, "--quiet")
            self.assertEqual(r.stderr, "")
        finally:
            lab.stop()
            lab.close()
        lab = RealWorld("scenarios/founding/expired-root-cert.yaml", self.ca)
        try:
            r = self.probe(lab, "user@contoso.com", "--trust", lab.ca_pem)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("PROMPT certificate: contoso.com — expired", r.stdout)
            self.assertIn("0 of 2 clients find settings without a prompt", r.stdout)
            # the same walk as one page: a diagram per client, the prompt standing out
            r = self.probe(lab, "user@contoso.com", "--trust", lab.ca_pem, "--format", "html")
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertTrue(r.stdout.startswith("<!DOCTYPE html>"), r.stdout[:80])
            self.assertEqual(r.stdout.count('data-step="https-root"'), 2, r.stdout)
            self.assertIn('class="prompt" data-kind="certificate" data-host="contoso.com"',
                          r.stdout)
            self.assertNotIn("http://", r.stdout.replace("http://www.w3.org/2000/svg", ""))
        finally:
            lab.stop()
            lab.close()

    def test_system_trust_store_does_not_know_the_lab_ca(self):
        # The system store (SSL_CERT_FILE unset) lacks the lab CA: the certificates that run
        # trusts are "untrusted" here, each with its Security Alert.
        env = {k: v for k, v in os.environ.items() if k != "SSL_CERT_FILE"}
        lab = RealWorld("scenarios/founding/fix-renew-root-cert.yaml", self.ca)
        try:
            for trust in ((), ("--trust", "system")):
                r, doc = self.probe_json(lab, "user@contoso.com", "--client", "mso-xdscli",
                                         *trust, env=env)
                self.assertEqual(r.returncode, 1)
                self.assertTrue(doc["probe"]["trust"].startswith("/"), doc["probe"])
                t = doc["clients"][0]["transcript"]
                self.assertTrue(t["prompts"], t)
                for p in t["prompts"]:
                    self.assertEqual((p["kind"], p["reason"]), ("certificate", "untrusted"))
                self.assertEqual(t["prompts"][0]["host"], "contoso.com")
                self.assertTrue(t["success"])
        finally:
            lab.stop()
            lab.close()

    def test_credentials_only_when_given_and_never_journaled(self):
        path = "scenarios/errors/root-401-basic.yaml"
        secret = "Correct horse 9!"
        pw = os.path.join(self.tmp, "password")
        with open(pw, "w") as f:
            f.write(secret + "\n")
        os.chmod(pw, 0o600)
        journal = os.path.join(self.tmp, "probe-journal.jsonl")
        lab = RealWorld(path, self.ca)
        try:
            # without credentials: the prompt Outlook would show, cancelled; nothing sent
            r, doc = self.probe_json(lab, "alice@contoso.com", "--trust", lab.ca_pem,
                                     "--client", "outlook-2016-msi")
            t = doc["clients"][0]["transcript"]
            self.assertEqual([(p["kind"], p["accepted"]) for p in t["prompts"]],
                             [("credentials", False)])
            self.assertFalse(any(s["credentials_sent"] for s in t["steps"]))
            self.assertIn("probe sends no credentials", r.stderr)
            self.assertEqual([e for e in lab.events("http.request") if e.get("authorization")],
                             [])
            # with them: sent once to the 401, refused there (the scenario accepts none)
            r, doc = self.probe_json(lab, "alice@contoso.com", "--trust", lab.ca_pem,
                                     "--client", "outlook-2016-msi", "--user", "alice@contoso.com",
                                     "--password-file", pw, "--journal", journal)
            self.assertIn("sends the credentials of alice@contoso.com", r.stderr)
            t = doc["clients"][0]["transcript"]
            self.assertEqual([(p["kind"], p["accepted"]) for p in t["prompts"]],
                             [("credentials", True)])
            root = [s for s in t["steps"] if s["step"] == "https-root"][0]
            self.assertTrue(root["credentials_sent"])
            self.assertIn("refused them", root["detail"])
            self.assertTrue(t["success"])  # from autodiscover.contoso.com
            sent = [e for e in lab.events("http.request") if e.get("authorization")]
            self.assertEqual(len(sent), 1, sent)
            self.assertEqual(sent[0]["authorization"]["scheme"], "Basic")
        finally:
            lab.stop()
            lab.close()
        with open(journal) as f:
            text = f.read()
        events = [json.loads(line) for line in text.splitlines()]
        self.assertEqual(events[0]["ev"], "probe.start")
        self.assertEqual(events[0]["user"], "alice@contoso.com")
        auth = [e for e in events if e["ev"] == "step.auth"]
        self.assertEqual([(e["answered"], e["credentials"]) for e in auth], [("Basic", "given")])
        import base64
        encoded = base64.b64encode(f"alice@contoso.com:{secret}".encode()).decode()
        for leak in (secret, encoded, encoded[:16]):
            self.assertNotIn(leak, text)
            self.assertNotIn(leak, r.stdout)
            self.assertNotIn(leak, r.stderr)
        with open(lab.journal if os.path.exists(lab.journal) else os.devnull) as f:
            self.assertNotIn(secret, f.read())

    def test_progress_only_on_a_terminal(self):
        lab = RealWorld("scenarios/errors/root-connection-refused.yaml", self.ca)
        try:
            piped = self.probe(lab, "alice@contoso.com", "--trust", lab.ca_pem)
            self.assertNotIn("\r", piped.stderr)
            self.assertNotIn("step 1/", piped.stderr)
            master, slave = pty.openpty()
            proc = subprocess.Popen([AD_BIN, "--ca-dir", self.ca, "probe", "alice@contoso.com",
                                     "--dns", lab.dns, "--trust", lab.ca_pem],
                                    stdout=subprocess.PIPE, stderr=slave)
            os.close(slave)
            seen = b""
            while True:
                ready, _, _ = select.select([master], [], [], 60)
                if not ready:
                    break
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the last writer closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            out, _ = proc.communicate(timeout=60)
            os.close(master)
            self.assertEqual(proc.returncode, 0, seen)
            text = seen.decode(errors="replace")
            self.assertIn("\r\x1b[K", text)
            self.assertRegex(text, r"outlook-2016-msi \(1/2\) step \d+/\d+ https-root contoso\.com")
            self.assertTrue(text.endswith("\r\x1b[K"), repr(text[-80:]))  # cleared at the end
            self.assertNotIn("\x1b", out.decode())  # stdout is a pipe: the report is plain
            quiet = subprocess.run([AD_BIN, "--ca-dir", self.ca, "--quiet", "probe",
                                    "alice@contoso.com", "--dns", lab.dns, "--trust", lab.ca_pem],
                                   capture_output=True)
            self.assertEqual(quiet.stderr, b"")
        finally:
            lab.stop()
            lab.close()


if __name__ == "__main__":
    main()
