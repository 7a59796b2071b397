/* tests/unit/test_client_fixture.c: the client tests' DNS server, Autodiscover host and walk
 * runner (test_client_fixture.h). */
#include "tests/unit/test_client_fixture.h"

/* test_tls_selfsigned.h needs cmocka (testutil.h) first. */
#include "tests/unit/test_tls_selfsigned.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* --- DNS --- */

static void fake_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  static char mem[4096];
  *b = uv_buf_init(mem, sizeof mem);
}

static size_t put_name(uint8_t *p, const char *name) {
  size_t n = 0;
  for (const char *label = name; *label != '\0';) {
    size_t len = strcspn(label, ".");
    p[n++] = (uint8_t) len;
    memcpy(p + n, label, len);
    n += len;
    label += len + (label[len] == '.');
  }
  p[n++] = 0;
  return n;
}

static size_t put_srv(uint8_t *p, uint16_t prio, const char *target) {
  static const uint8_t head[] = {0xc0, 0x0c, 0, 33, 0, 1, 0, 0, 0, 60};
  memcpy(p, head, sizeof head);
  size_t n = sizeof head + 2;
  p[n++] = (uint8_t) (prio >> 8);
  p[n++] = (uint8_t) prio;
  p[n++] = 0;
  p[n++] = 10; /* weight */
  p[n++] = 443 >> 8;
  p[n++] = 443 & 0xff;
  n += put_name(p + n, target);
  size_t rdlen = n - sizeof head - 2;
  p[sizeof head] = (uint8_t) (rdlen >> 8);
  p[sizeof head + 1] = (uint8_t) rdlen;
  return n;
}

static void fake_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *b, const struct sockaddr *from,
                      unsigned flags) {
  struct fake_dns *f = h->data;
  if (nread < 12 || from == NULL) {
    return;
  }
  const uint8_t *q = (const uint8_t *) b->base;
  size_t i = 12;
  while (i < (size_t) nread && q[i] != 0) {
    i += q[i] + 1u;
  }
  if (i + 5 > (size_t) nread) {
    return;
  }
  uint16_t qtype = (uint16_t) (q[i + 1] << 8 | q[i + 2]);
  size_t qend = i + 5;
  uint8_t out[1024];
  memcpy(out, q, qend);
  out[2] = 0x81;
  out[3] = 0x80;
  memset(out + 6, 0, 6);
  size_t n = qend;
  if (qtype == 33) {
    out[7] = 2;
    n += put_srv(out + n, 0, "low.test");
    n += put_srv(out + n, 10, "high.test");
  } else {
    static const uint8_t a[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1};
    out[7] = 1;
    memcpy(out + n, a, sizeof a);
    n += sizeof a;
  }
  f->n_queries++;
  uv_buf_t ob = uv_buf_init((char *) out, (unsigned) n);
  uv_udp_try_send(h, &ob, 1, from);
}

void fake_dns_start(struct fake_dns *f, uv_loop_t *loop) {
  memset(f, 0, sizeof *f);
  assert_int_equal(uv_udp_init(loop, &f->udp), 0);
  f->udp.data = f;
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(uv_udp_bind(&f->udp, (const struct sockaddr *) &sin, 0), 0);
  int len = sizeof sin;
  assert_int_equal(uv_udp_getsockname(&f->udp, (struct sockaddr *) &sin, &len), 0);
  f->port = ntohs(sin.sin_port);
  assert_int_equal(uv_udp_recv_start(&f->udp, fake_alloc, fake_recv), 0);
}

int udp_port(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(fd, (struct sockaddr *) &sin, sizeof sin), 0);
  socklen_t len = sizeof sin;
  assert_int_equal(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
  *port = ntohs(sin.sin_port);
  return fd;
}

uint16_t refused_port(void) {
  uint16_t port;
  close(udp_port(&port)); /* nothing listens there any more */
  return port;
}

/* --- the Autodiscover host --- */

const char *const SETTINGS_XML =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<Autodiscover xmlns=\"" SIM_NS_RESPONSE "\"><Response xmlns=\"" SIM_NS_RESPONSE_A "\">"
    "<User><AutoDiscoverSMTPAddress>alice@127.0.0.1</AutoDiscoverSMTPAddress></User>"
    "<Account><Action>settings</Action><Protocol><Type>EXPR</Type><Server>mail.example</Server>"
    "<EwsUrl>https://mail.example/EWS/Exchange.asmx</EwsUrl></Protocol></Account></Response>"
    "</Autodiscover>";

const char *const ERROR_XML =
    "<Autodiscover xmlns=\"" SIM_NS_RESPONSE "\"><Response><Error><ErrorCode>500</ErrorCode>"
    "<Message>The email address can't be found.</Message></Error></Response></Autodiscover>";

const char *const LOOP_XML =
    "<Autodiscover xmlns=\"" SIM_NS_RESPONSE "\"><Response xmlns=\"" SIM_NS_RESPONSE_A "\">"
    "<Account><Action>redirectUrl</Action>"
    "<RedirectUrl>https://127.0.0.1/autodiscover/autodiscover.xml</RedirectUrl></Account>"
    "</Response></Autodiscover>";

static int conn_read(SSL *ssl, int fd, char *p, size_t len) {
  return ssl != NULL ? SSL_read(ssl, p, (int) len) : (int) read(fd, p, len);
}

static void serve_one(struct server *s, int fd) {
  SSL *ssl = NULL;
  if (s->tls) {
    ssl = SSL_new(s->ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
      goto out;
    }
  }
  char req[8192];
  size_t len = 0;
  const char *end = NULL;
  while (len < sizeof req - 1) { /* the head, then Content-Length bytes */
    int n = conn_read(ssl, fd, req + len, sizeof req - 1 - len);
    if (n <= 0) {
      goto out;
    }
    len += (size_t) n;
    req[len] = '\0';
    end = strstr(req, "\r\n\r\n");
    const char *cl = strstr(req, "Content-Length: ");
    if (end != NULL &&
        (cl == NULL || len >= (size_t) (end + 4 - req) + strtoul(cl + 16, NULL, 10))) {
      break;
    }
  }
  if (end == NULL) {
    goto out;
  }
  size_t head = (size_t) (end - req);
  if (s->requests_len + head + 1 < sizeof s->requests) {
    memcpy(s->requests + s->requests_len, req, head);
    s->requests_len += head;
    s->requests[s->requests_len++] = '\n';
  }
  char resp[4096];
  bool authorized = strstr(req, "\r\nAuthorization: ") != NULL;
  if (strncmp(req, "GET /autodiscover/autodiscover.xml ", 35) == 0) {
    buf_fmt(resp, sizeof resp,
            "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            s->root_location);
  } else if (strncmp(req, "GET /autodiscover/autodiscover.json?", 36) == 0) {
    const char *json = s->json != NULL ? s->json
                                       : "{\"Protocol\":\"AutodiscoverV1\",\"Url\":"
                                         "\"https://127.0.0.1/redirected/autodiscover.xml\"}";
    buf_fmt(resp, sizeof resp,
            "HTTP/1.1 %d OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
            s->json_status != 0 ? s->json_status : 200, strlen(json), json);
  } else if (strncmp(req, "POST /auth/", 11) == 0 &&
             (!authorized || strncmp(req, "POST /auth/never", 16) == 0)) {
    const char *path = req + 11;
    const char *challenge =
        strncmp(path, "basic", 5) == 0 ? "WWW-Authenticate: Basic realm=\"lab\"\r\n"
        : strncmp(path, "sso", 3) == 0 ? "WWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM\r\n"
        : strncmp(path, "bearer", 6) == 0
            ? "WWW-Authenticate: Bearer authorization_uri=\"https://login.example/\"\r\n"
            : "WWW-Authenticate: Basic realm=\"never\"\r\n";
    buf_fmt(resp, sizeof resp, "HTTP/1.1 401 Unauthorized\r\n%sContent-Length: 0\r\n\r\n",
            challenge);
  } else if (strncmp(req, "POST /auth/", 11) == 0) {
    buf_fmt(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
            strlen(SETTINGS_XML), SETTINGS_XML);
  } else if (strncmp(req, "POST /autodiscover/autodiscover.xml ", 36) == 0) {
    buf_fmt(resp, sizeof resp,
            "HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            s->root_location);
  } else if (strncmp(req, "POST /plain/autodiscover.xml ", 29) == 0) {
    buf_fmt(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n%s", SETTINGS_XML);
  } else if (strncmp(req, "POST /ru ", 9) == 0) {
    buf_fmt(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(LOOP_XML),
            LOOP_XML);
  } else if (strncmp(req, "POST /hugehead ", 15) == 0) {
    buf_fmt(resp, sizeof resp, "HTTP/1.1 200 OK\r\n");
    SSL_write(ssl, resp, (int) strlen(resp));
    memset(resp, 'x', 1000);
    memcpy(resp, "X-Pad: ", 7);
    memcpy(resp + 998, "\r\n", 2);
    for (int i = 0; i < 200 && SSL_write(ssl, resp, 1000) > 0; i++) {
    }
    buf_fmt(resp, sizeof resp, "\r\n");
  } else if (strncmp(req, "POST /slow ", 11) == 0) {
    usleep(150 * 1000);
    buf_fmt(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
            strlen(SETTINGS_XML), SETTINGS_XML);
  } else if (strncmp(req, "POST /err ", 10) == 0) {
    buf_fmt(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
            strlen(ERROR_XML), ERROR_XML);
  } else if (strncmp(req, "POST /redirected/autodiscover.xml ", 34) == 0) {
    buf_fmt(resp, sizeof resp,
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %zu\r\n"
            "Connection: close\r\n\r\n%s",
            strlen(SETTINGS_XML), SETTINGS_XML);
  } else {
    buf_fmt(resp, sizeof resp, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  }
  if (ssl != NULL) {
    SSL_write(ssl, resp, (int) strlen(resp));
    SSL_shutdown(ssl);
  } else {
    ssize_t n = write(fd, resp, strlen(resp));
    (void) n;
  }
out:
  SSL_free(ssl);
  close(fd);
}

/* write_all sends every byte or gives up. */
static bool write_all(int fd, const uint8_t *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n <= 0) {
      return false;
    }
    p += n;
    len -= (size_t) n;
  }
  return true;
}

/* flush_mem sends what the server's SSL wrote into its memory BIO in one write(). */
static bool flush_mem(BIO *wb, int fd) {
  const uint8_t *p = NULL;
  size_t len = 0;
  if (!BIO_mem_contents(wb, &p, &len) || len == 0) {
    return true;
  }
  bool ok = write_all(fd, p, len);
  BIO_reset(wb);
  return ok;
}

/* serve_eager speaks TLS 1.2 over memory BIOs and sends the settings answer together with its
 * last handshake flight (ChangeCipherSpec, Finished), before any request, in one write: the
 * client finishes its handshake with the answer already buffered. Then it stays silent, the
 * connection open, until the client closes it — as a server that answered and keeps the
 * connection alive does. */
static void serve_eager(struct server *s, int fd) {
  SSL *ssl = SSL_new(s->ctx);
  BIO *rb = BIO_new(BIO_s_mem());
  BIO *wb = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rb, -1);
  SSL_set_bio(ssl, rb, wb);
  SSL_set_accept_state(ssl);
  SSL_set_max_proto_version(ssl, TLS1_2_VERSION);
  char in[16384];
  for (;;) {
    int r = SSL_do_handshake(ssl);
    if (r == 1) {
      break;
    }
    ssize_t n;
    if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ || !flush_mem(wb, fd) ||
        (n = read(fd, in, sizeof in)) <= 0) {
      goto out;
    }
    BIO_write(rb, in, (int) n);
  }
  char resp[4096];
  buf_fmt(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
          strlen(SETTINGS_XML), SETTINGS_XML);
  SSL_write(ssl, resp, (int) strlen(resp));
  if (flush_mem(wb, fd)) {
    while (read(fd, in, sizeof in) > 0) {
    }
  }
out:
  SSL_free(ssl);
  close(fd);
}

static void *server_main(void *arg) {
  struct server *s = arg;
  for (;;) {
    int fd = accept(s->fd, NULL, NULL);
    if (fd < 0) {
      return NULL; /* shut down */
    }
    s->n_conns++;
    if (s->garbage) {
      static const char junk[] = "HTTP/1.0 400 Bad Request\r\n\r\n";
      ssize_t n = write(fd, junk, sizeof junk - 1);
      (void) n;
      close(fd);
      continue;
    }
    if (s->eager) {
      serve_eager(s, fd);
    } else {
      serve_one(s, fd);
    }
  }
}

/* listen_any opens the host's socket on 127.0.0.1, any port. The hosts write to clients that
 * may have gone: SIGPIPE is ignored from here on. */
static void listen_any(struct server *s) {
  signal(SIGPIPE, SIG_IGN);
  s->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(s->fd, (struct sockaddr *) &sin, sizeof sin), 0);
  assert_int_equal(listen(s->fd, 8), 0);
  socklen_t len = sizeof sin;
  assert_int_equal(getsockname(s->fd, (struct sockaddr *) &sin, &len), 0);
  s->port = ntohs(sin.sin_port);
}

void plain_start(struct server *s, bool garbage, const char *root_location) {
  memset(s, 0, sizeof *s);
  s->garbage = garbage;
  s->root_location = root_location;
  listen_any(s);
  assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
  s->running = true;
}

static void tls_start(struct server *s, const char *root_location, bool eager) {
  memset(s, 0, sizeof *s);
  s->tls = true;
  s->eager = eager;
  s->root_location = root_location;
  s->dir = test_tmpdir("client-e2e");
  assert_true(buf_fmt(s->pem, sizeof s->pem, "%s/trust.pem", s->dir));
  X509 *cert = NULL;
  EVP_PKEY *key = NULL;
  test_selfsigned("mail.example", &cert, &key);
  s->ctx = SSL_CTX_new(TLS_method());
  assert_int_equal(SSL_CTX_use_certificate(s->ctx, cert), 1);
  assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, key), 1);
  BIO *f = BIO_new_file(s->pem, "w");
  assert_non_null(f);
  assert_int_equal(PEM_write_bio_X509(f, cert), 1);
  BIO_free(f);
  X509_free(cert);
  EVP_PKEY_free(key);
  listen_any(s);
  assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
  s->running = true;
}

void server_start(struct server *s, const char *root_location) {
  tls_start(s, root_location, false);
}

void eager_start(struct server *s) {
  tls_start(s, NULL, true);
}

void silent_listener(struct server *s) {
  memset(s, 0, sizeof *s);
  listen_any(s);
}

void server_stop(struct server *s) {
  if (s->running) {
    shutdown(s->fd, SHUT_RDWR);
    pthread_join(s->thread, NULL);
    s->running = false;
  }
  close(s->fd);
  SSL_CTX_free(s->ctx);
  s->ctx = NULL;
  if (s->dir != NULL) {
    test_rmtree(s->dir);
    free(s->dir);
    s->dir = NULL;
  }
}

bool map_to_server(void *arg, const struct sockaddr *want, struct sockaddr_storage *out) {
  struct servers *ss = arg;
  const struct sockaddr_in *sin = (const struct sockaddr_in *) want;
  struct server *s = NULL;
  if (want->sa_family == AF_INET && ntohs(sin->sin_port) == 443) {
    s = ss->tls;
  } else if (want->sa_family == AF_INET && ntohs(sin->sin_port) == 80) {
    s = ss->plain;
  }
  if (s == NULL) {
    return false;
  }
  memcpy(out, sin, sizeof *sin);
  ((struct sockaddr_in *) out)->sin_port = htons(s->port);
  return true;
}

/* --- the walk --- */

void env_init(struct sim_env *env, uv_loop_t *loop, uint16_t dns_port, unsigned timeout_ms) {
  memset(env, 0, sizeof *env);
  env->loop = loop;
  struct sockaddr_in *sin = (struct sockaddr_in *) &env->dns;
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin->sin_port = htons(dns_port);
  env->timeout_ms = timeout_ms;
}

void walk_done(void *arg, struct sim_transcript *t) {
  struct walk_result *r = arg;
  r->t = t;
  r->n_done++;
  if (r->fake != NULL) {
    uv_close((uv_handle_t *) &r->fake->udp, NULL);
  }
}

struct sim_transcript *walk_run(const struct walk *w) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct labclock clock;
  struct fake_dns fake;
  uint16_t dns_port = w->dns_port != 0 ? w->dns_port : refused_port();
  if (w->fake_dns) {
    fake_dns_start(&fake, &loop);
    dns_port = fake.port;
  }
  struct sim_env env;
  env_init(&env, &loop, dns_port, w->timeout_ms != 0 || w->lab_clock ? w->timeout_ms : 2000);
  if (w->lab_clock) {
    labclock_init(&clock, &loop, 1000);
    env.clock = &clock;
  }
  struct servers servers = w->servers;
  env.map = map_to_server;
  env.map_arg = &servers;
  env.trust_pem = w->trust;
  env.scp_urls = w->scp_urls;
  env.n_scp_urls = w->n_scp_urls;
  env.real_credentials = w->real_credentials;
  env.username = w->username;
  env.password = w->password;
  env.progress = w->progress;
  env.progress_arg = w->progress_arg;
  char *journal = NULL;
  size_t journal_len = 0;
  FILE *mem = NULL;
  if (w->out_journal != NULL) {
    mem = open_memstream(&journal, &journal_len);
    env.jnl = jnl_open_stream(mem);
  }
  struct walk_result r = {.fake = w->fake_dns ? &fake : NULL};
  struct sim_walk *walk = NULL;
  char err[512] = "";
  uint64_t t0 = uv_hrtime();
  assert_int_equal(sim_walk_start(&walk, &env, w->model, w->cfg,
                                  w->email != NULL ? w->email : "alice@127.0.0.1", walk_done, &r,
                                  err, sizeof err),
                   SIM_OK);
  assert_string_equal(err, "");
  assert_non_null(walk);
  assert_int_equal(r.n_done, 0); /* never from inside sim_walk_start */
  uv_run(&loop, UV_RUN_DEFAULT);
  if (w->out_real_ms != NULL) {
    *w->out_real_ms = (double) (uv_hrtime() - t0) / 1e6;
  }
  assert_int_equal(r.n_done, 1);
  assert_non_null(r.t);
  test_loop_close(&loop);
  if (w->out_journal != NULL) {
    jnl_close(env.jnl);
    fclose(mem);
    *w->out_journal = journal;
  }
  if (w->out_dns_queries != NULL) {
    *w->out_dns_queries = w->fake_dns ? fake.n_queries : 0;
  }
  return r.t;
}

/* --- models --- */

struct sim_model classic(void) {
  struct sim_model m = *sim_model_named("outlook-2016-msi");
  m.steps[0] = SIM_STEP_HTTPS_ROOT;
  m.steps[1] = SIM_STEP_HTTPS_AUTODISCOVER;
  m.steps[2] = SIM_STEP_HTTP_REDIRECT;
  m.steps[3] = SIM_STEP_SRV;
  m.n_steps = 4;
  return m;
}

struct sim_model one_step(const char *base, enum sim_step_kind k) {
  struct sim_model m = *sim_model_named(base);
  m.steps[0] = k;
  m.n_steps = 1;
  return m;
}

struct sim_model root_only(void) {
  return one_step("outlook-2016-msi", SIM_STEP_HTTPS_ROOT);
}

struct scn_client settings_of(const char *assignments, ...) {
  char text[4096];
  va_list ap;
  va_start(ap, assignments);
  vsnprintf(text, sizeof text, assignments, ap);
  va_end(ap);
  struct scn_client c = {0};
  for (char *save = NULL, *tok = strtok_r(text, " ", &save); tok != NULL;
       tok = strtok_r(NULL, " ", &save)) {
    char err[4096];
    if (scn_client_set(&c, tok, err, sizeof err) != SCN_OK) {
      fail_msg("%s", err);
    }
  }
  return c;
}
