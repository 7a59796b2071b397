/* tests/unit/test_common_labclock.c: a timer for 21 lab seconds runs 21 real milliseconds at
 * scale 1000 and leaves the clock 21 seconds on; a late timer does not move it back. */
#include "common/labclock.h"
#include "tests/unit/testutil.h"

struct fire {
  struct labclock *clock;
  double started;
  uint64_t lab_ms;
};

static void on_timer(uv_timer_t *t) {
  struct fire *f = t->data;
  labclock_fired(f->clock, f->started, f->lab_ms);
  uv_close((uv_handle_t *) t, NULL);
}

static void test_timeout_costs_lab_time_not_real_time(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct labclock c;
  labclock_init(&c, &loop, 1000);
  assert_int_equal(labclock_real_ms(&c, 21000), 21);
  assert_int_equal(labclock_real_ms(&c, 1), 1);
  assert_int_equal(labclock_real_ms(&c, 0), 0);
  struct fire f = {&c, labclock_now_ms(&c), 21000};
  uv_timer_t t;
  uv_timer_init(&loop, &t);
  t.data = &f;
  uint64_t real_start = uv_hrtime();
  uv_timer_start(&t, on_timer, labclock_real_ms(&c, f.lab_ms), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  double real_ms = (double) (uv_hrtime() - real_start) / 1e6;
  assert_true(real_ms < 2000);
  assert_true(labclock_now_ms(&c) >= 21000);
  assert_true(labclock_now_ms(&c) < 21000 + real_ms + 50);
  test_loop_close(&loop);
}

static void test_clock_never_goes_back(void **state) {
  struct labclock c;
  labclock_init(&c, NULL, 1000);
  labclock_fired(&c, 0, 5000);
  double after_first = labclock_now_ms(&c);
  assert_true(after_first >= 5000);
  labclock_fired(&c, 0, 3000); /* an earlier deadline: already passed */
  assert_true(labclock_now_ms(&c) >= after_first);
  assert_true(labclock_now_ms(&c) < after_first + 100);
}

static void test_real_time_scale(void **state) {
  struct labclock c;
  labclock_init(&c, NULL, 0.5); /* below 1 is real time */
  assert_int_equal(labclock_real_ms(&c, 1500), 1500);
  assert_int_equal(labclock_real_ms(NULL, 1500), 1500);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_timeout_costs_lab_time_not_real_time),
      cmocka_unit_test(test_clock_never_goes_back),
      cmocka_unit_test(test_real_time_scale),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
