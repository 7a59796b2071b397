/* lab/report.h: what a journal says — the lab it describes (the lab.start event), the
 * transcripts read from it (a real client's steps inferred from the server-side events, or a
 * model's own step.* events), findings — and the pages and verdicts made from them: `report`,
 * `check --journal`, `diff` with journals and `run --format html`. */
#ifndef AD_LAB_REPORT_H
#define AD_LAB_REPORT_H

#include "certs/ca.h"
#include "client/sim.h"
#include "journal/jnl.h"
#include "scenario/scn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct proxy;

/* --- the lab as lab.start describes it (docs/journal.md) --- */

/* A route as the lab answers it, enough to tell what a response meant; or one of its answers
 * (route.answers: http.response's `answer` says which one answered a request). */
struct lab_route_desc {
  char *path;          /* an answer: its route's */
  char *method;        /* NULL: any */
  char *kind;          /* "status", "redirect", "autodiscover", "autodiscover-v2", "soap",
                          "upstream"; "answers" for a route with answers */
  unsigned status;     /* status and redirect routes */
  char *location;      /* redirect: Location */
  char *answer;        /* autodiscover: "settings", "redirectAddr", "redirectUrl", "error" */
  char *redirect;      /* redirectAddr's address or redirectUrl's URL */
  char *ews_url;       /* settings: EwsUrl */
  char *server;        /* settings: Server */
  unsigned error_code; /* error */
  char *challenges;    /* auth: the schemes challenged ("Basic, NTLM"), or NULL */
  unsigned first;      /* an answer: chosen for its first N requests only (0: any) */
  char *for_email;     /* an answer: chosen only for this address, or NULL */
  struct lab_route_desc *answers; /* kind "answers": its answers, in order */
  size_t n_answers;
};

/* The certificate a host's HTTPS listener presents. */
struct lab_cert_desc {
  bool present;
  char *profile; /* "valid", "expired", ... */
  char *subject; /* common name */
  char *issuer;  /* common name */
  char **names;  /* DNS names it certifies (SAN) */
  size_t n_names;
  bool has_dates;
  int64_t not_before; /* unix seconds */
  int64_t not_after;
  bool trusted; /* its chain leads to the lab CA (dates and names aside) */
};

struct lab_port_desc {
  bool present;     /* false: connections are refused */
  unsigned port;    /* where it listens (0: not known, or refused) */
  unsigned nominal; /* the port clients connect to: 443, 80, or a listeners: entry's */
  bool tls;         /* HTTPS */
  char *fault;      /* "blackhole", "reset", "reset-after-hello", "silent", or NULL */
  struct lab_route_desc *routes;
  size_t n_routes;
  struct lab_cert_desc cert; /* a listeners: entry with TLS: its certificate (the https port's
                                is the host's `cert`) */
};

struct lab_host_desc {
  char *id;
  char **names;
  size_t n_names;
  char *address; /* NULL when not known */
  struct lab_port_desc https;
  struct lab_port_desc http;
  struct lab_cert_desc cert;
  struct lab_port_desc *ports; /* listeners: the other ports */
  size_t n_ports;
};

struct lab_desc {
  char *scenario_path;
  char *scenario_name;
  char *domain;
  char *email;
  char *dns; /* "addr:port", or NULL */
  char **scp_urls;
  size_t n_scp_urls;
  struct lab_host_desc *hosts;
  size_t n_hosts;
};

/* lab_desc_of_scn describes a scenario's lab without running it: no addresses, ports or
 * certificate dates (the profile says the rest). Caller frees. */
struct lab_desc *lab_desc_of_scn(const struct scn *s);
void lab_desc_free(struct lab_desc *d);
/* lab_desc_host_named returns the host that answers to `name` (a DNS name, any case; a port
 * after ':' is ignored), or NULL. */
const struct lab_host_desc *lab_desc_host_named(const struct lab_desc *d, const char *name);
/* lab_desc_host_id returns the host with that id, or NULL. */
const struct lab_host_desc *lab_desc_host_id(const struct lab_desc *d, const char *id);
/* lab_desc_port finds h's listener a connection reached: the one bound at `bound` (the local
 * port of the connection, 0: not known), else the https or http one as `tls` says. */
const struct lab_port_desc *lab_desc_port(const struct lab_host_desc *h, bool tls, unsigned bound);
/* lab_desc_cert returns the certificate port `p` of h presents (h->cert for https). */
const struct lab_cert_desc *lab_desc_cert(const struct lab_host_desc *h,
                                          const struct lab_port_desc *p);

/* lab_journal_start writes the lab.start event once the scenario's network `p` is up: the
 * scenario, its domain and address, the DNS address, and per host its names, address, ports,
 * routes and the certificate presented (`ca` mints the same chain the proxy serves: the chain
 * cache answers). Nothing happens when j is NULL. */
void lab_journal_start(struct jnl *j, const struct scn *s, const struct proxy *p, struct ca *ca);
/* lab_journal_start in two halves, for `serve`, which gives root up in between: describing the
 * lab reads the CA's files (caller frees the description), writing it does not. */
struct lab_desc *lab_start_describe(const struct scn *s, const struct proxy *p, struct ca *ca);
void lab_journal_start_desc(struct jnl *j, const struct lab_desc *d, const struct proxy *p);

/* --- reading a journal --- */

/* Something the lab noticed about a client, from a `finding` event (a credential leak, ...). */
struct lab_finding {
  char *kind;    /* e.g. "credential-leak" */
  char *host;    /* or NULL */
  char *text;    /* one sentence: the event's why/detail/message and its other fields */
  unsigned line; /* in the journal */
};

struct lab_journal {
  char *path;
  struct lab_desc *lab; /* from the last lab.start, or NULL when the journal has none */
  /* In the journal's order: the model walks of a `run --journal` (one per step.* client), or
   * for a session of server events only, one transcript of the real client, inferred. */
  struct sim_transcript **transcripts;
  bool *inferred; /* per transcript: from server events (true) or the client's own (false) */
  size_t n_transcripts;
  struct lab_finding *findings;
  size_t n_findings;
  char **notes; /* "file:line: ..." for what was read past: a cut-short last line, ... */
  size_t n_notes;
  size_t n_events;
};

struct lab_journal_options {
  const struct scn *scn; /* the scenario the lab ran, or NULL: lab.start is all there is */
  const char *client;    /* the model whose prompt policy and settings (in scn) apply, or NULL:
                            every certificate failure prompts, consent for redirects */
  const char *label;     /* the inferred transcript's client name; NULL: `client`, else
                            "real-client" */
};

/* lab_journal_read reads a JSON-lines journal (docs/journal.md) with libfyaml. Returns 0 with
 * *out set (free it with lab_journal_free), or -1 with `err` holding "file:line:col: message"
 * for a line that is not one JSON object with a time and a kind, or "file: ..." when the file
 * cannot be read or holds no event. A last line cut short (a killed process) is a note. */
int lab_journal_read(struct lab_journal **out, const char *path,
                     const struct lab_journal_options *opt, char *err, size_t err_size);
/* lab_journal_read_string reads journal text already in memory; `path` names it. */
int lab_journal_read_string(struct lab_journal **out, const char *path, const char *text,
                            size_t len, const struct lab_journal_options *opt, char *err,
                            size_t err_size);
void lab_journal_free(struct lab_journal *j);
/* lab_is_journal says whether the file looks like a journal: its first non-blank byte is '{'
 * (a scenario starts with a key or a comment). */
bool lab_is_journal(const char *path);
/* lab_journal_pick returns the transcript to hold against model `client`: the model's own walk
 * when the journal has one, else the last inferred one; NULL when there is none. */
const struct sim_transcript *lab_journal_pick(const struct lab_journal *j, const char *client);

/* --- reports --- */

/* lab_journal_text prints what the journal says for people: each transcript (as `run` prints
 * it, prompts standing out), the findings and the notes. */
void lab_journal_text(const struct lab_journal *j, FILE *out, bool color);
/* lab_journal_json returns the same as one JSON object (caller frees):
 * {"journal","scenario":{..}|null,"clock":"wall","clients":[{"client","inferred","transcript"}],
 *  "findings":[{"kind","host","text","line"}],"notes":[..]}. */
char *lab_journal_json(const struct lab_journal *j);

/* One diagram of a page: a transcript and, when there are expectations, the verdict. */
struct lab_page_section {
  const struct sim_transcript *t;
  const char *verdict;  /* "expectations hold", ...; NULL: none */
  const char *failures; /* "file:line:col: ...\n" lines, or NULL */
};

struct lab_page {
  const char *title;
  const char *source;         /* what it was made from: "journal x.jsonl", "scenario y.yaml" */
  const struct lab_desc *lab; /* the hosts to draw (may be NULL: the steps name them) */
  const struct lab_page_section *sections;
  size_t n_sections;
  const struct lab_finding *findings;
  size_t n_findings;
  char *const *notes;
  size_t n_notes;
};

/* lab_page_html writes one self-contained HTML page (inline CSS and SVG, nothing fetched): per
 * section a sequence diagram — lifelines for the client, DNS and each host; per step a group
 * <g class="step" data-step=.. data-host=.. data-result=..> of arrows (query and answer,
 * connect, certificate, alert, request, response); prompts as <g class="prompt" data-kind=..>
 * standing out; the time waited along the left axis — then the transcript as text. */
void lab_page_html(FILE *out, const struct lab_page *page);

/* lab_journal_html is lab_page_html for everything a journal holds. */
void lab_journal_html(const struct lab_journal *j, FILE *out);

struct lab_result;
/* lab_run_html is lab_page_html for the walks of a `run` (n results, each with its verdict). */
void lab_run_html(FILE *out, const struct scn *s, const struct lab_result *r, size_t n);
/* lab_run_html_dir writes one page per client into `dir`, named <scenario>.<client>.html;
 * returns the number written, or -1 with `err` naming the file that could not be written. */
int lab_run_html_dir(const char *dir, const struct scn *s, const struct lab_result *r, size_t n,
                     char *err, size_t err_size);
/* lab_run_html_file writes the page of one walk (`r`) to `path`; false with `err` naming it. */
bool lab_run_html_file(const char *path, const struct scn *s, const struct lab_result *r, char *err,
                       size_t err_size);
struct lab_check;
/* lab_check_page_name is the file name `check --html` gives the page of k's scenario `index` and
 * a client: the scenario's path below the folder all of k's paths share, without ".yaml", then
 * the client, each with characters other than letters, digits, '.', '-' and '_' made '_'
 * (check scenarios/: "scenarios/dns/x.yaml", "mso-xdscli" → "dns_x.mso-xdscli.html"), and
 * under --sweep the run's setting too ("dns_x.mso-xdscli.ExcludeSrvRecord_1.html"); false when
 * it does not fit. */
bool lab_check_page_name(char *out, size_t out_size, const struct lab_check *k, size_t index,
                         const char *client);
/* lab_html_text writes `s` with HTML's special characters escaped. */
void lab_html_text(FILE *out, const char *s);

#endif
