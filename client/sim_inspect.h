/* client/sim_inspect.h: inspections — what one real endpoint serves, for `autodisco snapshot`.
 *
 * An inspection is one attempt of the walk's machinery (sim_fetch.c) taken on its own: resolve
 * the URL's host (or take a given address), connect with a real timeout, TLS with SNI that goes
 * on whatever the certificate says, one request, the answer — reported as facts instead of a
 * step. No model, no prompt, never a credential: a 401 is recorded as it came. */
#ifndef AD_CLIENT_SIM_INSPECT_H
#define AD_CLIENT_SIM_INSPECT_H

#include "client/sim.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
