/* proxy/tls/tls_conn.c: one server connection as a state machine over memory BIOs — the HTTP
 * server feeds what it reads, BoringSSL answers into the output BIO. */
#include "proxy/tls/tls.h"

#include "proxy/tls/internal.h"

#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum step { STEP_NEXT, STEP_WAIT, STEP_FAIL };

/* Ciphertext kept between reads is a partial record (at most 16 KiB and its header, RFC 8446
 * §5.2); more than this means the peer sends what BoringSSL does not read. */
#define MAX_REST (256u << 10)
/* The output buffer's first allocation; it is handed over or freed once taken. */
#define OUT_FIRST 4096u

const char *tls_state_name(enum tls_state st) {
  switch (st) {
    case TLS_READ_HELLO: return "read_hello";
    case TLS_HANDSHAKE: return "handshake";
    case TLS_OPEN: return "open";
    case TLS_CLOSING: return "closing";
  }
  return "?";
}

/* ---- the connection's BIO: BoringSSL reads the bytes being fed (and a partial record kept from
 * the last feed) in place and writes into `out`. BIO_s_mem would copy every byte in and keep both
 * buffers at their largest size (the ClientHello, our first flight) for the connection's life. */

static int bio_read(BIO *bio, char *dst, int dst_len) {
  struct tls_conn *c = BIO_get_data(bio);
  BIO_clear_retry_flags(bio);
  if (dst_len <= 0) {
    return 0;
  }
  size_t want = (size_t) dst_len, got = 0;
  if (c->rest_off < c->rest_len) {
    size_t n = c->rest_len - c->rest_off;
    n = n < want ? n : want;
    memcpy(dst, c->rest + c->rest_off, n);
    c->rest_off += n;
    got = n;
  }
  if (got < want && c->feeding_off < c->feeding.len) {
    size_t n = c->feeding.len - c->feeding_off;
    n = n < want - got ? n : want - got;
    memcpy(dst + got, c->feeding.ptr + c->feeding_off, n);
    c->feeding_off += n;
    got += n;
  }
  if (got == 0) {
    BIO_set_retry_read(bio); /* nothing yet: "wait for more", not end of stream */
    return -1;
  }
  return (int) got;
}

static int bio_write(BIO *bio, const char *src, int src_len) {
  struct tls_conn *c = BIO_get_data(bio);
  BIO_clear_retry_flags(bio);
  if (src_len <= 0) {
    return 0;
  }
  if (c->out.ptr == NULL && c->out.max >= OUT_FIRST) {
    /* room for a flight or a response's records at once: growing from buf's 64 bytes by
     * doubling costs a realloc per step on every answer (callgrind) */
    c->out.ptr = malloc(OUT_FIRST);
    if (c->out.ptr == NULL) {
      abort(); /* out of memory is not an input error */
    }
    c->out.cap = OUT_FIRST;
    c->out.ptr[0] = 0;
  }
  if (!buf_append(&c->out, (struct slice){(const uint8_t *) src, (size_t) src_len})) {
    return -1; /* past out.max: the connection fails */
  }
  return src_len;
}

static long bio_ctrl(BIO *bio, int cmd, long num, void *ptr) {
  (void) num;
  (void) ptr;
  struct tls_conn *c = BIO_get_data(bio);
  switch (cmd) {
    case BIO_CTRL_FLUSH: return 1; /* the caller sends what tls_conn_take_output gives */
    case BIO_CTRL_PENDING:
      return (long) (c->rest_len - c->rest_off + c->feeding.len - c->feeding_off);
    case BIO_CTRL_WPENDING: return (long) c->out.len;
    default: return 0;
  }
}

static pthread_once_t bio_once = PTHREAD_ONCE_INIT;
static BIO_METHOD *bio_method;

static void make_bio_method(void) {
  BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "autodisco tls_conn");
  if (m != NULL && BIO_meth_set_read(m, bio_read) && BIO_meth_set_write(m, bio_write) &&
      BIO_meth_set_ctrl(m, bio_ctrl)) {
    bio_method = m; /* lives as long as the process */
    return;
  }
  BIO_meth_free(m);
}

/* keep_rest keeps the ciphertext BoringSSL did not read yet (a record cut by the read's end), in
 * an allocation of exactly its size; nothing at all when every byte was read. */
static void keep_rest(struct tls_conn *c) {
  size_t old = c->rest_len - c->rest_off;
  size_t fresh = c->feeding.len - c->feeding_off;
  if (fresh == 0 && c->rest_off == 0) {
    c->feeding = (struct slice){NULL, 0}; /* nothing read, nothing new: `rest` stays as it is */
    c->feeding_off = 0;
    return;
  }
  uint8_t *rest = NULL;
  if (old + fresh > 0) {
    rest = malloc(old + fresh);
    if (rest == NULL) {
      abort(); /* out of memory is not an input error */
    }
    if (old > 0) {
      memcpy(rest, c->rest + c->rest_off, old);
    }
    if (fresh > 0) {
      memcpy(rest + old, c->feeding.ptr + c->feeding_off, fresh);
    }
  }
  free(c->rest);
  c->rest = rest;
  c->rest_len = old + fresh;
  c->rest_off = 0;
  c->feeding = (struct slice){NULL, 0};
  c->feeding_off = 0;
}

struct tls_conn *tls_conn_new(SSL_CTX *ctx, struct jnl *j, const char *local, const char *peer) {
  pthread_once(&bio_once, make_bio_method);
  struct tls_conn *c = xcalloc(1, sizeof *c);
  c->j = j;
  c->local = str_dup(local);
  c->peer = str_dup(peer);
  c->state = TLS_READ_HELLO;
  buf_init(&c->out, 64u << 20);
  c->ssl = SSL_new(ctx);
  c->bio = bio_method != NULL ? BIO_new(bio_method) : NULL;
  if (c->ssl == NULL || c->bio == NULL || !tls__attach(c)) {
    BIO_free(c->bio);
    c->bio = NULL;
    tls_conn_free(c);
    ERR_clear_error();
    return NULL;
  }
  BIO_set_data(c->bio, c);
  BIO_set_init(c->bio, 1);
  SSL_set_bio(c->ssl, c->bio, c->bio); /* the SSL owns the BIO from here on (one reference) */
  SSL_set_accept_state(c->ssl);
  /* What only the handshake needs (certificate, key, cipher and group lists: BoringSSL's copy of
   * the context's configuration) is freed once it is done. SSL_MODE_RELEASE_BUFFERS is 0 in
   * BoringSSL: it always releases its record buffers when they are empty. */
  SSL_set_shed_handshake_config(c->ssl, 1);
  return c;
}

void tls_conn_free(struct tls_conn *c) {
  if (c == NULL) {
    return;
  }
  SSL_free(c->ssl);
  free(c->rest);
  buf_cleanup(&c->out);
  free(c->local);
  free(c->peer);
  free(c->sni);
  free(c);
}

static void journal_done_ok(struct tls_conn *c) {
  const SSL_CIPHER *cipher = SSL_get_current_cipher(c->ssl);
  uint16_t group = SSL_get_curve_id(c->ssl);
  struct jnl_event ev;
  jnl_begin(&ev, c->j, "tls.done");
  jnl_bool(&ev, "ok", true);
  jnl_str(&ev, "host", c->sni);
  jnl_str(&ev, "version", SSL_get_version(c->ssl));
  jnl_str(&ev, "cipher", cipher == NULL ? NULL : SSL_CIPHER_standard_name(cipher));
  jnl_str(&ev, "group", group == 0 ? NULL : SSL_get_curve_name(group));
  jnl_bool(&ev, "resumed", SSL_session_reused(c->ssl) == 1);
  jnl_str(&ev, "local", c->local);
  jnl_str(&ev, "peer", c->peer);
  jnl_end(&ev);
  c->done_logged = true;
}

/* journal_done_failed writes tls.done for a handshake that did not finish; `abandoned`: the
 * peer closed or reset the connection without an alert. */
static void journal_done_failed(struct tls_conn *c, const char *error, bool abandoned) {
  if (c->done_logged) {
    return;
  }
  struct jnl_event ev;
  jnl_begin(&ev, c->j, "tls.done");
  jnl_bool(&ev, "ok", false);
  jnl_str(&ev, "host", c->sni);
  jnl_str(&ev, "error", error);
  jnl_bool(&ev, "abandoned", abandoned);
  jnl_str(&ev, "state", tls_state_name(c->state));
  jnl_str(&ev, "stage", c->ssl != NULL ? SSL_state_string_long(c->ssl) : NULL);
  jnl_bool(&ev, "certificate_sent", c->cert_sent);
  jnl_str(&ev, "local", c->local);
  jnl_str(&ev, "peer", c->peer);
  jnl_end(&ev);
  c->done_logged = true;
}

/* ssl_failure describes a failed SSL call and empties the error queue. */
static void ssl_failure(struct tls_conn *c, int ret, char *out, size_t out_size) {
  int err = SSL_get_error(c->ssl, ret);
  uint32_t packed = ERR_peek_error();
  if (packed != 0) {
    ERR_error_string_n(packed, out, out_size);
  } else if (err == SSL_ERROR_ZERO_RETURN) {
    buf_fmt(out, out_size, "peer sent close_notify");
  } else {
    buf_fmt(out, out_size, "SSL error %d", err);
  }
  ERR_clear_error();
}

/* journal_error writes tls.error: the connection failed after its handshake (BoringSSL's
 * reason, e.g. NO_RENEGOTIATION for a client asking to renegotiate, which it never allows a
 * server). */
static void journal_error(struct tls_conn *c, int ret) {
  char why[256];
  ssl_failure(c, ret, why, sizeof why);
  struct jnl_event ev;
  jnl_begin(&ev, c->j, "tls.error");
  jnl_str(&ev, "host", c->sni);
  jnl_str(&ev, "error", why);
  jnl_str(&ev, "local", c->local);
  jnl_str(&ev, "peer", c->peer);
  jnl_end(&ev);
}

/* plaintext_alert finds an unencrypted alert record among the bytes just received. OpenSSL
 * clients that reject the certificate during a TLS 1.3 handshake send their alert before they
 * have handshake keys, so BoringSSL cannot read it (BAD_PACKET_LENGTH); the record itself still
 * says why (RFC 8446 §5.1, §6). Returns (level << 8) | description, or -1. */
static int plaintext_alert(struct slice in) {
  CBS cbs, body;
  uint8_t type, level, desc;
  uint16_t version;
  CBS_init(&cbs, in.ptr, in.len);
  while (CBS_get_u8(&cbs, &type) && CBS_get_u16(&cbs, &version) &&
         CBS_get_u16_length_prefixed(&cbs, &body)) {
    if (type == SSL3_RT_ALERT && CBS_len(&body) == 2 && (version >> 8) == 3 &&
        CBS_get_u8(&body, &level) && CBS_get_u8(&body, &desc) &&
        (level == SSL3_AL_WARNING || level == SSL3_AL_FATAL)) {
      return level << 8 | desc;
    }
  }
  return -1;
}

/* do_handshake serves TLS_READ_HELLO and TLS_HANDSHAKE: the ClientHello hook moves the state
 * to TLS_HANDSHAKE, a finished handshake to TLS_OPEN. */
static enum step do_handshake(struct tls_conn *c) {
  int ret = SSL_do_handshake(c->ssl);
  if (ret == 1) {
    c->state = TLS_OPEN;
    journal_done_ok(c);
    return STEP_NEXT;
  }
  int err = SSL_get_error(c->ssl, ret);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    return STEP_WAIT;
  }
  char why[200];
  ssl_failure(c, ret, why, sizeof why);
  int alert = c->alert_seen ? -1 : plaintext_alert(c->feeding);
  if (alert >= 0) {
    tls__journal_alert(c, alert);
    buf_fmt(why, sizeof why, "peer sent alert: %s", SSL_alert_desc_string_long(alert));
  }
  journal_done_failed(c, why, false);
  return STEP_FAIL;
}

/* unread_input: ciphertext our BIO has not given BoringSSL yet. */
static bool unread_input(const struct tls_conn *c) {
  return c->rest_off < c->rest_len || c->feeding_off < c->feeding.len;
}

/* do_open reads all the application data the received records hold. */
static enum step do_open(struct tls_conn *c, struct buf *plain) {
  uint8_t chunk[16384];
  for (;;) {
    int n = SSL_read(c->ssl, chunk, sizeof chunk);
    if (n > 0) {
      if (!buf_append(plain, (struct slice){chunk, (size_t) n})) {
        return STEP_FAIL;
      }
      if (!unread_input(c) && !SSL_has_pending(c->ssl)) {
        return STEP_WAIT; /* all read: another SSL_read would only say so (a fifth of a read) */
      }
      continue;
    }
    int err = SSL_get_error(c->ssl, n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      return STEP_WAIT;
    }
    if (ERR_peek_error() != 0) {
      journal_error(c, n); /* a bad record, a renegotiation: said before the connection ends */
    }
    ERR_clear_error();
    return STEP_FAIL; /* close_notify, a bad record or a refused renegotiation: the end */
  }
}

bool tls_conn_feed(struct tls_conn *c, struct slice cipher, struct buf *plain) {
  if (c->state == TLS_CLOSING) {
    return false;
  }
  c->feeding = cipher; /* read in place by bio_read */
  c->feeding_off = 0;
  enum step s = STEP_NEXT;
  while (s == STEP_NEXT) {
    switch (c->state) {
      case TLS_READ_HELLO: s = do_handshake(c); break;
      case TLS_HANDSHAKE: s = do_handshake(c); break;
      case TLS_OPEN: s = do_open(c, plain); break;
      case TLS_CLOSING: s = STEP_FAIL; break;
    }
  }
  keep_rest(c);
  if (c->rest_len > MAX_REST) {
    s = STEP_FAIL; /* BoringSSL stopped reading while bytes kept coming */
  }
  if (s == STEP_FAIL) {
    c->state = TLS_CLOSING;
    return false;
  }
  return true;
}

void tls_conn_abandon(struct tls_conn *c, const char *why) {
  if (c->state == TLS_READ_HELLO || c->state == TLS_HANDSHAKE) {
    journal_done_failed(c, why, false);
  }
  c->state = TLS_CLOSING;
}

void tls_conn_eof(struct tls_conn *c, bool reset) {
  if (c->state == TLS_READ_HELLO || c->state == TLS_HANDSHAKE) {
    journal_done_failed(c,
                        reset ? "peer reset the connection during the handshake"
                              : "peer closed the connection during the handshake",
                        !c->alert_seen);
  }
  c->state = TLS_CLOSING;
}

bool tls_conn_write(struct tls_conn *c, struct slice plain) {
  if (c->state != TLS_OPEN) {
    return false;
  }
  size_t off = 0;
  while (off < plain.len) {
    size_t n = plain.len - off;
    if (n > 16384) {
      n = 16384;
    }
    int ret = SSL_write(c->ssl, plain.ptr + off, (int) n);
    if (ret <= 0) {
      ERR_clear_error();
      c->state = TLS_CLOSING;
      return false;
    }
    off += (size_t) ret;
  }
  return true;
}

void tls_conn_shutdown(struct tls_conn *c) {
  if (c->state == TLS_OPEN) {
    SSL_shutdown(c->ssl); /* queues close_notify; the peer's is not awaited */
    ERR_clear_error();
  }
  c->state = TLS_CLOSING;
}

bool tls_conn_take_output(struct tls_conn *c, struct buf *out) {
  if (c->out.len == 0) {
    buf_cleanup(&c->out); /* an idle connection keeps no output buffer */
    return true;
  }
  if (out->len == 0 && out->ptr == NULL && c->out.len <= out->max) {
    struct buf mine = c->out; /* handed over, not copied */
    mine.max = out->max;
    *out = mine;
    buf_init(&c->out, c->out.max);
    return true;
  }
  bool ok = buf_append(out, buf_slice(&c->out));
  buf_cleanup(&c->out);
  return ok;
}

enum tls_state tls_conn_state(const struct tls_conn *c) {
  return c->state;
}

const char *tls_conn_sni(const struct tls_conn *c) {
  return c->sni;
}

SSL *tls_conn_ssl(const struct tls_conn *c) {
  return c->ssl;
}
