/* tests/fuzz/fuzz_dns_answer.c: libFuzzer target for the lab DNS answer builder (proxy/dns).
 *
 * Any bytes, as a UDP and as a TCP query: nothing may crash, leak or answer past the buffer, and
 * whatever is sent must parse as a DNS message that echoes the query's ID. Seeds:
 * tests/fuzz/corpus/dns_answer/ (queries for the founding scenario's names, its wildcards and
 * its rules). Rule counts (first_n) start again with each input, so that an input's outcome
 * does not depend on the ones before it. An answer the scenario gives as bytes (a raw rule, a
 * record given as rdata_hex) is malformed on purpose: only its header is checked. */
#include "common/buf.h"
#include "proxy/dns/dns.h"

#include <libknot/libknot.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The founding scenario's DNS, plus a loop, wildcards, a rule of each kind (some by type, some
 * for the first queries only) and a large TXT set. */
static struct dns_zoneset *zoneset(void) {
  static struct dns_zoneset *zs;
  if (zs != NULL) {
    return zs;
  }
  static char *names[] = {"contoso.com"};
  static struct scn_host hosts[] = {{.id = "www", .names = names, .n_names = 1}, {.id = "mail"}};
  static const char *const addrs[] = {"127.0.0.2", "fd00::3"};
  static struct scn_record records[29] = {
      {.name = "contoso.com", .type = KNOT_RRTYPE_A, .ttl = 300, .host = "www"},
      {.name = "www.contoso.com", .type = KNOT_RRTYPE_CNAME, .target = "contoso.com"},
      {.name = "autodiscover.contoso.com", .type = KNOT_RRTYPE_AAAA, .host = "mail"},
      {.name = "_autodiscover._tcp.contoso.com",
       .type = KNOT_RRTYPE_SRV,
       .target = "autodiscover.contoso.com",
       .port = 443},
      {.name = "contoso.com", .type = KNOT_RRTYPE_MX, .target = "mail.contoso.com"},
      {.name = "a.contoso.com", .type = KNOT_RRTYPE_CNAME, .target = "b.contoso.com"},
      {.name = "b.contoso.com", .type = KNOT_RRTYPE_CNAME, .target = "a.contoso.com"},
      {.name = "x.fabrikam.com", .type = KNOT_RRTYPE_CNAME, .target = "gone.contoso.com"},
      {.name = "*.contoso.com", .type = KNOT_RRTYPE_A, .address = "10.0.0.9"},
      {.name = "*.contoso.com", .type = KNOT_RRTYPE_TXT, .text = "wild"},
      {.name = "*.srv.contoso.com", .type = KNOT_RRTYPE_SRV, .target = "contoso.com", .port = 443},
      {.name = "*.alias.contoso.com", .type = KNOT_RRTYPE_CNAME, .target = "tc.contoso.com"},
      {.name = "a.ent.contoso.com", .type = KNOT_RRTYPE_A, .address = "10.0.0.8"},
  };
  static struct scn_dns_rule rules[] = {
      {.name = "gone.contoso.com", .behaviour = SCN_DNS_NXDOMAIN},
      {.name = "slow.contoso.com", .behaviour = SCN_DNS_TIMEOUT},
      {.name = "bad.contoso.com", .behaviour = SCN_DNS_SERVFAIL},
      {.name = "empty.contoso.com", .behaviour = SCN_DNS_NODATA},
      {.name = "no.contoso.com", .type = KNOT_RRTYPE_A, .behaviour = SCN_DNS_REFUSED},
      {.name = "tc.contoso.com", .type = KNOT_RRTYPE_A, .behaviour = SCN_DNS_TRUNCATE},
      {.name = "contoso.com", .type = KNOT_RRTYPE_MX, .behaviour = SCN_DNS_SERVFAIL, .first_n = 2},
      {.name = "contoso.com", .behaviour = SCN_DNS_NXDOMAIN, .first_n = 1},
      {.name = "raw.contoso.com",
       .behaviour = SCN_DNS_RAW,
       .raw = (uint8_t *) "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x09\x7f",
       .raw_len = 13,
       .raw_count = 3},
  };
  static struct scn_raw_record raws[] = {
      {.name = "bytes.contoso.com",
       .type = KNOT_RRTYPE_SRV,
       .ttl = 60,
       .rdata = (uint8_t *) "\x00\x00\x00\x00\x01\xbb\x04mail",
       .rdata_len = 11,
       .rdlength = 200},
  };
  static char texts[16][64];
  for (int i = 0; i < 16; i++) {
    buf_fmt(texts[i], sizeof texts[i], "TXT record %02d, long enough that all exceed 512 bytes", i);
    records[13 + i] =
        (struct scn_record){.name = "big.contoso.com", .type = KNOT_RRTYPE_TXT, .text = texts[i]};
  }
  static struct scn s = {.domain = "contoso.com",
                         .records = records,
                         .n_records = 29,
                         .rules = rules,
                         .n_rules = 9,
                         .raw_records = raws,
                         .n_raw_records = 1,
                         .hosts = hosts,
                         .n_hosts = 2};
  char err[256];
  if (dns_zoneset_new(&zs, &s, addrs, err, sizeof err) != DNS_OK) {
    __builtin_trap();
  }
  return zs;
}

static void check(const uint8_t *query, size_t size, const uint8_t *out, size_t len, size_t cap,
                  const struct dns_info *info) {
  if (len > cap || (len == 0 && !info->dropped) || (info->dropped && info->why == NULL)) {
    __builtin_trap();
  }
  if (len == 0) {
    return;
  }
  if (info->raw) {
    if (len < KNOT_WIRE_HEADER_SIZE || !knot_wire_get_qr(out) ||
        knot_wire_get_id(out) != knot_wire_get_id(query)) {
      __builtin_trap();
    }
    return;
  }
  knot_pkt_t *p = knot_pkt_new((void *) out, (uint16_t) len, NULL);
  if (p == NULL || knot_pkt_parse(p, 0) != KNOT_EOK || !knot_wire_get_qr(out) ||
      knot_wire_get_id(out) != knot_wire_get_id(query)) {
    __builtin_trap();
  }
  knot_pkt_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t out[KNOT_WIRE_MAX_PKTSIZE];
  struct dns_zoneset *zs = zoneset();
  dns_zoneset_reset_rules(zs);
  struct dns_info info;
  size_t len = dns_answer(zs, data, size, out, 512, false, &info);
  check(data, size, out, len, 512, &info);
  len = dns_answer(zs, data, size, out, sizeof out, true, &info);
  check(data, size, out, len, sizeof out, &info);
  return 0;
}
