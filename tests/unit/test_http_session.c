/* tests/unit/test_http_session.c: proxy/http routing and the socket-free request session —
 * route matching, responses, limits (400/413/414/431), keep-alive, journal fields. */
#include "proxy/http/http.h"
#include "proxy/http/internal.h"
#include "tests/unit/test_http_fixture.h"
#include "tests/unit/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POX_BODY                                                                                   \
  "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"" HTTP_NS_REQUEST "\">"         \
  "<Request><EMailAddress>alice@contoso.com</"                                                     \
  "EMailAddress><AcceptableResponseSchema>" HTTP_NS_RESPONSE_2006A                                 \
  "</AcceptableResponseSchema></Request></Autodiscover>"

static struct scn_route routes[] = {
    {.path = "/autodiscover/autodiscover.xml",
     .kind = SCN_ROUTE_AUTODISCOVER,
     .ad = {.action = SCN_AD_SETTINGS, .ews_url = "https://mail.contoso.com/EWS/Exchange.asmx"}},
    {.path = "/post-only",
     .method = "POST",
     .kind = SCN_ROUTE_STATUS,
     .status = 201,
     .body = "made"},
    {.path = "/old",
     .kind = SCN_ROUTE_REDIRECT,
     .status = 302,
     .location = "https://www.contoso.com/new"},
    {.path = "/json",
     .kind = SCN_ROUTE_STATUS,
     .status = 200,
     .body = "{}",
     .content_type = "application/json"},
    {.path = "/", .kind = SCN_ROUTE_STATUS, .status = 200, .body = "<html>site</html>"},
};
static struct scn_listener with_site = {.present = true, .routes = routes, .n_routes = 5};
static struct scn_listener no_site = {.present = true, .routes = routes, .n_routes = 4};
static struct scn_host host = {.id = "contoso-web"};

static int setup(void **state) {
  *state = fixture_new(&host, &with_site);
  return 0;
}

static int teardown(void **state) {
  fixture_free(*state);
  return 0;
}

static void test_request_path(void **state) {
  struct slice p = http__request_path(S("/Autodiscover/Autodiscover.xml?x=1#f"));
  assert_true(slice_eq_nocase(p, "/autodiscover/autodiscover.xml"));
  p = http__request_path(S("http://contoso.com/a/b?q"));
  assert_true(slice_eq_nocase(p, "/a/b"));
  p = http__request_path(S("http://contoso.com"));
  assert_true(slice_eq_nocase(p, "/"));
  p = http__request_path(S("*"));
  assert_true(slice_eq_nocase(p, "*"));
}

static void test_route_match(void **state) {
  /* exact, case-insensitive (§1.1) */
  assert_ptr_equal(http__route_match(&with_site, S("POST"), S("/AutoDiscover/AUTODISCOVER.XML")),
                   &routes[0]);
  /* method set: POST matches, GET falls back to the site */
  assert_ptr_equal(http__route_match(&with_site, S("POST"), S("/post-only")), &routes[1]);
  assert_ptr_equal(http__route_match(&with_site, S("GET"), S("/post-only")), &routes[4]);
  assert_null(http__route_match(&no_site, S("GET"), S("/post-only")));
  /* any path falls back to "/"; without a site route: nothing */
  assert_ptr_equal(http__route_match(&with_site, S("GET"), S("/nothing/here")), &routes[4]);
  assert_ptr_equal(http__route_match(&with_site, S("GET"), S("/")), &routes[4]);
  assert_null(http__route_match(&no_site, S("GET"), S("/nothing/here")));
  /* no prefix matching */
  assert_null(http__route_match(&no_site, S("GET"), S("/old/x")));
  assert_null(http__route_match(NULL, S("GET"), S("/")));
}

static void test_site_page_and_content_types(void **state) {
  struct fixture *f = *state;
  assert_true(http__session_feed(&f->s, S("GET /anything HTTP/1.1\r\nHost: contoso.com\r\n\r\n")));
  assert_non_null(strstr(out(f), "HTTP/1.1 200 OK\r\n"));
  assert_non_null(strstr(out(f), "Content-Type: text/html; charset=utf-8\r\n"));
  assert_non_null(strstr(out(f), "Content-Length: 17\r\n"));
  assert_non_null(strstr(out(f), "Connection: keep-alive\r\n"));
  assert_non_null(strstr(out(f), "\r\n\r\n<html>site</html>"));
  buf_reset(&f->s.out);
  assert_true(http__session_feed(&f->s, S("GET /JSON HTTP/1.1\r\nHost: c\r\n\r\n")));
  assert_non_null(strstr(out(f), "Content-Type: application/json\r\n"));
  buf_reset(&f->s.out);
  assert_true(http__session_feed(&f->s, S("POST /post-only HTTP/1.1\r\nHost: c\r\n"
                                          "Content-Length: 0\r\n\r\n")));
  assert_non_null(strstr(out(f), "HTTP/1.1 201 Created\r\n"));
  assert_non_null(strstr(out(f), "Content-Type: text/plain; charset=utf-8\r\n"));
  const char *t = journal(f);
  assert_non_null(strstr(t, "\"ev\":\"http.request\",\"host\":\"contoso.com\",\"method\":\"GET\","
                            "\"path\":\"/anything\",\"email\":null,\"content_type\":null,"
                            "\"length\":0"));
  assert_non_null(
      strstr(t, "\"ev\":\"http.response\",\"status\":200,\"route\":\"/\",\"length\":17"));
  assert_non_null(strstr(t, "\"route\":\"/json\""));
}

static void test_404_and_head(void **state) {
  struct fixture *f = *state;
  http__session_cleanup(&f->s);
  http__session_init(&f->s, &host, &no_site, f->j);
  assert_true(http__session_feed(&f->s, S("GET /missing?x=1 HTTP/1.1\r\nHost: c\r\n\r\n")));
  assert_non_null(strstr(out(f), "HTTP/1.1 404 Not Found\r\n"));
  assert_non_null(strstr(out(f), "<h1>Not Found</h1>"));
  assert_non_null(strstr(journal(f), "\"status\":404,\"route\":null"));
  assert_non_null(strstr(journal(f), "\"path\":\"/missing\",\"target\":\"/missing?x=1\""));
  buf_reset(&f->s.out);
  assert_true(http__session_feed(&f->s, S("HEAD /json HTTP/1.1\r\nHost: c\r\n\r\n")));
  assert_non_null(strstr(out(f), "Content-Length: 2\r\n"));
  assert_null(strstr(out(f), "{}")); /* HEAD: no body */
}

static void test_redirect(void **state) {
  struct fixture *f = *state;
  assert_true(http__session_feed(&f->s, S("GET /Old HTTP/1.1\r\nHost: c\r\n\r\n")));
  assert_non_null(strstr(out(f), "HTTP/1.1 302 Found\r\n"));
  assert_non_null(strstr(out(f), "Location: https://www.contoso.com/new\r\n"));
}

static void test_autodiscover_post_get_put(void **state) {
  struct fixture *f = *state;
  char req[2048];
  assert_true(buf_fmt(req, sizeof req,
                      "POST /Autodiscover/Autodiscover.xml HTTP/1.1\r\nHost: contoso.com\r\n"
                      "Content-Type: text/xml\r\nAuthorization: Basic dXNlcjpwYXNz\r\n"
                      "Content-Length: %zu\r\n\r\n%s",
                      strlen(POX_BODY), POX_BODY));
  assert_true(http__session_feed(&f->s, S(req)));
  assert_non_null(strstr(out(f), "HTTP/1.1 200 OK\r\n"));
  assert_non_null(strstr(out(f), "Content-Type: text/xml; charset=utf-8\r\n"));
  assert_non_null(strstr(out(f), "<EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl>"));
  assert_non_null(strstr(out(f), "<AutoDiscoverSMTPAddress>alice@contoso.com<"));
  const char *t = journal(f);
  assert_non_null(strstr(t, "\"email\":\"alice@contoso.com\",\"content_type\":\"text/xml\""));
  assert_non_null(strstr(t, "\"authorization\":{\"scheme\":\"Basic\",\"sha256\":\""));
  assert_null(strstr(t, "dXNlcjpwYXNz")); /* never the credential */
  assert_non_null(strstr(t, "\"route\":\"/autodiscover/autodiscover.xml\""));

  /* GET, as a browser does: 200 with Error 600 (what IIS/Exchange answer) */
  buf_reset(&f->s.out);
  assert_true(http__session_feed(&f->s, S("GET /autodiscover/autodiscover.xml HTTP/1.1\r\n"
                                          "Host: c\r\n\r\n")));
  assert_non_null(strstr(out(f), "HTTP/1.1 200 OK\r\n"));
  assert_non_null(strstr(out(f), "<ErrorCode>600</ErrorCode>"));
  assert_non_null(strstr(out(f), "<Message>Invalid Request</Message>"));

  /* a POST with a broken body: 600; another schema: 601 */
  buf_reset(&f->s.out);
  assert_true(http__session_feed(&f->s, S("POST /autodiscover/autodiscover.xml HTTP/1.1\r\n"
                                          "Host: c\r\nContent-Length: 5\r\n\r\n<a><b")));
  assert_non_null(strstr(out(f), "<ErrorCode>600</ErrorCode>"));
  assert_non_null(strstr(journal(f), "\"pox_error\":\"not well-formed XML\""));
  buf_reset(&f->s.out);
  const char *mobile = "<Autodiscover xmlns=\"" HTTP_NS_REQUEST "\"><Request><EMailAddress>a@b"
                       "</EMailAddress><AcceptableResponseSchema>urn:x</AcceptableResponseSchema>"
                       "</Request></Autodiscover>";
  assert_true(buf_fmt(req, sizeof req,
                      "POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: c\r\n"
                      "Content-Length: %zu\r\n\r\n%s",
                      strlen(mobile), mobile));
  assert_true(http__session_feed(&f->s, S(req)));
  assert_non_null(strstr(out(f), "<ErrorCode>601</ErrorCode>"));

  buf_reset(&f->s.out);
  assert_true(http__session_feed(&f->s, S("PUT /autodiscover/autodiscover.xml HTTP/1.1\r\n"
                                          "Host: c\r\nContent-Length: 0\r\n\r\n")));
  assert_non_null(strstr(out(f), "HTTP/1.1 405 Method Not Allowed\r\n"));
  assert_non_null(strstr(out(f), "Allow: GET, POST\r\n"));
}

static void test_keep_alive_pipelined_and_split(void **state) {
  struct fixture *f = *state;
  const char *two = "GET /a HTTP/1.1\r\nHost: c\r\n\r\nGET /json HTTP/1.1\r\nHost: c\r\n\r\n";
  assert_true(http__session_feed(&f->s, S(two)));
  const char *first = strstr(out(f), "HTTP/1.1 200 OK");
  assert_non_null(first);
  assert_non_null(strstr(first + 1, "HTTP/1.1 200 OK"));
  assert_non_null(strstr(out(f), "{}"));
  assert_int_equal(f->s.n_requests, 2);
  /* byte by byte */
  buf_reset(&f->s.out);
  const char *one = "POST /post-only HTTP/1.1\r\nHost: c\r\nContent-Length: 3\r\n\r\nabc";
  for (size_t i = 0; one[i] != '\0'; i++) {
    assert_true(http__session_feed(&f->s, (struct slice){(const uint8_t *) one + i, 1}));
  }
  assert_non_null(strstr(out(f), "HTTP/1.1 201 Created"));
  assert_int_equal(f->s.n_requests, 3);
}

static void test_connection_close_and_http10(void **state) {
  struct fixture *f = *state;
  assert_false(http__session_feed(&f->s, S("GET / HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n"
                                           "GET / HTTP/1.1\r\nHost: c\r\n\r\n")));
  assert_non_null(strstr(out(f), "Connection: close\r\n"));
  assert_int_equal(f->s.n_requests, 1); /* the request after close is not served */
  assert_true(f->s.closing);
  assert_false(http__session_feed(&f->s, S("GET / HTTP/1.1\r\n\r\n")));

  http__session_cleanup(&f->s);
  http__session_init(&f->s, &host, &with_site, f->j);
  assert_false(http__session_feed(&f->s, S("GET / HTTP/1.0\r\n\r\n")));
  assert_non_null(strstr(out(f), "Connection: close\r\n"));
  assert_non_null(strstr(journal(f), "\"host\":null"));
}

static void test_malformed_is_400(void **state) {
  struct fixture *f = *state;
  assert_false(http__session_feed(&f->s, S("HELLO WORLD\r\n\r\n")));
  assert_non_null(strstr(out(f), "HTTP/1.1 400 Bad Request\r\n"));
  assert_non_null(strstr(out(f), "Connection: close\r\n"));
  const char *t = journal(f);
  assert_non_null(strstr(t, "\"ev\":\"http.error\",\"error\":\"HPE_"));
  assert_non_null(strstr(t, "\"ev\":\"http.response\",\"status\":400,\"route\":null"));
  assert_null(strstr(t, "http.request"));
}

static void test_bad_bytes_variants(void **state) {
  struct fixture *f = *state;
  static const char *bad[] = {
      "GET / HTTP/1.1\r\nHost: c\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "\x00\x01\x02\x03",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    http__session_cleanup(&f->s);
    http__session_init(&f->s, &host, &with_site, f->j);
    size_t len = i == 4 ? 4 : strlen(bad[i]);
    assert_false(http__session_feed(&f->s, (struct slice){(const uint8_t *) bad[i], len}));
    assert_non_null(strstr(out(f), "HTTP/1.1 400 Bad Request\r\n"));
  }
}

static void test_limits(void **state) {
  struct fixture *f = *state;
  struct buf big;
  buf_init(&big, 4u << 20);
  /* 414: URL over 8 KiB */
  buf_append_str(&big, "GET /");
  for (int i = 0; i < 9000; i++) {
    buf_append_str(&big, "a");
  }
  buf_append_str(&big, " HTTP/1.1\r\nHost: c\r\n\r\n");
  assert_false(http__session_feed(&f->s, buf_slice(&big)));
  assert_non_null(strstr(out(f), "HTTP/1.1 414 URI Too Long\r\n"));

  /* 431: header bytes over 64 KiB */
  http__session_cleanup(&f->s);
  http__session_init(&f->s, &host, &with_site, f->j);
  buf_reset(&big);
  buf_append_str(&big, "GET / HTTP/1.1\r\nHost: c\r\nX-Big: ");
  for (int i = 0; i < 70000; i++) {
    buf_append_str(&big, "b");
  }
  buf_append_str(&big, "\r\n\r\n");
  assert_false(http__session_feed(&f->s, buf_slice(&big)));
  assert_non_null(strstr(out(f), "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
  assert_non_null(strstr(journal(f), "\"error\":\"header fields larger than 64 KiB\""));

  /* 431: more than 100 fields */
  http__session_cleanup(&f->s);
  http__session_init(&f->s, &host, &with_site, f->j);
  buf_reset(&big);
  buf_append_str(&big, "GET / HTTP/1.1\r\n");
  for (int i = 0; i < 101; i++) {
    buf_appendf(&big, "X-%d: v\r\n", i);
  }
  buf_append_str(&big, "\r\n");
  assert_false(http__session_feed(&f->s, buf_slice(&big)));
  assert_non_null(strstr(out(f), "HTTP/1.1 431 "));
  /* exactly 100 is fine */
  http__session_cleanup(&f->s);
  http__session_init(&f->s, &host, &with_site, f->j);
  buf_reset(&big);
  buf_append_str(&big, "GET / HTTP/1.1\r\n");
  for (int i = 0; i < 100; i++) {
    buf_appendf(&big, "X-%d: v\r\n", i);
  }
  buf_append_str(&big, "\r\n");
  assert_true(http__session_feed(&f->s, buf_slice(&big)));
  assert_non_null(strstr(out(f), "HTTP/1.1 200 OK"));

  /* 413: declared body over 1 MiB, and a chunked one that grows past it */
  http__session_cleanup(&f->s);
  http__session_init(&f->s, &host, &with_site, f->j);
  assert_false(http__session_feed(&f->s, S("POST / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n")));
  assert_non_null(strstr(out(f), "HTTP/1.1 413 Payload Too Large\r\n"));
  http__session_cleanup(&f->s);
  http__session_init(&f->s, &host, &with_site, f->j);
  assert_true(
      http__session_feed(&f->s, S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")));
  bool more = true;
  for (int i = 0; i < 40 && more; i++) {
    buf_reset(&big);
    buf_append_str(&big, "8000\r\n");
    for (int k = 0; k < 0x8000; k++) {
      buf_append_str(&big, "c");
    }
    buf_append_str(&big, "\r\n");
    more = http__session_feed(&f->s, buf_slice(&big));
  }
  assert_false(more);
  assert_non_null(strstr(out(f), "HTTP/1.1 413 "));
  buf_cleanup(&big);
}

/* RFC 9112 6.1: a transfer coding the lab does not decode is 501; chunked alone is decoded */
static void test_unknown_transfer_coding_is_501(void **state) {
  struct fixture *f = *state;
  assert_false(http__session_feed(
      &f->s, S("POST / HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")));
  assert_non_null(strstr(out(f), "HTTP/1.1 501 Not Implemented\r\n"));
  assert_non_null(strstr(journal(f), "\"error\":\"a transfer coding other than chunked\""));
  http__session_cleanup(&f->s);
  http__session_init(&f->s, &host, &with_site, f->j);
  assert_true(http__session_feed(&f->s, S("POST /post-only HTTP/1.1\r\nHost: c\r\n"
                                          "Transfer-Encoding:  Chunked \r\n\r\n"
                                          "4\r\nmade\r\n0\r\n\r\n")));
  assert_non_null(strstr(out(f), "HTTP/1.1 201 "));
}

/* in_head follows a request head from its first byte (blank lines before it included) to the
 * end of its header section: the connection's head deadline runs meanwhile */
static void test_in_head_and_timeout(void **state) {
  struct fixture *f = *state;
  assert_false(f->s.in_head);
  assert_true(http__session_feed(&f->s, S("\r\n")));
  assert_true(f->s.in_head);
  assert_true(http__session_feed(&f->s, S("GET / HTTP/1.1\r\nHost: c\r\n")));
  assert_true(f->s.in_head);
  assert_true(http__session_feed(&f->s, S("\r\n")));
  assert_false(f->s.in_head); /* answered; nothing pending */
  assert_true(http__session_feed(&f->s, S("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab")));
  assert_false(f->s.in_head); /* the body is not the head's */
  assert_true(http__session_feed(&f->s, S("cdGET / HT")));
  assert_true(f->s.in_head); /* the next head began in the same bytes */
  http__session_timeout(&f->s, "request head not complete within 10 ms");
  assert_false(f->s.in_head);
  assert_non_null(strstr(out(f), "HTTP/1.1 408 Request Timeout\r\n"));
  assert_non_null(strstr(
      journal(f), "\"ev\":\"http.error\",\"error\":\"request head not complete within 10 ms\""));
  assert_false(http__session_feed(&f->s, S("TP/1.1\r\n\r\n"))); /* closing: not read */
}

static void test_eof_mid_request(void **state) {
  struct fixture *f = *state;
  assert_true(http__session_feed(&f->s, S("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")));
  http__session_eof(&f->s);
  assert_non_null(strstr(journal(f), "\"ev\":\"http.error\""));
  assert_non_null(strstr(journal(f), "peer closed mid-request"));
  /* EOF between requests is ordinary */
  http__session_cleanup(&f->s);
  http__session_init(&f->s, &host, &with_site, f->j);
  fflush(f->mem);
  size_t before = f->text_len;
  http__session_eof(&f->s);
  fflush(f->mem);
  assert_int_equal(f->text_len, before);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request_path),
      cmocka_unit_test(test_route_match),
      cmocka_unit_test_setup_teardown(test_site_page_and_content_types, setup, teardown),
      cmocka_unit_test_setup_teardown(test_404_and_head, setup, teardown),
      cmocka_unit_test_setup_teardown(test_redirect, setup, teardown),
      cmocka_unit_test_setup_teardown(test_autodiscover_post_get_put, setup, teardown),
      cmocka_unit_test_setup_teardown(test_keep_alive_pipelined_and_split, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connection_close_and_http10, setup, teardown),
      cmocka_unit_test_setup_teardown(test_malformed_is_400, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_bytes_variants, setup, teardown),
      cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unknown_transfer_coding_is_501, setup, teardown),
      cmocka_unit_test_setup_teardown(test_in_head_and_timeout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_eof_mid_request, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
