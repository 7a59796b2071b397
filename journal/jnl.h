/* journal/jnl.h: the journal (one JSON object per line, flushed as it happens) and the
 * project's only JSON writer. Field and event names are DESIGN.md's (docs/journal.md).
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
/* jnl_raw inserts JSON text that jnl_doc_take produced (trusted to be valid JSON). */
void jnl_raw(struct jnl_event *ev, const char *key, const char *json);
void jnl_obj_begin(struct jnl_event *ev, const char *key);
void jnl_obj_end(struct jnl_event *ev);
void jnl_arr_begin(struct jnl_event *ev, const char *key);
void jnl_arr_end(struct jnl_event *ev);

/* jnl_escape appends `s` as a JSON string literal (with quotes) to b. */
bool jnl_escape(struct buf *b, struct slice s);
/* jnl_now_rfc3339 formats the current time as RFC 3339 UTC with microseconds. */
void jnl_now_rfc3339(char out[32]);

#endif
