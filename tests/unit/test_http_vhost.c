/* tests/unit/test_http_vhost.c: proxy/http — several hosts behind one address and port: which
 * host a name belongs to (http_vhost_find), and which host's routes answer a request on a
 * shared listener (the SNI host, else the Host header's, else the default), socket-free. */
#include "proxy/http/http.h"
#include "proxy/http/internal.h"
#include "tests/unit/test_http_fixture.h"
#include "tests/unit/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct scn_route www_routes[] = {
    {.path = "/", .kind = SCN_ROUTE_STATUS, .status = 200, .body = "www-site"},
};
static struct scn_route ad_routes[] = {
    {.path = "/", .kind = SCN_ROUTE_STATUS, .status = 200, .body = "autodiscover-site"},
};
static struct scn_route wild_routes[] = {
    {.path = "/", .kind = SCN_ROUTE_STATUS, .status = 200, .body = "wildcard-site"},
};
static struct scn_listener www_l = {.present = true, .routes = www_routes, .n_routes = 1};
static struct scn_listener ad_l = {.present = true, .routes = ad_routes, .n_routes = 1};
static struct scn_listener wild_l = {.present = true, .routes = wild_routes, .n_routes = 1};
static char *www_names[] = {"contoso.com", "www.contoso.com"};
static char *ad_names[] = {"autodiscover.contoso.com."};
static char *wild_names[] = {"*.contoso.com"};
static struct scn_host www = {.id = "www", .names = www_names, .n_names = 2};
static struct scn_host ad = {.id = "exchange", .names = ad_names, .n_names = 1};
static struct scn_host wild = {.id = "wild", .names = wild_names, .n_names = 1};

static struct http_vhost vhosts[] = {
    {.host = &www, .l = &www_l},
    {.host = &wild, .l = &wild_l},
    {.host = &ad, .l = &ad_l},
};

static long find(const char *name) {
  return http_vhost_find(vhosts, 3, S(name));
}

static void test_names_find_their_host(void **state) {
  (void) state;
  assert_int_equal(find("contoso.com"), 0);
  assert_int_equal(find("WWW.Contoso.COM"), 0);          /* any case */
  assert_int_equal(find("www.contoso.com:8443"), 0);     /* a Host header's port */
  assert_int_equal(find("www.contoso.com."), 0);         /* a fully qualified name */
  assert_int_equal(find("autodiscover.contoso.com"), 2); /* the host's name has the dot */
  /* an exact name wins over a wildcard listed before it */
  assert_int_equal(find("autodiscover.contoso.com:443"), 2);
  /* the wildcard takes names below contoso.com, one label or more, not contoso.com itself */
  assert_int_equal(find("mail.contoso.com"), 1);
  assert_int_equal(find("a.b.contoso.com"), 1);
  assert_int_equal(find("xcontoso.com"), -1);
  assert_int_equal(find("fabrikam.com"), -1);
  assert_int_equal(find("10.77.0.1"), -1);
  assert_int_equal(find("[2001:db8::1]:443"), -1);
  assert_int_equal(find(""), -1);
}

static const char *request(const char *host_line) {
  static char text[512];
  buf_fmt(text, sizeof text, "GET / HTTP/1.1\r\n%s\r\n\r\n", host_line);
  return text;
}

/* check_answer feeds one request to a fresh session on the shared listener (`sni`: the host a
 * TLS client named, or NULL) and checks the body that answered and the host_id journaled. */
static void check_answer(const char *host_line, const struct http_vhost *sni, const char *body,
                         const char *host_id) {
  struct fixture *f = fixture_new(&www, &www_l);
  http__session_set_vhosts(&f->s, vhosts, 3);
  f->s.sni_host = sni;
  assert_true(http__session_feed(&f->s, S(request(host_line))));
  assert_non_null(strstr(out(f), body));
  char want[64];
  buf_fmt(want, sizeof want, "\"host_id\":\"%s\"", host_id);
  assert_non_null(strstr(journal(f), want));
  fixture_free(f);
}

static void test_host_header_picks_the_routes(void **state) {
  (void) state;
  check_answer("Host: autodiscover.contoso.com", NULL, "autodiscover-site", "exchange");
  check_answer("Host: www.contoso.com:80", NULL, "www-site", "www");
  check_answer("Host: mail.contoso.com", NULL, "wildcard-site", "wild");
}

static void test_no_or_unknown_host_gets_the_default(void **state) {
  (void) state;
  check_answer("Host: fabrikam.com", NULL, "www-site", "www");
  check_answer("Host: 10.77.0.1", NULL, "www-site", "www");
  check_answer("X-Nothing: 1", NULL, "www-site", "www"); /* HTTP/1.1 without Host */
}

static void test_the_sni_host_wins_over_the_host_header(void **state) {
  (void) state;
  /* TLS: the client validated the SNI host's certificate; its routes answer */
  check_answer("Host: www.contoso.com", &vhosts[2], "autodiscover-site", "exchange");
}

static void test_each_request_of_a_connection_is_routed(void **state) {
  (void) state;
  struct fixture *f = fixture_new(&www, &www_l);
  http__session_set_vhosts(&f->s, vhosts, 3);
  assert_true(http__session_feed(&f->s, S("GET / HTTP/1.1\r\nHost: autodiscover.contoso.com\r\n\r\n"
                                          "GET / HTTP/1.1\r\nHost: contoso.com\r\n\r\n")));
  const char *o = out(f);
  const char *first = strstr(o, "autodiscover-site");
  const char *second = strstr(o, "www-site");
  assert_non_null(first);
  assert_non_null(second);
  assert_true(first < second);
  fixture_free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names_find_their_host),
      cmocka_unit_test(test_host_header_picks_the_routes),
      cmocka_unit_test(test_no_or_unknown_host_gets_the_default),
      cmocka_unit_test(test_the_sni_host_wins_over_the_host_header),
      cmocka_unit_test(test_each_request_of_a_connection_is_routed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
