/* lab/model/internal.h: what the scenario loader's files share (lab/model only). */
#ifndef AD_LAB_MODEL_INTERNAL_H
#define AD_LAB_MODEL_INTERNAL_H

#include "lab/model/scn.h"

#include <stdbool.h>
#include <stddef.h>

/* A YAML node as the schema walker sees it: built from libfyaml's events so that every node,
 * collections included, keeps the line and column it started at (libfyaml 0.7 has no public
 * start mark for a mapping or sequence node of a document). */
enum scn__kind {
  SCN__NULL = 0, /* an empty value, ~ or null */
  SCN__SCALAR,
  SCN__SEQ,
  SCN__MAP,
};

struct scn__node {
  enum scn__kind kind;
  int line, col; /* 1-based */
  char *text;    /* SCALAR: the value, NUL-terminated (never contains a NUL) */
  size_t len;    /* SCALAR: bytes in text */
  bool plain;    /* SCALAR: written without quotes (only plain scalars are numbers/booleans) */
  struct scn__node **kids; /* SEQ: items; MAP: key, value, key, value, ... */
  size_t n_kids;
};

/* scn__yaml_parse parses one YAML document into a tree. *out is NULL when the text holds no
 * document at all (empty, or only comments). On failure writes "file:line:col: message" to err
 * and returns SCN_ESYNTAX (libfyaml refused the text) or SCN_ESCHEMA (YAML we do not take:
 * aliases, tags, several documents, too deep). */
enum scn_status scn__yaml_parse(struct scn__node **out, const char *file, const char *text,
                                size_t len, char *err, size_t err_size);
/* scn__one_line replaces control characters (a newline in a quoted value) so that an error
 * message stays one line. */
void scn__one_line(char *msg);
/* scn__node_free releases a tree; NULL is fine. */
void scn__node_free(struct scn__node *n);

#endif
