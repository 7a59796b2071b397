"""`run` works for an unprivileged user: the lab binds ephemeral ports on loopback addresses
and the client models are told the port map, so no port below 1024 is needed. Needs root to
switch to `nobody`; skipped (visibly) otherwise."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from labharness import AD_BIN, SKIP, run, scenario, main


class UnprivilegedTest(unittest.TestCase):
    def test_run_as_nobody(self):
        tmp = tempfile.mkdtemp(prefix="autodisco-nobody-")
        try:
            os.chmod(tmp, 0o777)
            binary = os.path.join(tmp, "autodisco")
            shutil.copy(AD_BIN, binary)
            os.chmod(binary, 0o755)
            scn = os.path.join(tmp, "expired.yaml")
            shutil.copy(scenario("scenarios/founding/expired-root-cert.yaml"), scn)
            os.chmod(scn, 0o644)
            env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "XDG_DATA_HOME": os.path.join(tmp, "d")}
            r = run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                     binary, "run", scn], env=env, cwd=tmp)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertRegex(r.stdout, r"PROMPT certificate: contoso\.com")
            # The CA was created for that user, in its own data directory, key unreadable to others.
            ca_dir = os.path.join(tmp, "d", "autodisco", "ca")
            self.assertTrue(os.path.isdir(ca_dir), os.listdir(tmp))
            self.assertEqual(os.stat(ca_dir).st_uid, int(subprocess.check_output(
                ["id", "-u", "nobody"]).strip()))
            # serve on the real ports is refused, with what to do instead (where the kernel
            # keeps ports below 1024 for root, as it does by default).
            with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as f:
                if int(f.read()) <= 53:
                    return
            r = run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                     binary, "serve", scn], env=env, cwd=tmp)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("permission denied", r.stderr)
            self.assertIn("--https-port 0 --http-port 0", r.stderr)
            self.assertEqual(r.stdout, "")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("SKIPPED: switching to the user nobody needs root; run the suite as root to "
              "cover it", file=sys.stderr)
        sys.exit(SKIP)
    main()
