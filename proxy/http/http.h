/* proxy/http/http.h: a simulated host's web server on one address and port — plain HTTP or
 * TLS (BoringSSL) — parsing requests with llhttp and answering from the scenario's routes.
 *
 * Errors: starting a listener returns an enum http_status (a code for programs, HTTP_OK = 0; not
 * an HTTP status code) and writes one sentence for people into the caller's (err, err_size);
 * http_strerror describes a code. A bad request is the client's doing: it is answered (4xx),
 * journaled (http.error) and the connection ends, with no error for the caller. */
#ifndef AD_PROXY_HTTP_HTTP_H
#define AD_PROXY_HTTP_HTTP_H

#include "common/labclock.h"
#include "journal/jnl.h"
#include "scenario/scn.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <uv.h>

struct http_listener;

/* What a listener records besides the journal. */
struct http_record {
  struct jnl_har *har;    /* each exchange as a HAR 1.2 entry; NULL: none (borrowed) */
  bool clear_credentials; /* Authorization values in clear in journal and HAR
                             (serve --record-credentials); otherwise scheme and fingerprint */
  uint32_t *counts;       /* per route answer with first: N (scn_route.counter, scn->n_counters
                             of them): the requests it answered, shared by every listener (owned
                             by whoever owns the record); NULL: nothing counted, every answer's
                             first N stay ahead */
  size_t n_counts;
};

/* What a listener allows its clients (serve's limits, docs/commands.md); 0 turns a limit off.
 * A connection past a cap is reset at once, and the refusals are journaled at most once a second
 * (limit.reached); a head, body or handshake past its deadline ends the connection (408 for a
 * head or a body). */
struct http_limits {
  unsigned max_conns;            /* connections open at once on the listener */
  unsigned max_conns_per_client; /* ... from one client address */
  unsigned head_ms;      /* a request head complete within this long of its first byte (real time,
                            whatever bytes keep coming: the idle timer restarts on each) */
  unsigned body_ms;      /* a request body complete within this long of its head's end */
  unsigned handshake_ms; /* a TLS handshake complete within this long of the accept */
};
#define HTTP_MAX_CONNS 512u
#define HTTP_MAX_CONNS_PER_CLIENT 64u
#define HTTP_HEAD_MS 10000u
#define HTTP_BODY_MS 10000u
#define HTTP_HANDSHAKE_MS 10000u

enum http_status {
  HTTP_OK = 0,
  HTTP_ELISTEN, /* the address could not be bound or listened on; the sentence says why */
  HTTP_ETRUST,  /* an upstream route's trusted roots could not be read */
};

/* http_strerror returns a fixed description of `st`; never NULL. */
const char *http_strerror(enum http_status st);

/* http_listener_start listens at `addr` (port 0: ephemeral) for `host`'s listener `l` (both
 * borrowed, must outlive the listener). `tls` (an up-ref is taken) makes it HTTPS; NULL plain
 * HTTP. l->delay_ms runs on `clock` (borrowed, may be NULL: real time). l->fault replaces
 * serving: blackhole (connects time out), reset (RST as soon as the client has sent its first
 * bytes, or 100 ms after accept), reset-after-hello (RST after reading the ClientHello; on plain
 * HTTP after the first request bytes), silent (accepted, never answered, dropped after 120 s).
 * Events: tcp.accept, tcp.reset, tls.hello, tls.alert, tls.done, http.request, http.response,
 * http.error, limit.reached. On failure *out is NULL (the loop must then run to release the
 * half-made listener). */
enum http_status http_listener_start(struct http_listener **out, uv_loop_t *loop,
                                     const struct sockaddr *addr, const struct scn_host *host,
                                     const struct scn_listener *l, SSL_CTX *tls,
                                     struct labclock *clock, struct jnl *j, char *err,
                                     size_t err_size);
/* One host among those a listener serves on a shared address and port. */
struct http_vhost {
  const struct scn_host *host;  /* borrowed, must outlive the listener */
  const struct scn_listener *l; /* the host's listener for this port (its routes, delay) */
  SSL_CTX *tls;                 /* HTTPS: the host's certificate and versions; NULL: plain */
};

/* http_listener_start_shared listens at `addr` for several hosts (`hosts` is copied; an up-ref is
 * taken on each context). They are told apart per connection by SNI (TLS: the named host's
 * certificate, versions and routes) and per request by the Host header (plain HTTP, or a TLS
 * client whose SNI named none of them); a client naming none of them gets hosts[0], the default.
 * All hosts are HTTPS or all plain. The first host with a fault gives the listener its fault, for
 * every host on it (a black hole drops SYNs before any name is known). Events as
 * http_listener_start; tcp.accept's `host` is null when n_hosts > 1, tls.hello and http.request
 * carry `host_id`. */
enum http_status http_listener_start_shared(struct http_listener **out, uv_loop_t *loop,
                                            const struct sockaddr *addr,
                                            const struct http_vhost *hosts, size_t n_hosts,
                                            struct labclock *clock, struct jnl *j, char *err,
                                            size_t err_size);
/* http_vhost_find returns the index of the host in `hosts` that answers to `name` (a DNS name, a
 * Host header value with or without its port; any case, a trailing dot ignored; a host's
 * "*.suffix" name matches any name under suffix, RFC 4592), or -1. */
long http_vhost_find(const struct http_vhost *hosts, size_t n_hosts, struct slice name);
/* http_listener_set_record sets what `l` records for the connections it accepts from now on
 * (`rec` is copied; its har must outlive the listener). */
void http_listener_set_record(struct http_listener *l, const struct http_record *rec);
/* http_listener_set_limits sets what `l` allows from now on (`lim` is copied); a listener starts
 * with HTTP_MAX_CONNS, HTTP_MAX_CONNS_PER_CLIENT, HTTP_HEAD_MS, HTTP_BODY_MS and
 * HTTP_HANDSHAKE_MS. The deadlines apply to a listener without a fault only: a silent or reset
 * fault keeps its own timing. */
void http_listener_set_limits(struct http_listener *l, const struct http_limits *lim);
/* http_listener_addr gives the address actually bound. */
void http_listener_addr(const struct http_listener *l, struct sockaddr_storage *out);
/* http_listener_close stops listening, closes its connections and frees itself once the loop
 * has run the close callbacks. */
void http_listener_close(struct http_listener *l);

#endif
