/* tests/unit/test_scenario_clients.c: the clients: and expect: sections
 * (scenario/scn_clients.c) as tests/data/good/everything.yaml and everything-v2.yaml use them:
 * every client setting and every kind of expectation. Runs from tests/data. */
#include "tests/unit/test_scenario_fixture.h"

static void check_everything_clients(const struct scn *s) {
  assert_int_equal(s->n_clients, 3);
  const struct scn_client *c = &s->clients[0];
  assert_string_equal(c->model, "outlook-2016-msi");
  assert_false(c->exclude_https_root_domain || c->exclude_https_autodiscover_domain ||
               c->exclude_http_redirect || c->exclude_srv_record ||
               c->answer_no_to_certificate_prompts);
  c = &s->clients[1];
  assert_string_equal(c->model, "mso-xdscli");
  assert_true(c->exclude_https_root_domain);
  assert_true(c->exclude_https_autodiscover_domain);
  assert_false(c->exclude_http_redirect);
  assert_false(c->exclude_srv_record);
  assert_true(c->answer_no_to_certificate_prompts);
  assert_int_equal(c->mark.line, 71);
  assert_int_equal(c->mark.col, 5);
  c = &s->clients[2];
  assert_string_equal(c->model, "outlook-2019");
  assert_false(c->answer_no_to_certificate_prompts);

  assert_int_equal(s->n_expects, 3);
  const struct scn_expect *e = expect_for(s, "outlook-2016-msi");
  assert_non_null(e);
  assert_true(e->has_prompts);
  assert_int_equal(e->n_prompts, 3);
  assert_string_equal(e->prompts[0].kind, "certificate");
  assert_string_equal(e->prompts[0].host, "contoso.com");
  assert_string_equal(e->prompts[0].reason, "expired");
  assert_string_equal(e->prompts[1].kind, "redirect");
  assert_null(e->prompts[1].host);
  assert_string_equal(e->prompts[1].reason,
                      "https://autodiscover.hoster.net/autodiscover/autodiscover.xml");
  assert_string_equal(e->prompts[2].kind, "credentials");
  assert_null(e->prompts[2].reason);
  assert_string_equal(e->outcome, "settings");
  assert_string_equal(e->final_url,
                      "https://autodiscover.contoso.com/autodiscover/autodiscover.xml");
  assert_string_equal(e->ews_url, "https://mail.contoso.com/EWS/Exchange.asmx");
  e = expect_for(s, "mso-xdscli");
  assert_true(e->has_prompts);
  assert_int_equal(e->n_prompts, 0);
  assert_string_equal(e->outcome, "failure");
  assert_null(e->final_url);
  assert_null(e->ews_url);
  e = expect_for(s, "outlook-2019");
  assert_false(e->has_prompts); /* prompts not checked */
  assert_null(e->outcome);
}

static void test_everything_clients(void **state) {
  struct scn *s = load_ok("good/everything.yaml");
  check_everything_clients(s);
  scn_free(s);
}

static void check_v2_clients(const struct scn *s) {
  const struct scn_client *c = client(s, "outlook-2016-c2r");
  assert_non_null(c);
  assert_true(c->exclude_https_root_domain);
  assert_false(c->exclude_https_autodiscover_domain);
  assert_true(c->exclude_scp_lookup);
  assert_true(c->exclude_last_known_good_url);
  assert_true(c->exclude_explicit_o365_endpoint);
  assert_true(c->prefer_local_xml);
  assert_true(c->answer_no_to_certificate_prompts);
  assert_true(c->answer_no_to_redirect_prompts);
  assert_true(c->domain_joined);
  assert_true(c->mailbox_in_exchange_online);
  assert_string_equal(c->last_known_good_url,
                      "https://mail.contoso.com/autodiscover/autodiscover.xml");
  assert_string_equal(c->local_xml, "zones/contoso-autodiscover.xml"); /* from good/ */
  assert_int_equal(c->n_redirect_servers, 2);
  assert_string_equal(c->redirect_servers[0], "autodiscover.hoster.net");
  assert_string_equal(c->redirect_servers[1], "mail.hoster.net");
  assert_int_equal(c->srv_choice, SCN_SRV_LARGEST);
  c = client(s, "outlook-2016-msi");
  assert_non_null(c);
  assert_int_equal(c->srv_choice, SCN_SRV_RFC2782);
  assert_false(c->answer_no_to_redirect_prompts);
  assert_false(c->domain_joined);
  assert_null(c->last_known_good_url);
  assert_null(c->local_xml);
  assert_int_equal(c->n_redirect_servers, 0);

  const struct scn_expect *e = expect_for(s, "outlook-2016-c2r");
  assert_non_null(e);
  assert_false(e->has_prompts);
  assert_true(e->has_prompt_count);
  assert_int_equal(e->prompt_count, 2);
  assert_true(e->has_steps);
  assert_int_equal(e->n_steps, 10);
  assert_string_equal(e->steps[0], "local-xml");
  assert_string_equal(e->steps[9], "o365-fallback");
  assert_string_equal(e->outcome, "settings");
  assert_string_equal(e->settings_email, "alice@contoso.mail.onmicrosoft.com");
  assert_true(e->has_max_wait_ms);
  assert_int_equal(e->max_wait_ms, 25000);
  e = expect_for(s, "outlook-2016-msi");
  assert_non_null(e);
  assert_true(e->has_prompts);
  assert_int_equal(e->n_prompts, 0);
  assert_true(e->has_prompt_count);
  assert_int_equal(e->prompt_count, 0);
  assert_true(e->has_steps);
  assert_int_equal(e->n_steps, 0);
  assert_false(e->has_max_wait_ms);
  assert_null(e->settings_email);
}

static void test_everything_v2_clients(void **state) {
  struct scn *s = load_ok("good/everything-v2.yaml");
  check_v2_clients(s);
  scn_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_everything_clients),
      cmocka_unit_test(test_everything_v2_clients),
  };
  return cmocka_run_group_tests(tests, to_data, NULL);
}
