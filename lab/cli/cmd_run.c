/* lab/cli/cmd_run.c: `autodisco run` — its arguments and exit status; the lab runs the
 * scenario's network in-process, walks each client model through it (lab_run) and writes the
 * transcripts and the verdict (lab_run_text, lab_run_json). */
#include "lab/cli/cli.h"
#include "lab/lab.h"
#include "lab/report.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char run_usage[] =
    "usage: autodisco run SCENARIO [--client NAME]... [--email ADDR]\n"
    "                     [--format text|json|html|junit]\n"
    "                     [--out FILE|DIR] [--journal FILE] [--timeout MS] [--real-time]\n"
    "                     [--set NAME=VALUE]... [--client-file FILE]...\n"
    "\n"
    "Starts the scenario's DNS and hosts on loopback addresses, walks each client model through\n"
    "them over real sockets, prints one line per step (prompts stand out) and the verdict.\n"
    "Exit status: 0 every expectation holds (or none are given), 1 one fails, 2 bad input.\n"
    "\n"
    "  --client NAME   walk this model (repeatable; default: the scenario's clients)\n"
    "  --email ADDR    look up this address instead of the scenario's\n"
    "  --format F      text (default), json (docs/transcript.md), html (one self-contained page\n"
    "                  with a sequence diagram per client) or junit (JUnit XML: a testcase per\n"
    "                  client, as check --junit writes them)\n"
    "  --out FILE|DIR  write the report to FILE instead of stdout; with html and a folder, one\n"
    "                  page per client: DIR/<scenario>.<client>.html\n"
    "  --journal FILE  append every server and client event as JSON lines (docs/journal.md)\n"
    "  --timeout MS    per network operation, in lab milliseconds, instead of each model's own\n"
    "  --real-time     run timeouts and delays at their real length (default: the lab clock,\n"
    "                  1000x faster; the transcript says how long a user would wait either way)\n"
    "  --set NAME=VALUE  give every walk this setting, over the scenario's: a registry value as\n"
    "                  the registry names it (ExcludeHttpsRootDomain=1), a fact about the\n"
    "                  machine (domain_joined=1) or a policy choice (docs/clients.md); repeatable\n"
    "  --client-file FILE  a model of your own (docs/clients.md), walked besides the\n"
    "                  scenario's clients unless --client names the models; repeatable\n";

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cmd_run(struct cli *c, int argc, char **argv) {
  static const struct option opts[] = {
      {"client", required_argument, NULL, 'c'},
      {"email", required_argument, NULL, 'e'},
      {"format", required_argument, NULL, 'f'},
      {"out", required_argument, NULL, 'o'},
      {"journal", required_argument, NULL, 'j'},
      {"timeout", required_argument, NULL, 't'},
      {"real-time", no_argument, NULL, 'r'},
      {"set", required_argument, NULL, 'S'},
      {"client-file", required_argument, NULL, 'F'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  struct cli_walk walk = {0};
  const char **clients = xcalloc((size_t) argc, sizeof *clients);
  size_t n_clients = 0;
  struct lab_run_options ro = {0};
  const char *format = "text";
  const char *out_path = NULL;
  const char *journal_path = NULL;
  int rc = EXIT_BAD_INPUT;
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "c:e:f:o:j:t:rS:F:h", opts, NULL)) != -1) {
    switch (opt) {
      case 'S':
      case 'F':
        if (!(opt == 'S' ? cli_set(&walk, optarg) : cli_client_file(&walk, optarg))) {
          cli_walk_cleanup(&walk);
          free(clients);
          return EXIT_BAD_INPUT;
        }
        break;
      case 'c': clients[n_clients++] = optarg; break;
      case 'e': ro.email = optarg; break;
      case 'f': format = optarg; break;
      case 'o': out_path = optarg; break;
      case 'j': journal_path = optarg; break;
      case 'r': ro.clock_scale = 1; break;
      case 't': {
        uint32_t ms = 0;
        if (!parse_u32(optarg, 1, 3600000, &ms)) {
          cli_error("--timeout %s: expected milliseconds (1..3600000)", optarg);
          cli_walk_cleanup(&walk);
          free(clients);
          return EXIT_BAD_INPUT;
        }
        ro.timeout_ms = ms;
        break;
      }
      case 'h':
        fputs(run_usage, stdout);
        cli_walk_cleanup(&walk);
        free(clients);
        return EXIT_HOLDS;
      default:
        fputs(run_usage, stderr);
        cli_walk_cleanup(&walk);
        free(clients);
        return EXIT_BAD_INPUT;
    }
  }
  if (optind + 1 != argc) {
    cli_error("run takes one SCENARIO\n%s", run_usage);
    cli_walk_cleanup(&walk);
    free(clients);
    return EXIT_BAD_INPUT;
  }
  if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0 && strcmp(format, "html") != 0 &&
      strcmp(format, "junit") != 0) {
    cli_error("--format %s: expected text, json, html or junit", format);
    cli_walk_cleanup(&walk);
    free(clients);
    return EXIT_BAD_INPUT;
  }
  struct scn *s = NULL;
  struct ca *ca = NULL;
  struct jnl *j = NULL;
  FILE *out = stdout;
  struct lab_result *results = NULL;
  size_t n = 0;
  char err[1024];
  if (scn_load(&s, argv[optind], err, sizeof err) != SCN_OK) {
    cli_error("%s", err);
    goto out;
  }
  ca = cli_open_ca(c);
  if (ca == NULL) {
    goto out;
  }
  if (jnl_open(&j, journal_path, err, sizeof err) != JNL_OK) {
    cli_error("--journal %s", err);
    goto out;
  }
  ro.ca = ca;
  ro.jnl = j;
  ro.clients = clients;
  ro.n_clients = n_clients;
  ro.settings = cli_walk_settings(&walk);
  ro.models = (const struct sim_model *const *) walk.models;
  ro.n_models = walk.n_models;
  if (lab_run(s, &ro, &results, &n, err, sizeof err) != 0) {
    cli_error("%s", err);
    goto out;
  }
  size_t n_failing = 0;
  for (size_t i = 0; i < n; i++) {
    n_failing += results[i].n_failures > 0;
  }
  if (strcmp(format, "html") == 0 && out_path != NULL && is_dir(out_path)) {
    if (lab_run_html_dir(out_path, s, results, n, err, sizeof err) < 0) {
      cli_error("--out %s", err);
      goto out;
    }
    rc = n_failing == 0 ? EXIT_HOLDS : EXIT_FAILS;
    goto out;
  }
  if (out_path != NULL && (out = fopen(out_path, "w")) == NULL) {
    cli_error("--out %s: cannot write it", out_path);
    out = stdout;
    goto out;
  }
  if (strcmp(format, "json") == 0) {
    lab_run_json(out, s, results, n);
  } else if (strcmp(format, "junit") == 0) {
    if (!lab_run_junit(out, s, results, n)) {
      cli_error("--format junit: cannot write the report");
      goto out;
    }
  } else if (strcmp(format, "html") == 0) {
    lab_run_html(out, s, results, n);
  } else {
    lab_run_text(out, s, results, n, c->color && out == stdout);
  }
  rc = lab_results_failing(results, n) == 0 ? EXIT_HOLDS : EXIT_FAILS;
out:
  if (out != stdout) {
    fclose(out);
  }
  lab_results_free(results, n);
  jnl_close(j);
  ca_free(ca);
  scn_free(s);
  cli_walk_cleanup(&walk);
  free(clients);
  return rc;
}
