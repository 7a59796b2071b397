/* tests/unit/test_certs_profile.c: tests certs/ca_profile.c — each profile mints the validity,
 * names and issuer it claims, a verifier trusting only the lab CA fails each bad profile the
 * way its badssl.com counterpart does, the name constraints hold, and the chain cache. */
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
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY (24L * 60 * 60)

static int setup(void **state) {
  *state = fixture_new("certs-profile", true);
  return 0;
}

static int teardown(void **state) {
  fixture_free(*state);
  return 0;
}

/* verify runs X509_verify_cert as a TLS client trusting only `trust` would, checking `host`
 * when not NULL; returns X509_V_OK or the verifier's error. */
static int verify(X509 *trust, const struct ca_chain *chain, X509 *leaf, const char *host) {
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  assert_non_null(store);
  assert_non_null(ctx);
  assert_true(X509_STORE_add_cert(store, trust));
  assert_true(X509_STORE_CTX_init(ctx, store, leaf != NULL ? leaf : ca_chain_leaf(chain),
                                  chain != NULL ? ca_chain_intermediates(chain) : NULL));
  assert_true(X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER));
  if (host != NULL) {
    assert_true(X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), host, strlen(host)));
  }
  int err = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  ERR_clear_error();
  return err;
}

/* assert_sans checks that the leaf's SAN is exactly `names` and its CN the first of them. */
static void assert_sans(X509 *leaf, const char *const *names, size_t n_names) {
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
  char cn[256];
  assert_true(
      X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof cn) > 0);
  assert_string_equal(cn, names[0]);
}

/* assert_leaf_extensions checks what every profile's leaf carries. */
static void assert_leaf_extensions(const struct ca_chain *chain) {
  X509 *leaf = ca_chain_leaf(chain);
  assert_true(X509_check_private_key(leaf, ca_chain_key(chain)));
  assert_int_equal(sk_X509_num(ca_chain_intermediates(chain)), 0);
  int crit = 0;
  BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(leaf, NID_basic_constraints, &crit, NULL);
  assert_non_null(bc);
  assert_true(crit);
  assert_false(bc->ca);
  BASIC_CONSTRAINTS_free(bc);
  ASN1_BIT_STRING *ku = X509_get_ext_d2i(leaf, NID_key_usage, &crit, NULL);
  bool self = X509_NAME_cmp(X509_get_subject_name(leaf), X509_get_issuer_name(leaf)) == 0;
  if (self) {
    assert_null(ku); /* so that verifiers recognise it as self-signed */
  } else {
    assert_non_null(ku);
    assert_true(crit);
    assert_true(ASN1_BIT_STRING_get_bit(ku, 0));  /* digitalSignature */
    assert_false(ASN1_BIT_STRING_get_bit(ku, 5)); /* no keyCertSign */
  }
  ASN1_BIT_STRING_free(ku);
  ERR_clear_error();
  EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(leaf, NID_ext_key_usage, NULL, NULL);
  assert_non_null(eku);
  assert_int_equal(sk_ASN1_OBJECT_num(eku), 1);
  assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)), NID_server_auth);
  EXTENDED_KEY_USAGE_free(eku);
  assert_non_null(X509_get0_authority_key_id(leaf));
  assert_int_equal(X509_get_version(leaf), X509_VERSION_3);
  EVP_PKEY *pub = X509_get_pubkey(leaf);
  assert_int_equal(EVP_PKEY_id(pub), EVP_PKEY_EC);
  assert_int_equal(EVP_PKEY_bits(pub), 256);
  EVP_PKEY_free(pub);
}

static void assert_near(time_t actual, time_t expected) {
  assert_in_range(actual, expected - 300, expected + 300);
}

static void assert_times(const struct ca_chain *chain, long nb_offset, long na_offset) {
  time_t now = test_now();
  assert_near(ca_chain_not_before(chain), now + nb_offset);
  assert_near(ca_chain_not_after(chain), now + na_offset);
  time_t nb = 0;
  time_t na = 0;
  assert_true(ca__time_of(X509_get0_notBefore(ca_chain_leaf(chain)), &nb));
  assert_true(ca__time_of(X509_get0_notAfter(ca_chain_leaf(chain)), &na));
  assert_int_equal(nb, ca_chain_not_before(chain));
  assert_int_equal(na, ca_chain_not_after(chain));
}

static EVP_PKEY *read_key(const char *path) {
  FILE *in = fopen(path, "r");
  assert_non_null(in);
  EVP_PKEY *key = PEM_read_PrivateKey(in, NULL, NULL, NULL);
  fclose(in);
  assert_non_null(key);
  return key;
}

/* only_chain_file returns the path of the single file in the chains directory (caller frees),
 * or NULL when there is none; fails when there are several. */
static char *only_chain_file(const char *dir) {
  char chains[4096];
  assert_true(buf_fmt(chains, sizeof chains, "%s/chains", dir));
  DIR *d = opendir(chains);
  assert_non_null(d);
  char *found = NULL;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') {
      continue;
    }
    assert_null(found);
    found = str_dup(sub(chains, e->d_name));
  }
  closedir(d);
  return found;
}

static void write_chain(const char *path, X509 *leaf, EVP_PKEY *key) {
  FILE *out = fopen(path, "w");
  assert_non_null(out);
  assert_true(PEM_write_X509(out, leaf));
  assert_true(PEM_write_PKCS8PrivateKey(out, key, NULL, NULL, 0, NULL, NULL));
  fclose(out);
}

static const char *const contoso[] = {"autodiscover.contoso.com", "contoso.com"};

static void test_profile_table(void **state) {
  const char *expect[] = {"valid",       "expired",        "not-yet-valid",    "wrong-name",
                          "self-signed", "untrusted-root", "incomplete-chain", "sha1-signature",
                          "rsa-1024",    "wildcard",       "san-missing-host", "ip-only"};
  const char *badssl[] = {"badssl.com",
                          "expired.badssl.com",
                          NULL,
                          "wrong.host.badssl.com",
                          "self-signed.badssl.com",
                          "untrusted-root.badssl.com",
                          "incomplete-chain.badssl.com",
                          "sha1-intermediate.badssl.com",
                          NULL,
                          "*.badssl.com",
                          NULL,
                          NULL};
  for (size_t i = 0; i < 12; i++) {
    const struct ca_profile *p = ca_profile_at(i);
    assert_non_null(p);
    assert_string_equal(ca_profile_name(p), expect[i]);
    assert_ptr_equal(ca_profile_named(expect[i]), p);
    if (badssl[i] != NULL) {
      assert_non_null(strstr(ca_profile_badssl(p), badssl[i]));
    } else {
      assert_non_null(strstr(ca_profile_badssl(p), "none"));
    }
    /* one line for `autodisco ca profiles` */
    assert_true(strlen(ca_profile_summary(p)) > 10);
    assert_null(strchr(ca_profile_summary(p), '\n'));
  }
  assert_string_equal(ca_profile_badssl(ca_profile_named("valid")), "badssl.com");
  assert_null(ca_profile_at(12));
  assert_null(ca_profile_named("Valid"));
  assert_null(ca_profile_named("revoked"));
  assert_null(ca_profile_named("ip_only"));
  assert_null(ca_profile_named(NULL));
}

/* the key types a scenario can name, and the one profile whose key is not negotiable */
static void test_key_type_table(void **state) {
  enum ca_key_type k = CA_KEY_DEFAULT;
  assert_true(ca_key_type_named("ecdsa-p256", &k));
  assert_int_equal(k, CA_KEY_ECDSA_P256);
  assert_true(ca_key_type_named("rsa-2048", &k));
  assert_int_equal(k, CA_KEY_RSA_2048);
  k = CA_KEY_RSA_2048;
  assert_false(ca_key_type_named("default", &k));
  assert_false(ca_key_type_named("", &k));
  assert_false(ca_key_type_named("RSA-2048", &k));
  assert_false(ca_key_type_named("rsa-1024", &k));
  assert_false(ca_key_type_named(NULL, &k));
  assert_int_equal(k, CA_KEY_RSA_2048); /* untouched */
  assert_null(ca_key_type_name(CA_KEY_DEFAULT));
  assert_string_equal(ca_key_type_name(CA_KEY_ECDSA_P256), "ecdsa-p256");
  assert_string_equal(ca_key_type_name(CA_KEY_RSA_2048), "rsa-2048");
  assert_null(ca_key_type_name((enum ca_key_type) 3));
  for (size_t i = 0; ca_profile_at(i) != NULL; i++) {
    const struct ca_profile *p = ca_profile_at(i);
    assert_int_equal(ca_profile_fixes_key(p), strcmp(ca_profile_name(p), "rsa-1024") == 0);
  }
}

static void test_valid(void **state) {
  struct fixture *f = *state;
  struct ca_chain *chain = mint(f->ca, "valid", contoso, 2);
  assert_leaf_extensions(chain);
  assert_sans(ca_chain_leaf(chain), contoso, 2);
  assert_times(chain, -DAY, 397 * DAY);
  assert_issued_by(ca_chain_leaf(chain), ca_cert(f->ca));
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "contoso.com"), X509_V_OK);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "autodiscover.contoso.com"), X509_V_OK);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "www.contoso.com"),
                   X509_V_ERR_HOSTNAME_MISMATCH);
  ca_chain_free(chain);
}

static void test_expired(void **state) {
  struct fixture *f = *state;
  struct ca_chain *chain = mint(f->ca, "expired", contoso, 2);
  assert_leaf_extensions(chain);
  assert_sans(ca_chain_leaf(chain), contoso, 2);
  assert_times(chain, -730 * DAY, -30 * DAY);
  assert_true(ca_chain_not_after(chain) < test_now());
  assert_issued_by(ca_chain_leaf(chain), ca_cert(f->ca));
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "contoso.com"), X509_V_ERR_CERT_HAS_EXPIRED);
  ca_chain_free(chain);
}

static void test_not_yet_valid(void **state) {
  struct fixture *f = *state;
  struct ca_chain *chain = mint(f->ca, "not-yet-valid", contoso, 2);
  assert_leaf_extensions(chain);
  assert_sans(ca_chain_leaf(chain), contoso, 2);
  assert_times(chain, 30 * DAY, 365 * DAY);
  assert_issued_by(ca_chain_leaf(chain), ca_cert(f->ca));
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "contoso.com"),
                   X509_V_ERR_CERT_NOT_YET_VALID);
  ca_chain_free(chain);
}

static void test_wrong_name(void **state) {
  struct fixture *f = *state;
  struct ca_chain *chain = mint(f->ca, "wrong-name", contoso, 2);
  assert_leaf_extensions(chain);
  const char *const wrong[] = {"wrong.host.invalid"};
  assert_sans(ca_chain_leaf(chain), wrong, 1);
  assert_times(chain, -DAY, 397 * DAY);
  assert_issued_by(ca_chain_leaf(chain), ca_cert(f->ca));
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "autodiscover.contoso.com"),
                   X509_V_ERR_HOSTNAME_MISMATCH);
  /* Nothing but the name is wrong. */
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, NULL), X509_V_OK);
  ca_chain_free(chain);
}

static void test_self_signed(void **state) {
  struct fixture *f = *state;
  struct ca_chain *chain = mint(f->ca, "self-signed", contoso, 2);
  assert_leaf_extensions(chain);
  assert_sans(ca_chain_leaf(chain), contoso, 2);
  assert_times(chain, -DAY, 397 * DAY);
  assert_issued_by(ca_chain_leaf(chain), ca_chain_leaf(chain));
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "contoso.com"),
                   X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  ca_chain_free(chain);
}

static void test_untrusted_root(void **state) {
  struct fixture *f = *state;
  struct ca_chain *chain = mint(f->ca, "untrusted-root", contoso, 2);
  assert_leaf_extensions(chain);
  assert_sans(ca_chain_leaf(chain), contoso, 2);
  assert_times(chain, -DAY, 397 * DAY);
  X509 *root = read_cert(sub(f->dir, "untrusted-root.pem"));
  assert_issued_by(ca_chain_leaf(chain), root);
  char cn[256];
  assert_true(X509_NAME_get_text_by_NID(X509_get_issuer_name(ca_chain_leaf(chain)), NID_commonName,
                                        cn, sizeof cn) > 0);
  assert_memory_equal(cn, "autodisco untrusted root (", 26);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "contoso.com"),
                   X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  /* Whoever did trust that root would accept the chain: only the trust is missing. */
  assert_int_equal(verify(root, chain, NULL, "contoso.com"), X509_V_OK);
  X509_free(root);
  ca_chain_free(chain);
}

static void test_names_lowercased_and_wildcards(void **state) {
  struct fixture *f = *state;
  const char *const mixed[] = {"AutoDiscover.Contoso.COM", "*.Fabrikam.com"};
  struct ca_chain *chain = mint(f->ca, "valid", mixed, 2);
  const char *const lower[] = {"autodiscover.contoso.com", "*.fabrikam.com"};
  assert_sans(ca_chain_leaf(chain), lower, 2);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "mail.fabrikam.com"), X509_V_OK);
  ca_chain_free(chain);
}

static void test_long_first_name_goes_to_san_only(void **state) {
  struct fixture *f = *state;
  /* 70 characters: more than a CN may hold (RFC 5280 ub-common-name 64). */
  const char *const names[] = {
      "a-rather-long-host-name-for-a-lab-test-that-goes-on.autodiscover.test"};
  assert_true(strlen(names[0]) > 64);
  struct ca_chain *chain = mint(f->ca, "valid", names, 1);
  X509 *leaf = ca_chain_leaf(chain);
  assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(leaf)), 0);
  int crit = 0;
  GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, &crit, NULL);
  assert_non_null(gens);
  assert_true(crit);
  GENERAL_NAMES_free(gens);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, names[0]), X509_V_OK);
  ca_chain_free(chain);
}

static void test_name_count_limits(void **state) {
  struct fixture *f = *state;
  const char *many[101];
  char storage[101][32];
  for (size_t i = 0; i < 101; i++) {
    assert_true(buf_fmt(storage[i], sizeof storage[i], "h%zu.example", i));
    many[i] = storage[i];
  }
  struct ca_chain *chain = NULL;
  assert_int_equal(ca_mint(f->ca, &chain, ca_profile_named("valid"), many, 101), CA_ENOTPERMITTED);
  assert_non_null(strstr(ca_detail(f->ca), "1 to 100"));
  assert_int_equal(ca_mint(f->ca, &chain, ca_profile_named("valid"), NULL, 2), CA_ENOTPERMITTED);
  chain = mint(f->ca, "valid", many, 100);
  assert_sans(ca_chain_leaf(chain), many, 100);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "h99.example"), X509_V_OK);
  ca_chain_free(chain);
}

static void test_refuses_names_outside_constraints(void **state) {
  struct fixture *f = *state;
  for (size_t i = 0; ca_profile_at(i) != NULL; i++) {
    const char *const outside[] = {"autodiscover.contoso.com", "contoso.org"};
    struct ca_chain *chain = NULL;
    assert_int_equal(ca_mint(f->ca, &chain, ca_profile_at(i), outside, 2), CA_ENOTPERMITTED);
    assert_null(chain);
    assert_non_null(
        strstr(ca_detail(f->ca), "contoso.org is outside the lab CA's name constraints"));
    assert_non_null(strstr(ca_detail(f->ca), "`autodisco ca init --permit contoso.org`"));
  }
  struct ca_chain *chain = NULL;
  const char *const wild[] = {"*.evil.org"};
  assert_int_equal(ca_mint(f->ca, &chain, ca_profile_named("valid"), wild, 1), CA_ENOTPERMITTED);
  assert_non_null(strstr(ca_detail(f->ca), "--permit evil.org`"));
  const char *const sneaky[] = {"evilcontoso.com"};
  assert_int_equal(ca_mint(f->ca, &chain, ca_profile_named("valid"), sneaky, 1), CA_ENOTPERMITTED);
  const char *const bad[] = {"bad name.contoso.com"};
  assert_int_equal(ca_mint(f->ca, &chain, ca_profile_named("valid"), bad, 1), CA_ENOTPERMITTED);
  assert_non_null(strstr(ca_detail(f->ca), "not a DNS name"));
  const char *const empty[] = {""};
  assert_int_equal(ca_mint(f->ca, &chain, ca_profile_named("valid"), empty, 1), CA_ENOTPERMITTED);
  const char *const null_name[] = {NULL};
  assert_int_equal(ca_mint(f->ca, &chain, ca_profile_named("valid"), null_name, 1),
                   CA_ENOTPERMITTED);
  assert_int_equal(ca_mint(f->ca, &chain, ca_profile_named("valid"), contoso, 0), CA_ENOTPERMITTED);
  assert_int_equal(ca_mint(f->ca, &chain, ca_profile_named("revoked"), contoso, 2), CA_EPROFILE);
  assert_null(chain);
  char *file = only_chain_file(f->dir);
  assert_null(file); /* nothing was minted */
}

/* forge builds, outside ca_mint, a leaf for one SAN entry signed with the lab CA's key. */
static X509 *forge(struct fixture *f, const char *san) {
  EVP_PKEY *ca_key = read_key(sub(f->dir, "ca.key"));
  EVP_PKEY *key = ca__new_key();
  X509 *x = X509_new();
  assert_non_null(key);
  assert_true(X509_set_version(x, X509_VERSION_3));
  assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 42));
  assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -DAY));
  assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 30 * DAY));
  assert_true(X509_set_issuer_name(x, X509_get_subject_name(ca_cert(f->ca))));
  assert_true(X509_set_pubkey(x, key));
  X509V3_CTX ctx;
  memset(&ctx, 0, sizeof ctx);
  X509V3_set_ctx(&ctx, ca_cert(f->ca), x, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, NID_subject_alt_name, san);
  assert_non_null(ext);
  assert_true(X509_add_ext(x, ext, -1));
  X509_EXTENSION_free(ext);
  assert_true(X509_sign(x, ca_key, EVP_sha256()));
  EVP_PKEY_free(key);
  EVP_PKEY_free(ca_key);
  return x;
}

static void test_forged_leaf_violates_constraints(void **state) {
  struct fixture *f = *state;
  /* Control: the same construction for a permitted name verifies. */
  X509 *ok = forge(f, "DNS:lab.contoso.com");
  assert_int_equal(verify(ca_cert(f->ca), NULL, ok, "lab.contoso.com"), X509_V_OK);
  X509 *evil = forge(f, "DNS:evil.org");
  assert_int_equal(verify(ca_cert(f->ca), NULL, evil, "evil.org"), X509_V_ERR_PERMITTED_VIOLATION);
  assert_int_equal(verify(ca_cert(f->ca), NULL, evil, NULL), X509_V_ERR_PERMITTED_VIOLATION);
  /* The CA permits no IP address but loopback ones (127.0.0.0/8, ::1): OpenSSL refuses any
   * other (PERMITTED_VIOLATION); this BoringSSL refuses every IP name under an IP constraint
   * (UNSUPPORTED_CONSTRAINT_TYPE), loopback included (see test_certs_request.c). */
  X509 *ip = forge(f, "IP:10.0.0.1");
  int err = verify(ca_cert(f->ca), NULL, ip, NULL);
  assert_true(err == X509_V_ERR_PERMITTED_VIOLATION ||
              err == X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE);
  X509 *ip6 = forge(f, "IP:2001:db8::1");
  err = verify(ca_cert(f->ca), NULL, ip6, NULL);
  assert_true(err == X509_V_ERR_PERMITTED_VIOLATION ||
              err == X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE);
  X509_free(ok);
  X509_free(evil);
  X509_free(ip);
  X509_free(ip6);
}

static void test_extra_permit_can_be_minted(void **state) {
  struct fixture *f = *state;
  ca_free(f->ca);
  f->ca = NULL;
  const char *permit[] = {"contoso.org"};
  assert_int_equal(ca_create(&f->ca, f->dir, permit, 1), CA_OK);
  const char *const names[] = {"autodiscover.contoso.org"};
  struct ca_chain *chain = mint(f->ca, "valid", names, 1);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, names[0]), X509_V_OK);
  ca_chain_free(chain);
}

static void test_cache_returns_same_chain(void **state) {
  struct fixture *f = *state;
  for (size_t i = 0; ca_profile_at(i) != NULL; i++) {
    const char *name = ca_profile_name(ca_profile_at(i));
    struct ca_request req = {
        .profile = ca_profile_at(i), .names = contoso, .n_names = 2, .ip = "127.77.0.9"};
    struct ca_chain *a = NULL;
    struct ca_chain *b = NULL;
    if (ca_mint_request(f->ca, &a, &req) != CA_OK) {
      fail_msg("%s: %s", name, ca_detail(f->ca));
    }
    assert_int_equal(ca_mint_request(f->ca, &b, &req), CA_OK);
    assert_true(same_der(ca_chain_leaf(a), ca_chain_leaf(b)));
    assert_int_equal(EVP_PKEY_cmp(ca_chain_key(a), ca_chain_key(b)), 1);
    if (strcmp(name, "incomplete-chain") == 0) {
      assert_true(same_der(ca_chain_withheld(a), ca_chain_withheld(b)));
    } else {
      assert_null(ca_chain_withheld(a));
    }
    ca_chain_free(a);
    ca_chain_free(b);
  }
  struct ca_chain *first = mint(f->ca, "valid", contoso, 2);
  /* Other names or another profile are other chains. */
  const char *const swapped[] = {"contoso.com", "autodiscover.contoso.com"};
  struct ca_chain *other = mint(f->ca, "valid", swapped, 2);
  assert_false(same_der(ca_chain_leaf(first), ca_chain_leaf(other)));
  struct ca_chain *expired = mint(f->ca, "expired", contoso, 2);
  assert_false(same_der(ca_chain_leaf(first), ca_chain_leaf(expired)));

  /* Every cached file is private. */
  DIR *d = opendir(sub(f->dir, "chains"));
  assert_non_null(d);
  struct dirent *e;
  size_t n_files = 0;
  char chains[4096];
  assert_true(buf_fmt(chains, sizeof chains, "%s/chains", f->dir));
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] != '.') {
      struct stat sb;
      assert_int_equal(stat(sub(chains, e->d_name), &sb), 0);
      assert_int_equal(sb.st_mode & 0777, 0600);
      n_files++;
    }
  }
  closedir(d);
  assert_int_equal(n_files, 13); /* twelve profiles plus the swapped names */

  /* Another process opening the same CA gets the same chain. */
  ca_free(f->ca);
  f->ca = NULL;
  assert_int_equal(ca_open(&f->ca, f->dir, false), CA_OK);
  struct ca_chain *again = mint(f->ca, "valid", contoso, 2);
  assert_true(same_der(ca_chain_leaf(first), ca_chain_leaf(again)));
  ca_chain_free(first);
  ca_chain_free(other);
  ca_chain_free(expired);
  ca_chain_free(again);
}

static void test_recreated_ca_mints_new_chains(void **state) {
  struct fixture *f = *state;
  struct ca_chain *before = mint(f->ca, "valid", contoso, 2);
  X509 *old_ca = X509_dup(ca_cert(f->ca));
  ca_free(f->ca);
  f->ca = NULL;
  assert_int_equal(ca_create(&f->ca, f->dir, NULL, 0), CA_OK);
  char *file = only_chain_file(f->dir);
  assert_null(file); /* the cache was cleared */
  struct ca_chain *after = mint(f->ca, "valid", contoso, 2);
  assert_false(same_der(ca_chain_leaf(before), ca_chain_leaf(after)));
  assert_int_equal(verify(ca_cert(f->ca), after, NULL, "contoso.com"), X509_V_OK);
  /* The old chain means nothing to the new CA, and the other way round. */
  assert_int_equal(verify(ca_cert(f->ca), before, NULL, "contoso.com"),
                   X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  assert_int_equal(verify(old_ca, after, NULL, "contoso.com"),
                   X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  X509_free(old_ca);
  ca_chain_free(before);
  ca_chain_free(after);
}

/* replace_cached mints `profile`, then swaps its cached file for a lab-signed leaf valid
 * [now + nb, now + na]; returns that leaf. */
static X509 *replace_cached(struct fixture *f, const char *profile, long nb, long na) {
  struct ca_chain *chain = mint(f->ca, profile, contoso, 2);
  ca_chain_free(chain);
  char *file = only_chain_file(f->dir);
  assert_non_null(file);
  EVP_PKEY *ca_key = read_key(sub(f->dir, "ca.key"));
  EVP_PKEY *key = ca__new_key();
  time_t now = test_now();
  X509 *leaf = ca__make_leaf(key, contoso, 2, now + nb, now + na, ca_cert(f->ca), ca_key);
  assert_non_null(leaf);
  write_chain(file, leaf, key);
  EVP_PKEY_free(ca_key);
  EVP_PKEY_free(key);
  free(file);
  return leaf;
}

static void test_cache_keeps_valid_chain_with_time_left(void **state) {
  struct fixture *f = *state;
  X509 *planted = replace_cached(f, "valid", -DAY, 60 * DAY);
  struct ca_chain *chain = mint(f->ca, "valid", contoso, 2);
  assert_true(same_der(planted, ca_chain_leaf(chain)));
  assert_near(ca_chain_not_after(chain), test_now() + 60 * DAY);
  X509_free(planted);
  ca_chain_free(chain);
}

static void test_cache_remints_valid_chain_about_to_expire(void **state) {
  struct fixture *f = *state;
  X509 *planted = replace_cached(f, "valid", -DAY, 10 * DAY);
  struct ca_chain *chain = mint(f->ca, "valid", contoso, 2);
  assert_false(same_der(planted, ca_chain_leaf(chain)));
  assert_times(chain, -DAY, 397 * DAY);
  /* ... and the fresh one replaced it on disk. */
  struct ca_chain *again = mint(f->ca, "valid", contoso, 2);
  assert_true(same_der(ca_chain_leaf(chain), ca_chain_leaf(again)));
  X509_free(planted);
  ca_chain_free(chain);
  ca_chain_free(again);
}

static void test_cache_remints_future_chain_about_to_start(void **state) {
  struct fixture *f = *state;
  X509 *planted = replace_cached(f, "not-yet-valid", 3600, 365 * DAY);
  struct ca_chain *chain = mint(f->ca, "not-yet-valid", contoso, 2);
  assert_false(same_der(planted, ca_chain_leaf(chain)));
  assert_times(chain, 30 * DAY, 365 * DAY);
  X509_free(planted);
  ca_chain_free(chain);
}

static void test_cache_remints_expired_that_is_not(void **state) {
  struct fixture *f = *state;
  X509 *planted = replace_cached(f, "expired", -DAY, 30 * DAY);
  struct ca_chain *chain = mint(f->ca, "expired", contoso, 2);
  assert_false(same_der(planted, ca_chain_leaf(chain)));
  assert_true(ca_chain_not_after(chain) < test_now());
  X509_free(planted);
  ca_chain_free(chain);
}

static void test_cache_ignores_foreign_and_corrupt_files(void **state) {
  struct fixture *f = *state;
  /* A valid-looking leaf the lab CA did not sign. */
  struct ca_chain *first = mint(f->ca, "valid", contoso, 2);
  char *file = only_chain_file(f->dir);
  assert_non_null(file);
  EVP_PKEY *key = ca__new_key();
  time_t now = test_now();
  X509 *foreign = ca__make_leaf(key, contoso, 2, now - DAY, now + 100 * DAY, NULL, NULL);
  write_chain(file, foreign, key);
  struct ca_chain *chain = mint(f->ca, "valid", contoso, 2);
  assert_false(same_der(foreign, ca_chain_leaf(chain)));
  assert_issued_by(ca_chain_leaf(chain), ca_cert(f->ca));
  ca_chain_free(chain);

  /* Garbage, truncation, a key that does not match, random bytes. */
  const char *junk[] = {
      "not pem at all\n",
      "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
      "-----BEGIN PRIVATE " /* split: no key-looking line in the repository */
      "KEY-----\n",
      "",
  };
  for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
    FILE *out = fopen(file, "w");
    assert_non_null(out);
    fputs(junk[i], out);
    fclose(out);
    chain = mint(f->ca, "valid", contoso, 2);
    assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "contoso.com"), X509_V_OK);
    ca_chain_free(chain);
  }
  FILE *out = fopen(file, "w");
  assert_non_null(out);
  uint8_t noise[3000];
  RAND_bytes(noise, sizeof noise);
  fwrite(noise, 1, sizeof noise, out);
  fclose(out);
  chain = mint(f->ca, "valid", contoso, 2);
  assert_int_equal(verify(ca_cert(f->ca), chain, NULL, "contoso.com"), X509_V_OK);
  ca_chain_free(chain);

  /* The leaf of one chain with the key of another. */
  EVP_PKEY *other = ca__new_key();
  write_chain(file, ca_chain_leaf(first), other);
  chain = mint(f->ca, "valid", contoso, 2);
  assert_false(same_der(ca_chain_leaf(first), ca_chain_leaf(chain)));
  assert_true(X509_check_private_key(ca_chain_leaf(chain), ca_chain_key(chain)));
  ca_chain_free(chain);
  assert_int_equal(ERR_peek_error(), 0);

  EVP_PKEY_free(other);
  EVP_PKEY_free(key);
  X509_free(foreign);
  ca_chain_free(first);
  free(file);
}

static void test_untrusted_root_survives_reopen(void **state) {
  struct fixture *f = *state;
  X509 *root = read_cert(sub(f->dir, "untrusted-root.pem"));
  ca_free(f->ca);
  f->ca = NULL;
  assert_int_equal(ca_open(&f->ca, f->dir, false), CA_OK);
  struct ca_chain *chain = mint(f->ca, "untrusted-root", contoso, 2);
  assert_issued_by(ca_chain_leaf(chain), root);
  ca_chain_free(chain);
  X509_free(root);

  /* Removed by hand, it is made again on first use. */
  assert_int_equal(unlink(sub(f->dir, "untrusted-root.pem")), 0);
  assert_int_equal(unlink(sub(f->dir, "untrusted-root.key")), 0);
  ca_free(f->ca);
  f->ca = NULL;
  assert_int_equal(ca_open(&f->ca, f->dir, false), CA_OK);
  chain = mint(f->ca, "untrusted-root", contoso, 2);
  root = read_cert(sub(f->dir, "untrusted-root.pem"));
  assert_issued_by(ca_chain_leaf(chain), root);
  ca_chain_free(chain);
  X509_free(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_profile_table),
      cmocka_unit_test(test_key_type_table),
      cmocka_unit_test_setup_teardown(test_valid, setup, teardown),
      cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_yet_valid, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wrong_name, setup, teardown),
      cmocka_unit_test_setup_teardown(test_self_signed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_untrusted_root, setup, teardown),
      cmocka_unit_test_setup_teardown(test_names_lowercased_and_wildcards, setup, teardown),
      cmocka_unit_test_setup_teardown(test_long_first_name_goes_to_san_only, setup, teardown),
      cmocka_unit_test_setup_teardown(test_name_count_limits, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refuses_names_outside_constraints, setup, teardown),
      cmocka_unit_test_setup_teardown(test_forged_leaf_violates_constraints, setup, teardown),
      cmocka_unit_test_setup_teardown(test_extra_permit_can_be_minted, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cache_returns_same_chain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_recreated_ca_mints_new_chains, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cache_keeps_valid_chain_with_time_left, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cache_remints_valid_chain_about_to_expire, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_cache_remints_future_chain_about_to_start, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_cache_remints_expired_that_is_not, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cache_ignores_foreign_and_corrupt_files, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_untrusted_root_survives_reopen, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
