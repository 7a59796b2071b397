/* tests/unit/test_dns_udp.c: proxy/dns/dns_udp.c on a real UDP socket on 127.0.0.1 — answers
 * the socket refuses wait and leave in order once it takes them again; the waiting is bounded;
 * closing with answers waiting frees them. A socket on loopback never refuses a datagram, so
 * this file defines sendto and sendmmsg itself: for the server's socket, while `refusals` lasts,
 * they fail with EAGAIN as a full socket buffer does; every other call goes to the C library's
 * (dlsym RTLD_NEXT). */
#define _GNU_SOURCE /* RTLD_NEXT, sendmmsg */
#include "proxy/dns/internal.h"
#include "tests/unit/testutil.h"

#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int server_fd = -1;
static int refusals;  /* send calls on server_fd still to refuse; -1: every one */
static int every;     /* then: refuse each one of this many (0: none) */
static int n_calls;   /* send calls on server_fd */
static int n_refused; /* of those, refused */

static bool refuse(int fd) {
  if (fd != server_fd) {
    return false;
  }
  n_calls++;
  if (refusals == 0 && (every == 0 || n_calls % every != 0)) {
    return false;
  }
  if (refusals > 0) {
    refusals--;
  }
  n_refused++;
  errno = EAGAIN;
  return true;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
               socklen_t to_len) {
  static ssize_t (*real)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
  if (real == NULL) {
    *(void **) &real = dlsym(RTLD_NEXT, "sendto");
  }
  return refuse(fd) ? -1 : real(fd, buf, len, flags, to, to_len);
}

int sendmmsg(int fd, struct mmsghdr *msgs, unsigned n, int flags) {
  static int (*real)(int, struct mmsghdr *, unsigned, int);
  if (real == NULL) {
    *(void **) &real = dlsym(RTLD_NEXT, "sendmmsg");
  }
  return refuse(fd) ? -1 : real(fd, msgs, n, flags);
}

struct lab {
  uv_loop_t loop;
  struct dns_udp *udp;
  int client;
  struct sockaddr_in server_addr;
  int n_queries;
  bool closed;
};

/* echo answers every datagram with its own bytes. */
static void echo(void *arg, const uint8_t *query, size_t len, const struct sockaddr *from) {
  struct lab *l = arg;
  l->n_queries++;
  memcpy(dns__udp_out(l->udp), query, len);
  dns__udp_answered(l->udp, len, from);
}

static int udp_socket(struct sockaddr_in *bound) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof a), 0);
  socklen_t len = sizeof *bound;
  assert_int_equal(getsockname(fd, (struct sockaddr *) bound, &len), 0);
  return fd;
}

static void lab_start(struct lab *l) {
  memset(l, 0, sizeof *l);
  assert_int_equal(uv_loop_init(&l->loop), 0);
  server_fd = udp_socket(&l->server_addr);
  struct sockaddr_in client_addr;
  l->client = udp_socket(&client_addr);
  refusals = 0;
  every = 0;
  n_calls = 0;
  n_refused = 0;
  assert_int_equal(dns__udp_start(&l->udp, &l->loop, server_fd, echo, l), 0);
}

static void on_closed(void *arg) {
  struct lab *l = arg;
  l->closed = true;
}

static void lab_stop(struct lab *l) {
  dns__udp_close(l->udp, on_closed);
  while (!l->closed) {
    uv_run(&l->loop, UV_RUN_ONCE);
  }
  server_fd = -1;
  close(l->client);
  test_loop_close(&l->loop);
}

static void ask(struct lab *l, int i) {
  char q[16];
  int len = snprintf(q, sizeof q, "q%04d", i);
  assert_int_equal(sendto(l->client, q, (size_t) len, 0, (struct sockaddr *) &l->server_addr,
                          sizeof l->server_addr),
                   len);
}

/* collect runs the loop and reads answers into got[] (their numbers) until `want` have come or
 * nothing has come for 300 ms; returns how many came. */
static int collect(struct lab *l, int *got, int want) {
  int n = 0;
  uint64_t quiet_since = uv_hrtime();
  while (n < want && uv_hrtime() - quiet_since < 300 * 1000000ull) {
    uv_run(&l->loop, UV_RUN_NOWAIT);
    char a[16] = {0};
    for (ssize_t len; n < want && (len = recv(l->client, a, sizeof a - 1, MSG_DONTWAIT)) > 0;) {
      a[len] = 0;
      assert_int_equal(sscanf(a, "q%d", &got[n]), 1);
      n++;
      quiet_since = uv_hrtime();
    }
  }
  return n;
}

/* wait_queries runs the loop until the server has read `n` queries (5 s at most). */
static void wait_queries(struct lab *l, int n) {
  uint64_t start = uv_hrtime();
  while (l->n_queries < n) {
    assert_true(uv_hrtime() - start < 5000 * 1000000ull);
    uv_run(&l->loop, UV_RUN_NOWAIT);
  }
}

static void test_refused_answers_wait_and_keep_their_order(void **state) {
  struct lab l;
  lab_start(&l);
  enum { N = 40 };
  for (int i = 0; i < N; i++) {
    ask(&l, i);
  }
  refusals = 30; /* the batches' sendmmsg, then the queue's first tries */
  int got[N];
  assert_int_equal(collect(&l, got, N), N);
  assert_int_equal(n_refused, 30);
  for (int i = 0; i < N; i++) {
    assert_int_equal(got[i], i);
  }
  lab_stop(&l);
}

static void test_waiting_answers_are_bounded(void **state) {
  struct lab l;
  lab_start(&l);
  enum { N = 1100, WAIT_MAX = 1024 };
  refusals = -1;
  for (int i = 0; i < N; i++) {
    ask(&l, i);
    if (i % 50 == 49) {
      for (int k = 0; k < 20; k++) {
        uv_run(&l.loop, UV_RUN_NOWAIT); /* read before the socket's receive buffer fills */
      }
    }
  }
  wait_queries(&l, N);
  refusals = 0;
  every = 64; /* the socket takes 63 at a time: the client's receive buffer keeps up */
  static int got[N];
  assert_int_equal(collect(&l, got, N), WAIT_MAX); /* the rest were dropped, as UDP drops */
  for (int i = 0; i < WAIT_MAX; i++) {
    assert_int_equal(got[i], i);
  }
  lab_stop(&l);
}

static void test_closing_drops_what_waits(void **state) {
  struct lab l;
  lab_start(&l);
  refusals = -1;
  for (int i = 0; i < 5; i++) {
    ask(&l, i);
  }
  wait_queries(&l, 5);
  int got[5];
  assert_int_equal(collect(&l, got, 5), 0);
  lab_stop(&l); /* frees the five waiting answers: the sanitizer build checks */
  assert_true(l.closed);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_refused_answers_wait_and_keep_their_order),
      cmocka_unit_test(test_waiting_answers_are_bounded),
      cmocka_unit_test(test_closing_drops_what_waits),
  };
  return cmocka_run_group_tests_name("dns_udp", tests, NULL, NULL);
}
