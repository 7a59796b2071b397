/* scenario/scn_yaml.c: YAML text → a small tree of nodes that remember where they started.
 *
 * libfyaml does all the YAML work; this file only collects its parser events into nodes, since
 * the schema walker needs a line and column for every node (mappings and sequences too) and
 * libfyaml 0.7's document API exposes marks for scalars only. */
#include "common/buf.h"
#include "scenario/internal.h"

#include <libfyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  MAX_DEPTH = 64,  /* a scenario is a few levels deep; this bounds the recursion */
  MAX_ITEMS = 500, /* per list or mapping: keeps the schema's pairwise checks cheap */
};

struct yparse {
  struct fy_parser *fyp;
  struct fy_diag *diag;
  const char *file;
  char *err;
  size_t err_size;
  enum scn_status st; /* SCN_OK until the first failure */
};

static bool fail_at(struct yparse *y, enum scn_status st, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static bool fail_at(struct yparse *y, enum scn_status st, int line, int col, const char *fmt, ...) {
  if (y->st != SCN_OK) {
    return false; /* keep the first message */
  }
  y->st = st;
  va_list ap;
  va_start(ap, fmt);
  scn__vmessage(y->err, y->err_size, y->file, (unsigned long long) line, col, NULL, fmt, ap);
  va_end(ap);
  return false;
}

/* fail_parser reports libfyaml's own first error with its position. */
static bool fail_parser(struct yparse *y) {
  void *iter = NULL;
  struct fy_diag_error *e = fy_diag_errors_iterate(y->diag, &iter);
  if (e != NULL && e->msg != NULL) {
    /* fy_diag_error positions are already 1-based */
    return fail_at(y, SCN_ESYNTAX, e->line > 0 ? e->line : 1, e->column > 0 ? e->column : 1, "%s",
                   e->msg);
  }
  return fail_at(y, SCN_ESYNTAX, 1, 1, "not valid YAML");
}

/* next_event returns the parser's next event; NULL (and y->st set) at an error or too early an
 * end of the stream. */
static struct fy_event *next_event(struct yparse *y) {
  struct fy_event *e = fy_parser_parse(y->fyp);
  if (e == NULL) {
    if (fy_parser_get_stream_error(y->fyp)) {
      fail_parser(y);
    } else {
      fail_at(y, SCN_ESYNTAX, 1, 1, "the YAML stream ended early");
    }
  }
  return e;
}

static void mark_of(struct fy_event *e, int fallback_line, int fallback_col, int *line, int *col) {
  const struct fy_mark *m = fy_event_start_mark(e);
  if (m != NULL && m->line >= 0 && m->column >= 0) {
    *line = m->line + 1; /* fy_mark is 0-based */
    *col = m->column + 1;
  } else {
    *line = fallback_line; /* an empty value has no token: use its key's position */
    *col = fallback_col;
  }
}

static bool is_null_text(const char *s, size_t len) {
  static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
  for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++) {
    if (strlen(nulls[i]) == len && memcmp(nulls[i], s, len) == 0) {
      return true;
    }
  }
  return false;
}

static void add_kid(struct scn__node *n, struct scn__node *kid) {
  n->kids = xrealloc_array(n->kids, n->n_kids + 1, sizeof n->kids[0]);
  n->kids[n->n_kids++] = kid;
}

static bool build(struct yparse *y, struct fy_event *e, int depth, int fb_line, int fb_col,
                  struct scn__node **out);

/* build_children reads the items of a sequence, or the keys and values of a mapping, up to its
 * end event. */
static bool build_children(struct yparse *y, struct scn__node *n, enum fy_event_type end,
                           int depth) {
  bool is_map = n->kind == SCN__MAP;
  int fb_line = n->line, fb_col = n->col;
  for (;;) {
    struct fy_event *e = next_event(y);
    if (e == NULL) {
      return false;
    }
    if (e->type == end) {
      fy_parser_event_free(y->fyp, e);
      return true;
    }
    if ((is_map ? n->n_kids / 2 : n->n_kids) >= MAX_ITEMS) {
      int line = n->line, col = n->col;
      mark_of(e, n->line, n->col, &line, &col);
      fy_parser_event_free(y->fyp, e);
      return fail_at(y, SCN_ESCHEMA, line, col, "more than %d items in one %s", MAX_ITEMS,
                     is_map ? "mapping" : "list");
    }
    struct scn__node *kid = NULL;
    bool ok = build(y, e, depth + 1, fb_line, fb_col, &kid); /* build frees e */
    if (kid != NULL) {
      add_kid(n, kid);
    }
    if (!ok) {
      return false;
    }
    if (is_map) {
      /* a value's fallback position is its key's; an item's is its sequence's */
      bool is_key = n->n_kids % 2 == 1;
      fb_line = is_key ? kid->line : n->line;
      fb_col = is_key ? kid->col : n->col;
    }
  }
}

/* build turns the node starting with event `e` (which it frees) into *out. */
static bool build(struct yparse *y, struct fy_event *e, int depth, int fb_line, int fb_col,
                  struct scn__node **out) {
  struct scn__node *n = xcalloc(1, sizeof *n);
  *out = n;
  n->file = y->file;
  mark_of(e, fb_line, fb_col, &n->line, &n->col);
  enum fy_event_type type = e->type;
  struct fy_token *tag = NULL;
  bool ok = true;
  switch (type) {
    case FYET_SCALAR: {
      tag = e->scalar.tag;
      size_t len = 0;
      const char *text = fy_token_get_text(e->scalar.value, &len);
      if (text == NULL) {
        text = "";
        len = 0;
      }
      n->plain = fy_token_scalar_style(e->scalar.value) == FYSS_PLAIN;
      if (n->plain && is_null_text(text, len)) {
        n->kind = SCN__NULL;
      } else {
        n->kind = SCN__SCALAR;
        n->text = str_ndup(text, len);
        n->len = len;
        n->has_nul = memchr(text, 0, len) != NULL; /* refused by scn__check_nuls but in raw: */
      }
      break;
    }
    case FYET_ALIAS:
      ok = fail_at(y, SCN_ESCHEMA, n->line, n->col,
                   "aliases (*name) are not supported in scenarios: write the value out");
      break;
    case FYET_MAPPING_START:
      tag = e->mapping_start.tag;
      n->kind = SCN__MAP;
      break;
    case FYET_SEQUENCE_START:
      tag = e->sequence_start.tag;
      n->kind = SCN__SEQ;
      break;
    default: ok = fail_at(y, SCN_ESYNTAX, n->line, n->col, "unexpected YAML event"); break;
  }
  if (ok && tag != NULL) {
    ok =
        fail_at(y, SCN_ESCHEMA, n->line, n->col, "YAML tags (!tag) are not supported in scenarios");
  }
  fy_parser_event_free(y->fyp, e);
  if (!ok) {
    return false;
  }
  if (n->kind == SCN__MAP || n->kind == SCN__SEQ) {
    if (depth >= MAX_DEPTH) {
      return fail_at(y, SCN_ESCHEMA, n->line, n->col, "nested deeper than %d levels", MAX_DEPTH);
    }
    return build_children(y, n, n->kind == SCN__MAP ? FYET_MAPPING_END : FYET_SEQUENCE_END, depth);
  }
  return true;
}

/* parse_stream reads STREAM-START, at most one document and STREAM-END. */
static bool parse_stream(struct yparse *y, struct scn__node **out) {
  struct fy_event *e = next_event(y);
  if (e == NULL) {
    return false;
  }
  bool ok = e->type == FYET_STREAM_START;
  fy_parser_event_free(y->fyp, e);
  if (!ok) {
    return fail_at(y, SCN_ESYNTAX, 1, 1, "not a YAML stream");
  }
  int n_docs = 0;
  for (;;) {
    e = next_event(y);
    if (e == NULL) {
      return false;
    }
    enum fy_event_type type = e->type;
    int line = 1, col = 1;
    mark_of(e, 1, 1, &line, &col);
    fy_parser_event_free(y->fyp, e);
    if (type == FYET_STREAM_END) {
      return true;
    }
    if (type != FYET_DOCUMENT_START) {
      return fail_at(y, SCN_ESYNTAX, line, col, "expected a YAML document");
    }
    if (++n_docs > 1) {
      return fail_at(y, SCN_ESCHEMA, line, col,
                     "a scenario file holds one YAML document; this is a second one");
    }
    e = next_event(y);
    if (e == NULL) {
      return false;
    }
    if (!build(y, e, 0, 1, 1, out)) {
      return false;
    }
    e = next_event(y);
    if (e == NULL) {
      return false;
    }
    ok = e->type == FYET_DOCUMENT_END;
    mark_of(e, 1, 1, &line, &col);
    fy_parser_event_free(y->fyp, e);
    if (!ok) {
      return fail_at(y, SCN_ESYNTAX, line, col, "expected the end of the YAML document");
    }
  }
}

/* utf8_bad_at returns the offset of the first byte that is not well-formed UTF-8 (RFC 3629:
 * no overlong forms, no surrogates, nothing past U+10FFFF), or len when all is well. Scenario
 * files are UTF-8; checking first also keeps malformed text away from libfyaml 0.7.12, which
 * leaks a scalar buffer on some of it. */
static size_t utf8_bad_at(const unsigned char *p, size_t len) {
  size_t i = 0;
  while (i < len) {
    unsigned char c = p[i];
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf; /* the allowed range of the second byte */
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      lo = c == 0xe0 ? 0xa0 : 0x80;
      hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      lo = c == 0xf0 ? 0x90 : 0x80;
      hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
      return i;
    }
    if (len - i <= n || p[i + 1] < lo || p[i + 1] > hi) {
      return i;
    }
    for (size_t k = 2; k <= n; k++) {
      if (p[i + k] < 0x80 || p[i + k] > 0xbf) {
        return i;
      }
    }
    i += n + 1;
  }
  return len;
}

/* fail_utf8 reports the line and column (in characters) of the first malformed byte. */
static bool fail_utf8(struct yparse *y, const char *text, size_t bad) {
  int line = 1, col = 1;
  for (size_t i = 0; i < bad; i++) {
    unsigned char c = (unsigned char) text[i];
    if (c == '\n') {
      line++;
      col = 1;
    } else if ((c & 0xc0) != 0x80) {
      col++;
    }
  }
  return fail_at(y, SCN_ESYNTAX, line, col,
                 "not valid UTF-8 (byte 0x%02x): scenario files are UTF-8",
                 (unsigned char) text[bad]);
}

enum scn_status scn__yaml_parse(struct scn__node **out, const char *file, const char *text,
                                size_t len, char *err, size_t err_size) {
  struct yparse y = {.file = file, .err = err, .err_size = err_size, .st = SCN_OK};
  *out = NULL;
  struct fy_diag_cfg dcfg;
  fy_diag_cfg_default(&dcfg);
  dcfg.fp = NULL; /* nothing reaches stderr: errors are collected and reported by us */
  dcfg.colorize = false;
  y.diag = fy_diag_create(&dcfg);
  if (y.diag == NULL) {
    abort(); /* out of memory is not an input error */
  }
  fy_diag_set_collect_errors(y.diag, true);
  struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG, .diag = y.diag};
  y.fyp = fy_parser_create(&cfg);
  if (y.fyp == NULL) {
    abort();
  }
  size_t bad = utf8_bad_at((const unsigned char *) text, len);
  if (bad < len) {
    fail_utf8(&y, text, bad);
  } else if (fy_parser_set_string(y.fyp, len == 0 ? "" : text, len) != 0) {
    fail_at(&y, SCN_ESYNTAX, 1, 1, "libfyaml refused the input");
  } else if (!parse_stream(&y, out) && y.st == SCN_OK) {
    fail_at(&y, SCN_ESYNTAX, 1, 1, "not valid YAML");
  }
  fy_parser_destroy(y.fyp);
  fy_diag_destroy(y.diag);
  if (y.st != SCN_OK) {
    scn__node_free(*out);
    *out = NULL;
  }
  return y.st;
}

void scn__vmessage(char *out, size_t out_size, const char *file, unsigned long long line, int col,
                   const char *label, const char *fmt, va_list ap) {
  char msg[768];
  vsnprintf(msg, sizeof msg, fmt, ap);
  for (char *c = msg; *c != 0; c++) {
    if ((unsigned char) *c < 0x20 || *c == 0x7f) {
      *c = '?';
    }
  }
  char where[40] = "";
  if (col > 0) {
    (void) buf_fmt(where, sizeof where, ":%d", col);
  }
  (void) buf_fmt(out, out_size, "%s:%llu%s: %s%s%s", file != NULL ? file : "?", line, where,
                 label != NULL ? label : "", label != NULL ? ": " : "", msg);
}

void scn__node_free(struct scn__node *n) {
  if (n == NULL) {
    return;
  }
  for (size_t i = 0; i < n->n_kids; i++) {
    scn__node_free(n->kids[i]);
  }
  free(n->kids);
  free(n->text);
  free(n);
}

/* nul_at walks the tree for a scalar holding a NUL; `raw_ok` is set for the value of a `raw:`
 * key, a route's (or an answer's) raw body — the loader refuses the key anywhere else. */
static const struct scn__node *nul_at(const struct scn__node *n, bool raw_ok) {
  if (n->kind == SCN__SCALAR) {
    return n->has_nul && !raw_ok ? n : NULL;
  }
  for (size_t i = 0; i < n->n_kids; i++) {
    const struct scn__node *kid = n->kids[i];
    bool kid_raw = false;
    if (n->kind == SCN__MAP && i % 2 == 1) {
      const struct scn__node *key = n->kids[i - 1];
      kid_raw = key->kind == SCN__SCALAR && !key->has_nul && strcmp(key->text, "raw") == 0;
    }
    const struct scn__node *bad = nul_at(kid, kid_raw);
    if (bad != NULL) {
      return bad;
    }
  }
  return NULL;
}

enum scn_status scn__check_nuls(const struct scn__node *root, char *err, size_t err_size) {
  const struct scn__node *bad = root == NULL ? NULL : nul_at(root, false);
  if (bad == NULL) {
    return SCN_OK;
  }
  (void) buf_fmt(err, err_size, "%s:%d:%d: a value may not contain a NUL character", bad->file,
                 bad->line, bad->col);
  return SCN_ESCHEMA;
}

const char *scn__kind_name(enum scn__kind k) {
  switch (k) {
    case SCN__NULL: return "nothing";
    case SCN__SCALAR: return "a string";
    case SCN__SEQ: return "a sequence";
    case SCN__MAP: return "a mapping";
  }
  return "?";
}

void scn__path_key(char *dst, const char *path, const char *key) {
  (void) buf_fmt(dst, SCN__PATH_LEN, "%s%s%s", path, path[0] != 0 ? "." : "", key);
}
