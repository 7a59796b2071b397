/* scenario/scn_dns.c: dns: — the zones the lab answers for, its records (listed, or read from a
 * zone file by scn_zone.c) and the behaviours that override them for a name (docs/scenarios.md,
 * "DNS"). */
#include "common/buf.h"
#include "scenario/internal.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- records ---- */

struct rtype {
  const char *name;
  uint16_t type;
  const char *const *keys; /* the keys this type takes besides name and type */
};

static const char *const keys_a[] = {"host", "address", "ttl", NULL};
static const char *const keys_target[] = {"target", "ttl", NULL};
static const char *const keys_mx[] = {"priority", "target", "ttl", NULL};
static const char *const keys_srv[] = {"priority", "weight", "port", "target", "ttl", NULL};
static const char *const keys_txt[] = {"text", "ttl", NULL};

static const struct rtype rtypes[] = {
    {"A", 1, keys_a},       {"AAAA", 28, keys_a}, {"CNAME", 5, keys_target}, {"SRV", 33, keys_srv},
    {"NS", 2, keys_target}, {"MX", 15, keys_mx},  {"TXT", 16, keys_txt},
};

/* rule_types are the types a behaviour may name: the record types and the rest a client asks. */
static const struct {
  const char *name;
  uint16_t type;
} rule_types[] = {{"A", 1},   {"NS", 2},   {"CNAME", 5}, {"SOA", 6},  {"PTR", 12},
                  {"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}, {"ANY", 255}};

static bool in_zones(const struct scn *s, const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; i < s->n_zones; i++) {
    size_t zl = strlen(s->zones[i]);
    if (len == zl && strcmp(name, s->zones[i]) == 0) {
      return true;
    }
    if (len > zl && name[len - zl - 1] == '.' && strcmp(name + len - zl, s->zones[i]) == 0) {
      return true;
    }
  }
  return false;
}

/* load_address_record reads what an A or AAAA record answers: a host's lab address, or a
 * literal one. */
static bool load_address_record(struct scn__ld *ld, const struct scn__node *n, const char *path,
                                const struct rtype *rt, struct scn_record *r) {
  const struct scn__node *host = NULL;
  const struct scn__node *addr = NULL;
  if (!scn__opt_scalar(ld, n, path, "host", &host) ||
      !scn__opt_scalar(ld, n, path, "address", &addr)) {
    return false;
  }
  if (host != NULL && addr != NULL) {
    return scn__fail(ld, addr, "%s: an %s record takes host or address, not both", path, rt->name);
  }
  if (host == NULL && addr == NULL) {
    return scn__fail(ld, n, "%s: an %s record needs host (a host under hosts) or address", path,
                     rt->name);
  }
  if (host != NULL) {
    const struct scn_host *h = scn_host_find(ld->s, host->text);
    if (h == NULL) {
      return scn__fail(ld, host, "host \"%s\" in this record is not defined under hosts",
                       host->text);
    }
    if (h->address != NULL && (strchr(h->address, ':') != NULL) != (rt->type == 28)) {
      return scn__fail(ld, host, "an %s record needs an %s address, but host \"%s\" has %s",
                       rt->name, rt->type == 28 ? "IPv6" : "IPv4", h->id, h->address);
    }
    r->host = str_dup(host->text);
    return true;
  }
  unsigned char bin[16];
  if (inet_pton(rt->type == 1 ? AF_INET : AF_INET6, addr->text, bin) != 1) {
    return scn__fail(ld, addr, "address \"%s\" is not an %s address", addr->text,
                     rt->type == 1 ? "IPv4" : "IPv6");
  }
  r->address = str_dup(addr->text);
  return true;
}

static bool find_rtype(struct scn__ld *ld, const struct scn__node *tn, const struct rtype **out);

static bool load_record(struct scn__ld *ld, const struct scn__node *n, const char *path,
                        struct scn_record *r) {
  static const char *const keys[] = {"name",   "type",      "ttl",      "host", "address",
                                     "target", "priority",  "weight",   "port", "text",
                                     "remove", "rdata_hex", "rdlength", NULL};
  if (!scn__want_map(ld, n, path, keys)) {
    return false;
  }
  r->mark = scn__mark(n);
  const struct scn__node *tn = NULL;
  if (!scn__req_dns_name(ld, n, path, "name", SCN__WILDCARD, &r->name) ||
      !scn__req_scalar(ld, n, path, "type", &tn)) {
    return false;
  }
  const struct rtype *rt = NULL;
  if (!find_rtype(ld, tn, &rt)) {
    return false;
  }
  r->type = rt->type;
  for (size_t i = 0; i + 1 < n->n_kids; i += 2) {
    const char *k = n->kids[i]->text;
    if (strcmp(k, "name") != 0 && strcmp(k, "type") != 0 && strcmp(k, "remove") != 0 &&
        scn__pick(k, rt->keys, false) < 0) {
      char list[128];
      scn__join_words(list, sizeof list, rt->keys);
      return scn__fail(ld, n->kids[i], "key \"%s\" does not apply to a %s record (it takes %s)", k,
                       rt->name, list);
    }
  }
  if (ld->s->n_zones > 0 && !in_zones(ld->s, r->name)) {
    return scn__fail(ld, n, "record name \"%s\" is outside the zones listed in dns.zones", r->name);
  }
  r->ttl = 300;
  if (!scn__opt_u32(ld, n, path, "ttl", 0, 2147483647u, NULL, &r->ttl)) {
    return false;
  }
  switch (rt->type) {
    case 1:
    case 28: return load_address_record(ld, n, path, rt, r);
    case 16: {
      const struct scn__node *text = NULL;
      if (!scn__req_scalar(ld, n, path, "text", &text)) {
        return false;
      }
      r->text = str_dup(text->text);
      return true;
    }
    default: break;
  }
  uint32_t prio = 0, weight = 0, port = 0;
  bool has_port = false;
  if (!scn__req_dns_name(ld, n, path, "target", SCN__NO_WILDCARD, &r->target) ||
      !scn__opt_u32(ld, n, path, "priority", 0, 65535, NULL, &prio) ||
      !scn__opt_u32(ld, n, path, "weight", 0, 65535, NULL, &weight) ||
      !scn__opt_u32(ld, n, path, "port", 0, 65535, &has_port, &port)) {
    return false;
  }
  if (rt->type == 33 && !has_port) {
    return scn__missing(ld, n, path, "port");
  }
  r->priority = (uint16_t) prio;
  r->weight = (uint16_t) weight;
  r->port = (uint16_t) port;
  return true;
}

enum { MAX_RAW = 65535 }; /* a DNS message holds no more */

/* load_raw_record reads a record given as bytes: { name, type, ttl, rdata_hex, rdlength } into
 * s->raw_records. Its type may be any a client asks for (not ANY); the bytes are not checked
 * against it — that is the point. */
static bool load_raw_record(struct scn__ld *ld, const struct scn__node *n, const char *path) {
  static const char *const keys[] = {"name", "type", "ttl", "rdata_hex", "rdlength", NULL};
  if (!scn__check_keys(ld, n, path, NULL)) {
    return false; /* a key that is not a string (`null:`, `[a]:`), or one given twice */
  }
  for (size_t i = 0; i + 1 < n->n_kids; i += 2) {
    if (scn__pick(n->kids[i]->text, keys, false) < 0) {
      return scn__fail(ld, n->kids[i],
                       "key \"%s\" does not go with rdata_hex (a record given as bytes takes name, "
                       "type, ttl, rdata_hex, rdlength)",
                       n->kids[i]->text);
    }
  }
  struct scn *s = ld->s;
  s->raw_records = xrealloc_array(s->raw_records, s->n_raw_records + 1, sizeof s->raw_records[0]);
  struct scn_raw_record *r = &s->raw_records[s->n_raw_records++];
  memset(r, 0, sizeof *r);
  r->mark = scn__mark(n);
  r->ttl = 300;
  const struct scn__node *tn = NULL, *hex = NULL;
  if (!scn__req_dns_name(ld, n, path, "name", SCN__NO_WILDCARD, &r->name) ||
      !scn__req_scalar(ld, n, path, "type", &tn) ||
      !scn__opt_u32(ld, n, path, "ttl", 0, 2147483647u, NULL, &r->ttl) ||
      !scn__req_scalar(ld, n, path, "rdata_hex", &hex) ||
      !scn__hex_bytes(ld, hex, "rdata_hex", MAX_RAW, &r->rdata, &r->rdata_len)) {
    return false;
  }
  for (size_t i = 0; i + 1 < SCN__N_ELEMS(rule_types) && r->type == 0; i++) {
    if (str_eq_nocase(tn->text, rule_types[i].name)) {
      r->type = rule_types[i].type;
    }
  }
  if (r->type == 0) {
    return scn__fail(ld, tn,
                     "type \"%s\" is not a type a record given as bytes can take (A, AAAA, CNAME, "
                     "SRV, NS, MX, TXT, SOA, PTR)",
                     tn->text);
  }
  uint32_t rdlength = (uint32_t) r->rdata_len;
  if (!scn__opt_u32(ld, n, path, "rdlength", 0, 65535, NULL, &rdlength)) {
    return false;
  }
  r->rdlength = (uint16_t) rdlength;
  if (s->n_zones > 0 && !in_zones(s, r->name)) {
    return scn__fail(ld, n, "record name \"%s\" is outside the zones listed in dns.zones", r->name);
  }
  return true;
}

/* check_cname makes sure the record just read (the last) shares its name with no other record
 * when one of them is a CNAME (RFC 1034 3.6.2: a CNAME is the only record of its name). */
static bool check_cname(struct scn__ld *ld, const struct scn__node *at) {
  const struct scn *s = ld->s;
  const struct scn_record *r = &s->records[s->n_records - 1];
  for (size_t j = 0; j + 1 < s->n_records; j++) {
    const struct scn_record *o = &s->records[j];
    if (strcmp(o->name, r->name) == 0 && (o->type == 5 || r->type == 5)) {
      const struct scn_record *c = o->type == 5 ? o : r;
      if (c->from_zone_file) {
        return scn__fail(ld, at, "%s has a CNAME record (%s:%d), so it can have no other record",
                         r->name, c->mark.file, c->mark.line);
      }
      return scn__fail(ld, at, "%s has a CNAME record (line %d), so it can have no other record",
                       r->name, c->mark.line);
    }
  }
  return true;
}

/* find_rtype returns the record type named `text` (any case), or fails naming the supported
 * ones. */
static bool find_rtype(struct scn__ld *ld, const struct scn__node *tn, const struct rtype **out) {
  for (size_t i = 0; i < SCN__N_ELEMS(rtypes); i++) {
    if (str_eq_nocase(tn->text, rtypes[i].name)) {
      *out = &rtypes[i];
      return true;
    }
  }
  return scn__fail(ld, tn, "record type \"%s\" is not supported (A, AAAA, CNAME, SRV, NS, MX, TXT)",
                   tn->text);
}

/* load_removal reads `{ name, type, remove: true }` into the overlay's removals. */
static bool load_removal(struct scn__ld *ld, const struct scn__node *n, const char *path) {
  struct scn_dns_overlay *o = &ld->s->overlay;
  const struct scn__node *rm = scn__get(n, "remove");
  if (!o->present) {
    return scn__fail(ld, rm,
                     "remove: true takes a record away from what the upstream resolver answers: it "
                     "needs dns.overlay (without an overlay, leave the record out)");
  }
  if (!scn__check_keys(ld, n, path, NULL)) {
    return false; /* a key that is not a string, or one given twice */
  }
  for (size_t i = 0; i + 1 < n->n_kids; i += 2) {
    const char *k = n->kids[i]->text;
    if (strcmp(k, "name") != 0 && strcmp(k, "type") != 0 && strcmp(k, "remove") != 0) {
      return scn__fail(ld, n->kids[i],
                       "key \"%s\" does not go with remove: true (a removed record is only a name "
                       "and a type)",
                       k);
    }
  }
  struct scn_dns_removal rem = {.mark = scn__mark(n)};
  const struct scn__node *tn = NULL;
  const struct rtype *rt = NULL;
  if (!scn__req_dns_name(ld, n, path, "name", SCN__NO_WILDCARD, &rem.name)) {
    return false;
  }
  o->removals = xrealloc_array(o->removals, o->n_removals + 1, sizeof o->removals[0]);
  o->removals[o->n_removals++] = rem; /* owned from here on, whatever follows */
  if (!scn__req_scalar(ld, n, path, "type", &tn) || !find_rtype(ld, tn, &rt)) {
    return false;
  }
  o->removals[o->n_removals - 1].type = rt->type;
  if (ld->s->n_zones > 0 && !in_zones(ld->s, rem.name)) {
    return scn__fail(ld, n, "record name \"%s\" is outside the zones listed in dns.zones",
                     rem.name);
  }
  return true;
}

static const char *rtype_name(uint16_t type) {
  for (size_t i = 0; i < SCN__N_ELEMS(rtypes); i++) {
    if (rtypes[i].type == type) {
      return rtypes[i].name;
    }
  }
  return "?";
}

/* is_removal says whether the record `n` has remove: true. */
static bool is_removal(struct scn__ld *ld, const struct scn__node *n, const char *path, bool *out) {
  *out = false;
  return n->kind != SCN__MAP || scn__opt_bool(ld, n, path, "remove", out);
}

/* check_removals refuses a removal that repeats another or that a record of the scenario
 * contradicts. */
static bool check_removals(struct scn__ld *ld, const struct scn__node *records) {
  const struct scn *s = ld->s;
  const struct scn_dns_overlay *o = &s->overlay;
  for (size_t i = 0; i < o->n_removals; i++) {
    const struct scn_dns_removal *r = &o->removals[i];
    const struct scn__node *at = NULL;
    for (size_t k = 0; k < records->n_kids && at == NULL; k++) {
      const struct scn__node *kid = records->kids[k];
      if (kid->line == r->mark.line && kid->col == r->mark.col && kid->file == r->mark.file) {
        at = kid;
      }
    }
    for (size_t j = 0; j < i; j++) {
      if (strcmp(o->removals[j].name, r->name) == 0 && o->removals[j].type == r->type) {
        return scn__fail(ld, at, "%s %s is already removed at line %d", r->name,
                         rtype_name(r->type), o->removals[j].mark.line);
      }
    }
    for (size_t j = 0; j < s->n_records; j++) {
      const struct scn_record *d = &s->records[j];
      if (strcmp(d->name, r->name) == 0 && d->type == r->type) {
        return scn__fail(ld, at,
                         "%s %s is removed here and defined at %s:%d: a record the overlay "
                         "defines already replaces the upstream's of its type",
                         r->name, rtype_name(r->type), d->mark.file, d->mark.line);
      }
    }
  }
  return true;
}

static bool load_records(struct scn__ld *ld, const struct scn__node *n) {
  struct scn *s = ld->s;
  char rp[SCN__PATH_LEN];
  const struct scn__node *records = NULL;
  if (!scn__opt_seq(ld, n, "dns", "records", rp, &records)) {
    return false;
  }
  if (records == NULL) {
    return true;
  }
  s->records = xrealloc_array(s->records, s->n_records + records->n_kids + 1, sizeof s->records[0]);
  memset(&s->records[s->n_records], 0, (records->n_kids + 1) * sizeof s->records[0]);
  for (size_t i = 0; i < records->n_kids; i++) {
    char p[SCN__PATH_LEN];
    scn__path_index(p, rp, i);
    bool removal = false;
    if (!is_removal(ld, records->kids[i], p, &removal)) {
      return false;
    }
    if (removal) {
      if (!load_removal(ld, records->kids[i], p)) {
        return false;
      }
      continue;
    }
    if (records->kids[i]->kind == SCN__MAP && scn__get(records->kids[i], "rdata_hex") != NULL) {
      if (!load_raw_record(ld, records->kids[i], p)) {
        return false;
      }
      continue;
    }
    if (!load_record(ld, records->kids[i], p, &s->records[s->n_records++]) ||
        !check_cname(ld, records->kids[i])) {
      return false;
    }
  }
  return check_removals(ld, records);
}

/* ---- dns.overlay ---- */

enum {
  OVERLAY_TIMEOUT_MS = 2000,      /* a stub resolver's own timeout is often 5 s: answer first */
  OVERLAY_MAX_TIMEOUT_MS = 60000, /* beyond this the client has given up long ago */
};

static bool load_overlay(struct scn__ld *ld, const struct scn__node *n) {
  static const char *const keys[] = {"upstream", "timeout", NULL};
  struct scn_dns_overlay *o = &ld->s->overlay;
  const struct scn__node *up = NULL;
  char *ip = NULL;
  uint16_t port = 0;
  if (!scn__want_map(ld, n, "dns.overlay", keys) ||
      !scn__req_scalar(ld, n, "dns.overlay", "upstream", &up) ||
      !scn__addr_port(ld, up, "upstream", 53, &ip, &port)) {
    return false;
  }
  o->present = true;
  o->mark = scn__mark(n);
  o->upstream = scn__addr_text(ip, port);
  free(ip);
  o->timeout_ms = OVERLAY_TIMEOUT_MS;
  return scn__opt_duration(ld, n, "dns.overlay", "timeout", 100, OVERLAY_MAX_TIMEOUT_MS, NULL,
                           &o->timeout_ms);
}

/* ---- dns.zone_file ---- */

/* zone_fail writes "file:line: message" for a record of the zone file (which has no columns). */
static bool zone_fail(struct scn__ld *ld, const struct scn_record *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool zone_fail(struct scn__ld *ld, const struct scn_record *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  scn__vmessage(ld->err, ld->err_size, r->mark.file, (unsigned long long) r->mark.line, 0, NULL,
                fmt, ap);
  va_end(ap);
  ld->st = SCN_ESCHEMA;
  return false;
}

/* load_zone_file reads the zone file `zf` names into s->records, which it starts. */
static bool load_zone_file(struct scn__ld *ld, const struct scn__node *zf) {
  struct scn *s = ld->s;
  if (zf->len == 0 || scn__has_control(zf->text)) {
    return scn__fail(ld, zf, "zone_file must be the path of a zone file");
  }
  char *zpath = scn__resolve_path(zf->file, zf->text);
  if (zpath == NULL) {
    return scn__fail(ld, zf, "zone_file: the path is too long");
  }
  struct buf text;
  char why[256];
  if (!scn__read_file(zpath, SCN__MAX_FILE_LEN, &text, why, sizeof why)) {
    bool r = scn__fail(ld, zf, "zone_file: cannot read \"%s\": %s", zpath, why);
    free(zpath);
    return r;
  }
  s->zone_file = str_dup(zpath);
  const char *file = scn__add_file(s, zpath);
  enum scn_status st = scn__load_zone(s, file, text.len > 0 ? buf_cstr(&text) : "", text.len,
                                      s->domain, ld->err, ld->err_size);
  buf_cleanup(&text);
  if (st != SCN_OK) {
    ld->st = st;
    return false;
  }
  for (size_t i = 0; i < s->n_records; i++) {
    const struct scn_record *r = &s->records[i];
    if (s->n_zones > 0 && !in_zones(s, r->name)) {
      return zone_fail(ld, r, "record name \"%s\" is outside the zones listed in dns.zones",
                       r->name);
    }
    for (size_t j = 0; j < i; j++) {
      const struct scn_record *o = &s->records[j];
      if (strcmp(o->name, r->name) == 0 && (o->type == 5 || r->type == 5)) {
        return zone_fail(ld, r, "%s has a CNAME record (line %d), so it can have no other record",
                         r->name, (o->type == 5 ? o : r)->mark.line);
      }
    }
  }
  return true;
}

/* ---- behaviours ---- */

/* in the order of enum scn_dns_behaviour, from SCN_DNS_NXDOMAIN */
static const char *const behaviours[] = {"nxdomain", "servfail", "timeout", "nodata",
                                         "refused",  "truncate", "raw",     NULL};

/* load_raw_answer reads answer_hex and answer_count, which go with answer: raw only. */
static bool load_raw_answer(struct scn__ld *ld, const struct scn__node *n, const char *path,
                            struct scn_dns_rule *rule) {
  const struct scn__node *hex = NULL;
  if (rule->behaviour != SCN_DNS_RAW) {
    static const char *const raw_only[] = {"answer_hex", "answer_count", NULL};
    for (int i = 0; raw_only[i] != NULL; i++) {
      const struct scn__node *v = scn__get(n, raw_only[i]);
      if (v != NULL) {
        return scn__fail(ld, v, "%s: %s goes only with answer: raw", path, raw_only[i]);
      }
    }
    return true;
  }
  uint32_t count = 1;
  if (!scn__req_scalar(ld, n, path, "answer_hex", &hex) ||
      !scn__hex_bytes(ld, hex, "answer_hex", MAX_RAW, &rule->raw, &rule->raw_len) ||
      !scn__opt_u32(ld, n, path, "answer_count", 0, 65535, NULL, &count)) {
    return false;
  }
  rule->raw_count = (uint16_t) count;
  return true;
}

static bool load_rule(struct scn__ld *ld, const struct scn__node *n, const char *path,
                      struct scn_dns_rule *rule) {
  static const char *const keys[] = {"name",       "type",         "answer", "first",
                                     "answer_hex", "answer_count", NULL};
  if (!scn__want_map(ld, n, path, keys)) {
    return false;
  }
  rule->mark = scn__mark(n);
  const struct scn__node *t = NULL;
  if (!scn__opt_scalar(ld, n, path, "type", &t)) {
    return false;
  }
  if (t != NULL) {
    for (size_t i = 0; i < SCN__N_ELEMS(rule_types) && rule->type == 0; i++) {
      if (str_eq_nocase(t->text, rule_types[i].name)) {
        rule->type = rule_types[i].type;
      }
    }
    if (rule->type == 0) {
      return scn__fail(ld, t,
                       "type \"%s\" is not a DNS type a behaviour can take (A, AAAA, CNAME, SRV, "
                       "NS, MX, TXT, SOA, PTR, ANY; leave it out for every type)",
                       t->text);
    }
  }
  const struct scn__node *a = NULL;
  if (!scn__opt_u32(ld, n, path, "first", 1, 1000000, NULL, &rule->first_n) ||
      !scn__req_dns_name(ld, n, path, "name", SCN__NO_WILDCARD, &rule->name) ||
      !scn__req_scalar(ld, n, path, "answer", &a)) {
    return false;
  }
  int i = scn__pick(a->text, behaviours, false);
  if (i < 0) {
    return scn__fail(ld, a,
                     "answer \"%s\" is not a DNS behaviour (nxdomain, servfail, timeout, nodata, "
                     "refused, truncate, raw)",
                     a->text);
  }
  rule->behaviour = (enum scn_dns_behaviour)(i + 1);
  return load_raw_answer(ld, n, path, rule);
}

static bool load_rules(struct scn__ld *ld, const struct scn__node *n) {
  struct scn *s = ld->s;
  char rp[SCN__PATH_LEN];
  const struct scn__node *rules = NULL;
  if (!scn__opt_seq(ld, n, "dns", "behaviours", rp, &rules)) {
    return false;
  }
  if (rules == NULL) {
    return true;
  }
  s->rules = xcalloc(rules->n_kids, sizeof s->rules[0]);
  for (size_t i = 0; i < rules->n_kids; i++) {
    char p[SCN__PATH_LEN];
    scn__path_index(p, rp, i);
    struct scn_dns_rule *rule = &s->rules[s->n_rules++];
    if (!load_rule(ld, rules->kids[i], p, rule)) {
      return false;
    }
    for (size_t j = 0; j + 1 < s->n_rules; j++) {
      const struct scn_dns_rule *o = &s->rules[j];
      if (strcmp(o->name, rule->name) == 0 &&
          (o->type == rule->type || o->type == 0 || rule->type == 0)) {
        return scn__fail(ld, rules->kids[i], "%s already has a behaviour at line %d", rule->name,
                         o->mark.line);
      }
    }
  }
  return true;
}

/* ---- the section ---- */

bool scn__load_dns(struct scn__ld *ld, const struct scn__node *n) {
  static const char *const keys[] = {"zones",      "zone_file", "records",
                                     "behaviours", "overlay",   NULL};
  static const char *const edits[] = {"add_records", "remove_records", NULL};
  struct scn *s = ld->s;
  if (!scn__want(ld, n, SCN__MAP, "dns")) {
    return false;
  }
  for (int i = 0; edits[i] != NULL; i++) {
    for (size_t k = 0; k + 1 < n->n_kids; k += 2) {
      if (n->kids[k]->kind == SCN__SCALAR && strcmp(n->kids[k]->text, edits[i]) == 0) {
        return scn__fail(ld, n->kids[k],
                         "dns.%s edits the records of a base scenario: it needs extends: "
                         "(without a base, list records under dns.records)",
                         edits[i]);
      }
    }
  }
  const struct scn__node *zf = NULL;
  const struct scn__node *overlay = scn__get(n, "overlay");
  return scn__check_keys(ld, n, "dns", keys) && (overlay == NULL || load_overlay(ld, overlay)) &&
         scn__opt_dns_names(ld, n, "dns", "zones", SCN__NO_WILDCARD, &s->zones, &s->n_zones) &&
         scn__opt_scalar(ld, n, "dns", "zone_file", &zf) &&
         (zf == NULL || load_zone_file(ld, zf)) && load_records(ld, n) && load_rules(ld, n);
}
