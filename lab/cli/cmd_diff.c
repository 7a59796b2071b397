/* lab/cli/cmd_diff.c: `autodisco diff BEFORE AFTER` — its arguments and the clients both
 * scenarios run with; the lab runs them and says for each client what a user sees change
 * (lab_diff_report). */
#include "lab/cli/cli.h"
#include "lab/lab.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char diff_usage[] =
    "usage: autodisco diff BEFORE AFTER [--client NAME]... [--format text|json] [--real-time]\n"
    "                      [--timeout MS]\n"
    "\n"
    "Runs both scenarios with the same clients (default: BEFORE's, then AFTER's others) and\n"
    "says for each client what changes: prompts that go away or appear, steps no longer or newly\n"
    "tried, the outcome, the URL the settings come from, the EWS URL, the address the settings\n"
    "are for and the lab time the user waits (changes under half a second are lab noise).\n"
    "Exit status: 0 (whatever changed), 2 bad input.\n"
    "\n"
    "  --client NAME   compare this model (repeatable)\n"
    "  --format F      text (default: one sentence per client) or json (the same facts)\n"
    "  --real-time     run timeouts and delays at their real length (default: 1000x faster)\n"
    "  --timeout MS    per network operation, instead of each model's own\n";

static bool listed(const char *const *v, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++) {
    if (strcmp(v[i], name) == 0) {
      return true;
    }
  }
  return false;
}

int cmd_diff(struct cli *c, int argc, char **argv) {
  static const struct option opts[] = {
      {"client", required_argument, NULL, 'c'}, {"format", required_argument, NULL, 'f'},
      {"real-time", no_argument, NULL, 'r'},    {"timeout", required_argument, NULL, 't'},
      {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
  };
  /* room for --client names and both scenarios' clients */
  const char **clients = xcalloc((size_t) argc + 1, sizeof *clients);
  size_t n_clients = 0;
  struct lab_run_options ro = {0};
  const char *format = "text";
  struct scn *before = NULL, *after = NULL;
  struct lab_result *rb = NULL, *ra = NULL;
  size_t nb = 0, na = 0;
  struct ca *ca = NULL;
  int rc = EXIT_BAD_INPUT;
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "c:f:rt:h", opts, NULL)) != -1) {
    switch (opt) {
      case 'c': clients[n_clients++] = optarg; break;
      case 'f': format = optarg; break;
      case 'r': ro.clock_scale = 1; break;
      case 't': {
        uint32_t ms = 0;
        if (!parse_u32(optarg, 1, 3600000, &ms)) {
          cli_error("--timeout %s: expected milliseconds (1..3600000)", optarg);
          goto out;
        }
        ro.timeout_ms = ms;
        break;
      }
      case 'h':
        fputs(diff_usage, stdout);
        rc = EXIT_HOLDS;
        goto out;
      default: fputs(diff_usage, stderr); goto out;
    }
  }
  if (optind + 2 != argc) {
    cli_error("diff takes two scenarios, BEFORE and AFTER\n%s", diff_usage);
    goto out;
  }
  if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
    cli_error("--format %s: expected text or json", format);
    goto out;
  }
  char err[1024];
  if (scn_load(&before, argv[optind], err, sizeof err) != SCN_OK ||
      scn_load(&after, argv[optind + 1], err, sizeof err) != SCN_OK) {
    cli_error("%s", err);
    goto out;
  }
  if (n_clients == 0) {
    size_t room = (size_t) argc + 1 + before->n_clients + after->n_clients;
    clients = xrealloc_array(clients, room, sizeof *clients);
    for (size_t i = 0; i < before->n_clients; i++) {
      clients[n_clients++] = before->clients[i].model;
    }
    for (size_t i = 0; i < after->n_clients; i++) {
      if (!listed(clients, n_clients, after->clients[i].model)) {
        clients[n_clients++] = after->clients[i].model;
      }
    }
  }
  ca = cli_open_ca(c);
  if (ca == NULL) {
    goto out;
  }
  ro.ca = ca;
  ro.clients = clients;
  ro.n_clients = n_clients;
  if (lab_run(before, &ro, &rb, &nb, err, sizeof err) != 0) {
    cli_error("%s: %s", before->path, err);
    goto out;
  }
  if (lab_run(after, &ro, &ra, &na, err, sizeof err) != 0) {
    cli_error("%s: %s", after->path, err);
    goto out;
  }
  lab_diff_report(stdout, before, rb, nb, after, ra, na, strcmp(format, "json") == 0);
  rc = EXIT_HOLDS;
out:
  lab_results_free(rb, nb);
  lab_results_free(ra, na);
  ca_free(ca);
  scn_free(before);
  scn_free(after);
  free(clients);
  return rc;
}
