/* tests/unit/test_client_fetch.c: one attempt over real sockets (client/sim_fetch.c, sim_tls.c,
 * sim_http.c) — the certificate prompt and its No, plain HTTP, a head too large, a handshake
 * that fails or never ends, a refused connect, and timeouts on the lab clock. */
#include "tests/unit/test_client_fixture.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void test_state_names(void **state) {
  const char *seen[SIM_ATT_AWAIT_SRV + 1];
  for (int st = SIM_ATT_IDLE; st <= SIM_ATT_AWAIT_SRV; st++) {
    seen[st] = sim__att_state_name((enum sim_att_state) st);
    assert_string_not_equal(seen[st], "?");
    for (int before = SIM_ATT_IDLE; before < st; before++) {
      assert_string_not_equal(seen[before], seen[st]);
    }
  }
  assert_string_equal(sim__att_state_name(SIM_ATT_AWAIT_A), "await-a");
}

static void test_user_says_no(void **state) {
  struct server s;
  server_start(&s, "/redirected/autodiscover.xml");
  struct sim_model m = classic();
  struct scn_client cfg = {0};
  char err[256];
  assert_int_equal(scn_client_set(&cfg, "certificate_prompt_answer=no", err, sizeof err), SCN_OK);
  struct sim_transcript *t = /* nothing trusted */
      walk_run(&(struct walk){.model = &m, .cfg = &cfg, .servers = {&s}});
  scn_client_cleanup(&cfg);
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
}

static void test_user_says_no_and_the_run_ends(void **state) {
  /* certificate_no end-walk: No fails the whole run (§2.2, §9.4, UNCERTAIN) */
  struct server s;
  server_start(&s, "/redirected/autodiscover.xml");
  struct sim_model m = classic();
  struct scn_client cfg = settings_of("certificate_prompt_answer=no certificate_no=end-walk");
  struct sim_transcript *t = walk_run(&(struct walk){.model = &m, .cfg = &cfg, .servers = {&s}});
  server_stop(&s);
  scn_client_cleanup(&cfg);
  assert_false(t->success);
  assert_int_equal(t->n_steps, 1); /* nothing after No */
  assert_int_equal(t->steps[0].result, SIM_R_TLS_FAILED);
  assert_non_null(strstr(t->steps[0].detail, "the whole Autodiscover run fails"));
  sim_transcript_free(t);
}

static void test_certificate_checks_not_made(void **state) {
  /* certificate_accepted: a failure the client does not hold against the certificate is noted
   * and the step goes on, without a prompt */
  struct server s;
  server_start(&s, "/redirected/autodiscover.xml");
  struct sim_model m = root_only();
  struct scn_client cfg = settings_of("certificate_accepted=untrusted,name");
  struct sim_transcript *t = walk_run(&(struct walk){.model = &m, .cfg = &cfg, .servers = {&s}});
  server_stop(&s);
  scn_client_cleanup(&cfg);
  assert_int_equal(t->n_prompts, 0);
  assert_int_equal(t->steps[0].cert_failures, SIM_CERT_UNTRUSTED | SIM_CERT_NAME);
  assert_int_equal(t->steps[0].http_status, 302); /* the request went out */
  assert_non_null(strstr(t->steps[0].detail, "name accepted: this client does not check it"));
  sim_transcript_free(t);
}

static void test_plain_http_when_allowed(void **state) {
  struct server s, plain;
  server_start(&s, "http://127.0.0.1/plain/autodiscover.xml");
  plain_start(&plain, false, NULL);
  struct sim_model m = root_only();
  m.defaults.https_only_redirects = false;
  struct sim_transcript *t =
      walk_run(&(struct walk){.model = &m, .servers = {&s, &plain}, .trust = s.pem});
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
  sim_transcript_free(t);
}

static void test_huge_head(void **state) {
  struct server s;
  server_start(&s, "/hugehead");
  struct sim_model m = root_only();
  struct sim_transcript *t = walk_run(&(struct walk){.model = &m, .servers = {&s}, .trust = s.pem});
  server_stop(&s);
  assert_int_equal(t->n_steps, 2);
  assert_int_equal(t->steps[1].result, SIM_R_HTTP_FAILED);
  assert_non_null(strstr(t->steps[1].detail, "too large"));
  sim_transcript_free(t);
}

/* An answer that arrived with the server's last handshake flight sits decrypted-to-be in the
 * TLS buffer once the handshake is over; the attempt must read it after sending the request
 * instead of waiting for a socket read that never comes (the server stays silent and keeps
 * the connection open): the walk succeeds at once rather than after the HTTP timeout. */
static void test_answer_buffered_with_handshake(void **state) {
  struct server s;
  eager_start(&s);
  struct sim_model m = root_only();
  double real_ms = 0;
  struct sim_transcript *t = walk_run(&(struct walk){
      .model = &m, .servers = {&s}, .trust = s.pem, .timeout_ms = 5000, .out_real_ms = &real_ms});
  server_stop(&s);
  assert_int_equal(t->n_steps, 1);
  assert_int_equal(t->steps[0].result, SIM_R_SETTINGS);
  assert_false(t->steps[0].timed_out);
  assert_true(t->success);
  assert_true(real_ms < 4000); /* not the 5 s HTTP timeout */
  sim_transcript_free(t);
}

static void test_tls_timeout(void **state) {
  struct server s; /* listens, never accepts: the handshake gets no answer */
  silent_listener(&s);
  struct sim_model m = root_only();
  struct sim_transcript *t =
      walk_run(&(struct walk){.model = &m, .servers = {&s}, .timeout_ms = 300});
  server_stop(&s);
  assert_int_equal(t->n_steps, 1);
  assert_int_equal(t->steps[0].result, SIM_R_TLS_FAILED);
  assert_string_equal(t->steps[0].tls_error, "timeout");
  assert_true(t->steps[0].elapsed_ms >= 250);
  sim_transcript_free(t);
}

static void test_tls_handshake_failure(void **state) {
  struct server s;
  plain_start(&s, true, NULL);
  struct sim_model m = root_only();
  struct sim_transcript *t = walk_run(&(struct walk){.model = &m, .servers = {&s}});
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
  silent_listener(&s);
  server_stop(&s); /* the port is free again: connecting is refused */
  struct sim_model m = root_only();
  struct sim_transcript *t = walk_run(&(struct walk){.model = &m, .servers = {&s}});
  assert_int_equal(t->steps[0].result, SIM_R_CONNECT_FAILED);
  assert_string_equal(t->steps[0].connect_error, "refused");
  sim_transcript_free(t);
}

/* --- the lab clock --- */

static void test_lab_clock_http_timeout(void **state) {
  struct server s;
  silent_listener(&s);
  struct sim_model m = one_step("outlook-2010", SIM_STEP_LAST_KNOWN_GOOD);
  struct scn_client cfg =
      settings_of("last_known_good_url=http://127.0.0.1/autodiscover/autodiscover.xml");
  double real_ms = 0;
  struct sim_transcript *t = walk_run(&(struct walk){.model = &m,
                                                     .cfg = &cfg,
                                                     .servers = {NULL, &s}, /* plain, port 80 */
                                                     .lab_clock = true,
                                                     .out_real_ms = &real_ms});
  server_stop(&s);
  scn_client_cleanup(&cfg);
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
  struct sim_model m = root_only();
  double real_ms = 0;
  struct sim_transcript *t = walk_run(
      &(struct walk){.model = &m, .servers = {&s}, .lab_clock = true, .out_real_ms = &real_ms});
  server_stop(&s);
  assert_int_equal(t->steps[0].result, SIM_R_TLS_FAILED);
  assert_string_equal(t->steps[0].tls_error, "timeout");
  assert_true(t->steps[0].timed_out);
  assert_true(t->steps[0].elapsed_ms >= 30000);
  assert_true(real_ms < 2000);
  sim_transcript_free(t);
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
  struct sim_model m = root_only();
  double real_ms = 0;
  struct sim_transcript *t = walk_run(
      &(struct walk){.model = &m, .servers = {&s}, .lab_clock = true, .out_real_ms = &real_ms});
  for (size_t i = 0; i < 4; i++) {
    close(fillers[i]);
  }
  server_stop(&s);
  assert_int_equal(t->steps[0].result, SIM_R_CONNECT_FAILED);
  assert_string_equal(t->steps[0].connect_error, "timeout");
  assert_true(t->steps[0].timed_out);
  assert_true(t->steps[0].elapsed_ms >= 21000);
  assert_true(real_ms < 2000);
  sim_transcript_free(t);
}

/* At scale 1000 a 30 s HTTP timeout lasts 30 ms: a working server must still answer in time
 * (no Nagle delay between the handshake and the request). */
static void test_lab_clock_fast_answers_in_time(void **state) {
  struct server s;
  server_start(&s, "/redirected/autodiscover.xml");
  struct sim_model m = root_only();
  struct sim_transcript *t =
      walk_run(&(struct walk){.model = &m, .servers = {&s}, .lab_clock = true});
  server_stop(&s);
  assert_true(t->success);
  assert_int_equal(t->n_steps, 2);
  assert_false(t->steps[0].timed_out);
  assert_false(t->steps[1].timed_out);
  sim_transcript_free(t);
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
  server_start(&s, "/slow");
  struct servers ss = {&s, NULL};
  struct sim_model m = root_only();
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct labclock clock;
  labclock_init(&clock, &loop, 1000);
  struct sim_env env;
  env_init(&env, &loop, refused_port(), 0);
  env.map = map_to_server;
  env.map_arg = &ss;
  env.clock = &clock;
  uv_timer_t jump;
  uv_timer_init(&loop, &jump);
  jump.data = &clock;
  struct walk_result r = {0};
  struct sim_walk *w = NULL;
  assert_int_equal(sim_walk_start(&w, &env, &m, NULL, "alice@127.0.0.1", walk_done, &r, NULL, 0),
                   SIM_OK);
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
  sim_transcript_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_state_names),
      cmocka_unit_test(test_user_says_no),
      cmocka_unit_test(test_user_says_no_and_the_run_ends),
      cmocka_unit_test(test_certificate_checks_not_made),
      cmocka_unit_test(test_plain_http_when_allowed),
      cmocka_unit_test(test_huge_head),
      cmocka_unit_test(test_answer_buffered_with_handshake),
      cmocka_unit_test(test_tls_timeout),
      cmocka_unit_test(test_tls_handshake_failure),
      cmocka_unit_test(test_connect_refused),
      cmocka_unit_test(test_lab_clock_http_timeout),
      cmocka_unit_test(test_lab_clock_tls_timeout),
      cmocka_unit_test(test_lab_clock_connect_timeout),
      cmocka_unit_test(test_lab_clock_fast_answers_in_time),
      cmocka_unit_test(test_lab_clock_deadline_passed_by_another_timer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
