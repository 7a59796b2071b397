/* tests/unit/test_tls_selfsigned.h: a throwaway self-signed P-256 certificate for the TLS and
 * HTTP tests, made with BoringSSL directly so they need no lab CA. Header-only (static). */
#ifndef AD_TESTS_TEST_TLS_SELFSIGNED_H
#define AD_TESTS_TEST_TLS_SELFSIGNED_H

#include "tests/unit/testutil.h"

#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/obj.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

/* test_selfsigned makes a key and a certificate for `dns_name` valid from an hour ago for a
 * day; the caller frees both. */
static void test_selfsigned(const char *dns_name, X509 **out_cert, EVP_PKEY **out_key) {
  EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  assert_non_null(ec);
  assert_int_equal(EC_KEY_generate_key(ec), 1);
  EVP_PKEY *key = EVP_PKEY_new();
  assert_int_equal(EVP_PKEY_assign_EC_KEY(key, ec), 1);

  X509 *x = X509_new();
  assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
  assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 4242), 1);
  assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
  assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
  X509_NAME *name = X509_get_subject_name(x);
  assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                              (const unsigned char *) dns_name, -1, -1, 0),
                   1);
  assert_int_equal(X509_set_issuer_name(x, name), 1);
  assert_int_equal(X509_set_pubkey(x, key), 1);

  GENERAL_NAMES *sans = GENERAL_NAMES_new();
  GENERAL_NAME *gn = GENERAL_NAME_new();
  ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
  assert_int_equal(ASN1_STRING_set(ia5, dns_name, (int) strlen(dns_name)), 1);
  GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
  assert_true(sk_GENERAL_NAME_push(sans, gn) > 0);
  assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, sans, 0, 0), 1);
  GENERAL_NAMES_free(sans);

  assert_true(X509_sign(x, key, EVP_sha256()) > 0);
  *out_cert = x;
  *out_key = key;
}

#endif
