"""`autodisco snapshot` from the outside without a network to look at (no root needed): bad
input exits 2 with a clear message, and a domain whose DNS server answers nothing still gives
a scenario that loads and says so."""
import os
import socket

from labharness import CliTestCase, main


def dead_udp_port():
    """A UDP port on 127.0.0.1 nothing listens on: queries there are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SnapshotCli(CliTestCase):
    tmp_prefix = "autodisco-snapshot-cli-"

    def bad(self, *args, says):
        r = self.ad("snapshot", *args)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(says, r.stderr)

    def test_help(self):
        r = self.ad("snapshot", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: autodisco snapshot DOMAIN -o FILE.yaml", r.stdout)
        self.assertIn("No credential is ever sent", r.stdout)
        r = self.ad("--help")
        self.assertIn("snapshot DOMAIN -o FILE", r.stdout)

    def test_bad_input(self):
        out = os.path.join(self.tmp, "x.yaml")
        self.bad(says="snapshot takes one DOMAIN and -o FILE")
        self.bad("contoso.com", says="snapshot takes one DOMAIN and -o FILE")
        self.bad("contoso.com", "-o", out, "--dns", "nonsense", says="--dns nonsense: expected")
        self.bad("contoso.com", "-o", out, "--trust", "/nonexistent/ca.pem",
                 says="--trust /nonexistent/ca.pem")
        self.bad("contoso.com", "-o", out, "--timeout", "0", says="--timeout 0")
        self.bad("not a domain", "-o", out, says="\"not a domain\" is not a domain name")
        self.bad("contoso.com", "-o", out, "--email", "nobody", says="\"nobody\" is not an address")
        self.bad("contoso.com", "-o", out, "--email", "a b@contoso.com", says="is not an address")
        self.bad("contoso.com", "-o", out, "--email", "a@b@contoso.com", says="is not an address")
        self.assertFalse(os.path.exists(out))

    def test_silent_dns_still_gives_a_scenario(self):
        out = os.path.join(self.tmp, "silent.yaml")
        self.assertEqual(self.ad("ca", "init").returncode, 0)
        r = self.ad("snapshot", "contoso.com", "--dns", f"127.0.0.1:{dead_udp_port()}",
                    "--trust", os.path.join(self.ca, "ca.pem"), "--timeout", "500", "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.ad("validate", out)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(out) as f:
            text = f.read()
        self.assertIn("# contoso.com A: ", text)         # what the question got, as a comment
        self.assertIn("answer: servfail }", text)         # no answer at all: the lab fails too
        self.assertNotIn("hosts:", text)                  # nothing to connect to


if __name__ == "__main__":
    main()
