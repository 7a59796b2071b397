/* lab/model/scn_load.c: a scenario file → a validated struct scn (docs/scenarios.md).
 *
 * The YAML becomes a tree of positioned nodes (scn_yaml.c); this file walks it against the
 * schema. Every check fails with one line "file:line:col: message" that names what was expected,
 * and the first failure stops the walk. Unknown keys are errors everywhere. */
#include "lab/model/scn.h"

#include "common/buf.h"
#include "lab/model/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  MAX_FILE_LEN = 1 << 20, /* a scenario is a few kilobytes; refuse anything absurd */
  PATH_LEN = 256,         /* a key path in messages, e.g. hosts.www.https.routes[2] */
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct ld {
  struct scn *s;
  const char *file;
  char *err;
  size_t err_size;
  enum scn_status st;
};

static bool fail(struct ld *ld, const struct scn__node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(struct ld *ld, const struct scn__node *at, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  scn__one_line(msg);
  (void) buf_fmt(ld->err, ld->err_size, "%s:%d:%d: %s", ld->file, at->line, at->col, msg);
  ld->st = SCN_ESCHEMA;
  return false;
}

static struct scn_mark mark_of(const struct ld *ld, const struct scn__node *n) {
  return (struct scn_mark){ld->s->path, n->line, n->col};
}

/* ---- paths and descriptions for messages ---- */

/* A path in a message may be cut short; the position still says where. */
static void path_key(char *dst, const char *path, const char *key) {
  (void) buf_fmt(dst, PATH_LEN, "%s%s%s", path, path[0] != 0 ? "." : "", key);
}

static void path_index(char *dst, const char *path, size_t i) {
  (void) buf_fmt(dst, PATH_LEN, "%s[%zu]", path, i);
}

/* where names a mapping for "in ..." phrases. */
static void where(char *dst, size_t dst_size, const char *path) {
  if (path[0] == 0) {
    (void) buf_fmt(dst, dst_size, "at the top level");
  } else {
    (void) buf_fmt(dst, dst_size, "in %s", path);
  }
}

/* found describes a node as "a mapping", "a sequence", "nothing" or the quoted text. */
static const char *found(const struct scn__node *n, char *tmp, size_t tmp_size) {
  switch (n->kind) {
    case SCN__NULL: return "nothing";
    case SCN__SEQ: return "a sequence";
    case SCN__MAP: return "a mapping";
    case SCN__SCALAR: break;
  }
  if (n->len > 40) {
    (void) buf_fmt(tmp, tmp_size, "\"%.40s...\"", n->text);
  } else {
    (void) buf_fmt(tmp, tmp_size, "\"%s\"", n->text);
  }
  return tmp;
}

static const char *kind_name(enum scn__kind k) {
  switch (k) {
    case SCN__NULL: return "nothing";
    case SCN__SCALAR: return "a string";
    case SCN__SEQ: return "a sequence";
    case SCN__MAP: return "a mapping";
  }
  return "?";
}

static bool want(struct ld *ld, const struct scn__node *n, enum scn__kind kind, const char *path) {
  if (n->kind == kind) {
    return true;
  }
  char tmp[64];
  return fail(ld, n, "%s: expected %s, found %s", path, kind_name(kind), found(n, tmp, sizeof tmp));
}

/* ---- mappings ---- */

static const struct scn__node *get(const struct scn__node *map, const char *key) {
  for (size_t i = 0; i + 1 < map->n_kids; i += 2) {
    if (map->kids[i]->kind == SCN__SCALAR && strcmp(map->kids[i]->text, key) == 0) {
      return map->kids[i + 1];
    }
  }
  return NULL;
}

/* check_map_keys makes sure every key of `map` is a string given once. */
static bool check_map_keys(struct ld *ld, const struct scn__node *map, const char *path) {
  char in[PATH_LEN + 32];
  where(in, sizeof in, path);
  for (size_t i = 0; i + 1 < map->n_kids; i += 2) {
    const struct scn__node *k = map->kids[i];
    if (k->kind != SCN__SCALAR) {
      return fail(ld, k, "a key %s must be a string, found %s", in, kind_name(k->kind));
    }
    for (size_t j = 0; j < i; j += 2) {
      if (strcmp(map->kids[j]->text, k->text) == 0) {
        return fail(ld, k, "duplicate key \"%s\" %s (first at line %d)", k->text, in,
                    map->kids[j]->line);
      }
    }
  }
  return true;
}

/* check_keys also makes sure every key is one of `keys` (NULL-terminated). */
static bool check_keys(struct ld *ld, const struct scn__node *map, const char *path,
                       const char *const *keys) {
  if (!check_map_keys(ld, map, path)) {
    return false;
  }
  for (size_t i = 0; i + 1 < map->n_kids; i += 2) {
    const struct scn__node *k = map->kids[i];
    bool known = false;
    for (size_t j = 0; keys[j] != NULL && !known; j++) {
      known = strcmp(keys[j], k->text) == 0;
    }
    if (!known) {
      char list[512] = "";
      size_t used = 0;
      for (size_t j = 0; keys[j] != NULL; j++) {
        if (!buf_fmt(list + used, sizeof list - used, "%s%s", j > 0 ? ", " : "", keys[j])) {
          break;
        }
        used += strlen(list + used);
      }
      char in[PATH_LEN + 32];
      where(in, sizeof in, path);
      char tmp[64];
      return fail(ld, k, "unknown key %s %s (expected %s)", found(k, tmp, sizeof tmp), in, list);
    }
  }
  return true;
}

static bool missing(struct ld *ld, const struct scn__node *map, const char *path, const char *key) {
  char in[PATH_LEN + 32];
  where(in, sizeof in, path);
  return fail(ld, map, "missing required key \"%s\" %s", key, in);
}

/* ---- scalars ---- */

static bool has_control(const char *s) {
  for (; *s != 0; s++) {
    if ((unsigned char) *s < 0x20 || *s == 0x7f) {
      return true;
    }
  }
  return false;
}

/* get_text finds `key` in `map` as a string. *out stays NULL when absent and not required. */
static bool get_text(struct ld *ld, const struct scn__node *map, const char *path, const char *key,
                     bool required, const struct scn__node **out) {
  *out = get(map, key);
  if (*out == NULL) {
    return required ? missing(ld, map, path, key) : true;
  }
  char p[PATH_LEN];
  path_key(p, path, key);
  return want(ld, *out, SCN__SCALAR, p);
}

/* get_str copies `key`'s string; `line` refuses control characters (values that end up in
 * HTTP headers or on one line of a report). */
static bool get_str(struct ld *ld, const struct scn__node *map, const char *path, const char *key,
                    bool required, bool line, char **out) {
  const struct scn__node *n = NULL;
  if (!get_text(ld, map, path, key, required, &n)) {
    return false;
  }
  if (n == NULL) {
    return true;
  }
  if (n->len == 0) {
    return fail(ld, n, "%s is empty", key);
  }
  if (line && has_control(n->text)) {
    return fail(ld, n, "%s may not contain control characters or line breaks", key);
  }
  *out = str_dup(n->text);
  return true;
}

static bool get_u32(struct ld *ld, const struct scn__node *map, const char *path, const char *key,
                    uint32_t min, uint32_t max, bool *present, uint32_t *out) {
  const struct scn__node *n = get(map, key);
  *present = n != NULL;
  if (n == NULL) {
    return true;
  }
  char p[PATH_LEN];
  path_key(p, path, key);
  if (n->kind == SCN__SCALAR && !n->plain) {
    return fail(ld, n, "%s: expected a number from %u to %u, found the quoted string \"%.40s\"", p,
                (unsigned) min, (unsigned) max, n->text);
  }
  if (n->kind != SCN__SCALAR || !parse_u32(n->text, min, max, out)) {
    char tmp[64];
    return fail(ld, n, "%s: expected a number from %u to %u, found %s", p, (unsigned) min,
                (unsigned) max, found(n, tmp, sizeof tmp));
  }
  return true;
}

static bool get_bool(struct ld *ld, const struct scn__node *map, const char *path, const char *key,
                     bool *out) {
  const struct scn__node *n = get(map, key);
  if (n == NULL) {
    return true;
  }
  if (n->kind == SCN__SCALAR && n->plain) {
    if (str_eq_nocase(n->text, "true") || str_eq_nocase(n->text, "yes")) {
      *out = true;
      return true;
    }
    if (str_eq_nocase(n->text, "false") || str_eq_nocase(n->text, "no")) {
      *out = false;
      return true;
    }
  }
  char p[PATH_LEN];
  path_key(p, path, key);
  if (n->kind == SCN__SCALAR && !n->plain) {
    return fail(ld, n,
                "%s: expected a boolean (true, false, yes, no), found the quoted string "
                "\"%.40s\"",
                p, n->text);
  }
  char tmp[64];
  return fail(ld, n, "%s: expected a boolean (true, false, yes, no), found %s", p,
              found(n, tmp, sizeof tmp));
}

/* pick returns the index of `text` in the NULL-terminated `words`, or -1. */
static int pick(const char *text, const char *const *words, bool nocase) {
  for (int i = 0; words[i] != NULL; i++) {
    if (nocase ? str_eq_nocase(text, words[i]) : strcmp(text, words[i]) == 0) {
      return i;
    }
  }
  return -1;
}

static void join_words(char *dst, size_t dst_size, const char *const *words) {
  size_t used = 0;
  dst[0] = 0;
  for (size_t i = 0; words[i] != NULL; i++) {
    if (!buf_fmt(dst + used, dst_size - used, "%s%s", i > 0 ? ", " : "", words[i])) {
      return;
    }
    used += strlen(dst + used);
  }
}

/* ---- names, addresses, URLs ---- */

/* dns_name_problem says why `s` (lowercase, no trailing dot) is not a DNS name, or NULL. */
static const char *dns_name_problem(const char *s, bool wildcard) {
  size_t len = strlen(s);
  if (len == 0) {
    return "it is empty";
  }
  if (len > 253) {
    return "it is longer than 253 characters";
  }
  size_t label = 0;
  for (size_t i = 0; i <= len; i++) {
    char c = s[i];
    if (c == '.' || c == 0) {
      if (label == 0) {
        return "it has an empty label";
      }
      if (label > 63) {
        return "a label is longer than 63 characters";
      }
      label = 0;
      continue;
    }
    label++;
    if (c == '*') {
      if (!wildcard) {
        return "a wildcard (*) is not allowed here";
      }
      if (i != 0 || (s[1] != '.' && s[1] != 0)) {
        return "a wildcard (*) may only be the whole first label, as in *.contoso.com";
      }
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
      return "labels may only use a-z, 0-9, - and _";
    }
  }
  return NULL;
}

/* dns_name reads a node as a DNS name: lowercased, trailing dot dropped, checked. */
static bool dns_name(struct ld *ld, const struct scn__node *n, const char *path, bool wildcard,
                     char **out) {
  if (!want(ld, n, SCN__SCALAR, path)) {
    return false;
  }
  char *name = str_lower(str_dup(n->text));
  size_t len = strlen(name);
  if (len > 1 && name[len - 1] == '.') {
    name[len - 1] = 0;
  }
  const char *why = dns_name_problem(name, wildcard);
  if (why != NULL) {
    free(name);
    return fail(ld, n, "\"%s\" is not a valid DNS name: %s", n->text, why);
  }
  *out = name;
  return true;
}

static bool get_dns_name(struct ld *ld, const struct scn__node *map, const char *path,
                         const char *key, bool required, bool wildcard, char **out) {
  const struct scn__node *n = get(map, key);
  if (n == NULL) {
    return required ? missing(ld, map, path, key) : true;
  }
  char p[PATH_LEN];
  path_key(p, path, key);
  return dns_name(ld, n, p, wildcard, out);
}

/* dns_names reads a sequence of DNS names, refusing repeats. */
static bool dns_names(struct ld *ld, const struct scn__node *seq, const char *path, bool wildcard,
                      char ***out, size_t *n_out) {
  if (!want(ld, seq, SCN__SEQ, path)) {
    return false;
  }
  *out = xcalloc(seq->n_kids, sizeof **out);
  for (size_t i = 0; i < seq->n_kids; i++) {
    char p[PATH_LEN];
    path_index(p, path, i);
    char *name = NULL;
    if (!dns_name(ld, seq->kids[i], p, wildcard, &name)) {
      return false;
    }
    for (size_t j = 0; j < *n_out; j++) {
      if (strcmp((*out)[j], name) == 0) {
        free(name);
        return fail(ld, seq->kids[i], "%s: \"%s\" is listed twice", path, seq->kids[i]->text);
      }
    }
    (*out)[(*n_out)++] = name;
  }
  return true;
}

/* email_address checks user@domain and lowercases the domain. */
static bool email_address(struct ld *ld, const struct scn__node *n, const char *what, char **out) {
  const char *at = strrchr(n->text, '@');
  if (at == NULL || at == n->text || has_control(n->text) || strchr(n->text, ' ') != NULL ||
      memchr(n->text, '@', (size_t) (at - n->text)) != NULL) {
    return fail(ld, n, "%s \"%s\" is not an address of the form user@domain", what, n->text);
  }
  char *domain = str_lower(str_dup(at + 1));
  const char *why = dns_name_problem(domain, false);
  if (why != NULL) {
    free(domain);
    return fail(ld, n, "%s \"%s\" does not end in @ and a domain: %s", what, n->text, why);
  }
  struct buf b;
  buf_init(&b, 1024);
  if (!buf_appendf(&b, "%.*s@%s", (int) (at - n->text), n->text, domain)) {
    buf_cleanup(&b);
    free(domain);
    return fail(ld, n, "%s is too long", what);
  }
  free(domain);
  *out = buf_take(&b);
  return true;
}

static bool url(struct ld *ld, const struct scn__node *n, const char *what) {
  if (has_control(n->text) || strchr(n->text, ' ') != NULL ||
      (strncmp(n->text, "https://", 8) != 0 && strncmp(n->text, "http://", 7) != 0) ||
      n->text[n->text[4] == 's' ? 8 : 7] == 0) {
    return fail(ld, n, "%s \"%s\" is not an http:// or https:// URL", what, n->text);
  }
  return true;
}

static bool get_url(struct ld *ld, const struct scn__node *map, const char *path, const char *key,
                    bool required, char **out) {
  const struct scn__node *n = NULL;
  if (!get_text(ld, map, path, key, required, &n)) {
    return false;
  }
  if (n == NULL) {
    return true;
  }
  if (!url(ld, n, key)) {
    return false;
  }
  *out = str_dup(n->text);
  return true;
}

/* ---- top level: name, description, domain, email ---- */

static bool is_id(const char *s, bool allow_underscore) {
  if (s[0] == 0 || strlen(s) > 63 || s[0] == '-') {
    return false;
  }
  for (; *s != 0; s++) {
    char c = *s;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          (allow_underscore && c == '_'))) {
      return false;
    }
  }
  return true;
}

/* ---- hosts ---- */

static const char *const cert_profiles[] = {
    "valid", "expired", "not-yet-valid", "wrong-name", "self-signed", "untrusted-root", NULL};

static bool load_cert(struct ld *ld, const struct scn__node *n, const char *path,
                      struct scn_cert *cert) {
  static const char *const keys[] = {"profile", "names", NULL};
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, keys)) {
    return false;
  }
  cert->mark = mark_of(ld, n);
  const struct scn__node *p = NULL;
  if (!get_text(ld, n, path, "profile", true, &p)) {
    return false;
  }
  int i = pick(p->text, cert_profiles, false);
  if (i < 0) {
    char list[256];
    join_words(list, sizeof list, cert_profiles);
    return fail(ld, p, "profile \"%s\" is not a certificate profile (%s)", p->text, list);
  }
  cert->profile = (enum scn_cert_profile) i;
  cert->profile_name = str_dup(cert_profiles[i]);
  const struct scn__node *names = get(n, "names");
  if (names != NULL) {
    char np[PATH_LEN];
    path_key(np, path, "names");
    if (!dns_names(ld, names, np, true, &cert->names, &cert->n_names)) {
      return false;
    }
    if (cert->n_names == 0) {
      return fail(ld, names, "%s is empty: leave it out to use the host's names", np);
    }
  }
  return true;
}

static const char *const route_kinds[] = {"status", "redirect", "autodiscover", NULL};

static bool load_autodiscover(struct ld *ld, const struct scn__node *n, const char *path,
                              struct scn_autodiscover *ad) {
  static const char *const keys[] = {"settings", "redirect_addr", "redirect_url",
                                     "error",    "message",       NULL};
  static const char *const actions[] = {"settings", "redirect_addr", "redirect_url", "error", NULL};
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, keys)) {
    return false;
  }
  const struct scn__node *first = NULL;
  int n_actions = 0;
  for (int i = 0; actions[i] != NULL; i++) {
    const struct scn__node *v = get(n, actions[i]);
    if (v == NULL) {
      continue;
    }
    if (++n_actions > 1) {
      return fail(ld, v, "%s: give only one of settings, redirect_addr, redirect_url, error", path);
    }
    first = v;
    ad->action = (enum scn_ad_action) i;
  }
  if (first == NULL) {
    return fail(ld, n, "%s: needs one of settings, redirect_addr, redirect_url, error", path);
  }
  const struct scn__node *msg = get(n, "message");
  if (msg != NULL && ad->action != SCN_AD_ERROR) {
    return fail(ld, msg, "%s: message goes only with error", path);
  }
  char p[PATH_LEN];
  switch (ad->action) {
    case SCN_AD_SETTINGS: {
      static const char *const skeys[] = {"ews", "server", "display_name", "auth_package", NULL};
      path_key(p, path, "settings");
      return want(ld, first, SCN__MAP, p) && check_keys(ld, first, p, skeys) &&
             get_url(ld, first, p, "ews", true, &ad->ews_url) &&
             get_dns_name(ld, first, p, "server", false, false, &ad->server) &&
             get_str(ld, first, p, "display_name", false, true, &ad->display_name) &&
             get_str(ld, first, p, "auth_package", false, true, &ad->auth_package);
    }
    case SCN_AD_REDIRECT_ADDR:
      path_key(p, path, "redirect_addr");
      return want(ld, first, SCN__SCALAR, p) &&
             email_address(ld, first, "redirect_addr", &ad->redirect_addr);
    case SCN_AD_REDIRECT_URL: return get_url(ld, n, path, "redirect_url", true, &ad->redirect_url);
    case SCN_AD_ERROR: {
      bool present = false;
      return get_u32(ld, n, path, "error", 1, 999, &present, &ad->error_code) &&
             get_str(ld, n, path, "message", false, true, &ad->error_message);
    }
  }
  return true;
}

static bool load_route(struct ld *ld, const struct scn__node *n, const char *path,
                       struct scn_route *r) {
  static const char *const keys[] = {"path",         "method",   "status",   "html",         "body",
                                     "content_type", "redirect", "location", "autodiscover", NULL};
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, keys)) {
    return false;
  }
  r->mark = mark_of(ld, n);
  if (!get_str(ld, n, path, "path", true, true, &r->path) ||
      !get_str(ld, n, path, "method", false, true, &r->method)) {
    return false;
  }
  if (r->path[0] != '/' || strchr(r->path, ' ') != NULL) {
    return fail(ld, get(n, "path"), "path \"%s\" must start with / and have no spaces", r->path);
  }
  if (r->method != NULL) {
    for (char *c = r->method; *c != 0; c++) {
      if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z'))) {
        return fail(ld, get(n, "method"), "method \"%s\" is not an HTTP method (GET, POST, ...)",
                    r->method);
      }
      if (*c >= 'a' && *c <= 'z') {
        *c = (char) (*c - 'a' + 'A');
      }
    }
  }
  const struct scn__node *kind = NULL;
  for (int i = 0; route_kinds[i] != NULL; i++) {
    const struct scn__node *v = get(n, route_kinds[i]);
    if (v == NULL) {
      continue;
    }
    if (kind != NULL) {
      return fail(ld, v,
                  "%s: a route takes one of status, redirect, autodiscover, not both %s and %s",
                  path, route_kinds[r->kind], route_kinds[i]);
    }
    kind = v;
    r->kind = (enum scn_route_kind) i;
  }
  if (kind == NULL) {
    return fail(ld, n, "%s: a route needs one of status, redirect, autodiscover", path);
  }
  static const char *const status_only[] = {"html", "body", "content_type", NULL};
  for (int i = 0; status_only[i] != NULL; i++) {
    const struct scn__node *v = get(n, status_only[i]);
    if (v != NULL && r->kind != SCN_ROUTE_STATUS) {
      return fail(ld, v, "%s: %s goes only with status", path, status_only[i]);
    }
  }
  const struct scn__node *loc = get(n, "location");
  if (loc != NULL && r->kind != SCN_ROUTE_REDIRECT) {
    return fail(ld, loc, "%s: location goes only with redirect", path);
  }
  bool present = false;
  uint32_t v = 0;
  switch (r->kind) {
    case SCN_ROUTE_STATUS: {
      if (!get_u32(ld, n, path, "status", 100, 599, &present, &v)) {
        return false;
      }
      r->status = (uint16_t) v;
      const struct scn__node *html = get(n, "html");
      const struct scn__node *body = get(n, "body");
      const struct scn__node *ct = get(n, "content_type");
      if (html != NULL && body != NULL) {
        return fail(ld, body, "%s: give html or body, not both", path);
      }
      if (html != NULL && ct != NULL) {
        return fail(ld, ct, "%s: content_type goes with body; html is always text/html", path);
      }
      if (ct != NULL && body == NULL) {
        return fail(ld, ct, "%s: content_type needs body", path);
      }
      if (html != NULL) {
        char p[PATH_LEN];
        path_key(p, path, "html");
        if (!want(ld, html, SCN__SCALAR, p)) {
          return false;
        }
        r->body = str_dup(html->text);
        r->content_type = str_dup("text/html; charset=utf-8");
      }
      if (body != NULL) {
        char p[PATH_LEN];
        path_key(p, path, "body");
        if (!want(ld, body, SCN__SCALAR, p)) {
          return false;
        }
        r->body = str_dup(body->text);
      }
      return get_str(ld, n, path, "content_type", false, true, &r->content_type);
    }
    case SCN_ROUTE_REDIRECT: {
      char p[PATH_LEN];
      path_key(p, path, "redirect");
      if (kind->kind != SCN__SCALAR || !kind->plain || !parse_u32(kind->text, 301, 308, &v) ||
          (v != 301 && v != 302 && v != 307 && v != 308)) {
        char tmp[64];
        return fail(ld, kind, "%s: expected 301, 302, 307 or 308, found %s", p,
                    found(kind, tmp, sizeof tmp));
      }
      r->status = (uint16_t) v;
      if (loc == NULL) {
        char in[PATH_LEN + 32];
        where(in, sizeof in, path);
        return fail(ld, n, "missing required key \"location\" %s (a redirect needs it)", in);
      }
      return get_str(ld, n, path, "location", true, true, &r->location);
    }
    case SCN_ROUTE_AUTODISCOVER: {
      char p[PATH_LEN];
      path_key(p, path, "autodiscover");
      r->status = 200;
      return load_autodiscover(ld, kind, p, &r->ad);
    }
    case SCN_ROUTE_AUTODISCOVER_V2: /* TODO(#3): not made by the loader yet */
    case SCN_ROUTE_SOAP: break;
  }
  return true;
}

static bool load_listener(struct ld *ld, const struct scn__node *n, const char *path, bool https,
                          struct scn_listener *l) {
  static const char *const https_keys[] = {"certificate", "routes", NULL};
  static const char *const http_keys[] = {"routes", NULL};
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, https ? https_keys : http_keys)) {
    return false;
  }
  l->present = true;
  l->mark = mark_of(ld, n);
  if (https) {
    const struct scn__node *c = get(n, "certificate");
    if (c == NULL) {
      l->cert.profile = SCN_CERT_VALID; /* the common case needs no words */
      l->cert.profile_name = str_dup("valid");
      l->cert.mark = l->mark;
    } else {
      char p[PATH_LEN];
      path_key(p, path, "certificate");
      if (!load_cert(ld, c, p, &l->cert)) {
        return false;
      }
    }
  }
  const struct scn__node *routes = get(n, "routes");
  if (routes == NULL) {
    return true;
  }
  char rp[PATH_LEN];
  path_key(rp, path, "routes");
  if (!want(ld, routes, SCN__SEQ, rp)) {
    return false;
  }
  l->routes = xcalloc(routes->n_kids, sizeof l->routes[0]);
  for (size_t i = 0; i < routes->n_kids; i++) {
    char p[PATH_LEN];
    path_index(p, rp, i);
    struct scn_route *r = &l->routes[l->n_routes++];
    if (!load_route(ld, routes->kids[i], p, r)) {
      return false;
    }
    for (size_t j = 0; j + 1 < l->n_routes; j++) {
      const struct scn_route *o = &l->routes[j];
      if (str_eq_nocase(o->path, r->path) &&
          ((o->method == NULL && r->method == NULL) ||
           (o->method != NULL && r->method != NULL && strcmp(o->method, r->method) == 0))) {
        return fail(ld, routes->kids[i], "%s: path \"%s\" already has a route at line %d", p,
                    r->path, o->mark.line);
      }
    }
  }
  return true;
}

static bool loopback_address(struct ld *ld, const struct scn__node *n, char **out) {
  struct in_addr v4;
  struct in6_addr v6;
  if (inet_pton(AF_INET, n->text, &v4) == 1) {
    if ((ntohl(v4.s_addr) >> 24) != 127) {
      return fail(ld, n,
                  "address \"%s\" is not a loopback address (the lab binds only 127.0.0.0/8 and "
                  "::1)",
                  n->text);
    }
  } else if (inet_pton(AF_INET6, n->text, &v6) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6)) {
      return fail(ld, n,
                  "address \"%s\" is not a loopback address (the lab binds only 127.0.0.0/8 and "
                  "::1)",
                  n->text);
    }
  } else {
    return fail(ld, n, "address \"%s\" is not an IPv4 or IPv6 address", n->text);
  }
  *out = str_dup(n->text);
  return true;
}

static bool load_host(struct ld *ld, const struct scn__node *key, const struct scn__node *n,
                      struct scn_host *h) {
  static const char *const keys[] = {"names", "address", "https", "http", NULL};
  char path[PATH_LEN];
  path_key(path, "hosts", key->text);
  h->id = str_dup(key->text);
  h->mark = mark_of(ld, key);
  if (!is_id(key->text, true)) {
    return fail(ld, key,
                "host id \"%s\" may only use a-z, 0-9, - and _ (at most 63, not starting with -)",
                key->text);
  }
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, keys)) {
    return false;
  }
  const struct scn__node *names = get(n, "names");
  if (names != NULL) {
    char p[PATH_LEN];
    path_key(p, path, "names");
    if (!dns_names(ld, names, p, true, &h->names, &h->n_names)) {
      return false;
    }
  }
  const struct scn__node *addr = NULL;
  if (!get_text(ld, n, path, "address", false, &addr)) {
    return false;
  }
  if (addr != NULL) {
    if (!loopback_address(ld, addr, &h->address)) {
      return false;
    }
    for (size_t i = 0; i < ld->s->n_hosts; i++) {
      const struct scn_host *o = &ld->s->hosts[i];
      if (o != h && o->address != NULL && strcmp(o->address, h->address) == 0) {
        return fail(ld, addr, "address \"%s\" is already host \"%s\"'s", h->address, o->id);
      }
    }
  }
  const struct scn__node *https = get(n, "https");
  const struct scn__node *http = get(n, "http");
  char p[PATH_LEN];
  if (https != NULL) {
    path_key(p, path, "https");
    if (!load_listener(ld, https, p, true, &h->https)) {
      return false;
    }
  }
  if (http != NULL) {
    path_key(p, path, "http");
    if (!load_listener(ld, http, p, false, &h->http)) {
      return false;
    }
  }
  return true;
}

static bool load_hosts(struct ld *ld, const struct scn__node *n) {
  if (!want(ld, n, SCN__MAP, "hosts") || !check_map_keys(ld, n, "hosts")) {
    return false;
  }
  struct scn *s = ld->s;
  s->hosts = xcalloc(n->n_kids / 2, sizeof s->hosts[0]);
  for (size_t i = 0; i + 1 < n->n_kids; i += 2) {
    if (!load_host(ld, n->kids[i], n->kids[i + 1], &s->hosts[s->n_hosts++])) {
      return false;
    }
  }
  return true;
}

/* ---- dns ---- */

struct rtype {
  const char *name;
  uint16_t type;
  const char *const *keys; /* the keys this type takes besides name and type */
};

static const char *const keys_a[] = {"host", "address", "ttl", NULL};
static const char *const keys_target[] = {"target", "ttl", NULL};
static const char *const keys_mx[] = {"priority", "target", "ttl", NULL};
static const char *const keys_srv[] = {"priority", "weight", "port", "target", "ttl", NULL};
static const char *const keys_txt[] = {"text", "ttl", NULL};

static const struct rtype rtypes[] = {
    {"A", 1, keys_a},       {"AAAA", 28, keys_a}, {"CNAME", 5, keys_target}, {"SRV", 33, keys_srv},
    {"NS", 2, keys_target}, {"MX", 15, keys_mx},  {"TXT", 16, keys_txt},
};

static bool in_zones(const struct scn *s, const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; i < s->n_zones; i++) {
    size_t zl = strlen(s->zones[i]);
    if (len == zl && strcmp(name, s->zones[i]) == 0) {
      return true;
    }
    if (len > zl && name[len - zl - 1] == '.' && strcmp(name + len - zl, s->zones[i]) == 0) {
      return true;
    }
  }
  return false;
}

static bool load_record(struct ld *ld, const struct scn__node *n, const char *path,
                        struct scn_record *r) {
  static const char *const keys[] = {"name",     "type",   "ttl",  "host", "address", "target",
                                     "priority", "weight", "port", "text", NULL};
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, keys)) {
    return false;
  }
  r->mark = mark_of(ld, n);
  const struct scn__node *tn = NULL;
  if (!get_dns_name(ld, n, path, "name", true, true, &r->name) ||
      !get_text(ld, n, path, "type", true, &tn)) {
    return false;
  }
  const struct rtype *rt = NULL;
  for (size_t i = 0; i < N_ELEMS(rtypes) && rt == NULL; i++) {
    if (str_eq_nocase(tn->text, rtypes[i].name)) {
      rt = &rtypes[i];
    }
  }
  if (rt == NULL) {
    return fail(ld, tn, "record type \"%s\" is not supported (A, AAAA, CNAME, SRV, NS, MX, TXT)",
                tn->text);
  }
  r->type = rt->type;
  for (size_t i = 0; i + 1 < n->n_kids; i += 2) {
    const char *k = n->kids[i]->text;
    if (strcmp(k, "name") != 0 && strcmp(k, "type") != 0 && pick(k, rt->keys, false) < 0) {
      char list[128];
      join_words(list, sizeof list, rt->keys);
      return fail(ld, n->kids[i], "key \"%s\" does not apply to a %s record (it takes %s)", k,
                  rt->name, list);
    }
  }
  if (ld->s->n_zones > 0 && !in_zones(ld->s, r->name)) {
    return fail(ld, n, "record name \"%s\" is outside the zones listed in dns.zones", r->name);
  }
  bool present = false;
  uint32_t v = 300;
  if (!get_u32(ld, n, path, "ttl", 0, 2147483647u, &present, &v)) {
    return false;
  }
  r->ttl = present ? v : 300;
  switch (rt->type) {
    case 1:
    case 28: {
      const struct scn__node *host = NULL;
      const struct scn__node *addr = NULL;
      if (!get_text(ld, n, path, "host", false, &host) ||
          !get_text(ld, n, path, "address", false, &addr)) {
        return false;
      }
      if (host != NULL && addr != NULL) {
        return fail(ld, addr, "%s: an %s record takes host or address, not both", path, rt->name);
      }
      if (host == NULL && addr == NULL) {
        return fail(ld, n, "%s: an %s record needs host (a host under hosts) or address", path,
                    rt->name);
      }
      if (host != NULL) {
        const struct scn_host *h = scn_host_find(ld->s, host->text);
        if (h == NULL) {
          return fail(ld, host, "host \"%s\" in this record is not defined under hosts",
                      host->text);
        }
        if (h->address != NULL && (strchr(h->address, ':') != NULL) != (rt->type == 28)) {
          return fail(ld, host, "an %s record needs an %s address, but host \"%s\" has %s",
                      rt->name, rt->type == 28 ? "IPv6" : "IPv4", h->id, h->address);
        }
        r->host = str_dup(host->text);
        return true;
      }
      unsigned char bin[16];
      if (inet_pton(rt->type == 1 ? AF_INET : AF_INET6, addr->text, bin) != 1) {
        return fail(ld, addr, "address \"%s\" is not an %s address", addr->text,
                    rt->type == 1 ? "IPv4" : "IPv6");
      }
      r->address = str_dup(addr->text);
      return true;
    }
    case 16:
      if (!get_text(ld, n, path, "text", true, &tn)) {
        return false;
      }
      r->text = str_dup(tn->text);
      return true;
    default: break;
  }
  if (!get_dns_name(ld, n, path, "target", true, false, &r->target)) {
    return false;
  }
  uint32_t prio = 0, weight = 0, port = 0;
  if (!get_u32(ld, n, path, "priority", 0, 65535, &present, &prio) ||
      !get_u32(ld, n, path, "weight", 0, 65535, &present, &weight) ||
      !get_u32(ld, n, path, "port", 0, 65535, &present, &port)) {
    return false;
  }
  if (rt->type == 33 && !present) {
    return missing(ld, n, path, "port");
  }
  r->priority = (uint16_t) prio;
  r->weight = (uint16_t) weight;
  r->port = (uint16_t) port;
  return true;
}

static const char *const behaviours[] = {"nxdomain", "servfail", "timeout", NULL};

static bool load_rule(struct ld *ld, const struct scn__node *n, const char *path,
                      struct scn_dns_rule *rule) {
  static const char *const keys[] = {"name", "answer", NULL};
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, keys)) {
    return false;
  }
  rule->mark = mark_of(ld, n);
  const struct scn__node *a = NULL;
  if (!get_dns_name(ld, n, path, "name", true, false, &rule->name) ||
      !get_text(ld, n, path, "answer", true, &a)) {
    return false;
  }
  int i = pick(a->text, behaviours, false);
  if (i < 0) {
    return fail(ld, a, "answer \"%s\" is not a DNS behaviour (nxdomain, servfail, timeout)",
                a->text);
  }
  rule->behaviour = (enum scn_dns_behaviour)(i + 1);
  return true;
}

static bool load_dns(struct ld *ld, const struct scn__node *n) {
  static const char *const keys[] = {"zones", "records", "behaviours", NULL};
  struct scn *s = ld->s;
  if (!want(ld, n, SCN__MAP, "dns") || !check_keys(ld, n, "dns", keys)) {
    return false;
  }
  const struct scn__node *zones = get(n, "zones");
  if (zones != NULL && !dns_names(ld, zones, "dns.zones", false, &s->zones, &s->n_zones)) {
    return false;
  }
  const struct scn__node *records = get(n, "records");
  if (records != NULL) {
    if (!want(ld, records, SCN__SEQ, "dns.records")) {
      return false;
    }
    s->records = xcalloc(records->n_kids, sizeof s->records[0]);
    for (size_t i = 0; i < records->n_kids; i++) {
      char p[PATH_LEN];
      path_index(p, "dns.records", i);
      struct scn_record *r = &s->records[s->n_records++];
      if (!load_record(ld, records->kids[i], p, r)) {
        return false;
      }
      for (size_t j = 0; j + 1 < s->n_records; j++) {
        const struct scn_record *o = &s->records[j];
        if (strcmp(o->name, r->name) == 0 && (o->type == 5 || r->type == 5)) {
          /* RFC 1034 3.6.2: a CNAME is the only record of its name */
          return fail(ld, records->kids[i],
                      "%s has a CNAME record (line %d), so it can have no other record", r->name,
                      (o->type == 5 ? o : r)->mark.line);
        }
      }
    }
  }
  const struct scn__node *rules = get(n, "behaviours");
  if (rules != NULL) {
    if (!want(ld, rules, SCN__SEQ, "dns.behaviours")) {
      return false;
    }
    s->rules = xcalloc(rules->n_kids, sizeof s->rules[0]);
    for (size_t i = 0; i < rules->n_kids; i++) {
      char p[PATH_LEN];
      path_index(p, "dns.behaviours", i);
      struct scn_dns_rule *rule = &s->rules[s->n_rules++];
      if (!load_rule(ld, rules->kids[i], p, rule)) {
        return false;
      }
      for (size_t j = 0; j + 1 < s->n_rules; j++) {
        if (strcmp(s->rules[j].name, rule->name) == 0) {
          return fail(ld, rules->kids[i], "%s already has a behaviour at line %d", rule->name,
                      s->rules[j].mark.line);
        }
      }
    }
  }
  return true;
}

/* ---- clients and expectations ---- */

static bool model_name(struct ld *ld, const struct scn__node *n, const char *path, char **out) {
  if (!want(ld, n, SCN__SCALAR, path)) {
    return false;
  }
  for (const char *c = n->text; *c != 0; c++) {
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.')) {
      return fail(ld, n, "client model \"%s\" may only use a-z, 0-9, - and .", n->text);
    }
  }
  if (n->len == 0) {
    return fail(ld, n, "%s: the client model is empty", path);
  }
  *out = str_dup(n->text);
  return true;
}

static bool load_client(struct ld *ld, const struct scn__node *n, const char *path,
                        struct scn_client *c) {
  static const char *const keys[] = {"model",
                                     "exclude_https_root_domain",
                                     "exclude_https_autodiscover_domain",
                                     "exclude_http_redirect",
                                     "exclude_srv_record",
                                     "certificate_prompt_answer",
                                     NULL};
  c->mark = mark_of(ld, n);
  if (n->kind == SCN__SCALAR) {
    return model_name(ld, n, path, &c->model);
  }
  if (n->kind != SCN__MAP) {
    char tmp[64];
    return fail(ld, n, "%s: expected a client model name or a mapping, found %s", path,
                found(n, tmp, sizeof tmp));
  }
  if (!check_keys(ld, n, path, keys)) {
    return false;
  }
  const struct scn__node *m = get(n, "model");
  if (m == NULL) {
    return missing(ld, n, path, "model");
  }
  char p[PATH_LEN];
  path_key(p, path, "model");
  if (!model_name(ld, m, p, &c->model) ||
      !get_bool(ld, n, path, "exclude_https_root_domain", &c->exclude_https_root_domain) ||
      !get_bool(ld, n, path, "exclude_https_autodiscover_domain",
                &c->exclude_https_autodiscover_domain) ||
      !get_bool(ld, n, path, "exclude_http_redirect", &c->exclude_http_redirect) ||
      !get_bool(ld, n, path, "exclude_srv_record", &c->exclude_srv_record)) {
    return false;
  }
  const struct scn__node *a = NULL;
  if (!get_text(ld, n, path, "certificate_prompt_answer", false, &a)) {
    return false;
  }
  if (a != NULL) {
    if (str_eq_nocase(a->text, "no")) {
      c->answer_no_to_certificate_prompts = true;
    } else if (!str_eq_nocase(a->text, "yes")) {
      return fail(ld, a, "certificate_prompt_answer must be yes or no, found \"%s\"", a->text);
    }
  }
  return true;
}

static bool load_clients(struct ld *ld, const struct scn__node *n) {
  struct scn *s = ld->s;
  if (!want(ld, n, SCN__SEQ, "clients")) {
    return false;
  }
  s->clients = xcalloc(n->n_kids, sizeof s->clients[0]);
  for (size_t i = 0; i < n->n_kids; i++) {
    char p[PATH_LEN];
    path_index(p, "clients", i);
    struct scn_client *c = &s->clients[s->n_clients++];
    if (!load_client(ld, n->kids[i], p, c)) {
      return false;
    }
    for (size_t j = 0; j + 1 < s->n_clients; j++) {
      if (strcmp(s->clients[j].model, c->model) == 0) {
        return fail(ld, n->kids[i], "client \"%s\" is listed twice", c->model);
      }
    }
  }
  return true;
}

static const char *const prompt_kinds[] = {"certificate", "redirect", "credentials", NULL};
static const char *const cert_reasons[] = {"expired", "not-yet-valid", "name", "untrusted", NULL};
static const char *const outcomes[] = {"settings", "failure", NULL};

static bool load_prompt(struct ld *ld, const struct scn__node *n, const char *path,
                        struct scn_prompt_expect *pe) {
  static const char *const keys[] = {"kind", "host", "reason", NULL};
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, keys)) {
    return false;
  }
  pe->mark = mark_of(ld, n);
  const struct scn__node *k = NULL;
  if (!get_text(ld, n, path, "kind", true, &k)) {
    return false;
  }
  int kind = pick(k->text, prompt_kinds, false);
  if (kind < 0) {
    return fail(ld, k, "prompt kind \"%s\" is not one of certificate, redirect, credentials",
                k->text);
  }
  pe->kind = str_dup(k->text);
  const struct scn__node *reason = NULL;
  if (!get_dns_name(ld, n, path, "host", false, false, &pe->host) ||
      !get_text(ld, n, path, "reason", false, &reason)) {
    return false;
  }
  if (reason != NULL) {
    if (kind == 0 && pick(reason->text, cert_reasons, false) < 0) {
      return fail(ld, reason,
                  "reason \"%s\" is not a certificate prompt reason (expired, not-yet-valid, "
                  "name, untrusted)",
                  reason->text);
    }
    if (reason->len == 0 || has_control(reason->text)) {
      return fail(ld, reason, "reason must be one line of text");
    }
    pe->reason = str_dup(reason->text);
  }
  return true;
}

static bool load_expect(struct ld *ld, const struct scn__node *key, const struct scn__node *n,
                        struct scn_expect *e) {
  static const char *const keys[] = {"prompts", "outcome", "final_url", "ews_url", NULL};
  struct scn *s = ld->s;
  e->client = str_dup(key->text);
  e->mark = mark_of(ld, key);
  bool listed = false;
  for (size_t i = 0; i < s->n_clients && !listed; i++) {
    listed = strcmp(s->clients[i].model, key->text) == 0;
  }
  if (!listed) {
    struct buf b;
    buf_init(&b, 512);
    for (size_t i = 0; i < s->n_clients; i++) {
      (void) buf_appendf(&b, "%s%s", i > 0 ? ", " : "", s->clients[i].model);
    }
    bool r = fail(ld, key, "expect names client \"%s\", which is not listed in clients (%s)",
                  key->text, s->n_clients > 0 ? buf_cstr(&b) : "none are");
    buf_cleanup(&b);
    return r;
  }
  char path[PATH_LEN];
  path_key(path, "expect", key->text);
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, keys)) {
    return false;
  }
  const struct scn__node *prompts = get(n, "prompts");
  if (prompts != NULL) {
    char pp[PATH_LEN];
    path_key(pp, path, "prompts");
    if (!want(ld, prompts, SCN__SEQ, pp)) {
      return false;
    }
    e->has_prompts = true;
    e->prompts = xcalloc(prompts->n_kids, sizeof e->prompts[0]);
    for (size_t i = 0; i < prompts->n_kids; i++) {
      char p[PATH_LEN];
      path_index(p, pp, i);
      if (!load_prompt(ld, prompts->kids[i], p, &e->prompts[e->n_prompts++])) {
        return false;
      }
    }
  }
  const struct scn__node *o = NULL;
  if (!get_text(ld, n, path, "outcome", false, &o)) {
    return false;
  }
  if (o != NULL) {
    if (pick(o->text, outcomes, false) < 0) {
      return fail(ld, o, "outcome \"%s\" is not settings or failure", o->text);
    }
    e->outcome = str_dup(o->text);
  }
  return get_url(ld, n, path, "final_url", false, &e->final_url) &&
         get_url(ld, n, path, "ews_url", false, &e->ews_url);
}

static bool load_expects(struct ld *ld, const struct scn__node *n) {
  struct scn *s = ld->s;
  if (!want(ld, n, SCN__MAP, "expect") || !check_map_keys(ld, n, "expect")) {
    return false;
  }
  s->expects = xcalloc(n->n_kids / 2, sizeof s->expects[0]);
  for (size_t i = 0; i + 1 < n->n_kids; i += 2) {
    if (!load_expect(ld, n->kids[i], n->kids[i + 1], &s->expects[s->n_expects++])) {
      return false;
    }
  }
  return true;
}

/* ---- derived values ---- */

static bool has_name(char *const *names, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++) {
    if (strcmp(names[i], name) == 0) {
      return true;
    }
  }
  return false;
}

static void add_name(struct scn_host *h, const char *name) {
  h->names = xrealloc_array(h->names, h->n_names + 1, sizeof h->names[0]);
  h->names[h->n_names++] = str_dup(name);
}

/* derive_names gives a host without names: every A/AAAA name pointing at it, then every CNAME
 * that leads to one of those, through chains (each name added is searched for in turn). */
static void derive_names(struct scn *s, struct scn_host *h) {
  for (size_t i = 0; i < s->n_records; i++) {
    const struct scn_record *r = &s->records[i];
    if ((r->type == 1 || r->type == 28) && r->host != NULL && strcmp(r->host, h->id) == 0 &&
        !has_name(h->names, h->n_names, r->name)) {
      add_name(h, r->name);
    }
  }
  for (size_t k = 0; k < h->n_names; k++) {
    for (size_t i = 0; i < s->n_records; i++) {
      const struct scn_record *r = &s->records[i];
      if (r->type == 5 && strcmp(r->target, h->names[k]) == 0 &&
          !has_name(h->names, h->n_names, r->name)) {
        add_name(h, r->name);
      }
    }
  }
}

/* ---- the whole file ---- */

static bool load_top(struct ld *ld, const struct scn__node *root) {
  static const char *const keys[] = {"name",  "description", "domain", "email", "dns",
                                     "hosts", "clients",     "expect", NULL};
  struct scn *s = ld->s;
  if (root->kind != SCN__MAP) {
    char tmp[64];
    return fail(ld, root, "a scenario is a mapping (name, description, domain, ...), found %s",
                found(root, tmp, sizeof tmp));
  }
  if (!check_keys(ld, root, "", keys)) {
    return false;
  }
  const struct scn__node *name = NULL;
  if (!get_text(ld, root, "", "name", true, &name)) {
    return false;
  }
  if (!is_id(name->text, false)) {
    return fail(ld, name, "name \"%s\" may only use a-z, 0-9 and - (at most 63 characters)",
                name->text);
  }
  s->name = str_dup(name->text);
  if (!get_str(ld, root, "", "description", true, false, &s->description) ||
      !get_dns_name(ld, root, "", "domain", true, false, &s->domain)) {
    return false;
  }
  const struct scn__node *email = NULL;
  if (!get_text(ld, root, "", "email", false, &email)) {
    return false;
  }
  if (email != NULL) {
    if (!email_address(ld, email, "email", &s->email)) {
      return false;
    }
  } else {
    struct buf b;
    buf_init(&b, 512);
    if (!buf_appendf(&b, "user@%s", s->domain)) {
      abort(); /* a checked domain is at most 253 characters */
    }
    s->email = buf_take(&b);
  }
  const struct scn__node *v = get(root, "hosts");
  if (v != NULL && !load_hosts(ld, v)) {
    return false;
  }
  v = get(root, "dns");
  if (v != NULL && !load_dns(ld, v)) {
    return false;
  }
  v = get(root, "clients");
  if (v != NULL && !load_clients(ld, v)) {
    return false;
  }
  v = get(root, "expect");
  if (v != NULL && !load_expects(ld, v)) {
    return false;
  }
  for (size_t i = 0; i < s->n_hosts; i++) {
    if (s->hosts[i].n_names == 0) {
      derive_names(s, &s->hosts[i]);
    }
  }
  return true;
}

enum scn_status scn_load_string(struct scn **out, const char *path, const char *text, size_t len,
                                char *err, size_t err_size) {
  *out = NULL;
  if (err_size > 0) {
    err[0] = 0;
  }
  struct scn__node *root = NULL;
  enum scn_status st = scn__yaml_parse(&root, path, text, len, err, err_size);
  if (st != SCN_OK) {
    return st;
  }
  struct scn *s = xcalloc(1, sizeof *s);
  s->path = str_dup(path);
  struct ld ld = {.s = s, .file = path, .err = err, .err_size = err_size, .st = SCN_OK};
  if (root == NULL || root->kind == SCN__NULL) {
    (void) buf_fmt(err, err_size,
                   "%s:1:1: the scenario is empty (expected a mapping with name, description, "
                   "domain, ...)",
                   path);
    ld.st = SCN_ESCHEMA;
  } else if (!load_top(&ld, root)) {
    ld.st = SCN_ESCHEMA;
  }
  scn__node_free(root);
  if (ld.st != SCN_OK) {
    scn_free(s);
    return ld.st;
  }
  *out = s;
  return SCN_OK;
}

enum scn_status scn_load(struct scn **out, const char *path, char *err, size_t err_size) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    (void) buf_fmt(err, err_size, "%s: %s", path, strerror(errno));
    return SCN_EIO;
  }
  struct buf b;
  buf_init(&b, MAX_FILE_LEN);
  enum scn_status st = SCN_OK;
  char chunk[8192];
  for (;;) {
    size_t n = fread(chunk, 1, sizeof chunk, f);
    if (n > 0 && !buf_append(&b, (struct slice){(const uint8_t *) chunk, n})) {
      (void) buf_fmt(err, err_size, "%s: larger than %d bytes: not a scenario", path, MAX_FILE_LEN);
      st = SCN_EIO;
      goto out;
    }
    if (n < sizeof chunk) {
      break;
    }
  }
  if (ferror(f)) {
    (void) buf_fmt(err, err_size, "%s: %s", path, strerror(errno != 0 ? errno : EIO));
    st = SCN_EIO;
    goto out;
  }
  st = scn_load_string(out, path, buf_cstr(&b), b.len, err, err_size);
out:
  fclose(f);
  buf_cleanup(&b);
  return st;
}

/* ---- release ---- */

static void free_strs(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(v[i]);
  }
  free(v);
}

static void free_listener(struct scn_listener *l) {
  free(l->cert.profile_name);
  free_strs(l->cert.names, l->cert.n_names);
  for (size_t i = 0; i < l->n_routes; i++) {
    struct scn_route *r = &l->routes[i];
    free(r->path);
    free(r->method);
    free(r->body);
    free(r->content_type);
    free(r->location);
    free(r->ad.display_name);
    free(r->ad.server);
    free(r->ad.ews_url);
    free(r->ad.auth_package);
    free(r->ad.redirect_addr);
    free(r->ad.redirect_url);
    free(r->ad.error_message);
  }
  free(l->routes);
}

void scn_free(struct scn *s) {
  if (s == NULL) {
    return;
  }
  free(s->path);
  free(s->name);
  free(s->description);
  free(s->domain);
  free(s->email);
  free_strs(s->zones, s->n_zones);
  for (size_t i = 0; i < s->n_records; i++) {
    free(s->records[i].name);
    free(s->records[i].host);
    free(s->records[i].address);
    free(s->records[i].target);
    free(s->records[i].text);
  }
  free(s->records);
  for (size_t i = 0; i < s->n_rules; i++) {
    free(s->rules[i].name);
  }
  free(s->rules);
  for (size_t i = 0; i < s->n_hosts; i++) {
    struct scn_host *h = &s->hosts[i];
    free(h->id);
    free_strs(h->names, h->n_names);
    free(h->address);
    free_listener(&h->https);
    free_listener(&h->http);
  }
  free(s->hosts);
  for (size_t i = 0; i < s->n_clients; i++) {
    free(s->clients[i].model);
  }
  free(s->clients);
  for (size_t i = 0; i < s->n_expects; i++) {
    struct scn_expect *e = &s->expects[i];
    free(e->client);
    for (size_t j = 0; j < e->n_prompts; j++) {
      free(e->prompts[j].kind);
      free(e->prompts[j].host);
      free(e->prompts[j].reason);
    }
    free(e->prompts);
    free(e->outcome);
    free(e->final_url);
    free(e->ews_url);
  }
  free(s->expects);
  free(s);
}

const struct scn_host *scn_host_find(const struct scn *s, const char *id) {
  if (s == NULL || id == NULL) {
    return NULL;
  }
  for (size_t i = 0; i < s->n_hosts; i++) {
    if (s->hosts[i].id != NULL && strcmp(s->hosts[i].id, id) == 0) {
      return &s->hosts[i];
    }
  }
  return NULL;
}

const char *scn_cert_profile_name(enum scn_cert_profile p) {
  if ((size_t) p < N_ELEMS(cert_profiles) - 1) {
    return cert_profiles[p];
  }
  return "unknown";
}
