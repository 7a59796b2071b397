/* scenario/scn_value.c: the values a scenario is made of — mappings with known keys, strings,
 * numbers, booleans, durations, DNS names, addresses of mail and URLs — read from the node tree
 * with one "file:line:col: message" when they are wrong (the sections: scn_load.c and the files
 * it calls). The DNS name checks are here for the zone reader (scn_zone.c) too. */
#include "common/buf.h"
#include "scenario/internal.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

bool scn__fail(struct scn__ld *ld, const struct scn__node *at, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  scn__vmessage(ld->err, ld->err_size, at->file, (unsigned long long) at->line, at->col, NULL, fmt,
                ap);
  va_end(ap);
  ld->st = SCN_ESCHEMA;
  return false;
}

struct scn_mark scn__mark(const struct scn__node *n) {
  return (struct scn_mark){n->file, n->line, n->col};
}

/* ---- paths and descriptions for messages ---- */

void scn__path_index(char *dst, const char *path, size_t i) {
  (void) buf_fmt(dst, SCN__PATH_LEN, "%s[%zu]", path, i);
}

void scn__where(char *dst, size_t dst_size, const char *path) {
  if (path[0] == 0) {
    (void) buf_fmt(dst, dst_size, "at the top level");
  } else {
    (void) buf_fmt(dst, dst_size, "in %s", path);
  }
}

const char *scn__found(const struct scn__node *n, char *tmp, size_t tmp_size) {
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

bool scn__want(struct scn__ld *ld, const struct scn__node *n, enum scn__kind kind,
               const char *path) {
  if (n->kind == kind) {
    return true;
  }
  char tmp[64];
  return scn__fail(ld, n, "%s: expected %s, found %s", path, scn__kind_name(kind),
                   scn__found(n, tmp, sizeof tmp));
}

/* ---- mappings ---- */

const struct scn__node *scn__get(const struct scn__node *map, const char *key) {
  for (size_t i = 0; i + 1 < map->n_kids; i += 2) {
    if (map->kids[i]->kind == SCN__SCALAR && strcmp(map->kids[i]->text, key) == 0) {
      return map->kids[i + 1];
    }
  }
  return NULL;
}

const struct scn__node *scn__child(const struct scn__node *map, const char *path, const char *key,
                                   char *p) {
  const struct scn__node *n = scn__get(map, key);
  if (n != NULL) {
    scn__path_key(p, path, key);
  }
  return n;
}

/* check_unique makes sure every key of `map` is a string given once. */
static bool check_unique(struct scn__ld *ld, const struct scn__node *map, const char *path) {
  char in[SCN__PATH_LEN + 32];
  scn__where(in, sizeof in, path);
  for (size_t i = 0; i + 1 < map->n_kids; i += 2) {
    const struct scn__node *k = map->kids[i];
    if (k->kind != SCN__SCALAR) {
      return scn__fail(ld, k, "a key %s must be a string, found %s", in, scn__kind_name(k->kind));
    }
    for (size_t j = 0; j < i; j += 2) {
      if (strcmp(map->kids[j]->text, k->text) == 0) {
        return scn__fail(ld, k, "duplicate key \"%s\" %s (first at line %d)", k->text, in,
                         map->kids[j]->line);
      }
    }
  }
  return true;
}

bool scn__check_keys(struct scn__ld *ld, const struct scn__node *map, const char *path,
                     const char *const *keys) {
  if (!check_unique(ld, map, path)) {
    return false;
  }
  for (size_t i = 0; keys != NULL && i + 1 < map->n_kids; i += 2) {
    const struct scn__node *k = map->kids[i];
    if (scn__pick(k->text, keys, false) < 0) {
      char list[512];
      scn__join_words(list, sizeof list, keys);
      char in[SCN__PATH_LEN + 32];
      scn__where(in, sizeof in, path);
      char tmp[64];
      return scn__fail(ld, k, "unknown key %s %s (expected %s)", scn__found(k, tmp, sizeof tmp), in,
                       list);
    }
  }
  return true;
}

bool scn__want_map(struct scn__ld *ld, const struct scn__node *n, const char *path,
                   const char *const *keys) {
  return scn__want(ld, n, SCN__MAP, path) && scn__check_keys(ld, n, path, keys);
}

bool scn__missing(struct scn__ld *ld, const struct scn__node *map, const char *path,
                  const char *key) {
  char in[SCN__PATH_LEN + 32];
  scn__where(in, sizeof in, path);
  return scn__fail(ld, map, "missing required key \"%s\" %s", key, in);
}

bool scn__req_child(struct scn__ld *ld, const struct scn__node *map, const char *path,
                    const char *key, char *p, const struct scn__node **out) {
  *out = scn__child(map, path, key, p);
  return *out != NULL || scn__missing(ld, map, path, key);
}

bool scn__opt_seq(struct scn__ld *ld, const struct scn__node *map, const char *path,
                  const char *key, char *p, const struct scn__node **out) {
  *out = scn__child(map, path, key, p);
  return *out == NULL || scn__want(ld, *out, SCN__SEQ, p);
}

/* ---- scalars ---- */

bool scn__has_control(const char *s) {
  for (; *s != 0; s++) {
    if ((unsigned char) *s < 0x20 || *s == 0x7f) {
      return true;
    }
  }
  return false;
}

int scn__pick(const char *text, const char *const *words, bool nocase) {
  for (int i = 0; words[i] != NULL; i++) {
    if (nocase ? str_eq_nocase(text, words[i]) : strcmp(text, words[i]) == 0) {
      return i;
    }
  }
  return -1;
}

void scn__join_words(char *dst, size_t dst_size, const char *const *words) {
  size_t used = 0;
  dst[0] = 0;
  for (size_t i = 0; words[i] != NULL; i++) {
    if (!buf_fmt(dst + used, dst_size - used, "%s%s", i > 0 ? ", " : "", words[i])) {
      return;
    }
    used += strlen(dst + used);
  }
}

/* get_scalar finds `key` in `map` as a scalar. *out stays NULL when absent and not required. */
static bool get_scalar(struct scn__ld *ld, const struct scn__node *map, const char *path,
                       const char *key, bool required, const struct scn__node **out) {
  *out = scn__get(map, key);
  if (*out == NULL) {
    return required ? scn__missing(ld, map, path, key) : true;
  }
  char p[SCN__PATH_LEN];
  scn__path_key(p, path, key);
  return scn__want(ld, *out, SCN__SCALAR, p);
}

bool scn__opt_scalar(struct scn__ld *ld, const struct scn__node *map, const char *path,
                     const char *key, const struct scn__node **out) {
  return get_scalar(ld, map, path, key, false, out);
}

bool scn__req_scalar(struct scn__ld *ld, const struct scn__node *map, const char *path,
                     const char *key, const struct scn__node **out) {
  return get_scalar(ld, map, path, key, true, out);
}

/* get_str copies `key`'s string; `line` refuses control characters. */
static bool get_str(struct scn__ld *ld, const struct scn__node *map, const char *path,
                    const char *key, bool required, bool line, char **out) {
  const struct scn__node *n = NULL;
  if (!get_scalar(ld, map, path, key, required, &n)) {
    return false;
  }
  if (n == NULL) {
    return true;
  }
  if (n->len == 0) {
    return scn__fail(ld, n, "%s is empty", key);
  }
  if (line && scn__has_control(n->text)) {
    return scn__fail(ld, n, "%s may not contain control characters or line breaks", key);
  }
  *out = str_dup(n->text);
  return true;
}

bool scn__opt_str(struct scn__ld *ld, const struct scn__node *map, const char *path,
                  const char *key, char **out) {
  return get_str(ld, map, path, key, false, true, out);
}

bool scn__req_str(struct scn__ld *ld, const struct scn__node *map, const char *path,
                  const char *key, char **out) {
  return get_str(ld, map, path, key, true, true, out);
}

bool scn__req_text(struct scn__ld *ld, const struct scn__node *map, const char *path,
                   const char *key, char **out) {
  return get_str(ld, map, path, key, true, false, out);
}

bool scn__opt_u32(struct scn__ld *ld, const struct scn__node *map, const char *path,
                  const char *key, uint32_t min, uint32_t max, bool *present, uint32_t *out) {
  const struct scn__node *n = scn__get(map, key);
  if (present != NULL) {
    *present = n != NULL;
  }
  if (n == NULL) {
    return true;
  }
  char p[SCN__PATH_LEN];
  scn__path_key(p, path, key);
  if (n->kind == SCN__SCALAR && !n->plain) {
    return scn__fail(ld, n,
                     "%s: expected a number from %u to %u, found the quoted string \"%.40s\"", p,
                     (unsigned) min, (unsigned) max, n->text);
  }
  if (n->kind != SCN__SCALAR || !parse_u32(n->text, min, max, out)) {
    char tmp[64];
    return scn__fail(ld, n, "%s: expected a number from %u to %u, found %s", p, (unsigned) min,
                     (unsigned) max, scn__found(n, tmp, sizeof tmp));
  }
  return true;
}

bool scn__opt_bool(struct scn__ld *ld, const struct scn__node *map, const char *path,
                   const char *key, bool *out) {
  const struct scn__node *n = scn__get(map, key);
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
    return scn__fail(ld, n,
                     "%s: expected a boolean (true, false, yes, no), found the quoted string "
                     "\"%.40s\"",
                     p, n->text);
  }
  char tmp[64];
  return scn__fail(ld, n, "%s: expected a boolean (true, false, yes, no), found %s", p,
                   scn__found(n, tmp, sizeof tmp));
}

bool scn__opt_duration(struct scn__ld *ld, const struct scn__node *map, const char *path,
                       const char *key, uint32_t min_ms, uint32_t max_ms, bool *present,
                       uint32_t *out) {
  const struct scn__node *n = NULL;
  if (!scn__opt_scalar(ld, map, path, key, &n)) {
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
    return scn__fail(
        ld, n, "%s \"%.40s\" is not a duration: write a number and ms, s or m (500ms, 5s, 2m)", key,
        n->text);
  }
  if (v < min_ms || v > max_ms) {
    return scn__fail(ld, n, "%s \"%s\" is out of range (%ums to %um)", key, n->text,
                     (unsigned) min_ms, (unsigned) (max_ms / 60000));
  }
  *out = v;
  return true;
}

bool scn__is_id(const char *s, bool allow_underscore) {
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

/* ---- DNS names ---- */

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

bool scn__dns_name(struct scn__ld *ld, const struct scn__node *n, const char *path, bool wildcard,
                   char **out) {
  if (!scn__want(ld, n, SCN__SCALAR, path)) {
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
    return scn__fail(ld, n, "\"%s\" is not a valid DNS name: %s", n->text, why);
  }
  *out = name;
  return true;
}

/* get_dns_name reads the DNS name under `key`; absent is an error when `required`. */
static bool get_dns_name(struct scn__ld *ld, const struct scn__node *map, const char *path,
                         const char *key, bool required, bool wildcard, char **out) {
  char p[SCN__PATH_LEN];
  const struct scn__node *n = scn__child(map, path, key, p);
  if (n == NULL) {
    return required ? scn__missing(ld, map, path, key) : true;
  }
  return scn__dns_name(ld, n, p, wildcard, out);
}

bool scn__opt_dns_name(struct scn__ld *ld, const struct scn__node *map, const char *path,
                       const char *key, bool wildcard, char **out) {
  return get_dns_name(ld, map, path, key, false, wildcard, out);
}

bool scn__req_dns_name(struct scn__ld *ld, const struct scn__node *map, const char *path,
                       const char *key, bool wildcard, char **out) {
  return get_dns_name(ld, map, path, key, true, wildcard, out);
}

bool scn__dns_names(struct scn__ld *ld, const struct scn__node *seq, const char *path,
                    bool wildcard, char ***out, size_t *n_out) {
  if (!scn__want(ld, seq, SCN__SEQ, path)) {
    return false;
  }
  *out = xcalloc(seq->n_kids, sizeof **out);
  for (size_t i = 0; i < seq->n_kids; i++) {
    char p[SCN__PATH_LEN];
    scn__path_index(p, path, i);
    char *name = NULL;
    if (!scn__dns_name(ld, seq->kids[i], p, wildcard, &name)) {
      return false;
    }
    for (size_t j = 0; j < *n_out; j++) {
      if (strcmp((*out)[j], name) == 0) {
        free(name);
        return scn__fail(ld, seq->kids[i], "%s: \"%s\" is listed twice", path, seq->kids[i]->text);
      }
    }
    (*out)[(*n_out)++] = name;
  }
  return true;
}

bool scn__opt_dns_names(struct scn__ld *ld, const struct scn__node *map, const char *path,
                        const char *key, bool wildcard, char ***out, size_t *n_out) {
  char p[SCN__PATH_LEN];
  const struct scn__node *seq = scn__child(map, path, key, p);
  return seq == NULL || scn__dns_names(ld, seq, p, wildcard, out, n_out);
}

/* ---- mail addresses and URLs ---- */

bool scn__email(struct scn__ld *ld, const struct scn__node *n, const char *what, char **out) {
  const char *at = strrchr(n->text, '@');
  if (at == NULL || at == n->text || scn__has_control(n->text) || strchr(n->text, ' ') != NULL ||
      memchr(n->text, '@', (size_t) (at - n->text)) != NULL) {
    return scn__fail(ld, n, "%s \"%s\" is not an address of the form user@domain", what, n->text);
  }
  char *domain = str_lower(str_dup(at + 1));
  const char *why = scn__dns_name_problem(domain, false);
  if (why != NULL) {
    free(domain);
    return scn__fail(ld, n, "%s \"%s\" does not end in @ and a domain: %s", what, n->text, why);
  }
  struct buf b;
  buf_init(&b, 1024);
  if (!buf_appendf(&b, "%.*s@%s", (int) (at - n->text), n->text, domain)) {
    buf_cleanup(&b);
    free(domain);
    return scn__fail(ld, n, "%s is too long", what);
  }
  free(domain);
  *out = buf_take(&b);
  return true;
}

bool scn__opt_email(struct scn__ld *ld, const struct scn__node *map, const char *path,
                    const char *key, char **out) {
  const struct scn__node *n = NULL;
  return scn__opt_scalar(ld, map, path, key, &n) && (n == NULL || scn__email(ld, n, key, out));
}

bool scn__url(struct scn__ld *ld, const struct scn__node *n, const char *what) {
  if (scn__has_control(n->text) || strchr(n->text, ' ') != NULL ||
      (strncmp(n->text, "https://", 8) != 0 && strncmp(n->text, "http://", 7) != 0) ||
      n->text[n->text[4] == 's' ? 8 : 7] == 0) {
    return scn__fail(ld, n, "%s \"%s\" is not an http:// or https:// URL", what, n->text);
  }
  return true;
}

/* get_url copies the URL under `key`; absent is an error when `required`. */
static bool get_url(struct scn__ld *ld, const struct scn__node *map, const char *path,
                    const char *key, bool required, char **out) {
  const struct scn__node *n = NULL;
  if (!get_scalar(ld, map, path, key, required, &n)) {
    return false;
  }
  if (n == NULL) {
    return true;
  }
  if (!scn__url(ld, n, key)) {
    return false;
  }
  *out = str_dup(n->text);
  return true;
}

bool scn__opt_url(struct scn__ld *ld, const struct scn__node *map, const char *path,
                  const char *key, char **out) {
  return get_url(ld, map, path, key, false, out);
}

bool scn__req_url(struct scn__ld *ld, const struct scn__node *map, const char *path,
                  const char *key, char **out) {
  return get_url(ld, map, path, key, true, out);
}

/* ---- network addresses ---- */

bool scn__addr_port(struct scn__ld *ld, const struct scn__node *n, const char *what,
                    uint16_t default_port, char **out_ip, uint16_t *out_port) {
  unsigned char bin[16];
  char ip[64];
  const char *text = n->text;
  const char *port_text = NULL;
  if (n->len == 0 || n->len >= sizeof ip + 8 || scn__has_control(text)) {
    goto bad;
  }
  if (text[0] == '[') { /* [V6] or [V6]:PORT (RFC 3986 3.2.2) */
    const char *close = strchr(text, ']');
    if (close == NULL || (size_t) (close - text - 1) >= sizeof ip) {
      goto bad;
    }
    memcpy(ip, text + 1, (size_t) (close - text - 1));
    ip[close - text - 1] = 0;
    if (close[1] == ':') {
      port_text = close + 2;
    } else if (close[1] != 0) {
      goto bad;
    }
    if (inet_pton(AF_INET6, ip, bin) != 1) {
      goto bad;
    }
  } else if (inet_pton(AF_INET6, text, bin) == 1) {
    (void) buf_fmt(ip, sizeof ip, "%s", text); /* a bare IPv6 address has no port */
  } else {
    const char *colon = strchr(text, ':');
    size_t len = colon != NULL ? (size_t) (colon - text) : n->len;
    if (len >= sizeof ip) {
      goto bad;
    }
    memcpy(ip, text, len);
    ip[len] = 0;
    port_text = colon != NULL ? colon + 1 : NULL;
    if (inet_pton(AF_INET, ip, bin) != 1) {
      goto bad;
    }
  }
  uint32_t port = default_port;
  if (port_text != NULL && !parse_u32(port_text, 1, 65535, &port)) {
    goto bad;
  }
  *out_ip = str_dup(ip);
  *out_port = (uint16_t) port;
  return true;
bad:
  return scn__fail(ld, n,
                   "%s \"%.60s\" is not an IP address with an optional port (192.0.2.53, "
                   "192.0.2.53:5353, [2001:db8::53]:53)",
                   what, text);
}

char *scn__addr_text(const char *ip, uint16_t port) {
  struct buf b;
  buf_init(&b, 128);
  bool v6 = strchr(ip, ':') != NULL;
  if (!buf_appendf(&b, v6 ? "[%s]:%u" : "%s:%u", ip, (unsigned) port)) {
    abort(); /* an address read by scn__addr_port is short */
  }
  return buf_take(&b);
}
