/* tests/unit/test_tls_select.c: proxy/tls — one connection engine choosing among several hosts'
 * contexts by the name the client sends (SNI): the named host's certificate and TLS versions,
 * the default host's without a name, and sessions that never cross from one host to another.
 * Driven by a BoringSSL client in the same thread (no sockets). */
#include "proxy/tls/tls.h"
#include "tests/unit/test_tls_selfsigned.h"
#include "tests/unit/testutil.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Three hosts: "a" (the default, TLS 1.2–1.3), "b" (TLS 1.2 only), "c" (TLS 1.2–1.3). */
struct host {
  const char *id;
  const char *name;
  X509 *cert;
  EVP_PKEY *key;
  SSL_CTX *ctx;
};

struct fixture {
  struct host hosts[3];
  FILE *mem;
  char *text;
  size_t text_len;
  struct jnl *j;
  int n_selects;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  const char *ids[] = {"a", "b", "c"};
  const char *names[] = {"a.contoso.com", "b.contoso.com", "c.contoso.com"};
  for (int i = 0; i < 3; i++) {
    struct host *h = &f->hosts[i];
    h->id = ids[i];
    h->name = names[i];
    test_selfsigned(h->name, &h->cert, &h->key);
    char err[200] = "";
    assert_int_equal(tls_server_ctx_new_from(&h->ctx, h->cert, h->key, NULL, err, sizeof err),
                     TLS_OK);
    assert_int_equal(tls_server_ctx_set_session_id(h->ctx, h->id), TLS_OK);
  }
  char err[200] = "";
  assert_int_equal(tls_server_ctx_set_versions(f->hosts[1].ctx, 0x0303, 0x0303, err, sizeof err),
                   TLS_OK);
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
  for (int i = 0; i < 3; i++) {
    SSL_CTX_free(f->hosts[i].ctx);
    X509_free(f->hosts[i].cert);
    EVP_PKEY_free(f->hosts[i].key);
  }
  free(f);
  return 0;
}

static const char *journal(struct fixture *f) {
  fflush(f->mem);
  return f->text == NULL ? "" : f->text;
}

/* select_by_name is the tls_select_cb under test: the host whose name is the SNI. */
static SSL_CTX *select_by_name(void *arg, const char *sni, const char **out_label) {
  struct fixture *f = arg;
  f->n_selects++;
  for (int i = 0; sni != NULL && i < 3; i++) {
    if (strcmp(sni, f->hosts[i].name) == 0) {
      *out_label = f->hosts[i].id;
      return f->hosts[i].ctx;
    }
  }
  *out_label = f->hosts[0].id;
  return NULL; /* keep the default's */
}

struct client {
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *in;
  BIO *out;
};

static void client_init(struct client *c, const char *sni, uint16_t max_version,
                        SSL_SESSION *resume) {
  c->ctx = SSL_CTX_new(TLS_method());
  assert_non_null(c->ctx);
  SSL_CTX_set_max_proto_version(c->ctx, max_version);
  SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_CLIENT);
  c->ssl = SSL_new(c->ctx);
  c->in = BIO_new(BIO_s_mem());
  c->out = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(c->in, -1);
  SSL_set_bio(c->ssl, c->in, c->out);
  SSL_set_connect_state(c->ssl);
  if (sni != NULL) {
    SSL_set_tlsext_host_name(c->ssl, sni);
  }
  if (resume != NULL) {
    SSL_set_session(c->ssl, resume);
  }
}

static void client_cleanup(struct client *c) {
  SSL_free(c->ssl);
  SSL_CTX_free(c->ctx);
}

/* handshake moves bytes both ways until neither side has more; true when both finished. */
static bool handshake(struct client *c, struct tls_conn *s) {
  struct buf plain;
  buf_init(&plain, 1u << 20);
  bool server_ok = true;
  for (int round = 0; round < 20; round++) {
    SSL_do_handshake(c->ssl);
    ERR_clear_error();
    const uint8_t *data = NULL;
    size_t len = 0;
    BIO_mem_contents(c->out, &data, &len);
    bool moved = len > 0;
    if (len > 0 && server_ok) {
      server_ok = tls_conn_feed(s, (struct slice){data, len}, &plain);
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
  buf_cleanup(&plain);
  return server_ok && SSL_is_init_finished(c->ssl) && tls_conn_state(s) == TLS_OPEN;
}

/* connect_as runs one handshake offering `sni` (NULL: none) and returns the client (caller
 * cleans up) after checking which host's certificate it got. */
static void connect_as(struct fixture *f, struct client *c, const char *sni, uint16_t max_version,
                       SSL_SESSION *resume, int want_host, uint16_t want_version) {
  struct tls_conn *s = tls_conn_new(f->hosts[0].ctx, f->j, "10.77.0.1:443", "10.77.0.2:5555");
  assert_non_null(s);
  tls_conn_set_select(s, select_by_name, f);
  client_init(c, sni, max_version, resume);
  assert_true(handshake(c, s));
  X509 *peer = SSL_get_peer_certificate(c->ssl);
  assert_non_null(peer);
  assert_int_equal(X509_cmp(peer, f->hosts[want_host].cert), 0);
  X509_free(peer);
  assert_int_equal(SSL_version(c->ssl), want_version);
  tls_conn_free(s);
}

static void test_sni_picks_the_hosts_certificate(void **state) {
  struct fixture *f = *state;
  struct client c;
  connect_as(f, &c, "c.contoso.com", TLS1_3_VERSION, NULL, 2, TLS1_3_VERSION);
  client_cleanup(&c);
  assert_int_equal(f->n_selects, 1);
  /* tls.hello says which host answered, besides the name asked for */
  assert_non_null(
      strstr(journal(f), "\"ev\":\"tls.hello\",\"host\":\"c.contoso.com\",\"host_id\":\"c\","));
}

static void test_the_named_hosts_versions_apply(void **state) {
  struct fixture *f = *state;
  struct client c;
  /* b offers TLS 1.2 only: a client that would take 1.3 gets 1.2, b's certificate */
  connect_as(f, &c, "b.contoso.com", TLS1_3_VERSION, NULL, 1, TLS1_2_VERSION);
  client_cleanup(&c);
  /* the same client naming a gets the default host's 1.3 */
  connect_as(f, &c, "a.contoso.com", TLS1_3_VERSION, NULL, 0, TLS1_3_VERSION);
  client_cleanup(&c);
}

static void test_no_sni_or_an_unknown_name_gets_the_default(void **state) {
  struct fixture *f = *state;
  struct client c;
  connect_as(f, &c, NULL, TLS1_3_VERSION, NULL, 0, TLS1_3_VERSION);
  client_cleanup(&c);
  assert_non_null(strstr(journal(f), "\"ev\":\"tls.hello\",\"host\":null,\"host_id\":\"a\","));
  connect_as(f, &c, "nobody.contoso.com", TLS1_3_VERSION, NULL, 0, TLS1_3_VERSION);
  client_cleanup(&c);
  assert_non_null(strstr(journal(f), "\"host\":\"nobody.contoso.com\",\"host_id\":\"a\","));
}

static void test_sessions_do_not_cross_hosts(void **state) {
  struct fixture *f = *state;
  struct client c;
  connect_as(f, &c, "c.contoso.com", TLS1_2_VERSION, NULL, 2, TLS1_2_VERSION);
  SSL_SESSION *session = SSL_get1_session(c.ssl);
  assert_non_null(session);
  client_cleanup(&c);
  /* c's session resumes with c ... */
  connect_as(f, &c, "c.contoso.com", TLS1_2_VERSION, session, 2, TLS1_2_VERSION);
  assert_int_equal(SSL_session_reused(c.ssl), 1);
  client_cleanup(&c);
  /* ... but offered to a (the listener's first context, whose cache holds it) it does not */
  connect_as(f, &c, "a.contoso.com", TLS1_2_VERSION, session, 0, TLS1_2_VERSION);
  assert_int_equal(SSL_session_reused(c.ssl), 0);
  client_cleanup(&c);
  SSL_SESSION_free(session);
}

static void test_without_a_selector_no_host_id(void **state) {
  struct fixture *f = *state;
  struct tls_conn *s = tls_conn_new(f->hosts[1].ctx, f->j, "127.0.0.1:443", "127.0.0.1:5555");
  struct client c;
  client_init(&c, "c.contoso.com", TLS1_3_VERSION, NULL);
  assert_true(handshake(&c, s));
  assert_int_equal(SSL_version(c.ssl), TLS1_2_VERSION); /* the context it started with */
  client_cleanup(&c);
  tls_conn_free(s);
  assert_null(strstr(journal(f), "host_id"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_sni_picks_the_hosts_certificate, setup, teardown),
      cmocka_unit_test_setup_teardown(test_the_named_hosts_versions_apply, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_sni_or_an_unknown_name_gets_the_default, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_sessions_do_not_cross_hosts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_without_a_selector_no_host_id, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
