/* tests/unit/test_scenario_load.c: the loader as a whole (scenario/scn_load.c, scn_yaml.c) —
 * the founding story's three files checked field by field, the top level of the files using
 * every key (their sections: test_scenario_dns.c, _hosts.c, _clients.c), and the edges of
 * reading: missing files, syntax errors, NUL bytes, UTF-8, depth and size limits. */
#include "tests/unit/test_scenario_fixture.h"

#include <sys/stat.h>

static struct scn *load_founding(const char *file) {
  const char *src = getenv("AD_SOURCE_DIR");
  assert_non_null(src);
  char path[4096];
  assert_true(buf_fmt(path, sizeof path, "%s/scenarios/founding/%s", src, file));
  struct scn *s = load_ok(path);
  assert_string_equal(s->path, path);
  return s;
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

static void test_everything(void **state) {
  char path[4096];
  struct scn *s = load_ok(test_data_path(path, sizeof path, "good/everything.yaml"));
  assert_string_equal(s->name, "everything-1");
  assert_string_equal(s->description, "Every key of the scenario schema at least once.\n");
  assert_string_equal(s->domain, "contoso.com");
  assert_string_equal(s->email, "Alice@contoso.com"); /* the domain part is lowercased */
  assert_int_equal(s->n_hosts, 7); /* each section: test_scenario_dns, _hosts, _clients */
  assert_int_equal(s->n_records, 11);
  assert_int_equal(s->n_clients, 3);
  scn_free(s);
  s = load_ok(test_data_path(path, sizeof path, "good/everything-v2.yaml"));
  assert_string_equal(s->name, "everything-2");
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
  assert_true(buf_fmt(want, sizeof want, "%s: not a regular file", dir));
  assert_string_equal(err, want);
  test_rmtree(dir);
  free(dir);
}

/* a FIFO nobody writes to is refused at once, not waited on */
static void test_fifo(void **state) {
  struct scn *s = NULL;
  char err[4400] = "";
  char *dir = test_tmpdir("model");
  char path[4200];
  assert_true(buf_fmt(path, sizeof path, "%s/pipe.yaml", dir));
  assert_int_equal(mkfifo(path, 0600), 0);
  assert_int_equal(scn_load(&s, path, err, sizeof err), SCN_EIO);
  assert_null(s);
  char want[4300];
  assert_true(buf_fmt(want, sizeof want, "%s: not a regular file", path));
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_founding_expired_root_cert),
      cmocka_unit_test(test_founding_fix_remove_root_record),
      cmocka_unit_test(test_founding_fix_renew_root_cert),
      cmocka_unit_test(test_everything),
      cmocka_unit_test(test_minimal_string),
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_directory),
      cmocka_unit_test(test_fifo),
      cmocka_unit_test(test_syntax_status_and_short_err),
      cmocka_unit_test(test_embedded_nul),
      cmocka_unit_test(test_utf8),
      cmocka_unit_test(test_too_deep),
      cmocka_unit_test(test_too_many_items),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
