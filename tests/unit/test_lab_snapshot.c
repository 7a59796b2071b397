/* tests/unit/test_lab_snapshot.c: the snapshot's choices and its writer without a network
 * (lab/snapshot_map.c, lab/snapshot.c) — each kind of real certificate onto its lab profile
 * with its names and dates, YAML quoting of hostile strings read back exactly, comments that
 * stay comments, and a whole snapshot written from hand-made facts that scn_load reads back
 * with the values it was given. */
#include "lab/snapshot.h"
#include "scenario/scn.h"
#include "tests/unit/testutil.h"

#include <openssl/mem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

static const int64_t NOW = 1800000000; /* 2027-01-15 */
static const int64_t DAY = 86400;

/* --- facts made by hand --- */

static char **names_of(const char *const *v, size_t *n) {
  *n = 0;
  while (v != NULL && v[*n] != NULL) {
    (*n)++;
  }
  char **out = xcalloc(*n + 1, sizeof *out);
  for (size_t i = 0; i < *n; i++) {
    out[i] = str_dup(v[i]);
  }
  return out;
}

struct cert_spec {
  const char *cn;
  const char *const *sans;
  const char *const *ips;
  int64_t from, to;
  const char *key;
  unsigned bits;
  bool sha1;
  bool self_signed;
  const char *subject;
  const char *issuer;
};

static void cert_fill(struct sim_cert_info *c, const struct cert_spec *s) {
  memset(c, 0, sizeof *c);
  c->subject = str_dup(s->subject != NULL ? s->subject : "CN=x");
  c->subject_cn = str_dup(s->cn);
  c->issuer = str_dup(s->issuer != NULL ? s->issuer : "CN=Some CA");
  c->issuer_cn = str_dup("Some CA");
  c->dns_names = names_of(s->sans, &c->n_dns_names);
  c->ip_names = names_of(s->ips, &c->n_ip_names);
  c->not_before = s->from != 0 ? s->from : NOW - 10 * DAY;
  c->not_after = s->to != 0 ? s->to : NOW + 300 * DAY;
  c->key_type = str_dup(s->key != NULL ? s->key : "ec");
  c->key_bits = s->bits != 0 ? s->bits : 256;
  c->sig_alg = str_dup(s->sha1 ? "ecdsa-with-SHA1" : "ecdsa-with-SHA256");
  c->sig_sha1 = s->sha1;
  c->self_signed = s->self_signed;
  c->sha256 = str_dup("00ff");
}

/* tls_of: one certificate presented, with what the verifier said. */
static void tls_of(struct sim_tls_info *t, const struct cert_spec *s, unsigned failures,
                   int verify_error, bool issuer_missing) {
  memset(t, 0, sizeof *t);
  t->handshake_done = true;
  t->version = 0x0304;
  t->chain = xcalloc(1, sizeof *t->chain);
  t->n_chain = 1;
  cert_fill(&t->chain[0], s);
  t->cert_failures = failures;
  t->verify_error = verify_error;
  t->verify_text = verify_error != 0 ? str_dup(X509_verify_cert_error_string(verify_error)) : NULL;
  t->issuer_missing = issuer_missing;
}

/* tls_free releases what tls_of made (sim_inspection_free does it inside an inspection). */
static void tls_free(struct sim_tls_info *t) {
  struct sim_inspection *r = xcalloc(1, sizeof *r);
  r->tls = *t;
  sim_inspection_free(r);
  memset(t, 0, sizeof *t);
}

static struct lab_cert_choice choose(const struct cert_spec *s, unsigned failures, int err,
                                     bool missing, bool completed) {
  struct sim_tls_info t;
  tls_of(&t, s, failures, err, missing);
  struct lab_cert_choice c;
  lab_snapshot_cert_choice(&c, &t, completed, NOW);
  tls_free(&t);
  return c;
}

/* --- certificates onto profiles --- */

static void test_trusted_certificates(void **state) {
  static const char *const sans[] = {"contoso.com", "www.contoso.com", NULL};
  struct lab_cert_choice c =
      choose(&(struct cert_spec){.cn = "contoso.com", .sans = sans}, 0, 0, false, false);
  assert_string_equal(c.profile, "valid");
  assert_int_equal(c.n_names, 2);
  assert_string_equal(c.names[1], "www.contoso.com");
  assert_null(c.key); /* ECDSA: the profile's own */
  assert_true(c.dates);
  assert_int_equal(c.not_before, NOW - 10 * DAY);
  lab_cert_choice_cleanup(&c);

  c = choose(
      &(struct cert_spec){
          .cn = "contoso.com", .sans = sans, .from = NOW - 400 * DAY, .to = NOW - 5 * DAY},
      SIM_CERT_EXPIRED, X509_V_ERR_CERT_HAS_EXPIRED, false, false);
  assert_string_equal(c.profile, "expired");
  assert_int_equal(c.not_after, NOW - 5 * DAY); /* the real dates */
  assert_int_equal(c.n_names, 2);
  lab_cert_choice_cleanup(&c);

  c = choose(&(struct cert_spec){.cn = "contoso.com", .sans = sans, .from = NOW + 5 * DAY},
             SIM_CERT_NOT_YET_VALID, X509_V_ERR_CERT_NOT_YET_VALID, false, false);
  assert_string_equal(c.profile, "not-yet-valid");
  lab_cert_choice_cleanup(&c);

  /* a name mismatch keeps the real names: the mismatch reproduces */
  static const char *const www[] = {"www.contoso.com", NULL};
  c = choose(&(struct cert_spec){.cn = "www.contoso.com", .sans = www}, SIM_CERT_NAME,
             X509_V_ERR_HOSTNAME_MISMATCH, false, false);
  assert_string_equal(c.profile, "valid");
  assert_int_equal(c.n_names, 1);
  assert_string_equal(c.names[0], "www.contoso.com");
  assert_non_null(strstr(c.why, "do not cover"));
  lab_cert_choice_cleanup(&c);

  static const char *const wild[] = {"*.contoso.com", NULL};
  c = choose(&(struct cert_spec){.cn = "*.contoso.com", .sans = wild}, 0, 0, false, false);
  assert_string_equal(c.profile, "valid");
  assert_string_equal(c.names[0], "*.contoso.com");
  lab_cert_choice_cleanup(&c);
}

static void test_untrusted_certificates(void **state) {
  static const char *const sans[] = {"contoso.com", NULL};
  struct lab_cert_choice c =
      choose(&(struct cert_spec){.cn = "contoso.com", .sans = sans, .self_signed = true},
             SIM_CERT_UNTRUSTED, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, false, false);
  assert_string_equal(c.profile, "self-signed");
  lab_cert_choice_cleanup(&c);

  c = choose(&(struct cert_spec){.cn = "contoso.com", .sans = sans}, SIM_CERT_UNTRUSTED,
             X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, true, false);
  assert_string_equal(c.profile, "untrusted-root");
  assert_non_null(strstr(c.why, "caIssuers"));
  lab_cert_choice_cleanup(&c);

  /* the caIssuers certificate completed the chain: an intermediate was left out */
  c = choose(&(struct cert_spec){.cn = "contoso.com", .sans = sans}, SIM_CERT_UNTRUSTED,
             X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, true, true);
  assert_string_equal(c.profile, "incomplete-chain");
  lab_cert_choice_cleanup(&c);

  /* untrusted and expired: the profile says who signs, the real dates say when */
  c = choose(
      &(struct cert_spec){
          .cn = "contoso.com", .sans = sans, .from = NOW - 400 * DAY, .to = NOW - DAY},
      SIM_CERT_UNTRUSTED | SIM_CERT_EXPIRED, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, true,
      false);
  assert_string_equal(c.profile, "untrusted-root");
  assert_true(c.dates);
  assert_int_equal(c.not_after, NOW - DAY);
  lab_cert_choice_cleanup(&c);
}

static void test_weak_and_odd_certificates(void **state) {
  static const char *const sans[] = {"contoso.com", NULL};
  struct lab_cert_choice c = choose(
      &(struct cert_spec){.cn = "contoso.com", .sans = sans, .sha1 = true}, 0, 0, false, false);
  assert_string_equal(c.profile, "sha1-signature");
  lab_cert_choice_cleanup(&c);

  c = choose(&(struct cert_spec){.cn = "contoso.com", .sans = sans, .key = "rsa", .bits = 1024}, 0,
             0, false, false);
  assert_string_equal(c.profile, "rsa-1024");
  assert_null(c.key); /* the profile fixes it */
  lab_cert_choice_cleanup(&c);

  c = choose(&(struct cert_spec){.cn = "contoso.com", .sans = sans, .key = "rsa", .bits = 4096}, 0,
             0, false, false);
  assert_string_equal(c.profile, "valid");
  assert_string_equal(c.key, "rsa-2048"); /* the lab's RSA */
  lab_cert_choice_cleanup(&c);

  static const char *const ips[] = {"192.0.2.7", NULL};
  c = choose(&(struct cert_spec){.ips = ips}, SIM_CERT_NAME, X509_V_ERR_HOSTNAME_MISMATCH, false,
             false);
  assert_string_equal(c.profile, "ip-only");
  lab_cert_choice_cleanup(&c);

  /* the CN outside a SAN that has names */
  static const char *const other[] = {"other.contoso.com", NULL};
  c = choose(&(struct cert_spec){.cn = "autodiscover.contoso.com", .sans = other}, SIM_CERT_NAME,
             X509_V_ERR_HOSTNAME_MISMATCH, false, false);
  assert_string_equal(c.profile, "san-missing-host");
  assert_int_equal(c.n_names, 2);
  assert_string_equal(c.names[0], "autodiscover.contoso.com"); /* the CN comes first */
  assert_string_equal(c.names[1], "other.contoso.com");
  lab_cert_choice_cleanup(&c);

  /* no SAN: the CN is the name */
  c = choose(&(struct cert_spec){.cn = "Mail.Contoso.COM."}, 0, 0, false, false);
  assert_string_equal(c.profile, "valid");
  assert_int_equal(c.n_names, 1);
  assert_string_equal(c.names[0], "mail.contoso.com"); /* as a scenario writes it */
  lab_cert_choice_cleanup(&c);
}

static void test_hostile_certificate_names(void **state) {
  static const char *const sans[] = {
      "evil\"name.com",   "a b.com",          "x\n- bad: 1", "*.*.com",
      "fine.contoso.com", "FINE.contoso.com", NULL};
  struct lab_cert_choice c =
      choose(&(struct cert_spec){.cn = "#comment", .sans = sans}, 0, 0, false, false);
  assert_int_equal(c.n_names, 1); /* only what a scenario can hold, once */
  assert_string_equal(c.names[0], "fine.contoso.com");
  lab_cert_choice_cleanup(&c);

  static const char *const none[] = {"not a name", NULL};
  c = choose(&(struct cert_spec){.cn = "also not", .sans = none}, SIM_CERT_NAME,
             X509_V_ERR_HOSTNAME_MISMATCH, false, false);
  assert_int_equal(c.n_names, 1);
  assert_string_equal(c.names[0], "wrong.host.invalid"); /* the mismatch stays one */
  lab_cert_choice_cleanup(&c);
}

static void test_dns_names(void **state) {
  assert_true(lab_snapshot_dns_name("contoso.com", false));
  assert_true(lab_snapshot_dns_name("_autodiscover._tcp.contoso.com", false));
  assert_true(lab_snapshot_dns_name("*.contoso.com", true));
  assert_false(lab_snapshot_dns_name("*.contoso.com", false));
  assert_false(lab_snapshot_dns_name("a.*.com", true));
  assert_false(lab_snapshot_dns_name("Contoso.com", false)); /* lowercase only */
  assert_false(lab_snapshot_dns_name("a..b", false));
  assert_false(lab_snapshot_dns_name("", false));
  assert_false(lab_snapshot_dns_name(NULL, false));
  char label[70];
  memset(label, 'a', 64);
  label[64] = 0;
  assert_false(lab_snapshot_dns_name(label, false));
}

/* tls_from_chain: what an inspection records of a lab chain presented as the server sends it
 * (the leaf alone), verified against the lab CA. */
static void der_of(X509 *x, struct sim_cert_info *c) {
  memset(c, 0, sizeof *c);
  uint8_t *der = NULL;
  int len = i2d_X509(x, &der);
  assert_true(len > 0);
  c->der = xcalloc((size_t) len, 1);
  memcpy(c->der, der, (size_t) len);
  c->der_len = (size_t) len;
  OPENSSL_free(der);
}

/* A missing intermediate, told from an unknown root by the certificate the caIssuers URL
 * would give: with it the lab's incomplete-chain leaf verifies. */
static void test_missing_intermediate_completes(void **state) {
  char *dir = test_tmpdir("snapshot-ca");
  struct ca *ca = NULL;
  assert_int_equal(ca_create(&ca, dir, NULL, 0), CA_OK);
  const char *const names[] = {"contoso.com"};
  struct ca_chain *incomplete = NULL, *untrusted = NULL;
  assert_int_equal(ca_mint(ca, &incomplete, ca_profile_named("incomplete-chain"), names, 1), CA_OK);
  assert_int_equal(ca_mint(ca, &untrusted, ca_profile_named("untrusted-root"), names, 1), CA_OK);
  X509 *intermediate = ca_chain_withheld(incomplete);
  assert_non_null(intermediate);
  uint8_t *inter = NULL;
  int inter_len = i2d_X509(intermediate, &inter);
  assert_true(inter_len > 0);

  struct sim_tls_info t = {.n_chain = 1};
  t.chain = xcalloc(1, sizeof *t.chain);
  der_of(ca_chain_leaf(incomplete), &t.chain[0]);
  const char *trust = ca_cert_path(ca);
  assert_int_equal(sim_inspect_reverify(trust, &t, "contoso.com", NULL, 0), SIM_CERT_UNTRUSTED);
  assert_int_equal(sim_inspect_reverify(trust, &t, "contoso.com", inter, (size_t) inter_len), 0);
  assert_int_equal(sim_inspect_reverify(trust, &t, "www.contoso.com", inter, (size_t) inter_len),
                   SIM_CERT_NAME);
  tls_free(&t);

  /* an unknown root: the same certificate does not help */
  t = (struct sim_tls_info){.n_chain = 1};
  t.chain = xcalloc(1, sizeof *t.chain);
  der_of(ca_chain_leaf(untrusted), &t.chain[0]);
  assert_int_equal(sim_inspect_reverify(trust, &t, "contoso.com", inter, (size_t) inter_len),
                   SIM_CERT_UNTRUSTED);
  tls_free(&t);
  OPENSSL_free(inter);
  ca_chain_free(incomplete);
  ca_chain_free(untrusted);
  ca_free(ca);
  test_rmtree(dir);
  free(dir);
}

/* --- YAML text --- */

static const char *const hostile[] = {
    "plain",
    "with \"quotes\" and 'single' ones",
    "back\\slash \\n not a newline",
    "colon: space # hash",
    "- dash first",
    "line one\nline two\r\n\ttab",
    "{flow: [x]}, &anchor *alias !tag |literal >folded",
    "null",
    "~",
    "yes",
    "123",
    "caf\xc3\xa9 \xe2\x80\xa8 separator \xef\xbb\xbf bom \xc2\x85 nel",
    "bell\x07 esc\x1b del\x7f",
    "",
    NULL,
};

static void test_quote_reads_back(void **state) {
  for (size_t i = 0; hostile[i] != NULL; i++) {
    struct buf doc;
    buf_init(&doc, 1 << 16);
    /* a scenario whose description is the hostile string: the loader must read it back */
    buf_append_str(&doc, "name: q\ndescription: ");
    assert_true(lab_yaml_quote(&doc, hostile[i], strlen(hostile[i])));
    buf_append_str(&doc, "\ndomain: contoso.com\n");
    struct scn *s = NULL;
    char err[512] = "";
    enum scn_status st = scn_load_string(&s, "q.yaml", buf_cstr(&doc), doc.len, err, sizeof err);
    if (hostile[i][0] == 0) {
      assert_int_not_equal(st, SCN_OK); /* an empty description is refused: never written */
    } else {
      assert_int_equal(st, SCN_OK);
      assert_string_equal(s->description, hostile[i]);
      size_t lines = 0;
      for (const char *c = buf_cstr(&doc); *c != 0; c++) {
        lines += *c == '\n';
      }
      assert_int_equal(lines, 3); /* the value stayed on its line */
    }
    scn_free(s);
    buf_cleanup(&doc);
  }
}

static void test_quote_not_utf8(void **state) {
  struct buf b;
  buf_init(&b, 256);
  assert_true(lab_yaml_quote(&b,
                             "a\xff"
                             "b\xc3",
                             4)); /* a stray byte, a cut character */
  assert_string_equal(buf_cstr(&b), "\"a\\uFFFDb\\uFFFD\"");
  buf_reset(&b);
  assert_true(lab_yaml_quote(&b, "nul\0inside", 10));
  assert_string_equal(buf_cstr(&b), "\"nul\\0inside\"");
  buf_cleanup(&b);
}

static void test_comment_stays_one_line(void **state) {
  struct buf doc;
  buf_init(&doc, 4096);
  buf_append_str(&doc, "name: c\n");
  assert_true(
      lab_yaml_comment(&doc, 0, "CN=evil\nextra: key\r\n# more\xc2\x85tail\xe2\x80\xa8\xff"));
  assert_true(lab_yaml_comment(&doc, 2, NULL));
  buf_append_str(&doc, "description: d\ndomain: contoso.com\n");
  const char *text = buf_cstr(&doc);
  assert_non_null(strstr(text, "# CN=evil\\nextra: key\\r\\n# more\\x85tail\\u2028\\uFFFD\n"));
  struct scn *s = NULL;
  char err[512] = "";
  assert_int_equal(scn_load_string(&s, "c.yaml", text, doc.len, err, sizeof err), SCN_OK);
  scn_free(s);
  buf_cleanup(&doc);
}

/* --- a whole snapshot --- */

static struct sim_dns_info *dns_a(const char *name, const char *cname, const char *address) {
  struct sim_dns_info *d = xcalloc(1, sizeof *d);
  d->name = str_dup(name);
  d->type = 1;
  if (cname != NULL) {
    d->cnames = xcalloc(1, sizeof *d->cnames);
    d->cnames[0] = str_dup(cname);
    d->n_cnames = 1;
  }
  if (address != NULL) {
    d->addresses = xcalloc(1, sizeof *d->addresses);
    d->addresses[0] = str_dup(address);
    d->n_addresses = 1;
  }
  return d;
}

static struct sim_dns_info *dns_error(const char *name, uint16_t type, const char *error) {
  struct sim_dns_info *d = xcalloc(1, sizeof *d);
  d->name = str_dup(name);
  d->type = type;
  d->error = str_dup(error);
  return d;
}

static struct sim_inspection *answer(const char *url, const char *address, int status,
                                     enum sim_answer_type kind) {
  struct sim_inspection *r = xcalloc(1, sizeof *r);
  r->url = str_dup(url);
  r->address = str_dup(address);
  r->result = SIM_R_NOT_AUTODISCOVER;
  r->http.status = status;
  r->http.answer = kind;
  r->http.body = xcalloc(1, 1);
  return r;
}

static const char *const MESSAGE = "Server \"busy\": # not a comment\nkey: value\t\\";
static const char *const LOCATION = "https://mail.contoso.com/x?a=\"b\"&c=#d";
static const char *const CHALLENGE = "Basic realm=\"con: toso #1\"";
static const char *const BODY = "<html>\"quoted\"\n- item: 1\n# hash\xc3\xa9</html>";

static struct lab_snapshot *hostile_snapshot(void) {
  struct lab_snapshot *s = xcalloc(1, sizeof *s);
  s->domain = str_dup("contoso.com");
  s->email = str_dup("alice@contoso.com");
  s->taken = NOW;
  s->trust = str_dup("/tmp/trust \"store\".pem\n# evil");
  s->domains = xcalloc(1, sizeof *s->domains);
  s->domains[0] = str_dup("contoso.com");
  s->n_domains = 1;
  s->notes = xcalloc(1, sizeof *s->notes);
  s->notes[0] = str_dup("a note\nname: injected");
  s->n_notes = 1;
  s->dns = xcalloc(6, sizeof *s->dns);
  s->dns[s->n_dns++] = dns_a("contoso.com", NULL, "192.0.2.1");
  s->dns[s->n_dns++] = dns_a("autodiscover.contoso.com", "mail.contoso.com", "192.0.2.2");
  s->dns[s->n_dns++] = dns_a("mail.contoso.com", NULL, "192.0.2.2");
  s->dns[s->n_dns++] = dns_error("_autodiscover._tcp.contoso.com", 33, "SERVFAIL");
  s->dns[s->n_dns++] = dns_error("gone.contoso.com", 1, "timeout");

  s->endpoints = xcalloc(2, sizeof *s->endpoints);
  s->n_endpoints = 2;
  /* contoso.com: a hostile certificate, a POX Error, a 302, a 401, and an HTML 200 on 80 */
  struct lab_snap_endpoint *e = &s->endpoints[0];
  e->name = str_dup("contoso.com");
  e->address = str_dup("192.0.2.1");
  e->https = xcalloc(3, sizeof *e->https);
  e->n_https = 3;
  struct sim_inspection *r = answer("https://contoso.com/autodiscover/autodiscover.xml",
                                    "192.0.2.1", 200, SIM_ANSWER_ERROR);
  r->result = SIM_R_XML_ERROR;
  r->has_tls = true;
  static const char *const sans[] = {"contoso.com", "evil\"\n- name: x", NULL};
  tls_of(&r->tls,
         &(struct cert_spec){.cn = "contoso.com",
                             .sans = sans,
                             .subject = "CN=contoso.com\nhosts: {}",
                             .issuer = "CN=\"Evil\" CA # not a comment\r\n",
                             .from = NOW - 400 * DAY,
                             .to = NOW - 3 * DAY},
         SIM_CERT_EXPIRED, X509_V_ERR_CERT_HAS_EXPIRED, false);
  r->http.error_code = 500;
  r->http.message = str_dup(MESSAGE);
  e->https[0] = (struct lab_snap_probe){str_dup("/autodiscover/autodiscover.xml"), r};
  r = answer("https://contoso.com/old?x=1", "192.0.2.1", 302, SIM_ANSWER_HTTP_REDIRECT);
  r->http.location = str_dup(LOCATION);
  e->https[1] = (struct lab_snap_probe){str_dup("/old?x=1"), r};
  r = answer("https://contoso.com/auth", "192.0.2.1", 401, SIM_ANSWER_AUTH);
  r->http.challenges = xcalloc(2, sizeof *r->http.challenges);
  r->http.challenges[0] = str_dup(CHALLENGE);
  r->http.challenges[1] = str_dup("bad\nchallenge");
  r->http.n_challenges = 2;
  e->https[2] = (struct lab_snap_probe){str_dup("/auth"), r};
  r = answer("http://contoso.com/autodiscover/autodiscover.xml", "192.0.2.1", 200,
             SIM_ANSWER_OTHER);
  free(r->http.body);
  r->http.body = (uint8_t *) str_dup(BODY);
  r->http.body_len = strlen(BODY);
  r->http.content_type = str_dup("text/html; charset=\"utf-8\"");
  r->http.why = str_dup("not XML\n# at all");
  e->http = r;

  /* autodiscover.contoso.com (a CNAME to mail.contoso.com): settings; 80 times out */
  e = &s->endpoints[1];
  e->name = str_dup("autodiscover.contoso.com");
  e->address = str_dup("192.0.2.2");
  e->https = xcalloc(1, sizeof *e->https);
  e->n_https = 1;
  r = answer("https://autodiscover.contoso.com/autodiscover/autodiscover.xml", "192.0.2.2", 200,
             SIM_ANSWER_SETTINGS);
  r->result = SIM_R_SETTINGS;
  r->has_tls = true;
  static const char *const ad[] = {"autodiscover.contoso.com", NULL};
  tls_of(&r->tls, &(struct cert_spec){.cn = "autodiscover.contoso.com", .sans = ad}, 0, 0, false);
  r->http.ews_url = str_dup("https://mail.contoso.com/EWS/Exchange.asmx");
  r->http.server = str_dup("MAIL.contoso.com");
  r->http.auth_package = str_dup("Ntlm");
  e->https[0] = (struct lab_snap_probe){str_dup("/autodiscover/autodiscover.xml"), r};
  r = answer("http://autodiscover.contoso.com/autodiscover/autodiscover.xml", "192.0.2.2", 0,
             SIM_ANSWER_NONE);
  r->result = SIM_R_CONNECT_FAILED;
  r->connect_error = str_dup("timeout");
  r->timed_out = true;
  e->http = r;
  return s;
}

static const struct scn_route *route(const struct scn_listener *l, const char *path) {
  for (size_t i = 0; i < l->n_routes; i++) {
    if (strcmp(l->routes[i].path, path) == 0) {
      return &l->routes[i];
    }
  }
  fail_msg("no route %s", path);
  return NULL;
}

static void test_whole_snapshot_loads_with_its_values(void **state) {
  struct lab_snapshot *snap = hostile_snapshot();
  struct buf text;
  buf_init(&text, 1 << 20);
  assert_true(lab_snapshot_write(snap, &text));
  struct scn *s = NULL;
  char err[512] = "";
  enum scn_status st = scn_load_string(&s, "snap.yaml", buf_cstr(&text), text.len, err, sizeof err);
  if (st != SCN_OK || getenv("AD_SHOW") != NULL) {
    fprintf(stderr, "%s\n%s\n", err, buf_cstr(&text));
  }
  assert_int_equal(st, SCN_OK);
  assert_string_equal(s->domain, "contoso.com");
  assert_string_equal(s->email, "alice@contoso.com");
  assert_int_equal(s->n_zones, 1);
  assert_int_equal(s->n_hosts, 2);
  const struct scn_host *root = scn_host_find(s, "contoso-com");
  const struct scn_host *ad = scn_host_find(s, "autodiscover-contoso-com");
  assert_non_null(root);
  assert_non_null(ad);
  /* the certificate: expired, its one good name, its real dates */
  const struct scn_cert *cert = &root->https.cert;
  assert_string_equal(ca_profile_name(cert->profile), "expired");
  assert_int_equal(cert->n_names, 1);
  assert_string_equal(cert->names[0], "contoso.com");
  assert_true(cert->has_not_after);
  assert_int_equal(cert->not_after, NOW - 3 * DAY);
  /* the answers, value for value */
  const struct scn_route *rt = route(&root->https, "/autodiscover/autodiscover.xml");
  assert_int_equal(rt->kind, SCN_ROUTE_AUTODISCOVER);
  assert_int_equal(rt->ad.action, SCN_AD_ERROR);
  assert_int_equal(rt->ad.error_code, 500);
  /* a one-line string in a scenario: the line break and the tab became spaces */
  assert_string_equal(rt->ad.error_message, "Server \"busy\": # not a comment key: value \\");
  rt = route(&root->https, "/old"); /* a route matches the path, not the query */
  assert_int_equal(rt->kind, SCN_ROUTE_REDIRECT);
  assert_int_equal(rt->status, 302);
  assert_string_equal(rt->location, LOCATION);
  rt = route(&root->https, "/auth");
  assert_true(rt->auth.present);
  assert_false(rt->auth.accept_credentials);
  assert_int_equal(rt->auth.n_challenges, 1); /* the one with a line break is left out */
  assert_string_equal(rt->auth.challenges[0], CHALLENGE);
  rt = route(&root->http, "/autodiscover/autodiscover.xml");
  assert_int_equal(rt->status, 200);
  assert_int_equal(rt->body_len, strlen(BODY));
  assert_memory_equal(rt->body, BODY, strlen(BODY));
  assert_string_equal(rt->content_type, "text/html; charset=\"utf-8\"");
  rt = route(&ad->https, "/autodiscover/autodiscover.xml");
  assert_int_equal(rt->ad.action, SCN_AD_SETTINGS);
  assert_string_equal(rt->ad.ews_url, "https://mail.contoso.com/EWS/Exchange.asmx");
  assert_string_equal(rt->ad.server, "mail.contoso.com");
  assert_string_equal(rt->ad.auth_package, "Ntlm");
  assert_true(ad->http.present);
  assert_int_equal(ad->http.fault, SCN_FAULT_BLACKHOLE);
  /* DNS: A records by host, the CNAME kept, the failures as behaviours */
  bool cname = false, a_root = false, a_mail = false;
  for (size_t i = 0; i < s->n_records; i++) {
    const struct scn_record *rec = &s->records[i];
    cname |= rec->type == 5 && strcmp(rec->name, "autodiscover.contoso.com") == 0 &&
             strcmp(rec->target, "mail.contoso.com") == 0;
    a_root |= rec->type == 1 && strcmp(rec->name, "contoso.com") == 0 && rec->host != NULL &&
              strcmp(rec->host, "contoso-com") == 0;
    a_mail |= rec->type == 1 && strcmp(rec->name, "mail.contoso.com") == 0 && rec->host != NULL &&
              strcmp(rec->host, "autodiscover-contoso-com") == 0;
    assert_null(rec->address); /* never a real address */
  }
  assert_true(cname && a_root && a_mail);
  assert_int_equal(s->n_rules, 2);
  assert_string_equal(s->rules[0].name, "_autodiscover._tcp.contoso.com");
  assert_int_equal(s->rules[0].behaviour, SCN_DNS_SERVFAIL);
  assert_int_equal(s->rules[1].behaviour, SCN_DNS_TIMEOUT);
  assert_int_equal(s->n_expects, 0); /* expect: only as a comment */
  assert_true(s->n_clients >= 6);
  /* nothing injected by what the servers said */
  assert_null(strstr(buf_cstr(&text), "\nname: injected"));
  assert_null(strstr(buf_cstr(&text), "\nhosts: {}"));
  scn_free(s);
  buf_cleanup(&text);
  lab_snapshot_free(snap);
}

static void test_empty_snapshot_loads(void **state) {
  struct lab_snapshot *snap = xcalloc(1, sizeof *snap);
  snap->domain = str_dup("contoso.com");
  snap->email = str_dup("user@contoso.com");
  snap->taken = NOW;
  snap->domains = xcalloc(1, sizeof *snap->domains);
  snap->domains[0] = str_dup("contoso.com");
  snap->n_domains = 1;
  snap->dns = xcalloc(1, sizeof *snap->dns);
  snap->dns[snap->n_dns++] = dns_error("contoso.com", 1, "NXDOMAIN");
  struct buf text;
  buf_init(&text, 1 << 16);
  assert_true(lab_snapshot_write(snap, &text));
  struct scn *s = NULL;
  char err[512] = "";
  assert_int_equal(scn_load_string(&s, "e.yaml", buf_cstr(&text), text.len, err, sizeof err),
                   SCN_OK);
  assert_int_equal(s->n_records, 0);
  assert_int_equal(s->n_hosts, 0);
  assert_int_equal(s->n_rules, 1); /* NXDOMAIN at the zone's apex: the lab would say NODATA */
  assert_int_equal(s->rules[0].behaviour, SCN_DNS_NXDOMAIN);
  scn_free(s);
  buf_cleanup(&text);
  lab_snapshot_free(snap);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_trusted_certificates),
      cmocka_unit_test(test_untrusted_certificates),
      cmocka_unit_test(test_weak_and_odd_certificates),
      cmocka_unit_test(test_hostile_certificate_names),
      cmocka_unit_test(test_dns_names),
      cmocka_unit_test(test_missing_intermediate_completes),
      cmocka_unit_test(test_quote_reads_back),
      cmocka_unit_test(test_quote_not_utf8),
      cmocka_unit_test(test_comment_stays_one_line),
      cmocka_unit_test(test_whole_snapshot_loads_with_its_values),
      cmocka_unit_test(test_empty_snapshot_loads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
