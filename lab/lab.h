/* lab/lab.h: running a scenario — the lab network and the client walks on one loop — and
 * checking what the clients did against the scenario's expectations. */
#ifndef AD_LAB_LAB_H
#define AD_LAB_LAB_H

#include "certs/ca.h"
#include "client/sim.h"
#include "common/buf.h"
#include "journal/jnl.h"
#include "scenario/scn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* lab_expect_check compares a transcript with an expectation and appends one line per
 * mismatch to `failures` ("file:line:col: expected ..., got ..."); returns the number of
 * mismatches. */
size_t lab_expect_check(const struct scn_expect *e, const struct sim_transcript *t,
                        struct buf *failures);
/* lab_expect_for returns the expectation for a client model, or NULL. */
const struct scn_expect *lab_expect_for(const struct scn *s, const char *client);

/* One client walk of a lab run. */
struct lab_result {
  const struct scn_client *client; /* &settings */
  struct scn_client settings;      /* what the walk was given: the scenario's settings for the
                                      model with the run's (--set) on top (owned) */
  struct sim_transcript *transcript;
  const struct scn_expect *expect; /* NULL: nothing expected */
  size_t n_failures;
  struct buf failures;
};

struct lab_run_options {
  struct ca *ca;
  struct jnl *jnl;            /* server and client events; may be NULL */
  const char *const *clients; /* models to walk; n_clients == 0 → the scenario's, then each of
                                 `models` the scenario does not list */
  size_t n_clients;
  const struct scn_client *settings;     /* --set: given to every walk, over the scenario's;
                                            may be NULL */
  const struct sim_model *const *models; /* users' own models (--client-file), known besides
                                            the built-in ones */
  size_t n_models;
  const char *email;   /* NULL → the scenario's */
  unsigned timeout_ms; /* per network operation; 0 → the models' own */
  double clock_scale;  /* 0: 1000 (default); 1: real time */
};

/* lab_run starts the scenario's network, walks every client through it and checks the
 * expectations. Returns 0 with *out_results (n_results) filled, or -1 with a sentence in err. */
int lab_run(const struct scn *s, const struct lab_run_options *opt, struct lab_result **out_results,
            size_t *out_n, char *err, size_t err_size);
/* lab_run_clients writes the names of the models a run of `s` walks, in order, into `out` (room
 * for opt->n_clients + s->n_clients + opt->n_models + 1 names, borrowed) and returns how many:
 * opt->clients, else the scenario's clients and then each of opt->models it does not list, else
 * outlook-2016-msi. */
size_t lab_run_clients(const struct scn *s, const struct lab_run_options *opt, const char **out);
/* lab_model_named finds a model by name among `models` (users' own), then the built-in ones;
 * NULL when there is none. */
const struct sim_model *lab_model_named(const struct sim_model *const *models, size_t n_models,
                                        const char *name);
/* lab_models_known writes every model name a run knows, comma-separated, into `out`. */
void lab_models_known(const struct sim_model *const *models, size_t n_models, char *out,
                      size_t out_size);
void lab_results_free(struct lab_result *r, size_t n);

/* What `run` prints (lab/report_run.c). lab_results_failing counts the clients whose
 * expectations fail; lab_run_text writes each walk's transcript, its expectations and the
 * verdict (colours when `color`); lab_run_json the same as one JSON document
 * (docs/transcript.md). */
size_t lab_results_failing(const struct lab_result *r, size_t n);
void lab_run_text(FILE *out, const struct scn *s, const struct lab_result *r, size_t n, bool color);
void lab_run_json(FILE *out, const struct scn *s, const struct lab_result *r, size_t n);

/* lab_format_ms writes a lab duration for people: "45 ms" below a second, else "21.0 s". */
void lab_format_ms(char *out, size_t out_size, double ms);
/* lab_prompt_describe appends a prompt's short form: "certificate contoso.com (expired)",
 * "redirect mail.hoster.net" (without the URL offered). */
void lab_prompt_describe(struct buf *out, const struct sim_prompt *p);
/* lab_prompts_summary appends every prompt's short form, comma-separated; nothing when the walk
 * showed none. */
void lab_prompts_summary(struct buf *out, const struct sim_transcript *t);
/* lab_step_names appends the names of the steps a walk tried (skipped ones are not tried) as
 * "a, b, c", or "none". */
void lab_step_names(const struct sim_transcript *t, struct buf *out);

/* What `check` reports for one client of one scenario (or for a scenario that could not run):
 * small enough to travel from a worker process to the parent. Strings are owned. */
enum lab_verdict {
  LAB_PASS = 0,  /* every expectation holds */
  LAB_FAIL,      /* one fails; failures holds the lines */
  LAB_NO_EXPECT, /* the scenario expects nothing of this client */
  LAB_ERROR,     /* the scenario could not run (bad input); failures holds why */
};
struct lab_check_row {
  uint32_t scenario; /* index in the caller's list of scenario files */
  enum lab_verdict verdict;
  char *client;   /* NULL for LAB_ERROR rows about the whole scenario */
  char *prompts;  /* lab_prompts_summary, "" when none */
  char *failures; /* "file:line:col: ...\n" lines, "" when none */
  double lab_ms;  /* the transcript's total_ms */
};

/* lab_verdict_name: "PASS", "FAIL", "NO-EXPECT", "ERROR". */
const char *lab_verdict_name(enum lab_verdict v);
/* lab_check_rows turns the results of one lab_run into rows for scenario `index`; the caller
 * frees them with lab_check_rows_free. */
struct lab_check_row *lab_check_rows(uint32_t index, const struct lab_result *r, size_t n);
void lab_check_rows_free(struct lab_check_row *rows, size_t n);
/* lab_check_row_cleanup frees a row's strings. */
void lab_check_row_cleanup(struct lab_check_row *row);
/* lab_check_row_encode appends a row to `out` as one length-prefixed binary frame (the
 * format between `check --jobs` workers and their parent); false when `out` is full. */
bool lab_check_row_encode(struct buf *out, const struct lab_check_row *row);
/* lab_check_row_decode reads one frame from the front of `in`: returns the bytes it used and
 * fills *out (the caller cleans it up), 0 when `in` does not yet hold a whole frame, or
 * (size_t) -1 when the bytes are not a frame. */
size_t lab_check_row_decode(struct slice in, struct lab_check_row *out);

/* `check`: many scenario files, each run with its clients (lab/check.c). */

/* What came back for one scenario file (with a sweep: for one scenario file and one value). */
struct lab_check_scenario {
  const char *path;    /* borrowed from the caller's list */
  const char *setting; /* --sweep: "NAME=VALUE" of this run (borrowed), else NULL */
  size_t variant;      /* --sweep: the index of that value */
  struct scn *scn;     /* NULL when it did not load */
  size_t n_expected;   /* rows it will give when it runs: one per client */
  struct lab_check_row *rows;
  size_t n_rows;
  bool done; /* every row is in (or its one LAB_ERROR row) */
};

/* lab_check_progress_cb is told each time a scenario is done: n_done of n, its path. */
typedef void (*lab_check_progress_cb)(void *arg, size_t n_done, size_t n, const char *path);
/* lab_check_note_cb gets a sentence for people about the run itself (no worker processes could
 * be started, a worker died); the report is complete without it. */
typedef void (*lab_check_note_cb)(void *arg, const char *sentence);

struct lab_check_options {
  struct lab_run_options run;        /* ca, clients, settings, models, timeout_ms, clock_scale */
  const struct scn_client *variants; /* --sweep: each scenario runs once with each of these as
                                        run.settings (n_variants of them; 0: no sweep) */
  const char *const *variant_labels; /* "NAME=VALUE" for each, shown with its rows */
  size_t n_variants;
  unsigned jobs;                  /* worker processes; 0 or 1: in this process */
  lab_check_progress_cb progress; /* may be NULL; called in this process only */
  lab_check_note_cb note;         /* may be NULL */
  void *arg;                      /* for progress and note */
  const char *html_dir;           /* an existing folder: each walk's page is written there
                                     (lab_check_page_name), by whichever process ran it; NULL:
                                     none */
};

struct lab_check {
  struct lab_check_scenario *scenarios; /* one per path, in the caller's order */
  size_t n;
  size_t n_done;
};

/* lab_check_run loads each of the n `paths` (borrowed: they must outlive `k`) and runs the
 * scenarios that load (with a sweep, each once per variant: k->n is n * n_variants, the entries
 * of one path together in the order of the variants), in opt->jobs forked worker processes (no more
 * than there are scenarios), each taking the next scenario when it is done with one and sending its
 * rows back over a pipe. `k` gets every scenario's rows in the order of `paths`, whichever worker
 * finished first; a scenario that does not load or run, or whose worker stopped, gets one LAB_ERROR
 * row saying why. Release `k` with lab_check_cleanup. */
void lab_check_run(struct lab_check *k, const char *const *paths, size_t n,
                   const struct lab_check_options *opt);
void lab_check_cleanup(struct lab_check *k);

struct lab_check_totals {
  size_t by[LAB_ERROR + 1]; /* rows per verdict */
  double lab_ms;            /* the walks' lab time together */
};
struct lab_check_totals lab_check_count(const struct lab_check *k);

/* What `check` prints (lab/report_check.c). lab_check_table writes the table for people, the
 * failures after it and the count (colours the verdicts when `color`); lab_check_json the same
 * as one JSON document with `exit_status` in it; lab_check_junit a JUnit XML file (a testsuite per
 * scenario file, a testcase per client, time in lab seconds), false when it cannot be written. */
void lab_check_table(const struct lab_check *k, FILE *out, bool color);
void lab_check_json(const struct lab_check *k, FILE *out, int exit_status);
bool lab_check_junit(const struct lab_check *k, const char *path);
/* lab_check_html_index writes DIR/index.html (lab/report_check_html.c): one self-contained page
 * with a row per scenario × client — its verdict, prompts, lab time and failures, linked to the
 * walk's page (lab_check_page_name) — and the totals. False with a sentence in `err` when the
 * index cannot be written or a walk's page is missing from DIR (the index is written anyway). */
bool lab_check_html_index(const struct lab_check *k, const char *dir, char *err, size_t err_size);
/* lab_run_junit writes the walks of one `run` as JUnit XML: a testsuite for the scenario file, a
 * testcase per client, as `check --junit` writes them. */
bool lab_run_junit(FILE *out, const struct scn *s, const struct lab_result *r, size_t n);

/* What changes for one client between two walks (`autodisco diff`). Arrays point into the
 * transcripts, which must outlive the diff. */
struct lab_diff {
  const char *client;
  const struct sim_prompt **prompts_gone; /* shown before, not after (kind, host, reason) */
  size_t n_prompts_gone;
  const struct sim_prompt **prompts_new;
  size_t n_prompts_new;
  const char **steps_gone; /* step names no longer tried (a longest common subsequence of the
                              two name sequences is what stays) */
  size_t n_steps_gone;
  const char **steps_new;
  size_t n_steps_new;
  bool outcome_changed;
  bool final_url_changed;
  bool ews_url_changed;
  bool settings_email_changed;
  bool wait_changed; /* by more than lab noise: 500 ms and a tenth of the longer wait */
  const struct sim_transcript *before;
  const struct sim_transcript *after;
};

/* lab_diff_init compares two walks of the same client; lab_diff_cleanup frees the arrays. */
void lab_diff_init(struct lab_diff *d, const struct sim_transcript *before,
                   const struct sim_transcript *after);
void lab_diff_cleanup(struct lab_diff *d);
/* lab_diff_changed says whether anything differs. */
bool lab_diff_changed(const struct lab_diff *d);
/* lab_diff_text appends one sentence (with a newline): "outlook-2016-msi: the certificate
 * prompt for contoso.com (expired) goes away; nothing else changes (same settings from URL)." */
void lab_diff_text(const struct lab_diff *d, struct buf *out);
/* lab_diff_json writes the same facts as one object into a JSON document being built. */
void lab_diff_json(const struct lab_diff *d, struct jnl_event *doc);
/* One side of `diff`: the walks to compare (borrowed) and the file they came from. */
struct lab_diff_side {
  const char *path;
  const struct sim_transcript *const *t;
  size_t n;
  bool one_real_client; /* one real client's journal: it pairs with every walk of the other
                           side ("model vs real client"); otherwise walks pair by client name */
};
/* lab_diff_report writes what `diff` prints: for each pair of walks, one lab_diff_text
 * sentence, or (`json`) one JSON document with both paths and a lab_diff_json object per
 * pair. */
void lab_diff_report(FILE *out, const struct lab_diff_side *before,
                     const struct lab_diff_side *after, bool json);

/* The sandbox (lab/sandbox.c, Linux): what `autodisco sandbox` sets up before it runs a
 * command. Failures return a status and write a sentence for people into err. */
enum lab_sandbox_status {
  LAB_SANDBOX_OK = 0,
  LAB_SANDBOX_EPERM, /* not allowed to create namespaces (needs root: CAP_SYS_ADMIN) */
  LAB_SANDBOX_ESYS,  /* a system call failed; the sentence says which and why */
};

/* lab_sandbox_enter moves this process into new network and mount namespaces, keeps its mounts
 * from propagating back to the host and brings the loopback interface up (which makes all of
 * 127.0.0.0/8 local). Must run before any thread starts: unshare(CLONE_NEWNS) refuses a
 * multithreaded process. */
enum lab_sandbox_status lab_sandbox_enter(char *err, size_t err_size);

/* The temporary files the sandbox mounts over the system's (caller's storage, zeroed first). */
struct lab_sandbox_files {
  char dir[64];
  char resolv[128];
  char hosts[128];
  char bundle[128];
  bool resolv_mounted;
  bool hosts_mounted;
  bool bundle_mounted;
};

/* lab_sandbox_files_init writes resolv.conf (the lab's DNS on 127.0.0.1), hosts (localhost
 * only) and a CA bundle (the system's plus `lab_ca_pem`) into a fresh directory under /tmp,
 * mounts them over the system's files and points SSL_CERT_FILE, REQUESTS_CA_BUNDLE,
 * CURL_CA_BUNDLE and NODE_EXTRA_CA_CERTS at the bundle. Whatever it returns,
 * lab_sandbox_files_cleanup undoes what was done: the mounts first, then the files and their
 * directory (LAB_SANDBOX_ESYS when the directory cannot be removed). */
enum lab_sandbox_status lab_sandbox_files_init(struct lab_sandbox_files *f, const char *lab_ca_pem,
                                               char *err, size_t err_size);
enum lab_sandbox_status lab_sandbox_files_cleanup(struct lab_sandbox_files *f, char *err,
                                                  size_t err_size);

/* Dropping root (lab/privileges.c): `serve` binds ports 53, 80 and 443 as root, then becomes an
 * unprivileged user before it reads a byte from a client. */
enum lab_priv_status {
  LAB_PRIV_DROPPED = 0, /* the process now runs as the user, for good */
  LAB_PRIV_NOT_ROOT,    /* not root: nothing to drop */
  LAB_PRIV_EUSER,       /* no such user, or the user is root itself */
  LAB_PRIV_ESYS,        /* a system call failed, or root could be regained: do not serve */
};

/* The user to become, looked up while the user database can still be read. */
struct lab_priv_user {
  char name[64];
  uid_t uid;
  gid_t gid;
};

/* lab_priv_lookup finds `name` (a user name, or a numeric uid) in the user database;
 * LAB_PRIV_EUSER with a sentence when there is none or it is root. */
enum lab_priv_status lab_priv_lookup(struct lab_priv_user *out, const char *name, char *err,
                                     size_t err_size);
/* lab_priv_can_write_dir says whether u could create and rename files in the folder of
 * `file_path` (write and search permission, judged with u's ids: the effective ids are switched
 * to u's and back). Root only; it drops the supplementary groups, which lab_priv_drop does
 * anyway. */
bool lab_priv_can_write_dir(const struct lab_priv_user *u, const char *file_path);
/* lab_priv_drop, when the process runs as root (real or effective uid 0), drops every
 * supplementary group (setgroups(0)), sets the real, effective and saved gid and then uid to
 * u's, and checks that none of them is 0 any more and that setuid(0) fails; the capabilities go
 * with root (Linux clears them when the uids leave 0). Files opened before stay usable. Not
 * root: LAB_PRIV_NOT_ROOT and nothing changes. LAB_PRIV_ESYS with a sentence when a step fails:
 * the caller must stop. */
enum lab_priv_status lab_priv_drop(const struct lab_priv_user *u, char *err, size_t err_size);

#endif
