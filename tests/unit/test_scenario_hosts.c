/* tests/unit/test_scenario_hosts.c: the hosts: section — names, addresses, listeners,
 * certificates (scenario/scn_hosts.c) and routes (scenario/scn_routes.c) — as
 * tests/data/good/everything.yaml and everything-v2.yaml use them. Runs from tests/data so that
 * marks are short relative paths. */
#include "tests/unit/test_scenario_fixture.h"

#include <time.h>

static void check_everything_www(const struct scn *s) {
  const struct scn_host *h = scn_host_find(s, "www");
  assert_non_null(h);
  assert_int_equal(h->mark.line, 26);
  assert_int_equal(h->mark.col, 3);
  assert_string_equal(h->address, "127.77.0.9");
  /* derived: A records in order, then CNAMEs to them (web → www → contoso.com) */
  assert_int_equal(h->n_names, 4);
  assert_string_equal(h->names[0], "contoso.com");
  assert_string_equal(h->names[1], "x.contoso.com");
  assert_string_equal(h->names[2], "www.contoso.com");
  assert_string_equal(h->names[3], "web.contoso.com");
  assert_ptr_equal(h->https.cert.profile, ca_profile_named("expired"));
  assert_int_equal(h->https.cert.key_type, CA_KEY_DEFAULT);
  assert_int_equal(h->https.cert.n_names, 2);
  assert_string_equal(h->https.cert.names[1], "*.contoso.com");
  assert_int_equal(h->https.cert.mark.line, 29);
  assert_int_equal(h->https.n_routes, 4);
  const struct scn_route *r = &h->https.routes[2];
  assert_string_equal(r->path, "/robots.txt");
  assert_string_equal(r->method, "GET");
  assert_int_equal(r->status, 200);
  assert_string_equal(r->body, "User-agent: *\n");
  assert_string_equal(r->content_type, "text/plain");
  r = &h->https.routes[3];
  assert_int_equal(r->status, 204);
  assert_null(r->body);
  assert_null(r->content_type);
  assert_int_equal(h->http.n_routes, 1);
  assert_int_equal(h->http.routes[0].status, 301);
}

static void check_everything_exchange(const struct scn *s) {
  const struct scn_host *h = scn_host_find(s, "exchange");
  assert_non_null(h);
  assert_string_equal(h->address, "::1");
  assert_int_equal(h->n_names, 2); /* explicit: no derivation */
  assert_string_equal(h->names[0], "mail.hoster.net");
  assert_string_equal(h->names[1], "autodiscover.contoso.com");
  assert_ptr_equal(h->https.cert.profile, ca_profile_named("valid")); /* no certificate: valid */
  assert_ptr_equal(h->http.cert.profile, ca_profile_named("valid"));  /* never NULL */
  assert_false(h->http.present);
  assert_int_equal(h->https.n_routes, 9);
  const struct scn_route *r = &h->https.routes[0];
  assert_string_equal(r->method, "POST");
  assert_int_equal(r->kind, SCN_ROUTE_AUTODISCOVER);
  assert_int_equal(r->ad.action, SCN_AD_SETTINGS);
  assert_string_equal(r->ad.ews_url, "https://mail.contoso.com/EWS/Exchange.asmx");
  assert_string_equal(r->ad.server, "mail.contoso.com");
  assert_string_equal(r->ad.display_name, "Alice");
  assert_string_equal(r->ad.auth_package, "Negotiate");
  r = &h->https.routes[1];
  assert_int_equal(r->ad.action, SCN_AD_REDIRECT_ADDR);
  assert_string_equal(r->ad.redirect_addr, "alice@contoso.mail.onmicrosoft.com");
  r = &h->https.routes[2];
  assert_int_equal(r->ad.action, SCN_AD_REDIRECT_URL);
  assert_string_equal(r->ad.redirect_url,
                      "https://autodiscover.hoster.net/autodiscover/autodiscover.xml");
  r = &h->https.routes[3];
  assert_int_equal(r->ad.action, SCN_AD_ERROR);
  assert_int_equal(r->ad.error_code, 500);
  assert_string_equal(r->ad.error_message, "Server busy");
  r = &h->https.routes[4];
  assert_int_equal(r->ad.error_code, 603);
  assert_null(r->ad.error_message);
  r = &h->https.routes[5];
  assert_int_equal(r->kind, SCN_ROUTE_STATUS);
  assert_int_equal(r->status, 401);
  r = &h->https.routes[6];
  assert_int_equal(r->kind, SCN_ROUTE_REDIRECT);
  assert_int_equal(r->status, 302);
  assert_string_equal(r->location, "/new");
  assert_int_equal(h->https.routes[7].status, 307);
  assert_int_equal(h->https.routes[8].status, 308);
}

static void check_everything_other_hosts(const struct scn *s) {
  assert_int_equal(s->n_hosts, 7);
  const struct scn_host *h = scn_host_find(s, "dead");
  assert_non_null(h);
  assert_false(h->https.present);
  assert_false(h->http.present);
  assert_int_equal(h->n_names, 0);
  assert_null(h->address);
  h = scn_host_find(s, "plain");
  assert_true(h->http.present);
  assert_int_equal(h->http.n_routes, 0);
  assert_ptr_equal(h->https.cert.profile, ca_profile_named("self-signed"));
  assert_ptr_equal(scn_host_find(s, "nocert")->https.cert.profile,
                   ca_profile_named("untrusted-root"));
  assert_ptr_equal(scn_host_find(s, "others")->https.cert.profile,
                   ca_profile_named("not-yet-valid"));
  assert_true(scn_host_find(s, "others")->http.present);
  assert_ptr_equal(scn_host_find(s, "wrong")->https.cert.profile, ca_profile_named("wrong-name"));
}

static void test_everything_hosts(void **state) {
  struct scn *s = load_ok("good/everything.yaml");
  check_everything_www(s);
  check_everything_exchange(s);
  check_everything_other_hosts(s);
  scn_free(s);
}

static void check_v2_shared(const struct scn *s) {
  const struct scn_host *h = scn_host_find(s, "shared");
  assert_non_null(h);
  const struct scn_cert *c = &h->https.cert;
  assert_ptr_equal(c->profile, ca_profile_named("valid"));
  assert_int_equal(c->key_type, CA_KEY_RSA_2048);
  assert_true(c->has_not_before);
  assert_int_equal(c->not_before, 1704067200); /* 2024-01-01T00:00:00Z */
  assert_true(c->has_not_after);
  assert_int_equal(c->not_after, 1719829800); /* 2024-07-01T10:30:00Z */
  assert_int_equal(h->https.fault, SCN_FAULT_RESET_HELLO);
  assert_int_equal(h->https.delay_ms, 500);
  assert_int_equal(h->https.tls_min, 0x0301);
  assert_int_equal(h->https.tls_max, 0x0302);
  assert_int_equal(h->http.fault, SCN_FAULT_BLACKHOLE);
  assert_int_equal(h->http.delay_ms, 120000);
  assert_int_equal(h->http.tls_min, 0);
}

static void check_v2_exchange_routes(const struct scn_listener *l) {
  assert_int_equal(l->n_routes, 7);
  const struct scn_route *r = &l->routes[0];
  assert_int_equal(r->kind, SCN_ROUTE_STATUS);
  assert_string_equal(r->body, "text");
  assert_int_equal(r->body_len, 4);
  assert_string_equal(r->content_type, "text/xml");
  assert_int_equal(r->n_headers, 2);
  assert_string_equal(r->headers[0].name, "X-A");
  assert_string_equal(r->headers[0].value, "b");
  assert_string_equal(r->headers[1].name, "Retry-After");
  assert_string_equal(r->headers[1].value, "5");
  assert_false(r->auth.present);
  r = &l->routes[1];
  static const char raw[] = "\xef\xbb\xbf<?xml version=\"1.0\"?>\0<Broken";
  assert_int_equal(r->body_len, sizeof raw - 1);
  assert_memory_equal(r->body, raw, sizeof raw - 1);
  assert_string_equal(r->content_type, "text/xml");
  r = &l->routes[2];
  assert_int_equal(r->kind, SCN_ROUTE_REDIRECT);
  assert_int_equal(r->status, 303);
  r = &l->routes[3];
  assert_int_equal(r->kind, SCN_ROUTE_AUTODISCOVER);
  assert_true(r->auth.present);
  assert_int_equal(r->auth.n_challenges, 4);
  assert_string_equal(r->auth.challenges[0], "Basic realm=\"contoso\"");
  assert_string_equal(r->auth.challenges[3], "Bearer");
  assert_false(r->auth.accept_credentials);
  assert_string_equal(r->ad.ews_url, "https://mail.contoso.com/EWS/Exchange.asmx");
  assert_int_equal(r->ad.n_protocols, 2);
  const struct scn_ad_protocol *p = &r->ad.protocols[0];
  assert_string_equal(p->type, "EXPR");
  assert_string_equal(p->server, "mail.contoso.com");
  assert_string_equal(p->as_url, "https://mail.contoso.com/as");
  assert_string_equal(p->oab_url, "https://mail.contoso.com/oab");
  assert_string_equal(p->auth_package, "Ntlm");
  assert_false(p->ssl);
  p = &r->ad.protocols[1];
  assert_string_equal(p->type, "WEB");
  assert_string_equal(p->owa_url, "https://mail.contoso.com/owa/");
  assert_true(p->ssl);
  assert_null(p->ews_url);
  r = &l->routes[4];
  assert_int_equal(r->kind, SCN_ROUTE_AUTODISCOVER_V2);
  assert_true(r->auth.accept_credentials);
  assert_int_equal(r->ad2.n_protocols, 2);
  assert_string_equal(r->ad2.protocols[0], "AutodiscoverV1");
  assert_string_equal(r->ad2.urls[1], "https://outlook.office365.com/EWS/Exchange.asmx");
  assert_int_equal(r->ad2.not_found_status, 404);
  assert_int_equal(l->routes[5].ad2.not_found_status, 400);
  r = &l->routes[6];
  assert_int_equal(r->kind, SCN_ROUTE_SOAP);
  assert_int_equal(r->ad.action, SCN_AD_SETTINGS);
  assert_string_equal(r->ad.server, "mail.contoso.com");
  assert_int_equal(r->ad.n_protocols, 0);
}

static void check_v2_hosts(const struct scn *s, time_t before, time_t after) {
  check_v2_shared(s);
  const struct scn_host *h = scn_host_find(s, "exchange");
  assert_non_null(h);
  const struct scn_cert *c = &h->https.cert;
  assert_string_equal(ca_profile_name(c->profile), "incomplete-chain");
  assert_int_equal(c->key_type, CA_KEY_ECDSA_P256);
  assert_true(c->not_before >= before - 30 * 86400 && c->not_before <= after - 30 * 86400);
  assert_true(c->not_after >= before + 365 * 86400 && c->not_after <= after + 365 * 86400);
  assert_int_equal(h->https.fault, SCN_FAULT_SILENT);
  assert_int_equal(h->https.delay_ms, 5000);
  assert_int_equal(h->https.tls_min, 0x0304);
  assert_int_equal(h->https.tls_max, 0);
  assert_false(h->http.present);
  check_v2_exchange_routes(&h->https);
  static const struct {
    const char *id;
    const char *profile;
  } profiles[] = {{"sha1", "sha1-signature"},
                  {"rsa", "rsa-1024"},
                  {"wild", "wildcard"},
                  {"san", "san-missing-host"},
                  {"ip", "ip-only"}};
  for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
    h = scn_host_find(s, profiles[i].id);
    assert_non_null(h);
    assert_string_equal(ca_profile_name(h->https.cert.profile), profiles[i].profile);
    assert_int_equal(h->https.cert.key_type, CA_KEY_DEFAULT);
  }
  h = scn_host_find(s, "ip");
  assert_true(h->https.cert.not_before >= before && h->https.cert.not_before <= after);
  assert_false(h->https.cert.has_not_after);
  h = scn_host_find(s, "reset");
  assert_int_equal(h->https.fault, SCN_FAULT_RESET);
  assert_int_equal(h->http.fault, SCN_FAULT_SILENT);
}

static void test_everything_v2_hosts(void **state) {
  time_t before = time(NULL);
  struct scn *s = load_ok("good/everything-v2.yaml");
  time_t after = time(NULL);
  check_v2_hosts(s, before, after);
  scn_free(s);
}

static void test_host_find_null(void **state) {
  assert_null(scn_host_find(NULL, "www"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_everything_hosts),
      cmocka_unit_test(test_everything_v2_hosts),
      cmocka_unit_test(test_host_find_null),
  };
  return cmocka_run_group_tests(tests, to_data, NULL);
}
