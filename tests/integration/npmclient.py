"""An npm program a test drives (a real client or consumer nobody here wrote), installed with
`npm ci` from a folder holding package.json and package-lock.json (exact versions) into the
build directory, and reused while those files and node's version stay the same.

Without node, npm or the registry the test skips (exit 77) on a developer's machine and fails
when CI is set in the environment."""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

from labharness import AD_BIN, SKIP

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


class NpmClient:
    """The package in `src` (package.json, package-lock.json and `files`) installed under
    `name` next to the autodisco binary (or in a temporary folder without one)."""

    def __init__(self, src, name, files):
        self.src = src
        self.files = ("package.json", "package-lock.json", *files)
        self.scripts = files
        if os.path.isabs(AD_BIN) and os.path.isfile(AD_BIN):
            self.dir = os.path.join(os.path.dirname(os.path.realpath(AD_BIN)), name)
            self.temporary = False
        else:
            self.dir = tempfile.mkdtemp(prefix=f"autodisco-{name}-")
            self.temporary = True
        self.node = None

    def install_or_skip(self):
        """Install (or reuse) the package; exit 77 when it cannot be had outside CI."""
        try:
            self.node = tool("node")
            took = self._install(tool("npm"))
        except Unavailable as e:
            self.cleanup()
            if in_ci():
                raise AssertionError(f"{self.src} is required in CI: {e}")
            print(f"SKIPPED: {os.path.basename(self.src)} not available: {e}", file=sys.stderr)
            sys.exit(SKIP)
        if took:
            print(f"npm ci of {os.path.basename(self.src)}: {took:.1f}s", file=sys.stderr)

    def cleanup(self):
        if self.temporary:
            shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, script, *args, env=None):
        return subprocess.run([self.node, os.path.join(self.dir, script), *args],
                              capture_output=True, text=True, timeout=NODE_TIMEOUT, env=env)

    def _stamp(self):
        version = subprocess.run([self.node, "--version"], capture_output=True, text=True,
                                 timeout=NODE_TIMEOUT).stdout.strip()
        h = hashlib.sha256(version.encode())
        for name in ("package.json", "package-lock.json"):
            with open(os.path.join(self.src, name), "rb") as f:
                h.update(f.read())
        return h.hexdigest()

    def _install(self, npm):
        want = self._stamp()
        stamp_file = os.path.join(self.dir, ".autodisco-stamp")
        if os.path.isdir(os.path.join(self.dir, "node_modules")) and os.path.exists(stamp_file):
            with open(stamp_file) as f:
                if f.read().strip() == want:
                    for name in self.scripts:
                        shutil.copyfile(os.path.join(self.src, name), os.path.join(self.dir, name))
                    return 0.0
        staging = f"{self.dir}.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        os.makedirs(staging)
        for name in self.files:
            shutil.copyfile(os.path.join(self.src, name), os.path.join(staging, name))
        cmd = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--fetch-retries=1",
               "--fetch-timeout=60000", "--loglevel=error"]
        started = time.monotonic()
        try:
            p = subprocess.run(cmd, cwd=staging, capture_output=True, text=True,
                               timeout=NPM_TIMEOUT)
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
        shutil.rmtree(self.dir, ignore_errors=True)
        os.rename(staging, self.dir)
        return took
