/* tests/unit/test_common_bufpool.c: read blocks are lent and taken back, the most recent one is
 * lent again, no more than max_idle wait, and a trimmed pool holds nothing. */
#include "common/bufpool.h"
#include "tests/unit/testutil.h"

#include <string.h>

static void test_nothing_allocated_until_first_get(void **state) {
  struct bufpool p;
  bufpool_init(&p, 65536, 4);
  assert_int_equal(p.n_idle, 0);
  assert_int_equal(p.n_lent, 0);
  assert_null(p.idle);
  bufpool_cleanup(&p);
}

static void test_returned_block_is_lent_again(void **state) {
  struct bufpool p;
  bufpool_init(&p, 16384, 4);
  uint8_t *a = bufpool_get(&p);
  memset(a, 0xab, p.block_len); /* the whole block is ours while lent */
  assert_int_equal(p.n_lent, 1);
  bufpool_put(&p, a);
  assert_int_equal(p.n_lent, 0);
  assert_int_equal(p.n_idle, 1);
  uint8_t *b = bufpool_get(&p);
  assert_ptr_equal(a, b); /* warm in the cache: no new allocation */
  assert_int_equal(p.n_idle, 0);
  bufpool_put(&p, b);
  bufpool_cleanup(&p);
}

static void test_most_recent_first(void **state) {
  struct bufpool p;
  bufpool_init(&p, 64, 4);
  uint8_t *a = bufpool_get(&p);
  uint8_t *b = bufpool_get(&p);
  assert_ptr_not_equal(a, b);
  bufpool_put(&p, a);
  bufpool_put(&p, b);
  assert_ptr_equal(bufpool_get(&p), b);
  assert_ptr_equal(bufpool_get(&p), a);
  bufpool_put(&p, a);
  bufpool_put(&p, b);
  bufpool_cleanup(&p);
}

static void test_at_most_max_idle_are_kept(void **state) {
  struct bufpool p;
  bufpool_init(&p, 1024, 2);
  uint8_t *blocks[5];
  for (size_t i = 0; i < 5; i++) {
    blocks[i] = bufpool_get(&p);
  }
  assert_int_equal(p.n_lent, 5);
  for (size_t i = 0; i < 5; i++) {
    bufpool_put(&p, blocks[i]); /* past two the blocks are freed (ASan finds a leak otherwise) */
  }
  assert_int_equal(p.n_lent, 0);
  assert_int_equal(p.n_idle, 2);
  bufpool_cleanup(&p);
}

static void test_no_idle_blocks_with_max_zero(void **state) {
  struct bufpool p;
  bufpool_init(&p, 1024, 0);
  uint8_t *a = bufpool_get(&p);
  bufpool_put(&p, a);
  assert_int_equal(p.n_idle, 0);
  bufpool_cleanup(&p);
}

static void test_trim_and_put_null(void **state) {
  struct bufpool p;
  bufpool_init(&p, 4096, 8);
  uint8_t *blocks[6];
  for (size_t i = 0; i < 6; i++) {
    blocks[i] = bufpool_get(&p);
  }
  for (size_t i = 0; i < 6; i++) {
    bufpool_put(&p, blocks[i]);
  }
  assert_int_equal(p.n_idle, 6);
  bufpool_trim(&p, 1);
  assert_int_equal(p.n_idle, 1);
  bufpool_trim(&p, 3); /* never grows */
  assert_int_equal(p.n_idle, 1);
  bufpool_trim(&p, 0);
  assert_int_equal(p.n_idle, 0);
  bufpool_put(&p, NULL);
  assert_int_equal(p.n_lent, 0);
  bufpool_cleanup(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nothing_allocated_until_first_get),
      cmocka_unit_test(test_returned_block_is_lent_again),
      cmocka_unit_test(test_most_recent_first),
      cmocka_unit_test(test_at_most_max_idle_are_kept),
      cmocka_unit_test(test_no_idle_blocks_with_max_zero),
      cmocka_unit_test(test_trim_and_put_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
