/* tests/unit/test_http_upstream.c: an upstream route's forwarding (proxy/http/http_forward.c,
 * http_upstream.c) against servers in the same process — the request sent (path under the base
 * path, hop-by-hop fields gone, Host), a chunked response relayed byte for byte and nothing after
 * it, a response framed by the connection's end, HTTPS verified against a trust file (and an
 * expired certificate refused with a clear reason), a refused connection, a silent server timed
 * out, an exchange cancelled midway; each run ends with no handle left. */
#include "proxy/http/http.h"
#include "proxy/http/internal.h"
#include "proxy/tls/tls.h"
#include "tests/unit/test_tls_selfsigned.h"
#include "tests/unit/testutil.h"

#include <arpa/inet.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the request sent ---- */

static struct slice fields(const char *pairs, size_t len) {
  return (struct slice){(const uint8_t *) pairs, len};
}

static void test_the_request_sent_upstream(void **state) {
  static const char hdrs[] = "Host\0contoso.com\0Connection\0keep-alive, X-Hop\0X-Hop\0drop me\0"
                             "Authorization\0Basic YTpi\0Transfer-Encoding\0chunked\0"
                             "Accept\0*/*\0Expect\0100-continue\0";
  struct scn_upstream up = {
      .https = true, .host = "real.example", .port = 8443, .base_path = "/base"};
  struct http_upstream_request req = {
      .up = &up,
      .method = slice_of_str("POST"),
      .target = slice_of_str("/autodiscover/autodiscover.xml?x=1#frag"),
      .headers = fields(hdrs, sizeof hdrs - 1),
      .host = slice_of_str("contoso.com"),
      .body = slice_of_str("<xml/>"),
  };
  struct buf out;
  buf_init(&out, 1 << 16);
  assert_true(http__upstream_build(&out, &req));
  assert_string_equal(buf_cstr(&out), "POST /base/autodiscover/autodiscover.xml?x=1 HTTP/1.1\r\n"
                                      "Host: real.example:8443\r\n"
                                      "Authorization: Basic YTpi\r\n" /* a proxy forwards it */
                                      "Accept: */*\r\n"
                                      "Content-Length: 6\r\n"
                                      "\r\n"
                                      "<xml/>");
  /* absolute-form target, the client's Host kept, no body */
  buf_reset(&out);
  up = (struct scn_upstream){
      .https = false, .host = "2001:db8::1", .port = 80, .base_path = "", .keep_host = true};
  req.method = slice_of_str("GET");
  req.target = slice_of_str("http://contoso.com?q=1");
  req.body = (struct slice){NULL, 0};
  req.headers = fields("", 0);
  assert_true(http__upstream_build(&out, &req));
  assert_string_equal(buf_cstr(&out), "GET /?q=1 HTTP/1.1\r\nHost: contoso.com\r\n\r\n");
  req.host = (struct slice){NULL, 0}; /* no Host from the client: the upstream's */
  buf_reset(&out);
  assert_true(http__upstream_build(&out, &req));
  assert_string_equal(buf_cstr(&out), "GET /?q=1 HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n");
  buf_cleanup(&out);
}

/* ---- a scripted server: reads one request, writes its parts, maybe closes ---- */

struct script {
  uv_loop_t *loop;
  uv_tcp_t listener;
  uv_tcp_t conn;
  bool accepted;
  const char *const *parts; /* written in turn once a whole request head arrived */
  bool close_after;
  bool silent;
  struct buf request;
};

static void conn_closed(uv_handle_t *h) {
  (void) h;
}

static void script_write_done(uv_write_t *w, int status) {
  free(w);
}

static void script_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  static char buf[65536];
  *b = uv_buf_init(buf, sizeof buf);
}

static void script_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  struct script *sc = s->data;
  if (n < 0) {
    if (!uv_is_closing((uv_handle_t *) &sc->conn)) {
      uv_close((uv_handle_t *) &sc->conn, conn_closed);
    }
    return;
  }
  buf_append(&sc->request, (struct slice){(const uint8_t *) b->base, (size_t) n});
  if (sc->silent || strstr(buf_cstr(&sc->request), "\r\n\r\n") == NULL) {
    return;
  }
  for (size_t i = 0; sc->parts[i] != NULL; i++) {
    uv_write_t *w = xcalloc(1, sizeof *w);
    uv_buf_t out = uv_buf_init((char *) sc->parts[i], (unsigned) strlen(sc->parts[i]));
    uv_write(w, (uv_stream_t *) &sc->conn, &out, 1, script_write_done);
  }
  if (sc->close_after) {
    uv_read_stop(s);
    uv_close((uv_handle_t *) &sc->conn, conn_closed); /* pending writes go first */
  }
}

static void script_accept(uv_stream_t *l, int status) {
  struct script *sc = l->data;
  uv_tcp_init(sc->loop, &sc->conn);
  sc->conn.data = sc;
  sc->accepted = true;
  uv_accept(l, (uv_stream_t *) &sc->conn);
  uv_read_start((uv_stream_t *) &sc->conn, script_alloc, script_read);
}

static uint16_t script_start(struct script *sc, uv_loop_t *loop) {
  sc->loop = loop;
  buf_init(&sc->request, 1 << 16);
  uv_tcp_init(loop, &sc->listener);
  sc->listener.data = sc;
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", 0, &a);
  assert_int_equal(uv_tcp_bind(&sc->listener, (struct sockaddr *) &a, 0), 0);
  assert_int_equal(uv_listen((uv_stream_t *) &sc->listener, 8, script_accept), 0);
  struct sockaddr_storage ss;
  int len = sizeof ss;
  uv_tcp_getsockname(&sc->listener, (struct sockaddr *) &ss, &len);
  return ntohs(((struct sockaddr_in *) &ss)->sin_port);
}

static void script_stop(struct script *sc) {
  uv_close((uv_handle_t *) &sc->listener, NULL);
  if (sc->accepted && !uv_is_closing((uv_handle_t *) &sc->conn)) {
    uv_close((uv_handle_t *) &sc->conn, conn_closed);
  }
}

/* ---- the exchange ---- */

struct seen {
  struct buf data;
  bool done;
  struct http_upstream_end end;
  char error[256];
  struct script *stop; /* stopped once the exchange is done */
};

static void on_data(void *arg, struct slice bytes) {
  struct seen *s = arg;
  assert_false(s->done);
  assert_true(buf_append(&s->data, bytes));
}

static void on_done(void *arg, const struct http_upstream_end *end) {
  struct seen *s = arg;
  assert_false(s->done); /* once */
  s->done = true;
  s->end = *end;
  buf_fmt(s->error, sizeof s->error, "%s", end->error != NULL ? end->error : "");
  s->end.error = s->error;
  if (s->stop != NULL) {
    script_stop(s->stop);
  }
}

static void forward(uv_loop_t *loop, struct jnl *j, const struct scn_upstream *up,
                    struct seen *seen) {
  buf_init(&seen->data, 8u << 20);
  struct http_upstream_request req = {.up = up,
                                      .method = slice_of_str("GET"),
                                      .target = slice_of_str("/x"),
                                      .headers = fields("", 0)};
  struct http_upstream_events ev = {.data = on_data, .done = on_done, .arg = seen};
  char err[256];
  if (up->https) {
    assert_int_equal(http__upstream_tls_new(&req.tls, up, err, sizeof err), HTTP_OK);
  }
  assert_non_null(http__upstream_start(loop, j, &req, &ev));
  SSL_CTX_free(req.tls); /* the exchange holds its own reference */
  uv_run(loop, UV_RUN_DEFAULT);
  assert_true(seen->done);
}

static void test_a_chunked_response_is_relayed_byte_for_byte(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  static const char *const parts[] = {
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n",
      "\r\n5\r\n\x01\x02\x03\xfe\xff\r\n", "3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n",
      "HTTP/1.1 200 OK\r\n\r\nnot part of the response", /* after the end: never relayed */
      NULL};
  struct script sc = {.parts = parts};
  uint16_t port = script_start(&sc, &loop);
  struct scn_upstream up = {.host = "127.0.0.1", .port = port, .base_path = "", .timeout_ms = 5000};
  struct seen seen = {.stop = &sc};
  forward(&loop, NULL, &up, &seen);
  const char expect[] =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n"
      "\r\n5\r\n\x01\x02\x03\xfe\xff\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n";
  assert_int_equal(seen.data.len, sizeof expect - 1);
  assert_memory_equal(seen.data.ptr, expect, sizeof expect - 1);
  assert_true(seen.end.ok);
  assert_true(seen.end.keep_alive);
  assert_int_equal(seen.end.status, 200);
  assert_int_equal(seen.end.length, 8);
  assert_non_null(strstr(buf_cstr(&sc.request), "GET /x HTTP/1.1\r\nHost: 127.0.0.1:"));
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  buf_cleanup(&seen.data);
  buf_cleanup(&sc.request);
}

static void test_a_response_ended_by_the_connection(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  static const char *const parts[] = {"HTTP/1.0 200 OK\r\n\r\nuntil ", "the end", NULL};
  struct script sc = {.parts = parts, .close_after = true};
  uint16_t port = script_start(&sc, &loop);
  struct scn_upstream up = {.host = "127.0.0.1", .port = port, .base_path = "", .timeout_ms = 5000};
  struct seen seen = {.stop = &sc};
  forward(&loop, NULL, &up, &seen);
  assert_true(seen.end.ok);
  assert_false(seen.end.keep_alive); /* the client's connection must end too */
  assert_string_equal(buf_cstr(&seen.data), "HTTP/1.0 200 OK\r\n\r\nuntil the end");
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  buf_cleanup(&seen.data);
  buf_cleanup(&sc.request);
}

static void test_a_silent_server_times_out(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  static const char *const none[] = {NULL};
  struct script sc = {.parts = none, .silent = true};
  uint16_t port = script_start(&sc, &loop);
  struct scn_upstream up = {.host = "127.0.0.1", .port = port, .base_path = "", .timeout_ms = 150};
  struct seen seen = {.stop = &sc};
  forward(&loop, NULL, &up, &seen);
  assert_false(seen.end.ok);
  assert_false(seen.end.relayed_any);
  assert_string_equal(seen.error, "no response within 150 ms");
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  buf_cleanup(&seen.data);
  buf_cleanup(&sc.request);
}

static void test_a_refused_connection_says_so(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  static const char *const none[] = {NULL};
  struct script sc = {.parts = none};
  uint16_t port = script_start(&sc, &loop);
  script_stop(&sc); /* nothing listens there any more */
  uv_run(&loop, UV_RUN_DEFAULT);
  struct scn_upstream up = {.host = "real.example",
                            .port = 443,
                            .base_path = "",
                            .address = "127.0.0.1",
                            .address_port = port,
                            .timeout_ms = 5000};
  struct seen seen = {0};
  forward(&loop, NULL, &up, &seen);
  assert_false(seen.end.ok);
  char want[64];
  buf_fmt(want, sizeof want, "connect to 127.0.0.1:%u: connection refused", (unsigned) port);
  assert_string_equal(seen.error, want);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  buf_cleanup(&seen.data);
  buf_cleanup(&sc.request);
}

/* ---- HTTPS: the lab's own listener plays the real server ---- */

static struct scn_route tls_routes[] = {
    {.path = "/", .kind = SCN_ROUTE_STATUS, .status = 200, .body = "real body"},
};
static struct scn_listener tls_listener = {.present = true, .routes = tls_routes, .n_routes = 1};
static struct scn_host tls_host = {.id = "real"};

struct tls_server {
  struct http_listener *lst;
  uint16_t port;
  char *dir;
  char trust[512];
};

/* tls_server_start serves `name`'s self-signed certificate (expired when asked) and writes it as
 * the trust file. */
static void tls_server_start(struct tls_server *t, uv_loop_t *loop, struct jnl *j, const char *name,
                             bool expired) {
  X509 *cert = NULL;
  EVP_PKEY *key = NULL;
  test_selfsigned(name, &cert, &key);
  if (expired) {
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(cert), -7200));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(cert), -3600));
    assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
  }
  t->dir = test_tmpdir("upstream-tls");
  buf_fmt(t->trust, sizeof t->trust, "%s/trust.pem", t->dir);
  FILE *f = fopen(t->trust, "w");
  assert_non_null(f);
  assert_int_equal(PEM_write_X509(f, cert), 1);
  fclose(f);
  char err[256];
  SSL_CTX *ctx = NULL;
  assert_int_equal(tls_server_ctx_new_from(&ctx, cert, key, NULL, err, sizeof err), TLS_OK);
  struct sockaddr_in a;
  uv_ip4_addr("127.0.0.1", 0, &a);
  assert_int_equal(http_listener_start(&t->lst, loop, (struct sockaddr *) &a, &tls_host,
                                       &tls_listener, ctx, NULL, j, err, sizeof err),
                   HTTP_OK);
  SSL_CTX_free(ctx);
  X509_free(cert);
  EVP_PKEY_free(key);
  struct sockaddr_storage ss;
  http_listener_addr(t->lst, &ss);
  t->port = ntohs(((struct sockaddr_in *) &ss)->sin_port);
  http__listener_set_idle(t->lst, 200, 50);
}

static void tls_server_stop(struct tls_server *t) {
  test_rmtree(t->dir);
  free(t->dir);
}

struct stopper {
  struct seen seen;
  struct http_listener *lst;
};

static void stop_listener_on_done(void *arg, const struct http_upstream_end *end) {
  struct stopper *st = arg;
  on_done(&st->seen, end);
  http_listener_close(st->lst);
}

static void stop_on_data(void *arg, struct slice bytes) {
  struct stopper *st = arg;
  on_data(&st->seen, bytes);
}

static char *run_tls(const char *cert_name, bool expired, struct stopper *st) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  FILE *jf = tmpfile();
  struct jnl *j = jnl_open_stream(jf);
  struct tls_server t = {0};
  tls_server_start(&t, &loop, NULL, cert_name, expired);
  st->lst = t.lst;
  struct scn_upstream up = {.https = true,
                            .host = "real.example",
                            .port = 443,
                            .base_path = "",
                            .trust = t.trust,
                            .address = "127.0.0.1",
                            .address_port = t.port,
                            .timeout_ms = 5000};
  buf_init(&st->seen.data, 1 << 20);
  static const char hdrs[] = "Authorization\0Bearer secret-token\0";
  struct http_upstream_request req = {.up = &up,
                                      .method = slice_of_str("GET"),
                                      .target = slice_of_str("/"),
                                      .headers = fields(hdrs, sizeof hdrs - 1)};
  struct http_upstream_events ev = {.data = stop_on_data, .done = stop_listener_on_done, .arg = st};
  char err[256];
  assert_int_equal(http__upstream_tls_new(&req.tls, &up, err, sizeof err), HTTP_OK);
  assert_non_null(http__upstream_start(&loop, j, &req, &ev));
  SSL_CTX_free(req.tls);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  tls_server_stop(&t);
  fflush(jf);
  long size = ftell(jf);
  char *text = xcalloc(1, (size_t) size + 1);
  rewind(jf);
  assert_int_equal(fread(text, 1, (size_t) size, jf), (size_t) size);
  jnl_close(j);
  fclose(jf);
  return text;
}

static void test_https_verified_against_the_trust_file(void **state) {
  struct stopper st = {0};
  char *journal = run_tls("real.example", false, &st);
  assert_true(st.seen.end.ok);
  assert_int_equal(st.seen.end.status, 200);
  assert_non_null(strstr(buf_cstr(&st.seen.data), "\r\n\r\nreal body"));
  assert_non_null(strstr(journal, "\"ev\":\"upstream.request\",\"url\":\"https://real.example/\","
                                  "\"method\":\"GET\",\"host\":\"real.example\""));
  assert_non_null(strstr(journal, "\"authorization\":{\"scheme\":\"Bearer\""));
  assert_null(strstr(journal, "secret-token"));
  assert_non_null(strstr(journal, "\"ev\":\"upstream.response\",\"url\":\"https://real.example/\","
                                  "\"status\":200,\"length\":9"));
  free(journal);
  buf_cleanup(&st.seen.data);
}

static void test_an_expired_certificate_is_refused_with_the_reason(void **state) {
  struct stopper st = {0};
  char *journal = run_tls("real.example", true, &st);
  assert_false(st.seen.end.ok);
  assert_false(st.seen.end.relayed_any);
  assert_string_equal(st.seen.error,
                      "TLS: certificate verification failed: certificate has expired");
  assert_non_null(strstr(journal, "\"ev\":\"upstream.error\""));
  assert_non_null(strstr(journal, "\"stage\":\"tls\""));
  free(journal);
  buf_cleanup(&st.seen.data);
}

static void test_a_certificate_for_another_name_is_refused(void **state) {
  struct stopper st = {0};
  char *journal = run_tls("other.example", false, &st);
  assert_false(st.seen.end.ok);
  assert_non_null(strstr(st.seen.error, "TLS: certificate verification failed: "));
  free(journal);
  buf_cleanup(&st.seen.data);
}

static void test_cancelled_midway_leaves_nothing_behind(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  static const char *const none[] = {NULL};
  struct script sc = {.parts = none, .silent = true};
  uint16_t port = script_start(&sc, &loop);
  struct scn_upstream up = {.host = "127.0.0.1", .port = port, .base_path = "", .timeout_ms = 5000};
  struct seen seen = {0};
  buf_init(&seen.data, 1024);
  struct http_upstream_request req = {
      .up = &up, .method = slice_of_str("GET"), .target = slice_of_str("/")};
  struct http_upstream_events ev = {.data = on_data, .done = on_done, .arg = &seen};
  struct http_upstream *u = http__upstream_start(&loop, NULL, &req, &ev);
  while (!sc.accepted || sc.request.len == 0) {
    uv_run(&loop, UV_RUN_ONCE); /* until the request has reached the server */
  }
  http__upstream_cancel(u);
  script_stop(&sc);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_false(seen.done); /* no event after cancel */
  test_loop_close(&loop);
  buf_cleanup(&seen.data);
  buf_cleanup(&sc.request);
}

/* The roots are read once, when the listener starts (before serve gives root up): a file that
 * cannot be read is an error then, with the route's URL, not a 502 for every request. */
static void test_unreadable_roots_fail_at_start(void **state) {
  struct scn_upstream up = {
      .url = "https://real.example/", .https = true, .host = "real.example", .trust = "/nope.crt"};
  SSL_CTX *ctx = (SSL_CTX *) 1;
  char err[256] = "";
  assert_int_equal(http__upstream_tls_new(&ctx, &up, err, sizeof err), HTTP_ETRUST);
  assert_null(ctx);
  assert_string_equal(err, "upstream https://real.example/: TLS: cannot read the trusted roots in "
                           "/nope.crt");
  assert_string_equal(http_strerror(HTTP_ETRUST),
                      "an upstream route's trusted roots cannot be read");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unreadable_roots_fail_at_start),
      cmocka_unit_test(test_the_request_sent_upstream),
      cmocka_unit_test(test_a_chunked_response_is_relayed_byte_for_byte),
      cmocka_unit_test(test_a_response_ended_by_the_connection),
      cmocka_unit_test(test_a_silent_server_times_out),
      cmocka_unit_test(test_a_refused_connection_says_so),
      cmocka_unit_test(test_https_verified_against_the_trust_file),
      cmocka_unit_test(test_an_expired_certificate_is_refused_with_the_reason),
      cmocka_unit_test(test_a_certificate_for_another_name_is_refused),
      cmocka_unit_test(test_cancelled_midway_leaves_nothing_behind),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
