/* lab/kit_render.c: the texts of the Windows lab kit — install.ps1 and uninstall.ps1 from the
 * templates in lab/kit/ with the kit's data block, the .reg file as regedit writes one, the
 * README, and the CA scripts for macOS and Linux. Nothing here depends on the time or the
 * machine: the same kit always renders the same bytes. */
#include "lab/kit.h"

#include "lab/kit_internal.h"
#include "lab/lab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where README.txt tells the user to copy the kit; the .reg file's local XML path uses it
 * (install.ps1 uses the folder it runs from). */
#define KIT_WINDOWS_DIR "C:\\autodisco-kit"
#define KB2480582 "KB 2480582, https://support.microsoft.com/en-us/help/2480582"
#define KB310516 "KB 310516, https://support.microsoft.com/en-us/help/310516"

/* ascii appends `s` with every byte outside printable ASCII replaced by '?': scenario text
 * that lands in a .ps1 (read as ANSI by Windows PowerShell 5.1) or a comment line. */
static void ascii(struct buf *b, const char *s) {
  for (; s != NULL && *s != 0; s++) {
    char ch = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    buf_append(b, (struct slice){(const uint8_t *) &ch, 1});
  }
}

/* subst appends `text` with "<domain>" replaced by the domain, when the kit has one. */
static void subst(struct buf *b, const struct kit *k, const char *text) {
  const char *at = k->scn != NULL ? strstr(text, "<domain>") : NULL;
  if (at == NULL) {
    buf_append_str(b, text);
    return;
  }
  buf_append(b, (struct slice){(const uint8_t *) text, (size_t) (at - text)});
  buf_append_str(b, k->scn->domain);
  subst(b, k, at + strlen("<domain>"));
}

/* crlf appends `text` with each LF written as CRLF. */
static void crlf(struct buf *out, struct slice text) {
  for (size_t i = 0; i < text.len; i++) {
    if (text.ptr[i] == '\n') {
      buf_append_str(out, "\r\n");
    } else {
      buf_append(out, (struct slice){text.ptr + i, 1});
    }
  }
}

/* shell_word appends `s` as one POSIX shell word: as it is when it holds only safe
 * characters, else in single quotes. */
static void shell_word(struct buf *b, const char *s) {
  bool safe = *s != 0;
  for (const char *p = s; *p != 0; p++) {
    safe = safe && (strchr("/._-+:@%,=", *p) != NULL || (*p >= 'a' && *p <= 'z') ||
                    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'));
  }
  if (safe) {
    buf_append_str(b, s);
    return;
  }
  buf_append_str(b, "'");
  for (const char *p = s; *p != 0; p++) {
    if (*p == '\'') {
      buf_append_str(b, "'\\''");
    } else {
      buf_append(b, (struct slice){(const uint8_t *) p, 1});
    }
  }
  buf_append_str(b, "'");
}

static const char *domain_or(const struct kit *k, const char *none) {
  return k->scn != NULL ? k->scn->domain : none;
}

/* --- install.ps1 and uninstall.ps1 ------------------------------------------------------ */

static void ps1_header(const struct kit *k, struct buf *b) {
  buf_append_str(b, "# --- Written by `autodisco kit windows` ");
  buf_append_str(b, "-----------------------------------------------------\n");
  buf_appendf(b, "# Client model %s: %s, Office %s.\n", sim_model_name(k->model), kit__product(k),
              k->version);
  if (k->scn != NULL) {
    buf_append_str(b, "# Scenario ");
    ascii(b, k->scn->name);
    buf_append_str(b, " (");
    ascii(b, k->scn->path);
    buf_append_str(b, ").\n");
  }
  if (k->sets.len > 0) {
    buf_appendf(b, "# --set %s\n", buf_cstr(&k->sets));
  }
}

static void install_data(const struct kit *k, struct buf *b) {
  ps1_header(k, b);
  buf_appendf(b,
              "$Kit = @{\n"
              "  Model           = '%s'\n"
              "  OfficeVersion   = '%s'\n"
              "  CertificateFile = '%s'\n"
              "  Thumbprint      = '%s'\n"
              "  LabDns          = '%s'\n"
              "  Domain          = '%s'\n"
              "  LocalXml        = '%s'\n"
              "}\n",
              sim_model_name(k->model), k->version, kit_file_name(k, KIT_CER), k->thumbprint,
              k->dns, domain_or(k, ""), k->local_xml != NULL ? k->local_xml_name : "");
  buf_appendf(
      b,
      "# REG_DWORD values under HKCU\\Software\\Microsoft\\Office\\%s\\Outlook\\AutoDiscover:"
      "\n# 1 turns a method off, 0 (or no value) leaves it on (KB 2212902).\n"
      "$DwordValues = [ordered]@{\n",
      k->version);
  for (size_t i = 0; kit__dword(i) != NULL; i++) {
    if (kit__applies(k, kit__dword(i))) {
      buf_appendf(b, "  %-30s = %d\n", kit__dword(i)->name,
                  kit__dword_on(k, kit__dword(i)) ? 1 : 0);
    }
  }
  buf_append_str(b, "}\n# Hosts Autodiscover may be redirected to without the consent prompt "
                    "(RedirectServers,\n# KB 2480582); every other value under that key is "
                    "removed.\n$RedirectServers = @(");
  for (size_t i = 0; i < k->settings.n_redirect_servers; i++) {
    buf_appendf(b, "\n  '%s'", k->settings.redirect_servers[i]);
  }
  buf_append_str(b, k->settings.n_redirect_servers > 0 ? "\n)\n" : ")\n");
}

static void uninstall_data(const struct kit *k, struct buf *b) {
  ps1_header(k, b);
  buf_append_str(b, "# What to put back comes from the state file install.ps1 wrote.\n");
  buf_appendf(b, "$Kit = @{\n  Model = '%s'\n}\n", sim_model_name(k->model));
}

/* render_ps1 expands a template: the line "# @KIT_DATA@" becomes the kit's data block, the line
 * "# @KIT_COMMON@" the shared functions; the whole is written with CRLF line ends. */
static void render_ps1(const struct kit *k, const char *tpl, bool install, struct buf *out) {
  struct buf text;
  buf_init(&text, 1u << 20);
  for (const char *line = tpl; *line != 0;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl != NULL ? (size_t) (nl - line) + 1 : strlen(line);
    if (strncmp(line, "# @KIT_DATA@\n", len) == 0 && len == strlen("# @KIT_DATA@\n")) {
      (install ? install_data : uninstall_data)(k, &text);
    } else if (strncmp(line, "# @KIT_COMMON@\n", len) == 0 && len == strlen("# @KIT_COMMON@\n")) {
      buf_append_str(&text, (const char *) kit__tpl_common);
    } else {
      buf_append(&text, (struct slice){(const uint8_t *) line, len});
    }
    line += len;
  }
  crlf(out, buf_slice(&text));
  buf_cleanup(&text);
}

/* --- the .reg file ------------------------------------------------------------------------ */

static void reg_text(const struct kit *k, struct buf *b) {
  char key[160];
  buf_fmt(key, sizeof key,
          "HKEY_CURRENT_USER\\Software\\Microsoft\\Office\\%s\\Outlook\\AutoDiscover", k->version);
  buf_append_str(b, "Windows Registry Editor Version 5.00\n\n");
  buf_appendf(b,
              "; Written by `autodisco kit windows`: the Autodiscover registry state of the\n"
              "; client model %s (%s, Office %s).\n",
              sim_model_name(k->model), kit__product(k), k->version);
  if (k->scn != NULL) {
    buf_append_str(b, "; Scenario: ");
    ascii(b, k->scn->name);
    buf_append_str(b, "\n");
  }
  if (k->sets.len > 0) {
    buf_appendf(b, "; --set %s\n", buf_cstr(&k->sets));
  }
  buf_append_str(b,
                 "; Import it as the user who runs Outlook. It sets this state exactly, removing\n"
                 "; what differs, and cannot be undone: install.ps1 sets the same state and\n"
                 "; uninstall.ps1 puts back what was there before.\n");
  buf_append_str(b, "; Values: "
                    "KB 2212902, https://support.microsoft.com/en-us/help/2212902\n");
  buf_append_str(b, "; RedirectServers: " KB2480582 "\n");
  buf_append_str(b, "; The .reg format: " KB310516 "\n");
  buf_appendf(b, "\n[%s]\n", key);
  for (size_t i = 0; kit__dword(i) != NULL; i++) {
    if (kit__applies(k, kit__dword(i))) {
      buf_appendf(b, "\"%s\"=dword:%08x\n", kit__dword(i)->name,
                  kit__dword_on(k, kit__dword(i)) ? 1u : 0u);
    }
  }
  if (k->scn != NULL && k->local_xml != NULL) {
    buf_appendf(b,
                "; The local Autodiscover XML file, for a kit copied to " KIT_WINDOWS_DIR
                " (install.ps1 uses\n; the folder it runs from).\n"
                "\"%s\"=\"%s\\\\%s\"\n",
                k->scn->domain, "C:\\\\autodisco-kit", k->local_xml_name);
  } else if (k->scn != NULL) {
    buf_appendf(b, "; No local Autodiscover XML file for %s.\n\"%s\"=-\n", k->scn->domain,
                k->scn->domain);
  }
  /* Deleting the subkey first makes the list exactly the model's. */
  buf_appendf(b, "\n[-%s\\RedirectServers]\n", key);
  if (k->settings.n_redirect_servers > 0) {
    buf_appendf(b, "\n[%s\\RedirectServers]\n", key);
    for (size_t i = 0; i < k->settings.n_redirect_servers; i++) {
      buf_appendf(b, "\"%s\"=\"\"\n", k->settings.redirect_servers[i]);
    }
  }
  buf_append_str(b, "\n");
}

/* render_reg writes the .reg as regedit does: UTF-16LE with a byte order mark, CRLF. The text
 * is ASCII, so each byte becomes one UTF-16 code unit. */
static void render_reg(const struct kit *k, struct buf *out) {
  struct buf text;
  struct buf lines;
  buf_init(&text, 1u << 20);
  buf_init(&lines, 1u << 20);
  reg_text(k, &text);
  crlf(&lines, buf_slice(&text));
  buf_append(out, (struct slice){(const uint8_t *) "\xff\xfe", 2});
  for (size_t i = 0; i < lines.len; i++) {
    uint8_t unit[2] = {lines.ptr[i] < 0x80 ? lines.ptr[i] : '?', 0};
    buf_append(out, (struct slice){unit, 2});
  }
  buf_cleanup(&lines);
  buf_cleanup(&text);
}

/* --- README.txt ---------------------------------------------------------------------------- */

static const char *origin_note(enum kit_origin o) {
  switch (o) {
    case KIT_FROM_MODEL: return "";
    case KIT_FROM_SCENARIO: return " (scenario)";
    case KIT_FROM_SET: return " (--set)";
  }
  return "";
}

static void readme_header(const struct kit *k, struct buf *b) {
  buf_append_str(b, "autodisco lab kit for Windows\n=============================\n\n");
  buf_append_str(b, "A real Outlook in a Windows VM walks Autodiscover against an autodisco lab, "
                    "and the\nlab's journal shows each step it took and each prompt it showed. "
                    "docs/real-outlook.md\nin the autodisco repository is the whole "
                    "walk-through.\n\n");
  buf_appendf(b, "Client model    %s: %s\n", sim_model_name(k->model), kit__product(k));
  buf_appendf(b,
              "Registry key    HKEY_CURRENT_USER\\Software\\Microsoft\\Office\\%s\\Outlook\\"
              "AutoDiscover\n",
              k->version);
  if (k->scn != NULL) {
    buf_appendf(b, "Scenario        %s (%s)\n", k->scn->name, k->scn->path);
    buf_appendf(b, "E-mail address  %s\n", k->scn->email);
  } else {
    buf_append_str(b, "Scenario        none given (the model's registry state and --set only)\n");
  }
  if (k->dns[0] != 0) {
    buf_appendf(b, "Lab DNS         %s (install.ps1 points the VM's adapters at it)\n", k->dns);
  } else {
    buf_append_str(b, "Lab DNS         not set (kit written without --dns): install.ps1 leaves "
                      "DNS alone, so the\n                VM's DNS server must already be the "
                      "lab's\n");
  }
  buf_appendf(b, "Lab CA          %s, SHA-1 thumbprint %s\n", kit_file_name(k, KIT_CER),
              k->thumbprint);
  buf_appendf(b, "                %s\n", k->subject);
  if (k->sets.len > 0) {
    buf_appendf(b, "--set           %s\n", buf_cstr(&k->sets));
  }
}

static void readme_files(const struct kit *k, struct buf *b) {
  buf_append_str(b,
                 "\nFiles\n"
                 "  install.ps1            trusts the lab CA, points DNS at the lab, sets the "
                 "registry values\n"
                 "                         below, moves Outlook's cached Autodiscover answers "
                 "aside and flushes\n"
                 "                         the DNS cache; it saves what it changes first, in\n"
                 "                         autodisco-kit-state.json\n"
                 "  uninstall.ps1          puts all of that back from autodisco-kit-state.json\n");
  buf_appendf(b,
              "  %s\n"
              "                         the same registry state for regedit (no undo: prefer\n"
              "                         install.ps1)\n",
              kit_file_name(k, KIT_REG));
  buf_append_str(b, "  autodisco-lab-ca.cer   the lab CA (DER); autodisco-lab-ca.pem is the same "
                    "in PEM\n");
  if (k->local_xml != NULL) {
    buf_appendf(b, "  %-22s the scenario's local Autodiscover XML file\n", k->local_xml_name);
  }
  buf_append_str(b, "  ca-install-macos.sh    trusts the lab CA on a Mac; ca-uninstall-macos.sh "
                    "undoes it\n"
                    "  ca-install-linux.sh    trusts the lab CA on Debian, Ubuntu or Fedora;\n"
                    "                         ca-uninstall-linux.sh undoes it\n");
}

static void readme_values(const struct kit *k, struct buf *b) {
  buf_append_str(b, "\nRegistry values (REG_DWORD: 1 turns a method off, 0 or no value leaves it "
                    "on)\n");
  for (size_t i = 0; kit__dword(i) != NULL; i++) {
    const struct scn_setting *row = kit__dword(i);
    if (!kit__applies(k, row)) {
      buf_appendf(b, "  %-30s not written: Office %s does not read it\n", row->name, k->version);
      continue;
    }
    bool on = kit__dword_on(k, row);
    buf_appendf(b, "  %-30s %d", row->name, on ? 1 : 0);
    if (on) {
      buf_append_str(b, "  ");
      subst(b, k, row->meaning);
    }
    buf_appendf(b, "%s\n", origin_note(kit__origin(k, row)));
  }
  if (k->scn != NULL && k->local_xml != NULL) {
    buf_appendf(b, "  %-30s %s in the kit folder (scenario)\n", k->scn->domain, k->local_xml_name);
  } else if (k->scn != NULL) {
    buf_appendf(b, "  %-30s removed: no local Autodiscover XML file (REG_SZ)\n", k->scn->domain);
  }
  buf_appendf(b, "  %-30s ", "RedirectServers (subkey)");
  if (k->settings.n_redirect_servers == 0) {
    buf_append_str(b, "empty: every redirect to another host asks the user");
  }
  for (size_t i = 0; i < k->settings.n_redirect_servers; i++) {
    buf_appendf(b, "%s%s", i > 0 ? ", " : "", k->settings.redirect_servers[i]);
  }
  buf_appendf(b, "%s\n", origin_note(kit__origin(k, scn_setting_named("RedirectServers"))));
  buf_append_str(b, "Each value is written even when it is 0, so that one left by earlier tests "
                    "or a\nprofile tool cannot change the walk. Group Policy values (under\n"
                    "HKEY_CURRENT_USER\\Software\\Policies\\...) win over these: install.ps1 warns "
                    "about them.\n");
}

static void readme_machine(const struct kit *k, struct buf *b) {
  const struct scn_client *c = &k->settings;
  buf_append_str(b, "\nWhat the model assumes about the machine and the user\n");
  buf_appendf(b, "  domain-joined            %s\n",
              c->domain_joined ? "yes: the SCP lookup in Active Directory runs"
                               : "no: keep the VM out of any domain");
  buf_appendf(b, "  mailbox                  %s\n",
              c->mailbox_in_exchange_online
                  ? "in Exchange Online (Office 365 Direct Connect finds it)"
                  : "not in Exchange Online");
  buf_appendf(b, "  cached URL in profile    %s\n",
              c->last_known_good_url != NULL ? c->last_known_good_url
                                             : "none: use a new Outlook profile");
  buf_appendf(b, "  certificate prompt       the user answers %s\n",
              c->answer_no_to_certificate_prompts ? "No" : "Yes");
  buf_appendf(b, "  redirect prompt          the user answers %s\n",
              c->answer_no_to_redirect_prompts ? "No" : "Yes");
  buf_appendf(b, "  credentials prompt       the user %s\n",
              c->answer_no_to_credentials_prompts ? "clicks Cancel" : "types the password");
  if (c->restart_cache != NULL) {
    buf_append_str(b,
                   "  restart case             Outlook reads its cached answer while it restarts "
                   "after\n                           adding the account (KB 3211279 step 1)\n");
  }
  if (k->scn != NULL && !k->scenario_lists_model) {
    buf_appendf(b, "  (the scenario has no clients: entry for %s: the model's defaults)\n",
                sim_model_name(k->model));
  }
}

static void readme_expect(const struct kit *k, struct buf *b) {
  const struct scn_expect *e =
      k->scn != NULL ? lab_expect_for(k->scn, sim_model_name(k->model)) : NULL;
  if (e == NULL) {
    return;
  }
  buf_appendf(b, "\nWhat the scenario expects of %s\n", sim_model_name(k->model));
  if (e->has_prompts) {
    buf_append_str(b, "  prompts    ");
    if (e->n_prompts == 0) {
      buf_append_str(b, "none");
    }
    for (size_t i = 0; i < e->n_prompts; i++) {
      const struct scn_prompt_expect *p = &e->prompts[i];
      buf_appendf(b, "%s%s %s", i > 0 ? ", " : "", p->kind, p->host != NULL ? p->host : "(any)");
      if (p->reason != NULL) {
        buf_appendf(b, " (%s)", p->reason);
      }
    }
    buf_append_str(b, "\n");
  }
  if (e->outcome != NULL) {
    buf_appendf(b, "  outcome    %s\n", e->outcome);
  }
  if (e->final_url != NULL) {
    buf_appendf(b, "  final URL  %s\n", e->final_url);
  }
  if (e->ews_url != NULL) {
    buf_appendf(b, "  EWS URL    %s\n", e->ews_url);
  }
  if (k->sets.len > 0) {
    buf_append_str(b, "  (written for the scenario's own settings; --set changed some above)\n");
  }
}

/* readme_steps: the serve command is the one docs/commands.md describes for a VM — the hosts
 * on the lab's IPv4 address (--listen takes no IPv6), its DNS on port 53 there, and --user
 * $USER so that serve, started with sudo, runs as the user who typed it once its ports are
 * bound (the HAR is then theirs). */
static void readme_steps(const struct kit *k, struct buf *b) {
  const char *scenario = k->scn != NULL ? k->scn->path : "SCENARIO";
  const char *ip = k->dns[0] != 0 ? k->dns : "LAB-IP";
  bool v6 = strchr(ip, ':') != NULL;
  buf_append_str(b, "\nSteps\n");
  buf_append_str(b, " 1. On the lab machine, serve the scenario on its address in the VM's "
                    "host-only or\n"
                    "    internal network, with the lab CA of this kit (as root without "
                    "--ca-dir, serve\n"
                    "    would use root's own CA); root binds ports 53, 80 and 443, then "
                    "serve runs as\n"
                    "    --user (here you, so that lab.har is yours):\n"
                    "      sudo autodisco --ca-dir ");
  shell_word(b, k->ca_dir);
  buf_append_str(b, " serve \\\n           ");
  shell_word(b, scenario);
  buf_appendf(b,
              " \\\n"
              "           --listen %s --dns %s%s%s:53 --user $USER \\\n"
              "           --journal lab.jsonl --har lab.har\n",
              v6 ? "LAB-IPV4" : ip, v6 ? "[" : "", ip, v6 ? "]" : "");
  if (v6) {
    buf_appendf(b,
                "    LAB-IPV4: the lab machine's IPv4 address on that network. serve puts the "
                "hosts on\n"
                "    IPv4 addresses only (the DNS answers A records); its DNS may listen on "
                "%s.\n",
                ip);
  }
  buf_append_str(b, " 2. Copy this folder to the VM, to " KIT_WINDOWS_DIR
                    " (a local disk: install.ps1 writes its\n"
                    "    state file next to itself). Keep the VM's clock right: the lab's "
                    "certificates are\n"
                    "    valid, expired or not yet valid relative to the lab machine's clock.\n"
                    " 3. Close Outlook. Start Windows PowerShell as administrator, as the user who "
                    "runs\n"
                    "    Outlook (or add -User DOMAIN\\name for that user, who must be logged on), "
                    "and run:\n"
                    "      cd " KIT_WINDOWS_DIR "\n"
                    "      powershell.exe -ExecutionPolicy Bypass -File .\\install.ps1\n");
  buf_appendf(b, " 4. Start Outlook and add the account %s (File > Add Account, or a new\n",
              k->scn != NULL ? k->scn->email : "of the scenario");
  buf_append_str(b, "    profile in Control Panel > Mail). Or, with Outlook running, hold Ctrl, "
                    "right-click\n"
                    "    the Outlook icon in the notification area, choose Test E-mail "
                    "AutoConfiguration,\n"
                    "    enter the address and a password, clear Use Guessmart and Secure "
                    "Guessmart\n"
                    "    Authentication, and click Test: its Log tab lists each URL tried. Answer "
                    "each\n"
                    "    prompt as the model's user does (above).\n"
                    " 5. Stop the lab (Ctrl+C) and read what the client did:\n"
                    "      autodisco report lab.jsonl\n"
                    "      autodisco report lab.jsonl --format html > lab.html\n");
  buf_append_str(b, "      autodisco check ");
  shell_word(b, scenario);
  buf_appendf(b, " \\\n           --journal lab.jsonl --client %s\n", sim_model_name(k->model));
  buf_append_str(b, "    lab.har opens in a browser's developer tools (Network, import HAR).\n"
                    " 6. Close Outlook and undo everything, as in step 3:\n"
                    "      powershell.exe -ExecutionPolicy Bypass -File .\\uninstall.ps1\n");
}

static void readme_tail(const struct kit *k, struct buf *b) {
  buf_append_str(b,
                 "\nThe lab CA on macOS and Linux (curl, a browser, Outlook for Mac)\n"
                 "  sh ca-install-macos.sh      security add-trusted-cert, System keychain "
                 "(sudo)\n"
                 "  sh ca-uninstall-macos.sh    security remove-trusted-cert, delete-certificate\n"
                 "  sh ca-install-linux.sh      update-ca-certificates (Debian, Ubuntu) or\n"
                 "                              update-ca-trust (Fedora, RHEL) (sudo)\n"
                 "  sh ca-uninstall-linux.sh    removes it the same way\n"
                 "  Firefox, and Chromium on Linux, keep their own certificate stores: import\n"
                 "  autodisco-lab-ca.pem there. The lab CA may sign only the lab's domains (name\n"
                 "  constraints), so trusting it lets it vouch for no other site.\n");
  buf_append_str(b, "\nSources\n"
                    "  Registry values: KB 2212902, "
                    "https://support.microsoft.com/en-us/help/2212902\n"
                    "  Outlook 2016 and later: KB 3211279, https://support.microsoft.com/en-us/"
                    "topic/\n"
                    "    outlook-2016-implementation-of-autodiscover-0d7b2709-958a-7249-1c87-"
                    "434d257b9087\n"
                    "  RedirectServers: " KB2480582 "\n"
                    "  .reg files: " KB310516 "\n");
  (void) k;
}

static void render_readme(const struct kit *k, struct buf *out) {
  struct buf text;
  buf_init(&text, 1u << 20);
  readme_header(k, &text);
  readme_files(k, &text);
  readme_values(k, &text);
  readme_machine(k, &text);
  readme_expect(k, &text);
  readme_steps(k, &text);
  readme_tail(k, &text);
  crlf(out, buf_slice(&text));
  buf_cleanup(&text);
}

/* --- the CA scripts for macOS and Linux --------------------------------------------------- */

static const char sh_prologue[] = "set -eu\n"
                                  "here=$(CDPATH='' cd -- \"$(dirname -- \"$0\")\" && pwd)\n"
                                  "as_root() {\n"
                                  "  if [ \"$(id -u)\" -eq 0 ]; then\n"
                                  "    \"$@\"\n"
                                  "  else\n"
                                  "    sudo \"$@\"\n"
                                  "  fi\n"
                                  "}\n";

static void render_sh(const struct kit *k, enum kit_file f, struct buf *b) {
  const char *what = f == KIT_CA_INSTALL_MACOS     ? "Trusts the autodisco lab CA on this Mac "
                                                     "(System keychain, a root for SSL)"
                     : f == KIT_CA_UNINSTALL_MACOS ? "Removes the autodisco lab CA from this Mac's "
                                                     "System keychain"
                     : f == KIT_CA_INSTALL_LINUX
                         ? "Trusts the autodisco lab CA system-wide: Debian and Ubuntu\n# "
                           "(update-ca-certificates) or Fedora and RHEL (update-ca-trust)"
                         : "Removes the autodisco lab CA from the system trust store (Debian, "
                           "Ubuntu,\n# Fedora, RHEL)";
  buf_appendf(b, "#!/bin/sh\n# %s.\n", what);
  buf_appendf(b, "# Written by `autodisco kit windows` for the lab CA %s.\n", k->thumbprint);
  buf_append_str(b, "# The lab CA may sign only the lab's domains (name constraints).\n");
  buf_append_str(b, sh_prologue);
  buf_appendf(b, "thumbprint=%s\n", k->thumbprint);
  switch (f) {
    case KIT_CA_INSTALL_MACOS:
      buf_append_str(b, "as_root security add-trusted-cert -d -r trustRoot \\\n"
                        "  -k /Library/Keychains/System.keychain \"$here/autodisco-lab-ca.cer\"\n"
                        "echo \"ca-install-macos: the lab CA $thumbprint is trusted (System "
                        "keychain)\"\n");
      break;
    case KIT_CA_UNINSTALL_MACOS:
      buf_append_str(
          b, "keychain=/Library/Keychains/System.keychain\n"
             "if security find-certificate -a -Z \"$keychain\" | grep -q \"SHA-1 hash: "
             "$thumbprint\"; then\n"
             "  # The trust setting first (there may be none left), then the certificate.\n"
             "  as_root security remove-trusted-cert -d \"$here/autodisco-lab-ca.cer\" || true\n"
             "  as_root security delete-certificate -Z \"$thumbprint\" \"$keychain\"\n"
             "  echo \"ca-uninstall-macos: removed the lab CA $thumbprint\"\n"
             "else\n"
             "  echo \"ca-uninstall-macos: the lab CA $thumbprint is not in $keychain\"\n"
             "fi\n");
      break;
    case KIT_CA_INSTALL_LINUX:
      buf_append_str(
          b, "if command -v update-ca-certificates >/dev/null 2>&1 &&\n"
             "  [ -d /usr/local/share/ca-certificates ]; then\n"
             "  as_root install -m 0644 \"$here/autodisco-lab-ca.pem\" \\\n"
             "    /usr/local/share/ca-certificates/autodisco-lab-ca.crt\n"
             "  as_root update-ca-certificates\n"
             "elif command -v update-ca-trust >/dev/null 2>&1; then\n"
             "  as_root install -m 0644 \"$here/autodisco-lab-ca.pem\" \\\n"
             "    /etc/pki/ca-trust/source/anchors/autodisco-lab-ca.pem\n"
             "  as_root update-ca-trust extract\n"
             "else\n"
             "  echo \"ca-install-linux: neither update-ca-certificates (Debian, Ubuntu) nor\" "
             "\\\n"
             "    \"update-ca-trust (Fedora, RHEL) is installed\" >&2\n"
             "  exit 1\n"
             "fi\n"
             "echo \"ca-install-linux: the lab CA $thumbprint is trusted system-wide\"\n");
      break;
    default:
      buf_append_str(
          b, "removed=no\n"
             "if [ -f /usr/local/share/ca-certificates/autodisco-lab-ca.crt ]; then\n"
             "  as_root rm -f /usr/local/share/ca-certificates/autodisco-lab-ca.crt\n"
             "  as_root update-ca-certificates --fresh\n"
             "  removed=yes\n"
             "fi\n"
             "if [ -f /etc/pki/ca-trust/source/anchors/autodisco-lab-ca.pem ]; then\n"
             "  as_root rm -f /etc/pki/ca-trust/source/anchors/autodisco-lab-ca.pem\n"
             "  as_root update-ca-trust extract\n"
             "  removed=yes\n"
             "fi\n"
             "if [ \"$removed\" = yes ]; then\n"
             "  echo \"ca-uninstall-linux: removed the lab CA $thumbprint\"\n"
             "else\n"
             "  echo \"ca-uninstall-linux: the lab CA is not in the system trust store ($here\" "
             "\\\n"
             "    \"has the kit it came from)\"\n"
             "fi\n");
      break;
  }
}

/* --- one file ----------------------------------------------------------------------------- */

static enum kit_status copy_local_xml(struct kit *k, struct buf *out) {
  FILE *f = fopen(k->local_xml, "rb");
  if (f == NULL) {
    return kit__fail(k, KIT_EIO, "%s: %s", k->local_xml, strerror(errno));
  }
  uint8_t chunk[8192];
  size_t n;
  bool ok = true;
  while (ok && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    ok = buf_append(out, (struct slice){chunk, n});
  }
  ok = ok && !ferror(f);
  fclose(f);
  return ok ? KIT_OK
            : kit__fail(k, KIT_EIO, "%s: cannot read it (or it is too large)", k->local_xml);
}

enum kit_status kit_render(struct kit *k, enum kit_file f, struct buf *out) {
  if (k->der == NULL && f != KIT_LOCAL_XML) {
    return kit__fail(k, KIT_EINPUT, "the kit has no lab CA yet (kit_set_ca)");
  }
  size_t before = out->len;
  switch (f) {
    case KIT_CER: buf_append(out, (struct slice){k->der, k->der_len}); break;
    case KIT_PEM: buf_append_str(out, k->pem); break;
    case KIT_INSTALL_PS1: render_ps1(k, (const char *) kit__tpl_install, true, out); break;
    case KIT_UNINSTALL_PS1: render_ps1(k, (const char *) kit__tpl_uninstall, false, out); break;
    case KIT_REG: render_reg(k, out); break;
    case KIT_README: render_readme(k, out); break;
    case KIT_CA_INSTALL_MACOS:
    case KIT_CA_UNINSTALL_MACOS:
    case KIT_CA_INSTALL_LINUX:
    case KIT_CA_UNINSTALL_LINUX: render_sh(k, f, out); break;
    case KIT_LOCAL_XML:
      if (k->local_xml == NULL) {
        return kit__fail(k, KIT_EINPUT, "the kit has no local XML file");
      }
      return copy_local_xml(k, out);
    case KIT_N_FILES: return kit__fail(k, KIT_EINPUT, "no such kit file");
  }
  if (out->len == before) {
    return kit__fail(k, KIT_EINPUT, "%s: the output buffer is full", kit_file_name(k, f));
  }
  return KIT_OK;
}
