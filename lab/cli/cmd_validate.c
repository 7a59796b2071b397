/* lab/cli/cmd_validate.c: `autodisco validate` — parse and lint scenario files only. */
#include "common/buf.h"
#include "lab/cli/cli.h"
#include "scenario/scn.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char validate_usage[] =
    "usage: autodisco validate [--strict] SCENARIO|DIR...\n"
    "\n"
    "Parses each scenario file (a folder: its *.yaml files, recursively, except the _*.yaml\n"
    "bases for `extends:`) and lints it. Errors and warnings go to stderr as\n"
    "`file:line:col: message` and `file:line:col: warning: message`; each file that loads gets\n"
    "`FILE: ok` (or `FILE: ok, N warnings`) on stdout unless --quiet.\n"
    "Exit status: 0 every file loads (warnings do not count), 1 --strict and a warning,\n"
    "2 a file does not load.\n"
    "\n"
    "  --strict   warnings fail the run (exit 1)\n"
    "  --quiet    only errors and warnings\n";

/* Lint output larger than this is cut; scn_lint NUL-terminates what fits. */
#define LINT_MAX (256 * 1024)

int cmd_validate(struct cli *c, int argc, char **argv) {
  static const struct option opts[] = {
      {"strict", no_argument, NULL, 's'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool strict = false;
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "sqh", opts, NULL)) != -1) {
    switch (opt) {
      case 's': strict = true; break;
      case 'q': c->quiet = true; break;
      case 'h': fputs(validate_usage, stdout); return EXIT_HOLDS;
      default: fputs(validate_usage, stderr); return EXIT_BAD_INPUT;
    }
  }
  if (optind >= argc) {
    cli_error("validate takes at least one SCENARIO\n%s", validate_usage);
    return EXIT_BAD_INPUT;
  }
  struct cli_files files = {0};
  bool bad = false;
  for (int i = optind; i < argc; i++) {
    bad |= !cli_files_add(&files, argv[i]);
  }
  if (files.n == 0 && !bad) {
    cli_error("no scenario files (*.yaml) found");
    bad = true;
  }
  size_t n_warnings = 0;
  char *lint = xcalloc(1, LINT_MAX);
  for (size_t i = 0; i < files.n; i++) {
    struct scn *s = NULL;
    char err[1024];
    if (scn_load(&s, files.paths[i], err, sizeof err) != SCN_OK) {
      fprintf(stderr, "%s\n", err);
      bad = true;
      continue;
    }
    lint[0] = 0;
    size_t n = scn_lint(s, lint, LINT_MAX);
    fputs(lint, stderr);
    if (n > 0 && lint[0] != 0 && lint[strlen(lint) - 1] != '\n') {
      fputc('\n', stderr);
    }
    n_warnings += n;
    if (!c->quiet) {
      if (n == 0) {
        printf("%s: ok\n", files.paths[i]);
      } else {
        printf("%s: ok, %zu warning%s\n", files.paths[i], n, n == 1 ? "" : "s");
      }
    }
    scn_free(s);
  }
  free(lint);
  cli_files_cleanup(&files);
  if (bad) {
    return EXIT_BAD_INPUT;
  }
  return strict && n_warnings > 0 ? EXIT_FAILS : EXIT_HOLDS;
}
