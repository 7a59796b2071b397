/* proxy/http/http_response.c: a response before it goes out — status pages, reason phrases —
 * and its serialization: our headers (unless the route gives its own), the route's extra
 * headers, the framing headers that stay ours, and the body. Used by the router (http_route.c),
 * AutoDV2 (http_ad2.c) and the session (http_session.c); it calls none of them. */
#include "proxy/http/http.h"

#include "proxy/http/internal.h"

#include <string.h>
#include <time.h>

#define MAX_RESPONSE_BODY (8u << 20)

const char *http__reason(uint16_t status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: break;
  }
  return status < 200   ? "Informational"
         : status < 300 ? "Success"
         : status < 400 ? "Redirection"
         : status < 500 ? "Client Error"
                        : "Server Error";
}

void http__response_init(struct http_response *r, uint16_t status) {
  memset(r, 0, sizeof *r);
  r->status = status;
  buf_init(&r->body, MAX_RESPONSE_BODY);
}

void http__response_cleanup(struct http_response *r) {
  buf_cleanup(&r->body);
}

void http__response_text(struct http_response *r, uint16_t status) {
  r->status = status;
  buf_reset(&r->body);
  if (status == 404) {
    r->content_type = "text/html; charset=utf-8";
    buf_append_str(&r->body, "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
                             "<body><h1>Not Found</h1></body></html>\n");
  } else {
    r->content_type = "text/plain; charset=utf-8";
    buf_appendf(&r->body, "%u %s\n", (unsigned) status, http__reason(status));
  }
}

/* header_safe refuses values that would end the header line (a scenario typo, not an attack,
 * but a broken response is worse than a missing header). */
static bool header_safe(const char *v) {
  return v != NULL && strpbrk(v, "\r\n") == NULL;
}

/* header_name_ok: a token (RFC 9110 §5.1) — no spaces, colons or controls. */
static bool header_name_ok(const char *n) {
  if (n == NULL || n[0] == '\0') {
    return false;
  }
  for (const char *p = n; *p != '\0'; p++) {
    unsigned char c = (unsigned char) *p;
    if (c <= ' ' || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c) != NULL) {
      return false;
    }
  }
  return true;
}

/* framing headers stay ours: a route cannot break the message length or the connection. */
static bool framing_header(const char *n) {
  return str_eq_nocase(n, "Content-Length") || str_eq_nocase(n, "Connection") ||
         str_eq_nocase(n, "Transfer-Encoding");
}

/* route_sets says whether the route gives header `name` itself (it then replaces ours). */
static bool route_sets(const struct http_response *r, const char *name) {
  for (size_t i = 0; i < r->n_headers; i++) {
    if (r->headers[i].name != NULL && str_eq_nocase(r->headers[i].name, name)) {
      return true;
    }
  }
  return false;
}

/* A response head is written as a list of parts and copied into the output with one
 * reservation, the body with it (it runs for every response: an append per part was a quarter
 * of a static answer's cost). The list is copied out early when it fills (a route with many
 * headers). */
#define HEAD_PARTS 48

struct head {
  struct buf *out;
  struct slice part[HEAD_PARTS];
  size_t n, len;
  bool ok;
};

static void head_flush(struct head *h) {
  uint8_t *at = h->ok ? buf_extend(h->out, h->len) : NULL;
  if (at == NULL) {
    h->ok = false;
  } else {
    for (size_t i = 0; i < h->n; i++) {
      memcpy(at, h->part[i].ptr, h->part[i].len);
      at += h->part[i].len;
    }
  }
  h->n = 0;
  h->len = 0;
}

static void put_slice(struct head *h, struct slice s) {
  if (h->n == HEAD_PARTS) {
    head_flush(h);
  }
  h->part[h->n++] = s;
  h->len += s.len;
}

static void put(struct head *h, const char *text) {
  put_slice(h, slice_of_str(text));
}

/* header_line puts "name: value\r\n". */
static void header_line(struct head *h, const char *name, const char *value) {
  put(h, name);
  put(h, ": ");
  put(h, value);
  put(h, "\r\n");
}

static void our_header(struct head *h, const struct http_response *r, const char *name,
                       const char *value) {
  if (header_safe(value) && !route_sets(r, name)) {
    header_line(h, name, value);
  }
}

/* http_date gives the Date header's value (RFC 9110 5.6.7), formatted once a second; per thread,
 * as `check --jobs` runs labs side by side. */
static const char *http_date(void) {
  static _Thread_local time_t formatted_at = (time_t) -1;
  static _Thread_local char date[64];
  time_t now = time(NULL);
  if (now != formatted_at) {
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    formatted_at = now;
  }
  return date;
}

bool http__response_serialize(struct buf *out, const struct http_response *r, bool head,
                              bool keep_alive) {
  char status[21], length[21];
  dec_u64(status, r->status);
  dec_u64(length, r->body.len);
  struct head h = {.out = out, .ok = true};
  put(&h, "HTTP/1.1 ");
  put(&h, status);
  put(&h, " ");
  put(&h, http__reason(r->status));
  put(&h, "\r\n");
  our_header(&h, r, "Server", "Microsoft-IIS/10.0");
  our_header(&h, r, "Date", http_date());
  our_header(&h, r, "Content-Type", r->content_type);
  our_header(&h, r, "Location", r->location);
  our_header(&h, r, "Allow", r->allow);
  for (size_t i = 0; i < r->n_challenges; i++) {
    if (header_safe(r->challenges[i])) {
      header_line(&h, "WWW-Authenticate", r->challenges[i]);
    }
  }
  for (size_t i = 0; i < r->n_headers; i++) {
    const struct scn_header *rh = &r->headers[i];
    if (header_name_ok(rh->name) && header_safe(rh->value) && !framing_header(rh->name)) {
      header_line(&h, rh->name, rh->value);
    }
  }
  header_line(&h, "Content-Length", length);
  header_line(&h, "Connection", keep_alive ? "keep-alive" : "close");
  put(&h, "\r\n");
  if (!head && r->body.len > 0) {
    put_slice(&h, buf_slice(&r->body));
  }
  head_flush(&h);
  return h.ok;
}
