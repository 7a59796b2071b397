/* common/buf.c: capped buffers, slices and the few string helpers every module needs. */
#include "common/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
  if (p == NULL) {
    abort();
  }
  return p;
}

void *xrealloc_array(void *p, size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size) {
    abort();
  }
  void *q = realloc(p, n * size == 0 ? 1 : n * size);
  if (q == NULL) {
    abort();
  }
  return q;
}

void buf_init(struct buf *b, size_t max) {
  b->ptr = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
}

void buf_cleanup(struct buf *b) {
  free(b->ptr);
  b->ptr = NULL;
  b->len = 0;
  b->cap = 0;
}

void buf_reset(struct buf *b) {
  b->len = 0;
  if (b->ptr != NULL) {
    b->ptr[0] = 0;
  }
}

/* grow gives `b` room for `extra` more bytes and a NUL when it has not got it (reserve's slow
 * path, kept out of line so that the test every append makes stays small enough to inline). */
static bool __attribute__((noinline)) grow(struct buf *b, size_t extra) {
  if (extra > b->max || b->len > b->max - extra) {
    return false;
  }
  size_t need = b->len + extra + 1; /* room for the NUL */
  if (need <= b->cap) {
    return true;
  }
  size_t cap = b->cap < 64 ? 64 : b->cap;
  while (cap < need) {
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  }
  if (b->max < SIZE_MAX && cap > b->max + 1) {
    cap = b->max + 1;
  }
  uint8_t *p = realloc(b->ptr, cap);
  if (p == NULL) {
    return false;
  }
  b->ptr = p;
  b->cap = cap;
  return true;
}

/* reserve: room for `extra` more bytes and a NUL, within b->max. The usual case — the room is
 * there — is three comparisons, inlined; len + extra cannot overflow once it is below cap. */
static inline bool reserve(struct buf *b, size_t extra) {
  if (extra < b->cap && b->len < b->cap - extra && b->len + extra <= b->max) {
    return true; /* len + extra + 1 <= cap */
  }
  return grow(b, extra);
}

bool buf_append(struct buf *b, struct slice s) {
  if (!reserve(b, s.len)) {
    return false;
  }
  if (s.len > 0) {
    memcpy(b->ptr + b->len, s.ptr, s.len);
  }
  b->len += s.len;
  b->ptr[b->len] = 0;
  return true;
}

uint8_t *buf_extend(struct buf *b, size_t n) {
  if (!reserve(b, n)) {
    return NULL;
  }
  uint8_t *at = b->ptr + b->len;
  b->len += n;
  b->ptr[b->len] = 0;
  return at;
}

bool buf_append_str(struct buf *b, const char *s) {
  return buf_append(b, slice_of_str(s));
}

bool buf_appendf(struct buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  bool ok = n >= 0 && reserve(b, (size_t) n);
  if (ok) {
    vsnprintf((char *) b->ptr + b->len, (size_t) n + 1, fmt, ap2);
    b->len += (size_t) n;
  }
  va_end(ap2);
  return ok;
}

const char *buf_cstr(const struct buf *b) {
  return b->ptr == NULL ? "" : (const char *) b->ptr;
}

struct slice buf_slice(const struct buf *b) {
  return (struct slice){b->ptr, b->len};
}

char *buf_take(struct buf *b) {
  char *p = (char *) b->ptr;
  b->ptr = NULL;
  b->len = 0;
  b->cap = 0;
  return p;
}

bool buf_fmt(char *dst, size_t dst_size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(dst, dst_size, fmt, ap);
  va_end(ap);
  return n >= 0 && (size_t) n < dst_size;
}

struct slice slice_of_str(const char *s) {
  return (struct slice){(const uint8_t *) s, s == NULL ? 0 : strlen(s)};
}

static int lower(int c) {
  return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

bool slice_eq_nocase(struct slice a, const char *b) {
  size_t n = strlen(b);
  if (a.len != n) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    if (lower(a.ptr[i]) != lower((unsigned char) b[i])) {
      return false;
    }
  }
  return true;
}

bool str_eq_nocase(const char *a, const char *b) {
  if (a == NULL || b == NULL) {
    return a == b;
  }
  return slice_eq_nocase(slice_of_str(a), b);
}

char *str_ndup(const char *s, size_t len) {
  char *p = xcalloc(len + 1, 1);
  if (len > 0) {
    memcpy(p, s, len);
  }
  return p;
}

char *str_dup(const char *s) {
  return s == NULL ? NULL : str_ndup(s, strlen(s));
}

char *str_lower(char *s) {
  for (char *p = s; p != NULL && *p != 0; p++) {
    *p = (char) lower((unsigned char) *p);
  }
  return s;
}

size_t dec_u64(char *out, uint64_t v) {
  /* the digit count first, then the digits from the right, two at a time from a table */
  static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233"
                              "34353637383940414243444546474849505152535455565758596061626364656667"
                              "6869707172737475767778798081828384858687888990919293949596979899";
  size_t n = 1;
  for (uint64_t p = 10; n < 20 && v >= p; p *= 10) {
    n++;
  }
  out[n] = '\0';
  size_t at = n;
  while (v >= 100) {
    size_t two = (size_t) (v % 100) * 2;
    v /= 100;
    out[--at] = pairs[two + 1];
    out[--at] = pairs[two];
  }
  if (v >= 10) {
    out[--at] = pairs[v * 2 + 1];
    out[--at] = pairs[v * 2];
  } else {
    out[--at] = (char) ('0' + v);
  }
  return n;
}

void hex_lower(char *out, const uint8_t *bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
}

#define FNV1A_PRIME 0x100000001b3u

uint64_t fnv1a(uint64_t h, struct slice bytes) {
  for (size_t i = 0; i < bytes.len; i++) {
    h = (h ^ bytes.ptr[i]) * FNV1A_PRIME;
  }
  return h;
}

uint64_t fnv1a_mix(uint64_t h, uint64_t value) {
  return (h ^ value) * FNV1A_PRIME;
}

bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out) {
  if (s == NULL || *s < '0' || *s > '9') {
    return false;
  }
  errno = 0;
  char *end = NULL;
  unsigned long v = strtoul(s, &end, 10);
  if (errno != 0 || *end != 0 || v < min || v > max) {
    return false;
  }
  *out = (uint32_t) v;
  return true;
}
