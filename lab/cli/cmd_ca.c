/* lab/cli/cmd_ca.c: `autodisco ca` — create, describe and export the lab CA. */
#include "common/buf.h"
#include "lab/cli/cli.h"

#include <stdlib.h>
#include <string.h>

static const char ca_usage[] =
    "usage: autodisco [--ca-dir DIR] ca init [--permit DOMAIN]...\n"
    "       autodisco [--ca-dir DIR] ca show\n"
    "       autodisco [--ca-dir DIR] ca export --pem|--der PATH\n"
    "       autodisco ca profiles\n"
    "\n"
    "The lab CA signs every simulated host's certificate. It is created on first use, per\n"
    "user, with a private key only you can read, and may sign only the lab's domains (name\n"
    "constraints). `init` re-creates it, permitting extra domains: a re-created CA must be\n"
    "imported again wherever the old one was trusted (docs/certificates.md).\n"
    "\n"
    "  init      create a new CA (replacing the old one), permitting the default lab domains\n"
    "            and each --permit DOMAIN\n"
    "  show      subject, validity, permitted domains, fingerprint and files\n"
    "  export    write the CA certificate as PEM or DER, for a trust store\n"
    "  profiles  the certificate profiles scenarios can ask for\n";

static bool ca_dir_of(const struct cli *c, char *dir, size_t dir_size) {
  if (c->ca_dir != NULL) {
    return buf_fmt(dir, dir_size, "%s", c->ca_dir);
  }
  if (!ca_default_dir(dir, dir_size)) {
    cli_error("cannot find a directory for the lab CA: set AUTODISCO_CA_DIR or use --ca-dir");
    return false;
  }
  return true;
}

static int ca_failed(struct ca *ca, enum ca_status st, const char *what) {
  cli_error("%s: %s%s%s", what, ca_strerror(st), ca != NULL ? ": " : "",
            ca != NULL ? ca_detail(ca) : "");
  ca_free(ca);
  return EXIT_FAILS;
}

static int ca_cmd_init(const struct cli *c, int argc, char **argv) {
  const char **permit = xcalloc((size_t) argc, sizeof *permit);
  size_t n_permit = 0;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--permit") == 0 && i + 1 < argc) {
      permit[n_permit++] = str_lower(argv[++i]);
    } else {
      cli_error("ca init: unexpected %s\n%s", argv[i], ca_usage);
      free(permit);
      return EXIT_BAD_INPUT;
    }
  }
  char dir[4096];
  if (!ca_dir_of(c, dir, sizeof dir)) {
    free(permit);
    return EXIT_BAD_INPUT;
  }
  struct ca *ca = NULL;
  enum ca_status st = ca_create(&ca, dir, permit, n_permit);
  free(permit);
  if (st != CA_OK) {
    return ca_failed(ca, st, "ca init");
  }
  ca_describe(ca, stdout);
  cli_note(c, "autodisco: a new CA: import it again wherever the old one was trusted");
  ca_free(ca);
  return EXIT_HOLDS;
}

static int ca_cmd_open(const struct cli *c, struct ca **out) {
  char dir[4096];
  if (!ca_dir_of(c, dir, sizeof dir)) {
    return EXIT_BAD_INPUT;
  }
  enum ca_status st = ca_open(out, dir, true);
  if (st != CA_OK) {
    int rc = ca_failed(*out, st, dir);
    *out = NULL;
    return rc;
  }
  return EXIT_HOLDS;
}

static int ca_cmd_export(const struct cli *c, int argc, char **argv) {
  bool der = false;
  const char *path = NULL;
  bool format_given = false;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--pem") == 0 || strcmp(argv[i], "--der") == 0) {
      der = strcmp(argv[i], "--der") == 0;
      format_given = true;
    } else if (path == NULL && argv[i][0] != '-') {
      path = argv[i];
    } else {
      cli_error("ca export: unexpected %s\n%s", argv[i], ca_usage);
      return EXIT_BAD_INPUT;
    }
  }
  if (!format_given || path == NULL) {
    cli_error("ca export needs --pem or --der and a PATH\n%s", ca_usage);
    return EXIT_BAD_INPUT;
  }
  struct ca *ca = NULL;
  int rc = ca_cmd_open(c, &ca);
  if (rc != EXIT_HOLDS) {
    return rc;
  }
  enum ca_status st = ca_export(ca, path, der);
  if (st != CA_OK) {
    return ca_failed(ca, st, path);
  }
  cli_note(c, "autodisco: wrote the lab CA certificate to %s (%s)", path, der ? "DER" : "PEM");
  ca_free(ca);
  return EXIT_HOLDS;
}

static int ca_cmd_profiles(void) {
  for (size_t i = 0; ca_profile_at(i) != NULL; i++) {
    const struct ca_profile *p = ca_profile_at(i);
    printf("%-17s %s; like %s\n", ca_profile_name(p), ca_profile_summary(p),
           ca_profile_badssl(p)); /* one line a profile: grep and sort work on it */
  }
  return EXIT_HOLDS;
}

int cmd_ca(struct cli *c, int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(ca_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_BAD_INPUT : EXIT_HOLDS;
  }
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0) {
      fputs(ca_usage, stdout);
      return EXIT_HOLDS;
    }
  }
  if (strcmp(argv[1], "init") == 0) {
    return ca_cmd_init(c, argc, argv);
  }
  if (strcmp(argv[1], "show") == 0) {
    struct ca *ca = NULL;
    int rc = ca_cmd_open(c, &ca);
    if (rc == EXIT_HOLDS) {
      ca_describe(ca, stdout);
      ca_free(ca);
    }
    return rc;
  }
  if (strcmp(argv[1], "export") == 0) {
    return ca_cmd_export(c, argc, argv);
  }
  if (strcmp(argv[1], "profiles") == 0) {
    return ca_cmd_profiles();
  }
  cli_error("ca: unknown subcommand \"%s\"\n%s", argv[1], ca_usage);
  return EXIT_BAD_INPUT;
}
