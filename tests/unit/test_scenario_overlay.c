/* tests/unit/test_scenario_overlay.c: dns.overlay, removed records (scenario/scn_dns.c) and
 * upstream routes (scenario/scn_upstream.c) as tests/data/good/overlay.yaml uses them, the
 * overlay's resolver inherited by upstream routes, and extends: merging an overlay in. Runs from
 * tests/data so that marks are short relative paths. */
#include "tests/unit/test_scenario_fixture.h"

static const struct scn_route *route_at(const struct scn *s, size_t i) {
  const struct scn_host *h = scn_host_find(s, "intercept");
  assert_non_null(h);
  assert_true(i < h->https.n_routes);
  return &h->https.routes[i];
}

static void test_overlay_and_removals(void **state) {
  struct scn *s = load_ok("good/overlay.yaml");
  assert_true(s->overlay.present);
  assert_string_equal(s->overlay.upstream, "192.0.2.53:53"); /* the port defaults to 53 */
  assert_int_equal(s->overlay.timeout_ms, 1500);
  assert_int_equal(s->overlay.n_removals, 2);
  assert_string_equal(s->overlay.removals[0].name, "contoso.com");
  assert_int_equal(s->overlay.removals[0].type, 1);
  assert_int_equal(s->overlay.removals[0].mark.line, 9);
  assert_string_equal(s->overlay.removals[1].name, "www.contoso.com");
  assert_int_equal(s->overlay.removals[1].type, 5); /* types in any case */
  /* removed records are not records; remove: false is a record like any other */
  assert_int_equal(s->n_records, 2);
  assert_non_null(record(s, "www.contoso.com", 1));
  assert_non_null(record(s, "lab.contoso.com", 16));
  assert_null(record(s, "contoso.com", 1));
  scn_free(s);
}

static void test_upstream_routes(void **state) {
  struct scn *s = load_ok("good/overlay.yaml");
  const struct scn_route *r = route_at(s, 0);
  assert_int_equal(r->kind, SCN_ROUTE_UPSTREAM);
  const struct scn_upstream *u = &r->upstream;
  assert_string_equal(u->url, "https://Autodiscover.Contoso.com/base/");
  assert_true(u->https);
  assert_string_equal(u->host, "autodiscover.contoso.com");
  assert_int_equal(u->port, 443);
  assert_string_equal(u->base_path, "/base");
  assert_null(u->trust); /* the system store */
  assert_null(u->address);
  assert_string_equal(u->dns, "192.0.2.53:53"); /* the overlay's resolver */
  assert_false(u->keep_host);
  assert_int_equal(u->timeout_ms, 10000);

  u = &route_at(s, 1)->upstream;
  assert_string_equal(u->host, "2001:db8::1");
  assert_int_equal(u->port, 8443);
  assert_string_equal(u->base_path, "");
  assert_string_equal(u->address, "127.0.0.2");
  assert_int_equal(u->address_port, 8443); /* the URL's port unless given */
  assert_null(u->dns);                     /* nothing to resolve */
  assert_string_equal(u->trust, "good/trust/roots.crt");
  assert_true(u->keep_host);
  assert_int_equal(u->timeout_ms, 3000);

  u = &route_at(s, 2)->upstream;
  assert_false(u->https);
  assert_int_equal(u->port, 80);
  assert_string_equal(u->dns, "[::1]:5353");
  scn_free(s);
}

static void test_upstream_route_without_overlay_uses_the_system_resolver(void **state) {
  struct scn *s = load_text_ok("mem.yaml", "name: x\n"
                                           "description: x\n"
                                           "domain: contoso.com\n"
                                           "hosts:\n"
                                           "  h:\n"
                                           "    http:\n"
                                           "      routes:\n"
                                           "        - path: /\n"
                                           "          upstream: http://real.example:8080/\n"
                                           "          upstream_address: \"[::1]:9\"\n"
                                           "        - { path: /b, upstream: https://b.example }\n");
  const struct scn_host *h = scn_host_find(s, "h");
  assert_false(s->overlay.present);
  assert_string_equal(h->http.routes[0].upstream.address, "::1");
  assert_int_equal(h->http.routes[0].upstream.address_port, 9);
  assert_null(h->http.routes[1].upstream.dns);
  scn_free(s);
}

static void test_extends_adds_an_overlay_to_a_base(void **state) {
  char *dir = test_tmpdir("scn-overlay");
  write_file(dir, "base.yaml",
             "name: base\ndescription: x\ndomain: contoso.com\n"
             "dns:\n  records:\n    - { name: contoso.com, type: A, address: 192.0.2.1 }\n");
  write_file(dir, "child.yaml",
             "name: child\ndescription: x\nextends: base.yaml\n"
             "dns:\n  overlay: { upstream: \"127.0.0.1:5300\" }\n"
             "  add_records:\n    - { name: www.contoso.com, type: A, remove: true }\n");
  char path[512];
  buf_fmt(path, sizeof path, "%s/child.yaml", dir);
  struct scn *s = load_ok(path);
  assert_true(s->overlay.present);
  assert_int_equal(s->n_records, 1);
  assert_int_equal(s->overlay.n_removals, 1);
  assert_string_equal(s->overlay.removals[0].name, "www.contoso.com");
  scn_free(s);
  test_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_overlay_and_removals),
      cmocka_unit_test(test_upstream_routes),
      cmocka_unit_test(test_upstream_route_without_overlay_uses_the_system_resolver),
      cmocka_unit_test(test_extends_adds_an_overlay_to_a_base),
  };
  return cmocka_run_group_tests(tests, to_data, NULL);
}
