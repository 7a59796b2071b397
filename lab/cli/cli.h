/* lab/cli/cli.h: the command line's pieces — the printer for people (cli.c), the scenario file
 * lists (files.c) and the commands (cmd_*.c) main.c dispatches to. The arrows run one way:
 * main.c → cmd_*.c → cli.c, files.c; the work itself is the lab's (lab/lab.h). */
#ifndef AD_LAB_CLI_CLI_H
#define AD_LAB_CLI_CLI_H

#include "certs/ca.h"
#include "client/sim.h"
#include "scenario/scn.h"

#include <stdbool.h>
#include <stdio.h>

/* Exit codes: the contract in docs/commands.md. */
enum { EXIT_HOLDS = 0, EXIT_FAILS = 1, EXIT_BAD_INPUT = 2 };

struct cli {
  bool quiet;         /* --quiet: no progress or notes on stderr */
  bool color;         /* stdout is a terminal and NO_COLOR is unset */
  const char *ca_dir; /* --ca-dir, else NULL: ca_default_dir */
};

/* The printer (cli.c). */

/* cli_error prints "autodisco: message" on stderr (always, even with --quiet). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* cli_note prints a note for people on stderr unless --quiet. */
void cli_note(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* cli_open_ca opens (creating on first use) the CA for run and serve; NULL after an error. */
struct ca *cli_open_ca(const struct cli *c);

/* What every command that walks client models takes besides its own options (cli.c):
 * --set NAME=VALUE (repeatable: a setting given to every walk, docs/clients.md) and
 * --client-file FILE (repeatable: a user's own model). */
struct cli_walk {
  struct scn_client settings; /* the --set settings (`given` says which) */
  struct sim_model **models;  /* from --client-file (owned) */
  size_t n_models;
};
/* cli_set applies one --set; false after cli_error (an unknown name lists the known ones). */
bool cli_set(struct cli_walk *w, const char *assignment);
/* cli_client_file loads one --client-file; false after cli_error ("file:line:col: ..."). */
bool cli_client_file(struct cli_walk *w, const char *path);
/* cli_walk_settings returns the --set settings, or NULL when none was given. */
const struct scn_client *cli_walk_settings(const struct cli_walk *w);
void cli_walk_cleanup(struct cli_walk *w);

/* The commands, one file each; each parses its own arguments and returns an exit code. */
int cmd_run(struct cli *c, int argc, char **argv);
int cmd_serve(struct cli *c, int argc, char **argv);
int cmd_ca(struct cli *c, int argc, char **argv);
int cmd_validate(struct cli *c, int argc, char **argv);
int cmd_check(struct cli *c, int argc, char **argv);
int cmd_diff(struct cli *c, int argc, char **argv);
int cmd_sandbox(struct cli *c, int argc, char **argv);
int cmd_kit(struct cli *c, int argc, char **argv);
int cmd_probe(struct cli *c, int argc, char **argv);
int cmd_report(struct cli *c, int argc, char **argv);
/* cmd_check_journal is `check SCENARIO --journal JOURNAL --client NAME` (cmd_report.c): the
 * scenario's expectations for model NAME held against a real client's journal. */
int cmd_check_journal(struct cli *c, const char *journal, const char *const *scenarios,
                      size_t n_scenarios, const char *const *clients, size_t n_clients, bool json);
int cmd_snapshot(struct cli *c, int argc, char **argv);

/* A list of scenario files to work on, in the order to report them (files.c). */
struct cli_files {
  char **paths; /* owned */
  size_t n;
};
/* cli_files_add adds `arg`: a file as it is, or a directory's *.yaml files found recursively,
 * sorted, without those whose name starts with '_' (bases for `extends:` only) and without
 * hidden folders. Returns false (after cli_error) when `arg` cannot be read. */
bool cli_files_add(struct cli_files *f, const char *arg);
void cli_files_cleanup(struct cli_files *f);

#endif
