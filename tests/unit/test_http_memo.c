/* tests/unit/test_http_memo.c: proxy/http/http_memo.c — a request seen before at the same route
 * and host gets the same fields and the same answer bytes as a fresh one; any other body, host
 * or route misses; routes whose answers are chosen per request, and error answers, are never
 * memoised; a full slot is taken over. */
#include "proxy/http/http.h"
#include "proxy/http/internal.h"
#include "tests/unit/testutil.h"

#include <stdlib.h>
#include <string.h>

#define REQ(email)                                                                                 \
  "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover xmlns=\"" HTTP_NS_REQUEST             \
  "\">\n<Request>\n<EMailAddress>" email                                                           \
  "</EMailAddress>\n<AcceptableResponseSchema>" HTTP_NS_RESPONSE_2006A                             \
  "</AcceptableResponseSchema>\n</Request>\n</Autodiscover>\n"

static struct scn_route settings_route(void) {
  return (struct scn_route){
      .path = "/autodiscover/autodiscover.xml",
      .kind = SCN_ROUTE_AUTODISCOVER,
      .ad = {.action = SCN_AD_SETTINGS, .ews_url = "https://mail.contoso.com/EWS/Exchange.asmx"}};
}

/* post answers `body` at `route` as the session does (memo first) into `out`; returns whether
 * the memo had it, and the e-mail address the request journals in `email` (1 KiB). */
static bool post(struct http_memo *m, const struct scn_route *route, const char *server_id,
                 const char *body, struct buf *out, char *email) {
  size_t hits = http__memo_hits(m);
  struct http_pox_request pox = {0};
  struct http_request_view req = {.method = slice_of_str("POST"), .body = slice_of_str(body)};
  req.memo = http__memo_find(m, route, server_id, req.body);
  if (req.memo != NULL) {
    http__memo_pox(req.memo, &pox);
    req.pox_status = HTTP_POX_OK;
  } else {
    char why[256];
    req.pox_status = http__pox_parse(&pox, req.body, why, sizeof why);
    if (req.pox_status == HTTP_POX_OK) {
      req.memo = http__memo_add(m, route, server_id, req.body, &pox);
    }
  }
  req.pox = &pox;
  req.email = pox.email;
  struct http_response resp;
  http__response_init(&resp, 200);
  http__route_answer(&resp, route, &req, server_id);
  assert_int_equal(resp.status, 200);
  buf_reset(out);
  assert_true(buf_append(out, buf_slice(&resp.body)));
  buf_fmt(email, 1024, "%s", pox.email != NULL ? pox.email : "(null)");
  http__response_cleanup(&resp);
  http__pox_request_cleanup(&pox);
  return http__memo_hits(m) > hits;
}

/* fresh answers `body` without a memo. */
static void fresh(const struct scn_route *route, const char *server_id, const char *body,
                  struct buf *out) {
  char email[1024];
  assert_false(post(NULL, route, server_id, body, out, email));
}

static void assert_same(const struct buf *a, const struct buf *b) {
  assert_int_equal(a->len, b->len);
  assert_memory_equal(a->ptr, b->ptr, a->len);
}

static void test_hit_gives_the_same_answer(void **state) {
  struct scn_route route = settings_route();
  struct http_memo *m = http__memo_new(64);
  struct buf got, want;
  buf_init(&got, 1u << 20);
  buf_init(&want, 1u << 20);
  char email[1024];
  fresh(&route, "exchange", REQ("alice@contoso.com"), &want);
  assert_false(post(m, &route, "exchange", REQ("alice@contoso.com"), &got, email));
  assert_same(&got, &want);
  assert_true(post(m, &route, "exchange", REQ("alice@contoso.com"), &got, email));
  assert_same(&got, &want);
  assert_string_equal(email, "alice@contoso.com"); /* http.request's email, as parsed */
  assert_non_null(strstr(buf_cstr(&got), "alice@contoso.com"));
  http__memo_free(m);
  buf_cleanup(&got);
  buf_cleanup(&want);
}

static void test_any_other_input_misses(void **state) {
  struct scn_route route = settings_route();
  struct scn_route other = settings_route();
  struct http_memo *m = http__memo_new(64);
  struct buf got, want;
  buf_init(&got, 1u << 20);
  buf_init(&want, 1u << 20);
  char email[1024];
  assert_false(post(m, &route, "exchange", REQ("alice@contoso.com"), &got, email));
  /* another address: its own answer, with its own AutoDiscoverSMTPAddress */
  assert_false(post(m, &route, "exchange", REQ("bob@contoso.com"), &got, email));
  fresh(&route, "exchange", REQ("bob@contoso.com"), &want);
  assert_same(&got, &want);
  assert_string_equal(email, "bob@contoso.com");
  /* another host answering (its DeploymentId), another route */
  assert_false(post(m, &route, "other-host", REQ("alice@contoso.com"), &got, email));
  fresh(&route, "other-host", REQ("alice@contoso.com"), &want);
  assert_same(&got, &want);
  assert_false(post(m, &other, "exchange", REQ("alice@contoso.com"), &got, email));
  /* one byte more in the body */
  assert_false(post(m, &route, "exchange", REQ("alice@contoso.com") " ", &got, email));
  /* and the first is still there */
  assert_true(post(m, &route, "exchange", REQ("alice@contoso.com"), &got, email));
  http__memo_free(m);
  buf_cleanup(&got);
  buf_cleanup(&want);
}

static void test_per_request_answers_are_not_memoised(void **state) {
  struct scn_route answers[2] = {settings_route(), settings_route()};
  answers[0].for_email = "alice@contoso.com";
  answers[1].first_n = 1;
  struct scn_route route = {.path = "/autodiscover/autodiscover.xml",
                            .kind = SCN_ROUTE_ANSWERS,
                            .answers = answers,
                            .n_answers = 2};
  assert_false(http__memo_applies(&route));
  struct http_memo *m = http__memo_new(64);
  struct http_pox_request pox = {.email = "alice@contoso.com"};
  assert_null(http__memo_add(m, &route, "exchange", slice_of_str(REQ("alice@contoso.com")), &pox));
  assert_null(http__memo_find(m, &route, "exchange", slice_of_str(REQ("alice@contoso.com"))));
  /* an error answer carries the time of day (§3.5): never kept */
  struct scn_route error = settings_route();
  error.ad.action = SCN_AD_ERROR;
  error.ad.error_code = 500;
  assert_false(http__memo_applies(&error));
  assert_null(http__memo_add(m, &error, "exchange", slice_of_str(REQ("alice@contoso.com")), &pox));
  assert_true(http__memo_applies(&answers[0])); /* a plain route of the same kind would be */
  http__memo_free(m);
}

static void test_full_slot_is_taken_over(void **state) {
  struct scn_route route = settings_route();
  struct http_memo *m = http__memo_new(1);
  struct buf got;
  buf_init(&got, 1u << 20);
  char email[1024];
  assert_false(post(m, &route, "exchange", REQ("alice@contoso.com"), &got, email));
  assert_true(post(m, &route, "exchange", REQ("alice@contoso.com"), &got, email));
  assert_false(post(m, &route, "exchange", REQ("bob@contoso.com"), &got, email));
  assert_false(post(m, &route, "exchange", REQ("alice@contoso.com"), &got, email));
  http__memo_free(m);
  buf_cleanup(&got);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hit_gives_the_same_answer),
      cmocka_unit_test(test_any_other_input_misses),
      cmocka_unit_test(test_per_request_answers_are_not_memoised),
      cmocka_unit_test(test_full_slot_is_taken_over),
  };
  return cmocka_run_group_tests_name("http_memo", tests, NULL, NULL);
}
