/* lab/cli/cmd_diff.c: `autodisco diff BEFORE AFTER` — each side a scenario (run with the same
 * clients) or a journal (a real client's walk, or a `run --journal`'s); for each client, what a
 * user sees change: prompts gone or new, steps, outcome, settings and the time waited. "Model
 * vs real client" and "build N vs build N+1" are the same command. */
#include "lab/cli/cli.h"
#include "lab/lab.h"
#include "lab/report.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char diff_usage[] =
    "usage: autodisco diff BEFORE AFTER [--client NAME]... [--format text|json] [--real-time]\n"
    "                      [--timeout MS] [--set NAME=VALUE]... [--client-file FILE]...\n"
    "\n"
    "BEFORE and AFTER are each a scenario or a journal (serve --journal, run --journal: a file\n"
    "whose first character is '{'). Scenarios run with the same clients (default: BEFORE's,\n"
    "then AFTER's others); a real client's journal is compared with each model walk of the\n"
    "other side (read with that side's scenario and the one --client's policy), two journals\n"
    "client by client. Says for each client what changes: prompts that go away or appear, steps\n"
    "no longer or newly tried, the outcome, the URL the settings come from, the EWS URL, the\n"
    "address the settings are for and the time the user waits (changes under half a second are\n"
    "noise).\n"
    "Exit status: 0 (whatever changed), 2 bad input.\n"
    "\n"
    "  --client NAME   compare this model (repeatable)\n"
    "  --format F      text (default: one sentence per client) or json (the same facts)\n"
    "  --real-time     run timeouts and delays at their real length (default: 1000x faster)\n"
    "  --timeout MS    per network operation, instead of each model's own\n"
    "  --set NAME=VALUE  give every walk of a scenario this setting (docs/clients.md);\n"
    "                  repeatable\n"
    "  --client-file FILE  a model of your own (docs/clients.md), compared besides the\n"
    "                  scenarios' clients unless --client names the models; repeatable\n";

static bool listed(const char *const *v, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++) {
    if (strcmp(v[i], name) == 0) {
      return true;
    }
  }
  return false;
}

/* One side of the comparison: a scenario the models walk, or a journal a client left. */
struct side {
  const char *path;
  struct scn *scn;
  struct lab_result *results;
  size_t n_results;
  struct lab_journal *journal;
  const struct sim_transcript **t; /* the walks to compare, borrowed from results or journal */
  size_t n;
};

static void side_cleanup(struct side *s) {
  lab_results_free(s->results, s->n_results);
  lab_journal_free(s->journal);
  scn_free(s->scn);
  free(s->t);
}

/* single_real says whether the side is one real client's journal: it pairs with every walk of
 * the other side ("model vs real client"). */
static bool single_real(const struct side *s) {
  return s->journal != NULL && s->n == 1 && s->journal->inferred[0];
}

int cmd_diff(struct cli *c, int argc, char **argv) {
  static const struct option opts[] = {
      {"client", required_argument, NULL, 'c'}, {"format", required_argument, NULL, 'f'},
      {"real-time", no_argument, NULL, 'r'},    {"timeout", required_argument, NULL, 't'},
      {"set", required_argument, NULL, 'S'},    {"client-file", required_argument, NULL, 'F'},
      {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
  };
  struct cli_walk walk = {0};
  /* room for --client names and both scenarios' clients */
  const char **clients = xcalloc((size_t) argc + 1, sizeof *clients);
  size_t n_clients = 0;
  struct lab_run_options ro = {0};
  const char *format = "text";
  struct side sides[2] = {{0}, {0}};
  struct ca *ca = NULL;
  int rc = EXIT_BAD_INPUT;
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "c:f:rt:S:F:h", opts, NULL)) != -1) {
    switch (opt) {
      case 'S':
        if (!cli_set(&walk, optarg)) {
          goto out;
        }
        break;
      case 'F':
        if (!cli_client_file(&walk, optarg)) {
          goto out;
        }
        break;
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
    cli_error("diff takes two scenarios or journals, BEFORE and AFTER\n%s", diff_usage);
    goto out;
  }
  if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
    cli_error("--format %s: expected text or json", format);
    goto out;
  }
  for (size_t i = 0; i < n_clients; i++) {
    if (lab_model_named((const struct sim_model *const *) walk.models, walk.n_models, clients[i]) ==
        NULL) {
      cli_error("--client %s: not a client model (see autodisco run --help)", clients[i]);
      goto out;
    }
  }
  char err[1024];
  for (int k = 0; k < 2; k++) {
    sides[k].path = argv[optind + k];
    if (!lab_is_journal(sides[k].path) &&
        scn_load(&sides[k].scn, sides[k].path, err, sizeof err) != SCN_OK) {
      cli_error("%s", err);
      goto out;
    }
  }
  if (n_clients == 0) {
    for (int k = 0; k < 2; k++) {
      const struct scn *s = sides[k].scn;
      size_t room = (size_t) argc + 1 + (sides[0].scn ? sides[0].scn->n_clients : 0) +
                    (sides[1].scn ? sides[1].scn->n_clients : 0) + walk.n_models;
      clients = xrealloc_array(clients, room, sizeof *clients);
      for (size_t i = 0; s != NULL && i < s->n_clients; i++) {
        if (!listed(clients, n_clients, s->clients[i].model)) {
          clients[n_clients++] = s->clients[i].model;
        }
      }
    }
    for (size_t i = 0; i < walk.n_models; i++) { /* a user's model is compared too */
      if (!listed(clients, n_clients, sim_model_name(walk.models[i]))) {
        clients[n_clients++] = sim_model_name(walk.models[i]);
      }
    }
  }
  for (int k = 0; k < 2; k++) {
    struct side *sd = &sides[k];
    if (sd->scn == NULL) { /* a journal: read with the other side's scenario, if it has one */
      struct lab_journal_options jo = {.scn = sides[1 - k].scn,
                                       .client = n_clients == 1 ? clients[0] : NULL};
      if (lab_journal_read(&sd->journal, sd->path, &jo, err, sizeof err) != 0) {
        cli_error("%s", err);
        goto out;
      }
      sd->t = xcalloc(sd->journal->n_transcripts + 1, sizeof *sd->t);
      for (size_t i = 0; i < sd->journal->n_transcripts; i++) {
        sd->t[sd->n++] = sd->journal->transcripts[i];
      }
      continue;
    }
    if (ca == NULL && (ca = cli_open_ca(c)) == NULL) {
      goto out;
    }
    ro.ca = ca;
    ro.clients = clients;
    ro.n_clients = n_clients;
    ro.settings = cli_walk_settings(&walk);
    ro.models = (const struct sim_model *const *) walk.models;
    ro.n_models = walk.n_models;
    if (lab_run(sd->scn, &ro, &sd->results, &sd->n_results, err, sizeof err) != 0) {
      cli_error("%s: %s", sd->path, err);
      goto out;
    }
    sd->t = xcalloc(sd->n_results + 1, sizeof *sd->t);
    for (size_t i = 0; i < sd->n_results; i++) {
      if (sd->results[i].transcript != NULL) {
        sd->t[sd->n++] = sd->results[i].transcript;
      }
    }
  }
  struct lab_diff_side ds[2];
  for (size_t i = 0; i < 2; i++) {
    ds[i] = (struct lab_diff_side){.path = sides[i].path,
                                   .t = sides[i].t,
                                   .n = sides[i].n,
                                   .one_real_client = single_real(&sides[i])};
  }
  lab_diff_report(stdout, &ds[0], &ds[1], strcmp(format, "json") == 0);
  rc = EXIT_HOLDS;
out:
  side_cleanup(&sides[0]);
  side_cleanup(&sides[1]);
  ca_free(ca);
  cli_walk_cleanup(&walk);
  free(clients);
  return rc;
}
