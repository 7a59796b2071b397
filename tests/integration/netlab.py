"""A stand-in for a VM network: two network namespaces joined by a veth pair, "lab" with the
lab's addresses and "vm" with a client's, and `autodisco serve --listen` running in "lab" on the
real ports (53, 80, 443) while clients run in "vm" with a resolv.conf that names the lab's DNS.

Nothing is bound or changed outside the namespaces this module creates: the addresses exist
only inside them, the vm's resolv.conf is a temporary file bind-mounted over /etc/resolv.conf in
a private mount namespace of each client command (the host's /etc is never written; `ip netns
exec`'s /etc/netns is not used), and the namespaces are deleted when the test ends — also those
a killed earlier run left behind (their names carry the pid of a process that is gone).

Needs root (network namespaces, ports below 1024): require_root() exits 77 with a message
otherwise."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from labharness import AD_BIN, SKIP, read_line

LAB_ADDRS = ("10.77.0.1", "10.77.0.3")  # the lab's side of the veth pair
VM_ADDR = "10.77.0.2"                   # the client's side


def require_root(what):
    if os.geteuid() != 0:
        print(f"SKIPPED: {what} needs root (network namespaces, ports 53, 80 and 443); run the "
              "suite as root to cover it", file=sys.stderr)
        sys.exit(SKIP)
    for tool in ("ip", "unshare"):
        if shutil.which(tool) is None:
            print(f"SKIPPED: no `{tool}` on this machine", file=sys.stderr)
            sys.exit(SKIP)
    # root in a container may still be refused namespaces: say so rather than fail on it
    probe = f"ad-probe-{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"SKIPPED: {what}: this machine refuses network namespaces "
              f"(ip netns add: {r.stderr.strip()})", file=sys.stderr)
        sys.exit(SKIP)
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)


def sh(*cmd, check=True, timeout=60, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr}")
    return r


def sweep_stale():
    """Deletes namespaces of this module whose creating process is gone."""
    r = sh("ip", "netns", "list", check=False)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(r"ad-(?:lab|vm)-(\d+)", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            sh("ip", "netns", "del", name, check=False)


class NetPair:
    """The two namespaces and the veth pair between them."""

    def __init__(self):
        sweep_stale()
        pid = os.getpid()
        self.lab, self.vm = f"ad-lab-{pid}", f"ad-vm-{pid}"
        self.tmp = tempfile.mkdtemp(prefix="autodisco-netns-")
        self.resolv = os.path.join(self.tmp, "resolv.conf")
        with open(self.resolv, "w") as f:
            f.write(f"nameserver {LAB_ADDRS[0]}\noptions timeout:2 attempts:1\n")
        os.chmod(self.tmp, 0o755)
        os.chmod(self.resolv, 0o644)
        try:
            sh("ip", "netns", "add", self.lab)
            sh("ip", "netns", "add", self.vm)
            lab_if, vm_if = f"adl{pid}"[:15], f"adv{pid}"[:15]
            sh("ip", "link", "add", lab_if, "netns", self.lab, "type", "veth", "peer", "name",
               vm_if, "netns", self.vm)
            for a in LAB_ADDRS:
                sh("ip", "-n", self.lab, "addr", "add", f"{a}/24", "dev", lab_if)
            sh("ip", "-n", self.vm, "addr", "add", f"{VM_ADDR}/24", "dev", vm_if)
            for ns, dev in ((self.lab, lab_if), (self.vm, vm_if)):
                sh("ip", "-n", ns, "link", "set", "lo", "up")
                sh("ip", "-n", ns, "link", "set", dev, "up")
        except Exception:
            self.close()
            raise

    def in_lab(self, *cmd):
        return ["ip", "netns", "exec", self.lab, *cmd]

    def in_vm(self, *cmd):
        """A command run in the vm namespace whose /etc/resolv.conf names the lab's DNS."""
        return ["ip", "netns", "exec", self.vm, "unshare", "--mount", "--propagation", "private",
                "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"', self.resolv, *cmd]

    def vm_run(self, *cmd, timeout=120, **kw):
        return subprocess.run(self.in_vm(*cmd), capture_output=True, text=True, timeout=timeout,
                              **kw)

    def close(self):
        for ns in (self.lab, self.vm):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)  # the veth goes too
        shutil.rmtree(self.tmp, ignore_errors=True)


class NetLab:
    """`autodisco serve SCENARIO --listen ...` in the lab namespace on the real ports, started as
    root (it then runs as nobody), with its own CA directory and journal."""

    def __init__(self, pair, scenario_path, listen=LAB_ADDRS, extra=(), dns=None):
        self.pair = pair
        self.tmp = tempfile.mkdtemp(prefix="autodisco-netlab-")
        self.ca_dir = os.path.join(self.tmp, "ca")
        self.journal = os.path.join(self.tmp, "journal.jsonl")
        cmd = [AD_BIN, "--ca-dir", self.ca_dir, "serve", scenario_path,
               "--journal", self.journal]
        for a in listen:
            cmd += ["--listen", a]
        if dns is not None:
            cmd += ["--dns", dns]
        cmd += list(extra)
        self.proc = subprocess.Popen(pair.in_lab(*cmd), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        line = read_line(self.proc.stdout, 60)
        if line is None or not line.startswith("ready "):
            self.proc.kill()
            err = self.proc.stderr.read().decode(errors="replace")
            raise AssertionError(f"no ready line from serve: {line!r}; stderr: {err}")
        self.info = json.loads(line[len("ready "):])
        self.ca_pem = self.info["ca"]
        self.stderr_text = None

    def host(self, host_id):
        for h in self.info["hosts"]:
            if h["id"] == host_id:
                return h
        raise KeyError(host_id)

    def status(self):
        """/proc/<pid>/status of serve (`ip netns exec` execs it: the same process) as a dict."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)

    def events(self, ev=None):
        """The journal's events as the file holds them now; a last line without its newline is
        serve's write in progress (it writes once per loop iteration), left for the next read."""
        out = []
        if not os.path.exists(self.journal):
            return out
        with open(self.journal) as f:
            for line in f:
                if not line.endswith("\n") and self.proc.poll() is None:
                    break
                obj = json.loads(line)
                if ev is None or obj["ev"] == ev:
                    out.append(obj)
        return out

    def wait_event(self, ev, pred=lambda e: True, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events(ev):
                if pred(e):
                    return e
            if time.monotonic() > deadline:
                raise AssertionError(f"no {ev} event matching within {timeout}s; journal: "
                                     f"{self.events()}")
            time.sleep(0.02)

    def stop(self):
        """SIGTERM; serve must exit 0 with the journal complete. Keeps stderr's text."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=20)
        self.stderr_text = self.proc.stderr.read().decode(errors="replace")
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
