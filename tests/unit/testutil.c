/* tests/unit/testutil.c: helpers every unit test may use. */
#include "tests/unit/testutil.h"

#include "common/buf.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void test_loop_close(uv_loop_t *loop) {
  uv_run(loop, UV_RUN_DEFAULT); /* let close callbacks run */
  assert_int_equal(uv_loop_close(loop), 0);
}

char *test_tmpdir(const char *prefix) {
  const char *base = getenv("TMPDIR");
  char path[4096];
  assert_true(buf_fmt(path, sizeof path, "%s/%s-XXXXXX", base ? base : "/tmp", prefix));
  assert_non_null(mkdtemp(path));
  return str_dup(path);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  return remove(path);
}

void test_rmtree(const char *dir) {
  nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

time_t test_now(void) {
  return time(NULL);
}

const char *test_data_path(char *out, size_t out_size, const char *rel) {
  const char *base = getenv("AD_TEST_DATA");
  assert_non_null(base);
  assert_true(buf_fmt(out, out_size, "%s/%s", base, rel));
  return out;
}
