/* tests/unit/test_http_pox.c: proxy/http/http_pox.c — POX answers built and read back with
 * libxml2 field by field, and the request parser on good, bad, oversized and hostile input. */
#include "proxy/http/http.h"
#include "proxy/http/internal.h"
#include "tests/unit/testutil.h"

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQ_HEAD                                                                                   \
  "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"                                                   \
  "<Autodiscover xmlns=\"" HTTP_NS_REQUEST "\">\n<Request>\n"
#define REQ_SCHEMA                                                                                 \
  "<AcceptableResponseSchema>" HTTP_NS_RESPONSE_2006A "</AcceptableResponseSchema>\n"
#define REQ_TAIL "</Request>\n</Autodiscover>\n"

/* A parsed answer and XPath with the prefixes o (outer) and a (2006a). */
struct answer {
  xmlDoc *doc;
  xmlXPathContext *xp;
  char *value;
};

static void answer_load(struct answer *a, const struct buf *xml) {
  memset(a, 0, sizeof *a);
  a->doc =
      xmlReadMemory((const char *) xml->ptr, (int) xml->len, "answer.xml", NULL, XML_PARSE_NONET);
  assert_non_null(a->doc);
  a->xp = xmlXPathNewContext(a->doc);
  xmlXPathRegisterNs(a->xp, (const xmlChar *) "o", (const xmlChar *) HTTP_NS_RESPONSE);
  xmlXPathRegisterNs(a->xp, (const xmlChar *) "a", (const xmlChar *) HTTP_NS_RESPONSE_2006A);
}

/* str evaluates string(expr); the result lives until the next call. */
static const char *str(struct answer *a, const char *expr) {
  char full[512];
  assert_true(buf_fmt(full, sizeof full, "string(%s)", expr));
  xmlXPathObject *o = xmlXPathEvalExpression((const xmlChar *) full, a->xp);
  assert_non_null(o);
  free(a->value);
  a->value = str_dup(o->stringval == NULL ? "" : (const char *) o->stringval);
  xmlXPathFreeObject(o);
  return a->value;
}

static double count(struct answer *a, const char *expr) {
  char full[512];
  assert_true(buf_fmt(full, sizeof full, "count(%s)", expr));
  xmlXPathObject *o = xmlXPathEvalExpression((const xmlChar *) full, a->xp);
  assert_non_null(o);
  double n = o->floatval;
  xmlXPathFreeObject(o);
  return n;
}

static void answer_free(struct answer *a) {
  free(a->value);
  xmlXPathFreeContext(a->xp);
  xmlFreeDoc(a->doc);
}

static void build(struct buf *out, const struct scn_autodiscover *ad, const char *email,
                  const char *dn) {
  struct http_pox_request req = {.email = (char *) email, .legacy_dn = (char *) dn};
  buf_init(out, 1u << 20);
  assert_true(http__pox_answer(out, ad, &req, "autodiscover-host"));
  assert_non_null(strstr(buf_cstr(out), "<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
}

static void test_settings_from_ews_url(void **state) {
  struct scn_autodiscover ad = {.action = SCN_AD_SETTINGS,
                                .ews_url = "https://mail.contoso.com/EWS/Exchange.asmx"};
  struct buf xml;
  build(&xml, &ad, "alice@contoso.com", NULL);
  struct answer a;
  answer_load(&a, &xml);
  const char *r = "/o:Autodiscover/a:Response";
  char p[256];
  assert_int_equal(count(&a, "/o:Autodiscover/a:Response"), 1);
  assert_int_equal(count(&a, "/o:Autodiscover/o:Response"), 0); /* 2006a, not the outer ns */
  buf_fmt(p, sizeof p, "%s/a:User/a:DisplayName", r);
  assert_string_equal(str(&a, p), "alice");
  buf_fmt(p, sizeof p, "%s/a:User/a:AutoDiscoverSMTPAddress", r);
  assert_string_equal(str(&a, p), "alice@contoso.com");
  buf_fmt(p, sizeof p, "%s/a:User/a:LegacyDN", r);
  assert_non_null(strstr(str(&a, p), "/cn=Recipients/cn=alice"));
  buf_fmt(p, sizeof p, "%s/a:User/a:DeploymentId", r);
  assert_int_equal(strlen(str(&a, p)), 36);
  buf_fmt(p, sizeof p, "%s/a:Account/a:AccountType", r);
  assert_string_equal(str(&a, p), "email");
  buf_fmt(p, sizeof p, "%s/a:Account/a:Action", r);
  assert_string_equal(str(&a, p), "settings");
  const char *expr = "/o:Autodiscover/a:Response/a:Account/a:Protocol[a:Type='EXPR']";
  assert_int_equal(count(&a, expr), 1);
  buf_fmt(p, sizeof p, "%s/a:Server", expr);
  assert_string_equal(str(&a, p), "mail.contoso.com");
  buf_fmt(p, sizeof p, "%s/a:SSL", expr);
  assert_string_equal(str(&a, p), "On");
  buf_fmt(p, sizeof p, "%s/a:AuthPackage", expr);
  assert_string_equal(str(&a, p), "Negotiate");
  static const char *urls[] = {"ASUrl", "EwsUrl", "OOFUrl"};
  for (size_t i = 0; i < 3; i++) {
    buf_fmt(p, sizeof p, "%s/a:%s", expr, urls[i]);
    assert_string_equal(str(&a, p), "https://mail.contoso.com/EWS/Exchange.asmx");
  }
  buf_fmt(p, sizeof p, "%s/a:TTL", expr);
  assert_string_equal(str(&a, p), "1");
  const char *exch = "/o:Autodiscover/a:Response/a:Account/a:Protocol[a:Type='EXCH']";
  buf_fmt(p, sizeof p, "%s/a:EwsUrl", exch);
  assert_string_equal(str(&a, p), "https://mail.contoso.com/EWS/Exchange.asmx");
  assert_int_equal(count(&a, "//a:Error"), 0);
  answer_free(&a);
  buf_cleanup(&xml);
}

static void test_settings_explicit_values_and_legacy_dn(void **state) {
  struct scn_autodiscover ad = {.action = SCN_AD_SETTINGS,
                                .display_name = "Alice <Admin> & \"Co\"",
                                .server = "outlook.example.net",
                                .auth_package = "Ntlm",
                                .ews_url = "https://x.example/EWS/Exchange.asmx"};
  struct buf xml;
  build(&xml, &ad, NULL, "/o=Contoso/ou=First/cn=Recipients/cn=bob");
  struct answer a;
  answer_load(&a, &xml);
  /* untrusted text comes back exactly: it was escaped, not pasted */
  assert_string_equal(str(&a, "//a:User/a:DisplayName"), "Alice <Admin> & \"Co\"");
  assert_string_equal(str(&a, "//a:User/a:LegacyDN"), "/o=Contoso/ou=First/cn=Recipients/cn=bob");
  assert_int_equal(count(&a, "//a:User/a:AutoDiscoverSMTPAddress"), 0);
  assert_string_equal(str(&a, "//a:Protocol[a:Type='EXPR']/a:Server"), "outlook.example.net");
  assert_string_equal(str(&a, "//a:Protocol[a:Type='EXPR']/a:AuthPackage"), "Ntlm");
  answer_free(&a);
  buf_cleanup(&xml);
}

static void test_redirects(void **state) {
  struct scn_autodiscover addr = {.action = SCN_AD_REDIRECT_ADDR,
                                  .redirect_addr = "alice@contoso.mail.onmicrosoft.com"};
  struct buf xml;
  build(&xml, &addr, "alice@contoso.com", NULL);
  struct answer a;
  answer_load(&a, &xml);
  assert_string_equal(str(&a, "/o:Autodiscover/a:Response/a:Account/a:Action"), "redirectAddr");
  assert_string_equal(str(&a, "/o:Autodiscover/a:Response/a:Account/a:RedirectAddr"),
                      "alice@contoso.mail.onmicrosoft.com");
  assert_int_equal(count(&a, "//a:User"), 0);
  assert_int_equal(count(&a, "//a:Protocol"), 0);
  answer_free(&a);
  buf_cleanup(&xml);

  struct scn_autodiscover url = {.action = SCN_AD_REDIRECT_URL,
                                 .redirect_url =
                                     "https://mail.hoster.net/autodiscover/autodiscover.xml"};
  build(&xml, &url, "alice@contoso.com", NULL);
  answer_load(&a, &xml);
  assert_string_equal(str(&a, "/o:Autodiscover/a:Response/a:Account/a:Action"), "redirectUrl");
  assert_string_equal(str(&a, "/o:Autodiscover/a:Response/a:Account/a:RedirectUrl"),
                      "https://mail.hoster.net/autodiscover/autodiscover.xml");
  answer_free(&a);
  buf_cleanup(&xml);
}

static void test_error_in_outer_namespace(void **state) {
  struct scn_autodiscover ad = {.action = SCN_AD_ERROR, .error_code = 500};
  struct buf xml;
  build(&xml, &ad, "alice@contoso.com", NULL);
  struct answer a;
  answer_load(&a, &xml);
  const char *e = "/o:Autodiscover/o:Response/o:Error";
  char p[256];
  assert_int_equal(count(&a, e), 1);
  assert_int_equal(count(&a, "//a:Response"), 0);
  buf_fmt(p, sizeof p, "%s/o:ErrorCode", e);
  assert_string_equal(str(&a, p), "500");
  buf_fmt(p, sizeof p, "%s/o:Message", e);
  assert_string_equal(str(&a, p), "The email address can't be found.");
  buf_fmt(p, sizeof p, "%s/@Time", e);
  assert_int_equal(strlen(str(&a, p)), 16); /* HH:MM:SS.fffffff */
  buf_fmt(p, sizeof p, "%s/@Id", e);
  assert_true(strlen(str(&a, p)) > 0);
  buf_fmt(p, sizeof p, "%s/o:DebugData", e);
  assert_int_equal(count(&a, p), 1);
  answer_free(&a);
  buf_cleanup(&xml);

  /* a scenario's own message and a code outside the table */
  struct scn_autodiscover custom = {
      .action = SCN_AD_ERROR, .error_code = 999, .error_message = "Nope </Message>"};
  build(&xml, &custom, "alice@contoso.com", NULL);
  answer_load(&a, &xml);
  assert_string_equal(str(&a, "//o:Error/o:ErrorCode"), "999");
  assert_string_equal(str(&a, "//o:Error/o:Message"), "Nope </Message>");
  answer_free(&a);
  buf_cleanup(&xml);

  buf_init(&xml, 1u << 20);
  assert_true(http__pox_error(&xml, 601, NULL, "h"));
  answer_load(&a, &xml);
  assert_string_equal(str(&a, "//o:Error/o:ErrorCode"), "601");
  assert_string_equal(str(&a, "//o:Error/o:Message"), http__pox_error_text(601));
  answer_free(&a);
  buf_cleanup(&xml);
  assert_string_equal(http__pox_error_text(600), "Invalid Request");
}

static enum http_pox_parse parse(struct http_pox_request *r, const char *text) {
  char why[256] = "";
  enum http_pox_parse st = http__pox_parse(r, slice_of_str(text), why, sizeof why);
  if (st != HTTP_POX_OK) {
    assert_true(strlen(why) > 0);
  }
  return st;
}

static void test_parse_good_requests(void **state) {
  struct http_pox_request r;
  assert_int_equal(
      parse(&r, REQ_HEAD "<EMailAddress>alice@contoso.com</EMailAddress>\n" REQ_SCHEMA REQ_TAIL),
      HTTP_POX_OK);
  assert_string_equal(r.email, "alice@contoso.com");
  assert_null(r.legacy_dn);
  assert_string_equal(r.schema, HTTP_NS_RESPONSE_2006A);
  http__pox_request_cleanup(&r);

  /* whitespace trimmed, a prefix instead of a default namespace, both identifiers */
  assert_int_equal(parse(&r, "<a:Autodiscover xmlns:a=\"" HTTP_NS_REQUEST "\"><a:Request>"
                             "<a:LegacyDN> /o=C/cn=bob </a:LegacyDN>"
                             "<a:EMailAddress>\n bob@contoso.com\t</a:EMailAddress>"
                             "<a:AcceptableResponseSchema>" HTTP_NS_RESPONSE_2006A
                             "</a:AcceptableResponseSchema></a:Request></a:Autodiscover>"),
                   HTTP_POX_OK);
  assert_string_equal(r.email, "bob@contoso.com");
  assert_string_equal(r.legacy_dn, "/o=C/cn=bob");
  http__pox_request_cleanup(&r);
}

static void test_parse_bad_requests(void **state) {
  struct http_pox_request r;
  static const char *invalid[] = {
      "",
      "not xml at all",
      "<Autodiscover xmlns=\"" HTTP_NS_REQUEST "\"><Request>", /* truncated */
      "<Autodiscover><Request><EMailAddress>a@b</EMailAddress></Request></Autodiscover>",
      "<Autodiscover xmlns=\"urn:other\"><Request/></Autodiscover>",
      REQ_HEAD REQ_SCHEMA REQ_TAIL,                                           /* no address */
      REQ_HEAD "<EMailAddress>a@b</EMailAddress>" REQ_TAIL,                   /* no schema */
      REQ_HEAD "<EMailAddress><b>a@b</b></EMailAddress>" REQ_SCHEMA REQ_TAIL, /* not text */
      "<Autodiscover xmlns=\"" HTTP_NS_REQUEST "\"/>",                        /* no Request */
  };
  for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
    assert_int_equal(parse(&r, invalid[i]), HTTP_POX_INVALID);
    http__pox_request_cleanup(&r);
  }
  /* another response schema: 601 */
  assert_int_equal(parse(&r, REQ_HEAD
                         "<EMailAddress>a@b</EMailAddress><AcceptableResponseSchema>"
                         "http://schemas.microsoft.com/exchange/autodiscover/"
                         "mobilesync/responseschema/2006</AcceptableResponseSchema>" REQ_TAIL),
                   HTTP_POX_SCHEMA);
  assert_string_equal(r.email, "a@b");
  http__pox_request_cleanup(&r);
  assert_int_equal(parse(&r, "<Autodiscover xmlns=\"" HTTP_NS_MOBILE_REQUEST "\"><Request>"
                             "<EMailAddress>a@b</EMailAddress><AcceptableResponseSchema>"
                             "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/"
                             "responseschema/2006</AcceptableResponseSchema></Request>"
                             "</Autodiscover>"),
                   HTTP_POX_SCHEMA);
  http__pox_request_cleanup(&r);
}

static void test_parse_oversized(void **state) {
  struct buf big;
  buf_init(&big, 1u << 20);
  buf_append_str(&big, REQ_HEAD "<EMailAddress>a@b</EMailAddress>" REQ_SCHEMA "<!--");
  while (big.len <= HTTP_POX_MAX_REQUEST) {
    buf_append_str(&big, "padding padding padding padding ");
  }
  buf_append_str(&big, "-->" REQ_TAIL);
  struct http_pox_request r;
  char why[256] = "";
  assert_int_equal(http__pox_parse(&r, buf_slice(&big), why, sizeof why), HTTP_POX_INVALID);
  assert_non_null(strstr(why, "64 KiB"));
  http__pox_request_cleanup(&r);
  /* one field too long */
  buf_reset(&big);
  buf_append_str(&big, REQ_HEAD "<EMailAddress>");
  for (int i = 0; i < 2000; i++) {
    buf_append_str(&big, "a");
  }
  buf_append_str(&big, "@b</EMailAddress>" REQ_SCHEMA REQ_TAIL);
  assert_int_equal(http__pox_parse(&r, buf_slice(&big), why, sizeof why), HTTP_POX_INVALID);
  http__pox_request_cleanup(&r);
  buf_cleanup(&big);
}

static void test_parse_never_resolves_entities(void **state) {
  /* a secret file an external entity points at */
  char *dir = test_tmpdir("pox");
  char path[4200];
  assert_true(buf_fmt(path, sizeof path, "%s/secret.txt", dir));
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("TOPSECRET", f);
  fclose(f);
  char xxe[8192];
  assert_true(buf_fmt(xxe, sizeof xxe,
                      "<?xml version=\"1.0\"?>\n<!DOCTYPE Autodiscover [\n"
                      "<!ENTITY xxe SYSTEM \"file://%s\">]>\n"
                      "<Autodiscover xmlns=\"" HTTP_NS_REQUEST "\"><Request>"
                      "<EMailAddress>&xxe;</EMailAddress>" REQ_SCHEMA REQ_TAIL,
                      path));
  struct http_pox_request r;
  assert_int_equal(parse(&r, xxe), HTTP_POX_INVALID);
  assert_true(r.email == NULL || strstr(r.email, "TOPSECRET") == NULL);
  http__pox_request_cleanup(&r);

  /* the same without a DTD: an undeclared entity is not well-formed */
  assert_int_equal(parse(&r, REQ_HEAD "<EMailAddress>&xxe;</EMailAddress>" REQ_SCHEMA REQ_TAIL),
                   HTTP_POX_INVALID);
  http__pox_request_cleanup(&r);

  /* billion laughs */
  assert_int_equal(parse(&r, "<!DOCTYPE a [<!ENTITY a \"aaaaaaaaaa\">"
                             "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
                             "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>"
                             "<Autodiscover xmlns=\"" HTTP_NS_REQUEST "\"><Request>"
                             "<EMailAddress>&c;</EMailAddress>" REQ_SCHEMA REQ_TAIL),
                   HTTP_POX_INVALID);
  http__pox_request_cleanup(&r);
  /* character references are plain text, not entities: allowed */
  assert_int_equal(
      parse(&r, REQ_HEAD "<EMailAddress>a&#64;b&amp;c</EMailAddress>" REQ_SCHEMA REQ_TAIL),
      HTTP_POX_OK);
  assert_string_equal(r.email, "a@b&c");
  http__pox_request_cleanup(&r);
  test_rmtree(dir);
  free(dir);
}

int main(void) {
  xmlInitParser();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_settings_from_ews_url),
      cmocka_unit_test(test_settings_explicit_values_and_legacy_dn),
      cmocka_unit_test(test_redirects),
      cmocka_unit_test(test_error_in_outer_namespace),
      cmocka_unit_test(test_parse_good_requests),
      cmocka_unit_test(test_parse_bad_requests),
      cmocka_unit_test(test_parse_oversized),
      cmocka_unit_test(test_parse_never_resolves_entities),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  xmlCleanupParser();
  return rc;
}
