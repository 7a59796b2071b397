/* journal/jnl.h: the journal (one JSON object per line, flushed as it happens) and the
 * project's only JSON writer. Field and event names are docs/journal.md's. */
#ifndef AD_JOURNAL_JNL_H
#define AD_JOURNAL_JNL_H

#include "common/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct jnl;

/* jnl_open appends events to `path` ("-" is stdout, NULL a journal that drops every event);
 * returns NULL with errno set when the file cannot be opened. */
struct jnl *jnl_open(const char *path);
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
