/* lab/journal_internal.h: what the journal reader's files share — one journal line as the
 * reader keeps it (its time, kind and the scalar fields the reports use) and the two ways a
 * session of lines becomes a transcript: inferred from the server's events, or rebuilt from a
 * model's own step.* events. */
#ifndef AD_LAB_JOURNAL_INTERNAL_H
#define AD_LAB_JOURNAL_INTERNAL_H

#include "lab/report.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The fields kept from an event, by name (jrec__field_names spells them). Objects and lists
 * are not kept, except "authorization", whose "scheme" becomes JF_AUTH_SCHEME. */
enum jf {
  JF_HOST,
  JF_LOCAL,
  JF_PEER,
  JF_QNAME,
  JF_QTYPE,
  JF_RCODE,
  JF_ANSWERS,
  JF_DROPPED,
  JF_WHY,
  JF_ALERT,
  JF_OK,
  JF_ERROR,
  JF_STATE,
  JF_TLS,
  JF_METHOD,
  JF_PATH,
  JF_TARGET,
  JF_EMAIL,
  JF_STATUS,
  JF_ROUTE,
  JF_CHALLENGED,
  JF_CLIENT,
  JF_INDEX,
  JF_STEP,
  JF_URL,
  JF_RESULT,
  JF_DETAIL,
  JF_DNS_ANSWER,
  JF_DNS_ERROR,
  JF_CONNECT_ERROR,
  JF_TLS_ERROR,
  JF_CERT_FAILURES,
  JF_HTTP_STATUS,
  JF_REDIRECT_TO,
  JF_AUTH_SCHEMES,
  JF_TIMED_OUT,
  JF_ELAPSED_MS,
  JF_KIND,
  JF_REASON,
  JF_ACCEPTED,
  JF_SUCCESS,
  JF_FINAL_URL,
  JF_EWS_URL,
  JF_SETTINGS_EMAIL,
  JF_SERVER,
  JF_TOTAL_MS,
  JF_LOCATION,
  JF_HOST_ID,
  JF_ANSWER,
  JF_RAW,
  JF_AUTH_SCHEME,
  JF_N
};

/* One journal line. */
struct jrec {
  unsigned line;
  int64_t t_us; /* microseconds since the epoch */
  char *ev;
  char *f[JF_N];               /* scalar text as written; NULL when absent or null */
  struct lab_desc *lab;        /* lab.start: what it describes (owned) */
  struct lab_finding *finding; /* finding: what it says (owned) */
};

/* jrec__str returns a field's text or NULL. */
const char *jrec__str(const struct jrec *r, enum jf f);
/* jrec__bool is true when the field is the JSON literal true. */
bool jrec__bool(const struct jrec *r, enum jf f);
/* jrec__num reads a number field; false when absent or not a number. */
bool jrec__num(const struct jrec *r, enum jf f, double *out);
/* jrec__is says whether the event is of kind `ev`. */
bool jrec__is(const struct jrec *r, const char *ev);

/* How a session (the lines after one lab.start) is read. */
struct jsession {
  const struct jrec *recs;
  size_t n;
  const struct lab_desc *lab; /* the session's lab.start, else the scenario's, or NULL */
  const struct lab_journal_options *opt;
  const struct scn_client *cfg;    /* the scenario's settings for opt->client, or NULL */
  struct sim_prompt_policy policy; /* opt->client's, else every prompt a model shows */
};

/* --- inference: journal_infer.c groups a session's events into units of work,
 * journal_steps.c names each as a step and fills it --- */

enum { JINFER_HOST_MAX = 256 };

/* One connection the lab accepted, as its events tell it. */
struct jconn {
  const char *local, *peer; /* the key its events share (borrowed from the records) */
  const char *host_id;      /* tcp.accept's host */
  bool tls;
  bool hello;
  const char *sni;
  const char *alert; /* the first alert the client sent during the handshake */
  bool done, ok;
  const char *tls_error, *tls_state;
  bool reset;
  const char *http_error;
  const struct jrec **reqs; /* exchanges: reqs[i] answered by resps[i] (NULL: no answer) */
  const struct jrec **resps;
  size_t n_x;
  int64_t t_first, t_tls_last, t_last;
};

/* One name looked up: consecutive queries for it (A and AAAA, retries) together. */
struct jlookup {
  const char *qname;
  bool srv;
  bool ok;
  const char *error; /* NXDOMAIN, NODATA, SERVFAIL, REFUSED, timeout, ... */
  bool error_from_a; /* the error is an A or SRV query's (an AAAA's counts less) */
  unsigned negative; /* the types (1: A, 4: SRV) answered NXDOMAIN or NODATA so far: the
                        same type asked again is another step's question */
  int64_t t_first, t_last;
};

enum jitem_kind { ITEM_LOOKUP, ITEM_CONN };
struct jitem {
  enum jitem_kind kind;
  size_t i; /* into lookups or conns */
};

/* A unit of work: what becomes one step. */
struct junit {
  int64_t t_start, t_end;
  char host[JINFER_HOST_MAX]; /* the name asked (lowercase, no port) */
  bool https;
  const struct jlookup *lk; /* the lookup that led here, or NULL */
  struct jconn *c;          /* NULL: the name was looked up and nothing reached the lab */
  size_t x_first, x_n;      /* c's exchanges in this unit */
  bool tls_part;            /* the unit carries c's handshake */
  struct jconn *refused;    /* an earlier connection of the same step that refused the cert */
  bool challenged_before;   /* an earlier connection of the same step was answered 401 */
  bool drop;                /* merged into the next unit */
};

struct jinfer {
  const struct jsession *s;
  struct jconn *conns;
  size_t n_conns;
  struct jlookup *lookups;
  size_t n_lookups;
  struct jitem *items;
  size_t n_items;
  struct junit *units;
  size_t n_units;
  /* while naming the units */
  struct sim_transcript *t;
  char domain[JINFER_HOST_MAX];       /* the domain being discovered (changes after redirectAddr) */
  char pending_host[JINFER_HOST_MAX]; /* a redirect's target host, expected next */
  char *pending_url;
  unsigned n_redirects; /* redirect targets followed */
  char **visited;       /* the URLs steps asked, lowercase: a redirect back to one is a loop */
  size_t n_visited;
  bool pending_srv; /* an SRV answer's target (not named in the journal) is expected next */
  bool pending_consent;
  size_t pending_from; /* the step whose answer offered the target */
  bool srv_next;       /* an SRV target failed: the answer's next target may follow (§5) */
};

/* jinfer__step adds the step unit `u` becomes to in->t, with the prompts it raised. */
struct sim_step *jinfer__step(struct jinfer *in, const struct junit *u);

/* Helpers both files use. */
void jinfer__lower_copy(char *out, size_t out_size, const char *s, size_t len);
/* jinfer__host_part copies a Host header, name or address:port, lowercase, without port. */
void jinfer__host_part(char *out, size_t out_size, const char *s);
/* jinfer__url_host copies the host of an absolute URL; "" when it is none. */
void jinfer__url_host(char *out, size_t out_size, const char *url);
/* jinfer__domain_of returns what follows the '@' of an address, or NULL. */
const char *jinfer__domain_of(const char *email);
bool jinfer__host_eq(const char *a, const char *b);
/* jinfer__is_autodiscover_of says whether `host` is autodiscover.<domain>. */
bool jinfer__is_autodiscover_of(const char *host, const char *domain);
/* jinfer__conn_host finds the lab host a connection reached. */
const struct lab_host_desc *jinfer__conn_host(const struct jinfer *in, const struct jconn *c);
/* jinfer__tls_failed says whether a TLS connection's handshake did not finish. */
bool jinfer__tls_failed(const struct jconn *c);

/* jinfer__transcript infers a real client's walk from the server-side events of a session
 * (caller frees). */
struct sim_transcript *jinfer__transcript(const struct jsession *s);
/* jclient__transcripts rebuilds each model walk of a `run --journal` session from its step.*,
 * prompt and result events; appends them to *out (n_out) and returns how many there were. */
size_t jclient__transcripts(const struct jsession *s, struct sim_transcript ***out, size_t *n_out);

/* jinfer__cert_failures judges the certificate `c` for `host` at time t_us: the Security
 * Alert's checks (enum sim_cert_failure bits). */
unsigned jinfer__cert_failures(const struct lab_cert_desc *c, const char *host, int64_t t_us);

#endif
