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

/* lab_expect_check compares a transcript with an expectation and appends one line per
 * mismatch to `failures` ("file:line:col: expected ..., got ..."); returns the number of
 * mismatches. */
size_t lab_expect_check(const struct scn_expect *e, const struct sim_transcript *t,
                        struct buf *failures);
/* lab_expect_for returns the expectation for a client model, or NULL. */
const struct scn_expect *lab_expect_for(const struct scn *s, const char *client);

/* One client walk of a lab run. */
struct lab_result {
  const struct scn_client *client;  /* the scenario's, or default_client */
  struct scn_client default_client; /* settings of a client the scenario does not configure */
  struct sim_transcript *transcript;
  const struct scn_expect *expect; /* NULL: nothing expected */
  size_t n_failures;
  struct buf failures;
};

struct lab_run_options {
  struct ca *ca;
  struct jnl *jnl;            /* server and client events; may be NULL */
  const char *const *clients; /* models to walk; n_clients == 0 → the scenario's */
  size_t n_clients;
  const char *email;   /* NULL → the scenario's */
  unsigned timeout_ms; /* per network operation; 0 → the models' own */
  double clock_scale;  /* 0: 1000 (default); 1: real time */
};

/* lab_run starts the scenario's network, walks every client through it and checks the
 * expectations. Returns 0 with *out_results (n_results) filled, or -1 with a sentence in err. */
int lab_run(const struct scn *s, const struct lab_run_options *opt, struct lab_result **out_results,
            size_t *out_n, char *err, size_t err_size);
void lab_results_free(struct lab_result *r, size_t n);

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

#endif
