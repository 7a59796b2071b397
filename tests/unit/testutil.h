/* tests/unit/testutil.h: what the unit tests share. */
#ifndef AD_TESTS_TESTUTIL_H
#define AD_TESTS_TESTUTIL_H

/* cmocka.h needs these four first */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <time.h>
#include <uv.h>

/* test_loop_close fails the test unless uv_loop_close returns 0: a forgotten handle fails. */
void test_loop_close(uv_loop_t *loop);
/* test_tmpdir makes a fresh private directory under $TMPDIR and returns it (caller frees). */
char *test_tmpdir(const char *prefix);
/* test_rmtree removes a directory made by test_tmpdir. */
void test_rmtree(const char *dir);
/* test_now is the wall clock, for certificate validity checks. */
time_t test_now(void);
/* test_data_path joins $AD_TEST_DATA (tests/data) and `rel` into out. */
const char *test_data_path(char *out, size_t out_size, const char *rel);

#endif
