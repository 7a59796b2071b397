/* journal/internal.h: what the JSON writer (jnl.c) and the journal's output (jnl_out.c) share. */
#ifndef AD_JOURNAL_INTERNAL_H
#define AD_JOURNAL_INTERNAL_H

#include "common/buf.h"
#include "journal/jnl.h"

#include <stddef.h>
#include <stdint.h>

/* JNL__TIME_LEN is the length of "t"'s text: 2026-11-27T21:02:56.123456Z. */
#define JNL__TIME_LEN 27

/* jnl__time formats the journal's clock now into out (JNL__TIME_LEN bytes, not terminated). */
void jnl__time(struct jnl *j, char out[JNL__TIME_LEN]);
/* jnl__line_buf gives an empty line buffer (one the journal kept from an earlier line, so an
 * event costs no allocation) capped at `max` bytes. */
struct buf jnl__line_buf(struct jnl *j, size_t max);
/* jnl__put takes a finished line (ending in "\n") and its buffer: the line is queued and
 * written now or at the next flush, the buffer kept for the next line or freed. */
void jnl__put(struct jnl *j, struct buf *line);

#endif
