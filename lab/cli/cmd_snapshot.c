/* lab/cli/cmd_snapshot.c: `autodisco snapshot DOMAIN -o FILE` — what a real domain serves for
 * Autodiscover today, written as a scenario that reproduces it (lab/snapshot.h does the work;
 * this is arguments, progress and the file). The file is loaded back before the command says
 * it is done: a snapshot that would not load is a bug, not a file. */
#include "certs/ca.h"
#include "common/addr.h"
#include "lab/cli/cli.h"
#include "lab/snapshot.h"
#include "scenario/scn.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char snapshot_usage[] =
    "usage: autodisco snapshot DOMAIN -o FILE.yaml [--email ADDR] [--dns ADDR:PORT]\n"
    "                          [--trust FILE|system] [--timeout MS]\n"
    "\n"
    "Asks what Autodiscover touches for DOMAIN — the A/AAAA/CNAME of DOMAIN and autodiscover.\n"
    "DOMAIN, the _autodiscover._tcp SRV set and its targets, MX for context — connects to each\n"
    "endpoint on 443 (POST of the POX request for the address) and 80 (the GET of the redirect\n"
    "probe), follows what the answers point at, and writes a commented scenario that reproduces\n"
    "it: each certificate as a lab profile with its real names and dates, each answer a route,\n"
    "a refused port no listener, a silent one a blackhole. No credential is ever sent.\n"
    "Exit status: 0 written, 1 the file could not be written, 2 bad input.\n"
    "\n"
    "  -o, --out FILE      the scenario to write (\"-\": standard output)\n"
    "  --email ADDR        the address asked for (default user@DOMAIN)\n"
    "  --dns ADDR:PORT     the DNS server to ask (default: the system's resolver)\n"
    "  --trust FILE|system the trust store chains are verified against (default: system)\n"
    "  --timeout MS        for each of DNS, connect, TLS and the answer (default 10000)\n";

/* System trust stores, Debian's first (as OpenSSL and curl find them). */

static void progress(void *arg, const char *what) {
  cli_note(arg, "snapshot: %s", what);
}

/* permits_note says which certificate names the lab CA does not permit (run would refuse to
 * mint them), when a CA exists already. */
static void permits_note(const struct cli *c, const struct scn *s) {
  char dir[4096];
  if (c->ca_dir != NULL) {
    buf_fmt(dir, sizeof dir, "%s", c->ca_dir);
  } else if (!ca_default_dir(dir, sizeof dir)) {
    return;
  }
  struct ca *ca = NULL;
  if (ca_open(&ca, dir, false) != CA_OK) {
    ca_free(ca);
    return;
  }
  struct buf out;
  buf_init(&out, 4096);
  for (size_t i = 0; i < s->n_hosts; i++) {
    const struct scn_cert *cert = &s->hosts[i].https.cert;
    for (size_t k = 0; k < cert->n_names; k++) {
      const char *name = cert->names[k];
      const char *check = strncmp(name, "*.", 2) == 0 ? name + 2 : name;
      if (!ca_permits(ca, check) && strstr(buf_cstr(&out), check) == NULL) {
        buf_appendf(&out, "%s%s", out.len > 0 ? ", " : "", check);
      }
    }
  }
  if (out.len > 0) {
    cli_note(c,
             "autodisco: the lab CA does not permit %s; before `autodisco run`, recreate it "
             "with `autodisco ca init --permit DOMAIN` for each domain (docs/certificates.md)",
             buf_cstr(&out));
  }
  buf_cleanup(&out);
  ca_free(ca);
}

static bool write_file(const char *path, const struct buf *text) {
  FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
  if (f == NULL) {
    cli_error("%s: %s", path, strerror(errno));
    return false;
  }
  bool ok = fwrite(text->ptr, 1, text->len, f) == text->len;
  ok = (f == stdout ? fflush(f) == 0 : fclose(f) == 0) && ok;
  if (!ok) {
    cli_error("%s: could not be written", path);
  }
  return ok;
}

int cmd_snapshot(struct cli *c, int argc, char **argv) {
  static const struct option opts[] = {
      {"out", required_argument, NULL, 'o'},
      {"email", required_argument, NULL, 'e'},
      {"dns", required_argument, NULL, 'd'},
      {"trust", required_argument, NULL, 't'},
      {"timeout", required_argument, NULL, 'T'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  struct lab_snapshot_options so = {.progress = progress, .progress_arg = c};
  const char *out_path = NULL;
  const char *trust = "system";
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
    switch (opt) {
      case 'o': out_path = optarg; break;
      case 'e': so.email = optarg; break;
      case 'd':
        if (!addr_parse(optarg, 53, &so.dns) || addr_port((struct sockaddr *) &so.dns) == 0) {
          cli_error("--dns %s: expected ADDR:PORT (an IPv4 or [IPv6] address)", optarg);
          return EXIT_BAD_INPUT;
        }
        break;
      case 't': trust = optarg; break;
      case 'T': {
        uint32_t ms = 0;
        if (!parse_u32(optarg, 1, 600000, &ms)) {
          cli_error("--timeout %s: expected milliseconds (1..600000)", optarg);
          return EXIT_BAD_INPUT;
        }
        so.timeout_ms = ms;
        break;
      }
      case 'h': fputs(snapshot_usage, stdout); return EXIT_HOLDS;
      default: fputs(snapshot_usage, stderr); return EXIT_BAD_INPUT;
    }
  }
  if (optind + 1 != argc || out_path == NULL) {
    cli_error("snapshot takes one DOMAIN and -o FILE\n%s", snapshot_usage);
    return EXIT_BAD_INPUT;
  }
  if (strcmp(trust, "system") == 0) {
    so.trust_pem = ca_trust_system_path();
    if (so.trust_pem == NULL) {
      cli_error("--trust system: no system trust store found (/etc/ssl/certs/ca-certificates.crt, "
                "...); give --trust FILE");
      return EXIT_BAD_INPUT;
    }
  } else if (access(trust, R_OK) != 0) {
    cli_error("--trust %s: %s", trust, strerror(errno));
    return EXIT_BAD_INPUT;
  } else {
    so.trust_pem = trust;
  }
  char *domain = str_lower(str_dup(argv[optind]));
  size_t len = strlen(domain);
  if (len > 1 && domain[len - 1] == '.') {
    domain[len - 1] = 0;
  }
  so.domain = domain;
  int rc = EXIT_BAD_INPUT;
  char err[1024];
  struct lab_snapshot *snap = NULL;
  struct scn *s = NULL;
  struct buf text;
  buf_init(&text, 8 << 20);
  if (lab_snapshot_collect(&so, &snap, err, sizeof err) != 0) {
    cli_error("%s", err);
    goto out;
  }
  rc = EXIT_FAILS;
  if (!lab_snapshot_write(snap, &text)) {
    cli_error("the snapshot of %s is larger than %zu bytes", domain, text.max);
    goto out;
  }
  const char *name = strcmp(out_path, "-") == 0 ? "snapshot.yaml" : out_path;
  bool loads = scn_load_string(&s, name, buf_cstr(&text), text.len, err, sizeof err) == SCN_OK;
  if (!write_file(out_path, &text)) {
    goto out;
  }
  if (!loads) { /* written all the same: it is what to attach to the report */
    cli_error("internal: the snapshot written to %s does not load, please report it: %s", name,
              err);
    goto out;
  }
  permits_note(c, s);
  cli_note(c, "autodisco: wrote %s (%zu host%s); next: autodisco run %s", name, s->n_hosts,
           s->n_hosts == 1 ? "" : "s", name);
  rc = EXIT_HOLDS;
out:
  scn_free(s);
  buf_cleanup(&text);
  lab_snapshot_free(snap);
  free(domain);
  return rc;
}
