/* tests/unit/test_lab_check.c: `check` in the lab — files that do not load become ERROR rows
 * with progress reported, and the table, JSON and JUnit reports say what the rows say. */
#include "lab/lab.h"
#include "tests/unit/testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct progress_seen {
  size_t calls;
  size_t last_done;
  size_t last_n;
  char last_path[256];
};

static void on_progress(void *arg, size_t n_done, size_t n, const char *path) {
  struct progress_seen *p = arg;
  p->calls++;
  p->last_done = n_done;
  p->last_n = n;
  buf_fmt(p->last_path, sizeof p->last_path, "%s", path);
}

static void test_files_that_do_not_load_are_errors(void **state) {
  char bad[4096];
  test_data_path(bad, sizeof bad, "bad/alias.yaml");
  const char *paths[] = {bad, "/nonexistent/scenario.yaml"};
  struct progress_seen seen = {0};
  struct lab_check_options opt = {.jobs = 2, .progress = on_progress, .arg = &seen};
  struct lab_check k;
  lab_check_run(&k, paths, 2, &opt);
  assert_int_equal(k.n, 2);
  assert_int_equal(k.n_done, 2);
  for (size_t i = 0; i < 2; i++) {
    assert_string_equal(k.scenarios[i].path, paths[i]);
    assert_null(k.scenarios[i].scn);
    assert_true(k.scenarios[i].done);
    assert_int_equal(k.scenarios[i].n_rows, 1);
    assert_int_equal(k.scenarios[i].rows[0].verdict, LAB_ERROR);
    assert_null(k.scenarios[i].rows[0].client);
  }
  /* the loader's file:line:col message, one line */
  assert_non_null(strstr(k.scenarios[0].rows[0].failures, "alias.yaml:"));
  assert_non_null(strstr(k.scenarios[1].rows[0].failures, "/nonexistent/scenario.yaml"));
  assert_int_equal(seen.calls, 2);
  assert_int_equal(seen.last_done, 2);
  assert_int_equal(seen.last_n, 2);
  assert_string_equal(seen.last_path, paths[1]);
  struct lab_check_totals t = lab_check_count(&k);
  assert_int_equal(t.by[LAB_ERROR], 2);
  assert_int_equal(t.by[LAB_PASS], 0);
  lab_check_cleanup(&k);
  assert_null(k.scenarios);
}

/* Two scenario files: a.yaml with a passing and a failing client, bad.yaml that did not run. */
static struct lab_check_row rows_a[] = {
    {.verdict = LAB_PASS,
     .client = "outlook-2016-msi",
     .prompts = "certificate contoso.com (expired)",
     .failures = "",
     .lab_ms = 41},
    {.verdict = LAB_FAIL,
     .client = "mso-xdscli",
     .prompts = "",
     .failures = "a.yaml:3:4: outcome: expected settings, got failure\n",
     .lab_ms = 1500},
};
static struct lab_check_row rows_bad[] = {
    {.scenario = 1, .verdict = LAB_ERROR, .failures = "bad.yaml:1:1: not \x01YAML\n"},
};
static struct lab_check_scenario scenarios[] = {
    {.path = "a.yaml", .n_expected = 2, .rows = rows_a, .n_rows = 2, .done = true},
    {.path = "bad.yaml", .n_expected = 1, .rows = rows_bad, .n_rows = 1, .done = true},
};
static const struct lab_check two = {.scenarios = scenarios, .n = 2, .n_done = 2};

/* report runs one writer into memory and returns what it wrote (caller frees). */
static char *report(void (*write)(const struct lab_check *, FILE *)) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  write(&two, f);
  fclose(f);
  return text;
}

static void write_table(const struct lab_check *k, FILE *f) {
  lab_check_table(k, f, false);
}

static void write_json(const struct lab_check *k, FILE *f) {
  lab_check_json(k, f, 2);
}

static void test_count(void **state) {
  struct lab_check_totals t = lab_check_count(&two);
  assert_int_equal(t.by[LAB_PASS], 1);
  assert_int_equal(t.by[LAB_FAIL], 1);
  assert_int_equal(t.by[LAB_NO_EXPECT], 0);
  assert_int_equal(t.by[LAB_ERROR], 1);
  assert_true(t.lab_ms == 1541);
}

static void test_table(void **state) {
  char *text = report(write_table);
  const char *want =
      "SCENARIO  CLIENT            VERDICT    PROMPTS                            LAB TIME\n"
      "a.yaml    outlook-2016-msi  PASS       certificate contoso.com (expired)  41 ms\n"
      "a.yaml    mso-xdscli        FAIL       -                                  1.5 s\n"
      "bad.yaml  -                 ERROR      -                                  -\n"
      "\n"
      "a.yaml:3:4: outcome: expected settings, got failure\n"
      "bad.yaml:1:1: not \x01YAML\n"
      "\n"
      "1 passed, 1 failed, 0 without expectations, 1 could not run (2 scenarios)\n";
  assert_string_equal(text, want);
  free(text);
}

static void test_json(void **state) {
  char *text = report(write_json);
  assert_non_null(strstr(text, "\"path\":\"a.yaml\""));
  assert_non_null(strstr(text, "\"client\":\"mso-xdscli\",\"verdict\":\"FAIL\""));
  assert_non_null(
      strstr(text, "\"failures\":[\"a.yaml:3:4: outcome: expected settings, got failure\"]"));
  assert_non_null(strstr(text, "\"client\":null,\"verdict\":\"ERROR\""));
  assert_non_null(
      strstr(text, "\"totals\":{\"pass\":1,\"fail\":1,\"no_expect\":0,\"error\":1},\"exit\":2}"));
  assert_int_equal(text[strlen(text) - 1], '\n');
  free(text);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  char *text = calloc(1, 1 << 16);
  size_t n = fread(text, 1, (1 << 16) - 1, f);
  fclose(f);
  assert_true(n > 0);
  return text;
}

static void test_junit(void **state) {
  char *dir = test_tmpdir("lab-check");
  char path[4096];
  buf_fmt(path, sizeof path, "%s/junit.xml", dir);
  assert_true(lab_check_junit(&two, path));
  char *xml = slurp(path);
  assert_non_null(strstr(xml, "<testsuites name=\"autodisco check\" tests=\"3\" failures=\"1\" "
                              "errors=\"1\" skipped=\"0\" time=\"1.541\">"));
  assert_non_null(
      strstr(xml, "<testsuite name=\"a.yaml\" tests=\"2\" failures=\"1\" errors=\"0\""));
  assert_non_null(
      strstr(xml, "<testcase name=\"mso-xdscli\" classname=\"a.yaml\" time=\"1.500\">"));
  assert_non_null(strstr(xml, "<failure message=\"a.yaml:3:4: outcome: expected settings, got "
                              "failure\" type=\"expectation\">"));
  assert_non_null(strstr(xml, "prompts: certificate contoso.com (expired)\nlab time: 41 ms\n"));
  /* a control character is not XML 1.0: it becomes '?' */
  assert_non_null(strstr(xml, "<testcase name=\"(scenario)\" classname=\"bad.yaml\""));
  assert_non_null(strstr(xml, "message=\"bad.yaml:1:1: not ?YAML\" type=\"bad-input\""));
  free(xml);
  unlink(path);
  buf_fmt(path, sizeof path, "%s/no/such/folder/junit.xml", dir);
  assert_false(lab_check_junit(&two, path));
  test_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_files_that_do_not_load_are_errors),
      cmocka_unit_test(test_count),
      cmocka_unit_test(test_table),
      cmocka_unit_test(test_json),
      cmocka_unit_test(test_junit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
