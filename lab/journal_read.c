/* lab/journal_read.c: a JSON-lines journal (docs/journal.md) read line by line with libfyaml
 * (YAML 1.2 reads JSON) into records, split into sessions at each lab.start, and each session
 * turned into transcripts. A line that is not one JSON object with a time and a kind is an
 * error that names its file and line; a last line cut short (a process killed while writing
 * it) is read past with a note. */
#include "lab/journal_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
  MAX_LINE = 2 * 1024 * 1024, /* the journal writes at most 1 MiB a line */
  MAX_FILE = 512 * 1024 * 1024,
  MAX_HOSTS = 4096,
  MAX_ROUTES = 4096,
  MAX_NAMES = 4096,
};

static const char *const field_names[JF_N] = {
    [JF_HOST] = "host",
    [JF_LOCAL] = "local",
    [JF_PEER] = "peer",
    [JF_QNAME] = "qname",
    [JF_QTYPE] = "qtype",
    [JF_RCODE] = "rcode",
    [JF_ANSWERS] = "answers",
    [JF_DROPPED] = "dropped",
    [JF_WHY] = "why",
    [JF_ALERT] = "alert",
    [JF_OK] = "ok",
    [JF_ERROR] = "error",
    [JF_STATE] = "state",
    [JF_TLS] = "tls",
    [JF_METHOD] = "method",
    [JF_PATH] = "path",
    [JF_TARGET] = "target",
    [JF_EMAIL] = "email",
    [JF_STATUS] = "status",
    [JF_ROUTE] = "route",
    [JF_CHALLENGED] = "challenged",
    [JF_CLIENT] = "client",
    [JF_INDEX] = "index",
    [JF_STEP] = "step",
    [JF_URL] = "url",
    [JF_RESULT] = "result",
    [JF_DETAIL] = "detail",
    [JF_DNS_ANSWER] = "dns_answer",
    [JF_DNS_ERROR] = "dns_error",
    [JF_CONNECT_ERROR] = "connect_error",
    [JF_TLS_ERROR] = "tls_error",
    [JF_CERT_FAILURES] = "cert_failures",
    [JF_HTTP_STATUS] = "http_status",
    [JF_REDIRECT_TO] = "redirect_to",
    [JF_AUTH_SCHEMES] = "auth_schemes",
    [JF_TIMED_OUT] = "timed_out",
    [JF_ELAPSED_MS] = "elapsed_ms",
    [JF_KIND] = "kind",
    [JF_REASON] = "reason",
    [JF_ACCEPTED] = "accepted",
    [JF_SUCCESS] = "success",
    [JF_FINAL_URL] = "final_url",
    [JF_EWS_URL] = "ews_url",
    [JF_SETTINGS_EMAIL] = "settings_email",
    [JF_SERVER] = "server",
    [JF_TOTAL_MS] = "total_ms",
    [JF_LOCATION] = "location",
    [JF_HOST_ID] = "host_id",
    [JF_ANSWER] = "answer",
    [JF_RAW] = "raw",
    [JF_AUTH_SCHEME] = NULL, /* authorization.scheme */
};

const char *jrec__str(const struct jrec *r, enum jf f) {
  return r->f[f];
}

bool jrec__bool(const struct jrec *r, enum jf f) {
  return r->f[f] != NULL && strcmp(r->f[f], "true") == 0;
}

bool jrec__num(const struct jrec *r, enum jf f, double *out) {
  const char *s = r->f[f];
  if (s == NULL || *s == '\0') {
    return false;
  }
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (*end != '\0' || errno != 0 || !isfinite(v)) {
    return false;
  }
  *out = v;
  return true;
}

bool jrec__is(const struct jrec *r, const char *ev) {
  return strcmp(r->ev, ev) == 0;
}

/* --- reading one line --- */

struct reader {
  const char *path;
  unsigned line;
  char *err;
  size_t err_size;
  bool failed;
};

static bool fail(struct reader *rd, int col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(struct reader *rd, int col, const char *fmt, ...) {
  if (rd->failed) {
    return false;
  }
  rd->failed = true;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (col > 0) {
    buf_fmt(rd->err, rd->err_size, "%s:%u:%d: %s", rd->path, rd->line, col, msg);
  } else {
    buf_fmt(rd->err, rd->err_size, "%s:%u: %s", rd->path, rd->line, msg);
  }
  return false;
}

/* scalar returns a scalar node's text (owned), NULL for JSON null; *is_scalar says whether the
 * node was a scalar at all. */
static char *scalar(struct fy_node *n, bool *is_scalar) {
  *is_scalar = n != NULL && fy_node_is_scalar(n);
  if (!*is_scalar) {
    return NULL;
  }
  size_t len = 0;
  const char *text = fy_node_get_scalar(n, &len);
  if (text == NULL) {
    return NULL;
  }
  if (fy_node_get_style(n) == FYNS_PLAIN && len == 4 && memcmp(text, "null", 4) == 0) {
    return NULL;
  }
  return str_ndup(text, len);
}

/* is_null says whether a member is absent or the JSON literal null. */
static bool is_null(struct fy_node *n) {
  if (n == NULL) {
    return true;
  }
  size_t len = 0;
  const char *text = fy_node_is_scalar(n) ? fy_node_get_scalar(n, &len) : NULL;
  return text != NULL && fy_node_get_style(n) == FYNS_PLAIN && len == 4 &&
         memcmp(text, "null", 4) == 0;
}

static struct fy_node *get(struct fy_node *map, const char *key) {
  return map != NULL && fy_node_is_mapping(map) ? fy_node_mapping_lookup_by_string(map, key, -1)
                                                : NULL;
}

/* get_str reads an optional string member of `map`; a member of another type is an error. */
static bool get_str(struct reader *rd, struct fy_node *map, const char *what, const char *key,
                    char **out) {
  struct fy_node *n = get(map, key);
  bool is_scalar = false;
  *out = n != NULL ? scalar(n, &is_scalar) : NULL;
  if (n != NULL && !is_scalar) {
    return fail(rd, 0, "%s: \"%s\" is not a string", what, key);
  }
  return true;
}

static bool get_uint(struct reader *rd, struct fy_node *map, const char *what, const char *key,
                     unsigned max, unsigned *out) {
  char *text = NULL;
  *out = 0;
  if (!get_str(rd, map, what, key, &text)) {
    return false;
  }
  uint32_t v = 0;
  bool ok = text == NULL || parse_u32(text, 0, max, &v);
  free(text);
  if (!ok) {
    return fail(rd, 0, "%s: \"%s\" is not a number from 0 to %u", what, key, max);
  }
  *out = v;
  return true;
}

static bool get_list(struct reader *rd, struct fy_node *map, const char *what, const char *key,
                     char ***out, size_t *out_n) {
  struct fy_node *n = get(map, key);
  *out = xcalloc(1, sizeof **out);
  *out_n = 0;
  if (is_null(n)) {
    return true; /* absent or null: none */
  }
  if (!fy_node_is_sequence(n) || fy_node_sequence_item_count(n) > MAX_NAMES) {
    return fail(rd, 0, "%s: \"%s\" is not a list of strings", what, key);
  }
  int count = fy_node_sequence_item_count(n);
  *out = xrealloc_array(*out, (size_t) count + 1, sizeof **out);
  void *iter = NULL;
  struct fy_node *item;
  while ((item = fy_node_sequence_iterate(n, &iter)) != NULL) {
    bool is_scalar = false;
    char *s = scalar(item, &is_scalar);
    if (s == NULL) {
      return fail(rd, 0, "%s: \"%s\" is not a list of strings", what, key);
    }
    (*out)[(*out_n)++] = s;
  }
  return true;
}

static bool digits(const char *p, size_t n, unsigned *out) {
  unsigned v = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') {
      return false;
    }
    v = v * 10 + (unsigned) (p[i] - '0');
  }
  *out = v;
  return true;
}

/* parse_time reads RFC 3339 ("2026-11-27T21:02:56.123456Z", or with an offset) as
 * microseconds since the epoch. */
static bool parse_time(const char *s, int64_t *out) {
  unsigned y, mo, d, h, mi, sec;
  if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
      !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
      s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
    return false;
  }
  const char *p = s + 19;
  int64_t us = 0;
  if (*p == '.') {
    p++;
    int n = 0;
    for (; *p >= '0' && *p <= '9'; p++, n++) {
      if (n < 6) {
        us = us * 10 + (*p - '0');
      }
    }
    if (n == 0) {
      return false;
    }
    for (; n < 6; n++) {
      us *= 10;
    }
  }
  int64_t offset = 0;
  unsigned oh, om;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if ((*p == '+' || *p == '-') && digits(p + 1, 2, &oh) && p[3] == ':' &&
             digits(p + 4, 2, &om) && oh < 24 && om < 60) {
    offset = (*p == '-' ? -1 : 1) * (int64_t) (oh * 3600 + om * 60);
    p += 6;
  } else {
    return false;
  }
  if (*p != '\0') {
    return false;
  }
  struct tm tm = {.tm_year = (int) y - 1900,
                  .tm_mon = (int) mo - 1,
                  .tm_mday = (int) d,
                  .tm_hour = (int) h,
                  .tm_min = (int) mi,
                  .tm_sec = (int) sec};
  time_t secs = timegm(&tm);
  *out = ((int64_t) secs - offset) * 1000000 + us;
  return true;
}

/* --- lab.start --- */

/* read_route reads a route of lab.start, or (`parent` not NULL) one of its answers, which
 * takes its path and method from the route. */
static bool read_route(struct reader *rd, struct fy_node *n, struct lab_route_desc *r,
                       const struct lab_route_desc *parent) {
  const char *what = parent != NULL ? "lab.start: a route's answer" : "lab.start: a route";
  if (!fy_node_is_mapping(n)) {
    return fail(rd, 0, "%s is not an object", what);
  }
  if (parent != NULL) {
    r->path = str_dup(parent->path);
    r->method = str_dup(parent->method);
  }
  struct fy_node *answers = parent == NULL ? get(n, "answers") : NULL;
  if (answers != NULL) {
    if (!fy_node_is_sequence(answers) || fy_node_sequence_item_count(answers) > MAX_ROUTES) {
      return fail(rd, 0, "%s: \"answers\" is not a list", what);
    }
    r->answers = xcalloc((size_t) fy_node_sequence_item_count(answers) + 1, sizeof *r->answers);
  }
  bool ok = (parent != NULL || (get_str(rd, n, what, "path", &r->path) &&
                                get_str(rd, n, what, "method", &r->method))) &&
            get_uint(rd, n, what, "first", 1000000, &r->first) &&
            get_str(rd, n, what, "for_email", &r->for_email);
  void *iter = NULL;
  struct fy_node *item;
  while (ok && answers != NULL && (item = fy_node_sequence_iterate(answers, &iter)) != NULL) {
    ok = read_route(rd, item, &r->answers[r->n_answers++], r);
  }
  return ok && get_str(rd, n, what, "kind", &r->kind) &&
         get_uint(rd, n, what, "status", 999, &r->status) &&
         get_str(rd, n, what, "location", &r->location) &&
         get_str(rd, n, what, "answer", &r->answer) &&
         get_str(rd, n, what, "redirect", &r->redirect) &&
         get_str(rd, n, what, "ews_url", &r->ews_url) &&
         get_str(rd, n, what, "server", &r->server) &&
         get_uint(rd, n, what, "error_code", 1000000, &r->error_code) &&
         get_str(rd, n, what, "challenges", &r->challenges);
}

static bool read_cert(struct reader *rd, struct fy_node *n, struct lab_cert_desc *c) {
  const char *what = "lab.start: a certificate";
  if (!fy_node_is_mapping(n)) {
    return fail(rd, 0, "%s is not an object", what);
  }
  c->present = true;
  char *nb = NULL, *na = NULL;
  bool ok = get_str(rd, n, what, "profile", &c->profile) &&
            get_str(rd, n, what, "subject", &c->subject) &&
            get_str(rd, n, what, "issuer", &c->issuer) &&
            get_list(rd, n, what, "names", &c->names, &c->n_names) &&
            get_str(rd, n, what, "not_before", &nb) && get_str(rd, n, what, "not_after", &na);
  int64_t before = 0, after = 0;
  if (ok && nb != NULL && na != NULL) {
    if (!parse_time(nb, &before) || !parse_time(na, &after)) {
      ok = fail(rd, 0, "%s: not_before and not_after must be RFC 3339 times", what);
    } else {
      c->has_dates = true;
      c->not_before = before / 1000000;
      c->not_after = after / 1000000;
    }
  }
  char *trusted = NULL;
  if (ok && get_str(rd, n, what, "trusted", &trusted)) {
    c->trusted = trusted == NULL || strcmp(trusted, "false") != 0;
  }
  free(trusted);
  free(nb);
  free(na);
  return ok && !rd->failed;
}

static bool read_port(struct reader *rd, struct fy_node *n, struct lab_port_desc *p,
                      struct lab_cert_desc *cert) {
  const char *what = "lab.start: a host's port";
  if (is_null(n)) {
    return true; /* null: refused */
  }
  if (!fy_node_is_mapping(n)) {
    return fail(rd, 0, "%s is not an object or null", what);
  }
  p->present = true;
  if (!get_uint(rd, n, what, "port", 65535, &p->port) ||
      !get_str(rd, n, what, "fault", &p->fault)) {
    return false;
  }
  if (get(n, "nominal") != NULL) { /* a listeners: entry */
    char *tls = NULL;
    if (!get_uint(rd, n, what, "nominal", 65535, &p->nominal) ||
        !get_str(rd, n, what, "tls", &tls)) {
      return false;
    }
    p->tls = tls == NULL || strcmp(tls, "false") != 0;
    free(tls);
    cert = p->tls ? &p->cert : NULL;
  }
  struct fy_node *c = get(n, "certificate");
  if (c != NULL && cert != NULL && !read_cert(rd, c, cert)) {
    return false;
  }
  struct fy_node *routes = get(n, "routes");
  if (routes == NULL) {
    return true;
  }
  if (!fy_node_is_sequence(routes) || fy_node_sequence_item_count(routes) > MAX_ROUTES) {
    return fail(rd, 0, "%s: \"routes\" is not a list", what);
  }
  p->routes = xcalloc((size_t) fy_node_sequence_item_count(routes) + 1, sizeof *p->routes);
  void *iter = NULL;
  struct fy_node *item;
  while ((item = fy_node_sequence_iterate(routes, &iter)) != NULL) {
    if (!read_route(rd, item, &p->routes[p->n_routes++], NULL)) {
      return false;
    }
  }
  return true;
}

/* read_ports reads a host's listeners: (its ports other than 443 and 80). */
static bool read_ports(struct reader *rd, struct fy_node *host, struct lab_host_desc *h) {
  struct fy_node *list = get(host, "listeners");
  if (list == NULL) {
    return true;
  }
  if (!fy_node_is_sequence(list) || fy_node_sequence_item_count(list) > MAX_ROUTES) {
    return fail(rd, 0, "lab.start: a host's \"listeners\" is not a list");
  }
  h->ports = xcalloc((size_t) fy_node_sequence_item_count(list) + 1, sizeof *h->ports);
  void *iter = NULL;
  struct fy_node *item;
  while ((item = fy_node_sequence_iterate(list, &iter)) != NULL) {
    struct lab_port_desc *p = &h->ports[h->n_ports++];
    if (!fy_node_is_mapping(item)) {
      return fail(rd, 0, "lab.start: a host's listener is not an object");
    }
    if (!read_port(rd, item, p, NULL)) {
      return false;
    }
  }
  return true;
}

static struct lab_desc *read_lab_start(struct reader *rd, struct fy_node *root) {
  const char *what = "lab.start";
  struct lab_desc *d = xcalloc(1, sizeof *d);
  struct fy_node *scn = get(root, "scenario");
  bool ok = (scn == NULL || (get_str(rd, scn, what, "path", &d->scenario_path) &&
                             get_str(rd, scn, what, "name", &d->scenario_name))) &&
            get_str(rd, root, what, "domain", &d->domain) &&
            get_str(rd, root, what, "email", &d->email) &&
            get_str(rd, root, what, "dns", &d->dns) &&
            get_list(rd, root, what, "scp", &d->scp_urls, &d->n_scp_urls);
  struct fy_node *hosts = get(root, "hosts");
  if (ok && hosts != NULL &&
      (!fy_node_is_sequence(hosts) || fy_node_sequence_item_count(hosts) > MAX_HOSTS)) {
    ok = fail(rd, 0, "lab.start: \"hosts\" is not a list");
  }
  if (ok && hosts != NULL) {
    d->hosts = xcalloc((size_t) fy_node_sequence_item_count(hosts) + 1, sizeof *d->hosts);
    void *iter = NULL;
    struct fy_node *item;
    while (ok && (item = fy_node_sequence_iterate(hosts, &iter)) != NULL) {
      struct lab_host_desc *h = &d->hosts[d->n_hosts++];
      ok = fy_node_is_mapping(item) ? true : fail(rd, 0, "lab.start: a host is not an object");
      ok = ok && get_str(rd, item, "lab.start: a host", "id", &h->id) &&
           get_list(rd, item, "lab.start: a host", "names", &h->names, &h->n_names) &&
           get_str(rd, item, "lab.start: a host", "address", &h->address) &&
           read_port(rd, get(item, "https"), &h->https, &h->cert) &&
           read_port(rd, get(item, "http"), &h->http, NULL) && read_ports(rd, item, h);
      h->https.nominal = 443;
      h->https.tls = true;
      h->http.nominal = 80;
      if (ok && h->id == NULL) {
        ok = fail(rd, 0, "lab.start: a host has no \"id\"");
      }
    }
  }
  if (!ok) {
    lab_desc_free(d);
    return NULL;
  }
  return d;
}

/* --- findings --- */

static struct lab_finding *read_finding(struct fy_node *root, unsigned line) {
  struct lab_finding *f = xcalloc(1, sizeof *f);
  bool is_scalar = false;
  f->kind = scalar(get(root, "kind"), &is_scalar);
  f->host = scalar(get(root, "host"), &is_scalar);
  f->line = line;
  struct buf text;
  buf_init(&text, 4096);
  static const char *const sentence[] = {"why", "detail", "message"};
  for (size_t i = 0; i < 3 && text.len == 0; i++) {
    char *s = scalar(get(root, sentence[i]), &is_scalar);
    if (s != NULL) {
      buf_append_str(&text, s);
    }
    free(s);
  }
  /* the other scalar members, as "key value" */
  void *iter = NULL;
  struct fy_node_pair *pair;
  bool first = true;
  while ((pair = fy_node_mapping_iterate(root, &iter)) != NULL) {
    bool key_scalar = false;
    char *key = scalar(fy_node_pair_key(pair), &key_scalar);
    char *value = scalar(fy_node_pair_value(pair), &is_scalar);
    bool skip = key == NULL || value == NULL || strcmp(key, "t") == 0 || strcmp(key, "ev") == 0 ||
                strcmp(key, "kind") == 0 || strcmp(key, "host") == 0 || strcmp(key, "why") == 0 ||
                strcmp(key, "detail") == 0 || strcmp(key, "message") == 0;
    if (!skip) {
      buf_appendf(&text, "%s%s %s", first ? (text.len > 0 ? " (" : "(") : ", ", key, value);
      first = false;
    }
    free(key);
    free(value);
  }
  if (!first) {
    buf_append_str(&text, ")");
  }
  f->text = buf_take(&text);
  if (f->text == NULL) {
    f->text = str_dup("");
  }
  return f;
}

static void finding_free(struct lab_finding *f) {
  if (f != NULL) {
    free(f->kind);
    free(f->host);
    free(f->text);
    free(f);
  }
}

/* read_line parses one line into *r; false with rd->err set when it is not an event. */
static bool read_line(struct reader *rd, const char *text, size_t len, struct jrec *r) {
  memset(r, 0, sizeof *r);
  r->line = rd->line;
  struct fy_diag_cfg dcfg;
  fy_diag_cfg_default(&dcfg);
  dcfg.fp = NULL; /* errors are collected and reported here */
  dcfg.colorize = false;
  struct fy_diag *diag = fy_diag_create(&dcfg);
  if (diag == NULL) {
    abort(); /* out of memory is not an input error */
  }
  fy_diag_set_collect_errors(diag, true);
  struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_JSON_FORCE,
                             .diag = diag};
  struct fy_document *doc = fy_document_build_from_string(&cfg, text, len);
  struct fy_node *root = doc != NULL ? fy_document_root(doc) : NULL;
  bool ok = false;
  if (doc == NULL) {
    void *iter = NULL;
    struct fy_diag_error *e = fy_diag_errors_iterate(diag, &iter);
    const char *why = e != NULL && e->msg != NULL ? e->msg : "libfyaml could not read it";
    if (e != NULL && e->line > 1) { /* past the line's end: the object is not closed */
      fail(rd, (int) len + 1, "not JSON: the line ends inside the object (%s)", why);
    } else {
      fail(rd, e != NULL && e->column > 0 ? e->column : 1, "not JSON: %s", why);
    }
  } else if (root == NULL || !fy_node_is_mapping(root)) {
    fail(rd, 1, "not a JSON object: a journal holds one event object per line");
  } else {
    bool is_scalar = false;
    r->ev = scalar(get(root, "ev"), &is_scalar);
    char *t = scalar(get(root, "t"), &is_scalar);
    if (r->ev == NULL || *r->ev == '\0') {
      fail(rd, 0, "the event has no \"ev\" (its kind)");
    } else if (t == NULL) {
      fail(rd, 0, "%s event without its time \"t\"", r->ev);
    } else if (!parse_time(t, &r->t_us)) {
      fail(rd, 0, "\"t\": %s is not an RFC 3339 time (2026-11-27T21:02:56.123456Z)", t);
    } else {
      ok = true;
    }
    free(t);
    for (int f = 0; ok && f < JF_N; f++) {
      if (field_names[f] != NULL) {
        r->f[f] = scalar(get(root, field_names[f]), &is_scalar);
      }
    }
    if (ok) {
      r->f[JF_AUTH_SCHEME] = scalar(get(get(root, "authorization"), "scheme"), &is_scalar);
    }
    if (ok && strcmp(r->ev, "lab.start") == 0) {
      r->lab = read_lab_start(rd, root);
      ok = r->lab != NULL;
    }
    if (ok && strcmp(r->ev, "finding") == 0) {
      r->finding = read_finding(root, rd->line);
    }
  }
  fy_document_destroy(doc);
  fy_diag_destroy(diag);
  return ok;
}

static void jrec_cleanup(struct jrec *r) {
  free(r->ev);
  for (int f = 0; f < JF_N; f++) {
    free(r->f[f]);
  }
  lab_desc_free(r->lab);
  finding_free(r->finding);
}

/* --- the journal --- */

static void note(struct lab_journal *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct lab_journal *j, const char *fmt, ...) {
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  j->notes = xrealloc_array(j->notes, j->n_notes + 1, sizeof *j->notes);
  j->notes[j->n_notes++] = str_dup(text);
}

static void add_transcript(struct lab_journal *j, struct sim_transcript *t, bool inferred) {
  j->transcripts = xrealloc_array(j->transcripts, j->n_transcripts + 1, sizeof *j->transcripts);
  j->inferred = xrealloc_array(j->inferred, j->n_transcripts + 1, sizeof *j->inferred);
  j->transcripts[j->n_transcripts] = t;
  j->inferred[j->n_transcripts++] = inferred;
}

static bool is_server_event(const struct jrec *r) {
  static const char *const kinds[] = {"dns.query",    "tcp.accept",    "tcp.reset",
                                      "tls.hello",    "tls.alert",     "tls.done",
                                      "http.request", "http.response", "http.error"};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    if (jrec__is(r, kinds[i])) {
      return true;
    }
  }
  return false;
}

static const struct scn_client *client_cfg(const struct scn *s, const char *model) {
  for (size_t i = 0; s != NULL && model != NULL && i < s->n_clients; i++) {
    if (strcmp(s->clients[i].model, model) == 0) {
      return &s->clients[i];
    }
  }
  return NULL;
}

/* read_session turns the records of one session into transcripts. */
static void read_session(struct lab_journal *j, const struct jrec *recs, size_t n,
                         const struct lab_desc *lab, const struct lab_journal_options *opt) {
  struct jsession s = {.recs = recs, .n = n, .lab = lab, .opt = opt};
  s.cfg = client_cfg(opt->scn, opt->client);
  const struct sim_model *m = sim_model_named(opt->client);
  if (m != NULL) {
    sim_model_prompt_policy(m, s.cfg, &s.policy);
  } else {
    s.policy = (struct sim_prompt_policy){
        .cert_prompts =
            SIM_CERT_UNTRUSTED | SIM_CERT_EXPIRED | SIM_CERT_NOT_YET_VALID | SIM_CERT_NAME,
        .http_redirect_consent = true,
        .srv_consent = true,
        .silent_sso = true,
    };
  }
  bool client_events = false, server_events = false;
  for (size_t i = 0; i < n; i++) {
    client_events = client_events || strncmp(recs[i].ev, "step.", 5) == 0;
    server_events = server_events || is_server_event(&recs[i]);
  }
  if (client_events) {
    size_t first = j->n_transcripts;
    jclient__transcripts(&s, &j->transcripts, &j->n_transcripts);
    j->inferred = xrealloc_array(j->inferred, j->n_transcripts + 1, sizeof *j->inferred);
    for (size_t i = first; i < j->n_transcripts; i++) {
      j->inferred[i] = false;
    }
  } else if (server_events) {
    add_transcript(j, jinfer__transcript(&s), true);
  }
}

/* open_regular opens `path` for reading only when it is a regular file: a FIFO or a device
 * would have the reader wait forever. NULL with errno set (EINVAL: not a regular file). */
static FILE *open_regular(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    errno = EINVAL;
    return NULL;
  }
  FILE *f = fdopen(fd, "rb");
  if (f == NULL) {
    close(fd);
  }
  return f;
}

static char *read_file(const char *path, size_t *out_len, char *err, size_t err_size) {
  FILE *f = open_regular(path);
  if (f == NULL) {
    buf_fmt(err, err_size, "%s: cannot read it: %s", path,
            errno == EINVAL ? "not a regular file" : strerror(errno));
    return NULL;
  }
  struct buf b;
  buf_init(&b, MAX_FILE);
  uint8_t chunk[65536];
  size_t got;
  bool ok = true;
  while (ok && (got = fread(chunk, 1, sizeof chunk, f)) > 0) {
    ok = buf_append(&b, (struct slice){chunk, got});
  }
  bool io_error = ferror(f) != 0;
  fclose(f);
  if (!ok || io_error) {
    buf_fmt(err, err_size, "%s: %s", path,
            io_error ? "cannot read it" : "larger than 512 MiB: not a journal this reads");
    buf_cleanup(&b);
    return NULL;
  }
  *out_len = b.len;
  char *text = buf_take(&b);
  return text != NULL ? text : str_dup("");
}

int lab_journal_read(struct lab_journal **out, const char *path,
                     const struct lab_journal_options *opt, char *err, size_t err_size) {
  *out = NULL;
  size_t len = 0;
  char *text = read_file(path, &len, err, err_size);
  if (text == NULL) {
    return -1;
  }
  int rc = lab_journal_read_string(out, path, text, len, opt, err, err_size);
  free(text);
  return rc;
}

int lab_journal_read_string(struct lab_journal **out, const char *path, const char *text,
                            size_t len, const struct lab_journal_options *opt, char *err,
                            size_t err_size) {
  static const struct lab_journal_options none = {0};
  opt = opt != NULL ? opt : &none;
  *out = NULL;
  struct reader rd = {.path = path, .err = err, .err_size = err_size};
  struct lab_journal *j = xcalloc(1, sizeof *j);
  j->path = str_dup(path);
  struct jrec *recs = NULL;
  size_t n = 0;
  size_t pos = 0;
  while (pos < len && !rd.failed) {
    rd.line++;
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t end = nl != NULL ? (size_t) (nl - text) : len;
    size_t start = pos;
    pos = nl != NULL ? end + 1 : len;
    size_t k = start;
    while (k < end && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r')) {
      k++;
    }
    if (k == end) {
      continue; /* a blank line */
    }
    if (end - start > MAX_LINE) {
      fail(&rd, 0, "a line longer than 2 MiB: not a journal line");
      break;
    }
    struct jrec r;
    if (read_line(&rd, text + start, end - start, &r)) {
      recs = xrealloc_array(recs, n + 1, sizeof *recs);
      recs[n++] = r;
      continue;
    }
    jrec_cleanup(&r);
    if (nl == NULL) { /* the last line, cut short: a killed process */
      note(j,
           "%s:%u: the last line is cut short (the process was stopped while writing it?): "
           "read past it",
           path, rd.line);
      rd.failed = false;
    }
  }
  int rc = 0;
  if (rd.failed) {
    rc = -1;
  } else if (n == 0) {
    buf_fmt(err, err_size, "%s: no events: an empty journal", path);
    rc = -1;
  }
  if (rc == 0) {
    j->n_events = n;
    struct lab_desc *from_scn = opt->scn != NULL ? lab_desc_of_scn(opt->scn) : NULL;
    size_t start = 0;
    const struct lab_desc *lab = from_scn;
    for (size_t i = 0; i <= n; i++) {
      if (i == n || recs[i].lab != NULL) {
        read_session(j, recs + start, i - start, lab, opt);
        if (i < n) {
          lab = recs[i].lab;
          start = i + 1;
        }
      }
      if (i < n && recs[i].finding != NULL) {
        j->findings = xrealloc_array(j->findings, j->n_findings + 1, sizeof *j->findings);
        j->findings[j->n_findings++] = *recs[i].finding;
        free(recs[i].finding); /* its strings now belong to j */
        recs[i].finding = NULL;
      }
      if (i < n && jrec__is(&recs[i], "journal.truncated")) {
        note(j, "%s:%u: an event too large for one line was left out by the lab", path,
             recs[i].line);
      }
    }
    /* the last lab.start describes the lab; the scenario's description stands in otherwise */
    for (size_t i = n; i-- > 0;) {
      if (recs[i].lab != NULL) {
        j->lab = recs[i].lab;
        recs[i].lab = NULL;
        break;
      }
    }
    if (j->lab == NULL) {
      j->lab = from_scn;
      from_scn = NULL;
    }
    lab_desc_free(from_scn);
    if (j->n_transcripts == 0) {
      struct jsession s = {.recs = recs, .n = 0, .lab = j->lab, .opt = opt};
      add_transcript(j, jinfer__transcript(&s), true); /* no client reached the lab */
    }
  }
  for (size_t i = 0; i < n; i++) {
    jrec_cleanup(&recs[i]);
  }
  free(recs);
  if (rc != 0) {
    lab_journal_free(j);
    return -1;
  }
  *out = j;
  return 0;
}

void lab_journal_free(struct lab_journal *j) {
  if (j == NULL) {
    return;
  }
  for (size_t i = 0; i < j->n_transcripts; i++) {
    sim_transcript_free(j->transcripts[i]);
  }
  free(j->transcripts);
  free(j->inferred);
  for (size_t i = 0; i < j->n_findings; i++) {
    free(j->findings[i].kind);
    free(j->findings[i].host);
    free(j->findings[i].text);
  }
  free(j->findings);
  for (size_t i = 0; i < j->n_notes; i++) {
    free(j->notes[i]);
  }
  free(j->notes);
  lab_desc_free(j->lab);
  free(j->path);
  free(j);
}

bool lab_is_journal(const char *path) {
  FILE *f = open_regular(path);
  if (f == NULL) {
    return false;
  }
  int c;
  while ((c = fgetc(f)) == ' ' || c == '\t' || c == '\r' || c == '\n') {
  }
  fclose(f);
  return c == '{';
}

const struct sim_transcript *lab_journal_pick(const struct lab_journal *j, const char *client) {
  for (size_t i = 0; client != NULL && i < j->n_transcripts; i++) {
    if (!j->inferred[i] && strcmp(j->transcripts[i]->client, client) == 0) {
      return j->transcripts[i];
    }
  }
  for (size_t i = j->n_transcripts; i-- > 0;) {
    if (j->inferred[i]) {
      return j->transcripts[i];
    }
  }
  return NULL;
}
