/* tests/fuzz/fuzz_tls_server.c: libFuzzer target for the server-side TLS engine (proxy/tls).
 *
 * Any bytes, as if a client sent them to a simulated host: the ClientHello hook (SNI, ALPN,
 * versions, cipher suites into tls.hello), the plaintext-alert reader and the state machine.
 * Nothing may crash, leak or hang; a failed feed leaves the connection closing; what the engine
 * sends back is whole TLS records; the journal stays one JSON object per line and, once the
 * peer has closed, holds exactly one tls.done. The input is split at its first byte's value to
 * exercise bytes arriving in pieces. The server context (a self-signed P-256 certificate) is
 * made once. Seeds: tests/fuzz/corpus/tls_server/ (ClientHellos from `openssl s_client` for TLS
 * 1.0, 1.2 and 1.3 with and without SNI and ALPN, one that forces a HelloRetryRequest, whole
 * client flights recorded against `openssl s_server`, a hello split over two records, a hello
 * followed by a client's plaintext alert, an SSLv2-style hello, a plain HTTP request and
 * garbage). */
#include "common/buf.h"
#include "journal/jnl.h"
#include "proxy/tls/tls.h"

#include <openssl/bytestring.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/nid.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static SSL_CTX *server_ctx;

/* self_signed makes a P-256 key and a certificate for autodiscover.contoso.com; false if
 * BoringSSL refused. */
static bool self_signed(X509 **out_cert, EVP_PKEY **out_key) {
  EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  EVP_PKEY *key = EVP_PKEY_new();
  X509 *x = X509_new();
  bool ok = false;
  if (ec == NULL || key == NULL || x == NULL || !EC_KEY_generate_key(ec) ||
      !EVP_PKEY_assign_EC_KEY(key, ec)) {
    EC_KEY_free(ec);
    goto out;
  }
  X509_NAME *name = X509_get_subject_name(x);
  ok = X509_set_version(x, X509_VERSION_3) && ASN1_INTEGER_set(X509_get_serialNumber(x), 1) &&
       X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
       X509_gmtime_adj(X509_getm_notAfter(x), 86400) != NULL &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  (const unsigned char *) "autodiscover.contoso.com", -1, -1, 0) &&
       X509_set_issuer_name(x, name) && X509_set_pubkey(x, key) &&
       X509_sign(x, key, EVP_sha256()) > 0;
out:
  if (!ok) {
    X509_free(x);
    EVP_PKEY_free(key);
    return false;
  }
  *out_cert = x;
  *out_key = key;
  return true;
}

static void free_ctx(void) {
  SSL_CTX_free(server_ctx);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void) argc;
  (void) argv;
  X509 *cert = NULL;
  EVP_PKEY *key = NULL;
  char err[200] = "";
  if (!self_signed(&cert, &key)) {
    fprintf(stderr, "fuzz_tls_server: cannot make a certificate\n");
    abort();
  }
  enum tls_status st = tls_server_ctx_new_from(&server_ctx, cert, key, NULL, err, sizeof err);
  X509_free(cert);
  EVP_PKEY_free(key);
  if (st != TLS_OK) {
    fprintf(stderr, "fuzz_tls_server: %s\n", err);
    abort();
  }
  atexit(free_ctx);
  return 0;
}

/* check_records traps unless `out` is a sequence of whole TLS records (RFC 8446 §5.1). */
static void check_records(const struct buf *out) {
  CBS cbs, body;
  uint8_t type;
  uint16_t version;
  CBS_init(&cbs, out->ptr, out->len);
  while (CBS_len(&cbs) > 0) {
    if (!CBS_get_u8(&cbs, &type) || !CBS_get_u16(&cbs, &version) ||
        !CBS_get_u16_length_prefixed(&cbs, &body) || type < 20 || type > 23 ||
        (version >> 8) != 3) {
      __builtin_trap();
    }
  }
}

/* contains says whether `needle` occurs in `hay` (memmem is a GNU extension). */
static bool contains(struct slice hay, const char *needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; i + n <= hay.len; i++) {
    if (memcmp(hay.ptr + i, needle, n) == 0) {
      return true;
    }
  }
  return false;
}

/* check_journal traps unless `text` is lines of one JSON object each, without raw control
 * characters, with exactly one tls.done and at most one tls.hello. */
static void check_journal(const char *text, size_t len) {
  size_t n_done = 0;
  size_t n_hello = 0;
  size_t start = 0;
  for (size_t i = 0; i < len; i++) {
    if (text[i] != '\n') {
      if ((unsigned char) text[i] < 0x20) {
        __builtin_trap();
      }
      continue;
    }
    struct slice line = {(const uint8_t *) text + start, i - start};
    if (line.len < 2 || line.ptr[0] != '{' || line.ptr[line.len - 1] != '}') {
      __builtin_trap();
    }
    if (contains(line, "\"ev\":\"tls.done\"")) {
      n_done++;
    }
    if (contains(line, "\"ev\":\"tls.hello\"")) {
      n_hello++;
    }
    start = i + 1;
  }
  if (start != len || n_done != 1 || n_hello > 1) {
    __builtin_trap();
  }
}

/* feed gives `piece` to the engine and checks the state and output that follow; `opened` says
 * whether the handshake ever finished. */
static bool feed(struct tls_conn *c, struct slice piece, struct buf *plain, struct buf *out,
                 bool *opened) {
  bool ok = tls_conn_feed(c, piece, plain);
  enum tls_state st = tls_conn_state(c);
  if (st == TLS_OPEN) {
    *opened = true;
  }
  if (!ok && st != TLS_CLOSING) {
    __builtin_trap(); /* a failed feed leaves nothing more to do */
  }
  if (st == TLS_READ_HELLO && tls_conn_sni(c) != NULL) {
    __builtin_trap(); /* the SNI comes from the ClientHello */
  }
  const char *sni = tls_conn_sni(c);
  if (sni != NULL && (sni[0] == 0 || strlen(sni) > 255)) {
    __builtin_trap();
  }
  if ((!*opened && plain->len != 0) ||
      (st != TLS_OPEN && tls_conn_write(c, (struct slice){(const uint8_t *) "x", 1}))) {
    __builtin_trap(); /* application data only flows once the handshake is done */
  }
  buf_reset(out);
  if (!tls_conn_take_output(c, out)) {
    __builtin_trap();
  }
  check_records(out);
  return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = NULL;
  size_t text_len = 0;
  FILE *mem = open_memstream(&text, &text_len);
  if (mem == NULL) {
    return 0;
  }
  struct jnl *j = jnl_open_stream(mem);
  struct tls_conn *c = tls_conn_new(server_ctx, j, "127.0.0.1:443", "127.0.0.1:50000");
  if (c == NULL) {
    __builtin_trap();
  }
  struct buf plain, out;
  buf_init(&plain, 1 << 20);
  buf_init(&out, 1 << 20);
  bool opened = false;
  size_t cut = size > 0 ? data[0] % (size + 1) : 0;
  if (feed(c, (struct slice){data, cut}, &plain, &out, &opened)) {
    feed(c, (struct slice){data + cut, size - cut}, &plain, &out, &opened);
  }
  tls_conn_eof(c, false);
  if (tls_conn_state(c) != TLS_CLOSING || tls_conn_feed(c, (struct slice){data, size}, &plain)) {
    __builtin_trap(); /* after the peer closed, nothing more goes in */
  }
  tls_conn_free(c);
  jnl_close(j);
  fclose(mem);
  check_journal(text, text_len);
  free(text);
  buf_cleanup(&plain);
  buf_cleanup(&out);
  ERR_clear_error();
  return 0;
}
