/* proxy/http/http_conn.c: the listening socket and its connections on the libuv loop — bytes
 * in (through TLS when the listener has a context), the request session, bytes out, and a
 * lingering close so the peer reads our last answer before the socket goes. */
#include "proxy/http/http.h"

#include "proxy/http/internal.h"
#include "proxy/tls/tls.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define ADDR_TEXT 64
#define READ_CHUNK 65536
/* A client that sends requests without reading the answers is not read from while more than
 * this waits to be sent, so it cannot make us queue without bound. */
#define MAX_QUEUED (1u << 20)

enum conn_state {
  CONN_OPEN,     /* reading requests */
  CONN_DRAINING, /* answered for the last time: send, FIN, discard input until EOF or linger */
  CONN_CLOSING,  /* handles closing; freed after the last close callback */
};

struct http_conn;

struct http_listener {
  uv_tcp_t tcp;
  uv_loop_t *loop;
  const struct scn_host *host;
  const struct scn_listener *l;
  SSL_CTX *tls;
  struct jnl *j;
  struct http_conn *conns;
  size_t n_conns;
  unsigned idle_ms;
  unsigned linger_ms;
  bool closing;
  bool handle_closed;
  char local[ADDR_TEXT];
};

struct http_conn {
  uv_tcp_t tcp;
  uv_timer_t idle;
  uv_shutdown_t shutdown;
  int n_open_handles; /* handles still waiting for their close callback */
  enum conn_state state;
  struct http_listener *lst;
  struct http_conn *prev, *next;
  struct tls_conn *tls; /* NULL: plain HTTP */
  struct http_session session;
  struct buf plain; /* decrypted bytes of one read */
  size_t n_writes;  /* uv_write requests in flight */
  bool fin_sent;
  bool read_paused; /* stopped reading until the peer takes our answers (MAX_QUEUED) */
  char local[ADDR_TEXT];
  char peer[ADDR_TEXT];
  char rbuf[READ_CHUNK];
};

struct write_req {
  uv_write_t req;
  struct http_conn *c;
  char *bytes;
};

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t out_size) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *) ss;
    uv_ip4_name(a, ip, sizeof ip);
    buf_fmt(out, out_size, "%s:%u", ip, (unsigned) ntohs(a->sin_port));
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *) ss;
    uv_ip6_name(a, ip, sizeof ip);
    buf_fmt(out, out_size, "[%s]:%u", ip, (unsigned) ntohs(a->sin6_port));
  } else {
    buf_fmt(out, out_size, "?");
  }
}

static void maybe_free_listener(struct http_listener *lst) {
  if (lst->closing && lst->handle_closed && lst->n_conns == 0) {
    SSL_CTX_free(lst->tls);
    free(lst);
  }
}

static void conn_free(struct http_conn *c) {
  struct http_listener *lst = c->lst;
  if (c->prev != NULL) {
    c->prev->next = c->next;
  } else {
    lst->conns = c->next;
  }
  if (c->next != NULL) {
    c->next->prev = c->prev;
  }
  lst->n_conns--;
  tls_conn_free(c->tls);
  http__session_cleanup(&c->session);
  buf_cleanup(&c->plain);
  free(c);
  maybe_free_listener(lst);
}

static void on_conn_handle_closed(uv_handle_t *h) {
  struct http_conn *c = h->data;
  if (--c->n_open_handles == 0) {
    conn_free(c);
  }
}

static void conn_close(struct http_conn *c) {
  if (c->state == CONN_CLOSING) {
    return; /* a second close is harmless */
  }
  c->state = CONN_CLOSING;
  uv_close((uv_handle_t *) &c->tcp, on_conn_handle_closed);
  uv_close((uv_handle_t *) &c->idle, on_conn_handle_closed);
}

static void on_idle(uv_timer_t *t) {
  struct http_conn *c = t->data;
  if (c->state == CONN_OPEN && c->tls != NULL) {
    tls_conn_abandon(c->tls, "no data from the peer: idle timeout during the handshake");
  }
  conn_close(c); /* idle too long, or the peer never closed after our last answer */
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  (void) req;
  (void) status; /* the linger timer or the peer's EOF ends the connection */
}

/* send_fin half-closes once the last answer is written, then waits for the peer to hang up. */
static void send_fin(struct http_conn *c) {
  if (c->state != CONN_DRAINING || c->n_writes > 0 || c->fin_sent) {
    return;
  }
  c->fin_sent = true;
  if (uv_shutdown(&c->shutdown, (uv_stream_t *) &c->tcp, on_shutdown) != 0) {
    conn_close(c);
    return;
  }
  uv_timer_start(&c->idle, on_idle, c->lst->linger_ms, 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b);

static void on_written(uv_write_t *req, int status) {
  struct write_req *w = (struct write_req *) req;
  struct http_conn *c = w->c;
  free(w->bytes);
  free(w);
  c->n_writes--;
  if (status < 0) {
    conn_close(c);
    return;
  }
  if (c->state == CONN_OPEN) {
    uv_timer_again(&c->idle); /* a peer taking our answers is not idle */
  }
  if (c->read_paused && c->state != CONN_CLOSING &&
      uv_stream_get_write_queue_size((uv_stream_t *) &c->tcp) <= MAX_QUEUED / 4) {
    c->read_paused = false;
    if (uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read) != 0) {
      conn_close(c);
      return;
    }
  }
  send_fin(c);
}

/* write_out sends and empties `b`. */
static void write_out(struct http_conn *c, struct buf *b) {
  if (b->len == 0 || c->state == CONN_CLOSING) {
    buf_reset(b);
    return;
  }
  size_t len = b->len;
  struct write_req *w = xcalloc(1, sizeof *w);
  w->c = c;
  w->bytes = buf_take(b);
  uv_buf_t ub = uv_buf_init(w->bytes, (unsigned) len);
  if (uv_write(&w->req, (uv_stream_t *) &c->tcp, &ub, 1, on_written) != 0) {
    free(w->bytes);
    free(w);
    conn_close(c);
    return;
  }
  c->n_writes++;
}

static void flush_tls(struct http_conn *c) {
  struct buf cipher;
  buf_init(&cipher, 64u << 20);
  if (tls_conn_take_output(c->tls, &cipher)) {
    write_out(c, &cipher);
  }
  buf_cleanup(&cipher);
}

static void drain(struct http_conn *c) {
  if (c->state != CONN_OPEN) {
    return;
  }
  c->state = CONN_DRAINING;
  send_fin(c);
}

/* serve runs plaintext through the request session and sends what it answers. */
static void serve(struct http_conn *c, struct slice plain) {
  bool more = http__session_feed(&c->session, plain);
  if (c->session.out.len > 0) {
    if (c->tls != NULL) {
      tls_conn_write(c->tls, buf_slice(&c->session.out));
      buf_reset(&c->session.out);
    } else {
      write_out(c, &c->session.out);
    }
  }
  if (!more && c->tls != NULL) {
    tls_conn_shutdown(c->tls);
  }
  if (c->tls != NULL) {
    flush_tls(c);
  }
  if (!more) {
    drain(c);
  }
}

static void on_bytes(struct http_conn *c, struct slice bytes) {
  if (c->tls == NULL) {
    serve(c, bytes);
    return;
  }
  buf_reset(&c->plain);
  bool ok = tls_conn_feed(c->tls, bytes, &c->plain);
  if (c->plain.len > 0) {
    serve(c, buf_slice(&c->plain));
  } else {
    flush_tls(c); /* handshake messages */
  }
  if (!ok) {
    flush_tls(c); /* an alert, if BoringSSL wrote one */
    drain(c);
  }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out) {
  struct http_conn *c = h->data;
  (void) suggested;
  *out = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b) {
  struct http_conn *c = stream->data;
  if (c->state == CONN_CLOSING || nread == 0) {
    return;
  }
  if (nread < 0) {
    if (c->state == CONN_OPEN) {
      bool requests_flowing = c->tls == NULL || tls_conn_state(c->tls) == TLS_OPEN;
      if (c->tls != NULL) {
        tls_conn_eof(c->tls);
      }
      if (requests_flowing) {
        http__session_eof(&c->session);
      }
    }
    conn_close(c);
    return;
  }
  if (c->state == CONN_DRAINING) {
    return; /* discarded: reading on keeps the kernel from answering with RST */
  }
  uv_timer_again(&c->idle);
  on_bytes(c, (struct slice){(const uint8_t *) b->base, (size_t) nread});
  if (c->state != CONN_CLOSING && !c->read_paused &&
      uv_stream_get_write_queue_size((uv_stream_t *) &c->tcp) > MAX_QUEUED) {
    c->read_paused = true;
    uv_read_stop((uv_stream_t *) &c->tcp);
  }
}

static void journal_accept(struct http_conn *c) {
  struct jnl_event ev;
  jnl_begin(&ev, c->lst->j, "tcp.accept");
  jnl_str(&ev, "host", c->lst->host != NULL ? c->lst->host->id : NULL);
  jnl_str(&ev, "local", c->local);
  jnl_str(&ev, "peer", c->peer);
  jnl_bool(&ev, "tls", c->lst->tls != NULL);
  jnl_end(&ev);
}

static void on_connection(uv_stream_t *server, int status) {
  struct http_listener *lst = server->data;
  if (status < 0 || lst->closing) {
    return;
  }
  struct http_conn *c = xcalloc(1, sizeof *c);
  c->lst = lst;
  c->state = CONN_OPEN;
  c->next = lst->conns;
  if (lst->conns != NULL) {
    lst->conns->prev = c;
  }
  lst->conns = c;
  lst->n_conns++;
  http__session_init(&c->session, lst->host, lst->l, lst->j);
  buf_init(&c->plain, 4u << 20);
  uv_tcp_init(lst->loop, &c->tcp);
  uv_timer_init(lst->loop, &c->idle);
  c->tcp.data = c;
  c->idle.data = c;
  c->n_open_handles = 2;
  if (uv_accept(server, (uv_stream_t *) &c->tcp) != 0) {
    conn_close(c);
    return;
  }
  struct sockaddr_storage ss;
  int len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  if (uv_tcp_getsockname(&c->tcp, (struct sockaddr *) &ss, &len) == 0) {
    addr_text(&ss, c->local, sizeof c->local);
  }
  len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *) &ss, &len) == 0) {
    addr_text(&ss, c->peer, sizeof c->peer);
  }
  c->session.local = c->local;
  c->session.peer = c->peer;
  c->session.tls = lst->tls != NULL;
  journal_accept(c);
  if (lst->tls != NULL) {
    c->tls = tls_conn_new(lst->tls, lst->j, c->local, c->peer);
    if (c->tls == NULL) {
      conn_close(c);
      return;
    }
  }
  uv_tcp_nodelay(&c->tcp, 1);
  if (uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read) != 0) {
    conn_close(c);
    return;
  }
  uv_timer_start(&c->idle, on_idle, lst->idle_ms, lst->idle_ms);
}

static void on_listener_closed(uv_handle_t *h) {
  struct http_listener *lst = h->data;
  lst->handle_closed = true;
  maybe_free_listener(lst);
}

int http_listener_start(struct http_listener **out, uv_loop_t *loop, const struct sockaddr *addr,
                        const struct scn_host *host, const struct scn_listener *l, SSL_CTX *tls,
                        struct jnl *j, char *err, size_t err_size) {
  *out = NULL;
  struct http_listener *lst = xcalloc(1, sizeof *lst);
  lst->loop = loop;
  lst->host = host;
  lst->l = l;
  lst->j = j;
  lst->idle_ms = HTTP_IDLE_MS;
  lst->linger_ms = HTTP_LINGER_MS;
  if (tls != NULL) {
    SSL_CTX_up_ref(tls);
    lst->tls = tls;
  }
  int rc = uv_tcp_init(loop, &lst->tcp);
  if (rc != 0) {
    buf_fmt(err, err_size, "tcp: %s", uv_strerror(rc));
    SSL_CTX_free(lst->tls);
    free(lst);
    return -1;
  }
  lst->tcp.data = lst;
  const char *what = "bind";
  rc = uv_tcp_bind(&lst->tcp, addr, 0);
  if (rc == 0) {
    what = "listen";
    rc = uv_listen((uv_stream_t *) &lst->tcp, 128, on_connection);
  }
  if (rc != 0) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, addr,
           addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    addr_text(&ss, lst->local, sizeof lst->local);
    buf_fmt(err, err_size, "%s %s: %s", what, lst->local, uv_strerror(rc));
    lst->closing = true;
    uv_close((uv_handle_t *) &lst->tcp, on_listener_closed); /* frees lst */
    return -1;
  }
  struct sockaddr_storage ss;
  http_listener_addr(lst, &ss);
  addr_text(&ss, lst->local, sizeof lst->local);
  *out = lst;
  return 0;
}

void http_listener_addr(const struct http_listener *l, struct sockaddr_storage *out) {
  int len = sizeof *out;
  memset(out, 0, sizeof *out);
  uv_tcp_getsockname(&l->tcp, (struct sockaddr *) out, &len);
}

void http_listener_close(struct http_listener *l) {
  if (l == NULL || l->closing) {
    return;
  }
  l->closing = true;
  uv_close((uv_handle_t *) &l->tcp, on_listener_closed);
  for (struct http_conn *c = l->conns; c != NULL; c = c->next) {
    conn_close(c);
  }
}

void http__listener_set_idle(struct http_listener *l, unsigned idle_ms, unsigned linger_ms) {
  l->idle_ms = idle_ms;
  l->linger_ms = linger_ms;
}

size_t http__listener_n_conns(const struct http_listener *l) {
  return l->n_conns;
}
