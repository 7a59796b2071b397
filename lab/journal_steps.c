/* lab/journal_steps.c: the units of work inferred from a journal (journal_infer.c) named as
 * the models name their steps, and filled as a model fills its transcript: what the name
 * resolved to, the certificate presented and whether the client refused it, the answer and
 * where it led — with the prompts Outlook would have shown (docs/report.md). */
#include "lab/journal_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Every model follows at most ten redirects of any kind (§3.4). */
#define MAX_REDIRECTS 10

static struct sim_step *add_step(struct sim_transcript *t) {
  t->steps = xrealloc_array(t->steps, t->n_steps + 1, sizeof *t->steps);
  struct sim_step *s = &t->steps[t->n_steps++];
  memset(s, 0, sizeof *s);
  return s;
}

static void add_prompt(struct jinfer *in, enum sim_prompt_kind kind, const char *host,
                       const char *reason, unsigned failures, bool accepted, size_t step) {
  struct sim_transcript *t = in->t;
  t->prompts = xrealloc_array(t->prompts, t->n_prompts + 1, sizeof *t->prompts);
  struct sim_prompt *p = &t->prompts[t->n_prompts++];
  *p = (struct sim_prompt){
      .kind = kind,
      .host = str_dup(host),
      .reason = str_dup(reason),
      .cert_failures = failures,
      .text = sim_prompt_text(kind, host, t->settings_email != NULL ? t->settings_email : t->email,
                              reason, failures),
      .accepted = accepted,
      .step = step,
  };
}

static bool has_step(const struct sim_transcript *t, enum sim_step_kind k) {
  for (size_t i = 0; i < t->n_steps; i++) {
    if (t->steps[i].kind == k) {
      return true;
    }
  }
  return false;
}

static bool scp_listed(const struct jinfer *in, const char *url) {
  const struct lab_desc *d = in->s->lab;
  for (size_t i = 0; d != NULL && url != NULL && i < d->n_scp_urls; i++) {
    if (str_eq_nocase(d->scp_urls[i], url)) {
      return true;
    }
  }
  return false;
}

/* classify names a unit as the models name steps (docs/transcript.md). */
static enum sim_step_kind classify(struct jinfer *in, const struct junit *u, const char *url,
                                   bool *target) {
  const char *h = u->host;
  *target = false;
  if (u->lk != NULL && u->lk->srv) {
    return SIM_STEP_SRV;
  }
  if ((in->pending_host[0] != '\0' && jinfer__host_eq(h, in->pending_host)) ||
      (in->pending_srv && !jinfer__host_eq(h, in->domain) &&
       !jinfer__is_autodiscover_of(h, in->domain))) {
    *target = true;
    return SIM_STEP_REDIRECT;
  }
  if (scp_listed(in, url)) {
    return SIM_STEP_SCP;
  }
  const struct scn_client *cfg = in->s->cfg;
  if (cfg != NULL && cfg->last_known_good_url != NULL && in->t->n_steps == 0) {
    char lkg[JINFER_HOST_MAX];
    jinfer__url_host(lkg, sizeof lkg, cfg->last_known_good_url);
    if (jinfer__host_eq(lkg, h)) {
      return SIM_STEP_LAST_KNOWN_GOOD;
    }
  }
  if (jinfer__host_eq(h, "outlook.office365.com")) {
    return has_step(in->t, SIM_STEP_HTTPS_ROOT) || has_step(in->t, SIM_STEP_HTTPS_AUTODISCOVER)
               ? SIM_STEP_O365_FALLBACK
               : SIM_STEP_O365_DIRECT;
  }
  if (jinfer__host_eq(h, in->domain) && u->https) {
    return SIM_STEP_HTTPS_ROOT;
  }
  if (jinfer__is_autodiscover_of(h, in->domain)) {
    if (u->c == NULL) { /* looked up, never connected: which of the two steps? */
      return has_step(in->t, SIM_STEP_HTTPS_AUTODISCOVER) ? SIM_STEP_HTTP_REDIRECT
                                                          : SIM_STEP_HTTPS_AUTODISCOVER;
    }
    return u->https ? SIM_STEP_HTTPS_AUTODISCOVER : SIM_STEP_HTTP_REDIRECT;
  }
  return SIM_STEP_REDIRECT;
}

/* local_port is the port of an "addr:port" text, 0 when it has none. */
static unsigned local_port(const char *local) {
  const char *colon = local != NULL ? strrchr(local, ':') : NULL;
  uint32_t port = 0;
  if (colon == NULL || !parse_u32(colon + 1, 1, 65535, &port)) {
    return 0;
  }
  return port;
}

/* conn_port is the listener of the host a connection reached (a listeners: port by its bound
 * port, else https or http). */
static const struct lab_port_desc *conn_port(const struct jinfer *in, const struct jconn *c,
                                             bool https) {
  return c == NULL ? NULL : lab_desc_port(jinfer__conn_host(in, c), https, local_port(c->local));
}

/* route_of finds the route of port `p` that answered `req` (http.response's route), and when it
 * has answers, the one that did (http.response's answer); NULL when not known. */
static const struct lab_route_desc *route_of(const struct lab_port_desc *p, const struct jrec *req,
                                             const struct jrec *resp) {
  const char *path = resp != NULL ? jrec__str(resp, JF_ROUTE) : NULL;
  if (p == NULL || path == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < p->n_routes; i++) {
    const struct lab_route_desc *r = &p->routes[i];
    if (r->path != NULL && strcmp(r->path, path) == 0 &&
        (r->method == NULL || str_eq_nocase(r->method, jrec__str(req, JF_METHOD)))) {
      double answer = 0;
      if (r->n_answers == 0) {
        return r;
      }
      if (jrec__num(resp, JF_ANSWER, &answer) && answer >= 1 && answer <= (double) r->n_answers) {
        return &r->answers[(size_t) answer - 1];
      }
      return NULL; /* no answer applied: a 404 */
    }
  }
  return NULL;
}

static void set_detail(struct sim_step *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_detail(struct sim_step *s, const char *fmt, ...) {
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  free(s->detail);
  s->detail = str_dup(text);
}

/* alert_failure says which check a certificate alert names (0: not about the certificate). */
static unsigned alert_failure(const char *alert) {
  if (alert == NULL) {
    return 0;
  }
  if (strcmp(alert, "certificate expired") == 0) {
    return SIM_CERT_EXPIRED;
  }
  static const char *const cert_alerts[] = {"unknown CA",
                                            "unknown ca",
                                            "bad certificate",
                                            "certificate unknown",
                                            "unsupported certificate",
                                            "certificate revoked",
                                            "access denied"};
  for (size_t i = 0; i < sizeof cert_alerts / sizeof cert_alerts[0]; i++) {
    if (strcasecmp(alert, cert_alerts[i]) == 0) {
      return SIM_CERT_UNTRUSTED;
    }
  }
  return 0;
}

/* connect_failed fills a step whose name was looked up but whose connection never reached the
 * lab: the lab's description says why (refused, a black hole) when it can. */
static void connect_failed(struct jinfer *in, struct sim_step *s, const struct junit *u) {
  const struct lab_host_desc *h = lab_desc_host_named(in->s->lab, u->host);
  const struct lab_port_desc *p = h == NULL ? NULL : u->https ? &h->https : &h->http;
  s->result = SIM_R_CONNECT_FAILED;
  s->dns_answer = str_dup(h != NULL ? h->address : NULL);
  if (p != NULL && !p->present) {
    s->connect_error = str_dup("refused");
    set_detail(s, "%s refuses port %d (the lab's description): no connection reached it", u->host,
               u->https ? 443 : 80);
  } else if (p != NULL && p->fault != NULL && strcmp(p->fault, "blackhole") == 0) {
    s->connect_error = str_dup("timeout");
    s->timed_out = true;
    set_detail(s, "%s drops connections (a black hole): the client's connect timed out", u->host);
  } else {
    s->connect_error = str_dup("not seen by the lab");
    set_detail(s, "%s was looked up but no connection to it reached the lab", u->host);
  }
}

/* handshake fills the TLS part of a step and infers the certificate prompt. */
static bool handshake(struct jinfer *in, struct sim_step *s, const struct junit *u, size_t index) {
  const struct jconn *c = u->c;
  const struct lab_host_desc *h = jinfer__conn_host(in, c);
  const struct lab_cert_desc *cert = lab_desc_cert(h, conn_port(in, c, true));
  bool presented = c->hello && !(c->done && !c->ok && c->tls_state != NULL &&
                                 strcmp(c->tls_state, "read-hello") == 0);
  unsigned failures = 0;
  if (presented && cert != NULL && cert->present) {
    s->cert_subject = str_dup(cert->subject);
    s->cert_issuer = str_dup(cert->issuer);
    failures = jinfer__cert_failures(cert, c->sni != NULL ? c->sni : u->host, c->t_first);
    failures &= ~in->s->policy.cert_accepted; /* checks the model does not make */
  }
  unsigned prompting = in->s->policy.cert_prompts;
  if (u->refused != NULL && failures != 0 && (failures & prompting) != 0) {
    /* refused once, then connected again: the user answered Yes */
    add_prompt(in, SIM_PROMPT_CERTIFICATE, u->host, sim_cert_reason(failures), failures, true,
               index);
  }
  if (c->reset && !c->hello) {
    s->result = SIM_R_CONNECT_FAILED;
    s->connect_error = str_dup("reset");
    set_detail(s, "the lab reset the connection (a reset fault)");
    return false;
  }
  if (!jinfer__tls_failed(c)) {
    s->cert_failures = failures;
    bool declined = failures != 0 && u->tls_part && u->x_n == 0 && c->http_error == NULL &&
                    !c->reset && u->refused == NULL;
    if (failures != 0 && (failures & prompting) != 0 && u->refused == NULL) {
      add_prompt(in, SIM_PROMPT_CERTIFICATE, u->host, sim_cert_reason(failures), failures,
                 !declined, index);
    }
    if (declined) { /* the handshake finished, then the client went away: it said No */
      s->result = SIM_R_TLS_FAILED;
      s->tls_error = str_dup("the client closed the connection after the handshake, before any "
                             "request: it declined the certificate");
      set_detail(s, "the client declined the certificate (%s)", sim_cert_reason(failures));
      return false;
    }
    return true;
  }
  s->result = SIM_R_TLS_FAILED;
  unsigned named = alert_failure(c->alert);
  bool refusal = presented && (named != 0 || (c->alert == NULL && failures != 0));
  if (refusal && failures == 0) {
    failures = named; /* the lab's checks pass: the client does not trust the lab CA? */
  }
  s->cert_failures = failures;
  if (c->alert != NULL) {
    char text[300];
    buf_fmt(text, sizeof text, "the client sent the alert \"%s\"", c->alert);
    s->tls_error = str_dup(text);
  } else if (refusal) {
    s->tls_error = str_dup("the client closed the connection after the certificate (no alert)");
  } else if (c->reset) {
    s->tls_error = str_dup("reset by the lab after the ClientHello");
  } else {
    s->tls_error = str_dup(c->tls_error != NULL ? c->tls_error : "the handshake did not finish");
  }
  if (refusal) {
    set_detail(s, "the client refused the certificate (%s)%s", sim_cert_reason(failures),
               named != 0 && cert != NULL && jinfer__cert_failures(cert, u->host, c->t_first) == 0
                   ? ": it passes the lab's checks, so the client may not trust the lab CA"
                   : "");
    if ((failures & prompting) != 0) {
      add_prompt(in, SIM_PROMPT_CERTIFICATE, u->host, sim_cert_reason(failures), failures, false,
                 index);
    }
  } else {
    set_detail(s, "TLS failed: %s", s->tls_error);
  }
  return false;
}

/* answer fills the HTTP part of a step from its last exchange and the route that answered. */
static void answer(struct jinfer *in, struct sim_step *s, const struct junit *u, size_t index) {
  const struct jconn *c = u->c;
  if (u->x_n == 0) {
    s->result = SIM_R_HTTP_FAILED;
    set_detail(s, "%s",
               c->http_error != NULL ? c->http_error
               : c->reset            ? "the lab reset the connection (a reset fault)"
                                     : "the client sent no request on the connection");
    return;
  }
  const struct jrec *req = c->reqs[u->x_first + u->x_n - 1];
  const struct jrec *resp = c->resps[u->x_first + u->x_n - 1];
  const struct lab_port_desc *port = conn_port(in, c, u->https);
  bool challenged = u->challenged_before;
  bool basic_sent = false;
  for (size_t k = u->x_first; k < u->x_first + u->x_n; k++) {
    const char *scheme = jrec__str(c->reqs[k], JF_AUTH_SCHEME);
    basic_sent = basic_sent || (challenged && scheme != NULL && str_eq_nocase(scheme, "Basic"));
    challenged = challenged || (c->resps[k] != NULL && jrec__bool(c->resps[k], JF_CHALLENGED));
  }
  if (challenged) {
    const struct lab_route_desc *r = route_of(port, req, resp);
    s->auth_schemes = str_dup(r != NULL && r->challenges != NULL ? r->challenges : "?");
  }
  if (basic_sent) {
    add_prompt(in, SIM_PROMPT_CREDENTIALS, u->host, "basic", 0, true, index);
  } else if (challenged && s->auth_schemes != NULL && in->s->cfg != NULL &&
             in->s->cfg->answer_no_to_credentials_prompts &&
             sim_auth_prompt(s->auth_schemes, in->s->policy.silent_sso) != NULL) {
    /* nothing answered the challenge: the scenario's user clicks Cancel (§2.4) */
    add_prompt(in, SIM_PROMPT_CREDENTIALS, u->host,
               sim_auth_prompt(s->auth_schemes, in->s->policy.silent_sso), 0, false, index);
  }
  double status = 0;
  if (resp == NULL || !jrec__num(resp, JF_STATUS, &status) || !(status >= 100 && status < 1000)) {
    s->result = SIM_R_HTTP_FAILED;
    set_detail(s, "%s", c->http_error != NULL ? c->http_error : "no answer in the journal");
    return;
  }
  s->http_status = (int) status;
  const struct lab_route_desc *r = route_of(port, req, resp);
  const char *method = jrec__str(req, JF_METHOD);
  if (status == 401) {
    s->result = SIM_R_NOT_AUTODISCOVER;
    set_detail(s, "HTTP 401: asks for credentials (%s)", s->auth_schemes ? s->auth_schemes : "?");
  } else if (r != NULL && r->kind != NULL && strcmp(r->kind, "redirect") == 0) {
    s->result = SIM_R_REDIRECT;
    if (r->location != NULL && r->location[0] == '/') {
      char to[2048];
      buf_fmt(to, sizeof to, "%s://%s%s", u->https ? "https" : "http", u->host, r->location);
      s->redirect_to = str_dup(to);
    } else {
      s->redirect_to = str_dup(r->location);
    }
    set_detail(s, "HTTP %d: redirect to %s", s->http_status, s->redirect_to ? s->redirect_to : "?");
  } else if (r != NULL && r->kind != NULL && strcmp(r->kind, "autodiscover") == 0 &&
             status == 200 && (method == NULL || strcmp(method, "POST") != 0)) {
    /* a POX responder answers a request without a POX body (a GET probe, as the EWS Managed
     * API's endpoint discovery sends) with error 600, whatever settings it holds */
    s->result = SIM_R_XML_ERROR;
    s->error_code = 600;
    set_detail(s, "HTTP 200 to a %s: Autodiscover error 600 (Invalid Request), no POX request",
               method != NULL ? method : "request");
  } else if (r != NULL && r->answer != NULL && status == 200) {
    if (strcmp(r->answer, "settings") == 0) {
      s->result = SIM_R_SETTINGS;
      struct sim_transcript *t = in->t;
      if (!t->success) {
        t->success = true;
        t->final_url = str_dup(s->url);
        t->ews_url = str_dup(r->ews_url);
        t->server = str_dup(r->server);
        const char *email = jrec__str(req, JF_EMAIL);
        t->settings_email = str_dup(email != NULL ? email : t->email);
      }
      set_detail(s, "settings for %s (EWS %s)", in->t->settings_email ? in->t->settings_email : "?",
                 r->ews_url != NULL ? r->ews_url : "none");
    } else if (strcmp(r->answer, "error") == 0) {
      s->result = SIM_R_XML_ERROR;
      s->error_code = r->error_code;
      set_detail(s, "Autodiscover error %u", r->error_code);
    } else {
      s->result = SIM_R_REDIRECT;
      s->redirect_to = str_dup(r->redirect);
      set_detail(s, "%s to %s", r->answer, r->redirect ? r->redirect : "?");
    }
  } else if (r != NULL && r->kind != NULL && strcmp(r->kind, "autodiscover-v2") == 0 &&
             status == 200 && r->redirect != NULL) {
    s->result = SIM_R_REDIRECT;
    s->redirect_to = str_dup(r->redirect);
    set_detail(s, "AutoDV2 Url %s", r->redirect);
  } else if (r == NULL && status == 200 && method != NULL && strcmp(method, "POST") == 0 &&
             s->url != NULL && strstr(s->url, "utodiscover.xml") != NULL) {
    s->result = SIM_R_SETTINGS; /* no lab description: what else would answer 200 there */
    struct sim_transcript *t = in->t;
    if (!t->success) {
      t->success = true;
      t->final_url = str_dup(s->url);
      const char *email = jrec__str(req, JF_EMAIL);
      t->settings_email = str_dup(email != NULL ? email : t->email);
    }
    set_detail(s, "HTTP 200 to the POX request: settings, assumed (the journal has no lab.start "
                  "saying what the answer held)");
  } else if (status >= 300 && status < 400) {
    s->result = SIM_R_REDIRECT;
    set_detail(s, "HTTP %d: a redirect (the journal does not say where to)", s->http_status);
  } else {
    s->result = SIM_R_NOT_AUTODISCOVER;
    set_detail(s, "HTTP %d: not an Autodiscover answer", s->http_status);
  }
}

static char *unit_url(const struct jinfer *in, const struct junit *u, enum sim_step_kind kind) {
  char url[4096];
  if (u->c != NULL && u->x_n > 0) {
    const struct jrec *req = u->c->reqs[u->x_first];
    const char *target = jrec__str(req, JF_TARGET);
    if (target == NULL) {
      target = jrec__str(req, JF_PATH);
    }
    if (target != NULL && strstr(target, "://") != NULL) {
      return str_dup(target); /* an absolute-form request */
    }
    const struct lab_port_desc *p = conn_port(in, u->c, u->https);
    char port[16] = "";
    if (p != NULL && p->nominal != 0 && p->nominal != (u->https ? 443u : 80u)) {
      buf_fmt(port, sizeof port, ":%u", p->nominal); /* a listeners: port */
    }
    buf_fmt(url, sizeof url, "%s://%s%s%s", u->https ? "https" : "http", u->host, port,
            target != NULL ? target : "/");
    return str_dup(url);
  }
  if (kind == SIM_STEP_SRV) {
    return NULL;
  }
  if (kind == SIM_STEP_REDIRECT && in->pending_url != NULL &&
      jinfer__host_eq(in->pending_host, u->host)) {
    return str_dup(in->pending_url);
  }
  buf_fmt(url, sizeof url, "%s://%s/autodiscover/autodiscover.xml", u->https ? "https" : "http",
          u->host);
  return str_dup(url);
}

/* srv_records lists the scenario's answer for an SRV name ("priority weight port target", ...)
 * and the URL of its first record by priority; nothing without the scenario. */
static void srv_records(const struct jinfer *in, struct sim_step *s, const char *qname) {
  const struct scn *scn = in->s->opt->scn;
  struct buf b;
  buf_init(&b, 8192);
  const struct scn_record *best = NULL;
  for (size_t i = 0; scn != NULL && i < scn->n_records; i++) {
    const struct scn_record *r = &scn->records[i];
    if (r->type == 33 && str_eq_nocase(r->name, qname) && r->target != NULL) {
      buf_appendf(&b, "%s%u %u %u %s", b.len > 0 ? ", " : "", r->priority, r->weight, r->port,
                  r->target);
      if (best == NULL || r->priority < best->priority) {
        best = r;
      }
    }
  }
  s->dns_answer = buf_take(&b);
  if (best != NULL) {
    char url[2048], port[16] = "";
    if (best->port != 443) {
      buf_fmt(port, sizeof port, ":%u", best->port);
    }
    buf_fmt(url, sizeof url, "https://%s%s/autodiscover/autodiscover.xml", best->target, port);
    s->url = str_dup(url);
    s->redirect_to = str_dup(url);
  }
}

static void fill_step(struct jinfer *in, struct sim_step *s, const struct junit *u, size_t index) {
  if (u->lk != NULL && u->lk->srv) {
    if (!u->lk->ok) {
      s->result = SIM_R_NO_CANDIDATE;
      s->dns_error = str_dup(u->lk->error);
      s->timed_out = u->lk->error != NULL && strcmp(u->lk->error, "timeout") == 0;
      set_detail(s, "no SRV record (%s)", u->lk->error ? u->lk->error : "?");
      return;
    }
    s->result = SIM_R_REDIRECT;
    srv_records(in, s, u->lk->qname);
    set_detail(s, "SRV answered: the client goes on to the target");
    return;
  }
  if (u->lk != NULL && !u->lk->ok && u->c == NULL) {
    s->result = SIM_R_DNS_FAILED;
    s->dns_error = str_dup(u->lk->error);
    s->timed_out = u->lk->error != NULL && strcmp(u->lk->error, "timeout") == 0;
    set_detail(s, "%s: DNS %s", u->host, u->lk->error ? u->lk->error : "failed");
    return;
  }
  if (u->c == NULL) {
    connect_failed(in, s, u);
    return;
  }
  char ip[JINFER_HOST_MAX];
  jinfer__host_part(ip, sizeof ip, u->c->local);
  s->dns_answer = str_dup(ip[0] != '\0' ? ip : NULL);
  if (u->https && (u->tls_part || u->refused != NULL) && !handshake(in, s, u, index)) {
    return;
  }
  if (!u->https && u->c->reset && u->x_n == 0) {
    s->result = SIM_R_CONNECT_FAILED;
    s->connect_error = str_dup("reset");
    set_detail(s, "the lab reset the connection (a reset fault)");
    return;
  }
  answer(in, s, u, index);
}

static bool visited(const struct jinfer *in, const char *url) {
  for (size_t i = 0; url != NULL && i < in->n_visited; i++) {
    if (str_eq_nocase(in->visited[i], url)) {
      return true;
    }
  }
  return false;
}

/* follow_up notes what the step offers next: a redirect's target, the SRV target, or (after a
 * redirectAddr) a new domain to start over with. */
static void follow_up(struct jinfer *in, const struct sim_step *s, size_t index) {
  bool srv_target = in->pending_srv && s->kind == SIM_STEP_REDIRECT;
  size_t srv_from = in->pending_from;
  free(in->pending_url);
  in->pending_url = NULL;
  in->pending_host[0] = '\0';
  in->pending_srv = false;
  in->pending_consent = false;
  in->srv_next = false;
  if (srv_target && s->result != SIM_R_REDIRECT && s->result != SIM_R_SETTINGS) {
    /* the target failed: the models go on to the answer's next one (§5), asking again */
    in->pending_srv = true;
    in->srv_next = true;
    in->pending_consent = in->s->policy.srv_consent;
    in->pending_from = srv_from;
    return;
  }
  if (s->result != SIM_R_REDIRECT || in->n_redirects >= MAX_REDIRECTS) {
    return;
  }
  in->pending_from = index;
  const char *to = s->redirect_to;
  if (s->kind == SIM_STEP_SRV) { /* whichever target the client picks (§5) */
    in->pending_consent = in->s->policy.srv_consent;
    in->pending_srv = true;
    if (to != NULL) {
      jinfer__url_host(in->pending_host, sizeof in->pending_host, to);
      in->pending_url = str_dup(to);
    }
    return;
  }
  if (to != NULL && strncasecmp(to, "https://", 8) == 0 && !visited(in, to)) {
    /* models follow https only, never back to a URL asked before (§3.4) */
    jinfer__url_host(in->pending_host, sizeof in->pending_host, to);
    in->pending_url = str_dup(to);
    in->pending_consent = s->kind == SIM_STEP_HTTP_REDIRECT && in->s->policy.http_redirect_consent;
  } else if (to != NULL && strstr(to, "://") == NULL && jinfer__domain_of(to) != NULL) {
    /* redirectAddr: the walk starts over for that domain */
    const char *domain = jinfer__domain_of(to);
    jinfer__lower_copy(in->domain, sizeof in->domain, domain, strlen(domain));
  }
}

/* consent infers the redirect prompt for a target the client went to (models: the HTTP
 * redirect step's 302 and SRV targets ask; RedirectServers hosts do not). */
static void consent(struct jinfer *in, struct sim_step *s) {
  struct sim_step *from = &in->t->steps[in->pending_from];
  in->n_redirects++;
  if (from->kind == SIM_STEP_SRV && !in->srv_next) { /* the target the client picked first */
    free(from->url);
    free(from->redirect_to);
    from->redirect_to = str_dup(s->url);
    from->url = str_dup(s->url);
  }
  const struct scn_client *cfg = in->s->cfg;
  bool listed = false;
  for (size_t i = 0; cfg != NULL && i < cfg->n_redirect_servers; i++) {
    listed = listed || jinfer__host_eq(cfg->redirect_servers[i], s->host);
  }
  if (in->pending_consent && !listed) {
    add_prompt(in, SIM_PROMPT_REDIRECT, s->host, s->url, 0, true, in->pending_from);
  }
}

/* implied_https adds the https-autodiscover step a client took before the HTTP redirect step
 * when the lab refuses (or drops) its port 443: such a connection leaves no event, yet every
 * model tries https://autodiscover.<domain> first. */
static void implied_https(struct jinfer *in, const struct junit *u) {
  const struct lab_host_desc *h = lab_desc_host_named(in->s->lab, u->host);
  if (h == NULL || has_step(in->t, SIM_STEP_HTTPS_AUTODISCOVER) ||
      (h->https.present && (h->https.fault == NULL || strcmp(h->https.fault, "blackhole") != 0))) {
    return;
  }
  struct sim_step *st = add_step(in->t);
  st->kind = SIM_STEP_HTTPS_AUTODISCOVER;
  st->name = str_dup(sim_step_kind_name(st->kind));
  char url[2048];
  buf_fmt(url, sizeof url, "https://%s/autodiscover/autodiscover.xml", u->host);
  st->url = str_dup(url);
  st->host = str_dup(u->host);
  struct junit https = *u;
  https.https = true;
  connect_failed(in, st, &https);
  char *detail = st->detail;
  st->detail = NULL;
  set_detail(st, "%s (inferred: such a connection leaves no event)", detail);
  free(detail);
}

struct sim_step *jinfer__step(struct jinfer *in, const struct junit *u) {
  struct sim_transcript *t = in->t;
  char *url = unit_url(in, u, SIM_STEP_REDIRECT);
  bool target = false;
  enum sim_step_kind kind = classify(in, u, url, &target);
  free(url);
  if (kind == SIM_STEP_HTTP_REDIRECT && u->c != NULL) {
    implied_https(in, u);
  }
  struct junit plain;
  if (kind == SIM_STEP_HTTP_REDIRECT && u->c == NULL) { /* looked up for the plain HTTP step */
    plain = *u;
    plain.https = false;
    u = &plain;
  }
  size_t index = t->n_steps;
  struct sim_step *st = add_step(t);
  st->kind = kind;
  st->name = str_dup(sim_step_kind_name(kind));
  st->url = unit_url(in, u, kind);
  st->host = str_dup(kind == SIM_STEP_SRV && u->lk != NULL ? u->lk->qname : u->host);
  if (target) {
    consent(in, st);
  }
  fill_step(in, st, u, index);
  if (st->url != NULL) {
    in->visited = xrealloc_array(in->visited, in->n_visited + 1, sizeof *in->visited);
    in->visited[in->n_visited++] = str_lower(str_dup(st->url));
  }
  follow_up(in, st, index);
  return st;
}

/* name_matches is RFC 6125's rule as browsers apply it: exact, or a wildcard for one label. */
static bool name_matches(const char *pattern, const char *host) {
  if (strcasecmp(pattern, host) == 0) {
    return true;
  }
  if (pattern[0] != '*' || pattern[1] != '.') {
    return false;
  }
  const char *dot = strchr(host, '.');
  return dot != NULL && dot != host && strcasecmp(dot + 1, pattern + 2) == 0;
}

unsigned jinfer__cert_failures(const struct lab_cert_desc *c, const char *host, int64_t t_us) {
  unsigned f = c->trusted ? 0 : SIM_CERT_UNTRUSTED;
  const char *profile = c->profile != NULL ? c->profile : "";
  /* what a current TLS stack refuses although the chain verifies (docs/certificates.md) */
  f |= strcmp(profile, "sha1-signature") == 0 ? SIM_CERT_WEAK_SIGNATURE : 0;
  f |= strcmp(profile, "rsa-1024") == 0 ? SIM_CERT_WEAK_KEY : 0;
  if (c->has_dates) {
    int64_t t = t_us / 1000000;
    f |= t > c->not_after ? SIM_CERT_EXPIRED : 0;
    f |= t < c->not_before ? SIM_CERT_NOT_YET_VALID : 0;
  } else { /* described from the scenario, not minted: the profile says it */
    f |= strcmp(profile, "expired") == 0 ? SIM_CERT_EXPIRED : 0;
    f |= strcmp(profile, "not-yet-valid") == 0 ? SIM_CERT_NOT_YET_VALID : 0;
    if (strcmp(profile, "wrong-name") == 0 || strcmp(profile, "ip-only") == 0 ||
        strcmp(profile, "san-missing-host") == 0) {
      f |= SIM_CERT_NAME;
    }
  }
  char name[JINFER_HOST_MAX];
  jinfer__host_part(name, sizeof name, host);
  bool named = false;
  for (size_t i = 0; i < c->n_names && !named; i++) {
    named = c->names[i] != NULL && name_matches(c->names[i], name);
  }
  if (!named && name[0] != '\0') {
    f |= SIM_CERT_NAME;
  }
  return f;
}
