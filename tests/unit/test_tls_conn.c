/* tests/unit/test_tls_conn.c: proxy/tls — server contexts and the memory-BIO connection engine,
 * driven by a BoringSSL client in the same thread (no sockets). */
#include "proxy/tls/tls.h"
#include "tests/unit/test_tls_selfsigned.h"
#include "tests/unit/testutil.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
  X509 *cert;
  EVP_PKEY *key;
  SSL_CTX *server_ctx;
  FILE *mem;
  char *text;
  size_t text_len;
  struct jnl *j;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  test_selfsigned("autodiscover.contoso.com", &f->cert, &f->key);
  char err[200] = "";
  assert_int_equal(tls_server_ctx_new_from(&f->server_ctx, f->cert, f->key, NULL, err, sizeof err),
                   TLS_OK);
  assert_non_null(f->server_ctx);
  f->mem = open_memstream(&f->text, &f->text_len);
  f->j = jnl_open_stream(f->mem);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  jnl_close(f->j);
  fclose(f->mem);
  free(f->text);
  SSL_CTX_free(f->server_ctx);
  X509_free(f->cert);
  EVP_PKEY_free(f->key);
  free(f);
  return 0;
}

/* journal returns what was journaled so far. */
static const char *journal(struct fixture *f) {
  fflush(f->mem);
  return f->text == NULL ? "" : f->text;
}

struct client {
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *in;
  BIO *out;
};

static SSL_SESSION *captured_session;

/* TLS 1.3 delivers resumable sessions in tickets after the handshake, through this callback. */
static int on_new_session(SSL *ssl, SSL_SESSION *session) {
  (void) ssl;
  SSL_SESSION_free(captured_session);
  captured_session = session; /* we take the reference */
  return 1;
}

static void client_init(struct client *c, const char *sni, uint16_t max_version, bool verify,
                        SSL_SESSION *resume) {
  c->ctx = SSL_CTX_new(TLS_method());
  assert_non_null(c->ctx);
  SSL_CTX_set_max_proto_version(c->ctx, max_version);
  SSL_CTX_set_verify(c->ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_CLIENT);
  SSL_CTX_sess_set_new_cb(c->ctx, on_new_session);
  c->ssl = SSL_new(c->ctx);
  c->in = BIO_new(BIO_s_mem());
  c->out = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(c->in, -1);
  SSL_set_bio(c->ssl, c->in, c->out);
  SSL_set_connect_state(c->ssl);
  if (sni != NULL) {
    SSL_set_tlsext_host_name(c->ssl, sni);
  }
  static const uint8_t alpn[] = "\x02h2\x08http/1.1";
  SSL_set_alpn_protos(c->ssl, alpn, sizeof alpn - 1);
  if (resume != NULL) {
    SSL_set_session(c->ssl, resume);
  }
}

static void client_cleanup(struct client *c) {
  SSL_free(c->ssl);
  SSL_CTX_free(c->ctx);
}

/* pump moves bytes both ways until neither side has anything to say; returns whether the
 * server engine still accepts input. */
static bool pump(struct client *c, struct tls_conn *s, struct buf *plain) {
  bool server_ok = true;
  for (int round = 0; round < 20; round++) {
    if (!SSL_is_init_finished(c->ssl)) {
      SSL_do_handshake(c->ssl);
    } else {
      uint8_t scratch[256];
      SSL_read(c->ssl, scratch, sizeof scratch); /* takes tickets and data */
    }
    ERR_clear_error();
    const uint8_t *data = NULL;
    size_t len = 0;
    BIO_mem_contents(c->out, &data, &len);
    bool moved = len > 0;
    if (len > 0 && server_ok) {
      server_ok = tls_conn_feed(s, (struct slice){data, len}, plain);
    }
    BIO_reset(c->out);
    struct buf back;
    buf_init(&back, 1u << 20);
    assert_true(tls_conn_take_output(s, &back));
    if (back.len > 0) {
      BIO_write(c->in, back.ptr, (int) back.len);
      moved = true;
    }
    buf_cleanup(&back);
    if (!moved) {
      break;
    }
  }
  return server_ok;
}

static void test_handshake_journals_hello_and_done(void **state) {
  struct fixture *f = *state;
  struct tls_conn *s = tls_conn_new(f->server_ctx, f->j, "127.0.0.1:443", "127.0.0.1:5555");
  assert_non_null(s);
  assert_int_equal(tls_conn_state(s), TLS_READ_HELLO);
  struct client c;
  client_init(&c, "autodiscover.contoso.com", TLS1_3_VERSION, false, NULL);
  struct buf plain;
  buf_init(&plain, 1u << 20);
  assert_true(pump(&c, s, &plain));
  assert_int_equal(tls_conn_state(s), TLS_OPEN);
  assert_string_equal(tls_conn_sni(s), "autodiscover.contoso.com");
  /* the certificate the client saw is ours */
  X509 *peer = SSL_get_peer_certificate(c.ssl);
  assert_non_null(peer);
  assert_int_equal(X509_cmp(peer, f->cert), 0);
  X509_free(peer);

  /* application data both ways */
  assert_int_equal(SSL_write(c.ssl, "ping", 4), 4);
  assert_true(pump(&c, s, &plain));
  assert_int_equal(plain.len, 4);
  assert_memory_equal(plain.ptr, "ping", 4);
  assert_true(tls_conn_write(s, (struct slice){(const uint8_t *) "pong", 4}));
  struct buf back;
  buf_init(&back, 1u << 20);
  assert_true(tls_conn_take_output(s, &back));
  BIO_write(c.in, back.ptr, (int) back.len);
  buf_cleanup(&back);
  char got[8] = "";
  assert_int_equal(SSL_read(c.ssl, got, sizeof got), 4);
  assert_memory_equal(got, "pong", 4);

  const char *t = journal(f);
  assert_non_null(strstr(t, "\"ev\":\"tls.hello\",\"host\":\"autodiscover.contoso.com\""));
  assert_non_null(strstr(t, "\"alpn\":[\"h2\",\"http/1.1\"]"));
  assert_non_null(strstr(t, "\"versions\":[")); /* GREASE may lead; TLS1.3 and 1.2 follow */
  assert_non_null(strstr(t, "\"TLS1.3\""));
  assert_non_null(strstr(t, "\"TLS1.2\""));
  assert_non_null(strstr(t, "\"TLS_AES_128_GCM_SHA256\""));
  assert_non_null(strstr(t, "\"groups\":["));
  assert_non_null(strstr(t, "\"X25519\""));
  assert_non_null(strstr(t, "\"sigalgs\":["));
  assert_non_null(strstr(t, "\"ecdsa_secp256r1_sha256\""));
  assert_non_null(strstr(t, "\"extensions\":["));
  assert_non_null(strstr(t, "\"server_name\""));
  assert_non_null(strstr(t, "\"application_layer_protocol_negotiation\""));
  const char *ja4 = strstr(t, "\"ja4\":\"t13d");
  assert_non_null(ja4);
  assert_int_equal(strcspn(ja4 + 7, "\""), 36); /* t13dNNNNh2_<12 hex>_<12 hex> */
  assert_memory_equal(ja4 + 7 + 8, "h2_", 3);
  assert_non_null(strstr(t, "\"peer\":\"127.0.0.1:5555\""));
  assert_non_null(strstr(t, "\"ev\":\"tls.done\",\"ok\":true,\"host\":\"autodiscover.contoso.com\","
                            "\"version\":\"TLSv1.3\""));
  assert_non_null(strstr(t, "\"group\":\"X25519\""));
  assert_non_null(strstr(t, "\"resumed\":false"));
  assert_null(strstr(t, "tls.alert"));

  tls_conn_shutdown(s);
  assert_int_equal(tls_conn_state(s), TLS_CLOSING);
  assert_false(tls_conn_write(s, (struct slice){(const uint8_t *) "x", 1}));
  buf_cleanup(&plain);
  client_cleanup(&c);
  tls_conn_free(s);
}

static void test_tls12_client_and_no_sni(void **state) {
  struct fixture *f = *state;
  struct tls_conn *s = tls_conn_new(f->server_ctx, f->j, "a", "b");
  struct client c;
  client_init(&c, NULL, TLS1_2_VERSION, false, NULL);
  struct buf plain;
  buf_init(&plain, 1u << 20);
  assert_true(pump(&c, s, &plain));
  assert_int_equal(tls_conn_state(s), TLS_OPEN);
  assert_null(tls_conn_sni(s));
  const char *t = journal(f);
  assert_non_null(strstr(t, "\"ev\":\"tls.hello\",\"host\":null"));
  assert_null(strstr(t, "\"TLS1.3\""));
  assert_non_null(strstr(t, "\"version\":\"TLSv1.2\""));
  buf_cleanup(&plain);
  client_cleanup(&c);
  tls_conn_free(s);
}

static void test_resumption(void **state) {
  struct fixture *f = *state;
  SSL_SESSION *session = NULL;
  for (int i = 0; i < 2; i++) {
    struct tls_conn *s = tls_conn_new(f->server_ctx, f->j, "a", "b");
    struct client c;
    /* TLS 1.2: this BoringSSL's client does not offer its TLS 1.3 tickets back in this
     * memory-BIO harness, so resumption is checked where both ends agree on it. */
    client_init(&c, "autodiscover.contoso.com", TLS1_2_VERSION, false, session);
    struct buf plain;
    buf_init(&plain, 1u << 20);
    assert_true(pump(&c, s, &plain));
    assert_int_equal(tls_conn_state(s), TLS_OPEN);
    assert_int_equal(SSL_session_reused(tls_conn_ssl(s)), i == 1);
    if (i == 0) {
      session = captured_session;
      captured_session = NULL;
      assert_non_null(session);
      assert_true(SSL_SESSION_is_resumable(session));
    }
    buf_cleanup(&plain);
    client_cleanup(&c);
    tls_conn_free(s);
  }
  SSL_SESSION_free(session);
  assert_non_null(strstr(journal(f), "\"resumed\":true"));
}

static void test_client_rejecting_certificate_sends_alert(void **state) {
  struct fixture *f = *state;
  struct tls_conn *s = tls_conn_new(f->server_ctx, f->j, "a", "b");
  struct client c;
  client_init(&c, "www.contoso.com", TLS1_3_VERSION, true, NULL); /* no trust anchors */
  struct buf plain;
  buf_init(&plain, 1u << 20);
  assert_false(pump(&c, s, &plain));
  assert_int_equal(tls_conn_state(s), TLS_CLOSING);
  const char *t = journal(f);
  assert_non_null(strstr(t, "\"ev\":\"tls.alert\",\"host\":\"www.contoso.com\",\"alert\":"));
  assert_non_null(strstr(t, "\"level\":\"fatal\""));
  assert_non_null(strstr(t, "\"ev\":\"tls.done\",\"ok\":false,\"host\":\"www.contoso.com\""));
  assert_false(tls_conn_feed(s, (struct slice){(const uint8_t *) "x", 1}, &plain));
  buf_cleanup(&plain);
  client_cleanup(&c);
  tls_conn_free(s);
}

/* OpenSSL clients send the alert of a rejected TLS 1.3 certificate unencrypted. */
static void test_plaintext_alert_is_journaled(void **state) {
  struct fixture *f = *state;
  struct tls_conn *s = tls_conn_new(f->server_ctx, f->j, "a", "b");
  struct client c;
  client_init(&c, "contoso.com", TLS1_3_VERSION, false, NULL);
  SSL_do_handshake(c.ssl);
  const uint8_t *data = NULL;
  size_t len = 0;
  BIO_mem_contents(c.out, &data, &len);
  struct buf plain;
  buf_init(&plain, 1u << 20);
  assert_true(tls_conn_feed(s, (struct slice){data, len}, &plain)); /* the ClientHello */
  assert_int_equal(tls_conn_state(s), TLS_HANDSHAKE);
  static const uint8_t ccs_and_alert[] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01, /* CCS */
                                          0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x2d};
  assert_false(tls_conn_feed(s, (struct slice){ccs_and_alert, sizeof ccs_and_alert}, &plain));
  const char *t = journal(f);
  assert_non_null(strstr(t, "\"ev\":\"tls.alert\",\"host\":\"contoso.com\","
                            "\"alert\":\"certificate expired\",\"level\":\"fatal\""));
  assert_non_null(strstr(t, "\"error\":\"peer sent alert: certificate expired\""));
  buf_cleanup(&plain);
  client_cleanup(&c);
  tls_conn_free(s);
}

/* first_flight runs the handshake until the client has the server's whole first flight (and
 * has written its Finished, which the test may or may not deliver). */
static void first_flight(struct client *c, struct tls_conn *s) {
  struct buf plain, back;
  buf_init(&plain, 1u << 20);
  buf_init(&back, 1u << 20);
  SSL_do_handshake(c->ssl);
  const uint8_t *data = NULL;
  size_t len = 0;
  BIO_mem_contents(c->out, &data, &len);
  assert_true(tls_conn_feed(s, (struct slice){data, len}, &plain)); /* the ClientHello */
  BIO_reset(c->out);
  assert_true(tls_conn_take_output(s, &back));
  BIO_write(c->in, back.ptr, (int) back.len);
  SSL_do_handshake(c->ssl);
  ERR_clear_error();
  buf_cleanup(&plain);
  buf_cleanup(&back);
}

/* A client that hangs up after the certificate, before its Finished and without an alert: how
 * SChannel-based clients look from the server side when they refuse a certificate. */
static void test_client_abandoning_after_the_certificate(void **state) {
  struct fixture *f = *state;
  static const uint16_t versions[] = {TLS1_3_VERSION, TLS1_2_VERSION};
  for (size_t i = 0; i < 2; i++) {
    struct tls_conn *s = tls_conn_new(f->server_ctx, f->j, "a", "b");
    struct client c;
    client_init(&c, "contoso.com", versions[i], false, NULL);
    first_flight(&c, s);
    assert_int_equal(tls_conn_state(s), TLS_HANDSHAKE);
    tls_conn_eof(s, i == 0); /* TLS 1.3: RST; TLS 1.2: FIN */
    assert_int_equal(tls_conn_state(s), TLS_CLOSING);
    client_cleanup(&c);
    tls_conn_free(s);
  }
  const char *t = journal(f);
  assert_non_null(strstr(t, "\"ev\":\"tls.done\",\"ok\":false,\"host\":\"contoso.com\","
                            "\"error\":\"peer reset the connection during the handshake\","
                            "\"abandoned\":true,\"state\":\"handshake\","
                            "\"stage\":\"TLS 1.3 server read_client_finished\","
                            "\"certificate_sent\":true"));
  assert_non_null(strstr(t, "\"error\":\"peer closed the connection during the handshake\","
                            "\"abandoned\":true,\"state\":\"handshake\""));
  assert_null(strstr(t, "tls.alert"));
}

static void test_close_before_the_hello_and_after_an_alert(void **state) {
  struct fixture *f = *state;
  /* a port check: connect and hang up — abandoned, but no certificate was ever sent */
  struct tls_conn *s = tls_conn_new(f->server_ctx, f->j, "a", "b");
  tls_conn_eof(s, false);
  tls_conn_free(s);
  assert_non_null(strstr(journal(f), "\"abandoned\":true,\"state\":\"read_hello\","));
  assert_non_null(strstr(journal(f), "\"certificate_sent\":false"));
  /* a client that said why before it left did not abandon the handshake silently */
  s = tls_conn_new(f->server_ctx, f->j, "a", "b");
  struct client c;
  client_init(&c, "www.contoso.com", TLS1_3_VERSION, true, NULL); /* no trust anchors */
  struct buf plain;
  buf_init(&plain, 1u << 20);
  assert_false(pump(&c, s, &plain));
  tls_conn_eof(s, false);
  const char *t = journal(f);
  const char *done = strstr(t, "\"ev\":\"tls.done\",\"ok\":false,\"host\":\"www.contoso.com\"");
  assert_non_null(done);
  assert_non_null(strstr(done, "\"abandoned\":false"));
  assert_non_null(strstr(done, "\"certificate_sent\":true"));
  assert_null(strstr(done + 1, "\"ev\":\"tls.done\"")); /* journaled once */
  buf_cleanup(&plain);
  client_cleanup(&c);
  tls_conn_free(s);
}

/* The key log carries a line per secret, keyed by the client random (NSS key-log format). */
static void test_keylog_lines(void **state) {
  struct fixture *f = *state;
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  tls_server_ctx_set_keylog(f->server_ctx, mem);
  struct tls_conn *s = tls_conn_new(f->server_ctx, f->j, "a", "b");
  struct client c;
  client_init(&c, "autodiscover.contoso.com", TLS1_3_VERSION, false, NULL);
  struct buf plain;
  buf_init(&plain, 1u << 20);
  assert_true(pump(&c, s, &plain));
  assert_int_equal(tls_conn_state(s), TLS_OPEN);
  uint8_t random[32];
  assert_int_equal(SSL_get_client_random(c.ssl, random, sizeof random), 32);
  char hex[65];
  for (size_t i = 0; i < 32; i++) {
    buf_fmt(hex + 2 * i, 3, "%02x", random[i]);
  }
  fflush(mem);
  static const char *labels[] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                                 "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0",
                                 "SERVER_TRAFFIC_SECRET_0"};
  for (size_t i = 0; i < 4; i++) {
    char want[128];
    buf_fmt(want, sizeof want, "%s %s ", labels[i], hex);
    assert_non_null(strstr(text, want));
  }
  tls_server_ctx_set_keylog(f->server_ctx, NULL);
  size_t before = len;
  tls_conn_free(s);
  client_cleanup(&c);
  s = tls_conn_new(f->server_ctx, f->j, "a", "b");
  client_init(&c, "autodiscover.contoso.com", TLS1_3_VERSION, false, NULL);
  assert_true(pump(&c, s, &plain));
  fflush(mem);
  assert_int_equal(len, before); /* turned off: nothing more */
  buf_cleanup(&plain);
  client_cleanup(&c);
  tls_conn_free(s);
  fclose(mem);
  free(text);
}

static void test_garbage_and_plain_http_fail_cleanly(void **state) {
  struct fixture *f = *state;
  static const char *inputs[] = {
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
      "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", /* a ClientHello that lies about its size */
      "\x16\x03\x01\xff\xff",
  };
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    struct tls_conn *s = tls_conn_new(f->server_ctx, f->j, "a", "b");
    struct buf plain;
    buf_init(&plain, 1u << 20);
    bool ok = tls_conn_feed(s, slice_of_str(inputs[i]), &plain);
    if (ok) {
      tls_conn_eof(s, false); /* still waiting for more: the peer then hangs up */
    }
    assert_int_equal(tls_conn_state(s), TLS_CLOSING);
    assert_int_equal(plain.len, 0);
    buf_cleanup(&plain);
    tls_conn_free(s);
  }
  const char *t = journal(f);
  assert_non_null(strstr(t, "\"ok\":false"));
  assert_non_null(strstr(t, "HTTP_REQUEST")); /* BoringSSL recognises plain HTTP */
  assert_non_null(strstr(t, "during the handshake"));
}

static void test_ctx_rejects_bad_input(void **state) {
  struct fixture *f = *state;
  char err[200] = "";
  SSL_CTX *ctx = (SSL_CTX *) 1;
  assert_int_equal(tls_server_ctx_new_from(&ctx, NULL, f->key, NULL, err, sizeof err), TLS_ENOCERT);
  assert_null(ctx);
  assert_true(strlen(err) > 0);
  X509 *other = NULL;
  EVP_PKEY *other_key = NULL;
  test_selfsigned("other.example", &other, &other_key);
  err[0] = '\0';
  assert_int_equal(tls_server_ctx_new_from(&ctx, f->cert, other_key, NULL, err, sizeof err),
                   TLS_ECRYPTO);
  assert_null(ctx);
  assert_non_null(strstr(err, "key"));
  assert_int_equal(tls_server_ctx_new(&ctx, NULL, err, sizeof err), TLS_ENOCERT);
  assert_null(ctx);
  assert_string_equal(tls_strerror(TLS_ENOCERT), "no certificate or key to present");
  /* with an intermediate list (here: just another certificate) the context builds */
  STACK_OF(X509) *chain = sk_X509_new_null();
  sk_X509_push(chain, other);
  assert_int_equal(tls_server_ctx_new_from(&ctx, f->cert, f->key, chain, err, sizeof err), TLS_OK);
  assert_non_null(ctx);
  SSL_CTX_free(ctx);
  sk_X509_pop_free(chain, X509_free);
  EVP_PKEY_free(other_key);
  assert_string_equal(tls_state_name(TLS_HANDSHAKE), "handshake");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_handshake_journals_hello_and_done, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tls12_client_and_no_sni, setup, teardown),
      cmocka_unit_test_setup_teardown(test_resumption, setup, teardown),
      cmocka_unit_test_setup_teardown(test_client_rejecting_certificate_sends_alert, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_plaintext_alert_is_journaled, setup, teardown),
      cmocka_unit_test_setup_teardown(test_client_abandoning_after_the_certificate, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_close_before_the_hello_and_after_an_alert, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_keylog_lines, setup, teardown),
      cmocka_unit_test_setup_teardown(test_garbage_and_plain_http_fail_cleanly, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ctx_rejects_bad_input, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
