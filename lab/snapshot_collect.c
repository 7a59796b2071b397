/* lab/snapshot_collect.c: asking a real domain what Autodiscover would meet — the DNS names its
 * steps use (the root and autodiscover. names, the _autodiscover._tcp SRV set and its targets,
 * MX for context), then each endpoint those names lead to, on 443 (a POST of the POX request
 * per path) and 80 (the GET of the HTTP redirect probe). What an answer points at is asked too:
 * a 3xx or redirectUrl target host, a redirectAddr's domain, a certificate's caIssuers URL when
 * the chain stops at an unknown issuer. Everything runs on one loop of our own, at most
 * PARALLEL operations at a time; what does not fit the limits is noted, not dropped silently.
 * The inspections themselves are client/'s (sim_inspect_start, sim_dns_inspect_start). */
#include "lab/snapshot.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
  PARALLEL = 8,         /* operations in flight at once */
  MAX_DOMAINS = 4,      /* the first and redirectAddr domains */
  MAX_URL_HOSTS = 32,   /* host names a client would connect to */
  MAX_PATHS = 16,       /* paths asked per host name: more redirects than a client follows */
  MAX_ADDRESSES = 4,    /* addresses inspected per host name */
  MAX_QUESTIONS = 256,  /* DNS questions in all */
  MAX_CHAIN = 8,        /* CNAMEs followed */
  MAX_TASKS = 1024,     /* operations in all */
  BODY_MAX = 64 * 1024, /* answer bytes kept */
  AIA_MAX = 64 * 1024,  /* a caIssuers certificate */
};

#define PATH_POX "/autodiscover/autodiscover.xml"

enum task_kind { T_DNS, T_HTTPS, T_HTTP, T_AIA };

struct task {
  enum task_kind kind;
  char *name;      /* T_DNS: the name asked */
  uint16_t type;   /* T_DNS */
  size_t endpoint; /* the others */
  char *url;
  char *email; /* T_HTTPS */
};

/* A host name some client would connect to, and the paths it would ask there. */
struct url_host {
  char *name;
  char *email; /* the address asked for when this host came up */
  char **paths;
  size_t n_paths;
  bool settled; /* its addresses are known and its endpoints made */
};

struct collect {
  uv_loop_t loop;
  const struct lab_snapshot_options *o;
  struct sim_env env;
  struct lab_snapshot *s;
  struct task *tasks;
  size_t n_tasks;
  size_t next; /* the next task to start */
  int running;
  struct url_host *hosts;
  size_t n_hosts;
  bool *aia_asked; /* per endpoint */
  char **emails;   /* per domain of s->domains: the address asked for there */
};

static void pump(struct collect *c);

static void note(struct collect *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct collect *c, const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  struct lab_snapshot *s = c->s;
  for (size_t i = 0; i < s->n_notes; i++) {
    if (strcmp(s->notes[i], line) == 0) {
      return;
    }
  }
  s->notes = xrealloc_array(s->notes, s->n_notes + 1, sizeof *s->notes);
  s->notes[s->n_notes++] = str_dup(line);
}

static void add_task(struct collect *c, struct task t) {
  if (c->n_tasks >= MAX_TASKS) {
    note(c, "more than %d questions and requests: the rest were not asked", MAX_TASKS);
    free(t.name);
    free(t.url);
    free(t.email);
    return;
  }
  c->tasks = xrealloc_array(c->tasks, c->n_tasks + 1, sizeof *c->tasks);
  c->tasks[c->n_tasks++] = t;
}

/* --- DNS --- */

static const struct sim_dns_info *answer_of(const struct collect *c, const char *name,
                                            uint16_t type) {
  for (size_t i = 0; i < c->s->n_dns; i++) {
    const struct sim_dns_info *d = c->s->dns[i];
    if (d->type == type && strcmp(d->name, name) == 0) {
      return d;
    }
  }
  return NULL;
}

static bool asked(const struct collect *c, const char *name, uint16_t type) {
  for (size_t i = 0; i < c->n_tasks; i++) {
    if (c->tasks[i].kind == T_DNS && c->tasks[i].type == type &&
        strcmp(c->tasks[i].name, name) == 0) {
      return true;
    }
  }
  return false;
}

static void ask(struct collect *c, const char *name, uint16_t type) {
  size_t n = 0;
  for (size_t i = 0; i < c->n_tasks; i++) {
    n += c->tasks[i].kind == T_DNS;
  }
  if (asked(c, name, type)) {
    return;
  }
  if (n >= MAX_QUESTIONS) {
    note(c, "more than %d DNS questions: %s and later names were not asked", MAX_QUESTIONS, name);
    return;
  }
  add_task(c, (struct task){.kind = T_DNS, .name = str_lower(str_dup(name)), .type = type});
}

/* want_host notes a host name a client would connect to and a path it would ask there. */
static void want_host(struct collect *c, const char *name, const char *path, const char *email);

static void add_domain(struct collect *c, const char *domain, const char *email) {
  struct lab_snapshot *s = c->s;
  for (size_t i = 0; i < s->n_domains; i++) {
    if (strcmp(s->domains[i], domain) == 0) {
      return;
    }
  }
  if (s->n_domains >= MAX_DOMAINS) {
    note(c, "a redirectAddr led to a %dth domain, %s: not looked at", MAX_DOMAINS + 1, domain);
    return;
  }
  s->domains = xrealloc_array(s->domains, s->n_domains + 1, sizeof *s->domains);
  c->emails = xrealloc_array(c->emails, s->n_domains + 1, sizeof *c->emails);
  c->emails[s->n_domains] = str_dup(email);
  s->domains[s->n_domains++] = str_dup(domain);
  char name[300];
  want_host(c, domain, PATH_POX, email); /* https-root */
  if (buf_fmt(name, sizeof name, "autodiscover.%s", domain)) {
    want_host(c, name, PATH_POX, email); /* https-autodiscover, http-redirect */
  }
  if (buf_fmt(name, sizeof name, "_autodiscover._tcp.%s", domain)) {
    ask(c, name, 33); /* srv */
  }
  ask(c, domain, 15); /* MX, for context */
}

/* --- endpoints --- */

static struct url_host *host_named(struct collect *c, const char *name) {
  for (size_t i = 0; i < c->n_hosts; i++) {
    if (strcmp(c->hosts[i].name, name) == 0) {
      return &c->hosts[i];
    }
  }
  return NULL;
}

static bool is_address(const char *s) {
  unsigned char tmp[16];
  return inet_pton(AF_INET, s, tmp) == 1 || inet_pton(AF_INET6, s, tmp) == 1;
}

static void ask_endpoint(struct collect *c, size_t e, const char *path, const char *email) {
  const struct lab_snap_endpoint *ep = &c->s->endpoints[e];
  char url[1200];
  if (buf_fmt(url, sizeof url, "https://%s%s", ep->name, path)) {
    add_task(c, (struct task){
                    .kind = T_HTTPS, .endpoint = e, .url = str_dup(url), .email = str_dup(email)});
  }
}

static void want_host(struct collect *c, const char *name, const char *path, const char *email) {
  if (is_address(name)) {
    note(c,
         "a URL names the address %s: the lab cannot stand in for an address literal, so "
         "it is left out",
         name);
    return;
  }
  if (!lab_snapshot_dns_name(name, false)) {
    note(c, "\"%s\" is not a DNS name a scenario can hold: left out", name);
    return;
  }
  struct url_host *h = host_named(c, name);
  if (h == NULL) {
    if (c->n_hosts >= MAX_URL_HOSTS) {
      note(c, "more than %d host names: %s was not looked at", MAX_URL_HOSTS, name);
      return;
    }
    c->hosts = xrealloc_array(c->hosts, c->n_hosts + 1, sizeof *c->hosts);
    h = &c->hosts[c->n_hosts++];
    memset(h, 0, sizeof *h);
    h->name = str_dup(name);
    h->email = str_dup(email);
    ask(c, name, 1);
    ask(c, name, 28);
  }
  for (size_t i = 0; i < h->n_paths; i++) {
    if (str_eq_nocase(h->paths[i], path)) { /* the lab matches paths in any case, as IIS */
      return;
    }
  }
  if (h->n_paths >= MAX_PATHS) {
    note(c, "more than %d paths on %s: %s was not asked", MAX_PATHS, name, path);
    return;
  }
  h->paths = xrealloc_array(h->paths, h->n_paths + 1, sizeof *h->paths);
  h->paths[h->n_paths++] = str_dup(path);
  if (h->settled) { /* its endpoints exist: ask them this path too */
    for (size_t e = 0; e < c->s->n_endpoints; e++) {
      if (strcmp(c->s->endpoints[e].name, name) == 0) {
        ask_endpoint(c, e, path, email);
      }
    }
  }
}

/* chain_end follows `name`'s CNAMEs through the answers so far: *out is the A answer at the
 * chain's end when it holds addresses, else NULL. False while a link is still to be asked:
 * each CNAME's target is asked in turn (c-ares names only the first link reliably). */
static bool chain_end(struct collect *c, const char *name, const struct sim_dns_info **out) {
  *out = NULL;
  for (int depth = 0; depth <= MAX_CHAIN; depth++) {
    const struct sim_dns_info *a = answer_of(c, name, 1);
    if (a == NULL) {
      return !asked(c, name, 1); /* not asked (a limit): the chain ends here */
    }
    if (a->n_cnames == 0) {
      *out = a->n_addresses > 0 ? a : NULL;
      return true;
    }
    const char *next = a->cnames[0];
    if (answer_of(c, next, 1) == NULL) {
      if (asked(c, next, 1)) {
        return false; /* on its way */
      }
      ask(c, next, 1);
      ask(c, next, 28);
      if (!asked(c, next, 1)) { /* a limit: what this answer holds is all there is */
        *out = a->n_addresses > 0 ? a : NULL;
        return true;
      }
      return false;
    }
    name = next;
  }
  note(c, "%s: more than %d CNAMEs in a row, not followed further", name, MAX_CHAIN);
  return true;
}

/* settle makes the endpoints of every host name whose addresses are known. */
static void settle(struct collect *c) {
  for (size_t i = 0; i < c->n_hosts; i++) {
    struct url_host *h = &c->hosts[i];
    const struct sim_dns_info *a = NULL;
    if (h->settled || !chain_end(c, h->name, &a)) {
      continue;
    }
    h->settled = true;
    size_t n = a != NULL ? a->n_addresses : 0;
    if (n > MAX_ADDRESSES) {
      note(c, "%s has %zu addresses: the first %d were inspected", h->name, n, MAX_ADDRESSES);
      n = MAX_ADDRESSES;
    }
    for (size_t k = 0; k < n; k++) {
      struct lab_snapshot *s = c->s;
      s->endpoints = xrealloc_array(s->endpoints, s->n_endpoints + 1, sizeof *s->endpoints);
      c->aia_asked = xrealloc_array(c->aia_asked, s->n_endpoints + 1, sizeof *c->aia_asked);
      size_t e = s->n_endpoints++;
      memset(&s->endpoints[e], 0, sizeof s->endpoints[e]);
      c->aia_asked[e] = false;
      s->endpoints[e].name = str_dup(h->name);
      s->endpoints[e].address = str_dup(a->addresses[k]);
      for (size_t p = 0; p < h->n_paths; p++) {
        ask_endpoint(c, e, h->paths[p], h->email);
      }
      char url[600];
      if (buf_fmt(url, sizeof url, "http://%s" PATH_POX, h->name)) {
        add_task(c, (struct task){.kind = T_HTTP, .endpoint = e, .url = str_dup(url)});
      }
    }
  }
}

/* --- what the answers point at --- */

/* follow notes the target of a redirect: an https URL is a host and path to ask. */
static void follow(struct collect *c, const char *base, const char *ref, const char *email) {
  char *url = sim_url_resolve(base, ref);
  bool https = false;
  char *host = NULL, *target = NULL;
  uint16_t port = 0;
  if (url != NULL && sim_url_split(url, &https, &host, &port, &target)) {
    if (!https) {
      /* refused by every client model (§3.4): nothing to ask */
    } else if (port != 443) {
      note(c, "%s names port %u: the lab's hosts listen on 443 and 80 only, so it is left out", url,
           (unsigned) port);
    } else {
      want_host(c, host, target, email);
    }
  }
  free(host);
  free(target);
  free(url);
}

static void on_answer(struct collect *c, size_t e, const struct sim_inspection *r,
                      const char *email) {
  const struct sim_http_info *h = &r->http;
  switch (h->answer) {
    case SIM_ANSWER_HTTP_REDIRECT: follow(c, r->url, h->location, email); break;
    case SIM_ANSWER_REDIRECT_URL: follow(c, r->url, h->redirect, email); break;
    case SIM_ANSWER_REDIRECT_ADDR: {
      const char *at = h->redirect != NULL ? strrchr(h->redirect, '@') : NULL;
      if (at != NULL && lab_snapshot_dns_name(at + 1, false)) {
        char *domain = str_lower(str_dup(at + 1));
        add_domain(c, domain, h->redirect);
        free(domain);
      }
      break;
    }
    default: break;
  }
  /* An unknown issuer: was an intermediate left out? Its caIssuers URL says (RFC 5280 4.2.2.1). */
  const struct sim_tls_info *t = &r->tls;
  if (r->has_tls && t->issuer_missing && !c->aia_asked[e] && t->n_chain > 0) {
    const char *aia = t->chain[t->n_chain - 1].aia_issuer;
    if (aia != NULL && strncmp(aia, "http://", 7) == 0) {
      c->aia_asked[e] = true;
      add_task(c, (struct task){.kind = T_AIA, .endpoint = e, .url = str_dup(aia)});
    }
  }
}

/* --- running the tasks --- */

struct running {
  struct collect *c;
  size_t task;
};

static void finished(struct collect *c) {
  c->running--;
  settle(c);
  pump(c);
}

static void on_dns(void *arg, struct sim_dns_info *d) {
  struct running *run = arg;
  struct collect *c = run->c;
  free(run);
  struct lab_snapshot *s = c->s;
  s->dns = xrealloc_array(s->dns, s->n_dns + 1, sizeof *s->dns);
  s->dns[s->n_dns++] = d;
  if (d->type == 33) {
    const char *email = s->email; /* the address asked for in the SRV name's domain */
    for (size_t i = 0; i < s->n_domains; i++) {
      if (strncmp(d->name, "_autodiscover._tcp.", 19) == 0 &&
          strcmp(d->name + 19, s->domains[i]) == 0) {
        email = c->emails[i];
      }
    }
    for (size_t i = 0; i < d->n_srv; i++) {
      if (d->srv[i].target[0] != '\0' && strcmp(d->srv[i].target, ".") != 0) {
        /* the URL every model builds from an SRV target (§5) */
        want_host(c, d->srv[i].target, "/Autodiscover/Autodiscover.xml", email);
      }
    }
  }
  finished(c);
}

static void on_inspected(void *arg, struct sim_inspection *r) {
  struct running *run = arg;
  struct collect *c = run->c;
  const struct task *t = &c->tasks[run->task]; /* its strings stay put when tasks grow */
  enum task_kind kind = t->kind;
  size_t e = t->endpoint;
  const char *url = t->url;
  const char *email = t->email;
  free(run);
  struct lab_snap_endpoint *ep = &c->s->endpoints[e];
  if (kind == T_HTTP) {
    sim_inspection_free(ep->http);
    ep->http = r;
    /* Only the HTTP redirect step's GET, at autodiscover.<domain>, leads a client on (§4.2);
     * port 80 elsewhere is recorded, not followed. */
    for (size_t i = 0; i < c->s->n_domains; i++) {
      if (strncmp(ep->name, "autodiscover.", 13) == 0 &&
          strcmp(ep->name + 13, c->s->domains[i]) == 0) {
        on_answer(c, e, r, c->emails[i]);
      }
    }
  } else if (kind == T_HTTPS) {
    bool https = false;
    char *host = NULL, *target = NULL;
    uint16_t port = 0;
    if (!sim_url_split(url, &https, &host, &port, &target)) {
      target = str_dup("/");
    }
    ep->https = xrealloc_array(ep->https, ep->n_https + 1, sizeof *ep->https);
    ep->https[ep->n_https++] = (struct lab_snap_probe){target, r};
    free(host);
    on_answer(c, e, r, email);
  } else { /* T_AIA: the issuer the server did not send? */
    const struct sim_inspection *first = ep->n_https > 0 ? ep->https[0].r : NULL;
    int f = -1;
    if (r->http.status == 200 && first != NULL) {
      f = sim_inspect_reverify(c->o->trust_pem, &first->tls, ep->name, r->http.body,
                               r->http.body_len);
    }
    ep->chain_completed = f >= 0 && (f & SIM_CERT_UNTRUSTED) == 0;
    char text[700];
    buf_fmt(text, sizeof text, "caIssuers %s: %s", url,
            ep->chain_completed   ? "the missing intermediate; with it the chain verifies"
            : f >= 0              ? "a certificate, but the chain still does not verify"
            : r->http.status != 0 ? "no certificate in the answer"
                                  : (r->detail != NULL ? r->detail : "no answer"));
    free(ep->aia_note);
    ep->aia_note = str_dup(text);
    sim_inspection_free(r);
  }
  finished(c);
}

static void start(struct collect *c, size_t i) {
  struct task *t = &c->tasks[i];
  struct running *run = xcalloc(1, sizeof *run);
  run->c = c;
  run->task = i;
  char err[512] = "";
  char what[1200];
  enum sim_status st;
  if (t->kind == T_DNS) {
    static const char *const types[] = {[1] = "A", [15] = "MX", [28] = "AAAA", [33] = "SRV"};
    buf_fmt(what, sizeof what, "%s %s", types[t->type], t->name);
    st = sim_dns_inspect_start(&c->env, t->name, t->type, on_dns, run, err, sizeof err);
  } else {
    const struct lab_snap_endpoint *ep = &c->s->endpoints[t->endpoint];
    struct sim_inspect_req req = {
        .url = t->url,
        .method = t->kind == T_HTTPS ? SIM_INSPECT_POX : SIM_INSPECT_GET,
        .email = t->email,
        .address = t->kind == T_AIA ? NULL : ep->address, /* caIssuers: resolved as it is */
        .body_max = t->kind == T_AIA ? AIA_MAX : BODY_MAX,
    };
    buf_fmt(what, sizeof what, "%s %s%s%s%s", t->kind == T_HTTPS ? "POST" : "GET", t->url,
            req.address != NULL ? " at " : "", req.address != NULL ? req.address : "",
            t->kind == T_AIA ? " (the certificate's issuer)" : "");
    st = sim_inspect_start(&c->env, &req, on_inspected, run, err, sizeof err);
  }
  if (st != SIM_OK) {
    free(run);
    note(c, "%s could not be asked: %s", what, err);
    return;
  }
  c->running++;
  if (c->o->progress != NULL) {
    c->o->progress(c->o->progress_arg, what);
  }
}

/* pump starts waiting tasks while fewer than PARALLEL run. */
static void pump(struct collect *c) {
  while (c->running < PARALLEL && c->next < c->n_tasks) {
    start(c, c->next++);
  }
}

/* --- the whole --- */

/* order_answers puts the answers in the order the questions were asked (they arrive in any
 * order), so that the same domain gives the same file. */
static void order_answers(struct collect *c) {
  struct lab_snapshot *s = c->s;
  size_t placed = 0;
  for (size_t t = 0; t < c->n_tasks && placed < s->n_dns; t++) {
    if (c->tasks[t].kind != T_DNS) {
      continue;
    }
    for (size_t i = placed; i < s->n_dns; i++) {
      if (s->dns[i]->type == c->tasks[t].type && strcmp(s->dns[i]->name, c->tasks[t].name) == 0) {
        struct sim_dns_info *d = s->dns[i];
        memmove(&s->dns[placed + 1], &s->dns[placed], (i - placed) * sizeof *s->dns);
        s->dns[placed++] = d;
        break;
      }
    }
  }
}

static void task_cleanup(struct task *t) {
  free(t->name);
  free(t->url);
  free(t->email);
}

int lab_snapshot_collect(const struct lab_snapshot_options *o, struct lab_snapshot **out, char *err,
                         size_t err_size) {
  *out = NULL;
  if (o == NULL || o->domain == NULL || !lab_snapshot_dns_name(o->domain, false)) {
    buf_fmt(err, err_size, "\"%s\" is not a domain name",
            o != NULL && o->domain != NULL ? o->domain : "");
    return -1;
  }
  struct collect c = {.o = o};
  struct lab_snapshot *s = xcalloc(1, sizeof *s);
  c.s = s;
  s->domain = str_lower(str_dup(o->domain));
  if (o->email != NULL) {
    const char *at = strrchr(o->email, '@');
    char *domain = at != NULL ? str_lower(str_dup(at + 1)) : NULL;
    bool ok = at != NULL && at != o->email &&
              memchr(o->email, '@', (size_t) (at - o->email)) == NULL &&
              lab_snapshot_dns_name(domain, false);
    for (const char *ch = o->email; ok && *ch != 0; ch++) {
      ok = (unsigned char) *ch > ' ' && *ch != 0x7f; /* what a scenario's email: takes */
    }
    if (!ok) {
      buf_fmt(err, err_size, "\"%s\" is not an address of the form user@domain", o->email);
      free(domain);
      lab_snapshot_free(s);
      return -1;
    }
    struct buf b;
    buf_init(&b, 600);
    buf_appendf(&b, "%.*s@%s", (int) (at - o->email), o->email, domain);
    s->email = buf_take(&b);
    free(domain);
  } else {
    struct buf b;
    buf_init(&b, 300);
    buf_appendf(&b, "user@%s", s->domain);
    s->email = buf_take(&b);
  }
  s->taken = (int64_t) time(NULL);
  s->trust = str_dup(o->trust_pem);
  if (o->dns.ss_family == AF_INET || o->dns.ss_family == AF_INET6) {
    char host[INET6_ADDRSTRLEN] = "";
    uint16_t port;
    if (o->dns.ss_family == AF_INET) {
      const struct sockaddr_in *sin = (const struct sockaddr_in *) &o->dns;
      inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
      port = ntohs(sin->sin_port);
    } else {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) &o->dns;
      inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
      port = ntohs(sin6->sin6_port);
    }
    struct buf b;
    buf_init(&b, 100);
    buf_appendf(&b, o->dns.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, (unsigned) port);
    s->dns_server = buf_take(&b);
  }
  uv_loop_init(&c.loop);
  c.env.loop = &c.loop;
  c.env.dns = o->dns;
  c.env.trust_pem = o->trust_pem;
  c.env.timeout_ms = o->timeout_ms;
  const char *at = strrchr(s->email, '@');
  char *first = str_lower(str_dup(at + 1));
  add_domain(&c, s->domain, s->email);
  if (strcmp(first, s->domain) != 0) {
    note(&c, "the address %s is not in %s: its POX requests name it all the same", s->email,
         s->domain);
  }
  free(first);
  pump(&c);
  uv_run(&c.loop, UV_RUN_DEFAULT);
  order_answers(&c);
  if (uv_loop_close(&c.loop) != 0) {
    fprintf(stderr, "autodisco: internal: the snapshot loop still had open handles\n");
  }
  for (size_t i = 0; i < c.n_tasks; i++) {
    task_cleanup(&c.tasks[i]);
  }
  free(c.tasks);
  for (size_t i = 0; i < c.n_hosts; i++) {
    free(c.hosts[i].name);
    free(c.hosts[i].email);
    for (size_t p = 0; p < c.hosts[i].n_paths; p++) {
      free(c.hosts[i].paths[p]);
    }
    free(c.hosts[i].paths);
  }
  free(c.hosts);
  free(c.aia_asked);
  for (size_t i = 0; i < s->n_domains; i++) {
    free(c.emails[i]);
  }
  free(c.emails);
  *out = s;
  return 0;
}

void lab_snapshot_free(struct lab_snapshot *s) {
  if (s == NULL) {
    return;
  }
  free(s->domain);
  free(s->email);
  free(s->dns_server);
  free(s->trust);
  for (size_t i = 0; i < s->n_domains; i++) {
    free(s->domains[i]);
  }
  free(s->domains);
  for (size_t i = 0; i < s->n_dns; i++) {
    sim_dns_info_free(s->dns[i]);
  }
  free(s->dns);
  for (size_t i = 0; i < s->n_endpoints; i++) {
    struct lab_snap_endpoint *e = &s->endpoints[i];
    free(e->name);
    free(e->address);
    for (size_t p = 0; p < e->n_https; p++) {
      free(e->https[p].path);
      sim_inspection_free(e->https[p].r);
    }
    free(e->https);
    sim_inspection_free(e->http);
    free(e->aia_note);
  }
  free(s->endpoints);
  for (size_t i = 0; i < s->n_notes; i++) {
    free(s->notes[i]);
  }
  free(s->notes);
  free(s);
}
