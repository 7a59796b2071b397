/* proxy/dns/dns_upstream.c: the overlay's upstream resolver on the libuv loop — each forwarded
 * query is one exchange on a fresh socket (a random source port and a random ID, RFC 5452 §9),
 * over UDP or TCP (2-byte length prefix, RFC 1035 4.2.2), with one timeout for the whole
 * exchange. The answer must be a response to the very question asked; anything else is ignored
 * (UDP) or fails the exchange (TCP). Each exchange is an `upstream.dns` journal event. */
#include "proxy/dns/dns.h"

#include "common/buf.h"
#include "proxy/dns/internal.h"

#include <stdlib.h>
#include <string.h>

enum {
  MAX_OPEN = 1024, /* exchanges under way at once; beyond this a query fails at once */
};

struct exchange;

struct dns_upstream {
  uv_loop_t *loop;
  struct sockaddr_storage addr;
  char addr_text[64];
  uint32_t timeout_ms;
  struct jnl *j;
  struct exchange *open; /* doubly linked */
  size_t n_open;
  bool closing;
};

struct exchange {
  struct dns_upstream *u;
  struct exchange *prev, *next;
  uv_udp_t udp;
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_connect_t connect;
  uv_write_t write;
  int n_open_handles;
  bool sock_open; /* udp or tcp (by over_tcp) was initialized */
  bool over_tcp;
  bool finished; /* the callback ran (or never will): only closing is left */
  uint64_t started_ms;
  dns_upstream_cb cb;
  void *arg;
  knot_dname_storage_t qname;
  uint16_t qtype;
  uint16_t qclass;
  uint16_t id;
  uint8_t *query; /* TCP: with its length prefix */
  size_t query_len;
  size_t in_len;
  uint8_t in[2 + 65535];
};

/* What the journal says about an answer. */
struct msg_view {
  uint16_t rcode;
  uint16_t n_answer;
  bool tc;
};

static void journal(struct exchange *x, const struct msg_view *v, const char *error);

struct dns_upstream *dns__upstream_new(uv_loop_t *loop, const struct sockaddr_storage *addr,
                                       const char *addr_text, uint32_t timeout_ms, struct jnl *j) {
  struct dns_upstream *u = xcalloc(1, sizeof *u);
  u->loop = loop;
  u->addr = *addr;
  buf_fmt(u->addr_text, sizeof u->addr_text, "%s", addr_text);
  u->timeout_ms = timeout_ms;
  u->j = j;
  return u;
}

size_t dns__upstream_n_open(const struct dns_upstream *u) {
  return u->n_open;
}

static void exchange_free(struct exchange *x) {
  struct dns_upstream *u = x->u;
  if (x->prev != NULL) {
    x->prev->next = x->next;
  } else {
    u->open = x->next;
  }
  if (x->next != NULL) {
    x->next->prev = x->prev;
  }
  u->n_open--;
  free(x->query);
  free(x);
  if (u->closing && u->n_open == 0) {
    free(u);
  }
}

static void on_closed(uv_handle_t *h) {
  struct exchange *x = h->data;
  if (--x->n_open_handles == 0) {
    exchange_free(x);
  }
}

static void exchange_close(struct exchange *x) {
  x->finished = true;
  uv_handle_t *handles[] = {(uv_handle_t *) &x->timer, !x->sock_open ? NULL
                                                       : x->over_tcp ? (uv_handle_t *) &x->tcp
                                                                     : (uv_handle_t *) &x->udp};
  for (size_t i = 0; i < 2; i++) {
    if (handles[i] != NULL && !uv_is_closing(handles[i])) {
      uv_close(handles[i], on_closed);
    }
  }
}

/* finish runs the callback once (with the answer, or NULL and why) and closes the sockets. */
static void finish(struct exchange *x, const uint8_t *answer, size_t len, const char *error) {
  if (x->finished) {
    return;
  }
  struct msg_view v = {0};
  if (answer != NULL) {
    v = (struct msg_view){.rcode = knot_wire_get_rcode(answer),
                          .n_answer = knot_wire_get_ancount(answer),
                          .tc = knot_wire_get_tc(answer) != 0};
  }
  journal(x, answer != NULL ? &v : NULL, error);
  x->finished = true;
  struct dns_upstream_result r = {.answer = answer, .answer_len = len, .error = error};
  x->cb(x->arg, &r);
  exchange_close(x);
}

/* ---- the journal ---- */

static const char *rcode_name(uint16_t rcode) {
  if (rcode == KNOT_RCODE_NOTIMPL) {
    return "NOTIMP"; /* RFC 6895 2.3's mnemonic, as dns.query says it */
  }
  const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
  return l != NULL ? l->name : "UNKNOWN";
}

static void journal(struct exchange *x, const struct msg_view *v, const char *error) {
  char name[KNOT_DNAME_TXT_MAXLEN + 1];
  char type[32];
  if (knot_dname_to_str(name, x->qname, sizeof name) == NULL) {
    name[0] = '\0';
  }
  size_t n = strlen(name);
  if (n > 1 && name[n - 1] == '.') {
    name[n - 1] = '\0';
  }
  if (knot_rrtype_to_string(x->qtype, type, sizeof type) < 0) {
    buf_fmt(type, sizeof type, "TYPE%u", (unsigned) x->qtype);
  }
  struct jnl_event ev;
  jnl_begin(&ev, x->u->j, "upstream.dns");
  jnl_str(&ev, "qname", str_lower(name));
  jnl_str(&ev, "qtype", type);
  jnl_str(&ev, "upstream", x->u->addr_text);
  jnl_str(&ev, "transport", x->over_tcp ? "tcp" : "udp");
  if (v != NULL) {
    jnl_str(&ev, "rcode", rcode_name(v->rcode));
    jnl_uint(&ev, "answers", v->n_answer);
    jnl_bool(&ev, "tc", v->tc);
  } else {
    jnl_null(&ev, "rcode");
    jnl_uint(&ev, "answers", 0);
  }
  jnl_uint(&ev, "ms", uv_now(x->u->loop) - x->started_ms);
  jnl_str(&ev, "error", error);
  jnl_end(&ev);
}

/* ---- answers ---- */

/* answers_question: `wire` is a response with our ID to our question (RFC 5452 §9.1). */
static bool answers_question(const struct exchange *x, const uint8_t *wire, size_t len,
                             const char **why) {
  *why = "malformed answer";
  if (len < KNOT_WIRE_HEADER_SIZE || !knot_wire_get_qr(wire)) {
    return false;
  }
  *why = "answer with another ID";
  if (knot_wire_get_id(wire) != x->id) {
    return false;
  }
  uint8_t *copy = malloc(len);
  if (copy == NULL) {
    *why = "out of memory";
    return false;
  }
  memcpy(copy, wire, len);
  knot_pkt_t *p = knot_pkt_new(copy, (uint16_t) len, NULL);
  bool ok = false;
  *why = "malformed answer";
  if (p != NULL && knot_pkt_parse(p, 0) == KNOT_EOK && p->qname_size > 0) {
    *why = "answer to another question";
    ok = knot_pkt_qtype(p) == x->qtype && knot_pkt_qclass(p) == x->qclass &&
         knot_dname_is_case_equal(knot_pkt_qname(p), x->qname);
  }
  knot_pkt_free(p);
  free(copy);
  return ok;
}

static void on_timeout(uv_timer_t *t) {
  struct exchange *x = t->data;
  char why[64];
  buf_fmt(why, sizeof why, "no answer within %u ms", (unsigned) x->u->timeout_ms);
  finish(x, NULL, 0, why);
}

/* ---- UDP ---- */

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct exchange *x = h->data;
  *buf = uv_buf_init((char *) x->in, sizeof x->in);
}

static void udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
                     unsigned flags) {
  struct exchange *x = h->data;
  if (x->finished || nread == 0) {
    return;
  }
  if (nread < 0) {
    /* a connected UDP socket hears the ICMP port unreachable of a resolver that is not there */
    finish(x, NULL, 0, uv_strerror((int) nread));
    return;
  }
  const char *why = NULL;
  if ((flags & UV_UDP_PARTIAL) != 0 ||
      !answers_question(x, (const uint8_t *) buf->base, (size_t) nread, &why)) {
    return; /* not the answer (RFC 5452 §9.1): keep waiting for it until the timeout */
  }
  finish(x, (const uint8_t *) buf->base, (size_t) nread, NULL);
}

static void udp_sent(uv_udp_send_t *req, int status) {
  struct exchange *x = req->data;
  free(req);
  if (status != 0 && status != UV_ECANCELED) {
    finish(x, NULL, 0, uv_strerror(status));
  }
}

static int start_udp(struct exchange *x) {
  int rc = uv_udp_init(x->u->loop, &x->udp);
  if (rc != 0) {
    return rc;
  }
  x->udp.data = x;
  x->n_open_handles++;
  x->sock_open = true;
  rc = uv_udp_connect(&x->udp, (const struct sockaddr *) &x->u->addr);
  if (rc == 0) {
    rc = uv_udp_recv_start(&x->udp, udp_alloc, udp_recv);
  }
  if (rc != 0) {
    return rc;
  }
  uv_udp_send_t *req = xcalloc(1, sizeof *req);
  req->data = x;
  uv_buf_t b = uv_buf_init((char *) x->query, (unsigned) x->query_len);
  rc = uv_udp_send(req, &x->udp, &b, 1, NULL, udp_sent);
  if (rc != 0) {
    free(req);
  }
  return rc;
}

/* ---- TCP ---- */

static void tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct exchange *x = h->data;
  *buf = uv_buf_init((char *) x->in + x->in_len, (unsigned) (sizeof x->in - x->in_len));
}

static void tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  struct exchange *x = s->data;
  if (x->finished || nread == 0) {
    return;
  }
  if (nread < 0) {
    finish(x, NULL, 0,
           nread == UV_EOF ? "the upstream closed the connection without an answer"
                           : uv_strerror((int) nread));
    return;
  }
  x->in_len += (size_t) nread;
  if (x->in_len < 2) {
    return;
  }
  size_t len = knot_wire_read_u16(x->in);
  if (x->in_len < 2 + len) {
    return; /* the rest is on its way */
  }
  const char *why = NULL;
  if (!answers_question(x, x->in + 2, len, &why)) {
    finish(x, NULL, 0, why); /* over TCP nobody else speaks: the answer is wrong */
    return;
  }
  finish(x, x->in + 2, len, NULL);
}

static void tcp_written(uv_write_t *req, int status) {
  struct exchange *x = req->data;
  if (status != 0 && status != UV_ECANCELED) {
    finish(x, NULL, 0, uv_strerror(status));
  }
}

static void tcp_connected(uv_connect_t *req, int status) {
  struct exchange *x = req->data;
  if (x->finished || status == UV_ECANCELED) {
    return;
  }
  if (status != 0) {
    finish(x, NULL, 0, uv_strerror(status));
    return;
  }
  x->write.data = x;
  uv_buf_t b = uv_buf_init((char *) x->query, (unsigned) x->query_len);
  int rc = uv_write(&x->write, (uv_stream_t *) &x->tcp, &b, 1, tcp_written);
  if (rc == 0) {
    rc = uv_read_start((uv_stream_t *) &x->tcp, tcp_alloc, tcp_read);
  }
  if (rc != 0) {
    finish(x, NULL, 0, uv_strerror(rc));
  }
}

static int start_tcp(struct exchange *x) {
  int rc = uv_tcp_init(x->u->loop, &x->tcp);
  if (rc != 0) {
    return rc;
  }
  x->tcp.data = x;
  x->n_open_handles++;
  x->sock_open = true;
  x->connect.data = x;
  return uv_tcp_connect(&x->connect, &x->tcp, (const struct sockaddr *) &x->u->addr, tcp_connected);
}

/* ---- asking ---- */

/* read_question keeps what the answer must repeat; false when `query` has no question. */
static bool read_question(struct exchange *x, const uint8_t *query, size_t len) {
  uint8_t *copy = malloc(len);
  if (copy == NULL) {
    return false;
  }
  memcpy(copy, query, len);
  knot_pkt_t *q = knot_pkt_new(copy, (uint16_t) len, NULL);
  bool ok = q != NULL && knot_pkt_parse_question(q) == KNOT_EOK && q->qname_size > 0 &&
            knot_dname_store(x->qname, knot_pkt_qname(q)) > 0;
  if (ok) {
    x->qtype = knot_pkt_qtype(q);
    x->qclass = knot_pkt_qclass(q);
  }
  knot_pkt_free(q);
  free(copy);
  return ok;
}

void dns__upstream_ask(struct dns_upstream *u, const uint8_t *query, size_t query_len,
                       bool over_tcp, dns_upstream_cb cb, void *arg) {
  struct exchange *x = xcalloc(1, sizeof *x);
  x->u = u;
  x->cb = cb;
  x->arg = arg;
  x->over_tcp = over_tcp;
  x->started_ms = uv_now(u->loop);
  x->next = u->open;
  if (u->open != NULL) {
    u->open->prev = x;
  }
  u->open = x;
  u->n_open++;
  uv_timer_init(u->loop, &x->timer);
  x->timer.data = x;
  x->n_open_handles = 1;
  if (query_len < KNOT_WIRE_HEADER_SIZE || query_len > KNOT_WIRE_MAX_PKTSIZE ||
      !read_question(x, query, query_len)) {
    finish(x, NULL, 0, "the query has no question");
    return;
  }
  if (u->closing || u->n_open > MAX_OPEN) {
    finish(x, NULL, 0, "too many queries waiting for the upstream");
    return;
  }
  size_t prefix = over_tcp ? 2 : 0;
  x->query_len = prefix + query_len;
  x->query = xcalloc(1, x->query_len);
  memcpy(x->query + prefix, query, query_len);
  if (prefix > 0) {
    knot_wire_write_u16(x->query, (uint16_t) query_len);
  }
  uint8_t id[2] = {0, 0};
  if (uv_random(NULL, NULL, id, sizeof id, 0, NULL) != 0) {
    finish(x, NULL, 0, "no random ID");
    return;
  }
  x->id = (uint16_t) (id[0] << 8 | id[1]);
  knot_wire_set_id(x->query + prefix, x->id);
  uv_timer_start(&x->timer, on_timeout, u->timeout_ms, 0);
  int rc = over_tcp ? start_tcp(x) : start_udp(x);
  if (rc != 0) {
    finish(x, NULL, 0, uv_strerror(rc));
  }
}

void dns__upstream_close(struct dns_upstream *u) {
  if (u == NULL || u->closing) {
    return;
  }
  u->closing = true;
  if (u->n_open == 0) {
    free(u);
    return;
  }
  for (struct exchange *x = u->open; x != NULL; x = x->next) {
    if (!x->finished) {
      exchange_close(x); /* its callback never runs */
    }
  }
}
