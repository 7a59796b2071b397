/* proxy/http/internal.h: what the files of proxy/http share — the POX builder and parser, the
 * route table, the responses and their serialization, and the socket-free request session the
 * connections and the fuzzer drive. */
#ifndef AD_PROXY_HTTP_INTERNAL_H
#define AD_PROXY_HTTP_INTERNAL_H

#include "common/buf.h"
#include "common/bufpool.h"
#include "common/connlimit.h"
#include "journal/jnl.h"
#include "proxy/http/http.h"
#include "scenario/scn.h"

#include <libxml/tree.h>
#include <llhttp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

/* Limits on what a client may send (answers: 414, 431, 413). */
#define HTTP_MAX_URL (8u << 10)
#define HTTP_MAX_HEADER_BYTES (64u << 10)
#define HTTP_MAX_HEADERS 100u
#define HTTP_MAX_BODY (1u << 20)
#define HTTP_IDLE_MS 30000u
#define HTTP_SILENT_MS 120000u /* a silent (fault) connection is dropped after this long */
#define HTTP_LINGER_MS 2000u   /* after our last answer, wait this long for the peer's FIN */
/* The POX parser refuses bigger request documents (a real request is a few hundred bytes). */
#define HTTP_POX_MAX_REQUEST (64u << 10)

#define HTTP_NS_REQUEST                                                                            \
  "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
#define HTTP_NS_MOBILE_REQUEST                                                                     \
  "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"
#define HTTP_NS_RESPONSE "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
#define HTTP_NS_RESPONSE_2006A                                                                     \
  "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"

/* ---- POX (docs/protocol.md §3) — http_pox.c ---- */

/* What a POX request asked for; strings owned (NULL when absent). */
struct http_pox_request {
  char *email;     /* Request/EMailAddress */
  char *legacy_dn; /* Request/LegacyDN */
  char *schema;    /* Request/AcceptableResponseSchema */
};

enum http_pox_parse {
  HTTP_POX_OK = 0,
  HTTP_POX_INVALID, /* not a POX request (600 Invalid Request) */
  HTTP_POX_SCHEMA,  /* a response schema we do not serve (601) */
};

/* http__pox_parse reads a request body with libxml2 (no network, no DTD, no entities, at most
 * HTTP_POX_MAX_REQUEST bytes) into `out` (cleared first; release with http__pox_request_cleanup
 * whatever the result). `why` gets a sentence when the result is not HTTP_POX_OK. */
enum http_pox_parse http__pox_parse(struct http_pox_request *out, struct slice body, char *why,
                                    size_t why_size);
void http__pox_request_cleanup(struct http_pox_request *r);

/* http__pox_answer builds the POX answer of `ad` to `req` (NULL: no usable request) into `out`
 * (UTF-8 XML with declaration). `server_id` names the host for the Error Id attribute. False
 * only when memory or out->max runs out. */
bool http__pox_answer(struct buf *out, const struct scn_autodiscover *ad,
                      const struct http_pox_request *req, const char *server_id);
/* http__pox_error builds an Error response (§3.5) with `code` and `message` (NULL: the spec's
 * text for the code). */
bool http__pox_error(struct buf *out, uint32_t code, const char *message, const char *server_id);
/* http__pox_error_text returns the default Message for an ErrorCode. */
const char *http__pox_error_text(uint32_t code);

/* ---- libxml2 helpers the POX and SOAP code share — http_pox.c ---- */

/* http__xml_read parses a request document (at most HTTP_POX_MAX_REQUEST bytes) without
 * network, DTD loading, entity expansion or messages on stderr; NULL when not well-formed. */
xmlDoc *http__xml_read(struct slice body);
/* http__xml_is: `n` is the element `name` in namespace `ns`. */
bool http__xml_is(const xmlNode *n, const char *ns, const char *name);
/* http__xml_text returns the trimmed text of a leaf element (caller frees), or NULL when it
 * holds elements or is longer than 1 KiB. */
char *http__xml_text(const xmlNode *e);
/* http__xml_add_text adds <name>text</name> (escaped) under parent; NULL text adds nothing. */
bool http__xml_add_text(xmlNode *parent, xmlNs *ns, const char *name, const char *text);
/* http__xml_serialize appends the document as indented UTF-8 with a declaration. */
bool http__xml_serialize(struct buf *out, xmlDoc *doc);
/* http__server_hash, http__deployment_id: stable ids derived from the host's name. */
uint32_t http__server_hash(const char *server_id);
void http__deployment_id(char out[40], const char *server_id);
/* http__local_part returns the part of an address before its last '@' (caller frees). */
char *http__local_part(const char *email);
/* http__url_host returns the host of an absolute URL (caller frees), or NULL. */
char *http__url_host(const char *url);

/* ---- SOAP Autodiscover (MS-OXWSADISC, docs/protocol.md §0) — http_soap.c ---- */

#define HTTP_NS_SOAP "http://schemas.xmlsoap.org/soap/envelope/"
#define HTTP_NS_WSA "http://www.w3.org/2005/08/addressing"
#define HTTP_NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define HTTP_NS_ADISC "http://schemas.microsoft.com/exchange/2010/Autodiscover"
#define HTTP_SOAP_MAX_ITEMS 100u /* users/domains and settings one request may name */

enum http_soap_op {
  HTTP_SOAP_USER_SETTINGS = 1, /* GetUserSettingsRequestMessage */
  HTTP_SOAP_DOMAIN_SETTINGS,   /* GetDomainSettingsRequestMessage */
};

/* What a SOAP Autodiscover request asked for; strings owned. */
struct http_soap_request {
  enum http_soap_op op;
  char **subjects; /* Users/User/Mailbox, or Domains/Domain */
  size_t n_subjects;
  char **settings; /* RequestedSettings/Setting */
  size_t n_settings;
};

/* http__soap_parse reads a SOAP 1.1 envelope with libxml2 (no network, no DTD, no entities, at
 * most HTTP_POX_MAX_REQUEST bytes) into `out` (cleared first; release it with
 * http__soap_request_cleanup whatever the result). False with a sentence in `why` when the
 * envelope is not a GetUserSettings or GetDomainSettings request. */
bool http__soap_parse(struct http_soap_request *out, struct slice body, char *why, size_t why_size);
void http__soap_request_cleanup(struct http_soap_request *r);
/* http__soap_answer builds the response envelope for `req` from `ad` into `out`. */
bool http__soap_answer(struct buf *out, const struct scn_autodiscover *ad,
                       const struct http_soap_request *req, const char *server_id);
/* http__soap_fault builds a SOAP 1.1 Fault (faultcode s:Client) saying `why`. */
bool http__soap_fault(struct buf *out, const char *why);

/* ---- routes — http_route.c ---- */

/* http__request_path returns the path part of a request target (no query, no fragment; the
 * path of an absolute-form URL). */
struct slice http__request_path(struct slice target);
/* http__path_decode writes `path` percent-decoded (RFC 3986 2.1, once: "%252E" is "%2E") into
 * out, as IIS decodes a path before it matches it; false when a '%' is not followed by two hex
 * digits, the path holds "%00", or out->max is reached. */
bool http__path_decode(struct buf *out, struct slice path);
/* http__route_has says whether `route` (NULL: no) or one of its answers is of `kind`. */
bool http__route_has(const struct scn_route *route, enum scn_route_kind kind);
/* http__answer_pick chooses the answer of `route` (route.answers) for a request for `email`
 * (NULL: none named): the first whose for_email matches and whose first N requests are not all
 * answered yet (counts[answer->counter], n_counts of them; NULL: nothing is counted), counting
 * the request against it. *out_index is its 1-based position, 0 when no answer applies (NULL). */
const struct scn_route *http__answer_pick(const struct scn_route *route, const char *email,
                                          uint32_t *counts, size_t n_counts, size_t *out_index);
/* http__route_match finds the route for `method` and `path`: an exact case-insensitive path
 * match whose method (if set) agrees (an AutoDV2 route also matches the paths below it: its
 * /v1.0/<address> form), else a "/" route (the site fallback), else NULL. */
const struct scn_route *http__route_match(const struct scn_listener *l, struct slice method,
                                          struct slice path);

/* ---- responses — http_response.c ---- */

/* A response before serialization. */
struct http_response {
  uint16_t status;
  const char *content_type;         /* NULL: no body type */
  const char *location;             /* Location header or NULL (borrowed) */
  const char *allow;                /* Allow header or NULL */
  const struct scn_header *headers; /* the route's extra headers (borrowed); they replace ours
                                       of the same name */
  size_t n_headers;
  char *const *challenges; /* one WWW-Authenticate header each (borrowed) */
  size_t n_challenges;
  bool challenged; /* a 401 of the route's auth */
  bool answers;    /* the route has answers (route.answers): `answer` says which one answered */
  size_t answer;   /* its 1-based position; 0: none applied (404) */
  struct buf body;
};

void http__response_init(struct http_response *r, uint16_t status);
void http__response_cleanup(struct http_response *r);
/* http__response_text sets a small body for an error status (HTML for 404, text otherwise). */
void http__response_text(struct http_response *r, uint16_t status);
/* http__reason returns the reason phrase of a status ("Not Found"). */
const char *http__reason(uint16_t status);
/* http__response_serialize writes status line, headers and (unless `head`) the body to out. */
bool http__response_serialize(struct buf *out, const struct http_response *r, bool head,
                              bool keep_alive);

/* ---- answers — http_route.c ---- */

/* What the router needs to know about a parsed request. */
struct http_request_view {
  struct slice method;
  struct slice path;
  struct slice target; /* the whole request target (path and query) */
  struct slice body;
  bool has_authorization;
  const struct http_soap_request *soap; /* NULL: not parsed as SOAP */
  const char *soap_error;               /* why the SOAP body was refused, or NULL */
  const struct http_pox_request *pox;   /* NULL: body absent or not POX */
  enum http_pox_parse pox_status;       /* valid when the body was parsed */
  bool has_body;
  const char *email; /* the address asked for (POX, AutoDV2, SOAP), or NULL */
  uint32_t *counts;  /* the lab's per-answer counts (http_record.counts), or NULL */
  size_t n_counts;
  struct http_memo_entry *memo; /* this request's memo entry (http_memo.c), or NULL */
};

/* http__route_answer fills `resp` for `route` (NULL: 404). `server_id` names the host. A route
 * with auth answers 401 (resp->challenged) until it accepts the request's credentials. A route
 * with answers gives the one http__answer_pick chooses for req->email (resp->answer), or 404
 * when none applies. */
void http__route_answer(struct http_response *resp, const struct scn_route *route,
                        const struct http_request_view *req, const char *server_id);

/* ---- AutoDV2 (docs/protocol.md §4.4) — http_ad2.c ---- */

/* http__ad2_answer answers a GET of autodiscover.json (query form ?Email=&Protocol= or the path
 * form /v1.0/<address>?Protocol=) from `ad2` with JSON. */
void http__ad2_answer(struct http_response *resp, const struct scn_autodiscover_v2 *ad2,
                      const struct http_request_view *req, const char *route_path);
/* http__ad2_email decodes the address an AutoDV2 request names (Email=, or the path form) into
 * `out` (max 1 KiB); false when there is none. */
bool http__ad2_email(struct buf *out, const struct http_request_view *req, const char *route_path);

/* ---- upstream routes: the real server's address (http_resolve.c) ---- */

struct http_resolve;
/* http_resolve_cb gets the address (port set), or NULL and why there is none. */
typedef void (*http_resolve_cb)(void *arg, const struct sockaddr_storage *addr, const char *error);
/* http__resolve_start looks `host` up with c-ares — at `server` ("ADDR:PORT") or, NULL, the
 * system's resolver — and calls `cb` once, on the loop (never before returning), then frees
 * itself; unless http__resolve_cancel comes first. */
struct http_resolve *http__resolve_start(uv_loop_t *loop, const char *host, uint16_t port,
                                         const char *server, uint32_t timeout_ms,
                                         http_resolve_cb cb, void *arg);
void http__resolve_cancel(struct http_resolve *r);

/* ---- upstream routes: forwarding one request (http_upstream.c) ---- */

/* What the client asked, as the session parsed it (all borrowed for the call only). */
struct http_upstream_request {
  const struct scn_upstream *up; /* borrowed; must outlive the exchange */
  SSL_CTX *tls;                  /* https: the client context http__upstream_tls_new made for
                                    `up` (an up-ref is taken); NULL for http:// */
  struct slice method;
  struct slice target;  /* the client's request target */
  struct slice headers; /* every header field, "name\0value\0" each */
  struct slice host;    /* the client's Host header (empty: none) */
  struct slice body;
};

/* How a forwarded request ended. */
struct http_upstream_end {
  bool ok;           /* the whole response was relayed */
  bool relayed_any;  /* bytes of the response reached the client already */
  bool keep_alive;   /* the response was framed and lets the connection go on */
  uint16_t status;   /* the upstream's status, 0 when none came */
  uint64_t length;   /* bytes of the response's body relayed */
  const char *error; /* why not ok, for upstream.error and the 502 */
};

/* What the exchange tells the connection: response bytes as received (`data`), then the end,
 * once (`done`). The exchange frees itself after `done`. */
struct http_upstream_events {
  void (*data)(void *arg, struct slice bytes);
  void (*done)(void *arg, const struct http_upstream_end *end);
  void *arg;
};

struct http_upstream;
/* http__upstream_start forwards `req` to req->up: resolves (upstream_address, else c-ares),
 * connects, shakes hands verifying the server against upstream_trust (https), sends the request
 * (the client's path and query after the URL's path, hop-by-hop headers dropped, Host the
 * upstream's unless upstream_keep_host) and relays the response as it comes. Events:
 * upstream.request, then upstream.response or upstream.error. */
struct http_upstream *http__upstream_start(uv_loop_t *loop, struct jnl *j,
                                           const struct http_upstream_request *req,
                                           const struct http_upstream_events *events);
/* http__upstream_pause stops reading the upstream (the client is slow); _resume reads again. */
void http__upstream_pause(struct http_upstream *u);
void http__upstream_resume(struct http_upstream *u);
/* http__upstream_cancel abandons the exchange (the client went away): no more events; it frees
 * itself once the loop has closed its handles. */
void http__upstream_cancel(struct http_upstream *u);
/* http__upstream_tls_new makes the client context an https upstream route verifies its server
 * with: TLS 1.2 and up, the route's upstream_trust or the system's roots. Made when the listener
 * starts — before serve gives root up, the trust files may be readable by root only — and shared
 * by every exchange of the route. HTTP_ETRUST with a sentence when the roots cannot be read. */
enum http_status http__upstream_tls_new(SSL_CTX **out, const struct scn_upstream *up, char *err,
                                        size_t err_size);
struct http_vhost;
/* The client contexts of a listener's https upstream routes, made when it starts (before
 * serve gives root up) and shared by every exchange of each route. */
struct http__upstream_tls {
  struct http__upstream_ctx {
    const struct scn_upstream *up;
    SSL_CTX *ctx;
  } * v;
  size_t n;
};
/* http__upstream_tls_make makes the context of every https upstream route the hosts have. */
enum http_status http__upstream_tls_make(struct http__upstream_tls *set,
                                         const struct http_vhost *hosts, size_t n_hosts, char *err,
                                         size_t err_size);
/* http__upstream_tls_of is the context made for `up`, or NULL (a plain http route). */
SSL_CTX *http__upstream_tls_of(const struct http__upstream_tls *set, const struct scn_upstream *up);
void http__upstream_tls_cleanup(struct http__upstream_tls *set);
/* http__field_next reads the "name\0value\0" pair at *at of `all` (moving *at past it); false
 * at the end. */
bool http__field_next(struct slice all, size_t *at, struct slice *name, struct slice *value);
/* http__upstream_build writes the request sent upstream into out; false past out->max. */
bool http__upstream_build(struct buf *out, const struct http_upstream_request *req);

/* ---- the request session — http_session.c ---- */

struct http_session {
  llhttp_t parser;
  llhttp_settings_t settings;
  const struct scn_host *host;
  const struct scn_listener *l;
  struct jnl *j;
  /* a shared listener's hosts (borrowed; n_vhosts 0: `host` and `l` answer everything) and the
   * one a TLS client named by SNI (NULL: none of them; the Host header picks per request) */
  const struct http_vhost *vhosts;
  size_t n_vhosts;
  const struct http_vhost *sni_host;
  const char *local; /* borrowed, for the journal; may be NULL */
  const char *peer;
  bool tls;
  struct buf addresses; /* the three as journal fields, written once and copied into each line */
  /* the request being parsed */
  struct buf url;
  struct buf field;
  struct buf value;
  struct buf host_header;
  struct buf content_type;
  struct buf authorization;
  struct buf body;
  struct buf headers; /* every header field, "name\0value\0" each: an upstream route forwards
                         them, the HAR entry lists them */
  bool has_host, has_content_type, has_authorization;
  size_t header_bytes;
  size_t n_headers;
  uint16_t reject_status; /* 413/414/431/501 set by a callback that stopped the parser */
  const char *reject_why;
  bool in_request; /* a request has begun and is not complete: past its head, the connection's
                      body deadline runs (http_conn.c) */
  bool in_head;    /* bytes of a request head have come and its header section has not ended:
                      the connection's head deadline runs (http_conn.c) */
  /* what else is recorded (NULL: the journal only; borrowed from the listener) */
  const struct http_record *rec;
  struct http_memo *memo; /* the listener's memo of POX answers, or NULL (borrowed) */
  uint64_t t_begin;       /* uv_hrtime() when the request's first byte was parsed */
  uint64_t t_complete;    /* ... and when it was complete */
  char started[32];       /* RFC 3339 time the request began */
  /* the answers */
  struct buf out; /* serialized responses waiting to be sent */
  bool closing;   /* no more requests: close once `out` is sent */
  uint64_t n_requests;
  /* an upstream route's request, waiting for the connection to forward it; parsing is paused
   * until http__session_forwarded */
  const struct scn_route *forward;
  bool forward_keep_alive; /* what the client's request said about the connection */
  bool forward_head;
  struct buf stash; /* bytes received after the forwarded request, parsed once it is done */
};

/* http__session_init prepares a session for one connection (all pointers borrowed). */
void http__session_init(struct http_session *s, const struct scn_host *host,
                        const struct scn_listener *l, struct jnl *j);
void http__session_cleanup(struct http_session *s);
/* http__session_set_vhosts makes the session answer for one of `vhosts` (borrowed) per
 * request: s->sni_host when set, else the host the Host header names, else vhosts[0]. */
void http__session_set_vhosts(struct http_session *s, const struct http_vhost *vhosts, size_t n);
/* http__session_feed parses `in`, appending responses to s->out. False once the connection
 * must close after s->out is sent (Connection: close, or a bad request answered with 4xx). */
bool http__session_feed(struct http_session *s, struct slice in);
/* http__session_shrink frees what the last request made large (its URL, headers, body, the
 * answers already sent; buffers of a few hundred bytes stay for the next request) when no
 * request is under way. Nothing changes while a request is being read or forwarded. */
void http__session_shrink(struct http_session *s);
/* http__session_timeout answers 408 for a request head that did not arrive in time (`why`,
 * journaled as http.error) and ends the session. */
void http__session_timeout(struct http_session *s, const char *why);
/* http__session_eof tells the parser the peer closed; a request cut short is journaled. */
void http__session_eof(struct http_session *s);
/* http__session_forward_request describes s->forward's request for http__upstream_start. */
struct http_upstream_request http__session_forward_request(const struct http_session *s);
/* http__session_forwarded ends s->forward's request: journals http.response (the upstream's
 * status, or a 502 the session answers itself, naming end->error, when no byte of a response
 * was relayed), then parses the bytes received meanwhile. Returns what http__session_feed
 * returns. */
bool http__session_forwarded(struct http_session *s, const struct http_upstream_end *end);

/* ---- HAR entries (serve --har) — http_har.c ---- */

/* http__har_begin notes when a request begins; http__har_record adds the exchange to s->rec->har:
 * `response_bytes` is the response as serialized (read back for its headers and body). All do
 * nothing without a HAR. */
void http__har_begin(struct http_session *s);
void http__har_record(struct http_session *s, const struct http_request_view *req,
                      const struct http_response *resp, struct slice response_bytes, bool head,
                      const struct scn_route *route);

/* ---- a listener's connection caps — http_limit.c ---- */

/* The caps of one listener and the journal of what they refused (limit.reached), at most once
 * a second: a flood of connections is one line a second, not one a connection. */
struct http__gate {
  struct connlimit count;
  uv_timer_t report; /* pending tallies wait for it; the owner uv_close()s it */
  struct jnl *j;
  const char *local; /* the listener's address, borrowed for the journal */
  const char *host;  /* the listener's only host's id, or NULL on a shared one */
  bool tls;
};

/* http__gate_init starts the gate with caps from `lim` (the report timer on `loop`). */
void http__gate_init(struct http__gate *g, uv_loop_t *loop, struct jnl *j, unsigned max_conns,
                     unsigned max_conns_per_client);
void http__gate_cleanup(struct http__gate *g);
/* http__gate_admit counts a connection from `peer`: true when it may be served (release it when
 * it ends); false when a cap is reached: tallied, journaled now or within a second. */
bool http__gate_admit(struct http__gate *g, const struct sockaddr *peer);
void http__gate_release(struct http__gate *g, const struct sockaddr *peer);
/* http__gate_flush journals the refusals not reported yet (the listener is closing). */
void http__gate_flush(struct http__gate *g);

/* ---- the black hole fault — http_fault.c ---- */

/* http__blackhole_listen binds `tcp` (initialized, not yet open) to `addr` so that connects to it
 * time out without root: *out_filler_fd is the lab's own connection that fills the accept queue
 * (the caller closes it). Returns 0 or a negative errno, `what` naming the step that failed. */
int http__blackhole_listen(uv_tcp_t *tcp, const struct sockaddr *addr, int *out_filler_fd,
                           const char **what);

/* ---- the listener (http_listener.c) and its connections (http_conn.c) ---- */

#define HTTP_ADDR_TEXT 64
/* Reads go into blocks of the listener's pool, lent for one read (http_conn.c's on_alloc to
 * on_read): llhttp and the TLS engine copy what they must keep, so an idle connection holds no
 * read buffer. */
#define HTTP_READ_CHUNK 65536

struct http_conn;

struct http_listener {
  uv_tcp_t tcp;
  uv_loop_t *loop;
  struct http_vhost *vhosts; /* the hosts served here, the default first (contexts up-ref'd) */
  size_t n_vhosts;
  SSL_CTX *tls;           /* the default host's context (HTTPS; borrowed from vhosts[0]), or NULL */
  struct labclock *clock; /* delays run on it; NULL: real time */
  struct jnl *j;
  struct http_record rec;           /* HAR, credentials in clear */
  struct http_memo *memo;           /* POX answers given before (http_memo.c) */
  struct http__upstream_tls up_tls; /* the https upstream routes' client contexts */
  struct http_conn *conns;
  size_t n_conns;
  size_t n_conns_peak; /* the most open at once since memory was last given back */
  struct bufpool pool; /* read blocks (on_alloc) */
  struct http_limits lim;
  struct http__gate gate;
  int n_open_handles; /* the listening socket and the gate's timer */
  unsigned idle_ms;
  unsigned linger_ms;
  unsigned silent_ms;
  enum scn_fault fault;
  int filler_fd; /* blackhole: our own connection that fills the accept queue, or -1 */
  bool closing;
  char local[HTTP_ADDR_TEXT];
};

/* http__conn_accept is the listening socket's connection callback (uv_listen): a connection
 * joins lst->conns, served until it closes. */
void http__conn_accept(uv_stream_t *server, int status);
/* http__conns_close closes every connection of the listener. */
void http__conns_close(struct http_listener *lst);
/* http__listener_conn_freed is told when a connection has been freed: memory a burst left is
 * given back, and a closing listener with nothing left open is freed. */
void http__listener_conn_freed(struct http_listener *lst);

/* http__listener_set_idle changes the idle timeout (HTTP_IDLE_MS) and the time a closing
 * connection waits for the peer's FIN (HTTP_LINGER_MS); for tests. */
void http__listener_set_idle(struct http_listener *l, unsigned idle_ms, unsigned linger_ms);
/* http__listener_set_silent changes how long a silent-fault connection is kept (HTTP_SILENT_MS);
 * for tests. */
void http__listener_set_silent(struct http_listener *l, unsigned silent_ms);
/* http__listener_n_conns counts open connections; for tests. */
size_t http__listener_n_conns(const struct http_listener *l);

/* ---- the memo of POX answers — http_memo.c ---- */

struct http_memo;
struct http_memo_entry;

#define HTTP_MEMO_SLOTS 64u /* per listener */

/* http__memo_new returns a memo of about n_slots requests (a power of two at least). */
struct http_memo *http__memo_new(size_t n_slots);
void http__memo_free(struct http_memo *m);
/* http__memo_applies: requests at `route` may be memoised — a plain autodiscover route whose
 * answer is not an error (an error answer carries the time); never a route with `answers`. */
bool http__memo_applies(const struct scn_route *route);
/* http__memo_find returns the entry of exactly (route, server_id, body), or NULL (m may be NULL).
 */
struct http_memo_entry *http__memo_find(struct http_memo *m, const struct scn_route *route,
                                        const char *server_id, struct slice body);
/* http__memo_add keeps `pox` (copied; a request that parsed as HTTP_POX_OK) for (route,
 * server_id, body), evicting its slot's entry; NULL when it does not apply. The entry lives
 * until the next http__memo_add or http__memo_free. */
struct http_memo_entry *http__memo_add(struct http_memo *m, const struct scn_route *route,
                                       const char *server_id, struct slice body,
                                       const struct http_pox_request *pox);
/* http__memo_pox copies the entry's parsed fields into `out` (freed by
 * http__pox_request_cleanup). */
void http__memo_pox(const struct http_memo_entry *e, struct http_pox_request *out);
/* http__memo_answer appends the kept answer body to `out`; false when none is kept yet. */
bool http__memo_answer(const struct http_memo_entry *e, struct buf *out);
/* http__memo_keep_answer keeps `answer` (copied) as the entry's answer body. */
void http__memo_keep_answer(struct http_memo_entry *e, struct slice answer);
/* http__memo_hits counts the requests found; for tests. */
size_t http__memo_hits(const struct http_memo *m);

#endif
