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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matching_transcript_holds),
      cmocka_unit_test(test_missing_prompt_points_at_the_expectation),
      cmocka_unit_test(test_unexpected_prompt_fails_an_empty_list),
      cmocka_unit_test(test_wrong_reason_and_outcome),
      cmocka_unit_test(test_unchecked_fields_are_ignored),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
