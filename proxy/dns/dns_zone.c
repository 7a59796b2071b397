/* proxy/dns/dns_zone.c: turns the scenario's zones, records, rules and host addresses into
 * libknot RRsets, synthesizes each zone's SOA and NS, and the lab hosts' PTR records. */
#include "proxy/dns/dns.h"

#include "common/buf.h"
#include "proxy/dns/internal.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  DEFAULT_TTL = 300,
  SOA_TTL = 60, /* RFC 2308 §5: the negative TTL is min(SOA TTL, MINIMUM); keep both 60 */
  RDATA_MAX = 65535,
};

static const char LAB_NS[] = "ns.lab.invalid";

/* A failure sentence, prefixed with where the scenario said it when we know. */
static void fail(char *err, size_t err_size, const struct scn_mark *mark, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(char *err, size_t err_size, const struct scn_mark *mark, const char *fmt, ...) {
  if (err == NULL || err_size == 0) {
    return;
  }
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (mark != NULL && mark->file != NULL && mark->line > 0) {
    buf_fmt(err, err_size, "%s:%d:%d: %s", mark->file, mark->line, mark->col, msg);
  } else {
    buf_fmt(err, err_size, "%s", msg);
  }
}

/* name_from_text parses a presentation name (with or without the final dot) into a new
 * lowercase wire name; NULL when it is not a valid name. */
static knot_dname_t *name_from_text(const char *text) {
  if (text == NULL || text[0] == '\0') {
    return NULL;
  }
  knot_dname_t *name = knot_dname_from_str_alloc(text);
  if (name != NULL) {
    knot_dname_to_lower(name);
  }
  return name;
}

static bool name_under(const knot_dname_t *name, const knot_dname_t *apex) {
  return knot_dname_in_bailiwick(name, apex) >= 0;
}

const struct dns_zone *dns__zone_find(const struct dns_zoneset *zs, const knot_dname_t *name) {
  const struct dns_zone *best = NULL;
  size_t best_labels = 0;
  for (size_t i = 0; i < zs->n_zones; i++) {
    if (!name_under(name, zs->zones[i].apex)) {
      continue;
    }
    size_t labels = knot_dname_labels(zs->zones[i].apex, NULL);
    if (best == NULL || labels > best_labels) {
      best = &zs->zones[i];
      best_labels = labels;
    }
  }
  return best;
}

const knot_rrset_t *dns__rrset_find(const struct dns_zoneset *zs, const knot_dname_t *name,
                                    uint16_t type) {
  for (size_t i = 0; i < zs->n_rrsets; i++) {
    if (zs->rrsets[i].type == type && knot_dname_is_equal(zs->rrsets[i].owner, name)) {
      return &zs->rrsets[i];
    }
  }
  return NULL;
}

bool dns__name_exists(const struct dns_zoneset *zs, const knot_dname_t *name) {
  for (size_t i = 0; i < zs->n_rrsets; i++) {
    if (knot_dname_is_equal(zs->rrsets[i].owner, name)) {
      return true;
    }
  }
  for (size_t i = 0; i < zs->n_raws; i++) { /* a record given as bytes makes its name exist */
    if (knot_dname_is_equal(zs->raws[i].name, name)) {
      return true;
    }
  }
  return false;
}

bool dns__name_has_children(const struct dns_zoneset *zs, const knot_dname_t *name) {
  for (size_t i = 0; i < zs->n_rrsets; i++) {
    if (knot_dname_in_bailiwick(zs->rrsets[i].owner, name) > 0) {
      return true;
    }
  }
  for (size_t i = 0; i < zs->n_raws; i++) {
    if (knot_dname_in_bailiwick(zs->raws[i].name, name) > 0) {
      return true;
    }
  }
  return false;
}

static bool rule_spent(const struct dns_rule *r) {
  return r->first_n > 0 && r->n_applied >= r->first_n;
}

struct dns_rule *dns__rule_find(struct dns_zoneset *zs, const knot_dname_t *name, uint16_t qtype) {
  struct dns_rule *any_type = NULL;
  for (size_t i = 0; i < zs->n_rules; i++) {
    struct dns_rule *r = &zs->rules[i];
    if (rule_spent(r) || !knot_dname_is_equal(r->name, name)) {
      continue;
    }
    if (r->type != 0 && r->type == qtype) {
      return r; /* the most specific: this very type */
    }
    if (r->type == 0 && any_type == NULL) {
      any_type = r;
    }
  }
  return any_type;
}

/* add_rdata adds one record to the RRset (owner, type), creating the RRset if needed; the
 * first record's TTL is the RRset's. Takes nothing: `owner` is copied. */
static bool add_rdata(struct dns_zoneset *zs, const knot_dname_t *owner, uint16_t type,
                      uint32_t ttl, const uint8_t *rdata, size_t rdata_len, size_t *out_index) {
  size_t i = 0;
  while (i < zs->n_rrsets &&
         !(zs->rrsets[i].type == type && knot_dname_is_equal(zs->rrsets[i].owner, owner))) {
    i++;
  }
  if (i == zs->n_rrsets) {
    knot_dname_t *copy = knot_dname_copy(owner, NULL);
    if (copy == NULL) {
      return false;
    }
    zs->rrsets = xrealloc_array(zs->rrsets, zs->n_rrsets + 1, sizeof *zs->rrsets);
    knot_rrset_init(&zs->rrsets[i], copy, type, KNOT_CLASS_IN, ttl);
    zs->n_rrsets++;
  }
  if (out_index != NULL) {
    *out_index = i;
  }
  return knot_rrset_add_rdata(&zs->rrsets[i], rdata, (uint16_t) rdata_len, NULL) == KNOT_EOK;
}

/* put_name appends a wire name to rdata at *len; false when it does not fit. */
static bool put_name(uint8_t *rdata, size_t *len, const knot_dname_t *name) {
  int n = knot_dname_to_wire(rdata + *len, name, RDATA_MAX - *len);
  if (n < 0) {
    return false;
  }
  *len += (size_t) n;
  return true;
}

/* add_zone adds a zone with its synthesized SOA and NS unless one with that apex exists. */
static bool add_zone(struct dns_zoneset *zs, const knot_dname_t *apex, char *err, size_t err_size) {
  for (size_t i = 0; i < zs->n_zones; i++) {
    if (knot_dname_is_equal(zs->zones[i].apex, apex)) {
      return true;
    }
  }
  char apex_text[KNOT_DNAME_TXT_MAXLEN + 1];
  char rname_text[KNOT_DNAME_TXT_MAXLEN + 16];
  if (knot_dname_to_str(apex_text, apex, sizeof apex_text) == NULL ||
      !buf_fmt(rname_text, sizeof rname_text, "hostmaster.%s", apex_text)) {
    fail(err, err_size, NULL, "dns: zone name too long");
    return false;
  }
  knot_dname_t *mname = name_from_text(LAB_NS);
  knot_dname_t *rname = name_from_text(rname_text);
  knot_dname_t *apex_copy = knot_dname_copy(apex, NULL);
  bool ok = mname != NULL && apex_copy != NULL;
  uint8_t rdata[2 * KNOT_DNAME_MAXLEN + 20];
  size_t len = 0;
  size_t soa_index = 0;
  if (ok && rname == NULL) {
    /* the apex is too long to prefix: the mailbox is only a label of contact */
    rname = name_from_text("hostmaster.lab.invalid");
    ok = rname != NULL;
  }
  if (ok) {
    ok = put_name(rdata, &len, mname) && put_name(rdata, &len, rname);
  }
  if (ok) {
    /* RFC 1035 3.3.13: serial, refresh, retry, expire, minimum */
    const uint32_t numbers[5] = {1, 3600, 600, 86400, SOA_TTL};
    for (size_t k = 0; k < 5; k++) {
      knot_wire_write_u32(rdata + len, numbers[k]);
      len += 4;
    }
    ok = add_rdata(zs, apex, KNOT_RRTYPE_SOA, SOA_TTL, rdata, len, &soa_index);
  }
  if (ok) {
    zs->zones = xrealloc_array(zs->zones, zs->n_zones + 1, sizeof *zs->zones);
    zs->zones[zs->n_zones] = (struct dns_zone){.apex = apex_copy, .soa_index = soa_index};
    zs->n_zones++;
    apex_copy = NULL;
  } else {
    fail(err, err_size, NULL, "dns: cannot build the SOA of zone %s", apex_text);
  }
  knot_dname_free(apex_copy, NULL);
  knot_dname_free(mname, NULL);
  knot_dname_free(rname, NULL);
  return ok;
}

/* add_default_ns gives each zone apex without NS records in the scenario the lab's NS. */
static bool add_default_ns(struct dns_zoneset *zs, char *err, size_t err_size) {
  knot_dname_t *ns = name_from_text(LAB_NS);
  uint8_t rdata[KNOT_DNAME_MAXLEN];
  size_t len = 0;
  bool ok = ns != NULL && put_name(rdata, &len, ns);
  for (size_t i = 0; ok && i < zs->n_zones; i++) {
    if (dns__rrset_find(zs, zs->zones[i].apex, KNOT_RRTYPE_NS) == NULL) {
      ok = add_rdata(zs, zs->zones[i].apex, KNOT_RRTYPE_NS, DEFAULT_TTL, rdata, len, NULL);
    }
  }
  if (!ok) {
    fail(err, err_size, NULL, "dns: cannot build NS records");
  }
  knot_dname_free(ns, NULL);
  return ok;
}

/* parent_zone is the name made of the last two labels of `name` (the name itself when it has
 * fewer): the zone a record outside every zone is served from. */
static const knot_dname_t *parent_zone(const knot_dname_t *name) {
  size_t labels = knot_dname_labels(name, NULL);
  const knot_dname_t *p = name;
  while (labels > 2) {
    p = knot_wire_next_label(p, NULL);
    labels--;
  }
  return p;
}

static const char *host_address(const struct scn *scn, const char *const *host_addrs,
                                const char *id) {
  for (size_t i = 0; i < scn->n_hosts; i++) {
    if (scn->hosts[i].id != NULL && strcmp(scn->hosts[i].id, id) == 0) {
      return host_addrs != NULL ? host_addrs[i] : NULL;
    }
  }
  return NULL;
}

/* moved_address: a literal address that is a host's fixed scenario address (a zone file cannot
 * name a host, so it spells the address) follows the host when the lab put it elsewhere (serve
 * --listen): the answer is where the host really is. Else the literal itself. */
static const char *moved_address(const struct scn *scn, const char *const *host_addrs,
                                 const char *literal, int af) {
  uint8_t want[16], fixed[16], scratch[16];
  if (inet_pton(af, literal, want) != 1) {
    return literal; /* the caller says what is wrong with it */
  }
  size_t len = af == AF_INET ? 4 : 16;
  for (size_t i = 0; host_addrs != NULL && i < scn->n_hosts; i++) {
    const char *text = scn->hosts[i].address;
    if (text != NULL && host_addrs[i] != NULL && inet_pton(af, text, fixed) == 1 &&
        memcmp(fixed, want, len) == 0 && inet_pton(af, host_addrs[i], scratch) == 1) {
      return host_addrs[i];
    }
  }
  return literal;
}

/* txt_rdata splits text into RFC 1035 3.3.14 character-strings of at most 255 bytes. */
static bool txt_rdata(const char *text, uint8_t *rdata, size_t *len) {
  size_t n = strlen(text);
  size_t at = 0;
  do {
    size_t chunk = n - at > 255 ? 255 : n - at;
    if (*len + 1 + chunk > RDATA_MAX) {
      return false;
    }
    rdata[(*len)++] = (uint8_t) chunk; /* RFC 1035 3.3: <character-string> length octet */
    memcpy(rdata + *len, text + at, chunk);
    *len += chunk;
    at += chunk;
  } while (at < n);
  return true;
}

/* record_rdata encodes one scenario record's RDATA; false with a sentence in err. */
static bool record_rdata(const struct scn *scn, const char *const *host_addrs,
                         const struct scn_record *r, const char *type_name, uint8_t *rdata,
                         size_t *len, char *err, size_t err_size) {
  *len = 0;
  switch (r->type) {
    case KNOT_RRTYPE_A:
    case KNOT_RRTYPE_AAAA: {
      const char *addr = r->address;
      if (addr == NULL && r->host != NULL) {
        addr = host_address(scn, host_addrs, r->host);
        if (addr == NULL) {
          fail(err, err_size, &r->mark, "dns: %s %s names host '%s', which has no lab address",
               r->name, type_name, r->host);
          return false;
        }
      }
      if (addr == NULL) {
        fail(err, err_size, &r->mark, "dns: %s %s has neither a host nor an address", r->name,
             type_name);
        return false;
      }
      int af = r->type == KNOT_RRTYPE_A ? AF_INET : AF_INET6;
      if (r->address != NULL) {
        addr = moved_address(scn, host_addrs, addr, af);
      }
      if (inet_pton(af, addr, rdata) != 1) {
        fail(err, err_size, &r->mark, "dns: %s %s: '%s' is not an IPv%c address", r->name,
             type_name, addr, af == AF_INET ? '4' : '6');
        return false;
      }
      *len = af == AF_INET ? 4 : 16;
      return true;
    }
    case KNOT_RRTYPE_CNAME:
    case KNOT_RRTYPE_NS:
    case KNOT_RRTYPE_PTR:
    case KNOT_RRTYPE_MX:
    case KNOT_RRTYPE_SRV: {
      knot_dname_t *target = name_from_text(r->target);
      if (target == NULL) {
        fail(err, err_size, &r->mark, "dns: %s %s needs a valid target name", r->name, type_name);
        return false;
      }
      if (r->type == KNOT_RRTYPE_MX) { /* RFC 1035 3.3.9 */
        knot_wire_write_u16(rdata, r->priority);
        *len = 2;
      } else if (r->type == KNOT_RRTYPE_SRV) { /* RFC 2782 */
        knot_wire_write_u16(rdata, r->priority);
        knot_wire_write_u16(rdata + 2, r->weight);
        knot_wire_write_u16(rdata + 4, r->port);
        *len = 6;
      }
      bool ok = put_name(rdata, len, target);
      knot_dname_free(target, NULL);
      return ok;
    }
    case KNOT_RRTYPE_TXT:
      if (!txt_rdata(r->text != NULL ? r->text : "", rdata, len)) {
        fail(err, err_size, &r->mark, "dns: %s TXT is too long", r->name);
        return false;
      }
      return true;
    default:
      fail(err, err_size, &r->mark, "dns: %s: record type %s is not served by the lab", r->name,
           type_name);
      return false;
  }
}

static bool add_records(struct dns_zoneset *zs, const struct scn *scn,
                        const char *const *host_addrs, char *err, size_t err_size) {
  uint8_t *rdata = xcalloc(1, RDATA_MAX);
  bool ok = true;
  for (size_t i = 0; ok && i < scn->n_records; i++) {
    const struct scn_record *r = &scn->records[i];
    char type_name[32];
    if (knot_rrtype_to_string(r->type, type_name, sizeof type_name) < 0) {
      buf_fmt(type_name, sizeof type_name, "TYPE%u", (unsigned) r->type);
    }
    if (r->type == KNOT_RRTYPE_SOA) {
      continue; /* the lab synthesizes every zone's SOA */
    }
    knot_dname_t *owner = name_from_text(r->name);
    size_t len = 0;
    if (owner == NULL) {
      fail(err, err_size, &r->mark, "dns: '%s' is not a valid DNS name",
           r->name != NULL ? r->name : "");
      ok = false;
    } else if (!record_rdata(scn, host_addrs, r, type_name, rdata, &len, err, err_size)) {
      ok = false;
    } else if (!add_rdata(zs, owner, r->type, r->ttl != 0 ? r->ttl : DEFAULT_TTL, rdata, len,
                          NULL)) {
      fail(err, err_size, &r->mark, "dns: %s %s: cannot store the record", r->name, type_name);
      ok = false;
    }
    knot_dname_free(owner, NULL);
  }
  free(rdata);
  return ok;
}

/* add_zones adds the scenario's zones (or, without any, its domain), then for every record
 * outside them the zone made of the record name's last two labels. */
static bool add_zones(struct dns_zoneset *zs, const struct scn *scn, char *err, size_t err_size) {
  bool ok = true;
  if (scn->n_zones > 0) {
    for (size_t i = 0; ok && i < scn->n_zones; i++) {
      knot_dname_t *apex = name_from_text(scn->zones[i]);
      if (apex == NULL) {
        fail(err, err_size, NULL, "dns: zone '%s' is not a valid DNS name",
             scn->zones[i] != NULL ? scn->zones[i] : "");
        ok = false;
      } else {
        ok = add_zone(zs, apex, err, err_size);
      }
      knot_dname_free(apex, NULL);
    }
  } else if (scn->domain != NULL) {
    knot_dname_t *apex = name_from_text(scn->domain);
    if (apex == NULL) {
      fail(err, err_size, NULL, "dns: domain '%s' is not a valid DNS name", scn->domain);
      ok = false;
    } else {
      ok = add_zone(zs, apex, err, err_size);
    }
    knot_dname_free(apex, NULL);
  }
  for (size_t i = 0; ok && i < scn->n_records; i++) {
    knot_dname_t *owner = name_from_text(scn->records[i].name);
    if (owner == NULL) {
      continue; /* add_records reports it */
    }
    if (dns__zone_find(zs, owner) == NULL) {
      ok = add_zone(zs, parent_zone(owner), err, err_size);
    }
    knot_dname_free(owner, NULL);
  }
  return ok;
}

/* reverse_name writes the in-addr.arpa (RFC 1035 3.5) or ip6.arpa (RFC 3596 2.5) name of a
 * textual address; false when it is not an address. */
static bool reverse_name(const char *addr, char *out, size_t out_size) {
  uint8_t bytes[16];
  struct buf b;
  buf_init(&b, out_size - 1);
  bool ok = true;
  if (inet_pton(AF_INET, addr, bytes) == 1) {
    ok = buf_appendf(&b, "%u.%u.%u.%u.in-addr.arpa", bytes[3], bytes[2], bytes[1], bytes[0]);
  } else if (inet_pton(AF_INET6, addr, bytes) == 1) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; ok && i >= 0; i--) {
      ok = buf_appendf(&b, "%c.%c.", hex[bytes[i] & 0xf], hex[bytes[i] >> 4]);
    }
    ok = ok && buf_append_str(&b, "ip6.arpa");
  } else {
    ok = false;
  }
  ok = ok && buf_fmt(out, out_size, "%s", buf_cstr(&b));
  buf_cleanup(&b);
  return ok;
}

/* add_ptrs makes each lab host address its own one-name reverse zone with a PTR to the host's
 * first name, or "<id>.lab.invalid" when it has none. */
static bool add_ptrs(struct dns_zoneset *zs, const struct scn *scn, const char *const *host_addrs,
                     char *err, size_t err_size) {
  bool ok = true;
  for (size_t i = 0; ok && host_addrs != NULL && i < scn->n_hosts; i++) {
    const struct scn_host *h = &scn->hosts[i];
    if (host_addrs[i] == NULL) {
      continue;
    }
    char rev[80];
    char target_text[KNOT_DNAME_TXT_MAXLEN + 1];
    if (!reverse_name(host_addrs[i], rev, sizeof rev)) {
      fail(err, err_size, &h->mark, "dns: host '%s' has address '%s', which is not an address",
           h->id != NULL ? h->id : "", host_addrs[i]);
      return false;
    }
    if (h->n_names > 0 && h->names[0] != NULL) {
      ok = buf_fmt(target_text, sizeof target_text, "%s", h->names[0]);
    } else {
      ok = buf_fmt(target_text, sizeof target_text, "%s.lab.invalid", h->id != NULL ? h->id : "");
    }
    knot_dname_t *owner = name_from_text(rev);
    knot_dname_t *target = ok ? name_from_text(target_text) : NULL;
    uint8_t rdata[KNOT_DNAME_MAXLEN];
    size_t len = 0;
    if (owner == NULL || target == NULL || !put_name(rdata, &len, target)) {
      fail(err, err_size, &h->mark, "dns: host '%s': '%s' is not a valid DNS name",
           h->id != NULL ? h->id : "", target_text);
      ok = false;
    } else {
      ok = add_zone(zs, owner, err, err_size) &&
           add_rdata(zs, owner, KNOT_RRTYPE_PTR, DEFAULT_TTL, rdata, len, NULL);
    }
    knot_dname_free(owner, NULL);
    knot_dname_free(target, NULL);
  }
  return ok;
}

bool dns__add_address(struct dns_zoneset *zs, const char *name, const char *address, char *err,
                      size_t err_size) {
  uint8_t rdata[16];
  uint16_t type = KNOT_RRTYPE_A;
  size_t len = 4;
  if (inet_pton(AF_INET6, address, rdata) == 1) {
    type = KNOT_RRTYPE_AAAA;
    len = 16;
  } else if (inet_pton(AF_INET, address, rdata) != 1) {
    fail(err, err_size, NULL, "dns: '%s' is not an address", address);
    return false;
  }
  knot_dname_t *owner = name_from_text(name);
  bool ok = owner != NULL;
  if (ok && dns__zone_find(zs, owner) == NULL) {
    ok = add_zone(zs, parent_zone(owner), err, err_size);
  }
  ok = ok && add_rdata(zs, owner, type, DEFAULT_TTL, rdata, len, NULL);
  if (!ok && err != NULL && err[0] == '\0') {
    fail(err, err_size, NULL, "dns: cannot give %s the address %s", name, address);
  }
  knot_dname_free(owner, NULL);
  return ok;
}

static bool add_rules(struct dns_zoneset *zs, const struct scn *scn, char *err, size_t err_size) {
  zs->rules = scn->n_rules > 0 ? xcalloc(scn->n_rules, sizeof *zs->rules) : NULL;
  for (size_t i = 0; i < scn->n_rules; i++) {
    const struct scn_dns_rule *r = &scn->rules[i];
    knot_dname_t *name = name_from_text(r->name);
    if (name == NULL) {
      fail(err, err_size, &r->mark, "dns: rule name '%s' is not a valid DNS name",
           r->name != NULL ? r->name : "");
      return false;
    }
    struct dns_rule *d = &zs->rules[zs->n_rules++];
    *d = (struct dns_rule){
        .name = name, .type = r->type, .behaviour = r->behaviour, .first_n = r->first_n};
    if (r->behaviour == SCN_DNS_RAW) {
      d->raw = xcalloc(r->raw_len + 1, 1);
      if (r->raw_len > 0) {
        memcpy(d->raw, r->raw, r->raw_len);
      }
      d->raw_len = r->raw_len;
      d->raw_count = r->raw_count;
    }
  }
  return true;
}

/* add_raws keeps the records given as bytes apart from the RRsets: libknot never reads them. */
static bool add_raws(struct dns_zoneset *zs, const struct scn *scn, char *err, size_t err_size) {
  zs->raws = scn->n_raw_records > 0 ? xcalloc(scn->n_raw_records, sizeof *zs->raws) : NULL;
  for (size_t i = 0; i < scn->n_raw_records; i++) {
    const struct scn_raw_record *r = &scn->raw_records[i];
    knot_dname_t *name = name_from_text(r->name);
    if (name == NULL) {
      fail(err, err_size, &r->mark, "dns: record name '%s' is not a valid DNS name",
           r->name != NULL ? r->name : "");
      return false;
    }
    struct dns_raw *d = &zs->raws[zs->n_raws++];
    *d = (struct dns_raw){.name = name,
                          .type = r->type,
                          .ttl = r->ttl,
                          .rdata = xcalloc(r->rdata_len + 1, 1),
                          .rdata_len = r->rdata_len,
                          .rdlength = r->rdlength};
    if (r->rdata_len > 0) {
      memcpy(d->rdata, r->rdata, r->rdata_len);
    }
  }
  return true;
}

bool dns__raw_has(const struct dns_zoneset *zs, const knot_dname_t *name, uint16_t qtype) {
  for (size_t i = 0; i < zs->n_raws; i++) {
    if (zs->raws[i].type == qtype && knot_dname_is_equal(zs->raws[i].name, name)) {
      return true;
    }
  }
  return false;
}

enum dns_status dns_zoneset_new(struct dns_zoneset **out, const struct scn *scn,
                                const char *const *host_addrs, char *err, size_t err_size) {
  *out = NULL;
  struct dns_zoneset *zs = xcalloc(1, sizeof *zs);
  if (err != NULL && err_size > 0) {
    err[0] = '\0';
  }
  /* With dns.overlay the zones' NS are the real ones: the upstream answers for them. */
  bool ok = add_zones(zs, scn, err, err_size) && add_records(zs, scn, host_addrs, err, err_size) &&
            add_ptrs(zs, scn, host_addrs, err, err_size) &&
            (scn->overlay.present || add_default_ns(zs, err, err_size)) &&
            add_rules(zs, scn, err, err_size) && add_raws(zs, scn, err, err_size) &&
            (!scn->overlay.present || dns__overlay_init(zs, scn, host_addrs, err, err_size));
  if (!ok) {
    dns_zoneset_free(zs);
    return DNS_EZONE;
  }
  *out = zs;
  return DNS_OK;
}

void dns_zoneset_reset_rules(struct dns_zoneset *zs) {
  for (size_t i = 0; zs != NULL && i < zs->n_rules; i++) {
    zs->rules[i].n_applied = 0;
  }
}

void dns_zoneset_free(struct dns_zoneset *zs) {
  if (zs == NULL) {
    return;
  }
  for (size_t i = 0; i < zs->n_zones; i++) {
    knot_dname_free(zs->zones[i].apex, NULL);
  }
  for (size_t i = 0; i < zs->n_rrsets; i++) {
    knot_rrset_clear(&zs->rrsets[i], NULL);
  }
  for (size_t i = 0; i < zs->n_rules; i++) {
    knot_dname_free(zs->rules[i].name, NULL);
    free(zs->rules[i].raw);
  }
  for (size_t i = 0; i < zs->n_raws; i++) {
    knot_dname_free(zs->raws[i].name, NULL);
    free(zs->raws[i].rdata);
  }
  free(zs->raws);
  dns__overlay_free(zs->overlay);
  free(zs->zones);
  free(zs->rrsets);
  free(zs->rules);
  free(zs);
}
