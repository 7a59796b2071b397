/* proxy/dns/dns_overlay.c: dns.overlay without sockets — the overlay built from the scenario,
 * which queries the scenario defines (the lab answers those) and what goes to the upstream
 * resolver for the others (docs/scenarios.md, "dns.overlay"); the client's answer is made from the
 * upstream's in dns_overlay_answer.c. libknot parses and builds every message. */
#include "proxy/dns/dns.h"

#include "common/buf.h"
#include "proxy/dns/internal.h"

#include <stdlib.h>
#include <string.h>

enum {
  UDP_MIN_PAYLOAD = 512,  /* RFC 1035 4.2.1 */
  UDP_MAX_PAYLOAD = 4096, /* what the lab advertises and sends at most (as dns_answer.c) */
};

const char *dns__overlay_name(enum dns_overlay_action a) {
  switch (a) {
    case DNS_OVERLAY_LAB: return "lab";
    case DNS_OVERLAY_FORWARD: return "forward";
    case DNS_OVERLAY_REMOVE: return "remove";
    case DNS_OVERLAY_WILDCARD: return "wildcard";
    case DNS_OVERLAY_CHASE: return "chase";
  }
  return "?";
}

/* ---- building the overlay from the scenario ---- */

/* parse_upstream reads "ADDR:PORT" or "[ADDR]:PORT" (as the scenario loader writes it). */
static bool parse_upstream(const char *text, struct sockaddr_storage *out) {
  char host[64];
  const char *colon = strrchr(text, ':');
  if (colon == NULL) {
    return false;
  }
  const char *start = text;
  size_t len = (size_t) (colon - text);
  if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
    start++;
    len -= 2;
  }
  uint32_t port = 0;
  if (len >= sizeof host || !parse_u32(colon + 1, 1, 65535, &port)) {
    return false;
  }
  memcpy(host, start, len);
  host[len] = 0;
  memset(out, 0, sizeof *out);
  return uv_ip4_addr(host, (int) port, (struct sockaddr_in *) out) == 0 ||
         uv_ip6_addr(host, (int) port, (struct sockaddr_in6 *) out) == 0;
}

/* has_address_or_alias: `name` (text) owns an A, AAAA or CNAME record in the zoneset. */
static bool has_address_or_alias(const struct dns_zoneset *zs, const char *name) {
  knot_dname_t *owner = knot_dname_from_str_alloc(name);
  if (owner == NULL) {
    return true; /* not a name the lab could answer for anyway */
  }
  knot_dname_to_lower(owner);
  bool has = dns__rrset_find(zs, owner, KNOT_RRTYPE_A) != NULL ||
             dns__rrset_find(zs, owner, KNOT_RRTYPE_AAAA) != NULL ||
             dns__rrset_find(zs, owner, KNOT_RRTYPE_CNAME) != NULL;
  knot_dname_free(owner, NULL);
  return has;
}

bool dns__overlay_init(struct dns_zoneset *zs, const struct scn *scn, const char *const *host_addrs,
                       char *err, size_t err_size) {
  struct dns_overlay *o = xcalloc(1, sizeof *o);
  zs->overlay = o;
  o->timeout_ms = scn->overlay.timeout_ms > 0 ? scn->overlay.timeout_ms : 2000;
  if (scn->overlay.upstream == NULL || !parse_upstream(scn->overlay.upstream, &o->upstream) ||
      !buf_fmt(o->upstream_text, sizeof o->upstream_text, "%s", scn->overlay.upstream)) {
    buf_fmt(err, err_size, "dns: overlay upstream '%s' is not ADDR:PORT",
            scn->overlay.upstream != NULL ? scn->overlay.upstream : "");
    return false;
  }
  o->removals = xcalloc(scn->overlay.n_removals + 1, sizeof *o->removals);
  for (size_t i = 0; i < scn->overlay.n_removals; i++) {
    const struct scn_dns_removal *r = &scn->overlay.removals[i];
    knot_dname_t *name = knot_dname_from_str_alloc(r->name);
    if (name == NULL) {
      buf_fmt(err, err_size, "dns: removed record name '%s' is not a valid DNS name", r->name);
      return false;
    }
    knot_dname_to_lower(name);
    o->removals[o->n_removals++] = (struct dns_removal){.name = name, .type = r->type};
  }
  /* A host the overlay intercepts answers at its names: those no record resolves get the host's
   * lab address, so that a client's connection to them reaches the lab, not the real server. */
  for (size_t i = 0; host_addrs != NULL && i < scn->n_hosts; i++) {
    const struct scn_host *h = &scn->hosts[i];
    for (size_t k = 0; host_addrs[i] != NULL && k < h->n_names; k++) {
      const char *name = h->names[k];
      if (strncmp(name, "*.", 2) == 0 || has_address_or_alias(zs, name)) {
        continue; /* a certificate's wildcard is no name to answer for */
      }
      if (!dns__add_address(zs, name, host_addrs[i], err, err_size)) {
        return false;
      }
    }
  }
  return true;
}

void dns__overlay_free(struct dns_overlay *o) {
  if (o == NULL) {
    return;
  }
  for (size_t i = 0; i < o->n_removals; i++) {
    knot_dname_free(o->removals[i].name, NULL);
  }
  free(o->removals);
  free(o);
}

/* ---- the decision ---- */

/* defines says whether the overlay's records answer (name, qtype). The zones' SOA are the lab's
 * own (for its negative answers), never the scenario's. */
static bool defines(const struct dns_zoneset *zs, const knot_dname_t *name, uint16_t qtype) {
  if (qtype == KNOT_RRTYPE_SOA) {
    return false;
  }
  if (qtype == KNOT_RRTYPE_ANY) {
    for (size_t i = 0; i < zs->n_rrsets; i++) {
      if (zs->rrsets[i].type != KNOT_RRTYPE_SOA && knot_dname_is_equal(zs->rrsets[i].owner, name)) {
        return true;
      }
    }
    return false;
  }
  if (dns__rrset_find(zs, name, qtype) != NULL ||
      dns__rrset_find(zs, name, KNOT_RRTYPE_CNAME) != NULL) {
    return true; /* a CNAME is the name's only record (RFC 1034 3.6.2): it answers every type */
  }
  /* A name the overlay gives an address has only the overlay's addresses: the real AAAA of an
   * intercepted name would send an IPv6 client around the lab. */
  return (qtype == KNOT_RRTYPE_A || qtype == KNOT_RRTYPE_AAAA) &&
         (dns__rrset_find(zs, name, KNOT_RRTYPE_A) != NULL ||
          dns__rrset_find(zs, name, KNOT_RRTYPE_AAAA) != NULL);
}

enum dns_overlay_action dns__overlay_decide(struct dns_zoneset *zs, const knot_dname_t *qname,
                                            uint16_t qtype, uint16_t *out_removed) {
  const struct dns_rule *rule = dns__rule_find(zs, qname, qtype);
  if ((rule != NULL && rule->behaviour != SCN_DNS_ANSWER) || defines(zs, qname, qtype) ||
      dns__raw_has(zs, qname, qtype)) {
    return DNS_OVERLAY_LAB;
  }
  const struct dns_overlay *o = zs->overlay;
  const struct dns_removal *removal = NULL;
  for (size_t i = 0; o != NULL && qtype != KNOT_RRTYPE_ANY && i < o->n_removals; i++) {
    const struct dns_removal *r = &o->removals[i];
    if (knot_dname_is_equal(r->name, qname) && (r->type == qtype || r->type == KNOT_RRTYPE_CNAME) &&
        (removal == NULL || r->type == qtype)) {
      removal = r; /* the very type first, then a removed CNAME (which held every type) */
    }
  }
  if (removal != NULL) {
    if (out_removed != NULL) {
      *out_removed = removal->type;
    }
    return DNS_OVERLAY_REMOVE;
  }
  const struct dns_zone *zone = dns__zone_find(zs, qname);
  knot_dname_storage_t wild;
  if (zone != NULL && dns__wildcard_for(zs, zone, qname, wild) && defines(zs, wild, qtype)) {
    return DNS_OVERLAY_WILDCARD;
  }
  return DNS_OVERLAY_FORWARD;
}

/* ---- messages ---- */

void dns__msg_free(struct dns_msg *m) {
  knot_pkt_free(m->pkt);
  free(m->wire);
  m->pkt = NULL;
  m->wire = NULL;
}

bool dns__msg_parse(struct dns_msg *m, const uint8_t *bytes, size_t len) {
  m->wire = NULL;
  m->pkt = NULL;
  if (len < KNOT_WIRE_HEADER_SIZE || len > KNOT_WIRE_MAX_PKTSIZE) {
    return false;
  }
  m->wire = malloc(len);
  if (m->wire == NULL) {
    return false;
  }
  memcpy(m->wire, bytes, len);
  m->pkt = knot_pkt_new(m->wire, (uint16_t) len, NULL);
  if (m->pkt == NULL || knot_pkt_parse(m->pkt, 0) != KNOT_EOK || m->pkt->qname_size == 0) {
    dns__msg_free(m);
    return false;
  }
  return true;
}

void dns__note_question(const knot_pkt_t *q, struct dns_info *info) {
  const knot_dname_t *qname = knot_pkt_qname(q);
  if (qname == NULL || knot_dname_to_str(info->qname, qname, sizeof info->qname) == NULL) {
    info->qname[0] = '\0';
    return;
  }
  size_t n = strlen(info->qname);
  if (n > 1 && info->qname[n - 1] == '.') {
    info->qname[n - 1] = '\0';
  }
  str_lower(info->qname);
  info->qtype = knot_pkt_qtype(q);
}

size_t dns__client_limit(const knot_pkt_t *q, bool over_tcp) {
  if (over_tcp) {
    return KNOT_WIRE_MAX_PKTSIZE;
  }
  if (q->opt_rr == NULL) {
    return UDP_MIN_PAYLOAD;
  }
  size_t advertised = knot_edns_get_payload(q->opt_rr);
  advertised = advertised > UDP_MIN_PAYLOAD ? advertised : UDP_MIN_PAYLOAD;
  return advertised < UDP_MAX_PAYLOAD ? advertised : UDP_MAX_PAYLOAD;
}

/* forwardable: a query the lab may hand to a resolver — a well-formed QUERY of class IN, EDNS
 * version 0 if any, no zone transfer. Anything else dns_answer answers (FORMERR, NOTIMP, ...). */
static bool forwardable(const knot_pkt_t *q) {
  uint16_t qtype = knot_pkt_qtype(q);
  return knot_wire_get_opcode(q->wire) == KNOT_OPCODE_QUERY &&
         knot_pkt_qclass(q) == KNOT_CLASS_IN && qtype != KNOT_RRTYPE_AXFR &&
         qtype != KNOT_RRTYPE_IXFR && (q->opt_rr == NULL || knot_edns_get_version(q->opt_rr) == 0);
}

/* build_chase writes the query a stub would send for (target, qtype): RD, the client's CD and DO,
 * and an OPT when the client had one. NULL when it cannot be built. */
static uint8_t *build_chase(const knot_pkt_t *q, const knot_dname_t *target, uint16_t qtype,
                            size_t *out_len) {
  knot_pkt_t *c = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
  knot_rrset_t opt;
  knot_rrset_init_empty(&opt);
  uint8_t *bytes = NULL;
  if (c == NULL || knot_pkt_put_question(c, target, KNOT_CLASS_IN, qtype) != KNOT_EOK) {
    goto out;
  }
  knot_wire_set_rd(c->wire);
  if (knot_wire_get_cd(q->wire)) {
    knot_wire_set_cd(c->wire);
  }
  if (q->opt_rr != NULL) {
    if (knot_edns_init(&opt, knot_edns_get_payload(q->opt_rr), 0, 0, NULL) != KNOT_EOK) {
      goto out;
    }
    if (knot_edns_do(q->opt_rr)) {
      knot_edns_set_do(&opt);
    }
    if (knot_pkt_begin(c, KNOT_ADDITIONAL) != KNOT_EOK ||
        knot_pkt_put(c, KNOT_COMPR_HINT_NONE, &opt, 0) != KNOT_EOK) {
      goto out;
    }
  }
  bytes = malloc(c->size);
  if (bytes != NULL) {
    memcpy(bytes, c->wire, c->size);
    *out_len = c->size;
  }
out:
  knot_rrset_clear(&opt, NULL);
  knot_pkt_free(c);
  return bytes;
}

void dns__overlay_job_free(struct dns_overlay_job *job) {
  if (job == NULL) {
    return;
  }
  free(job->query);
  free(job->ask);
  free(job->lab);
  free(job);
}

static uint8_t *copy_bytes(const uint8_t *p, size_t len) {
  uint8_t *c = xcalloc(1, len > 0 ? len : 1);
  memcpy(c, p, len);
  return c;
}

size_t dns__overlay_query(struct dns_zoneset *zs, const uint8_t *query, size_t query_len,
                          uint8_t *out, size_t out_cap, bool over_tcp, struct dns_info *info,
                          struct dns_overlay_job **out_job) {
  *out_job = NULL;
  struct dns_msg q = {0};
  if (zs->overlay == NULL || query_len < KNOT_WIRE_HEADER_SIZE || knot_wire_get_qr(query) ||
      !dns__msg_parse(&q, query, query_len) || !forwardable(q.pkt)) {
    dns__msg_free(&q);
    size_t len = dns_answer(zs, query, query_len, out, out_cap, over_tcp, info);
    info->overlay = zs->overlay != NULL ? dns__overlay_name(DNS_OVERLAY_LAB) : NULL;
    return len;
  }
  knot_dname_storage_t qname;
  uint16_t qtype = knot_pkt_qtype(q.pkt);
  uint16_t removed = 0;
  if (knot_dname_store(qname, knot_pkt_qname(q.pkt)) == 0) {
    dns__msg_free(&q);
    return dns_answer(zs, query, query_len, out, out_cap, over_tcp, info);
  }
  knot_dname_to_lower(qname);
  enum dns_overlay_action action = dns__overlay_decide(zs, qname, qtype, &removed);
  struct dns_overlay_job *job = NULL;
  size_t len = 0;
  if (action == DNS_OVERLAY_LAB) {
    len = dns_answer(zs, query, query_len, out, out_cap, over_tcp, info);
    info->overlay = dns__overlay_name(DNS_OVERLAY_LAB);
    knot_dname_t *target = info->chase[0] != '\0' ? knot_dname_from_str_alloc(info->chase) : NULL;
    if (len == 0 || target == NULL || info->truncated) {
      knot_dname_free(target, NULL); /* a truncated chain is retried over TCP in full */
      dns__msg_free(&q);
      return len;
    }
    knot_dname_to_lower(target);
    job = xcalloc(1, sizeof *job);
    job->action = DNS_OVERLAY_CHASE;
    job->target = dns__overlay_decide(zs, target, qtype, &job->removed);
    if (job->target != DNS_OVERLAY_REMOVE) {
      job->target = DNS_OVERLAY_FORWARD; /* a wildcard on the target: the upstream's answer */
    }
    job->lab = copy_bytes(out, len);
    job->lab_len = len;
    job->ask = build_chase(q.pkt, target, qtype, &job->ask_len);
    knot_dname_free(target, NULL);
    if (job->ask == NULL) {
      dns__overlay_job_free(job);
      dns__msg_free(&q);
      return len; /* the CNAME alone, as without an overlay */
    }
  } else {
    memset(info, 0, sizeof *info);
    dns__note_question(q.pkt, info);
    job = xcalloc(1, sizeof *job);
    job->action = action;
    job->removed = removed;
    job->ask = copy_bytes(query, query_len);
    job->ask_len = query_len;
  }
  info->overlay = dns__overlay_name(job->action);
  job->over_tcp = over_tcp;
  job->limit = dns__client_limit(q.pkt, over_tcp);
  job->query = copy_bytes(query, query_len);
  job->query_len = query_len;
  *out_job = job;
  dns__msg_free(&q);
  return 0;
}
