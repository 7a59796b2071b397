/* proxy/http/http_har.c: each answered request as a HAR 1.2 entry (serve --har) — the request
 * as it arrived, the response as it went out (read back with llhttp), bodies as text or base64,
 * timings, the lab address that answered and the connection, credentials redacted unless the
 * operator asked for them in clear. */
#include "proxy/http/http.h"

#include "proxy/http/internal.h"

#include <openssl/base64.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

void http__har_begin(struct http_session *s) {
  if (s->rec == NULL || s->rec->har == NULL) {
    return;
  }
  s->t_begin = uv_hrtime();
  jnl_now_rfc3339(s->started);
}

static bool append_u32_slice(struct buf *b, struct slice s) {
  uint32_t len = (uint32_t) s.len;
  return buf_append(b, (struct slice){(const uint8_t *) &len, sizeof len}) && buf_append(b, s);
}

/* next_pair reads one (name, value) of a response read back (append_u32_slice pairs). */
static bool next_pair(const struct buf *b, size_t *pos, struct slice *name, struct slice *value) {
  struct slice *out[2] = {name, value};
  for (int i = 0; i < 2; i++) {
    uint32_t len;
    if (*pos + sizeof len > b->len) {
      return false;
    }
    memcpy(&len, b->ptr + *pos, sizeof len);
    *pos += sizeof len;
    if (len > b->len - *pos) {
      return false;
    }
    *out[i] = (struct slice){b->ptr + *pos, len};
    *pos += len;
  }
  return true;
}

static bool is_credential_header(struct slice name) {
  return slice_eq_nocase(name, "Authorization") || slice_eq_nocase(name, "Proxy-Authorization");
}

static void write_header(struct jnl_event *e, struct slice name, struct slice value, bool clear) {
  jnl_obj_begin(e, NULL);
  jnl_strn(e, "name", name);
  if (is_credential_header(name) && !clear) {
    char fp[13], text[300];
    struct slice scheme = jnl_secret_scheme(value);
    jnl_secret_fp(fp, value);
    buf_fmt(text, sizeof text, "%.*s [redacted sha256:%s]",
            (int) (scheme.len > 200 ? 200 : scheme.len), (const char *) scheme.ptr, fp);
    jnl_str(e, "value", text);
  } else {
    jnl_strn(e, "value", value);
  }
  jnl_obj_end(e);
}

/* write_text writes a body as "text" when it is UTF-8, else base64 with the encoding under
 * `encoding_key` ("encoding" for a response's content, "_encoding" for postData, where HAR 1.2
 * has no such field). */
static void write_text(struct jnl_event *e, struct slice body, const char *encoding_key) {
  if (jnl_utf8_valid(body)) {
    jnl_strn(e, "text", body);
    return;
  }
  size_t len = 0;
  if (!EVP_EncodedLength(&len, body.len)) {
    return;
  }
  uint8_t *b64 = xcalloc(1, len);
  size_t n = EVP_EncodeBlock(b64, body.ptr, body.len);
  jnl_strn(e, "text", (struct slice){b64, n});
  jnl_str(e, encoding_key, "base64");
  free(b64);
}

/* write_query lists the query's name=value pairs as they appear in the URL (not decoded). */
static void write_query(struct jnl_event *e, struct slice target) {
  jnl_arr_begin(e, "queryString");
  const uint8_t *q = memchr(target.ptr, '?', target.len);
  if (q != NULL) {
    const uint8_t *end = target.ptr + target.len;
    const uint8_t *hash = memchr(q, '#', (size_t) (end - q));
    if (hash != NULL) {
      end = hash;
    }
    const uint8_t *p = q + 1;
    while (p < end) {
      const uint8_t *amp = memchr(p, '&', (size_t) (end - p));
      const uint8_t *stop = amp != NULL ? amp : end;
      if (stop > p) {
        const uint8_t *eq = memchr(p, '=', (size_t) (stop - p));
        jnl_obj_begin(e, NULL);
        jnl_strn(e, "name", (struct slice){p, (size_t) ((eq != NULL ? eq : stop) - p)});
        jnl_strn(e, "value",
                 eq != NULL ? (struct slice){eq + 1, (size_t) (stop - eq - 1)}
                            : (struct slice){stop, 0});
        jnl_obj_end(e);
      }
      p = stop + 1;
    }
  }
  jnl_arr_end(e);
}

static void write_url(struct jnl_event *e, const struct http_session *s, struct slice target) {
  struct buf url;
  buf_init(&url, HTTP_MAX_URL + HTTP_MAX_HEADER_BYTES + 16);
  bool absolute = (target.len >= 7 && memcmp(target.ptr, "http://", 7) == 0) ||
                  (target.len >= 8 && memcmp(target.ptr, "https://", 8) == 0);
  if (!absolute) {
    buf_append_str(&url, s->tls ? "https://" : "http://");
    if (s->has_host && s->host_header.len > 0) {
      buf_append(&url, buf_slice(&s->host_header));
    } else {
      buf_append_str(&url, s->local != NULL ? s->local : "localhost");
    }
  }
  buf_append(&url, target);
  jnl_strn(e, "url", buf_slice(&url));
  buf_cleanup(&url);
}

/* What llhttp reads back from the serialized response. */
struct parsed_response {
  llhttp_t parser;
  llhttp_settings_t settings;
  struct buf status_text;
  struct buf headers; /* (u32 len, name, u32 len, value) pairs */
  struct buf field, value;
  struct slice body;
  const uint8_t *body_start;
  bool head;
  bool done;
};

static int on_status(llhttp_t *p, const char *at, size_t len) {
  struct parsed_response *r = p->data;
  buf_append(&r->status_text, (struct slice){(const uint8_t *) at, len});
  return 0;
}

static int on_field(llhttp_t *p, const char *at, size_t len) {
  struct parsed_response *r = p->data;
  buf_append(&r->field, (struct slice){(const uint8_t *) at, len});
  return 0;
}

static int on_value(llhttp_t *p, const char *at, size_t len) {
  struct parsed_response *r = p->data;
  buf_append(&r->value, (struct slice){(const uint8_t *) at, len});
  return 0;
}

static int on_value_complete(llhttp_t *p) {
  struct parsed_response *r = p->data;
  append_u32_slice(&r->headers, buf_slice(&r->field));
  append_u32_slice(&r->headers, buf_slice(&r->value));
  buf_reset(&r->field);
  buf_reset(&r->value);
  return 0;
}

static int on_headers_done(llhttp_t *p) {
  struct parsed_response *r = p->data;
  return r->head ? 1 : 0; /* 1: a response to HEAD has no body, whatever Content-Length says */
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
  struct parsed_response *r = p->data;
  if (r->body_start == NULL) {
    r->body_start = (const uint8_t *) at;
  }
  r->body.len = (size_t) ((const uint8_t *) at + len - r->body_start);
  return 0;
}

static int on_complete(llhttp_t *p) {
  struct parsed_response *r = p->data;
  r->done = true;
  return HPE_PAUSED; /* one response; a pipelined next one has its own entry */
}

static void parse_response(struct parsed_response *r, struct slice bytes, bool head) {
  memset(r, 0, sizeof *r);
  llhttp_settings_init(&r->settings);
  r->settings.on_status = on_status;
  r->settings.on_header_field = on_field;
  r->settings.on_header_value = on_value;
  r->settings.on_header_value_complete = on_value_complete;
  r->settings.on_headers_complete = on_headers_done;
  r->settings.on_body = on_body;
  r->settings.on_message_complete = on_complete;
  llhttp_init(&r->parser, HTTP_RESPONSE, &r->settings);
  r->parser.data = r;
  r->head = head;
  buf_init(&r->status_text, 1024);
  buf_init(&r->headers, 2u * HTTP_MAX_HEADER_BYTES);
  buf_init(&r->field, HTTP_MAX_HEADER_BYTES);
  buf_init(&r->value, HTTP_MAX_HEADER_BYTES);
  llhttp_execute(&r->parser, (const char *) bytes.ptr, bytes.len);
  r->body.ptr = r->body_start;
}

static void parsed_response_cleanup(struct parsed_response *r) {
  buf_cleanup(&r->status_text);
  buf_cleanup(&r->headers);
  buf_cleanup(&r->field);
  buf_cleanup(&r->value);
}

static void write_request(struct jnl_event *e, const struct http_session *s,
                          const struct http_request_view *req, bool clear) {
  jnl_obj_begin(e, "request");
  jnl_strn(e, "method", req->method);
  write_url(e, s, req->target);
  char version[16];
  buf_fmt(version, sizeof version, "HTTP/%u.%u", (unsigned) s->parser.http_major,
          (unsigned) s->parser.http_minor);
  jnl_str(e, "httpVersion", version);
  jnl_arr_begin(e, "cookies");
  jnl_arr_end(e);
  jnl_arr_begin(e, "headers");
  size_t pos = 0;
  struct slice name, value;
  while (http__field_next(buf_slice(&s->headers), &pos, &name, &value)) {
    write_header(e, name, value, clear);
  }
  jnl_arr_end(e);
  write_query(e, req->target);
  if (req->body.len > 0) {
    jnl_obj_begin(e, "postData");
    jnl_strn(e, "mimeType", s->has_content_type ? buf_slice(&s->content_type) : slice_of_str(""));
    write_text(e, req->body, "_encoding");
    jnl_obj_end(e);
  }
  jnl_int(e, "headersSize", -1);
  jnl_uint(e, "bodySize", req->body.len);
  jnl_obj_end(e);
}

static void write_response(struct jnl_event *e, struct slice bytes, bool head,
                           const struct http_response *resp) {
  struct parsed_response r;
  parse_response(&r, bytes, head);
  jnl_obj_begin(e, "response");
  jnl_uint(e, "status", resp->status);
  jnl_strn(e, "statusText", buf_slice(&r.status_text));
  jnl_str(e, "httpVersion", "HTTP/1.1");
  jnl_arr_begin(e, "cookies");
  jnl_arr_end(e);
  jnl_arr_begin(e, "headers");
  size_t pos = 0;
  struct slice name, value;
  while (next_pair(&r.headers, &pos, &name, &value)) {
    write_header(e, name, value, true); /* the lab's own headers: nothing secret */
  }
  jnl_arr_end(e);
  jnl_obj_begin(e, "content");
  jnl_uint(e, "size", r.body.len);
  jnl_str(e, "mimeType", resp->content_type != NULL ? resp->content_type : "");
  if (r.body.len > 0) {
    write_text(e, r.body, "encoding");
  }
  jnl_obj_end(e);
  jnl_str(e, "redirectURL", resp->location != NULL ? resp->location : "");
  int64_t header_len =
      r.body_start != NULL ? (int64_t) (r.body_start - bytes.ptr) : (int64_t) bytes.len;
  jnl_int(e, "headersSize", r.done || head ? header_len : -1);
  jnl_uint(e, "bodySize", r.body.len);
  jnl_obj_end(e);
  parsed_response_cleanup(&r);
}

/* server_ip is the address part of "ip:port" or "[v6]:port". */
static struct slice server_ip(const char *local) {
  struct slice a = slice_of_str(local);
  if (a.len > 0 && a.ptr[0] == '[') {
    const uint8_t *close = memchr(a.ptr, ']', a.len);
    return close != NULL ? (struct slice){a.ptr + 1, (size_t) (close - a.ptr - 1)} : a;
  }
  const uint8_t *colon = a.len > 0 ? memchr(a.ptr, ':', a.len) : NULL;
  return colon != NULL ? (struct slice){a.ptr, (size_t) (colon - a.ptr)} : a;
}

void http__har_record(struct http_session *s, const struct http_request_view *req,
                      const struct http_response *resp, struct slice response_bytes, bool head,
                      const struct scn_route *route) {
  if (s->rec == NULL || s->rec->har == NULL) {
    return;
  }
  uint64_t now = uv_hrtime();
  double send_ms = (double) (s->t_complete - s->t_begin) / 1e6;
  double wait_ms = (double) (now - s->t_complete) / 1e6;
  if (s->l != NULL) {
    wait_ms += s->l->delay_ms; /* the listener holds every answer this long */
  }
  bool clear = s->rec->clear_credentials;
  struct jnl_event e;
  jnl_doc_begin(&e);
  jnl_str(&e, "startedDateTime", s->started);
  jnl_double(&e, "time", send_ms + wait_ms);
  write_request(&e, s, req, clear);
  write_response(&e, response_bytes, head, resp);
  jnl_obj_begin(&e, "cache");
  jnl_obj_end(&e);
  jnl_obj_begin(&e, "timings");
  jnl_int(&e, "blocked", -1);
  jnl_int(&e, "dns", -1);
  jnl_int(&e, "connect", -1);
  jnl_int(&e, "ssl", -1);
  jnl_double(&e, "send", send_ms);
  jnl_double(&e, "wait", wait_ms);
  jnl_int(&e, "receive", 0); /* the lab hands the answer to the kernel at once */
  jnl_obj_end(&e);
  if (s->local != NULL) {
    jnl_strn(&e, "serverIPAddress", server_ip(s->local));
  }
  jnl_str(&e, "connection", s->peer); /* the journal's "peer" of the same connection */
  jnl_str(&e, "_host", s->host != NULL ? s->host->id : NULL);
  jnl_str(&e, "_route", route != NULL ? route->path : NULL);
  jnl_bool(&e, "_tls", s->tls);
  jnl_har_add(s->rec->har, jnl_doc_take(&e));
}
