/* tests/unit/test_scenario_v2.c: scenario language v2 (issue 3) — every new key
 * (tests/data/good/everything-v2.yaml), dns.zone_file, extends:, durations and times, and
 * scn_lint's warnings. Runs from tests/data so that marks are short relative paths. */
#include "common/buf.h"
#include "scenario/internal.h"
#include "scenario/scn.h"
#include "tests/unit/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int to_data(void **state) {
  const char *data = getenv("AD_TEST_DATA");
  assert_non_null(data);
  assert_int_equal(chdir(data), 0);
  return 0;
}

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

static struct scn *load_text_ok(const char *path, const char *text) {
  struct scn *s = NULL;
  char err[1024] = "";
  if (scn_load_string(&s, path, text, strlen(text), err, sizeof err) != SCN_OK) {
    fail_msg("%s", err);
  }
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

static const struct scn_client *client(const struct scn *s, const char *model) {
  for (size_t i = 0; i < s->n_clients; i++) {
    if (strcmp(s->clients[i].model, model) == 0) {
      return &s->clients[i];
    }
  }
  return NULL;
}

static const struct scn_expect *expect_for(const struct scn *s, const char *model) {
  for (size_t i = 0; i < s->n_expects; i++) {
    if (strcmp(s->expects[i].client, model) == 0) {
      return &s->expects[i];
    }
  }
  return NULL;
}

/* ---- everything-v2.yaml ---- */

static void check_v2_dns(const struct scn *s) {
  const struct scn_record *r = record(s, "*.contoso.com", 1);
  assert_non_null(r);
  assert_string_equal(r->host, "shared");
  assert_false(r->from_zone_file);
  assert_string_equal(r->mark.file, "good/everything-v2.yaml");
  assert_int_equal(r->mark.line, 7);
  assert_int_equal(s->n_rules, 4);
  assert_string_equal(s->rules[0].name, "autodiscover.contoso.com");
  assert_int_equal(s->rules[0].type, 28);
  assert_int_equal(s->rules[0].behaviour, SCN_DNS_NODATA);
  assert_int_equal(s->rules[0].first_n, 0);
  assert_int_equal(s->rules[1].type, 1);
  assert_int_equal(s->rules[1].behaviour, SCN_DNS_REFUSED);
  assert_int_equal(s->rules[2].type, 0);
  assert_int_equal(s->rules[2].behaviour, SCN_DNS_TRUNCATE);
  assert_int_equal(s->rules[3].behaviour, SCN_DNS_SERVFAIL);
  assert_int_equal(s->rules[3].first_n, 2);
  assert_int_equal(s->n_scp_urls, 2);
  assert_string_equal(s->scp_urls[0], "https://mail.contoso.com/autodiscover/autodiscover.xml");
  assert_string_equal(s->scp_urls[1], "https://b.contoso.com/x");
  assert_null(s->zone_file);
  assert_null(s->extends);
}

static void check_v2_shared(const struct scn *s) {
  const struct scn_host *h = scn_host_find(s, "shared");
  assert_non_null(h);
  const struct scn_cert *c = &h->https.cert;
  assert_ptr_equal(c->profile, ca_profile_named("valid"));
  assert_int_equal(c->key_type, CA_KEY_RSA_2048);
  assert_true(c->has_not_before);
  assert_int_equal(c->not_before, 1704067200); /* 2024-01-01T00:00:00Z */
  assert_true(c->has_not_after);
  assert_int_equal(c->not_after, 1719829800); /* 2024-07-01T10:30:00Z */
  assert_int_equal(h->https.fault, SCN_FAULT_RESET_HELLO);
  assert_int_equal(h->https.delay_ms, 500);
  assert_int_equal(h->https.tls_min, 0x0301);
  assert_int_equal(h->https.tls_max, 0x0302);
  assert_int_equal(h->http.fault, SCN_FAULT_BLACKHOLE);
  assert_int_equal(h->http.delay_ms, 120000);
  assert_int_equal(h->http.tls_min, 0);
}

static void check_v2_exchange_routes(const struct scn_listener *l) {
  assert_int_equal(l->n_routes, 7);
  const struct scn_route *r = &l->routes[0];
  assert_int_equal(r->kind, SCN_ROUTE_STATUS);
  assert_string_equal(r->body, "text");
  assert_int_equal(r->body_len, 4);
  assert_string_equal(r->content_type, "text/xml");
  assert_int_equal(r->n_headers, 2);
  assert_string_equal(r->headers[0].name, "X-A");
  assert_string_equal(r->headers[0].value, "b");
  assert_string_equal(r->headers[1].name, "Retry-After");
  assert_string_equal(r->headers[1].value, "5");
  assert_false(r->auth.present);
  r = &l->routes[1];
  static const char raw[] = "\xef\xbb\xbf<?xml version=\"1.0\"?>\0<Broken";
  assert_int_equal(r->body_len, sizeof raw - 1);
  assert_memory_equal(r->body, raw, sizeof raw - 1);
  assert_string_equal(r->content_type, "text/xml");
  r = &l->routes[2];
  assert_int_equal(r->kind, SCN_ROUTE_REDIRECT);
  assert_int_equal(r->status, 303);
  r = &l->routes[3];
  assert_int_equal(r->kind, SCN_ROUTE_AUTODISCOVER);
  assert_true(r->auth.present);
  assert_int_equal(r->auth.n_challenges, 4);
  assert_string_equal(r->auth.challenges[0], "Basic realm=\"contoso\"");
  assert_string_equal(r->auth.challenges[3], "Bearer");
  assert_false(r->auth.accept_credentials);
  assert_string_equal(r->ad.ews_url, "https://mail.contoso.com/EWS/Exchange.asmx");
  assert_int_equal(r->ad.n_protocols, 2);
  const struct scn_ad_protocol *p = &r->ad.protocols[0];
  assert_string_equal(p->type, "EXPR");
  assert_string_equal(p->server, "mail.contoso.com");
  assert_string_equal(p->as_url, "https://mail.contoso.com/as");
  assert_string_equal(p->oab_url, "https://mail.contoso.com/oab");
  assert_string_equal(p->auth_package, "Ntlm");
  assert_false(p->ssl);
  p = &r->ad.protocols[1];
  assert_string_equal(p->type, "WEB");
  assert_string_equal(p->owa_url, "https://mail.contoso.com/owa/");
  assert_true(p->ssl);
  assert_null(p->ews_url);
  r = &l->routes[4];
  assert_int_equal(r->kind, SCN_ROUTE_AUTODISCOVER_V2);
  assert_true(r->auth.accept_credentials);
  assert_int_equal(r->ad2.n_protocols, 2);
  assert_string_equal(r->ad2.protocols[0], "AutodiscoverV1");
  assert_string_equal(r->ad2.urls[1], "https://outlook.office365.com/EWS/Exchange.asmx");
  assert_int_equal(r->ad2.not_found_status, 404);
  assert_int_equal(l->routes[5].ad2.not_found_status, 400);
  r = &l->routes[6];
  assert_int_equal(r->kind, SCN_ROUTE_SOAP);
  assert_int_equal(r->ad.action, SCN_AD_SETTINGS);
  assert_string_equal(r->ad.server, "mail.contoso.com");
  assert_int_equal(r->ad.n_protocols, 0);
}

static void check_v2_hosts(const struct scn *s, time_t before, time_t after) {
  check_v2_shared(s);
  const struct scn_host *h = scn_host_find(s, "exchange");
  assert_non_null(h);
  const struct scn_cert *c = &h->https.cert;
  assert_string_equal(ca_profile_name(c->profile), "incomplete-chain");
  assert_int_equal(c->key_type, CA_KEY_ECDSA_P256);
  assert_true(c->not_before >= before - 30 * 86400 && c->not_before <= after - 30 * 86400);
  assert_true(c->not_after >= before + 365 * 86400 && c->not_after <= after + 365 * 86400);
  assert_int_equal(h->https.fault, SCN_FAULT_SILENT);
  assert_int_equal(h->https.delay_ms, 5000);
  assert_int_equal(h->https.tls_min, 0x0304);
  assert_int_equal(h->https.tls_max, 0);
  assert_false(h->http.present);
  check_v2_exchange_routes(&h->https);
  static const struct {
    const char *id;
    const char *profile;
  } profiles[] = {{"sha1", "sha1-signature"},
                  {"rsa", "rsa-1024"},
                  {"wild", "wildcard"},
                  {"san", "san-missing-host"},
                  {"ip", "ip-only"}};
  for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
    h = scn_host_find(s, profiles[i].id);
    assert_non_null(h);
    assert_string_equal(ca_profile_name(h->https.cert.profile), profiles[i].profile);
    assert_int_equal(h->https.cert.key_type, CA_KEY_DEFAULT);
  }
  h = scn_host_find(s, "ip");
  assert_true(h->https.cert.not_before >= before && h->https.cert.not_before <= after);
  assert_false(h->https.cert.has_not_after);
  h = scn_host_find(s, "reset");
  assert_int_equal(h->https.fault, SCN_FAULT_RESET);
  assert_int_equal(h->http.fault, SCN_FAULT_SILENT);
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
  assert_true(c->srv_largest_wins);
  c = client(s, "outlook-2016-msi");
  assert_non_null(c);
  assert_false(c->srv_largest_wins);
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

static void test_everything_v2(void **state) {
  time_t before = time(NULL);
  struct scn *s = load_ok("good/everything-v2.yaml");
  time_t after = time(NULL);
  assert_string_equal(s->name, "everything-2");
  check_v2_dns(s);
  check_v2_hosts(s, before, after);
  check_v2_clients(s);
  scn_free(s);
}

/* ---- dns.zone_file ---- */

static void test_zone_file(void **state) {
  struct scn *s = load_ok("good/zone-file.yaml");
  assert_string_equal(s->zone_file, "zones/contoso.zone");
  assert_int_equal(s->n_records, 11); /* ten from the zone (SOA skipped), one from the YAML */
  const struct scn_record *r = record(s, "contoso.com", 2);
  assert_non_null(r);
  assert_string_equal(r->target, "ns1.hoster.net");
  assert_true(r->from_zone_file);
  assert_string_equal(r->mark.file, "zones/contoso.zone");
  assert_int_equal(r->mark.line, 4);
  assert_int_equal(r->ttl, 300);
  r = record(s, "contoso.com", 1);
  assert_string_equal(r->address, "127.0.0.21");
  assert_null(r->host);
  r = record(s, "contoso.com", 15);
  assert_int_equal(r->ttl, 60);
  assert_int_equal(r->priority, 10);
  assert_string_equal(r->target, "mail.contoso.com");
  r = record(s, "www.contoso.com", 5);
  assert_string_equal(r->target, "contoso.com");
  assert_string_equal(record(s, "mail.contoso.com", 28)->address, "::1");
  r = record(s, "contoso.com", 16);
  assert_string_equal(r->text, "v=spf1 -all");
  r = record(s, "_autodiscover._tcp.contoso.com", 33);
  assert_int_equal(r->priority, 0);
  assert_int_equal(r->weight, 5);
  assert_int_equal(r->port, 443);
  assert_string_equal(r->target, "mail.contoso.com");
  r = record(s, "autodiscover.contoso.com", 5);
  assert_int_equal(r->ttl, 3600); /* $TTL */
  assert_int_equal(r->mark.line, 13);
  r = record(s, "*.lab.contoso.com", 1);
  assert_string_equal(r->address, "127.0.0.23");
  r = record(s, "extra.contoso.com", 1);
  assert_false(r->from_zone_file);
  assert_string_equal(r->mark.file, "good/zone-file.yaml");
  assert_null(record(s, "contoso.com", 6)); /* SOA: the lab makes its own */
  /* a host's derived names still come from the YAML records only */
  const struct scn_host *web = scn_host_find(s, "web");
  assert_int_equal(web->n_names, 1);
  assert_string_equal(web->names[0], "extra.contoso.com");
  scn_free(s);
}

/* a zone file given in a string-loaded scenario: resolved against the path's folder */
static void test_zone_file_origin(void **state) {
  char *dir = test_tmpdir("model-zone");
  char path[4096];
  assert_true(buf_fmt(path, sizeof path, "%s/fabrikam.zone", dir));
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("$TTL 120\n@ IN A 127.0.0.9\n$ORIGIN hoster.net.\nmail IN A 127.0.0.10", f); /* no \n */
  fclose(f);
  assert_true(buf_fmt(path, sizeof path, "%s/s.yaml", dir));
  struct scn *s = load_text_ok(path, "name: z\ndescription: d\ndomain: Fabrikam.com\n"
                                     "dns: { zone_file: fabrikam.zone }\n");
  assert_int_equal(s->n_records, 2);
  assert_string_equal(s->records[0].name, "fabrikam.com");
  assert_int_equal(s->records[0].ttl, 120);
  assert_string_equal(s->records[1].name, "mail.hoster.net");
  assert_int_equal(s->records[1].mark.line, 4);
  assert_int_equal(s->n_files, 1);
  assert_ptr_equal(s->records[0].mark.file, s->files[0]);
  scn_free(s);
  test_rmtree(dir);
  free(dir);
}

/* a zone file written on Windows (CRLF line ends) loads like any other */
static void test_zone_file_crlf(void **state) {
  char *dir = test_tmpdir("model-zone-crlf");
  char path[4096];
  assert_true(buf_fmt(path, sizeof path, "%s/crlf.zone", dir));
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("$TTL 60\r\n@ IN A 127.0.0.9\r\nwww IN CNAME @\r\n", f);
  fclose(f);
  assert_true(buf_fmt(path, sizeof path, "%s/s.yaml", dir));
  struct scn *s = load_text_ok(path, "name: z\ndescription: d\ndomain: contoso.com\n"
                                     "dns: { zone_file: crlf.zone }\n");
  assert_int_equal(s->n_records, 2);
  assert_string_equal(s->records[1].name, "www.contoso.com");
  assert_string_equal(s->records[1].target, "contoso.com");
  assert_int_equal(s->records[1].mark.line, 3);
  scn_free(s);
  test_rmtree(dir);
  free(dir);
}

/* ---- extends ---- */

static void check_child(const struct scn *s) {
  assert_string_equal(s->domain, "contoso.com");
  assert_string_equal(s->zone_file, "zones/contoso.zone");
  /* removed: old.contoso.com (both types) and contoso.com AAAA; added: new.contoso.com */
  assert_null(record(s, "old.contoso.com", 1));
  assert_null(record(s, "old.contoso.com", 16));
  const struct scn_record *r = record(s, "contoso.com", 28);
  assert_null(r);
  r = record(s, "www2.contoso.com", 1);
  assert_non_null(r);
  assert_string_equal(r->mark.file, "good/bases/extends-base.yaml");
  assert_int_equal(r->mark.line, 9);
  r = record(s, "new.contoso.com", 1);
  assert_non_null(r);
  assert_string_equal(r->mark.file, "good/extends-child.yaml");
  assert_int_equal(r->mark.line, 10);
  assert_non_null(record(s, "contoso.com", 1)); /* the base's zone file */
  assert_int_equal(s->n_hosts, 2);
  const struct scn_host *www = scn_host_find(s, "www");
  assert_non_null(www);
  assert_int_equal(www->n_names, 2);
  assert_ptr_equal(www->https.cert.profile, ca_profile_named("valid"));
  assert_int_equal(www->https.cert.n_names, 2); /* merged: the base's names stay */
  assert_string_equal(www->https.cert.mark.file, "good/extends-child.yaml");
  assert_int_equal(www->https.delay_ms, 0);
  assert_int_equal(www->https.n_routes, 1);
  assert_string_equal(www->https.routes[0].mark.file, "good/bases/extends-base.yaml");
  assert_false(www->http.present);
  assert_null(scn_host_find(s, "dead"));
  assert_non_null(scn_host_find(s, "extra"));
  assert_int_equal(s->n_clients, 2); /* a list replaces */
  assert_string_equal(s->clients[1].model, "outlook-2016-c2r");
  assert_int_equal(s->n_expects, 2);
  const struct scn_expect *e = expect_for(s, "outlook-2016-msi");
  assert_non_null(e);
  assert_string_equal(e->outcome, "failure");
  assert_true(e->has_prompt_count);
  assert_int_equal(e->prompt_count, 0);
  assert_null(expect_for(s, "mso-xdscli"));
  assert_string_equal(expect_for(s, "outlook-2016-c2r")->outcome, "settings");
}

static void test_extends(void **state) {
  struct scn *s = load_ok("good/extends-child.yaml");
  assert_string_equal(s->name, "extends-child");
  assert_string_equal(s->description, "The base with the certificate renewed.");
  assert_string_equal(s->extends, "good/bases/extends-base.yaml");
  check_child(s);
  assert_int_equal(s->n_rules, 1);
  scn_free(s);

  s = load_ok("good/extends-grandchild.yaml");
  assert_string_equal(s->name, "extends-grandchild");
  assert_string_equal(s->extends, "good/extends-child.yaml");
  check_child(s);
  assert_int_equal(s->n_rules, 1); /* a list replaces */
  assert_string_equal(s->rules[0].name, "slow.contoso.com");
  assert_string_equal(s->rules[0].mark.file, "good/extends-grandchild.yaml");
  scn_free(s);
}

static void write_file(const char *dir, const char *name, const char *text) {
  char path[4096];
  assert_true(buf_fmt(path, sizeof path, "%s/%s", dir, name));
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void expect_error(const char *path, const char *want_suffix) {
  struct scn *s = NULL;
  char err[1024] = "";
  enum scn_status st = scn_load(&s, path, err, sizeof err);
  assert_null(s);
  assert_int_equal(st, SCN_ESCHEMA);
  size_t n = strlen(err), w = strlen(want_suffix);
  if (n < w || strcmp(err + n - w, want_suffix) != 0) {
    fail_msg("got \"%s\", expected it to end in \"%s\"", err, want_suffix);
  }
}

static void test_extends_edges(void **state) {
  char *dir = test_tmpdir("model-extends");
  char path[4096];
  /* a file extending itself */
  write_file(dir, "self.yaml", "name: a\ndescription: d\ndomain: c.com\nextends: self.yaml\n");
  assert_true(buf_fmt(path, sizeof path, "%s/self.yaml", dir));
  char want[8192];
  assert_true(buf_fmt(want, sizeof want,
                      "self.yaml:4:10: extends loop: %s/self.yaml extends %s/self.yaml", dir, dir));
  expect_error(path, want);
  /* the base is not a mapping; an empty base */
  write_file(dir, "list.yaml", "- a\n- b\n");
  write_file(dir, "empty.yaml", "# nothing\n");
  write_file(dir, "l.yaml", "name: a\ndescription: d\ndomain: c.com\nextends: list.yaml\n");
  write_file(dir, "e.yaml", "name: a\ndescription: d\ndomain: c.com\nextends: empty.yaml\n");
  assert_true(buf_fmt(path, sizeof path, "%s/l.yaml", dir));
  expect_error(path, "list.yaml:1:1: the base scenario is a sequence, not a mapping");
  assert_true(buf_fmt(path, sizeof path, "%s/e.yaml", dir));
  expect_error(path, "empty.yaml:1:1: the base scenario is empty, not a mapping");
  /* a duplicate key in the extending file is still one */
  write_file(dir, "b.yaml", "name: b\ndescription: d\ndomain: c.com\n");
  write_file(dir, "dup.yaml", "extends: b.yaml\nhosts:\n  x: {}\n  x: {}\n");
  assert_true(buf_fmt(path, sizeof path, "%s/dup.yaml", dir));
  expect_error(path, "dup.yaml:4:3: duplicate key \"x\" in hosts (first at line 3)");
  /* a base that is a directory, not a file */
  write_file(dir, "d.yaml", "extends: .\n");
  assert_true(buf_fmt(path, sizeof path, "%s/d.yaml", dir));
  assert_true(buf_fmt(want, sizeof want,
                      "d.yaml:1:10: extends: cannot read \"%s\": not a regular file", dir));
  expect_error(path, want);
  /* everything from the base: the extending file only names it */
  write_file(dir, "only.yaml", "extends: b.yaml\nname: only\n");
  assert_true(buf_fmt(path, sizeof path, "%s/only.yaml", dir));
  struct scn *s = load_ok(path);
  assert_string_equal(s->name, "only");
  assert_string_equal(s->description, "d");
  scn_free(s);
  /* add_records onto a base without records; a null removing what the base lacks */
  write_file(dir, "add.yaml",
             "extends: b.yaml\nemail: ~\ndns:\n  add_records: [ { name: c.com, type: A, address: "
             "127.0.0.1 } ]\n");
  assert_true(buf_fmt(path, sizeof path, "%s/add.yaml", dir));
  s = load_ok(path);
  assert_int_equal(s->n_records, 1);
  assert_int_equal(s->records[0].mark.line, 4);
  assert_string_equal(s->email, "user@c.com");
  scn_free(s);
  test_rmtree(dir);
  free(dir);
}

/* extends from a scenario loaded from memory: relative to its path's folder */
static void test_extends_string(void **state) {
  struct scn *s = load_text_ok("good/inline.yaml", "extends: extends-child.yaml\nname: inline\n");
  assert_string_equal(s->extends, "good/extends-child.yaml");
  check_child(s);
  scn_free(s);
  s = load_text_ok("inline.yaml", "extends: good/everything.yaml\nname: inline\n");
  assert_string_equal(s->extends, "good/everything.yaml");
  assert_string_equal(s->domain, "contoso.com");
  scn_free(s);
}

/* ---- durations and times ---- */

static void test_durations(void **state) {
  uint32_t ms = 0;
  assert_true(scn__parse_duration_ms("500ms", &ms));
  assert_int_equal(ms, 500);
  assert_true(scn__parse_duration_ms("5s", &ms));
  assert_int_equal(ms, 5000);
  assert_true(scn__parse_duration_ms("2m", &ms));
  assert_int_equal(ms, 120000);
  assert_true(scn__parse_duration_ms("0s", &ms));
  assert_int_equal(ms, 0);
  static const char *const bad[] = {"",     "5",  "s",    "5 s",        "-5s",         "5h",
                                    "1.5s", "5S", "5sec", "999999999m", "1234567890ms"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (scn__parse_duration_ms(bad[i], &ms)) {
      fail_msg("\"%s\" was taken as a duration", bad[i]);
    }
  }
}

static void test_times(void **state) {
  int64_t t = 0;
  const int64_t now = 1700000000;
  assert_true(scn__parse_time("2024-01-01T00:00:00Z", now, &t));
  assert_int_equal(t, 1704067200);
  assert_true(scn__parse_time("2024-02-29t23:59:59.999z", now, &t));
  assert_int_equal(t, 1709251199);
  assert_true(scn__parse_time("1970-01-01T01:00:00+01:00", now, &t));
  assert_int_equal(t, 0);
  assert_true(scn__parse_time("1969-12-31 23:00:00-01:00", now, &t));
  assert_int_equal(t, 0);
  assert_true(scn__parse_time("1950-01-01T00:00:00Z", now, &t));
  assert_int_equal(t, -631152000);
  assert_true(scn__parse_time("now", now, &t));
  assert_int_equal(t, now);
  assert_true(scn__parse_time("-30d", now, &t));
  assert_int_equal(t, now - 30 * 86400);
  assert_true(scn__parse_time("+1y", now, &t));
  assert_int_equal(t, now + 365 * 86400);
  assert_true(scn__parse_time("+90m", now, &t));
  assert_int_equal(t, now + 5400);
  assert_true(scn__parse_time("-2h", now, &t));
  assert_int_equal(t, now - 7200);
  assert_true(scn__parse_time("+10s", now, &t));
  assert_int_equal(t, now + 10);
  static const char *const bad[] = {"",
                                    "yesterday",
                                    "30d",
                                    "+d",
                                    "+30",
                                    "+30w",
                                    "-3.5d",
                                    "2023-02-29T00:00:00Z",
                                    "2024-13-01T00:00:00Z",
                                    "2024-01-01T24:00:00Z",
                                    "2024-01-01T00:00:00",
                                    "2024-01-01",
                                    "2024-01-01T00:00:00+0100",
                                    "2024-01-01T00:00:00.Z",
                                    "Now",
                                    "+1234567890y"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (scn__parse_time(bad[i], now, &t)) {
      fail_msg("\"%s\" was taken as a time", bad[i]);
    }
  }
}

/* ---- lint ---- */

static const char lint_base[] = "name: l\ndescription: d\ndomain: contoso.com\n";

static size_t lint_of(const char *body, char *out, size_t out_size) {
  char text[4096];
  assert_true(buf_fmt(text, sizeof text, "%s%s", lint_base, body));
  struct scn *s = load_text_ok("lint.yaml", text);
  size_t n = scn_lint(s, out, out_size);
  scn_free(s);
  return n;
}

static void test_lint_clean(void **state) {
  char out[2048];
  assert_int_equal(
      lint_of("dns:\n  records:\n"
              "    - { name: contoso.com, type: A, host: www }\n"
              "    - { name: www.contoso.com, type: CNAME, target: contoso.com }\n"
              "    - { name: contoso.com, type: MX, target: mail.hoster.net }\n"
              "    - { name: a.contoso.com, type: CNAME, target: x.wild.contoso.com }\n"
              "    - { name: \"*.wild.contoso.com\", type: A, address: 127.0.0.5 }\n"
              "hosts:\n  www:\n    https:\n"
              "      certificate: { profile: valid, names: [\"*.contoso.com\", "
              "contoso.com] }\n"
              "  fixed: { address: 127.0.0.5 }\n"
              "clients: [outlook-2016-msi]\n"
              "expect:\n  outlook-2016-msi:\n    prompts:\n"
              "      - { kind: certificate, host: www.contoso.com }\n"
              "      - { kind: certificate, host: b.wild.contoso.com }\n",
              out, sizeof out),
      0);
  assert_string_equal(out, "");
  assert_int_equal(scn_lint(NULL, out, sizeof out), 0);
}

static void test_lint_warnings(void **state) {
  char out[4096];
  size_t n = lint_of("dns:\n  records:\n"
                     "    - { name: contoso.com, type: A, host: www }\n"
                     "    - { name: contoso.com, type: MX, target: mail.contoso.com }\n"
                     "    - { name: _autodiscover._tcp.contoso.com, type: SRV, port: 443, "
                     "target: ad.contoso.com }\n"
                     "hosts:\n  www:\n    https:\n"
                     "      certificate: { profile: valid, names: [www.contoso.com] }\n"
                     "  lost: {}\n"
                     "  ok: { https: { certificate: { profile: wrong-name, names: [x.com] } }, "
                     "names: [ok.contoso.com] }\n"
                     "clients: [outlook-2016-msi]\n"
                     "expect:\n  outlook-2016-msi:\n    prompts:\n"
                     "      - { kind: certificate, host: autodiscover.contoso.com }\n",
                     out, sizeof out);
  assert_int_equal(n, 5);
  assert_string_equal(
      out,
      "lint.yaml:19:9: warning: expect.outlook-2016-msi: the prompt's host "
      "autodiscover.contoso.com is neither a host's name nor a record in this scenario, so no "
      "client can reach it\n"
      "lint.yaml:7:7: warning: the MX record of contoso.com points at mail.contoso.com, which is "
      "inside the lab's zones but has no record and no host\n"
      "lint.yaml:8:7: warning: the SRV record of _autodiscover._tcp.contoso.com points at "
      "ad.contoso.com, which is inside the lab's zones but has no record and no host\n"
      "lint.yaml:13:3: warning: host \"lost\" has no names and no record resolves to it: no client "
      "can reach it\n"
      "lint.yaml:12:20: warning: the valid certificate of host \"www\" does not cover its name "
      "contoso.com: a client will see a name mismatch (use profile wrong-name to mean it)\n");
  /* a small buffer holds whole lines only; the count is still every warning */
  char small[150];
  assert_int_equal(lint_of("hosts:\n  a: {}\n  b: {}\n", small, sizeof small), 2);
  assert_string_equal(small, "lint.yaml:5:3: warning: host \"a\" has no names and no record "
                             "resolves to it: no client can reach it\n");
  assert_int_equal(lint_of("hosts:\n  a: {}\n", NULL, 0), 1);
}

/* targets outside the lab's zones are somebody else's: no warning; dns.zones widens the lab */
static void test_lint_zones(void **state) {
  char out[2048];
  assert_int_equal(lint_of("dns:\n  records:\n"
                           "    - { name: contoso.com, type: CNAME, target: mail.hoster.net }\n",
                           out, sizeof out),
                   0);
  assert_int_equal(lint_of("dns:\n  zones: [contoso.com, hoster.net]\n  records:\n"
                           "    - { name: contoso.com, type: CNAME, target: mail.hoster.net }\n",
                           out, sizeof out),
                   1);
  assert_non_null(strstr(out, "lint.yaml:7:7: warning: the CNAME record of contoso.com"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_everything_v2),
      cmocka_unit_test(test_zone_file),
      cmocka_unit_test(test_zone_file_origin),
      cmocka_unit_test(test_zone_file_crlf),
      cmocka_unit_test(test_extends),
      cmocka_unit_test(test_extends_edges),
      cmocka_unit_test(test_extends_string),
      cmocka_unit_test(test_durations),
      cmocka_unit_test(test_times),
      cmocka_unit_test(test_lint_clean),
      cmocka_unit_test(test_lint_warnings),
      cmocka_unit_test(test_lint_zones),
  };
  return cmocka_run_group_tests(tests, to_data, NULL);
}
