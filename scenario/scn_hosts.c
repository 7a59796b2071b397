/* scenario/scn_hosts.c: hosts: — the simulated web servers: their names and addresses, their
 * https and http listeners (faults, delays, TLS versions) and the certificate an https listener
 * serves. A listener's routes are read by scn_routes.c. */
#include "common/buf.h"
#include "scenario/internal.h"

#include <arpa/inet.h>
#include <string.h>

enum {
  MAX_DELAY_MS = 10 * 60 * 1000, /* a listener's delay: at most 10 minutes of lab time */
  TLS_1_0 = 0x0301,
};

/* ---- certificates ---- */

enum {
  MIN_CERT_TIME = -631152000,  /* 1950-01-01T00:00:00Z: X.509 UTCTime starts there */
  MAX_CERT_TIME = 253402300799 /* 9999-12-31T23:59:59Z: GeneralizedTime ends there */
};

/* list_profiles writes the lab CA's profile names, comma-separated, for a message. */
static void list_profiles(char *dst, size_t dst_size) {
  size_t used = 0;
  dst[0] = 0;
  for (size_t i = 0; ca_profile_at(i) != NULL; i++) {
    if (!buf_fmt(dst + used, dst_size - used, "%s%s", i > 0 ? ", " : "",
                 ca_profile_name(ca_profile_at(i)))) {
      return;
    }
    used += strlen(dst + used);
  }
}

/* list_key_types writes the key types a certificate may name, comma-separated. */
static void list_key_types(char *dst, size_t dst_size) {
  size_t used = 0;
  dst[0] = 0;
  for (int k = CA_KEY_DEFAULT + 1; ca_key_type_name((enum ca_key_type) k) != NULL; k++) {
    if (!buf_fmt(dst + used, dst_size - used, "%s%s", k > CA_KEY_DEFAULT + 1 ? ", " : "",
                 ca_key_type_name((enum ca_key_type) k))) {
      return;
    }
    used += strlen(dst + used);
  }
}

/* opt_time reads an instant (RFC 3339 or relative to now) within the range X.509 can say. */
static bool opt_time(struct scn__ld *ld, const struct scn__node *map, const char *path,
                     const char *key, bool *present, int64_t *out) {
  const struct scn__node *n = NULL;
  if (!scn__opt_scalar(ld, map, path, key, &n)) {
    return false;
  }
  *present = n != NULL;
  if (n == NULL) {
    return true;
  }
  if (!scn__parse_time(n->text, ld->now, out)) {
    return scn__fail(ld, n,
                     "%s \"%.40s\" is not a time: write an RFC 3339 timestamp "
                     "(2024-01-01T00:00:00Z), now, or [+-]N with s, m, h, d or y (-30d, +1y)",
                     key, n->text);
  }
  if (*out < MIN_CERT_TIME || *out > (int64_t) MAX_CERT_TIME) {
    return scn__fail(ld, n, "%s \"%.40s\" is outside the years 1950 to 9999 a certificate can hold",
                     key, n->text);
  }
  return true;
}

static bool load_cert(struct scn__ld *ld, const struct scn__node *n, const char *path,
                      struct scn_cert *cert) {
  static const char *const keys[] = {"profile", "names", "key", "not_before", "not_after", NULL};
  if (!scn__want_map(ld, n, path, keys)) {
    return false;
  }
  cert->mark = scn__mark(n);
  const struct scn__node *p = NULL;
  if (!scn__req_scalar(ld, n, path, "profile", &p)) {
    return false;
  }
  const struct ca_profile *profile = ca_profile_named(p->text);
  if (profile == NULL) {
    char list[256];
    list_profiles(list, sizeof list);
    return scn__fail(ld, p, "profile \"%s\" is not a certificate profile (%s)", p->text, list);
  }
  cert->profile = profile;
  char np[SCN__PATH_LEN];
  const struct scn__node *names = scn__child(n, path, "names", np);
  if (names != NULL) {
    if (!scn__dns_names(ld, names, np, SCN__WILDCARD, &cert->names, &cert->n_names)) {
      return false;
    }
    if (cert->n_names == 0) {
      return scn__fail(ld, names, "%s is empty: leave it out to use the host's names", np);
    }
  }
  const struct scn__node *key = NULL;
  if (!scn__opt_scalar(ld, n, path, "key", &key)) {
    return false;
  }
  if (key != NULL) {
    if (!ca_key_type_named(key->text, &cert->key_type)) {
      char list[128];
      list_key_types(list, sizeof list);
      return scn__fail(ld, key, "key \"%s\" is not a key type (%s)", key->text, list);
    }
    if (ca_profile_fixes_key(profile)) { /* rsa-1024 is the one profile that does */
      return scn__fail(ld, key, "key goes against profile %s, whose key is a 1024-bit RSA one",
                       ca_profile_name(profile));
    }
  }
  if (!opt_time(ld, n, path, "not_before", &cert->has_not_before, &cert->not_before) ||
      !opt_time(ld, n, path, "not_after", &cert->has_not_after, &cert->not_after)) {
    return false;
  }
  if (cert->has_not_before && cert->has_not_after && cert->not_after < cert->not_before) {
    return scn__fail(ld, scn__get(n, "not_after"), "not_after is before not_before");
  }
  return true;
}

/* ---- listeners ---- */

static bool load_fault(struct scn__ld *ld, const struct scn__node *n, const char *path, bool https,
                       struct scn_listener *l) {
  static const char *const faults[] = {"blackhole", "reset", "reset-after-hello", "silent", NULL};
  const struct scn__node *f = NULL;
  if (!scn__opt_scalar(ld, n, path, "fault", &f)) {
    return false;
  }
  if (f == NULL) {
    return true;
  }
  int i = scn__pick(f->text, faults, false);
  if (i < 0) {
    return scn__fail(
        ld, f, "fault \"%s\" is not one of blackhole, reset, reset-after-hello, silent", f->text);
  }
  l->fault = (enum scn_fault)(i + 1);
  if (l->fault == SCN_FAULT_RESET_HELLO && !https) {
    return scn__fail(ld, f,
                     "fault reset-after-hello needs a TLS ClientHello: it goes only with https");
  }
  return true;
}

static bool tls_version(struct scn__ld *ld, const struct scn__node *map, const char *path,
                        const char *key, uint16_t *out) {
  static const char *const versions[] = {"1.0", "1.1", "1.2", "1.3", NULL};
  const struct scn__node *v = NULL;
  if (!scn__opt_scalar(ld, map, path, key, &v)) {
    return false;
  }
  if (v == NULL) {
    return true;
  }
  int i = scn__pick(v->text, versions, false);
  if (i < 0) {
    return scn__fail(ld, v,
                     "tls.%s \"%s\" is not a TLS version (\"1.0\", \"1.1\", \"1.2\", \"1.3\")", key,
                     v->text);
  }
  *out = (uint16_t) (TLS_1_0 + i);
  return true;
}

static bool load_tls(struct scn__ld *ld, const struct scn__node *n, const char *path,
                     struct scn_listener *l) {
  static const char *const keys[] = {"min", "max", NULL};
  if (!scn__want_map(ld, n, path, keys) || !tls_version(ld, n, path, "min", &l->tls_min) ||
      !tls_version(ld, n, path, "max", &l->tls_max)) {
    return false;
  }
  if (l->tls_min != 0 && l->tls_max != 0 && l->tls_min > l->tls_max) {
    return scn__fail(ld, scn__get(n, "max"), "tls: max is below min");
  }
  return true;
}

static bool load_routes(struct scn__ld *ld, const struct scn__node *n, const char *path,
                        struct scn_listener *l) {
  char rp[SCN__PATH_LEN];
  const struct scn__node *routes = NULL;
  if (!scn__opt_seq(ld, n, path, "routes", rp, &routes)) {
    return false;
  }
  if (routes == NULL) {
    return true;
  }
  l->routes = xcalloc(routes->n_kids, sizeof l->routes[0]);
  for (size_t i = 0; i < routes->n_kids; i++) {
    char p[SCN__PATH_LEN];
    scn__path_index(p, rp, i);
    struct scn_route *r = &l->routes[l->n_routes++];
    if (!scn__load_route(ld, routes->kids[i], p, r)) {
      return false;
    }
    for (size_t j = 0; j + 1 < l->n_routes; j++) {
      const struct scn_route *o = &l->routes[j];
      if (str_eq_nocase(o->path, r->path) &&
          ((o->method == NULL && r->method == NULL) ||
           (o->method != NULL && r->method != NULL && strcmp(o->method, r->method) == 0))) {
        return scn__fail(ld, routes->kids[i], "%s: path \"%s\" already has a route at line %d", p,
                         r->path, o->mark.line);
      }
    }
  }
  return true;
}

/* load_listener_body reads what every listener may have: a fault, a delay, TLS versions and a
 * certificate (TLS only), routes. */
static bool load_listener_body(struct scn__ld *ld, const struct scn__node *n, const char *path,
                               const struct scn__node *tls, struct scn_listener *l) {
  l->present = true;
  l->mark = scn__mark(n);
  if (!load_fault(ld, n, path, l->tls, l) ||
      !scn__opt_duration(ld, n, path, "delay", 0, MAX_DELAY_MS, NULL, &l->delay_ms)) {
    return false;
  }
  char p[SCN__PATH_LEN];
  scn__path_key(p, path, "tls");
  if (tls != NULL && !load_tls(ld, tls, p, l)) {
    return false;
  }
  if (l->tls) {
    const struct scn__node *c = scn__child(n, path, "certificate", p);
    if (c == NULL) {
      l->cert.mark = l->mark; /* the common case needs no words: valid, set by load_host */
    } else if (!load_cert(ld, c, p, &l->cert)) {
      return false;
    }
  }
  return load_routes(ld, n, path, l);
}

static bool load_listener(struct scn__ld *ld, const struct scn__node *n, const char *path,
                          bool https, struct scn_listener *l) {
  static const char *const https_keys[] = {"certificate", "routes", "fault", "delay", "tls", NULL};
  static const char *const http_keys[] = {"routes", "fault", "delay", NULL};
  if (!scn__want_map(ld, n, path, https ? https_keys : http_keys)) {
    return false;
  }
  l->tls = https;
  l->port = https ? 443 : 80;
  return load_listener_body(ld, n, path, scn__get(n, "tls"), l);
}

/* load_other_listener reads one entry of listeners: a port other than 443 and 80, TLS or not
 * (`tls: true`, `false`, or the versions mapping of an https listener, which means TLS). */
static bool load_other_listener(struct scn__ld *ld, const struct scn__node *n, const char *path,
                                struct scn_host *h, struct scn_listener *l) {
  static const char *const keys[] = {"port",  "tls",   "certificate", "routes",
                                     "fault", "delay", NULL};
  if (!scn__want_map(ld, n, path, keys)) {
    return false;
  }
  uint32_t port = 0;
  bool has_port = false;
  if (!scn__opt_u32(ld, n, path, "port", 1, 65535, &has_port, &port)) {
    return false;
  }
  if (!has_port) {
    return scn__missing(ld, n, path, "port");
  }
  const struct scn__node *pn = scn__get(n, "port");
  if (port == 443 || port == 80) {
    return scn__fail(ld, pn, "%s: port %u is the host's %s: listener; write it there", path,
                     (unsigned) port, port == 443 ? "https" : "http");
  }
  for (size_t i = 0; i < h->n_listeners; i++) {
    if (h->listeners[i].port == port) {
      return scn__fail(ld, pn, "%s: port %u already has a listener at line %d", path,
                       (unsigned) port, h->listeners[i].mark.line);
    }
  }
  l->port = (uint16_t) port;
  l->tls = true;
  const struct scn__node *tls = scn__get(n, "tls");
  const struct scn__node *versions = NULL;
  if (tls != NULL && tls->kind == SCN__MAP) {
    versions = tls; /* the versions of a TLS listener */
  } else if (tls != NULL) {
    int b =
        tls->kind == SCN__SCALAR && tls->plain
            ? scn__pick(tls->text, (const char *const[]){"true", "false", "yes", "no", NULL}, true)
            : -1;
    if (b < 0) {
      char tmp[64];
      return scn__fail(ld, tls,
                       "%s.tls: expected true, false or the TLS versions ({ min: \"1.2\", max: "
                       "\"1.3\" }, which mean true), found %s",
                       path, scn__found(tls, tmp, sizeof tmp));
    }
    l->tls = b % 2 == 0;
  }
  const struct scn__node *cert = scn__get(n, "certificate");
  if (!l->tls && cert != NULL) {
    return scn__fail(ld, cert, "%s: certificate goes only with tls: true", path);
  }
  return load_listener_body(ld, n, path, versions, l);
}

static bool load_other_listeners(struct scn__ld *ld, const struct scn__node *n, const char *path,
                                 struct scn_host *h) {
  char lp[SCN__PATH_LEN];
  const struct scn__node *seq = NULL;
  if (!scn__opt_seq(ld, n, path, "listeners", lp, &seq)) {
    return false;
  }
  if (seq == NULL) {
    return true;
  }
  h->listeners = xcalloc(seq->n_kids + 1, sizeof h->listeners[0]);
  for (size_t i = 0; i < seq->n_kids; i++) {
    char p[SCN__PATH_LEN];
    scn__path_index(p, lp, i);
    struct scn_listener *l = &h->listeners[h->n_listeners];
    l->cert.profile = h->https.cert.profile; /* valid, unless the file names another */
    if (!load_other_listener(ld, seq->kids[i], p, h, l)) {
      h->n_listeners++; /* owned from here on, whatever it holds */
      return false;
    }
    h->n_listeners++;
  }
  return true;
}

/* ---- hosts ---- */

static bool loopback_address(struct scn__ld *ld, const struct scn__node *n, char **out) {
  struct in_addr v4;
  struct in6_addr v6;
  if (inet_pton(AF_INET, n->text, &v4) == 1) {
    if ((ntohl(v4.s_addr) >> 24) != 127) {
      return scn__fail(ld, n,
                       "address \"%s\" is not a loopback address (the lab binds only "
                       "127.0.0.0/8 and ::1)",
                       n->text);
    }
  } else if (inet_pton(AF_INET6, n->text, &v6) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6)) {
      return scn__fail(ld, n,
                       "address \"%s\" is not a loopback address (the lab binds only "
                       "127.0.0.0/8 and ::1)",
                       n->text);
    }
  } else {
    return scn__fail(ld, n, "address \"%s\" is not an IPv4 or IPv6 address", n->text);
  }
  *out = str_dup(n->text);
  return true;
}

static bool load_address(struct scn__ld *ld, const struct scn__node *n, const char *path,
                         struct scn_host *h) {
  const struct scn__node *addr = NULL;
  if (!scn__opt_scalar(ld, n, path, "address", &addr)) {
    return false;
  }
  if (addr == NULL) {
    return true;
  }
  if (!loopback_address(ld, addr, &h->address)) {
    return false;
  }
  for (size_t i = 0; i < ld->s->n_hosts; i++) {
    const struct scn_host *o = &ld->s->hosts[i];
    if (o != h && o->address != NULL && strcmp(o->address, h->address) == 0) {
      return scn__fail(ld, addr, "address \"%s\" is already host \"%s\"'s", h->address, o->id);
    }
  }
  return true;
}

static bool load_host(struct scn__ld *ld, const struct scn__node *key, const struct scn__node *n,
                      struct scn_host *h) {
  static const char *const keys[] = {"names", "address", "https", "http", "listeners", NULL};
  char path[SCN__PATH_LEN];
  scn__path_key(path, "hosts", key->text);
  h->id = str_dup(key->text);
  h->mark = scn__mark(key);
  h->https.cert.profile = ca_profile_named("valid"); /* unless the file names another */
  h->http.cert.profile = h->https.cert.profile;      /* never NULL, though http has none */
  h->https.port = 443;
  h->https.tls = true;
  h->http.port = 80;
  if (!scn__is_id(key->text, true)) {
    return scn__fail(
        ld, key, "host id \"%s\" may only use a-z, 0-9, - and _ (at most 63, not starting with -)",
        key->text);
  }
  if (!scn__want_map(ld, n, path, keys) ||
      !scn__opt_dns_names(ld, n, path, "names", SCN__WILDCARD, &h->names, &h->n_names) ||
      !load_address(ld, n, path, h)) {
    return false;
  }
  char p[SCN__PATH_LEN];
  const struct scn__node *https = scn__child(n, path, "https", p);
  if (https != NULL && !load_listener(ld, https, p, true, &h->https)) {
    return false;
  }
  const struct scn__node *http = scn__child(n, path, "http", p);
  if (http != NULL && !load_listener(ld, http, p, false, &h->http)) {
    return false;
  }
  return load_other_listeners(ld, n, path, h);
}

bool scn__load_hosts(struct scn__ld *ld, const struct scn__node *n) {
  if (!scn__want_map(ld, n, "hosts", NULL)) {
    return false;
  }
  struct scn *s = ld->s;
  s->hosts = xcalloc(n->n_kids / 2, sizeof s->hosts[0]);
  for (size_t i = 0; i + 1 < n->n_kids; i += 2) {
    if (!load_host(ld, n->kids[i], n->kids[i + 1], &s->hosts[s->n_hosts++])) {
      return false;
    }
  }
  return true;
}

/* ---- names derived from the records ---- */

static bool has_name(char *const *names, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++) {
    if (strcmp(names[i], name) == 0) {
      return true;
    }
  }
  return false;
}

static void add_name(struct scn_host *h, const char *name) {
  h->names = xrealloc_array(h->names, h->n_names + 1, sizeof h->names[0]);
  h->names[h->n_names++] = str_dup(name);
}

/* derive_names gives a host without names: every A/AAAA name pointing at it, then every CNAME
 * that leads to one of those, through chains (each name added is searched for in turn). */
static void derive_names(const struct scn *s, struct scn_host *h) {
  for (size_t i = 0; i < s->n_records; i++) {
    const struct scn_record *r = &s->records[i];
    if ((r->type == 1 || r->type == 28) && r->host != NULL && strcmp(r->host, h->id) == 0 &&
        !has_name(h->names, h->n_names, r->name)) {
      add_name(h, r->name);
    }
  }
  for (size_t k = 0; k < h->n_names; k++) {
    for (size_t i = 0; i < s->n_records; i++) {
      const struct scn_record *r = &s->records[i];
      if (r->type == 5 && strcmp(r->target, h->names[k]) == 0 &&
          !has_name(h->names, h->n_names, r->name)) {
        add_name(h, r->name);
      }
    }
  }
}

void scn__derive_host_names(struct scn *s) {
  for (size_t i = 0; i < s->n_hosts; i++) {
    if (s->hosts[i].n_names == 0) {
      derive_names(s, &s->hosts[i]);
    }
  }
}

const struct scn_host *scn_host_find(const struct scn *s, const char *id) {
  if (s == NULL || id == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < s->n_hosts; i++) {
    if (s->hosts[i].id != NULL && strcmp(s->hosts[i].id, id) == 0) {
      return &s->hosts[i];
    }
  }
  return NULL;
}

const struct scn_listener *scn_host_listener(const struct scn_host *h, uint16_t port) {
  if (h == NULL) {
    return NULL;
  }
  if (port == 443) {
    return &h->https;
  }
  if (port == 80) {
    return &h->http;
  }
  for (size_t i = 0; i < h->n_listeners; i++) {
    if (h->listeners[i].port == port) {
      return &h->listeners[i];
    }
  }
  return NULL;
}
