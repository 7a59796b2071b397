/* client/internal.h: what the files of client/ share — the model table's shape, the policy
 * knobs, the pure pieces of the walk (POX request, answer classification, URL checks, SRV
 * ordering, certificate prompt wording), kept apart from sockets so unit tests reach them, and
 * the walk over sockets that its files divide between them (at the end). */
#ifndef AD_CLIENT_INTERNAL_H
#define AD_CLIENT_INTERNAL_H

#include "client/sim.h"
#include "client/sim_inspect.h"
#include "common/ares_loop.h"
#include "common/buf.h"

#include <ares.h>
#include <llhttp.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How SRV answers are ordered (docs/protocol.md §5; the setting srv_choice). */
enum sim_srv_order {
  SIM_SRV_RFC2782,      /* lowest priority first; within a priority, heavier weight first */
  SIM_SRV_WEIGHTED,     /* RFC 2782's weighted random draw within a priority, from srv_seed */
  SIM_SRV_LARGEST_WINS, /* the one record of numerically largest priority (then weight), as
                           exchangelib picks it; the others are not tried */
};

/* What "No" on a certificate Security Alert does (§2.2, last row: UNCERTAIN, a knob). */
enum sim_cert_no {
  SIM_CERT_NO_FAILS_STEP, /* the step fails (SIM_R_TLS_FAILED) and the walk goes on */
  SIM_CERT_NO_ENDS_WALK,  /* the whole Autodiscover run fails */
};

/* What the user is shown and how far the client goes: the policy settings of a walk
 * (scenario/scn.h struct scn_client, docs/clients.md) in the form the rules use. Timeouts are
 * per network operation, in lab milliseconds (they run on env->clock). */
struct sim_policy {
  unsigned cert_prompts;      /* enum sim_cert_failure bits that raise the Security Alert;
                                 a failure not listed fails the step silently (§2.3) */
  unsigned cert_accepted;     /* bits that are no failure for this client: noted, not held
                                 against the certificate */
  enum sim_cert_no cert_no;   /* what answering No does */
  bool http_redirect_consent; /* the HTTP GET step's 302 asks "Allow this website…" (§2.5) */
  bool srv_consent;           /* each SRV target asks the same (§2.5, §5: reported) */
  bool post_redirect_consent; /* a 3xx to the POST that changes host asks the same (§2.5) */
  bool silent_sso;            /* Negotiate/NTLM answered with the Windows logon, no prompt */
  unsigned max_redirects;     /* redirects of every kind together (§3.4: 10) */
  bool https_only_redirects;  /* a redirect to http:// is refused (§3.4, §4.2) */
  bool follow_post_3xx;       /* 301/302/307/308 to the POST is re-sent as POST (§4.3) */
  enum sim_srv_order srv_order;
  uint32_t srv_seed;           /* SIM_SRV_WEIGHTED's draw */
  bool srv_port_443_only;      /* SRV records with another port are ignored (§5) */
  unsigned dns_timeout_ms;     /* one try (c-ares tries = 1) */
  unsigned connect_timeout_ms; /* until the TCP connection is up */
  unsigned tls_timeout_ms;     /* the whole handshake */
  unsigned http_timeout_ms;    /* from the request sent to the whole answer read */
  const char *user_agent;      /* User-Agent of the POX request (§3.1) */
  bool mapi_http;              /* send X-MapiHttpCapability: 1 and X-AnchorMailbox (§3.2) */
  bool scp_parallel_root;      /* Outlook 2013: the SCP lookup and the DNS steps start together
                                  (§1.2, [S29]); walked one at a time, the root-domain attempt is
                                  taken just before the SCP URLs when SCP is looked up */
};

/* sim__policy_of reads the policy settings of `settings` (a walk's settings: a model's
 * defaults with the scenario's and --set's on top) into *out; user_agent is borrowed. */
void sim__policy_of(struct sim_policy *out, const struct scn_client *settings);

enum { SIM_MODEL_MAX_STEPS = 12 };

/* A client model: its steps in order and the values of every setting it starts from — its
 * policy among them (docs/clients.md). SIM_STEP_LOCAL_XML is listed once, at its late ("not
 * preferred") position; PreferLocalXML moves it first (after the restart case, when the model
 * has it). */
struct sim_model {
  const char *name;
  const char *summary;
  const char *product; /* "Outlook 2016 MSI", or NULL when it is no Windows Outlook */
  unsigned office;     /* the Office major version whose registry values it reads (12, 14, 15,
                          16), 0 for none */
  enum sim_step_kind steps[SIM_MODEL_MAX_STEPS];
  size_t n_steps;
  struct scn_client defaults; /* every setting's value for this model ("given" unused) */
  bool owned;                 /* from sim_model_load: sim_model_free releases it */
};

/* sim__settings makes `out` the settings of one walk of `m`: the model's values, with every
 * setting `cfg` gives on top (cfg may be NULL). The caller cleans `out` up
 * (scn_client_cleanup). */
void sim__settings(struct scn_client *out, const struct sim_model *m, const struct scn_client *cfg);

/* One step of a walk's plan: the model's step and, when it is not taken, why. */
struct sim_plan_step {
  enum sim_step_kind kind;
  const char *skip; /* NULL: taken; else a sentence ("excluded by the client setting ...") */
};

/* sim__plan lays out the steps `m` takes for an address with the walk's settings `cfg`
 * (sim__settings; NULL: the model's own): PreferLocalXML moves local-xml first (after the
 * restart case), and each step not taken says why — an Exclude* value, or not applicable (no
 * local XML file, no cached URL, not domain-joined, Office 365 heuristics not firing, not
 * restarting). `first_address` is false after a redirectAddr: the profile's cached URL, local
 * XML file and SCP lookup belong to the first address only (assumption). Fills `out` (room for
 * SIM_MODEL_MAX_STEPS) and returns the count. */
size_t sim__plan(const struct sim_model *m, const struct scn_client *cfg, bool first_address,
                 struct sim_plan_step *out);

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
enum sim_req_kind {
  SIM_REQ_POX,     /* POST of the POX request (§3.1) */
  SIM_REQ_GET,     /* the HTTP redirect step's plain GET (§4.2) */
  SIM_REQ_AUTODV2, /* GET of an AutoDV2 URL with Accept: application/json (§4.4) */
};

/* sim__request appends the whole HTTP request to `out`: a POST of the POX body with Outlook's
 * headers, the plain GET of the HTTP redirect step, or the AutoDV2 GET. `authorization` is an
 * Authorization header value to send (POX only), or NULL. */
bool sim__request(struct buf *out, const struct sim_policy *p, enum sim_req_kind kind,
                  const char *host_header, const char *target, const char *email,
                  const char *authorization);

/* sim__o365_url returns Direct Connect's AutoDV2 URL for `email` (caller frees):
 * https://outlook.office365.com/autodiscover/autodiscover.json?Email=<email>&Protocol=
 * AutodiscoverV1, the address percent-encoded except for '@' (§4.4). */
char *sim__o365_url(const char *email);

enum { SIM_JSON_MAX = 8192, SIM_JSON_MAX_MEMBERS = 16 };

/* sim__json_url reads an AutoDV2 answer, {"Protocol":"AutodiscoverV1","Url":"<url>"}, and sets
 * *out_url (caller frees). There is no JSON parser in the stack and the answer is one flat
 * object of strings, so this is a strict, bounded scanner: one object of at most
 * SIM_JSON_MAX_MEMBERS string members (no numbers, nesting, or \u escapes), at most
 * SIM_JSON_MAX bytes, exactly one "Url", and "Protocol", when present, AutodiscoverV1.
 * Anything else returns false with *out_url NULL. */
bool sim__json_url(struct slice body, char **out_url);

enum sim_answer_kind {
  SIM_A_SETTINGS,      /* POX Action settings */
  SIM_A_REDIRECT_ADDR, /* POX redirectAddr: `redirect` is the new address */
  SIM_A_REDIRECT_URL,  /* POX redirectUrl: `redirect` is the URL */
  SIM_A_ERROR,         /* POX Error: error_code, message */
  SIM_A_HTTP_REDIRECT, /* 301/302/307/308 with a Location: `redirect` as sent */
  SIM_A_AUTH,          /* 401: the host asks for credentials (the walk reads the challenges) */
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
  /* settings: AuthPackage of the protocol the EwsUrl came from, or NULL */
  char *auth_package;
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
 * other than 443 unless the policy takes any, port 0, target "." or empty) behind the ones it
 * keeps; returns how many it keeps (the first ones): every usable record for RFC 2782 and the
 * weighted draw, at most one for largest-wins. */
size_t sim__srv_select(struct sim_srv *recs, size_t n, const struct sim_policy *p);
/* sim__srv_url returns the candidate URL of one SRV record (caller frees):
 * https://<target>/Autodiscover/Autodiscover.xml, with ":<port>" after the target when the port
 * is not 443; NULL when it does not fit. */
char *sim__srv_url(const struct sim_srv *r);

/* --- prompts (§2.3, §2.5) --- */

/* sim__cert_failure_of_verify maps an X509_V_ERR_* code to one enum sim_cert_failure bit
 * (0 for X509_V_OK). */
unsigned sim__cert_failure_of_verify(int x509_error);
/* sim__cert_reason returns the prompt's reason word: "expired", else "not-yet-valid", else
 * "name", else "untrusted", else "weak-signature", else "weak-key"; NULL when failures == 0. */
const char *sim__cert_reason(unsigned failures);
/* sim__cert_prompt_text words the Security Alert (caller frees). */
char *sim__cert_prompt_text(const char *host, unsigned failures);
/* sim__redirect_prompt_text words the redirect consent dialog (caller frees). */
char *sim__redirect_prompt_text(const char *email, const char *url);
/* sim__host_listed says whether `host` is one of `list` (RedirectServers: an exact host name,
 * case-insensitive; §1.4, §2.5). */
bool sim__host_listed(const char *host, char *const *list, size_t n);

/* --- 401 (§2.4) --- */

enum sim_auth_action {
  SIM_AUTH_SSO,   /* Negotiate or NTLM: Windows logon, assumed silent and successful */
  SIM_AUTH_BASIC, /* Basic only: the credentials prompt, then Basic */
  SIM_AUTH_NONE,  /* Bearer only, or no usable challenge: not functional here */
};

/* sim__auth_decide picks what the client does about a 401 whose challenges offered `schemes`
 * (comma-separated scheme names, "Basic, NTLM"; NULL: none): Negotiate, then NTLM, then Basic.
 * *out_scheme is the scheme answered ("Negotiate", "NTLM", "Basic") or NULL. */
enum sim_auth_action sim__auth_decide(const char *schemes, const char **out_scheme);
/* sim__auth_header returns the Authorization value answering with `scheme` (caller frees): for
 * Negotiate/NTLM "<scheme> " + base64("autodisco-lab-sso") — a stand-in token, no real SSPI —
 * for Basic "Basic " + base64("<email>:lab-password"). Never journal or print it. */
char *sim__auth_header(const char *scheme, const char *email);
/* sim__auth_offers says whether the ", "-separated `schemes` name `scheme` (case-insensitive). */
bool sim__auth_offers(const char *schemes, const char *scheme);
/* sim__basic_header returns "Basic " + base64("<username>:<password>") (caller frees, after
 * wiping it: it holds the password); NULL when it does not fit 8 KiB. Never journal or print it. */
char *sim__basic_header(const char *username, const char *password);
/* sim__auth_schemes_add appends the scheme names of one WWW-Authenticate value to `list`
 * (", "-separated; auth-params such as realm="x" are left out). */
void sim__auth_schemes_add(struct buf *list, const char *challenge);
/* sim__credentials_prompt_text words the Windows Security credentials dialog (caller frees). */
char *sim__credentials_prompt_text(const char *host, const char *email);

/* --- the walk over sockets ---
 *
 * sim_walk.c takes the steps in order and keeps the transcript; each step that asks the network
 * is one attempt, the state machine of sim_fetch.c, which resolves with sim_resolve.c (c-ares
 * on the loop), speaks TLS with sim_tls.c (BoringSSL over memory BIOs), reads the answer with
 * sim_http.c (llhttp) and leaves what the answer means for the walk to sim_answer.c. */

/* The states of one attempt, in the order a fetch goes through them. A do_* in sim_fetch.c
 * serves each; the AWAIT_* states and HANDSHAKE/RESPONSE wait for a callback, the others run
 * at once. */
enum sim_att_state {
  SIM_ATT_IDLE,          /* between steps */
  SIM_ATT_RESOLVE,       /* an address literal, or the A query goes out */
  SIM_ATT_AWAIT_A,       /* the A query is out */
  SIM_ATT_CONNECT,       /* the TCP connection is opened (through the lab's port map) */
  SIM_ATT_AWAIT_CONNECT, /* the connect is in progress */
  SIM_ATT_TLS_SETUP,     /* the TLS client is made: SNI or IP check, ALPN */
  SIM_ATT_HANDSHAKE,     /* the TLS handshake */
  SIM_ATT_VERIFY,        /* the certificate's checks and the Security Alert */
  SIM_ATT_SEND,          /* the request is sent */
  SIM_ATT_RESPONSE,      /* the answer is read */
  SIM_ATT_ANSWER,        /* what the answer means: settings, a redirect, a 401, ... */
  SIM_ATT_SRV,           /* the srv step: the SRV query goes out */
  SIM_ATT_AWAIT_SRV,     /* the SRV query is out */
};

/* sim__att_state_name names a state for debugging and tests ("await-a", ...); never NULL. */
const char *sim__att_state_name(enum sim_att_state st);
/* sim__att_state_doing words a state for a progress line ("connecting", ...); never NULL. */
const char *sim__att_state_doing(enum sim_att_state st);

/* What a do_* tells the dispatcher: run the next state now, wait for a callback, or the step
 * has ended (sim__step_end ran). */
enum sim_go { SIM_GO_NEXT, SIM_GO_WAIT, SIM_GO_END };

enum sim_walk_state {
  SIM_WALK_RUNNING,
  SIM_WALK_FINISHING, /* the outcome is known; the next tick closes everything */
  SIM_WALK_CLOSING,   /* handles are closing; done() runs after the last one */
};

/* A URL waiting to be tried: a redirect target or an SRV target. */
struct sim_pending {
  char *url;
  bool consent;     /* ask "Allow this website…" first */
  size_t from_step; /* the step whose answer produced it */
};

struct sim_conn; /* a TCP connection (sim_fetch.c) */

/* an inspection's own state (sim_inspect.c) */
struct sim_inspect;

/* The step in progress: the attempt's state and what its callbacks left for it. */
struct sim_attempt {
  enum sim_att_state state;
  size_t step;           /* index in the transcript */
  enum sim_req_kind req; /* POX POST, the HTTP redirect step's GET, or the AutoDV2 GET */
  bool literal;          /* the URL names an address, not a host name */
  bool addr_given;       /* addr is already where to connect (an inspection): no DNS */
  struct sim_url url;
  char *url_text;
  struct sockaddr_storage addr;
  /* DNS: left by sim_resolve.c's callbacks */
  bool dns_done;          /* both answers are in (A and AAAA; SRV alone) */
  int dns_status;         /* ARES_SUCCESS or the c-ares error */
  struct in_addr a_addr;  /* the A answer's first address */
  bool a_done, aaaa_done; /* the A and the AAAA question have their answers */
  int a_status, aaaa_status;
  struct in6_addr aaaa_addr; /* the AAAA answer's first address */
  bool use_aaaa;             /* no IPv4 address: the IPv6 one is connected to */
  struct sim_srv *srv;       /* the SRV answer's records, targets lowercased (owned) */
  size_t n_srv;
  /* TCP: left by sim_fetch.c's callbacks */
  struct sim_conn *conn;
  bool connected;     /* the connect callback ran */
  int connect_status; /* its status */
  int write_error;    /* a failed write's status, or 0 */
  bool eof;
  int read_error;
  struct slice in; /* plain HTTP bytes just read (borrowed while they are fed) */
  bool expired;    /* the running timeout ran out */
  /* TLS */
  SSL *ssl;
  BIO *rbio; /* owned by ssl */
  BIO *wbio;
  unsigned cert_failures;     /* from the verify callback */
  unsigned accepted_failures; /* certificate failures the user said Yes to in this step */
  /* HTTP */
  llhttp_t parser;
  struct buf body;
  struct buf field;
  struct buf value;
  char *location;
  bool body_overflow;
  bool header_overflow;
  size_t head_len;
  bool message_done;
  char *http_error;
  struct buf schemes;      /* schemes of this answer's WWW-Authenticate headers */
  char *authorization;     /* the Authorization value to send (after a 401); never logged */
  const char *auth_scheme; /* the scheme it answers, or NULL */
  /* the step */
  char *note;            /* appended to the step's detail, or NULL */
  double start_lab;      /* lab time the step began */
  double end_lab;        /* a timed-out step: lab time it ended (the timeout's end), else 0 */
  double timer_started;  /* lab time the running timeout (or DNS query) began */
  uint64_t timer_lab_ms; /* the timeout's nominal length; 0: none running */
};

struct sim_walk {
  struct sim_env env;
  const struct sim_model *model;
  struct sim_policy pol; /* the model's, with env->timeout_ms and the settings applied */
  struct scn_client cfg; /* a copy of the settings (strings and lists owned) */
  sim_done_cb done;
  void *done_arg;
  struct sim_transcript *t;
  char *email; /* the address asked for now (changes with redirectAddr) */
  char *domain;
  struct sim_plan_step plan[SIM_MODEL_MAX_STEPS];
  size_t n_plan;
  size_t next_plan; /* the next plan step to take */
  size_t scp_next;  /* the next SCP URL while the scp step is being taken */
  bool first_address;
  char *note_next; /* a note for the next step's detail (a consent prompt not shown) */
  struct sim_pending *pending;
  size_t n_pending;
  struct sim_visits visits;
  enum sim_walk_state state;
  int n_open; /* handles waiting for their close callback */
  double start_lab;
  bool advancing;             /* sim__advance is running (a library may call back from inside it) */
  struct ares_loop *resolver; /* the DNS questions' channel (sim_resolve.c); NULL once closed */
  uv_timer_t timer;           /* the next tick, and the timeout of the current network operation */
  SSL_CTX *ssl_ctx;
  struct sim_attempt att;
  struct sim_inspect *inspect; /* set: this "walk" is one inspection (sim_inspect.c), which
                                  reports facts instead of acting on them; NULL for a model */
};

/* sim_walk.c: the step driver */

/* sim__step_begin opens a step in the transcript, journals step.start and resets the attempt
 * (state SIM_ATT_IDLE); returns its index. */
size_t sim__step_begin(struct sim_walk *w, enum sim_step_kind kind, const char *url,
                       const char *host);
/* sim__step_end records how the current step ended, journals step.end, cleans the attempt up
 * and moves the walk on from the loop (never at once). Returns SIM_GO_END. */
enum sim_go sim__step_end(struct sim_walk *w, enum sim_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* sim__cur returns the step in progress. */
struct sim_step *sim__cur(struct sim_walk *w);
/* sim__add_prompt writes down a dialog the user saw and journals it; `text` is taken. */
void sim__add_prompt(struct sim_walk *w, enum sim_prompt_kind kind, const char *host,
                     const char *reason, unsigned failures, char *text, bool accepted, size_t step);
/* sim__push_pending queues a URL to try next (front) or after the others. */
void sim__push_pending(struct sim_walk *w, bool front, const char *url, bool consent,
                       size_t from_step);
/* sim__readdress starts the walk over for a redirectAddr's address (§3.4): new domain, new
 * plan, no waiting candidates. */
void sim__readdress(struct sim_walk *w, const char *addr);
/* sim__handle_gone counts a closed handle; the last one frees the walk and runs done(). */
void sim__handle_gone(struct sim_walk *w);
/* sim__progress tells env.progress (when set) what the current step is doing: `doing` words
 * it for people; `ended` once the step is over. */
void sim__progress(struct sim_walk *w, const char *doing, bool ended);
/* sim__set_str replaces *dst with a copy of `s` (NULL for NULL). */
void sim__set_str(char **dst, const char *s);
/* sim__lab_now returns the lab clock's time in ms (real time when env.clock is NULL). */
double sim__lab_now(const struct sim_walk *w);
/* sim__real_timeout_ms returns the real milliseconds a timeout of `lab_ms` lab ms lasts. */
uint64_t sim__real_timeout_ms(const struct sim_walk *w, uint64_t lab_ms);

/* sim_fetch.c: the attempt's state machine */

/* sim__advance runs the attempt as far as what its callbacks stored allows. */
void sim__advance(struct sim_walk *w);
/* sim__attempt_cleanup lets go of the connection, TLS and buffers; the state is SIM_ATT_IDLE. */
void sim__attempt_cleanup(struct sim_walk *w);
/* sim__attempt_reconnect drops the connection and the answer and sets SIM_ATT_CONNECT: the
 * same URL asked again (after a 401), the certificate already accepted not asked again. */
void sim__attempt_reconnect(struct sim_walk *w);

/* sim_http.c: the answer's bytes */

/* sim__http_start readies att.parser for an answer. */
void sim__http_start(struct sim_walk *w);
/* sim__http_feed parses bytes of the answer into att (status, body, location, schemes); an
 * error or an overflow is noted there and what follows is ignored. */
void sim__http_feed(struct sim_walk *w, const char *data, size_t len);

/* sim_resolve.c: c-ares on the libuv loop */

/* sim__resolve_init makes the c-ares channel (common/ares_loop) asking env->dns, or the system's
 * servers; it opens handles, so it comes last when a walk starts. On failure err says why and
 * nothing is left open. */
enum sim_status sim__resolve_init(struct sim_walk *w, char *err, size_t err_size);
/* sim__resolve_close destroys the channel (its queries end with ARES_EDESTRUCTION) and closes
 * the handles; each close is counted by sim__handle_gone. */
void sim__resolve_close(struct sim_walk *w);
/* sim__resolve_a asks for `host`'s addresses, A and AAAA at once as Windows' resolver does
 * (getaddrinfo with AF_UNSPEC); once both have answered, att holds dns_done, dns_status (the A
 * answer's, unless only the AAAA one has an address), a_addr or aaaa_addr (use_aaaa: no IPv4
 * address came) while the attempt is in SIM_ATT_AWAIT_A, then sim__advance runs. */
void sim__resolve_a(struct sim_walk *w, const char *host);
/* sim__resolve_query asks `name` one question of `type` (IANA number) for an inspection; `cb`
 * gets the raw answer with `w` as its argument. */
void sim__resolve_query(struct sim_walk *w, const char *name, int type, ares_callback cb);
/* sim__resolve_srv asks for `name`'s SRV records; the answer lands in att (dns_done,
 * dns_status, srv) while the attempt is in SIM_ATT_AWAIT_SRV. */
void sim__resolve_srv(struct sim_walk *w, const char *name);
/* sim__dns_error_name names a c-ares status as the transcript does ("NXDOMAIN", ...). */
const char *sim__dns_error_name(int status);
/* sim__dns_timed_out books a c-ares timeout at its nominal lab length on the current step. */
void sim__dns_timed_out(struct sim_walk *w, int status);

/* sim_tls.c: BoringSSL */

/* sim__tls_ctx_new makes the client context that trusts `trust_pem` only (NULL: nothing);
 * SIM_EIO with a sentence in err when the file cannot be read. */
enum sim_status sim__tls_ctx_new(SSL_CTX **out, const char *trust_pem, char *err, size_t err_size);
/* sim__tls_new gives the attempt its SSL over memory BIOs for att.url; returns NULL, or what
 * failed ("out of memory", "could not set up TLS"). */
const char *sim__tls_new(struct sim_walk *w);
/* sim__tls_cert_failures returns every failing check of the presented certificate (enum
 * sim_cert_failure bits) and writes its subject and issuer into the current step. */
unsigned sim__tls_cert_failures(struct sim_walk *w);
/* sim__tls_reason says why the handshake failed: BoringSSL's reason, the peer's close, or
 * `what`; empties the error queue. */
void sim__tls_reason(struct sim_walk *w, const char *what, char *out, size_t out_size);

/* sim_inspect.c: an inspection's hooks into the attempt (w->inspect set) */

/* sim__inspect_verify records the presented chain and its verification, whatever they say,
 * and lets the attempt go on to send (instead of the Security Alert). */
enum sim_go sim__inspect_verify(struct sim_walk *w);
/* sim__inspect_answer records the complete answer and ends the step (instead of acting on it:
 * no redirect followed, no 401 answered). */
enum sim_go sim__inspect_answer(struct sim_walk *w);
/* sim__inspect_header records one header line of the answer. */
void sim__inspect_header(struct sim_walk *w, const char *name, const char *value);
/* sim__inspect_tls_facts fills `out` from the handshake of `ssl` (the chain, the version) and
 * verifies the chain against `store` for `host` (sim_inspect_cert.c). */
void sim__inspect_tls_facts(struct sim_tls_info *out, SSL *ssl, X509_STORE *store, const char *host,
                            bool literal);
void sim__tls_info_cleanup(struct sim_tls_info *t);

/* sim_answer.c: what came back */

/* sim__answer_http acts on a complete HTTP answer: the HTTP step's 302, the AutoDV2 URL, or
 * a POX answer (sim__answer_pox). SIM_GO_NEXT when the attempt goes on (a 401 answered). */
enum sim_go sim__answer_http(struct sim_walk *w);
/* sim__answer_pox acts on a sorted POX answer (from the network or the local XML file). */
enum sim_go sim__answer_pox(struct sim_walk *w, const struct sim_answer *ans, int status);
/* sim__answer_srv turns the SRV records into candidates to try, in the policy's order. */
enum sim_go sim__answer_srv(struct sim_walk *w);

#endif
