/* lab/snapshot.c: a snapshot written as a scenario (docs/scenarios.md) — hosts keyed by a
 * readable id, one per address and behaviour; A records pointing at them by `host:` (the lab
 * gives each host an address of its own), CNAMEs and SRV records kept; each certificate mapped
 * onto a lab profile with its real names and dates (snapshot_map.c); each answer a route; a
 * refused port no listener, a silent one a `blackhole`. Every fact is a comment saying where
 * and when it came from. Whatever a server sent goes through lab_yaml_quote or
 * lab_yaml_comment, so the file loads and says what was seen, whatever that was. */
#include "lab/snapshot.h"

#include "lab/snapshot_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
  ID_MAX = 56, /* a host id's length before a "-2" */
  TEXT = 1024, /* one comment line before escaping */
};

static void date_of(int64_t t, char *out, size_t size, bool day_only) {
  /* a scenario holds the years 1950 to 9999, what an X.509 certificate can say */
  if (t < -631152000) {
    t = -631152000;
  } else if (t > 253402300799) {
    t = 253402300799;
  }
  time_t tt = (time_t) t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(out, size, day_only ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* --- writing --- */

void lab__put(struct lab__out *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char line[TEXT];
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  o->ok = o->ok && n >= 0 && (size_t) n < sizeof line && buf_append_str(o->b, line);
}

void lab__quote(struct lab__out *o, const char *s) {
  o->ok = o->ok && lab_yaml_quote(o->b, s, s != NULL ? strlen(s) : 0);
}

void lab__note(struct lab__out *o, int indent, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char line[TEXT];
  vsnprintf(line, sizeof line, fmt, ap); /* a longer line is cut: it is a comment */
  va_end(ap);
  o->ok = o->ok && lab_yaml_comment(o->b, indent, line);
}

const char *lab__or_none(const char *s) {
  return s != NULL ? s : "none";
}

/* --- the plan: hosts and records --- */

struct host {
  char id[ID_MAX + 8];
  size_t *eps; /* endpoints, the first decides */
  size_t n_eps;
};

struct pair { /* an A record: a name with addresses, one address, the host behind it */
  const char *name;
  const char *address;
  size_t host;
  bool flattened; /* a CNAME replaced by an A record of its own (see plan_records) */
};

struct plan {
  const struct lab_snapshot *s;
  struct host *hosts;
  size_t n_hosts;
  size_t *host_of; /* per endpoint */
  struct pair *pairs;
  size_t n_pairs;
  char **flat; /* names whose CNAME is not written */
  size_t n_flat;
  char **zones;
  size_t n_zones;
};

static const struct sim_inspection *first_https(const struct lab_snap_endpoint *e) {
  return e->n_https > 0 ? e->https[0].r : NULL;
}

static void tls_sig(const struct lab_snap_endpoint *e, char *out, size_t size) {
  const struct sim_inspection *r = first_https(e);
  if (r == NULL) {
    buf_fmt(out, size, "none");
  } else if (r->has_tls && r->tls.n_chain > 0) {
    buf_fmt(out, size, "cert %s %x %d", lab__or_none(r->tls.chain[0].sha256), r->tls.version,
            e->chain_completed);
  } else {
    buf_fmt(out, size, "fail %d %s %s %d", r->result, lab__or_none(r->connect_error),
            lab__or_none(r->tls_error), r->timed_out);
  }
}

static void answer_sig(const struct sim_inspection *r, char *out, size_t size) {
  if (r == NULL) {
    buf_fmt(out, size, "none");
    return;
  }
  const struct sim_http_info *h = &r->http;
  buf_fmt(out, size, "%d %s %d %d %s %s %s %u %zu %d", r->result, lab__or_none(r->connect_error),
          h->status, h->answer, lab__or_none(h->location), lab__or_none(h->ews_url),
          lab__or_none(h->redirect), h->error_code, h->body_len, r->timed_out);
}

/* same_host: one lab host can stand for both endpoints — same address, certificate, port 80,
 * and the same answer wherever both were asked the same path. */
static bool same_host(const struct lab_snap_endpoint *a, const struct lab_snap_endpoint *b) {
  char x[512], y[512];
  if (strcmp(a->address, b->address) != 0) {
    return false;
  }
  tls_sig(a, x, sizeof x);
  tls_sig(b, y, sizeof y);
  if (strcmp(x, y) != 0) {
    return false;
  }
  answer_sig(a->http, x, sizeof x);
  answer_sig(b->http, y, sizeof y);
  if (strcmp(x, y) != 0) {
    return false;
  }
  for (size_t i = 0; i < a->n_https; i++) {
    for (size_t k = 0; k < b->n_https; k++) {
      if (str_eq_nocase(a->https[i].path, b->https[k].path)) {
        answer_sig(a->https[i].r, x, sizeof x);
        answer_sig(b->https[k].r, y, sizeof y);
        if (strcmp(x, y) != 0) {
          return false;
        }
      }
    }
  }
  return true;
}

static void make_id(struct plan *p, const char *name, char *out) {
  char base[ID_MAX + 1];
  size_t n = 0;
  for (const char *c = name; *c != 0 && n < ID_MAX; c++) {
    char ch = *c;
    bool keep = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
    if (keep || (n > 0 && base[n - 1] != '-')) {
      base[n++] = keep ? ch : '-';
    }
  }
  while (n > 0 && base[n - 1] == '-') {
    n--;
  }
  base[n] = 0;
  if (n == 0) {
    buf_fmt(base, sizeof base, "host");
  }
  for (unsigned k = 1;; k++) {
    if (k == 1) {
      buf_fmt(out, ID_MAX + 8, "%s", base);
    } else {
      buf_fmt(out, ID_MAX + 8, "%s-%u", base, k);
    }
    bool taken = false;
    for (size_t i = 0; i < p->n_hosts && !taken; i++) {
      taken = strcmp(p->hosts[i].id, out) == 0;
    }
    if (!taken) {
      return;
    }
  }
}

static void plan_hosts(struct plan *p) {
  const struct lab_snapshot *s = p->s;
  p->host_of = xcalloc(s->n_endpoints + 1, sizeof *p->host_of);
  for (size_t e = 0; e < s->n_endpoints; e++) {
    size_t h = 0;
    for (; h < p->n_hosts; h++) {
      if (same_host(&s->endpoints[p->hosts[h].eps[0]], &s->endpoints[e])) {
        break;
      }
    }
    if (h == p->n_hosts) {
      p->hosts = xrealloc_array(p->hosts, p->n_hosts + 1, sizeof *p->hosts);
      struct host *nh = &p->hosts[p->n_hosts];
      memset(nh, 0, sizeof *nh);
      make_id(p, s->endpoints[e].name, nh->id);
      p->n_hosts++;
    }
    struct host *host = &p->hosts[h];
    host->eps = xrealloc_array(host->eps, host->n_eps + 1, sizeof *host->eps);
    host->eps[host->n_eps++] = e;
    p->host_of[e] = h;
  }
}

static const struct sim_dns_info *dns_find(const struct lab_snapshot *s, const char *name,
                                           uint16_t type) {
  for (size_t i = 0; i < s->n_dns; i++) {
    if (s->dns[i]->type == type && strcmp(s->dns[i]->name, name) == 0) {
      return s->dns[i];
    }
  }
  return NULL;
}

/* chain_end follows `name`'s CNAMEs to the name that holds the addresses: the last link
 * whose target was asked (a target left unasked by a limit ends the chain early). */
static const char *chain_end(const struct lab_snapshot *s, const char *name) {
  for (int depth = 0; depth < 9; depth++) {
    const struct sim_dns_info *a = dns_find(s, name, 1);
    if (a == NULL || a->n_cnames == 0 || dns_find(s, a->cnames[0], 1) == NULL) {
      return name;
    }
    name = a->cnames[0];
  }
  return name;
}

static bool is_flat(const struct plan *p, const char *name) {
  for (size_t i = 0; i < p->n_flat; i++) {
    if (strcmp(p->flat[i], name) == 0) {
      return true;
    }
  }
  return false;
}

static void add_pair(struct plan *p, struct pair pr) {
  for (size_t i = 0; i < p->n_pairs; i++) {
    if (strcmp(p->pairs[i].name, pr.name) == 0 && strcmp(p->pairs[i].address, pr.address) == 0 &&
        p->pairs[i].flattened == pr.flattened) {
      return;
    }
  }
  p->pairs = xrealloc_array(p->pairs, p->n_pairs + 1, sizeof *p->pairs);
  p->pairs[p->n_pairs++] = pr;
}

static void flatten(struct plan *p, const char *name) {
  if (!is_flat(p, name)) {
    p->flat = xrealloc_array(p->flat, p->n_flat + 1, sizeof *p->flat);
    p->flat[p->n_flat++] = str_dup(name);
  }
}

/* plan_records: an A record for each address a name leads to, pointing at the host that
 * answered there. When two names reach the same address through CNAMEs but were answered
 * differently (the server tells them apart by SNI and Host), one lab host cannot stand for
 * both: such a name gets its own A record instead of its CNAME. */
static void plan_records(struct plan *p) {
  const struct lab_snapshot *s = p->s;
  for (size_t e = 0; e < s->n_endpoints; e++) {
    const struct lab_snap_endpoint *ep = &s->endpoints[e];
    const char *end = chain_end(s, ep->name);
    size_t h = p->host_of[e];
    const struct sim_dns_info *a = dns_find(s, end, 1);
    if (a != NULL && a->n_cnames > 0) { /* the CNAME's target was never asked */
      flatten(p, end);
      add_pair(p, (struct pair){end, ep->address, h, true});
      continue;
    }
    struct pair *found = NULL;
    for (size_t i = 0; i < p->n_pairs && found == NULL; i++) {
      if (!p->pairs[i].flattened && strcmp(p->pairs[i].name, end) == 0 &&
          strcmp(p->pairs[i].address, ep->address) == 0) {
        found = &p->pairs[i];
      }
    }
    if (found == NULL) {
      add_pair(p, (struct pair){end, ep->address, h, false});
    } else if (found->host != h) {
      if (strcmp(ep->name, end) == 0) { /* the name itself holds the addresses: it keeps them */
        size_t other = found->host;
        found->host = h;
        for (size_t k = 0; k < e; k++) {
          const struct lab_snap_endpoint *ok = &s->endpoints[k];
          if (p->host_of[k] == other && strcmp(ok->address, ep->address) == 0 &&
              strcmp(chain_end(s, ok->name), end) == 0) {
            flatten(p, ok->name);
            add_pair(p, (struct pair){ok->name, ok->address, other, true});
          }
        }
      } else {
        flatten(p, ep->name);
        add_pair(p, (struct pair){ep->name, ep->address, h, true});
      }
    }
  }
}

/* zone_of: the domain looked at that `name` lies in, else its last two labels. */
static const char *zone_of(const struct lab_snapshot *s, const char *name) {
  const char *best = NULL;
  size_t n = strlen(name);
  for (size_t i = 0; i < s->n_domains; i++) {
    size_t d = strlen(s->domains[i]);
    bool under = strcmp(name, s->domains[i]) == 0 ||
                 (n > d && name[n - d - 1] == '.' && strcmp(name + n - d, s->domains[i]) == 0);
    if (under && (best == NULL || d > strlen(best))) {
      best = s->domains[i];
    }
  }
  if (best != NULL) {
    return best;
  }
  const char *last = strrchr(name, '.');
  if (last == NULL) {
    return name;
  }
  const char *p = last;
  while (p > name && p[-1] != '.') {
    p--;
  }
  return p;
}

static void add_zone(struct plan *p, const char *name) {
  const char *z = zone_of(p->s, name);
  for (size_t i = 0; i < p->n_zones; i++) {
    if (strcmp(p->zones[i], z) == 0) {
      return;
    }
  }
  p->zones = xrealloc_array(p->zones, p->n_zones + 1, sizeof *p->zones);
  p->zones[p->n_zones++] = str_dup(z);
}

static void plan_cleanup(struct plan *p) {
  for (size_t i = 0; i < p->n_hosts; i++) {
    free(p->hosts[i].eps);
  }
  free(p->hosts);
  free(p->host_of);
  free(p->pairs);
  for (size_t i = 0; i < p->n_flat; i++) {
    free(p->flat[i]);
  }
  free(p->flat);
  for (size_t i = 0; i < p->n_zones; i++) {
    free(p->zones[i]);
  }
  free(p->zones);
}

/* --- DNS --- */

static const char *behaviour_of(const char *error) {
  static const char *const map[][2] = {{"timeout", "timeout"},   {"SERVFAIL", "servfail"},
                                       {"REFUSED", "refused"},   {"NODATA", "nodata"},
                                       {"NXDOMAIN", "nxdomain"}, {NULL, NULL}};
  for (size_t i = 0; map[i][0] != NULL; i++) {
    if (strcmp(map[i][0], error) == 0) {
      return map[i][1];
    }
  }
  return "servfail"; /* the server could not be asked at all: no answer the client can use */
}

static bool is_zone(const struct plan *p, const char *name) {
  for (size_t i = 0; i < p->n_zones; i++) {
    if (strcmp(p->zones[i], name) == 0) {
      return true;
    }
  }
  return false;
}

/* owners_below says whether a record the snapshot writes lies below `name`. */
static bool owners_below(const struct plan *p, const char *name) {
  const struct lab_snapshot *s = p->s;
  size_t n = strlen(name);
  for (size_t i = 0; i < s->n_dns; i++) {
    const char *o = s->dns[i]->name;
    size_t len = strlen(o);
    bool has = s->dns[i]->error == NULL;
    if (has && len > n && o[len - n - 1] == '.' && strcmp(o + len - n, name) == 0) {
      return true;
    }
  }
  return false;
}

/* behaviour_for says which dns.behaviours answer reproduces a failed question, or NULL when
 * the lab answers the same way by itself (no record there: NXDOMAIN; a zone's apex: NODATA). */
static const char *behaviour_for(const struct plan *p, const struct sim_dns_info *d) {
  if (d->error == NULL || (d->type != 1 && d->type != 33) ||
      !lab_snapshot_dns_name(d->name, false)) {
    return NULL;
  }
  const char *b = behaviour_of(d->error);
  if (strcmp(b, "nxdomain") == 0 && !is_zone(p, d->name) && !owners_below(p, d->name)) {
    return NULL;
  }
  if (strcmp(b, "nodata") == 0 && is_zone(p, d->name)) {
    return NULL;
  }
  return b;
}

static void plan_zones(struct plan *p) {
  const struct lab_snapshot *s = p->s;
  for (size_t i = 0; i < s->n_domains; i++) {
    add_zone(p, s->domains[i]);
  }
  for (size_t i = 0; i < s->n_dns; i++) {
    const struct sim_dns_info *d = s->dns[i];
    bool written = (d->type == 1 && (d->n_cnames > 0 || d->n_addresses > 0)) ||
                   (d->type == 33 && d->n_srv > 0) || (d->error != NULL && d->type != 28);
    if (written && lab_snapshot_dns_name(d->name, false)) {
      add_zone(p, d->name);
    }
  }
}

static void join_addresses(const struct sim_dns_info *d, char *out, size_t size) {
  struct buf b;
  buf_init(&b, size - 1);
  for (size_t i = 0; i < d->n_addresses; i++) {
    buf_appendf(&b, "%s%s", i > 0 ? ", " : "", d->addresses[i]);
  }
  buf_fmt(out, size, "%s", buf_cstr(&b));
  buf_cleanup(&b);
}

static void write_a(struct lab__out *o, const struct plan *p, const struct sim_dns_info *d) {
  char list[600];
  join_addresses(d, list, sizeof list);
  if (d->error != NULL) {
    lab__note(o, 4, "%s A: %s", d->name, d->error);
  } else if (d->n_cnames > 0) {
    lab__note(o, 4, "%s A: CNAME %s%s%s", d->name, d->cnames[0], d->n_addresses > 0 ? " → " : "",
              list);
  } else {
    lab__note(o, 4, "%s A: %s (ttl %u)", d->name, list, d->ttl);
  }
  bool flat = is_flat(p, d->name);
  if (d->n_cnames > 0 && !flat) {
    if (lab_snapshot_dns_name(d->name, false) && lab_snapshot_dns_name(d->cnames[0], false)) {
      lab__put(o, "    - { name: ");
      lab__quote(o, d->name);
      lab__put(o, ", type: CNAME, target: ");
      lab__quote(o, d->cnames[0]);
      lab__put(o, " }\n");
    } else {
      lab__note(o, 4, "(not a DNS name a scenario holds: the CNAME is left out)");
    }
  } else if (flat) {
    lab__note(o, 4,
              "its CNAME is left out: the server answered %s differently from the other "
              "names at the same address, so it has a host (and an A record) of its own",
              d->name);
  }
  for (size_t i = 0; i < p->n_pairs; i++) {
    const struct pair *pr = &p->pairs[i];
    if (strcmp(pr->name, d->name) == 0 && pr->flattened == flat) {
      lab__note(o, 4, "%s → host %s (was %s)", pr->name, p->hosts[pr->host].id, pr->address);
      lab__put(o, "    - { name: ");
      lab__quote(o, pr->name);
      lab__put(o, ", type: A, host: %s }\n", p->hosts[pr->host].id);
    }
  }
}

static void write_srv(struct lab__out *o, const struct sim_dns_info *d) {
  if (d->error != NULL) {
    lab__note(o, 4, "%s SRV: %s", d->name, d->error);
    return;
  }
  lab__note(o, 4, "%s SRV: %zu record%s", d->name, d->n_srv, d->n_srv == 1 ? "" : "s");
  for (size_t i = 0; i < d->n_srv; i++) {
    const struct sim_dns_srv *r = &d->srv[i];
    if (!lab_snapshot_dns_name(r->target, false) || !lab_snapshot_dns_name(d->name, false)) {
      lab__note(o, 4, "%u %u %u %s: not a DNS name a scenario holds, left out", r->priority,
                r->weight, r->port, r->target);
      continue;
    }
    lab__put(o, "    - { name: ");
    lab__quote(o, d->name);
    lab__put(o, ", type: SRV, priority: %u, weight: %u, port: %u, target: ", r->priority, r->weight,
             r->port);
    lab__quote(o, r->target);
    lab__put(o, " }\n");
  }
}

static void write_dns(struct lab__out *o, const struct plan *p) {
  const struct lab_snapshot *s = p->s;
  lab__put(o, "dns:\n  zones: [");
  for (size_t i = 0; i < p->n_zones; i++) {
    lab__put(o, "%s", i > 0 ? ", " : "");
    lab__quote(o, p->zones[i]);
  }
  lab__put(o, "]\n  records:\n");
  size_t before = o->b->len;
  for (size_t i = 0; i < s->n_dns; i++) {
    const struct sim_dns_info *d = s->dns[i];
    char list[600];
    switch (d->type) {
      case 1: write_a(o, p, d); break;
      case 33: write_srv(o, d); break;
      case 28:
        join_addresses(d, list, sizeof list);
        if (d->n_addresses > 0) {
          lab__note(o, 4,
                    "%s AAAA: %s (left out: lab hosts have IPv4 loopback addresses, and the "
                    "models ask for A only)",
                    d->name, list);
        }
        break;
      case 15:
        for (size_t k = 0; k < d->n_mx; k++) {
          lab__note(o, 4, "%s MX %u %s (for context: Autodiscover does not use MX)", d->name,
                    d->mx[k].preference, d->mx[k].host);
        }
        break;
      default: break;
    }
  }
  if (strstr(buf_cstr(o->b) + before, "    - {") == NULL) {
    lab__put(o, "    []\n"); /* nothing resolves: the lab's DNS answers every name with NXDOMAIN */
  }
  bool any = false;
  for (size_t i = 0; i < s->n_dns; i++) {
    const struct sim_dns_info *d = s->dns[i];
    const char *b = behaviour_for(p, d);
    if (b == NULL) {
      continue;
    }
    if (!any) {
      lab__put(o, "  behaviours:\n");
      any = true;
    }
    lab__note(o, 4, "%s %s answered %s", d->name, d->type == 1 ? "A" : "SRV", d->error);
    lab__put(o, "    - { name: ");
    lab__quote(o, d->name);
    lab__put(o, ", type: %s, answer: %s }\n", d->type == 1 ? "A" : "SRV", b);
  }
}

/* --- hosts --- */

static const char *tls_version_name(uint16_t v) {
  switch (v) {
    case 0x0301: return "1.0";
    case 0x0302: return "1.1";
    case 0x0303: return "1.2";
    case 0x0304: return "1.3";
    default: return NULL;
  }
}

static void write_certificate(struct lab__out *o, const struct lab_snapshot *s,
                              const struct lab_snap_endpoint *e, const struct sim_inspection *r) {
  const struct sim_tls_info *t = &r->tls;
  const struct sim_cert_info *leaf = &t->chain[0];
  const struct sim_cert_info *last = &t->chain[t->n_chain - 1];
  char nb[32], na[32];
  date_of(leaf->not_before, nb, sizeof nb, true);
  date_of(leaf->not_after, na, sizeof na, true);
  const char *v = tls_version_name(t->version);
  lab__note(o, 6, "%s:443 (%s) presented %s, %s %s (issuer %s), TLS %s", e->name, e->address,
            leaf->subject[0] != 0 ? leaf->subject : "an empty subject",
            s->taken > leaf->not_after ? "expired" : "valid until", na, leaf->issuer,
            lab__or_none(v));
  struct buf names;
  buf_init(&names, 700);
  for (size_t i = 0; i < leaf->n_dns_names; i++) {
    buf_appendf(&names, "%s%s", i > 0 ? ", " : "", leaf->dns_names[i]);
  }
  for (size_t i = 0; i < leaf->n_ip_names; i++) {
    buf_appendf(&names, "%s%s", names.len > 0 ? ", " : "", leaf->ip_names[i]);
  }
  lab__note(o, 6, "names: %s; valid from %s; key %s %u bits; signature %s",
            names.len > 0 ? buf_cstr(&names) : "none", nb, lab__or_none(leaf->key_type),
            leaf->key_bits, lab__or_none(leaf->sig_alg));
  buf_cleanup(&names);
  lab__note(o, 6, "sha-256 %s; %zu certificate%s sent, the last issued by %s",
            lab__or_none(leaf->sha256), t->n_chain, t->n_chain == 1 ? "" : "s", last->issuer);
  lab__note(o, 6, "verified against %s: %s%s", lab__or_none(s->trust),
            t->verify_text != NULL ? t->verify_text : "ok",
            t->verify_text != NULL && t->verify_depth > 0 ? " (above the leaf)" : "");
  if (e->aia_note != NULL) {
    lab__note(o, 6, "%s", e->aia_note);
  }
  struct lab_cert_choice c;
  lab_snapshot_cert_choice(&c, t, e->chain_completed, s->taken);
  lab__note(o, 6, "lab: %s, with its real names and dates (%s)", c.profile, c.why);
  lab__put(o, "      certificate:\n        profile: %s\n", c.profile);
  if (strcmp(c.profile, "ip-only") != 0 && c.n_names > 0) {
    lab__put(o, "        names: [");
    for (size_t i = 0; i < c.n_names; i++) {
      lab__put(o, "%s", i > 0 ? ", " : "");
      lab__quote(o, c.names[i]);
    }
    lab__put(o, "]\n");
  }
  if (c.key != NULL) {
    lab__put(o, "        key: %s\n", c.key);
  }
  if (c.dates) {
    char from[32], to[32];
    int64_t after = c.not_after < c.not_before ? c.not_before : c.not_after;
    date_of(c.not_before, from, sizeof from, false);
    date_of(after, to, sizeof to, false);
    lab__put(o, "        not_before: %s\n        not_after: %s\n", from, to);
  }
  lab_cert_choice_cleanup(&c);
  if (v != NULL && t->version < 0x0304) {
    if (t->version < 0x0303) {
      lab__put(o, "      tls: { min: \"%s\", max: \"%s\" }\n", v, v);
    } else {
      lab__put(o, "      tls: { max: \"%s\" }\n", v);
    }
  }
}

/* fault_of says what stands in for a connection that never got to an answer: NULL when the
 * port is left out (refused), else the listener's fault. */
static const char *fault_of(const struct sim_inspection *r, bool tls) {
  if (r->result == SIM_R_CONNECT_FAILED) {
    return r->connect_error != NULL && strcmp(r->connect_error, "timeout") == 0 ? "blackhole"
                                                                                : NULL;
  }
  if (tls) {
    return r->timed_out ? "silent" : "reset-after-hello";
  }
  return r->timed_out ? "silent" : "reset";
}

static bool path_seen(char **seen, size_t n, const char *path) {
  for (size_t i = 0; i < n; i++) {
    if (str_eq_nocase(seen[i], path)) {
      return true;
    }
  }
  return false;
}

static bool write_https(struct lab__out *o, const struct plan *p, const struct host *h) {
  const struct lab_snapshot *s = p->s;
  const struct lab_snap_endpoint *e = &s->endpoints[h->eps[0]];
  const struct sim_inspection *r = first_https(e);
  if (r == NULL) {
    lab__note(o, 4, "port 443 was not asked");
    return false;
  }
  if (!r->has_tls) {
    const char *fault = fault_of(r, true);
    lab__note(o, 4, "%s:443 (%s): %s", e->name, e->address, lab__or_none(r->detail));
    if (fault == NULL) {
      lab__note(o, 4, "so nothing listens on 443 here: the connection is refused");
      return false;
    }
    lab__put(o, "    https:\n      fault: %s\n", fault);
    return true;
  }
  lab__put(o, "    https:\n");
  write_certificate(o, s, e, r);
  size_t at_routes = o->b->len;
  lab__put(o, "      routes:\n");
  char **seen = NULL;
  size_t n_seen = 0;
  bool slow = false;
  for (size_t k = 0; k < h->n_eps; k++) {
    const struct lab_snap_endpoint *ep = &s->endpoints[h->eps[k]];
    for (size_t i = 0; i < ep->n_https; i++) {
      char *path = lab__route_path(ep->https[i].path);
      if (!path_seen(seen, n_seen, path)) {
        seen = xrealloc_array(seen, n_seen + 1, sizeof *seen);
        seen[n_seen++] = path;
        lab__write_route(o, 8, "POST", ep->https[i].path, ep->https[i].r, &slow);
      } else {
        free(path);
      }
    }
  }
  for (size_t i = 0; i < n_seen; i++) {
    free(seen[i]);
  }
  free(seen);
  if (slow) { /* before routes: a listener's keys in any order load the same */
    struct buf tail;
    buf_init(&tail, o->b->max);
    o->ok = o->ok && buf_append_str(&tail, buf_cstr(o->b) + at_routes);
    o->b->len = at_routes;
    lab__note(o, 6, "the answer never came: the lab waits longer than any client");
    lab__put(o, "      delay: 10m\n");
    o->ok = o->ok && buf_append(o->b, buf_slice(&tail));
    buf_cleanup(&tail);
  }
  return true;
}

static bool write_http(struct lab__out *o, const struct plan *p, const struct host *h) {
  const struct lab_snap_endpoint *e = &p->s->endpoints[h->eps[0]];
  const struct sim_inspection *r = e->http;
  if (r == NULL) {
    lab__note(o, 4, "port 80 was not asked");
    return false;
  }
  if (r->http.status == 0) {
    const char *fault = fault_of(r, false);
    lab__note(o, 4, "%s:80 (%s): %s", e->name, e->address, lab__or_none(r->detail));
    if (fault == NULL) {
      lab__note(o, 4, "so nothing listens on 80 here: the connection is refused");
      return false;
    }
    lab__put(o, "    http:\n      fault: %s\n", fault);
    return true;
  }
  bool slow = false;
  lab__put(o, "    http:\n      routes:\n");
  lab__write_route(o, 8, "GET", "/autodiscover/autodiscover.xml", r, &slow);
  return true;
}

static void write_hosts(struct lab__out *o, const struct plan *p) {
  if (p->n_hosts == 0) {
    return;
  }
  const struct lab_snapshot *s = p->s;
  lab__put(o, "\nhosts:\n");
  for (size_t i = 0; i < p->n_hosts; i++) {
    const struct host *h = &p->hosts[i];
    struct buf names;
    buf_init(&names, 700);
    for (size_t k = 0; k < h->n_eps; k++) {
      buf_appendf(&names, "%s%s", k > 0 ? ", " : "", s->endpoints[h->eps[k]].name);
    }
    lab__put(o, "  %s:\n", h->id);
    lab__note(o, 4, "%s at %s (the lab gives this host an address of its own)", buf_cstr(&names),
              s->endpoints[h->eps[0]].address);
    buf_cleanup(&names);
    bool https = write_https(o, p, h);
    bool http = write_http(o, p, h);
    if (!https && !http) {
      lab__put(o, "    {}\n"); /* every connection is refused */
    }
  }
}

/* --- the scenario --- */

static void write_head(struct lab__out *o, const struct lab_snapshot *s) {
  char when[32];
  date_of(s->taken, when, sizeof when, false);
  lab__note(o, 0,
            "What %s served for Autodiscover at %s, as `autodisco snapshot` saw it from this "
            "machine.",
            s->domain, when);
  lab__note(o, 0, "DNS: %s; certificates verified against %s.",
            s->dns_server != NULL ? s->dns_server : "the system's resolver",
            lab__or_none(s->trust));
  lab__note(o, 0, "Real addresses are in comments only: the lab gives each host one of its own.");
  lab__note(o, 0,
            "Run it (autodisco run), change one thing here or in a scenario that `extends:` "
            "this file, and compare (autodisco diff).");
  for (size_t i = 0; i < s->n_notes; i++) {
    lab__note(o, 0, "note: %s", s->notes[i]);
  }
  char name[64] = "snapshot-";
  size_t n = strlen(name);
  for (const char *c = s->domain; *c != 0 && n < 63; c++) {
    char ch = *c;
    bool keep = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
    if (keep || name[n - 1] != '-') {
      name[n++] = keep ? ch : '-';
    }
  }
  while (name[n - 1] == '-') {
    n--;
  }
  name[n] = 0;
  lab__put(o, "name: %s\ndescription: ", name);
  char text[600];
  buf_fmt(text, sizeof text,
          "What %s served for Autodiscover at %s (autodisco snapshot): its DNS names, the "
          "certificates its endpoints presented and how each answered.",
          s->domain, when);
  lab__quote(o, text);
  lab__put(o, "\ndomain: ");
  lab__quote(o, s->domain);
  lab__put(o, "\nemail: ");
  lab__quote(o, s->email);
  lab__put(o, "\n\n");
}

static void write_clients(struct lab__out *o) {
  lab__put(o, "\nclients: [");
  for (size_t i = 0; sim_model_at(i) != NULL; i++) {
    lab__put(o, "%s%s", i > 0 ? ", " : "", sim_model_name(sim_model_at(i)));
  }
  lab__put(o, "]\n");
  lab__note(o, 0,
            "expect: left out: this file says what the domain does today, not what it should "
            "do. Say it, e.g.:");
  lab__note(o, 0, "expect:");
  lab__note(o, 0, "  outlook-2016-msi:");
  lab__note(o, 0, "    prompts: []");
  lab__note(o, 0, "    outcome: settings");
}

bool lab_snapshot_write(const struct lab_snapshot *s, struct buf *out) {
  struct lab__out o = {out, true};
  struct plan p = {.s = s};
  plan_hosts(&p);
  plan_records(&p);
  plan_zones(&p);
  write_head(&o, s);
  write_dns(&o, &p);
  write_hosts(&o, &p);
  write_clients(&o);
  plan_cleanup(&p);
  return o.ok;
}
