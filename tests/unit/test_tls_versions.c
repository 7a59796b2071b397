/* tests/unit/test_tls_versions.c: proxy/tls protocol ranges (scenario tls: {min, max}) — a host
 * offering only TLS 1.0 refuses a TLS 1.2 client with protocol_version and serves a TLS 1.0
 * one; bad ranges are refused with a sentence. Client and server talk through memory BIOs. */
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
  FILE *mem;
  char *text;
  size_t text_len;
  struct jnl *j;
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  test_selfsigned("autodiscover.contoso.com", &f->cert, &f->key);
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
  X509_free(f->cert);
  EVP_PKEY_free(f->key);
  free(f);
  return 0;
}

static const char *journal(struct fixture *f) {
  fflush(f->mem);
  return f->text == NULL ? "" : f->text;
}

/* handshake runs a client limited to [cmin, cmax] against a server context limited to
 * [smin, smax]; returns whether the client finished, and the alert the client received. */
static bool handshake(struct fixture *f, uint16_t smin, uint16_t smax, uint16_t cmin, uint16_t cmax,
                      int *out_alert) {
  char err[200] = "";
  SSL_CTX *server = NULL;
  assert_int_equal(tls_server_ctx_new_from(&server, f->cert, f->key, NULL, err, sizeof err),
                   TLS_OK);
  assert_int_equal(tls_server_ctx_set_versions(server, smin, smax, err, sizeof err), TLS_OK);
  struct tls_conn *s = tls_conn_new(server, f->j, "127.0.0.1:443", "127.0.0.1:5555");
  SSL_CTX_free(server); /* the connection holds a reference */
  SSL_CTX *cctx = SSL_CTX_new(TLS_method());
  SSL_CTX_set_min_proto_version(cctx, cmin);
  SSL_CTX_set_max_proto_version(cctx, cmax);
  SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);
  SSL *c = SSL_new(cctx);
  BIO *in = BIO_new(BIO_s_mem());
  BIO *out = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(in, -1);
  SSL_set_bio(c, in, out);
  SSL_set_connect_state(c);
  SSL_set_tlsext_host_name(c, "autodiscover.contoso.com");
  struct buf plain, back;
  buf_init(&plain, 1u << 20);
  buf_init(&back, 1u << 20);
  bool done = false;
  *out_alert = -1;
  for (int round = 0; round < 10 && !done; round++) {
    int ret = SSL_do_handshake(c);
    done = ret == 1;
    if (ret <= 0 && SSL_get_error(c, ret) == SSL_ERROR_SSL) {
      uint32_t e = ERR_peek_error();
      if (ERR_GET_LIB(e) == ERR_LIB_SSL) {
        *out_alert = ERR_GET_REASON(e);
      }
      ERR_clear_error();
      break;
    }
    const uint8_t *data = NULL;
    size_t len = 0;
    BIO_mem_contents(out, &data, &len);
    if (len > 0) {
      tls_conn_feed(s, (struct slice){data, len}, &plain);
      BIO_reset(out);
    }
    buf_reset(&back);
    assert_true(tls_conn_take_output(s, &back));
    if (back.len > 0) {
      BIO_write(in, back.ptr, (int) back.len);
    }
  }
  buf_cleanup(&plain);
  buf_cleanup(&back);
  SSL_free(c);
  SSL_CTX_free(cctx);
  tls_conn_free(s);
  ERR_clear_error();
  return done;
}

static void test_tls10_only_host_refuses_tls12_client(void **state) {
  struct fixture *f = *state;
  int reason = -1;
  assert_false(handshake(f, TLS1_VERSION, TLS1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION, &reason));
  /* the server's protocol_version alert, as the client saw it */
  assert_int_equal(reason, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
  assert_non_null(strstr(journal(f), "\"ev\":\"tls.hello\""));
  assert_non_null(strstr(journal(f), "\"ev\":\"tls.done\",\"ok\":false"));
}

static void test_tls10_only_host_serves_tls10_client(void **state) {
  struct fixture *f = *state;
  int reason = -1;
  assert_true(handshake(f, 0x0301, 0x0301, TLS1_VERSION, TLS1_VERSION, &reason));
  assert_non_null(strstr(journal(f), "\"ev\":\"tls.done\",\"ok\":true,\"host\":"
                                     "\"autodiscover.contoso.com\",\"version\":\"TLSv1\""));
}

static void test_default_range_still_refuses_tls11(void **state) {
  struct fixture *f = *state;
  int reason = -1;
  assert_false(handshake(f, 0, 0, TLS1_1_VERSION, TLS1_1_VERSION, &reason));
  assert_true(handshake(f, 0, 0, TLS1_3_VERSION, TLS1_3_VERSION, &reason));
  /* a lone maximum below the default minimum means exactly that version */
  assert_true(handshake(f, 0, TLS1_1_VERSION, TLS1_VERSION, TLS1_3_VERSION, &reason));
  assert_non_null(strstr(journal(f), "\"version\":\"TLSv1.1\""));
}

static void test_bad_ranges_are_refused(void **state) {
  struct fixture *f = *state;
  char err[200] = "";
  SSL_CTX *ctx = NULL;
  assert_int_equal(tls_server_ctx_new_from(&ctx, f->cert, f->key, NULL, err, sizeof err), TLS_OK);
  assert_int_equal(tls_server_ctx_set_versions(ctx, 0x0300, 0x0303, err, sizeof err), TLS_EVERSION);
  assert_non_null(strstr(err, "0x0300"));
  assert_int_equal(tls_server_ctx_set_versions(ctx, 0x0304, 0x0302, err, sizeof err), TLS_EVERSION);
  assert_non_null(strstr(err, "above the maximum"));
  assert_int_equal(tls_server_ctx_set_versions(ctx, 0x0303, 0x0304, err, sizeof err), TLS_OK);
  SSL_CTX_free(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_tls10_only_host_refuses_tls12_client, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tls10_only_host_serves_tls10_client, setup, teardown),
      cmocka_unit_test_setup_teardown(test_default_range_still_refuses_tls11, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_ranges_are_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
