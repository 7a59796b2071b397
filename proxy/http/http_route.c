/* proxy/http/http_route.c: the scenario's routes — which one answers a request, and the
 * response it gives (status pages and raw bodies, redirects, Autodiscover POX, AutoDV2 and SOAP,
 * 401 challenges, the route's own headers). Responses are built and serialized by
 * http_response.c, which both this file and http_ad2.c use. */
#include "proxy/http/http.h"

#include "proxy/http/internal.h"

#include <string.h>

struct slice http__request_path(struct slice target) {
  struct slice s = target;
  /* absolute-form (RFC 9112 §3.2.2): skip "scheme://authority" */
  for (size_t i = 0; i + 2 < s.len && s.ptr[0] != '/'; i++) {
    if (s.ptr[i] == '/' || s.ptr[i] == '?') {
      break;
    }
    if (s.ptr[i] == ':' && s.ptr[i + 1] == '/' && s.ptr[i + 2] == '/') {
      size_t j = i + 3;
      while (j < s.len && s.ptr[j] != '/' && s.ptr[j] != '?' && s.ptr[j] != '#') {
        j++;
      }
      s.ptr += j;
      s.len -= j;
      if (s.len == 0 || s.ptr[0] != '/') {
        return (struct slice){(const uint8_t *) "/", 1};
      }
      break;
    }
  }
  for (size_t i = 0; i < s.len; i++) {
    if (s.ptr[i] == '?' || s.ptr[i] == '#') {
      s.len = i;
      break;
    }
  }
  return s;
}

static int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool http__path_decode(struct buf *out, struct slice path) {
  buf_reset(out);
  size_t run = 0; /* where the bytes copied as they are begin: they go in one append */
  for (size_t i = 0; i < path.len; i++) {
    if (path.ptr[i] != '%') {
      continue;
    }
    if (i + 2 >= path.len || hex_value(path.ptr[i + 1]) < 0 || hex_value(path.ptr[i + 2]) < 0) {
      return false; /* "%" not followed by two hex digits */
    }
    uint8_t c = (uint8_t) (hex_value(path.ptr[i + 1]) << 4 | hex_value(path.ptr[i + 2]));
    if (c == 0) {
      return false; /* "%00": no path holds a NUL */
    }
    if (!buf_append(out, (struct slice){path.ptr + run, i - run}) ||
        !buf_append(out, (struct slice){&c, 1})) {
      return false;
    }
    i += 2;
    run = i + 1;
  }
  return buf_append(out, (struct slice){path.ptr + run, path.len - run});
}

static bool method_ok(const struct scn_route *r, struct slice method) {
  return r->method == NULL || slice_eq_nocase(method, r->method);
}

/* below_path: `path` is `route_path` + "/" + more (AutoDV2's /v1.0/<address> form). */
static bool below_path(struct slice path, const char *route_path) {
  size_t n = strlen(route_path);
  return n > 1 && path.len > n + 1 && path.ptr[n] == '/' &&
         slice_eq_nocase((struct slice){path.ptr, n}, route_path);
}

const struct scn_route *http__route_match(const struct scn_listener *l, struct slice method,
                                          struct slice path) {
  if (l == NULL) {
    return NULL;
  }
  /* docs/protocol.md §1.1: IIS matches paths case-insensitively. */
  for (size_t i = 0; i < l->n_routes; i++) {
    const struct scn_route *r = &l->routes[i];
    if (r->path != NULL && slice_eq_nocase(path, r->path) && method_ok(r, method)) {
      return r;
    }
  }
  for (size_t i = 0; i < l->n_routes; i++) {
    const struct scn_route *r = &l->routes[i];
    if (r->path != NULL && http__route_has(r, SCN_ROUTE_AUTODISCOVER_V2) &&
        below_path(path, r->path) && method_ok(r, method)) {
      return r;
    }
  }
  for (size_t i = 0; i < l->n_routes; i++) {
    const struct scn_route *r = &l->routes[i];
    if (r->path != NULL && strcmp(r->path, "/") == 0 && method_ok(r, method)) {
      return r; /* the site answers any other path */
    }
  }
  return NULL;
}

/* looks_like_markup: the first byte after white space and a UTF-8 BOM is '<'. */
static bool looks_like_markup(struct slice b) {
  size_t i = 0;
  if (b.len >= 3 && b.ptr[0] == 0xef && b.ptr[1] == 0xbb && b.ptr[2] == 0xbf) {
    i = 3;
  }
  while (i < b.len &&
         (b.ptr[i] == ' ' || b.ptr[i] == '\t' || b.ptr[i] == '\r' || b.ptr[i] == '\n')) {
    i++;
  }
  return i < b.len && b.ptr[i] == '<';
}

static void answer_status(struct http_response *resp, const struct scn_route *route) {
  resp->status = route->status != 0 ? route->status : 200;
  if (route->body == NULL) {
    if (resp->status >= 400) {
      http__response_text(resp, resp->status); /* IIS, too, gives an error page a body */
    }
    return;
  }
  /* A raw body (body_len > 0) goes out byte for byte: it may hold a BOM or NULs. */
  struct slice body = {(const uint8_t *) route->body,
                       route->body_len > 0 ? route->body_len : strlen(route->body)};
  if (!buf_append(&resp->body, body)) {
    http__response_text(resp, 500);
    return;
  }
  if (route->content_type != NULL) {
    resp->content_type = route->content_type;
  } else {
    resp->content_type =
        looks_like_markup(body) ? "text/html; charset=utf-8" : "text/plain; charset=utf-8";
  }
}

/* answer_soap: POST gets the SOAP answer (or a Fault, HTTP 500 as SOAP 1.1 §6.2 says). */
static void answer_soap(struct http_response *resp, const struct scn_route *route,
                        const struct http_request_view *req, const char *server_id) {
  if (!slice_eq_nocase(req->method, "POST")) {
    http__response_text(resp, 405);
    resp->allow = "POST";
    return;
  }
  bool ok;
  if (req->soap == NULL) {
    resp->status = 500;
    ok = http__soap_fault(&resp->body, req->soap_error != NULL ? req->soap_error
                                                               : "The request has no SOAP body.");
  } else {
    resp->status = 200;
    ok = http__soap_answer(&resp->body, &route->ad, req->soap, server_id);
  }
  if (!ok) {
    http__response_text(resp, 500);
    return;
  }
  resp->content_type = "text/xml; charset=utf-8";
}

/* challenge: a route with auth answers 401 with its challenges (docs/protocol.md §2.4)
 * to a request without credentials, and to one with credentials unless it accepts them. */
static bool challenge(struct http_response *resp, const struct scn_route *route,
                      const struct http_request_view *req) {
  if (!route->auth.present || (req->has_authorization && route->auth.accept_credentials)) {
    return false;
  }
  resp->status = 401;
  resp->challenged = true;
  resp->challenges = route->auth.challenges;
  resp->n_challenges = route->auth.n_challenges;
  resp->content_type = "text/html; charset=utf-8";
  buf_reset(&resp->body);
  buf_append_str(&resp->body,
                 "<!DOCTYPE html>\n<html><head><title>401 - Unauthorized</title></head>"
                 "<body><h1>401 - Unauthorized: Access is denied due to invalid credentials."
                 "</h1></body></html>\n");
  return true;
}

/* answer_autodiscover: POST gets the canned POX answer; GET gets what IIS/Exchange give a
 * browser on autodiscover.xml — status 200 with POX Error 600 "Invalid Request" (§3.5). */
static void answer_autodiscover(struct http_response *resp, const struct scn_route *route,
                                const struct http_request_view *req, const char *server_id) {
  bool is_post = slice_eq_nocase(req->method, "POST");
  bool is_get = slice_eq_nocase(req->method, "GET") || slice_eq_nocase(req->method, "HEAD");
  if (!is_post && !is_get) {
    http__response_text(resp, 405);
    resp->allow = "GET, POST";
    return;
  }
  bool ok;
  if (!is_post || req->pox == NULL || req->pox_status == HTTP_POX_INVALID) {
    ok = http__pox_error(&resp->body, 600, NULL, server_id);
  } else if (req->pox_status == HTTP_POX_SCHEMA) {
    ok = http__pox_error(&resp->body, 601, NULL, server_id);
  } else if (req->memo != NULL && http__memo_answer(req->memo, &resp->body)) {
    ok = true; /* the same request at this route was answered before: the same bytes */
  } else {
    ok = http__pox_answer(&resp->body, &route->ad, req->pox, server_id);
    if (ok && req->memo != NULL) {
      http__memo_keep_answer(req->memo, buf_slice(&resp->body));
    }
  }
  if (!ok) {
    http__response_text(resp, 500);
    return;
  }
  resp->status = 200;
  resp->content_type = "text/xml; charset=utf-8";
}

bool http__route_has(const struct scn_route *route, enum scn_route_kind kind) {
  if (route == NULL) {
    return false;
  }
  if (route->kind == kind) {
    return true;
  }
  for (size_t i = 0; i < route->n_answers; i++) {
    if (route->answers[i].kind == kind) {
      return true;
    }
  }
  return false;
}

const struct scn_route *http__answer_pick(const struct scn_route *route, const char *email,
                                          uint32_t *counts, size_t n_counts, size_t *out_index) {
  *out_index = 0;
  for (size_t i = 0; route != NULL && i < route->n_answers; i++) {
    const struct scn_route *a = &route->answers[i];
    if (a->for_email != NULL && (email == NULL || !str_eq_nocase(a->for_email, email))) {
      continue;
    }
    bool counted = a->first_n > 0 && counts != NULL && a->counter < n_counts;
    if (counted && counts[a->counter] >= a->first_n) {
      continue; /* its first N requests are answered */
    }
    if (counted) {
      counts[a->counter]++;
    }
    *out_index = i + 1;
    return a;
  }
  return NULL;
}

/* reply fills `resp` from `r`, a route or one of its answers; `route_path` is the route's. */
static void reply(struct http_response *resp, const struct scn_route *r, const char *route_path,
                  const struct http_request_view *req, const char *server_id) {
  resp->headers = r->headers;
  resp->n_headers = r->n_headers;
  if (challenge(resp, r, req)) {
    return;
  }
  switch (r->kind) {
    case SCN_ROUTE_STATUS: answer_status(resp, r); break;
    case SCN_ROUTE_REDIRECT:
      resp->status = r->status != 0 ? r->status : 302;
      resp->location = r->location;
      break;
    case SCN_ROUTE_AUTODISCOVER: answer_autodiscover(resp, r, req, server_id); break;
    case SCN_ROUTE_AUTODISCOVER_V2: http__ad2_answer(resp, &r->ad2, req, route_path); break;
    case SCN_ROUTE_SOAP: answer_soap(resp, r, req, server_id); break;
    case SCN_ROUTE_UPSTREAM:
      /* the connection forwards these (http_conn.c, http_upstream.c); without one, nothing can */
      http__response_text(resp, 502);
      break;
    case SCN_ROUTE_ANSWERS: http__response_text(resp, 404); break; /* not an answer's kind */
  }
}

void http__route_answer(struct http_response *resp, const struct scn_route *route,
                        const struct http_request_view *req, const char *server_id) {
  if (route == NULL) {
    http__response_text(resp, 404);
    return;
  }
  if (route->kind != SCN_ROUTE_ANSWERS) {
    reply(resp, route, route->path, req, server_id);
    return;
  }
  /* the route's own authentication comes first: a 401 chooses no answer and counts nothing */
  resp->headers = NULL;
  resp->n_headers = 0;
  if (challenge(resp, route, req)) {
    return;
  }
  size_t index = 0;
  const struct scn_route *a =
      http__answer_pick(route, req->email, req->counts, req->n_counts, &index);
  resp->answers = true;
  resp->answer = index;
  if (a == NULL) {
    http__response_text(resp, 404); /* no answer applies to this request */
    return;
  }
  reply(resp, a, route->path, req, server_id);
}
