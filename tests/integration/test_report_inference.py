"""A journal read back as the walk that wrote it. `run --journal` records both sides: the lab's
events and the model's own step.*, prompt and result events. Read back, the model's events give
its transcript again; and with them left out, the lab's events alone — all a real client leaves —
must give the same steps, prompts and outcome: the inference `report` and `check --journal`
rest on is held to every catalogue scenario and client model here."""
import json
import os
import shutil
import tempfile
import unittest

from labharness import AD_BIN, SOURCE, run, main

CLIENT_EVENTS = ("step.start", "step.end", "step.auth", "prompt", "result")
# What no server sees: the local XML file and the restart cache are read from the client's own
# disk.
# The overlay template forwards to a placeholder upstream where nothing answers: every lookup is
# SERVFAIL, and two SERVFAILs in a row for one name (https-autodiscover, then http-redirect) read
# as one step whose resolver asked twice, as a real stub resolver does after a failure.
# A status route whose bytes are a POX answer (the UTF-16 settings): the journal holds no
# response body, so the lab's events say "HTTP 200 from a status route", not "settings".
# The restart cache is read from the client's own disk: no server sees it.
INVISIBLE = {"client-settings/prefer-local-xml.yaml", "overlay/remove-root-record.yaml",
             "language/utf16-answer.yaml", "client-settings/restart-cache-hit.yaml",
             "client-settings/restart-cache-unreadable.yaml"}


def scenarios():
    root = os.path.join(SOURCE, "scenarios")
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if name.endswith(".yaml") and not name.startswith("_"):
                path = os.path.join(folder, name)
                yield os.path.relpath(path, root), path


def per_client(journal):
    """The lab.start line, and per client the lab's events of its walk (run walks one client
    after another: each walk's events lie between its first step.start and the next's)."""
    head, walks, current = [], {}, None
    with open(journal) as f:
        for line in f:
            e = json.loads(line)
            if e["ev"] == "lab.start":
                head = [line]
                continue
            if e["ev"] == "step.start" and e["client"] != current:
                current = e["client"]
                walks[current] = []
            if current is not None and e["ev"] not in CLIENT_EVENTS:
                walks[current].append(line)
    return head, walks


def prompts(t):
    # a redirect prompt's reason is the URL offered: its host says where it goes
    return [(p["kind"], p["host"], p["reason"] if p["kind"] != "redirect" else None)
            for p in t["prompts"]]


def tried(t):
    return [s["step"] for s in t["steps"] if s["result"] != "skipped"]


class InferenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="autodisco-inference-")
        cls.ca = os.path.join(cls.tmp, "ca")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_journal(self, path):
        journal = os.path.join(self.tmp, "run.jsonl")
        if os.path.exists(journal):
            os.remove(journal)
        r = run([AD_BIN, "--ca-dir", self.ca, "run", path, "--format", "json", "--journal",
                 journal])
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return json.loads(r.stdout), journal

    def report(self, journal, *extra):
        r = run([AD_BIN, "report", journal, "--format", "json", *extra])
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_model_events_give_the_transcript_back(self):
        doc, journal = self.run_journal(
            os.path.join(SOURCE, "scenarios/founding/expired-root-cert.yaml"))
        back = self.report(journal)
        self.assertEqual([c["client"] for c in back["clients"]],
                         [c["client"] for c in doc["clients"]])
        for ran, read in zip(doc["clients"], back["clients"]):
            a, b = ran["transcript"], read["transcript"]
            self.assertFalse(read["inferred"])
            self.assertEqual(read["clock"], "lab")
            for key in ("step", "url", "host", "result", "dns_answer", "cert_failures",
                        "http_status", "redirect_to", "timed_out"):
                self.assertEqual([s[key] for s in a["steps"]], [s[key] for s in b["steps"]],
                                 key)
            self.assertEqual(a["prompts"], b["prompts"])  # text and all
            for key in ("success", "final_url", "ews_url", "total_ms"):
                self.assertEqual(a[key], b[key], key)

    def test_lab_events_alone_give_the_same_walk(self):
        checked = 0
        for rel, path in scenarios():
            if rel in INVISIBLE:
                continue
            doc, journal = self.run_journal(path)
            head, walks = per_client(journal)
            for ran in doc["clients"]:
                client, model = ran["client"], ran["transcript"]
                with self.subTest(scenario=rel, client=client):
                    server = os.path.join(self.tmp, "server.jsonl")
                    with open(server, "w") as f:
                        f.writelines(head + walks[client])
                    back = self.report(server, "--client", client, "--scenario", path)
                    self.assertTrue(back["clients"][0]["inferred"])
                    got = back["clients"][0]["transcript"]
                    self.assertEqual(prompts(got), prompts(model))
                    self.assertEqual(tried(got), tried(model))
                    self.assertEqual(got["success"], model["success"])
                    self.assertEqual((got["final_url"] or "").lower(),
                                     (model["final_url"] or "").lower())
                    self.assertEqual(got["ews_url"], model["ews_url"])
                    # and the scenario's expectations hold or fail alike
                    c = run([AD_BIN, "check", path, "--journal", server, "--client", client])
                    self.assertEqual(c.returncode, 0 if ran["expectations"]["hold"] else 1,
                                     c.stdout + c.stderr)
                    checked += 1
        self.assertGreater(checked, 60)


if __name__ == "__main__":
    main()
