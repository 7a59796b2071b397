/* tests/unit/test_http_choice.c: what a request gets that depends on the request itself — a
 * route's answers chosen by request count and by the address asked for, with http.response
 * saying which answered (proxy/http/http_route.c, http_session.c); paths percent-decoded before
 * they are matched; bodies given as bytes sent byte for byte. Sessions without sockets, on a
 * scenario loaded from YAML. */
#include "proxy/http/http.h"
#include "tests/unit/test_http_fixture.h"

#include <string.h>

static const char SCENARIO[] =
    "name: choice\n"
    "description: answers per request\n"
    "domain: contoso.com\n"
    "hosts:\n"
    "  exchange:\n"
    "    https:\n"
    "      routes:\n"
    "        - path: /autodiscover/autodiscover.xml\n"
    "          method: POST\n"
    "          answers:\n"
    "            - { first: 1, autodiscover: { redirect_addr: alice@fabrikam.com } }\n"
    "            - { for_email: BOB@contoso.com, first: 2, status: 503 }\n"
    "            - { for_email: carol@contoso.com, autodiscover: { error: 500 } }\n"
    "            - { for_email: dave@contoso.com, redirect: 302, location: /x }\n"
    "            - { first: 1, autodiscover: { settings: { ews: \"https://m.contoso.com/EWS/a\" } "
    "} }\n"
    "        - path: /autodiscover/autodiscover.json\n"
    "          auth: { challenges: [ Basic ] }\n"
    "          answers:\n"
    "            - for_email: alice@contoso.com\n"
    "              autodiscover_v2: { protocols: { EWS: \"https://a.contoso.com/EWS\" } }\n"
    "            - autodiscover_v2: { protocols: { EWS: \"https://other.contoso.com/EWS\" } }\n"
    "        - { path: /utf16, status: 200, body_hex: \"fffe3c00\", content_type: text/xml }\n"
    "        - { path: /b64, status: 200, body_base64: \"gICA\" }\n"
    "        - { path: /a+b/, status: 204 }\n";

struct lab {
  struct scn *s;
  uint32_t counts[4];
  struct http_record rec;
};

static int setup(void **state) {
  struct lab *l = calloc(1, sizeof *l);
  char err[512] = "";
  if (scn_load_string(&l->s, "choice.yaml", SCENARIO, strlen(SCENARIO), err, sizeof err) !=
      SCN_OK) {
    fprintf(stderr, "%s\n", err);
    free(l);
    *state = NULL;
    return -1;
  }
  l->rec = (struct http_record){.counts = l->counts, .n_counts = l->s->n_counters};
  *state = l;
  return 0;
}

static int teardown(void **state) {
  struct lab *l = *state;
  if (l == NULL) {
    return 0;
  }
  scn_free(l->s);
  free(l);
  return 0;
}

static struct fixture *session(struct lab *l) {
  struct fixture *f = fixture_new(&l->s->hosts[0], &l->s->hosts[0].https);
  f->s.rec = &l->rec;
  return f;
}

/* pox sends a POX POST for `email` on the fixture's connection. */
static void pox(struct fixture *f, const char *email) {
  char body[1024], req[2048];
  buf_fmt(body, sizeof body,
          "<?xml version=\"1.0\"?><Autodiscover xmlns=\"" HTTP_NS_REQUEST "\"><Request>"
          "<EMailAddress>%s</EMailAddress><AcceptableResponseSchema>" HTTP_NS_RESPONSE_2006A
          "</AcceptableResponseSchema></Request></Autodiscover>",
          email);
  buf_fmt(req, sizeof req,
          "POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: a\r\nContent-Type: text/xml\r\n"
          "Content-Length: %zu\r\n\r\n%s",
          strlen(body), body);
  assert_true(http__session_feed(&f->s, S(req)));
}

/* last_response returns the journal's last http.response line (a copy, caller frees). */
static char *last_response(struct fixture *f) {
  const char *j = journal(f), *at = NULL;
  for (const char *p = j; (p = strstr(p, "\"ev\":\"http.response\"")) != NULL; p++) {
    at = p;
  }
  assert_non_null(at);
  return str_ndup(at, strcspn(at, "\n"));
}

static void assert_response(struct fixture *f, const char *part) {
  char *line = last_response(f);
  if (strstr(line, part) == NULL) {
    fail_msg("%s lacks %s", line, part);
  }
  free(line);
}

static void test_answers_by_count_and_address(void **state) {
  struct lab *l = *state;
  memset(l->counts, 0, sizeof l->counts);
  struct fixture *f = session(l);
  pox(f, "alice@contoso.com"); /* the first request: redirectAddr */
  assert_non_null(strstr(out(f), "<Action>redirectAddr</Action>"));
  assert_response(f, "\"route\":\"/autodiscover/autodiscover.xml\",\"answer\":1,");
  buf_reset(&f->s.out);
  pox(f, "alice@contoso.com"); /* its one request is answered: the settings, once */
  assert_non_null(strstr(out(f), "<EwsUrl>https://m.contoso.com/EWS/a</EwsUrl>"));
  assert_response(f, "\"answer\":5,");
  buf_reset(&f->s.out);
  pox(f, "alice@contoso.com"); /* nothing applies any more: 404 */
  assert_non_null(strstr(out(f), "HTTP/1.1 404"));
  assert_response(f, "\"status\":404,\"route\":\"/autodiscover/autodiscover.xml\",\"answer\":null");
  buf_reset(&f->s.out);
  pox(f, "bob@CONTOSO.com"); /* an address compares without regard to case */
  assert_non_null(strstr(out(f), "HTTP/1.1 503"));
  assert_response(f, "\"answer\":2,");
  buf_reset(&f->s.out);
  pox(f, "carol@contoso.com");
  assert_non_null(strstr(out(f), "<ErrorCode>500</ErrorCode>"));
  assert_response(f, "\"answer\":3,");
  buf_reset(&f->s.out);
  pox(f, "dave@contoso.com");
  assert_non_null(strstr(out(f), "HTTP/1.1 302"));
  assert_non_null(strstr(out(f), "Location: /x\r\n"));
  assert_non_null(strstr(journal(f), "\"email\":\"dave@contoso.com\""));
  fixture_free(f);
  /* the counts are the lab's, not the connection's: another connection goes on from there */
  f = session(l);
  pox(f, "bob@contoso.com");
  assert_response(f, "\"answer\":2,");
  buf_reset(&f->s.out);
  pox(f, "bob@contoso.com"); /* bob's two are answered */
  assert_response(f, "\"answer\":null");
  fixture_free(f);
  assert_int_equal(l->counts[0], 1);
  assert_int_equal(l->counts[1], 2);
  assert_int_equal(l->counts[2], 1);
}

static void test_without_counts_first_stays_ahead(void **state) {
  struct lab *l = *state;
  struct fixture *f = fixture_new(&l->s->hosts[0], &l->s->hosts[0].https); /* no record */
  pox(f, "alice@contoso.com");
  pox(f, "alice@contoso.com");
  assert_int_equal(strstr(strstr(journal(f), "\"answer\":1,") + 1, "\"answer\":1,") != NULL, true);
  fixture_free(f);
}

static void test_route_auth_before_the_choice(void **state) {
  struct lab *l = *state;
  struct fixture *f = session(l);
  assert_true(http__session_feed(&f->s, S("GET /autodiscover/autodiscover.json?Email=alice%40"
                                          "contoso.com&Protocol=EWS HTTP/1.1\r\nHost: a\r\n\r\n")));
  assert_non_null(strstr(out(f), "HTTP/1.1 401"));
  char *line = last_response(f);
  assert_null(strstr(line, "\"answer\"")); /* challenged: no answer chosen */
  free(line);
  buf_reset(&f->s.out);
  /* the path form, its address percent-decoded with the path */
  assert_true(http__session_feed(&f->s, S("GET /autodiscover/autodiscover.json/v1.0/alice%40"
                                          "contoso.com?Protocol=EWS HTTP/1.1\r\nHost: a\r\n"
                                          "Authorization: Basic eDp5\r\n\r\n")));
  assert_non_null(strstr(out(f), "https://a.contoso.com/EWS"));
  assert_response(f, "\"answer\":1,");
  assert_non_null(strstr(journal(f), "\"email\":\"alice@contoso.com\""));
  buf_reset(&f->s.out);
  assert_true(http__session_feed(&f->s, S("GET /autodiscover/autodiscover.json?Email=zed%40"
                                          "contoso.com&Protocol=EWS HTTP/1.1\r\nHost: a\r\n"
                                          "Authorization: Basic eDp5\r\n\r\n")));
  assert_non_null(strstr(out(f), "https://other.contoso.com/EWS"));
  assert_response(f, "\"answer\":2,");
  fixture_free(f);
}

static void test_paths_decoded(void **state) {
  struct lab *l = *state;
  memset(l->counts, 0, sizeof l->counts);
  struct fixture *f = session(l);
  /* "%2E" is ".", "%2f" is "/", in any case: the route matches */
  assert_true(http__session_feed(&f->s, S("GET /%55tf16 HTTP/1.1\r\nHost: a\r\n\r\n")));
  assert_non_null(strstr(out(f), "HTTP/1.1 200"));
  assert_non_null(strstr(journal(f), "\"path\":\"/%55tf16\",\"path_decoded\":\"/Utf16\""));
  buf_reset(&f->s.out);
  pox(f, "alice@contoso.com");
  buf_reset(&f->s.out);
  char req[1024];
  buf_fmt(req, sizeof req,
          "POST /Autodiscover%%2fAutodiscover%%2Exml HTTP/1.1\r\nHost: a\r\nContent-Length: 0"
          "\r\n\r\n");
  assert_true(http__session_feed(&f->s, S(req)));
  assert_response(f, "\"route\":\"/autodiscover/autodiscover.xml\"");
  buf_reset(&f->s.out);
  assert_true(http__session_feed(&f->s, S("GET /a%2Bb/ HTTP/1.1\r\nHost: a\r\n\r\n")));
  assert_non_null(strstr(out(f), "HTTP/1.1 204"));
  buf_reset(&f->s.out);
  /* a '+' is a plus in a path (RFC 3986), not a space */
  assert_true(http__session_feed(&f->s, S("GET /a+b/ HTTP/1.1\r\nHost: a\r\n\r\n")));
  assert_non_null(strstr(out(f), "HTTP/1.1 204"));
  buf_reset(&f->s.out);
  /* decoded once: "%252E" is "%2E", which matches nothing but the site's fallback (none) */
  assert_true(http__session_feed(&f->s, S("GET /utf16%252E HTTP/1.1\r\nHost: a\r\n\r\n")));
  assert_non_null(strstr(out(f), "HTTP/1.1 404"));
  fixture_free(f);
  /* a '%' without two hex digits, or a NUL, is a bad request: 400, the connection ends */
  const char *bad[] = {"GET /utf16%zz HTTP/1.1\r\nHost: a\r\n\r\n",
                       "GET /utf16%2 HTTP/1.1\r\nHost: a\r\n\r\n",
                       "GET /utf16%00 HTTP/1.1\r\nHost: a\r\n\r\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    f = session(l);
    assert_false(http__session_feed(&f->s, S(bad[i])));
    assert_non_null(strstr(out(f), "HTTP/1.1 400"));
    assert_non_null(strstr(out(f), "Connection: close"));
    assert_response(f, "\"status\":400,\"route\":null");
    fixture_free(f);
  }
}

static void test_bodies_byte_for_byte(void **state) {
  struct lab *l = *state;
  struct fixture *f = session(l);
  assert_true(http__session_feed(&f->s, S("GET /utf16 HTTP/1.1\r\nHost: a\r\n\r\n")));
  const struct buf *o = &f->s.out;
  static const uint8_t utf16[] = {0xff, 0xfe, 0x3c, 0x00};
  assert_non_null(strstr(out(f), "Content-Length: 4\r\n"));
  assert_non_null(strstr(out(f), "Content-Type: text/xml\r\n"));
  assert_memory_equal(o->ptr + o->len - 4, utf16, 4);
  buf_reset(&f->s.out);
  assert_true(http__session_feed(&f->s, S("GET /b64 HTTP/1.1\r\nHost: a\r\n\r\n")));
  assert_non_null(strstr(out(f), "Content-Length: 3\r\n"));
  assert_memory_equal(o->ptr + o->len - 3, "\x80\x80\x80", 3); /* not UTF-8 at all */
  fixture_free(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_answers_by_count_and_address),
      cmocka_unit_test(test_without_counts_first_stays_ahead),
      cmocka_unit_test(test_route_auth_before_the_choice),
      cmocka_unit_test(test_paths_decoded),
      cmocka_unit_test(test_bodies_byte_for_byte),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
