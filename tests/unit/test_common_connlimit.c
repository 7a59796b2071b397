/* tests/unit/test_common_connlimit.c: connection caps per server and per client address, and
 * the tally of refusals reported at most once a second. */
#include "common/addr.h"
#include "common/connlimit.h"
#include "tests/unit/testutil.h"

#include <string.h>

static struct sockaddr_storage at(const char *text) {
  struct sockaddr_storage ss;
  assert_true(addr_parse(text, 0, &ss));
  return ss;
}

#define SA(ss) ((const struct sockaddr *) &(ss))

static void test_per_client_cap_leaves_room_for_others(void **state) {
  struct connlimit l;
  connlimit_init(&l, 10, 2);
  struct sockaddr_storage a1 = at("127.0.0.1:40000"), a2 = at("127.0.0.1:40001");
  struct sockaddr_storage a3 = at("127.0.0.1:40002"), b = at("127.0.0.2:40000");
  assert_int_equal(connlimit_admit(&l, SA(a1)), CONNLIMIT_ADMIT);
  assert_int_equal(connlimit_admit(&l, SA(a2)), CONNLIMIT_ADMIT);
  /* the port does not matter: the third from 127.0.0.1 is one too many */
  assert_int_equal(connlimit_admit(&l, SA(a3)), CONNLIMIT_CLIENT);
  assert_int_equal(connlimit_open_from(&l, SA(a3)), 2);
  assert_int_equal(connlimit_admit(&l, SA(b)), CONNLIMIT_ADMIT);
  assert_int_equal(l.n_open, 3);
  assert_int_equal(l.refused_client, 1);
  assert_int_equal(l.refused_full, 0);
  /* one ends: the client may open another */
  connlimit_release(&l, SA(a1));
  assert_int_equal(connlimit_admit(&l, SA(a3)), CONNLIMIT_ADMIT);
  connlimit_release(&l, SA(a2));
  connlimit_release(&l, SA(a3));
  connlimit_release(&l, SA(b));
  assert_int_equal(l.n_open, 0);
  assert_int_equal(l.n_peers, 0);
  connlimit_release(&l, SA(b)); /* never admitted any more: nothing happens */
  assert_int_equal(l.n_open, 0);
  connlimit_cleanup(&l);
}

static void test_server_cap(void **state) {
  struct connlimit l;
  connlimit_init(&l, 3, 0);
  char text[40];
  for (int i = 0; i < 3; i++) {
    snprintf(text, sizeof text, "127.0.0.%d:1000", i + 1);
    struct sockaddr_storage ss = at(text);
    assert_int_equal(connlimit_admit(&l, SA(ss)), CONNLIMIT_ADMIT);
  }
  struct sockaddr_storage late = at("127.0.0.9:1000");
  assert_int_equal(connlimit_admit(&l, SA(late)), CONNLIMIT_FULL);
  assert_int_equal(connlimit_admit(&l, SA(late)), CONNLIMIT_FULL);
  assert_int_equal(l.refused_full, 2);
  assert_int_equal(l.n_clients, 1); /* one address, named once */
  assert_string_equal(l.clients[0], "127.0.0.9");
  /* no caps at all */
  connlimit_set(&l, 0, 0);
  for (int i = 0; i < 100; i++) {
    assert_int_equal(connlimit_admit(&l, SA(late)), CONNLIMIT_ADMIT);
  }
  assert_int_equal(connlimit_open_from(&l, SA(late)), 100);
  connlimit_cleanup(&l);
}

static void test_ipv4_mapped_counts_as_ipv4(void **state) {
  struct connlimit l;
  connlimit_init(&l, 0, 1);
  struct sockaddr_storage v4 = at("192.0.2.7:1"), mapped = at("[::ffff:192.0.2.7]:2");
  struct sockaddr_storage v6 = at("[2001:db8::7]:3");
  assert_int_equal(connlimit_admit(&l, SA(v4)), CONNLIMIT_ADMIT);
  assert_int_equal(connlimit_admit(&l, SA(mapped)), CONNLIMIT_CLIENT);
  assert_int_equal(connlimit_admit(&l, SA(v6)), CONNLIMIT_ADMIT);
  assert_int_equal(connlimit_admit(&l, SA(v6)), CONNLIMIT_CLIENT);
  assert_string_equal(l.clients[0], "192.0.2.7");
  assert_string_equal(l.clients[1], "2001:db8::7");
  connlimit_cleanup(&l);
}

static void test_tally_names_at_most_eight_clients(void **state) {
  struct connlimit l;
  connlimit_init(&l, 1, 0);
  struct sockaddr_storage first = at("10.0.0.1:1");
  assert_int_equal(connlimit_admit(&l, SA(first)), CONNLIMIT_ADMIT);
  char text[40];
  for (int i = 0; i < 20; i++) {
    snprintf(text, sizeof text, "10.0.1.%d:1", i);
    struct sockaddr_storage ss = at(text);
    assert_int_equal(connlimit_admit(&l, SA(ss)), CONNLIMIT_FULL);
  }
  assert_int_equal(connlimit_refused(&l), 20);
  assert_int_equal(l.n_clients, CONNLIMIT_CLIENTS);
  assert_string_equal(l.clients[7], "10.0.1.7");
  connlimit_cleanup(&l);
}

/* The first refusal is reported at once; the next tally waits until a second has passed since
 * that report, whatever comes in between. */
static void test_reports_once_a_second(void **state) {
  struct connlimit l;
  connlimit_init(&l, 1, 0);
  uint64_t wait = 99;
  assert_false(connlimit_report_wait(&l, 5000, &wait)); /* nothing refused: nothing due */
  struct sockaddr_storage a = at("127.0.0.1:1"), b = at("127.0.0.2:1");
  assert_int_equal(connlimit_admit(&l, SA(a)), CONNLIMIT_ADMIT);
  assert_int_equal(connlimit_admit(&l, SA(b)), CONNLIMIT_FULL);
  assert_true(connlimit_report_wait(&l, 5000, &wait));
  assert_int_equal(wait, 0);
  connlimit_report_taken(&l, 5000);
  assert_int_equal(connlimit_refused(&l), 0);
  assert_int_equal(l.n_clients, 0);
  assert_false(connlimit_report_wait(&l, 5001, &wait));
  for (int i = 0; i < 50; i++) {
    assert_int_equal(connlimit_admit(&l, SA(b)), CONNLIMIT_FULL);
  }
  assert_true(connlimit_report_wait(&l, 5300, &wait));
  assert_int_equal(wait, 700);
  assert_true(connlimit_report_wait(&l, 6000, &wait));
  assert_int_equal(wait, 0);
  assert_int_equal(l.refused_full, 50);
  connlimit_report_taken(&l, 6000);
  connlimit_cleanup(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_per_client_cap_leaves_room_for_others),
      cmocka_unit_test(test_server_cap),
      cmocka_unit_test(test_ipv4_mapped_counts_as_ipv4),
      cmocka_unit_test(test_tally_names_at_most_eight_clients),
      cmocka_unit_test(test_reports_once_a_second),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
