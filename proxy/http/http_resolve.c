/* proxy/http/http_resolve.c: finding the address of an upstream route's server — c-ares on the
 * libuv loop, asking the resolver the route names (upstream_dns, or dns.overlay's upstream) or the
 * system's (/etc/resolv.conf, /etc/hosts), never the lab's own DNS, which answers the intercepted
 * names with the lab's addresses. The c-ares glue is common/ares_loop. */
#include "proxy/http/http.h"

#include "common/ares_loop.h"
#include "proxy/http/internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

struct http_resolve {
  struct ares_loop *resolver; /* NULL when it could not start, or once closed */
  uv_timer_t timer;           /* the callback's turn on the loop */
  int n_open;                 /* the timer and the resolver, until each is closed */
  bool finished; /* an answer is kept, or the lookup was cancelled: c-ares has no more say */
  bool closed;   /* shut down: the struct goes with its last handle */
  http_resolve_cb cb;
  void *arg;
  struct sockaddr_storage addr;
  bool found;
  char error[128];
};

static void part_closed(struct http_resolve *r) {
  if (--r->n_open == 0) {
    free(r);
  }
}

static void on_timer_closed(uv_handle_t *h) {
  part_closed(h->data);
}

static void on_resolver_closed(void *arg) {
  part_closed(arg);
}

/* shutdown_resolver destroys the channel and closes the handles; the struct goes with the last
 * of them. */
static void shutdown_resolver(struct http_resolve *r) {
  r->finished = true;
  r->closed = true;
  if (r->resolver != NULL) {
    struct ares_loop *l = r->resolver;
    r->resolver = NULL;
    ares_loop_close(l, on_resolver_closed, r); /* a lookup under way ends: ignored */
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
  r->cb = cb;
  r->arg = arg;
  uv_timer_init(loop, &r->timer);
  r->timer.data = r;
  r->n_open = 1;
  struct ares_options o;
  memset(&o, 0, sizeof o);
  /* NOCHECKRESP: SERVFAIL and REFUSED come to the callback as such (c-ares 1.18) */
  o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP;
  o.timeout = (int) (timeout_ms / 2 > 0 ? timeout_ms / 2 : 1);
  o.tries = 2;
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  /* `server` is "ADDR:PORT" or "[ADDR]:PORT", as the scenario loader writes it */
  int rc = ares_loop_new(&r->resolver, loop, &o, mask, server);
  if (rc != ARES_SUCCESS) {
    keep(r, NULL,
         server != NULL && rc != ARES_ENOMEM ? "the resolver's address is not ADDR:PORT"
                                             : "cannot start the resolver");
    return r;
  }
  r->n_open++;
  struct ares_addrinfo_hints hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  char service[8];
  buf_fmt(service, sizeof service, "%u", (unsigned) port);
  ares_getaddrinfo(ares_loop_channel(r->resolver), host, service, &hints, on_addrinfo, r);
  ares_loop_rearm(r->resolver);
  return r;
}

void http__resolve_cancel(struct http_resolve *r) {
  if (r != NULL && !r->closed) {
    shutdown_resolver(r);
  }
}
