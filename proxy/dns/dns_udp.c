/* proxy/dns/dns_udp.c: the lab DNS's UDP socket — datagrams read in batches with recvmmsg(2),
 * their answers sent together with sendmmsg(2) when the batch has been answered, the same calls
 * per wake-up knotd makes. The socket is watched with a uv_poll_t rather than read through a
 * uv_udp_t: libuv 1.44 sets up all sixteen message headers of a recvmmsg before every call and
 * hands each datagram to a callback of its own, about 700 instructions a query (callgrind, issue
 * 12), and it has no batched send (uv_udp_try_send2 came in 1.50). What the socket does not take
 * at once waits in a bounded queue until it is writable; UDP may drop, so past the bound an answer
 * is dropped and the client asks again. */
#define _GNU_SOURCE /* recvmmsg(2), sendmmsg(2) */
#include "common/addr.h"
#include "common/buf.h"
#include "proxy/dns/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
  ROUNDS = 4,        /* recvmmsg calls per wake-up at most, then the other handles' turn */
  QUEUE_MAX = 1024,  /* answers waiting for a writable socket */
  DGRAM_MAX = 65536, /* a datagram's room in the receive buffer: any UDP payload fits */
};

/* An answer the socket did not take at once; its bytes follow. */
struct queued {
  struct queued *next;
  struct sockaddr_storage to;
  size_t len;
  uint8_t data[];
};

struct dns_udp {
  uv_poll_t poll;
  int fd;
  bool writable_watched; /* UV_WRITABLE is in the poll's events: the queue is not empty */
  bool closing;
  dns_udp_query_cb on_query;
  void (*on_closed)(void *arg);
  void *arg;
  /* reading: one header per datagram, set up once; only msg_namelen changes between calls */
  uint8_t *in; /* DNS_UDP_BATCH datagrams of DGRAM_MAX (calloc: touched only as used) */
  struct mmsghdr in_msgs[DNS_UDP_BATCH];
  struct iovec in_iov[DNS_UDP_BATCH];
  struct sockaddr_storage from[DNS_UDP_BATCH];
  /* answers of the batch being read, sent together (flush) */
  size_t n_out;
  struct sockaddr_storage to[DNS_UDP_BATCH];
  size_t out_len[DNS_UDP_BATCH];
  uint8_t out[DNS_UDP_BATCH][DNS_UDP_OUT_MAX];
  struct queued *queue, **queue_tail;
  size_t n_queued;
};

static bool would_block(int e) {
  return e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS;
}

static void on_poll(uv_poll_t *h, int status, int events);

/* watch asks for UV_WRITABLE while answers wait, and only then (a UDP socket is nearly always
 * writable: watching it otherwise would wake the loop for nothing). */
static void watch(struct dns_udp *u) {
  bool want = u->queue != NULL;
  if (want != u->writable_watched && !u->closing) {
    u->writable_watched = want;
    uv_poll_start(&u->poll, UV_READABLE | (want ? UV_WRITABLE : 0), on_poll);
  }
}

static void enqueue(struct dns_udp *u, const struct sockaddr *to, const uint8_t *msg, size_t len) {
  if (u->n_queued >= QUEUE_MAX) {
    return; /* dropped, as a full socket buffer drops: the client asks again */
  }
  struct queued *q = malloc(sizeof *q + len);
  if (q == NULL) {
    return;
  }
  q->next = NULL;
  memcpy(&q->to, to, addr_len(to));
  q->len = len;
  memcpy(q->data, msg, len);
  *u->queue_tail = q;
  u->queue_tail = &q->next;
  u->n_queued++;
  watch(u);
}

/* send_queue sends what waits, in order, until the socket would block again. */
static void send_queue(struct dns_udp *u) {
  while (u->queue != NULL) {
    struct queued *q = u->queue;
    ssize_t n;
    do {
      n = sendto(u->fd, q->data, q->len, 0, (const struct sockaddr *) &q->to,
                 addr_len((const struct sockaddr *) &q->to));
    } while (n < 0 && errno == EINTR);
    if (n < 0 && would_block(errno)) {
      break;
    }
    u->queue = q->next; /* sent, or refused as UDP may refuse: either way it is done */
    u->n_queued--;
    free(q);
  }
  if (u->queue == NULL) {
    u->queue_tail = &u->queue;
  }
  watch(u);
}

void dns__udp_send(struct dns_udp *u, const struct sockaddr *to, const uint8_t *msg, size_t len) {
  if (len == 0 || u->closing) {
    return;
  }
  if (u->queue == NULL) {
    ssize_t n;
    do {
      n = sendto(u->fd, msg, len, 0, to, addr_len(to));
    } while (n < 0 && errno == EINTR);
    if (n >= 0 || !would_block(errno)) {
      return; /* sent, or failed as UDP may: the client will retry */
    }
  }
  enqueue(u, to, msg, len); /* behind the others, so that none overtakes them */
}

uint8_t *dns__udp_out(struct dns_udp *u) {
  return u->out[u->n_out];
}

/* flush sends the answers of the batch in one sendmmsg; what the socket did not take waits. */
static void flush(struct dns_udp *u) {
  if (u->n_out == 0) {
    return;
  }
  struct mmsghdr msgs[DNS_UDP_BATCH];
  struct iovec iov[DNS_UDP_BATCH];
  int sent = 0;
  if (u->queue == NULL) {
    memset(msgs, 0, u->n_out * sizeof msgs[0]);
    for (size_t i = 0; i < u->n_out; i++) {
      iov[i] = (struct iovec){u->out[i], u->out_len[i]};
      msgs[i].msg_hdr.msg_name = &u->to[i];
      msgs[i].msg_hdr.msg_namelen = addr_len((const struct sockaddr *) &u->to[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    do {
      sent = sendmmsg(u->fd, msgs, (unsigned) u->n_out, 0);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
      /* the first datagram failed: kept when the socket is full; otherwise it is dropped (UDP) and
       * the others are tried one by one */
      sent = would_block(errno) ? 0 : 1;
    }
  }
  for (size_t i = (size_t) sent; i < u->n_out; i++) {
    dns__udp_send(u, (const struct sockaddr *) &u->to[i], u->out[i], u->out_len[i]);
  }
  u->n_out = 0;
}

void dns__udp_answered(struct dns_udp *u, size_t len, const struct sockaddr *to) {
  if (len == 0) {
    return;
  }
  memcpy(&u->to[u->n_out], to, addr_len(to));
  u->out_len[u->n_out] = len;
  if (++u->n_out == DNS_UDP_BATCH) {
    flush(u);
  }
}

/* read_batches reads and answers up to ROUNDS batches; a batch shorter than DNS_UDP_BATCH means
 * the socket is empty, and reading stops there rather than asking again to hear EAGAIN. */
static void read_batches(struct dns_udp *u) {
  for (int round = 0; round < ROUNDS && !u->closing; round++) {
    int n;
    do {
      n = recvmmsg(u->fd, u->in_msgs, DNS_UDP_BATCH, 0, NULL);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
      return; /* EAGAIN; or an error about one earlier datagram (an ICMP report): the next
                 wake-up reads on */
    }
    for (int i = 0; i < n && !u->closing; i++) {
      struct msghdr *m = &u->in_msgs[i].msg_hdr;
      if (m->msg_namelen >= sizeof(struct sockaddr_in)) {
        u->on_query(u->arg, u->in + (size_t) i * DGRAM_MAX, u->in_msgs[i].msg_len,
                    (const struct sockaddr *) &u->from[i]);
      }
      m->msg_namelen = sizeof u->from[i]; /* recvmmsg wrote the length it used */
    }
    flush(u);
    if (n < DNS_UDP_BATCH) {
      return;
    }
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  struct dns_udp *u = h->data;
  if (status < 0) {
    return; /* the poll reports an error of the socket (EBADF after a close): nothing to read */
  }
  if (events & UV_WRITABLE) {
    send_queue(u);
  }
  if (events & UV_READABLE) {
    read_batches(u);
  }
}

int dns__udp_start(struct dns_udp **out, uv_loop_t *loop, int fd, dns_udp_query_cb on_query,
                   void *arg) {
  struct dns_udp *u = xcalloc(1, sizeof *u);
  u->fd = fd;
  u->on_query = on_query;
  u->arg = arg;
  u->queue_tail = &u->queue;
  u->in = xcalloc(DNS_UDP_BATCH, DGRAM_MAX);
  for (size_t i = 0; i < DNS_UDP_BATCH; i++) {
    u->in_iov[i] = (struct iovec){u->in + i * DGRAM_MAX, DGRAM_MAX};
    u->in_msgs[i].msg_hdr = (struct msghdr){
        .msg_name = &u->from[i],
        .msg_namelen = sizeof u->from[i],
        .msg_iov = &u->in_iov[i],
        .msg_iovlen = 1,
    };
  }
  int ret = uv_poll_init(loop, &u->poll, fd);
  if (ret != 0) {
    free(u->in);
    free(u);
    return ret; /* fd is still the caller's */
  }
  u->poll.data = u;
  ret = uv_poll_start(&u->poll, UV_READABLE, on_poll);
  *out = u; /* even when it failed: dns__udp_close closes fd */
  return ret;
}

static void on_poll_closed(uv_handle_t *h) {
  struct dns_udp *u = h->data;
  close(u->fd);
  while (u->queue != NULL) {
    struct queued *q = u->queue;
    u->queue = q->next;
    free(q);
  }
  void (*done)(void *) = u->on_closed;
  void *arg = u->arg;
  free(u->in);
  free(u);
  if (done != NULL) {
    done(arg);
  }
}

void dns__udp_close(struct dns_udp *u, void (*on_closed)(void *arg)) {
  if (u->closing) {
    return;
  }
  flush(u);          /* answers already written go out, or wait with the rest: */
  u->closing = true; /* what waits when the socket closes is dropped, as UDP may drop */
  u->on_closed = on_closed;
  uv_close((uv_handle_t *) &u->poll, on_poll_closed);
}
