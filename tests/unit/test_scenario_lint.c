/* tests/unit/test_scenario_lint.c: scn_lint's warnings (scenario/scn_lint.c) — what loads but
 * cannot be what the author meant: names nothing answers, hosts nothing reaches, certificates
 * that do not cover their host. */
#include "tests/unit/test_scenario_fixture.h"

static const char lint_base[] = "name: l\ndescription: d\ndomain: contoso.com\n";

static size_t lint_of(const char *body, char *out, size_t out_size) {
  char text[4096];
  assert_true(buf_fmt(text, sizeof text, "%s%s", lint_base, body));
  struct scn *s = load_text_ok("lint.yaml", text);
  size_t n = scn_lint(s, out, out_size);
  scn_free(s);
  return n;
}

static void test_lint_clean(void **state) {
  char out[2048];
  assert_int_equal(
      lint_of("dns:\n  records:\n"
              "    - { name: contoso.com, type: A, host: www }\n"
              "    - { name: www.contoso.com, type: CNAME, target: contoso.com }\n"
              "    - { name: contoso.com, type: MX, target: mail.hoster.net }\n"
              "    - { name: a.contoso.com, type: CNAME, target: x.wild.contoso.com }\n"
              "    - { name: \"*.wild.contoso.com\", type: A, address: 127.0.0.5 }\n"
              "hosts:\n  www:\n    https:\n"
              "      certificate: { profile: valid, names: [\"*.contoso.com\", "
              "contoso.com] }\n"
              "  fixed: { address: 127.0.0.5 }\n"
              "clients: [outlook-2016-msi]\n"
              "expect:\n  outlook-2016-msi:\n    prompts:\n"
              "      - { kind: certificate, host: www.contoso.com }\n"
              "      - { kind: certificate, host: b.wild.contoso.com }\n",
              out, sizeof out),
      0);
  assert_string_equal(out, "");
  assert_int_equal(scn_lint(NULL, out, sizeof out), 0);
}

static void test_lint_overlay_leaves_names_to_the_real_dns(void **state) {
  char out[2048];
  static const char rest[] =
      "  records:\n"
      "    - { name: lab.contoso.com, type: CNAME, target: real.contoso.com }\n"
      "clients: [outlook-2016-msi]\n"
      "expect:\n  outlook-2016-msi:\n    prompts:\n"
      "      - { kind: certificate, host: old.contoso.com }\n";
  char text[1024];
  buf_fmt(text, sizeof text, "dns:\n  overlay: { upstream: 127.0.0.1 }\n%s", rest);
  assert_int_equal(lint_of(text, out, sizeof out), 0);
  assert_string_equal(out, "");
  buf_fmt(text, sizeof text, "dns:\n%s", rest); /* without the overlay, both names are nowhere */
  assert_int_equal(lint_of(text, out, sizeof out), 2);
}

static void test_lint_warnings(void **state) {
  char out[4096];
  size_t n = lint_of("dns:\n  records:\n"
                     "    - { name: contoso.com, type: A, host: www }\n"
                     "    - { name: contoso.com, type: MX, target: mail.contoso.com }\n"
                     "    - { name: _autodiscover._tcp.contoso.com, type: SRV, port: 443, "
                     "target: ad.contoso.com }\n"
                     "hosts:\n  www:\n    https:\n"
                     "      certificate: { profile: valid, names: [www.contoso.com] }\n"
                     "  lost: {}\n"
                     "  ok: { https: { certificate: { profile: wrong-name, names: [x.com] } }, "
                     "names: [ok.contoso.com] }\n"
                     "clients: [outlook-2016-msi]\n"
                     "expect:\n  outlook-2016-msi:\n    prompts:\n"
                     "      - { kind: certificate, host: autodiscover.contoso.com }\n",
                     out, sizeof out);
  assert_int_equal(n, 5);
  assert_string_equal(
      out,
      "lint.yaml:19:9: warning: expect.outlook-2016-msi: the prompt's host "
      "autodiscover.contoso.com is neither a host's name nor a record in this scenario, so no "
      "client can reach it\n"
      "lint.yaml:7:7: warning: the MX record of contoso.com points at mail.contoso.com, which is "
      "inside the lab's zones but has no record and no host\n"
      "lint.yaml:8:7: warning: the SRV record of _autodiscover._tcp.contoso.com points at "
      "ad.contoso.com, which is inside the lab's zones but has no record and no host\n"
      "lint.yaml:13:3: warning: host \"lost\" has no names and no record resolves to it: no client "
      "can reach it\n"
      "lint.yaml:12:20: warning: the valid certificate of host \"www\" does not cover its name "
      "contoso.com: a client will see a name mismatch (use profile wrong-name to mean it)\n");
  /* a small buffer holds whole lines only; the count is still every warning */
  char small[150];
  assert_int_equal(lint_of("hosts:\n  a: {}\n  b: {}\n", small, sizeof small), 2);
  assert_string_equal(small, "lint.yaml:5:3: warning: host \"a\" has no names and no record "
                             "resolves to it: no client can reach it\n");
  assert_int_equal(lint_of("hosts:\n  a: {}\n", NULL, 0), 1);
}

/* targets outside the lab's zones are somebody else's: no warning; dns.zones widens the lab */
static void test_lint_zones(void **state) {
  char out[2048];
  assert_int_equal(lint_of("dns:\n  records:\n"
                           "    - { name: contoso.com, type: CNAME, target: mail.hoster.net }\n",
                           out, sizeof out),
                   0);
  assert_int_equal(lint_of("dns:\n  zones: [contoso.com, hoster.net]\n  records:\n"
                           "    - { name: contoso.com, type: CNAME, target: mail.hoster.net }\n",
                           out, sizeof out),
                   1);
  assert_non_null(strstr(out, "lint.yaml:7:7: warning: the CNAME record of contoso.com"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lint_clean),
      cmocka_unit_test(test_lint_warnings),
      cmocka_unit_test(test_lint_overlay_leaves_names_to_the_real_dns),
      cmocka_unit_test(test_lint_zones),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
