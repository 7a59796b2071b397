/* tests/unit/test_client_pox.c: the POX request the client models send and how they sort the
 * answers (client/sim_pox.c). */
#include "client/internal.h"
#include "tests/unit/testutil.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

static const char *SETTINGS =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<Autodiscover xmlns=\"" SIM_NS_RESPONSE "\">"
    "<Response xmlns=\"" SIM_NS_RESPONSE_A "\">"
    "<User><DisplayName>Alice</DisplayName>"
    "<AutoDiscoverSMTPAddress>alice@contoso.com</AutoDiscoverSMTPAddress></User>"
    "<Account><AccountType>email</AccountType><Action>settings</Action>"
    "<Protocol><Type>EXCH</Type><Server>exch.contoso.com</Server>"
    "<EwsUrl>https://internal.contoso.com/EWS/Exchange.asmx</EwsUrl></Protocol>"
    "<Protocol><Type>EXPR</Type><Server>mail.contoso.com</Server>"
    "<EwsUrl> https://mail.contoso.com/EWS/Exchange.asmx </EwsUrl>"
    "<AuthPackage>Ntlm</AuthPackage></Protocol>"
    "</Account></Response></Autodiscover>";

static struct slice S(const char *s) {
  return slice_of_str(s);
}

static void
test_request_body_parses_back(void **state) {
  char *body = sim__pox_body("alice@contoso.com");
  assert_non_null(body);
  assert_true(strncmp(body, "<?xml version=\"1.0\" encoding=\"utf-8\"?>", 38) == 0);
  xmlDocPtr doc = xmlReadMemory(body, (int) strlen(body), "req.xml", NULL, XML_PARSE_NONET);
  assert_non_null(doc);
  xmlNodePtr root = xmlDocGetRootElement(doc);
  assert_string_equal((const char *) root->name, "Autodiscover");
  assert_non_null(root->ns);
  assert_string_equal((const char *) root->ns->href, SIM_NS_REQUEST);
  xmlNodePtr req = xmlFirstElementChild(root);
  assert_string_equal((const char *) req->name, "Request");
  xmlNodePtr addr = xmlFirstElementChild(req);
  assert_string_equal((const char *) addr->name, "EMailAddress");
  assert_string_equal((const char *) addr->ns->href, SIM_NS_REQUEST);
  xmlChar *v = xmlNodeGetContent(addr);
  assert_string_equal((const char *) v, "alice@contoso.com");
  xmlFree(v);
  xmlNodePtr schema = xmlNextElementSibling(addr);
  assert_string_equal((const char *) schema->name, "AcceptableResponseSchema");
  v = xmlNodeGetContent(schema);
  assert_string_equal((const char *) v, SIM_NS_RESPONSE_A);
  xmlFree(v);
  xmlFreeDoc(doc);
  free(body);
}

static void test_request_body_escapes_the_address(void **state) {
  char *body = sim__pox_body("a<b>&c@contoso.com");
  assert_non_null(strstr(body, "a&lt;b&gt;&amp;c@contoso.com"));
  free(body);
}

/* policy_of returns a model's own policy (the user agent is borrowed from the model). */
static const struct sim_policy *policy_of(const struct sim_model *m) {
  static struct sim_policy p;
  sim__policy_of(&p, sim_model_defaults(m));
  return &p;
}

static void test_request_headers_as_outlook_sends_them(void **state) {
  const struct sim_model *m = sim_model_named("outlook-2016-msi");
  struct buf b;
  buf_init(&b, 1 << 16);
  assert_true(sim__request(&b, policy_of(m), SIM_REQ_POX, "contoso.com",
                           "/autodiscover/autodiscover.xml", "alice@contoso.com", NULL));
  const char *r = buf_cstr(&b);
  assert_true(
      strncmp(r, "POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: contoso.com\r\n", 65) == 0);
  assert_non_null(strstr(r, "\r\nContent-Type: text/xml\r\n"));
  assert_non_null(strstr(r, "\r\nUser-Agent: Microsoft Office/16.0 (Windows NT 10.0; Microsoft "
                            "Outlook 16.0.4266; Pro)\r\n"));
  assert_non_null(strstr(r, "\r\nX-MapiHttpCapability: 1\r\n"));
  assert_non_null(strstr(r, "\r\nX-AnchorMailbox: alice@contoso.com\r\n"));
  const char *body = strstr(r, "\r\n\r\n") + 4;
  char want[64];
  buf_fmt(want, sizeof want, "\r\nContent-Length: %zu\r\n", strlen(body));
  assert_non_null(strstr(r, want));
  assert_non_null(strstr(body, "<EMailAddress>alice@contoso.com</EMailAddress>"));
  buf_cleanup(&b);
}

static void test_get_request_has_no_body(void **state) {
  const struct sim_model *m = sim_model_named("mso-xdscli");
  struct buf b;
  buf_init(&b, 1 << 16);
  assert_true(sim__request(&b, policy_of(m), SIM_REQ_GET, "autodiscover.contoso.com",
                           "/autodiscover/autodiscover.xml", "alice@contoso.com", NULL));
  const char *r = buf_cstr(&b);
  assert_true(strncmp(r, "GET /autodiscover/autodiscover.xml HTTP/1.1\r\n", 45) == 0);
  assert_null(strstr(r, "Content-Length"));
  assert_null(strstr(r, "X-AnchorMailbox"));
  assert_true(strcmp(r + strlen(r) - 4, "\r\n\r\n") == 0);
  buf_cleanup(&b);
}

static void test_settings_prefers_expr(void **state) {
  struct sim_answer a;
  sim__classify(&a, 200, NULL, S(SETTINGS));
  assert_int_equal(a.kind, SIM_A_SETTINGS);
  assert_string_equal(a.ews_url, "https://mail.contoso.com/EWS/Exchange.asmx");
  assert_string_equal(a.server, "mail.contoso.com");
  assert_string_equal(a.smtp, "alice@contoso.com");
  assert_string_equal(a.auth_package, "Ntlm"); /* of the protocol the EwsUrl came from */
  sim__answer_cleanup(&a);
}

static void test_settings_falls_back_to_exch(void **state) {
  struct sim_answer a;
  sim__classify(&a, 200, NULL,
                S("<Autodiscover xmlns=\"" SIM_NS_RESPONSE "\"><Response xmlns=\"" SIM_NS_RESPONSE_A
                  "\"><Account><Action>settings</Action><Protocol><Type>EXCH</Type>"
                  "<Server>exch.contoso.com</Server><EwsUrl>https://e/EWS</EwsUrl></Protocol>"
                  "</Account></Response></Autodiscover>"));
  assert_int_equal(a.kind, SIM_A_SETTINGS);
  assert_string_equal(a.server, "exch.contoso.com");
  assert_string_equal(a.ews_url, "https://e/EWS");
  assert_null(a.smtp);
  assert_null(a.auth_package);
  sim__answer_cleanup(&a);
}

static void test_redirect_addr(void **state) {
  struct sim_answer a;
  sim__classify(&a, 200, NULL,
                S("<Autodiscover xmlns=\"" SIM_NS_RESPONSE "\"><Response xmlns=\"" SIM_NS_RESPONSE_A
                  "\"><Account><Action>redirectAddr</Action>"
                  "<RedirectAddr>alice@contoso.mail.onmicrosoft.com</RedirectAddr>"
                  "</Account></Response></Autodiscover>"));
  assert_int_equal(a.kind, SIM_A_REDIRECT_ADDR);
  assert_string_equal(a.redirect, "alice@contoso.mail.onmicrosoft.com");
  sim__answer_cleanup(&a);
  sim__classify(&a, 200, NULL,
                S("<Autodiscover xmlns=\"" SIM_NS_RESPONSE "\"><Response xmlns=\"" SIM_NS_RESPONSE_A
                  "\"><Account><Action>redirectAddr</Action><RedirectAddr>nobody</RedirectAddr>"
                  "</Account></Response></Autodiscover>"));
  assert_int_equal(a.kind, SIM_A_OTHER);
  sim__answer_cleanup(&a);
}

static void test_redirect_url(void **state) {
  struct sim_answer a;
  sim__classify(&a, 200, NULL,
                S("<Autodiscover xmlns=\"" SIM_NS_RESPONSE "\"><Response xmlns=\"" SIM_NS_RESPONSE_A
                  "\"><Account><Action>redirectUrl</Action>"
                  "<RedirectUrl>https://mail.hoster.net/autodiscover/autodiscover.xml</RedirectUrl>"
                  "</Account></Response></Autodiscover>"));
  assert_int_equal(a.kind, SIM_A_REDIRECT_URL);
  assert_string_equal(a.redirect, "https://mail.hoster.net/autodiscover/autodiscover.xml");
  sim__answer_cleanup(&a);
}

static void test_error_response(void **state) {
  struct sim_answer a;
  sim__classify(&a, 200, NULL,
                S("<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"" SIM_NS_RESPONSE
                  "\"><Response><Error Time=\"10:15:42.1234567\" Id=\"2477272013\">"
                  "<ErrorCode>600</ErrorCode><Message>Invalid Request</Message><DebugData />"
                  "</Error></Response></Autodiscover>"));
  assert_int_equal(a.kind, SIM_A_ERROR);
  assert_int_equal(a.error_code, 600);
  assert_string_equal(a.message, "Invalid Request");
  sim__answer_cleanup(&a);
}

static void test_not_autodiscover(void **state) {
  struct sim_answer a;
  sim__classify(&a, 200, NULL, S("<html><body><h1>Contoso</h1></body></html>"));
  assert_int_equal(a.kind, SIM_A_OTHER);
  assert_non_null(strstr(a.why, "not an Autodiscover response"));
  sim__answer_cleanup(&a);
  sim__classify(&a, 200, NULL, S("<!doctype html><h1>Contoso<p>unclosed"));
  assert_int_equal(a.kind, SIM_A_OTHER);
  sim__answer_cleanup(&a);
  /* the request namespace is not a response */
  sim__classify(&a, 200, NULL,
                S("<Autodiscover xmlns=\"" SIM_NS_REQUEST "\"><Response/></Autodiscover>"));
  assert_int_equal(a.kind, SIM_A_OTHER);
  sim__answer_cleanup(&a);
  /* no namespace at all */
  sim__classify(&a, 200, NULL, S("<Autodiscover><Response/></Autodiscover>"));
  assert_int_equal(a.kind, SIM_A_OTHER);
  sim__answer_cleanup(&a);
  /* truncated XML */
  size_t half = strlen(SETTINGS) / 2;
  sim__classify(&a, 200, NULL, (struct slice){(const uint8_t *) SETTINGS, half});
  assert_int_equal(a.kind, SIM_A_OTHER);
  assert_non_null(strstr(a.why, "not well-formed"));
  sim__answer_cleanup(&a);
  sim__classify(&a, 200, NULL, S(""));
  assert_int_equal(a.kind, SIM_A_OTHER);
  sim__answer_cleanup(&a);
  /* a settings body behind another status is still not an answer */
  sim__classify(&a, 500, NULL, S(SETTINGS));
  assert_int_equal(a.kind, SIM_A_OTHER);
  assert_non_null(strstr(a.why, "HTTP 500"));
  sim__answer_cleanup(&a);
  sim__classify(&a, 404, NULL, S("not found"));
  assert_int_equal(a.kind, SIM_A_OTHER);
  sim__answer_cleanup(&a);
}

static void test_entities_are_not_expanded(void **state) {
  struct sim_answer a;
  sim__classify(&a, 200, NULL,
                S("<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                  "<Autodiscover xmlns=\"" SIM_NS_RESPONSE "\"><Response xmlns=\"" SIM_NS_RESPONSE_A
                  "\"><Account><Action>settings</Action><Protocol><Type>EXPR</Type>"
                  "<EwsUrl>&x;</EwsUrl></Protocol></Account></Response></Autodiscover>"));
  assert_int_equal(a.kind, SIM_A_SETTINGS);
  assert_true(a.ews_url == NULL || strstr(a.ews_url, "root:") == NULL);
  sim__answer_cleanup(&a);
}

static void test_status_redirects_and_401(void **state) {
  struct sim_answer a;
  sim__classify(&a, 302, "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", S(""));
  assert_int_equal(a.kind, SIM_A_HTTP_REDIRECT);
  assert_string_equal(a.redirect, "https://autodiscover.contoso.com/autodiscover/autodiscover.xml");
  sim__answer_cleanup(&a);
  sim__classify(&a, 308, "/x", S(""));
  assert_int_equal(a.kind, SIM_A_HTTP_REDIRECT);
  sim__answer_cleanup(&a);
  sim__classify(&a, 302, NULL, S(""));
  assert_int_equal(a.kind, SIM_A_OTHER);
  sim__answer_cleanup(&a);
  sim__classify(&a, 303, "https://x/", S(""));
  assert_int_equal(a.kind, SIM_A_OTHER);
  sim__answer_cleanup(&a);
  sim__classify(&a, 401, NULL, S(""));
  assert_int_equal(a.kind, SIM_A_AUTH);
  assert_non_null(strstr(a.why, "401"));
  sim__answer_cleanup(&a);
}

static void test_url_parse(void **state) {
  struct sim_url u;
  assert_true(sim__url_parse(&u, "https://Mail.Hoster.NET/Autodiscover/Autodiscover.xml"));
  assert_true(u.https);
  assert_string_equal(u.host, "mail.hoster.net");
  assert_int_equal(u.port, 443);
  assert_false(u.explicit_port);
  assert_string_equal(u.target, "/Autodiscover/Autodiscover.xml");
  sim__url_cleanup(&u);
  assert_true(sim__url_parse(&u, "http://autodiscover.contoso.com:8080?q=1"));
  assert_false(u.https);
  assert_int_equal(u.port, 8080);
  assert_true(u.explicit_port);
  assert_string_equal(u.target, "/?q=1");
  sim__url_cleanup(&u);
  assert_false(sim__url_parse(&u, "ftp://contoso.com/"));
  assert_false(sim__url_parse(&u, "/relative/path"));
  assert_false(sim__url_parse(&u, "https://"));
  assert_false(sim__url_parse(&u, "https://user@contoso.com/"));
  assert_false(sim__url_parse(&u, NULL));
}

static void test_url_resolve(void **state) {
  char *r = sim__url_resolve("https://contoso.com/autodiscover/autodiscover.xml",
                             "/other/autodiscover.xml");
  assert_string_equal(r, "https://contoso.com/other/autodiscover.xml");
  free(r);
  r = sim__url_resolve("https://contoso.com/a", "https://mail.hoster.net/b");
  assert_string_equal(r, "https://mail.hoster.net/b");
  free(r);
  assert_null(sim__url_resolve("https://contoso.com/a", "mailto:x@y"));
}

static void test_autodv2_and_authorization_requests(void **state) {
  const struct sim_model *m = sim_model_named("outlook-2016-c2r");
  struct buf b;
  buf_init(&b, 1 << 16);
  assert_true(sim__request(&b, policy_of(m), SIM_REQ_AUTODV2, "outlook.office365.com",
                           "/autodiscover/autodiscover.json?Email=a@b.c&Protocol=AutodiscoverV1",
                           "a@b.c", "Negotiate xyz"));
  const char *r = buf_cstr(&b);
  assert_true(strncmp(r,
                      "GET /autodiscover/autodiscover.json?Email=a@b.c&Protocol=AutodiscoverV1 "
                      "HTTP/1.1\r\nHost: outlook.office365.com\r\n",
                      105) == 0);
  assert_non_null(strstr(r, "\r\nAccept: application/json\r\n"));
  assert_null(strstr(r, "Authorization")); /* AutoDV2 needs none */
  assert_null(strstr(r, "Content-Length"));
  buf_reset(&b);
  assert_true(sim__request(&b, policy_of(m), SIM_REQ_POX, "contoso.com",
                           "/autodiscover/autodiscover.xml", "a@b.c", "Basic YWJj"));
  assert_non_null(strstr(buf_cstr(&b), "\r\nAuthorization: Basic YWJj\r\n"));
  buf_cleanup(&b);
  char *url = sim__o365_url("al ice+x@contoso.com");
  assert_string_equal(url, "https://outlook.office365.com/autodiscover/autodiscover.json?"
                           "Email=al%20ice%2Bx@contoso.com&Protocol=AutodiscoverV1");
  free(url);
}

static bool json_url(const char *text, const char *want) {
  char *url = (char *) 1;
  bool ok = sim__json_url(slice_of_str(text), &url);
  if (!ok) {
    assert_null(url);
    return false;
  }
  assert_string_equal(url, want);
  free(url);
  return true;
}

static void test_json_url_good(void **state) {
  const char *u = "https://outlook.office365.com/autodiscover/autodiscover.xml";
  assert_true(json_url("{\"Protocol\":\"AutodiscoverV1\",\"Url\":\"https://outlook.office365.com/"
                       "autodiscover/autodiscover.xml\"}",
                       u));
  assert_true(json_url(" {\r\n \"Url\" : \"https:\\/\\/outlook.office365.com\\/autodiscover\\/"
                       "autodiscover.xml\" ,\n\"Protocol\":\"autodiscoverv1\"}\n",
                       u));
  assert_true(json_url("{\"Url\":\"https://x/\\\"q\\\\\"}", "https://x/\"q\\"));
  assert_true(json_url("{\"Extra\":\"ignored\",\"Url\":\"https://x/\"}", "https://x/"));
}

static void test_json_url_truncated(void **state) {
  const char *full = "{\"Protocol\":\"AutodiscoverV1\",\"Url\":\"https://x/a.xml\"}";
  char part[128];
  for (size_t n = 0; n < strlen(full); n++) { /* every strict prefix fails */
    memcpy(part, full, n);
    part[n] = '\0';
    assert_false(json_url(part, NULL));
  }
  assert_true(json_url(full, "https://x/a.xml"));
}

static void test_json_url_hostile(void **state) {
  assert_false(json_url("", NULL));
  assert_false(json_url("[]", NULL));
  assert_false(json_url("{}", NULL));
  assert_false(json_url("{\"Protocol\":\"EWS\",\"Url\":\"https://x/EWS/Exchange.asmx\"}", NULL));
  assert_false(json_url("{\"Url\":\"https://a/\",\"Url\":\"https://b/\"}", NULL)); /* twice */
  assert_false(json_url("{\"Url\":\"\"}", NULL));
  assert_false(json_url("{\"Url\":1}", NULL));
  assert_false(json_url("{\"Url\":null}", NULL));
  assert_false(json_url("{\"Url\":{\"a\":\"b\"}}", NULL));
  assert_false(json_url("{\"Url\":\"https://x/\"} trailing", NULL));
  assert_false(json_url("{\"Url\":\"https://x/\"}}", NULL));
  assert_false(json_url("{\"Url\":\"https://x/\",}", NULL));
  assert_false(json_url("{\"Url\":\"https://x/\\u0041\"}", NULL));
  assert_false(json_url("{\"Url\":\"https://x/\nnewline\"}", NULL));
  assert_false(json_url("{\"Url\":\"https://x/\\", NULL));
  assert_false(json_url("{'Url':'https://x/'}", NULL));
  assert_false(json_url("\xef\xbb\xbf{\"Url\":\"https://x/\"}", NULL)); /* BOM */
  /* a NUL byte inside the value */
  static const char nul[] = "{\"Url\":\"https://x/\0y\"}";
  char *url = NULL;
  assert_false(sim__json_url((struct slice){(const uint8_t *) nul, sizeof nul - 1}, &url));
  assert_null(url);
  /* too many members, too long */
  struct buf b;
  buf_init(&b, 1 << 20);
  buf_append_str(&b, "{");
  for (int i = 0; i < SIM_JSON_MAX_MEMBERS; i++) {
    buf_appendf(&b, "\"k%d\":\"v\",", i);
  }
  buf_append_str(&b, "\"Url\":\"https://x/\"}");
  assert_false(json_url(buf_cstr(&b), NULL));
  buf_reset(&b);
  buf_append_str(&b, "{\"Url\":\"https://x/");
  for (int i = 0; i < SIM_JSON_MAX; i++) {
    buf_append_str(&b, "a");
  }
  buf_append_str(&b, "\"}");
  assert_false(json_url(buf_cstr(&b), NULL));
  buf_cleanup(&b);
  assert_false(sim__json_url((struct slice){NULL, 0}, &url));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request_body_parses_back),
      cmocka_unit_test(test_request_body_escapes_the_address),
      cmocka_unit_test(test_request_headers_as_outlook_sends_them),
      cmocka_unit_test(test_get_request_has_no_body),
      cmocka_unit_test(test_settings_prefers_expr),
      cmocka_unit_test(test_settings_falls_back_to_exch),
      cmocka_unit_test(test_redirect_addr),
      cmocka_unit_test(test_redirect_url),
      cmocka_unit_test(test_error_response),
      cmocka_unit_test(test_not_autodiscover),
      cmocka_unit_test(test_entities_are_not_expanded),
      cmocka_unit_test(test_status_redirects_and_401),
      cmocka_unit_test(test_url_parse),
      cmocka_unit_test(test_url_resolve),
      cmocka_unit_test(test_autodv2_and_authorization_requests),
      cmocka_unit_test(test_json_url_good),
      cmocka_unit_test(test_json_url_truncated),
      cmocka_unit_test(test_json_url_hostile),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
