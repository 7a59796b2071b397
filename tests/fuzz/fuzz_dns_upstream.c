/* tests/fuzz/fuzz_dns_upstream.c: libFuzzer target for the answers of dns.overlay's upstream
 * resolver (proxy/dns/dns_overlay_answer.c) — outside bytes the lab parses and rebuilds.
 *
 * The first byte picks the client's query (one forwarded as is, one of a removed record, one of
 * a removed CNAME, one an overlay wildcard covers, one the lab's CNAME chain leaves to the
 * upstream; over UDP or TCP), the rest is the upstream's answer to it. Nothing may crash, leak
 * or write past the buffer, and whatever is sent must parse as a DNS message with the client's
 * ID. Seeds: tests/fuzz/corpus/dns_upstream/ (real answers of a lab playing the upstream). */
#include "common/buf.h"
#include "proxy/dns/dns.h"
#include "proxy/dns/internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char SCENARIO[] =
    "name: overlay\n"
    "description: x\n"
    "domain: contoso.com\n"
    "dns:\n"
    "  overlay: { upstream: \"127.0.0.1:9\" }\n"
    "  records:\n"
    "    - { name: contoso.com, type: A, remove: true }\n"
    "    - { name: www.contoso.com, type: CNAME, remove: true }\n"
    "    - { name: autodiscover.contoso.com, type: A, address: 127.0.0.2 }\n"
    "    - { name: ext.contoso.com, type: CNAME, target: real.example.net }\n"
    "    - { name: \"*.wild.contoso.com\", type: A, address: 192.0.2.7 }\n";

static const struct {
  const char *name;
  uint16_t type;
} queries[] = {
    {"mail.contoso.com.", KNOT_RRTYPE_A}, {"contoso.com.", KNOT_RRTYPE_A},
    {"www.contoso.com.", KNOT_RRTYPE_A},  {"x.wild.contoso.com.", KNOT_RRTYPE_A},
    {"ext.contoso.com.", KNOT_RRTYPE_A},  {"alias.contoso.com.", KNOT_RRTYPE_MX},
};

static struct dns_zoneset *zoneset(void) {
  static struct dns_zoneset *zs;
  static struct scn *scn;
  if (zs == NULL) {
    char err[256];
    if (scn_load_string(&scn, "overlay.yaml", SCENARIO, strlen(SCENARIO), err, sizeof err) !=
        SCN_OK) {
      abort();
    }
    if (dns_zoneset_new(&zs, scn, NULL, err, sizeof err) != DNS_OK) {
      abort();
    }
  }
  return zs;
}

static size_t make_query(uint8_t *wire, size_t which, bool edns) {
  knot_pkt_t *q = knot_pkt_new(NULL, 512, NULL);
  knot_dname_t *qname = knot_dname_from_str_alloc(queries[which].name);
  knot_rrset_t opt;
  knot_rrset_init_empty(&opt);
  if (q == NULL || qname == NULL ||
      knot_pkt_put_question(q, qname, KNOT_CLASS_IN, queries[which].type) != KNOT_EOK) {
    abort();
  }
  knot_wire_set_id(q->wire, 0x5a5a);
  if (edns && (knot_edns_init(&opt, 1232, 0, 0, NULL) != KNOT_EOK ||
               knot_pkt_begin(q, KNOT_ADDITIONAL) != KNOT_EOK ||
               knot_pkt_put(q, KNOT_COMPR_HINT_NONE, &opt, 0) != KNOT_EOK)) {
    abort();
  }
  knot_rrset_clear(&opt, NULL);
  knot_dname_free(qname, NULL);
  size_t len = q->size;
  memcpy(wire, q->wire, len);
  knot_pkt_free(q);
  return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) {
    return 0;
  }
  struct dns_zoneset *zs = zoneset();
  size_t n = sizeof queries / sizeof queries[0];
  size_t which = (data[0] & 0x3f) % n;
  bool over_tcp = (data[0] & 0x40) != 0;
  bool edns = (data[0] & 0x80) != 0;
  uint8_t query[512];
  size_t query_len = make_query(query, which, edns);
  static uint8_t out[KNOT_WIRE_MAX_PKTSIZE];
  struct dns_info info;
  struct dns_overlay_job *job = NULL;
  dns__overlay_query(zs, query, query_len, out, sizeof out, over_tcp, &info, &job);
  if (job == NULL) {
    return 0;
  }
  size_t len = dns__overlay_finish(zs, job, data + 1, size - 1, out, sizeof out, &info);
  if (len > 0) {
    assert(len <= job->limit);
    assert(knot_wire_get_id(out) == 0x5a5a);
    knot_pkt_t *p = knot_pkt_new(out, (uint16_t) len, NULL);
    assert(p != NULL && knot_pkt_parse(p, 0) == KNOT_EOK);
    knot_pkt_free(p);
  }
  dns__overlay_job_free(job);
  dns_zoneset_reset_rules(zs);
  return 0;
}
