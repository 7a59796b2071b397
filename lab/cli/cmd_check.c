/* lab/cli/cmd_check.c: `autodisco check` — its arguments, the progress line and the exit
 * status; the lab runs the scenarios (lab_check_run) and writes the reports. */
#include "lab/cli/cli.h"
#include "lab/lab.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char check_usage[] =
    "usage: autodisco check [DIR|FILE]... [--client NAME]... [--jobs N] [--junit FILE] [--json]\n"
    "                       [--html DIR] [--real-time] [--timeout MS] [--set NAME=VALUE]...\n"
    "                       [--sweep NAME=V1,V2,...] [--client-file FILE]...\n"
    "       autodisco check SCENARIO --journal JOURNAL --client NAME [--json]\n"
    "\n"
    "Runs every scenario (a folder: its *.yaml files, recursively, sorted; files named _*.yaml\n"
    "are bases for `extends:` and are not run) with each of its clients, checks the\n"
    "expectations and prints a table: scenario, client, verdict (PASS, FAIL, NO-EXPECT when the\n"
    "scenario expects nothing of that client, ERROR when it cannot run), the prompts the user\n"
    "saw and the lab time the walk took. Failed expectations follow the table as\n"
    "file:line:col lines. Default: the folder `scenarios`.\n"
    "Exit status: 0 every expectation holds, 1 one fails, 2 a scenario is bad input (the others\n"
    "still run and are reported).\n"
    "\n"
    "  --client NAME   walk this model in every scenario (repeatable; default: each scenario's)\n"
    "  --jobs N        run scenarios in N worker processes (default: the number of CPUs)\n"
    "  --junit FILE    also write JUnit XML (a testsuite per scenario file, a testcase per\n"
    "                  client; time is lab time)\n"
    "  --json          print JSON instead of the table\n"
    "  --html DIR      also write a page per scenario x client (its sequence diagram, as run\n"
    "                  --format html draws it) into DIR (made if missing) and DIR/index.html\n"
    "                  linking them with their verdicts\n"
    "  --real-time     run timeouts and delays at their real length (default: 1000x faster)\n"
    "  --timeout MS    per network operation, instead of each model's own\n"
    "  --set NAME=VALUE  give every walk this setting, over the scenario's: a registry value as\n"
    "                  the registry names it (ExcludeHttpsRootDomain=1), a fact about the\n"
    "                  machine (domain_joined=1) or a policy choice (docs/clients.md); repeatable\n"
    "  --sweep NAME=V1,V2,...  run every scenario once per value of the setting NAME (one row\n"
    "                  per value, a SETTING column); values with a '|' between them when one\n"
    "                  holds a comma (a list: RedirectServers=|a.example,b.example)\n"
    "  --client-file FILE  a model of your own (docs/clients.md), walked in every scenario\n"
    "                  unless --client names the models; repeatable\n"
    "  --quiet         (before the command) no progress line on stderr\n"
    "  --journal FILE  hold a real client's journal (serve --journal) to the scenario's\n"
    "                  expectations for --client NAME instead of running the model\n";

/* on_progress keeps one line on stderr: how many scenarios are done, and the last one. */
static void on_progress(void *arg, size_t n_done, size_t n, const char *path) {
  fprintf(stderr, "\r\033[K[%zu/%zu] %s", n_done, n, path);
  fflush(stderr);
}

static void on_note(void *arg, const char *sentence) {
  cli_error("%s", sentence);
}

static unsigned default_jobs(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 && n < 256 ? (unsigned) n : 1;
}

/* A --sweep: the settings of each run (the --set ones with one value of the swept setting) and
 * their labels. */
struct sweep {
  struct scn_client *variants;
  char **labels; /* "NAME=VALUE" */
  size_t n;
};

static void sweep_cleanup(struct sweep *sw) {
  for (size_t i = 0; i < sw->n; i++) {
    scn_client_cleanup(&sw->variants[i]);
    free(sw->labels[i]);
  }
  free(sw->variants);
  free(sw->labels);
  memset(sw, 0, sizeof *sw);
}

/* sweep_init reads --sweep NAME=V1,V2,... (values split at '|' when there is one, else at ','):
 * one variant per value, each the --set settings plus NAME=value; false after cli_error. */
static bool sweep_init(struct sweep *sw, const struct cli_walk *walk, const char *arg) {
  const char *eq = strchr(arg, '=');
  if (eq == NULL || eq == arg) {
    cli_error("--sweep %s: expected NAME=VALUE,VALUE,... (e.g. ExcludeHttpsRootDomain=0,1)", arg);
    return false;
  }
  size_t name_len = (size_t) (eq - arg);
  char sep = strchr(eq + 1, '|') != NULL ? '|' : ',';
  char *values = str_dup(eq + 1);
  bool ok = true;
  for (char *p = values, *next = NULL; ok && p != NULL; p = next) {
    char *end = strchr(p, sep);
    next = end != NULL ? end + 1 : NULL;
    if (end != NULL) {
      *end = 0;
    }
    struct buf label;
    buf_init(&label, 64 * 1024);
    buf_append(&label, (struct slice){(const uint8_t *) arg, name_len});
    buf_appendf(&label, "=%s", p);
    sw->variants = xrealloc_array(sw->variants, sw->n + 1, sizeof *sw->variants);
    sw->labels = xrealloc_array(sw->labels, sw->n + 1, sizeof *sw->labels);
    struct scn_client *v = &sw->variants[sw->n];
    memset(v, 0, sizeof *v);
    scn_client_overlay(v, &walk->settings);
    sw->labels[sw->n++] = buf_take(&label);
    char err[4096];
    if (scn_client_set(v, sw->labels[sw->n - 1], err, sizeof err) != SCN_OK) {
      cli_error("--sweep %s", err);
      ok = false;
    }
  }
  free(values);
  return ok;
}

int cmd_check(struct cli *c, int argc, char **argv) {
  static const struct option opts[] = {
      {"client", required_argument, NULL, 'c'},
      {"jobs", required_argument, NULL, 'j'},
      {"junit", required_argument, NULL, 'u'},
      {"json", no_argument, NULL, 'J'},
      {"real-time", no_argument, NULL, 'r'},
      {"timeout", required_argument, NULL, 't'},
      {"quiet", no_argument, NULL, 'q'},
      {"journal", required_argument, NULL, 'L'},
      {"html", required_argument, NULL, 'H'},
      {"set", required_argument, NULL, 'S'},
      {"client-file", required_argument, NULL, 'F'},
      {"sweep", required_argument, NULL, 'W'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  struct cli_walk walk = {0};
  struct sweep sw = {0};
  const char *sweep = NULL;
  struct cli_files files = {0};
  struct lab_check_options o = {.note = on_note};
  struct lab_check k = {0};
  const char **clients = xcalloc((size_t) argc, sizeof *clients);
  size_t n_clients = 0;
  unsigned jobs = default_jobs();
  const char *junit = NULL;
  bool json = false;
  const char *journal = NULL;
  const char *html = NULL;
  struct ca *ca = NULL;
  int rc = EXIT_BAD_INPUT;
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "c:j:u:Jrt:qS:F:W:h", opts, NULL)) != -1) {
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
      case 'W':
        if (sweep != NULL) {
          cli_error("--sweep %s: one --sweep at a time (%s was given first)", optarg, sweep);
          goto out;
        }
        sweep = optarg;
        break;
      case 'c': clients[n_clients++] = optarg; break;
      case 'u': junit = optarg; break;
      case 'J': json = true; break;
      case 'r': o.run.clock_scale = 1; break;
      case 'q': c->quiet = true; break;
      case 'L': journal = optarg; break;
      case 'H': html = optarg; break;
      case 'j': {
        uint32_t n = 0;
        if (!parse_u32(optarg, 1, 256, &n)) {
          cli_error("--jobs %s: expected a number of processes (1..256)", optarg);
          goto out;
        }
        jobs = n;
        break;
      }
      case 't': {
        uint32_t ms = 0;
        if (!parse_u32(optarg, 1, 3600000, &ms)) {
          cli_error("--timeout %s: expected milliseconds (1..3600000)", optarg);
          goto out;
        }
        o.run.timeout_ms = ms;
        break;
      }
      case 'h':
        fputs(check_usage, stdout);
        rc = EXIT_HOLDS;
        goto out;
      default: fputs(check_usage, stderr); goto out;
    }
  }
  if (journal != NULL && html != NULL) {
    cli_error("--html goes with scenarios run here, not with --journal (report --format html "
              "draws a journal)");
    goto out;
  }
  if (journal != NULL && (sweep != NULL || walk.settings.given != 0 || walk.n_models > 0)) {
    cli_error("--journal holds a real client's walk to the scenario's expectations: --set, "
              "--sweep and --client-file change model walks, which it does not make");
    goto out;
  }
  if (sweep != NULL && !sweep_init(&sw, &walk, sweep)) {
    goto out;
  }
  if (journal != NULL) {
    rc = cmd_check_journal(c, journal, (const char *const *) argv + optind,
                           (size_t) (argc - optind), clients, n_clients, json);
    goto out;
  }
  if (optind == argc && !cli_files_add(&files, "scenarios")) {
    goto out;
  }
  for (int i = optind; i < argc; i++) {
    if (!cli_files_add(&files, argv[i])) {
      goto out;
    }
  }
  if (files.n == 0) {
    cli_error("no scenario files (*.yaml) found");
    goto out;
  }
  if (html != NULL) {
    struct stat st;
    if (mkdir(html, 0755) != 0 && errno != EEXIST) {
      cli_error("--html %s: cannot make it: %s", html, strerror(errno));
      goto out;
    }
    if (stat(html, &st) != 0 || !S_ISDIR(st.st_mode) || access(html, W_OK) != 0) {
      cli_error("--html %s: not a folder this user can write to", html);
      goto out;
    }
    o.html_dir = html;
  }
  ca = cli_open_ca(c);
  if (ca == NULL) {
    goto out;
  }
  o.run.ca = ca;
  o.run.clients = clients;
  o.run.n_clients = n_clients;
  o.run.settings = cli_walk_settings(&walk);
  o.run.models = (const struct sim_model *const *) walk.models;
  o.run.n_models = walk.n_models;
  o.variants = sw.variants;
  o.variant_labels = (const char *const *) sw.labels;
  o.n_variants = sw.n;
  o.jobs = jobs;
  bool progress = !c->quiet && isatty(STDERR_FILENO);
  o.progress = progress ? on_progress : NULL;
  lab_check_run(&k, (const char *const *) files.paths, files.n, &o);
  if (progress) {
    fputs("\r\033[K", stderr);
  }
  struct lab_check_totals t = lab_check_count(&k);
  rc = t.by[LAB_ERROR] > 0 ? EXIT_BAD_INPUT : t.by[LAB_FAIL] > 0 ? EXIT_FAILS : EXIT_HOLDS;
  if (json) {
    lab_check_json(&k, stdout, rc);
  } else {
    lab_check_table(&k, stdout, c->color);
  }
  if (junit != NULL && !lab_check_junit(&k, junit)) {
    cli_error("--junit %s: cannot write it", junit);
    rc = EXIT_BAD_INPUT;
  }
  char err[4096];
  if (html != NULL && !lab_check_html_index(&k, html, err, sizeof err)) {
    cli_error("--html %s", err);
    rc = EXIT_BAD_INPUT;
  }
out:
  lab_check_cleanup(&k);
  cli_files_cleanup(&files);
  ca_free(ca);
  sweep_cleanup(&sw);
  cli_walk_cleanup(&walk);
  free(clients);
  return rc;
}
