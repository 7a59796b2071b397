/* tests/unit/test_dns_overlay.c: dns.overlay without sockets — which (name, type) the lab answers
 * and which go upstream (dns__overlay_decide), and the client's answer made from the upstream's
 * (dns__overlay_query, dns__overlay_finish): relayed with the client's ID, a removed record taken
 * out, CNAME chains spliced into the overlay, the lab's chain completed upstream, a wildcard giving
 * way to a real name, SERVFAIL when the upstream fails. Upstream answers are built with libknot. */
#include "common/buf.h"
#include "proxy/dns/dns.h"
#include "proxy/dns/internal.h"
#include "tests/unit/test_dns_fixture.h"
#include "tests/unit/testutil.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static const char SCENARIO[] =
    "name: overlay\n"
    "description: x\n"
    "domain: contoso.com\n"
    "dns:\n"
    "  overlay: { upstream: \"127.0.0.1:9\" }\n"
    "  records:\n"
    "    - { name: contoso.com, type: A, remove: true }\n"
    "    - { name: www.contoso.com, type: CNAME, remove: true }\n"
    "    - { name: autodiscover.contoso.com, type: A, host: icpt }\n"
    "    - { name: lab.contoso.com, type: CNAME, target: autodiscover.contoso.com }\n"
    "    - { name: ext.contoso.com, type: CNAME, target: real.example.net }\n"
    "    - { name: gone.contoso.com, type: CNAME, target: contoso.com }\n"
    "    - { name: \"*.wild.contoso.com\", type: A, address: 192.0.2.7 }\n"
    "  behaviours:\n"
    "    - { name: broken.contoso.com, answer: servfail }\n"
    "hosts:\n"
    "  icpt: { names: [autodiscover.contoso.com, intercept.contoso.com, \"*.contoso.com\"] }\n";

struct fixture {
  struct scn *scn;
  struct dns_zoneset *zs;
};

static int setup(void **state) {
  struct fixture *f = xcalloc(1, sizeof *f);
  char err[512] = "";
  if (scn_load_string(&f->scn, "overlay.yaml", SCENARIO, strlen(SCENARIO), err, sizeof err) !=
      SCN_OK) {
    fail_msg("%s", err);
  }
  const char *addrs[] = {"127.0.0.2"};
  if (dns_zoneset_new(&f->zs, f->scn, addrs, err, sizeof err) != DNS_OK) {
    fail_msg("%s", err);
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  dns_zoneset_free(f->zs);
  scn_free(f->scn);
  free(f);
  return 0;
}

static enum dns_overlay_action decide(struct fixture *f, const char *name, uint16_t type,
                                      uint16_t *removed) {
  knot_dname_t *n = knot_dname_from_str_alloc(name);
  assert_non_null(n);
  enum dns_overlay_action a = dns__overlay_decide(f->zs, n, type, removed);
  knot_dname_free(n, NULL);
  return a;
}

static void test_what_the_scenario_defines_is_the_labs(void **state) {
  struct fixture *f = *state;
  assert_int_equal(decide(f, "autodiscover.contoso.com", KNOT_RRTYPE_A, NULL), DNS_OVERLAY_LAB);
  /* an address of the overlay's stands for both families: no real AAAA around the lab */
  assert_int_equal(decide(f, "autodiscover.contoso.com", KNOT_RRTYPE_AAAA, NULL), DNS_OVERLAY_LAB);
  assert_int_equal(decide(f, "autodiscover.contoso.com", KNOT_RRTYPE_MX, NULL),
                   DNS_OVERLAY_FORWARD);
  /* a host's name without a record gets the host's lab address; its wildcard name does not */
  assert_int_equal(decide(f, "intercept.contoso.com", KNOT_RRTYPE_A, NULL), DNS_OVERLAY_LAB);
  assert_int_equal(decide(f, "other.contoso.com", KNOT_RRTYPE_A, NULL), DNS_OVERLAY_FORWARD);
  /* a CNAME answers every type; a behaviour too */
  assert_int_equal(decide(f, "lab.contoso.com", KNOT_RRTYPE_MX, NULL), DNS_OVERLAY_LAB);
  assert_int_equal(decide(f, "broken.contoso.com", KNOT_RRTYPE_TXT, NULL), DNS_OVERLAY_LAB);
  /* the lab's SOA and NS are not the scenario's: the real zone's go on */
  assert_int_equal(decide(f, "contoso.com", KNOT_RRTYPE_SOA, NULL), DNS_OVERLAY_FORWARD);
  assert_int_equal(decide(f, "contoso.com", KNOT_RRTYPE_NS, NULL), DNS_OVERLAY_FORWARD);
  assert_int_equal(decide(f, "contoso.com", KNOT_RRTYPE_ANY, NULL), DNS_OVERLAY_FORWARD);
  assert_int_equal(decide(f, "example.org", KNOT_RRTYPE_A, NULL), DNS_OVERLAY_FORWARD);
}

static void test_removed_records_and_wildcards_ask_upstream(void **state) {
  struct fixture *f = *state;
  uint16_t removed = 0;
  assert_int_equal(decide(f, "contoso.com", KNOT_RRTYPE_A, &removed), DNS_OVERLAY_REMOVE);
  assert_int_equal(removed, KNOT_RRTYPE_A);
  assert_int_equal(decide(f, "contoso.com", KNOT_RRTYPE_MX, NULL), DNS_OVERLAY_FORWARD);
  /* a removed CNAME held every type of its name */
  assert_int_equal(decide(f, "www.contoso.com", KNOT_RRTYPE_AAAA, &removed), DNS_OVERLAY_REMOVE);
  assert_int_equal(removed, KNOT_RRTYPE_CNAME);
  assert_int_equal(decide(f, "x.wild.contoso.com", KNOT_RRTYPE_A, NULL), DNS_OVERLAY_WILDCARD);
  assert_int_equal(decide(f, "x.wild.contoso.com", KNOT_RRTYPE_TXT, NULL), DNS_OVERLAY_FORWARD);
}

/* ---- messages ---- */

static size_t make_query(uint8_t *wire, uint16_t id, const char *name, uint16_t type, bool edns) {
  return dns_test_query(wire, 512, id, name, type, true, edns ? 1232 : 0);
}

/* An upstream answer under construction: a question, then records of the answer section. */
struct answer {
  knot_pkt_t *pkt;
};

static void answer_begin(struct answer *a, uint16_t id, const char *name, uint16_t type,
                         uint16_t rcode) {
  a->pkt = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
  knot_dname_t *qname = knot_dname_from_str_alloc(name);
  assert_int_equal(knot_pkt_put_question(a->pkt, qname, KNOT_CLASS_IN, type), KNOT_EOK);
  knot_dname_free(qname, NULL);
  knot_wire_set_id(a->pkt->wire, id);
  knot_wire_set_qr(a->pkt->wire);
  knot_wire_set_ra(a->pkt->wire);
  knot_wire_set_rcode(a->pkt->wire, (short) rcode);
  assert_int_equal(knot_pkt_begin(a->pkt, KNOT_ANSWER), KNOT_EOK);
}

static void answer_rr(struct answer *a, const char *owner, uint16_t type, const char *data) {
  uint8_t rdata[256];
  size_t len = 0;
  if (type == KNOT_RRTYPE_A) {
    assert_int_equal(inet_pton(AF_INET, data, rdata), 1);
    len = 4;
  } else {
    knot_dname_t *target = knot_dname_from_str_alloc(data);
    int n = knot_dname_to_wire(rdata, target, sizeof rdata);
    assert_true(n > 0);
    len = (size_t) n;
    knot_dname_free(target, NULL);
  }
  knot_rrset_t rr;
  knot_rrset_init(&rr, knot_dname_from_str_alloc(owner), type, KNOT_CLASS_IN, 120);
  assert_int_equal(knot_rrset_add_rdata(&rr, rdata, (uint16_t) len, NULL), KNOT_EOK);
  assert_int_equal(knot_pkt_put(a->pkt, KNOT_COMPR_HINT_NONE, &rr, 0), KNOT_EOK);
  knot_rrset_clear(&rr, NULL);
}

/* A response read back: the RCODE, the answer records as "owner type data" lines, the authority
 * section's types. */
struct result {
  uint16_t id;
  uint16_t rcode;
  bool tc;
  bool aa;
  char answer[1024];
  char authority[256];
};

static void read_result(const uint8_t *wire, size_t len, struct result *r) {
  memset(r, 0, sizeof *r);
  assert_true(len > 0);
  uint8_t *copy = malloc(len);
  memcpy(copy, wire, len);
  knot_pkt_t *p = knot_pkt_new(copy, (uint16_t) len, NULL);
  assert_int_equal(knot_pkt_parse(p, 0), KNOT_EOK);
  r->id = knot_wire_get_id(wire);
  r->rcode = knot_wire_get_rcode(wire);
  r->tc = knot_wire_get_tc(wire) != 0;
  r->aa = knot_wire_get_aa(wire) != 0;
  struct buf b;
  buf_init(&b, sizeof r->answer - 1);
  const knot_pktsection_t *an = knot_pkt_section(p, KNOT_ANSWER);
  for (uint16_t i = 0; i < an->count; i++) {
    const knot_rrset_t *rr = knot_pkt_rr(an, i);
    char owner[256];
    char type[16];
    knot_dname_to_str(owner, rr->owner, sizeof owner);
    knot_rrtype_to_string(rr->type, type, sizeof type);
    char data[256] = "";
    if (rr->type == KNOT_RRTYPE_A) {
      inet_ntop(AF_INET, rr->rrs.rdata->data, data, sizeof data);
    } else if (rr->type == KNOT_RRTYPE_CNAME) {
      knot_dname_to_str(data, knot_cname_name(rr->rrs.rdata), sizeof data);
    }
    buf_appendf(&b, "%s %s %s;", owner, type, data);
  }
  buf_fmt(r->answer, sizeof r->answer, "%s", buf_cstr(&b));
  buf_cleanup(&b);
  const knot_pktsection_t *ns = knot_pkt_section(p, KNOT_AUTHORITY);
  for (uint16_t i = 0; i < ns->count; i++) {
    char type[16];
    knot_rrtype_to_string(knot_pkt_rr(ns, i)->type, type, sizeof type);
    size_t used = strlen(r->authority);
    buf_fmt(r->authority + used, sizeof r->authority - used, "%s;", type);
  }
  knot_pkt_free(p);
  free(copy);
}

/* ask runs the client's query through the overlay and returns the job it makes upstream. */
static struct dns_overlay_job *ask(struct fixture *f, const char *name, uint16_t type,
                                   enum dns_overlay_action want) {
  uint8_t q[512];
  uint8_t out[4096];
  struct dns_info info;
  struct dns_overlay_job *job = NULL;
  size_t qlen = make_query(q, 0x1234, name, type, true);
  size_t len = dns__overlay_query(f->zs, q, qlen, out, sizeof out, false, &info, &job);
  assert_int_equal(len, 0);
  assert_non_null(job);
  assert_int_equal(job->action, want);
  assert_string_equal(info.overlay, dns__overlay_name(want));
  return job;
}

/* finish answers the job from `a` (taken) and reads the result. */
static void finish(struct fixture *f, struct dns_overlay_job *job, struct answer *a,
                   struct result *r) {
  uint8_t out[4096];
  struct dns_info info;
  size_t len = dns__overlay_finish(f->zs, job, a->pkt->wire, a->pkt->size, out, sizeof out, &info);
  read_result(out, len, r);
  assert_int_equal(r->id, 0x1234); /* the client's ID, whatever the upstream's was */
  knot_pkt_free(a->pkt);
  dns__overlay_job_free(job);
}

static void test_the_upstreams_answer_is_relayed_unchanged_but_the_id(void **state) {
  struct fixture *f = *state;
  struct dns_overlay_job *job = ask(f, "mail.contoso.com", KNOT_RRTYPE_A, DNS_OVERLAY_FORWARD);
  assert_memory_equal(job->ask, job->query, job->ask_len); /* the client's own query */
  struct answer a;
  answer_begin(&a, 0x9999, "mail.contoso.com", KNOT_RRTYPE_A, KNOT_RCODE_NOERROR);
  answer_rr(&a, "mail.contoso.com", KNOT_RRTYPE_A, "198.51.100.4");
  uint8_t sent[512];
  size_t sent_len = a.pkt->size;
  memcpy(sent, a.pkt->wire, sent_len);
  uint8_t out[4096];
  struct dns_info info;
  size_t len = dns__overlay_finish(f->zs, job, sent, sent_len, out, sizeof out, &info);
  assert_int_equal(len, sent_len);
  assert_int_equal(knot_wire_get_id(out), 0x1234);
  assert_memory_equal(out + 2, sent + 2, sent_len - 2); /* byte for byte after the ID */
  assert_string_equal(info.overlay, "forward");
  knot_pkt_free(a.pkt);
  dns__overlay_job_free(job);
}

static void test_a_removed_record_answers_nodata(void **state) {
  struct fixture *f = *state;
  struct answer a;
  struct result r;
  answer_begin(&a, 7, "contoso.com", KNOT_RRTYPE_A, KNOT_RCODE_NOERROR);
  answer_rr(&a, "contoso.com", KNOT_RRTYPE_A, "198.51.100.1");
  finish(f, ask(f, "contoso.com", KNOT_RRTYPE_A, DNS_OVERLAY_REMOVE), &a, &r);
  assert_int_equal(r.rcode, KNOT_RCODE_NOERROR);
  assert_string_equal(r.answer, "");
  assert_string_equal(r.authority, "SOA;");
  assert_false(r.aa);
  /* the real zone has no such name: its NXDOMAIN stands */
  answer_begin(&a, 7, "contoso.com", KNOT_RRTYPE_A, KNOT_RCODE_NXDOMAIN);
  finish(f, ask(f, "contoso.com", KNOT_RRTYPE_A, DNS_OVERLAY_REMOVE), &a, &r);
  assert_int_equal(r.rcode, KNOT_RCODE_NXDOMAIN);
}

static void test_a_removed_cname_takes_its_name_away(void **state) {
  struct fixture *f = *state;
  struct answer a;
  struct result r;
  answer_begin(&a, 7, "www.contoso.com", KNOT_RRTYPE_A, KNOT_RCODE_NOERROR);
  answer_rr(&a, "www.contoso.com", KNOT_RRTYPE_CNAME, "cdn.example.net");
  answer_rr(&a, "cdn.example.net", KNOT_RRTYPE_A, "198.51.100.2");
  finish(f, ask(f, "www.contoso.com", KNOT_RRTYPE_A, DNS_OVERLAY_REMOVE), &a, &r);
  assert_int_equal(r.rcode, KNOT_RCODE_NXDOMAIN);
  assert_string_equal(r.answer, "");
}

static void test_a_real_cname_into_the_overlay_is_spliced(void **state) {
  struct fixture *f = *state;
  struct answer a;
  struct result r;
  /* the real chain reaches the removed record: cut there, NODATA */
  answer_begin(&a, 7, "alias.contoso.com", KNOT_RRTYPE_A, KNOT_RCODE_NOERROR);
  answer_rr(&a, "alias.contoso.com", KNOT_RRTYPE_CNAME, "contoso.com");
  answer_rr(&a, "contoso.com", KNOT_RRTYPE_A, "198.51.100.1");
  finish(f, ask(f, "alias.contoso.com", KNOT_RRTYPE_A, DNS_OVERLAY_FORWARD), &a, &r);
  assert_int_equal(r.rcode, KNOT_RCODE_NOERROR);
  assert_string_equal(r.answer, "alias.contoso.com. CNAME contoso.com.;");
  assert_string_equal(r.authority, "SOA;");
  /* it reaches a name the overlay defines: the lab's address, not the real one */
  answer_begin(&a, 7, "mail.contoso.com", KNOT_RRTYPE_A, KNOT_RCODE_NOERROR);
  answer_rr(&a, "mail.contoso.com", KNOT_RRTYPE_CNAME, "autodiscover.contoso.com");
  answer_rr(&a, "autodiscover.contoso.com", KNOT_RRTYPE_A, "198.51.100.9");
  finish(f, ask(f, "mail.contoso.com", KNOT_RRTYPE_A, DNS_OVERLAY_FORWARD), &a, &r);
  assert_string_equal(r.answer, "mail.contoso.com. CNAME autodiscover.contoso.com.;"
                                "autodiscover.contoso.com. A 127.0.0.2;");
}

static void test_the_labs_cname_is_completed_upstream(void **state) {
  struct fixture *f = *state;
  struct dns_overlay_job *job = ask(f, "ext.contoso.com", KNOT_RRTYPE_A, DNS_OVERLAY_CHASE);
  knot_pkt_t *asked = knot_pkt_new(job->ask, (uint16_t) job->ask_len, NULL);
  assert_int_equal(knot_pkt_parse(asked, 0), KNOT_EOK);
  char qname[64];
  knot_dname_to_str(qname, knot_pkt_qname(asked), sizeof qname);
  assert_string_equal(qname, "real.example.net."); /* what a stub would ask for next */
  assert_true(knot_wire_get_rd(job->ask));
  assert_non_null(asked->opt_rr); /* the client spoke EDNS */
  knot_pkt_free(asked);
  struct answer a;
  struct result r;
  answer_begin(&a, 7, "real.example.net", KNOT_RRTYPE_A, KNOT_RCODE_NOERROR);
  answer_rr(&a, "real.example.net", KNOT_RRTYPE_A, "192.0.2.9");
  finish(f, job, &a, &r);
  assert_int_equal(r.rcode, KNOT_RCODE_NOERROR);
  assert_string_equal(r.answer,
                      "ext.contoso.com. CNAME real.example.net.;real.example.net. A 192.0.2.9;");
  /* a chain of the lab's into a removed record ends there */
  job = ask(f, "gone.contoso.com", KNOT_RRTYPE_A, DNS_OVERLAY_CHASE);
  assert_int_equal(job->target, DNS_OVERLAY_REMOVE);
  answer_begin(&a, 7, "contoso.com", KNOT_RRTYPE_A, KNOT_RCODE_NOERROR);
  answer_rr(&a, "contoso.com", KNOT_RRTYPE_A, "198.51.100.1");
  finish(f, job, &a, &r);
  assert_int_equal(r.rcode, KNOT_RCODE_NOERROR);
  assert_string_equal(r.answer, "gone.contoso.com. CNAME contoso.com.;");
  assert_string_equal(r.authority, "SOA;");
}

static void test_a_wildcard_gives_way_to_a_real_name(void **state) {
  struct fixture *f = *state;
  struct answer a;
  struct result r;
  answer_begin(&a, 7, "x.wild.contoso.com", KNOT_RRTYPE_A, KNOT_RCODE_NOERROR);
  answer_rr(&a, "x.wild.contoso.com", KNOT_RRTYPE_A, "198.51.100.3");
  finish(f, ask(f, "x.wild.contoso.com", KNOT_RRTYPE_A, DNS_OVERLAY_WILDCARD), &a, &r);
  assert_string_equal(r.answer, "x.wild.contoso.com. A 198.51.100.3;");
  answer_begin(&a, 7, "x.wild.contoso.com", KNOT_RRTYPE_A, KNOT_RCODE_NXDOMAIN);
  finish(f, ask(f, "x.wild.contoso.com", KNOT_RRTYPE_A, DNS_OVERLAY_WILDCARD), &a, &r);
  assert_int_equal(r.rcode, KNOT_RCODE_NOERROR);
  assert_string_equal(r.answer, "x.wild.contoso.com. A 192.0.2.7;");
}

static void test_upstream_failure_is_servfail(void **state) {
  struct fixture *f = *state;
  uint8_t out[4096];
  struct dns_info info;
  struct result r;
  struct dns_overlay_job *job = ask(f, "mail.contoso.com", KNOT_RRTYPE_A, DNS_OVERLAY_FORWARD);
  size_t len = dns__overlay_finish(f->zs, job, NULL, 0, out, sizeof out, &info);
  read_result(out, len, &r);
  assert_int_equal(r.rcode, KNOT_RCODE_SERVFAIL);
  const uint8_t garbage[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0xff};
  len = dns__overlay_finish(f->zs, job, garbage, sizeof garbage, out, sizeof out, &info);
  read_result(out, len, &r);
  assert_int_equal(r.rcode, KNOT_RCODE_SERVFAIL);
  assert_string_equal(info.why, "malformed answer from the upstream");
  dns__overlay_job_free(job);
}

static void test_an_answer_too_big_for_the_client_is_truncated(void **state) {
  struct fixture *f = *state;
  uint8_t q[512];
  uint8_t out[4096];
  struct dns_info info;
  struct dns_overlay_job *job = NULL;
  size_t qlen = make_query(q, 0x1234, "big.contoso.com", KNOT_RRTYPE_A, false); /* 512 bytes */
  assert_int_equal(dns__overlay_query(f->zs, q, qlen, out, sizeof out, false, &info, &job), 0);
  struct answer a;
  answer_begin(&a, 7, "big.contoso.com", KNOT_RRTYPE_A, KNOT_RCODE_NOERROR);
  for (int i = 0; i < 40; i++) {
    char addr[32];
    buf_fmt(addr, sizeof addr, "198.51.100.%d", i + 1);
    answer_rr(&a, "big.contoso.com", KNOT_RRTYPE_A, addr);
  }
  assert_true(a.pkt->size > 512);
  struct result r;
  finish(f, job, &a, &r);
  assert_true(r.tc);
  assert_string_equal(r.answer, "");
}

static void test_what_the_lab_answers_never_waits(void **state) {
  struct fixture *f = *state;
  uint8_t q[512];
  uint8_t out[4096];
  struct dns_info info;
  struct dns_overlay_job *job = NULL;
  struct result r;
  size_t qlen = make_query(q, 0x1234, "autodiscover.contoso.com", KNOT_RRTYPE_A, true);
  size_t len = dns__overlay_query(f->zs, q, qlen, out, sizeof out, false, &info, &job);
  assert_null(job);
  read_result(out, len, &r);
  assert_string_equal(r.answer, "autodiscover.contoso.com. A 127.0.0.2;");
  assert_true(r.aa);
  assert_true(knot_wire_get_ra(out)); /* the lab resolves the rest through its upstream */
  assert_string_equal(info.overlay, "lab");
  qlen = make_query(q, 0x1234, "autodiscover.contoso.com", KNOT_RRTYPE_AAAA, true);
  len = dns__overlay_query(f->zs, q, qlen, out, sizeof out, false, &info, &job);
  assert_null(job);
  read_result(out, len, &r);
  assert_int_equal(r.rcode, KNOT_RCODE_NOERROR); /* NODATA: the overlay's addresses only */
  assert_string_equal(r.answer, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_what_the_scenario_defines_is_the_labs),
      cmocka_unit_test(test_removed_records_and_wildcards_ask_upstream),
      cmocka_unit_test(test_the_upstreams_answer_is_relayed_unchanged_but_the_id),
      cmocka_unit_test(test_a_removed_record_answers_nodata),
      cmocka_unit_test(test_a_removed_cname_takes_its_name_away),
      cmocka_unit_test(test_a_real_cname_into_the_overlay_is_spliced),
      cmocka_unit_test(test_the_labs_cname_is_completed_upstream),
      cmocka_unit_test(test_a_wildcard_gives_way_to_a_real_name),
      cmocka_unit_test(test_upstream_failure_is_servfail),
      cmocka_unit_test(test_an_answer_too_big_for_the_client_is_truncated),
      cmocka_unit_test(test_what_the_lab_answers_never_waits),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
