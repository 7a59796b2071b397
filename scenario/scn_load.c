/* scenario/scn_load.c: a scenario file → a validated struct scn (docs/scenarios.md).
 *
 * The YAML becomes a tree of positioned nodes (scn_yaml.c); this file walks it against the
 * schema. Every check fails with one line "file:line:col: message" that names what was expected,
 * and the first failure stops the walk. Unknown keys are errors everywhere. */
#include "scenario/scn.h"

#include "common/buf.h"
#include "scenario/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
  MAX_FILE_LEN = 1 << 20, /* a scenario is a few kilobytes; refuse anything absurd */
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct ld {
  struct scn *s;
  int64_t now; /* unix seconds at load time: "now" and "-30d" count from it */
  char *err;
  size_t err_size;
  enum scn_status st;
};

static bool fail(struct ld *ld, const struct scn__node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(struct ld *ld, const struct scn__node *at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  scn__vmessage(ld->err, ld->err_size, at->file, (unsigned long long) at->line, at->col, NULL, fmt,
                ap);
  va_end(ap);
  ld->st = SCN_ESCHEMA;
  return false;
}

static struct scn_mark mark_of(const struct ld *ld, const struct scn__node *n) {
  (void) ld;
  return (struct scn_mark){n->file, n->line, n->col};
}

/* ---- paths and descriptions for messages ---- */

static void path_index(char *dst, const char *path, size_t i) {
  (void) buf_fmt(dst, SCN__PATH_LEN, "%s[%zu]", path, i);
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

static bool want(struct ld *ld, const struct scn__node *n, enum scn__kind kind, const char *path) {
  if (n->kind == kind) {
    return true;
  }
  char tmp[64];
  return fail(ld, n, "%s: expected %s, found %s", path, scn__kind_name(kind),
              found(n, tmp, sizeof tmp));
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
  char in[SCN__PATH_LEN + 32];
  where(in, sizeof in, path);
  for (size_t i = 0; i + 1 < map->n_kids; i += 2) {
    const struct scn__node *k = map->kids[i];
    if (k->kind != SCN__SCALAR) {
      return fail(ld, k, "a key %s must be a string, found %s", in, scn__kind_name(k->kind));
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
      char in[SCN__PATH_LEN + 32];
      where(in, sizeof in, path);
      char tmp[64];
      return fail(ld, k, "unknown key %s %s (expected %s)", found(k, tmp, sizeof tmp), in, list);
    }
  }
  return true;
}

static bool missing(struct ld *ld, const struct scn__node *map, const char *path, const char *key) {
  char in[SCN__PATH_LEN + 32];
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
  char p[SCN__PATH_LEN];
  scn__path_key(p, path, key);
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
  char p[SCN__PATH_LEN];
  scn__path_key(p, path, key);
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
  char p[SCN__PATH_LEN];
  scn__path_key(p, path, key);
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
const char *scn__dns_name_problem(const char *s, bool wildcard) {
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
  const char *why = scn__dns_name_problem(name, wildcard);
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
  char p[SCN__PATH_LEN];
  scn__path_key(p, path, key);
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
    char p[SCN__PATH_LEN];
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
  const char *why = scn__dns_name_problem(domain, false);
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

/* list_profiles writes the lab CA's profile names, comma-separated, for a message. */
static void list_profiles(char *dst, size_t dst_size) {
  size_t used = 0;
  dst[0] = 0;
  for (size_t i = 0; ca_profile_at(i) != NULL; i++) {
    if (!buf_fmt(dst + used, dst_size - used, "%s%s", i > 0 ? ", " : "",
                 ca_profile_name(ca_profile_at(i)))) {
      return;
    }
    used += strlen(dst + used);
  }
}

/* list_key_types writes the key types a certificate may name, comma-separated. */
static void list_key_types(char *dst, size_t dst_size) {
  size_t used = 0;
  dst[0] = 0;
  for (int k = CA_KEY_DEFAULT + 1; ca_key_type_name((enum ca_key_type) k) != NULL; k++) {
    if (!buf_fmt(dst + used, dst_size - used, "%s%s", k > CA_KEY_DEFAULT + 1 ? ", " : "",
                 ca_key_type_name((enum ca_key_type) k))) {
      return;
    }
    used += strlen(dst + used);
  }
}

enum {
  MIN_CERT_TIME = -631152000,  /* 1950-01-01T00:00:00Z: X.509 UTCTime starts there */
  MAX_CERT_TIME = 253402300799 /* 9999-12-31T23:59:59Z: GeneralizedTime ends there */
};

/* get_time reads an instant (RFC 3339 or relative to now) within the range X.509 can say. */
static bool get_time(struct ld *ld, const struct scn__node *map, const char *path, const char *key,
                     bool *present, int64_t *out) {
  const struct scn__node *n = NULL;
  if (!get_text(ld, map, path, key, false, &n)) {
    return false;
  }
  *present = n != NULL;
  if (n == NULL) {
    return true;
  }
  if (!scn__parse_time(n->text, ld->now, out)) {
    return fail(ld, n,
                "%s \"%.40s\" is not a time: write an RFC 3339 timestamp "
                "(2024-01-01T00:00:00Z), now, or [+-]N with s, m, h, d or y (-30d, +1y)",
                key, n->text);
  }
  if (*out < MIN_CERT_TIME || *out > (int64_t) MAX_CERT_TIME) {
    return fail(ld, n, "%s \"%.40s\" is outside the years 1950 to 9999 a certificate can hold", key,
                n->text);
  }
  return true;
}

static bool load_cert(struct ld *ld, const struct scn__node *n, const char *path,
                      struct scn_cert *cert) {
  static const char *const keys[] = {"profile", "names", "key", "not_before", "not_after", NULL};
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, keys)) {
    return false;
  }
  cert->mark = mark_of(ld, n);
  const struct scn__node *p = NULL;
  if (!get_text(ld, n, path, "profile", true, &p)) {
    return false;
  }
  cert->profile = ca_profile_named(p->text);
  if (cert->profile == NULL) {
    char list[256];
    list_profiles(list, sizeof list);
    return fail(ld, p, "profile \"%s\" is not a certificate profile (%s)", p->text, list);
  }
  const struct scn__node *names = get(n, "names");
  if (names != NULL) {
    char np[SCN__PATH_LEN];
    scn__path_key(np, path, "names");
    if (!dns_names(ld, names, np, true, &cert->names, &cert->n_names)) {
      return false;
    }
    if (cert->n_names == 0) {
      return fail(ld, names, "%s is empty: leave it out to use the host's names", np);
    }
  }
  const struct scn__node *key = NULL;
  if (!get_text(ld, n, path, "key", false, &key)) {
    return false;
  }
  if (key != NULL) {
    if (!ca_key_type_named(key->text, &cert->key_type)) {
      char list[128];
      list_key_types(list, sizeof list);
      return fail(ld, key, "key \"%s\" is not a key type (%s)", key->text, list);
    }
    if (ca_profile_fixes_key(cert->profile)) { /* rsa-1024 is the one profile that does */
      return fail(ld, key, "key goes against profile %s, whose key is a 1024-bit RSA one",
                  ca_profile_name(cert->profile));
    }
  }
  if (!get_time(ld, n, path, "not_before", &cert->has_not_before, &cert->not_before) ||
      !get_time(ld, n, path, "not_after", &cert->has_not_after, &cert->not_after)) {
    return false;
  }
  if (cert->has_not_before && cert->has_not_after && cert->not_after < cert->not_before) {
    return fail(ld, get(n, "not_after"), "not_after is before not_before");
  }
  return true;
}

static const char *const route_kinds[] = {"status",          "redirect", "autodiscover",
                                          "autodiscover_v2", "soap",     NULL};

static const char *const protocol_types[] = {"EXCH", "EXPR", "WEB", "EXHTTP", NULL};

static bool load_protocol(struct ld *ld, const struct scn__node *n, const char *path,
                          struct scn_ad_protocol *pr) {
  static const char *const keys[] = {"type", "server", "ews",          "as", "oab",
                                     "owa",  "ssl",    "auth_package", NULL};
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, keys)) {
    return false;
  }
  pr->mark = mark_of(ld, n);
  pr->ssl = true;
  const struct scn__node *t = NULL;
  if (!get_text(ld, n, path, "type", true, &t)) {
    return false;
  }
  int i = pick(t->text, protocol_types, true);
  if (i < 0) {
    return fail(ld, t, "protocol type \"%s\" is not EXCH, EXPR, WEB or EXHTTP", t->text);
  }
  pr->type = str_dup(protocol_types[i]);
  return get_dns_name(ld, n, path, "server", false, false, &pr->server) &&
         get_url(ld, n, path, "ews", false, &pr->ews_url) &&
         get_url(ld, n, path, "as", false, &pr->as_url) &&
         get_url(ld, n, path, "oab", false, &pr->oab_url) &&
         get_url(ld, n, path, "owa", false, &pr->owa_url) &&
         get_str(ld, n, path, "auth_package", false, true, &pr->auth_package) &&
         get_bool(ld, n, path, "ssl", &pr->ssl);
}

/* load_settings reads autodiscover.settings (and soap.settings). */
static bool load_settings(struct ld *ld, const struct scn__node *n, const char *p,
                          struct scn_autodiscover *ad) {
  static const char *const skeys[] = {"ews",          "server",    "display_name",
                                      "auth_package", "protocols", NULL};
  if (!want(ld, n, SCN__MAP, p) || !check_keys(ld, n, p, skeys)) {
    return false;
  }
  const struct scn__node *protocols = get(n, "protocols");
  if (!get_url(ld, n, p, "ews", protocols == NULL, &ad->ews_url) ||
      !get_dns_name(ld, n, p, "server", false, false, &ad->server) ||
      !get_str(ld, n, p, "display_name", false, true, &ad->display_name) ||
      !get_str(ld, n, p, "auth_package", false, true, &ad->auth_package)) {
    return false;
  }
  if (protocols == NULL) {
    return true;
  }
  char pp[SCN__PATH_LEN];
  scn__path_key(pp, p, "protocols");
  if (!want(ld, protocols, SCN__SEQ, pp)) {
    return false;
  }
  if (protocols->n_kids == 0) {
    return fail(ld, protocols, "%s is empty: leave it out for the default EXPR and EXCH", pp);
  }
  ad->protocols = xcalloc(protocols->n_kids, sizeof ad->protocols[0]);
  for (size_t i = 0; i < protocols->n_kids; i++) {
    char ip[SCN__PATH_LEN];
    path_index(ip, pp, i);
    if (!load_protocol(ld, protocols->kids[i], ip, &ad->protocols[ad->n_protocols++])) {
      return false;
    }
  }
  return true;
}

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
  char p[SCN__PATH_LEN];
  switch (ad->action) {
    case SCN_AD_SETTINGS:
      scn__path_key(p, path, "settings");
      return load_settings(ld, first, p, ad);
    case SCN_AD_REDIRECT_ADDR:
      scn__path_key(p, path, "redirect_addr");
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

/* load_soap reads soap: { settings: {...} } (GetUserSettings / GetDomainSettings answers). */
static bool load_soap(struct ld *ld, const struct scn__node *n, const char *path,
                      struct scn_autodiscover *ad) {
  static const char *const keys[] = {"settings", NULL};
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, keys)) {
    return false;
  }
  const struct scn__node *settings = get(n, "settings");
  if (settings == NULL) {
    return missing(ld, n, path, "settings");
  }
  char p[SCN__PATH_LEN];
  scn__path_key(p, path, "settings");
  ad->action = SCN_AD_SETTINGS;
  return load_settings(ld, settings, p, ad);
}

static bool load_autodiscover_v2(struct ld *ld, const struct scn__node *n, const char *path,
                                 struct scn_autodiscover_v2 *ad2) {
  static const char *const keys[] = {"protocols", "not_found_status", NULL};
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, keys)) {
    return false;
  }
  const struct scn__node *protocols = get(n, "protocols");
  if (protocols == NULL) {
    return missing(ld, n, path, "protocols");
  }
  char pp[SCN__PATH_LEN];
  scn__path_key(pp, path, "protocols");
  if (!want(ld, protocols, SCN__MAP, pp) || !check_map_keys(ld, protocols, pp)) {
    return false;
  }
  if (protocols->n_kids == 0) {
    return fail(ld, protocols, "%s is empty: list at least one protocol and its URL", pp);
  }
  size_t n_prot = protocols->n_kids / 2;
  ad2->protocols = xcalloc(n_prot, sizeof ad2->protocols[0]);
  ad2->urls = xcalloc(n_prot, sizeof ad2->urls[0]);
  for (size_t i = 0; i + 1 < protocols->n_kids; i += 2) {
    const struct scn__node *k = protocols->kids[i];
    const struct scn__node *v = protocols->kids[i + 1];
    for (const char *c = k->text; *c != 0; c++) {
      if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9'))) {
        return fail(ld, k, "protocol name \"%s\" may only use letters and digits (EWS, ...)",
                    k->text);
      }
    }
    if (k->len == 0) {
      return fail(ld, k, "%s: a protocol name is empty", pp);
    }
    for (size_t j = 0; j < ad2->n_protocols; j++) {
      if (str_eq_nocase(ad2->protocols[j], k->text)) {
        return fail(ld, k, "protocol \"%s\" is listed twice (names are matched in any case)",
                    k->text);
      }
    }
    char p[SCN__PATH_LEN];
    scn__path_key(p, pp, k->text);
    if (!want(ld, v, SCN__SCALAR, p) || !url(ld, v, k->text)) {
      return false;
    }
    ad2->protocols[ad2->n_protocols] = str_dup(k->text);
    ad2->urls[ad2->n_protocols++] = str_dup(v->text);
  }
  bool present = false;
  uint32_t st = 400;
  if (!get_u32(ld, n, path, "not_found_status", 100, 599, &present, &st)) {
    return false;
  }
  ad2->not_found_status = (uint16_t) st;
  return true;
}

/* is_token says whether `s` is an HTTP header name (RFC 9110 5.1: a token). */
static bool is_token(const char *s) {
  if (*s == 0) {
    return false;
  }
  for (; *s != 0; s++) {
    char c = *s;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          strchr("!#$%&'*+-.^_`|~", c) != NULL)) {
      return false;
    }
  }
  return true;
}

static bool load_headers(struct ld *ld, const struct scn__node *n, const char *path,
                         struct scn_route *r) {
  if (!want(ld, n, SCN__MAP, path) || !check_map_keys(ld, n, path)) {
    return false;
  }
  r->headers = xcalloc(n->n_kids / 2 + 1, sizeof r->headers[0]);
  for (size_t i = 0; i + 1 < n->n_kids; i += 2) {
    const struct scn__node *k = n->kids[i];
    const struct scn__node *v = n->kids[i + 1];
    if (!is_token(k->text)) {
      return fail(ld, k, "header name \"%s\" is not an HTTP token (letters, digits, -, ...)",
                  k->text);
    }
    for (size_t j = 0; j < r->n_headers; j++) {
      if (str_eq_nocase(r->headers[j].name, k->text)) {
        return fail(ld, k, "header \"%s\" is given twice (header names are case-insensitive)",
                    k->text);
      }
    }
    char p[SCN__PATH_LEN];
    scn__path_key(p, path, k->text);
    if (!want(ld, v, SCN__SCALAR, p)) {
      return false;
    }
    if (has_control(v->text)) {
      return fail(ld, v, "header %s may not contain control characters or line breaks", k->text);
    }
    r->headers[r->n_headers].name = str_dup(k->text);
    r->headers[r->n_headers++].value = str_dup(v->text);
  }
  return true;
}

static bool load_auth(struct ld *ld, const struct scn__node *n, const char *path,
                      struct scn_auth *auth) {
  static const char *const keys[] = {"challenges", "accept", NULL};
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, keys)) {
    return false;
  }
  auth->present = true;
  auth->accept_credentials = true;
  const struct scn__node *ch = get(n, "challenges");
  if (ch == NULL) {
    return missing(ld, n, path, "challenges");
  }
  char cp[SCN__PATH_LEN];
  scn__path_key(cp, path, "challenges");
  if (!want(ld, ch, SCN__SEQ, cp)) {
    return false;
  }
  if (ch->n_kids == 0) {
    return fail(ld, ch, "%s is empty: a 401 needs at least one WWW-Authenticate value", cp);
  }
  auth->challenges = xcalloc(ch->n_kids, sizeof auth->challenges[0]);
  for (size_t i = 0; i < ch->n_kids; i++) {
    const struct scn__node *c = ch->kids[i];
    char p[SCN__PATH_LEN];
    path_index(p, cp, i);
    if (!want(ld, c, SCN__SCALAR, p)) {
      return false;
    }
    if (c->len == 0 || has_control(c->text) || c->text[0] == ' ') {
      return fail(ld, c, "%s: a challenge is one line starting with its scheme (Basic, NTLM, ...)",
                  p);
    }
    auth->challenges[auth->n_challenges++] = str_dup(c->text);
  }
  return get_bool(ld, n, path, "accept", &auth->accept_credentials);
}

static bool load_route(struct ld *ld, const struct scn__node *n, const char *path,
                       struct scn_route *r) {
  static const char *const keys[] = {"path",
                                     "method",
                                     "status",
                                     "html",
                                     "body",
                                     "raw",
                                     "content_type",
                                     "redirect",
                                     "location",
                                     "autodiscover",
                                     "autodiscover_v2",
                                     "soap",
                                     "headers",
                                     "auth",
                                     NULL};
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
                  "%s: a route takes one of status, redirect, autodiscover, autodiscover_v2, "
                  "soap, not both %s and %s",
                  path, route_kinds[r->kind], route_kinds[i]);
    }
    kind = v;
    r->kind = (enum scn_route_kind) i;
  }
  if (kind == NULL) {
    return fail(ld, n,
                "%s: a route needs one of status, redirect, autodiscover, autodiscover_v2, soap",
                path);
  }
  static const char *const status_only[] = {"html", "body", "raw", "content_type", NULL};
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
  const struct scn__node *headers = get(n, "headers");
  if (headers != NULL) {
    char p[SCN__PATH_LEN];
    scn__path_key(p, path, "headers");
    if (!load_headers(ld, headers, p, r)) {
      return false;
    }
  }
  const struct scn__node *auth = get(n, "auth");
  if (auth != NULL) {
    char p[SCN__PATH_LEN];
    scn__path_key(p, path, "auth");
    if (!load_auth(ld, auth, p, &r->auth)) {
      return false;
    }
  }
  bool present = false;
  uint32_t v = 0;
  char p[SCN__PATH_LEN];
  scn__path_key(p, path, route_kinds[r->kind]);
  switch (r->kind) {
    case SCN_ROUTE_STATUS: {
      if (!get_u32(ld, n, path, "status", 100, 599, &present, &v)) {
        return false;
      }
      r->status = (uint16_t) v;
      const struct scn__node *bodies[] = {get(n, "html"), get(n, "body"), get(n, "raw")};
      static const char *const body_keys[] = {"html", "body", "raw"};
      const struct scn__node *ct = get(n, "content_type");
      int which = -1;
      for (int i = 0; i < 3; i++) {
        if (bodies[i] == NULL) {
          continue;
        }
        if (which >= 0) {
          return fail(ld, bodies[i], "%s: give one of html, body, raw, not both %s and %s", path,
                      body_keys[which], body_keys[i]);
        }
        which = i;
      }
      if (which == 0 && ct != NULL) {
        return fail(ld, ct, "%s: content_type goes with body or raw; html is always text/html",
                    path);
      }
      if (ct != NULL && which < 0) {
        return fail(ld, ct, "%s: content_type needs body or raw", path);
      }
      if (which >= 0) {
        char bp[SCN__PATH_LEN];
        scn__path_key(bp, path, body_keys[which]);
        const struct scn__node *b = bodies[which];
        if (!want(ld, b, SCN__SCALAR, bp)) {
          return false;
        }
        r->body = str_ndup(b->text, b->len);
        r->body_len = b->len;
        if (which == 0) {
          r->content_type = str_dup("text/html; charset=utf-8");
        }
      }
      return get_str(ld, n, path, "content_type", false, true, &r->content_type);
    }
    case SCN_ROUTE_REDIRECT: {
      if (kind->kind != SCN__SCALAR || !kind->plain || !parse_u32(kind->text, 300, 399, &v)) {
        char tmp[64];
        return fail(ld, kind, "%s: expected a 3xx status (300 to 399), found %s", p,
                    found(kind, tmp, sizeof tmp));
      }
      r->status = (uint16_t) v;
      if (loc == NULL) {
        char in[SCN__PATH_LEN + 32];
        where(in, sizeof in, path);
        return fail(ld, n, "missing required key \"location\" %s (a redirect needs it)", in);
      }
      return get_str(ld, n, path, "location", true, true, &r->location);
    }
    case SCN_ROUTE_AUTODISCOVER: r->status = 200; return load_autodiscover(ld, kind, p, &r->ad);
    case SCN_ROUTE_AUTODISCOVER_V2:
      r->status = 200;
      return load_autodiscover_v2(ld, kind, p, &r->ad2);
    case SCN_ROUTE_SOAP: r->status = 200; return load_soap(ld, kind, p, &r->ad);
  }
  return true;
}

enum {
  MAX_DELAY_MS = 10 * 60 * 1000, /* a listener's delay: at most 10 minutes of lab time */
  MAX_WAIT_MS = 60 * 60 * 1000,  /* expect.max_wait: at most an hour of lab time */
  TLS_1_0 = 0x0301,
};

/* get_duration reads "500ms", "5s" or "2m" within [min_ms, max_ms]. */
static bool get_duration(struct ld *ld, const struct scn__node *map, const char *path,
                         const char *key, uint32_t min_ms, uint32_t max_ms, uint32_t *out,
                         bool *present) {
  const struct scn__node *n = NULL;
  if (!get_text(ld, map, path, key, false, &n)) {
    return false;
  }
  if (present != NULL) {
    *present = n != NULL;
  }
  if (n == NULL) {
    return true;
  }
  uint32_t v = 0;
  if (!scn__parse_duration_ms(n->text, &v)) {
    return fail(ld, n,
                "%s \"%.40s\" is not a duration: write a number and ms, s or m (500ms, 5s, 2m)",
                key, n->text);
  }
  if (v < min_ms || v > max_ms) {
    return fail(ld, n, "%s \"%s\" is out of range (%ums to %um)", key, n->text, (unsigned) min_ms,
                (unsigned) (max_ms / 60000));
  }
  *out = v;
  return true;
}

static bool load_fault(struct ld *ld, const struct scn__node *n, const char *path, bool https,
                       struct scn_listener *l) {
  static const char *const faults[] = {"blackhole", "reset", "reset-after-hello", "silent", NULL};
  const struct scn__node *f = NULL;
  if (!get_text(ld, n, path, "fault", false, &f)) {
    return false;
  }
  if (f == NULL) {
    return true;
  }
  int i = pick(f->text, faults, false);
  if (i < 0) {
    return fail(ld, f, "fault \"%s\" is not one of blackhole, reset, reset-after-hello, silent",
                f->text);
  }
  l->fault = (enum scn_fault)(i + 1);
  if (l->fault == SCN_FAULT_RESET_HELLO && !https) {
    return fail(ld, f, "fault reset-after-hello needs a TLS ClientHello: it goes only with https");
  }
  return true;
}

static bool tls_version(struct ld *ld, const struct scn__node *map, const char *path,
                        const char *key, uint16_t *out) {
  static const char *const versions[] = {"1.0", "1.1", "1.2", "1.3", NULL};
  const struct scn__node *v = NULL;
  if (!get_text(ld, map, path, key, false, &v)) {
    return false;
  }
  if (v == NULL) {
    return true;
  }
  int i = pick(v->text, versions, false);
  if (i < 0) {
    return fail(ld, v, "tls.%s \"%s\" is not a TLS version (\"1.0\", \"1.1\", \"1.2\", \"1.3\")",
                key, v->text);
  }
  *out = (uint16_t) (TLS_1_0 + i);
  return true;
}

static bool load_tls(struct ld *ld, const struct scn__node *n, const char *path,
                     struct scn_listener *l) {
  static const char *const keys[] = {"min", "max", NULL};
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, keys) ||
      !tls_version(ld, n, path, "min", &l->tls_min) ||
      !tls_version(ld, n, path, "max", &l->tls_max)) {
    return false;
  }
  if (l->tls_min != 0 && l->tls_max != 0 && l->tls_min > l->tls_max) {
    return fail(ld, get(n, "max"), "tls: max is below min");
  }
  return true;
}

static bool load_listener(struct ld *ld, const struct scn__node *n, const char *path, bool https,
                          struct scn_listener *l) {
  static const char *const https_keys[] = {"certificate", "routes", "fault", "delay", "tls", NULL};
  static const char *const http_keys[] = {"routes", "fault", "delay", NULL};
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, https ? https_keys : http_keys)) {
    return false;
  }
  l->present = true;
  l->mark = mark_of(ld, n);
  if (!load_fault(ld, n, path, https, l) ||
      !get_duration(ld, n, path, "delay", 0, MAX_DELAY_MS, &l->delay_ms, NULL)) {
    return false;
  }
  const struct scn__node *tls = get(n, "tls");
  if (tls != NULL) {
    char p[SCN__PATH_LEN];
    scn__path_key(p, path, "tls");
    if (!load_tls(ld, tls, p, l)) {
      return false;
    }
  }
  if (https) {
    const struct scn__node *c = get(n, "certificate");
    if (c == NULL) {
      l->cert.mark = l->mark; /* the common case needs no words: valid, set by load_host */
    } else {
      char p[SCN__PATH_LEN];
      scn__path_key(p, path, "certificate");
      if (!load_cert(ld, c, p, &l->cert)) {
        return false;
      }
    }
  }
  const struct scn__node *routes = get(n, "routes");
  if (routes == NULL) {
    return true;
  }
  char rp[SCN__PATH_LEN];
  scn__path_key(rp, path, "routes");
  if (!want(ld, routes, SCN__SEQ, rp)) {
    return false;
  }
  l->routes = xcalloc(routes->n_kids, sizeof l->routes[0]);
  for (size_t i = 0; i < routes->n_kids; i++) {
    char p[SCN__PATH_LEN];
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
  char path[SCN__PATH_LEN];
  scn__path_key(path, "hosts", key->text);
  h->id = str_dup(key->text);
  h->mark = mark_of(ld, key);
  h->https.cert.profile = ca_profile_named("valid"); /* unless the file names another */
  h->http.cert.profile = h->https.cert.profile;      /* never NULL, though http has none */
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
    char p[SCN__PATH_LEN];
    scn__path_key(p, path, "names");
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
  char p[SCN__PATH_LEN];
  if (https != NULL) {
    scn__path_key(p, path, "https");
    if (!load_listener(ld, https, p, true, &h->https)) {
      return false;
    }
  }
  if (http != NULL) {
    scn__path_key(p, path, "http");
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

/* in the order of enum scn_dns_behaviour, from SCN_DNS_NXDOMAIN */
static const char *const behaviours[] = {"nxdomain", "servfail", "timeout", "nodata",
                                         "refused",  "truncate", NULL};

/* rule_types are the types a behaviour may name: the record types and the rest a client asks. */
static const struct {
  const char *name;
  uint16_t type;
} rule_types[] = {{"A", 1},   {"NS", 2},   {"CNAME", 5}, {"SOA", 6},  {"PTR", 12},
                  {"MX", 15}, {"TXT", 16}, {"AAAA", 28}, {"SRV", 33}, {"ANY", 255}};

static bool load_rule(struct ld *ld, const struct scn__node *n, const char *path,
                      struct scn_dns_rule *rule) {
  static const char *const keys[] = {"name", "type", "answer", "first", NULL};
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, keys)) {
    return false;
  }
  rule->mark = mark_of(ld, n);
  const struct scn__node *t = NULL;
  if (!get_text(ld, n, path, "type", false, &t)) {
    return false;
  }
  if (t != NULL) {
    for (size_t i = 0; i < N_ELEMS(rule_types) && rule->type == 0; i++) {
      if (str_eq_nocase(t->text, rule_types[i].name)) {
        rule->type = rule_types[i].type;
      }
    }
    if (rule->type == 0) {
      return fail(ld, t,
                  "type \"%s\" is not a DNS type a behaviour can take (A, AAAA, CNAME, SRV, NS, "
                  "MX, TXT, SOA, PTR, ANY; leave it out for every type)",
                  t->text);
    }
  }
  bool present = false;
  if (!get_u32(ld, n, path, "first", 1, 1000000, &present, &rule->first_n)) {
    return false;
  }
  const struct scn__node *a = NULL;
  if (!get_dns_name(ld, n, path, "name", true, false, &rule->name) ||
      !get_text(ld, n, path, "answer", true, &a)) {
    return false;
  }
  int i = pick(a->text, behaviours, false);
  if (i < 0) {
    return fail(ld, a,
                "answer \"%s\" is not a DNS behaviour (nxdomain, servfail, timeout, nodata, "
                "refused, truncate)",
                a->text);
  }
  rule->behaviour = (enum scn_dns_behaviour)(i + 1);
  return true;
}

static bool load_dns(struct ld *ld, const struct scn__node *n) {
  static const char *const keys[] = {"zones", "zone_file", "records", "behaviours", NULL};
  struct scn *s = ld->s;
  if (!want(ld, n, SCN__MAP, "dns")) {
    return false;
  }
  static const char *const edits[] = {"add_records", "remove_records", NULL};
  for (int i = 0; edits[i] != NULL; i++) {
    for (size_t k = 0; k + 1 < n->n_kids; k += 2) {
      if (n->kids[k]->kind == SCN__SCALAR && strcmp(n->kids[k]->text, edits[i]) == 0) {
        return fail(ld, n->kids[k],
                    "dns.%s edits the records of a base scenario: it needs extends: (without a "
                    "base, list records under dns.records)",
                    edits[i]);
      }
    }
  }
  if (!check_keys(ld, n, "dns", keys)) {
    return false;
  }
  const struct scn__node *zones = get(n, "zones");
  if (zones != NULL && !dns_names(ld, zones, "dns.zones", false, &s->zones, &s->n_zones)) {
    return false;
  }
  const struct scn__node *zf = NULL;
  if (!get_text(ld, n, "dns", "zone_file", false, &zf)) {
    return false;
  }
  if (zf != NULL) {
    if (zf->len == 0 || has_control(zf->text)) {
      return fail(ld, zf, "zone_file must be the path of a zone file");
    }
    char *zpath = scn__resolve_path(zf->file, zf->text);
    if (zpath == NULL) {
      return fail(ld, zf, "zone_file: the path is too long");
    }
    struct buf text;
    char why[256];
    if (!scn__read_file(zpath, MAX_FILE_LEN, &text, why, sizeof why)) {
      bool r = fail(ld, zf, "zone_file: cannot read \"%s\": %s", zpath, why);
      free(zpath);
      return r;
    }
    s->zone_file = str_dup(zpath);
    const char *file = scn__add_file(s, zpath);
    enum scn_status st = scn__load_zone(s, file, text.len > 0 ? buf_cstr(&text) : "", text.len,
                                        s->domain, ld->err, ld->err_size);
    buf_cleanup(&text);
    if (st != SCN_OK) {
      ld->st = st;
      return false;
    }
    for (size_t i = 0; i < s->n_records; i++) {
      const struct scn_record *r = &s->records[i];
      if (s->n_zones > 0 && !in_zones(s, r->name)) {
        (void) buf_fmt(ld->err, ld->err_size,
                       "%s:%d: record name \"%s\" is outside the zones listed in dns.zones",
                       r->mark.file, r->mark.line, r->name);
        ld->st = SCN_ESCHEMA;
        return false;
      }
      for (size_t j = 0; j < i; j++) {
        const struct scn_record *o = &s->records[j];
        if (strcmp(o->name, r->name) == 0 && (o->type == 5 || r->type == 5)) {
          (void) buf_fmt(ld->err, ld->err_size,
                         "%s:%d: %s has a CNAME record (line %d), so it can have no other record",
                         r->mark.file, r->mark.line, r->name, (o->type == 5 ? o : r)->mark.line);
          ld->st = SCN_ESCHEMA;
          return false;
        }
      }
    }
  }
  const struct scn__node *records = get(n, "records");
  if (records != NULL) {
    if (!want(ld, records, SCN__SEQ, "dns.records")) {
      return false;
    }
    s->records =
        xrealloc_array(s->records, s->n_records + records->n_kids + 1, sizeof s->records[0]);
    memset(&s->records[s->n_records], 0, (records->n_kids + 1) * sizeof s->records[0]);
    for (size_t i = 0; i < records->n_kids; i++) {
      char p[SCN__PATH_LEN];
      path_index(p, "dns.records", i);
      struct scn_record *r = &s->records[s->n_records++];
      if (!load_record(ld, records->kids[i], p, r)) {
        return false;
      }
      for (size_t j = 0; j + 1 < s->n_records; j++) {
        const struct scn_record *o = &s->records[j];
        if (strcmp(o->name, r->name) == 0 && (o->type == 5 || r->type == 5)) {
          /* RFC 1034 3.6.2: a CNAME is the only record of its name */
          const struct scn_record *c = o->type == 5 ? o : r;
          if (c->from_zone_file) {
            return fail(ld, records->kids[i],
                        "%s has a CNAME record (%s:%d), so it can have no other record", r->name,
                        c->mark.file, c->mark.line);
          }
          return fail(ld, records->kids[i],
                      "%s has a CNAME record (line %d), so it can have no other record", r->name,
                      c->mark.line);
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
      char p[SCN__PATH_LEN];
      path_index(p, "dns.behaviours", i);
      struct scn_dns_rule *rule = &s->rules[s->n_rules++];
      if (!load_rule(ld, rules->kids[i], p, rule)) {
        return false;
      }
      for (size_t j = 0; j + 1 < s->n_rules; j++) {
        const struct scn_dns_rule *o = &s->rules[j];
        if (strcmp(o->name, rule->name) == 0 &&
            (o->type == rule->type || o->type == 0 || rule->type == 0)) {
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

/* prompt_answer reads a yes/no prompt answer; *no is set for no. */
static bool prompt_answer(struct ld *ld, const struct scn__node *n, const char *path,
                          const char *key, bool *no) {
  const struct scn__node *a = NULL;
  if (!get_text(ld, n, path, key, false, &a)) {
    return false;
  }
  if (a != NULL) {
    if (str_eq_nocase(a->text, "no")) {
      *no = true;
    } else if (!str_eq_nocase(a->text, "yes")) {
      return fail(ld, a, "%s must be yes or no, found \"%s\"", key, a->text);
    }
  }
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
                                     "exclude_scp_lookup",
                                     "exclude_last_known_good_url",
                                     "exclude_explicit_o365_endpoint",
                                     "prefer_local_xml",
                                     "redirect_prompt_answer",
                                     "domain_joined",
                                     "mailbox_in_exchange_online",
                                     "last_known_good_url",
                                     "local_xml",
                                     "redirect_servers",
                                     "srv_choice",
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
  char p[SCN__PATH_LEN];
  scn__path_key(p, path, "model");
  if (!model_name(ld, m, p, &c->model) ||
      !get_bool(ld, n, path, "exclude_https_root_domain", &c->exclude_https_root_domain) ||
      !get_bool(ld, n, path, "exclude_https_autodiscover_domain",
                &c->exclude_https_autodiscover_domain) ||
      !get_bool(ld, n, path, "exclude_http_redirect", &c->exclude_http_redirect) ||
      !get_bool(ld, n, path, "exclude_srv_record", &c->exclude_srv_record) ||
      !get_bool(ld, n, path, "exclude_scp_lookup", &c->exclude_scp_lookup) ||
      !get_bool(ld, n, path, "exclude_last_known_good_url", &c->exclude_last_known_good_url) ||
      !get_bool(ld, n, path, "exclude_explicit_o365_endpoint",
                &c->exclude_explicit_o365_endpoint) ||
      !get_bool(ld, n, path, "prefer_local_xml", &c->prefer_local_xml) ||
      !get_bool(ld, n, path, "domain_joined", &c->domain_joined) ||
      !get_bool(ld, n, path, "mailbox_in_exchange_online", &c->mailbox_in_exchange_online) ||
      !prompt_answer(ld, n, path, "certificate_prompt_answer",
                     &c->answer_no_to_certificate_prompts) ||
      !prompt_answer(ld, n, path, "redirect_prompt_answer", &c->answer_no_to_redirect_prompts) ||
      !get_url(ld, n, path, "last_known_good_url", false, &c->last_known_good_url)) {
    return false;
  }
  const struct scn__node *lx = NULL;
  if (!get_text(ld, n, path, "local_xml", false, &lx)) {
    return false;
  }
  if (lx != NULL) {
    if (lx->len == 0 || has_control(lx->text)) {
      return fail(ld, lx, "local_xml must be the path of an XML file");
    }
    c->local_xml = scn__resolve_path(lx->file, lx->text);
    if (c->local_xml == NULL) {
      return fail(ld, lx, "local_xml: the path is too long");
    }
  }
  const struct scn__node *rs = get(n, "redirect_servers");
  if (rs != NULL) {
    char p2[SCN__PATH_LEN];
    scn__path_key(p2, path, "redirect_servers");
    if (!dns_names(ld, rs, p2, false, &c->redirect_servers, &c->n_redirect_servers)) {
      return false;
    }
  }
  const struct scn__node *sc = NULL;
  if (!get_text(ld, n, path, "srv_choice", false, &sc)) {
    return false;
  }
  if (sc != NULL) {
    if (strcmp(sc->text, "largest") == 0) {
      c->srv_largest_wins = true;
    } else if (strcmp(sc->text, "rfc2782") != 0) {
      return fail(ld, sc, "srv_choice must be rfc2782 or largest, found \"%s\"", sc->text);
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
    char p[SCN__PATH_LEN];
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
static const char *const step_names[] = {"local-xml",
                                         "last-known-good",
                                         "o365-direct",
                                         "scp",
                                         "https-root",
                                         "https-autodiscover",
                                         "http-redirect",
                                         "srv",
                                         "redirect",
                                         "o365-fallback",
                                         NULL};

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
  static const char *const keys[] = {"prompts",        "prompt_count", "steps",
                                     "outcome",        "final_url",    "ews_url",
                                     "settings_email", "max_wait",     NULL};
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
  char path[SCN__PATH_LEN];
  scn__path_key(path, "expect", key->text);
  if (!want(ld, n, SCN__MAP, path) || !check_keys(ld, n, path, keys)) {
    return false;
  }
  const struct scn__node *prompts = get(n, "prompts");
  if (prompts != NULL) {
    char pp[SCN__PATH_LEN];
    scn__path_key(pp, path, "prompts");
    if (!want(ld, prompts, SCN__SEQ, pp)) {
      return false;
    }
    e->has_prompts = true;
    e->prompts = xcalloc(prompts->n_kids, sizeof e->prompts[0]);
    for (size_t i = 0; i < prompts->n_kids; i++) {
      char p[SCN__PATH_LEN];
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
  if (!get_url(ld, n, path, "final_url", false, &e->final_url) ||
      !get_url(ld, n, path, "ews_url", false, &e->ews_url) ||
      !get_u32(ld, n, path, "prompt_count", 0, 1000, &e->has_prompt_count, &e->prompt_count) ||
      !get_duration(ld, n, path, "max_wait", 1, MAX_WAIT_MS, &e->max_wait_ms,
                    &e->has_max_wait_ms)) {
    return false;
  }
  if (e->has_prompts && e->has_prompt_count && e->prompt_count != e->n_prompts) {
    return fail(ld, get(n, "prompt_count"),
                "prompt_count %u disagrees with the %zu prompts listed under prompts",
                (unsigned) e->prompt_count, e->n_prompts);
  }
  const struct scn__node *se = NULL;
  if (!get_text(ld, n, path, "settings_email", false, &se)) {
    return false;
  }
  if (se != NULL && !email_address(ld, se, "settings_email", &e->settings_email)) {
    return false;
  }
  const struct scn__node *steps = get(n, "steps");
  if (steps == NULL) {
    return true;
  }
  char sp[SCN__PATH_LEN];
  scn__path_key(sp, path, "steps");
  if (!want(ld, steps, SCN__SEQ, sp)) {
    return false;
  }
  e->has_steps = true;
  e->steps = xcalloc(steps->n_kids + 1, sizeof e->steps[0]);
  for (size_t i = 0; i < steps->n_kids; i++) {
    const struct scn__node *st = steps->kids[i];
    char p[SCN__PATH_LEN];
    path_index(p, sp, i);
    if (!want(ld, st, SCN__SCALAR, p)) {
      return false;
    }
    if (pick(st->text, step_names, false) < 0) {
      char list[256];
      join_words(list, sizeof list, step_names);
      return fail(ld, st, "step \"%s\" is not a step name (%s)", st->text, list);
    }
    e->steps[e->n_steps++] = str_dup(st->text);
  }
  return true;
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

/* ---- directory ---- */

static bool load_directory(struct ld *ld, const struct scn__node *n) {
  static const char *const keys[] = {"scp", NULL};
  struct scn *s = ld->s;
  if (!want(ld, n, SCN__MAP, "directory") || !check_keys(ld, n, "directory", keys)) {
    return false;
  }
  const struct scn__node *scp = get(n, "scp");
  if (scp == NULL) {
    return true;
  }
  if (!want(ld, scp, SCN__SEQ, "directory.scp")) {
    return false;
  }
  s->scp_urls = xcalloc(scp->n_kids + 1, sizeof s->scp_urls[0]);
  for (size_t i = 0; i < scp->n_kids; i++) {
    const struct scn__node *u = scp->kids[i];
    char p[SCN__PATH_LEN];
    path_index(p, "directory.scp", i);
    if (!want(ld, u, SCN__SCALAR, p) || !url(ld, u, "an SCP URL")) {
      return false;
    }
    if (strncmp(u->text, "https://", 8) != 0) {
      return fail(ld, u, "%s: an SCP URL is https:// (what Outlook accepts from SCP), found \"%s\"",
                  p, u->text);
    }
    s->scp_urls[s->n_scp_urls++] = str_dup(u->text);
  }
  return true;
}

/* ---- the whole file ---- */

static bool load_top(struct ld *ld, const struct scn__node *root) {
  static const char *const keys[] = {"name",    "description", "domain",    "email",
                                     "extends", "dns",         "directory", "hosts",
                                     "clients", "expect",      NULL};
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
  v = get(root, "directory");
  if (v != NULL && !load_directory(ld, v)) {
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
  struct scn *s = xcalloc(1, sizeof *s);
  s->path = str_dup(path); /* the top file's nodes borrow this copy */
  struct scn__node *root = NULL;
  enum scn_status st = scn__yaml_parse(&root, s->path, text, len, err, err_size);
  if (st == SCN_OK) {
    st = scn__check_nuls(root, err, err_size);
  }
  if (st == SCN_OK) {
    st = scn__extend(s, &root, err, err_size);
  }
  if (st != SCN_OK) {
    scn__node_free(root);
    scn_free(s);
    return st;
  }
  struct ld ld = {
      .s = s, .now = (int64_t) time(NULL), .err = err, .err_size = err_size, .st = SCN_OK};
  if (root == NULL || root->kind == SCN__NULL) {
    (void) buf_fmt(err, err_size,
                   "%s:1:1: the scenario is empty (expected a mapping with name, description, "
                   "domain, ...)",
                   path);
    ld.st = SCN_ESCHEMA;
  } else if (!load_top(&ld, root) && ld.st == SCN_OK) {
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

static void free_autodiscover(struct scn_autodiscover *ad) {
  free(ad->display_name);
  free(ad->server);
  free(ad->ews_url);
  free(ad->auth_package);
  free(ad->redirect_addr);
  free(ad->redirect_url);
  free(ad->error_message);
  for (size_t i = 0; i < ad->n_protocols; i++) {
    struct scn_ad_protocol *p = &ad->protocols[i];
    free(p->type);
    free(p->server);
    free(p->ews_url);
    free(p->as_url);
    free(p->oab_url);
    free(p->owa_url);
    free(p->auth_package);
  }
  free(ad->protocols);
}

static void free_listener(struct scn_listener *l) {
  free_strs(l->cert.names, l->cert.n_names);
  for (size_t i = 0; i < l->n_routes; i++) {
    struct scn_route *r = &l->routes[i];
    free_autodiscover(&r->ad);
    free_strs(r->ad2.protocols, r->ad2.n_protocols);
    free_strs(r->ad2.urls, r->ad2.n_protocols);
    for (size_t j = 0; j < r->n_headers; j++) {
      free(r->headers[j].name);
      free(r->headers[j].value);
    }
    free(r->headers);
    free_strs(r->auth.challenges, r->auth.n_challenges);
    free(r->path);
    free(r->method);
    free(r->body);
    free(r->content_type);
    free(r->location);
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
    struct scn_client *c = &s->clients[i];
    free(c->model);
    free(c->last_known_good_url);
    free(c->local_xml);
    free_strs(c->redirect_servers, c->n_redirect_servers);
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
    free_strs(e->steps, e->n_steps);
    free(e->settings_email);
  }
  free(s->expects);
  free(s->zone_file);
  free_strs(s->scp_urls, s->n_scp_urls);
  free(s->extends);
  free_strs(s->files, s->n_files);
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
