/* proxy/http/http_listener.c: a listening socket on the libuv loop and the hosts it serves —
 * started (bound and listening, or a black hole for that fault), its limits and settings, and
 * closed: freed once its socket, the gate's timer and every connection (http_conn.c) are gone.
 * After a burst of connections ends, the memory they left goes back to the system. */
#include "proxy/http/http.h"

#include "common/addr.h"
#include "common/bufpool.h"
#include "proxy/http/internal.h"

#include <assert.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read blocks a listener keeps for its next reads; what a burst needed more is freed when it
 * returns. */
#define POOL_IDLE 4
/* After a burst of connections ends, freed memory goes back to the system (glibc keeps it
 * otherwise): when a listener's connections fall to none after at least TRIM_AT_ZERO were open
 * at once, or by TRIM_DROP from the most open since the last trim. A trim costs a walk of the
 * heap (a few ms for hundreds of MB), so only a burst that size earns one. */
#define TRIM_AT_ZERO 64u
#define TRIM_DROP 1024u

static void listener_free(struct http_listener *lst) {
  http__gate_cleanup(&lst->gate);
  for (size_t i = 0; i < lst->n_vhosts; i++) {
    SSL_CTX_free(lst->vhosts[i].tls);
  }
  http__upstream_tls_cleanup(&lst->up_tls);
  free(lst->vhosts);
  bufpool_cleanup(&lst->pool);
  http__memo_free(lst->memo);
  free(lst);
}

static void maybe_free(struct http_listener *lst) {
  if (lst->closing && lst->n_open_handles == 0 && lst->n_conns == 0) {
    if (lst->filler_fd >= 0) {
      close(lst->filler_fd);
    }
    listener_free(lst);
  }
}

/* give_back returns what a burst of connections left unused to the system (TRIM_AT_ZERO). */
static void give_back(struct http_listener *lst) {
  size_t drop = lst->n_conns_peak - lst->n_conns;
  if (!(lst->n_conns == 0 && lst->n_conns_peak >= TRIM_AT_ZERO) && drop < TRIM_DROP) {
    return;
  }
  lst->n_conns_peak = lst->n_conns;
  bufpool_trim(&lst->pool, lst->n_conns == 0 ? 0 : POOL_IDLE);
#if defined(__GLIBC__)
  malloc_trim(0); /* glibc only: free pages inside the heap too, not only its top */
#endif
}

void http__listener_conn_freed(struct http_listener *lst) {
  give_back(lst);
  maybe_free(lst);
}

static void on_listener_closed(uv_handle_t *h) {
  struct http_listener *lst = h->data;
  lst->n_open_handles--;
  maybe_free(lst);
}

/* close_handles closes the listening socket and the gate's timer; the listener is freed once
 * they and its connections are closed. */
static void close_handles(struct http_listener *lst) {
  lst->closing = true;
  lst->gate.report.data = lst;
  uv_close((uv_handle_t *) &lst->tcp, on_listener_closed);
  uv_close((uv_handle_t *) &lst->gate.report, on_listener_closed);
}

const char *http_strerror(enum http_status st) {
  switch (st) {
    case HTTP_OK: return "no error";
    case HTTP_ELISTEN: return "cannot listen on the address";
    case HTTP_ETRUST: return "an upstream route's trusted roots cannot be read";
  }
  return "unknown HTTP listener error";
}

enum http_status http_listener_start(struct http_listener **out, uv_loop_t *loop,
                                     const struct sockaddr *addr, const struct scn_host *host,
                                     const struct scn_listener *l, SSL_CTX *tls,
                                     struct labclock *clock, struct jnl *j, char *err,
                                     size_t err_size) {
  const struct http_vhost only = {.host = host, .l = l, .tls = tls};
  return http_listener_start_shared(out, loop, addr, &only, 1, clock, j, err, err_size);
}

enum http_status http_listener_start_shared(struct http_listener **out, uv_loop_t *loop,
                                            const struct sockaddr *addr,
                                            const struct http_vhost *hosts, size_t n_hosts,
                                            struct labclock *clock, struct jnl *j, char *err,
                                            size_t err_size) {
  *out = NULL;
  assert(n_hosts > 0);
  struct http_listener *lst = xcalloc(1, sizeof *lst);
  bufpool_init(&lst->pool, HTTP_READ_CHUNK, POOL_IDLE);
  lst->loop = loop;
  lst->clock = clock;
  lst->j = j;
  lst->idle_ms = HTTP_IDLE_MS;
  lst->linger_ms = HTTP_LINGER_MS;
  lst->silent_ms = HTTP_SILENT_MS;
  lst->fault = SCN_FAULT_NONE;
  lst->filler_fd = -1;
  lst->memo = http__memo_new(HTTP_MEMO_SLOTS);
  lst->lim = (struct http_limits){.max_conns = HTTP_MAX_CONNS,
                                  .max_conns_per_client = HTTP_MAX_CONNS_PER_CLIENT,
                                  .head_ms = HTTP_HEAD_MS,
                                  .body_ms = HTTP_BODY_MS,
                                  .handshake_ms = HTTP_HANDSHAKE_MS};
  lst->vhosts = xcalloc(n_hosts, sizeof *lst->vhosts);
  lst->n_vhosts = n_hosts;
  for (size_t i = 0; i < n_hosts; i++) {
    lst->vhosts[i] = hosts[i];
    if (hosts[i].tls != NULL) {
      SSL_CTX_up_ref(hosts[i].tls);
    }
    if (lst->fault == SCN_FAULT_NONE && hosts[i].l != NULL) {
      lst->fault = hosts[i].l->fault; /* the first host's fault is everyone's on this port */
    }
  }
  lst->tls = lst->vhosts[0].tls;
  enum http_status st =
      http__upstream_tls_make(&lst->up_tls, lst->vhosts, lst->n_vhosts, err, err_size);
  if (st != HTTP_OK) {
    listener_free(lst);
    return st;
  }
  int rc = uv_tcp_init(loop, &lst->tcp);
  if (rc != 0) {
    buf_fmt(err, err_size, "tcp: %s", uv_strerror(rc));
    listener_free(lst);
    return HTTP_ELISTEN;
  }
  lst->tcp.data = lst;
  http__gate_init(&lst->gate, loop, j, lst->lim.max_conns, lst->lim.max_conns_per_client);
  lst->n_open_handles = 2;
  const char *what = "bind";
  if (lst->fault == SCN_FAULT_BLACKHOLE) {
    rc = http__blackhole_listen(&lst->tcp, addr, &lst->filler_fd, &what);
  } else {
    rc = uv_tcp_bind(&lst->tcp, addr, 0);
    if (rc == 0) {
      what = "listen";
      rc = uv_listen((uv_stream_t *) &lst->tcp, 128, http__conn_accept);
    }
  }
  if (rc != 0) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, addr, addr_len(addr));
    addr_format((const struct sockaddr *) &ss, lst->local, sizeof lst->local);
    buf_fmt(err, err_size, "%s %s: %s", what, lst->local, uv_strerror(rc));
    close_handles(lst); /* frees lst */
    return HTTP_ELISTEN;
  }
  struct sockaddr_storage ss;
  http_listener_addr(lst, &ss);
  addr_format((const struct sockaddr *) &ss, lst->local, sizeof lst->local);
  lst->gate.local = lst->local;
  lst->gate.host = n_hosts == 1 && hosts[0].host != NULL ? lst->vhosts[0].host->id : NULL;
  lst->gate.tls = lst->tls != NULL;
  *out = lst;
  return HTTP_OK;
}

void http_listener_set_record(struct http_listener *l, const struct http_record *rec) {
  l->rec = *rec;
}

void http_listener_addr(const struct http_listener *l, struct sockaddr_storage *out) {
  int len = sizeof *out;
  memset(out, 0, sizeof *out);
  uv_tcp_getsockname(&l->tcp, (struct sockaddr *) out, &len);
}

void http_listener_set_limits(struct http_listener *l, const struct http_limits *lim) {
  l->lim = *lim;
  connlimit_set(&l->gate.count, lim->max_conns, lim->max_conns_per_client);
}

void http_listener_close(struct http_listener *l) {
  if (l == NULL || l->closing) {
    return;
  }
  http__gate_flush(&l->gate); /* the journal is complete when the lab stops */
  close_handles(l);
  http__conns_close(l);
}

void http__listener_set_idle(struct http_listener *l, unsigned idle_ms, unsigned linger_ms) {
  l->idle_ms = idle_ms;
  l->linger_ms = linger_ms;
}

void http__listener_set_silent(struct http_listener *l, unsigned silent_ms) {
  l->silent_ms = silent_ms;
}

size_t http__listener_n_conns(const struct http_listener *l) {
  return l->n_conns;
}
