/* lab/cli/cmd_validate.c: `autodisco validate` — parse and check scenario files only. */
#include "lab/cli/cli.h"
#include "lab/model/scn.h"

#include <string.h>

static const char validate_usage[] =
    "usage: autodisco validate SCENARIO...\n"
    "\n"
    "Parses each scenario file and checks it, printing `FILE: ok` or `file:line:col: message`.\n"
    "Exit status: 0 all are valid, 2 one is not.\n";

int cmd_validate(struct cli *c, int argc, char **argv) {
  if (argc < 2) {
    cli_error("validate takes at least one SCENARIO\n%s", validate_usage);
    return EXIT_BAD_INPUT;
  }
  int rc = EXIT_HOLDS;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(validate_usage, stdout);
      return EXIT_HOLDS;
    }
  }
  for (int i = 1; i < argc; i++) {
    struct scn *s = NULL;
    char err[1024];
    if (scn_load(&s, argv[i], err, sizeof err) != SCN_OK) {
      fprintf(stderr, "%s\n", err);
      rc = EXIT_BAD_INPUT;
    } else if (!c->quiet) {
      printf("%s: ok\n", argv[i]);
    }
    scn_free(s);
  }
  return rc;
}
