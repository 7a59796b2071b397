/* tests/unit/test_http_record.c: what proxy/http records besides the answers — credentials
 * redacted (or in clear when asked), credential-leak findings, and HAR entries. */
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

#define BASIC "Basic YWxpY2U6U2VjcjN0IQ==" /* alice:Secr3t! */

static struct scn_route routes[] = {
    {.path = "/autodiscover/autodiscover.xml",
     .kind = SCN_ROUTE_AUTODISCOVER,
     .ad = {.action = SCN_AD_SETTINGS, .ews_url = "https://mail.contoso.com/EWS/Exchange.asmx"}},
    {.path = "/autodiscover/autodiscover.svc", .kind = SCN_ROUTE_SOAP},
    {.path = "/autodiscover/autodiscover.json", .kind = SCN_ROUTE_AUTODISCOVER_V2},
    {.path = "/old", .kind = SCN_ROUTE_REDIRECT, .status = 302, .location = "https://x/new"},
    {.path = "/bin",
     .kind = SCN_ROUTE_STATUS,
     .status = 200,
     .body = "\xff\xfe\x00",
     .body_len = 3},
    {.path = "/", .kind = SCN_ROUTE_STATUS, .status = 200, .body = "<html>site</html>"},
};
static struct scn_listener listener = {.present = true, .routes = routes, .n_routes = 6};
static struct scn_host host = {.id = "web"};

struct rec_fixture {
  struct fixture *f;
  struct http_record rec;
};

static int setup(void **state) {
  struct rec_fixture *r = calloc(1, sizeof *r);
  r->f = fixture_new(&host, &listener);
  r->rec.har = jnl_har_new(1u << 20);
  r->f->s.rec = &r->rec;
  r->f->s.local = "127.77.0.1:443";
  r->f->s.peer = "127.0.0.1:40000";
  r->f->s.tls = true;
  *state = r;
  return 0;
}

static int teardown(void **state) {
  struct rec_fixture *r = *state;
  fixture_free(r->f);
  jnl_har_free(r->rec.har);
  free(r);
  return 0;
}

static void ask(struct fixture *f, const char *method, const char *target, const char *headers,
                const char *body) {
  char req[4096];
  assert_true(buf_fmt(req, sizeof req,
                      "%s %s HTTP/1.1\r\nHost: autodiscover.contoso.com\r\n%sContent-Length: "
                      "%zu\r\n\r\n%s",
                      method, target, headers, body != NULL ? strlen(body) : 0,
                      body != NULL ? body : ""));
  buf_reset(&f->s.out);
  assert_true(http__session_feed(&f->s, S(req)));
}

/* har_text writes the archive to a file and reads it back. */
static char *har_text(struct rec_fixture *r) {
  char *dir = test_tmpdir("har");
  char path[512];
  buf_fmt(path, sizeof path, "%s/x.har", dir);
  assert_true(jnl_har_write(r->rec.har, path, "test"));
  FILE *fp = fopen(path, "r");
  char *text = calloc(1, 1u << 20);
  size_t n = fread(text, 1, (1u << 20) - 1, fp);
  text[n] = 0;
  fclose(fp);
  test_rmtree(dir);
  free(dir);
  return text;
}

static void test_basic_at_the_autodiscover_route_over_tls_is_no_finding(void **state) {
  struct rec_fixture *r = *state;
  ask(r->f, "POST", "/autodiscover/autodiscover.xml", "Authorization: " BASIC "\r\n", POX_BODY);
  ask(r->f, "GET", "/autodiscover/autodiscover.json/v1.0/alice@contoso.com?Protocol=EWS",
      "Authorization: " BASIC "\r\n", NULL);
  const char *t = journal(r->f);
  assert_non_null(strstr(t, "\"authorization\":{\"scheme\":\"Basic\",\"sha256\":\""));
  assert_null(strstr(t, "\"ev\":\"finding\""));
  assert_null(strstr(t, "YWxpY2U6U2VjcjN0IQ=="));
  assert_null(strstr(t, "Secr3t!"));
}

static void test_basic_elsewhere_is_a_leak(void **state) {
  struct rec_fixture *r = *state;
  ask(r->f, "GET", "/old", "Authorization: " BASIC "\r\n", NULL); /* a redirector */
  const char *t = journal(r->f);
  assert_non_null(strstr(t, "\"ev\":\"finding\",\"kind\":\"credential-leak\",\"scheme\":\"Basic\","
                            "\"why\":\"Basic at a host with no Autodiscover route for this path\","
                            "\"host\":\"autodiscover.contoso.com\",\"host_id\":\"web\","
                            "\"path\":\"/old\",\"route\":\"/old\",\"authorization\":{"));
  /* plain HTTP: even the Autodiscover route itself */
  r->f->s.tls = false;
  ask(r->f, "POST", "/autodiscover/autodiscover.xml", "Authorization: " BASIC "\r\n", POX_BODY);
  t = journal(r->f);
  assert_non_null(strstr(t, "\"why\":\"Basic over plain HTTP\""));
  assert_non_null(strstr(t, "\"path\":\"/autodiscover/autodiscover.xml\",\"route\":"
                            "\"/autodiscover/autodiscover.xml\""));
  assert_null(strstr(t, "YWxpY2U6U2VjcjN0IQ=="));
  /* other schemes are redacted, and are no Basic leak */
  ask(r->f, "GET", "/x", "Authorization: NTLM TlRMTVNTUAABAAAAB4IIog==\r\n", NULL);
  ask(r->f, "GET", "/x", "Authorization: Negotiate YIIGhgYGKwYBBQUCoIIGejCC\r\n", NULL);
  ask(r->f, "GET", "/x", "Authorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi\r\n", NULL);
  t = journal(r->f);
  assert_null(strstr(t, "TlRMTVNTUAABAAAAB4IIog=="));
  assert_null(strstr(t, "YIIGhgYGKwYBBQUCoIIGejCC"));
  assert_null(strstr(t, "eyJ0eXAiOiJKV1QiLCJhbGciOi"));
  assert_non_null(strstr(t, "\"scheme\":\"NTLM\""));
  assert_non_null(strstr(t, "\"scheme\":\"Negotiate\""));
  assert_non_null(strstr(t, "\"scheme\":\"Bearer\""));
  const char *last = strstr(t, "\"path\":\"/x\"");
  assert_non_null(last);
  assert_null(strstr(last, "\"ev\":\"finding\""));
  char *har = har_text(r);
  assert_null(strstr(har, "YWxpY2U6U2VjcjN0IQ=="));
  assert_null(strstr(har, "TlRMTVNTUAABAAAAB4IIog=="));
  assert_null(strstr(har, "YIIGhgYGKwYBBQUCoIIGejCC"));
  assert_null(strstr(har, "eyJ0eXAiOiJKV1QiLCJhbGciOi"));
  assert_non_null(strstr(har, "{\"name\":\"Authorization\",\"value\":\"NTLM [redacted sha256:"));
  free(har);
}

/* An NTLM AUTHENTICATE message (NTLMSSP type 3), bare and inside a SPNEGO token. */
#define NTLM_RESPONSE                                                                              \
  "TlRMTVNTUAADAAAAAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMw=="
#define SPNEGO_NTLM_RESPONSE                                                                       \
  "oYFIMIFFooFCBIFATlRMTVNTUAADAAAAAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKiss"   \
  "LS4vMDEyMw=="

static void test_an_ntlm_response_is_a_leak_where_basic_is(void **state) {
  struct rec_fixture *r = *state;
  /* over TLS at the Autodiscover route: what integrated authentication is for */
  ask(r->f, "POST", "/autodiscover/autodiscover.xml", "Authorization: NTLM " NTLM_RESPONSE "\r\n",
      POX_BODY);
  assert_null(strstr(journal(r->f), "\"ev\":\"finding\""));
  /* over TLS at a redirector: the host collects a response it can attack offline */
  ask(r->f, "GET", "/old", "Authorization: NTLM " NTLM_RESPONSE "\r\n", NULL);
  const char *t = journal(r->f);
  assert_non_null(strstr(t, "\"kind\":\"credential-leak\",\"scheme\":\"NTLM\",\"why\":\"an NTLM "
                            "response at a host with no Autodiscover route for this path\""));
  /* over plain HTTP, inside Negotiate (SPNEGO) too */
  r->f->s.tls = false;
  ask(r->f, "POST", "/autodiscover/autodiscover.xml",
      "Authorization: Negotiate " SPNEGO_NTLM_RESPONSE "\r\n", POX_BODY);
  t = journal(r->f);
  assert_non_null(
      strstr(t, "\"scheme\":\"Negotiate\",\"why\":\"an NTLM response over plain HTTP\""));
  assert_null(strstr(t, NTLM_RESPONSE));
  assert_null(strstr(t, "TlRMTVNTUAADAAAA"));
  /* a token that is not base64, or an NTLM negotiate message: no finding */
  const char *before = strstr(t, "over plain HTTP");
  ask(r->f, "GET", "/y", "Authorization: NTLM !!not base64!!\r\n", NULL);
  ask(r->f, "GET", "/y", "Authorization: NTLM TlRMTVNTUAABAAAAB4IIog==\r\n", NULL);
  t = journal(r->f);
  const char *last = strstr(t, "\"path\":\"/y\"");
  assert_non_null(last);
  assert_null(strstr(last, "\"ev\":\"finding\""));
  assert_non_null(before);
}

static void test_credentials_in_clear_when_asked(void **state) {
  struct rec_fixture *r = *state;
  r->rec.clear_credentials = true;
  ask(r->f, "GET", "/old", "Authorization: " BASIC "\r\n", NULL);
  const char *t = journal(r->f);
  assert_non_null(strstr(t, "\"value\":\"" BASIC "\""));
  char *har = har_text(r);
  assert_non_null(strstr(har, "{\"name\":\"Authorization\",\"value\":\"" BASIC "\"}"));
  free(har);
}

static void test_har_entry(void **state) {
  struct rec_fixture *r = *state;
  ask(r->f, "POST", "/autodiscover/autodiscover.xml?a=1&b", "Content-Type: text/xml\r\n", POX_BODY);
  ask(r->f, "GET", "/bin", "", NULL);
  buf_reset(&r->f->s.out);
  assert_true(http__session_feed(&r->f->s, S("HEAD /old HTTP/1.1\r\nHost: h\r\n\r\n")));
  assert_int_equal(jnl_har_n_entries(r->rec.har), 3);
  char *har = har_text(r);
  assert_non_null(strstr(har, "\"request\":{\"method\":\"POST\",\"url\":\"https://"
                              "autodiscover.contoso.com/autodiscover/autodiscover.xml?a=1&b\","
                              "\"httpVersion\":\"HTTP/1.1\",\"cookies\":[],\"headers\":[{\"name\":"
                              "\"Host\",\"value\":\"autodiscover.contoso.com\"},{\"name\":"
                              "\"Content-Type\",\"value\":\"text/xml\"},"));
  assert_non_null(strstr(har, "\"queryString\":[{\"name\":\"a\",\"value\":\"1\"},{\"name\":\"b\","
                              "\"value\":\"\"}],\"postData\":{\"mimeType\":\"text/xml\",\"text\":"
                              "\"<?xml"));
  assert_non_null(strstr(har, "\"response\":{\"status\":200,\"statusText\":\"OK\","));
  assert_non_null(strstr(har, "<Action>settings</Action>"));
  /* a body that is not UTF-8 goes as base64 */
  assert_non_null(strstr(
      har, "\"content\":{\"size\":3,\"mimeType\":\"text/plain; charset=utf-8\",\"text\":\"//4A\","
           "\"encoding\":\"base64\"}"));
  /* HEAD: headers only, the redirect target as redirectURL */
  assert_non_null(strstr(har, "\"content\":{\"size\":0,\"mimeType\":\"\"},\"redirectURL\":"
                              "\"https://x/new\""));
  assert_non_null(strstr(har, "\"serverIPAddress\":\"127.77.0.1\",\"connection\":"
                              "\"127.0.0.1:40000\",\"_host\":\"web\",\"_route\":\"/old\","
                              "\"_tls\":true}"));
  assert_non_null(strstr(har, "\"timings\":{\"blocked\":-1,\"dns\":-1,\"connect\":-1,\"ssl\":-1,"
                              "\"send\":"));
  free(har);
}

static void test_no_har_no_recording(void **state) {
  struct rec_fixture *r = *state;
  r->f->s.rec = NULL;
  ask(r->f, "GET", "/old", "Authorization: " BASIC "\r\n", NULL);
  assert_int_equal(jnl_har_n_entries(r->rec.har), 0);
  assert_non_null(strstr(journal(r->f), "\"ev\":\"finding\"")); /* findings do not need a HAR */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_basic_at_the_autodiscover_route_over_tls_is_no_finding,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_basic_elsewhere_is_a_leak, setup, teardown),
      cmocka_unit_test_setup_teardown(test_an_ntlm_response_is_a_leak_where_basic_is, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_credentials_in_clear_when_asked, setup, teardown),
      cmocka_unit_test_setup_teardown(test_har_entry, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_har_no_recording, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
