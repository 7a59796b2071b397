/* tests/unit/test_lab_diff.c: what changes between two walks of one client — prompts gone or
 * new, steps, outcome, settings, waiting time — in words and as JSON. */
#include "lab/lab.h"
#include "tests/unit/testutil.h"

#include <stdlib.h>
#include <string.h>

#define FINAL "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"

static struct sim_prompt expired = {
    .kind = SIM_PROMPT_CERTIFICATE, .host = "contoso.com", .reason = "expired", .accepted = true};

static struct sim_step before_steps[] = {
    {.name = "https-root", .result = SIM_R_NOT_AUTODISCOVER},
    {.name = "https-autodiscover", .result = SIM_R_SETTINGS},
};
static struct sim_step after_steps[] = {
    {.name = "https-root", .result = SIM_R_DNS_FAILED},
    {.name = "https-autodiscover", .result = SIM_R_SETTINGS},
};

static struct sim_transcript walk(struct sim_step *steps, struct sim_prompt *p, size_t n_prompts) {
  return (struct sim_transcript){
      .client = "outlook-2016-msi",
      .steps = steps,
      .n_steps = 2,
      .prompts = p,
      .n_prompts = n_prompts,
      .success = true,
      .final_url = FINAL,
      .settings_email = "user@contoso.com",
      .ews_url = "https://mail.contoso.com/EWS/Exchange.asmx",
      .total_ms = 40,
  };
}

static char *text_of(const struct sim_transcript *b, const struct sim_transcript *a) {
  struct lab_diff d;
  struct buf out;
  buf_init(&out, 64 * 1024);
  lab_diff_init(&d, b, a);
  lab_diff_text(&d, &out);
  lab_diff_cleanup(&d);
  return buf_take(&out);
}

static void test_prompt_goes_away_nothing_else(void **state) {
  struct sim_transcript b = walk(before_steps, &expired, 1);
  struct sim_transcript a = walk(after_steps, NULL, 0);
  a.total_ms = 55; /* lab noise, not a change */
  char *text = text_of(&b, &a);
  assert_string_equal(text, "outlook-2016-msi: the certificate prompt for contoso.com (expired) "
                            "goes away; nothing else changes (same settings from " FINAL ").\n");
  free(text);
}

static void test_nothing_changes(void **state) {
  struct sim_transcript b = walk(before_steps, &expired, 1);
  struct lab_diff d;
  lab_diff_init(&d, &b, &b);
  assert_false(lab_diff_changed(&d));
  lab_diff_cleanup(&d);
  char *text = text_of(&b, &b);
  assert_string_equal(text, "outlook-2016-msi: nothing changes (same settings from " FINAL ").\n");
  free(text);
  b.success = false;
  text = text_of(&b, &b);
  assert_string_equal(text, "outlook-2016-msi: nothing changes (still no settings).\n");
  free(text);
}

static void test_new_prompt_steps_and_wait(void **state) {
  static struct sim_step longer[] = {
      {.name = "https-root", .result = SIM_R_CONNECT_FAILED},
      {.name = "srv", .result = SIM_R_SKIPPED},
      {.name = "https-autodiscover", .result = SIM_R_CONNECT_FAILED},
      {.name = "http-redirect", .result = SIM_R_REDIRECT},
      {.name = "redirect", .result = SIM_R_SETTINGS},
  };
  struct sim_transcript b = walk(before_steps, NULL, 0);
  struct sim_transcript a = walk(longer, &expired, 1);
  a.n_steps = 5;
  a.total_ms = 42000;
  struct lab_diff d;
  lab_diff_init(&d, &b, &a);
  assert_true(lab_diff_changed(&d));
  assert_int_equal(d.n_prompts_new, 1);
  assert_int_equal(d.n_prompts_gone, 0);
  assert_int_equal(d.n_steps_gone, 0);
  assert_int_equal(d.n_steps_new, 2); /* the skipped srv step is not tried */
  assert_string_equal(d.steps_new[0], "http-redirect");
  assert_string_equal(d.steps_new[1], "redirect");
  assert_true(d.wait_changed);
  assert_false(d.final_url_changed);
  lab_diff_cleanup(&d);
  char *text = text_of(&b, &a);
  assert_string_equal(text, "outlook-2016-msi: a new certificate prompt for contoso.com (expired) "
                            "appears; it now also tries http-redirect and redirect; the user "
                            "waits 42.0 s instead of 40 ms; nothing else changes (same settings "
                            "from " FINAL ").\n");
  free(text);
}

static void test_outcome_and_urls(void **state) {
  struct sim_transcript b = walk(before_steps, NULL, 0);
  struct sim_transcript a = walk(before_steps, NULL, 0);
  a.success = false;
  a.final_url = NULL;
  a.ews_url = NULL;
  char *text = text_of(&b, &a);
  assert_string_equal(text,
                      "outlook-2016-msi: it no longer gets settings (before: from " FINAL ").\n");
  free(text);
  text = text_of(&a, &b);
  assert_string_equal(text,
                      "outlook-2016-msi: it now gets settings from " FINAL " (before: none).\n");
  free(text);
  a = walk(before_steps, NULL, 0);
  a.final_url = "https://contoso.com/autodiscover/autodiscover.xml";
  a.ews_url = "https://ex.contoso.com/EWS/Exchange.asmx";
  text = text_of(&b, &a);
  assert_string_equal(text, "outlook-2016-msi: settings now come from "
                            "https://contoso.com/autodiscover/autodiscover.xml instead of " FINAL
                            "; the EWS URL changes from https://mail.contoso.com/EWS/Exchange.asmx "
                            "to https://ex.contoso.com/EWS/Exchange.asmx.\n");
  free(text);
}

static void test_steps_gone_by_sequence(void **state) {
  static struct sim_step three[] = {
      {.name = "srv", .result = SIM_R_NO_CANDIDATE},
      {.name = "https-root", .result = SIM_R_DNS_FAILED},
      {.name = "https-autodiscover", .result = SIM_R_SETTINGS},
  };
  struct sim_transcript b = walk(three, NULL, 0);
  b.n_steps = 3;
  struct sim_transcript a = walk(before_steps, NULL, 0);
  struct lab_diff d;
  lab_diff_init(&d, &b, &a);
  assert_int_equal(d.n_steps_gone, 1);
  assert_string_equal(d.steps_gone[0], "srv");
  assert_int_equal(d.n_steps_new, 0);
  lab_diff_cleanup(&d);
}

static void test_json_facts(void **state) {
  struct sim_transcript b = walk(before_steps, &expired, 1);
  struct sim_transcript a = walk(after_steps, NULL, 0);
  struct lab_diff d;
  lab_diff_init(&d, &b, &a);
  struct jnl_event doc;
  jnl_doc_begin(&doc);
  jnl_arr_begin(&doc, "clients");
  lab_diff_json(&d, &doc);
  jnl_arr_end(&doc);
  char *json = jnl_doc_take(&doc);
  lab_diff_cleanup(&d);
  assert_non_null(strstr(json,
                         "\"prompts_gone\":[{\"kind\":\"certificate\",\"host\":\"contoso.com\","
                         "\"reason\":\"expired\"}]"));
  assert_non_null(strstr(json, "\"prompts_new\":[]"));
  assert_non_null(strstr(json, "\"changed\":true"));
  assert_non_null(strstr(json, "\"final_url\":{\"before\":\"" FINAL "\",\"after\":\"" FINAL
                               "\",\"changed\":false}"));
  assert_non_null(strstr(json, "\"text\":\"outlook-2016-msi: the certificate prompt"));
  free(json);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_prompt_goes_away_nothing_else), cmocka_unit_test(test_nothing_changes),
      cmocka_unit_test(test_new_prompt_steps_and_wait),     cmocka_unit_test(test_outcome_and_urls),
      cmocka_unit_test(test_steps_gone_by_sequence),        cmocka_unit_test(test_json_facts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
