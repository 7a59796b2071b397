/* client/sim_inspect.c: inspections — what one real endpoint serves, or what a DNS server says
 * about one name — for `autodisco snapshot`. An inspection is a walk without a model: the same
 * struct sim_walk, one step, the attempt machinery of sim_fetch.c (resolve, connect, TLS over
 * sim_tls.c, the request, the answer through sim_http.c) with w->inspect set, so that at the
 * two places where a model acts — the certificate's checks and the answer — the facts are
 * written down instead (sim__inspect_verify, sim__inspect_answer) and nothing is followed,
 * prompted or answered. No credential is ever sent: a 401 is a fact like any other. The walk
 * ends as every walk does (sim__step_end, then the loop closes its handles) and the facts are
 * handed over in done(). Time is real: env->clock is not used. */
#include "client/sim_inspect.h"

#include "client/internal.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

enum {
  INSPECT_TIMEOUT_MS = 10000,   /* each of DNS, connect, TLS, the answer, unless env says */
  INSPECT_BODY_MAX = 64 * 1024, /* body bytes kept unless the request says */
  INSPECT_HEAD_MAX = 16 * 1024, /* header bytes kept */
  INSPECT_MAX_RECORDS = 32,     /* records kept from one answer */
};

struct sim_inspect {
  sim_inspect_cb done; /* an endpoint */
  sim_dns_cb dns_done; /* or a DNS question */
  void *arg;
  struct sim_inspection *r;
  struct sim_dns_info *dns;
  size_t body_max;
  struct buf headers;
};

/* --- the walk without a model --- */

static void inspect_free(struct sim_inspect *in) {
  sim_inspection_free(in->r);
  sim_dns_info_free(in->dns);
  buf_cleanup(&in->headers);
  free(in);
}

/* on_walk_done: the walk's handles are closed; the step is where it ended. */
static void on_walk_done(void *arg, struct sim_transcript *t) {
  struct sim_inspect *in = arg;
  const struct sim_step *s = t->n_steps > 0 ? &t->steps[0] : NULL;
  if (in->r != NULL) {
    struct sim_inspection *r = in->r;
    in->r = NULL;
    if (s != NULL) {
      r->result = s->result;
      sim__set_str(&r->address, s->dns_answer);
      sim__set_str(&r->dns_error, s->dns_error);
      sim__set_str(&r->connect_error, s->connect_error);
      sim__set_str(&r->tls_error, s->tls_error);
      sim__set_str(&r->detail, s->detail);
      r->timed_out = s->timed_out;
      r->elapsed_ms = s->elapsed_ms;
    }
    r->http.headers = buf_take(&in->headers);
    sim_transcript_free(t);
    in->done(in->arg, r);
  } else {
    struct sim_dns_info *d = in->dns;
    in->dns = NULL;
    sim_transcript_free(t);
    in->dns_done(in->arg, d);
  }
  inspect_free(in);
}

/* walk_new makes the walk an inspection runs on: a policy with real timeouts, a TLS client
 * that offers TLS 1.0 to 1.3 (when `tls`), the c-ares channel and the walk's timer. */
static enum sim_status walk_new(struct sim_walk **out, const struct sim_env *env,
                                struct sim_inspect *in, bool tls, char *err, size_t err_size) {
  *out = NULL;
  if (env == NULL || env->loop == NULL) {
    buf_fmt(err, err_size, "an inspection needs a loop");
    return SIM_EINVAL;
  }
  struct sim_walk *w = xcalloc(1, sizeof *w);
  w->env = *env;
  w->env.clock = NULL; /* real time: a real network */
  w->env.scp_urls = NULL;
  w->env.n_scp_urls = 0;
  sim__policy_of(&w->pol, sim_model_defaults(sim_model_named("mso-xdscli")));
  w->pol.user_agent = "autodisco/0.1 (snapshot; MS-OXDSCLI request)";
  unsigned ms = env->timeout_ms != 0 ? env->timeout_ms : INSPECT_TIMEOUT_MS;
  w->pol.dns_timeout_ms = w->pol.connect_timeout_ms = ms;
  w->pol.tls_timeout_ms = w->pol.http_timeout_ms = ms;
  w->inspect = in;
  w->done = on_walk_done;
  w->done_arg = in;
  w->t = xcalloc(1, sizeof *w->t);
  w->t->client = str_dup("inspect");
  enum sim_status st = SIM_OK;
  if (tls) {
    st = sim__tls_ctx_new(&w->ssl_ctx, env->trust_pem, err, err_size);
    /* An old server shows its certificate and its version too (the models offer 1.2+). */
    if (st == SIM_OK && !SSL_CTX_set_min_proto_version(w->ssl_ctx, TLS1_VERSION)) {
      buf_fmt(err, err_size, "BoringSSL refused TLS 1.0 for the inspection");
      st = SIM_ENOMEM;
    }
  }
  if (st == SIM_OK) {
    st = sim__resolve_init(w, err, err_size); /* last: it opens a handle */
  }
  if (st != SIM_OK) {
    SSL_CTX_free(w->ssl_ctx);
    sim_transcript_free(w->t);
    free(w);
    return st;
  }
  uv_timer_init(env->loop, &w->timer);
  w->timer.data = w;
  w->n_open++;
  w->start_lab = sim__lab_now(w);
  *out = w;
  return SIM_OK;
}

/* --- an endpoint --- */

static bool address_of(const char *text, uint16_t port, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  struct sockaddr_in *sin = (struct sockaddr_in *) out;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) out;
  if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    return true;
  }
  if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    return true;
  }
  return false;
}

enum sim_status sim_inspect_start(const struct sim_env *env, const struct sim_inspect_req *req,
                                  sim_inspect_cb done, void *arg, char *err, size_t err_size) {
  struct sim_url u;
  if (req == NULL || done == NULL || !sim__url_parse(&u, req->url)) {
    buf_fmt(err, err_size, "\"%s\" is not an http:// or https:// URL",
            req != NULL && req->url != NULL ? req->url : "");
    return SIM_EINVAL;
  }
  struct sockaddr_storage addr;
  if (req->address != NULL && !address_of(req->address, u.port, &addr)) {
    buf_fmt(err, err_size, "\"%s\" is not an IPv4 or IPv6 address", req->address);
    sim__url_cleanup(&u);
    return SIM_EINVAL;
  }
  struct sim_inspect *in = xcalloc(1, sizeof *in);
  in->done = done;
  in->arg = arg;
  in->body_max = req->body_max != 0 ? req->body_max : INSPECT_BODY_MAX;
  buf_init(&in->headers, INSPECT_HEAD_MAX);
  in->r = xcalloc(1, sizeof *in->r);
  in->r->url = str_dup(req->url);
  in->r->host = str_dup(u.host);
  in->r->result = SIM_R_HTTP_FAILED;
  struct sim_walk *w = NULL;
  enum sim_status st = walk_new(&w, env, in, u.https, err, err_size);
  if (st != SIM_OK) {
    sim__url_cleanup(&u);
    inspect_free(in);
    return st;
  }
  w->email = str_dup(req->email != NULL ? req->email : "");
  sim__step_begin(w, SIM_STEP_REDIRECT, req->url, u.host);
  struct sim_attempt *a = &w->att;
  a->url = u; /* taken */
  a->url_text = str_dup(req->url);
  a->req = req->method == SIM_INSPECT_GET ? SIM_REQ_GET : SIM_REQ_POX;
  struct sockaddr_storage literal;
  a->literal = address_of(u.host, u.port, &literal); /* https://192.0.2.1/: the IP is checked */
  if (req->address != NULL) {
    a->addr = addr;
    a->addr_given = true;
    sim__set_str(&sim__cur(w)->dns_answer, req->address);
  }
  a->state = SIM_ATT_RESOLVE;
  sim__advance(w);
  return SIM_OK;
}

enum sim_go sim__inspect_verify(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  struct sim_inspection *r = w->inspect->r;
  sim__tls_info_cleanup(&r->tls);
  sim__inspect_tls_facts(&r->tls, a->ssl, SSL_CTX_get_cert_store(w->ssl_ctx), a->url.host,
                         a->literal);
  r->has_tls = true;
  a->state = SIM_ATT_SEND;
  return SIM_GO_NEXT;
}

void sim__inspect_header(struct sim_walk *w, const char *name, const char *value) {
  struct sim_inspect *in = w->inspect;
  if (in->r == NULL) {
    return;
  }
  struct sim_http_info *h = &in->r->http;
  (void) buf_appendf(&in->headers, "%s: %s\n", name, value); /* past the cap: left out */
  if (str_eq_nocase(name, "www-authenticate") && h->n_challenges < INSPECT_MAX_RECORDS) {
    h->challenges = xrealloc_array(h->challenges, h->n_challenges + 1, sizeof *h->challenges);
    h->challenges[h->n_challenges++] = str_dup(value);
  } else if (str_eq_nocase(name, "content-type") && h->content_type == NULL) {
    h->content_type = str_dup(value);
  }
}

static enum sim_answer_type answer_type(enum sim_answer_kind k) {
  switch (k) {
    case SIM_A_SETTINGS: return SIM_ANSWER_SETTINGS;
    case SIM_A_REDIRECT_ADDR: return SIM_ANSWER_REDIRECT_ADDR;
    case SIM_A_REDIRECT_URL: return SIM_ANSWER_REDIRECT_URL;
    case SIM_A_ERROR: return SIM_ANSWER_ERROR;
    case SIM_A_HTTP_REDIRECT: return SIM_ANSWER_HTTP_REDIRECT;
    case SIM_A_AUTH: return SIM_ANSWER_AUTH;
    case SIM_A_OTHER: return SIM_ANSWER_OTHER;
  }
  return SIM_ANSWER_OTHER;
}

enum sim_go sim__inspect_answer(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  struct sim_inspect *in = w->inspect;
  struct sim_http_info *h = &in->r->http;
  int status = a->parser.status_code;
  h->status = status;
  sim__set_str(&h->location, a->location);
  size_t keep = a->body.len < in->body_max ? a->body.len : in->body_max;
  h->body = xcalloc(keep + 1, 1);
  memcpy(h->body, a->body.ptr != NULL ? a->body.ptr : (const uint8_t *) "", keep);
  h->body_len = keep;
  h->body_truncated = keep < a->body.len;
  struct sim_answer ans;
  sim__classify(&ans, status, a->location, buf_slice(&a->body));
  h->answer = answer_type(ans.kind);
  h->ews_url = ans.ews_url;
  h->server = ans.server;
  h->auth_package = ans.auth_package;
  h->redirect = ans.redirect;
  h->message = ans.message;
  h->why = ans.why;
  h->error_code = ans.error_code;
  ans.ews_url = ans.server = ans.auth_package = ans.redirect = ans.message = ans.why = NULL;
  sim__answer_cleanup(&ans);
  static const enum sim_result results[] = {
      [SIM_ANSWER_SETTINGS] = SIM_R_SETTINGS,      [SIM_ANSWER_REDIRECT_ADDR] = SIM_R_REDIRECT,
      [SIM_ANSWER_REDIRECT_URL] = SIM_R_REDIRECT,  [SIM_ANSWER_HTTP_REDIRECT] = SIM_R_REDIRECT,
      [SIM_ANSWER_ERROR] = SIM_R_XML_ERROR,        [SIM_ANSWER_AUTH] = SIM_R_NOT_AUTODISCOVER,
      [SIM_ANSWER_OTHER] = SIM_R_NOT_AUTODISCOVER,
  };
  return sim__step_end(w, results[h->answer], "HTTP %d from %s", status, a->url.host);
}

void sim_inspection_free(struct sim_inspection *r) {
  if (r == NULL) {
    return;
  }
  free(r->url);
  free(r->host);
  free(r->address);
  free(r->dns_error);
  free(r->connect_error);
  free(r->tls_error);
  free(r->detail);
  sim__tls_info_cleanup(&r->tls);
  struct sim_http_info *h = &r->http;
  free(h->headers);
  free(h->location);
  free(h->content_type);
  for (size_t i = 0; i < h->n_challenges; i++) {
    free(h->challenges[i]);
  }
  free(h->challenges);
  free(h->body);
  free(h->ews_url);
  free(h->server);
  free(h->auth_package);
  free(h->redirect);
  free(h->message);
  free(h->why);
  free(r);
}

char *sim_url_resolve(const char *base, const char *ref) {
  return base != NULL && ref != NULL ? sim__url_resolve(base, ref) : NULL;
}

bool sim_url_split(const char *url, bool *out_https, char **out_host, uint16_t *out_port,
                   char **out_target) {
  struct sim_url u;
  if (!sim__url_parse(&u, url)) {
    return false;
  }
  *out_https = u.https;
  *out_host = u.host;
  *out_port = u.port;
  *out_target = u.target;
  return true; /* the strings are handed over */
}

/* --- a DNS question --- */

/* first_cname returns the target of `name`'s CNAME from a parsed A/AAAA answer: c-ares lists
 * the chain's owner names as aliases, in order, and names the last target h_name only when
 * the chain has one link (c-ares 1.18); the next link is the next alias. */
static char *first_cname(const struct hostent *h) {
  if (h == NULL || h->h_aliases == NULL || h->h_aliases[0] == NULL) {
    return NULL;
  }
  const char *target = h->h_aliases[1] != NULL ? h->h_aliases[1] : h->h_name;
  return target != NULL ? str_lower(str_dup(target)) : NULL;
}

static int parse_addresses(struct sim_dns_info *d, const unsigned char *abuf, int alen) {
  struct hostent *h = NULL;
  int n = INSPECT_MAX_RECORDS;
  int family = d->type == ns_t_a ? AF_INET : AF_INET6;
  int rc;
  struct ares_addrttl v4[INSPECT_MAX_RECORDS];
  struct ares_addr6ttl v6[INSPECT_MAX_RECORDS];
  if (family == AF_INET) {
    rc = ares_parse_a_reply(abuf, alen, &h, v4, &n);
  } else {
    rc = ares_parse_aaaa_reply(abuf, alen, &h, v6, &n);
  }
  if (rc == ARES_SUCCESS) {
    d->cnames = xcalloc(1, sizeof *d->cnames);
    d->cnames[0] = first_cname(h);
    d->n_cnames = d->cnames[0] != NULL ? 1 : 0;
    d->addresses = xcalloc(n > 0 ? (size_t) n : 1, sizeof *d->addresses);
    for (int i = 0; i < n; i++) {
      char text[INET6_ADDRSTRLEN] = "";
      inet_ntop(family, family == AF_INET ? (const void *) &v4[i].ipaddr : &v6[i].ip6addr, text,
                sizeof text);
      d->addresses[d->n_addresses++] = str_dup(text);
      if (i == 0) {
        d->ttl = (uint32_t) (family == AF_INET ? v4[i].ttl : v6[i].ttl);
      }
    }
    if (n == 0 && d->n_cnames == 0) {
      rc = ARES_ENODATA;
    }
  }
  if (h != NULL) {
    ares_free_hostent(h);
  }
  return rc;
}

static int parse_srv(struct sim_dns_info *d, const unsigned char *abuf, int alen) {
  struct ares_srv_reply *reply = NULL;
  int rc = ares_parse_srv_reply(abuf, alen, &reply);
  for (struct ares_srv_reply *r = reply; rc == ARES_SUCCESS && r != NULL; r = r->next) {
    if (d->n_srv < INSPECT_MAX_RECORDS) {
      d->srv = xrealloc_array(d->srv, d->n_srv + 1, sizeof *d->srv);
      d->srv[d->n_srv++] =
          (struct sim_dns_srv){str_lower(str_dup(r->host)), r->priority, r->weight, r->port};
    }
  }
  ares_free_data(reply);
  return rc == ARES_SUCCESS && d->n_srv == 0 ? ARES_ENODATA : rc;
}

static int parse_mx(struct sim_dns_info *d, const unsigned char *abuf, int alen) {
  struct ares_mx_reply *reply = NULL;
  int rc = ares_parse_mx_reply(abuf, alen, &reply);
  for (struct ares_mx_reply *r = reply; rc == ARES_SUCCESS && r != NULL; r = r->next) {
    if (d->n_mx < INSPECT_MAX_RECORDS) {
      d->mx = xrealloc_array(d->mx, d->n_mx + 1, sizeof *d->mx);
      d->mx[d->n_mx++] = (struct sim_dns_mx){str_lower(str_dup(r->host)), r->priority};
    }
  }
  ares_free_data(reply);
  return rc == ARES_SUCCESS && d->n_mx == 0 ? ARES_ENODATA : rc;
}

static void on_dns_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
  struct sim_walk *w = arg;
  struct sim_inspect *in = w->inspect;
  if (w->state != SIM_WALK_RUNNING || in->dns == NULL || in->dns->error != NULL ||
      w->att.state != SIM_ATT_AWAIT_A) {
    return; /* ARES_EDESTRUCTION while closing */
  }
  struct sim_dns_info *d = in->dns;
  w->att.state = SIM_ATT_IDLE;
  if (status == ARES_SUCCESS) {
    switch (d->type) {
      case ns_t_srv: status = parse_srv(d, abuf, alen); break;
      case ns_t_mx: status = parse_mx(d, abuf, alen); break;
      default: status = parse_addresses(d, abuf, alen); break;
    }
  }
  if (status != ARES_SUCCESS) {
    d->error = str_dup(sim__dns_error_name(status));
    sim__cur(w)->timed_out = status == ARES_ETIMEOUT;
    sim__step_end(w, SIM_R_DNS_FAILED, "%s: DNS %s", d->name, d->error);
    return;
  }
  sim__step_end(w, SIM_R_NO_CANDIDATE, "%s: answered", d->name);
}

enum sim_status sim_dns_inspect_start(const struct sim_env *env, const char *name, uint16_t type,
                                      sim_dns_cb done, void *arg, char *err, size_t err_size) {
  if (name == NULL || name[0] == '\0' || strlen(name) > 253 || done == NULL ||
      (type != ns_t_a && type != ns_t_aaaa && type != ns_t_srv && type != ns_t_mx)) {
    buf_fmt(err, err_size,
            "a DNS inspection asks a name (at most 253 characters) for A, AAAA, "
            "SRV or MX");
    return SIM_EINVAL;
  }
  struct sim_inspect *in = xcalloc(1, sizeof *in);
  in->dns_done = done;
  in->arg = arg;
  buf_init(&in->headers, 1);
  in->dns = xcalloc(1, sizeof *in->dns);
  in->dns->name = str_lower(str_dup(name));
  in->dns->type = type;
  struct sim_walk *w = NULL;
  enum sim_status st = walk_new(&w, env, in, false, err, err_size);
  if (st != SIM_OK) {
    inspect_free(in);
    return st;
  }
  sim__step_begin(w, SIM_STEP_SRV, NULL, in->dns->name);
  w->att.state = SIM_ATT_AWAIT_A; /* a question is out (nothing in sim_fetch.c runs for it) */
  sim__resolve_query(w, in->dns->name, type, on_dns_answer);
  return SIM_OK;
}

void sim_dns_info_free(struct sim_dns_info *r) {
  if (r == NULL) {
    return;
  }
  free(r->name);
  free(r->error);
  for (size_t i = 0; i < r->n_cnames; i++) {
    free(r->cnames[i]);
  }
  free(r->cnames);
  for (size_t i = 0; i < r->n_addresses; i++) {
    free(r->addresses[i]);
  }
  free(r->addresses);
  for (size_t i = 0; i < r->n_srv; i++) {
    free(r->srv[i].target);
  }
  free(r->srv);
  for (size_t i = 0; i < r->n_mx; i++) {
    free(r->mx[i].host);
  }
  free(r->mx);
  free(r);
}
