/* proxy/http/http_resolve.c: finding the address of an upstream route's server — c-ares on the
 * libuv loop, asking the resolver the route names (upstream_dns, or dns.overlay's upstream) or the
 * system's (/etc/resolv.conf, /etc/hosts), never the lab's own DNS, which answers the intercepted
 * names with the lab's addresses. */
#include "proxy/http/http.h"

#include "proxy/http/internal.h"

#include <ares.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

struct poll_entry {
  uv_poll_t poll;
  ares_socket_t fd;
  struct http_resolve *r;
  struct poll_entry *next;
  bool closing;
};

struct http_resolve {
  uv_loop_t *loop;
  ares_channel ares;
  bool lib_init;
  uv_timer_t timer; /* c-ares's timeouts, then the callback's turn on the loop */
  struct poll_entry *polls;
  int n_open_handles;
  bool finished; /* an answer is kept, or the lookup was cancelled: c-ares has no more say */
  bool closed;   /* shut down: the struct goes with its last handle */
  http_resolve_cb cb;
  void *arg;
  struct sockaddr_storage addr;
  bool found;
  char error[128];
};

static void maybe_free(struct http_resolve *r) {
  if (r->closed && r->n_open_handles == 0 && r->ares == NULL) {
    if (r->lib_init) {
      ares_library_cleanup();
    }
    free(r);
  }
}

static void on_timer_closed(uv_handle_t *h) {
  struct http_resolve *r = h->data;
  r->n_open_handles--;
  maybe_free(r);
}

static void on_poll_closed(uv_handle_t *h) {
  struct poll_entry *p = h->data;
  struct http_resolve *r = p->r;
  for (struct poll_entry **pp = &r->polls; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == p) {
      *pp = p->next;
      break;
    }
  }
  free(p);
  r->n_open_handles--;
  maybe_free(r);
}

static void poll_close(struct poll_entry *p) {
  if (!p->closing) {
    p->closing = true;
    uv_poll_stop(&p->poll);
    uv_close((uv_handle_t *) &p->poll, on_poll_closed);
  }
}

static void rearm(struct http_resolve *r);

static void on_timer(uv_timer_t *t) {
  struct http_resolve *r = t->data;
  if (r->ares != NULL) {
    ares_process_fd(r->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearm(r);
  }
}

static void rearm(struct http_resolve *r) {
  if (r->ares == NULL || r->finished) {
    return;
  }
  struct timeval tv;
  struct timeval *tvp = ares_timeout(r->ares, NULL, &tv);
  if (tvp == NULL) {
    uv_timer_stop(&r->timer);
    return;
  }
  uint64_t ms = (uint64_t) tvp->tv_sec * 1000 + ((uint64_t) tvp->tv_usec + 999) / 1000;
  uv_timer_start(&r->timer, on_timer, ms, 0);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  struct poll_entry *p = h->data;
  struct http_resolve *r = p->r;
  if (r->ares == NULL || p->closing || r->finished) {
    return;
  }
  ares_socket_t rfd = status < 0 || (events & UV_READABLE) ? p->fd : ARES_SOCKET_BAD;
  ares_socket_t wfd = status < 0 || (events & UV_WRITABLE) ? p->fd : ARES_SOCKET_BAD;
  ares_process_fd(r->ares, rfd, wfd);
  rearm(r);
}

static void on_sock(void *data, ares_socket_t fd, int readable, int writable) {
  struct http_resolve *r = data;
  struct poll_entry *p = r->polls;
  while (p != NULL && (p->fd != fd || p->closing)) {
    p = p->next;
  }
  if (!readable && !writable) {
    if (p != NULL) {
      poll_close(p);
    }
    return;
  }
  if (p == NULL) {
    p = xcalloc(1, sizeof *p);
    if (uv_poll_init_socket(r->loop, &p->poll, fd) != 0) {
      free(p); /* c-ares times the query out */
      return;
    }
    p->fd = fd;
    p->r = r;
    p->poll.data = p;
    p->next = r->polls;
    r->polls = p;
    r->n_open_handles++;
  }
  uv_poll_start(&p->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_poll);
}

/* shutdown_resolver destroys the channel (its sockets report closed through on_sock) and closes
 * the handles; the struct goes with the last of them. */
static void shutdown_resolver(struct http_resolve *r) {
  r->finished = true;
  r->closed = true;
  if (r->ares != NULL) {
    ares_channel ch = r->ares;
    r->ares = NULL;
    ares_destroy(ch); /* a lookup still under way ends with ARES_EDESTRUCTION: ignored */
  }
  for (struct poll_entry *p = r->polls; p != NULL; p = p->next) {
    poll_close(p);
  }
  if (!uv_is_closing((uv_handle_t *) &r->timer)) {
    uv_close((uv_handle_t *) &r->timer, on_timer_closed);
  }
}

static const char *error_text(int status) {
  switch (status) {
    case ARES_ENOTFOUND: return "no such name (NXDOMAIN)";
    case ARES_ENODATA: return "no address for the name (NODATA)";
    case ARES_ESERVFAIL: return "the resolver failed (SERVFAIL)";
    case ARES_EREFUSED: return "the resolver refused (REFUSED)";
    case ARES_ETIMEOUT: return "no answer from the resolver (timeout)";
    case ARES_ECONNREFUSED: return "the resolver is not there (connection refused)";
    default: return ares_strerror(status);
  }
}

/* on_deliver hands the result over on the loop, never from inside c-ares, and shuts down. */
static void on_deliver(uv_timer_t *t) {
  struct http_resolve *r = t->data;
  http_resolve_cb cb = r->cb;
  void *arg = r->arg;
  struct sockaddr_storage addr = r->addr;
  bool found = r->found;
  char error[sizeof r->error];
  memcpy(error, r->error, sizeof error);
  shutdown_resolver(r); /* r is not touched again: the callback may do anything */
  cb(arg, found ? &addr : NULL, found ? NULL : error);
}

/* keep stores the outcome and gives the callback its turn. */
static void keep(struct http_resolve *r, const struct sockaddr_storage *addr, const char *error) {
  r->finished = true;
  if (addr != NULL) {
    r->addr = *addr;
    r->found = true;
  } else {
    buf_fmt(r->error, sizeof r->error, "%s", error);
  }
  uv_timer_start(&r->timer, on_deliver, 0, 0);
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res) {
  struct http_resolve *r = arg;
  if (r->finished) {
    ares_freeaddrinfo(res); /* cancelled, or c-ares's own end (ARES_EDESTRUCTION) */
    return;
  }
  if (status != ARES_SUCCESS || res == NULL || res->nodes == NULL) {
    ares_freeaddrinfo(res);
    keep(r, NULL, error_text(status == ARES_SUCCESS ? ARES_ENODATA : status));
    return;
  }
  /* IPv4 first when both are there (the lab binds IPv4 loopback addresses), else c-ares's
   * first (RFC 6724 order) */
  const struct ares_addrinfo_node *pick = res->nodes;
  for (const struct ares_addrinfo_node *n = res->nodes; n != NULL; n = n->ai_next) {
    if (n->ai_family == AF_INET) {
      pick = n;
      break;
    }
  }
  struct sockaddr_storage addr;
  memset(&addr, 0, sizeof addr);
  memcpy(&addr, pick->ai_addr,
         pick->ai_addrlen < sizeof addr ? (size_t) pick->ai_addrlen : sizeof addr);
  ares_freeaddrinfo(res);
  keep(r, &addr, NULL);
}

struct http_resolve *http__resolve_start(uv_loop_t *loop, const char *host, uint16_t port,
                                         const char *server, uint32_t timeout_ms,
                                         http_resolve_cb cb, void *arg) {
  struct http_resolve *r = xcalloc(1, sizeof *r);
  r->loop = loop;
  r->cb = cb;
  r->arg = arg;
  uv_timer_init(loop, &r->timer);
  r->timer.data = r;
  r->n_open_handles = 1;
  r->lib_init = ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS;
  struct ares_options o;
  memset(&o, 0, sizeof o);
  /* NOCHECKRESP: SERVFAIL and REFUSED come to the callback as such (c-ares 1.18) */
  o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP;
  o.timeout = (int) (timeout_ms / 2 > 0 ? timeout_ms / 2 : 1);
  o.tries = 2;
  o.sock_state_cb = on_sock;
  o.sock_state_cb_data = r;
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
  if (!r->lib_init || ares_init_options(&r->ares, &o, mask) != ARES_SUCCESS) {
    r->ares = NULL;
    keep(r, NULL, "cannot start the resolver");
    return r;
  }
  /* "ADDR:PORT" and "[ADDR]:PORT", as the scenario loader writes them */
  if (server != NULL && ares_set_servers_ports_csv(r->ares, server) != ARES_SUCCESS) {
    keep(r, NULL, "the resolver's address is not ADDR:PORT");
    return r;
  }
  struct ares_addrinfo_hints hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  char service[8];
  buf_fmt(service, sizeof service, "%u", (unsigned) port);
  ares_getaddrinfo(r->ares, host, service, &hints, on_addrinfo, r);
  rearm(r);
  return r;
}

void http__resolve_cancel(struct http_resolve *r) {
  if (r != NULL && !r->closed) {
    shutdown_resolver(r);
  }
}
