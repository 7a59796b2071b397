/* tests/unit/test_dns_upstream.c: dns.overlay over real sockets — an overlay server forwards to a
 * second lab server playing the real resolver, over UDP and TCP, and answers the removed record
 * itself; a resolver that never answers gives SERVFAIL within the overlay's timeout, one that is
 * not there (ICMP, RST) at once; every exchange is an upstream.dns event; closing the server with
 * queries still waiting leaves no handle behind; an upstream that is the lab's own DNS is refused
 * at start (its queries would come back forever). */
#include "common/buf.h"
#include "proxy/dns/dns.h"
#include "proxy/dns/internal.h"
#include "tests/unit/test_dns_fixture.h"
#include "tests/unit/testutil.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char REAL[] = "name: real\n"
                           "description: x\n"
                           "domain: contoso.com\n"
                           "dns:\n"
                           "  records:\n"
                           "    - { name: contoso.com, type: A, address: 198.51.100.1 }\n"
                           "    - { name: contoso.com, type: MX, target: mail.contoso.com }\n"
                           "    - { name: www.contoso.com, type: CNAME, target: contoso.com }\n"
                           "    - { name: mail.contoso.com, type: A, address: 198.51.100.2 }\n";

struct lab {
  struct scn *scn;
  struct dns_zoneset *zs;
  struct dns_server *server;
  struct sockaddr_storage addr;
};

static void lab_start(struct lab *l, uv_loop_t *loop, const char *text, struct jnl *j) {
  char err[512] = "";
  if (scn_load_string(&l->scn, "mem.yaml", text, strlen(text), err, sizeof err) != SCN_OK) {
    fail_msg("%s", err);
  }
  if (dns_zoneset_new(&l->zs, l->scn, NULL, err, sizeof err) != DNS_OK) {
    fail_msg("%s", err);
  }
  struct sockaddr_in any;
  uv_ip4_addr("127.0.0.1", 0, &any);
  assert_int_equal(
      dns_server_start(&l->server, loop, (struct sockaddr *) &any, l->zs, j, err, sizeof err),
      DNS_OK);
  dns_server_addr(l->server, &l->addr);
}

static void lab_stop(struct lab *l) {
  dns_server_close(l->server);
  dns_zoneset_free(l->zs);
  scn_free(l->scn);
}

/* overlay_text is an overlay scenario over the resolver at port `port` of 127.0.0.1. */
static void overlay_text(char *out, size_t size, unsigned port, const char *timeout) {
  buf_fmt(out, size,
          "name: overlay\n"
          "description: x\n"
          "domain: contoso.com\n"
          "dns:\n"
          "  overlay: { upstream: \"127.0.0.1:%u\", timeout: %s }\n"
          "  records:\n"
          "    - { name: contoso.com, type: A, remove: true }\n",
          port, timeout);
}

static unsigned port_of(const struct sockaddr_storage *ss) {
  return ntohs(((const struct sockaddr_in *) ss)->sin_port);
}

static size_t make_query(uint8_t *wire, const char *name, uint16_t type) {
  return dns_test_query(wire, 512, 0x4242, name, type, true, 0);
}

/* pump runs the loop until `fd` has something to read or `ms` passed; the bytes read, or -1. */
static ssize_t pump(uv_loop_t *loop, int fd, uint8_t *buf, size_t size, int ms) {
  for (int waited = 0; waited < ms; waited += 2) {
    uv_run(loop, UV_RUN_NOWAIT);
    ssize_t n = recv(fd, buf, size, MSG_DONTWAIT);
    if (n >= 0) {
      return n;
    }
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    poll(&p, 1, 2);
  }
  return -1;
}

static int udp_client(const struct sockaddr_storage *to) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  assert_int_equal(connect(fd, (const struct sockaddr *) to, sizeof(struct sockaddr_in)), 0);
  return fd;
}

/* udp_ask sends one query and waits up to `ms` for the answer; returns its RCODE, *n_answer. */
static int udp_ask(uv_loop_t *loop, const struct sockaddr_storage *to, const char *name,
                   uint16_t type, int ms, int *n_answer) {
  int fd = udp_client(to);
  uint8_t q[512];
  uint8_t a[4096];
  size_t qlen = make_query(q, name, type);
  assert_int_equal(send(fd, q, qlen, 0), (ssize_t) qlen);
  ssize_t n = pump(loop, fd, a, sizeof a, ms);
  close(fd);
  assert_true(n >= 12);
  assert_int_equal(knot_wire_get_id(a), 0x4242);
  *n_answer = knot_wire_get_ancount(a);
  return knot_wire_get_rcode(a);
}

static int tcp_ask(uv_loop_t *loop, const struct sockaddr_storage *to, const char *name,
                   uint16_t type, int *n_answer) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  /* over loopback the kernel completes the handshake before the server accepts */
  assert_int_equal(connect(fd, (const struct sockaddr *) to, sizeof(struct sockaddr_in)), 0);
  uint8_t q[2 + 512];
  uint8_t a[2 + 4096];
  size_t qlen = make_query(q + 2, name, type);
  knot_wire_write_u16(q, (uint16_t) qlen);
  assert_int_equal(send(fd, q, 2 + qlen, 0), (ssize_t) (2 + qlen));
  size_t got = 0;
  while (got < 2 || got < 2 + (size_t) knot_wire_read_u16(a)) {
    ssize_t n = pump(loop, fd, a + got, sizeof a - got, 3000);
    assert_true(n > 0);
    got += (size_t) n;
  }
  close(fd);
  assert_int_equal(knot_wire_get_id(a + 2), 0x4242);
  *n_answer = knot_wire_get_ancount(a + 2);
  return knot_wire_get_rcode(a + 2);
}

static char *journal_text(FILE *f) {
  fflush(f);
  long size = ftell(f);
  char *text = xcalloc(1, (size_t) size + 1);
  rewind(f);
  assert_int_equal(fread(text, 1, (size_t) size, f), (size_t) size);
  return text;
}

static void test_forwarded_over_udp_and_tcp_and_removed_locally(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  FILE *jf = tmpfile();
  struct jnl *j = jnl_open_stream(jf);
  struct lab real = {0};
  struct lab overlay = {0};
  lab_start(&real, &loop, REAL, NULL);
  char text[1024];
  overlay_text(text, sizeof text, port_of(&real.addr), "2s");
  lab_start(&overlay, &loop, text, j);
  int n = 0;
  assert_int_equal(udp_ask(&loop, &overlay.addr, "contoso.com", KNOT_RRTYPE_MX, 3000, &n),
                   KNOT_RCODE_NOERROR);
  assert_int_equal(n, 1); /* the real MX */
  assert_int_equal(tcp_ask(&loop, &overlay.addr, "mail.contoso.com", KNOT_RRTYPE_A, &n),
                   KNOT_RCODE_NOERROR);
  assert_int_equal(n, 1);
  assert_int_equal(udp_ask(&loop, &overlay.addr, "contoso.com", KNOT_RRTYPE_A, 3000, &n),
                   KNOT_RCODE_NOERROR);
  assert_int_equal(n, 0); /* removed: NODATA, the name keeps its MX */
  assert_int_equal(tcp_ask(&loop, &overlay.addr, "www.contoso.com", KNOT_RRTYPE_A, &n),
                   KNOT_RCODE_NOERROR);
  assert_int_equal(n, 1); /* the real CNAME, cut where it reaches the removed A */
  assert_int_equal(udp_ask(&loop, &overlay.addr, "nothing.contoso.com", KNOT_RRTYPE_A, 3000, &n),
                   KNOT_RCODE_NXDOMAIN);
  char *log = journal_text(jf);
  assert_non_null(strstr(log, "\"ev\":\"upstream.dns\",\"qname\":\"contoso.com\",\"qtype\":\"MX\","
                              "\"upstream\":\"127.0.0.1:"));
  assert_non_null(strstr(log, "\"transport\":\"tcp\",\"rcode\":\"NOERROR\",\"answers\":1"));
  assert_non_null(strstr(log, "\"overlay\":\"remove\""));
  assert_non_null(strstr(log, "\"overlay\":\"forward\""));
  free(log);
  lab_stop(&overlay);
  lab_stop(&real);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  jnl_close(j);
  fclose(jf);
}

static void test_a_silent_upstream_gives_servfail_within_the_timeout(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  FILE *jf = tmpfile();
  struct jnl *j = jnl_open_stream(jf);
  /* a bound socket that never answers */
  int silent = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in any;
  uv_ip4_addr("127.0.0.1", 0, &any);
  assert_int_equal(bind(silent, (struct sockaddr *) &any, sizeof any), 0);
  struct sockaddr_storage bound;
  socklen_t len = sizeof bound;
  getsockname(silent, (struct sockaddr *) &bound, &len);
  struct lab overlay = {0};
  char text[1024];
  overlay_text(text, sizeof text, port_of(&bound), "200ms");
  lab_start(&overlay, &loop, text, j);
  int n = 0;
  uint64_t before = uv_hrtime();
  assert_int_equal(udp_ask(&loop, &overlay.addr, "mail.contoso.com", KNOT_RRTYPE_A, 3000, &n),
                   KNOT_RCODE_SERVFAIL);
  uint64_t ms = (uv_hrtime() - before) / 1000000;
  assert_true(ms >= 150 && ms < 2000);
  char *log = journal_text(jf);
  assert_non_null(strstr(log, "\"error\":\"no answer within 200 ms\""));
  assert_non_null(strstr(log, "\"why\":\"no answer within 200 ms\""));
  free(log);
  lab_stop(&overlay);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  close(silent);
  jnl_close(j);
  fclose(jf);
}

static void test_an_absent_upstream_fails_at_once(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  /* a port nothing is bound to: ICMP port unreachable for UDP, RST for TCP */
  int probe = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in any;
  uv_ip4_addr("127.0.0.1", 0, &any);
  assert_int_equal(bind(probe, (struct sockaddr *) &any, sizeof any), 0);
  struct sockaddr_storage bound;
  socklen_t len = sizeof bound;
  getsockname(probe, (struct sockaddr *) &bound, &len);
  close(probe);
  struct lab overlay = {0};
  char text[1024];
  overlay_text(text, sizeof text, port_of(&bound), "10s");
  lab_start(&overlay, &loop, text, NULL);
  int n = 0;
  assert_int_equal(udp_ask(&loop, &overlay.addr, "mail.contoso.com", KNOT_RRTYPE_A, 3000, &n),
                   KNOT_RCODE_SERVFAIL);
  assert_int_equal(tcp_ask(&loop, &overlay.addr, "mail.contoso.com", KNOT_RRTYPE_A, &n),
                   KNOT_RCODE_SERVFAIL);
  lab_stop(&overlay);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
}

static void test_closing_with_queries_waiting_leaves_nothing_behind(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  int silent = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in any;
  uv_ip4_addr("127.0.0.1", 0, &any);
  assert_int_equal(bind(silent, (struct sockaddr *) &any, sizeof any), 0);
  struct sockaddr_storage bound;
  socklen_t len = sizeof bound;
  getsockname(silent, (struct sockaddr *) &bound, &len);
  struct lab overlay = {0};
  char text[1024];
  overlay_text(text, sizeof text, port_of(&bound), "10s");
  lab_start(&overlay, &loop, text, NULL);
  int fd = udp_client(&overlay.addr);
  uint8_t q[512];
  uint8_t a[512];
  size_t qlen = make_query(q, "mail.contoso.com", KNOT_RRTYPE_A);
  assert_int_equal(send(fd, q, qlen, 0), (ssize_t) qlen);
  /* wait until the query reached the silent resolver, then close */
  struct pollfd p = {.fd = silent, .events = POLLIN};
  for (int i = 0; i < 1000 && poll(&p, 1, 0) == 0; i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    poll(&p, 1, 2);
  }
  assert_true((p.revents & POLLIN) != 0);
  assert_int_equal(recv(silent, a, sizeof a, 0) > 12, 1);
  lab_stop(&overlay);
  uv_run(&loop, UV_RUN_DEFAULT);
  test_loop_close(&loop);
  close(fd);
  close(silent);
}

static void test_an_upstream_that_is_the_lab_itself_is_refused(void **state) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  char text[1024];
  overlay_text(text, sizeof text, 5399, "1s");
  struct scn *scn = NULL;
  char err[512] = "";
  assert_int_equal(scn_load_string(&scn, "mem.yaml", text, strlen(text), err, sizeof err), SCN_OK);
  struct dns_zoneset *zs = NULL;
  assert_int_equal(dns_zoneset_new(&zs, scn, NULL, err, sizeof err), DNS_OK);
  struct sockaddr_in at;
  uv_ip4_addr("127.0.0.1", 5399, &at);
  struct dns_server *server = NULL;
  assert_int_equal(
      dns_server_start(&server, &loop, (struct sockaddr *) &at, zs, NULL, err, sizeof err),
      DNS_ESELF);
  assert_null(server);
  assert_non_null(strstr(err, "is where the lab's own DNS listens"));
  dns_zoneset_free(zs);
  scn_free(scn);
  test_loop_close(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_forwarded_over_udp_and_tcp_and_removed_locally),
      cmocka_unit_test(test_a_silent_upstream_gives_servfail_within_the_timeout),
      cmocka_unit_test(test_an_absent_upstream_fails_at_once),
      cmocka_unit_test(test_closing_with_queries_waiting_leaves_nothing_behind),
      cmocka_unit_test(test_an_upstream_that_is_the_lab_itself_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
