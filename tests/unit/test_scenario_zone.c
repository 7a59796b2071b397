/* tests/unit/test_scenario_zone.c: dns.zone_file — a BIND zone file's records as scenario
 * records (scenario/scn_zone.c): types, $TTL and $ORIGIN, marks into the zone file, paths
 * resolved against the scenario's folder, CRLF line ends. Runs from tests/data. */
#include "tests/unit/test_scenario_fixture.h"

static void test_zone_file(void **state) {
  struct scn *s = load_ok("good/zone-file.yaml");
  assert_string_equal(s->zone_file, "zones/contoso.zone");
  assert_int_equal(s->n_records, 11); /* ten from the zone (SOA skipped), one from the YAML */
  const struct scn_record *r = record(s, "contoso.com", 2);
  assert_non_null(r);
  assert_string_equal(r->target, "ns1.hoster.net");
  assert_true(r->from_zone_file);
  assert_string_equal(r->mark.file, "zones/contoso.zone");
  assert_int_equal(r->mark.line, 4);
  assert_int_equal(r->ttl, 300);
  r = record(s, "contoso.com", 1);
  assert_string_equal(r->address, "127.0.0.21");
  assert_null(r->host);
  r = record(s, "contoso.com", 15);
  assert_int_equal(r->ttl, 60);
  assert_int_equal(r->priority, 10);
  assert_string_equal(r->target, "mail.contoso.com");
  r = record(s, "www.contoso.com", 5);
  assert_string_equal(r->target, "contoso.com");
  assert_string_equal(record(s, "mail.contoso.com", 28)->address, "::1");
  r = record(s, "contoso.com", 16);
  assert_string_equal(r->text, "v=spf1 -all");
  r = record(s, "_autodiscover._tcp.contoso.com", 33);
  assert_int_equal(r->priority, 0);
  assert_int_equal(r->weight, 5);
  assert_int_equal(r->port, 443);
  assert_string_equal(r->target, "mail.contoso.com");
  r = record(s, "autodiscover.contoso.com", 5);
  assert_int_equal(r->ttl, 3600); /* $TTL */
  assert_int_equal(r->mark.line, 13);
  r = record(s, "*.lab.contoso.com", 1);
  assert_string_equal(r->address, "127.0.0.23");
  r = record(s, "extra.contoso.com", 1);
  assert_false(r->from_zone_file);
  assert_string_equal(r->mark.file, "good/zone-file.yaml");
  assert_null(record(s, "contoso.com", 6)); /* SOA: the lab makes its own */
  /* a host's derived names still come from the YAML records only */
  const struct scn_host *web = scn_host_find(s, "web");
  assert_int_equal(web->n_names, 1);
  assert_string_equal(web->names[0], "extra.contoso.com");
  scn_free(s);
}

/* a zone file given in a string-loaded scenario: resolved against the path's folder */
static void test_zone_file_origin(void **state) {
  char *dir = test_tmpdir("model-zone");
  char path[4096];
  write_file(dir, "fabrikam.zone",
             "$TTL 120\n@ IN A 127.0.0.9\n$ORIGIN hoster.net.\nmail IN A 127.0.0.10"); /* no \n */
  assert_true(buf_fmt(path, sizeof path, "%s/s.yaml", dir));
  struct scn *s = load_text_ok(path, "name: z\ndescription: d\ndomain: Fabrikam.com\n"
                                     "dns: { zone_file: fabrikam.zone }\n");
  assert_int_equal(s->n_records, 2);
  assert_string_equal(s->records[0].name, "fabrikam.com");
  assert_int_equal(s->records[0].ttl, 120);
  assert_string_equal(s->records[1].name, "mail.hoster.net");
  assert_int_equal(s->records[1].mark.line, 4);
  assert_int_equal(s->n_files, 1);
  assert_ptr_equal(s->records[0].mark.file, s->files[0]);
  scn_free(s);
  test_rmtree(dir);
  free(dir);
}

/* a zone file written on Windows (CRLF line ends) loads like any other */
static void test_zone_file_crlf(void **state) {
  char *dir = test_tmpdir("model-zone-crlf");
  char path[4096];
  write_file(dir, "crlf.zone", "$TTL 60\r\n@ IN A 127.0.0.9\r\nwww IN CNAME @\r\n");
  assert_true(buf_fmt(path, sizeof path, "%s/s.yaml", dir));
  struct scn *s = load_text_ok(path, "name: z\ndescription: d\ndomain: contoso.com\n"
                                     "dns: { zone_file: crlf.zone }\n");
  assert_int_equal(s->n_records, 2);
  assert_string_equal(s->records[1].name, "www.contoso.com");
  assert_string_equal(s->records[1].target, "contoso.com");
  assert_int_equal(s->records[1].mark.line, 3);
  scn_free(s);
  test_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_zone_file),
      cmocka_unit_test(test_zone_file_origin),
      cmocka_unit_test(test_zone_file_crlf),
  };
  return cmocka_run_group_tests(tests, to_data, NULL);
}
