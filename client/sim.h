/* client/sim.h: client models — how an Outlook generation (or the plain protocol) walks the
 * Autodiscover steps over real sockets, and what it shows the user — and the transcript of one
 * walk. A model is data: an ordered list of steps plus a prompt policy. */
#ifndef AD_CLIENT_SIM_H
#define AD_CLIENT_SIM_H

#include "common/labclock.h"
#include "journal/jnl.h"
#include "scenario/scn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <uv.h>

enum sim_step_kind {
  SIM_STEP_HTTPS_ROOT,         /* https://<domain>/autodiscover/autodiscover.xml */
  SIM_STEP_HTTPS_AUTODISCOVER, /* https://autodiscover.<domain>/autodiscover/autodiscover.xml */
  SIM_STEP_HTTP_REDIRECT,      /* GET http://autodiscover.<domain>/autodiscover/autodiscover.xml */
  SIM_STEP_SRV,                /* _autodiscover._tcp.<domain> SRV → https://<target>/... */
  SIM_STEP_REDIRECT,           /* a URL reached by a 302, redirectUrl, or the HTTP/SRV/O365 steps */
  SIM_STEP_LOCAL_XML,          /* the local XML file named for the domain (§4.5) */
  SIM_STEP_LAST_KNOWN_GOOD,    /* the URL cached in the profile (§1.2) */
  SIM_STEP_SCP,                /* one URL the SCP (LDAP) lookup found (§1.1), POSTed */
  SIM_STEP_O365_DIRECT,        /* Direct Connect: AutoDV2 GET at outlook.office365.com (§4.4) */
  SIM_STEP_O365_FALLBACK,      /* the same, as KB 3211279's last step */
};

/* What happened at one step; the first field that failed says where the step ended. */
enum sim_result {
  SIM_R_SKIPPED,          /* excluded by a client setting, or not applicable (no cached URL,
                             not domain-joined, ...): detail says which */
  SIM_R_DNS_FAILED,       /* NXDOMAIN, NODATA, SERVFAIL or timeout: dns_error says which */
  SIM_R_CONNECT_FAILED,   /* refused, unreachable or timed out: connect_error says which */
  SIM_R_TLS_FAILED,       /* handshake failed, or the user declined a certificate prompt */
  SIM_R_HTTP_FAILED,      /* connection dropped or the answer was not HTTP */
  SIM_R_NOT_AUTODISCOVER, /* a status or body that is not an Autodiscover answer */
  SIM_R_REDIRECT,         /* led to another URL or address (see redirect_to) */
  SIM_R_XML_ERROR,        /* a POX Error response (error_code) */
  SIM_R_SETTINGS,         /* a POX settings response: the walk ends with success */
  SIM_R_NO_CANDIDATE,     /* the step produced nothing to try (no SRV record, no 302) */
  SIM_R_REJECTED,         /* a redirect target refused by policy (not https, loop, limit) */
};

/* Which of the Security Alert's three checks failed (bits). */
enum sim_cert_failure {
  SIM_CERT_UNTRUSTED = 1 << 0, /* "trusted certifying authority" */
  SIM_CERT_EXPIRED = 1 << 1,   /* "date valid": expired */
  SIM_CERT_NOT_YET_VALID = 1 << 2,
  SIM_CERT_NAME = 1 << 3, /* "name valid / matches the site" */
};

enum sim_prompt_kind { SIM_PROMPT_CERTIFICATE, SIM_PROMPT_REDIRECT, SIM_PROMPT_CREDENTIALS };

struct sim_prompt {
  enum sim_prompt_kind kind;
  char *host;             /* certificate: the host connected to; redirect: the target host */
  char *reason;           /* certificate: "expired", "not-yet-valid", "name", "untrusted" (the first
                             failing check in that order of the dialog), redirect: the URL offered */
  unsigned cert_failures; /* certificate: every failing check (enum sim_cert_failure bits) */
  char *text;             /* what the dialog says, as Outlook words it */
  bool accepted;
  size_t step; /* index of the step that raised it */
};

struct sim_step {
  enum sim_step_kind kind;
  char *name; /* "local-xml", "last-known-good", "o365-direct", "scp", "https-root",
                 "https-autodiscover", "http-redirect", "srv", "redirect", "o365-fallback" */
  char *url;  /* the candidate URL (for srv: the URL built from the answer; may be NULL) */
  char *host; /* host name asked */
  enum sim_result result;
  char *dns_answer;       /* the address connected to, or the SRV target; NULL when none */
  char *dns_error;        /* "NXDOMAIN", "NODATA", "SERVFAIL", "timeout", or NULL */
  char *connect_error;    /* "refused", "timeout", ... or NULL */
  char *tls_error;        /* handshake failure text, or NULL */
  unsigned cert_failures; /* enum sim_cert_failure bits from verification */
  char *cert_subject;     /* presented leaf: subject CN */
  char *cert_issuer;
  int http_status;     /* 0 when none */
  char *detail;        /* a sentence: why the step ended as it did */
  char *redirect_to;   /* SIM_R_REDIRECT: the URL or e-mail address */
  unsigned error_code; /* SIM_R_XML_ERROR */
  char *auth_schemes;  /* schemes of the 401 challenges seen ("Basic, NTLM"), or NULL */
  bool timed_out;      /* the step ended because a timeout ran out (DNS, connect, TLS, HTTP) */
  double elapsed_ms;   /* lab time the user waited in this step (labclock) */
};

struct sim_transcript {
  char *client; /* model name */
  char *email;  /* address asked for first */
  struct sim_step *steps;
  size_t n_steps;
  struct sim_prompt *prompts;
  size_t n_prompts;
  bool success;
  char *final_url;      /* the URL that returned settings, or NULL */
  char *settings_email; /* the address the settings are for */
  char *ews_url;        /* EwsUrl from the settings, or NULL */
  char *server;         /* EXPR/EXCH Server, or NULL */
  double total_ms;      /* lab time of the whole walk */
};

struct sim_model;

/* sim_model_named returns a built-in model ("mso-xdscli", "outlook-2016-msi", ...) or NULL. */
const struct sim_model *sim_model_named(const char *name);
/* sim_model_at returns the i-th built-in model, NULL past the last (listings, --help). */
const struct sim_model *sim_model_at(size_t i);
const char *sim_model_name(const struct sim_model *m);
const char *sim_model_summary(const struct sim_model *m);

/* The machine the modelled client runs on. */
struct sim_env {
  uv_loop_t *loop;
  struct sockaddr_storage dns; /* the DNS server the client asks (c-ares); ss_family 0: the
                                  system's resolv.conf servers */
  /* map, when set, tells where a TCP connection to `want` really goes (the lab's port map);
   * false means connect to `want` as is. */
  bool (*map)(void *arg, const struct sockaddr *want, struct sockaddr_storage *out);
  void *map_arg;
  const char *trust_pem;  /* the modelled machine's trust store: a PEM file (lab CA) */
  struct jnl *jnl;        /* client-side events step.*, prompt, result; may be NULL */
  unsigned timeout_ms;    /* per network operation, lab ms; 0 → the model's own */
  struct labclock *clock; /* timeouts run on it and steps are timed by it; NULL: real time */
  char *const *scp_urls;  /* what the SCP (LDAP) lookup of a domain-joined client finds, in
                             order (scn->scp_urls); borrowed, must outlive the walk */
  size_t n_scp_urls;
};

struct sim_walk;
typedef void (*sim_done_cb)(void *arg, struct sim_transcript *t /* caller frees */);

enum sim_status {
  SIM_OK = 0,
  SIM_EINVAL, /* a bad argument: no loop, model or callback, not an e-mail address, or a DNS
                 server c-ares refuses */
  SIM_EIO,    /* the trust store (env->trust_pem) cannot be read */
  SIM_ENOMEM, /* out of memory, or c-ares or BoringSSL could not set up */
};
/* sim_strerror returns a fixed description of `st`; never NULL. */
const char *sim_strerror(enum sim_status st);

/* sim_walk_start walks `model` for `email` with the client settings `cfg` (may be NULL; it is
 * copied, strings and lists too); `done` runs once, on the loop, when the walk is over and every
 * handle it used is closed (the walk frees itself; *out is only valid until then). env is copied
 * (env->scp_urls is borrowed); env->trust_pem is read before the call returns. Returns SIM_OK,
 * or fails with *out NULL and a sentence in err ("cannot read the trust store /x/ca.pem: No such
 * file or directory"): SIM_EINVAL for a bad argument, SIM_EIO when env->trust_pem cannot be
 * read, SIM_ENOMEM. */
enum sim_status sim_walk_start(struct sim_walk **out, const struct sim_env *env,
                               const struct sim_model *model, const struct scn_client *cfg,
                               const char *email, sim_done_cb done, void *arg, char *err,
                               size_t err_size);

void sim_transcript_free(struct sim_transcript *t);
/* sim_transcript_json returns the transcript as one JSON object (docs/transcript.md). */
char *sim_transcript_json(const struct sim_transcript *t);
/* sim_transcript_text prints the readable transcript, one line a step, prompts standing out. */
void sim_transcript_text(const struct sim_transcript *t, FILE *out, bool color);
const char *sim_result_name(enum sim_result r);
const char *sim_prompt_kind_name(enum sim_prompt_kind k);

/* --- inspection: what one real endpoint serves (autodisco snapshot) ---
 *
 * An inspection is one attempt of the walk's machinery (sim_fetch.c) taken on its own: resolve
 * the URL's host (or take a given address), connect with a real timeout, TLS with SNI that goes
 * on whatever the certificate says, one request, the answer — reported as facts instead of a
 * step. No model, no prompt, never a credential: a 401 is recorded as it came. */

/* One certificate as the server presented it. Strings are as the certificate spells them (a
 * hostile certificate may put anything there), UTF-8. */
struct sim_cert_info {
  char *subject;    /* one-line distinguished name ("CN=contoso.com, O=Contoso") */
  char *subject_cn; /* NULL when there is none */
  char *issuer;     /* one-line distinguished name */
  char *issuer_cn;  /* NULL when there is none */
  char **dns_names; /* subjectAltName dNSName values, in order */
  size_t n_dns_names;
  char **ip_names; /* subjectAltName iPAddress values, as text */
  size_t n_ip_names;
  int64_t not_before; /* unix seconds */
  int64_t not_after;
  char *key_type; /* "rsa", "ec", "ed25519", "dsa" or "unknown" */
  unsigned key_bits;
  char *sig_alg;    /* "sha256WithRSAEncryption", "ecdsa-with-SHA1", ... */
  bool sig_sha1;    /* signed with SHA-1 (or MD5) */
  bool self_signed; /* issued by itself: same name, and its own key verifies it */
  char *sha256;     /* fingerprint, lowercase hex */
  char *aia_issuer; /* the caIssuers URL of Authority Information Access, or NULL */
  uint8_t *der;     /* the certificate (owned) */
  size_t der_len;
};

/* The TLS side of an inspection. */
struct sim_tls_info {
  bool handshake_done;
  uint16_t version;            /* the wire code: 0x0301 TLS 1.0 ... 0x0304 TLS 1.3 */
  struct sim_cert_info *chain; /* as presented, the leaf first */
  size_t n_chain;
  int verify_error;       /* X509_V_OK (0) or the first X509_V_ERR_* met, against the trust store */
  int verify_depth;       /* where it was met (0: the leaf) */
  char *verify_text;      /* what the verifier says ("certificate has expired"), NULL when OK */
  unsigned cert_failures; /* every failing check of the Security Alert (enum sim_cert_failure),
                             the name and dates included, as the models see them */
  bool issuer_missing;    /* the chain stops at a certificate whose issuer was neither sent nor in
                             the trust store: a missing intermediate, or an unknown root */
};

/* What the answer was, as a client sorts it. */
enum sim_answer_type {
  SIM_ANSWER_NONE = 0,      /* no HTTP answer */
  SIM_ANSWER_SETTINGS,      /* POX Action settings */
  SIM_ANSWER_REDIRECT_ADDR, /* POX redirectAddr */
  SIM_ANSWER_REDIRECT_URL,  /* POX redirectUrl */
  SIM_ANSWER_ERROR,         /* POX Error */
  SIM_ANSWER_HTTP_REDIRECT, /* a 3xx with a Location */
  SIM_ANSWER_AUTH,          /* 401 */
  SIM_ANSWER_OTHER,         /* anything else: not an Autodiscover answer */
};

struct sim_http_info {
  int status;         /* 0: no answer */
  char *headers;      /* the header lines as received, "Name: value\n" each (capped) */
  char *location;     /* Location, or NULL */
  char *content_type; /* Content-Type, or NULL */
  char **challenges;  /* every WWW-Authenticate value, in order */
  size_t n_challenges;
  uint8_t *body; /* what arrived, at most the request's body_max bytes (owned, NUL after it) */
  size_t body_len;
  bool body_truncated;
  enum sim_answer_type answer;
  char *ews_url;      /* settings: EwsUrl (EXPR, else EXCH, else any) */
  char *server;       /* settings: Server (EXPR, else EXCH) */
  char *auth_package; /* settings: AuthPackage of the same protocol, or NULL */
  char *redirect;     /* redirectAddr's address, redirectUrl's URL, or the Location */
  unsigned error_code;
  char *message; /* Error: Message */
  char *why;     /* OTHER: why it is not an Autodiscover answer */
};

enum sim_inspect_method {
  SIM_INSPECT_POX, /* POST of the POX request for `email` */
  SIM_INSPECT_GET, /* a plain GET */
};

struct sim_inspect_req {
  const char *url; /* http:// or https:// */
  enum sim_inspect_method method;
  const char *email;   /* SIM_INSPECT_POX: the address asked for */
  const char *address; /* connect to this address (text) instead of resolving the URL's host;
                          SNI and the name check still use the host. NULL: resolve (A) */
  size_t body_max;     /* body bytes kept (0: 64 KiB) */
};

struct sim_inspection {
  char *url;
  char *host;
  char *address;          /* the address connected to, or NULL */
  enum sim_result result; /* where it ended: SIM_R_DNS_FAILED, _CONNECT_FAILED, _TLS_FAILED,
                             _HTTP_FAILED, or an answer's (SETTINGS, REDIRECT, XML_ERROR,
                             NOT_AUTODISCOVER) */
  char *dns_error;        /* as in a step */
  char *connect_error;    /* "refused", "timeout", "reset", "unreachable", ... */
  char *tls_error;
  bool timed_out;
  char *detail;      /* a sentence */
  double elapsed_ms; /* real time */
  bool has_tls;      /* https: the handshake got far enough to say something */
  struct sim_tls_info tls;
  struct sim_http_info http;
};

typedef void (*sim_inspect_cb)(void *arg, struct sim_inspection *r /* caller frees */);

/* sim_inspect_start inspects one endpoint on env->loop: env->dns (or the system's resolver)
 * answers the A query, env->trust_pem is the trust store the chain is verified against, and
 * env->timeout_ms (0: 10 s) bounds each of DNS, connect, TLS and the answer in real time
 * (env->clock is ignored). TLS 1.0 to 1.3 are offered so that an old server still shows its
 * certificate. `done` runs once, on the loop, after every handle is closed. Returns SIM_OK, or
 * fails as sim_walk_start does (SIM_EINVAL for a URL that is not http(s) or a bad address). */
enum sim_status sim_inspect_start(const struct sim_env *env, const struct sim_inspect_req *req,
                                  sim_inspect_cb done, void *arg, char *err, size_t err_size);
void sim_inspection_free(struct sim_inspection *r);

/* sim_inspect_reverify verifies a presented chain again with `extra` (DER or PEM: a
 * certificate fetched from the leaf's caIssuers URL, say) as one more untrusted intermediate,
 * for `host`; returns the failing checks (enum sim_cert_failure bits, 0: the chain verifies),
 * or -1 when `extra` is not a certificate or the trust store cannot be read. */
int sim_inspect_reverify(const char *trust_pem, const struct sim_tls_info *tls, const char *host,
                         const uint8_t *extra, size_t extra_len);

/* sim_url_resolve resolves `ref` (a Location) against `base` (caller frees); NULL when the
 * result is not an http:// or https:// URL. */
char *sim_url_resolve(const char *base, const char *ref);
/* sim_url_split reads an http:// or https:// URL: its host (lowercase), port and request
 * target (caller frees both); false when it is anything else. */
bool sim_url_split(const char *url, bool *out_https, char **out_host, uint16_t *out_port,
                   char **out_target);

/* One DNS question and what came back. */
struct sim_dns_srv {
  char *target;
  uint16_t priority, weight, port;
};
struct sim_dns_mx {
  char *host;
  uint16_t preference;
};
struct sim_dns_info {
  char *name;
  uint16_t type; /* 1 A, 28 AAAA, 33 SRV, 15 MX */
  char *error;   /* NULL: an answer; else "NXDOMAIN", "NODATA", "SERVFAIL", "REFUSED",
                    "timeout", ... */
  char **cnames; /* the CNAME chain from `name`: cnames[0] is name's target, and so on */
  size_t n_cnames;
  char **addresses; /* A / AAAA, as text, in answer order */
  size_t n_addresses;
  uint32_t ttl;            /* of the first address record, 0 when none */
  struct sim_dns_srv *srv; /* SRV, targets lowercased, in answer order */
  size_t n_srv;
  struct sim_dns_mx *mx;
  size_t n_mx;
};
typedef void (*sim_dns_cb)(void *arg, struct sim_dns_info *r /* caller frees */);

/* sim_dns_inspect_start asks env->dns (or the system's resolver) one question with c-ares;
 * `type` is 1 (A), 28 (AAAA), 33 (SRV) or 15 (MX). Timeout and callback as sim_inspect_start. */
enum sim_status sim_dns_inspect_start(const struct sim_env *env, const char *name, uint16_t type,
                                      sim_dns_cb done, void *arg, char *err, size_t err_size);
void sim_dns_info_free(struct sim_dns_info *r);

#endif
