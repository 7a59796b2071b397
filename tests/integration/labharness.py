"""Start the real `autodisco serve` on ephemeral ports and talk to it from outside.

Tests wait for lines (the ready line, journal events), never for a fixed time.
"""
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

AD_BIN = os.environ.get("AD_BIN", "autodisco")
SOURCE = os.environ.get("AD_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SKIP = 77  # ctest SKIP_RETURN_CODE
# Lab.sync's query names: Lab.events leaves their lines out.
SYNC_PREFIX = "autodisco-journal-sync-"


def scenario(rel):
    return os.path.join(SOURCE, rel)


def read_line(stream, timeout):
    """One line from a pipe, or None when nothing came within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    line = b""
    fd = stream.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        ch = os.read(fd, 1)
        if not ch:
            break
        line += ch
        if ch == b"\n":
            return line.decode()
    return None


class Lab:
    """`autodisco serve SCENARIO` with its own CA directory and journal."""

    def __init__(self, scenario_path, ca_dir=None, extra=()):
        self.tmp = tempfile.mkdtemp(prefix="autodisco-test-")
        self.ca_dir = ca_dir or os.path.join(self.tmp, "ca")
        self.journal = os.path.join(self.tmp, "journal.jsonl")
        cmd = [AD_BIN, "--ca-dir", self.ca_dir, "serve", scenario_path,
               "--dns", "127.0.0.1:0", "--https-port", "0", "--http-port", "0",
               "--journal", self.journal, *extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = read_line(self.proc.stdout, 60)
        if line is None or not line.startswith("ready "):
            self.proc.kill()
            err = self.proc.stderr.read().decode(errors="replace")
            raise AssertionError(f"no ready line from serve: {line!r}; stderr: {err}")
        self.info = json.loads(line[len("ready "):])
        dns_host, dns_port = self.info["dns"].rsplit(":", 1)
        self.dns_host, self.dns_port = dns_host, int(dns_port)
        self.ca_pem = self.info["ca"]

    def host(self, host_id):
        for h in self.info["hosts"]:
            if h["id"] == host_id:
                return h
        raise KeyError(host_id)

    def read_events(self, ev=None):
        """The journal's events as the file holds them now (serve writes its lines once per loop
        iteration: an event of the iteration running now may not be there yet). A last line
        without its newline is a write still in progress: left for the next read."""
        out = []
        if not os.path.exists(self.journal):
            return out
        with open(self.journal) as f:
            for line in f:
                if not line.endswith("\n") and self.proc.poll() is None:
                    break
                obj = json.loads(line)  # every line must be one JSON object
                if str(obj.get("qname")).startswith(SYNC_PREFIX):
                    continue  # a sync's query (and with dns.overlay, its upstream.dns)
                if ev is None or obj["ev"] == ev:
                    out.append(obj)
        return out

    def sync(self, timeout=10):
        """Wait until every event of what serve has done so far is in the journal: ask a DNS
        query of a name of our own and wait for its line. serve writes its lines in order, so
        once the marker's is there, every earlier one is. Nothing to wait for once it exited."""
        if self.proc.poll() is not None:
            return
        self._n_sync = getattr(self, "_n_sync", 0) + 1
        qname = f"{SYNC_PREFIX}{os.getpid()}-{self._n_sync}.invalid"
        query = struct.pack(">HHHHHH", self._n_sync & 0xffff, 0x0100, 1, 0, 0, 0)
        query += b"".join(bytes([len(p)]) + p.encode() for p in qname.split(".")) + b"\0"
        query += struct.pack(">HH", 1, 1)  # A, IN
        family = socket.AF_INET6 if ":" in self.dns_host.strip("[]") else socket.AF_INET
        deadline = time.monotonic() + timeout
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            while time.monotonic() < deadline:
                sock.sendto(query, (self.dns_host.strip("[]"), self.dns_port))
                resend = min(deadline, time.monotonic() + 1.0)  # UDP: ask again now and then
                while time.monotonic() < resend:
                    if self._journal_has_qname(qname):
                        return
                    if self.proc.poll() is not None:
                        return
                    time.sleep(0.01)
        raise AssertionError(f"the journal sync query {qname} never reached the journal")

    def _journal_has_qname(self, qname):
        if not os.path.exists(self.journal):
            return False
        needle = "\"" + qname  # with or without the final dot
        with open(self.journal) as f:
            return any(needle in line and line.endswith("\n") for line in f)

    def events(self, ev=None):
        """The journal's events (all, or those of kind `ev`), complete up to now: sync first."""
        self.sync()
        return self.read_events(ev)

    def wait_event(self, ev, pred=lambda e: True, timeout=10):
        """The first journal event `ev` for which pred holds, waiting for it to be written."""
        deadline = time.monotonic() + timeout
        while True:
            for e in self.read_events(ev):
                if pred(e):
                    return e
            if time.monotonic() > deadline:
                raise AssertionError(f"no {ev} event matching within {timeout}s; journal: "
                                     f"{self.read_events()}")
            time.sleep(0.02)

    def stop(self):
        """SIGTERM; serve must exit 0 with the journal complete."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=20)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return rc

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if not stream.closed:
                stream.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class CliTestCase(unittest.TestCase):
    """Tests of autodisco's commands sharing one CA directory per class: self.ad(ARGS...)."""

    tmp_prefix = "autodisco-"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix=cls.tmp_prefix)
        cls.ca = os.path.join(cls.tmp, "ca")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def ad(self, *args, **kw):
        return run([AD_BIN, "--ca-dir", self.ca, *args], **kw)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def main():
    unittest.main(verbosity=2)
