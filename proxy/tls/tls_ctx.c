/* proxy/tls/tls_ctx.c: server contexts — protocol range, key-exchange preference, resumption —
 * and the hooks that journal the ClientHello and the alerts a client sends. */
#include "proxy/tls/tls.h"

#include "proxy/tls/internal.h"

#include <openssl/err.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t ex_once = PTHREAD_ONCE_INIT;
static int ex_index = -1;

static void make_ex_index(void) {
  ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

struct tls_conn *tls__conn_of(const SSL *ssl) {
  pthread_once(&ex_once, make_ex_index);
  if (ex_index < 0) {
    return NULL;
  }
  return SSL_get_ex_data(ssl, ex_index);
}

bool tls__attach(struct tls_conn *c) {
  pthread_once(&ex_once, make_ex_index);
  return ex_index >= 0 && SSL_set_ex_data(c->ssl, ex_index, c) == 1;
}

/* select_host lets the connection's selector pick the context of the host the client named.
 * SSL_set_SSL_CTX takes the certificate settings (and the session id context) of the new
 * context; the version range is the SSL's own, copied from the first context by SSL_new, so it
 * is set here too — BoringSSL fixes the range only after this callback has run. */
static bool select_host(struct tls_conn *c, SSL *ssl, const char **label) {
  *label = NULL;
  if (c->select == NULL) {
    return true;
  }
  SSL_CTX *ctx = c->select(c->select_arg, c->sni, label);
  if (ctx == NULL || ctx == SSL_get_SSL_CTX(ssl)) {
    return true;
  }
  if (SSL_set_SSL_CTX(ssl, ctx) == NULL ||
      !SSL_set_min_proto_version(ssl, SSL_CTX_get_min_proto_version(ctx)) ||
      !SSL_set_max_proto_version(ssl, SSL_CTX_get_max_proto_version(ctx))) {
    ERR_clear_error();
    return false;
  }
  return true;
}

/* The ClientHello is recorded before anything else is chosen, so a client that gives up later
 * is still seen with its SNI, ALPN, versions and cipher suites; the host it named is picked
 * first so that the event can say whose certificate goes out. */
static enum ssl_select_cert_result_t on_client_hello(const SSL_CLIENT_HELLO *hello) {
  struct tls_conn *c = tls__conn_of(hello->ssl);
  if (c == NULL || c->hello_seen) {
    return ssl_select_cert_success;
  }
  free(c->sni);
  c->sni = tls__read_sni(hello);
  const char *label = NULL;
  bool ok = select_host(c, hello->ssl, &label);
  tls__journal_hello(c, hello, label);
  c->hello_seen = true;
  if (c->state == TLS_READ_HELLO) {
    c->state = TLS_HANDSHAKE;
  }
  return ok ? ssl_select_cert_success : ssl_select_cert_error;
}

void tls_conn_set_select(struct tls_conn *c, tls_select_cb cb, void *arg) {
  c->select = cb;
  c->select_arg = arg;
}

enum tls_status tls_server_ctx_set_session_id(SSL_CTX *ctx, const char *id) {
  const uint8_t *bytes = (const uint8_t *) id;
  size_t len = strlen(id);
  uint8_t digest[SHA256_DIGEST_LENGTH];
  if (len > SSL_MAX_SID_CTX_LENGTH) { /* 32 bytes at most: a longer id by its SHA-256 */
    SHA256(bytes, len, digest);
    bytes = digest;
    len = sizeof digest;
  }
  if (!SSL_CTX_set_session_id_context(ctx, bytes, len)) {
    ERR_clear_error();
    return TLS_ECRYPTO;
  }
  return TLS_OK;
}

/* A client that rejects the certificate says why in an alert (RFC 8446 §6.2); close_notify is
 * the ordinary end of a connection and is not journaled. */
static void on_info(const SSL *ssl, int where, int ret) {
  if ((where & SSL_CB_READ_ALERT) != SSL_CB_READ_ALERT) {
    return;
  }
  struct tls_conn *c = tls__conn_of(ssl);
  if (c == NULL || (ret & 0xff) == SSL_AD_CLOSE_NOTIFY) {
    return;
  }
  tls__journal_alert(c, ret);
}

void tls__journal_alert(struct tls_conn *c, int value) {
  struct jnl_event ev;
  jnl_begin(&ev, c->j, "tls.alert");
  jnl_str(&ev, "host", c->sni);
  jnl_str(&ev, "alert", SSL_alert_desc_string_long(value));
  jnl_str(&ev, "level", SSL_alert_type_string_long(value));
  jnl_str(&ev, "local", c->local);
  jnl_str(&ev, "peer", c->peer);
  jnl_end(&ev);
  c->alert_seen = true;
}

/* on_message notes when our Certificate goes out: a client that hangs up after it had the
 * certificate in hand and before its Finished most likely refused it without an alert. */
static void on_message(int is_write, int version, int content_type, const void *buf, size_t len,
                       SSL *ssl, void *arg) {
  (void) version;
  (void) arg;
  struct tls_conn *c = tls__conn_of(ssl);
  if (c != NULL && is_write && content_type == SSL3_RT_HANDSHAKE && len > 0 &&
      ((const uint8_t *) buf)[0] == SSL3_MT_CERTIFICATE) {
    c->cert_sent = true;
  }
}

static pthread_once_t keylog_once = PTHREAD_ONCE_INIT;
static int keylog_index = -1;

static void make_keylog_index(void) {
  keylog_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* on_keylog writes one NSS key-log line (CLIENT_HANDSHAKE_TRAFFIC_SECRET <random> <secret>, ...)
 * and flushes it, so a capture can be decrypted even if the lab is killed afterwards. */
static void on_keylog(const SSL *ssl, const char *line) {
  FILE *out = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keylog_index);
  if (out != NULL) {
    fputs(line, out);
    fputc('\n', out);
    fflush(out);
  }
}

void tls_server_ctx_set_keylog(SSL_CTX *ctx, FILE *out) {
  pthread_once(&keylog_once, make_keylog_index);
  if (keylog_index < 0 || !SSL_CTX_set_ex_data(ctx, keylog_index, out)) {
    ERR_clear_error();
    return;
  }
  SSL_CTX_set_keylog_callback(ctx, out != NULL ? on_keylog : NULL);
}

const char *tls_strerror(enum tls_status st) {
  switch (st) {
    case TLS_OK: return "no error";
    case TLS_ENOCERT: return "no certificate or key to present";
    case TLS_EVERSION: return "TLS versions the lab does not offer";
    case TLS_ECRYPTO: return "BoringSSL refused the TLS setup";
  }
  return "unknown TLS error";
}

/* fail_ssl frees `ctx` (may be NULL), writes `what` and BoringSSL's reason into err, and empties
 * BoringSSL's error queue so the reason never leaks into the next message. */
static enum tls_status fail_ssl(SSL_CTX *ctx, char *err, size_t err_size, const char *what) {
  char reason[160];
  ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
  ERR_clear_error();
  if (err != NULL) {
    buf_fmt(err, err_size, "%s: %s", what, reason);
  }
  SSL_CTX_free(ctx);
  return TLS_ECRYPTO;
}

enum tls_status tls_server_ctx_new_from(SSL_CTX **out, X509 *leaf, EVP_PKEY *key,
                                        STACK_OF(X509) * intermediates, char *err,
                                        size_t err_size) {
  static const uint8_t sid_ctx[] = "autodisco";
  *out = NULL;
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == NULL) {
    return fail_ssl(NULL, err, err_size, "SSL_CTX_new");
  }
  if (leaf == NULL || key == NULL) {
    ERR_clear_error();
    if (err != NULL) {
      buf_fmt(err, err_size, "no certificate or key to present");
    }
    SSL_CTX_free(ctx);
    return TLS_ENOCERT;
  }
  if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
      !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
    return fail_ssl(ctx, err, err_size, "protocol versions");
  }
  /* X25519 first: this BoringSSL build's P-256 is generic code (docs/ARCHITECTURE.md). */
  if (!SSL_CTX_set1_curves_list(ctx, "X25519:P-256")) {
    return fail_ssl(ctx, err, err_size, "key-exchange groups");
  }
  if (!SSL_CTX_use_certificate(ctx, leaf)) {
    return fail_ssl(ctx, err, err_size, "certificate");
  }
  if (!SSL_CTX_use_PrivateKey(ctx, key)) {
    return fail_ssl(ctx, err, err_size, "private key");
  }
  if (!SSL_CTX_check_private_key(ctx)) {
    return fail_ssl(ctx, err, err_size, "key does not match the certificate");
  }
  if (intermediates != NULL && !SSL_CTX_set1_chain(ctx, intermediates)) {
    return fail_ssl(ctx, err, err_size, "intermediate certificates");
  }
  /* Resumption: a server-side session cache and tickets (both BoringSSL defaults, set here so
   * the intent is visible); the context id keeps sessions of other contexts out. */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
  if (!SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1)) {
    return fail_ssl(ctx, err, err_size, "session id context");
  }
  SSL_CTX_set_select_certificate_cb(ctx, on_client_hello);
  SSL_CTX_set_info_callback(ctx, on_info);
  SSL_CTX_set_msg_callback(ctx, on_message);
  *out = ctx;
  return TLS_OK;
}

static bool known_version(uint16_t v) {
  return v == TLS1_VERSION || v == TLS1_1_VERSION || v == TLS1_2_VERSION || v == TLS1_3_VERSION;
}

enum tls_status tls_server_ctx_set_versions(SSL_CTX *ctx, uint16_t min, uint16_t max, char *err,
                                            size_t err_size) {
  uint16_t lo = min != 0 ? min : TLS1_2_VERSION;
  uint16_t hi = max != 0 ? max : TLS1_3_VERSION;
  if (min != 0 && max == 0 && lo > hi) {
    hi = lo; /* only a floor above the default ceiling cannot happen (1.3 is the top) */
  }
  if (max != 0 && min == 0 && hi < lo) {
    lo = hi; /* "max: 1.0" alone means 1.0 only */
  }
  if (!known_version(lo) || !known_version(hi)) {
    if (err != NULL) {
      buf_fmt(err, err_size, "unknown TLS version 0x%04x", known_version(lo) ? hi : lo);
    }
    return TLS_EVERSION;
  }
  if (lo > hi) {
    if (err != NULL) {
      buf_fmt(err, err_size, "TLS minimum 0x%04x is above the maximum 0x%04x", lo, hi);
    }
    return TLS_EVERSION;
  }
  /* BoringSSL still speaks TLS 1.0 and 1.1 when asked to; its default cipher list keeps the
   * CBC-SHA1 suites those versions need. */
  if (!SSL_CTX_set_min_proto_version(ctx, lo) || !SSL_CTX_set_max_proto_version(ctx, hi)) {
    char reason[160];
    ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
    ERR_clear_error();
    if (err != NULL) {
      buf_fmt(err, err_size, "protocol versions: %s", reason);
    }
    return TLS_ECRYPTO;
  }
  return TLS_OK;
}
