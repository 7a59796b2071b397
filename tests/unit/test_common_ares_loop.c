/* tests/unit/test_common_ares_loop.c: c-ares on the libuv loop — an answer arrives through the
 * poll handles, a silent server times out through the timer, closing ends open questions, and
 * nothing stays open afterwards (test_loop_close fails on a forgotten handle). */
#include "common/ares_loop.h"
#include "tests/unit/testutil.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* A UDP socket on 127.0.0.1 playing a DNS server: it answers every question with its own header
 * turned into an NXDOMAIN answer (QR and RCODE 3), or stays silent. */
struct stub {
  uv_udp_t udp;
  bool silent;
  int n_questions;
  uint8_t in[512];
  char addr[64];
};

static void stub_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  struct stub *s = h->data;
  *buf = uv_buf_init((char *) s->in, sizeof s->in);
}

static void stub_read(uv_udp_t *u, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                      unsigned flags) {
  struct stub *s = u->data;
  if (n < 12 || from == NULL) {
    return;
  }
  s->n_questions++;
  if (s->silent) {
    return;
  }
  s->in[2] |= 0x80;                             /* QR: an answer */
  s->in[3] = (uint8_t) ((s->in[3] & 0xf0) | 3); /* RCODE 3, NXDOMAIN */
  uv_buf_t out = uv_buf_init((char *) s->in, (unsigned) n);
  assert_true(uv_udp_try_send(u, &out, 1, from) == n);
}

static void stub_start(uv_loop_t *loop, struct stub *s, bool silent) {
  memset(s, 0, sizeof *s);
  s->silent = silent;
  assert_int_equal(uv_udp_init(loop, &s->udp), 0);
  s->udp.data = s;
  struct sockaddr_in sin;
  uv_ip4_addr("127.0.0.1", 0, &sin);
  assert_int_equal(uv_udp_bind(&s->udp, (const struct sockaddr *) &sin, 0), 0);
  int len = sizeof sin;
  assert_int_equal(uv_udp_getsockname(&s->udp, (struct sockaddr *) &sin, &len), 0);
  snprintf(s->addr, sizeof s->addr, "127.0.0.1:%u", (unsigned) ntohs(sin.sin_port));
  assert_int_equal(uv_udp_recv_start(&s->udp, stub_alloc, stub_read), 0);
}

struct outcome {
  int n_answers;
  int status;
  int n_closed;
  uv_udp_t *stub; /* the stub's socket, closed from the answer's callback */
};

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
  struct outcome *o = arg;
  o->n_answers++;
  o->status = status;
}

static void on_closed(void *arg) {
  struct outcome *o = arg;
  o->n_closed++;
}

static void on_answer_then_close(void *arg, int status, int timeouts, unsigned char *abuf,
                                 int alen) {
  struct outcome *o = arg;
  on_answer(arg, status, timeouts, abuf, alen);
  uv_close((uv_handle_t *) o->stub, NULL); /* the stub's socket: the test is over */
}

static struct ares_options options(int timeout_ms) {
  struct ares_options o;
  memset(&o, 0, sizeof o);
  o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP;
  o.timeout = timeout_ms;
  o.tries = 1;
  return o;
}

static const int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;

static void test_an_answer_comes_through_the_poll_handle(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct stub s;
  stub_start(&loop, &s, false);
  struct ares_options o = options(5000);
  struct ares_loop *l = NULL;
  assert_int_equal(ares_loop_new(&l, &loop, &o, mask, s.addr), ARES_SUCCESS);
  struct outcome out = {.stub = &s.udp};
  ares_query(ares_loop_channel(l), "nothing.example", ns_c_in, ns_t_a, on_answer_then_close, &out);
  ares_loop_rearm(l);
  uv_run(&loop, UV_RUN_DEFAULT); /* ends once the stub is closed and c-ares has no socket busy */
  assert_int_equal(out.n_answers, 1);
  assert_int_equal(out.status, ARES_ENOTFOUND);
  assert_int_equal(s.n_questions, 1);
  ares_loop_close(l, on_closed, &out);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(out.n_closed, 1);
  test_loop_close(&loop);
}

static void test_a_silent_server_times_out_on_the_timer(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct stub s;
  stub_start(&loop, &s, true);
  struct ares_options o = options(50);
  struct ares_loop *l = NULL;
  assert_int_equal(ares_loop_new(&l, &loop, &o, mask, s.addr), ARES_SUCCESS);
  struct outcome out = {.stub = &s.udp};
  ares_query(ares_loop_channel(l), "slow.example", ns_c_in, ns_t_a, on_answer_then_close, &out);
  ares_loop_rearm(l);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(out.n_answers, 1);
  assert_int_equal(out.status, ARES_ETIMEOUT);
  ares_loop_close(l, on_closed, &out);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(out.n_closed, 1);
  test_loop_close(&loop);
}

static void test_closing_ends_an_open_question(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct stub s;
  stub_start(&loop, &s, true);
  struct ares_options o = options(60000);
  struct ares_loop *l = NULL;
  assert_int_equal(ares_loop_new(&l, &loop, &o, mask, s.addr), ARES_SUCCESS);
  struct outcome out = {0};
  ares_query(ares_loop_channel(l), "never.example", ns_c_in, ns_t_a, on_answer, &out);
  ares_loop_rearm(l);
  while (s.n_questions == 0) {
    uv_run(&loop, UV_RUN_ONCE);
  }
  ares_loop_close(l, on_closed, &out);
  assert_int_equal(out.n_answers, 1); /* inside the close */
  assert_int_equal(out.status, ARES_EDESTRUCTION);
  assert_int_equal(out.n_closed, 0); /* handles close on the loop */
  uv_close((uv_handle_t *) &s.udp, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(out.n_closed, 1);
  test_loop_close(&loop);
}

static void test_a_bad_server_leaves_nothing_open(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct ares_options o = options(1000);
  struct ares_loop *l = (struct ares_loop *) &loop; /* must come back NULL */
  assert_int_not_equal(ares_loop_new(&l, &loop, &o, mask, "not an address"), ARES_SUCCESS);
  assert_null(l);
  assert_int_equal(uv_loop_alive(&loop), 0);
  test_loop_close(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_an_answer_comes_through_the_poll_handle),
      cmocka_unit_test(test_a_silent_server_times_out_on_the_timer),
      cmocka_unit_test(test_closing_ends_an_open_question),
      cmocka_unit_test(test_a_bad_server_leaves_nothing_open),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
