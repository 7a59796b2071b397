/* journal/jnl.h: the journal (one JSON object per line, written whole as it happens, or once per
 * loop iteration in serve) and the project's only JSON writer. Field and event names are
 * docs/journal.md's; when lines reach the file is its "Writing" section.
 *
 * Errors: a call that can fail returns an enum jnl_status (a code for programs, JNL_OK = 0) and
 * writes one sentence for people into the caller's (err, err_size); jnl_strerror describes a
 * code. Writing events never fails the caller: a line that cannot be written is dropped and
 * counted (jnl_n_lost), never written in part. */
#ifndef AD_JOURNAL_JNL_H
#define AD_JOURNAL_JNL_H

#include "common/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <uv.h>

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
/* jnl_open_stream writes to a stream the caller keeps owning (fwrite, then fflush at each
 * write of lines). */
struct jnl *jnl_open_stream(FILE *stream);
/* jnl_open_fd writes to the file descriptor `fd` with write(2); the caller keeps owning it. */
struct jnl *jnl_open_fd(int fd);
/* jnl_close writes what is waiting (jnl_detach first, when attached) and closes; NULL is fine. */
void jnl_close(struct jnl *j);
/* jnl_n_events counts events ended so far (written, waiting, or lost). */
uint64_t jnl_n_events(const struct jnl *j);
/* jnl_n_lost counts lines that could not be written (a write failed or came up short and the
 * line could not be completed): none of them is in the file in part. */
uint64_t jnl_n_lost(const struct jnl *j);

/* Unattached, each line is written when its event ends. jnl_attach_loop makes `j` keep its
 * lines and write them together: JNL_FLUSH_DELAY_MS after the first of them was made (checked
 * after the loop's I/O callbacks and before it waits, with a timer when it would wait longer),
 * and at once whenever 64 KiB are waiting — one write for many lines, for serve. The journal does
 * not keep the loop alive. Call jnl_detach (or jnl_close) before the loop is closed, and run the
 * loop once more for its handles' close callbacks. NULL j is fine. */
#define JNL_FLUSH_DELAY_MS 10u
void jnl_attach_loop(struct jnl *j, uv_loop_t *loop);
/* jnl_detach writes what is waiting and goes back to writing each line as it ends. */
void jnl_detach(struct jnl *j);
/* jnl_flush writes the lines waiting now; false when some were lost. NULL is fine. */
bool jnl_flush(struct jnl *j);
/* jnl_set_threshold changes the 64 KiB an attached journal lets wait (for tests). */
void jnl_set_threshold(struct jnl *j, size_t bytes);
/* jnl_set_delay changes JNL_FLUSH_DELAY_MS; 0 writes at the end of every loop iteration. */
void jnl_set_delay(struct jnl *j, unsigned ms);
/* A clock for "t": writes the current time (CLOCK_REALTIME's kind) into *out_now. */
typedef void (*jnl_clock_cb)(void *ctx, struct timespec *out_now);
/* jnl_set_clock gives `j` another clock (a test's); NULL goes back to the system's. */
void jnl_set_clock(struct jnl *j, jnl_clock_cb clock, void *ctx);

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
/* jnl_end closes the line and hands it to the journal, which writes it now (unattached) or at
 * the end of the loop iteration (jnl_attach_loop); afterwards `ev` is cleaned up. */
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
/* Fields written once and replayed: jnl_mark is where the next field of `ev` starts and
 * jnl_since the text of the fields written after it (valid until `ev` changes; empty when the
 * event is dropped or too large). jnl_fields appends such a text, taken from an event at the same
 * depth whose fields before the mark were not none — the DNS server keeps the fields of a cached
 * answer this way instead of writing them again for each query it answers. */
size_t jnl_mark(const struct jnl_event *ev);
struct slice jnl_since(const struct jnl_event *ev, size_t mark);
void jnl_fields(struct jnl_event *ev, struct slice fields);
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
