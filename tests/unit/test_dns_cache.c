/* tests/unit/test_dns_cache.c: proxy/dns/dns_cache.c — a cached answer is byte for byte (and
 * dns_info field for field) what dns_answer writes, with the client's ID and QNAME spelling;
 * other queries miss; a stateful zoneset is never cached; a full slot is taken over. */
#include "common/buf.h"
#include "proxy/dns/internal.h"
#include "tests/unit/test_dns_fixture.h"
#include "tests/unit/testutil.h"

#include <libknot/libknot.h>
#include <stdlib.h>
#include <string.h>

/* zoneset builds contoso.com with an A record and a wildcard; with `first_n`, a rule that
 * answers SERVFAIL to the first query for once.contoso.com makes it stateful. */
static struct dns_zoneset *zoneset(uint32_t first_n) {
  struct scn s = {0};
  struct scn_record records[] = {
      {.name = "contoso.com", .type = KNOT_RRTYPE_A, .ttl = 300, .address = "10.0.0.1"},
      {.name = "*.wild.contoso.com", .type = KNOT_RRTYPE_A, .ttl = 300, .address = "10.0.0.9"},
  };
  struct scn_dns_rule rules[] = {
      {.name = "once.contoso.com", .behaviour = SCN_DNS_SERVFAIL, .first_n = first_n},
  };
  s.domain = "contoso.com";
  s.records = records;
  s.n_records = 2;
  s.rules = rules;
  s.n_rules = 1;
  char err[256];
  struct dns_zoneset *zs = NULL;
  assert_int_equal(dns_zoneset_new(&zs, &s, NULL, err, sizeof err), DNS_OK);
  return zs;
}

/* query: a stub's query (no RD); with EDNS when `edns` > 0 (its payload size). */
static size_t query(uint8_t *wire, uint16_t id, const char *name, uint16_t type, uint16_t edns) {
  return dns_test_query(wire, 512, id, name, type, false, edns);
}

static void assert_info_equal(const struct dns_info *a, const struct dns_info *b) {
  assert_string_equal(a->qname, b->qname);
  assert_int_equal(a->qtype, b->qtype);
  assert_int_equal(a->rcode, b->rcode);
  assert_int_equal(a->n_answer, b->n_answer);
  assert_int_equal(a->truncated, b->truncated);
  assert_int_equal(a->dropped, b->dropped);
  assert_ptr_equal(a->why, b->why);
  assert_ptr_equal(a->rule, b->rule);
  assert_int_equal(a->wildcard, b->wildcard);
  assert_int_equal(a->raw, b->raw);
  assert_ptr_equal(a->overlay, b->overlay);
  assert_string_equal(a->chase, b->chase);
}

/* ask sends `q` through the cache and checks the answer against dns_answer's for the same
 * bytes; returns whether it came from the cache. */
static bool ask(struct dns_cache *c, struct dns_zoneset *zs, const uint8_t *q, size_t q_len,
                bool over_tcp) {
  uint8_t got[4096], want[4096];
  struct dns_info got_info, want_info;
  size_t hits = dns__cache_hits(c);
  size_t got_len = dns__cache_answer(c, zs, q, q_len, got, sizeof got, over_tcp, &got_info, NULL);
  size_t want_len = dns_answer(zs, q, q_len, want, sizeof want, over_tcp, &want_info);
  assert_int_equal(got_len, want_len);
  assert_memory_equal(got, want, want_len);
  assert_info_equal(&got_info, &want_info);
  return dns__cache_hits(c) > hits;
}

static void test_hit_patches_the_id(void **state) {
  struct dns_zoneset *zs = zoneset(0);
  struct dns_cache *c = dns__cache_new(zs, 16);
  assert_non_null(c);
  uint8_t q[512];
  size_t len = query(q, 1, "contoso.com", KNOT_RRTYPE_A, 0);
  assert_false(ask(c, zs, q, len, false));
  len = query(q, 0xbeef, "contoso.com", KNOT_RRTYPE_A, 0);
  assert_true(ask(c, zs, q, len, false)); /* ask compared the ID with dns_answer's */
  len = query(q, 7, "a.wild.contoso.com", KNOT_RRTYPE_A, 0);
  assert_false(ask(c, zs, q, len, false));
  assert_true(ask(c, zs, q, len, false)); /* a wildcard answer, "wildcard" in the journal */
  len = query(q, 8, "nope.contoso.com", KNOT_RRTYPE_A, 0);
  assert_false(ask(c, zs, q, len, false));
  assert_true(ask(c, zs, q, len, false)); /* NXDOMAIN with its SOA */
  dns__cache_free(c);
  dns_zoneset_free(zs);
}

static void test_key_ignores_qname_case(void **state) {
  struct dns_zoneset *zs = zoneset(0);
  struct dns_cache *c = dns__cache_new(zs, 16);
  uint8_t q[512];
  size_t len = query(q, 1, "contoso.com", KNOT_RRTYPE_A, 0);
  assert_false(ask(c, zs, q, len, false));
  len = query(q, 2, "CoNtOsO.CoM", KNOT_RRTYPE_A, 0);
  assert_true(ask(c, zs, q, len, false)); /* the question echoes the client's spelling */
  dns__cache_free(c);
  dns_zoneset_free(zs);
}

/* The key lowercases eight bytes at a time: for a first label of every length from 1 to 20 and
 * every position in it, a byte and the same byte with 0x20 flipped share an entry exactly when
 * the two are an ASCII letter's capital and small forms ('@' and '`', '[' and '{', 0xc1 and 0xe1
 * do not; and ask checks every answer against dns_answer's, the client's spelling included). */
static void test_key_folds_letters_and_nothing_else(void **state) {
  struct dns_zoneset *zs = zoneset(0);
  uint8_t q[512];
  for (size_t label = 1; label <= 20; label++) {
    char name[64];
    memset(name, '-', label);
    memcpy(name + label, ".contoso.com", sizeof ".contoso.com");
    size_t len = query(q, 1, name, KNOT_RRTYPE_A, 0);
    assert_int_equal(q[KNOT_WIRE_HEADER_SIZE], label);
    for (size_t at = 0; at < label; at++) {
      for (unsigned v = 0; v < 256; v++) {
        if (v & 0x20) {
          continue; /* v is the form with 0x20 clear; v | 0x20 the other */
        }
        struct dns_cache *c = dns__cache_new(zs, 16);
        q[KNOT_WIRE_HEADER_SIZE + 1 + at] = (uint8_t) v;
        assert_false(ask(c, zs, q, len, false));
        q[KNOT_WIRE_HEADER_SIZE + 1 + at] = (uint8_t) (v | 0x20);
        bool letter = v >= 'A' && v <= 'Z';
        if (ask(c, zs, q, len, false) != letter) {
          fail_msg("label of %zu, byte %zu: 0x%02x and 0x%02x %s", label, at, v, v | 0x20,
                   letter ? "missed" : "shared an entry");
        }
        q[KNOT_WIRE_HEADER_SIZE + 1 + at] = '-';
        dns__cache_free(c);
      }
    }
  }
  dns_zoneset_free(zs);
}

static void test_other_queries_miss(void **state) {
  struct dns_zoneset *zs = zoneset(0);
  struct dns_cache *c = dns__cache_new(zs, 64);
  uint8_t q[512];
  size_t len = query(q, 1, "contoso.com", KNOT_RRTYPE_A, 0);
  assert_false(ask(c, zs, q, len, false));
  assert_false(ask(c, zs, q, len, true)); /* TCP: another limit */
  len = query(q, 1, "contoso.com", KNOT_RRTYPE_AAAA, 0);
  assert_false(ask(c, zs, q, len, false));
  len = query(q, 1, "contoso.com", KNOT_RRTYPE_A, 1232);
  assert_false(ask(c, zs, q, len, false)); /* EDNS: an OPT in the answer */
  len = query(q, 1, "contoso.com", KNOT_RRTYPE_A, 4096);
  assert_false(ask(c, zs, q, len, false)); /* another payload size */
  len = query(q, 1, "contoso.com", KNOT_RRTYPE_A, 0);
  knot_wire_set_cd(q);
  assert_false(ask(c, zs, q, len, false)); /* other flags */
  q[len] = 0;
  assert_false(ask(c, zs, q, len + 1, false)); /* a trailing byte: FORMERR, its own entry */
  dns__cache_free(c);
  dns_zoneset_free(zs);
}

static void test_stateful_zoneset_is_not_cached(void **state) {
  struct dns_zoneset *zs = zoneset(1);
  assert_false(dns__zoneset_stateless(zs));
  struct dns_cache *c = dns__cache_new(zs, 16);
  assert_null(c);
  uint8_t q[512];
  size_t len = query(q, 1, "once.contoso.com", KNOT_RRTYPE_A, 0);
  uint8_t out[512];
  struct dns_info info;
  assert_true(dns__cache_answer(c, zs, q, len, out, sizeof out, false, &info, NULL) > 0);
  assert_int_equal(info.rcode, KNOT_RCODE_SERVFAIL);
  assert_true(dns__cache_answer(c, zs, q, len, out, sizeof out, false, &info, NULL) > 0);
  assert_int_equal(info.rcode, KNOT_RCODE_NXDOMAIN); /* the rule was used up: no stale answer */
  dns_zoneset_free(zs);
  zs = zoneset(0); /* the same rule for every query: stateless */
  assert_true(dns__zoneset_stateless(zs));
  dns_zoneset_free(zs);
}

static void test_full_slot_is_taken_over(void **state) {
  struct dns_zoneset *zs = zoneset(0);
  struct dns_cache *c = dns__cache_new(zs, 1);
  uint8_t a[512], b[512];
  size_t a_len = query(a, 1, "contoso.com", KNOT_RRTYPE_A, 0);
  size_t b_len = query(b, 1, "contoso.com", KNOT_RRTYPE_TXT, 0);
  assert_false(ask(c, zs, a, a_len, false));
  assert_true(ask(c, zs, a, a_len, false));
  assert_false(ask(c, zs, b, b_len, false)); /* evicts a */
  assert_false(ask(c, zs, a, a_len, false));
  assert_true(ask(c, zs, a, a_len, false));
  dns__cache_free(c);
  dns_zoneset_free(zs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hit_patches_the_id),
      cmocka_unit_test(test_key_ignores_qname_case),
      cmocka_unit_test(test_key_folds_letters_and_nothing_else),
      cmocka_unit_test(test_other_queries_miss),
      cmocka_unit_test(test_stateful_zoneset_is_not_cached),
      cmocka_unit_test(test_full_slot_is_taken_over),
  };
  return cmocka_run_group_tests_name("dns_cache", tests, NULL, NULL);
}
