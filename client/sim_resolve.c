/* client/sim_resolve.c: the walk's DNS — a c-ares channel run on the libuv loop (a poll handle
 * per socket c-ares opens, a timer for its timeouts) asking the lab's DNS server. Its callbacks
 * only store the answer in the attempt and call sim__advance.
 *
 * c-ares keeps its own (real) time: its timeout is set to the scaled value and a DNS timeout
 * is booked at the nominal one (sim__dns_timed_out). */
#include "client/sim.h"

#include "client/internal.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdlib.h>
#include <string.h>

/* A socket c-ares asked us to watch. */
struct sim_poll {
  uv_poll_t poll;
  ares_socket_t fd;
  struct sim_walk *w;
  bool closing;
  struct sim_poll *next;
};

static void on_ares_timer(uv_timer_t *t);

static void ares_rearm(struct sim_walk *w) {
  if (w->ares == NULL) {
    return;
  }
  struct timeval tv;
  struct timeval *tvp = ares_timeout(w->ares, NULL, &tv);
  if (tvp == NULL) {
    uv_timer_stop(&w->ares_timer);
    return;
  }
  uint64_t ms = (uint64_t) tvp->tv_sec * 1000 + ((uint64_t) tvp->tv_usec + 999) / 1000;
  uv_timer_start(&w->ares_timer, on_ares_timer, ms, 0);
}

static void on_ares_timer(uv_timer_t *t) {
  struct sim_walk *w = t->data;
  if (w->ares != NULL) {
    ares_process_fd(w->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    ares_rearm(w);
  }
}

static void on_poll_closed(uv_handle_t *h) {
  struct sim_poll *p = h->data;
  struct sim_walk *w = p->w;
  for (struct sim_poll **pp = &w->polls; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == p) {
      *pp = p->next;
      break;
    }
  }
  free(p);
  sim__handle_gone(w);
}

static void poll_close(struct sim_poll *p) {
  if (!p->closing) {
    p->closing = true;
    uv_poll_stop(&p->poll);
    uv_close((uv_handle_t *) &p->poll, on_poll_closed);
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  struct sim_poll *p = h->data;
  struct sim_walk *w = p->w;
  if (w->ares == NULL || p->closing) {
    return;
  }
  ares_socket_t rfd = ARES_SOCKET_BAD;
  ares_socket_t wfd = ARES_SOCKET_BAD;
  if (status < 0 || (events & UV_READABLE)) {
    rfd = p->fd; /* an error is read by c-ares, which then gives up on the socket */
  }
  if (status < 0 || (events & UV_WRITABLE)) {
    wfd = p->fd;
  }
  ares_process_fd(w->ares, rfd, wfd);
  ares_rearm(w);
}

static void on_ares_sock(void *data, ares_socket_t fd, int readable, int writable) {
  struct sim_walk *w = data;
  struct sim_poll *p = w->polls;
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
    if (uv_poll_init_socket(w->env.loop, &p->poll, fd) != 0) {
      free(p); /* c-ares times the query out */
      return;
    }
    p->fd = fd;
    p->w = w;
    p->poll.data = p;
    p->next = w->polls;
    w->polls = p;
    w->n_open++;
  }
  uv_poll_start(&p->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_poll);
}

static void on_ares_timer_closed(uv_handle_t *h) {
  sim__handle_gone(h->data);
}

/* set_server points the channel at the DNS server in `ss`; false when c-ares refuses it. */
static bool set_server(struct sim_walk *w, const struct sockaddr_storage *ss, char *err,
                       size_t err_size) {
  struct ares_addr_port_node server;
  memset(&server, 0, sizeof server);
  char text[INET6_ADDRSTRLEN] = "?";
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *) ss;
    server.family = AF_INET;
    server.addr.addr4 = sin->sin_addr;
    server.udp_port = server.tcp_port = ntohs(sin->sin_port);
    inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
  } else {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) ss;
    server.family = AF_INET6;
    memcpy(&server.addr.addr6, &sin6->sin6_addr, sizeof server.addr.addr6);
    server.udp_port = server.tcp_port = ntohs(sin6->sin6_port);
    inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
  }
  int rc = ares_set_servers_ports(w->ares, &server);
  if (rc != ARES_SUCCESS) {
    buf_fmt(err, err_size, "c-ares refused the DNS server %s port %u: %s", text,
            (unsigned) server.udp_port, ares_strerror(rc));
    return false;
  }
  return true;
}

enum sim_status sim__resolve_init(struct sim_walk *w, char *err, size_t err_size) {
  int rc = ares_library_init(ARES_LIB_INIT_ALL);
  if (rc != ARES_SUCCESS) {
    buf_fmt(err, err_size, "c-ares could not start: %s", ares_strerror(rc));
    return SIM_ENOMEM;
  }
  w->ares_lib = true;
  struct ares_options o;
  memset(&o, 0, sizeof o);
  /* NOCHECKRESP hands SERVFAIL and REFUSED answers to the callback as ARES_ESERVFAIL and
   * ARES_EREFUSED; without it c-ares 1.18 drops them and reports "could not contact". */
  o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP;
  uint64_t real_ms = sim__real_timeout_ms(w, w->pol.dns_timeout_ms);
  o.timeout = real_ms > 3600000 ? 3600000 : (int) real_ms; /* scaled: c-ares keeps real time */
  o.tries = 1;
  o.ndots = 0;
  o.domains = NULL;
  o.ndomains = 0;
  o.sock_state_cb = on_ares_sock;
  o.sock_state_cb_data = w;
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS |
             ARES_OPT_DOMAINS | ARES_OPT_SOCK_STATE_CB;
  rc = ares_init_options(&w->ares, &o, mask);
  if (rc != ARES_SUCCESS) {
    w->ares = NULL;
    buf_fmt(err, err_size, "c-ares could not make its channel: %s", ares_strerror(rc));
    return SIM_ENOMEM;
  }
  /* no server given: the system's (resolv.conf), for probes of real domains */
  int family = w->env.dns.ss_family;
  if ((family == AF_INET || family == AF_INET6) && !set_server(w, &w->env.dns, err, err_size)) {
    return SIM_EINVAL;
  }
  uv_timer_init(w->env.loop, &w->ares_timer);
  w->ares_timer.data = w;
  w->n_open++;
  return SIM_OK;
}

void sim__resolve_close(struct sim_walk *w) {
  if (w->ares != NULL) {
    ares_channel ch = w->ares;
    ares_destroy(ch); /* its sockets report closed through on_ares_sock */
    w->ares = NULL;
  }
  for (struct sim_poll *p = w->polls; p != NULL; p = p->next) {
    poll_close(p);
  }
  uv_timer_stop(&w->ares_timer);
  uv_close((uv_handle_t *) &w->ares_timer, on_ares_timer_closed);
}

void sim__resolve_cleanup(struct sim_walk *w) {
  if (w->ares != NULL) {
    ares_destroy(w->ares);
    w->ares = NULL;
  }
  if (w->ares_lib) {
    ares_library_cleanup();
    w->ares_lib = false;
  }
}

const char *sim__dns_error_name(int status) {
  switch (status) {
    case ARES_ENOTFOUND: return "NXDOMAIN";
    case ARES_ENODATA: return "NODATA";
    case ARES_ESERVFAIL: return "SERVFAIL";
    case ARES_ETIMEOUT: return "timeout";
    case ARES_EREFUSED: return "REFUSED";
    default: return ares_strerror(status);
  }
}

void sim__dns_timed_out(struct sim_walk *w, int status) {
  if (status == ARES_ETIMEOUT) {
    labclock_fired(w->env.clock, w->att.timer_started, w->pol.dns_timeout_ms);
    sim__cur(w)->timed_out = true;
  }
}

/* addresses_done decides once A and AAAA have both answered: an IPv4 address when there is one
 * (the lab's hosts are IPv4 loopback addresses), else an IPv6 one, else the A answer's error. */
static void addresses_done(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  if (a->a_status == ARES_ECONNREFUSED || a->aaaa_status == ARES_ECONNREFUSED) {
    /* no DNS server there (an ICMP unreachable): the other question, sent on the same socket,
     * may never hear of it and would wait for its timeout */
    a->a_done = a->aaaa_done = true;
    a->a_status = a->aaaa_status = ARES_ECONNREFUSED;
  }
  if (!a->a_done || !a->aaaa_done) {
    return;
  }
  a->dns_done = true;
  a->dns_status = a->a_status;
  a->use_aaaa = a->a_status != ARES_SUCCESS && a->aaaa_status == ARES_SUCCESS;
  if (a->use_aaaa) {
    a->dns_status = ARES_SUCCESS;
  } else if (a->a_status == ARES_ENODATA && a->aaaa_status != ARES_ENODATA &&
             a->aaaa_status != ARES_ENOTFOUND) {
    a->dns_status = a->aaaa_status; /* a SERVFAIL or a timeout says more than A's NODATA */
  }
  sim__advance(w);
}

static void on_a_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
  struct sim_walk *w = arg;
  struct sim_attempt *a = &w->att;
  if (w->state != SIM_WALK_RUNNING || a->state != SIM_ATT_AWAIT_A || a->a_done) {
    return; /* ARES_EDESTRUCTION, or a step that already ended */
  }
  struct ares_addrttl addrs[8];
  int n = 8;
  if (status == ARES_SUCCESS) {
    status = ares_parse_a_reply(abuf, alen, NULL, addrs, &n);
    if (status == ARES_SUCCESS && n <= 0) {
      status = ARES_ENODATA;
    }
  }
  a->a_done = true;
  a->a_status = status;
  if (status == ARES_SUCCESS) {
    a->a_addr = addrs[0].ipaddr;
  }
  addresses_done(w);
}

static void on_aaaa_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
  struct sim_walk *w = arg;
  struct sim_attempt *a = &w->att;
  if (w->state != SIM_WALK_RUNNING || a->state != SIM_ATT_AWAIT_A || a->aaaa_done) {
    return;
  }
  struct ares_addr6ttl addrs[8];
  int n = 8;
  if (status == ARES_SUCCESS) {
    status = ares_parse_aaaa_reply(abuf, alen, NULL, addrs, &n);
    if (status == ARES_SUCCESS && n <= 0) {
      status = ARES_ENODATA;
    }
  }
  a->aaaa_done = true;
  a->aaaa_status = status;
  if (status == ARES_SUCCESS) {
    memcpy(&a->aaaa_addr, &addrs[0].ip6addr, sizeof a->aaaa_addr);
  }
  addresses_done(w);
}

void sim__resolve_a(struct sim_walk *w, const char *host) {
  struct sim_attempt *a = &w->att;
  a->a_done = a->aaaa_done = a->use_aaaa = false;
  a->a_status = a->aaaa_status = ARES_SUCCESS;
  ares_query(w->ares, host, ns_c_in, ns_t_a, on_a_answer, w);
  ares_query(w->ares, host, ns_c_in, ns_t_aaaa, on_aaaa_answer, w);
  ares_rearm(w);
}

static void on_srv_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
  struct sim_walk *w = arg;
  struct sim_attempt *a = &w->att;
  if (w->state != SIM_WALK_RUNNING || a->state != SIM_ATT_AWAIT_SRV) {
    return;
  }
  struct ares_srv_reply *reply = NULL;
  if (status == ARES_SUCCESS) {
    status = ares_parse_srv_reply(abuf, alen, &reply);
    if (status == ARES_SUCCESS && reply == NULL) {
      status = ARES_ENODATA;
    }
  }
  a->dns_done = true;
  a->dns_status = status;
  if (status == ARES_SUCCESS) {
    size_t n = 0;
    for (struct ares_srv_reply *r = reply; r != NULL; r = r->next) {
      n++;
    }
    a->srv = xcalloc(n, sizeof *a->srv);
    for (struct ares_srv_reply *r = reply; r != NULL; r = r->next) {
      a->srv[a->n_srv++] =
          (struct sim_srv){str_lower(str_dup(r->host)), r->priority, r->weight, r->port};
    }
    ares_free_data(reply);
  }
  sim__advance(w);
}

void sim__resolve_query(struct sim_walk *w, const char *name, int type, ares_callback cb) {
  ares_query(w->ares, name, ns_c_in, type, cb, w);
  ares_rearm(w);
}

void sim__resolve_srv(struct sim_walk *w, const char *name) {
  ares_query(w->ares, name, ns_c_in, ns_t_srv, on_srv_answer, w);
  ares_rearm(w);
}
