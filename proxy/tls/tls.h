/* proxy/tls/tls.h: server-side TLS for the simulated hosts — contexts that present a chain and
 * record what the client said (ClientHello, alerts), and a socket-free connection engine fed
 * with the bytes the HTTP server reads.
 *
 * Errors: setting up a context returns an enum tls_status (a code for programs, TLS_OK = 0) and
 * writes one sentence for people into the caller's (err, err_size) (err may be NULL);
 * tls_strerror describes a code. What goes wrong on a connection is the client's doing: it is
 * journaled (tls.alert, tls.done) and the connection ends, with no error for the caller. */
#ifndef AD_PROXY_TLS_TLS_H
#define AD_PROXY_TLS_TLS_H

#include "certs/ca.h"
#include "common/buf.h"
#include "journal/jnl.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum tls_status {
  TLS_OK = 0,
  TLS_ENOCERT,  /* no certificate chain, certificate or key to present */
  TLS_EVERSION, /* a protocol version we do not know, or a minimum above the maximum */
  TLS_ECRYPTO,  /* BoringSSL refused (e.g. a key that does not match the certificate) */
};

/* tls_strerror returns a fixed description of `st`; never NULL. */
const char *tls_strerror(enum tls_status st);

/* tls_server_ctx_new sets *out to a server SSL_CTX (the caller frees it) presenting `chain`
 * (leaf, key, intermediates), TLS 1.2–1.3, X25519 preferred, session resumption on, with the
 * ClientHello and alert hooks the HTTP server's journal needs. On failure *out is NULL. */
enum tls_status tls_server_ctx_new(SSL_CTX **out, const struct ca_chain *chain, char *err,
                                   size_t err_size);

/* tls_server_ctx_new_from is tls_server_ctx_new for a leaf, its key and intermediates (may be
 * NULL) given directly (all borrowed; the context takes its own references). */
enum tls_status tls_server_ctx_new_from(SSL_CTX **out, X509 *leaf, EVP_PKEY *key,
                                        STACK_OF(X509) * intermediates, char *err, size_t err_size);

/* tls_server_ctx_set_keylog makes every connection on `ctx` write its secrets to `out` as NSS
 * key-log lines (what Wireshark's tls.keylog_file reads), flushed line by line; `out` (borrowed)
 * must outlive the context and every connection on it. NULL turns it off. */
void tls_server_ctx_set_keylog(SSL_CTX *ctx, FILE *out);

/* tls_server_ctx_set_versions limits `ctx` to the protocol versions min..max given as wire codes
 * (0x0301 TLS 1.0, 0x0302 TLS 1.1, 0x0303 TLS 1.2, 0x0304 TLS 1.3); 0 keeps that end's default
 * (1.2 and 1.3). A host offering only old versions makes a modern client fail with a
 * protocol_version alert. TLS_EVERSION for an unknown code or min > max. */
enum tls_status tls_server_ctx_set_versions(SSL_CTX *ctx, uint16_t min, uint16_t max, char *err,
                                            size_t err_size);

/* A server-side TLS connection without a socket: ciphertext goes in with tls_conn_feed and
 * comes out with tls_conn_take_output; the caller moves it to and from the network. */
struct tls_conn;

enum tls_state {
  TLS_READ_HELLO, /* waiting for the ClientHello */
  TLS_HANDSHAKE,  /* ClientHello recorded, handshake running */
  TLS_OPEN,       /* application data flows */
  TLS_CLOSING,    /* failed, or close_notify sent: nothing more goes in or out */
};

/* tls_conn_new starts a server connection on `ctx` (made by tls_server_ctx_new*; an up-ref is
 * taken). `local` and `peer` are the addresses as text for the journal (copied); `j` (may be
 * NULL) must outlive the connection. Events: tls.hello, tls.alert, tls.done. NULL only when
 * BoringSSL cannot allocate the connection: the caller drops it. */
struct tls_conn *tls_conn_new(SSL_CTX *ctx, struct jnl *j, const char *local, const char *peer);
/* tls_conn_free releases the connection; NULL is fine. */
void tls_conn_free(struct tls_conn *c);

/* tls_conn_feed takes ciphertext received from the peer, runs the handshake as far as the bytes
 * allow and appends decrypted application data to `plain`. False once the connection failed
 * (journaled as tls.done with "ok":false, or a read error after it): send what
 * tls_conn_take_output still gives (an alert), then close. */
bool tls_conn_feed(struct tls_conn *c, struct slice cipher, struct buf *plain);
/* tls_conn_eof tells the engine the peer closed its side (`reset`: with a TCP RST). A handshake
 * the peer gave up without an alert is journaled as tls.done with "ok":false, "abandoned":true,
 * the state it was in and whether our certificate had been sent: how a client that refuses a
 * certificate without saying so is seen from the server side. */
void tls_conn_eof(struct tls_conn *c, bool reset);
/* tls_conn_abandon ends the connection for `why` (e.g. a timeout); a handshake cut short is
 * journaled as tls.done with "ok":false and `why`. */
void tls_conn_abandon(struct tls_conn *c, const char *why);
/* tls_conn_write encrypts application data (TLS_OPEN only); false otherwise or on failure. */
bool tls_conn_write(struct tls_conn *c, struct slice plain);
/* tls_conn_shutdown queues a close_notify; the state becomes TLS_CLOSING. */
void tls_conn_shutdown(struct tls_conn *c);
/* tls_conn_take_output appends the ciphertext waiting to be sent to `out` and forgets it;
 * false if `out` refused the bytes. */
bool tls_conn_take_output(struct tls_conn *c, struct buf *out);

enum tls_state tls_conn_state(const struct tls_conn *c);
/* tls_state_name names a state for the journal ("read_hello", "handshake", ...). */
const char *tls_state_name(enum tls_state st);
/* One listener may serve several hosts, told apart by the name the client asks for (SNI,
 * RFC 6066 §3). A tls_select_cb is called once per connection, as the ClientHello is read, with
 * that name (NULL: the client sent none). It returns the context of the host to present — its
 * certificate, chain, TLS versions and session cache id replace those of the context the
 * connection started with — or NULL to keep that one, and sets *out_label to the host's name
 * for the journal (tls.hello's `host_id`; NULL: none). */
typedef SSL_CTX *(*tls_select_cb)(void *arg, const char *sni, const char **out_label);
/* tls_conn_set_select installs `cb` (called with `arg`) before the first tls_conn_feed. */
void tls_conn_set_select(struct tls_conn *c, tls_select_cb cb, void *arg);
/* tls_server_ctx_set_session_id sets the id that keeps `ctx`'s sessions apart from other
 * contexts' (a session made with one host is never resumed with another on the same
 * listener); contexts start with "autodisco". TLS_ECRYPTO when BoringSSL refuses it. */
enum tls_status tls_server_ctx_set_session_id(SSL_CTX *ctx, const char *id);

/* tls_conn_sni returns the server name the client asked for, or NULL (borrowed). */
const char *tls_conn_sni(const struct tls_conn *c);
/* tls_conn_ssl returns the BoringSSL connection (borrowed), e.g. for tests. */
SSL *tls_conn_ssl(const struct tls_conn *c);

#endif
