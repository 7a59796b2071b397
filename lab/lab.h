/* lab/lab.h: running a scenario — the lab network and the client walks on one loop — and
 * checking what the clients did against the scenario's expectations. */
#ifndef AD_LAB_LAB_H
#define AD_LAB_LAB_H

#include "certs/ca.h"
#include "client/sim.h"
#include "common/buf.h"
#include "lab/model/scn.h"
#include "proxy/journal/jnl.h"

#include <stdbool.h>
#include <stddef.h>

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
};

/* lab_run starts the scenario's network, walks every client through it and checks the
 * expectations. Returns 0 with *out_results (n_results) filled, or -1 with a sentence in err. */
int lab_run(const struct scn *s, const struct lab_run_options *opt, struct lab_result **out_results,
            size_t *out_n, char *err, size_t err_size);
void lab_results_free(struct lab_result *r, size_t n);

#endif
