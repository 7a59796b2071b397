/* tests/unit/test_client_resolve.c: the walk's DNS (client/sim_resolve.c) — a server that never
 * answers and one that refuses, in every step that asks DNS; a timeout on the lab clock booked
 * at its nominal length; SRV answers ordered by the policy. */
#include "tests/unit/test_client_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_dns_timeout_every_step(void **state) {
  uint16_t port;
  int silent = udp_port(&port);
  struct scn_client cfg = settings_of("ExcludeHttpsRootDomain=1");
  char *journal = NULL;
  double ms = 0;
  struct sim_transcript *t = walk_run(&(struct walk){.model = sim_model_named("mso-xdscli"),
                                                     .cfg = &cfg,
                                                     .email = "alice@contoso.com",
                                                     .dns_port = port,
                                                     .timeout_ms = 200,
                                                     .out_journal = &journal,
                                                     .out_real_ms = &ms});
  scn_client_cleanup(&cfg);
  close(silent);
  assert_false(t->success);
  assert_string_equal(t->client, "mso-xdscli");
  assert_int_equal(t->n_steps, 5);
  assert_int_equal(t->steps[0].result, SIM_R_SKIPPED); /* scp: not domain-joined */
  assert_non_null(strstr(t->steps[0].detail, "not domain-joined"));
  assert_int_equal(t->steps[1].result, SIM_R_SKIPPED);
  assert_string_equal(t->steps[1].url, "https://contoso.com/autodiscover/autodiscover.xml");
  assert_non_null(strstr(t->steps[1].detail, "ExcludeHttpsRootDomain"));
  const char *names[] = {"scp", "https-root", "https-autodiscover", "srv", "http-redirect"};
  for (size_t i = 0; i < 5; i++) {
    assert_string_equal(t->steps[i].name, names[i]);
    if (i > 1) {
      assert_int_equal(t->steps[i].result, SIM_R_DNS_FAILED);
      assert_string_equal(t->steps[i].dns_error, "timeout");
      assert_true(t->steps[i].timed_out);
      assert_true(t->steps[i].elapsed_ms >= 150);
    } else {
      assert_false(t->steps[i].timed_out);
    }
  }
  assert_string_equal(t->steps[2].host, "autodiscover.contoso.com");
  assert_string_equal(t->steps[3].host, "_autodiscover._tcp.contoso.com");
  assert_int_equal(t->n_prompts, 0);
  assert_true(ms < 3000);
  size_t n_start = 0;
  for (const char *p = journal; (p = strstr(p, "\"ev\":\"step.start\"")) != NULL; p++) {
    n_start++;
  }
  assert_int_equal(n_start, 5);
  assert_non_null(strstr(journal, "\"ev\":\"result\""));
  assert_non_null(strstr(journal, "\"result\":\"dns-failed\""));
  free(journal);
  sim_transcript_free(t);
}

static void test_dns_refused_is_quick(void **state) {
  double ms = 0;
  struct sim_transcript *t = walk_run(&(struct walk){.model = sim_model_named("outlook-2016-msi"),
                                                     .email = "bob@fabrikam.com",
                                                     .timeout_ms = 5000,
                                                     .out_real_ms = &ms});
  assert_true(ms < 4000);
  /* KB 3211279 without the Office 365 steps; nothing cached, not domain-joined, no XML file */
  const char *names[] = {"last-known-good", "scp",           "https-root", "https-autodiscover",
                         "local-xml",       "http-redirect", "srv"};
  assert_int_equal(t->n_steps, 7);
  for (size_t i = 0; i < t->n_steps; i++) {
    assert_string_equal(t->steps[i].name, names[i]);
    if (i == 0 || i == 1 || i == 4) {
      assert_int_equal(t->steps[i].result, SIM_R_SKIPPED);
      continue;
    }
    assert_int_equal(t->steps[i].result, SIM_R_DNS_FAILED);
    assert_non_null(t->steps[i].dns_error);
  }
  sim_transcript_free(t);
}

static void test_lab_clock_dns_timeout(void **state) {
  uint16_t port;
  int silent = udp_port(&port);
  struct sim_model m = classic();
  m.n_steps = 2; /* root, autodiscover. */
  double real_ms = 0;
  struct sim_transcript *t = walk_run(&(struct walk){.model = &m,
                                                     .email = "alice@contoso.com",
                                                     .dns_port = port,
                                                     .lab_clock = true,
                                                     .out_real_ms = &real_ms});
  close(silent);
  assert_int_equal(t->n_steps, 2);
  for (size_t i = 0; i < 2; i++) {
    assert_string_equal(t->steps[i].dns_error, "timeout");
    assert_true(t->steps[i].timed_out);
    assert_true(t->steps[i].elapsed_ms >= 5000); /* booked at the nominal 5 s */
    assert_true(t->steps[i].elapsed_ms < 6000);
  }
  assert_true(t->total_ms >= 10000);
  assert_true(real_ms < 2000);
  sim_transcript_free(t);
}

/* walk_srv takes the srv step alone against the fake DNS server's two records. */
static struct sim_transcript *walk_srv(bool largest) {
  struct server s;
  server_start(&s, "/unused");
  struct sim_model m = one_step("outlook-2016-msi", SIM_STEP_SRV);
  struct scn_client cfg = {0};
  char err[256];
  if (largest) {
    assert_int_equal(scn_client_set(&cfg, "srv_choice=largest", err, sizeof err), SCN_OK);
  }
  struct sim_transcript *t = walk_run(&(struct walk){
      .model = &m, .cfg = &cfg, .servers = {&s, NULL}, .trust = s.pem, .fake_dns = true});
  scn_client_cleanup(&cfg);
  server_stop(&s);
  return t;
}

static void test_srv_largest_wins_setting(void **state) {
  struct sim_transcript *t = walk_srv(false);
  assert_string_equal(t->steps[0].name, "srv");
  assert_string_equal(t->steps[0].url, "https://low.test/Autodiscover/Autodiscover.xml");
  assert_string_equal(t->steps[0].dns_answer, "0 10 443 low.test, 10 10 443 high.test");
  assert_int_equal(t->n_steps, 3);
  assert_string_equal(t->steps[1].url, "https://low.test/Autodiscover/Autodiscover.xml");
  assert_string_equal(t->steps[2].url, "https://high.test/Autodiscover/Autodiscover.xml");
  sim_transcript_free(t);
  t = walk_srv(true); /* the largest priority only */
  assert_int_equal(t->n_steps, 2);
  assert_string_equal(t->steps[0].url, "https://high.test/Autodiscover/Autodiscover.xml");
  assert_string_equal(t->steps[1].url, "https://high.test/Autodiscover/Autodiscover.xml");
  assert_non_null(strstr(t->steps[0].detail, "1 SRV target to try (1 ignored)"));
  sim_transcript_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dns_timeout_every_step),
      cmocka_unit_test(test_dns_refused_is_quick),
      cmocka_unit_test(test_lab_clock_dns_timeout),
      cmocka_unit_test(test_srv_largest_wins_setting),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
