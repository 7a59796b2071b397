/* tests/unit/test_lab_journal.c: journals written by hand (tests/data/journals) read back into
 * transcripts — a real client's steps, prompts, answer and waiting time inferred from the lab's
 * events, a model's walk from its own events — bad lines as file:line messages, and the page
 * and JSON made from them. */
#include "lab/journal_internal.h"
#include "lab/lab.h"
#include "lab/report.h"
#include "tests/unit/testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct lab_journal *read_fixture(const char *name, const struct lab_journal_options *opt) {
  char path[4096], rel[512], err[1024] = "";
  buf_fmt(rel, sizeof rel, "journals/%s", name);
  struct lab_journal *j = NULL;
  int rc = lab_journal_read(&j, test_data_path(path, sizeof path, rel), opt, err, sizeof err);
  if (rc != 0) {
    fail_msg("%s: %s", name, err);
  }
  return j;
}

static const char *step_name(const struct sim_transcript *t, size_t i) {
  return i < t->n_steps ? t->steps[i].name : "(none)";
}

static void test_refused_certificate_is_a_prompt(void **state) {
  struct lab_journal *j = read_fixture("curl-expired.jsonl", NULL);
  assert_int_equal(j->n_transcripts, 1);
  assert_true(j->inferred[0]);
  const struct sim_transcript *t = j->transcripts[0];
  assert_string_equal(t->client, "real-client");
  assert_string_equal(t->email, "alice@contoso.com"); /* what the client asked, not lab.start's */
  assert_int_equal(t->n_steps, 2);
  assert_string_equal(step_name(t, 0), "https-root");
  assert_int_equal(t->steps[0].result, SIM_R_TLS_FAILED);
  assert_int_equal(t->steps[0].cert_failures, SIM_CERT_EXPIRED);
  assert_string_equal(t->steps[0].dns_answer, "127.77.0.1");
  assert_string_equal(t->steps[0].cert_subject, "contoso.com");
  assert_non_null(strstr(t->steps[0].tls_error, "certificate expired"));
  assert_string_equal(step_name(t, 1), "https-autodiscover");
  assert_int_equal(t->steps[1].result, SIM_R_SETTINGS);
  assert_int_equal(t->steps[1].http_status, 200);
  assert_int_equal(t->n_prompts, 1);
  assert_int_equal(t->prompts[0].kind, SIM_PROMPT_CERTIFICATE);
  assert_string_equal(t->prompts[0].host, "contoso.com");
  assert_string_equal(t->prompts[0].reason, "expired");
  assert_false(t->prompts[0].accepted); /* the client refused it: no later connection */
  assert_int_equal(t->prompts[0].step, 0);
  assert_non_null(strstr(t->prompts[0].text, "Security Alert — contoso.com"));
  assert_true(t->success);
  assert_string_equal(t->final_url,
                      "https://autodiscover.contoso.com/autodiscover/autodiscover.xml");
  assert_string_equal(t->ews_url, "https://mail.contoso.com/EWS/Exchange.asmx");
  assert_string_equal(t->server, "mail.contoso.com");
  assert_string_equal(t->settings_email, "alice@contoso.com");
  /* from the first DNS query (01.100200) to the last answer (01.204500) */
  assert_int_equal(t->clock, SIM_CLOCK_JOURNAL);
  assert_float_equal(t->total_ms, 104.3, 0.01);
  assert_float_equal(t->steps[0].elapsed_ms + t->steps[1].elapsed_ms, t->total_ms, 0.01);
  assert_int_equal(j->n_notes, 0);
  assert_non_null(j->lab);
  assert_string_equal(j->lab->scenario_name, "expired-root-cert");
  assert_int_equal(j->lab->n_hosts, 2);
  assert_true(j->lab->hosts[0].cert.has_dates);
  lab_journal_free(j);
}

static void test_abandoned_handshake_is_a_refusal(void **state) {
  struct lab_journal *j = read_fixture("abandoned.jsonl", NULL);
  const struct sim_transcript *t = j->transcripts[0];
  assert_int_equal(t->steps[0].result, SIM_R_TLS_FAILED);
  assert_non_null(strstr(t->steps[0].tls_error, "no alert"));
  assert_int_equal(t->n_prompts, 1);
  assert_string_equal(t->prompts[0].reason, "expired");
  assert_false(t->prompts[0].accepted);
  lab_journal_free(j);
}

static void test_retry_after_refusal_is_a_yes(void **state) {
  struct lab_journal *j = read_fixture("accepted-after-retry.jsonl", NULL);
  const struct sim_transcript *t = j->transcripts[0];
  assert_int_equal(t->n_steps, 2); /* both connections to contoso.com are one step */
  assert_string_equal(step_name(t, 0), "https-root");
  assert_int_equal(t->steps[0].result, SIM_R_NOT_AUTODISCOVER);
  assert_int_equal(t->steps[0].http_status, 404);
  assert_int_equal(t->n_prompts, 1);
  assert_true(t->prompts[0].accepted);
  /* the user took about three seconds to answer: the step's wait says so */
  assert_true(t->steps[0].elapsed_ms > 2900 && t->steps[0].elapsed_ms < 3200);
  lab_journal_free(j);
}

static void test_without_lab_start_settings_are_assumed(void **state) {
  struct lab_journal *j = read_fixture("no-lab-start.jsonl", NULL);
  const struct sim_transcript *t = j->transcripts[0];
  assert_null(j->lab);
  assert_int_equal(t->n_steps, 2);
  assert_null(t->steps[0].cert_subject); /* nobody said which certificate was presented */
  assert_int_equal(t->steps[0].result, SIM_R_TLS_FAILED);
  assert_int_equal(t->n_prompts, 1); /* the alert names the check that failed */
  assert_string_equal(t->prompts[0].reason, "expired");
  assert_true(t->success);
  assert_non_null(strstr(t->steps[1].detail, "assumed"));
  assert_null(t->ews_url);
  lab_journal_free(j);
}

/* serve --listen with hosts sharing an address (tcp.accept names no host: the step's host is
 * the one SNI named), and a GET probe of a POX responder is its error 600, not its settings
 * (what the EWS Managed API's endpoint discovery sends). */
static void test_shared_address_get_probe(void **state) {
  struct lab_journal *j = read_fixture("shared-get-probe.jsonl", NULL);
  const struct sim_transcript *t = j->transcripts[0];
  assert_int_equal(t->n_steps, 1);
  assert_string_equal(step_name(t, 0), "https-autodiscover");
  assert_string_equal(t->steps[0].cert_subject, "autodiscover.contoso.com");
  assert_int_equal(t->steps[0].result, SIM_R_XML_ERROR);
  assert_int_equal(t->steps[0].error_code, 600);
  assert_false(t->success);
  lab_journal_free(j);
}

static void test_scenario_stands_in_for_lab_start(void **state) {
  char path[4096];
  const char *src = getenv("AD_SOURCE_DIR");
  assert_non_null(src);
  buf_fmt(path, sizeof path, "%s/scenarios/founding/expired-root-cert.yaml", src);
  struct scn *s = NULL;
  char err[1024];
  assert_int_equal(scn_load(&s, path, err, sizeof err), SCN_OK);
  struct lab_journal_options opt = {.scn = s, .client = "mso-xdscli"};
  struct lab_journal *j = read_fixture("no-lab-start.jsonl", &opt);
  const struct sim_transcript *t = j->transcripts[0];
  assert_string_equal(t->client, "mso-xdscli");
  assert_string_equal(t->ews_url, "https://mail.contoso.com/EWS/Exchange.asmx");
  assert_string_equal(t->steps[0].cert_subject, "contoso.com");
  struct buf failures;
  buf_init(&failures, 8192);
  assert_int_equal(lab_expect_check(lab_expect_for(s, "mso-xdscli"), t, &failures), 0);
  lab_journal_free(j);
  scn_free(s);
  /* the fix expects no prompt: the same journal fails it, pointing at the expectation */
  buf_fmt(path, sizeof path, "%s/scenarios/founding/fix-renew-root-cert.yaml", src);
  assert_int_equal(scn_load(&s, path, err, sizeof err), SCN_OK);
  opt.scn = s;
  j = read_fixture("curl-expired.jsonl", &opt);
  assert_int_equal(lab_expect_check(lab_expect_for(s, "mso-xdscli"), j->transcripts[0], &failures),
                   1);
  assert_non_null(strstr(buf_cstr(&failures), "fix-renew-root-cert.yaml:"));
  assert_non_null(strstr(buf_cstr(&failures), "an unexpected certificate contoso.com (expired)"));
  buf_cleanup(&failures);
  lab_journal_free(j);
  scn_free(s);
}

static void test_cut_short_last_line_is_a_note(void **state) {
  struct lab_journal *j = read_fixture("truncated.jsonl", NULL);
  assert_int_equal(j->n_notes, 1);
  assert_non_null(strstr(j->notes[0], "truncated.jsonl:14: the last line is cut short"));
  assert_int_equal(j->transcripts[0]->n_steps, 2);
  lab_journal_free(j);
}

static void test_srv_target_consent_and_finding(void **state) {
  struct lab_journal_options opt = {.label = "curl"};
  struct lab_journal *j = read_fixture("srv-finding.jsonl", &opt);
  const struct sim_transcript *t = j->transcripts[0];
  assert_string_equal(t->client, "curl");
  static const char *const names[] = {"https-root", "https-autodiscover", "srv", "redirect",
                                      "redirect"};
  assert_int_equal(t->n_steps, 5);
  for (size_t i = 0; i < 5; i++) {
    assert_string_equal(step_name(t, i), names[i]);
  }
  assert_int_equal(t->steps[0].result, SIM_R_DNS_FAILED);
  assert_string_equal(t->steps[0].dns_error, "NXDOMAIN");
  assert_int_equal(t->steps[2].result, SIM_R_REDIRECT);
  assert_string_equal(t->steps[2].redirect_to,
                      "https://mail.hoster.net/Autodiscover/Autodiscover.xml");
  assert_int_equal(t->n_prompts, 1);
  assert_int_equal(t->prompts[0].kind, SIM_PROMPT_REDIRECT);
  assert_string_equal(t->prompts[0].host, "mail.hoster.net");
  assert_int_equal(t->prompts[0].step, 2);
  assert_int_equal(j->n_findings, 1);
  assert_string_equal(j->findings[0].kind, "credential-leak");
  assert_string_equal(j->findings[0].host, "mail.hoster.net");
  assert_non_null(strstr(j->findings[0].text, "a Basic credential sent over plain HTTP"));
  assert_null(strstr(j->findings[0].text, "credential-leak")); /* the kind is not repeated */
  lab_journal_free(j);
}

static void test_model_walks_from_their_own_events(void **state) {
  struct lab_journal *j = read_fixture("run-client.jsonl", NULL);
  assert_int_equal(j->n_transcripts, 2);
  assert_false(j->inferred[0]);
  const struct sim_transcript *t = j->transcripts[0];
  assert_string_equal(t->client, "outlook-2016-msi");
  assert_int_equal(t->clock, SIM_CLOCK_LAB);
  assert_int_equal(t->n_steps, 2);
  assert_int_equal(t->steps[0].result, SIM_R_NOT_AUTODISCOVER);
  assert_int_equal(t->steps[0].cert_failures, SIM_CERT_EXPIRED);
  assert_float_equal(t->steps[0].elapsed_ms, 12.5, 0.001);
  assert_int_equal(t->n_prompts, 1);
  assert_true(t->prompts[0].accepted);
  assert_int_equal(t->prompts[0].cert_failures, SIM_CERT_EXPIRED);
  assert_true(t->success);
  assert_float_equal(t->total_ms, 20.5, 0.001);
  assert_string_equal(t->settings_email, "alice@contoso.com");
  /* a walk the journal cut off: its step is there, saying so */
  const struct sim_transcript *cut = j->transcripts[1];
  assert_string_equal(cut->client, "mso-xdscli");
  assert_int_equal(cut->n_steps, 1);
  assert_string_equal(cut->steps[0].detail, "the journal ends inside this step");
  assert_false(cut->success);
  assert_ptr_equal(lab_journal_pick(j, "mso-xdscli"), cut);
  assert_null(lab_journal_pick(j, "outlook-2013")); /* no inferred walk to fall back on */
  lab_journal_free(j);
}

/* Every tests/data/journals/bad/NAME.jsonl is refused with exactly NAME.expect's message. */
static void test_bad_lines_name_file_and_line(void **state) {
  char dir[4096];
  test_data_path(dir, sizeof dir, "journals/bad");
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *e;
  size_t n = 0;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len < 7 || strcmp(e->d_name + len - 6, ".jsonl") != 0) {
      continue;
    }
    char path[8192], expect_path[8192], want[2048] = "", got[1024] = "", prefix[4096];
    buf_fmt(path, sizeof path, "%s/%s", dir, e->d_name);
    buf_fmt(expect_path, sizeof expect_path, "%s/%.*s.expect", dir, (int) (len - 6), e->d_name);
    FILE *f = fopen(expect_path, "r");
    assert_non_null(f);
    size_t got_len = fread(want, 1, sizeof want - 1, f);
    fclose(f);
    want[got_len] = '\0';
    want[strcspn(want, "\n")] = '\0';
    struct lab_journal *j = NULL;
    assert_int_equal(lab_journal_read(&j, path, NULL, got, sizeof got), -1);
    assert_null(j);
    test_data_path(prefix, sizeof prefix, "journals/");
    assert_true(strncmp(got, prefix, strlen(prefix)) == 0);
    assert_string_equal(got + strlen(prefix), want);
    n++;
  }
  closedir(d);
  assert_true(n >= 10);
}

static void test_not_a_file(void **state) {
  struct lab_journal *j = NULL;
  char err[1024];
  assert_int_equal(lab_journal_read(&j, "/nonexistent/journal.jsonl", NULL, err, sizeof err), -1);
  assert_non_null(strstr(err, "/nonexistent/journal.jsonl: cannot read it"));
  /* bytes that are not text: an error, never a crash */
  static const char junk[] = "{\"t\":\"2026-11-27T12:00:00Z\",\"ev\":\"x\xff\xfe\"}\n\x01\x02";
  int rc = lab_journal_read_string(&j, "junk", junk, sizeof junk - 1, NULL, err, sizeof err);
  lab_journal_free(j);
  assert_true(rc == 0 || strncmp(err, "junk:", 5) == 0);
}

static void test_journal_or_scenario(void **state) {
  char path[4096];
  assert_true(lab_is_journal(test_data_path(path, sizeof path, "journals/curl-expired.jsonl")));
  assert_false(lab_is_journal(test_data_path(path, sizeof path, "good/everything.yaml")));
  assert_false(lab_is_journal("/nonexistent"));
}

static void test_cert_checks(void **state) {
  char *names[] = {"contoso.com", "*.contoso.com"};
  struct lab_cert_desc c = {.present = true,
                            .profile = "valid",
                            .names = names,
                            .n_names = 2,
                            .has_dates = true,
                            .not_before = 1000,
                            .not_after = 2000,
                            .trusted = true};
  assert_int_equal(jinfer__cert_failures(&c, "contoso.com", 1500 * 1000000LL), 0);
  assert_int_equal(jinfer__cert_failures(&c, "AutoDiscover.Contoso.com:443", 1500 * 1000000LL), 0);
  assert_int_equal(jinfer__cert_failures(&c, "a.b.contoso.com", 1500 * 1000000LL), SIM_CERT_NAME);
  assert_int_equal(jinfer__cert_failures(&c, "contoso.com", 2001 * 1000000LL), SIM_CERT_EXPIRED);
  assert_int_equal(jinfer__cert_failures(&c, "contoso.com", 999 * 1000000LL),
                   SIM_CERT_NOT_YET_VALID);
  c.trusted = false;
  assert_int_equal(jinfer__cert_failures(&c, "contoso.com", 1500 * 1000000LL), SIM_CERT_UNTRUSTED);
  /* described from a scenario: no dates, the profile says it */
  struct lab_cert_desc p = {
      .present = true, .profile = "expired", .names = names, .n_names = 1, .trusted = true};
  assert_int_equal(jinfer__cert_failures(&p, "contoso.com", 0), SIM_CERT_EXPIRED);
}

/* page renders a journal's page into memory (caller frees). */
static char *page(const struct lab_journal *j) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  lab_journal_html(j, f);
  fclose(f);
  return text;
}

static void test_page_draws_the_steps_and_the_prompt(void **state) {
  struct lab_journal *j = read_fixture("curl-expired.jsonl", NULL);
  char *html = page(j);
  assert_non_null(strstr(html, "<g class=\"step\" data-index=\"0\" data-step=\"https-root\" "
                               "data-host=\"contoso.com\" data-result=\"tls-failed\""));
  assert_non_null(strstr(html, "data-step=\"https-autodiscover\""));
  assert_non_null(strstr(html, "<g class=\"prompt\" data-kind=\"certificate\" "
                               "data-host=\"contoso.com\" data-reason=\"expired\" "
                               "data-accepted=\"false\">"));
  assert_non_null(strstr(html, "data-lifeline=\"dns\""));
  assert_non_null(strstr(html, "data-lifeline=\"host\" data-key=\"www\""));
  assert_non_null(strstr(html, "data-msg=\"alert\""));
  assert_non_null(strstr(html, "class=\"time-axis\" data-total-ms=\"104.3\""));
  /* self-contained: nothing to fetch */
  assert_null(strstr(html, "<script"));
  assert_null(strstr(html, "src="));
  assert_null(strstr(html, "href="));
  assert_null(strstr(html, "@import"));
  assert_null(strstr(html, "url(h"));
  free(html);
  lab_journal_free(j);
}

static void test_page_escapes_what_clients_sent(void **state) {
  static const char text[] =
      "{\"t\":\"2026-11-27T12:00:00Z\",\"ev\":\"tcp.accept\",\"local\":\"127.77.0.1:80\","
      "\"peer\":\"127.0.0.1:1\",\"tls\":false}\n"
      "{\"t\":\"2026-11-27T12:00:00.1Z\",\"ev\":\"http.request\",\"host\":\"<script>x</script>\","
      "\"method\":\"GET\",\"path\":\"/\\\"><img>\",\"local\":\"127.77.0.1:80\","
      "\"peer\":\"127.0.0.1:1\",\"tls\":false}\n";
  struct lab_journal *j = NULL;
  char err[1024];
  assert_int_equal(
      lab_journal_read_string(&j, "x.jsonl", text, sizeof text - 1, NULL, err, sizeof err), 0);
  char *html = page(j);
  assert_null(strstr(html, "<script>"));
  assert_null(strstr(html, "<img>"));
  assert_non_null(strstr(html, "&lt;script&gt;"));
  free(html);
  lab_journal_free(j);
}

static void test_json_and_text(void **state) {
  struct lab_journal *j = read_fixture("srv-finding.jsonl", NULL);
  char *json = lab_journal_json(j);
  assert_non_null(strstr(json, "\"clients\":[{\"client\":\"real-client\",\"inferred\":true,"
                               "\"clock\":\"wall\",\"transcript\":{"));
  assert_non_null(strstr(json, "\"findings\":[{\"kind\":\"credential-leak\""));
  free(json);
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  lab_journal_text(j, f, false);
  fclose(f);
  assert_non_null(strstr(out, "! FINDING credential-leak at mail.hoster.net: a Basic credential "
                              "sent over plain HTTP"));
  assert_non_null(strstr(out, "time: 202 ms (wall clock, from the journal's timestamps)"));
  assert_non_null(strstr(out, "prompts: redirect mail.hoster.net"));
  free(out);
  lab_journal_free(j);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_refused_certificate_is_a_prompt),
      cmocka_unit_test(test_abandoned_handshake_is_a_refusal),
      cmocka_unit_test(test_retry_after_refusal_is_a_yes),
      cmocka_unit_test(test_without_lab_start_settings_are_assumed),
      cmocka_unit_test(test_shared_address_get_probe),
      cmocka_unit_test(test_scenario_stands_in_for_lab_start),
      cmocka_unit_test(test_cut_short_last_line_is_a_note),
      cmocka_unit_test(test_srv_target_consent_and_finding),
      cmocka_unit_test(test_model_walks_from_their_own_events),
      cmocka_unit_test(test_bad_lines_name_file_and_line),
      cmocka_unit_test(test_not_a_file),
      cmocka_unit_test(test_journal_or_scenario),
      cmocka_unit_test(test_cert_checks),
      cmocka_unit_test(test_page_draws_the_steps_and_the_prompt),
      cmocka_unit_test(test_page_escapes_what_clients_sent),
      cmocka_unit_test(test_json_and_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
