/* journal/jnl.c: JSON lines for the journal, and the one place that knows JSON escaping. */
#include "journal/jnl.h"

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

struct jnl {
  FILE *out;
  bool owned;
  uint64_t n_events;
};

const char *jnl_strerror(enum jnl_status st) {
  switch (st) {
    case JNL_OK: return "no error";
    case JNL_EIO: return "the journal file cannot be opened";
  }
  return "unknown journal error";
}

enum jnl_status jnl_open(struct jnl **out, const char *path, char *err, size_t err_size) {
  *out = NULL;
  if (path == NULL) {
    return JNL_OK;
  }
  if (strcmp(path, "-") == 0) {
    *out = jnl_open_stream(stdout);
    return JNL_OK;
  }
  FILE *f = fopen(path, "a");
  if (f == NULL) {
    buf_fmt(err, err_size, "%s: %s", path, strerror(errno));
    return JNL_EIO;
  }
  *out = jnl_open_stream(f);
  (*out)->owned = true;
  return JNL_OK;
}

struct jnl *jnl_open_stream(FILE *stream) {
  struct jnl *j = xcalloc(1, sizeof *j);
  j->out = stream;
  return j;
}

void jnl_close(struct jnl *j) {
  if (j == NULL) {
    return;
  }
  fflush(j->out);
  if (j->owned) {
    fclose(j->out);
  }
  free(j);
}

uint64_t jnl_n_events(const struct jnl *j) {
  return j == NULL ? 0 : j->n_events;
}

void jnl_now_rfc3339(char out[32]) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  char date[24];
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  buf_fmt(out, 32, "%s.%06ldZ", date, (long) tv.tv_usec);
}

bool jnl_escape(struct buf *b, struct slice s) {
  static const char hex[] = "0123456789abcdef";
  bool ok = buf_append_str(b, "\"");
  size_t i = 0;
  while (ok && i < s.len) {
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
    /* Copy a run of plain bytes; invalid UTF-8 becomes U+FFFD so the line stays valid JSON. */
    size_t seq = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
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
  return ok && buf_append_str(b, "\"");
}

static void key(struct jnl_event *ev, const char *k) {
  if (ev->need_comma[ev->depth]) {
    ev->overflow |= !buf_append_str(&ev->line, ",");
  }
  ev->need_comma[ev->depth] = true;
  if (k != NULL) {
    ev->overflow |= !jnl_escape(&ev->line, slice_of_str(k));
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

void jnl_begin(struct jnl_event *ev, struct jnl *j, const char *name) {
  memset(ev, 0, sizeof *ev);
  ev->j = j;
  buf_init(&ev->line, LINE_MAX_BYTES);
  if (j == NULL) {
    return;
  }
  char t[32];
  jnl_now_rfc3339(t);
  buf_append_str(&ev->line, "{");
  jnl_str(ev, "t", t);
  jnl_str(ev, "ev", name);
}

void jnl_end(struct jnl_event *ev) {
  if (ev->j != NULL) {
    if (ev->overflow || ev->depth != 0) {
      /* Never lose the line: say that it was too large rather than write broken JSON. */
      buf_reset(&ev->line);
      char t[32];
      jnl_now_rfc3339(t);
      buf_appendf(&ev->line, "{\"t\":\"%s\",\"ev\":\"journal.truncated\"", t);
    }
    buf_append_str(&ev->line, "}\n");
    fwrite(ev->line.ptr, 1, ev->line.len, ev->j->out);
    fflush(ev->j->out);
    ev->j->n_events++;
  }
  buf_cleanup(&ev->line);
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
  char text[24];
  buf_fmt(text, sizeof text, "%lld", (long long) value);
  raw(ev, k, text);
}

void jnl_uint(struct jnl_event *ev, const char *k, uint64_t value) {
  char text[24];
  buf_fmt(text, sizeof text, "%llu", (unsigned long long) value);
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
  for (int i = 0; i < 6; i++) {
    buf_fmt(out + 2 * i, 3, "%02x", digest[i]);
  }
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
