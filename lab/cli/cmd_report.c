/* lab/cli/cmd_report.c: `autodisco report JOURNAL` — a journal (a real client's, from `serve`,
 * or a `run --journal`) as the transcript `run` prints, with the prompts a user would have seen,
 * findings and the waiting time — and `check SCENARIO --journal JOURNAL --client NAME`, the
 * scenario's expectations for a model held against what a real client did. */
#include "lab/cli/cli.h"
#include "lab/lab.h"
#include "lab/report.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char report_usage[] =
    "usage: autodisco report JOURNAL [--format text|json|html] [--out FILE]\n"
    "                        [--client-label NAME] [--client MODEL] [--scenario FILE]\n"
    "\n"
    "Reads a journal (serve --journal, run --journal; docs/journal.md) and prints what the\n"
    "client did as `run` prints a walk: its steps in order (DNS, connection, certificate,\n"
    "alert, request, answer), the prompts Outlook shows at those steps (a certificate the\n"
    "client refused or accepted although it fails a check, redirects, Basic credentials),\n"
    "findings such as credential leaks, and the waiting time from the journal's timestamps.\n"
    "Exit status: 0 the journal was read, 2 bad input.\n"
    "\n"
    "  --format F          text (default), json, or html: one self-contained page with a\n"
    "                      sequence diagram (opens offline)\n"
    "  --out FILE          write the report to FILE instead of stdout\n"
    "  --client-label NAME what to call the real client (default: the --client model, else\n"
    "                      real-client)\n"
    "  --client MODEL      infer prompts with this model's policy and settings\n"
    "  --scenario FILE     the scenario the lab ran (for a journal without lab.start)\n";

static bool open_out(const char *path, FILE **out) {
  *out = stdout;
  if (path != NULL && (*out = fopen(path, "w")) == NULL) {
    cli_error("--out %s: cannot write it", path);
    *out = stdout;
    return false;
  }
  return true;
}

int cmd_report(struct cli *c, int argc, char **argv) {
  static const struct option opts[] = {
      {"format", required_argument, NULL, 'f'},
      {"out", required_argument, NULL, 'o'},
      {"client-label", required_argument, NULL, 'l'},
      {"client", required_argument, NULL, 'c'},
      {"scenario", required_argument, NULL, 's'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *format = "text", *out_path = NULL, *scenario = NULL;
  struct lab_journal_options jo = {0};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "f:o:l:c:s:h", opts, NULL)) != -1) {
    switch (opt) {
      case 'f': format = optarg; break;
      case 'o': out_path = optarg; break;
      case 'l': jo.label = optarg; break;
      case 'c': jo.client = optarg; break;
      case 's': scenario = optarg; break;
      case 'h': fputs(report_usage, stdout); return EXIT_HOLDS;
      default: fputs(report_usage, stderr); return EXIT_BAD_INPUT;
    }
  }
  if (optind + 1 != argc) {
    cli_error("report takes one JOURNAL\n%s", report_usage);
    return EXIT_BAD_INPUT;
  }
  if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0 && strcmp(format, "html") != 0) {
    cli_error("--format %s: expected text, json or html", format);
    return EXIT_BAD_INPUT;
  }
  if (jo.client != NULL && sim_model_named(jo.client) == NULL) {
    cli_error("--client %s: not a client model (see autodisco run --help)", jo.client);
    return EXIT_BAD_INPUT;
  }
  int rc = EXIT_BAD_INPUT;
  char err[1024];
  struct scn *s = NULL;
  struct lab_journal *j = NULL;
  FILE *out = stdout;
  if (scenario != NULL && scn_load(&s, scenario, err, sizeof err) != SCN_OK) {
    cli_error("%s", err);
    goto out;
  }
  jo.scn = s;
  if (lab_journal_read(&j, argv[optind], &jo, err, sizeof err) != 0) {
    cli_error("%s", err);
    goto out;
  }
  if (!open_out(out_path, &out)) {
    goto out;
  }
  if (strcmp(format, "json") == 0) {
    char *text = lab_journal_json(j);
    fputs(text, out);
    fputc('\n', out);
    free(text);
  } else if (strcmp(format, "html") == 0) {
    lab_journal_html(j, out);
  } else {
    lab_journal_text(j, out, c->color && out == stdout);
  }
  for (size_t i = 0; i < j->n_notes && out != stdout; i++) {
    cli_note(c, "autodisco: note: %s", j->notes[i]);
  }
  rc = EXIT_HOLDS;
out:
  if (out != stdout) {
    fclose(out);
  }
  lab_journal_free(j);
  scn_free(s);
  return rc;
}

static void check_json(FILE *out, const struct scn *s, const struct lab_journal *j,
                       const struct sim_transcript *t, const char *client,
                       const struct scn_expect *e, const struct buf *failures, size_t n) {
  struct jnl_event doc;
  jnl_doc_begin(&doc);
  jnl_obj_begin(&doc, "scenario");
  jnl_str(&doc, "name", s->name);
  jnl_str(&doc, "path", s->path);
  jnl_obj_end(&doc);
  jnl_str(&doc, "journal", j->path);
  jnl_str(&doc, "client", client);
  char *text = sim_transcript_json(t);
  jnl_raw(&doc, "transcript", text);
  free(text);
  jnl_obj_begin(&doc, "expectations");
  jnl_bool(&doc, "given", e != NULL);
  jnl_bool(&doc, "hold", n == 0);
  jnl_arr_begin(&doc, "failures");
  const char *line = buf_cstr(failures);
  while (*line != '\0') {
    size_t len = strcspn(line, "\n");
    jnl_strn(&doc, NULL, (struct slice){(const uint8_t *) line, len});
    line += len + (line[len] == '\n');
  }
  jnl_arr_end(&doc);
  jnl_obj_end(&doc);
  jnl_bool(&doc, "hold", n == 0);
  text = jnl_doc_take(&doc);
  fputs(text, out);
  fputc('\n', out);
  free(text);
}

int cmd_check_journal(struct cli *c, const char *journal, const char *const *scenarios,
                      size_t n_scenarios, const char *const *clients, size_t n_clients, bool json) {
  if (n_scenarios != 1 || n_clients != 1) {
    cli_error("check --journal takes one SCENARIO and one --client MODEL: the model whose "
              "expectations the real client is held to");
    return EXIT_BAD_INPUT;
  }
  if (sim_model_named(clients[0]) == NULL) {
    cli_error("--client %s: not a client model (see autodisco run --help)", clients[0]);
    return EXIT_BAD_INPUT;
  }
  char err[1024];
  struct scn *s = NULL;
  struct lab_journal *j = NULL;
  int rc = EXIT_BAD_INPUT;
  struct buf failures;
  buf_init(&failures, 64 * 1024);
  if (scn_load(&s, scenarios[0], err, sizeof err) != SCN_OK) {
    cli_error("%s", err);
    goto out;
  }
  struct lab_journal_options jo = {.scn = s, .client = clients[0]};
  if (lab_journal_read(&j, journal, &jo, err, sizeof err) != 0) {
    cli_error("%s", err);
    goto out;
  }
  const struct sim_transcript *t = lab_journal_pick(j, clients[0]);
  const struct scn_expect *e = lab_expect_for(s, clients[0]);
  size_t n = e != NULL ? lab_expect_check(e, t, &failures) : 0;
  for (size_t i = 0; i < j->n_notes; i++) {
    cli_note(c, "autodisco: note: %s", j->notes[i]);
  }
  if (json) {
    check_json(stdout, s, j, t, clients[0], e, &failures, n);
  } else {
    printf("scenario %s (%s), journal %s, held to %s\n\n", s->name, s->path, j->path, clients[0]);
    sim_transcript_text(t, stdout, c->color);
    if (e == NULL) {
      printf("expectations: none given for %s\n", clients[0]);
    } else if (n == 0) {
      printf("expectations: hold\n");
    } else {
      printf("expectations: %s%zu failed%s\n%s", c->color ? "\033[1;31m" : "", n,
             c->color ? "\033[0m" : "", buf_cstr(&failures));
    }
    printf("\nverdict: %s\n", n == 0 ? "expectations hold" : "expectations fail");
  }
  rc = n == 0 ? EXIT_HOLDS : EXIT_FAILS;
out:
  buf_cleanup(&failures);
  lab_journal_free(j);
  scn_free(s);
  return rc;
}
