/* tests/unit/test_scenario_load.c: scenarios that load — the founding story and a file using every
 * key (tests/data/good/everything.yaml) — checked field by field; plus the loader's I/O edges. */
#include "common/buf.h"
#include "scenario/scn.h"
#include "tests/unit/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct scn *load_ok(const char *path) {
  struct scn *s = NULL;
  char err[1024] = "";
  enum scn_status st = scn_load(&s, path, err, sizeof err);
  if (st != SCN_OK) {
    fail_msg("%s", err);
  }
  assert_non_null(s);
  return s;
}

static struct scn *load_founding(const char *file) {
  const char *src = getenv("AD_SOURCE_DIR");
  assert_non_null(src);
  char path[4096];
  assert_true(buf_fmt(path, sizeof path, "%s/scenarios/founding/%s", src, file));
  struct scn *s = load_ok(path);
  assert_string_equal(s->path, path);
  return s;
}

static const struct scn_record *record(const struct scn *s, const char *name, uint16_t type) {
  for (size_t i = 0; i < s->n_records; i++) {
    if (strcmp(s->records[i].name, name) == 0 && s->records[i].type == type) {
      return &s->records[i];
    }
  }
  return NULL;
}

static const struct scn_expect *expect_for(const struct scn *s, const char *client) {
  for (size_t i = 0; i < s->n_expects; i++) {
    if (strcmp(s->expects[i].client, client) == 0) {
      return &s->expects[i];
    }
  }
  return NULL;
}

/* check_common checks what the three founding files share: hosts, routes, clients. */
static void check_common(const struct scn *s, const char *www_profile) {
  assert_string_equal(s->domain, "contoso.com");
  assert_string_equal(s->email, "user@contoso.com");
  assert_int_equal(s->n_zones, 0); /* derived by the DNS module */
  assert_int_equal(s->n_hosts, 2);
  assert_non_null(s->description);
  assert_true(strlen(s->description) > 80);

  const struct scn_host *www = scn_host_find(s, "www");
  assert_non_null(www);
  assert_null(www->address);
  assert_true(www->https.present);
  assert_string_equal(ca_profile_name(www->https.cert.profile), www_profile);
  assert_int_equal(www->https.cert.n_names, 2);
  assert_string_equal(www->https.cert.names[0], "contoso.com");
  assert_string_equal(www->https.cert.names[1], "www.contoso.com");
  assert_int_equal(www->https.n_routes, 2);
  const struct scn_route *r = &www->https.routes[0];
  assert_string_equal(r->path, "/autodiscover/autodiscover.xml");
  assert_null(r->method);
  assert_int_equal(r->kind, SCN_ROUTE_STATUS);
  assert_int_equal(r->status, 404);
  assert_null(r->body);
  r = &www->https.routes[1];
  assert_string_equal(r->path, "/");
  assert_int_equal(r->kind, SCN_ROUTE_STATUS);
  assert_int_equal(r->status, 200);
  assert_string_equal(r->body, "<h1>Contoso</h1>");
  assert_string_equal(r->content_type, "text/html; charset=utf-8");
  assert_true(www->http.present);
  assert_int_equal(www->http.n_routes, 1);
  r = &www->http.routes[0];
  assert_int_equal(r->kind, SCN_ROUTE_REDIRECT);
  assert_int_equal(r->status, 301);
  assert_string_equal(r->location, "https://www.contoso.com/");
  assert_string_equal(r->mark.file, s->path);

  const struct scn_host *ex = scn_host_find(s, "exchange");
  assert_non_null(ex);
  assert_ptr_equal(ex, &s->hosts[1]);
  assert_int_equal(ex->n_names, 1);
  assert_string_equal(ex->names[0], "autodiscover.contoso.com");
  assert_true(ex->https.present);
  assert_false(ex->http.present);
  assert_ptr_equal(ex->https.cert.profile, ca_profile_named("valid"));
  assert_int_equal(ex->https.cert.n_names, 0);
  assert_int_equal(ex->https.n_routes, 1);
  r = &ex->https.routes[0];
  assert_int_equal(r->kind, SCN_ROUTE_AUTODISCOVER);
  assert_int_equal(r->ad.action, SCN_AD_SETTINGS);
  assert_string_equal(r->ad.ews_url, "https://mail.contoso.com/EWS/Exchange.asmx");
  assert_null(r->ad.server);
  assert_null(r->ad.display_name);
  assert_string_equal(r->ad.auth_package, "Ntlm");

  const struct scn_record *ad = record(s, "autodiscover.contoso.com", 1);
  assert_non_null(ad);
  assert_string_equal(ad->host, "exchange");
  assert_null(ad->address);
  assert_int_equal(ad->ttl, 300);

  assert_int_equal(s->n_clients, 2);
  assert_string_equal(s->clients[0].model, "outlook-2016-msi");
  assert_string_equal(s->clients[1].model, "mso-xdscli");
  assert_false(s->clients[0].exclude_https_root_domain);
  assert_false(s->clients[1].answer_no_to_certificate_prompts);
  assert_null(scn_host_find(s, "nope"));
}

static void check_expect(const struct scn_expect *e, bool prompt) {
  assert_non_null(e);
  assert_true(e->has_prompts);
  if (prompt) {
    assert_int_equal(e->n_prompts, 1);
    assert_string_equal(e->prompts[0].kind, "certificate");
    assert_string_equal(e->prompts[0].host, "contoso.com");
    assert_string_equal(e->prompts[0].reason, "expired");
  } else {
    assert_int_equal(e->n_prompts, 0);
  }
  assert_string_equal(e->outcome, "settings");
  assert_string_equal(e->final_url,
                      "https://autodiscover.contoso.com/autodiscover/autodiscover.xml");
  assert_string_equal(e->ews_url, "https://mail.contoso.com/EWS/Exchange.asmx");
}

static void test_founding_expired_root_cert(void **state) {
  struct scn *s = load_founding("expired-root-cert.yaml");
  assert_string_equal(s->name, "expired-root-cert");
  check_common(s, "expired");
  assert_int_equal(s->n_records, 3);
  const struct scn_record *root = record(s, "contoso.com", 1);
  assert_non_null(root);
  assert_string_equal(root->host, "www");
  assert_int_equal(root->mark.line, 12);
  assert_int_equal(root->mark.col, 7);
  const struct scn_record *cname = record(s, "www.contoso.com", 5);
  assert_non_null(cname);
  assert_string_equal(cname->target, "contoso.com");
  const struct scn_host *www = scn_host_find(s, "www");
  assert_int_equal(www->n_names, 2); /* derived: the A record, then the CNAME to it */
  assert_string_equal(www->names[0], "contoso.com");
  assert_string_equal(www->names[1], "www.contoso.com");
  assert_int_equal(s->n_expects, 2);
  check_expect(expect_for(s, "outlook-2016-msi"), true);
  check_expect(expect_for(s, "mso-xdscli"), true);
  scn_free(s);
}

static void test_founding_fix_remove_root_record(void **state) {
  struct scn *s = load_founding("fix-remove-root-record.yaml");
  assert_string_equal(s->name, "fix-remove-root-record");
  check_common(s, "expired");
  assert_int_equal(s->n_records, 2);
  assert_null(record(s, "contoso.com", 1));
  const struct scn_record *www_a = record(s, "www.contoso.com", 1);
  assert_non_null(www_a);
  assert_string_equal(www_a->host, "www");
  const struct scn_host *www = scn_host_find(s, "www");
  assert_int_equal(www->n_names, 1);
  assert_string_equal(www->names[0], "www.contoso.com");
  check_expect(expect_for(s, "outlook-2016-msi"), false);
  check_expect(expect_for(s, "mso-xdscli"), false);
  scn_free(s);
}

static void test_founding_fix_renew_root_cert(void **state) {
  struct scn *s = load_founding("fix-renew-root-cert.yaml");
  assert_string_equal(s->name, "fix-renew-root-cert");
  check_common(s, "valid");
  assert_int_equal(s->n_records, 3);
  assert_non_null(record(s, "contoso.com", 1));
  check_expect(expect_for(s, "outlook-2016-msi"), false);
  check_expect(expect_for(s, "mso-xdscli"), false);
  scn_free(s);
}

static void check_everything_dns(const struct scn *s) {
  assert_int_equal(s->n_zones, 2);
  assert_string_equal(s->zones[0], "contoso.com");
  assert_string_equal(s->zones[1], "hoster.net");
  assert_int_equal(s->n_records, 11);
  const struct scn_record *r = &s->records[0];
  assert_string_equal(r->name, "contoso.com");
  assert_int_equal(r->type, 1);
  assert_string_equal(r->host, "www");
  assert_int_equal(r->ttl, 300);
  assert_int_equal(r->mark.line, 10);
  assert_int_equal(r->mark.col, 7);
  assert_string_equal(r->mark.file, s->path);
  r = &s->records[1];
  assert_int_equal(r->type, 5);
  assert_string_equal(r->target, "contoso.com");
  r = &s->records[3];
  assert_int_equal(r->type, 1);
  assert_null(r->host);
  assert_string_equal(r->address, "203.0.113.9");
  r = &s->records[4];
  assert_int_equal(r->type, 28);
  assert_string_equal(r->address, "2001:db8::9");
  assert_int_equal(r->ttl, 0);
  r = &s->records[5];
  assert_string_equal(r->name, "_autodiscover._tcp.contoso.com");
  assert_int_equal(r->type, 33);
  assert_int_equal(r->priority, 1);
  assert_int_equal(r->weight, 2);
  assert_int_equal(r->port, 443);
  assert_string_equal(r->target, "mail.hoster.net");
  r = &s->records[6];
  assert_int_equal(r->type, 15);
  assert_int_equal(r->priority, 10);
  assert_string_equal(r->target, "mail.contoso.com");
  r = &s->records[7];
  assert_int_equal(r->type, 16);
  assert_string_equal(r->text, "v=spf1 -all");
  r = &s->records[8];
  assert_int_equal(r->ttl, 60);
  r = &s->records[9];
  assert_int_equal(r->type, 2);
  assert_string_equal(r->target, "ns1.hoster.net");
  assert_int_equal(r->ttl, 2147483647u);
  r = &s->records[10];
  assert_string_equal(r->name, "*.hoster.net");
  assert_int_equal(r->type, 28);
  assert_string_equal(r->host, "exchange");

  assert_int_equal(s->n_rules, 3);
  assert_string_equal(s->rules[0].name, "bad.contoso.com");
  assert_int_equal(s->rules[0].behaviour, SCN_DNS_SERVFAIL);
  assert_int_equal(s->rules[1].behaviour, SCN_DNS_NXDOMAIN);
  assert_int_equal(s->rules[2].behaviour, SCN_DNS_TIMEOUT);
  assert_int_equal(s->rules[2].mark.line, 24);
}

static void check_everything_www(const struct scn *s) {
  const struct scn_host *h = scn_host_find(s, "www");
  assert_non_null(h);
  assert_int_equal(h->mark.line, 26);
  assert_int_equal(h->mark.col, 3);
  assert_string_equal(h->address, "127.77.0.9");
  /* derived: A records in order, then CNAMEs to them (web → www → contoso.com) */
  assert_int_equal(h->n_names, 4);
  assert_string_equal(h->names[0], "contoso.com");
  assert_string_equal(h->names[1], "x.contoso.com");
  assert_string_equal(h->names[2], "www.contoso.com");
  assert_string_equal(h->names[3], "web.contoso.com");
  assert_ptr_equal(h->https.cert.profile, ca_profile_named("expired"));
  assert_int_equal(h->https.cert.key_type, CA_KEY_DEFAULT);
  assert_int_equal(h->https.cert.n_names, 2);
  assert_string_equal(h->https.cert.names[1], "*.contoso.com");
  assert_int_equal(h->https.cert.mark.line, 29);
  assert_int_equal(h->https.n_routes, 4);
  const struct scn_route *r = &h->https.routes[2];
  assert_string_equal(r->path, "/robots.txt");
  assert_string_equal(r->method, "GET");
  assert_int_equal(r->status, 200);
  assert_string_equal(r->body, "User-agent: *\n");
  assert_string_equal(r->content_type, "text/plain");
  r = &h->https.routes[3];
  assert_int_equal(r->status, 204);
  assert_null(r->body);
  assert_null(r->content_type);
  assert_int_equal(h->http.n_routes, 1);
  assert_int_equal(h->http.routes[0].status, 301);
}

static void check_everything_exchange(const struct scn *s) {
  const struct scn_host *h = scn_host_find(s, "exchange");
  assert_non_null(h);
  assert_string_equal(h->address, "::1");
  assert_int_equal(h->n_names, 2); /* explicit: no derivation */
  assert_string_equal(h->names[0], "mail.hoster.net");
  assert_string_equal(h->names[1], "autodiscover.contoso.com");
  assert_ptr_equal(h->https.cert.profile, ca_profile_named("valid")); /* no certificate: valid */
  assert_ptr_equal(h->http.cert.profile, ca_profile_named("valid"));  /* never NULL */
  assert_false(h->http.present);
  assert_int_equal(h->https.n_routes, 9);
  const struct scn_route *r = &h->https.routes[0];
  assert_string_equal(r->method, "POST");
  assert_int_equal(r->kind, SCN_ROUTE_AUTODISCOVER);
  assert_int_equal(r->ad.action, SCN_AD_SETTINGS);
  assert_string_equal(r->ad.ews_url, "https://mail.contoso.com/EWS/Exchange.asmx");
  assert_string_equal(r->ad.server, "mail.contoso.com");
  assert_string_equal(r->ad.display_name, "Alice");
  assert_string_equal(r->ad.auth_package, "Negotiate");
  r = &h->https.routes[1];
  assert_int_equal(r->ad.action, SCN_AD_REDIRECT_ADDR);
  assert_string_equal(r->ad.redirect_addr, "alice@contoso.mail.onmicrosoft.com");
  r = &h->https.routes[2];
  assert_int_equal(r->ad.action, SCN_AD_REDIRECT_URL);
  assert_string_equal(r->ad.redirect_url,
                      "https://autodiscover.hoster.net/autodiscover/autodiscover.xml");
  r = &h->https.routes[3];
  assert_int_equal(r->ad.action, SCN_AD_ERROR);
  assert_int_equal(r->ad.error_code, 500);
  assert_string_equal(r->ad.error_message, "Server busy");
  r = &h->https.routes[4];
  assert_int_equal(r->ad.error_code, 603);
  assert_null(r->ad.error_message);
  r = &h->https.routes[5];
  assert_int_equal(r->kind, SCN_ROUTE_STATUS);
  assert_int_equal(r->status, 401);
  r = &h->https.routes[6];
  assert_int_equal(r->kind, SCN_ROUTE_REDIRECT);
  assert_int_equal(r->status, 302);
  assert_string_equal(r->location, "/new");
  assert_int_equal(h->https.routes[7].status, 307);
  assert_int_equal(h->https.routes[8].status, 308);
}

static void check_everything_other_hosts(const struct scn *s) {
  assert_int_equal(s->n_hosts, 7);
  const struct scn_host *h = scn_host_find(s, "dead");
  assert_non_null(h);
  assert_false(h->https.present);
  assert_false(h->http.present);
  assert_int_equal(h->n_names, 0);
  assert_null(h->address);
  h = scn_host_find(s, "plain");
  assert_true(h->http.present);
  assert_int_equal(h->http.n_routes, 0);
  assert_ptr_equal(h->https.cert.profile, ca_profile_named("self-signed"));
  assert_ptr_equal(scn_host_find(s, "nocert")->https.cert.profile,
                   ca_profile_named("untrusted-root"));
  assert_ptr_equal(scn_host_find(s, "others")->https.cert.profile,
                   ca_profile_named("not-yet-valid"));
  assert_true(scn_host_find(s, "others")->http.present);
  assert_ptr_equal(scn_host_find(s, "wrong")->https.cert.profile, ca_profile_named("wrong-name"));
}

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

static void test_everything(void **state) {
  char path[4096];
  struct scn *s = load_ok(test_data_path(path, sizeof path, "good/everything.yaml"));
  assert_string_equal(s->name, "everything-1");
  assert_string_equal(s->description, "Every key of the scenario schema at least once.\n");
  assert_string_equal(s->domain, "contoso.com");
  assert_string_equal(s->email, "Alice@contoso.com"); /* the domain part is lowercased */
  check_everything_dns(s);
  check_everything_www(s);
  check_everything_exchange(s);
  check_everything_other_hosts(s);
  check_everything_clients(s);
  scn_free(s);
}

static void test_minimal_string(void **state) {
  static const char text[] = "name: m\ndescription: d\ndomain: Fabrikam.com\n";
  struct scn *s = NULL;
  char err[256] = "";
  assert_int_equal(scn_load_string(&s, "mem.yaml", text, strlen(text), err, sizeof err), SCN_OK);
  assert_string_equal(s->path, "mem.yaml");
  assert_string_equal(s->email, "user@fabrikam.com"); /* default */
  assert_int_equal(s->n_hosts + s->n_records + s->n_clients + s->n_expects + s->n_rules, 0);
  scn_free(s);
  scn_free(NULL);
}

static void test_missing_file(void **state) {
  struct scn *s = (struct scn *) 1;
  char err[256] = "";
  assert_int_equal(scn_load(&s, "no/such/scenario.yaml", err, sizeof err), SCN_EIO);
  assert_null(s);
  assert_string_equal(err, "no/such/scenario.yaml: No such file or directory");
}

static void test_directory(void **state) {
  struct scn *s = NULL;
  char err[256] = "";
  char *dir = test_tmpdir("model");
  assert_int_equal(scn_load(&s, dir, err, sizeof err), SCN_EIO);
  assert_null(s);
  char want[4200];
  assert_true(buf_fmt(want, sizeof want, "%s: Is a directory", dir));
  assert_string_equal(err, want);
  test_rmtree(dir);
  free(dir);
}

static void test_syntax_status_and_short_err(void **state) {
  static const char text[] = "name: [x\n";
  struct scn *s = NULL;
  char err[16];
  assert_int_equal(scn_load_string(&s, "short.yaml", text, strlen(text), err, sizeof err),
                   SCN_ESYNTAX);
  assert_null(s);
  assert_int_equal(strlen(err), sizeof err - 1); /* truncated, still terminated */
}

static void test_embedded_nul(void **state) {
  static const char text[] = "name: m\ndescription: \"a\\0b\"\ndomain: c.com\n";
  struct scn *s = NULL;
  char err[256] = "";
  assert_int_equal(scn_load_string(&s, "nul.yaml", text, strlen(text), err, sizeof err),
                   SCN_ESCHEMA);
  /* a quoted scalar's position is its first character, after the quote */
  assert_string_equal(err, "nul.yaml:2:15: a value may not contain a NUL character");
}

static void test_utf8(void **state) {
  static const char good[] = "name: u\ndescription: caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80\n"
                             "domain: c.com\n";
  struct scn *s = NULL;
  char err[256] = "";
  assert_int_equal(scn_load_string(&s, "u.yaml", good, strlen(good), err, sizeof err), SCN_OK);
  assert_string_equal(s->description, "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80");
  scn_free(s);
  static const struct {
    const char *text;
    const char *err;
  } bad[] = {
      {"name: \xc0\xaf\n", "u.yaml:1:7: not valid UTF-8 (byte 0xc0): scenario files are UTF-8"},
      {"a: \xed\xa0\x80\n", "u.yaml:1:4: not valid UTF-8 (byte 0xed): scenario files are UTF-8"},
      {"a: \xc3\xa9\xf4\x90\x80\x80",
       "u.yaml:1:5: not valid UTF-8 (byte 0xf4): scenario files are UTF-8"},
      {"a: b\n\xe2\x82", "u.yaml:2:1: not valid UTF-8 (byte 0xe2): scenario files are UTF-8"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    s = NULL;
    assert_int_equal(
        scn_load_string(&s, "u.yaml", bad[i].text, strlen(bad[i].text), err, sizeof err),
        SCN_ESYNTAX);
    assert_null(s);
    assert_string_equal(err, bad[i].err);
  }
}

static void test_too_deep(void **state) {
  struct buf b;
  buf_init(&b, 4096);
  assert_true(buf_append_str(&b, "name: "));
  for (int i = 0; i < 200; i++) {
    assert_true(buf_append_str(&b, "["));
  }
  struct scn *s = NULL;
  char err[256] = "";
  assert_int_equal(scn_load_string(&s, "deep.yaml", buf_cstr(&b), b.len, err, sizeof err),
                   SCN_ESCHEMA);
  assert_null(s);
  assert_string_equal(err, "deep.yaml:1:70: nested deeper than 64 levels");
  buf_cleanup(&b);
}

static void test_too_many_items(void **state) {
  struct buf b;
  buf_init(&b, 1 << 16);
  assert_true(buf_append_str(&b, "name: m\ndescription: d\ndomain: c.com\nclients:\n"));
  for (int i = 0; i < 501; i++) {
    assert_true(buf_appendf(&b, "  - m%d\n", i));
  }
  struct scn *s = NULL;
  char err[256] = "";
  assert_int_equal(scn_load_string(&s, "many.yaml", buf_cstr(&b), b.len, err, sizeof err),
                   SCN_ESCHEMA);
  assert_null(s);
  assert_string_equal(err, "many.yaml:505:5: more than 500 items in one list");
  buf_cleanup(&b);
}

static void test_host_find_null(void **state) {
  assert_null(scn_host_find(NULL, "www"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_founding_expired_root_cert),
      cmocka_unit_test(test_founding_fix_remove_root_record),
      cmocka_unit_test(test_founding_fix_renew_root_cert),
      cmocka_unit_test(test_everything),
      cmocka_unit_test(test_minimal_string),
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_directory),
      cmocka_unit_test(test_syntax_status_and_short_err),
      cmocka_unit_test(test_embedded_nul),
      cmocka_unit_test(test_utf8),
      cmocka_unit_test(test_too_deep),
      cmocka_unit_test(test_too_many_items),
      cmocka_unit_test(test_host_find_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
