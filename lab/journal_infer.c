/* lab/journal_infer.c: a real client's walk inferred from what the lab saw of it — DNS queries,
 * connections, ClientHellos, alerts, requests and answers — as the same transcript a client
 * model leaves. Events are grouped into units of work (a name looked up and what followed:
 * one connection's handshake and one request with its retries), units are named as the models
 * name their steps, and the prompts Outlook would have shown are inferred from the certificate
 * the lab presented and what the client did with it (docs/report.md). */
#include "lab/journal_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- small helpers --- */

void jinfer__lower_copy(char *out, size_t out_size, const char *s, size_t len) {
  if (len >= out_size) {
    len = out_size - 1;
  }
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    out[i] = (char) (c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  out[len] = '\0';
}

/* host_part copies a Host header or an address:port without its port. */
void jinfer__host_part(char *out, size_t out_size, const char *s) {
  if (s == NULL) {
    out[0] = '\0';
    return;
  }
  if (s[0] == '[') { /* [v6]:port */
    const char *end = strchr(s, ']');
    jinfer__lower_copy(out, out_size, s + 1, end != NULL ? (size_t) (end - s - 1) : strlen(s + 1));
    return;
  }
  const char *colon = strchr(s, ':');
  if (colon != NULL && strchr(colon + 1, ':') != NULL) {
    colon = NULL; /* a bare IPv6 address */
  }
  size_t len = colon != NULL ? (size_t) (colon - s) : strlen(s);
  while (len > 0 && s[len - 1] == '.') {
    len--; /* a fully qualified name's dot */
  }
  jinfer__lower_copy(out, out_size, s, len);
}

/* url_host copies the host of an absolute URL; "" when it is none. */
void jinfer__url_host(char *out, size_t out_size, const char *url) {
  const char *p = url != NULL ? strstr(url, "://") : NULL;
  if (p == NULL) {
    out[0] = '\0';
    return;
  }
  p += 3;
  const char *at = p + strcspn(p, "/?#");
  const char *user = memchr(p, '@', (size_t) (at - p));
  if (user != NULL) {
    p = user + 1;
  }
  char hostport[JINFER_HOST_MAX];
  jinfer__lower_copy(hostport, sizeof hostport, p, strcspn(p, "/?#"));
  jinfer__host_part(out, out_size, hostport);
}

const char *jinfer__domain_of(const char *email) {
  const char *at = email != NULL ? strrchr(email, '@') : NULL;
  return at != NULL ? at + 1 : NULL;
}

bool jinfer__host_eq(const char *a, const char *b) {
  return a != NULL && b != NULL && a[0] != '\0' && strcasecmp(a, b) == 0;
}

/* is_autodiscover_of says whether `host` is autodiscover.<domain>. */
bool jinfer__is_autodiscover_of(const char *host, const char *domain) {
  return domain[0] != '\0' && strncasecmp(host, "autodiscover.", 13) == 0 &&
         strcasecmp(host + 13, domain) == 0;
}

static int64_t max64(int64_t a, int64_t b) {
  return a > b ? a : b;
}

/* --- pass 1: the records as connections and lookups --- */

static void add_item(struct jinfer *in, enum jitem_kind kind, size_t i) {
  in->items = xrealloc_array(in->items, in->n_items + 1, sizeof *in->items);
  in->items[in->n_items++] = (struct jitem){kind, i};
}

static struct jconn *new_conn(struct jinfer *in, const struct jrec *r) {
  in->conns = xrealloc_array(in->conns, in->n_conns + 1, sizeof *in->conns);
  struct jconn *c = &in->conns[in->n_conns];
  memset(c, 0, sizeof *c);
  c->local = jrec__str(r, JF_LOCAL);
  c->peer = jrec__str(r, JF_PEER);
  c->tls = jrec__bool(r, JF_TLS) || strncmp(r->ev, "tls.", 4) == 0;
  c->t_first = c->t_last = r->t_us;
  add_item(in, ITEM_CONN, in->n_conns);
  in->n_conns++;
  return c;
}

/* conn_of finds the latest connection with the event's local and peer addresses. */
static struct jconn *conn_of(struct jinfer *in, const struct jrec *r) {
  const char *local = jrec__str(r, JF_LOCAL), *peer = jrec__str(r, JF_PEER);
  for (size_t i = in->n_conns; local != NULL && peer != NULL && i-- > 0;) {
    struct jconn *c = &in->conns[i];
    if (c->local != NULL && c->peer != NULL && strcmp(c->local, local) == 0 &&
        strcmp(c->peer, peer) == 0) {
      return c;
    }
  }
  return new_conn(in, r);
}

static void add_query(struct jinfer *in, const struct jrec *r) {
  const char *qname = jrec__str(r, JF_QNAME), *qtype = jrec__str(r, JF_QTYPE);
  if (qname == NULL || qtype == NULL) {
    return;
  }
  bool srv = strcmp(qtype, "SRV") == 0;
  bool aaaa = strcmp(qtype, "AAAA") == 0;
  if (!srv && !aaaa && strcmp(qtype, "A") != 0) {
    return; /* MX, TXT, ...: no Autodiscover step asks for them */
  }
  double answers = 0;
  const char *rcode = jrec__str(r, JF_RCODE);
  const char *error = NULL;
  if (jrec__bool(r, JF_DROPPED)) {
    error = "timeout";
  } else if (rcode != NULL && strcmp(rcode, "NOERROR") != 0) {
    error = rcode;
  } else if (jrec__bool(r, JF_RAW)) {
    /* the scenario's bytes, not the lab's records: a client that connected after it read an
     * address in them shows so by its connection; without one, it found none */
    error = "malformed";
  } else if (!jrec__num(r, JF_ANSWERS, &answers) || answers < 1) {
    error = "NODATA";
  }
  struct jlookup *last = in->n_items > 0 && in->items[in->n_items - 1].kind == ITEM_LOOKUP
                             ? &in->lookups[in->items[in->n_items - 1].i]
                             : NULL;
  /* An authoritative "no" is cached: the same question asked again is another step's. */
  bool negative = error != NULL && (strcmp(error, "NXDOMAIN") == 0 || strcmp(error, "NODATA") == 0);
  /* The AAAA question goes with the A one (a client asks both at once, docs/report.md): only an
   * A or SRV question asked again after a "no" starts another step's lookup. */
  unsigned type_bit = srv ? 4u : aaaa ? 0u : 1u;
  bool again = last != NULL && negative && (last->negative & type_bit) != 0;
  if (last == NULL || again || last->srv != srv || strcasecmp(last->qname, qname) != 0) {
    in->lookups = xrealloc_array(in->lookups, in->n_lookups + 1, sizeof *in->lookups);
    last = &in->lookups[in->n_lookups];
    *last = (struct jlookup){.qname = qname, .srv = srv, .t_first = r->t_us};
    add_item(in, ITEM_LOOKUP, in->n_lookups++);
  }
  last->t_last = r->t_us;
  if (negative) {
    last->negative |= type_bit;
  }
  if (error == NULL) {
    last->ok = true;
  } else if (last->error == NULL || (!aaaa && !last->error_from_a)) {
    last->error = error;
    last->error_from_a = !aaaa;
  }
}

static void collect(struct jinfer *in) {
  const struct jsession *s = in->s;
  for (size_t i = 0; i < s->n; i++) {
    const struct jrec *r = &s->recs[i];
    if (jrec__is(r, "dns.query")) {
      add_query(in, r);
      continue;
    }
    struct jconn *c = NULL;
    if (jrec__is(r, "tcp.accept")) {
      c = new_conn(in, r);
      c->host_id = jrec__str(r, JF_HOST);
    } else if (jrec__is(r, "tls.hello") || jrec__is(r, "tls.alert") || jrec__is(r, "tls.done") ||
               jrec__is(r, "http.request") || jrec__is(r, "http.response") ||
               jrec__is(r, "http.error") || jrec__is(r, "tcp.reset")) {
      c = conn_of(in, r);
    } else {
      continue;
    }
    c->t_last = max64(c->t_last, r->t_us);
    if (c->host_id == NULL && (jrec__is(r, "tls.hello") || jrec__is(r, "http.request"))) {
      c->host_id = jrec__str(r, JF_HOST_ID); /* a shared address: the host SNI or Host named */
    }
    if (jrec__is(r, "tls.hello")) {
      c->tls = c->hello = true;
      c->sni = jrec__str(r, JF_HOST);
      c->t_tls_last = r->t_us;
    } else if (jrec__is(r, "tls.alert")) {
      const char *alert = jrec__str(r, JF_ALERT);
      c->tls = true;
      if (!c->done && c->alert == NULL && alert != NULL && strcmp(alert, "close notify") != 0) {
        c->alert = alert;
      }
      c->t_tls_last = r->t_us;
    } else if (jrec__is(r, "tls.done")) {
      c->tls = c->done = true;
      c->ok = jrec__bool(r, JF_OK);
      c->tls_error = jrec__str(r, JF_ERROR);
      c->tls_state = jrec__str(r, JF_STATE);
      c->t_tls_last = r->t_us;
    } else if (jrec__is(r, "http.request")) {
      c->reqs = xrealloc_array(c->reqs, c->n_x + 1, sizeof *c->reqs);
      c->resps = xrealloc_array(c->resps, c->n_x + 1, sizeof *c->resps);
      c->reqs[c->n_x] = r;
      c->resps[c->n_x++] = NULL;
    } else if (jrec__is(r, "http.response")) {
      for (size_t k = 0; k < c->n_x; k++) {
        if (c->resps[k] == NULL) {
          c->resps[k] = r;
          break;
        }
      }
    } else if (jrec__is(r, "http.error")) {
      c->http_error = jrec__str(r, JF_ERROR);
    } else if (jrec__is(r, "tcp.reset")) {
      c->reset = true;
    }
  }
}

/* --- pass 2: units --- */

const struct lab_host_desc *jinfer__conn_host(const struct jinfer *in, const struct jconn *c) {
  const struct lab_host_desc *h = lab_desc_host_id(in->s->lab, c->host_id);
  if (h == NULL && c->sni != NULL) {
    h = lab_desc_host_named(in->s->lab, c->sni);
  }
  if (h == NULL && c->n_x > 0) {
    h = lab_desc_host_named(in->s->lab, jrec__str(c->reqs[0], JF_HOST));
  }
  return h;
}

/* conn_name is the name the client asked for: SNI, else the Host header, else the host's. */
static void conn_name(const struct jinfer *in, const struct jconn *c, size_t x, char *out,
                      size_t out_size) {
  if (c->sni != NULL) {
    jinfer__host_part(out, out_size, c->sni);
    return;
  }
  if (x < c->n_x && jrec__str(c->reqs[x], JF_HOST) != NULL) {
    jinfer__host_part(out, out_size, jrec__str(c->reqs[x], JF_HOST));
    return;
  }
  const struct lab_host_desc *h = jinfer__conn_host(in, c);
  if (h != NULL && h->n_names > 0) {
    jinfer__host_part(out, out_size, h->names[0]);
  } else {
    jinfer__host_part(out, out_size, c->local);
  }
}

static struct junit *new_unit(struct jinfer *in, int64_t t) {
  in->units = xrealloc_array(in->units, in->n_units + 1, sizeof *in->units);
  struct junit *u = &in->units[in->n_units++];
  memset(u, 0, sizeof *u);
  u->t_start = u->t_end = t;
  return u;
}

static bool relevant_name(const struct jinfer *in, const char *name) {
  const struct jsession *s = in->s;
  if (lab_desc_host_named(s->lab, name) != NULL || jinfer__host_eq(name, "outlook.office365.com")) {
    return true;
  }
  const char *domains[] = {s->lab != NULL ? s->lab->domain : NULL,
                           s->opt->scn != NULL ? s->opt->scn->domain : NULL};
  for (size_t i = 0; i < 2; i++) {
    if (domains[i] != NULL &&
        (jinfer__host_eq(name, domains[i]) || jinfer__is_autodiscover_of(name, domains[i]))) {
      return true;
    }
  }
  if (s->cfg != NULL && s->cfg->last_known_good_url != NULL) {
    char lkg[JINFER_HOST_MAX];
    jinfer__url_host(lkg, sizeof lkg, s->cfg->last_known_good_url);
    if (jinfer__host_eq(name, lkg)) {
      return true;
    }
  }
  for (size_t i = 0; s->lab != NULL && i < s->lab->n_scp_urls; i++) {
    char scp[JINFER_HOST_MAX];
    jinfer__url_host(scp, sizeof scp, s->lab->scp_urls[i]);
    if (jinfer__host_eq(name, scp)) {
      return true;
    }
  }
  const struct scn *scn = s->opt->scn;
  for (size_t i = 0; scn != NULL && i < scn->n_records; i++) { /* an SRV target */
    if (scn->records[i].type == 33 && jinfer__host_eq(name, scn->records[i].target)) {
      return true;
    }
  }
  for (size_t i = 0; i < s->n; i++) { /* a domain some request asked for */
    const char *d = jrec__is(&s->recs[i], "http.request")
                        ? jinfer__domain_of(jrec__str(&s->recs[i], JF_EMAIL))
                        : NULL;
    if (d != NULL && (jinfer__host_eq(name, d) || jinfer__is_autodiscover_of(name, d))) {
      return true;
    }
  }
  return false;
}

static void lookup_unit(struct jinfer *in, const struct jlookup *lk) {
  struct junit *u = new_unit(in, lk->t_first);
  u->t_end = lk->t_last;
  u->lk = lk;
  u->https = true;
  jinfer__host_part(u->host, sizeof u->host, lk->qname);
}

/* conn_units splits a connection into units: the handshake with the first request, then one
 * more per request to another path (a retry after 401 stays with its request). */
static void conn_units(struct jinfer *in, struct jconn *c, const struct jlookup **pending,
                       size_t *n_pending) {
  size_t x = 0;
  do {
    struct junit *u = new_unit(in, x == 0 ? c->t_first : c->reqs[x]->t_us);
    u->c = c;
    u->https = c->tls;
    u->tls_part = x == 0;
    u->x_first = x;
    u->t_end = x == 0 ? max64(c->t_first, c->t_tls_last) : u->t_start;
    conn_name(in, c, x, u->host, sizeof u->host);
    while (x < c->n_x) {
      const struct jrec *resp = c->resps[x];
      u->t_end = max64(u->t_end, resp != NULL ? resp->t_us : c->reqs[x]->t_us);
      u->x_n++;
      x++;
      double status = 0;
      bool challenged = resp != NULL && jrec__num(resp, JF_STATUS, &status) && status == 401;
      if (x < c->n_x && !(challenged && str_eq_nocase(jrec__str(c->reqs[x], JF_PATH),
                                                      jrec__str(c->reqs[x - 1], JF_PATH)))) {
        break;
      }
    }
    if (u->x_first == 0 && c->n_x == 0 && (c->reset || c->http_error != NULL)) {
      u->t_end = c->t_last;
    }
    for (size_t k = 0; u->tls_part && k < *n_pending; k++) {
      if (jinfer__host_eq(pending[k]->qname, u->host)) {
        u->lk = pending[k];
        u->t_start = pending[k]->t_first;
        pending[k] = pending[--*n_pending];
        break;
      }
    }
  } while (x < c->n_x);
}

static void build_units(struct jinfer *in) {
  const struct jlookup **pending = xcalloc(in->n_lookups + 1, sizeof *pending);
  size_t n_pending = 0;
  for (size_t i = 0; i < in->n_items; i++) {
    if (in->items[i].kind == ITEM_CONN) {
      conn_units(in, &in->conns[in->items[i].i], pending, &n_pending);
      continue;
    }
    const struct jlookup *lk = &in->lookups[in->items[i].i];
    if (lk->srv || (!lk->ok && relevant_name(in, lk->qname))) {
      lookup_unit(in, lk);
      continue;
    }
    if (!lk->ok) {
      continue; /* a name no Autodiscover step asks for */
    }
    for (size_t k = 0; k < n_pending; k++) { /* looked up again: the first led nowhere */
      if (jinfer__host_eq(pending[k]->qname, lk->qname)) {
        if (relevant_name(in, pending[k]->qname)) {
          lookup_unit(in, pending[k]);
        }
        pending[k] = pending[--n_pending];
        break;
      }
    }
    pending[n_pending++] = lk;
  }
  for (size_t k = 0; k < n_pending; k++) {
    if (relevant_name(in, pending[k]->qname)) {
      lookup_unit(in, pending[k]);
    }
  }
  free(pending);
  /* in time order (stable: units of one connection keep theirs) */
  for (size_t i = 1; i < in->n_units; i++) {
    struct junit u = in->units[i];
    size_t k = i;
    while (k > 0 && in->units[k - 1].t_start > u.t_start) {
      in->units[k] = in->units[k - 1];
      k--;
    }
    in->units[k] = u;
  }
}

/* --- pass 3: a step that took several connections --- */

bool jinfer__tls_failed(const struct jconn *c) {
  return c->tls && ((c->done && !c->ok) || (!c->done && c->n_x == 0));
}

static bool last_was_401(const struct junit *u) {
  double status = 0;
  const struct jrec *resp = u->x_n > 0 ? u->c->resps[u->x_first + u->x_n - 1] : NULL;
  return resp != NULL && jrec__num(resp, JF_STATUS, &status) && status == 401;
}

static void merge_units(struct jinfer *in) {
  for (size_t i = 0; i + 1 < in->n_units; i++) {
    struct junit *u = &in->units[i], *v = &in->units[i + 1];
    if (u->c == NULL || v->c == NULL || u->c == v->c || !v->tls_part || u->https != v->https ||
        !jinfer__host_eq(u->host, v->host)) {
      continue;
    }
    bool refused =
        u->tls_part && jinfer__tls_failed(u->c); /* the user said Yes: a new connection */
    bool idle = u->tls_part && u->x_n == 0 && !refused && !u->c->reset; /* opened, not used */
    bool auth = last_was_401(u) && v->x_n > 0 &&
                str_eq_nocase(jrec__str(u->c->reqs[u->x_first], JF_PATH),
                              jrec__str(v->c->reqs[v->x_first], JF_PATH));
    if (!refused && !idle && !auth) {
      continue;
    }
    v->refused = refused ? u->c : u->refused;
    v->challenged_before = auth || u->challenged_before;
    v->lk = v->lk != NULL ? v->lk : u->lk;
    v->t_start = u->t_start;
    u->drop = true;
  }
}

static void first_email(struct jinfer *in) {
  const struct jsession *s = in->s;
  const char *email = NULL;
  for (size_t i = 0; i < s->n && email == NULL; i++) {
    if (jrec__is(&s->recs[i], "http.request") &&
        jinfer__domain_of(jrec__str(&s->recs[i], JF_EMAIL))) {
      email = jrec__str(&s->recs[i], JF_EMAIL);
    }
  }
  if (email == NULL && s->lab != NULL) {
    email = s->lab->email;
  }
  if (email == NULL && s->opt->scn != NULL) {
    email = s->opt->scn->email;
  }
  in->t->email = str_dup(email);
  const char *domain = s->lab != NULL && s->lab->domain != NULL ? s->lab->domain
                       : s->opt->scn != NULL                    ? s->opt->scn->domain
                                                                : jinfer__domain_of(email);
  if (domain != NULL) {
    jinfer__lower_copy(in->domain, sizeof in->domain, domain, strlen(domain));
  }
}

struct sim_transcript *jinfer__transcript(const struct jsession *s) {
  struct jinfer in = {.s = s};
  struct sim_transcript *t = xcalloc(1, sizeof *t);
  in.t = t;
  t->clock = SIM_CLOCK_JOURNAL;
  const char *label = s->opt->label != NULL    ? s->opt->label
                      : s->opt->client != NULL ? s->opt->client
                                               : "real-client";
  t->client = str_dup(label);
  first_email(&in);
  collect(&in);
  build_units(&in);
  merge_units(&in);
  int64_t first = 0, last = 0;
  bool any = false;
  for (size_t i = 0; i < in.n_units; i++) {
    const struct junit *u = &in.units[i];
    if (u->drop) {
      continue;
    }
    size_t index = t->n_steps;
    struct sim_step *st = jinfer__step(&in, u);
    st->elapsed_ms = u->t_end > u->t_start ? (double) (u->t_end - u->t_start) / 1000.0 : 0;
    if (i > 0 && index > 0) { /* the wait lasts until the next step starts */
      struct sim_step *prev = &t->steps[index - 1];
      double gap = (double) (u->t_start - last) / 1000.0;
      prev->elapsed_ms += gap > 0 ? gap : 0;
    }
    first = any ? first : u->t_start;
    last = any ? max64(last, u->t_end) : u->t_end;
    if (last < u->t_start) {
      last = u->t_start;
    }
    any = true;
  }
  t->total_ms = any ? (double) (last - first) / 1000.0 : 0;
  free(in.pending_url);
  for (size_t i = 0; i < in.n_visited; i++) {
    free(in.visited[i]);
  }
  free(in.visited);
  for (size_t i = 0; i < in.n_conns; i++) {
    free(in.conns[i].reqs);
    free(in.conns[i].resps);
  }
  free(in.conns);
  free(in.lookups);
  free(in.items);
  free(in.units);
  return t;
}
