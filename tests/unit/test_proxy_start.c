/* tests/unit/test_proxy_start.c: proxy_start brings a small lab network up on loopback, and
 * says what went wrong — a code and a sentence — when an address, a zone or a port cannot be
 * had, leaving nothing behind on the loop. */
#include "proxy/proxy.h"
#include "tests/unit/testutil.h"

#include <libknot/libknot.h>
#include <stdlib.h>
#include <string.h>

/* A scenario with one host without listeners (both ports refuse: no CA needed) and one record. */
struct small {
  struct scn scn;
  struct scn_host host;
  struct scn_record record;
};

static void small_init(struct small *s) {
  memset(s, 0, sizeof *s);
  s->host = (struct scn_host){.id = "www"};
  s->record = (struct scn_record){.name = "contoso.com", .type = KNOT_RRTYPE_A, .host = "www"};
  s->scn.domain = "contoso.com";
  s->scn.hosts = &s->host;
  s->scn.n_hosts = 1;
  s->scn.records = &s->record;
  s->scn.n_records = 1;
}

static void test_starts_and_closes(void **state) {
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  struct small s;
  small_init(&s);
  struct proxy_options opt = {.dns_listen = "127.0.0.1:0"};
  struct proxy *p = NULL;
  char err[512] = "";
  assert_int_equal(proxy_start(&p, &loop, &s.scn, &opt, err, sizeof err), PROXY_OK);
  assert_non_null(p);
  assert_string_equal(proxy_host_address(p, 0), "127.77.0.1");
  struct sockaddr_storage dns;
  proxy_dns_addr(p, &dns);
  assert_int_equal(dns.ss_family, AF_INET);
  assert_int_not_equal(((struct sockaddr_in *) &dns)->sin_port, 0);
  /* the defaults: nothing beyond loopback, the limits docs/commands.md gives */
  char *ready = proxy_ready_json(p);
  assert_non_null(strstr(
      ready, "\"exposed\":[],\"limits\":{\"max_conns\":512,"
             "\"max_conns_per_client\":64,\"head_timeout_ms\":10000,\"body_timeout_ms\":10000,"
             "\"handshake_timeout_ms\":10000,\"dns_tcp_max_conns\":256,"
             "\"dns_tcp_max_per_client\":16,\"dns_tcp_timeout_ms\":10000}}"));
  free(ready);
  proxy_close(p);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
}

/* the limits given are the ones the ready line says (an address that is not loopback, listed as
 * exposed, is tested across a network namespace: test_serve_network.py) */
static void test_limits_given(void **state) {
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  struct small s;
  small_init(&s);
  struct proxy_limits lim = proxy_limits_default();
  lim.max_conns = 3;
  lim.head_timeout_ms = 0;
  lim.dns_tcp_max_per_client = 2;
  lim.dns_tcp_timeout_ms = 250;
  struct proxy_options opt = {.dns_listen = "127.0.0.1:0", .limits = &lim};
  struct proxy *p = NULL;
  char err[512] = "";
  assert_int_equal(proxy_start(&p, &loop, &s.scn, &opt, err, sizeof err), PROXY_OK);
  char *ready = proxy_ready_json(p);
  assert_non_null(strstr(ready, "\"exposed\":[],\"limits\":{\"max_conns\":3,"
                                "\"max_conns_per_client\":64,\"head_timeout_ms\":0,"
                                "\"body_timeout_ms\":10000,"));
  assert_non_null(strstr(ready, "\"dns_tcp_max_per_client\":2,\"dns_tcp_timeout_ms\":250}}"));
  free(ready);
  proxy_close(p);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
}

static void test_failures_have_a_code_and_a_sentence(void **state) {
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  struct small s;
  small_init(&s);
  char err[512] = "";
  struct proxy *p = (struct proxy *) 1;

  /* the lab never leaves 127.0.0.0/8 */
  struct proxy_options opt = {.dns_listen = "127.0.0.1:0", .address_base = "10.0.0.1"};
  assert_int_equal(proxy_start(&p, &loop, &s.scn, &opt, err, sizeof err), PROXY_EADDRESS);
  assert_null(p);
  assert_non_null(strstr(err, "host www: no loopback address can be allocated from 10.0.0.1"));

  opt = (struct proxy_options){.dns_listen = "nonsense"};
  assert_int_equal(proxy_start(&p, &loop, &s.scn, &opt, err, sizeof err), PROXY_EADDRESS);
  assert_string_equal(err, "--dns nonsense: expected ADDR:PORT");

  /* a record naming a host the scenario does not have */
  s.record.host = "nobody";
  s.record.mark = (struct scn_mark){.file = "s.yaml", .line = 9, .col = 5};
  opt = (struct proxy_options){.dns_listen = "127.0.0.1:0"};
  assert_int_equal(proxy_start(&p, &loop, &s.scn, &opt, err, sizeof err), PROXY_EZONE);
  assert_null(p);
  assert_non_null(strstr(err, "DNS: s.yaml:9:5: "));
  s.record.host = "www";

  /* the DNS port another lab holds */
  struct proxy *first = NULL;
  assert_int_equal(proxy_start(&first, &loop, &s.scn, &opt, err, sizeof err), PROXY_OK);
  struct sockaddr_storage dns;
  proxy_dns_addr(first, &dns);
  char taken[64];
  buf_fmt(taken, sizeof taken, "127.0.0.1:%u", ntohs(((struct sockaddr_in *) &dns)->sin_port));
  opt = (struct proxy_options){.dns_listen = taken, .address_base = "127.77.1.1"};
  assert_int_equal(proxy_start(&p, &loop, &s.scn, &opt, err, sizeof err), PROXY_ELISTEN);
  assert_null(p);
  assert_non_null(strstr(err, "DNS: cannot listen on 127.0.0.1:"));
  assert_string_equal(proxy_strerror(PROXY_ELISTEN), "cannot listen on a lab address");
  proxy_close(first);
  uv_run(&loop, UV_RUN_DEFAULT); /* what the failed starts began closing finishes too */
  test_loop_close(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_starts_and_closes),
      cmocka_unit_test(test_limits_given),
      cmocka_unit_test(test_failures_have_a_code_and_a_sentence),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
