/* proxy/http/http_memo.c: a listener's memo of POX Autodiscover answers (issue 12). Parsing the
 * request with libxml2 and building and serialising the answer cost most of a kept-alive POST;
 * for a plain autodiscover route (not `answers`, which may choose per request or by count) the
 * answer is a function of the route, the host answering (server_id: the DeploymentId) and the
 * request body alone, so the same body at the same route gets the same fields and bytes again.
 * Only well-formed requests for a settings or redirect answer are kept: error answers carry the
 * time (§3.5 Error Time). Slots are direct-mapped: a newcomer evicts what was in its slot. */
#include "common/buf.h"
#include "proxy/http/internal.h"

#include <stdlib.h>
#include <string.h>

#define MEMO_MAX_BODY 4096u /* larger requests are answered, not memoised */

struct http_memo_entry {
  uint64_t hash;
  const struct scn_route *route; /* borrowed: the listener's scenario outlives it */
  const char *server_id;         /* borrowed, compared by content */
  uint8_t *body;                 /* owned; NULL: a free slot */
  size_t body_len;
  struct http_pox_request pox; /* the parsed fields (owned) */
  struct buf answer;           /* the answer's body; empty until the first answer is kept */
  bool has_answer;
};

struct http_memo {
  struct http_memo_entry *slots;
  size_t n_slots; /* a power of two */
  size_t n_hits;
};

struct http_memo *http__memo_new(size_t n_slots) {
  size_t n = 1;
  while (n < n_slots) {
    n <<= 1;
  }
  struct http_memo *m = xcalloc(1, sizeof *m);
  m->slots = xcalloc(n, sizeof *m->slots);
  m->n_slots = n;
  return m;
}

static void entry_clear(struct http_memo_entry *e) {
  free(e->body);
  http__pox_request_cleanup(&e->pox);
  buf_cleanup(&e->answer);
  memset(e, 0, sizeof *e);
}

void http__memo_free(struct http_memo *m) {
  if (m == NULL) {
    return;
  }
  for (size_t i = 0; i < m->n_slots; i++) {
    entry_clear(&m->slots[i]);
  }
  free(m->slots);
  free(m);
}

size_t http__memo_hits(const struct http_memo *m) {
  return m != NULL ? m->n_hits : 0;
}

bool http__memo_applies(const struct scn_route *route) {
  return route != NULL && route->kind == SCN_ROUTE_AUTODISCOVER && route->ad.action != SCN_AD_ERROR;
}

/* hash is FNV-1a over the body, the route's address and the server id. */
static uint64_t hash(const struct scn_route *route, const char *server_id, struct slice body) {
  uint64_t h = fnv1a(fnv1a(FNV1A_INIT, body), slice_of_str(server_id));
  return fnv1a_mix(h, (uint64_t) (uintptr_t) route);
}

static struct http_memo_entry *slot_of(struct http_memo *m, uint64_t h) {
  return &m->slots[h & (m->n_slots - 1)];
}

struct http_memo_entry *http__memo_find(struct http_memo *m, const struct scn_route *route,
                                        const char *server_id, struct slice body) {
  if (m == NULL || !http__memo_applies(route) || body.len == 0 || body.len > MEMO_MAX_BODY) {
    return NULL;
  }
  uint64_t h = hash(route, server_id, body);
  struct http_memo_entry *e = slot_of(m, h);
  if (e->body == NULL || e->hash != h || e->route != route || e->body_len != body.len ||
      strcmp(e->server_id, server_id) != 0 || memcmp(e->body, body.ptr, body.len) != 0) {
    return NULL;
  }
  m->n_hits++;
  return e;
}

struct http_memo_entry *http__memo_add(struct http_memo *m, const struct scn_route *route,
                                       const char *server_id, struct slice body,
                                       const struct http_pox_request *pox) {
  if (m == NULL || !http__memo_applies(route) || body.len == 0 || body.len > MEMO_MAX_BODY) {
    return NULL;
  }
  uint64_t h = hash(route, server_id, body);
  struct http_memo_entry *e = slot_of(m, h);
  entry_clear(e);
  e->hash = h;
  e->route = route;
  e->server_id = server_id;
  e->body = xcalloc(1, body.len);
  memcpy(e->body, body.ptr, body.len);
  e->body_len = body.len;
  e->pox.email = str_dup(pox->email);
  e->pox.legacy_dn = str_dup(pox->legacy_dn);
  e->pox.schema = str_dup(pox->schema);
  buf_init(&e->answer, 1u << 20);
  return e;
}

void http__memo_pox(const struct http_memo_entry *e, struct http_pox_request *out) {
  out->email = str_dup(e->pox.email);
  out->legacy_dn = str_dup(e->pox.legacy_dn);
  out->schema = str_dup(e->pox.schema);
}

bool http__memo_answer(const struct http_memo_entry *e, struct buf *out) {
  return e->has_answer && buf_append(out, buf_slice(&e->answer));
}

void http__memo_keep_answer(struct http_memo_entry *e, struct slice answer) {
  buf_reset(&e->answer);
  e->has_answer = buf_append(&e->answer, answer);
}
