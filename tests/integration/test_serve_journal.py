"""The journal's promises, from outside (docs/journal.md, "Writing"): serve writes its lines
together, at most 10 ms after they were made, and still the file holds whole lines only, is
complete after SIGTERM and SIGINT, loses nothing older than those 10 ms even to SIGKILL, and
works on stdout."""
import json
import signal
import subprocess
import threading
import time
import unittest

from labharness import AD_BIN, Lab, read_line, run, scenario, main

SCN = scenario("tests/data/integration/lab-dns.yaml")
N = 300


def names(tag):
    return [f"q{i}-{tag}.contoso.com" for i in range(N)]


def kdig(host, port, qnames):
    """Ask every name (A) in one kdig, one after another; the answers' count."""
    args = ["kdig", f"@{host}", "-p", str(port), "+norec", "+timeout=3", "+retry=2"]
    for q in qnames:
        args += [q, "A"]
    r = run(args)
    return r.stdout.count("->>HEADER<<-")


class JournalTest(unittest.TestCase):
    def setUp(self):
        self.lab = Lab(SCN)

    def tearDown(self):
        self.lab.close()

    def asked(self, tag):
        return {e["qname"].rstrip(".") for e in self.lab.read_events("dns.query")
                if e["qname"] and e["qname"].rstrip(".").endswith(f"-{tag}.contoso.com")}

    def assert_whole_lines(self):
        with open(self.lab.journal, "rb") as f:
            text = f.read()
        self.assertTrue(text.endswith(b"\n"), text[-200:])
        for line in text.splitlines():
            json.loads(line)

    def test_only_whole_lines_while_serve_writes(self):
        done = threading.Event()
        seen = []

        def ask():
            kdig(self.lab.dns_host, self.lab.dns_port, names("whole"))
            done.set()

        t = threading.Thread(target=ask)
        t.start()
        while not done.is_set():  # read while serve writes
            with open(self.lab.journal, "rb") as f:
                seen.append(f.read())
        t.join()
        self.assertEqual(len(self.lab.events("dns.query")), N)
        self.assert_whole_lines()
        with open(self.lab.journal, "rb") as f:
            final = f.read()
        # A read that meets a write in progress sees the start of its lines, but the file only
        # grows by whole lines: every snapshot is the start of the final file, and what it ends
        # with is completed, never followed by another line.
        self.assertGreater(len(seen), 1)
        for text in seen:
            self.assertTrue(final.startswith(text))

    def test_sigkill_loses_nothing_older_than_the_delay(self):
        qnames = names("kill")
        self.assertEqual(kdig(self.lab.dns_host, self.lab.dns_port, qnames), N)
        time.sleep(0.1)  # JNL_FLUSH_DELAY_MS is 10: every line is due in the file by now
        self.lab.proc.send_signal(signal.SIGKILL)
        self.lab.proc.wait(timeout=20)
        self.assert_whole_lines()
        self.assertEqual(self.asked("kill"), set(qnames))

    def stop_with(self, signum, tag):
        qnames = names(tag)
        self.assertEqual(kdig(self.lab.dns_host, self.lab.dns_port, qnames), N)
        self.lab.proc.send_signal(signum)
        self.assertEqual(self.lab.proc.wait(timeout=20), 0)
        self.assert_whole_lines()
        self.assertEqual(self.asked(tag), set(qnames))
        self.assertEqual(self.lab.read_events()[0]["ev"], "lab.start")

    def test_sigterm_leaves_the_journal_complete(self):
        self.stop_with(signal.SIGTERM, "term")

    def test_sigint_leaves_the_journal_complete(self):
        self.stop_with(signal.SIGINT, "int")


class StdoutJournalTest(unittest.TestCase):
    def test_journal_on_stdout_follows_the_ready_line(self):
        lab = Lab(SCN)  # for its CA directory, which `serve` below shares
        try:
            lab.stop()
            cmd = [AD_BIN, "--ca-dir", lab.ca_dir, "serve", SCN, "--dns", "127.0.0.1:0",
                   "--https-port", "0", "--http-port", "0", "--journal", "-"]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            try:
                ready = read_line(proc.stdout, 60)
                self.assertTrue(ready is not None and ready.startswith("ready "), ready)
                info = json.loads(ready[len("ready "):])
                host, port = info["dns"].rsplit(":", 1)
                start = json.loads(read_line(proc.stdout, 10))
                self.assertEqual(start["ev"], "lab.start")
                qnames = names("stdout")[:20]
                self.assertEqual(kdig(host, int(port), qnames), 20)
                got = []
                while len(got) < 20:
                    line = read_line(proc.stdout, 10)
                    self.assertIsNotNone(line, "a dns.query line did not come")
                    e = json.loads(line)
                    if e["ev"] == "dns.query":
                        got.append(e["qname"].rstrip("."))
                self.assertEqual(got, qnames)  # in order, each once
                proc.send_signal(signal.SIGTERM)
                rest = proc.stdout.read().decode()
                self.assertEqual(proc.wait(timeout=20), 0)
                for line in rest.splitlines():
                    json.loads(line)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
        finally:
            lab.close()


if __name__ == "__main__":
    main()
