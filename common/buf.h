/* common/buf.h: borrowed byte slices, capped owned buffers and bounded formatting. */
#ifndef AD_COMMON_BUF_H
#define AD_COMMON_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Borrowed bytes, not NUL-terminated. */
struct slice {
  const uint8_t *ptr;
  size_t len;
};

/* Owned bytes that never grow past `max`. `ptr` is always NUL-terminated (one byte beyond len)
 * once anything was appended, so buf_cstr is cheap. */
struct buf {
  uint8_t *ptr;
  size_t len;
  size_t cap;
  size_t max;
};

/* buf_init prepares an empty buffer that refuses to grow past `max` bytes. */
void buf_init(struct buf *b, size_t max);
/* buf_cleanup frees the bytes; the buffer is empty and reusable afterwards. */
void buf_cleanup(struct buf *b);
/* buf_reset forgets the contents but keeps the allocation. */
void buf_reset(struct buf *b);
/* buf_append copies `s` to the end; false (buffer unchanged) past b->max or out of memory. */
bool buf_append(struct buf *b, struct slice s);
/* buf_extend makes the buffer `n` bytes longer and returns where they start, for the caller to
 * fill at once (the NUL after them is written); NULL (buffer unchanged) past b->max or out of
 * memory. */
uint8_t *buf_extend(struct buf *b, size_t n);
/* buf_append_str appends a C string. */
bool buf_append_str(struct buf *b, const char *s);
/* buf_appendf appends printf-style text; false (buffer unchanged) past b->max. */
bool buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* buf_cstr returns the contents as a NUL-terminated string ("" when empty); borrowed. */
const char *buf_cstr(const struct buf *b);
/* buf_slice returns the contents as a slice; borrowed. */
struct slice buf_slice(const struct buf *b);
/* buf_take hands the bytes (NUL-terminated, possibly NULL when empty) to the caller, who frees
 * them; the buffer is left empty. */
char *buf_take(struct buf *b);

/* buf_fmt formats into dst; false if the result was truncated. */
bool buf_fmt(char *dst, size_t dst_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* slice_of_str views a C string (may be NULL: empty slice). */
struct slice slice_of_str(const char *s);
/* slice_eq_nocase compares a slice with a C string, ASCII case-insensitively. */
bool slice_eq_nocase(struct slice a, const char *b);
/* str_dup copies a C string (NULL stays NULL); aborts on out of memory. */
char *str_dup(const char *s);
/* str_ndup copies `len` bytes into a new NUL-terminated string; aborts on out of memory. */
char *str_ndup(const char *s, size_t len);
/* str_eq_nocase compares two C strings ASCII case-insensitively; NULLs are equal only to NULL. */
bool str_eq_nocase(const char *a, const char *b);
/* str_lower lowercases ASCII letters in place and returns s. */
char *str_lower(char *s);
/* xcalloc allocates zeroed memory or aborts: out of memory is not an input error. */
void *xcalloc(size_t n, size_t size);
/* xrealloc_array grows an array or aborts. */
void *xrealloc_array(void *p, size_t n, size_t size);
/* dec_u64 writes `v` in decimal and a NUL at `out` (at most 21 bytes) and returns the number of
 * digits: by hand, for the paths that write a number per query or request. */
size_t dec_u64(char *out, uint64_t v);
/* load_u64 reads the eight bytes at p (any alignment) as one word in the machine's byte order,
 * for code that tests or changes eight bytes at a time. */
static inline uint64_t load_u64(const uint8_t *p) {
  uint64_t x;
  memcpy(&x, p, 8);
  return x;
}
/* hex_lower writes the 2n lower-case hex digits of `bytes` to `out` (no NUL). */
void hex_lower(char *out, const uint8_t *bytes, size_t n);
/* FNV-1a, 64 bits, for the POX answer memo's slots (not for anything an attacker must not steer
 * into one slot: a collision only evicts): fnv1a(FNV1A_INIT, bytes) and so on, then fnv1a_mix for
 * a number beside the bytes. */
#define FNV1A_INIT 0xcbf29ce484222325u
uint64_t fnv1a(uint64_t h, struct slice bytes);
uint64_t fnv1a_mix(uint64_t h, uint64_t value);
/* parse_u32 reads a decimal number in [min, max] from a whole C string; false otherwise. */
bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

#endif
