/* proxy/dns/dns_server.c: the lab DNS on a libuv loop — one UDP socket and one TCP listener on
 * the same address and port; TCP carries 2-byte length-prefixed messages (RFC 1035 4.2.2), several
 * per connection (RFC 7766 6.2.1), closed after an idle time or a message too slow to arrive.
 * With dns.overlay, a query the scenario does not define waits for the upstream resolver
 * (dns_upstream.c) and is answered when it has spoken (dns_overlay.c), over the transport the
 * client used.
 *
 * The UDP path is the hot one (issue 12): datagrams come in batches and their answers leave
 * together (dns_udp.c), and answers of a stateless zoneset come from a cache (dns_cache.c). */
#include "proxy/dns/dns.h"

#include "common/addr.h"
#include "common/buf.h"
#include "common/connlimit.h"
#include "proxy/dns/internal.h"

#include <errno.h>
#include <libknot/libknot.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
  TCP_MAX_QUEUED = 1 << 20, /* a client that does not read its answers is dropped */
  BIND_TRIES = 8,
  UDP_RCVBUF = 4 << 20, /* see grow_rcvbuf */
  CACHE_SLOTS = 1024,
};

struct dns_tcp_conn;
struct dns_pending;

/* The text of a datagram's source address, kept for the next datagram from it: a resolver asks
 * from the same few ports again and again, and formatting the address was 8 % of a query. */
#define PEER_TEXTS 8

struct peer_text {
  struct sockaddr_storage addr;
  size_t len; /* bytes of addr compared; 0: empty */
  char text[64];
};

struct dns_server {
  uv_loop_t *loop;
  struct dns_udp *udp;
  uv_tcp_t tcp;
  struct dns_zoneset *zs; /* its rule counts change as queries are answered */
  struct jnl *j;
  struct sockaddr_storage addr;
  int n_open_handles; /* the two sockets, plus one per open connection */
  bool closing;
  struct dns_tcp_conn *conns; /* doubly linked */
  size_t n_conns;
  struct connlimit limit;  /* TCP connections: in all, and per client address (RFC 7766 6.2.2) */
  unsigned tcp_timeout_ms; /* a TCP connection's idle time, or a message's, at most (0: none) */
  uv_timer_t report;       /* journals the connections refused, at most once a second */
  struct dns_upstream *upstream;      /* dns.overlay's resolver, or NULL */
  struct dns_pending *pending;        /* queries waiting for it; doubly linked */
  struct dns_cache *cache;            /* NULL when the zoneset is not stateless */
  struct peer_text peers[PEER_TEXTS]; /* by source port */
};

struct dns_tcp_conn {
  struct dns_server *server;
  struct dns_tcp_conn *prev, *next;
  uv_tcp_t tcp;
  uv_timer_t deadline; /* idle, or a message begun: see conn_read */
  int n_open_handles;
  bool closing;
  bool admitted; /* counted in the server's limit */
  struct sockaddr_storage peer_addr;
  char peer[64];
  size_t in_len;
  uint8_t in[2 + 65535]; /* one whole message with its length always fits */
};

/* A query waiting for the overlay's upstream resolver. */
struct dns_pending {
  struct dns_server *server;
  struct dns_pending *prev, *next;
  struct dns_tcp_conn *conn;      /* TCP: the client's connection, NULL once it has closed */
  struct sockaddr_storage client; /* UDP: where the answer goes */
  char client_text[80];
  struct dns_overlay_job *job;
};

struct tcp_write {
  uv_write_t req;
  size_t len;
  uint8_t data[];
};

static void server_free(struct dns_server *s) {
  connlimit_cleanup(&s->limit);
  dns__cache_free(s->cache);
  free(s);
}

/* part_closed counts one of the server's handles (or its UDP socket, dns__udp_close's callback)
 * closed; the last frees it. */
static void part_closed(void *arg) {
  struct dns_server *s = arg;
  if (--s->n_open_handles == 0) {
    server_free(s);
  }
}

static void server_handle_closed(uv_handle_t *h) {
  part_closed(h->data);
}

/* rcode_name gives RFC 6895 2.3's mnemonic ("NOTIMP", where libknot says "NOTIMPL"). */
static const char *rcode_name(uint16_t rcode) {
  if (rcode == KNOT_RCODE_NOTIMPL) {
    return "NOTIMP";
  }
  if (rcode == KNOT_RCODE_BADVERS) {
    return "BADVERS"; /* shares 16 with TSIG's BADSIG */
  }
  const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
  return l != NULL ? l->name : "UNKNOWN";
}

/* type_name spells a QTYPE as knot_rrtype_to_string does ("A", "TYPE65534"); the common ones
 * without its lookup and copy. */
static const char *type_name(uint16_t qtype, char *out, size_t out_size) {
  switch (qtype) {
    case KNOT_RRTYPE_A: return "A";
    case KNOT_RRTYPE_AAAA: return "AAAA";
    case KNOT_RRTYPE_SRV: return "SRV";
    case KNOT_RRTYPE_CNAME: return "CNAME";
    case KNOT_RRTYPE_MX: return "MX";
    case KNOT_RRTYPE_TXT: return "TXT";
    case KNOT_RRTYPE_NS: return "NS";
    case KNOT_RRTYPE_SOA: return "SOA";
    case KNOT_RRTYPE_PTR: return "PTR";
    default: break;
  }
  if (knot_rrtype_to_string(qtype, out, out_size) < 0) {
    buf_fmt(out, out_size, "TYPE%u", (unsigned) qtype);
  }
  return out;
}

/* journal_answer writes the fields of dns.query that come from the answer. */
static void journal_answer(struct jnl_event *ev, const struct dns_info *info) {
  if (info->qname[0] != '\0') {
    char type[32];
    jnl_str(ev, "qname", info->qname);
    jnl_str(ev, "qtype", type_name(info->qtype, type, sizeof type));
  } else {
    jnl_null(ev, "qname");
    jnl_null(ev, "qtype");
  }
  if (info->dropped) {
    jnl_null(ev, "rcode");
  } else {
    jnl_str(ev, "rcode", rcode_name(info->rcode));
  }
  jnl_uint(ev, "answers", info->n_answer);
  jnl_bool(ev, "tc", info->truncated);
  if (info->dropped) {
    jnl_bool(ev, "dropped", true);
  }
  if (info->why != NULL) {
    jnl_str(ev, "why", info->why);
  }
  if (info->rule != NULL) {
    jnl_str(ev, "rule", info->rule);
  } else {
    jnl_null(ev, "rule");
  }
  if (info->wildcard) {
    jnl_bool(ev, "wildcard", true);
  }
  if (info->raw) {
    jnl_bool(ev, "raw", true); /* the answer section is the scenario's bytes */
  }
  if (info->overlay != NULL) {
    jnl_str(ev, "overlay", info->overlay);
  }
}

/* journal_query writes dns.query. `note`, for an answer from the cache, keeps the answer's
 * fields as text: written once, copied for each later query that gets the same answer (they
 * were two thirds of the journal's cost of a query). */
static void journal_query(struct dns_server *s, const char *transport, const char *client,
                          const struct dns_info *info, struct buf *note) {
  struct jnl_event ev;
  jnl_begin(&ev, s->j, "dns.query");
  jnl_str(&ev, "transport", transport);
  jnl_str(&ev, "client", client);
  if (note != NULL && note->len > 0) {
    jnl_fields(&ev, buf_slice(note));
  } else {
    size_t mark = jnl_mark(&ev);
    journal_answer(&ev, info);
    if (note != NULL) {
      buf_append(note, jnl_since(&ev, mark)); /* nothing when the journal is off or full */
    }
  }
  jnl_end(&ev);
}

/* --- UDP --- */

static void ask_upstream(struct dns_server *s, struct dns_overlay_job *job,
                         struct dns_tcp_conn *conn, const struct sockaddr *from,
                         const char *client);

static const char *peer_text(struct dns_server *s, const struct sockaddr *from) {
  size_t len = addr_len(from);
  uint16_t port = ((const struct sockaddr_in *) from)->sin_port; /* where both families keep it */
  struct peer_text *p = &s->peers[(port ^ port >> 8) % PEER_TEXTS];
  if (p->len != len || memcmp(&p->addr, from, len) != 0) {
    addr_format(from, p->text, sizeof p->text);
    memcpy(&p->addr, from, len);
    p->len = len;
  }
  return p->text;
}

/* on_udp_query answers one datagram (dns_udp_query_cb). */
static void on_udp_query(void *arg, const uint8_t *query, size_t query_len,
                         const struct sockaddr *from) {
  struct dns_server *s = arg;
  const char *client = peer_text(s, from);
  struct dns_info info;
  struct dns_overlay_job *job = NULL;
  struct buf *note = NULL;
  uint8_t *out = dns__udp_out(s->udp);
  size_t len = 0;
  if (s->cache != NULL) {
    len = dns__cache_answer(s->cache, s->zs, query, query_len, out, DNS_UDP_OUT_MAX, false, &info,
                            &note);
  } else {
    len = dns__overlay_query(s->zs, query, query_len, out, DNS_UDP_OUT_MAX, false, &info, &job);
  }
  if (job != NULL) {
    ask_upstream(s, job, NULL, from, client);
    return;
  }
  journal_query(s, "udp", client, &info, note);
  dns__udp_answered(s->udp, len, from);
}

/* --- TCP --- */

static void conn_handle_closed(uv_handle_t *h) {
  struct dns_tcp_conn *c = h->data;
  if (--c->n_open_handles > 0) {
    return;
  }
  struct dns_server *s = c->server;
  if (c->prev != NULL) {
    c->prev->next = c->next;
  } else {
    s->conns = c->next;
  }
  if (c->next != NULL) {
    c->next->prev = c->prev;
  }
  s->n_conns--;
  if (c->admitted) {
    connlimit_release(&s->limit, (const struct sockaddr *) &c->peer_addr);
  }
  free(c);
  if (--s->n_open_handles == 0) {
    server_free(s);
  }
}

static void conn_close(struct dns_tcp_conn *c) {
  if (c->closing) {
    return;
  }
  c->closing = true;
  for (struct dns_pending *p = c->server->pending; p != NULL; p = p->next) {
    if (p->conn == c) {
      p->conn = NULL; /* its answer will find nobody to go to */
    }
  }
  uv_close((uv_handle_t *) &c->tcp, conn_handle_closed);
  uv_close((uv_handle_t *) &c->deadline, conn_handle_closed);
}

static void on_conn_deadline(uv_timer_t *t) {
  conn_close(t->data);
}

/* conn_deadline_start gives the connection its timeout from now: to its next message's first byte
 * (idle), or to the end of the message begun (RFC 7766 6.2.3 asks servers to close idle
 * connections; a message dribbled a byte at a time must end too). */
static void conn_deadline_start(struct dns_tcp_conn *c) {
  unsigned ms = c->server->tcp_timeout_ms;
  if (ms > 0) {
    uv_timer_start(&c->deadline, on_conn_deadline, ms, 0);
  }
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct dns_tcp_conn *c = h->data;
  *buf = uv_buf_init((char *) c->in + c->in_len, (unsigned) (sizeof c->in - c->in_len));
}

static void conn_written(uv_write_t *req, int status) {
  free(req->data);
}

/* conn_send frames one response (RFC 1035 4.2.2: a two-byte length first); false when the
 * connection should close. */
static bool conn_send(struct dns_tcp_conn *c, const uint8_t *msg, size_t len) {
  if (c->tcp.write_queue_size > TCP_MAX_QUEUED) {
    return false;
  }
  struct tcp_write *w = malloc(sizeof *w + 2 + len);
  if (w == NULL) {
    return false;
  }
  w->len = 2 + len;
  knot_wire_write_u16(w->data, (uint16_t) len);
  memcpy(w->data + 2, msg, len);
  w->req.data = w;
  uv_buf_t b = uv_buf_init((char *) w->data, (unsigned) w->len);
  if (uv_write(&w->req, (uv_stream_t *) &c->tcp, &b, 1, conn_written) != 0) {
    free(w);
    return false;
  }
  return true;
}

/* conn_advance answers every whole message received so far; false when the connection should
 * close. */
static bool conn_advance(struct dns_tcp_conn *c) {
  struct dns_server *s = c->server;
  size_t at = 0;
  bool ok = true;
  uint8_t *out = NULL;
  while (ok && c->in_len - at >= 2) {
    size_t msg_len = knot_wire_read_u16(c->in + at);
    if (c->in_len - at - 2 < msg_len) {
      break; /* the rest has not arrived yet */
    }
    if (out == NULL) {
      out = malloc(KNOT_WIRE_MAX_PKTSIZE);
      if (out == NULL) {
        return false;
      }
    }
    struct dns_info info;
    struct dns_overlay_job *job = NULL;
    struct buf *note = NULL;
    size_t len = 0;
    if (s->cache != NULL) {
      len = dns__cache_answer(s->cache, s->zs, c->in + at + 2, msg_len, out, KNOT_WIRE_MAX_PKTSIZE,
                              true, &info, &note);
    } else {
      len = dns__overlay_query(s->zs, c->in + at + 2, msg_len, out, KNOT_WIRE_MAX_PKTSIZE, true,
                               &info, &job);
    }
    at += 2 + msg_len;
    if (job != NULL) {
      ask_upstream(s, job, c, NULL, c->peer); /* may answer at once: then `c` may close */
      ok = !c->closing;
      continue;
    }
    journal_query(s, "tcp", c->peer, &info, note);
    if (len > 0) {
      ok = conn_send(c, out, len);
    }
  }
  free(out);
  memmove(c->in, c->in + at, c->in_len - at);
  c->in_len -= at;
  return ok;
}

static void conn_read(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf) {
  struct dns_tcp_conn *c = h->data;
  if (nread < 0) {
    conn_close(c); /* EOF or an error: either way this connection is over */
    return;
  }
  if (nread == 0 || c->closing) {
    return;
  }
  /* the deadline moves when a message begins or one has been answered, never for bytes that
   * only add to a message begun */
  bool begun = c->in_len == 0;
  c->in_len += (size_t) nread;
  size_t had = c->in_len;
  if (!conn_advance(c)) {
    conn_close(c);
    return;
  }
  if (begun || c->in_len < had) {
    conn_deadline_start(c);
  }
}

/* report_refused journals the TCP connections refused since the last report (limit.reached):
 * one event a second at most, whatever the flood. */
static void report_refused(struct dns_server *s) {
  struct connlimit *l = &s->limit;
  if (connlimit_refused(l) == 0) {
    return;
  }
  char local[80];
  addr_format((const struct sockaddr *) &s->addr, local, sizeof local);
  struct jnl_event ev;
  jnl_begin(&ev, s->j, "limit.reached");
  jnl_str(&ev, "service", "dns");
  jnl_str(&ev, "local", local);
  jnl_uint(&ev, "refused", connlimit_refused(l));
  jnl_uint(&ev, "full", l->refused_full);
  jnl_uint(&ev, "per_client", l->refused_client);
  jnl_uint(&ev, "max_conns", l->max_conns);
  jnl_uint(&ev, "max_per_client", l->max_per_client);
  jnl_uint(&ev, "open", l->n_open);
  jnl_arr_begin(&ev, "clients");
  for (size_t i = 0; i < l->n_clients; i++) {
    jnl_str(&ev, NULL, l->clients[i]);
  }
  jnl_arr_end(&ev);
  jnl_end(&ev);
  connlimit_report_taken(l, uv_now(s->loop));
}

static void on_report(uv_timer_t *t) {
  report_refused(t->data);
}

/* refused notes a connection turned away: reported now, or when a second has passed since the
 * last report. */
static void refused(struct dns_server *s) {
  uint64_t wait = 0;
  if (!connlimit_report_wait(&s->limit, uv_now(s->loop), &wait)) {
    return;
  }
  if (wait == 0) {
    report_refused(s);
  } else if (!uv_is_active((uv_handle_t *) &s->report)) {
    uv_timer_start(&s->report, on_report, wait, 0);
  }
}

static void on_connection(uv_stream_t *listener, int status) {
  struct dns_server *s = listener->data;
  if (status != 0 || s->closing) {
    return;
  }
  struct dns_tcp_conn *c = calloc(1, sizeof *c);
  if (c == NULL) {
    return;
  }
  c->server = s;
  uv_tcp_init(s->loop, &c->tcp);
  uv_timer_init(s->loop, &c->deadline);
  c->tcp.data = c;
  c->deadline.data = c;
  c->n_open_handles = 2;
  c->next = s->conns;
  if (s->conns != NULL) {
    s->conns->prev = c;
  }
  s->conns = c;
  s->n_conns++;
  s->n_open_handles++;
  if (uv_accept(listener, (uv_stream_t *) &c->tcp) != 0) {
    conn_close(c);
    return;
  }
  int peer_len = sizeof c->peer_addr;
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *) &c->peer_addr, &peer_len) == 0) {
    addr_format((struct sockaddr *) &c->peer_addr, c->peer, sizeof c->peer);
  } else {
    buf_fmt(c->peer, sizeof c->peer, "?");
  }
  /* a full server, or a client holding its share, gets the connection closed at once: one
   * client cannot lock the others out (RFC 7766 6.2.2) */
  if (connlimit_admit(&s->limit, (const struct sockaddr *) &c->peer_addr) != CONNLIMIT_ADMIT) {
    conn_close(c);
    refused(s);
    return;
  }
  c->admitted = true;
  conn_deadline_start(c);
  if (uv_read_start((uv_stream_t *) &c->tcp, conn_alloc, conn_read) != 0) {
    conn_close(c);
  }
}

/* --- the overlay's upstream --- */

static void pending_free(struct dns_pending *p) {
  struct dns_server *s = p->server;
  if (p->prev != NULL) {
    p->prev->next = p->next;
  } else {
    s->pending = p->next;
  }
  if (p->next != NULL) {
    p->next->prev = p->prev;
  }
  dns__overlay_job_free(p->job);
  free(p);
}

/* on_upstream answers the client of `p` from what the upstream said (SERVFAIL when it failed). */
static void on_upstream(void *arg, const struct dns_upstream_result *r) {
  struct dns_pending *p = arg;
  struct dns_server *s = p->server;
  uint8_t *out = malloc(KNOT_WIRE_MAX_PKTSIZE);
  struct dns_info info;
  size_t len = 0;
  if (out != NULL) {
    len = dns__overlay_finish(s->zs, p->job, r->answer, r->answer_len, out, KNOT_WIRE_MAX_PKTSIZE,
                              &info);
    if (r->error != NULL) {
      info.why = r->error;
    }
    journal_query(s, p->job->over_tcp ? "tcp" : "udp", p->client_text, &info, NULL);
  }
  if (len > 0 && !p->job->over_tcp) {
    dns__udp_send(s->udp, (const struct sockaddr *) &p->client, out, len);
  } else if (len > 0 && p->conn != NULL && !conn_send(p->conn, out, len)) {
    conn_close(p->conn);
  }
  free(out);
  pending_free(p);
}

/* ask_upstream hands `job` (taken) to the upstream resolver; the answer goes to `conn` (TCP) or
 * to `from` (UDP). */
static void ask_upstream(struct dns_server *s, struct dns_overlay_job *job,
                         struct dns_tcp_conn *conn, const struct sockaddr *from,
                         const char *client) {
  struct dns_pending *p = xcalloc(1, sizeof *p);
  p->server = s;
  p->job = job;
  p->conn = conn;
  if (from != NULL) {
    memcpy(&p->client, from, addr_len(from));
  }
  buf_fmt(p->client_text, sizeof p->client_text, "%s", client);
  p->next = s->pending;
  if (s->pending != NULL) {
    s->pending->prev = p;
  }
  s->pending = p;
  dns__upstream_ask(s->upstream, job->ask, job->ask_len, job->over_tcp, on_upstream, p);
}

/* --- start and close --- */

/* grow_rcvbuf gives the UDP socket room for UDP_RCVBUF bytes of queries. The default (about
 * 208 KiB, a few hundred datagrams by the kernel's accounting) fills in a few milliseconds when a
 * resolver or a load tool keeps hundreds of queries in flight while the loop is busy with a burst
 * of TLS handshakes or a slow journal write; the kernel then drops queries (UdpRcvbufErrors) and
 * their clients wait for a timeout. SO_RCVBUFFORCE goes past net.core.rmem_max when serve runs as
 * root (the sockets are bound before it gives root up); otherwise SO_RCVBUF is capped at rmem_max.
 * Neither failing is an error: the socket keeps the default. */
static void grow_rcvbuf(int fd) {
  int size = UDP_RCVBUF;
#ifdef SO_RCVBUFFORCE
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) == 0) {
    return;
  }
#endif
  (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

/* bind_pair binds a UDP and a TCP socket on the same address and port; with port 0 it lets the
 * UDP bind choose and tries a few times, as the TCP port may be taken. */
static int bind_pair(const struct sockaddr *addr, int *out_udp, int *out_tcp,
                     struct sockaddr_storage *bound, const char **what) {
  int err = 0;
  for (int attempt = 0; attempt < BIND_TRIES; attempt++) {
    int u = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int t = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    socklen_t len = sizeof *bound;
    *what = "socket";
    if (u < 0 || t < 0) {
      err = errno;
      goto next;
    }
    if (addr->sa_family == AF_INET6) {
      setsockopt(u, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
      setsockopt(t, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    grow_rcvbuf(u);
    *what = "UDP bind";
    if (bind(u, addr, addr_len(addr)) != 0 || getsockname(u, (struct sockaddr *) bound, &len)) {
      err = errno;
      goto next;
    }
    *what = "TCP bind";
    if (bind(t, (struct sockaddr *) bound, addr_len(addr)) != 0 || listen(t, 128) != 0) {
      err = errno;
      goto next;
    }
    *out_udp = u;
    *out_tcp = t;
    return 0;
  next:
    if (u >= 0) {
      close(u);
    }
    if (t >= 0) {
      close(t);
    }
    uint16_t port = addr->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *) addr)->sin6_port
                                                : ((const struct sockaddr_in *) addr)->sin_port;
    if (port != 0 || err != EADDRINUSE) {
      break; /* only an ephemeral port is worth another try */
    }
  }
  return err;
}

const char *dns_strerror(enum dns_status st) {
  switch (st) {
    case DNS_OK: return "no error";
    case DNS_EZONE: return "the scenario's names or records do not make zones";
    case DNS_EADDRESS: return "not an IPv4 or IPv6 address";
    case DNS_ELISTEN: return "cannot listen on the address";
    case DNS_ESELF: return "the overlay's upstream is the lab's own DNS";
  }
  return "unknown DNS error";
}

/* is_self: `upstream` is the address the server is about to listen on (the same port, and the
 * same address or the server's a wildcard one). */
static bool is_self(const struct sockaddr *listen, const struct sockaddr_storage *upstream) {
  if (listen->sa_family != upstream->ss_family) {
    return false;
  }
  if (listen->sa_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *) listen;
    const struct sockaddr_in *b = (const struct sockaddr_in *) upstream;
    return a->sin_port != 0 && a->sin_port == b->sin_port &&
           (a->sin_addr.s_addr == b->sin_addr.s_addr || a->sin_addr.s_addr == htonl(INADDR_ANY));
  }
  const struct sockaddr_in6 *a = (const struct sockaddr_in6 *) listen;
  const struct sockaddr_in6 *b = (const struct sockaddr_in6 *) upstream;
  return a->sin6_port != 0 && a->sin6_port == b->sin6_port &&
         (memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0 ||
          IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr));
}

enum dns_status dns_server_start(struct dns_server **out, uv_loop_t *loop,
                                 const struct sockaddr *addr, struct dns_zoneset *zs, struct jnl *j,
                                 char *err, size_t err_size) {
  *out = NULL;
  if (addr == NULL || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6)) {
    buf_fmt(err, err_size, "dns: an IPv4 or IPv6 address is needed");
    return DNS_EADDRESS;
  }
  if (zs->overlay != NULL && is_self(addr, &zs->overlay->upstream)) {
    buf_fmt(err, err_size,
            "dns: dns.overlay's upstream %s is where the lab's own DNS listens: the queries it "
            "forwards would come back to it",
            zs->overlay->upstream_text);
    return DNS_ESELF;
  }
  int ufd = -1;
  int tfd = -1;
  struct sockaddr_storage bound;
  const char *what = "";
  int e = bind_pair(addr, &ufd, &tfd, &bound, &what);
  if (e != 0) {
    char text[80];
    addr_format(addr, text, sizeof text);
    buf_fmt(err, err_size, "dns: %s %s: %s", what, text, strerror(e));
    return DNS_ELISTEN;
  }
  struct dns_server *s = xcalloc(1, sizeof *s);
  s->cache = dns__cache_new(zs, CACHE_SLOTS);
  s->loop = loop;
  s->zs = zs;
  s->j = j;
  s->addr = bound;
  uv_tcp_init(loop, &s->tcp);
  uv_timer_init(loop, &s->report);
  s->tcp.data = s;
  s->report.data = s;
  s->n_open_handles = 3;
  connlimit_init(&s->limit, DNS_TCP_MAX_CONNS, DNS_TCP_MAX_PER_CLIENT);
  s->tcp_timeout_ms = DNS_TCP_TIMEOUT_MS;
  if (zs->overlay != NULL) {
    s->upstream = dns__upstream_new(loop, &zs->overlay->upstream, zs->overlay->upstream_text,
                                    zs->overlay->timeout_ms, j);
  }
  int ret = dns__udp_start(&s->udp, loop, ufd, on_udp_query, s);
  if (s->udp != NULL) {
    ufd = -1; /* dns_udp owns it now */
  }
  if (ret == 0) {
    ret = uv_tcp_open(&s->tcp, tfd);
  }
  if (ret == 0) {
    tfd = -1;
    ret = uv_listen((uv_stream_t *) &s->tcp, 128, on_connection);
  }
  if (ret != 0) {
    buf_fmt(err, err_size, "dns: cannot serve: %s", uv_strerror(ret));
    if (ufd >= 0) {
      close(ufd);
    }
    if (tfd >= 0) {
      close(tfd);
    }
    dns_server_close(s);
    return DNS_ELISTEN;
  }
  *out = s;
  return DNS_OK;
}

void dns_server_addr(const struct dns_server *s, struct sockaddr_storage *out) {
  *out = s->addr;
}

void dns_server_close(struct dns_server *s) {
  if (s == NULL || s->closing) {
    return;
  }
  s->closing = true;
  report_refused(s); /* the journal is complete when the lab stops */
  for (struct dns_tcp_conn *c = s->conns; c != NULL; c = c->next) {
    conn_close(c);
  }
  dns__upstream_close(s->upstream); /* the waiting queries' callbacks never run: */
  while (s->pending != NULL) {
    pending_free(s->pending);
  }
  if (s->udp != NULL) {
    dns__udp_close(s->udp, part_closed);
  } else {
    part_closed(s); /* it never started */
  }
  uv_close((uv_handle_t *) &s->tcp, server_handle_closed);
  uv_close((uv_handle_t *) &s->report, server_handle_closed);
}

void dns_server_set_limits(struct dns_server *s, unsigned tcp_max_conns,
                           unsigned tcp_max_per_client, unsigned tcp_timeout_ms) {
  connlimit_set(&s->limit, tcp_max_conns, tcp_max_per_client);
  s->tcp_timeout_ms = tcp_timeout_ms;
}
