"""`autodisco kit windows`: the Windows lab kit, checked without Windows.

- Golden files (tests/data/kit/founding-outlook-2016-msi/) for the founding scenario and
  outlook-2016-msi with --set ExcludeExplicitO365Endpoint=1 --set ExcludeLastKnownGoodUrl=1,
  compared byte for byte once the lab CA's thumbprint and subject (which differ with every
  CA) and its directory are replaced by {THUMBPRINT}, {CA-SUBJECT} and {CA-DIR}. To change
  them, render the kit with the arguments below, normalise it the same way, and read the
  diff line by line before committing: they are the review of what a Windows admin runs.
- The .reg file read by regparse.py (written from Microsoft's description of the format) and
  compared with the settings the model should have, for several models and scenarios.
- The CA files read by openssl: the same certificate as `autodisco ca export`.
- The shell scripts checked by shellcheck and sh -n.
- The PowerShell read by ps1check.py: brackets balanced, no template markers left, every
  command a cmdlet of Windows PowerShell 5.1 or a function the script defines, every registry
  write recorded in the state file before it happens, and every state the install records
  put back by the uninstall.
"""
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ps1check  # noqa: E402
import regparse  # noqa: E402
from labharness import SOURCE, CliTestCase, main, run  # noqa: E402

FOUNDING = ["--scenario", "scenarios/founding/expired-root-cert.yaml", "--client",
            "outlook-2016-msi", "--dns", "192.168.56.10", "--set",
            "ExcludeExplicitO365Endpoint=1", "--set", "ExcludeLastKnownGoodUrl=1"]
GOLDEN = os.path.join(SOURCE, "tests", "data", "kit", "founding-outlook-2016-msi")
AUTOD = "HKEY_CURRENT_USER\\Software\\Microsoft\\Office\\{}\\Outlook\\AutoDiscover"
DWORDS = ["ExcludeScpLookup", "ExcludeHttpsRootDomain", "ExcludeHttpsAutoDiscoverDomain",
          "ExcludeHttpRedirect", "ExcludeSrvRecord", "ExcludeLastKnownGoodUrl",
          "ExcludeExplicitO365Endpoint", "PreferLocalXML"]

# The cmdlets the scripts may call: all in Windows PowerShell 5.1 on Windows 10 and 11
# (Microsoft.PowerShell.*, CimCmdlets, PKI, NetAdapter, DnsClient).
CMDLETS = {
    "Set-StrictMode", "Remove-TypeData", "Join-Path", "Split-Path", "Write-Host",
    "Write-Warning", "Get-Process", "Get-Content", "ConvertFrom-Json", "ConvertTo-Json",
    "Move-Item", "Test-Path", "New-Object", "Get-Item", "Get-ItemProperty", "New-Item",
    "New-ItemProperty", "Remove-ItemProperty", "Remove-Item", "Get-ChildItem", "Sort-Object",
    "Where-Object", "Out-Null", "Get-CimInstance", "Select-String", "Import-Certificate",
    "Get-NetAdapter", "Get-DnsClientServerAddress", "Set-DnsClientServerAddress",
    "Clear-DnsClientCache",
}


def openssl(*args):
    r = run(["openssl", *args])
    if r.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)}: {r.stderr}")
    return r.stdout


def read(path):
    with open(path, "rb") as f:
        return f.read()


class KitTest(CliTestCase):
    tmp_prefix = "autodisco-kit-"

    def kit(self, name, *args):
        out = os.path.join(self.tmp, name)
        r = self.ad("kit", "windows", out, *args, cwd=SOURCE)
        self.assertEqual(r.returncode, 0, r.stderr)
        return out

    def ca_facts(self, kit):
        cer = os.path.join(kit, "autodisco-lab-ca.cer")
        sha1 = openssl("x509", "-inform", "DER", "-in", cer, "-noout", "-fingerprint", "-sha1")
        subject = openssl("x509", "-inform", "DER", "-in", cer, "-noout", "-subject",
                          "-nameopt", "RFC2253")
        thumb = sha1.strip().split("=", 1)[1].replace(":", "")
        return thumb, subject.strip().split("=", 1)[1]

    def normalise(self, data, thumb, subject):
        # The variable parts: the CA's thumbprint and subject, and where it lives.
        for enc in ("ascii", "utf-16-le"):
            data = data.replace(self.ca.encode(enc), "{CA-DIR}".encode(enc))
            data = data.replace(thumb.encode(enc), "{THUMBPRINT}".encode(enc))
            data = data.replace(subject.encode(enc), "{CA-SUBJECT}".encode(enc))
        return data

    def reg(self, kit, model):
        data = read(os.path.join(kit, f"autodiscover-{model}.reg"))
        parsed = regparse.parse(data)
        self.assertEqual(parsed.encoding, "utf-16-le")
        self.assertEqual(parsed.header, regparse.HEADER_V5)
        self.assertEqual(parsed.line_ends, {"\r\n"})
        return parsed

    # --- golden files ---------------------------------------------------------------------

    def test_founding_kit_matches_the_golden_files(self):
        kit = self.kit("founding", *FOUNDING)
        thumb, subject = self.ca_facts(kit)
        self.assertRegex(thumb, r"^[0-9A-F]{40}$")
        golden = sorted(os.listdir(GOLDEN))
        made = sorted(f for f in os.listdir(kit) if not f.startswith("autodisco-lab-ca."))
        self.assertEqual(made, golden)
        for name in golden:
            with self.subTest(file=name):
                got = self.normalise(read(os.path.join(kit, name)), thumb, subject)
                want = read(os.path.join(GOLDEN, name))
                if got != want:
                    enc = "utf-16" if name.endswith(".reg") else "utf-8"
                    import difflib
                    diff = "".join(difflib.unified_diff(
                        want.decode(enc).splitlines(True), got.decode(enc).splitlines(True),
                        "golden/" + name, "generated/" + name))
                    self.fail(f"{name} differs from the golden file:\n{diff}")
        # The thumbprint that was normalised away is the one the scripts check.
        install = read(os.path.join(kit, "install.ps1")).decode("ascii")
        self.assertIn(f"  Thumbprint      = '{thumb}'\r\n", install)
        for sh in ("ca-install-macos.sh", "ca-uninstall-macos.sh", "ca-install-linux.sh",
                   "ca-uninstall-linux.sh"):
            self.assertIn(f"\nthumbprint={thumb}\n", read(os.path.join(kit, sh)).decode())

    def test_same_kit_twice_same_bytes(self):
        a = self.kit("twice-a", *FOUNDING)
        b = self.kit("twice-b", *FOUNDING)
        for name in os.listdir(a):
            self.assertEqual(read(os.path.join(a, name)), read(os.path.join(b, name)), name)

    # --- the .reg file ----------------------------------------------------------------------

    def test_founding_reg_is_the_model_state(self):
        parsed = self.reg(self.kit("reg-founding", *FOUNDING), "outlook-2016-msi")
        key = AUTOD.format("16.0")
        want = {name: ("REG_DWORD", 0) for name in DWORDS}
        want["ExcludeExplicitO365Endpoint"] = ("REG_DWORD", 1)
        want["ExcludeLastKnownGoodUrl"] = ("REG_DWORD", 1)
        # Applied on a registry that holds old test values, it leaves exactly the model's.
        before = {
            key: {"ExcludeHttpsRootDomain": ("REG_DWORD", 1), "contoso.com": ("REG_SZ", "x.xml"),
                  "Other": ("REG_SZ", "kept")},
            key + "\\RedirectServers": {"old.example": ("REG_SZ", "")},
        }
        after = parsed.apply(before)
        want["Other"] = ("REG_SZ", "kept")
        self.assertEqual(after[key], want)
        self.assertNotIn(key + "\\RedirectServers", after)
        self.assertIn(("delete", key, "contoso.com"), parsed.ops)

    def test_reg_for_outlook_2007_with_local_xml(self):
        scn = "scenarios/client-settings/prefer-local-xml.yaml"
        kit = self.kit("reg-2007", "--scenario", scn, "--client", "outlook-2007")
        parsed = self.reg(kit, "outlook-2007")
        key = AUTOD.format("12.0")
        values = parsed.apply()[key]
        # Outlook 2007 reads neither the cached-URL nor the Office 365 value.
        self.assertEqual(sorted(values), sorted(
            [n for n in DWORDS if n not in ("ExcludeLastKnownGoodUrl",
                                            "ExcludeExplicitO365Endpoint")] + ["contoso.com"]))
        self.assertEqual(values["PreferLocalXML"], ("REG_DWORD", 1))
        self.assertEqual(values["contoso.com"],
                         ("REG_SZ", "C:\\autodisco-kit\\autodiscover-contoso.com.xml"))
        self.assertEqual(read(os.path.join(kit, "autodiscover-contoso.com.xml")),
                         read(os.path.join(SOURCE, "scenarios/client-settings/"
                                                   "contoso-autodiscover.xml")))
        install = read(os.path.join(kit, "install.ps1")).decode("ascii")
        self.assertIn("  LocalXml        = 'autodiscover-contoso.com.xml'\r\n", install)
        self.assertIn("  OfficeVersion   = '12.0'\r\n", install)

    def test_reg_redirect_servers_from_scenario_and_set(self):
        scn = "scenarios/client-settings/redirect-servers-allowlist.yaml"
        kit = self.kit("reg-redirect", "--scenario", scn)  # default: the first Outlook listed
        parsed = self.reg(kit, "outlook-2016-msi")
        sub = AUTOD.format("16.0") + "\\RedirectServers"
        self.assertEqual(parsed.apply()[sub], {"autodiscover.hoster.net": ("REG_SZ", "")})
        # The subkey is deleted before it is written: the list is exactly the model's.
        kinds = [op[:2] for op in parsed.ops if op[1] == sub]
        self.assertEqual(kinds, [("delete-key", sub), ("key", sub), ("set", sub)])
        kit = self.kit("reg-redirect-set", "--scenario", scn, "--set",
                       "RedirectServers=a.hoster.net,b.hoster.net", "--set",
                       "excludesrvrecord=1")
        values = self.reg(kit, "outlook-2016-msi").apply()
        self.assertEqual(sorted(values[sub]), ["a.hoster.net", "b.hoster.net"])
        self.assertEqual(values[AUTOD.format("16.0")]["ExcludeSrvRecord"], ("REG_DWORD", 1))

    def test_reg_without_scenario_for_outlook_2013(self):
        kit = self.kit("reg-2013", "--client", "outlook-2013", "--set", "ExcludeScpLookup=1")
        values = self.reg(kit, "outlook-2013").apply()
        key = AUTOD.format("15.0")
        self.assertEqual(set(values), {key})  # no RedirectServers: deleted, not recreated
        self.assertEqual(values[key]["ExcludeScpLookup"], ("REG_DWORD", 1))
        self.assertNotIn("ExcludeExplicitO365Endpoint", values[key])
        readme = read(os.path.join(kit, "README.txt")).decode()
        self.assertIn("ExcludeExplicitO365Endpoint    not written: Office 15.0 does not read it",
                      readme)
        self.assertIn("DNS alone", readme)

    def test_regparse_reads_what_regedit_writes(self):
        # A file in regedit's own shapes: continued hex lines, hex(2), hex(7), hex(b), escapes,
        # the default value, deletions. The parser must take all of them and refuse damage.
        text = ("Windows Registry Editor Version 5.00\r\n\r\n"
                "; a comment\r\n"
                "[HKEY_CURRENT_USER\\Software\\Test]\r\n"
                "@=\"default\"\r\n"
                "\"Path\"=\"C:\\\\dir\\\\\\\"q\\\".xml\"\r\n"
                "\"Expand\"=hex(2):25,00,55,00,53,00,45,00,52,00,25,00,\\\r\n"
                "  00,00\r\n"
                "\"Multi\"=hex(7):61,00,00,00,62,00,00,00,00,00\r\n"
                "\"Q\"=hex(b):01,00,00,00,00,00,00,00\r\n"
                "\"Bin\"=hex:de,ad,\\\r\n  be,ef\r\n"
                "\"D\"=dword:0000002a\r\n"
                "\"Gone\"=-\r\n\r\n"
                "[-HKEY_CURRENT_USER\\Software\\Old]\r\n")
        parsed = regparse.parse(b"\xff\xfe" + text.encode("utf-16-le"))
        values = parsed.apply({"HKEY_CURRENT_USER\\Software\\Old\\Sub": {}})
        self.assertEqual(values, {"HKEY_CURRENT_USER\\Software\\Test": {
            "": ("REG_SZ", "default"),
            "Path": ("REG_SZ", 'C:\\dir\\"q".xml'),
            "Expand": ("REG_EXPAND_SZ", "%USER%"),
            "Multi": ("REG_MULTI_SZ", ["a", "b"]),
            "Q": ("REG_QWORD", 1),
            "Bin": ("REG_BINARY", b"\xde\xad\xbe\xef"),
            "D": ("REG_DWORD", 42),
        }})
        for bad in (text.replace("5.00", "4.00"), text.replace("dword:0000002a", "dword:2g"),
                    text.replace("[-HKEY_CURRENT_USER", "[-HKEY_NOWHERE"),
                    text.replace("\"D\"=", "D=")):
            with self.assertRaises(regparse.RegError):
                regparse.parse(b"\xff\xfe" + bad.encode("utf-16-le"))
        with self.assertRaises(regparse.RegError):
            regparse.parse(text.encode("ascii"))  # version 5.00 needs its byte order mark

    # --- the CA files -----------------------------------------------------------------------

    def test_cer_is_the_lab_ca_in_der(self):
        kit = self.kit("ca", *FOUNDING)
        pem = os.path.join(self.tmp, "exported.pem")
        self.assertEqual(self.ad("ca", "export", "--pem", pem).returncode, 0)
        cer = os.path.join(kit, "autodisco-lab-ca.cer")
        for alg in ("-sha256", "-sha1"):
            self.assertEqual(
                openssl("x509", "-inform", "DER", "-in", cer, "-noout", "-fingerprint", alg),
                openssl("x509", "-in", pem, "-noout", "-fingerprint", alg))
        # Pure DER, nothing around it: converting DER to DER gives the same bytes.
        again = os.path.join(self.tmp, "again.cer")
        openssl("x509", "-inform", "DER", "-in", cer, "-outform", "DER", "-out", again)
        self.assertEqual(read(cer), read(again))
        self.assertEqual(read(os.path.join(kit, "autodisco-lab-ca.pem")), read(pem))
        thumb, _ = self.ca_facts(kit)
        self.assertIn(f"SHA-1 thumbprint {thumb}", read(os.path.join(kit, "README.txt")).decode())

    # --- the shell scripts ------------------------------------------------------------------

    def test_shell_scripts_pass_shellcheck(self):
        if shutil.which("shellcheck") is None:
            self.skipTest("shellcheck is not installed (scripts/install-deps --with-tests)")
        kit = self.kit("sh", *FOUNDING)
        scripts = sorted(os.path.join(kit, f) for f in os.listdir(kit) if f.endswith(".sh"))
        self.assertEqual(len(scripts), 4)
        r = run(["shellcheck", "--shell=sh", "--severity=style", *scripts])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for s in scripts:
            self.assertEqual(run(["sh", "-n", s]).returncode, 0, s)
            self.assertEqual(os.stat(s).st_mode & 0o777, 0o755, s)
            self.assertTrue(read(s).startswith(b"#!/bin/sh\n"), s)

    # --- the PowerShell ---------------------------------------------------------------------

    def scripts(self, kit):
        out = {}
        for name in ("install.ps1", "uninstall.ps1"):
            data = read(os.path.join(kit, name))
            self.assertTrue(all(b < 0x80 for b in data), f"{name}: not ASCII")
            self.assertNotRegex(data, rb"(?<!\r)\n", f"{name}: a line end without CR")
            text = data.decode("ascii").replace("\r\n", "\n")
            self.assertNotRegex(text, r"@KIT_|%[sdzu]|\(null\)", f"{name}: a template marker")
            out[name] = ps1check.Script(text)  # raises on unbalanced brackets or strings
        return out

    def test_powershell_is_well_formed(self):
        for kit in (self.kit("ps-founding", *FOUNDING),
                    self.kit("ps-2007", "--scenario",
                             "scenarios/client-settings/prefer-local-xml.yaml",
                             "--client", "outlook-2007")):
            for name, s in self.scripts(kit).items():
                with self.subTest(kit=kit, script=name):
                    self.assertTrue(s.text.startswith("#Requires -Version 5.1\n"))
                    self.assertIn("\n#Requires -RunAsAdministrator\n", s.text)
                    # The first statement: nothing but help may come before param().
                    self.assertTrue(re.match(r"\s*\[CmdletBinding\(\)\]\nparam\(", s.code),
                                    "something before [CmdletBinding()] param(")
                    self.assertIn("\nSet-StrictMode -Version 3.0\n", s.text)
                    self.assertIn("\n$ErrorActionPreference = 'Stop'\n", s.text)
                    defined = s.functions()
                    for cmd, line in s.commands().items():
                        self.assertTrue(cmd in CMDLETS or cmd in defined,
                                        f"{name}:{line}: {cmd} is neither a cmdlet nor defined")
                    for fn in defined:
                        uses = len(re.findall(rf"(?<![\w-]){re.escape(fn)}\b", s.code))
                        self.assertGreater(uses, 1, f"{name}: {fn} is defined but never called")
                    for line, inner in s.dq:
                        # "$name:" in a string is a scope-qualified variable: write ${name}:.
                        self.assertNotRegex(inner, r"\$(?!script:|env:)[A-Za-z_]\w*:",
                                            f"{name}:{line}: \"{inner}\"")

    def test_install_records_before_it_changes_and_uninstall_restores(self):
        kit = self.kit("ps-state", *FOUNDING)
        s = self.scripts(kit)
        install, uninstall = s["install.ps1"], s["uninstall.ps1"]
        # Every registry write of install.ps1 happens in a function that first records what
        # was there (and saves the state file) — or on the kit's own backup and cache files.
        writers = {
            "Set-KitValue": "Save-PreviousValue", "Remove-KitValue": "Save-PreviousValue",
            "Initialize-UserKey": "$script:State.CreatedKeys =",
            "Set-KitMarker": "$script:State.Marker =",
        }
        n = 0
        for m in re.finditer(r"\b(New-ItemProperty|Remove-ItemProperty|Set-ItemProperty|"
                             r"New-Item|Remove-Item)\b[^\n]*", install.code):
            fn = install.enclosing_function(m.start())
            if fn in writers:
                body = install.code[install.functions()[fn][0]:m.start()]
                self.assertIn(writers[fn], body, f"{fn} writes before it records")
                n += 1
            else:
                self.assertRegex(m.group(0), r"\$file\.FullName|\$BackupDir|-ItemType Directory",
                                 f"install.ps1: an unrecorded change: {m.group(0)}")
        self.assertGreaterEqual(n, 5)
        for recorder in ("Save-PreviousValue", "Initialize-UserKey", "Set-KitMarker"):
            self.assertIn("Save-KitState", install.body(recorder))
        # Each value of $DwordValues is set through Set-KitValue, and they are the .reg's.
        block = re.search(r"\$DwordValues = \[ordered\]@\{\n(.*?)\n\}", install.text, re.S)
        dwords = dict(re.findall(r"^\s+(\w+)\s+= (\d)$", block.group(1), re.M))
        reg = self.reg(kit, "outlook-2016-msi").apply()[AUTOD.format("16.0")]
        self.assertEqual({k: ("REG_DWORD", int(v)) for k, v in dwords.items()},
                         {k: v for k, v in reg.items() if v[0] == "REG_DWORD"})
        self.assertTrue(re.search(r"foreach \(\$name in @\(\$DwordValues\.Keys\)\) \{\n"
                                  r"\s+Set-KitValue \$autoDiscoverKey \$name 'DWord'",
                                  install.text), "the DWORD values are not set in a loop")
        # What install records, uninstall reads and puts back.
        recorded = set(re.findall(r"\$script:State\.(\w+) =", install.code))
        self.assertEqual(recorded, {"Certificate", "Dns", "Registry", "RegistryCaptured",
                                    "CreatedKeys", "Cache", "Marker"})
        for field in recorded - {"RegistryCaptured"}:  # install's own bookkeeping
            self.assertTrue(re.search(rf"\$script:State\.{field}\b", uninstall.code),
                            f"uninstall.ps1 ignores State.{field}")
        expected = [
            (uninstall, r"foreach \(\$record in \$records\) \{\n\s+Restore-RegistryValue \$record"),
            (uninstall, r'\$storePath = "Cert:\\LocalMachine\\Root\\\$\(\$script:State\.'
                        r'Certificate\.Thumbprint\)"\n.*\n\s+Remove-Item -LiteralPath \$storePath\n'),
            (uninstall, r"Set-DnsClientServerAddress -InterfaceIndex \$index -ResetServerAddresses"),
            (uninstall, r"\nRemove-KitMarker\n"),
            (install, r"Import-Certificate -FilePath \$certificatePath -CertStoreLocation "
                      r"'Cert:\\LocalMachine\\Root'"),
            (install, r"Set-DnsClientServerAddress -InterfaceIndex \$adapter\.ifIndex "
                      r"-ServerAddresses @\(\$Kit\.LabDns\)"),
            (install, r"\nClear-DnsClientCache\n"),
            (uninstall, r"\nClear-DnsClientCache\n"),
        ]
        for script, pattern in expected:
            self.assertTrue(re.search(pattern, script.text), f"not found: {pattern}")

    def test_ps1check_finds_what_it_should(self):
        with self.assertRaises(ps1check.Ps1Error):
            ps1check.Script("if ($a) { Write-Host 'x' \n")
        with self.assertRaises(ps1check.Ps1Error):
            ps1check.Script("Write-Host 'it''s open\n")
        s = ps1check.Script("function Get-X([string]$A) {\n  Write-Host \"${A}: $($A -join ')')\"\n}"
                            "\n# Not-Code here\nGet-X 'Fake-Cmd'\n")
        self.assertEqual(set(s.commands()), {"Get-X", "Write-Host"})
        self.assertEqual(list(s.functions()), ["Get-X"])

    # --- bad input --------------------------------------------------------------------------

    def test_bad_input_exits_2_with_a_clear_message(self):
        out = os.path.join(self.tmp, "bad")
        cases = [
            (["--set", "ExcludeTheMoon=1"], "unknown registry value \"ExcludeTheMoon\"; known: "
                                            "ExcludeScpLookup, ExcludeHttpsRootDomain"),
            (["--set", "ExcludeHttpsRootDomain=yes"], "REG_DWORD of 0 (method on) or 1 (off)"),
            (["--client", "mso-xdscli"], "the kit is for a Windows Outlook, one of: outlook-2007"),
            (["--client", "outlook-2013", "--set", "ExcludeExplicitO365Endpoint=1"],
             "does not read ExcludeExplicitO365Endpoint"),
            (["--dns", "192.168.56.10:53"], "without a port"),
            (["--scenario", "tests/data/kit/missing.yaml"], "missing.yaml"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                r = self.ad("kit", "windows", out, *args, cwd=SOURCE)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(message, r.stderr)
                self.assertFalse(os.path.exists(out))
        r = self.ad("kit", "linux", out)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown target", r.stderr)
        r = self.ad("kit", "windows")
        self.assertEqual(r.returncode, 2)

    def test_refuses_a_folder_with_an_installed_kit(self):
        kit = self.kit("installed", *FOUNDING)
        with open(os.path.join(kit, "autodisco-kit-state.json"), "w") as f:
            f.write("{}")
        r = self.ad("kit", "windows", kit, *FOUNDING, cwd=SOURCE)
        self.assertEqual(r.returncode, 2)
        self.assertIn("run its uninstall.ps1 first", r.stderr)

    def test_a_model_of_your_own(self):
        model = os.path.join(self.tmp, "mine.yaml")
        with open(model, "w") as f:
            f.write("name: my-outlook\nbase: outlook-2013\nsettings:\n  ExcludeSrvRecord: 1\n")
        kit = self.kit("mine", "--client-file", model)  # the kit is for it without --client
        values = self.reg(kit, "my-outlook").apply()[AUTOD.format("15.0")]  # its base's Office
        self.assertEqual(values["ExcludeSrvRecord"], ("REG_DWORD", 1))
        self.assertEqual(values["ExcludeScpLookup"], ("REG_DWORD", 0))
        with open(os.path.join(kit, "README.txt"), encoding="utf-8") as f:
            self.assertIn("my-outlook: a model of your own", f.read())
        # --client still picks a built-in model beside it
        self.kit("builtin", "--client-file", model, "--client", "outlook-2016-msi")
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "builtin",
                                                    "autodiscover-outlook-2016-msi.reg")))
        # a model without an Office registry, or a broken file: exit 2 with the reason
        with open(model, "w") as f:
            f.write("name: plain\nsteps: [https-root]\n")
        r = self.ad("kit", "windows", os.path.join(self.tmp, "plain"), "--client-file", model)
        self.assertEqual(r.returncode, 2)
        self.assertIn("your model reads no Office registry", r.stderr)
        with open(model, "w") as f:
            f.write("name: broken\nsteps: [nowhere]\n")
        r = self.ad("kit", "windows", os.path.join(self.tmp, "broken"), "--client-file", model)
        self.assertEqual(r.returncode, 2)
        self.assertIn("mine.yaml:2:", r.stderr)

    def test_help(self):
        r = self.ad("kit", "windows", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--set NAME=VALUE", r.stdout)
        self.assertIn("kit windows", run([os.environ.get("AD_BIN", "autodisco"), "--help"]).stdout)


if __name__ == "__main__":
    main()
