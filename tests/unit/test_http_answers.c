/* tests/unit/test_http_answers.c: the answers of proxy/http's scenario v2 routes, through the
 * socket-free session — route headers, raw bodies, 401 challenges, AutoDV2 JSON, SOAP
 * Autodiscover (MS-OXWSADISC) and explicit POX Protocol blocks. */
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

/* What exchangelib 4.x sends (services/get_user_settings.py), namespaces and all. */
#define SOAP_USER_BODY                                                                             \
  "<?xml version='1.0' encoding='utf-8'?>\n"                                                       \
  "<s:Envelope xmlns:a=\"" HTTP_NS_ADISC "\" xmlns:s=\"" HTTP_NS_SOAP                              \
  "\" xmlns:wsa=\"" HTTP_NS_WSA                                                                    \
  "\"><s:Header><a:RequestedServerVersion>Exchange2013</a:RequestedServerVersion>"                 \
  "<wsa:Action>http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/"              \
  "GetUserSettings</wsa:Action><wsa:To>https://autodiscover.contoso.com/autodiscover/"             \
  "autodiscover.svc</wsa:To></s:Header><s:Body><a:GetUserSettingsRequestMessage><a:Request>"       \
  "<a:Users><a:User><a:Mailbox>alice@contoso.com</a:Mailbox></a:User></a:Users>"                   \
  "<a:RequestedSettings><a:Setting>UserDisplayName</a:Setting><a:Setting>ExternalEwsUrl"           \
  "</a:Setting><a:Setting>EwsSupportedSchemas</a:Setting><a:Setting>NoSuchSetting</a:Setting>"     \
  "</a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage></s:Body></s:Envelope>"

#define SOAP_DOMAIN_BODY                                                                           \
  "<s:Envelope xmlns:s=\"" HTTP_NS_SOAP                                                            \
  "\"><s:Body><GetDomainSettingsRequestMessage xmlns=\"" HTTP_NS_ADISC                             \
  "\"><Request><Domains><Domain>contoso.com</Domain></Domains><RequestedSettings>"                 \
  "<Setting>ExternalEwsUrl</Setting><Setting>ExternalEwsVersion</Setting></RequestedSettings>"     \
  "</Request></GetDomainSettingsRequestMessage></s:Body></s:Envelope>"

#define EWS "https://mail.contoso.com/EWS/Exchange.asmx"

static char bom_body[] = "\xef\xbb\xbf<?xml version=\"1.0\"?><Broken\x00tail";
static struct scn_header extra[] = {{.name = "X-Lab", .value = "one"},
                                    {.name = "Content-Type", .value = "text/x-mine"},
                                    {.name = "Content-Length", .value = "999"},
                                    {.name = "Bad Name", .value = "x"}};
static char *challenges[] = {"Basic realm=\"contoso\"", "NTLM", "Negotiate"};
static char *ad2_protocols[] = {"AutodiscoverV1", "EWS"};
static char *ad2_urls[] = {"https://autodiscover-s.outlook.com/autodiscover/autodiscover.xml", EWS};
static struct scn_ad_protocol blocks[] = {
    {.type = "EXPR",
     .server = "mail.contoso.com",
     .ews_url = EWS,
     .as_url = "https://as/x",
     .oab_url = "https://mail.contoso.com/OAB/",
     .auth_package = "Ntlm",
     .ssl = true},
    {.type = "WEB", .owa_url = "https://mail.contoso.com/owa/"},
};

static struct scn_route routes[] = {
    {.path = "/headers",
     .kind = SCN_ROUTE_STATUS,
     .status = 200,
     .body = "hi",
     .headers = extra,
     .n_headers = 4},
    {.path = "/raw",
     .kind = SCN_ROUTE_STATUS,
     .status = 200,
     .body = bom_body,
     .body_len = sizeof bom_body - 1},
    {.path = "/autodiscover/autodiscover.xml",
     .kind = SCN_ROUTE_AUTODISCOVER,
     .ad = {.action = SCN_AD_SETTINGS, .ews_url = EWS},
     .auth =
         {.present = true, .challenges = challenges, .n_challenges = 3, .accept_credentials = true},
     .headers = extra,
     .n_headers = 1},
    {.path = "/locked",
     .kind = SCN_ROUTE_STATUS,
     .status = 200,
     .body = "never",
     .auth = {.present = true, .challenges = challenges + 2, .n_challenges = 1}},
    {.path = "/autodiscover/autodiscover.json",
     .kind = SCN_ROUTE_AUTODISCOVER_V2,
     .ad2 = {.protocols = ad2_protocols, .urls = ad2_urls, .n_protocols = 2}},
    {.path = "/autodiscover/autodiscover.svc",
     .kind = SCN_ROUTE_SOAP,
     .ad = {.action = SCN_AD_SETTINGS, .ews_url = EWS, .display_name = "Alice Lab"}},
    {.path = "/pox-blocks",
     .kind = SCN_ROUTE_AUTODISCOVER,
     .ad = {.action = SCN_AD_SETTINGS, .ews_url = EWS, .protocols = blocks, .n_protocols = 2}},
    {.path = "/soap-redirect",
     .kind = SCN_ROUTE_SOAP,
     .ad = {.action = SCN_AD_REDIRECT_ADDR, .redirect_addr = "alice@contoso.onmicrosoft.com"}},
    {.path = "/json404",
     .kind = SCN_ROUTE_AUTODISCOVER_V2,
     .ad2 =
         {.protocols = ad2_protocols, .urls = ad2_urls, .n_protocols = 1, .not_found_status = 404}},
};
static struct scn_listener listener = {
    .present = true, .routes = routes, .n_routes = sizeof routes / sizeof routes[0]};
static struct scn_host host = {.id = "exchange"};

static int setup(void **state) {
  *state = fixture_new(&host, &listener);
  return 0;
}

static int teardown(void **state) {
  fixture_free(*state);
  return 0;
}

/* ask feeds one request (body may be NULL) and returns the answer text. */
static const char *ask(struct fixture *f, const char *method, const char *target,
                       const char *headers, const char *body) {
  char req[8192];
  buf_reset(&f->s.out);
  assert_true(buf_fmt(req, sizeof req,
                      "%s %s HTTP/1.1\r\nHost: autodiscover.contoso.com\r\n%sContent-Length: "
                      "%zu\r\n\r\n%s",
                      method, target, headers, body == NULL ? 0 : strlen(body),
                      body == NULL ? "" : body));
  assert_true(http__session_feed(&f->s, S(req)));
  return out(f);
}

/* body_of returns the body of the answer in s->out. */
static const char *body_of(struct fixture *f) {
  const char *end = strstr(out(f), "\r\n\r\n");
  assert_non_null(end);
  return end + 4;
}

static void test_route_headers_replace_ours_but_not_framing(void **state) {
  struct fixture *f = *state;
  const char *a = ask(f, "GET", "/headers", "", NULL);
  assert_non_null(strstr(a, "HTTP/1.1 200 OK\r\n"));
  assert_non_null(strstr(a, "\r\nX-Lab: one\r\n"));
  assert_non_null(strstr(a, "\r\nContent-Type: text/x-mine\r\n"));
  assert_null(strstr(a, "text/plain"));          /* ours was replaced */
  assert_null(strstr(a, "Content-Length: 999")); /* framing stays ours */
  assert_non_null(strstr(a, "\r\nContent-Length: 2\r\n"));
  assert_null(strstr(a, "Bad Name")); /* not a token: left out */
}

static void test_raw_body_is_sent_byte_for_byte(void **state) {
  struct fixture *f = *state;
  ask(f, "GET", "/raw", "", NULL);
  const char *end = strstr(out(f), "\r\n\r\n");
  assert_non_null(end);
  size_t head = (size_t) (end + 4 - out(f));
  assert_int_equal(f->s.out.len - head, sizeof bom_body - 1);
  assert_memory_equal(f->s.out.ptr + head, bom_body, sizeof bom_body - 1); /* BOM, NUL, tail */
  char cl[40];
  buf_fmt(cl, sizeof cl, "Content-Length: %zu\r\n", sizeof bom_body - 1);
  assert_non_null(strstr(out(f), cl));
  assert_non_null(strstr(out(f), "Content-Type: text/html; charset=utf-8\r\n")); /* after BOM */
}

static void test_auth_challenges_then_answers(void **state) {
  struct fixture *f = *state;
  const char *a =
      ask(f, "POST", "/autodiscover/autodiscover.xml", "Content-Type: text/xml\r\n", POX_BODY);
  assert_non_null(strstr(a, "HTTP/1.1 401 Unauthorized\r\n"));
  assert_non_null(strstr(a, "\r\nWWW-Authenticate: Basic realm=\"contoso\"\r\n"));
  assert_non_null(strstr(a, "\r\nWWW-Authenticate: NTLM\r\n"));
  assert_non_null(strstr(a, "\r\nWWW-Authenticate: Negotiate\r\n"));
  assert_non_null(strstr(a, "\r\nX-Lab: one\r\n")); /* route headers on the 401 too */
  assert_non_null(strstr(a, "401 - Unauthorized"));
  assert_null(strstr(a, "<Action>"));
  assert_non_null(
      strstr(journal(f), "\"status\":401,\"route\":\"/autodiscover/autodiscover.xml\""));
  assert_non_null(strstr(journal(f), "\"challenged\":true"));

  a = ask(f, "POST", "/autodiscover/autodiscover.xml",
          "Content-Type: text/xml\r\nAuthorization: Basic YWxpY2U6cHc=\r\n", POX_BODY);
  assert_non_null(strstr(a, "HTTP/1.1 200 OK\r\n"));
  assert_null(strstr(a, "WWW-Authenticate"));
  assert_non_null(strstr(a, "<Action>settings</Action>"));
  assert_null(strstr(journal(f), "YWxpY2U6cHc=")); /* jnl_secret: never the value */
}

static void test_auth_refusing_credentials_challenges_again(void **state) {
  struct fixture *f = *state;
  const char *a = ask(f, "GET", "/locked", "Authorization: Negotiate abc\r\n", NULL);
  assert_non_null(strstr(a, "HTTP/1.1 401 Unauthorized\r\n"));
  assert_non_null(strstr(a, "WWW-Authenticate: Negotiate\r\n"));
  assert_null(strstr(a, "never"));
}

static void test_ad2_query_form(void **state) {
  struct fixture *f = *state;
  ask(f, "GET", "/autodiscover/autodiscover.json?Email=alice%40contoso.com&Protocol=autodiscoverv1",
      "", NULL);
  assert_non_null(strstr(out(f), "HTTP/1.1 200 OK\r\n"));
  assert_non_null(strstr(out(f), "Content-Type: application/json; charset=utf-8\r\n"));
  assert_string_equal(body_of(f), "{\"Protocol\":\"AutodiscoverV1\",\"Url\":\"https://"
                                  "autodiscover-s.outlook.com/autodiscover/autodiscover.xml\"}");
  assert_non_null(strstr(journal(f), "\"email\":\"alice@contoso.com\"")); /* decoded %40 */
  ask(f, "GET", "/Autodiscover/Autodiscover.json?protocol=EWS&RedirectCount=1&email=a@b.c", "",
      NULL);
  assert_string_equal(body_of(f), "{\"Protocol\":\"EWS\",\"Url\":\"" EWS "\"}");
}

static void test_ad2_path_form(void **state) {
  struct fixture *f = *state;
  ask(f, "GET", "/autodiscover/autodiscover.json/v1.0/alice@contoso.com?Protocol=EWS", "", NULL);
  assert_non_null(strstr(out(f), "HTTP/1.1 200 OK\r\n"));
  assert_string_equal(body_of(f), "{\"Protocol\":\"EWS\",\"Url\":\"" EWS "\"}");
  assert_non_null(strstr(journal(f), "\"route\":\"/autodiscover/autodiscover.json\""));
  assert_non_null(strstr(journal(f), "\"email\":\"alice@contoso.com\""));
  ask(f, "GET", "/autodiscover/autodiscover.json/v1.0/?Protocol=EWS", "", NULL);
  assert_non_null(strstr(out(f), "HTTP/1.1 400 Bad Request\r\n"));
  assert_non_null(strstr(body_of(f), "'Email'"));
}

static void test_ad2_unknown_protocol_and_missing_parameters(void **state) {
  struct fixture *f = *state;
  ask(f, "GET", "/autodiscover/autodiscover.json?Email=a@contoso.com&Protocol=Rest'x", "", NULL);
  assert_non_null(strstr(out(f), "HTTP/1.1 400 Bad Request\r\n"));
  assert_string_equal(body_of(f),
                      "{\"ErrorCode\":\"InvalidProtocol\",\"ErrorMessage\":\"The given protocol "
                      "value 'Rest'x' is invalid. Supported values are 'AutodiscoverV1, EWS'\"}");
  ask(f, "GET", "/json404?Email=a@contoso.com&Protocol=EWS", "", NULL);
  assert_non_null(strstr(out(f), "HTTP/1.1 404 Not Found\r\n")); /* not_found_status */
  assert_non_null(strstr(body_of(f), "Supported values are 'AutodiscoverV1'"));
  ask(f, "GET", "/autodiscover/autodiscover.json?Protocol=EWS", "", NULL);
  assert_non_null(strstr(out(f), "HTTP/1.1 400 Bad Request\r\n"));
  assert_non_null(strstr(body_of(f), "\"ErrorCode\":\"MandatoryParameterMissing\""));
  ask(f, "GET", "/autodiscover/autodiscover.json?Email=a%40contoso.com", "", NULL);
  assert_non_null(strstr(body_of(f), "'Protocol'"));
  ask(f, "POST", "/autodiscover/autodiscover.json?Email=a@b&Protocol=EWS", "", "x");
  assert_non_null(strstr(out(f), "HTTP/1.1 405 Method Not Allowed\r\n"));
  assert_non_null(strstr(out(f), "Allow: GET\r\n"));
}

static void test_soap_user_settings(void **state) {
  struct fixture *f = *state;
  ask(f, "POST", "/autodiscover/autodiscover.svc",
      "Content-Type: text/xml; charset=utf-8\r\nSOAPAction: \"http://schemas.microsoft.com/"
      "exchange/2010/Autodiscover/Autodiscover/GetUserSettings\"\r\n",
      SOAP_USER_BODY);
  const char *a = out(f);
  assert_non_null(strstr(a, "HTTP/1.1 200 OK\r\n"));
  assert_non_null(strstr(a, "Content-Type: text/xml; charset=utf-8\r\n"));
  assert_non_null(strstr(a, "<a:Action s:mustUnderstand=\"1\">http://schemas.microsoft.com/"
                            "exchange/2010/Autodiscover/Autodiscover/GetUserSettingsResponse"));
  assert_non_null(strstr(a, "<h:Version>Exchange2015</h:Version>"));
  assert_non_null(strstr(a, "<GetUserSettingsResponseMessage xmlns=\"" HTTP_NS_ADISC "\">"));
  assert_non_null(strstr(a, "<ErrorCode>NoError</ErrorCode>"));
  assert_non_null(strstr(a, "<RedirectTarget i:nil=\"true\"/>"));
  assert_non_null(strstr(a, "<UserSetting i:type=\"StringSetting\">"));
  assert_non_null(strstr(a, "<Name>UserDisplayName</Name>"));
  assert_non_null(strstr(a, "<Value>Alice Lab</Value>"));
  assert_non_null(strstr(a, "<Value>" EWS "</Value>"));
  assert_non_null(strstr(a, "Exchange2013_SP1, Exchange2015, Exchange2016</Value>"));
  assert_non_null(strstr(a, "<ErrorCode>InvalidSetting</ErrorCode>"));
  assert_non_null(strstr(a, "<SettingName>NoSuchSetting</SettingName>"));
  const char *j = journal(f);
  assert_non_null(strstr(j, "\"email\":\"alice@contoso.com\",\"soap\":\"GetUserSettings\""));
}

static void test_soap_domain_settings(void **state) {
  struct fixture *f = *state;
  ask(f, "POST", "/autodiscover/autodiscover.svc", "Content-Type: text/xml\r\n", SOAP_DOMAIN_BODY);
  const char *a = out(f);
  assert_non_null(strstr(a, "HTTP/1.1 200 OK\r\n"));
  assert_non_null(strstr(a, "GetDomainSettingsResponse</a:Action>"));
  assert_non_null(strstr(a, "<DomainResponses>"));
  assert_non_null(strstr(a, "<DomainSetting i:type=\"DomainStringSetting\">"));
  assert_non_null(strstr(a, "<Name>ExternalEwsVersion</Name>"));
  assert_non_null(strstr(a, "<Value>" EWS "</Value>"));
  assert_null(strstr(a, "DomainSettingError>"));
}

static void test_soap_redirect_address(void **state) {
  struct fixture *f = *state;
  ask(f, "POST", "/soap-redirect", "Content-Type: text/xml\r\n", SOAP_USER_BODY);
  const char *a = out(f);
  assert_non_null(strstr(a, "<ErrorCode>RedirectAddress</ErrorCode>"));
  assert_non_null(strstr(a, "<RedirectTarget>alice@contoso.onmicrosoft.com</RedirectTarget>"));
  assert_null(strstr(a, "<UserSetting "));
}

static void test_soap_malformed_gets_fault_500(void **state) {
  struct fixture *f = *state;
  const char *bad[] = {
      "<s:Envelope xmlns:s=\"" HTTP_NS_SOAP "\"><s:Body><Nope/></s:Body></s:Envelope>",
      "<Envelope/>",
      "<s:Envelope xmlns:s=\"" HTTP_NS_SOAP "\"><s:Body><unclosed></s:Body>",
      "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *a = ask(f, "POST", "/autodiscover/autodiscover.svc", "", bad[i]);
    assert_non_null(strstr(a, "HTTP/1.1 500 Internal Server Error\r\n"));
    assert_non_null(strstr(a, "<s:Fault>"));
    assert_non_null(strstr(a, "<faultcode>s:Client</faultcode>"));
    assert_null(strstr(a, "root:"));
  }
  assert_non_null(strstr(journal(f), "\"soap_error\":\"a DOCTYPE is not accepted\""));
  const char *a = ask(f, "GET", "/autodiscover/autodiscover.svc", "", NULL);
  assert_non_null(strstr(a, "HTTP/1.1 405 "));
  assert_non_null(strstr(a, "Allow: POST\r\n"));
}

static void test_soap_parse_limits(void **state) {
  (void) state;
  struct http_soap_request r;
  char why[200];
  struct buf big;
  buf_init(&big, 1u << 20);
  buf_append_str(&big, "<s:Envelope xmlns:s=\"" HTTP_NS_SOAP "\"><s:Body>"
                       "<GetUserSettingsRequestMessage xmlns=\"" HTTP_NS_ADISC "\"><Request>"
                       "<Users>");
  for (int i = 0; i < 101; i++) {
    buf_appendf(&big, "<User><Mailbox>u%d@c.com</Mailbox></User>", i);
  }
  buf_append_str(&big, "</Users></Request></GetUserSettingsRequestMessage></s:Body></s:Envelope>");
  assert_false(http__soap_parse(&r, buf_slice(&big), why, sizeof why));
  assert_non_null(strstr(why, "more than 100"));
  http__soap_request_cleanup(&r);
  buf_cleanup(&big);
  assert_true(http__soap_parse(&r, S(SOAP_USER_BODY), why, sizeof why));
  assert_int_equal(r.op, HTTP_SOAP_USER_SETTINGS);
  assert_int_equal(r.n_subjects, 1);
  assert_string_equal(r.subjects[0], "alice@contoso.com");
  assert_int_equal(r.n_settings, 4);
  assert_string_equal(r.settings[3], "NoSuchSetting");
  http__soap_request_cleanup(&r);
}

static void test_pox_explicit_protocol_blocks(void **state) {
  struct fixture *f = *state;
  const char *a = ask(f, "POST", "/pox-blocks", "Content-Type: text/xml\r\n", POX_BODY);
  assert_non_null(strstr(a, "HTTP/1.1 200 OK\r\n"));
  assert_non_null(strstr(a, "<Type>EXPR</Type>\n        <Server>mail.contoso.com</Server>\n"
                            "        <SSL>On</SSL>\n        <AuthPackage>Ntlm</AuthPackage>\n"
                            "        <ASUrl>https://as/x</ASUrl>"));
  assert_non_null(strstr(a, "<OABUrl>https://mail.contoso.com/OAB/</OABUrl>"));
  assert_non_null(strstr(a, "<Type>WEB</Type>"));
  assert_non_null(strstr(a, "<Internal>\n          <OWAUrl AuthenticationMethod=\"Fba\">"
                            "https://mail.contoso.com/owa/</OWAUrl>"));
  assert_non_null(strstr(a, "<External>"));
  assert_null(strstr(a, "<Type>EXCH</Type>")); /* explicit blocks replace the defaults */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_route_headers_replace_ours_but_not_framing, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_raw_body_is_sent_byte_for_byte, setup, teardown),
      cmocka_unit_test_setup_teardown(test_auth_challenges_then_answers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_auth_refusing_credentials_challenges_again, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_ad2_query_form, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ad2_path_form, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ad2_unknown_protocol_and_missing_parameters, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_soap_user_settings, setup, teardown),
      cmocka_unit_test_setup_teardown(test_soap_domain_settings, setup, teardown),
      cmocka_unit_test_setup_teardown(test_soap_redirect_address, setup, teardown),
      cmocka_unit_test_setup_teardown(test_soap_malformed_gets_fault_500, setup, teardown),
      cmocka_unit_test(test_soap_parse_limits),
      cmocka_unit_test_setup_teardown(test_pox_explicit_protocol_blocks, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
