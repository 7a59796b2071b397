/* tests/unit/test_http_loop.c: proxy/http listeners on a real loop — a blocking client in a
 * thread talks plain HTTP or TLS (BoringSSL) to 127.0.0.1:0 and the test checks the bytes it got
 * back and the journal. */
#include "proxy/http/http.h"
#include "proxy/http/internal.h"
#include "proxy/tls/tls.h"
#include "tests/unit/test_tls_selfsigned.h"
#include "tests/unit/testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define POX_BODY                                                                                   \
  "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"" HTTP_NS_REQUEST "\">"         \
  "<Request><EMailAddress>alice@contoso.com</"                                                     \
  "EMailAddress><AcceptableResponseSchema>" HTTP_NS_RESPONSE_2006A                                 \
  "</AcceptableResponseSchema></Request></Autodiscover>"

static struct scn_route routes[] = {
    {.path = "/autodiscover/autodiscover.xml",
     .kind = SCN_ROUTE_AUTODISCOVER,
     .ad = {.action = SCN_AD_SETTINGS, .ews_url = "https://mail.contoso.com/EWS/Exchange.asmx"}},
    {.path = "/", .kind = SCN_ROUTE_STATUS, .status = 200, .body = "<html>site</html>"},
};
static struct scn_route big_route = {.path = "/big", .kind = SCN_ROUTE_STATUS, .status = 200};
static struct scn_listener listener = {.present = true, .routes = routes, .n_routes = 2};
static struct scn_host host = {.id = "contoso"};

struct io {
  int fd;
  SSL *ssl;
  struct buf carry; /* bytes read past the end of the last response */
};

struct run;
typedef void (*client_fn)(struct run *r);

/* One loop, one listener, one client thread; results are checked after the loop ends. */
struct run {
  uv_loop_t loop;
  uv_async_t done;
  struct http_listener *lst;
  struct sockaddr_storage addr;
  pthread_t thread;
  client_fn client;
  SSL_CTX *server_ctx;
  X509 *cert;
  EVP_PKEY *key;
  bool client_verify; /* TLS client checks the certificate (and fails: no roots) */
  unsigned idle_ms;   /* the listener's idle timeout; 0 gives 300 ms, for the idle tests */
  /* results */
  struct buf got[2];
  int n_got;
  bool eof_seen;
  bool cert_matches;
  bool handshake_ok;
  FILE *mem;
  char *text;
  size_t text_len;
  struct jnl *j;
};

static int connect_to(const struct sockaddr_storage *addr) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct timeval tv = {.tv_sec = 10};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (const struct sockaddr *) addr, sizeof(struct sockaddr_in)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static bool io_write(struct io *io, const char *s, size_t len) {
  size_t off = 0;
  while (off < len) {
    ssize_t n = io->ssl != NULL ? SSL_write(io->ssl, s + off, (int) (len - off))
                                : send(io->fd, s + off, len - off, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    off += (size_t) n;
  }
  return true;
}

static ssize_t io_read(struct io *io, char *b, size_t len) {
  if (io->ssl != NULL) {
    int n = SSL_read(io->ssl, b, (int) len);
    return n > 0 ? n : 0;
  }
  return recv(io->fd, b, len, 0);
}

/* read_response reads one response (headers + Content-Length body) into out. */
static bool read_response(struct io *io, struct buf *out) {
  char chunk[4096];
  if (io->carry.max == 0) {
    buf_init(&io->carry, 16u << 20);
  }
  buf_append(out, buf_slice(&io->carry));
  buf_reset(&io->carry);
  for (;;) {
    const char *s = buf_cstr(out);
    const char *end = strstr(s, "\r\n\r\n");
    if (end != NULL) {
      const char *cl = strstr(s, "Content-Length: ");
      size_t want = cl == NULL || cl > end ? 0 : strtoul(cl + 16, NULL, 10);
      size_t total = (size_t) (end + 4 - s) + want;
      if (out->len >= total) {
        buf_append(&io->carry, (struct slice){out->ptr + total, out->len - total});
        out->len = total;
        out->ptr[total] = 0;
        return true;
      }
    }
    ssize_t n = io_read(io, chunk, sizeof chunk);
    if (n <= 0) {
      return false;
    }
    buf_append(out, (struct slice){(const uint8_t *) chunk, (size_t) n});
  }
}

static void read_to_eof(struct run *r, struct io *io, struct buf *out) {
  char chunk[4096];
  for (;;) {
    ssize_t n = io_read(io, chunk, sizeof chunk);
    if (n <= 0) {
      r->eof_seen = n == 0;
      return;
    }
    buf_append(out, (struct slice){(const uint8_t *) chunk, (size_t) n});
  }
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

static void run_case(struct run *r, client_fn client, bool tls) {
  r->client = client;
  for (int i = 0; i < 2; i++) {
    buf_init(&r->got[i], 4u << 20);
  }
  r->mem = open_memstream(&r->text, &r->text_len);
  r->j = jnl_open_stream(r->mem);
  if (tls) {
    test_selfsigned("autodiscover.contoso.com", &r->cert, &r->key);
    char err[200];
    assert_int_equal(
        tls_server_ctx_new_from(&r->server_ctx, r->cert, r->key, NULL, err, sizeof err), TLS_OK);
    assert_non_null(r->server_ctx);
  }
  assert_int_equal(uv_loop_init(&r->loop), 0);
  assert_int_equal(uv_async_init(&r->loop, &r->done, on_done), 0);
  r->done.data = r;
  struct sockaddr_in any;
  uv_ip4_addr("127.0.0.1", 0, &any);
  char err[200] = "";
  assert_int_equal(http_listener_start(&r->lst, &r->loop, (const struct sockaddr *) &any, &host,
                                       &listener, r->server_ctx, NULL, r->j, err, sizeof err),
                   HTTP_OK);
  http__listener_set_idle(r->lst, r->idle_ms != 0 ? r->idle_ms : 300, 300);
  http_listener_addr(r->lst, &r->addr);
  assert_int_equal(r->addr.ss_family, AF_INET);
  assert_int_not_equal(((struct sockaddr_in *) &r->addr)->sin_port, 0);
  SSL_CTX_free(r->server_ctx); /* the listener holds its own reference */
  r->server_ctx = NULL;
  assert_int_equal(pthread_create(&r->thread, NULL, client_main, r), 0);
  uv_run(&r->loop, UV_RUN_DEFAULT);
  pthread_join(r->thread, NULL);
  test_loop_close(&r->loop);
  fflush(r->mem);
}

static void run_cleanup(struct run *r) {
  for (int i = 0; i < 2; i++) {
    buf_cleanup(&r->got[i]);
  }
  jnl_close(r->j);
  fclose(r->mem);
  free(r->text);
  X509_free(r->cert);
  EVP_PKEY_free(r->key);
}

static const char *post_request(char *out, size_t out_size) {
  buf_fmt(out, out_size,
          "POST /Autodiscover/Autodiscover.xml HTTP/1.1\r\nHost: autodiscover.contoso.com\r\n"
          "Content-Type: text/xml\r\nContent-Length: %zu\r\n\r\n%s",
          strlen(POX_BODY), POX_BODY);
  return out;
}

/* Two requests on one connection: the POX POST, then the site page. */
static void two_requests(struct run *r, struct io *io) {
  char req[2048];
  post_request(req, sizeof req);
  if (!io_write(io, req, strlen(req)) || !read_response(io, &r->got[0])) {
    return;
  }
  r->n_got = 1;
  const char *get = "GET /index.html HTTP/1.1\r\nHost: autodiscover.contoso.com\r\n\r\n";
  if (io_write(io, get, strlen(get)) && read_response(io, &r->got[1])) {
    r->n_got = 2;
  }
}

static void plain_client(struct run *r) {
  struct io io = {.fd = connect_to(&r->addr)};
  if (io.fd >= 0) {
    two_requests(r, &io);
    close(io.fd);
  }
  buf_cleanup(&io.carry);
}

static void check_two_responses(struct run *r) {
  assert_int_equal(r->n_got, 2);
  const char *a = buf_cstr(&r->got[0]);
  assert_memory_equal(a, "HTTP/1.1 200 OK\r\n", 17);
  assert_non_null(strstr(a, "Content-Type: text/xml; charset=utf-8\r\n"));
  assert_non_null(strstr(a, "Connection: keep-alive\r\n"));
  assert_non_null(strstr(a, "<Action>settings</Action>"));
  assert_non_null(strstr(a, "<EwsUrl>https://mail.contoso.com/EWS/Exchange.asmx</EwsUrl>"));
  const char *b = buf_cstr(&r->got[1]);
  assert_memory_equal(b, "HTTP/1.1 200 OK\r\n", 17);
  assert_non_null(strstr(b, "\r\n\r\n<html>site</html>"));
  assert_non_null(strstr(r->text, "\"ev\":\"http.request\",\"host\":\"autodiscover.contoso.com\","
                                  "\"method\":\"POST\",\"path\":\"/Autodiscover/Autodiscover.xml\","
                                  "\"email\":\"alice@contoso.com\""));
  assert_non_null(strstr(r->text, "\"route\":\"/autodiscover/autodiscover.xml\""));
  /* one connection only */
  const char *acc = strstr(r->text, "\"ev\":\"tcp.accept\"");
  assert_non_null(acc);
  assert_null(strstr(acc + 1, "\"ev\":\"tcp.accept\""));
}

static void test_plain_keep_alive(void **state) {
  struct run r = {0};
  run_case(&r, plain_client, false);
  check_two_responses(&r);
  assert_non_null(
      strstr(r.text, "\"ev\":\"tcp.accept\",\"host\":\"contoso\",\"local\":\"127.0.0.1:"));
  assert_non_null(strstr(r.text, "\"tls\":false"));
  run_cleanup(&r);
}

static void malformed_client(struct run *r) {
  struct io io = {.fd = connect_to(&r->addr)};
  if (io.fd >= 0) {
    const char *bad = "BLAH BLAH\r\n\r\n";
    io_write(&io, bad, strlen(bad));
    read_to_eof(r, &io, &r->got[0]);
    close(io.fd);
  }
}

static void test_malformed_gets_400_and_close(void **state) {
  struct run r = {0};
  run_case(&r, malformed_client, false);
  assert_memory_equal(buf_cstr(&r.got[0]), "HTTP/1.1 400 Bad Request\r\n", 26);
  assert_non_null(strstr(buf_cstr(&r.got[0]), "Connection: close\r\n"));
  assert_true(r.eof_seen); /* the server closed */
  assert_non_null(strstr(r.text, "\"ev\":\"http.error\""));
  run_cleanup(&r);
}

static void oversize_client(struct run *r) {
  struct io io = {.fd = connect_to(&r->addr)};
  if (io.fd < 0) {
    return;
  }
  struct buf req;
  buf_init(&req, 1u << 20);
  buf_append_str(&req, "GET / HTTP/1.1\r\nHost: c\r\nX-Big: ");
  for (int i = 0; i < 70000; i++) {
    buf_append_str(&req, "x");
  }
  buf_append_str(&req, "\r\n\r\n");
  io_write(&io, (const char *) req.ptr, req.len);
  buf_cleanup(&req);
  read_to_eof(r, &io, &r->got[0]);
  close(io.fd);
}

static void test_oversize_header_gets_431(void **state) {
  struct run r = {0};
  run_case(&r, oversize_client, false);
  assert_memory_equal(buf_cstr(&r.got[0]), "HTTP/1.1 431 ", 13);
  assert_true(r.eof_seen);
  run_cleanup(&r);
}

static void idle_client(struct run *r) {
  struct io io = {.fd = connect_to(&r->addr)};
  if (io.fd >= 0) {
    read_to_eof(r, &io, &r->got[0]); /* sends nothing; the idle timer (300 ms here) hangs up */
    close(io.fd);
  }
}

static void test_idle_connection_is_closed(void **state) {
  struct run r = {0};
  run_case(&r, idle_client, false);
  assert_true(r.eof_seen);
  assert_int_equal(r.got[0].len, 0);
  run_cleanup(&r);
}

/* A request every 100 ms for 600 ms: each one keeps the 300 ms idle timer off, so all six are
 * answered on the one connection; then it goes quiet and the timer hangs up. */
static void steady_client(struct run *r) {
  struct io io = {.fd = connect_to(&r->addr)};
  if (io.fd < 0) {
    return;
  }
  struct buf one;
  buf_init(&one, 1u << 20);
  for (int i = 0; i < 6; i++) {
    usleep(100 * 1000);
    buf_reset(&one);
    const char req[] = "GET / HTTP/1.1\r\nHost: c\r\n\r\n";
    if (!io_write(&io, req, sizeof req - 1) || !read_response(&io, &one) ||
        strstr(buf_cstr(&one), "HTTP/1.1 200 OK") == NULL) {
      break;
    }
    r->n_got = i + 1;
  }
  buf_cleanup(&one);
  read_to_eof(r, &io, &r->got[0]);
  buf_cleanup(&io.carry);
  close(io.fd);
}

static void test_activity_keeps_connection_open(void **state) {
  struct run r = {0};
  run_case(&r, steady_client, false);
  assert_int_equal(r.n_got, 6);
  assert_true(r.eof_seen); /* and quiet, it is closed */
  assert_int_equal(r.got[0].len, 0);
  run_cleanup(&r);
}

static void abandoned_client(struct run *r) {
  struct io io = {.fd = connect_to(&r->addr)};
  if (io.fd >= 0) {
    io_write(&io, "GET / HT", 8); /* the listener closes with this connection open */
    r->n_got = -1;
    close(io.fd);
  }
}

static void test_close_with_open_connection(void **state) {
  struct run r = {0};
  run_case(&r, abandoned_client, false); /* test_loop_close fails on a leaked handle */
  assert_int_equal(r.n_got, -1);
  run_cleanup(&r);
}

#define N_BIG 100
#define BIG_LEN 100000

/* The client asks for N_BIG large pages before reading any: the server stops reading while its
 * answers queue, resumes as they drain, and every answer arrives complete and in order. */
static void greedy_client(struct run *r) {
  struct io io = {.fd = connect_to(&r->addr)};
  if (io.fd < 0) {
    return;
  }
  struct buf reqs;
  buf_init(&reqs, 1u << 20);
  for (int i = 0; i < N_BIG; i++) {
    buf_appendf(&reqs, "GET /big?i=%d HTTP/1.1\r\nHost: c\r\n\r\n", i);
  }
  io_write(&io, (const char *) reqs.ptr, reqs.len);
  buf_cleanup(&reqs);
  struct buf one;
  buf_init(&one, 1u << 20);
  for (int i = 0; i < N_BIG; i++) {
    buf_reset(&one);
    if (!read_response(&io, &one) || strstr(buf_cstr(&one), "HTTP/1.1 200 OK") == NULL ||
        one.len < BIG_LEN) {
      break;
    }
    r->n_got = i + 1;
  }
  buf_cleanup(&one);
  buf_cleanup(&io.carry);
  close(io.fd);
}

static void test_client_that_does_not_read(void **state) {
  static char body[BIG_LEN + 1];
  memset(body, 'x', BIG_LEN);
  big_route.body = body;
  struct scn_route saved = routes[1];
  routes[1] = big_route;
  /* Not an idle test: a client thread descheduled for a moment (a loaded machine, ASan) must
   * not look idle while its 10 MB queue drains. */
  struct run r = {.idle_ms = 10000};
  run_case(&r, greedy_client, false);
  routes[1] = saved;
  assert_int_equal(r.n_got, N_BIG);
  run_cleanup(&r);
}

static void test_tls_idle_handshake_is_journaled(void **state) {
  struct run r = {0};
  run_case(&r, idle_client, true);
  assert_true(r.eof_seen);
  assert_non_null(strstr(r.text, "\"ev\":\"tls.done\",\"ok\":false,\"host\":null,"
                                 "\"error\":\"no data from the peer: idle timeout"));
  run_cleanup(&r);
}

static void tls_client(struct run *r) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  SSL_CTX_set_verify(ctx, r->client_verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
  struct io io = {.fd = connect_to(&r->addr)};
  io.ssl = SSL_new(ctx);
  SSL_set_fd(io.ssl, io.fd);
  SSL_set_tlsext_host_name(io.ssl, "autodiscover.contoso.com");
  static const uint8_t alpn[] = "\x08http/1.1";
  SSL_set_alpn_protos(io.ssl, alpn, sizeof alpn - 1);
  if (io.fd >= 0 && SSL_connect(io.ssl) == 1) {
    r->handshake_ok = true;
    X509 *peer = SSL_get_peer_certificate(io.ssl);
    r->cert_matches = peer != NULL && X509_cmp(peer, r->cert) == 0;
    X509_free(peer);
    two_requests(r, &io);
    SSL_shutdown(io.ssl);
  } else {
    read_to_eof(r, &(struct io){.fd = io.fd}, &r->got[0]);
  }
  ERR_clear_error();
  buf_cleanup(&io.carry);
  SSL_free(io.ssl);
  SSL_CTX_free(ctx);
  if (io.fd >= 0) {
    close(io.fd);
  }
}

static void test_tls_keep_alive_and_certificate(void **state) {
  struct run r = {0};
  run_case(&r, tls_client, true);
  assert_true(r.handshake_ok);
  assert_true(r.cert_matches);
  check_two_responses(&r);
  assert_non_null(strstr(r.text, "\"tls\":true"));
  assert_non_null(strstr(r.text, "\"ev\":\"tls.hello\",\"host\":\"autodiscover.contoso.com\","
                                 "\"host_id\":\"contoso\",\"alpn\":[\"http/1.1\"]"));
  assert_non_null(strstr(r.text, "\"ev\":\"tls.done\",\"ok\":true"));
  run_cleanup(&r);
}

static void test_tls_client_rejecting_certificate(void **state) {
  struct run r = {.client_verify = true};
  run_case(&r, tls_client, true);
  assert_false(r.handshake_ok);
  assert_non_null(strstr(r.text, "\"ev\":\"tls.alert\",\"host\":\"autodiscover.contoso.com\""));
  assert_non_null(strstr(r.text, "\"ev\":\"tls.done\",\"ok\":false"));
  assert_null(strstr(r.text, "http.request"));
  run_cleanup(&r);
}

static void plain_to_tls_client(struct run *r) {
  struct io io = {.fd = connect_to(&r->addr)};
  if (io.fd >= 0) {
    const char *get = "GET / HTTP/1.1\r\nHost: c\r\n\r\n";
    io_write(&io, get, strlen(get));
    read_to_eof(r, &io, &r->got[0]);
    close(io.fd);
  }
}

static void test_plain_http_to_tls_port(void **state) {
  struct run r = {0};
  run_case(&r, plain_to_tls_client, true);
  assert_non_null(strstr(r.text, "\"ev\":\"tls.done\",\"ok\":false"));
  assert_null(strstr(r.text, "http.request"));
  run_cleanup(&r);
}

static void test_bind_failure_reports(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct sockaddr_in bad;
  uv_ip4_addr("192.0.2.1", 0, &bad); /* TEST-NET: not an address of this machine */
  struct http_listener *lst = (struct http_listener *) 1;
  char err[200] = "";
  assert_int_equal(http_listener_start(&lst, &loop, (const struct sockaddr *) &bad, &host,
                                       &listener, NULL, NULL, NULL, err, sizeof err),
                   HTTP_ELISTEN);
  assert_null(lst);
  assert_string_equal(http_strerror(HTTP_ELISTEN), "cannot listen on the address");
  assert_non_null(strstr(err, "192.0.2.1"));
  test_loop_close(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain_keep_alive),
      cmocka_unit_test(test_malformed_gets_400_and_close),
      cmocka_unit_test(test_oversize_header_gets_431),
      cmocka_unit_test(test_idle_connection_is_closed),
      cmocka_unit_test(test_activity_keeps_connection_open),
      cmocka_unit_test(test_close_with_open_connection),
      cmocka_unit_test(test_client_that_does_not_read),
      cmocka_unit_test(test_tls_idle_handshake_is_journaled),
      cmocka_unit_test(test_tls_keep_alive_and_certificate),
      cmocka_unit_test(test_tls_client_rejecting_certificate),
      cmocka_unit_test(test_plain_http_to_tls_port),
      cmocka_unit_test(test_bind_failure_reports),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
