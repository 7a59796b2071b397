/* tests/unit/test_scenario_lang.c: the keys issue 11 added to the scenario language — a route's
 * answers chosen per request (scenario/scn_routes.c), listeners on other ports
 * (scenario/scn_hosts.c), records and DNS answers given as bytes (scenario/scn_dns.c), bodies as
 * hex or base64 (scenario/scn_bytes.c) — as tests/data/good/everything-v3.yaml uses them. Runs
 * from tests/data so that marks are short relative paths. */
#include "tests/unit/test_scenario_fixture.h"

static void test_answers(void **state) {
  struct scn *s = load_ok("good/everything-v3.yaml");
  const struct scn_host *h = scn_host_find(s, "exchange");
  assert_non_null(h);
  const struct scn_route *r = &h->https.routes[0];
  assert_int_equal(r->kind, SCN_ROUTE_ANSWERS);
  assert_string_equal(r->path, "/autodiscover/autodiscover.xml");
  assert_string_equal(r->method, "POST");
  assert_true(r->auth.present); /* the route's own: asked before any answer is chosen */
  assert_int_equal(r->n_answers, 4);
  const struct scn_route *a = &r->answers[0];
  assert_null(a->path);
  assert_int_equal(a->first_n, 1);
  assert_null(a->for_email);
  assert_int_equal(a->kind, SCN_ROUTE_AUTODISCOVER);
  assert_int_equal(a->ad.action, SCN_AD_REDIRECT_ADDR);
  assert_string_equal(a->ad.redirect_addr, "alice@contoso.mail.onmicrosoft.com");
  assert_int_equal(a->mark.line, 27);
  a = &r->answers[1];
  assert_string_equal(a->for_email, "Bob@contoso.com"); /* the domain is lowercased */
  assert_int_equal(a->first_n, 2);
  assert_int_equal(a->kind, SCN_ROUTE_STATUS);
  assert_int_equal(a->status, 500);
  assert_int_equal(a->n_headers, 1);
  a = &r->answers[2];
  assert_int_equal(a->kind, SCN_ROUTE_REDIRECT);
  assert_int_equal(a->status, 302);
  assert_int_equal(a->first_n, 0);
  a = &r->answers[3];
  assert_int_equal(a->kind, SCN_ROUTE_AUTODISCOVER);
  assert_int_equal(a->ad.action, SCN_AD_SETTINGS);
  /* the lab counts what answers with first: N give: two here, numbered in file order */
  assert_int_equal(s->n_counters, 2);
  assert_int_equal(r->answers[0].counter, 0);
  assert_int_equal(r->answers[1].counter, 1);
  scn_free(s);
}

static void test_bodies_in_bytes(void **state) {
  struct scn *s = load_ok("good/everything-v3.yaml");
  const struct scn_host *h = scn_host_find(s, "exchange");
  const struct scn_route *r = &h->https.routes[1];
  static const uint8_t utf16[] = {0xff, 0xfe, 0x3c, 0x00, 0x61, 0x00, 0x3e, 0x00};
  assert_int_equal(r->body_len, sizeof utf16);
  assert_memory_equal(r->body, utf16, sizeof utf16);
  assert_string_equal(r->content_type, "text/xml; charset=utf-16");
  r = &h->https.routes[2];
  static const char b64[] = "\xef\xbb\xbf<Autodiscover/>\x80"; /* a BOM, then invalid UTF-8 */
  assert_int_equal(r->body_len, sizeof b64 - 1);
  assert_memory_equal(r->body, b64, sizeof b64 - 1);
  assert_null(r->content_type);
  const struct scn_listener *plain = scn_host_listener(h, 8080);
  assert_non_null(plain);
  assert_int_equal(plain->routes[0].body_len, 2);
  assert_memory_equal(plain->routes[0].body, "\xc3\x28", 2);
  scn_free(s);
}

static void test_listeners(void **state) {
  struct scn *s = load_ok("good/everything-v3.yaml");
  const struct scn_host *h = scn_host_find(s, "exchange");
  assert_int_equal(h->n_listeners, 3);
  assert_int_equal(h->https.port, 443);
  assert_true(h->https.tls);
  assert_int_equal(h->http.port, 80);
  assert_false(h->http.present);
  const struct scn_listener *l = &h->listeners[0];
  assert_true(l->present);
  assert_int_equal(l->port, 8443);
  assert_true(l->tls); /* the default */
  assert_ptr_equal(l->cert.profile, ca_profile_named("expired"));
  assert_int_equal(l->delay_ms, 1000);
  assert_int_equal(l->n_routes, 1);
  assert_int_equal(l->routes[0].answers[0].kind, SCN_ROUTE_AUTODISCOVER_V2);
  l = &h->listeners[1];
  assert_int_equal(l->port, 444);
  assert_true(l->tls); /* a versions mapping means TLS */
  assert_int_equal(l->tls_min, 0x0303);
  assert_int_equal(l->tls_max, 0x0303);
  assert_int_equal(l->fault, SCN_FAULT_RESET_HELLO);
  assert_ptr_equal(l->cert.profile, ca_profile_named("valid"));
  l = &h->listeners[2];
  assert_int_equal(l->port, 8080);
  assert_false(l->tls);
  assert_ptr_equal(scn_host_listener(h, 443), &h->https);
  assert_ptr_equal(scn_host_listener(h, 80), &h->http);
  assert_ptr_equal(scn_host_listener(h, 444), &h->listeners[1]);
  assert_null(scn_host_listener(h, 9999));
  assert_null(scn_host_listener(NULL, 443));
  const struct scn_record *srv = record(s, "_autodiscover._tcp.contoso.com", 33);
  assert_int_equal(srv->port, 8443);
  scn_free(s);
}

static void test_raw_dns(void **state) {
  struct scn *s = load_ok("good/everything-v3.yaml");
  assert_int_equal(s->n_raw_records, 2);
  const struct scn_raw_record *r = &s->raw_records[0];
  assert_string_equal(r->name, "short.contoso.com");
  assert_int_equal(r->type, 1);
  assert_int_equal(r->ttl, 300);
  assert_int_equal(r->rdata_len, 3);
  assert_int_equal(r->rdlength, 3); /* what it holds, unless the file says */
  assert_memory_equal(r->rdata, "\x7f\x4d\x00", 3);
  r = &s->raw_records[1];
  assert_int_equal(r->type, 33);
  assert_int_equal(r->ttl, 60);
  assert_int_equal(r->rdata_len, 7);
  assert_int_equal(r->rdlength, 40);              /* claims more than it has */
  assert_null(record(s, "short.contoso.com", 1)); /* not among the records libknot builds */
  assert_int_equal(s->n_rules, 2);
  const struct scn_dns_rule *rule = &s->rules[0];
  assert_int_equal(rule->behaviour, SCN_DNS_RAW);
  assert_int_equal(rule->first_n, 1);
  assert_int_equal(rule->raw_count, 2);
  assert_int_equal(rule->raw_len, 16);
  assert_memory_equal(rule->raw, "\xc0\x0c\x00\x10\x00\x01", 6);
  rule = &s->rules[1];
  assert_int_equal(rule->raw_len, 0);
  assert_int_equal(rule->raw_count, 1);
  scn_free(s);
}

/* bad_text loads text that must fail and returns the message. */
static void expect_error(const char *text, const char *want) {
  struct scn *s = NULL;
  char err[1024] = "";
  assert_int_not_equal(scn_load_string(&s, "x.yaml", text, strlen(text), err, sizeof err), SCN_OK);
  assert_null(s);
  if (strstr(err, want) == NULL) {
    fail_msg("got %s, wanted %s", err, want);
  }
}

#define HEAD "name: x\ndescription: x\ndomain: contoso.com\n"

static void test_bytes_errors(void **state) {
  expect_error(HEAD "hosts: { w: { https: { routes: [ { path: /, status: 200, body_hex: \"f\" } "
                    "] } } }\n",
               "x.yaml:4:69: body_hex is not hex: two hex digits per byte");
  expect_error(HEAD "hosts: { w: { https: { routes: [ { path: /, status: 200, body_hex: \"0g\" "
                    "} ] } } }\n",
               "stopped at character 1");
  expect_error(HEAD "hosts: { w: { https: { routes: [ { path: /, status: 200, body_base64: "
                    "\"abc\" } ] } } }\n",
               "body_base64 is not base64");
  expect_error(HEAD "dns: { records: [ { name: a.contoso.com, type: A, rdata_hex: \"01\", "
                    "target: b.contoso.com } ] }\n",
               "key \"target\" does not go with rdata_hex");
  /* a key that is no string (found by fuzz_scenario: it crashed the loader) */
  expect_error(HEAD "dns: { records: [ { null: a.contoso.com, type: A, rdata_hex: \"01\" } ] }\n",
               "x.yaml:4:21: a key in dns.records[0] must be a string, found nothing");
  expect_error(HEAD "dns: { records: [ { name: a.contoso.com, type: A, rdata_hex: \"01\", "
                    "type: A } ] }\n",
               "duplicate key \"type\"");
  expect_error(HEAD "dns: { overlay: { upstream: \"127.0.0.1:53\" }, records: [ { ~: a, name: "
                    "a.contoso.com, type: A, remove: true } ] }\n",
               "x.yaml:4:60: a key in dns.records[0] must be a string, found nothing");
  expect_error(HEAD "dns: { behaviours: [ { name: a.contoso.com, answer: nodata, answer_hex: "
                    "\"00\" } ] }\n",
               "answer_hex goes only with answer: raw");
  expect_error(HEAD "dns: { behaviours: [ { name: a.contoso.com, answer: raw } ] }\n",
               "missing required key \"answer_hex\"");
}

static void test_bytes_limit(void **state) {
  /* a record given as bytes holds at most what a DNS message can: 65535 bytes */
  struct buf b;
  buf_init(&b, 1u << 20);
  buf_append_str(&b, HEAD "dns: { records: [ { name: a.contoso.com, type: TXT, rdata_hex: \"");
  for (int i = 0; i < 65536; i++) {
    buf_append_str(&b, "00");
  }
  buf_append_str(&b, "\" } ] }\n");
  struct scn *s = NULL;
  char err[1024] = "";
  assert_int_equal(scn_load_string(&s, "x.yaml", buf_cstr(&b), b.len, err, sizeof err),
                   SCN_ESCHEMA);
  assert_non_null(strstr(err, "rdata_hex holds 65536 bytes, more than the 65535 it may"));
  buf_cleanup(&b);
}

static void test_nul_only_in_raw(void **state) {
  /* an answer's raw body may hold a NUL as a route's may; nothing else may */
  static const char ok[] = HEAD "hosts: { w: { https: { routes: [ { path: /, answers: [ { "
                                "status: 200, raw: \"a\\0b\" } ] } ] } } }\n";
  struct scn *s = load_text_ok("x.yaml", ok);
  const struct scn_route *a = &s->hosts[0].https.routes[0].answers[0];
  assert_int_equal(a->body_len, 3);
  assert_memory_equal(a->body, "a\0b", 3);
  scn_free(s);
  expect_error(HEAD "hosts: { w: { https: { routes: [ { path: /, answers: [ { status: 200, "
                    "body: \"a\\0b\" } ] } ] } } }\n",
               "a value may not contain a NUL character");
}

static void test_answers_errors(void **state) {
  expect_error(HEAD "hosts: { w: { https: { routes: [ { path: /, status: 200, answers: [ { "
                    "status: 200 } ] } ] } } }\n",
               "a route with answers gives status in each answer");
  expect_error(HEAD "hosts: { w: { https: { routes: [ { path: /, answers: [] } ] } } }\n",
               "answers is empty");
  expect_error(HEAD "hosts: { w: { https: { routes: [ { path: /, answers: [ { first: 1 } ] } ] "
                    "} } }\n",
               "an answer needs one of status, redirect, autodiscover, autodiscover_v2, soap");
  expect_error(HEAD "hosts: { w: { https: { routes: [ { path: /, answers: [ { upstream: "
                    "\"https://x.example/\" } ] } ] } } }\n",
               "unknown key \"upstream\"");
  expect_error(HEAD "hosts: { w: { https: { routes: [ { path: /, answers: [ { for_email: bob, "
                    "status: 200 } ] } ] } } }\n",
               "for_email");
}

static void test_listener_errors(void **state) {
  expect_error(HEAD "hosts: { w: { listeners: [ { port: 443 } ] } }\n",
               "port 443 is the host's https: listener; write it there");
  expect_error(HEAD "hosts: { w: { listeners: [ { port: 8443 }, { port: 8443 } ] } }\n",
               "port 8443 already has a listener at line 4");
  expect_error(HEAD "hosts: { w: { listeners: [ { tls: true } ] } }\n",
               "missing required key \"port\"");
  expect_error(HEAD "hosts: { w: { listeners: [ { port: 8080, tls: false, certificate: { "
                    "profile: valid } } ] } }\n",
               "certificate goes only with tls: true");
  expect_error(HEAD "hosts: { w: { listeners: [ { port: 0 } ] } }\n", "port");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_answers),         cmocka_unit_test(test_bodies_in_bytes),
      cmocka_unit_test(test_listeners),       cmocka_unit_test(test_raw_dns),
      cmocka_unit_test(test_bytes_errors),    cmocka_unit_test(test_answers_errors),
      cmocka_unit_test(test_listener_errors), cmocka_unit_test(test_bytes_limit),
      cmocka_unit_test(test_nul_only_in_raw),
  };
  return cmocka_run_group_tests(tests, to_data, NULL);
}
