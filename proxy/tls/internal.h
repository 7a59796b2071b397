/* proxy/tls/internal.h: what the files of proxy/tls share. */
#ifndef AD_PROXY_TLS_INTERNAL_H
#define AD_PROXY_TLS_INTERNAL_H

#include "journal/jnl.h"
#include "proxy/tls/tls.h"

#include <openssl/ssl.h>
#include <stdbool.h>

struct tls_conn {
  SSL *ssl;
  /* The SSL's only BIO reads and writes the buffers below (tls_conn.c): nothing is kept while
   * the connection is idle, where memory BIOs would keep their largest size for its life. */
  BIO *bio;
  struct slice feeding; /* the ciphertext being fed (borrowed, during tls_conn_feed only) */
  size_t feeding_off;   /* ... how much of it BoringSSL has read */
  uint8_t *rest;        /* ciphertext received and not read yet (a partial record), or NULL */
  size_t rest_len;      /* ... exactly this long (the allocation too) */
  size_t rest_off;      /* ... how much of it BoringSSL has read */
  struct buf out;       /* ciphertext BoringSSL wrote for the peer, until taken */
  enum tls_state state;
  struct jnl *j;
  char *local;
  char *peer;
  char *sni;            /* from the ClientHello, or NULL */
  bool hello_seen;      /* tls.hello written */
  bool done_logged;     /* tls.done written */
  bool alert_seen;      /* tls.alert written */
  bool cert_sent;       /* our Certificate message went out: the client had one to judge */
  tls_select_cb select; /* picks the host's context by SNI, or NULL */
  void *select_arg;
};

/* tls__journal_alert writes tls.alert for an alert `value` ((level << 8) | description). */
void tls__journal_alert(struct tls_conn *c, int value);

/* tls__conn_of returns the connection an SSL belongs to, or NULL (an SSL made elsewhere). */
struct tls_conn *tls__conn_of(const SSL *ssl);
/* tls__attach stores `c` in its SSL for the callbacks. */
bool tls__attach(struct tls_conn *c);
/* tls__read_sni returns the first host_name of the ClientHello's server_name extension (caller
 * frees), or NULL. */
char *tls__read_sni(const SSL_CLIENT_HELLO *hello);
/* tls__journal_hello records a ClientHello as tls.hello (c->sni already read); `host_id` is the
 * label of the context a tls_select_cb chose, written when the connection has a selector. */
void tls__journal_hello(struct tls_conn *c, const SSL_CLIENT_HELLO *hello, const char *host_id);
/* tls__version_name names a TLS wire version ("TLS1.3"); GREASE (RFC 8701) as "GREASE",
 * unknown values as hex in `scratch`. */
const char *tls__version_name(uint16_t v, char scratch[8]);

/* tls__is_grease: `v` is one of RFC 8701's reserved GREASE values (0x0a0a, 0x1a1a, ...). */
bool tls__is_grease(uint16_t v);

#define TLS_JA4_LEN 36 /* "t13d1516h2_8daaf6152771_e5627efa2ab1" */
/* tls__ja4 writes the JA4 fingerprint (FoxIO, technical_details/JA4.md; TLS over TCP) of a
 * ClientHello given as its legacy version, its cipher_suites bytes and its extensions block
 * (type, u16-length-prefixed data, repeated) to `out`. Bytes that do not parse end the list
 * they are in; the fingerprint is still written. */
void tls__ja4(char out[TLS_JA4_LEN + 1], uint16_t legacy_version, struct slice ciphers,
              struct slice extensions);

#endif
