/* tests/unit/test_scenario_dns.c: the dns: section (scenario/scn_dns.c) and directory.scp, as
 * tests/data/good/everything.yaml and everything-v2.yaml use them: records of every type, zones,
 * wildcards, behaviours. Runs from tests/data so that marks are short relative paths. */
#include "tests/unit/test_scenario_fixture.h"

static void check_everything_dns(const struct scn *s) {
  assert_int_equal(s->n_zones, 2);
  assert_string_equal(s->zones[0], "contoso.com");
  assert_string_equal(s->zones[1], "hoster.net");
  assert_int_equal(s->n_records, 11);
  const struct scn_record *r = &s->records[0];
  assert_string_equal(r->name, "contoso.com");
  assert_int_equal(r->type, 1);
  assert_string_equal(r->host, "www");
  assert_int_equal(r->ttl, 300);
  assert_int_equal(r->mark.line, 10);
  assert_int_equal(r->mark.col, 7);
  assert_string_equal(r->mark.file, s->path);
  r = &s->records[1];
  assert_int_equal(r->type, 5);
  assert_string_equal(r->target, "contoso.com");
  r = &s->records[3];
  assert_int_equal(r->type, 1);
  assert_null(r->host);
  assert_string_equal(r->address, "203.0.113.9");
  r = &s->records[4];
  assert_int_equal(r->type, 28);
  assert_string_equal(r->address, "2001:db8::9");
  assert_int_equal(r->ttl, 0);
  r = &s->records[5];
  assert_string_equal(r->name, "_autodiscover._tcp.contoso.com");
  assert_int_equal(r->type, 33);
  assert_int_equal(r->priority, 1);
  assert_int_equal(r->weight, 2);
  assert_int_equal(r->port, 443);
  assert_string_equal(r->target, "mail.hoster.net");
  r = &s->records[6];
  assert_int_equal(r->type, 15);
  assert_int_equal(r->priority, 10);
  assert_string_equal(r->target, "mail.contoso.com");
  r = &s->records[7];
  assert_int_equal(r->type, 16);
  assert_string_equal(r->text, "v=spf1 -all");
  r = &s->records[8];
  assert_int_equal(r->ttl, 60);
  r = &s->records[9];
  assert_int_equal(r->type, 2);
  assert_string_equal(r->target, "ns1.hoster.net");
  assert_int_equal(r->ttl, 2147483647u);
  r = &s->records[10];
  assert_string_equal(r->name, "*.hoster.net");
  assert_int_equal(r->type, 28);
  assert_string_equal(r->host, "exchange");

  assert_int_equal(s->n_rules, 3);
  assert_string_equal(s->rules[0].name, "bad.contoso.com");
  assert_int_equal(s->rules[0].behaviour, SCN_DNS_SERVFAIL);
  assert_int_equal(s->rules[1].behaviour, SCN_DNS_NXDOMAIN);
  assert_int_equal(s->rules[2].behaviour, SCN_DNS_TIMEOUT);
  assert_int_equal(s->rules[2].mark.line, 24);
}

static void check_v2_dns(const struct scn *s) {
  const struct scn_record *r = record(s, "*.contoso.com", 1);
  assert_non_null(r);
  assert_string_equal(r->host, "shared");
  assert_false(r->from_zone_file);
  assert_string_equal(r->mark.file, "good/everything-v2.yaml");
  assert_int_equal(r->mark.line, 7);
  assert_int_equal(s->n_rules, 4);
  assert_string_equal(s->rules[0].name, "autodiscover.contoso.com");
  assert_int_equal(s->rules[0].type, 28);
  assert_int_equal(s->rules[0].behaviour, SCN_DNS_NODATA);
  assert_int_equal(s->rules[0].first_n, 0);
  assert_int_equal(s->rules[1].type, 1);
  assert_int_equal(s->rules[1].behaviour, SCN_DNS_REFUSED);
  assert_int_equal(s->rules[2].type, 0);
  assert_int_equal(s->rules[2].behaviour, SCN_DNS_TRUNCATE);
  assert_int_equal(s->rules[3].behaviour, SCN_DNS_SERVFAIL);
  assert_int_equal(s->rules[3].first_n, 2);
  assert_int_equal(s->n_scp_urls, 2);
  assert_string_equal(s->scp_urls[0], "https://mail.contoso.com/autodiscover/autodiscover.xml");
  assert_string_equal(s->scp_urls[1], "https://b.contoso.com/x");
  assert_null(s->zone_file);
  assert_null(s->extends);
}

static void test_everything_dns(void **state) {
  struct scn *s = load_ok("good/everything.yaml");
  check_everything_dns(s);
  scn_free(s);
}

static void test_everything_v2_dns(void **state) {
  struct scn *s = load_ok("good/everything-v2.yaml");
  check_v2_dns(s);
  scn_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_everything_dns),
      cmocka_unit_test(test_everything_v2_dns),
  };
  return cmocka_run_group_tests(tests, to_data, NULL);
}
