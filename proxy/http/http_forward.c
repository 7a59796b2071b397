/* proxy/http/http_forward.c: the request an upstream route sends to the real server, made from the
 * client's without sockets — the client's path and query after the URL's path, the client's
 * header fields but the hop-by-hop ones (RFC 9110 7.6.1), Host the upstream's (RFC 9110 7.2)
 * unless upstream_keep_host, the body with its length. Credentials go on, as a proxy's do. */
#include "proxy/http/http.h"

#include "proxy/http/internal.h"

#include <string.h>

/* hop_by_hop: fields about this connection, not the message (RFC 9110 7.6.1), and the ones the
 * lab rewrites itself (Host, the body's framing, Expect: the body is already here). */
static bool hop_by_hop(struct slice name) {
  static const char *const names[] = {
      "Connection",
      "Proxy-Connection",
      "Keep-Alive",
      "TE",
      "Trailer",
      "Transfer-Encoding",
      "Upgrade",
      "Proxy-Authorization",
      "Proxy-Authenticate",
      "Host",
      "Content-Length",
      "Expect",
      NULL,
  };
  for (int i = 0; names[i] != NULL; i++) {
    if (slice_eq_nocase(name, names[i])) {
      return true;
    }
  }
  return false;
}

bool http__field_next(struct slice all, size_t *at, struct slice *name, struct slice *value) {
  const uint8_t *p = all.ptr + *at;
  size_t left = all.len - *at;
  const uint8_t *nul = left > 0 ? memchr(p, 0, left) : NULL;
  if (nul == NULL) {
    return false;
  }
  *name = (struct slice){p, (size_t) (nul - p)};
  const uint8_t *v = nul + 1;
  left -= name->len + 1;
  const uint8_t *vend = left > 0 ? memchr(v, 0, left) : NULL;
  if (vend == NULL) {
    return false;
  }
  *value = (struct slice){v, (size_t) (vend - v)};
  *at += name->len + 1 + value->len + 1;
  return true;
}

static bool eq_nocase(struct slice a, struct slice b) {
  if (a.len != b.len) {
    return false;
  }
  for (size_t i = 0; i < a.len; i++) {
    uint8_t x = a.ptr[i] >= 'A' && a.ptr[i] <= 'Z' ? (uint8_t) (a.ptr[i] + 32) : a.ptr[i];
    uint8_t y = b.ptr[i] >= 'A' && b.ptr[i] <= 'Z' ? (uint8_t) (b.ptr[i] + 32) : b.ptr[i];
    if (x != y) {
      return false;
    }
  }
  return true;
}

/* listed_in_connection: `name` is one of the tokens of a Connection field (RFC 9110 7.6.1: the
 * fields it names are hop-by-hop too). */
static bool listed_in_connection(struct slice headers, struct slice name) {
  size_t at = 0;
  struct slice n, v;
  while (http__field_next(headers, &at, &n, &v)) {
    if (!slice_eq_nocase(n, "Connection")) {
      continue;
    }
    size_t i = 0;
    while (i < v.len) {
      while (i < v.len && (v.ptr[i] == ' ' || v.ptr[i] == '\t' || v.ptr[i] == ',')) {
        i++;
      }
      size_t start = i;
      while (i < v.len && v.ptr[i] != ',' && v.ptr[i] != ' ' && v.ptr[i] != '\t') {
        i++;
      }
      if (i > start && eq_nocase((struct slice){v.ptr + start, i - start}, name)) {
        return true;
      }
    }
  }
  return false;
}

/* origin_form returns the path and query of a request target (RFC 9112 3.2): an absolute-form
 * target loses its scheme and authority, a fragment goes. */
static struct slice origin_form(struct slice t) {
  size_t start = 0;
  for (size_t i = 0; t.len > 0 && t.ptr[0] != '/' && i + 3 <= t.len; i++) {
    if (memcmp(t.ptr + i, "://", 3) == 0) {
      start = i + 3;
      while (start < t.len && t.ptr[start] != '/' && t.ptr[start] != '?' && t.ptr[start] != '#') {
        start++;
      }
      break;
    }
  }
  size_t end = start;
  while (end < t.len && t.ptr[end] != '#') {
    end++;
  }
  return (struct slice){t.ptr + start, end - start};
}

static bool append_host(struct buf *out, const struct scn_upstream *up) {
  bool v6 = strchr(up->host, ':') != NULL;
  bool default_port = up->port == (up->https ? 443 : 80);
  if (default_port) {
    return buf_appendf(out, v6 ? "[%s]" : "%s", up->host);
  }
  return buf_appendf(out, v6 ? "[%s]:%u" : "%s:%u", up->host, (unsigned) up->port);
}

bool http__upstream_build(struct buf *out, const struct http_upstream_request *req) {
  const struct scn_upstream *up = req->up;
  struct slice path = origin_form(req->target);
  bool ok = buf_append(out, req->method) && buf_append_str(out, " ") &&
            buf_append_str(out, up->base_path);
  if (path.len == 0 || path.ptr[0] != '/') {
    ok = ok && buf_append_str(out, "/"); /* "*" and the like: under the base path */
  }
  ok = ok && buf_append(out, path) && buf_append_str(out, " HTTP/1.1\r\nHost: ");
  if (up->keep_host && req->host.len > 0) {
    ok = ok && buf_append(out, req->host);
  } else {
    ok = ok && append_host(out, up);
  }
  ok = ok && buf_append_str(out, "\r\n");
  size_t at = 0;
  struct slice name, value;
  while (ok && http__field_next(req->headers, &at, &name, &value)) {
    if (hop_by_hop(name) || listed_in_connection(req->headers, name)) {
      continue;
    }
    ok = buf_append(out, name) && buf_append_str(out, ": ") && buf_append(out, value) &&
         buf_append_str(out, "\r\n");
  }
  bool has_body_semantics = slice_eq_nocase(req->method, "POST") ||
                            slice_eq_nocase(req->method, "PUT") ||
                            slice_eq_nocase(req->method, "PATCH");
  if (req->body.len > 0 || has_body_semantics) {
    ok = ok && buf_appendf(out, "Content-Length: %zu\r\n", req->body.len);
  }
  return ok && buf_append_str(out, "\r\n") && buf_append(out, req->body);
}
