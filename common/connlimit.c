/* common/connlimit.c: connection caps per server and per client address, and the tally of
 * refused connections reported at most once a second. The addresses with open connections are
 * a small array searched in order: a lab has few clients, and the caps bound it anyway. */
#include "common/connlimit.h"

#include "common/buf.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

void connlimit_init(struct connlimit *l, unsigned max_conns, unsigned max_per_client) {
  memset(l, 0, sizeof *l);
  connlimit_set(l, max_conns, max_per_client);
}

void connlimit_cleanup(struct connlimit *l) {
  free(l->peers);
  l->peers = NULL;
  l->n_peers = l->cap_peers = 0;
}

void connlimit_set(struct connlimit *l, unsigned max_conns, unsigned max_per_client) {
  l->max_conns = max_conns;
  l->max_per_client = max_per_client;
}

/* key reads the address part of `sa` into a peer (n_open 0); an IPv4-mapped IPv6 address is
 * the IPv4 address, so a dual-stack socket counts a client once. */
static struct connlimit_peer key(const struct sockaddr *sa) {
  struct connlimit_peer k;
  memset(&k, 0, sizeof k);
  if (sa == NULL) {
    return k;
  }
  if (sa->sa_family == AF_INET) {
    k.family = AF_INET;
    memcpy(k.addr, &((const struct sockaddr_in *) sa)->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *) sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a)) {
      k.family = AF_INET;
      memcpy(k.addr, a->s6_addr + 12, 4);
    } else {
      k.family = AF_INET6;
      memcpy(k.addr, a->s6_addr, 16);
    }
  }
  return k;
}

static struct connlimit_peer *find(const struct connlimit *l, const struct connlimit_peer *k) {
  for (size_t i = 0; i < l->n_peers; i++) {
    struct connlimit_peer *p = &l->peers[i];
    if (p->family == k->family && memcmp(p->addr, k->addr, sizeof p->addr) == 0) {
      return p;
    }
  }
  return NULL;
}

static void key_text(const struct connlimit_peer *k, char *out, size_t out_size) {
  if (k->family == AF_INET) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    memcpy(&a.sin_addr, k->addr, 4);
    uv_ip4_name(&a, out, out_size);
  } else if (k->family == AF_INET6) {
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    memcpy(&a.sin6_addr, k->addr, 16);
    uv_ip6_name(&a, out, out_size);
  } else {
    buf_fmt(out, out_size, "?");
  }
}

/* tally counts a refusal and names its client, each address once. */
static enum connlimit_verdict tally(struct connlimit *l, const struct connlimit_peer *k,
                                    enum connlimit_verdict why) {
  if (why == CONNLIMIT_FULL) {
    l->refused_full++;
  } else {
    l->refused_client++;
  }
  char text[INET6_ADDRSTRLEN];
  key_text(k, text, sizeof text);
  for (size_t i = 0; i < l->n_clients; i++) {
    if (strcmp(l->clients[i], text) == 0) {
      return why;
    }
  }
  if (l->n_clients < CONNLIMIT_CLIENTS) {
    buf_fmt(l->clients[l->n_clients++], sizeof l->clients[0], "%s", text);
  }
  return why;
}

enum connlimit_verdict connlimit_admit(struct connlimit *l, const struct sockaddr *peer) {
  struct connlimit_peer k = key(peer);
  struct connlimit_peer *p = find(l, &k);
  if (l->max_conns > 0 && l->n_open >= l->max_conns) {
    return tally(l, &k, CONNLIMIT_FULL);
  }
  if (l->max_per_client > 0 && p != NULL && p->n_open >= l->max_per_client) {
    return tally(l, &k, CONNLIMIT_CLIENT);
  }
  if (p == NULL) {
    if (l->n_peers == l->cap_peers) {
      l->cap_peers = l->cap_peers > 0 ? 2 * l->cap_peers : 8;
      l->peers = xrealloc_array(l->peers, l->cap_peers, sizeof *l->peers);
    }
    p = &l->peers[l->n_peers++];
    *p = k;
  }
  p->n_open++;
  l->n_open++;
  return CONNLIMIT_ADMIT;
}

void connlimit_release(struct connlimit *l, const struct sockaddr *peer) {
  struct connlimit_peer k = key(peer);
  struct connlimit_peer *p = find(l, &k);
  if (p == NULL || p->n_open == 0) {
    return; /* not admitted: nothing to forget */
  }
  l->n_open--;
  if (--p->n_open == 0) {
    *p = l->peers[--l->n_peers]; /* the last takes its place */
  }
}

unsigned connlimit_open_from(const struct connlimit *l, const struct sockaddr *peer) {
  struct connlimit_peer k = key(peer);
  const struct connlimit_peer *p = find(l, &k);
  return p != NULL ? p->n_open : 0;
}

uint64_t connlimit_refused(const struct connlimit *l) {
  return l->refused_full + l->refused_client;
}

bool connlimit_report_wait(const struct connlimit *l, uint64_t now_ms, uint64_t *out_wait_ms) {
  *out_wait_ms = 0;
  if (connlimit_refused(l) == 0) {
    return false;
  }
  if (l->reported && now_ms < l->last_report_ms + CONNLIMIT_REPORT_MS) {
    *out_wait_ms = l->last_report_ms + CONNLIMIT_REPORT_MS - now_ms;
  }
  return true;
}

void connlimit_report_taken(struct connlimit *l, uint64_t now_ms) {
  l->refused_full = 0;
  l->refused_client = 0;
  l->n_clients = 0;
  l->reported = true;
  l->last_report_ms = now_ms;
}
