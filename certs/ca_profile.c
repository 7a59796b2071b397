/* certs/ca_profile.c: the certificate profiles (valid, expired, wrong-name, ...) and minting a
 * chain for one, cached on disk so repeated runs serve the same certificate. */
#include "certs/ca.h"

#include "certs/internal.h"

#include <errno.h>
#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

/* Each profile mirrors one badssl.com host, so a lab failure can be compared with a public one. */
static const struct ca_profile profiles[] = {
    {"valid", "badssl.com", CA__SIGNER_LAB, -CA__DAY, 397 * CA__DAY, false},
    {"expired", "expired.badssl.com", CA__SIGNER_LAB, -730 * CA__DAY, -30 * CA__DAY, false},
    {"not-yet-valid", "(none: badssl.com has no host whose certificate starts in the future)",
     CA__SIGNER_LAB, 30 * CA__DAY, 365 * CA__DAY, false},
    {"wrong-name", "wrong.host.badssl.com", CA__SIGNER_LAB, -CA__DAY, 397 * CA__DAY, true},
    {"self-signed", "self-signed.badssl.com", CA__SIGNER_SELF, -CA__DAY, 397 * CA__DAY, false},
    {"untrusted-root", "untrusted-root.badssl.com", CA__SIGNER_UNTRUSTED, -CA__DAY, 397 * CA__DAY,
     false},
};

#define N_PROFILES (sizeof profiles / sizeof profiles[0])

/* A cached chain that is meant to be valid is re-minted once it would expire within this. */
#define VALID_MARGIN (30 * CA__DAY)
/* A cached not-yet-valid chain is re-minted once it would start within this. */
#define FUTURE_MARGIN CA__DAY
/* Largest chain file we read back. */
#define MAX_CHAIN_FILE (64 * 1024)

const struct ca_profile *ca_profile_named(const char *name) {
  for (size_t i = 0; name != NULL && i < N_PROFILES; i++) {
    if (strcmp(profiles[i].name, name) == 0) {
      return &profiles[i];
    }
  }
  return NULL;
}

const char *ca_profile_name(const struct ca_profile *p) {
  return p->name;
}

const char *ca_profile_badssl(const struct ca_profile *p) {
  return p->badssl;
}

const struct ca_profile *ca_profile_at(size_t i) {
  return i < N_PROFILES ? &profiles[i] : NULL;
}

void ca_chain_free(struct ca_chain *chain) {
  if (chain == NULL) {
    return;
  }
  X509_free(chain->leaf);
  EVP_PKEY_free(chain->key);
  sk_X509_pop_free(chain->intermediates, X509_free);
  free(chain);
}

X509 *ca_chain_leaf(const struct ca_chain *chain) {
  return chain->leaf;
}

EVP_PKEY *ca_chain_key(const struct ca_chain *chain) {
  return chain->key;
}

STACK_OF(X509) * ca_chain_intermediates(const struct ca_chain *chain) {
  return chain->intermediates;
}

time_t ca_chain_not_before(const struct ca_chain *chain) {
  return chain->not_before;
}

time_t ca_chain_not_after(const struct ca_chain *chain) {
  return chain->not_after;
}

static struct ca_chain *chain_new(void) {
  struct ca_chain *chain = xcalloc(1, sizeof *chain);
  chain->intermediates = sk_X509_new_null();
  if (chain->intermediates == NULL) {
    free(chain);
    return NULL;
  }
  return chain;
}

/* chain_times reads the leaf's validity into the chain; false if it is unreadable. */
static bool chain_times(struct ca_chain *chain) {
  return ca__time_of(X509_get0_notBefore(chain->leaf), &chain->not_before) &&
         ca__time_of(X509_get0_notAfter(chain->leaf), &chain->not_after);
}

/* check_names refuses names that are not DNS names or that the lab CA may not sign for. */
static enum ca_status check_names(struct ca *ca, const char *const *names, size_t n_names) {
  if (names == NULL || n_names == 0 || n_names > CA__MAX_NAMES) {
    return ca__fail(ca, CA_ENOTPERMITTED, "a certificate carries 1 to %d DNS names, not %zu",
                    CA__MAX_NAMES, names == NULL ? 0 : n_names);
  }
  for (size_t i = 0; i < n_names; i++) {
    if (names[i] == NULL || !ca__name_ok(names[i], true)) {
      return ca__fail(ca, CA_ENOTPERMITTED,
                      "\"%.260s\" is not a DNS name a certificate can carry (letters, digits, "
                      "hyphens and dots, optionally starting with \"*.\")",
                      names[i] != NULL ? names[i] : "(null)");
    }
    if (!ca_permits(ca, names[i])) {
      const char *domain = names[i][0] == '*' ? names[i] + 2 : names[i];
      return ca__fail(ca, CA_ENOTPERMITTED,
                      "%s is outside the lab CA's name constraints; recreate it with `autodisco "
                      "ca init --permit %s` and import it again",
                      names[i], domain);
    }
  }
  return CA_OK;
}

/* cache_path names the chain file: SHA-256 over the CA's fingerprint, the profile and the
 * names, in hex. */
static char *cache_path(struct ca *ca, const struct ca_profile *p, char *const *names,
                        size_t n_names) {
  SHA256_CTX sha;
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256_Init(&sha);
  SHA256_Update(&sha, ca->fingerprint, sizeof ca->fingerprint);
  SHA256_Update(&sha, p->name, strlen(p->name) + 1); /* the NUL separates it from the names */
  for (size_t i = 0; i < n_names; i++) {
    SHA256_Update(&sha, names[i], strlen(names[i]));
    SHA256_Update(&sha, "\n", 1);
  }
  SHA256_Final(digest, &sha);
  char file[2 * SHA256_DIGEST_LENGTH + sizeof ".pem"];
  for (size_t i = 0; i < sizeof digest; i++) {
    file[2 * i] = "0123456789abcdef"[digest[i] >> 4];
    file[2 * i + 1] = "0123456789abcdef"[digest[i] & 15];
  }
  memcpy(file + 2 * sizeof digest, ".pem", sizeof ".pem");
  return ca__join(ca->chains_dir, file);
}

/* still_fits says whether a cached chain still shows what its profile promises. */
static bool still_fits(const struct ca_profile *p, const struct ca_chain *chain, time_t now) {
  if (p->not_after_offset < 0) {
    return chain->not_after < now; /* expired stays expired */
  }
  if (p->not_before_offset > 0) {
    return chain->not_before > now + FUTURE_MARGIN;
  }
  return chain->not_before <= now && chain->not_after > now + VALID_MARGIN;
}

/* signed_by says whether issuer issued and signed cert. */
static bool signed_by(X509 *cert, X509 *issuer) {
  EVP_PKEY *pub = X509_get_pubkey(issuer);
  bool ok =
      pub != NULL && X509_check_issued(issuer, cert) == X509_V_OK && X509_verify(cert, pub) == 1;
  EVP_PKEY_free(pub);
  return ok;
}

/* parse_chain reads a chain file: certificates (leaf first, then intermediates) and one key. */
static struct ca_chain *parse_chain(struct slice bytes) {
  struct ca_chain *chain = chain_new();
  BIO *bio = BIO_new_mem_buf(bytes.ptr, (int) bytes.len);
  bool ok = chain != NULL && bio != NULL;
  char *name = NULL;
  char *header = NULL;
  uint8_t *data = NULL;
  long len = 0;
  while (ok && PEM_read_bio(bio, &name, &header, &data, &len)) {
    const uint8_t *p = data;
    if (strcmp(name, "CERTIFICATE") == 0) {
      X509 *x = d2i_X509(NULL, &p, len);
      if (x == NULL) {
        ok = false;
      } else if (chain->leaf == NULL) {
        chain->leaf = x;
      } else if (!sk_X509_push(chain->intermediates, x)) {
        X509_free(x);
        ok = false;
      }
    } else if (strcmp(name, "PRIVATE KEY") == 0 && chain->key == NULL) {
      chain->key = d2i_AutoPrivateKey(NULL, &p, len);
      ok = chain->key != NULL;
    } else {
      ok = false;
    }
    if (data != NULL) {
      OPENSSL_cleanse(data, (size_t) len);
    }
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    name = NULL;
    header = NULL;
    data = NULL;
  }
  ERR_clear_error(); /* the loop ends on "no start line" */
  BIO_free(bio);
  ok = ok && chain->leaf != NULL && chain->key != NULL &&
       X509_check_private_key(chain->leaf, chain->key) && chain_times(chain);
  ERR_clear_error();
  if (!ok) {
    ca_chain_free(chain);
    return NULL;
  }
  return chain;
}

/* load_cached returns the cached chain when it is usable for the profile now, else NULL: an
 * unreadable, foreign or stale file is simply minted again. */
static struct ca_chain *load_cached(struct ca *ca, const struct ca_profile *p, const char *path,
                                    time_t now) {
  struct buf bytes;
  buf_init(&bytes, MAX_CHAIN_FILE);
  char saved[sizeof ca->detail];
  memcpy(saved, ca->detail, sizeof saved); /* a cache miss is not a failure worth a detail */
  struct ca_chain *chain = NULL;
  if (ca__read_file(ca, path, &bytes) == CA_OK) {
    chain = parse_chain(buf_slice(&bytes));
  }
  memcpy(ca->detail, saved, sizeof saved);
  if (bytes.ptr != NULL) {
    OPENSSL_cleanse(bytes.ptr, bytes.len);
  }
  buf_cleanup(&bytes);
  if (chain == NULL) {
    return NULL;
  }
  bool issuer_ok = false;
  switch (p->signer) {
    case CA__SIGNER_LAB: issuer_ok = signed_by(chain->leaf, ca->cert); break;
    case CA__SIGNER_SELF: issuer_ok = signed_by(chain->leaf, chain->leaf); break;
    case CA__SIGNER_UNTRUSTED: issuer_ok = signed_by(chain->leaf, ca->untrusted_cert); break;
  }
  ERR_clear_error();
  if (!issuer_ok || !still_fits(p, chain, now)) {
    ca_chain_free(chain);
    return NULL;
  }
  return chain;
}

static enum ca_status save_chain(struct ca *ca, const struct ca_chain *chain, const char *path) {
  struct buf pem;
  buf_init(&pem, MAX_CHAIN_FILE);
  enum ca_status st = CA_OK;
  bool ok = ca__pem_cert(&pem, chain->leaf);
  for (size_t i = 0; ok && i < sk_X509_num(chain->intermediates); i++) {
    ok = ca__pem_cert(&pem, sk_X509_value(chain->intermediates, i));
  }
  ok = ok && ca__pem_key(&pem, chain->key);
  if (!ok) {
    st = ca__fail_ssl(ca, CA_ECRYPTO, "cannot encode the chain");
  } else if (!ca__mkdirs(ca->chains_dir)) {
    st = ca__fail(ca, CA_EIO, "%s: cannot create directory: %s", ca->chains_dir, strerror(errno));
  } else {
    st = ca__write_file(ca, path, buf_slice(&pem), 0600); /* holds the leaf's private key */
  }
  if (pem.ptr != NULL) {
    OPENSSL_cleanse(pem.ptr, pem.len);
  }
  buf_cleanup(&pem);
  return st;
}

static enum ca_status mint_new(struct ca *ca, struct ca_chain **out, const struct ca_profile *p,
                               const char *const *names, size_t n_names, time_t now) {
  X509 *issuer = NULL;
  EVP_PKEY *issuer_key = NULL;
  switch (p->signer) {
    case CA__SIGNER_LAB:
      issuer = ca->cert;
      issuer_key = ca->key;
      break;
    case CA__SIGNER_SELF: break;
    case CA__SIGNER_UNTRUSTED:
      issuer = ca->untrusted_cert;
      issuer_key = ca->untrusted_key;
      break;
  }
  struct ca_chain *chain = chain_new();
  if (chain == NULL) {
    return ca__fail(ca, CA_ENOMEM, "cannot allocate a chain");
  }
  chain->key = ca__new_key();
  if (chain->key == NULL) {
    ca_chain_free(chain);
    return ca__fail_ssl(ca, CA_ECRYPTO, "cannot generate a P-256 key");
  }
  chain->leaf = ca__make_leaf(chain->key, names, n_names, now + p->not_before_offset,
                              now + p->not_after_offset, issuer, issuer_key);
  if (chain->leaf == NULL || !chain_times(chain)) {
    ca_chain_free(chain);
    return ca__fail_ssl(ca, CA_ECRYPTO, "cannot build the certificate");
  }
  *out = chain;
  return CA_OK;
}

enum ca_status ca_mint(struct ca *ca, struct ca_chain **out, const struct ca_profile *profile,
                       const char *const *names, size_t n_names) {
  *out = NULL;
  if (profile == NULL) {
    return ca__fail(ca, CA_EPROFILE, "no certificate profile given");
  }
  enum ca_status st = check_names(ca, names, n_names);
  if (st != CA_OK) {
    return st;
  }
  if (profile->signer == CA__SIGNER_UNTRUSTED) {
    st = ca__load_untrusted(ca);
    if (st != CA_OK) {
      return st;
    }
  }
  /* Names go into the certificate lowercased; wrong-name ignores them on purpose. */
  static const char *const wrong[] = {CA__WRONG_NAME};
  size_t n_cert_names = profile->fixed_name ? 1 : n_names;
  char **cert_names = xcalloc(n_cert_names, sizeof *cert_names);
  for (size_t i = 0; i < n_cert_names; i++) {
    cert_names[i] = str_lower(str_dup(profile->fixed_name ? wrong[i] : names[i]));
  }
  time_t now = time(NULL);
  struct ca_chain *chain = NULL;
  char *path = cache_path(ca, profile, cert_names, n_cert_names);
  if (path == NULL) {
    st = ca__fail(ca, CA_EIO, "%s: path too long", ca->chains_dir);
    goto out;
  }
  chain = load_cached(ca, profile, path, now);
  if (chain != NULL) {
    goto out;
  }
  st = mint_new(ca, &chain, profile, (const char *const *) cert_names, n_cert_names, now);
  if (st == CA_OK) {
    st = save_chain(ca, chain, path);
  }
out:
  if (st == CA_OK) {
    *out = chain;
  } else {
    ca_chain_free(chain);
  }
  for (size_t i = 0; i < n_cert_names; i++) {
    free(cert_names[i]);
  }
  free(cert_names);
  free(path);
  return st;
}
