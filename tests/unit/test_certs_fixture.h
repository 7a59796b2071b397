/* tests/unit/test_certs_fixture.h: what the certs tests share — a CA in a private temporary
 * directory, minting that fails the test on error, and certificate checks. Header-only
 * (static inline: each test includes what it uses). */
#ifndef AD_TESTS_TEST_CERTS_FIXTURE_H
#define AD_TESTS_TEST_CERTS_FIXTURE_H

#include "certs/ca.h"
#include "common/buf.h"
#include "tests/unit/testutil.h"

#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
  char *dir;
  struct ca *ca;
};

/* fixture_new makes a directory named after `prefix`, with a CA in it when `with_ca`. */
static inline struct fixture *fixture_new(const char *prefix, bool with_ca) {
  struct fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->dir = test_tmpdir(prefix);
  if (with_ca) {
    assert_int_equal(ca_open(&f->ca, f->dir, true), CA_OK);
  }
  return f;
}

static inline void fixture_free(struct fixture *f) {
  ca_free(f->ca);
  test_rmtree(f->dir);
  free(f->dir);
  free(f);
}

/* sub returns dir/name in a static buffer. */
static inline const char *sub(const char *dir, const char *name) {
  static char path[4096];
  assert_true(buf_fmt(path, sizeof path, "%s/%s", dir, name));
  return path;
}

/* mint_req mints or fails the test with the CA's detail; nothing may be left in BoringSSL's
 * error queue for the next caller. */
static inline struct ca_chain *mint_req(struct ca *ca, const struct ca_request *req) {
  struct ca_chain *chain = NULL;
  enum ca_status st = ca_mint_request(ca, &chain, req);
  if (st != CA_OK) {
    fail_msg("ca_mint_request %s: %s: %s", ca_profile_name(req->profile), ca_strerror(st),
             ca_detail(ca));
  }
  assert_non_null(chain);
  assert_int_equal(ERR_peek_error(), 0);
  return chain;
}

/* mint is mint_req through ca_mint, for a profile and names alone. */
static inline struct ca_chain *mint(struct ca *ca, const char *profile, const char *const *names,
                                    size_t n_names) {
  struct ca_chain *chain = NULL;
  enum ca_status st = ca_mint(ca, &chain, ca_profile_named(profile), names, n_names);
  if (st != CA_OK) {
    fail_msg("ca_mint %s: %s: %s", profile, ca_strerror(st), ca_detail(ca));
  }
  assert_non_null(chain);
  assert_int_equal(ERR_peek_error(), 0);
  return chain;
}

static inline void assert_issued_by(X509 *leaf, X509 *issuer) {
  assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(issuer)), 0);
  assert_int_equal(X509_check_issued(issuer, leaf), X509_V_OK);
  EVP_PKEY *pub = X509_get_pubkey(issuer);
  assert_int_equal(X509_verify(leaf, pub), 1);
  EVP_PKEY_free(pub);
}

static inline bool same_der(X509 *a, X509 *b) {
  uint8_t *da = NULL;
  uint8_t *db = NULL;
  int la = i2d_X509(a, &da);
  int lb = i2d_X509(b, &db);
  bool same = la > 0 && la == lb && memcmp(da, db, (size_t) la) == 0;
  OPENSSL_free(da);
  OPENSSL_free(db);
  return same;
}

static inline X509 *read_cert(const char *path) {
  FILE *in = fopen(path, "r");
  assert_non_null(in);
  X509 *x = PEM_read_X509(in, NULL, NULL, NULL);
  fclose(in);
  assert_non_null(x);
  return x;
}

#endif
