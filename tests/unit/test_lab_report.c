/* tests/unit/test_lab_report.c: the short forms check prints, its rows, and the frames that
 * carry rows from worker processes — which survive a round trip and reject broken bytes. */
#include "lab/lab.h"
#include "tests/unit/testutil.h"

#include <string.h>

static void test_format_ms(void **state) {
  char out[32];
  lab_format_ms(out, sizeof out, 44.9);
  assert_string_equal(out, "45 ms");
  lab_format_ms(out, sizeof out, 999.4);
  assert_string_equal(out, "999 ms");
  lab_format_ms(out, sizeof out, 21000);
  assert_string_equal(out, "21.0 s");
  lab_format_ms(out, sizeof out, -3);
  assert_string_equal(out, "0 ms");
}

static struct sim_prompt prompts[] = {
    {.kind = SIM_PROMPT_CERTIFICATE, .host = "contoso.com", .reason = "expired"},
    {.kind = SIM_PROMPT_REDIRECT,
     .host = "mail.hoster.net",
     .reason = "https://mail.hoster.net/autodiscover/autodiscover.xml"},
};

static void test_prompts_summary(void **state) {
  struct sim_transcript t = {.prompts = prompts, .n_prompts = 2};
  struct buf b;
  buf_init(&b, 4096);
  lab_prompts_summary(&b, &t);
  assert_string_equal(buf_cstr(&b), "certificate contoso.com (expired), redirect mail.hoster.net");
  buf_reset(&b);
  t.n_prompts = 0;
  lab_prompts_summary(&b, &t);
  assert_string_equal(buf_cstr(&b), "");
  buf_cleanup(&b);
}

static void test_rows_from_results(void **state) {
  struct scn_client client = {.model = "outlook-2016-msi"};
  struct sim_transcript t = {.prompts = prompts, .n_prompts = 1, .total_ms = 1234};
  struct scn_expect e = {.client = "outlook-2016-msi"};
  struct lab_result r[3] = {
      {.client = &client, .transcript = &t, .expect = &e},
      {.client = &client, .transcript = &t, .expect = &e, .n_failures = 1},
      {.client = &client, .transcript = &t},
  };
  for (int i = 0; i < 3; i++) {
    buf_init(&r[i].failures, 4096);
  }
  buf_append_str(&r[1].failures, "s.yaml:3:4: outcome: expected settings, got failure\n");
  struct lab_check_row *rows = lab_check_rows(7, r, 3);
  assert_int_equal(rows[0].verdict, LAB_PASS);
  assert_int_equal(rows[1].verdict, LAB_FAIL);
  assert_int_equal(rows[2].verdict, LAB_NO_EXPECT);
  assert_int_equal(rows[1].scenario, 7);
  assert_string_equal(rows[1].client, "outlook-2016-msi");
  assert_string_equal(rows[1].prompts, "certificate contoso.com (expired)");
  assert_string_equal(rows[1].failures, "s.yaml:3:4: outcome: expected settings, got failure\n");
  assert_true(rows[0].lab_ms == 1234);
  assert_string_equal(lab_verdict_name(rows[2].verdict), "NO-EXPECT");
  lab_check_rows_free(rows, 3);
  for (int i = 0; i < 3; i++) {
    buf_cleanup(&r[i].failures);
  }
}

static void test_frames_round_trip(void **state) {
  struct lab_check_row a = {.scenario = 3,
                            .verdict = LAB_FAIL,
                            .client = "mso-xdscli",
                            .prompts = "certificate contoso.com (expired)",
                            .failures = "x.yaml:1:2: steps: expected srv, got none\n",
                            .lab_ms = 21000.25};
  struct lab_check_row b = {.scenario = 4, .verdict = LAB_ERROR, .failures = "bad"};
  struct buf wire;
  buf_init(&wire, 1 << 20);
  assert_true(lab_check_row_encode(&wire, &a));
  size_t first = wire.len;
  assert_true(lab_check_row_encode(&wire, &b));
  struct lab_check_row got;
  /* A partial frame asks for more bytes, at every cut. */
  for (size_t cut = 0; cut < first; cut++) {
    assert_int_equal(lab_check_row_decode((struct slice){wire.ptr, cut}, &got), 0);
  }
  struct slice in = buf_slice(&wire);
  size_t used = lab_check_row_decode(in, &got);
  assert_int_equal(used, first);
  assert_int_equal(got.scenario, 3);
  assert_int_equal(got.verdict, LAB_FAIL);
  assert_string_equal(got.client, a.client);
  assert_string_equal(got.prompts, a.prompts);
  assert_string_equal(got.failures, a.failures);
  assert_true(got.lab_ms == 21000.25);
  lab_check_row_cleanup(&got);
  in.ptr += used;
  in.len -= used;
  used = lab_check_row_decode(in, &got);
  assert_int_equal(used, in.len);
  assert_int_equal(got.verdict, LAB_ERROR);
  assert_null(got.client);
  assert_null(got.prompts);
  assert_string_equal(got.failures, "bad");
  lab_check_row_cleanup(&got);
  buf_cleanup(&wire);
}

static void test_broken_frames_are_refused(void **state) {
  struct lab_check_row a = {.scenario = 1, .verdict = LAB_PASS, .client = "c", .prompts = ""};
  struct buf wire;
  buf_init(&wire, 4096);
  assert_true(lab_check_row_encode(&wire, &a));
  struct lab_check_row got;
  /* An unknown verdict. */
  wire.ptr[8] = 9;
  assert_int_equal(lab_check_row_decode(buf_slice(&wire), &got), (size_t) -1);
  wire.ptr[8] = LAB_PASS;
  /* A string length running past the frame. */
  wire.ptr[4 + 13 + 1] = 200;
  assert_int_equal(lab_check_row_decode(buf_slice(&wire), &got), (size_t) -1);
  wire.ptr[4 + 13 + 1] = 1;
  assert_int_not_equal(lab_check_row_decode(buf_slice(&wire), &got), (size_t) -1);
  lab_check_row_cleanup(&got);
  /* A huge declared length is not waited for. */
  uint8_t huge[8] = {0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0};
  assert_int_equal(lab_check_row_decode((struct slice){huge, sizeof huge}, &got), (size_t) -1);
  /* A frame too short to hold the fixed fields. */
  uint8_t tiny[6] = {2, 0, 0, 0, 0, 0};
  assert_int_equal(lab_check_row_decode((struct slice){tiny, sizeof tiny}, &got), (size_t) -1);
  buf_cleanup(&wire);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_format_ms),
      cmocka_unit_test(test_prompts_summary),
      cmocka_unit_test(test_rows_from_results),
      cmocka_unit_test(test_frames_round_trip),
      cmocka_unit_test(test_broken_frames_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
