/* tests/unit/test_dns_server.c: dns_server_start on 127.0.0.1:0 answers a UDP query and
 * pipelined, split TCP queries on the same port, journals each, and closes cleanly. */
#include "common/buf.h"
#include "proxy/dns/dns.h"
#include "tests/unit/test_dns_fixture.h"
#include "tests/unit/testutil.h"

#include <errno.h>
#include <libknot/libknot.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct dns_zoneset *small_zoneset(void) {
  struct scn s = {0};
  struct scn_record records[41] = {0};
  char texts[40][48];
  records[0] =
      (struct scn_record){.name = "contoso.com", .type = KNOT_RRTYPE_A, .ttl = 300, .host = "www"};
  for (int i = 0; i < 40; i++) {
    buf_fmt(texts[i], sizeof texts[i], "record number %02d of a long TXT set", i);
    records[1 + i] = (struct scn_record){
        .name = "big.contoso.com", .type = KNOT_RRTYPE_TXT, .ttl = 300, .text = texts[i]};
  }
  struct scn_host host = {.id = "www"};
  const char *addrs[] = {"127.0.0.2"};
  s.domain = "contoso.com";
  s.records = records;
  s.n_records = 41;
  s.hosts = &host;
  s.n_hosts = 1;
  char err[256];
  struct dns_zoneset *zs = NULL;
  assert_int_equal(dns_zoneset_new(&zs, &s, addrs, err, sizeof err), DNS_OK);
  assert_non_null(zs);
  return zs;
}

static size_t make_query(uint8_t *wire, uint16_t id, const char *name, uint16_t type) {
  return dns_test_query(wire, 512, id, name, type, false, 0);
}

/* check_reply parses one response and returns its RCODE; *n_answer and *tc tell the rest. */
static int check_reply(const uint8_t *wire, size_t len, int *n_answer, bool *tc) {
  knot_pkt_t *p = knot_pkt_new((void *) wire, (uint16_t) len, NULL);
  assert_non_null(p);
  assert_int_equal(knot_pkt_parse(p, 0), KNOT_EOK);
  assert_true(knot_wire_get_qr(wire));
  assert_true(knot_wire_get_aa(wire));
  *n_answer = knot_wire_get_ancount(wire);
  *tc = knot_wire_get_tc(wire) != 0;
  int rcode = knot_wire_get_rcode(wire);
  knot_pkt_free(p);
  return rcode;
}

struct client {
  uv_loop_t *loop;
  struct dns_server *server;
  struct sockaddr_storage addr;
  uv_udp_t udp;
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_timer_t pause;
  uv_write_t writes[2];
  uint8_t query[1024];
  size_t query_len;
  size_t first_len; /* the first TCP message, framed */
  uint8_t in[70000];
  size_t in_len;
  int udp_answers;
  int udp_nxdomain_rcode;
  int udp_replies;
  bool udp_tc;
  int tcp_replies;
  int tcp_answers[3];
  bool tcp_eof;
  uint8_t udp_buf[4096];
};

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct client *c = h->data;
  *buf = uv_buf_init((char *) c->udp_buf, sizeof c->udp_buf);
}

static void tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct client *c = h->data;
  *buf = uv_buf_init((char *) c->in + c->in_len, (unsigned) (sizeof c->in - c->in_len));
}

static void tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  struct client *c = s->data;
  if (nread < 0) {
    c->tcp_eof = true; /* the server closed it: dns_server_close ends open connections */
    uv_close((uv_handle_t *) &c->tcp, NULL);
    return;
  }
  c->in_len += (size_t) nread;
  while (c->in_len >= 2) {
    size_t len = knot_wire_read_u16(c->in);
    if (c->in_len < 2 + len) {
      break;
    }
    bool tc = true;
    assert_true(c->tcp_replies < 3);
    assert_int_equal(knot_wire_get_id(c->in + 2), 10 + c->tcp_replies); /* in order */
    assert_int_equal(check_reply(c->in + 2, len, &c->tcp_answers[c->tcp_replies], &tc),
                     KNOT_RCODE_NOERROR);
    assert_false(tc);
    c->tcp_replies++;
    memmove(c->in, c->in + 2 + len, c->in_len - 2 - len);
    c->in_len -= 2 + len;
  }
  if (c->tcp_replies == 3) {
    dns_server_close(c->server); /* with this connection still open */
  }
}

static void write_done(uv_write_t *w, int status) {
  assert_int_equal(status, 0);
}

/* send_rest writes the rest of the first message and two whole ones in one go. */
static void send_rest(uv_timer_t *t) {
  struct client *c = t->data;
  uv_buf_t b = uv_buf_init((char *) c->query + 1, (unsigned) (c->query_len - 1));
  assert_int_equal(uv_write(&c->writes[1], (uv_stream_t *) &c->tcp, &b, 1, write_done), 0);
  uv_close((uv_handle_t *) &c->pause, NULL);
}

static void tcp_connected(uv_connect_t *req, int status) {
  struct client *c = req->data;
  assert_int_equal(status, 0);
  /* three framed queries: contoso.com A, big TXT (too big for UDP), contoso.com A */
  uint8_t q[512];
  size_t at = 0;
  const char *names[] = {"contoso.com", "big.contoso.com", "contoso.com"};
  const uint16_t types[] = {KNOT_RRTYPE_A, KNOT_RRTYPE_TXT, KNOT_RRTYPE_A};
  for (int i = 0; i < 3; i++) {
    size_t len = make_query(q, (uint16_t) (10 + i), names[i], types[i]);
    knot_wire_write_u16(c->query + at, (uint16_t) len);
    memcpy(c->query + at + 2, q, len);
    at += 2 + len;
  }
  c->query_len = at;
  /* one byte first, the rest later: the server must wait for a whole message */
  uv_buf_t b = uv_buf_init((char *) c->query, 1);
  assert_int_equal(uv_write(&c->writes[0], (uv_stream_t *) &c->tcp, &b, 1, write_done), 0);
  assert_int_equal(uv_read_start((uv_stream_t *) &c->tcp, tcp_alloc, tcp_read), 0);
  uv_timer_init(c->loop, &c->pause);
  c->pause.data = c;
  uv_timer_start(&c->pause, send_rest, 50, 0);
}

static void udp_send(struct client *c, uint16_t id, const char *name, uint16_t type) {
  uint8_t q[512];
  size_t len = make_query(q, id, name, type);
  uv_buf_t b = uv_buf_init((char *) q, (unsigned) len);
  assert_int_equal(uv_udp_try_send(&c->udp, &b, 1, (struct sockaddr *) &c->addr), (int) len);
}

static void udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
                     unsigned flags) {
  struct client *c = h->data;
  if (nread <= 0) {
    return;
  }
  const uint8_t *wire = (const uint8_t *) buf->base;
  bool tc = false;
  int n = 0;
  int rcode = check_reply(wire, (size_t) nread, &n, &tc);
  c->udp_replies++;
  switch (knot_wire_get_id(wire)) {
    case 1:
      assert_int_equal(rcode, KNOT_RCODE_NOERROR);
      c->udp_answers = n;
      break;
    case 3: c->udp_nxdomain_rcode = rcode; break;
    case 2:
      c->udp_tc = tc;
      uv_close((uv_handle_t *) &c->udp, NULL);
      /* now TCP, on the same port */
      uv_tcp_init(c->loop, &c->tcp);
      c->tcp.data = c;
      c->connect.data = c;
      assert_int_equal(
          uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *) &c->addr, tcp_connected), 0);
      return;
    default: fail_msg("unexpected id %u", knot_wire_get_id(wire));
  }
  if (c->udp_replies == 2) {
    /* the big TXT set, truncated over UDP */
    udp_send(c, 2, "big.contoso.com", KNOT_RRTYPE_TXT);
  }
}

static size_t count_lines(const char *text, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle)) {
    n++;
  }
  return n;
}

static void test_udp_and_tcp_on_one_port(void **state) {
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  struct dns_zoneset *zs = small_zoneset();
  FILE *journal_file = tmpfile();
  assert_non_null(journal_file);
  struct jnl *j = jnl_open_stream(journal_file);
  struct sockaddr_in any;
  uv_ip4_addr("127.0.0.1", 0, &any);
  struct client *c = xcalloc(1, sizeof *c);
  c->loop = &loop;
  char err[256];
  assert_int_equal(
      dns_server_start(&c->server, &loop, (struct sockaddr *) &any, zs, j, err, sizeof err),
      DNS_OK);
  dns_server_addr(c->server, &c->addr);
  assert_int_equal(c->addr.ss_family, AF_INET);
  assert_int_not_equal(((struct sockaddr_in *) &c->addr)->sin_port, 0);

  uv_udp_init(&loop, &c->udp);
  c->udp.data = c;
  assert_int_equal(uv_udp_recv_start(&c->udp, udp_alloc, udp_recv), 0);
  /* garbage first: journaled as dropped, no answer */
  uv_buf_t b = uv_buf_init("\x01\x02\x03", 3);
  assert_int_equal(uv_udp_try_send(&c->udp, &b, 1, (struct sockaddr *) &c->addr), 3);
  udp_send(c, 1, "contoso.com", KNOT_RRTYPE_A);
  udp_send(c, 3, "nothere.contoso.com", KNOT_RRTYPE_A);

  uv_run(&loop, UV_RUN_DEFAULT);
  assert_int_equal(c->udp_answers, 1);
  assert_int_equal(c->udp_nxdomain_rcode, KNOT_RCODE_NXDOMAIN);
  assert_int_equal(c->udp_replies, 3);
  assert_true(c->udp_tc);
  assert_int_equal(c->tcp_replies, 3);
  assert_int_equal(c->tcp_answers[0], 1);
  assert_int_equal(c->tcp_answers[1], 40);
  assert_int_equal(c->tcp_answers[2], 1);
  assert_true(c->tcp_eof);
  test_loop_close(&loop);

  jnl_close(j);
  fflush(journal_file);
  long size = ftell(journal_file);
  assert_true(size > 0);
  char *text = xcalloc(1, (size_t) size + 1);
  rewind(journal_file);
  assert_int_equal(fread(text, 1, (size_t) size, journal_file), (size_t) size);
  assert_int_equal(count_lines(text, "\"ev\":\"dns.query\""), 7);
  assert_int_equal(count_lines(text, "\"transport\":\"udp\""), 4);
  assert_int_equal(count_lines(text, "\"transport\":\"tcp\""), 3);
  assert_int_equal(count_lines(text, "\"qtype\":\"TXT\""), 2);
  assert_int_equal(count_lines(text, "\"rcode\":\"NOERROR\""), 5);
  assert_int_equal(count_lines(text, "\"tc\":true"), 1);
  assert_int_equal(count_lines(text, "\"answers\":40"), 1);
  assert_int_equal(count_lines(text, "\"rcode\":\"NXDOMAIN\""), 1);
  assert_int_equal(count_lines(text, "\"dropped\":true"), 1);
  assert_int_equal(count_lines(text, "\"why\":\"shorter than a DNS header\""), 1);
  assert_int_equal(count_lines(text, "\"client\":\"127.0.0.1:"), 7);
  assert_non_null(strstr(text, "\"qname\":\"big.contoso.com\""));
  free(text);
  fclose(journal_file);
  free(c);
  dns_zoneset_free(zs);
}

static void test_bind_failures_are_reported(void **state) {
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  struct dns_zoneset *zs = small_zoneset();
  struct dns_server *first = NULL;
  struct dns_server *second = NULL;
  struct sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", 0, &addr);
  char err[256];
  assert_int_equal(
      dns_server_start(&first, &loop, (struct sockaddr *) &addr, zs, NULL, err, sizeof err),
      DNS_OK);
  struct sockaddr_storage bound;
  dns_server_addr(first, &bound);
  /* the same port again: taken */
  assert_int_equal(
      dns_server_start(&second, &loop, (struct sockaddr *) &bound, zs, NULL, err, sizeof err),
      DNS_ELISTEN);
  assert_null(second);
  assert_non_null(strstr(err, "127.0.0.1:"));
  assert_non_null(strstr(err, "in use"));
  /* an address this machine does not have */
  uv_ip4_addr("192.0.2.1", 0, &addr);
  assert_int_equal(
      dns_server_start(&second, &loop, (struct sockaddr *) &addr, zs, NULL, err, sizeof err),
      DNS_ELISTEN);
  assert_null(second);
  assert_non_null(strstr(err, "192.0.2.1"));
  /* no address at all */
  assert_int_equal(dns_server_start(&second, &loop, NULL, zs, NULL, err, sizeof err), DNS_EADDRESS);
  assert_null(second);
  assert_string_equal(dns_strerror(DNS_EADDRESS), "not an IPv4 or IPv6 address");
  dns_server_close(first);
  dns_server_close(first); /* a second close is harmless until the loop runs */
  test_loop_close(&loop);
  dns_zoneset_free(zs);
}

/* --- a truncate rule over UDP, the retry over TCP, and a wildcard, as a client sees them --- */

static struct dns_zoneset *rules_zoneset(void) {
  struct scn s = {0};
  struct scn_record records[] = {
      {.name = "tc.contoso.com", .type = KNOT_RRTYPE_A, .address = "10.0.0.1"},
      {.name = "*.wild.contoso.com", .type = KNOT_RRTYPE_A, .address = "10.0.0.9"},
  };
  struct scn_dns_rule rules[] = {
      {.name = "tc.contoso.com", .type = KNOT_RRTYPE_A, .behaviour = SCN_DNS_TRUNCATE},
      {.name = "once.wild.contoso.com", .behaviour = SCN_DNS_SERVFAIL, .first_n = 1},
  };
  s.domain = "contoso.com";
  s.records = records;
  s.n_records = 2;
  s.rules = rules;
  s.n_rules = 2;
  char err[256];
  struct dns_zoneset *zs = NULL;
  assert_int_equal(dns_zoneset_new(&zs, &s, NULL, err, sizeof err), DNS_OK);
  assert_non_null(zs);
  return zs;
}

/* pump runs the loop until `fd` has something to read (or 5 s pass) and reads it. */
static size_t pump(uv_loop_t *loop, int fd, uint8_t *buf, size_t cap) {
  for (int i = 0; i < 5000; i++) {
    uv_run(loop, UV_RUN_NOWAIT);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 1) == 1) {
      ssize_t n = recv(fd, buf, cap, 0);
      assert_true(n > 0);
      return (size_t) n;
    }
  }
  fail_msg("no answer from the server");
  return 0;
}

/* udp_ask sends one query over UDP and returns the response's length in `out`. */
static size_t udp_ask(uv_loop_t *loop, const struct sockaddr_storage *addr, uint16_t id,
                      const char *name, uint16_t type, uint8_t *out, size_t cap) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  assert_true(fd >= 0);
  uint8_t q[512];
  size_t len = make_query(q, id, name, type);
  assert_int_equal(
      sendto(fd, q, len, 0, (const struct sockaddr *) addr, sizeof(struct sockaddr_in)),
      (ssize_t) len);
  size_t n = pump(loop, fd, out, cap);
  close(fd);
  return n;
}

/* tcp_ask sends one framed query over a new TCP connection and reads the framed response. */
static size_t tcp_ask(uv_loop_t *loop, const struct sockaddr_storage *addr, uint16_t id,
                      const char *name, uint16_t type, uint8_t *out, size_t cap) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  /* loopback connects complete in the kernel's backlog, before the loop accepts */
  assert_int_equal(connect(fd, (const struct sockaddr *) addr, sizeof(struct sockaddr_in)), 0);
  uint8_t q[514];
  size_t len = make_query(q + 2, id, name, type);
  knot_wire_write_u16(q, (uint16_t) len);
  assert_int_equal(send(fd, q, len + 2, 0), (ssize_t) len + 2);
  size_t got = 0;
  while (got < 2 || got < 2 + (size_t) knot_wire_read_u16(out)) {
    got += pump(loop, fd, out + got, cap - got);
  }
  close(fd);
  assert_int_equal(got, 2 + (size_t) knot_wire_read_u16(out));
  memmove(out, out + 2, got - 2);
  return got - 2;
}

/* A server on 127.0.0.1 with its journal in a temporary file, for the tests that read what it
 * journaled. */
struct journaled {
  uv_loop_t loop;
  FILE *file;
  struct jnl *j;
  struct dns_server *server;
  struct sockaddr_storage addr;
};

static void journaled_start(struct journaled *t, struct dns_zoneset *zs) {
  assert_int_equal(uv_loop_init(&t->loop), 0);
  t->file = tmpfile();
  assert_non_null(t->file);
  t->j = jnl_open_stream(t->file);
  struct sockaddr_in any;
  uv_ip4_addr("127.0.0.1", 0, &any);
  char err[256];
  t->server = NULL;
  assert_int_equal(
      dns_server_start(&t->server, &t->loop, (struct sockaddr *) &any, zs, t->j, err, sizeof err),
      DNS_OK);
  dns_server_addr(t->server, &t->addr);
}

/* journaled_stop closes the server and the journal and returns what it journaled (to free). */
static char *journaled_stop(struct journaled *t) {
  dns_server_close(t->server);
  test_loop_close(&t->loop);
  jnl_close(t->j);
  fflush(t->file);
  long size = ftell(t->file);
  assert_true(size > 0);
  char *text = xcalloc(1, (size_t) size + 1);
  rewind(t->file);
  assert_int_equal(fread(text, 1, (size_t) size, t->file), (size_t) size);
  fclose(t->file);
  return text;
}

static void test_truncate_then_tcp_and_wildcard(void **state) {
  struct dns_zoneset *zs = rules_zoneset();
  struct journaled t;
  journaled_start(&t, zs);
  uint8_t out[4096];
  int n = 0;
  bool tc = false;

  /* UDP: TC and no records, so the client asks again over TCP */
  size_t len = udp_ask(&t.loop, &t.addr, 1, "tc.contoso.com", KNOT_RRTYPE_A, out, sizeof out);
  assert_int_equal(check_reply(out, len, &n, &tc), KNOT_RCODE_NOERROR);
  assert_true(tc);
  assert_int_equal(n, 0);
  len = tcp_ask(&t.loop, &t.addr, 2, "tc.contoso.com", KNOT_RRTYPE_A, out, sizeof out);
  assert_int_equal(knot_wire_get_id(out), 2);
  assert_int_equal(check_reply(out, len, &n, &tc), KNOT_RCODE_NOERROR);
  assert_false(tc);
  assert_int_equal(n, 1);
  /* a wildcard answer */
  len = udp_ask(&t.loop, &t.addr, 3, "x.wild.contoso.com", KNOT_RRTYPE_A, out, sizeof out);
  assert_int_equal(check_reply(out, len, &n, &tc), KNOT_RCODE_NOERROR);
  assert_int_equal(n, 1);
  /* a first_n rule on a wildcard-answered name: SERVFAIL once (over TCP), then the wildcard */
  len = tcp_ask(&t.loop, &t.addr, 4, "once.wild.contoso.com", KNOT_RRTYPE_A, out, sizeof out);
  assert_int_equal(knot_wire_get_rcode(out), KNOT_RCODE_SERVFAIL);
  len = udp_ask(&t.loop, &t.addr, 5, "once.wild.contoso.com", KNOT_RRTYPE_A, out, sizeof out);
  assert_int_equal(check_reply(out, len, &n, &tc), KNOT_RCODE_NOERROR);
  assert_int_equal(n, 1);

  char *text = journaled_stop(&t);
  assert_int_equal(count_lines(text, "\"ev\":\"dns.query\""), 5);
  assert_int_equal(count_lines(text, "\"rule\":\"truncate\""), 2);
  assert_int_equal(count_lines(text, "\"rule\":\"servfail\""), 1);
  assert_int_equal(count_lines(text, "\"rule\":null"), 2);
  assert_int_equal(count_lines(text, "\"wildcard\":true"), 2);
  assert_int_equal(count_lines(text, "\"tc\":true"), 1);
  assert_non_null(strstr(text, "\"transport\":\"udp\",\"client\":\"127.0.0.1:"));
  assert_non_null(strstr(text, "\"qname\":\"tc.contoso.com\",\"qtype\":\"A\",\"rcode\":\"NOERROR\","
                               "\"answers\":0,\"tc\":true,\"rule\":\"truncate\"}"));
  assert_non_null(strstr(text, "\"qname\":\"x.wild.contoso.com\",\"qtype\":\"A\",\"rcode\":"
                               "\"NOERROR\",\"answers\":1,\"tc\":false,\"rule\":null,"
                               "\"wildcard\":true}"));
  free(text);
  dns_zoneset_free(zs);
}

/* without_field blanks the value of "name":"..." in `line` (in place), so that two journal lines
 * can be compared without their time and client port. */
static void without_field(char *line, const char *name) {
  char key[32];
  buf_fmt(key, sizeof key, "\"%s\":\"", name);
  char *v = strstr(line, key);
  assert_non_null(v);
  v += strlen(key);
  char *end = strchr(v, '"');
  assert_non_null(end);
  memmove(v, end, strlen(end) + 1);
}

/* docs/journal.md is a contract: an answer from the cache journals exactly what the first one
 * did, field for field. */
static void test_cached_answer_journals_the_same(void **state) {
  struct dns_zoneset *zs = small_zoneset(); /* stateless: its answers are cached */
  struct journaled t;
  journaled_start(&t, zs);
  uint8_t out[4096];
  const char *names[] = {"contoso.com",     "CoNtOsO.com",    "big.contoso.com",
                         "big.contoso.com", "no.contoso.com", "no.contoso.com"};
  const uint16_t types[] = {KNOT_RRTYPE_A,   KNOT_RRTYPE_A, KNOT_RRTYPE_TXT,
                            KNOT_RRTYPE_TXT, KNOT_RRTYPE_A, KNOT_RRTYPE_A};
  for (size_t i = 0; i < 6; i++) {
    size_t len =
        udp_ask(&t.loop, &t.addr, (uint16_t) (10 + i), names[i], types[i], out, sizeof out);
    assert_int_equal(knot_wire_get_id(out), 10 + i);
    assert_true(len > 12);
  }
  char *text = journaled_stop(&t);
  char *lines[6];
  char *at = text;
  for (size_t i = 0; i < 6; i++) {
    lines[i] = at;
    at = strchr(at, '\n');
    assert_non_null(at);
    *at++ = '\0';
    without_field(lines[i], "t");
    without_field(lines[i], "client");
  }
  for (size_t i = 0; i < 6; i += 2) {
    assert_string_equal(lines[i], lines[i + 1]);
  }
  assert_non_null(strstr(lines[0], "\"qname\":\"contoso.com\",\"qtype\":\"A\""));
  assert_non_null(strstr(lines[2], "\"tc\":true"));
  assert_non_null(strstr(lines[4], "\"rcode\":\"NXDOMAIN\""));
  free(text);
  dns_zoneset_free(zs);
}

/* --- caps on TCP connections: one client cannot lock the others out --- */

/* tcp_open connects to `addr` from `src` (NULL: any loopback source). */
static int tcp_open(const struct sockaddr_storage *addr, const char *src) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  if (src != NULL) {
    struct sockaddr_in from;
    uv_ip4_addr(src, 0, &from);
    assert_int_equal(bind(fd, (struct sockaddr *) &from, sizeof from), 0);
  }
  assert_int_equal(connect(fd, (const struct sockaddr *) addr, sizeof(struct sockaddr_in)), 0);
  return fd;
}

/* closed_by_server runs the loop until the server has ended `fd` (EOF or RST), or 5 s pass. */
static bool closed_by_server(uv_loop_t *loop, int fd) {
  for (int i = 0; i < 5000; i++) {
    uv_run(loop, UV_RUN_NOWAIT);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 1) == 1) {
      uint8_t b[64];
      return recv(fd, b, sizeof b, 0) <= 0;
    }
  }
  return false;
}

/* ask_on sends one framed query on an open connection and returns the RCODE of the answer. */
static int ask_on(uv_loop_t *loop, int fd, uint16_t id) {
  uint8_t q[514];
  size_t len = make_query(q + 2, id, "contoso.com", KNOT_RRTYPE_A);
  knot_wire_write_u16(q, (uint16_t) len);
  assert_int_equal(send(fd, q, len + 2, 0), (ssize_t) len + 2);
  uint8_t out[4096];
  size_t got = 0;
  while (got < 2 || got < 2 + (size_t) knot_wire_read_u16(out)) {
    got += pump(loop, fd, out + got, sizeof out - got);
  }
  assert_int_equal(knot_wire_get_id(out + 2), id);
  return knot_wire_get_rcode(out + 2);
}

static void test_tcp_cap_per_client(void **state) {
  struct dns_zoneset *zs = small_zoneset();
  struct journaled t;
  journaled_start(&t, zs);
  dns_server_set_limits(t.server, 10, 2, DNS_TCP_TIMEOUT_MS);

  /* 127.0.0.1 holds its two idle connections; a third is closed at once */
  int held[2] = {tcp_open(&t.addr, "127.0.0.1"), tcp_open(&t.addr, "127.0.0.1")};
  assert_int_equal(ask_on(&t.loop, held[0], 1), KNOT_RCODE_NOERROR);
  int third = tcp_open(&t.addr, "127.0.0.1");
  assert_true(closed_by_server(&t.loop, third));
  close(third);
  /* another client is served meanwhile, and so are the held connections */
  int other = tcp_open(&t.addr, "127.0.0.2");
  assert_int_equal(ask_on(&t.loop, other, 2), KNOT_RCODE_NOERROR);
  assert_int_equal(ask_on(&t.loop, held[1], 3), KNOT_RCODE_NOERROR);
  /* a burst of five more: no journal line each */
  for (int i = 0; i < 5; i++) {
    int fd = tcp_open(&t.addr, "127.0.0.1");
    assert_true(closed_by_server(&t.loop, fd));
    close(fd);
  }
  /* one of the held ones ends: the client may connect again */
  close(held[0]);
  int again = -1;
  for (int tries = 0; tries < 50 && again < 0; tries++) {
    uv_run(&t.loop, UV_RUN_NOWAIT); /* the server sees the close */
    int fd = tcp_open(&t.addr, "127.0.0.1");
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (int i = 0; i < 20; i++) {
      uv_run(&t.loop, UV_RUN_NOWAIT);
    }
    if (poll(&p, 1, 10) == 0) {
      again = fd; /* not closed: admitted */
    } else {
      close(fd);
    }
  }
  assert_true(again >= 0);
  assert_int_equal(ask_on(&t.loop, again, 4), KNOT_RCODE_NOERROR);
  close(again);
  close(held[1]);
  close(other);
  char *text = journaled_stop(&t);
  /* the first refusal at once, the burst together (a second later, or when the server closed) */
  size_t n_events = count_lines(text, "\"ev\":\"limit.reached\"");
  assert_true(n_events >= 2);
  unsigned long refused = 0;
  for (const char *p = strstr(text, "\"refused\":"); p != NULL; p = strstr(p + 1, "\"refused\":")) {
    refused += strtoul(p + strlen("\"refused\":"), NULL, 10);
  }
  assert_true(refused >= 6); /* the admission probes above may add a few */
  assert_int_equal(count_lines(text, "\"full\":0,"), n_events); /* never the server's cap */
  assert_non_null(strstr(text, "\"service\":\"dns\",\"local\":\"127.0.0.1:"));
  assert_non_null(strstr(text, "\"refused\":1,\"full\":0,\"per_client\":1,\"max_conns\":10,"
                               "\"max_per_client\":2,\"open\":2,\"clients\":[\"127.0.0.1\"]}"));
  assert_null(strstr(text, "127.0.0.2\"]"));
  free(text);
  dns_zoneset_free(zs);
}

/* ms_since is the time since `start` (uv_hrtime), in milliseconds. */
static double ms_since(uint64_t start) {
  return (double) (uv_hrtime() - start) / 1e6;
}

/* dribble sends `bytes` one every `every_ms` while running the loop, until the server ends the
 * connection (returns the milliseconds it took) or `max_ms` have passed (returns -1). */
static double dribble(uv_loop_t *loop, int fd, const uint8_t *bytes, size_t len, double every_ms,
                      double max_ms) {
  uint64_t start = uv_hrtime();
  size_t sent = 0;
  while (ms_since(start) < max_ms) {
    if (sent < len && ms_since(start) >= (double) sent * every_ms) {
      if (send(fd, bytes + sent, 1, MSG_NOSIGNAL) == 1) {
        sent++;
      }
    }
    uv_run(loop, UV_RUN_NOWAIT);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 1) == 1) {
      uint8_t b[64];
      assert_true(recv(fd, b, sizeof b, 0) <= 0); /* never an answer to half a message */
      return ms_since(start);
    }
  }
  return -1;
}

/* With a 300 ms timeout: a message dribbled a byte every 40 ms is cut off 300 ms after its first
 * byte (the bytes do not move the deadline); a connection that says nothing is closed after
 * 300 ms; one asking a whole query every 100 ms for a second stays open (each answered message
 * moves it). */
static void test_tcp_deadline(void **state) {
  struct dns_zoneset *zs = small_zoneset();
  struct journaled t;
  journaled_start(&t, zs);
  dns_server_set_limits(t.server, 10, 4, 300);
  uint8_t q[514];
  size_t len = make_query(q + 2, 7, "contoso.com", KNOT_RRTYPE_A);
  knot_wire_write_u16(q, (uint16_t) len);

  int slow = tcp_open(&t.addr, "127.0.0.1");
  double took = dribble(&t.loop, slow, q, len + 2, 40, 3000); /* whole after ~1.2 s */
  assert_true(took >= 250 && took < 700);
  close(slow);

  int quiet = tcp_open(&t.addr, "127.0.0.1");
  took = dribble(&t.loop, quiet, NULL, 0, 0, 3000);
  assert_true(took >= 250 && took < 700);
  close(quiet);

  int steady = tcp_open(&t.addr, "127.0.0.1");
  for (uint16_t i = 0; i < 10; i++) {
    assert_int_equal(ask_on(&t.loop, steady, i), KNOT_RCODE_NOERROR);
    assert_int_equal(dribble(&t.loop, steady, NULL, 0, 0, 100), -1); /* still open */
  }
  close(steady);
  free(journaled_stop(&t));
  dns_zoneset_free(zs);
}

/* Each line names the client that asked, however the clients interleave: the server keeps the
 * text of recent source addresses, and 20 clients are more than it keeps. */
#define N_CLIENTS 20

static void test_each_query_journals_its_client(void **state) {
  struct dns_zoneset *zs = small_zoneset();
  struct journaled t;
  journaled_start(&t, zs);
  int fds[N_CLIENTS];
  unsigned ports[N_CLIENTS];
  for (size_t i = 0; i < N_CLIENTS; i++) {
    fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fds[i] >= 0);
    struct sockaddr_in me;
    uv_ip4_addr("127.0.0.1", 0, &me);
    assert_int_equal(bind(fds[i], (struct sockaddr *) &me, sizeof me), 0);
    socklen_t len = sizeof me;
    assert_int_equal(getsockname(fds[i], (struct sockaddr *) &me, &len), 0);
    ports[i] = ntohs(me.sin_port);
  }
  size_t order[3 * N_CLIENTS];
  for (size_t i = 0; i < N_CLIENTS; i++) {
    order[i] = i;                                   /* each in turn */
    order[N_CLIENTS + i] = N_CLIENTS - 1 - i;       /* backwards */
    order[2 * N_CLIENTS + i] = (i * 7) % N_CLIENTS; /* shuffled */
  }
  uint8_t q[512], out[4096];
  for (size_t k = 0; k < 3 * N_CLIENTS; k++) {
    size_t len = make_query(q, (uint16_t) k, "contoso.com", KNOT_RRTYPE_A);
    int fd = fds[order[k]];
    assert_int_equal(
        sendto(fd, q, len, 0, (const struct sockaddr *) &t.addr, sizeof(struct sockaddr_in)),
        (ssize_t) len);
    pump(&t.loop, fd, out, sizeof out);
  }
  for (size_t i = 0; i < N_CLIENTS; i++) {
    close(fds[i]);
  }
  char *text = journaled_stop(&t);
  const char *line = text;
  for (size_t k = 0; k < 3 * N_CLIENTS; k++) {
    char want[64];
    snprintf(want, sizeof want, "\"client\":\"127.0.0.1:%u\"", ports[order[k]]);
    const char *end = strchr(line, '\n');
    assert_non_null(end);
    char *found = strstr(line, want);
    assert_true(found != NULL && found < end);
    line = end + 1;
  }
  free(text);
  dns_zoneset_free(zs);
}

/* A burst larger than one recvmmsg, then a few more: every query is answered. The server stops
 * reading when a batch comes back short (the socket is empty then), so what arrives after must
 * still wake it. */
static void test_bursts_are_all_answered(void **state) {
  struct dns_zoneset *zs = small_zoneset();
  struct journaled t;
  journaled_start(&t, zs);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  assert_true(fd >= 0);
  uint8_t q[512], out[4096];
  const size_t bursts[] = {40, 1, 5, 16, 17};
  uint16_t id = 0;
  for (size_t k = 0; k < sizeof bursts / sizeof bursts[0]; k++) {
    for (size_t i = 0; i < bursts[k]; i++) {
      size_t len = make_query(q, id++, "contoso.com", KNOT_RRTYPE_A);
      assert_int_equal(
          sendto(fd, q, len, 0, (const struct sockaddr *) &t.addr, sizeof(struct sockaddr_in)),
          (ssize_t) len);
    }
    for (size_t i = 0; i < bursts[k]; i++) {
      pump(&t.loop, fd, out, sizeof out);
      assert_int_equal(knot_wire_get_id(out), id - bursts[k] + i);
    }
  }
  close(fd);
  char *text = journaled_stop(&t);
  assert_int_equal(count_lines(text, "\"ev\":\"dns.query\""), id);
  free(text);
  dns_zoneset_free(zs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_udp_and_tcp_on_one_port),
      cmocka_unit_test(test_bind_failures_are_reported),
      cmocka_unit_test(test_truncate_then_tcp_and_wildcard),
      cmocka_unit_test(test_tcp_cap_per_client),
      cmocka_unit_test(test_tcp_deadline),
      cmocka_unit_test(test_cached_answer_journals_the_same),
      cmocka_unit_test(test_each_query_journals_its_client),
      cmocka_unit_test(test_bursts_are_all_answered),
  };
  return cmocka_run_group_tests_name("dns_server", tests, NULL, NULL);
}
