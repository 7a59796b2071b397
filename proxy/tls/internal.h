/* proxy/tls/internal.h: what the files of proxy/tls share. */
#ifndef AD_PROXY_TLS_INTERNAL_H
#define AD_PROXY_TLS_INTERNAL_H

#include "journal/jnl.h"
#include "proxy/tls/tls.h"

#include <openssl/ssl.h>
#include <stdbool.h>

struct tls_conn {
  SSL *ssl;
  BIO *in;  /* ciphertext from the peer, read by BoringSSL */
  BIO *out; /* ciphertext BoringSSL wrote for the peer */
  enum tls_state state;
  struct jnl *j;
  char *local;
  char *peer;
  char *sni;            /* from the ClientHello, or NULL */
  bool hello_seen;      /* tls.hello written */
  bool done_logged;     /* tls.done written */
  bool alert_seen;      /* tls.alert written */
  struct slice last_in; /* the ciphertext being fed (borrowed, during tls_conn_feed only) */
};

/* tls__journal_alert writes tls.alert for an alert `value` ((level << 8) | description). */
void tls__journal_alert(struct tls_conn *c, int value);

/* tls__conn_of returns the connection an SSL belongs to, or NULL (an SSL made elsewhere). */
struct tls_conn *tls__conn_of(const SSL *ssl);
/* tls__attach stores `c` in its SSL for the callbacks. */
bool tls__attach(struct tls_conn *c);
/* tls__journal_hello records a ClientHello as tls.hello and keeps its SNI in `c`. */
void tls__journal_hello(struct tls_conn *c, const SSL_CLIENT_HELLO *hello);
/* tls__version_name names a TLS wire version ("TLS1.3"); GREASE and unknown values as hex in
 * `scratch`. */
const char *tls__version_name(uint16_t v, char scratch[8]);

#endif
