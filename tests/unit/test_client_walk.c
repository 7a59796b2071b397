/* tests/unit/test_client_walk.c: a client model walking over real sockets (client/sim_walk.c):
 * against a DNS server that never answers or refuses, and end to end against a small TLS
 * server in a thread, reached through an address-literal domain so no DNS is needed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* test_tls_selfsigned.h needs cmocka (testutil.h) first. */
/* clang-format off */
#include "client/internal.h"
#include "tests/unit/testutil.h"
#include "tests/unit/test_tls_selfsigned.h"
/* clang-format on */

/* A DNS server on the test's loop that answers every A query with 127.0.0.1 and every SRV
 * query with two records (priority 0 low.test, priority 10 high.test, port 443). A test
 * fixture: the lab's real DNS server lives in another module. */
struct fake_dns {
  uv_udp_t udp;
  uint16_t port;
  int n_queries;
};

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

static void fake_dns_start(struct fake_dns *f, uv_loop_t *loop) {
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

struct result {
  struct sim_transcript *t;
  int n_done;
  struct fake_dns *fake; /* closed when the walk is done, or NULL */
};

static void on_done(void *arg, struct sim_transcript *t) {
  struct result *r = arg;
  r->t = t;
  r->n_done++;
  if (r->fake != NULL) {
    uv_close((uv_handle_t *) &r->fake->udp, NULL);
  }
}

/* udp_port binds a UDP socket on 127.0.0.1 and returns its fd (kept open: a server that
 * never answers) and port. */
static int udp_port(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(fd, (struct sockaddr *) &sin, sizeof sin), 0);
  socklen_t len = sizeof sin;
  assert_int_equal(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
  *port = ntohs(sin.sin_port);
  return fd;
}

static void env_init(struct sim_env *env, uv_loop_t *loop, uint16_t dns_port, unsigned timeout) {
  memset(env, 0, sizeof *env);
  env->loop = loop;
  struct sockaddr_in *sin = (struct sockaddr_in *) &env->dns;
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin->sin_port = htons(dns_port);
  env->timeout_ms = timeout;
}

static void test_dns_timeout_every_step(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  uint16_t port;
  int silent = udp_port(&port);
  struct sim_env env;
  env_init(&env, &loop, port, 200);
  char *journal = NULL;
  size_t journal_len = 0;
  FILE *mem = open_memstream(&journal, &journal_len);
  env.jnl = jnl_open_stream(mem);
  struct scn_client cfg = {.exclude_https_root_domain = true};
  struct result r = {0};
  struct sim_walk *w = NULL;
  uint64_t t0 = uv_hrtime();
  assert_int_equal(sim_walk_start(&w, &env, sim_model_named("mso-xdscli"), &cfg,
                                  "alice@contoso.com", on_done, &r, NULL, 0),
                   0);
  assert_non_null(w);
  assert_int_equal(r.n_done, 0); /* never from inside sim_walk_start */
  uv_run(&loop, UV_RUN_DEFAULT);
  double ms = (double) (uv_hrtime() - t0) / 1e6;
  assert_int_equal(r.n_done, 1);
  struct sim_transcript *t = r.t;
  assert_non_null(t);
  assert_false(t->success);
  assert_string_equal(t->client, "mso-xdscli");
  assert_int_equal(t->n_steps, 5);
  assert_int_equal(t->steps[0].result, SIM_R_SKIPPED); /* scp: not domain-joined */
  assert_non_null(strstr(t->steps[0].detail, "not domain-joined"));
  assert_int_equal(t->steps[1].result, SIM_R_SKIPPED);
  assert_string_equal(t->steps[1].url, "https://contoso.com/autodiscover/autodiscover.xml");
  assert_non_null(strstr(t->steps[1].detail, "ExcludeHttpsRootDomain"));
  const char *names[] = {"scp", "https-root", "https-autodiscover", "srv", "http-redirect"};
  for (size_t i = 0; i < 5; i++) {
    assert_string_equal(t->steps[i].name, names[i]);
    if (i > 1) {
      assert_int_equal(t->steps[i].result, SIM_R_DNS_FAILED);
      assert_string_equal(t->steps[i].dns_error, "timeout");
      assert_true(t->steps[i].timed_out);
      assert_true(t->steps[i].elapsed_ms >= 150);
    } else {
      assert_false(t->steps[i].timed_out);
    }
  }
  assert_string_equal(t->steps[2].host, "autodiscover.contoso.com");
  assert_string_equal(t->steps[3].host, "_autodiscover._tcp.contoso.com");
  assert_int_equal(t->n_prompts, 0);
  assert_true(ms < 3000);
  test_loop_close(&loop);
  jnl_close(env.jnl);
  fclose(mem);
  size_t n_start = 0;
  for (const char *p = journal; (p = strstr(p, "\"ev\":\"step.start\"")) != NULL; p++) {
    n_start++;
  }
  assert_int_equal(n_start, 5);
  assert_non_null(strstr(journal, "\"ev\":\"result\""));
  assert_non_null(strstr(journal, "\"result\":\"dns-failed\""));
  free(journal);
  sim_transcript_free(t);
  close(silent);
}

static void test_dns_refused_is_quick(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  uint16_t port;
  close(udp_port(&port)); /* nothing listens there any more */
  struct sim_env env;
  env_init(&env, &loop, port, 5000);
  struct result r = {0};
  struct sim_walk *w = NULL;
  uint64_t t0 = uv_hrtime();
  assert_int_equal(sim_walk_start(&w, &env, sim_model_named("outlook-2016-msi"), NULL,
                                  "bob@fabrikam.com", on_done, &r, NULL, 0),
                   0);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(r.n_done, 1);
  assert_true((double) (uv_hrtime() - t0) / 1e6 < 4000);
  struct sim_transcript *t = r.t;
  /* KB 3211279 without the Office 365 steps; nothing cached, not domain-joined, no XML file */
  const char *names[] = {"last-known-good", "scp",           "https-root", "https-autodiscover",
                         "local-xml",       "http-redirect", "srv"};
  assert_int_equal(t->n_steps, 7);
  for (size_t i = 0; i < t->n_steps; i++) {
    assert_string_equal(t->steps[i].name, names[i]);
    if (i == 0 || i == 1 || i == 4) {
      assert_int_equal(t->steps[i].result, SIM_R_SKIPPED);
      continue;
    }
    assert_int_equal(t->steps[i].result, SIM_R_DNS_FAILED);
    assert_non_null(t->steps[i].dns_error);
  }
  test_loop_close(&loop);
  sim_transcript_free(t);
}

static void test_bad_arguments(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct sim_env env;
  env_init(&env, &loop, 53, 0);
  struct result r = {0};
  struct sim_walk *w = NULL;
  const struct sim_model *m = sim_model_named("mso-xdscli");
  assert_int_equal(sim_walk_start(&w, &env, m, NULL, "no-at-sign", on_done, &r, NULL, 0),
                   SIM_EINVAL);
  assert_int_equal(sim_walk_start(&w, &env, m, NULL, "alice@", on_done, &r, NULL, 0), SIM_EINVAL);
  assert_int_equal(sim_walk_start(&w, &env, NULL, NULL, "a@b.c", on_done, &r, NULL, 0), SIM_EINVAL);
  env.trust_pem = "/nonexistent/ca.pem";
  assert_int_equal(sim_walk_start(&w, &env, m, NULL, "a@b.c", on_done, &r, NULL, 0), SIM_EIO);
  assert_null(w);
  test_loop_close(&loop);
}

/* --- end to end: a TLS server in a thread --- */

struct server {
  bool tls;
  bool garbage;              /* answer every connection with plain text at once, then close */
  const char *root_location; /* where POST /autodiscover/autodiscover.xml sends the client (and
                                GET, with a 302) */
  const char *json;          /* the AutoDV2 answer, or NULL: a good one */
  int json_status;           /* its status, 0: 200 */
  int fd;
  uint16_t port;
  SSL_CTX *ctx;
  pthread_t thread;
  char requests[16384]; /* every request head, one after the other */
  size_t requests_len;
  int n_conns;
};

static const char *SETTINGS_XML =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<Autodiscover xmlns=\"" SIM_NS_RESPONSE "\"><Response xmlns=\"" SIM_NS_RESPONSE_A "\">"
    "<User><AutoDiscoverSMTPAddress>alice@127.0.0.1</AutoDiscoverSMTPAddress></User>"
    "<Account><Action>settings</Action><Protocol><Type>EXPR</Type><Server>mail.example</Server>"
    "<EwsUrl>https://mail.example/EWS/Exchange.asmx</EwsUrl></Protocol></Account></Response>"
    "</Autodiscover>";

static const char *ERROR_XML =
    "<Autodiscover xmlns=\"" SIM_NS_RESPONSE "\"><Response><Error><ErrorCode>500</ErrorCode>"
    "<Message>The email address can't be found.</Message></Error></Response></Autodiscover>";

static const char *LOOP_XML =
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
    serve_one(s, fd);
  }
}

static void listen_any(struct server *s) {
  s->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(s->fd, (struct sockaddr *) &sin, sizeof sin), 0);
  assert_int_equal(listen(s->fd, 8), 0);
  socklen_t len = sizeof sin;
  assert_int_equal(getsockname(s->fd, (struct sockaddr *) &sin, &len), 0);
  s->port = ntohs(sin.sin_port);
}

static void plain_start_at(struct server *s, bool garbage, const char *location) {
  memset(s, 0, sizeof *s);
  s->garbage = garbage;
  s->root_location = location;
  listen_any(s);
  assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void plain_start(struct server *s, bool garbage) {
  plain_start_at(s, garbage, NULL);
}

static void server_start(struct server *s, const char *pem_path, const char *root_location) {
  memset(s, 0, sizeof *s);
  s->tls = true;
  s->root_location = root_location;
  X509 *cert = NULL;
  EVP_PKEY *key = NULL;
  test_selfsigned("mail.example", &cert, &key);
  s->ctx = SSL_CTX_new(TLS_method());
  assert_int_equal(SSL_CTX_use_certificate(s->ctx, cert), 1);
  assert_int_equal(SSL_CTX_use_PrivateKey(s->ctx, key), 1);
  BIO *f = BIO_new_file(pem_path, "w");
  assert_non_null(f);
  assert_int_equal(PEM_write_bio_X509(f, cert), 1);
  BIO_free(f);
  X509_free(cert);
  EVP_PKEY_free(key);
  listen_any(s);
  assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(struct server *s) {
  shutdown(s->fd, SHUT_RDWR);
  pthread_join(s->thread, NULL);
  close(s->fd);
  SSL_CTX_free(s->ctx);
}

struct servers {
  struct server *tls;   /* behind 127.0.0.1:443 */
  struct server *plain; /* behind 127.0.0.1:80, or NULL */
};

/* map sends 127.0.0.1:443 and :80 to the servers, as the lab's port map does. */
static bool map_to_server(void *arg, const struct sockaddr *want, struct sockaddr_storage *out) {
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

/* walk_cfg walks `m` for alice@127.0.0.1 with settings `cfg` against the servers, the DNS
 * server at dns_port and the SCP URLs given; `fake` (may be NULL) is closed when the walk ends. */
static struct sim_transcript *walk_cfg(struct servers *s, const struct sim_model *m,
                                       const char *trust, const struct scn_client *cfg,
                                       uint16_t dns_port, char *const *scp, size_t n_scp,
                                       struct fake_dns *fake) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  if (fake != NULL) {
    fake_dns_start(fake, &loop);
    dns_port = fake->port;
  }
  struct sim_env env;
  env_init(&env, &loop, dns_port, 2000);
  env.map = map_to_server;
  env.map_arg = s;
  env.trust_pem = trust;
  env.scp_urls = scp;
  env.n_scp_urls = n_scp;
  struct result r = {.fake = fake};
  struct sim_walk *w = NULL;
  assert_int_equal(sim_walk_start(&w, &env, m, cfg, "alice@127.0.0.1", on_done, &r, NULL, 0), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(r.n_done, 1);
  test_loop_close(&loop);
  return r.t;
}

static struct sim_transcript *walk_model(struct servers *s, const struct sim_model *m,
                                         const char *trust, bool answer_no, uint16_t dns_port) {
  struct scn_client cfg = {.answer_no_to_certificate_prompts = answer_no};
  return walk_cfg(s, m, trust, &cfg, dns_port, NULL, 0, NULL);
}

/* classic is outlook-2016-msi's network steps alone: root, autodiscover., HTTP, SRV. */
static struct sim_model classic(void) {
  struct sim_model m = *sim_model_named("outlook-2016-msi");
  m.steps[0] = SIM_STEP_HTTPS_ROOT;
  m.steps[1] = SIM_STEP_HTTPS_AUTODISCOVER;
  m.steps[2] = SIM_STEP_HTTP_REDIRECT;
  m.steps[3] = SIM_STEP_SRV;
  m.n_steps = 4;
  return m;
}

static struct sim_transcript *walk_e2e(struct server *s, const char *trust, bool answer_no,
                                       uint16_t dns_port) {
  struct servers ss = {s, NULL};
  struct sim_model m = classic();
  return walk_model(&ss, &m, trust, answer_no, dns_port);
}

static void test_e2e_prompt_redirect_settings(void **state) {
  char *dir = test_tmpdir("client-e2e");
  char pem[4096];
  buf_fmt(pem, sizeof pem, "%s/trust.pem", dir);
  struct server s;
  server_start(&s, pem, "/redirected/autodiscover.xml");
  uint16_t dns_port;
  close(udp_port(&dns_port));
  struct sim_transcript *t = walk_e2e(&s, pem, false, dns_port);
  server_stop(&s);

  assert_true(t->success);
  assert_int_equal(t->n_steps, 2);
  struct sim_step *root = &t->steps[0];
  assert_string_equal(root->name, "https-root");
  assert_string_equal(root->url, "https://127.0.0.1/autodiscover/autodiscover.xml");
  assert_int_equal(root->result, SIM_R_REDIRECT);
  assert_int_equal(root->http_status, 302);
  assert_string_equal(root->redirect_to, "https://127.0.0.1/redirected/autodiscover.xml");
  assert_int_equal(root->cert_failures, SIM_CERT_NAME); /* trusted, in date, wrong name */
  assert_string_equal(root->cert_subject, "mail.example");
  assert_string_equal(root->cert_issuer, "mail.example");
  assert_string_equal(root->dns_answer, "127.0.0.1");
  struct sim_step *red = &t->steps[1];
  assert_string_equal(red->name, "redirect");
  assert_int_equal(red->result, SIM_R_SETTINGS);
  assert_int_equal(red->http_status, 200);
  assert_string_equal(t->final_url, "https://127.0.0.1/redirected/autodiscover.xml");
  assert_string_equal(t->ews_url, "https://mail.example/EWS/Exchange.asmx");
  assert_string_equal(t->server, "mail.example");
  assert_string_equal(t->settings_email, "alice@127.0.0.1");
  assert_int_equal(t->n_prompts, 2);
  assert_int_equal(t->prompts[0].kind, SIM_PROMPT_CERTIFICATE);
  assert_string_equal(t->prompts[0].host, "127.0.0.1");
  assert_string_equal(t->prompts[0].reason, "name");
  assert_true(t->prompts[0].accepted);
  assert_int_equal(t->prompts[0].step, 0);
  assert_int_equal(t->prompts[1].step, 1);
  /* the requests as Outlook sends them */
  assert_non_null(strstr(s.requests, "POST /autodiscover/autodiscover.xml HTTP/1.1\r\n"
                                     "Host: 127.0.0.1\r\nContent-Type: text/xml\r\n"));
  assert_non_null(strstr(s.requests, "X-AnchorMailbox: alice@127.0.0.1\r\n"));
  assert_non_null(strstr(s.requests, "POST /redirected/autodiscover.xml HTTP/1.1\r\n"));
  sim_transcript_free(t);
  test_rmtree(dir);
  free(dir);
}

static void test_e2e_user_says_no(void **state) {
  char *dir = test_tmpdir("client-e2e");
  char pem[4096];
  buf_fmt(pem, sizeof pem, "%s/trust.pem", dir);
  struct server s;
  server_start(&s, pem, "/redirected/autodiscover.xml");
  uint16_t dns_port;
  close(udp_port(&dns_port));
  struct sim_transcript *t = walk_e2e(&s, NULL, true, dns_port); /* nothing trusted */
  server_stop(&s);

  assert_false(t->success);
  assert_int_equal(t->n_steps, 4);
  assert_int_equal(t->steps[0].result, SIM_R_TLS_FAILED);
  assert_string_equal(t->steps[0].tls_error, "user declined the certificate");
  assert_int_equal(t->steps[0].cert_failures, SIM_CERT_UNTRUSTED | SIM_CERT_NAME);
  assert_int_equal(t->n_prompts, 1);
  assert_string_equal(t->prompts[0].reason, "name");
  assert_false(t->prompts[0].accepted);
  assert_int_equal(s.requests_len, 0); /* nothing was sent after No */
  for (size_t i = 1; i < 4; i++) {     /* autodiscover.127.0.0.1 and the SRV name need DNS */
    assert_int_equal(t->steps[i].result, SIM_R_DNS_FAILED);
  }
  sim_transcript_free(t);
  test_rmtree(dir);
  free(dir);
}

/* e2e_setup starts the TLS server and a DNS port that refuses; returns the tmp dir. */
static char *e2e_setup(struct server *s, char *pem, size_t pem_size, const char *root_location,
                       uint16_t *dns_port) {
  char *dir = test_tmpdir("client-e2e");
  buf_fmt(pem, pem_size, "%s/trust.pem", dir);
  server_start(s, pem, root_location);
  close(udp_port(dns_port));
  return dir;
}

static void e2e_teardown(char *dir, struct sim_transcript *t) {
  sim_transcript_free(t);
  test_rmtree(dir);
  free(dir);
}

/* root_only is a model that tries the root step alone, with redirects to http allowed or not. */
static struct sim_model root_only(bool https_only) {
  struct sim_model m = *sim_model_named("outlook-2016-msi");
  m.steps[0] = SIM_STEP_HTTPS_ROOT;
  m.n_steps = 1;
  m.policy.https_only_redirects = https_only;
  return m;
}

static void test_e2e_redirect_to_http_is_refused(void **state) {
  struct server s;
  char pem[4096];
  uint16_t dns_port;
  char *dir = e2e_setup(&s, pem, sizeof pem, "http://127.0.0.1/plain/autodiscover.xml", &dns_port);
  struct sim_transcript *t = walk_e2e(&s, pem, false, dns_port);
  server_stop(&s);
  assert_false(t->success);
  assert_int_equal(t->steps[0].result, SIM_R_REJECTED);
  assert_int_equal(t->steps[0].http_status, 302);
  assert_string_equal(t->steps[0].redirect_to, "http://127.0.0.1/plain/autodiscover.xml");
  assert_non_null(strstr(t->steps[0].detail, "not https"));
  assert_string_equal(t->steps[1].name, "https-autodiscover"); /* the walk went on */
  e2e_teardown(dir, t);
}

static void test_e2e_plain_http_when_allowed(void **state) {
  struct server s, plain;
  char pem[4096];
  uint16_t dns_port;
  char *dir = e2e_setup(&s, pem, sizeof pem, "http://127.0.0.1/plain/autodiscover.xml", &dns_port);
  plain_start(&plain, false);
  struct servers ss = {&s, &plain};
  struct sim_model m = root_only(false);
  struct sim_transcript *t = walk_model(&ss, &m, pem, false, dns_port);
  server_stop(&s);
  server_stop(&plain);
  assert_true(t->success);
  assert_int_equal(t->n_steps, 2);
  assert_int_equal(t->steps[0].result, SIM_R_REDIRECT);
  assert_int_equal(t->steps[1].result, SIM_R_SETTINGS); /* body ended by the connection's end */
  assert_int_equal(t->steps[1].cert_failures, 0);
  assert_null(t->steps[1].cert_subject);
  assert_string_equal(t->final_url, "http://127.0.0.1/plain/autodiscover.xml");
  assert_int_equal(t->n_prompts, 1); /* only the TLS root raised the Security Alert */
  assert_non_null(strstr(plain.requests, "POST /plain/autodiscover.xml HTTP/1.1\r\n"));
  e2e_teardown(dir, t);
}

static void test_e2e_redirect_loop(void **state) {
  struct server s;
  char pem[4096];
  uint16_t dns_port;
  char *dir = e2e_setup(&s, pem, sizeof pem, "/ru", &dns_port);
  struct sim_model m = root_only(true);
  struct servers ss = {&s, NULL};
  struct sim_transcript *t = walk_model(&ss, &m, pem, false, dns_port);
  server_stop(&s);
  assert_false(t->success);
  assert_int_equal(t->n_steps, 2);
  assert_int_equal(t->steps[0].result, SIM_R_REDIRECT);
  assert_string_equal(t->steps[0].redirect_to, "https://127.0.0.1/ru");
  assert_int_equal(t->steps[1].result, SIM_R_REJECTED);
  assert_string_equal(t->steps[1].redirect_to, "https://127.0.0.1/autodiscover/autodiscover.xml");
  assert_non_null(strstr(t->steps[1].detail, "loop"));
  e2e_teardown(dir, t);
}

static void test_e2e_xml_error_goes_on(void **state) {
  struct server s;
  char pem[4096];
  uint16_t dns_port;
  char *dir = e2e_setup(&s, pem, sizeof pem, "/err", &dns_port);
  struct sim_transcript *t = walk_e2e(&s, pem, false, dns_port);
  server_stop(&s);
  assert_false(t->success);
  assert_int_equal(t->steps[1].result, SIM_R_XML_ERROR);
  assert_int_equal(t->steps[1].error_code, 500);
  assert_non_null(strstr(t->steps[1].detail, "assum"));
  assert_int_equal(t->n_steps, 5); /* root, its redirect, then the other three steps */
  assert_string_equal(t->steps[2].name, "https-autodiscover");
  e2e_teardown(dir, t);
}

static void test_e2e_huge_head(void **state) {
  struct server s;
  char pem[4096];
  uint16_t dns_port;
  char *dir = e2e_setup(&s, pem, sizeof pem, "/hugehead", &dns_port);
  struct sim_model m = root_only(true);
  struct servers ss = {&s, NULL};
  struct sim_transcript *t = walk_model(&ss, &m, pem, false, dns_port);
  server_stop(&s);
  assert_int_equal(t->n_steps, 2);
  assert_int_equal(t->steps[1].result, SIM_R_HTTP_FAILED);
  assert_non_null(strstr(t->steps[1].detail, "too large"));
  e2e_teardown(dir, t);
}

static void test_tls_timeout(void **state) {
  struct server s; /* listens, never accepts: the handshake gets no answer */
  memset(&s, 0, sizeof s);
  listen_any(&s);
  uint16_t dns_port;
  close(udp_port(&dns_port));
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct sim_env env;
  env_init(&env, &loop, dns_port, 300);
  struct servers ss = {&s, NULL};
  env.map = map_to_server;
  env.map_arg = &ss;
  struct sim_model m = root_only(true);
  struct result r = {0};
  struct sim_walk *w = NULL;
  assert_int_equal(sim_walk_start(&w, &env, &m, NULL, "alice@127.0.0.1", on_done, &r, NULL, 0), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  close(s.fd);
  assert_int_equal(r.n_done, 1);
  assert_int_equal(r.t->n_steps, 1);
  assert_int_equal(r.t->steps[0].result, SIM_R_TLS_FAILED);
  assert_string_equal(r.t->steps[0].tls_error, "timeout");
  assert_true(r.t->steps[0].elapsed_ms >= 250);
  sim_transcript_free(r.t);
}

static void test_tls_handshake_failure(void **state) {
  struct server s;
  plain_start(&s, true);
  uint16_t dns_port;
  close(udp_port(&dns_port));
  struct servers ss = {&s, NULL};
  struct sim_model m = root_only(true);
  struct sim_transcript *t = walk_model(&ss, &m, NULL, false, dns_port);
  server_stop(&s);
  assert_int_equal(t->n_steps, 1);
  assert_int_equal(t->steps[0].result, SIM_R_TLS_FAILED);
  assert_non_null(t->steps[0].tls_error);
  assert_string_not_equal(t->steps[0].tls_error, "timeout");
  assert_int_equal(t->n_prompts, 0);
  sim_transcript_free(t);
}

static void test_connect_refused(void **state) {
  struct server s;
  memset(&s, 0, sizeof s);
  listen_any(&s);
  close(s.fd); /* the port is free again: connecting is refused */
  uint16_t dns_port;
  close(udp_port(&dns_port));
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct sim_env env;
  env_init(&env, &loop, dns_port, 2000);
  struct servers ss = {&s, NULL};
  env.map = map_to_server;
  env.map_arg = &ss;
  struct sim_model m = root_only(true);
  struct result r = {0};
  struct sim_walk *w = NULL;
  assert_int_equal(sim_walk_start(&w, &env, &m, NULL, "alice@127.0.0.1", on_done, &r, NULL, 0), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  assert_int_equal(r.t->steps[0].result, SIM_R_CONNECT_FAILED);
  assert_string_equal(r.t->steps[0].connect_error, "refused");
  sim_transcript_free(r.t);
}

/* --- the lab clock --- */

/* A server that accepts (the kernel does, from the backlog) and never says a word. */
static void silent_listener(struct server *s) {
  memset(s, 0, sizeof *s);
  listen_any(s);
}

static struct sim_transcript *walk_clocked(struct servers *ss, const struct sim_model *m,
                                           const struct scn_client *cfg, double *real_ms) {
  uint16_t dns_port;
  close(udp_port(&dns_port));
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct labclock clock;
  labclock_init(&clock, &loop, 1000);
  struct sim_env env;
  env_init(&env, &loop, dns_port, 0); /* the model's own (lab) timeouts */
  env.map = map_to_server;
  env.map_arg = ss;
  env.clock = &clock;
  struct result r = {0};
  struct sim_walk *w = NULL;
  uint64_t t0 = uv_hrtime();
  assert_int_equal(sim_walk_start(&w, &env, m, cfg, "alice@127.0.0.1", on_done, &r, NULL, 0), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  *real_ms = (double) (uv_hrtime() - t0) / 1e6;
  assert_int_equal(r.n_done, 1);
  test_loop_close(&loop);
  return r.t;
}

static void test_lab_clock_http_timeout(void **state) {
  struct server s;
  silent_listener(&s);
  struct servers ss = {NULL, &s}; /* plain HTTP on port 80 */
  struct sim_model m = *sim_model_named("outlook-2010");
  m.steps[0] = SIM_STEP_LAST_KNOWN_GOOD;
  m.n_steps = 1;
  struct scn_client cfg = {.last_known_good_url = "http://127.0.0.1/autodiscover/autodiscover.xml"};
  double real_ms;
  struct sim_transcript *t = walk_clocked(&ss, &m, &cfg, &real_ms);
  close(s.fd);
  assert_int_equal(t->n_steps, 1);
  assert_string_equal(t->steps[0].name, "last-known-good");
  assert_int_equal(t->steps[0].result, SIM_R_HTTP_FAILED);
  assert_true(t->steps[0].timed_out);
  assert_true(t->steps[0].elapsed_ms >= 30000); /* the lab says 30 s ... */
  assert_true(t->steps[0].elapsed_ms < 31000);
  assert_true(t->total_ms >= 30000);
  assert_true(real_ms < 2000); /* ... the wall clock about 30 ms */
  assert_non_null(strstr(t->steps[0].detail, "30000 ms"));
  sim_transcript_free(t);
}

static void test_lab_clock_tls_timeout(void **state) {
  struct server s;
  silent_listener(&s);
  struct servers ss = {&s, NULL};
  struct sim_model m = root_only(true);
  double real_ms;
  struct sim_transcript *t = walk_clocked(&ss, &m, NULL, &real_ms);
  close(s.fd);
  assert_int_equal(t->steps[0].result, SIM_R_TLS_FAILED);
  assert_string_equal(t->steps[0].tls_error, "timeout");
  assert_true(t->steps[0].timed_out);
  assert_true(t->steps[0].elapsed_ms >= 30000);
  assert_true(real_ms < 2000);
  sim_transcript_free(t);
}

static void test_lab_clock_dns_timeout(void **state) {
  uint16_t port;
  int silent = udp_port(&port);
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct labclock clock;
  labclock_init(&clock, &loop, 1000);
  struct sim_env env;
  env_init(&env, &loop, port, 0);
  env.clock = &clock;
  struct sim_model m = classic();
  m.n_steps = 2; /* root, autodiscover. */
  struct result r = {0};
  struct sim_walk *w = NULL;
  uint64_t t0 = uv_hrtime();
  assert_int_equal(sim_walk_start(&w, &env, &m, NULL, "alice@contoso.com", on_done, &r, NULL, 0),
                   0);
  uv_run(&loop, UV_RUN_DEFAULT);
  double real_ms = (double) (uv_hrtime() - t0) / 1e6;
  test_loop_close(&loop);
  close(silent);
  struct sim_transcript *t = r.t;
  assert_int_equal(t->n_steps, 2);
  for (size_t i = 0; i < 2; i++) {
    assert_string_equal(t->steps[i].dns_error, "timeout");
    assert_true(t->steps[i].timed_out);
    assert_true(t->steps[i].elapsed_ms >= 5000); /* booked at the nominal 5 s */
    assert_true(t->steps[i].elapsed_ms < 6000);
  }
  assert_true(t->total_ms >= 10000);
  assert_true(real_ms < 2000);
  sim_transcript_free(t);
}

/* At scale 1000 a 30 s HTTP timeout lasts 30 ms: a working server must still answer in time
 * (no Nagle delay between the handshake and the request). */
static void test_lab_clock_fast_answers_in_time(void **state) {
  struct server s;
  char pem[4096];
  uint16_t dns_port;
  char *dir = e2e_setup(&s, pem, sizeof pem, "/redirected/autodiscover.xml", &dns_port);
  struct servers ss = {&s, NULL};
  struct sim_model m = root_only(true);
  double real_ms;
  struct sim_transcript *t = walk_clocked(&ss, &m, NULL, &real_ms);
  server_stop(&s);
  assert_true(t->success);
  assert_int_equal(t->n_steps, 2);
  assert_false(t->steps[0].timed_out);
  assert_false(t->steps[1].timed_out);
  e2e_teardown(dir, t);
}

/* jump_clock stands for a server's delay timer on the same lab clock: it moves the clock on by
 * 100 lab seconds. */
static void jump_clock(uv_timer_t *t) {
  struct labclock *clock = t->data;
  labclock_fired(clock, labclock_now_ms(clock), 100000);
  uv_close((uv_handle_t *) t, NULL);
}

/* Real timers last at least 200 ms, but a lab clock moved past the deadline by another timer
 * still ends the step as a timeout, at exactly the timeout's length. */
static void test_lab_clock_deadline_passed_by_another_timer(void **state) {
  struct server s;
  char pem[4096];
  uint16_t dns_port;
  char *dir = e2e_setup(&s, pem, sizeof pem, "/slow", &dns_port);
  struct servers ss = {&s, NULL};
  struct sim_model m = root_only(true);
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct labclock clock;
  labclock_init(&clock, &loop, 1000);
  struct sim_env env;
  env_init(&env, &loop, dns_port, 0);
  env.map = map_to_server;
  env.map_arg = &ss;
  env.clock = &clock;
  uv_timer_t jump;
  uv_timer_init(&loop, &jump);
  jump.data = &clock;
  struct result r = {0};
  struct sim_walk *w = NULL;
  assert_int_equal(sim_walk_start(&w, &env, &m, NULL, "alice@127.0.0.1", on_done, &r, NULL, 0), 0);
  uv_timer_start(&jump, jump_clock, 60, 0); /* the root's 302 is quick; /slow takes 150 ms */
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  server_stop(&s);
  struct sim_transcript *t = r.t;
  assert_false(t->success);
  assert_int_equal(t->n_steps, 2);
  struct sim_step *slow = &t->steps[1];
  assert_true(slow->timed_out);
  /* normally the HTTP answer (30 s); on a slow machine the handshake (30 s as well) */
  assert_true(slow->result == SIM_R_HTTP_FAILED || slow->result == SIM_R_TLS_FAILED);
  assert_true(slow->elapsed_ms >= 30000 && slow->elapsed_ms < 31000); /* not the 100 s jump */
  assert_true(t->total_ms >= 100000);
  e2e_teardown(dir, t);
}

/* A black hole: a listener with backlog 0 whose queue is full drops further SYNs, so the
 * connect gets no answer (Linux). */
static void test_lab_clock_connect_timeout(void **state) {
  struct server s;
  memset(&s, 0, sizeof s);
  s.fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(s.fd, (struct sockaddr *) &sin, sizeof sin), 0);
  assert_int_equal(listen(s.fd, 0), 0);
  socklen_t len = sizeof sin;
  assert_int_equal(getsockname(s.fd, (struct sockaddr *) &sin, &len), 0);
  s.port = ntohs(sin.sin_port);
  int fillers[4];
  for (size_t i = 0; i < 4; i++) { /* fill the queue */
    fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int rc = connect(fillers[i], (struct sockaddr *) &sin, sizeof sin);
    (void) rc;
  }
  struct servers ss = {&s, NULL};
  struct sim_model m = root_only(true);
  double real_ms;
  struct sim_transcript *t = walk_clocked(&ss, &m, NULL, &real_ms);
  for (size_t i = 0; i < 4; i++) {
    close(fillers[i]);
  }
  close(s.fd);
  assert_int_equal(t->steps[0].result, SIM_R_CONNECT_FAILED);
  assert_string_equal(t->steps[0].connect_error, "timeout");
  assert_true(t->steps[0].timed_out);
  assert_true(t->steps[0].elapsed_ms >= 21000);
  assert_true(real_ms < 2000);
  sim_transcript_free(t);
}

/* --- local XML, SCP, cached URL --- */

static void test_local_xml_preferred(void **state) {
  char path[4096];
  test_data_path(path, sizeof path, "client/local-settings.xml");
  struct scn_client cfg = {.prefer_local_xml = true, .local_xml = path};
  struct servers ss = {NULL, NULL};
  uint16_t dns_port;
  close(udp_port(&dns_port));
  struct sim_transcript *t =
      walk_cfg(&ss, sim_model_named("outlook-2016-msi"), NULL, &cfg, dns_port, NULL, 0, NULL);
  assert_true(t->success);
  assert_int_equal(t->n_steps, 1); /* no network at all (L-37) */
  assert_string_equal(t->steps[0].name, "local-xml");
  assert_int_equal(t->steps[0].result, SIM_R_SETTINGS);
  char want[4200];
  buf_fmt(want, sizeof want, "file://%s", path);
  assert_string_equal(t->final_url, want);
  assert_string_equal(t->steps[0].url, want);
  assert_string_equal(t->ews_url, "https://mail.contoso.com/EWS/Exchange.asmx");
  assert_string_equal(t->settings_email, "alice@contoso.com");
  sim_transcript_free(t);
}

static void test_local_xml_late_bad_and_missing(void **state) {
  char path[4096];
  test_data_path(path, sizeof path, "client/local-not-autodiscover.xml");
  struct scn_client cfg = {.local_xml = path};
  struct servers ss = {NULL, NULL};
  uint16_t dns_port;
  close(udp_port(&dns_port));
  struct sim_model m = *sim_model_named("outlook-2007");
  struct sim_transcript *t = walk_cfg(&ss, &m, NULL, &cfg, dns_port, NULL, 0, NULL);
  assert_false(t->success);
  assert_int_equal(t->n_steps, 6);
  assert_string_equal(t->steps[5].name, "local-xml"); /* last for 2007 */
  assert_int_equal(t->steps[5].result, SIM_R_NOT_AUTODISCOVER);
  assert_non_null(strstr(t->steps[5].detail, "local XML"));
  sim_transcript_free(t);
  cfg.local_xml = "/nonexistent/contoso.xml";
  cfg.prefer_local_xml = true;
  t = walk_cfg(&ss, &m, NULL, &cfg, dns_port, NULL, 0, NULL);
  assert_string_equal(t->steps[0].name, "local-xml");
  assert_int_equal(t->steps[0].result, SIM_R_NO_CANDIDATE);
  assert_non_null(strstr(t->steps[0].detail, "cannot be read"));
  assert_int_equal(t->n_steps, 6); /* and the walk went on */
  sim_transcript_free(t);
}

static void test_scp_candidates_in_order(void **state) {
  struct server s;
  char pem[4096];
  uint16_t dns_port;
  char *dir = e2e_setup(&s, pem, sizeof pem, "/unused", &dns_port);
  char *scp[] = {"https://127.0.0.1/err", "https://127.0.0.1/redirected/autodiscover.xml"};
  struct scn_client cfg = {.domain_joined = true};
  struct servers ss = {&s, NULL};
  struct sim_transcript *t =
      walk_cfg(&ss, sim_model_named("outlook-2016-msi"), pem, &cfg, dns_port, scp, 2, NULL);
  server_stop(&s);
  assert_true(t->success);
  assert_int_equal(t->n_steps, 3);
  assert_int_equal(t->steps[0].result, SIM_R_SKIPPED); /* nothing cached */
  assert_string_equal(t->steps[1].name, "scp");
  assert_string_equal(t->steps[1].url, "https://127.0.0.1/err");
  assert_int_equal(t->steps[1].result, SIM_R_XML_ERROR);
  assert_string_equal(t->steps[2].name, "scp");
  assert_int_equal(t->steps[2].result, SIM_R_SETTINGS);
  assert_string_equal(t->final_url, "https://127.0.0.1/redirected/autodiscover.xml");
  sim_transcript_free(t);
  /* not domain-joined: the lookup is skipped whatever the directory holds */
  cfg.domain_joined = false;
  server_start(&s, pem, "/unused");
  t = walk_cfg(&ss, sim_model_named("outlook-2016-msi"), pem, &cfg, dns_port, scp, 2, NULL);
  server_stop(&s);
  assert_string_equal(t->steps[1].name, "scp");
  assert_int_equal(t->steps[1].result, SIM_R_SKIPPED);
  assert_string_equal(t->steps[2].name, "https-root");
  /* domain-joined, nothing found */
  sim_transcript_free(t);
  cfg.domain_joined = true;
  cfg.exclude_https_root_domain = true;
  t = walk_cfg(&ss, sim_model_named("outlook-2016-msi"), pem, &cfg, dns_port, NULL, 0, NULL);
  assert_string_equal(t->steps[1].name, "scp");
  assert_int_equal(t->steps[1].result, SIM_R_NO_CANDIDATE);
  e2e_teardown(dir, t);
}

static void test_last_known_good_hit(void **state) {
  struct server s;
  char pem[4096];
  uint16_t dns_port;
  char *dir = e2e_setup(&s, pem, sizeof pem, "/unused", &dns_port);
  struct scn_client cfg = {.last_known_good_url = "https://127.0.0.1/redirected/autodiscover.xml"};
  struct servers ss = {&s, NULL};
  struct sim_transcript *t =
      walk_cfg(&ss, sim_model_named("outlook-2010"), pem, &cfg, dns_port, NULL, 0, NULL);
  server_stop(&s);
  assert_true(t->success);
  assert_int_equal(t->n_steps, 1); /* L-35: the root is never tried */
  assert_string_equal(t->steps[0].name, "last-known-good");
  e2e_teardown(dir, t);
}

/* --- consent prompts, SRV order --- */

static struct sim_transcript *walk_http_redirect(struct scn_client *cfg, struct server *plain) {
  struct server s;
  char pem[4096];
  uint16_t dns_port;
  char *dir = e2e_setup(&s, pem, sizeof pem, "/unused", &dns_port);
  plain_start_at(plain, false, "https://127.0.0.1/redirected/autodiscover.xml");
  struct servers ss = {&s, plain};
  struct sim_model m = classic();
  m.steps[0] = SIM_STEP_HTTP_REDIRECT;
  m.n_steps = 1;
  struct fake_dns fake;
  struct sim_transcript *t = walk_cfg(&ss, &m, pem, cfg, dns_port, NULL, 0, &fake);
  server_stop(&s);
  server_stop(plain);
  test_rmtree(dir);
  free(dir);
  assert_true(fake.n_queries >= 1);
  return t;
}

static void test_http_redirect_consent(void **state) {
  struct scn_client cfg = {0};
  struct server plain;
  struct sim_transcript *t = walk_http_redirect(&cfg, &plain);
  assert_true(t->success);
  assert_int_equal(t->n_steps, 2);
  assert_string_equal(t->steps[0].name, "http-redirect");
  assert_string_equal(t->steps[0].dns_answer, "127.0.0.1");
  assert_int_equal(t->steps[0].result, SIM_R_REDIRECT);
  assert_int_equal(t->n_prompts, 2); /* consent, then the certificate's name */
  assert_int_equal(t->prompts[0].kind, SIM_PROMPT_REDIRECT);
  assert_string_equal(t->prompts[0].host, "127.0.0.1");
  assert_true(t->prompts[0].accepted);
  assert_non_null(strstr(plain.requests, "GET /autodiscover/autodiscover.xml HTTP/1.1\r\n"));
  sim_transcript_free(t);
}

static void test_redirect_servers_suppress_consent(void **state) {
  char *list[] = {"127.0.0.1"};
  struct scn_client cfg = {.redirect_servers = list, .n_redirect_servers = 1};
  struct server plain;
  struct sim_transcript *t = walk_http_redirect(&cfg, &plain);
  assert_true(t->success);
  assert_int_equal(t->n_prompts, 1);
  assert_int_equal(t->prompts[0].kind, SIM_PROMPT_CERTIFICATE); /* no consent prompt */
  assert_non_null(strstr(t->steps[1].detail, "RedirectServers"));
  sim_transcript_free(t);
}

static void test_redirect_declined(void **state) {
  struct scn_client cfg = {.answer_no_to_redirect_prompts = true};
  struct server plain;
  struct sim_transcript *t = walk_http_redirect(&cfg, &plain);
  assert_false(t->success);
  assert_int_equal(t->n_prompts, 1);
  assert_int_equal(t->prompts[0].kind, SIM_PROMPT_REDIRECT);
  assert_false(t->prompts[0].accepted);
  assert_int_equal(t->n_steps, 2);
  assert_string_equal(t->steps[1].name, "redirect");
  assert_int_equal(t->steps[1].result, SIM_R_REJECTED);
  assert_non_null(strstr(t->steps[1].detail, "declined"));
  assert_null(t->steps[1].dns_answer); /* nothing was asked */
  sim_transcript_free(t);
}

static struct sim_transcript *walk_srv(bool largest) {
  struct server s;
  char pem[4096];
  uint16_t dns_port;
  char *dir = e2e_setup(&s, pem, sizeof pem, "/unused", &dns_port);
  struct servers ss = {&s, NULL};
  struct sim_model m = classic();
  m.steps[0] = SIM_STEP_SRV;
  m.n_steps = 1;
  struct scn_client cfg = {.srv_largest_wins = largest};
  struct fake_dns fake;
  struct sim_transcript *t = walk_cfg(&ss, &m, pem, &cfg, dns_port, NULL, 0, &fake);
  server_stop(&s);
  test_rmtree(dir);
  free(dir);
  return t;
}

static void test_srv_largest_wins_setting(void **state) {
  struct sim_transcript *t = walk_srv(false);
  assert_string_equal(t->steps[0].name, "srv");
  assert_string_equal(t->steps[0].url, "https://low.test/Autodiscover/Autodiscover.xml");
  assert_int_equal(t->n_steps, 3);
  assert_string_equal(t->steps[1].url, "https://low.test/Autodiscover/Autodiscover.xml");
  assert_string_equal(t->steps[2].url, "https://high.test/Autodiscover/Autodiscover.xml");
  sim_transcript_free(t);
  t = walk_srv(true); /* the largest priority only */
  assert_int_equal(t->n_steps, 2);
  assert_string_equal(t->steps[0].url, "https://high.test/Autodiscover/Autodiscover.xml");
  assert_string_equal(t->steps[1].url, "https://high.test/Autodiscover/Autodiscover.xml");
  assert_non_null(strstr(t->steps[0].detail, "1 SRV target to try (1 ignored)"));
  sim_transcript_free(t);
}

/* --- 401 --- */

static struct sim_transcript *walk_auth(const char *path, struct server *s, char **journal) {
  char pem[4096];
  uint16_t dns_port;
  char *dir = e2e_setup(s, pem, sizeof pem, "/unused", &dns_port);
  char url[200];
  buf_fmt(url, sizeof url, "https://127.0.0.1%s", path);
  struct scn_client cfg = {.last_known_good_url = url};
  struct sim_model m = *sim_model_named("outlook-2010");
  m.steps[0] = SIM_STEP_LAST_KNOWN_GOOD;
  m.n_steps = 1;
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct sim_env env;
  env_init(&env, &loop, dns_port, 2000);
  struct servers ss = {s, NULL};
  env.map = map_to_server;
  env.map_arg = &ss;
  env.trust_pem = pem;
  size_t journal_len = 0;
  FILE *mem = open_memstream(journal, &journal_len);
  env.jnl = jnl_open_stream(mem);
  struct result r = {0};
  struct sim_walk *w = NULL;
  assert_int_equal(sim_walk_start(&w, &env, &m, &cfg, "alice@127.0.0.1", on_done, &r, NULL, 0), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  jnl_close(env.jnl);
  fclose(mem);
  server_stop(s);
  test_rmtree(dir);
  free(dir);
  return r.t;
}

/* no_secret checks that neither the transcript nor the journal holds the Basic credentials. */
static void no_secret(const struct sim_transcript *t, const char *journal) {
  static const char *const secrets[] = {"lab-password", "YWxpY2VAMTI3LjAuMC4xOmxhYi1wYXNzd29yZA"};
  char *json = sim_transcript_json(t);
  char *text = NULL;
  size_t text_len = 0;
  FILE *f = open_memstream(&text, &text_len);
  sim_transcript_text(t, f, false);
  fclose(f);
  for (size_t i = 0; i < 2; i++) {
    assert_null(strstr(json, secrets[i]));
    assert_null(strstr(journal, secrets[i]));
    assert_null(strstr(text, secrets[i]));
  }
  free(json);
  free(text);
}

static void test_401_basic_prompts_then_succeeds(void **state) {
  struct server s;
  char *journal = NULL;
  struct sim_transcript *t = walk_auth("/auth/basic", &s, &journal);
  assert_true(t->success);
  assert_int_equal(t->n_steps, 1);
  assert_string_equal(t->steps[0].auth_schemes, "Basic");
  assert_non_null(strstr(t->steps[0].detail, "Basic credentials"));
  assert_int_equal(t->n_prompts, 2); /* one certificate prompt (not again on the retry) */
  assert_int_equal(t->prompts[0].kind, SIM_PROMPT_CERTIFICATE);
  assert_int_equal(t->prompts[1].kind, SIM_PROMPT_CREDENTIALS);
  assert_string_equal(t->prompts[1].host, "127.0.0.1");
  assert_string_equal(t->prompts[1].reason, "basic");
  assert_true(t->prompts[1].accepted);
  /* base64("alice@127.0.0.1:lab-password") went to the server, and nowhere else */
  assert_non_null(
      strstr(s.requests, "Authorization: Basic YWxpY2VAMTI3LjAuMC4xOmxhYi1wYXNzd29yZA=="));
  no_secret(t, journal);
  assert_non_null(strstr(journal, "\"ev\":\"step.auth\""));
  free(journal);
  sim_transcript_free(t);
}

static void test_401_sso_is_silent(void **state) {
  struct server s;
  char *journal = NULL;
  struct sim_transcript *t = walk_auth("/auth/sso", &s, &journal);
  assert_true(t->success);
  assert_string_equal(t->steps[0].auth_schemes, "Negotiate, NTLM");
  assert_int_equal(t->n_prompts, 1); /* the certificate only */
  assert_non_null(strstr(s.requests, "Authorization: Negotiate YXV0b2Rpc2NvLWxhYi1zc28=\r\n"));
  assert_non_null(strstr(t->steps[0].detail, "stand-in"));
  free(journal);
  sim_transcript_free(t);
}

static void test_401_bearer_and_repeated(void **state) {
  struct server s;
  char *journal = NULL;
  struct sim_transcript *t = walk_auth("/auth/bearer", &s, &journal);
  assert_false(t->success);
  assert_int_equal(t->steps[0].result, SIM_R_NOT_AUTODISCOVER);
  assert_int_equal(t->steps[0].http_status, 401);
  assert_string_equal(t->steps[0].auth_schemes, "Bearer");
  assert_int_equal(t->n_prompts, 1);
  assert_null(strstr(s.requests, "Authorization:"));
  free(journal);
  sim_transcript_free(t);
  t = walk_auth("/auth/never", &s, &journal);
  assert_false(t->success);
  assert_int_equal(t->steps[0].result, SIM_R_NOT_AUTODISCOVER);
  assert_non_null(strstr(t->steps[0].detail, "401 again"));
  assert_int_equal(t->n_prompts, 2); /* certificate, credentials; no second credentials prompt */
  no_secret(t, journal);
  free(journal);
  sim_transcript_free(t);
}

/* --- Office 365 Direct Connect --- */

static struct sim_transcript *walk_o365(const char *json, int status, struct scn_client *cfg,
                                        struct server *s) {
  char pem[4096];
  uint16_t dns_port;
  char *dir = e2e_setup(s, pem, sizeof pem, "/unused", &dns_port);
  s->json = json;
  s->json_status = status;
  struct servers ss = {s, NULL};
  struct sim_model m = *sim_model_named("outlook-2016-c2r");
  m.n_steps = 2; /* last-known-good, o365-direct */
  struct fake_dns fake;
  struct sim_transcript *t = walk_cfg(&ss, &m, pem, cfg, dns_port, NULL, 0, &fake);
  server_stop(s);
  test_rmtree(dir);
  free(dir);
  return t;
}

static void test_o365_direct_connect(void **state) {
  struct scn_client cfg = {.mailbox_in_exchange_online = true};
  struct server s;
  struct sim_transcript *t = walk_o365(NULL, 0, &cfg, &s);
  assert_true(t->success);
  assert_int_equal(t->n_steps, 3);
  assert_string_equal(t->steps[1].name, "o365-direct");
  assert_string_equal(t->steps[1].url, "https://outlook.office365.com/autodiscover/"
                                       "autodiscover.json?Email=alice@127.0.0.1&Protocol="
                                       "AutodiscoverV1");
  assert_string_equal(t->steps[1].host, "outlook.office365.com");
  assert_int_equal(t->steps[1].result, SIM_R_REDIRECT);
  assert_string_equal(t->steps[1].redirect_to, "https://127.0.0.1/redirected/autodiscover.xml");
  assert_string_equal(t->steps[2].name, "redirect");
  assert_int_equal(t->steps[2].result, SIM_R_SETTINGS);
  assert_non_null(strstr(s.requests, "GET /autodiscover/autodiscover.json?Email=alice@127.0.0.1&"
                                     "Protocol=AutodiscoverV1 HTTP/1.1\r\n"
                                     "Host: outlook.office365.com\r\n"));
  assert_non_null(strstr(s.requests, "\r\nAccept: application/json"));
  sim_transcript_free(t);
}

static void test_o365_not_found_or_bad_goes_on(void **state) {
  struct scn_client cfg = {.mailbox_in_exchange_online = true};
  struct server s;
  struct sim_transcript *t = walk_o365("{\"ErrorCode\":\"MailboxNotFound\"}", 404, &cfg, &s);
  assert_false(t->success);
  assert_int_equal(t->n_steps, 2);
  assert_int_equal(t->steps[1].result, SIM_R_NOT_AUTODISCOVER);
  assert_int_equal(t->steps[1].http_status, 404);
  sim_transcript_free(t);
  t = walk_o365("{\"Url\":\"https://x/\"", 200, &cfg, &s); /* truncated */
  assert_int_equal(t->steps[1].result, SIM_R_NOT_AUTODISCOVER);
  assert_non_null(strstr(t->steps[1].detail, "not an AutoDV2 answer"));
  sim_transcript_free(t);
  cfg.exclude_explicit_o365_endpoint = true;
  t = walk_o365(NULL, 0, &cfg, &s);
  assert_int_equal(t->steps[1].result, SIM_R_SKIPPED);
  assert_non_null(strstr(t->steps[1].detail, "ExcludeExplicitO365Endpoint"));
  assert_int_equal(s.n_conns, 0);
  sim_transcript_free(t);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN); /* the test servers write to clients that may have gone */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dns_timeout_every_step),
      cmocka_unit_test(test_dns_refused_is_quick),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_e2e_prompt_redirect_settings),
      cmocka_unit_test(test_e2e_user_says_no),
      cmocka_unit_test(test_e2e_redirect_to_http_is_refused),
      cmocka_unit_test(test_e2e_plain_http_when_allowed),
      cmocka_unit_test(test_e2e_redirect_loop),
      cmocka_unit_test(test_e2e_xml_error_goes_on),
      cmocka_unit_test(test_e2e_huge_head),
      cmocka_unit_test(test_tls_timeout),
      cmocka_unit_test(test_tls_handshake_failure),
      cmocka_unit_test(test_connect_refused),
      cmocka_unit_test(test_lab_clock_http_timeout),
      cmocka_unit_test(test_lab_clock_tls_timeout),
      cmocka_unit_test(test_lab_clock_dns_timeout),
      cmocka_unit_test(test_lab_clock_connect_timeout),
      cmocka_unit_test(test_lab_clock_fast_answers_in_time),
      cmocka_unit_test(test_lab_clock_deadline_passed_by_another_timer),
      cmocka_unit_test(test_local_xml_preferred),
      cmocka_unit_test(test_local_xml_late_bad_and_missing),
      cmocka_unit_test(test_scp_candidates_in_order),
      cmocka_unit_test(test_last_known_good_hit),
      cmocka_unit_test(test_http_redirect_consent),
      cmocka_unit_test(test_redirect_servers_suppress_consent),
      cmocka_unit_test(test_redirect_declined),
      cmocka_unit_test(test_srv_largest_wins_setting),
      cmocka_unit_test(test_401_basic_prompts_then_succeeds),
      cmocka_unit_test(test_401_sso_is_silent),
      cmocka_unit_test(test_401_bearer_and_repeated),
      cmocka_unit_test(test_o365_direct_connect),
      cmocka_unit_test(test_o365_not_found_or_bad_goes_on),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
