/* proxy/dns/dns_overlay_answer.c: the client's answer from what the overlay's upstream resolver
 * said — relayed with the client's ID when the scenario changes nothing in it; otherwise rebuilt
 * with libknot: a removed record taken out (NODATA, or NXDOMAIN for a removed CNAME), a CNAME
 * chain cut where it reaches a name the scenario defines and finished from the lab's records,
 * the lab's own chain completed by the upstream, an overlay wildcard given way to a real name
 * (docs/scenarios.md, "dns.overlay"). The upstream's bytes are outside input: every message is
 * parsed by libknot, and the fuzz target fuzz_dns_upstream drives this file. */
#include "common/buf.h"
#include "proxy/dns/dns.h"
#include "proxy/dns/internal.h"

#include <stdlib.h>
#include <string.h>

enum {
  UDP_MAX_PAYLOAD = 4096, /* what the lab advertises (as dns_answer.c) */
  MAX_CHAIN = 16,         /* CNAMEs of the upstream's answer followed */
  MAX_RR = 64,            /* RRsets of one section the lab rebuilds; more are left out */
};

/* What the client is told, before it is written: RRsets borrowed from parsed messages. */
struct reply {
  uint16_t rcode;
  bool tc; /* header and question only, with TC: the client asks again over TCP */
  const knot_rrset_t *an[MAX_RR];
  size_t n_an;
  const knot_rrset_t *ns[MAX_RR];
  size_t n_ns;
};

static void add_rr(const knot_rrset_t **list, size_t *n, const knot_rrset_t *rr) {
  if (*n < MAX_RR && rr != NULL) {
    list[(*n)++] = rr;
  }
}

static void add_section(const knot_rrset_t **list, size_t *n, const knot_pktsection_t *sec) {
  for (uint16_t i = 0; sec != NULL && i < sec->count; i++) {
    add_rr(list, n, knot_pkt_rr(sec, i));
  }
}

static int reset_response(knot_pkt_t *r, const knot_pkt_t *q) {
  int ret = knot_pkt_init_response(r, q);
  if (ret == KNOT_EOK) {
    knot_wire_set_ancount(r->wire, 0);
    knot_wire_set_nscount(r->wire, 0);
    knot_wire_set_arcount(r->wire, 0);
    knot_wire_set_ra(r->wire); /* the lab resolves through its upstream */
    knot_wire_clear_aa(r->wire);
  }
  return ret;
}

static int put_all(knot_pkt_t *r, const knot_rrset_t *const *list, size_t n) {
  int ret = KNOT_EOK;
  for (size_t i = 0; ret == KNOT_EOK && i < n; i++) {
    ret = knot_pkt_put(r, KNOT_COMPR_HINT_NONE, list[i], KNOT_PF_NOTRUNC);
  }
  return ret;
}

/* write_reply writes `rp` as the response to `q` into out (at most limit bytes); records that do
 * not fit make it header, question and TC (RFC 2181 9). Returns the length or 0. */
static size_t write_reply(const knot_pkt_t *q, const struct reply *rp, uint8_t *out, size_t limit,
                          struct dns_info *info) {
  knot_pkt_t *r = knot_pkt_new(out, (uint16_t) limit, NULL);
  knot_rrset_t opt;
  knot_rrset_init_empty(&opt);
  bool has_opt = false;
  size_t len = 0;
  if (r == NULL || reset_response(r, q) != KNOT_EOK) {
    goto out;
  }
  if (q->opt_rr != NULL && knot_edns_init(&opt, UDP_MAX_PAYLOAD, 0, 0, NULL) == KNOT_EOK) {
    has_opt = knot_pkt_reserve(r, (uint16_t) knot_edns_wire_size(&opt)) == KNOT_EOK;
  }
  int ret = knot_pkt_begin(r, KNOT_ANSWER);
  if (ret == KNOT_EOK) {
    ret = put_all(r, rp->an, rp->n_an);
  }
  if (ret == KNOT_EOK && rp->n_ns > 0) {
    ret = knot_pkt_begin(r, KNOT_AUTHORITY);
    if (ret == KNOT_EOK) {
      ret = put_all(r, rp->ns, rp->n_ns);
    }
  }
  bool truncated = rp->tc;
  if (truncated) {
    knot_wire_set_tc(r->wire);
  } else if (ret != KNOT_EOK) {
    truncated = true;
    if (reset_response(r, q) != KNOT_EOK) {
      goto out;
    }
    knot_wire_set_tc(r->wire);
  }
  knot_wire_set_rcode(r->wire, (short) (rp->rcode & 0xf));
  if (has_opt) {
    knot_pkt_reclaim(r, (uint16_t) knot_edns_wire_size(&opt));
    if (knot_pkt_begin(r, KNOT_ADDITIONAL) != KNOT_EOK ||
        knot_pkt_put(r, KNOT_COMPR_HINT_NONE, &opt, KNOT_PF_NOTRUNC) != KNOT_EOK) {
      goto out;
    }
  }
  len = r->size;
  info->rcode = rp->rcode;
  info->n_answer = knot_wire_get_ancount(r->wire);
  info->truncated = truncated;
out:
  if (len == 0) {
    info->dropped = true;
    info->why = "response buffer too small";
  }
  knot_rrset_clear(&opt, NULL);
  knot_pkt_free(r);
  return len;
}

/* relay copies the upstream's answer with the client's ID; one larger than the client takes
 * becomes header, question and TC. */
static size_t relay(const knot_pkt_t *q, const uint8_t *answer, size_t len, uint8_t *out,
                    size_t limit, struct dns_info *info) {
  if (len > limit) {
    struct reply rp = {.rcode = knot_wire_get_rcode(answer), .tc = true}; /* RFC 2181 9 */
    return write_reply(q, &rp, out, limit, info);
  }
  memcpy(out, answer, len);
  knot_wire_set_id(out, knot_wire_get_id(q->wire));
  /* A compression pointer into the header (the ID just changed under it) can make the bytes
   * mean something else: relay only what still parses, else the upstream failed us. */
  struct dns_msg check;
  if (!dns__msg_parse(&check, out, len)) {
    struct reply rp = {.rcode = KNOT_RCODE_SERVFAIL};
    return write_reply(q, &rp, out, limit, info);
  }
  dns__msg_free(&check);
  info->rcode = knot_wire_get_rcode(out);
  info->n_answer = knot_wire_get_ancount(out);
  info->truncated = knot_wire_get_tc(out) != 0;
  return len;
}

/* find_rr returns the RRset of `type` and class IN owned by `name` in the answer section of `u`,
 * or NULL. */
static const knot_rrset_t *find_rr(const knot_pkt_t *u, const knot_dname_t *name, uint16_t type) {
  const knot_pktsection_t *an = knot_pkt_section(u, KNOT_ANSWER);
  for (uint16_t i = 0; i < an->count; i++) {
    const knot_rrset_t *rr = knot_pkt_rr(an, i);
    if (rr->type == type && rr->rclass == KNOT_CLASS_IN &&
        knot_dname_is_case_equal(rr->owner, name)) {
      return rr;
    }
  }
  return NULL;
}

/* cname_target returns the target of a CNAME RRset from the upstream, or NULL when its RDATA is
 * not one whole name (libknot checks the RDATA of known classes only: this is outside input). */
static const knot_dname_t *cname_target(const knot_rrset_t *cname) {
  if (cname == NULL || cname->rrs.count == 0) {
    return NULL;
  }
  const knot_rdata_t *rd = cname->rrs.rdata;
  if (knot_dname_wire_check(rd->data, rd->data + rd->len, NULL) != (int) rd->len) {
    return NULL;
  }
  return knot_cname_name(rd);
}

static const knot_rrset_t *zone_soa(const struct dns_zoneset *zs, const knot_dname_t *name) {
  const struct dns_zone *zone = dns__zone_find(zs, name);
  return zone != NULL ? &zs->rrsets[zone->soa_index] : NULL;
}

/* removed_answer sets the RCODE and authority of an answer for `name` whose `removed` record the
 * overlay took away: a removed CNAME was all its name held, so the name is gone unless the
 * overlay gives it records (NXDOMAIN); a record of another type leaves the name's others
 * (NODATA). Either way with the lab's SOA for the zone (RFC 2308 §3). */
static void removed_answer(const struct dns_zoneset *zs, const knot_dname_t *name, uint16_t removed,
                           struct reply *rp) {
  bool exists = removed != KNOT_RRTYPE_CNAME || dns__name_exists(zs, name) ||
                dns__name_has_children(zs, name);
  rp->rcode = exists ? KNOT_RCODE_NOERROR : KNOT_RCODE_NXDOMAIN;
  rp->n_ns = 0;
  add_rr(rp->ns, &rp->n_ns, zone_soa(zs, name));
}

/* removal_applies: the upstream's answer holds the record the overlay removes at `name`. */
static bool removal_applies(const knot_pkt_t *u, const knot_dname_t *name, uint16_t removed) {
  uint16_t rcode = knot_wire_get_rcode(u->wire);
  return (rcode == KNOT_RCODE_NOERROR || rcode == KNOT_RCODE_NXDOMAIN) &&
         find_rr(u, name, removed) != NULL;
}

/* lab_answer asks the lab's records for (name, qtype), as a client would (over TCP: no size
 * limit), into `m`; false when the lab gives no message. */
static bool lab_answer(struct dns_zoneset *zs, const knot_dname_t *name, uint16_t qtype,
                       struct dns_msg *m) {
  knot_pkt_t *q = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
  uint8_t *out = malloc(KNOT_WIRE_MAX_PKTSIZE);
  bool ok = false;
  if (q != NULL && out != NULL && knot_pkt_put_question(q, name, KNOT_CLASS_IN, qtype) == 0) {
    struct dns_info info;
    size_t len = dns_answer(zs, q->wire, q->size, out, KNOT_WIRE_MAX_PKTSIZE, true, &info);
    ok = len > 0 && dns__msg_parse(m, out, len);
  }
  free(out);
  knot_pkt_free(q);
  return ok;
}

static bool in_chain(const knot_dname_t *const *chain, size_t n, const knot_dname_t *name) {
  for (size_t i = 0; i < n; i++) {
    if (knot_dname_is_case_equal(chain[i], name)) {
      return true;
    }
  }
  return false;
}

/* splice follows the CNAME chain of the upstream's answer `u` from `name`. When it reaches a name
 * the overlay defines, or one whose removed record the upstream still has, the answer is cut
 * there: the upstream's records up to that CNAME, then the lab's answer for the name (kept alive
 * in `lab`) or the removal's. Returns false (rp untouched) when the overlay has no say. */
static bool splice(struct dns_zoneset *zs, const knot_pkt_t *u, const knot_dname_t *name,
                   uint16_t qtype, struct reply *rp, struct dns_msg *lab) {
  const knot_dname_t *chain[MAX_CHAIN + 1] = {name};
  size_t n = 1;
  const knot_dname_t *take = NULL;
  enum dns_overlay_action action = DNS_OVERLAY_FORWARD;
  uint16_t removed = 0;
  while (qtype != KNOT_RRTYPE_CNAME && n <= MAX_CHAIN && take == NULL) {
    const knot_dname_t *target = cname_target(find_rr(u, chain[n - 1], KNOT_RRTYPE_CNAME));
    if (target == NULL || in_chain(chain, n, target)) {
      break; /* a loop: the upstream's answer as it is */
    }
    knot_dname_storage_t lower;
    if (knot_dname_store(lower, target) == 0) {
      break;
    }
    knot_dname_to_lower(lower);
    action = dns__overlay_decide(zs, lower, qtype, &removed);
    if (action == DNS_OVERLAY_LAB ||
        (action == DNS_OVERLAY_REMOVE && removal_applies(u, target, removed))) {
      take = target;
    } else {
      chain[n++] = target;
    }
  }
  if (take == NULL) {
    return false;
  }
  const knot_pktsection_t *an = knot_pkt_section(u, KNOT_ANSWER);
  for (uint16_t i = 0; i < an->count; i++) {
    const knot_rrset_t *rr = knot_pkt_rr(an, i);
    if (in_chain(chain, n, rr->owner)) {
      add_rr(rp->an, &rp->n_an, rr); /* the CNAMEs up to `take`, with their signatures */
    }
  }
  knot_dname_storage_t lower;
  if (knot_dname_store(lower, take) == 0) {
    return false;
  }
  knot_dname_to_lower(lower);
  if (action == DNS_OVERLAY_REMOVE) {
    removed_answer(zs, lower, removed, rp);
    return true;
  }
  if (!lab_answer(zs, lower, qtype, lab)) {
    rp->rcode = KNOT_RCODE_SERVFAIL;
    rp->n_an = 0;
    return true;
  }
  rp->rcode = knot_wire_get_rcode(lab->wire); /* RFC 6604 §3: the last name's */
  add_section(rp->an, &rp->n_an, knot_pkt_section(lab->pkt, KNOT_ANSWER));
  add_section(rp->ns, &rp->n_ns, knot_pkt_section(lab->pkt, KNOT_AUTHORITY));
  return true;
}

/* upstream_rest fills rp with the upstream's answer for `name` onwards: spliced where the
 * overlay has a say, else its answer and authority sections and its RCODE. */
static void upstream_rest(struct dns_zoneset *zs, const knot_pkt_t *u, const knot_dname_t *name,
                          uint16_t qtype, struct reply *rp, struct dns_msg *lab) {
  if (splice(zs, u, name, qtype, rp, lab)) {
    return;
  }
  rp->rcode = knot_wire_get_rcode(u->wire);
  add_section(rp->an, &rp->n_an, knot_pkt_section(u, KNOT_ANSWER));
  add_section(rp->ns, &rp->n_ns, knot_pkt_section(u, KNOT_AUTHORITY));
}

/* relay_or_splice answers with the upstream's bytes when the overlay changes nothing in them,
 * else with them rebuilt. */
static size_t relay_or_splice(struct dns_zoneset *zs, const knot_pkt_t *q, const struct dns_msg *u,
                              const uint8_t *answer, size_t answer_len, uint8_t *out, size_t limit,
                              struct dns_info *info) {
  struct reply rp = {.rcode = KNOT_RCODE_SERVFAIL};
  struct dns_msg lab = {0};
  size_t len = 0;
  if (splice(zs, u->pkt, knot_pkt_qname(q), knot_pkt_qtype(q), &rp, &lab)) {
    len = write_reply(q, &rp, out, limit, info);
  } else {
    len = relay(q, answer, answer_len, out, limit, info);
  }
  dns__msg_free(&lab);
  return len;
}

size_t dns__overlay_finish(struct dns_zoneset *zs, const struct dns_overlay_job *job,
                           const uint8_t *answer, size_t answer_len, uint8_t *out, size_t out_cap,
                           struct dns_info *info) {
  memset(info, 0, sizeof *info);
  info->overlay = dns__overlay_name(job->action);
  struct dns_msg q = {0};
  struct dns_msg u = {0};
  struct dns_msg chain = {0};
  struct dns_msg lab = {0};
  struct reply rp = {.rcode = KNOT_RCODE_SERVFAIL};
  size_t len = 0;
  if (!dns__msg_parse(&q, job->query, job->query_len)) {
    info->dropped = true;
    info->why = "the query cannot be read again";
    return 0;
  }
  dns__note_question(q.pkt, info);
  const knot_dname_t *qname = knot_pkt_qname(q.pkt);
  uint16_t qtype = knot_pkt_qtype(q.pkt);
  size_t limit = job->limit < out_cap ? job->limit : out_cap;
  if (answer == NULL) {
    info->why = "upstream failed";
    len = write_reply(q.pkt, &rp, out, limit, info);
    goto out;
  }
  if (!dns__msg_parse(&u, answer, answer_len)) {
    info->why = "malformed answer from the upstream";
    len = write_reply(q.pkt, &rp, out, limit, info);
    goto out;
  }
  uint16_t urcode = knot_wire_get_rcode(u.wire);
  switch (job->action) {
    case DNS_OVERLAY_LAB:
    case DNS_OVERLAY_FORWARD:
      len = relay_or_splice(zs, q.pkt, &u, answer, answer_len, out, limit, info);
      break;
    case DNS_OVERLAY_WILDCARD:
      if (urcode == KNOT_RCODE_NXDOMAIN) {
        /* the name is not real: the overlay's wildcard answers it (RFC 4592 4.1) */
        len = dns_answer(zs, job->query, job->query_len, out, limit, job->over_tcp, info);
        info->overlay = dns__overlay_name(DNS_OVERLAY_WILDCARD);
      } else {
        len = relay_or_splice(zs, q.pkt, &u, answer, answer_len, out, limit, info);
      }
      break;
    case DNS_OVERLAY_REMOVE:
      if (removal_applies(u.pkt, qname, job->removed)) {
        removed_answer(zs, qname, job->removed, &rp);
        len = write_reply(q.pkt, &rp, out, limit, info);
      } else {
        len = relay_or_splice(zs, q.pkt, &u, answer, answer_len, out, limit, info);
      }
      break;
    case DNS_OVERLAY_CHASE:
      if (!dns__msg_parse(&chain, job->lab, job->lab_len) ||
          (urcode != KNOT_RCODE_NOERROR && urcode != KNOT_RCODE_NXDOMAIN)) {
        info->why = "the upstream could not answer for the CNAME's target";
        len = write_reply(q.pkt, &rp, out, limit, info);
        break;
      }
      rp.n_an = 0;
      add_section(rp.an, &rp.n_an, knot_pkt_section(chain.pkt, KNOT_ANSWER));
      if (job->target == DNS_OVERLAY_REMOVE &&
          removal_applies(u.pkt, knot_pkt_qname(u.pkt), job->removed)) {
        removed_answer(zs, knot_pkt_qname(u.pkt), job->removed, &rp);
      } else {
        upstream_rest(zs, u.pkt, knot_pkt_qname(u.pkt), qtype, &rp, &lab);
      }
      len = write_reply(q.pkt, &rp, out, limit, info);
      break;
  }
out:
  dns__msg_free(&lab);
  dns__msg_free(&chain);
  dns__msg_free(&u);
  dns__msg_free(&q);
  return len;
}
