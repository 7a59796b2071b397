/* client/sim_walk.c: one client model walking the Autodiscover steps over real sockets —
 * c-ares for DNS (on the libuv loop), libuv TCP, BoringSSL over memory BIOs, llhttp for the
 * answers — and writing down each step and each dialog the user would see.
 *
 * The walk takes one step at a time. A step is an attempt that runs as a small state machine
 * (resolve → connect → handshake → response) and ends in exactly one step_end(), which hands
 * control back to the loop (a zero timer) before the next step starts: nothing re-enters
 * c-ares or BoringSSL from their own callbacks, and the walk only ends from the loop.
 *
 * Time is lab time (common/labclock.h): each timeout runs for labclock_real_ms(nominal) and,
 * when it fires, moves the lab clock to its nominal deadline, so a 21 s connect timeout costs
 * 21 ms at scale 1000 while the step still reports 21 s. c-ares keeps its own (real) time: its
 * timeout is set to the scaled value and a DNS timeout is booked at the nominal one. */
#include "client/sim.h"

#include "client/internal.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <llhttp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum walk_state {
  WALK_RUNNING,
  WALK_FINISHING, /* the outcome is known; the next tick closes everything */
  WALK_CLOSING,   /* handles are closing; done() runs after the last one */
};

enum att_state {
  ATT_IDLE,      /* between steps */
  ATT_RESOLVE,   /* an A query is out */
  ATT_SRV,       /* an SRV query is out */
  ATT_CONNECT,   /* TCP connect in progress */
  ATT_HANDSHAKE, /* TLS handshake */
  ATT_RESPONSE,  /* the request is sent; reading the answer */
};

/* A TCP connection; freed in its close callback, after the walk let go of it. */
struct conn {
  uv_tcp_t tcp;
  uv_connect_t connect_req;
  struct sim_walk *w;
  bool active; /* false once the walk let go: its callbacks do nothing */
  char rbuf[16384];
};

struct wreq {
  uv_write_t req;
  struct conn *c;
  size_t len;
  uint8_t data[];
};

/* A socket c-ares asked us to watch. */
struct pollent {
  uv_poll_t poll;
  ares_socket_t fd;
  struct sim_walk *w;
  bool closing;
  struct pollent *next;
};

/* A URL waiting to be tried: a redirect target or an SRV target. */
struct pending {
  char *url;
  bool consent;     /* ask "Allow this website…" first */
  size_t from_step; /* the step whose answer produced it */
};

/* The step in progress. */
struct attempt {
  enum att_state state;
  size_t step;           /* index in the transcript */
  enum sim_req_kind req; /* POX POST, the HTTP redirect step's GET, or the AutoDV2 GET */
  bool literal;          /* the URL names an address, not a host name */
  struct sim_url url;
  char *url_text;
  struct sockaddr_storage addr;
  struct conn *conn;
  SSL *ssl;
  BIO *rbio; /* owned by ssl */
  BIO *wbio;
  unsigned cert_failures; /* from the verify callback */
  llhttp_t parser;
  struct buf body;
  struct buf field;
  struct buf value;
  char *location;
  bool body_overflow;
  bool header_overflow;
  size_t head_len;
  bool message_done;
  bool eof;
  int read_error;
  char *http_error;
  struct buf schemes;         /* schemes of this answer's WWW-Authenticate headers */
  char *authorization;        /* the Authorization value to send (after a 401); never logged */
  const char *auth_scheme;    /* the scheme it answers, or NULL */
  unsigned accepted_failures; /* certificate failures the user said Yes to in this step */
  char *note;                 /* appended to the step's detail, or NULL */
  double start_lab;           /* lab time the step began */
  double end_lab;             /* a timed-out step: lab time it ended (the timeout's end), else 0 */
  double timer_started;       /* lab time the running timeout began */
  uint64_t timer_lab_ms;      /* its nominal length; 0: none running */
};

struct sim_walk {
  struct sim_env env;
  const struct sim_model *model;
  struct sim_policy pol; /* the model's, with env->timeout_ms and the settings applied */
  struct scn_client cfg; /* a copy of the settings (strings and lists owned) */
  sim_done_cb done;
  void *done_arg;
  struct sim_transcript *t;
  char *email; /* the address asked for now (changes with redirectAddr) */
  char *domain;
  struct sim_plan_step plan[SIM_MODEL_MAX_STEPS];
  size_t n_plan;
  size_t next_plan; /* the next plan step to take */
  size_t scp_next;  /* the next SCP URL while the scp step is being taken */
  bool first_address;
  char *note_next; /* a note for the next step's detail (a consent prompt not shown) */
  struct pending *pending;
  size_t n_pending;
  struct sim_visits visits;
  enum walk_state state;
  int n_open; /* handles waiting for their close callback */
  double start_lab;
  ares_channel ares;
  bool ares_lib;
  uv_timer_t ares_timer;
  struct pollent *polls;
  uv_timer_t timer; /* the next tick, and the timeout of the current network operation */
  SSL_CTX *ssl_ctx;
  struct attempt att;
};

static llhttp_settings_t http_settings;
static bool http_settings_ready;
static int ssl_ex_index = -1;

static void walk_next(struct sim_walk *w);
static void close_all(struct sim_walk *w);
static void advance(struct sim_walk *w);
static void on_timeout(uv_timer_t *t);
static void on_ares_timer(uv_timer_t *t);
static void on_conn_closed(uv_handle_t *h);

static void cfg_cleanup(struct scn_client *c) {
  free(c->last_known_good_url);
  free(c->local_xml);
  for (size_t i = 0; i < c->n_redirect_servers; i++) {
    free(c->redirect_servers[i]);
  }
  free(c->redirect_servers);
  memset(c, 0, sizeof *c);
}

/* cfg_copy copies the settings the walk reads; the model name and mark are not needed. */
static void cfg_copy(struct scn_client *dst, const struct scn_client *src) {
  *dst = *src;
  dst->model = NULL;
  dst->last_known_good_url = str_dup(src->last_known_good_url);
  dst->local_xml = str_dup(src->local_xml);
  dst->redirect_servers = NULL;
  dst->n_redirect_servers = 0;
  if (src->n_redirect_servers > 0) {
    dst->redirect_servers = xcalloc(src->n_redirect_servers, sizeof *dst->redirect_servers);
    for (size_t i = 0; i < src->n_redirect_servers; i++) {
      dst->redirect_servers[i] = str_dup(src->redirect_servers[i]);
    }
    dst->n_redirect_servers = src->n_redirect_servers;
  }
}

/* --- bookkeeping --- */

static void handle_gone(struct sim_walk *w) {
  if (--w->n_open > 0 || w->state != WALK_CLOSING) {
    return;
  }
  struct sim_transcript *t = w->t;
  sim_done_cb done = w->done;
  void *arg = w->done_arg;
  w->t = NULL;
  for (size_t i = 0; i < w->n_pending; i++) {
    free(w->pending[i].url);
  }
  free(w->pending);
  sim__visits_cleanup(&w->visits);
  SSL_CTX_free(w->ssl_ctx);
  if (w->ares_lib) {
    ares_library_cleanup();
  }
  cfg_cleanup(&w->cfg);
  free(w->note_next);
  free(w->email);
  free(w->domain);
  free(w);
  done(arg, t);
}

static void on_timer_closed(uv_handle_t *h) {
  handle_gone(h->data);
}

static double lab_now(const struct sim_walk *w) {
  return labclock_now_ms(w->env.clock);
}

/* Real milliseconds a scaled timeout lasts at least (never more than its nominal length). At
 * scale 1000 a 5 s DNS timeout would last 5 ms, which a busy machine (parallel `check` jobs,
 * sanitizers) misses now and then although the answer is there: the walk would report a
 * timeout that did not happen. Nothing is lost by waiting longer in real time: what ends an
 * operation early in lab time is another timer moving the lab clock (a server's delay), and
 * deadline_passed catches that whatever the real timer says. */
enum { SIM_REAL_TIMEOUT_MIN_MS = 200 };

static uint64_t real_timeout_ms(const struct sim_walk *w, uint64_t lab_ms) {
  uint64_t real = labclock_real_ms(w->env.clock, lab_ms);
  if (w->env.clock != NULL && real < SIM_REAL_TIMEOUT_MIN_MS) {
    real = lab_ms < SIM_REAL_TIMEOUT_MIN_MS ? lab_ms : SIM_REAL_TIMEOUT_MIN_MS;
  }
  return real;
}

/* arm_timeout starts the timeout of the current network operation: `lab_ms` of lab time. */
static void arm_timeout(struct sim_walk *w, unsigned lab_ms) {
  w->att.timer_started = lab_now(w);
  w->att.timer_lab_ms = lab_ms;
  uv_timer_stop(&w->timer);
  uv_timer_start(&w->timer, on_timeout, real_timeout_ms(w, lab_ms), 0);
}

/* deadline_passed says whether the lab clock is past the running timeout's nominal end: a
 * server's delay moved it there while the (longer, real) timer still runs. */
static bool deadline_passed(const struct sim_walk *w) {
  const struct attempt *a = &w->att;
  return w->env.clock != NULL && a->timer_lab_ms > 0 &&
         lab_now(w) >= a->timer_started + (double) a->timer_lab_ms;
}

static struct sim_step *cur(struct sim_walk *w) {
  return &w->t->steps[w->att.step];
}

static void set_str(char **dst, const char *s) {
  free(*dst);
  *dst = str_dup(s);
}

static void on_kick(uv_timer_t *t) {
  struct sim_walk *w = t->data;
  if (w->state == WALK_RUNNING) {
    walk_next(w);
  } else if (w->state == WALK_FINISHING) {
    close_all(w);
  }
}

/* schedule runs the walk on from the loop, never from inside a library callback. */
static void schedule(struct sim_walk *w) {
  uv_timer_stop(&w->timer);
  uv_timer_start(&w->timer, on_kick, 0, 0);
}

static size_t step_begin(struct sim_walk *w, enum sim_step_kind kind, const char *url,
                         const char *host) {
  struct sim_transcript *t = w->t;
  t->steps = xrealloc_array(t->steps, t->n_steps + 1, sizeof *t->steps);
  struct sim_step *s = &t->steps[t->n_steps];
  memset(s, 0, sizeof *s);
  s->kind = kind;
  s->name = str_dup(sim__step_kind_name(kind));
  s->url = str_dup(url);
  s->host = str_dup(host);
  memset(&w->att, 0, sizeof w->att);
  w->att.step = t->n_steps++;
  w->att.start_lab = lab_now(w);
  buf_init(&w->att.body, SIM_BODY_MAX);
  buf_init(&w->att.field, 256);
  buf_init(&w->att.value, 8192);
  buf_init(&w->att.schemes, 1024);
  w->att.note = w->note_next;
  w->note_next = NULL;
  struct jnl_event ev;
  jnl_begin(&ev, w->env.jnl, "step.start");
  jnl_str(&ev, "client", t->client);
  jnl_uint(&ev, "index", w->att.step);
  jnl_str(&ev, "step", s->name);
  jnl_str(&ev, "url", url);
  jnl_str(&ev, "host", host);
  jnl_end(&ev);
  return w->att.step;
}

static void conn_release(struct sim_walk *w) {
  struct conn *c = w->att.conn;
  w->att.conn = NULL;
  if (c == NULL) {
    return;
  }
  c->active = false;
  if (!uv_is_closing((uv_handle_t *) &c->tcp)) {
    uv_close((uv_handle_t *) &c->tcp, on_conn_closed);
  }
}

static void attempt_cleanup(struct sim_walk *w) {
  struct attempt *a = &w->att;
  conn_release(w);
  SSL_free(a->ssl);
  sim__url_cleanup(&a->url);
  free(a->url_text);
  buf_cleanup(&a->body);
  buf_cleanup(&a->field);
  buf_cleanup(&a->value);
  free(a->location);
  free(a->http_error);
  buf_cleanup(&a->schemes);
  free(a->authorization);
  free(a->note);
  memset(a, 0, sizeof *a);
  a->state = ATT_IDLE;
}

/* step_end records how the current step ended, journals it and moves the walk on. */
static void step_end(struct sim_walk *w, enum sim_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void step_end(struct sim_walk *w, enum sim_result r, const char *fmt, ...) {
  struct sim_step *s = cur(w);
  char detail[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  if (w->att.note != NULL) {
    size_t len = strlen(detail);
    snprintf(detail + len, sizeof detail - len, " (%s)", w->att.note);
  }
  s->result = r;
  set_str(&s->detail, detail);
  if (w->att.schemes.len > 0) {
    set_str(&s->auth_schemes, buf_cstr(&w->att.schemes));
  }
  s->elapsed_ms = (w->att.end_lab > 0 ? w->att.end_lab : lab_now(w)) - w->att.start_lab;
  uv_timer_stop(&w->timer);
  struct jnl_event ev;
  jnl_begin(&ev, w->env.jnl, "step.end");
  jnl_str(&ev, "client", w->t->client);
  jnl_uint(&ev, "index", w->att.step);
  jnl_str(&ev, "step", s->name);
  jnl_str(&ev, "url", s->url);
  jnl_str(&ev, "result", sim_result_name(r));
  jnl_str(&ev, "detail", s->detail);
  jnl_str(&ev, "host", s->host);
  jnl_str(&ev, "dns_answer", s->dns_answer);
  jnl_str(&ev, "dns_error", s->dns_error);
  jnl_str(&ev, "connect_error", s->connect_error);
  jnl_str(&ev, "tls_error", s->tls_error);
  jnl_uint(&ev, "cert_failures", s->cert_failures);
  if (s->http_status != 0) {
    jnl_int(&ev, "http_status", s->http_status);
  }
  jnl_str(&ev, "redirect_to", s->redirect_to);
  jnl_str(&ev, "auth_schemes", s->auth_schemes);
  jnl_bool(&ev, "timed_out", s->timed_out);
  jnl_double(&ev, "elapsed_ms", s->elapsed_ms);
  jnl_end(&ev);
  attempt_cleanup(w);
  schedule(w);
}

static void add_prompt(struct sim_walk *w, enum sim_prompt_kind kind, const char *host,
                       const char *reason, unsigned failures, char *text /* taken */, bool accepted,
                       size_t step) {
  struct sim_transcript *t = w->t;
  t->prompts = xrealloc_array(t->prompts, t->n_prompts + 1, sizeof *t->prompts);
  struct sim_prompt *p = &t->prompts[t->n_prompts++];
  memset(p, 0, sizeof *p);
  p->kind = kind;
  p->host = str_dup(host);
  p->reason = str_dup(reason);
  p->cert_failures = failures;
  p->text = text;
  p->accepted = accepted;
  p->step = step;
  struct jnl_event ev;
  jnl_begin(&ev, w->env.jnl, "prompt");
  jnl_str(&ev, "client", t->client);
  jnl_str(&ev, "kind", sim_prompt_kind_name(kind));
  jnl_str(&ev, "host", host);
  jnl_str(&ev, "reason", reason);
  jnl_bool(&ev, "accepted", accepted);
  jnl_uint(&ev, "step", step);
  jnl_end(&ev);
}

static void push_pending(struct sim_walk *w, bool front, const char *url, bool consent,
                         size_t from_step) {
  w->pending = xrealloc_array(w->pending, w->n_pending + 1, sizeof *w->pending);
  size_t at = front ? 0 : w->n_pending;
  memmove(&w->pending[at + 1], &w->pending[at], (w->n_pending - at) * sizeof *w->pending);
  w->pending[at] = (struct pending){str_dup(url), consent, from_step};
  w->n_pending++;
}

static void clear_pending(struct sim_walk *w) {
  for (size_t i = 0; i < w->n_pending; i++) {
    free(w->pending[i].url);
  }
  w->n_pending = 0;
}

/* --- c-ares on the libuv loop --- */

static void ares_rearm(struct sim_walk *w) {
  if (w->ares == NULL) {
    return;
  }
  struct timeval tv;
  struct timeval *tvp = ares_timeout(w->ares, NULL, &tv);
  if (tvp == NULL) {
    uv_timer_stop(&w->ares_timer);
    return;
  }
  uint64_t ms = (uint64_t) tvp->tv_sec * 1000 + ((uint64_t) tvp->tv_usec + 999) / 1000;
  uv_timer_start(&w->ares_timer, on_ares_timer, ms, 0);
}

static void on_ares_timer(uv_timer_t *t) {
  struct sim_walk *w = t->data;
  if (w->ares != NULL) {
    ares_process_fd(w->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    ares_rearm(w);
  }
}

static void on_poll_closed(uv_handle_t *h) {
  struct pollent *p = h->data;
  struct sim_walk *w = p->w;
  for (struct pollent **pp = &w->polls; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == p) {
      *pp = p->next;
      break;
    }
  }
  free(p);
  handle_gone(w);
}

static void poll_close(struct pollent *p) {
  if (!p->closing) {
    p->closing = true;
    uv_poll_stop(&p->poll);
    uv_close((uv_handle_t *) &p->poll, on_poll_closed);
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  struct pollent *p = h->data;
  struct sim_walk *w = p->w;
  if (w->ares == NULL || p->closing) {
    return;
  }
  ares_socket_t rfd = ARES_SOCKET_BAD;
  ares_socket_t wfd = ARES_SOCKET_BAD;
  if (status < 0 || (events & UV_READABLE)) {
    rfd = p->fd; /* an error is read by c-ares, which then gives up on the socket */
  }
  if (status < 0 || (events & UV_WRITABLE)) {
    wfd = p->fd;
  }
  ares_process_fd(w->ares, rfd, wfd);
  ares_rearm(w);
}

static void on_ares_sock(void *data, ares_socket_t fd, int readable, int writable) {
  struct sim_walk *w = data;
  struct pollent *p = w->polls;
  while (p != NULL && (p->fd != fd || p->closing)) {
    p = p->next;
  }
  if (!readable && !writable) {
    if (p != NULL) {
      poll_close(p);
    }
    return;
  }
  if (p == NULL) {
    p = xcalloc(1, sizeof *p);
    if (uv_poll_init_socket(w->env.loop, &p->poll, fd) != 0) {
      free(p); /* c-ares times the query out */
      return;
    }
    p->fd = fd;
    p->w = w;
    p->poll.data = p;
    p->next = w->polls;
    w->polls = p;
    w->n_open++;
  }
  uv_poll_start(&p->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_poll);
}

static const char *dns_error_name(int status) {
  switch (status) {
    case ARES_ENOTFOUND: return "NXDOMAIN";
    case ARES_ENODATA: return "NODATA";
    case ARES_ESERVFAIL: return "SERVFAIL";
    case ARES_ETIMEOUT: return "timeout";
    case ARES_EREFUSED: return "REFUSED";
    default: return ares_strerror(status);
  }
}

/* dns_timed_out books a c-ares timeout at its nominal lab length: c-ares waited the scaled
 * (real) time, the user the nominal one. */
static void dns_timed_out(struct sim_walk *w, int status) {
  if (status == ARES_ETIMEOUT) {
    labclock_fired(w->env.clock, w->att.timer_started, w->pol.dns_timeout_ms);
    cur(w)->timed_out = true;
  }
}

/* --- TCP --- */

static void on_conn_closed(uv_handle_t *h) {
  struct conn *c = h->data;
  struct sim_walk *w = c->w;
  free(c);
  handle_gone(w);
}

static void on_write(uv_write_t *req, int status) {
  struct wreq *wr = req->data;
  struct conn *c = wr->c;
  free(wr);
  if (status < 0 && c->active) {
    struct sim_walk *w = c->w;
    step_end(w, w->att.state == ATT_HANDSHAKE ? SIM_R_TLS_FAILED : SIM_R_HTTP_FAILED,
             "sending to %s failed: %s", w->att.url.host, uv_strerror(status));
  }
}

static bool conn_write(struct conn *c, const uint8_t *data, size_t len) {
  struct wreq *wr = malloc(sizeof *wr + len);
  if (wr == NULL) {
    return false;
  }
  wr->c = c;
  wr->len = len;
  wr->req.data = wr;
  memcpy(wr->data, data, len);
  uv_buf_t b = uv_buf_init((char *) wr->data, (unsigned) len);
  if (uv_write(&wr->req, (uv_stream_t *) &c->tcp, &b, 1, on_write) != 0) {
    free(wr);
    return false;
  }
  return true;
}

/* flush_tls sends what BoringSSL wrote into its memory BIO. */
static bool flush_tls(struct sim_walk *w) {
  uint8_t chunk[16384];
  int n;
  while (w->att.conn != NULL && (n = BIO_read(w->att.wbio, chunk, sizeof chunk)) > 0) {
    if (!conn_write(w->att.conn, chunk, (size_t) n)) {
      return false;
    }
  }
  return true;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  struct conn *c = h->data;
  *b = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void feed_http(struct sim_walk *w, const char *data, size_t len) {
  struct attempt *a = &w->att;
  if (a->message_done || a->http_error != NULL || a->state != ATT_RESPONSE) {
    return;
  }
  llhttp_errno_t rc = llhttp_execute(&a->parser, data, len);
  if (rc != HPE_OK && rc != HPE_PAUSED && !a->body_overflow && !a->header_overflow) {
    const char *reason = llhttp_get_error_reason(&a->parser);
    a->http_error = str_dup(reason != NULL ? reason : llhttp_errno_name(rc));
  }
}

static void timeout_expired(struct sim_walk *w);

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
  struct conn *c = s->data;
  if (!c->active || nread == 0) {
    return;
  }
  struct sim_walk *w = c->w;
  if (deadline_passed(w)) {
    timeout_expired(w); /* whatever arrived came after the user stopped waiting */
    return;
  }
  if (nread < 0) {
    w->att.eof = true;
    w->att.read_error = nread == UV_EOF ? 0 : (int) nread;
    uv_read_stop(s);
  } else if (w->att.ssl != NULL) {
    BIO_write(w->att.rbio, b->base, (int) nread);
  } else {
    feed_http(w, b->base, (size_t) nread);
  }
  advance(w);
}

/* --- HTTP --- */

enum { HEAD_MAX = 64 * 1024 }; /* all header bytes of one answer */

/* head_bytes counts header bytes; false once the answer's head is too large. */
static bool head_bytes(struct attempt *a, size_t len) {
  a->head_len += len;
  return a->head_len <= HEAD_MAX;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len) {
  struct sim_walk *w = p->data;
  if (!head_bytes(&w->att, len) ||
      !buf_append(&w->att.field, (struct slice){(const uint8_t *) at, len})) {
    w->att.header_overflow = true;
    return -1;
  }
  return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len) {
  struct sim_walk *w = p->data;
  if (!head_bytes(&w->att, len) ||
      !buf_append(&w->att.value, (struct slice){(const uint8_t *) at, len})) {
    w->att.header_overflow = true;
    return -1;
  }
  return 0;
}

static int on_header_value_complete(llhttp_t *p) {
  struct sim_walk *w = p->data;
  if (slice_eq_nocase(buf_slice(&w->att.field), "location")) {
    set_str(&w->att.location, buf_cstr(&w->att.value));
  } else if (slice_eq_nocase(buf_slice(&w->att.field), "www-authenticate")) {
    sim__auth_schemes_add(&w->att.schemes, buf_cstr(&w->att.value));
  }
  buf_reset(&w->att.field);
  buf_reset(&w->att.value);
  return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len) {
  struct sim_walk *w = p->data;
  if (!buf_append(&w->att.body, (struct slice){(const uint8_t *) at, len})) {
    w->att.body_overflow = true;
    return -1;
  }
  return 0;
}

static int on_message_complete(llhttp_t *p) {
  struct sim_walk *w = p->data;
  w->att.message_done = true;
  return HPE_PAUSED;
}

static void send_request(struct sim_walk *w) {
  struct attempt *a = &w->att;
  llhttp_init(&a->parser, HTTP_RESPONSE, &http_settings);
  a->parser.data = w;
  a->state = ATT_RESPONSE;
  arm_timeout(w, w->pol.http_timeout_ms);
  char host[300];
  if (a->url.explicit_port) {
    buf_fmt(host, sizeof host, "%s:%u", a->url.host, (unsigned) a->url.port);
  } else {
    buf_fmt(host, sizeof host, "%s", a->url.host);
  }
  struct buf req;
  buf_init(&req, 1 << 16);
  bool ok = sim__request(&req, &w->pol, a->req, host, a->url.target, w->email, a->authorization);
  if (ok && a->ssl != NULL) {
    ok = SSL_write(a->ssl, req.ptr, (int) req.len) == (int) req.len && flush_tls(w);
  } else if (ok) {
    ok = conn_write(a->conn, req.ptr, req.len);
  }
  buf_cleanup(&req);
  if (!ok) {
    ERR_clear_error();
    step_end(w, SIM_R_HTTP_FAILED, "the request to %s could not be sent", a->url.host);
  }
}

static void end_redirect(struct sim_walk *w, enum sim_redirect_verdict v, const char *to,
                         const char *what, bool front, bool consent) {
  struct sim_step *s = cur(w);
  set_str(&s->redirect_to, to);
  size_t step = w->att.step;
  if (v != SIM_REDIRECT_OK) {
    step_end(w, SIM_R_REJECTED, "%s to %s refused: %s (§3.4)", what, to ? to : "?",
             sim__redirect_verdict_text(v));
    return;
  }
  push_pending(w, front, to, consent, step);
  step_end(w, SIM_R_REDIRECT, "%s to %s", what, to);
}

/* finish_get ends the HTTP redirect step: only a 302 with an https Location counts (§4.2). */
static void finish_get(struct sim_walk *w, int status) {
  struct attempt *a = &w->att;
  if (status != 302) {
    step_end(w, SIM_R_NO_CANDIDATE, "HTTP %d: only a 302 counts for this step (§4.2)", status);
    return;
  }
  if (a->location == NULL) {
    step_end(w, SIM_R_NO_CANDIDATE, "302 without a Location");
    return;
  }
  char *to = sim__url_resolve(a->url_text, a->location);
  enum sim_redirect_verdict v =
      to != NULL ? sim__visit_url(&w->visits, &w->pol, to) : SIM_REDIRECT_BAD;
  end_redirect(w, v, to != NULL ? to : a->location, "302", true, w->pol.http_redirect_consent);
  free(to);
}

/* finish_autodv2 ends an Office 365 step: a 200 with {"Url": ...} gives the URL the POX request
 * goes to next; anything else means "not in Exchange Online" and the walk goes on (§4.4). */
static void finish_autodv2(struct sim_walk *w, int status) {
  struct attempt *a = &w->att;
  if (status != 200) {
    step_end(w, SIM_R_NOT_AUTODISCOVER,
             "HTTP %d from AutoDV2: the mailbox is not found in Exchange Online; going on with "
             "the next step (§4.4, exact answer UNCERTAIN)",
             status);
    return;
  }
  char *url = NULL;
  if (a->body_overflow || !sim__json_url(buf_slice(&a->body), &url)) {
    step_end(w, SIM_R_NOT_AUTODISCOVER,
             "HTTP 200, but not an AutoDV2 answer {\"Protocol\":\"AutodiscoverV1\",\"Url\":...}");
    return;
  }
  enum sim_redirect_verdict v = sim__visit_url(&w->visits, &w->pol, url);
  end_redirect(w, v, url, "AutoDV2 Url", true, false);
  free(url);
}

static void start_connect(struct sim_walk *w);

/* retry_with_auth asks the same URL again, on a new connection, with a->authorization. The
 * certificate the user already accepted in this step is not asked about again. */
static void retry_with_auth(struct sim_walk *w) {
  struct attempt *a = &w->att;
  conn_release(w);
  SSL_free(a->ssl);
  a->ssl = NULL;
  a->rbio = a->wbio = NULL;
  buf_reset(&a->body);
  buf_reset(&a->field);
  buf_reset(&a->value);
  buf_reset(&a->schemes);
  free(a->location);
  a->location = NULL;
  free(a->http_error);
  a->http_error = NULL;
  a->cert_failures = 0;
  a->body_overflow = a->header_overflow = a->message_done = a->eof = false;
  a->head_len = 0;
  a->read_error = 0;
  start_connect(w);
}

/* handle_401 answers a credentials challenge (§2.4): Negotiate/NTLM with the lab's stand-in
 * single sign-on token, Basic after the credentials prompt; Bearer alone, or a second 401 after
 * credentials, makes the step not functional. */
static void handle_401(struct sim_walk *w) {
  struct attempt *a = &w->att;
  struct sim_step *s = cur(w);
  if (a->schemes.len > 0) {
    set_str(&s->auth_schemes, buf_cstr(&a->schemes));
  }
  if (a->authorization != NULL) {
    step_end(w, SIM_R_NOT_AUTODISCOVER,
             "HTTP 401 again after %s credentials: not functional, trying the next candidate "
             "(§2.1)",
             a->auth_scheme);
    return;
  }
  const char *scheme = NULL;
  enum sim_auth_action act = sim__auth_decide(s->auth_schemes, &scheme);
  if (act == SIM_AUTH_NONE) {
    step_end(w, SIM_R_NOT_AUTODISCOVER,
             "HTTP 401 offering %s: no scheme this client answers here (Bearer needs modern "
             "auth); not functional",
             s->auth_schemes != NULL ? s->auth_schemes : "no challenge");
    return;
  }
  a->authorization = sim__auth_header(scheme, w->email);
  a->auth_scheme = scheme;
  if (a->authorization == NULL) {
    step_end(w, SIM_R_HTTP_FAILED, "could not build the %s credentials", scheme);
    return;
  }
  char note[200];
  if (act == SIM_AUTH_BASIC) {
    add_prompt(w, SIM_PROMPT_CREDENTIALS, a->url.host, "basic", 0,
               sim__credentials_prompt_text(a->url.host, w->email), true, a->step);
    buf_fmt(note, sizeof note, "after a 401: Basic credentials sent (the user typed them)");
  } else {
    buf_fmt(note, sizeof note,
            "after a 401: %s single sign-on, assumed silent (lab stand-in token)", scheme);
  }
  set_str(&a->note, note);
  struct jnl_event ev;
  jnl_begin(&ev, w->env.jnl, "step.auth");
  jnl_str(&ev, "client", w->t->client);
  jnl_uint(&ev, "index", a->step);
  jnl_str(&ev, "schemes", s->auth_schemes);
  jnl_str(&ev, "answered", scheme); /* the scheme only: never the credentials */
  jnl_end(&ev);
  retry_with_auth(w);
}

/* handle_answer acts on a POX answer (from the network or the local XML file). */
static void handle_answer(struct sim_walk *w, struct sim_answer *ans, int status) {
  struct attempt *a = &w->att;
  switch (ans->kind) {
    case SIM_A_SETTINGS: {
      struct sim_transcript *t = w->t;
      t->success = true;
      set_str(&t->final_url, a->url_text);
      set_str(&t->ews_url, ans->ews_url);
      set_str(&t->server, ans->server);
      set_str(&t->settings_email, ans->smtp != NULL ? ans->smtp : w->email);
      w->state = WALK_FINISHING;
      step_end(w, SIM_R_SETTINGS, "settings for %s (EWS %s)", t->settings_email,
               ans->ews_url != NULL ? ans->ews_url : "none");
      break;
    }
    case SIM_A_REDIRECT_ADDR: {
      enum sim_redirect_verdict v = sim__visit_addr(&w->visits, &w->pol, ans->redirect, true);
      set_str(&cur(w)->redirect_to, ans->redirect);
      if (v != SIM_REDIRECT_OK) {
        step_end(w, SIM_R_REJECTED, "redirectAddr to %s refused: %s (§3.4)", ans->redirect,
                 sim__redirect_verdict_text(v));
        break;
      }
      /* §3.4: a new address means a new domain and a new list of candidates. */
      set_str(&w->email, ans->redirect);
      set_str(&w->domain, strrchr(ans->redirect, '@') + 1);
      str_lower(w->domain);
      w->next_plan = 0;
      w->scp_next = 0;
      w->first_address = false;
      w->n_plan = sim__plan(w->model, &w->cfg, false, w->plan);
      clear_pending(w);
      step_end(w, SIM_R_REDIRECT, "redirectAddr to %s: starting over for %s", ans->redirect,
               w->domain);
      break;
    }
    case SIM_A_REDIRECT_URL: {
      enum sim_redirect_verdict v = sim__visit_url(&w->visits, &w->pol, ans->redirect);
      end_redirect(w, v, ans->redirect, "redirectUrl", true, false);
      break;
    }
    case SIM_A_HTTP_REDIRECT: {
      if (!w->pol.follow_post_3xx) {
        step_end(w, SIM_R_NOT_AUTODISCOVER, "HTTP %d: this client does not follow it", status);
        break;
      }
      char *to = sim__url_resolve(a->url_text, ans->redirect);
      enum sim_redirect_verdict v =
          to != NULL ? sim__visit_url(&w->visits, &w->pol, to) : SIM_REDIRECT_BAD;
      char what[32];
      buf_fmt(what, sizeof what, "HTTP %d", status);
      /* §4.3: re-sent as a POST with the same body (UNCERTAIN for Outlook). */
      end_redirect(w, v, to != NULL ? to : ans->redirect, what, true, false);
      free(to);
      break;
    }
    case SIM_A_ERROR:
      cur(w)->error_code = ans->error_code;
      step_end(w, SIM_R_XML_ERROR,
               "Autodiscover Error %u (%s); assumed not functional, trying the next candidate "
               "(assumption, protocol §3.5)",
               ans->error_code, ans->message != NULL ? ans->message : "no message");
      break;
    case SIM_A_AUTH: handle_401(w); break;
    case SIM_A_OTHER: step_end(w, SIM_R_NOT_AUTODISCOVER, "%s", ans->why); break;
  }
}

static void finish_response(struct sim_walk *w) {
  struct attempt *a = &w->att;
  int status = a->parser.status_code;
  cur(w)->http_status = status;
  if (a->req == SIM_REQ_GET) {
    finish_get(w, status);
    return;
  }
  if (a->req == SIM_REQ_AUTODV2) {
    finish_autodv2(w, status);
    return;
  }
  if (a->body_overflow) {
    step_end(w, SIM_R_NOT_AUTODISCOVER, "HTTP %d with a body over 1 MiB", status);
    return;
  }
  struct sim_answer ans;
  sim__classify(&ans, status, a->location, buf_slice(&a->body));
  handle_answer(w, &ans, status);
  sim__answer_cleanup(&ans);
}

/* --- TLS --- */

static int verify_cb(int ok, X509_STORE_CTX *store) {
  SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
  struct sim_walk *w = ssl != NULL ? SSL_get_ex_data(ssl, ssl_ex_index) : NULL;
  if (!ok && w != NULL) {
    w->att.cert_failures |= sim__cert_failure_of_verify(X509_STORE_CTX_get_error(store));
  }
  return 1; /* note every failure and finish the handshake, like the Security Alert */
}

static char *name_cn(X509_NAME *name) {
  int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) {
    return NULL;
  }
  unsigned char *utf8 = NULL;
  int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
  if (len < 0) {
    return NULL;
  }
  char *out = str_ndup((const char *) utf8, (size_t) len);
  OPENSSL_free(utf8);
  return out;
}

/* check_leaf adds the checks verification may skip once the chain cannot be built. */
static unsigned check_leaf(struct sim_walk *w) {
  struct sim_step *s = cur(w);
  X509 *leaf = SSL_get_peer_certificate(w->att.ssl);
  if (leaf == NULL) {
    return SIM_CERT_UNTRUSTED;
  }
  unsigned f = 0;
  if (X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0) {
    f |= SIM_CERT_EXPIRED;
  }
  if (X509_cmp_current_time(X509_get0_notBefore(leaf)) > 0) {
    f |= SIM_CERT_NOT_YET_VALID;
  }
  const char *host = w->att.url.host;
  if (w->att.literal ? X509_check_ip_asc(leaf, host, 0) != 1
                     : X509_check_host(leaf, host, strlen(host), 0, NULL) != 1) {
    f |= SIM_CERT_NAME;
  }
  free(s->cert_subject);
  free(s->cert_issuer);
  s->cert_subject = name_cn(X509_get_subject_name(leaf));
  s->cert_issuer = name_cn(X509_get_issuer_name(leaf));
  X509_free(leaf);
  return f;
}

static void handshake_done(struct sim_walk *w) {
  struct attempt *a = &w->att;
  unsigned failures = a->cert_failures | check_leaf(w);
  struct sim_step *s = cur(w);
  s->cert_failures = failures;
  ERR_clear_error();
  if (failures != 0 && (failures & ~a->accepted_failures) == 0) {
    failures = 0; /* the user already said Yes to this certificate in this step (a 401 retry) */
  }
  if (failures != 0) {
    const char *reason = sim__cert_reason(failures);
    if ((failures & w->pol.cert_prompts) == 0) {
      set_str(&s->tls_error, "certificate failed verification");
      step_end(w, SIM_R_TLS_FAILED, "certificate problem (%s); this client fails silently", reason);
      return;
    }
    bool accepted = !w->cfg.answer_no_to_certificate_prompts;
    add_prompt(w, SIM_PROMPT_CERTIFICATE, a->url.host, reason, failures,
               sim__cert_prompt_text(a->url.host, failures), accepted, a->step);
    if (!accepted) {
      set_str(&s->tls_error, "user declined the certificate");
      if (w->pol.cert_no == SIM_CERT_NO_ENDS_WALK) {
        w->state = WALK_FINISHING;
      }
      step_end(w, SIM_R_TLS_FAILED, "user declined the certificate (%s)", reason);
      return;
    }
    a->accepted_failures |= failures;
  }
  send_request(w);
}

static void tls_fail(struct sim_walk *w, const char *what) {
  char reason[160];
  uint32_t e = ERR_get_error();
  const char *short_reason = e != 0 ? ERR_reason_error_string(e) : NULL;
  if (short_reason != NULL) {
    buf_fmt(reason, sizeof reason, "%s", short_reason); /* e.g. TLSV1_ALERT_PROTOCOL_VERSION */
  } else if (e != 0) {
    ERR_error_string_n(e, reason, sizeof reason);
  } else if (w->att.eof) {
    buf_fmt(reason, sizeof reason, "connection closed by %s", w->att.url.host);
  } else {
    buf_fmt(reason, sizeof reason, "%s", what);
  }
  ERR_clear_error();
  set_str(&cur(w)->tls_error, reason);
  step_end(w, SIM_R_TLS_FAILED, "TLS handshake with %s failed: %s", w->att.url.host, reason);
}

static void do_handshake(struct sim_walk *w) {
  int r = SSL_do_handshake(w->att.ssl);
  flush_tls(w);
  if (r == 1) {
    handshake_done(w);
    return;
  }
  int err = SSL_get_error(w->att.ssl, r);
  if (err == SSL_ERROR_WANT_READ && !w->att.eof) {
    return; /* wait for bytes */
  }
  tls_fail(w, "handshake failed");
}

static void tls_begin(struct sim_walk *w) {
  struct attempt *a = &w->att;
  a->ssl = SSL_new(w->ssl_ctx);
  a->rbio = BIO_new(BIO_s_mem());
  a->wbio = BIO_new(BIO_s_mem());
  static const uint8_t alpn[] = "\x08http/1.1";
  if (a->ssl == NULL || a->rbio == NULL || a->wbio == NULL) {
    BIO_free(a->rbio);
    BIO_free(a->wbio);
    tls_fail(w, "out of memory");
    return;
  }
  BIO_set_mem_eof_return(a->rbio, -1);
  SSL_set_bio(a->ssl, a->rbio, a->wbio);
  SSL_set_ex_data(a->ssl, ssl_ex_index, w);
  SSL_set_connect_state(a->ssl);
  /* SNI carries host names only (RFC 6066 §3); an address is checked against IP SANs. */
  X509_VERIFY_PARAM *param = SSL_get0_param(a->ssl);
  bool named = a->literal
                   ? X509_VERIFY_PARAM_set1_ip_asc(param, a->url.host)
                   : SSL_set_tlsext_host_name(a->ssl, a->url.host) &&
                         X509_VERIFY_PARAM_set1_host(param, a->url.host, strlen(a->url.host));
  if (!named || SSL_set_alpn_protos(a->ssl, alpn, sizeof alpn - 1) != 0) {
    tls_fail(w, "could not set up TLS");
    return;
  }
  a->state = ATT_HANDSHAKE;
  arm_timeout(w, w->pol.tls_timeout_ms);
  do_handshake(w);
}

/* --- the attempt's state machine --- */

static void do_response(struct sim_walk *w) {
  struct attempt *a = &w->att;
  if (a->ssl != NULL) {
    char chunk[16384];
    for (;;) {
      int n = SSL_read(a->ssl, chunk, sizeof chunk);
      if (n > 0) {
        feed_http(w, chunk, (size_t) n);
        continue;
      }
      int err = SSL_get_error(a->ssl, n);
      if (err == SSL_ERROR_ZERO_RETURN) {
        a->eof = true;
      } else if (err != SSL_ERROR_WANT_READ && !a->message_done) {
        char reason[160];
        ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
        ERR_clear_error();
        step_end(w, SIM_R_HTTP_FAILED, "TLS failed while reading the answer: %s", reason);
        return;
      }
      break;
    }
    ERR_clear_error();
  }
  if (a->message_done) {
    finish_response(w);
    return;
  }
  if (a->header_overflow) {
    step_end(w, SIM_R_HTTP_FAILED,
             "the answer's headers are too large (over 64 KiB, or one "
             "over 8 KiB)");
    return;
  }
  if (a->body_overflow) {
    step_end(w, SIM_R_NOT_AUTODISCOVER, "the answer body is over 1 MiB");
    return;
  }
  if (a->http_error != NULL) {
    step_end(w, SIM_R_HTTP_FAILED, "the answer is not HTTP: %s", a->http_error);
    return;
  }
  if (a->eof) {
    llhttp_errno_t rc = a->read_error == 0 ? llhttp_finish(&a->parser) : HPE_OK;
    if ((rc == HPE_OK || rc == HPE_PAUSED) && a->message_done) {
      finish_response(w); /* an answer delimited by the end of the connection */
      return;
    }
    step_end(w, SIM_R_HTTP_FAILED, "connection closed before the answer was complete%s%s",
             a->read_error != 0 ? ": " : "", a->read_error != 0 ? uv_strerror(a->read_error) : "");
  }
}

static void advance(struct sim_walk *w) {
  switch (w->att.state) {
    case ATT_HANDSHAKE: do_handshake(w); break;
    case ATT_RESPONSE: do_response(w); break;
    case ATT_IDLE:
    case ATT_RESOLVE:
    case ATT_SRV:
    case ATT_CONNECT: break;
  }
}

/* timeout_expired ends the step whose timeout ran out: its timer fired, or the lab clock went
 * past its nominal end first (deadline_passed). The user waited exactly the timeout. */
static void timeout_expired(struct sim_walk *w) {
  struct attempt *a = &w->att;
  if (a->state == ATT_CONNECT || a->state == ATT_HANDSHAKE || a->state == ATT_RESPONSE) {
    labclock_fired(w->env.clock, a->timer_started, a->timer_lab_ms);
    cur(w)->timed_out = true;
    a->end_lab = a->timer_started + (double) a->timer_lab_ms;
  }
  switch (a->state) {
    case ATT_CONNECT:
      set_str(&cur(w)->connect_error, "timeout");
      step_end(w, SIM_R_CONNECT_FAILED, "no answer to the TCP connect within %u ms (lab time)",
               w->pol.connect_timeout_ms);
      break;
    case ATT_HANDSHAKE:
      set_str(&cur(w)->tls_error, "timeout");
      step_end(w, SIM_R_TLS_FAILED, "the TLS handshake did not finish within %u ms (lab time)",
               w->pol.tls_timeout_ms);
      break;
    case ATT_RESPONSE:
      step_end(w, SIM_R_HTTP_FAILED, "no complete answer within %u ms (lab time)",
               w->pol.http_timeout_ms);
      break;
    case ATT_IDLE:
    case ATT_RESOLVE:
    case ATT_SRV: break; /* c-ares keeps its own time */
  }
}

static void on_timeout(uv_timer_t *t) {
  timeout_expired(t->data);
}

static const char *connect_error_name(int status) {
  switch (status) {
    case UV_ECONNREFUSED: return "refused";
    case UV_ETIMEDOUT: return "timeout";
    case UV_ENETUNREACH:
    case UV_EHOSTUNREACH: return "unreachable";
    case UV_ECONNRESET: return "reset";
    default: return uv_strerror(status);
  }
}

static void on_connect(uv_connect_t *req, int status) {
  struct conn *c = req->data;
  if (!c->active) {
    return;
  }
  struct sim_walk *w = c->w;
  struct attempt *a = &w->att;
  if (deadline_passed(w)) {
    timeout_expired(w);
    return;
  }
  if (status < 0) {
    set_str(&cur(w)->connect_error, connect_error_name(status));
    step_end(w, SIM_R_CONNECT_FAILED, "%s port %u: connection %s", cur(w)->dns_answer,
             (unsigned) a->url.port, connect_error_name(status));
    return;
  }
  /* No Nagle: the request follows the client's handshake flight at once, and a delayed ACK
   * must not hold it for 40 ms — more than a scaled timeout lasts. */
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read);
  if (a->url.https) {
    tls_begin(w);
  } else {
    send_request(w);
  }
}

static void start_connect(struct sim_walk *w) {
  struct attempt *a = &w->att;
  struct sockaddr_storage target = a->addr;
  struct sockaddr_storage mapped;
  if (w->env.map != NULL &&
      w->env.map(w->env.map_arg, (const struct sockaddr *) &a->addr, &mapped)) {
    target = mapped; /* the lab's port map */
  }
  struct conn *c = xcalloc(1, sizeof *c);
  c->w = w;
  c->active = true;
  c->tcp.data = c;
  c->connect_req.data = c;
  if (uv_tcp_init(w->env.loop, &c->tcp) != 0) {
    free(c);
    step_end(w, SIM_R_CONNECT_FAILED, "no socket for the connection");
    return;
  }
  w->n_open++;
  a->conn = c;
  a->state = ATT_CONNECT;
  arm_timeout(w, w->pol.connect_timeout_ms);
  int rc = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *) &target, on_connect);
  if (rc != 0) {
    set_str(&cur(w)->connect_error, connect_error_name(rc));
    step_end(w, SIM_R_CONNECT_FAILED, "%s port %u: %s", cur(w)->dns_answer, (unsigned) a->url.port,
             uv_strerror(rc));
  }
}

static void set_port(struct sockaddr_storage *ss, uint16_t port) {
  if (ss->ss_family == AF_INET) {
    ((struct sockaddr_in *) ss)->sin_port = htons(port);
  } else {
    ((struct sockaddr_in6 *) ss)->sin6_port = htons(port);
  }
}

static void on_a_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
  struct sim_walk *w = arg;
  if (w->state != WALK_RUNNING || w->att.state != ATT_RESOLVE) {
    return; /* ARES_EDESTRUCTION, or a step that already ended */
  }
  struct ares_addrttl addrs[8];
  int n = 8;
  if (status == ARES_SUCCESS) {
    status = ares_parse_a_reply(abuf, alen, NULL, addrs, &n);
    if (status == ARES_SUCCESS && n <= 0) {
      status = ARES_ENODATA;
    }
  }
  if (status != ARES_SUCCESS) {
    dns_timed_out(w, status);
    set_str(&cur(w)->dns_error, dns_error_name(status));
    step_end(w, SIM_R_DNS_FAILED, "%s: DNS %s", w->att.url.host, dns_error_name(status));
    return;
  }
  struct sockaddr_in *sin = (struct sockaddr_in *) &w->att.addr;
  memset(&w->att.addr, 0, sizeof w->att.addr);
  sin->sin_family = AF_INET;
  sin->sin_addr = addrs[0].ipaddr;
  set_port(&w->att.addr, w->att.url.port);
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
  set_str(&cur(w)->dns_answer, text);
  start_connect(w);
}

/* --- steps --- */

/* begin_fetch starts a step that asks one URL: POST, the HTTP step's GET or the AutoDV2 GET. */
static void begin_fetch(struct sim_walk *w, enum sim_step_kind kind, const char *url,
                        enum sim_req_kind req) {
  step_begin(w, kind, url, NULL);
  struct attempt *a = &w->att;
  a->req = req;
  a->url_text = str_dup(url);
  if (!sim__url_parse(&a->url, url)) {
    step_end(w, SIM_R_REJECTED, "%s is not an http or https URL", url);
    return;
  }
  set_str(&cur(w)->host, a->url.host);
  if (req == SIM_REQ_POX) {
    sim__visit_note(&w->visits, url);
  }
  memset(&a->addr, 0, sizeof a->addr);
  struct sockaddr_in *sin = (struct sockaddr_in *) &a->addr;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &a->addr;
  if (inet_pton(AF_INET, a->url.host, &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET; /* an address literal needs no DNS */
  } else if (inet_pton(AF_INET6, a->url.host, &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
  }
  if (a->addr.ss_family != 0) {
    a->literal = true;
    set_port(&a->addr, a->url.port);
    set_str(&cur(w)->dns_answer, a->url.host);
    start_connect(w);
    return;
  }
  a->state = ATT_RESOLVE;
  a->timer_started = lab_now(w);
  ares_query(w->ares, a->url.host, ns_c_in, ns_t_a, on_a_answer, w);
  ares_rearm(w);
}

static void on_srv_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
  struct sim_walk *w = arg;
  if (w->state != WALK_RUNNING || w->att.state != ATT_SRV) {
    return;
  }
  struct sim_step *s = cur(w);
  struct ares_srv_reply *reply = NULL;
  if (status == ARES_SUCCESS) {
    status = ares_parse_srv_reply(abuf, alen, &reply);
    if (status == ARES_SUCCESS && reply == NULL) {
      status = ARES_ENODATA;
    }
  }
  if (status != ARES_SUCCESS) {
    dns_timed_out(w, status);
    set_str(&s->dns_error, dns_error_name(status));
    /* §5 / MS-OXPROTO 2.5.1.5: no SRV answer is not an error, the step yields nothing. */
    bool none = status == ARES_ENOTFOUND || status == ARES_ENODATA;
    step_end(w, none ? SIM_R_NO_CANDIDATE : SIM_R_DNS_FAILED, "%s: DNS %s", s->host,
             dns_error_name(status));
    return;
  }
  size_t n = 0;
  for (struct ares_srv_reply *r = reply; r != NULL; r = r->next) {
    n++;
  }
  struct sim_srv *recs = xcalloc(n, sizeof *recs);
  n = 0;
  for (struct ares_srv_reply *r = reply; r != NULL; r = r->next) {
    recs[n++] = (struct sim_srv){str_lower(str_dup(r->host)), r->priority, r->weight, r->port};
  }
  ares_free_data(reply);
  struct buf answer;
  buf_init(&answer, 4096);
  for (size_t i = 0; i < n; i++) {
    buf_appendf(&answer, "%s%u %u %u %s", i ? ", " : "", recs[i].priority, recs[i].weight,
                recs[i].port, recs[i].target);
  }
  s->dns_answer = buf_take(&answer);
  size_t kept = sim__srv_select(recs, n, &w->pol);
  size_t step = w->att.step;
  for (size_t i = 0; i < kept; i++) {
    char url[600];
    if (buf_fmt(url, sizeof url, "https://%s/Autodiscover/Autodiscover.xml", recs[i].target)) {
      push_pending(w, false, url, w->pol.srv_consent, step);
      if (s->url == NULL) {
        s->url = str_dup(url);
        s->redirect_to = str_dup(url);
      }
    }
  }
  for (size_t i = 0; i < n; i++) {
    free(recs[i].target);
  }
  free(recs);
  if (kept == 0) {
    step_end(w, SIM_R_NO_CANDIDATE, "%zu SRV record%s, none usable (port 443 only, §5)", n,
             n == 1 ? "" : "s");
  } else {
    step_end(w, SIM_R_REDIRECT, "%zu SRV target%s to try (%zu ignored)", kept, kept == 1 ? "" : "s",
             n - kept);
  }
}

static void begin_srv(struct sim_walk *w) {
  char name[300];
  if (!buf_fmt(name, sizeof name, "_autodiscover._tcp.%s", w->domain)) {
    step_begin(w, SIM_STEP_SRV, NULL, w->domain);
    step_end(w, SIM_R_NO_CANDIDATE, "the domain is too long for an SRV name");
    return;
  }
  step_begin(w, SIM_STEP_SRV, NULL, name);
  w->att.state = ATT_SRV;
  w->att.timer_started = lab_now(w);
  ares_query(w->ares, name, ns_c_in, ns_t_srv, on_srv_answer, w);
  ares_rearm(w);
}

static char *model_url(const struct sim_walk *w, enum sim_step_kind k) {
  struct buf b;
  buf_init(&b, 4096);
  switch (k) {
    case SIM_STEP_HTTPS_ROOT: /* §1.1 */
      buf_appendf(&b, "https://%s/autodiscover/autodiscover.xml", w->domain);
      break;
    case SIM_STEP_HTTPS_AUTODISCOVER:
      buf_appendf(&b, "https://autodiscover.%s/autodiscover/autodiscover.xml", w->domain);
      break;
    case SIM_STEP_HTTP_REDIRECT: /* §4.2 */
      buf_appendf(&b, "http://autodiscover.%s/autodiscover/autodiscover.xml", w->domain);
      break;
    case SIM_STEP_LAST_KNOWN_GOOD:
      if (w->cfg.last_known_good_url != NULL) {
        buf_append_str(&b, w->cfg.last_known_good_url);
      }
      break;
    case SIM_STEP_LOCAL_XML:
      if (w->cfg.local_xml != NULL) {
        buf_appendf(&b, "file://%s", w->cfg.local_xml);
      }
      break;
    case SIM_STEP_O365_DIRECT:
    case SIM_STEP_O365_FALLBACK: {
      char *url = sim__o365_url(w->email);
      buf_append_str(&b, url != NULL ? url : "");
      free(url);
      break;
    }
    case SIM_STEP_SCP:
    case SIM_STEP_SRV:
    case SIM_STEP_REDIRECT: break;
  }
  if (b.len == 0) {
    buf_cleanup(&b);
    return NULL;
  }
  return buf_take(&b);
}

/* begin_local_xml reads the local XML file (§4.5) and treats it as a POX answer. */
static void begin_local_xml(struct sim_walk *w) {
  char *url = model_url(w, SIM_STEP_LOCAL_XML);
  step_begin(w, SIM_STEP_LOCAL_XML, url, NULL);
  struct attempt *a = &w->att;
  a->url_text = url;
  FILE *f = fopen(w->cfg.local_xml, "rb");
  if (f == NULL) {
    step_end(w, SIM_R_NO_CANDIDATE, "the local XML file %s cannot be read: %s", w->cfg.local_xml,
             strerror(errno));
    return;
  }
  uint8_t chunk[16384];
  size_t n;
  bool too_big = false;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (!buf_append(&a->body, (struct slice){chunk, n})) {
      too_big = true;
      break;
    }
  }
  bool failed = ferror(f) != 0;
  fclose(f);
  if (failed || too_big) {
    step_end(w, SIM_R_NOT_AUTODISCOVER, "the local XML file %s %s", w->cfg.local_xml,
             too_big ? "is over 1 MiB" : "could not be read to the end");
    return;
  }
  struct sim_answer ans;
  sim__classify(&ans, 200, NULL, buf_slice(&a->body));
  if (ans.kind == SIM_A_OTHER) {
    /* the classifier words it for HTTP ("HTTP 200, but ..."): say it for a file */
    step_end(w, SIM_R_NOT_AUTODISCOVER,
             "the local XML file is not a usable Autodiscover answer: %s", ans.why);
  } else {
    handle_answer(w, &ans, 200);
  }
  sim__answer_cleanup(&ans);
}

/* take_pending starts the first waiting candidate, after the consent prompt it needs: none for
 * a host in RedirectServers; Cancel (answer_no_to_redirect_prompts) fails the step (§2.5). */
static void take_pending(struct sim_walk *w) {
  struct pending p = w->pending[0];
  memmove(&w->pending[0], &w->pending[1], (w->n_pending - 1) * sizeof *w->pending);
  w->n_pending--;
  if (p.consent) {
    struct sim_url u;
    bool parsed = sim__url_parse(&u, p.url);
    const char *host = parsed ? u.host : p.url;
    if (sim__host_listed(host, w->cfg.redirect_servers, w->cfg.n_redirect_servers)) {
      set_str(&w->note_next, "no consent prompt: the host is in RedirectServers");
    } else {
      bool allowed = !w->cfg.answer_no_to_redirect_prompts;
      add_prompt(w, SIM_PROMPT_REDIRECT, host, p.url, 0, sim__redirect_prompt_text(w->email, p.url),
                 allowed, p.from_step);
      if (!allowed) {
        step_begin(w, SIM_STEP_REDIRECT, p.url, host);
        set_str(&cur(w)->redirect_to, p.url);
        step_end(w, SIM_R_REJECTED,
                 "the user declined the redirect (Cancel on the consent prompt)");
        sim__url_cleanup(&u);
        free(p.url);
        return;
      }
    }
    sim__url_cleanup(&u);
  }
  begin_fetch(w, SIM_STEP_REDIRECT, p.url, SIM_REQ_POX);
  free(p.url);
}

/* walk_next starts the next step: a waiting redirect or SRV target first, then the plan's
 * next step, else the walk is over without settings. */
static void walk_next(struct sim_walk *w) {
  if (w->n_pending > 0) {
    take_pending(w);
    return;
  }
  if (w->next_plan >= w->n_plan) {
    w->state = WALK_FINISHING;
    close_all(w);
    return;
  }
  const struct sim_plan_step *ps = &w->plan[w->next_plan];
  enum sim_step_kind k = ps->kind;
  if (ps->skip != NULL) {
    w->next_plan++;
    char *url = model_url(w, k);
    step_begin(w, k, url, NULL);
    free(url);
    step_end(w, SIM_R_SKIPPED, "%s", ps->skip);
    return;
  }
  if (k == SIM_STEP_SCP) {
    /* §1.1: each URL the lookup found is a candidate, in order; one scp step each. */
    if (w->env.n_scp_urls == 0) {
      w->next_plan++;
      step_begin(w, k, NULL, NULL);
      step_end(w, SIM_R_NO_CANDIDATE, "the SCP lookup found no Autodiscover URL");
      return;
    }
    const char *url = w->env.scp_urls[w->scp_next++];
    if (w->scp_next >= w->env.n_scp_urls) {
      w->scp_next = 0;
      w->next_plan++;
    }
    begin_fetch(w, k, url, SIM_REQ_POX);
    return;
  }
  w->next_plan++;
  if (k == SIM_STEP_SRV) {
    begin_srv(w);
    return;
  }
  if (k == SIM_STEP_LOCAL_XML) {
    begin_local_xml(w);
    return;
  }
  char *url = model_url(w, k);
  enum sim_req_kind req = SIM_REQ_POX;
  if (k == SIM_STEP_HTTP_REDIRECT) {
    req = SIM_REQ_GET;
  } else if (k == SIM_STEP_O365_DIRECT || k == SIM_STEP_O365_FALLBACK) {
    req = SIM_REQ_AUTODV2;
  }
  if (url == NULL) {
    step_begin(w, k, NULL, NULL);
    step_end(w, SIM_R_NO_CANDIDATE, "no URL to ask");
    return;
  }
  begin_fetch(w, k, url, req);
  free(url);
}

/* close_all reports the result and closes every handle; done() follows the last close. */
static void close_all(struct sim_walk *w) {
  struct sim_transcript *t = w->t;
  w->state = WALK_CLOSING;
  t->total_ms = lab_now(w) - w->start_lab;
  struct jnl_event ev;
  jnl_begin(&ev, w->env.jnl, "result");
  jnl_str(&ev, "client", t->client);
  jnl_str(&ev, "email", t->email);
  jnl_bool(&ev, "success", t->success);
  jnl_str(&ev, "final_url", t->final_url);
  jnl_str(&ev, "ews_url", t->ews_url);
  jnl_uint(&ev, "n_steps", t->n_steps);
  jnl_uint(&ev, "n_prompts", t->n_prompts);
  jnl_double(&ev, "total_ms", t->total_ms);
  jnl_end(&ev);
  attempt_cleanup(w);
  if (w->ares != NULL) {
    ares_channel ch = w->ares;
    ares_destroy(ch); /* its sockets report closed through on_ares_sock */
    w->ares = NULL;
  }
  for (struct pollent *p = w->polls; p != NULL; p = p->next) {
    poll_close(p);
  }
  uv_timer_stop(&w->timer);
  uv_timer_stop(&w->ares_timer);
  uv_close((uv_handle_t *) &w->timer, on_timer_closed);
  uv_close((uv_handle_t *) &w->ares_timer, on_timer_closed);
}

/* --- start --- */

static int setup_ares(struct sim_walk *w) {
  struct ares_options o;
  memset(&o, 0, sizeof o);
  /* NOCHECKRESP hands SERVFAIL and REFUSED answers to the callback as ARES_ESERVFAIL and
   * ARES_EREFUSED; without it c-ares 1.18 drops them and reports "could not contact". */
  o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP;
  uint64_t real_ms = real_timeout_ms(w, w->pol.dns_timeout_ms);
  o.timeout = real_ms > 3600000 ? 3600000 : (int) real_ms; /* scaled: c-ares keeps real time */
  o.tries = 1;
  o.ndots = 0;
  o.domains = NULL;
  o.ndomains = 0;
  o.sock_state_cb = on_ares_sock;
  o.sock_state_cb_data = w;
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS |
             ARES_OPT_DOMAINS | ARES_OPT_SOCK_STATE_CB;
  if (ares_init_options(&w->ares, &o, mask) != ARES_SUCCESS) {
    w->ares = NULL;
    return UV_ENOMEM;
  }
  struct ares_addr_port_node server;
  memset(&server, 0, sizeof server);
  const struct sockaddr_storage *ss = &w->env.dns;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *) ss;
    server.family = AF_INET;
    server.addr.addr4 = sin->sin_addr;
    server.udp_port = server.tcp_port = ntohs(sin->sin_port);
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) ss;
    server.family = AF_INET6;
    memcpy(&server.addr.addr6, &sin6->sin6_addr, sizeof server.addr.addr6);
    server.udp_port = server.tcp_port = ntohs(sin6->sin6_port);
  } else {
    return 0; /* no server given: the system's (resolv.conf), for probes of real domains */
  }
  if (ares_set_servers_ports(w->ares, &server) != ARES_SUCCESS) {
    return UV_EINVAL;
  }
  return 0;
}

static int setup_tls(struct sim_walk *w) {
  if (ssl_ex_index < 0) {
    ssl_ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
  }
  w->ssl_ctx = SSL_CTX_new(TLS_method());
  if (w->ssl_ctx == NULL || ssl_ex_index < 0 ||
      !SSL_CTX_set_min_proto_version(w->ssl_ctx, TLS1_2_VERSION)) {
    ERR_clear_error();
    return UV_ENOMEM;
  }
  SSL_CTX_set_verify(w->ssl_ctx, SSL_VERIFY_PEER, verify_cb);
  /* The modelled machine trusts env->trust_pem only; without one nothing is trusted. */
  if (w->env.trust_pem != NULL &&
      !SSL_CTX_load_verify_locations(w->ssl_ctx, w->env.trust_pem, NULL)) {
    ERR_clear_error();
    return UV_EIO;
  }
  return 0;
}

static void walk_free_unstarted(struct sim_walk *w) {
  if (w->ares != NULL) {
    ares_destroy(w->ares);
  }
  if (w->ares_lib) {
    ares_library_cleanup();
  }
  SSL_CTX_free(w->ssl_ctx);
  sim__visits_cleanup(&w->visits);
  sim_transcript_free(w->t);
  cfg_cleanup(&w->cfg);
  free(w->email);
  free(w->domain);
  free(w);
}

int sim_walk_start(struct sim_walk **out, const struct sim_env *env, const struct sim_model *model,
                   const struct scn_client *cfg, const char *email, sim_done_cb done, void *arg) {
  *out = NULL;
  const char *at = email != NULL ? strrchr(email, '@') : NULL;
  if (env == NULL || env->loop == NULL || model == NULL || done == NULL || at == NULL ||
      at == email || at[1] == '\0' || strlen(email) > 254) {
    return UV_EINVAL;
  }
  if (!http_settings_ready) {
    llhttp_settings_init(&http_settings);
    http_settings.on_header_field = on_header_field;
    http_settings.on_header_value = on_header_value;
    http_settings.on_header_value_complete = on_header_value_complete;
    http_settings.on_body = on_body;
    http_settings.on_message_complete = on_message_complete;
    http_settings_ready = true;
  }
  struct sim_walk *w = xcalloc(1, sizeof *w);
  w->env = *env;
  w->model = model;
  w->pol = model->policy;
  if (env->timeout_ms != 0) {
    w->pol.dns_timeout_ms = w->pol.connect_timeout_ms = env->timeout_ms;
    w->pol.tls_timeout_ms = w->pol.http_timeout_ms = env->timeout_ms;
  }
  if (cfg != NULL) {
    cfg_copy(&w->cfg, cfg);
  }
  if (w->cfg.srv_largest_wins) {
    w->pol.srv_order = SIM_SRV_LARGEST_WINS; /* §5: the EAS guidance's wording */
  }
  w->first_address = true;
  w->n_plan = sim__plan(model, &w->cfg, true, w->plan);
  w->done = done;
  w->done_arg = arg;
  w->email = str_dup(email);
  w->domain = str_lower(str_dup(at + 1));
  w->t = xcalloc(1, sizeof *w->t);
  w->t->client = str_dup(model->name);
  w->t->email = str_dup(email);
  sim__visit_addr(&w->visits, &w->pol, email, false);
  int rc = ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS ? 0 : UV_ENOMEM;
  w->ares_lib = rc == 0;
  if (rc == 0) {
    rc = setup_tls(w);
  }
  if (rc == 0) {
    rc = setup_ares(w);
  }
  if (rc != 0) {
    walk_free_unstarted(w);
    return rc;
  }
  uv_timer_init(env->loop, &w->timer);
  uv_timer_init(env->loop, &w->ares_timer);
  w->timer.data = w;
  w->ares_timer.data = w;
  w->n_open = 2;
  w->start_lab = lab_now(w);
  schedule(w);
  *out = w;
  return 0;
}
