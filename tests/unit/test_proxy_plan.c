/* tests/unit/test_proxy_plan.c: where serve --listen and --map put a scenario's hosts — one
 * address each while there are enough, shared (told apart by SNI and Host) when there are not,
 * hosts whose scenario needs an address of their own placed first — the warnings for what
 * sharing loses, the errors for bad flags, and a lab started on a shared address. */
#include "common/buf.h"
#include "proxy/proxy.h"
#include "tests/unit/testutil.h"

#include <arpa/inet.h>
#include <libknot/libknot.h>
#include <stdlib.h>
#include <string.h>

/* www listens on 443 and 80, exchange on 443 only, hole black-holes 443 and refuses 80. */
struct three {
  struct scn scn;
  struct scn_host hosts[3];
  char *www_names[2];
  char *ex_names[1];
  char *hole_names[1];
};

static void three_init(struct three *t, size_t n_hosts) {
  memset(t, 0, sizeof *t);
  t->www_names[0] = "contoso.com";
  t->www_names[1] = "www.contoso.com";
  t->ex_names[0] = "autodiscover.contoso.com";
  t->hole_names[0] = "hole.contoso.com";
  t->hosts[0] = (struct scn_host){.id = "www", .names = t->www_names, .n_names = 2};
  t->hosts[0].https.present = true;
  t->hosts[0].http.present = true;
  t->hosts[1] = (struct scn_host){.id = "exchange", .names = t->ex_names, .n_names = 1};
  t->hosts[1].https.present = true;
  t->hosts[2] = (struct scn_host){.id = "hole", .names = t->hole_names, .n_names = 1};
  t->hosts[2].https.present = true;
  t->hosts[2].https.fault = SCN_FAULT_BLACKHOLE;
  t->scn.domain = "contoso.com";
  t->scn.hosts = t->hosts;
  t->scn.n_hosts = n_hosts;
}

static struct proxy_plan *plan_ok(const struct scn *scn, const char *const *listen, size_t n_listen,
                                  const char *const *maps, size_t n_maps) {
  struct proxy_plan *plan = NULL;
  char err[512] = "";
  enum proxy_status st =
      proxy_plan_new(&plan, scn, listen, n_listen, maps, n_maps, err, sizeof err);
  if (st != PROXY_OK) {
    fail_msg("proxy_plan_new: %s", err);
  }
  assert_non_null(plan);
  return plan;
}

static void test_enough_addresses_one_host_each(void **state) {
  (void) state;
  struct three t;
  three_init(&t, 2);
  const char *listen[] = {"10.77.0.1", "10.77.0.2"};
  struct proxy_plan *plan = plan_ok(&t.scn, listen, 2, NULL, 0);
  /* in scenario order when nobody has to share */
  assert_string_equal(proxy_plan_host_address(plan, 0), "10.77.0.1");
  assert_string_equal(proxy_plan_host_address(plan, 1), "10.77.0.2");
  assert_int_equal(proxy_plan_n_warnings(plan), 0);
  assert_int_equal(proxy_plan_n_addresses(plan), 2);
  proxy_plan_free(plan);
}

static void test_one_address_is_shared_and_says_what_is_lost(void **state) {
  (void) state;
  struct three t;
  three_init(&t, 2);
  const char *listen[] = {"10.77.0.1"};
  struct proxy_plan *plan = plan_ok(&t.scn, listen, 1, NULL, 0);
  assert_string_equal(proxy_plan_host_address(plan, 0), "10.77.0.1");
  assert_string_equal(proxy_plan_host_address(plan, 1), "10.77.0.1");
  assert_int_equal(proxy_plan_n_warnings(plan), 1);
  assert_string_equal(proxy_plan_warning(plan, 0),
                      "host exchange: port 80 refuses connections in the scenario, but exchange "
                      "shares 10.77.0.1 with host www, which answers 10.77.0.1:80");
  assert_null(proxy_plan_warning(plan, 1));
  proxy_plan_free(plan);
}

static void test_hosts_needing_their_own_address_go_first(void **state) {
  (void) state;
  struct three t;
  three_init(&t, 3);
  const char *listen[] = {"10.77.0.1", "10.77.0.2"};
  struct proxy_plan *plan = plan_ok(&t.scn, listen, 2, NULL, 0);
  /* the black hole keeps an address to itself; www and exchange share the other */
  assert_string_equal(proxy_plan_host_address(plan, 2), "10.77.0.1");
  assert_string_equal(proxy_plan_host_address(plan, 0), "10.77.0.2");
  assert_string_equal(proxy_plan_host_address(plan, 1), "10.77.0.2");
  assert_int_equal(proxy_plan_n_warnings(plan), 1);
  assert_non_null(strstr(proxy_plan_warning(plan, 0), "host exchange: port 80 refuses"));
  proxy_plan_free(plan);
}

static void test_a_shared_fault_applies_to_everyone(void **state) {
  (void) state;
  struct three t;
  three_init(&t, 3);
  t.hosts[0].https.fault = SCN_FAULT_SILENT;
  const char *listen[] = {"10.77.0.1"};
  struct proxy_plan *plan = plan_ok(&t.scn, listen, 1, NULL, 0);
  const char *want[] = {
      "host exchange: shares 10.77.0.1:443 with host www, whose silent fault applies to every "
      "host there",
      "host hole: its blackhole fault on port 443 is lost: 10.77.0.1:443 has host www's silent "
      "fault",
      "host exchange: port 80 refuses connections in the scenario, but exchange shares "
      "10.77.0.1 with host www, which answers 10.77.0.1:80",
      "host hole: port 80 refuses connections in the scenario, but hole shares 10.77.0.1 with "
      "host www, which answers 10.77.0.1:80",
  };
  assert_int_equal(proxy_plan_n_warnings(plan), 4);
  for (size_t i = 0; i < 4; i++) {
    assert_string_equal(proxy_plan_warning(plan, i), want[i]);
  }
  proxy_plan_free(plan);
}

static void test_map_pins_a_host_and_adds_its_address(void **state) {
  (void) state;
  struct three t;
  three_init(&t, 3);
  const char *listen[] = {"10.77.0.1", "10.77.0.2", "10.77.0.3"};
  const char *maps[] = {"www=10.77.0.3", "exchange=10.77.0.9"};
  struct proxy_plan *plan = plan_ok(&t.scn, listen, 3, maps, 2);
  assert_string_equal(proxy_plan_host_address(plan, 0), "10.77.0.3");
  assert_string_equal(proxy_plan_host_address(plan, 1), "10.77.0.9");
  assert_string_equal(proxy_plan_host_address(plan, 2), "10.77.0.1");
  assert_int_equal(proxy_plan_n_addresses(plan), 4);
  assert_string_equal(proxy_plan_address(plan, 3), "10.77.0.9");
  /* 10.77.0.2 holds nobody: said, not an error */
  assert_int_equal(proxy_plan_n_warnings(plan), 1);
  assert_string_equal(proxy_plan_warning(plan, 0),
                      "10.77.0.2: no host was placed there (more addresses than hosts)");
  proxy_plan_free(plan);

  /* --map alone is a lab network too: its addresses are all there is */
  const char *only[] = {"exchange=192.168.56.10"};
  plan = plan_ok(&t.scn, NULL, 0, only, 1);
  for (size_t i = 0; i < 3; i++) {
    assert_string_equal(proxy_plan_host_address(plan, i), "192.168.56.10");
  }
  proxy_plan_free(plan);
}

static void test_ip_only_is_the_default_and_is_warned_about(void **state) {
  (void) state;
  struct three t;
  three_init(&t, 2);
  t.hosts[1].https.cert.profile = ca_profile_named("ip-only");
  assert_non_null(t.hosts[1].https.cert.profile);
  const char *listen[] = {"10.77.0.1"};
  struct proxy_plan *plan = plan_ok(&t.scn, listen, 1, NULL, 0);
  size_t n = proxy_plan_n_warnings(plan);
  bool named = false;
  for (size_t i = 0; i < n; i++) {
    /* the lab CA signs loopback addresses only: the certificate keeps the loopback address */
    named = named || strcmp(proxy_plan_warning(plan, i),
                            "host exchange: its ip-only certificate names 127.77.0.2, not "
                            "10.77.0.1: the lab CA certifies loopback addresses only, so a "
                            "client connecting to 10.77.0.1 sees a name mismatch") == 0;
    /* exchange is the default (a client by address gets its certificate): no SNI warning */
    assert_null(strstr(proxy_plan_warning(plan, i), "sends no name"));
  }
  assert_true(named);
  proxy_plan_free(plan);
}

static void check_error(const struct scn *scn, const char *listen, const char *map,
                        const char *want) {
  struct proxy_plan *plan = (struct proxy_plan *) 1;
  char err[512] = "";
  const char *l[] = {listen}, *m[] = {map};
  enum proxy_status st =
      proxy_plan_new(&plan, scn, l, listen != NULL, m, map != NULL, err, sizeof err);
  assert_int_equal(st, PROXY_EADDRESS);
  assert_null(plan);
  assert_string_equal(err, want);
}

static void test_bad_flags_say_what_is_wrong(void **state) {
  (void) state;
  struct three t;
  three_init(&t, 2);
  check_error(&t.scn, "10.77.0", NULL, "--listen 10.77.0: not an IPv4 address");
  check_error(&t.scn, "::1", NULL,
              "--listen ::1: IPv6 lab addresses are not supported; give an IPv4 address");
  check_error(&t.scn, "0.0.0.0", NULL,
              "--listen 0.0.0.0: the wildcard address cannot be a host's address: DNS must "
              "answer with the address a client connects to");
  check_error(&t.scn, "224.0.0.1", NULL,
              "--listen 224.0.0.1: a multicast or broadcast address cannot be a host's address");
  check_error(&t.scn, "10.77.0.1", "www",
              "--map www: expected HOST=IP (a host of the scenario, an address)");
  check_error(&t.scn, "10.77.0.1", "=10.77.0.1",
              "--map =10.77.0.1: expected HOST=IP (a host of the scenario, an address)");
  check_error(&t.scn, "10.77.0.1", "mail=10.77.0.1",
              "--map mail=10.77.0.1: the scenario has no host 'mail' (its hosts: www, exchange)");
  check_error(&t.scn, "10.77.0.1", "www=10.77.0.300", "--map www=10.77.0.300: not an IPv4 address");
  check_error(&t.scn, NULL, NULL, "no lab-network address: give --listen IP or --map HOST=IP");
  const char *maps[] = {"www=10.77.0.1", "www=10.77.0.2"};
  struct proxy_plan *plan = NULL;
  char err[256];
  assert_int_equal(proxy_plan_new(&plan, &t.scn, NULL, 0, maps, 2, err, sizeof err),
                   PROXY_EADDRESS);
  assert_string_equal(err, "--map www=10.77.0.2: host www is pinned twice");
}

/* Two plain-HTTP hosts (no certificates, no CA) on one loopback address, each with a route. */
struct plain_two {
  struct scn scn;
  struct scn_host hosts[2];
  struct scn_route routes[2];
  struct scn_record records[2];
  char *a_names[1];
  char *b_names[1];
};

static void plain_two_init(struct plain_two *t) {
  memset(t, 0, sizeof *t);
  t->a_names[0] = "a.contoso.com";
  t->b_names[0] = "b.contoso.com";
  for (int i = 0; i < 2; i++) {
    t->routes[i] = (struct scn_route){.path = "/", .kind = SCN_ROUTE_STATUS, .status = 200};
    t->hosts[i].http =
        (struct scn_listener){.present = true, .routes = &t->routes[i], .n_routes = 1};
  }
  t->hosts[0].id = "a";
  t->hosts[0].names = t->a_names;
  t->hosts[0].n_names = 1;
  t->hosts[1].id = "b";
  t->hosts[1].names = t->b_names;
  t->hosts[1].n_names = 1;
  t->records[0] = (struct scn_record){.name = "a.contoso.com", .type = KNOT_RRTYPE_A, .host = "a"};
  t->records[1] = (struct scn_record){.name = "b.contoso.com", .type = KNOT_RRTYPE_A, .host = "b"};
  t->scn.domain = "contoso.com";
  t->scn.hosts = t->hosts;
  t->scn.n_hosts = 2;
  t->scn.records = t->records;
  t->scn.n_records = 2;
}

static void test_a_lab_on_a_shared_address(void **state) {
  (void) state;
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  struct plain_two t;
  plain_two_init(&t);
  const char *listen[] = {"127.0.0.1"};
  struct proxy_plan *plan = plan_ok(&t.scn, listen, 1, NULL, 0);
  struct proxy_options opt = {.dns_listen = "127.0.0.1:0", .plan = plan};
  struct proxy *p = NULL;
  char err[512] = "";
  assert_int_equal(proxy_start(&p, &loop, &t.scn, &opt, err, sizeof err), PROXY_OK);
  assert_string_equal(proxy_host_address(p, 0), "127.0.0.1");
  assert_string_equal(proxy_host_address(p, 1), "127.0.0.1");
  uint16_t port = proxy_host_port(p, 0, false);
  assert_int_not_equal(port, 0);
  assert_int_equal(proxy_host_port(p, 1, false), port); /* one listener for both */
  assert_int_equal(proxy_host_port(p, 0, true), 0);     /* nobody listens on 443 */
  /* the port map sends 127.0.0.1:80 to that listener */
  struct sockaddr_in want;
  uv_ip4_addr("127.0.0.1", 80, &want);
  struct sockaddr_storage got;
  assert_true(proxy_map(p, (struct sockaddr *) &want, &got));
  assert_int_equal(ntohs(((struct sockaddr_in *) &got)->sin_port), port);
  char *ready = proxy_ready_json(p);
  assert_non_null(strstr(ready, "\"addresses\":[{\"address\":\"127.0.0.1\",\"hosts\":[\"a\",\"b\"],"
                                "\"default\":\"a\",\"shared\":true,\"lost\":["));
  assert_non_null(strstr(ready, "\"warnings\":[]"));
  free(ready);
  assert_int_equal(proxy_n_warnings(p), 0);
  proxy_close(p);

  /* a plan made for another scenario is refused */
  struct plain_two other;
  plain_two_init(&other);
  assert_int_equal(proxy_start(&p, &loop, &other.scn, &opt, err, sizeof err), PROXY_EADDRESS);
  assert_null(p);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  proxy_plan_free(plan);
}

static void test_without_a_plan_each_host_has_its_loopback_address(void **state) {
  (void) state;
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  struct plain_two t;
  plain_two_init(&t);
  struct proxy_options opt = {.dns_listen = "127.0.0.1:0", .address_base = "127.77.3.1"};
  struct proxy *p = NULL;
  char err[512] = "";
  assert_int_equal(proxy_start(&p, &loop, &t.scn, &opt, err, sizeof err), PROXY_OK);
  assert_string_equal(proxy_host_address(p, 0), "127.77.3.1");
  assert_string_equal(proxy_host_address(p, 1), "127.77.3.2");
  assert_int_not_equal(proxy_host_port(p, 0, false), proxy_host_port(p, 1, false));
  char *ready = proxy_ready_json(p);
  assert_non_null(strstr(ready, "{\"address\":\"127.77.3.2\",\"hosts\":[\"b\"],\"default\":\"b\","
                                "\"shared\":false}"));
  free(ready);
  proxy_close(p);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
}

/* other_ports gives plain_two's hosts listeners on other ports: a on 8080 (plain HTTP) and 8443
 * (plain here, so no CA is needed), b on 8443 with TLS. */
struct other_ports {
  struct plain_two t;
  struct scn_listener a_other[2];
  struct scn_listener b_other[1];
};

static void other_ports_init(struct other_ports *o) {
  plain_two_init(&o->t);
  o->a_other[0] = (struct scn_listener){
      .present = true, .port = 8080, .routes = &o->t.routes[0], .n_routes = 1};
  o->a_other[1] = (struct scn_listener){.present = true, .port = 8443};
  o->b_other[0] = (struct scn_listener){.present = true, .port = 8443, .tls = true};
  o->t.hosts[0].listeners = o->a_other;
  o->t.hosts[0].n_listeners = 2;
  o->t.hosts[1].listeners = o->b_other;
  o->t.hosts[1].n_listeners = 1;
}

static void test_other_ports_when_shared(void **state) {
  (void) state;
  struct other_ports o;
  other_ports_init(&o);
  const char *listen[] = {"10.77.0.1"};
  struct proxy_plan *plan = plan_ok(&o.t.scn, listen, 1, NULL, 0);
  assert_int_equal(proxy_plan_n_warnings(plan), 2);
  assert_string_equal(proxy_plan_warning(plan, 0),
                      "host b: port 8080 refuses connections in the scenario, but b shares "
                      "10.77.0.1 with host a, which answers 10.77.0.1:8080");
  assert_string_equal(proxy_plan_warning(plan, 1),
                      "host b: its port 8443 is TLS, but 10.77.0.1:8443 is host a's plain HTTP "
                      "listener, which answers for it");
  proxy_plan_free(plan);
}

static void test_other_ports_are_bound_and_mapped(void **state) {
  (void) state;
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  struct other_ports o;
  other_ports_init(&o);
  o.t.hosts[1].n_listeners = 0; /* b's TLS port would need a CA */
  struct proxy_options opt = {.dns_listen = "127.0.0.1:0", .address_base = "127.77.4.1"};
  struct proxy *p = NULL;
  char err[512] = "";
  assert_int_equal(proxy_start(&p, &loop, &o.t.scn, &opt, err, sizeof err), PROXY_OK);
  uint16_t port = proxy_host_listener_port(p, 0, 8080);
  assert_int_not_equal(port, 0); /* run's ports are free ones */
  assert_int_not_equal(port, 8080);
  assert_int_not_equal(proxy_host_listener_port(p, 0, 8443), 0);
  assert_int_equal(proxy_host_listener_port(p, 1, 8080), 0); /* b has no such port */
  assert_int_equal(proxy_host_listener_port(p, 0, 9999), 0);
  /* the port map sends a:8080 there; b's address has no 8080 at all */
  struct sockaddr_in want;
  struct sockaddr_storage got;
  uv_ip4_addr("127.77.4.1", 8080, &want);
  assert_true(proxy_map(p, (struct sockaddr *) &want, &got));
  assert_int_equal(ntohs(((struct sockaddr_in *) &got)->sin_port), port);
  uv_ip4_addr("127.77.4.2", 8080, &want);
  assert_false(proxy_map(p, (struct sockaddr *) &want, &got));
  char *ready = proxy_ready_json(p);
  char part[256];
  buf_fmt(part, sizeof part,
          "\"listeners\":[{\"port\":8080,\"tls\":false,\"bound\":%u},{\"port\":8443,"
          "\"tls\":false,\"bound\":%u}]",
          port, proxy_host_listener_port(p, 0, 8443));
  assert_non_null(strstr(ready, part));
  assert_non_null(strstr(ready, "\"id\":\"b\",\"names\":[\"b.contoso.com\"],\"address\":"
                                "\"127.77.4.2\",\"https\":null,"));
  free(ready);
  proxy_close(p);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_enough_addresses_one_host_each),
      cmocka_unit_test(test_one_address_is_shared_and_says_what_is_lost),
      cmocka_unit_test(test_hosts_needing_their_own_address_go_first),
      cmocka_unit_test(test_a_shared_fault_applies_to_everyone),
      cmocka_unit_test(test_map_pins_a_host_and_adds_its_address),
      cmocka_unit_test(test_ip_only_is_the_default_and_is_warned_about),
      cmocka_unit_test(test_bad_flags_say_what_is_wrong),
      cmocka_unit_test(test_a_lab_on_a_shared_address),
      cmocka_unit_test(test_without_a_plan_each_host_has_its_loopback_address),
      cmocka_unit_test(test_other_ports_when_shared),
      cmocka_unit_test(test_other_ports_are_bound_and_mapped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
