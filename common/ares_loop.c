/* common/ares_loop.c: c-ares on the libuv loop (see ares_loop.h). c-ares says which sockets to
 * watch through its socket callback; each gets a uv_poll_t, and readiness or the timer hands the
 * socket back to ares_process_fd. */
#include "common/ares_loop.h"

#include "common/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A socket c-ares asked us to watch. */
struct ares_poll {
  uv_poll_t poll;
  ares_socket_t fd;
  struct ares_loop *l;
  bool closing;
  struct ares_poll *next;
};

struct ares_loop {
  uv_loop_t *loop;
  ares_channel ch; /* NULL once closing */
  uv_timer_t timer;
  struct ares_poll *polls;
  int n_open; /* handles waiting for their close callback */
  void (*on_closed)(void *arg);
  void *closed_arg;
};

static void on_timer(uv_timer_t *t);

void ares_loop_rearm(struct ares_loop *l) {
  if (l->ch == NULL) {
    return;
  }
  struct timeval tv;
  struct timeval *tvp = ares_timeout(l->ch, NULL, &tv);
  if (tvp == NULL) {
    uv_timer_stop(&l->timer);
    return;
  }
  uint64_t ms = (uint64_t) tvp->tv_sec * 1000 + ((uint64_t) tvp->tv_usec + 999) / 1000;
  uv_timer_start(&l->timer, on_timer, ms, 0);
}

static void on_timer(uv_timer_t *t) {
  struct ares_loop *l = t->data;
  if (l->ch != NULL) {
    ares_process_fd(l->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    ares_loop_rearm(l);
  }
}

static void handle_gone(struct ares_loop *l) {
  if (--l->n_open > 0) {
    return;
  }
  void (*on_closed)(void *) = l->on_closed;
  void *arg = l->closed_arg;
  free(l);
  ares_library_cleanup();
  if (on_closed != NULL) {
    on_closed(arg);
  }
}

static void on_poll_closed(uv_handle_t *h) {
  struct ares_poll *p = h->data;
  struct ares_loop *l = p->l;
  for (struct ares_poll **pp = &l->polls; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == p) {
      *pp = p->next;
      break;
    }
  }
  free(p);
  handle_gone(l);
}

static void poll_close(struct ares_poll *p) {
  if (!p->closing) {
    p->closing = true;
    uv_poll_stop(&p->poll);
    uv_close((uv_handle_t *) &p->poll, on_poll_closed);
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  struct ares_poll *p = h->data;
  struct ares_loop *l = p->l;
  if (l->ch == NULL || p->closing) {
    return;
  }
  /* an error is read by c-ares, which then gives up on the socket */
  ares_socket_t rfd = status < 0 || (events & UV_READABLE) ? p->fd : ARES_SOCKET_BAD;
  ares_socket_t wfd = status < 0 || (events & UV_WRITABLE) ? p->fd : ARES_SOCKET_BAD;
  ares_process_fd(l->ch, rfd, wfd);
  ares_loop_rearm(l);
}

static void on_sock(void *data, ares_socket_t fd, int readable, int writable) {
  struct ares_loop *l = data;
  struct ares_poll *p = l->polls;
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
    if (uv_poll_init_socket(l->loop, &p->poll, fd) != 0) {
      free(p); /* c-ares times the question out */
      return;
    }
    p->fd = fd;
    p->l = l;
    p->poll.data = p;
    p->next = l->polls;
    l->polls = p;
    l->n_open++;
  }
  uv_poll_start(&p->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_poll);
}

int ares_loop_new(struct ares_loop **out, uv_loop_t *loop, struct ares_options *opts, int optmask,
                  const char *servers) {
  *out = NULL;
  int rc = ares_library_init(ARES_LIB_INIT_ALL);
  if (rc != ARES_SUCCESS) {
    return rc;
  }
  struct ares_loop *l = xcalloc(1, sizeof *l);
  l->loop = loop;
  opts->sock_state_cb = on_sock;
  opts->sock_state_cb_data = l;
  rc = ares_init_options(&l->ch, opts, optmask | ARES_OPT_SOCK_STATE_CB);
  if (rc == ARES_SUCCESS && servers != NULL) {
    rc = ares_set_servers_ports_csv(l->ch, servers);
  }
  if (rc != ARES_SUCCESS) {
    if (l->ch != NULL) {
      ares_destroy(l->ch); /* no question was asked: no socket, no handle */
    }
    free(l);
    ares_library_cleanup();
    return rc;
  }
  uv_timer_init(loop, &l->timer);
  l->timer.data = l;
  l->n_open = 1;
  *out = l;
  return ARES_SUCCESS;
}

ares_channel ares_loop_channel(const struct ares_loop *l) {
  return l->ch;
}

static void on_timer_closed(uv_handle_t *h) {
  handle_gone(h->data);
}

void ares_loop_close(struct ares_loop *l, void (*on_closed)(void *arg), void *arg) {
  l->on_closed = on_closed;
  l->closed_arg = arg;
  ares_channel ch = l->ch;
  l->ch = NULL;
  ares_destroy(ch); /* its sockets report closed through on_sock */
  for (struct ares_poll *p = l->polls; p != NULL; p = p->next) {
    poll_close(p);
  }
  uv_timer_stop(&l->timer);
  uv_close((uv_handle_t *) &l->timer, on_timer_closed);
}
