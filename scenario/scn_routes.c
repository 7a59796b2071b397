/* scenario/scn_routes.c: one route of a listener — a path (and method) and what answers it: a
 * status with a body, a redirect, a canned Autodiscover answer (POX, AutoDV2, SOAP) or a real
 * server (read by scn_upstream.c), plus the headers and the HTTP authentication the lab's own
 * answers may add (docs/scenarios.md, "Routes"). */
#include "common/buf.h"
#include "scenario/internal.h"

#include <string.h>

/* in the order of enum scn_route_kind; "answers" is a route's list of replies, not a kind */
static const char *const route_kinds[] = {
    "status", "redirect", "autodiscover", "autodiscover_v2", "soap", "upstream", NULL};

/* ---- Autodiscover answers ---- */

static const char *const protocol_types[] = {"EXCH", "EXPR", "WEB", "EXHTTP", NULL};

static bool load_protocol(struct scn__ld *ld, const struct scn__node *n, const char *path,
                          struct scn_ad_protocol *pr) {
  static const char *const keys[] = {"type", "server", "ews",          "as", "oab",
                                     "owa",  "ssl",    "auth_package", NULL};
  if (!scn__want_map(ld, n, path, keys)) {
    return false;
  }
  pr->mark = scn__mark(n);
  pr->ssl = true;
  const struct scn__node *t = NULL;
  if (!scn__req_scalar(ld, n, path, "type", &t)) {
    return false;
  }
  int i = scn__pick(t->text, protocol_types, true);
  if (i < 0) {
    return scn__fail(ld, t, "protocol type \"%s\" is not EXCH, EXPR, WEB or EXHTTP", t->text);
  }
  pr->type = str_dup(protocol_types[i]);
  return scn__opt_dns_name(ld, n, path, "server", SCN__NO_WILDCARD, &pr->server) &&
         scn__opt_url(ld, n, path, "ews", &pr->ews_url) &&
         scn__opt_url(ld, n, path, "as", &pr->as_url) &&
         scn__opt_url(ld, n, path, "oab", &pr->oab_url) &&
         scn__opt_url(ld, n, path, "owa", &pr->owa_url) &&
         scn__opt_str(ld, n, path, "auth_package", &pr->auth_package) &&
         scn__opt_bool(ld, n, path, "ssl", &pr->ssl);
}

/* load_settings reads autodiscover.settings (and soap.settings). */
static bool load_settings(struct scn__ld *ld, const struct scn__node *n, const char *p,
                          struct scn_autodiscover *ad) {
  static const char *const skeys[] = {"ews",          "server",    "display_name",
                                      "auth_package", "protocols", NULL};
  if (!scn__want_map(ld, n, p, skeys)) {
    return false;
  }
  /* without Protocol blocks, ews is what the default EXPR and EXCH blocks are made of */
  bool ews_ok = scn__get(n, "protocols") != NULL ? scn__opt_url(ld, n, p, "ews", &ad->ews_url)
                                                 : scn__req_url(ld, n, p, "ews", &ad->ews_url);
  if (!ews_ok || !scn__opt_dns_name(ld, n, p, "server", SCN__NO_WILDCARD, &ad->server) ||
      !scn__opt_str(ld, n, p, "display_name", &ad->display_name) ||
      !scn__opt_str(ld, n, p, "auth_package", &ad->auth_package)) {
    return false;
  }
  char pp[SCN__PATH_LEN];
  const struct scn__node *protocols = NULL;
  if (!scn__opt_seq(ld, n, p, "protocols", pp, &protocols)) {
    return false;
  }
  if (protocols == NULL) {
    return true;
  }
  if (protocols->n_kids == 0) {
    return scn__fail(ld, protocols, "%s is empty: leave it out for the default EXPR and EXCH", pp);
  }
  ad->protocols = xcalloc(protocols->n_kids, sizeof ad->protocols[0]);
  for (size_t i = 0; i < protocols->n_kids; i++) {
    char ip[SCN__PATH_LEN];
    scn__path_index(ip, pp, i);
    if (!load_protocol(ld, protocols->kids[i], ip, &ad->protocols[ad->n_protocols++])) {
      return false;
    }
  }
  return true;
}

static bool load_autodiscover(struct scn__ld *ld, const struct scn__node *n, const char *path,
                              struct scn_autodiscover *ad) {
  static const char *const keys[] = {"settings", "redirect_addr", "redirect_url",
                                     "error",    "message",       NULL};
  static const char *const actions[] = {"settings", "redirect_addr", "redirect_url", "error", NULL};
  if (!scn__want_map(ld, n, path, keys)) {
    return false;
  }
  const struct scn__node *first = NULL;
  int n_actions = 0;
  for (int i = 0; actions[i] != NULL; i++) {
    const struct scn__node *v = scn__get(n, actions[i]);
    if (v == NULL) {
      continue;
    }
    if (++n_actions > 1) {
      return scn__fail(ld, v, "%s: give only one of settings, redirect_addr, redirect_url, error",
                       path);
    }
    first = v;
    ad->action = (enum scn_ad_action) i;
  }
  if (first == NULL) {
    return scn__fail(ld, n, "%s: needs one of settings, redirect_addr, redirect_url, error", path);
  }
  const struct scn__node *msg = scn__get(n, "message");
  if (msg != NULL && ad->action != SCN_AD_ERROR) {
    return scn__fail(ld, msg, "%s: message goes only with error", path);
  }
  char p[SCN__PATH_LEN];
  scn__path_key(p, path, actions[ad->action]);
  switch (ad->action) {
    case SCN_AD_SETTINGS: return load_settings(ld, first, p, ad);
    case SCN_AD_REDIRECT_ADDR:
      return scn__want(ld, first, SCN__SCALAR, p) &&
             scn__email(ld, first, "redirect_addr", &ad->redirect_addr);
    case SCN_AD_REDIRECT_URL: return scn__req_url(ld, n, path, "redirect_url", &ad->redirect_url);
    case SCN_AD_ERROR:
      return scn__opt_u32(ld, n, path, "error", 1, 999, NULL, &ad->error_code) &&
             scn__opt_str(ld, n, path, "message", &ad->error_message);
  }
  return true;
}

/* load_soap reads soap: { settings: {...} } (GetUserSettings / GetDomainSettings answers). */
static bool load_soap(struct scn__ld *ld, const struct scn__node *n, const char *path,
                      struct scn_autodiscover *ad) {
  static const char *const keys[] = {"settings", NULL};
  char p[SCN__PATH_LEN];
  const struct scn__node *settings = NULL;
  if (!scn__want_map(ld, n, path, keys) || !scn__req_child(ld, n, path, "settings", p, &settings)) {
    return false;
  }
  ad->action = SCN_AD_SETTINGS;
  return load_settings(ld, settings, p, ad);
}

static bool load_autodiscover_v2(struct scn__ld *ld, const struct scn__node *n, const char *path,
                                 struct scn_autodiscover_v2 *ad2) {
  static const char *const keys[] = {"protocols", "not_found_status", NULL};
  char pp[SCN__PATH_LEN];
  const struct scn__node *protocols = NULL;
  if (!scn__want_map(ld, n, path, keys) ||
      !scn__req_child(ld, n, path, "protocols", pp, &protocols) ||
      !scn__want_map(ld, protocols, pp, NULL)) {
    return false;
  }
  if (protocols->n_kids == 0) {
    return scn__fail(ld, protocols, "%s is empty: list at least one protocol and its URL", pp);
  }
  size_t n_prot = protocols->n_kids / 2;
  ad2->protocols = xcalloc(n_prot, sizeof ad2->protocols[0]);
  ad2->urls = xcalloc(n_prot, sizeof ad2->urls[0]);
  for (size_t i = 0; i + 1 < protocols->n_kids; i += 2) {
    const struct scn__node *k = protocols->kids[i];
    const struct scn__node *v = protocols->kids[i + 1];
    for (const char *c = k->text; *c != 0; c++) {
      if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9'))) {
        return scn__fail(ld, k, "protocol name \"%s\" may only use letters and digits (EWS, ...)",
                         k->text);
      }
    }
    if (k->len == 0) {
      return scn__fail(ld, k, "%s: a protocol name is empty", pp);
    }
    for (size_t j = 0; j < ad2->n_protocols; j++) {
      if (str_eq_nocase(ad2->protocols[j], k->text)) {
        return scn__fail(ld, k, "protocol \"%s\" is listed twice (names are matched in any case)",
                         k->text);
      }
    }
    char p[SCN__PATH_LEN];
    scn__path_key(p, pp, k->text);
    if (!scn__want(ld, v, SCN__SCALAR, p) || !scn__url(ld, v, k->text)) {
      return false;
    }
    ad2->protocols[ad2->n_protocols] = str_dup(k->text);
    ad2->urls[ad2->n_protocols++] = str_dup(v->text);
  }
  uint32_t st = 400;
  if (!scn__opt_u32(ld, n, path, "not_found_status", 100, 599, NULL, &st)) {
    return false;
  }
  ad2->not_found_status = (uint16_t) st;
  return true;
}

/* ---- what any route may add ---- */

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

static bool load_headers(struct scn__ld *ld, const struct scn__node *n, const char *path,
                         struct scn_route *r) {
  if (!scn__want_map(ld, n, path, NULL)) {
    return false;
  }
  r->headers = xcalloc(n->n_kids / 2 + 1, sizeof r->headers[0]);
  for (size_t i = 0; i + 1 < n->n_kids; i += 2) {
    const struct scn__node *k = n->kids[i];
    const struct scn__node *v = n->kids[i + 1];
    if (!is_token(k->text)) {
      return scn__fail(ld, k, "header name \"%s\" is not an HTTP token (letters, digits, -, ...)",
                       k->text);
    }
    for (size_t j = 0; j < r->n_headers; j++) {
      if (str_eq_nocase(r->headers[j].name, k->text)) {
        return scn__fail(ld, k, "header \"%s\" is given twice (header names are case-insensitive)",
                         k->text);
      }
    }
    char p[SCN__PATH_LEN];
    scn__path_key(p, path, k->text);
    if (!scn__want(ld, v, SCN__SCALAR, p)) {
      return false;
    }
    if (scn__has_control(v->text)) {
      return scn__fail(ld, v, "header %s may not contain control characters or line breaks",
                       k->text);
    }
    r->headers[r->n_headers].name = str_dup(k->text);
    r->headers[r->n_headers++].value = str_dup(v->text);
  }
  return true;
}

static bool load_auth(struct scn__ld *ld, const struct scn__node *n, const char *path,
                      struct scn_auth *auth) {
  static const char *const keys[] = {"challenges", "accept", NULL};
  if (!scn__want_map(ld, n, path, keys)) {
    return false;
  }
  auth->present = true;
  auth->accept_credentials = true;
  char cp[SCN__PATH_LEN];
  const struct scn__node *ch = NULL;
  if (!scn__req_child(ld, n, path, "challenges", cp, &ch) || !scn__want(ld, ch, SCN__SEQ, cp)) {
    return false;
  }
  if (ch->n_kids == 0) {
    return scn__fail(ld, ch, "%s is empty: a 401 needs at least one WWW-Authenticate value", cp);
  }
  auth->challenges = xcalloc(ch->n_kids, sizeof auth->challenges[0]);
  for (size_t i = 0; i < ch->n_kids; i++) {
    const struct scn__node *c = ch->kids[i];
    char p[SCN__PATH_LEN];
    scn__path_index(p, cp, i);
    if (!scn__want(ld, c, SCN__SCALAR, p)) {
      return false;
    }
    if (c->len == 0 || scn__has_control(c->text) || c->text[0] == ' ') {
      return scn__fail(
          ld, c, "%s: a challenge is one line starting with its scheme (Basic, NTLM, ...)", p);
    }
    auth->challenges[auth->n_challenges++] = str_dup(c->text);
  }
  return scn__opt_bool(ld, n, path, "accept", &auth->accept_credentials);
}

/* ---- the route ---- */

/* The keys that give a status route its body, in the order messages name them. */
static const char *const body_keys[] = {"html", "body", "raw", "body_hex", "body_base64", NULL};

enum { MAX_BODY = 1u << 20 }; /* what a scenario file can hold anyway */

/* load_body reads the one body key `b` (body_keys[which]) into r. */
static bool load_body(struct scn__ld *ld, const struct scn__node *b, const char *path, int which,
                      struct scn_route *r) {
  char bp[SCN__PATH_LEN];
  scn__path_key(bp, path, body_keys[which]);
  if (!scn__want(ld, b, SCN__SCALAR, bp)) {
    return false;
  }
  uint8_t *bytes = NULL;
  size_t len = 0;
  switch (which) {
    case 3:
      if (!scn__hex_bytes(ld, b, "body_hex", MAX_BODY, &bytes, &len)) {
        return false;
      }
      r->body = (char *) bytes;
      r->body_len = len;
      return true;
    case 4:
      if (!scn__base64_bytes(ld, b, "body_base64", MAX_BODY, &bytes, &len)) {
        return false;
      }
      r->body = (char *) bytes;
      r->body_len = len;
      return true;
    default:
      r->body = str_ndup(b->text, b->len);
      r->body_len = b->len;
      if (which == 0) {
        r->content_type = str_dup("text/html; charset=utf-8");
      }
      return true;
  }
}

/* load_status reads a status route: the status and at most one body (html, body, raw, body_hex,
 * body_base64). */
static bool load_status(struct scn__ld *ld, const struct scn__node *n, const char *path,
                        struct scn_route *r) {
  uint32_t v = 0;
  if (!scn__opt_u32(ld, n, path, "status", 100, 599, NULL, &v)) {
    return false;
  }
  r->status = (uint16_t) v;
  const struct scn__node *ct = scn__get(n, "content_type");
  int which = -1;
  const struct scn__node *body = NULL;
  for (int i = 0; body_keys[i] != NULL; i++) {
    const struct scn__node *b = scn__get(n, body_keys[i]);
    if (b == NULL) {
      continue;
    }
    if (which >= 0) {
      return scn__fail(ld, b,
                       "%s: give one of html, body, raw, body_hex, body_base64, not both %s and %s",
                       path, body_keys[which], body_keys[i]);
    }
    which = i;
    body = b;
  }
  if (which == 0 && ct != NULL) {
    return scn__fail(ld, ct,
                     "%s: content_type goes with a body other than html; html is always "
                     "text/html",
                     path);
  }
  if (ct != NULL && which < 0) {
    return scn__fail(ld, ct, "%s: content_type needs body, raw, body_hex or body_base64", path);
  }
  if (body != NULL && !load_body(ld, body, path, which, r)) {
    return false;
  }
  return scn__opt_str(ld, n, path, "content_type", &r->content_type);
}

/* load_redirect reads a redirect route: `redirect` (the node at p) is its 3xx status. */
static bool load_redirect(struct scn__ld *ld, const struct scn__node *n, const char *path,
                          const struct scn__node *redirect, const char *p, struct scn_route *r) {
  uint32_t v = 0;
  if (redirect->kind != SCN__SCALAR || !redirect->plain ||
      !parse_u32(redirect->text, 300, 399, &v)) {
    char tmp[64];
    return scn__fail(ld, redirect, "%s: expected a 3xx status (300 to 399), found %s", p,
                     scn__found(redirect, tmp, sizeof tmp));
  }
  r->status = (uint16_t) v;
  if (scn__get(n, "location") == NULL) {
    char in[SCN__PATH_LEN + 32];
    scn__where(in, sizeof in, path);
    return scn__fail(ld, n, "missing required key \"location\" %s (a redirect needs it)", in);
  }
  return scn__req_str(ld, n, path, "location", &r->location);
}

/* load_path_and_method reads what the route matches. */
static bool load_path_and_method(struct scn__ld *ld, const struct scn__node *n, const char *path,
                                 struct scn_route *r) {
  if (!scn__req_str(ld, n, path, "path", &r->path) ||
      !scn__opt_str(ld, n, path, "method", &r->method)) {
    return false;
  }
  if (r->path[0] != '/' || strchr(r->path, ' ') != NULL) {
    return scn__fail(ld, scn__get(n, "path"), "path \"%s\" must start with / and have no spaces",
                     r->path);
  }
  for (char *c = r->method; c != NULL && *c != 0; c++) {
    if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z'))) {
      return scn__fail(ld, scn__get(n, "method"),
                       "method \"%s\" is not an HTTP method (GET, POST, ...)", r->method);
    }
    if (*c >= 'a' && *c <= 'z') {
      *c = (char) (*c - 'a' + 'A');
    }
  }
  return true;
}

/* load_kind finds the one key that says what the route (or answer: no upstream) answers; *out
 * is its value. */
static bool load_kind(struct scn__ld *ld, const struct scn__node *n, const char *path,
                      bool is_answer, struct scn_route *r, const struct scn__node **out) {
  const char *kinds = is_answer ? "status, redirect, autodiscover, autodiscover_v2, soap"
                                : "status, redirect, autodiscover, autodiscover_v2, soap, upstream";
  *out = NULL;
  for (int i = 0; route_kinds[i] != NULL; i++) {
    const struct scn__node *v = scn__get(n, route_kinds[i]);
    if (v == NULL) {
      continue;
    }
    if (*out != NULL) {
      return scn__fail(ld, v, "%s: %s takes one of %s, not both %s and %s", path,
                       is_answer ? "an answer" : "a route", kinds, route_kinds[r->kind],
                       route_kinds[i]);
    }
    *out = v;
    r->kind = (enum scn_route_kind) i;
  }
  if (*out == NULL) {
    return scn__fail(ld, n, "%s: %s needs one of %s", path, is_answer ? "an answer" : "a route",
                     kinds);
  }
  static const char *const status_only[] = {"html",        "body",         "raw", "body_hex",
                                            "body_base64", "content_type", NULL};
  for (int i = 0; status_only[i] != NULL; i++) {
    const struct scn__node *v = scn__get(n, status_only[i]);
    if (v != NULL && r->kind != SCN_ROUTE_STATUS) {
      return scn__fail(ld, v, "%s: %s goes only with status", path, status_only[i]);
    }
  }
  const struct scn__node *loc = scn__get(n, "location");
  if (loc != NULL && r->kind != SCN_ROUTE_REDIRECT) {
    return scn__fail(ld, loc, "%s: location goes only with redirect", path);
  }
  static const char *const upstream_only[] = {"upstream_trust",   "upstream_address",
                                              "upstream_dns",     "upstream_keep_host",
                                              "upstream_timeout", NULL};
  for (int i = 0; upstream_only[i] != NULL; i++) {
    const struct scn__node *v = scn__get(n, upstream_only[i]);
    if (v != NULL && r->kind != SCN_ROUTE_UPSTREAM) {
      return scn__fail(ld, v, "%s: %s goes only with upstream", path, upstream_only[i]);
    }
  }
  return true;
}

/* load_reply reads what a route or an answer gives back once its kind is known: its headers,
 * its authentication and the kind's own keys. */
static bool load_reply(struct scn__ld *ld, const struct scn__node *n, const char *path,
                       const struct scn__node *kind, struct scn_route *r) {
  char p[SCN__PATH_LEN];
  const struct scn__node *headers = scn__child(n, path, "headers", p);
  if (headers != NULL && !load_headers(ld, headers, p, r)) {
    return false;
  }
  const struct scn__node *auth = scn__child(n, path, "auth", p);
  if (auth != NULL && !load_auth(ld, auth, p, &r->auth)) {
    return false;
  }
  scn__path_key(p, path, route_kinds[r->kind]);
  switch (r->kind) {
    case SCN_ROUTE_STATUS: return load_status(ld, n, path, r);
    case SCN_ROUTE_REDIRECT: return load_redirect(ld, n, path, kind, p, r);
    case SCN_ROUTE_AUTODISCOVER: r->status = 200; return load_autodiscover(ld, kind, p, &r->ad);
    case SCN_ROUTE_AUTODISCOVER_V2:
      r->status = 200;
      return load_autodiscover_v2(ld, kind, p, &r->ad2);
    case SCN_ROUTE_SOAP: r->status = 200; return load_soap(ld, kind, p, &r->ad);
    case SCN_ROUTE_UPSTREAM: return scn__load_upstream(ld, n, path, r);
    case SCN_ROUTE_ANSWERS: break; /* not a kind a key names */
  }
  return true;
}

/* The keys of an answer: what it is chosen for, and any reply but upstream's. */
static const char *const answer_keys[] = {
    "first",           "for_email",   "status",       "html",     "body",     "raw",
    "body_hex",        "body_base64", "content_type", "redirect", "location", "autodiscover",
    "autodiscover_v2", "soap",        "headers",      "auth",     NULL};

static bool load_answer(struct scn__ld *ld, const struct scn__node *n, const char *path,
                        struct scn_route *a) {
  if (!scn__want_map(ld, n, path, answer_keys)) {
    return false;
  }
  a->mark = scn__mark(n);
  const struct scn__node *kind = NULL;
  if (!scn__opt_u32(ld, n, path, "first", 1, 1000000, NULL, &a->first_n) ||
      !scn__opt_email(ld, n, path, "for_email", &a->for_email) ||
      !load_kind(ld, n, path, true, a, &kind)) {
    return false;
  }
  if (a->first_n > 0) {
    a->counter = ld->s->n_counters++;
  }
  return load_reply(ld, n, path, kind, a);
}

/* load_answers reads route.answers: the route's replies, one chosen per request. */
static bool load_answers(struct scn__ld *ld, const struct scn__node *n, const char *path,
                         struct scn_route *r) {
  static const char *const kind_keys[] = {
      "status",   "redirect", "autodiscover", "autodiscover_v2", "soap",
      "upstream", "headers",  "content_type", "location",        "html",
      "body",     "raw",      "body_hex",     "body_base64",     NULL};
  for (int i = 0; kind_keys[i] != NULL; i++) {
    const struct scn__node *v = scn__get(n, kind_keys[i]);
    if (v != NULL) {
      return scn__fail(ld, v,
                       "%s: a route with answers gives %s in each answer, not beside them "
                       "(an upstream route has no answers)",
                       path, kind_keys[i]);
    }
  }
  char ap[SCN__PATH_LEN];
  const struct scn__node *answers = NULL;
  if (!scn__opt_seq(ld, n, path, "answers", ap, &answers)) {
    return false;
  }
  if (answers->n_kids == 0) {
    return scn__fail(ld, answers, "%s is empty: list at least one answer", ap);
  }
  r->kind = SCN_ROUTE_ANSWERS;
  r->answers = xcalloc(answers->n_kids, sizeof r->answers[0]);
  for (size_t i = 0; i < answers->n_kids; i++) {
    char p[SCN__PATH_LEN];
    scn__path_index(p, ap, i);
    if (!load_answer(ld, answers->kids[i], p, &r->answers[r->n_answers++])) {
      return false;
    }
  }
  char p[SCN__PATH_LEN];
  const struct scn__node *auth = scn__child(n, path, "auth", p);
  return auth == NULL || load_auth(ld, auth, p, &r->auth);
}

bool scn__load_route(struct scn__ld *ld, const struct scn__node *n, const char *path,
                     struct scn_route *r) {
  static const char *const keys[] = {"path",
                                     "method",
                                     "status",
                                     "html",
                                     "body",
                                     "raw",
                                     "body_hex",
                                     "body_base64",
                                     "content_type",
                                     "redirect",
                                     "location",
                                     "autodiscover",
                                     "autodiscover_v2",
                                     "soap",
                                     "upstream",
                                     "upstream_trust",
                                     "upstream_address",
                                     "upstream_dns",
                                     "upstream_keep_host",
                                     "upstream_timeout",
                                     "headers",
                                     "auth",
                                     "answers",
                                     NULL};
  if (!scn__want_map(ld, n, path, keys)) {
    return false;
  }
  r->mark = scn__mark(n);
  if (!load_path_and_method(ld, n, path, r)) {
    return false;
  }
  if (scn__get(n, "answers") != NULL) {
    return load_answers(ld, n, path, r);
  }
  const struct scn__node *kind = NULL;
  if (!load_kind(ld, n, path, false, r, &kind)) {
    return false;
  }
  if (r->kind == SCN_ROUTE_UPSTREAM) {
    return scn__load_upstream(ld, n, path, r);
  }
  return load_reply(ld, n, path, kind, r);
}
