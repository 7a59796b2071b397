/* lab/snapshot_internal.h: what the snapshot writer's files share (lab/snapshot.c writes the
 * scenario, lab/snapshot_routes.c the routes): the text being written and its helpers, which
 * put whatever a server sent through lab_yaml_quote or lab_yaml_comment. */
#ifndef AD_LAB_SNAPSHOT_INTERNAL_H
#define AD_LAB_SNAPSHOT_INTERNAL_H

#include "lab/snapshot.h"

#include <stdbool.h>

/* The text being written; ok turns false once something did not fit. */
struct lab__out {
  struct buf *b;
  bool ok;
};

/* lab__put appends fixed text (no value from outside: those go through lab__quote). */
void lab__put(struct lab__out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* lab__quote appends `s` as one double-quoted YAML scalar. */
void lab__quote(struct lab__out *o, const char *s);
/* lab__note writes one comment line at `indent`; its text is escaped, whatever it holds. */
void lab__note(struct lab__out *o, int indent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* lab__or_none returns s, or "none" for NULL. */
const char *lab__or_none(const char *s);

/* lab__route_path is the path a route matches: the request target without its query (caller
 * frees). */
char *lab__route_path(const char *target);
/* lab__write_route writes one route (a list item at `indent`) for the answer `r` to `method`
 * `path`, with a comment saying what came back; *slow is set when no answer came in time. */
void lab__write_route(struct lab__out *o, int indent, const char *method, const char *path,
                      const struct sim_inspection *r, bool *slow);

#endif
