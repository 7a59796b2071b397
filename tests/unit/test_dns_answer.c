/* tests/unit/test_dns_answer.c: dns_zoneset_new and dns_answer — queries built with libknot,
 * responses parsed back with libknot and checked field by field. */
#include "common/buf.h"
#include "proxy/dns/dns.h"
#include "tests/unit/test_dns_fixture.h"
#include "tests/unit/testutil.h"

#include <arpa/inet.h>
#include <libknot/libknot.h>
#include <stdlib.h>
#include <string.h>

/* --- a scenario built by hand --- */

static struct scn_record *add_record(struct scn *s, const char *name, uint16_t type) {
  s->records = xrealloc_array(s->records, s->n_records + 1, sizeof *s->records);
  struct scn_record *r = &s->records[s->n_records++];
  memset(r, 0, sizeof *r);
  r->name = str_dup(name);
  r->type = type;
  r->ttl = 300;
  return r;
}

static void add_rule(struct scn *s, const char *name, enum scn_dns_behaviour b) {
  s->rules = xrealloc_array(s->rules, s->n_rules + 1, sizeof *s->rules);
  s->rules[s->n_rules++] = (struct scn_dns_rule){.name = str_dup(name), .behaviour = b};
}

static void add_typed_rule(struct scn *s, const char *name, uint16_t type, enum scn_dns_behaviour b,
                           uint32_t first_n) {
  add_rule(s, name, b);
  s->rules[s->n_rules - 1].type = type;
  s->rules[s->n_rules - 1].first_n = first_n;
}

static void add_host(struct scn *s, const char *id, const char *first_name) {
  s->hosts = xrealloc_array(s->hosts, s->n_hosts + 1, sizeof *s->hosts);
  struct scn_host *h = &s->hosts[s->n_hosts++];
  memset(h, 0, sizeof *h);
  h->id = str_dup(id);
  if (first_name != NULL) {
    h->names = xcalloc(1, sizeof *h->names);
    h->names[0] = str_dup(first_name);
    h->n_names = 1;
  }
}

static void free_scn(struct scn *s) {
  for (size_t i = 0; i < s->n_records; i++) {
    struct scn_record *r = &s->records[i];
    free(r->name);
    free(r->host);
    free(r->address);
    free(r->target);
    free(r->text);
  }
  for (size_t i = 0; i < s->n_rules; i++) {
    free(s->rules[i].name);
  }
  for (size_t i = 0; i < s->n_hosts; i++) {
    for (size_t k = 0; k < s->hosts[i].n_names; k++) {
      free(s->hosts[i].names[k]);
    }
    free(s->hosts[i].names);
    free(s->hosts[i].id);
  }
  for (size_t i = 0; i < s->n_zones; i++) {
    free(s->zones[i]);
  }
  free(s->zones);
  free(s->records);
  free(s->rules);
  free(s->hosts);
  free(s->domain);
  free(s);
}

static const char *const HOST_ADDRS[] = {"127.0.0.2", "127.0.0.3", "127.0.0.4", "fd00::5"};

/* The founding scenario's DNS, plus what the edge cases need. */
static struct scn *contoso(void) {
  struct scn *s = xcalloc(1, sizeof *s);
  s->domain = str_dup("contoso.com");
  add_host(s, "www", "contoso.com");
  add_host(s, "exchange", "autodiscover.contoso.com");
  add_host(s, "bare", NULL);
  add_host(s, "v6", "v6.contoso.com");
  add_record(s, "contoso.com", KNOT_RRTYPE_A)->host = str_dup("www");
  add_record(s, "www.contoso.com", KNOT_RRTYPE_CNAME)->target = str_dup("contoso.com");
  struct scn_record *r = add_record(s, "autodiscover.contoso.com", KNOT_RRTYPE_A);
  r->host = str_dup("exchange");
  r->ttl = 60;
  r = add_record(s, "_autodiscover._tcp.contoso.com", KNOT_RRTYPE_SRV);
  r->target = str_dup("autodiscover.contoso.com");
  r->priority = 1;
  r->weight = 2;
  r->port = 443;
  r = add_record(s, "contoso.com", KNOT_RRTYPE_MX);
  r->target = str_dup("mail.contoso.com");
  r->priority = 10;
  add_record(s, "contoso.com", KNOT_RRTYPE_TXT)->text = str_dup("v=spf1 -all");
  for (int i = 0; i < 40; i++) {
    char text[64];
    buf_fmt(text, sizeof text, "record number %02d of a long TXT set", i);
    add_record(s, "big.contoso.com", KNOT_RRTYPE_TXT)->text = str_dup(text);
  }
  add_record(s, "loop1.contoso.com", KNOT_RRTYPE_CNAME)->target = str_dup("loop2.contoso.com");
  add_record(s, "loop2.contoso.com", KNOT_RRTYPE_CNAME)->target = str_dup("loop1.contoso.com");
  add_record(s, "dangling.contoso.com", KNOT_RRTYPE_CNAME)->target = str_dup("nothere.contoso.com");
  add_record(s, "ext.contoso.com", KNOT_RRTYPE_CNAME)->target = str_dup("autodiscover.outlook.com");
  add_record(s, "chain.contoso.com", KNOT_RRTYPE_CNAME)->target = str_dup("broken.contoso.com");
  add_record(s, "o365.fabrikam.com", KNOT_RRTYPE_A)->address = str_dup("52.1.2.3");
  add_record(s, "v6.contoso.com", KNOT_RRTYPE_AAAA)->host = str_dup("v6");
  add_record(s, "zero.contoso.com", KNOT_RRTYPE_A)->address = str_dup("10.0.0.1");
  s->records[s->n_records - 1].ttl = 0;
  add_rule(s, "timeout.contoso.com", SCN_DNS_TIMEOUT);
  add_rule(s, "broken.contoso.com", SCN_DNS_SERVFAIL);
  add_rule(s, "Gone.Contoso.com", SCN_DNS_NXDOMAIN);
  return s;
}

static int setup(void **state) {
  struct scn *s = contoso();
  char err[256];
  struct dns_zoneset *zs = NULL;
  enum dns_status st = dns_zoneset_new(&zs, s, HOST_ADDRS, err, sizeof err);
  free_scn(s);
  if (st != DNS_OK) {
    fprintf(stderr, "dns_zoneset_new: %s\n", err);
    return -1;
  }
  *state = zs;
  return 0;
}

static int teardown(void **state) {
  dns_zoneset_free(*state);
  return 0;
}

/* --- queries and responses --- */

/* make_query writes a resolver's query (RD) for (name, type) into wire; edns_payload 0 means no
 * OPT. */
static size_t make_query(uint8_t *wire, size_t cap, uint16_t id, const char *name, uint16_t type,
                         uint16_t edns_payload) {
  return dns_test_query(wire, cap, id, name, type, true, edns_payload);
}

struct reply {
  uint8_t wire[KNOT_WIRE_MAX_PKTSIZE];
  size_t len;
  knot_pkt_t *pkt; /* parsed, or NULL when nothing was sent */
  struct dns_info info;
};

static struct reply *answer_wire(struct dns_zoneset *zs, const uint8_t *q, size_t q_len, size_t cap,
                                 bool tcp) {
  struct reply *r = xcalloc(1, sizeof *r);
  r->len = dns_answer(zs, q, q_len, r->wire, cap, tcp, &r->info);
  assert_true(r->len <= cap);
  if (r->len > 0) {
    r->pkt = knot_pkt_new(r->wire, (uint16_t) r->len, NULL);
    assert_non_null(r->pkt);
    assert_int_equal(knot_pkt_parse(r->pkt, 0), KNOT_EOK);
  }
  return r;
}

/* ask sends one UDP-sized (64 KiB buffer) query and parses the response. */
static struct reply *ask(struct dns_zoneset *zs, const char *name, uint16_t type) {
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0x1234, name, type, 0);
  return answer_wire(zs, q, len, KNOT_WIRE_MAX_PKTSIZE, false);
}

static void reply_free(struct reply *r) {
  knot_pkt_free(r->pkt);
  free(r);
}

static uint16_t count(const struct reply *r, knot_section_t s) {
  return knot_pkt_section(r->pkt, s)->count;
}

static const knot_rrset_t *rr_at(const struct reply *r, knot_section_t s, uint16_t i) {
  assert_true(i < count(r, s));
  return knot_pkt_rr(knot_pkt_section(r->pkt, s), i);
}

static void assert_name(const knot_dname_t *name, const char *expected) {
  char text[KNOT_DNAME_TXT_MAXLEN + 1];
  assert_non_null(knot_dname_to_str(text, name, sizeof text));
  assert_string_equal(text, expected);
}

static void assert_a(const knot_rrset_t *rr, const char *owner, const char *addr) {
  assert_int_equal(rr->type, KNOT_RRTYPE_A);
  assert_name(rr->owner, owner);
  assert_int_equal(rr->rrs.rdata->len, 4);
  char text[INET_ADDRSTRLEN];
  assert_non_null(inet_ntop(AF_INET, rr->rrs.rdata->data, text, sizeof text));
  assert_string_equal(text, addr);
}

/* assert_soa checks the SOA of a negative answer (RFC 2308 §3). */
static void assert_soa(const struct reply *r, const char *zone) {
  assert_int_equal(count(r, KNOT_AUTHORITY), 1);
  const knot_rrset_t *soa = rr_at(r, KNOT_AUTHORITY, 0);
  assert_int_equal(soa->type, KNOT_RRTYPE_SOA);
  assert_name(soa->owner, zone);
  assert_name(knot_soa_primary(soa->rrs.rdata), "ns.lab.invalid.");
  assert_int_equal(knot_soa_serial(soa->rrs.rdata), 1);
  assert_int_equal(knot_soa_minimum(soa->rrs.rdata), 60);
  assert_int_equal(soa->ttl, 60);
}

static void assert_header(const struct reply *r, uint16_t rcode, bool aa) {
  assert_non_null(r->pkt);
  const uint8_t *w = r->wire;
  assert_int_equal(knot_wire_get_id(w), 0x1234);
  assert_true(knot_wire_get_qr(w));
  assert_int_equal(knot_wire_get_rcode(w), rcode);
  assert_int_equal(knot_wire_get_aa(w) != 0, aa);
  assert_true(knot_wire_get_rd(w)); /* copied */
  assert_false(knot_wire_get_ra(w));
  assert_int_equal(knot_wire_get_qdcount(w), 1);
  assert_int_equal(r->info.rcode, rcode);
  assert_false(r->info.dropped);
}

/* --- tests --- */

static void test_a_via_host_symbol(void **state) {
  struct reply *r = ask(*state, "contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  assert_a(rr_at(r, KNOT_ANSWER, 0), "contoso.com.", "127.0.0.2");
  assert_int_equal(rr_at(r, KNOT_ANSWER, 0)->ttl, 300);
  assert_name(knot_pkt_qname(r->pkt), "contoso.com.");
  assert_int_equal(knot_pkt_qtype(r->pkt), KNOT_RRTYPE_A);
  assert_string_equal(r->info.qname, "contoso.com");
  assert_int_equal(r->info.qtype, KNOT_RRTYPE_A);
  assert_int_equal(r->info.n_answer, 1);
  assert_false(r->info.truncated);
  assert_null(r->info.why);
  reply_free(r);
}

static void test_ttl_as_given_or_300(void **state) {
  struct reply *r = ask(*state, "autodiscover.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_a(rr_at(r, KNOT_ANSWER, 0), "autodiscover.contoso.com.", "127.0.0.3");
  assert_int_equal(rr_at(r, KNOT_ANSWER, 0)->ttl, 60);
  reply_free(r);
  r = ask(*state, "zero.contoso.com", KNOT_RRTYPE_A);
  assert_a(rr_at(r, KNOT_ANSWER, 0), "zero.contoso.com.", "10.0.0.1");
  assert_int_equal(rr_at(r, KNOT_ANSWER, 0)->ttl, 300);
  reply_free(r);
}

static void test_question_echoed_with_its_case(void **state) {
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0xbeef, "AutoDiscover.CONTOSO.com", KNOT_RRTYPE_A, 0);
  struct reply *r = answer_wire(*state, q, len, sizeof r->wire, false);
  assert_int_equal(knot_wire_get_id(r->wire), 0xbeef);
  assert_memory_equal(r->wire + KNOT_WIRE_HEADER_SIZE, q + KNOT_WIRE_HEADER_SIZE,
                      len - KNOT_WIRE_HEADER_SIZE);
  assert_int_equal(knot_wire_get_rcode(r->wire), KNOT_RCODE_NOERROR);
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  assert_string_equal(r->info.qname, "autodiscover.contoso.com");
  reply_free(r);
}

static void test_rd_clear_stays_clear(void **state) {
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 7, "contoso.com", KNOT_RRTYPE_A, 0);
  knot_wire_clear_rd(q);
  struct reply *r = answer_wire(*state, q, len, sizeof r->wire, false);
  assert_false(knot_wire_get_rd(r->wire));
  assert_true(knot_wire_get_aa(r->wire));
  reply_free(r);
}

static void test_cname_chain_followed(void **state) {
  struct reply *r = ask(*state, "www.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 2);
  const knot_rrset_t *cname = rr_at(r, KNOT_ANSWER, 0);
  assert_int_equal(cname->type, KNOT_RRTYPE_CNAME);
  assert_name(cname->owner, "www.contoso.com.");
  assert_name(knot_cname_name(cname->rrs.rdata), "contoso.com.");
  assert_a(rr_at(r, KNOT_ANSWER, 1), "contoso.com.", "127.0.0.2");
  assert_int_equal(r->info.n_answer, 2);
  reply_free(r);
}

static void test_cname_query_not_followed(void **state) {
  struct reply *r = ask(*state, "www.contoso.com", KNOT_RRTYPE_CNAME);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  assert_int_equal(rr_at(r, KNOT_ANSWER, 0)->type, KNOT_RRTYPE_CNAME);
  reply_free(r);
}

static void test_cname_loop_stops(void **state) {
  struct reply *r = ask(*state, "loop1.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 2);
  assert_name(rr_at(r, KNOT_ANSWER, 0)->owner, "loop1.contoso.com.");
  assert_name(rr_at(r, KNOT_ANSWER, 1)->owner, "loop2.contoso.com.");
  reply_free(r);
}

static void test_cname_to_missing_name_is_nxdomain(void **state) {
  /* RFC 6604 §2: the RCODE is about the last name in the chain */
  struct reply *r = ask(*state, "dangling.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NXDOMAIN, true);
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  assert_int_equal(rr_at(r, KNOT_ANSWER, 0)->type, KNOT_RRTYPE_CNAME);
  assert_soa(r, "contoso.com.");
  reply_free(r);
}

static void test_cname_out_of_lab_answers_cname_only(void **state) {
  struct reply *r = ask(*state, "ext.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  assert_name(knot_cname_name(rr_at(r, KNOT_ANSWER, 0)->rrs.rdata), "autodiscover.outlook.com.");
  assert_int_equal(count(r, KNOT_AUTHORITY), 0);
  reply_free(r);
}

static void test_cname_to_servfail_rule(void **state) {
  struct reply *r = ask(*state, "chain.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_SERVFAIL, false);
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  reply_free(r);
}

static void test_srv_fields(void **state) {
  struct reply *r = ask(*state, "_autodiscover._tcp.contoso.com", KNOT_RRTYPE_SRV);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  const knot_rrset_t *srv = rr_at(r, KNOT_ANSWER, 0);
  assert_int_equal(srv->type, KNOT_RRTYPE_SRV);
  assert_name(srv->owner, "_autodiscover._tcp.contoso.com.");
  /* RFC 2782: priority, weight, port, target */
  assert_int_equal(knot_wire_read_u16(srv->rrs.rdata->data), 1);
  assert_int_equal(knot_wire_read_u16(srv->rrs.rdata->data + 2), 2);
  assert_int_equal(knot_wire_read_u16(srv->rrs.rdata->data + 4), 443);
  assert_name(knot_srv_name(srv->rrs.rdata), "autodiscover.contoso.com.");
  reply_free(r);
}

static void test_mx_txt_ns_soa_at_apex(void **state) {
  struct reply *r = ask(*state, "contoso.com", KNOT_RRTYPE_MX);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  assert_int_equal(knot_wire_read_u16(rr_at(r, KNOT_ANSWER, 0)->rrs.rdata->data), 10);
  assert_name(knot_mx_name(rr_at(r, KNOT_ANSWER, 0)->rrs.rdata), "mail.contoso.com.");
  reply_free(r);

  r = ask(*state, "contoso.com", KNOT_RRTYPE_TXT);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  const knot_rdata_t *txt = rr_at(r, KNOT_ANSWER, 0)->rrs.rdata;
  assert_int_equal(txt->len, 12);
  assert_int_equal(txt->data[0], 11);
  assert_memory_equal(txt->data + 1, "v=spf1 -all", 11);
  reply_free(r);

  r = ask(*state, "contoso.com", KNOT_RRTYPE_NS);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  assert_name(knot_ns_name(rr_at(r, KNOT_ANSWER, 0)->rrs.rdata), "ns.lab.invalid.");
  reply_free(r);

  r = ask(*state, "contoso.com", KNOT_RRTYPE_SOA);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  assert_name(knot_soa_mailbox(rr_at(r, KNOT_ANSWER, 0)->rrs.rdata), "hostmaster.contoso.com.");
  reply_free(r);

  r = ask(*state, "contoso.com", KNOT_RRTYPE_ANY);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 5); /* SOA, A, MX, TXT, NS */
  reply_free(r);
}

static void test_aaaa_from_host(void **state) {
  struct reply *r = ask(*state, "v6.contoso.com", KNOT_RRTYPE_AAAA);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  const knot_rrset_t *rr = rr_at(r, KNOT_ANSWER, 0);
  assert_int_equal(rr->type, KNOT_RRTYPE_AAAA);
  uint8_t expected[16];
  assert_int_equal(inet_pton(AF_INET6, "fd00::5", expected), 1);
  assert_int_equal(rr->rrs.rdata->len, 16);
  assert_memory_equal(rr->rrs.rdata->data, expected, 16);
  reply_free(r);
}

static void test_nxdomain_with_soa(void **state) {
  struct reply *r = ask(*state, "nothere.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NXDOMAIN, true);
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  assert_soa(r, "contoso.com.");
  assert_int_equal(r->info.n_answer, 0);
  reply_free(r);
}

static void test_nodata_aaaa_when_only_a(void **state) {
  struct reply *r = ask(*state, "contoso.com", KNOT_RRTYPE_AAAA);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  assert_soa(r, "contoso.com.");
  reply_free(r);
  r = ask(*state, "autodiscover.contoso.com", KNOT_RRTYPE_AAAA);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  assert_soa(r, "contoso.com.");
  reply_free(r);
}

static void test_empty_non_terminal_is_nodata(void **state) {
  struct reply *r = ask(*state, "_tcp.contoso.com", KNOT_RRTYPE_SRV);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  assert_soa(r, "contoso.com.");
  reply_free(r);
  r = ask(*state, "x._tcp.contoso.com", KNOT_RRTYPE_SRV);
  assert_header(r, KNOT_RCODE_NXDOMAIN, true);
  reply_free(r);
}

static void test_refused_outside_zones(void **state) {
  struct reply *r = ask(*state, "example.org", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_REFUSED, false);
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  assert_int_equal(count(r, KNOT_AUTHORITY), 0);
  reply_free(r);
  r = ask(*state, "com", KNOT_RRTYPE_NS);
  assert_header(r, KNOT_RCODE_REFUSED, false);
  reply_free(r);
  r = ask(*state, "9.9.9.9.in-addr.arpa", KNOT_RRTYPE_PTR);
  assert_header(r, KNOT_RCODE_REFUSED, false);
  reply_free(r);
}

static void test_derived_zone_from_record(void **state) {
  struct reply *r = ask(*state, "o365.fabrikam.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_a(rr_at(r, KNOT_ANSWER, 0), "o365.fabrikam.com.", "52.1.2.3");
  reply_free(r);
  r = ask(*state, "nothere.fabrikam.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NXDOMAIN, true);
  assert_soa(r, "fabrikam.com.");
  reply_free(r);
}

/* serve --listen: hosts that share one lab-network address all answer with it, the PTR of that
 * address names each of them, and a literal record spelling a host's fixed scenario address (as
 * a zone file must) follows the host to where the lab put it. */
static void test_lab_network_addresses(void **state) {
  (void) state;
  struct scn *s = xcalloc(1, sizeof *s);
  s->domain = str_dup("contoso.com");
  add_host(s, "www", "contoso.com");
  add_host(s, "exchange", "autodiscover.contoso.com");
  add_host(s, "web", "www.contoso.com");
  s->hosts[2].address = "127.77.40.10"; /* fixed in the scenario (not owned: see below) */
  add_record(s, "contoso.com", KNOT_RRTYPE_A)->host = str_dup("www");
  add_record(s, "autodiscover.contoso.com", KNOT_RRTYPE_A)->host = str_dup("exchange");
  add_record(s, "www.contoso.com", KNOT_RRTYPE_A)->address = str_dup("127.77.40.10");
  add_record(s, "other.contoso.com", KNOT_RRTYPE_A)->address = str_dup("127.77.40.11");
  const char *const addrs[] = {"10.77.0.1", "10.77.0.1", "10.77.0.2"};
  struct dns_zoneset *zs = NULL;
  char err[256] = "";
  enum dns_status st = dns_zoneset_new(&zs, s, addrs, err, sizeof err);
  s->hosts[2].address = NULL;
  free_scn(s);
  assert_int_equal(st, DNS_OK);

  struct reply *r = ask(zs, "autodiscover.contoso.com", KNOT_RRTYPE_A);
  assert_a(rr_at(r, KNOT_ANSWER, 0), "autodiscover.contoso.com.", "10.77.0.1");
  reply_free(r);
  r = ask(zs, "contoso.com", KNOT_RRTYPE_A);
  assert_a(rr_at(r, KNOT_ANSWER, 0), "contoso.com.", "10.77.0.1");
  reply_free(r);
  r = ask(zs, "www.contoso.com", KNOT_RRTYPE_A); /* the literal moved with its host */
  assert_a(rr_at(r, KNOT_ANSWER, 0), "www.contoso.com.", "10.77.0.2");
  reply_free(r);
  r = ask(zs, "other.contoso.com", KNOT_RRTYPE_A); /* no host has it: as written */
  assert_a(rr_at(r, KNOT_ANSWER, 0), "other.contoso.com.", "127.77.40.11");
  reply_free(r);

  r = ask(zs, "1.0.77.10.in-addr.arpa", KNOT_RRTYPE_PTR);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 2); /* both hosts on the address, in host order */
  assert_name(knot_ptr_name(rr_at(r, KNOT_ANSWER, 0)->rrs.rdata), "contoso.com.");
  assert_name(knot_ptr_name(rr_at(r, KNOT_ANSWER, 1)->rrs.rdata), "autodiscover.contoso.com.");
  reply_free(r);
  r = ask(zs, "2.0.77.10.in-addr.arpa", KNOT_RRTYPE_PTR);
  assert_name(knot_ptr_name(rr_at(r, KNOT_ANSWER, 0)->rrs.rdata), "www.contoso.com.");
  reply_free(r);
  dns_zoneset_free(zs);
}

static void test_ptr_for_host_addresses(void **state) {
  struct reply *r = ask(*state, "2.0.0.127.in-addr.arpa", KNOT_RRTYPE_PTR);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  assert_name(knot_ptr_name(rr_at(r, KNOT_ANSWER, 0)->rrs.rdata), "contoso.com.");
  reply_free(r);

  r = ask(*state, "4.0.0.127.in-addr.arpa", KNOT_RRTYPE_PTR);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_name(knot_ptr_name(rr_at(r, KNOT_ANSWER, 0)->rrs.rdata), "bare.lab.invalid.");
  reply_free(r);

  r = ask(*state, "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa",
          KNOT_RRTYPE_PTR);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_name(knot_ptr_name(rr_at(r, KNOT_ANSWER, 0)->rrs.rdata), "v6.contoso.com.");
  reply_free(r);

  r = ask(*state, "2.0.0.127.in-addr.arpa", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  assert_soa(r, "2.0.0.127.in-addr.arpa.");
  reply_free(r);
}

static void test_servfail_rule(void **state) {
  struct reply *r = ask(*state, "broken.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_SERVFAIL, false);
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  reply_free(r);
}

static void test_nxdomain_rule_case_insensitive(void **state) {
  struct reply *r = ask(*state, "GONE.contoso.COM", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NXDOMAIN, true);
  assert_soa(r, "contoso.com.");
  reply_free(r);
}

static void test_timeout_rule_sends_nothing(void **state) {
  struct reply *r = ask(*state, "timeout.contoso.com", KNOT_RRTYPE_A);
  assert_int_equal(r->len, 0);
  assert_null(r->pkt);
  assert_true(r->info.dropped);
  assert_non_null(r->info.why);
  assert_string_equal(r->info.qname, "timeout.contoso.com");
  reply_free(r);
}

static void test_tc_without_edns(void **state) {
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0x1234, "big.contoso.com", KNOT_RRTYPE_TXT, 0);
  struct reply *r = answer_wire(*state, q, len, sizeof r->wire, false);
  assert_true(r->len <= 512);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_true(knot_wire_get_tc(r->wire));
  assert_int_equal(knot_wire_get_ancount(r->wire), 0);
  assert_int_equal(knot_wire_get_nscount(r->wire), 0);
  assert_int_equal(knot_wire_get_arcount(r->wire), 0);
  assert_int_equal(r->len, len); /* header and question only */
  assert_true(r->info.truncated);
  assert_int_equal(r->info.n_answer, 0);
  reply_free(r);
}

static void test_no_tc_with_edns_4096(void **state) {
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0x1234, "big.contoso.com", KNOT_RRTYPE_TXT, 4096);
  struct reply *r = answer_wire(*state, q, len, sizeof r->wire, false);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_true(r->len > 512 && r->len <= 4096);
  assert_false(knot_wire_get_tc(r->wire));
  assert_int_equal(count(r, KNOT_ANSWER), 40);
  assert_true(knot_pkt_has_edns(r->pkt));
  assert_int_equal(knot_edns_get_payload(r->pkt->opt_rr), 4096);
  assert_false(r->info.truncated);
  reply_free(r);
}

static void test_edns_small_payload_means_512(void **state) {
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0x1234, "big.contoso.com", KNOT_RRTYPE_TXT, 100);
  struct reply *r = answer_wire(*state, q, len, sizeof r->wire, false);
  assert_true(r->len <= 512);
  assert_true(knot_wire_get_tc(r->wire));
  assert_true(knot_pkt_has_edns(r->pkt)); /* the OPT stays with TC */
  reply_free(r);
  /* and a UDP caller's own smaller buffer wins too */
  len = make_query(q, sizeof q, 0x1234, "big.contoso.com", KNOT_RRTYPE_TXT, 4096);
  r = answer_wire(*state, q, len, 1000, false);
  assert_true(knot_wire_get_tc(r->wire));
  reply_free(r);
}

static void test_no_edns_no_opt(void **state) {
  struct reply *r = ask(*state, "contoso.com", KNOT_RRTYPE_A);
  assert_false(knot_pkt_has_edns(r->pkt));
  reply_free(r);
}

static void test_tcp_sends_everything(void **state) {
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0x1234, "big.contoso.com", KNOT_RRTYPE_TXT, 0);
  struct reply *r = answer_wire(*state, q, len, sizeof r->wire, true);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_false(knot_wire_get_tc(r->wire));
  assert_int_equal(count(r, KNOT_ANSWER), 40);
  assert_true(r->len > 512);
  reply_free(r);
}

static void test_badvers(void **state) {
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0x1234, "contoso.com", KNOT_RRTYPE_A, 1232);
  /* the OPT is the last RR, ending in TTL (ext. RCODE, version, flags) and RDLENGTH (RFC
   * 6891 6.1.3) */
  q[len - 2 - 4 + 1] = 1;
  struct reply *r = answer_wire(*state, q, len, sizeof r->wire, false);
  assert_true(knot_pkt_has_edns(r->pkt));
  assert_int_equal(knot_pkt_ext_rcode(r->pkt), KNOT_RCODE_BADVERS);
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  assert_int_equal(r->info.rcode, KNOT_RCODE_BADVERS);
  reply_free(r);
}

/* formerr_header checks a FORMERR that is the query's header alone (QDCOUNT 0), same ID. */
static void formerr_header(const uint8_t *out, size_t n, uint16_t id) {
  assert_int_equal(n, KNOT_WIRE_HEADER_SIZE);
  assert_true(knot_wire_get_qr(out));
  assert_int_equal(knot_wire_get_id(out), id);
  assert_int_equal(knot_wire_get_rcode(out), KNOT_RCODE_FORMERR);
  assert_int_equal(knot_wire_get_qdcount(out), 0);
  assert_int_equal(knot_wire_get_ancount(out), 0);
}

static void test_short_input_dropped(void **state) {
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0x1234, "contoso.com", KNOT_RRTYPE_A, 0);
  uint8_t out[512];
  struct dns_info info;
  assert_int_equal(dns_answer(*state, q, 0, out, sizeof out, false, &info), 0);
  assert_true(info.dropped);
  assert_non_null(info.why);
  assert_string_equal(info.qname, "");
  assert_int_equal(dns_answer(*state, q, 11, out, sizeof out, false, &info), 0);
  assert_true(info.dropped);
  /* every cut inside the question: the header can be read, so the client gets FORMERR */
  for (size_t cut = KNOT_WIRE_HEADER_SIZE + 1; cut < len; cut++) {
    formerr_header(out, dns_answer(*state, q, cut, out, sizeof out, false, &info), 0x1234);
    assert_false(info.dropped);
    assert_int_equal(info.rcode, KNOT_RCODE_FORMERR);
    assert_string_equal(info.why, "malformed question");
    assert_string_equal(info.qname, "");
  }
}

static void test_header_without_question_formerr(void **state) {
  uint8_t q[512];
  make_query(q, sizeof q, 0x1234, "contoso.com", KNOT_RRTYPE_A, 0);
  knot_wire_set_qdcount(q, 0);
  uint8_t out[512];
  struct dns_info info;
  formerr_header(out, dns_answer(*state, q, KNOT_WIRE_HEADER_SIZE, out, sizeof out, false, &info),
                 0x1234);
  assert_false(info.dropped);
  assert_string_equal(info.why, "no question");
  /* a header that says there is a question when there is none */
  knot_wire_set_qdcount(q, 1);
  formerr_header(out, dns_answer(*state, q, KNOT_WIRE_HEADER_SIZE, out, sizeof out, true, &info),
                 0x1234);
  assert_string_equal(info.why, "malformed question");
}

static void test_compression_loop_formerr(void **state) {
  uint8_t q[128] = {0};
  knot_wire_set_id(q, 1);
  knot_wire_set_qdcount(q, 1);
  /* the QNAME is a pointer to itself, then a pointer to the header */
  q[12] = 0xc0;
  q[13] = 12;
  q[14] = 0;
  q[15] = 1;
  q[16] = 0;
  q[17] = 1;
  uint8_t out[512];
  struct dns_info info;
  formerr_header(out, dns_answer(*state, q, 18, out, sizeof out, false, &info), 1);
  assert_string_equal(info.why, "malformed question");
  q[13] = 0;
  formerr_header(out, dns_answer(*state, q, 18, out, sizeof out, false, &info), 1);
  /* a label longer than 63 bytes (RFC 1035 2.3.4) */
  memset(q + 12, 'a', 80);
  q[12] = 70;
  q[83] = 0;
  memset(q + 84, 0, 4);
  q[85] = 1;
  q[87] = 1;
  formerr_header(out, dns_answer(*state, q, 88, out, sizeof out, false, &info), 1);
}

static void test_bad_record_section_is_formerr(void **state) {
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0x1234, "contoso.com", KNOT_RRTYPE_A, 0);
  knot_wire_set_ancount(q, 1); /* claims an answer record that is not there */
  struct reply *r = answer_wire(*state, q, len, sizeof r->wire, false);
  assert_header(r, KNOT_RCODE_FORMERR, false);
  assert_name(knot_pkt_qname(r->pkt), "contoso.com.");
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  assert_non_null(r->info.why);
  reply_free(r);

  /* an answer record pointing into a compression loop */
  len = make_query(q, sizeof q, 0x1234, "contoso.com", KNOT_RRTYPE_A, 0);
  knot_wire_set_ancount(q, 1);
  size_t at = len;
  q[at] = 0xc0;
  q[at + 1] = (uint8_t) at;
  memset(q + at + 2, 0, 10);
  r = answer_wire(*state, q, at + 12, sizeof r->wire, false);
  assert_header(r, KNOT_RCODE_FORMERR, false);
  reply_free(r);
}

static void test_trailing_bytes_formerr(void **state) {
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0x1234, "contoso.com", KNOT_RRTYPE_A, 0);
  q[len] = 0xab;
  struct reply *r = answer_wire(*state, q, len + 1, sizeof r->wire, false);
  assert_header(r, KNOT_RCODE_FORMERR, false);
  reply_free(r);
}

static void test_response_dropped(void **state) {
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0x1234, "contoso.com", KNOT_RRTYPE_A, 0);
  knot_wire_set_qr(q);
  uint8_t out[512];
  struct dns_info info;
  assert_int_equal(dns_answer(*state, q, len, out, sizeof out, false, &info), 0);
  assert_true(info.dropped);
  assert_non_null(info.why);
}

static void test_other_opcode_notimp(void **state) {
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0x1234, "contoso.com", KNOT_RRTYPE_SOA, 0);
  knot_wire_set_opcode(q, KNOT_OPCODE_NOTIFY);
  struct reply *r = answer_wire(*state, q, len, sizeof r->wire, false);
  assert_header(r, KNOT_RCODE_NOTIMPL, false);
  assert_int_equal(knot_wire_get_opcode(r->wire), KNOT_OPCODE_NOTIFY);
  reply_free(r);
  /* with a question that cannot be read: the header alone */
  knot_wire_set_opcode(q, KNOT_OPCODE_STATUS);
  r = answer_wire(*state, q, KNOT_WIRE_HEADER_SIZE + 3, sizeof r->wire, false);
  assert_int_equal(r->len, KNOT_WIRE_HEADER_SIZE);
  assert_int_equal(knot_wire_get_rcode(r->wire), KNOT_RCODE_NOTIMPL);
  assert_int_equal(knot_wire_get_qdcount(r->wire), 0);
  reply_free(r);
}

static void test_not_class_in_refused(void **state) {
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0x1234, "contoso.com", KNOT_RRTYPE_TXT, 0);
  knot_wire_write_u16(q + len - 2, KNOT_CLASS_CH);
  struct reply *r = answer_wire(*state, q, len, sizeof r->wire, false);
  assert_header(r, KNOT_RCODE_REFUSED, false);
  reply_free(r);
  len = make_query(q, sizeof q, 0x1234, "contoso.com", KNOT_RRTYPE_AXFR, 0);
  r = answer_wire(*state, q, len, sizeof r->wire, true);
  assert_header(r, KNOT_RCODE_REFUSED, false);
  reply_free(r);
}

/* Mutations of valid queries never crash and never answer past the cap. */
static void test_mutations_never_crash(void **state) {
  uint8_t base[512];
  size_t base_len = make_query(base, sizeof base, 0x1234, "_autodiscover._tcp.contoso.com",
                               KNOT_RRTYPE_SRV, 1232);
  uint8_t q[600];
  uint8_t out[512];
  unsigned seed = 12345;
  for (int i = 0; i < 20000; i++) {
    memcpy(q, base, base_len);
    size_t len = base_len;
    int edits = 1 + (int) (rand_r(&seed) % 4);
    for (int e = 0; e < edits; e++) {
      q[rand_r(&seed) % len] = (uint8_t) rand_r(&seed);
    }
    if (rand_r(&seed) % 4 == 0) {
      len = rand_r(&seed) % (base_len + 1);
    }
    q[2] &= 0x7f; /* keep QR clear so the parser is exercised */
    struct dns_info info;
    size_t n = dns_answer(*state, q, len, out, sizeof out, false, &info);
    assert_true(n <= sizeof out);
    if (n > 0) {
      knot_pkt_t *p = knot_pkt_new(out, (uint16_t) n, NULL);
      assert_int_equal(knot_pkt_parse(p, 0), KNOT_EOK);
      knot_pkt_free(p);
    } else {
      assert_true(info.dropped);
    }
  }
}

static void test_zoneset_errors(void **state) {
  char err[256];
  struct scn *s = xcalloc(1, sizeof *s);
  s->domain = str_dup("contoso.com");
  struct scn_record *r = add_record(s, "contoso.com", KNOT_RRTYPE_A);
  r->host = str_dup("nobody");
  r->mark = (struct scn_mark){.file = "s.yaml", .line = 4, .col = 7};
  struct dns_zoneset *zs = (struct dns_zoneset *) 1;
  assert_int_equal(dns_zoneset_new(&zs, s, NULL, err, sizeof err), DNS_EZONE);
  assert_null(zs);
  assert_non_null(strstr(err, "s.yaml:4:7: "));
  assert_non_null(strstr(err, "nobody"));
  free(r->host);
  r->host = NULL;
  r->address = str_dup("not-an-address");
  assert_int_equal(dns_zoneset_new(&zs, s, NULL, err, sizeof err), DNS_EZONE);
  assert_non_null(strstr(err, "not-an-address"));
  free(r->address);
  r->address = str_dup("fd00::1"); /* an IPv6 address in an A record */
  assert_int_equal(dns_zoneset_new(&zs, s, NULL, err, sizeof err), DNS_EZONE);
  r->type = KNOT_RRTYPE_AAAA;
  assert_int_equal(dns_zoneset_new(&zs, s, NULL, err, sizeof err), DNS_OK);
  assert_non_null(zs);
  dns_zoneset_free(zs);
  r = add_record(s, "x.contoso.com", KNOT_RRTYPE_CNAME); /* no target */
  assert_int_equal(dns_zoneset_new(&zs, s, NULL, err, sizeof err), DNS_EZONE);
  assert_non_null(strstr(err, "x.contoso.com"));
  free_scn(s);
}

static void test_given_zones_used(void **state) {
  char err[256];
  struct scn *s = xcalloc(1, sizeof *s);
  s->domain = str_dup("contoso.com");
  s->zones = xcalloc(1, sizeof *s->zones);
  s->zones[0] = str_dup("corp.contoso.com");
  s->n_zones = 1;
  add_record(s, "mail.corp.contoso.com", KNOT_RRTYPE_A)->address = str_dup("10.1.1.1");
  struct dns_zoneset *zs = NULL;
  assert_int_equal(dns_zoneset_new(&zs, s, NULL, err, sizeof err), DNS_OK);
  assert_non_null(zs);
  struct reply *r = ask(zs, "nothere.corp.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NXDOMAIN, true);
  assert_soa(r, "corp.contoso.com.");
  reply_free(r);
  r = ask(zs, "www.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_REFUSED, false);
  reply_free(r);
  dns_zoneset_free(zs);
  free_scn(s);
}

/* --- rules by name and type, first_n, nodata, refused, truncate --- */

/* rules_base is a small zone the rule tests add their rules to. */
static struct scn *rules_base(void) {
  struct scn *s = xcalloc(1, sizeof *s);
  s->domain = str_dup("contoso.com");
  add_record(s, "r.contoso.com", KNOT_RRTYPE_A)->address = str_dup("10.0.0.1");
  add_record(s, "r.contoso.com", KNOT_RRTYPE_AAAA)->address = str_dup("fd00::1");
  add_record(s, "r.contoso.com", KNOT_RRTYPE_TXT)->text = str_dup("hello");
  struct scn_record *r = add_record(s, "_autodiscover._tcp.contoso.com", KNOT_RRTYPE_SRV);
  r->target = str_dup("r.contoso.com");
  r->port = 443;
  add_record(s, "alias.contoso.com", KNOT_RRTYPE_CNAME)->target = str_dup("r.contoso.com");
  return s;
}

/* build makes the zoneset of `s` and frees `s`. */
static struct dns_zoneset *build(struct scn *s) {
  char err[256];
  struct dns_zoneset *zs = NULL;
  if (dns_zoneset_new(&zs, s, NULL, err, sizeof err) != DNS_OK) {
    fail_msg("dns_zoneset_new: %s", err);
  }
  free_scn(s);
  return zs;
}

static struct reply *ask_over(struct dns_zoneset *zs, const char *name, uint16_t type, bool tcp) {
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0x1234, name, type, 0);
  return answer_wire(zs, q, len, tcp ? KNOT_WIRE_MAX_PKTSIZE : 512, tcp);
}

static void assert_rule(const struct reply *r, const char *rule) {
  if (rule == NULL) {
    assert_null(r->info.rule);
  } else {
    assert_non_null(r->info.rule);
    assert_string_equal(r->info.rule, rule);
  }
}

/* assert_normal checks the records' own answer to (name, type) in the rules_base zone. */
static void assert_normal(const struct reply *r, uint16_t type) {
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_false(knot_wire_get_tc(r->wire));
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  assert_int_equal(rr_at(r, KNOT_ANSWER, 0)->type, type);
  assert_int_equal(count(r, KNOT_AUTHORITY), 0);
}

/* assert_behaviour checks a response made by rule `b` (over UDP) field by field. */
static void assert_behaviour(const struct reply *r, enum scn_dns_behaviour b, size_t query_len) {
  switch (b) {
    case SCN_DNS_NXDOMAIN:
    case SCN_DNS_NODATA:
      assert_header(r, b == SCN_DNS_NXDOMAIN ? KNOT_RCODE_NXDOMAIN : KNOT_RCODE_NOERROR, true);
      assert_int_equal(count(r, KNOT_ANSWER), 0);
      assert_soa(r, "contoso.com.");
      assert_false(knot_wire_get_tc(r->wire));
      assert_rule(r, b == SCN_DNS_NXDOMAIN ? "nxdomain" : "nodata");
      break;
    case SCN_DNS_SERVFAIL:
    case SCN_DNS_REFUSED:
      assert_header(r, b == SCN_DNS_SERVFAIL ? KNOT_RCODE_SERVFAIL : KNOT_RCODE_REFUSED, false);
      assert_int_equal(count(r, KNOT_ANSWER), 0);
      assert_int_equal(count(r, KNOT_AUTHORITY), 0);
      assert_rule(r, b == SCN_DNS_SERVFAIL ? "servfail" : "refused");
      break;
    case SCN_DNS_TIMEOUT:
      assert_int_equal(r->len, 0);
      assert_null(r->pkt);
      assert_true(r->info.dropped);
      assert_string_equal(r->info.why, "timeout rule");
      assert_rule(r, "timeout");
      break;
    case SCN_DNS_TRUNCATE:
      assert_header(r, KNOT_RCODE_NOERROR, true);
      assert_true(knot_wire_get_tc(r->wire));
      assert_int_equal(knot_wire_get_ancount(r->wire), 0);
      assert_int_equal(knot_wire_get_nscount(r->wire), 0);
      assert_int_equal(knot_wire_get_arcount(r->wire), 0);
      assert_int_equal(r->len, query_len); /* header and question only */
      assert_true(r->info.truncated);
      assert_rule(r, "truncate");
      break;
    case SCN_DNS_ANSWER: fail_msg("not a rule behaviour");
    case SCN_DNS_RAW: fail_msg("tested in test_dns_raw.c");
  }
  assert_int_equal(r->info.n_answer, 0);
  assert_false(r->info.wildcard);
}

static void test_every_behaviour_by_type(void **state) {
  const enum scn_dns_behaviour behaviours[] = {SCN_DNS_NXDOMAIN, SCN_DNS_SERVFAIL,
                                               SCN_DNS_TIMEOUT,  SCN_DNS_NODATA,
                                               SCN_DNS_REFUSED,  SCN_DNS_TRUNCATE};
  struct {
    const char *name;
    uint16_t type;  /* the rule's */
    uint16_t other; /* a type the name also has, which the rule leaves alone */
  } cases[] = {
      {"r.contoso.com", KNOT_RRTYPE_A, KNOT_RRTYPE_AAAA},
      {"r.contoso.com", KNOT_RRTYPE_AAAA, KNOT_RRTYPE_TXT},
      {"r.contoso.com", KNOT_RRTYPE_TXT, KNOT_RRTYPE_A},
      {"_autodiscover._tcp.contoso.com", KNOT_RRTYPE_SRV, 0},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    for (size_t b = 0; b < sizeof behaviours / sizeof behaviours[0]; b++) {
      struct scn *s = rules_base();
      add_typed_rule(s, cases[c].name, cases[c].type, behaviours[b], 0);
      struct dns_zoneset *zs = build(s);
      uint8_t q[512];
      size_t len = make_query(q, sizeof q, 0x1234, cases[c].name, cases[c].type, 0);
      for (int again = 0; again < 3; again++) { /* first_n 0: every time */
        struct reply *r = answer_wire(zs, q, len, 512, false);
        assert_behaviour(r, behaviours[b], len);
        assert_int_equal(r->info.qtype, cases[c].type);
        reply_free(r);
      }
      if (cases[c].other != 0) {
        struct reply *r = ask_over(zs, cases[c].name, cases[c].other, false);
        assert_normal(r, cases[c].other);
        assert_rule(r, NULL);
        reply_free(r);
      }
      /* a typed rule is for that QTYPE only: ANY is answered from the records */
      struct reply *r = ask_over(zs, cases[c].name, KNOT_RRTYPE_ANY, true);
      assert_header(r, KNOT_RCODE_NOERROR, true);
      assert_true(count(r, KNOT_ANSWER) >= 1);
      assert_rule(r, NULL);
      reply_free(r);
      dns_zoneset_free(zs);
    }
  }
}

static void test_type_zero_rule_matches_every_type(void **state) {
  struct scn *s = rules_base();
  add_typed_rule(s, "r.contoso.com", 0, SCN_DNS_NODATA, 0);
  struct dns_zoneset *zs = build(s);
  const uint16_t types[] = {KNOT_RRTYPE_A, KNOT_RRTYPE_AAAA, KNOT_RRTYPE_TXT, KNOT_RRTYPE_MX,
                            KNOT_RRTYPE_ANY};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    uint8_t q[512];
    size_t len = make_query(q, sizeof q, 0x1234, "r.contoso.com", types[i], 0);
    struct reply *r = answer_wire(zs, q, len, 512, false);
    assert_behaviour(r, SCN_DNS_NODATA, len);
    reply_free(r);
  }
  /* other names are not touched */
  struct reply *r = ask_over(zs, "_autodiscover._tcp.contoso.com", KNOT_RRTYPE_SRV, false);
  assert_normal(r, KNOT_RRTYPE_SRV);
  reply_free(r);
  dns_zoneset_free(zs);
}

static void test_typed_rule_before_any_type_rule(void **state) {
  struct scn *s = rules_base();
  add_typed_rule(s, "r.contoso.com", 0, SCN_DNS_SERVFAIL, 0); /* listed first, still second */
  add_typed_rule(s, "R.contoso.com", KNOT_RRTYPE_A, SCN_DNS_NXDOMAIN, 0);
  add_typed_rule(s, "r.contoso.com", KNOT_RRTYPE_AAAA, SCN_DNS_REFUSED, 0);
  struct dns_zoneset *zs = build(s);
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0x1234, "r.contoso.com", KNOT_RRTYPE_A, 0);
  struct reply *r = answer_wire(zs, q, len, 512, false);
  assert_behaviour(r, SCN_DNS_NXDOMAIN, len);
  reply_free(r);
  len = make_query(q, sizeof q, 0x1234, "r.contoso.com", KNOT_RRTYPE_AAAA, 0);
  r = answer_wire(zs, q, len, 512, false);
  assert_behaviour(r, SCN_DNS_REFUSED, len);
  reply_free(r);
  len = make_query(q, sizeof q, 0x1234, "r.contoso.com", KNOT_RRTYPE_TXT, 0);
  r = answer_wire(zs, q, len, 512, false);
  assert_behaviour(r, SCN_DNS_SERVFAIL, len);
  reply_free(r);
  dns_zoneset_free(zs);
}

static void test_first_n_fails_then_answers(void **state) {
  struct scn *s = rules_base();
  add_typed_rule(s, "r.contoso.com", KNOT_RRTYPE_A, SCN_DNS_SERVFAIL, 2);
  struct dns_zoneset *zs = build(s);
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0x1234, "r.contoso.com", KNOT_RRTYPE_A, 0);
  /* a query of another type does not count */
  struct reply *r = ask_over(zs, "r.contoso.com", KNOT_RRTYPE_AAAA, false);
  assert_normal(r, KNOT_RRTYPE_AAAA);
  reply_free(r);
  /* the count is the rule's, over UDP and TCP together */
  r = answer_wire(zs, q, len, 512, false);
  assert_behaviour(r, SCN_DNS_SERVFAIL, len);
  reply_free(r);
  r = answer_wire(zs, q, len, KNOT_WIRE_MAX_PKTSIZE, true);
  assert_behaviour(r, SCN_DNS_SERVFAIL, len);
  reply_free(r);
  for (int i = 0; i < 3; i++) {
    r = answer_wire(zs, q, len, 512, i % 2 == 0);
    assert_normal(r, KNOT_RRTYPE_A);
    assert_a(rr_at(r, KNOT_ANSWER, 0), "r.contoso.com.", "10.0.0.1");
    assert_rule(r, NULL);
    reply_free(r);
  }
  /* a reset starts the count again */
  dns_zoneset_reset_rules(zs);
  r = answer_wire(zs, q, len, 512, false);
  assert_behaviour(r, SCN_DNS_SERVFAIL, len);
  reply_free(r);
  dns_zoneset_free(zs);
}

static void test_first_n_each_behaviour(void **state) {
  const enum scn_dns_behaviour behaviours[] = {SCN_DNS_NXDOMAIN, SCN_DNS_TIMEOUT, SCN_DNS_NODATA,
                                               SCN_DNS_REFUSED, SCN_DNS_TRUNCATE};
  for (size_t b = 0; b < sizeof behaviours / sizeof behaviours[0]; b++) {
    struct scn *s = rules_base();
    add_typed_rule(s, "_autodiscover._tcp.contoso.com", KNOT_RRTYPE_SRV, behaviours[b], 2);
    struct dns_zoneset *zs = build(s);
    uint8_t q[512];
    size_t len =
        make_query(q, sizeof q, 0x1234, "_autodiscover._tcp.contoso.com", KNOT_RRTYPE_SRV, 0);
    for (int i = 0; i < 4; i++) {
      struct reply *r = answer_wire(zs, q, len, 512, false);
      if (i < 2) {
        assert_behaviour(r, behaviours[b], len);
      } else {
        assert_normal(r, KNOT_RRTYPE_SRV);
        assert_rule(r, NULL);
      }
      reply_free(r);
    }
    dns_zoneset_free(zs);
  }
}

static void test_spent_typed_rule_falls_to_any_type_rule(void **state) {
  struct scn *s = rules_base();
  add_typed_rule(s, "r.contoso.com", KNOT_RRTYPE_A, SCN_DNS_SERVFAIL, 1);
  add_typed_rule(s, "r.contoso.com", 0, SCN_DNS_NXDOMAIN, 1);
  struct dns_zoneset *zs = build(s);
  uint8_t q[512];
  size_t len = make_query(q, sizeof q, 0x1234, "r.contoso.com", KNOT_RRTYPE_A, 0);
  struct reply *r = answer_wire(zs, q, len, 512, false);
  assert_behaviour(r, SCN_DNS_SERVFAIL, len);
  reply_free(r);
  r = answer_wire(zs, q, len, 512, false);
  assert_behaviour(r, SCN_DNS_NXDOMAIN, len);
  reply_free(r);
  r = answer_wire(zs, q, len, 512, false);
  assert_normal(r, KNOT_RRTYPE_A);
  reply_free(r);
  dns_zoneset_free(zs);
}

static void test_truncate_udp_then_tcp(void **state) {
  struct scn *s = rules_base();
  add_typed_rule(s, "r.contoso.com", KNOT_RRTYPE_A, SCN_DNS_TRUNCATE, 0);
  add_typed_rule(s, "r.contoso.com", KNOT_RRTYPE_TXT, SCN_DNS_TRUNCATE, 2);
  struct dns_zoneset *zs = build(s);
  uint8_t q[512];
  /* with EDNS the OPT stays, as for any truncated answer */
  size_t len = make_query(q, sizeof q, 0x1234, "r.contoso.com", KNOT_RRTYPE_A, 1232);
  struct reply *r = answer_wire(zs, q, len, 1232, false);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_true(knot_wire_get_tc(r->wire));
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  assert_int_equal(count(r, KNOT_AUTHORITY), 0);
  assert_true(knot_pkt_has_edns(r->pkt));
  assert_rule(r, "truncate");
  reply_free(r);
  /* the retry over TCP: the full answer, TC clear */
  r = answer_wire(zs, q, len, KNOT_WIRE_MAX_PKTSIZE, true);
  assert_normal(r, KNOT_RRTYPE_A);
  assert_a(rr_at(r, KNOT_ANSWER, 0), "r.contoso.com.", "10.0.0.1");
  assert_false(r->info.truncated);
  assert_rule(r, "truncate");
  reply_free(r);
  /* first_n 2 counts TCP queries too: UDP (TC), TCP (full), then UDP answers in full */
  len = make_query(q, sizeof q, 0x1234, "r.contoso.com", KNOT_RRTYPE_TXT, 0);
  r = answer_wire(zs, q, len, 512, false);
  assert_behaviour(r, SCN_DNS_TRUNCATE, len);
  reply_free(r);
  r = answer_wire(zs, q, len, KNOT_WIRE_MAX_PKTSIZE, true);
  assert_normal(r, KNOT_RRTYPE_TXT);
  reply_free(r);
  r = answer_wire(zs, q, len, 512, false);
  assert_normal(r, KNOT_RRTYPE_TXT);
  assert_rule(r, NULL);
  reply_free(r);
  dns_zoneset_free(zs);
}

static void test_rules_on_cname_target(void **state) {
  const enum scn_dns_behaviour behaviours[] = {SCN_DNS_NODATA, SCN_DNS_NXDOMAIN, SCN_DNS_REFUSED,
                                               SCN_DNS_TRUNCATE};
  for (size_t b = 0; b < sizeof behaviours / sizeof behaviours[0]; b++) {
    struct scn *s = rules_base();
    add_typed_rule(s, "r.contoso.com", KNOT_RRTYPE_A, behaviours[b], 0);
    struct dns_zoneset *zs = build(s);
    struct reply *r = ask_over(zs, "alias.contoso.com", KNOT_RRTYPE_A, false);
    switch (behaviours[b]) {
      case SCN_DNS_NODATA:
      case SCN_DNS_NXDOMAIN:
        /* RFC 2308 §2: the CNAME stays, the SOA goes in authority */
        assert_header(r, behaviours[b] == SCN_DNS_NODATA ? KNOT_RCODE_NOERROR : KNOT_RCODE_NXDOMAIN,
                      true);
        assert_int_equal(count(r, KNOT_ANSWER), 1);
        assert_int_equal(rr_at(r, KNOT_ANSWER, 0)->type, KNOT_RRTYPE_CNAME);
        assert_name(rr_at(r, KNOT_ANSWER, 0)->owner, "alias.contoso.com.");
        assert_soa(r, "contoso.com.");
        break;
      case SCN_DNS_REFUSED:
        assert_header(r, KNOT_RCODE_REFUSED, false);
        assert_int_equal(count(r, KNOT_ANSWER), 0);
        assert_int_equal(count(r, KNOT_AUTHORITY), 0);
        break;
      default:
        assert_header(r, KNOT_RCODE_NOERROR, true);
        assert_true(knot_wire_get_tc(r->wire));
        assert_int_equal(count(r, KNOT_ANSWER), 0);
        break;
    }
    reply_free(r);
    /* the CNAME itself is not the ruled type */
    r = ask_over(zs, "alias.contoso.com", KNOT_RRTYPE_CNAME, false);
    assert_normal(r, KNOT_RRTYPE_CNAME);
    reply_free(r);
    /* over TCP the truncate rule lets the whole chain through */
    r = ask_over(zs, "alias.contoso.com", KNOT_RRTYPE_A, true);
    if (behaviours[b] == SCN_DNS_TRUNCATE) {
      assert_header(r, KNOT_RCODE_NOERROR, true);
      assert_int_equal(count(r, KNOT_ANSWER), 2);
      assert_a(rr_at(r, KNOT_ANSWER, 1), "r.contoso.com.", "10.0.0.1");
      assert_rule(r, "truncate");
    }
    reply_free(r);
    dns_zoneset_free(zs);
  }
}

/* --- wildcards (RFC 4592) --- */

static struct dns_zoneset *wild_zoneset(void) {
  struct scn *s = xcalloc(1, sizeof *s);
  s->domain = str_dup("contoso.com");
  add_record(s, "*.contoso.com", KNOT_RRTYPE_A)->address = str_dup("10.9.9.9");
  add_record(s, "*.contoso.com", KNOT_RRTYPE_TXT)->text = str_dup("wild");
  add_record(s, "host.contoso.com", KNOT_RRTYPE_A)->address = str_dup("10.0.0.1");
  add_record(s, "a.ent.contoso.com", KNOT_RRTYPE_A)->address = str_dup("10.0.0.2");
  struct scn_record *r = add_record(s, "*.srv.contoso.com", KNOT_RRTYPE_SRV);
  r->target = str_dup("host.contoso.com");
  r->priority = 5;
  r->port = 443;
  add_record(s, "*.alias.contoso.com", KNOT_RRTYPE_CNAME)->target = str_dup("host.contoso.com");
  add_record(s, "*.v6.contoso.com", KNOT_RRTYPE_AAAA)->address = str_dup("fd00::9");
  add_typed_rule(s, "ruled.contoso.com", 0, SCN_DNS_SERVFAIL, 0);
  add_typed_rule(s, "*.v6.contoso.com", 0, SCN_DNS_REFUSED, 0);
  return build(s);
}

static void test_wildcard_a_txt(void **state) {
  struct dns_zoneset *zs = wild_zoneset();
  struct reply *r = ask(zs, "foo.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  assert_a(rr_at(r, KNOT_ANSWER, 0), "foo.contoso.com.", "10.9.9.9"); /* the QNAME owns it */
  assert_int_equal(rr_at(r, KNOT_ANSWER, 0)->ttl, 300);
  assert_int_equal(count(r, KNOT_AUTHORITY), 0);
  assert_true(r->info.wildcard);
  assert_rule(r, NULL);
  reply_free(r);
  /* several labels below the closest encloser */
  r = ask(zs, "a.b.c.contoso.com", KNOT_RRTYPE_TXT);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  const knot_rrset_t *txt = rr_at(r, KNOT_ANSWER, 0);
  assert_int_equal(txt->type, KNOT_RRTYPE_TXT);
  assert_name(txt->owner, "a.b.c.contoso.com.");
  assert_int_equal(txt->rrs.rdata->len, 5);
  assert_memory_equal(txt->rrs.rdata->data, "\x04wild", 5);
  assert_true(r->info.wildcard);
  reply_free(r);
  /* ANY: every RRset of the wildcard, under the QNAME */
  r = ask(zs, "any.contoso.com", KNOT_RRTYPE_ANY);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 2);
  assert_name(rr_at(r, KNOT_ANSWER, 0)->owner, "any.contoso.com.");
  assert_name(rr_at(r, KNOT_ANSWER, 1)->owner, "any.contoso.com.");
  reply_free(r);
  /* the wildcard's own name is an ordinary name */
  r = ask(zs, "*.contoso.com", KNOT_RRTYPE_A);
  assert_a(rr_at(r, KNOT_ANSWER, 0), "*.contoso.com.", "10.9.9.9");
  assert_false(r->info.wildcard);
  reply_free(r);
  dns_zoneset_free(zs);
}

static void test_wildcard_srv_and_aaaa(void **state) {
  struct dns_zoneset *zs = wild_zoneset();
  struct reply *r = ask(zs, "_autodiscover._tcp.srv.contoso.com", KNOT_RRTYPE_SRV);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  const knot_rrset_t *srv = rr_at(r, KNOT_ANSWER, 0);
  assert_int_equal(srv->type, KNOT_RRTYPE_SRV);
  assert_name(srv->owner, "_autodiscover._tcp.srv.contoso.com.");
  assert_int_equal(knot_wire_read_u16(srv->rrs.rdata->data), 5);
  assert_int_equal(knot_wire_read_u16(srv->rrs.rdata->data + 4), 443);
  assert_name(knot_srv_name(srv->rrs.rdata), "host.contoso.com.");
  assert_true(r->info.wildcard);
  reply_free(r);
  r = ask(zs, "x.v6.contoso.com", KNOT_RRTYPE_AAAA);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  const knot_rrset_t *aaaa = rr_at(r, KNOT_ANSWER, 0);
  assert_int_equal(aaaa->type, KNOT_RRTYPE_AAAA);
  assert_name(aaaa->owner, "x.v6.contoso.com.");
  uint8_t expected[16];
  assert_int_equal(inet_pton(AF_INET6, "fd00::9", expected), 1);
  assert_memory_equal(aaaa->rrs.rdata->data, expected, 16);
  reply_free(r);
  dns_zoneset_free(zs);
}

static void test_wildcard_other_type_is_nodata(void **state) {
  struct dns_zoneset *zs = wild_zoneset();
  struct reply *r = ask(zs, "foo.contoso.com", KNOT_RRTYPE_MX);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  assert_soa(r, "contoso.com.");
  assert_true(r->info.wildcard);
  reply_free(r);
  /* below a wildcard with SRV only: an A query is NODATA, not NXDOMAIN */
  r = ask(zs, "x.srv.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  assert_soa(r, "contoso.com.");
  reply_free(r);
  dns_zoneset_free(zs);
}

static void test_wildcard_not_for_existing_name(void **state) {
  struct dns_zoneset *zs = wild_zoneset();
  struct reply *r = ask(zs, "host.contoso.com", KNOT_RRTYPE_A);
  assert_a(rr_at(r, KNOT_ANSWER, 0), "host.contoso.com.", "10.0.0.1");
  assert_false(r->info.wildcard);
  reply_free(r);
  /* the name exists, without TXT: NODATA, not the wildcard's TXT (RFC 4592 2.2.1) */
  r = ask(zs, "host.contoso.com", KNOT_RRTYPE_TXT);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  assert_soa(r, "contoso.com.");
  assert_false(r->info.wildcard);
  reply_free(r);
  /* below an existing name the closest encloser is that name, which has no wildcard */
  r = ask(zs, "x.host.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NXDOMAIN, true);
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  assert_soa(r, "contoso.com.");
  assert_false(r->info.wildcard);
  reply_free(r);
  /* the apex is not matched by its own wildcard */
  r = ask(zs, "contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  assert_false(r->info.wildcard);
  reply_free(r);
  dns_zoneset_free(zs);
}

static void test_wildcard_not_for_empty_non_terminal(void **state) {
  struct dns_zoneset *zs = wild_zoneset();
  struct reply *r = ask(zs, "ent.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  assert_soa(r, "contoso.com.");
  assert_false(r->info.wildcard);
  reply_free(r);
  /* srv.contoso.com is an empty non-terminal made by its wildcard child */
  r = ask(zs, "srv.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 0);
  assert_false(r->info.wildcard);
  reply_free(r);
  /* below the empty non-terminal "ent" there is no "*.ent": NXDOMAIN */
  r = ask(zs, "b.ent.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NXDOMAIN, true);
  assert_false(r->info.wildcard);
  reply_free(r);
  dns_zoneset_free(zs);
}

static void test_wildcard_cname(void **state) {
  struct dns_zoneset *zs = wild_zoneset();
  struct reply *r = ask(zs, "x.alias.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 2);
  const knot_rrset_t *cname = rr_at(r, KNOT_ANSWER, 0);
  assert_int_equal(cname->type, KNOT_RRTYPE_CNAME);
  assert_name(cname->owner, "x.alias.contoso.com.");
  assert_name(knot_cname_name(cname->rrs.rdata), "host.contoso.com.");
  assert_a(rr_at(r, KNOT_ANSWER, 1), "host.contoso.com.", "10.0.0.1");
  assert_true(r->info.wildcard);
  assert_int_equal(r->info.n_answer, 2);
  reply_free(r);
  r = ask(zs, "y.alias.contoso.com", KNOT_RRTYPE_CNAME);
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  assert_name(rr_at(r, KNOT_ANSWER, 0)->owner, "y.alias.contoso.com.");
  reply_free(r);
  dns_zoneset_free(zs);
}

static void test_wildcard_and_rules(void **state) {
  struct dns_zoneset *zs = wild_zoneset();
  /* a rule on a name the wildcard would answer wins */
  struct reply *r = ask(zs, "ruled.contoso.com", KNOT_RRTYPE_A);
  assert_header(r, KNOT_RCODE_SERVFAIL, false);
  assert_rule(r, "servfail");
  assert_false(r->info.wildcard);
  reply_free(r);
  /* a rule on the wildcard's own name is for that exact name, not the names it answers */
  r = ask(zs, "x.v6.contoso.com", KNOT_RRTYPE_AAAA);
  assert_header(r, KNOT_RCODE_NOERROR, true);
  assert_int_equal(count(r, KNOT_ANSWER), 1);
  assert_rule(r, NULL);
  reply_free(r);
  r = ask(zs, "*.v6.contoso.com", KNOT_RRTYPE_AAAA);
  assert_header(r, KNOT_RCODE_REFUSED, false);
  assert_rule(r, "refused");
  reply_free(r);
  dns_zoneset_free(zs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_a_via_host_symbol),
      cmocka_unit_test(test_ttl_as_given_or_300),
      cmocka_unit_test(test_question_echoed_with_its_case),
      cmocka_unit_test(test_rd_clear_stays_clear),
      cmocka_unit_test(test_cname_chain_followed),
      cmocka_unit_test(test_cname_query_not_followed),
      cmocka_unit_test(test_cname_loop_stops),
      cmocka_unit_test(test_cname_to_missing_name_is_nxdomain),
      cmocka_unit_test(test_cname_out_of_lab_answers_cname_only),
      cmocka_unit_test(test_cname_to_servfail_rule),
      cmocka_unit_test(test_srv_fields),
      cmocka_unit_test(test_mx_txt_ns_soa_at_apex),
      cmocka_unit_test(test_aaaa_from_host),
      cmocka_unit_test(test_nxdomain_with_soa),
      cmocka_unit_test(test_nodata_aaaa_when_only_a),
      cmocka_unit_test(test_empty_non_terminal_is_nodata),
      cmocka_unit_test(test_refused_outside_zones),
      cmocka_unit_test(test_derived_zone_from_record),
      cmocka_unit_test(test_ptr_for_host_addresses),
      cmocka_unit_test(test_lab_network_addresses),
      cmocka_unit_test(test_servfail_rule),
      cmocka_unit_test(test_nxdomain_rule_case_insensitive),
      cmocka_unit_test(test_timeout_rule_sends_nothing),
      cmocka_unit_test(test_tc_without_edns),
      cmocka_unit_test(test_no_tc_with_edns_4096),
      cmocka_unit_test(test_edns_small_payload_means_512),
      cmocka_unit_test(test_no_edns_no_opt),
      cmocka_unit_test(test_tcp_sends_everything),
      cmocka_unit_test(test_badvers),
      cmocka_unit_test(test_short_input_dropped),
      cmocka_unit_test(test_header_without_question_formerr),
      cmocka_unit_test(test_compression_loop_formerr),
      cmocka_unit_test(test_bad_record_section_is_formerr),
      cmocka_unit_test(test_trailing_bytes_formerr),
      cmocka_unit_test(test_response_dropped),
      cmocka_unit_test(test_other_opcode_notimp),
      cmocka_unit_test(test_not_class_in_refused),
      cmocka_unit_test(test_mutations_never_crash),
  };
  const struct CMUnitTest standalone[] = {
      cmocka_unit_test(test_zoneset_errors),
      cmocka_unit_test(test_given_zones_used),
      cmocka_unit_test(test_every_behaviour_by_type),
      cmocka_unit_test(test_type_zero_rule_matches_every_type),
      cmocka_unit_test(test_typed_rule_before_any_type_rule),
      cmocka_unit_test(test_first_n_fails_then_answers),
      cmocka_unit_test(test_first_n_each_behaviour),
      cmocka_unit_test(test_spent_typed_rule_falls_to_any_type_rule),
      cmocka_unit_test(test_truncate_udp_then_tcp),
      cmocka_unit_test(test_rules_on_cname_target),
      cmocka_unit_test(test_wildcard_a_txt),
      cmocka_unit_test(test_wildcard_srv_and_aaaa),
      cmocka_unit_test(test_wildcard_other_type_is_nodata),
      cmocka_unit_test(test_wildcard_not_for_existing_name),
      cmocka_unit_test(test_wildcard_not_for_empty_non_terminal),
      cmocka_unit_test(test_wildcard_cname),
      cmocka_unit_test(test_wildcard_and_rules),
  };
  int failed = cmocka_run_group_tests_name("dns_answer", tests, setup, teardown);
  failed += cmocka_run_group_tests_name("dns_zoneset", standalone, NULL, NULL);
  return failed;
}
