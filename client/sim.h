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
  SIM_STEP_RESTART_CACHE,      /* the cached answer read while Outlook restarts (KB 3211279
                                  step 1): unreadable, the whole run fails */
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

/* Which certificate checks failed (bits, the same as scenario/scn.h enum scn_cert_check): the
 * Security Alert's three, and the weak signature and key a current TLS stack refuses. */
enum sim_cert_failure {
  SIM_CERT_UNTRUSTED = SCN_CERT_UNTRUSTED, /* "trusted certifying authority" */
  SIM_CERT_EXPIRED = SCN_CERT_EXPIRED,     /* "date valid": expired */
  SIM_CERT_NOT_YET_VALID = SCN_CERT_NOT_YET_VALID,
  SIM_CERT_NAME = SCN_CERT_NAME,                     /* "name valid / matches the site" */
  SIM_CERT_WEAK_SIGNATURE = SCN_CERT_WEAK_SIGNATURE, /* SHA-1 or MD5 in the chain */
  SIM_CERT_WEAK_KEY = SCN_CERT_WEAK_KEY,             /* RSA under 2048 bits */
};

enum sim_prompt_kind { SIM_PROMPT_CERTIFICATE, SIM_PROMPT_REDIRECT, SIM_PROMPT_CREDENTIALS };

struct sim_prompt {
  enum sim_prompt_kind kind;
  char *host;             /* certificate: the host connected to; redirect: the target host */
  char *reason;           /* certificate: "expired", "not-yet-valid", "name", "untrusted",
                             "weak-signature", "weak-key" (the first failing check in that order),
                             redirect: the URL offered; credentials: the scheme asked for */
  unsigned cert_failures; /* certificate: every failing check (enum sim_cert_failure bits) */
  char *text;             /* what the dialog says, as Outlook words it */
  bool accepted;
  size_t step; /* index of the step that raised it */
};

struct sim_step {
  enum sim_step_kind kind;
  char *name; /* "restart-cache", "local-xml", "last-known-good", "o365-direct", "scp",
                 "https-root", "https-autodiscover", "http-redirect", "srv", "redirect",
                 "o365-fallback" */
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
  int http_status;       /* 0 when none */
  char *detail;          /* a sentence: why the step ended as it did */
  char *redirect_to;     /* SIM_R_REDIRECT: the URL or e-mail address */
  unsigned error_code;   /* SIM_R_XML_ERROR */
  char *auth_schemes;    /* schemes of the 401 challenges seen ("Basic, NTLM"), or NULL */
  bool timed_out;        /* the step ended because a timeout ran out (DNS, connect, TLS, HTTP) */
  double elapsed_ms;     /* lab time the user waited in this step (labclock) */
  bool credentials_sent; /* the credentials the user gave (env->username) went to the server on
                            this step, as HTTP Basic over TLS; never their value */
};

/* What a transcript's times were measured on. */
enum sim_clock {
  SIM_CLOCK_LAB = 0, /* the lab clock: nominal lengths, run faster on the wall clock */
  SIM_CLOCK_REAL,    /* real time: a walk without a lab clock (probe, run --real-time) */
  SIM_CLOCK_JOURNAL, /* wall clock read from a journal's timestamps (a real client's walk) */
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
  enum sim_clock clock; /* what total_ms and elapsed_ms were measured on */
  char **settings;      /* "NAME=VALUE" of each setting the walk was given (the scenario's and
                           --set's; not the model's own values), in the settings table's order */
  size_t n_settings;
};

struct sim_model;

/* sim_model_named returns a built-in model ("mso-xdscli", "outlook-2016-msi", ...) or NULL. */
const struct sim_model *sim_model_named(const char *name);
/* sim_model_at returns the i-th built-in model, NULL past the last (listings, --help). */
const struct sim_model *sim_model_at(size_t i);
const char *sim_model_name(const struct sim_model *m);
const char *sim_model_summary(const struct sim_model *m);
/* sim_model_product names the Windows Outlook a model stands for ("Outlook 2016 MSI"), NULL
 * when it stands for none (mso-xdscli). */
const char *sim_model_product(const struct sim_model *m);
/* sim_model_office returns the Office major version whose registry a model reads (12 for
 * Office 12.0, ... 16), 0 when it is no Windows Outlook. */
unsigned sim_model_office(const struct sim_model *m);
/* sim_model_defaults returns every setting's value for a model (docs/clients.md): what a walk
 * starts from before a scenario's or --set's settings. */
const struct scn_client *sim_model_defaults(const struct sim_model *m);
/* sim_model_steps writes the model's step names, in order, comma-separated ("scp, https-root,
 * ..."), into out. */
void sim_model_steps(const struct sim_model *m, char *out, size_t out_size);

/* sim_model_load reads a user's own model from a YAML file (docs/clients.md, "Your own
 * model"): name, summary, an optional built-in base, steps in order, policy and settings.
 * Returns it (free with sim_model_free), or NULL with "file:line:col: message" in err. A name
 * that is a built-in model's is refused. */
struct sim_model *sim_model_load(const char *path, char *err, size_t err_size);
/* sim_model_free releases a model of sim_model_load; NULL and built-in models are fine. */
void sim_model_free(struct sim_model *m);

/* What a walk is doing, for a progress display (sim_env.progress). Strings are borrowed for
 * the call only. */
struct sim_progress {
  const char *client;    /* the model's name */
  size_t step;           /* index of the step in the transcript, from 0 */
  size_t n_steps_known;  /* steps taken so far plus those still planned or waiting; grows when a
                            redirect or an SRV answer adds candidates */
  const char *step_name; /* "https-autodiscover", ... */
  const char *host;      /* the host asked, or NULL */
  const char *state;     /* the attempt's state ("await-connect", ...; "idle" once ended) */
  const char *doing;     /* the same for people: "resolving", "connecting", "TLS handshake",
                            "waiting for the answer", ...; once ended: the step's result */
  bool ended;            /* the step is over */
};
typedef void (*sim_progress_cb)(void *arg, const struct sim_progress *p);

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
  /* A real server (probe): when set, the walk never sends the lab's stand-in credentials. A
   * 401 is answered only with username and password, only as HTTP Basic and only over HTTPS;
   * without a username the credentials prompt is recorded as cancelled and the step is not
   * functional. Negotiate and NTLM (Windows single sign-on) are not answered. Both strings
   * are borrowed and must outlive the walk; the password never reaches a journal. */
  bool real_credentials;
  const char *username;
  const char *password;
  sim_progress_cb progress; /* called when an attempt changes state; may be NULL */
  void *progress_arg;
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
/* sim_clock_text says what times were measured on, for people: "lab clock", "real time",
 * "wall clock, from the journal's timestamps". */
const char *sim_clock_text(enum sim_clock c);
const char *sim_prompt_kind_name(enum sim_prompt_kind k);

/* --- for readers that rebuild a transcript from a journal (lab/journal_*.c) --- */

/* sim_step_kind_name names a step kind as transcripts spell it ("https-root", ...). */
const char *sim_step_kind_name(enum sim_step_kind k);
/* sim_step_kind_parse, sim_result_parse and sim_prompt_kind_parse read those names back;
 * false for a name that is none of them. */
bool sim_step_kind_parse(const char *name, enum sim_step_kind *out);
bool sim_result_parse(const char *name, enum sim_result *out);
bool sim_prompt_kind_parse(const char *name, enum sim_prompt_kind *out);
/* sim_cert_failure_name names one enum sim_cert_failure bit ("untrusted", "expired", ...). */
const char *sim_cert_failure_name(unsigned bit);
/* sim_cert_reason returns a certificate prompt's reason word: "expired", else "not-yet-valid",
 * else "name", else "untrusted"; NULL when failures == 0. */
const char *sim_cert_reason(unsigned failures);

/* What a model shows the user. */
struct sim_prompt_policy {
  unsigned cert_prompts;      /* enum sim_cert_failure bits that raise the Security Alert */
  unsigned cert_accepted;     /* bits that are no failure for the model */
  bool http_redirect_consent; /* the HTTP redirect step's 302 asks "Allow this website…" */
  bool srv_consent;           /* each SRV target asks the same */
  bool silent_sso;            /* Negotiate and NTLM are answered without a prompt */
};
/* sim_auth_prompt says whether a model shows the credentials prompt for a 401 offering
 * `schemes` (", "-separated): the prompt's reason ("basic", "negotiate", "ntlm"), or NULL when
 * it answers silently (Windows logon) or not at all (Bearer only) (§2.4). */
const char *sim_auth_prompt(const char *schemes, bool silent_sso);
/* sim_model_prompt_policy fills *out with the prompt policy of `m` under the settings `cfg`
 * (NULL: the model's own). */
void sim_model_prompt_policy(const struct sim_model *m, const struct scn_client *cfg,
                             struct sim_prompt_policy *out);
/* sim_prompt_text words a dialog as the models do (caller frees): certificate (for `host`,
 * `cert_failures`), redirect (for `email` and the `url` offered) or credentials (`host` asks
 * `email`'s password). */
char *sim_prompt_text(enum sim_prompt_kind kind, const char *host, const char *email,
                      const char *url, unsigned cert_failures);

#endif
