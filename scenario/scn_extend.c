/* scenario/scn_extend.c: `extends:` — a scenario built on another one (docs/scenarios.md,
 * "Reuse").
 *
 * The base file is parsed into its own node tree (each node remembers its file), the extending
 * file's tree is merged into it, and the schema walker then sees one tree whose every node still
 * names the file it came from. Mappings merge recursively, a scalar or a list replaces, a key set
 * to ~ removes; dns.add_records / dns.remove_records edit the base's record list. */
#include "common/buf.h"
#include "scenario/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
  MAX_CHAIN = 8, /* files in one extends: chain, the first included */
};

static bool fail_at(char *err, size_t err_size, const struct scn__node *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool fail_at(char *err, size_t err_size, const struct scn__node *at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  scn__vmessage(err, err_size, at->file, (unsigned long long) at->line, at->col, NULL, fmt, ap);
  va_end(ap);
  return false;
}

/* ---- files ---- */

bool scn__read_file(const char *path, size_t max, struct buf *out, char *why, size_t why_size) {
  buf_init(out, max);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    (void) buf_fmt(why, why_size, "%s", strerror(errno));
    return false;
  }
  bool ok = false;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    (void) buf_fmt(why, why_size, "%s", strerror(errno));
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    (void) buf_fmt(why, why_size, "not a regular file");
    goto out;
  }
  char chunk[8192];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      (void) buf_fmt(why, why_size, "%s", strerror(errno));
      goto out;
    }
    if (n == 0) {
      break;
    }
    if (!buf_append(out, (struct slice){(const uint8_t *) chunk, (size_t) n})) {
      (void) buf_fmt(why, why_size, "larger than %zu bytes", max);
      goto out;
    }
  }
  ok = true;
out:
  close(fd);
  if (!ok) {
    buf_cleanup(out);
  }
  return ok;
}

const char *scn__add_file(struct scn *s, char *path) {
  s->files = xrealloc_array(s->files, s->n_files + 1, sizeof s->files[0]);
  s->files[s->n_files++] = path;
  return path;
}

/* normalize drops "." segments and folds "dir/.." in place, as text (a path is the user's
 * spelling, shown in messages; symbolic links are not looked at). */
static void normalize(char *p) {
  bool abs = p[0] == '/';
  char *segs[256];
  size_t n = 0;
  char *save = NULL;
  char *copy = str_dup(p);
  for (char *seg = strtok_r(copy, "/", &save); seg != NULL; seg = strtok_r(NULL, "/", &save)) {
    if (strcmp(seg, ".") == 0) {
      continue;
    }
    if (strcmp(seg, "..") == 0 && n > 0 && strcmp(segs[n - 1], "..") != 0) {
      n--;
      continue;
    }
    if (strcmp(seg, "..") == 0 && n == 0 && abs) {
      continue; /* /.. is / */
    }
    if (n == sizeof segs / sizeof segs[0]) {
      free(copy);
      return; /* absurdly deep: keep it as written */
    }
    segs[n++] = seg;
  }
  size_t used = 0;
  size_t cap = strlen(p) + 1;
  p[0] = 0;
  if (abs) {
    p[used++] = '/';
    p[used] = 0;
  }
  for (size_t i = 0; i < n; i++) {
    (void) buf_fmt(p + used, cap - used, "%s%s", i > 0 ? "/" : "", segs[i]);
    used += strlen(p + used);
  }
  if (used == 0) {
    (void) buf_fmt(p, cap, ".");
  }
  free(copy);
}

char *scn__resolve_path(const char *from_file, const char *rel) {
  struct buf b;
  buf_init(&b, 8192);
  const char *slash = strrchr(from_file, '/');
  bool ok = true;
  if (rel[0] != '/' && slash != NULL) {
    ok =
        buf_append(&b, (struct slice){(const uint8_t *) from_file, (size_t) (slash - from_file)}) &&
        buf_append_str(&b, "/");
  }
  ok = ok && buf_append_str(&b, rel);
  if (!ok) {
    buf_cleanup(&b);
    return NULL;
  }
  char *p = buf_take(&b);
  normalize(p);
  return p;
}

/* ---- checks every file of a chain gets before merging ---- */

/* check_keys_deep refuses, as the schema walker would, a key that is not a string or that is
 * given twice; merging needs both settled first. */
static bool check_keys_deep(const struct scn__node *n, const char *path, char *err,
                            size_t err_size) {
  if (n->kind == SCN__SEQ) {
    for (size_t i = 0; i < n->n_kids; i++) {
      char p[SCN__PATH_LEN];
      scn__path_index(p, path, i);
      if (!check_keys_deep(n->kids[i], p, err, err_size)) {
        return false;
      }
    }
    return true;
  }
  if (n->kind != SCN__MAP) {
    return true;
  }
  char in[SCN__PATH_LEN + 32];
  scn__where(in, sizeof in, path);
  for (size_t i = 0; i + 1 < n->n_kids; i += 2) {
    const struct scn__node *k = n->kids[i];
    if (k->kind != SCN__SCALAR) {
      return fail_at(err, err_size, k, "a key %s must be a string, found %s", in,
                     scn__kind_name(k->kind));
    }
    for (size_t j = 0; j < i; j += 2) {
      if (strcmp(n->kids[j]->text, k->text) == 0) {
        return fail_at(err, err_size, k, "duplicate key \"%s\" %s (first at line %d)", k->text, in,
                       n->kids[j]->line);
      }
    }
  }
  for (size_t i = 0; i + 1 < n->n_kids; i += 2) {
    char p[SCN__PATH_LEN];
    scn__path_key(p, path, n->kids[i]->text);
    if (!check_keys_deep(n->kids[i + 1], p, err, err_size)) {
      return false;
    }
  }
  return true;
}

/* ---- merging ---- */

static size_t find_key(const struct scn__node *map, const char *key) {
  for (size_t i = 0; i + 1 < map->n_kids; i += 2) {
    if (map->kids[i]->kind == SCN__SCALAR && strcmp(map->kids[i]->text, key) == 0) {
      return i;
    }
  }
  return SIZE_MAX;
}

static struct scn__node *get(const struct scn__node *map, const char *key) {
  size_t i = find_key(map, key);
  return i == SIZE_MAX ? NULL : map->kids[i + 1];
}

/* remove_pair frees the key at index i and its value. */
static void remove_pair(struct scn__node *map, size_t i) {
  scn__node_free(map->kids[i]);
  scn__node_free(map->kids[i + 1]);
  memmove(&map->kids[i], &map->kids[i + 2], (map->n_kids - i - 2) * sizeof map->kids[0]);
  map->n_kids -= 2;
}

static void append_kid(struct scn__node *n, struct scn__node *kid) {
  n->kids = xrealloc_array(n->kids, n->n_kids + 1, sizeof n->kids[0]);
  n->kids[n->n_kids++] = kid;
}

/* strip_nulls drops the keys set to ~ from mappings (not inside lists): with nothing below them
 * in the base they remove nothing. */
static void strip_nulls(struct scn__node *n) {
  if (n->kind != SCN__MAP) {
    return;
  }
  for (size_t i = 0; i + 1 < n->n_kids;) {
    if (n->kids[i + 1]->kind == SCN__NULL) {
      remove_pair(n, i);
    } else {
      strip_nulls(n->kids[i + 1]);
      i += 2;
    }
  }
}

/* merge takes both trees and returns the merged one: `over` wins. */
static struct scn__node *merge(struct scn__node *base, struct scn__node *over) {
  if (base == NULL || base->kind != SCN__MAP || over->kind != SCN__MAP) {
    scn__node_free(base);
    strip_nulls(over);
    return over;
  }
  for (size_t i = 0; i + 1 < over->n_kids; i += 2) {
    struct scn__node *k = over->kids[i];
    struct scn__node *v = over->kids[i + 1];
    size_t at = find_key(base, k->text);
    if (v->kind == SCN__NULL) {
      if (at != SIZE_MAX) {
        remove_pair(base, at);
      }
      scn__node_free(k);
      scn__node_free(v);
      continue;
    }
    if (at == SIZE_MAX) {
      strip_nulls(v);
      append_kid(base, k);
      append_kid(base, v);
      continue;
    }
    scn__node_free(base->kids[at]);
    base->kids[at] = k; /* the key as the extending file writes it: messages point there */
    base->kids[at + 1] = merge(base->kids[at + 1], v);
  }
  /* a merged mapping is where the last file wrote it ("missing required key" points there) */
  base->file = over->file;
  base->line = over->line;
  base->col = over->col;
  free(over->kids);
  free(over);
  return base;
}

/* same_name compares two record names as the loader would: ASCII case and a trailing dot aside.
 */
static bool same_name(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 1 && a[la - 1] == '.') {
    la--;
  }
  if (lb > 1 && b[lb - 1] == '.') {
    lb--;
  }
  if (la != lb) {
    return false;
  }
  for (size_t i = 0; i < la; i++) {
    char ca = a[i], cb = b[i];
    ca = (char) (ca >= 'A' && ca <= 'Z' ? ca - 'A' + 'a' : ca);
    cb = (char) (cb >= 'A' && cb <= 'Z' ? cb - 'A' + 'a' : cb);
    if (ca != cb) {
      return false;
    }
  }
  return true;
}

static const struct scn__node *scalar_of(const struct scn__node *map, const char *key) {
  const struct scn__node *v = map->kind == SCN__MAP ? get(map, key) : NULL;
  return v != NULL && v->kind == SCN__SCALAR ? v : NULL;
}

/* dns_edits applies the extending file's dns.remove_records, then dns.add_records, to the base's
 * dns.records, and takes both keys out of `over`. */
static bool dns_edits(struct scn__node *base, struct scn__node *over, char *err, size_t err_size) {
  struct scn__node *odns = get(over, "dns");
  if (odns == NULL || odns->kind != SCN__MAP) {
    return true;
  }
  size_t add_at = find_key(odns, "add_records");
  size_t rem_at = find_key(odns, "remove_records");
  if (add_at == SIZE_MAX && rem_at == SIZE_MAX) {
    return true;
  }
  const struct scn__node *edit_key = odns->kids[add_at != SIZE_MAX ? add_at : rem_at];
  if (get(odns, "records") != NULL) {
    return fail_at(err, err_size, edit_key,
                   "dns: give records (replacing the base's) or add_records/remove_records "
                   "(editing them), not both");
  }
  struct scn__node *bdns = get(base, "dns");
  if (bdns == NULL || bdns->kind != SCN__MAP) {
    /* nothing to edit: the base's dns is replaced whole by the merge */
    bdns = NULL;
  }
  struct scn__node *brecs = bdns != NULL ? get(bdns, "records") : NULL;
  if (brecs != NULL && brecs->kind != SCN__SEQ) {
    return fail_at(err, err_size, brecs, "dns.records: expected a sequence, found %s",
                   scn__kind_name(brecs->kind));
  }
  if (rem_at != SIZE_MAX) {
    const struct scn__node *rem = odns->kids[rem_at + 1];
    if (rem->kind != SCN__SEQ) {
      return fail_at(err, err_size, rem, "dns.remove_records: expected a sequence, found %s",
                     scn__kind_name(rem->kind));
    }
    for (size_t i = 0; i < rem->n_kids; i++) {
      const struct scn__node *item = rem->kids[i];
      if (item->kind != SCN__MAP) {
        return fail_at(err, err_size, item,
                       "dns.remove_records[%zu]: expected a mapping (name, type), found %s", i,
                       scn__kind_name(item->kind));
      }
      for (size_t k = 0; k + 1 < item->n_kids; k += 2) {
        if (item->kids[k]->kind != SCN__SCALAR) {
          return fail_at(err, err_size, item->kids[k],
                         "dns.remove_records[%zu]: a key must be a string, found %s", i,
                         scn__kind_name(item->kids[k]->kind));
        }
        const char *key = item->kids[k]->text;
        if (strcmp(key, "name") != 0 && strcmp(key, "type") != 0) {
          return fail_at(err, err_size, item->kids[k],
                         "unknown key \"%s\" in dns.remove_records[%zu] (expected name, type)", key,
                         i);
        }
      }
      const struct scn__node *name = scalar_of(item, "name");
      const struct scn__node *type = get(item, "type");
      if (name == NULL) {
        return fail_at(err, err_size, get(item, "name") != NULL ? get(item, "name") : item,
                       "dns.remove_records[%zu]: needs a name (a string)", i);
      }
      if (type != NULL && type->kind != SCN__SCALAR) {
        return fail_at(err, err_size, type, "dns.remove_records[%zu].type: expected a string", i);
      }
      size_t removed = 0;
      for (size_t r = 0; brecs != NULL && r < brecs->n_kids;) {
        const struct scn__node *bn = scalar_of(brecs->kids[r], "name");
        const struct scn__node *bt = scalar_of(brecs->kids[r], "type");
        if (bn != NULL && same_name(bn->text, name->text) &&
            (type == NULL || (bt != NULL && str_eq_nocase(bt->text, type->text)))) {
          scn__node_free(brecs->kids[r]);
          memmove(&brecs->kids[r], &brecs->kids[r + 1],
                  (brecs->n_kids - r - 1) * sizeof brecs->kids[0]);
          brecs->n_kids--;
          removed++;
        } else {
          r++;
        }
      }
      if (removed == 0) {
        return fail_at(err, err_size, item,
                       "dns.remove_records[%zu]: the base has no record named %s%s%s", i,
                       name->text, type != NULL ? " of type " : "", type != NULL ? type->text : "");
      }
    }
  }
  if (add_at != SIZE_MAX) {
    struct scn__node *add = odns->kids[add_at + 1];
    if (add->kind != SCN__SEQ) {
      return fail_at(err, err_size, add, "dns.add_records: expected a sequence, found %s",
                     scn__kind_name(add->kind));
    }
    if (brecs == NULL) {
      /* the base has no records: the added ones become dns.records */
      free(odns->kids[add_at]->text);
      odns->kids[add_at]->text = str_dup("records");
      odns->kids[add_at]->len = strlen("records");
      add_at = SIZE_MAX;
    } else {
      for (size_t i = 0; i < add->n_kids; i++) {
        append_kid(brecs, add->kids[i]);
      }
      add->n_kids = 0;
    }
  }
  /* take the edit keys out (higher index first, so the other stays put) */
  rem_at = find_key(odns, "remove_records");
  add_at = find_key(odns, "add_records");
  if (rem_at != SIZE_MAX && (add_at == SIZE_MAX || rem_at > add_at)) {
    remove_pair(odns, rem_at);
    rem_at = SIZE_MAX;
  }
  if (add_at != SIZE_MAX) {
    remove_pair(odns, add_at);
  }
  if (rem_at != SIZE_MAX) {
    remove_pair(odns, rem_at);
  }
  return true;
}

/* ---- the chain ---- */

struct chain {
  const char *files[MAX_CHAIN]; /* borrowed from the scenario */
  size_t n;
};

static bool same_file(const char *a, const char *b) {
  struct stat sa, sb;
  if (stat(a, &sa) == 0 && stat(b, &sb) == 0) {
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  }
  return strcmp(a, b) == 0;
}

static enum scn_status extend(struct scn *s, struct scn__node **root, struct chain *ch, char *err,
                              size_t err_size);

/* load_base reads, parses and checks the base named by `value` (the extends: value node). */
static enum scn_status load_base(struct scn *s, const struct scn__node *value, struct chain *ch,
                                 struct scn__node **out, char *err, size_t err_size) {
  *out = NULL;
  const char *from = ch->files[ch->n - 1];
  char *resolved = scn__resolve_path(from, value->text);
  if (resolved == NULL) {
    fail_at(err, err_size, value, "extends: the path is too long");
    return SCN_ESCHEMA;
  }
  for (size_t i = 0; i < ch->n; i++) {
    if (same_file(ch->files[i], resolved)) {
      struct buf b;
      buf_init(&b, 2048);
      for (size_t j = 0; j < ch->n; j++) {
        (void) buf_appendf(&b, "%s extends ", ch->files[j]);
      }
      (void) buf_append_str(&b, resolved);
      fail_at(err, err_size, value, "extends loop: %s", buf_cstr(&b));
      buf_cleanup(&b);
      free(resolved);
      return SCN_ESCHEMA;
    }
  }
  if (ch->n >= MAX_CHAIN) {
    fail_at(err, err_size, value, "extends: a chain may hold at most %d files", MAX_CHAIN);
    free(resolved);
    return SCN_ESCHEMA;
  }
  struct buf text;
  char why[256];
  if (!scn__read_file(resolved, SCN__MAX_FILE_LEN, &text, why, sizeof why)) {
    fail_at(err, err_size, value, "extends: cannot read \"%s\": %s", resolved, why);
    free(resolved);
    return SCN_ESCHEMA; /* the scenario names a file that is not there: its own mistake */
  }
  const char *file = scn__add_file(s, resolved);
  enum scn_status st = scn__yaml_parse(out, file, buf_cstr(&text), text.len, err, err_size);
  buf_cleanup(&text);
  if (st != SCN_OK) {
    return st;
  }
  if (*out == NULL || (*out)->kind != SCN__MAP) {
    (void) buf_fmt(err, err_size, "%s:%d:%d: the base scenario is %s, not a mapping", file,
                   *out == NULL ? 1 : (*out)->line, *out == NULL ? 1 : (*out)->col,
                   *out == NULL ? "empty" : scn__kind_name((*out)->kind));
    return SCN_ESCHEMA;
  }
  st = scn__check_nuls(*out, err, err_size);
  if (st != SCN_OK) {
    return st;
  }
  if (!check_keys_deep(*out, "", err, err_size)) {
    return SCN_ESCHEMA;
  }
  ch->files[ch->n++] = file;
  return extend(s, out, ch, err, err_size);
}

/* extend resolves *root's extends: (if any) and replaces *root with the merged tree. */
static enum scn_status extend(struct scn *s, struct scn__node **root, struct chain *ch, char *err,
                              size_t err_size) {
  size_t at = find_key(*root, "extends");
  if (at == SIZE_MAX) {
    return SCN_OK;
  }
  const struct scn__node *value = (*root)->kids[at + 1];
  if (value->kind != SCN__SCALAR || value->len == 0) {
    fail_at(err, err_size, value, "extends: expected the path of a scenario file, found %s",
            value->kind == SCN__SCALAR ? "an empty string" : scn__kind_name(value->kind));
    return SCN_ESCHEMA;
  }
  struct scn__node *base = NULL;
  size_t depth = ch->n;
  enum scn_status st = load_base(s, value, ch, &base, err, err_size);
  if (st != SCN_OK) {
    scn__node_free(base);
    return st;
  }
  if (depth == 1) {
    s->extends = str_dup(ch->files[1]);
  }
  remove_pair(*root, at);
  if (!dns_edits(base, *root, err, err_size)) {
    scn__node_free(base);
    return SCN_ESCHEMA;
  }
  *root = merge(base, *root);
  return SCN_OK;
}

enum scn_status scn__extend(struct scn *s, struct scn__node **root, char *err, size_t err_size) {
  if (*root == NULL || (*root)->kind != SCN__MAP) {
    return SCN_OK;
  }
  size_t at = find_key(*root, "extends");
  if (at == SIZE_MAX || (*root)->kids[at]->kind != SCN__SCALAR) {
    return SCN_OK;
  }
  if (!check_keys_deep(*root, "", err, err_size)) {
    return SCN_ESCHEMA;
  }
  struct chain ch = {.files = {s->path}, .n = 1};
  return extend(s, root, &ch, err, err_size);
}
