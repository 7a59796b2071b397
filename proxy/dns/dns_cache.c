/* proxy/dns/dns_cache.c: answers already written, served again with the client's ID and the
 * client's spelling of the question. Only a zoneset whose answers depend on the query's bytes
 * alone may be cached: no rule counting its first N queries (the Nth+1 answer differs), no
 * dns.overlay (answers come from an upstream). The key is every byte of the query but the ID,
 * QNAME lowercased, plus the transport and the caller's buffer size — so flags, EDNS (payload
 * size, version, DO, options) and whatever follows the question pick their own entries, and a
 * hit is byte for byte what dns_answer would have written. */
#include "common/buf.h"
#include "proxy/dns/internal.h"

#include <stdlib.h>
#include <string.h>

enum {
  MAX_KEY = 512,   /* longer queries (large EDNS options) are answered, not cached */
  NOTE_MAX = 4096, /* a caller's note is at most this long */
};

struct entry {
  uint64_t hash;
  uint8_t *key; /* query bytes: ID zeroed, QNAME lowercase; owned, NULL when the slot is free */
  size_t key_len;
  bool over_tcp;
  size_t out_cap;
  uint8_t *answer; /* the response as first written; owned */
  size_t answer_len;
  size_t qname_len; /* QNAME's wire length at offset 12, in the query and the response */
  /* the dns_info of the answer, field by field (the journal's dns.query is built from it) */
  char *qname;
  size_t qname_text_len; /* strlen(qname) */
  uint16_t qtype;
  uint16_t rcode;
  uint16_t n_answer;
  bool truncated;
  const char *why; /* static strings, as dns_answer sets them */
  const char *rule;
  bool wildcard;
  bool raw;
  struct buf note; /* the caller's (dns__cache_answer) */
};

struct dns_cache {
  struct entry *slots;
  size_t n_slots; /* a power of two */
  size_t n_hits;
};

bool dns__zoneset_stateless(const struct dns_zoneset *zs) {
  if (zs->overlay != NULL) {
    return false;
  }
  for (size_t i = 0; i < zs->n_rules; i++) {
    if (zs->rules[i].first_n > 0) {
      return false;
    }
  }
  return true;
}

struct dns_cache *dns__cache_new(const struct dns_zoneset *zs, size_t n_slots) {
  if (!dns__zoneset_stateless(zs) || n_slots == 0) {
    return NULL;
  }
  size_t n = 1;
  while (n < n_slots) {
    n <<= 1;
  }
  struct dns_cache *c = xcalloc(1, sizeof *c);
  c->slots = xcalloc(n, sizeof *c->slots);
  c->n_slots = n;
  return c;
}

static void entry_clear(struct entry *e) {
  free(e->key);
  free(e->answer);
  free(e->qname);
  buf_cleanup(&e->note);
  memset(e, 0, sizeof *e);
}

void dns__cache_free(struct dns_cache *c) {
  if (c == NULL) {
    return;
  }
  for (size_t i = 0; i < c->n_slots; i++) {
    entry_clear(&c->slots[i]);
  }
  free(c->slots);
  free(c);
}

size_t dns__cache_hits(const struct dns_cache *c) {
  return c != NULL ? c->n_hits : 0;
}

/* qname_wire_len walks the uncompressed QNAME at offset 12 (RFC 1035 4.1.2); 0 when it is not
 * one (cut short, a pointer, a label over 63 bytes, a name over 255): such queries are not
 * cached. */
static size_t qname_wire_len(const uint8_t *q, size_t len) {
  size_t at = KNOT_WIRE_HEADER_SIZE;
  while (at < len) {
    uint8_t label = q[at];
    if (label == 0) {
      size_t n = at + 1 - KNOT_WIRE_HEADER_SIZE;
      return n <= KNOT_DNAME_MAXLEN ? n : 0;
    }
    if (label > 63) {
      return 0;
    }
    at += 1 + label;
  }
  return 0;
}

/* lower8 lowercases the ASCII capitals among eight bytes at once and leaves every other byte
 * alone (bytes of 0x80 and above included): a byte's low seven bits plus 0x3f reach 0x80 from
 * 'A' on, plus 0x24 from past 'Z' on, and neither sum carries into the next byte. */
static uint64_t lower8(uint64_t x) {
  const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
  uint64_t low7 = x & ~high;
  uint64_t from_a = low7 + ones * (0x80 - 'A');
  uint64_t past_z = low7 + ones * (0x80 - 'Z' - 1);
  uint64_t upper = from_a & ~past_z & ~x & high;
  return x | upper >> 2; /* 0x80 >> 2 is the 0x20 between 'A' and 'a' */
}

/* make_key writes the key of `q` into `key` (len bytes): the ID zeroed, QNAME's letters
 * lowercase (label length bytes are at most 63, below 'A', so they are left alone) — eight
 * bytes at a time, the last eight overlapping the ones before (lowercasing twice changes
 * nothing). */
static void make_key(uint8_t *key, const uint8_t *q, size_t len, size_t qname_len) {
  memcpy(key, q, len);
  key[0] = 0;
  key[1] = 0;
  size_t i = KNOT_WIRE_HEADER_SIZE;
  size_t end = KNOT_WIRE_HEADER_SIZE + qname_len;
  if (qname_len >= 8) {
    for (uint64_t x; i + 8 <= end; i += 8) {
      x = lower8(load_u64(key + i));
      memcpy(key + i, &x, 8);
    }
    if (i < end) {
      uint64_t x = lower8(load_u64(key + end - 8));
      memcpy(key + end - 8, &x, 8);
    }
    return;
  }
  for (; i < end; i++) {
    if (key[i] >= 'A' && key[i] <= 'Z') {
      key[i] = (uint8_t) (key[i] + ('a' - 'A'));
    }
  }
}

/* mix: one round of a multiply-xorshift (the 64-bit finalizer of MurmurHash3, Austin Appleby). */
static uint64_t mix(uint64_t h) {
  h *= 0xff51afd7ed558ccdu;
  return h ^ h >> 33;
}

/* hash mixes the key eight bytes at a time (the last eight overlapping: every key is longer
 * than the 12-byte header), with its length, the transport and the buffer size. A collision
 * costs a miss, never a wrong answer: a hit compares the whole key. */
static uint64_t hash(const uint8_t *key, size_t len, bool over_tcp, size_t out_cap) {
  uint64_t h = mix(len ^ (uint64_t) out_cap << 20 ^ (over_tcp ? 1u : 0u));
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    h = mix(h ^ load_u64(key + i));
  }
  if (i < len) {
    h = mix(h ^ load_u64(key + len - 8));
  }
  return h;
}

static void fill_info(struct dns_info *info, const struct entry *e) {
  memcpy(info->qname, e->qname, e->qname_text_len + 1);
  info->qtype = e->qtype;
  info->rcode = e->rcode;
  info->n_answer = e->n_answer;
  info->truncated = e->truncated;
  info->dropped = false;
  info->why = e->why;
  info->rule = e->rule;
  info->wildcard = e->wildcard;
  info->raw = e->raw;
  info->overlay = NULL;
  info->chase[0] = '\0';
}

/* cacheable: the response echoes the question at offset 12 with the same QNAME (so the client's
 * spelling can be put back), and nothing about it is left to the upstream. */
static bool cacheable(const uint8_t *out, size_t len, const uint8_t *key, size_t qname_len,
                      const struct dns_info *info) {
  if (info->dropped || info->chase[0] != '\0' || len < KNOT_WIRE_HEADER_SIZE + qname_len ||
      knot_wire_get_qdcount(out) != 1) {
    return false;
  }
  for (size_t i = KNOT_WIRE_HEADER_SIZE; i < KNOT_WIRE_HEADER_SIZE + qname_len; i++) {
    uint8_t b = out[i];
    if (b >= 'A' && b <= 'Z') {
      b = (uint8_t) (b + ('a' - 'A'));
    }
    if (b != key[i]) {
      return false;
    }
  }
  return true;
}

size_t dns__cache_answer(struct dns_cache *c, struct dns_zoneset *zs, const uint8_t *query,
                         size_t query_len, uint8_t *out, size_t out_cap, bool over_tcp,
                         struct dns_info *info, struct buf **note) {
  size_t qname_len = 0;
  struct buf *unused;
  if (note == NULL) {
    note = &unused;
  }
  *note = NULL;
  if (c == NULL || query_len <= KNOT_WIRE_HEADER_SIZE || query_len > MAX_KEY ||
      knot_wire_get_qr(query) || knot_wire_get_qdcount(query) != 1 ||
      (qname_len = qname_wire_len(query, query_len)) == 0) {
    return dns_answer(zs, query, query_len, out, out_cap, over_tcp, info);
  }
  uint8_t key[MAX_KEY];
  make_key(key, query, query_len, qname_len);
  uint64_t h = hash(key, query_len, over_tcp, out_cap);
  struct entry *e = &c->slots[h & (c->n_slots - 1)];
  if (e->key != NULL && e->hash == h && e->key_len == query_len && e->over_tcp == over_tcp &&
      e->out_cap == out_cap && memcmp(e->key, key, query_len) == 0) {
    memcpy(out, e->answer, e->answer_len);
    memcpy(out, query, 2); /* the client's ID */
    memcpy(out + KNOT_WIRE_HEADER_SIZE, query + KNOT_WIRE_HEADER_SIZE, qname_len); /* its 0x20 */
    fill_info(info, e);
    c->n_hits++;
    *note = &e->note;
    return e->answer_len;
  }
  size_t len = dns_answer(zs, query, query_len, out, out_cap, over_tcp, info);
  if (len == 0 || !cacheable(out, len, key, qname_len, info)) {
    return len;
  }
  entry_clear(e); /* one entry per slot: a newcomer evicts what was there */
  e->hash = h;
  e->key = xcalloc(1, query_len);
  memcpy(e->key, key, query_len);
  e->key_len = query_len;
  e->over_tcp = over_tcp;
  e->out_cap = out_cap;
  e->answer = xcalloc(1, len);
  memcpy(e->answer, out, len);
  e->answer_len = len;
  e->qname_len = qname_len;
  e->qname = str_dup(info->qname);
  e->qname_text_len = strlen(e->qname);
  e->qtype = info->qtype;
  e->rcode = info->rcode;
  e->n_answer = info->n_answer;
  e->truncated = info->truncated;
  e->why = info->why;
  e->rule = info->rule;
  e->wildcard = info->wildcard;
  e->raw = info->raw;
  buf_init(&e->note, NOTE_MAX);
  *note = &e->note;
  return len;
}
