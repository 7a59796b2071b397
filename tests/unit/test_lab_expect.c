/* tests/unit/test_lab_expect.c: expectations against transcripts — each mismatch is one line
 * that points at the scenario, and a transcript that matches produces none. */
#include "lab/lab.h"
#include "tests/unit/testutil.h"

#include <string.h>

static struct sim_prompt cert_prompt = {
    .kind = SIM_PROMPT_CERTIFICATE, .host = "contoso.com", .reason = "expired", .accepted = true};

static struct sim_transcript expired_walk(void) {
  return (struct sim_transcript){
      .client = "outlook-2016-msi",
      .prompts = &cert_prompt,
      .n_prompts = 1,
      .success = true,
      .final_url = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
      .ews_url = "https://mail.contoso.com/EWS/Exchange.asmx",
  };
}

static struct scn_prompt_expect want_prompt = {.kind = "certificate",
                                               .host = "contoso.com",
                                               .reason = "expired",
                                               .mark = {.file = "s.yaml", .line = 20, .col = 17}};

static struct scn_expect expectation(void) {
  return (struct scn_expect){
      .client = "outlook-2016-msi",
      .has_prompts = true,
      .prompts = &want_prompt,
      .n_prompts = 1,
      .outcome = "settings",
      .final_url = "https://AUTODISCOVER.contoso.com/autodiscover/autodiscover.xml",
      .ews_url = "https://mail.contoso.com/EWS/Exchange.asmx",
      .mark = {.file = "s.yaml", .line = 19, .col = 3},
  };
}

static void test_matching_transcript_holds(void **state) {
  struct scn_expect e = expectation();
  struct sim_transcript t = expired_walk();
  struct buf f;
  buf_init(&f, 4096);
  assert_int_equal(lab_expect_check(&e, &t, &f), 0);
  assert_string_equal(buf_cstr(&f), "");
  buf_cleanup(&f);
}

static void test_missing_prompt_points_at_the_expectation(void **state) {
  struct scn_expect e = expectation();
  struct sim_transcript t = expired_walk();
  t.n_prompts = 0;
  struct buf f;
  buf_init(&f, 4096);
  assert_int_equal(lab_expect_check(&e, &t, &f), 1);
  assert_string_equal(buf_cstr(&f), "s.yaml:20:17: prompt: expected certificate contoso.com "
                                    "(expired), got no such prompt\n");
  buf_cleanup(&f);
}

static void test_unexpected_prompt_fails_an_empty_list(void **state) {
  struct scn_expect e = expectation();
  e.n_prompts = 0; /* prompts: [] */
  struct sim_transcript t = expired_walk();
  struct buf f;
  buf_init(&f, 4096);
  assert_int_equal(lab_expect_check(&e, &t, &f), 1);
  assert_string_equal(buf_cstr(&f), "s.yaml:19:3: prompts: expected no prompt, got an unexpected "
                                    "certificate contoso.com (expired)\n");
  buf_cleanup(&f);
}

static void test_wrong_reason_and_outcome(void **state) {
  struct scn_expect e = expectation();
  struct sim_transcript t = expired_walk();
  struct sim_prompt name = cert_prompt;
  name.reason = "name";
  t.prompts = &name;
  t.success = false;
  t.final_url = NULL;
  t.ews_url = NULL;
  struct buf f;
  buf_init(&f, 4096);
  assert_int_equal(lab_expect_check(&e, &t, &f), 4);
  assert_non_null(strstr(buf_cstr(&f), "got certificate contoso.com (name)"));
  assert_non_null(strstr(buf_cstr(&f), "outcome: expected settings, got failure"));
  assert_non_null(strstr(buf_cstr(&f), "final_url: expected https://AUTODISCOVER.contoso.com/"
                                       "autodiscover/autodiscover.xml, got nothing"));
  buf_cleanup(&f);
}

static void test_unchecked_fields_are_ignored(void **state) {
  struct scn_expect e = {.client = "mso-xdscli", .mark = {.file = "s.yaml", .line = 1, .col = 1}};
  struct sim_transcript t = expired_walk();
  t.success = false;
  struct buf f;
  buf_init(&f, 4096);
  assert_int_equal(lab_expect_check(&e, &t, &f), 0);
  buf_cleanup(&f);
}

static struct sim_step walk_steps[] = {
    {.name = "https-root", .result = SIM_R_NOT_AUTODISCOVER},
    {.name = "srv", .result = SIM_R_SKIPPED},
    {.name = "https-autodiscover", .result = SIM_R_SETTINGS},
};

static struct sim_transcript full_walk(void) {
  struct sim_transcript t = expired_walk();
  t.steps = walk_steps;
  t.n_steps = 3;
  t.settings_email = "user@contoso.com";
  t.total_ms = 1500;
  return t;
}

static const char *two_steps[] = {"https-root", "https-autodiscover"};

static void test_steps_skip_skipped_steps(void **state) {
  struct scn_expect e = expectation();
  e.has_steps = true;
  e.steps = (char **) two_steps;
  e.n_steps = 2;
  struct sim_transcript t = full_walk();
  struct buf f;
  buf_init(&f, 4096);
  assert_int_equal(lab_expect_check(&e, &t, &f), 0);
  assert_string_equal(buf_cstr(&f), "");
  buf_cleanup(&f);
}

static void test_steps_in_another_order_fail_once(void **state) {
  static const char *reversed[] = {"https-autodiscover", "https-root"};
  struct scn_expect e = expectation();
  e.has_steps = true;
  e.steps = (char **) reversed;
  e.n_steps = 2;
  struct sim_transcript t = full_walk();
  struct buf f;
  buf_init(&f, 4096);
  assert_int_equal(lab_expect_check(&e, &t, &f), 1);
  assert_string_equal(buf_cstr(&f), "s.yaml:19:3: steps: expected https-autodiscover, https-root, "
                                    "got https-root, https-autodiscover\n");
  buf_cleanup(&f);
}

static void test_steps_prefix_or_extra_fail(void **state) {
  struct scn_expect e = expectation();
  e.has_steps = true;
  e.steps = (char **) two_steps;
  e.n_steps = 1; /* expects only https-root: the walk tried one more */
  struct sim_transcript t = full_walk();
  struct buf f;
  buf_init(&f, 4096);
  assert_int_equal(lab_expect_check(&e, &t, &f), 1);
  assert_non_null(strstr(buf_cstr(&f), "steps: expected https-root, got https-root, "
                                       "https-autodiscover"));
  buf_reset(&f);
  e.n_steps = 2;
  t.n_steps = 1; /* the walk stopped after https-root */
  assert_int_equal(lab_expect_check(&e, &t, &f), 1);
  assert_non_null(strstr(buf_cstr(&f), "got https-root\n"));
  buf_reset(&f);
  e.n_steps = 0; /* steps: [] against a walk that tried something */
  assert_int_equal(lab_expect_check(&e, &t, &f), 1);
  assert_non_null(strstr(buf_cstr(&f), "steps: expected none, got https-root\n"));
  buf_cleanup(&f);
}

static void test_prompt_count(void **state) {
  struct scn_expect e = expectation();
  e.has_prompts = false;
  e.has_prompt_count = true;
  e.prompt_count = 2;
  struct sim_transcript t = full_walk();
  struct buf f;
  buf_init(&f, 4096);
  assert_int_equal(lab_expect_check(&e, &t, &f), 1);
  assert_string_equal(buf_cstr(&f), "s.yaml:19:3: prompt_count: expected 2, got 1\n");
  buf_reset(&f);
  e.prompt_count = 1;
  assert_int_equal(lab_expect_check(&e, &t, &f), 0);
  buf_cleanup(&f);
}

static void test_settings_email(void **state) {
  struct scn_expect e = expectation();
  e.settings_email = "USER@contoso.com";
  struct sim_transcript t = full_walk();
  struct buf f;
  buf_init(&f, 4096);
  assert_int_equal(lab_expect_check(&e, &t, &f), 0);
  t.settings_email = "alice@contoso.mail.onmicrosoft.com";
  assert_int_equal(lab_expect_check(&e, &t, &f), 1);
  assert_string_equal(buf_cstr(&f), "s.yaml:19:3: settings_email: expected USER@contoso.com, got "
                                    "alice@contoso.mail.onmicrosoft.com\n");
  buf_reset(&f);
  t.settings_email = NULL;
  assert_int_equal(lab_expect_check(&e, &t, &f), 1);
  assert_non_null(strstr(buf_cstr(&f), "got nothing"));
  buf_cleanup(&f);
}

static void test_max_wait(void **state) {
  struct scn_expect e = expectation();
  e.has_max_wait_ms = true;
  e.max_wait_ms = 25000;
  struct sim_transcript t = full_walk();
  t.total_ms = 25000; /* exactly the limit holds */
  struct buf f;
  buf_init(&f, 4096);
  assert_int_equal(lab_expect_check(&e, &t, &f), 0);
  t.total_ms = 42100;
  assert_int_equal(lab_expect_check(&e, &t, &f), 1);
  assert_string_equal(buf_cstr(&f), "s.yaml:19:3: max_wait: expected at most 25.0 s, got 42.1 s\n");
  buf_reset(&f);
  e.max_wait_ms = 500;
  t.total_ms = 730;
  assert_int_equal(lab_expect_check(&e, &t, &f), 1);
  assert_non_null(strstr(buf_cstr(&f), "expected at most 500 ms, got 730 ms"));
  buf_reset(&f);
  e.max_wait_ms = 15000;
  t.total_ms = 15000.2; /* both would read "15.0 s" */
  assert_int_equal(lab_expect_check(&e, &t, &f), 1);
  assert_non_null(strstr(buf_cstr(&f), "expected at most 15000 ms, got 15001 ms"));
  buf_cleanup(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matching_transcript_holds),
      cmocka_unit_test(test_missing_prompt_points_at_the_expectation),
      cmocka_unit_test(test_unexpected_prompt_fails_an_empty_list),
      cmocka_unit_test(test_wrong_reason_and_outcome),
      cmocka_unit_test(test_unchecked_fields_are_ignored),
      cmocka_unit_test(test_steps_skip_skipped_steps),
      cmocka_unit_test(test_steps_in_another_order_fail_once),
      cmocka_unit_test(test_steps_prefix_or_extra_fail),
      cmocka_unit_test(test_prompt_count),
      cmocka_unit_test(test_settings_email),
      cmocka_unit_test(test_max_wait),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
