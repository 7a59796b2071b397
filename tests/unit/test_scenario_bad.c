/* tests/unit/test_scenario_bad.c: every tests/data/bad/NAME.yaml must fail to load with exactly the
 * one line in NAME.expect.
 *
 * The test runs from tests/data ($AD_TEST_DATA) and loads "bad/NAME.yaml", so a .expect line
 * starts with that relative path: `bad/NAME.yaml:LINE:COL: message`. Files named yaml-* are not
 * YAML at all (SCN_ESYNTAX); the others are YAML but not scenarios (SCN_ESCHEMA). Adding a case
 * is adding the two files. */
#include "common/buf.h"
#include "scenario/scn.h"
#include "tests/unit/testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MIN_CASES = 15 };

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *) a, *(char *const *) b);
}

/* read_expect returns the first line of `path` without its line break (caller frees). */
static char *read_expect(const char *path) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return NULL;
  }
  char line[2048] = "";
  if (fgets(line, sizeof line, f) == NULL) {
    line[0] = 0;
  }
  fclose(f);
  line[strcspn(line, "\r\n")] = 0;
  return str_dup(line);
}

/* check_case loads bad/NAME.yaml; false (and a printed reason) when it does not fail as expected.
 */
static bool check_case(const char *name) {
  char yaml[512], expect_path[512];
  assert_true(buf_fmt(yaml, sizeof yaml, "bad/%s.yaml", name));
  assert_true(buf_fmt(expect_path, sizeof expect_path, "bad/%s.expect", name));
  char *want = read_expect(expect_path);
  if (want == NULL) {
    print_error("%s: missing %s\n", yaml, expect_path);
    return false;
  }
  struct scn *s = NULL;
  char err[1024] = "";
  enum scn_status st = scn_load(&s, yaml, err, sizeof err);
  enum scn_status want_st = strncmp(name, "yaml-", 5) == 0 ? SCN_ESYNTAX : SCN_ESCHEMA;
  bool ok = true;
  if (s != NULL || st != want_st) {
    print_error("%s: status %d, expected %d\n", yaml, (int) st, (int) want_st);
    ok = false;
  }
  if (strcmp(err, want) != 0) {
    print_error("%s:\n  got:      %s\n  expected: %s\n", yaml, err, want);
    ok = false;
  }
  scn_free(s);
  free(want);
  return ok;
}

static void test_bad_inputs(void **state) {
  const char *data = getenv("AD_TEST_DATA");
  assert_non_null(data);
  assert_int_equal(chdir(data), 0);
  DIR *d = opendir("bad");
  assert_non_null(d);
  char **names = NULL;
  size_t n_names = 0;
  struct dirent *ent;
  while ((ent = readdir(d)) != NULL) {
    size_t len = strlen(ent->d_name);
    if (len > 5 && strcmp(ent->d_name + len - 5, ".yaml") == 0) {
      names = xrealloc_array(names, n_names + 1, sizeof names[0]);
      names[n_names++] = str_ndup(ent->d_name, len - 5);
    }
  }
  closedir(d);
  qsort(names, n_names, sizeof names[0], by_name);
  size_t n_failed = 0;
  for (size_t i = 0; i < n_names; i++) {
    if (!check_case(names[i])) {
      n_failed++;
    }
    free(names[i]);
  }
  free(names);
  assert_true(n_names >= MIN_CASES);
  if (n_failed > 0) {
    fail_msg("%zu of %zu bad inputs did not fail as expected", n_failed, n_names);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_inputs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
