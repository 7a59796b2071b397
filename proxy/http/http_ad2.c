/* proxy/http/http_ad2.c: Autodiscover V2 (docs/protocol.md §4.4) — a GET of
 * autodiscover.json names an address and a Protocol; the answer is that protocol's URL as JSON,
 * or Exchange Online's JSON error. The JSON is written with the journal's writer. */
#include "proxy/http/http.h"
#include "proxy/http/internal.h"

#include <stdlib.h>
#include <string.h>

#define AD2_MAX_VALUE 1024u /* longest query value or address kept */

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

/* percent_decode appends `in` decoded (RFC 3986 §2.1; '+' is a space in a query) to out. */
static bool percent_decode(struct buf *out, struct slice in, bool plus_is_space) {
  for (size_t i = 0; i < in.len; i++) {
    uint8_t c = in.ptr[i];
    if (c == '%' && i + 2 < in.len && hex_value(in.ptr[i + 1]) >= 0 &&
        hex_value(in.ptr[i + 2]) >= 0) {
      c = (uint8_t) (hex_value(in.ptr[i + 1]) << 4 | hex_value(in.ptr[i + 2]));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (!buf_append(out, (struct slice){&c, 1})) {
      return false;
    }
  }
  return true;
}

/* query_param finds `name` (ASCII case-insensitive, as ASP.NET reads it) in the query of
 * `target` and decodes its first value into out; false when absent or too long. */
static bool query_param(struct slice target, const char *name, struct buf *out) {
  const uint8_t *q = memchr(target.ptr, '?', target.len);
  if (q == NULL) {
    return false;
  }
  struct slice rest = {q + 1, target.len - (size_t) (q + 1 - target.ptr)};
  const uint8_t *hash = memchr(rest.ptr, '#', rest.len);
  if (hash != NULL) {
    rest.len = (size_t) (hash - rest.ptr);
  }
  while (rest.len > 0) {
    const uint8_t *amp = memchr(rest.ptr, '&', rest.len);
    struct slice pair = {rest.ptr, amp == NULL ? rest.len : (size_t) (amp - rest.ptr)};
    rest.ptr += pair.len;
    rest.len -= pair.len;
    if (rest.len > 0) {
      rest.ptr++; /* the '&' */
      rest.len--;
    }
    const uint8_t *eq = memchr(pair.ptr, '=', pair.len);
    struct slice key = {pair.ptr, eq == NULL ? pair.len : (size_t) (eq - pair.ptr)};
    if (!slice_eq_nocase(key, name)) {
      continue;
    }
    struct slice value = {NULL, 0};
    if (eq != NULL) {
      value = (struct slice){eq + 1, pair.len - key.len - 1};
    }
    buf_reset(out);
    return percent_decode(out, value, true);
  }
  return false;
}

/* path_address reads the address of the path form route_path/v1.0/<address>; the path is
 * percent-decoded already (http_session.c), so the address is taken as it is. */
static bool path_address(struct slice path, const char *route_path, struct buf *out) {
  size_t n = strlen(route_path);
  if (path.len <= n + 1) {
    return false;
  }
  struct slice rest = {path.ptr + n + 1, path.len - n - 1}; /* "v1.0/<address>" */
  const uint8_t *slash = memchr(rest.ptr, '/', rest.len);
  if (slash == NULL || slash + 1 == rest.ptr + rest.len) {
    return false;
  }
  struct slice addr = {slash + 1, rest.len - (size_t) (slash + 1 - rest.ptr)};
  buf_reset(out);
  return buf_append(out, addr);
}

static void json_answer(struct http_response *resp, uint16_t status, struct jnl_event *doc) {
  char *text = jnl_doc_take(doc);
  resp->status = status;
  resp->content_type = "application/json; charset=utf-8";
  buf_reset(&resp->body);
  if (text == NULL || !buf_append_str(&resp->body, text)) {
    http__response_text(resp, 500);
  }
  free(text);
}

static void json_error(struct http_response *resp, uint16_t status, const char *code,
                       const char *message) {
  struct jnl_event doc;
  jnl_doc_begin(&doc);
  jnl_str(&doc, "ErrorCode", code);
  jnl_str(&doc, "ErrorMessage", message);
  json_answer(resp, status, &doc);
}

static void missing_parameter(struct http_response *resp, const char *name) {
  char message[160];
  buf_fmt(message, sizeof message, "A valid value must be provided for the query parameter '%s'.",
          name);
  json_error(resp, 400, "MandatoryParameterMissing", message);
}

static void invalid_protocol(struct http_response *resp, const struct scn_autodiscover_v2 *ad2,
                             const char *asked) {
  struct buf message;
  buf_init(&message, 16u << 10);
  buf_appendf(&message, "The given protocol value '%.200s' is invalid. Supported values are '",
              asked);
  for (size_t i = 0; i < ad2->n_protocols; i++) {
    buf_appendf(&message, "%s%.200s", i > 0 ? ", " : "", ad2->protocols[i]);
  }
  buf_append_str(&message, "'");
  json_error(resp, ad2->not_found_status != 0 ? ad2->not_found_status : 400, "InvalidProtocol",
             buf_cstr(&message));
  buf_cleanup(&message);
}

bool http__ad2_email(struct buf *out, const struct http_request_view *req, const char *route_path) {
  bool path_form = route_path != NULL && req->path.len > strlen(route_path);
  bool found =
      path_form ? path_address(req->path, route_path, out) : query_param(req->target, "Email", out);
  return found && out->len > 0;
}

void http__ad2_answer(struct http_response *resp, const struct scn_autodiscover_v2 *ad2,
                      const struct http_request_view *req, const char *route_path) {
  if (!slice_eq_nocase(req->method, "GET") && !slice_eq_nocase(req->method, "HEAD")) {
    http__response_text(resp, 405);
    resp->allow = "GET";
    return;
  }
  /* RedirectCount (§4.4) only counts the client's hops; the answer does not depend on it. */
  struct buf email, protocol;
  buf_init(&email, AD2_MAX_VALUE);
  buf_init(&protocol, AD2_MAX_VALUE);
  bool has_email = http__ad2_email(&email, req, route_path);
  bool has_protocol = query_param(req->target, "Protocol", &protocol);
  if (!has_email) {
    missing_parameter(resp, "Email");
  } else if (!has_protocol || protocol.len == 0) {
    missing_parameter(resp, "Protocol");
  } else {
    const char *asked = buf_cstr(&protocol);
    size_t found = ad2->n_protocols;
    for (size_t i = 0; i < ad2->n_protocols && found == ad2->n_protocols; i++) {
      if (ad2->protocols[i] != NULL && slice_eq_nocase(slice_of_str(asked), ad2->protocols[i])) {
        found = i;
      }
    }
    if (found == ad2->n_protocols) {
      invalid_protocol(resp, ad2, asked);
    } else {
      struct jnl_event doc;
      jnl_doc_begin(&doc);
      jnl_str(&doc, "Protocol", ad2->protocols[found]); /* Exchange answers with its spelling */
      jnl_str(&doc, "Url", ad2->urls[found]);
      json_answer(resp, 200, &doc);
    }
  }
  buf_cleanup(&email);
  buf_cleanup(&protocol);
}
