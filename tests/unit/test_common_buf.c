/* tests/unit/test_common_buf.c: buffers stop at their limit, slices compare as IIS paths do,
 * numbers are range-checked. */
#include "common/buf.h"
#include "tests/unit/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_append_stops_at_max(void **state) {
  struct buf b;
  buf_init(&b, 8);
  assert_true(buf_append_str(&b, "1234"));
  assert_true(buf_append_str(&b, "5678"));
  assert_false(buf_append_str(&b, "9"));
  assert_string_equal(buf_cstr(&b), "12345678");
  assert_false(buf_appendf(&b, "%d", 1));
  assert_int_equal(b.len, 8);
  buf_cleanup(&b);
}

static void test_appendf_and_take(void **state) {
  struct buf b;
  buf_init(&b, 1024);
  assert_string_equal(buf_cstr(&b), "");
  assert_true(buf_appendf(&b, "%s:%d", "contoso.com", 443));
  char *s = buf_take(&b);
  assert_string_equal(s, "contoso.com:443");
  assert_int_equal(b.len, 0);
  free(s);
}

static void test_unlimited_buffer_grows(void **state) {
  struct buf b;
  buf_init(&b, SIZE_MAX);
  for (int i = 0; i < 1000; i++) {
    assert_true(buf_append_str(&b, "0123456789"));
  }
  assert_int_equal(b.len, 10000);
  assert_int_equal(buf_cstr(&b)[9999], '9');
  buf_cleanup(&b);
}

static void test_ndup_of_nothing(void **state) {
  char *s = str_ndup(NULL, 0);
  assert_string_equal(s, "");
  free(s);
}

static void test_fmt_reports_truncation(void **state) {
  char small[4];
  assert_false(buf_fmt(small, sizeof small, "%s", "abcd"));
  assert_string_equal(small, "abc");
  assert_true(buf_fmt(small, sizeof small, "%s", "abc"));
}

static void test_case_insensitive_compare(void **state) {
  assert_true(slice_eq_nocase(slice_of_str("/Autodiscover/Autodiscover.xml"),
                              "/autodiscover/autodiscover.xml"));
  assert_false(slice_eq_nocase(slice_of_str("/autodiscover"), "/autodiscover/"));
  assert_true(str_eq_nocase(NULL, NULL));
  assert_false(str_eq_nocase("a", NULL));
}

static void test_parse_u32_range(void **state) {
  uint32_t v = 0;
  assert_true(parse_u32("443", 0, 65535, &v));
  assert_int_equal(v, 443);
  assert_false(parse_u32("65536", 0, 65535, &v));
  assert_false(parse_u32("-1", 0, 65535, &v));
  assert_false(parse_u32("12x", 0, 65535, &v));
  assert_false(parse_u32("", 0, 65535, &v));
  assert_false(parse_u32(" 1", 0, 65535, &v));
  assert_false(parse_u32("99999999999999999999", 0, UINT32_MAX, &v));
}

static void test_extend_gives_room_to_fill(void **state) {
  struct buf b;
  buf_init(&b, 8);
  assert_true(buf_append_str(&b, "ab"));
  uint8_t *at = buf_extend(&b, 3);
  assert_non_null(at);
  memcpy(at, "cde", 3);
  assert_string_equal(buf_cstr(&b), "abcde");
  assert_null(buf_extend(&b, 4)); /* past max: unchanged */
  assert_int_equal(b.len, 5);
  assert_non_null(buf_extend(&b, 0));
  buf_cleanup(&b);
}

static void test_dec_u64(void **state) {
  (void) state;
  char out[21];
  assert_int_equal(dec_u64(out, 0), 1);
  assert_string_equal(out, "0");
  assert_int_equal(dec_u64(out, 65535), 5);
  assert_string_equal(out, "65535");
  assert_int_equal(dec_u64(out, UINT64_MAX), 20);
  assert_string_equal(out, "18446744073709551615");
  /* every count of digits, at both ends: 9 and 10, 99 and 100, ... as snprintf writes them */
  for (uint64_t p = 1, i = 0; i < 20; i++, p *= 10) {
    uint64_t values[] = {p, p - 1, p + 1, p * 9 / 10 * 10 + 7};
    for (size_t k = 0; k < 4; k++) {
      char want[32];
      snprintf(want, sizeof want, "%llu", (unsigned long long) values[k]);
      assert_int_equal(dec_u64(out, values[k]), strlen(want));
      assert_string_equal(out, want);
    }
  }
}

static void test_hex_lower(void **state) {
  (void) state;
  char out[9] = "xxxxxxxx";
  hex_lower(out, (const uint8_t[]){0x00, 0x9f, 0xa0, 0xff}, 4);
  assert_string_equal(out, "009fa0ff");
  hex_lower(out, (const uint8_t[]){0x12}, 1); /* writes 2n digits, nothing more */
  assert_string_equal(out, "129fa0ff");
}

static void test_fnv1a_known_values(void **state) {
  (void) state;
  /* the FNV-1a 64-bit test vectors: "" is the offset basis, "a" and "foobar" */
  assert_true(fnv1a(FNV1A_INIT, slice_of_str("")) == 0xcbf29ce484222325u);
  assert_true(fnv1a(FNV1A_INIT, slice_of_str("a")) == 0xaf63dc4c8601ec8cu);
  assert_true(fnv1a(FNV1A_INIT, slice_of_str("foobar")) == 0x85944171f73967e8u);
  /* in pieces, the same as at once; a mixed number is one more round of the same */
  assert_true(fnv1a(fnv1a(FNV1A_INIT, slice_of_str("foo")), slice_of_str("bar")) ==
              0x85944171f73967e8u);
  assert_true(fnv1a_mix(FNV1A_INIT, 'a') == 0xaf63dc4c8601ec8cu);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_append_stops_at_max),
      cmocka_unit_test(test_dec_u64),
      cmocka_unit_test(test_hex_lower),
      cmocka_unit_test(test_fnv1a_known_values),
      cmocka_unit_test(test_extend_gives_room_to_fill),
      cmocka_unit_test(test_appendf_and_take),
      cmocka_unit_test(test_unlimited_buffer_grows),
      cmocka_unit_test(test_ndup_of_nothing),
      cmocka_unit_test(test_fmt_reports_truncation),
      cmocka_unit_test(test_case_insensitive_compare),
      cmocka_unit_test(test_parse_u32_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
