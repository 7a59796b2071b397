/* tests/unit/test_client_inspect.c: inspections (client/sim_inspect.c, sim_inspect_cert.c) —
 * one endpoint's certificate and answer recorded whatever they say, a 401 recorded without an
 * answer, a refused port, and DNS questions of each type against a server that answers. */
#include "client/sim_inspect.h"
#include "tests/unit/test_client_fixture.h"

#include <netinet/in.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct got {
  struct sim_inspection *r;
  struct sim_dns_info *d;
  int n_done;
  struct fake_dns *fake;
};

static void on_inspected(void *arg, struct sim_inspection *r) {
  struct got *g = arg;
  g->r = r;
  g->n_done++;
}

static void on_dns(void *arg, struct sim_dns_info *d) {
  struct got *g = arg;
  g->d = d;
  g->n_done++;
  if (g->fake != NULL) {
    uv_close((uv_handle_t *) &g->fake->udp, NULL);
  }
}

/* inspect runs one inspection of `url` at 127.0.0.1 (through map_to_server) on its own loop. */
static struct sim_inspection *inspect(struct servers *servers, const char *url,
                                      enum sim_inspect_method method, const char *trust) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct sim_env env;
  env_init(&env, &loop, refused_port(), 3000);
  env.map = map_to_server;
  env.map_arg = servers;
  env.trust_pem = trust;
  struct got g = {0};
  char err[256] = "";
  struct sim_inspect_req req = {
      .url = url, .method = method, .email = "alice@example.com", .address = "127.0.0.1"};
  assert_int_equal(sim_inspect_start(&env, &req, on_inspected, &g, err, sizeof err), SIM_OK);
  assert_int_equal(g.n_done, 0); /* never from inside the start */
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  assert_int_equal(g.n_done, 1);
  return g.r;
}

static void test_untrusted_certificate_recorded_and_answer_read(void **state) {
  struct server s;
  server_start(&s, "https://elsewhere.example/autodiscover/autodiscover.xml");
  struct servers servers = {&s, NULL};
  struct sim_inspection *r = inspect(&servers, "https://mail.example/autodiscover/autodiscover.xml",
                                     SIM_INSPECT_POX, NULL);
  assert_true(r->has_tls);
  assert_true(r->tls.handshake_done);
  assert_int_equal(r->tls.n_chain, 1);
  const struct sim_cert_info *c = &r->tls.chain[0];
  assert_string_equal(c->subject_cn, "mail.example");
  assert_true(c->self_signed);
  assert_non_null(c->sha256);
  assert_int_equal(strlen(c->sha256), 64);
  assert_true(c->not_after > c->not_before);
  assert_non_null(c->der);
  /* nothing trusted: the verifier says so, and the request still went out */
  assert_int_equal(r->tls.verify_error, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  assert_true((r->tls.cert_failures & SIM_CERT_UNTRUSTED) != 0);
  assert_int_equal(r->tls.cert_failures & SIM_CERT_NAME, 0);
  assert_int_equal(r->http.status, 302);
  assert_int_equal(r->http.answer, SIM_ANSWER_HTTP_REDIRECT);
  assert_string_equal(r->http.location, "https://elsewhere.example/autodiscover/autodiscover.xml");
  assert_int_equal(r->result, SIM_R_REDIRECT);
  assert_string_equal(r->address, "127.0.0.1");
  assert_non_null(strstr(s.requests, "POST /autodiscover/autodiscover.xml"));
  assert_non_null(strstr(s.requests, "Host: mail.example\r\n"));
  assert_non_null(strstr(r->http.headers, "Location: https://elsewhere.example/"));
  sim_inspection_free(r);

  /* the same chain verifies once its certificate is trusted */
  r = inspect(&servers, "https://mail.example/redirected/autodiscover.xml", SIM_INSPECT_POX, s.pem);
  assert_int_equal(r->tls.verify_error, X509_V_OK);
  assert_null(r->tls.verify_text);
  assert_int_equal(r->tls.cert_failures, 0);
  assert_int_equal(r->http.answer, SIM_ANSWER_SETTINGS);
  assert_string_equal(r->http.ews_url, "https://mail.example/EWS/Exchange.asmx");
  assert_string_equal(r->http.server, "mail.example");
  assert_int_equal(sim_inspect_reverify(s.pem, &r->tls, "mail.example", NULL, 0), 0);
  assert_int_equal(sim_inspect_reverify(s.pem, &r->tls, "other.example", NULL, 0), SIM_CERT_NAME);
  assert_int_equal(sim_inspect_reverify(NULL, &r->tls, "mail.example", NULL, 0),
                   SIM_CERT_UNTRUSTED);
  /* the certificate itself as the extra one: PEM is read too */
  struct buf pem;
  buf_init(&pem, 1 << 16);
  FILE *f = fopen(s.pem, "rb");
  char chunk[4096];
  size_t n;
  while (f != NULL && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    buf_append(&pem, (struct slice){(const uint8_t *) chunk, n});
  }
  if (f != NULL) {
    fclose(f);
  }
  assert_int_equal(sim_inspect_reverify(NULL, &r->tls, "mail.example", pem.ptr, pem.len),
                   SIM_CERT_UNTRUSTED); /* an intermediate is not a trust anchor */
  buf_cleanup(&pem);
  assert_int_equal(
      sim_inspect_reverify(s.pem, &r->tls, "mail.example", (const uint8_t *) "junk", 4), -1);
  sim_inspection_free(r);

  /* a name the certificate does not hold */
  r = inspect(&servers, "https://contoso.example/autodiscover/autodiscover.xml", SIM_INSPECT_POX,
              s.pem);
  assert_true((r->tls.cert_failures & SIM_CERT_NAME) != 0);
  assert_int_equal(r->tls.verify_error, X509_V_ERR_HOSTNAME_MISMATCH);
  sim_inspection_free(r);
  server_stop(&s);
}

static void test_401_recorded_without_credentials(void **state) {
  struct server s;
  server_start(&s, "/redirected/autodiscover.xml");
  struct servers servers = {&s, NULL};
  struct sim_inspection *r =
      inspect(&servers, "https://mail.example/auth/basic", SIM_INSPECT_POX, s.pem);
  assert_int_equal(r->http.status, 401);
  assert_int_equal(r->http.answer, SIM_ANSWER_AUTH);
  assert_int_equal(r->http.n_challenges, 1);
  assert_string_equal(r->http.challenges[0], "Basic realm=\"lab\"");
  assert_int_equal(s.n_conns, 1); /* asked once */
  assert_null(strstr(s.requests, "Authorization"));
  sim_inspection_free(r);
  server_stop(&s);
}

static void test_plain_get_and_refused_port(void **state) {
  struct server plain;
  plain_start(&plain, false, "https://mail.example/autodiscover/autodiscover.xml");
  struct servers servers = {NULL, &plain};
  struct sim_inspection *r =
      inspect(&servers, "http://mail.example/autodiscover/autodiscover.xml", SIM_INSPECT_GET, NULL);
  assert_false(r->has_tls);
  assert_int_equal(r->http.status, 302);
  assert_string_equal(r->http.location, "https://mail.example/autodiscover/autodiscover.xml");
  assert_non_null(strstr(plain.requests, "GET /autodiscover/autodiscover.xml"));
  sim_inspection_free(r);
  server_stop(&plain);

  /* a port nothing listens on: 127.0.0.1:443 goes to a socket that never listened */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(fd, (struct sockaddr *) &sin, sizeof sin), 0);
  socklen_t len = sizeof sin;
  assert_int_equal(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
  struct server dead = {.port = ntohs(sin.sin_port)};
  servers = (struct servers){&dead, NULL};
  r = inspect(&servers, "https://mail.example/autodiscover/autodiscover.xml", SIM_INSPECT_POX,
              NULL);
  close(fd);
  assert_int_equal(r->result, SIM_R_CONNECT_FAILED);
  assert_string_equal(r->connect_error, "refused");
  assert_false(r->has_tls);
  assert_int_equal(r->http.status, 0);
  sim_inspection_free(r);
}

static void test_urls(void **state) {
  char *u = sim_url_resolve("https://a.example/x/y.xml", "/z");
  assert_string_equal(u, "https://a.example/z");
  free(u);
  assert_null(sim_url_resolve("https://a.example/", "ftp://b/"));
  bool https = false;
  char *host = NULL, *target = NULL;
  uint16_t port = 0;
  assert_true(sim_url_split("http://Mail.Example:8080/a?b=c", &https, &host, &port, &target));
  assert_false(https);
  assert_string_equal(host, "mail.example");
  assert_int_equal(port, 8080);
  assert_string_equal(target, "/a?b=c");
  free(host);
  free(target);
  assert_false(sim_url_split("mailto:a@b", &https, &host, &port, &target));
}

static void test_bad_requests(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct sim_env env;
  env_init(&env, &loop, refused_port(), 1000);
  struct got g = {0};
  char err[256] = "";
  struct sim_inspect_req req = {.url = "ftp://x/"};
  assert_int_equal(sim_inspect_start(&env, &req, on_inspected, &g, err, sizeof err), SIM_EINVAL);
  assert_non_null(strstr(err, "not an http"));
  req = (struct sim_inspect_req){.url = "https://x/", .address = "not-an-address"};
  assert_int_equal(sim_inspect_start(&env, &req, on_inspected, &g, err, sizeof err), SIM_EINVAL);
  assert_int_equal(sim_dns_inspect_start(&env, "x.example", 16, on_dns, &g, err, sizeof err),
                   SIM_EINVAL);
  assert_int_equal(sim_dns_inspect_start(&env, "", 1, on_dns, &g, err, sizeof err), SIM_EINVAL);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  assert_int_equal(g.n_done, 0);
}

static struct sim_dns_info *ask(uint16_t type, bool fake, const char *name) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct fake_dns f;
  uint16_t port = refused_port();
  if (fake) {
    fake_dns_start(&f, &loop);
    port = f.port;
  }
  struct sim_env env;
  env_init(&env, &loop, port, 2000);
  struct got g = {.fake = fake ? &f : NULL};
  char err[256] = "";
  assert_int_equal(sim_dns_inspect_start(&env, name, type, on_dns, &g, err, sizeof err), SIM_OK);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  assert_int_equal(g.n_done, 1);
  return g.d;
}

static void test_dns_questions(void **state) {
  struct sim_dns_info *d = ask(1, true, "Autodiscover.Example.COM");
  assert_null(d->error);
  assert_string_equal(d->name, "autodiscover.example.com");
  assert_int_equal(d->n_addresses, 1);
  assert_string_equal(d->addresses[0], "127.0.0.1");
  assert_int_equal(d->n_cnames, 0);
  sim_dns_info_free(d);

  d = ask(33, true, "_autodiscover._tcp.example.com");
  assert_null(d->error);
  assert_int_equal(d->n_srv, 2);
  assert_string_equal(d->srv[0].target, "low.test");
  assert_int_equal(d->srv[0].port, 443);
  assert_int_equal(d->srv[1].priority, 10);
  sim_dns_info_free(d);

  d = ask(1, false, "example.com"); /* nobody answers: refused, then c-ares gives up */
  assert_non_null(d->error);
  assert_int_equal(d->n_addresses, 0);
  sim_dns_info_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_untrusted_certificate_recorded_and_answer_read),
      cmocka_unit_test(test_401_recorded_without_credentials),
      cmocka_unit_test(test_plain_get_and_refused_port),
      cmocka_unit_test(test_urls),
      cmocka_unit_test(test_bad_requests),
      cmocka_unit_test(test_dns_questions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
