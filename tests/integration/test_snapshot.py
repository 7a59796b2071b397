"""`autodisco snapshot` of a lab standing in for the internet: scenario → `serve` (on the real
ports 443 and 80, so that snapshot reaches it as it would a real domain, with no port map) →
`snapshot --dns` → `run`, which must agree with `run` of the original scenario for every model
(the same steps, results and prompts, the same outcome and URLs; addresses and times aside).
Binding 443 and 80 needs root: unprivileged, the test says so and is skipped (exit 77).

AD_SNAPSHOT_ALL=1 runs the round trip over every catalogue scenario instead of the chosen ones,
and prints which agree (the list in docs/real-domain.md comes from it)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import yaml

from labharness import AD_BIN, SKIP, read_line, run, scenario, SOURCE

# Each one a different kind of real-world situation (docs/catalogue.md).
ROUND_TRIP = [
    "scenarios/founding/expired-root-cert.yaml",             # L-02 expired root certificate
    "scenarios/founding/fix-remove-root-record.yaml",        # L-03 no root A record
    "scenarios/founding/fix-renew-root-cert.yaml",           # L-04 renewed certificate
    "scenarios/certificates/root-name-mismatch.yaml",        # L-08 wrong name
    "scenarios/certificates/root-self-signed.yaml",          # L-09 self-signed
    "scenarios/certificates/root-not-yet-valid.yaml",        # not yet valid
    "scenarios/certificates/root-incomplete-chain.yaml",     # untrusted (missing intermediate)
    "scenarios/certificates/autodiscover-expired.yaml",      # L-17 expired autodiscover host
    "scenarios/errors/root-connection-refused.yaml",         # L-10 refused port
    "scenarios/errors/root-blackhole.yaml",                  # L-11 dropped SYNs
    "scenarios/errors/root-html-200.yaml",                   # L-12 HTML page
    "scenarios/errors/root-401-basic.yaml",                  # L-13 401 Basic
    "scenarios/errors/xml-error-500.yaml",                   # L-28 POX Error
    "scenarios/errors/tls-protocol-mismatch.yaml",           # L-38 TLS 1.0 only
    "scenarios/errors/root-dns-timeout.yaml",                # DNS timeout
    "scenarios/errors/nothing-published.yaml",               # L-18 nothing at all
    "scenarios/redirects/root-302-to-autodiscover.yaml",     # L-14 302 on the POST
    "scenarios/redirects/http-redirect-302.yaml",            # L-19 HTTP GET probe → 302
    "scenarios/redirects/http-redirect-target-expired.yaml", # L-23 redirect to expired host
    "scenarios/redirects/redirect-url-loop.yaml",            # L-33 redirectUrl loop
    "scenarios/redirects/redirect-url-limit.yaml",           # 11 redirectUrl hops
    "scenarios/redirects/redirect-url-http.yaml",            # L-34 redirectUrl to http://
    "scenarios/redirects/http-redirect-301.yaml",            # L-21 301 on the GET probe
    "scenarios/dns/srv-hoster.yaml",                         # L-24 SRV
    "scenarios/dns/srv-port-8443.yaml",                      # L-25 SRV on another port
    "scenarios/dns/srv-target-name-mismatch.yaml",           # L-27 SRV target, wrong name
    "scenarios/dns/wildcard-dns-shared-hosting.yaml",        # L-16 wildcard DNS
    "scenarios/dns/zone-file-hoster.yaml",                   # SRV from a zone file
    "scenarios/office365/baseline-o365-cname.yaml",          # L-01 CNAME to Microsoft
    "scenarios/office365/redirectaddr-hybrid.yaml",          # L-32 redirectAddr
]

MODELS = ["mso-xdscli", "outlook-2007", "outlook-2010", "outlook-2013", "outlook-2016-msi",
          "outlook-2016-c2r"]
ADDRESS_BASE = "127.93.0.1"  # apart from the other tests' 127.77.0.x


def load_chain(path):
    """The scenario's top-level mapping with its extends: chain's `clients` and `email`."""
    with open(path) as f:
        doc = yaml.safe_load(f)
    base = doc.get("extends")
    if base is not None:
        parent = load_chain(os.path.join(os.path.dirname(path), base))
        for key in ("clients", "email", "domain"):
            doc.setdefault(key, parent.get(key))
    return doc


def configured(doc):
    """Models the scenario walks with settings of their own: a snapshot cannot know those."""
    out = set()
    for c in doc.get("clients") or []:
        if isinstance(c, dict) and len(c) > 1:
            out.add(c["model"])
    return out


def summary(transcript):
    """What must agree: steps tried and how each ended, prompts, the outcome."""
    steps = [(s["step"], s["result"]) for s in transcript["steps"] if s["result"] != "skipped"]
    prompts = [(p["kind"], p["host"], p.get("reason"), p["accepted"])
               for p in transcript["prompts"]]
    return {"steps": steps, "prompts": prompts, "success": transcript["success"],
            "final_url": transcript.get("final_url"), "ews_url": transcript.get("ews_url")}


class SnapshotRoundTrip(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="autodisco-snapshot-")
        cls.ca = os.path.join(cls.tmp, "ca")
        r = run([AD_BIN, "--ca-dir", cls.ca, "ca", "init"])
        assert r.returncode == 0, r.stderr
        cls.ca_pem = os.path.join(cls.ca, "ca.pem")

    def ad(self, *args):
        return run([AD_BIN, "--ca-dir", self.ca, *args])

    def serve(self, path, journal=None):
        """serve on 443 and 80: the lab stands in for the internet."""
        extra = ["--journal", journal] if journal is not None else []
        proc = subprocess.Popen(
            [AD_BIN, "--ca-dir", self.ca, "serve", path, "--dns", "127.0.0.1:0",
             "--address-base", ADDRESS_BASE, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = read_line(proc.stdout, 60)
        if line is None or not line.startswith("ready "):
            proc.kill()
            err = proc.stderr.read().decode()
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
            raise AssertionError(f"serve {path}: {line!r} {err}")
        info = json.loads(line[len("ready "):])
        return proc, int(info["dns"].rsplit(":", 1)[1])

    def stop(self, proc):
        proc.terminate()
        self.assertEqual(proc.wait(timeout=20), 0)
        proc.stdout.close()
        proc.stderr.close()

    def walk(self, path, models):
        r = self.ad("run", path, "--format", "json", *[a for m in models for a in ("--client", m)])
        self.assertIn(r.returncode, (0, 1), r.stderr)
        doc = json.loads(r.stdout)
        return {c["client"]: summary(c["transcript"]) for c in doc["clients"]}

    def take(self, path, journal=None):
        """Serve `path`, snapshot it; the snapshot's path, its text and the scenario."""
        doc = load_chain(path)
        domain = doc["domain"]
        email = doc.get("email") or f"user@{domain}"
        out = os.path.join(self.tmp, os.path.basename(path))
        proc, port = self.serve(path, journal)
        try:
            r = self.ad("snapshot", domain, "--email", email, "--dns", f"127.0.0.1:{port}",
                        "--trust", self.ca_pem, "--timeout", "1500", "-o", out)
        finally:
            self.stop(proc)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"snapshot: A {domain}\n", r.stderr)  # progress, as it goes
        with open(out) as f:
            text = f.read()
        return out, text, doc

    def snapshot(self, rel):
        """The original's transcripts, the snapshot's, and the snapshot file's text."""
        path = scenario(rel)
        out, text, doc = self.take(path)
        models = [m for m in MODELS if m not in configured(doc)]
        return self.walk(path, models), self.walk(out, models), text

    def test_hostile_answers_kept(self):
        """Quotes, hashes, colons and line breaks in what servers say: the file loads, keeps
        each value, and walks the same."""
        path = os.path.join(SOURCE, "tests", "data", "integration", "snapshot-hostile.yaml")
        out, text, _ = self.take(path)
        r = self.ad("validate", out)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(path) as f:
            want = yaml.safe_load(f)
        got = yaml.safe_load(text)
        self.assertEqual(got["email"], want["email"])

        def route(host, port, path_):
            for r in got["hosts"][host][port]["routes"]:
                if r["path"] == path_:
                    return r
            raise AssertionError(f"no {port} route {path_} on {host}:\n{text}")

        www, exchange = want["hosts"]["www"], want["hosts"]["exchange"]
        pox = "/autodiscover/autodiscover.xml"
        self.assertEqual(route("contoso-com", "https", pox)["autodiscover"],
                         www["https"]["routes"][0]["autodiscover"])
        page = route("contoso-com", "http", pox)
        self.assertEqual(page["body"], www["http"]["routes"][0]["body"])
        self.assertEqual(page["content_type"], www["http"]["routes"][0]["content_type"])
        self.assertEqual(route("autodiscover-contoso-com", "https", pox)["location"],
                         exchange["https"]["routes"][0]["location"])
        self.assertEqual(route("autodiscover-contoso-com", "https", "/next")["auth"],
                         {"challenges": ["Basic realm=\"con: toso #1\""], "accept": False})
        before = self.walk(path, ["outlook-2016-msi"])
        after = self.walk(out, ["outlook-2016-msi"])
        self.assertEqual(after, before, text)

    def test_no_credential_is_sent(self):
        """A 401 is recorded as its challenges; what lies behind it is not asked, so a walk
        that answers it silently (Negotiate/NTLM) no longer gets the settings: the one known
        difference, said in the file."""
        path = scenario("scenarios/errors/autodiscover-401-ntlm.yaml")
        journal = os.path.join(self.tmp, "401.jsonl")
        out, text, _ = self.take(path, journal)
        with open(journal) as f:
            requests = [e for e in map(json.loads, f) if e["ev"] == "http.request"]
        self.assertTrue(any(e["method"] == "POST" for e in requests), requests)
        for e in requests:
            self.assertIsNone(e.get("authorization"), e)
            if e["method"] == "POST":
                self.assertEqual(e["email"], "alice@contoso.com")  # the POX request names it
        got = yaml.safe_load(text)
        route = got["hosts"]["autodiscover-contoso-com"]["https"]["routes"][0]
        self.assertEqual(route["auth"], {"challenges": ["Negotiate", "NTLM"], "accept": False})
        self.assertIn("snapshot never sends a credential", text)
        after = self.walk(out, ["outlook-2016-msi"])["outlook-2016-msi"]
        self.assertFalse(after["success"])
        self.assertIn(("https-autodiscover", "not-autodiscover"), after["steps"])

    def check_round_trip(self, rel):
        before, after, text = self.snapshot(rel)
        for model, want in before.items():
            self.assertEqual(after[model], want,
                             f"{rel}: {model} walks the snapshot differently\n{text}")


def add_round_trips(names):
    for rel in names:
        name = "test_" + os.path.splitext(rel.split("scenarios/", 1)[1])[0].replace("/", "_")
        name = name.replace("-", "_")
        setattr(SnapshotRoundTrip, name,
                lambda self, rel=rel: self.check_round_trip(rel))


if os.environ.get("AD_SNAPSHOT_ALL"):
    every = []
    for root, _, files in os.walk(os.path.join(SOURCE, "scenarios")):
        for f in sorted(files):
            if f.endswith(".yaml") and not f.startswith("_"):
                every.append(os.path.relpath(os.path.join(root, f), SOURCE))
    add_round_trips(sorted(every))
else:
    add_round_trips(ROUND_TRIP)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("test_snapshot: skipped: serving on ports 443 and 80 needs root", file=sys.stderr)
        sys.exit(SKIP)
    unittest.main(verbosity=2)
