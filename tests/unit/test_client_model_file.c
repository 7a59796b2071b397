/* tests/unit/test_client_model_file.c: users' own models (--client-file;
 * client/sim_model_file.c on scenario/scn_model.c) — every bad file in tests/data/bad/clients
 * fails with exactly the line of its .expect, and good ones walk with their steps, policy and
 * settings. Runs from tests/data. */
#include "tests/unit/test_client_fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *) a, *(char *const *) b);
}

/* check_bad loads bad/clients/NAME.yaml; false (with the difference printed) unless it fails
 * with the line of NAME.expect. */
static bool check_bad(const char *name) {
  char yaml[512], expect[512], want[2048] = "";
  buf_fmt(yaml, sizeof yaml, "bad/clients/%s.yaml", name);
  buf_fmt(expect, sizeof expect, "bad/clients/%s.expect", name);
  FILE *f = fopen(expect, "r");
  if (f == NULL || fgets(want, sizeof want, f) == NULL) {
    print_error("%s: no %s\n", yaml, expect);
    if (f != NULL) {
      fclose(f);
    }
    return false;
  }
  fclose(f);
  want[strcspn(want, "\r\n")] = 0;
  char err[2048] = "";
  struct sim_model *m = sim_model_load(yaml, err, sizeof err);
  bool ok = m == NULL && strcmp(err, want) == 0;
  if (!ok) {
    print_error("%s:\n  got:      %s\n  expected: %s\n", yaml, m != NULL ? "(loaded)" : err, want);
  }
  sim_model_free(m);
  return ok;
}

static void test_bad_files(void **state) {
  DIR *d = opendir("bad/clients");
  assert_non_null(d);
  char **names = NULL;
  size_t n = 0;
  struct dirent *ent;
  while ((ent = readdir(d)) != NULL) {
    size_t len = strlen(ent->d_name);
    if (len > 5 && strcmp(ent->d_name + len - 5, ".yaml") == 0) {
      names = xrealloc_array(names, n + 1, sizeof *names);
      names[n++] = str_ndup(ent->d_name, len - 5);
    }
  }
  closedir(d);
  qsort(names, n, sizeof *names, by_name);
  size_t failed = 0;
  for (size_t i = 0; i < n; i++) {
    failed += !check_bad(names[i]);
    free(names[i]);
  }
  free(names);
  assert_true(n >= 15);
  assert_int_equal(failed, 0);
  char err[256] = "";
  assert_null(sim_model_load("bad/clients/no-such-file.yaml", err, sizeof err));
  assert_non_null(strstr(err, "bad/clients/no-such-file.yaml: "));
}

static void test_own_steps_policy_and_settings(void **state) {
  char err[1024] = "";
  struct sim_model *m = sim_model_load("client/model-srv-first.yaml", err, sizeof err);
  if (m == NULL) {
    fail_msg("%s", err);
  }
  assert_string_equal(sim_model_name(m), "srv-first");
  assert_string_equal(sim_model_summary(m), "SRV before everything, silent about names");
  assert_int_equal(sim_model_office(m), 16);
  assert_null(sim_model_product(m));
  char steps[256];
  sim_model_steps(m, steps, sizeof steps);
  assert_string_equal(steps, "srv, https-root, https-autodiscover");
  const struct scn_client *d = sim_model_defaults(m);
  assert_int_equal(d->certificate_prompts,
                   SCN_CERT_UNTRUSTED | SCN_CERT_EXPIRED | SCN_CERT_NOT_YET_VALID);
  assert_int_equal(d->srv_choice, SCN_SRV_LARGEST);
  assert_true(d->exclude_https_autodiscover_domain);
  assert_int_equal(d->max_redirects, 10); /* the plain protocol's, not given */
  assert_int_equal(d->certificate_accepted, 0);
  assert_string_equal(d->user_agent, "srv-first/1.0");
  /* walked through a server whose certificate names mail.example, not 127.0.0.1: the name
   * failure is not prompted for, the step fails silently; SRV came first (fake DNS) */
  struct server s;
  server_start(&s, "/redirected/autodiscover.xml");
  struct sim_transcript *t = walk_run(&(struct walk){
      .model = m, .servers = {&s}, .trust = s.pem, .fake_dns = true, .email = "alice@127.0.0.1"});
  server_stop(&s);
  assert_string_equal(t->client, "srv-first");
  assert_string_equal(t->steps[0].name, "srv");
  assert_string_equal(t->steps[0].dns_answer, "0 10 443 low.test, 10 10 443 high.test");
  assert_string_equal(t->steps[1].url, "https://high.test/Autodiscover/Autodiscover.xml");
  assert_int_equal(t->n_steps, 4); /* srv, its one target (largest), root, autodiscover. */
  for (size_t i = 0; i < t->n_prompts; i++) {
    assert_int_not_equal(t->prompts[i].kind, SIM_PROMPT_CERTIFICATE);
  }
  size_t root = t->n_steps - 2;
  assert_string_equal(t->steps[root].name, "https-root");
  assert_int_equal(t->steps[root].result, SIM_R_TLS_FAILED);
  assert_non_null(strstr(t->steps[root].detail, "fails silently"));
  assert_string_equal(t->steps[root + 1].name, "https-autodiscover");
  assert_int_equal(t->steps[root + 1].result, SIM_R_SKIPPED);
  sim_transcript_free(t);
  sim_model_free(m);
}

static void test_based_on_a_built_in_model(void **state) {
  char err[1024] = "";
  struct sim_model *m = sim_model_load("client/model-based.yaml", err, sizeof err);
  if (m == NULL) {
    fail_msg("%s", err);
  }
  const struct sim_model *base = sim_model_named("outlook-m365");
  assert_int_equal(sim_model_office(m), 16);
  char a[256], b[256];
  sim_model_steps(m, a, sizeof a);
  sim_model_steps(base, b, sizeof b);
  assert_string_equal(a, b);
  assert_non_null(strstr(sim_model_summary(m), "based on outlook-m365"));
  const struct scn_client *d = sim_model_defaults(m);
  assert_true(d->exclude_explicit_o365_endpoint);
  assert_string_equal(d->restart_cache, "client/local-settings.xml"); /* from the file's folder */
  assert_string_equal(d->user_agent, sim_model_defaults(base)->user_agent);
  assert_int_equal(d->certificate_accepted, SCN_CERT_WEAK_SIGNATURE | SCN_CERT_WEAK_KEY);
  /* in the restart case it reads the cache and needs no network */
  struct sim_transcript *t = walk_run(&(struct walk){.model = m});
  assert_true(t->success);
  assert_int_equal(t->n_steps, 1);
  assert_string_equal(t->steps[0].name, "restart-cache");
  assert_string_equal(t->ews_url, "https://mail.contoso.com/EWS/Exchange.asmx");
  sim_transcript_free(t);
  sim_model_free(m);
  sim_model_free((struct sim_model *) base); /* a built-in model: nothing happens */
  assert_non_null(sim_model_named("outlook-m365"));
}

static int to_data(void **state) {
  const char *data = getenv("AD_TEST_DATA");
  assert_non_null(data);
  assert_int_equal(chdir(data), 0);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_files),
      cmocka_unit_test(test_own_steps_policy_and_settings),
      cmocka_unit_test(test_based_on_a_built_in_model),
  };
  return cmocka_run_group_tests(tests, to_data, NULL);
}
