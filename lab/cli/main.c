/* lab/cli/main.c: `autodisco COMMAND ...` — dispatch, global options and the printer. */
#include "common/buf.h"
#include "lab/cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: autodisco [--quiet] [--ca-dir DIR] COMMAND [ARGS]\n"
    "\n"
    "A lab for the Outlook / Exchange Autodiscover sequence.\n"
    "\n"
    "commands:\n"
    "  run SCENARIO      start the scenario's network, walk each client model through it,\n"
    "                    print the transcript and the verdict (exit 0 holds, 1 fails, 2 bad "
    "input)\n"
    "  check [DIR|FILE]...\n"
    "                    every scenario x its clients, expectations checked: a summary table,\n"
    "                    JSON or JUnit (exit 0 all hold, 1 one fails, 2 bad input)\n"
    "  diff BEFORE AFTER what changes for each client: prompts gone or new, steps, settings,\n"
    "                    waiting time\n"
    "  serve SCENARIO    keep the scenario's network up for real clients\n"
    "  sandbox SCENARIO -- CMD [ARG]...\n"
    "                    run CMD in private namespaces whose DNS and trust store are the lab's\n"
    "  ca init|show|export\n"
    "                    the lab CA: create it, describe it, export it for trust stores\n"
    "  validate FILE|DIR...\n"
    "                    parse and lint scenario files only (--strict: warnings fail)\n"
    "  snapshot DOMAIN -o FILE\n"
    "                    what a real domain serves for Autodiscover, written as a scenario\n"
    "\n"
    "options:\n"
    "  --quiet           no notes on stderr (NO_COLOR in the environment turns colour off)\n"
    "  --ca-dir DIR      the lab CA's directory (default: $AUTODISCO_CA_DIR, else\n"
    "                    $XDG_DATA_HOME/autodisco/ca, else ~/.local/share/autodisco/ca)\n"
    "  --help            this text; `autodisco COMMAND --help` for a command\n";

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("autodisco: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

void cli_note(const struct cli *c, const char *fmt, ...) {
  if (c->quiet) {
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

struct ca *cli_open_ca(const struct cli *c) {
  char dir[4096];
  if (c->ca_dir != NULL) {
    buf_fmt(dir, sizeof dir, "%s", c->ca_dir);
  } else if (!ca_default_dir(dir, sizeof dir)) {
    cli_error("cannot find a directory for the lab CA: set AUTODISCO_CA_DIR or use --ca-dir");
    return NULL;
  }
  struct ca *ca = NULL;
  enum ca_status st = ca_open(&ca, dir, true);
  if (st != CA_OK) {
    cli_error("lab CA in %s: %s: %s", dir, ca_strerror(st), ca != NULL ? ca_detail(ca) : "");
    ca_free(ca);
    return NULL;
  }
  return ca;
}

int main(int argc, char **argv) {
  struct cli c = {.color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL};
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
      c.quiet = true;
    } else if (strcmp(argv[i], "--ca-dir") == 0 && i + 1 < argc) {
      c.ca_dir = argv[++i];
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage, stdout);
      return EXIT_HOLDS;
    } else if (strcmp(argv[i], "--version") == 0) {
      puts("autodisco 0.1.0");
      return EXIT_HOLDS;
    } else {
      cli_error("unknown option %s\n%s", argv[i], usage);
      return EXIT_BAD_INPUT;
    }
  }
  if (i >= argc) {
    fputs(usage, stderr);
    return EXIT_BAD_INPUT;
  }
  const char *cmd = argv[i];
  int sub_argc = argc - i;
  char **sub_argv = argv + i;
  if (strcmp(cmd, "run") == 0) {
    return cmd_run(&c, sub_argc, sub_argv);
  }
  if (strcmp(cmd, "serve") == 0) {
    return cmd_serve(&c, sub_argc, sub_argv);
  }
  if (strcmp(cmd, "ca") == 0) {
    return cmd_ca(&c, sub_argc, sub_argv);
  }
  if (strcmp(cmd, "validate") == 0) {
    return cmd_validate(&c, sub_argc, sub_argv);
  }
  if (strcmp(cmd, "check") == 0) {
    return cmd_check(&c, sub_argc, sub_argv);
  }
  if (strcmp(cmd, "diff") == 0) {
    return cmd_diff(&c, sub_argc, sub_argv);
  }
  if (strcmp(cmd, "sandbox") == 0) {
    return cmd_sandbox(&c, sub_argc, sub_argv);
  }
  if (strcmp(cmd, "snapshot") == 0) {
    return cmd_snapshot(&c, sub_argc, sub_argv);
  }
  cli_error("unknown command \"%s\" (run, check, diff, serve, sandbox, ca, validate, "
            "snapshot; see autodisco --help)",
            cmd);
  return EXIT_BAD_INPUT;
}
