/* proxy/http/http_conn.c: a listener's connections on the libuv loop (the listener itself is
 * http_listener.c) — accepted, bytes in (through TLS when the listener has a context), the
 * request session, bytes out (after the listener's delay, on the lab clock), and a lingering
 * close so the peer reads our last answer before the socket goes. A listener with a fault does
 * not serve: it resets its connections (at once or after the ClientHello) or accepts and stays
 * silent (the black hole is http_fault.c). A request for an upstream route is forwarded
 * (http_upstream.c) and the real server's answer streamed back. Limits (http_limit.c):
 * connections past the listener's caps are reset at once; a TLS handshake, each request head and
 * each request body must be complete within their deadlines, however slowly bytes come. */
#include "proxy/http/http.h"

#include "common/addr.h"
#include "common/bufpool.h"
#include "proxy/http/internal.h"
#include "proxy/tls/tls.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* A client that sends requests without reading the answers is not read from while more than
 * this waits to be sent, so it cannot make us queue without bound. */
#define MAX_QUEUED (1u << 20)
/* The reset fault waits for the client's first bytes (or this long): an RST sent right at accept
 * reaches a loopback client before its connect() has reported success, and it would look like a
 * refused connection instead of a reset one. */
#define RESET_GRACE_MS 100u

/* What the connection's deadline timer is counting down to, if anything. */
enum deadline {
  DEADLINE_NONE,
  DEADLINE_HANDSHAKE, /* the TLS handshake's end, from the accept */
  DEADLINE_HEAD,      /* the end of a request's header section, from its first byte */
  DEADLINE_BODY,      /* the end of a request's body, from the end of its header section */
};

enum conn_state {
  CONN_OPEN,     /* reading requests */
  CONN_DRAINING, /* answered for the last time: send, FIN, discard input until EOF or linger */
  CONN_CLOSING,  /* handles closing; freed after the last close callback */
};

struct http_conn;

struct http_conn {
  uv_tcp_t tcp;
  uv_timer_t idle;
  uv_timer_t delay; /* holds the answers for the listener's delay_ms */
  uv_timer_t deadline;
  /* loop time of the last read or answer taken: on_idle looks at it (moving the idle timer on
   * every request cost two heap operations each time) */
  uint64_t active_at;
  enum deadline deadline_of;
  bool admitted; /* counted by the listener's gate */
  struct sockaddr_storage peer_addr;
  uv_shutdown_t shutdown;
  int n_open_handles; /* handles still waiting for their close callback */
  enum conn_state state;
  struct http_listener *lst;
  struct http_conn *prev, *next;
  struct tls_conn *tls; /* NULL: plain HTTP */
  struct http_session session;
  struct http_upstream *upstream; /* the request being forwarded, or NULL */
  struct buf plain;               /* decrypted bytes of one read */
  size_t n_writes;                /* uv_write requests in flight */
  bool fin_sent;
  bool read_paused;  /* stopped reading until the peer takes our answers (MAX_QUEUED) */
  bool delaying;     /* answers held in `held` until the delay timer fires; not reading */
  uint32_t delay_ms; /* the lab time they are held for (the answering host's delay) */
  bool held_more;    /* what the session said about further requests when they were held */
  struct buf held;
  double delay_started; /* lab time the delay began */
  char local[HTTP_ADDR_TEXT];
  char peer[HTTP_ADDR_TEXT];
};

struct write_req {
  uv_write_t req;
  struct http_conn *c;
  char *bytes;
};

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
  if (c->admitted) {
    http__gate_release(&lst->gate, (const struct sockaddr *) &c->peer_addr);
  }
  tls_conn_free(c->tls);
  http__session_cleanup(&c->session);
  buf_cleanup(&c->plain);
  buf_cleanup(&c->held);
  free(c);
  http__listener_conn_freed(lst);
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
  http__upstream_cancel(c->upstream);
  c->upstream = NULL;
  uv_close((uv_handle_t *) &c->tcp, on_conn_handle_closed);
  uv_close((uv_handle_t *) &c->idle, on_conn_handle_closed);
  uv_close((uv_handle_t *) &c->delay, on_conn_handle_closed); /* a running delay is cancelled */
  uv_close((uv_handle_t *) &c->deadline, on_conn_handle_closed);
}

static void reset_now(struct http_conn *c, const char *why);

/* touch marks the connection active now; the idle timer, when it fires, runs on from here. */
static void touch(struct http_conn *c) {
  c->active_at = uv_now(c->tcp.loop);
}

static void on_idle(uv_timer_t *t) {
  struct http_conn *c = t->data;
  uint64_t period = uv_timer_get_repeat(t); /* 0: the linger after our FIN, not moved by bytes */
  uint64_t quiet = uv_now(t->loop) - c->active_at;
  if (period > 0 && c->state == CONN_OPEN && !c->delaying && quiet < period) {
    uv_timer_start(t, on_idle, period - quiet, period); /* active since it was set */
    return;
  }
  if (c->state == CONN_OPEN && c->lst->fault == SCN_FAULT_RESET) {
    reset_now(c, "reset");
    return;
  }
  if (c->state == CONN_OPEN && c->tls != NULL) {
    tls_conn_abandon(c->tls, c->lst->fault == SCN_FAULT_SILENT
                                 ? "silent fault: the lab never answered"
                                 : "no data from the peer: idle timeout during the handshake");
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
  if (c->state == CONN_OPEN && !c->delaying) {
    touch(c); /* a peer taking our answers is not idle */
  }
  if (c->upstream != NULL &&
      uv_stream_get_write_queue_size((uv_stream_t *) &c->tcp) <= MAX_QUEUED / 4) {
    http__upstream_resume(c->upstream); /* the client takes the response again */
  }
  if (c->read_paused && !c->delaying && c->state != CONN_CLOSING && c->upstream == NULL &&
      uv_stream_get_write_queue_size((uv_stream_t *) &c->tcp) <= MAX_QUEUED / 4) {
    c->read_paused = false;
    if (uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read) != 0) {
      conn_close(c);
      return;
    }
  }
  send_fin(c);
}

/* write_out sends and empties `b`: straight to the socket when nothing is queued before it (an
 * answer the socket takes whole needs no write request, and libuv's write callback would cost an
 * epoll_ctl per answer), the rest queued behind. */
static void write_out(struct http_conn *c, struct buf *b) {
  if (b->len == 0 || c->state == CONN_CLOSING) {
    buf_reset(b);
    return;
  }
  size_t len = b->len;
  size_t done = 0;
  if (c->n_writes == 0) {
    uv_buf_t whole = uv_buf_init((char *) b->ptr, (unsigned) len);
    int n = uv_try_write((uv_stream_t *) &c->tcp, &whole, 1);
    if (n < 0 && n != UV_EAGAIN) {
      buf_reset(b);
      conn_close(c);
      return;
    }
    done = n > 0 ? (size_t) n : 0;
  }
  if (done == len) {
    buf_reset(b);
    if (c->state == CONN_OPEN && !c->delaying) {
      touch(c); /* as on_written: a peer taking our answers is not idle */
    }
    return; /* nothing in flight: whoever ended the connection has sent the FIN (send_fin) */
  }
  struct write_req *w = xcalloc(1, sizeof *w);
  w->c = c;
  w->bytes = buf_take(b);
  uv_buf_t ub = uv_buf_init(w->bytes + done, (unsigned) (len - done));
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

/* deliver sends `answers` (emptied); `more` false ends the connection after them. */
static void deliver(struct http_conn *c, struct buf *answers, bool more) {
  if (answers->len > 0) {
    if (c->tls != NULL) {
      tls_conn_write(c->tls, buf_slice(answers));
      buf_reset(answers);
    } else {
      write_out(c, answers);
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

/* ---- deadlines: the handshake, each request head and each request body must end in time,
 * however slowly their bytes come (the idle timer restarts on every byte: that alone lets
 * slowloris stay) ---- */

static void on_deadline(uv_timer_t *t);

static void deadline_start(struct http_conn *c, enum deadline d, unsigned ms) {
  if (ms > 0) {
    c->deadline_of = d;
    uv_timer_start(&c->deadline, on_deadline, ms, 0);
  }
}

static void deadline_stop(struct http_conn *c) {
  c->deadline_of = DEADLINE_NONE;
  uv_timer_stop(&c->deadline);
}

/* watch_request runs the head deadline while a request head has begun and its header section
 * has not ended, then the body deadline until the request is complete. Real time, also in
 * `run`: a model's request never dribbles. */
static void watch_request(struct http_conn *c) {
  if (c->state != CONN_OPEN) {
    return;
  }
  const struct http_session *s = &c->session;
  if (c->deadline_of == DEADLINE_HEAD && !s->in_head) {
    deadline_stop(c); /* the head has ended: its body, if any, has its own time from now */
  } else if (c->deadline_of == DEADLINE_BODY && (!s->in_request || s->in_head)) {
    deadline_stop(c);
  }
  if (c->deadline_of == DEADLINE_NONE && s->in_head) {
    deadline_start(c, DEADLINE_HEAD, c->lst->lim.head_ms);
  } else if (c->deadline_of == DEADLINE_NONE && s->in_request && !s->closing) {
    deadline_start(c, DEADLINE_BODY, c->lst->lim.body_ms);
  }
}

static void on_deadline(uv_timer_t *t) {
  struct http_conn *c = t->data;
  enum deadline d = c->deadline_of;
  c->deadline_of = DEADLINE_NONE;
  if (c->state != CONN_OPEN) {
    return;
  }
  char why[96];
  if (d == DEADLINE_HANDSHAKE) {
    buf_fmt(why, sizeof why, "handshake not complete within %u ms", c->lst->lim.handshake_ms);
    tls_conn_abandon(c->tls, why); /* tls.done, "ok":false */
    conn_close(c);
  } else if (d == DEADLINE_HEAD || d == DEADLINE_BODY) {
    if (d == DEADLINE_HEAD) {
      buf_fmt(why, sizeof why, "request head not complete within %u ms", c->lst->lim.head_ms);
    } else {
      buf_fmt(why, sizeof why, "request body not complete within %u ms", c->lst->lim.body_ms);
    }
    http__session_timeout(&c->session, why); /* http.error, then 408 */
    deliver(c, &c->session.out, false);
  }
}

/* on_delay sends the held answers once the listener's delay has passed on the lab clock, then
 * reads on (requests that came meanwhile wait in the kernel). */
static void on_delay(uv_timer_t *t) {
  struct http_conn *c = t->data;
  c->delaying = false;
  labclock_fired(c->lst->clock, c->delay_started, c->delay_ms);
  deliver(c, &c->held, c->held_more);
  if (c->state != CONN_OPEN) {
    return;
  }
  watch_request(c); /* a request that came with the held one runs its deadline again */
  uv_timer_start(&c->idle, on_idle, c->lst->idle_ms, c->lst->idle_ms);
  if (!c->read_paused && uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read) != 0) {
    conn_close(c);
  }
}

/* hold keeps the session's answers for delay_ms of lab time: reading stops, the idle timer too
 * (a delay longer than it must not end the connection). Answers to pipelined requests that
 * arrived in one read wait together. */
static void hold(struct http_conn *c, bool more, uint32_t delay_ms) {
  if (!buf_append(&c->held, buf_slice(&c->session.out))) {
    conn_close(c);
    return;
  }
  buf_reset(&c->session.out);
  c->held_more = more;
  if (c->tls != NULL) {
    flush_tls(c); /* what the handshake still had to say need not wait */
  }
  if (c->delaying) {
    return;
  }
  c->delaying = true;
  c->delay_ms = delay_ms;
  uv_read_stop((uv_stream_t *) &c->tcp);
  uv_timer_stop(&c->idle);
  if (c->deadline_of == DEADLINE_HEAD || c->deadline_of == DEADLINE_BODY) {
    deadline_stop(c); /* the client waits for us: its next request is not late meanwhile */
  }
  c->delay_started = labclock_now_ms(c->lst->clock);
  uv_timer_start(&c->delay, on_delay, labclock_real_ms(c->lst->clock, delay_ms), 0);
}

static void forward(struct http_conn *c);

/* serve runs plaintext through the request session and sends what it answers, after the
 * delay of the host that answered. */
static void serve(struct http_conn *c, struct slice plain) {
  bool more = http__session_feed(&c->session, plain);
  watch_request(c);
  if (c->session.forward != NULL) {
    deliver(c, &c->session.out, true); /* the answers to the requests before it */
    forward(c);
    return;
  }
  const struct scn_listener *l = c->session.l;
  if (c->session.out.len > 0 && l != NULL && l->delay_ms > 0) {
    hold(c, more, l->delay_ms);
    return;
  }
  deliver(c, &c->session.out, more);
}

/* ---- upstream routes: the real server's answer, streamed as it comes ---- */

static void on_upstream_data(void *arg, struct slice bytes) {
  struct http_conn *c = arg;
  struct buf b;
  buf_init(&b, bytes.len);
  if (!buf_append(&b, bytes)) {
    conn_close(c);
    return;
  }
  deliver(c, &b, true);
  buf_cleanup(&b);
  if (c->state == CONN_OPEN &&
      uv_stream_get_write_queue_size((uv_stream_t *) &c->tcp) > MAX_QUEUED) {
    http__upstream_pause(c->upstream); /* until on_written sees the queue drain */
  }
}

static void on_upstream_done(void *arg, const struct http_upstream_end *end) {
  struct http_conn *c = arg;
  c->upstream = NULL; /* it frees itself */
  bool more = http__session_forwarded(&c->session, end);
  serve(c, (struct slice){NULL, 0}); /* sends the 502 or the answers pipelined behind */
  if (c->upstream != NULL || c->state != CONN_OPEN || c->delaying) {
    return; /* forwarding again, closing, or holding answers (on_delay reads on) */
  }
  if (!more) {
    deliver(c, &c->session.out, false);
    return;
  }
  uv_timer_start(&c->idle, on_idle, c->lst->idle_ms, c->lst->idle_ms);
  if (!c->read_paused && uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read) != 0) {
    conn_close(c);
  }
}

/* forward hands the session's pending request to the upstream; reading waits meanwhile (the
 * session keeps what came after it) and the idle timer too (the upstream has its own). */
static void forward(struct http_conn *c) {
  if (c->state != CONN_OPEN) {
    return;
  }
  uv_read_stop((uv_stream_t *) &c->tcp);
  uv_timer_stop(&c->idle);
  struct http_upstream_request req = http__session_forward_request(&c->session);
  req.tls = http__upstream_tls_of(&c->lst->up_tls, req.up);
  struct http_upstream_events ev = {.data = on_upstream_data, .done = on_upstream_done, .arg = c};
  c->upstream = http__upstream_start(c->lst->loop, c->lst->j, &req, &ev);
}

/* conn_host_id names the host a connection belongs to as far as it is known: the listener's
 * only host, or on a shared listener the one the client named by SNI; NULL otherwise. */
static const char *conn_host_id(const struct http_conn *c) {
  const struct scn_host *h = NULL;
  if (c->lst->n_vhosts == 1) {
    h = c->lst->vhosts[0].host;
  } else if (c->session.sni_host != NULL) {
    h = c->session.sni_host->host;
  }
  return h != NULL ? h->id : NULL;
}

static void journal_reset(struct http_conn *c, const char *why) {
  struct jnl_event ev;
  jnl_begin(&ev, c->lst->j, "tcp.reset");
  jnl_str(&ev, "host", conn_host_id(c));
  jnl_str(&ev, "local", c->local);
  jnl_str(&ev, "peer", c->peer);
  jnl_bool(&ev, "tls", c->lst->tls != NULL);
  jnl_str(&ev, "why", why);
  jnl_end(&ev);
}

/* reset_now closes with SO_LINGER {1, 0}: the kernel sends RST instead of FIN. */
static void reset_now(struct http_conn *c, const char *why) {
  uv_os_fd_t fd;
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  if (uv_fileno((uv_handle_t *) &c->tcp, &fd) == 0) {
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  journal_reset(c, why);
  conn_close(c);
}

/* swallow serves the reset-after-hello and silent faults: a TLS ClientHello is read (and
 * journaled as tls.hello) but nothing BoringSSL writes is sent; plain bytes are ignored. */
static void swallow(struct http_conn *c, struct slice bytes) {
  bool hello_read = true;
  if (c->tls != NULL && tls_conn_state(c->tls) == TLS_READ_HELLO) {
    buf_reset(&c->plain);
    tls_conn_feed(c->tls, bytes, &c->plain);
    struct buf discard;
    buf_init(&discard, 64u << 20);
    tls_conn_take_output(c->tls, &discard); /* the ServerHello never leaves */
    buf_cleanup(&discard);
    hello_read = tls_conn_state(c->tls) != TLS_READ_HELLO;
  }
  if (c->lst->fault == SCN_FAULT_RESET_HELLO && hello_read) {
    if (c->tls != NULL) {
      tls_conn_abandon(c->tls, "reset-after-hello fault: the lab reset the connection");
    }
    reset_now(c, c->tls != NULL ? "reset-after-hello" : "reset-after-request-bytes");
  }
}

static void on_bytes(struct http_conn *c, struct slice bytes) {
  if (c->lst->fault == SCN_FAULT_RESET) {
    reset_now(c, "reset");
    return;
  }
  if (c->lst->fault == SCN_FAULT_SILENT || c->lst->fault == SCN_FAULT_RESET_HELLO) {
    swallow(c, bytes);
    return;
  }
  if (c->tls == NULL) {
    serve(c, bytes);
    return;
  }
  buf_reset(&c->plain);
  bool ok = tls_conn_feed(c->tls, bytes, &c->plain);
  if (c->deadline_of == DEADLINE_HANDSHAKE && tls_conn_state(c->tls) == TLS_OPEN) {
    deadline_stop(c);
  }
  if (c->plain.len > 0) {
    serve(c, buf_slice(&c->plain));
  } else {
    flush_tls(c); /* handshake messages */
  }
  if (c->plain.cap > 4096) {
    buf_cleanup(&c->plain); /* a large read's plaintext is not kept for an idle connection */
  }
  if (!ok) {
    flush_tls(c); /* an alert, if BoringSSL wrote one */
    drain(c);
  }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out) {
  struct http_conn *c = h->data;
  (void) suggested;
  *out = uv_buf_init((char *) bufpool_get(&c->lst->pool), HTTP_READ_CHUNK); /* back in on_read */
}

static void read_bytes(struct http_conn *c, ssize_t nread, const uv_buf_t *b) {
  if (c->state == CONN_CLOSING || nread == 0) {
    return;
  }
  if (nread < 0) {
    bool reset = nread != UV_EOF; /* ECONNRESET: the peer sent RST */
    if (c->state == CONN_OPEN && c->lst->fault != SCN_FAULT_NONE) {
      if (c->tls != NULL) {
        tls_conn_eof(c->tls, reset);
      }
    } else if (c->state == CONN_OPEN) {
      bool requests_flowing = c->tls == NULL || tls_conn_state(c->tls) == TLS_OPEN;
      if (c->tls != NULL) {
        tls_conn_eof(c->tls, reset);
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
  touch(c);
  on_bytes(c, (struct slice){(const uint8_t *) b->base, (size_t) nread});
  if (c->state != CONN_CLOSING && !c->read_paused &&
      uv_stream_get_write_queue_size((uv_stream_t *) &c->tcp) > MAX_QUEUED) {
    c->read_paused = true;
    uv_read_stop((uv_stream_t *) &c->tcp);
  }
  if (c->state != CONN_CLOSING) {
    http__session_shrink(&c->session); /* what the last request made large is freed */
  }
}

/* on_read consumes the bytes, then the block they came in goes back to the pool: whatever must
 * outlive this read (a partial request, a partial TLS record) was copied by then. */
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b) {
  struct http_conn *c = stream->data;
  read_bytes(c, nread, b);
  bufpool_put(&c->lst->pool, (uint8_t *) b->base); /* NULL (libuv had none to give) is fine */
}

static void journal_accept(struct http_conn *c) {
  struct jnl_event ev;
  jnl_begin(&ev, c->lst->j, "tcp.accept");
  jnl_str(&ev, "host", conn_host_id(c)); /* null on a shared listener: no name seen yet */
  jnl_str(&ev, "local", c->local);
  jnl_str(&ev, "peer", c->peer);
  jnl_bool(&ev, "tls", c->lst->tls != NULL);
  jnl_end(&ev);
}

/* on_select (a tls_select_cb) presents the certificate of the host the client named; a name
 * none of the hosts has, or none, gets the default host's. On a shared listener the named host
 * also answers every request of the connection, whatever its Host header says. */
static SSL_CTX *on_select(void *arg, const char *sni, const char **out_label) {
  struct http_conn *c = arg;
  const struct http_listener *lst = c->lst;
  long i = sni != NULL ? http_vhost_find(lst->vhosts, lst->n_vhosts, slice_of_str(sni)) : -1;
  const struct http_vhost *v = &lst->vhosts[i >= 0 ? i : 0];
  if (i >= 0 && lst->n_vhosts > 1) {
    c->session.sni_host = v;
  }
  *out_label = v->host != NULL ? v->host->id : NULL;
  return v->tls;
}

void http__conn_accept(uv_stream_t *server, int status) {
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
  if (lst->n_conns > lst->n_conns_peak) {
    lst->n_conns_peak = lst->n_conns;
  }
  http__session_init(&c->session, lst->vhosts[0].host, lst->vhosts[0].l, lst->j);
  if (lst->n_vhosts > 1) {
    http__session_set_vhosts(&c->session, lst->vhosts, lst->n_vhosts);
  }
  buf_init(&c->plain, 4u << 20);
  buf_init(&c->held, 16u << 20);
  uv_tcp_init(lst->loop, &c->tcp);
  uv_timer_init(lst->loop, &c->idle);
  uv_timer_init(lst->loop, &c->delay);
  uv_timer_init(lst->loop, &c->deadline);
  c->tcp.data = c;
  c->idle.data = c;
  c->delay.data = c;
  c->deadline.data = c;
  c->n_open_handles = 4;
  if (uv_accept(server, (uv_stream_t *) &c->tcp) != 0) {
    conn_close(c);
    return;
  }
  int len = sizeof c->peer_addr;
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *) &c->peer_addr, &len) == 0) {
    addr_format((const struct sockaddr *) &c->peer_addr, c->peer, sizeof c->peer);
  }
  /* past a cap: reset at once, before any event of its own (limit.reached counts it) */
  if (!http__gate_admit(&lst->gate, (const struct sockaddr *) &c->peer_addr)) {
    uv_os_fd_t fd;
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    if (uv_fileno((uv_handle_t *) &c->tcp, &fd) == 0) {
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    conn_close(c);
    return;
  }
  c->admitted = true;
  struct sockaddr_storage ss;
  len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  if (uv_tcp_getsockname(&c->tcp, (struct sockaddr *) &ss, &len) == 0) {
    addr_format((const struct sockaddr *) &ss, c->local, sizeof c->local);
  }
  c->session.local = c->local;
  c->session.peer = c->peer;
  c->session.tls = lst->tls != NULL;
  c->session.rec = &lst->rec;
  c->session.memo = lst->memo;
  journal_accept(c);
  if (lst->tls != NULL && lst->fault != SCN_FAULT_RESET) {
    c->tls = tls_conn_new(lst->tls, lst->j, c->local, c->peer);
    if (c->tls == NULL) {
      conn_close(c);
      return;
    }
    tls_conn_set_select(c->tls, on_select, c);
  }
  uv_tcp_nodelay(&c->tcp, 1);
  if (uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read) != 0) {
    conn_close(c);
    return;
  }
  unsigned idle = lst->fault == SCN_FAULT_SILENT  ? lst->silent_ms
                  : lst->fault == SCN_FAULT_RESET ? RESET_GRACE_MS
                                                  : lst->idle_ms;
  uv_timer_start(&c->idle, on_idle, idle, idle);
  if (c->tls != NULL && lst->fault == SCN_FAULT_NONE) {
    deadline_start(c, DEADLINE_HANDSHAKE, lst->lim.handshake_ms); /* faults keep their timing */
  }
}

void http__conns_close(struct http_listener *lst) {
  for (struct http_conn *c = lst->conns; c != NULL; c = c->next) {
    conn_close(c);
  }
}
