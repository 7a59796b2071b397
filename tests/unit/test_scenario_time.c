/* tests/unit/test_scenario_time.c: the durations ("500ms", "5s", "2m") and instants (RFC 3339,
 * "now", "-30d") a scenario writes (scenario/scn_time.c). */
#include "scenario/internal.h"
#include "tests/unit/testutil.h"

static void test_durations(void **state) {
  uint32_t ms = 0;
  assert_true(scn__parse_duration_ms("500ms", &ms));
  assert_int_equal(ms, 500);
  assert_true(scn__parse_duration_ms("5s", &ms));
  assert_int_equal(ms, 5000);
  assert_true(scn__parse_duration_ms("2m", &ms));
  assert_int_equal(ms, 120000);
  assert_true(scn__parse_duration_ms("0s", &ms));
  assert_int_equal(ms, 0);
  static const char *const bad[] = {"",     "5",  "s",    "5 s",        "-5s",         "5h",
                                    "1.5s", "5S", "5sec", "999999999m", "1234567890ms"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (scn__parse_duration_ms(bad[i], &ms)) {
      fail_msg("\"%s\" was taken as a duration", bad[i]);
    }
  }
}

static void test_times(void **state) {
  int64_t t = 0;
  const int64_t now = 1700000000;
  assert_true(scn__parse_time("2024-01-01T00:00:00Z", now, &t));
  assert_int_equal(t, 1704067200);
  assert_true(scn__parse_time("2024-02-29t23:59:59.999z", now, &t));
  assert_int_equal(t, 1709251199);
  assert_true(scn__parse_time("1970-01-01T01:00:00+01:00", now, &t));
  assert_int_equal(t, 0);
  assert_true(scn__parse_time("1969-12-31 23:00:00-01:00", now, &t));
  assert_int_equal(t, 0);
  assert_true(scn__parse_time("1950-01-01T00:00:00Z", now, &t));
  assert_int_equal(t, -631152000);
  assert_true(scn__parse_time("now", now, &t));
  assert_int_equal(t, now);
  assert_true(scn__parse_time("-30d", now, &t));
  assert_int_equal(t, now - 30 * 86400);
  assert_true(scn__parse_time("+1y", now, &t));
  assert_int_equal(t, now + 365 * 86400);
  assert_true(scn__parse_time("+90m", now, &t));
  assert_int_equal(t, now + 5400);
  assert_true(scn__parse_time("-2h", now, &t));
  assert_int_equal(t, now - 7200);
  assert_true(scn__parse_time("+10s", now, &t));
  assert_int_equal(t, now + 10);
  static const char *const bad[] = {"",
                                    "yesterday",
                                    "30d",
                                    "+d",
                                    "+30",
                                    "+30w",
                                    "-3.5d",
                                    "2023-02-29T00:00:00Z",
                                    "2024-13-01T00:00:00Z",
                                    "2024-01-01T24:00:00Z",
                                    "2024-01-01T00:00:00",
                                    "2024-01-01",
                                    "2024-01-01T00:00:00+0100",
                                    "2024-01-01T00:00:00.Z",
                                    "Now",
                                    "+1234567890y"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (scn__parse_time(bad[i], now, &t)) {
      fail_msg("\"%s\" was taken as a time", bad[i]);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_durations),
      cmocka_unit_test(test_times),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
