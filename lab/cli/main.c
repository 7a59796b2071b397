/* lab/cli/main.c: `autodisco COMMAND ...` — the global options and the dispatch to a command
 * (cmd_*.c); the printer the commands share is cli.c. */
#include "lab/cli/cli.h"

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
    "                    waiting time (exit 0 whatever changed, 2 bad input)\n"
    "  serve SCENARIO    keep the scenario's network up for real clients until SIGINT or\n"
    "                    SIGTERM; a `ready` line on stdout says where everything listens\n"
    "  report JOURNAL    what a client did, from a journal: its steps, the prompts it met,\n"
    "                    findings and the waiting time (text, JSON or an HTML page)\n"
    "  sandbox SCENARIO -- CMD [ARG]...\n"
    "                    run CMD in private namespaces whose DNS and trust store are the lab's\n"
    "                    (needs root; exits with CMD's status)\n"
    "  probe EMAIL|DOMAIN\n"
    "                    walk client models against a real domain: its DNS, the real network,\n"
    "                    the system trust store (exit 0 settings without a prompt, 1 not)\n"
    "  kit windows DIR   write the kit that points a real Outlook in a Windows VM at the lab\n"
    "  ca init|show|export|profiles\n"
    "                    the lab CA: create it, describe it, export it for trust stores; the\n"
    "                    certificate profiles scenarios can ask for\n"
    "  validate SCENARIO|DIR...\n"
    "                    parse and lint scenario files only (--strict: warnings fail)\n"
    "  snapshot DOMAIN -o FILE\n"
    "                    what a real domain serves for Autodiscover, written as a scenario\n"
    "\n"
    "options:\n"
    "  --quiet, -q       no notes or progress on stderr (errors are still printed); NO_COLOR in\n"
    "                    the environment turns colour off\n"
    "  --ca-dir DIR      the lab CA's directory (default: $AUTODISCO_CA_DIR, else\n"
    "                    $XDG_DATA_HOME/autodisco/ca, else ~/.local/share/autodisco/ca)\n"
    "  --version         the version\n"
    "  --help, -h        this text; `autodisco COMMAND --help` for a command\n";

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
  if (strcmp(cmd, "probe") == 0) {
    return cmd_probe(&c, sub_argc, sub_argv);
  }
  if (strcmp(cmd, "snapshot") == 0) {
    return cmd_snapshot(&c, sub_argc, sub_argv);
  }
  if (strcmp(cmd, "kit") == 0) {
    return cmd_kit(&c, sub_argc, sub_argv);
  }
  if (strcmp(cmd, "report") == 0) {
    return cmd_report(&c, sub_argc, sub_argv);
  }
  cli_error("unknown command \"%s\" (run, check, diff, probe, snapshot, serve, report, sandbox, "
            "kit, ca, validate; see autodisco --help)",
            cmd);
  return EXIT_BAD_INPUT;
}
