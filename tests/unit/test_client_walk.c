/* tests/unit/test_client_walk.c: the step driver (client/sim_walk.c) — what sim_walk_start
 * refuses and the sentence it says why, a whole walk from the root's 302 to settings, the
 * local XML file, SCP candidates, the cached URL, and the consent prompt before a redirect. */
#include "tests/unit/test_client_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* start_fails checks that sim_walk_start refuses with `want` and says `sentence`. */
static void start_fails(const struct sim_env *env, const struct sim_model *m, const char *email,
                        enum sim_status want, const char *sentence) {
  struct walk_result r = {0};
  struct sim_walk *w = (struct sim_walk *) &r; /* must become NULL */
  char err[512] = "";
  assert_int_equal(sim_walk_start(&w, env, m, NULL, email, walk_done, &r, err, sizeof err), want);
  assert_null(w);
  assert_string_equal(err, sentence);
  assert_int_equal(r.n_done, 0);
}

static void test_bad_arguments(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct sim_env env;
  env_init(&env, &loop, 53, 0);
  const struct sim_model *m = sim_model_named("mso-xdscli");
  start_fails(&env, m, "no-at-sign", SIM_EINVAL,
              "\"no-at-sign\" is not an e-mail address (local-part@domain)");
  start_fails(&env, m, "alice@", SIM_EINVAL,
              "\"alice@\" is not an e-mail address (local-part@domain)");
  start_fails(&env, NULL, "a@b.c", SIM_EINVAL,
              "the walk needs a loop, a client model and a done callback");
  start_fails(&env, m, NULL, SIM_EINVAL,
              "the e-mail address is missing or longer than 254 characters");
  test_loop_close(&loop);
}

/* The progress callback's record: every call, as "step:doing" or "step:=result". */
struct progress_log {
  char text[4096];
  size_t len;
  size_t last_known;
  int n_calls;
};

static void on_progress(void *arg, const struct sim_progress *p) {
  struct progress_log *log = arg;
  assert_string_equal(p->client, "outlook-2016-msi");
  assert_non_null(p->step_name);
  assert_true(p->n_steps_known > p->step);
  log->last_known = p->n_steps_known;
  log->n_calls++;
  int n = snprintf(log->text + log->len, sizeof log->text - log->len, "%zu:%s%s|", p->step,
                   p->ended ? "=" : "", p->doing);
  assert_true(n > 0 && (size_t) n < sizeof log->text - log->len);
  log->len += (size_t) n;
}

static void test_progress_follows_the_attempt(void **state) {
  struct server s;
  server_start(&s, "/redirected/autodiscover.xml");
  struct sim_model m = root_only();
  struct progress_log log = {0};
  struct sim_transcript *t = walk_run(&(struct walk){
      .model = &m, .servers = {&s}, .trust = s.pem, .progress = on_progress, .progress_arg = &log});
  server_stop(&s);
  assert_true(t->success);
  assert_int_equal(t->clock, SIM_CLOCK_REAL); /* no lab clock in walk_run without lab_clock */
  /* the root: an address literal, so no DNS; its 302 queues the redirect, which has settings */
  assert_string_equal(log.text, "0:starting|0:connecting|0:TLS handshake|0:checking the "
                                "certificate|0:sending the request|0:waiting for the answer|"
                                "0:reading the answer|0:=redirect|"
                                "1:starting|1:connecting|1:TLS handshake|1:checking the "
                                "certificate|1:sending the request|1:waiting for the answer|"
                                "1:reading the answer|1:=settings|");
  assert_int_equal(log.last_known, 2);
  sim_transcript_free(t);
}

static void test_unreadable_trust_store_says_why(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct sim_env env;
  env_init(&env, &loop, 53, 0);
  const struct sim_model *m = sim_model_named("mso-xdscli");
  env.trust_pem = "/nonexistent/ca.pem";
  start_fails(&env, m, "a@b.c", SIM_EIO,
              "cannot read the trust store /nonexistent/ca.pem: No such file or directory");
  char *dir = test_tmpdir("client-trust");
  char path[4096];
  buf_fmt(path, sizeof path, "%s/ca.pem", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("not a certificate\n", f);
  fclose(f);
  env.trust_pem = path;
  char want[4200];
  buf_fmt(want, sizeof want, "cannot read the trust store %s: no PEM certificate in it", path);
  start_fails(&env, m, "a@b.c", SIM_EIO, want);
  test_rmtree(dir);
  free(dir);
  test_loop_close(&loop);
}

static void test_strerror(void **state) {
  for (int st = SIM_OK; st <= SIM_ENOMEM; st++) {
    const char *text = sim_strerror((enum sim_status) st);
    assert_non_null(text);
    assert_string_not_equal(text, "unknown status");
  }
  assert_string_equal(sim_strerror(SIM_EIO), "the trust store cannot be read");
}

static void test_prompt_redirect_settings(void **state) {
  struct server s;
  server_start(&s, "/redirected/autodiscover.xml");
  struct sim_model m = classic();
  struct sim_transcript *t = walk_run(&(struct walk){.model = &m, .servers = {&s}, .trust = s.pem});
  server_stop(&s);

  assert_true(t->success);
  assert_int_equal(t->n_steps, 2);
  struct sim_step *root = &t->steps[0];
  assert_string_equal(root->name, "https-root");
  assert_string_equal(root->url, "https://127.0.0.1/autodiscover/autodiscover.xml");
  assert_int_equal(root->result, SIM_R_REDIRECT);
  assert_int_equal(root->http_status, 302);
  assert_string_equal(root->redirect_to, "https://127.0.0.1/redirected/autodiscover.xml");
  assert_int_equal(root->cert_failures, SIM_CERT_NAME); /* trusted, in date, wrong name */
  assert_string_equal(root->cert_subject, "mail.example");
  assert_string_equal(root->cert_issuer, "mail.example");
  assert_string_equal(root->dns_answer, "127.0.0.1");
  struct sim_step *red = &t->steps[1];
  assert_string_equal(red->name, "redirect");
  assert_int_equal(red->result, SIM_R_SETTINGS);
  assert_int_equal(red->http_status, 200);
  assert_string_equal(t->final_url, "https://127.0.0.1/redirected/autodiscover.xml");
  assert_string_equal(t->ews_url, "https://mail.example/EWS/Exchange.asmx");
  assert_string_equal(t->server, "mail.example");
  assert_string_equal(t->settings_email, "alice@127.0.0.1");
  assert_int_equal(t->n_prompts, 2);
  assert_int_equal(t->prompts[0].kind, SIM_PROMPT_CERTIFICATE);
  assert_string_equal(t->prompts[0].host, "127.0.0.1");
  assert_string_equal(t->prompts[0].reason, "name");
  assert_true(t->prompts[0].accepted);
  assert_int_equal(t->prompts[0].step, 0);
  assert_int_equal(t->prompts[1].step, 1);
  /* the requests as Outlook sends them */
  assert_non_null(strstr(s.requests, "POST /autodiscover/autodiscover.xml HTTP/1.1\r\n"
                                     "Host: 127.0.0.1\r\nContent-Type: text/xml\r\n"));
  assert_non_null(strstr(s.requests, "X-AnchorMailbox: alice@127.0.0.1\r\n"));
  assert_non_null(strstr(s.requests, "POST /redirected/autodiscover.xml HTTP/1.1\r\n"));
  sim_transcript_free(t);
}

/* --- local XML, SCP, cached URL --- */

static void test_local_xml_preferred(void **state) {
  char path[4096];
  test_data_path(path, sizeof path, "client/local-settings.xml");
  struct scn_client cfg = settings_of("PreferLocalXML=1 local_xml=%s", path);
  struct sim_transcript *t =
      walk_run(&(struct walk){.model = sim_model_named("outlook-2016-msi"), .cfg = &cfg});
  scn_client_cleanup(&cfg);
  assert_true(t->success);
  assert_int_equal(t->n_steps, 1); /* no network at all (L-37) */
  assert_string_equal(t->steps[0].name, "local-xml");
  assert_int_equal(t->steps[0].result, SIM_R_SETTINGS);
  char want[4200];
  buf_fmt(want, sizeof want, "file://%s", path);
  assert_string_equal(t->final_url, want);
  assert_string_equal(t->steps[0].url, want);
  assert_string_equal(t->ews_url, "https://mail.contoso.com/EWS/Exchange.asmx");
  assert_string_equal(t->settings_email, "alice@contoso.com");
  sim_transcript_free(t);
}

static void test_local_xml_late_bad_and_missing(void **state) {
  char path[4096];
  test_data_path(path, sizeof path, "client/local-not-autodiscover.xml");
  struct scn_client cfg = settings_of("local_xml=%s", path);
  struct walk walk = {.model = sim_model_named("outlook-2007"), .cfg = &cfg};
  struct sim_transcript *t = walk_run(&walk);
  assert_false(t->success);
  assert_int_equal(t->n_steps, 6);
  assert_string_equal(t->steps[5].name, "local-xml"); /* last for 2007 */
  assert_int_equal(t->steps[5].result, SIM_R_NOT_AUTODISCOVER);
  assert_non_null(strstr(t->steps[5].detail, "local XML"));
  sim_transcript_free(t);
  scn_client_cleanup(&cfg);
  cfg = settings_of("local_xml=/nonexistent/contoso.xml PreferLocalXML=1");
  t = walk_run(&walk);
  scn_client_cleanup(&cfg);
  assert_string_equal(t->steps[0].name, "local-xml");
  assert_int_equal(t->steps[0].result, SIM_R_NO_CANDIDATE);
  assert_non_null(strstr(t->steps[0].detail, "cannot be read"));
  assert_int_equal(t->n_steps, 6); /* and the walk went on */
  sim_transcript_free(t);
}

static void test_restart_cache_unreadable_ends_the_run(void **state) {
  /* KB 3211279 step 1: in the restart case a failed read fails the whole run */
  struct server s;
  server_start(&s, "/redirected/autodiscover.xml");
  struct scn_client cfg = settings_of("restart_cache=/nonexistent/autod.xml");
  struct sim_transcript *t = walk_run(&(struct walk){
      .model = sim_model_named("outlook-m365"), .cfg = &cfg, .servers = {&s}, .trust = s.pem});
  scn_client_cleanup(&cfg);
  assert_false(t->success);
  assert_int_equal(t->n_steps, 1);
  assert_string_equal(t->steps[0].name, "restart-cache");
  assert_string_equal(t->steps[0].url, "file:///nonexistent/autod.xml");
  assert_non_null(strstr(t->steps[0].detail, "cannot be read"));
  assert_non_null(strstr(t->steps[0].detail, "KB 3211279 step 1"));
  assert_int_equal(s.n_conns, 0); /* nothing later was tried */
  sim_transcript_free(t);
  /* a file that holds no settings ends it the same way */
  char path[4096];
  test_data_path(path, sizeof path, "client/local-not-autodiscover.xml");
  cfg = settings_of("restart_cache=%s", path);
  t = walk_run(&(struct walk){
      .model = sim_model_named("outlook-m365"), .cfg = &cfg, .servers = {&s}, .trust = s.pem});
  server_stop(&s);
  scn_client_cleanup(&cfg);
  assert_false(t->success);
  assert_int_equal(t->n_steps, 1);
  assert_int_equal(t->steps[0].result, SIM_R_NOT_AUTODISCOVER);
  sim_transcript_free(t);
}

static void test_scp_candidates_in_order(void **state) {
  struct server s;
  server_start(&s, "/unused");
  char *scp[] = {"https://127.0.0.1/err", "https://127.0.0.1/redirected/autodiscover.xml"};
  struct scn_client cfg = settings_of("domain_joined=1");
  struct walk walk = {.model = sim_model_named("outlook-2016-msi"),
                      .cfg = &cfg,
                      .servers = {&s},
                      .trust = s.pem,
                      .scp_urls = scp,
                      .n_scp_urls = 2};
  struct sim_transcript *t = walk_run(&walk);
  assert_true(t->success);
  assert_int_equal(t->n_steps, 3);
  assert_int_equal(t->steps[0].result, SIM_R_SKIPPED); /* nothing cached */
  assert_string_equal(t->steps[1].name, "scp");
  assert_string_equal(t->steps[1].url, "https://127.0.0.1/err");
  assert_int_equal(t->steps[1].result, SIM_R_XML_ERROR);
  assert_string_equal(t->steps[2].name, "scp");
  assert_int_equal(t->steps[2].result, SIM_R_SETTINGS);
  assert_string_equal(t->final_url, "https://127.0.0.1/redirected/autodiscover.xml");
  sim_transcript_free(t);
  /* not domain-joined: the lookup is skipped whatever the directory holds */
  scn_client_cleanup(&cfg);
  cfg = settings_of("domain_joined=0");
  t = walk_run(&walk);
  assert_string_equal(t->steps[1].name, "scp");
  assert_int_equal(t->steps[1].result, SIM_R_SKIPPED);
  assert_string_equal(t->steps[2].name, "https-root");
  sim_transcript_free(t);
  /* domain-joined, nothing found */
  scn_client_cleanup(&cfg);
  cfg = settings_of("domain_joined=1 ExcludeHttpsRootDomain=1");
  walk.n_scp_urls = 0;
  t = walk_run(&walk);
  assert_string_equal(t->steps[1].name, "scp");
  assert_int_equal(t->steps[1].result, SIM_R_NO_CANDIDATE);
  sim_transcript_free(t);
  /* the client's own SCP answer stands for the directory's */
  scn_client_cleanup(&cfg);
  cfg = settings_of("domain_joined=1 scp_urls=https://127.0.0.1/redirected/autodiscover.xml");
  walk.n_scp_urls = 2;
  t = walk_run(&walk);
  scn_client_cleanup(&cfg);
  assert_true(t->success);
  assert_int_equal(t->n_steps, 2);
  assert_string_equal(t->steps[1].url, "https://127.0.0.1/redirected/autodiscover.xml");
  sim_transcript_free(t);
  cfg = settings_of("domain_joined=1 ExcludeHttpsRootDomain=1");
  walk.n_scp_urls = 0;
  t = walk_run(&walk);
  scn_client_cleanup(&cfg);
  server_stop(&s);
  assert_string_equal(t->steps[1].name, "scp");
  assert_int_equal(t->steps[1].result, SIM_R_NO_CANDIDATE);
  sim_transcript_free(t);
}

static void test_last_known_good_hit(void **state) {
  struct server s;
  server_start(&s, "/unused");
  struct scn_client cfg =
      settings_of("last_known_good_url=https://127.0.0.1/redirected/autodiscover.xml");
  struct sim_transcript *t = walk_run(&(struct walk){
      .model = sim_model_named("outlook-2010"), .cfg = &cfg, .servers = {&s}, .trust = s.pem});
  scn_client_cleanup(&cfg);
  server_stop(&s);
  assert_true(t->success);
  assert_int_equal(t->n_steps, 1); /* L-35: the root is never tried */
  assert_string_equal(t->steps[0].name, "last-known-good");
  sim_transcript_free(t);
}

/* --- consent prompts --- */

/* walk_http_redirect takes the HTTP redirect step alone: `plain` answers the GET with a 302 to
 * the TLS host's /redirected/autodiscover.xml. */
static struct sim_transcript *walk_http_redirect(struct scn_client *cfg, struct server *plain) {
  struct server s;
  server_start(&s, "/unused");
  plain_start(plain, false, "https://127.0.0.1/redirected/autodiscover.xml");
  struct sim_model m = one_step("outlook-2016-msi", SIM_STEP_HTTP_REDIRECT);
  int n_queries = 0;
  struct sim_transcript *t = walk_run(&(struct walk){.model = &m,
                                                     .cfg = cfg,
                                                     .servers = {&s, plain},
                                                     .trust = s.pem,
                                                     .fake_dns = true,
                                                     .out_dns_queries = &n_queries});
  server_stop(&s);
  server_stop(plain);
  assert_true(n_queries >= 1);
  return t;
}

static void test_http_redirect_consent(void **state) {
  struct scn_client cfg = {0};
  struct server plain;
  struct sim_transcript *t = walk_http_redirect(&cfg, &plain);
  assert_true(t->success);
  assert_int_equal(t->n_steps, 2);
  assert_string_equal(t->steps[0].name, "http-redirect");
  assert_string_equal(t->steps[0].dns_answer, "127.0.0.1");
  assert_int_equal(t->steps[0].result, SIM_R_REDIRECT);
  assert_int_equal(t->n_prompts, 2); /* consent, then the certificate's name */
  assert_int_equal(t->prompts[0].kind, SIM_PROMPT_REDIRECT);
  assert_string_equal(t->prompts[0].host, "127.0.0.1");
  assert_true(t->prompts[0].accepted);
  assert_non_null(strstr(plain.requests, "GET /autodiscover/autodiscover.xml HTTP/1.1\r\n"));
  sim_transcript_free(t);
}

static void test_redirect_servers_suppress_consent(void **state) {
  struct scn_client cfg = settings_of("RedirectServers=127.0.0.1");
  struct server plain;
  struct sim_transcript *t = walk_http_redirect(&cfg, &plain);
  scn_client_cleanup(&cfg);
  assert_true(t->success);
  assert_int_equal(t->n_prompts, 1);
  assert_int_equal(t->prompts[0].kind, SIM_PROMPT_CERTIFICATE); /* no consent prompt */
  assert_non_null(strstr(t->steps[1].detail, "RedirectServers"));
  sim_transcript_free(t);
}

static void test_redirect_declined(void **state) {
  struct scn_client cfg = settings_of("redirect_prompt_answer=no");
  struct server plain;
  struct sim_transcript *t = walk_http_redirect(&cfg, &plain);
  scn_client_cleanup(&cfg);
  assert_false(t->success);
  assert_int_equal(t->n_prompts, 1);
  assert_int_equal(t->prompts[0].kind, SIM_PROMPT_REDIRECT);
  assert_false(t->prompts[0].accepted);
  assert_int_equal(t->n_steps, 2);
  assert_string_equal(t->steps[1].name, "redirect");
  assert_int_equal(t->steps[1].result, SIM_R_REJECTED);
  assert_non_null(strstr(t->steps[1].detail, "declined"));
  assert_null(t->steps[1].dns_answer); /* nothing was asked */
  sim_transcript_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_unreadable_trust_store_says_why),
      cmocka_unit_test(test_progress_follows_the_attempt),
      cmocka_unit_test(test_strerror),
      cmocka_unit_test(test_prompt_redirect_settings),
      cmocka_unit_test(test_local_xml_preferred),
      cmocka_unit_test(test_local_xml_late_bad_and_missing),
      cmocka_unit_test(test_restart_cache_unreadable_ends_the_run),
      cmocka_unit_test(test_scp_candidates_in_order),
      cmocka_unit_test(test_last_known_good_hit),
      cmocka_unit_test(test_http_redirect_consent),
      cmocka_unit_test(test_redirect_servers_suppress_consent),
      cmocka_unit_test(test_redirect_declined),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
