/* tests/unit/test_http_forward.c: the session's side of an upstream route, without sockets — the
 * request is journaled and handed over with all its fields, parsing waits while it is forwarded
 * (a pipelined request behind it is kept, then answered), a failure before any byte of a
 * response becomes a 502 naming the reason, a relayed response is journaled with the upstream's
 * status, and a response cut short ends the connection. */
#include "tests/unit/test_http_fixture.h"

#include <string.h>

static struct scn_route routes[] = {
    {.path = "/",
     .kind = SCN_ROUTE_UPSTREAM,
     .status = 502,
     .upstream = {.url = "https://real.example/", .host = "real.example", .port = 443}},
    {.path = "/local", .kind = SCN_ROUTE_STATUS, .status = 200, .body = "here"},
};
static struct scn_listener listener = {.present = true, .routes = routes, .n_routes = 2};
static struct scn_host host = {.id = "intercept"};

static void test_parsing_waits_for_the_forwarded_request(void **state) {
  struct fixture *f = fixture_new(&host, &listener);
  const char in[] = "POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: contoso.com\r\n"
                    "Authorization: Basic YTpi\r\nX-Custom: 1\r\nContent-Length: 4\r\n\r\nbody"
                    "GET /local HTTP/1.1\r\nHost: contoso.com\r\n\r\n";
  assert_true(http__session_feed(&f->s, S(in)));
  assert_ptr_equal(f->s.forward, &routes[0]);
  assert_string_equal(out(f), ""); /* nothing answered yet: the second request waits */
  struct http_upstream_request req = http__session_forward_request(&f->s);
  assert_ptr_equal(req.up, &routes[0].upstream);
  assert_true(slice_eq_nocase(req.method, "POST"));
  assert_true(slice_eq_nocase(req.body, "body"));
  assert_true(slice_eq_nocase(req.host, "contoso.com"));
  const char fields[] = "Host\0contoso.com\0Authorization\0Basic YTpi\0X-Custom\0001\0"
                        "Content-Length\0004\0";
  assert_int_equal(req.headers.len, sizeof fields - 1);
  assert_memory_equal(req.headers.ptr, fields, sizeof fields - 1);
  assert_non_null(strstr(journal(f), "\"ev\":\"http.request\""));
  assert_null(strstr(journal(f), "YTpi"));

  /* the upstream answered: the connection relayed it; the request behind is answered now */
  struct http_upstream_end end = {
      .ok = true, .relayed_any = true, .keep_alive = true, .status = 201, .length = 7};
  assert_true(http__session_forwarded(&f->s, &end));
  assert_null(f->s.forward);
  assert_non_null(strstr(out(f), "HTTP/1.1 200 OK\r\n"));
  assert_non_null(strstr(out(f), "\r\n\r\nhere"));
  assert_non_null(strstr(journal(f), "\"ev\":\"http.response\",\"status\":201,\"route\":\"/\","
                                     "\"length\":7,\"upstream\":\"https://real.example/\""));
  fixture_free(f);
}

static void test_a_failure_before_any_byte_is_a_502_with_the_reason(void **state) {
  struct fixture *f = fixture_new(&host, &listener);
  assert_true(http__session_feed(&f->s, S("GET / HTTP/1.1\r\nHost: contoso.com\r\n\r\n")));
  struct http_upstream_end end = {
      .error = "TLS: certificate verification failed: certificate has expired"};
  assert_true(http__session_forwarded(&f->s, &end)); /* the client may ask again */
  assert_non_null(strstr(out(f), "HTTP/1.1 502 Bad Gateway\r\n"));
  assert_non_null(strstr(out(f), "Content-Type: text/plain; charset=utf-8\r\n"));
  assert_non_null(strstr(out(f), "\r\n\r\n502 Bad Gateway\nhttps://real.example/: TLS: certificate "
                                 "verification failed: certificate has expired\n"));
  assert_non_null(strstr(journal(f), "\"status\":502"));
  assert_non_null(strstr(journal(f), "\"error\":\"TLS: certificate verification failed: "
                                     "certificate has expired\""));
  fixture_free(f);
}

static void test_a_response_cut_short_ends_the_connection(void **state) {
  struct fixture *f = fixture_new(&host, &listener);
  assert_true(http__session_feed(&f->s, S("GET / HTTP/1.1\r\nHost: contoso.com\r\n\r\n"
                                          "GET /local HTTP/1.1\r\n\r\n")));
  struct http_upstream_end end = {.relayed_any = true, .status = 200, .error = "cut"};
  assert_false(http__session_forwarded(&f->s, &end));
  assert_string_equal(out(f), ""); /* the request behind it is not answered: the connection ends */
  fixture_free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parsing_waits_for_the_forwarded_request),
      cmocka_unit_test(test_a_failure_before_any_byte_is_a_502_with_the_reason),
      cmocka_unit_test(test_a_response_cut_short_ends_the_connection),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
