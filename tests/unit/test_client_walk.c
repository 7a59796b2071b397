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

struct result {
  struct sim_transcript *t;
  int n_done;
};

static void on_done(void *arg, struct sim_transcript *t) {
  struct result *r = arg;
  r->t = t;
  r->n_done++;
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
                                  "alice@contoso.com", on_done, &r),
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
  assert_int_equal(t->n_steps, 4);
  assert_int_equal(t->steps[0].result, SIM_R_SKIPPED);
  assert_string_equal(t->steps[0].url, "https://contoso.com/autodiscover/autodiscover.xml");
  assert_non_null(strstr(t->steps[0].detail, "ExcludeHttpsRootDomain"));
  const char *names[] = {"https-root", "https-autodiscover", "srv", "http-redirect"};
  for (size_t i = 0; i < 4; i++) {
    assert_string_equal(t->steps[i].name, names[i]);
    if (i > 0) {
      assert_int_equal(t->steps[i].result, SIM_R_DNS_FAILED);
      assert_string_equal(t->steps[i].dns_error, "timeout");
      assert_true(t->steps[i].elapsed_ms >= 150);
    }
  }
  assert_string_equal(t->steps[1].host, "autodiscover.contoso.com");
  assert_string_equal(t->steps[2].host, "_autodiscover._tcp.contoso.com");
  assert_int_equal(t->n_prompts, 0);
  assert_true(ms < 3000);
  test_loop_close(&loop);
  jnl_close(env.jnl);
  fclose(mem);
  size_t n_start = 0;
  for (const char *p = journal; (p = strstr(p, "\"ev\":\"step.start\"")) != NULL; p++) {
    n_start++;
  }
  assert_int_equal(n_start, 4);
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
                                  "bob@fabrikam.com", on_done, &r),
                   0);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(r.n_done, 1);
  assert_true((double) (uv_hrtime() - t0) / 1e6 < 4000);
  struct sim_transcript *t = r.t;
  assert_int_equal(t->n_steps, 4);
  assert_string_equal(t->steps[2].name, "http-redirect");
  assert_string_equal(t->steps[3].name, "srv");
  for (size_t i = 0; i < t->n_steps; i++) {
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
  assert_int_equal(sim_walk_start(&w, &env, m, NULL, "no-at-sign", on_done, &r), UV_EINVAL);
  assert_int_equal(sim_walk_start(&w, &env, m, NULL, "alice@", on_done, &r), UV_EINVAL);
  assert_int_equal(sim_walk_start(&w, &env, NULL, NULL, "a@b.c", on_done, &r), UV_EINVAL);
  env.trust_pem = "/nonexistent/ca.pem";
  assert_int_equal(sim_walk_start(&w, &env, m, NULL, "a@b.c", on_done, &r), UV_EIO);
  assert_null(w);
  test_loop_close(&loop);
}

/* --- end to end: a TLS server in a thread --- */

struct server {
  bool tls;
  bool garbage;              /* answer every connection with plain text at once, then close */
  const char *root_location; /* where POST /autodiscover/autodiscover.xml sends the client */
  int fd;
  uint16_t port;
  SSL_CTX *ctx;
  pthread_t thread;
  char requests[8192]; /* every request head, one after the other */
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
    if (end != NULL && cl != NULL && len >= (size_t) (end + 4 - req) + strtoul(cl + 16, NULL, 10)) {
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
  if (strncmp(req, "POST /autodiscover/autodiscover.xml ", 36) == 0) {
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

static void plain_start(struct server *s, bool garbage) {
  memset(s, 0, sizeof *s);
  s->garbage = garbage;
  listen_any(s);
  assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
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

static struct sim_transcript *walk_model(struct servers *s, const struct sim_model *m,
                                         const char *trust, bool answer_no, uint16_t dns_port) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct sim_env env;
  env_init(&env, &loop, dns_port, 2000);
  env.map = map_to_server;
  env.map_arg = s;
  env.trust_pem = trust;
  struct scn_client cfg = {.answer_no_to_certificate_prompts = answer_no};
  struct result r = {0};
  struct sim_walk *w = NULL;
  assert_int_equal(sim_walk_start(&w, &env, m, &cfg, "alice@127.0.0.1", on_done, &r), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(r.n_done, 1);
  test_loop_close(&loop);
  return r.t;
}

static struct sim_transcript *walk_e2e(struct server *s, const char *trust, bool answer_no,
                                       uint16_t dns_port) {
  struct servers ss = {s, NULL};
  return walk_model(&ss, sim_model_named("outlook-2016-msi"), trust, answer_no, dns_port);
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
  assert_int_equal(sim_walk_start(&w, &env, &m, NULL, "alice@127.0.0.1", on_done, &r), 0);
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
  assert_int_equal(sim_walk_start(&w, &env, &m, NULL, "alice@127.0.0.1", on_done, &r), 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  assert_int_equal(r.t->steps[0].result, SIM_R_CONNECT_FAILED);
  assert_string_equal(r.t->steps[0].connect_error, "refused");
  sim_transcript_free(r.t);
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
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
