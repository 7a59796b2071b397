/* tests/unit/test_client_answer.c: what the walk does with what came back (client/sim_answer.c)
 * — a redirect to http refused, a redirect loop, a POX Error, a 401 answered with Basic or
 * single sign-on or not at all (and, for a real server, only with the credentials given), and
 * Office 365 Direct Connect's AutoDV2 answer. */
#include "tests/unit/test_client_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_redirect_to_http_is_refused(void **state) {
  struct server s;
  server_start(&s, "http://127.0.0.1/plain/autodiscover.xml");
  struct sim_model m = classic();
  struct sim_transcript *t = walk_run(&(struct walk){.model = &m, .servers = {&s}, .trust = s.pem});
  server_stop(&s);
  assert_false(t->success);
  assert_int_equal(t->steps[0].result, SIM_R_REJECTED);
  assert_int_equal(t->steps[0].http_status, 302);
  assert_string_equal(t->steps[0].redirect_to, "http://127.0.0.1/plain/autodiscover.xml");
  assert_non_null(strstr(t->steps[0].detail, "not https"));
  assert_string_equal(t->steps[1].name, "https-autodiscover"); /* the walk went on */
  sim_transcript_free(t);
}

/* walk_post_3xx takes the root step alone; its POST is answered 302 to another host
 * (other.test, which the fake DNS server sends to the same host). */
static struct sim_transcript *walk_post_3xx(const char *settings) {
  struct server s;
  server_start(&s, "https://other.test/redirected/autodiscover.xml");
  struct sim_model m = root_only();
  struct scn_client cfg = settings_of("%s", settings);
  struct sim_transcript *t = walk_run(
      &(struct walk){.model = &m, .cfg = &cfg, .servers = {&s}, .trust = s.pem, .fake_dns = true});
  server_stop(&s);
  scn_client_cleanup(&cfg);
  return t;
}

static size_t redirect_prompts(const struct sim_transcript *t) {
  size_t n = 0;
  for (size_t i = 0; i < t->n_prompts; i++) {
    n += t->prompts[i].kind == SIM_PROMPT_REDIRECT;
  }
  return n;
}

static void test_post_3xx_consent_is_a_setting(void **state) {
  /* §2.5: whether a 302 to the POST that changes host asks is UNCERTAIN; the lab: no */
  struct sim_transcript *t = walk_post_3xx("");
  assert_true(t->success);
  assert_string_equal(t->final_url, "https://other.test/redirected/autodiscover.xml");
  assert_int_equal(redirect_prompts(t), 0);
  sim_transcript_free(t);
  t = walk_post_3xx("post_redirect_consent=1");
  assert_true(t->success);
  assert_int_equal(redirect_prompts(t), 1);
  assert_string_equal(t->prompts[1].host, "other.test");
  assert_string_equal(t->prompts[1].reason, "https://other.test/redirected/autodiscover.xml");
  assert_int_equal(t->n_settings, 1);
  assert_string_equal(t->settings[0], "post_redirect_consent=1");
  sim_transcript_free(t);
  /* and the allow-list suppresses it, as for the HTTP probe's 302 */
  t = walk_post_3xx("post_redirect_consent=1 RedirectServers=other.test");
  assert_true(t->success);
  assert_int_equal(redirect_prompts(t), 0);
  assert_non_null(strstr(t->steps[1].detail, "RedirectServers"));
  sim_transcript_free(t);
}

static void test_redirect_loop(void **state) {
  struct server s;
  server_start(&s, "/ru");
  struct sim_model m = root_only();
  struct sim_transcript *t = walk_run(&(struct walk){.model = &m, .servers = {&s}, .trust = s.pem});
  server_stop(&s);
  assert_false(t->success);
  assert_int_equal(t->n_steps, 2);
  assert_int_equal(t->steps[0].result, SIM_R_REDIRECT);
  assert_string_equal(t->steps[0].redirect_to, "https://127.0.0.1/ru");
  assert_int_equal(t->steps[1].result, SIM_R_REJECTED);
  assert_string_equal(t->steps[1].redirect_to, "https://127.0.0.1/autodiscover/autodiscover.xml");
  assert_non_null(strstr(t->steps[1].detail, "loop"));
  sim_transcript_free(t);
}

static void test_xml_error_goes_on(void **state) {
  struct server s;
  server_start(&s, "/err");
  struct sim_model m = classic();
  struct sim_transcript *t = walk_run(&(struct walk){.model = &m, .servers = {&s}, .trust = s.pem});
  server_stop(&s);
  assert_false(t->success);
  assert_int_equal(t->steps[1].result, SIM_R_XML_ERROR);
  assert_int_equal(t->steps[1].error_code, 500);
  assert_non_null(strstr(t->steps[1].detail, "assum"));
  assert_int_equal(t->n_steps, 5); /* root, its redirect, then the other three steps */
  assert_string_equal(t->steps[2].name, "https-autodiscover");
  sim_transcript_free(t);
}

/* --- 401 --- */

/* walk_auth asks https://127.0.0.1<path> as the cached URL, keeping the journal; `extra` are
 * more settings ("NAME=VALUE ..."). */
static struct sim_transcript *walk_auth_with(const char *path, struct server *s, char **journal,
                                             const char *extra) {
  server_start(s, "/unused");
  char url[200];
  buf_fmt(url, sizeof url, "https://127.0.0.1%s", path);
  struct scn_client cfg = settings_of("last_known_good_url=%s %s", url, extra);
  struct sim_model m = one_step("outlook-2010", SIM_STEP_LAST_KNOWN_GOOD);
  struct sim_transcript *t = walk_run(&(struct walk){
      .model = &m, .cfg = &cfg, .servers = {s}, .trust = s->pem, .out_journal = journal});
  server_stop(s);
  scn_client_cleanup(&cfg);
  return t;
}

static struct sim_transcript *walk_auth(const char *path, struct server *s, char **journal) {
  return walk_auth_with(path, s, journal, "");
}

/* no_secret checks that neither the transcript nor the journal holds the Basic credentials. */
static void no_secret(const struct sim_transcript *t, const char *journal) {
  static const char *const secrets[] = {"lab-password", "YWxpY2VAMTI3LjAuMC4xOmxhYi1wYXNzd29yZA"};
  char *json = sim_transcript_json(t);
  char *text = NULL;
  size_t text_len = 0;
  FILE *f = open_memstream(&text, &text_len);
  sim_transcript_text(t, f, false);
  fclose(f);
  for (size_t i = 0; i < 2; i++) {
    assert_null(strstr(json, secrets[i]));
    assert_null(strstr(journal, secrets[i]));
    assert_null(strstr(text, secrets[i]));
  }
  free(json);
  free(text);
}

static void test_401_basic_prompts_then_succeeds(void **state) {
  struct server s;
  char *journal = NULL;
  struct sim_transcript *t = walk_auth("/auth/basic", &s, &journal);
  assert_true(t->success);
  assert_int_equal(t->n_steps, 1);
  assert_string_equal(t->steps[0].auth_schemes, "Basic");
  assert_non_null(strstr(t->steps[0].detail, "Basic credentials"));
  assert_int_equal(t->n_prompts, 2); /* one certificate prompt (not again on the retry) */
  assert_int_equal(t->prompts[0].kind, SIM_PROMPT_CERTIFICATE);
  assert_int_equal(t->prompts[1].kind, SIM_PROMPT_CREDENTIALS);
  assert_string_equal(t->prompts[1].host, "127.0.0.1");
  assert_string_equal(t->prompts[1].reason, "basic");
  assert_true(t->prompts[1].accepted);
  /* base64("alice@127.0.0.1:lab-password") went to the server, and nowhere else */
  assert_non_null(
      strstr(s.requests, "Authorization: Basic YWxpY2VAMTI3LjAuMC4xOmxhYi1wYXNzd29yZA=="));
  no_secret(t, journal);
  assert_non_null(strstr(journal, "\"ev\":\"step.auth\""));
  free(journal);
  sim_transcript_free(t);
}

static void test_401_sso_is_silent(void **state) {
  struct server s;
  char *journal = NULL;
  struct sim_transcript *t = walk_auth("/auth/sso", &s, &journal);
  assert_true(t->success);
  assert_string_equal(t->steps[0].auth_schemes, "Negotiate, NTLM");
  assert_int_equal(t->n_prompts, 1); /* the certificate only */
  assert_non_null(strstr(s.requests, "Authorization: Negotiate YXV0b2Rpc2NvLWxhYi1zc28=\r\n"));
  assert_non_null(strstr(t->steps[0].detail, "stand-in"));
  free(journal);
  sim_transcript_free(t);
}

static void test_401_credentials_cancelled(void **state) {
  struct server s;
  char *journal = NULL;
  struct sim_transcript *t =
      walk_auth_with("/auth/basic", &s, &journal, "credentials_prompt_answer=no");
  assert_false(t->success);
  assert_int_equal(t->steps[0].result, SIM_R_NOT_AUTODISCOVER);
  assert_non_null(strstr(t->steps[0].detail, "cancelled the credentials prompt"));
  assert_int_equal(t->n_prompts, 2);
  assert_int_equal(t->prompts[1].kind, SIM_PROMPT_CREDENTIALS);
  assert_false(t->prompts[1].accepted);
  assert_null(strstr(s.requests, "Authorization:")); /* Cancel: nothing was sent */
  assert_null(strstr(journal, "\"ev\":\"step.auth\""));
  free(journal);
  sim_transcript_free(t);
}

static void test_401_sso_prompts_when_not_silent(void **state) {
  /* silent_sso 0: Negotiate/NTLM ask the user too (§2.4, UNCERTAIN) */
  struct server s;
  char *journal = NULL;
  struct sim_transcript *t = walk_auth_with("/auth/sso", &s, &journal, "silent_sso=0");
  assert_true(t->success);
  assert_int_equal(t->n_prompts, 2);
  assert_int_equal(t->prompts[1].kind, SIM_PROMPT_CREDENTIALS);
  assert_string_equal(t->prompts[1].reason, "negotiate");
  assert_true(t->prompts[1].accepted);
  assert_non_null(strstr(t->steps[0].detail, "Negotiate credentials sent"));
  free(journal);
  sim_transcript_free(t);
  t = walk_auth_with("/auth/sso", &s, &journal, "silent_sso=0 credentials_prompt_answer=no");
  assert_false(t->success);
  assert_null(strstr(s.requests, "Authorization:"));
  free(journal);
  sim_transcript_free(t);
}

static void test_401_bearer_and_repeated(void **state) {
  struct server s;
  char *journal = NULL;
  struct sim_transcript *t = walk_auth("/auth/bearer", &s, &journal);
  assert_false(t->success);
  assert_int_equal(t->steps[0].result, SIM_R_NOT_AUTODISCOVER);
  assert_int_equal(t->steps[0].http_status, 401);
  assert_string_equal(t->steps[0].auth_schemes, "Bearer");
  assert_int_equal(t->n_prompts, 1);
  assert_null(strstr(s.requests, "Authorization:"));
  free(journal);
  sim_transcript_free(t);
  t = walk_auth("/auth/never", &s, &journal);
  assert_false(t->success);
  assert_int_equal(t->steps[0].result, SIM_R_NOT_AUTODISCOVER);
  assert_non_null(strstr(t->steps[0].detail, "401 again"));
  assert_int_equal(t->n_prompts, 2); /* certificate, credentials; no second credentials prompt */
  no_secret(t, journal);
  free(journal);
  sim_transcript_free(t);
}

/* --- 401 from a real server (probe): only the credentials the user gave --- */

/* walk_real asks `url` as the cached URL with env.real_credentials and the given user (NULL:
 * none), keeping the journal; `s` serves HTTPS, `plain` (may be NULL) plain HTTP. */
static struct sim_transcript *walk_real(const char *url, struct server *s, struct server *plain,
                                        const char *user, char **journal) {
  struct scn_client cfg = settings_of("last_known_good_url=%s", url);
  struct sim_model m = one_step("outlook-2010", SIM_STEP_LAST_KNOWN_GOOD);
  struct sim_transcript *t =
      walk_run(&(struct walk){.model = &m,
                              .cfg = &cfg,
                              .servers = {s, plain},
                              .trust = s->pem,
                              .out_journal = journal,
                              .real_credentials = true,
                              .username = user,
                              .password = user != NULL ? "s3cret pw" : NULL});
  scn_client_cleanup(&cfg);
  return t;
}

/* no_given_secret checks that neither the transcript nor the journal holds the password. */
static void no_given_secret(const struct sim_transcript *t, const char *journal) {
  static const char *const secrets[] = {"s3cret", "Ym9iQGNvbnRvc28uZXhhbXBsZTpzM2NyZXQgcHc"};
  char *json = sim_transcript_json(t);
  char *text = NULL;
  size_t text_len = 0;
  FILE *f = open_memstream(&text, &text_len);
  sim_transcript_text(t, f, false);
  fclose(f);
  for (size_t i = 0; i < 2; i++) {
    assert_null(strstr(json, secrets[i]));
    assert_null(strstr(journal, secrets[i]));
    assert_null(strstr(text, secrets[i]));
  }
  free(json);
  free(text);
}

static void test_401_real_basic_sends_given_credentials(void **state) {
  struct server s;
  server_start(&s, "/unused");
  char *journal = NULL;
  struct sim_transcript *t =
      walk_real("https://127.0.0.1/auth/basic", &s, NULL, "bob@contoso.example", &journal);
  server_stop(&s);
  assert_true(t->success);
  assert_true(t->steps[0].credentials_sent);
  assert_non_null(strstr(t->steps[0].detail, "Basic credentials of bob@contoso.example"));
  assert_int_equal(t->n_prompts, 2);
  assert_int_equal(t->prompts[1].kind, SIM_PROMPT_CREDENTIALS);
  assert_true(t->prompts[1].accepted);
  assert_non_null(
      strstr(s.requests, "Authorization: Basic Ym9iQGNvbnRvc28uZXhhbXBsZTpzM2NyZXQgcHc=\r\n"));
  assert_null(strstr(s.requests, "lab-password"));
  assert_non_null(strstr(journal, "\"credentials\":\"given\",\"user\":\"bob@contoso.example\""));
  assert_non_null(strstr(journal, "\"credentials_sent\":true"));
  no_given_secret(t, journal);
  free(journal);
  sim_transcript_free(t);
}

static void test_401_real_without_credentials_sends_none(void **state) {
  struct server s;
  server_start(&s, "/unused");
  char *journal = NULL;
  struct sim_transcript *t = walk_real("https://127.0.0.1/auth/basic", &s, NULL, NULL, &journal);
  server_stop(&s);
  assert_false(t->success);
  assert_int_equal(t->steps[0].result, SIM_R_NOT_AUTODISCOVER);
  assert_false(t->steps[0].credentials_sent);
  assert_non_null(strstr(t->steps[0].detail, "sends none without --user"));
  assert_int_equal(t->n_prompts, 2); /* the prompt Outlook would show, cancelled */
  assert_int_equal(t->prompts[1].kind, SIM_PROMPT_CREDENTIALS);
  assert_false(t->prompts[1].accepted);
  assert_null(strstr(s.requests, "Authorization:"));
  assert_null(strstr(journal, "step.auth"));
  free(journal);
  sim_transcript_free(t);
}

static void test_401_real_sso_and_refused(void **state) {
  struct server s;
  server_start(&s, "/unused");
  char *journal = NULL;
  struct sim_transcript *t =
      walk_real("https://127.0.0.1/auth/sso", &s, NULL, "bob@contoso.example", &journal);
  assert_false(t->success);
  assert_int_equal(t->steps[0].result, SIM_R_NOT_AUTODISCOVER);
  assert_non_null(strstr(t->steps[0].detail, "single sign-on"));
  assert_int_equal(t->n_prompts, 1); /* the certificate only: no stand-in token, no prompt */
  assert_null(strstr(s.requests, "Authorization:"));
  free(journal);
  sim_transcript_free(t);
  t = walk_real("https://127.0.0.1/auth/never", &s, NULL, "bob@contoso.example", &journal);
  server_stop(&s);
  assert_false(t->success);
  assert_non_null(strstr(t->steps[0].detail, "refused them"));
  assert_true(t->steps[0].credentials_sent);
  no_given_secret(t, journal);
  free(journal);
  sim_transcript_free(t);
}

static void test_401_real_basic_never_over_plain_http(void **state) {
  struct server s, plain;
  server_start(&s, "/unused");
  plain_start(&plain, false, NULL);
  char *journal = NULL;
  struct sim_transcript *t =
      walk_real("http://127.0.0.1/auth/basic", &s, &plain, "bob@contoso.example", &journal);
  server_stop(&s);
  server_stop(&plain);
  assert_false(t->success);
  assert_int_equal(t->steps[0].http_status, 401);
  assert_non_null(strstr(t->steps[0].detail, "never sent unencrypted"));
  assert_int_equal(t->n_prompts, 0);
  assert_non_null(strstr(plain.requests, "POST /auth/basic"));
  assert_null(strstr(plain.requests, "Authorization:"));
  free(journal);
  sim_transcript_free(t);
}

/* --- Office 365 Direct Connect --- */

/* walk_o365 takes outlook-2016-c2r's first two steps (last-known-good, o365-direct); the host
 * answers AutoDV2 with `json` and `status` (NULL, 0: a good answer). */
static struct sim_transcript *walk_o365(const char *json, int status, struct scn_client *cfg,
                                        struct server *s) {
  server_start(s, "/unused");
  s->json = json;
  s->json_status = status;
  struct sim_model m = *sim_model_named("outlook-2016-c2r");
  m.n_steps = 2;
  struct sim_transcript *t = walk_run(
      &(struct walk){.model = &m, .cfg = cfg, .servers = {s}, .trust = s->pem, .fake_dns = true});
  server_stop(s);
  return t;
}

static void test_o365_direct_connect(void **state) {
  struct scn_client cfg = settings_of("mailbox_in_exchange_online=1");
  struct server s;
  struct sim_transcript *t = walk_o365(NULL, 0, &cfg, &s);
  scn_client_cleanup(&cfg);
  assert_true(t->success);
  assert_int_equal(t->n_steps, 3);
  assert_string_equal(t->steps[1].name, "o365-direct");
  assert_string_equal(t->steps[1].url, "https://outlook.office365.com/autodiscover/"
                                       "autodiscover.json?Email=alice@127.0.0.1&Protocol="
                                       "AutodiscoverV1");
  assert_string_equal(t->steps[1].host, "outlook.office365.com");
  assert_int_equal(t->steps[1].result, SIM_R_REDIRECT);
  assert_string_equal(t->steps[1].redirect_to, "https://127.0.0.1/redirected/autodiscover.xml");
  assert_string_equal(t->steps[2].name, "redirect");
  assert_int_equal(t->steps[2].result, SIM_R_SETTINGS);
  assert_non_null(strstr(s.requests, "GET /autodiscover/autodiscover.json?Email=alice@127.0.0.1&"
                                     "Protocol=AutodiscoverV1 HTTP/1.1\r\n"
                                     "Host: outlook.office365.com\r\n"));
  assert_non_null(strstr(s.requests, "\r\nAccept: application/json"));
  sim_transcript_free(t);
}

static void test_o365_not_found_or_bad_goes_on(void **state) {
  struct scn_client cfg = settings_of("mailbox_in_exchange_online=1");
  struct server s;
  struct sim_transcript *t = walk_o365("{\"ErrorCode\":\"MailboxNotFound\"}", 404, &cfg, &s);
  assert_false(t->success);
  assert_int_equal(t->n_steps, 2);
  assert_int_equal(t->steps[1].result, SIM_R_NOT_AUTODISCOVER);
  assert_int_equal(t->steps[1].http_status, 404);
  sim_transcript_free(t);
  t = walk_o365("{\"Url\":\"https://x/\"", 200, &cfg, &s); /* truncated */
  assert_int_equal(t->steps[1].result, SIM_R_NOT_AUTODISCOVER);
  assert_non_null(strstr(t->steps[1].detail, "not an AutoDV2 answer"));
  sim_transcript_free(t);
  scn_client_cleanup(&cfg);
  cfg = settings_of("mailbox_in_exchange_online=1 ExcludeExplicitO365Endpoint=1");
  t = walk_o365(NULL, 0, &cfg, &s);
  scn_client_cleanup(&cfg);
  assert_int_equal(t->steps[1].result, SIM_R_SKIPPED);
  assert_non_null(strstr(t->steps[1].detail, "ExcludeExplicitO365Endpoint"));
  assert_int_equal(s.n_conns, 0);
  sim_transcript_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_redirect_to_http_is_refused),
      cmocka_unit_test(test_redirect_loop),
      cmocka_unit_test(test_post_3xx_consent_is_a_setting),
      cmocka_unit_test(test_401_credentials_cancelled),
      cmocka_unit_test(test_401_sso_prompts_when_not_silent),
      cmocka_unit_test(test_xml_error_goes_on),
      cmocka_unit_test(test_401_basic_prompts_then_succeeds),
      cmocka_unit_test(test_401_sso_is_silent),
      cmocka_unit_test(test_401_bearer_and_repeated),
      cmocka_unit_test(test_401_real_basic_sends_given_credentials),
      cmocka_unit_test(test_401_real_without_credentials_sends_none),
      cmocka_unit_test(test_401_real_sso_and_refused),
      cmocka_unit_test(test_401_real_basic_never_over_plain_http),
      cmocka_unit_test(test_o365_direct_connect),
      cmocka_unit_test(test_o365_not_found_or_bad_goes_on),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
