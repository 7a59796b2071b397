/* proxy/dns/dns_answer.c: one query in, one response out — parsed and built with libknot,
 * answered from the zone data (dns_zone.c) the way an authoritative server would (RFC 1034
 * 4.3.2), with RFC 2308 negative answers and RFC 6891 EDNS payload sizes. */
#include "proxy/dns/dns.h"

#include "proxy/dns/internal.h"

#include <stdlib.h>
#include <string.h>

enum {
  UDP_MIN_PAYLOAD = 512,  /* RFC 1035 4.2.1, RFC 6891 6.2.3 */
  UDP_MAX_PAYLOAD = 4096, /* what the lab advertises and sends at most */
  MAX_CHAIN = 8,          /* CNAMEs followed within the lab's data */
  MAX_ANSWER = 32,
};

/* What to answer, before it is written. */
struct plan {
  uint16_t rcode; /* may be extended (BADVERS) */
  bool aa;
  bool drop;
  bool truncate;    /* TC with no records: the truncate rule over UDP */
  bool wildcard;    /* a wildcard answered for some name of the chain */
  const char *rule; /* the behaviour of the last rule applied, or NULL */
  bool ra;          /* dns.overlay: the lab resolves through its upstream (RFC 1035 4.1.1 RA) */
  const knot_dname_t *chase; /* dns.overlay: the CNAME target the upstream must answer for */
  const char *why;
  const knot_rrset_t *answer[MAX_ANSWER];
  size_t n_answer;
  const knot_rrset_t *authority; /* the zone SOA of a negative answer, or NULL */
  /* RRsets synthesized from wildcards: the wildcard's records under the name asked */
  knot_rrset_t synth[MAX_ANSWER];
  knot_dname_storage_t synth_owner[MAX_ANSWER];
  size_t n_synth;
  /* an answer section given as bytes (a raw behaviour, records given as bytes): written after
   * the question as it is, with raw_count as ANCOUNT, and nothing after it */
  const uint8_t *raw;
  size_t raw_len;
  uint16_t raw_count;
  uint8_t *raw_own; /* raw, when built here from records (freed by dns_answer) */
};

static void plan_add(struct plan *p, const knot_rrset_t *rr) {
  if (p->n_answer < MAX_ANSWER) {
    p->answer[p->n_answer++] = rr;
  }
}

/* plan_add_as adds `rr`, or when `owner` is not NULL a copy of it owned by `owner` (RFC 4592
 * 3.3.1: a wildcard's records are answered with the QNAME as their owner). The copy shares the
 * RDATA of `rr`, which lives as long as the zoneset. */
static void plan_add_as(struct plan *p, const knot_rrset_t *rr, const knot_dname_t *owner) {
  if (owner == NULL) {
    plan_add(p, rr);
    return;
  }
  if (p->n_synth >= MAX_ANSWER || p->n_answer >= MAX_ANSWER) {
    return;
  }
  knot_rrset_t *copy = &p->synth[p->n_synth];
  if (knot_dname_store(p->synth_owner[p->n_synth], owner) == 0) {
    return;
  }
  *copy = *rr;
  copy->owner = p->synth_owner[p->n_synth];
  p->n_synth++;
  plan_add(p, copy);
}

/* negative answers NODATA or NXDOMAIN for `name` in `zone` with the zone's SOA (RFC 2308 §2). */
static void negative(const struct dns_zoneset *zs, const struct dns_zone *zone,
                     const knot_dname_t *name, struct plan *p) {
  p->authority = &zs->rrsets[zone->soa_index];
  bool exists = dns__name_exists(zs, name) || dns__name_has_children(zs, name);
  p->rcode = exists ? KNOT_RCODE_NOERROR : KNOT_RCODE_NXDOMAIN;
}

/* behaviour_name spells a behaviour as scenario files do. */
static const char *behaviour_name(enum scn_dns_behaviour b) {
  switch (b) {
    case SCN_DNS_ANSWER: return "answer";
    case SCN_DNS_NXDOMAIN: return "nxdomain";
    case SCN_DNS_SERVFAIL: return "servfail";
    case SCN_DNS_TIMEOUT: return "timeout";
    case SCN_DNS_NODATA: return "nodata";
    case SCN_DNS_REFUSED: return "refused";
    case SCN_DNS_TRUNCATE: return "truncate";
    case SCN_DNS_RAW: return "raw";
  }
  return "unknown";
}

/* clear_answer forgets the records planned so far (an error takes the place of the chain). */
static void clear_answer(struct plan *p) {
  p->n_answer = 0;
  p->n_synth = 0;
  p->authority = NULL;
  p->wildcard = false;
}

/* apply_rule applies the scenario rule for exactly (name, qtype), if there is one, and counts
 * the query against it (first_n); false when the name is answered from the records. */
static bool apply_rule(struct dns_zoneset *zs, const knot_dname_t *name, uint16_t qtype,
                       bool over_tcp, struct plan *p) {
  struct dns_rule *rule = dns__rule_find(zs, name, qtype);
  if (rule == NULL || rule->behaviour == SCN_DNS_ANSWER) {
    return false;
  }
  if (rule->first_n > 0) {
    rule->n_applied++;
  }
  p->rule = behaviour_name(rule->behaviour);
  const struct dns_zone *zone = dns__zone_find(zs, name);
  switch (rule->behaviour) {
    case SCN_DNS_ANSWER: return false;
    case SCN_DNS_TIMEOUT:
      p->drop = true;
      p->why = "timeout rule";
      return true;
    case SCN_DNS_SERVFAIL:
    case SCN_DNS_REFUSED:
      /* not an authoritative answer: no records at all (RFC 1035 4.1.1) */
      p->rcode = rule->behaviour == SCN_DNS_SERVFAIL ? KNOT_RCODE_SERVFAIL : KNOT_RCODE_REFUSED;
      p->aa = false;
      clear_answer(p);
      return true;
    case SCN_DNS_NXDOMAIN:
    case SCN_DNS_NODATA:
      /* RFC 2308 §2.1 and §2.2: the CNAMEs so far stay, the zone's SOA goes in authority */
      p->rcode = rule->behaviour == SCN_DNS_NXDOMAIN ? KNOT_RCODE_NXDOMAIN : KNOT_RCODE_NOERROR;
      p->authority = zone != NULL ? &zs->rrsets[zone->soa_index] : NULL;
      return true;
    case SCN_DNS_TRUNCATE:
      if (over_tcp) {
        return false; /* RFC 7766 5: over TCP the answer is given in full */
      }
      /* RFC 2181 9: TC, and the client asks again over TCP; no records are sent */
      p->rcode = KNOT_RCODE_NOERROR;
      p->truncate = true;
      clear_answer(p);
      return true;
    case SCN_DNS_RAW:
      p->rcode = KNOT_RCODE_NOERROR;
      clear_answer(p);
      p->raw = rule->raw;
      p->raw_len = rule->raw_len;
      p->raw_count = rule->raw_count;
      return true;
  }
  return false;
}

/* put_u16, put_u32 write big-endian numbers (RFC 1035 2.3.2). */
static uint8_t *put_u16(uint8_t *at, uint16_t v) {
  at[0] = (uint8_t) (v >> 8);
  at[1] = (uint8_t) v;
  return at + 2;
}

static uint8_t *put_u32(uint8_t *at, uint32_t v) {
  return put_u16(put_u16(at, (uint16_t) (v >> 16)), (uint16_t) v);
}

/* raw_records plans the records given as bytes for exactly (qname, qtype), if there are any:
 * each one's owner is a pointer to the QNAME (offset 12, RFC 1035 4.1.4), then TYPE, CLASS IN,
 * TTL, the RDLENGTH the scenario says and its bytes, unchecked — a record may claim more or
 * fewer bytes than it has. */
static bool raw_records(const struct dns_zoneset *zs, const knot_dname_t *qname, uint16_t qtype,
                        struct plan *p) {
  size_t len = 0, count = 0;
  for (size_t i = 0; i < zs->n_raws; i++) {
    const struct dns_raw *r = &zs->raws[i];
    if (r->type == qtype && knot_dname_is_equal(r->name, qname)) {
      len += 12 + r->rdata_len;
      count++;
    }
  }
  if (count == 0) {
    return false;
  }
  uint8_t *at = p->raw_own = malloc(len);
  if (at == NULL) {
    p->rcode = KNOT_RCODE_SERVFAIL;
    p->aa = false;
    return true;
  }
  for (size_t i = 0; i < zs->n_raws; i++) {
    const struct dns_raw *r = &zs->raws[i];
    if (r->type == qtype && knot_dname_is_equal(r->name, qname)) {
      at = put_u16(at, 0xc00c);
      at = put_u16(at, r->type);
      at = put_u16(at, KNOT_CLASS_IN);
      at = put_u32(at, r->ttl);
      at = put_u16(at, r->rdlength);
      if (r->rdata_len > 0) {
        memcpy(at, r->rdata, r->rdata_len);
      }
      at += r->rdata_len;
    }
  }
  p->raw = p->raw_own;
  p->raw_len = len;
  p->raw_count = count > 65535 ? 65535 : (uint16_t) count;
  return true;
}

static bool in_answer(const struct plan *p, const knot_dname_t *name) {
  for (size_t i = 0; i < p->n_answer; i++) {
    if (knot_dname_is_equal(p->answer[i]->owner, name)) {
      return true;
    }
  }
  return false;
}

static bool name_exists_or_ent(const struct dns_zoneset *zs, const knot_dname_t *name) {
  return dns__name_exists(zs, name) || dns__name_has_children(zs, name);
}

bool dns__wildcard_for(const struct dns_zoneset *zs, const struct dns_zone *zone,
                       const knot_dname_t *name, knot_dname_storage_t out) {
  if (name_exists_or_ent(zs, name) || knot_dname_is_equal(name, zone->apex)) {
    return false;
  }
  const knot_dname_t *encloser = name;
  do {
    encloser = knot_wire_next_label(encloser, NULL);
    if (encloser == NULL || encloser[0] == 0) {
      return false; /* cannot happen under an apex; keep the walk bounded anyway */
    }
  } while (!knot_dname_is_equal(encloser, zone->apex) && !name_exists_or_ent(zs, encloser));
  out[0] = 1; /* the label "*" (RFC 4592 2.1.1) */
  out[1] = '*';
  if (knot_dname_to_wire(out + 2, encloser, KNOT_DNAME_MAXLEN - 2) < 0) {
    return false;
  }
  return dns__name_exists(zs, out);
}

/* resolve decides the answer to (qname, qtype); qname is lowercase. */
static void resolve(struct dns_zoneset *zs, const knot_dname_t *qname, uint16_t qtype,
                    bool over_tcp, struct plan *p) {
  p->rcode = KNOT_RCODE_NOERROR;
  p->aa = true;
  if (apply_rule(zs, qname, qtype, over_tcp, p) || raw_records(zs, qname, qtype, p)) {
    return;
  }
  const struct dns_zone *zone = dns__zone_find(zs, qname);
  if (zone == NULL) {
    p->rcode = KNOT_RCODE_REFUSED; /* not ours: RFC 1034 4.3.2 step 2 without recursion */
    p->aa = false;
    return;
  }
  const knot_dname_t *cur = qname;
  knot_dname_storage_t wild;
  for (int hop = 0; hop <= MAX_CHAIN; hop++) {
    /* the records for `cur` are its own, or its wildcard's (RFC 1034 4.3.2 step 3c) */
    const knot_dname_t *source = cur;
    const knot_dname_t *synth_owner = NULL;
    if (dns__wildcard_for(zs, zone, cur, wild)) {
      source = wild;
      synth_owner = cur;
      p->wildcard = true;
    }
    if (qtype == KNOT_RRTYPE_ANY) {
      size_t before = p->n_answer;
      for (size_t i = 0; i < zs->n_rrsets; i++) {
        if (knot_dname_is_equal(zs->rrsets[i].owner, source)) {
          plan_add_as(p, &zs->rrsets[i], synth_owner);
        }
      }
      if (p->n_answer == before) {
        negative(zs, zone, cur, p);
      }
      return;
    }
    const knot_rrset_t *rr = dns__rrset_find(zs, source, qtype);
    if (rr != NULL) {
      plan_add_as(p, rr, synth_owner);
      return;
    }
    const knot_rrset_t *cname = NULL;
    if (qtype != KNOT_RRTYPE_CNAME) {
      cname = dns__rrset_find(zs, source, KNOT_RRTYPE_CNAME);
    }
    if (cname == NULL) {
      if (synth_owner != NULL) {
        /* RFC 4592 3.3.1: the wildcard exists but not with this type: NODATA */
        p->authority = &zs->rrsets[zone->soa_index];
        p->rcode = KNOT_RCODE_NOERROR;
      } else {
        negative(zs, zone, cur, p);
      }
      return;
    }
    /* RFC 1034 4.3.2 step 3a: add the CNAME and restart at its target */
    plan_add_as(p, cname, synth_owner);
    const knot_dname_t *target = knot_cname_name(cname->rrs.rdata);
    if (in_answer(p, target) || apply_rule(zs, target, qtype, over_tcp, p)) {
      return; /* a loop stops here; a rule on the target decides */
    }
    if (zs->overlay != NULL && dns__overlay_decide(zs, target, qtype, NULL) != DNS_OVERLAY_LAB) {
      p->chase = target; /* the scenario does not define it: the upstream resolver goes on */
      return;
    }
    zone = dns__zone_find(zs, target);
    if (zone == NULL) {
      return; /* outside the lab: the CNAME alone is the answer */
    }
    cur = target;
  }
}

/* reset_response makes `r` the header and question of a response to `q`. */
static int reset_response(knot_pkt_t *r, const knot_pkt_t *q) {
  int ret = knot_pkt_init_response(r, q);
  if (ret != KNOT_EOK) {
    return ret;
  }
  knot_wire_set_ancount(r->wire, 0);
  knot_wire_set_nscount(r->wire, 0);
  knot_wire_set_arcount(r->wire, 0);
  return KNOT_EOK;
}

/* write_raw writes the header and question of the response to `q`, then the answer section `p`
 * gives as bytes, claiming p->raw_count records; no authority, no OPT (the bytes are the
 * scenario's, the lab does not parse them to go on after them). Over UDP an answer larger than
 * the client takes is TC with no records (RFC 2181 9). */
static size_t write_raw(const knot_pkt_t *q, const struct plan *p, uint8_t *out, size_t limit,
                        struct dns_info *info) {
  knot_pkt_t *r = knot_pkt_new(out, (uint16_t) limit, NULL);
  size_t len = 0;
  if (r == NULL || reset_response(r, q) != KNOT_EOK) {
    info->dropped = true;
    info->why = "response buffer too small";
    goto out;
  }
  bool fits = r->size + p->raw_len <= limit;
  if (fits && p->raw_len > 0) {
    memcpy(r->wire + r->size, p->raw, p->raw_len);
  }
  knot_wire_set_ancount(r->wire, fits ? p->raw_count : 0);
  if (p->aa) {
    knot_wire_set_aa(r->wire);
  }
  if (p->ra) {
    knot_wire_set_ra(r->wire);
  }
  if (!fits) {
    knot_wire_set_tc(r->wire);
  }
  knot_wire_set_rcode(r->wire, (short) (p->rcode & 0xf));
  len = r->size + (fits ? p->raw_len : 0);
  info->rcode = p->rcode;
  info->n_answer = fits ? p->raw_count : 0;
  info->truncated = !fits;
  info->raw = true;
out:
  knot_pkt_free(r);
  return len;
}

/* write_response writes `p` into `out` (at most `limit` bytes) as the response to `q`; when the
 * records do not fit it sends header and question with TC (RFC 2181 9). Returns the length, or
 * 0 when not even the header and question fit. */
static size_t write_response(const knot_pkt_t *q, const struct plan *p, uint8_t *out, size_t limit,
                             struct dns_info *info) {
  knot_pkt_t *r = knot_pkt_new(out, (uint16_t) limit, NULL);
  knot_rrset_t opt;
  bool has_opt = false;
  size_t len = 0;
  knot_rrset_init_empty(&opt);
  if (r == NULL || reset_response(r, q) != KNOT_EOK) {
    info->dropped = true;
    info->why = "response buffer too small";
    goto out;
  }
  if (q->opt_rr != NULL) {
    /* RFC 6891 6.1.3: extended RCODE's upper 8 bits live in the OPT */
    uint8_t ext = (uint8_t) (p->rcode >> 4);
    if (knot_edns_init(&opt, UDP_MAX_PAYLOAD, ext, 0, NULL) == KNOT_EOK) {
      has_opt = knot_pkt_reserve(r, (uint16_t) knot_edns_wire_size(&opt)) == KNOT_EOK;
    }
  }
  bool truncated = p->truncate;
  int ret = knot_pkt_begin(r, KNOT_ANSWER);
  for (size_t i = 0; ret == KNOT_EOK && i < p->n_answer; i++) {
    /* the first answer is owned by the QNAME: point at the question */
    uint16_t hint = i == 0 ? KNOT_COMPR_HINT_QNAME : KNOT_COMPR_HINT_NONE;
    ret = knot_pkt_put(r, hint, p->answer[i], KNOT_PF_NOTRUNC);
  }
  if (ret == KNOT_EOK && p->authority != NULL) {
    ret = knot_pkt_begin(r, KNOT_AUTHORITY);
    if (ret == KNOT_EOK) {
      ret = knot_pkt_put(r, KNOT_COMPR_HINT_NONE, p->authority, KNOT_PF_NOTRUNC);
    }
  }
  if (ret != KNOT_EOK) {
    truncated = true;
    if (reset_response(r, q) != KNOT_EOK) {
      info->dropped = true;
      info->why = "response buffer too small";
      goto out;
    }
  }
  if (p->aa) {
    knot_wire_set_aa(r->wire); /* also when truncated: only the records did not fit */
  }
  if (p->ra) {
    knot_wire_set_ra(r->wire);
  }
  if (truncated) {
    knot_wire_set_tc(r->wire);
  }
  knot_wire_set_rcode(r->wire, (short) (p->rcode & 0xf));
  if (has_opt) {
    knot_pkt_reclaim(r, (uint16_t) knot_edns_wire_size(&opt));
    if (knot_pkt_begin(r, KNOT_ADDITIONAL) != KNOT_EOK ||
        knot_pkt_put(r, KNOT_COMPR_HINT_NONE, &opt, KNOT_PF_NOTRUNC) != KNOT_EOK) {
      info->dropped = true;
      info->why = "OPT does not fit";
      goto out;
    }
  }
  len = r->size;
  info->rcode = p->rcode;
  info->n_answer = knot_wire_get_ancount(r->wire);
  info->truncated = truncated;
out:
  knot_rrset_clear(&opt, NULL);
  knot_pkt_free(r);
  return len;
}

/* response_limit is how many bytes the response may take (RFC 6891 6.2.5, RFC 7766 8). */
static size_t response_limit(const knot_pkt_t *q, size_t out_cap, bool over_tcp) {
  size_t limit = KNOT_WIRE_MAX_PKTSIZE;
  if (!over_tcp) {
    limit = UDP_MIN_PAYLOAD;
    if (q->opt_rr != NULL) {
      uint16_t advertised = knot_edns_get_payload(q->opt_rr);
      limit = advertised > UDP_MIN_PAYLOAD ? advertised : UDP_MIN_PAYLOAD;
      limit = limit < UDP_MAX_PAYLOAD ? limit : UDP_MAX_PAYLOAD;
    }
  }
  return limit < out_cap ? limit : out_cap;
}

static void note_qname(const knot_pkt_t *q, struct dns_info *info) {
  const knot_dname_t *qname = knot_pkt_qname(q);
  if (qname == NULL || knot_dname_to_str(info->qname, qname, sizeof info->qname) == NULL) {
    info->qname[0] = '\0';
    return;
  }
  size_t n = strlen(info->qname);
  if (n > 1 && info->qname[n - 1] == '.') {
    info->qname[n - 1] = '\0'; /* the root stays "." */
  }
  info->qtype = knot_pkt_qtype(q);
}

/* parse_query parses `wire` into a new packet over it; on failure tells whether header and
 * question could still be read (then *out is that packet, with the question only). */
static int parse_query(uint8_t *wire, size_t len, knot_pkt_t **out, bool *question_ok) {
  *question_ok = false;
  knot_pkt_t *q = knot_pkt_new(wire, (uint16_t) len, NULL);
  if (q == NULL) {
    *out = NULL;
    return KNOT_ENOMEM;
  }
  int ret = knot_pkt_parse(q, 0);
  if (ret != KNOT_EOK) {
    knot_pkt_free(q);
    q = knot_pkt_new(wire, (uint16_t) len, NULL);
    if (q != NULL && knot_pkt_parse_question(q) == KNOT_EOK && q->qname_size > 0) {
      *question_ok = true;
    }
  } else {
    *question_ok = q->qname_size > 0;
  }
  *out = q;
  return ret;
}

size_t dns_answer(struct dns_zoneset *zs, const uint8_t *query, size_t query_len, uint8_t *out,
                  size_t out_cap, bool over_tcp, struct dns_info *info) {
  memset(info, 0, sizeof *info);
  if (query_len < KNOT_WIRE_HEADER_SIZE) {
    info->dropped = true;
    info->why = "shorter than a DNS header";
    return 0;
  }
  if (query_len > KNOT_WIRE_MAX_PKTSIZE) {
    info->dropped = true;
    info->why = "longer than a DNS message";
    return 0;
  }
  if (knot_wire_get_qr(query)) {
    info->dropped = true;
    info->why = "a response, not a query";
    return 0;
  }
  /* libknot parses in place and may rewrite (TSIG stripping): work on a copy */
  uint8_t *wire = malloc(query_len);
  knot_pkt_t *q = NULL;
  size_t len = 0;
  struct plan p = {.rcode = KNOT_RCODE_NOERROR};
  if (wire == NULL) {
    info->dropped = true;
    info->why = "out of memory";
    return 0;
  }
  memcpy(wire, query, query_len);
  bool question_ok = false;
  int ret = parse_query(wire, query_len, &q, &question_ok);
  if (q == NULL) {
    info->dropped = true;
    info->why = "out of memory";
    goto out;
  }
  if (question_ok) {
    note_qname(q, info);
  } else {
    q->qname_size = 0; /* the response echoes the header only */
  }
  if (knot_wire_get_opcode(q->wire) != KNOT_OPCODE_QUERY) {
    p.rcode = KNOT_RCODE_NOTIMPL; /* RFC 1035 4.1.1 */
    info->why = "opcode not implemented";
  } else if (!question_ok) {
    /* RFC 1035 4.1.1: the header could be read, so the client hears why instead of waiting for
     * its timeout; the response is the header alone (QDCOUNT 0), as knotd answers */
    p.rcode = KNOT_RCODE_FORMERR;
    info->why = ret != KNOT_EOK ? "malformed question" : "no question";
  } else if (ret != KNOT_EOK) {
    p.rcode = KNOT_RCODE_FORMERR;
    info->why = ret == KNOT_ETRAIL ? "trailing bytes after the message" : "malformed message";
  } else if (q->opt_rr != NULL && knot_edns_get_version(q->opt_rr) != 0) {
    p.rcode = KNOT_RCODE_BADVERS; /* RFC 6891 6.1.3 */
    info->why = "unsupported EDNS version";
  } else if (knot_pkt_qclass(q) != KNOT_CLASS_IN && knot_pkt_qclass(q) != KNOT_CLASS_ANY) {
    p.rcode = KNOT_RCODE_REFUSED;
  } else if (knot_pkt_qtype(q) == KNOT_RRTYPE_AXFR || knot_pkt_qtype(q) == KNOT_RRTYPE_IXFR) {
    p.rcode = KNOT_RCODE_REFUSED; /* no zone transfers from the lab */
  } else {
    resolve(zs, knot_pkt_qname(q), knot_pkt_qtype(q), over_tcp, &p);
  }
  info->rule = p.rule;
  info->wildcard = p.wildcard;
  p.ra = zs->overlay != NULL;
  if (p.chase != NULL && knot_dname_to_str(info->chase, p.chase, sizeof info->chase) == NULL) {
    info->chase[0] = '\0';
  }
  if (p.drop) {
    info->dropped = true;
    info->why = p.why;
    goto out;
  }
  if (p.raw != NULL) {
    len = write_raw(q, &p, out, response_limit(q, out_cap, over_tcp), info);
  } else {
    len = write_response(q, &p, out, response_limit(q, out_cap, over_tcp), info);
  }
out:
  knot_pkt_free(q);
  free(wire);
  free(p.raw_own);
  return len;
}
