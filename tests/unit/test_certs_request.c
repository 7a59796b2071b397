/* tests/unit/test_certs_request.c: tests the profiles added with ca_mint_request (certs/
 * ca_profile.c) — incomplete-chain, sha1-signature, rsa-1024, wildcard, san-missing-host,
 * ip-only — and the request's overrides: key type, validity, and a cache key per request.
 * Verification runs through this BoringSSL's X509_verify_cert; where BoringSSL does not judge
 * what OpenSSL clients refuse (SHA-1, small RSA keys, IP names under constraints), the test
 * says so in its name and checks the certificate's properties instead. */
#include "certs/ca.h"
#include "certs/internal.h"
#include "common/buf.h"
#include "tests/unit/test_certs_fixture.h"
#include "tests/unit/testutil.h"

#include <dirent.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY (24L * 60 * 60)

static int setup(void **state) {
  *state = fixture_new("certs-request", true);
  return 0;
}

static int teardown(void **state) {
  fixture_free(*state);
  return 0;
}

/* verify runs X509_verify_cert as a TLS client trusting only `trust` would: the chain's leaf
 * with its intermediates plus `extra` (may be NULL) as untrusted certificates, checking `host`
 * (a name) or `ip` when not NULL; returns X509_V_OK or the verifier's error. */
static int verify(X509 *trust, const struct ca_chain *chain, X509 *extra, const char *host,
                  const char *ip) {
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  STACK_OF(X509) *untrusted = sk_X509_new_null();
  assert_non_null(store);
  assert_non_null(ctx);
  assert_non_null(untrusted);
  for (size_t i = 0; i < sk_X509_num(ca_chain_intermediates(chain)); i++) {
    assert_true(sk_X509_push(untrusted, sk_X509_value(ca_chain_intermediates(chain), i)));
  }
  if (extra != NULL) {
    assert_true(sk_X509_push(untrusted, extra));
  }
  assert_true(X509_STORE_add_cert(store, trust));
  assert_true(X509_STORE_CTX_init(ctx, store, ca_chain_leaf(chain), untrusted));
  assert_true(X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER));
  X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
  if (host != NULL) {
    assert_true(X509_VERIFY_PARAM_set1_host(param, host, strlen(host)));
  }
  if (ip != NULL) {
    assert_true(X509_VERIFY_PARAM_set1_ip_asc(param, ip));
  }
  int err = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  sk_X509_free(untrusted); /* borrowed certificates */
  ERR_clear_error();
  return err;
}

/* refused mints and expects `st` with `detail` in the detail. */
static void refused(struct ca *ca, const struct ca_request *req, enum ca_status st,
                    const char *detail) {
  struct ca_chain *chain = NULL;
  assert_int_equal(ca_mint_request(ca, &chain, req), st);
  assert_null(chain);
  if (strstr(ca_detail(ca), detail) == NULL) {
    fail_msg("detail \"%s\" lacks \"%s\"", ca_detail(ca), detail);
  }
  assert_int_equal(ERR_peek_error(), 0);
}

/* assert_dns_sans checks that the leaf's SAN holds exactly the DNS names `names`. */
static void assert_dns_sans(X509 *leaf, const char *const *names, size_t n_names) {
  GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
  assert_non_null(gens);
  assert_int_equal(sk_GENERAL_NAME_num(gens), n_names);
  for (size_t i = 0; i < n_names; i++) {
    const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
    assert_int_equal(gn->type, GEN_DNS);
    assert_int_equal(ASN1_STRING_length(gn->d.dNSName), strlen(names[i]));
    assert_memory_equal(ASN1_STRING_get0_data(gn->d.dNSName), names[i], strlen(names[i]));
  }
  GENERAL_NAMES_free(gens);
}

static void assert_cn(X509 *cert, const char *cn) {
  char text[256];
  assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, text,
                                        sizeof text) > 0);
  assert_string_equal(text, cn);
}

static void assert_key(const struct ca_chain *chain, int type, int bits) {
  EVP_PKEY *pub = X509_get_pubkey(ca_chain_leaf(chain));
  assert_non_null(pub);
  assert_int_equal(EVP_PKEY_id(pub), type);
  assert_int_equal(EVP_PKEY_bits(pub), bits);
  EVP_PKEY_free(pub);
  assert_true(X509_check_private_key(ca_chain_leaf(chain), ca_chain_key(chain)));
}

static size_t count_chain_files(const char *dir) {
  char chains[4096];
  assert_true(buf_fmt(chains, sizeof chains, "%s/chains", dir));
  DIR *d = opendir(chains);
  assert_non_null(d);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    n += e->d_name[0] != '.';
  }
  closedir(d);
  return n;
}

static const char *const contoso[] = {"autodiscover.contoso.com", "contoso.com"};

static void test_incomplete_chain_leaves_out_the_intermediate(void **state) {
  struct fixture *f = *state;
  struct ca_chain *chain = mint(f->ca, "incomplete-chain", contoso, 2);
  X509 *inter = ca_chain_withheld(chain);
  assert_non_null(inter);
  assert_int_equal(sk_X509_num(ca_chain_intermediates(chain)), 0); /* the server sends none */
  assert_issued_by(ca_chain_leaf(chain), inter);
  assert_issued_by(inter, ca_cert(f->ca));
  char cn[256];
  assert_true(
      X509_NAME_get_text_by_NID(X509_get_subject_name(inter), NID_commonName, cn, sizeof cn) > 0);
  assert_memory_equal(cn, "autodisco lab intermediate CA (", 31);
  /* The verifier cannot find the leaf's issuer, exactly as with incomplete-chain.badssl.com... */
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "contoso.com", NULL),
                   X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  /* ...and given the missing intermediate (as AIA fetching would), the chain is sound. */
  assert_int_equal(verify(ca_cert(f->ca), chain, inter, "contoso.com", NULL), X509_V_OK);
  assert_int_equal(verify(ca_cert(f->ca), chain, inter, "www.contoso.com", NULL),
                   X509_V_ERR_HOSTNAME_MISMATCH);
  ca_chain_free(chain);
}

static void test_intermediate_is_a_constrained_ca(void **state) {
  struct fixture *f = *state;
  struct ca_chain *chain = mint(f->ca, "incomplete-chain", contoso, 2);
  X509 *inter = ca_chain_withheld(chain);
  int crit = 0;
  BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(inter, NID_basic_constraints, &crit, NULL);
  assert_non_null(bc);
  assert_true(crit);
  assert_true(bc->ca);
  assert_non_null(bc->pathlen);
  assert_int_equal(ASN1_INTEGER_get(bc->pathlen), 0);
  BASIC_CONSTRAINTS_free(bc);
  NAME_CONSTRAINTS *nc = X509_get_ext_d2i(inter, NID_name_constraints, &crit, NULL);
  NAME_CONSTRAINTS *root_nc = X509_get_ext_d2i(ca_cert(f->ca), NID_name_constraints, NULL, NULL);
  assert_non_null(nc);
  assert_true(crit);
  assert_int_equal(sk_GENERAL_SUBTREE_num(nc->permittedSubtrees),
                   sk_GENERAL_SUBTREE_num(root_nc->permittedSubtrees));
  NAME_CONSTRAINTS_free(nc);
  NAME_CONSTRAINTS_free(root_nc);
  assert_non_null(X509_get0_authority_key_id(inter));
  /* Its validity is the lab CA's. */
  int days = 0;
  int secs = 0;
  assert_true(
      ASN1_TIME_diff(&days, &secs, X509_get0_notAfter(inter), X509_get0_notAfter(ca_cert(f->ca))));
  assert_int_equal(days, 0);
  assert_int_equal(secs, 0);

  /* Kept beside the CA (key private) and reused by the next process. */
  struct stat sb;
  assert_int_equal(stat(sub(f->dir, "intermediate.key"), &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
  X509 *on_disk = read_cert(sub(f->dir, "intermediate.pem"));
  assert_true(same_der(on_disk, inter));
  ca_free(f->ca);
  f->ca = NULL;
  assert_int_equal(ca_open(&f->ca, f->dir, false), CA_OK);
  const char *const other[] = {"mail.contoso.com"};
  struct ca_chain *again = mint(f->ca, "incomplete-chain", other, 1);
  assert_true(same_der(ca_chain_withheld(again), inter));
  ca_chain_free(again);

  /* A re-created lab CA gets a new intermediate. */
  ca_free(f->ca);
  f->ca = NULL;
  assert_int_equal(ca_create(&f->ca, f->dir, NULL, 0), CA_OK);
  assert_int_equal(access(sub(f->dir, "intermediate.pem"), F_OK), -1);
  struct ca_chain *fresh = mint(f->ca, "incomplete-chain", contoso, 2);
  assert_false(same_der(ca_chain_withheld(fresh), inter));
  assert_issued_by(ca_chain_withheld(fresh), ca_cert(f->ca));
  assert_int_equal(verify(ca_cert(f->ca), fresh, ca_chain_withheld(fresh), "contoso.com", NULL),
                   X509_V_OK);
  ca_chain_free(fresh);
  X509_free(on_disk);
  ca_chain_free(chain);
}

static void test_intermediate_of_another_ca_is_replaced(void **state) {
  struct fixture *f = *state;
  struct ca_chain *chain = mint(f->ca, "incomplete-chain", contoso, 2);
  ca_chain_free(chain);
  /* Another lab CA's intermediate planted in this directory. */
  char *other_dir = test_tmpdir("certs-request-other");
  struct ca *other = NULL;
  assert_int_equal(ca_open(&other, other_dir, true), CA_OK);
  chain = mint(other, "incomplete-chain", contoso, 2);
  ca_chain_free(chain);
  char *from = str_dup(sub(other_dir, "intermediate.pem"));
  char *to = str_dup(sub(f->dir, "intermediate.pem"));
  assert_int_equal(rename(from, to), 0);
  free(from);
  free(to);
  from = str_dup(sub(other_dir, "intermediate.key"));
  to = str_dup(sub(f->dir, "intermediate.key"));
  assert_int_equal(rename(from, to), 0);
  free(from);
  free(to);
  ca_free(f->ca);
  f->ca = NULL;
  assert_int_equal(ca_open(&f->ca, f->dir, false), CA_OK);
  chain = mint(f->ca, "incomplete-chain", contoso, 2);
  assert_issued_by(ca_chain_withheld(chain), ca_cert(f->ca));
  assert_int_equal(verify(ca_cert(f->ca), chain, ca_chain_withheld(chain), "contoso.com", NULL),
                   X509_V_OK);
  ca_chain_free(chain);
  ca_free(other);
  test_rmtree(other_dir);
  free(other_dir);
}

static void test_sha1_signature_properties_boringssl_does_not_object(void **state) {
  struct fixture *f = *state;
  struct ca_chain *chain = mint(f->ca, "sha1-signature", contoso, 2);
  X509 *leaf = ca_chain_leaf(chain);
  /* The lab CA's key is ECDSA, so a SHA-1 signature is ecdsa-with-SHA1. */
  assert_int_equal(X509_get_signature_nid(leaf), NID_ecdsa_with_SHA1);
  assert_issued_by(leaf, ca_cert(f->ca));
  assert_key(chain, EVP_PKEY_EC, 256);
  assert_dns_sans(leaf, contoso, 2);
  /* This BoringSSL has no security levels: it accepts the SHA-1 signature. OpenSSL 3 clients
   * refuse it at level 1 and above (tests/integration/test_serve_tls.py checks openssl). */
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "contoso.com", NULL), X509_V_OK);
  /* Every other profile signs with SHA-256. */
  struct ca_chain *valid = mint(f->ca, "valid", contoso, 2);
  assert_int_equal(X509_get_signature_nid(ca_chain_leaf(valid)), NID_ecdsa_with_SHA256);
  ca_chain_free(valid);
  /* With an RSA leaf key the signature is still the issuer's: ecdsa-with-SHA1. */
  struct ca_request req = {.profile = ca_profile_named("sha1-signature"),
                           .names = contoso,
                           .n_names = 2,
                           .key_type = CA_KEY_RSA_2048};
  struct ca_chain *rsa = mint_req(f->ca, &req);
  assert_int_equal(X509_get_signature_nid(ca_chain_leaf(rsa)), NID_ecdsa_with_SHA1);
  assert_key(rsa, EVP_PKEY_RSA, 2048);
  ca_chain_free(rsa);
  ca_chain_free(chain);
}

static void test_rsa_1024_properties_boringssl_does_not_object(void **state) {
  struct fixture *f = *state;
  struct ca_chain *chain = mint(f->ca, "rsa-1024", contoso, 2);
  X509 *leaf = ca_chain_leaf(chain);
  assert_key(chain, EVP_PKEY_RSA, 1024);
  assert_int_equal(X509_get_signature_nid(leaf), NID_ecdsa_with_SHA256);
  assert_issued_by(leaf, ca_cert(f->ca));
  assert_dns_sans(leaf, contoso, 2);
  /* An RSA leaf may also encipher (TLS 1.2 RSA key exchange). */
  ASN1_BIT_STRING *ku = X509_get_ext_d2i(leaf, NID_key_usage, NULL, NULL);
  assert_non_null(ku);
  assert_true(ASN1_BIT_STRING_get_bit(ku, 0)); /* digitalSignature */
  assert_true(ASN1_BIT_STRING_get_bit(ku, 2)); /* keyEncipherment */
  ASN1_BIT_STRING_free(ku);
  /* BoringSSL has no security levels; OpenSSL 3 at level 2 refuses: "EE certificate key too
   * weak" (tests/integration/test_serve_tls.py). */
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "contoso.com", NULL), X509_V_OK);
  /* The key is what the profile is about: another key type is refused. */
  struct ca_request req = {.profile = ca_profile_named("rsa-1024"),
                           .names = contoso,
                           .n_names = 2,
                           .key_type = CA_KEY_RSA_2048};
  refused(f->ca, &req, CA_EPROFILE, "rsa-1024 fixes the key");
  req.key_type = CA_KEY_ECDSA_P256;
  refused(f->ca, &req, CA_EPROFILE, "rsa-1024 fixes the key");
  req.key_type = (enum ca_key_type) 7;
  req.profile = ca_profile_named("valid");
  refused(f->ca, &req, CA_EPROFILE, "unknown key type 7");
  ca_chain_free(chain);
}

static void test_key_type_rsa_2048_on_valid(void **state) {
  struct fixture *f = *state;
  struct ca_request req = {.profile = ca_profile_named("valid"),
                           .names = contoso,
                           .n_names = 2,
                           .key_type = CA_KEY_RSA_2048};
  struct ca_chain *chain = mint_req(f->ca, &req);
  assert_key(chain, EVP_PKEY_RSA, 2048);
  assert_int_equal(X509_get_signature_nid(ca_chain_leaf(chain)), NID_ecdsa_with_SHA256);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "autodiscover.contoso.com", NULL),
                   X509_V_OK);
  /* Cached like any other chain: the same key comes back. */
  struct ca_chain *again = mint_req(f->ca, &req);
  assert_true(same_der(ca_chain_leaf(chain), ca_chain_leaf(again)));
  ca_chain_free(again);
  /* ECDSA P-256 asked for explicitly is the default key: the same chain as a plain request. */
  struct ca_chain *plain = mint(f->ca, "valid", contoso, 2);
  req.key_type = CA_KEY_ECDSA_P256;
  struct ca_chain *ec = mint_req(f->ca, &req);
  assert_key(ec, EVP_PKEY_EC, 256);
  assert_true(same_der(ca_chain_leaf(plain), ca_chain_leaf(ec)));
  assert_false(same_der(ca_chain_leaf(plain), ca_chain_leaf(chain)));
  ca_chain_free(plain);
  ca_chain_free(ec);
  ca_chain_free(chain);
}

static void test_wildcard_covers_one_label_below_the_parent(void **state) {
  struct fixture *f = *state;
  struct ca_chain *chain = mint(f->ca, "wildcard", contoso, 2);
  const char *const wild[] = {"*.contoso.com"};
  assert_dns_sans(ca_chain_leaf(chain), wild, 1);
  assert_cn(ca_chain_leaf(chain), "*.contoso.com");
  assert_issued_by(ca_chain_leaf(chain), ca_cert(f->ca));
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "autodiscover.contoso.com", NULL),
                   X509_V_OK);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "mail.contoso.com", NULL), X509_V_OK);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "contoso.com", NULL),
                   X509_V_ERR_HOSTNAME_MISMATCH);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "a.autodiscover.contoso.com", NULL),
                   X509_V_ERR_HOSTNAME_MISMATCH);
  ca_chain_free(chain);

  /* A wildcard first name stays itself; the parent is lowercased. */
  const char *const already[] = {"*.Fabrikam.com"};
  chain = mint(f->ca, "wildcard", already, 1);
  const char *const fab[] = {"*.fabrikam.com"};
  assert_dns_sans(ca_chain_leaf(chain), fab, 1);
  ca_chain_free(chain);

  /* A two-label first name would need "*.com", which no client accepts. */
  const char *const apex[] = {"contoso.com", "autodiscover.contoso.com"};
  struct ca_request req = {.profile = ca_profile_named("wildcard"), .names = apex, .n_names = 2};
  refused(f->ca, &req, CA_ENOTPERMITTED, "three labels or more");
  const char *const one[] = {"a.test"};
  req.names = one;
  req.n_names = 1;
  refused(f->ca, &req, CA_ENOTPERMITTED, "three labels or more");
}

static void test_san_missing_host_names_the_host_in_the_cn_only(void **state) {
  struct fixture *f = *state;
  struct ca_chain *chain = mint(f->ca, "san-missing-host", contoso, 2);
  X509 *leaf = ca_chain_leaf(chain);
  assert_cn(leaf, "autodiscover.contoso.com");
  const char *const rest[] = {"contoso.com"};
  assert_dns_sans(leaf, rest, 1);
  assert_issued_by(leaf, ca_cert(f->ca));
  /* Verifiers ignore the CN once a SAN has DNS names (RFC 6125 6.4.4). */
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "autodiscover.contoso.com", NULL),
                   X509_V_ERR_HOSTNAME_MISMATCH);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "contoso.com", NULL), X509_V_OK);
  ca_chain_free(chain);

  /* One name: the SAN gets a sibling instead. */
  const char *const single[] = {"Autodiscover.Contoso.com"};
  chain = mint(f->ca, "san-missing-host", single, 1);
  assert_cn(ca_chain_leaf(chain), "autodiscover.contoso.com");
  const char *const sibling[] = {"other.contoso.com"};
  assert_dns_sans(ca_chain_leaf(chain), sibling, 1);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "autodiscover.contoso.com", NULL),
                   X509_V_ERR_HOSTNAME_MISMATCH);
  ca_chain_free(chain);
  /* ...or, below a bare top-level domain, a child. */
  const char *const apex[] = {"contoso.com"};
  chain = mint(f->ca, "san-missing-host", apex, 1);
  assert_dns_sans(ca_chain_leaf(chain), sibling, 1);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "contoso.com", NULL),
                   X509_V_ERR_HOSTNAME_MISMATCH);
  ca_chain_free(chain);
  /* Other names that would match the host (itself, a wildcard over it) are left out. */
  const char *const covering[] = {"mail.contoso.com", "MAIL.contoso.com", "*.contoso.com",
                                  "contoso.com"};
  chain = mint(f->ca, "san-missing-host", covering, 4);
  assert_dns_sans(ca_chain_leaf(chain), rest, 1);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "mail.contoso.com", NULL),
                   X509_V_ERR_HOSTNAME_MISMATCH);
  ca_chain_free(chain);
  /* A name too long for a CN cannot be put there. */
  const char *const long_name[] = {
      "a-rather-long-host-name-for-a-lab-test-that-goes-on.autodiscover.test"};
  struct ca_request req = {
      .profile = ca_profile_named("san-missing-host"), .names = long_name, .n_names = 1};
  refused(f->ca, &req, CA_ENOTPERMITTED, "at most 64 characters");
  const char *const wild_first[] = {"*.contoso.com", "contoso.com"};
  req.names = wild_first;
  req.n_names = 2;
  refused(f->ca, &req, CA_ENOTPERMITTED, "(no wildcard)");
}

static void test_ip_only_carries_the_address_alone(void **state) {
  struct fixture *f = *state;
  struct ca_request req = {
      .profile = ca_profile_named("ip-only"), .names = contoso, .n_names = 2, .ip = "127.77.0.9"};
  struct ca_chain *chain = mint_req(f->ca, &req);
  X509 *leaf = ca_chain_leaf(chain);
  int crit = 0;
  GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, &crit, NULL);
  assert_non_null(gens);
  assert_true(crit); /* the subject is empty (RFC 5280 4.2.1.6) */
  assert_int_equal(sk_GENERAL_NAME_num(gens), 1);
  const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, 0);
  assert_int_equal(gn->type, GEN_IPADD);
  static const uint8_t addr[4] = {127, 77, 0, 9};
  assert_int_equal(ASN1_STRING_length(gn->d.iPAddress), 4);
  assert_memory_equal(ASN1_STRING_get0_data(gn->d.iPAddress), addr, 4);
  GENERAL_NAMES_free(gens);
  assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(leaf)), 0);
  assert_issued_by(leaf, ca_cert(f->ca));
  assert_int_equal(X509_check_ip_asc(leaf, "127.77.0.9", 0), 1);
  assert_int_equal(X509_check_ip_asc(leaf, "127.77.0.10", 0), 0);
  assert_int_equal(X509_check_host(leaf, "autodiscover.contoso.com", 24, 0, NULL), 0);
  /* This BoringSSL implements no IP name constraints, so it refuses an IP SAN under any CA that
   * has them; OpenSSL applies them and accepts 127.77.0.9 (test_serve_tls.py). */
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, NULL, "127.77.0.9"),
                   X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE);
  ca_chain_free(chain);

  /* IPv6 loopback, spelled two ways: one address, one cached chain. */
  req.ip = "::1";
  chain = mint_req(f->ca, &req);
  gens = X509_get_ext_d2i(ca_chain_leaf(chain), NID_subject_alt_name, NULL, NULL);
  assert_int_equal(ASN1_STRING_length(sk_GENERAL_NAME_value(gens, 0)->d.iPAddress), 16);
  GENERAL_NAMES_free(gens);
  req.ip = "0:0:0:0:0:0:0:1";
  struct ca_chain *same = mint_req(f->ca, &req);
  assert_true(same_der(ca_chain_leaf(chain), ca_chain_leaf(same)));
  ca_chain_free(same);
  ca_chain_free(chain);
}

static void test_ip_only_refuses_what_the_ca_may_not_certify(void **state) {
  struct fixture *f = *state;
  struct ca_request req = {.profile = ca_profile_named("ip-only"), .names = contoso, .n_names = 2};
  refused(f->ca, &req, CA_ENOTPERMITTED, "needs the host's IP address");
  req.ip = "";
  refused(f->ca, &req, CA_ENOTPERMITTED, "needs the host's IP address");
  req.ip = "autodiscover.contoso.com";
  refused(f->ca, &req, CA_ENOTPERMITTED, "is not an IP address");
  req.ip = "10.0.0.1";
  refused(f->ca, &req, CA_ENOTPERMITTED, "loopback addresses only");
  req.ip = "::2";
  refused(f->ca, &req, CA_ENOTPERMITTED, "loopback addresses only");
  req.ip = "128.0.0.1";
  refused(f->ca, &req, CA_ENOTPERMITTED, "loopback addresses only");
  /* The names are checked for ip-only too. */
  const char *const outside[] = {"contoso.org"};
  req.names = outside;
  req.n_names = 1;
  req.ip = "127.0.0.1";
  refused(f->ca, &req, CA_ENOTPERMITTED, "outside the lab CA's name constraints");
  assert_int_equal(count_chain_files(f->dir), 0);
}

/* write_old_ca puts in dir a CA made the way autodisco did before ip-only: DNS subtrees
 * permitted, every IP address excluded. */
static void write_old_ca(const char *dir) {
  EVP_PKEY *key = ca__new_key();
  X509 *x = X509_new();
  X509_NAME *name = X509_NAME_new();
  assert_non_null(key);
  assert_true(X509_set_version(x, X509_VERSION_3));
  assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 7));
  assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -800 * DAY));
  assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3650 * DAY));
  assert_true(X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                         (const uint8_t *) "old lab CA", -1, -1, 0));
  assert_true(X509_set_subject_name(x, name));
  assert_true(X509_set_issuer_name(x, name));
  assert_true(X509_set_pubkey(x, key));
  const struct {
    int nid;
    const char *value;
  } exts[] = {
      {NID_basic_constraints, "critical,CA:TRUE"},
      {NID_key_usage, "critical,keyCertSign,cRLSign"},
      {NID_subject_key_identifier, "hash"},
      {NID_name_constraints, "critical,permitted;DNS:contoso.com,excluded;IP:0.0.0.0/0.0.0.0,"
                             "excluded;IP:::/::"},
  };
  for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
    X509V3_CTX ctx;
    memset(&ctx, 0, sizeof ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, exts[i].nid, exts[i].value);
    assert_non_null(ext);
    assert_true(X509_add_ext(x, ext, -1));
    X509_EXTENSION_free(ext);
  }
  assert_true(X509_sign(x, key, EVP_sha256()));
  FILE *out = fopen(sub(dir, "ca.pem"), "w");
  assert_non_null(out);
  assert_true(PEM_write_X509(out, x));
  fclose(out);
  out = fopen(sub(dir, "ca.key"), "w");
  assert_non_null(out);
  assert_true(PEM_write_PKCS8PrivateKey(out, key, NULL, NULL, 0, NULL, NULL));
  fclose(out);
  X509_NAME_free(name);
  X509_free(x);
  EVP_PKEY_free(key);
}

static void test_ip_only_needs_a_ca_made_for_it(void **state) {
  struct fixture *f = *state;
  ca_free(f->ca);
  f->ca = NULL;
  write_old_ca(f->dir);
  assert_int_equal(ca_open(&f->ca, f->dir, false), CA_OK);
  const char *const names[] = {"autodiscover.contoso.com"};
  struct ca_request req = {
      .profile = ca_profile_named("ip-only"), .names = names, .n_names = 1, .ip = "127.0.0.1"};
  refused(f->ca, &req, CA_ENOTPERMITTED, "`autodisco ca init`");
  /* Everything else still works with the old CA. */
  struct ca_chain *chain = mint(f->ca, "valid", names, 1);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, names[0], NULL), X509_V_OK);
  ca_chain_free(chain);
}

static void test_validity_overrides(void **state) {
  struct fixture *f = *state;
  /* 2030-01-01 .. 2031-01-01 */
  struct ca_request req = {.profile = ca_profile_named("valid"),
                           .names = contoso,
                           .n_names = 2,
                           .has_not_before = true,
                           .not_before = 1893456000,
                           .has_not_after = true,
                           .not_after = 1924992000};
  struct ca_chain *chain = mint_req(f->ca, &req);
  assert_int_equal(ca_chain_not_before(chain), 1893456000);
  assert_int_equal(ca_chain_not_after(chain), 1924992000);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "contoso.com", NULL),
                   X509_V_ERR_CERT_NOT_YET_VALID);
  /* Fixed times never go stale: the cached chain comes back. */
  struct ca_chain *again = mint_req(f->ca, &req);
  assert_true(same_der(ca_chain_leaf(chain), ca_chain_leaf(again)));
  ca_chain_free(again);

  /* One end only: the other is the profile's. */
  time_t now = test_now();
  struct ca_request end_only = {.profile = ca_profile_named("valid"),
                                .names = contoso,
                                .n_names = 2,
                                .has_not_after = true,
                                .not_after = (int64_t) now - 3 * DAY};
  struct ca_chain *ended = mint_req(f->ca, &end_only);
  assert_in_range(ca_chain_not_before(ended), now - DAY - 300, now - DAY + 300);
  assert_int_equal(ca_chain_not_after(ended), now - 3 * DAY);
  assert_int_equal(verify(ca_cert(f->ca), ended, NULL, "contoso.com", NULL),
                   X509_V_ERR_CERT_HAS_EXPIRED);
  struct ca_chain *ended_again = mint_req(f->ca, &end_only);
  assert_true(same_der(ca_chain_leaf(ended), ca_chain_leaf(ended_again)));
  ca_chain_free(ended_again);
  ca_chain_free(ended);
  struct ca_request start_only = {.profile = ca_profile_named("expired"),
                                  .names = contoso,
                                  .n_names = 2,
                                  .has_not_before = true,
                                  .not_before = (int64_t) now - 100 * DAY};
  struct ca_chain *expired = mint_req(f->ca, &start_only);
  assert_int_equal(ca_chain_not_before(expired), now - 100 * DAY);
  assert_in_range(ca_chain_not_after(expired), now - 30 * DAY - 300, now - 30 * DAY + 300);
  ca_chain_free(expired);

  /* Beyond what a certificate can say. */
  req.not_after = INT64_C(253402300800); /* year 10000 */
  refused(f->ca, &req, CA_EPROFILE, "1950 to 9999");
  req.not_after = 1924992000;
  req.not_before = INT64_C(-631152001); /* 1949 */
  refused(f->ca, &req, CA_EPROFILE, "1950 to 9999");
  /* ...but the first second of 1950 and the last of 9999 are fine. */
  req.not_before = INT64_C(-631152000);
  req.not_after = INT64_C(253402300799);
  again = mint_req(f->ca, &req);
  assert_int_equal(ca_chain_not_before(again), INT64_C(-631152000));
  assert_int_equal(ca_chain_not_after(again), INT64_C(253402300799));
  assert_int_equal(verify(ca_cert(f->ca), again, NULL, "contoso.com", NULL), X509_V_OK);
  ca_chain_free(again);
  ca_chain_free(chain);
}

static void test_cache_keys_distinguish_requests(void **state) {
  struct fixture *f = *state;
  const char *const other_cn[] = {"mail.contoso.com", "contoso.com"};
  struct ca_request reqs[] = {
      {.profile = ca_profile_named("valid"), .names = contoso, .n_names = 2},
      {.profile = ca_profile_named("valid"),
       .names = contoso,
       .n_names = 2,
       .key_type = CA_KEY_RSA_2048},
      {.profile = ca_profile_named("valid"),
       .names = contoso,
       .n_names = 2,
       .has_not_before = true,
       .not_before = 1893456000},
      {.profile = ca_profile_named("valid"),
       .names = contoso,
       .n_names = 2,
       .has_not_after = true,
       .not_after = 1893456000},
      {.profile = ca_profile_named("ip-only"), .names = contoso, .n_names = 2, .ip = "127.0.0.2"},
      {.profile = ca_profile_named("ip-only"), .names = contoso, .n_names = 2, .ip = "127.0.0.3"},
      /* The same SAN (contoso.com), another CN. */
      {.profile = ca_profile_named("san-missing-host"), .names = contoso, .n_names = 2},
      {.profile = ca_profile_named("san-missing-host"), .names = other_cn, .n_names = 2},
      {.profile = ca_profile_named("incomplete-chain"), .names = contoso, .n_names = 2},
      {.profile = ca_profile_named("sha1-signature"), .names = contoso, .n_names = 2},
  };
  size_t n = sizeof reqs / sizeof reqs[0];
  struct ca_chain *chains[sizeof reqs / sizeof reqs[0]];
  for (size_t i = 0; i < n; i++) {
    chains[i] = mint_req(f->ca, &reqs[i]);
  }
  assert_int_equal(count_chain_files(f->dir), n);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = i + 1; j < n; j++) {
      assert_false(same_der(ca_chain_leaf(chains[i]), ca_chain_leaf(chains[j])));
    }
    /* ...and each comes back from its own file. */
    struct ca_chain *again = mint_req(f->ca, &reqs[i]);
    assert_true(same_der(ca_chain_leaf(chains[i]), ca_chain_leaf(again)));
    ca_chain_free(again);
  }
  assert_int_equal(count_chain_files(f->dir), n);
  /* ip is ignored, and keyed, only by ip-only. */
  struct ca_request with_ip = reqs[0];
  with_ip.ip = "127.0.0.2";
  struct ca_chain *plain = mint_req(f->ca, &with_ip);
  assert_true(same_der(ca_chain_leaf(chains[0]), ca_chain_leaf(plain)));
  ca_chain_free(plain);
  for (size_t i = 0; i < n; i++) {
    ca_chain_free(chains[i]);
  }
}

static void test_mint_is_mint_request_without_overrides(void **state) {
  struct fixture *f = *state;
  struct ca_chain *a = NULL;
  assert_int_equal(ca_mint(f->ca, &a, ca_profile_named("valid"), contoso, 2), CA_OK);
  struct ca_request req = {.profile = ca_profile_named("valid"), .names = contoso, .n_names = 2};
  struct ca_chain *b = mint_req(f->ca, &req);
  assert_true(same_der(ca_chain_leaf(a), ca_chain_leaf(b)));
  ca_chain_free(a);
  ca_chain_free(b);
  struct ca_chain *none = NULL;
  struct ca_request no_profile = {.names = contoso, .n_names = 2};
  assert_int_equal(ca_mint_request(f->ca, &none, &no_profile), CA_EPROFILE);
  assert_null(none);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_incomplete_chain_leaves_out_the_intermediate, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_intermediate_is_a_constrained_ca, setup, teardown),
      cmocka_unit_test_setup_teardown(test_intermediate_of_another_ca_is_replaced, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sha1_signature_properties_boringssl_does_not_object,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_rsa_1024_properties_boringssl_does_not_object, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_key_type_rsa_2048_on_valid, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wildcard_covers_one_label_below_the_parent, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_san_missing_host_names_the_host_in_the_cn_only, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_ip_only_carries_the_address_alone, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ip_only_refuses_what_the_ca_may_not_certify, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_ip_only_needs_a_ca_made_for_it, setup, teardown),
      cmocka_unit_test_setup_teardown(test_validity_overrides, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cache_keys_distinguish_requests, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mint_is_mint_request_without_overrides, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
