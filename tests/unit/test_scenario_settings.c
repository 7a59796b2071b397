/* tests/unit/test_scenario_settings.c: the settings table (scenario/scn_settings.c) — its rows,
 * names and aliases, --set's NAME=VALUE, the values as text and back, copying and layering
 * settings, and every setting read from a scenario (tests/data/good/settings.yaml). */
#include "tests/unit/test_scenario_fixture.h"

static void test_table_rows(void **state) {
  size_t n = 0;
  for (const struct scn_setting *s; (s = scn_setting_at(n)) != NULL; n++) {
    assert_int_equal(scn_setting_index(s), n);
    assert_non_null(s->name);
    assert_non_null(s->meaning);
    assert_non_null(s->source);
    assert_ptr_equal(scn_setting_named(s->name), s);
    if (s->alias != NULL) {
      assert_ptr_equal(scn_setting_named(s->alias), s);
    }
    if (s->kind == SCN_SETTING_REGISTRY) {
      assert_non_null(s->registry); /* where the kit writes it */
      assert_true(s->office >= 12 && s->office <= 16);
    } else {
      assert_null(s->registry);
    }
    for (size_t j = 0; j < n; j++) { /* names and aliases are one namespace */
      const struct scn_setting *o = scn_setting_at(j);
      assert_false(str_eq_nocase(o->name, s->name));
      assert_true(s->alias == NULL || !str_eq_nocase(o->name, s->alias));
    }
  }
  assert_true(n >= 38 && n <= 64);
  /* the registry spells names in any case; the older scenario keys are aliases */
  assert_string_equal(scn_setting_named("excludehttpsrootdomain")->name, "ExcludeHttpsRootDomain");
  assert_string_equal(scn_setting_named("exclude_https_root_domain")->name,
                      "ExcludeHttpsRootDomain");
  assert_string_equal(scn_setting_named("redirect_servers")->name, "RedirectServers");
  assert_null(scn_setting_named("ExcludeSrvLookup")); /* not modelled (protocol §1.4) */
  assert_null(scn_setting_named(NULL));
  assert_int_equal(scn_setting_named("ExcludeLastKnownGoodUrl")->office, 14);
  assert_int_equal(scn_setting_named("ExcludeExplicitO365Endpoint")->office, 16);
  char names[4096];
  scn_settings_names(names, sizeof names);
  assert_non_null(strstr(names, "ExcludeScpLookup, ExcludeHttpsRootDomain, "));
  assert_non_null(strstr(names, "restart_cache"));
}

/* set_fails applies `assignment` and expects it refused with `message` in the sentence. */
static void set_fails(const char *assignment, const char *message) {
  struct scn_client c = {0};
  char err[4096] = "";
  assert_int_equal(scn_client_set(&c, assignment, err, sizeof err), SCN_ESCHEMA);
  if (strstr(err, message) == NULL) {
    fail_msg("%s: \"%s\" does not say \"%s\"", assignment, err, message);
  }
  assert_int_equal(c.given, 0);
  scn_client_cleanup(&c);
}

static void test_set_refuses(void **state) {
  set_fails("ExcludeTheMoon=1", "unknown setting \"ExcludeTheMoon\" (known: ExcludeScpLookup");
  set_fails("ExcludeHttpsRootDomain", "expected NAME=VALUE");
  set_fails("=1", "expected NAME=VALUE");
  set_fails("ExcludeHttpsRootDomain=2", "expected 0 or 1");
  set_fails("certificate_prompt_answer=maybe", "expected yes or no");
  set_fails("max_redirects=101", "from 0 to 100");
  set_fails("max_redirects=-1", "from 0 to 100");
  set_fails("srv_seed=0", "from 1 to");
  set_fails("dns_timeout=5", "expected a duration");
  set_fails("srv_choice=smallest", "expected one of rfc2782, weighted, largest");
  set_fails("certificate_prompts=expired,bogus", "\"bogus\" is not a certificate check");
  set_fails("RedirectServers=a.example,,b.example", "an empty item");
  set_fails("RedirectServers=hoster net", "is not a valid DNS name");
  set_fails("RedirectServers=a.example,A.example", "listed twice");
  set_fails("scp_urls=http://mail.contoso.com/", "an SCP URL is https://");
  set_fails("last_known_good_url=mail.contoso.com", "is not an http:// or https:// URL");
  set_fails("user_agent=", "one line of text");
  set_fails("local_xml=", "the path of a file");
}

/* round_trip sets `assignment`, reads its value back as text and sets that again. */
static void round_trip(const char *assignment, const char *want) {
  struct scn_client c = {0};
  char err[4096] = "";
  if (scn_client_set(&c, assignment, err, sizeof err) != SCN_OK) {
    fail_msg("%s", err);
  }
  const struct scn_setting *s = NULL;
  for (size_t i = 0; scn_setting_at(i) != NULL; i++) {
    if (scn_client_given(&c, scn_setting_at(i))) {
      assert_null(s); /* exactly one given */
      s = scn_setting_at(i);
    }
  }
  assert_non_null(s);
  char *text = scn_client_format(&c, s);
  assert_string_equal(text, want);
  char again[4200];
  buf_fmt(again, sizeof again, "%s=%s", s->name, text);
  struct scn_client d = {0};
  assert_int_equal(scn_client_set(&d, again, err, sizeof err), SCN_OK);
  char *text2 = scn_client_format(&d, s);
  assert_string_equal(text2, text);
  free(text);
  free(text2);
  scn_client_cleanup(&c);
  scn_client_cleanup(&d);
}

static void test_values_as_text(void **state) {
  round_trip("ExcludeHttpsRootDomain=1", "1");
  round_trip("exclude_https_root_domain=true", "1");
  round_trip("PreferLocalXML=no", "0");
  round_trip("certificate_prompt_answer=NO", "no");
  round_trip("max_redirects=3", "3");
  round_trip("connect_timeout=21s", "21s");
  round_trip("http_timeout=1500ms", "1500ms");
  round_trip("RedirectServers=Mail.Hoster.Net.,autodiscover.hoster.net",
             "mail.hoster.net,autodiscover.hoster.net");
  round_trip("RedirectServers=", "");
  round_trip("certificate_prompts=name,expired", "expired,name");
  round_trip("certificate_accepted=", "");
  round_trip("srv_choice=largest", "largest");
  round_trip("srv_ports=any", "any");
  round_trip("certificate_no=end-walk", "end-walk");
  round_trip("local_xml=contoso.xml", "contoso.xml"); /* --set: as given */
  round_trip("user_agent=Outlook/16 (x; y)", "Outlook/16 (x; y)");
}

static void test_copy_and_overlay(void **state) {
  char err[1024];
  struct scn_client base = {0};
  base.model = str_dup("outlook-m365");
  assert_int_equal(scn_client_set(&base, "RedirectServers=a.example", err, sizeof err), SCN_OK);
  assert_int_equal(scn_client_set(&base, "ExcludeSrvRecord=1", err, sizeof err), SCN_OK);
  struct scn_client top = {0};
  assert_int_equal(scn_client_set(&top, "RedirectServers=b.example,c.example", err, sizeof err),
                   SCN_OK);
  assert_int_equal(scn_client_set(&top, "domain_joined=1", err, sizeof err), SCN_OK);
  struct scn_client c;
  scn_client_copy(&c, &base);
  scn_client_overlay(&c, &top);
  assert_string_equal(c.model, "outlook-m365");
  assert_true(c.exclude_srv_record); /* kept */
  assert_true(c.domain_joined);      /* added */
  assert_int_equal(c.n_redirect_servers, 2);
  assert_string_equal(c.redirect_servers[0], "b.example"); /* replaced, not appended */
  assert_true(scn_client_given(&c, scn_setting_named("domain_joined")));
  assert_true(scn_client_given(&c, scn_setting_named("ExcludeSrvRecord")));
  assert_false(scn_client_given(&c, scn_setting_named("ExcludeScpLookup")));
  /* the copy owns its strings */
  scn_client_cleanup(&base);
  scn_client_cleanup(&top);
  assert_string_equal(c.redirect_servers[1], "c.example");
  scn_client_cleanup(&c);
  assert_null(c.model);
  scn_client_cleanup(NULL);
}

static void test_every_setting_from_a_scenario(void **state) {
  struct scn *s = load_ok("good/settings.yaml");
  const struct scn_client *c = client(s, "outlook-m365");
  assert_non_null(c);
  for (size_t i = 0; scn_setting_at(i) != NULL; i++) { /* the file gives every one */
    if (!scn_client_given(c, scn_setting_at(i))) {
      fail_msg("good/settings.yaml does not give %s", scn_setting_at(i)->name);
    }
  }
  assert_true(c->exclude_scp_lookup && c->exclude_https_root_domain &&
              c->exclude_https_autodiscover_domain && c->exclude_http_redirect &&
              c->exclude_srv_record && c->exclude_last_known_good_url &&
              c->exclude_explicit_o365_endpoint && c->prefer_local_xml);
  assert_string_equal(c->local_xml, "zones/contoso-autodiscover.xml"); /* from good/ */
  assert_string_equal(c->restart_cache, "zones/contoso-autodiscover.xml");
  assert_int_equal(c->n_redirect_servers, 2);
  assert_string_equal(c->redirect_servers[1], "mail.hoster.net");
  assert_true(c->domain_joined);
  assert_int_equal(c->n_scp_urls, 1);
  assert_string_equal(c->scp_urls[0], "https://mail.contoso.com/autodiscover/autodiscover.xml");
  assert_true(c->mailbox_in_exchange_online);
  assert_string_equal(c->last_known_good_url,
                      "https://mail.contoso.com/autodiscover/autodiscover.xml");
  assert_true(c->answer_no_to_certificate_prompts && c->answer_no_to_redirect_prompts &&
              c->answer_no_to_credentials_prompts);
  assert_int_equal(c->certificate_prompts, SCN_CERT_EXPIRED | SCN_CERT_NAME);
  assert_int_equal(c->certificate_accepted, SCN_CERT_WEAK_KEY | SCN_CERT_UNTRUSTED);
  assert_int_equal(c->certificate_no, SCN_CERT_NO_END_WALK);
  assert_false(c->http_redirect_consent || c->srv_consent || c->silent_sso || c->follow_post_3xx ||
               c->https_only_redirects || c->mapi_http);
  assert_true(c->post_redirect_consent && c->scp_parallel_root);
  assert_int_equal(c->srv_choice, SCN_SRV_WEIGHTED);
  assert_int_equal(c->srv_seed, 4242);
  assert_int_equal(c->srv_ports, SCN_SRV_PORT_ANY);
  assert_int_equal(c->max_redirects, 3);
  assert_int_equal(c->dns_timeout_ms, 1000);
  assert_int_equal(c->connect_timeout_ms, 2000);
  assert_int_equal(c->tls_timeout_ms, 3000);
  assert_int_equal(c->http_timeout_ms, 1500);
  assert_string_equal(c->user_agent, "Microsoft Office/16.0 (test)");
  c = client(s, "outlook-2016-msi");
  assert_int_equal(c->given, 0);
  scn_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_rows),
      cmocka_unit_test(test_set_refuses),
      cmocka_unit_test(test_values_as_text),
      cmocka_unit_test(test_copy_and_overlay),
      cmocka_unit_test(test_every_setting_from_a_scenario),
  };
  return cmocka_run_group_tests(tests, to_data, NULL);
}
