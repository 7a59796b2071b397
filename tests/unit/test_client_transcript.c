/* tests/unit/test_client_transcript.c: the transcript's JSON and readable forms
 * (client/sim_transcript.c). */
#include "client/internal.h"
#include "tests/unit/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* story builds the founding story's transcript by hand: an expired root certificate, then
 * settings from autodiscover.contoso.com. */
static struct sim_transcript *story(void) {
  struct sim_transcript *t = xcalloc(1, sizeof *t);
  t->client = str_dup("outlook-2016-msi");
  t->email = str_dup("alice@contoso.com");
  t->n_steps = 2;
  t->steps = xcalloc(2, sizeof *t->steps);
  struct sim_step *s = &t->steps[0];
  s->kind = SIM_STEP_HTTPS_ROOT;
  s->name = str_dup("https-root");
  s->url = str_dup("https://contoso.com/autodiscover/autodiscover.xml");
  s->host = str_dup("contoso.com");
  s->result = SIM_R_NOT_AUTODISCOVER;
  s->dns_answer = str_dup("127.77.0.2");
  s->cert_failures = SIM_CERT_EXPIRED;
  s->cert_subject = str_dup("contoso.com");
  s->cert_issuer = str_dup("autodisco lab CA");
  s->http_status = 404;
  s->detail = str_dup("HTTP 404: not an Autodiscover answer");
  s->elapsed_ms = 12.5;
  s = &t->steps[1];
  s->kind = SIM_STEP_HTTPS_AUTODISCOVER;
  s->name = str_dup("https-autodiscover");
  s->url = str_dup("https://autodiscover.contoso.com/autodiscover/autodiscover.xml");
  s->host = str_dup("autodiscover.contoso.com");
  s->result = SIM_R_SETTINGS;
  s->dns_answer = str_dup("127.77.0.3");
  s->cert_subject = str_dup("autodiscover.contoso.com");
  s->cert_issuer = str_dup("autodisco lab CA");
  s->http_status = 200;
  s->detail =
      str_dup("settings for alice@contoso.com (EWS https://mail.contoso.com/EWS/Exchange.asmx)");
  s->elapsed_ms = 8;
  t->n_prompts = 1;
  t->prompts = xcalloc(1, sizeof *t->prompts);
  t->prompts[0].kind = SIM_PROMPT_CERTIFICATE;
  t->prompts[0].host = str_dup("contoso.com");
  t->prompts[0].reason = str_dup("expired");
  t->prompts[0].cert_failures = SIM_CERT_EXPIRED;
  t->prompts[0].text = str_dup("Security Alert — contoso.com\n\"quoted\"");
  t->prompts[0].accepted = true;
  t->prompts[0].step = 0;
  t->success = true;
  t->final_url = str_dup("https://autodiscover.contoso.com/autodiscover/autodiscover.xml");
  t->settings_email = str_dup("alice@contoso.com");
  t->ews_url = str_dup("https://mail.contoso.com/EWS/Exchange.asmx");
  t->server = str_dup("mail.contoso.com");
  t->total_ms = 20.5;
  t->n_settings = 1;
  t->settings = xcalloc(1, sizeof *t->settings);
  t->settings[0] = str_dup("ExcludeScpLookup=1");
  return t;
}

static void test_json_is_the_documented_shape(void **state) {
  struct sim_transcript *t = story();
  char *json = sim_transcript_json(t);
  const char *want =
      "{\"client\":\"outlook-2016-msi\",\"email\":\"alice@contoso.com\",\"success\":true,"
      "\"final_url\":\"https://autodiscover.contoso.com/autodiscover/autodiscover.xml\","
      "\"settings_email\":\"alice@contoso.com\","
      "\"ews_url\":\"https://mail.contoso.com/EWS/Exchange.asmx\",\"server\":\"mail.contoso.com\","
      "\"total_ms\":20.5,\"settings\":[\"ExcludeScpLookup=1\"],\"steps\":["
      "{\"index\":0,\"step\":\"https-root\","
      "\"url\":\"https://contoso.com/autodiscover/autodiscover.xml\",\"host\":\"contoso.com\","
      "\"result\":\"not-autodiscover\",\"dns_answer\":\"127.77.0.2\",\"dns_error\":null,"
      "\"connect_error\":null,\"tls_error\":null,\"cert_failures\":[\"expired\"],"
      "\"cert_subject\":\"contoso.com\",\"cert_issuer\":\"autodisco lab CA\",\"http_status\":404,"
      "\"redirect_to\":null,\"error_code\":null,\"auth_schemes\":null,\"timed_out\":false,"
      "\"credentials_sent\":false,"
      "\"detail\":\"HTTP 404: not an Autodiscover answer\",\"elapsed_ms\":12.5},"
      "{\"index\":1,\"step\":\"https-autodiscover\","
      "\"url\":\"https://autodiscover.contoso.com/autodiscover/autodiscover.xml\","
      "\"host\":\"autodiscover.contoso.com\",\"result\":\"settings\","
      "\"dns_answer\":\"127.77.0.3\",\"dns_error\":null,\"connect_error\":null,"
      "\"tls_error\":null,\"cert_failures\":[],\"cert_subject\":\"autodiscover.contoso.com\","
      "\"cert_issuer\":\"autodisco lab CA\",\"http_status\":200,\"redirect_to\":null,"
      "\"error_code\":null,\"auth_schemes\":null,\"timed_out\":false,\"credentials_sent\":false,"
      "\"detail\":\"settings for alice@contoso.com "
      "(EWS https://mail.contoso.com/EWS/Exchange.asmx)\",\"elapsed_ms\":8}],"
      "\"prompts\":[{\"kind\":\"certificate\",\"step\":0,\"host\":\"contoso.com\","
      "\"reason\":\"expired\",\"cert_failures\":[\"expired\"],\"accepted\":true,"
      "\"text\":\"Security Alert — contoso.com\\n\\\"quoted\\\"\"}]}";
  assert_string_equal(json, want);
  free(json);
  sim_transcript_free(t);
}

static void test_json_of_an_empty_failure(void **state) {
  struct sim_transcript *t = xcalloc(1, sizeof *t);
  t->client = str_dup("mso-xdscli");
  t->email = str_dup("a@b.example");
  char *json = sim_transcript_json(t);
  assert_string_equal(
      json, "{\"client\":\"mso-xdscli\",\"email\":\"a@b.example\",\"success\":false,"
            "\"final_url\":null,\"settings_email\":null,\"ews_url\":null,"
            "\"server\":null,\"total_ms\":0,\"settings\":[],\"steps\":[],\"prompts\":[]}");
  free(json);
  sim_transcript_free(t);
  sim_transcript_free(NULL);
}

static char *text_of(const struct sim_transcript *t, bool color) {
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  sim_transcript_text(t, f, color);
  fclose(f);
  return out;
}

static void test_text_lines(void **state) {
  struct sim_transcript *t = story();
  char *text = text_of(t, false);
  assert_string_equal(
      text, "client outlook-2016-msi, alice@contoso.com\n"
            "settings: ExcludeScpLookup=1\n"
            "  1 https-root          https://contoso.com/autodiscover/autodiscover.xml  → 404 "
            "not Autodiscover (after certificate prompt)\n"
            "      contoso.com → 127.77.0.2 · certificate contoso.com from autodisco lab CA: "
            "expired · HTTP 404\n"
            "  ! PROMPT certificate: contoso.com — expired (Security Alert) → Yes\n"
            "  2 https-autodiscover  https://autodiscover.contoso.com/autodiscover/autodiscover.xml"
            "  → settings\n"
            "      autodiscover.contoso.com → 127.77.0.3 · certificate autodiscover.contoso.com "
            "from autodisco lab CA: passes every check · HTTP 200\n"
            "outcome: settings from https://autodiscover.contoso.com/autodiscover/autodiscover.xml "
            "(EWS https://mail.contoso.com/EWS/Exchange.asmx)\n"
            "time: 20 ms (lab clock)\n");
  free(text);
  text = text_of(t, true);
  assert_non_null(strstr(text, "\033[1;33m  ! PROMPT certificate"));
  assert_non_null(strstr(text, "→ Yes\033[0m\n"));
  free(text);
  sim_transcript_free(t);
}

static void test_text_failure(void **state) {
  struct sim_transcript *t = story();
  t->success = false;
  t->steps[1].result = SIM_R_DNS_FAILED;
  t->steps[1].dns_error = str_dup("NXDOMAIN");
  t->prompts[0].accepted = false;
  t->steps[0].result = SIM_R_TLS_FAILED;
  t->steps[0].tls_error = str_dup("user declined the certificate");
  char *text = text_of(t, false);
  assert_non_null(strstr(text, "→ TLS failed: user declined the certificate\n"));
  assert_non_null(strstr(text, "(Security Alert) → No\n"));
  assert_non_null(strstr(text, "→ DNS NXDOMAIN\n"));
  assert_non_null(strstr(text, "outcome: failure — no candidate returned settings\n"));
  free(text);
  sim_transcript_free(t);
}

static void test_text_waits_and_skips(void **state) {
  struct sim_transcript *t = story();
  t->success = false;
  t->steps[0].result = SIM_R_CONNECT_FAILED;
  t->steps[0].connect_error = str_dup("timeout");
  t->steps[0].timed_out = true;
  t->steps[0].elapsed_ms = 21000.4;
  t->steps[1].result = SIM_R_SKIPPED;
  free(t->steps[1].detail);
  t->steps[1].detail = str_dup("excluded by the client setting ExcludeHttpsAutoDiscoverDomain");
  t->total_ms = 26500;
  char *text = text_of(t, false);
  assert_non_null(strstr(text, "→ connect timeout (no answer, 21 s)"));
  assert_non_null(
      strstr(text, "→ skipped (excluded by the client setting ExcludeHttpsAutoDiscoverDomain)\n"));
  assert_non_null(strstr(text, "time: 26.5 s (lab clock)\n"));
  free(text);
  t->steps[0].timed_out = false;
  t->steps[0].elapsed_ms = 5000;
  text = text_of(t, false);
  assert_non_null(strstr(text, "→ connect timeout (after 5 s)"));
  free(text);
  char *json = sim_transcript_json(t);
  assert_non_null(strstr(json, "\"timed_out\":false"));
  free(json);
  t->steps[0].timed_out = true;
  t->steps[0].auth_schemes = str_dup("Basic, NTLM");
  json = sim_transcript_json(t);
  assert_non_null(strstr(json, "\"auth_schemes\":\"Basic, NTLM\",\"timed_out\":true"));
  free(json);
  sim_transcript_free(t);
}

static void test_text_credentials_prompt(void **state) {
  struct sim_transcript *t = story();
  t->prompts[0].kind = SIM_PROMPT_CREDENTIALS;
  free(t->prompts[0].reason);
  t->prompts[0].reason = str_dup("basic");
  char *text = text_of(t, false);
  assert_non_null(
      strstr(text, "! PROMPT credentials: contoso.com — basic (Windows Security) → OK"));
  free(text);
  sim_transcript_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_is_the_documented_shape),
      cmocka_unit_test(test_json_of_an_empty_failure),
      cmocka_unit_test(test_text_lines),
      cmocka_unit_test(test_text_failure),
      cmocka_unit_test(test_text_waits_and_skips),
      cmocka_unit_test(test_text_credentials_prompt),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
