/* journal/jnl.c: JSON lines for the journal, and the one place that knows JSON escaping. */
#include "journal/jnl.h"

#include "journal/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES (1u << 20)

/* plain: a byte JSON text carries as it is (printable ASCII but the quote and the backslash). */
static bool plain(uint8_t c) {
  return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* plain8: all eight bytes of x are plain — no byte below 0x20 or above 0x7e, none a quote or
 * a backslash — tested together (the byte tests of "Bit Twiddling Hacks", Sean Anderson:
 * hasless, hasmore, haszero; each exact as a yes/no). Every line's keys and values pass here. */
static bool plain8(uint64_t x) {
  const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
  uint64_t below = (x - ones * 0x20) & ~x & high;
  uint64_t above = ((x + ones * (127 - 0x7e)) | x) & high;
  uint64_t q = x ^ (ones * '"');
  uint64_t bs = x ^ (ones * '\\');
  q = (q - ones) & ~q & high;
  bs = (bs - ones) & ~bs & high;
  return (below | above | q | bs) == 0;
}

/* n_plain counts the bytes at the start of `s` that need no escaping. */
static size_t n_plain(struct slice s) {
  size_t n = 0;
  while (n + 8 <= s.len && plain8(load_u64(s.ptr + n))) {
    n += 8;
  }
  while (n < s.len && plain(s.ptr[n])) {
    n++;
  }
  return n;
}

static uint64_t load4(const uint8_t *p) {
  uint32_t x;
  memcpy(&x, p, 4);
  return x;
}

/* all_plain: no byte of s needs escaping — n_plain(s) == s.len without a loop over the last
 * bytes. A tail shorter than eight is tested as the last eight bytes (overlapping the ones
 * before); a string shorter than eight as two overlapping halves (4–7 bytes) or as its first,
 * middle and last byte (1–3) put into a word of plain 'a's. Every key and most values pass here. */
static bool all_plain(struct slice s) {
  const uint64_t filler = 0x6161616161616161u; /* "aaaaaaaa" */
  size_t len = s.len;
  if (len >= 8) {
    size_t n = 0;
    for (; n + 8 <= len; n += 8) {
      if (!plain8(load_u64(s.ptr + n))) {
        return false;
      }
    }
    return n == len || plain8(load_u64(s.ptr + len - 8));
  }
  uint64_t x = filler;
  if (len >= 4) {
    x = load4(s.ptr) | load4(s.ptr + len - 4) << 32;
  } else if (len > 0) {
    x = (filler & ~(uint64_t) 0xffffff) | s.ptr[0] | (uint64_t) s.ptr[len / 2] << 8 |
        (uint64_t) s.ptr[len - 1] << 16;
  }
  return plain8(x);
}

/* quote_plain appends "s" when every byte of s is plain, in one step; false otherwise (b is
 * unchanged then, unless it is full: *out_full). */
static bool quote_plain(struct buf *b, struct slice s, bool *out_full) {
  *out_full = false;
  if (!all_plain(s)) {
    return false;
  }
  uint8_t *at = buf_extend(b, s.len + 2);
  if (at == NULL) {
    *out_full = true;
    return false;
  }
  at[0] = '"';
  if (s.len > 0) {
    memcpy(at + 1, s.ptr, s.len);
  }
  at[s.len + 1] = '"';
  return true;
}

bool jnl_escape(struct buf *b, struct slice s) {
  static const char hex[] = "0123456789abcdef";
  bool full = false;
  if (quote_plain(b, s, &full) || full) {
    return !full; /* the usual case: nothing to escape */
  }
  bool ok = buf_append(b, (struct slice){(const uint8_t *) "\"", 1});
  size_t i = 0;
  while (ok && i < s.len) {
    size_t run = i + n_plain((struct slice){s.ptr + i, s.len - i});
    if (run > i) { /* most strings are one run: one copy */
      ok = buf_append(b, (struct slice){s.ptr + i, run - i});
      i = run;
      continue;
    }
    uint8_t c = s.ptr[i];
    char esc[8];
    size_t esc_len = 0;
    switch (c) {
      case '"':
        esc[0] = '\\';
        esc[1] = '"';
        esc_len = 2;
        break;
      case '\\':
        esc[0] = '\\';
        esc[1] = '\\';
        esc_len = 2;
        break;
      case '\n':
        esc[0] = '\\';
        esc[1] = 'n';
        esc_len = 2;
        break;
      case '\r':
        esc[0] = '\\';
        esc[1] = 'r';
        esc_len = 2;
        break;
      case '\t':
        esc[0] = '\\';
        esc[1] = 't';
        esc_len = 2;
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          memcpy(esc, "\\u00", 4);
          esc[4] = hex[c >> 4];
          esc[5] = hex[c & 15];
          esc_len = 6;
        }
        break;
    }
    if (esc_len > 0) {
      ok = buf_append(b, (struct slice){(const uint8_t *) esc, esc_len});
      i++;
      continue;
    }
    /* A byte of 0x80 or more: copy a valid UTF-8 sequence; invalid UTF-8 becomes U+FFFD so the
     * line stays valid JSON. */
    size_t seq = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool valid = seq > 0 && i + seq <= s.len;
    for (size_t k = 1; valid && k < seq; k++) {
      valid = (s.ptr[i + k] & 0xc0) == 0x80;
    }
    if (valid) {
      ok = buf_append(b, (struct slice){s.ptr + i, seq});
      i += seq;
    } else {
      ok = buf_append_str(b, "\\ufffd");
      i++;
    }
  }
  return ok && buf_append(b, (struct slice){(const uint8_t *) "\"", 1});
}

static void key(struct jnl_event *ev, const char *k) {
  bool comma = ev->need_comma[ev->depth];
  ev->need_comma[ev->depth] = true;
  struct slice ks = slice_of_str(k);
  if (k != NULL && all_plain(ks)) { /* our keys: ,"name": in one step */
    uint8_t *at = buf_extend(&ev->line, ks.len + 3 + comma);
    if (at == NULL) {
      ev->overflow = true;
      return;
    }
    if (comma) {
      *at++ = ',';
    }
    at[0] = '"';
    memcpy(at + 1, ks.ptr, ks.len);
    at[ks.len + 1] = '"';
    at[ks.len + 2] = ':';
    return;
  }
  if (comma) {
    ev->overflow |= !buf_append_str(&ev->line, ",");
  }
  if (k != NULL) {
    ev->overflow |= !jnl_escape(&ev->line, ks);
    ev->overflow |= !buf_append_str(&ev->line, ":");
  }
}

static void open_container(struct jnl_event *ev, const char *k, const char *bracket) {
  key(ev, k);
  ev->overflow |= !buf_append_str(&ev->line, bracket);
  if (ev->depth + 1 < (int) (sizeof ev->need_comma / sizeof ev->need_comma[0])) {
    ev->depth++;
    ev->need_comma[ev->depth] = false;
  } else {
    ev->overflow = true;
  }
}

static void close_container(struct jnl_event *ev, const char *bracket) {
  ev->overflow |= !buf_append_str(&ev->line, bracket);
  if (ev->depth > 0) {
    ev->depth--;
  }
}

void jnl_doc_begin(struct jnl_event *doc) {
  memset(doc, 0, sizeof *doc);
  buf_init(&doc->line, 64u << 20);
  buf_append_str(&doc->line, "{");
}

char *jnl_doc_take(struct jnl_event *doc) {
  while (doc->depth > 0) {
    close_container(doc, "]"); /* only reached on misuse; keeps the text parseable */
  }
  buf_append_str(&doc->line, "}");
  return buf_take(&doc->line);
}

/* line_start writes {"t":"2026-11-27T21:02:56.123456Z","ev":NAME into an empty line. */
static void line_start(struct jnl_event *ev, const char *name) {
  char head[JNL__TIME_LEN + 16];
  memcpy(head, "{\"t\":\"", 6);
  jnl__time(ev->j, head + 6);
  memcpy(head + 6 + JNL__TIME_LEN, "\",\"ev\":", 7);
  ev->overflow |=
      !buf_append(&ev->line, (struct slice){(const uint8_t *) head, 13 + JNL__TIME_LEN});
  ev->overflow |= !jnl_escape(&ev->line, slice_of_str(name));
  ev->need_comma[0] = true;
}

void jnl_begin(struct jnl_event *ev, struct jnl *j, const char *name) {
  memset(ev, 0, sizeof *ev);
  ev->j = j;
  if (j == NULL) {
    buf_init(&ev->line, LINE_MAX_BYTES);
    return;
  }
  ev->line = jnl__line_buf(j, LINE_MAX_BYTES);
  line_start(ev, name);
}

void jnl_end(struct jnl_event *ev) {
  if (ev->j == NULL) {
    buf_cleanup(&ev->line);
    return;
  }
  if (ev->overflow || ev->depth != 0) {
    /* Never lose the line: say that it was too large rather than write broken JSON. */
    buf_reset(&ev->line);
    ev->overflow = false;
    line_start(ev, "journal.truncated");
  }
  buf_append(&ev->line, (struct slice){(const uint8_t *) "}\n", 2});
  jnl__put(ev->j, &ev->line);
  buf_init(&ev->line, 0);
}

static bool dropped(const struct jnl_event *ev) {
  return ev->j == NULL && ev->line.len == 0;
}

void jnl_strn(struct jnl_event *ev, const char *k, struct slice value) {
  if (dropped(ev)) {
    return;
  }
  key(ev, k);
  ev->overflow |= !jnl_escape(&ev->line, value);
}

void jnl_str(struct jnl_event *ev, const char *k, const char *value) {
  if (value == NULL) {
    jnl_null(ev, k);
    return;
  }
  jnl_strn(ev, k, slice_of_str(value));
}

static void raw(struct jnl_event *ev, const char *k, const char *text) {
  if (dropped(ev)) {
    return;
  }
  key(ev, k);
  ev->overflow |= !buf_append_str(&ev->line, text);
}

void jnl_raw(struct jnl_event *ev, const char *k, const char *json) {
  raw(ev, k, json);
}

void jnl_int(struct jnl_event *ev, const char *k, int64_t value) {
  char text[24] = "-";
  /* the magnitude as unsigned: -INT64_MIN does not fit an int64_t */
  dec_u64(text + (value < 0), value < 0 ? 0 - (uint64_t) value : (uint64_t) value);
  raw(ev, k, text);
}

void jnl_uint(struct jnl_event *ev, const char *k, uint64_t value) {
  char text[24];
  dec_u64(text, value);
  raw(ev, k, text);
}

void jnl_double(struct jnl_event *ev, const char *k, double value) {
  char text[40];
  buf_fmt(text, sizeof text, "%.6g", value);
  raw(ev, k, text);
}

void jnl_bool(struct jnl_event *ev, const char *k, bool value) {
  raw(ev, k, value ? "true" : "false");
}

void jnl_null(struct jnl_event *ev, const char *k) {
  raw(ev, k, "null");
}

size_t jnl_mark(const struct jnl_event *ev) {
  return ev->line.len;
}

struct slice jnl_since(const struct jnl_event *ev, size_t mark) {
  if (dropped(ev) || ev->overflow || mark > ev->line.len) {
    return (struct slice){NULL, 0};
  }
  return (struct slice){ev->line.ptr + mark, ev->line.len - mark};
}

void jnl_fields(struct jnl_event *ev, struct slice fields) {
  if (dropped(ev) || fields.len == 0) {
    return;
  }
  ev->overflow |= !buf_append(&ev->line, fields);
  ev->need_comma[ev->depth] = true;
}

void jnl_obj_begin(struct jnl_event *ev, const char *k) {
  if (!dropped(ev)) {
    open_container(ev, k, "{");
  }
}

void jnl_obj_end(struct jnl_event *ev) {
  if (!dropped(ev)) {
    close_container(ev, "}");
  }
}

void jnl_arr_begin(struct jnl_event *ev, const char *k) {
  if (!dropped(ev)) {
    open_container(ev, k, "[");
  }
}

void jnl_arr_end(struct jnl_event *ev) {
  if (!dropped(ev)) {
    close_container(ev, "]");
  }
}

struct slice jnl_secret_scheme(struct slice value) {
  size_t scheme_len = 0;
  while (scheme_len < value.len && value.ptr[scheme_len] != ' ') {
    scheme_len++;
  }
  return (struct slice){value.ptr, scheme_len};
}

void jnl_secret_fp(char out[13], struct slice value) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(value.ptr, value.len, digest);
  hex_lower(out, digest, 6);
  out[12] = '\0';
}

void jnl_credential(struct jnl_event *ev, const char *k, struct slice value, bool clear) {
  char fp[13];
  jnl_secret_fp(fp, value);
  jnl_obj_begin(ev, k);
  jnl_strn(ev, "scheme", jnl_secret_scheme(value));
  jnl_str(ev, "sha256", fp);
  if (clear) {
    jnl_strn(ev, "value", value);
  }
  jnl_obj_end(ev);
}

void jnl_secret(struct jnl_event *ev, const char *k, struct slice value) {
  jnl_credential(ev, k, value, false);
}

bool jnl_utf8_valid(struct slice s) {
  size_t i = 0;
  while (i < s.len) {
    uint8_t c = s.ptr[i];
    size_t seq = c == 0           ? 0
                 : c < 0x80       ? 1
                 : (c >> 5) == 6  ? 2
                 : (c >> 4) == 14 ? 3
                 : (c >> 3) == 30 ? 4
                                  : 0;
    if (seq == 0 || i + seq > s.len) {
      return false;
    }
    for (size_t k = 1; k < seq; k++) {
      if ((s.ptr[i + k] & 0xc0) != 0x80) {
        return false;
      }
    }
    i += seq;
  }
  return true;
}

struct jnl_har {
  struct buf entries; /* the entry objects, comma-separated */
  size_t n_entries;
  size_t n_dropped;
};

struct jnl_har *jnl_har_new(size_t max_bytes) {
  struct jnl_har *h = xcalloc(1, sizeof *h);
  buf_init(&h->entries, max_bytes);
  return h;
}

void jnl_har_free(struct jnl_har *h) {
  if (h == NULL) {
    return;
  }
  buf_cleanup(&h->entries);
  free(h);
}

bool jnl_har_add(struct jnl_har *h, char *entry_json) {
  bool ok = false;
  if (entry_json != NULL) {
    size_t mark = h->entries.len;
    ok = (h->n_entries == 0 || buf_append_str(&h->entries, ",")) &&
         buf_append_str(&h->entries, entry_json);
    if (!ok) {
      h->entries.len = mark; /* a half-added entry would break the JSON */
      if (h->entries.ptr != NULL) {
        h->entries.ptr[mark] = 0;
      }
    }
  }
  if (ok) {
    h->n_entries++;
  } else {
    h->n_dropped++;
  }
  free(entry_json);
  return ok;
}

size_t jnl_har_n_entries(const struct jnl_har *h) {
  return h->n_entries;
}

/* har_emit writes the archive to `f`: {"log":{"version":"1.2","creator":..,"entries":[..]}}. */
static bool har_emit(const struct jnl_har *h, FILE *f, const char *creator_version) {
  struct buf head;
  buf_init(&head, 4096);
  buf_append_str(&head,
                 "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"autodisco\",\"version\":");
  jnl_escape(&head, slice_of_str(creator_version));
  buf_append_str(&head, "}");
  if (h->n_dropped > 0) {
    char comment[120];
    buf_fmt(comment, sizeof comment, "%zu later entries left out: the archive was full",
            h->n_dropped);
    buf_append_str(&head, ",\"comment\":");
    jnl_escape(&head, slice_of_str(comment));
  }
  buf_append_str(&head, ",\"entries\":[");
  bool ok =
      fwrite(head.ptr, 1, head.len, f) == head.len &&
      (h->entries.len == 0 || fwrite(h->entries.ptr, 1, h->entries.len, f) == h->entries.len) &&
      fputs("]}}\n", f) >= 0;
  buf_cleanup(&head);
  return ok;
}

bool jnl_har_write(const struct jnl_har *h, const char *path, const char *creator_version) {
  char tmp[4096];
  if (!buf_fmt(tmp, sizeof tmp, "%s.tmp", path)) {
    errno = ENAMETOOLONG;
    return false;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  FILE *f = fd < 0 || fchmod(fd, 0600) != 0 ? NULL : fdopen(fd, "w"); /* it may hold bodies */
  if (f == NULL) {
    int saved = errno;
    if (fd >= 0) {
      close(fd);
    }
    errno = saved;
    return false;
  }
  bool ok = har_emit(h, f, creator_version);
  int saved = errno;
  if (fclose(f) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  if (ok && rename(tmp, path) != 0) {
    ok = false;
    saved = errno;
  }
  if (!ok) {
    unlink(tmp);
    errno = saved;
  }
  return ok;
}

bool jnl_har_write_fd(const struct jnl_har *h, int fd, const char *creator_version) {
  int copy = dup(fd);
  FILE *f = copy < 0 ? NULL : fdopen(copy, "w");
  if (f == NULL) {
    int saved = errno;
    if (copy >= 0) {
      close(copy);
    }
    errno = saved;
    return false;
  }
  bool ok =
      ftruncate(copy, 0) == 0 && lseek(copy, 0, SEEK_SET) == 0 && har_emit(h, f, creator_version);
  int saved = errno;
  if (fclose(f) != 0 && ok) {
    ok = false;
    saved = errno;
  }
  errno = saved;
  return ok;
}
