/* tests/unit/test_dns_fixture.h: what the DNS tests share — a query as a resolver or a stub would
 * send it, built with libknot. Header-only (static inline). */
#ifndef AD_TESTS_TEST_DNS_FIXTURE_H
#define AD_TESTS_TEST_DNS_FIXTURE_H

#include "tests/unit/testutil.h"

#include <libknot/libknot.h>
#include <stdbool.h>
#include <string.h>

/* dns_test_query writes a query for (name as spelled, type) with `id` into wire (at most `cap`
 * bytes): RD set when `rd`, an OPT record with payload size `edns` when edns > 0. */
static inline size_t dns_test_query(uint8_t *wire, size_t cap, uint16_t id, const char *name,
                                    uint16_t type, bool rd, uint16_t edns) {
  knot_pkt_t *q = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
  assert_non_null(q);
  knot_wire_set_id(q->wire, id);
  if (rd) {
    knot_wire_set_rd(q->wire);
  }
  knot_dname_t *qname = knot_dname_from_str_alloc(name);
  assert_non_null(qname);
  assert_int_equal(knot_pkt_put_question(q, qname, KNOT_CLASS_IN, type), KNOT_EOK);
  knot_dname_free(qname, NULL);
  if (edns > 0) {
    knot_rrset_t opt;
    assert_int_equal(knot_edns_init(&opt, edns, 0, 0, NULL), KNOT_EOK);
    assert_int_equal(knot_pkt_begin(q, KNOT_ADDITIONAL), KNOT_EOK);
    assert_int_equal(knot_pkt_put(q, KNOT_COMPR_HINT_NONE, &opt, 0), KNOT_EOK);
    knot_rrset_clear(&opt, NULL);
  }
  size_t len = q->size;
  assert_true(len <= cap);
  memcpy(wire, q->wire, len);
  knot_pkt_free(q);
  return len;
}

#endif
