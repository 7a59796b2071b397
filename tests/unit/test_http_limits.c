/* tests/unit/test_http_limits.c: a listener's limits on a real loop, with a client thread on
 * blocking sockets — connections past the caps are reset and journaled once (limit.reached)
 * while others are served; a request head that dribbles in is answered 408 at its deadline; a
 * handshake that does not finish is cut at its own; a silent fault keeps its own timing. */
#include "proxy/http/http.h"
#include "proxy/http/internal.h"
#include "proxy/tls/tls.h"
#include "tests/unit/test_tls_selfsigned.h"
#include "tests/unit/testutil.h"

#include <arpa/inet.h>
#include <errno.h>
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
  struct http_limits lim;
  struct sockaddr_storage addr;
  bool tls;
  pthread_t thread;
  client_fn client;
  /* results */
  int status[8];     /* HTTP status of each answer read (0: none) */
  bool closed[8];    /* the server ended connection i */
  int err;           /* errno of the last failure */
  bool handshake_ok; /* TLS */
  uint64_t elapsed_ms;
  FILE *mem;
  char *text;
  size_t text_len;
  struct jnl *j;
};

static uint64_t now_ms(void) {
  return uv_hrtime() / 1000000u;
}

/* connect_from opens a connection from `src` (a loopback address) with 5 s timeouts. */
static int connect_from(struct run *r, const char *src) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct sockaddr_in from;
  uv_ip4_addr(src, 0, &from);
  if (bind(fd, (struct sockaddr *) &from, sizeof from) != 0 ||
      connect(fd, (const struct sockaddr *) &r->addr, sizeof(struct sockaddr_in)) != 0) {
    r->err = errno;
    close(fd);
    return -1;
  }
  return fd;
}

/* status_of reads one answer's status line; 0 when the server closed (EOF or RST) first. */
static int status_of(int fd) {
  char b[4096];
  size_t have = 0;
  while (have < sizeof b - 1) {
    ssize_t n = recv(fd, b + have, sizeof b - 1 - have, 0);
    if (n <= 0) {
      break;
    }
    have += (size_t) n;
    b[have] = 0;
    if (strstr(b, "\r\n") != NULL) {
      return strncmp(b, "HTTP/1.1 ", 9) == 0 ? (int) strtol(b + 9, NULL, 10) : -1;
    }
  }
  return 0;
}

/* ended: the server has closed `fd` (EOF or RST) within `ms`, after sending at most an answer. */
static bool ended(int fd, int ms) {
  char b[4096];
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (poll(&p, 1, ms) == 1) {
    ssize_t n = recv(fd, b, sizeof b, 0);
    if (n <= 0) {
      return true;
    }
  }
  return false;
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
  }
  assert_int_equal(uv_loop_init(&r->loop), 0);
  assert_int_equal(uv_async_init(&r->loop, &r->done, on_done), 0);
  r->done.data = r;
  struct sockaddr_in any;
  uv_ip4_addr("127.0.0.1", 0, &any);
  char err[200] = "";
  assert_int_equal(http_listener_start(&r->lst, &r->loop, (const struct sockaddr *) &any, &host,
                                       &r->l, ctx, NULL, r->j, err, sizeof err),
                   HTTP_OK);
  http__listener_set_idle(r->lst, 2000, 300);
  http__listener_set_silent(r->lst, 400);
  http_listener_set_limits(r->lst, &r->lim);
  http_listener_addr(r->lst, &r->addr);
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

static size_t count(const char *text, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle)) {
    n++;
  }
  return n;
}

static const char get[] = "GET / HTTP/1.1\r\nHost: c\r\n\r\n";

/* ---- caps ---- */

/* 127.0.0.1 holds two connections; its third and fourth are reset; 127.0.0.2 is served, and so
 * are the held ones. */
static void capped_client(struct run *r) {
  int held[2] = {connect_from(r, "127.0.0.1"), connect_from(r, "127.0.0.1")};
  send(held[0], get, strlen(get), MSG_NOSIGNAL);
  r->status[0] = status_of(held[0]); /* the server has accepted both by now */
  for (int i = 0; i < 2; i++) {
    int fd = connect_from(r, "127.0.0.1"); /* -1: reset before connect() even returned */
    r->closed[1 + i] = fd < 0 ? r->err == ECONNRESET : ended(fd, 2000);
    if (fd >= 0) {
      close(fd);
    }
  }
  int other = connect_from(r, "127.0.0.2");
  send(other, get, strlen(get), MSG_NOSIGNAL);
  r->status[3] = status_of(other);
  send(held[1], get, strlen(get), MSG_NOSIGNAL);
  r->status[4] = status_of(held[1]);
  close(held[0]);
  close(held[1]);
  close(other);
}

static void test_per_client_cap(void **state) {
  struct run r = {.lim = {.max_conns = 10, .max_conns_per_client = 2}};
  run_case(&r, capped_client);
  assert_int_equal(r.status[0], 200);
  assert_true(r.closed[1]);
  assert_true(r.closed[2]);
  assert_int_equal(r.status[3], 200);
  assert_int_equal(r.status[4], 200);
  /* the refused ones have no event of their own: the first is reported at once, the second
   * within a second or when the listener closed */
  assert_int_equal(count(r.text, "\"ev\":\"tcp.accept\""), 3);
  assert_int_equal(count(r.text, "\"ev\":\"limit.reached\""), 2);
  assert_non_null(
      strstr(r.text, "\"ev\":\"limit.reached\",\"service\":\"http\",\"local\":\"127.0.0.1:"));
  assert_non_null(strstr(r.text, "\"host\":\"contoso\",\"tls\":false,\"refused\":1,\"full\":0,"
                                 "\"per_client\":1,\"max_conns\":10,\"max_per_client\":2,"
                                 "\"open\":2,\"clients\":[\"127.0.0.1\"]}"));
  run_cleanup(&r);
}

static void full_client(struct run *r) {
  int a = connect_from(r, "127.0.0.1");
  int b = connect_from(r, "127.0.0.2");
  send(a, get, strlen(get), MSG_NOSIGNAL);
  send(b, get, strlen(get), MSG_NOSIGNAL);
  r->status[0] = status_of(a);
  r->status[1] = status_of(b);
  int c = connect_from(r, "127.0.0.3");
  r->closed[2] = c < 0 ? r->err == ECONNRESET : ended(c, 2000);
  if (c >= 0) {
    close(c);
  }
  close(a); /* room again, once the server has seen it close: try for up to 5 s */
  for (int tries = 0; tries < 250 && r->status[3] != 200; tries++) {
    int d = connect_from(r, "127.0.0.3"); /* -1: reset before connect() returned */
    if (d >= 0) {
      send(d, get, strlen(get), MSG_NOSIGNAL);
      r->status[3] = status_of(d);
      close(d);
    }
    if (r->status[3] != 200) {
      usleep(20 * 1000);
    }
  }
  close(b);
}

static void test_listener_cap(void **state) {
  struct run r = {.lim = {.max_conns = 2}};
  run_case(&r, full_client);
  assert_int_equal(r.status[0], 200);
  assert_int_equal(r.status[1], 200);
  assert_true(r.closed[2]);
  assert_int_equal(r.status[3], 200);
  assert_non_null(strstr(r.text, "\"refused\":1,\"full\":1,\"per_client\":0,\"max_conns\":2,"
                                 "\"max_per_client\":0,\"open\":2,\"clients\":[\"127.0.0.3\"]}"));
  run_cleanup(&r);
}

/* ---- the head deadline ---- */

/* dribble sends `start`, then `byte` every 50 ms (so the 2 s idle timer never fires) until the
 * server answers; the answer's status, how long it took and whether the server then closed go
 * into r. */
static void dribble(struct run *r, const char *start, char byte) {
  int fd = connect_from(r, "127.0.0.1");
  send(fd, start, strlen(start), MSG_NOSIGNAL);
  uint64_t t0 = now_ms();
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (poll(&p, 1, 50) == 0 && now_ms() - t0 < 5000) {
    send(fd, &byte, 1, MSG_NOSIGNAL);
  }
  r->elapsed_ms = now_ms() - t0;
  r->status[0] = status_of(fd);
  r->closed[0] = ended(fd, 2000);
  close(fd);
}

/* slowloris: a header byte every 50 ms */
static void dribbling_client(struct run *r) {
  dribble(r, "GET / HTTP/1.1\r\nHost: c\r\nX-Slow: ", 'a');
}

static void test_head_deadline_answers_408(void **state) {
  struct run r = {.lim = {.head_ms = 300}};
  run_case(&r, dribbling_client);
  assert_int_equal(r.status[0], 408);
  assert_true(r.closed[0]);
  assert_true(r.elapsed_ms >= 250);
  assert_true(r.elapsed_ms < 1900); /* before the idle timer could have fired */
  assert_non_null(strstr(
      r.text, "\"ev\":\"http.error\",\"error\":\"request head not complete within 300 ms\""));
  assert_non_null(strstr(r.text, "\"ev\":\"http.response\",\"status\":408"));
  assert_null(strstr(r.text, "\"ev\":\"http.request\""));
  run_cleanup(&r);
}

/* ---- the body deadline ---- */

/* a whole head, then its body a byte every 50 ms */
static void dribbling_body_client(struct run *r) {
  dribble(r, "POST / HTTP/1.1\r\nHost: c\r\nContent-Length: 1000\r\n\r\n", 'b');
}

static void test_body_deadline_answers_408(void **state) {
  struct run r = {.lim = {.head_ms = 300, .body_ms = 300}};
  run_case(&r, dribbling_body_client);
  assert_int_equal(r.status[0], 408);
  assert_true(r.closed[0]);
  assert_true(r.elapsed_ms >= 250);
  assert_true(r.elapsed_ms < 1900); /* before the idle timer could have fired */
  assert_non_null(strstr(
      r.text, "\"ev\":\"http.error\",\"error\":\"request body not complete within 300 ms\""));
  run_cleanup(&r);
}

/* the head within its 300 ms (in two pieces 200 ms apart), then the body within its own 300 ms
 * (likewise): 400 ms in all, more than either deadline, and answered */
static void two_paced_halves_client(struct run *r) {
  int fd = connect_from(r, "127.0.0.1");
  send(fd, "POST / HTTP/1.1\r\n", 17, MSG_NOSIGNAL);
  usleep(200 * 1000);
  const char *rest = "Host: c\r\nContent-Length: 4\r\n\r\nab";
  send(fd, rest, strlen(rest), MSG_NOSIGNAL);
  usleep(200 * 1000);
  send(fd, "cd", 2, MSG_NOSIGNAL);
  r->status[0] = status_of(fd);
  close(fd);
}

static void test_body_deadline_starts_when_the_head_ends(void **state) {
  struct run r = {.lim = {.head_ms = 300, .body_ms = 300}};
  run_case(&r, two_paced_halves_client);
  assert_int_equal(r.status[0], 200);
  assert_null(strstr(r.text, "http.error"));
  run_cleanup(&r);
}

/* blank lines before a request count as its head too */
static void blank_lines_client(struct run *r) {
  int fd = connect_from(r, "127.0.0.1");
  uint64_t t0 = now_ms();
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (poll(&p, 1, 50) == 0 && now_ms() - t0 < 5000) {
    send(fd, "\r\n", 2, MSG_NOSIGNAL);
  }
  r->elapsed_ms = now_ms() - t0;
  r->status[0] = status_of(fd);
  close(fd);
}

static void test_blank_lines_do_not_hold_the_deadline_off(void **state) {
  struct run r = {.lim = {.head_ms = 300}};
  run_case(&r, blank_lines_client);
  assert_int_equal(r.status[0], 408);
  assert_true(r.elapsed_ms < 1900);
  run_cleanup(&r);
}

/* a keep-alive connection idle between requests is the idle timer's, not the head deadline's;
 * a head that comes in pieces within the deadline is answered */
static void patient_client(struct run *r) {
  int fd = connect_from(r, "127.0.0.1");
  send(fd, get, strlen(get), MSG_NOSIGNAL);
  r->status[0] = status_of(fd);
  usleep(600 * 1000); /* longer than head_ms, shorter than the idle timeout */
  send(fd, "GET / HTTP/1.1\r\n", 16, MSG_NOSIGNAL);
  usleep(100 * 1000);
  send(fd, "Host: c\r\n\r\n", 11, MSG_NOSIGNAL);
  r->status[1] = status_of(fd);
  close(fd);
}

static void test_deadline_starts_with_the_head(void **state) {
  struct run r = {.lim = {.head_ms = 300}};
  run_case(&r, patient_client);
  assert_int_equal(r.status[0], 200);
  assert_int_equal(r.status[1], 200);
  assert_null(strstr(r.text, "http.error"));
  run_cleanup(&r);
}

/* ---- the handshake deadline ---- */

static void stalled_hello_client(struct run *r) {
  int fd = connect_from(r, "127.0.0.1");
  /* the first bytes of a TLS record that announces a ClientHello, and no more */
  static const unsigned char part[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc};
  send(fd, part, sizeof part, MSG_NOSIGNAL);
  uint64_t t0 = now_ms();
  r->closed[0] = ended(fd, 5000);
  r->elapsed_ms = now_ms() - t0;
  close(fd);
  /* a client that completes its handshake in time is served */
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  fd = connect_from(r, "127.0.0.1");
  SSL *ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  r->handshake_ok = SSL_connect(ssl) == 1;
  char b[256];
  if (r->handshake_ok && SSL_write(ssl, get, (int) strlen(get)) > 0) {
    int n = SSL_read(ssl, b, sizeof b - 1);
    b[n > 0 ? n : 0] = 0;
    r->status[1] = strncmp(b, "HTTP/1.1 200", 12) == 0 ? 200 : -1;
  }
  ERR_clear_error();
  SSL_free(ssl);
  close(fd);
  SSL_CTX_free(ctx);
}

static void test_handshake_deadline(void **state) {
  struct run r = {.tls = true, .lim = {.handshake_ms = 300}};
  run_case(&r, stalled_hello_client);
  assert_true(r.closed[0]);
  assert_true(r.elapsed_ms >= 250);
  assert_true(r.elapsed_ms < 1900);
  assert_true(r.handshake_ok);
  assert_int_equal(r.status[1], 200);
  assert_non_null(strstr(r.text, "\"ev\":\"tls.done\",\"ok\":false,\"host\":null,\"error\":"
                                 "\"handshake not complete within 300 ms\",\"abandoned\":false,"
                                 "\"state\":\"read_hello\""));
  run_cleanup(&r);
}

/* A silent fault swallows the ClientHello and keeps the connection its own time (400 ms here),
 * however short the deadlines. */
static void silent_tls_client(struct run *r) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  int fd = connect_from(r, "127.0.0.1");
  SSL *ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  uint64_t t0 = now_ms();
  r->handshake_ok = SSL_connect(ssl) == 1;
  r->elapsed_ms = now_ms() - t0;
  ERR_clear_error();
  SSL_free(ssl);
  close(fd);
  SSL_CTX_free(ctx);
}

static void test_silent_fault_keeps_its_timing(void **state) {
  struct run r = {
      .tls = true, .l.fault = SCN_FAULT_SILENT, .lim = {.handshake_ms = 50, .head_ms = 50}};
  run_case(&r, silent_tls_client);
  assert_false(r.handshake_ok);
  assert_true(r.elapsed_ms >= 350);
  assert_non_null(strstr(r.text, "\"error\":\"silent fault: the lab never answered\""));
  assert_null(strstr(r.text, "not complete within"));
  run_cleanup(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_per_client_cap),
      cmocka_unit_test(test_listener_cap),
      cmocka_unit_test(test_head_deadline_answers_408),
      cmocka_unit_test(test_body_deadline_answers_408),
      cmocka_unit_test(test_body_deadline_starts_when_the_head_ends),
      cmocka_unit_test(test_blank_lines_do_not_hold_the_deadline_off),
      cmocka_unit_test(test_deadline_starts_with_the_head),
      cmocka_unit_test(test_handshake_deadline),
      cmocka_unit_test(test_silent_fault_keeps_its_timing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
