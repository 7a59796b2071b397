/* tests/unit/test_client_rules.c: the model table, redirect checks, SRV ordering and prompt
 * wording (client/sim_model.c, client/sim_rules.c). */
#include "client/internal.h"
#include "tests/unit/testutil.h"

#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

/* given makes a client that gives each "NAME=VALUE" of the space-separated `settings`. */
static struct scn_client given(const char *settings) {
  struct scn_client c = {0};
  char *copy = str_dup(settings);
  for (char *tok = strtok(copy, " "); tok != NULL; tok = strtok(NULL, " ")) {
    char err[2048];
    if (scn_client_set(&c, tok, err, sizeof err) != SCN_OK) {
      fail_msg("%s", err);
    }
  }
  free(copy);
  return c;
}

/* plan_of lays out the plan of `model` for the walk's settings: the model's values with the
 * given `settings` on top, as sim_walk_start makes them. */
static size_t plan_of(const char *model, const char *settings, bool first,
                      struct sim_plan_step *plan) {
  const struct sim_model *m = sim_model_named(model);
  assert_non_null(m);
  struct scn_client cfg = given(settings);
  struct scn_client eff;
  sim__settings(&eff, m, &cfg);
  size_t n = sim__plan(m, &eff, first, plan);
  scn_client_cleanup(&eff);
  scn_client_cleanup(&cfg);
  return n;
}

/* plan_names writes the plan as "name name! ..." — a '!' marks a step not taken. */
static const char *plan_names(char *out, size_t out_size, const char *model, const char *settings) {
  struct sim_plan_step plan[SIM_MODEL_MAX_STEPS];
  size_t n = plan_of(model, settings, true, plan);
  struct buf b;
  buf_init(&b, 4096);
  for (size_t i = 0; i < n; i++) {
    buf_appendf(&b, "%s%s%s", i > 0 ? " " : "", sim__step_kind_name(plan[i].kind),
                plan[i].skip != NULL ? "!" : "");
  }
  buf_fmt(out, out_size, "%s", buf_cstr(&b));
  buf_cleanup(&b);
  return out;
}

/* A client for which every step applies: nothing excluded, everything configured. */
#define EVERYTHING                                                                                 \
  "domain_joined=1 mailbox_in_exchange_online=1 "                                                  \
  "last_known_good_url=https://cached.example/autodiscover.xml local_xml=/tmp/contoso.xml "        \
  "restart_cache=/tmp/restart.xml"

static void test_models_step_order(void **state) {
  char b[512];
  /* MS-OXDISCO order (§1.1): SCP, root, autodiscover., SRV before the HTTP probe */
  assert_string_equal(plan_names(b, sizeof b, "mso-xdscli", EVERYTHING),
                      "scp https-root https-autodiscover srv http-redirect");
  /* §1.2 */
  assert_string_equal(plan_names(b, sizeof b, "outlook-2007", EVERYTHING),
                      "scp https-root https-autodiscover http-redirect srv local-xml");
  assert_string_equal(
      plan_names(b, sizeof b, "outlook-2010", EVERYTHING),
      "last-known-good scp https-root https-autodiscover http-redirect srv local-xml");
  /* Outlook 2013 starts SCP and the DNS steps together: the root attempt comes first */
  assert_string_equal(
      plan_names(b, sizeof b, "outlook-2013", EVERYTHING),
      "last-known-good https-root scp https-autodiscover http-redirect srv local-xml");
  /* no SCP lookup: 2010's order */
  assert_string_equal(
      plan_names(b, sizeof b, "outlook-2013", EVERYTHING " domain_joined=0"),
      "last-known-good scp! https-root https-autodiscover http-redirect srv local-xml");
  assert_string_equal(
      plan_names(b, sizeof b, "outlook-2013", EVERYTHING " ExcludeHttpsRootDomain=1"),
      "last-known-good scp https-root! https-autodiscover http-redirect srv local-xml");
  /* the setting makes any model start the root attempt with SCP, or stops 2013 doing it */
  assert_string_equal(
      plan_names(b, sizeof b, "outlook-2013", EVERYTHING " scp_parallel_root=0"),
      "last-known-good scp https-root https-autodiscover http-redirect srv local-xml");
  assert_string_equal(
      plan_names(b, sizeof b, "outlook-2016-msi", EVERYTHING),
      "last-known-good scp https-root https-autodiscover local-xml http-redirect srv");
  assert_string_equal(plan_names(b, sizeof b, "outlook-2016-c2r", EVERYTHING),
                      "last-known-good o365-direct scp https-root https-autodiscover local-xml "
                      "http-redirect srv o365-fallback");
  /* KB 3211279 steps 1-11 */
  assert_string_equal(plan_names(b, sizeof b, "outlook-m365", EVERYTHING),
                      "restart-cache last-known-good o365-direct scp https-root "
                      "https-autodiscover local-xml http-redirect srv o365-fallback");
  const struct sim_model *m = sim_model_named("mso-xdscli");
  assert_string_equal(sim_model_name(m), "mso-xdscli");
  assert_non_null(sim_model_summary(m));
  assert_null(sim_model_named("outlook-1997"));
  assert_null(sim_model_named(NULL));
  char steps[256];
  sim_model_steps(sim_model_named("outlook-2007"), steps, sizeof steps);
  assert_string_equal(steps, "scp, https-root, https-autodiscover, http-redirect, srv, local-xml");
}

static void test_prefer_local_xml_moves_it_first(void **state) {
  char b[512];
  assert_string_equal(plan_names(b, sizeof b, "outlook-2007", EVERYTHING " PreferLocalXML=1"),
                      "local-xml scp https-root https-autodiscover http-redirect srv");
  assert_string_equal(
      plan_names(b, sizeof b, "outlook-2010", EVERYTHING " PreferLocalXML=1"),
      "local-xml last-known-good scp https-root https-autodiscover http-redirect srv");
  assert_string_equal(plan_names(b, sizeof b, "outlook-2016-c2r", EVERYTHING " PreferLocalXML=1"),
                      "local-xml last-known-good o365-direct scp https-root https-autodiscover "
                      "http-redirect srv o365-fallback");
  /* KB 3211279: the restart case stays first, the preferred local XML is step 2 */
  assert_string_equal(plan_names(b, sizeof b, "outlook-m365", EVERYTHING " PreferLocalXML=1"),
                      "restart-cache local-xml last-known-good o365-direct scp https-root "
                      "https-autodiscover http-redirect srv o365-fallback");
  /* the plain protocol has no local XML: the setting changes nothing */
  assert_string_equal(plan_names(b, sizeof b, "mso-xdscli", EVERYTHING " PreferLocalXML=1"),
                      "scp https-root https-autodiscover srv http-redirect");
}

static void test_exclusions_and_not_applicable(void **state) {
  char b[512];
  /* nothing configured: the cached URL, SCP, local XML and Office 365 steps do not apply */
  assert_string_equal(plan_names(b, sizeof b, "outlook-2016-c2r", ""),
                      "last-known-good! o365-direct! scp! https-root https-autodiscover local-xml! "
                      "http-redirect srv o365-fallback!");
  assert_string_equal(plan_names(b, sizeof b, "outlook-m365", ""),
                      "restart-cache! last-known-good! o365-direct! scp! https-root "
                      "https-autodiscover local-xml! http-redirect srv o365-fallback!");
  struct sim_plan_step plan[SIM_MODEL_MAX_STEPS];
  size_t n = sim__plan(sim_model_named("outlook-2016-msi"), NULL, true, plan); /* its own */
  assert_int_equal(n, 7);
  assert_non_null(plan[0].skip);
  assert_null(plan[2].skip);
  const char *all = EVERYTHING " ExcludeScpLookup=1 ExcludeLastKnownGoodUrl=1 "
                               "ExcludeExplicitO365Endpoint=1 ExcludeHttpsRootDomain=1 "
                               "ExcludeHttpsAutoDiscoverDomain=1 ExcludeHttpRedirect=1 "
                               "ExcludeSrvRecord=1";
  assert_string_equal(plan_names(b, sizeof b, "outlook-2016-c2r", all),
                      "last-known-good! o365-direct! scp! https-root! https-autodiscover! "
                      "local-xml http-redirect! srv! o365-fallback!");
  /* the sentences name the registry value */
  n = plan_of("outlook-2016-c2r", all, true, plan);
  const char *want[] = {"ExcludeLastKnownGoodUrl",
                        "ExcludeExplicitO365Endpoint",
                        "ExcludeScpLookup",
                        "ExcludeHttpsRootDomain",
                        "ExcludeHttpsAutoDiscoverDomain",
                        NULL,
                        "ExcludeHttpRedirect",
                        "ExcludeSrvRecord",
                        "ExcludeExplicitO365Endpoint"};
  assert_int_equal(n, 9);
  for (size_t i = 0; i < n; i++) {
    if (want[i] == NULL) {
      assert_null(plan[i].skip);
    } else {
      assert_non_null(strstr(plan[i].skip, want[i]));
    }
  }
  /* an exclusion wins over "not applicable"; the rest say why */
  plan_of("outlook-2016-msi", "exclude_scp_lookup=1", true, plan); /* the older name too */
  assert_non_null(strstr(plan[1].skip, "ExcludeScpLookup"));
  assert_non_null(strstr(plan[0].skip, "no URL is cached"));
  plan_of("outlook-2016-msi", "", true, plan);
  assert_non_null(strstr(plan[1].skip, "not domain-joined"));
  plan_of("outlook-m365", "", true, plan);
  assert_non_null(strstr(plan[0].skip, "KB 3211279 step 1"));
  /* after a redirectAddr the profile's own steps are not taken again */
  n = plan_of("outlook-2016-msi", EVERYTHING, false, plan);
  assert_int_equal(n, 7);
  assert_non_null(plan[0].skip); /* last-known-good */
  assert_non_null(plan[1].skip); /* scp */
  assert_null(plan[2].skip);
  assert_non_null(plan[4].skip); /* local-xml */
}

static void test_scenario_table_and_defaults(void **state) {
  size_t n = 0;
  for (const struct sim_model *m; (m = sim_model_at(n)) != NULL; n++) {
    assert_ptr_equal(sim_model_named(sim_model_name(m)), m);
    struct sim_policy policy;
    sim__policy_of(&policy, sim_model_defaults(m));
    const struct sim_policy *p = &policy;
    assert_int_equal(p->cert_prompts, SCN_CERT_ALL);
    /* Windows accepts the weak signature and key (docs/clients.md); the plain protocol, with a
     * current TLS stack, does not */
    bool windows = sim_model_office(m) != 0;
    assert_int_equal(p->cert_accepted, windows ? SIM_CERT_WEAK_SIGNATURE | SIM_CERT_WEAK_KEY : 0u);
    assert_int_equal(windows, sim_model_product(m) != NULL);
    assert_int_equal(p->cert_no, SIM_CERT_NO_FAILS_STEP);
    assert_true(p->http_redirect_consent);
    assert_true(p->srv_consent);
    assert_false(p->post_redirect_consent);
    assert_true(p->silent_sso);
    assert_int_equal(p->max_redirects, 10);
    assert_true(p->https_only_redirects);
    assert_int_equal(p->srv_order, SIM_SRV_RFC2782);
    assert_true(p->srv_port_443_only);
    assert_int_equal(p->dns_timeout_ms, 5000);
    assert_int_equal(p->connect_timeout_ms, 21000);
    assert_int_equal(p->tls_timeout_ms, 30000);
    assert_int_equal(p->http_timeout_ms, 30000);
    assert_non_null(p->user_agent);
    assert_int_equal(p->scp_parallel_root, strcmp(sim_model_name(m), "outlook-2013") == 0);
  }
  assert_int_equal(n, 7);
  assert_int_equal(sim_model_office(sim_model_named("outlook-2010")), 14);
  assert_int_equal(sim_model_office(sim_model_named("outlook-m365")), 16);
  assert_int_equal(sim_model_office(sim_model_named("mso-xdscli")), 0);
}

static void test_redirect_servers(void **state) {
  char *list[] = {"autodiscover.hoster.net", "mail.example"};
  assert_true(sim__host_listed("autodiscover.hoster.net", list, 2));
  assert_true(sim__host_listed("Mail.Example", list, 2));
  assert_false(sim__host_listed("hoster.net", list, 2)); /* exact names, no suffix match */
  assert_false(sim__host_listed("evil.autodiscover.hoster.net", list, 2));
  assert_false(sim__host_listed(NULL, list, 2));
  assert_false(sim__host_listed("mail.example", NULL, 0));
}

static void test_auth_decision(void **state) {
  const char *scheme = NULL;
  assert_int_equal(sim__auth_decide("Basic, NTLM, Negotiate", &scheme), SIM_AUTH_SSO);
  assert_string_equal(scheme, "Negotiate");
  assert_int_equal(sim__auth_decide("basic, ntlm", &scheme), SIM_AUTH_SSO);
  assert_string_equal(scheme, "NTLM");
  assert_int_equal(sim__auth_decide("Basic", &scheme), SIM_AUTH_BASIC);
  assert_string_equal(scheme, "Basic");
  assert_int_equal(sim__auth_decide("Bearer", &scheme), SIM_AUTH_NONE);
  assert_null(scheme);
  assert_int_equal(sim__auth_decide(NULL, &scheme), SIM_AUTH_NONE);
  assert_int_equal(sim__auth_decide("", &scheme), SIM_AUTH_NONE);
  assert_int_equal(sim__auth_decide("Basicx, XNTLM", &scheme), SIM_AUTH_NONE); /* whole words */
}

static void test_auth_schemes_from_challenges(void **state) {
  struct buf b;
  buf_init(&b, 1024);
  sim__auth_schemes_add(&b, "Basic realm=\"contoso, inc\"");
  sim__auth_schemes_add(&b, "Negotiate, NTLM");
  sim__auth_schemes_add(&b, "Bearer authorization_uri=\"https://login.example/x\", error=\"y\"");
  sim__auth_schemes_add(&b, "");
  sim__auth_schemes_add(&b, "\"unterminated, =,,");
  assert_string_equal(buf_cstr(&b), "Basic, Negotiate, NTLM, Bearer");
  buf_cleanup(&b);
}

static void test_auth_header_values(void **state) {
  char *h = sim__auth_header("Negotiate", "alice@contoso.com");
  assert_string_equal(h, "Negotiate YXV0b2Rpc2NvLWxhYi1zc28="); /* base64("autodisco-lab-sso") */
  free(h);
  h = sim__auth_header("NTLM", "alice@contoso.com");
  assert_string_equal(h, "NTLM YXV0b2Rpc2NvLWxhYi1zc28=");
  free(h);
  h = sim__auth_header("Basic", "alice@contoso.com");
  /* base64("alice@contoso.com:lab-password") */
  assert_string_equal(h, "Basic YWxpY2VAY29udG9zby5jb206bGFiLXBhc3N3b3Jk");
  free(h);
  char *text = sim__credentials_prompt_text("contoso.com", "alice@contoso.com");
  assert_non_null(strstr(text, "Windows Security"));
  assert_non_null(strstr(text, "contoso.com"));
  assert_null(strstr(text, "lab-password"));
  free(text);
}

static void test_names(void **state) {
  assert_string_equal(sim_result_name(SIM_R_NOT_AUTODISCOVER), "not-autodiscover");
  assert_string_equal(sim_result_name(SIM_R_SETTINGS), "settings");
  assert_string_equal(sim_prompt_kind_name(SIM_PROMPT_CERTIFICATE), "certificate");
  assert_string_equal(sim__step_kind_name(SIM_STEP_HTTPS_AUTODISCOVER), "https-autodiscover");
}

static struct sim_policy policy(void) {
  struct sim_policy p;
  sim__policy_of(&p, sim_model_defaults(sim_model_named("mso-xdscli")));
  return p;
}

static void test_redirects_https_only(void **state) {
  struct sim_policy p = policy();
  struct sim_visits v = {0};
  assert_int_equal(sim__visit_url(&v, &p, "http://mail.contoso.com/autodiscover/autodiscover.xml"),
                   SIM_REDIRECT_NOT_HTTPS);
  assert_int_equal(sim__visit_url(&v, &p, "not a url"), SIM_REDIRECT_BAD);
  assert_int_equal(sim__visit_url(&v, &p, "https://mail.contoso.com/autodiscover/autodiscover.xml"),
                   SIM_REDIRECT_OK);
  assert_int_equal(v.n_redirects, 1);
  p.https_only_redirects = false;
  assert_int_equal(sim__visit_url(&v, &p, "http://mail.contoso.com/autodiscover/autodiscover.xml"),
                   SIM_REDIRECT_OK);
  sim__visits_cleanup(&v);
}

static void test_redirect_loop(void **state) {
  struct sim_policy p = policy();
  struct sim_visits v = {0};
  sim__visit_note(&v, "https://contoso.com/autodiscover/autodiscover.xml");
  assert_int_equal(v.n_redirects, 0);
  assert_int_equal(sim__visit_url(&v, &p, "https://CONTOSO.com/autodiscover/autodiscover.xml"),
                   SIM_REDIRECT_LOOP);
  assert_int_equal(sim__visit_url(&v, &p, "https://a.example/x"), SIM_REDIRECT_OK);
  assert_int_equal(sim__visit_url(&v, &p, "https://a.example/x"), SIM_REDIRECT_LOOP);
  assert_int_equal(sim__visit_addr(&v, &p, "alice@contoso.com", false), SIM_REDIRECT_OK);
  assert_int_equal(sim__visit_addr(&v, &p, "Alice@Contoso.com", true), SIM_REDIRECT_LOOP);
  assert_int_equal(sim__visit_addr(&v, &p, "alice@contoso.mail.onmicrosoft.com", true),
                   SIM_REDIRECT_OK);
  assert_int_equal(sim__visit_addr(&v, &p, "nobody", true), SIM_REDIRECT_BAD);
  assert_int_equal(v.n_redirects, 2);
  sim__visits_cleanup(&v);
}

static void test_redirect_limit_is_ten(void **state) {
  struct sim_policy p = policy();
  struct sim_visits v = {0};
  char url[64];
  for (int i = 0; i < 10; i++) {
    buf_fmt(url, sizeof url, "https://h%d.example/autodiscover/autodiscover.xml", i);
    assert_int_equal(sim__visit_url(&v, &p, url), SIM_REDIRECT_OK);
  }
  assert_int_equal(sim__visit_url(&v, &p, "https://h10.example/autodiscover/autodiscover.xml"),
                   SIM_REDIRECT_LIMIT);
  assert_int_equal(sim__visit_addr(&v, &p, "x@y.example", true), SIM_REDIRECT_LIMIT);
  assert_int_equal(v.n_redirects, 10);
  assert_non_null(strstr(sim__redirect_verdict_text(SIM_REDIRECT_LIMIT), "too many"));
  sim__visits_cleanup(&v);
}

static void srv_set(struct sim_srv *r, const char *target, uint16_t prio, uint16_t weight,
                    uint16_t port) {
  r->target = (char *) target;
  r->priority = prio;
  r->weight = weight;
  r->port = port;
}

static void test_srv_rfc2782(void **state) {
  struct sim_policy p = policy();
  struct sim_srv r[5];
  srv_set(&r[0], "dead.example", 10, 0, 443);
  srv_set(&r[1], "light.example", 0, 10, 443);
  srv_set(&r[2], "alt.example", 0, 10, 8443);
  srv_set(&r[3], "heavy.example", 0, 60, 443);
  srv_set(&r[4], "twin.example", 0, 10, 443);
  size_t kept = sim__srv_select(r, 5, &p);
  assert_int_equal(kept, 4);
  assert_string_equal(r[0].target, "heavy.example");
  assert_string_equal(r[1].target, "light.example"); /* equal weights keep answer order */
  assert_string_equal(r[2].target, "twin.example");
  assert_string_equal(r[3].target, "dead.example");
  assert_string_equal(r[4].target, "alt.example"); /* ignored, port 8443 */
}

static void test_srv_largest_wins(void **state) {
  struct sim_policy p = policy();
  p.srv_order = SIM_SRV_LARGEST_WINS;
  struct sim_srv r[2];
  srv_set(&r[0], "good.example", 0, 0, 443);
  srv_set(&r[1], "dead.example", 10, 0, 443);
  assert_int_equal(sim__srv_select(r, 2, &p), 1); /* one record, no fallback */
  assert_string_equal(r[0].target, "dead.example");
  p.srv_order = SIM_SRV_RFC2782;
  assert_int_equal(sim__srv_select(r, 2, &p), 2);
  assert_string_equal(r[0].target, "good.example");
}

static void test_srv_port_filter(void **state) {
  struct sim_policy p = policy();
  struct sim_srv r[2];
  srv_set(&r[0], "a.example", 0, 0, 8443);
  srv_set(&r[1], "b.example", 0, 0, 80);
  assert_int_equal(sim__srv_select(r, 2, &p), 0);
  p.srv_port_443_only = false;
  assert_int_equal(sim__srv_select(r, 2, &p), 2);
  srv_set(&r[0], ".", 0, 0, 443); /* "no service here" */
  srv_set(&r[1], "b.example", 0, 0, 443);
  p.srv_port_443_only = true;
  assert_int_equal(sim__srv_select(r, 2, &p), 1);
  assert_string_equal(r[0].target, "b.example");
}

/* first_counts runs the weighted draw with seeds 1..n over the three records of weights 10, 60
 * and 30 and counts which one comes first. */
static void first_counts(size_t n, size_t counts[3]) {
  struct sim_policy p = policy();
  p.srv_order = SIM_SRV_WEIGHTED;
  for (uint32_t seed = 1; seed <= n; seed++) {
    struct sim_srv r[4];
    srv_set(&r[0], "a.example", 0, 10, 443);
    srv_set(&r[1], "b.example", 0, 60, 443);
    srv_set(&r[2], "c.example", 0, 30, 443);
    srv_set(&r[3], "later.example", 5, 1000, 443); /* a worse priority, whatever its weight */
    p.srv_seed = seed;
    assert_int_equal(sim__srv_select(r, 4, &p), 4);
    assert_string_equal(r[3].target, "later.example");
    counts[r[0].target[0] - 'a']++;
  }
}

static void test_srv_weighted_draw(void **state) {
  /* RFC 2782: within a priority, each record comes first in proportion to its weight */
  size_t counts[3] = {0};
  first_counts(6000, counts);
  assert_in_range(counts[0], 600 - 150, 600 + 150);
  assert_in_range(counts[1], 3600 - 250, 3600 + 250);
  assert_in_range(counts[2], 1800 - 200, 1800 + 200);
  /* the same seed, the same order: a transcript repeats */
  struct sim_policy p = policy();
  p.srv_order = SIM_SRV_WEIGHTED;
  p.srv_seed = 42;
  char first[2][32];
  for (int k = 0; k < 2; k++) {
    struct sim_srv r[3];
    srv_set(&r[0], "a.example", 0, 10, 443);
    srv_set(&r[1], "b.example", 0, 60, 443);
    srv_set(&r[2], "c.example", 0, 30, 443);
    sim__srv_select(r, 3, &p);
    buf_fmt(first[k], sizeof first[k], "%s %s %s", r[0].target, r[1].target, r[2].target);
  }
  assert_string_equal(first[0], first[1]);
  /* weight 0 goes first in the list the draw runs over: it is picked only by a draw of 0 */
  size_t zero_first = 0;
  for (uint32_t seed = 1; seed <= 1000; seed++) {
    struct sim_srv r[2];
    srv_set(&r[0], "heavy.example", 0, 100, 443);
    srv_set(&r[1], "zero.example", 0, 0, 443);
    p.srv_seed = seed;
    sim__srv_select(r, 2, &p);
    zero_first += strcmp(r[0].target, "zero.example") == 0;
  }
  assert_in_range(zero_first, 1, 40); /* about 1 in 101 */
}

static void test_srv_url_names_the_port(void **state) {
  struct sim_srv r;
  srv_set(&r, "mail.hoster.net", 0, 0, 443);
  char *url = sim__srv_url(&r);
  assert_string_equal(url, "https://mail.hoster.net/Autodiscover/Autodiscover.xml");
  free(url);
  r.port = 8443; /* srv_ports any (§5, §9.5): the URL keeps the port */
  url = sim__srv_url(&r);
  assert_string_equal(url, "https://mail.hoster.net:8443/Autodiscover/Autodiscover.xml");
  free(url);
  struct sim_srv zero[1];
  srv_set(&zero[0], "mail.hoster.net", 0, 0, 0);
  struct sim_policy p = policy();
  p.srv_port_443_only = false;
  assert_int_equal(sim__srv_select(zero, 1, &p), 0); /* port 0: nowhere to connect */
}

static void test_cert_failure_mapping(void **state) {
  assert_int_equal(sim__cert_failure_of_verify(X509_V_OK), 0);
  assert_int_equal(sim__cert_failure_of_verify(X509_V_ERR_CERT_HAS_EXPIRED), SIM_CERT_EXPIRED);
  assert_int_equal(sim__cert_failure_of_verify(X509_V_ERR_CERT_NOT_YET_VALID),
                   SIM_CERT_NOT_YET_VALID);
  assert_int_equal(sim__cert_failure_of_verify(X509_V_ERR_HOSTNAME_MISMATCH), SIM_CERT_NAME);
  assert_int_equal(sim__cert_failure_of_verify(X509_V_ERR_IP_ADDRESS_MISMATCH), SIM_CERT_NAME);
  static const int untrusted[] = {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
                                  X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                                  X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
                                  X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN,
                                  X509_V_ERR_CERT_UNTRUSTED,
                                  X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE,
                                  X509_V_ERR_PERMITTED_VIOLATION};
  for (size_t i = 0; i < sizeof untrusted / sizeof untrusted[0]; i++) {
    assert_int_equal(sim__cert_failure_of_verify(untrusted[i]), SIM_CERT_UNTRUSTED);
  }
}

static void test_cert_reason_order(void **state) {
  assert_null(sim__cert_reason(0));
  assert_string_equal(sim__cert_reason(SIM_CERT_UNTRUSTED), "untrusted");
  assert_string_equal(sim__cert_reason(SIM_CERT_UNTRUSTED | SIM_CERT_NAME), "name");
  assert_string_equal(sim__cert_reason(SIM_CERT_NAME | SIM_CERT_NOT_YET_VALID), "not-yet-valid");
  assert_string_equal(sim__cert_reason(SIM_CERT_UNTRUSTED | SIM_CERT_NAME | SIM_CERT_EXPIRED),
                      "expired");
  assert_string_equal(sim__cert_reason(SIM_CERT_WEAK_SIGNATURE | SIM_CERT_WEAK_KEY),
                      "weak-signature");
  assert_string_equal(sim__cert_reason(SIM_CERT_WEAK_KEY), "weak-key");
  assert_string_equal(sim__cert_reason(SIM_CERT_WEAK_KEY | SIM_CERT_UNTRUSTED), "untrusted");
  assert_string_equal(sim_cert_failure_name(SIM_CERT_WEAK_SIGNATURE), "weak-signature");
  assert_string_equal(sim_cert_failure_name(SIM_CERT_WEAK_KEY), "weak-key");
}

static void test_cert_prompt_text(void **state) {
  char *t = sim__cert_prompt_text("contoso.com", SIM_CERT_EXPIRED);
  assert_non_null(strstr(t, "contoso.com"));
  assert_non_null(strstr(t, "there is a problem with the site's security certificate."));
  assert_non_null(strstr(t, "✓ The security certificate is from a trusted certifying authority."));
  assert_non_null(strstr(t, "✗ The security certificate has expired or is not yet valid."));
  assert_non_null(strstr(t, "✓ The security certificate has a valid name"));
  free(t);
  t = sim__cert_prompt_text("contoso.com", SIM_CERT_NAME | SIM_CERT_UNTRUSTED);
  assert_non_null(strstr(t, "✗ The name on the security certificate is invalid or does not match "
                            "the name of the site."));
  assert_non_null(strstr(t, "✗ The security certificate was issued by a company"));
  assert_non_null(strstr(t, "✓ The security certificate date is valid."));
  free(t);
  /* a weak signature or key fails the chain's trust: the dialog's first line */
  t = sim__cert_prompt_text("contoso.com", SIM_CERT_WEAK_SIGNATURE);
  assert_non_null(strstr(t, "✗ The security certificate was issued by a company"));
  assert_non_null(strstr(t, "✓ The security certificate date is valid."));
  assert_non_null(strstr(t, "✓ The security certificate has a valid name"));
  free(t);
}

static void test_redirect_prompt_text(void **state) {
  char *t = sim__redirect_prompt_text("alice@contoso.com", "https://mail.hoster.net/x.xml");
  assert_true(strncmp(t,
                      "Allow this website to configure alice@contoso.com server settings?\n"
                      "https://mail.hoster.net/x.xml\n",
                      95) == 0);
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_models_step_order),
      cmocka_unit_test(test_prefer_local_xml_moves_it_first),
      cmocka_unit_test(test_exclusions_and_not_applicable),
      cmocka_unit_test(test_scenario_table_and_defaults),
      cmocka_unit_test(test_redirect_servers),
      cmocka_unit_test(test_auth_decision),
      cmocka_unit_test(test_auth_schemes_from_challenges),
      cmocka_unit_test(test_auth_header_values),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_redirects_https_only),
      cmocka_unit_test(test_redirect_loop),
      cmocka_unit_test(test_redirect_limit_is_ten),
      cmocka_unit_test(test_srv_rfc2782),
      cmocka_unit_test(test_srv_largest_wins),
      cmocka_unit_test(test_srv_port_filter),
      cmocka_unit_test(test_srv_weighted_draw),
      cmocka_unit_test(test_srv_url_names_the_port),
      cmocka_unit_test(test_cert_failure_mapping),
      cmocka_unit_test(test_cert_reason_order),
      cmocka_unit_test(test_cert_prompt_text),
      cmocka_unit_test(test_redirect_prompt_text),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
