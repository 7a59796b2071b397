/* tests/unit/test_http_faults.c: proxy/http listeners with scenario faults and delays on a real
 * loop — a client thread sees a black hole (connect never completes), a reset (ECONNRESET), a
 * silent server and a delayed answer that runs on the lab clock. */
#include "proxy/http/http.h"
#include "proxy/http/internal.h"
#include "proxy/tls/tls.h"
#include "tests/unit/test_tls_selfsigned.h"
#include "tests/unit/testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static struct scn_route routes[] = {
    {.path = "/", .kind = SCN_ROUTE_STATUS, .status = 200, .body = "<html>site</html>"},
};
static struct scn_host host = {.id = "contoso"};

struct run;
typedef void (*client_fn)(struct run *r);

struct run {
  uv_loop_t loop;
  uv_async_t done;
  struct http_listener *lst;
  struct scn_listener l;
  struct sockaddr_storage addr;
  struct labclock clock;
  bool use_clock;
  bool tls;
  pthread_t thread;
  client_fn client;
  /* results */
  int err;             /* errno the client saw */
  int n_answers;       /* complete answers read */
  bool connected;      /* a connect completed */
  bool got_bytes;      /* the server said anything at all */
  bool eof_seen;       /* the server closed */
  bool handshake_ok;   /* TLS */
  uint64_t elapsed_ms; /* real time the client waited for its answers */
  FILE *mem;
  char *text;
  size_t text_len;
  struct jnl *j;
};

static uint64_t now_ms(void) {
  return uv_hrtime() / 1000000u;
}

static int connect_to(struct run *r) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (const struct sockaddr *) &r->addr, sizeof(struct sockaddr_in)) != 0) {
    r->err = errno;
    close(fd);
    return -1;
  }
  r->connected = true;
  return fd;
}

static void *client_main(void *arg) {
  struct run *r = arg;
  r->client(r);
  uv_async_send(&r->done);
  return NULL;
}

static void on_done(uv_async_t *a) {
  struct run *r = a->data;
  http_listener_close(r->lst);
  uv_close((uv_handle_t *) a, NULL);
}

static void run_case(struct run *r, client_fn client) {
  X509 *cert = NULL;
  EVP_PKEY *key = NULL;
  SSL_CTX *ctx = NULL;
  r->client = client;
  r->l.present = true;
  r->l.routes = routes;
  r->l.n_routes = 1;
  r->mem = open_memstream(&r->text, &r->text_len);
  r->j = jnl_open_stream(r->mem);
  if (r->tls) {
    test_selfsigned("autodiscover.contoso.com", &cert, &key);
    char err[200];
    assert_int_equal(tls_server_ctx_new_from(&ctx, cert, key, NULL, err, sizeof err), TLS_OK);
    assert_non_null(ctx);
  }
  assert_int_equal(uv_loop_init(&r->loop), 0);
  if (r->use_clock) {
    labclock_init(&r->clock, &r->loop, 1000);
  }
  assert_int_equal(uv_async_init(&r->loop, &r->done, on_done), 0);
  r->done.data = r;
  struct sockaddr_in any;
  uv_ip4_addr("127.0.0.1", 0, &any);
  char err[200] = "";
  assert_int_equal(http_listener_start(&r->lst, &r->loop, (const struct sockaddr *) &any, &host,
                                       &r->l, ctx, r->use_clock ? &r->clock : NULL, r->j, err,
                                       sizeof err),
                   HTTP_OK);
  http__listener_set_idle(r->lst, 2000, 300);
  http__listener_set_silent(r->lst, 400);
  http_listener_addr(r->lst, &r->addr);
  assert_int_not_equal(((struct sockaddr_in *) &r->addr)->sin_port, 0);
  SSL_CTX_free(ctx);
  assert_int_equal(pthread_create(&r->thread, NULL, client_main, r), 0);
  uv_run(&r->loop, UV_RUN_DEFAULT);
  pthread_join(r->thread, NULL);
  test_loop_close(&r->loop);
  fflush(r->mem);
  X509_free(cert);
  EVP_PKEY_free(key);
}

static void run_cleanup(struct run *r) {
  jnl_close(r->j);
  fclose(r->mem);
  free(r->text);
}

/* ---- blackhole ---- */

/* Two non-blocking connects: neither completes within 300 ms (the kernel drops the SYNs). */
static void blackhole_client(struct run *r) {
  for (int i = 0; i < 2; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int rc = connect(fd, (const struct sockaddr *) &r->addr, sizeof(struct sockaddr_in));
    if (rc == 0) {
      r->connected = true;
    } else if (errno == EINPROGRESS) {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      if (poll(&p, 1, 300) > 0) {
        int soerr = 0;
        socklen_t len = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        r->connected = r->connected || soerr == 0;
        r->err = soerr;
      }
    }
    close(fd);
  }
}

static void test_blackhole_connect_never_completes(void **state) {
  (void) state;
  struct run r = {.l.fault = SCN_FAULT_BLACKHOLE};
  run_case(&r, blackhole_client);
  assert_false(r.connected);
  assert_int_equal(r.err, 0); /* not refused either: just no answer */
  assert_null(strstr(r.text, "tcp.accept"));
  run_cleanup(&r);
}

/* ---- reset ---- */

static void reset_client(struct run *r) {
  int fd = connect_to(r);
  if (fd < 0) {
    return;
  }
  const char *get = "GET / HTTP/1.1\r\nHost: c\r\n\r\n";
  if (send(fd, get, strlen(get), MSG_NOSIGNAL) < 0) {
    r->err = errno; /* the RST came first: the error is reported here, once */
    close(fd);
    return;
  }
  char b[256];
  ssize_t n = recv(fd, b, sizeof b, 0);
  if (n < 0) {
    r->err = errno;
  } else {
    r->got_bytes = n > 0;
    r->eof_seen = n == 0;
  }
  close(fd);
}

static void test_reset_gives_econnreset(void **state) {
  (void) state;
  struct run r = {.l.fault = SCN_FAULT_RESET};
  run_case(&r, reset_client);
  assert_true(r.connected);
  assert_int_equal(r.err, ECONNRESET);
  assert_false(r.got_bytes);
  assert_non_null(strstr(r.text, "\"ev\":\"tcp.accept\""));
  assert_non_null(strstr(r.text, "\"ev\":\"tcp.reset\",\"host\":\"contoso\""));
  assert_non_null(strstr(r.text, "\"why\":\"reset\""));
  assert_null(strstr(r.text, "http.request"));
  run_cleanup(&r);
}

static void quiet_reset_client(struct run *r) {
  int fd = connect_to(r);
  if (fd < 0) {
    return;
  }
  char b[256];
  ssize_t n = recv(fd, b, sizeof b, 0); /* says nothing: the grace period ends in a reset */
  r->err = n < 0 ? errno : 0;
  close(fd);
}

static void test_reset_comes_without_client_bytes_too(void **state) {
  (void) state;
  struct run r = {.l.fault = SCN_FAULT_RESET};
  run_case(&r, quiet_reset_client);
  assert_true(r.connected);
  assert_int_equal(r.err, ECONNRESET);
  run_cleanup(&r);
}

/* ---- TLS clients: reset-after-hello and silent ---- */

static void tls_client(struct run *r) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  int fd = connect_to(r);
  if (fd >= 0) {
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    SSL_set_tlsext_host_name(ssl, "autodiscover.contoso.com");
    errno = 0;
    r->handshake_ok = SSL_connect(ssl) == 1;
    r->err = errno;
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
  }
  SSL_CTX_free(ctx);
}

static void test_reset_after_hello_journals_the_hello(void **state) {
  (void) state;
  struct run r = {.l.fault = SCN_FAULT_RESET_HELLO, .tls = true};
  run_case(&r, tls_client);
  assert_true(r.connected);
  assert_false(r.handshake_ok);
  assert_int_equal(r.err, ECONNRESET);
  const char *hello = strstr(r.text, "\"ev\":\"tls.hello\",\"host\":\"autodiscover.contoso.com\"");
  assert_non_null(hello);
  const char *reset = strstr(r.text, "\"ev\":\"tcp.reset\"");
  assert_non_null(reset);
  assert_true(hello < reset);
  assert_non_null(strstr(r.text, "\"why\":\"reset-after-hello\""));
  assert_non_null(strstr(r.text, "\"ev\":\"tls.done\",\"ok\":false"));
  run_cleanup(&r);
}

static void test_silent_tls_never_answers_the_hello(void **state) {
  (void) state;
  struct run r = {.l.fault = SCN_FAULT_SILENT, .tls = true};
  uint64_t t0 = now_ms();
  run_case(&r, tls_client);
  assert_true(r.connected);
  assert_false(r.handshake_ok);
  assert_true(now_ms() - t0 >= 350); /* nothing came until the silent timeout (400 ms) */
  assert_non_null(strstr(r.text, "\"ev\":\"tls.hello\""));
  assert_non_null(strstr(r.text, "\"error\":\"silent fault: the lab never answered\""));
  run_cleanup(&r);
}

static void silent_client(struct run *r) {
  int fd = connect_to(r);
  if (fd < 0) {
    return;
  }
  const char *get = "GET / HTTP/1.1\r\nHost: c\r\n\r\n";
  send(fd, get, strlen(get), MSG_NOSIGNAL);
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (poll(&p, 1, 250) != 0) {
    r->got_bytes = true; /* nothing, not even EOF, may come this early */
  }
  char b[256];
  ssize_t n;
  while ((n = recv(fd, b, sizeof b, 0)) > 0) {
    r->got_bytes = true;
  }
  r->eof_seen = n == 0;
  close(fd);
}

static void test_silent_plain_never_answers(void **state) {
  (void) state;
  struct run r = {.l.fault = SCN_FAULT_SILENT};
  run_case(&r, silent_client);
  assert_true(r.connected);
  assert_false(r.got_bytes);
  assert_true(r.eof_seen); /* dropped after the silent timeout */
  assert_non_null(strstr(r.text, "\"ev\":\"tcp.accept\""));
  assert_null(strstr(r.text, "http.request"));
  run_cleanup(&r);
}

/* ---- delay ---- */

/* read_answer reads one complete response (headers and Content-Length body). */
static bool read_answer(int fd) {
  char b[4096];
  size_t have = 0;
  for (;;) {
    ssize_t n = recv(fd, b + have, sizeof b - 1 - have, 0);
    if (n <= 0) {
      return false;
    }
    have += (size_t) n;
    b[have] = 0;
    const char *end = strstr(b, "\r\n\r\n");
    const char *cl = strstr(b, "Content-Length: ");
    if (end != NULL && cl != NULL && have >= (size_t) (end + 4 - b) + strtoul(cl + 16, NULL, 10)) {
      return strncmp(b, "HTTP/1.1 200 OK", 15) == 0;
    }
  }
}

static void delayed_client(struct run *r) {
  int fd = connect_to(r);
  if (fd < 0) {
    return;
  }
  uint64_t t0 = now_ms();
  const char *get = "GET / HTTP/1.1\r\nHost: c\r\n\r\n";
  for (int i = 0; i < 2; i++) {
    if (send(fd, get, strlen(get), MSG_NOSIGNAL) < 0 || !read_answer(fd)) {
      break;
    }
    r->n_answers++;
  }
  r->elapsed_ms = now_ms() - t0;
  close(fd);
}

static void test_delay_runs_on_the_lab_clock(void **state) {
  (void) state;
  struct run r = {.l.delay_ms = 5000, .use_clock = true};
  run_case(&r, delayed_client);
  assert_int_equal(r.n_answers, 2);
  /* at scale 1000, 2 × 5000 lab ms take ~10 real ms */
  assert_true(r.elapsed_ms >= 8);
  assert_true(r.elapsed_ms < 2000);
  assert_true(labclock_now_ms(&r.clock) >= 10000);
  assert_non_null(strstr(r.text, "\"delay_ms\":5000"));
  run_cleanup(&r);
}

static void impatient_client(struct run *r) {
  int fd = connect_to(r);
  if (fd < 0) {
    return;
  }
  const char *get = "GET / HTTP/1.1\r\nHost: c\r\n\r\n";
  send(fd, get, strlen(get), MSG_NOSIGNAL);
  struct pollfd p = {.fd = fd, .events = POLLIN};
  r->got_bytes = poll(&p, 1, 100) > 0;
  close(fd); /* gives up; the listener then closes with the delay still running */
}

static void test_delay_is_cancelled_when_the_connection_closes(void **state) {
  (void) state;
  struct run r = {.l.delay_ms = 60000}; /* real time: the loop must not wait a minute */
  uint64_t t0 = now_ms();
  run_case(&r, impatient_client);
  assert_false(r.got_bytes);
  assert_true(now_ms() - t0 < 5000);
  run_cleanup(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_blackhole_connect_never_completes),
      cmocka_unit_test(test_reset_gives_econnreset),
      cmocka_unit_test(test_reset_comes_without_client_bytes_too),
      cmocka_unit_test(test_reset_after_hello_journals_the_hello),
      cmocka_unit_test(test_silent_tls_never_answers_the_hello),
      cmocka_unit_test(test_silent_plain_never_answers),
      cmocka_unit_test(test_delay_runs_on_the_lab_clock),
      cmocka_unit_test(test_delay_is_cancelled_when_the_connection_closes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
