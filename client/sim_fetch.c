/* client/sim_fetch.c: one attempt as a state machine — the fetch of one candidate URL
 * (resolve → connect → TLS → send → read the answer → what it means), and the srv step's
 * query. sim__advance dispatches every state to its do_*, which sets the next state; the
 * libuv and c-ares callbacks only store what happened (an answer, a connect status, bytes, a
 * timeout) and call sim__advance. Every ending goes through sim__step_end, which hands the walk
 * back to the loop.
 *
 * Time is lab time (common/labclock.h): each timeout runs for labclock_real_ms(nominal) and,
 * when it fires, moves the lab clock to its nominal deadline, so a 21 s connect timeout costs
 * 21 ms at scale 1000 while the step still reports 21 s. */
#include "client/sim.h"

#include "client/internal.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <stdlib.h>
#include <string.h>

/* A TCP connection; freed in its close callback, after the attempt let go of it. */
struct sim_conn {
  uv_tcp_t tcp;
  uv_connect_t connect_req;
  struct sim_walk *w;
  bool active; /* false once the attempt let go: its callbacks do nothing */
  char rbuf[16384];
};

struct wreq {
  uv_write_t req;
  struct sim_conn *c;
  size_t len;
  uint8_t data[];
};

const char *sim__att_state_name(enum sim_att_state st) {
  switch (st) {
    case SIM_ATT_IDLE: return "idle";
    case SIM_ATT_RESOLVE: return "resolve";
    case SIM_ATT_AWAIT_A: return "await-a";
    case SIM_ATT_CONNECT: return "connect";
    case SIM_ATT_AWAIT_CONNECT: return "await-connect";
    case SIM_ATT_TLS_SETUP: return "tls-setup";
    case SIM_ATT_HANDSHAKE: return "handshake";
    case SIM_ATT_VERIFY: return "verify";
    case SIM_ATT_SEND: return "send";
    case SIM_ATT_RESPONSE: return "response";
    case SIM_ATT_ANSWER: return "answer";
    case SIM_ATT_SRV: return "srv";
    case SIM_ATT_AWAIT_SRV: return "await-srv";
  }
  return "?";
}

const char *sim__att_state_doing(enum sim_att_state st) {
  switch (st) {
    case SIM_ATT_IDLE: return "idle";
    case SIM_ATT_RESOLVE:
    case SIM_ATT_AWAIT_A: return "resolving";
    case SIM_ATT_CONNECT:
    case SIM_ATT_AWAIT_CONNECT: return "connecting";
    case SIM_ATT_TLS_SETUP:
    case SIM_ATT_HANDSHAKE: return "TLS handshake";
    case SIM_ATT_VERIFY: return "checking the certificate";
    case SIM_ATT_SEND: return "sending the request";
    case SIM_ATT_RESPONSE: return "waiting for the answer";
    case SIM_ATT_ANSWER: return "reading the answer";
    case SIM_ATT_SRV:
    case SIM_ATT_AWAIT_SRV: return "asking for SRV records";
  }
  return "?";
}

/* --- timeouts --- */

static void on_timeout(uv_timer_t *t) {
  struct sim_walk *w = t->data;
  w->att.expired = true;
  sim__advance(w);
}

/* arm_timeout starts the timeout of the current network operation: `lab_ms` of lab time. */
static void arm_timeout(struct sim_walk *w, unsigned lab_ms) {
  w->att.timer_started = sim__lab_now(w);
  w->att.timer_lab_ms = lab_ms;
  w->att.expired = false;
  uv_timer_stop(&w->timer);
  uv_timer_start(&w->timer, on_timeout, sim__real_timeout_ms(w, lab_ms), 0);
}

/* deadline_passed says whether the lab clock is past the running timeout's nominal end: a
 * server's delay moved it there while the (longer, real) timer still runs. */
static bool deadline_passed(const struct sim_walk *w) {
  const struct sim_attempt *a = &w->att;
  return w->env.clock != NULL && a->timer_lab_ms > 0 &&
         sim__lab_now(w) >= a->timer_started + (double) a->timer_lab_ms;
}

/* book_timeout notes a timeout that ran out: the user waited exactly its length, which the lab
 * clock now shows even when the real timer was longer. */
static void book_timeout(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  labclock_fired(w->env.clock, a->timer_started, a->timer_lab_ms);
  sim__cur(w)->timed_out = true;
  a->end_lab = a->timer_started + (double) a->timer_lab_ms;
}

/* --- TCP --- */

static void on_conn_closed(uv_handle_t *h) {
  struct sim_conn *c = h->data;
  struct sim_walk *w = c->w;
  free(c);
  sim__handle_gone(w);
}

static void conn_release(struct sim_walk *w) {
  struct sim_conn *c = w->att.conn;
  w->att.conn = NULL;
  if (c == NULL) {
    return;
  }
  c->active = false;
  if (!uv_is_closing((uv_handle_t *) &c->tcp)) {
    uv_close((uv_handle_t *) &c->tcp, on_conn_closed);
  }
}

static void on_write(uv_write_t *req, int status) {
  struct wreq *wr = req->data;
  struct sim_conn *c = wr->c;
  free(wr);
  if (status < 0 && c->active) {
    c->w->att.write_error = status;
    sim__advance(c->w);
  }
}

/* conn_write sends bytes on the attempt's connection; false when it cannot. */
static bool conn_write(struct sim_walk *w, const uint8_t *data, size_t len) {
  struct sim_conn *c = w->att.conn;
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
    if (!conn_write(w, chunk, (size_t) n)) {
      return false;
    }
  }
  return true;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  struct sim_conn *c = h->data;
  *b = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
  struct sim_conn *c = s->data;
  if (!c->active || nread == 0) {
    return;
  }
  struct sim_walk *w = c->w;
  struct sim_attempt *a = &w->att;
  if (deadline_passed(w)) {
    a->expired = true; /* whatever arrived came after the user stopped waiting */
  } else if (nread < 0) {
    a->eof = true;
    a->read_error = nread == UV_EOF ? 0 : (int) nread;
    uv_read_stop(s);
  } else if (a->ssl != NULL) {
    BIO_write(a->rbio, b->base, (int) nread);
  } else {
    a->in = (struct slice){(const uint8_t *) b->base, (size_t) nread};
  }
  sim__advance(w);
  a->in = (struct slice){NULL, 0}; /* rbuf is reused: what was not fed is gone */
}

static void on_connect(uv_connect_t *req, int status) {
  struct sim_conn *c = req->data;
  if (!c->active) {
    return;
  }
  struct sim_walk *w = c->w;
  w->att.connected = true;
  w->att.connect_status = status;
  if (deadline_passed(w)) {
    w->att.expired = true;
  }
  sim__advance(w);
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

static void set_port(struct sockaddr_storage *ss, uint16_t port) {
  if (ss->ss_family == AF_INET) {
    ((struct sockaddr_in *) ss)->sin_port = htons(port);
  } else {
    ((struct sockaddr_in6 *) ss)->sin6_port = htons(port);
  }
}

/* --- the states, in the order a fetch goes through them --- */

/* do_resolve: an address literal needs no DNS; for a host name the A query goes out. */
static enum sim_go do_resolve(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  if (a->addr_given) { /* an inspection of one address: connect there, SNI stays the host */
    a->state = SIM_ATT_CONNECT;
    return SIM_GO_NEXT;
  }
  memset(&a->addr, 0, sizeof a->addr);
  struct sockaddr_in *sin = (struct sockaddr_in *) &a->addr;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &a->addr;
  if (inet_pton(AF_INET, a->url.host, &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
  } else if (inet_pton(AF_INET6, a->url.host, &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
  }
  if (a->addr.ss_family != 0) {
    a->literal = true;
    set_port(&a->addr, a->url.port);
    sim__set_str(&sim__cur(w)->dns_answer, a->url.host);
    a->state = SIM_ATT_CONNECT;
    return SIM_GO_NEXT;
  }
  a->state = SIM_ATT_AWAIT_A;
  a->timer_started = sim__lab_now(w);
  sim__resolve_a(w, a->url.host);
  return SIM_GO_NEXT; /* c-ares may have answered at once */
}

static enum sim_go do_await_a(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  if (!a->dns_done) {
    return SIM_GO_WAIT;
  }
  if (a->dns_status != ARES_SUCCESS) {
    const char *error = sim__dns_error_name(a->dns_status);
    sim__dns_timed_out(w, a->dns_status);
    sim__set_str(&sim__cur(w)->dns_error, error);
    return sim__step_end(w, SIM_R_DNS_FAILED, "%s: DNS %s", a->url.host, error);
  }
  struct sockaddr_in *sin = (struct sockaddr_in *) &a->addr;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &a->addr;
  memset(&a->addr, 0, sizeof a->addr);
  char text[INET6_ADDRSTRLEN];
  if (a->use_aaaa) { /* only an IPv6 address: a host of the lab on ::1, or the scenario's AAAA */
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = a->aaaa_addr;
    inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
  } else {
    sin->sin_family = AF_INET;
    sin->sin_addr = a->a_addr;
    inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
  }
  set_port(&a->addr, a->url.port);
  sim__set_str(&sim__cur(w)->dns_answer, text);
  a->state = SIM_ATT_CONNECT;
  return SIM_GO_NEXT;
}

static enum sim_go do_connect(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  struct sockaddr_storage target = a->addr;
  struct sockaddr_storage mapped;
  if (w->env.map != NULL &&
      w->env.map(w->env.map_arg, (const struct sockaddr *) &a->addr, &mapped)) {
    target = mapped; /* the lab's port map */
  }
  struct sim_conn *c = xcalloc(1, sizeof *c);
  c->w = w;
  c->active = true;
  c->tcp.data = c;
  c->connect_req.data = c;
  if (uv_tcp_init(w->env.loop, &c->tcp) != 0) {
    free(c);
    return sim__step_end(w, SIM_R_CONNECT_FAILED, "no socket for the connection");
  }
  w->n_open++;
  a->conn = c;
  a->connected = false;
  a->state = SIM_ATT_AWAIT_CONNECT;
  arm_timeout(w, w->pol.connect_timeout_ms);
  int rc = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *) &target, on_connect);
  if (rc != 0) {
    struct sim_step *s = sim__cur(w);
    sim__set_str(&s->connect_error, connect_error_name(rc));
    return sim__step_end(w, SIM_R_CONNECT_FAILED, "%s port %u: %s", s->dns_answer,
                         (unsigned) a->url.port, uv_strerror(rc));
  }
  return SIM_GO_WAIT;
}

static enum sim_go do_await_connect(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  struct sim_step *s = sim__cur(w);
  if (a->expired) {
    book_timeout(w);
    sim__set_str(&s->connect_error, "timeout");
    return sim__step_end(w, SIM_R_CONNECT_FAILED,
                         "no answer to the TCP connect within %u ms (lab time)",
                         w->pol.connect_timeout_ms);
  }
  if (!a->connected) {
    return SIM_GO_WAIT;
  }
  if (a->connect_status < 0) {
    sim__set_str(&s->connect_error, connect_error_name(a->connect_status));
    return sim__step_end(w, SIM_R_CONNECT_FAILED, "%s port %u: connection %s", s->dns_answer,
                         (unsigned) a->url.port, connect_error_name(a->connect_status));
  }
  /* No Nagle: the request follows the client's handshake flight at once, and a delayed ACK
   * must not hold it for 40 ms — more than a scaled timeout lasts. */
  uv_tcp_nodelay(&a->conn->tcp, 1);
  uv_read_start((uv_stream_t *) &a->conn->tcp, on_alloc, on_read);
  a->state = a->url.https ? SIM_ATT_TLS_SETUP : SIM_ATT_SEND;
  return SIM_GO_NEXT;
}

/* tls_failed ends the step on a failed handshake, saying why as BoringSSL does. */
static enum sim_go tls_failed(struct sim_walk *w, const char *what) {
  char reason[160];
  sim__tls_reason(w, what, reason, sizeof reason);
  sim__set_str(&sim__cur(w)->tls_error, reason);
  return sim__step_end(w, SIM_R_TLS_FAILED, "TLS handshake with %s failed: %s", w->att.url.host,
                       reason);
}

static enum sim_go do_tls_setup(struct sim_walk *w) {
  const char *failed = sim__tls_new(w);
  if (failed != NULL) {
    return tls_failed(w, failed);
  }
  w->att.state = SIM_ATT_HANDSHAKE;
  arm_timeout(w, w->pol.tls_timeout_ms);
  return SIM_GO_NEXT;
}

static enum sim_go do_handshake(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  if (a->write_error != 0) {
    return sim__step_end(w, SIM_R_TLS_FAILED, "sending to %s failed: %s", a->url.host,
                         uv_strerror(a->write_error));
  }
  if (a->expired) {
    book_timeout(w);
    sim__set_str(&sim__cur(w)->tls_error, "timeout");
    return sim__step_end(w, SIM_R_TLS_FAILED,
                         "the TLS handshake did not finish within %u ms (lab time)",
                         w->pol.tls_timeout_ms);
  }
  int r = SSL_do_handshake(a->ssl);
  flush_tls(w);
  if (r == 1) {
    a->state = SIM_ATT_VERIFY;
    return SIM_GO_NEXT;
  }
  if (SSL_get_error(a->ssl, r) == SSL_ERROR_WANT_READ && !a->eof) {
    return SIM_GO_WAIT; /* for bytes */
  }
  return tls_failed(w, "handshake failed");
}

/* do_verify raises the Security Alert when a check the model prompts for failed (§2.3); a
 * check the model does not make (certificate_accepted) is noted and let pass. */
static enum sim_go do_verify(struct sim_walk *w) {
  if (w->inspect != NULL) {
    return sim__inspect_verify(w); /* facts, no prompt: the request goes out whatever they say */
  }
  struct sim_attempt *a = &w->att;
  struct sim_step *s = sim__cur(w);
  unsigned found = sim__tls_cert_failures(w);
  s->cert_failures = found;
  unsigned failures = found & ~w->pol.cert_accepted;
  if (failures != 0 && (failures & ~a->accepted_failures) == 0) {
    failures = 0; /* the user already said Yes to this certificate in this step (a 401 retry) */
  }
  unsigned passed = found & w->pol.cert_accepted;
  if (passed != 0 && a->note == NULL) {
    char note[160];
    buf_fmt(note, sizeof note, "%s accepted: this client does not check it",
            sim__cert_reason(passed));
    sim__set_str(&a->note, note);
  }
  if (failures != 0) {
    const char *reason = sim__cert_reason(failures);
    if ((failures & w->pol.cert_prompts) == 0) {
      sim__set_str(&s->tls_error, "certificate failed verification");
      return sim__step_end(w, SIM_R_TLS_FAILED,
                           "certificate problem (%s); this client fails silently", reason);
    }
    bool accepted = !w->cfg.answer_no_to_certificate_prompts;
    sim__add_prompt(w, SIM_PROMPT_CERTIFICATE, a->url.host, reason, failures,
                    sim__cert_prompt_text(a->url.host, failures), accepted, a->step);
    if (!accepted) {
      sim__set_str(&s->tls_error, "user declined the certificate");
      if (w->pol.cert_no == SIM_CERT_NO_ENDS_WALK) {
        w->state = SIM_WALK_FINISHING;
      }
      return sim__step_end(w, SIM_R_TLS_FAILED, "user declined the certificate (%s)%s", reason,
                           w->pol.cert_no == SIM_CERT_NO_ENDS_WALK
                               ? ": the whole Autodiscover run fails (certificate_no end-walk)"
                               : "");
    }
    a->accepted_failures |= failures;
  }
  a->state = SIM_ATT_SEND;
  return SIM_GO_NEXT;
}

static enum sim_go do_send(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  sim__http_start(w);
  a->state = SIM_ATT_RESPONSE;
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
    ok = conn_write(w, req.ptr, req.len);
  }
  buf_cleanup(&req);
  if (!ok) {
    ERR_clear_error();
    return sim__step_end(w, SIM_R_HTTP_FAILED, "the request to %s could not be sent", a->url.host);
  }
  /* Read at once: bytes that came with the server's last handshake flight are already in the
   * TLS buffer, and a server that answered and keeps the connection open sends nothing more
   * to wake us. do_response waits when there is nothing yet. */
  return SIM_GO_NEXT;
}

static enum sim_go do_response(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  if (a->write_error != 0) {
    return sim__step_end(w, SIM_R_HTTP_FAILED, "sending to %s failed: %s", a->url.host,
                         uv_strerror(a->write_error));
  }
  if (a->expired) {
    book_timeout(w);
    return sim__step_end(w, SIM_R_HTTP_FAILED, "no complete answer within %u ms (lab time)",
                         w->pol.http_timeout_ms);
  }
  if (a->ssl != NULL) {
    char chunk[16384];
    for (;;) {
      int n = SSL_read(a->ssl, chunk, sizeof chunk);
      if (n > 0) {
        sim__http_feed(w, chunk, (size_t) n);
        continue;
      }
      int err = SSL_get_error(a->ssl, n);
      if (err == SSL_ERROR_ZERO_RETURN) {
        a->eof = true;
      } else if (err != SSL_ERROR_WANT_READ && !a->message_done) {
        char reason[160];
        ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
        ERR_clear_error();
        return sim__step_end(w, SIM_R_HTTP_FAILED, "TLS failed while reading the answer: %s",
                             reason);
      }
      break;
    }
    ERR_clear_error();
  } else if (a->in.len > 0) {
    sim__http_feed(w, (const char *) a->in.ptr, a->in.len);
    a->in = (struct slice){NULL, 0};
  }
  if (a->message_done) {
    a->state = SIM_ATT_ANSWER;
    return SIM_GO_NEXT;
  }
  if (a->header_overflow) {
    return sim__step_end(w, SIM_R_HTTP_FAILED,
                         "the answer's headers are too large (over 64 KiB, or one "
                         "over 8 KiB)");
  }
  if (a->body_overflow) {
    return sim__step_end(w, SIM_R_NOT_AUTODISCOVER, "the answer body is over 1 MiB");
  }
  if (a->http_error != NULL) {
    return sim__step_end(w, SIM_R_HTTP_FAILED, "the answer is not HTTP: %s", a->http_error);
  }
  if (!a->eof) {
    return SIM_GO_WAIT;
  }
  llhttp_errno_t rc = a->read_error == 0 ? llhttp_finish(&a->parser) : HPE_OK;
  if ((rc == HPE_OK || rc == HPE_PAUSED) && a->message_done) {
    a->state = SIM_ATT_ANSWER; /* an answer delimited by the end of the connection */
    return SIM_GO_NEXT;
  }
  return sim__step_end(w, SIM_R_HTTP_FAILED, "connection closed before the answer was complete%s%s",
                       a->read_error != 0 ? ": " : "",
                       a->read_error != 0 ? uv_strerror(a->read_error) : "");
}

/* do_answer: settings end the walk, a redirect queues its target, a 401 asks again (back to
 * SIM_ATT_CONNECT), anything else ends the step (sim_answer.c). */
static enum sim_go do_answer(struct sim_walk *w) {
  if (w->inspect != NULL) {
    return sim__inspect_answer(w); /* recorded as it came: nothing followed, no 401 answered */
  }
  return sim__answer_http(w);
}

static enum sim_go do_srv(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
  a->state = SIM_ATT_AWAIT_SRV;
  a->timer_started = sim__lab_now(w);
  sim__resolve_srv(w, sim__cur(w)->host);
  return SIM_GO_NEXT; /* c-ares may have answered at once */
}

static enum sim_go do_await_srv(struct sim_walk *w) {
  if (!w->att.dns_done) {
    return SIM_GO_WAIT;
  }
  return sim__answer_srv(w);
}

void sim__advance(struct sim_walk *w) {
  if (w->advancing) {
    return; /* called back from inside a do_*: the loop below sees what the callback stored */
  }
  w->advancing = true;
  enum sim_go go = SIM_GO_NEXT;
  while (go == SIM_GO_NEXT) {
    enum sim_att_state before = w->att.state;
    switch (w->att.state) { /* one do_* per state; each sets the next state when it moves on */
      case SIM_ATT_IDLE: go = SIM_GO_WAIT; break;
      case SIM_ATT_RESOLVE: go = do_resolve(w); break;
      case SIM_ATT_AWAIT_A: go = do_await_a(w); break;
      case SIM_ATT_CONNECT: go = do_connect(w); break;
      case SIM_ATT_AWAIT_CONNECT: go = do_await_connect(w); break;
      case SIM_ATT_TLS_SETUP: go = do_tls_setup(w); break;
      case SIM_ATT_HANDSHAKE: go = do_handshake(w); break;
      case SIM_ATT_VERIFY: go = do_verify(w); break;
      case SIM_ATT_SEND: go = do_send(w); break;
      case SIM_ATT_RESPONSE: go = do_response(w); break;
      case SIM_ATT_ANSWER: go = do_answer(w); break;
      case SIM_ATT_SRV: go = do_srv(w); break;
      case SIM_ATT_AWAIT_SRV: go = do_await_srv(w); break;
    }
    if (go != SIM_GO_END && sim__att_state_doing(w->att.state) != sim__att_state_doing(before)) {
      sim__progress(w, sim__att_state_doing(w->att.state), false);
    }
  }
  w->advancing = false;
}

/* --- the attempt's end --- */

void sim__attempt_cleanup(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
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
  if (a->authorization != NULL) {
    OPENSSL_cleanse(a->authorization, strlen(a->authorization)); /* it may hold a password */
  }
  free(a->authorization);
  free(a->note);
  for (size_t i = 0; i < a->n_srv; i++) {
    free(a->srv[i].target);
  }
  free(a->srv);
  memset(a, 0, sizeof *a);
  a->state = SIM_ATT_IDLE;
}

void sim__attempt_reconnect(struct sim_walk *w) {
  struct sim_attempt *a = &w->att;
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
  a->write_error = 0;
  a->connected = false;
  a->expired = false;
  a->state = SIM_ATT_CONNECT;
}
