/* lab/cli/cmd_kit.c: `autodisco kit windows` — the files that point a real Outlook in a Windows
 * VM at the lab (lab/kit.h). */
#include "lab/cli/cli.h"
#include "lab/kit.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char kit_usage[] =
    "usage: autodisco kit windows OUTDIR [--dns IP] [--client MODEL] [--scenario SCENARIO]\n"
    "                                    [--set NAME=VALUE]... [--client-file FILE]\n"
    "\n"
    "Writes the Windows lab kit into OUTDIR: the lab CA (.cer, .pem), install.ps1 (trusts the\n"
    "CA, points the VM's DNS at the lab, sets Outlook's Autodiscover registry values to the\n"
    "model's, clears Outlook's Autodiscover cache and the DNS cache, saving what it changes),\n"
    "uninstall.ps1 (puts it all back), a .reg file of the registry state, README.txt with the\n"
    "steps, and the CA install/uninstall scripts for macOS and Linux (docs/real-outlook.md).\n"
    "\n"
    "  --dns IP            the lab's address on the VM network; install.ps1 points every\n"
    "                      adapter that is up at it (default: DNS is left alone)\n"
    "  --client MODEL      outlook-2007 (Office 12.0), outlook-2010 (14.0), outlook-2013 (15.0),\n"
    "                      outlook-2016-msi, outlook-2016-c2r, outlook-m365 (16.0); default:\n"
    "                      the scenario's first of these, else outlook-2016-msi\n"
    "  --scenario FILE     take the domain, the address, the expectations and the clients:\n"
    "                      settings for MODEL from this scenario\n"
    "  --set NAME=VALUE    a registry value as the registry names it, overriding the model and\n"
    "                      the scenario: ExcludeHttpsRootDomain=1, RedirectServers=a.net,b.net\n"
    "                      (repeatable)\n"
    "  --client-file FILE  a model of your own (docs/clients.md) with `office:` or a Windows\n"
    "                      Outlook as `base:`; the kit is for it unless --client names another\n"
    "\n"
    "Exit status: 0 written, 1 a file could not be written, 2 bad input.\n";

/* default_model picks the user's own model (--client-file), else the scenario's first Windows
 * Outlook, else the founding story's. */
static const char *default_model(const struct scn *s, const struct cli_walk *w) {
  if (w->n_models > 0) {
    return sim_model_name(w->models[0]);
  }
  for (size_t i = 0; s != NULL && i < s->n_clients; i++) {
    if (kit_knows_model(s->clients[i].model, NULL, 0)) {
      return s->clients[i].model;
    }
  }
  return "outlook-2016-msi";
}

static int kit_windows(const struct cli *c, int argc, char **argv) {
  static const struct option opts[] = {
      {"dns", required_argument, NULL, 'd'},
      {"client", required_argument, NULL, 'c'},
      {"scenario", required_argument, NULL, 's'},
      {"set", required_argument, NULL, 'S'},
      {"client-file", required_argument, NULL, 'F'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char **sets = xcalloc((size_t) argc, sizeof *sets);
  size_t n_sets = 0;
  const char *dns = NULL;
  const char *model = NULL;
  const char *scenario = NULL;
  struct cli_walk walk = {0}; /* only its --client-file models */
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "d:c:s:S:F:h", opts, NULL)) != -1) {
    switch (opt) {
      case 'd': dns = optarg; break;
      case 'c': model = optarg; break;
      case 's': scenario = optarg; break;
      case 'S': sets[n_sets++] = optarg; break;
      case 'F':
        if (walk.n_models > 0) {
          cli_error("kit windows: one --client-file: the kit is for one model");
          free(sets);
          cli_walk_cleanup(&walk);
          return EXIT_BAD_INPUT;
        }
        if (!cli_client_file(&walk, optarg)) {
          free(sets);
          cli_walk_cleanup(&walk);
          return EXIT_BAD_INPUT;
        }
        break;
      case 'h':
        fputs(kit_usage, stdout);
        free(sets);
        cli_walk_cleanup(&walk);
        return EXIT_HOLDS;
      default:
        fputs(kit_usage, stderr);
        free(sets);
        cli_walk_cleanup(&walk);
        return EXIT_BAD_INPUT;
    }
  }
  if (optind + 1 != argc) {
    cli_error("kit windows takes one OUTDIR\n%s", kit_usage);
    free(sets);
    cli_walk_cleanup(&walk);
    return EXIT_BAD_INPUT;
  }
  const char *outdir = argv[optind];
  int rc = EXIT_BAD_INPUT;
  struct scn *s = NULL;
  struct kit *k = NULL;
  struct ca *ca = NULL;
  char err[1024];
  if (scenario != NULL && scn_load(&s, scenario, err, sizeof err) != SCN_OK) {
    cli_error("%s", err);
    goto out;
  }
  if (model == NULL) {
    model = default_model(s, &walk);
  }
  enum kit_status st =
      kit_new(&k, model, (const struct sim_model *const *) walk.models, walk.n_models);
  if (st == KIT_OK && s != NULL) {
    st = kit_use_scenario(k, s);
  }
  for (size_t i = 0; i < n_sets && st == KIT_OK; i++) {
    st = kit_set(k, sets[i]);
  }
  if (st == KIT_OK && dns != NULL) {
    st = kit_set_dns(k, dns);
  }
  if (st != KIT_OK) {
    cli_error("kit windows: %s", kit_detail(k));
    goto out;
  }
  if (dns != NULL && (strncmp(dns, "127.", 4) == 0 || strcmp(dns, "::1") == 0)) {
    cli_note(c,
             "autodisco: --dns %s is a loopback address: a VM cannot reach the lab there "
             "(serve the lab with --listen on the VM network's address)",
             dns);
  }
  ca = cli_open_ca(c);
  if (ca == NULL) {
    rc = EXIT_FAILS;
    goto out;
  }
  st = kit_set_ca(k, ca);
  if (st == KIT_OK) {
    st = kit_write(k, outdir);
  }
  if (st != KIT_OK) {
    cli_error("kit windows: %s", kit_detail(k));
    rc = st == KIT_EINPUT ? EXIT_BAD_INPUT : EXIT_FAILS;
    goto out;
  }
  cli_note(c,
           "autodisco: wrote the Windows lab kit for %s to %s: copy it to the VM and run "
           "install.ps1 as administrator (%s/README.txt)",
           model, outdir, outdir);
  rc = EXIT_HOLDS;
out:
  ca_free(ca);
  kit_free(k);
  scn_free(s);
  free(sets);
  cli_walk_cleanup(&walk); /* after the kit, which borrows the models */
  return rc;
}

int cmd_kit(struct cli *c, int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(kit_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_BAD_INPUT : EXIT_HOLDS;
  }
  if (strcmp(argv[1], "windows") == 0) {
    return kit_windows(c, argc - 1, argv + 1);
  }
  cli_error("kit: unknown target \"%s\" (windows)\n%s", argv[1], kit_usage);
  return EXIT_BAD_INPUT;
}
