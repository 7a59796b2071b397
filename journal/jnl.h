/* journal/jnl.h: the journal (one JSON object per line, flushed as it happens) and the
 * project's only JSON writer. Field and event names are docs/journal.md's.
 *
 * Errors: a call that can fail returns an enum jnl_status (a code for programs, JNL_OK = 0) and
 * writes one sentence for people into the caller's (err, err_size); jnl_strerror describes a
 * code. Writing events never fails the caller: a line that cannot be written is dropped. */
#ifndef AD_JOURNAL_JNL_H
#define AD_JOURNAL_JNL_H

#include "common/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct jnl;

enum jnl_status {
  JNL_OK = 0,
  JNL_EIO, /* the journal file could not be opened for appending; the sentence says why */
};

/* jnl_strerror returns a fixed description of `st`; never NULL. */
const char *jnl_strerror(enum jnl_status st);

/* jnl_open sets *out to a journal appending to `path` ("-" is stdout; NULL gives *out = NULL,
 * a journal that drops every event). JNL_EIO with *out NULL when the file cannot be opened. */
enum jnl_status jnl_open(struct jnl **out, const char *path, char *err, size_t err_size);
/* jnl_open_stream writes to a stream the caller keeps owning. */
struct jnl *jnl_open_stream(FILE *stream);
/* jnl_close flushes and closes; NULL is fine. */
void jnl_close(struct jnl *j);
/* jnl_n_events counts events written so far. */
uint64_t jnl_n_events(const struct jnl *j);

/* A JSON value being built: an event line, or any JSON document (jnl_doc_begin). Keys are
 * ignored inside arrays (pass NULL). */
struct jnl_event {
  struct jnl *j;
  struct buf line;
  int depth;
  bool need_comma[16];
  bool overflow;
};

/* jnl_begin starts an event line {"t":..,"ev":name ...}; j may be NULL (a dropped event). */
void jnl_begin(struct jnl_event *ev, struct jnl *j, const char *name);
/* jnl_end closes the line, writes it and flushes; afterwards `ev` is cleaned up. */
void jnl_end(struct jnl_event *ev);

/* jnl_doc_begin starts a standalone JSON object (not a journal line, no "t"). */
void jnl_doc_begin(struct jnl_event *doc);
/* jnl_doc_take closes the object and hands the text (NUL-terminated) to the caller. */
char *jnl_doc_take(struct jnl_event *doc);

void jnl_str(struct jnl_event *ev, const char *key, const char *value); /* NULL → null */
void jnl_strn(struct jnl_event *ev, const char *key, struct slice value);
void jnl_int(struct jnl_event *ev, const char *key, int64_t value);
void jnl_uint(struct jnl_event *ev, const char *key, uint64_t value);
void jnl_double(struct jnl_event *ev, const char *key, double value);
void jnl_bool(struct jnl_event *ev, const char *key, bool value);
void jnl_null(struct jnl_event *ev, const char *key);
/* jnl_secret writes a credential as {"scheme":..,"sha256":first 12 hex} — never the value.
 * `value` is the whole header value, e.g. "Basic dXNlcjpwYXNz". */
void jnl_secret(struct jnl_event *ev, const char *key, struct slice value);
/* jnl_credential is jnl_secret, plus "value" (the header value in clear) when `clear` — only
 * for a lab whose operator asked for it (serve --record-credentials). */
void jnl_credential(struct jnl_event *ev, const char *key, struct slice value, bool clear);
/* jnl_secret_scheme returns the scheme word of a credential ("Basic" of "Basic dXNl..."). */
struct slice jnl_secret_scheme(struct slice value);
/* jnl_secret_fp writes the first 12 hex digits of the SHA-256 of `value`: the fingerprint
 * jnl_secret keeps. */
void jnl_secret_fp(char out[13], struct slice value);
/* jnl_utf8_valid: `s` is well-formed UTF-8 without NUL bytes (JSON text can carry it as is). */
bool jnl_utf8_valid(struct slice s);
/* jnl_raw inserts JSON text that jnl_doc_take produced (trusted to be valid JSON). */
void jnl_raw(struct jnl_event *ev, const char *key, const char *json);
void jnl_obj_begin(struct jnl_event *ev, const char *key);
void jnl_obj_end(struct jnl_event *ev);
void jnl_arr_begin(struct jnl_event *ev, const char *key);
void jnl_arr_end(struct jnl_event *ev);

/* An HTTP archive (HAR 1.2, http://www.softwareishard.com/blog/har-12-spec/) kept in memory
 * and written at once: entries are JSON objects made with jnl_doc_begin/jnl_doc_take. */
struct jnl_har;
/* jnl_har_new starts an empty archive that keeps at most `max_bytes` of entries (later ones are
 * counted and left out; the log's comment says how many). */
struct jnl_har *jnl_har_new(size_t max_bytes);
void jnl_har_free(struct jnl_har *h);
/* jnl_har_add takes `entry_json` (an object from jnl_doc_take; freed here); false when it was
 * left out because the archive is full. */
bool jnl_har_add(struct jnl_har *h, char *entry_json);
/* jnl_har_n_entries counts the entries kept. */
size_t jnl_har_n_entries(const struct jnl_har *h);
/* jnl_har_write writes {"log":{"version":"1.2","creator":..,"entries":[..]}} to `path` with mode
 * 0600 (through a temporary file renamed over it); false with errno set on failure. */
bool jnl_har_write(const struct jnl_har *h, const char *path, const char *creator_version);
/* jnl_har_write_fd writes the same document into the open file `fd` (borrowed), from its start,
 * replacing what it held: for a caller that can no longer create files where the archive goes
 * (serve after giving root up). False with errno set on failure. */
bool jnl_har_write_fd(const struct jnl_har *h, int fd, const char *creator_version);

/* jnl_escape appends `s` as a JSON string literal (with quotes) to b. */
bool jnl_escape(struct buf *b, struct slice s);
/* jnl_now_rfc3339 formats the current time as RFC 3339 UTC with microseconds. */
void jnl_now_rfc3339(char out[32]);

#endif
