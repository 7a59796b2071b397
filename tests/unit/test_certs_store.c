/* tests/unit/test_certs_store.c: tests certs/ca_store.c — where the lab CA lives, how it is
 * created (permissions, extensions, name constraints), loaded again, exported and described. */
#include "certs/ca.h"
#include "common/buf.h"
#include "tests/unit/test_certs_fixture.h"
#include "tests/unit/testutil.h"

#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int setup(void **state) {
  *state = fixture_new("certs-store", false);
  return 0;
}

static int teardown(void **state) {
  fixture_free(*state);
  return 0;
}

static mode_t mode_of(const char *path) {
  struct stat sb;
  assert_int_equal(stat(path, &sb), 0);
  return sb.st_mode & 07777;
}

static void der_of(X509 *x, uint8_t **out, int *out_len) {
  *out = NULL;
  *out_len = i2d_X509(x, out);
  assert_true(*out_len > 0);
}

static void assert_same_cert(X509 *a, X509 *b, bool same) {
  uint8_t *da = NULL;
  uint8_t *db = NULL;
  int la = 0;
  int lb = 0;
  der_of(a, &da, &la);
  der_of(b, &db, &lb);
  bool equal = la == lb && memcmp(da, db, (size_t) la) == 0;
  OPENSSL_free(da);
  OPENSSL_free(db);
  assert_true(equal == same);
}

static void test_create_makes_private_dir_and_key(void **state) {
  struct fixture *f = *state;
  char *dir = str_dup(sub(f->dir, "nested/ca"));
  assert_int_equal(ca_open(&f->ca, dir, true), CA_OK);
  assert_string_equal(ca_dir(f->ca), dir);
  assert_int_equal(mode_of(dir), 0700);
  assert_int_equal(mode_of(sub(dir, "ca.key")), 0600);
  assert_int_equal(mode_of(sub(dir, "untrusted-root.key")), 0600);
  assert_string_equal(ca_cert_path(f->ca), sub(dir, "ca.pem"));
  assert_int_equal(mode_of(ca_cert_path(f->ca)), 0644);
  free(dir);
}

static void test_create_without_permission_is_enoca(void **state) {
  struct fixture *f = *state;
  assert_int_equal(ca_open(&f->ca, f->dir, false), CA_ENOCA);
  assert_non_null(f->ca);
  assert_non_null(strstr(ca_detail(f->ca), "autodisco ca init"));
  assert_int_equal(access(sub(f->dir, "ca.pem"), F_OK), -1);
}

static void test_ca_extensions(void **state) {
  struct fixture *f = *state;
  assert_int_equal(ca_open(&f->ca, f->dir, true), CA_OK);
  X509 *x = ca_cert(f->ca);
  assert_int_equal(X509_get_version(x), X509_VERSION_3);

  int crit = 0;
  BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
  assert_non_null(bc);
  assert_true(crit);
  assert_true(bc->ca);
  BASIC_CONSTRAINTS_free(bc);

  ASN1_BIT_STRING *ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
  assert_non_null(ku);
  assert_true(crit);
  assert_true(ASN1_BIT_STRING_get_bit(ku, 5)); /* keyCertSign */
  assert_true(ASN1_BIT_STRING_get_bit(ku, 6)); /* cRLSign */
  assert_false(ASN1_BIT_STRING_get_bit(ku, 0));
  ASN1_BIT_STRING_free(ku);

  assert_non_null(X509_get0_subject_key_id(x));

  /* The subject names the lab CA and its owner; the issuer is the subject (self-signed). */
  char cn[256];
  assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn) >
              0);
  assert_memory_equal(cn, "autodisco lab CA (", 18);
  assert_non_null(strchr(cn, '@'));
  assert_int_equal(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);

  /* About ten years ahead. */
  int days = 0;
  int secs = 0;
  assert_true(ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)));
  assert_in_range(days, 3640, 3660);
  EVP_PKEY *pub = X509_get_pubkey(x);
  assert_int_equal(EVP_PKEY_id(pub), EVP_PKEY_EC);
  assert_int_equal(EVP_PKEY_bits(pub), 256);
  EVP_PKEY_free(pub);
}

static bool nc_has_dns(const NAME_CONSTRAINTS *nc, const char *name) {
  for (size_t i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); i++) {
    const GENERAL_SUBTREE *st = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i);
    if (st->base->type == GEN_DNS &&
        ASN1_STRING_length(st->base->d.dNSName) == (int) strlen(name) &&
        memcmp(ASN1_STRING_get0_data(st->base->d.dNSName), name, strlen(name)) == 0) {
      return true;
    }
  }
  return false;
}

static void test_ca_name_constraints(void **state) {
  struct fixture *f = *state;
  assert_int_equal(ca_open(&f->ca, f->dir, true), CA_OK);
  int crit = 0;
  NAME_CONSTRAINTS *nc = X509_get_ext_d2i(ca_cert(f->ca), NID_name_constraints, &crit, NULL);
  assert_non_null(nc);
  assert_true(crit);
  const char *expect[] = {
      "test",          "example",         "invalid",           "contoso.com",
      "fabrikam.com",  "hoster.net",      "hostingco.example", "outlook.com",
      "office365.com", "onmicrosoft.com", "adatum.com",        "woodgrovebank.com"};
  for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
    assert_true(nc_has_dns(nc, expect[i]));
  }
  assert_false(nc_has_dns(nc, "com"));
  /* Twelve DNS subtrees, then the only addresses permitted: 127.0.0.0/8 and ::1/128 (for
   * ip-only); every other address lies outside the permitted IP subtrees. */
  assert_int_equal(sk_GENERAL_SUBTREE_num(nc->permittedSubtrees), 14);
  static const uint8_t lo4[8] = {127, 0, 0, 0, 255, 0, 0, 0};
  uint8_t lo6[32] = {[15] = 1};
  memset(lo6 + 16, 0xff, 16);
  for (size_t i = 12; i < 14; i++) {
    const GENERAL_SUBTREE *st = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i);
    assert_int_equal(st->base->type, GEN_IPADD);
    const ASN1_OCTET_STRING *ip = st->base->d.iPAddress;
    assert_int_equal(ASN1_STRING_length(ip), i == 12 ? 8 : 32); /* address and mask */
    assert_memory_equal(ASN1_STRING_get0_data(ip), i == 12 ? lo4 : lo6, i == 12 ? 8 : 32);
  }
  assert_int_equal(sk_GENERAL_SUBTREE_num(nc->excludedSubtrees), 0);
  NAME_CONSTRAINTS_free(nc);

  size_t n = 0;
  const char *const *permitted = ca_permitted(f->ca, &n);
  assert_int_equal(n, 12);
  assert_string_equal(permitted[0], "test");
  assert_string_equal(permitted[3], "contoso.com");
}

static void test_permits(void **state) {
  struct fixture *f = *state;
  assert_int_equal(ca_open(&f->ca, f->dir, true), CA_OK);
  assert_true(ca_permits(f->ca, "contoso.com"));
  assert_true(ca_permits(f->ca, "autodiscover.contoso.com"));
  assert_true(ca_permits(f->ca, "AutoDiscover.Contoso.COM"));
  assert_true(ca_permits(f->ca, "*.contoso.com"));
  assert_true(ca_permits(f->ca, "mail.lab.test"));
  assert_true(ca_permits(f->ca, "test"));
  assert_false(ca_permits(f->ca, "contoso.org"));
  assert_false(ca_permits(f->ca, "evilcontoso.com"));
  assert_false(ca_permits(f->ca, "contoso.com.evil.org"));
  assert_false(ca_permits(f->ca, "com"));
  assert_false(ca_permits(f->ca, ""));
  assert_false(ca_permits(f->ca, "a b.contoso.com"));
  assert_false(ca_permits(f->ca, "x..contoso.com"));
  assert_false(ca_permits(f->ca, "-x.contoso.com"));
  assert_false(ca_permits(f->ca, "x-.contoso.com"));
  assert_false(ca_permits(f->ca, "contoso.com."));
  assert_false(ca_permits(f->ca, "*"));
  assert_false(ca_permits(f->ca, "a.*.contoso.com"));
  assert_false(ca_permits(f->ca, NULL));
}

static void test_create_adds_permits_and_replaces_ca(void **state) {
  struct fixture *f = *state;
  assert_int_equal(ca_open(&f->ca, f->dir, true), CA_OK);
  X509 *old = X509_dup(ca_cert(f->ca));
  ca_free(f->ca);
  f->ca = NULL;

  const char *permit[] = {"Contoso.org", "lab.fabrikam.net"};
  assert_int_equal(ca_create(&f->ca, f->dir, permit, 2), CA_OK);
  assert_true(ca_permits(f->ca, "autodiscover.contoso.org"));
  assert_true(ca_permits(f->ca, "lab.fabrikam.net"));
  assert_false(ca_permits(f->ca, "fabrikam.net"));
  size_t n = 0;
  const char *const *permitted = ca_permitted(f->ca, &n);
  assert_int_equal(n, 14);
  assert_string_equal(permitted[12], "contoso.org");
  assert_same_cert(old, ca_cert(f->ca), false);
  assert_int_equal(mode_of(sub(f->dir, "ca.key")), 0600);

  /* The permitted list survives a reload, read back from the certificate. */
  ca_free(f->ca);
  f->ca = NULL;
  assert_int_equal(ca_open(&f->ca, f->dir, false), CA_OK);
  assert_true(ca_permits(f->ca, "contoso.org"));
  ca_permitted(f->ca, &n);
  assert_int_equal(n, 14);

  /* permitted.txt is written for people. */
  FILE *txt = fopen(sub(f->dir, "permitted.txt"), "r");
  assert_non_null(txt);
  char line[256];
  bool seen = false;
  while (fgets(line, sizeof line, txt) != NULL) {
    seen = seen || strcmp(line, "contoso.org\n") == 0;
  }
  fclose(txt);
  assert_true(seen);
  X509_free(old);
}

static void test_create_refuses_bad_permits(void **state) {
  struct fixture *f = *state;
  const char *tld[] = {"com"};
  assert_int_equal(ca_create(&f->ca, f->dir, tld, 1), CA_ENOTPERMITTED);
  assert_non_null(strstr(ca_detail(f->ca), "\"com\""));
  ca_free(f->ca);
  f->ca = NULL;
  const char *bad[] = {"bad name.org"};
  assert_int_equal(ca_create(&f->ca, f->dir, bad, 1), CA_ENOTPERMITTED);
  ca_free(f->ca);
  f->ca = NULL;
  const char *wild[] = {"*.contoso.org"};
  assert_int_equal(ca_create(&f->ca, f->dir, wild, 1), CA_ENOTPERMITTED);
  assert_int_equal(access(sub(f->dir, "ca.pem"), F_OK), -1);
}

static void test_open_loads_same_ca(void **state) {
  struct fixture *f = *state;
  assert_int_equal(ca_open(&f->ca, f->dir, true), CA_OK);
  X509 *first = X509_dup(ca_cert(f->ca));
  ca_free(f->ca);
  f->ca = NULL;
  assert_int_equal(ca_open(&f->ca, f->dir, true), CA_OK);
  assert_same_cert(first, ca_cert(f->ca), true);
  ca_free(f->ca);
  f->ca = NULL;
  assert_int_equal(ca_open(&f->ca, f->dir, false), CA_OK);
  assert_same_cert(first, ca_cert(f->ca), true);
  X509_free(first);
}

static void test_concurrent_create_yields_one_ca(void **state) {
  struct fixture *f = *state;
  for (int round = 0; round < 3; round++) {
    char dir[4096];
    assert_true(buf_fmt(dir, sizeof dir, "%s/round%d", f->dir, round));
    pid_t pids[4];
    for (size_t i = 0; i < 4; i++) {
      pids[i] = fork();
      assert_true(pids[i] >= 0);
      if (pids[i] == 0) {
        struct ca *ca = NULL;
        enum ca_status st = ca_open(&ca, dir, true);
        ca_free(ca);
        _exit(st == CA_OK ? 0 : 1);
      }
    }
    for (size_t i = 0; i < 4; i++) {
      int status = 0;
      assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
      assert_true(WIFEXITED(status));
      assert_int_equal(WEXITSTATUS(status), 0);
    }
    /* Whoever won, the key on disk belongs to the certificate on disk. */
    assert_int_equal(ca_open(&f->ca, dir, false), CA_OK);
    ca_free(f->ca);
    f->ca = NULL;
  }
}

static void write_text(const char *path, const char *text) {
  FILE *out = fopen(path, "w");
  assert_non_null(out);
  fputs(text, out);
  fclose(out);
}

static void test_open_rejects_broken_files(void **state) {
  struct fixture *f = *state;
  assert_int_equal(ca_open(&f->ca, f->dir, true), CA_OK);
  ca_free(f->ca);
  f->ca = NULL;

  /* A key that belongs to another certificate. */
  char *key = str_dup(sub(f->dir, "ca.key"));
  char *other = str_dup(sub(f->dir, "untrusted-root.key"));
  assert_int_equal(rename(key, sub(f->dir, "ca.key.orig")), 0);
  assert_int_equal(link(other, key), 0);
  assert_int_equal(ca_open(&f->ca, f->dir, false), CA_ECRYPTO);
  assert_non_null(strstr(ca_detail(f->ca), "does not match"));
  assert_int_equal(ERR_peek_error(), 0);
  ca_free(f->ca);
  f->ca = NULL;

  /* A missing key. */
  assert_int_equal(unlink(key), 0);
  assert_int_equal(ca_open(&f->ca, f->dir, true), CA_EIO);
  assert_non_null(strstr(ca_detail(f->ca), "ca.key"));
  ca_free(f->ca);
  f->ca = NULL;

  /* A certificate file that is not PEM. */
  assert_int_equal(rename(sub(f->dir, "ca.key.orig"), key), 0);
  write_text(sub(f->dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\nnot base64!\n");
  assert_int_equal(ca_open(&f->ca, f->dir, false), CA_ECRYPTO);
  assert_int_equal(ERR_peek_error(), 0);
  ca_free(f->ca);
  f->ca = NULL;
  free(key);
  free(other);
}

static void test_open_without_directory_fails(void **state) {
  struct fixture *f = *state;
  assert_int_equal(ca_open(&f->ca, "", true), CA_EIO);
  assert_non_null(strstr(ca_detail(f->ca), "no directory"));
  ca_free(f->ca);
  f->ca = NULL;
  assert_int_equal(ca_create(&f->ca, "", NULL, 0), CA_EIO);
  ca_free(f->ca);
  f->ca = NULL;
  /* A file where the directory should be. */
  write_text(sub(f->dir, "file"), "x");
  char *dir = str_dup(sub(f->dir, "file/ca"));
  assert_int_equal(ca_open(&f->ca, dir, true), CA_EIO);
  assert_non_null(strstr(ca_detail(f->ca), "cannot create directory"));
  free(dir);
}

static void test_open_rejects_unconstrained_ca(void **state) {
  struct fixture *f = *state;
  /* A CA without name constraints, made here with the same key: not a lab CA. */
  assert_int_equal(ca_open(&f->ca, f->dir, true), CA_OK);
  EVP_PKEY *key = NULL;
  FILE *kf = fopen(sub(f->dir, "ca.key"), "r");
  assert_non_null(kf);
  key = PEM_read_PrivateKey(kf, NULL, NULL, NULL);
  fclose(kf);
  assert_non_null(key);
  X509 *x = X509_dup(ca_cert(f->ca));
  X509_EXTENSION_free(X509_delete_ext(x, X509_get_ext_by_NID(x, NID_name_constraints, -1)));
  assert_true(X509_sign(x, key, EVP_sha256()));
  FILE *cf = fopen(sub(f->dir, "ca.pem"), "w");
  assert_non_null(cf);
  assert_true(PEM_write_X509(cf, x));
  fclose(cf);
  ca_free(f->ca);
  f->ca = NULL;
  assert_int_equal(ca_open(&f->ca, f->dir, false), CA_ECRYPTO);
  assert_non_null(strstr(ca_detail(f->ca), "name constraints"));
  X509_free(x);
  EVP_PKEY_free(key);
}

static void test_export_pem_and_der(void **state) {
  struct fixture *f = *state;
  assert_int_equal(ca_open(&f->ca, f->dir, true), CA_OK);
  char *pem_path = str_dup(sub(f->dir, "export.pem"));
  char *der_path = str_dup(sub(f->dir, "export.der"));
  assert_int_equal(ca_export(f->ca, pem_path, false), CA_OK);
  assert_int_equal(ca_export(f->ca, der_path, true), CA_OK);

  FILE *pf = fopen(pem_path, "r");
  assert_non_null(pf);
  X509 *from_pem = PEM_read_X509(pf, NULL, NULL, NULL);
  fclose(pf);
  assert_non_null(from_pem);
  assert_same_cert(from_pem, ca_cert(f->ca), true);

  FILE *df = fopen(der_path, "rb");
  assert_non_null(df);
  uint8_t der[8192];
  size_t n = fread(der, 1, sizeof der, df);
  fclose(df);
  const uint8_t *p = der;
  X509 *from_der = d2i_X509(NULL, &p, (long) n);
  assert_non_null(from_der);
  assert_ptr_equal(p, der + n); /* nothing but the certificate */
  assert_same_cert(from_der, ca_cert(f->ca), true);

  assert_int_equal(ca_export(f->ca, sub(f->dir, "missing/x.pem"), false), CA_EIO);
  assert_non_null(strstr(ca_detail(f->ca), "missing"));
  X509_free(from_pem);
  X509_free(from_der);
  free(pem_path);
  free(der_path);
}

static void test_describe(void **state) {
  struct fixture *f = *state;
  assert_int_equal(ca_open(&f->ca, f->dir, true), CA_OK);
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  assert_non_null(out);
  ca_describe(f->ca, out);
  fclose(out);

  uint8_t md[32];
  unsigned md_len = 0;
  assert_true(X509_digest(ca_cert(f->ca), EVP_sha256(), md, &md_len));
  char fp[3 * 32];
  for (size_t i = 0; i < 32; i++) {
    assert_true(buf_fmt(fp + 3 * i, sizeof fp - 3 * i, "%02X%s", md[i], i < 31 ? ":" : ""));
  }
  assert_non_null(strstr(text, fp));
  assert_true(X509_digest(ca_cert(f->ca), EVP_sha1(), md, &md_len));
  char thumb[41];
  for (size_t i = 0; i < 20; i++) {
    assert_true(buf_fmt(thumb + 2 * i, sizeof thumb - 2 * i, "%02X", md[i]));
  }
  assert_non_null(strstr(text, thumb));
  assert_non_null(strstr(text, "CN=autodisco lab CA ("));
  assert_non_null(strstr(text, "not before:"));
  assert_non_null(strstr(text, " UTC\n"));
  assert_non_null(strstr(text, "test, example, invalid, contoso.com"));
  assert_non_null(strstr(text, ca_cert_path(f->ca)));
  free(text);
}

static void test_default_dir(void **state) {
  char out[512];
  setenv("AUTODISCO_CA_DIR", "/srv/ca", 1);
  setenv("XDG_DATA_HOME", "/home/u/.data", 1);
  setenv("HOME", "/home/u", 1);
  assert_true(ca_default_dir(out, sizeof out));
  assert_string_equal(out, "/srv/ca");
  unsetenv("AUTODISCO_CA_DIR");
  assert_true(ca_default_dir(out, sizeof out));
  assert_string_equal(out, "/home/u/.data/autodisco/ca");
  setenv("XDG_DATA_HOME", "relative", 1); /* ignored, as the XDG spec says */
  assert_true(ca_default_dir(out, sizeof out));
  assert_string_equal(out, "/home/u/.local/share/autodisco/ca");
  assert_false(ca_default_dir(out, 10));
  unsetenv("XDG_DATA_HOME");
  unsetenv("HOME");
  assert_false(ca_default_dir(out, sizeof out));
}

static void test_strerror(void **state) {
  for (int st = CA_OK; st <= CA_ENOCA; st++) {
    assert_non_null(ca_strerror((enum ca_status) st));
  }
  assert_string_equal(ca_strerror((enum ca_status) 99), "unknown CA error");
  assert_string_equal(ca_detail(NULL), "no detail");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_create_makes_private_dir_and_key, setup, teardown),
      cmocka_unit_test_setup_teardown(test_create_without_permission_is_enoca, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ca_extensions, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ca_name_constraints, setup, teardown),
      cmocka_unit_test_setup_teardown(test_permits, setup, teardown),
      cmocka_unit_test_setup_teardown(test_create_adds_permits_and_replaces_ca, setup, teardown),
      cmocka_unit_test_setup_teardown(test_create_refuses_bad_permits, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_loads_same_ca, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_create_yields_one_ca, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_rejects_broken_files, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_without_directory_fails, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_rejects_unconstrained_ca, setup, teardown),
      cmocka_unit_test_setup_teardown(test_export_pem_and_der, setup, teardown),
      cmocka_unit_test_setup_teardown(test_describe, setup, teardown),
      cmocka_unit_test(test_default_dir),
      cmocka_unit_test(test_strerror),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
