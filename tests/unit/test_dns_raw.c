/* tests/unit/test_dns_raw.c: answers the scenario gives as bytes (proxy/dns/dns_answer.c) — a
 * behaviour `answer: raw` whose answer section is the scenario's hex, and records given as
 * `rdata_hex` with an RDLENGTH that may lie — loaded from YAML, answered, and read back byte by
 * byte (libknot must not be the judge: the answers are malformed on purpose). */
#include "common/buf.h"
#include "proxy/dns/dns.h"
#include "tests/unit/test_dns_fixture.h"
#include "tests/unit/testutil.h"

#include <libknot/libknot.h>
#include <stdlib.h>
#include <string.h>

static const char SCENARIO[] =
    "name: raw\n"
    "description: raw answers\n"
    "domain: contoso.com\n"
    "dns:\n"
    "  records:\n"
    "    - { name: contoso.com, type: A, address: 127.0.0.9 }\n"
    "    - { name: short.contoso.com, type: A, rdata_hex: \"7f 4d 00\" }\n"
    "    - { name: two.contoso.com, type: A, ttl: 60, rdata_hex: \"7f000001\" }\n"
    "    - { name: two.contoso.com, type: A, rdata_hex: \"7f000002\", rdlength: 9 }\n"
    "    - { name: two.contoso.com, type: TXT, text: hello }\n"
    "  behaviours:\n"
    "    - { name: raw.contoso.com, type: A, answer: raw, first: 1, answer_count: 2,\n"
    "        answer_hex: \"c00c 0010 0001 0000003c 0004 7f000001\" }\n"
    "    - { name: big.contoso.com, answer: raw, answer_hex: \"%s\" }\n";

static struct dns_zoneset *zoneset(void) {
  struct buf big, text;
  buf_init(&big, 4096);
  for (int i = 0; i < 600; i++) {
    buf_append_str(&big, "ab");
  }
  buf_init(&text, 16384);
  buf_appendf(&text, SCENARIO, buf_cstr(&big));
  struct scn *s = NULL;
  char err[512] = "";
  if (scn_load_string(&s, "raw.yaml", buf_cstr(&text), text.len, err, sizeof err) != SCN_OK) {
    fail_msg("%s", err);
  }
  buf_cleanup(&big);
  buf_cleanup(&text);
  struct dns_zoneset *zs = NULL;
  if (dns_zoneset_new(&zs, s, NULL, err, sizeof err) != DNS_OK) {
    fail_msg("%s", err);
  }
  scn_free(s);
  return zs;
}

struct reply {
  uint8_t wire[KNOT_WIRE_MAX_PKTSIZE];
  size_t len;
  size_t q_len; /* the header and question: where the answer section starts */
  struct dns_info info;
};

/* ask sends a query for (name, type), with an OPT of `edns` bytes unless 0. */
static void ask(struct reply *r, struct dns_zoneset *zs, const char *name, uint16_t type,
                uint16_t edns, bool tcp) {
  uint8_t q[512];
  r->q_len = dns_test_query(q, sizeof q, 0x4242, name, type, false, 0);
  size_t len = edns > 0 ? dns_test_query(q, sizeof q, 0x4242, name, type, false, edns) : r->q_len;
  r->len = dns_answer(zs, q, len, r->wire, tcp ? sizeof r->wire : 512, tcp, &r->info);
}

static void test_raw_behaviour(void **state) {
  struct dns_zoneset *zs = zoneset();
  struct reply r;
  ask(&r, zs, "raw.contoso.com", KNOT_RRTYPE_A, 1232, false);
  static const uint8_t section[] = {0xc0, 0x0c, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00,
                                    0x00, 0x3c, 0x00, 0x04, 0x7f, 0x00, 0x00, 0x01};
  assert_int_equal(r.len, r.q_len + sizeof section); /* no OPT: nothing after the bytes */
  assert_memory_equal(r.wire + r.q_len, section, sizeof section);
  assert_int_equal(knot_wire_get_id(r.wire), 0x4242);
  assert_true(knot_wire_get_qr(r.wire));
  assert_true(knot_wire_get_aa(r.wire));
  assert_int_equal(knot_wire_get_rcode(r.wire), KNOT_RCODE_NOERROR);
  assert_int_equal(knot_wire_get_ancount(r.wire), 2); /* it claims two: there is one */
  assert_int_equal(knot_wire_get_nscount(r.wire), 0);
  assert_int_equal(knot_wire_get_arcount(r.wire), 0);
  assert_true(r.info.raw);
  assert_string_equal(r.info.rule, "raw");
  assert_int_equal(r.info.n_answer, 2);
  /* first: 1 — the next query gets the name's records (none: NXDOMAIN under the zone) */
  ask(&r, zs, "raw.contoso.com", KNOT_RRTYPE_A, 0, false);
  assert_false(r.info.raw);
  assert_null(r.info.rule);
  assert_int_equal(knot_wire_get_rcode(r.wire), KNOT_RCODE_NXDOMAIN);
  dns_zoneset_reset_rules(zs); /* a new client: the first query again */
  ask(&r, zs, "raw.contoso.com", KNOT_RRTYPE_A, 0, false);
  assert_true(r.info.raw);
  dns_zoneset_free(zs);
}

static void test_raw_too_big_for_udp(void **state) {
  struct dns_zoneset *zs = zoneset();
  struct reply r;
  ask(&r, zs, "big.contoso.com", KNOT_RRTYPE_TXT, 0, false);
  assert_int_equal(r.len, r.q_len); /* 600 bytes do not fit 512: TC, header and question */
  assert_true(knot_wire_get_tc(r.wire));
  assert_int_equal(knot_wire_get_ancount(r.wire), 0);
  assert_true(r.info.truncated);
  ask(&r, zs, "big.contoso.com", KNOT_RRTYPE_TXT, 0, true); /* over TCP: all of it */
  assert_int_equal(r.len, r.q_len + 600);
  assert_false(knot_wire_get_tc(r.wire));
  assert_int_equal(knot_wire_get_ancount(r.wire), 1);
  assert_int_equal(r.wire[r.q_len], 0xab);
  dns_zoneset_free(zs);
}

static void test_raw_records(void **state) {
  struct dns_zoneset *zs = zoneset();
  struct reply r;
  ask(&r, zs, "short.contoso.com", KNOT_RRTYPE_A, 0, false);
  static const uint8_t short_a[] = {0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
                                    0x01, 0x2c, 0x00, 0x03, 0x7f, 0x4d, 0x00};
  assert_int_equal(r.len, r.q_len + sizeof short_a); /* an A record of three bytes */
  assert_memory_equal(r.wire + r.q_len, short_a, sizeof short_a);
  assert_int_equal(knot_wire_get_ancount(r.wire), 1);
  assert_true(r.info.raw);
  assert_null(r.info.rule);
  /* the name exists: its other types are NODATA, not NXDOMAIN (RFC 1034 4.3.2) */
  ask(&r, zs, "short.contoso.com", KNOT_RRTYPE_AAAA, 0, false);
  assert_false(r.info.raw);
  assert_int_equal(knot_wire_get_rcode(r.wire), KNOT_RCODE_NOERROR);
  assert_int_equal(knot_wire_get_ancount(r.wire), 0);
  assert_int_equal(knot_wire_get_nscount(r.wire), 1); /* the zone's SOA */
  ask(&r, zs, "two.contoso.com", KNOT_RRTYPE_A, 0, false);
  static const uint8_t two[] = {0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c,
                                0x00, 0x04, 0x7f, 0x00, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01,
                                0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x09, /* claims 9 */
                                0x7f, 0x00, 0x00, 0x02};
  assert_int_equal(r.len, r.q_len + sizeof two);
  assert_memory_equal(r.wire + r.q_len, two, sizeof two);
  assert_int_equal(knot_wire_get_ancount(r.wire), 2);
  /* libknot, as any client's parser, refuses the record that runs past the message */
  knot_pkt_t *p = knot_pkt_new(r.wire, (uint16_t) r.len, NULL);
  assert_int_not_equal(knot_pkt_parse(p, 0), KNOT_EOK);
  knot_pkt_free(p);
  /* the name's other types answer from the records, as libknot builds them */
  ask(&r, zs, "two.contoso.com", KNOT_RRTYPE_TXT, 0, false);
  assert_false(r.info.raw);
  assert_int_equal(r.info.n_answer, 1);
  p = knot_pkt_new(r.wire, (uint16_t) r.len, NULL);
  assert_int_equal(knot_pkt_parse(p, 0), KNOT_EOK);
  knot_pkt_free(p);
  dns_zoneset_free(zs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_raw_behaviour),
      cmocka_unit_test(test_raw_too_big_for_udp),
      cmocka_unit_test(test_raw_records),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
