/* proxy/http/http_upstream.c: one request of an upstream route forwarded to the real server, as
 * a state machine read top to bottom — find the server (upstream_address, or its name through
 * c-ares), connect, shake hands (BoringSSL client over memory BIOs, SNI the upstream's host, the
 * certificate checked against upstream_trust or the system's roots), send the request
 * (http_forward.c makes it), then relay the response byte for byte as it comes while llhttp finds
 * where it ends (Content-Length, chunked, or the connection's end). One timer bounds each wait.
 * Events: upstream.request, then upstream.response or upstream.error (docs/journal.md). */
#include "proxy/http/http.h"

#include "certs/ca.h"
#include "common/addr.h"
#include "proxy/http/internal.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REQUEST (HTTP_MAX_BODY + HTTP_MAX_HEADER_BYTES + HTTP_MAX_URL + 4096)
#define READ_CHUNK 65536

enum up_state {
  UP_RESOLVE,    /* start finding the server's address */
  UP_RESOLVING,  /* waiting for c-ares */
  UP_CONNECT,    /* start connecting */
  UP_CONNECTING, /* waiting for the TCP handshake */
  UP_HANDSHAKE,  /* https: TLS handshake */
  UP_SEND,       /* the request goes out */
  UP_RESPONSE,   /* reading and relaying the response */
  UP_DONE,       /* the response is complete */
  UP_FAILED,
};

enum step { STEP_NEXT, STEP_WAIT, STEP_FAIL };

struct http_upstream {
  uv_loop_t *loop;
  struct jnl *j;
  const struct scn_upstream *up;
  struct http_upstream_events ev;
  enum up_state state;
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_connect_t connect;
  int n_open_handles;
  bool tcp_open;
  bool cancelled; /* no more events: the client went away */
  bool closing;
  bool paused;
  bool eof; /* the server closed its side */
  struct http_resolve *resolve;
  struct sockaddr_storage addr;
  char addr_text[64];
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *in;  /* ciphertext from the server */
  BIO *out; /* ciphertext for the server */
  struct buf request;
  bool built; /* the request fitted in MAX_REQUEST */
  bool head;  /* a HEAD request: the response has no body */
  llhttp_t parser;
  llhttp_settings_t settings;
  struct slice plain; /* bytes received, not yet parsed (plain HTTP; TLS reads from its BIO) */
  bool complete;      /* llhttp saw the end of the final response */
  uint16_t status;
  uint64_t body_len;
  bool relayed_any;
  uint64_t started_ms;
  const char *stage; /* for upstream.error: resolve, connect, tls, request, response */
  char error[256];
  char url[HTTP_MAX_URL + 300];
  char rbuf[READ_CHUNK];
};

static const char *state_stage(enum up_state st) {
  switch (st) {
    case UP_RESOLVE:
    case UP_RESOLVING: return "resolve";
    case UP_CONNECT:
    case UP_CONNECTING: return "connect";
    case UP_HANDSHAKE: return "tls";
    case UP_SEND: return "request";
    case UP_RESPONSE:
    case UP_DONE:
    case UP_FAILED: return "response";
  }
  return "?";
}

static void advance(struct http_upstream *u);

/* ---- the end ---- */

static void on_closed(uv_handle_t *h) {
  struct http_upstream *u = h->data;
  if (--u->n_open_handles == 0) {
    SSL_free(u->ssl); /* the BIOs with it */
    SSL_CTX_free(u->ctx);
    buf_cleanup(&u->request);
    free(u);
  }
}

static void close_all(struct http_upstream *u) {
  if (u->closing) {
    return;
  }
  u->closing = true;
  http__resolve_cancel(u->resolve);
  u->resolve = NULL;
  uv_close((uv_handle_t *) &u->timer, on_closed);
  if (u->tcp_open) {
    uv_close((uv_handle_t *) &u->tcp, on_closed);
  }
}

static uint64_t elapsed(const struct http_upstream *u) {
  return uv_now(u->loop) - u->started_ms;
}

/* fail ends the exchange for `fmt`: upstream.error, then the connection's done event. */
static void fail(struct http_upstream *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(struct http_upstream *u, const char *fmt, ...) {
  if (u->state == UP_FAILED || u->state == UP_DONE || u->closing) {
    return;
  }
  const char *stage = state_stage(u->state);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(u->error, sizeof u->error, fmt, ap);
  va_end(ap);
  u->state = UP_FAILED;
  struct jnl_event e;
  jnl_begin(&e, u->j, "upstream.error");
  jnl_str(&e, "url", u->url);
  jnl_str(&e, "stage", stage);
  jnl_str(&e, "error", u->error);
  jnl_str(&e, "address", u->addr_text[0] != '\0' ? u->addr_text : NULL);
  jnl_uint(&e, "ms", elapsed(u));
  jnl_end(&e);
  struct http_upstream_end end = {
      .relayed_any = u->relayed_any, .status = u->status, .length = u->body_len, .error = u->error};
  if (!u->cancelled) {
    u->ev.done(u->ev.arg, &end);
  }
  close_all(u);
}

static void succeed(struct http_upstream *u) {
  u->state = UP_DONE;
  struct jnl_event e;
  jnl_begin(&e, u->j, "upstream.response");
  jnl_str(&e, "url", u->url);
  jnl_uint(&e, "status", u->status);
  jnl_uint(&e, "length", u->body_len);
  jnl_str(&e, "address", u->addr_text);
  jnl_uint(&e, "ms", elapsed(u));
  jnl_end(&e);
  struct http_upstream_end end = {.ok = true,
                                  .relayed_any = u->relayed_any,
                                  .keep_alive = llhttp_should_keep_alive(&u->parser) != 0,
                                  .status = u->status,
                                  .length = u->body_len};
  if (!u->cancelled) {
    u->ev.done(u->ev.arg, &end);
  }
  close_all(u);
}

/* ---- timer and bytes ---- */

static void on_timeout(uv_timer_t *t) {
  struct http_upstream *u = t->data;
  fail(u, "no %s within %u ms",
       u->state <= UP_RESOLVING    ? "address for the name"
       : u->state <= UP_CONNECTING ? "connection"
       : u->state == UP_HANDSHAKE  ? "TLS handshake"
       : u->status == 0            ? "response"
                                   : "more of the response",
       (unsigned) u->up->timeout_ms);
}

static void arm(struct http_upstream *u) {
  if (!u->closing && !u->paused) {
    uv_timer_start(&u->timer, on_timeout, u->up->timeout_ms, 0);
  }
}

static void on_written(uv_write_t *req, int status) {
  struct http_upstream *u = req->data;
  free(req);
  if (status < 0 && status != UV_ECANCELED && !u->closing) {
    fail(u, "sending to %s: %s", u->addr_text, uv_strerror(status));
  }
}

/* send_bytes writes `len` bytes (copied) to the server. */
static bool send_bytes(struct http_upstream *u, const uint8_t *p, size_t len) {
  if (len == 0) {
    return true;
  }
  uv_write_t *w = malloc(sizeof *w + len);
  if (w == NULL) {
    return false;
  }
  uint8_t *copy = (uint8_t *) (w + 1);
  memcpy(copy, p, len);
  w->data = u;
  uv_buf_t b = uv_buf_init((char *) copy, (unsigned) len);
  if (uv_write(w, (uv_stream_t *) &u->tcp, &b, 1, on_written) != 0) {
    free(w);
    return false;
  }
  return true;
}

/* flush_tls sends what BoringSSL wrote for the server. */
static bool flush_tls(struct http_upstream *u) {
  const uint8_t *data = NULL;
  size_t len = 0;
  if (!BIO_mem_contents(u->out, &data, &len)) {
    return false;
  }
  bool ok = send_bytes(u, data, len);
  BIO_reset(u->out);
  return ok;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  struct http_upstream *u = h->data;
  *b = uv_buf_init(u->rbuf, sizeof u->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
  struct http_upstream *u = s->data;
  if (u->closing || nread == 0) {
    return;
  }
  if (nread < 0) {
    u->eof = true; /* EOF, or an error: the server's side is over either way */
    if (nread != UV_EOF && u->state < UP_DONE) {
      fail(u, "reading from %s: %s", u->addr_text, uv_strerror((int) nread));
      return;
    }
  } else if (u->ssl != NULL) {
    if (BIO_write(u->in, b->base, (int) nread) != (int) nread) {
      fail(u, "out of memory");
      return;
    }
  } else {
    u->plain = (struct slice){(const uint8_t *) b->base, (size_t) nread};
  }
  arm(u);
  advance(u);
}

/* ---- the states ---- */

static void on_resolved(void *arg, const struct sockaddr_storage *addr, const char *error) {
  struct http_upstream *u = arg;
  u->resolve = NULL; /* it frees itself */
  if (addr == NULL) {
    fail(u, "DNS: %s: %s", u->up->host, error);
    return;
  }
  u->addr = *addr;
  u->state = UP_CONNECT;
  advance(u);
}

/* literal_address reads an IP literal and a port into out. */
static bool literal_address(const char *ip, uint16_t port, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  return uv_ip4_addr(ip, port, (struct sockaddr_in *) out) == 0 ||
         uv_ip6_addr(ip, port, (struct sockaddr_in6 *) out) == 0;
}

static enum step do_resolve(struct http_upstream *u) {
  const struct scn_upstream *up = u->up;
  if (up->address != NULL) {
    if (!literal_address(up->address, up->address_port, &u->addr)) {
      fail(u, "upstream_address %s is not an address", up->address);
      return STEP_FAIL;
    }
    u->state = UP_CONNECT;
    return STEP_NEXT;
  }
  if (literal_address(up->host, up->port, &u->addr)) {
    u->state = UP_CONNECT; /* the URL names an address: nothing to look up */
    return STEP_NEXT;
  }
  u->state = UP_RESOLVING;
  u->resolve =
      http__resolve_start(u->loop, up->host, up->port, up->dns, up->timeout_ms, on_resolved, u);
  return STEP_WAIT;
}

static void on_connected(uv_connect_t *req, int status) {
  struct http_upstream *u = req->data;
  if (u->closing || status == UV_ECANCELED) {
    return;
  }
  if (status < 0) {
    fail(u, "connect to %s: %s", u->addr_text, uv_strerror(status));
    return;
  }
  int rc = uv_read_start((uv_stream_t *) &u->tcp, on_alloc, on_read);
  if (rc != 0) {
    fail(u, "reading from %s: %s", u->addr_text, uv_strerror(rc));
    return;
  }
  u->state = u->up->https ? UP_HANDSHAKE : UP_SEND;
  arm(u);
  advance(u);
}

static enum step do_connect(struct http_upstream *u) {
  addr_format((const struct sockaddr *) &u->addr, u->addr_text, sizeof u->addr_text);
  int rc = uv_tcp_init(u->loop, &u->tcp);
  if (rc != 0) {
    fail(u, "socket: %s", uv_strerror(rc));
    return STEP_FAIL;
  }
  u->tcp.data = u;
  u->tcp_open = true;
  u->n_open_handles++;
  u->connect.data = u;
  u->state = UP_CONNECTING;
  rc = uv_tcp_connect(&u->connect, &u->tcp, (const struct sockaddr *) &u->addr, on_connected);
  if (rc != 0) {
    fail(u, "connect to %s: %s", u->addr_text, uv_strerror(rc));
    return STEP_FAIL;
  }
  arm(u);
  return STEP_WAIT;
}

enum http_status http__upstream_tls_new(SSL_CTX **out, const struct scn_upstream *up, char *err,
                                        size_t err_size) {
  const char *trust = up->trust != NULL ? up->trust : ca_trust_system_path();
  *out = NULL;
  if (trust == NULL) {
    buf_fmt(err, err_size,
            "upstream %s: TLS: no system trust store on this machine (set SSL_CERT_FILE, or "
            "name the roots with upstream_trust)",
            up->url);
    return HTTP_ETRUST;
  }
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
    ERR_clear_error();
    SSL_CTX_free(ctx);
    buf_fmt(err, err_size, "upstream %s: TLS: cannot make a client context", up->url);
    return HTTP_ETRUST;
  }
  if (!SSL_CTX_load_verify_locations(ctx, trust, NULL)) {
    ERR_clear_error();
    SSL_CTX_free(ctx);
    buf_fmt(err, err_size, "upstream %s: TLS: cannot read the trusted roots in %s", up->url, trust);
    return HTTP_ETRUST;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  *out = ctx;
  return HTTP_OK;
}

enum http_status http__upstream_tls_make(struct http__upstream_tls *set,
                                         const struct http_vhost *hosts, size_t n_hosts, char *err,
                                         size_t err_size) {
  for (size_t i = 0; i < n_hosts; i++) {
    const struct scn_listener *l = hosts[i].l;
    for (size_t k = 0; l != NULL && k < l->n_routes; k++) {
      const struct scn_route *r = &l->routes[k];
      if (r->kind != SCN_ROUTE_UPSTREAM || !r->upstream.https) {
        continue;
      }
      SSL_CTX *ctx = NULL;
      enum http_status st = http__upstream_tls_new(&ctx, &r->upstream, err, err_size);
      if (st != HTTP_OK) {
        return st;
      }
      set->v = xrealloc_array(set->v, set->n + 1, sizeof *set->v);
      set->v[set->n++] = (struct http__upstream_ctx){.up = &r->upstream, .ctx = ctx};
    }
  }
  return HTTP_OK;
}

SSL_CTX *http__upstream_tls_of(const struct http__upstream_tls *set,
                               const struct scn_upstream *up) {
  for (size_t i = 0; i < set->n; i++) {
    if (set->v[i].up == up) {
      return set->v[i].ctx;
    }
  }
  return NULL;
}

void http__upstream_tls_cleanup(struct http__upstream_tls *set) {
  for (size_t i = 0; i < set->n; i++) {
    SSL_CTX_free(set->v[i].ctx);
  }
  free(set->v);
  *set = (struct http__upstream_tls){0};
}

/* tls_start makes the client connection on the route's context: the name to check and send. */
static bool tls_start(struct http_upstream *u) {
  static const uint8_t alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  if (u->ctx == NULL) {
    fail(u, "TLS: no client context for %s", u->up->url);
    return false;
  }
  u->ssl = SSL_new(u->ctx);
  BIO *in = BIO_new(BIO_s_mem());
  BIO *out = BIO_new(BIO_s_mem());
  if (u->ssl == NULL || in == NULL || out == NULL) {
    BIO_free(in);
    BIO_free(out);
    ERR_clear_error();
    fail(u, "TLS: out of memory");
    return false;
  }
  BIO_set_mem_eof_return(in, -1); /* empty means "wait for more" */
  SSL_set_bio(u->ssl, in, out);   /* the SSL owns both from here on */
  u->in = in;
  u->out = out;
  SSL_set_connect_state(u->ssl);
  SSL_set_alpn_protos(u->ssl, alpn, sizeof alpn);
  X509_VERIFY_PARAM *param = SSL_get0_param(u->ssl);
  struct sockaddr_storage literal;
  bool is_ip = literal_address(u->up->host, 0, &literal);
  bool named = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, u->up->host) == 1
                     : X509_VERIFY_PARAM_set1_host(param, u->up->host, strlen(u->up->host)) == 1 &&
                           SSL_set_tlsext_host_name(u->ssl, u->up->host) == 1; /* SNI */
  if (!named) {
    ERR_clear_error();
    fail(u, "TLS: cannot check the name %s", u->up->host);
    return false;
  }
  return true;
}

static enum step do_handshake(struct http_upstream *u) {
  if (u->ssl == NULL && !tls_start(u)) {
    return STEP_FAIL;
  }
  int ret = SSL_do_handshake(u->ssl);
  bool flushed = flush_tls(u);
  if (ret == 1) {
    u->state = UP_SEND;
    return flushed ? STEP_NEXT : STEP_FAIL;
  }
  int err = SSL_get_error(u->ssl, ret);
  if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) && !u->eof) {
    return flushed ? STEP_WAIT : STEP_FAIL;
  }
  long verify = SSL_get_verify_result(u->ssl);
  if (verify != X509_V_OK) {
    ERR_clear_error();
    fail(u, "TLS: certificate verification failed: %s", X509_verify_cert_error_string(verify));
    return STEP_FAIL;
  }
  char why[200] = "the server closed the connection during the handshake";
  uint32_t packed = ERR_peek_error();
  if (packed != 0) {
    ERR_error_string_n(packed, why, sizeof why);
  }
  ERR_clear_error();
  fail(u, "TLS: %s", why);
  return STEP_FAIL;
}

static enum step do_send(struct http_upstream *u) {
  bool ok;
  if (u->ssl != NULL) {
    ok = SSL_write(u->ssl, u->request.ptr, (int) u->request.len) == (int) u->request.len &&
         flush_tls(u);
    ERR_clear_error();
  } else {
    ok = send_bytes(u, u->request.ptr, u->request.len);
  }
  if (!ok) {
    fail(u, "cannot send the request to %s", u->addr_text);
    return STEP_FAIL;
  }
  buf_cleanup(&u->request);
  u->state = UP_RESPONSE;
  return STEP_NEXT;
}

/* ---- the response ---- */

static int on_headers_complete(llhttp_t *p) {
  struct http_upstream *u = p->data;
  u->status = (uint16_t) p->status_code;
  /* RFC 9110 9.3.2: a response to HEAD has no body, whatever its length says (llhttp: 1) */
  return u->head && u->status >= 200 ? 1 : 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
  struct http_upstream *u = p->data;
  u->body_len += len;
  return 0;
}

static int on_message_begin(llhttp_t *p) {
  struct http_upstream *u = p->data;
  u->body_len = 0; /* an interim (1xx) response came first */
  return 0;
}

static int on_message_complete(llhttp_t *p) {
  struct http_upstream *u = p->data;
  if (u->status >= 100 && u->status < 200 && u->status != 101) {
    return 0; /* interim (RFC 9110 15.2): the final response follows */
  }
  u->complete = true;
  return HPE_PAUSED; /* what follows is not ours to relay */
}

/* relay parses `bytes` and sends the client what belongs to the response; false on failure. */
static bool relay(struct http_upstream *u, struct slice bytes) {
  llhttp_errno_t err = llhttp_execute(&u->parser, (const char *) bytes.ptr, bytes.len);
  size_t used = bytes.len;
  if (err == HPE_PAUSED && u->complete) {
    used = (size_t) (llhttp_get_error_pos(&u->parser) - (const char *) bytes.ptr);
  } else if (err != HPE_OK && err != HPE_PAUSED_UPGRADE) {
    fail(u, "the response is not HTTP: %s (%s)", llhttp_errno_name(err),
         llhttp_get_error_reason(&u->parser) != NULL ? llhttp_get_error_reason(&u->parser) : "");
    return false;
  }
  if (used > 0) {
    u->relayed_any = true;
    u->ev.data(u->ev.arg, (struct slice){bytes.ptr, used});
  }
  return !u->cancelled && !u->closing;
}

static enum step do_response(struct http_upstream *u) {
  if (u->ssl != NULL) {
    uint8_t chunk[16384];
    while (!u->complete && !u->paused) {
      int n = SSL_read(u->ssl, chunk, sizeof chunk);
      if (n > 0) {
        if (!relay(u, (struct slice){chunk, (size_t) n})) {
          return u->closing ? STEP_WAIT : STEP_FAIL;
        }
        continue;
      }
      int err = SSL_get_error(u->ssl, n);
      ERR_clear_error();
      if (err == SSL_ERROR_WANT_READ && !u->eof) {
        return STEP_WAIT;
      }
      u->eof = true; /* close_notify, the connection's end, or a bad record */
      break;
    }
  } else if (u->plain.len > 0) {
    struct slice bytes = u->plain;
    u->plain = (struct slice){NULL, 0};
    if (!relay(u, bytes)) {
      return u->closing ? STEP_WAIT : STEP_FAIL;
    }
  }
  if (u->complete) {
    succeed(u);
    return STEP_WAIT;
  }
  if (!u->eof) {
    return STEP_WAIT;
  }
  /* the server closed: a response framed by the connection's end is complete now (RFC 9112 6.3) */
  llhttp_errno_t err = llhttp_finish(&u->parser);
  if ((err == HPE_OK || err == HPE_PAUSED) && u->complete) {
    succeed(u);
    return STEP_WAIT;
  }
  fail(u,
       u->status == 0 ? "%s closed the connection without answering"
                      : "%s closed the connection before the response was complete",
       u->addr_text);
  return STEP_FAIL;
}

/* advance runs the exchange as far as what has happened allows: one do_* per state. */
static void advance(struct http_upstream *u) {
  enum step s = STEP_NEXT;
  while (s == STEP_NEXT && !u->closing) {
    switch (u->state) {
      case UP_RESOLVE: s = do_resolve(u); break;
      case UP_RESOLVING: s = STEP_WAIT; break; /* on_resolved moves on */
      case UP_CONNECT: s = do_connect(u); break;
      case UP_CONNECTING: s = STEP_WAIT; break; /* on_connected moves on */
      case UP_HANDSHAKE: s = do_handshake(u); break;
      case UP_SEND: s = do_send(u); break;
      case UP_RESPONSE: s = do_response(u); break;
      case UP_DONE:
      case UP_FAILED: s = STEP_WAIT; break;
    }
  }
  if (s == STEP_FAIL) {
    fail(u, "cannot talk to %s", u->addr_text[0] != '\0' ? u->addr_text : u->up->host);
  }
}

/* ---- start and stop ---- */

static void on_kick(uv_timer_t *t) {
  struct http_upstream *u = t->data;
  if (!u->built) {
    fail(u, "the request is too large to forward");
    return;
  }
  arm(u);
  advance(u);
}

static void journal_request(struct http_upstream *u, const struct http_upstream_request *req) {
  struct jnl_event e;
  jnl_begin(&e, u->j, "upstream.request");
  jnl_str(&e, "url", u->url);
  jnl_strn(&e, "method", req->method);
  /* the Host header sent: the request's second line */
  const char *host = strstr(buf_cstr(&u->request), "\r\nHost: ");
  if (host != NULL) {
    host += 8;
    jnl_strn(&e, "host", (struct slice){(const uint8_t *) host, strcspn(host, "\r")});
  }
  jnl_uint(&e, "length", req->body.len);
  size_t at = 0;
  struct slice name, value;
  while (http__field_next(req->headers, &at, &name, &value)) {
    if (slice_eq_nocase(name, "Authorization")) {
      /* forwarded, as a proxy does; journaled as scheme and fingerprint only */
      jnl_secret(&e, "authorization", value);
      break;
    }
  }
  jnl_end(&e);
}

/* make_url writes scheme://host[:port] and the path sent, for the journal. */
static void make_url(struct http_upstream *u) {
  const struct scn_upstream *up = u->up;
  const char *line = buf_cstr(&u->request);
  const char *path = strchr(line, ' ');
  size_t plen = path != NULL ? strcspn(path + 1, " ") : 0;
  bool v6 = strchr(up->host, ':') != NULL;
  bool default_port = up->port == (up->https ? 443 : 80);
  char port[8] = "";
  if (!default_port) {
    buf_fmt(port, sizeof port, ":%u", (unsigned) up->port);
  }
  buf_fmt(u->url, sizeof u->url, "%s://%s%s%s%s%.*s", up->https ? "https" : "http", v6 ? "[" : "",
          up->host, v6 ? "]" : "", port, (int) plen, path != NULL ? path + 1 : "");
}

struct http_upstream *http__upstream_start(uv_loop_t *loop, struct jnl *j,
                                           const struct http_upstream_request *req,
                                           const struct http_upstream_events *events) {
  struct http_upstream *u = xcalloc(1, sizeof *u);
  u->loop = loop;
  u->j = j;
  u->up = req->up;
  u->ctx = req->tls;
  if (u->ctx != NULL) {
    SSL_CTX_up_ref(u->ctx);
  }
  u->ev = *events;
  u->head = slice_eq_nocase(req->method, "HEAD");
  u->started_ms = uv_now(loop);
  u->state = UP_RESOLVE;
  uv_timer_init(loop, &u->timer);
  u->timer.data = u;
  u->n_open_handles = 1;
  llhttp_settings_init(&u->settings);
  u->settings.on_message_begin = on_message_begin;
  u->settings.on_headers_complete = on_headers_complete;
  u->settings.on_body = on_body;
  u->settings.on_message_complete = on_message_complete;
  llhttp_init(&u->parser, HTTP_RESPONSE, &u->settings);
  u->parser.data = u;
  buf_init(&u->request, MAX_REQUEST);
  u->built = http__upstream_build(&u->request, req);
  make_url(u);
  journal_request(u, req);
  /* the first step runs on the loop: no event reaches the caller before this returns */
  uv_timer_start(&u->timer, on_kick, 0, 0);
  return u;
}

void http__upstream_pause(struct http_upstream *u) {
  if (u != NULL && !u->paused && !u->closing) {
    u->paused = true;
    uv_timer_stop(&u->timer); /* a slow client is no slow server */
    if (u->tcp_open && u->state == UP_RESPONSE) {
      uv_read_stop((uv_stream_t *) &u->tcp);
    }
  }
}

void http__upstream_resume(struct http_upstream *u) {
  if (u == NULL || !u->paused || u->closing) {
    return;
  }
  u->paused = false;
  if (u->tcp_open && u->state == UP_RESPONSE && !u->eof) {
    uv_read_start((uv_stream_t *) &u->tcp, on_alloc, on_read);
  }
  arm(u);
  advance(u); /* TLS may hold decrypted bytes not relayed yet */
}

void http__upstream_cancel(struct http_upstream *u) {
  if (u != NULL) {
    u->cancelled = true;
    close_all(u);
  }
}
