"""Each client model's step order, and what each registry value does to it, read from walks
through the running lab: the transcript `run --format json` prints, and the requests the lab's
own journal recorded, in the order they came. The orders below are written from the sources
(MS-OXDISCO 3.1.5, KB 3211279, KB 2212902 and the protocol notes §1.1-§1.2), not taken from the
model table: a model that walks otherwise fails here."""
import json
import os

from labharness import CliTestCase, SOURCE, main

SCENARIO = os.path.join(SOURCE, "tests/data/integration/every-step.yaml")
LOCAL_XML = os.path.join(SOURCE, "tests/data/client/local-not-autodiscover.xml")
SETTINGS_XML = os.path.join(SOURCE, "tests/data/client/local-settings.xml")
CACHED = "https://cached.contoso.com/autodiscover/autodiscover.xml"

# A machine on which every step applies: domain-joined (SCP), a cached URL, a local XML file,
# the mailbox in Exchange Online (Direct Connect); not restarting.
EVERYTHING = ["domain_joined=1", "mailbox_in_exchange_online=1",
              f"last_known_good_url={CACHED}", f"local_xml={LOCAL_XML}"]

ORDER = {
    # MS-OXDISCO 3.1.5: SCP, the two URLs from the domain, SRV, then the HTTP probe
    "mso-xdscli": ["scp", "https-root", "https-autodiscover", "srv", "http-redirect"],
    # Outlook 2007: the HTTP probe before SRV, local XML last [S29]
    "outlook-2007": ["scp", "https-root", "https-autodiscover", "http-redirect", "srv",
                     "local-xml"],
    # Outlook 2010: the cached URL first (14.0.7140.5001, KB 2212902)
    "outlook-2010": ["last-known-good", "scp", "https-root", "https-autodiscover",
                     "http-redirect", "srv", "local-xml"],
    # Outlook 2013: SCP and the DNS steps start together; walked one at a time the root
    # attempt goes with SCP (protocol §1.2, the approximation of [S29])
    "outlook-2013": ["last-known-good", "https-root", "scp", "https-autodiscover",
                     "http-redirect", "srv", "local-xml"],
    # KB 3211279 without the Office 365 steps [S44]
    "outlook-2016-msi": ["last-known-good", "scp", "https-root", "https-autodiscover",
                         "local-xml", "http-redirect", "srv"],
    # KB 3211279 steps 3-11
    "outlook-2016-c2r": ["last-known-good", "o365-direct", "scp", "https-root",
                         "https-autodiscover", "local-xml", "http-redirect", "srv",
                         "o365-fallback"],
    # KB 3211279 steps 1-11 (not restarting: step 1 is skipped)
    "outlook-m365": ["last-known-good", "o365-direct", "scp", "https-root",
                     "https-autodiscover", "local-xml", "http-redirect", "srv",
                     "o365-fallback"],
}

# Where each step's request lands in the lab: (Host header, method); local-xml asks nobody.
REQUEST = {
    "last-known-good": ("cached.contoso.com", "POST"),
    "o365-direct": ("outlook.office365.com", "GET"),
    "o365-fallback": ("outlook.office365.com", "GET"),
    "scp": ("scp.contoso.com", "POST"),
    "https-root": ("contoso.com", "POST"),
    "https-autodiscover": ("autodiscover.contoso.com", "POST"),
    "http-redirect": ("autodiscover.contoso.com", "GET"),
    "srv": ("srv.contoso.com", "POST"),  # the SRV answer's target
}

# The registry values (KB 2212902) and the steps each one takes away.
EXCLUDES = {
    "ExcludeScpLookup": ["scp"],
    "ExcludeHttpsRootDomain": ["https-root"],
    "ExcludeHttpsAutoDiscoverDomain": ["https-autodiscover"],
    "ExcludeHttpRedirect": ["http-redirect"],
    "ExcludeSrvRecord": ["srv"],
    "ExcludeLastKnownGoodUrl": ["last-known-good"],
    "ExcludeExplicitO365Endpoint": ["o365-direct", "o365-fallback"],
}


class ModelsTest(CliTestCase):
    tmp_prefix = "autodisco-models-"

    def walk(self, model, *settings):
        """One walk of `model`: its transcript and the lab's requests, (host, method) each."""
        journal = os.path.join(self.tmp, "journal.jsonl")
        if os.path.exists(journal):
            os.remove(journal)
        args = ["run", SCENARIO, "--client", model, "--format", "json", "--journal", journal]
        for s in settings:
            args += ["--set", s]
        r = self.ad(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        transcript = json.loads(r.stdout)["clients"][0]["transcript"]
        requests = []
        with open(journal) as f:
            for line in f:
                e = json.loads(line)
                if e["ev"] == "http.request":
                    requests.append((e["host"].split(":")[0], e["method"]))
        return transcript, requests

    @staticmethod
    def tried(t):
        return [s["step"] for s in t["steps"] if s["result"] != "skipped" and
                s["step"] != "redirect"]

    def assert_order(self, model, want, settings):
        t, requests = self.walk(model, *settings)
        self.assertEqual(self.tried(t), want, f"{model} {settings}")
        # the lab saw the same order: one request per step that asks the network
        self.assertEqual(requests, [REQUEST[s] for s in want if s in REQUEST],
                         f"{model} {settings}")
        self.assertEqual(sorted(t["settings"]), sorted(settings))  # the table's order
        return t

    def test_each_model_walks_its_order(self):
        for model, want in ORDER.items():
            with self.subTest(model=model):
                self.assert_order(model, want, EVERYTHING)

    def test_each_registry_value_takes_its_step_away(self):
        for model, order in ORDER.items():
            for value, steps in EXCLUDES.items():
                if not set(steps) & set(order):
                    continue  # the model has no such step: nothing to take away
                with self.subTest(model=model, value=value):
                    want = [s for s in order if s not in steps]
                    if model == "outlook-2013" and value == "ExcludeScpLookup":
                        want = ORDER["outlook-2010"][:]  # no SCP: no parallel start
                        want.remove("scp")
                    t = self.assert_order(model, want, EVERYTHING + [f"{value}=1"])
                    skipped = [s for s in t["steps"] if s["step"] in steps]
                    self.assertTrue(skipped)
                    for s in skipped:
                        self.assertEqual(s["result"], "skipped")
                        self.assertIn(value, s["detail"])

    def test_prefer_local_xml_moves_it_first(self):
        for model, order in ORDER.items():
            if "local-xml" not in order:
                continue
            with self.subTest(model=model):
                want = ["local-xml"] + [s for s in order if s != "local-xml"]
                self.assert_order(model, want, EVERYTHING + ["PreferLocalXML=1"])

    def test_not_applicable_steps_are_skipped_on_a_fresh_machine(self):
        # nothing cached, not domain-joined, no local XML file, no Office 365 mailbox
        fresh = {"mso-xdscli": ["https-root", "https-autodiscover", "srv", "http-redirect"]}
        for model, order in ORDER.items():
            with self.subTest(model=model):
                want = fresh.get(model) or [s for s in order if s in (
                    "https-root", "https-autodiscover", "http-redirect", "srv")]
                self.assert_order(model, want, [])

    def test_restart_cache_comes_first_and_alone(self):
        # KB 3211279 step 1: while restarting, the cached answer and nothing else
        t, requests = self.walk("outlook-m365", *EVERYTHING, f"restart_cache={SETTINGS_XML}",
                                "PreferLocalXML=1")
        self.assertEqual(self.tried(t), ["restart-cache"])
        self.assertTrue(t["success"])
        self.assertEqual(requests, [])
        # unreadable: the whole run fails, nothing later is tried
        t, requests = self.walk("outlook-m365", *EVERYTHING,
                                f"restart_cache={SETTINGS_XML}.missing")
        self.assertEqual(self.tried(t), ["restart-cache"])
        self.assertFalse(t["success"])
        self.assertEqual(requests, [])
        # the models without the restart case do not read it
        t, _ = self.walk("outlook-2016-c2r", *EVERYTHING, f"restart_cache={SETTINGS_XML}")
        self.assertEqual(self.tried(t), ORDER["outlook-2016-c2r"])

    def test_scp_answer_as_a_machine_fact(self):
        # the client's own SCP answer stands for the scenario's directory
        t, requests = self.walk("outlook-2010", "domain_joined=1",
                                "scp_urls=https://cached.contoso.com/autodiscover/x.xml,"
                                "https://scp.contoso.com/autodiscover/autodiscover.xml")
        scp = [s["url"] for s in t["steps"] if s["step"] == "scp"]
        self.assertEqual(scp, ["https://cached.contoso.com/autodiscover/x.xml",
                               "https://scp.contoso.com/autodiscover/autodiscover.xml"])
        self.assertEqual(requests[:2], [("cached.contoso.com", "POST"),
                                        ("scp.contoso.com", "POST")])


if __name__ == "__main__":
    main()
