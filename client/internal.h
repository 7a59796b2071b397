/* client/internal.h: what the files of client/ share — the model table's shape, the policy
 * knobs, and the pure pieces of the walk (POX request, answer classification, URL checks, SRV
 * ordering, certificate prompt wording), kept apart from sockets so unit tests reach them. */
#ifndef AD_CLIENT_INTERNAL_H
#define AD_CLIENT_INTERNAL_H

#include "client/sim.h"
#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How SRV answers are ordered (autodiscover-protocol.md §5). */
enum sim_srv_order {
  SIM_SRV_RFC2782,      /* lowest priority first; within a priority, heavier weight first */
  SIM_SRV_LARGEST_WINS, /* numerically largest priority (then weight) first, as exchangelib */
};

/* What "No" on a certificate Security Alert does (§2.2, last row: UNCERTAIN, a knob). */
enum sim_cert_no {
  SIM_CERT_NO_FAILS_STEP, /* the step fails (SIM_R_TLS_FAILED) and the walk goes on */
  SIM_CERT_NO_ENDS_WALK,  /* the whole Autodiscover run fails */
};

/* What the user is shown and how far the client goes. Timeouts are per network operation. */
struct sim_policy {
  unsigned cert_prompts;      /* enum sim_cert_failure bits that raise the Security Alert;
                                 a failure not listed fails the step silently (§2.3) */
  enum sim_cert_no cert_no;   /* what answering No does */
  bool http_redirect_consent; /* the HTTP GET step's 302 asks "Allow this website…" (§2.5) */
  bool srv_consent;           /* each SRV target asks the same (§2.5, §5: reported) */
  unsigned max_redirects;     /* redirects of every kind together (§3.4: 10) */
  bool https_only_redirects;  /* a redirect to http:// is refused (§3.4, §4.2) */
  bool follow_post_3xx;       /* 301/302/307/308 to the POST is re-sent as POST (§4.3) */
  enum sim_srv_order srv_order;
  bool srv_port_443_only; /* SRV records with another port are ignored (§5) */
  unsigned dns_timeout_ms;
  unsigned connect_timeout_ms;
  unsigned tls_timeout_ms;
  unsigned http_timeout_ms;
  const char *user_agent; /* User-Agent of the POX request (§3.1) */
  bool mapi_http;         /* send X-MapiHttpCapability: 1 and X-AnchorMailbox (§3.2) */
};

enum { SIM_MODEL_MAX_STEPS = 12 };

/* A client model: its steps in order and its policy (DESIGN.md "Client models"). */
struct sim_model {
  const char *name;
  const char *summary;
  enum sim_step_kind steps[SIM_MODEL_MAX_STEPS];
  size_t n_steps;
  struct sim_policy policy;
};

/* sim__step_kind_name names a step as transcripts spell it ("https-root", ...). */
const char *sim__step_kind_name(enum sim_step_kind k);
/* sim__cert_failure_name names one failure bit ("untrusted", "expired", ...). */
const char *sim__cert_failure_name(unsigned bit);

/* --- POX request (§3.1) and answers (§3.3–§3.5, §2.1) --- */

#define SIM_NS_REQUEST                                                                             \
  "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
#define SIM_NS_RESPONSE "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
#define SIM_NS_RESPONSE_A                                                                          \
  "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"

enum { SIM_BODY_MAX = 1 << 20 }; /* response bodies past 1 MiB are not Autodiscover answers */

/* sim__pox_body returns the POX request document for `email`, built with libxml2 (caller
 * frees); NULL only when libxml2 fails. */
char *sim__pox_body(const char *email);
/* sim__request appends the whole HTTP request to `out`: a POST of the POX body with Outlook's
 * headers, or (post == false) the plain GET of the HTTP redirect step (§4.2). */
bool sim__request(struct buf *out, const struct sim_policy *p, bool post, const char *host_header,
                  const char *target, const char *email);

enum sim_answer_kind {
  SIM_A_SETTINGS,      /* POX Action settings */
  SIM_A_REDIRECT_ADDR, /* POX redirectAddr: `redirect` is the new address */
  SIM_A_REDIRECT_URL,  /* POX redirectUrl: `redirect` is the URL */
  SIM_A_ERROR,         /* POX Error: error_code, message */
  SIM_A_HTTP_REDIRECT, /* 301/302/307/308 with a Location: `redirect` as sent */
  SIM_A_AUTH,          /* 401: the host asks for credentials */
  SIM_A_OTHER,         /* anything else: not an Autodiscover answer (`why`) */
};

struct sim_answer {
  enum sim_answer_kind kind;
  char *ews_url; /* settings: EwsUrl of EXPR, else EXCH, else any protocol */
  char *server;  /* settings: Server of EXPR, else EXCH */
  char *smtp;    /* settings: User/AutoDiscoverSMTPAddress */
  char *redirect;
  unsigned error_code;
  char *message;
  char *why; /* a sentence for the step's detail */
};

/* sim__classify sorts an HTTP answer into what the client does next. `location` may be NULL;
 * `body` is what arrived (at most SIM_BODY_MAX bytes). Never fails: unknown is SIM_A_OTHER. */
void sim__classify(struct sim_answer *out, int status, const char *location, struct slice body);
void sim__answer_cleanup(struct sim_answer *a);

/* --- URLs --- */

struct sim_url {
  bool https;
  char *host;    /* lowercase */
  uint16_t port; /* 443 or 80 unless the URL names one */
  bool explicit_port;
  char *target; /* path and query: the request target, "/" when empty */
};

/* sim__url_parse reads an absolute http:// or https:// URL (libxml2's URI parser); false when
 * it is anything else. */
bool sim__url_parse(struct sim_url *out, const char *url);
void sim__url_cleanup(struct sim_url *u);
/* sim__url_resolve resolves a Location against the URL it answered (caller frees); NULL when
 * the result is not a usable URL. */
char *sim__url_resolve(const char *base, const char *ref);

/* --- redirects: https only, no loops, at most max_redirects (§3.4) --- */

enum sim_redirect_verdict {
  SIM_REDIRECT_OK,
  SIM_REDIRECT_BAD,       /* not a URL / not an address */
  SIM_REDIRECT_NOT_HTTPS, /* http:// refused */
  SIM_REDIRECT_LOOP,      /* already visited */
  SIM_REDIRECT_LIMIT,     /* one redirect too many */
};

struct sim_visits {
  char **urls; /* lowercased URLs posted to */
  size_t n_urls;
  char **addrs; /* lowercased addresses asked for */
  size_t n_addrs;
  unsigned n_redirects;
};

/* sim__visit_note remembers a URL tried by a model step (no redirect counted). */
void sim__visit_note(struct sim_visits *v, const char *url);
/* sim__visit_url checks a redirect target URL; on OK it is remembered and counted. */
enum sim_redirect_verdict sim__visit_url(struct sim_visits *v, const struct sim_policy *p,
                                         const char *url);
/* sim__visit_addr checks a redirectAddr address the same way (the first address is noted with
 * count == false). */
enum sim_redirect_verdict sim__visit_addr(struct sim_visits *v, const struct sim_policy *p,
                                          const char *addr, bool count);
const char *sim__redirect_verdict_text(enum sim_redirect_verdict v);
void sim__visits_cleanup(struct sim_visits *v);

/* --- SRV (§5) --- */

struct sim_srv {
  char *target;
  uint16_t priority, weight, port;
};

/* sim__srv_select orders `recs` in place per the policy and moves records it ignores (port
 * other than 443, target "." or empty) behind the ones it keeps; returns how many it keeps
 * (the first ones). */
size_t sim__srv_select(struct sim_srv *recs, size_t n, const struct sim_policy *p);

/* --- prompts (§2.3, §2.5) --- */

/* sim__cert_failure_of_verify maps an X509_V_ERR_* code to one enum sim_cert_failure bit
 * (0 for X509_V_OK). */
unsigned sim__cert_failure_of_verify(int x509_error);
/* sim__cert_reason returns the prompt's reason word: "expired", else "not-yet-valid", else
 * "name", else "untrusted"; NULL when failures == 0. */
const char *sim__cert_reason(unsigned failures);
/* sim__cert_prompt_text words the Security Alert (caller frees). */
char *sim__cert_prompt_text(const char *host, unsigned failures);
/* sim__redirect_prompt_text words the redirect consent dialog (caller frees). */
char *sim__redirect_prompt_text(const char *email, const char *url);

#endif
