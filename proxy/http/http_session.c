/* proxy/http/http_session.c: one connection's requests without the socket — llhttp parses the
 * bytes, limits are enforced in its callbacks, each complete request is routed, answered into
 * the output buffer and journaled (http.request, http.response, http.error). A request for an
 * upstream route pauses the parser until the connection has forwarded it (http_upstream.c). */
#include "proxy/http/http.h"

#include "proxy/http/internal.h"

#include <openssl/base64.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define MAX_OUT (16u << 20)  /* answers waiting to be sent; pipelining past this closes */
#define MAX_STASH (1u << 20) /* requests pipelined behind a forwarded one */
#define SHRINK_KEEP 256u     /* between requests, buffers up to this capacity are kept */

static struct http_session *session_of(llhttp_t *p) {
  return p->data;
}

static int reject(struct http_session *s, uint16_t status, const char *why) {
  s->reject_status = status;
  s->reject_why = why;
  return -1; /* llhttp stops with HPE_USER */
}

static void reset_request(struct http_session *s) {
  buf_reset(&s->url);
  buf_reset(&s->field);
  buf_reset(&s->value);
  buf_reset(&s->host_header);
  buf_reset(&s->content_type);
  buf_reset(&s->authorization);
  buf_reset(&s->body);
  buf_reset(&s->headers);
  s->has_host = s->has_content_type = s->has_authorization = false;
  s->header_bytes = 0;
  s->n_headers = 0;
}

static int on_message_begin(llhttp_t *p) {
  struct http_session *s = session_of(p);
  s->in_request = true;
  s->in_head = true;
  reset_request(s);
  http__har_begin(s);
  return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len) {
  struct http_session *s = session_of(p);
  if (!buf_append(&s->url, (struct slice){(const uint8_t *) at, len})) {
    return reject(s, 414, "request target longer than 8 KiB");
  }
  return 0;
}

static int count_header_bytes(struct http_session *s, size_t len) {
  s->header_bytes += len;
  if (s->header_bytes > HTTP_MAX_HEADER_BYTES) {
    return reject(s, 431, "header fields larger than 64 KiB");
  }
  return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len) {
  struct http_session *s = session_of(p);
  if (count_header_bytes(s, len) != 0 ||
      !buf_append(&s->field, (struct slice){(const uint8_t *) at, len})) {
    return reject(s, 431, "header fields larger than 64 KiB");
  }
  return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len) {
  struct http_session *s = session_of(p);
  if (count_header_bytes(s, len) != 0 ||
      !buf_append(&s->value, (struct slice){(const uint8_t *) at, len})) {
    return reject(s, 431, "header fields larger than 64 KiB");
  }
  return 0;
}

/* only_chunked: every transfer coding a Transfer-Encoding value names is "chunked", the only one
 * the lab decodes (RFC 9112 6.1: any other gets 501). */
static bool only_chunked(struct slice value) {
  size_t at = 0;
  while (at <= value.len) {
    size_t end = at;
    while (end < value.len && value.ptr[end] != ',') {
      end++;
    }
    struct slice coding = {value.ptr + at, end - at};
    while (coding.len > 0 && (coding.ptr[0] == ' ' || coding.ptr[0] == '\t')) {
      coding.ptr++;
      coding.len--;
    }
    while (coding.len > 0 &&
           (coding.ptr[coding.len - 1] == ' ' || coding.ptr[coding.len - 1] == '\t')) {
      coding.len--;
    }
    if (coding.len > 0 && !slice_eq_nocase(coding, "chunked")) {
      return false;
    }
    at = end + 1;
  }
  return true;
}

/* keep_first copies the value of the first occurrence of a header we journal. */
static void keep_first(struct buf *dst, bool *has, const struct buf *value) {
  if (!*has) {
    *has = true;
    buf_append(dst, buf_slice(value));
  }
}

static int on_header_value_complete(llhttp_t *p) {
  struct http_session *s = session_of(p);
  if (++s->n_headers > HTTP_MAX_HEADERS) {
    return reject(s, 431, "more than 100 header fields");
  }
  struct slice name = buf_slice(&s->field);
  static const uint8_t nul = 0;
  if (!buf_append(&s->headers, name) || !buf_append(&s->headers, (struct slice){&nul, 1}) ||
      !buf_append(&s->headers, buf_slice(&s->value)) ||
      !buf_append(&s->headers, (struct slice){&nul, 1})) {
    return reject(s, 431, "header fields larger than 64 KiB");
  }
  if (slice_eq_nocase(name, "Host")) {
    keep_first(&s->host_header, &s->has_host, &s->value);
  } else if (slice_eq_nocase(name, "Content-Type")) {
    keep_first(&s->content_type, &s->has_content_type, &s->value);
  } else if (slice_eq_nocase(name, "Authorization")) {
    keep_first(&s->authorization, &s->has_authorization, &s->value);
  } else if (slice_eq_nocase(name, "Transfer-Encoding") && !only_chunked(buf_slice(&s->value))) {
    return reject(s, 501, "a transfer coding other than chunked");
  }
  buf_reset(&s->field);
  buf_reset(&s->value);
  return 0;
}

static int on_headers_complete(llhttp_t *p) {
  struct http_session *s = session_of(p);
  s->in_head = false;
  if ((p->flags & F_CONTENT_LENGTH) != 0 && p->content_length > HTTP_MAX_BODY) {
    return reject(s, 413, "request body larger than 1 MiB");
  }
  return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
  struct http_session *s = session_of(p);
  if (!buf_append(&s->body, (struct slice){(const uint8_t *) at, len})) {
    return reject(s, 413, "request body larger than 1 MiB");
  }
  return 0;
}

static bool clear_credentials(const struct http_session *s) {
  return s->rec != NULL && s->rec->clear_credentials;
}

/* journal_addresses ends every line of the session with the same three fields: their text is
 * kept from the first line (after some field: it begins with its comma) and copied after. */
static void journal_addresses(struct http_session *s, struct jnl_event *ev) {
  if (s->addresses.len > 0) {
    jnl_fields(ev, buf_slice(&s->addresses));
    return;
  }
  size_t mark = jnl_mark(ev);
  jnl_str(ev, "local", s->local);
  jnl_str(ev, "peer", s->peer);
  jnl_bool(ev, "tls", s->tls);
  buf_append(&s->addresses, jnl_since(ev, mark)); /* nothing when the journal is off or full */
}

static const char *server_id(const struct http_session *s) {
  return s->host != NULL && s->host->id != NULL ? s->host->id : "autodisco";
}

static bool looks_like_xml(struct slice body) {
  size_t i = 0;
  while (i < body.len && (body.ptr[i] == ' ' || body.ptr[i] == '\t' || body.ptr[i] == '\r' ||
                          body.ptr[i] == '\n')) {
    i++;
  }
  /* a UTF-8 byte order mark may precede the declaration */
  if (i + 3 <= body.len && body.ptr[i] == 0xef && body.ptr[i + 1] == 0xbb &&
      body.ptr[i + 2] == 0xbf) {
    i += 3;
  }
  return i < body.len && body.ptr[i] == '<';
}

static void journal_response(struct http_session *s, const struct http_response *resp,
                             const struct scn_route *route) {
  struct jnl_event ev;
  jnl_begin(&ev, s->j, "http.response");
  jnl_uint(&ev, "status", resp->status);
  jnl_str(&ev, "route", route == NULL ? NULL : route->path);
  if (resp->answers) {
    if (resp->answer > 0) {
      jnl_uint(&ev, "answer", resp->answer); /* which of the route's answers (1: the first) */
    } else {
      jnl_null(&ev, "answer"); /* none applied: 404 */
    }
  }
  jnl_uint(&ev, "length", resp->body.len);
  if (resp->challenged) {
    jnl_bool(&ev, "challenged", true); /* a 401 of the route's auth */
  }
  if (s->l != NULL && s->l->delay_ms > 0) {
    jnl_uint(&ev, "delay_ms", s->l->delay_ms); /* lab time the answer waits before it goes */
  }
  journal_addresses(s, &ev);
  jnl_end(&ev);
}

static bool is_autodiscover(const struct scn_route *route) {
  return http__route_has(route, SCN_ROUTE_AUTODISCOVER) ||
         http__route_has(route, SCN_ROUTE_AUTODISCOVER_V2) ||
         http__route_has(route, SCN_ROUTE_SOAP);
}

/* ntlm_response: the credential is an NTLM AUTHENTICATE message (NTLMSSP type 3) — the client's
 * answer to a challenge, which whoever reads it can attack offline like a password hash (MS-NLMP
 * 2.2.1.3) — sent as "NTLM <base64>" or inside a "Negotiate" token (raw, or SPNEGO-wrapped: the
 * NTLMSSP message is then a byte string inside the DER, so it is looked for anywhere). The
 * negotiate message (type 1) carries nothing secret. */
static bool ntlm_response(struct slice value, struct slice scheme) {
  if (!slice_eq_nocase(scheme, "NTLM") && !slice_eq_nocase(scheme, "Negotiate")) {
    return false;
  }
  struct slice token = {value.ptr + scheme.len, value.len - scheme.len};
  while (token.len > 0 && token.ptr[0] == ' ') {
    token.ptr++;
    token.len--;
  }
  while (token.len > 0 && token.ptr[token.len - 1] == ' ') {
    token.len--;
  }
  size_t max = 0;
  if (token.len == 0 || !EVP_DecodedLength(&max, token.len)) {
    return false;
  }
  uint8_t *raw = xcalloc(1, max);
  size_t n = 0;
  bool found = false;
  if (EVP_DecodeBase64(raw, &n, max, token.ptr, token.len)) {
    static const uint8_t type3[12] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 3, 0, 0, 0};
    for (size_t i = 0; !found && i + sizeof type3 <= n; i++) {
      found = memcmp(raw + i, type3, sizeof type3) == 0;
    }
  }
  free(raw);
  return found;
}

/* leak_reason says why a credential in this request reached somewhere it should not, or NULL.
 * A credential is a Basic one (the password itself) or an NTLM response (ntlm_response): over
 * plain HTTP anyone on the path reads it; at a path no Autodiscover route of this host answers
 * (POX, SOAP, AutoDV2) it went to a host that is not the scenario's Autodiscover endpoint for
 * that URL — a redirector, a web site, a challenge that only collects credentials. */
static const char *leak_reason(const struct http_session *s, const struct scn_route *route) {
  if (!s->has_authorization) {
    return NULL;
  }
  struct slice value = buf_slice(&s->authorization);
  struct slice scheme = jnl_secret_scheme(value);
  bool basic = slice_eq_nocase(scheme, "Basic");
  if (!basic && !ntlm_response(value, scheme)) {
    return NULL;
  }
  if (!s->tls) {
    return basic ? "Basic over plain HTTP" : "an NTLM response over plain HTTP";
  }
  if (!is_autodiscover(route)) {
    return basic ? "Basic at a host with no Autodiscover route for this path"
                 : "an NTLM response at a host with no Autodiscover route for this path";
  }
  return NULL;
}

static void journal_finding(struct http_session *s, const char *why, struct slice path,
                            const struct scn_route *route) {
  struct jnl_event ev;
  jnl_begin(&ev, s->j, "finding");
  jnl_str(&ev, "kind", "credential-leak");
  jnl_strn(&ev, "scheme", jnl_secret_scheme(buf_slice(&s->authorization)));
  jnl_str(&ev, "why", why);
  if (s->has_host) {
    jnl_strn(&ev, "host", buf_slice(&s->host_header));
  } else {
    jnl_null(&ev, "host");
  }
  jnl_str(&ev, "host_id", s->host != NULL ? s->host->id : NULL);
  jnl_strn(&ev, "path", path);
  jnl_str(&ev, "route", route == NULL ? NULL : route->path);
  jnl_credential(&ev, "authorization", buf_slice(&s->authorization), clear_credentials(s));
  journal_addresses(s, &ev);
  jnl_end(&ev);
}

static void send_response(struct http_session *s, const struct http_response *resp, bool head,
                          bool keep_alive) {
  if (!http__response_serialize(&s->out, resp, head, keep_alive)) {
    keep_alive = false; /* too much waiting to be sent: stop reading requests */
  }
  if (!keep_alive) {
    s->closing = true;
  }
}

/* pick_host sets the host and listener that answer this request on a shared listener: the one
 * the TLS client named (SNI), else the one the Host header names, else the default. */
static void pick_host(struct http_session *s) {
  if (s->n_vhosts == 0) {
    return;
  }
  const struct http_vhost *v = s->sni_host;
  if (v == NULL && s->has_host) {
    long i = http_vhost_find(s->vhosts, s->n_vhosts, buf_slice(&s->host_header));
    v = i >= 0 ? &s->vhosts[i] : NULL;
  }
  if (v == NULL) {
    v = &s->vhosts[0];
  }
  s->host = v->host;
  s->l = v->l;
}

/* journal_request writes http.request: what was asked, and the address it names. */
static void journal_request(struct http_session *s, const struct http_request_view *req,
                            const struct http_soap_request *soap, const char *pox_why,
                            const char *soap_why) {
  struct jnl_event ev;
  jnl_begin(&ev, s->j, "http.request");
  if (s->has_host) {
    jnl_strn(&ev, "host", buf_slice(&s->host_header));
  } else {
    jnl_null(&ev, "host");
  }
  jnl_strn(&ev, "method", req->method);
  struct slice sent = http__request_path(buf_slice(&s->url));
  jnl_strn(&ev, "path", sent);
  if (sent.len != req->path.len || memcmp(sent.ptr, req->path.ptr, sent.len) != 0) {
    jnl_strn(&ev, "path_decoded", req->path); /* what the routes were matched against */
  }
  if (sent.len != s->url.len) {
    jnl_strn(&ev, "target", buf_slice(&s->url));
  }
  jnl_str(&ev, "email", req->email);
  if (req->soap != NULL) {
    jnl_str(&ev, "soap",
            soap->op == HTTP_SOAP_USER_SETTINGS ? "GetUserSettings" : "GetDomainSettings");
  }
  if (pox_why != NULL) {
    jnl_str(&ev, "pox_error", pox_why);
  }
  if (soap_why != NULL) {
    jnl_str(&ev, "soap_error", soap_why);
  }
  if (s->has_content_type) {
    jnl_strn(&ev, "content_type", buf_slice(&s->content_type));
  } else {
    jnl_null(&ev, "content_type");
  }
  jnl_uint(&ev, "length", s->body.len);
  if (s->has_authorization) {
    /* the scheme and a fingerprint; the value only under serve --record-credentials */
    jnl_credential(&ev, "authorization", buf_slice(&s->authorization), clear_credentials(s));
  }
  jnl_str(&ev, "host_id", s->host != NULL ? s->host->id : NULL); /* whose routes answer */
  journal_addresses(s, &ev);
  jnl_end(&ev);
}

/* answer routes the complete request, queues the response and journals both. */
static void answer(struct http_session *s) {
  llhttp_t *p = &s->parser;
  pick_host(s);
  struct http_pox_request pox;
  memset(&pox, 0, sizeof pox);
  struct http_soap_request soap;
  memset(&soap, 0, sizeof soap);
  struct buf path, ad2_email;
  buf_init(&path, HTTP_MAX_URL);
  buf_init(&ad2_email, 1024);
  /* docs/protocol.md §1.1: IIS decodes the path (once) before it matches it */
  bool path_ok = http__path_decode(&path, http__request_path(buf_slice(&s->url)));
  struct http_request_view req = {
      .method = slice_of_str(llhttp_method_name((llhttp_method_t) p->method)),
      .path = buf_slice(&path),
      .target = buf_slice(&s->url),
      .body = buf_slice(&s->body),
      .has_authorization = s->has_authorization,
      .has_body = s->body.len > 0,
      .counts = s->rec != NULL ? s->rec->counts : NULL,
      .n_counts = s->rec != NULL ? s->rec->n_counts : 0,
  };
  if (!path_ok) {
    req.path = http__request_path(buf_slice(&s->url));
  }
  s->n_requests++;
  s->t_complete = uv_hrtime();
  char why[256] = "";
  const struct scn_route *route = path_ok ? http__route_match(s->l, req.method, req.path) : NULL;
  if (http__route_has(route, SCN_ROUTE_SOAP)) {
    if (http__soap_parse(&soap, req.body, why, sizeof why)) {
      req.soap = &soap;
    } else {
      req.soap_error = why;
    }
  } else if (s->body.len > 0 && looks_like_xml(buf_slice(&s->body))) {
    /* the memo gives the fields (and below the answer) of a body seen before at this route */
    req.memo = http__memo_find(s->memo, route, server_id(s), buf_slice(&s->body));
    if (req.memo != NULL) {
      http__memo_pox(req.memo, &pox);
      req.pox_status = HTTP_POX_OK;
    } else {
      req.pox_status = http__pox_parse(&pox, buf_slice(&s->body), why, sizeof why);
      if (req.pox_status == HTTP_POX_OK) {
        req.memo = http__memo_add(s->memo, route, server_id(s), buf_slice(&s->body), &pox);
      }
    }
    req.pox = &pox;
  }
  if (http__route_has(route, SCN_ROUTE_AUTODISCOVER_V2) &&
      http__ad2_email(&ad2_email, &req, route->path)) {
    req.email = buf_cstr(&ad2_email);
  } else if (req.soap != NULL) {
    bool user = soap.op == HTTP_SOAP_USER_SETTINGS;
    req.email = user && soap.n_subjects > 0 ? soap.subjects[0] : NULL;
  } else {
    req.email = pox.email;
  }
  journal_request(s, &req, &soap, req.pox != NULL && req.pox_status != HTTP_POX_OK ? why : NULL,
                  req.soap_error != NULL ? why : NULL);
  const char *leak = leak_reason(s, route);
  if (leak != NULL) {
    journal_finding(s, leak, http__request_path(buf_slice(&s->url)), route);
  }

  bool keep_alive = llhttp_should_keep_alive(p) && !p->upgrade;
  if (route != NULL && route->kind == SCN_ROUTE_UPSTREAM) {
    s->forward = route; /* the connection forwards it; the parser waits (on_message_complete) */
    s->forward_keep_alive = keep_alive;
    s->forward_head = p->method == HTTP_HEAD;
  } else {
    struct http_response resp;
    http__response_init(&resp, 200);
    if (path_ok) {
      http__route_answer(&resp, route, &req, server_id(s));
    } else {
      http__response_text(&resp, 400); /* http.sys refuses a path it cannot decode */
    }
    size_t sent_from = s->out.len;
    send_response(s, &resp, p->method == HTTP_HEAD, keep_alive && path_ok);
    journal_response(s, &resp, route);
    struct slice sent = {NULL, 0};
    if (s->out.ptr != NULL) {
      sent = (struct slice){s->out.ptr + sent_from, s->out.len - sent_from};
    }
    http__har_record(s, &req, &resp, sent, p->method == HTTP_HEAD, route);
    http__response_cleanup(&resp);
  }
  http__pox_request_cleanup(&pox);
  http__soap_request_cleanup(&soap);
  buf_cleanup(&path);
  buf_cleanup(&ad2_email);
}

static int on_message_complete(llhttp_t *p) {
  struct http_session *s = session_of(p);
  s->in_request = false;
  s->in_head = false;
  answer(s);
  /* closing: parse nothing more; forwarding: nothing more until the upstream has answered */
  return s->closing || s->forward != NULL ? HPE_PAUSED : 0;
}

void http__session_init(struct http_session *s, const struct scn_host *host,
                        const struct scn_listener *l, struct jnl *j) {
  memset(s, 0, sizeof *s);
  s->host = host;
  s->l = l;
  s->j = j;
  llhttp_settings_init(&s->settings);
  s->settings.on_message_begin = on_message_begin;
  s->settings.on_url = on_url;
  s->settings.on_header_field = on_header_field;
  s->settings.on_header_value = on_header_value;
  s->settings.on_header_value_complete = on_header_value_complete;
  s->settings.on_headers_complete = on_headers_complete;
  s->settings.on_body = on_body;
  s->settings.on_message_complete = on_message_complete;
  llhttp_init(&s->parser, HTTP_REQUEST, &s->settings);
  s->parser.data = s;
  buf_init(&s->url, HTTP_MAX_URL);
  buf_init(&s->field, HTTP_MAX_HEADER_BYTES);
  buf_init(&s->value, HTTP_MAX_HEADER_BYTES);
  buf_init(&s->host_header, HTTP_MAX_HEADER_BYTES);
  buf_init(&s->content_type, HTTP_MAX_HEADER_BYTES);
  buf_init(&s->authorization, HTTP_MAX_HEADER_BYTES);
  buf_init(&s->body, HTTP_MAX_BODY);
  buf_init(&s->headers, HTTP_MAX_HEADER_BYTES + 2 * HTTP_MAX_HEADERS);
  buf_init(&s->out, MAX_OUT);
  buf_init(&s->stash, MAX_STASH);
  buf_init(&s->addresses, 512); /* two addresses and "tls", quoted */
}

void http__session_set_vhosts(struct http_session *s, const struct http_vhost *vhosts, size_t n) {
  s->vhosts = vhosts;
  s->n_vhosts = n;
}

void http__session_cleanup(struct http_session *s) {
  buf_cleanup(&s->url);
  buf_cleanup(&s->field);
  buf_cleanup(&s->value);
  buf_cleanup(&s->host_header);
  buf_cleanup(&s->content_type);
  buf_cleanup(&s->authorization);
  buf_cleanup(&s->body);
  buf_cleanup(&s->headers);
  buf_cleanup(&s->out);
  buf_cleanup(&s->stash);
  buf_cleanup(&s->addresses);
}

static void journal_error(struct http_session *s, const char *error) {
  struct jnl_event ev;
  jnl_begin(&ev, s->j, "http.error");
  jnl_str(&ev, "error", error);
  journal_addresses(s, &ev);
  jnl_end(&ev);
}

/* refuse answers a request the parser or a limit stopped, and ends the connection. */
static void refuse(struct http_session *s, llhttp_errno_t err) {
  char error[256];
  uint16_t status = s->reject_status != 0 ? s->reject_status : 400;
  if (s->reject_status != 0) {
    buf_fmt(error, sizeof error, "%s", s->reject_why);
  } else {
    const char *reason = llhttp_get_error_reason(&s->parser);
    buf_fmt(error, sizeof error, "%s: %s", llhttp_errno_name(err),
            reason != NULL ? reason : "parse error");
  }
  journal_error(s, error);
  struct http_response resp;
  http__response_init(&resp, status);
  http__response_text(&resp, status);
  send_response(s, &resp, false, false);
  journal_response(s, &resp, NULL);
  http__response_cleanup(&resp);
  s->closing = true;
  s->in_head = false; /* nothing more is read: no head is waited for */
}

bool http__session_feed(struct http_session *s, struct slice in) {
  if (s->closing) {
    return false;
  }
  if (in.len == 0) {
    return true;
  }
  if (!s->in_request) {
    s->in_head = true; /* from the first byte after the last request, blank lines included */
  }
  llhttp_errno_t err = llhttp_execute(&s->parser, (const char *) in.ptr, in.len);
  if (err == HPE_OK) {
    return true;
  }
  if (err == HPE_PAUSED && s->closing) {
    return false; /* the last request was answered; the rest is not read */
  }
  if (err == HPE_PAUSED && s->forward != NULL) {
    /* what came after the forwarded request waits for its answer */
    const uint8_t *pos = (const uint8_t *) llhttp_get_error_pos(&s->parser);
    size_t used =
        pos != NULL && pos >= in.ptr && pos <= in.ptr + in.len ? (size_t) (pos - in.ptr) : in.len;
    if (!buf_append(&s->stash, (struct slice){in.ptr + used, in.len - used})) {
      s->forward_keep_alive = false; /* too much pipelined: answer this one, then close */
    }
    return true;
  }
  refuse(s, err);
  return false;
}

struct http_upstream_request http__session_forward_request(const struct http_session *s) {
  return (struct http_upstream_request){
      .up = &s->forward->upstream,
      .method = slice_of_str(llhttp_method_name((llhttp_method_t) s->parser.method)),
      .target = buf_slice(&s->url),
      .headers = buf_slice(&s->headers),
      .host = s->has_host ? buf_slice(&s->host_header) : (struct slice){NULL, 0},
      .body = buf_slice(&s->body),
  };
}

bool http__session_forwarded(struct http_session *s, const struct http_upstream_end *end) {
  const struct scn_route *route = s->forward;
  bool keep_alive = s->forward_keep_alive && end->ok && end->keep_alive;
  struct http_response resp;
  http__response_init(&resp, end->status);
  if (!end->relayed_any) {
    /* nothing of a response reached the client: the lab answers, saying why (RFC 9110 15.6.3) */
    resp.status = 502;
    resp.content_type = "text/plain; charset=utf-8";
    buf_appendf(&resp.body, "502 Bad Gateway\n%s: %s\n", route->upstream.url,
                end->error != NULL ? end->error : "no response");
    keep_alive = s->forward_keep_alive;
    send_response(s, &resp, s->forward_head, keep_alive);
  } else if (!end->ok || !keep_alive) {
    s->closing = true; /* a response cut short, or framed by the connection's end */
  }
  struct jnl_event ev;
  jnl_begin(&ev, s->j, "http.response");
  jnl_uint(&ev, "status", resp.status);
  jnl_str(&ev, "route", route->path);
  jnl_uint(&ev, "length", end->relayed_any ? end->length : resp.body.len);
  jnl_str(&ev, "upstream", route->upstream.url);
  if (end->error != NULL) {
    jnl_str(&ev, "error", end->error);
  }
  journal_addresses(s, &ev);
  jnl_end(&ev);
  http__response_cleanup(&resp);
  s->forward = NULL;
  if (s->closing) {
    return false;
  }
  llhttp_resume(&s->parser);
  struct buf rest = s->stash; /* fed afresh: the next forward stashes into a new buffer */
  buf_init(&s->stash, MAX_STASH);
  bool more = http__session_feed(s, buf_slice(&rest));
  buf_cleanup(&rest);
  return more;
}

void http__session_timeout(struct http_session *s, const char *why) {
  if (s->closing) {
    return;
  }
  s->reject_status = 408; /* RFC 9110 15.5.9 */
  s->reject_why = why;
  refuse(s, HPE_USER);
}

void http__session_eof(struct http_session *s) {
  if (s->closing) {
    return;
  }
  s->closing = true;
  llhttp_errno_t err = llhttp_finish(&s->parser);
  if (err != HPE_OK) {
    char error[256];
    const char *reason = llhttp_get_error_reason(&s->parser);
    buf_fmt(error, sizeof error, "%s: peer closed mid-request (%s)", llhttp_errno_name(err),
            reason != NULL ? reason : "incomplete");
    journal_error(s, error);
  }
}

/* shrink_buf frees a buffer the last request made large; small ones stay, so a keep-alive
 * connection does not pay a malloc and free per buffer per request (callgrind: +3 % Ir for a
 * small GET when every buffer was freed) for a few hundred bytes. */
static void shrink_buf(struct buf *b) {
  if (b->cap > SHRINK_KEEP) {
    buf_cleanup(b);
  }
}

void http__session_shrink(struct http_session *s) {
  if (s->in_request || s->forward != NULL) {
    return;
  }
  shrink_buf(&s->url);
  shrink_buf(&s->field);
  shrink_buf(&s->value);
  shrink_buf(&s->host_header);
  shrink_buf(&s->content_type);
  shrink_buf(&s->authorization);
  shrink_buf(&s->body);
  shrink_buf(&s->headers);
  if (s->out.len == 0) {
    shrink_buf(&s->out);
  }
  if (s->stash.len == 0) {
    buf_cleanup(&s->stash);
  }
}
