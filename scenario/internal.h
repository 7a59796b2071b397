/* scenario/internal.h: what the scenario loader's files share (scenario/ only). */
#ifndef AD_SCENARIO_INTERNAL_H
#define AD_SCENARIO_INTERNAL_H

#include "scenario/scn.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A YAML node as the schema walker sees it: built from libfyaml's events so that every node,
 * collections included, keeps the line and column it started at (libfyaml 0.7 has no public
 * start mark for a mapping or sequence node of a document). */
enum scn__kind {
  SCN__NULL = 0, /* an empty value, ~ or null */
  SCN__SCALAR,
  SCN__SEQ,
  SCN__MAP,
};

/* SCN__PATH_LEN bounds a key path in messages, e.g. hosts.www.https.routes[2]. */
enum { SCN__PATH_LEN = 256 };

/* scn__kind_name describes a node kind for messages ("a mapping"). */
const char *scn__kind_name(enum scn__kind k);
/* scn__path_key writes path + "." + key into dst (SCN__PATH_LEN bytes); a path in a message
 * may be cut short: the position still says where. */
void scn__path_key(char *dst, const char *path, const char *key);

struct scn__node {
  enum scn__kind kind;
  const char *file; /* the file the node came from (owned by the scenario: scn->path or one of
                       scn->files), so that a merged tree (extends:) still names the right file */
  int line, col;    /* 1-based */
  char *text;       /* SCALAR: the value, NUL-terminated */
  size_t len;       /* SCALAR: bytes in text */
  bool has_nul;     /* SCALAR: text holds a NUL byte (only a route's raw: may; see
                       scn__check_nuls) */
  bool plain;       /* SCALAR: written without quotes (only plain scalars are numbers/booleans) */
  struct scn__node **kids; /* SEQ: items; MAP: key, value, key, value, ... */
  size_t n_kids;
};

/* scn__yaml_parse parses one YAML document into a tree. *out is NULL when the text holds no
 * document at all (empty, or only comments). On failure writes "file:line:col: message" to err
 * and returns SCN_ESYNTAX (libfyaml refused the text) or SCN_ESCHEMA (YAML we do not take:
 * aliases, tags, several documents, too deep). */
enum scn_status scn__yaml_parse(struct scn__node **out, const char *file, const char *text,
                                size_t len, char *err, size_t err_size);
/* scn__check_nuls fails (SCN_ESCHEMA, "file:line:col: ..." in err) on the first scalar holding a
 * NUL byte, unless it is a route's `raw:` body (hosts.ID.http(s).routes[i].raw). */
enum scn_status scn__check_nuls(const struct scn__node *root, char *err, size_t err_size);
/* scn__parse_duration_ms reads "500ms", "5s" or "2m" (digits, then ms, s or m) as milliseconds;
 * false when the text is not one or does not fit 32 bits. */
bool scn__parse_duration_ms(const char *s, uint32_t *out);
/* scn__parse_time reads an instant as unix seconds: an RFC 3339 timestamp
 * (2024-01-01T00:00:00Z, or with an offset), "now", or [+-]N followed by s, m, h, d or y (a year
 * is 365 days) relative to `now`; false when the text is none of these. */
bool scn__parse_time(const char *s, int64_t now, int64_t *out);
/* scn__extend resolves the extends: chain of *root (the tree of scn->path), if it has one:
 * *root becomes the merged tree, whose nodes name the files they came from (the bases' paths
 * are added to s->files), and s->extends the resolved base. On failure writes
 * "file:line:col: message" and returns the status (the tree stays the caller's to free). */
enum scn_status scn__extend(struct scn *s, struct scn__node **root, char *err, size_t err_size);
/* scn__read_file reads a whole regular file of at most `max` bytes into `out` (initialized
 * here; the caller cleans it up on success). On failure says why in `why`. */
struct buf;
bool scn__read_file(const char *path, size_t max, struct buf *out, char *why, size_t why_size);
/* scn__add_file takes `path` into s->files and returns it (for marks to borrow). */
const char *scn__add_file(struct scn *s, char *path);
/* scn__resolve_path returns `rel` resolved against the folder of `from_file` (an absolute
 * `rel` stays), with "." and "dir/.." folded as text; the caller frees it. NULL: too long. */
char *scn__resolve_path(const char *from_file, const char *rel);
/* scn__load_zone adds the records of a zone file's `text` (BIND syntax, read with libzscanner;
 * $ORIGIN defaults to `origin`, $TTL to 300) to s->records, marked with `file`, its path as
 * s->files owns it. On failure writes "file:line: message" and returns SCN_ESCHEMA. */
enum scn_status scn__load_zone(struct scn *s, const char *file, const char *text, size_t len,
                               const char *origin, char *err, size_t err_size);
/* scn__dns_name_problem says why `s` (lowercase, no trailing dot) is not a DNS name (a wildcard
 * first label allowed or not), or returns NULL when it is one. */
const char *scn__dns_name_problem(const char *s, bool wildcard);
/* scn__vmessage writes one line "file:line:col: [label: ]message" into out: ":col" is left out
 * when col is 0 (zone files have no columns), and control characters in the message (a
 * newline in a quoted value) become '?' so that it stays one line. */
void scn__vmessage(char *out, size_t out_size, const char *file, unsigned long long line, int col,
                   const char *label, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));
/* scn__node_free releases a tree; NULL is fine. */
void scn__node_free(struct scn__node *n);

#endif
