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

enum {
  SCN__PATH_LEN = 256,         /* bounds a key path in messages, e.g. hosts.www.https.routes[2] */
  SCN__MAX_FILE_LEN = 1 << 20, /* a scenario, a base or a zone file: a few kilobytes; refuse
                                   anything absurd (docs/scenarios.md) */
};

/* SCN__N_ELEMS counts the elements of an array (not a pointer). */
#define SCN__N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

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
 * NUL byte, unless it is the value of a `raw:` key (a route's or an answer's raw body; the loader
 * refuses the key anywhere else). */
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
/* scn__vmessage writes one line "file:line:col: [label: ]message" into out: ":col" is left out
 * when col is 0 (zone files have no columns), and control characters in the message (a
 * newline in a quoted value) become '?' so that it stays one line. */
void scn__vmessage(char *out, size_t out_size, const char *file, unsigned long long line, int col,
                   const char *label, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));
/* scn__node_free releases a tree; NULL is fine. */
void scn__node_free(struct scn__node *n);

/* ---- the schema walker (scn_value.c: values; scn_load.c, scn_hosts.c, scn_routes.c,
 * scn_dns.c, scn_clients.c: the sections that use them) ----
 *
 * Every reader below takes the loader, and returns false after writing one
 * "file:line:col: message" (ld->st is then SCN_ESCHEMA, unless a zone file set another), which
 * stops the walk. Readers of a key take the mapping `map`, its path for messages ("" at the top
 * level, else e.g. "hosts.www.https") and the key; an optional key that is absent succeeds and
 * leaves the value where it is, so a default is set before the call. */

struct scn__ld {
  struct scn *s; /* the model being filled */
  int64_t now;   /* unix seconds at load time: "now" and "-30d" count from it */
  char *err;
  size_t err_size;
  enum scn_status st;
};

/* The wildcard argument of the DNS name readers: may the first label be "*"? */
enum { SCN__NO_WILDCARD = false, SCN__WILDCARD = true };

/* scn__fail writes "file:line:col: message" for the node `at` and returns false. */
bool scn__fail(struct scn__ld *ld, const struct scn__node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* scn__mark is where a node came from, for the model's marks. */
struct scn_mark scn__mark(const struct scn__node *n);
/* scn__path_index writes path + "[i]" into dst (SCN__PATH_LEN bytes). */
void scn__path_index(char *dst, const char *path, size_t i);
/* scn__where writes "at the top level" (path "") or "in PATH", for messages about a mapping. */
void scn__where(char *dst, size_t dst_size, const char *path);
/* scn__found describes a node for messages: "a mapping", "a sequence", "nothing" or its text
 * in quotes (cut after 40 bytes), written into tmp when it is the text. */
const char *scn__found(const struct scn__node *n, char *tmp, size_t tmp_size);
/* scn__want fails unless `n` is of `kind`. */
bool scn__want(struct scn__ld *ld, const struct scn__node *n, enum scn__kind kind,
               const char *path);
/* scn__check_keys fails unless every key of `map` is a string given once and, when `keys` is
 * not NULL, one of `keys` (NULL-terminated). */
bool scn__check_keys(struct scn__ld *ld, const struct scn__node *map, const char *path,
                     const char *const *keys);
/* scn__want_map is scn__want for a mapping, then scn__check_keys. */
bool scn__want_map(struct scn__ld *ld, const struct scn__node *n, const char *path,
                   const char *const *keys);
/* scn__missing fails: `key` is required in `map`. */
bool scn__missing(struct scn__ld *ld, const struct scn__node *map, const char *path,
                  const char *key);
/* scn__get returns the value of `key` in `map`, or NULL. */
const struct scn__node *scn__get(const struct scn__node *map, const char *key);
/* scn__child is scn__get that also writes the value's path (path.key) into p (SCN__PATH_LEN
 * bytes), for a key whose value is read by a loader of its own. */
const struct scn__node *scn__child(const struct scn__node *map, const char *path, const char *key,
                                   char *p);
/* scn__req_child is scn__child for a required key: sets *out, or fails when it is absent. */
bool scn__req_child(struct scn__ld *ld, const struct scn__node *map, const char *path,
                    const char *key, char *p, const struct scn__node **out);
/* scn__opt_seq sets *out to the sequence under `key` (left NULL when absent) and writes its path
 * into p; fails when the value is not a sequence. */
bool scn__opt_seq(struct scn__ld *ld, const struct scn__node *map, const char *path,
                  const char *key, char *p, const struct scn__node **out);

/* scn__opt_scalar / scn__req_scalar set *out to the scalar under `key` (the optional one leaves
 * it NULL when absent); they fail when it is not a scalar, or is required and absent. */
bool scn__opt_scalar(struct scn__ld *ld, const struct scn__node *map, const char *path,
                     const char *key, const struct scn__node **out);
bool scn__req_scalar(struct scn__ld *ld, const struct scn__node *map, const char *path,
                     const char *key, const struct scn__node **out);
/* scn__opt_str / scn__req_str copy a non-empty one-line string (no control characters: values
 * that end up in HTTP headers or on one line of a report); scn__req_text one that may span
 * lines. */
bool scn__opt_str(struct scn__ld *ld, const struct scn__node *map, const char *path,
                  const char *key, char **out);
bool scn__req_str(struct scn__ld *ld, const struct scn__node *map, const char *path,
                  const char *key, char **out);
bool scn__req_text(struct scn__ld *ld, const struct scn__node *map, const char *path,
                   const char *key, char **out);
/* scn__opt_u32 reads a plain number from min to max; *present (may be NULL) says whether the
 * key was there. */
bool scn__opt_u32(struct scn__ld *ld, const struct scn__node *map, const char *path,
                  const char *key, uint32_t min, uint32_t max, bool *present, uint32_t *out);
/* scn__opt_bool reads true, false, yes or no (plain, any case). */
bool scn__opt_bool(struct scn__ld *ld, const struct scn__node *map, const char *path,
                   const char *key, bool *out);
/* scn__opt_duration reads "500ms", "5s" or "2m" within [min_ms, max_ms]; *present (may be
 * NULL) says whether the key was there. */
bool scn__opt_duration(struct scn__ld *ld, const struct scn__node *map, const char *path,
                       const char *key, uint32_t min_ms, uint32_t max_ms, bool *present,
                       uint32_t *out);
/* scn__has_control says whether `s` holds a control character (a line break, a tab, ...). */
bool scn__has_control(const char *s);
/* scn__pick returns the index of `text` in the NULL-terminated `words`, or -1. */
int scn__pick(const char *text, const char *const *words, bool nocase);
/* scn__join_words writes `words` (NULL-terminated) comma-separated into dst, as far as fits. */
void scn__join_words(char *dst, size_t dst_size, const char *const *words);
/* scn__is_id says whether `s` is an id: a-z, 0-9 and - (and _ when allowed), at most 63
 * characters, not starting with -. */
bool scn__is_id(const char *s, bool allow_underscore);

/* scn__dns_name_problem says why `s` (lowercase, no trailing dot) is not a DNS name (a wildcard
 * first label allowed or not), or returns NULL when it is one. */
const char *scn__dns_name_problem(const char *s, bool wildcard);
/* scn__dns_name reads a scalar as a DNS name: lowercased, trailing dot dropped, checked. */
bool scn__dns_name(struct scn__ld *ld, const struct scn__node *n, const char *path, bool wildcard,
                   char **out);
/* scn__opt_dns_name / scn__req_dns_name read the DNS name under `key`. */
bool scn__opt_dns_name(struct scn__ld *ld, const struct scn__node *map, const char *path,
                       const char *key, bool wildcard, char **out);
bool scn__req_dns_name(struct scn__ld *ld, const struct scn__node *map, const char *path,
                       const char *key, bool wildcard, char **out);
/* scn__dns_names reads a sequence of DNS names, refusing repeats; scn__opt_dns_names the one
 * under `key`, if any. */
bool scn__dns_names(struct scn__ld *ld, const struct scn__node *seq, const char *path,
                    bool wildcard, char ***out, size_t *n_out);
bool scn__opt_dns_names(struct scn__ld *ld, const struct scn__node *map, const char *path,
                        const char *key, bool wildcard, char ***out, size_t *n_out);
/* scn__email reads a scalar as user@domain, lowercasing the domain; `what` names it in
 * messages. scn__opt_email reads the one under `key` (named by its key). */
bool scn__email(struct scn__ld *ld, const struct scn__node *n, const char *what, char **out);
bool scn__opt_email(struct scn__ld *ld, const struct scn__node *map, const char *path,
                    const char *key, char **out);
/* scn__url checks that a scalar is an http:// or https:// URL; `what` names it in messages.
 * scn__opt_url / scn__req_url copy the one under `key`. */
bool scn__url(struct scn__ld *ld, const struct scn__node *n, const char *what);
bool scn__opt_url(struct scn__ld *ld, const struct scn__node *map, const char *path,
                  const char *key, char **out);
bool scn__req_url(struct scn__ld *ld, const struct scn__node *map, const char *path,
                  const char *key, char **out);

/* scn__hex_bytes reads a scalar of hex digits, two per byte, white space between bytes ignored;
 * scn__base64_bytes one in base64 (RFC 4648, white space ignored). At most `max` bytes; `what`
 * names the value in messages. *out (owned by the caller, with a NUL after the last byte) and
 * *out_len are set on success. (scn_bytes.c) */
bool scn__hex_bytes(struct scn__ld *ld, const struct scn__node *n, const char *what, size_t max,
                    uint8_t **out, size_t *out_len);
bool scn__base64_bytes(struct scn__ld *ld, const struct scn__node *n, const char *what, size_t max,
                       uint8_t **out, size_t *out_len);

/* scn__addr_port reads a scalar as an IP address with an optional port: 192.0.2.53,
 * 192.0.2.53:5353, 2001:db8::53 or [2001:db8::53]:53 (an IPv6 address with a port is written in
 * brackets); the port is `default_port` when absent. `what` names the value in messages. Sets
 * *out_ip (the address without brackets, owned by the caller) and *out_port. */
bool scn__addr_port(struct scn__ld *ld, const struct scn__node *n, const char *what,
                    uint16_t default_port, char **out_ip, uint16_t *out_port);
/* scn__addr_text writes "ADDR:PORT", or "[ADDR]:PORT" for IPv6, into a new string. */
char *scn__addr_text(const char *ip, uint16_t port);

/* scn__load_setting reads the value `v` of setting `s` (at `path`, for messages) into `c` and
 * marks it given; a list replaces what `c` had. */
bool scn__load_setting(struct scn__ld *ld, const struct scn__node *v, const char *path,
                       const struct scn_setting *s, struct scn_client *c);
/* scn__load_settings reads every key of the mapping `map` as a setting into `c`, except the
 * keys of `other_keys` (NULL-terminated, or NULL). A setting must be of one of `kinds` (bits
 * 1 << enum scn_setting_kind; `kinds_text` says where another goes, for messages), given once
 * (its name and its alias count as one). */
bool scn__load_settings(struct scn__ld *ld, const struct scn__node *map, const char *path,
                        const char *const *other_keys, unsigned kinds, const char *kinds_text,
                        struct scn_client *c);

/* The sections of a scenario, each read into ld->s (the value under its top-level key). */
bool scn__load_hosts(struct scn__ld *ld, const struct scn__node *n);   /* scn_hosts.c */
bool scn__load_dns(struct scn__ld *ld, const struct scn__node *n);     /* scn_dns.c */
bool scn__load_clients(struct scn__ld *ld, const struct scn__node *n); /* scn_clients.c */
bool scn__load_expects(struct scn__ld *ld, const struct scn__node *n); /* scn_clients.c */
/* scn__load_upstream reads the upstream route `n` (its `upstream` key and the upstream_* keys)
 * into r->upstream (scn_upstream.c). */
bool scn__load_upstream(struct scn__ld *ld, const struct scn__node *n, const char *path,
                        struct scn_route *r);
/* scn__upstream_inherit_dns gives each upstream route that neither connects to a fixed address
 * nor names a resolver the overlay's resolver (scn_upstream.c); run once hosts and dns are read. */
void scn__upstream_inherit_dns(struct scn *s);
/* scn__load_route reads one route of a listener (scn_routes.c). */
bool scn__load_route(struct scn__ld *ld, const struct scn__node *n, const char *path,
                     struct scn_route *r);
/* scn__derive_host_names gives each host without names every record name that leads to it
 * (scn_hosts.c); run once the records are read. */
void scn__derive_host_names(struct scn *s);

#endif
