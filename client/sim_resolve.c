/* client/sim_resolve.c: the walk's DNS — a c-ares channel run on the libuv loop (a poll handle
 * per socket c-ares opens, a timer for its timeouts) asking the lab's DNS server. Its callbacks
 * only store the answer in the attempt and call sim__advance. The glue is common/ares_loop.
 *
 * c-ares keeps its own (real) time: its timeout is set to the scaled value and a DNS timeout
 * is booked at the nominal one (sim__dns_timed_out). */
#include "client/sim.h"

#include "client/internal.h"
#include "common/addr.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdlib.h>
#include <string.h>

/* on_resolver_closed: the channel's handles are closed. */
static void on_resolver_closed(void *arg) {
  sim__handle_gone(arg);
}

enum sim_status sim__resolve_init(struct sim_walk *w, char *err, size_t err_size) {
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
  int mask =
      ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS | ARES_OPT_DOMAINS;
  /* no server given: the system's (resolv.conf), for probes of real domains */
  char server[64] = "";
  int family = w->env.dns.ss_family;
  if (family == AF_INET || family == AF_INET6) {
    addr_format((const struct sockaddr *) &w->env.dns, server, sizeof server);
  }
  int rc = ares_loop_new(&w->resolver, w->env.loop, &o, mask, server[0] != '\0' ? server : NULL);
  if (rc != ARES_SUCCESS) {
    buf_fmt(err, err_size, "c-ares could not make its channel%s%s: %s",
            server[0] != '\0' ? " for the DNS server " : "", server, ares_strerror(rc));
    return rc == ARES_ENOMEM ? SIM_ENOMEM : SIM_EINVAL;
  }
  w->n_open++;
  return SIM_OK;
}

void sim__resolve_close(struct sim_walk *w) {
  if (w->resolver != NULL) {
    struct ares_loop *l = w->resolver;
    w->resolver = NULL;
    ares_loop_close(l, on_resolver_closed, w); /* open questions end with ARES_EDESTRUCTION */
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
  ares_query(ares_loop_channel(w->resolver), host, ns_c_in, ns_t_a, on_a_answer, w);
  ares_query(ares_loop_channel(w->resolver), host, ns_c_in, ns_t_aaaa, on_aaaa_answer, w);
  ares_loop_rearm(w->resolver);
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
  ares_query(ares_loop_channel(w->resolver), name, ns_c_in, type, cb, w);
  ares_loop_rearm(w->resolver);
}

void sim__resolve_srv(struct sim_walk *w, const char *name) {
  ares_query(ares_loop_channel(w->resolver), name, ns_c_in, ns_t_srv, on_srv_answer, w);
  ares_loop_rearm(w->resolver);
}
