/* tests/unit/test_common_addr.c: addresses as people write them, read and written back. */
#include "common/addr.h"
#include "tests/unit/testutil.h"

#include <netinet/in.h>
#include <string.h>

static void round_trip(const char *text, uint16_t default_port, const char *want) {
  struct sockaddr_storage ss;
  char out[80];
  assert_true(addr_parse(text, default_port, &ss));
  assert_true(addr_format((const struct sockaddr *) &ss, out, sizeof out));
  assert_string_equal(out, want);
}

static void test_reads_what_people_write(void **state) {
  round_trip("127.0.0.1:53", 0, "127.0.0.1:53");
  round_trip("127.0.0.1:0", 0, "127.0.0.1:0");                     /* an ephemeral port to bind */
  round_trip("255.255.255.255:65535", 0, "255.255.255.255:65535"); /* the longest IPv4 text */
  round_trip("0.0.0.0:0", 0, "0.0.0.0:0");
  round_trip("10.200.3.40:8080", 0, "10.200.3.40:8080");
  round_trip("[::1]:5353", 0, "[::1]:5353");
  round_trip("10.77.0.1", 53, "10.77.0.1:53");
  round_trip("::1", 53, "[::1]:53");
  round_trip("[fe80::1]", 53, "[fe80::1]:53");
}

static void test_refuses_the_rest(void **state) {
  struct sockaddr_storage ss;
  const char *bad[] = {
      "",       "127.0.0.1", "localhost:53", "127.0.0.1:", "1.2.3.4:x",   "1.2.3.4:65536", "[::1",
      "[::1]x", "[::1]:-1",  ":53",          "[]:53",      "1.2.3.4:53 ", "1.2.3.999:1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_false(addr_parse(bad[i], 0, &ss));
  }
  assert_false(addr_parse("example.com", 53, &ss));
  assert_int_equal(addr_port((const struct sockaddr *) &ss), 0);
}

/* addr_len is the length bind and sendto take for each family */
static void test_len_by_family(void **state) {
  struct sockaddr_storage ss;
  assert_true(addr_parse("127.0.0.1:53", 0, &ss));
  assert_int_equal(addr_len((struct sockaddr *) &ss), sizeof(struct sockaddr_in));
  assert_true(addr_parse("[::1]:53", 0, &ss));
  assert_int_equal(addr_len((struct sockaddr *) &ss), sizeof(struct sockaddr_in6));
}

static void test_format_never_overflows(void **state) {
  struct sockaddr_storage ss;
  char small[6];
  assert_true(addr_parse("[2001:db8::1]:443", 0, &ss));
  assert_false(addr_format((const struct sockaddr *) &ss, small, sizeof small));
  assert_int_equal(strlen(small), sizeof small - 1);
  assert_int_equal(addr_port((const struct sockaddr *) &ss), 443);
  char v4[21]; /* one short of "255.255.255.255:65535": the bounded path, cut short */
  assert_true(addr_parse("255.255.255.255:65535", 0, &ss));
  assert_false(addr_format((const struct sockaddr *) &ss, v4, sizeof v4));
  assert_string_equal(v4, "255.255.255.255:6553");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reads_what_people_write),
      cmocka_unit_test(test_refuses_the_rest),
      cmocka_unit_test(test_len_by_family),
      cmocka_unit_test(test_format_never_overflows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
