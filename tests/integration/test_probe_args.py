"""`autodisco probe`'s bad input, refused before anything is sent (exit 2, one clear line):
the target, --dns, --client, --format, --timeout, --trust, and a
password file others may read. Needs no privilege and no network."""
import os

from labharness import CliTestCase, main


class ProbeArgsTest(CliTestCase):
    tmp_prefix = "autodisco-probe-args-"

    def refused(self, *args, says):
        r = self.ad("probe", *args)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(says, r.stderr)
        self.assertEqual(r.stdout, "")
        return r

    def test_help(self):
        r = self.ad("probe", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: autodisco probe EMAIL|DOMAIN", r.stdout)
        self.assertIn("autodisco-probe@DOMAIN", r.stdout)
        r = self.ad("--help")
        self.assertIn("probe EMAIL|DOMAIN", r.stdout)

    def test_bad_arguments(self):
        self.refused(says="probe takes one EMAIL or DOMAIN")
        self.refused("a.example", "b.example", says="probe takes one EMAIL or DOMAIN")
        self.refused("https://contoso.com/", says="is neither an e-mail address nor a domain")
        self.refused("@contoso.com", says="is not an e-mail address")
        self.refused("contoso.com", "--dns", "resolver.example", says="--dns resolver.example: "
                     "expected ADDR:PORT")
        self.refused("contoso.com", "--client", "outlook-1997",
                     says="unknown client model \"outlook-1997\"")
        self.refused("contoso.com", "--format", "xml",
                     says="--format xml: expected text, json or html")
        self.refused("contoso.com", "--timeout", "0", says="--timeout 0: expected milliseconds")
        self.refused("contoso.com", "--dns", "127.0.0.1:9", "--trust",
                     os.path.join(self.tmp, "missing.pem"), says="cannot read the trust store")
        self.refused("contoso.com", "--user", "bob", says="--user and --password-file go together")
        self.refused("contoso.com", "--set", "ExcludeTheMoon=1",
                     says='unknown setting "ExcludeTheMoon" (known: ExcludeScpLookup')
        self.refused("contoso.com", "--set", "ExcludeSrvRecord=maybe", says="expected 0 or 1")
        self.refused("contoso.com", "--client-file", os.path.join(self.tmp, "none.yaml"),
                     says="none.yaml: No such file or directory")

    def test_password_file_must_be_private(self):
        pw = os.path.join(self.tmp, "pw")
        with open(pw, "w") as f:
            f.write("hunter2\n")
        os.chmod(pw, 0o644)
        r = self.refused("contoso.com", "--dns", "127.0.0.1:9", "--user", "bob",
                         "--password-file", pw, says="others may read or change it (mode 644)")
        self.assertIn("chmod o-rwx", r.stderr)
        self.assertNotIn("hunter2", r.stderr)
        self.assertNotIn("sends", r.stderr)  # refused before the walk: nothing said or sent
        os.chmod(pw, 0o600)
        with open(pw, "w") as f:
            f.write("\n")
        self.refused("contoso.com", "--dns", "127.0.0.1:9", "--user", "bob", "--password-file",
                     pw, says="the first line is empty")
        self.refused("contoso.com", "--user", "bob", "--password-file",
                     os.path.join(self.tmp, "none"), says="No such file or directory")


if __name__ == "__main__":
    main()
